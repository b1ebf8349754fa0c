/**
 * The devices of a kernel instance (`kernel.devices`): made at boot from the board's device tree
 * and KernelConfig.devices, with the swiotlb pools and the cache model they share; and the
 * importer-driver side a test process drives by device name and dma-buf fd: attach (taking a
 * reference with dma_buf_get()), map, DMA reads and writes through the mapping, syncs, unmap,
 * detach (dropping the reference).
 *
 * The emulated importer drivers behave like the kernel's helpers: a display or copy engine like
 * a DRM driver on the GEM DMA helpers (drm_gem_prime_import_dev → drm_gem_dma_prime_import_sg_table:
 * a table not contiguous in the device's address space is EINVAL), a camera or codec like a V4L2
 * driver on videobuf2-dma-contig (vb2_dc_map_dmabuf: "contiguous chunk is too small", EFAULT);
 * the contiguity check applies to devices that need contiguous buffers. They raise their maximum
 * DMA segment to UINT_MAX (so an IOMMU maps any buffer as one segment) and map once per
 * attachment.
 *
 * @kernel drivers/gpu/drm/drm_prime.c drm_gem_prime_import_dev, drm_prime_get_contiguous_size;
 *   drivers/gpu/drm/drm_gem_dma_helper.c drm_gem_dma_prime_import_sg_table;
 *   drivers/media/common/videobuf2/videobuf2-dma-contig.c vb2_dc_map_dmabuf
 */
import { Errno, errnoName } from '../../uapi/errno.js';
import type { DmaBuf, DmaBufAttachment, DmaBufCore, DmaDirection, SgEntry } from '../dma-buf/dma-buf.js';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../dma-buf/dma-buf.js';
import type { Process } from '../fs/process.js';
import type { Arch } from '../mm/page.js';
import type { ReservedRegion } from '../of/reserved-mem.js';
import type { DeviceTree } from '../of/tree.js';
import type { KResult } from '../result.js';
import { CacheModel } from './cache.js';
import type { BufferPages, CacheCostConfig } from './cache.js';
import { Device, devicesFromTree } from './device.js';
import type { DeviceConfig, DeviceInit, DmaContext, DtDeviceInfo } from './device.js';
import { deviceTransfer, dmaMappingOf, dmaSyncSgtableForCpu, dmaSyncSgtableForDevice, mappingAt } from './dma-mapping.js';
import type { DmaMapResult, DmaMapping } from './dma-mapping.js';
import { IovaAllocator } from './iova.js';
import { DeviceModels } from './models.js';
import { IO_TLB_SHIFT, SwiotlbPool } from './swiotlb.js';
import type { SwiotlbReservation } from './swiotlb.js';

const E = Errno;

/** The IOMMU input address size the IOVA spaces use (a common SMMU configuration): 48 bits. */
export const IOVA_BITS = 48;

export interface DeviceRegistryInit {
  readonly arch: Arch;
  readonly pageSize: number;
  readonly dmaBuf: DmaBufCore;
  readonly board: DeviceTree | null;
  /** The memory plan's reserved regions (memory-region phandles resolve against them). */
  readonly regions: readonly ReservedRegion[];
  /** The default swiotlb pool boot reserved, or null. */
  readonly swiotlb: SwiotlbReservation | null;
  readonly configDevices: readonly DeviceConfig[];
  readonly cacheCost: CacheCostConfig | null;
  log(line: string): void;
}

/** An importer's attachment as a test process holds it (the driver's dma_buf_attachment + sg_table). */
export interface AttachmentHandle {
  readonly id: number;
  readonly device: Device;
  readonly buf: DmaBuf;
  readonly att: DmaBufAttachment;
  /** Attached with importer ops (dma_buf_dynamic_attach). */
  readonly dynamic: boolean;
  /** The table dma_buf_map_attachment() returned, until unmapped. */
  sgt: SgEntry[] | null;
  dir: DmaDirection | null;
  /** The DMA mapping the driver last got addresses from (kept after unmap: a stale address). */
  mapping: DmaMapping | null;
  detached: boolean;
  /** move_notify calls received (dynamic importers). */
  moveNotifications: number;
  /** Why the last call failed, in words. */
  lastError: string | null;
}

