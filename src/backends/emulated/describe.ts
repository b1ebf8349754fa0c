/**
 * What the emulated kernel knows about its heaps, for tools: the facts a real system only hints
 * at through names (which memory backs a heap, how big it is, how much is free, which devices
 * use it), in the shape the naming linter and the heap diff take.
 */
import type { HeapFacts, HeapIdentity } from '../../api/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { CmaArea } from '../../kernel/mm/cma.js';
import { CoherentPool } from '../../kernel/mm/coherent-pool.js';
import { baseName, nodePath, propCells } from '../../kernel/of/tree.js';
import type { ReservedRegion } from '../../kernel/of/reserved-mem.js';
import type { TeePool } from '../../kernel/kapi.js';
import { DMA_HEAP_MAJOR } from '../../kernel/dma-heap/dma-heap.js';

export interface RegionDescription {
  /** Full DT node name, or null for the command-line/Kconfig CMA area. */
  readonly name: string | null;
  readonly path: string | null;
  readonly base: number;
  readonly size: number;
  readonly reusable: boolean;
  readonly nomap: boolean;
  /** DT nodes whose memory-region points at it. */
  readonly users: readonly string[];
}

export interface HeapDescription {
  readonly name: string;
  readonly path: string;
  readonly minor: number;
  /** major:minor as /sys/class/dma_heap/<name>/dev shows it */
  readonly dev: string;
  readonly kind: 'system' | 'cma' | 'coherent' | 'protected';
  readonly contiguous: boolean;
  readonly cacheable: boolean;
  readonly protected: boolean;
  /** bytes the heap could hand out in total, and free now */
  readonly capacity: number;
  readonly free: number;
  /** The memory behind the heap (null for the system heap). */
  readonly region: RegionDescription | null;
  /** The CMA area, coherent pool or TEE pool behind it (null for the system heap). */
  readonly area: string | null;
  /** A compatibility name (the 6.17-6.18 legacy duplicate of the default CMA heap). */
  readonly legacyAlias: boolean;
}

/** Devices (DT nodes) whose memory-region names the region with `phandle`. */
function usersOf(k: Kernel, phandle: number | null): string[] {
  if (phandle === null || k.board === null) return [];
  const out: string[] = [];
  for (const n of k.board.nodes()) if ((propCells(n, 'memory-region') ?? []).includes(phandle)) out.push(nodePath(n));
  return out;
}

function regionDesc(k: Kernel, r: ReservedRegion | undefined, fallback: { base: number; size: number }): RegionDescription {
  if (r === undefined) return { name: null, path: null, base: fallback.base, size: fallback.size, reusable: true, nomap: false, users: [] };
  return { name: r.name, path: r.path, base: r.base, size: r.size, reusable: r.reusable, nomap: r.nomap, users: usersOf(k, r.phandle) };
}

export function describeHeaps(k: Kernel): HeapDescription[] {
  const ps = k.pageSize;
  const defaultName = k.defaultCma?.name ?? null;
  return k.heaps().map((h): HeapDescription => {
    const priv = k.dmaHeap.getDrvdata(h);
    const common = { name: h.name, path: `/dev/dma_heap/${h.devName}`, minor: h.minor, dev: `${DMA_HEAP_MAJOR}:${h.minor}` };
    if (priv instanceof CmaArea) {
      const region = regionDesc(k, priv.name === 'reserved' ? undefined : k.regionByName.get(priv.name), { base: priv.basePfn * ps, size: priv.count * ps });
      // 6.17-6.18: a heap named after the default area beside default_cma_region is the legacy duplicate
      const legacyAlias = k.profile.cmaLegacyDuplicate && priv.name === defaultName && h.name === priv.name;
      return { ...common, kind: 'cma', contiguous: true, cacheable: true, protected: false, capacity: priv.count * ps, free: priv.availableCount * ps, region, area: priv.name, legacyAlias };
    }
    if (priv instanceof CoherentPool) {
      const region = regionDesc(k, k.regionByName.get(priv.name), { base: priv.base, size: priv.pages * ps });
      // pool memory is mapped write-combined (memremap MEMREMAP_WC): not CPU-cacheable
      return { ...common, kind: 'coherent', contiguous: true, cacheable: false, protected: false, capacity: priv.pages * ps, free: priv.freePages * ps, region, area: priv.name, legacyAlias: false };
    }
    const tee = priv as TeePool | null;
    if (tee !== null && typeof tee === 'object' && 'useCase' in tee) {
      const r = [...k.regionByName.values()].find((x) => x.path === tee.regionPath);
      const region = regionDesc(k, r, { base: tee.area.basePfn * ps, size: tee.area.count * ps });
      return { ...common, kind: 'protected', contiguous: false, cacheable: false, protected: true, capacity: tee.area.count * ps, free: tee.area.availableCount * ps, region, area: tee.area.name, legacyAlias: false };
    }
    return { ...common, kind: 'system', contiguous: false, cacheable: true, protected: false, capacity: k.buddy.totalPages * ps, free: k.buddy.freePages * ps, region: null, area: null, legacyAlias: false };
  });
}

/** Usage words from the devices that use a region (`vpu@...` → video), for the naming linter. */
const USAGE_WORDS: readonly [RegExp, string][] = [
  [/^(vpu|codec|video|vdec|venc|jpu|hantro|vcodec)/, 'video'],
  [/^(isp|camera|csi|isi|cif|vin)/, 'camera'],
  [/^(display|dss|dpu|lcdif|fb|framebuffer|vop|hdmi|drm|simple-framebuffer)/, 'display'],
  [/^(npu|nna|rknpu)/, 'npu'],
  [/^(gpu|mali|gc)/, 'gpu'],
  [/^(dsp|audio|sound)/, 'audio'],
];

export function usageOf(d: HeapDescription): string | null {
  // the region's own name says what it is for (`cma-video`), before the devices that use it
  for (const token of (d.region?.name ?? '').split(/[-_,@.]/)) {
    for (const [re, word] of USAGE_WORDS) if (re.test(token)) return word;
  }
  for (const u of d.region?.users ?? []) {
    const n = baseName(u.split('/').pop() ?? '');
    for (const [re, word] of USAGE_WORDS) if (re.test(n)) return word;
  }
  return null;
}

/** The facts the naming linter needs. */
export function heapFacts(d: HeapDescription): HeapFacts {
  return {
    name: d.name,
    kind: d.kind,
    region: d.region === null ? null : { nodeName: d.region.name, path: d.region.path, base: d.region.base, size: d.region.size, reusable: d.region.reusable, nomap: d.region.nomap },
    contiguous: d.contiguous,
    cacheable: d.cacheable,
    protected: d.protected,
    usage: usageOf(d),
    legacyAlias: d.legacyAlias,
  };
}

/** What memory a heap is, independent of its name (for diffs between kernels). */
export function heapIdentity(d: HeapDescription): HeapIdentity {
  return { name: d.name, backing: d.kind === 'system' ? 'system' : `${d.kind}:${d.region?.path ?? d.area ?? d.name}` };
}
