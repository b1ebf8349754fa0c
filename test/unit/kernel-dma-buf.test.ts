import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import { Errno } from '../../src/uapi/errno.js';
import type { DmaBuf, DmaBufOps } from '../../src/kernel/dma-buf/dma-buf.js';

const full: DmaBufOps = { mapDmaBuf: () => [], unmapDmaBuf: () => undefined, release: () => undefined };

test('dma_buf_export: map, unmap and release are required; pin and unpin go together', () => {
  const k = new Kernel({ heaps: [] });
  const info = { expName: 'x', size: 4096, flags: 2, priv: {} };
  assert.equal(k.dmaBuf.export({ ...info, ops: { ...full, release: undefined } }), -Errno.EINVAL);
  assert.equal(k.dmaBuf.export({ ...info, ops: { ...full, mapDmaBuf: undefined } }), -Errno.EINVAL);
  assert.equal(k.dmaBuf.export({ ...info, ops: { ...full, pin: () => 0 } }), -Errno.EINVAL);
  assert.equal(k.dmaBuf.export({ ...info, ops: full, priv: null }), -Errno.EINVAL);
  const b = k.dmaBuf.export({ ...info, ops: full });
  assert.ok(typeof b === 'object');
  assert.deepEqual([b.ino, b.size, b.expName], [1, 4096, 'x']);
  const b2 = k.dmaBuf.export({ ...info, ops: full }) as DmaBuf;
  assert.equal(b2.ino, 2, 'inode numbers are unique and increasing');
});

test('vmap is counted: the exporter sees 0→1 and 1→0 only', () => {
  const k = new Kernel({ heaps: [] });
  const calls: string[] = [];
  const ops: DmaBufOps = { ...full, vmap: () => (calls.push('vmap'), { v: 1 }), vunmap: () => void calls.push('vunmap') };
  const b = k.dmaBuf.export({ expName: 'x', size: 4096, flags: 2, priv: {}, ops }) as DmaBuf;
  const m1 = k.dmaBuf.vmap(b);
  const m2 = k.dmaBuf.vmap(b);
  assert.equal(m1, m2);
  k.dmaBuf.vunmap(b);
  assert.deepEqual(calls, ['vmap']);
  k.dmaBuf.vunmap(b);
  assert.deepEqual(calls, ['vmap', 'vunmap']);
  const none = k.dmaBuf.export({ expName: 'y', size: 4096, flags: 2, priv: {}, ops: full }) as DmaBuf;
  assert.equal(k.dmaBuf.vmap(none), -Errno.EINVAL);
});

test('dma_buf_get: EBADF for a bad fd, EINVAL for a file that is not a dma-buf; the reference keeps the buffer', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const h = p.open('/dev/dma_heap/system', 2);
  assert.equal(k.dmaBuf.get(p, 99), -Errno.EBADF);
  assert.equal(k.dmaBuf.get(p, h), -Errno.EINVAL);
  const heap = k.dmaHeap.findByName('system')!;
  const buf = k.dmaHeap.bufferAlloc(heap, 4096, 2, 0n, p) as DmaBuf;
  const fd = k.dmaBuf.fd(buf, p, 2);
  const ref = k.dmaBuf.get(p, fd) as DmaBuf;
  assert.equal(ref, buf);
  p.close(fd);
  assert.equal(k.dmaBuf.list.size, 1, 'the importer reference keeps it alive');
  k.dmaBuf.put(ref);
  assert.equal(k.dmaBuf.list.size, 0);
});

test('attachments are listed in bufinfo and a detach removes them', () => {
  const k = new Kernel({ profile: '6.1' });
  const heap = k.dmaHeap.findByName('system')!;
  const buf = k.dmaHeap.bufferAlloc(heap, 4096, 2, 0n, null) as DmaBuf;
  const att = k.dmaBuf.attach(buf, 'camera0');
  assert.ok(typeof att === 'object');
  assert.match(k.readFile(k.init, '/sys/kernel/debug/dma_buf/bufinfo') as string, /\tAttached Devices:\n\tcamera0\nTotal 1 devices attached\n/);
  k.dmaBuf.detach(att);
  assert.match(k.readFile(k.init, '/sys/kernel/debug/dma_buf/bufinfo') as string, /\tAttached Devices:\nTotal 0 devices attached\n/);
});
