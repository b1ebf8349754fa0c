/**
 * The CPU cache model against non-coherent and coherent devices (src/kernel/dev/cache.ts): what
 * a device and the CPU see with and without DMA_BUF_IOCTL_SYNC, line by line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_BIDIRECTIONAL } from '../../src/kernel/dma-buf/dma-buf.js';
import type { DmaBuf } from '../../src/kernel/dma-buf/dma-buf.js';
import type { PagedBuffer } from '../../src/kernel/heaps/paged-buffer.js';
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE } from '../../src/uapi/dma-buf.js';
import { alloc, attach, board, bytes, cpuRead, cpuWrite, devRead, map, rig, sync } from './dev-helpers.js';
import type { Rig } from './dev-helpers.js';
import type { AttachmentHandle } from '../../src/kernel/dev/registry.js';

const K = 1024;

interface Setup extends Rig {
  readonly fd: number;
  readonly addr: number;
  readonly h: AttachmentHandle;
  readonly mem: PagedBuffer;
}

/** An imx8mp with one device (non-coherent unless asked), a mapped 8 KiB CMA buffer attached and DMA-mapped. */
function setup(coherent: boolean): Setup {
  const r = rig({ board: board('imx8mp'), arch: 'arm64', devices: [{ name: 'gpu', dmaMask: 32, coherent }] });
  const fd = alloc(r, 'default_cma_region', 8 * K);
  const addr = map(r, fd, 8 * K);
  const h = attach(r, fd, 'gpu');
  assert.ok(typeof r.k.devices.mapAttachment(h, DMA_BIDIRECTIONAL) === 'object');
  return { ...r, fd, addr, h, mem: (h.buf as DmaBuf).priv as PagedBuffer };
}

test('non-coherent device: a CPU write without END sync stays in the CPU cache (the device reads the old bytes); END|WRITE cleans it', () => {
  const s = setup(false);
  const cache = s.k.devices.cache;
  assert.equal(cache.isTracked(s.mem), true, 'mapping by a non-coherent device switched tracking on');
  cpuWrite(s, s.addr, bytes(100, 0x11));
  assert.equal(cache.lineStates(s.mem, 0)!.slice(0, 3), 'DD.', 'bytes 0..99 dirty two lines');
  assert.deepEqual(devRead(s, s.h, 0, 2), Uint8Array.of(0, 0));
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
  assert.equal(cache.lineStates(s.mem, 0)!.slice(0, 3), 'cc.');
  assert.deepEqual(devRead(s, s.h, 0, 2), Uint8Array.of(0x11, 0x11));
  assert.deepEqual([cache.stats.cleanedLines, cache.stats.staleDeviceReads], [2, 1]);
});

test('non-coherent device: a device write leaves the CPU reading its cached (stale) line until BEGIN with READ invalidates; lines the CPU never touched read fresh', () => {
  const s = setup(false);
  cpuWrite(s, s.addr, bytes(64, 0x11));
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
  assert.equal(s.k.devices.deviceWrite(s.h, 0, bytes(64, 0x22)), 64);
  assert.equal(s.k.devices.deviceWrite(s.h, 64, bytes(64, 0x33)), 64);
  assert.deepEqual(cpuRead(s, s.addr, 1), Uint8Array.of(0x11), 'stale: the line is in the CPU cache');
  assert.deepEqual(cpuRead(s, s.addr + 64, 1), Uint8Array.of(0x33), 'the CPU never held this line: fetched from memory');
  // BEGIN|WRITE is DMA_TO_DEVICE: arch_sync_dma_for_cpu() does nothing for it
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0);
  assert.deepEqual(cpuRead(s, s.addr, 1), Uint8Array.of(0x11));
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
  assert.deepEqual(cpuRead(s, s.addr, 1), Uint8Array.of(0x22));
  assert.equal(s.k.devices.cache.stats.discardedDirtyLines, 0);
});

