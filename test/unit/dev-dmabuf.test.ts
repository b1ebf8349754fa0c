/**
 * The dma-buf core's importer side with devices (attach, dynamic attach, map, unmap, detach,
 * events) and the device models moving bytes (src/kernel/dma-buf/dma-buf.ts,
 * src/kernel/dev/models.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../src/uapi/errno.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../src/kernel/dma-buf/dma-buf.js';
import type { DmaBuf } from '../../src/kernel/dma-buf/dma-buf.js';
import type { HeapAttachment } from '../../src/kernel/heaps/paged-buffer.js';
import { codecTransformByte, crc32, framePatternByte } from '../../src/kernel/dev/models.js';
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE } from '../../src/uapi/dma-buf.js';
import { alloc, attach, board, bytes, cpuRead, cpuWrite, map, rig, sync } from './dev-helpers.js';

const K = 1024;

test('events: attach, map, unmap and detach reach observers with the attachment and direction', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64' });
  const log: string[] = [];
  const ev = r.k.dmaBuf.events;
  ev.on('attach', (e) => log.push(`attach ${e.att.dev}`));
  ev.on('map', (e) => log.push(`map ${e.att.dev} ${e.dir}`));
  ev.on('unmap', (e) => log.push(`unmap ${e.att.dev} ${e.dir}`));
  ev.on('detach', (e) => log.push(`detach ${e.att.dev}`));
  const h = attach(r, alloc(r, 'system', 4 * K), 'fdcb0000.isp');
  assert.ok(typeof r.k.devices.mapAttachment(h, DMA_FROM_DEVICE) === 'object');
  r.k.devices.unmapAttachment(h);
  r.k.devices.detach(h);
  assert.deepEqual(log, ['attach fdcb0000.isp', 'map fdcb0000.isp 2', 'unmap fdcb0000.isp 2', 'detach fdcb0000.isp']);
});

test('the heap keeps a per-attachment table, mapped only between map and unmap; begin/end_cpu_access sync only mapped attachments', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64', devices: [{ name: 'cam32', dmaMask: 32 }] });
  const fd = alloc(r, 'default_cma_region', 8 * K);
  const a = attach(r, fd, 'cam32');
  const b = attach(r, fd, 'fdcb0000.isp');
  const pa = a.att.priv as HeapAttachment;
  assert.deepEqual([pa.mapped, pa.table, pa.dev?.name], [false, [{ pfn: 0x4f8000, length: 8 * K }], 'cam32']);
  assert.ok(typeof r.k.devices.mapAttachment(a, DMA_BIDIRECTIONAL) === 'object');
  assert.equal(pa.mapped, true);
  assert.equal(sync(r, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
  assert.equal(sync(r, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
  assert.deepEqual([r.k.devices.get('cam32')!.stats.syncsForCpu, r.k.devices.get('fdcb0000.isp')!.stats.syncsForCpu], [1, 0]);
  r.k.devices.unmapAttachment(a);
  assert.equal(pa.mapped, false);
  assert.equal(sync(r, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
  assert.equal(r.k.devices.get('cam32')!.stats.syncsForCpu, 1);
  assert.equal(b.att.dmabuf, a.att.dmabuf);
});

test('dynamic importers of a heap buffer: ≤6.14 the core maps DMA_BIDIRECTIONAL at attach and hands out that table; 6.15+ maps on demand; no pinning either way', () => {
  for (const [profile, atAttach] of [['6.12', 1], ['7.0', 0]] as const) {
    const r = rig({ profile, board: board('rk3588'), arch: 'arm64' });
    const isp = r.k.devices.get('fdcb0000.isp')!;
    const h = attach(r, alloc(r, 'system', 4 * K), 'fdcb0000.isp', true);
    assert.equal(isp.stats.maps, atAttach, profile);
    assert.equal(h.att.sgt !== null, atAttach === 1, profile);
    assert.ok(typeof r.k.devices.mapAttachment(h, DMA_TO_DEVICE) === 'object');
    assert.equal(isp.stats.maps, 1, `${profile}: one mapping either way`);
    assert.equal(r.k.devices.unmapAttachment(h), 0);
    assert.equal(isp.stats.unmaps, 1 - atAttach, `${profile}: the cached table stays mapped until detach`);
    assert.equal(r.k.devices.detach(h), 0);
    assert.equal(isp.stats.unmaps, 1);
    r.k.dmaBuf.moveNotify(h.buf);
  }
  // move_notify is required of dynamic importers
  const r = rig({ board: board('rk3588'), arch: 'arm64' });
  const buf = r.k.dmaBuf.get(r.p, alloc(r, 'system', 4 * K)) as DmaBuf;
  assert.equal(r.k.dmaBuf.dynamicAttach(buf, r.k.devices.get('fdcb0000.isp')!, {}, null), -Errno.EINVAL);
  const h = attach(r, alloc(r, 'system', 4 * K), 'fdcb0000.isp', true);
  r.k.dmaBuf.moveNotify(h.buf);
  assert.equal(h.moveNotifications, 1);
  assert.equal(r.k.dmaBuf.pin(h.att), 0, 'heaps have no pin op');
});

test('an attachment made with a bare name maps 1:1 with no device behind it (in-kernel callers and old tests)', () => {
  const r = rig({});
  const buf = r.k.dmaBuf.get(r.p, alloc(r, 'system', 64 * K)) as DmaBuf;
  const att = r.k.dmaBuf.attach(buf, 'camera0');
  assert.ok(typeof att === 'object');
  const sgt = r.k.dmaBuf.mapAttachment(att, DMA_BIDIRECTIONAL);
  assert.ok(Array.isArray(sgt) && sgt.length === 1 && sgt[0]!.length === 64 * K);
  r.k.dmaBuf.unmapAttachment(att, sgt, DMA_BIDIRECTIONAL);
  r.k.dmaBuf.detach(att);
  r.k.dmaBuf.put(buf);
});

test('device models: a camera captures a frame the CPU reads after BEGIN, a display scans out a CRC, a copy engine and a codec move bytes between buffers', () => {
  const r = rig({
    board: board('imx8mp'), arch: 'arm64',
    devices: [{ name: '32e00000.isi', model: 'camera' }, { name: '32e80000.display-controller', model: 'display' }, { name: 'g2d', model: 'copy', dmaMask: 32 }, { name: 'vpu', model: 'codec', iommu: true }],
  });
  const { k } = r;
  const m = k.devices.models;
  const fd = alloc(r, 'default_cma_region', 16 * K);
  const addr = map(r, fd, 16 * K);
  cpuWrite(r, addr, bytes(16 * K, 0)); // the CPU has written the buffer: its lines are cached
  const cam = attach(r, fd, '32e00000.isi');
  assert.ok(typeof k.devices.mapAttachment(cam, DMA_FROM_DEVICE) === 'object');
  assert.equal(m.capture(cam, 3), 16 * K);
  assert.deepEqual(cpuRead(r, addr + 100, 1), Uint8Array.of(0), 'stale until BEGIN|READ');
  assert.equal(sync(r, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
  assert.deepEqual(cpuRead(r, addr + 100, 2), Uint8Array.of(framePatternByte(3, 100), framePatternByte(3, 101)));
  const frame = new Uint8Array(16 * K).map((_, i) => framePatternByte(3, i));
  const disp = attach(r, fd, '32e80000.display-controller');
  assert.ok(typeof k.devices.mapAttachment(disp, DMA_TO_DEVICE) === 'object');
  const out = m.scanout(disp);
  assert.ok(typeof out === 'object');
  assert.equal(out.crc32, crc32(frame));
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  // copy engine: frame → second buffer
  const fd2 = alloc(r, 'system', 16 * K);
  const src = attach(r, fd, 'g2d');
  const dst = attach(r, fd2, 'g2d');
  assert.ok(typeof k.devices.mapAttachment(src, DMA_TO_DEVICE) === 'object');
  assert.ok(typeof k.devices.mapAttachment(dst, DMA_FROM_DEVICE) === 'object');
  assert.equal(m.copy(src, dst), 16 * K);
  assert.equal(k.devices.unmapAttachment(dst), 0);
  const addr2 = map(r, fd2, 16 * K);
  assert.deepEqual(cpuRead(r, addr2 + 7, 1), Uint8Array.of(framePatternByte(3, 7)));
  // codec: second buffer → third, inverted
  const fd3 = alloc(r, 'system', 16 * K);
  const vin = attach(r, fd2, 'vpu');
  const vout = attach(r, fd3, 'vpu');
  assert.ok(typeof k.devices.mapAttachment(vin, DMA_TO_DEVICE) === 'object');
  assert.ok(typeof k.devices.mapAttachment(vout, DMA_FROM_DEVICE) === 'object');
  assert.equal(m.transform(vin, vout), 16 * K);
  assert.equal(k.devices.unmapAttachment(vout), 0);
  assert.deepEqual(cpuRead(r, map(r, fd3, 16 * K) + 9, 1), Uint8Array.of(codecTransformByte(framePatternByte(3, 9))));
  // a device runs its own model only; both codec buffers must be its own
  assert.equal(m.capture(disp, 1), -Errno.EINVAL);
  assert.equal(m.transform(vin, dst), -Errno.EINVAL);
});
