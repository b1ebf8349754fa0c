/**
 * `dmaheap conformance run <files-or-dirs...> [options]`: the command-line front end of the
 * conformance runner. Exit status: 0 when every case passed (or was skipped), 1 when a case
 * failed or a case file is broken, 2 for a usage error (bad option, no such path, bad machine).
 */
import { MACHINE_OPTIONS, machineFrom, parse } from '../common/args.js';
import { loadBoard } from '../../boards/index.js';
import type { DeviceTree } from '../../boards/index.js';
import { withBoard, withBoardTree } from '../common/machine.js';
import type { SyscallTarget } from '../../api/target.js';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../backends/emulated/target.js';
import type { EmulatedOptions } from '../../backends/emulated/target.js';
import { expandPaths, loadCaseFiles } from './cases.js';
import type { CaseMachine } from './cases.js';
import { formatResult, reportJson, runCases, summaryLine } from './runner.js';

const USAGE = `Usage: dmaheap conformance run <files-or-dirs...> [options]

Runs JSON conformance case files (format: docs/conformance.md), each case on a fresh target,
prints one line per case and a closing "N passed, N failed" line.

Options:
  --backend <b>      emulated (default) or linux (this machine's kernel: /dev/dma_heap through
                     libc; needs Linux, heaps and koffi; the machine options below do not apply,
                     cases run against the live kernel one after another, device and sanitizer
                     cases skip). Exit status 2 with the reason when the linux backend cannot run.
  --profile <v>      kernel version profile of the emulated kernel (default: the backend's, 7.0);
                     cases with a "profiles" list run only when it names this profile
  --cmdline <args>   kernel command line (default: cma=64M; with --board: the board's bootargs)
  --board <b>        boot from a board: a shipped board's name (imx8mp, rpi5, rk3588, am62x,
                     x86-pc), a DTS, DTB or live-tree directory (arch, RAM and reserved memory
                     from the board)
  --features <list>  proposed kernel features, comma-separated: coherent, coherent-prefixed
  --ram <size>       RAM size (default: 2G)
  --page-size <n>    page size (default: 4096)
  --arch <a>         x86_64 (default) or arm64
  --sanitize         run every machine with the sync sanitizer (the "sanitizer" op)
  --filter <text>    run only cases whose name contains <text>
  --quiet            print only failures, errors and the closing line
  --json             print the report as JSON
Defaults mirror the oracle VM: x86-64, 4 KiB pages, 2 GiB RAM, cma=64M. A case with its own
"board", "cmdline", "features", "ram", "devices" or "sanitizer" keys runs on that machine
instead (with --profile and --page-size kept).
Exit status: 0 all passed, 1 a case failed or a case file is broken, 2 usage error (or a
backend that cannot run here).`;

/** Options that describe an emulated machine: meaningless for the real kernel. */
const EMULATED_ONLY = ['cmdline', 'board', 'features', 'ram', 'page-size', 'arch', 'sanitize'] as const;


/** An emulated target for the conformance runner (a fresh kernel and process). */
export function conformanceTarget(machine: EmulatedOptions): SyscallTarget {
  return createEmulatedTarget(machine);
}

/**
 * The machine of a case with its own keys: the run's explicit options (--profile, --page-size,
 * --ram, ...), then the case's `cmdline`, `features`, `ram`, `devices` and `sanitizer` replacing
 * the run's, on the case's `board` (else the run's --board; else the oracle VM). A board decides
 * the arch unless --arch was given for a run-wide --board. Each board file is loaded once.
 */
