/**
 * `dmaheap dashboard`: picks the source (an emulated machine, a running `dmaheap run`, this
 * machine's kernel), starts the server (src/apps/dashboard/server.ts), prints where it is and
 * serves until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { createEmulatedTarget } from '../../backends/emulated/index.js';
import { CliError, parseInteger, UsageError } from '../common/args.js';
import { emulatedLabel, hostDmabufFs, hostFiles } from '../common/backend.js';
import { emulatedSource, runSource } from '../dashboard/sources.js';
import type { DashboardSource, DashState } from '../dashboard/sources.js';
import { linuxSource } from '../dashboard/linux.js';
import { startDashboard } from '../dashboard/server.js';
import type { CliIo } from './run.js';
import { runDemoWorkload } from './dump.js';

export interface DashboardCommand {
  readonly backend: string | undefined;
  readonly attach: string | undefined;
  readonly workload: string | undefined;
  readonly port: string | undefined;
  readonly host: string | undefined;
  readonly token: string | undefined;
  readonly open: boolean;
  readonly sanitize: boolean;
  readonly demoWorkload: boolean;
  /** The emulated machine (only booted for the emulated source). */
  readonly machine: () => EmulatedOptions;
  /** Which machine options were given (refused with --attach and --backend linux). */
  readonly machineGiven: readonly string[];
  readonly board: string | undefined;
}

function onPath(cmd: string): string | null {
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    if (d !== '' && existsSync(join(d, cmd))) return join(d, cmd);
  }
  return null;
}

export async function dashboardCommand(c: DashboardCommand, json: boolean, io: CliIo): Promise<number> {
  const backend = c.backend ?? 'emulated';
  if (backend !== 'emulated' && backend !== 'linux') throw new UsageError(`--backend: '${backend}' is not a dashboard backend`, 'emulated (the machine options) or linux (this machine, read-only)');
  const port = c.port === undefined ? 0 : parseInteger(c.port, '--port', { noun: 'a TCP port', min: 0, max: 65535, note: '(0: a free one)' });
  if (c.host !== undefined && (c.host === '' || c.host.length > 255 || /[\s/]/.test(c.host))) throw new UsageError(`--host: '${c.host.slice(0, 80)}' is not an address`, 'an IP address or host name to listen on, e.g. 0.0.0.0');
  if (c.token !== undefined && !/^[\w.~-]{16,256}$/.test(c.token)) throw new UsageError('--token: a token is 16 to 256 characters of A-Z a-z 0-9 . _ ~ -', 'leave it out and one is generated');
  const emulatedOnly = [...c.machineGiven, ...(c.sanitize ? ['sanitize'] : []), ...(c.demoWorkload ? ['demo-workload'] : []), ...(c.workload !== undefined ? ['workload'] : [])];
  let source: DashboardSource;
  let label: string;
  let count: { buffers: number; processes: number };
  if (c.attach !== undefined) {
    if (c.backend !== undefined || emulatedOnly.length > 0) throw new UsageError(`--${c.backend !== undefined ? 'backend' : emulatedOnly[0]!} does not apply with --attach: the run has its own machine`, 'leave it out');
    source = runSource(c.attach);
    // the run must answer now: a dashboard of nothing is not started
    const first = await source.snapshot(0);
    label = first.source.label;
    count = { buffers: first.buffers.length, processes: first.processes.length };
  } else if (backend === 'linux') {
    if (emulatedOnly.length > 0) throw new UsageError(`--${emulatedOnly[0]!} applies to the emulated machine; with --backend linux the machine is this one`, `leave out --${emulatedOnly[0]!}, or use --backend emulated`);
    if (process.platform !== 'linux') throw new UsageError(`--backend linux: this is ${process.platform}, not Linux`, 'use --backend emulated');
    source = linuxSource({ fs: hostDmabufFs, files: hostFiles });
    const first = source.snapshot(0) as DashState;
    label = first.source.label;
    count = { buffers: first.buffers.length, processes: first.processes.length };
  } else {
    const m = c.machine();
    const t = createEmulatedTarget(c.sanitize ? { ...m, sanitizer: { captureStacks: false } } : m);
    if (c.demoWorkload) runDemoWorkload(t.kernel);
    label = `${emulatedLabel(t.kernel)}${c.board !== undefined ? `, board ${c.board}` : ''}${c.sanitize ? ', sync sanitizer on' : ''}`;
    // --workload: the lead's workload runner takes c.workload (a path); until then it is named only
    if (c.workload !== undefined && !existsSync(c.workload)) throw new UsageError(`--workload: ${c.workload}: no such file`, 'give a workload file (docs/simulate.md)');
    const s = emulatedSource(t.kernel, { label });
    const first = s.snapshot(0) as DashState;
    count = { buffers: first.buffers.length, processes: first.processes.length };
    source = { ...s, close: () => t.dispose() };
  }
  let dash;
  try {
    dash = await startDashboard({ source, port, ...(c.host !== undefined ? { host: c.host } : {}), ...(c.token !== undefined ? { token: c.token } : {}), warn: (l) => io.err(l) });
  } catch (e) {
    source.close?.();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new CliError('listen', `port ${port} on ${c.host ?? '127.0.0.1'} is taken`, 'give another --port, or leave it out for a free one');
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EACCES') throw new CliError('listen', `cannot listen on ${c.host ?? '127.0.0.1'}:${port} (${err.code})`, err.code === 'EACCES' ? 'ports below 1024 need root: give a higher --port' : 'give an address of this machine with --host');
    throw e;
  }
  const stop = io.stop();
  try {
    if (json) io.out(JSON.stringify({ url: dash.url, source: { kind: source.kind, label, readOnly: source.controls === undefined, buffers: count.buffers, processes: count.processes } }));
    else {
      io.out(`dmaheap dashboard: ${dash.url}`);
      io.out(`showing ${label}${source.controls === undefined ? ' (read-only)' : ''}: ${count.buffers} buffer${count.buffers === 1 ? '' : 's'} in ${count.processes} process${count.processes === 1 ? '' : 'es'} now; Ctrl-C stops it`);
      if (c.workload !== undefined) io.err(`note: --workload ${c.workload}: the workload runner is not wired yet; the machine runs no workload`);
    }
    if (c.open && io.openUrl !== undefined) io.openUrl(dash.url);
    else if (c.open) {
      const opener = onPath('xdg-open');
      if (opener === null) io.err(`--open: no xdg-open on this machine; open ${dash.url} in a browser`);
      else {
        const child = spawn(opener, [dash.url], { stdio: 'ignore', detached: true });
        child.on('error', (e) => io.err(`--open: ${e.message}; open ${dash.url} in a browser`));
        child.unref();
      }
    }
    if (!stop.signal.aborted) await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    stop.dispose();
    await dash.close();
  }
  return 0;
}
