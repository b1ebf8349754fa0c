/**
 * The boot-time memory layout (spec §5.1): RAM from the device tree, /memreserve/, the
 * /reserved-memory regions with their handlers (CMA, coherent pools, restricted DMA pools), then
 * the command-line/Kconfig default CMA area. planMemory() is pure: the same input gives the same
 * plan, printk lines included; errors are data (region status and log lines), nothing throws.
 *
 * The order of events follows arm64's setup_arch(): the kernel image is reserved
 * (arm64_memblock_init()), early_init_fdt_scan_reserved_mem() runs, the tree is unflattened
 * (6.12+: static regions are initialised there), then bootmem_init() calls
 * dma_contiguous_reserve(arm64_dma_phys_limit). x86-64 uses the same order here (see the report
 * on x86 device trees: unverified).
 *
 * The boot loader's reservations (kernel image, initrd, DTB) and arm64's own early allocations
 * (the linear map's page tables after the early scan, the 6.12+ reserved_mem array and the
 * unflattened tree in unflatten_device_tree()) are of/boot-layout.ts's; they come in that order.
 *
 * Not modelled: x86's early allocations, the mem_map and everything else allocated after the
 * default CMA area, elfcorehdr, NUMA.
 *
 * @kernel drivers/of/fdt.c, drivers/of/of_reserved_mem.c, kernel/dma/contiguous.c, mm/cma.c,
 *         mm/memblock.c
 */
import { Errno } from '../../uapi/errno.js';
import { cmaMinAlignmentBytes } from '../mm/cma.js';
import { formatPa, parseCmaParam, placeCmaArea } from '../mm/cmdline.js';
import type { Arch } from '../mm/page.js';
import { DEFAULT_PROFILE } from '../profile.js';
import type { ProfileName } from '../profile.js';
import { arm64LinearMapTables, resolveLoader, unflattenSize } from './boot-layout.js';
import type { BootLayout, LoaderConfig } from './boot-layout.js';
import { Memblock } from './memblock.js';
import type { PhysRange } from './memblock.js';
import { addrSizeTuples, arm64MemstartAlign, clampPhysMemory, propLength, readCells, rootCells, scanMemoryNodes } from './memory.js';
import type { RootCells } from './memory.js';
import { isCompatible, reservedMemInitNode } from './reserved-handlers.js';
import type { CmaAreaRecord, CoherentPool, HandlerContext, RegionHandler, RestrictedPool, RmemNodeInfo } from './reserved-handlers.js';
import { reservedMemBehaviour } from './reserved-versions.js';
import type { ReservedMemBehaviour } from './reserved-versions.js';
import { hasProp, isAvailable, nodePath, prop, propCells, propStrings, u32 } from './tree.js';
import type { DeviceTree, DtNode } from './tree.js';

export type { PhysRange } from './memblock.js';
export type { CoherentPool, RegionHandler, RestrictedPool } from './reserved-handlers.js';

const SZ_1K = 1024;
const SZ_1M = 1024 * 1024;
/** SMP_CACHE_BYTES (L1_CACHE_BYTES) on x86-64 and arm64. */
export const SMP_CACHE_BYTES = 64;
/** drivers/of/of_private.h MAX_RESERVED_REGIONS. */
export const MAX_RESERVED_REGIONS = 64;
/** CONFIG_CMA_AREAS default without NUMA (mm/Kconfig), as in the oracle's 6.1 config. */
export const CMA_AREAS_DEFAULT = 7;

export interface PlanMemoryInput {
  /** The device tree, or null (x86 without one: RAM comes from `ramFallback`). */
  readonly tree: DeviceTree | null;
  /** Kernel command line parameters (mm/cmdline.ts parseCmdline()). */
  readonly params: ReadonlyMap<string, string>;
  readonly arch: Arch;
  readonly pageSize: number;
  /** RAM when the tree has no usable `/memory` (the kernel config's RAM, e.g. from e820). */
  readonly ramFallback?: readonly PhysRange[];
  /** CONFIG_CMA_SIZE_MBYTES (CMA_SIZE_SEL_MBYTES): the default area when `cma=` is absent. */
  readonly cmaSizeMbytes: number;
  /**
   * The rest of the Kconfig choice for the default area's size when `cma=` is absent
   * (kernel/dma/contiguous.c dma_contiguous_reserve()): CMA_SIZE_SEL_MBYTES (the default),
   * _PERCENTAGE (CONFIG_CMA_SIZE_PERCENTAGE of memblock_phys_mem_size()), _MIN or _MAX of both.
   */
  readonly cmaSizeSel?: 'mbytes' | 'percentage' | 'min' | 'max';
  /** CONFIG_CMA_SIZE_PERCENTAGE (default 0). */
  readonly cmaSizePercentage?: number;
  /** CONFIG_DMA_CMA (default true): the default area and the shared-dma-pool CMA handler exist. */
  readonly dmaCma?: boolean;
  /** CONFIG_CMA (default true): a reusable shared-dma-pool gets the CMA alignment. */
  readonly cma?: boolean;
  /** CMA_MIN_ALIGNMENT_BYTES (default: pageblock order with huge pages configured, mm/cma.ts). */
  readonly cmaMinAlign?: number;
  /**
   * arm64: ZONE_DMA or ZONE_DMA32 is built (default true): dma_contiguous_reserve()'s limit is
   * arm64_dma_phys_limit (32 bits); without both zones it is the end of memory.
   */
  readonly arm64ZoneDma?: boolean;
  /** The kernel image, reserved before anything else (also with a `loader` that places no image). */
  readonly kernelImage: PhysRange;
  /**
   * How the boot loader laid out the image, initrd and DTB (of/boot-layout.ts); its image
   * replaces `kernelImage`. A loader resolveLoader() refuses is left out, with a diagnostic.
   */
  readonly loader?: LoaderConfig;
  /** The DTB's size as a file, for the qemu-virt loader (null or absent: no tree). */
  readonly dtbFileSize?: number | null;
  /** arm64's own early allocations before the default CMA area (of/boot-layout.ts). */
  readonly earlyAllocs?: EarlyAllocs;
  /** Kernel version profile (default DEFAULT_PROFILE). */
  readonly profile?: ProfileName;
  /** CONFIG_CMA_AREAS (default 7). */
  readonly maxCmaAreas?: number;
}

