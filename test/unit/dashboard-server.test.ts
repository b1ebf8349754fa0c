// The dashboard's server and sources at the HTTP level (Node's fetch against port 0): the state's
// numbers against the emulated kernel's own files, the event stream (a snapshot, then deltas that
// follow allocations and frees made through the API), faults, the safety checks (origin, host,
// token, bodies), the read-only sources (the real kernel, a dmaheap run), and a client that never
// reads. No sleeps: every wait is on an event (a server-sent event, a client callback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dmabufFsOf, parseBufinfo, readDmabufInfo } from '../../src/api/dmabuf-info.js';
import type { DmabufFs } from '../../src/api/dmabuf-info.js';
import { runDemoWorkload } from '../../src/apps/cli/dump.js';
import { serveAttach } from '../../src/apps/cli/run-attach.js';
import { createEmulatedTarget, DmaHeapClient, EmulatedTarget } from '../../src/backends/emulated/index.js';
import type { EmulatedTarget as Target } from '../../src/backends/emulated/index.js';
import type { DashBuffer, DashDelta, DashSnapshot } from '../../src/apps/dashboard/model.js';
import { emulatedSource, runSource } from '../../src/apps/dashboard/sources.js';
import type { DashboardSource, DashState } from '../../src/apps/dashboard/sources.js';
import { linuxSource, parseCmaBitmap } from '../../src/apps/dashboard/linux.js';
import { startDashboard } from '../../src/apps/dashboard/server.js';
import type { Dashboard, DashboardOptions } from '../../src/apps/dashboard/server.js';
import type { FilesTarget } from '../../src/apps/common/backend.js';
import { formatReport } from '../../src/kernel/sanitizer/report.js';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Rig {
  readonly t: Target;
  readonly dash: Dashboard;
  readonly base: string;
  readonly warnings: string[];
  close(): Promise<void>;
}

async function rig(opts: Partial<DashboardOptions> & { demo?: boolean; sanitize?: boolean } = {}): Promise<Rig> {
  const t = createEmulatedTarget({ cmdline: 'cma=64M', devices: [{ name: 'isp0', dmaMask: 64 }], ...(opts.sanitize === true ? { sanitizer: { captureStacks: false } } : {}) });
  if (opts.demo !== false) runDemoWorkload(t.kernel);
  const warnings: string[] = [];
  const dash = await startDashboard({ source: emulatedSource(t.kernel, { label: 'test machine' }), warn: (l) => warnings.push(l), ...opts });
  const base = dash.url.replace(/\/(\?.*)?$/, '');
  return {
    t,
    dash,
    base,
    warnings,
    close: async () => {
      await dash.close();
      t.dispose();
    },
  };
}

