/**
 * What the Linux backend knows of the memory its mappings occupy in this (Node) process: the
 * pages mapped now, with their protection and how they may be touched, and the arena, every
 * page it ever mapped. The kernel keeps the truth; after each address-range call the backend
 * reads it back from /proc/self/maps for the ranges it owns (a failed mprotect may have changed
 * part of a range, mremap moves pages, a partial munmap leaves a hole).
 *
 * Safety rule: a call is given a range only when every page in it is either mapped by this
 * backend or a hole this backend made (in the arena) that /proc/self/maps still shows as a hole;
 * anything else may be Node's memory.
 */

/** How a page may be touched: directly through a view (anonymous memory, dma-bufs), or probed with process_vm_readv/writev (files, which can fault past their end). */
export type Kind = 'direct' | 'file';

/** A run of pages [start, end) mapped by the backend. */
export interface Seg {
  readonly start: number;
  readonly end: number;
  /** PROT_READ | PROT_WRITE | PROT_EXEC as /proc/self/maps shows them. */
  readonly prot: number;
  readonly kind: Kind;
}

/** One line of /proc/self/maps: its range and protection. */
export interface MapsLine {
  readonly start: number;
  readonly end: number;
  readonly prot: number;
}

/** The lines of /proc/<pid>/maps: `start-end perms ...` (hex addresses; r/w/x in perms). */
export function parseMaps(text: string): MapsLine[] {
  const out: MapsLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) ([r-])([w-])([x-])/.exec(line);
    if (m === null) continue;
    out.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), prot: (m[3] === 'r' ? 1 : 0) | (m[4] === 'w' ? 2 : 0) | (m[5] === 'x' ? 4 : 0) });
  }
  return out;
}

