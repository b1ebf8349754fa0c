/**
 * `npm run fuzz`: the syscall property test with a large budget.
 *
 *   npm run fuzz                              # 2 minutes from a seed taken from the clock
 *   npm run fuzz -- --seed 42 --runs 5000     # deterministic: the same cases every time
 *   npm run fuzz -- --minutes 30 --steps 400  # longer sequences, longer search
 *   npm run fuzz -- --replay fuzz-failure.json  # run a replay file and print its call log
 *
 * A failing case is minimised, printed (call log and replay JSON) and written to --out (default
 * fuzz-failure-<seed>.json); the exit status is then 1. Usage errors exit with 2. A step slower
 * than --slow-ms (default 5000; 0: off) is a fault too: the kernel spent more than it should; and
 * so is a step after which the host process holds more than 3 GiB.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { fuzz, formatFinding } from './fuzz.js';
import type { FuzzTotals } from './fuzz.js';
import { KNOWN_BUGS } from './known-bugs.js';
import { MACHINE_NAMES } from './machines.js';
import type { MachineName } from './machines.js';
import { caseFromJson } from './ops.js';
import { runCase } from './run-case.js';

const USAGE = `usage: npm run fuzz -- [--seed N] [--runs N] [--minutes M] [--steps N] [--machine NAME]...
                       [--shrink-minutes M] [--slow-ms N] [--no-known-bugs] [--out FILE] [--json]
       npm run fuzz -- --replay FILE [--no-known-bugs] [--json]
machines: ${MACHINE_NAMES.join(', ')}`;
const MAX_REPLAY_BYTES = 16 * 1024 * 1024;
/** A case that makes the host process hold more than this is a fault (the machine is 256 MiB). */
const MAX_RSS_BYTES = 3 * 1024 ** 3;

class UsageError extends Error {}

interface Args {
  seed: number | null;
  runs: number | null;
  minutes: number | null;
  steps: number;
  machines: MachineName[];
  shrinkMinutes: number;
  slowMs: number | null;
  knownBugs: boolean;
  out: string | null;
  json: boolean;
  replay: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { seed: null, runs: null, minutes: null, steps: 200, machines: [], shrinkMinutes: 1, slowMs: 5000, knownBugs: true, out: null, json: false, replay: null };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  const int = (s: string, name: string, min: number, max: number): number => {
    if (!/^-?\d+$/.test(s) || Number(s) < min || Number(s) > max) throw new UsageError(`${name} takes a whole number from ${min} to ${max}, not '${s}'`);
    return Number(s);
  };
  const real = (s: string, name: string): number => {
    if (!/^\d+(\.\d+)?$/.test(s) || !(Number(s) > 0) || Number(s) > 24 * 60) throw new UsageError(`${name} takes a number of minutes above 0 and at most 1440, not '${s}'`);
    return Number(s);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--seed': a.seed = int(value(i, arg), arg, -(2 ** 31), 2 ** 31 - 1); i++; break;
      case '--runs': a.runs = int(value(i, arg), arg, 1, 1e9); i++; break;
      case '--minutes': a.minutes = real(value(i, arg), arg); i++; break;
      case '--steps': a.steps = int(value(i, arg), arg, 1, 5000); i++; break;
      case '--shrink-minutes': a.shrinkMinutes = real(value(i, arg), arg); i++; break;
      case '--machine': {
        const m = value(i, arg);
        if (!(MACHINE_NAMES as readonly string[]).includes(m)) throw new UsageError(`unknown machine '${m}' (known: ${MACHINE_NAMES.join(', ')})`);
        a.machines.push(m as MachineName);
        i++;
        break;
      }
      case '--slow-ms': a.slowMs = int(value(i, arg), arg, 0, 3_600_000); i++; break;
      case '--no-known-bugs': a.knownBugs = false; break;
      case '--out': a.out = value(i, arg); i++; break;
      case '--json': a.json = true; break;
      case '--replay': a.replay = value(i, arg); i++; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new UsageError(`unknown option '${arg}'`);
    }
  }
  if (a.replay !== null && (a.seed !== null || a.runs !== null || a.minutes !== null)) throw new UsageError('--replay runs one file: --seed, --runs and --minutes do not apply');
  return a;
}

