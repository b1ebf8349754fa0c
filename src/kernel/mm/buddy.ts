/**
 * The buddy page allocator for one zone: free memory is kept as naturally aligned power-of-two
 * blocks, one free list per order (mm/page_alloc.c, struct free_area in include/linux/mmzone.h).
 *
 * Representation: for each order a Set of the head PFNs of the free blocks of that order, plus,
 * for the highest order only, *extents*: runs of consecutive max-order blocks that addFreeRange()
 * handed over and nothing has split yet, each kept as (first PFN, number of blocks). Memory use
 * is proportional to the number of free blocks that were ever split or freed (i.e. to
 * fragmentation) plus one extent per free range at boot, never to the amount of RAM: a 4 PiB
 * zone costs one extent, not 2^30 set entries, and boots in constant time. Every operation is
 * O(maxOrder) set operations; free() of a max-order block also looks its PFN up among the
 * extents (binary search while they are ascending, as boot adds them).
 *
 * Order: free lists are taken oldest-first (Set insertion order); at the highest order the
 * extents come first, oldest first, then the Set. Linux adds freed blocks at the list head and
 * allocates from the head (LIFO, with some tail insertions); the emulator only needs the
 * allocator to be deterministic, and both orders give the same results whenever a list holds at
 * most one block, which is the common case in tests. Because the kernel gives all of RAM to the
 * allocator at boot (memblock_free_all()) before anything is freed, "extents first" is also
 * insertion order there.
 *
 * PFN arithmetic is done with ordinary arithmetic, never 32-bit bitwise operators, so PFNs above
 * 2^31 are safe (up to 2^53).
 *
 * Errors are data: alloc() returns -1, nothing throws.
 */
import { MAX_PAGE_ORDER } from './page.js';

/** A run of `count` consecutive free max-order blocks from `start` (consumed from the front). */
interface Extent {
  start: number;
  count: number;
}

/** One zone's free memory. */
interface Zone {
  /** lists[o] = head PFNs of the free blocks of order o that are not in an extent. */
  readonly lists: Set<number>[];
  /** Untouched max-order blocks, oldest first; entries before `extHead` are used up. */
  extents: Extent[];
  extHead: number;
  /** Max-order blocks in the extents. */
  extBlocks: number;
  /** The extents are ascending and disjoint (binary-searchable); true as boot adds them. */
  extSorted: boolean;
  /** The per-CPU list of free single pages. */
  readonly pcp: number[];
}

export class BuddyAllocator {
  /**
   * Zone 0 is ZONE_NORMAL (at or above `zoneSplitPfn`), zone 1 ZONE_DMA32 below it; a user
   * allocation tries them in that order (the zonelist fallback of mm/page_alloc.c
   * get_page_from_freelist). Without a split there is one zone.
   */
  private readonly zones: Zone[] = [];
  /** Pages free in the lists and extents (not counting the per-CPU lists). */
  private nrFree = 0;
  private nrTotal = 0;
  /** Pages per max-order block. */
  private readonly maxBlock: number;

  /**
   * Fault injection: alloc() of any order in this set fails (returns -1) even if memory is free.
   * Used to emulate high-order allocations failing under fragmentation (spec §8 case 69: system
   * heap with order-8 failing falls back to order 4).
   */
  failOrders: Set<number> = new Set();

  /**
   * @param maxOrder highest order (inclusive), MAX_PAGE_ORDER by default.
   * @param pcpHigh most pages the per-CPU list keeps (0: no list, every free merges at once).
   *   Freed order-0 pages wait on the per-CPU list (struct per_cpu_pages), up to `pcpHigh` of
   *   them, instead of being merged back at once, and order-0 allocations take from it first, so
   *   that a page freed and allocated again costs no split or merge.
   *   @kernel mm/page_alloc.c free_unref_page, rmqueue_pcplist, pcp->high
   */
  constructor(
    readonly maxOrder: number = MAX_PAGE_ORDER,
    readonly pcpHigh = 0,
    /**
     * First PFN of ZONE_NORMAL (4 GiB on x86-64 and arm64 with RAM above it); 0: one zone. Must be
     * aligned to 2^maxOrder so that no buddy pair straddles the boundary.
     */
    readonly zoneSplitPfn = 0,
  ) {
    this.maxBlock = 2 ** maxOrder;
    const nzones = zoneSplitPfn > 0 ? 2 : 1;
    for (let z = 0; z < nzones; z++) {
      const lists: Set<number>[] = [];
      for (let o = 0; o <= maxOrder; o++) lists.push(new Set());
      this.zones.push({ lists, extents: [], extHead: 0, extBlocks: 0, extSorted: true, pcp: [] });
    }
  }

