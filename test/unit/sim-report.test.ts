/**
 * The simulation's HTML report (src/apps/sim/report-html.ts): its text, its escaping, its size bound,
 * and, in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core; skipped with the
 * reason where either is missing), what the page shows. `DMAHEAP_SCREENSHOTS=1 node --test
 * dist/test/unit/sim-report.test.js` rewrites the screenshots in docs/img/simulate-report-*.png;
 * without it the test writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { codeMap, downsample, renderReport } from '../../src/apps/sim/report-html.js';
import { count as countText, formatClock, formatDuration, jsonForScript, ticks } from '../../src/apps/sim/format.js';
import type { SimResult } from '../../src/apps/sim/result.js';
import { bigRun, cameraRun } from '../fixtures/sim/synthetic.js';
import { CHROMIUM, loadPlaywright } from './browser-helpers.js';
import type { Playwright } from './browser-helpers.js';

const HOSTILE = '<script>alert(1)</script>';
const run = cameraRun();
const html = renderReport([run]);

/** The text of each row matching `cls` (cells joined by " | ", tags dropped, entities decoded). */
function rows(page: string, cls: string): string[] {
  const re = new RegExp(`<tr class="${cls}">(.*?)</tr>`, 'g');
  return [...page.matchAll(re)].map((m) =>
    m[1]!
      .replace(/<br>/g, ' | ')
      .replace(/<\/t[hd]><td[^>]*>/g, ' | ')
      .replace(/<[^>]+>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&'),
  );
}

const count = (page: string, s: string): number => page.split(s).length - 1;

test('the synthetic run has what the report must show: failures of three reasons, one CMA area of 65536 pages, 600 samples', () => {
  assert.deepEqual(
    run.failures.map((f) => f.reason),
    ['fragmented', 'pinned', 'pinned', 'pinned', 'cgroup-limit', 'fragmented'],
  );
  assert.equal(run.areas[0]!.pages, 65536);
  assert.equal(run.series.t.length, 600);
  assert.equal(run.maps[0]!.frames.length, 600);
});

test('one run: one document with the title, the summary and every chart titled, axes in units', () => {
  assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  assert.equal(count(html, '<html'), 1);
  assert.ok(html.endsWith('</body></html>\n'));
  assert.ok(html.includes('<title>Simulation: camera-display-codec</title>'));
  assert.ok(html.includes('<body class="single">'));
  for (const title of ['Heap use over time', 'Failed allocations', 'CMA area map over time', 'Free memory in <code>linux,cma</code>', 'Per-process memory', 'Charges per cgroup'])
    assert.ok(html.includes(title), title);
  assert.ok(html.includes('simulated time (minutes)'));
  assert.ok(html.includes('in use (MiB)'));
  assert.ok(html.includes('free (MiB)'));
  assert.deepEqual(rows(html, 'row-failures'), ['failed allocations | 6']);
  assert.deepEqual(rows(html, 'row-warnings'), ['warnings | importer "isp" is not on this board: its imports are skipped']);
  assert.ok(html.includes('<th scope="row">simulated time</th><td>1 h</td>'));
  assert.ok(html.includes('<th scope="row">kernel profile</th><td>6.12</td>'));
  assert.ok(html.includes('<code>cma=256M</code>'));
  assert.ok(html.includes('<th scope="row">allocations / frees</th><td>1,463 / 1,439</td>'));
  assert.ok(html.includes('<code>linux,cma</code> (cma, 256 MiB): peak 237.4 MiB, 1,463 allocations, <span class="bad">5 failed</span>'));
});

test('failures: a table row per failure with time, process, stream, heap, size, errno, reason and detail; a marker per failure on the heap chart', () => {
  const r = rows(html, 'failure-row');
  assert.equal(r.length, 6);
  assert.equal(
    r[0],
    '0:12:42.001 | codec | bitstream | linux,cma | 8 MiB | ENOMEM | fragmented | largest free run 1552 pages < request 2048 pages (4693 pages free) | area linux,cma: 4,693 pages free, largest free run 1,552 pages, request 2,048 pages',
  );
  assert.equal(r[4], '0:41:00.001 | display | scanout | system | 8 MiB | ENOMEM | cgroup-limit | memory.current 60 MiB + 8 MiB > memory.max 64 MiB (cgroup apps/display)');
  assert.ok(html.includes('<strong>6 allocations failed</strong>: 2 fragmented, 3 pinned, 1 cgroup-limit.'));
  // Each reason present is explained under the table, in the order it first occurs.
  assert.deepEqual([...html.matchAll(/<li><span class="reason">([^<]*)<\/span>: ([^<]*)<\/li>/g)].map((m) => `${m[1]}: ${m[2]}`), [
    'fragmented: enough free pages in all, but no free run long enough',
    'pinned: free runs were long enough, but pinned pages in them could not be moved',
    "cgroup-limit: the process&#39;s cgroup is at its limit",
  ]);
  const heapSvg = /<svg class="chart heap-use".*?<\/svg>/.exec(html)![0];
  assert.equal(count(heapSvg, 'class="failure-marker"'), 6);
  // The area chart marks the five failures in the area (the cgroup one was on the system heap).
  const areaSvg = /<svg class="chart area-free".*?<\/svg>/.exec(html)![0];
  assert.equal(count(areaSvg, 'class="failure-marker"'), 5);
  assert.ok(!html.includes('No allocation failed'));
});

test('no failure: the report says so, with no marker and no table', () => {
  const page = renderReport([cameraRun({ noFailures: true })]);
  assert.ok(page.includes('<p class="no-failures"><span class="ok">✓</span> No allocation failed in this run.</p>'));
  assert.equal(count(page, 'class="failure-marker"'), 0);
  assert.equal(count(page, 'failure-row'), 0);
  assert.ok(page.includes('no allocation failed.'));
});

test('a hostile name from a workload is text, never markup or script', () => {
  const page = renderReport([cameraRun({ codecName: HOSTILE })], { title: `${HOSTILE} & "x"`, labels: [HOSTILE] });
  assert.ok(!page.includes('<script>alert'));
  assert.ok(page.includes('<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</title>'));
  assert.ok(page.includes('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>bitstream</td>'));
  assert.ok(page.includes('<span class="name">&lt;script&gt;alert(1)&lt;/script&gt;/bitstream</span>'));
  // Only the page's own elements are scripts: one JSON block per map and the page's script.
  assert.equal(count(page, '<script'), 2);
  assert.equal(count(page, '</script>'), 2);
  assert.equal(jsonForScript({ a: '</script><!--\u2028&' }), '{"a":"\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"}');
});

test('free RAM is drawn: a MemFree line over the run', () => {
  assert.ok(html.includes('<section id="memory"><h2>Free RAM</h2>'));
  assert.ok(html.includes('<figure class="fig-mem"><figcaption class="chart-title">Free RAM</figcaption><svg class="chart mem-free" viewBox="0 0 640 240" role="img" aria-label="Free RAM over time">'));
  assert.match(html, /<figure class="fig-mem">[\s\S]*?<span class="name">MemFree<\/span>/);
});

test('the output depends only on the input: twice the same text, also from the result as JSON', () => {
  assert.equal(renderReport([run]), html);
  assert.equal(renderReport([JSON.parse(JSON.stringify(run)) as SimResult]), html);
  assert.ok(!/\b(src|href)=/.test(html), 'nothing loaded from anywhere');
  assert.deepEqual([...new Set(html.match(/https?:\/\/[^'"\s)]+/g))], ['http://www.w3.org/2000/svg']);
  assert.ok(html.includes(`default-src 'none'`));
});

test('comparison: one column per run, labelled, with the same scales in every column', () => {
  const big = cameraRun({ cmaPages: 131072, profile: '7.3' });
  const page = renderReport([run, big], { labels: ['cma=256M', 'cma=512M'] });
  assert.ok(page.includes('<body class="comparison">'));
  assert.ok(page.includes('<thead><tr><th></th><th scope="col" class="run-label">cma=256M</th><th scope="col" class="run-label">cma=512M</th></tr></thead>'));
  assert.deepEqual(rows(page, 'row-failures'), ['failed allocations | 6 | 1']);
  // Five sections of columns (heap use, failures, CMA, processes, free RAM) and cgroups: each labels both.
  assert.equal(count(page, '<div class="cols" style="--n:2">'), 6);
  assert.equal(count(page, '<p class="col-label">cma=256M</p>'), 6);
  assert.equal(count(page, '<p class="col-label">cma=512M</p>'), 6);
  assert.ok(page.includes('256 MiB (65536 pages of 4 KiB)'));
  assert.ok(page.includes('512 MiB (131072 pages of 4 KiB)'));
  // Same y axis on both heap charts (the larger area's capacity sets it).
  const yTicks = [...page.matchAll(/<svg class="chart heap-use".*?<\/svg>/g)].map((m) => [...m[0].matchAll(/dominant-baseline="middle">([^<]*)</g)].map((x) => x[1]));
  assert.equal(yTicks.length, 2);
  assert.deepEqual(yTicks[0], ['0', '200', '400', '600']);
  assert.deepEqual(yTicks[1], yTicks[0]);
  assert.throws(() => renderReport([]), RangeError);
  assert.throws(() => renderReport(Array.from({ length: 17 }, () => run)), /at most 16 runs \(got 17\)/);
});

test('size bound: 100,000 samples, 64 CMA areas and 5,000 failures stay under 2 MB, alone or 16 runs compared', () => {
  const page = renderReport([bigRun()]);
  const bytes = Buffer.byteLength(page);
  assert.ok(bytes < 2_000_000, `${bytes} bytes`);
  assert.equal(count(page, 'class="cma-map"'), 64);
  assert.equal(count(page, 'class="failure-row"'), 200);
  assert.ok(page.includes('4800 more failures are not listed here'));
  // Ten heap lines of the 65 heaps (the largest peaks), each downsampled.
  const heapSvg = /<svg class="chart heap-use".*?<\/svg>/.exec(page)![0];
  assert.equal(count(heapSvg, '<polyline'), 10);
  for (const m of heapSvg.matchAll(/points="([^"]*)"/g)) assert.ok(m[1]!.split(' ').length <= 1120);
  // Owners past the per-map budget share one colour.
  assert.ok(page.includes('other owners (184)'));
  // Names of 150 characters (clipped to 120 in the page, some characters escaped) stay under the bound too.
  const long = Buffer.byteLength(renderReport([bigRun({ longNames: true })]));
  assert.ok(long < 2_000_000, `${long} bytes with long names`);
  // Sixteen such runs compared: the budgets are shared, and past 64 areas in all the rest are table rows.
  const many = renderReport(Array.from({ length: 16 }, () => bigRun()));
  assert.ok(Buffer.byteLength(many) < 2_000_000, `${Buffer.byteLength(many)} bytes for 16 runs`);
  assert.equal(count(many, 'class="cma-map"'), 64);
  assert.equal(count(many, 'class="area-row"'), 16 * 60);
  const two = renderReport([bigRun(), bigRun()]);
  assert.equal(rows(two, 'area-row')[0], 'cma-32 | 256 MiB | 400 KiB | 40 KiB | 78');
  assert.ok(two.includes('<p class="more">32 more CMA areas are not drawn (a report draws 64 areas, shared by its runs: those with the most failures, then the least room, come first):</p>'));
  assert.equal(count(many, 'class="failure-row"'), 16 * 20);
  const manyLong = Buffer.byteLength(renderReport(Array.from({ length: 16 }, () => bigRun({ longNames: true }))));
  assert.ok(manyLong < 2_200_000, `${manyLong} bytes for 16 runs with long names`);
  // The fixture's report, for the record (also under the bound by far).
  assert.ok(Buffer.byteLength(html) < 400_000, `${Buffer.byteLength(html)} bytes`);
});

test('an empty run, and a run with odd values, still give a whole page', () => {
  const empty: SimResult = {
    workload: 'idle', file: '', board: null, profile: '6.1', cmdline: '', seed: 0, duration: 0,
    heaps: [], areas: [], processes: [], failures: [],
    series: { t: [], heapUse: {}, cmaFree: {}, cmaLargest: {}, rss: {}, pss: {}, cgroup: {}, memFree: [] },
    maps: [], counts: { events: 0, allocations: 0, frees: 0, frames: 0, failures: 0, injected: 0 }, warnings: [], wallMs: 0,
  };
  const page = renderReport([empty]);
  assert.ok(page.includes('<p class="empty">No heap was used in this run.</p>'));
  assert.ok(page.includes('<p class="empty">This board has no CMA area.</p>'));
  assert.ok(page.includes('<p class="empty">No process mapped dma-buf memory.</p>'));
  assert.ok(page.includes('No allocation failed in this run.'));
  assert.ok(page.includes('<th scope="row">board</th><td>generic machine</td>'));
  assert.ok(!page.includes('id="cgroups"'));
  // NaN and infinite samples draw as 0; a series shorter than the sample times stops early; a map with no frame shows no grid.
  const odd: SimResult = {
    ...run,
    series: { ...run.series, heapUse: { system: [Number.NaN, Infinity, 5], 'linux,cma': [1, 2] }, pss: { ...run.series.pss, constructor: [2 ** 20, 2 ** 21] } },
    maps: [{ ...run.maps[0]!, frames: [] }],
    failures: [{ ...run.failures[0]!, reason: 'bogus' as never, size: Number.NaN }, { ...run.failures[1]!, reason: 'constructor' as never }],
  };
  const oddPage = renderReport([odd]);
  assert.ok(!/NaN|Infinity/.test(oddPage.replace(/<script type="application\/json".*?<\/script>/g, '')));
  assert.equal(count(oddPage, 'svg class="map-grid"'), 0);
  // A process named like an Object property has its own line (Pss only), and no Rss line from Object's prototype.
  assert.ok(oddPage.includes('<polyline class="series" points="64,195.1 64.9,194.2" stroke="#e15759" stroke-dasharray="3 3"><title>constructor: Pss</title></polyline>'));
  assert.ok(!oddPage.includes('<title>constructor: Rss</title>'));
  assert.deepEqual(rows(oddPage, 'failure-row').map((r) => r.split(' | ').slice(4, 7).join(' | ')), ['0 B | ENOMEM | bogus', '12 MiB | ENOMEM | constructor']);
});

test('helpers: clock and duration text, round ticks, min/max downsampling keeps the peaks, map cells merged', () => {
  assert.equal(formatClock(754_250_000, false), '12:34.250');
  assert.equal(formatClock(3_723_000_000, true), '1:02:03.000');
  assert.equal(formatDuration(3_600_000_000), '1 h');
  assert.equal(formatDuration(5_400_000_000), '1 h 30 min');
  assert.equal(formatDuration(2_500_000), '2.5 s');
  assert.equal(formatDuration(350_000), '350 ms');
  assert.equal(countText(1_048_576), '1,048,576');
  assert.equal(countText(-1234), '-1,234');
  assert.equal(countText(999), '999');
  assert.deepEqual(ticks(60, 6), [0, 10, 20, 30, 40, 50, 60]);
  assert.deepEqual(ticks(256, 5), [0, 100, 200, 300]);
  const t = Array.from({ length: 1000 }, (_, i) => i);
  const v = t.map((i) => (i === 537 ? 99 : i === 211 ? -5 : 1));
  const d = downsample(t, v, 20);
  assert.equal(d.length <= 20, true);
  assert.ok(d.some(([x, y]) => x === 537 && y === 99));
  assert.ok(d.some(([x, y]) => x === 211 && y === -5));
  const coded = codeMap({ area: 'a', cells: 2048, pagesPerCell: 4, owners: ['x/a', 'y/b'], frames: [{ t: 0, cells: Array.from({ length: 2048 }, (_, i) => (i < 4 ? -2 : i < 1024 ? 0 : i < 1030 ? 1 : -1)) }] }, 10);
  assert.equal(coded.cells, 1024);
  assert.equal(coded.pagesPerCell, 8);
  assert.equal(coded.frames[0]!.cells.slice(0, 3), '##0');
  assert.equal(coded.frames[0]!.cells.slice(511, 516), '0111.');
});

// ---------------------------------------------------------------- in a browser

/** What the page's callbacks use of the DOM (the test project compiles without the DOM's types). */
declare const getComputedStyle: (e: unknown) => { readonly fill: string; readonly backgroundColor: string };
interface CanvasLike {
  readonly width: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { readonly data: ArrayLike<number> } } | null;
}

const pw = await loadPlaywright();
const screenshots = process.env.DMAHEAP_SCREENSHOTS === '1';

test('in Chromium: markers, legends, the map after moving the slider, no console error, no request', { skip: typeof pw === 'string' ? pw : false, timeout: 60_000 }, async () => {
  const { chromium } = pw as Playwright;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html, { waitUntil: 'load' });

    // Heap chart: six visible failure markers and a legend that names each line.
    const markers = page.locator('svg.heap-use path.failure-marker');
    assert.equal(await markers.count(), 6);
    for (let i = 0; i < 6; i++) assert.ok(await markers.nth(i).isVisible());
    assert.deepEqual(await page.locator('.fig-heap-use .legend-item .name').allTextContents(), ['system', 'linux,cma', 'linux,cma capacity (256 MiB)', 'failed allocation (6)']);
    assert.equal(await page.locator('table.failures tbody tr').count(), 6);

    // The map: 512 cells, an owner legend, and after moving the slider the cells of that frame.
    const map = page.locator('.cma-map').first();
    assert.equal(await map.locator('svg.map-grid rect[data-i]').count(), 512);
    assert.deepEqual(await map.locator('ul.owners .legend-item .name').allTextContents(), [
      'camera-hal/preview', 'display/scanout', 'codec/reference', 'codec/bitstream', 'camera-hal/still', 'free', 'pinned or taken (cannot be moved)',
    ]);
    const swatches = await map.locator('ul.owners .legend-item .sw').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    const slider = map.locator('input.map-slider');
    const kept = Number(await slider.getAttribute('max')) + 1;
    assert.equal(kept, 400);
    // The history image (one row per kept frame), read once.
    const history = await map.locator('canvas.map-history').evaluate((c) => {
      const canvas = c as unknown as CanvasLike;
      return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, 400).data);
    });
    for (const pos of [0, 123, kept - 1]) {
      await slider.fill(String(pos));
      const shown = await map.locator('.map-time').textContent();
      const frame = run.maps[0]!.frames.find((f) => formatClock(f.t, true) === shown);
      assert.ok(frame !== undefined, `the slider shows ${shown}, a time of the run's frames`);
      assert.equal(await map.locator('.map-frame').textContent(), String(pos + 1));
      const fills = await map.locator('svg.map-grid rect[data-i]').evaluateAll((els) => els.map((e) => getComputedStyle(e).fill));
      const expected = frame.cells.map((c) => (c === -2 ? 'url("#hatch-r0-a0")' : c === -1 ? swatches[5] : swatches[c]));
      assert.deepEqual(fills, expected, `frame at ${shown}`);
      // The history image's row for this frame has the same colours (pinned cells are dark there).
      frame.cells.forEach((c, i) => {
        const o = (pos * 512 + i) * 4;
        const rgb = `rgb(${history[o]}, ${history[o + 1]}, ${history[o + 2]})`;
        assert.equal(rgb, c === -2 ? 'rgb(58, 58, 58)' : c === -1 ? swatches[5] : swatches[c], `history row ${pos} cell ${i}`);
      });
    }
    // Pointing at a cell names its owner.
    await map.locator('svg.map-grid rect[data-i="0"]').hover();
    assert.match((await map.locator('.map-info').textContent()) ?? '', /^Cell 0 \(pfn 0x40000\): display\/scanout at 0:59:54\.000\.$/);

    if (screenshots) {
      mkdirSync(new URL('../../../docs/img/', import.meta.url), { recursive: true });
      const out = (name: string): string => new URL(`../../../docs/img/simulate-report-${name}.png`, import.meta.url).pathname;
      // The map at its starting frame: the area's first failure.
      await slider.fill((await slider.getAttribute('value'))!);
      await slider.blur();
      await page.locator('header').scrollIntoViewIfNeeded();
      const top = (await page.locator('header').boundingBox())!;
      const sum = (await page.locator('#summary').boundingBox())!;
      await page.screenshot({ path: out('summary'), clip: { x: 0, y: top.y, width: 1100, height: sum.y + sum.height - top.y } });
      await page.locator('.fig-heap-use').screenshot({ path: out('heap-use') });
      await page.locator('#failures').screenshot({ path: out('failures') });
      await map.screenshot({ path: out('cma-map') });
      await page.locator('.fig-processes').screenshot({ path: out('processes') });
    }

    // No failure: the message is on screen.
    await page.setContent(renderReport([cameraRun({ noFailures: true })]), { waitUntil: 'load' });
    assert.ok(await page.locator('.no-failures').isVisible());
    assert.equal(await page.locator('path.failure-marker').count(), 0);

    // A hostile name is shown as text and runs nothing.
    await page.setContent(renderReport([cameraRun({ codecName: HOSTILE })]), { waitUntil: 'load' });
    assert.equal(await page.locator('table.failures tbody tr').first().locator('td').nth(1).textContent(), HOSTILE);
    assert.ok((await page.locator('ul.owners .name').allTextContents()).includes(`${HOSTILE}/bitstream`));

    // Comparison: the columns stand side by side.
    await page.setViewportSize({ width: 1500, height: 900 });
    await page.setContent(renderReport([run, cameraRun({ cmaPages: 131072, profile: '7.3' })], { labels: ['cma=256M', 'cma=512M'] }), { waitUntil: 'load' });
    const cols = page.locator('#heap-use .col');
    const [a, b] = [await cols.nth(0).boundingBox(), await cols.nth(1).boundingBox()];
    assert.ok(a !== null && b !== null);
    assert.equal(Math.round(a.y), Math.round(b.y));
    assert.ok(b.x >= a.x + a.width, 'the second column is right of the first');
    assert.deepEqual(await page.locator('#heap-use .col-label').allTextContents(), ['cma=256M', 'cma=512M']);
    assert.equal(await page.locator('svg.map-grid rect[data-i]').count(), 1024);
    // Moving the first column's map moves the second's to the same time (both sample every 6 s).
    const maps = page.locator('.cma-map');
    await maps.nth(0).locator('input.map-slider').fill('200');
    const t0 = await maps.nth(0).locator('.map-time').textContent();
    assert.equal(t0, formatClock(run.maps[0]!.frames[Math.round((200 * 599) / 350)]!.t, true));
    assert.equal(await maps.nth(1).locator('.map-time').textContent(), t0);
    assert.equal(await maps.nth(1).locator('input.map-slider').inputValue(), '200');
    if (screenshots) {
      // Both maps at the first run's first failure.
      const first = page.locator('.cma-map').nth(0).locator('input.map-slider');
      await first.fill((await first.getAttribute('value'))!);
      await first.blur();
      const out = (name: string): string => new URL(`../../../docs/img/simulate-report-${name}.png`, import.meta.url).pathname;
      await page.locator('#heap-use').screenshot({ path: out('compare') });
      await page.locator('#cma').screenshot({ path: out('compare-cma') });
    }

    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  } finally {
    await browser.close();
  }
});
