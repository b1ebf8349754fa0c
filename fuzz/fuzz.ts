/**
 * The property test and its driver: random cases (generate.ts) run against fresh kernels
 * (run-case.ts) in two phases. The search runs batches of cases from `seed`, `seed + 1`, ...
 * until the run or time budget is spent or a case fails; the minimisation replays the failing
 * case (fast-check's seed and path) and shrinks it (shorter sequences, simpler arguments) while it
 * fails the same way, within its own time budget. The result is the minimal case as replayable
 * JSON and its strace-like log.
 */
import fc from 'fast-check';
import { caseArb } from './generate.js';
import { MACHINE_NAMES } from './machines.js';
import type { MachineName } from './machines.js';
import { caseToJson } from './ops.js';
import type { FuzzCase } from './ops.js';
import { runCase } from './run-case.js';
import type { CaseResult, Failure } from './run-case.js';

export interface FuzzOptions {
  /** First seed: batch i uses seed + i. */
  readonly seed: number;
  /** Cases to run at most. */
  readonly runs: number;
  /** Operations per case at most. */
  readonly maxSteps: number;
  /** Stop the search after this long (ms); default: no limit. */
  readonly timeLimitMs?: number;
  /** Time for the minimisation (ms; default 60 s). */
  readonly shrinkTimeMs?: number;
  /** Skip calls that hit a known bug (default true). */
  readonly knownBugs?: boolean;
  readonly machines?: readonly MachineName[];
  /** A step slower than this (ms) is a fault (run-case.ts RunOptions.slowStepMs); default off. */
  readonly slowStepMs?: number;
  /** Resident memory (bytes) above which a step is a fault (RunOptions.maxRssBytes); default off. */
  readonly maxRssBytes?: number;
  /** Cases per batch (default 50). */
  readonly batch?: number;
  /** Called after each batch (progress). */
  readonly onBatch?: (r: FuzzTotals) => void;
}

export interface FuzzTotals {
  /** Cases generated and run by the search (the minimisation's re-runs are not counted). */
  cases: number;
  steps: number;
  calls: number;
  batches: number;
  skipped: Record<string, number>;
  results: Record<string, number>;
  byCall: Record<string, number>;
  byMachine: Record<string, number>;
  elapsedMs: number;
  /** The slowest step seen: its operation, time and the batch seed. */
  slowest: { op: string; ms: number; seed: number };
}

export interface FuzzFinding {
  readonly failure: Failure;
  /** The seed of the batch that found it. */
  readonly seed: number;
  /** Steps of the case as found and after minimisation. */
  readonly originalSteps: number;
  readonly minimal: FuzzCase;
  readonly shrinks: number;
  /** The minimal case as a replay file. */
  readonly replayJson: string;
  /** The minimal case's call log. */
  readonly trace: readonly string[];
}

export interface FuzzReport {
  readonly totals: FuzzTotals;
  readonly finding: FuzzFinding | null;
}

