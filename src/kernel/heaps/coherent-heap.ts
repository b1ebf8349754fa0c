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
import type { DmemPool, DmemRegion } from '../cgroup/dmem.js';
import type { DmaBuf, DmaBufOps, SgEntry } from '../dma-buf/dma-buf.js';
import type { DmaHeap } from '../dma-heap/dma-heap.js';
import { VM_DONTDUMP, VM_DONTEXPAND, VM_IO, VM_MAYWRITE, VM_PFNMAP, VM_SHARED } from '../fs/mm-user.js';
import type { Vma } from '../fs/mm-user.js';
import type { Process } from '../fs/process.js';
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
    /** The dmem pool the buffer is charged to (proposed dmem charging), or null. */
    readonly dmemPool: DmemPool | null,
  ) {
    super([run], k.pageSize, k.backing, k.zeroPage, !pool.nomap);
  }
}

/** The heap's name: the DT node name (v3) or `coherent_<node name>` (a later revision). */
export function coherentHeapName(pool: CoherentPool, style: 'v3' | 'prefixed'): string {
  return style === 'prefixed' ? `coherent_${pool.name}` : pool.name;
}

/**
 * coherent_heap_allocate(): drvdata missing → EINVAL; (proposed dmem charging) with
 * dma_heap.mem_accounting, `size` bytes charged to the allocating task's dmem pool of the
 * heap's `coh/<region>` region — a dmem.max on the way returns -EAGAIN as is;
 * dma_alloc_coherent() from the pool (power-of-two block relative to the pool start; full →
 * uncharge, ENOMEM, no fallback); zeroed; export (failure → free and uncharge).
 * @kernel drivers/dma-buf/heaps/coherent_heap.c coherent_heap_allocate (2026 coherent heap series)
 */
function allocate(k: KernelServices, ops: DmaBufOps, heap: DmaHeap, len: number, fdFlags: number, proc: Process | null, region: DmemRegion | null): KResult<DmaBuf> {
  const pool = k.dmaHeap.getDrvdata(heap) as CoherentPool | null;
  if (pool === null) return -E.EINVAL;
  const dmem = k.memAccounting ? k.dmem : null;
  let dmemPool: DmemPool | null = null;
  if (dmem !== null && region !== null) {
    const charged = dmem.tryCharge(region, len, proc);
    if (typeof charged === 'number') return charged;
    dmemPool = charged;
  }
  const pos = pool.alloc(len);
  if (pos < 0) {
    dmem?.uncharge(dmemPool, len);
    return -E.ENOMEM;
  }
  const ps = k.pageSize;
  const run = new PageRun(pool.base / ps + pos, len / ps, len);
  const buffer = new CoherentHeapBuffer(pool, pos, run, k, dmemPool);
  return exportHeapBuffer(k, ops, heap, len, fdFlags, buffer, () => {
    pool.release(pos, len);
    dmem?.uncharge(dmemPool, len);
  });
}

function makeOps(k: KernelServices): DmaBufOps {
  return {
    attach: (buf, att) => (buf.priv as CoherentHeapBuffer).attach(att),
    detach: (buf, att) => (buf.priv as CoherentHeapBuffer).detach(att),
    /** The sg table is built from the page array: none for no-map memory (CMA/coherent map failures are ENOMEM, spec §3.0). */
    mapDmaBuf: (att, dir): KResult<SgEntry[]> => {
      const b = att.dmabuf.priv as CoherentHeapBuffer;
      if (!b.hasPages) return -E.ENOMEM;
      return b.map(att, dir, -E.ENOMEM);
    },
    unmapDmaBuf: (att, sgt, dir) => (att.dmabuf.priv as CoherentHeapBuffer).unmap(att, sgt, dir),
    beginCpuAccess: (buf, dir) => (buf.priv as CoherentHeapBuffer).beginCpuAccess(dir),
    endCpuAccess: (buf, dir) => (buf.priv as CoherentHeapBuffer).endCpuAccess(dir),
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
      if (b.dmemPool !== null) k.dmem?.uncharge(b.dmemPool, buf.size);
    },
  };
}

export const coherentHeapModule: HeapModule = {
  name: 'coherent_heap',
  kconfig: 'CONFIG_DMABUF_HEAPS_COHERENT',
  /**
   * One heap per coherent pool; a heap that fails to register is skipped with a warning. With
   * the proposed dmem charging each pool first gets a dmem region `coh/<region name>` of the
   * region's size (unregistered again if the heap cannot be added).
   */
  init(k: KernelServices): number {
    const style = k.features.coherentHeap;
    if (style === false) return 0;
    const ops = makeOps(k);
    for (const pool of k.coherentPools) {
      const name = coherentHeapName(pool, style);
      const region = k.dmem?.registerRegion(pool.pages * k.pageSize, `coh/${pool.name}`) ?? null;
      const heap = k.dmaHeap.add({ name, ops: { allocate: (h, len, fdFlags, _heapFlags, proc) => allocate(k, ops, h, len, fdFlags, proc, region) }, priv: pool });
      if (typeof heap === 'number') {
        k.dmem?.unregisterRegion(region);
        k.log(`coherent_heap: failed to add heap ${name}: ${heap}`);
      }
    }
    return 0;
  },
};
