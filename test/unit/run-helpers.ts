/**
 * `dmaheap run` from the tests: the CLI as a child process, and whether this host can run it at
 * all (Linux x86-64 or arm64 with seccomp user notification), as the reason a test skips.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const cli = join(repo, 'dist/src/apps/cli/main.js');

/** `dmaheap run <args>` with the environment plus `env`: its exit status (128 + 9 when killed), stdout and stderr. */
export function runDmaheapRun(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status ?? 128 + 9, out: r.stdout, err: r.stderr };
}

/**
 * `dmaheap run <args>` left running (stdin a pipe, to end it with), and the first line the
 * program prints (rejected if dmaheap run exits before): for attaching to a live run.
 */
export function startDmaheapRun(args: readonly string[]): { child: ChildProcessWithoutNullStreams; firstLine: Promise<string> } {
  const child = spawn(process.execPath, [cli, 'run', ...args], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
  const firstLine = new Promise<string>((resolveLine, reject) => {
    let acc = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      acc += d;
      if (acc.includes('\n')) resolveLine(acc.trim());
    });
    child.on('exit', (code) => reject(new Error(`dmaheap run exited ${code}`)));
  });
  return { child, firstLine };
}

/** Why `dmaheap run` cannot work here, or null. */
export const runUnsupported: string | null = (() => {
  if (process.platform !== 'linux') return `dmaheap run needs Linux (this is ${process.platform})`;
  if (process.arch !== 'x64' && process.arch !== 'arm64') return `dmaheap run needs x86-64 or arm64 (this is ${process.arch})`;
  const r = runDmaheapRun(['--', '/bin/true']);
  return r.status === 0 ? null : `dmaheap run does not work on this host: ${r.err.trim()}`;
})();