function add(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function emptyTotals(): FuzzTotals {
  return { cases: 0, steps: 0, calls: 0, batches: 0, skipped: {}, results: {}, byCall: {}, byMachine: {}, elapsedMs: 0, slowest: { op: '', ms: 0, seed: 0 } };
}

/** Adds one case's counts to the totals. */
export function count(t: FuzzTotals, c: FuzzCase, r: CaseResult, seed = 0): void {
  t.cases++;
  if (r.slowest.ms > t.slowest.ms) t.slowest = { ...r.slowest, seed };
  t.steps += r.steps;
  t.calls += r.calls;
  t.byMachine[c.machine] = (t.byMachine[c.machine] ?? 0) + 1;
  add(t.skipped, r.skipped);
  add(t.results, r.results);
  add(t.byCall, r.byCall);
}

/** Runs the search and, on a failure, the minimisation. */
export function fuzz(opts: FuzzOptions): FuzzReport {
  const start = Date.now();
  const machines = opts.machines ?? MACHINE_NAMES;
  const arb = caseArb(opts.maxSteps, machines);
  const batch = opts.batch ?? 50;
  const runOpts = {
    knownBugs: opts.knownBugs ?? true,
    ...(opts.slowStepMs !== undefined ? { slowStepMs: opts.slowStepMs } : {}),
    ...(opts.maxRssBytes !== undefined ? { maxRssBytes: opts.maxRssBytes } : {}),
  };
  const totals = emptyTotals();
  let found: { seed: number; path: string; failure: Failure; c: FuzzCase; steps: number } | null = null;
  for (let b = 0; found === null && totals.cases < opts.runs; b++) {
    const left = opts.timeLimitMs === undefined ? Infinity : opts.timeLimitMs - (Date.now() - start);
    if (left <= 0) break;
    const seed = (opts.seed + b) | 0;
    let first: { failure: Failure; c: FuzzCase; steps: number } | null = null;
    const details = fc.check(
      fc.property(arb, (c) => {
        const r = runCase(c, runOpts);
        count(totals, c, r, seed);
        if (r.failure !== null) {
          first ??= { failure: r.failure, c, steps: c.ops.length };
          return false;
        }
        return true;
      }),
      { seed, numRuns: Math.min(batch, opts.runs - totals.cases), endOnFailure: true, ...(Number.isFinite(left) ? { interruptAfterTimeLimit: left } : {}) },
    );
    totals.batches++;
    totals.elapsedMs = Date.now() - start;
    opts.onBatch?.(totals);
    if (details.failed && first !== null && details.counterexamplePath !== null) {
      const f: { failure: Failure; c: FuzzCase; steps: number } = first;
      found = { seed, path: details.counterexamplePath, ...f };
    }
  }
  totals.elapsedMs = Date.now() - start;
  if (found === null) return { totals, finding: null };

  // minimise: replay the failing run and shrink it while it fails with the same kind of fault
  const kind = found.failure.kind;
  let smallest: FuzzCase = found.c;
  const details = fc.check(
    fc.property(arb, (c) => {
      const r = runCase(c, runOpts);
      if (r.failure !== null && r.failure.kind === kind) {
        if (c.ops.length <= smallest.ops.length) smallest = c;
        return false;
      }
      return true;
    }),
    { seed: found.seed, path: found.path, endOnFailure: false, interruptAfterTimeLimit: opts.shrinkTimeMs ?? 60_000 },
  );
  let minimal = (details.counterexample?.[0] as FuzzCase | undefined) ?? smallest;
  // then every single operation fast-check's shrinker left that the fault does not need (within
  // the same time budget again)
  const shrinkEnd = Date.now() + (opts.shrinkTimeMs ?? 60_000);
  for (let i = minimal.ops.length - 1; i >= 0 && Date.now() < shrinkEnd; i--) {
    const c: FuzzCase = { machine: minimal.machine, ops: minimal.ops.filter((_, j) => j !== i) };
    if (runCase(c, runOpts).failure?.kind === kind) minimal = c;
  }
  const replay = runCase(minimal, { ...runOpts, trace: true });
  const failure = replay.failure ?? found.failure;
  totals.elapsedMs = Date.now() - start;
  return {
    totals,
    finding: {
      failure,
      seed: found.seed,
      originalSteps: found.steps,
      minimal,
      shrinks: details.numShrinks,
      replayJson: caseToJson(minimal, { seed: found.seed, failure: `${failure.kind}: ${failure.message}` }, 1),
      trace: replay.trace,
    },
  };
}

/** Text for a finding: what failed, the minimal sequence's log, and its replay JSON. */
export function formatFinding(f: FuzzFinding): string {
  return [
    `FAULT ${f.failure.kind} (seed ${f.seed}; ${f.originalSteps} steps, minimised to ${f.minimal.ops.length} in ${f.shrinks} shrinks; machine ${f.minimal.machine})`,
    f.failure.message,
    '',
    'the minimal sequence (strace-like):',
    ...f.trace.map((l) => `  ${l}`),
    '',
    'replay JSON (npm run fuzz -- --replay <file>):',
    f.replayJson,
  ].join('\n');
}
