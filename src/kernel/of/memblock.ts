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

/** Adds [s, e) to a sorted, merged span list (memblock_add_range() + memblock_merge_regions()). */
function spanAdd(list: Span[], s: number, e: number): void {
  if (e <= s) return;
  const all: Span[] = [...list, [s, e] as Span].sort((x, y) => x[0] - y[0]);
  const out: Span[] = [];
  for (const [a, b] of all) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  list.splice(0, list.length, ...out);
}

/** Removes [s, e) from a span list (memblock_remove_range()). */
function spanRemove(list: Span[], s: number, e: number): void {
  if (e <= s) return;
  const out: Span[] = [];
  for (const [a, b] of list) {
    if (b <= s || a >= e) {
      out.push([a, b]);
      continue;
    }
    if (a < s) out.push([a, s]);
    if (b > e) out.push([e, b]);
  }
  list.splice(0, list.length, ...out);
}

/** Intersection of [s, e) with a span list. */
function spanClip(list: readonly Span[], s: number, e: number): Span[] {
  const out: Span[] = [];
  for (const [a, b] of list) {
    const lo = Math.max(a, s);
    const hi = Math.min(b, e);
    if (lo < hi) out.push([lo, hi]);
  }
  return out;
}

/** mm/memblock.c memblock_addrs_overlap(): [b1, b1+s1) and [b2, b2+s2) intersect. */
function overlaps(list: readonly Span[], base: number, size: number): boolean {
  return list.some(([a, b]) => base < b && a < base + size);
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

const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

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
    const out: Span[] = this.memory.map(([a, b]): Span => [a, b]);
    for (const [a, b] of this.nomap) spanRemove(out, a, b);
    for (const [a, b] of this.reserved) spanRemove(out, a, b);
    return out;
  }

  /**
   * mm/memblock.c memblock_find_in_range_node(): `start` is raised to PAGE_SIZE ("avoid
   * allocating the first page"), `end` to at least `start`; then __memblock_find_range_top_down()
   * (highest free range first, candidate = round_down(end - size, align)) or
   * __memblock_find_range_bottom_up() (candidate = round_up(start, align)), each free range
   * clamped to [start, end). Returns the base, or 0 when nothing fits.
   */
  findInRange(size: number, align: number, start: number, end: number): number {
    const lo = Math.max(start, this.pageSize);
    const hi = Math.max(lo, end);
    const free = this.freeSpans();
    if (this.bottomUp) {
      for (const [fs, fe] of free) {
        const s = clamp(fs, lo, hi);
        const e = clamp(fe, lo, hi);
        const cand = roundUp(s, align);
        if (cand < e && e - cand >= size) return cand;
      }
      return 0;
    }
    for (let i = free.length - 1; i >= 0; i--) {
      const [fs, fe] = free[i]!;
      const s = clamp(fs, lo, hi);
      const e = clamp(fe, lo, hi);
      if (e < size) continue;
      const cand = roundDown(e - size, align);
      if (cand >= s) return cand;
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
