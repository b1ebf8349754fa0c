/**
 * A worker thread of `dmaheap simulate --sweep` / `--compare-profiles`: runs one workload per
 * message on its own emulated kernel and posts the result back (plain data).
 */
import { parentPort } from 'node:worker_threads';
import { runOne } from './simulate.js';
import type { MachineOverride } from './simulate.js';
import type { Workload } from '../sim/workload.js';

interface Job {
  readonly id: number;
  readonly w: Workload;
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly over: MachineOverride;
  readonly seed: number | undefined;
}

parentPort?.on('message', (j: Job) => {
  try {
    parentPort?.postMessage({ id: j.id, result: runOne(j.w, j.values, j.over, j.seed) });
  } catch (e) {
    const err = e as { message?: string; hint?: string; code?: string };
    parentPort?.postMessage({ id: j.id, error: { message: err.message ?? String(e), ...(typeof err.hint === 'string' ? { hint: err.hint } : {}), ...(typeof err.code === 'string' ? { code: err.code } : {}) } });
  }
});
