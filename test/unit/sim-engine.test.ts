// The simulation engine (src/apps/sim/engine.ts) and `dmaheap simulate`: failures with the
// kernel's reasons, determinism for a seed, sweeps and profile comparisons, CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, SimRunner } from '../../src/apps/sim/engine.js';
import type { SimResult } from '../../src/apps/sim/result.js';
import { parseWorkload } from '../../src/apps/sim/workload.js';
import { runCaptured } from './cli-helpers.js';

const root = (p: string) => new URL(`../../../${p}`, import.meta.url).pathname;

/** Eight 1 MiB buffers at the start of a 16 MiB area, every other one freed, then 9 MiB asked for. */
const FRAG = `duration: 2s
sample: 100ms
script:
${[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `  - { t: 0, op: alloc, process: app, id: a${i}, heap: reserved, size: 1M }`).join('\n')}
${[1, 3, 5, 7].map((i) => `  - { t: 0.5, op: free, process: app, id: a${i} }`).join('\n')}
  - { t: 1, op: alloc, process: app, id: big, heap: reserved, size: 9M, expect: ok }
  - { t: 1, op: alloc, process: app, id: huge, heap: reserved, size: 32M }
  - { t: 1, op: alloc, process: app, id: gone, heap: 'linux,cma', size: 1M }
  - { t: 1.5, op: alloc, process: app, id: fits, heap: reserved, size: 8M, expect: 12 }
`;

const run = (text: string, machine: Record<string, unknown>, seed?: number): SimResult =>
  simulate(parseWorkload(text, 'w.yaml'), { machine, ...(seed !== undefined ? { seed } : {}) });

test('failures say why: fragmented (largest free run vs request), area too small, no heap; replays say what differs', () => {
  const r = run(FRAG, { cmdline: 'cma=16M' });
  assert.deepEqual(
    r.failures.map((f) => [f.t, f.process, f.stream, f.heap, f.size, f.errno, f.reason, f.detail, f.differs ?? null, f.area ?? null]),
    [
      [1_000_000, 'app', 'big', 'reserved', 9437184, 'ENOMEM', 'fragmented', '3072 pages free in CMA area reserved, but the largest free run is 2048 pages (8 MiB) and the request needs 2304 contiguous pages', 'the trace saw this allocation succeed; here it failed with ENOMEM (fragmented)', { name: 'reserved', freePages: 3072, largestFreeRun: 2048, requestPages: 2304 }],
      [1_000_000, 'app', 'huge', 'reserved', 33554432, 'ENOMEM', 'area-too-small', 'the request (8192 pages, 32 MiB) is larger than the whole CMA area reserved (4096 pages, 16 MiB)', null, { name: 'reserved', freePages: 3072, largestFreeRun: 2048, requestPages: 8192 }],
      [1_000_000, 'app', 'gone', 'linux,cma', 1048576, 'ENOENT', 'no-heap', "no heap named 'linux,cma' on this machine (from Linux 6.17 the default CMA area's heap is 'default_cma_region': the same memory under its new name, if the recording's 'linux,cma' was the default area)", null, null],
    ],
  );
  assert.deepEqual(r.differences?.map((f) => [f.t, f.stream, f.errno, f.detail]), [[1_500_000, 'fits', 'OK', 'the trace saw ENOMEM; here it succeeded']]);
  assert.deepEqual(r.areas, [{ name: 'reserved', heap: 'default_cma_region, reserved', basePfn: r.areas[0]!.basePfn, pages: 4096, pageSize: 4096, minFreePages: 1024, minLargestFreeRun: 256 }]);
  // the map: the first half held by the four survivors and the free holes between them, then the 8 MiB buffer
  const m = r.maps[0]!;
  assert.equal(m.cells, 256);
  assert.deepEqual(m.owners, ['app/a1', 'app/a2', 'app/a3', 'app/a4', 'app/a5', 'app/a6', 'app/a7', 'app/a8', 'app/fits']);
  const last = m.frames[m.frames.length - 1]!.cells;
  const run16 = (from: number) => last.slice(from, from + 16);
  assert.deepEqual([run16(0)[0], run16(16)[0], run16(32)[0], run16(48)[0], run16(112)[0], run16(128)[0], run16(240)[0]], [-1, 1, -1, 3, 7, 8, 8]);
});

