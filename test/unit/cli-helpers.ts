/**
 * Runs the CLI in this process with captured output: what `dmaheap <argv>` prints on stdout
 * (`out`, with `write`) and stderr (`err`), and its exit status. Nothing is a TTY, the width is
 * unknown, and a command that waits for a signal (alloc --hold) is stopped at once.
 */
import { runCli } from '../../src/apps/cli/run.js';
import type { CliIo } from '../../src/apps/cli/run.js';

export async function runCaptured(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    write: (s) => out.push(s),
    isTTY: false,
    columns: () => undefined,
    stop: () => ({ signal: AbortSignal.abort(), dispose: () => undefined }),
  };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
