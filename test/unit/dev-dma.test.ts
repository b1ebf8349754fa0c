/**
 * DMA mapping of heap buffers for devices: dma-direct with swiotlb bouncing, dma-iommu IOVA
 * ranges, the importer's contiguity check, protected memory, stale DMA addresses
 * (src/kernel/dev/dma-mapping.ts, registry.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../src/uapi/errno.js';
import { O_RDWR } from '../../src/uapi/fcntl.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../src/kernel/dma-buf/dma-buf.js';
import type { DmaBuf } from '../../src/kernel/dma-buf/dma-buf.js';
import type { PagedBuffer } from '../../src/kernel/heaps/paged-buffer.js';
import type { DeviceAccessEvent } from '../../src/kernel/events.js';
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE } from '../../src/uapi/dma-buf.js';
import { alloc, attach, board, bytes, cpuRead, cpuWrite, devRead, dts, map, rig, sync } from './dev-helpers.js';
import type { Rig } from './dev-helpers.js';

const K = 1024;
const M = 1024 * 1024;

function runs(r: Rig, fd: number): [number, number][] {
  const b = r.k.dmaBuf.get(r.p, fd) as DmaBuf;
  const out = (b.priv as PagedBuffer).runs.map((x): [number, number] => [x.pfn, x.pages]);
  r.k.dmaBuf.put(b);
  return out;
}

test('a 32-bit device on memory above 4 GiB bounces: map copies in, syncs copy each way, unmap copies back; the data is right after the right syncs', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64', devices: [{ name: 'cam32', dmaMask: 32 }] });
  const { k } = r;
  const fd = alloc(r, 'default_cma_region', 64 * K);
  assert.deepEqual(runs(r, fd), [[0x4f8000, 16]], 'the default CMA area lies above 4 GiB');
  const addr = map(r, fd, 64 * K);
  cpuWrite(r, addr, bytes(64 * K, 0xaa));
  const h = attach(r, fd, 'cam32');
  const dev = k.devices.get('cam32')!;
  assert.deepEqual(k.devices.mapAttachment(h, DMA_BIDIRECTIONAL), { entries: [{ dmaAddr: 0xec000000, length: 64 * K }], bounced: true, iova: false });
  assert.deepEqual([dev.stats.bounceCopies, dev.stats.bounceBytes], [1, 64 * K]);
  assert.deepEqual(k.devices.swiotlb!.stats, { used: 32, hiwater: 32, full: 0 });
  assert.deepEqual(devRead(r, h, 0, 2), Uint8Array.of(0xaa, 0xaa), 'the device reads the bounce buffer');
  // device → bounce buffer only; the CPU sees it after a sync for the CPU (BEGIN|READ)
  assert.equal(k.devices.deviceWrite(h, 0, bytes(4, 0x55)), 4);
  assert.deepEqual(cpuRead(r, addr, 2), Uint8Array.of(0xaa, 0xaa));
  assert.equal(sync(r, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
  assert.deepEqual(cpuRead(r, addr, 2), Uint8Array.of(0x55, 0x55));
  // CPU → memory only; the device sees it after a sync for the device (END|WRITE)
  cpuWrite(r, addr + 8, bytes(4, 0x77));
  assert.deepEqual(devRead(r, h, 8, 1), Uint8Array.of(0xaa));
  assert.equal(sync(r, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
  assert.deepEqual(devRead(r, h, 8, 1), Uint8Array.of(0x77));
  assert.deepEqual([dev.stats.bounceCopies, dev.stats.syncsForCpu, dev.stats.syncsForDevice], [3, 1, 1]);
  // unmap copies back for BIDIRECTIONAL and frees the slots
  assert.equal(k.devices.deviceWrite(h, 16, bytes(1, 0x99)), 1);
  assert.equal(k.devices.unmapAttachment(h), 0);
  assert.deepEqual(cpuRead(r, addr + 16, 1), Uint8Array.of(0x99));
  assert.deepEqual([dev.stats.bounceCopies, dev.stats.bounceBytes, dev.stats.bouncedMaps], [4, 4 * 64 * K, 1]);
  assert.deepEqual(k.devices.swiotlb!.stats, { used: 0, hiwater: 32, full: 0 });
});

test('the same device on memory below 4 GiB maps directly: bus address = physical address, no copies', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64', devices: [{ name: 'cam32', dmaMask: 32 }] });
  const fd = alloc(r, 'cma@10000000', 64 * K);
  const h = attach(r, fd, 'cam32');
  assert.deepEqual(r.k.devices.mapAttachment(h, DMA_TO_DEVICE), { entries: [{ dmaAddr: 0x10000000, length: 64 * K }], bounced: false, iova: false });
  assert.equal(r.k.devices.get('cam32')!.stats.bounceCopies, 0);
  assert.equal(r.k.devices.swiotlb!.stats.hiwater, 0);
});

test('bouncing limits: an sg entry over 256 KiB cannot bounce (CMA heap: ENOMEM); without a pool an unreachable page fails (system heap: EIO, CMA: ENOMEM)', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64', devices: [{ name: 'cam32', dmaMask: 32 }] });
  const fd = alloc(r, 'default_cma_region', M);
  const h = attach(r, fd, 'cam32');
  assert.equal(r.k.devices.mapAttachment(h, DMA_TO_DEVICE), -Errno.ENOMEM);
  assert.ok(r.k.dmesg.includes('cam32: swiotlb buffer is full (sz: 1048576 bytes), total 32768 (slots), used 0 (slots)'));
  assert.equal(r.k.devices.swiotlb!.stats.full, 1);
  assert.match(h.lastError ?? '', /ENOMEM/);
  // RAM only above 4 GiB: ZONE_DMA covers all of it, so 6.1 makes no pool and a 32-bit device reaches nothing
  const tree = dts('/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; memory@100000000 { device_type = "memory"; reg = <0x1 0x0 0x0 0x40000000>; }; reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges; linux,cma { compatible = "shared-dma-pool"; reusable; size = <0x0 0x1000000>; linux,cma-default; }; }; };');
  const high = rig({ profile: '6.1', arch: 'arm64', devices: [{ name: 'd32', dmaMask: 32 }], board: tree });
  assert.equal(high.k.devices.swiotlb, null);
  const sys = attach(high, alloc(high, 'system', 8 * K), 'd32');
  assert.equal(high.k.devices.mapAttachment(sys, DMA_TO_DEVICE), -Errno.EIO);
  assert.ok(high.k.dmesg.some((l) => /^WARNING: d32: DMA addr 0x0000000[0-9a-f]{9}\+4096 overflow \(mask ffffffff, bus limit 0\)\.$/.test(l)));
  const cma = attach(high, alloc(high, 'linux,cma', 8 * K), 'd32'); // 6.1 names the heap after the area
  assert.equal(high.k.devices.mapAttachment(cma, DMA_TO_DEVICE), -Errno.ENOMEM);
  // 7.0 makes a 1 MiB kmalloc-bounce pool, but above 4 GiB too: the bounce buffer is out of reach
  const high7 = rig({ arch: 'arm64', devices: [{ name: 'd32', dmaMask: 32 }], board: tree });
  assert.equal(high7.k.devices.swiotlb?.start, 0x13ecfd000);
  assert.equal(high7.k.devices.mapAttachment(attach(high7, alloc(high7, 'system', 8 * K), 'd32'), DMA_TO_DEVICE), -Errno.EIO);
  assert.equal(high7.k.dmesg.at(-1), 'WARNING: d32: swiotlb addr 0x000000013ecfd000+4096 overflow (mask ffffffff, bus limit 0).');
  assert.equal(high7.k.devices.swiotlb!.stats.used, 0, 'the slots were given back');
  assert.equal(high.k.devices.get('d32')!.stats.mapFailures, 2);
});

test('swiotlb=force: a 64-bit device bounces everything through the pool; page-sized entries take page-aligned slots', () => {
  const r = rig({ cmdline: 'swiotlb=2048,force', devices: [{ name: 'nic', dmaMask: 64 }] });
  const fd = alloc(r, 'system', 8 * K);
  const h = attach(r, fd, 'nic');
  // the pool of the default 2 GiB QEMU pc starts at 0x7f800000 (dev-boards.test.ts)
  assert.deepEqual(r.k.devices.mapAttachment(h, DMA_FROM_DEVICE), {
    entries: [{ dmaAddr: 0x7f800000, length: 4096 }, { dmaAddr: 0x7f801000, length: 4096 }],
    bounced: true, iova: false,
  });
  // swiotlb_tbl_map_single() copies the original in whatever the direction
  assert.equal(r.k.devices.get('nic')!.stats.bounceCopies, 2);
});

test('IOMMU: a scattered system-heap buffer is one contiguous IOVA range, top-down in a 48-bit space, size-aligned', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64' });
  alloc(r, 'system', 4 * K); // fragments ZONE_NORMAL (above 4 GiB), where the next buffer comes from
  const fd = alloc(r, 'system', M + 4 * K);
  // (single pages come first from the fragment that arm64's early allocations, the linear map's page
  // tables and the unflattened tree, left below a max-order block at the top of RAM)
  assert.deepEqual(runs(r, fd), [[0x100000, 256], [0x4f6019, 1]], 'two sg entries, not adjacent');
  const h = attach(r, fd, 'fdc70000.video-codec');
  // 257 pages: aligned to 512 pages (2 MiB) below 2^48
  assert.deepEqual(r.k.devices.mapAttachment(h, DMA_BIDIRECTIONAL), { entries: [{ dmaAddr: 2 ** 48 - 2 * M, length: M + 4 * K }], bounced: false, iova: true });
  const small = attach(r, alloc(r, 'system', 12 * K), 'fdc70000.video-codec');
  // 3 pages round up to 4 (16 KiB), aligned to 16 KiB, under the first range
  assert.deepEqual(r.k.devices.mapAttachment(small, DMA_BIDIRECTIONAL), { entries: [{ dmaAddr: 2 ** 48 - 2 * M - 16 * K, length: 12 * K }], bounced: false, iova: true });
  assert.equal(r.k.devices.get('fdc70000.video-codec')!.iova!.allocated, M + 4 * K + 16 * K, '257 pages are not rounded up, only aligned');
  assert.equal(r.k.devices.unmapAttachment(h), 0);
  assert.equal(r.k.devices.get('fdc70000.video-codec')!.iova!.allocated, 16 * K);
  // the device reaches the pages through the IOVA: bytes land in the buffer
  const dev = r.k.devices.get('fdc70000.video-codec')!;
  assert.ok(r.k.devices.dmaAccess(dev, 2 ** 48 - 2 * M - 16 * K + 5, 3, bytes(3, 0x42)) instanceof Uint8Array);
  assert.deepEqual(devRead(r, small, 4, 5), Uint8Array.of(0, 0x42, 0x42, 0x42, 0));
  assert.equal(r.k.devices.dmaAccess(dev, 2 ** 48 - 2 * M, 4, null), -Errno.EFAULT, 'an unmapped IOVA faults');
});

test('a device that needs contiguous memory and has no IOMMU refuses a scattered system buffer (DRM: EINVAL, V4L2: EFAULT) and takes a CMA buffer', () => {
  // a machine whose RAM is all below 4 GiB, so that the drivers' own checks decide (on the imx8mp
  // board the SoC bus caps DMA below 4 GiB and system pages come from above: see the next test)
  const r = rig({ arch: 'arm64', cmdline: 'cma=64M', devices: [{ name: '32e00000.isi', model: 'camera', needsContiguous: true }, { name: '32e80000.display-controller', model: 'display', needsContiguous: true }] });
  alloc(r, 'system', 4 * K);
  const fd = alloc(r, 'system', M + 4 * K);
  const [first, second] = runs(r, fd);
  assert.ok(first !== undefined && second !== undefined && first[0] + first[1] !== second[0], 'two sg entries, not adjacent');
  const lcdif = r.k.devices.get('32e80000.display-controller')!;
  const h = attach(r, fd, '32e80000.display-controller');
  assert.equal(r.k.devices.mapAttachment(h, DMA_TO_DEVICE), -Errno.EINVAL);
  assert.equal(h.lastError, "buffer is not contiguous in the device's address space: 1048576 of 1052672 bytes (drm_gem_dma_prime_import_sg_table)");
  assert.deepEqual([lcdif.stats.maps, lcdif.stats.unmaps, lcdif.live.size], [1, 1, 0], 'mapped, checked, unmapped');
  const isi = attach(r, fd, '32e00000.isi');
  assert.equal(r.k.devices.mapAttachment(isi, DMA_FROM_DEVICE), -Errno.EFAULT);
  assert.equal(r.k.dmesg.at(-1), 'contiguous chunk is too small 1048576/1052672');
  const cma = alloc(r, 'default_cma_region', M + 4 * K);
  const ok = attach(r, cma, '32e80000.display-controller');
  const res = r.k.devices.mapAttachment(ok, DMA_TO_DEVICE);
  assert.ok(typeof res === 'object');
  assert.deepEqual([res.entries.length, res.entries[0]!.length, res.bounced], [1, M + 4 * K, false]);
  // a fresh allocator hands out adjacent chunks: a scattered table can happen to be contiguous ("sometimes it works")
  // (a fresh ZONE_NORMAL of an 8 GiB machine: the order-8 split leaves the next page right after the chunk)
  // (x86-64: no arm64 page tables at the top of RAM leave a fragment that small allocations come from first)
  const lucky = rig({ arch: 'x86_64', ramBytes: 8 * 1024 ** 3, devices: [{ name: '32e80000.display-controller', model: 'display', needsContiguous: true, dmaMask: 64 }] });
  // (allocated in the kernel and installed: no argument page of the process takes the first page)
  const luckyBuf = lucky.k.dmaHeap.bufferAlloc(lucky.k.dmaHeap.findByName('system')!, M + 4 * K, O_RDWR, 0n, null);
  assert.ok(typeof luckyBuf === 'object');
  const lh = attach(lucky, lucky.k.dmaBuf.fd(luckyBuf, lucky.p, O_RDWR), '32e80000.display-controller');
  const lr = lucky.k.devices.mapAttachment(lh, DMA_TO_DEVICE);
  assert.ok(typeof lr === 'object' && lr.entries.length === 2);
});

test('protected memory: any device attaches and maps (tee_heap_attach checks nothing), only an allowed device gets through the firewall', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64', devices: [{ name: 'secure-vdec', iommu: true, protectedAccess: true }] });
  const fd = alloc(r, 'protected,secure-video', 64 * K);
  const seen: DeviceAccessEvent[] = [];
  r.k.dmaBuf.events.on('deviceAccess', (e) => seen.push(e));
  const plain = attach(r, fd, 'fdc70000.video-codec');
  const secure = attach(r, fd, 'secure-vdec');
  assert.ok(typeof r.k.devices.mapAttachment(plain, DMA_BIDIRECTIONAL) === 'object');
  assert.ok(typeof r.k.devices.mapAttachment(secure, DMA_BIDIRECTIONAL) === 'object');
  assert.equal(r.k.devices.deviceWrite(plain, 0, bytes(4, 1)), -Errno.EACCES);
  assert.equal(r.k.devices.deviceRead(plain, 0, 4), -Errno.EACCES);
  assert.equal(r.k.devices.deviceWrite(secure, 0, bytes(4, 7)), 4);
  assert.deepEqual(devRead(r, secure, 0, 4), Uint8Array.of(7, 7, 7, 7));
  assert.equal(r.k.devices.get('fdc70000.video-codec')!.stats.faults, 2);
  assert.deepEqual(seen.map((e) => [e.device, e.write, e.attachment === plain.att || e.attachment === secure.att]), [
    ['fdc70000.video-codec', true, true], ['fdc70000.video-codec', false, true], ['secure-vdec', true, true], ['secure-vdec', false, true],
  ]);
});

test('stale DMA addresses: after unmap, after detach, after the buffer is freed the access is refused (EFAULT), memory untouched, reported with no attachment', () => {
  const r = rig({ board: board('imx8mp'), arch: 'arm64', devices: [{ name: 'dev', dmaMask: 32, coherent: true }] });
  const fd = alloc(r, 'system', 8 * K);
  const addr = map(r, fd, 8 * K);
  const seen: DeviceAccessEvent[] = [];
  r.k.dmaBuf.events.on('deviceAccess', (e) => seen.push(e));
  const h = attach(r, fd, 'dev');
  assert.equal(r.k.devices.deviceRead(h, 0, 4), -Errno.EINVAL, 'never mapped: no DMA address yet');
  assert.ok(typeof r.k.devices.mapAttachment(h, DMA_BIDIRECTIONAL) === 'object');
  assert.equal(r.k.devices.mapAttachment(h, DMA_BIDIRECTIONAL), -Errno.EBUSY);
  assert.equal(r.k.devices.deviceWrite(h, 0, bytes(2, 5)), 2);
  assert.equal(r.k.devices.deviceRead(h, 8 * K - 2, 4), -Errno.EINVAL, 'past the end');
  assert.equal(r.k.devices.unmapAttachment(h), 0);
  assert.equal(r.k.devices.deviceWrite(h, 0, bytes(2, 6)), -Errno.EFAULT);
  assert.equal(r.k.devices.detach(h), 0);
  assert.equal(r.k.devices.detach(h), -Errno.EINVAL);
  assert.equal(r.k.devices.deviceRead(h, 0, 2), -Errno.EFAULT);
  const buf = h.buf;
  r.p.munmap(addr, 8 * K);
  r.p.close(fd);
  assert.equal(r.k.dmaBuf.list.has(buf), false, 'freed');
  assert.equal(r.k.devices.deviceWrite(h, 0, bytes(2, 7)), -Errno.EFAULT);
  assert.deepEqual(seen.map((e) => [e.write, e.attachment === null, e.buf === buf]), [[true, false, true], [true, true, true], [false, true, true], [true, true, true]]);
  assert.equal(r.k.devices.get('dev')!.stats.faults, 3);
  assert.equal(h.lastError, 'stale DMA address (unmapped, detached or freed)');
});

test('detach while mapped leaks the mapping (the IOVA stays in use), as the heaps free their table copy without unmapping', () => {
  const r = rig({ board: board('rk3588'), arch: 'arm64' });
  const h = attach(r, alloc(r, 'system', 8 * K), 'fdcb0000.isp');
  assert.ok(typeof r.k.devices.mapAttachment(h, DMA_TO_DEVICE) === 'object');
  assert.equal(r.k.devices.detach(h), 0);
  const isp = r.k.devices.get('fdcb0000.isp')!;
  assert.deepEqual([isp.live.size, isp.iova!.allocated, isp.stats.unmaps], [1, 8 * K, 0]);
  assert.equal(r.k.devices.deviceRead(h, 0, 1), -Errno.EFAULT, 'the driver dropped its attachment');
});

test('attachFd errors: unknown device ENODEV, bad fd EBADF, not a dma-buf EINVAL; bufinfo lists dev_name, newest first', () => {
  const r = rig({ board: board('imx8mp'), arch: 'arm64' });
  const fd = alloc(r, 'system', 4 * K);
  assert.equal(r.k.devices.attachFd(r.p, fd, 'nope'), -Errno.ENODEV);
  assert.equal(r.k.devices.attachFd(r.p, 99, '32e00000.isi'), -Errno.EBADF);
  const heapFd = r.p.open('/dev/dma_heap/system', 2);
  assert.equal(r.k.devices.attachFd(r.p, heapFd, '32e00000.isi'), -Errno.EINVAL);
  attach(r, fd, '32e00000.isi');
  attach(r, fd, '38300000.video-codec');
  assert.match(r.k.readFile(r.k.init, '/sys/kernel/debug/dma_buf/bufinfo') as string, /\tAttached Devices:\n\t38300000\.video-codec\n\t32e00000\.isi\nTotal 2 devices attached\n/);
  assert.equal(r.k.devices.handles().length, 2);
});

test('a 32-bit device cannot reach a system buffer above 4 GiB, and swiotlb cannot bounce a 1 MiB chunk: EIO', () => {
  const r = rig({ board: board('imx8mp'), arch: 'arm64' });
  const fd = alloc(r, 'system', M);
  // (the process's argument page came from the fragment below the page tables at the top of RAM)
  assert.deepEqual(runs(r, fd), [[0x100000, 256]], 'ZONE_NORMAL first: above 4 GiB');
  const h = attach(r, fd, '32e80000.display-controller');
  // a bounce slot holds at most IO_TLB_SEGSIZE x 2 KiB = 256 KiB (swiotlb_max_mapping_size)
  assert.equal(r.k.devices.mapAttachment(h, DMA_TO_DEVICE), -Errno.EIO);
  const small = attach(r, alloc(r, 'system', 64 * K), '32e80000.display-controller');
  const m = r.k.devices.mapAttachment(small, DMA_TO_DEVICE);
  assert.ok(typeof m === 'object' && m.bounced, 'a 64 KiB chunk bounces');
});
