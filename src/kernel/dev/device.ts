/**
 * Devices that import dma-bufs (struct device as the DMA API sees it): DMA mask and bus limit,
 * the DMA offset of their bus, IOMMU, cache coherence, their reserved-memory regions, and the
 * emulator's own capability flags (needs contiguous memory, may access protected memory).
 *
 * Devices come from the board's device tree and from KernelConfig.devices.
 *
 * Device-tree rules (what of_platform_populate() + of_dma_configure_id() would give a platform
 * device whose driver probes):
 *
 * - Which nodes: every available node with `memory-region` or `iommus`, and every available
 *   node without child nodes that has `dma-coherent` or `dma-ranges` (on a bus node those two
 *   describe the children — of_dma_is_coherent() and of_dma_get_range() read them from the
 *   parents — so the bus itself is not a DMA master). Nodes under /reserved-memory, /chosen and /firmware
 *   and IOMMU providers (`#iommu-cells`) are not DMA masters here.
 * - Name: the node path (`/soc@0/isi@32e00000`); `devName` is dev_name() as
 *   of_device_make_bus_id() builds it (`32e00000.isi`: the `reg` address translated through
 *   the parents' `ranges`, a dot, the node name without unit address).
 * - `dma-ranges`: of_dma_get_range() from the parent upwards, the first non-empty
 *   `dma-ranges` (child bus address, parent address, size); the DMA offset is
 *   cpu address − bus address; the bus limit (bus_dma_limit) is the highest bus address.
 * - DMA mask (bits): platform devices start with a 32-bit coherent mask
 *   (of_platform_device_create_pdata); of_dma_configure_id() narrows it to
 *   ilog2(end) + 1 bits where `end` is the bus limit. Here: `dma-ranges` → ilog2(end) + 1
 *   (the driver asks for 64 bits and the bus limits it); none → 32; behind an IOMMU → 64
 *   (the driver's mask; IOVAs come from a 48-bit space, a common SMMU input size).
 * - IOMMU: an `iommus` property (of_iommu_configure() finds a translation).
 * - Coherent: of_dma_is_coherent(): `dma-coherent` on the node or an ancestor (`dma-noncoherent`
 *   stops the walk), else the architecture default: non-coherent on arm64
 *   (dma_default_coherent is false), always coherent on x86-64 (no arch cache maintenance:
 *   dev_is_dma_coherent() is true whatever the tree says).
 * - memory-region: the regions (by phandle) are the device's; the first `restricted-dma-pool`
 *   one becomes its private swiotlb that always bounces (of_dma_set_restricted_buffer(), only
 *   without an IOMMU).
 * - needsContiguous (emulator flag): no IOMMU and a `memory-region` — a device with its own
 *   carve-out is a device that needs physically contiguous buffers.
 * - protectedAccess (emulator flag): the boolean property `dmaheap,protected-access` (no
 *   binding exists; the secure firewall configuration is firmware's).
 *
 * KernelConfig.devices adds devices by name, or overrides the flags of a DT device with the
 * same name or dev_name.
 *
 * @kernel drivers/of/device.c of_dma_configure_id, of_dma_set_restricted_buffer;
 *   drivers/of/address.c of_dma_get_range, of_dma_is_coherent; drivers/of/platform.c
 *   of_device_make_bus_id, of_platform_device_create_pdata; kernel/dma/mapping.c
 *   dma_default_coherent; include/linux/dma-map-ops.h dev_is_dma_coherent
 */
import type { Arch } from '../mm/page.js';
import type { ReservedRegion } from '../of/reserved-mem.js';
import { addrCells, baseName, hasProp, isAvailable, prop, propCells, propStrings, readNumber, sizeCells } from '../of/tree.js';
import type { DeviceTree, DtNode } from '../of/tree.js';
import type { CacheModel } from './cache.js';
import type { IovaAllocator } from './iova.js';
import type { SwiotlbPool } from './swiotlb.js';

/** What the emulated driver does with buffers (src/kernel/dev/models.ts). */
export type DeviceModelKind = 'camera' | 'display' | 'copy' | 'codec';
export const DEVICE_MODEL_KINDS: readonly DeviceModelKind[] = ['camera', 'display', 'copy', 'codec'];

