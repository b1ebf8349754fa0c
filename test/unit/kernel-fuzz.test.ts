// The syscall property test (fuzz/, docs/reliability.md) with a small, fixed budget: random
// sequences of every kind of call, from several processes, users and cgroups, on the three fuzz
// machines; every call returns an integer or a negated errno, and after the teardown every pool
// is back to its boot state with no dma-buf, fd or charge left. `npm run fuzz` is the large budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzz, formatFinding } from '../../fuzz/fuzz.js';
import { MACHINE_NAMES } from '../../fuzz/machines.js';
import { caseFromJson, caseToJson } from '../../fuzz/ops.js';
import type { FuzzCase, Op } from '../../fuzz/ops.js';
import { runCase } from '../../fuzz/run-case.js';
import { Process } from '../../src/kernel/fs/process.js';
import { Kernel, READ_FILE_MAX } from '../../src/kernel/kernel.js';
import { Errno } from '../../src/uapi/errno.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/uapi/fcntl.js';

/** The fixed seeds of `npm test` (deterministic: the same cases on every run). */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const RUNS_PER_SEED = 25;
const MAX_STEPS = 120;

test(`random syscall sequences: ${SEEDS.length} seeds x ${RUNS_PER_SEED} cases, nothing lost`, () => {
  let cases = 0;
  const byCall: Record<string, number> = {};
  const results: Record<string, number> = {};
  const machines = new Set<string>();
  for (const seed of SEEDS) {
    const r = fuzz({ seed, runs: RUNS_PER_SEED, maxSteps: MAX_STEPS, batch: RUNS_PER_SEED, shrinkTimeMs: 20_000 });
    if (r.finding !== null) assert.fail(formatFinding(r.finding));
    cases += r.totals.cases;
    for (const [k, v] of Object.entries(r.totals.byCall)) byCall[k] = (byCall[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.totals.results)) results[k] = (results[k] ?? 0) + v;
    for (const m of Object.keys(r.totals.byMachine)) machines.add(m);
  }
  assert.equal(cases, SEEDS.length * RUNS_PER_SEED);
  // the budget covers what it claims to: every kind of call was made, on every machine, and the
  // pools were driven into their failure paths
  for (const name of ['spawn', 'fork', 'execve', 'exit', 'kill', 'setresuid', 'setNofile', 'sendFd', 'pidfd_open', 'open', 'close', 'dup', 'dup3', 'fcntl', 'ioctl',
    'mmap', 'munmap', 'store', 'load', 'read', 'write', 'lseek', 'ftruncate', 'memfd_create', 'poll', 'fstat', 'readlink', 'mkdir', 'rmdir', 'readFile', 'readdir',
    'dma_buf_attach', 'dma_buf_map_attachment', 'dma_buf_unmap_attachment', 'dma_buf_detach', 'device_read', 'device_write']) {
    assert.ok((byCall[name] ?? 0) > 0, `no ${name} call was made`);
  }
  assert.deepEqual([...machines].sort(), [...MACHINE_NAMES].sort());
  for (const e of ['ok', 'ENOMEM', 'EINVAL', 'EBADF', 'EFAULT', 'EACCES', 'EMFILE', 'EPERM']) assert.ok((results[e] ?? 0) > 0, `no call ended in ${e}`);
});

/** Runs `c` with `Process.prototype[name]` replaced for the duration. */
function withPatched<K extends 'close' | 'lseek' | 'dup'>(name: K, impl: (orig: Process[K]) => Process[K], c: FuzzCase): ReturnType<typeof runCase> {
  const orig = Process.prototype[name];
  Process.prototype[name] = impl(orig);
  try {
    return runCase(c);
  } finally {
    Process.prototype[name] = orig;
  }
}

const ALLOC: Op = { op: 'heapAlloc', p: 0, heap: 0, len: 8192, fdFlags: 2, heapFlags: 0, pidfd: null, size: 24, fdIn: 0, ptr: { s: 'scratch', off: 0 } };

test('the harness sees a leak, a non-integer result and an exception (a kernel patched to have them)', () => {
  const c: FuzzCase = { machine: 'x86-6.1', ops: [ALLOC, { op: 'close', p: 0, fd: { k: 'dmabuf', i: 0 } }, { op: 'lseek', p: 0, fd: { k: 'heap', i: 0 }, off: 0, whence: 0 }] };
  assert.equal(runCase(c).failure, null);
  // a close that drops the fd but not the file: the buffer stays, and so do its pages
  const leak = withPatched('close', (orig) => function (this: Process, fd: number) {
    const f = this.file(fd);
    if (f !== null && f.inode.size === 8192) f.get();
    return orig.call(this, fd);
  }, c);
  assert.equal(leak.failure?.kind, 'teardown:dmabuf');
  assert.match(leak.failure?.message ?? '', /1 dma-buf\(s\) left: ino 1 system 8192 B/);
  assert.match(leak.failure?.message ?? '', /buddy allocator: \d+ free of \d+ pages, at boot/);
  const half = withPatched('lseek', () => () => 0.5, c);
  assert.equal(half.failure?.kind, 'bad-result:lseek');
  assert.match(half.failure?.message ?? '', /returned 0\.5, not an integer/);
  const errno = withPatched('lseek', () => () => -4095, c);
  assert.match(errno.failure?.message ?? '', /returned -4095, not a negated errno/);
  const thrown = withPatched('dup', () => () => {
    throw new RangeError('boom');
  }, { machine: 'x86-6.1', ops: [{ op: 'dup', p: 0, fd: { raw: 0 } }] });
  assert.equal(thrown.failure?.kind, 'threw:dup:RangeError');
});