  private zoneOf(pfn: number): number {
    return this.zoneSplitPfn > 0 && pfn < this.zoneSplitPfn ? 1 : 0;
  }

  /** Free pages, including those waiting on the per-CPU lists. */
  get freePages(): number {
    let n = this.nrFree;
    for (const z of this.zones) n += z.pcp.length;
    return n;
  }

  /** Pages on the per-CPU lists (not in the buddy free lists, as /proc/buddyinfo does not show them). */
  get pcpCount(): number {
    let n = 0;
    for (const z of this.zones) n += z.pcp.length;
    return n;
  }

  /** drain_all_pages(): merges every page on the per-CPU lists back into the free lists. */
  drain(): void {
    for (const z of this.zones) while (z.pcp.length > 0) this.free1(z.pcp.pop()!, 0);
  }

  /** Pages ever given to the allocator with addFreeRange() (zone managed pages). */
  get totalPages(): number {
    return this.nrTotal;
  }

  /** Number of free blocks of an order (one column of /proc/buddyinfo); 0 for an invalid order. */
  freeBlocks(order: number): number {
    let n = 0;
    for (const z of this.zones) {
      n += z.lists[order]?.size ?? 0;
      if (order === this.maxOrder) n += z.extBlocks;
    }
    return n;
  }

  /** Free block counts for orders 0..maxOrder, as /proc/buddyinfo prints them. */
  buddyinfo(): number[] {
    const out: number[] = [];
    for (let o = 0; o <= this.maxOrder; o++) out.push(this.freeBlocks(o));
    return out;
  }

  /** Highest order with a free block, or -1 when nothing is free. */
  largestFreeOrder(): number {
    for (let o = this.maxOrder; o >= 0; o--) {
      if (this.freeBlocks(o) > 0) return o;
    }
    return -1;
  }

  /**
   * Give the pages [startPfn, startPfn + npages) to the allocator, as the largest naturally
   * aligned blocks that fit (mm/memblock.c memblock_free_all() → __free_pages_memory() →
   * mm/page_alloc.c __free_pages_core()). Each block is freed normally, so it merges with free
   * neighbours added earlier; the run of whole max-order blocks in the middle becomes one extent
   * (per zone), so the cost does not depend on the size of the range. The caller must not add a
   * page twice.
   */
  addFreeRange(startPfn: number, npages: number): void {
    let pfn = startPfn;
    let left = Math.floor(npages);
    const big = this.maxBlock;
    while (left > 0) {
      let order = 0;
      // Grow the block while it stays aligned to its own size and inside the range.
      while (order < this.maxOrder) {
        const next = 2 ** (order + 1);
        if (pfn % next !== 0 || next > left) break;
        order++;
      }
      if (order === this.maxOrder) {
        // every following max-order block that fits, up to the zone boundary, in one extent
        let k = Math.floor(left / big);
        const split = this.zoneSplitPfn;
        if (split > 0 && pfn < split && pfn + k * big > split) k = (split - pfn) / big;
        this.nrTotal += k * big;
        this.nrFree += k * big;
        this.pushExtent(this.zones[this.zoneOf(pfn)]!, pfn, k);
        pfn += k * big;
        left -= k * big;
        continue;
      }
      const size = 2 ** order;
      this.nrTotal += size;
      this.free1(pfn, order);
      pfn += size;
      left -= size;
    }
  }

  private pushExtent(z: Zone, start: number, count: number): void {
    const last = z.extHead < z.extents.length ? z.extents[z.extents.length - 1] : undefined;
    z.extBlocks += count;
    if (last !== undefined) {
      const end = last.start + last.count * this.maxBlock;
      if (end === start) {
        last.count += count;
        return;
      }
      if (start < end) z.extSorted = false;
    }
    z.extents.push({ start, count });
  }

