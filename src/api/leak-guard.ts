/**
 * Leak guard: notices a buffer that the garbage collector reclaimed while its fd was still open
 * (no `release()` or `close()`), and reports it with the stack of the allocation. In a GC
 * language an unreleased dma-buf is invisible until `nofile` runs out or the heap is full
 * (libfabric#12828, compute-runtime#974); the guard makes it visible where it was made. The
 * client also reports, without any collection, every buffer still open when it is closed
 * (`DmaHeapClient.close()`), through the same guard.
 *
 * It uses a FinalizationRegistry (ES2021), so it runs anywhere the api layer runs. Finalization
 * is up to the engine: a report comes some time after the collection, or never if the program
 * exits first. The guard never closes the fd itself (the number may have been reused by then);
 * the report says which fd it was.
 *
 * Stacks are sampled by default: capturing one costs more than the allocation it describes
 * (a V8 stack walk: 2.7× a 4 KiB ALLOC + close in the oracle VM, bench:kernel), so the guard
 * captures the first allocation's and then one in {@link DEFAULT_STACK_SAMPLING}, and every
 * allocation's once it has reported a leak. `captureStacks: true` captures every one.
 *
 * Registration is deferred: {@link LeakGuard.track} keeps the object (strongly) in a short
 * pending list, registered with the FinalizationRegistry at the end of the current synchronous
 * run (a microtask) or when {@link PENDING_MAX} are pending; an object untracked before that
 * (allocated and closed in the same run, the common case) never costs a registration. Nothing is
 * missed: a pending object cannot be collected.
 */

/** Objects tracked but not yet registered with the FinalizationRegistry, at most. */
export const PENDING_MAX = 256;

/** Why a report has no stack: stacks are off, or this allocation was not one of the sampled ones. */
export type StackMissing = 'off' | 'not-sampled';

/** What the guard knows about a leaked buffer. */
export interface LeakReport {
  /** The fd that stayed open. */
  readonly fd: number;
  /** The buffer's inode (its identity in fdinfo, /proc/<pid>/maps and dmabuf_dump); null when unknown. */
  readonly inode: number | null;
  /** Bytes. */
  readonly size: number;
  /** Heap name, `udmabuf`, or the exporter of an imported buffer. */
  readonly heap: string;
  /** The buffer's name when it was reported. */
  readonly name: string | null;
  /** The stack of the allocation (without the `Error` line); empty when none was captured ({@link stackMissing} says why). */
  readonly stack: string;
  /** Why {@link stack} is empty; absent (or undefined) when there is a stack. */
  readonly stackMissing?: StackMissing;
  /**
   * How the leak was found: `gc`, the buffer was collected while its fd was open (the default
   * when absent); `close`, it was still open when its client was closed.
   */
  readonly detectedBy?: 'gc' | 'close';
}

/**
 * What the guard holds for a tracked object when the report is made at report time: asked for
 * it when the object is collected.
 */
export interface LeakSource {
  /** The report for the collected object, or null when it is no leak after all (its process ended). */
  leakReport(): LeakReport | null;
}

/** Default of {@link LeakGuardOptions.captureStacks}: the first allocation's stack, then one in 32. */
export const DEFAULT_STACK_SAMPLING = 32;

/** Options of {@link LeakGuard}. */
export interface LeakGuardOptions {
  /**
   * Called for each leak: a buffer collected while open, or one still open at its client's
   * close(). Default: nothing (the guard only counts: {@link LeakGuard.leaked}; close() returns
   * its list). From a collection it runs in a finalization callback: an exception thrown there
   * is an uncaught exception.
   */
  readonly onLeak?: (report: LeakReport) => void;
  /**
   * Which allocations keep their stack. `true`: every one; `false`: none; a number N: the first,
   * then one in N (default {@link DEFAULT_STACK_SAMPLING}). Once the guard has reported a leak,
   * every allocation's stack is captured whatever the sampling (unless false).
   */
  readonly captureStacks?: boolean | number;
}

/**
 * An allocation stack as captured: an object whose `stack` the engine formats only when it is
 * read (V8 records the frames at capture and builds the text lazily), or why there is none.
 */
export type CapturedStack = { readonly stack?: unknown } | StackMissing;

/** The text of a captured stack, without the `Error` line ('' when none was captured). */
export function stackText(s: CapturedStack): string {
  if (typeof s === 'string') return '';
  const t = s.stack;
  if (typeof t !== 'string') return '';
  const nl = t.indexOf('\n');
  return nl < 0 ? '' : t.slice(nl + 1);
}

/** Why a captured stack is empty, or undefined when it is a stack. */
export function stackMissing(s: CapturedStack): StackMissing | undefined {
  return typeof s === 'string' ? s : undefined;
}

type StackFn = (target: object, constructorOpt?: (...args: never[]) => unknown) => void;
/** V8's Error.captureStackTrace (also in recent SpiderMonkey and JavaScriptCore), when there is one. */
const captureStackTrace = (Error as unknown as { captureStackTrace?: StackFn }).captureStackTrace;

/** Reports objects collected while still tracked. */
export class LeakGuard {
  private count = 0;
  private live = 0;
  /** Allocations seen by {@link capture} (for the sampling). */
  private tick = 0;
  /** 0: no stacks; 1: every one; N: one in N. */
  private readonly every: number;
  /** Tracked, not registered yet (parallel arrays; see the module comment). */
  private readonly pendingOwners: object[] = [];
  private readonly pendingInfos: (LeakReport | LeakSource)[] = [];
  private flushQueued = false;
  private readonly flushNow = (): void => this.flush();
  private readonly registry: FinalizationRegistry<LeakReport | LeakSource>;
  private readonly onLeak: ((r: LeakReport) => void) | undefined;
  /** The stack option as given (true, false, or one in N). */
  readonly captureStacks: boolean | number;

