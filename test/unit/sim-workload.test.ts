// Workload files (src/apps/sim/workload.ts): the shipped examples parse, and every kind of bad
// input is refused with the file, line, column, field and what to do; nothing in a file runs code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { estimateEvents, MAX_EVENTS, parseWorkload, WorkloadError } from '../../src/apps/sim/workload.js';

const root = (p: string) => new URL(`../../../${p}`, import.meta.url).pathname;

function refusal(text: string): string {
  try {
    parseWorkload(text, 'w.yaml');
  } catch (e) {
    assert.ok(e instanceof WorkloadError, `not a WorkloadError: ${String(e)}`);
    return `${e.message}\nhint: ${e.hint ?? ''}`;
  }
  assert.fail('accepted');
}

const BASE = 'duration: 10s\nprocesses:\n  - name: cam\n    streams:\n      - name: s\n        heap: system\n        size: 1M\n';

test('the shipped example workloads parse', () => {
  const dir = root('examples/workloads');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['app-launch-storm.yaml', 'camera-display-codec.yaml', 'ml-inference.yaml']);
  const cam = parseWorkload(readFileSync(`${dir}/camera-display-codec.yaml`, 'utf8'), 'camera-display-codec.yaml');
  assert.equal(cam.duration, 3_600_000_000);
  assert.deepEqual(cam.machine, { board: 'imx8mp', profile: '6.19', cmdline: null });
  assert.deepEqual(cam.processes.map((p) => p.name), ['camera-hal', 'encoder', 'compositor', 'gallery']);
  const preview = cam.processes[0]!.streams[0]!;
  // NV12 1920x1080: 1920*1080 luma + half of it chroma
  assert.equal(preview.size, 3_110_400);
  assert.equal(preview.sizeText, 'NV12 1920×1080');
  assert.deepEqual(preview.heap, { names: ['cma-video', 'linux,cma', 'default_cma_region'], requires: null });
  assert.equal(preview.period, 33_333);
  assert.deepEqual(preview.share, ['compositor']);
  assert.deepEqual(cam.processes[3]!.repeat, { every: 120_000_000, times: 30, jitter: 10_000_000, life: 45_000_000 });
  assert.deepEqual(cam.pressure.map((p) => p.kind), ['anon', 'pin']);
  for (const f of files) assert.ok(estimateEvents(parseWorkload(readFileSync(`${dir}/${f}`, 'utf8'), f)) < MAX_EVENTS);
});

test('JSON is accepted as well as YAML', () => {
  const w = parseWorkload(JSON.stringify({ duration: '1m', processes: [{ name: 'a', streams: [{ heap: { requires: { contiguous: true } }, size: 4096, fps: 10, mode: 'churn' }] }] }), 'w.json');
  assert.equal(w.name, 'w');
  assert.equal(w.processes[0]!.streams[0]!.name, 'stream1');
  assert.deepEqual(w.processes[0]!.streams[0]!.heap, { names: [], requires: { contiguous: true } });
  assert.equal(w.sample, 100_000);
});