test('non-coherent device: BEGIN with READ over dirty lines throws the CPU data away (dcache_inval_poc on whole lines)', () => {
  const s = setup(false);
  cpuWrite(s, s.addr, bytes(4, 0x44));
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW), 0);
  assert.deepEqual(cpuRead(s, s.addr, 4), Uint8Array.of(0, 0, 0, 0));
  assert.equal(s.k.devices.cache.stats.discardedDirtyLines, 1);
  // the documented bracket START → write → END keeps the data
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0);
  cpuWrite(s, s.addr, bytes(4, 0x45));
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
  assert.deepEqual(devRead(s, s.h, 0, 1), Uint8Array.of(0x45));
});

test('unmapping syncs for the CPU (invalidate): the CPU then sees what the device wrote; a later map cleans again', () => {
  const s = setup(false);
  cpuWrite(s, s.addr, bytes(8, 0x11));
  assert.equal(sync(s, s.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
  s.k.devices.deviceWrite(s.h, 0, bytes(8, 0x66));
  assert.equal(s.k.devices.unmapAttachment(s.h), 0);
  assert.deepEqual(cpuRead(s, s.addr, 1), Uint8Array.of(0x66));
  cpuWrite(s, s.addr, bytes(1, 0x67));
  assert.ok(typeof s.k.devices.mapAttachment(s.h, DMA_BIDIRECTIONAL) === 'object');
  assert.deepEqual(devRead(s, s.h, 0, 1), Uint8Array.of(0x67), 'dma_map_sgtable() cleaned the dirty line');
});

test('a coherent device needs no sync: it snoops CPU writes and its writes reach the CPU at once', () => {
  const s = setup(true);
  assert.equal(s.k.devices.cache.isTracked(s.mem), false);
  cpuWrite(s, s.addr, bytes(16, 0x11));
  assert.deepEqual(devRead(s, s.h, 0, 1), Uint8Array.of(0x11));
  s.k.devices.deviceWrite(s.h, 0, bytes(16, 0x22));
  assert.deepEqual(cpuRead(s, s.addr, 1), Uint8Array.of(0x22));
});

test('a buffer already written before the device mapped it starts cached: a device write is stale for the CPU without BEGIN', () => {
  const r = rig({ board: board('imx8mp'), arch: 'arm64', devices: [{ name: 'gpu', dmaMask: 32 }] });
  const fd = alloc(r, 'default_cma_region', 8 * K);
  const addr = map(r, fd, 8 * K);
  cpuWrite(r, addr + 4096, bytes(4, 0x10));
  const h = attach(r, fd, 'gpu');
  assert.ok(typeof r.k.devices.mapAttachment(h, DMA_BIDIRECTIONAL) === 'object');
  const mem = h.buf.priv as PagedBuffer;
  assert.equal(r.k.devices.cache.lineStates(mem, 1), 'c'.repeat(64));
  r.k.devices.deviceWrite(h, 4096, bytes(4, 0x20));
  assert.deepEqual(cpuRead(r, addr + 4096, 1), Uint8Array.of(0x10));
  assert.equal(sync(r, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
  assert.deepEqual(cpuRead(r, addr + 4096, 1), Uint8Array.of(0x20));
});

test('x86-64: every device is coherent, so nothing is tracked; the cost model counts uncached reads of the coherent heap on arm64', () => {
  const x = rig({ devices: [{ name: 'dev', coherent: false }] });
  const fd = alloc(x, 'system', 4 * K);
  const h = attach(x, fd, 'dev');
  assert.ok(typeof x.k.devices.mapAttachment(h, DMA_BIDIRECTIONAL) === 'object');
  assert.equal(x.k.devices.cache.stats.trackedBuffers, 0);
  const r = rig({ board: board('am62x'), arch: 'arm64', features: { coherentHeap: 'v3' }, cacheCost: { uncachedReadFactor: 10 } });
  const wc = map(r, alloc(r, 'display-carveout@a1000000', 8 * K), 8 * K);
  const wb = map(r, alloc(r, 'system', 8 * K), 8 * K);
  cpuRead(r, wc, 4096);
  cpuRead(r, wb, 8192);
  cpuWrite(r, wb, bytes(10, 1));
  const st = r.k.devices.cache.stats;
  assert.deepEqual([st.cpuReadBytesUncached, st.cpuReadBytesCached], [4096, 8192]);
  assert.ok(st.simulatedReadNs > 0);
});
