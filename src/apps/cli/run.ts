/**
 * `dmaheap <command> [options]`: parses the command line, runs the command and prints its output
 * or its error (src/apps/common/errors.ts) through `io`, and returns the exit status. main.ts
 * runs it on the process; tests run it in-process with their own `io`.
 */
import { readFileSync } from 'node:fs';
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import type { ProfileName } from '../../kernel/profile.js';
import { CliError, ID_SPEC, UsageError, machineFrom, parseIdList, parseInteger, parseProfile, parseSize } from '../common/args.js';
import { openClient, openDoctor, openFiles, openTarget, parseBackend } from '../common/backend.js';
import type { BackendChoice } from '../common/backend.js';
import { reportError, wantsJson } from '../common/errors.js';
import { helpText, parseCommand, usageHint } from '../common/options.js';
import type { CommandSpec } from '../common/options.js';
import { withBoard } from '../common/machine.js';
import { conformanceMain } from '../conformance/cli.js';
import { printAlloc, runAlloc } from './alloc.js';
import { ALLOC, COMMANDS, DASHBOARD, DEMO, DOCTOR, DUMP, HEAPS, LINT_NAMES, RUN, SIMULATE, TOP, USAGE } from './commands.js';
import { simMachine, simulateCommand } from './simulate.js';
import { dashboardCommand } from './dashboard.js';
import { runCommand, splitRunArgv } from './run-program.js';
import { printDemo, runDemo } from './demo.js';
import { printDoctor, runDoctor } from './doctor.js';
import { dumpOn, printDump, printLinuxDump, readLinuxDump, runDemoWorkload, runDump } from './dump.js';
import { bootHeaps, lintReport, parseFailOn, printDiff, printHeaps, printLinuxHeaps, printLint, readLinuxHeaps, upgradeDiff } from './heaps.js';
import { CLEAR, formatTop, topLoop, topSnapshot } from './top.js';
import type { TopSnapshot } from './top.js';
import { attachRequest } from './run-attach.js';
import type { DumpResult } from './dump.js';

/** Where a command's output goes, and how a long-running one (top, alloc --hold) is stopped. */
export interface CliIo {
  /** A line of output (stdout). */
  out(s: string): void;
  /** A line for the user (stderr): errors in text mode, alloc --hold's message. */
  err(s: string): void;
  /** Raw output (top's screen). */
  write(s: string): void;
  /** stdout is a terminal: top redraws in place and cuts lines to `columns()`. */
  readonly isTTY: boolean;
  columns(): number | undefined;
  /** A signal that aborts when the user stops the command (Ctrl-C); `dispose` when done with it. */
  stop(): { signal: AbortSignal; dispose(): void };
  /** Told the emulated machine the options describe, before it boots (tests check that each machine option reaches it). */
  onMachine?(m: EmulatedOptions): void;
  /** Opens a URL in the user's browser (dashboard --open); absent: xdg-open when the PATH has it (tests record the call instead). */
  openUrl?(url: string): void;
  /** A progress line for a terminal (redrawn in place on stderr), null to clear it; absent when stderr is not a terminal. */
  progress?(line: string | null): void;
}

/** The machine of a command without --board: the emulated defaults (cma=64M). */
const DEFAULT_MACHINE = { cmdline: 'cma=64M' };

/** Options that describe an emulated machine: with one, `auto` means emulated and `linux` is an error. */
const EMULATED_ONLY = ['profile', 'cmdline', 'board', 'features', 'ram', 'page-size', 'arch', 'kconfig', 'loader', 'fault', 'uid', 'gid', 'groups', 'demo-workload'] as const;

type Values = Record<string, string | boolean | string[] | undefined>;

interface Ctx {
  readonly values: Values;
  readonly positionals: string[];
  readonly json: boolean;
  readonly io: CliIo;
}

function str(v: Values, k: string): string | undefined {
  const x = v[k];
  return typeof x === 'string' ? x : undefined;
}

/**
 * `--backend` with the emulated-only options (EMULATED_ONLY and the command's `extra`): one of
 * them selects the emulated backend under auto and is a usage error with --backend linux.
 */
