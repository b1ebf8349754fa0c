// The dashboard's live workload (src/apps/dashboard/live-workload.ts): simulated time follows a
// wall clock (here a fake one) at a speed, pauses, resumes and steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveWorkload } from '../../src/apps/dashboard/live-workload.js';
import { SimRunner } from '../../src/apps/sim/engine.js';
import { parseWorkload } from '../../src/apps/sim/workload.js';

test('a live workload follows the clock at its speed, pauses, resumes and steps', () => {
  const w = parseWorkload('duration: 10s\nsample: 100ms\nprocesses:\n  - name: cam\n    streams:\n      - { name: raw, heap: reserved, size: 1M, mode: churn, fps: 10, hold: 3 }\n', 'w.yaml');
  let now = 1000;
  const runner = new SimRunner(w, { machine: { cmdline: 'cma=16M' } });
  const live = new LiveWorkload('w', runner, { speed: 2, clock: () => now });
  now += 500; // 0.5 s of wall time at speed 2: 1 s simulated
  live.tick();
  assert.deepEqual(live.state, { name: 'w', now: 1_000_000, duration: 10_000_000, paused: false, failures: 0 });
  live.pause();
  now += 5000;
  live.tick();
  assert.equal(live.state.now, 1_000_000);
  assert.equal(live.state.paused, true);
  assert.equal(live.step(250_000), 1_250_000);
  live.resume();
  now += 250; // 0.5 s simulated
  live.tick();
  assert.equal(live.state.now, 1_750_000);
  assert.throws(() => live.step(0), /a step is 1 to 3600000000 µs of simulated time/);
  now += 1e6;
  live.tick();
  assert.deepEqual(live.state, { name: 'w', now: 10_000_000, duration: 10_000_000, paused: true, failures: 0 });
  runner.shutdown();
});
