/**
 * `dmaheap top --attach` and `dmaheap dump --attach`: the view of a running `dmaheap run`.
 *
 * Each `dmaheap run` listens on a Unix socket in a directory only its user can enter
 * ($XDG_RUNTIME_DIR/dmaheap, else /tmp/dmaheap-<uid>, mode 0700), named after its pid. A client
 * sends one JSON line ({"op": "dump" | "top", "pids"?: [...]}) and reads one JSON line back: the
 * report, computed in the running emulated kernel by the same code `dmaheap dump` and `top` use
 * on a machine of their own (its mirrors of the program's processes are the processes shown).
 * The socket answers between two of the program's calls (the supervisor gives the event loop a
 * turn at least every 50 ms and every 64 calls), and goes with the run.
 */
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedTarget } from '../../backends/emulated/index.js';
import type { Kernel } from '../../kernel/index.js';
import { dmabufFsOf, readDmabufInfo } from '../../api/dmabuf-info.js';
import { CliError } from '../common/args.js';
import type { DumpResult } from './dump.js';
import { topSnapshot } from './top.js';
import type { TopSnapshot } from './top.js';

/** Largest request or answer line read (bytes): a report of thousands of processes fits. */
const MAX_LINE = 64 << 20;

/** Where the sessions' sockets are (made 0700 when missing). */
export function runtimeDir(): string {
  const xdg = process.env['XDG_RUNTIME_DIR'];
  return xdg !== undefined && xdg !== '' ? join(xdg, 'dmaheap') : join(tmpdir(), `dmaheap-${process.getuid?.() ?? 0}`);
}

export function sessionSocket(pid: number = process.pid, dir: string = runtimeDir()): string {
  return join(dir, `run-${pid}.sock`);
}

export interface AttachRequest {
  readonly op: 'dump' | 'top';
  readonly pids?: readonly number[];
}

/** The answer to a request, computed on `kernel` (read by a process of its own). */
export function answerAttach(kernel: Kernel, label: string, req: AttachRequest): DumpResult | TopSnapshot {
  const t = new EmulatedTarget(kernel);
  try {
    const fs = dmabufFsOf(t);
    if (req.op === 'top') return topSnapshot(fs, { machine: label, backend: 'emulated' });
    const report = readDmabufInfo(fs, req.pids !== undefined ? { pids: req.pids } : {});
    return { kernel: kernel.profile.release, profile: kernel.profile.name, board: null, workload: null, report };
  } finally {
    t.dispose();
  }
}

function parseRequest(line: string): AttachRequest | null {
  try {
    const v = JSON.parse(line) as { op?: unknown; pids?: unknown };
    if (v.op !== 'dump' && v.op !== 'top') return null;
    if (v.pids !== undefined && (!Array.isArray(v.pids) || v.pids.length > 64 || !v.pids.every((p) => Number.isSafeInteger(p) && (p as number) > 0))) return null;
    return v.pids !== undefined ? { op: v.op, pids: v.pids as number[] } : { op: v.op };
  } catch {
    return null;
  }
}

/** Listens for attach requests until `close()`; null (with the reason given to `warn`) when it cannot. */
export function serveAttach(kernel: Kernel, label: string, warn: (l: string) => void): { readonly path: string; close(): void } | null {
  const dir = runtimeDir();
  const path = sessionSocket(process.pid, dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || (process.getuid !== undefined && st.uid !== process.getuid()) || (st.mode & 0o077) !== 0) {
      warn(`dmaheap run: ${dir} is not a private directory of this user; dmaheap top/dump --attach cannot reach this run`);
      return null;
    }
    if (existsSync(path)) rmSync(path);
  } catch (e) {
    warn(`dmaheap run: cannot make ${dir} (${e instanceof Error ? e.message : String(e)}); dmaheap top/dump --attach cannot reach this run`);
    return null;
  }
  const server: Server = createServer((sock) => {
    let acc = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (d: string) => {
      acc += d;
      if (acc.length > 4096) {
        sock.destroy();
        return;
      }
      const nl = acc.indexOf('\n');
      if (nl < 0) return;
      const req = parseRequest(acc.slice(0, nl));
      sock.end(JSON.stringify(req === null ? { error: 'bad request: send {"op": "dump" | "top", "pids"?: [...]} and a newline' } : answerAttach(kernel, label, req)) + '\n');
    });
  });
  server.on('error', (e) => warn(`dmaheap run: the attach socket ${path} failed: ${e.message}`));
  server.listen(path, () => {
    try {
      chmodSync(path, 0o600);
    } catch {
      // the directory is private anyway
    }
  });
  // the socket must not keep Node alive after the run
  server.unref();
  return {
    path,
    close: () => {
      server.close();
      rmSync(path, { force: true });
    },
  };
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
