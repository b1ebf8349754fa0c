/**
 * Page lookup shared by the heaps' mmap and vmap paths (an optional helper, as
 * drivers/dma-buf/heaps keeps its helpers per heap; the core never requires it).
 */
import type { DmaBuf, DmaBufAttachment, DmaBufOps, DmaDirection, SgEntry } from '../dma-buf/dma-buf.js';
import type { DmaHeap } from '../dma-heap/dma-heap.js';
import type { Device } from '../dev/device.js';
import { dmaMapSgtable, dmaSyncSgtableForCpu, dmaSyncSgtableForDevice, dmaUnmapSgtable } from '../dev/dma-mapping.js';
import type { PageRef } from '../fs/mm-user.js';
import type { KernelServices } from '../kapi.js';
import type { BackingStats, PageRun } from '../mm/backing.js';
import type { KResult } from '../result.js';
import { HEAP_HELPERS_EXP_NAME } from './heap-helpers.js';

/**
 * dma_buf_export() of a heap buffer, named after the heap (exp_name; `heap_helpers` for every
 * buffer of the v5.10 helper library); when the core refuses, `undo` gives the memory back, as
 * every heap's error path does before returning.
 */
export function exportHeapBuffer(k: KernelServices, ops: DmaBufOps, heap: DmaHeap, len: number, fdFlags: number, buffer: PagedBuffer, undo: () => void): KResult<DmaBuf> {
  const expName = k.profile.heapHelpers ? HEAP_HELPERS_EXP_NAME : k.dmaHeap.getName(heap);
  const buf = k.dmaBuf.export({ expName, ops, size: len, flags: fdFlags, priv: buffer });
  if (typeof buf === 'number') undo();
  else if (k.hostMemory !== null && buffer.hasPages) k.hostMemory.bind(buf, buffer.runs, buffer.pages * buffer.pageSize, buffer.backing);
  return buf;
}

/**
 * A heap's per-attachment state (struct dma_heap_attachment of system_heap.c / cma_heap.c): the
 * attachment's own copy of the sg table, the device, and whether it is mapped now.
 */
export interface HeapAttachment {
  readonly table: SgEntry[];
  readonly dev: Device | null;
  mapped: boolean;
}

/** A buffer made of page runs (chunks) in sg-table order. */
export class PagedBuffer {
  /** First buffer page index of each run. */
  readonly starts: number[];
  readonly pages: number;
  /** buffer->attachments (made on first attach). */
  private atts: HeapAttachment[] | null = null;
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

  /** The buffer's sg table: one entry per run (a contiguous run is one entry). */
  sgTable(): SgEntry[] {
    return this.runs.map((r) => ({ pfn: r.pfn, length: r.bytes }));
  }

  /** The attachments (exporter side). */
  get attachments(): readonly HeapAttachment[] {
    return this.atts ?? [];
  }

  /**
   * The heaps' attach op: a copy of the sg table for this attachment (dup_sg_table() /
   * sg_alloc_table_from_pages()), not mapped yet, added to the buffer's list (list_add: first).
   * @kernel drivers/dma-buf/heaps/system_heap.c system_heap_attach; cma_heap.c cma_heap_attach
   */
  attach(att: DmaBufAttachment): number {
    const a: HeapAttachment = { table: this.sgTable(), dev: att.device ?? null, mapped: false };
    att.priv = a;
    (this.atts ??= []).unshift(a);
    return 0;
  }

  /** The heaps' detach op: off the list; the table goes (a still-mapped one is not unmapped). */
  detach(att: DmaBufAttachment): void {
    const a = att.priv as HeapAttachment;
    const i = this.atts?.indexOf(a) ?? -1;
    if (i >= 0) this.atts!.splice(i, 1);
  }

  /**
   * The heaps' map op: dma_map_sgtable(attachment->dev, table, dir, attrs); on failure the
   * heap's errno (`failErrno`: CMA and coherent heaps return ENOMEM whatever the cause, the
   * system heap the mapping's own error); success marks the attachment mapped.
   * @kernel drivers/dma-buf/heaps/system_heap.c system_heap_map_dma_buf; cma_heap.c cma_heap_map_dma_buf
   */
  map(att: DmaBufAttachment, dir: DmaDirection, failErrno: number | null, attrs = 0): KResult<SgEntry[]> {
    const a = att.priv as HeapAttachment;
    const r = dmaMapSgtable(a.dev, a.table, dir, this, attrs);
    if (typeof r === 'number') return failErrno ?? r;
    a.mapped = true;
    return a.table;
  }

  /** The heaps' unmap op: not mapped any more, dma_unmap_sgtable(). */
  unmap(att: DmaBufAttachment, sgt: SgEntry[], dir: DmaDirection, attrs = 0): void {
    const a = att.priv as HeapAttachment;
    a.mapped = false;
    dmaUnmapSgtable(a.dev, sgt, dir, attrs);
  }

  /**
   * The heaps' begin_cpu_access: (a vmap needs no invalidation: arm64 caches are PIPT and the
   * vmap alias shares the lines) dma_sync_sgtable_for_cpu() of every mapped attachment.
   * @kernel drivers/dma-buf/heaps/system_heap.c system_heap_dma_buf_begin_cpu_access
   */
  beginCpuAccess(dir: DmaDirection): number {
    for (const a of this.attachments) if (a.mapped) dmaSyncSgtableForCpu(a.dev, a.table, dir);
    return 0;
  }

  /** The heaps' end_cpu_access: dma_sync_sgtable_for_device() of every mapped attachment. */
  endCpuAccess(dir: DmaDirection): number {
    for (const a of this.attachments) if (a.mapped) dmaSyncSgtableForDevice(a.dev, a.table, dir);
    return 0;
  }
}
