/**
 * A per-device coherent memory pool (struct dma_coherent_mem): a reserved region handed out in
 * power-of-two blocks of pages, naturally aligned relative to the pool start, with no fallback to
 * other memory when it is full.
 *
 * @kernel kernel/dma/coherent.c __dma_alloc_from_coherent, __dma_release_from_coherent,
 *   dma_mmap_from_dev_coherent; lib/bitmap.c bitmap_find_free_region
 */
import { getOrder } from './page.js';

export class CoherentPool {
  /** One bit per page: set = allocated. */
  private readonly bitmap: Uint8Array;
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
    this.bitmap = new Uint8Array(pages);
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
    const order = getOrder(bytes, this.pageSize);
    const n = 2 ** order;
    const bm = this.bitmap;
    for (let pos = 0; pos + n <= this.pages; pos += n) {
      let free = true;
      for (let i = pos; i < pos + n; i++) {
        if (bm[i] !== 0) {
          free = false;
          break;
        }
      }
      if (!free) continue;
      bm.fill(1, pos, pos + n);
      this.used += n;
      return pos;
    }
    return -1;
  }

  /** __dma_release_from_coherent(): frees the same 2^order block. False when it is not ours. */
  release(pos: number, bytes: number): boolean {
    const n = 2 ** getOrder(bytes, this.pageSize);
    if (!Number.isInteger(pos) || pos < 0 || pos + n > this.pages) return false;
    this.bitmap.fill(0, pos, pos + n);
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
      const n = 2 ** order;
      for (let pos = 0; pos + n <= this.pages; pos += n) {
        let free = true;
        for (let i = pos; i < pos + n && free; i++) if (this.bitmap[i] !== 0) free = false;
        if (free) return n;
      }
    }
    return 0;
  }
}
