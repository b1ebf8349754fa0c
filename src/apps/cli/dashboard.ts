/**
 * `dmaheap dashboard`: picks the source (an emulated machine, a running `dmaheap run`, this
 * machine's kernel), starts the server (src/apps/dashboard/server.ts), prints where it is and
 * serves until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { createEmulatedTarget } from '../../backends/emulated/index.js';
import { CliError, parseInteger, UsageError } from '../common/args.js';
import { onPath } from '../common/host-path.js';
import { emulatedLabel, hostDmabufFs, hostFiles } from '../common/backend.js';
import { emulatedSource, runSource } from '../dashboard/sources.js';
import type { DashboardSource, DashState } from '../dashboard/sources.js';
import { linuxSource } from '../dashboard/linux.js';
import { startDashboard } from '../dashboard/server.js';
import type { CliIo } from './run.js';
import type { Kernel } from '../../kernel/kernel.js';
import { SimRunner } from '../sim/engine.js';
import type { Workload } from '../sim/workload.js';
import { LiveWorkload } from '../dashboard/live-workload.js';
import { loadWorkload } from './simulate.js';
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
  /** The machine of a workload: the command line's options, then the workload's `machine` (simulate's rule). */
  readonly machineFor: (w: Workload) => EmulatedOptions;
  /** --speed: simulated time per wall time for --workload (default 1). */
  readonly speed: string | undefined;
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
    const speed = c.speed === undefined ? 1 : Number(c.speed);
    if (c.speed !== undefined && (!/^\d+(\.\d+)?$/.test(c.speed) || !(speed >= 0.001 && speed <= 100_000))) throw new UsageError(`--speed: '${c.speed}' is not a speed`, 'simulated time per wall time, from 0.001 to 100000 (1: real time, 60: a minute a second)');
    if (c.speed !== undefined && c.workload === undefined) throw new UsageError('--speed applies to a --workload', 'give --workload <file>, or leave out --speed');
    const sanitize = (m: EmulatedOptions): EmulatedOptions => (c.sanitize ? { ...m, sanitizer: { captureStacks: false } } : m);
    let live: LiveWorkload | null = null;
    let kernel: Kernel;
    let dispose: () => void;
    if (c.workload !== undefined) {
      const workload = loadWorkload(c.workload);
      const runner = new SimRunner(workload, { machine: sanitize(c.machineFor(workload)), boardLabel: c.board ?? workload.machine.board });
      live = new LiveWorkload(workload.name, runner, { speed });
      kernel = runner.kernel;
      // the workload moves with the wall clock whether or not a page is open
      const timer = setInterval(() => live?.tick(), 100);
      dispose = () => {
        clearInterval(timer);
        runner.shutdown();
      };
    } else {
      const t = createEmulatedTarget(sanitize(c.machine()));
      kernel = t.kernel;
      dispose = () => t.dispose();
    }
    if (c.demoWorkload) runDemoWorkload(kernel);
    label = `${emulatedLabel(kernel)}${c.board !== undefined ? `, board ${c.board}` : ''}${c.sanitize ? ', sync sanitizer on' : ''}${live !== null ? `, workload ${live.name} at ${speed}× real time` : ''}`;
    const lw = live;
    const s = emulatedSource(kernel, {
      label,
      ...(lw !== null
        ? {
            workload: () => lw.state,
            workloadControls: {
              pause: () => (lw.pause(), lw.state),
              resume: () => (lw.resume(), lw.state),
              step: (us: number) => (lw.step(us), lw.state),
            },
          }
        : {}),
    });
    const first = s.snapshot(0) as DashState;
    count = { buffers: first.buffers.length, processes: first.processes.length };
    source = { ...s, close: dispose };
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
