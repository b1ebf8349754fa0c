/**
 * The fast path's shim (native/preload/dmaheap-preload.c) leaves traces in the program's address
 * space that the program would not have without `dmaheap run`: its shared object, its syscall
 * stub page, its live page, the fd bitmap it maps, and the libc page it patched (the kernel keeps
 * a written page of a private file mapping as its own VMA, so libc's text shows split in three).
 * The program's /proc/<pid>/maps and smaps are the emulated kernel's rendering of the real ones
 * (mm-remote.ts foreignMapLines/foreignSmaps); these functions take the shim's traces out of the
 * real lines before that, so the program sees the map it would have had.
 */

/** What a registration told the bridge (see the shim's reg_info), by process. */
export interface ShimTraces {
  /** Starts of the shim's own one-page anonymous mappings (the stub page and the live page). */
  readonly pages: readonly number[];
  /** Pages of libc the shim wrote: lines split at them are joined again. */
  readonly patched: readonly number[];
  /** Path columns whose mappings are the shim's: its shared object, its bitmap memfd. */
  readonly names: readonly string[];
}

/** The name the bitmap's memfd shows in maps (bridge.ts registerPreload creates it). */
export const FDMAP_NAME = '/memfd:dmaheap-fdmap (deleted)';

interface Parsed {
  start: number;
  end: number;
  perms: string;
  offset: number;
  dev: string;
  inode: string;
  name: string;
}

/** A maps line's fields (fs/proc/task_mmu.c show_map_vma), or null when it is not one. */
function parse(line: string): Parsed | null {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
  if (m === null) return null;
  return { start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), perms: m[3]!, offset: parseInt(m[4]!, 16), dev: m[5]!, inode: m[6]!, name: m[7]! };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/**
 * `line` with its range set to start-end, the path column kept where it was when the range's
 * width allows (show_map_vma pads to column 73 before the path).
 */
function withRange(line: string, start: number, end: number): string {
  const dash = line.indexOf('-');
  const sp = line.indexOf(' ');
  const range = `${hex(start, dash)}-${hex(end, sp - dash - 1)}`;
  const rest = line.slice(sp);
  const p = parse(line);
  if (range.length === sp || p === null || p.name === '') return range + rest;
  // a longer range eats into the padding before the path, a shorter one adds to it
  const head = rest.slice(0, rest.length - p.name.length).trimEnd();
  const pad = Math.max(1, line.length - p.name.length - (range.length + head.length));
  return `${range}${head}${' '.repeat(pad)}${p.name}`;
}

/** May lines a and b (b right after a) be shown as one, because the shim split them at a patched page? */
function joinable(a: Parsed, b: Parsed, patched: readonly number[], pageSize: number): boolean {
  if (b.start !== a.end || a.perms !== b.perms || a.dev !== b.dev || a.inode !== b.inode || a.name !== b.name) return false;
  if (b.offset !== a.offset + (a.end - a.start)) return false;
  return patched.some((p) => a.end === p || a.end === p + pageSize);
}

/** Is this line one of the shim's own mappings? */
function shims(p: Parsed, t: ShimTraces): boolean {
  return t.pages.includes(p.start) || (p.name !== '' && t.names.includes(p.name));
}

/**
 * `items` (maps lines or smaps blocks, `head` giving each one's maps line) without the shim's
 * mappings, each run split at a patched page joined into one by `join`.
 */
function hideAndJoin<T>(items: readonly T[], head: (x: T) => string, t: ShimTraces, pageSize: number, join: (a: T, b: T, start: number, end: number) => T): T[] {
  const out: T[] = [];
  let last: { x: T; p: Parsed } | null = null;
  for (const x of items) {
    const p = parse(head(x));
    if (p !== null && shims(p, t)) continue;
    if (p !== null && last !== null && joinable(last.p, p, t.patched, pageSize)) {
      const joined = join(last.x, x, last.p.start, p.end);
      out[out.length - 1] = joined;
      last = { x: joined, p: Object.assign({}, last.p, { end: p.end }) };
      continue;
    }
    out.push(x);
    last = p === null ? null : { x, p };
  }
  return out;
}

/** The real maps lines without the shim's traces: its mappings dropped, libc's split text joined. */
export function hideInMaps<L extends { start: number; line: string }>(lines: readonly L[], t: ShimTraces, pageSize: number, make: (start: number, line: string, from: L) => L): L[] {
  return hideAndJoin(lines, (l) => l.line, t, pageSize, (a, _b, start, end) => make(start, withRange(a.line, start, end), a));
}

/** smaps fields that are not amounts (they stay as the first block has them). */
const NOT_SUMMED = new Set(['KernelPageSize', 'MMUPageSize']);

/** Two smaps blocks as one: the first's header with the joined range, the amounts added. */
function joinSmaps(a: string, b: string, start: number, end: number): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  const amount = (l: string): { key: string; n: number; width: number } | null => {
    const m = /^(\w+):(\s+)(\d+) kB$/.exec(l);
    return m === null ? null : { key: m[1]!, n: Number(m[3]), width: m[2]!.length + m[3]!.length };
  };
  const extra = new Map<string, number>();
  for (const l of bl) {
    const x = amount(l);
    if (x !== null && !NOT_SUMMED.has(x.key)) extra.set(x.key, (extra.get(x.key) ?? 0) + x.n);
  }
  return al
    .map((l, i) => {
      if (i === 0) return withRange(l, start, end);
      const x = amount(l);
      if (x === null || NOT_SUMMED.has(x.key)) return l;
      const n = String(x.n + (extra.get(x.key) ?? 0));
      return `${x.key}:${n.padStart(x.width)} kB`;
    })
    .join('\n');
}

/** The real smaps blocks without the shim's traces (as {@link hideInMaps}; amounts of joined blocks added). */
export function hideInSmaps<B extends { start: number; text: string; rss: number; referenced: number }>(blocks: readonly B[], t: ShimTraces, pageSize: number): B[] {
  const head = (b: B): string => b.text.slice(0, b.text.indexOf('\n') < 0 ? b.text.length : b.text.indexOf('\n'));
  return hideAndJoin(blocks, head, t, pageSize, (a, b, start, end) => Object.assign({}, a, { text: joinSmaps(a.text, b.text, start, end), rss: a.rss + b.rss, referenced: a.referenced + b.referenced }));
}
