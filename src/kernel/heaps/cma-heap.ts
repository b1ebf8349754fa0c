/**
 * CMA heaps: physically contiguous buffers from a CMA area.
 *
 * @kernel drivers/dma-buf/heaps/cma_heap.c
 */
import { Errno } from '../../uapi/errno.js';
import type { DmemPool } from '../cgroup/dmem.js';
import type { DmaBuf, DmaBufOps, SgEntry } from '../dma-buf/dma-buf.js';
import type { DmaHeap } from '../dma-heap/dma-heap.js';
import { VM_DONTDUMP, VM_DONTEXPAND, VM_IO, VM_MAYSHARE, VM_PFNMAP, VM_SHARED } from '../fs/mm-user.js';
import type { Vma } from '../fs/mm-user.js';
import type { Process } from '../fs/process.js';
import type { HeapModule, KernelServices } from '../kapi.js';
import { PageRun } from '../mm/backing.js';
import { cmaAlignOrder } from '../mm/cma.js';
import type { CmaArea } from '../mm/cma.js';
import type { KResult } from '../result.js';
import { helperMmap, pageArrayFits } from './heap-helpers.js';
import { exportHeapBuffer, PagedBuffer } from './paged-buffer.js';

const E = Errno;

/** DEFAULT_CMA_NAME (v6.17+) */
export const DEFAULT_CMA_NAME = 'default_cma_region';

class CmaHeapBuffer extends PagedBuffer {
  constructor(
    readonly area: CmaArea,
    run: PageRun,
    k: KernelServices,
    /** The dmem pool the buffer is charged to (proposed dmem charging), or null. */
    readonly pool: DmemPool | null,
  ) {
    super([run], k.pageSize, k.backing, k.zeroPage);
  }
}

/**
 * cma_heap_allocate(): alignment order = min(get_order(size), CONFIG_CMA_ALIGNMENT); (proposed,
 * 2026 dmem series v2) with dma_heap.mem_accounting, `size` bytes are charged to the allocating
 * task's dmem pool of the area's `cma/<area>` region first — a dmem.max on the way returns the
 * charge's -EAGAIN as is; then cma_alloc() (failure → uncharge, ENOMEM); the range is zeroed
 * (lazily here) and exported (failure → release and uncharge).
 * @kernel drivers/dma-buf/heaps/cma_heap.c cma_heap_allocate (+ "dma-buf: heaps: cma: charge each cma heap's dmem")
 */
function allocate(k: KernelServices, ops: DmaBufOps, area: CmaArea, heap: DmaHeap, len: number, fdFlags: number, proc: Process | null): KResult<DmaBuf> {
  const ps = k.pageSize;
  const pagecount = len / ps;
  const align = cmaAlignOrder(len, ps, k.cmaAlignment);
  const dmem = k.memAccounting ? k.dmem : null;
  const region = dmem?.regionOfCma(area) ?? null;
  let pool: DmemPool | null = null;
  if (dmem !== null && region !== null) {
    const charged = dmem.tryCharge(region, len, proc);
    if (typeof charged === 'number') return charged;
    pool = charged;
  }
  // a fatal signal pending makes cma_alloc() fail (alloc_contig_range() -EINTR), and the heap
  // reports that failure as ENOMEM like any other (cma_heap_allocate)
  const pfn = area.alloc(pagecount, align, proc !== null && proc.fatalSignalPending);
  if (pfn < 0) {
    // the posted v2 returns ERR_PTR(0) here (its ret holds the charge's 0): see docs/accounting.md
    dmem?.uncharge(pool, len);
    return -E.ENOMEM;
  }
  // v5.10: the helper library's page-pointer array comes after cma_alloc(); too large, the
  // range goes back (cma_heap.c cma_heap_allocate, v5.10: free_cma)
  if (k.profile.heapHelpers && !pageArrayFits(k, pagecount)) {
    area.release(pfn, pagecount);
    return -E.ENOMEM;
  }
  const buffer = new CmaHeapBuffer(area, new PageRun(pfn, pagecount, len), k, pool);
  return exportHeapBuffer(k, ops, heap, len, fdFlags, buffer, () => {
    area.release(pfn, pagecount);
    dmem?.uncharge(pool, len);
  });
}

