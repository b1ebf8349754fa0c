/**
 * `dmaheap conformance run <files-or-dirs...> [options]`: the command-line front end of the
 * conformance runner. Exit status: 0 when every case passed (or was skipped), 1 when a case
 * failed or a case file is broken, 2 for a usage error (bad option, no such path, bad machine).
 */
import { CliError, UsageError, machineFrom } from '../common/args.js';
import { reportError, wantsJson } from '../common/errors.js';
import { helpText, parseCommand, SANITIZE_OPTION, usageHint } from '../common/options.js';
import type { CommandSpec } from '../common/options.js';
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { loadBoard } from '../../boards/index.js';
import type { DeviceTree } from '../../boards/index.js';
import { loadBoardFile } from '../../boards/files.js';
import { loadBoardBytes } from '../../kernel/of/board.js';
import { Kconfig, kconfigMachine } from '../../kernel/kconfig.js';
import type { BoardResult } from '../../kernel/of/board.js';
import type { DtsReadFile } from '../../kernel/of/dts.js';
import { withBoard, withBoardTree } from '../common/machine.js';
import type { SyscallTarget } from '../../api/target.js';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../backends/emulated/target.js';
import type { EmulatedOptions } from '../../backends/emulated/target.js';
import { expandPaths, isUnder, loadCaseFiles, shippedBoardsDir } from './cases.js';
import type { CaseMachine } from './cases.js';
import { formatResult, reportJson, runCases, summaryLine } from './runner.js';

/** `dmaheap conformance run`: its options and help. */
export const CONFORMANCE_RUN: CommandSpec = {
  name: 'conformance run',
  synopsis: ['conformance run <files-or-dirs...> [options]'],
  description: `Runs JSON conformance case files (format: docs/conformance.md), each case on a fresh target,
prints one line per case and a closing "N passed, N failed" line. Defaults mirror the oracle VM:
x86-64, 4 KiB pages, 2 GiB RAM, cma=64M. A case with its own "board", "cmdline", "features",
"ram", "devices" or "sanitizer" keys runs on that machine instead (with --profile and
--page-size kept).`,
  own: {
    backend: { type: 'string', arg: '<b>', help: 'emulated (default) or linux: this machine\'s kernel (/dev/dma_heap through libc; needs Linux, heaps and koffi; the machine options do not apply, cases run one after another, device and sanitizer cases skip)' },
    ...SANITIZE_OPTION,
    filter: { type: 'string', arg: '<text>', help: 'run only cases whose name contains <text>' },
    quiet: { type: 'boolean', help: 'text: print only failures, errors and the closing line' },
    'allow-host-paths': { type: 'boolean', help: 'a trusted suite: its steps may reach any path and fd, its boards any file (without it a case reaches only the dma-buf files: docs/conformance.md, "Confinement")' },
  },
  machine: true,
  positionals: true,
  footer: `--profile also selects cases: a case with a "profiles" list runs only when it names the profile.
Exit status: 0 all passed, 1 a case failed, a case file is broken or the linux backend cannot run
here, 2 usage error (a bad option, no such path, a board that cannot be loaded).`,
};

/** Options that describe an emulated machine: meaningless for the real kernel. */
const EMULATED_ONLY = ['cmdline', 'board', 'features', 'ram', 'page-size', 'arch', 'kconfig', 'loader', 'sanitize'] as const;

/** Largest board file (or included file) a case's board from its suite may have. */
export const CASE_BOARD_MAX_BYTES = 16 * 1024 * 1024;

