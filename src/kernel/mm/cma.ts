/**
 * Contiguous Memory Allocator areas (mm/cma.c, spec §5.2).
 *
 * One CmaArea = one contiguous physical range with a bitmap, one bit per 2^orderPerBit pages.
 * The bitmap is searched a word at a time (Math.clz32 for the bit position), so a first-fit
 * search over a 1 Mi-page area costs at most ~32 K word reads. It is a SparseBitmap
 * (./bitmap.ts): chunks exist only where bits are set, so an area of any size (terabytes from a
 * device tree) costs nothing at boot; the kernel's is a flat array allocated by
 * cma_activate_area().
 *
 * Errors are data: alloc() returns -1, release() returns false; nothing throws.
 */
import { SparseBitmap, ctz32 } from './bitmap.js';
import { getOrder, pageAlign, pageblockNrPages } from './page.js';
import type { Arch, PageblockConfig } from './page.js';

/**
 * Default CONFIG_CMA_ALIGNMENT (kernel/dma/Kconfig: range 2..12, default 8 → 1 MiB with 4 KiB
 * pages).
 */
export const CMA_ALIGNMENT_DEFAULT = 8;

/**
 * Alignment order the CMA heap asks cma_alloc() for: min(get_order(size), CONFIG_CMA_ALIGNMENT)
 * on the page-aligned size (drivers/dma-buf/heaps/cma_heap.c cma_heap_allocate()).
 * 4 KiB → 0, 8 KiB → 1, 12 KiB → 2, 1 MiB → 8, 1 MiB + 4 KiB → 9 clamped to 8.
 */
export function cmaAlignOrder(sizeBytes: number, pageSize: number, cmaAlignment: number = CMA_ALIGNMENT_DEFAULT): number {
  return Math.min(getOrder(pageAlign(sizeBytes, pageSize), pageSize), cmaAlignment);
}

/**
 * CMA_MIN_ALIGNMENT_BYTES = PAGE_SIZE × pageblock_nr_pages (include/linux/cma.h, v5.18+; earlier
 * kernels used MAX_ORDER_NR_PAGES, 4 MiB on x86-64). Every CMA area's base and size are
 * multiples of it. Values (see page.ts pageblockOrder()):
 * x86-64 4 KiB → 2 MiB; arm64 4 KiB → 2 MiB, 16 KiB → 32 MiB, 64 KiB → 512 MiB.
 */
export function cmaMinAlignmentBytes(pageSize: number, arch: Arch, build?: PageblockConfig): number {
  return pageSize * pageblockNrPages(pageSize, arch, build);
}

export class CmaArea {
  /** Bitmap: bit i set = pages [i·2^orderPerBit, (i+1)·2^orderPerBit) are allocated. */
  private readonly bitmap: SparseBitmap;
  /** Number of bits in use (cma_bitmap_maxno(): count >> order_per_bit). */
  private readonly nbits: number;
  private avail: number;

  /** Pages handed out by successful cma_alloc() calls (sysfs cma/<name>/alloc_pages_success). */
  allocPagesSuccess = 0;
  /** Pages requested by failed cma_alloc() calls (sysfs cma/<name>/alloc_pages_fail). */
  allocPagesFail = 0;
  /** Pages given back with cma_release() (sysfs cma/<name>/release_pages_success, v6.9+). */
  releasePagesSuccess = 0;
  /**
   * Whether a request for more pages than the area has counts in alloc_pages_fail
   * (Profile.cmaOversizeCountsFail: the 6.1 and 7.3 referees yes, 6.12 no).
   */
  oversizeCountsFail = true;

  /**
   * Optional migration model: called after the bits for [pfn, pfn + count) are marked; return
   * true to emulate alloc_contig_range() failing with -EBUSY (an unmovable page in the range).
   * A PFN instead of true says the same and where the busy pages of the range end: every
   * window that starts before it (and at least as far on as cma_alloc()'s next try) would meet
   * one of them again, so the search goes on from there, with the result cma_alloc()'s retries
   * would reach, without trying each window in between.
   */
  busy?: (pfn: number, count: number) => boolean | number;

  /**
   * mm/cma.c cma_init_reserved_mem() + cma_activate_area(): an area of `count` pages starting at
   * physical PFN `basePfn`, all free.
   */
  constructor(
    readonly name: string,
    readonly basePfn: number,
    readonly count: number,
    readonly orderPerBit: number = 0,
  ) {
    this.nbits = Math.floor(count / 2 ** orderPerBit);
    this.bitmap = new SparseBitmap(this.nbits);
    this.avail = count;
  }

