/**
 * The native part of `dmaheap run`: native/launch/dmaheap-launch.c, shipped prebuilt in
 * native/prebuilt/linux-{x64,arm64} and recorded in native/prebuilt/MANIFEST.json.
 * (a) the shipped binaries are the ones the manifest records, built from the source as it is now;
 * (b) the source rebuilds to the same bytes, for each arch whose compiler is installed at the
 *     manifest's version (`bash native/build.sh --check <arch>`), else skipped with the reason;
 * (c) protocol v1 against the host's binary (Linux x64/arm64): the handshake, the cookie on every
 *     launcher syscall, the exec and its failures, bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = 'native/launch/dmaheap-launch.c';

interface Binary {
  path: string;
  sha256: string;
  size: number;
  sourceSha256: string;
  compiler: string;
  compilerVersion: string;
  command: string;
}
interface Manifest {
  protocol: number;
  source: string;
  binaries: Record<string, Binary>;
  /** The fast path's shim (native/preload/dmaheap-preload.c), by the same arch keys. */
  preload: Record<string, Binary & { source: string }>;
  /** The supervisor's notification helper (native/notify/dmaheap-notify.c), by the same arch keys. */
  notify: Record<string, Binary & { source: string }>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'native/prebuilt/MANIFEST.json'), 'utf8')) as Manifest;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** ELF e_machine of each shipped arch (EM_X86_64, EM_AARCH64: include/uapi/linux/elf-em.h). */
const ARCHES = { x64: 62, arm64: 183 } as const;