export function caseMachineFactory(explicit: EmulatedOptions, runBoard: string | undefined): (m: CaseMachine) => EmulatedOptions {
  const boards = new Map<string, DeviceTree | string>();
  const tree = (path: string): DeviceTree => {
    let t = boards.get(path);
    if (t === undefined) {
      const r = loadBoard(path);
      t = 'error' in r ? r.error : r.tree;
      boards.set(path, t);
    }
    if (typeof t === 'string') throw new Error(`board: ${t}`);
    return t;
  };
  return (m) => {
    let o: EmulatedOptions = { ...explicit };
    if (m.cmdline !== undefined) o = { ...o, cmdline: m.cmdline, cmdlineGiven: true };
    if (m.features !== undefined) {
      const { features: _run, ...rest } = o;
      o = machineFrom({ features: m.features.join(',') }, rest);
    }
    if (m.ramBytes !== undefined) o = { ...o, ramBytes: m.ramBytes };
    if (m.devices !== undefined) o = { ...o, devices: m.devices };
    if (m.sanitizer !== undefined) o = { ...o, sanitizer: m.sanitizer };
    const board = m.boardPath ?? runBoard;
    if (board === undefined) return { ...ORACLE_MACHINE, ...o };
    if (m.boardPath !== undefined) delete o.arch;
    return withBoardTree({ pageSize: ORACLE_MACHINE.pageSize, ...o }, tree(board));
  };
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
  let machine: EmulatedOptions = { ...ORACLE_MACHINE };
  let explicit: EmulatedOptions = {};
  let boardPath: string | undefined;
  let linux = false;
  try {
    ({ values, positionals } = parse(rest, { ...MACHINE_OPTIONS, backend: { type: 'string' }, filter: { type: 'string' }, quiet: { type: 'boolean' } }, true));
    if (values.help === true) {
      print.out(USAGE);
      return 0;
    }
    const backend = values.backend ?? 'emulated';
    if (backend !== 'emulated' && backend !== 'linux') throw new Error(`--backend: '${String(backend)}' is not a backend (known: emulated, linux)`);
    if (backend === 'linux') {
      const given = EMULATED_ONLY.filter((k) => values[k] !== undefined);
      if (given.length > 0) throw new Error(`--${given[0]!} describes an emulated machine; with --backend linux the machine is this one`);
      linux = true;
    }
    explicit = machineFrom(values);
    boardPath = typeof values.board === 'string' ? values.board : undefined;
    // with a board, its arch, RAM and bootargs replace the oracle VM's
    machine = boardPath === undefined ? { ...ORACLE_MACHINE, ...explicit } : withBoard({ pageSize: ORACLE_MACHINE.pageSize, ...explicit }, boardPath);
    if (positionals.length === 0) throw new Error('no case files or directories given');
    const missing = expandPaths(positionals).errors;
    if (missing.length > 0) throw new Error(missing.join('; '));
  } catch (e) {
    print.err(`dmaheap conformance: ${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}\nRun 'dmaheap conformance --help' for usage.`);
    return 2;
  }

  let makeTarget = (): SyscallTarget => conformanceTarget(machine);
  const caseMachine = caseMachineFactory(explicit, boardPath);
  let machineTarget: ((m: CaseMachine) => SyscallTarget) | undefined = (m) => conformanceTarget(caseMachine(m));
  if (linux) {
    // loaded only when asked for: koffi is not needed for the emulated backend
    const { linuxBackend } = await import('../../backends/linux/index.js');
    const avail = linuxBackend.isAvailable();
    if (!avail.ok) {
      print.err(`dmaheap conformance: the linux backend cannot run here: ${avail.reason}`);
      return 2;
    }
    // each case on a "fresh process": the target closes what the case left open when it ends
    makeTarget = () => linuxBackend.createTarget({ exclusive: true });
    // a case with its own machine (board, cmdline, ...) cannot be booted on the real kernel
    machineTarget = undefined;
  }
  try {
    makeTarget().dispose();
  } catch (e) {
    print.err(`dmaheap conformance: cannot ${linux ? 'start the linux backend' : 'boot the emulated machine'}: ${(e as Error).message}`);
    return 2;
  }

  const loaded = loadCaseFiles(positionals);
  const json = values.json === true;
  const quiet = values.quiet === true;
  if (!json) for (const e of loaded.errors) print.out(`ERROR ${e}`);
  const opts: Parameters<typeof runCases>[2] = {
    loadErrors: loaded.errors,
    ...(machineTarget !== undefined ? { machineTarget } : {}),
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