test('a replay file keeps hostile numbers, and replays the same calls', () => {
  const c: FuzzCase = {
    machine: 'arm64-7.0',
    ops: [
      ALLOC,
      { op: 'lseek', p: 0, fd: { k: 'dmabuf', i: 0 }, off: -0, whence: 2 },
      { op: 'mmap', p: 1, addr: null, len: NaN, fit: false, prot: 3, flags: 0x22, fd: { raw: -1 }, off: 0 },
      { op: 'dup3', p: 0, fd: { k: 'any', i: 0 }, newfd: { raw: Infinity }, flags: 0 },
      { op: 'setNofile', p: 2, cur: 1.5, max: -Infinity },
    ],
  };
  const json = caseToJson(c, { seed: 7 });
  assert.match(json, /"len":\{"\$n":"NaN"\}/);
  assert.match(json, /"off":\{"\$n":"-0"\}/);
  const back = caseFromJson(json, MACHINE_NAMES);
  assert.deepEqual(back.ops, c.ops);
  assert.ok(Object.is((back.ops[1] as { off: number }).off, -0));
  assert.equal(back.seed, 7);
  const a = runCase(c, { trace: true });
  const b = runCase(back, { trace: true });
  assert.deepEqual(b.trace, a.trace);
  assert.equal(a.failure, null);
  assert.match(a.trace.join('\n'), /\[pid 2 uid 0\] ioctl\(0, 0xc0184800, 0x[0-9a-f]+\) DMA_HEAP_IOCTL_ALLOC\{system, len=8192, fd_flags=0x2, heap_flags=0, size=24\} = 0/);
  assert.match(a.trace.join('\n'), /\[pid 3 uid 1000\] mmap\(0, NaN, 3, 34, -1, 0\) = -22 EINVAL/);
  assert.match(a.trace.join('\n'), /setNofile\(1\.5, -Infinity\) -- not made: known bug setnofile-unchecked \(wt-proc\)|setNofile\(1\.5, -Infinity\) = -22 EINVAL/);
  assert.throws(() => caseFromJson('{"machine": "x86-6.1", "ops": []}', MACHINE_NAMES), /not a dmaheap fuzz replay file/);
  assert.throws(() => caseFromJson('{"dmaheapFuzz": 1, "machine": "vax", "ops": []}', MACHINE_NAMES), /unknown machine "vax" \(known: x86-6\.1, arm64-7\.0, arm64-6\.12-16k\)/);
  assert.throws(() => caseFromJson('{"dmaheapFuzz": 1, "machine": "x86-6.1", "ops": [3]}', MACHINE_NAMES), /ops\[0\] is not an operation/);
});

test('npm run fuzz: --replay runs a file and exits 0 when it passes; usage errors exit 2 with a hint', () => {
  const main = fileURLToPath(new URL('../../fuzz/main.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-fuzz-'));
  try {
    const file = join(dir, 'case.json');
    writeFileSync(file, caseToJson({ machine: 'x86-6.1', ops: [ALLOC] }));
    const ok = spawnSync(process.execPath, [main, '--replay', file], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^replay .*case\.json: machine x86-6\.1, 1 operations\n/);
    assert.match(ok.stdout, /\nPASS: every call returned an integer or a negated errno, and nothing was left after the teardown\n$/);
    const bad = spawnSync(process.execPath, [main, '--runs', '1.5'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.split('\n')[0], "dmaheap fuzz: --runs takes a whole number from 1 to 1000000000, not '1.5'");
    assert.match(bad.stderr.split('\n')[1] ?? '', /^hint: npm run fuzz -- \[--seed N\]/);
    const missing = spawnSync(process.execPath, [main, '--replay', join(dir, 'nope.json')], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^dmaheap fuzz: cannot read .*nope\.json: ENOENT/);
    const small = spawnSync(process.execPath, [main, '--seed', '3', '--runs', '5', '--steps', '20', '--json'], { encoding: 'utf8' });
    assert.equal(small.status, 0, small.stdout);
    const rep = JSON.parse(small.stdout) as { seed: number; totals: { cases: number }; finding: unknown };
    assert.equal(rep.seed, 3);
    assert.equal(rep.totals.cases, 5);
    assert.equal(rep.finding, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('found by the fuzzer: Kernel.readFile of a 1 TiB memfd through /proc/self/fd is EFBIG, not 16 GB of host memory', () => {
  const k = new Kernel({ profile: '6.1', ramBytes: 256 * 1024 * 1024 });
  const p = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  const m = p.memfdCreate('big', 0);
  assert.equal(p.ftruncate(m, 2 ** 40), 0);
  assert.equal(k.readFile(p, `/proc/self/fd/${m}`), -Errno.EFBIG, 'i_size above READ_FILE_MAX: refused before any read');
  assert.equal(p.ftruncate(m, READ_FILE_MAX + 1), 0);
  assert.equal(k.readFile(p, `/proc/${p.pid}/fd/${m}`), -Errno.EFBIG);
  assert.equal(p.ftruncate(m, 5), 0);
  const buf = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.ok(p.mm.copyToUser(buf, Uint8Array.from([104, 101, 108, 108, 111])));
  assert.equal(p.write(m, buf, 5), 5);
  assert.equal(k.readFile(p, `/proc/self/fd/${m}`), 'hello');
  p.exit();
  assert.equal(k.dmaBuf.list.size, 0);
});