/** [start, end) minus the union of `cut` (sorted, disjoint): the pieces left. */
function subtract(start: number, end: number, cut: readonly { start: number; end: number }[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let at = start;
  for (const c of cut) {
    if (c.end <= at) continue;
    if (c.start >= end) break;
    if (c.start > at) out.push({ start: at, end: c.start });
    at = Math.max(at, c.end);
    if (at >= end) break;
  }
  if (at < end) out.push({ start: at, end });
  return out;
}

/** Adds [start, end) to a sorted list of disjoint ranges, joining the ones it touches. */
function addRange(list: { start: number; end: number }[], start: number, end: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let s = start;
  let e = end;
  for (const r of list) {
    if (r.end < s || r.start > e) out.push(r);
    else {
      s = Math.min(s, r.start);
      e = Math.max(e, r.end);
    }
  }
  out.push({ start: s, end: e });
  return out.sort((a, b) => a.start - b.start);
}

export class OwnedMemory {
  /** The pages mapped now, sorted, disjoint. */
  private segs: Seg[] = [];
  /** Every page this backend ever mapped (sorted, disjoint, joined). */
  private arena: { start: number; end: number }[] = [];
  /** Guard markers installed (MADV_GUARD_INSTALL) and not removed: accesses there are SIGSEGV. */
  private guards: { start: number; end: number }[] = [];
  /** A guard was ever installed: every access is probed (a guard page cannot be touched directly). */
  guardsEver = false;

  constructor(readonly pageSize: number) {}

  /** `n` rounded up to a whole number of pages. */
  pageAlign(n: number): number {
    return Math.ceil(n / this.pageSize) * this.pageSize;
  }

  /** The mapped segments now (a copy). */
  segments(): readonly Seg[] {
    return this.segs.slice();
  }

  /** The segments that cover [addr, addr + len) without a gap, or null (some byte is not mapped by this backend). */
  covering(addr: number, len: number): Seg[] | null {
    const end = addr + Math.max(len, 1);
    const out: Seg[] = [];
    let at = addr;
    for (const s of this.segs) {
      if (s.end <= at) continue;
      if (s.start > at) return null;
      out.push(s);
      at = s.end;
      if (at >= end) return out;
    }
    return null;
  }

  /** Whether some page of [addr, addr + len) has a guard marker. */
  guarded(addr: number, len: number): boolean {
    const end = addr + Math.max(len, 1);
    return this.guards.some((g) => g.start < end && g.end > addr);
  }

  /**
   * The pieces of the page range [start, end) that this backend does not map now but made once
   * (its own holes), or null when some page is neither (it may be Node's: the call is refused).
   */
  ownHoles(start: number, end: number): { start: number; end: number }[] | null {
    const holes = subtract(start, end, this.segs);
    for (const h of holes) if (subtract(h.start, h.end, this.arena).length > 0) return null;
    return holes;
  }

  /** A new mapping of [start, end) (page aligned) made by this backend. */
  mapped(start: number, end: number, prot: number, kind: Kind): void {
    this.replace(start, end, [{ start, end, prot, kind }]);
    this.arena = addRange(this.arena, start, end);
    // a new mapping has no guard markers (munmap dropped them)
    if (this.guards.length > 0) this.guard(start, end, false);
  }

  /** The kind of the page at `addr`, if this backend maps it. */
  kindAt(addr: number): Kind | null {
    for (const s of this.segs) if (addr >= s.start && addr < s.end) return s.kind;
    return null;
  }

  /**
   * The kernel's view of the ranges a call touched (`ranges`, page aligned), from
   * /proc/self/maps: inside them the segments become what the maps lines show; a page that
   * is new (a destination of mremap) takes `newKind`, the others keep theirs. Only pages of the
   * arena (with the new ranges added) are taken.
   */
  resync(lines: readonly MapsLine[], ranges: readonly { start: number; end: number }[], newKind: Kind, addToArena: readonly { start: number; end: number }[] = []): void {
    for (const r of addToArena) this.arena = addRange(this.arena, r.start, r.end);
    for (const r of ranges) {
      const old = this.segs.filter((s) => s.start < r.end && s.end > r.start);
      const fresh: Seg[] = [];
      for (const l of lines) {
        const s = Math.max(l.start, r.start);
        const e = Math.min(l.end, r.end);
        if (s >= e) continue;
        for (const piece of this.arenaPieces(s, e)) {
          // split by the kinds the pages had
          let at = piece.start;
          for (const o of old) {
            if (o.end <= at || o.start >= piece.end) continue;
            if (o.start > at) fresh.push({ start: at, end: o.start, prot: l.prot, kind: newKind });
            const ce = Math.min(o.end, piece.end);
            fresh.push({ start: Math.max(at, o.start), end: ce, prot: l.prot, kind: o.kind });
            at = ce;
          }
          if (at < piece.end) fresh.push({ start: at, end: piece.end, prot: l.prot, kind: newKind });
        }
      }
      this.replace(r.start, r.end, fresh);
    }
  }

  /** Guard markers over [start, end) (install) or none there any more (remove). */
  guard(start: number, end: number, install: boolean): void {
    if (install) {
      this.guardsEver = true;
      this.guards = addRange(this.guards, start, end);
    } else {
      const out: { start: number; end: number }[] = [];
      for (const g of this.guards) out.push(...subtract(g.start, g.end, [{ start, end }]));
      this.guards = out;
    }
  }

  /** Forgets everything (the backend unmapped all it had). */
  clear(): void {
    this.segs = [];
    this.guards = [];
  }

  private arenaPieces(start: number, end: number): { start: number; end: number }[] {
    const out: { start: number; end: number }[] = [];
    for (const a of this.arena) {
      const s = Math.max(a.start, start);
      const e = Math.min(a.end, end);
      if (s < e) out.push({ start: s, end: e });
    }
    return out;
  }

  /** The segments inside [start, end) become `inside` (sorted, within the range). */
  private replace(start: number, end: number, inside: readonly Seg[]): void {
    const out: Seg[] = [];
    for (const s of this.segs) {
      if (s.end <= start || s.start >= end) {
        out.push(s);
        continue;
      }
      if (s.start < start) out.push({ ...s, end: start });
      if (s.end > end) out.push({ ...s, start: end });
    }
    out.push(...inside);
    out.sort((a, b) => a.start - b.start);
    // guard markers of pages no longer mapped go with them
    this.segs = out;
    if (this.guards.length > 0) {
      const kept: { start: number; end: number }[] = [];
      for (const g of this.guards) {
        for (const s of out) {
          const gs = Math.max(g.start, s.start);
          const ge = Math.min(g.end, s.end);
          if (gs < ge) kept.push({ start: gs, end: ge });
        }
      }
      this.guards = kept;
    }
  }
}
