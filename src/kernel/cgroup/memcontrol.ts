/**
 * The memory controller's accounting: one page counter per memory cgroup (usage, limit,
 * high-water mark), charged hierarchically, and the parsing of memory.max.
 *
 * @kernel mm/page_counter.c (page_counter_try_charge, page_counter_uncharge, page_counter_memparse),
 *         mm/memcontrol.c (try_charge, mem_cgroup_css_alloc, memory_max_write)
 */

/**
 * PAGE_COUNTER_MAX on 64-bit: LONG_MAX / PAGE_SIZE pages, the "max" (no limit) value of
 * memory.max. @kernel include/linux/page_counter.h PAGE_COUNTER_MAX
 */
export function pageCounterMax(pageSize: number): number {
  return Number(0x7fffffffffffffffn / BigInt(pageSize));
}

/** A memory cgroup (struct mem_cgroup): the css of the memory controller on one cgroup. */
export class Memcg {
  /** page_counter.usage in pages; includes every descendant's charges (hierarchical). */
  usage = 0;
  /** page_counter.max in pages (memory.max). */
  max: number;
  /** page_counter.watermark: the highest usage seen (memory.peak). */
  watermark = 0;
  /** page_counter.failcnt: charges refused because this level was at its max (the memcg OOM report prints it). */
  failcnt = 0;
  /** The css was killed (rmdir, or the parent disabled the controller): no new charges land here. */
  offline = false;
  constructor(
    /** Recorded with every page charged here, so the page can be uncharged from it later. */
    readonly id: number,
    /** The parent's counter (page_counter.parent); null for the root memcg. */
    readonly parent: Memcg | null,
    max: number,
  ) {
    this.max = max;
  }

  get isRoot(): boolean {
    return this.parent === null;
  }

  /** mem_cgroup_is_descendant(): `this` is `ancestor` or below it. */
  isDescendantOf(ancestor: Memcg): boolean {
    if (this === ancestor) return true;
    for (let c = this.parent; c !== null; c = c.parent) if (c === ancestor) return true;
    return false;
  }
}

/** Every memcg of a kernel, by id, and the charge/uncharge operations. */
export class MemcgCore {
  readonly root: Memcg;
  readonly pageCounterMax: number;
  private readonly byId = new Map<number, Memcg>();
  private lastId = 0;

  constructor(readonly pageSize: number) {
    this.pageCounterMax = pageCounterMax(pageSize);
    this.root = this.create(null);
  }

  /** mem_cgroup_css_alloc(): a fresh counter with no limit under `parent`'s. */
  create(parent: Memcg | null): Memcg {
    const m = new Memcg(++this.lastId, parent, this.pageCounterMax);
    this.byId.set(m.id, m);
    return m;
  }

  get(id: number): Memcg | null {
    return this.byId.get(id) ?? null;
  }

  /**
   * try_charge(): the root memcg is never charged; otherwise page_counter_try_charge() adds
   * `pages` at every level from `m` up, and if any level would exceed its max, undoes what it
   * added and fails. Each level's watermark follows its usage. (Linux first charges a batch of
   * 64 pages and keeps the surplus in a per-CPU stock; here the count is exact.)
   * @kernel mm/memcontrol.c try_charge, mm/page_counter.c page_counter_try_charge
   */
  tryCharge(m: Memcg, pages: number): boolean {
    return this.tryChargeOver(m, pages) === null;
  }

  /**
   * {@link tryCharge} that says where it failed: null when charged, else the level whose max
   * would have been exceeded (mem_over_limit, whose OOM killer runs next), with its failcnt
   * counted.
   * @kernel mm/page_counter.c page_counter_try_charge (*fail, failcnt), mm/memcontrol.c try_charge_memcg (mem_over_limit)
   */
  tryChargeOver(m: Memcg, pages: number): Memcg | null {
    if (m.isRoot) return null;
    for (let c: Memcg | null = m; c !== null; c = c.parent) {
      if (c.usage + pages > c.max) {
        for (let u: Memcg | null = m; u !== c && u !== null; u = u.parent) u.usage -= pages;
        c.failcnt++;
        return c;
      }
      c.usage += pages;
      if (c.usage > c.watermark) c.watermark = c.usage;
    }
    return null;
  }

  /**
   * page_counter_uncharge() at every level from `m` up (nothing for the root memcg, which is
   * never charged). A memcg that is offline and holds no more charges is forgotten.
   * @kernel mm/page_counter.c page_counter_uncharge
   */
  uncharge(m: Memcg, pages: number): void {
    if (m.isRoot || pages === 0) return;
    for (let c: Memcg | null = m; c !== null; c = c.parent) c.usage -= pages;
    this.forgetIfUnused(m);
  }

  /** uncharge() by the id recorded with a page. */
  unchargeId(id: number, pages: number): void {
    const m = this.byId.get(id);
    if (m !== undefined) this.uncharge(m, pages);
  }

  /** css offline (mem_cgroup_css_offline): the memcg stays until its last charge is gone. */
  setOffline(m: Memcg): void {
    m.offline = true;
    this.forgetIfUnused(m);
  }

  private forgetIfUnused(m: Memcg): void {
    if (m.offline && m.usage === 0) this.byId.delete(m.id);
  }
}

/**
 * memparse() as the cgroup files use it: a simple_strtoull() number in base 0 (0x… hex, 0… octal,
 * else decimal; no sign, no leading blanks), then an optional K/M/G/T/P/E suffix (each a factor
 * of 1024), wrapping at 64 bits; the whole string must be used (`*end == '\0'`). An empty string
 * parses as 0. Returns the value in bytes, or null for EINVAL.
 * @kernel lib/cmdline.c memparse, lib/vsprintf.c simple_strtoull, lib/kstrtox.c _parse_integer_fixup_radix
 */
export function memparse(s: string): bigint | null {
  const mask = (1n << 64n) - 1n;
  let i = 0;
  let base = 10;
  // _parse_integer_fixup_radix(): 0x + a hex digit → 16, a leading 0 → 8
  if (s[0] === '0') {
    if ((s[1] === 'x' || s[1] === 'X') && /^[0-9a-fA-F]$/.test(s[2] ?? '')) {
      base = 16;
      i = 2;
    } else {
      base = 8;
    }
  }
  let v = 0n;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 16);
    if (Number.isNaN(d) || d >= base) break;
    v = (v * BigInt(base) + BigInt(d)) & mask;
  }
  const shifts: Readonly<Record<string, number>> = { k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };
  const suffix = shifts[(s[i] ?? '').toLowerCase()];
  if (suffix !== undefined) {
    v = (v << BigInt(suffix)) & mask;
    i++;
  }
  return i === s.length ? v : null;
}

/**
 * page_counter_memparse() as memory.max uses it: the exact string `max` means no limit;
 * otherwise {@link memparse}, rounded down to pages and capped at PAGE_COUNTER_MAX. Returns
 * pages, or null for EINVAL.
 * @kernel mm/page_counter.c page_counter_memparse
 */
export function pageCounterMemparse(s: string, pageSize: number): number | null {
  const max = pageCounterMax(pageSize);
  if (s === 'max') return max;
  const v = memparse(s);
  if (v === null) return null;
  const pages = v / BigInt(pageSize);
  return pages > BigInt(max) ? max : Number(pages);
}
