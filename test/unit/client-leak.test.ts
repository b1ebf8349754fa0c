// The leak guard (src/api/leak-guard.ts): buffers the garbage collector reclaims while their fd
// is open are reported with the allocation stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulatedBackend, formatLeak, LeakGuard } from '../../src/backends/emulated/index.js';
import type { DmaHeapClient, LeakReport } from '../../src/backends/emulated/index.js';
import { gcFunction } from './client-helpers.js';

test('the report path: counts, calls onLeak, formats the allocation stack', () => {
  const seen: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => seen.push(r) });
  const info: LeakReport = { fd: 5, inode: 12, size: 1 << 20, heap: 'system', name: 'app:frame', stack: '    at grab (camera.js:10:3)' };
  guard.report(info);
  assert.deepEqual([guard.leaked, seen], [1, [info]]);
  assert.equal(formatLeak(info), 'leaked dma-buf fd 5 (inode 12, 1 MiB from system, "app:frame") collected without release(), allocated\n    at grab (camera.js:10:3)');
  assert.equal(formatLeak({ ...info, inode: null, name: null, size: 12288, stack: '' }), 'leaked dma-buf fd 5 (12 KiB from system) collected without release() (no allocation stack: captureStacks is off)');
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
  assert.match(guard.stackHere(), /client-leak\.test\.js/);
  assert.equal(new LeakGuard({ captureStacks: false }).stackHere(), '');
  const none = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: false } });
  assert.equal(none.leakGuard, null);
  none.allocate('system', 4096);
  // a shared guard
  const shared = new LeakGuard();
  const one = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: shared } });
  const two = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: shared } });
  one.allocate('system', 4096);
  two.allocate('system', 4096);
  assert.deepEqual([one.leakGuard === shared, shared.tracked], [true, 2]);
  for (const x of [client, none, one, two]) x.close();
});

const gc = gcFunction();

test('a buffer collected without release() is reported with its allocation stack; one of a closed client is not', { skip: gc === null ? 'no gc(): run node with --expose-gc' : false }, async () => {
  const reports: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => reports.push(r) });
  const client = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard, appName: 'leaky' } });
  const gone = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard } });
  // in functions of their own, so that no reference survives on this frame
  const leak = (c: DmaHeapClient): number => c.allocate('reserved', 8192, { purpose: 'forgotten' }).fd;
  const fd = leak(client);
  leak(gone);
  gone.close();
  for (let i = 0; i < 50 && guard.tracked > 0; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(guard.tracked, 0, 'both buffers were collected');
  assert.equal(reports.length, 1, 'only the open one is a leak');
  const r = reports[0]!;
  assert.deepEqual([r.fd, r.size, r.heap, r.name], [fd, 8192, 'reserved', 'leaky:forgotten']);
  assert.match(r.stack, /leak .*client-leak\.test\.js/);
  assert.equal(guard.leaked, 1);
  // the fd really is still open: the guard reports, it does not close
  assert.match(client.target.readFile(`/proc/self/fdinfo/${fd}`).text ?? '', /exp_name:\treserved/);
  client.close();
});