  constructor(opts: LeakGuardOptions = {}) {
    this.onLeak = opts.onLeak;
    const c = opts.captureStacks ?? DEFAULT_STACK_SAMPLING;
    if (typeof c === 'number' && (!Number.isSafeInteger(c) || c < 1)) throw new RangeError(`captureStacks: a sampling of one in N wants an integer N >= 1, not ${c} (true: every allocation; false: none)`);
    this.captureStacks = c;
    this.every = c === true ? 1 : c === false ? 0 : c;
    this.registry = new FinalizationRegistry((held) => {
      this.live--;
      const r = isSource(held) ? held.leakReport() : held;
      if (r !== null) this.report(r);
    });
  }

  /** Leaks reported so far. */
  get leaked(): number {
    return this.count;
  }

  /** Objects tracked now (allocated and not yet released or reported). */
  get tracked(): number {
    return this.live;
  }

  /** True when every allocation's stack is captured now (`captureStacks: true`, or a leak was reported). */
  get capturingAll(): boolean {
    return this.every === 1 || (this.every > 1 && this.count > 0);
  }

  /** The caller's stack for a report (empty when stacks are off; not sampled: always captured). */
  stackHere(): string {
    if (this.every === 0) return '';
    return stackText(grab(this.stackHere));
  }

  /**
   * The stack of the code that called `from` (default: the caller of capture), unformatted, for
   * an allocation: only a buffer that is actually reported pays for the text ({@link stackText}).
   * Sampled: see {@link LeakGuardOptions.captureStacks}.
   */
  capture(from?: (...args: never[]) => unknown): CapturedStack {
    const n = this.every;
    if (n === 0) return 'off';
    // the first allocation, then one in n; all of them after a leak
    if (n > 1 && this.tick++ % n !== 0 && this.count === 0) return 'not-sampled';
    return grab(from ?? this.capture);
  }

  /**
   * Tracks `owner`: if it is collected before {@link untrack}, `info` is reported (a
   * {@link LeakSource} is asked for its report then, and may say there is none). `info` must not
   * refer to `owner` (that would keep it alive); it may be updated in place (a new buffer name),
   * and it is the token {@link untrack} takes. The registration itself waits for the end of the
   * current synchronous run (see the module comment).
   */
  track(owner: object, info: LeakReport | LeakSource): void {
    this.pendingOwners.push(owner);
    this.pendingInfos.push(info);
    this.live++;
    if (this.pendingInfos.length >= PENDING_MAX) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      void Promise.resolve().then(this.flushNow);
    }
  }

  /** Stops tracking the object tracked with `info` (it was released). Returns false when it was not tracked. */
  untrack(info: LeakReport | LeakSource): boolean {
    // most often the newest pending one (allocated and released in the same run)
    const infos = this.pendingInfos;
    for (let i = infos.length - 1; i >= 0; i--) {
      if (infos[i] !== info) continue;
      const owners = this.pendingOwners;
      const last = infos.length - 1;
      infos[i] = infos[last]!;
      owners[i] = owners[last]!;
      infos.pop();
      owners.pop();
      this.live--;
      return true;
    }
    const was = this.registry.unregister(info);
    if (was) this.live--;
    return was;
  }

  /** Registers the pending objects with the FinalizationRegistry. */
  private flush(): void {
    this.flushQueued = false;
    const owners = this.pendingOwners;
    const infos = this.pendingInfos;
    for (let i = 0; i < infos.length; i++) this.registry.register(owners[i]!, infos[i]!, infos[i]!);
    owners.length = 0;
    infos.length = 0;
  }

  /**
   * The report path: counts the leak and calls `onLeak`. The finalizer and the client's close()
   * take it; public so that a test (or a process that found a leak another way) can drive it
   * without a garbage collection. From the first report on, every allocation's stack is captured.
   */
  report(info: LeakReport): void {
    this.count++;
    this.onLeak?.(info);
  }
}

function isSource(x: LeakReport | LeakSource): x is LeakSource {
  return typeof (x as Partial<LeakSource>).leakReport === 'function';
}

/** The stack above `from`, unformatted. */
function grab(from: (...args: never[]) => unknown): CapturedStack {
  if (captureStackTrace === undefined) return new Error('allocated here');
  const o: { stack?: unknown } = {};
  captureStackTrace(o, from);
  return o;
}

function sizeText(n: number): string {
  return n % (1 << 20) === 0 ? `${n >> 20} MiB` : n % 1024 === 0 ? `${n >> 10} KiB` : `${n} bytes`;
}

/**
 * Formats a report for a log line: `leaked dma-buf fd 5 (inode 12, 1 MiB from system,
 * "app:frame") collected without release(), allocated` and the stack, or why there is none.
 */
export function formatLeak(r: LeakReport): string {
  const id = r.inode === null ? '' : `inode ${r.inode}, `;
  const name = r.name === null ? '' : `, "${r.name}"`;
  const how = r.detectedBy === 'close' ? 'still open at client.close()' : 'collected without release()';
  const where = r.stack !== ''
    ? `, allocated\n${r.stack}`
    : r.stackMissing === 'not-sampled'
      ? ' (no allocation stack: not one of the sampled allocations; every allocation is sampled from now on, and captureStacks: true samples all)'
      : ' (no allocation stack: captureStacks is off)';
  return `leaked dma-buf fd ${r.fd} (${id}${sizeText(r.size)} from ${r.heap}${name}) ${how}${where}`;
}
