/**
 * Kernel command line and boot-time placement of the default CMA area (spec §5.1, the
 * command-line part): `cma=size[@base[-limit]]` parsing and the memblock placement done by
 * mm/cma.c cma_declare_contiguous_nid().
 *
 * Addresses and sizes are JS numbers (exact below 2^53). Errors are data: parse failures return
 * null or `{ error }`, placement failures `{ errno, message }` with a positive errno value
 * (EINVAL 22, EBUSY 16, ENOMEM 12); nothing throws.
 */

const EBUSY = 16;
const ENOMEM = 12;
const EINVAL = 22;

const SZ_1M = 1024 * 1024;
const SZ_4G = 4 * 1024 * 1024 * 1024;

/** Value of a hex/octal/decimal digit character, or 99 when it is not one. */
function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return 99;
}

/**
 * lib/cmdline.c memparse(): parse a number with lib/kstrtox.c's base-0 rules ("0x"/"0X" followed
 * by a hex digit → hex, a leading "0" → octal, else decimal), then an optional size suffix
 * K, M, G, T, P or E (case-insensitive, ×2^10 … ×2^60). `rest` is the text after the number
 * and suffix.
 *
 * Returns null when `s` does not start with a digit (the kernel would return 0 and leave the
 * pointer where it was; callers treat that as "no value").
 */
export function memparse(s: string): { value: number; rest: string } | null {
  let i = 0;
  let base = 10;
  // lib/kstrtox.c _parse_integer_fixup_radix()
  if (s[0] === '0') {
    const x = s[1];
    const d = s[2];
    if ((x === 'x' || x === 'X') && d !== undefined && digitValue(d) < 16) {
      base = 16;
      i = 2;
    } else {
      base = 8;
    }
  }
  const digitsStart = i;
  let value = 0;
  while (i < s.length) {
    const d = digitValue(s[i] ?? '');
    if (d >= base) break;
    value = value * base + d;
    i++;
  }
  if (i === digitsStart) return null;
  const shifts: Record<string, number> = { k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };
  const suffix = shifts[(s[i] ?? '').toLowerCase()];
  if (suffix !== undefined) {
    value *= 2 ** suffix;
    i++;
  }
  return { value, rest: s.slice(i) };
}

/** A parsed `cma=` parameter (kernel/dma/contiguous.c size_cmdline/base_cmdline/limit_cmdline). */
export interface CmaCmdline {
  /** Bytes. */
  size: number;
  /** Lowest physical address, 0 = anywhere. */
  base: number;
  /** End of the window (exclusive), 0 = end of RAM. */
  limit: number;
  /** Place exactly at `base` (dma_contiguous_reserve(): base + size == limit). */
  fixed: boolean;
}

/**
 * kernel/dma/contiguous.c early_cma(): `cma=size[@base[-limit]]`.
 * - `size` → anywhere (base 0, limit 0);
 * - `size@base` → limit = base + size, i.e. fixed;
 * - `size@base-limit` → anywhere in [base, limit), fixed iff base + size == limit
 *   (dma_contiguous_reserve()).
 * Text after the last number is ignored, as in the kernel. A size or address that is not a
 * number is reported as `{ error }` (the kernel would read it as 0).
 */
export function parseCmaParam(value: string): CmaCmdline | { error: string } {
  const size = memparse(value);
  if (size === null) return { error: `cma: invalid size "${value}"` };
  let base = 0;
  let limit = 0;
  if (size.rest.startsWith('@')) {
    const b = memparse(size.rest.slice(1));
    if (b === null) return { error: `cma: invalid base in "${value}"` };
    base = b.value;
    if (b.rest.startsWith('-')) {
      const l = memparse(b.rest.slice(1));
      if (l === null) return { error: `cma: invalid limit in "${value}"` };
      limit = l.value;
    } else {
      limit = base + size.value;
    }
  }
  return { size: size.value, base, limit, fixed: base + size.value === limit };
}

/**
 * Split a kernel command line into parameters (lib/cmdline.c next_arg()): whitespace separates
 * arguments except inside double quotes; `name=value` maps name → value with one pair of
 * surrounding quotes removed from the value (`name="a b"` → `a b`); a bare word maps to ''.
 * A later duplicate overrides an earlier one (each early_param handler runs again and the last
 * call wins). Parsing stops at `--` (init/main.c: the rest goes to init).
 */
