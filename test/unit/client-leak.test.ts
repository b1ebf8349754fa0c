// The leak guard (src/api/leak-guard.ts): buffers the garbage collector reclaims while their fd
// is open are reported with the allocation stack; client.close() reports (and returns) the
// buffers still open, without any collection; stacks are sampled by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STACK_SAMPLING, emulatedBackend, formatLeak, LeakGuard } from '../../src/backends/emulated/index.js';
import type { DmaBuffer, DmaHeapClient, LeakReport } from '../../src/backends/emulated/index.js';
import { gcFunction } from './client-helpers.js';

/** The first frame of a report's stack. */
const firstFrame = (r: LeakReport): string => r.stack.split('\n')[0] ?? '';

test('the report path: counts, calls onLeak, formats the allocation stack or why there is none', () => {
  const seen: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => seen.push(r) });
  const info: LeakReport = { fd: 5, inode: 12, size: 1 << 20, heap: 'system', name: 'app:frame', stack: '    at grab (camera.js:10:3)' };
  guard.report(info);
  assert.deepEqual([guard.leaked, seen], [1, [info]]);
  assert.equal(formatLeak(info), 'leaked dma-buf fd 5 (inode 12, 1 MiB from system, "app:frame") collected without release(), allocated\n    at grab (camera.js:10:3)');
  assert.equal(formatLeak({ ...info, detectedBy: 'close' }), 'leaked dma-buf fd 5 (inode 12, 1 MiB from system, "app:frame") still open at client.close(), allocated\n    at grab (camera.js:10:3)');
  assert.equal(formatLeak({ ...info, inode: null, name: null, size: 12288, stack: '', stackMissing: 'off' }), 'leaked dma-buf fd 5 (12 KiB from system) collected without release() (no allocation stack: captureStacks is off)');
  assert.equal(
    formatLeak({ ...info, size: 100, stack: '', stackMissing: 'not-sampled', detectedBy: 'close' }),
    'leaked dma-buf fd 5 (inode 12, 100 bytes from system, "app:frame") still open at client.close() (no allocation stack: not one of the sampled allocations; every allocation is sampled from now on, and captureStacks: true samples all)',
  );
  // the default guard reports nothing and only counts
  const quiet = new LeakGuard();
  quiet.report(info);
  assert.equal(quiet.leaked, 1);
});

test('buffers are tracked from allocation to close, with the stack of the allocating code', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const guard = client.leakGuard!;
  const a = client.allocate('system', 4096);
  const b = client.allocateUdmabuf(4096);
  const c = client.importFd(client.target.dup(a.fd).ret);
  assert.equal(guard.tracked, 3);
  a.release();
  b.close();
  c.close();
  c.close();
  assert.equal(guard.tracked, 0);
  assert.match(guard.stackHere(), /^ {4}at .*client-leak\.test\.js/);
  assert.equal(new LeakGuard({ captureStacks: false }).stackHere(), '');
  const none = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: false } });
  assert.equal(none.leakGuard, null);
  none.allocate('system', 4096);
  assert.deepEqual([none.openBuffers(), none.close()], [[], []], 'no guard: nothing tracked, nothing returned');
  // a shared guard
  const shared = new LeakGuard();
  const one = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: shared } });
  const two = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: shared } });
  one.allocate('system', 4096);
  two.allocate('system', 4096);
  assert.deepEqual([one.leakGuard === shared, shared.tracked], [true, 2]);
  assert.equal(one.close().length, 1, 'each client returns its own');
  assert.deepEqual([shared.tracked, shared.leaked], [1, 1]);
  assert.deepEqual([client.close(), two.close().length, shared.tracked, shared.leaked], [[], 1, 0, 2]);
});

test('client.close() returns and reports the buffers still open, with their allocation stacks, without a collection', () => {
  const reports: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => reports.push(r), captureStacks: true });
  const client = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard, appName: 'cam' } });
  const t = client.target;
  // named helpers, so that each stack's first frame says who allocated
  const grabFrame = (): DmaBuffer => client.allocate('reserved', 8192, { purpose: 'frame' });
  const grabScratch = (): DmaBuffer => client.allocateUdmabuf(100, { name: 'scratch' });
  const adopt = (fd: number): DmaBuffer => client.importFd(fd);
  const frame = grabFrame();
  const released = client.allocate('system', 4096);
  const scratch = grabScratch();
  const foreignFd = t.dup(frame.fd).ret;
  const imported = adopt(foreignFd);
  released.release();
  // the name as far as each DmaBuffer knows: the import read 'cam:frame' from fdinfo
  frame.setName('cam:renamed');
  assert.equal(imported.name, 'cam:frame');
  // a snapshot, reported to nobody
  const open = client.openBuffers();
  assert.deepEqual(open.map((r) => [r.fd, r.heap, r.size, r.name]), [[frame.fd, 'reserved', 8192, 'cam:renamed'], [scratch.fd, 'udmabuf', 4096, 'scratch'], [foreignFd, 'reserved', 8192, 'cam:frame']]);
  assert.deepEqual([reports.length, guard.leaked], [0, 0]);
  const fds = [frame.fd, scratch.fd, foreignFd];
  const inodes = fds.map((fd) => t.fstat(fd).stat!.ino);
  const left = client.close();
  // exact contents: oldest first; the inode fetched for the report (the allocation did not)
  assert.deepEqual(left.map((r) => ({ ...r, stack: '' })), [
    { fd: fds[0], inode: inodes[0], size: 8192, heap: 'reserved', name: 'cam:renamed', stack: '', detectedBy: 'close' },
    { fd: fds[1], inode: inodes[1], size: 4096, heap: 'udmabuf', name: 'scratch', stack: '', detectedBy: 'close' },
    { fd: fds[2], inode: inodes[2], size: 8192, heap: 'reserved', name: 'cam:frame', stack: '', detectedBy: 'close' },
  ]);
  assert.match(firstFrame(left[0]!), /^ {4}at grabFrame .*client-leak\.test\.js/);
  assert.match(firstFrame(left[1]!), /^ {4}at grabScratch .*client-leak\.test\.js/);
  assert.match(firstFrame(left[2]!), /^ {4}at adopt .*client-leak\.test\.js/);
  assert.deepEqual(reports, left, 'each one reported to onLeak');
  assert.deepEqual([guard.leaked, guard.tracked], [3, 0]);
  assert.equal(formatLeak(left[1]!).split('\n')[0], `leaked dma-buf fd ${fds[1]} (inode ${inodes[1]}, 4 KiB from udmabuf, "scratch") still open at client.close(), allocated`);
  // the process ended: the buffers are gone, not leaks any more
  assert.deepEqual([frame.isOpen, client.openBuffers(), client.close()], [false, [], []]);
  assert.equal(reports.length, 3, 'a second close() reports nothing');
});

