/**
 * Leak guard: notices a buffer that the garbage collector reclaimed while its fd was still open
 * (no `release()` or `close()`), and reports it with the stack of the allocation. In a GC
 * language an unreleased dma-buf is invisible until `nofile` runs out or the heap is full
 * (libfabric#12828, compute-runtime#974); the guard makes it visible where it was made.
 *
 * It uses a FinalizationRegistry (ES2021), so it runs anywhere the api layer runs. Finalization
 * is up to the engine: a report comes some time after the collection, or never if the program
 * exits first. The guard never closes the fd itself (the number may have been reused by then);
 * the report says which fd it was.
 */

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
  /** The buffer's name when it was tracked. */
  readonly name: string | null;
  /** The stack of the allocation (without the `Error` line); empty when stacks are off. */
  readonly stack: string;
}

/** Options of {@link LeakGuard}. */
export interface LeakGuardOptions {
  /**
   * Called for each leak. Default: nothing (the guard only counts: {@link LeakGuard.leaked}).
   * It runs from a finalization callback: an exception thrown here is an uncaught exception.
   */
  readonly onLeak?: (report: LeakReport) => void;
  /** Capture the allocation stack (default true; costs a stack trace per allocation). */
  readonly captureStacks?: boolean;
}

/**
 * An allocation stack as captured: an Error whose stack the engine formats only when it is read
 * (V8 records the frames at construction and builds the text lazily), or text already.
 */
export type CapturedStack = Error | string;

/** The text of a captured stack, without the `Error` line. */
export function stackText(s: CapturedStack): string {
  if (typeof s === 'string') return s;
  return (s.stack ?? '').split('\n').slice(1).join('\n');
}

/** Reports objects collected while still tracked. */
export class LeakGuard {
  private count = 0;
  private live = 0;
  private readonly registry: FinalizationRegistry<{ info: LeakReport; stale: (() => boolean) | undefined }>;
  private readonly onLeak: ((r: LeakReport) => void) | undefined;
  /** Whether {@link stackHere} captures stacks. */
  readonly captureStacks: boolean;

  constructor(opts: LeakGuardOptions = {}) {
    this.onLeak = opts.onLeak;
    this.captureStacks = opts.captureStacks ?? true;
    this.registry = new FinalizationRegistry(({ info, stale }) => {
      this.live--;
      if (stale?.() !== true) this.report(info);
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

  /** The caller's stack for a report (empty when stacks are off). */
  stackHere(): string {
    return stackText(this.capture());
  }

  /**
   * The caller's stack, unformatted ('' when stacks are off): what an allocation keeps, so that
   * only a buffer that is actually reported pays for the text ({@link stackText}).
   */
  capture(): CapturedStack {
    return this.captureStacks ? new Error('allocated here') : '';
  }

  /**
   * Tracks `owner`: if it is collected before {@link untrack}, `info` is reported, unless
   * `stale()` then says the fd went away another way (its process ended). Neither may refer to
   * `owner` (that would keep it alive). `info` may be updated in place (a new buffer name).
   */
  track(owner: object, info: LeakReport, stale?: () => boolean): void {
    this.registry.register(owner, { info, stale }, owner);
    this.live++;
  }

  /** Stops tracking `owner` (it was released). Returns false when it was not tracked. */
  untrack(owner: object): boolean {
    const was = this.registry.unregister(owner);
    if (was) this.live--;
    return was;
  }

  /**
   * The report path the finalizer takes: counts the leak and calls `onLeak`. Public so that a
   * test (or a process that found a leak another way) can drive it without a garbage collection.
   */
  report(info: LeakReport): void {
    this.count++;
    this.onLeak?.(info);
  }
}

/** Formats a report for a log line: `leaked dma-buf fd 5 (inode 12, 1 MiB from system, "app:frame"), allocated at …`. */
export function formatLeak(r: LeakReport): string {
  const size = r.size % (1 << 20) === 0 ? `${r.size >> 20} MiB` : r.size % 1024 === 0 ? `${r.size >> 10} KiB` : `${r.size} bytes`;
  const id = r.inode === null ? '' : `inode ${r.inode}, `;
  const name = r.name === null ? '' : `, "${r.name}"`;
  const where = r.stack === '' ? ' (no allocation stack: captureStacks is off)' : `, allocated\n${r.stack}`;
  return `leaked dma-buf fd ${r.fd} (${id}${size} from ${r.heap}${name}) collected without release()${where}`;
}
