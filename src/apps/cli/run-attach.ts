/**
 * `dmaheap top --attach` and `dmaheap dump --attach`: the view of a running `dmaheap run`.
 *
 * Each `dmaheap run` listens on a Unix socket in a directory only its user can enter
 * ($XDG_RUNTIME_DIR/dmaheap, else /tmp/dmaheap-<uid>, mode 0700), named after its pid. A client
 * sends one JSON line ({"op": "dump" | "top" | "dashboard", "pids"?: [...]}) and reads one JSON line back: the
 * report (for `dashboard`: the state src/apps/dashboard/sources.ts emulatedSource reads), computed in the running emulated kernel by the same code `dmaheap dump` and `top` use
 * on a machine of their own (its mirrors of the program's processes are the processes shown).
 * The socket answers between two of the program's calls (the supervisor gives the event loop a
 * turn at least every 50 ms and every 64 calls), and goes with the run.
 */
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { EmulatedTarget } from '../../backends/emulated/index.js';
import type { Kernel } from '../../kernel/index.js';
import { dmabufFsOf, readDmabufInfo } from '../../api/dmabuf-info.js';
import { runtimeDir, sessionSocket } from '../common/attach.js';
import type { AttachRequest } from '../common/attach.js';
import { emulatedSource } from '../dashboard/sources.js';
import type { DashboardSource, DashState } from '../dashboard/sources.js';

/** When this process started serving (the dashboard's finding times count from it). */
const START = Date.now();
import type { DumpResult } from './dump.js';
import { topSnapshot } from './top.js';
import type { TopSnapshot } from './top.js';

export { attachPath, attachRequest, liveSessions, runtimeDir, sessionSocket } from '../common/attach.js';
export type { AttachRequest } from '../common/attach.js';

/** The answer to a request, computed on `kernel` (read by a process of its own). */
export function answerAttach(kernel: Kernel, label: string, req: AttachRequest, dash?: () => DashboardSource): DumpResult | TopSnapshot | DashState | Promise<DashState> {
  // the dashboard's state, by the emulated source the run keeps (read-only: its program owns the machine)
  if (req.op === 'dashboard') return (dash ?? (() => emulatedSource(kernel, { label, kind: 'run', readOnly: true })))().snapshot(Date.now() - START);
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
    if (v.op !== 'dump' && v.op !== 'top' && v.op !== 'dashboard') return null;
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
  let dash: DashboardSource | null = null;
  const dashOf = (): DashboardSource => (dash ??= emulatedSource(kernel, { label: `dmaheap run (pid ${process.pid}): ${label}`, kind: 'run', readOnly: true }));
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
      if (req === null) {
        sock.end(JSON.stringify({ error: 'bad request: send {"op": "dump" | "top" | "dashboard", "pids"?: [...]} and a newline' }) + '\n');
        return;
      }
      void Promise.resolve(answerAttach(kernel, label, req, dashOf)).then(
        (a) => sock.end(JSON.stringify(a) + '\n'),
        (e: unknown) => sock.end(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + '\n'),
      );
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