/** The kernel's early memblock allocations that come before the default CMA area (arm64). */
export interface EarlyAllocs {
  /** paging_init(): the linear map's page tables, page-granular (rodata=full). */
  readonly pageTables: boolean;
  /**
   * x86-64 init_mem_mapping() → memory_map_top_down(): the first PMD_SIZE block of the direct
   * map's page tables, 2 MiB aligned, from the top of memory above 1 MiB; still reserved when
   * the default CMA area is placed (the 6.1, 6.12 and 7.3 referees: memblock=debug shows
   * 0x7fc00000-0x7fdfffff with 2 GiB, so cma=64M lands at 0x7bc00000).
   */
  readonly x86FirstPmd?: boolean;
  /** unflatten_device_tree() (with a tree): true when /chosen/bootargs is set (a non-empty command line). */
  readonly unflatten: { readonly bootargs: boolean } | null;
}

export type RegionStatus = 'ok' | 'failed' | 'ignored';

export interface ReservedRegion {
  /** Full node name with unit address (fdt_get_name()). */
  readonly name: string;
  readonly path: string;
  /** Where the region lies: the first reg tuple, or the allocation (0 when it failed). */
  readonly base: number;
  /** Its size (for a failed dynamic region: the requested size, 0 if unreadable). */
  readonly size: number;
  /** Placed by `reg` (true) or allocated from `size` (false). */
  readonly static: boolean;
  /** Every `reg` tuple (all are reserved; the region record uses the first). */
  readonly ranges: readonly PhysRange[];
  readonly nomap: boolean;
  readonly reusable: boolean;
  readonly compatible: readonly string[];
  /** linux,cma-default. */
  readonly cmaDefault: boolean;
  /** linux,dma-default. */
  readonly dmaDefault: boolean;
  readonly phandle: number | null;
  /** The handler that accepted the region, or null (none matched, or it failed). */
  readonly handler: RegionHandler | null;
  /**
   * ok: reserved and recorded (with or without a handler); failed: the kernel logged an error and
   * dropped it (memory given back where it had been taken); ignored: skipped without being
   * reserved (disabled, no reg/size, unsupported /reserved-memory, `cma=` skip).
   */
  readonly status: RegionStatus;
  readonly reason?: string;
}

export interface PlannedCmaArea {
  /** The CMA area name: `reserved` for the command-line/Kconfig area, else the node name (≤63 chars). */
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** dma_contiguous_default_area. */
  readonly isDefault: boolean;
  /** Path of the /reserved-memory node, or null for the command-line/Kconfig area. */
  readonly regionPath: string | null;
}

export interface MemoryPlan {
  /** memblock.memory: RAM (normalised; NOMAP parts included). */
  readonly ram: PhysRange[];
  /** /memreserve/ entries that were memblock_reserve()d. */
  readonly memreserve: PhysRange[];
  /** Every child of /reserved-memory, in tree order. */
  readonly regions: ReservedRegion[];
  /** CMA areas in the order they were declared (cma_areas[]). */
  readonly cmaAreas: PlannedCmaArea[];
  /** Name of the default CMA area, or null. */
  readonly defaultCma: string | null;
  readonly coherentPools: CoherentPool[];
  readonly restrictedPools: RestrictedPool[];
  /**
   * memblock at the end of boot: the page allocator gets memory minus nomap minus reserved
   * (CMA areas are reserved here and handed over separately).
   */
  readonly memblock: { readonly memory: PhysRange[]; readonly reserved: PhysRange[]; readonly nomap: PhysRange[] };
  /** printk lines, in boot order, as the kernel prints them. */
  readonly log: string[];
  /** Emulator notes that are not kernel output (inputs the kernel would read differently, etc.). */
  readonly diagnostics: string[];
  /** Where the boot loader put the image, initrd and DTB (null: only `kernelImage`). */
  readonly boot: BootLayout | null;
}

// ---------------------------------------------------------------------------------------------

/** A saved region (drivers/of/of_reserved_mem.c struct reserved_mem) plus its output record. */
interface Rmem {
  readonly info: RmemNodeInfo;
  readonly node: DtNode;
  /** Position among /reserved-memory's children (FDT offset order). */
  readonly order: number;
  base: number;
  size: number;
}

type RegionDraft = { -readonly [K in keyof ReservedRegion]: ReservedRegion[K] };

function nodeInfo(node: DtNode): RmemNodeInfo {
  return {
    name: node.name,
    path: nodePath(node),
    compatible: propStrings(node, 'compatible') ?? [],
    nomap: hasProp(node, 'no-map'),
    reusable: hasProp(node, 'reusable'),
    cmaDefault: hasProp(node, 'linux,cma-default'),
    dmaDefault: hasProp(node, 'linux,dma-default'),
  };
}

/** drivers/of/of_reserved_mem.c fdt_init_reserved_mem(): `phandle`, else `linux,phandle`. */
function phandleOf(node: DtNode): number | null {
  const name = hasProp(node, 'phandle') ? 'phandle' : 'linux,phandle';
  const cells = propCells(node, name);
  return cells === null || cells.length === 0 ? null : readCells(cells, 0, cells.length);
}

/**
 * scripts/dtc/libfdt/fdt_ro.c fdt_path_offset("/reserved-memory"): the first child of the root named
 * `reserved-memory`, or `reserved-memory@…` (libfdt matches a component without a unit address
 * against a node name that has one).
 */
function findReservedMemory(tree: DeviceTree): DtNode | null {
  return tree.root.children.find((c) => c.name === 'reserved-memory' || c.name.startsWith('reserved-memory@')) ?? null;
}