function makeOps(k: KernelServices): DmaBufOps {
  return {
    attach: (buf, att) => (buf.priv as CmaHeapBuffer).attach(att),
    detach: (buf, att) => (buf.priv as CmaHeapBuffer).detach(att),
    /** cma_heap_map_dma_buf(): any mapping failure is ENOMEM. */
    mapDmaBuf: (att, dir): KResult<SgEntry[]> => (att.dmabuf.priv as CmaHeapBuffer).map(att, dir, -E.ENOMEM),
    unmapDmaBuf: (att, sgt, dir) => (att.dmabuf.priv as CmaHeapBuffer).unmap(att, sgt, dir),
    beginCpuAccess: (buf, dir) => (buf.priv as CmaHeapBuffer).beginCpuAccess(dir),
    endCpuAccess: (buf, dir) => (buf.priv as CmaHeapBuffer).endCpuAccess(dir),
    /** cma_heap_mmap(): a shared mapping is required (EINVAL otherwise); pages fault in lazily. */
    mmap: (buf: DmaBuf, vma: Vma): number => {
      if (k.profile.heapHelpers) return helperMmap(buf, vma);
      if ((vma.vmFlags & (VM_SHARED | VM_MAYSHARE)) === 0) return -E.EINVAL;
      // 6.8+ inserts PFNs (vmf_insert_pfn: VM_PFNMAP and friends); before, pages were inserted with no flags
      if (k.profile.cmaMmapPfn) vma.vmFlags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
      const b = buf.priv as CmaHeapBuffer;
      // cma_heap_vm_fault(): a page offset past the buffer is SIGBUS
      vma.pages = (p, write) => b.page(p, write);
      return 0;
    },
    vmap: (buf: DmaBuf) => ({ vaddr: buf.priv as CmaHeapBuffer }),
    vunmap: () => undefined,
    release: (buf: DmaBuf) => {
      const b = buf.priv as CmaHeapBuffer;
      const r = b.runs[0]!;
      r.drop(k.backing);
      b.area.release(r.pfn, r.pages);
      if (b.pool !== null) k.dmem?.uncharge(b.pool, buf.size);
    },
  };
}

/** __add_cma_heap(): one heap over one area. */
function addCmaHeap(k: KernelServices, ops: DmaBufOps, area: CmaArea, name: string): number {
  const heap = k.dmaHeap.add({
    name,
    ops: { allocate: (h, len, fdFlags, _heapFlags, proc) => allocate(k, ops, area, h, len, fdFlags, proc) },
    priv: area,
  });
  return typeof heap === 'number' ? heap : 0;
}

export const cmaHeapModule: HeapModule = {
  name: 'cma_heap',
  kconfig: 'CONFIG_DMABUF_HEAPS_CMA',
  /**
   * add_cma_heaps(): the default area first, under the profile's name (the area's own name up
   * to 6.16, `default_cma_region` from 6.17), then the 6.17-6.18 legacy duplicate, then (6.19+)
   * one heap per registered area. A failure of the default heap aborts; a failing per-region
   * heap is skipped with a warning.
   */
  init(k: KernelServices): number {
    const ops = makeOps(k);
    const p = k.profile;
    const def = k.defaultCma;
    if (def !== null) {
      const name = p.defaultCmaHeapName === 'area' ? def.name : DEFAULT_CMA_NAME;
      const r = addCmaHeap(k, ops, def, name);
      if (r < 0) return r;
      if (p.cmaLegacyDuplicate && k.cmaLegacyHeap) {
        if (def.name === DEFAULT_CMA_NAME) k.log('cma_heap: legacy name and default name are the same, skipping legacy heap');
        else {
          const lr = addCmaHeap(k, ops, def, def.name);
          if (lr < 0) k.log(`cma_heap: failed to add legacy heap: ${lr}`);
        }
      }
    }
    if (p.cmaHeapPerRegion) {
      for (const area of k.cmaAreas) {
        if (area === def && p.defaultCmaHeapName === 'area') continue;
        const r = addCmaHeap(k, ops, area, area.name);
        if (r < 0) k.log(`cma_heap: failed to add heap for ${area.name}: ${r}`);
      }
    }
    return 0;
  },
};
