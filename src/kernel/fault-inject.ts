/**
 * Fault injection (`kernel.faults`): allocation failures at the dma-heap allocate step, a fatal
 * signal delivered mid-allocation, and memory taken away (a CMA area shrunk, pinned pages in a
 * CMA area that stop migration, RAM taken from the page allocator).
 *
 * Linux has a fault-injection framework (lib/fault-inject.c, Documentation/fault-injection):
 * a `struct fault_attr` per fault site with a probability, an interval, a number of times and a
 * task filter, and `should_fail()` called at the site, which decides from those whether this call
 * fails; `/proc/<pid>/fail-nth` fails the Nth call of one task. Its sites are the allocators
 * (failslab, fail_page_alloc), so a dma-heap allocation fails there only indirectly. Here the site
 * is the one a heap user sees: dma_heap_buffer_alloc(), after the ioctl's argument checks and
 * before the heap's allocate op, and a rule chooses the errno (docs/fidelity.md
 * `fault-injection`). Rules are deterministic: `nth` and `every` count matching allocations,
 * `fraction` draws from a PRNG seeded by the rule.
 *
 * An injected allocation failure leaves no trace but the counters: no pages, no fd, no charge,
 * no log line. Memory faults change the machine as the fault would (CMA bitmaps, the page
 * allocator, /proc/meminfo) and are undone by their handle's release().
 *
 * Errors are data: a bad rule is a KernelConfigError (a programming or input error, with what is
 * allowed); a memory fault that cannot be applied is a negated errno.
 */
import { Errno, errnoName } from '../uapi/errno.js';
import { KernelConfigError } from './config-error.js';
import type { Process } from './fs/process.js';
import type { BuddyAllocator } from './mm/buddy.js';
import type { CmaArea } from './mm/cma.js';
import { mulberry32 as prng } from './prng.js';

const E = Errno;

/** One allocation-failure rule (`kernel.faults.add()`, KernelConfig.faults). */
export interface AllocFaultRule {
  /** The heap's name (`system`, `linux,cma`, `reserved`, …); absent: every heap. */
  readonly heap?: string;
  /** The allocating process's comm; absent: any allocation (in-kernel ones too). */
  readonly comm?: string;
  /** Fail only the Nth matching allocation (1-based). Exactly one of nth, every, fraction. */
  readonly nth?: number;
  /** Fail every Nth matching allocation (N, 2N, …). */
  readonly every?: number;
  /** Fail this share (0..1) of the matching allocations, drawn from a PRNG seeded with `seed`. */
  readonly fraction?: number;
  /** The errno the allocation fails with (positive, a Linux errno; default ENOMEM). Not with `signal`. */
  readonly errno?: number;
  /**
   * Deliver a fatal signal (SIGKILL) to the allocating process instead of failing the call: the
   * heap then fails as Linux's does with a fatal signal pending (the system heap's loop: EINTR;
   * the CMA heap: alloc_contig_range() is interrupted and the heap says ENOMEM; a heap that
   * never looks, such as the coherent heap, completes) and the process dies as Process.kill()
   * makes it (at its next load or store). Matches only allocations made by a process.
   */
  readonly signal?: boolean;
  /** The PRNG seed of `fraction` (an unsigned 32-bit integer; default 0). Only with `fraction`. */
  readonly seed?: number;
}

/** A rule as `list()` shows it. */
export interface AllocFaultInfo {
  readonly id: number;
  readonly rule: Readonly<AllocFaultRule>;
  /** Allocations that matched the rule's heap and comm (what nth and every count). */
  readonly matched: number;
  /** Allocations this rule failed (or signalled). */
  readonly injected: number;
}

/** One injected failure or signal (`kernel.faults.lastInjection`): what a report attributes a failure to. */
export interface FaultInjection {
  /** The rule's id. */
  readonly rule: number;
  readonly heap: string;
  /** The allocating process (null: an in-kernel allocation). */
  readonly pid: number | null;
  readonly comm: string | null;
  /** The errno the allocation failed with; null for a signal (the heap then decides). */
  readonly errno: number | null;
}

/** A range of pages: `count` pages from PFN `pfn`. */
export interface FaultRange {
  readonly pfn: number;
  readonly count: number;
}

export type MemoryFaultKind = 'shrink-cma' | 'pin-cma' | 'take-memory';

