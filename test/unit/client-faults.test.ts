// Fault injection through the client library on the emulated backend (EmulatedOptions.faults).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllocationError, ErrnoError, EmulatedTarget, KernelConfigError, emulatedBackend } from '../../src/backends/emulated/index.js';
import type { DmaHeapClient } from '../../src/backends/emulated/index.js';
import { Errno } from '../../src/uapi/errno.js';

const MiB = 1024 * 1024;

function kernelOf(client: DmaHeapClient): EmulatedTarget['kernel'] {
  assert.ok(client.target instanceof EmulatedTarget);
  return client.target.kernel;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return assert.fail('no error');
}

test('allocate(): the 3rd allocation from the system heap fails with ENOMEM, the others succeed', () => {
  const client = emulatedBackend.createClient({ profile: '6.1', faults: [{ heap: 'system', nth: 3 }] });
  const a = client.allocate('system', MiB);
  const b = client.allocate('system', MiB);
  const err = thrown(() => client.allocate('system', MiB));
  assert.ok(err instanceof ErrnoError);
  assert.equal(err.code, 'ENOMEM');
  assert.equal(err.errno, Errno.ENOMEM);
  assert.equal(err.syscall, 'ioctl');
  assert.equal(err.path, '/dev/dma_heap/system');
  const d = client.allocate('system', MiB);
  const k = kernelOf(client);
  assert.deepEqual(k.faults.list().map((r) => [r.matched, r.injected]), [[4, 1]]);
  assert.equal(k.dmaBuf.list.size, 3);
  for (const buf of [a, b, d]) buf.close();
  assert.deepEqual(client.close(), []);
});

test('allocateFor(): AllocationError ENOMEM when the 3rd contiguous allocation fails on every candidate', () => {
  const client = emulatedBackend.createClient({ profile: '6.1', faults: [{ heap: 'reserved', nth: 3 }] });
  const bufs = [client.allocateFor({ contiguous: true }, MiB), client.allocateFor({ contiguous: true }, MiB)];
  const err = thrown(() => client.allocateFor({ contiguous: true }, MiB));
  assert.ok(err instanceof AllocationError);
  assert.equal(err.code, 'ENOMEM');
  assert.equal(err.errno, Errno.ENOMEM);
  assert.deepEqual(err.attempts, [{ provider: 'reserved', error: 'ENOMEM' }]);
  // the 4th is the 4th matching allocation: it succeeds
  bufs.push(client.allocateFor({ contiguous: true }, MiB));
  assert.equal(bufs[2]!.heap, 'reserved');
  for (const b of bufs) b.close();
  client.close();
});

test('allocateFor(): an injected failure on every heap falls back to udmabuf, which is no dma-heap', () => {
  const client = emulatedBackend.createClient({ profile: '6.1', faults: [{ every: 1, errno: Errno.ENOSPC }] });
  const buf = client.allocateFor({}, MiB);
  assert.equal(buf.provenance?.attempts.at(-1)?.provider, 'udmabuf');
  assert.deepEqual(buf.provenance?.attempts.slice(0, -1).map((a) => a.error), buf.provenance?.attempts.slice(0, -1).map(() => 'ENOSPC'));
  assert.equal(kernelOf(client).faults.injected, buf.provenance!.attempts.length - 1);
  buf.close();
  client.close();
});

test('signal: the allocation fails with EINTR and the process is then dead', () => {
  const client = emulatedBackend.createClient({ profile: '6.1', faults: [{ heap: 'system', nth: 2, signal: true }] });
  const first = client.allocate('system', MiB);
  const map = first.map();
  map.write(0, new Uint8Array([1]));
  const err = thrown(() => client.allocate('system', MiB));
  assert.ok(err instanceof ErrnoError);
  assert.equal(err.code, 'EINTR');
  assert.equal(err.errno, Errno.EINTR);
  const target = client.target as EmulatedTarget;
  assert.equal(target.proc.fatalSignalPending, true);
  // its next access to user memory is where it dies (docs/fidelity.md fatal-signal)
  assert.throws(() => map.write(0, new Uint8Array([2])), { message: 'write: the process was killed by SIGKILL' });
  assert.equal(target.proc.alive, false);
  assert.equal(target.proc.killedBy, 'SIGKILL');
  // its buffers went with it
  assert.equal(target.kernel.dmaBuf.list.size, 0);
});

test('a bad rule is a KernelConfigError when the client is made', () => {
  assert.throws(() => emulatedBackend.createClient({ faults: [{ heap: 'system', nth: 1, every: 2 }] }), (e: unknown) =>
    e instanceof KernelConfigError && e.message === 'a fault rule needs exactly one of nth (fail the Nth matching allocation), every (every Nth) or fraction (a share of them, 0..1), not nth and every');
});