/**
 * drivers/of/of_reserved_mem.c __reserved_mem_check_root(): #size-cells and #address-cells
 * present and equal to the root's, and a `ranges` property.
 */
function checkRoot(node: DtNode, cells: RootCells): boolean {
  const first = (name: string): number | null => {
    const p = prop(node, name);
    return p === null || p.value.length < 4 ? null : u32(p.value, 0);
  };
  return first('#size-cells') === cells.size && first('#address-cells') === cells.addr && hasProp(node, 'ranges');
}

/**
 * lib/sort.c sort(): the kernel's bottom-up heapsort, not stable. Used where the order of equal
 * elements is observable (6.1's fdt_init_reserved_mem() processes regions in sorted order, and
 * every dynamic region sorts as (0, 0)).
 */
export function kernelSort<T>(a: T[], cmp: (x: T, y: T) => number): void {
  const parent = (i: number): number => Math.floor((i - 1) / 2);
  const swap = (i: number, j: number): void => {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  };
  let n = a.length;
  let r = Math.floor(n / 2);
  if (r === 0) return;
  for (;;) {
    if (r > 0) r--;
    else if (n > 1) {
      n--;
      swap(0, n);
    } else break;
    // Find the sift-down path to a leaf (one compare per level), then backtrack.
    let b = r;
    let c = 2 * b + 1;
    let d = c + 1;
    while (d < n) {
      b = cmp(a[c]!, a[d]!) >= 0 ? c : d;
      c = 2 * b + 1;
      d = c + 1;
    }
    if (d === n) b = c;
    while (b !== r && cmp(a[r]!, a[b]!) >= 0) b = parent(b);
    const to = b;
    while (b !== r) {
      b = parent(b);
      swap(b, to);
    }
  }
}

const minNotZero = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : Math.min(a, b));

/**
 * arch/arm64/mm/init.c arm64_dma_phys_limit = max_zone_phys(zone_dma_limit): with no
 * `dma-ranges` restriction ZONE_DMA covers 32 bits, so the limit is min(4 GiB, end of RAM), or
 * the end of RAM when RAM starts above 4 GiB (6.1: the same through zone_dma_bits = 32).
 */
function arm64DmaPhysLimit(mb: Memblock): number {
  const start = mb.startOfDram();
  const end = mb.endOfDram();
  if (end === 0) return 0;
  const zoneMask = start > 0xffffffff ? Number.MAX_SAFE_INTEGER : 0xffffffff;
  return Math.min(zoneMask, end - 1) + 1;
}

// ---------------------------------------------------------------------------------------------

class Planner {
  readonly log: string[] = [];
  readonly diagnostics: string[] = [];
  readonly mb: Memblock;
  readonly b: ReservedMemBehaviour;
  readonly ctx: HandlerContext;
  readonly drafts = new Map<DtNode, RegionDraft>();
  /** reserved_mem[] in save order. */
  readonly saved: Rmem[] = [];
  readonly memreserve: PhysRange[] = [];
  boot: BootLayout | null = null;
  cells: RootCells = { addr: 1, size: 1 };
  /** DT CMA areas that are not inside RAM (left out of the plan's cmaAreas). */
  readonly outsideRam = new Set<CmaAreaRecord>();

  constructor(readonly input: PlanMemoryInput) {
    this.mb = new Memblock(input.pageSize);
    this.b = reservedMemBehaviour(input.profile ?? DEFAULT_PROFILE);
    this.ctx = {
      behaviour: this.b,
      log: this.log,
      memblock: this.mb,
      cmaMinAlign: input.cmaMinAlign ?? cmaMinAlignmentBytes(input.pageSize, input.arch),
      dmaCma: input.dmaCma ?? true,
      cmdlineCma: input.params.has('cma'),
      maxCmaAreas: input.maxCmaAreas ?? CMA_AREAS_DEFAULT,
      cmaAreas: [],
      defaultCma: null,
      coherentPools: [],
      restrictedPools: [],
    };
  }

  get prefix(): string {
    return this.b.scanPrefix;
  }

  draft(node: DtNode): RegionDraft {
    let d = this.drafts.get(node);
    if (d === undefined) {
      const info = nodeInfo(node);
      d = {
        name: info.name,
        path: info.path,
        base: 0,
        size: 0,
        static: hasProp(node, 'reg'),
        ranges: [],
        nomap: info.nomap,
        reusable: info.reusable,
        compatible: info.compatible,
        cmaDefault: info.cmaDefault,
        dmaDefault: info.dmaDefault,
        phandle: phandleOf(node),
        handler: null,
        status: 'ignored',
      };
      this.drafts.set(node, d);
    }
    return d;
  }

  setStatus(node: DtNode, status: RegionStatus, reason?: string): void {
    const d = this.drafts.get(node);
    if (d === undefined) return;
    d.status = status;
    if (reason !== undefined) d.reason = reason;
    else delete d.reason;
  }

  // -- RAM -------------------------------------------------------------------------------------

  scanMemory(): void {
    const { tree, pageSize } = this.input;
    if (tree !== null) {
      this.cells = rootCells(tree);
      const scan = scanMemoryNodes(tree, this.cells, pageSize);
      this.log.push(...scan.log);
      for (const r of scan.added) this.mb.addMemory(r.base, r.size);
    }
    if (this.mb.endOfDram() === 0) {
      const fallback = this.input.ramFallback ?? [];
      if (tree !== null) {
        const what = fallback.map((r) => `${r.size / 1048576} MiB at 0x${r.base.toString(16)}`).join(', ');
        this.diagnostics.push(`the device tree has no usable /memory node (device_type = "memory" with a reg): using the default RAM instead (${what || 'none'}); add a /memory node to describe the board's RAM`);
      }
      for (const r of fallback) this.mb.addMemory(r.base, r.size);
    }
    clampPhysMemory(this.mb, this.input.arch, pageSize, this.log, this.diagnostics);
  }