test('the shipped launchers are the ones MANIFEST.json records, built from the current source', () => {
  assert.equal(manifest.protocol, 1);
  assert.equal(manifest.source, SOURCE);
  assert.deepEqual(Object.keys(manifest.binaries).sort(), ['linux-arm64', 'linux-x64']);
  const source = sha256(readFileSync(join(ROOT, SOURCE)));
  for (const [arch, machine] of Object.entries(ARCHES)) {
    const key = `linux-${arch}`;
    const m = manifest.binaries[key]!;
    assert.equal(m.path, `native/prebuilt/${key}/dmaheap-launch`);
    const file = join(ROOT, m.path);
    const bytes = readFileSync(file);
    assert.equal(sha256(bytes), m.sha256, `${m.path}: sha256 differs from MANIFEST.json (npm run build:native rebuilds both)`);
    assert.equal(bytes.length, m.size, `${m.path}: size`);
    assert.equal(m.sourceSha256, source, `${SOURCE} changed since ${key} was built: run npm run build:native and commit native/prebuilt`);
    assert.equal(statSync(file).mode & 0o777, 0o755, `${m.path}: mode`);
    // a static ELF64 LE executable (ET_EXEC, no PT_INTERP) for this machine
    assert.ok(bytes.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')), `${key}: not ELF`);
    assert.equal(bytes[4], 2, `${key}: ELFCLASS64`);
    assert.equal(bytes[5], 1, `${key}: little-endian`);
    assert.equal(bytes.readUInt16LE(16), 2, `${key}: ET_EXEC`);
    assert.equal(bytes.readUInt16LE(18), machine, `${key}: e_machine`);
    const phoff = Number(bytes.readBigUInt64LE(32));
    const phentsize = bytes.readUInt16LE(54);
    const phnum = bytes.readUInt16LE(56);
    for (let i = 0; i < phnum; i++) assert.notEqual(bytes.readUInt32LE(phoff + i * phentsize), 3, `${key}: has PT_INTERP (not static)`);
    assert.ok(bytes.length < 16384, `${key}: ${bytes.length} bytes`);
  }
});

for (const [section, name, src] of [['preload', 'dmaheap-preload.so', 'native/preload/dmaheap-preload.c'], ['notify', 'dmaheap-notify.so', 'native/notify/dmaheap-notify.c']] as const) test(`the shipped ${name} are the ones MANIFEST.json records, built from the current source`, () => {
  const PRELOAD = src;
  assert.deepEqual(Object.keys(manifest[section]).sort(), ['linux-arm64', 'linux-x64']);
  const source = sha256(readFileSync(join(ROOT, PRELOAD)));
  for (const [arch, machine] of Object.entries(ARCHES)) {
    const key = `linux-${arch}`;
    const m = manifest[section][key]!;
    assert.equal(m.path, `native/prebuilt/${key}/${name}`);
    assert.equal(m.source, PRELOAD);
    const bytes = readFileSync(join(ROOT, m.path));
    assert.equal(sha256(bytes), m.sha256, `${m.path}: sha256 differs from MANIFEST.json (npm run build:native rebuilds it)`);
    assert.equal(bytes.length, m.size, `${m.path}: size`);
    assert.equal(m.sourceSha256, source, `${PRELOAD} changed since ${key}'s ${name} was built: run npm run build:native and commit native/prebuilt`);
    // an ELF64 LE shared object (ET_DYN) for this machine, with no build id
    assert.ok(bytes.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')), `${key}: not ELF`);
    assert.equal(bytes[4], 2, `${key}: ELFCLASS64`);
    assert.equal(bytes.readUInt16LE(16), 3, `${key}: ET_DYN`);
    assert.equal(bytes.readUInt16LE(18), machine, `${key}: e_machine`);
    assert.equal(bytes.indexOf('.note.gnu.build-id'), -1, `${key}: has a build id`);
    // bound at the versions every glibc has (GLIBC_2.34's would not load on an older one; the
    // oldest glibc for arm64 is 2.17): no symbol of a newer version (fstat is GLIBC_2.33's)
    assert.notEqual(bytes.indexOf(arch === 'x64' ? 'GLIBC_2.2.5' : 'GLIBC_2.17'), -1, `${key}: version`);
    const newer = [...new Set([...bytes.toString('latin1').matchAll(/GLIBC_2\.(\d+)/g)].map((v) => Number(v[1])).filter((minor) => minor > 17))];
    assert.deepEqual(newer, [], `${key}: needs GLIBC_2.${newer.join(', 2.')}`);
  }
});

test('the source rebuilds to the shipped bytes (native/build.sh --check)', async (t) => {
  for (const arch of Object.keys(ARCHES)) {
    const m = manifest.binaries[`linux-${arch}`]!;
    await t.test(`linux-${arch} with ${m.compiler}`, (st) => {
      const v = spawnSync(m.compiler, ['--version'], { encoding: 'utf8' });
      if (v.error !== undefined || v.status !== 0) {
        st.skip(`${m.compiler} not installed (${v.error?.message ?? `exit ${String(v.status)}`}); Debian: apt-get install ${arch === 'arm64' ? 'gcc-aarch64-linux-gnu' : 'gcc'}`);
        return;
      }
      const version = v.stdout.split('\n')[0];
      if (version !== m.compilerVersion) {
        st.skip(`${m.compiler} is '${version}', the shipped binary was built with '${m.compilerVersion}': the bytes may differ`);
        return;
      }
      const env = { ...process.env, CC_X64: manifest.binaries['linux-x64']!.compiler, CC_ARM64: manifest.binaries['linux-arm64']!.compiler };
      const r = spawnSync('bash', [join(ROOT, 'native/build.sh'), '--check', arch], { encoding: 'utf8', env });
      assert.equal(r.status, 0, `native/build.sh --check ${arch}: ${r.stderr}`);
      const p = manifest.preload[`linux-${arch}`]!;
      const h = manifest.notify[`linux-${arch}`]!;
      assert.equal(r.stdout, `linux-${arch}: identical to the shipped binary (${m.size} bytes, ${m.compiler})\nlinux-${arch} dmaheap-preload.so: identical to the shipped binary (${p.size} bytes, ${p.compiler})\nlinux-${arch} dmaheap-notify.so: identical to the shipped binary (${h.size} bytes, ${h.compiler})\n`);
    });
  }
});

const hostKey = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') ? `linux-${process.arch}` : null;
const LAUNCHER = hostKey === null ? '' : join(ROOT, manifest.binaries[hostKey]!.path);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** everything the launcher wrote on CTLFD */
  ctl: string;
}

/**
 * Runs the launcher with CTLFD = 3 (a socketpair from Node's stdio 'pipe'): sends `hello`, waits
 * for its first line, and when that line is an OK sends `reply`. Resolves when the child closes.
 */
function launch(args: string[], hello: Buffer, reply = 'g', opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const ctl = child.stdio[3] as Socket;
    const out = { stdout: '', stderr: '', ctl: '' };
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
    ctl.on('error', () => undefined); // the launcher may exit before reading everything
    ctl.setEncoding('utf8').on('data', (s: string) => {
      const first = !out.ctl.includes('\n');
      out.ctl += s;
      if (first && out.ctl.includes('\n') && out.ctl.startsWith('OK ')) ctl.end(reply);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, ...out }));
    ctl.write(hello);
  });
}