/** A device named in KernelConfig.devices (all flags optional: defaults below, or the DT device's). */
export interface DeviceConfig {
  readonly name: string;
  /** DMA mask in bits, 1..64 (default 32, or 64 with an IOMMU). */
  readonly dmaMask?: number;
  readonly iommu?: boolean;
  /** Snoops the CPU caches (default: the architecture's: false on arm64; always true on x86-64). */
  readonly coherent?: boolean;
  /** Its driver accepts only buffers that are contiguous in its DMA address space. */
  readonly needsContiguous?: boolean;
  /** May access protected (TEE) memory. */
  readonly protectedAccess?: boolean;
  readonly model?: DeviceModelKind;
  /** CPU address − bus address of its bus (default 0). */
  readonly dmaOffset?: number;
}

/** Checks a config entry; returns what is wrong, or null. */
export function deviceConfigProblem(c: DeviceConfig): string | null {
  if (typeof c.name !== 'string' || c.name === '') return 'a device needs a name';
  if (c.dmaMask !== undefined && (!Number.isInteger(c.dmaMask) || c.dmaMask < 12 || c.dmaMask > 64)) return `device ${c.name}: dmaMask must be a bit count from 12 to 64, not ${String(c.dmaMask)}`;
  if (c.model !== undefined && !DEVICE_MODEL_KINDS.includes(c.model)) return `device ${c.name}: unknown model '${String(c.model)}' (known: ${DEVICE_MODEL_KINDS.join(', ')})`;
  if (c.dmaOffset !== undefined && !Number.isSafeInteger(c.dmaOffset)) return `device ${c.name}: dmaOffset must be an integer`;
  return null;
}

/** What the device tree says about one DMA master. */
export interface DtDeviceInfo {
  readonly path: string;
  readonly devName: string;
  readonly compatible: readonly string[];
  readonly dmaMask: number;
  /** Highest bus address the bus passes (bus_dma_limit), 0 for none. */
  readonly busDmaLimit: number;
  readonly dmaOffset: number;
  readonly iommu: boolean;
  readonly coherent: boolean;
  readonly regions: readonly ReservedRegion[];
  /** The restricted-dma-pool region it bounces through, or null. */
  readonly restrictedPool: ReservedRegion | null;
  readonly protectedAccess: boolean;
  readonly needsContiguous: boolean;
}

const EXCLUDED_ROOTS = ['/reserved-memory', '/chosen', '/firmware', '/cpus', '/aliases', '/__symbols__'];

/** The DMA masters of a board (see the module comment for the rules). */
export function devicesFromTree(tree: DeviceTree, regions: readonly ReservedRegion[], arch: Arch): DtDeviceInfo[] {
  const out: DtDeviceInfo[] = [];
  const walk = (n: DtNode, path: string): void => {
    if (!isAvailable(n)) return;
    if (EXCLUDED_ROOTS.some((r) => path === r || path.startsWith(`${r}/`) || path.startsWith(`${r}@`))) return;
    if (n.parent !== null && isDmaMaster(n)) out.push(describe(n, path, regions, arch));
    for (const c of n.children) walk(c, path === '/' ? `/${c.name}` : `${path}/${c.name}`);
  };
  walk(tree.root, '/');
  return out;
}

function isDmaMaster(n: DtNode): boolean {
  if (hasProp(n, '#iommu-cells')) return false;
  if (hasProp(n, 'memory-region') || hasProp(n, 'iommus')) return true;
  // on a node with children (a bus), dma-coherent and dma-ranges describe the children
  return n.children.length === 0 && (hasProp(n, 'dma-coherent') || hasProp(n, 'dma-ranges'));
}

function describe(n: DtNode, path: string, regions: readonly ReservedRegion[], arch: Arch): DtDeviceInfo {
  const iommu = hasProp(n, 'iommus');
  const range = dmaRange(n);
  const phandles = propCells(n, 'memory-region') ?? [];
  const own: ReservedRegion[] = [];
  for (const ph of phandles) {
    const r = regions.find((x) => x.phandle === ph);
    if (r !== undefined) own.push(r);
  }
  const restricted = iommu ? null : (own.find((r) => r.status === 'ok' && r.compatible.includes('restricted-dma-pool')) ?? null);
  let dmaMask = 32;
  if (iommu) dmaMask = 64;
  else if (range !== null) dmaMask = Math.floor(Math.log2(range.end)) + 1;
  return {
    path,
    devName: devNameOf(n),
    compatible: propStrings(n, 'compatible') ?? [],
    dmaMask,
    busDmaLimit: range?.end ?? 0,
    dmaOffset: range?.offset ?? 0,
    iommu,
    coherent: arch === 'x86_64' ? true : isCoherent(n),
    regions: own,
    restrictedPool: restricted,
    protectedAccess: hasProp(n, 'dmaheap,protected-access'),
    needsContiguous: !iommu && own.length > 0,
  };
}