async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return getJson(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

interface Err {
  readonly error: { readonly code: string; readonly message: string; readonly hint: string };
}

function isErr(v: unknown, code: string): Err {
  const e = v as Err;
  assert.equal(e.error.code, code, JSON.stringify(v));
  assert.equal(typeof e.error.message, 'string');
  assert.equal(typeof e.error.hint, 'string');
  return e;
}

/** An event-stream reader: next() resolves with each event as it comes. */
async function events(url: string): Promise<{ next(): Promise<{ event: string; data: unknown }>; close(): void }> {
  const ac = new AbortController();
  const r = await fetch(url, { signal: ac.signal });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = r.body!.getReader();
  const dec = new TextDecoder();
  let acc = '';
  return {
    async next() {
      for (;;) {
        const end = acc.indexOf('\n\n');
        if (end >= 0) {
          const block = acc.slice(0, end);
          acc = acc.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
          return { event, data: JSON.parse(data) };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        acc += dec.decode(value, { stream: true });
      }
    },
    close: () => ac.abort(),
  };
}

/** Waits for the first delta for which `pred` holds, applying the others (and failing on a lost one). */
async function deltaWhere(ev: Awaited<ReturnType<typeof events>>, seq: number, pred: (d: DashDelta) => boolean): Promise<DashDelta> {
  for (let i = 0; i < 400; i++) {
    const e = await ev.next();
    if (e.event === 'snapshot') {
      seq = (e.data as DashSnapshot).seq;
      continue;
    }
    assert.equal(e.event, 'delta');
    const d = e.data as DashDelta;
    assert.equal(d.base, seq, 'each delta is against the state sent before it');
    seq = d.seq;
    if (pred(d)) return d;
  }
  throw new Error('no such delta in 400 events');
}

test('the snapshot equals the kernel\'s own files: bufinfo sizes per heap, dmabuf_dump Rss/Pss, the CMA area, importers', async () => {
  const r = await rig();
  try {
    // an importer that maps the overlay (CMA) buffer
    const { t } = r;
    const et = new EmulatedTarget(t.kernel);
    const cam = new DmaHeapClient(et);
    const b = cam.allocate('default_cma_region', 128 * KiB, { name: 'dma-in' });
    const h = et.attach(b.fd, 'isp0');
    assert.notEqual(h.handle, null);
    assert.equal(et.mapAttachment(h.handle!, 0).errno, null);

    const { status, body } = await getJson(`${r.base}/api/snapshot`);
    assert.equal(status, 200);
    const s = body as DashSnapshot;
    assert.deepEqual(s.source, { kind: 'emulated', label: 'test machine', readOnly: false, cannotRead: [] });

    // every buffer of debugfs bufinfo, with its size, exporter, name and count
    const bufinfo = parseBufinfo(t.readFile('/sys/kernel/debug/dma_buf/bufinfo').text!)!;
    assert.deepEqual(
      s.buffers.map((x) => ({ inode: x.ino, size: x.size, exporter: x.exporter, name: x.name, count: x.count })).sort((x, y) => x.inode - y.inode),
      bufinfo.map((x) => ({ inode: x.inode, size: x.size, exporter: x.exporter, name: x.name, count: x.count })).sort((x, y) => x.inode - y.inode),
    );
    // each heap's use is the sum of its buffers' sizes in bufinfo
    for (const heap of s.heaps) assert.equal(heap.used, bufinfo.filter((x) => x.exporter === heap.name).reduce((n, x) => n + x.size, 0), heap.name);
    assert.equal(s.heaps.find((x) => x.name === 'system')?.used, 1 * MiB + 512 * KiB);

    // processes and refs as dmabuf_dump computes them from /proc
    const report = readDmabufInfo(dmabufFsOf(t));
    assert.deepEqual(s.processes.map((p) => ({ pid: p.pid, comm: p.comm, rss: p.rss, pss: p.pss, inodes: p.buffers })), report.processes.map((p) => ({ pid: p.pid, comm: p.comm, rss: p.rss, pss: p.pss, inodes: p.inodes })));
    for (const rb of report.buffers) assert.deepEqual(s.buffers.find((x) => x.ino === rb.inode)?.refs, rb.refs, `refs of ${rb.inode}`);
    assert.deepEqual(s.buffers.find((x) => x.name === 'fw-log')?.refs, [], 'a buffer only the kernel holds');

    // the importer, mapped
    const dmaIn = s.buffers.find((x) => x.name === 'dma-in')!;
    assert.deepEqual(dmaIn.importers, [{ device: 'isp0', mapped: true }]);

    // the CMA area: debugfs used and maxchunk; the overlay's and dma-in's pages carry their inodes
    const area = s.areas[0]!;
    const dir = `/sys/kernel/debug/cma/${area.name}`;
    assert.equal(area.pages, Number(t.readFile(`${dir}/count`).text));
    assert.equal(area.basePfn, Number(t.readFile(`${dir}/base_pfn`).text));
    assert.equal(area.pages - area.freePages, Number(t.readFile(`${dir}/used`).text));
    assert.equal(area.largestFreeRun, Number(t.readFile(`${dir}/maxchunk`).text));
    const overlay = s.buffers.find((x) => x.name === 'overlay')!;
    assert.deepEqual(overlay.cma, { area: area.name, page: 0, pages: 64 });
    assert.deepEqual(dmaIn.cma, { area: area.name, page: 64, pages: 32 });
    assert.deepEqual(area.runs, [0, 64, overlay.ino, 64, 32, dmaIn.ino, 96, area.pages - 96, 0]);
    assert.equal(s.timeline.length, 1);
    assert.deepEqual(s.timeline[0]!.heaps, Object.fromEntries(s.heaps.map((x) => [x.name, x.used])));
  } finally {
    await r.close();
  }
});

test('the event stream: a snapshot, then deltas with what POST /api/alloc and /api/free changed', async () => {
  const r = await rig();
  const ev = await events(`${r.base}/api/events`);
  try {
    const first = await ev.next();
    assert.equal(first.event, 'snapshot');
    const snap = first.data as DashSnapshot;
    const usedBefore = snap.heaps.find((h) => h.name === 'system')!.used!;

    const a = await post(`${r.base}/api/alloc`, { heap: 'system', size: '64K', name: 'by-hand', process: 'viewer' });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const made = a.body as { ino: number; pid: number; comm: string; size: number; heap: string };
    assert.equal(made.size, 64 * KiB);
    assert.equal(made.comm, 'viewer');
    const d = await deltaWhere(ev, snap.seq, (x) => x.buffers?.some((b) => b.ino === made.ino) === true);
    const nb = d.buffers!.find((b) => b.ino === made.ino)!;
    assert.deepEqual(nb, { ino: made.ino, size: 64 * KiB, name: 'by-hand', exporter: 'system', count: 1, refs: [{ pid: made.pid, fds: 1, maps: 0 }], importers: [], cma: null } satisfies DashBuffer);
    assert.equal(d.heaps?.find((h) => h.name === 'system')?.used, usedBefore + 64 * KiB);
    assert.deepEqual(d.processes?.find((p) => p.pid === made.pid), { pid: made.pid, comm: 'viewer', rss: 64 * KiB, pss: 64 * KiB, buffers: [made.ino] });

    const f = await post(`${r.base}/api/free`, { ino: made.ino });
    assert.deepEqual(f, { status: 200, body: { ino: made.ino, closed: 1, unmapped: 0, released: true } });
    const g = await deltaWhere(ev, d.seq, (x) => x.gone?.includes(made.ino) === true);
    assert.equal(g.heaps?.find((h) => h.name === 'system')?.used, usedBefore);
    // a freed buffer is gone from the next snapshot too
    const s2 = (await getJson(`${r.base}/api/snapshot`)).body as DashSnapshot;
    assert.equal(s2.buffers.some((b) => b.ino === made.ino), false);
    isErr((await post(`${r.base}/api/free`, { ino: made.ino })).body, 'no-buffer');
  } finally {
    ev.close();
    await r.close();
  }
});

test('sanitizer findings: a CPU write outside a SYNC bracket arrives as a delta with the report\'s text', async () => {
  const r = await rig({ demo: false, sanitize: true });
  const ev = await events(`${r.base}/api/events`);
  try {
    const first = await ev.next();
    assert.equal(first.event, 'snapshot');
    assert.deepEqual((first.data as DashSnapshot).findings, []);
    const c = new DmaHeapClient(r.t);
    const b = c.allocate('system', 4096, { name: 'unsynced' });
    const m = r.t.mmap(4096, 3, 1, b.fd, 0);
    assert.equal(r.t.writeMem(m.map!, 0, new Uint8Array([1])), null);
    const d = await deltaWhere(ev, (first.data as DashSnapshot).seq, (x) => (x.findings?.length ?? 0) > 0);
    const f = d.findings![0]!;
    assert.equal(f.id, 1);
    assert.equal(f.kind, 'cpu-access-outside-sync');
    assert.equal(f.text, formatReport(r.t.kernel.sanitizer!.reports()[0]!));
    assert.ok(f.t >= 0 && f.t <= d.t);
  } finally {
    ev.close();
    await r.close();
  }
});

test('POST /api/fault: the next allocation fails with the injected errno; bad specs and refused faults are 4xx', async () => {
  const r = await rig({ demo: false });
  try {
    const f = await post(`${r.base}/api/fault`, { spec: 'alloc:nth=1,errno=ENOSPC,heap=system' });
    assert.equal(f.status, 200, JSON.stringify(f.body));
    assert.equal((f.body as { kind: string }).kind, 'alloc');
    const a = await post(`${r.base}/api/alloc`, { heap: 'system', size: 4096 });
    assert.equal(a.status, 409);
    assert.match(isErr(a.body, 'ENOSPC').error.message, /ENOSPC/);
    // nth=1: the one after succeeds
    assert.equal((await post(`${r.base}/api/alloc`, { heap: 'system', size: 4096 })).status, 200);
    const bad = await post(`${r.base}/api/fault`, { spec: 'alloc:bogus=1' });
    assert.equal(bad.status, 400);
    assert.match(isErr(bad.body, 'bad-fault').error.message, /'bogus' is not a key of alloc/);
    // a memory fault: pin pages of the CMA area; they show as -2 in its map
    const before = (await getJson(`${r.base}/api/snapshot`)).body as DashSnapshot;
    const area = before.areas[0]!;
    const pin = await post(`${r.base}/api/fault`, { spec: `pin:pages=16,pfn=${area.basePfn + 32}` });
    assert.equal(pin.status, 200, JSON.stringify(pin.body));
    const s = (await getJson(`${r.base}/api/snapshot`)).body as DashSnapshot;
    assert.deepEqual(s.areas[0]!.runs, [0, 32, 0, 32, 16, -2, 48, area.pages - 48, 0]);
    const huge = await post(`${r.base}/api/fault`, { spec: 'shrink-cma:size=1G' });
    assert.equal(huge.status, 409);
    isErr(huge.body, 'fault-refused');
    isErr((await post(`${r.base}/api/alloc`, { heap: 'nope', size: 4096 })).body, 'no-heap');
  } finally {
    await r.close();
  }
});

test('safety: other origins and hosts get 403, bodies are bounded and strict, every error is JSON', async () => {
  const r = await rig({ demo: false });
  try {
    const port = new URL(r.base).port;
    isErr((await getJson(`${r.base}/api/snapshot`, { headers: { origin: 'http://evil.example' } })).body, 'bad-origin');
    assert.equal((await fetch(`${r.base}/api/snapshot`, { headers: { origin: 'http://evil.example' } })).status, 403);
    assert.equal((await post(`${r.base}/api/alloc`, { heap: 'system', size: 4096 }, { origin: `http://localhost:${port}` })).status, 403, 'Origin must be the Host the page was loaded from');
    assert.equal((await post(`${r.base}/api/alloc`, { heap: 'system', size: 4096 }, { origin: `http://127.0.0.1:${port}` })).status, 200);
    // DNS rebinding: a name that resolves to 127.0.0.1 is not this server's
    const rebound = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => s.end(`GET /api/snapshot HTTP/1.1\r\nHost: attacker.example:${port}\r\nConnection: close\r\n\r\n`));
      let acc = '';
      s.on('data', (d) => (acc += d.toString()));
      s.on('end', () => resolve(acc));
      s.on('error', reject);
    });
    assert.match(rebound, /^HTTP\/1\.1 403/);
    assert.match(rebound, /"code":"bad-host"/);

    const bad = await post(`${r.base}/api/alloc`, '{"heap": "system",');
    assert.equal(bad.status, 400);
    isErr(bad.body, 'bad-json');
    assert.equal((await post(`${r.base}/api/alloc`, '[1,2]')).status, 400);
    isErr((await post(`${r.base}/api/alloc`, { heap: 'system', size: 4096, extra: 1 })).body, 'bad-request');
    isErr((await post(`${r.base}/api/alloc`, { heap: 'system', size: -1 })).body, 'bad-size');
    isErr((await post(`${r.base}/api/alloc`, { heap: 'system', size: '12Q' })).body, 'bad-size');
    isErr((await post(`${r.base}/api/free`, { ino: 'x' })).body, 'bad-request');
    const big = await post(`${r.base}/api/fault`, { spec: 'x'.repeat(70 * 1024) });
    assert.equal(big.status, 413);
    isErr(big.body, 'too-large');
    const text = await getJson(`${r.base}/api/alloc`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(text.status, 415);
    assert.equal((await getJson(`${r.base}/api/alloc`)).status, 405);
    assert.equal((await getJson(`${r.base}/api/snapshot`, { method: 'DELETE' })).status, 405);
    isErr((await getJson(`${r.base}/nope`)).body, 'not-found');
    isErr((await post(`${r.base}/api/workload/pause`, {})).body, 'no-workload');
    // a few random bodies: each a 4xx JSON answer, and the server goes on
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 40; i++) {
      const len = Math.floor(rnd() * 200);
      const body = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
      const path = ['/api/alloc', '/api/free', '/api/fault', '/api/workload/step'][i % 4]!;
      const res = await fetch(`${r.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.ok(res.status >= 400 && res.status < 500, `${path} ${res.status}`);
      assert.equal(typeof ((await res.json()) as Err).error.code, 'string');
    }
    assert.equal((await getJson(`${r.base}/api/snapshot`)).status, 200);
    const page = await fetch(`${r.base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<html/);
  } finally {
    await r.close();
  }
});

test('bound beyond loopback: a warning, and a token on every request (401 without it)', async () => {
  const r = await rig({ demo: false, host: '0.0.0.0' });
  try {
    assert.match(r.warnings.join('\n'), /listening on 0\.0\.0\.0, beyond this machine/);
    const token = r.dash.token!;
    assert.ok(token.length >= 32);
    assert.ok(r.dash.url.endsWith(`/?token=${token}`));
    const local = `http://127.0.0.1:${new URL(r.base).port}`;
    isErr((await getJson(`${local}/api/snapshot`)).body, 'token');
    assert.equal((await fetch(`${local}/api/snapshot`)).status, 401);
    assert.equal((await fetch(`${local}/`)).status, 401);
    assert.equal((await fetch(`${local}/api/snapshot?token=wrong`)).status, 401);
    assert.equal((await fetch(`${local}/api/snapshot`, { headers: { authorization: 'Bearer nope' } })).status, 401);
    assert.equal((await fetch(`${local}/api/snapshot`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await fetch(`${local}/api/snapshot?token=${token}`)).status, 200);
    assert.equal((await post(`${local}/api/alloc?token=${token}`, { heap: 'system', size: 4096 })).status, 200);
    assert.equal((await post(`${local}/api/alloc`, { heap: 'system', size: 4096 })).status, 401);
  } finally {
    await r.close();
  }
});

/** A fake /proc, /sys and /dev of a real machine: two heaps, a CMA area with its debugfs bitmap, one process holding one buffer. */
function fakeLinux(): { fs: DmabufFs; files: FilesTarget; calls: string[] } {
  const files = new Map<string, string>([
    ['/proc/42/comm', 'camera\n'],
    ['/proc/42/fdinfo/5', 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t7\nsize:\t65536\ncount:\t1\nexp_name:\tsystem\nname:\tframe\n'],
    ['/proc/42/maps', ''],
    ['/sys/kernel/debug/dma_buf/bufinfo', '\nDma-buf Objects:\nsize\tflags\tmode\tcount\texp_name\tino\tname\n00065536\t00000002\t00080007\t00000001\tsystem\t00000007\tframe\n\nTotal 1 objects, 65536 bytes\n'],
    ['/sys/kernel/debug/cma/reserved/base_pfn', '262144\n'],
    ['/sys/kernel/debug/cma/reserved/count', '64\n'],
    ['/sys/kernel/debug/cma/reserved/order_per_bit', '0\n'],
    // bits 0-3 and 32-39 set
    ['/sys/kernel/debug/cma/reserved/bitmap', '15 255\n'],
  ]);
  const dirs = new Map<string, string[]>([
    ['/proc', ['42', 'self']],
    ['/proc/42/fdinfo', ['5']],
    ['/dev/dma_heap', ['system', 'reserved']],
    ['/sys/kernel/mm/cma', ['reserved']],
  ]);
  const calls: string[] = [];
  const fs: DmabufFs = {
    readdir: (p) => (calls.push(`readdir ${p}`), dirs.get(p) ?? null),
    readFile: (p) => (calls.push(`readFile ${p}`), files.get(p) ?? null),
    readlink: (p) => (calls.push(`readlink ${p}`), null),
  };
  const ft: FilesTarget = {
    readdir: (p) => ({ ret: -1, errno: p.startsWith('/sys/kernel/debug') ? 'EACCES' : 'ENOENT', names: null }),
    readFile: () => ({ ret: -1, errno: 'ENOENT', text: null }),
    readlink: () => ({ ret: -1, errno: 'ENOENT', text: null }),
  };
  return { fs, files: ft, calls };
}

test('the linux source: read through files only, the CMA map from the debugfs bitmap, every control refused', async () => {
  const f = fakeLinux();
  const warnings: string[] = [];
  const dash = await startDashboard({ source: linuxSource({ fs: f.fs, files: f.files, label: 'this machine: Linux test' }), warn: (l) => warnings.push(l) });
  const base = dash.url.replace(/\/$/, '');
  try {
    const s = (await getJson(`${base}/api/snapshot`)).body as DashSnapshot;
    assert.equal(s.source.kind, 'linux');
    assert.equal(s.source.readOnly, true);
    assert.deepEqual(s.heaps.map((h) => [h.name, h.kind, h.capacity, h.used]), [['reserved', 'cma', 64 * 4096, 0], ['system', 'system', null, 65536]]);
    assert.deepEqual(s.areas, [{ name: 'reserved', basePfn: 262144, pages: 64, pageSize: 4096, freePages: 52, largestFreeRun: 28, runs: [0, 4, -1, 4, 28, 0, 32, 8, -1, 40, 24, 0] }]);
    assert.deepEqual(s.buffers, [{ ino: 7, size: 65536, name: 'frame', exporter: 'system', count: 1, refs: [{ pid: 42, fds: 1, maps: 0 }], importers: [], cma: null }]);
    assert.deepEqual(s.processes, [{ pid: 42, comm: 'camera', rss: 65536, pss: 65536, buffers: [7] }]);
    for (const [path, body] of [['/api/alloc', { heap: 'system', size: 4096 }], ['/api/free', { ino: 7 }], ['/api/fault', { spec: 'alloc:nth=1' }], ['/api/workload/pause', {}], ['/api/workload/step', { us: 10 }]] as const) {
      const r = await post(`${base}${path}`, body);
      assert.equal(r.status, 403, path);
      assert.match(isErr(r.body, 'read-only').error.message, /never changes it/);
    }
    // it only listed directories and read files: never a heap node
    assert.equal(f.calls.some((c) => /^readFile \/dev\//.test(c)), false);
  } finally {
    await dash.close();
  }
  // without debugfs: the areas are left out, and why is said
  const g = fakeLinux();
  const noDebug: DmabufFs = { ...g.fs, readFile: (p) => (p.startsWith('/sys/kernel/debug/') ? null : g.fs.readFile(p)) };
  const s = linuxSource({ fs: noDebug, files: g.files }).snapshot(0) as DashState;
  assert.deepEqual(s.areas, []);
  assert.ok(s.source.cannotRead.includes('/sys/kernel/debug/cma: root only; the CMA page maps need it'), JSON.stringify(s.source.cannotRead));
  assert.ok(s.source.cannotRead.some((l) => l.startsWith('/sys/kernel/debug/dma_buf/bufinfo: root only') || l.startsWith('the system-wide buffer list')), JSON.stringify(s.source.cannotRead));
});

test('parseCmaBitmap: u32 words, order_per_bit, refuses what is not a u32 array', () => {
  assert.deepEqual(parseCmaBitmap('0 0', 64, 0), []);
  assert.deepEqual(parseCmaBitmap('4294967295 1', 64, 0), [{ first: 0, count: 33 }]);
  assert.deepEqual(parseCmaBitmap('6', 16, 2), [{ first: 4, count: 8 }]);
  assert.equal(parseCmaBitmap('1 x', 64, 0), null);
  assert.equal(parseCmaBitmap('4294967296', 32, 0), null);
});

test('the run source: a dmaheap run answers op dashboard on its socket; the dashboard of it is read-only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-dash-run-'));
  const old = process.env['XDG_RUNTIME_DIR'];
  process.env['XDG_RUNTIME_DIR'] = dir;
  const t = createEmulatedTarget({ cmdline: 'cma=64M' });
  runDemoWorkload(t.kernel);
  const warnings: string[] = [];
  const served = serveAttach(t.kernel, 'emulated Linux 7.0.0', (l) => warnings.push(l));
  assert.notEqual(served, null, warnings.join('\n'));
  try {
    const src: DashboardSource = runSource(String(process.pid));
    const dash = await startDashboard({ source: src, warn: (l) => warnings.push(l) });
    try {
      const base = dash.url.replace(/\/$/, '');
      const s = (await getJson(`${base}/api/snapshot`)).body as DashSnapshot;
      assert.equal(s.source.kind, 'run');
      assert.equal(s.source.readOnly, true);
      assert.equal(s.source.label, `dmaheap run (pid ${process.pid}): emulated Linux 7.0.0`);
      const report = readDmabufInfo(dmabufFsOf(t));
      assert.deepEqual(s.processes.map((p) => [p.pid, p.rss, p.pss]), report.processes.map((p) => [p.pid, p.rss, p.pss]));
      assert.equal(s.buffers.length, 3);
      const r = await post(`${base}/api/alloc`, { heap: 'system', size: 4096 });
      assert.equal(r.status, 403);
      assert.match(isErr(r.body, 'read-only').error.message, /belongs to its program/);
    } finally {
      await dash.close();
    }
    // a run that is not there: the source's error, not a crash
    await assert.rejects(async () => runSource('999999999').snapshot(0), /cannot reach a dmaheap run/);
  } finally {
    served!.close();
    t.dispose();
    if (old === undefined) delete process.env['XDG_RUNTIME_DIR'];
    else process.env['XDG_RUNTIME_DIR'] = old;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that never reads does not stall the server: it is skipped (nothing queued), others are answered, it gets a fresh snapshot when it reads again', async () => {
  // a source whose every state changes every buffer (about 1.5 MB of delta per update)
  let round = 0;
  const bufs = (n: number): DashBuffer[] => Array.from({ length: 10_000 }, (_, i) => ({ ino: i + 1, size: 4096, name: `buffer-${i}-round-${n}`, exporter: 'system', count: 1, refs: [{ pid: 100, fds: 1, maps: 0 }], importers: [], cma: null }));
  const source: DashboardSource = {
    kind: 'emulated',
    snapshot: () => ({ source: { kind: 'emulated', label: 'churn', readOnly: false, cannotRead: [] }, heaps: [], areas: [], buffers: bufs(++round), processes: [], findings: [], workload: null }),
  };
  let opened: (() => void) | null = null;
  const dash = await startDashboard({ source, warn: () => undefined, onClient: (e) => e === 'open' && opened?.() });
  const { port } = new URL(dash.url);
  const sock = connect(Number(port), '127.0.0.1');
  let ev: Awaited<ReturnType<typeof events>> | null = null;
  try {
    sock.pause();
    await new Promise<void>((resolve) => {
      opened = resolve;
      sock.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
    // a client that reads: each of its deltas is one update of the server
    ev = await events(`${dash.url}api/events`);
    let e = await ev.next();
    assert.equal(e.event, 'snapshot');
    let seq = (e.data as DashSnapshot).seq;
    // the silent client fills its socket's buffers, then stays blocked; its backlog does not grow
    let stuckAt: number | null = null;
    let stuckFor = 0;
    for (let i = 0; i < 200 && stuckFor < 4; i++) {
      e = await ev.next();
      if (e.event === 'delta') assert.equal((e.data as DashDelta).base, seq);
      seq = (e.data as { seq: number }).seq;
      const raw = dash.clients()[0]!;
      if (!raw.blocked) {
        stuckAt = null;
        stuckFor = 0;
        continue;
      }
      if (stuckAt === null) stuckAt = raw.buffered;
      assert.equal(raw.buffered, stuckAt, 'nothing is queued for a blocked client');
      stuckFor++;
    }
    assert.equal(stuckFor, 4, 'the silent client was blocked for 4 updates in a row');
    // the server answers others meanwhile
    assert.equal((await fetch(`${dash.url}api/snapshot`)).status, 200);
    // it reads again: what was written drains, then it is sent the newest state as a snapshot
    let text = '';
    let snapshots = 0;
    await new Promise<void>((resolve) => {
      sock.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        let at = 0;
        for (;;) {
          const k = text.indexOf('event: ', at);
          if (k < 0 || k + 20 > text.length) break;
          if (text.startsWith('event: snapshot', k)) snapshots++;
          at = k + 7;
        }
        text = text.slice(Math.max(0, at - 1));
        if (snapshots >= 2) resolve();
      });
      sock.resume();
    });
    assert.ok(snapshots >= 2);
  } finally {
    ev?.close();
    sock.destroy();
    await dash.close();
  }
});
