/**
 * Page lookup shared by the heaps' mmap and vmap paths (an optional helper, as
 * drivers/dma-buf/heaps keeps its helpers per heap; the core never requires it).
 */
import type { DmaBuf, DmaBufOps } from '../dma-buf/dma-buf.js';
import type { DmaHeap } from '../dma-heap/dma-heap.js';
import type { PageRef } from '../fs/mm-user.js';
import type { KernelServices } from '../kapi.js';
import type { BackingStats, PageRun } from '../mm/backing.js';
import type { KResult } from '../result.js';

/**
 * dma_buf_export() of a heap buffer, named after the heap (exp_name); when the core refuses,
 * `undo` gives the memory back, as every heap's error path does before returning.
 */
export function exportHeapBuffer(k: KernelServices, ops: DmaBufOps, heap: DmaHeap, len: number, fdFlags: number, buffer: PagedBuffer, undo: () => void): KResult<DmaBuf> {
  const buf = k.dmaBuf.export({ expName: k.dmaHeap.getName(heap), ops, size: len, flags: fdFlags, priv: buffer });
  if (typeof buf === 'number') undo();
  return buf;
}

/** A buffer made of page runs (chunks) in sg-table order. */
export class PagedBuffer {
  /** First buffer page index of each run. */
  readonly starts: number[];
  readonly pages: number;
  constructor(
    readonly runs: PageRun[],
    readonly pageSize: number,
    readonly backing: BackingStats,
    readonly zeroPage: Uint8Array,
    /** False for memory without struct pages (a `no-map` carve-out): page-based paths refuse. */
    readonly hasPages = true,
  ) {
    this.starts = new Array<number>(runs.length);
    let p = 0;
    for (let i = 0; i < runs.length; i++) {
      this.starts[i] = p;
      p += runs[i]!.pages;
    }
    this.pages = p;
  }

  /** The run holding buffer page `page` (binary search over the sg entries). */
  runIndex(page: number): number {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= page) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The page frame number of buffer page `page`. */
  pfnOf(page: number): number {
    const i = this.runs.length === 1 ? 0 : this.runIndex(page);
    return this.runs[i]!.pfn + (page - this.starts[i]!);
  }

  /**
   * Buffer page `page` as bytes: a never-written page reads as the shared zero page; a page
   * that may be written is materialised. Null beyond the end (SIGBUS).
   */
  page(page: number, write: boolean): PageRef | null {
    if (page < 0 || page >= this.pages) return null;
    const i = this.runs.length === 1 ? 0 : this.runIndex(page);
    const run = this.runs[i]!;
    if (run.data === null && !write) return { data: this.zeroPage, off: 0 };
    return { data: run.materialize(this.backing), off: (page - this.starts[i]!) * this.pageSize };
  }
}