/** Options of attachFd(). */
export interface AttachOptions {
  /** Attach as a dynamic importer (with move_notify). */
  readonly dynamic?: boolean;
}

/** Per-device statistics and the shared pools, for tools. */
export interface DeviceRegistryStats {
  readonly devices: Readonly<Record<string, Device['stats']>>;
  readonly swiotlb: SwiotlbPool['stats'] | null;
  readonly cache: CacheModel['stats'];
}

export class DeviceRegistry {
  readonly cache: CacheModel;
  /** io_tlb_default_mem's pool, or null when boot did not allocate one. */
  readonly swiotlb: SwiotlbPool | null;
  /** `restricted-dma-pool` regions in use, by region path. */
  readonly restrictedPools = new Map<string, SwiotlbPool>();
  readonly ctx: DmaContext;
  /** The camera, display, copy-engine and codec operations. */
  readonly models: DeviceModels;
  private readonly devs: Device[] = [];
  private readonly handlesById = new Map<number, AttachmentHandle>();
  private readonly byMapping = new WeakMap<DmaMapping, AttachmentHandle>();
  private lastId = 0;
  private readonly dmaBuf: DmaBufCore;
  private readonly swiotlbForce: boolean;

  constructor(private readonly init: DeviceRegistryInit) {
    this.dmaBuf = init.dmaBuf;
    this.cache = new CacheModel(init.pageSize, init.arch, init.dmaBuf.events, init.cacheCost);
    this.ctx = { arch: init.arch, pageSize: init.pageSize, cache: this.cache, log: (l) => init.log(l) };
    const t = init.swiotlb;
    this.swiotlb = t !== null && t.nslabs > 0 ? new SwiotlbPool('default', t.base, t.nslabs, init.pageSize, t.force) : null;
    this.swiotlbForce = t?.force ?? false;
    this.models = new DeviceModels(this);
    const dt = init.board === null ? [] : devicesFromTree(init.board, init.regions, init.arch);
    const fromConfig: DeviceConfig[] = [];
    const merged = new Map<DtDeviceInfo, DeviceConfig>();
    for (const c of init.configDevices) {
      const d = dt.find((x) => x.path === c.name || x.devName === c.name);
      if (d !== undefined) merged.set(d, c);
      else fromConfig.push(c);
    }
    for (const d of dt) {
      this.devs.push(this.make(this.dtInit(d, merged.get(d) ?? null)));
    }
    for (const c of fromConfig) this.devs.push(this.make(this.configInit(c)));
  }

  private dtInit(d: DtDeviceInfo, c: DeviceConfig | null): DeviceInit {
    const iommu = c?.iommu ?? d.iommu;
    return {
      name: d.path,
      devName: d.devName,
      source: c === null ? 'dt' : 'dt+config',
      dmaMask: c?.dmaMask ?? (c?.iommu === true && !d.iommu ? 64 : d.dmaMask),
      busDmaLimit: d.busDmaLimit,
      dmaOffset: c?.dmaOffset ?? d.dmaOffset,
      iommu,
      coherent: this.init.arch === 'x86_64' ? true : (c?.coherent ?? d.coherent),
      needsContiguous: c?.needsContiguous ?? (iommu ? false : d.needsContiguous),
      protectedAccess: c?.protectedAccess ?? d.protectedAccess,
      model: c?.model ?? null,
      compatible: d.compatible,
      memoryRegions: d.regions,
      ...this.tlbFor(iommu ? null : d.restrictedPool),
      iova: null,
    };
  }

  private configInit(c: DeviceConfig): DeviceInit {
    const iommu = c.iommu ?? false;
    return {
      name: c.name,
      devName: c.name,
      source: 'config',
      dmaMask: c.dmaMask ?? (iommu ? 64 : 32),
      busDmaLimit: 0,
      dmaOffset: c.dmaOffset ?? 0,
      iommu,
      coherent: this.init.arch === 'x86_64' ? true : (c.coherent ?? false),
      needsContiguous: c.needsContiguous ?? false,
      protectedAccess: c.protectedAccess ?? false,
      model: c.model ?? null,
      compatible: [],
      memoryRegions: [],
      ...this.tlbFor(null),
      iova: null,
    };
  }