  /** drivers/of/fdt.c early_init_fdt_scan_reserved_mem(): /memreserve/ until the first size 0. */
  reserveMemreserve(): void {
    for (const e of this.input.tree?.memreserve ?? []) {
      if (e.size === 0) break;
      this.mb.reserve(e.address, e.size);
      this.memreserve.push({ base: e.address, size: e.size });
    }
  }

  // -- static regions --------------------------------------------------------------------------

  /**
   * drivers/of/of_reserved_mem.c early_init_dt_reserve_memory(): `no-map` marks the range NOMAP
   * (refused with -EBUSY when it is RAM that is already reserved; not added to memblock.reserved),
   * anything else is memblock_reserve()d.
   */
  reserveMemory(base: number, size: number, nomap: boolean): number {
    if (nomap) {
      if (this.mb.overlapsMemory(base, size) && this.mb.isRegionReserved(base, size)) return -Errno.EBUSY;
      this.mb.markNomap(base, size);
      return 0;
    }
    this.mb.reserve(base, size);
    return 0;
  }

  /**
   * drivers/of/of_reserved_mem.c __reserved_mem_reserve_reg() (drivers/of/fdt.c in 6.1):
   * -ENOENT without `reg`; a length that is not a whole number of (address, size) tuples →
   * "Reserved memory: invalid reg property in '%s', skipping node.", -EINVAL (7.0: treated as no
   * `reg`); 6.19+: a linux,cma-default node while `cma=` was given → "Skipping dt
   * linux,cma-default for "cma=" kernel param.", -EINVAL; then every tuple is reserved (a size 0
   * tuple or a refused no-map one → "Reserved memory: failed to reserve memory for node '%s': base
   * %pa, size %lu MiB"). Before 6.12 the first tuple is saved as the region, whatever happened.
   */
  reserveReg(node: DtNode, order: number): number {
    const d = this.draft(node);
    const t = addrSizeTuples(node, 'reg', this.cells);
    if (t === null) return -Errno.ENOENT;
    const tupleBytes = (this.cells.addr + this.cells.size) * 4;
    const len = propLength(node, 'reg') ?? 0;
    if (tupleBytes === 0) {
      this.diagnostics.push(`${d.path}: the root has #address-cells + #size-cells = 0; reg ignored (the kernel would divide by zero)`);
      this.setStatus(node, 'failed', 'root cell sizes are 0');
      return -Errno.EINVAL;
    }
    if (len % tupleBytes !== 0) {
      if (this.b.earlyScanAddrSizeHelper) return -Errno.ENOENT;
      this.log.push(`${this.prefix}Reserved memory: invalid reg property in '${d.name}', skipping node.`);
      this.setStatus(node, 'failed', 'invalid reg property');
      return -Errno.EINVAL;
    }
    if (this.b.cmdlineSkipsDtDefault && d.cmaDefault && this.ctx.cmdlineCma) {
      this.log.push(this.b.skipDtDefaultLine);
      this.setStatus(node, 'ignored', 'linux,cma-default skipped: cma= on the command line');
      return -Errno.EINVAL;
    }
    d.ranges = t.tuples;
    const first = t.tuples[0];
    if (first === undefined) {
      this.setStatus(node, 'ignored', 'empty reg');
      return 0;
    }
    d.base = first.base;
    d.size = first.size;
    this.setStatus(node, 'ok');
    const failed: string[] = [];
    for (const r of t.tuples) {
      const ok = r.size !== 0 && this.reserveMemory(r.base, r.size, d.nomap) === 0;
      if (!ok) {
        this.log.push(`${this.prefix}Reserved memory: failed to reserve memory for node '${d.name}': base ${formatPa(r.base)}, size ${Math.floor(r.size / SZ_1M)} MiB`);
        failed.push(formatPa(r.base));
      }
    }
    if (failed.length > 0) d.reason = `failed to reserve memory at ${failed.join(', ')}`;
    if (!this.b.restructured) this.save(node, order, first.base, first.size);
    return 0;
  }

  /** fdt_reserved_mem_save_node(): at most MAX_RESERVED_REGIONS regions. */
  save(node: DtNode, order: number, base: number, size: number): Rmem | null {
    if (this.saved.length >= MAX_RESERVED_REGIONS) {
      this.log.push('OF: reserved mem: not enough space for all defined regions.');
      this.setStatus(node, 'failed', 'more than MAX_RESERVED_REGIONS regions');
      return null;
    }
    const r: Rmem = { info: nodeInfo(node), node, order, base, size };
    this.saved.push(r);
    return r;
  }

  // -- dynamic regions -------------------------------------------------------------------------

  /**
   * drivers/of/of_reserved_mem.c early_init_dt_alloc_reserved_memory_arch(): end 0 → anywhere
   * (MEMBLOCK_ALLOC_ANYWHERE), align 0 → SMP_CACHE_BYTES; memblock_phys_alloc_range(), then
   * memblock_mark_nomap() for `no-map` (the range stays reserved too). Returns the base or 0.
   */
  allocArch(size: number, align: number, start: number, end: number, nomap: boolean): number {
    const base = this.mb.allocRange(size, align === 0 ? SMP_CACHE_BYTES : align, start, end === 0 ? Infinity : end);
    if (base !== 0 && nomap) this.mb.markNomap(base, size);
    return base;
  }

  /**
   * drivers/of/of_reserved_mem.c __reserved_mem_alloc_in_range() (not in 6.1): if the window starts
   * inside or right at the end of an already saved region (size != 0), allocate bottom-up; if it
   * ends inside or right at the start of one, top-down; both or neither: the default direction.
   * From 6.12 only regions saved so far count, i.e. the dynamic regions allocated before this one
   * (static regions are saved later, in the late scan).
   */
  allocInRange(size: number, align: number, start: number, end: number, nomap: boolean): number {
    let bottomUp = false;
    let topDown = false;
    for (const r of this.saved) {
      if (r.size === 0) continue;
      if (start >= r.base && start <= r.base + r.size) bottomUp = true;
      if (end >= r.base && end <= r.base + r.size) topDown = true;
    }
    const prev = this.mb.bottomUp;
    if (bottomUp !== topDown) this.mb.bottomUp = bottomUp;
    const base = this.allocArch(size, align, start, end, nomap);
    this.mb.bottomUp = prev;
    return base;
  }

