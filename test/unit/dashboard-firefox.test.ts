/**
 * The dashboard's page and the simulation report in a real Firefox: Debian's firefox-esr (or
 * $FIREFOX, or `firefox` on the PATH), a stock build driven over WebDriver BiDi by puppeteer-core.
 * The dashboard test runs the real server (src/apps/dashboard/server.ts) over an emulated kernel
 * with a paused workload, as dashboard-live.test.ts does in Chromium, and checks what the page
 * shows against the kernel's own files, clicks process → buffers → a buffer's pages, and presses
 * Step; the report test loads renderReport's document (the synthetic camera run). Both
 * skip with the reason without Firefox or puppeteer-core.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../../src/apps/sim/report-html.js';
import { cameraRun } from '../fixtures/sim/synthetic.js';
import { FIREFOX, loadFirefox } from './browser-helpers.js';
import type { Puppeteer } from './browser-helpers.js';
import { startLiveDashboard } from './dashboard-helpers.js';

const pp = await loadFirefox();
type Browser = Awaited<ReturnType<Puppeteer['launch']>>;
type Page = Awaited<ReturnType<Browser['newPage']>>;


async function launch(): Promise<Browser> {
  return (pp as Puppeteer).launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
}

/** Page errors and console errors, collected. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  return problems;
}

/** An expression evaluated in the page (a string: the tests' lib has no DOM types). */
const js = <T>(page: Page, expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
const q = (sel: string): string => `document.querySelector(${JSON.stringify(sel)})`;
const qa = (sel: string): string => `Array.from(document.querySelectorAll(${JSON.stringify(sel)}))`;

/** Waits until the element's text contains `text`; on a timeout, says what it showed instead. */
async function waitText(page: Page, sel: string, text: string): Promise<void> {
  try {
    await page.waitForFunction(`(${q(sel)}?.textContent ?? '').includes(${JSON.stringify(text)})`, { timeout: 20_000 });
  } catch (e) {
    const shown = await js<string | null>(page, `${q(sel)}?.textContent ?? null`);
    throw new Error(`${sel} never showed ${JSON.stringify(text)}; it shows ${JSON.stringify(shown)}`, { cause: e });
  }
}

test('the dashboard in Firefox shows the kernel\'s own numbers and clicks through process → buffers → a buffer\'s pages, and steps the workload', { skip: typeof pp === 'string' ? pp : false, timeout: 120_000 }, async () => {
  const { dash, live, kernel: k, close } = await startLiveDashboard();
  const browser = await launch();
  try {
    const version = await browser.version();
    assert.match(version, /^firefox\//, `puppeteer drives Firefox (${version})`);
    const page = await browser.newPage();
    await page.setViewport({ width: 1300, height: 1000 });
    const problems = watch(page);
    await page.goto(dash.url);

    // the kernel's own list: debugfs bufinfo (size and inode per buffer)
    const bufinfo = k.readFile(k.findProcess(1)!, '/sys/kernel/debug/dma_buf/bufinfo');
    assert.equal(typeof bufinfo, 'string');
    const rows = (bufinfo as string).split('\n').filter((l) => /^\d{8}\s/.test(l));
    const total = rows.length;
    assert.equal(total, 4 + 2 + 3, 'four previews, two scan-outs, three bitstream buffers at 1 s');
    await waitText(page, '#buf-count', `${total} buffers`);
    assert.equal(await js<string>(page, `${q('#buf-count')}.textContent`), `${total} buffers`);
    const inodes = rows.map((l) => Number(l.trim().split(/\s+/)[5])).sort((x, y) => x - y);
    const shown = await js<string[]>(page, `${qa('#buf-rows .row:not([hidden])')}.map((r) => r.dataset.ino)`);
    assert.deepEqual(shown.map(Number).sort((x, y) => x - y), inodes);
    assert.equal(await js<string>(page, `${q('#workload')}.textContent`), 'workload live: 0:01 of 0:10 (paused), 0 failed allocations');

    // the process table: pid, comm (as /proc/<pid>/comm has it) and how many buffers each holds
    const pidOf = (comm: string): number => [...k.processes.values()].find((p) => p.comm === comm)!.pid;
    const procRows = await js<string[][]>(page, `${qa('#procs tr[data-pid]')}.map((tr) => [tr.dataset.pid, ...Array.from(tr.cells, (td) => td.textContent)])`);
    const byPid = new Map(procRows.map((r) => [Number(r[0]), r]));
    for (const [comm, n] of [['camera', 4], ['display', 6], ['encoder', 3]] as const) {
      const pid = pidOf(comm);
      const r = byPid.get(pid);
      assert.ok(r !== undefined, `a row for ${comm} (pid ${pid}); rows: ${JSON.stringify(procRows)}`);
      const procComm = k.readFile(k.findProcess(1)!, `/proc/${pid}/comm`);
      assert.equal(`${r[2]}\n`, procComm, `${comm}'s comm as /proc/${pid}/comm has it`);
      assert.equal(r[1], String(pid));
      assert.equal(r[5], String(n), `${comm} holds ${n} buffers`);
    }

    // process → its buffers
    const camera = pidOf('camera');
    await page.click(`#procs tr[data-pid="${camera}"]`);
    await waitText(page, '#buf-count', `4 of ${total} buffers`);
    assert.equal(await js<string>(page, `${q(`#procs tr[data-pid="${camera}"]`)}.getAttribute('aria-selected')`), 'true');
    const cameraRows = await js<string[]>(page, `${qa('#buf-rows .row:not([hidden])')}.map((r) => r.dataset.ino)`);
    assert.equal(cameraRows.length, 4);

    // buffer → its pages in the CMA map
    const first = cameraRows[0]!;
    await page.click(`#buf-rows .row:not([hidden])[data-ino="${first}"]`);
    await waitText(page, '#d-title', `inode ${first}`);
    assert.equal(await js<string>(page, `${q('#d-title')}.textContent`), `inode ${first} "preview"`);
    const hl = await js<string | null>(page, `${q('.area[data-area="reserved"] canvas')}.getAttribute('data-highlight')`);
    assert.match(hl ?? '', /^\d+-\d+$/);
    const [a, b] = hl!.split('-').map(Number);
    assert.equal(b! - a! + 1, 768, 'a 3 MiB buffer holds 768 pages');
    assert.deepEqual(await js<string[]>(page, `${qa('#d-refs tbody tr td:first-child')}.map((td) => td.textContent)`), [String(camera), String(pidOf('display'))]);

    // Step: the page POSTs the field's microseconds, the server steps the workload
    const updates = await js<number>(page, 'window.__dash.updates');
    await page.locator('#wl-step-us').fill('500000');
    await page.click('#wl-step');
    await page.waitForFunction(`window.__dash.updates > ${updates}`, { timeout: 20_000 });
    assert.equal(live.state.now, 1_500_000);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await close();
  }
});

test('the simulation report in Firefox: the failures table and the CMA map\'s legend', { skip: typeof pp === 'string' ? pp : false, timeout: 60_000 }, async () => {
  const run = cameraRun();
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const problems = watch(page);
    await page.setContent(renderReport([run]), { waitUntil: 'load' });
    const failureRows = await js<string[][]>(page, `${qa('table.failures tbody tr')}.map((tr) => Array.from(tr.cells, (td) => td.textContent))`);
    assert.equal(failureRows.length, run.failures.length);
    assert.equal(failureRows.length, 6);
    assert.deepEqual(failureRows.map((r) => r[6]), run.failures.map((f) => f.reason));
    assert.deepEqual(failureRows[0]!.slice(0, 7), ['0:12:42.001', 'codec', 'bitstream', 'linux,cma', '8 MiB', 'ENOMEM', 'fragmented']);
    assert.deepEqual(await js<string[]>(page, `${qa('.fig-heap-use .legend-item .name')}.map((e) => e.textContent)`), ['system', 'linux,cma', 'linux,cma capacity (256 MiB)', 'failed allocation (6)']);
    assert.equal(await js<number>(page, `document.querySelectorAll('svg.heap-use path.failure-marker').length`), 6);
    assert.deepEqual(await js<string[]>(page, `Array.from(document.querySelector('.cma-map').querySelectorAll('ul.owners .legend-item .name'), (e) => e.textContent)`), [
      'camera-hal/preview', 'display/scanout', 'codec/reference', 'codec/bitstream', 'camera-hal/still', 'free', 'pinned or taken (cannot be moved)',
    ]);
    assert.equal(await js<number>(page, `document.querySelector('.cma-map').querySelectorAll('svg.map-grid rect[data-i]').length`), 512);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