test('the same seed gives the same run; another seed moves the jitter', () => {
  const text = `duration: 30s
sample: 1s
processes:
  - name: app
    repeat: { every: 2s, times: 10, jitter: 1500ms, life: 3s }
    streams:
      - { name: win, heap: system, size: 1M, count: 3, fps: 10, cpu: write }
  - name: cam
    streams:
      - { name: raw, heap: reserved, size: 3M, mode: churn, fps: 30, hold: 4 }
`;
  const strip = (r: SimResult) => JSON.stringify({ ...r, wallMs: 0 });
  const a = run(text, { cmdline: 'cma=32M' }, 5);
  const b = run(text, { cmdline: 'cma=32M' }, 5);
  const c = run(text, { cmdline: 'cma=32M' }, 6);
  assert.equal(strip(a), strip(b));
  assert.notEqual(JSON.stringify(a.processes.map((p) => p.start)), JSON.stringify(c.processes.map((p) => p.start)));
  assert.equal(a.counts.allocations, b.counts.allocations);
  // 30 s of a 30 fps churn stream: a frame every 33333 µs from the first period on allocates
  assert.equal(a.heaps.find((h) => h.name === 'reserved')!.allocations, 900);
  assert.equal(a.counts.failures, 0);
});

test('cgroup limits and importers that cannot reach a buffer are failures with their numbers', () => {
  const text = `duration: 1s
sample: 100ms
cgroups:
  - { name: apps, memoryMax: 10M }
processes:
  - name: app
    cgroup: apps
    streams:
      - { name: tex, heap: system, size: 4M, count: 3 }
  - name: cam
    streams:
      - { name: raw, heap: system, size: 8M, count: 1, importers: [32e00000.isi] }
      - { name: nodev, heap: system, size: 4K, count: 1, importers: [no-such-device] }
`;
  const r = run(text, { board: 'imx8mp', profile: '7.0', cmdline: 'dma_heap.mem_accounting=1', cmdlineGiven: true });
  assert.deepEqual(r.failures.map((f) => [f.stream, f.errno, f.reason, f.detail]), [
    ['tex', 'ENOMEM', 'cgroup-limit', 'cgroup apps: memory.current 8.0 MiB + 4 MiB exceeds memory.max 10 MiB'],
    ['raw', 'EIO', 'dma-mask', '32e00000.isi needs physically contiguous memory and system is not (dma_buf_map_attachment: EIO)'],
  ]);
  assert.deepEqual(r.warnings, ["importer 'no-such-device' is not a device of this machine (it has 32e00000.isi, 32e80000.display-controller, 38300000.video-codec, 38310000.video-codec, 3b6e8000.dsp): its imports are left out"]);
  assert.ok(r.series.cgroup['apps']!.some((v) => v >= 8 * 1048576));
});