  /** dev->dma_io_tlb_mem: a restricted pool (always bounces) or the default pool. */
  private tlbFor(restricted: ReservedRegion | null): { ioTlb: SwiotlbPool | null; forceBounce: boolean } {
    if (restricted !== null) {
      let pool = this.restrictedPools.get(restricted.path);
      if (pool === undefined) {
        pool = new SwiotlbPool(restricted.name, restricted.base, Math.floor(restricted.size / 2 ** IO_TLB_SHIFT), this.init.pageSize, true);
        this.restrictedPools.set(restricted.path, pool);
      }
      return { ioTlb: pool, forceBounce: true };
    }
    return { ioTlb: this.swiotlb, forceBounce: this.swiotlb !== null && this.swiotlbForce };
  }

  private make(i: DeviceInit): Device {
    const iova = i.iommu ? new IovaAllocator(this.init.pageSize, 2 ** Math.min(i.dmaMask, IOVA_BITS)) : null;
    return new Device({ ...i, iova }, this.ctx);
  }

  /** Every device, DT devices first (tree order), then configured ones. */
  list(): readonly Device[] {
    return this.devs;
  }

  /** A device by name (DT path or configured name) or dev_name, or null. */
  get(name: string): Device | null {
    return this.devs.find((d) => d.name === name) ?? this.devs.find((d) => d.devName === name) ?? null;
  }

  /** Adds a device after boot (hotplug); EEXIST when the name is taken. */
  add(c: DeviceConfig): KResult<Device> {
    if (this.get(c.name) !== null) return -E.EEXIST;
    const d = this.make(this.configInit(c));
    this.devs.push(d);
    return d;
  }

  stats(): DeviceRegistryStats {
    const devices: Record<string, Device['stats']> = {};
    for (const d of this.devs) devices[d.name] = { ...d.stats };
    return { devices, swiotlb: this.swiotlb === null ? null : { ...this.swiotlb.stats }, cache: { ...this.cache.stats } };
  }

  // ---- the importer driver, driven from a test process ----------------------------------

  /** A handle by id, or null. */
  handle(id: number): AttachmentHandle | null {
    return this.handlesById.get(id) ?? null;
  }

  /** Live (not detached) handles. */
  handles(): AttachmentHandle[] {
    return [...this.handlesById.values()].filter((h) => !h.detached);
  }

  /**
   * dma_buf_get(fd) (EBADF, EINVAL for a file that is not a dma-buf) and dma_buf_attach() (or
   * dma_buf_dynamic_attach()) for the named device (ENODEV when there is none). The handle keeps
   * the buffer reference until detach().
   */
  attachFd(proc: Process, fd: number, deviceName: string, opts: AttachOptions = {}): KResult<AttachmentHandle> {
    const dev = this.get(deviceName);
    if (dev === null) return -E.ENODEV;
    const buf = this.dmaBuf.get(proc, fd);
    if (typeof buf === 'number') return buf;
    const holder: { h: AttachmentHandle | null } = { h: null };
    const att = opts.dynamic === true
      ? this.dmaBuf.dynamicAttach(buf, dev, { moveNotify: () => { if (holder.h !== null) holder.h.moveNotifications++; } }, null)
      : this.dmaBuf.attach(buf, dev);
    if (typeof att === 'number') {
      this.dmaBuf.put(buf);
      return att;
    }
    const h: AttachmentHandle = { id: ++this.lastId, device: dev, buf, att, dynamic: opts.dynamic === true, sgt: null, dir: null, mapping: null, detached: false, moveNotifications: 0, lastError: null };
    holder.h = h;
    this.handlesById.set(h.id, h);
    return h;
  }