/** A memory fault in effect until release(). */
export interface FaultHandle {
  readonly id: number;
  readonly kind: MemoryFaultKind;
  /** The CMA area's name, or null for RAM taken from the page allocator. */
  readonly area: string | null;
  /** Pages the fault holds. */
  readonly pages: number;
  /** The pages, ascending and merged. */
  readonly ranges: readonly FaultRange[];
  readonly released: boolean;
  /** Undoes the fault; false when it was released already. */
  release(): boolean;
}

/** Where pinCma() puts the pinned pages. */
export interface PinPlacement {
  /** One run of pinned pages from this PFN (inside the area, all free there). */
  readonly pfn?: number;
  /** Single pages scattered over the free pages of the area by a PRNG with this seed (default 0). */
  readonly seed?: number;
}

/**
 * A memory fault as data (KernelConfig.memoryFaults, the CLI's --fault): applied with
 * {@link FaultInjector.apply}. `area` absent: the default CMA area (cma= or the
 * linux,cma-default region). `pages` or `bytes` (rounded up to whole pages), exactly one.
 */
export type MemoryFaultSpec =
  | { readonly kind: 'shrink-cma'; readonly area?: string; readonly pages?: number; readonly bytes?: number }
  | { readonly kind: 'pin-cma'; readonly area?: string; readonly pages?: number; readonly bytes?: number; readonly pfn?: number; readonly seed?: number }
  | { readonly kind: 'take-memory'; readonly bytes: number };

/** What the injector needs from the kernel. */
export interface FaultHost {
  readonly pageSize: number;
  readonly buddy: BuddyAllocator;
  readonly cmaAreas: readonly CmaArea[];
  /** The default CMA area (memoryFaults without an area), or null. */
  readonly defaultCma: CmaArea | null;
}

const RULE_FIELDS: readonly string[] = ['heap', 'comm', 'nth', 'every', 'fraction', 'errno', 'signal', 'seed'];

/**
 * What is wrong with an allocation-failure rule, or null when it is valid: unknown fields, not
 * exactly one of nth/every/fraction, a count that is not a positive whole number, a fraction
 * outside 0..1, an errno Linux does not have, errno with signal, seed without fraction.
 */
export function allocFaultRuleProblem(rule: unknown): string | null {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return 'a fault rule is an object such as { heap: \'system\', nth: 3 }';
  const r = rule as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!RULE_FIELDS.includes(k)) return `unknown fault rule field '${k}' (known: ${RULE_FIELDS.join(', ')})`;
  const given = (['nth', 'every', 'fraction'] as const).filter((k) => r[k] !== undefined);
  if (given.length !== 1) return `a fault rule needs exactly one of nth (fail the Nth matching allocation), every (every Nth) or fraction (a share of them, 0..1)${given.length > 1 ? `, not ${given.join(' and ')}` : ''}`;
  for (const k of ['nth', 'every'] as const) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)) return `${k} is a whole number from 1, not ${String(v)}`;
  }
  const f = r.fraction;
  if (f !== undefined && (typeof f !== 'number' || !(f >= 0 && f <= 1))) return `fraction is a number from 0 to 1, not ${String(f)}`;
  for (const k of ['heap', 'comm'] as const) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'string' || v === '')) return `${k} is a non-empty name, not ${JSON.stringify(v)}`;
  }
  const e = r.errno;
  if (e !== undefined && (typeof e !== 'number' || !Number.isInteger(e) || e <= 0 || errnoName(e) === undefined)) return `errno is a positive Linux errno number (such as ${E.ENOMEM} for ENOMEM), not ${String(e)}`;
  if (r.signal !== undefined && typeof r.signal !== 'boolean') return `signal is true or false, not ${String(r.signal)}`;
  if (r.signal === true && e !== undefined) return 'a signal rule takes no errno: the allocation fails as the heap fails it with a fatal signal pending (the system heap: EINTR)';
  const s = r.seed;
  if (s !== undefined) {
    if (f === undefined) return 'seed applies only to fraction';
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 0xffffffff) return `seed is a whole number from 0 to 4294967295, not ${String(s)}`;
  }
  return null;
}

interface RuleState {
  readonly id: number;
  readonly rule: Readonly<AllocFaultRule>;
  matched: number;
  injected: number;
  readonly draw: (() => number) | null;
}

/** A memory fault's bookkeeping. */
interface MemoryFault {
  readonly id: number;
  readonly kind: MemoryFaultKind;
  readonly area: CmaArea | null;
  /** For take-memory: buddy blocks (count a power of two); else the ranges. */
  readonly blocks: FaultRange[];
  readonly pages: number;
  released: boolean;
}

