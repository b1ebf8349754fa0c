/**
 * `dmaheap run` with the programs users have (issue 12, item 4 and 5): ls and cat of the emulated
 * trees, the Python and C examples of examples/run (run by docs/run.md), a fork that passes a
 * buffer over a Unix socket, exit statuses, a program killed with buffers open and mapped, the
 * trace, the sanitizer and a missing launcher. Each program runs as a child process
 * (`node dist/src/apps/cli/main.js run ...`) so its output can be compared; everything skips with
 * the reason on a host where `dmaheap run` cannot work (not Linux x86-64/arm64, no seccomp user
 * notification), and the C example where gcc is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../../src/backends/run/index.js';
import { describeHeaps } from '../../src/backends/emulated/index.js';
import type { Kernel } from '../../src/kernel/index.js';
import { runDmaheapRun, runUnsupported, startDmaheapRun } from './run-helpers.js';
import { loadLibc } from '../../src/backends/linux/libc.js';
import { NR_PIDFD_OPEN } from '../../src/backends/run/syscalls.js';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const cli = join(repo, 'dist/src/apps/cli/main.js');

const run = runDmaheapRun;
const unsupported = runUnsupported;
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const python = has('python3') ? null : 'python3 is not installed';
const gcc = has('gcc') ? null : 'gcc is not installed (Debian: apt-get install gcc)';
const go = has('go') ? null : 'go is not installed (Debian: apt-get install golang-go)';

/** test/fixtures/run/NAME.c compiled with gcc into a temporary directory, given to `use`, removed after. */
function withFixture(name: string, use: (bin: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), `dmaheap-run-${name}-`));
  try {
    const bin = join(dir, name);
    const cc = spawnSync('gcc', ['-O2', '-o', bin, `test/fixtures/run/${name}.c`], { cwd: repo, encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    use(bin);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ls -l /dev/dma_heap under dmaheap run shows the board\'s heaps (imx8mp, 6.19)', { skip: unsupported ?? false }, () => {
  const r = run(['--board', 'imx8mp', '--profile', '6.19', '--', 'ls', '-l', '/dev/dma_heap']);
  assert.equal(r.err, '');
  assert.equal(r.status, 0);
  assert.equal(r.out, [
    'total 0',
    'crw------- 1 root root 254, 3 Jan  1  1970 cma-video',
    'crw------- 1 root root 254, 1 Jan  1  1970 default_cma_region',
    'crw------- 1 root root 254, 4 Jan  1  1970 framebuffer@78000000',
    'crw------- 1 root root 254, 2 Jan  1  1970 linux,cma',
    'crw------- 1 root root 254, 0 Jan  1  1970 system',
    '',
  ].join('\n'));
});

test('ls /dev/dma_heap lists the newest heap first, as devtmpfs does (ls -U: directory order)', { skip: unsupported ?? false }, () => {
  assert.equal(run(['--profile', '7.3', '--', 'ls', '-U', '/dev/dma_heap']).out, 'reserved\ndefault_cma_region\nsystem\n');
  assert.equal(run(['--profile', '6.1', '--', 'ls', '-U', '/dev/dma_heap']).out, 'reserved\nsystem\n');
});

test('cat of debugfs bufinfo under dmaheap run is the emulated kernel\'s', { skip: unsupported ?? false }, () => {
  const r = run(['--', 'cat', '/sys/kernel/debug/dma_buf/bufinfo']);
  assert.equal(r.status, 0);
  assert.equal(r.out, '\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n\nTotal 0 objects, 0 bytes\n');
});

test('the Python example allocates, maps, syncs, names and frees a buffer', { skip: unsupported ?? python ?? false }, () => {
  const r = run(['--', 'python3', 'examples/run/alloc.py']);
  assert.equal(r.err, '');
  assert.equal(r.status, 0);
  // count 3: the fd, Python's mmap object's own dup of it, and the mapping
  assert.equal(r.out, 'allocated 1048576 bytes: fd 4\nread back: hello\nfdinfo: size 1048576 count 3 exp_name system name python-example\nfreed\n');
});

test('a forked child gets a buffer over a Unix socket (SCM_RIGHTS), writes it, and its references go when it exits', { skip: unsupported ?? python ?? false }, () => {
  const r = run(['--', 'python3', 'examples/run/share.py']);
  assert.equal(r.err, '');
  assert.equal(r.status, 0);
  assert.equal(r.out, 'child exited 0\nparent reads: from child\nfdinfo count after the child is gone: 1\nTotal 0 objects, 0 bytes\n');
});

test('the C example, static and dynamic, on the 6.1 and 7.3 profiles', { skip: unsupported ?? gcc ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-run-'));
  try {
    const expected = 'allocated 1048576 bytes: fd 4\nfilled: 1048576 of 1048576 bytes read back 0xa5\nsize:\t1048576\ncount:\t2\nexp_name:\tsystem\nname:\tc-example\nTotal 0 objects, 0 bytes\n';
    for (const link of ['-static', '']) {
      const bin = join(dir, `alloc${link}`);
      const cc = spawnSync('gcc', ['-O2', ...(link === '' ? [] : [link]), '-o', bin, 'examples/run/alloc.c'], { cwd: repo, encoding: 'utf8' });
      if (cc.status !== 0 && link === '-static' && /cannot find -lc/.test(cc.stderr)) continue; // no static libc installed
      assert.equal(cc.status, 0, cc.stderr);
      for (const profile of ['6.1', '7.3']) {
        const r = run(['--profile', profile, '--', bin]);
        assert.equal(r.err, '', `${bin} ${profile}`);
        assert.equal(r.out, expected, `${bin} ${profile}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a buffer mapped plane by plane, which the host merges into one mapping, shows each plane where the program has it', { skip: unsupported ?? gcc ?? false }, () => {
  withFixture('planes', (bin) => {
    const r = run(['--', bin]);
    assert.equal(r.err, '');
    assert.equal(r.out, [
      'luma plane right below the chroma plane: yes',
      'mapped: luma+0 8192 rw-s 00000000',
      'mapped: luma+8192 4096 rw-s 00002000',
      'luma 0x10, chroma 0x80',
      'luma unmapped: luma+8192 4096 rw-s 00002000',
      '',
    ].join('\n'));
  });
});

test('a name that climbs out of an emulated directory (/dev/dma_heap/.., /sys/kernel/debug/..) is the host\'s, as on Linux (ls -la, stat, test -r, open)', { skip: unsupported ?? false }, () => {
  const names = ['/dev/dma_heap/..', '/dev/dma_heap/../null', '/sys/kernel/debug/..', '/sys/kernel/debug/dma_buf/../../mm'];
  const where = ['/dev', '/dev/null', '/sys/kernel', '/sys/kernel/mm'];
  const fmt = ['-c', '%d %i %F %a %U'];
  const native = spawnSync('stat', [...fmt, ...where], { encoding: 'utf8' });
  assert.equal(native.status, 0, native.stderr);
  for (const preload of ['auto', 'off']) {
    const r = run(['--preload', preload, '--', 'stat', ...fmt, ...names]);
    assert.equal(r.err, '', preload);
    assert.equal(r.out, native.stdout, preload);
    const t = run(['--preload', preload, '--', 'sh', '-c', 'test -r /dev/dma_heap/.. && test -x /sys/kernel/debug/.. && cat /dev/dma_heap/../null && ls /dev/dma_heap/.. | grep -cx null && echo ok']);
    assert.equal(t.err, '', preload);
    assert.equal(t.out, '1\nok\n', preload);
  }
  // ls -la: '..' is the host's /dev (it was "d?????????" with an error before)
  const ls = run(['--', 'ls', '-la', '/dev/dma_heap']);
  assert.equal(ls.err, '');
  const dotdot = ls.out.split('\n').find((l) => l.endsWith(' ..'));
  const dev = spawnSync('ls', ['-ld', '/dev'], { encoding: 'utf8' }).stdout.trim();
  // the same fields (ls pads its columns to the widest entry)
  assert.deepEqual(dotdot?.split(/\s+/).slice(0, -1), dev.split(/\s+/).slice(0, -1));
});

test('dmaheap run exits with the program\'s status: its exit code, 128 + a signal, 127 for a missing program', { skip: unsupported ?? false }, () => {
  assert.equal(run(['--', 'sh', '-c', 'exit 7']).status, 7);
  assert.equal(run(['--', 'sh', '-c', 'kill -9 $$']).status, 137);
  const missing = run(['--', 'no-such-program-xyz']);
  assert.equal(missing.status, 127);
  assert.equal(missing.err, 'dmaheap run: no-such-program-xyz: No such file or directory\n');
});

test('a missing launcher is a clear error with what to do (exit 125)', { skip: unsupported ?? false }, () => {
  const r = run(['--', '/bin/true'], { DMAHEAP_LAUNCHER: '/nonexistent/dmaheap-launch' });
  assert.equal(r.status, 125);
  assert.equal(r.err, 'dmaheap run: the native launcher /nonexistent/dmaheap-launch is missing or not executable\nhint: rebuild it with `npm run build:native` (needs gcc), or reinstall the package\n');
});

test('a program killed with buffers open, mapped and shared with a child gives every page back', { skip: unsupported ?? python ?? false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-run-'));
  const prog = join(dir, 'crash.py');
  writeFileSync(prog, [
    'import fcntl, mmap, os, signal, struct',
    'def alloc(heap, size):',
    '    h = os.open(f"/dev/dma_heap/{heap}", os.O_RDONLY)',
    '    req = bytearray(struct.pack("=QIIQ", size, 0, os.O_RDWR, 0))',
    '    fcntl.ioctl(h, 0xC0184800, req)',
    '    return struct.unpack("=QIIQ", req)[1]',
    'maps = []',
    'for heap, size in (("system", 1 << 20), ("reserved", 4 << 20), ("system", 4096)):',
    '    fd = alloc(heap, size)',
    '    maps.append(mmap.mmap(fd, size))',
    '    maps[-1][0] = 1',
    'if os.fork() == 0:',
    '    os.kill(os.getpid(), signal.SIGKILL)',
    'os.wait()',
    'os.kill(os.getpid(), signal.SIGKILL)',
    '',
  ].join('\n'));
  try {
    const memFree = (k: Kernel): string => /^MemFree:.*$/m.exec(String(k.readFile(k.init, '/proc/meminfo')))?.[0] ?? '';
    let before = '';
    const trace = join(dir, 'trace.jsonl');
    const r = await runProgram({ machine: { profile: '6.12', cmdline: 'cma=64M' }, program: 'python3', args: [prog], trace, warn: (l) => assert.fail(l), onStart: ({ kernel }) => { before = memFree(kernel); } });
    // the trace learns of deaths by signal (no exit_group): observed exits, which free the three buffers
    const recs = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; call: string; how: string; freed?: number[] });
    assert.ok(recs.some((x) => x.call === 'exit' && x.how === 'observed'));
    assert.deepEqual(recs.flatMap((x) => x.freed ?? []).sort(), [1, 2, 3]);
    assert.ok(recs.filter((x) => x.freed !== undefined).every((x) => x.call === 'exit' && x.how === 'observed'));
    assert.equal(r.status, 137);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.leakedBuffers, 0);
    assert.equal(r.kernel.dmaBuf.list.size, 0);
    for (const h of describeHeaps(r.kernel)) {
      if (h.kind === 'system') continue;
      assert.equal(h.free, h.capacity, `heap ${h.name}: free + used = total with nothing used`);
    }
    // the system heap's pages are back in the buddy allocator
    assert.match(before, /^MemFree: +\d+ kB$/);
    assert.equal(memFree(r.kernel), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--trace writes every emulated call as a JSON line', { skip: unsupported ?? python ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-run-'));
  try {
    const file = join(dir, 'trace.jsonl');
    assert.equal(run(['--trace', file, '--', 'python3', 'examples/run/alloc.py']).status, 0);
    const recs = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { call: string; args: string[]; ret: number; errno?: string; how: string });
    const open = recs.find((x) => x.call === 'openat');
    assert.deepEqual(open && { ret: open.ret, how: open.how }, { ret: 3, how: 'served' });
    const alloc = recs.find((x) => x.call === 'ioctl' && x.args[1] === '0xc0184800');
    assert.deepEqual(alloc && { fd: alloc.args[0], ret: alloc.ret, how: alloc.how }, { fd: '0x3', ret: 0, how: 'served' });
    assert.ok(recs.some((x) => x.call === 'mmap' && x.how === 'mirrored'));
    assert.ok(recs.some((x) => x.call === 'close' && x.args[0] === '0x4' && x.how === 'mirrored'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--sanitize reports a native program\'s store outside a SYNC bracket, with the process and the buffer', { skip: unsupported ?? python ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-run-'));
  const prog = join(dir, 'unsynced.py');
  writeFileSync(prog, [
    'import ctypes, fcntl, mmap, os, struct',
    'h = os.open("/dev/dma_heap/system", os.O_RDONLY)',
    'req = bytearray(struct.pack("=QIIQ", 65536, 0, os.O_RDWR, 0))',
    'fcntl.ioctl(h, 0xC0184800, req)',
    'fd = struct.unpack("=QIIQ", req)[1]',
    'libc = ctypes.CDLL(None)',
    'libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_char_p)',
    'libc.ioctl(fd, 0x40086201, b"frame")',
    'm = mmap.mmap(fd, 65536)',
    'fcntl.ioctl(fd, 0x40086200, struct.pack("=Q", 2))',
    'm[0] = 1',
    'fcntl.ioctl(fd, 0x40086200, struct.pack("=Q", 6))',
    'm[8192] = 7',
    'fcntl.ioctl(fd, 0x40086200, struct.pack("=Q", 1))',
    'fcntl.ioctl(fd, 0x40086200, struct.pack("=Q", 5))',
    'print(os.getpid())',
    '',
  ].join('\n'));
  try {
    const r = run(['--sanitize', '--', 'python3', prog]);
    assert.equal(r.status, 0);
    const pid = r.out.trim();
    const lines = r.err.split('\n');
    assert.equal(lines[0], 'dmaheap run: sanitizer: error: cpu-access-outside-sync');
    assert.match(lines[1]!, new RegExp(`^  pid ${pid} wrote 4096 bytes at offset 8192 of dma-buf \\d+ "frame" \\(system, 65536 bytes\\) with no DMA_BUF_IOCTL_SYNC START open\\.`));
    const clean = run(['--sanitize', '--', 'python3', 'examples/run/alloc.py']);
    assert.equal(clean.err, 'dmaheap run: sanitizer: no findings (every CPU access the program made to a buffer was inside a SYNC bracket)\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dmaheap dump and top --attach show the processes of a running dmaheap run', { skip: unsupported ?? python ?? false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-run-'));
  const prog = join(dir, 'hold.py');
  writeFileSync(prog, [
    'import fcntl, mmap, os, struct, sys',
    'h = os.open("/dev/dma_heap/system", os.O_RDONLY)',
    'req = bytearray(struct.pack("=QIIQ", 1 << 20, 0, os.O_RDWR, 0))',
    'fcntl.ioctl(h, 0xC0184800, req)',
    'fd = struct.unpack("=QIIQ", req)[1]',
    'm = mmap.mmap(fd, 1 << 20)',
    'print(os.getpid(), flush=True)',
    'sys.stdin.readline()',
    '',
  ].join('\n'));
  const { child, firstLine } = startDmaheapRun(['--profile', '6.12', '--', 'python3', prog]);
  try {
    const pid = await firstLine;
    const dump = spawnSync(process.execPath, [cli, 'dump', '--attach', String(child.pid)], { encoding: 'utf8' });
    assert.equal(dump.stderr, '');
    assert.equal(dump.status, 0);
    assert.match(dump.stdout, new RegExp(`^Emulated Linux 6\\.12\\.118 \\(profile 6\\.12\\)\\n\\n +python3:${pid} *\\n`));
    assert.match(dump.stdout, /dmabuf total: 1024 kB kernel_rss: 0 kB userspace_rss: 1024 kB userspace_pss: 1024 kB/);
    const top = spawnSync(process.execPath, [cli, 'top', '--attach', String(child.pid), '--once', '--json'], { encoding: 'utf8' });
    assert.equal(top.status, 0);
    const snap = JSON.parse(top.stdout) as { machine: string; processes: { pid: number; comm: string; rss: number }[] };
    assert.equal(snap.machine, `emulated Linux 6.12.118 (profile 6.12), dmaheap run python3`);
    assert.deepEqual(snap.processes.map((p) => [p.pid, p.comm, p.rss]), [[Number(pid), 'python3', 1 << 20]]);
    const gone = spawnSync(process.execPath, [cli, 'dump', '--attach', '999999999'], { encoding: 'utf8' });
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^dmaheap dump: cannot reach a dmaheap run at .*run-999999999\.sock \(ENOENT\)\nhint: /);
  } finally {
    child.stdin.end('\n');
    await new Promise((r) => child.on('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM to dmaheap run is passed on to the program, whose status it exits with', { skip: unsupported ?? python ?? false }, async () => {
  const child = spawn(process.execPath, [cli, 'run', '--', 'python3', '-c', 'import sys; print("ready", flush=True); sys.stdin.readline()'], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
  const status = await new Promise<number | null>((resolveStatus) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (d.includes('ready')) child.kill('SIGTERM');
    });
    child.on('exit', (code) => resolveStatus(code));
  });
  child.stdin.destroy();
  assert.equal(status, 128 + 15);
});

test('a static Go program (its own raw system calls, no libc) on the emulated kernel', { skip: unsupported ?? go ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-run-go-'));
  try {
    const bin = join(dir, 'alloc-go');
    const b = spawnSync('go', ['build', '-o', bin, '.'], { cwd: join(repo, 'examples/run/go'), encoding: 'utf8', env: { ...process.env, CGO_ENABLED: '0', GOCACHE: join(dir, 'cache'), GOFLAGS: '-mod=mod' } });
    assert.equal(b.status, 0, b.stderr);
    const r = run(['--profile', '6.12', '--', bin]);
    assert.equal(r.err, '');
    assert.equal(r.status, 0);
    // fd 7: the heap node and Go's netpoller (its epoll and wake-up fds) come first; the 6.12
    // referee printed this very line for the same program
    assert.equal(r.out, 'go: fd 7, wrote "gopher"; size: 65536, count: 2, exp_name: system\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a storm of random calls on emulated fds is answered without an internal error, and nothing leaks', { skip: unsupported ?? gcc ?? false }, () => {
  withFixture('syscall-storm', (bin) => {
    for (const seed of ['1', '7']) {
      const r = run(['--stats', '--json', '--', bin, seed]);
      assert.equal(r.out, 'answered 20000 calls\n');
      assert.equal(r.status, 0);
      const stats = JSON.parse(r.err) as { status: number; leakedBuffers: number; calls: { served: number } };
      assert.deepEqual([stats.status, stats.leakedBuffers], [0, 0], r.err);
      assert.ok(stats.calls.served > 10000, r.err);
    }
  });
});

test('an internal error outside a call\'s handler ends the run: the program is killed, nothing waits for it', { skip: unsupported ?? false }, async () => {
  let pid = 0;
  const r = runProgram({
    machine: { profile: '6.12' }, program: 'sh', args: ['-c', 'while :; do cat /dev/null; done'], warn: () => undefined,
    onStart: ({ bridge }) => {
      bridge.afterAnswer = (): void => {
        pid = bridge.root?.pid ?? 0;
        throw new Error('injected');
      };
    },
  });
  await assert.rejects(r, /injected/);
  // the program was stopped in a call no one will answer: it must be gone, not left waiting
  const libc = loadLibc();
  assert.ok(!(libc instanceof Error) && pid > 0);
  const pidfd = libc.syscall3(NR_PIDFD_OPEN, pid, 0, 0);
  if (pidfd < 0) return; // already reaped
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(pidfd, 0);
  pfd.writeInt16LE(1 /* POLLIN: it exited */, 4);
  try {
    assert.equal(libc.poll(pfd, 1, 20_000), 1, 'the program still runs after its supervisor failed');
  } finally {
    libc.close(pidfd);
  }
});