function backendFor(values: Values, extra: readonly string[] = []): BackendChoice {
  const choice = parseBackend(values.backend);
  const given = [...EMULATED_ONLY, ...extra].filter((k) => values[k] !== undefined);
  if (given.length === 0) return choice;
  if (choice === 'linux') {
    throw new UsageError(`--${given[0]!} applies to the emulated machine; with --backend linux the machine is this one`, `leave out --${given[0]!} to look at this machine, or use --backend emulated`);
  }
  return 'emulated';
}

/**
 * The emulated machine the options describe, with --board loaded (a board that cannot be loaded:
 * code `board`, exit status 2) and the user (--uid, --gid, --groups) for the commands that take one.
 */
function machineOf(ctx: Ctx): EmulatedOptions {
  const board = str(ctx.values, 'board');
  let m = machineFrom(ctx.values, board === undefined ? DEFAULT_MACHINE : {});
  try {
    m = withBoard(m, board);
  } catch (e) {
    if (e instanceof UsageError) throw new CliError('board', e.message, e.hint ?? 'fix the board file, or give a DTS, a DTB or a /sys/firmware/devicetree/base directory (docs/device-tree.md)', 2);
    throw e;
  }
  m = userFrom(ctx.values, m);
  ctx.io.onMachine?.(m);
  return m;
}

/** The emulated output after an `auto` fallback: a note line first, or a `note` key in the JSON. */
function withNote(note: string | null, json: boolean, data: object, text: () => string): string {
  if (json) return JSON.stringify(note === null ? data : { note, ...data }, null, 2);
  return note === null ? text() : `note: ${note}\n${text()}`;
}

function userFrom(values: Values, machine: EmulatedOptions): EmulatedOptions {
  const uidText = str(values, 'uid');
  const gidText = str(values, 'gid');
  const groupsText = str(values, 'groups');
  const uid = uidText !== undefined ? parseInteger(uidText, '--uid', ID_SPEC) : undefined;
  const gid = gidText !== undefined ? parseInteger(gidText, '--gid', ID_SPEC) : uid;
  const groups = groupsText !== undefined ? parseIdList(groupsText, '--groups') : undefined;
  return { ...machine, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}), ...(groups !== undefined ? { groups } : {}) };
}