/** Sorted, disjoint ranges merged where they touch. */
function mergeRanges(rs: readonly FaultRange[]): FaultRange[] {
  const sorted = [...rs].sort((a, b) => a.pfn - b.pfn);
  const out: FaultRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last !== undefined && last.pfn + last.count >= r.pfn) out[out.length - 1] = { pfn: last.pfn, count: Math.max(last.count, r.pfn + r.count - last.pfn) };
    else out.push(r);
  }
  return out;
}

/** Index of the first range in sorted `rs` that ends after `pfn`. */
function firstEndingAfter(rs: readonly FaultRange[], pfn: number): number {
  let lo = 0;
  let hi = rs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = rs[mid]!;
    if (r.pfn + r.count <= pfn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether [pfn, pfn + count) meets a range of sorted `rs`. */
function overlaps(rs: readonly FaultRange[], pfn: number, count: number): boolean {
  const r = rs[firstEndingAfter(rs, pfn)];
  return r !== undefined && r.pfn < pfn + count;
}

/** The end of the last range of sorted `rs` that meets [pfn, pfn + count), or null when none does. */
function lastOverlapEnd(rs: readonly FaultRange[], pfn: number, count: number): number | null {
  if (!overlaps(rs, pfn, count)) return null;
  // the last range that starts inside the window
  let lo = 0;
  let hi = rs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rs[mid]!.pfn < pfn + count) lo = mid + 1;
    else hi = mid;
  }
  const r = rs[lo - 1]!;
  return r.pfn + r.count;
}

/** `runs` minus sorted `holes`. */
function subtract(runs: readonly FaultRange[], holes: readonly FaultRange[]): FaultRange[] {
  const out: FaultRange[] = [];
  for (const r of runs) {
    let s = r.pfn;
    const end = r.pfn + r.count;
    for (let i = firstEndingAfter(holes, s); i < holes.length && holes[i]!.pfn < end; i++) {
      const h = holes[i]!;
      if (h.pfn > s) out.push({ pfn: s, count: h.pfn - s });
      s = Math.max(s, h.pfn + h.count);
    }
    if (s < end) out.push({ pfn: s, count: end - s });
  }
  return out;
}

export class FaultInjector {
  private readonly rules: RuleState[] = [];
  private nextId = 1;
  private injectedCount = 0;
  private last: FaultInjection | null = null;
  private readonly memory: MemoryFault[] = [];
  /** Pinned ranges per CMA area, sorted and merged (what the area's busy hook checks). */
  private readonly pins = new Map<CmaArea, FaultRange[]>();
  /** The areas whose busy hook this injector installed. */
  private readonly hooked = new Set<CmaArea>();

  constructor(private readonly host: FaultHost) {}

  // ---- allocation failures ------------------------------------------------------------------

  /**
   * Adds an allocation-failure rule; returns its id. Throws a KernelConfigError saying what is
   * allowed for a bad rule (see {@link allocFaultRuleProblem}).
   */
  add(rule: AllocFaultRule): number {
    const problem = allocFaultRuleProblem(rule);
    if (problem !== null) throw new KernelConfigError(problem);
    const id = this.nextId++;
    const copy: AllocFaultRule = { ...rule };
    this.rules.push({ id, rule: Object.freeze(copy), matched: 0, injected: 0, draw: rule.fraction !== undefined ? prng(rule.seed ?? 0) : null });
    return id;
  }

  /** Removes a rule; false when there is no rule with that id. */
  remove(id: number): boolean {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.rules.splice(i, 1);
    return true;
  }

  /** The rules in force, oldest first, with their counters. */
  list(): AllocFaultInfo[] {
    return this.rules.map((r) => ({ id: r.id, rule: r.rule, matched: r.matched, injected: r.injected }));
  }

  /** Allocations failed or signalled by every rule so far (removed rules included). */
  get injected(): number {
    return this.injectedCount;
  }

  /** The latest injection, or null before the first: compare {@link injected} around a call to know whether it was one. */
  get lastInjection(): FaultInjection | null {
    return this.last;
  }

  /** Allocations failed or signalled by rule `id` (null: no such rule). */
  injectedBy(id: number): number | null {
    return this.rules.find((r) => r.id === id)?.injected ?? null;
  }

