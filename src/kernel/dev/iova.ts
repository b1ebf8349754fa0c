/**
 * A per-device IOVA space for devices behind an IOMMU (one DMA domain each): top-down first fit
 * below the device's DMA limit, IOVA page 0 never handed out, sizes below 32 pages rounded up to
 * a power of two and every range aligned to the power of two covering its size.
 *
 * Simplified from the red-black tree and the per-CPU range caches of the kernel: the search is
 * a plain walk of the allocated ranges from the top, so results are deterministic.
 *
 * @kernel drivers/iommu/dma-iommu.c iommu_dma_alloc_iova (roundup_pow_of_two below
 *   IOVA_RANGE_CACHE_MAX_SIZE), iommu_dma_init_domain (base_pfn ≥ 1);
 *   drivers/iommu/iova.c __alloc_and_insert_iova_range (size-aligned, top-down)
 */

/** IOVA_RANGE_CACHE_MAX_SIZE (drivers/iommu/iova.c): sizes below 2^(6-1) pages are rounded up. */
const IOVA_RANGE_CACHE_MAX_SIZE = 6;

export interface IovaRange {
  /** First IOVA (bytes). */
  readonly base: number;
  /** Bytes reserved (the rounded size). */
  readonly size: number;
}

export class IovaAllocator {
  /** Allocated ranges sorted by base, ascending. */
  private readonly ranges: IovaRange[] = [];
  /** The last allocation: the next search starts below it (null: at the limit). */
  private cached: IovaRange | null = null;

  constructor(
    /** Granule (the page size). */
    readonly granule: number,
    /** One past the highest usable IOVA (min of the DMA mask and the IOMMU's input size). */
    readonly limit: number,
  ) {}

  /** Bytes currently allocated. */
  get allocated(): number {
    return this.ranges.reduce((n, r) => n + r.size, 0);
  }

  /**
   * Allocates `bytes` (a multiple of the granule); null when no gap fits (ENOMEM). The search
   * starts below the last allocation (iovad->cached_node) and retries from the limit when that
   * fails, as __alloc_and_insert_iova_range() does.
   */
  alloc(bytes: number): IovaRange | null {
    const g = this.granule;
    let pages = Math.ceil(bytes / g);
    if (pages === 0) return null;
    if (pages < 1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1)) pages = 2 ** Math.ceil(Math.log2(pages));
    const size = pages * g;
    const align = 2 ** Math.ceil(Math.log2(pages)) * g;
    const top = Math.floor(this.limit / g) * g;
    const r = (this.cached !== null ? this.search(this.cached.base, size, align) : null) ?? this.search(top, size, align);
    if (r !== null) this.cached = r;
    return r;
  }

  /** Top-down first fit in the gaps below `hi`. */
  private search(hi: number, size: number, align: number): IovaRange | null {
    const g = this.granule;
    let i = this.ranges.length;
    while (i > 0 && this.ranges[i - 1]!.base >= hi) i--;
    for (; i >= 0; i--) {
      const below = i > 0 ? this.ranges[i - 1]! : null;
      const lo = below === null ? g : below.base + below.size;
      const cand = Math.floor((hi - size) / align) * align;
      if (cand >= lo && cand >= g) {
        const r = { base: cand, size };
        this.ranges.splice(i, 0, r);
        return r;
      }
      if (below === null) break;
      hi = below.base;
    }
    return null;
  }

  /** Frees a range returned by alloc(); a range at or above the cached one moves the cache up (__cached_rbnode_delete_update). */
  free(r: IovaRange): void {
    const i = this.ranges.indexOf(r);
    if (i < 0) return;
    this.ranges.splice(i, 1);
    if (this.cached !== null && r.base >= this.cached.base) this.cached = this.ranges[i] ?? null;
  }
}
