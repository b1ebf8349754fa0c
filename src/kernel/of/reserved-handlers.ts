/**
 * The reserved-memory region handlers (RESERVEDMEM_OF_DECLARE() entries) the emulator builds in,
 * in link order: kernel/dma/Makefile links contiguous.o, then coherent.o, then swiotlb.o, so for
 * a `shared-dma-pool` node the CMA handler is tried before the coherent-pool one.
 *
 * Each handler returns 0 or a negative errno; -EINVAL is also how a handler says "not mine" in
 * every profiled kernel (6.1 … 7.0), so a later handler is still tried after it
 * (drivers/of/of_reserved_mem.c __reserved_mem_init_node() keeps looping until one returns 0).
 *
 * @kernel kernel/dma/contiguous.c rmem_cma_setup(), kernel/dma/coherent.c rmem_dma_setup(),
 *         kernel/dma/swiotlb.c rmem_swiotlb_setup(), mm/cma.c cma_init_reserved_mem()
 */
import { Errno } from '../../uapi/errno.js';
import { formatPa } from '../mm/cmdline.js';
import type { Memblock } from './memblock.js';
import type { ReservedMemBehaviour } from './reserved-versions.js';

const SZ_1M = 1024 * 1024;

/** include/linux/cma.h CMA_MAX_NAME: names are truncated to 63 characters. */
export const CMA_MAX_NAME = 64;

export type RegionHandler = 'cma' | 'coherent' | 'restricted-dma';

/** The properties of a region's node that the handlers look at. */
export interface RmemNodeInfo {
  /** fdt_get_name(): the full node name with unit address. */
  readonly name: string;
  readonly path: string;
  readonly compatible: readonly string[];
  readonly nomap: boolean;
  readonly reusable: boolean;
  readonly cmaDefault: boolean;
  readonly dmaDefault: boolean;
}

/** A CMA area as declared at boot (mm/cma.c struct cma: name, base, size). */
export interface CmaAreaRecord {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Path of the /reserved-memory node, or null for the command-line/Kconfig area. */
  readonly regionPath: string | null;
}

/** A non-reusable `shared-dma-pool` region accepted by rmem_dma_setup(). */
export interface CoherentPool {
  readonly name: string;
  readonly path: string;
  readonly base: number;
  readonly size: number;
  readonly nomap: boolean;
  /** linux,dma-default (only acted on by CONFIG_DMA_GLOBAL_POOL architectures, not x86-64/arm64). */
  readonly dmaDefault: boolean;
}

/** A `restricted-dma-pool` region accepted by rmem_swiotlb_setup() (never a heap). */
export interface RestrictedPool {
  readonly name: string;
  readonly path: string;
  readonly base: number;
  readonly size: number;
}

/** Boot state the handlers read and update. */
export interface HandlerContext {
  readonly behaviour: ReservedMemBehaviour;
  readonly log: string[];
  readonly memblock: Memblock;
  /** CMA_MIN_ALIGNMENT_BYTES. */
  readonly cmaMinAlign: number;
  /** CONFIG_DMA_CMA: rmem_cma_setup() is built (kernel/dma/contiguous.c). */
  readonly dmaCma: boolean;
  /** kernel/dma/contiguous.c size_cmdline != -1: `cma=` was on the command line. */
  readonly cmdlineCma: boolean;
  /** CONFIG_CMA_AREAS (MAX_CMA_AREAS). */
  readonly maxCmaAreas: number;
  readonly cmaAreas: CmaAreaRecord[];
  /** kernel/dma/contiguous.c dma_contiguous_default_area. */
  defaultCma: CmaAreaRecord | null;
  readonly coherentPools: CoherentPool[];
  readonly restrictedPools: RestrictedPool[];
}

export interface HandlerResult {
  /** 0 or a negative errno. */
  readonly ret: number;
  /** Why it declined or failed (for ReservedRegion.reason). */
  readonly why?: string;
}

