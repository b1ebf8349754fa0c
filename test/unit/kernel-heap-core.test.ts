import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import { Errno } from '../../src/uapi/errno.js';
import { sysfsStreq } from '../../src/kernel/dma-heap/dma-heap.js';
import type { DmaHeapOps } from '../../src/kernel/dma-heap/dma-heap.js';

const noop: DmaHeapOps = { allocate: () => -Errno.ENOMEM };

test('dma_heap_add: 128 minors, then EBUSY', () => {
  const k = new Kernel({ heaps: [] });
  for (let i = 0; i < 128; i++) assert.equal(typeof k.dmaHeap.add({ name: `h${i}`, ops: noop, priv: null }), 'object');
  assert.equal(k.dmaHeap.add({ name: 'h128', ops: noop, priv: null }), -Errno.EBUSY);
  assert.deepEqual(k.heaps().map((h) => h.minor).slice(0, 3), [0, 1, 2]);
});

test('dma_heap_add: empty name and missing allocate op are EINVAL, duplicate is EEXIST', () => {
  const k = new Kernel({ heaps: ['system'] });
  assert.equal(k.dmaHeap.add({ name: '', ops: noop, priv: null }), -Errno.EINVAL);
  assert.equal(k.dmaHeap.add({ name: 'x', ops: null, priv: null }), -Errno.EINVAL);
  assert.equal(k.dmaHeap.add({ name: 'x', ops: {}, priv: null }), -Errno.EINVAL);
  assert.equal(k.dmaHeap.add({ name: 'system', ops: noop, priv: null }), -Errno.EEXIST);
  assert.ok(k.dmesg.includes("sysfs: cannot create duplicate filename '/devices/virtual/dma_heap/system'"));
});

test('a heap name with / gets a ! in its device name', () => {
  const k = new Kernel({ heaps: [] });
  const h = k.dmaHeap.add({ name: 'a/b', ops: noop, priv: null });
  assert.ok(typeof h === 'object');
  assert.deepEqual(k.readdir('/dev/dma_heap'), ['a!b']);
  assert.equal(k.dmaHeap.getName(h), 'a/b');
});

test('find_by_name uses sysfs_streq and takes a reference; put balances it', () => {
  const k = new Kernel({ heaps: ['system'] });
  assert.equal(k.dmaHeap.findByName('sys'), null);
  const h = k.dmaHeap.findByName('system\n');
  assert.ok(h !== null);
  assert.equal(h.refs, 2);
  k.dmaHeap.put(h);
  assert.equal(h.refs, 1);
  assert.equal(sysfsStreq('a\n', 'a'), true);
  assert.equal(sysfsStreq('a\n\n', 'a'), false);
});

test('buffer_alloc checks flags and length before the heap', () => {
  const k = new Kernel({ heaps: ['system'] });
  const h = k.dmaHeap.findByName('system')!;
  assert.equal(k.dmaHeap.bufferAlloc(h, 0, 0, 0n, null), -Errno.EINVAL);
  assert.equal(k.dmaHeap.bufferAlloc(h, 4096, 0o4000, 0n, null), -Errno.EINVAL);
  assert.equal(k.dmaHeap.bufferAlloc(h, 4096, 2, 1n, null), -Errno.EINVAL);
  const b = k.dmaHeap.bufferAlloc(h, 1, 2, 0n, null);
  assert.ok(typeof b === 'object');
  assert.equal(b.size, 4096);
  k.dmaBuf.put(b);
});

test('a removed heap stays alive until its last reference and its last buffer are gone', () => {
  const k = new Kernel({ heaps: ['system'] });
  const p = k.init;
  const h = k.dmaHeap.findByName('system')!; // ref 2
  const b = k.dmaHeap.bufferAlloc(h, 4096, 2, 0n, null); // ref 3
  assert.ok(typeof b === 'object');
  const fd = p.open('/dev/dma_heap/system', 2); // ref 4
  k.dmaHeap.remove(h); // ref 3, dying
  assert.equal(k.dmaHeap.findByName('system'), null);
  assert.equal(p.open('/dev/dma_heap/system', 2), -Errno.ENOENT);
  assert.equal(k.dmaHeap.heaps.includes(h), true);
  p.close(fd);
  k.dmaHeap.put(h);
  assert.equal(k.dmaHeap.heaps.includes(h), true, 'a live buffer pins the heap');
  k.dmaBuf.put(b);
  assert.equal(k.dmaHeap.heaps.includes(h), false);
  // the minor is free again
  const again = k.dmaHeap.add({ name: 'system', ops: noop, priv: null });
  assert.ok(typeof again === 'object' && again.minor === 0);
});
