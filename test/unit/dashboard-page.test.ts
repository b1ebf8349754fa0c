/**
 * The dashboard's page (src/apps/dashboard/page.ts) in headless Chromium (Debian's chromium driven
 * by playwright-core; skipped with the reason where either is missing), against a stub server in
 * this file that speaks model.ts's protocol: `GET /` the page, `GET /api/snapshot`, the SSE stream
 * `/api/events`, and the POST controls, whose bodies it records. The fixtures are DashSnapshots
 * built here. What is checked is what the page shows.
 *
 * The 10,000-buffer case prints the main-thread time of each update (window.__dash) as a figure;
 * nothing asserts a time. `DMAHEAP_SCREENSHOTS=1 node --test dist/test/unit/dashboard-page.test.js`
 * rewrites docs/img/dashboard*.png; without it the test writes nothing.
 *
 * Firefox is not driven: playwright-core needs its own patched Firefox build, which is not installed
 * (Debian's firefox-esr cannot be driven by it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAGE_HTML } from '../../src/apps/dashboard/page.js';
import type { DashArea, DashBuffer, DashDelta, DashPoint, DashProcess, DashSnapshot, DashWorkload } from '../../src/apps/dashboard/model.js';
import { CHROMIUM, loadPlaywright } from './browser-helpers.js';
import type { Playwright } from './browser-helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const COMMS: Record<number, string> = { 100: 'camera-hal', 200: 'surfaceflinger', 300: 'codec', 400: 'app' };
const PIDS = [100, 200, 300, 400];

/**
 * Buffer i (0..n-1): every 4th from linux,cma (1 MiB at page 512k; `big`: 64 KiB at page 24k), the
 * next from secure-cma (1 MiB at page 256k; `big`: 32 KiB at page 12k), the rest system.
 */
function buffer(i: number, big = false): DashBuffer {
  const ino = 101 + i;
  const pid = PIDS[Math.floor(i / 5) % 4]!;
  const refs = [{ pid, fds: 1, maps: i % 2 }];
  if (i % 3 === 0 && pid !== 200) refs.push({ pid: 200, fds: 1, maps: 0 });
  const names = ['preview', 'scanout', 'bitstream', null, 'weights'];
  const base = names[i % 5];
  const name = base === null || base === undefined ? null : `${base}-${i}`;
  const k = Math.floor(i / 4);
  if (i % 4 === 0) {
    const [step, pages] = big ? [24, 16] : [512, 256];
    return { ino, size: pages * 4096, name, exporter: 'linux,cma', count: refs.length, refs, importers: [{ device: 'isp', mapped: true }, { device: 'display', mapped: false }], cma: { area: 'linux,cma', page: k * step, pages } };
  }
  if (i % 4 === 1) {
    const [step, pages] = big ? [12, 8] : [256, 256];
    return { ino, size: pages * 4096, name, exporter: 'secure', count: refs.length, refs, importers: [{ device: 'vpu', mapped: true }], cma: { area: 'secure-cma', page: k * step, pages } };
  }
  return { ino, size: (i + 1) * 64 * KiB, name, exporter: 'system', count: refs.length, refs, importers: [], cma: null };
}

/** The areas' runs from the buffers (and, in linux,cma, 100 pages nobody can name and 32 pinned ones). */
function areasFor(buffers: readonly DashBuffer[], big: boolean): DashArea[] {
  const defs = [
    { name: 'linux,cma', basePfn: 0x40000, pages: big ? 65536 : 4096, extra: (big ? [[62000, 100, -1], [62100, 32, -2]] : [[3000, 100, -1], [3100, 32, -2]]) as [number, number, number][] },
    { name: 'secure-cma', basePfn: 0x80000, pages: big ? 32768 : 2048, extra: [] as [number, number, number][] },
  ];
  return defs.map((d) => {
    const used: [number, number, number][] = [...d.extra];
    for (const b of buffers) if (b.cma?.area === d.name) used.push([b.cma.page, b.cma.pages, b.ino]);
    used.sort((a, b) => a[0] - b[0]);
    const runs: number[] = [];
    let p = 0;
    let free = 0;
    let largest = 0;
    const gap = (to: number): void => {
      if (to > p) {
        runs.push(p, to - p, 0);
        free += to - p;
        largest = Math.max(largest, to - p);
      }
    };
    for (const [first, n, owner] of used) {
      gap(first);
      runs.push(first, n, owner);
      p = first + n;
    }
    gap(d.pages);
    return { name: d.name, basePfn: d.basePfn, pages: d.pages, pageSize: 4096, freePages: free, largestFreeRun: largest, runs };
  });
}

function processesFor(buffers: readonly DashBuffer[]): DashProcess[] {
  return PIDS.map((pid) => {
    const held = buffers.filter((b) => b.refs.some((r) => r.pid === pid));
    return {
      pid,
      comm: COMMS[pid]!,
      rss: held.reduce((s, b) => s + b.size, 0),
      pss: held.reduce((s, b) => s + Math.floor(b.size / b.refs.length), 0),
      buffers: held.map((b) => b.ino),
    };
  });
}

