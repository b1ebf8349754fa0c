/**
 * The streaming DMA API for sg tables: dma_map_sgtable(), dma_unmap_sgtable() and
 * dma_sync_sgtable_for_{cpu,device}(), for devices mapped directly (dma-direct, with swiotlb
 * bouncing when a page is out of reach) and devices behind an IOMMU (dma-iommu: one contiguous
 * IOVA range for the whole table), with the arm64 cache maintenance of non-coherent devices
 * applied to the cache model. Plus the device side: a device reading or writing through the
 * addresses a mapping gave it.
 *
 * The kernel keeps the DMA addresses in the sg table itself; here a mapping object is attached
 * to the table (a WeakMap keyed by the table), which is what dmaMappingOf() returns. The table
 * must list the buffer's pages in buffer order (every heap's does), and `mem` reaches their bytes
 * (sg_page() + kmap in the kernel).
 *
 * @kernel kernel/dma/mapping.c dma_map_sgtable, __dma_map_sg_attrs, dma_unmap_sg_attrs,
 *   dma_sync_sg_for_cpu, dma_sync_sg_for_device; kernel/dma/direct.c dma_direct_map_sg,
 *   dma_direct_unmap_sg, dma_direct_sync_sg_for_{cpu,device}; kernel/dma/direct.h
 *   dma_direct_map_page, dma_direct_unmap_page, dma_direct_sync_single_for_{cpu,device};
 *   kernel/dma/swiotlb.c swiotlb_map, swiotlb_tbl_map_single, swiotlb_tbl_unmap_single,
 *   swiotlb_sync_single_for_{cpu,device}, swiotlb_bounce; drivers/iommu/dma-iommu.c
 *   iommu_dma_map_sg, __finalise_sg, iommu_dma_unmap_sg, iommu_dma_sync_sg_for_{cpu,device}
 */
import { Errno } from '../../uapi/errno.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../dma-buf/dma-buf.js';
import type { DmaDirection, SgEntry } from '../dma-buf/dma-buf.js';
import type { KResult } from '../result.js';
import { forPageChunks } from '../mm/page.js';
import type { BufferPages } from './cache.js';
import type { Device } from './device.js';
import type { IovaRange } from './iova.js';
import type { SwiotlbPool } from './swiotlb.js';

const E = Errno;

/** include/linux/dma-mapping.h DMA_ATTR_SKIP_CPU_SYNC */
export const DMA_ATTR_SKIP_CPU_SYNC = 1 << 5;
/**
 * The largest DMA segment dma-iommu merges into: dma_get_max_seg_size(). The emulated drivers
 * raise it to UINT_MAX as DRM drivers and vb2_dma_contig_set_max_seg_size() do.
 */
export const MAX_SEGMENT_SIZE = 0xffffffff;

/** One DMA segment as the device sees it (sg_dma_address, sg_dma_len). */
export interface DmaSegment {
  readonly dmaAddr: number;
  readonly length: number;
}

/** The outcome of a mapping, for tools and tests. */
export interface DmaMapResult {
  /** The DMA segments (nents of them). */
  readonly entries: readonly DmaSegment[];
  /** Some entry goes through a swiotlb bounce buffer. */
  readonly bounced: boolean;
  /** Mapped through the device's IOMMU. */
  readonly iova: boolean;
}

interface Bounce {
  readonly pool: SwiotlbPool;
  readonly slot: number;
  /** Physical address of the bounce buffer. */
  readonly phys: number;
}

/** One CPU sg entry and where the device reaches it. */
export interface MappedEntry {
  readonly pfn: number;
  readonly length: number;
  /** Byte offset of the entry in the buffer. */
  readonly bufOffset: number;
  /** Device address of its first byte. */
  readonly dmaAddr: number;
  readonly tlb: Bounce | null;
}