/**
 * of_dma_get_range() for a device: the nearest `dma-ranges` above it. Empty `dma-ranges` means
 * 1:1 and the walk goes on; a bus without `dma-ranges` below one that had them ends it. Returns
 * the highest bus address and cpu − bus of the first range, or null.
 */
function dmaRange(n: DtNode): { end: number; offset: number } | null {
  let found = false;
  for (let bus = n.parent; bus !== null; bus = bus.parent) {
    const p = prop(bus, 'dma-ranges');
    if (p !== null && p.value.length > 0) {
      const cells = propCells(bus, 'dma-ranges') ?? [];
      const ca = addrCells(bus);
      const pa = bus.parent === null ? ca : addrCells(bus.parent);
      const sc = sizeCells(bus);
      const stride = ca + pa + sc;
      let end = 0;
      let offset: number | null = null;
      for (let i = 0; i + stride <= cells.length; i += stride) {
        const busAddr = readNumber(cells, i, ca);
        const cpu = readNumber(cells, i + ca, pa);
        const size = readNumber(cells, i + ca + pa, sc);
        if (size === 0) continue;
        end = Math.max(end, busAddr + size - 1);
        offset ??= cpu - busAddr;
      }
      return offset === null ? null : { end, offset };
    }
    if (found && p === null) return null;
    found = true;
  }
  return null;
}

/** of_dma_is_coherent(): `dma-coherent` on the node or a DMA parent; `dma-noncoherent` stops; else the arm64 default (false). */
function isCoherent(n: DtNode): boolean {
  for (let c: DtNode | null = n; c !== null; c = c.parent) {
    if (hasProp(c, 'dma-coherent')) return true;
    if (hasProp(c, 'dma-noncoherent')) return false;
  }
  return false;
}

/**
 * of_device_make_bus_id(): walking up from the node, the first node whose `reg` translates to a
 * CPU address gives `<addr in hex>.<name>`, prefixed to the names collected on the way
 * (`<name>:<child name>`); without any, the node names joined with ':'.
 */
export function devNameOf(n: DtNode): string {
  let name: string | null = null;
  for (let node: DtNode = n; node.parent !== null; node = node.parent) {
    const addr = translatedReg(node);
    if (addr !== null) return name === null ? `${addr.toString(16)}.${baseName(node.name)}` : `${addr.toString(16)}.${baseName(node.name)}:${name}`;
    name = name === null ? node.name : `${node.name}:${name}`;
  }
  return name ?? '';
}

/** The first `reg` address of a node translated through its parents' `ranges` (of_translate_address), or null. */
function translatedReg(n: DtNode): number | null {
  const parent = n.parent;
  if (parent === null) return null;
  const reg = propCells(n, 'reg');
  if (reg === null || reg.length === 0) return null;
  let addr = readNumber(reg, 0, addrCells(parent));
  for (let bus: DtNode = parent; bus.parent !== null; bus = bus.parent) {
    const r = prop(bus, 'ranges');
    if (r === null) return null;
    if (r.value.length === 0) continue;
    const cells = propCells(bus, 'ranges') ?? [];
    const ca = addrCells(bus);
    const pa = addrCells(bus.parent);
    const sc = sizeCells(bus);
    const stride = ca + pa + sc;
    let hit: number | null = null;
    for (let i = 0; i + stride <= cells.length; i += stride) {
      const child = readNumber(cells, i, ca);
      const par = readNumber(cells, i + ca, pa);
      const size = readNumber(cells, i + ca + pa, sc);
      if (addr >= child && addr < child + size) {
        hit = addr - child + par;
        break;
      }
    }
    if (hit === null) return null;
    addr = hit;
  }
  return addr;
}

/** Per-device DMA counters. */
export interface DeviceStats {
  maps: number;
  unmaps: number;
  mapFailures: number;
  /** Mappings with at least one bounced entry. */
  bouncedMaps: number;
  /** swiotlb_bounce() copies and bytes, in both directions. */
  bounceCopies: number;
  bounceBytes: number;
  syncsForCpu: number;
  syncsForDevice: number;
  /** Mappings through the IOMMU. */
  iovaMaps: number;
  dmaReads: number;
  dmaReadBytes: number;
  dmaWrites: number;
  dmaWriteBytes: number;
  /** Accesses refused: stale DMA addresses (after unmap, detach or release) and firewall faults. */
  faults: number;
}