/** A regular file of at most `max` bytes, read without reading past it; throws with the reason. */
function readBounded(path: string, max: number): Uint8Array {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path}: not a regular file`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const k = readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
      if (n === buf.length) throw new Error(`${path}: larger than ${max} bytes`);
    }
    return new Uint8Array(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/**
 * A case's board given as a path: the file (at most {@link CASE_BOARD_MAX_BYTES}) and every
 * `/include/` and `/incbin/` file it names must stay inside `root` (the case file's directory)
 * or the shipped boards' directory, symbolic links resolved; a live-tree directory is read as it
 * is (its symbolic links are never followed).
 */
export function loadCaseBoard(path: string, root: string): BoardResult {
  try {
    if (statSync(path).isDirectory()) return loadBoardFile(path);
  } catch (e) {
    return { error: `${path}: ${(e as Error).message}` };
  }
  let bytes: Uint8Array;
  try {
    bytes = readBounded(path, CASE_BOARD_MAX_BYTES);
  } catch (e) {
    return { error: (e as Error).message };
  }
  let refused: string | null = null;
  const reader: DtsReadFile = (name, from) => {
    const candidate = isAbsolute(name) ? name : join(dirname(from), name);
    let real: string;
    try {
      real = realpathSync.native(candidate);
    } catch {
      return null;
    }
    if (!isUnder(real, root) && !isUnder(real, shippedBoardsDir())) {
      refused ??= `${path}: the board's file '${name}' is refused by the confinement rule "boards": a case's board and the files it includes stay inside the case file's directory (${root}) or the shipped boards' (${shippedBoardsDir()}), and '${name}' is ${real} (docs/conformance.md, "Confinement"; a trusted suite may run with --allow-host-paths)`;
      return null;
    }
    try {
      return { path: real, text: Buffer.from(readBounded(real, CASE_BOARD_MAX_BYTES)).toString('latin1') };
    } catch (e) {
      refused ??= `${path}: the board's file '${name}' cannot be read: ${(e as Error).message}`;
      return null;
    }
  };
  const r = loadBoardBytes(bytes, { file: path, readInclude: reader });
  return refused !== null && 'error' in r ? { error: refused } : r;
}

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
  const tree = (path: string, root?: string): DeviceTree => {
    const key = JSON.stringify([path, root ?? null]);
    let t = boards.get(key);
    if (t === undefined) {
      const r = root === undefined ? loadBoard(path) : loadCaseBoard(path, root);
      t = 'error' in r ? r.error : r.tree;
      boards.set(key, t);
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
    if (m.boardPath !== undefined) delete o.arch;
    if (m.kconfig !== undefined) {
      // the case's configuration on top of the run's --kconfig options, for the machine it names
      const run = o.kconfig instanceof Kconfig ? o.kconfig : undefined;
      const kc = run === undefined ? m.kconfig : m.kconfig.base === null ? run.with(m.kconfig.options) : Kconfig.options([...run.options, ...m.kconfig.options]).withBase(m.kconfig.base);
      const want = kconfigMachine(kc);
      o = { ...o, kconfig: kc, ...(want.arch !== null ? { arch: want.arch } : {}), ...(want.pageSize !== null ? { pageSize: want.pageSize } : {}) };
    }
    if (board === undefined) return { ...ORACLE_MACHINE, ...o };
    return withBoardTree({ pageSize: ORACLE_MACHINE.pageSize, ...o }, m.boardPath !== undefined ? tree(m.boardPath, m.boardRoot) : tree(board));
  };
}

