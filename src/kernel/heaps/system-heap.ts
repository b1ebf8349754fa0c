/**
 * The system heap: buffers of high-order pages from the page allocator, largest order first.
 *
 * @kernel drivers/dma-buf/heaps/system_heap.c
 */
import { Errno } from '../../uapi/errno.js';
import type { Memcg } from '../cgroup/memcontrol.js';
import type { DmaBuf, DmaBufOps, SgEntry } from '../dma-buf/dma-buf.js';
import type { DmaHeap } from '../dma-heap/dma-heap.js';
import { VM_DONTDUMP, VM_DONTEXPAND, VM_IO, VM_MAYWRITE, VM_PFNMAP, VM_SHARED } from '../fs/mm-user.js';
import type { Vma } from '../fs/mm-user.js';
import type { Process } from '../fs/process.js';
import type { HeapModule, KernelServices } from '../kapi.js';
import { PageRun } from '../mm/backing.js';
import type { KResult } from '../result.js';
import { helperMmap, pageArrayFits } from './heap-helpers.js';
import { exportHeapBuffer, PagedBuffer } from './paged-buffer.js';

const E = Errno;

/**
 * Orders tried, largest first: 1 MiB, 64 KiB and one page with 4 KiB pages, chosen to match
 * common IOMMU page sizes (system_heap.c `orders[]`).
 */
export const SYSTEM_HEAP_ORDERS: readonly number[] = [8, 4, 0];

class SystemHeapBuffer extends PagedBuffer {
  constructor(
    runs: PageRun[],
    k: KernelServices,
    readonly heap: DmaHeap,
    /** The memcg the pages are charged to (dma_heap.mem_accounting), or null. */
    readonly memcg: Memcg | null,
  ) {
    super(runs, k.pageSize, k.backing, k.zeroPage);
  }
}

/**
 * Frees the pages; pages allocated with __GFP_ACCOUNT are uncharged from the memcg they were
 * charged to as they go back (mm/page_alloc.c free_pages_prepare → __memcg_kmem_uncharge_page).
 */
function freeRuns(k: KernelServices, runs: PageRun[], memcg: Memcg | null): void {
  const ps = k.pageSize;
  for (const r of runs) {
    r.drop(k.backing);
    // a helper buffer's run is physically adjacent order-0 pages (Profile.heapHelpers)
    if (k.profile.heapHelpers) for (let i = 0; i < r.pages; i++) k.buddy.free(r.pfn + i, 0);
    else k.buddy.free(r.pfn, Math.log2(r.bytes / ps));
    if (memcg !== null) k.kmem.uncharge(memcg, r.pages);
  }
}

/**
 * system_heap_allocate(): loop while bytes remain: a pending fatal signal → EINTR; take the
 * largest order that fits the remainder and is not above the last order used; none → ENOMEM.
 * Pages are zeroed (__GFP_ZERO): here they are lazily backed, so they read as zero.
 * With dma_heap.mem_accounting (7.0) every page allocation also has __GFP_ACCOUNT: the pages are
 * charged to the allocating task's memcg as they are allocated, and an order whose charge
 * would exceed memory.max fails like an allocation failure (the block is given back and the
 * next smaller order is tried), so at the limit the heap returns ENOMEM. (Linux may instead
 * reclaim, or for order-0 pages invoke the memcg OOM killer; neither is modelled.)
 * @kernel mm/page_alloc.c __alloc_pages (__memcg_kmem_charge_page for __GFP_ACCOUNT)
 */
function allocate(k: KernelServices, ops: DmaBufOps, heap: DmaHeap, len: number, fdFlags: number, proc: Process | null): KResult<DmaBuf> {
  if (k.profile.heapHelpers) return allocateHelpers(k, ops, heap, len, fdFlags, proc);
  const ps = k.pageSize;
  const runs: PageRun[] = [];
  let remaining = len;
  let maxOrder = SYSTEM_HEAP_ORDERS[0]!;
  const buddy = k.buddy;
  // the charge_pid_fd RFC drops __GFP_ACCOUNT here: the heap core charges the whole buffer instead
  const memcg = k.memAccounting && !k.features.chargePidFd ? k.kmem.memcgOf(proc) : null;
  while (remaining > 0) {
    if (proc !== null && proc.fatalSignalPending) {
      freeRuns(k, runs, memcg);
      return -E.EINTR;
    }
    // A request larger than all free memory takes every page and then fails: skip the work.
    if (remaining / ps > buddy.freePages) {
      freeRuns(k, runs, memcg);
      return -E.ENOMEM;
    }
    let got = -1;
    let order = 0;
    for (const o of SYSTEM_HEAP_ORDERS) {
      if (remaining < ps * 2 ** o) continue;
      if (maxOrder < o) continue;
      got = buddy.alloc(o);
      if (got >= 0 && memcg !== null && !k.kmem.tryCharge(memcg, 2 ** o)) {
        buddy.free(got, o);
        got = -1;
      }
      if (got >= 0) {
        order = o;
        break;
      }
    }
    if (got < 0) {
      freeRuns(k, runs, memcg);
      return -E.ENOMEM;
    }
    const pages = 2 ** order;
    runs.push(new PageRun(got, pages, pages * ps));
    remaining -= pages * ps;
    maxOrder = order;
  }
  // an exact-size array: a pushed-to array keeps spare capacity for every live buffer
  const buffer = new SystemHeapBuffer(runs.length === 1 ? [runs[0]!] : runs.slice(), k, heap, memcg);
  return exportHeapBuffer(k, ops, heap, len, fdFlags, buffer, () => freeRuns(k, runs, memcg));
}