/** What every device shares: the architecture, the cache model, the kernel log. */
export interface DmaContext {
  readonly arch: Arch;
  readonly pageSize: number;
  readonly cache: CacheModel;
  /** printk */
  log(line: string): void;
}

/** The fields a Device is made of. */
export interface DeviceInit {
  /** The DT node path, or the configured name. */
  readonly name: string;
  /** dev_name(): what bufinfo and the device-access events show. */
  readonly devName: string;
  readonly source: 'dt' | 'config' | 'dt+config';
  /** DMA mask in bits. */
  readonly dmaMask: number;
  /** bus_dma_limit (highest bus address), 0 for none. */
  readonly busDmaLimit: number;
  /** CPU address − bus address (dma_range_map offset). */
  readonly dmaOffset: number;
  readonly iommu: boolean;
  readonly coherent: boolean;
  readonly needsContiguous: boolean;
  readonly protectedAccess: boolean;
  readonly model: DeviceModelKind | null;
  readonly compatible: readonly string[];
  /** Its memory-region entries (the first is `memoryRegion`). */
  readonly memoryRegions: readonly ReservedRegion[];
  /** dev->dma_io_tlb_mem: the default pool, its restricted pool, or null (none allocated). */
  readonly ioTlb: SwiotlbPool | null;
  /** is_swiotlb_force_bounce(): `swiotlb=force` or a restricted pool. */
  readonly forceBounce: boolean;
  /** Its IOVA space when behind an IOMMU. */
  readonly iova: IovaAllocator | null;
}

/** struct device for the DMA layer. */
export class Device implements DeviceInit {
  readonly stats: DeviceStats = {
    maps: 0, unmaps: 0, mapFailures: 0, bouncedMaps: 0, bounceCopies: 0, bounceBytes: 0, syncsForCpu: 0, syncsForDevice: 0,
    iovaMaps: 0, dmaReads: 0, dmaReadBytes: 0, dmaWrites: 0, dmaWriteBytes: 0, faults: 0,
  };
  /** Live DMA mappings (DmaMapping objects of dma-mapping.ts), for DMA-address lookups. */
  readonly live = new Set<object>();
  readonly name: string;
  readonly devName: string;
  readonly source: 'dt' | 'config' | 'dt+config';
  readonly dmaMask: number;
  readonly busDmaLimit: number;
  readonly dmaOffset: number;
  readonly iommu: boolean;
  readonly coherent: boolean;
  readonly needsContiguous: boolean;
  readonly protectedAccess: boolean;
  readonly model: DeviceModelKind | null;
  readonly compatible: readonly string[];
  readonly memoryRegions: readonly ReservedRegion[];
  readonly ioTlb: SwiotlbPool | null;
  readonly forceBounce: boolean;
  readonly iova: IovaAllocator | null;

  constructor(
    init: DeviceInit,
    readonly ctx: DmaContext,
  ) {
    this.name = init.name;
    this.devName = init.devName;
    this.source = init.source;
    this.dmaMask = init.dmaMask;
    this.busDmaLimit = init.busDmaLimit;
    this.dmaOffset = init.dmaOffset;
    this.iommu = init.iommu;
    this.coherent = init.coherent;
    this.needsContiguous = init.needsContiguous;
    this.protectedAccess = init.protectedAccess;
    this.model = init.model;
    this.compatible = init.compatible;
    this.memoryRegions = init.memoryRegions;
    this.ioTlb = init.ioTlb;
    this.forceBounce = init.forceBounce;
    this.iova = init.iova;
  }

  get memoryRegion(): ReservedRegion | null {
    return this.memoryRegions[0] ?? null;
  }

  /** min_not_zero(*dev->dma_mask, dev->bus_dma_limit), inclusive. */
  get dmaLimit(): number {
    const mask = 2 ** this.dmaMask - 1;
    return this.busDmaLimit === 0 ? mask : Math.min(mask, this.busDmaLimit);
  }

  /** dma_capable(): the bus range [addr, addr + size) lies under the mask and the bus limit. */
  dmaCapable(addr: number, size: number): boolean {
    const end = addr + size - 1;
    return addr >= 0 && addr <= end && end <= this.dmaLimit;
  }
}