  /**
   * The fault site of dma_heap_buffer_alloc(), called after the argument checks and before the
   * heap's allocate op: every rule whose heap and comm match counts the allocation and decides
   * (should_fail()); the first rule in id order that fires decides the outcome and counts it.
   * Returns 0 to go on (also after delivering a signal: the heap then sees it pending) or the
   * negated errno the allocation fails with.
   * @kernel lib/fault-inject.c should_fail; drivers/dma-buf/dma-heap.c dma_heap_buffer_alloc
   */
  allocFault(heapName: string, proc: Process | null): number {
    if (this.rules.length === 0) return 0;
    let fired: RuleState | null = null;
    for (const r of this.rules) {
      const rule = r.rule;
      if (rule.heap !== undefined && rule.heap !== heapName) continue;
      if ((rule.comm !== undefined || rule.signal === true) && (proc === null || !proc.alive)) continue;
      if (rule.comm !== undefined && proc!.comm !== rule.comm) continue;
      r.matched++;
      let fire: boolean;
      if (rule.nth !== undefined) fire = r.matched === rule.nth;
      else if (rule.every !== undefined) fire = r.matched % rule.every === 0;
      else fire = r.draw!() < rule.fraction!;
      if (fire && fired === null) fired = r;
    }
    if (fired === null) return 0;
    fired.injected++;
    this.injectedCount++;
    const errno = fired.rule.signal === true ? null : (fired.rule.errno ?? E.ENOMEM);
    this.last = { rule: fired.id, heap: heapName, pid: proc?.pid ?? null, comm: proc?.comm ?? null, errno };
    if (errno === null) {
      // a SIGKILL arriving while the task is in the allocator: fatal_signal_pending() from now on
      proc!.kill();
      return 0;
    }
    return -errno;
  }

  // ---- memory faults ------------------------------------------------------------------------

  private area(name: string): CmaArea | null {
    return this.host.cmaAreas.find((a) => a.name === name) ?? null;
  }

  /**
   * Applies a memory fault given as data: {@link shrinkCma}, {@link pinCma} or
   * {@link takeMemory}. Besides their errnos: -ENOENT for no area given and no default CMA area,
   * -EINVAL for both or neither of pages and bytes.
   */
  apply(spec: MemoryFaultSpec): FaultHandle | number {
    if (spec.kind === 'take-memory') return this.takeMemory(spec.bytes);
    const area = spec.area ?? this.host.defaultCma?.name ?? null;
    if (area === null) return -E.ENOENT;
    if ((spec.pages === undefined) === (spec.bytes === undefined)) return -E.EINVAL;
    const pages = spec.pages ?? (Number.isSafeInteger(spec.bytes) && spec.bytes! > 0 ? Math.ceil(spec.bytes! / this.host.pageSize) : -1);
    if (spec.kind === 'shrink-cma') return this.shrinkCma(area, pages);
    return this.pinCma(area, pages, { ...(spec.pfn !== undefined ? { pfn: spec.pfn } : {}), ...(spec.seed !== undefined ? { seed: spec.seed } : {}) });
  }

  /** Why {@link apply} refused `spec` with `errno`, in words (the boot-time KernelConfigError). */
  describeRefusal(spec: MemoryFaultSpec, errno: number): string {
    const ps = this.host.pageSize;
    const e = -errno;
    if (spec.kind === 'take-memory') {
      const what = `taking ${spec.bytes} bytes of RAM`;
      if (e === E.ENOMEM) return `${what}: the page allocator has only ${this.host.buddy.freePages * ps} bytes free (${this.host.buddy.freePages} pages)`;
      return `${what}: the size must be a whole number of bytes from 1`;
    }
    const verb = spec.kind === 'shrink-cma' ? 'shrinking' : 'pinning pages in';
    const known = this.host.cmaAreas.map((a) => a.name);
    const names = known.length === 0 ? 'this machine has no CMA area' : `the CMA areas: ${known.join(', ')}`;
    if (spec.area === undefined && this.host.defaultCma === null) return `${verb} the default CMA area: there is none (${names}); name an area`;
    const areaName = spec.area ?? this.host.defaultCma!.name;
    const what = `${verb} CMA area '${areaName}'`;
    const area = this.area(areaName);
    if (area === null) return `${what}: there is no CMA area of that name (${names})`;
    const count = spec.pages !== undefined ? `${spec.pages} pages` : `${spec.bytes} bytes`;
    const free = subtract(area.freeRuns(), this.pinnedOf(area)).reduce((n, r) => n + r.count, 0);
    if (e === E.ENOMEM) return `${what} by ${count}: it has only ${free} free pages of ${area.count} (${free * ps} bytes)`;
    if (e === E.EBUSY && spec.kind === 'pin-cma') return `${what}: the ${count} from PFN ${spec.pfn} are not all free (a buffer or another pin holds one of them)`;
    if (spec.kind === 'pin-cma' && spec.pfn !== undefined) return `${what}: ${count} from PFN ${spec.pfn} is not inside the area (PFNs ${area.basePfn} to ${area.basePfn + area.count - 1})`;
    return `${what}: give a whole number of pages or bytes from 1`;
  }