/**
 * v5.10 system_heap_allocate() on the helper library: the page-pointer array first (too large:
 * ENOMEM), then one zeroed order-0 page at a time, a pending fatal signal failing with the
 * ENOMEM the function started with. Physically adjacent pages are kept as one run: the
 * attachment's table is sg_alloc_table_from_pages(), which merges them.
 * @kernel drivers/dma-buf/heaps/system_heap.c system_heap_allocate (v5.10)
 */
function allocateHelpers(k: KernelServices, ops: DmaBufOps, heap: DmaHeap, len: number, fdFlags: number, proc: Process | null): KResult<DmaBuf> {
  const ps = k.pageSize;
  const pagecount = len / ps;
  if (!pageArrayFits(k, pagecount)) return -E.ENOMEM;
  const buddy = k.buddy;
  const pfns: number[] = [];
  const undo = (): void => {
    for (const pfn of pfns) buddy.free(pfn, 0);
  };
  // a request larger than all free memory takes every page and then fails: skip the work
  if (pagecount > buddy.freePages) return -E.ENOMEM;
  for (let pg = 0; pg < pagecount; pg++) {
    if (proc !== null && proc.fatalSignalPending) {
      undo();
      return -E.ENOMEM;
    }
    const pfn = buddy.alloc(0);
    if (pfn < 0) {
      undo();
      return -E.ENOMEM;
    }
    pfns.push(pfn);
  }
  const runs: PageRun[] = [];
  for (let i = 0; i < pfns.length;) {
    let j = i + 1;
    while (j < pfns.length && pfns[j] === pfns[j - 1]! + 1) j++;
    runs.push(new PageRun(pfns[i]!, j - i, (j - i) * ps));
    i = j;
  }
  const buffer = new SystemHeapBuffer(runs, k, heap, null);
  return exportHeapBuffer(k, ops, heap, len, fdFlags, buffer, () => freeRuns(k, runs, null));
}

/** Whether pages [first, first + count) of a buffer lie in one of its runs (sg entries). */
function withinOneRun(runs: readonly PageRun[], first: number, count: number): boolean {
  let start = 0;
  for (const r of runs) {
    if (first < start + r.pages) return first + count <= start + r.pages;
    start += r.pages;
  }
  return false;
}

function makeOps(k: KernelServices): DmaBufOps {
  const ps = k.pageSize;
  return {
    attach: (buf, att) => (buf.priv as SystemHeapBuffer).attach(att),
    detach: (buf, att) => (buf.priv as SystemHeapBuffer).detach(att),
    /** system_heap_map_dma_buf(): a mapping failure is returned as is. */
    mapDmaBuf: (att, dir): KResult<SgEntry[]> => (att.dmabuf.priv as SystemHeapBuffer).map(att, dir, null),
    unmapDmaBuf: (att, sgt, dir) => (att.dmabuf.priv as SystemHeapBuffer).unmap(att, sgt, dir),
    beginCpuAccess: (buf, dir) => (buf.priv as SystemHeapBuffer).beginCpuAccess(dir),
    endCpuAccess: (buf, dir) => (buf.priv as SystemHeapBuffer).endCpuAccess(dir),
    /**
     * system_heap_mmap(): remaps page by page from vm_pgoff, or, with Profile.systemHeapChunkMmap
     * (the 7.3 referee), one remap_pfn_range() per sg entry (one allocated chunk: 1 MiB, 64 KiB or
     * one page). remap_pfn_range() refuses a copy-on-write (MAP_PRIVATE) VMA unless one call
     * covers all of it, so a private mapping works only when it is exactly one page, or lies
     * within the chunk that holds its first page (mm/memory.c remap_pfn_range_notrack).
     */
    mmap: (buf: DmaBuf, vma: Vma): number => {
      if (k.profile.heapHelpers) return helperMmap(buf, vma);
      const b = buf.priv as SystemHeapBuffer;
      const cow = (vma.vmFlags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
      if (cow && vma.length !== ps && !(k.profile.systemHeapChunkMmap && withinOneRun(b.runs, vma.pgoff, vma.length / ps))) return -E.EINVAL;
      if (cow) vma.mapsPgoff = b.pfnOf(vma.pgoff);
      vma.vmFlags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
      vma.pages = (p, write) => b.page(p, write);
      return 0;
    },
    vmap: (buf: DmaBuf) => ({ vaddr: buf.priv as SystemHeapBuffer }),
    vunmap: () => undefined,
    release: (buf: DmaBuf) => {
      const b = buf.priv as SystemHeapBuffer;
      freeRuns(k, b.runs, b.memcg);
    },
  };
}

export const systemHeapModule: HeapModule = {
  name: 'system_heap',
  kconfig: 'CONFIG_DMABUF_HEAPS_SYSTEM',
  /** system_heap_create() */
  init(k: KernelServices): number {
    const ops = makeOps(k);
    const heap = k.dmaHeap.add({
      name: 'system',
      ops: { allocate: (h, len, fdFlags, _hf, proc) => allocate(k, ops, h, len, fdFlags, proc) },
      priv: null,
    });
    if (typeof heap === 'number') return heap;
    // ACK (android12-5.10, android14-6.1) system_heap_create(): "system-uncached" after "system", the same pages
    // (system_uncached_heap_allocate); its write-combined mapping and skipped CPU syncs are not
    // modelled (src/kernel/android.ts, divergence android-uncached)
    if (k.android?.emulated.systemUncachedHeap === true) {
      const uncached = k.dmaHeap.add({
        name: 'system-uncached',
        ops: { allocate: (h, len, fdFlags, _hf, proc) => allocate(k, ops, h, len, fdFlags, proc) },
        priv: null,
      });
      if (typeof uncached === 'number') return uncached;
    }
    return 0;
  },
};
