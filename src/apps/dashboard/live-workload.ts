/**
 * A workload (src/apps/sim) running live on the dashboard's emulated machine: simulated time
 * follows the wall clock at `speed` (1: real time; 60: a minute a second), and can be paused,
 * resumed and stepped by hand. The machine is the runner's kernel; the dashboard reads it.
 */
import type { SimRunner } from '../sim/engine.js';
import type { DashWorkload } from './model.js';

export interface LiveWorkloadOptions {
  /** Simulated time per wall time (default 1). */
  readonly speed?: number;
  /** Wall clock in ms (default performance.now). */
  readonly clock?: () => number;
  /** Start paused (default false). */
  readonly paused?: boolean;
}

/** The largest step by hand: an hour of simulated time. */
export const MAX_STEP_US = 3_600_000_000;

export class LiveWorkload {
  private readonly speed: number;
  private readonly clock: () => number;
  private paused: boolean;
  /** Wall time (ms) at which simulated time `simAt` was reached, while running. */
  private wallAt: number;
  private simAt: number;

  constructor(
    readonly name: string,
    private readonly runner: SimRunner,
    opts: LiveWorkloadOptions = {},
  ) {
    this.speed = opts.speed ?? 1;
    this.clock = opts.clock ?? (() => performance.now());
    this.paused = opts.paused ?? false;
    this.wallAt = this.clock();
    this.simAt = runner.now;
  }

  /** Catches the simulation up with the wall clock (nothing while paused or done). */
  tick(): void {
    if (this.paused || this.runner.done) return;
    const target = this.simAt + (this.clock() - this.wallAt) * 1000 * this.speed;
    this.runner.advance(Math.min(target, this.runner.duration));
  }

  pause(): void {
    this.tick();
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.wallAt = this.clock();
    this.simAt = this.runner.now;
  }

  /** Advances `us` of simulated time at once (paused or not); returns the new time. */
  step(us: number): number {
    if (!(Number.isFinite(us) && us > 0 && us <= MAX_STEP_US)) throw new RangeError(`a step is 1 to ${MAX_STEP_US} µs of simulated time`);
    this.runner.advance(Math.min(this.runner.now + us, this.runner.duration));
    this.wallAt = this.clock();
    this.simAt = this.runner.now;
    return this.runner.now;
  }

  get state(): DashWorkload {
    return { name: this.name, now: this.runner.now, duration: this.runner.duration, paused: this.paused || this.runner.done, failures: this.runner.failures };
  }
}