  private pinnedOf(area: CmaArea): FaultRange[] {
    return this.pins.get(area) ?? [];
  }

  /**
   * Takes `pages` pages out of a CMA area so that cma_alloc() cannot use them: they are marked in
   * the area's bitmap (debugfs `used` counts them, CmaFree drops), highest free pages first. On
   * an idle area that is its tail, as a smaller area with the same base would be (cma_alloc()
   * fills an area first-fit from its base, so the tail is what a smaller reservation loses, and
   * maxchunk becomes the rest); on a busy area it is the free pages nearest the end, so no buffer
   * ever has to move. Pinned pages are left alone. -ENOENT: no CMA area of that name; -EINVAL:
   * pages is not a whole number from 1; -ENOMEM: fewer free pages than that.
   */
  shrinkCma(areaName: string, pages: number): FaultHandle | number {
    const area = this.area(areaName);
    if (area === null) return -E.ENOENT;
    if (!Number.isSafeInteger(pages) || pages < 1 || area.orderPerBit !== 0) return -E.EINVAL;
    const free = subtract(area.freeRuns(), this.pinnedOf(area));
    if (free.reduce((n, r) => n + r.count, 0) < pages) return -E.ENOMEM;
    const taken: FaultRange[] = [];
    let need = pages;
    for (let i = free.length - 1; i >= 0 && need > 0; i--) {
      const r = free[i]!;
      const n = Math.min(need, r.count);
      const range = { pfn: r.pfn + r.count - n, count: n };
      area.take(range.pfn, range.count);
      taken.push(range);
      need -= n;
    }
    return this.handle({ id: this.nextId++, kind: 'shrink-cma', area, blocks: mergeRanges(taken), pages, released: false });
  }

