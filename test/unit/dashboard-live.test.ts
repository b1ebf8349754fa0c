/**
 * The dashboard end to end: the real server (src/apps/dashboard/server.ts) over an emulated
 * kernel running a workload (SimRunner, paused), the real page in headless Chromium. The page's
 * numbers are checked against the kernel's own files (debugfs bufinfo, /proc/<pid>/comm), then a
 * click goes process → buffer → its pages in the CMA map, and Step advances the workload.
 * Skipped with the reason without Chromium or playwright-core.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHROMIUM, loadPlaywright } from './browser-helpers.js';
import type { Playwright } from './browser-helpers.js';
import { startLiveDashboard } from './dashboard-helpers.js';

const pw = await loadPlaywright();


test('the dashboard in Chromium shows the kernel\'s own numbers, clicks through to a buffer\'s pages, and steps the workload', { skip: typeof pw === 'string' ? pw : false, timeout: 120_000 }, async () => {
  const { dash, live, kernel: k, close } = await startLiveDashboard();
  const { chromium } = pw as Playwright;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(dash.url);
    // the kernel's own list: debugfs bufinfo (inode and size per buffer)
    const bufinfo = k.readFile(k.findProcess(1)!, '/sys/kernel/debug/dma_buf/bufinfo');
    assert.equal(typeof bufinfo, 'string');
    const rows = (bufinfo as string).split('\n').filter((l) => /^\d{8}\s/.test(l));
    const total = rows.length;
    await page.locator('#buf-count', { hasText: `${total} buffers` }).waitFor();
    assert.equal(total, 4 + 2 + 3, 'four previews, two scan-outs, three bitstream buffers at 1 s');
    // each buffer's size as the page shows it against bufinfo's (size in bytes, 8 columns: size flags mode count exp_name ino name)
    const sizeOf = new Map(rows.map((l) => {
      const f = l.trim().split(/\s+/);
      return [Number(f[5]), Number(f[0])];
    }));
    await page.locator('#buf-head button[data-key="ino"]').click();
    const shown = await page.locator('#buf-rows .row:not([hidden])').evaluateAll((rs) => rs.map((r) => (r as unknown as { dataset: { ino: string } }).dataset.ino));
    assert.deepEqual(shown.map(Number).sort((x, y) => x - y), [...sizeOf.keys()].sort((x, y) => x - y));
    assert.equal(await page.locator('#workload').textContent(), 'workload live: 0:01 of 0:10 (paused), 0 failed allocations');
    // process → its buffers
    const camera = [...k.processes.values()].find((p) => p.comm === 'camera')!;
    await page.locator(`#procs tr[data-pid="${camera.pid}"]`).click();
    await page.locator('#buf-count', { hasText: `4 of ${total} buffers` }).waitFor();
    // buffer → its pages in the CMA map
    const first = await page.locator('#buf-rows .row:not([hidden])').first().getAttribute('data-ino');
    await page.locator(`#buf-rows .row:not([hidden])[data-ino="${first}"]`).click();
    assert.match((await page.locator('#d-title').textContent()) ?? '', new RegExp(`^inode ${first} "preview"$`));
    const hl = await page.locator('.area[data-area="reserved"] canvas').getAttribute('data-highlight');
    assert.match(hl ?? '', /^\d+-\d+$/);
    const [a, b] = hl!.split('-').map(Number);
    assert.equal(b! - a! + 1, 768, 'a 3 MiB buffer holds 768 pages');
    assert.deepEqual(await page.locator('#d-refs tbody tr td:first-child').allTextContents(), [String(camera.pid), String([...k.processes.values()].find((p) => p.comm === 'display')!.pid)]);
    // Step: the workload advances by what the field says (the page posts it, the server steps)
    await page.locator('#wl-step-us').fill('500000');
    await page.locator('#wl-step').click();
    await page.locator('#workload', { hasText: 'workload live: 0:01 of 0:10' }).waitFor();
    await page.waitForFunction('window.__dash.updates > 1');
    assert.equal(live.state.now, 1_500_000);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await close();
  }
});