  /**
   * drivers/of/of_reserved_mem.c __reserved_mem_alloc_size(): `size` must be exactly #size-cells
   * cells ("invalid size property in '%s' node."), `alignment` exactly #address-cells cells
   * ("invalid alignment property in '%s' node."); 6.19+: the `cma=` skip of linux,cma-default;
   * a reusable, mapped `shared-dma-pool` is aligned to at least CMA_MIN_ALIGNMENT_BYTES;
   * `alloc-ranges` windows are tried in order ("invalid alloc-ranges property in '%s', skipping
   * node." when malformed; 7.0: ignored instead), else anywhere; base 0 → "failed to allocate
   * memory for node '%s': size %lu MiB", -ENOMEM.
   */
  allocSize(node: DtNode): { base: number; size: number } | null {
    const d = this.draft(node);
    d.static = false;
    const sizeCells = propCells(node, 'size');
    const sizeLen = propLength(node, 'size');
    if (sizeLen === null) {
      this.setStatus(node, 'failed', 'no size property');
      return null;
    }
    if (sizeLen !== this.cells.size * 4 || sizeCells === null) {
      this.log.push(`OF: reserved mem: invalid size property in '${d.name}' node.`);
      this.setStatus(node, 'failed', `invalid size property (must be ${this.cells.size} cell(s))`);
      return null;
    }
    const size = readCells(sizeCells, 0, this.cells.size);
    d.size = size;
    let align = 0;
    const alignLen = propLength(node, 'alignment');
    if (alignLen !== null) {
      const alignCells = propCells(node, 'alignment');
      if (alignLen !== this.cells.addr * 4 || alignCells === null) {
        this.log.push(`OF: reserved mem: invalid alignment property in '${d.name}' node.`);
        this.setStatus(node, 'failed', `invalid alignment property (must be ${this.cells.addr} cell(s))`);
        return null;
      }
      align = readCells(alignCells, 0, this.cells.addr);
    }
    if (this.b.cmdlineSkipsDtDefault && d.cmaDefault && this.ctx.cmdlineCma) {
      this.log.push(this.b.skipDtDefaultLine);
      this.setStatus(node, 'ignored', 'linux,cma-default skipped: cma= on the command line');
      return null;
    }
    const info = nodeInfo(node);
    if ((this.input.cma ?? true) && isCompatible(info, 'shared-dma-pool') && info.reusable && !info.nomap) align = Math.max(align, this.ctx.cmaMinAlign);

    let base = 0;
    const ranges = addrSizeTuples(node, 'alloc-ranges', this.cells);
    const tupleBytes = (this.cells.addr + this.cells.size) * 4;
    const rangesOk = ranges !== null && tupleBytes !== 0 && ranges.trailing === 0;
    if (ranges !== null && !rangesOk && !this.b.earlyScanAddrSizeHelper) {
      this.log.push(`OF: reserved mem: invalid alloc-ranges property in '${d.name}', skipping node.`);
      this.setStatus(node, 'failed', 'invalid alloc-ranges property');
      return null;
    }
    if (ranges !== null && rangesOk) {
      for (const w of ranges.tuples) {
        const start = w.base;
        const end = w.base + w.size;
        base = this.b.allocRangesAdjacency ? this.allocInRange(size, align, start, end, info.nomap) : this.allocArch(size, align, start, end, info.nomap);
        if (base !== 0) break;
      }
    } else {
      base = this.allocArch(size, align, 0, 0, info.nomap);
    }
    if (base === 0) {
      this.log.push(`OF: reserved mem: failed to allocate memory for node '${d.name}': size ${Math.floor(size / SZ_1M)} MiB`);
      this.setStatus(node, 'failed', 'ENOMEM: no free range fits');
      return null;
    }
    d.base = base;
    d.ranges = [];
    return { base, size };
  }

  // -- handlers --------------------------------------------------------------------------------

  /**
   * drivers/of/of_reserved_mem.c fdt_init_reserved_mem_node() (6.1: the loop body of
   * fdt_init_reserved_mem()): run the handlers; an error other than -ENOENT ("no handler") →
   * "node %s compatible matching fail" and the memory goes back (memblock_clear_nomap() for
   * `no-map`, else memblock_phys_free()); otherwise (not in 6.1) "%pa..%pa (%lu KiB) %s %s %s".
   */
  initNode(r: Rmem): void {
    const d = this.drafts.get(r.node)!;
    d.base = r.base;
    d.size = r.size;
    const res = reservedMemInitNode(this.ctx, r.info, r.base, r.size);
    if (res.ret !== 0 && res.ret !== -Errno.ENOENT) {
      this.log.push(`OF: reserved mem: node ${r.info.name} compatible matching fail`);
      if (r.info.nomap) this.mb.clearNomap(r.base, r.size);
      else this.mb.free(r.base, r.size);
      d.handler = null;
      this.setStatus(r.node, 'failed', `no handler accepted it (${res.why.join('; ')}); memory given back`);
      return;
    }
    d.handler = res.handler;
    const keep = d.reason;
    this.setStatus(r.node, 'ok', keep);
    if (this.b.regionSummary) {
      const end = r.base + r.size - 1;
      this.log.push(
        `OF: reserved mem: ${formatPa(r.base)}..${formatPa(end)} (${Math.floor(r.size / SZ_1K)} KiB) ${r.info.nomap ? 'nomap' : 'map'} ${r.info.reusable ? 'reusable' : 'non-reusable'} ${r.info.name}`,
      );
    }
    if (res.handler === 'cma') {
      const area = this.ctx.cmaAreas[this.ctx.cmaAreas.length - 1];
      if (area !== undefined && !this.mb.containedInMemory(r.base, r.size)) {
        this.outsideRam.add(area);
        this.diagnostics.push(`CMA area ${area.name} (${formatPa(r.base)}, ${r.size} bytes) is not inside RAM: cma_activate_area() cannot use it; left out of cmaAreas`);
      }
    }
  }