  /**
   * Pins `pages` movable pages in a CMA area: a process's pages that cannot be migrated (long-term
   * GUP pins, pages under I/O). They are not set in the bitmap: cma_alloc() may choose a range
   * over them, alloc_contig_range() then fails with -EBUSY and cma_alloc() tries again further on
   * (the area's `busy` hook). CmaFree leaves them out. `where.pfn`: one run from that PFN;
   * otherwise single pages scattered over the free pages by a PRNG seeded with `where.seed`
   * (default 0), which is how pins fragment CMA on real systems. -ENOENT: no such area;
   * -EINVAL: pages not a whole number from 1, or the run not inside the area; -EBUSY: the run
   * meets an allocated or pinned page; -ENOMEM: fewer free, unpinned pages than that.
   * @kernel mm/page_alloc.c alloc_contig_range (-EBUSY on pages it cannot migrate); mm/cma.c cma_alloc (retry further on)
   */
  pinCma(areaName: string, pages: number, where: PinPlacement = {}): FaultHandle | number {
    const area = this.area(areaName);
    if (area === null) return -E.ENOENT;
    if (!Number.isSafeInteger(pages) || pages < 1 || area.orderPerBit !== 0) return -E.EINVAL;
    const pinned = this.pinnedOf(area);
    let chosen: FaultRange[];
    if (where.pfn !== undefined) {
      const pfn = where.pfn;
      if (!Number.isSafeInteger(pfn) || pfn < area.basePfn || pfn + pages > area.basePfn + area.count) return -E.EINVAL;
      if (!area.rangeFree(pfn, pages) || overlaps(pinned, pfn, pages)) return -E.EBUSY;
      chosen = [{ pfn, count: pages }];
    } else {
      const seed = where.seed ?? 0;
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) return -E.EINVAL;
      const free = subtract(area.freeRuns(), pinned);
      const total = free.reduce((n, r) => n + r.count, 0);
      if (total < pages) return -E.ENOMEM;
      // the k-th free, unpinned page for k drawn without replacement (a partial Fisher-Yates over
      // indices, kept sparse): each pin costs a draw and a binary search over the free runs
      const draw = prng(seed);
      const swapped = new Map<number, number>();
      const starts: number[] = [];
      let acc = 0;
      for (const r of free) {
        starts.push(acc);
        acc += r.count;
      }
      const pfns: number[] = [];
      for (let i = 0; i < pages; i++) {
        const j = i + Math.floor(draw() * (total - i));
        const k = swapped.get(j) ?? j;
        swapped.set(j, swapped.get(i) ?? i);
        let lo = 0;
        let hi = free.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (starts[mid]! <= k) lo = mid;
          else hi = mid - 1;
        }
        pfns.push(free[lo]!.pfn + (k - starts[lo]!));
      }
      chosen = mergeRanges(pfns.map((pfn) => ({ pfn, count: 1 })));
    }
    this.pins.set(area, mergeRanges([...pinned, ...chosen]));
    area.pinnedPages += pages;
    this.hookArea(area);
    return this.handle({ id: this.nextId++, kind: 'pin-cma', area, blocks: chosen, pages, released: false });
  }

  /** Installs (once) the area's migration hook: a range over a pinned page is busy; an earlier hook still answers for the rest. */
  private hookArea(area: CmaArea): void {
    if (this.hooked.has(area)) return;
    this.hooked.add(area);
    const prev = area.busy;
    // busy up to the end of the last pin in the window: cma_alloc() skips every window that would meet it
    area.busy = (pfn, count) => lastOverlapEnd(this.pinnedOf(area), pfn, count) ?? (prev !== undefined ? prev(pfn, count) : false);
  }

  /**
   * Takes `bytes` (rounded up to whole pages) from the page allocator, largest blocks first, so
   * RAM shrinks: MemFree drops and the system heap (and user memory) run out earlier. -EINVAL:
   * not a whole number from 1; -ENOMEM: fewer free pages than that (nothing is taken).
   */
  takeMemory(bytes: number): FaultHandle | number {
    if (!Number.isSafeInteger(bytes) || bytes < 1) return -E.EINVAL;
    const buddy = this.host.buddy;
    const ps = this.host.pageSize;
    const pages = Math.ceil(bytes / ps);
    if (pages > buddy.freePages) return -E.ENOMEM;
    const blocks: FaultRange[] = [];
    let need = pages;
    for (let o = buddy.maxOrder; o >= 0 && need > 0; o--) {
      while (need >= 2 ** o) {
        const pfn = buddy.alloc(o);
        if (pfn < 0) break;
        blocks.push({ pfn, count: 2 ** o });
        need -= 2 ** o;
      }
    }
    if (need > 0) {
      for (const b of blocks) buddy.free(b.pfn, Math.log2(b.count));
      return -E.ENOMEM;
    }
    return this.handle({ id: this.nextId++, kind: 'take-memory', area: null, blocks, pages, released: false });
  }

  private handle(f: MemoryFault): FaultHandle {
    this.memory.push(f);
    const ranges = f.kind === 'take-memory' ? mergeRanges(f.blocks) : f.blocks;
    return {
      id: f.id,
      kind: f.kind,
      area: f.area?.name ?? null,
      pages: f.pages,
      ranges,
      get released() {
        return f.released;
      },
      release: () => this.release(f),
    };
  }

  private release(f: MemoryFault): boolean {
    if (f.released) return false;
    f.released = true;
    this.memory.splice(this.memory.indexOf(f), 1);
    const area = f.area;
    if (f.kind === 'take-memory') for (const b of f.blocks) this.host.buddy.free(b.pfn, Math.log2(b.count));
    else if (f.kind === 'shrink-cma') for (const r of f.blocks) area!.untake(r.pfn, r.count);
    else {
      this.pins.set(area!, subtract(this.pinnedOf(area!), f.blocks));
      area!.pinnedPages -= f.pages;
    }
    return true;
  }

  /** The memory faults in effect, oldest first. */
  memoryFaults(): { id: number; kind: MemoryFaultKind; area: string | null; pages: number }[] {
    return this.memory.map((f) => ({ id: f.id, kind: f.kind, area: f.area?.name ?? null, pages: f.pages }));
  }

  /** The pinned pages of a CMA area, ascending and merged (empty for an unknown area). */
  pinnedRanges(areaName: string): FaultRange[] {
    const area = this.area(areaName);
    return area === null ? [] : [...this.pinnedOf(area)];
  }

  /**
   * The pages taken by shrinkCma() from a CMA area, or with `null` the RAM taken by
   * takeMemory(): ascending and merged.
   */
  takenRanges(areaName: string | null): FaultRange[] {
    const out: FaultRange[] = [];
    for (const f of this.memory) {
      if (areaName === null ? f.kind === 'take-memory' : f.kind === 'shrink-cma' && f.area?.name === areaName) out.push(...f.blocks);
    }
    return mergeRanges(out);
  }
}