interface Print {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Told the run's emulated machine before it boots (tests check that each machine option reaches it). */
  onMachine?: (m: EmulatedOptions) => void;
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

/** Runs `conformance <argv...>`; returns the exit status. `all`: every command, for "does not apply" errors. */
export async function conformanceMain(argv: string[], print: Print = defaultPrint, all: readonly CommandSpec[] = [CONFORMANCE_RUN]): Promise<number> {
  const json = wantsJson(argv);
  const fail = (e: unknown) => reportError(e, { json, prefix: 'dmaheap conformance', usageHint: usageHint(CONFORMANCE_RUN), out: print.out, err: print.err });
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? print.err : print.out)(helpText(CONFORMANCE_RUN));
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'run') return fail(new UsageError(`unknown subcommand '${sub}' (only 'run')`));
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  let machine: EmulatedOptions = { ...ORACLE_MACHINE };
  let explicit: EmulatedOptions = {};
  let boardPath: string | undefined;
  let linux = false;
  try {
    ({ values, positionals } = parseCommand(CONFORMANCE_RUN, rest, all));
    if (values.help === true) {
      print.out(helpText(CONFORMANCE_RUN));
      return 0;
    }
    const backend = values.backend ?? 'emulated';
    if (backend !== 'emulated' && backend !== 'linux') throw new UsageError(`--backend: '${String(backend)}' is not a backend of conformance run`, 'the backends are emulated and linux');
    if (backend === 'linux') {
      const given = EMULATED_ONLY.filter((k) => values[k] !== undefined);
      if (given.length > 0) throw new UsageError(`--${given[0]!} describes an emulated machine; with --backend linux the machine is this one`, `leave out --${given[0]!}, or use --backend emulated`);
      linux = true;
    }
    if (json && values.quiet === true) throw new UsageError('--quiet applies to the text report; --json prints every case', 'leave out one of --quiet and --json');
    explicit = machineFrom(values);
    boardPath = typeof values.board === 'string' ? values.board : undefined;
    // with a board, its arch, RAM and bootargs replace the oracle VM's
    try {
      machine = boardPath === undefined ? { ...ORACLE_MACHINE, ...explicit } : withBoard({ pageSize: ORACLE_MACHINE.pageSize, ...explicit }, boardPath);
    } catch (e) {
      if (e instanceof UsageError) throw new CliError('board', e.message, e.hint ?? 'fix the board file, or give a DTS, a DTB or a /sys/firmware/devicetree/base directory (docs/device-tree.md)', 2);
      throw e;
    }
    if (!linux) print.onMachine?.(machine);
    if (positionals.length === 0) throw new UsageError('no case files or directories given', 'give case files or directories, e.g. dmaheap conformance run test/conformance/cases');
    const missing = expandPaths(positionals).errors;
    if (missing.length > 0) throw new UsageError(missing.join('; '));
  } catch (e) {
    return fail(e);
  }

  let makeTarget = (): SyscallTarget => conformanceTarget(machine);
  const caseMachine = caseMachineFactory(explicit, boardPath);
  let machineTarget: ((m: CaseMachine) => SyscallTarget) | undefined = (m) => conformanceTarget(caseMachine(m));
  if (linux) {
    // loaded only when asked for: koffi is not needed for the emulated backend
    const { linuxBackend } = await import('../../backends/linux/index.js');
    const avail = linuxBackend.isAvailable();
    if (!avail.ok) {
      return fail(new CliError('backend', `the linux backend cannot run here: ${avail.reason}`, 'dmaheap doctor says why and what to do; without --backend linux the cases run on the emulated kernel'));
    }
    // each case on a "fresh process": the target closes what the case left open when it ends
    makeTarget = () => linuxBackend.createTarget({ exclusive: true });
    // a case with its own machine (board, cmdline, ...) cannot be booted on the real kernel
    machineTarget = undefined;
  }
  try {
    makeTarget().dispose();
  } catch (e) {
    if (linux) return fail(new CliError('backend', `cannot start the linux backend: ${(e as Error).message}`, 'dmaheap doctor says why and what to do'));
    return fail(e);
  }

  const allowHostPaths = values['allow-host-paths'] === true;
  const loaded = loadCaseFiles(positionals, { allowHostPaths });
  const quiet = values.quiet === true;
  if (!json) for (const e of loaded.errors) print.out(`ERROR ${e}`);
  const opts: Parameters<typeof runCases>[2] = {
    loadErrors: loaded.errors,
    allowHostPaths,
    ...(machineTarget !== undefined ? { machineTarget } : {}),
    onResult: (r) => {
      if (json) return;
      if (quiet && (r.status === 'pass' || r.status === 'skip' || r.status === 'xfail')) return;
      print.out(formatResult(r));
    },
  };
  const filtered = typeof values.filter === 'string' ? { ...opts, filter: values.filter } : opts;
  // an Android branch (--profile android14-6.1) selects the cases of its mainline base and its own
  // (cases.ts profileMatches)
  const report = await runCases(loaded.files, makeTarget, typeof values.profile === 'string' ? { ...filtered, profile: values.profile } : filtered);
  if (json) print.out(JSON.stringify(reportJson(report), null, 2));
  else print.out(summaryLine(report));
  return report.failed > 0 ? 1 : 0;
}