function timeline(n: number, endT: number): DashPoint[] {
  return Array.from({ length: n }, (_, i) => {
    const t = endT - (n - 1 - i) * 2500;
    return { t, heaps: { system: Math.round((6 + Math.sin(i / 9)) * MiB), 'linux,cma': Math.round((4 + 1.5 * Math.sin(i / 14)) * MiB), secure: (4 + (i % 40 < 20 ? 1 : 0)) * MiB }, buffers: 20 };
  });
}

interface FixtureOpts {
  readonly n?: number;
  readonly seq?: number;
  readonly readOnly?: boolean;
  readonly workload?: DashWorkload | null;
  readonly extra?: readonly DashBuffer[];
}

function fixture(o: FixtureOpts = {}): DashSnapshot {
  const n = o.n ?? 20;
  const big = n > 100;
  const buffers = [...Array.from({ length: n }, (_, i) => buffer(i, big)), ...(o.extra ?? [])];
  const used = (exp: string): number => buffers.filter((b) => b.exporter === exp).reduce((s, b) => s + b.size, 0);
  return {
    seq: o.seq ?? 1,
    t: 300_000,
    source: o.readOnly
      ? { kind: 'linux', label: 'this machine: Linux 6.12.0', readOnly: true, cannotRead: ['/sys/kernel/debug/dma_buf/bufinfo: root only', '/proc/1/fdinfo: another user\'s process'] }
      : { kind: 'emulated', label: 'emulated Linux 6.12 on imx8mp', readOnly: false, cannotRead: [] },
    heaps: [
      { name: 'system', kind: 'system', contiguous: false, cached: true, protected: false, capacity: null, used: used('system'), area: null },
      { name: 'linux,cma', kind: 'cma', contiguous: true, cached: true, protected: false, capacity: (big ? 65536 : 4096) * 4096, used: used('linux,cma'), area: 'linux,cma' },
      { name: 'secure', kind: 'protected', contiguous: true, cached: false, protected: true, capacity: (big ? 32768 : 2048) * 4096, used: used('secure'), area: 'secure-cma' },
    ],
    areas: areasFor(buffers, big),
    buffers,
    processes: processesFor(buffers),
    findings: [{ id: 1, t: 61_500, kind: 'leak', severity: 'warning', text: 'buffer 117 (scanout-16) has had no reference but an fd for 60 s' }],
    timeline: timeline(120, 300_000),
    workload: o.workload ?? null,
  };
}

/** The stub server: the page, a snapshot, the event stream, and the POST controls (recorded). */
class Stub {
  snapshot: DashSnapshot;
  readonly posts: { path: string; body: unknown }[] = [];
  readonly others: string[] = [];
  snapshotGets = 0;
  reply: (path: string) => { status: number; body: unknown } = () => ({ status: 200, body: { ok: true } });
  private readonly streams = new Set<ServerResponse>();
  private readonly server: Server;
  url = '';

  constructor(snapshot: DashSnapshot) {
    this.snapshot = snapshot;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }

  send(event: 'snapshot' | 'delta', data: DashSnapshot | DashDelta): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of this.streams) s.write(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
    } else if (req.method === 'GET' && path === '/api/snapshot') {
      this.snapshotGets++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.snapshot));
    } else if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`event: snapshot\ndata: ${JSON.stringify(this.snapshot)}\n\n`);
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
    } else if (req.method === 'POST' && path.startsWith('/api/')) {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        this.posts.push({ path, body: JSON.parse(body) as unknown });
        const r = this.reply(path);
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
      });
    } else {
      this.others.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    }
  }
}

/** What the predicates read of the page (the test project compiles without the DOM's types). */
declare const window: { readonly __dash: { readonly seq: number; readonly snapshots: number; readonly frames: number } | undefined };

const inos = (bs: readonly DashBuffer[]): string[] => bs.map((b) => String(b.ino));