test('stacks are sampled by default: the first allocation, then one in 32; every one after a leak was reported', () => {
  assert.equal(DEFAULT_STACK_SAMPLING, 32);
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const guard = client.leakGuard!;
  assert.deepEqual([guard.captureStacks, guard.capturingAll], [32, false]);
  const n = 2 * DEFAULT_STACK_SAMPLING + 2;
  for (let i = 0; i < n; i++) client.allocate('system', 4096);
  const sampled = client.openBuffers().map((r) => (r.stack === '' ? r.stackMissing : 'stack'));
  const want = Array.from({ length: n }, (_, i) => (i % DEFAULT_STACK_SAMPLING === 0 ? 'stack' : 'not-sampled'));
  assert.deepEqual(sampled, want);
  const left = client.close();
  assert.equal(left.length, n);
  assert.equal(guard.leaked, n);
  assert.equal(guard.capturingAll, true, 'a leak was reported: every allocation from now on');
  const next = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard } });
  for (let i = 0; i < 3; i++) next.allocate('system', 4096);
  assert.deepEqual(next.close().map((r) => r.stackMissing ?? 'stack'), ['stack', 'stack', 'stack']);
  // true: every one; false: none; a number: one in N
  const every = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: { captureStacks: true } } });
  const off = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: { captureStacks: false } } });
  const two = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: { captureStacks: 2 } } });
  for (let i = 0; i < 4; i++) for (const c of [every, off, two]) c.allocate('system', 4096);
  assert.deepEqual(every.close().map((r) => r.stackMissing ?? 'stack'), ['stack', 'stack', 'stack', 'stack']);
  assert.deepEqual(off.close().map((r) => [r.stack, r.stackMissing]), Array(4).fill(['', 'off']));
  assert.deepEqual(two.close().map((r) => r.stackMissing ?? 'stack'), ['stack', 'not-sampled', 'stack', 'not-sampled']);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new LeakGuard({ captureStacks: bad }), { name: 'RangeError', message: `captureStacks: a sampling of one in N wants an integer N >= 1, not ${bad} (true: every allocation; false: none)` });
  }
});

const gc = gcFunction();

test('a buffer collected without release() is reported with its allocation stack; close() returns it without reporting it again', { skip: gc === null ? 'no gc(): run node with --expose-gc' : false }, async () => {
  const reports: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => reports.push(r), captureStacks: true });
  const client = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard, appName: 'leaky' } });
  const gone = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard } });
  // in functions of their own, so that no reference survives on this frame
  const leak = (c: DmaHeapClient): number => c.allocate('reserved', 8192, { purpose: 'forgotten' }).fd;
  const fd = leak(client);
  leak(gone);
  // the closed client's buffer is reported by its close(), and never by the collection
  assert.deepEqual(gone.close().map((r) => [r.heap, r.detectedBy]), [['reserved', 'close']]);
  assert.deepEqual([reports.length, guard.tracked], [1, 1]);
  for (let i = 0; i < 50 && guard.tracked > 0; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(guard.tracked, 0, 'the buffer was collected');
  assert.equal(reports.length, 2, 'only the open one is a leak');
  const r = reports[1]!;
  const ino = client.target.fstat(fd).stat!.ino;
  assert.deepEqual([r.fd, r.inode, r.size, r.heap, r.name, r.detectedBy], [fd, ino, 8192, 'reserved', 'leaky:forgotten', 'gc']);
  assert.match(firstFrame(r), /^ {4}at leak .*client-leak\.test\.js/);
  assert.equal(guard.leaked, 2);
  // the fd really is still open: the guard reports, it does not close
  assert.match(client.target.readFile(`/proc/self/fdinfo/${fd}`).text ?? '', /exp_name:\treserved/);
  // close() still lists it (its fd was open until now) but does not report it a second time
  assert.deepEqual(client.close().map((x) => [x.fd, x.inode, x.detectedBy]), [[fd, ino, 'close']]);
  assert.deepEqual([reports.length, guard.leaked], [2, 2]);
});

test('an onLeak that throws in close() still leaves the client closed, every fd with it', () => {
  const guard = new LeakGuard({ onLeak: () => { throw new Error('reporter failed'); } });
  const client = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard } });
  const buf = client.allocate('system', 4096);
  const t = client.target;
  assert.throws(() => client.close(), { message: 'reporter failed' });
  assert.deepEqual([client.isClosed, buf.isOpen, guard.tracked, guard.leaked], [true, false, 0, 1]);
  assert.equal(t.open('/dev/null', 0).errno, 'ESRCH', 'the process ended');
  assert.deepEqual(client.close(), []);
});