function noPositionals(ctx: Ctx, max = 0): void {
  const extra = ctx.positionals[max];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function demo(ctx: Ctx): Promise<number> {
  const { values, json, io } = ctx;
  const sizeText = str(values, 'size');
  const size = sizeText !== undefined ? parseSize(sizeText, '--size') : 1024 * 1024;
  const r = runDemo(machineOf(ctx), str(values, 'heap'), size, str(values, 'board') ?? null);
  io.out(json ? JSON.stringify(r, null, 2) : printDemo(r));
  return Promise.resolve(0);
}

async function heaps(ctx: Ctx): Promise<number> {
  const { values, positionals, json, io } = ctx;
  const diff = str(values, 'diff');
  const choice = backendFor(values, ['diff']);
  if (diff === undefined) noPositionals(ctx);
  let from: ProfileName | undefined;
  let to: ProfileName | undefined;
  if (diff !== undefined) {
    if (values.profile !== undefined) throw new UsageError('--profile does not apply with --diff: --diff <v1> <v2> names both kernel versions');
    let v1: string | undefined;
    let v2: string | undefined;
    if (diff.includes(',')) {
      [v1, v2] = diff.split(',');
      noPositionals(ctx);
    } else {
      [v1, v2] = [diff, positionals[0]];
      noPositionals(ctx, 1);
    }
    if (v1 === undefined || v2 === undefined || v2 === '' || diff.split(',').length > 2) throw new UsageError('--diff needs two profiles, e.g. --diff 6.12 7.0');
    from = parseProfile(v1, '--diff');
    to = parseProfile(v2, '--diff');
  }
  const o = await openClient(choice);
  if (o.kind === 'linux') {
    try {
      const r = readLinuxHeaps(o.client, o.label);
      io.out(json ? JSON.stringify(r, null, 2) : printLinuxHeaps(r));
      return 0;
    } finally {
      o.client.close();
    }
  }
  const board = str(values, 'board') ?? null;
  const machine = machineOf(ctx);
  if (from !== undefined && to !== undefined) {
    const d = upgradeDiff(machine, board, from, to);
    io.out(json ? JSON.stringify(d, null, 2) : printDiff(d));
    return 0;
  }
  const r = bootHeaps(machine, board);
  io.out(withNote(o.note, json, r, () => printHeaps(r)));
  return 0;
}

async function lintNames(ctx: Ctx): Promise<number> {
  const { values, json, io } = ctx;
  const failOn = parseFailOn(str(values, 'fail-on'));
  const board = str(values, 'board') ?? null;
  const r = lintReport(bootHeaps(machineOf(ctx), board), failOn);
  io.out(json ? JSON.stringify(r, null, 2) : printLint(r));
  return Promise.resolve(r.failed > 0 ? 1 : 0);
}

/** --attach reads a running `dmaheap run`: the machine is that run's, so no machine or backend option applies. */
function attachOf(ctx: Ctx): string | undefined {
  const where = str(ctx.values, 'attach');
  if (where === undefined) return undefined;
  const given = [...EMULATED_ONLY, 'backend'].filter((k) => ctx.values[k] !== undefined);
  if (given.length > 0) throw new UsageError(`--${given[0]!} does not apply with --attach: the machine is the one the dmaheap run emulates`, `leave out --${given[0]!}`);
  return where;
}

async function dump(ctx: Ctx): Promise<number> {
  const { values, json, io } = ctx;
  if (json && (values.all === true || values['per-buffer'] === true)) {
    throw new UsageError(`${values.all === true ? '-a/--all' : '-b/--per-buffer'} chooses a text layout; --json prints the whole report`, 'leave out --json to see the layout, or leave out -a/-b');
  }
  const pidText = str(values, 'pid');
  const pids = pidText !== undefined ? [parseInteger(pidText, '--pid', { noun: 'a process id', min: 1, max: 4194304, note: '(PID_MAX_LIMIT)' })] : undefined;
  const attach = attachOf(ctx);
  if (attach !== undefined) {
    const d = (await attachRequest(attach, { op: 'dump', ...(pids !== undefined ? { pids } : {}) })) as DumpResult;
    io.out(json ? JSON.stringify(d, null, 2) : printDump(d, { all: values.all === true, perBuffer: values['per-buffer'] === true }));
    return 0;
  }
  const choice = backendFor(values);
  const machine = machineOf(ctx);
  const layout = { all: values.all === true, perBuffer: values['per-buffer'] === true };
  const f = choice === 'emulated' ? null : openFiles(choice, machine);
  try {
    if (f !== null && f.kind === 'linux') {
      const d = readLinuxDump(f.files, f.fs, { machine: f.label, uid: f.uid }, pids !== undefined ? { pids } : {});
      io.out(json ? JSON.stringify(d, null, 2) : printLinuxDump(d, layout));
      return 0;
    }
    const opts = { demoWorkload: values['demo-workload'] === true, board: str(values, 'board') ?? null, ...(pids !== undefined ? { pids } : {}) };
    const d = f?.target != null ? dumpOn(f.target, opts) : runDump(machine, opts);
    io.out(withNote(f?.note ?? null, json, d, () => printDump(d, layout)));
    return 0;
  } finally {
    f?.target?.dispose();
  }
}

async function doctor(ctx: Ctx): Promise<number> {
  const { values, json, io } = ctx;
  const choice = backendFor(values);
  const machine = machineOf(ctx);
  const d = await openDoctor(choice, machine);
  try {
    const r = runDoctor(d.target, d.host, d.note);
    io.out(json ? JSON.stringify(r, null, 2) : printDoctor(r));
    return r.counts.fail > 0 ? 1 : 0;
  } finally {
    d.dispose();
  }
}

/** One reading (--once), or the live view until the user stops it. */
async function showTop(ctx: Ctx, interval: number, read: () => TopSnapshot | Promise<TopSnapshot>): Promise<number> {
  const { values, json, io } = ctx;
  if (values.once === true) {
    const snap = await read();
    io.out(json ? JSON.stringify(snap, null, 2) : formatTop(snap));
    return 0;
  }
  const stop = io.stop();
  try {
    const tty = io.isTTY && !json;
    await topLoop(read, { interval, json, write: (s) => io.write(tty ? s : s.replace(CLEAR, '')), width: () => (tty ? io.columns() : undefined), signal: stop.signal });
  } finally {
    stop.dispose();
  }
  return 0;
}

async function top(ctx: Ctx): Promise<number> {
  const { values } = ctx;
  const intervalText = str(values, 'interval');
  if (values.once === true && intervalText !== undefined) throw new UsageError('--interval applies to the live view; --once prints one reading', 'leave out --once for a reading every --interval ms, or --interval for one reading');
  const interval = intervalText === undefined ? 1000 : parseInteger(intervalText, '--interval', { noun: 'a number of milliseconds', min: 100, max: 86_400_000, note: '(one day)' });
  const attach = attachOf(ctx);
  if (attach !== undefined) return showTop(ctx, interval, async () => (await attachRequest(attach, { op: 'top' })) as TopSnapshot);
  const choice = backendFor(values);
  const f = openFiles(choice, machineOf(ctx));
  if (values['demo-workload'] === true && f.kernel !== null) runDemoWorkload(f.kernel);
  const board = str(values, 'board');
  const label = f.kind === 'emulated' && board !== undefined ? `${f.label}, board ${board}` : f.label;
  const read = () => topSnapshot(f.fs, { machine: label, backend: f.kind, note: f.note });
  try {
    return await showTop(ctx, interval, read);
  } finally {
    f.target?.dispose();
  }
}

async function alloc(ctx: Ctx): Promise<number> {
  const { values, positionals, json, io } = ctx;
  const [heap, sizeText, extra] = positionals;
  if (heap === undefined || sizeText === undefined) throw new UsageError('alloc needs a heap and a size, e.g. dmaheap alloc system 1M');
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  const size = parseSize(sizeText, '<size>');
  const choice = backendFor(values);
  const machine = machineOf(ctx);
  const o = await openTarget(choice, machine);
  const name = str(values, 'name');
  const { result, buffer, client } = runAlloc(o, heap, size, name !== undefined ? { name } : {});
  try {
    io.out(json ? JSON.stringify(result, null, 2) : printAlloc(result));
    if (values.hold === true) {
      io.err(`holding ${buffer.size} bytes as fd ${result.fd} of pid ${result.pid}${o.kind === 'emulated' ? ' (in the emulated kernel inside this process)' : ` (see /proc/${result.pid}/fdinfo/${result.fd}, or dmaheap top)`}; Ctrl-C releases it`);
      const stop = io.stop();
      try {
        if (!stop.signal.aborted) await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      } finally {
        stop.dispose();
      }
    }
    buffer.close();
    if (!json) io.out(`released: fd ${result.fd} closed, the memory goes back to ${heap}`);
  } finally {
    client.close();
  }
  return 0;
}

const HANDLERS = new Map<CommandSpec, (ctx: Ctx) => Promise<number>>([
  [DEMO, demo],
  [HEAPS, heaps],
  [LINT_NAMES, lintNames],
  [DUMP, dump],
  [DOCTOR, doctor],
  [TOP, top],
  [ALLOC, alloc],
  [RUN, runNative],
  [SIMULATE, (ctx) => simulateCommand(ctx.values, ctx.positionals, ctx.json, ctx.io)],
  [DASHBOARD, dashboard],
]);

async function dashboard(ctx: Ctx): Promise<number> {
  const v = ctx.values;
  const given = EMULATED_ONLY.filter((k) => k !== 'demo-workload' && v[k] !== undefined).map((k) => k as string);
  return dashboardCommand(
    {
      backend: str(v, 'backend'),
      attach: attachOf(ctx),
      workload: str(v, 'workload'),
      port: str(v, 'port'),
      host: str(v, 'host'),
      token: str(v, 'token'),
      open: v.open === true,
      sanitize: v.sanitize === true,
      demoWorkload: v['demo-workload'] === true,
      machine: () => machineOf(ctx),
      machineFor: (w) => {
        const m = simMachine(v, w);
        ctx.io.onMachine?.(m);
        return m;
      },
      speed: str(v, 'speed'),
      machineGiven: given,
      board: str(v, 'board'),
    },
    ctx.json,
    ctx.io,
  );
}

async function runNative(ctx: Ctx): Promise<number> {
  const [program, ...args] = ctx.positionals;
  if (program === undefined) throw new UsageError('no program to run', 'dmaheap run [options] -- <program> [args...]');
  const trace = str(ctx.values, 'trace');
  const preload = str(ctx.values, 'preload');
  return runCommand({ machine: machineOf(ctx), program, args, sanitize: ctx.values.sanitize === true, ...(trace !== undefined ? { trace } : {}), ...(preload !== undefined ? { preload } : {}), stats: ctx.values.stats === true, json: ctx.json }, ctx.io);
}

/** Runs `dmaheap <argv...>`; returns the exit status. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  // the arguments of the program `dmaheap run` starts are not ours (its --json is its own)
  const json = wantsJson(cmd === 'run' ? ['run', ...splitRunArgv(rest).own] : argv);
  let spec: CommandSpec | null = null;
  try {
    switch (cmd) {
      case undefined:
        io.err(USAGE);
        return 2;
      case '--help':
      case '-h':
      case 'help': {
        // dmaheap help <command>: that command's help
        const topic = cmd === 'help' ? rest.filter((a) => a !== '--json').join(' ') : '';
        if (topic === '') {
          io.out(USAGE);
          return 0;
        }
        const c = COMMANDS.find((x) => x.name === topic || (topic === 'conformance' && x.name === 'conformance run'));
        if (c === undefined) throw new UsageError(`no command '${topic}'`, `the commands are ${COMMANDS.map((x) => x.name).join(', ')}`);
        io.out(helpText(c));
        return 0;
      }
      case '--version':
      case '-V':
        io.out(json ? JSON.stringify({ version: version() }) : version());
        return 0;
      case 'conformance':
        return await conformanceMain(rest, { out: (s) => io.out(s), err: (s) => io.err(s), ...(io.onMachine !== undefined ? { onMachine: (m: EmulatedOptions) => io.onMachine?.(m) } : {}) }, COMMANDS);
      default:
        break;
    }
    spec = COMMANDS.find((c) => c.name === cmd) ?? null;
    const handler = spec === null ? undefined : HANDLERS.get(spec);
    if (spec === null || handler === undefined) {
      const names = [...HANDLERS.keys()].map((c) => c.name).concat('conformance');
      if (cmd.startsWith('-')) throw new UsageError(`'${cmd}' is not a command: options go after the command (dmaheap <command> [options])`, `the commands are ${names.join(', ')}`);
      throw new UsageError(`unknown command '${cmd}'`, `the commands are ${names.join(', ')}`);
    }
    // `dmaheap run [options] -- program args`: the program's arguments are not ours to parse
    const split = spec === RUN ? splitRunArgv(rest) : { own: rest, program: [] };
    const parsed = parseCommand(spec, split.own, COMMANDS);
    const values = parsed.values;
    const positionals = [...parsed.positionals, ...split.program];
    if (values.help === true) {
      io.out(helpText(spec));
      return 0;
    }
    return await handler({ values, positionals, json, io });
  } catch (e) {
    return reportError(e, { json, prefix: spec === null ? 'dmaheap' : `dmaheap ${spec.name}`, usageHint: usageHint(spec), out: (s) => io.out(s), err: (s) => io.err(s) });
  }
}

/** The process's stdout and stderr; Ctrl-C (SIGINT) or SIGTERM stops top and alloc --hold. */
export function processIo(): CliIo {
  let guarded = false;
  const guard = () => {
    if (guarded) return;
    guarded = true;
    // `dmaheap ... | head` closes the pipe early: stop quietly
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  };
  return {
    out: (s) => {
      guard();
      process.stdout.write(`${s}\n`);
    },
    err: (s) => process.stderr.write(`${s}\n`),
    write: (s) => {
      guard();
      process.stdout.write(s);
    },
    isTTY: process.stdout.isTTY === true,
    columns: () => process.stdout.columns,
    ...(process.stderr.isTTY === true ? { progress: (line: string | null) => process.stderr.write(line === null ? '\r\x1b[K' : `\r${line}\x1b[K`) } : {}),
    stop: () => {
      const ac = new AbortController();
      const abort = () => ac.abort();
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
      // signal listeners do not keep Node running: a timer does until the signal comes
      const keepAlive = setInterval(() => undefined, 1 << 30);
      ac.signal.addEventListener('abort', () => clearInterval(keepAlive), { once: true });
      return {
        signal: ac.signal,
        dispose: () => {
          clearInterval(keepAlive);
          process.off('SIGINT', abort);
          process.off('SIGTERM', abort);
        },
      };
    },
  };
}