  /** Free pages (struct cma available_count, newer kernels). */
  get availableCount(): number {
    return this.avail;
  }

  /** Allocated pages = set bits << order_per_bit (debugfs cma/<name>/used, cma_used_get()). */
  get used(): number {
    return this.bitmap.popcount() * 2 ** this.orderPerBit;
  }

  /**
   * Largest run of free pages (debugfs cma/<name>/maxchunk, cma_maxchunk_get(): longest run of
   * clear bits << order_per_bit).
   */
  get maxchunk(): number {
    let best = 0;
    this.eachFreeRun((_bit, bits) => {
      if (bits > best) best = bits;
    });
    return best * 2 ** this.orderPerBit;
  }

  /** Each run of clear bits, ascending, as (first bit, bits); one step per run. */
  private eachFreeRun(fn: (bit: number, bits: number) => void): void {
    let start = 0;
    while (start < this.nbits) {
      const zero = this.findNextZero(start, this.nbits);
      if (zero >= this.nbits) break;
      const set = this.findNextSet(zero, this.nbits);
      fn(zero, set - zero);
      start = set;
    }
  }

  /**
   * mm/cma.c cma_alloc(): allocate `count` contiguous pages whose first PFN is a multiple of
   * 2^align. Returns the first PFN, or -1 on failure (the heap turns that into -ENOMEM).
   *
   * Steps (spec §5.2):
   * - empty area or count 0 → fail;
   * - cma_bitmap_aligned_mask(): mask = 2^(align − order_per_bit) − 1, or 0 when
   *   align ≤ order_per_bit;
   * - cma_bitmap_aligned_offset(): offset = (base_pfn mod 2^align) >> order_per_bit, so the
   *   alignment is of the physical PFN, not of the index inside the area;
   * - cma_bitmap_pages_to_bits(): bits = count rounded up to 2^order_per_bit, in bits; more bits
   *   than the bitmap has → fail;
   * - loop: count > available_count → fail (newer kernels); first fit
   *   (lib/bitmap.c bitmap_find_next_zero_area_off()); mark the bits; if the migration hook
   *   reports busy (alloc_contig_range() -EBUSY) clear them and search again from
   *   index + mask + 1;
   * - `fatalSignalPending` (the allocating task has a fatal signal pending): the range is
   *   marked, then given back and the allocation fails, as alloc_contig_range() returns -EINTR
   *   before migrating anything and cma_alloc() stops at any error but -EBUSY
   *   (mm/page_alloc.c __alloc_contig_migrate_range; mm/cma.c cma_alloc).
   */
  alloc(count: number, align: number, fatalSignalPending = false): number {
    const pfn = this.tryAlloc(count, align, fatalSignalPending);
    if (pfn >= 0) this.allocPagesSuccess += count;
    else if (count > 0 && (this.oversizeCountsFail || Math.ceil(count / 2 ** this.orderPerBit) <= this.nbits)) {
      this.allocPagesFail += count; // mm/cma_sysfs.c cma_sysfs_account_fail_pages()
    }
    return pfn;
  }

  private tryAlloc(count: number, align: number, fatalSignalPending: boolean): number {
    if (this.count === 0 || !(count > 0) || !Number.isInteger(count)) return -1;
    const opb = this.orderPerBit;
    const a = Math.max(0, Math.floor(align));
    const mask = a > opb ? 2 ** (a - opb) - 1 : 0;
    const offset = Math.floor((this.basePfn % 2 ** a) / 2 ** opb);
    const bitCount = Math.ceil(count / 2 ** opb);
    if (bitCount > this.nbits) return -1;

    let start = 0;
    for (;;) {
      if (count > this.avail) return -1;
      const index = this.findZeroAreaOff(start, bitCount, mask, offset);
      if (index + bitCount > this.nbits) return -1;
      this.setRange(index, bitCount);
      this.avail -= count;
      const pfn = this.basePfn + index * 2 ** opb;
      if (fatalSignalPending) {
        this.clearRange(index, bitCount);
        this.avail += count;
        return -1;
      }
      const busy = this.busy?.(pfn, count) ?? false;
      if (busy !== false) {
        // cma_clear_bitmap() then "try again with a bit different memory target".
        this.clearRange(index, bitCount);
        this.avail += count;
        start = index + mask + 1;
        if (typeof busy === 'number') start = Math.max(start, Math.ceil((busy - this.basePfn) / 2 ** opb));
        continue;
      }
      return pfn;
    }
  }