/** A mapped sg table (the DMA side of struct sg_table after dma_map_sgtable()). */
export class DmaMapping {
  /** Until dma_unmap_sgtable(). */
  live = true;
  constructor(
    readonly dev: Device | null,
    readonly sgt: readonly SgEntry[],
    readonly dir: DmaDirection,
    readonly attrs: number,
    readonly mem: BufferPages,
    readonly segs: readonly MappedEntry[],
    readonly entries: readonly DmaSegment[],
    readonly iova: IovaRange | null,
  ) {}

  get bounced(): boolean {
    return this.segs.some((s) => s.tlb !== null);
  }

  result(): DmaMapResult {
    return { entries: this.entries.map((e) => ({ ...e })), bounced: this.bounced, iova: this.iova !== null };
  }

  /** Bytes mapped. */
  get length(): number {
    return this.segs.reduce((n, s) => n + s.length, 0);
  }

  /** The entry holding buffer offset `off`, or null. */
  segAt(off: number): MappedEntry | null {
    for (const s of this.segs) if (off >= s.bufOffset && off < s.bufOffset + s.length) return s;
    return null;
  }

  /** The buffer offset a device address `addr` reaches through this mapping, or -1. */
  offsetOf(addr: number): number {
    for (const s of this.segs) if (addr >= s.dmaAddr && addr < s.dmaAddr + s.length) return s.bufOffset + (addr - s.dmaAddr);
    return -1;
  }

  /**
   * The size of the first run of DMA-contiguous segments (drm_prime_get_contiguous_size(),
   * vb2_dc_get_contiguous_size()).
   */
  contiguousSize(): number {
    const first = this.entries[0];
    if (first === undefined) return 0;
    let next = first.dmaAddr;
    let size = 0;
    for (const e of this.entries) {
      if (e.dmaAddr !== next) break;
      size += e.length;
      next = e.dmaAddr + e.length;
    }
    return size;
  }
}

const tables = new WeakMap<readonly SgEntry[], DmaMapping>();

