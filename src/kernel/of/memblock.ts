/**
 * A small model of the boot-time memory allocator, enough for reserved-memory placement:
 * memblock.memory (RAM, with the NOMAP flag on parts of it) and memblock.reserved, plus the
 * range search used by memblock_phys_alloc_range().
 *
 * Addresses are JS numbers (exact below 2^53). Ranges are kept as sorted, merged [start, end)
 * pairs: memblock merges adjacent regions with equal flags (mm/memblock.c
 * memblock_merge_regions()), so a free range never spans a NOMAP boundary, exactly as here.
 *
 * @kernel mm/memblock.c
 */

/** A physical range: `size` bytes from `base`. */
export interface PhysRange {
  readonly base: number;
  readonly size: number;
}

type Span = [number, number];

/**
 * Index of the first span of a sorted, disjoint list whose end is ≥ `x` (`touch`: spans that end
 * exactly at `x` count, for merging) or > `x`; list.length when there is none. Binary search, so
 * every span operation below costs O(log n) plus the spans it changes (memblock's own arrays cost
 * a memmove per insertion; the splice here is the same).
 */
function firstEndingAfter(list: readonly Span[], x: number, touch: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const end = list[mid]![1];
    if (touch ? end >= x : end > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Adds [s, e) to a sorted, merged span list (memblock_add_range() + memblock_merge_regions()). */
function spanAdd(list: Span[], s: number, e: number): void {
  if (!(e > s)) return;
  const last = list[list.length - 1];
  if (last === undefined || s > last[1]) {
    list.push([s, e]);
    return;
  }
  const i = firstEndingAfter(list, s, true);
  let j = i;
  let lo = s;
  let hi = e;
  while (j < list.length && list[j]![0] <= e) {
    lo = Math.min(lo, list[j]![0]);
    hi = Math.max(hi, list[j]![1]);
    j++;
  }
  list.splice(i, j - i, [lo, hi]);
}

/** Removes [s, e) from a span list (memblock_remove_range()). */
function spanRemove(list: Span[], s: number, e: number): void {
  if (!(e > s)) return;
  const i = firstEndingAfter(list, s, false);
  let j = i;
  const keep: Span[] = [];
  while (j < list.length && list[j]![0] < e) {
    const [a, b] = list[j]!;
    if (a < s) keep.push([a, s]);
    if (b > e) keep.push([e, b]);
    j++;
  }
  if (j > i) list.splice(i, j - i, ...keep);
}

/** Intersection of [s, e) with a span list. */
function spanClip(list: readonly Span[], s: number, e: number): Span[] {
  const out: Span[] = [];
  for (let i = firstEndingAfter(list, s, false); i < list.length && list[i]![0] < e; i++) {
    const [a, b] = list[i]!;
    out.push([Math.max(a, s), Math.min(b, e)]);
  }
  return out;
}

/** mm/memblock.c memblock_addrs_overlap(): [base, base+size) meets a span of the list. */
function overlaps(list: readonly Span[], base: number, size: number): boolean {
  const i = firstEndingAfter(list, base, false);
  return i < list.length && list[i]![0] < base + size;
}

/** `list` minus the union of `holes` (both sorted and merged), in one pass over both. */
function spanSubtract(list: readonly Span[], holes: readonly Span[]): Span[] {
  const out: Span[] = [];
  let h = 0;
  for (const [a, b] of list) {
    let s = a;
    while (h < holes.length && holes[h]![1] <= s) h++;
    let k = h;
    while (k < holes.length && holes[k]![0] < b) {
      const [hs, he] = holes[k]!;
      if (hs > s) out.push([s, hs]);
      s = Math.max(s, he);
      if (s >= b) break;
      k++;
    }
    if (s < b) out.push([s, b]);
  }
  return out;
}

/** The union of two sorted, merged span lists. */
function spanUnion(x: readonly Span[], y: readonly Span[]): Span[] {
  const out: Span[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    const next = j >= y.length || (i < x.length && x[i]![0] <= y[j]![0]) ? x[i++]! : y[j++]!;
    const last = out[out.length - 1];
    if (last !== undefined && next[0] <= last[1]) last[1] = Math.max(last[1], next[1]);
    else out.push([next[0], next[1]]);
  }
  return out;
}

const U64 = (1n << 64n) - 1n;

/**
 * include/linux/math.h round_down(): `x & ~(a - 1)` on a 64-bit phys_addr_t. Like the kernel, this
 * assumes a power of two; any other alignment from a device tree gives the same odd mask result
 * the kernel would compute.
 */
export function roundDown(x: number, a: number): number {
  return Number(BigInt(x) & ~(BigInt(a) - 1n) & U64);
}

/** include/linux/math.h round_up(): `((x - 1) | (a - 1)) + 1` on a 64-bit phys_addr_t. */
export function roundUp(x: number, a: number): number {
  return Number(((((BigInt(x) - 1n) & U64) | (BigInt(a) - 1n)) + 1n) & U64);
}

export class Memblock {
  /** memblock.memory as merged spans (NOMAP or not). */
  private readonly memory: Span[] = [];
  /** The parts of memblock.memory flagged MEMBLOCK_NOMAP. */
  private readonly nomap: Span[] = [];
  /** memblock.reserved. */
  private readonly reserved: Span[] = [];
  /** memblock.bottom_up (memblock_set_bottom_up()); top-down by default on arm64 and x86-64. */
  bottomUp = false;

  constructor(private readonly pageSize: number) {}

  /** mm/memblock.c memblock_add(). */
  addMemory(base: number, size: number): void {
    spanAdd(this.memory, base, base + size);
  }

  /**
   * mm/memblock.c memblock_remove(): takes [base, base + size) out of memblock.memory (and so
   * drops its NOMAP flag); memblock.reserved is left alone.
   */
  removeMemory(base: number, size: number): void {
    spanRemove(this.memory, base, base + size);
    spanRemove(this.nomap, base, base + size);
  }

  /** mm/memblock.c memblock_reserve(): no check against memory; a size of 0 does nothing. */
  reserve(base: number, size: number): void {
    spanAdd(this.reserved, base, base + size);
  }

  /**
   * mm/memblock.c memblock_phys_free(): removes [base, base + size) from memblock.reserved,
   * whoever reserved it (overlapping reservations lose the overlap too, as in the kernel).
   */
  free(base: number, size: number): void {
    spanRemove(this.reserved, base, base + size);
  }

  /** mm/memblock.c memblock_mark_nomap(): flags the memory part of the range; never fails here. */
  markNomap(base: number, size: number): void {
    for (const [s, e] of spanClip(this.memory, base, base + size)) spanAdd(this.nomap, s, e);
  }

  /** mm/memblock.c memblock_clear_nomap(). */
  clearNomap(base: number, size: number): void {
    spanRemove(this.nomap, base, base + size);
  }

  /** mm/memblock.c memblock_is_region_reserved(): the range overlaps memblock.reserved. */
  isRegionReserved(base: number, size: number): boolean {
    return overlaps(this.reserved, base, size);
  }

  /** mm/memblock.c memblock_overlaps_region(&memblock.memory, ...). */
  overlapsMemory(base: number, size: number): boolean {
    return overlaps(this.memory, base, size);
  }

  /** The range lies entirely inside memblock.memory. */
  containedInMemory(base: number, size: number): boolean {
    const inside = spanClip(this.memory, base, base + size).reduce((n, [a, b]) => n + (b - a), 0);
    return inside === size;
  }

  /** mm/memblock.c memblock_start_of_DRAM() (0 without memory). */
  startOfDram(): number {
    return this.memory[0]?.[0] ?? 0;
  }

  /** mm/memblock.c memblock_end_of_DRAM() (0 without memory). */
  endOfDram(): number {
    return this.memory[this.memory.length - 1]?.[1] ?? 0;
  }

  /**
   * mm/memblock.c for_each_free_mem_range(): memory that is neither NOMAP (__next_mem_range()
   * skips NOMAP regions unless asked for them) nor reserved, ascending.
   */
  freeSpans(): Span[] {
    return spanSubtract(this.memory, spanUnion(this.nomap, this.reserved));
  }

  /** The free spans inside [lo, hi), ascending: memory minus NOMAP minus reserved, clipped. */
  private freeSpansIn(lo: number, hi: number): Span[] {
    const mem = spanClip(this.memory, lo, hi);
    if (mem.length === 0) return mem;
    const first = mem[0]![0];
    const last = mem[mem.length - 1]![1];
    return spanSubtract(mem, spanUnion(spanClip(this.nomap, first, last), spanClip(this.reserved, first, last)));
  }

  /**
   * mm/memblock.c memblock_find_in_range_node(): `start` is raised to PAGE_SIZE ("avoid
   * allocating the first page"), `end` to at least `start`; then __memblock_find_range_top_down()
   * (highest free range first, candidate = round_down(end - size, align)) or
   * __memblock_find_range_bottom_up() (candidate = round_up(start, align)), each free range
   * clamped to [start, end). Returns the base, or 0 when nothing fits.
   *
   * The search walks the memory spans from the end it starts at and computes the free parts of
   * one span at a time, so it stops at the first fit instead of listing all free memory.
   */
  findInRange(size: number, align: number, start: number, end: number): number {
    const lo = Math.max(start, this.pageSize);
    const hi = Math.max(lo, end);
    const mem = spanClip(this.memory, lo, hi);
    if (this.bottomUp) {
      for (const [ms, me] of mem) {
        for (const [s, e] of this.freeSpansIn(ms, me)) {
          const cand = roundUp(s, align);
          if (cand < e && e - cand >= size) return cand;
        }
      }
      return 0;
    }
    for (let m = mem.length - 1; m >= 0; m--) {
      const [ms, me] = mem[m]!;
      const free = this.freeSpansIn(ms, me);
      for (let i = free.length - 1; i >= 0; i--) {
        const [s, e] = free[i]!;
        if (e < size) continue;
        const cand = roundDown(e - size, align);
        if (cand >= s) return cand;
      }
    }
    return 0;
  }

  /**
   * mm/memblock.c memblock_phys_alloc_range() → memblock_alloc_range_nid(): find, then
   * memblock_reserve() the result. Returns the base, 0 on failure (NUMA and mirror retries do not
   * apply: one node, no mirrored memory).
   */
  allocRange(size: number, align: number, start: number, end: number): number {
    const found = this.findInRange(size, align, start, end);
    if (found !== 0) this.reserve(found, size);
    return found;
  }

  /**
   * `count` single-page allocations, each memblock_phys_alloc_range(PAGE_SIZE, PAGE_SIZE, 0,
   * MEMBLOCK_ALLOC_NOLEAKTRACE) top-down (arm64 early_pgtable_alloc()): the highest free pages
   * first, a free range at a time. Returns how many were allocated.
   */
  allocPagesTopDown(count: number, pageSize: number): number {
    let left = count;
    const free = this.freeSpans();
    for (let i = free.length - 1; i >= 0 && left > 0; i--) {
      const [s, e] = free[i]!;
      const top = roundDown(e, pageSize);
      const bottom = Math.max(roundUp(s, pageSize), pageSize);
      if (top <= bottom) continue;
      const n = Math.min(left, (top - bottom) / pageSize);
      this.reserve(top - n * pageSize, n * pageSize);
      left -= n;
    }
    return count - left;
  }

  /** Final state: memblock.memory, memblock.reserved and the NOMAP parts of memory. */
  snapshot(): { memory: PhysRange[]; reserved: PhysRange[]; nomap: PhysRange[] } {
    const conv = (l: readonly Span[]): PhysRange[] => l.map(([a, b]) => ({ base: a, size: b - a }));
    return { memory: conv(this.memory), reserved: conv(this.reserved), nomap: conv(this.nomap) };
  }

  /** Ranges for mm/cmdline.ts placeCmaArea(): memory, and reserved (optionally with NOMAP). */
  asRanges(withNomap: boolean): { ram: PhysRange[]; reserved: PhysRange[] } {
    const s = this.snapshot();
    return { ram: s.memory, reserved: withNomap ? [...s.reserved, ...s.nomap] : s.reserved };
  }
}