  /**
   * mm/cma.c cma_release(): give back `count` pages starting at `pfn`. Returns false (nothing
   * changed) when `pfn` is not inside the area (cma_pages_valid()). A range running past the
   * end of the area is a kernel BUG (VM_BUG_ON); the emulator returns false instead.
   * Like the kernel, it does not check that the pages were allocated.
   */
  release(pfn: number, count: number): boolean {
    if (pfn < this.basePfn || pfn >= this.basePfn + this.count) return false;
    if (pfn + count > this.basePfn + this.count) return false;
    const n = Math.max(0, count);
    const opb = 2 ** this.orderPerBit;
    // cma_clear_bitmap(): bit = (pfn − base) >> order_per_bit, bits rounded up per order_per_bit.
    this.clearRange(Math.floor((pfn - this.basePfn) / opb), Math.ceil(n / opb));
    this.avail += n;
    this.releasePagesSuccess += n;
    return true;
  }

  /**
   * Pages of the area that hold pinned movable pages (fault injection: src/kernel/fault-inject.ts):
   * not set in the bitmap, so cma_alloc() may pick them and then fails to migrate them (the
   * `busy` hook), and not free either (/proc/meminfo CmaFree leaves them out, as
   * NR_FREE_CMA_PAGES does for CMA pages a user process holds).
   */
  pinnedPages = 0;

  /**
   * Marks pages [pfn, pfn + count) allocated without cma_alloc() and without its counters (fault
   * injection: pages taken out of the area). False, and nothing changed, when the range is not
   * inside the area, not whole bits, or a page of it is allocated already.
   */
  take(pfn: number, count: number): boolean {
    const r = this.bitRange(pfn, count);
    if (r === null || !this.rangeFree(pfn, count)) return false;
    this.setRange(r.bit, r.bits);
    this.avail -= count;
    return true;
  }

  /** Gives back a range {@link take} marked, without cma_release()'s counters. */
  untake(pfn: number, count: number): boolean {
    const r = this.bitRange(pfn, count);
    if (r === null) return false;
    this.clearRange(r.bit, r.bits);
    this.avail += count;
    return true;
  }