  /**
   * drivers/of/of_reserved_mem.c __rmem_check_for_overlap(): sort the saved regions (lib/sort.c,
   * by base then size; 6.12+ also by FDT offset) and report each neighbour pair that overlaps:
   * "OVERLAP DETECTED!\n%s (%pa--%pa) overlaps with %s (%pa--%pa)" (ends exclusive). The
   * regions are kept.
   */
  checkOverlap(): void {
    if (this.saved.length < 2) return;
    const tiebreak = this.b.restructured;
    kernelSort(this.saved, (x, y) => {
      if (x.base !== y.base) return x.base < y.base ? -1 : 1;
      if (x.size !== y.size) return x.size < y.size ? -1 : 1;
      if (tiebreak && x.order !== y.order) return x.order < y.order ? -1 : 1;
      return 0;
    });
    for (let i = 0; i + 1 < this.saved.length; i++) {
      const a = this.saved[i]!;
      const c = this.saved[i + 1]!;
      if (a.base + a.size > c.base) {
        this.log.push('OF: reserved mem: OVERLAP DETECTED!');
        this.log.push(`${a.info.name} (${formatPa(a.base)}--${formatPa(a.base + a.size)}) overlaps with ${c.info.name} (${formatPa(c.base)}--${formatPa(c.base + c.size)})`);
        for (const r of [a, c]) {
          const d = this.drafts.get(r.node)!;
          const note = `overlaps ${(r === a ? c : a).info.name}`;
          d.reason = d.reason === undefined ? note : `${d.reason}; ${note}`;
        }
      }
    }
  }

  // -- the two scan structures -----------------------------------------------------------------

  /** Children of /reserved-memory that the early scan looks at, or null when there is none. */
  children(): { rm: DtNode; ok: boolean } | null {
    const tree = this.input.tree;
    if (tree === null) return null;
    const rm = findReservedMemory(tree);
    if (rm === null) return null;
    for (const c of rm.children) this.draft(c);
    const ok = checkRoot(rm, this.cells);
    if (!ok) {
      for (const c of rm.children) this.setStatus(c, 'ignored', 'unsupported /reserved-memory format (#address-cells/#size-cells differ from the root, or no ranges)');
    }
    return { rm, ok };
  }

  /**
   * drivers/of/of_reserved_mem.c fdt_scan_reserved_mem(): available children only; reg → static,
   * else `size` → dynamic.
   */
  earlyScan(rm: DtNode): { node: DtNode; order: number }[] {
    const dynamic: { node: DtNode; order: number }[] = [];
    rm.children.forEach((child, i) => {
      if (!isAvailable(child)) {
        this.setStatus(child, 'ignored', 'disabled (status)');
        return;
      }
      const err = this.reserveReg(child, i);
      if (err === -Errno.ENOENT) {
        if (hasProp(child, 'size')) dynamic.push({ node: child, order: i });
        else this.setStatus(child, 'ignored', hasProp(child, 'reg') ? 'malformed reg treated as absent' : 'neither reg nor size');
      }
    });
    return dynamic;
  }

  /**
   * arm64 paging_init() → map_mem(): a page-table page at a time, top-down, for the linear map of
   * memory without NOMAP (of/boot-layout.ts arm64LinearMapTables()).
   */
  pagingInit(): void {
    if (this.input.earlyAllocs?.x86FirstPmd === true) this.mb.allocRange(0x200000, 0x200000, 0x100000, Infinity);
    if (this.input.earlyAllocs?.pageTables !== true) return;
    const { memory, nomap } = this.mb.snapshot();
    const mapped = subtract(memory, nomap);
    const memstart = Math.floor(this.mb.startOfDram() / arm64MemstartAlign(this.input.pageSize)) * arm64MemstartAlign(this.input.pageSize);
    const tables = arm64LinearMapTables(mapped, this.input.pageSize, memstart);
    const got = this.mb.allocPagesTopDown(tables, this.input.pageSize);
    if (got < tables) this.diagnostics.push(`paging_init(): ${tables} page-table pages needed for the linear map, ${got} free (Linux panics: "Failed to allocate page table page")`);
  }

  /** unflatten_device_tree(): the unflattened tree, top-down (memblock_alloc(size, 8)). */
  unflatten(): void {
    const u = this.input.earlyAllocs?.unflatten ?? null;
    if (u === null || this.input.tree === null) return;
    const boot = this.boot;
    const size = unflattenSize(this.input.tree, {
      bootargs: u.bootargs,
      initrd: boot?.initrd != null,
      qemuMemory: boot?.qemuTree === true ? { ramBase: this.mb.startOfDram() } : null,
    });
    this.mb.allocRange(size, 8, 0, Infinity);
  }

  /** 6.1 / 6.6: save everything during the scan, then fdt_init_reserved_mem(). */
  legacy(): void {
    if (!this.b.memreserveAfterScan) this.reserveMemreserve();
    const found = this.children();
    if (found !== null && !found.ok) this.log.push(`${this.prefix}Reserved memory: unsupported node format, ignoring`);
    if (found !== null && found.ok) {
      for (const { node, order } of this.earlyScan(found.rm)) this.save(node, order, 0, 0);
    }
    if (this.b.memreserveAfterScan) this.reserveMemreserve();
    // fdt_init_reserved_mem()
    this.checkOverlap();
    for (const r of [...this.saved]) {
      if (r.size === 0) {
        const got = hasProp(r.node, 'size') ? this.allocSize(r.node) : null;
        if (got === null) {
          if (!hasProp(r.node, 'size')) this.setStatus(r.node, 'failed', this.drafts.get(r.node)!.reason ?? 'size 0');
          continue;
        }
        r.base = got.base;
        r.size = got.size;
      }
      this.initNode(r);
    }
    this.pagingInit();
    this.unflatten();
  }

