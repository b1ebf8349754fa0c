/**
 * The client side of a running `dmaheap run`'s attach socket (src/apps/cli/run-attach.ts serves
 * it): where the sockets are, and one request/answer exchange. Here, not in src/apps/cli, so that
 * the dashboard (src/apps/dashboard, which the CLI imports) can attach to a run too.
 */
import { createConnection } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CliError } from './args.js';

/** Largest request or answer line read (bytes): a report of thousands of processes fits. */
export const MAX_LINE = 64 << 20;

/** Where the sessions' sockets are (made 0700 when missing). */
export function runtimeDir(): string {
  const xdg = process.env['XDG_RUNTIME_DIR'];
  return xdg !== undefined && xdg !== '' ? join(xdg, 'dmaheap') : join(tmpdir(), `dmaheap-${process.getuid?.() ?? 0}`);
}

export function sessionSocket(pid: number = process.pid, dir: string = runtimeDir()): string {
  return join(dir, `run-${pid}.sock`);
}

export interface AttachRequest {
  readonly op: 'dump' | 'top' | 'dashboard';
  readonly pids?: readonly number[];
}

/** The live sessions' pids (sockets in the runtime directory). */
export function liveSessions(dir: string = runtimeDir()): number[] {
  try {
    return readdirSync(dir).map((n) => /^run-(\d+)\.sock$/.exec(n)?.[1]).filter((x): x is string => x !== undefined).map(Number).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** `--attach <pid|socket>`: the socket's path. */
export function attachPath(where: string): string {
  if (/^\d+$/.test(where)) return sessionSocket(Number(where));
  return where;
}

/** Sends one request to a running `dmaheap run` and returns its answer. */
export function attachRequest(where: string, req: AttachRequest): Promise<unknown> {
  const path = attachPath(where);
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let acc = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d: string) => {
      acc += d;
      if (acc.length > MAX_LINE) sock.destroy(new Error('the answer is too long'));
    });
    sock.on('end', () => {
      try {
        const v = JSON.parse(acc) as { error?: string };
        if (typeof v.error === 'string') reject(new CliError('attach', `${where}: ${v.error}`));
        else resolve(v);
      } catch {
        reject(new CliError('attach', `${path}: the answer is not JSON`, 'is this a dmaheap run socket?'));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const live = liveSessions();
      reject(new CliError('attach', `cannot reach a dmaheap run at ${path} (${e.code ?? e.message})`, live.length > 0 ? `running sessions (dmaheap run pids): ${live.join(', ')}` : 'no dmaheap run is running for this user: start one with dmaheap run -- <program>'));
    });
  });
}
