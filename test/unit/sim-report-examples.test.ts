/**
 * The report of real engine runs (the shipped example workloads) in headless Chromium: what the
 * page shows agrees with the SimResult it was drawn from (failure rows and markers, heaps in the
 * legend, processes, the map's owners). Skipped with the reason without Chromium or
 * playwright-core. `DMAHEAP_SCREENSHOTS=1` also rewrites docs/img/simulate-example-*.png (the
 * whole examples, as shipped); without it the runs are shortened and nothing is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { simulate } from '../../src/apps/sim/engine.js';
import { renderReport } from '../../src/apps/sim/report-html.js';
import type { SimResult } from '../../src/apps/sim/result.js';
import { parseWorkload } from '../../src/apps/sim/workload.js';
import { CHROMIUM, loadPlaywright } from './browser-helpers.js';
import type { Playwright } from './browser-helpers.js';

const root = (p: string) => new URL(`../../../${p}`, import.meta.url).pathname;
const pw = await loadPlaywright();
const screenshots = process.env.DMAHEAP_SCREENSHOTS === '1';

/** The examples, shortened for the test (whole for the screenshots), with a fault that makes failures to show. */
const EXAMPLES: { file: string; machine: Record<string, unknown>; short: [string, string]; extra: string }[] = [
  { file: 'camera-display-codec.yaml', machine: { board: 'imx8mp', profile: '6.19' }, short: ['duration: 1h', 'duration: 2m'], extra: "faults:\n  - { kind: fail-alloc, heap: 'linux,cma', every: 2000, errno: ENOMEM }\n" },
  { file: 'app-launch-storm.yaml', machine: { profile: '6.12', cmdline: 'cma=256M', cmdlineGiven: true }, short: ['duration: 15m', 'duration: 1m'], extra: '' },
  { file: 'ml-inference.yaml', machine: { board: 'rk3588' }, short: ['duration: 10m', 'duration: 2m'], extra: '' },
];

function runExample(e: (typeof EXAMPLES)[number]): SimResult {
  const path = root(`examples/workloads/${e.file}`);
  let text = readFileSync(path, 'utf8');
  if (!screenshots) text = text.replace(e.short[0], e.short[1]);
  return simulate(parseWorkload(text + e.extra, `examples/workloads/${e.file}`), { machine: e.machine, boardLabel: (e.machine.board as string | undefined) ?? null });
}

test('the example workloads\' reports in Chromium show what their runs found', { skip: typeof pw === 'string' ? pw : false, timeout: 300_000 }, async () => {
  const { chromium } = pw as Playwright;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    for (const e of EXAMPLES) {
      const r = runExample(e);
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('request', (q) => problems.push(`request: ${q.url()}`));
      await page.setContent(renderReport([r]), { waitUntil: 'load' });
      const failures = Math.min(r.failures.length, 500);
      // the camera run has the injected failures to show; the others show none
      assert.equal(failures > 0, e.file === 'camera-display-codec.yaml', `${e.file}: ${failures} failures`);
      if (failures > 0) assert.equal(await page.locator('svg.heap-use path.failure-marker').count(), Math.min(failures, 300), `${e.file}: failure markers`);
      assert.equal(await page.locator('table.failures tbody tr').count(), failures, `${e.file}: failure rows`);
      if (failures === 0) assert.match((await page.locator('#failures').textContent()) ?? '', /No allocation failed in this run\./);
      const legend = await page.locator('.fig-heap-use .legend-item .name').allTextContents();
      for (const h of r.heaps.filter((x) => x.peakBytes > 0).slice(0, 10)) assert.ok(legend.includes(h.name), `${e.file}: ${h.name} in the heap legend (${legend.join(', ')})`);
      // every CMA area with an owner has its map, and the owners in its legend are the run's
      const maps = page.locator('.cma-map');
      assert.equal(await maps.count(), r.maps.length, `${e.file}: one map per CMA area`);
      const processes = (await page.locator('.fig-processes').textContent()) ?? '';
      for (const p of new Set(r.processes.map((x) => x.name.replace(/#\d+$/, '')))) assert.ok(processes.includes(p), `${e.file}: process ${p} in the per-process chart`);
      assert.deepEqual(problems, [], `${e.file}: console errors, page errors or requests`);
      if (screenshots) {
        mkdirSync(root('docs/img'), { recursive: true });
        const name = e.file.replace('.yaml', '');
        await page.screenshot({ path: root(`docs/img/simulate-example-${name}.png`), fullPage: false });
        await page.locator('#cma').screenshot({ path: root(`docs/img/simulate-example-${name}-cma.png`) });
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
