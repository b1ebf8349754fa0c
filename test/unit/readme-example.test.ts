import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulatedBackend, ErrnoError, UnmappedError } from '../../src/backends/emulated/index.js';

test('the README library example runs as written', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  assert.deepEqual(client.heaps().map((h) => [h.name, h.path, h.properties.contiguous?.value]), [['system', '/dev/dma_heap/system', false], ['reserved', '/dev/dma_heap/reserved', true]]);
  const buf = client.allocateFor({ contiguous: true }, 1 << 20, { purpose: 'frame-0' });
  assert.deepEqual([buf.heap, buf.name], ['reserved', 'dmaheap:frame-0']);
  assert.match(buf.provenance?.explanation ?? '', /^allocated from heap "reserved"; chose "reserved" \(physically contiguous \[exact\], /);
  const map = buf.map();
  buf.cpuAccess('write', () => map.fill(0xa5));
  assert.ok(map.read(0, 16).every((b) => b === 0xa5));
  map.unmap();
  assert.throws(() => map.read(0, 1), UnmappedError);
  buf.close();
  client.close();
});

test('client errors are ErrnoErrors with code, errno and syscall', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const e = (f: () => unknown) => {
    try {
      f();
    } catch (x) {
      return x;
    }
    assert.fail('no error');
  };
  const zero = e(() => client.allocate('system', 0)) as ErrnoError;
  assert.ok(zero instanceof ErrnoError);
  assert.deepEqual([zero.code, zero.errno, zero.syscall, zero.path], ['EINVAL', 22, 'ioctl', '/dev/dma_heap/system']);
  assert.equal(zero.message, "EINVAL: Invalid argument, ioctl '/dev/dma_heap/system'");
  assert.deepEqual(ErrnoError.fromJSON(zero.toJSON()).toJSON(), zero.toJSON());
  const missing = e(() => client.allocate('linux,cma', 4096)) as ErrnoError;
  assert.deepEqual([missing.code, missing.syscall], ['ENOENT', 'open']);
  const big = e(() => client.allocate('reserved', 128 << 20)) as ErrnoError;
  assert.equal(big.code, 'ENOMEM');
  const buf = client.allocate('reserved', 4096, { access: 'read' });
  const ro = buf.map();
  assert.throws(() => ro.write(0, Uint8Array.of(1)), /EACCES: Permission denied, write \(the mapping is read-only/);
  assert.throws(() => ro.read(4000, 200), /read: \[4000, 4200\) is outside the mapping \[0, 4096\)/);
  assert.throws(() => buf.map({ writable: true }), (x: unknown) => x instanceof ErrnoError && x.code === 'EACCES' && x.syscall === 'mmap');
  buf.setName('a-name-that-is-much-longer-than-thirty-one-characters');
  assert.equal(buf.name, 'a-name-that-is-much-longer-than');
  buf.release();
  assert.equal(ro.isMapped, false);
  assert.throws(() => buf.sync('rw', 'start'), /EBADF: Bad file descriptor, ioctl \(the buffer was closed\)/);
  client.close();
});