function summary(t: FuzzTotals): string {
  const top = (r: Record<string, number>, n: number) => Object.entries(r).sort((x, y) => y[1] - x[1]).slice(0, n).map(([k, v]) => `${k} ${v}`).join(', ');
  const skipped = Object.entries(t.skipped).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `${t.cases} cases, ${t.steps} steps, ${t.calls} calls in ${(t.elapsedMs / 1000).toFixed(1)} s (${t.batches} batches; machines: ${top(t.byMachine, 5)})`,
    `results: ${top(t.results, 14)}`,
    `calls: ${top(t.byCall, 40)}`,
    `known bugs skipped (calls not made): ${skipped === '' ? 'none' : skipped}`,
    `slowest step: ${t.slowest.op} ${t.slowest.ms.toFixed(1)} ms (batch seed ${t.slowest.seed})`,
  ].join('\n');
}

function replay(a: Args): number {
  const file = a.replay!;
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UsageError(`${file} is not a regular file`);
    if (st.size > MAX_REPLAY_BYTES) throw new UsageError(`${file} is ${st.size} bytes; a replay file is at most ${MAX_REPLAY_BYTES}`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let c;
  try {
    c = caseFromJson(text, MACHINE_NAMES);
  } catch (e) {
    throw new UsageError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = runCase(c, { knownBugs: a.knownBugs, trace: true, ...(a.slowMs !== null && a.slowMs > 0 ? { slowStepMs: a.slowMs } : {}) });
  if (a.json) {
    console.log(JSON.stringify({ file, machine: c.machine, steps: c.ops.length, failure: r.failure, skipped: r.skipped, trace: r.trace }, null, 1));
  } else {
    console.log(`replay ${file}: machine ${c.machine}, ${c.ops.length} operations${c.failure !== undefined ? `; recorded failure: ${c.failure.split('\n')[0]}` : ''}`);
    for (const l of r.trace) console.log(`  ${l}`);
    console.log(r.failure === null ? 'PASS: every call returned an integer or a negated errno, and nothing was left after the teardown' : `FAIL ${r.failure.kind} at step ${r.failure.step}: ${r.failure.message}`);
  }
  return r.failure === null ? 0 : 1;
}

function main(argv: readonly string[]): number {
  const a = parseArgs(argv);
  if (a.replay !== null) return replay(a);
  const seed = a.seed ?? Date.now() % 2 ** 31;
  const minutes = a.minutes ?? (a.runs === null ? 2 : null);
  const runs = a.runs ?? 1e9;
  const machines = a.machines.length > 0 ? a.machines : [...MACHINE_NAMES];
  if (!a.json) {
    console.error(`fuzz: seed ${seed}, ${a.runs !== null ? `${runs} cases` : 'no case limit'}${minutes !== null ? `, ${minutes} min` : ''}, up to ${a.steps} steps a case, machines ${machines.join(', ')}`);
    console.error(a.knownBugs ? `fuzz: known-bug filter on (${KNOWN_BUGS.length} entries, fuzz/known-bugs.ts); --no-known-bugs turns it off` : 'fuzz: known-bug filter off');
  }
  let last = Date.now();
  const report = fuzz({
    seed,
    runs,
    maxSteps: a.steps,
    ...(minutes !== null ? { timeLimitMs: minutes * 60_000 } : {}),
    shrinkTimeMs: a.shrinkMinutes * 60_000,
    ...(a.slowMs !== null && a.slowMs > 0 ? { slowStepMs: a.slowMs } : {}),
    maxRssBytes: MAX_RSS_BYTES,
    knownBugs: a.knownBugs,
    machines,
    onBatch: (t) => {
      if (!a.json && Date.now() - last > 10_000) {
        last = Date.now();
        console.error(`fuzz: ${t.cases} cases, ${t.steps} steps, ${t.calls} calls, ${(t.elapsedMs / 1000).toFixed(0)} s`);
      }
    },
  });
  const f = report.finding;
  let out: string | null = null;
  if (f !== null) {
    out = a.out ?? `fuzz-failure-${f.seed}.json`;
    writeFileSync(out, f.replayJson + '\n');
  }
  if (a.json) {
    console.log(JSON.stringify({ seed, totals: report.totals, finding: f === null ? null : { kind: f.failure.kind, message: f.failure.message, seed: f.seed, originalSteps: f.originalSteps, steps: f.minimal.ops.length, shrinks: f.shrinks, replayFile: out, trace: f.trace } }, null, 1));
  } else {
    console.log(summary(report.totals));
    if (f !== null) {
      console.log('');
      console.log(formatFinding(f));
      console.log(`\nwritten to ${out}: npm run fuzz -- --replay ${out}`);
    } else {
      console.log(`no fault found (seed ${seed}): every call returned an integer or a negated errno, and every teardown left nothing`);
    }
  }
  return f === null ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`dmaheap fuzz: ${e.message}`);
    console.error(`hint: ${USAGE.split('\n')[0]!.replace('usage: ', '')}`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
