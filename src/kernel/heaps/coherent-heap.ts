/**
 * The proposed coherent reserved-memory heap: one heap per non-reusable `shared-dma-pool`
 * region, serving buffers from that region's per-device coherent pool with no fallback.
 * Behind a feature flag (KernelConfig.features.coherentHeap), as it is not merged.
 *
 * Over a `no-map` region there are no struct pages: the paths that need them (a page array for
 * the sg table an importer maps, a kernel vmap, a CPU mmap of pages) refuse. See
 * docs/fidelity.md, `coherent-nomap`.
 *
 * @kernel drivers/dma-buf/heaps/coherent_heap.c (2026 coherent heap series v3, spec §3.3);
 *   kernel/dma/coherent.c dma_alloc_from_dev_coherent
 */
import { Errno } from '../../uapi/errno.js';
import type { DmaBuf, DmaBufOps, SgEntry } from '../dma-buf/dma-buf.js';
import type { DmaHeap } from '../dma-heap/dma-heap.js';
import { VM_DONTDUMP, VM_DONTEXPAND, VM_IO, VM_MAYWRITE, VM_PFNMAP, VM_SHARED } from '../fs/mm-user.js';
import type { Vma } from '../fs/mm-user.js';
import type { HeapModule, KernelServices } from '../kapi.js';
import { PageRun } from '../mm/backing.js';
import type { CoherentPool } from '../mm/coherent-pool.js';
import type { KResult } from '../result.js';
import { exportHeapBuffer, PagedBuffer } from './paged-buffer.js';

const E = Errno;

class CoherentHeapBuffer extends PagedBuffer {
  constructor(
    readonly pool: CoherentPool,
    /** First page of the block in the pool. */
    readonly pos: number,
    run: PageRun,
    k: KernelServices,
  ) {
    super([run], k.pageSize, k.backing, k.zeroPage, !pool.nomap);
  }
}

/** The heap's name: the DT node name (v3) or `coherent_<node name>` (a later revision). */
export function coherentHeapName(pool: CoherentPool, style: 'v3' | 'prefixed'): string {
  return style === 'prefixed' ? `coherent_${pool.name}` : pool.name;
}

/**
 * coherent_heap_allocate(): drvdata missing → EINVAL; dma_alloc_coherent() from the pool
 * (power-of-two block relative to the pool start; full → ENOMEM, no fallback); zeroed; export.
 */
function allocate(k: KernelServices, ops: DmaBufOps, heap: DmaHeap, len: number, fdFlags: number): KResult<DmaBuf> {
  const pool = k.dmaHeap.getDrvdata(heap) as CoherentPool | null;
  if (pool === null) return -E.EINVAL;
  const pos = pool.alloc(len);
  if (pos < 0) return -E.ENOMEM;
  const ps = k.pageSize;
  const run = new PageRun(pool.base / ps + pos, len / ps, len);
  const buffer = new CoherentHeapBuffer(pool, pos, run, k);
  return exportHeapBuffer(k, ops, heap, len, fdFlags, buffer, () => pool.release(pos, len));
}

function makeOps(k: KernelServices): DmaBufOps {
  return {
    attach: () => 0,
    detach: () => undefined,
    /** The sg table is built from the page array: none for no-map memory (CMA/coherent map failures are ENOMEM, spec §3.0). */
    mapDmaBuf: (att): KResult<SgEntry[]> => {
      const b = att.dmabuf.priv as CoherentHeapBuffer;
      if (!b.hasPages) return -E.ENOMEM;
      const r = b.runs[0]!;
      return [{ pfn: r.pfn, length: r.bytes }];
    },
    unmapDmaBuf: () => undefined,
    beginCpuAccess: () => 0,
    endCpuAccess: () => 0,
    /** The coherent mmap helper: pages inside the buffer only (ENXIO otherwise); no pages, no mapping. */
    mmap: (buf: DmaBuf, vma: Vma): number => {
      const b = buf.priv as CoherentHeapBuffer;
      if (!b.hasPages) return -E.EINVAL;
      if (vma.pgoff + vma.length / k.pageSize > b.pages) return -E.ENXIO;
      // one remap_pfn_range() over the whole VMA, so a private (COW) mapping of any size works
      // and /proc/<pid>/maps shows its first PFN as the offset
      if ((vma.vmFlags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE) vma.mapsPgoff = b.pfnOf(vma.pgoff);
      vma.vmFlags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
      vma.pages = (p, write) => b.page(p, write);
      return 0;
    },
    vmap: (buf: DmaBuf) => {
      const b = buf.priv as CoherentHeapBuffer;
      return b.hasPages ? { vaddr: b } : -E.ENOMEM;
    },
    vunmap: () => undefined,
    release: (buf: DmaBuf) => {
      const b = buf.priv as CoherentHeapBuffer;
      b.runs[0]!.drop(k.backing);
      b.pool.release(b.pos, buf.size);
    },
  };
}

export const coherentHeapModule: HeapModule = {
  name: 'coherent_heap',
  kconfig: 'CONFIG_DMABUF_HEAPS_COHERENT',
  /** One heap per coherent pool; a heap that fails to register is skipped with a warning. */
  init(k: KernelServices): number {
    const style = k.features.coherentHeap;
    if (style === false) return 0;
    const ops = makeOps(k);
    for (const pool of k.coherentPools) {
      const name = coherentHeapName(pool, style);
      const heap = k.dmaHeap.add({ name, ops: { allocate: (h, len, fdFlags) => allocate(k, ops, h, len, fdFlags) }, priv: pool });
      if (typeof heap === 'number') k.log(`coherent_heap: failed to add heap ${name}: ${heap}`);
    }
    return 0;
  },
};
