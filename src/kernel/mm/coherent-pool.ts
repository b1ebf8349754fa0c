/**
 * A per-device coherent memory pool (struct dma_coherent_mem): a reserved region handed out in
 * power-of-two blocks of pages, naturally aligned relative to the pool start, with no fallback to
 * other memory when it is full.
 *
 * The allocation bitmap is a SparseBitmap (./bitmap.ts), so a pool of any size costs nothing
 * until it is used (the kernel's dma_init_coherent_memory() allocates a flat one).
 *
 * @kernel kernel/dma/coherent.c __dma_alloc_from_coherent, __dma_release_from_coherent,
 *   dma_mmap_from_dev_coherent; lib/bitmap.c bitmap_find_free_region
 */
import { SparseBitmap } from './bitmap.js';
import { getOrder } from './page.js';

export class CoherentPool {
  /** One bit per page: set = allocated. */
  private readonly bitmap: SparseBitmap;
  private used = 0;
  constructor(
    /** Region name (the DT node name). */
    readonly name: string,
    /** Physical base address in bytes. */
    readonly base: number,
    /** Size in pages. */
    readonly pages: number,
    readonly pageSize: number,
    /** The device's view of the base (device_addr); equal to `base` without dma-ranges. */
    readonly deviceBase: number = base,
    /** The region is `no-map`: no struct pages behind it (mapped write-combined by memremap). */
    readonly nomap: boolean = false,
  ) {
    this.bitmap = new SparseBitmap(pages);
  }

  get usedPages(): number {
    return this.used;
  }
  get freePages(): number {
    return this.pages - this.used;
  }

  /**
   * __dma_alloc_from_coherent(): order = get_order(size); larger than the pool → fail; scan the
   * positions 0, 2^order, 2·2^order, … of the pool and take the first whose 2^order pages are
   * all free (bitmap_find_free_region). Returns the first page index in the pool, or -1.
   */
  alloc(bytes: number): number {
    if (!(bytes > 0) || bytes > this.pages * this.pageSize) return -1;
    const n = 2 ** getOrder(bytes, this.pageSize);
    const pos = this.findFree(n);
    if (pos < 0) return -1;
    this.bitmap.set(pos, n);
    this.used += n;
    return pos;
  }

  /**
   * lib/bitmap.c bitmap_find_free_region()'s search: the first of the positions 0, n, 2n, … whose
   * n pages are all free, or -1. A position that holds an allocated page is left for the next
   * multiple of n past it, so the search costs one bitmap scan per allocated run it meets.
   */
  private findFree(n: number): number {
    let pos = 0;
    while (pos + n <= this.pages) {
      const set = this.bitmap.nextSet(pos, pos + n);
      if (set >= pos + n) return pos;
      pos = (Math.floor(set / n) + 1) * n;
    }
    return -1;
  }

  /** __dma_release_from_coherent(): frees the same 2^order block. False when it is not ours. */
  release(pos: number, bytes: number): boolean {
    const n = 2 ** getOrder(bytes, this.pageSize);
    if (!Number.isInteger(pos) || pos < 0 || pos + n > this.pages) return false;
    this.bitmap.clear(pos, n);
    this.used -= n;
    return true;
  }

  /** Pages a request of `bytes` really consumes (a 3-page request takes 4). */
  blockPages(bytes: number): number {
    return 2 ** getOrder(bytes, this.pageSize);
  }

  /** Largest free naturally aligned power-of-two block, in pages (0 when full). */
  largestFreeBlock(): number {
    for (let order = Math.floor(Math.log2(Math.max(1, this.pages))); order >= 0; order--) {
      if (this.findFree(2 ** order) >= 0) return 2 ** order;
    }
    return 0;
  }
}
