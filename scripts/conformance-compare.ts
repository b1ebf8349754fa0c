/**
 * Compares two `conformance run --json` reports of the same suite case by case: one from a real
 * kernel (`--backend linux`, inside a referee VM) and one from the emulated kernel with the
 * matching profile. They must agree on every case instance (file, case index, heap): the same
 * PASS/FAIL/SKIP. Cases that say they are for one backend only (`"backend": "emulated"` or
 * `"linux"`) are left out, and counted. Used by scripts/test-kernel.sh.
 *
 *   node dist/scripts/conformance-compare.js <linux.json> <emulated.json> [--label <text>]
 *
 * Prints one line per disagreement and a summary; exit status 0 when they agree, 1 when they do
 * not (or a report fails to load), 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { takeLabel } from './label-arg.js';

/** What the comparison needs of a case result (src/apps/conformance/runner.ts CaseResult). */
export interface ComparedResult {
  readonly file: string;
  readonly caseIndex: number;
  readonly name: string;
  readonly heap: string | null;
  readonly status: string;
  readonly reason?: string;
}

export interface Comparison {
  /** Case instances both reports ran with the same outcome. */
  readonly agreed: number;
  /** Left out: cases for the emulated backend only, and for the linux backend only. */
  readonly emulatorOnly: number;
  readonly linuxOnly: number;
  /** One line per disagreement. */
  readonly disagreements: string[];
}

/** The skip reasons the runner gives a case that names another backend (runner.ts). */
const EMULATOR_ONLY = 'backend linux is not emulated';
const LINUX_ONLY = 'backend emulated is not linux';

function keyOf(r: ComparedResult): string {
  return `${r.file}: case ${r.caseIndex}${r.heap === null ? '' : ` [${r.heap}]`}`;
}

function outcome(r: ComparedResult | undefined): string {
  if (r === undefined) return 'absent';
  return r.status === 'skip' ? `SKIP (${r.reason ?? 'no reason'})` : r.status.toUpperCase();
}

/** Compares the case instances of a real kernel's report with the emulated kernel's. */
export function compareReports(linux: readonly ComparedResult[], emulated: readonly ComparedResult[]): Comparison {
  const lin = new Map(linux.map((r) => [keyOf(r), r]));
  const emu = new Map(emulated.map((r) => [keyOf(r), r]));
  let agreed = 0;
  let emulatorOnly = 0;
  let linuxOnly = 0;
  const disagreements: string[] = [];
  // a case for one backend only: the other backend skips it without heaps, as one instance
  const onlyFor = new Map<string, 'emulated' | 'linux'>();
  for (const r of linux) if (r.status === 'skip' && r.reason === EMULATOR_ONLY) onlyFor.set(`${r.file}#${r.caseIndex}`, 'emulated');
  for (const r of emulated) if (r.status === 'skip' && r.reason === LINUX_ONLY) onlyFor.set(`${r.file}#${r.caseIndex}`, 'linux');
  const keys = [...new Set([...lin.keys(), ...emu.keys()])];
  for (const k of keys) {
    const l = lin.get(k);
    const e = emu.get(k);
    const only = onlyFor.get(`${(l ?? e)!.file}#${(l ?? e)!.caseIndex}`);
    if (only === 'emulated') {
      emulatorOnly++;
      continue;
    }
    if (only === 'linux') {
      linuxOnly++;
      continue;
    }
    const lo = outcome(l);
    const eo = outcome(e);
    // a skip agrees with a skip whatever the words (the reasons name the machine: profile 7.3, heaps)
    const same = l !== undefined && e !== undefined && l.status === e.status;
    if (same) agreed++;
    else disagreements.push(`${k} "${(l ?? e)!.name}": linux ${lo}, emulated ${eo}`);
  }
  return { agreed, emulatorOnly, linuxOnly, disagreements };
}

function load(path: string): ComparedResult[] {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { results?: unknown };
  if (!Array.isArray(j.results)) throw new Error(`${path}: not a conformance --json report (no results list)`);
  return j.results as ComparedResult[];
}

function main(argv: readonly string[]): number {
  const { label, args } = takeLabel(argv);
  if (args.length !== 2 || args.some((a) => a.startsWith('--'))) {
    console.error('usage: conformance-compare <linux.json> <emulated.json> [--label <text>]');
    return 2;
  }
  let c: Comparison;
  try {
    c = compareReports(load(args[0]!), load(args[1]!));
  } catch (e) {
    console.error(`conformance-compare: ${(e as Error).message}`);
    return 1;
  }
  const tag = label === '' ? '' : `${label}: `;
  for (const d of c.disagreements) console.log(`DIFFER ${tag}${d}`);
  console.log(`${tag}${c.agreed} case instances agree, ${c.disagreements.length} disagree; left out: ${c.emulatorOnly} emulator-only, ${c.linuxOnly} linux-only`);
  return c.disagreements.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