  /** Takes the first block of the oldest extent. */
  private takeExtent(z: Zone): number {
    const e = z.extents[z.extHead]!;
    const pfn = e.start;
    e.start += this.maxBlock;
    e.count--;
    z.extBlocks--;
    if (e.count === 0) {
      z.extHead++;
      if (z.extHead === z.extents.length) {
        z.extents = [];
        z.extHead = 0;
        z.extSorted = true;
      } else if (z.extHead >= 1024 && z.extHead * 2 >= z.extents.length) {
        z.extents = z.extents.slice(z.extHead);
        z.extHead = 0;
      }
    }
    return pfn;
  }

  /** The max-order block at `pfn` is free inside an extent. */
  private inExtent(z: Zone, pfn: number): boolean {
    if (z.extBlocks === 0 || pfn % this.maxBlock !== 0) return false;
    const ext = z.extents;
    const hit = (e: Extent): boolean => e.count > 0 && pfn >= e.start && pfn < e.start + e.count * this.maxBlock;
    if (!z.extSorted) {
      for (let i = z.extHead; i < ext.length; i++) if (hit(ext[i]!)) return true;
      return false;
    }
    // the last extent starting at or below pfn
    let lo = z.extHead;
    let hi = ext.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (ext[mid]!.start <= pfn) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && hit(ext[found]!);
  }

  /**
   * Allocate a block of 2^order pages; returns its first PFN, or -1 when no block of that order
   * or above is free (or the order is out of range, or listed in failOrders).
   *
   * mm/page_alloc.c __rmqueue_smallest(): take a block from the smallest non-empty free list of
   * order ≥ `order`; expand(): while the block is bigger than requested, halve it and put the
   * upper half on the free list of the lower order, keeping the lower half.
   */
  alloc(order: number): number {
    if (!Number.isInteger(order) || order < 0 || order > this.maxOrder) return -1;
    if (this.failOrders.has(order)) return -1;
    for (const z of this.zones) {
      if (order === 0 && z.pcp.length > 0) return z.pcp.pop()!;
      const lists = z.lists;
      for (let cur = order; cur <= this.maxOrder; cur++) {
        let pfn: number;
        if (cur === this.maxOrder && z.extBlocks > 0) pfn = this.takeExtent(z);
        else {
          const list = lists[cur];
          if (list === undefined || list.size === 0) continue;
          const it = list.values().next();
          if (it.done === true) continue;
          pfn = it.value;
          list.delete(pfn);
        }
        // expand(): split down to the requested order.
        let high = cur;
        while (high > order) {
          high--;
          lists[high]?.add(pfn + 2 ** high);
        }
        this.nrFree -= 2 ** order;
        return pfn;
      }
    }
    return -1;
  }

  /**
   * Free a block of 2^order pages starting at `pfn` (which must be a block this allocator
   * handed out with the same order, or a sub-block of one). Invalid orders and an exact
   * double free of a block that is already free are ignored.
   */
  free(pfn: number, order: number): void {
    if (!Number.isInteger(order) || order < 0 || order > this.maxOrder) return;
    const z = this.zones[this.zoneOf(pfn)]!;
    if (z.lists[order]?.has(pfn) === true) return;
    if (order === this.maxOrder && this.inExtent(z, pfn)) return;
    if (order === 0 && z.pcp.length < this.pcpHigh) {
      z.pcp.push(pfn);
      return;
    }
    this.free1(pfn, order);
  }

  /**
   * mm/page_alloc.c __free_one_page(): while the buddy (the other half of the next larger
   * aligned block, __find_buddy_pfn(): pfn ^ (1 << order)) is free with the same order, take it
   * off its list and merge; stop at maxOrder. Then put the result on its free list.
   */
  private free1(pfn: number, order: number): void {
    this.nrFree += 2 ** order;
    const lists = this.zones[this.zoneOf(pfn)]!.lists;
    let head = pfn;
    let o = order;
    while (o < this.maxOrder) {
      const size = 2 ** o;
      const buddy = Math.floor(head / size) % 2 === 0 ? head + size : head - size;
      const list = lists[o];
      if (list === undefined || !list.delete(buddy)) break;
      head = Math.min(head, buddy);
      o++;
    }
    lists[o]?.add(head);
  }
}
