/**
 * How every command reports an error (docs/tools.md, "Errors"): in text, `dmaheap <command>:
 * <message>` and a `hint:` line on stderr; with `--json`, one object
 * `{"error": {"code", "message", "hint"}}` on stdout, where the output would have been, and
 * nothing on stderr. The exit status is 2 when the command line (or a file it names) is wrong, 1
 * when the command ran and failed, 70 for a bug in dmaheap.
 */
import { ErrnoError } from '../../api/errors.js';
import { CliError } from './args.js';

/** The error object of `--json` output. */
export interface CliErrorJson {
  readonly error: {
    /** `usage`, `board`, `config`, `backend`, `internal`, or the errno name of a failed system call (`ENOENT`, `EACCES`, …). */
    readonly code: string;
    readonly message: string;
    /** What to do next; null when there is nothing to add. */
    readonly hint: string | null;
  };
}

export interface Described {
  readonly code: string;
  readonly message: string;
  readonly hint: string | null;
  readonly exitCode: 1 | 2 | 70 | 125;
  /** For a bug: the stack, printed on stderr in either mode. */
  readonly stack: string | null;
}

/** Any thrown value as an error report. `usageHint` is the hint of usage errors that carry none. */
export function describeError(e: unknown, usageHint: string): Described {
  if (e instanceof CliError) return { code: e.code, message: e.message, hint: e.hint ?? (e.code === 'usage' ? usageHint : null), exitCode: e.exitCode, stack: null };
  if (e instanceof ErrnoError) return { code: e.code, message: e.summary, hint: e.hint ?? null, exitCode: 1, stack: null };
  if (e instanceof Error && e.name === 'BackendError') {
    return { code: 'backend', message: e.message, hint: 'dmaheap doctor says why this machine cannot be used and what to do; --backend emulated runs the command on an emulated machine', exitCode: 1, stack: null };
  }
  if (e instanceof Error && e.name === 'KernelConfigError') {
    return { code: 'config', message: `the emulated kernel cannot boot this machine: ${e.message}`, hint: 'change the machine options (docs/tools.md lists them)', exitCode: 2, stack: null };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'internal', message: `internal error: ${message}`, hint: 'this is a bug in dmaheap: please report it with the command line that caused it', exitCode: 70, stack: e instanceof Error ? (e.stack ?? null) : null };
}

/** Prints `e` as the command's output (json) or on stderr (text); returns the exit status. */
export function reportError(e: unknown, opts: { json: boolean; prefix: string; usageHint: string; out: (s: string) => void; err: (s: string) => void }): number {
  const d = describeError(e, opts.usageHint);
  if (opts.json) {
    const j: CliErrorJson = { error: { code: d.code, message: d.message, hint: d.hint } };
    opts.out(JSON.stringify(j, null, 2));
  } else {
    opts.err(`${opts.prefix}: ${d.message}${d.hint !== null ? `\nhint: ${d.hint}` : ''}`);
  }
  if (d.stack !== null) opts.err(d.stack);
  return d.exitCode;
}

/** Whether the command line asks for JSON (`--json` before any `--`): then errors are JSON too, even usage errors. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}