/**
 * mm/cma.c cma_init_reserved_mem(): a slot must be free ("Not enough slots for CMA reserved
 * regions!", -ENOSPC; checked first as in 6.1, newer kernels check it in cma_new_area() after
 * the rest), the range must be non-empty and reserved in memblock (memblock_is_region_reserved())
 * and aligned to CMA_MIN_ALIGNMENT_BYTES; the name is kept to CMA_MAX_NAME - 1 characters.
 */
export function cmaInitReservedMem(ctx: HandlerContext, base: number, size: number, name: string, regionPath: string | null): CmaAreaRecord | { err: number; why: string } {
  if (ctx.cmaAreas.length >= ctx.maxCmaAreas) {
    ctx.log.push('cma: Not enough slots for CMA reserved regions!');
    return { err: -Errno.ENOSPC, why: 'cma_init_reserved_mem: no free CMA area slot (CONFIG_CMA_AREAS)' };
  }
  if (size === 0 || !ctx.memblock.isRegionReserved(base, size)) return { err: -Errno.EINVAL, why: 'cma_init_reserved_mem: range not reserved in memblock' };
  if (base % ctx.cmaMinAlign !== 0 || size % ctx.cmaMinAlign !== 0) return { err: -Errno.EINVAL, why: 'cma_init_reserved_mem: not aligned to CMA_MIN_ALIGNMENT_BYTES' };
  const area: CmaAreaRecord = { name: name.slice(0, CMA_MAX_NAME - 1), base, size, regionPath };
  ctx.cmaAreas.push(area);
  return area;
}

/**
 * kernel/dma/contiguous.c rmem_cma_setup() (its section has pr_fmt "", so the lines carry no
 * prefix):
 * - 6.1–6.18: a linux,cma-default node while `cma=` was given → "Reserved memory: bypass %s
 *   node, using cmdline CMA params instead", -EBUSY (6.19+ never gets here: the scan skipped it);
 * - not `reusable`, or `no-map` → -EINVAL (not a CMA region);
 * - base or size not a multiple of CMA_MIN_ALIGNMENT_BYTES → "Reserved memory: incorrect
 *   alignment of CMA region", -EINVAL;
 * - cma_init_reserved_mem() (order_per_bit 0, the node name) fails → "Reserved memory: unable to
 *   setup CMA region";
 * - linux,cma-default → it becomes dma_contiguous_default_area (the last such node wins);
 * - "Reserved memory: created CMA memory pool at %pa, size %ld MiB".
 */
function rmemCmaSetup(ctx: HandlerContext, n: RmemNodeInfo, base: number, size: number): HandlerResult {
  if (!ctx.behaviour.cmdlineSkipsDtDefault && ctx.cmdlineCma && n.cmaDefault) {
    ctx.log.push(`Reserved memory: bypass ${n.name} node, using cmdline CMA params instead`);
    return { ret: -Errno.EBUSY, why: 'rmem_cma_setup: linux,cma-default bypassed for cma= on the command line' };
  }
  if (!n.reusable || n.nomap) return { ret: -Errno.EINVAL, why: n.reusable ? 'rmem_cma_setup: no-map' : 'rmem_cma_setup: not reusable' };
  if (base % ctx.cmaMinAlign !== 0 || size % ctx.cmaMinAlign !== 0) {
    ctx.log.push('Reserved memory: incorrect alignment of CMA region');
    return { ret: -Errno.EINVAL, why: `rmem_cma_setup: base/size not aligned to ${formatPa(ctx.cmaMinAlign)}` };
  }
  const area = cmaInitReservedMem(ctx, base, size, n.name, n.path);
  if ('err' in area) {
    ctx.log.push('Reserved memory: unable to setup CMA region');
    return { ret: area.err, why: area.why };
  }
  if (n.cmaDefault) ctx.defaultCma = area;
  ctx.log.push(`Reserved memory: created CMA memory pool at ${formatPa(base)}, size ${Math.floor(size / SZ_1M)} MiB`);
  return { ret: 0 };
}

/**
 * kernel/dma/coherent.c rmem_dma_setup(): declines `reusable` regions (-EINVAL in every profiled
 * kernel; -ENODEV after the 2026 ops rework); the CONFIG_ARM "regions without no-map are not yet
 * supported" check does not apply to x86-64/arm64, nor does CONFIG_DMA_GLOBAL_POOL (only the
 * linux,dma-default flag is remembered); "Reserved memory: created DMA memory pool at %pa, size
 * %ld MiB" (no prefix: coherent.c has no pr_fmt). The pool itself is created when a device
 * attaches (rmem_dma_device_init()).
 */
