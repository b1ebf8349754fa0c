/**
 * The buddy page allocator for one zone: free memory is kept as naturally aligned power-of-two
 * blocks, one free list per order (mm/page_alloc.c, struct free_area in include/linux/mmzone.h).
 *
 * Representation: for each order a Set of the head PFNs of the free blocks of that order. Memory
 * use is proportional to the number of free blocks (i.e. to fragmentation), not to the amount of
 * RAM, so a 16 GiB zone that is mostly free costs a handful of entries. Every operation is
 * O(maxOrder) set operations.
 *
 * Free lists are taken oldest-first (Set insertion order). Linux adds freed blocks at the list
 * head and allocates from the head (LIFO, with some tail insertions); the emulator only needs
 * the allocator to be deterministic, and both orders give the same results whenever a list holds
 * at most one block, which is the common case in tests.
 *
 * PFN arithmetic is done with ordinary arithmetic, never 32-bit bitwise operators, so PFNs above
 * 2^31 are safe.
 *
 * Errors are data: alloc() returns -1, nothing throws.
 */
import { MAX_PAGE_ORDER } from './page.js';

export class BuddyAllocator {
  /**
   * zones[z][o] = head PFNs of the free blocks of order o in zone z. Zone 0 is ZONE_NORMAL (at or
   * above `zoneSplitPfn`), zone 1 ZONE_DMA32 below it; a user allocation tries them in that
   * order (the zonelist fallback of mm/page_alloc.c get_page_from_freelist). Without a split
   * there is one zone.
   */
  private readonly zones: Set<number>[][] = [];
  private nrFree = 0;
  private nrTotal = 0;

  /**
   * Fault injection: alloc() of any order in this set fails (returns -1) even if memory is free.
   * Used to emulate high-order allocations failing under fragmentation (spec §8 case 69: system
   * heap with order-8 failing falls back to order 4).
   */
  failOrders: Set<number> = new Set();

  /**
   * The per-CPU list of free single pages (struct per_cpu_pages): freed order-0 pages wait here,
   * up to `pcpHigh` of them, instead of being merged back at once, and order-0 allocations take
   * from it first, so that a page freed and allocated again costs no split or merge.
   * @kernel mm/page_alloc.c free_unref_page, rmqueue_pcplist, pcp->high
   */
  private readonly pcps: number[][] = [];

  /**
   * @param maxOrder highest order (inclusive), MAX_PAGE_ORDER by default.
   * @param pcpHigh most pages the per-CPU list keeps (0: no list, every free merges at once).
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
    const nzones = zoneSplitPfn > 0 ? 2 : 1;
    for (let z = 0; z < nzones; z++) {
      const lists: Set<number>[] = [];
      for (let o = 0; o <= maxOrder; o++) lists.push(new Set());
      this.zones.push(lists);
      this.pcps.push([]);
    }
  }

  private zoneOf(pfn: number): number {
    return this.zoneSplitPfn > 0 && pfn < this.zoneSplitPfn ? 1 : 0;
  }

  /** Free pages, including those waiting on the per-CPU lists. */
  get freePages(): number {
    let n = this.nrFree;
    for (const p of this.pcps) n += p.length;
    return n;
  }

  /** Pages on the per-CPU lists (not in the buddy free lists, as /proc/buddyinfo does not show them). */
  get pcpCount(): number {
    let n = 0;
    for (const p of this.pcps) n += p.length;
    return n;
  }

  /** drain_all_pages(): merges every page on the per-CPU lists back into the free lists. */
  drain(): void {
    for (const p of this.pcps) while (p.length > 0) this.free1(p.pop()!, 0);
  }

  /** Pages ever given to the allocator with addFreeRange() (zone managed pages). */
  get totalPages(): number {
    return this.nrTotal;
  }

  /** Number of free blocks of an order (one column of /proc/buddyinfo); 0 for an invalid order. */
  freeBlocks(order: number): number {
    let n = 0;
    for (const lists of this.zones) n += lists[order]?.size ?? 0;
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
   * neighbours added earlier. The caller must not add a page twice.
   */
  addFreeRange(startPfn: number, npages: number): void {
    let pfn = startPfn;
    let left = Math.floor(npages);
    while (left > 0) {
      let order = 0;
      // Grow the block while it stays aligned to its own size and inside the range.
      while (order < this.maxOrder) {
        const next = 2 ** (order + 1);
        if (pfn % next !== 0 || next > left) break;
        order++;
      }
      const size = 2 ** order;
      this.nrTotal += size;
      this.free1(pfn, order);
      pfn += size;
      left -= size;
    }
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
    for (let z = 0; z < this.zones.length; z++) {
      const pcp = this.pcps[z]!;
      if (order === 0 && pcp.length > 0) return pcp.pop()!;
      const lists = this.zones[z]!;
      for (let cur = order; cur <= this.maxOrder; cur++) {
        const list = lists[cur];
        if (list === undefined || list.size === 0) continue;
        const it = list.values().next();
        if (it.done === true) continue;
        const pfn = it.value;
        list.delete(pfn);
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
    const z = this.zoneOf(pfn);
    if (this.zones[z]![order]?.has(pfn) === true) return;
    const pcp = this.pcps[z]!;
    if (order === 0 && pcp.length < this.pcpHigh) {
      pcp.push(pfn);
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
    const lists = this.zones[this.zoneOf(pfn)]!;
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