const RET_ALLOW = 0x7fff0000; // SECCOMP_RET_ALLOW, include/uapi/linux/seccomp.h
const RET_KILL_PROCESS = 0x80000000;
const insn = (code: number, jt: number, jf: number, k: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k, 4);
  return b;
};
const BPF_RET_K = 0x06;
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const header = (n: number, cookie: bigint, magic = 'DHL1'): Buffer => {
  const b = Buffer.alloc(16);
  b.write(magic, 0, 'latin1');
  b.writeUInt32LE(n, 4);
  b.writeBigUInt64LE(cookie, 8);
  return b;
};
const allowAll = Buffer.concat([header(1, 0x5eedn), insn(BPF_RET_K, 0, 0, RET_ALLOW)]);
const COOKIE = 0x0123456789abcdefn;
/** Allows a syscall whose args[5] (struct seccomp_data offset 56, low word first) is COOKIE, kills the process otherwise. */
const cookieOnly = Buffer.concat([
  header(6, COOKIE),
  insn(BPF_LD_W_ABS, 0, 0, 56),
  insn(BPF_JEQ_K, 0, 3, Number(COOKIE & 0xffffffffn)),
  insn(BPF_LD_W_ABS, 0, 0, 60),
  insn(BPF_JEQ_K, 0, 1, Number(COOKIE >> 32n)),
  insn(BPF_RET_K, 0, 0, RET_ALLOW),
  insn(BPF_RET_K, 0, 0, RET_KILL_PROCESS),
]);
const USAGE = 'usage: dmaheap-launch CTLFD PROGRAM [ARGS...] (run by dmaheap run, not by hand)\n';