export function parseCmdline(cmdline: string): Map<string, string> {
  const out = new Map<string, string>();
  const tokens: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (const c of cmdline) {
    if (c === '"') {
      inQuote = !inQuote;
      cur += c;
      has = true;
    } else if (!inQuote && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
      if (has) tokens.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) tokens.push(cur);

  for (let tok of tokens) {
    if (tok === '--') break;
    // next_arg(): a leading quote quotes the whole argument.
    if (tok.startsWith('"')) {
      tok = tok.slice(1);
      if (tok.endsWith('"')) tok = tok.slice(0, -1);
    }
    const eq = tok.indexOf('=');
    if (eq < 0) {
      out.set(tok, '');
      continue;
    }
    let v = tok.slice(eq + 1);
    if (v.startsWith('"')) {
      v = v.slice(1);
      if (v.endsWith('"')) v = v.slice(0, -1);
    }
    out.set(tok.slice(0, eq), v);
  }
  return out;
}

/** A physical address as printk's %pa prints a 64-bit phys_addr_t: 0x + 16 hex digits. */
export function formatPa(addr: number): string {
  return '0x' + addr.toString(16).padStart(16, '0');
}

interface Range {
  base: number;
  size: number;
}

/** Sort and merge overlapping/adjacent ranges, dropping empty ones. Returns [start, end) pairs. */
function normalise(ranges: readonly Range[]): [number, number][] {
  const sorted = ranges
    .filter((r) => r.size > 0)
    .map((r): [number, number] => [r.base, r.base + r.size])
    .sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** memblock free ranges: memory minus reserved (mm/memblock.c for_each_free_mem_range()). */
function freeRanges(ram: readonly Range[], reserved: readonly Range[]): [number, number][] {
  const mem = normalise(ram);
  const res = normalise(reserved);
  const out: [number, number][] = [];
  for (const [ms, me] of mem) {
    let s = ms;
    for (const [rs, re] of res) {
      if (re <= s) continue;
      if (rs >= me) break;
      if (rs > s) out.push([s, rs]);
      s = Math.max(s, re);
      if (s >= me) break;
    }
    if (s < me) out.push([s, me]);
  }
  return out;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number): number => Math.floor(v / a) * a;

/**
 * mm/memblock.c memblock_find_in_range_node(): a `size`-byte, `align`-aligned free range inside
 * [start, end), highest address first (__memblock_find_range_top_down()) or lowest first
 * (__memblock_find_range_bottom_up()). Start is raised to at least 1 byte (the kernel raises it
 * to PAGE_SIZE so that 0 never means success). Returns the base or 0.
 */
function findInRange(free: [number, number][], size: number, align: number, start: number, end: number, bottomUp: boolean): number {
  const lo = Math.max(start, 1);
  if (bottomUp) {
    for (const [fs, fe] of free) {
      const s = Math.max(fs, lo);
      const e = Math.min(fe, end);
      if (s >= e) continue;
      const cand = alignUp(s, align);
      if (cand < e && e - cand >= size) return cand;
    }
  } else {
    for (let i = free.length - 1; i >= 0; i--) {
      const r = free[i];
      if (r === undefined) continue;
      const s = Math.max(r[0], lo);
      const e = Math.min(r[1], end);
      if (s >= e || e < size) continue;
      const cand = alignDown(e - size, align);
      if (cand >= s) return cand;
    }
  }
  return 0;
}

/** Placement request: a parsed `cma=` (or Kconfig size) plus an optional requested alignment. */
export interface CmaPlacementRequest {
  size: number;
  base: number;
  limit: number;
  fixed: boolean;
  /** Requested alignment in bytes (power of two, or 0/absent for none). */
  alignment?: number;
  /** NUMA node printed in the log; NUMA_NO_NODE (-1) by default, as with CONFIG_NUMA off. */
  nid?: number;
  /** Print "on node %d" after "Reserved %ld MiB at %pa" (6.6–7.0; not 6.1.192 nor 7.3). Default true. */
  logNode?: boolean;
}

/** Successful placement: the reserved range and the kernel log lines it printed. */
export interface CmaPlacement {
  base: number;
  size: number;
  log: string[];
}

/** Failed placement: positive errno, the pr_err line(s), also as `log`. */
export interface CmaPlacementError {
  errno: number;
  message: string;
  log: string[];
}

/**
 * mm/cma.c cma_declare_contiguous_nid() for the default area (kernel/dma/contiguous.c
 * dma_contiguous_reserve()), on a 64-bit kernel without highmem:
 * 1. size 0 → EINVAL; requested alignment not a power of two → EINVAL;
 * 2. alignment = max(requested, minAlign) (CMA_MIN_ALIGNMENT_BYTES); fixed with an unaligned
 *    base → EINVAL; base and size rounded up to it, limit rounded down; base 0 → not fixed;
 * 3. limit 0 or beyond the end of RAM → end of RAM; base + size > limit → EINVAL;
 * 4. fixed: the range must not overlap `reserved` (memblock_is_region_reserved()) → else EBUSY;
 * 5. otherwise, if RAM ends at or above 4 GiB + size, try bottom-up in [4 GiB, limit)
 *    (CONFIG_PHYS_ADDR_T_64BIT), then top-down in [base, limit); nothing → ENOMEM.
 * The caller is responsible for adding the result to its reserved list and for MAX_CMA_AREAS.
 *
 * Log lines follow 6.1's pr_fmt "cma: ": "Reserved %ld MiB at %pa on node %d" /
 * "Failed to reserve %ld MiB on node %d", plus the specific pr_err for alignment/limit errors.
 */
export function placeCmaArea(
  p: CmaPlacementRequest,
  ram: readonly Range[],
  reserved: readonly Range[],
  minAlign: number,
): CmaPlacement | CmaPlacementError {
  const nid = p.nid ?? -1;
  const log: string[] = [];
  const fail = (errno: number, size: number): CmaPlacementError => {
    // the node is printed where "Reserved" prints it (logNode: the 6.12 referee; not 6.1 or 7.3)
    log.push(`cma: Failed to reserve ${Math.floor(size / SZ_1M)} MiB${p.logNode === false ? '' : ` on node ${nid}`}`);
    return { errno, message: log.join('\n'), log };
  };
  const isPow2 = (v: number): boolean => v > 0 && Number.isInteger(Math.log2(v));

  if (!(p.size > 0)) return { errno: EINVAL, message: 'cma: size must not be 0', log };
  const requested = p.alignment ?? 0;
  if (requested !== 0 && !isPow2(requested)) {
    return { errno: EINVAL, message: `cma: alignment ${requested} is not a power of two`, log };
  }

  const alignment = Math.max(requested, minAlign);
  let fixed = p.fixed;
  if (fixed && p.base % alignment !== 0) {
    log.push(`cma: Region at ${formatPa(p.base)} must be aligned to ${formatPa(alignment)} bytes`);
    return fail(EINVAL, p.size);
  }
  let base = alignUp(p.base, alignment);
  const size = alignUp(p.size, alignment);
  let limit = alignDown(p.limit, alignment);
  if (base === 0) fixed = false;

  const memEnd = normalise(ram).reduce((m, r) => Math.max(m, r[1]), 0);
  if (limit === 0 || limit > memEnd) limit = memEnd;
  if (base + size > limit) {
    log.push(`cma: Size (${formatPa(size)}) of region at ${formatPa(base)} exceeds limit (${formatPa(limit)})`);
    return fail(EINVAL, size);
  }

  if (fixed) {
    const end = base + size;
    const overlaps = normalise(reserved).some(([rs, re]) => rs < end && re > base);
    if (overlaps) return fail(EBUSY, size);
  } else {
    const free = freeRanges(ram, reserved);
    let addr = 0;
    if (memEnd >= SZ_4G + size) addr = findInRange(free, size, alignment, SZ_4G, limit, true);
    if (addr === 0) addr = findInRange(free, size, alignment, base, limit, false);
    if (addr === 0) return fail(ENOMEM, size);
    base = addr;
  }

  log.push(`cma: Reserved ${Math.floor(size / SZ_1M)} MiB at ${formatPa(base)}${p.logNode === false ? '' : ` on node ${nid}`}`);
  return { base, size, log };
}
