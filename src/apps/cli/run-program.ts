/**
 * `dmaheap run`: a native program on the emulated kernel (src/backends/run, docs/run.md).
 */
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { RunError, choosePreload, hostGlibcVersion, runProgram } from '../../backends/run/index.js';
import type { RunResult } from '../../backends/run/index.js';
import { formatSanitizerReport } from '../../kernel/index.js';
import { CliError, UsageError } from '../common/args.js';
import type { CliIo } from './run.js';
import { serveAttach } from './run-attach.js';

export interface RunCommand {
  readonly machine: EmulatedOptions;
  readonly program: string;
  readonly args: readonly string[];
  readonly sanitize: boolean;
  readonly trace?: string;
  /** --preload, else DMAHEAP_PRELOAD, else auto: `auto`, `off` or the fast path's shim. */
  readonly preload?: string;
  readonly stats: boolean;
  readonly json: boolean;
}

/** `dmaheap run` splits its own options from the program's at `--` (or at the program's name). */
export function splitRunArgv(argv: readonly string[]): { own: string[]; program: string[] } {
  const dd = argv.indexOf('--');
  if (dd >= 0) return { own: argv.slice(0, dd), program: argv.slice(dd + 1) };
  return { own: [...argv], program: [] };
}

/** Runs the program; returns its exit status. */
export async function runCommand(c: RunCommand, io: CliIo): Promise<number> {
  if (c.program === '') throw new UsageError('no program to run', 'dmaheap run [options] -- <program> [args...]');
  const env = process.env['DMAHEAP_PRELOAD'];
  const choice = choosePreload(c.preload ?? env ?? 'auto', c.program, hostGlibcVersion());
  const preload = choice.shim ?? undefined;
  let result: RunResult;
  const session: { attach: { close(): void } | null } = { attach: null };
  try {
    result = await runProgram({
      // the program's own stacks are native: the emulator's would only show the supervisor
      machine: c.sanitize ? { ...c.machine, sanitizer: { captureStacks: false } } : c.machine,
      program: c.program,
      args: c.args,
      ...(c.trace !== undefined ? { trace: c.trace } : {}),
      ...(preload !== undefined ? { preload } : {}),
      warn: (l) => io.err(l),
      onStart: ({ kernel }) => {
        session.attach = serveAttach(kernel, `emulated Linux ${kernel.profile.release} (profile ${kernel.profile.name}), dmaheap run ${c.program}`, (l) => io.err(l));
      },
    });
  } catch (e) {
    if (e instanceof RunError) throw new CliError('run', e.message, e.hint, 125);
    throw e;
  } finally {
    session.attach?.close();
  }
  const san = result.kernel.sanitizer;
  if (san !== null) {
    const reports = [...san.check(), ...san.reports()];
    for (const r of reports) io.err(`dmaheap run: sanitizer: ${formatSanitizerReport(r)}`);
    if (reports.length === 0) io.err('dmaheap run: sanitizer: no findings (every CPU access the program made to a buffer was inside a SYNC bracket)');
  }
  if (result.leakedBuffers > 0) io.err(`dmaheap run: ${result.leakedBuffers} buffer(s) still hold memory after the program exited (a bug in dmaheap run: please report it)`);
  if (c.stats) {
    const s = { status: result.status, signal: result.signal, calls: result.counts, leakedBuffers: result.leakedBuffers, preload: { shim: choice.shim, why: choice.why }, helper: result.helper };
    io.err(c.json ? JSON.stringify(s) : `dmaheap run: status ${s.status}${s.signal !== null ? ` (${s.signal})` : ''}; calls served ${s.calls.served}, mirrored ${s.calls.mirrored}, run natively ${s.calls.continued} (the notification helper answered ${s.calls.helper} of these ${s.calls.served + s.calls.continued} calls itself), replayed from the fast path's log ${s.calls.logged}, ALLOCs on the shim's memfd ${s.calls.fastAllocs}; buffers left ${s.leakedBuffers}; fast path ${choice.shim === null ? 'off' : 'on'} (${choice.why})`);
  }
  return result.status;
}