test('the page is one document under 1 MB that loads nothing from elsewhere', () => {
  const size = Buffer.byteLength(PAGE_HTML);
  console.log(`dashboard page: ${size} bytes`);
  assert.ok(size < 1024 * 1024, `${size} bytes`);
  assert.ok(PAGE_HTML.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  assert.equal(PAGE_HTML.split('<script').length - 1, 1);
  assert.ok(!/\b(src|href)="(https?:)?\/\//.test(PAGE_HTML), 'no external src or href');
  assert.ok(!PAGE_HTML.includes('@import') && !PAGE_HTML.includes('url(http'), 'no external CSS');
  assert.ok(PAGE_HTML.includes("connect-src 'self'"));
});

const pw = await loadPlaywright();
const screenshots = process.env.DMAHEAP_SCREENSHOTS === '1';

test('in Chromium: what the page shows, clicking through, deltas, reloads, controls', { skip: typeof pw === 'string' ? pw : false, timeout: 120_000 }, async (t) => {
  const { chromium } = pw as Playwright;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const workload: DashWorkload = { name: 'camera-display-codec', now: 65_000_000, duration: 3_600_000_000, paused: false, failures: 2 };
  const stub = new Stub(fixture({ workload }));
  await stub.start();
  const problems: string[] = [];
  const requests: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (m) => {
      // Chromium logs every 4xx; the refusal of the controls' test is one on purpose. Reading the
      // maps' pixels back (the test does) makes Canvas2D suggest willReadFrequently.
      if (m.text().includes('the server responded with a status of 409') || m.text().includes('willReadFrequently')) return;
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(stub.url + '/');
    await page.waitForFunction(() => window.__dash?.snapshots === 1 && (window.__dash?.frames ?? 0) >= 1);
    const snap = stub.snapshot;
    const rowInos = (): Promise<string[]> => page.locator('#buf-rows .row:not([hidden]) .c-ino').allTextContents();

    await t.test('the source line, the heaps with their properties and use, the areas, processes, findings, timeline', async () => {
      assert.equal(await page.locator('#source-kind').textContent(), 'emulated');
      assert.equal(await page.locator('#source-label').textContent(), 'emulated Linux 6.12 on imx8mp');
      assert.equal(await page.locator('#readonly').isVisible(), false);
      assert.equal(await page.locator('#cannot-read').isVisible(), false);
      assert.equal(await page.locator('#workload').textContent(), 'workload camera-display-codec: 1:05 of 60:00, 2 failed allocations');
      const heapRow = async (name: string): Promise<string[]> =>
        page.locator(`#heaps tr[data-heap="${name}"] td`).evaluateAll((tds) => tds.slice(0, 4).map((td) => (td as unknown as { textContent: string }).textContent));
      // system: 10 buffers of (i+1)·64 KiB = 115 · 64 KiB = 7360 KiB; linux,cma 5 MiB of 4096 pages; secure 5 MiB of 2048 pages.
      assert.deepEqual(await heapRow('system'), ['system', 'system', 'scatteredcached', '7.2 MiB']);
      assert.deepEqual(await heapRow('linux,cma'), ['linux,cma', 'cma', 'contiguouscachedarea linux,cma', '5 MiB of 16 MiB (31.3%)']);
      assert.deepEqual(await heapRow('secure'), ['secure', 'protected', 'contiguousuncachedprotectedarea secure-cma', '5 MiB of 8 MiB (62.5%)']);
      assert.equal(await page.locator('#heaps tr[data-heap="secure"] .bar .fill').evaluate((e) => (e as unknown as { style: { width: string } }).style.width), '62.5%');
      assert.equal(await page.locator('#heaps tr[data-heap="system"] .bar').isVisible(), false, 'no bar without a capacity');

      const area = page.locator('.area[data-area="linux,cma"]');
      // 4096 pages: 5 buffers of 256, 100 unknown, 32 pinned: 2684 free; the largest free run is 3132..4095.
      assert.equal(await area.locator('.a-free').textContent(), '2,684 pages (10.5 MiB)');
      assert.equal(await area.locator('.a-largest').textContent(), '964 pages (3.8 MiB)');
      assert.equal(await area.locator('.a-total').textContent(), '4,096 pages of 4 KiB (16 MiB) at pfn 0x40000');
      assert.equal(await page.locator('.area[data-area="secure-cma"] .a-free').textContent(), '768 pages (3 MiB)');

      // Sorted by Pss, largest first.
      const byPss = [...snap.processes].sort((a, b) => b.pss - a.pss || a.pid - b.pid).map((p) => String(p.pid));
      assert.deepEqual(await page.locator('#procs tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { pid: string } }).dataset.pid)), byPss);
      // codec holds buffers 111..115: 704 + 768 + 1024 (shared with surfaceflinger) + 1024 + 960 KiB.
      const p300 = snap.processes.find((p) => p.pid === 300)!;
      assert.equal(p300.rss, 4480 * KiB);
      assert.deepEqual(await page.locator('#procs tr[data-pid="300"] td').allTextContents(), ['300', 'codec', '4.4 MiB', '3.9 MiB', '5']);
      await page.locator('#procs button[data-key="rss"]').click();
      const byRss = [...snap.processes].sort((a, b) => b.rss - a.rss || a.pid - b.pid).map((p) => String(p.pid));
      assert.deepEqual(await page.locator('#procs tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { pid: string } }).dataset.pid)), byRss);
      assert.equal(await page.locator('#procs th[data-key="rss"]').getAttribute('aria-sort'), 'descending');

      assert.deepEqual(await page.locator('#findings li').allTextContents(), ['warning leak+1:01 buffer 117 (scanout-16) has had no reference but an fd for 60 s']);
      assert.equal(await page.locator('#timeline').getAttribute('data-points'), '120');
      assert.deepEqual(await page.locator('#timeline-legend .lg-name').allTextContents(), ['system', 'linux,cma', 'secure']);
    });

    await t.test('the CMA map: free light, unknown grey, pinned dark, each buffer its colour', async () => {
      const px = async (area: string, pg: number): Promise<number[]> =>
        (await page.evaluate(`(() => {
          const cv = document.querySelector('.area[data-area="${area}"] canvas');
          const cols = Number(cv.dataset.cols), cell = Number(cv.dataset.cell), ppc = Number(cv.dataset.ppc);
          const c = Math.floor(${pg} / ppc);
          return Array.from(cv.getContext('2d').getImageData((c % cols) * cell + 1, Math.floor(c / cols) * cell + 1, 1, 1).data.slice(0, 3));
        })()`)) as number[];
      assert.deepEqual(await px('linux,cma', 300), [232, 236, 239]);
      assert.deepEqual(await px('linux,cma', 3050), [154, 154, 154]);
      const pinned = await px('linux,cma', 3110);
      assert.ok(pinned.every((v) => v < 130), `pinned is dark: ${pinned}`);
      const a = await px('linux,cma', 0);
      const b = await px('linux,cma', 600);
      assert.notDeepEqual(a, [232, 236, 239]);
      assert.notDeepEqual(a, b, 'two buffers, two colours');
      assert.deepEqual(await px('linux,cma', 255), a, 'a buffer has one colour');
    });

    await t.test('the buffer table: sorted by a column, filtered by text', async () => {
      assert.equal(await page.locator('#buf-count').textContent(), '20 buffers');
      const shown = (await rowInos()).length;
      assert.ok(shown >= 10 && shown < 20, `only the visible rows exist (${shown})`);
      assert.deepEqual(await rowInos(), inos(snap.buffers).slice(0, shown));
      await page.locator('#buf-head button[data-key="size"]').click();
      const bySize = [...snap.buffers].sort((x, y) => y.size - x.size || x.ino - y.ino);
      assert.deepEqual(await rowInos(), inos(bySize).slice(0, shown));
      assert.equal(await page.locator('#buf-head [data-key="size"][role="columnheader"]').getAttribute('aria-sort'), 'descending');
      await page.locator('#buf-head button[data-key="size"]').press('Enter');
      const bySizeUp = [...snap.buffers].sort((x, y) => x.size - y.size || x.ino - y.ino);
      assert.deepEqual(await rowInos(), inos(bySizeUp).slice(0, shown));
      await page.locator('#buf-head button[data-key="name"]').click();
      const byName = [...snap.buffers].sort((x, y) => ((x.name ?? '') < (y.name ?? '') ? -1 : (x.name ?? '') > (y.name ?? '') ? 1 : x.ino - y.ino));
      assert.deepEqual(await rowInos(), inos(byName).slice(0, shown));
      const firstRow = await page.locator('#buf-rows .row:not([hidden])').first().locator('span').allTextContents();
      const b0 = byName[0]!;
      assert.deepEqual(firstRow, [String(b0.ino), b0.size === MiB ? '1 MiB' : `${b0.size / KiB} KiB`, '', b0.exporter, b0.refs.map((r) => `${COMMS[r.pid]} ${r.pid}`).join(', '), b0.importers.map((m) => m.device + (m.mapped ? ' (mapped)' : '')).join(', '), String(b0.refs.reduce((s, r) => s + r.maps, 0))]);

      await page.locator('#buf-filter').fill('scanout');
      const scan = snap.buffers.filter((b) => b.name?.includes('scanout'));
      assert.deepEqual(await rowInos(), inos(scan.sort((x, y) => (x.name! < y.name! ? -1 : 1))));
      assert.equal(await page.locator('#buf-count').textContent(), `${scan.length} of 20 buffers`);
      await page.locator('#buf-filter').fill('vpu');
      assert.deepEqual((await rowInos()).sort(), inos(snap.buffers.filter((b) => b.exporter === 'secure')).sort());
      await page.locator('#buf-filter').fill('');
      await page.locator('#buf-head button[data-key="ino"]').click();
      assert.deepEqual(await rowInos(), inos(snap.buffers).slice(0, shown));
    });

    await t.test('clicking a process shows its buffers only; again shows all', async () => {
      await page.locator('#procs tr[data-pid="300"]').click();
      const mine = snap.buffers.filter((b) => b.refs.some((r) => r.pid === 300));
      assert.deepEqual(await rowInos(), inos(mine));
      assert.equal(await page.locator('#proc-chip-text').textContent(), 'process 300 (codec)');
      assert.equal(await page.locator('#buf-count').textContent(), `${mine.length} of 20 buffers`);
      assert.equal(await page.locator('#procs tr[data-pid="300"]').getAttribute('aria-selected'), 'true');
      // By keyboard: Enter on another process row, then the chip's × clears it.
      await page.locator('#procs tr[data-pid="200"]').focus();
      await page.keyboard.press('Enter');
      assert.deepEqual(await rowInos(), inos(snap.buffers.filter((b) => b.refs.some((r) => r.pid === 200))).slice(0, (await rowInos()).length));
      await page.locator('#proc-clear').click();
      assert.equal(await page.locator('#proc-chip').isVisible(), false);
      assert.equal(await page.locator('#buf-count').textContent(), '20 buffers');
    });

    await t.test('clicking a buffer: its importers and refs in the detail panel, its pages framed in the map', async () => {
      const cv = page.locator('.area[data-area="linux,cma"] canvas');
      assert.equal(await cv.getAttribute('data-highlight'), null);
      await page.locator('#buf-rows .row[data-ino="105"]').click();
      assert.equal(await page.locator('#d-title').textContent(), 'inode 105 "weights-4"');
      assert.deepEqual(await page.locator('#d-importers li').allTextContents(), ['isp: mapped', 'display: attached, not mapped']);
      assert.deepEqual(await page.locator('#d-refs tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as unknown as { textContent: string }).textContent)), ['100camera-hal10']);
      assert.match((await page.locator('#d-props').textContent()) ?? '', /pagesCMA area linux,cma, pages 512–767 \(256\)/);
      assert.equal(await cv.getAttribute('data-highlight'), '512-767');
      assert.equal(await page.locator('.area[data-area="linux,cma"] .a-info').textContent(), 'buffer 105: pages 512–767 (pfn 0x40200)');
      // 128 cells of 4 px a row: page 512 is row 4, column 0; its cell is yellow now, page 511 (free) is not.
      const at = (x: number, y: number): Promise<number[]> =>
        page.evaluate(`Array.from(document.querySelector('.area[data-area="linux,cma"] canvas').getContext('2d').getImageData(${x}, ${y}, 1, 1).data.slice(0, 3))`) as Promise<number[]>;
      assert.deepEqual(await at(0, 16), [255, 212, 0]);
      // Inside the 2-pixel outline (pages 576 and 704: column 64 of rows 4 and 5) the buffer keeps its colour.
      assert.deepEqual(await at(64 * 4 + 1, 18), await at(64 * 4 + 1, 21));
      assert.notDeepEqual(await at(64 * 4 + 1, 18), [255, 212, 0]);
      assert.deepEqual(await at(64 * 4 + 1, 16), [255, 212, 0]);
      assert.deepEqual(await at((767 % 128) * 4 + 3, Math.floor(767 / 128) * 4 + 3), [255, 212, 0]);
      assert.deepEqual(await at(((511 % 128) * 4) + 1, Math.floor(511 / 128) * 4 + 1), [232, 236, 239]);
      assert.deepEqual(await at(((768 % 128) * 4) + 1, Math.floor(768 / 128) * 4 + 1), [232, 236, 239]);
      // The keyboard moves the selection: ArrowDown selects the next row (106, in secure-cma).
      await page.locator('#buf-scroll').focus();
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.locator('#d-title').textContent(), 'inode 106 "preview-5"');
      assert.equal(await cv.getAttribute('data-highlight'), null);
      assert.equal(await page.locator('.area[data-area="secure-cma"] canvas').getAttribute('data-highlight'), '256-511');
      assert.equal(await page.locator('#buf-rows .row[aria-selected="true"] .c-ino').textContent(), '106');
      // Clicking a page of the map selects its owner.
      const box = (await cv.boundingBox())!;
      await page.mouse.click(box.x + (1024 % 128) * 4 + 2, box.y + Math.floor(1024 / 128) * 4 + 2);
      assert.equal(await page.locator('#d-title').textContent(), 'inode 109');
      assert.equal(await cv.getAttribute('data-highlight'), '1024-1279');
    });

    if (screenshots) {
      mkdirSync(new URL('../../../docs/img/', import.meta.url), { recursive: true });
      const out = (name: string): string => new URL(`../../../docs/img/${name}.png`, import.meta.url).pathname;
      await page.locator('#procs tr[data-pid="100"]').click();
      await page.locator('#buf-rows .row[data-ino="105"]').click();
      await page.locator('#buf-filter').blur();
      await page.screenshot({ path: out('dashboard'), fullPage: true });
      await page.locator('#areas-box').screenshot({ path: out('dashboard-cma') });
      await page.locator('#procs tr[data-pid="100"]').click();
    }

    await t.test('a delta adds a row and a finding without reloading; a base mismatch reloads /api/snapshot', async () => {
      await page.evaluate('window.__sameDocument = 42');
      const added: DashBuffer = { ino: 777, size: 3 * MiB, name: 'added-by-delta', exporter: 'system', count: 1, refs: [{ pid: 400, fds: 1, maps: 1 }], importers: [{ device: 'gpu', mapped: true }], cma: null };
      stub.send('delta', {
        seq: 2, base: 1, t: 300_250, buffers: [added],
        findings: [{ id: 2, t: 300_200, kind: 'use-after-free', severity: 'error', text: 'cpu access to buffer 777 after its last reference was dropped' }],
        timeline: [{ t: 300_250, heaps: { system: 10 * MiB, 'linux,cma': 5 * MiB, secure: 5 * MiB }, buffers: 21 }],
      });
      await page.waitForFunction(() => window.__dash?.seq === 2);
      await page.locator('#buf-count', { hasText: '21 buffers' }).waitFor();
      await page.locator('#buf-filter').fill('added');
      assert.deepEqual(await rowInos(), ['777']);
      assert.deepEqual(await page.locator('#buf-rows .row[data-ino="777"] span').allTextContents(), ['777', '3 MiB', 'added-by-delta', 'system', 'app 400', 'gpu (mapped)', '1']);
      assert.deepEqual(await page.locator('#findings li .sev').allTextContents(), ['error use-after-free', 'warning leak']);
      assert.equal(await page.evaluate('window.__sameDocument'), 42);
      assert.equal(stub.snapshotGets, 0);
      assert.equal(await page.locator('#timeline').getAttribute('data-points'), '121');

      // A delta that removes it.
      stub.send('delta', { seq: 3, base: 2, t: 300_500, gone: [777] });
      await page.waitForFunction(() => window.__dash?.seq === 3);
      await page.locator('#buf-count', { hasText: '0 of 20 buffers' }).waitFor();

      // seq 4 is lost: a delta from 4 to 5 makes the page fetch /api/snapshot (which is at 5).
      stub.snapshot = fixture({ seq: 5, workload, extra: [{ ...added, ino: 888, name: 'added-by-reload' }] });
      stub.send('delta', { seq: 5, base: 4, t: 301_000, gone: [101] });
      await page.waitForFunction(() => window.__dash?.seq === 5 && window.__dash?.snapshots === 2);
      assert.equal(stub.snapshotGets, 1);
      assert.equal(await page.evaluate('window.__dash.resyncs'), 1);
      await page.locator('#buf-filter').fill('added-by');
      await page.locator('#buf-count', { hasText: '1 of 21 buffers' }).waitFor();
      assert.deepEqual(await rowInos(), ['888']);
      assert.equal(await page.evaluate('window.__sameDocument'), 42, 'the page itself was not reloaded');
      // The next delta against 5 applies.
      stub.send('delta', { seq: 6, base: 5, t: 301_250, gone: [888] });
      await page.waitForFunction(() => window.__dash?.seq === 6);
      await page.locator('#buf-count', { hasText: '0 of 20 buffers' }).waitFor();
      await page.locator('#buf-filter').fill('');
      assert.equal(stub.snapshotGets, 1);
    });

    await t.test('controls POST the JSON of the API and show its refusals; by keyboard', async () => {
      await page.locator('#alloc-heap').selectOption('linux,cma');
      await page.locator('#alloc-size').fill('2M');
      await page.locator('#alloc-name').fill('by-hand');
      stub.reply = () => ({ status: 200, body: { ino: 999 } });
      await page.locator('#alloc-name').press('Enter');
      await page.locator('#ctl-msg', { hasText: 'allocated buffer 999 (2 MiB from linux,cma)' }).waitFor();
      assert.deepEqual(stub.posts.at(-1), { path: '/api/alloc', body: { heap: 'linux,cma', size: 2 * MiB, name: 'by-hand' } });

      stub.reply = () => ({ status: 409, body: { error: { code: 'ENOMEM', message: 'linux,cma has no free run of 16384 pages (largest 964)', hint: 'free a buffer, or allocate less' } } });
      await page.locator('#alloc-size').fill('64M');
      await page.locator('#alloc-btn').click();
      await page.locator('#ctl-msg.err', { hasText: 'linux,cma has no free run of 16384 pages (largest 964) (free a buffer, or allocate less)' }).waitFor();
      assert.deepEqual(stub.posts.at(-1), { path: '/api/alloc', body: { heap: 'linux,cma', size: 64 * MiB, name: 'by-hand' } });

      const before = stub.posts.length;
      await page.locator('#alloc-size').fill('lots');
      await page.locator('#alloc-btn').click();
      assert.match((await page.locator('#ctl-msg').textContent()) ?? '', /^size "lots" is not a size/);
      assert.equal(stub.posts.length, before, 'a bad size is not sent');

      stub.reply = () => ({ status: 200, body: {} });
      await page.locator('#buf-rows .row[data-ino="110"]').click();
      assert.equal(await page.locator('#free-btn').textContent(), 'Free buffer 110');
      await page.locator('#free-btn').focus();
      await page.keyboard.press('Enter');
      await page.locator('#ctl-msg.ok', { hasText: 'freed buffer 110' }).waitFor();
      assert.deepEqual(stub.posts.at(-1), { path: '/api/free', body: { ino: 110 } });

      await page.locator('#fault-spec').fill('alloc:heap=linux,cma,nth=2');
      await page.locator('#fault-spec').press('Enter');
      await page.locator('#ctl-msg.ok', { hasText: 'fault injected: alloc:heap=linux,cma,nth=2' }).waitFor();
      assert.deepEqual(stub.posts.at(-1), { path: '/api/fault', body: { spec: 'alloc:heap=linux,cma,nth=2' } });

      assert.equal(await page.locator('#wl-pause').textContent(), 'Pause');
      assert.equal(await page.locator('#wl-step').isDisabled(), true);
      await page.locator('#wl-pause').focus();
      await page.keyboard.press('Space');
      await page.locator('#ctl-msg.ok', { hasText: 'paused' }).waitFor();
      assert.deepEqual(stub.posts.at(-1), { path: '/api/workload/pause', body: {} });
      stub.send('delta', { seq: 7, base: 6, t: 301_500, workload: { ...workload, paused: true } });
      await page.locator('#wl-pause', { hasText: 'Resume' }).waitFor();
      await page.locator('#wl-step-us').fill('5000');
      await page.locator('#wl-step-us').press('Enter');
      await page.locator('#ctl-msg.ok', { hasText: 'stepped 5,000 µs' }).waitFor();
      assert.deepEqual(stub.posts.at(-1), { path: '/api/workload/step', body: { us: 5000 } });
      await page.locator('#wl-pause').click();
      await page.locator('#ctl-msg.ok', { hasText: 'resumed' }).waitFor();
      assert.deepEqual(stub.posts.at(-1), { path: '/api/workload/resume', body: {} });
      // The workload ends: its controls go.
      stub.send('delta', { seq: 8, base: 7, t: 301_750, workload: null });
      await page.waitForFunction(() => window.__dash?.seq === 8);
      await page.locator('#wl-form').waitFor({ state: 'hidden' });
    });

    await t.test('a read-only source: no controls, the reasons it cannot read', async () => {
      const HOSTILE = '<img src=x onerror="document.title=1">';
      const ro = new Stub(fixture({ readOnly: true, extra: [{ ino: 4242, size: 4096, name: HOSTILE, exporter: '<b>drv</b>', count: null, refs: [], importers: [{ device: '<i>dev</i>', mapped: false }], cma: null }] }));
      await ro.start();
      try {
        const p2 = await browser.newPage();
        p2.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        await p2.goto(ro.url + '/');
        await p2.waitForFunction(() => (window.__dash?.frames ?? 0) >= 1);
        assert.equal(await p2.locator('#source-kind').textContent(), 'this machine');
        assert.equal(await p2.locator('#readonly').isVisible(), true);
        assert.equal(await p2.locator('#controls').isVisible(), false);
        assert.equal(await p2.locator('#alloc-btn').isVisible(), false);
        assert.deepEqual(await p2.locator('#cannot-read li').allTextContents(), ['cannot read /sys/kernel/debug/dma_buf/bufinfo: root only', 'cannot read /proc/1/fdinfo: another user\'s process']);
        assert.equal(await p2.locator('#buf-count').textContent(), '21 buffers');
        // Names from the machine are text, never HTML.
        await p2.locator('#buf-filter').fill('4242');
        assert.deepEqual(await p2.locator('#buf-rows .row[data-ino="4242"] span').allTextContents(), ['4242', '4 KiB', HOSTILE, '<b>drv</b>', '', '<i>dev</i>', '0']);
        await p2.locator('#buf-rows .row[data-ino="4242"]').click();
        assert.equal(await p2.locator('#d-title').textContent(), `inode 4242 "${HOSTILE}"`);
        assert.deepEqual(await p2.locator('#d-importers li').allTextContents(), ['<i>dev</i>: attached, not mapped']);
        assert.equal(await p2.locator('img, b, i:not(.legend i):not(#timeline-legend i)').count(), 0);
        await p2.close();
      } finally {
        await ro.stop();
      }
    });

    assert.deepEqual(problems, []);
    const origin = new URL(stub.url).origin;
    const bad = requests.filter((u) => {
      const url = new URL(u);
      return url.origin !== origin || !(url.pathname === '/' || url.pathname.startsWith('/api/'));
    });
    assert.deepEqual(bad, []);
    assert.deepEqual(stub.others, []);
  } finally {
    await stub.stop();
    await browser.close();
  }
});

test('in Chromium: 10,000 buffers, deltas of 100 changed buffers: the main-thread time of each update', { skip: typeof pw === 'string' ? pw : false, timeout: 180_000 }, async () => {
  const { chromium } = pw as Playwright;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const N = 10_000;
  const snap = fixture({ n: N });
  const stub = new Stub(snap);
  await stub.start();
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(stub.url + '/');
    await page.waitForFunction(() => window.__dash?.snapshots === 1 && (window.__dash?.frames ?? 0) >= 1);
    const first = (await page.evaluate('window.__dash.applyMs[0]')) as number;
    assert.equal(await page.locator('#buf-count').textContent(), '10,000 buffers');
    const visible = await page.locator('#buf-rows .row:not([hidden])').count();
    assert.ok(visible > 5 && visible < 40, `only the visible rows are in the document (${visible})`);

    // Sort by size (descending) so that changed sizes move rows, as on a live machine.
    await page.locator('#buf-head button[data-key="size"]').click();
    const live = new Map(snap.buffers.map((b) => [b.ino, b]));
    let seq = 1;
    let nextIno = 200_000;
    let t = snap.t;
    const UPDATES = 20;
    const framesBefore = (await page.evaluate('window.__dash.frames')) as number;
    for (let u = 0; u < UPDATES; u++) {
      // 90 changed (size and maps), 5 new, 5 gone.
      const changed: DashBuffer[] = [];
      const keys = [...live.keys()];
      for (let k = 0; k < 90; k++) {
        const b = live.get(keys[(u * 977 + k * 101) % keys.length]!)!;
        const nb = { ...b, size: b.size + 4096 * ((u + k) % 7), refs: b.refs.map((r) => ({ ...r, maps: (r.maps + 1) % 3 })) };
        live.set(nb.ino, nb);
        changed.push(nb);
      }
      for (let k = 0; k < 5; k++) {
        const nb: DashBuffer = { ino: nextIno++, size: 256 * KiB, name: `new-${u}-${k}`, exporter: 'system', count: 1, refs: [{ pid: 400, fds: 1, maps: 0 }], importers: [], cma: null };
        live.set(nb.ino, nb);
        changed.push(nb);
      }
      const gone = keys.slice(u * 5 + 1000, u * 5 + 1005);
      for (const g of gone) live.delete(g);
      t += 250;
      const all = [...live.values()];
      const delta: DashDelta = {
        seq: seq + 1, base: seq, t,
        buffers: changed, gone,
        heaps: snap.heaps.map((h) => ({ ...h, used: all.filter((b) => b.exporter === h.name).reduce((s, b) => s + b.size, 0) })),
        areas: areasFor(all, true),
        processes: processesFor(all),
        timeline: [{ t, heaps: { system: 1, 'linux,cma': 2, secure: 3 }, buffers: all.length }],
      };
      seq++;
      stub.send('delta', delta);
      await page.waitForFunction((a) => window.__dash?.seq === a.q && (window.__dash?.frames ?? 0) >= a.f, { q: seq, f: framesBefore + u + 1 });
    }
    const d = (await page.evaluate('window.__dash')) as { updates: number; applyMs: number[]; maxApplyMs: number; frames: number };
    const times = d.applyMs.slice(-UPDATES);
    assert.equal(d.frames, framesBefore + UPDATES, 'one frame per update');
    const sorted = [...times].sort((a, b) => a - b);
    const median = (sorted[9]! + sorted[10]!) / 2;
    console.log(
      `dashboard page, ${N} buffers, ${UPDATES} deltas of 100 changed buffers (+ heaps, both areas' runs, processes, a timeline point): ` +
        `main-thread time per update (parse + apply + draw) median ${median.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ` +
        `the first snapshot ${first.toFixed(1)} ms. All: ${times.map((x) => x.toFixed(1)).join(' ')}`,
    );
    // Behaviour: the counts and the rows follow the deltas.
    assert.equal(await page.locator('#buf-count').textContent(), '10,000 buffers');
    const top = await page.locator('#buf-rows .row:not([hidden]) .c-ino').allTextContents();
    const bySize = [...live.values()].sort((a, b) => b.size - a.size || a.ino - b.ino);
    assert.deepEqual(top, inos(bySize).slice(0, top.length));
    await page.locator('#buf-filter').fill('new-19-');
    assert.deepEqual(await page.locator('#buf-rows .row:not([hidden]) .c-ino').allTextContents(), ['200095', '200096', '200097', '200098', '200099']);
    assert.equal(await page.locator('#buf-count').textContent(), '5 of 10,000 buffers');
    // Scrolling to the end shows the last rows (of the unfiltered table).
    await page.locator('#buf-filter').fill('');
    assert.equal(await page.locator('#buf-count').textContent(), '10,000 buffers');
    await page.locator('#buf-scroll').focus();
    await page.keyboard.press('End');
    await page.locator('#buf-rows .row[aria-selected="true"]').waitFor();
    assert.equal(await page.locator('#buf-rows .row[aria-selected="true"] .c-ino').textContent(), String(bySize.at(-1)!.ino));
    assert.deepEqual(problems, []);
  } finally {
    await stub.stop();
    await browser.close();
  }
});