  /** 6.12+: dynamic regions allocated and initialised early, static ones in the late scan. */
  restructured(): void {
    const found = this.children();
    if (found !== null && !found.ok) this.log.push(`${this.prefix}Reserved memory: unsupported node format, ignoring`);
    if (found !== null && found.ok) {
      for (const { node: child, order } of this.earlyScan(found.rm)) {
        const got = this.allocSize(child);
        if (got === null) continue;
        const r = this.save(child, order, got.base, got.size);
        if (r !== null) this.initNode(r);
      }
    }
    this.reserveMemreserve();
    this.pagingInit();
    // unflatten_device_tree() → fdt_scan_reserved_mem_reg_nodes(), then the tree itself
    this.lateScan(found);
    this.unflatten();
  }

  /** The late scan of the restructured code (unflatten_device_tree() → fdt_scan_reserved_mem_reg_nodes()). */
  lateScan(found: { rm: DtNode; ok: boolean } | null): void {
    if (this.input.tree === null) return;
    if (found === null) {
      this.log.push(`${this.prefix}Reserved memory: No reserved-memory node in the DT`);
      return;
    }
    if (!found.ok) {
      this.log.push(`${this.prefix}Reserved memory: unsupported node format, ignoring`);
      return;
    }
    // fdt_scan_reserved_mem_late(): the reserved_mem array, one entry per region the early scan kept
    const structSize = this.input.earlyAllocs === undefined ? 0 : this.b.rmemStructSize;
    const kept = [...this.drafts.values()].filter((d) => d.status === 'ok').length;
    if (structSize > 0 && kept > 0) this.mb.allocRange(kept * structSize, SMP_CACHE_BYTES, 0, Infinity);
    const tupleBytes = (this.cells.addr + this.cells.size) * 4;
    found.rm.children.forEach((child, i) => {
      const d = this.drafts.get(child)!;
      const len = propLength(child, 'reg');
      if (len === null || !isAvailable(child) || tupleBytes === 0) return;
      if (this.b.cmdlineSkipsDtDefault && d.cmaDefault && this.ctx.cmdlineCma) return;
      const t = addrSizeTuples(child, 'reg', this.cells);
      if (t === null) return;
      if (this.b.lateScanSingleTuple) {
        if (t.trailing !== 0 || t.tuples.length !== 1) {
          if (d.status === 'ok') d.reason = 'reg has more than one tuple: reserved but never initialised (of_flat_dt_get_addr_size())';
          return;
        }
      } else {
        if (len !== 0 && len % tupleBytes !== 0) {
          this.log.push(`${this.prefix}Reserved memory: invalid reg property in '${d.name}', skipping node.`);
          return;
        }
        if (this.b.warnIgnoredRegs && len > tupleBytes) {
          this.log.push(`${this.prefix}fdt_scan_reserved_mem_reg_nodes() ignores ${len / tupleBytes - 1} regions in node '${d.name}'`);
        }
      }
      const first = t.tuples[0];
      if (first === undefined || first.size === 0) {
        if (d.status === 'ok') this.setStatus(child, 'failed', d.reason ?? 'first reg tuple has size 0');
        return;
      }
      const r = this.save(child, i, first.base, first.size);
      if (r !== null) this.initNode(r);
    });
    this.checkOverlap();
  }

  // -- the default CMA area --------------------------------------------------------------------

  /**
   * kernel/dma/contiguous.c dma_contiguous_reserve(limit): `cma=` (size_cmdline != -1) wins over
   * CONFIG_CMA_SIZE_MBYTES; limit = min_not_zero(cmdline limit, arch limit) (arm64:
   * arm64_dma_phys_limit; x86-64: max_pfn_mapped << PAGE_SHIFT, the end of RAM, from
   * arch/x86/kernel/setup.c setup_arch(), which cma_declare_contiguous_nid() aligns down to the
   * area's alignment: 0x7fc00000 on the 6.1 referee with 2 GiB, whose RAM ends at 0x7ffe0000);
   * nothing when the size is 0 or a default area
   * already exists (a DT linux,cma-default region); else dma_contiguous_reserve_area() →
   * cma_declare_contiguous_nid() (mm/cmdline.ts placeCmaArea(), area name "reserved").
   */
  defaultArea(): void {
    const { params, arch } = this.input;
    if (this.input.dmaCma === false) return; // dma_contiguous_reserve() is an empty stub without CONFIG_DMA_CMA
    const arg = params.get('cma');
    let req: { size: number; base: number; limit: number; fixed: boolean } | null = null;
    const selected = this.kconfigSize();
    if (arg !== undefined) {
      const parsed = parseCmaParam(arg);
      if ('error' in parsed) {
        // early_cma(): memparse() of something that is not a number gives 0.
        this.diagnostics.push(`${parsed.error}: read as cma=0 (no command-line area; a DT default area is still skipped)`);
        req = { size: 0, base: 0, limit: 0, fixed: false };
      } else req = parsed;
    } else if (selected > 0) {
      req = { size: selected, base: 0, limit: 0, fixed: false };
    }
    if (req === null || req.size === 0 || this.ctx.defaultCma !== null) return;
    const archLimit = arch === 'arm64' ? ((this.input.arm64ZoneDma ?? true) ? arm64DmaPhysLimit(this.mb) : this.mb.endOfDram()) : this.mb.endOfDram();
    const limit = minNotZero(req.limit, archLimit);
    if (this.ctx.cmaAreas.length >= this.ctx.maxCmaAreas) {
      this.log.push('cma: Not enough slots for CMA reserved regions!');
      return;
    }
    // A fixed placement checks memblock_is_region_reserved() only; a search skips NOMAP memory.
    const fixed = req.fixed && req.base !== 0;
    const { ram, reserved } = this.mb.asRanges(!fixed);
    const placed = placeCmaArea({ size: req.size, base: req.base, limit, fixed: req.fixed, logNode: this.b.cmaReservedOnNode }, ram, reserved, this.ctx.cmaMinAlign);
    this.log.push(...placed.log);
    if ('errno' in placed) {
      if (placed.log.length === 0) this.diagnostics.push(placed.message);
      return;
    }
    this.mb.reserve(placed.base, placed.size);
    const area: CmaAreaRecord = { name: 'reserved', base: placed.base, size: placed.size, regionPath: null };
    this.ctx.cmaAreas.push(area);
    this.ctx.defaultCma = area;
  }

