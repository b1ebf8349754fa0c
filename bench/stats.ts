/**
 * Measurement helpers for the benchmarks: a monotonic clock, a garbage-collection hook, summaries
 * (median and range over rounds), formatting, and progress lines on stderr.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Median and range (min–max) of one quantity over the rounds. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median (mean of the two middle values for an even count), min and max. */
export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** Monotonic time in nanoseconds (as a double: exact below 2^53 ns, about 104 days of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

let gcFn: (() => void) | null = null;
let gcExposed = false;

/**
 * A full garbage collection. Uses `global.gc` (node --expose-gc); without it, the flag is turned on
 * at run time and the function taken from a fresh context, which V8 supports for this purpose.
 */
export function fullGc(): void {
  if (gcFn === null) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') {
      gcFn = g;
      gcExposed = true;
    } else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * A full collection, then a short sleep so that V8's background threads (concurrent sweeping,
 * freeing array buffers) finish before the next timed section instead of competing with it for
 * the CPU (there may be only two cores).
 */
export function settle(ms = 10): void {
  fullGc();
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Whether node was started with --expose-gc (reported in the output). */
export function gcWasExposed(): boolean {
  fullGc();
  return gcExposed;
}

/** A duration in ns, with a unit that keeps 3 significant digits. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns < 1e3) return `${ns.toPrecision(3)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

/** A count per second (1.23 M/s). */
export function fmtRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toPrecision(3)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toPrecision(3)} k/s`;
  return `${perSec.toPrecision(3)} /s`;
}

/** A byte count (B below 10 KiB, then KiB/MiB). */
export function fmtBytes(n: number): string {
  const a = Math.abs(n);
  if (a < 10 * 1024) return `${n.toFixed(0)} B`;
  if (a < 10 * 1024 * 1024) return `${(n / 1024).toPrecision(3)} KiB`;
  return `${(n / 1024 / 1024).toPrecision(3)} MiB`;
}

/** A ratio with enough digits for very small values (0.000123×). */
export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return String(r);
  if (r === 0) return '0×';
  if (Math.abs(r) < 0.01) return `${r.toExponential(2)}×`;
  return `${r.toFixed(r < 10 ? 3 : 1)}×`;
}

/** `median (min–max)` of a summary with a formatter. */
export function fmtSummary(s: Summary, f: (x: number) => string): string {
  return `${f(s.median)} (${f(s.min)} – ${f(s.max)})`;
}

/** Progress on stderr, so that stdout stays the report (or pure JSON with --json). */
export class Progress {
  private readonly start = nowNs();
  constructor(private readonly quiet: boolean) {}

  line(msg: string): void {
    if (this.quiet) return;
    const t = ((nowNs() - this.start) / 1e9).toFixed(1).padStart(5, ' ');
    process.stderr.write(`[${t}s] ${msg}\n`);
  }
}

/** A small deterministic PRNG (mulberry32), so that fragmented layouts are the same every run. */
export { mulberry32 } from '../src/kernel/prng.js';