function rmemDmaSetup(ctx: HandlerContext, n: RmemNodeInfo, base: number, size: number): HandlerResult {
  if (n.reusable) return { ret: -Errno.EINVAL, why: 'rmem_dma_setup: reusable' };
  ctx.coherentPools.push({ name: n.name, path: n.path, base, size, nomap: n.nomap, dmaDefault: n.dmaDefault });
  ctx.log.push(`Reserved memory: created DMA memory pool at ${formatPa(base)}, size ${Math.floor(size / SZ_1M)} MiB`);
  return { ret: 0 };
}

/**
 * kernel/dma/swiotlb.c rmem_swiotlb_setup(): rejects `reusable`, `linux,cma-default`,
 * `linux,dma-default` and `no-map` with -EINVAL; otherwise "software IO TLB: Reserved memory:
 * created restricted DMA pool at %pa, size %ld MiB" (swiotlb.c's pr_fmt). The highmem check only
 * matters on 32-bit.
 */
function rmemSwiotlbSetup(ctx: HandlerContext, n: RmemNodeInfo, base: number, size: number): HandlerResult {
  const bad = [n.reusable && 'reusable', n.cmaDefault && 'linux,cma-default', n.dmaDefault && 'linux,dma-default', n.nomap && 'no-map'].filter((x): x is string => x !== false);
  if (bad.length > 0) return { ret: -Errno.EINVAL, why: `rmem_swiotlb_setup: ${bad.join(', ')}` };
  ctx.restrictedPools.push({ name: n.name, path: n.path, base, size });
  ctx.log.push(`software IO TLB: Reserved memory: created restricted DMA pool at ${formatPa(base)}, size ${Math.floor(size / SZ_1M)} MiB`);
  return { ret: 0 };
}

interface HandlerEntry {
  readonly compatible: string;
  readonly handler: RegionHandler;
  readonly setup: (ctx: HandlerContext, n: RmemNodeInfo, base: number, size: number) => HandlerResult;
}

/** __reservedmem_of_table in link order. */
const RESERVEDMEM_TABLE: readonly HandlerEntry[] = [
  { compatible: 'shared-dma-pool', handler: 'cma', setup: rmemCmaSetup },
  { compatible: 'shared-dma-pool', handler: 'coherent', setup: rmemDmaSetup },
  { compatible: 'restricted-dma-pool', handler: 'restricted-dma', setup: rmemSwiotlbSetup },
];

/**
 * drivers/of/fdt.c of_fdt_is_compatible(): the node's compatible list contains the string,
 * compared with of_compat_cmp() (strcasecmp).
 */
export function isCompatible(n: RmemNodeInfo, compat: string): boolean {
  const c = compat.toLowerCase();
  return n.compatible.some((s) => s.toLowerCase() === c);
}

/**
 * drivers/of/of_reserved_mem.c __reserved_mem_init_node(): try every table entry whose compatible
 * the node has, in table order; the first 0 wins ("OF: reserved mem: initialized node %s,
 * compatible id %s"). Returns -ENOENT when no entry matched the node, else the last error.
 */
export function reservedMemInitNode(ctx: HandlerContext, n: RmemNodeInfo, base: number, size: number): { ret: number; handler: RegionHandler | null; why: string[] } {
  let ret = -Errno.ENOENT;
  const why: string[] = [];
  for (const e of RESERVEDMEM_TABLE) {
    if (!isCompatible(n, e.compatible)) continue;
    if (e.handler === 'cma' && !ctx.dmaCma) continue;
    const r = e.setup(ctx, n, base, size);
    ret = r.ret;
    if (r.ret === 0) {
      ctx.log.push(`OF: reserved mem: initialized node ${n.name}, compatible id ${e.compatible}`);
      return { ret, handler: e.handler, why };
    }
    if (r.why !== undefined) why.push(r.why);
  }
  return { ret, handler: null, why };
}