  /** [pfn, pfn + count) as bits: null when outside the area or not whole bits. */
  private bitRange(pfn: number, count: number): { bit: number; bits: number } | null {
    const opb = 2 ** this.orderPerBit;
    const off = pfn - this.basePfn;
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(count) || off < 0 || count <= 0 || off % opb !== 0 || count % opb !== 0) return null;
    if (off / opb + count / opb > this.nbits) return null;
    return { bit: off / opb, bits: count / opb };
  }

  /**
   * The runs of pages not set in the bitmap, ascending, as [first PFN, pages]; the walk costs
   * one step per run.
   */
  freeRuns(): { pfn: number; count: number }[] {
    const out: { pfn: number; count: number }[] = [];
    const opb = 2 ** this.orderPerBit;
    this.eachFreeRun((bit, bits) => out.push({ pfn: this.basePfn + bit * opb, count: bits * opb }));
    return out;
  }

  /** Whether pages [pfn, pfn + count) are inside the area, whole bits, and none is set in the bitmap. */
  rangeFree(pfn: number, count: number): boolean {
    const r = this.bitRange(pfn, count);
    return r !== null && this.bitmap.nextSet(r.bit, r.bit + r.bits) >= r.bit + r.bits;
  }

  /** Whether bit `i` is set (test/debug helper). */
  isAllocated(pfn: number): boolean {
    return this.bitmap.get(Math.floor((pfn - this.basePfn) / 2 ** this.orderPerBit));
  }

  // ---- bitmap primitives --------------------------------------------------------------------

  /**
   * lib/bitmap.c bitmap_find_next_zero_area_off(): first index ≥ start with `nr` clear bits such
   * that (index + offset) is a multiple of mask + 1. A result with index + nr > nbits means
   * "not found".
   */
  private findZeroAreaOff(start: number, nr: number, mask: number, offset: number): number {
    if (nr <= 32 && mask < 32) return this.findZeroAreaWords(start, nr, mask + 1, offset);
    let from = start;
    for (;;) {
      let index = this.findNextZero(from, this.nbits);
      // __ALIGN_MASK(index + offset, mask) − offset
      const step = mask + 1;
      index = Math.ceil((index + offset) / step) * step - offset;
      const end = index + nr;
      if (end > this.nbits) return index;
      const i = this.findNextSet(index, end);
      if (i >= end) return index;
      from = i + 1;
    }
  }

  /**
   * Word-at-a-time form of findZeroAreaOff() for windows of at most 32 bits and alignment steps
   * of at most 32 bits (step is a power of two, so it divides 32 and the aligned positions form
   * the same pattern in every word). The kernel loop returns the smallest index ≥ start with
   * (index + offset) ≡ 0 mod step whose `nr` bits are all clear; this computes the same answer
   * directly: for each word, the positions where a run of `nr` clear bits starts (runs may
   * continue into the next word), masked with the alignment pattern. Returns nbits when there is
   * no such index.
   */
  private findZeroAreaWords(start: number, nr: number, step: number, offset: number): number {
    const nbits = this.nbits;
    if (start >= nbits) return nbits;
    const bm = this.bitmap;
    const lastWord = Math.floor((nbits - 1) / 32);
    const tail = nbits % 32;
    const lastMask = tail === 0 ? ~0 : (1 << tail) - 1;
    const first = (step - (offset % step)) % step;
    let pattern = 0;
    for (let j = first; j < 32; j += step) pattern |= 1 << j;
    let startMask = ~0 << (start % 32);
    // the word read as `hi` is the next iteration's `lo`: each word is read once
    let nextW = -1;
    let nextRaw = 0;
    for (let w = Math.floor(start / 32); w <= lastWord; w++) {
      // clear bits of this word and the next, bits at or beyond nbits counted as set
      let lo = ~(w === nextW ? nextRaw : bm.word(w));
      if (w === lastWord) lo &= lastMask;
      // a window can only start at a clear, aligned bit at or after start
      if ((lo & startMask & pattern) === 0) {
        startMask = ~0;
        // a run of full words (whole chunks of them, for a huge area) is skipped at once
        if (lo === 0) {
          const z = bm.nextZero((w + 1) * 32, nbits);
          if (z >= nbits) return nbits;
          w = Math.floor(z / 32) - 1;
        }
        continue;
      }
      let hi = 0;
      if (w < lastWord) {
        nextW = w + 1;
        nextRaw = bm.word(nextW);
        hi = ~nextRaw;
        if (w + 1 === lastWord) hi &= lastMask;
      }
      // acc = run of accLen clear bits starting here; p = run of pLen clear bits (doubling)
      // only the low half of acc matters: windows must start in word w
      let accL = ~0;
      let accLen = 0;
      let pL = lo;
      let pH = hi;
      let pLen = 1;
      let n = nr;
      while (n > 0) {
        if ((n & 1) !== 0) {
          // acc &= p >> accLen (low half of a 64-bit shift over the pair)
          let sL: number;
          if (accLen === 0) sL = pL;
          else if (accLen < 32) sL = (pL >>> accLen) | (pH << (32 - accLen));
          else sL = pH >>> (accLen - 32);
          accL &= sL;
          accLen += pLen;
        }
        n >>>= 1;
        if (n > 0) {
          let sL: number;
          let sH: number;
          if (pLen < 32) {
            sL = (pL >>> pLen) | (pH << (32 - pLen));
            sH = pH >>> pLen;
          } else {
            sL = pH;
            sH = 0;
          }
          pL &= sL;
          pH &= sH;
          pLen *= 2;
        }
      }
      const cand = accL & pattern & startMask;
      if (cand !== 0) return w * 32 + ctz32(cand);
      startMask = ~0;
    }
    return nbits;
  }

  /** lib/find_bit.c find_next_zero_bit(): first clear bit in [start, size), or size. */
  private findNextZero(start: number, size: number): number {
    return this.bitmap.nextZero(start, size);
  }

  /** lib/find_bit.c find_next_bit(): first set bit in [start, size), or size. */
  private findNextSet(start: number, size: number): number {
    return this.bitmap.nextSet(start, size);
  }

  /** lib/bitmap.c bitmap_set(). */
  private setRange(start: number, nr: number): void {
    this.bitmap.set(start, nr);
  }

  /** lib/bitmap.c bitmap_clear(). */
  private clearRange(start: number, nr: number): void {
    this.bitmap.clear(start, nr);
  }
}
