/**
 * `dmaheap conformance run <files-or-dirs...> [options]`: the command-line front end of the
 * conformance runner. Exit status: 0 when every case passed (or was skipped), 1 when a case
 * failed or a case file is broken, 2 for a usage error (bad option, no such path, bad machine).
 */
import { parseArgs } from 'node:util';
import type { SyscallTarget } from '../../api/target.js';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../backends/emulated/target.js';
import type { EmulatedOptions } from '../../backends/emulated/target.js';
import { expandPaths, loadCaseFiles } from './cases.js';
import { formatResult, reportJson, runCases, summaryLine } from './runner.js';

const USAGE = `Usage: dmaheap conformance run <files-or-dirs...> [options]

Runs JSON conformance case files (format: docs/conformance.md), each case on a fresh target,
prints one line per case and a closing "N passed, N failed" line.

Options:
  --backend <b>      emulated (default; the only backend so far)
  --profile <v>      kernel version profile of the emulated kernel (default: the backend's, 7.0);
                     cases with a "profiles" list run only when it names this profile
  --cmdline <args>   kernel command line (default: cma=64M)
  --ram <size>       RAM size (default: 2G)
  --page-size <n>    page size (default: 4096)
  --arch <a>         x86_64 (default) or arm64
  --filter <text>    run only cases whose name contains <text>
  --quiet            print only failures, errors and the closing line
  --json             print the report as JSON
Defaults mirror the oracle VM: x86-64, 4 KiB pages, 2 GiB RAM, cma=64M.
Exit status: 0 all passed, 1 a case failed or a case file is broken, 2 usage error.`;

function parseSize(s: string, what: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([kmgt]i?b?)?$/i.exec(s.trim());
  if (m === null) throw new Error(`${what}: '${s}' is not a size (examples: 4096, 64M, 2G)`);
  const unit = (m[2] ?? '').charAt(0).toLowerCase();
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : unit === 't' ? 1024 ** 4 : 1;
  const v = Number(m[1]) * mult;
  if (!Number.isSafeInteger(v)) throw new Error(`${what}: '${s}' is too large`);
  return v;
}

/** An emulated target for the conformance runner (a fresh kernel and process). */
export function conformanceTarget(machine: EmulatedOptions): SyscallTarget {
  return createEmulatedTarget(machine);
}

interface Print {
  out: (s: string) => void;
  err: (s: string) => void;
}

let epipeGuard = false;

const defaultPrint: Print = {
  out: (s) => {
    if (!epipeGuard) {
      // `dmaheap conformance run ... | head` closes the pipe early: stop quietly.
      epipeGuard = true;
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw e;
      });
    }
    process.stdout.write(`${s}\n`);
  },
  err: (s) => process.stderr.write(`${s}\n`),
};

/** Runs `conformance <argv...>`; returns the exit status. */
export async function conformanceMain(argv: string[], print: Print = defaultPrint): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    print.out(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'run') {
    print.err(`dmaheap conformance: unknown subcommand '${sub}' (only 'run')\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  const machine: EmulatedOptions = { ...ORACLE_MACHINE };
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        backend: { type: 'string' }, profile: { type: 'string' }, cmdline: { type: 'string' },
        ram: { type: 'string' }, 'page-size': { type: 'string' }, arch: { type: 'string' },
        filter: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (values.help === true) {
      print.out(USAGE);
      return 0;
    }
    const backend = values.backend ?? 'emulated';
    if (backend !== 'emulated') throw new Error(`--backend: '${String(backend)}' is not available (known: emulated)`);
    if (typeof values.profile === 'string') machine.profile = values.profile;
    if (typeof values.cmdline === 'string') machine.cmdline = values.cmdline;
    if (typeof values.ram === 'string') machine.ramBytes = parseSize(values.ram, '--ram');
    if (typeof values['page-size'] === 'string') machine.pageSize = parseSize(values['page-size'], '--page-size');
    if (typeof values.arch === 'string') {
      if (values.arch !== 'x86_64' && values.arch !== 'arm64') throw new Error(`--arch: '${values.arch}' is not x86_64 or arm64`);
      machine.arch = values.arch;
    }
    if (positionals.length === 0) throw new Error('no case files or directories given');
    const missing = expandPaths(positionals).errors;
    if (missing.length > 0) throw new Error(missing.join('; '));
  } catch (e) {
    print.err(`dmaheap conformance: ${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}\nRun 'dmaheap conformance --help' for usage.`);
    return 2;
  }

  const makeTarget = (): SyscallTarget => conformanceTarget(machine);
  try {
    makeTarget().dispose();
  } catch (e) {
    print.err(`dmaheap conformance: cannot boot the emulated machine: ${(e as Error).message}`);
    return 2;
  }

  const loaded = loadCaseFiles(positionals);
  const json = values.json === true;
  const quiet = values.quiet === true;
  if (!json) for (const e of loaded.errors) print.out(`ERROR ${e}`);
  const opts: Parameters<typeof runCases>[2] = {
    loadErrors: loaded.errors,
    onResult: (r) => {
      if (json) return;
      if (quiet && (r.status === 'pass' || r.status === 'skip' || r.status === 'xfail')) return;
      print.out(formatResult(r));
    },
  };
  const filtered = typeof values.filter === 'string' ? { ...opts, filter: values.filter } : opts;
  const report = await runCases(loaded.files, makeTarget, typeof values.profile === 'string' ? { ...filtered, profile: values.profile } : filtered);
  if (json) print.out(JSON.stringify(reportJson(report), null, 2));
  else print.out(summaryLine(report));
  return report.failed > 0 ? 1 : 0;
}