test('protocol v1 with the host launcher', { skip: hostKey === null ? `no launcher for ${process.platform}-${process.arch} (Linux x64/arm64 only)` : false }, async (t) => {
  const first = await launch(['3', '/bin/echo', 'hi'], allowAll);
  const ok = /^OK (\d+)\n$/.exec(first.ctl);
  if (ok === null && /^ERR (prctl|seccomp) \d+\n$/.test(first.ctl)) {
    t.skip(`the host kernel refuses a seccomp listener: ${first.ctl.trim()}`);
    return;
  }

  await t.test('handshake, then the program runs with its argv', () => {
    assert.ok(ok !== null, `ctl: ${JSON.stringify(first.ctl)}`);
    assert.ok(Number(ok[1]) >= 4, `listener fd ${ok[1]} (0-3 are taken)`);
    assert.deepEqual([first.stdout, first.stderr, first.code, first.signal], ['hi\n', '', 0, null]);
  });

  await t.test('PROGRAM without a slash is searched in PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmaheap-launch-'));
    try {
      mkdirSync(join(dir, 'noexec'));
      writeFileSync(join(dir, 'noexec', 'echo'), '', { mode: 0o644 });
      writeFileSync(join(dir, 'hello'), '#!/bin/sh\necho hello from dot\n', { mode: 0o755 });
      // a missing directory and a non-executable candidate are passed over
      const path = (p: string): { env: NodeJS.ProcessEnv; cwd: string } => ({ env: { PATH: p }, cwd: dir });
      const found = await launch(['3', 'echo', 'a', 'b c'], allowAll, 'g', path(`/nonexistent:${dir}/noexec:/bin:/usr/bin`));
      assert.deepEqual([found.stdout, found.stderr, found.code], ['a b c\n', '', 0]);
      // only a non-executable candidate: EACCES wins over ENOENT
      const denied = await launch(['3', 'echo'], allowAll, 'g', path(`/nonexistent:${dir}/noexec`));
      assert.deepEqual([denied.stdout, denied.stderr, denied.code], ['', 'dmaheap run: echo: Permission denied\n', 126]);
      // an empty element is the current directory
      const dot = await launch(['3', 'hello'], allowAll, 'g', path('/nonexistent::/bin'));
      assert.deepEqual([dot.stdout, dot.stderr, dot.code], ['hello from dot\n', '', 0]);
      const none = await launch(['3', 'hello'], allowAll, 'g', path('/nonexistent:/bin'));
      assert.deepEqual([none.stderr, none.code], ['dmaheap run: hello: No such file or directory\n', 127]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await t.test("every launcher syscall carries the cookie; the program's do not", async () => {
    // the filter kills any syscall without the cookie: the launcher reaches the exec, echo dies at its first syscall
    const r = await launch(['3', '/bin/echo', 'hi'], cookieOnly);
    assert.match(r.ctl, /^OK \d+\n$/);
    assert.deepEqual([r.stdout, r.code, r.signal], ['', null, 'SIGSYS']);
    // a failed exec: the message and exit_group carry the cookie too
    const missing = await launch(['3', '/nonexistent/prog'], cookieOnly);
    assert.deepEqual([missing.stderr, missing.code, missing.signal], ['dmaheap run: /nonexistent/prog: No such file or directory\n', 127, null]);
  });

  await t.test('a missing program: 127 and one line on stderr', async () => {
    const r = await launch(['3', 'dmaheap-no-such-program-x', 'arg'], allowAll);
    assert.deepEqual([r.stdout, r.stderr, r.code], ['', 'dmaheap run: dmaheap-no-such-program-x: No such file or directory\n', 127]);
  });

  await t.test('a file that is not executable: 126, Permission denied', async () => {
    const r = await launch(['3', join(ROOT, 'package.json')], allowAll);
    assert.deepEqual([r.stderr, r.code], [`dmaheap run: ${join(ROOT, 'package.json')}: Permission denied\n`, 126]);
  });

  await t.test('anything but g after OK: exit 125 without exec', async () => {
    const r = await launch(['3', '/bin/echo', 'hi'], allowAll, 'x');
    assert.deepEqual([r.stdout, r.code], ['', 125]);
  });

  await t.test('bad magic: ERR magic 0, exit 125', async () => {
    const r = await launch(['3', '/bin/echo', 'hi'], Buffer.concat([header(1, 0n, 'DHL2'), insn(BPF_RET_K, 0, 0, RET_ALLOW)]));
    assert.deepEqual([r.ctl, r.stdout, r.code], ['ERR magic 0\n', '', 125]);
  });

  await t.test('a filter of 0 or 4097 instructions: ERR count 0, exit 125', async () => {
    for (const n of [0, 4097]) {
      const r = await launch(['3', '/bin/echo', 'hi'], header(n, 0n));
      assert.deepEqual([r.ctl, r.code], ['ERR count 0\n', 125], `n = ${n}`);
    }
  });

  await t.test('a short header or filter (EOF): ERR read 0, exit 125', async () => {
    for (const hello of [header(1, 0n).subarray(0, 10), header(2, 0n)]) {
      const r = await new Promise<Run>((resolve, reject) => {
        const child = spawn(LAUNCHER, ['3', '/bin/echo'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
        const ctl = child.stdio[3] as Socket;
        let text = '';
        ctl.setEncoding('utf8').on('data', (s: string) => (text += s));
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr: '', ctl: text }));
        ctl.end(hello);
      });
      assert.deepEqual([r.ctl, r.code], ['ERR read 0\n', 125], `${hello.length} bytes`);
    }
  });

  await t.test('a filter the kernel rejects: ERR seccomp EINVAL', async () => {
    // BPF_LD|BPF_W|BPF_ABS at offset 1: misaligned, refused by seccomp_check_filter (kernel/seccomp.c)
    const r = await launch(['3', '/bin/echo'], Buffer.concat([header(2, 0n), insn(BPF_LD_W_ABS, 0, 0, 1), insn(BPF_RET_K, 0, 0, RET_ALLOW)]));
    assert.deepEqual([r.ctl, r.code], ['ERR seccomp 22\n', 125]);
  });

  await t.test('malformed argv: the usage line, exit 125', async () => {
    for (const args of [[], ['3'], ['x3', '/bin/echo'], ['', '/bin/echo'], ['1234567890', '/bin/echo']]) {
      const r = spawnSync(LAUNCHER, args, { encoding: 'utf8' });
      assert.deepEqual([r.stdout, r.stderr, r.status], ['', USAGE, 125], JSON.stringify(args));
    }
  });
});
