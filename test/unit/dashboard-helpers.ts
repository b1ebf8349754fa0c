/**
 * The live dashboard the browser tests (Chromium, Firefox) drive: the real server over an
 * emulated kernel (`cma=32M`) running a small workload, paused at 1 s: a camera with four 3 MiB
 * previews shared with a display, the display's two scan-outs, an encoder's 1 MiB bitstreams.
 */
import { LiveWorkload } from '../../src/apps/dashboard/live-workload.js';
import { startDashboard } from '../../src/apps/dashboard/server.js';
import type { Dashboard } from '../../src/apps/dashboard/server.js';
import { emulatedSource } from '../../src/apps/dashboard/sources.js';
import { SimRunner } from '../../src/apps/sim/engine.js';
import { parseWorkload } from '../../src/apps/sim/workload.js';
import type { Kernel } from '../../src/kernel/kernel.js';

export const LIVE_WORKLOAD = `name: live
duration: 10s
sample: 100ms
processes:
  - name: camera
    streams:
      - { name: preview, heap: reserved, size: 3M, count: 4, fps: 30, share: [display] }
  - name: display
    streams:
      - { name: scanout, heap: system, size: 2M, count: 2 }
  - name: encoder
    streams:
      - { name: bits, heap: reserved, size: 1M, mode: churn, fps: 10, hold: 3 }
`;

export interface LiveDashboard {
  readonly dash: Dashboard;
  readonly live: LiveWorkload;
  readonly kernel: Kernel;
  /** Stops the server and ends the workload's processes. */
  close(): Promise<void>;
}

export async function startLiveDashboard(): Promise<LiveDashboard> {
  const runner = new SimRunner(parseWorkload(LIVE_WORKLOAD, 'live.yaml'), { machine: { cmdline: 'cma=32M' } });
  const live = new LiveWorkload('live', runner, { paused: true, clock: () => 0 });
  live.step(1_000_000);
  const source = emulatedSource(runner.kernel, {
    label: 'emulated test machine',
    workload: () => live.state,
    workloadControls: { pause: () => (live.pause(), live.state), resume: () => (live.resume(), live.state), step: (us: number) => (live.step(us), live.state) },
  });
  const dash = await startDashboard({ source, warn: () => undefined });
  return {
    dash,
    live,
    kernel: runner.kernel,
    close: async () => {
      await dash.close();
      runner.shutdown();
    },
  };
}