/** The mapping a table carries (sg_dma_address and friends), or null when it is not mapped. */
export function dmaMappingOf(sgt: readonly SgEntry[]): DmaMapping | null {
  const m = tables.get(sgt);
  return m !== undefined && m.live ? m : null;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(16, '0')}`;

/**
 * dma_map_sgtable(): 0 → the mapping, or -EIO (a page out of reach with no swiotlb, swiotlb
 * full or a bounce buffer out of reach) / -ENOMEM (no IOVA space). A null device maps 1:1
 * without cache maintenance (an attachment made with a bare name).
 */
export function dmaMapSgtable(dev: Device | null, sgt: readonly SgEntry[], dir: DmaDirection, mem: BufferPages, attrs = 0): KResult<DmaMapping> {
  const ps = mem.pageSize;
  // a non-coherent device touching the buffer switches the cache model on for it
  if (dev !== null && !dev.coherent) dev.ctx.cache.track(mem);
  const r = dev === null ? mapIdentity(sgt, dir, mem, ps) : dev.iommu ? iommuMapSg(dev, sgt, dir, mem, attrs) : directMapSg(dev, sgt, dir, mem, attrs);
  if (typeof r === 'number') {
    if (dev !== null) dev.stats.mapFailures++;
    return r;
  }
  tables.set(sgt, r);
  if (dev !== null) {
    dev.live.add(r);
    dev.stats.maps++;
    if (r.bounced) dev.stats.bouncedMaps++;
    if (r.iova !== null) dev.stats.iovaMaps++;
  }
  return r;
}

function layout(sgt: readonly SgEntry[]): { pfn: number; length: number; bufOffset: number }[] {
  let off = 0;
  return sgt.map((e) => {
    const o = { pfn: e.pfn, length: e.length, bufOffset: off };
    off += e.length;
    return o;
  });
}

function mapIdentity(sgt: readonly SgEntry[], dir: DmaDirection, mem: BufferPages, ps: number): DmaMapping {
  const segs = layout(sgt).map((s) => ({ ...s, dmaAddr: s.pfn * ps, tlb: null }));
  return new DmaMapping(null, sgt, dir, 0, mem, segs, segs.map((s) => ({ dmaAddr: s.dmaAddr, length: s.length })), null);
}

/**
 * dma_direct_map_sg(): each entry through dma_direct_map_page(): bounce when the device is
 * forced to (swiotlb=force, a restricted pool) or cannot reach the page and a swiotlb exists;
 * fail when it cannot and none exists; otherwise clean the CPU caches for a non-coherent device.
 * A failure unmaps what was mapped (without syncing) and returns -EIO.
 */
function directMapSg(dev: Device, sgt: readonly SgEntry[], dir: DmaDirection, mem: BufferPages, attrs: number): KResult<DmaMapping> {
  const ps = mem.pageSize;
  const segs: MappedEntry[] = [];
  const fail = (): number => {
    for (const s of segs) if (s.tlb !== null) s.tlb.pool.release(s.tlb.slot);
    return -E.EIO;
  };
  for (const e of layout(sgt)) {
    const phys = e.pfn * ps;
    const dmaAddr = phys - dev.dmaOffset;
    if (dev.forceBounce || !dev.dmaCapable(dmaAddr, e.length)) {
      if (dev.ioTlb === null) {
        dev.ctx.log(`WARNING: ${dev.devName}: DMA addr ${hex(dmaAddr)}+${e.length} overflow (mask ${maskHex(dev)}, bus limit ${busLimitHex(dev)}).`);
        return fail();
      }
      const b = swiotlbMap(dev, dev.ioTlb, mem, e, dir, attrs);
      if (b === null) return fail();
      segs.push({ ...e, dmaAddr: b.phys - dev.dmaOffset, tlb: b });
      continue;
    }
    if (!dev.coherent && (attrs & DMA_ATTR_SKIP_CPU_SYNC) === 0) archSyncForDevice(dev, mem, e.bufOffset, e.length);
    segs.push({ ...e, dmaAddr, tlb: null });
  }
  // dma-direct does not merge segments: one DMA segment per CPU entry
  return new DmaMapping(dev, sgt, dir, attrs, mem, segs, segs.map((s) => ({ dmaAddr: s.dmaAddr, length: s.length })), null);
}

const maskHex = (dev: Device): string => (dev.dmaMask >= 64 ? 'ffffffffffffffff' : (2 ** dev.dmaMask - 1).toString(16));
const busLimitHex = (dev: Device): string => dev.busDmaLimit.toString(16);

/**
 * swiotlb_map() → swiotlb_tbl_map_single(): take slots (failing: "swiotlb buffer is full"),
 * copy the original into them whatever the direction (so a partial device write cannot expose
 * stale bounce data), check the bounce buffer is reachable, and (non-coherent) clean it — the
 * bounce pool itself is not cache-modelled, the CPU copy is what matters.
 */
function swiotlbMap(dev: Device, pool: SwiotlbPool, mem: BufferPages, e: { pfn: number; length: number; bufOffset: number }, _dir: DmaDirection, _attrs: number): Bounce | null {
  const ps = mem.pageSize;
  const slot = pool.findSlots(e.pfn * ps, e.length);
  if (slot < 0) {
    dev.ctx.log(`${dev.devName}: swiotlb buffer is full (sz: ${e.length} bytes), total ${pool.nslabs} (slots), used ${pool.stats.used} (slots)`);
    return null;
  }
  const b: Bounce = { pool, slot, phys: pool.slotAddr(slot) };
  bounce(dev, mem, e.bufOffset, e.length, b, DMA_TO_DEVICE);
  const dma = b.phys - dev.dmaOffset;
  if (!dev.dmaCapable(dma, e.length)) {
    pool.release(slot);
    dev.ctx.log(`WARNING: ${dev.devName}: swiotlb addr ${hex(dma)}+${e.length} overflow (mask ${maskHex(dev)}, bus limit ${busLimitHex(dev)}).`);
    return null;
  }
  return b;
}

/**
 * swiotlb_bounce(): a CPU memcpy between the original pages (through the CPU caches) and the
 * bounce buffer: DMA_TO_DEVICE copies original → bounce, otherwise bounce → original.
 */
function bounce(dev: Device, mem: BufferPages, bufOffset: number, length: number, b: Bounce, dir: DmaDirection): void {
  const ps = mem.pageSize;
  const cache = dev.ctx.cache;
  const toDevice = dir === DMA_TO_DEVICE;
  cache.cpuAccess(mem, bufOffset, length, !toDevice);
  forPageChunks(ps, bufOffset, length, (page, inPage, n, done) => {
    const ref = mem.page(page, !toDevice);
    if (ref === null) return;
    if (toDevice) b.pool.write(b.phys + done, ref.data, ref.off + inPage, n);
    else b.pool.read(b.phys + done, ref.data, ref.off + inPage, n);
  });
  dev.stats.bounceCopies++;
  dev.stats.bounceBytes += length;
}

/**
 * iommu_dma_map_sg(): one IOVA range for the whole table (sizes are page multiples here, so no
 * padding between segments), the pages mapped into it, CPU caches cleaned for a non-coherent
 * device; __finalise_sg() then merges the segments into as few DMA segments as the maximum
 * segment size allows — one for any buffer below 4 GiB. No IOVA space → -ENOMEM.
 */
function iommuMapSg(dev: Device, sgt: readonly SgEntry[], dir: DmaDirection, mem: BufferPages, attrs: number): KResult<DmaMapping> {
  const lay = layout(sgt);
  const total = lay.reduce((n, e) => n + e.length, 0);
  const range = dev.iova!.alloc(Math.ceil(total / mem.pageSize) * mem.pageSize);
  if (range === null) return -E.ENOMEM;
  const segs: MappedEntry[] = lay.map((e) => ({ ...e, dmaAddr: range.base + e.bufOffset, tlb: null }));
  if (!dev.coherent && (attrs & DMA_ATTR_SKIP_CPU_SYNC) === 0) for (const s of segs) archSyncForDevice(dev, mem, s.bufOffset, s.length);
  const entries: DmaSegment[] = [];
  let cur: { dmaAddr: number; length: number } | null = null;
  for (const s of segs) {
    if (cur !== null && cur.dmaAddr + cur.length === s.dmaAddr && cur.length + s.length <= MAX_SEGMENT_SIZE) cur.length += s.length;
    else {
      if (cur !== null) entries.push(cur);
      cur = { dmaAddr: s.dmaAddr, length: s.length };
    }
  }
  if (cur !== null) entries.push(cur);
  return new DmaMapping(dev, sgt, dir, attrs, mem, segs, entries, range);
}

/**
 * dma_unmap_sgtable(): sync for the CPU (arch invalidate, bounce back for FROM_DEVICE and
 * BIDIRECTIONAL) unless DMA_ATTR_SKIP_CPU_SYNC, then release the bounce slots or the IOVA range.
 * Unmapping a table that is not mapped does nothing (the kernel's dma-debug would complain).
 */
export function dmaUnmapSgtable(dev: Device | null, sgt: readonly SgEntry[], dir: DmaDirection, attrs = 0): void {
  const m = dmaMappingOf(sgt);
  if (m === null) return;
  if (dev !== null) {
    if ((attrs & DMA_ATTR_SKIP_CPU_SYNC) === 0) syncForCpu(dev, m, dir);
    for (const s of m.segs) if (s.tlb !== null) s.tlb.pool.release(s.tlb.slot);
    if (m.iova !== null) dev.iova?.free(m.iova);
    dev.live.delete(m);
    dev.stats.unmaps++;
  }
  m.live = false;
  tables.delete(sgt);
}

/** dma_sync_sgtable_for_cpu() */
export function dmaSyncSgtableForCpu(dev: Device | null, sgt: readonly SgEntry[], dir: DmaDirection): void {
  const m = dmaMappingOf(sgt);
  if (m === null || dev === null) return;
  dev.stats.syncsForCpu++;
  syncForCpu(dev, m, dir);
}

/** dma_sync_sgtable_for_device() */
export function dmaSyncSgtableForDevice(dev: Device | null, sgt: readonly SgEntry[], dir: DmaDirection): void {
  const m = dmaMappingOf(sgt);
  if (m === null || dev === null) return;
  dev.stats.syncsForDevice++;
  for (const s of m.segs) {
    // dma_direct_sync_single_for_device(): bounce first, then clean (the bounce buffer when bounced)
    if (s.tlb !== null) {
      if (dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL) bounce(dev, m.mem, s.bufOffset, s.length, s.tlb, DMA_TO_DEVICE);
    } else if (!dev.coherent) archSyncForDevice(dev, m.mem, s.bufOffset, s.length);
  }
}

/**
 * dma_direct_sync_single_for_cpu() per entry: invalidate (non-coherent; the bounce buffer when
 * bounced, which is not cache-modelled), then copy the bounce buffer back for FROM_DEVICE and
 * BIDIRECTIONAL.
 */
function syncForCpu(dev: Device, m: DmaMapping, dir: DmaDirection): void {
  for (const s of m.segs) {
    if (s.tlb === null) {
      if (!dev.coherent && dir !== DMA_TO_DEVICE) archSyncForCpu(dev, m.mem, s.bufOffset, s.length);
      continue;
    }
    if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) bounce(dev, m.mem, s.bufOffset, s.length, s.tlb, DMA_FROM_DEVICE);
  }
}

/** arch_sync_dma_for_device() on arm64: clean to the point of coherency, every direction. */
function archSyncForDevice(dev: Device, mem: BufferPages, bufOffset: number, length: number): void {
  dev.ctx.cache.cleanRange(mem, bufOffset, length);
}

/** arch_sync_dma_for_cpu() on arm64: invalidate (the caller skips DMA_TO_DEVICE). */
function archSyncForCpu(dev: Device, mem: BufferPages, bufOffset: number, length: number): void {
  dev.ctx.cache.invalidateRange(mem, bufOffset, length);
}

/**
 * The device moves bytes through a live mapping: `length` bytes at buffer offset `offset`,
 * read into the result or written from `data`. Bounced entries use the bounce buffer; others
 * the memory (through the cache model: the CPU view for a coherent device, memory otherwise).
 * The caller has checked the range and that the mapping is live.
 */
export function deviceTransfer(m: DmaMapping, offset: number, length: number, data: Uint8Array | null): Uint8Array {
  const dev = m.dev;
  const coherent = dev === null || dev.coherent;
  const cache = dev?.ctx.cache ?? null;
  const ps = m.mem.pageSize;
  const out = data ?? new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const at = offset + done;
    const s = m.segAt(at);
    if (s === null) break;
    const inSeg = at - s.bufOffset;
    if (s.tlb !== null) {
      const n = Math.min(length - done, s.length - inSeg);
      if (data === null) s.tlb.pool.read(s.tlb.phys + inSeg, out, done, n);
      else s.tlb.pool.write(s.tlb.phys + inSeg, data, done, n);
      done += n;
      continue;
    }
    const page = Math.floor(at / ps);
    const off = at - page * ps;
    const n = Math.min(length - done, ps - off, s.length - inSeg);
    if (cache === null) {
      const ref = m.mem.page(page, data !== null);
      if (ref !== null) {
        if (data === null) out.set(ref.data.subarray(ref.off + off, ref.off + off + n), done);
        else ref.data.set(data.subarray(done, done + n), ref.off + off);
      }
    } else if (data === null) cache.deviceRead(m.mem, page, off, out, done, n, coherent);
    else cache.deviceWrite(m.mem, page, off, data, done, n, coherent);
    done += n;
  }
  if (dev !== null) {
    if (data === null) {
      dev.stats.dmaReads++;
      dev.stats.dmaReadBytes += length;
    } else {
      dev.stats.dmaWrites++;
      dev.stats.dmaWriteBytes += length;
    }
  }
  return out;
}

/** The live mapping of `dev` that device address `addr` falls in, or null (an IOMMU fault / a wild DMA). */
export function mappingAt(dev: Device, addr: number): DmaMapping | null {
  for (const m of dev.live) {
    const dm = m as DmaMapping;
    if (dm.offsetOf(addr) >= 0) return dm;
  }
  return null;
}