  /**
   * The default area's size without `cma=` (dma_contiguous_reserve(): selected_size):
   * CONFIG_CMA_SIZE_MBYTES, or cma_early_percent_memory() = CONFIG_CMA_SIZE_PERCENTAGE percent
   * of memblock_phys_mem_size() in whole pages, or the smaller/larger of the two.
   */
  kconfigSize(): number {
    const ps = this.input.pageSize;
    const bytes = this.input.cmaSizeMbytes * SZ_1M;
    const totalPages = Math.floor(this.mb.snapshot().memory.reduce((n, r) => n + r.size, 0) / ps);
    const percent = Math.floor((totalPages * (this.input.cmaSizePercentage ?? 0)) / 100) * ps;
    switch (this.input.cmaSizeSel ?? 'mbytes') {
      case 'mbytes':
        return bytes;
      case 'percentage':
        return percent;
      case 'min':
        return Math.min(bytes, percent);
      case 'max':
        return Math.max(bytes, percent);
    }
  }

  /**
   * What the loader left in memory, reserved as the kernel does (arm64: the DTB from
   * setup_machine_fdt(), then in arm64_memblock_init() the initrd, page-aligned and added to
   * memblock.memory too, and the kernel image), or the plain `kernelImage` reservation.
   */
  reserveBoot(): void {
    if (this.input.loader === undefined) {
      const k = this.input.kernelImage;
      this.mb.reserve(k.base, k.size);
      return;
    }
    const resolved = resolveLoader(this.input.loader, { arch: this.input.arch, ram: this.mb.snapshot().memory, dtbFileSize: this.input.dtbFileSize ?? null });
    if ('error' in resolved) {
      this.diagnostics.push(`${resolved.error}: no loader reservations`);
      return;
    }
    const boot = resolved;
    this.boot = boot;
    // a loader that places no image (qemu-pc, or none without image=): the kernel image keeps
    // `kernelImage` as without a loader (without a board, the first 16 MiB of RAM; with one, nothing)
    if (boot.image === null && this.input.kernelImage.size > 0) this.mb.reserve(this.input.kernelImage.base, this.input.kernelImage.size);
    const ps = this.input.pageSize;
    if (boot.dtb !== null) this.mb.reserve(boot.dtb.base, boot.dtb.size);
    if (boot.initrd !== null) {
      const base = Math.floor(boot.initrd.base / ps) * ps;
      const size = Math.ceil((boot.initrd.base + boot.initrd.size) / ps) * ps - base;
      if (!this.mb.containedInMemory(base, size)) this.diagnostics.push(`the initrd (${formatPa(base)}, ${size} bytes) is not inside RAM: arm64_memblock_init() adds it to memory`);
      this.mb.addMemory(base, size);
      this.mb.reserve(base, size);
    }
    if (boot.image !== null) this.mb.reserve(boot.image.base, boot.image.size);
  }

  run(): MemoryPlan {
    this.scanMemory();
    this.reserveBoot();
    if (this.input.tree !== null) {
      if (this.b.restructured) this.restructured();
      else this.legacy();
    } else this.pagingInit();
    this.defaultArea();
    for (const d of this.drafts.values()) {
      if (d.status === 'ok' && !this.mb.containedInMemory(d.base, d.size) && d.size > 0 && d.handler !== 'cma') {
        this.diagnostics.push(`${d.path}: ${formatPa(d.base)}+${d.size} is not entirely inside RAM`);
      }
    }
    const def = this.ctx.defaultCma;
    const areas = this.ctx.cmaAreas.filter((a) => !this.outsideRam.has(a));
    const snap = this.mb.snapshot();
    const regions: ReservedRegion[] = [];
    const rm = this.input.tree === null ? null : findReservedMemory(this.input.tree);
    for (const c of rm?.children ?? []) {
      const d = this.drafts.get(c);
      if (d !== undefined) regions.push({ ...d });
    }
    return {
      ram: snap.memory,
      memreserve: this.memreserve,
      regions,
      cmaAreas: areas.map((a) => ({ name: a.name, base: a.base, size: a.size, isDefault: a === def, regionPath: a.regionPath })),
      defaultCma: def !== null && areas.includes(def) ? def.name : null,
      coherentPools: this.ctx.coherentPools,
      restrictedPools: this.ctx.restrictedPools,
      memblock: snap,
      log: this.log,
      diagnostics: this.diagnostics,
      boot: this.boot,
    };
  }
}

/** `ranges` minus `holes`, both sorted and merged. */
function subtract(ranges: readonly PhysRange[], holes: readonly PhysRange[]): PhysRange[] {
  const out: PhysRange[] = [];
  for (const r of ranges) {
    let s = r.base;
    const e = r.base + r.size;
    for (const h of holes) {
      const hs = h.base;
      const he = h.base + h.size;
      if (he <= s || hs >= e) continue;
      if (hs > s) out.push({ base: s, size: hs - s });
      s = Math.max(s, he);
    }
    if (s < e) out.push({ base: s, size: e - s });
  }
  return out;
}

/**
 * Plan the boot-time memory layout: RAM, /memreserve/, /reserved-memory regions and their
 * handlers, and the default CMA area, with the kernel's printk lines (see the file comment for
 * the order of events and reserved-versions.ts for what each profile changes).
 */
export function planMemory(input: PlanMemoryInput): MemoryPlan {
  return new Planner(input).run();
}