test('bad workloads: file, line, column, field, and what to do', () => {
  const cases: [string, string][] = [
    ['duration: 10s\nprocesses:\n  - name: cam\n    streamz: []\n', "w.yaml:4:5: processes[0].streamz: unknown field 'streamz'\nhint: the fields here are: name, cgroup, start, stop, repeat, streams, anon"],
    [BASE.replace('size: 1M', 'size: 1.5M'), "w.yaml:7:15: processes[0].streams[0].size: '1.5M' is not a size: it is not a whole number of bytes (write 1536K)\nhint: sizes are bytes, or a number with K, M, G or T (powers of 1024): 4096, 64K, 8MiB"],
    [BASE.replace('duration: 10s', 'duration: soon'), "w.yaml:1:11: duration: 'soon' is not a duration\nhint: durations are seconds (1.5), or a number with us, ms, s, m or h: 33ms, 5m, 1h"],
    [BASE.replace('duration: 10s\n', ''), 'w.yaml:1:1: duration: is missing\nhint: the workload schema is in docs/simulate.md'],
    ['duration: 1s\nprocesses: [\n', 'w.yaml:3:1: not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ]\nhint: the workload schema is in docs/simulate.md'],
    ['duration: &d 1s\nsample: *d\nprocesses: []\n', 'w.yaml:2:9: anchors and aliases (&name, *name) are not accepted\nhint: write the value out where it is used'],
    [BASE.replace('size: 1M', 'size: { format: NV13, width: 2, height: 2 }'), "w.yaml:7:25: processes[0].streams[0].size.format: unknown pixel format 'NV13'\nhint: the formats are: NV12, NV21, NV16, NV61, YUV420, YVU420, YUV422, YUV444, YUYV, UYVY, RGBA8888, BGRA8888, XRGB8888, ARGB8888, RGB888, BGR888, RGB565, R8, R16"],
    [BASE.replace('heap: system', 'heap: { name: linux,cma }'), "w.yaml:6:29: processes[0].streams[0].heap.cma: unknown field 'cma'\nhint: in a { ... } mapping a comma ends an entry: quote a value that has one ('linux,cma'); the fields here are: name, fallback, requires"],
    [`${BASE}        share: [nobody]\n`, "w.yaml:8:17: processes[0].streams[0].share[0]: no process named 'nobody'\nhint: the workload schema is in docs/simulate.md"],
    [`${BASE}        fps: 30\n        every: 1s\n`, 'w.yaml:9:16: processes[0].streams[0].every: give fps or every, not both\nhint: the workload schema is in docs/simulate.md'],
    [`${BASE}        mode: churn\n`, 'w.yaml:8:15: processes[0].streams[0].mode: churn needs a frame rate: give fps or every\nhint: the workload schema is in docs/simulate.md'],
    [BASE.replace('  - name: cam\n', '  - name: cam\n    cgroup: apps\n'), "w.yaml:4:13: processes[0].cgroup: no cgroup named 'apps' in cgroups\nhint: the workload schema is in docs/simulate.md"],
    [BASE.replace('size: 1M', 'size: 0'), 'w.yaml:7:15: processes[0].streams[0].size: a buffer of 0 bytes is refused by the kernel (EINVAL); give its size\nhint: the workload schema is in docs/simulate.md'],
    [BASE.replace('name: cam', 'name: camera-hal-process'), "w.yaml:3:11: processes[0].name: is 18 characters long; at most 15\nhint: the workload schema is in docs/simulate.md"],
    [`${BASE}        fps: 100000\n`.replace('duration: 10s', 'duration: 745h'), 'w.yaml:1:11: duration: is longer than 30 days, the longest simulated time\nhint: the workload schema is in docs/simulate.md'],
    [`${BASE}        fps: 100000\n`.replace('duration: 10s', 'duration: 1h'), 'w.yaml:1:11: duration: the workload would take about 360000602 simulated events; at most 20000000\nhint: shorten the duration, lower a frame rate, or split the workload'],
    ['duration: 1s\n', 'w.yaml:1:1: processes: the workload has no processes, pressure or script: nothing would happen\nhint: the workload schema is in docs/simulate.md'],
    ['duration: 1s\nfaults:\n  - kind: fail-alloc\n    nth: 1\n    every: 2\nprocesses: [{ name: a }]\n', 'w.yaml:3:5: faults[0]: give exactly one of nth (fail the Nth allocation), every (every Nth) or fraction (0..1 of them)\nhint: the workload schema is in docs/simulate.md'],
    ['duration: 1s\nscript:\n  - { t: 1, op: free, process: a, id: x }\n  - { t: 0.5, op: free, process: a, id: x }\n', 'w.yaml:4:10: script[1].t: goes back in time: script steps are in time order\nhint: the workload schema is in docs/simulate.md'],
    // a tag that builds objects elsewhere is a plain string here: nothing runs
    ['!!js/function "() => 1"', 'w.yaml:1:15: must be a mapping (key: value lines)\nhint: the workload schema is in docs/simulate.md'],
  ];
  assert.deepEqual(cases.map(([text]) => refusal(text)), cases.map(([, want]) => want));
});

test('any bytes: a WorkloadError or a workload, never another exception', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom(BASE).chain((b) => fc.tuple(fc.nat(b.length), fc.string({ maxLength: 8 })).map(([i, s]) => b.slice(0, i) + s + b.slice(i)))), (text) => {
      try {
        parseWorkload(text, 'w.yaml');
      } catch (e) {
        if (!(e instanceof WorkloadError)) throw e;
      }
    }),
    { numRuns: 400, seed: 13 },
  );
});

test('docs/simulate.md documents every field the parser accepts', () => {
  const src = readFileSync(root('src/apps/sim/workload.ts'), 'utf8');
  const docs = readFileSync(root('docs/simulate.md'), 'utf8');
  const fields = new Set<string>();
  for (const m of src.matchAll(/r\.map\([^,]+, \[([^\]]*)\]/g)) for (const k of m[1]!.matchAll(/'([A-Za-z]+)'/g)) fields.add(k[1]!);
  assert.ok(fields.size > 40, `only ${fields.size} fields found`);
  const missing = [...fields].filter((f) => !docs.includes(`\`${f}\``));
  assert.deepEqual(missing, []);
});