  /**
   * dma_buf_map_attachment() and the importer's check: a device that needs contiguous buffers
   * refuses a table whose DMA segments are not one contiguous run (DRM: EINVAL; V4L2: EFAULT,
   * after unmapping). EINVAL after detach; EBUSY when already mapped through this handle. The
   * exporter's own errors are returned as they are.
   */
  mapAttachment(h: AttachmentHandle, dir: DmaDirection): KResult<DmaMapResult> {
    if (h.detached) return this.fail(h, -E.EINVAL, 'the attachment was detached');
    if (h.sgt !== null) return this.fail(h, -E.EBUSY, 'already mapped');
    const sgt = this.dmaBuf.mapAttachment(h.att, dir);
    if (typeof sgt === 'number') return this.fail(h, sgt, `dma_buf_map_attachment failed: ${errnoName(-sgt) ?? sgt}`);
    const m = dmaMappingOf(sgt);
    const dev = h.device;
    if (dev.needsContiguous && m !== null) {
      const contig = m.contiguousSize();
      if (contig < h.buf.size) {
        this.dmaBuf.unmapAttachment(h.att, sgt, dir);
        if (dev.model === 'camera' || dev.model === 'codec') {
          this.ctx.log(`contiguous chunk is too small ${contig}/${h.buf.size}`);
          return this.fail(h, -E.EFAULT, `contiguous chunk is too small ${contig}/${h.buf.size} (vb2_dc_map_dmabuf)`);
        }
        return this.fail(h, -E.EINVAL, `buffer is not contiguous in the device's address space: ${contig} of ${h.buf.size} bytes (drm_gem_dma_prime_import_sg_table)`);
      }
    }
    h.sgt = sgt;
    h.dir = dir;
    h.mapping = m;
    h.lastError = null;
    if (m !== null) this.byMapping.set(m, h);
    return m?.result() ?? { entries: sgt.map((e) => ({ dmaAddr: e.pfn * this.init.pageSize, length: e.length })), bounced: false, iova: false };
  }

  private fail(h: AttachmentHandle, err: number, why: string): number {
    h.lastError = why;
    return err;
  }

  /** dma_buf_unmap_attachment() of the handle's table: EINVAL when not mapped. */
  unmapAttachment(h: AttachmentHandle): number {
    if (h.detached || h.sgt === null) return this.fail(h, -E.EINVAL, 'not mapped');
    this.dmaBuf.unmapAttachment(h.att, h.sgt, h.dir!);
    h.sgt = null;
    return 0;
  }

  /** dma_buf_detach() and dma_buf_put(): EINVAL when already detached. A mapped table stays mapped (leaked), as in Linux. */
  detach(h: AttachmentHandle): number {
    if (h.detached) return this.fail(h, -E.EINVAL, 'already detached');
    h.detached = true;
    this.dmaBuf.detach(h.att);
    this.dmaBuf.put(h.buf);
    return 0;
  }

  /** dma_sync_sgtable_for_cpu() by the driver (e.g. a V4L2 dqbuf): EINVAL when not mapped. */
  syncForCpu(h: AttachmentHandle, dir: DmaDirection = h.dir ?? 0): number {
    if (h.detached || h.sgt === null) return this.fail(h, -E.EINVAL, 'not mapped');
    dmaSyncSgtableForCpu(h.device, h.sgt, dir);
    return 0;
  }

  /** dma_sync_sgtable_for_device() by the driver (e.g. a V4L2 qbuf): EINVAL when not mapped. */
  syncForDevice(h: AttachmentHandle, dir: DmaDirection = h.dir ?? 0): number {
    if (h.detached || h.sgt === null) return this.fail(h, -E.EINVAL, 'not mapped');
    dmaSyncSgtableForDevice(h.device, h.sgt, dir);
    return 0;
  }

  /** The device reads `length` bytes at buffer offset `offset` through its mapping. */
  deviceRead(h: AttachmentHandle, offset: number, length: number): KResult<Uint8Array> {
    return this.transfer(h, offset, length, null);
  }

  /** The device writes `data` at buffer offset `offset` through its mapping: bytes written or -errno. */
  deviceWrite(h: AttachmentHandle, offset: number, data: Uint8Array): number {
    const r = this.transfer(h, offset, data.length, data);
    return typeof r === 'number' ? r : data.length;
  }

