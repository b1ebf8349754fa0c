/**
 * The conformance suite on a matrix of emulated machines: kernel profiles × architecture × page
 * size × the shipped boards. Every machine must pass with 0 failures; skips are allowed only
 * with a stated reason (the runner prints one for each). docs/conformance.md, "The matrix".
 *
 * `npm run test:matrix` runs {@link MATRIX}, the whole matrix, and prints one line per machine;
 * `npm test` runs {@link MATRIX_SUBSET} (test/unit/conformance-matrix.test.ts).
 *
 *   node dist/scripts/conformance-matrix.js [--subset] [--profile <p>]... [--json]
 */
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { conformanceMain } from '../src/apps/conformance/cli.js';

/** One machine of the matrix: a profile and the `conformance run` options that make the machine. */
export interface MatrixMachine {
  readonly profile: string;
  /** Short name: `x86_64`, `arm64-16K`, `imx8mp`, `imx8mp-64K`, ... */
  readonly name: string;
  readonly args: readonly string[];
}

/** The profiles of the matrix: the x86-64 referees' versions (issue 11), and 5.10 with them (issue 15). */
export const MATRIX_PROFILES = ['5.10', '6.1', '6.12', '7.3'] as const;

/** The shipped boards (examples/boards); x86-pc is x86-64 and has 4 KiB pages only. */
export const MATRIX_BOARDS = ['imx8mp', 'rpi5', 'rk3588', 'am62x', 'x86-pc'] as const;

function machinesOf(profile: string): MatrixMachine[] {
  const out: MatrixMachine[] = [
    { profile, name: 'x86_64', args: ['--arch', 'x86_64'] },
    { profile, name: 'arm64', args: ['--arch', 'arm64'] },
    { profile, name: 'arm64-16K', args: ['--arch', 'arm64', '--page-size', '16K'] },
    { profile, name: 'arm64-64K', args: ['--arch', 'arm64', '--page-size', '64K'] },
  ];
  for (const b of MATRIX_BOARDS) {
    out.push({ profile, name: b, args: ['--board', b] });
    if (b === 'x86-pc') continue;
    out.push({ profile, name: `${b}-16K`, args: ['--board', b, '--page-size', '16K'] });
    out.push({ profile, name: `${b}-64K`, args: ['--board', b, '--page-size', '64K'] });
  }
  return out;
}

/** The whole matrix: every profile of {@link MATRIX_PROFILES} on every machine. */
export const MATRIX: readonly MatrixMachine[] = MATRIX_PROFILES.flatMap(machinesOf);

/**
 * What `npm test` runs: each architecture, each page size, each board and each profile at least
 * once, about a quarter of the matrix. (The default machine on 6.1 is `npm test`'s own last step.)
 */
export const MATRIX_SUBSET: readonly MatrixMachine[] = [
  ['7.3', 'x86_64'], ['6.12', 'arm64'], ['7.3', 'arm64-16K'], ['6.1', 'arm64-64K'],
  ['6.1', 'imx8mp'], ['7.3', 'imx8mp-64K'], ['6.12', 'rpi5'], ['7.3', 'rk3588'], ['6.12', 'rk3588-16K'],
  ['6.1', 'am62x-16K'], ['7.3', 'am62x'], ['6.12', 'x86-pc'], ['5.10', 'x86_64'], ['5.10', 'rk3588-64K'],
].map(([p, n]) => {
  const m = MATRIX.find((x) => x.profile === p && x.name === n);
  if (m === undefined) throw new Error(`MATRIX_SUBSET: ${p} ${n} is not in the matrix`);
  return m;
});

/** The suite's result on one machine. */
export interface MatrixRow {
  readonly machine: MatrixMachine;
  /** The exit status of `conformance run` (0: every case passed or was skipped). */
  readonly status: number;
  /** The closing line: `N passed, N failed, N skipped`. */
  readonly summary: string;
  /** The FAIL, ERROR and XPASS lines, and any error output. */
  readonly problems: readonly string[];
  readonly ms: number;
}

/** The case directory of this checkout. */
export const CASES_DIR = fileURLToPath(new URL('../../test/conformance/cases', import.meta.url));

/** Runs the suite on each machine, in this process, one after another. */
export async function runMatrix(machines: readonly MatrixMachine[], onRow?: (r: MatrixRow) => void, dir = CASES_DIR): Promise<MatrixRow[]> {
  const rows: MatrixRow[] = [];
  for (const machine of machines) {
    const lines: string[] = [];
    const print = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    const t0 = Date.now();
    const status = await conformanceMain(['run', dir, '--profile', machine.profile, ...machine.args, '--quiet'], print);
    const row: MatrixRow = { machine, status, summary: lines.at(-1) ?? '', problems: lines.slice(0, -1), ms: Date.now() - t0 };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}

/** One line per machine: `7.0   arm64-16K     762 passed, 0 failed, 55 skipped   (2.1 s)`. */
export function formatRow(r: MatrixRow): string {
  return `${r.machine.profile.padEnd(5)} ${r.machine.name.padEnd(13)} ${r.summary.padEnd(36)} (${(r.ms / 1000).toFixed(1)} s)`;
}

async function main(argv: readonly string[]): Promise<number> {
  const profiles: string[] = [];
  let subset = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--subset') subset = true;
    else if (a === '--json') json = true;
    else if (a === '--profile' && argv[i + 1] !== undefined) profiles.push(argv[++i] ?? '');
    else {
      process.stderr.write(`conformance-matrix: unknown argument '${a ?? ''}'\nhint: the options are --subset, --profile <p> (repeatable) and --json\n`);
      return 2;
    }
  }
  const machines = (subset ? MATRIX_SUBSET : MATRIX).filter((m) => profiles.length === 0 || profiles.includes(m.profile));
  if (machines.length === 0) {
    process.stderr.write(`conformance-matrix: no machine of the matrix has profile ${profiles.join(', ')}\nhint: the matrix's profiles are ${MATRIX_PROFILES.join(', ')}\n`);
    return 2;
  }
  const t0 = Date.now();
  const rows = await runMatrix(machines, json ? undefined : (r) => {
    process.stdout.write(`${formatRow(r)}\n`);
    for (const p of r.problems) process.stdout.write(`    ${p}\n`);
  });
  const bad = rows.filter((r) => r.status !== 0);
  if (json) {
    process.stdout.write(`${JSON.stringify({ machines: rows.map((r) => ({ profile: r.machine.profile, machine: r.machine.name, args: r.machine.args, status: r.status, summary: r.summary, problems: r.problems, ms: r.ms })), failed: bad.length }, null, 2)}\n`);
  } else {
    process.stdout.write(`${rows.length} machines, ${bad.length} with failures (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    if (bad.length > 0) process.stdout.write(`failing: ${bad.map((r) => `${r.machine.profile} ${r.machine.name}`).join(', ')}\nhint: rerun one with: node dist/src/apps/cli/main.js conformance run test/conformance/cases --profile <p> <its options>\n`);
  }
  return bad.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`conformance-matrix: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