test('dmaheap simulate: text, CSV, a sweep with the smallest size, a profile comparison', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-'));
  try {
    const f = join(dir, 'frag.yaml');
    writeFileSync(f, FRAG);
    const t = await runCaptured('simulate', f, '--cmdline', 'cma=16M');
    assert.equal(t.code, 0);
    assert.match(t.out, /^workload frag: 2s simulated on Linux 7\.0\.0 x86_64, cmdline 'cma=16M', seed 1 \(\d+\.\d s\)\nevents 36, allocations 9, frees 4, frames 0, failures 3\n/);
    assert.match(t.out, /\n1 allocation of the replay succeeded here although the trace saw it fail:\n {2}1\.500s {2}app\/fits {2}reserved {2}8 MiB {2}the trace saw ENOMEM; here it succeeded\n/);
    assert.match(t.out, /\n3 failed \(fragmented 1, area-too-small 1, no-heap 1\):\n {2}1\.000s {2}app\/big {2}reserved {2}9 MiB {2}ENOMEM {2}fragmented: 3072 pages free/);
    const csv = await runCaptured('simulate', f, '--cmdline', 'cma=16M', '--csv', '-');
    assert.equal(csv.out.split('\n')[0], 't_seconds,heap_bytes:system,heap_bytes:default_cma_region,heap_bytes:reserved,cma_free_pages:reserved,cma_largest_free_run_pages:reserved,dmabuf_rss_bytes:app,dmabuf_pss_bytes:app,mem_free_bytes');
    // t = 1 s: the sample comes before the script's steps of the same instant (4 of the 1 MiB buffers left)
    assert.equal(csv.out.split('\n')[11], '1,0,0,4194304,3072,2048,4194304,4194304,2111696896');
    // without the 9 MiB request that only fragmentation refuses, the sweep's answer is exact
    const churn = join(dir, 'churn.yaml');
    writeFileSync(churn, 'duration: 3s\nsample: 100ms\nprocesses:\n  - name: cam\n    streams:\n      - { name: raw, heap: reserved, size: 3M, mode: churn, fps: 30, hold: 4 }\n');
    const sw = await runCaptured('simulate', churn, '--sweep', 'cma=4M..32M', '--points', '8', '--jobs', '2', '--json');
    assert.equal(sw.code, 0, sw.err);
    const s = JSON.parse(sw.out) as { smallest: number; largestFailing: number; points: { cma: number; areaBytes: number; failures: number[] }[] };
    // four 3 MiB buffers live at once: 12 MiB; the kernel rounds cma=11M up to a 12 MiB area (2 MiB pageblocks)
    assert.equal(s.smallest, 11 * 1048576);
    assert.equal(s.largestFailing, 10 * 1048576);
    assert.equal(s.points.find((p) => p.cma === s.smallest)!.areaBytes, 12 * 1048576);
    const cmp = await runCaptured('simulate', f, '--cmdline', 'cma=16M', '--compare-profiles', '6.12,7.0');
    assert.equal(cmp.code, 0, cmp.err);
    assert.match(cmp.out, /\n6\.12\.118 -> 7\.0\.0: renamed reserved -> default_cma_region \(old name kept\)$/);
    const bad = await runCaptured('simulate', join(dir, 'none.yaml'));
    assert.deepEqual([bad.code, bad.err], [2, `dmaheap simulate: ${join(dir, 'none.yaml')}: no such file\nhint: give a workload file (YAML or JSON; examples in examples/workloads/)`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped camera example runs on imx8mp 6.19 (one minute of it)', () => {
  const text = readFileSync(root('examples/workloads/camera-display-codec.yaml'), 'utf8').replace('duration: 1h', 'duration: 1m');
  const r = simulate(parseWorkload(text, root('examples/workloads/camera-display-codec.yaml')), { machine: { board: 'imx8mp', profile: '6.19' } });
  assert.equal(r.profile, '6.19.0');
  assert.deepEqual(r.heaps.filter((h) => h.allocations > 0).map((h) => h.name), ['system', 'default_cma_region', 'linux,cma', 'cma-video', 'framebuffer@78000000']);
  assert.deepEqual(r.failures, []);
  assert.equal(r.heaps.find((h) => h.name === 'linux,cma')!.allocations, 1800);
});

test('faults in a workload: an injected errno, a fatal signal mid-allocation, pins that stop migration, a shrunk area, RAM taken', () => {
  const text = `duration: 4s
sample: 100ms
processes:
  - name: cam
    streams:
      - { name: raw, heap: reserved, size: 1M, mode: churn, fps: 10, hold: 2 }
  - name: gfx
    streams:
      - { name: tex, heap: system, size: 64K, mode: churn, fps: 10, hold: 1 }
pressure:
  - { kind: pin, pages: 64, every: 500ms, hold: 200ms }
faults:
  - { kind: fail-alloc, heap: reserved, nth: 3, errno: EBUSY }
  - { kind: signal, process: gfx, nth: 5 }
  - { kind: shrink-cma, pages: 3072, at: 2s }
  - { kind: take-memory, size: 1G, at: 1s, until: 3s }
`;
  const r = run(text, { cmdline: 'cma=16M' });
  assert.deepEqual(r.failures.map((f) => [f.t, f.stream, f.errno, f.reason]), [
    [100_000, 'raw', 'ENOMEM', 'pinned'],
    [300_000, 'raw', 'EBUSY', 'injected'],
    [500_000, 'raw', 'ENOMEM', 'pinned'],
    [500_000, 'tex', 'EINTR', 'signal'],
  ]);
  assert.equal(r.counts.injected, 2);
  assert.deepEqual(r.processes.map((p) => [p.name, p.end, p.killed]), [['cam', null, null], ['gfx', 500_000, 'SIGKILL']]);
  // RAM taken between 1 s and 3 s: MemFree drops by 1 GiB and comes back
  const at = (t: number) => r.series.memFree[r.series.t.indexOf(t)]!;
  // (from 0.6 s on only CMA is allocated from: gfx died at 0.5 s)
  assert.equal(at(600_000) - at(1_500_000), 1024 ** 3);
  assert.equal(at(3_500_000), at(600_000));
  // the area shrunk by 3072 pages at 2 s: never more than 1024 pages free after
  assert.ok(r.series.cmaFree['reserved']!.slice(r.series.t.indexOf(2_100_000)).every((n) => n <= 1024));
  // pinned pages show in the map as -2
  assert.ok(r.maps[0]!.frames.some((f) => f.cells.includes(-2)));
});

test('an impossible workload is reported as such: a warning and a failure per allocation, no crash', () => {
  const r = run('duration: 1s\nprocesses:\n  - name: cam\n    streams:\n      - { name: huge, heap: reserved, size: 4G, count: 2 }\n      - { name: big, heap: reserved, size: 100M, count: 1 }\n', { cmdline: 'cma=64M' });
  assert.deepEqual(r.warnings, [
    'impossible: cam/huge asks for 4096 MiB buffers, larger than every heap of this machine (the largest holds 2048 MiB): each allocation fails',
    'impossible: cam/big asks for 100 MiB buffers from reserved, which holds 64 MiB: each allocation fails',
  ]);
  assert.deepEqual(r.failures.map((f) => [f.stream, f.reason]), [['huge', 'area-too-small'], ['huge', 'area-too-small'], ['big', 'area-too-small']]);
});

test('a replay on an older kernel names the heap the recording probably meant', () => {
  const text = "duration: 1s\nscript:\n  - { t: 0, op: alloc, process: app, id: a, heap: default_cma_region, size: 1M, expect: ok }\n  - { t: 0, op: alloc, process: app, id: b, heap: reserved, size: 1M, expect: ok }\n";
  const old = run(text, { profile: '6.1', cmdline: 'cma=16M' });
  assert.deepEqual(old.failures.map((f) => [f.stream, f.detail, f.differs]), [['a', "no heap named 'default_cma_region' on this machine (before Linux 6.17 the default CMA area's heap is named after its area: 'reserved' here)", 'the trace saw this allocation succeed; here it failed with ENOENT (no-heap)']]);
  const now = run(text, { profile: '7.3', cmdline: 'cma=16M' });
  assert.deepEqual(now.failures, []);
});

test('SimRunner: a workload advanced step by step ends as one run does; the kernel stays as the workload left it', () => {
  const text = 'duration: 3s\nsample: 100ms\nprocesses:\n  - name: cam\n    streams:\n      - { name: raw, heap: reserved, size: 1M, mode: churn, fps: 30, hold: 4 }\n';
  const w = parseWorkload(text, 'w.yaml');
  const whole = simulate(w, { machine: { cmdline: 'cma=16M' } });
  const r = new SimRunner(w, { machine: { cmdline: 'cma=16M' } });
  assert.equal(r.now, 0);
  r.advance(1_000_000);
  assert.equal(r.now, 1_000_000);
  assert.equal(r.done, false);
  // four 1 MiB buffers live at 1 s, in the kernel's own bufinfo
  const t = r.kernel.readFile(r.kernel.findProcess(1)!, '/sys/kernel/debug/dma_buf/bufinfo');
  assert.equal(typeof t === 'string' ? (t.match(/\braw\b/g) ?? []).length : -1, 4);
  for (let step = 1_250_000; !r.done; step += 250_000) r.advance(step);
  const stepped = r.result();
  r.shutdown();
  assert.equal(JSON.stringify({ ...stepped, wallMs: 0 }), JSON.stringify({ ...whole, wallMs: 0 }));
});