  /**
   * One DMA transfer through a handle. EINVAL: a range outside the buffer, or no mapping ever
   * made (the driver has no address). A stale mapping (unmapped, detached, or the buffer freed)
   * is reported to observers as an access with no attachment and refused with EFAULT without
   * touching memory. EACCES: protected memory and a device the firewall keeps out.
   * EOPNOTSUPP: an exporter whose table is not DMA-mapped (udmabuf here).
   */
  private transfer(h: AttachmentHandle, offset: number, length: number, data: Uint8Array | null): KResult<Uint8Array> {
    const buf = h.buf;
    const dev = h.device;
    const write = data !== null;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > buf.size) return this.fail(h, -E.EINVAL, 'range outside the buffer');
    const m = h.mapping;
    if (m === null) return this.fail(h, h.sgt !== null ? -E.EOPNOTSUPP : -E.EINVAL, h.sgt !== null ? 'the exporter did not DMA-map the table' : 'never mapped: the device has no DMA address');
    const live = m.live && !h.detached && h.sgt !== null && this.dmaBuf.list.has(buf);
    const events = this.dmaBuf.events;
    if (!live) {
      dev.stats.faults++;
      if (events.has('deviceAccess')) events.emit('deviceAccess', { buf, device: dev.devName, offset, length, write, attachment: null });
      return this.fail(h, -E.EFAULT, 'stale DMA address (unmapped, detached or freed)');
    }
    if (events.has('deviceAccess')) events.emit('deviceAccess', { buf, device: dev.devName, offset, length, write, attachment: h.att });
    if ((m.mem as BufferPages & { protectedMemory?: boolean }).protectedMemory === true && !dev.protectedAccess) {
      dev.stats.faults++;
      return this.fail(h, -E.EACCES, 'protected memory: the device is not allowed through the firewall');
    }
    if (iommuRefuses(m, write)) {
      dev.stats.faults++;
      return this.fail(h, -E.EFAULT, `IOMMU fault: a ${write ? 'write to' : 'read of'} a ${write ? 'DMA_TO_DEVICE (device read-only)' : 'DMA_FROM_DEVICE (device write-only)'} mapping`);
    }
    return deviceTransfer(m, offset, length, data);
  }

  /**
   * A DMA transfer at a raw device address (what the hardware does with an address it was
   * given): the live mapping of the device covering it, or EFAULT (an IOMMU fault, or a wild
   * address). The access is reported with the attachment that owns the mapping, if any.
   */
  dmaAccess(dev: Device, addr: number, length: number, data: Uint8Array | null): KResult<Uint8Array> {
    const m = mappingAt(dev, addr);
    const off = m === null ? -1 : m.offsetOf(addr);
    if (m === null || off < 0 || (length > 0 && m.offsetOf(addr + length - 1) !== off + length - 1)) {
      dev.stats.faults++;
      return -E.EFAULT;
    }
    const h = this.byMapping.get(m) ?? null;
    const buf = h?.buf ?? null;
    const events = this.dmaBuf.events;
    if (buf !== null && events.has('deviceAccess')) events.emit('deviceAccess', { buf, device: dev.devName, offset: off, length, write: data !== null, attachment: h !== null && !h.detached ? h.att : null });
    if ((m.mem as BufferPages & { protectedMemory?: boolean }).protectedMemory === true && !dev.protectedAccess) {
      dev.stats.faults++;
      return -E.EACCES;
    }
    if (iommuRefuses(m, data !== null)) {
      dev.stats.faults++;
      return -E.EFAULT;
    }
    return deviceTransfer(m, off, length, data);
  }
}

/**
 * The IOMMU maps each direction with the permissions it implies: DMA_TO_DEVICE read-only for the
 * device, DMA_FROM_DEVICE write-only, DMA_BIDIRECTIONAL both; any other access faults. A direct
 * mapping has no such check (nothing between the device and memory).
 * @kernel drivers/iommu/dma-iommu.c dma_info_to_prot
 */
function iommuRefuses(m: DmaMapping, write: boolean): boolean {
  if (m.iova === null) return false;
  return write ? m.dir === DMA_TO_DEVICE : m.dir === DMA_FROM_DEVICE;
}
