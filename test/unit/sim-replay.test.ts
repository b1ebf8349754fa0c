/**
 * Record and replay (issue 13, item 5): the three recordings turned into a workload's script.
 * Each converter runs on a real recording: a `dmaheap run --trace` of a C program (the committed
 * fixture, and live when gcc and `dmaheap run` work here), a client trace of the emulated
 * backend, and bufinfo / dmabuf_dump snapshot series read from the emulated kernel of profiles
 * 6.1, 6.12 and 7.3. Bad lines are refused with the file and line; the YAML of a converted
 * workload reads back to the same workload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmulatedTarget, describeHeaps, emulatedBackend, EmulatedTarget } from '../../src/backends/emulated/index.js';
import type { ClientTraceEvent } from '../../src/backends/emulated/index.js';
import { DmaHeapClient } from '../../src/api/client.js';
import { dmabufFsOf, readDmabufInfo } from '../../src/api/dmabuf-info.js';
import { formatDmabufDump } from '../../src/api/dmabuf-dump.js';
import {
  recordingKind, snapshotTimeFromName, splitSnapshots, workloadFromClientTrace, workloadFromRecording, workloadFromRunTrace, workloadFromSnapshotFiles,
  workloadFromSnapshots, workloadToYaml,
} from '../../src/apps/sim/replay.js';
import type { Snapshot } from '../../src/apps/sim/replay.js';
import { parseWorkload, WorkloadError } from '../../src/apps/sim/workload.js';
import type { ScriptEvent, Workload } from '../../src/apps/sim/workload.js';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const fixtures = join(repo, 'test/fixtures/sim');
const MiB = 1024 * 1024;

/** A script step as a short line: `t op process id heap size expect`. */
function steps(w: Workload): string[] {
  return w.script.map((e: ScriptEvent) => {
    if (e.op === 'alloc') return `${e.t} alloc ${e.process} ${e.id} ${e.heap} ${e.size} ${e.expect}`;
    if (e.op === 'free') return `${e.t} free ${e.process} ${e.id}`;
    return `${e.t} exit ${e.process}`;
  });
}

/** The workload as parseWorkload reads its YAML back: `file` and `at` are the YAML file's. */
function comparable(w: Workload): unknown {
  return { ...w, file: '', script: w.script.map((e) => ({ ...e, at: '' })) };
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof WorkloadError, String(e));
    return e.message;
  }
  assert.fail('no refusal');
}

// ---- dmaheap run --trace ------------------------------------------------------------------------

/** The script of test/fixtures/sim/run-trace.c (profile 7.3, cma=64M): see its comments. */
const RUN_SCRIPT = [
  '12085 alloc pid14773 ino1 system 65536 ok',
  '16660 alloc pid14773 ino2 default_cma_region 41943040 ok',
  '19416 alloc pid14773 failed1 default_cma_region 41943040 12',
  // close(a) left the dup: the buffer went with close(d)
  '20182 free pid14773 ino1',
  '21549 alloc pid14774 ino3 system 8192 ok',
  '21939 free pid14774 ino3',
  '21939 exit pid14774',
  '22353 free pid14773 ino2',
  '27590 exit pid14773',
];

test('a run trace (the recorded C program) becomes allocs with expect, frees when the last reference went, and exits', () => {
  const w = workloadFromRunTrace(readFileSync(join(fixtures, 'run-trace.jsonl'), 'utf8'), 'test/fixtures/sim/run-trace.jsonl');
  assert.deepEqual(steps(w), RUN_SCRIPT);
  assert.equal(recordingKind(readFileSync(join(fixtures, 'run-trace.jsonl'), 'utf8')), 'run-trace');
  assert.equal(w.name, 'run-trace');
  assert.equal(w.duration, 27590 + 1_000_000);
  assert.deepEqual(w.processes, []);
  assert.equal(w.script[2]!.at, 'test/fixtures/sim/run-trace.jsonl:5');
  assert.deepEqual(comparable(parseWorkload(workloadToYaml(w), 'run.yaml')), comparable(w));
});

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const cli = join(repo, 'dist/src/apps/cli/main.js');
const runUnsupported: string | null = (() => {
  if (process.platform !== 'linux') return `dmaheap run needs Linux (this is ${process.platform})`;
  if (process.arch !== 'x64' && process.arch !== 'arm64') return `dmaheap run needs x86-64 or arm64 (this is ${process.arch})`;
  const r = spawnSync(process.execPath, [cli, 'run', '--', '/bin/true'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? null : `dmaheap run does not work on this host: ${(r.stderr ?? '').trim()}`;
})();
const gcc = has('gcc') ? null : 'gcc is not installed (Debian: apt-get install gcc)';

test('run --trace of the C program, recorded now, converts to the fixture\'s script (pids and times aside)', { skip: runUnsupported ?? gcc ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-replay-'));
  try {
    const prog = join(dir, 'prog');
    const cc = spawnSync('gcc', ['-O1', '-o', prog, join(fixtures, 'run-trace.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const trace = join(dir, 'trace.jsonl');
    const r = spawnSync(process.execPath, [cli, 'run', '--profile', '7.3', '--trace', trace, '--', prog], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, '5 6 -1\n');
    const text = readFileSync(trace, 'utf8');
    // the decoded fields of the records a replay reads
    const recs = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const allocs = recs.filter((x) => x.call === 'ioctl').map((x) => ({ heap: x.heap, len: x.len, fd: x.fd, ino: x.ino, ret: x.ret, errno: x.errno }));
    assert.deepEqual(allocs, [
      { heap: 'system', len: 65536, fd: 5, ino: 1, ret: 0, errno: undefined },
      { heap: 'default_cma_region', len: 40 * MiB, fd: 6, ino: 2, ret: 0, errno: undefined },
      { heap: 'default_cma_region', len: 40 * MiB, fd: undefined, ino: undefined, ret: -1, errno: 'ENOMEM' },
      { heap: 'system', len: 8192, fd: 5, ino: 3, ret: 0, errno: undefined },
    ]);
    assert.deepEqual(recs.filter((x) => x.call === 'openat').map((x) => x.path), ['/dev/dma_heap/system', '/dev/dma_heap/default_cma_region']);
    assert.deepEqual(recs.filter((x) => x.call === 'close').map((x) => [x.ino, x.freed]), [[1, undefined], [1, [1]], [2, [2]]]);
    assert.ok(recs.every((x, i) => typeof x.t === 'number' && (i === 0 || (x.t as number) >= (recs[i - 1]!.t as number))));
    const w = workloadFromRunTrace(text, 'trace.jsonl');
    const pids = [...new Set(w.script.map((e) => e.process))];
    assert.equal(pids.length, 2);
    const norm = (l: string): string => l.replace(/^\d+ /, '').replace(pids[0]!, 'parent').replace(pids[1]!, 'child');
    const fixture = workloadFromRunTrace(readFileSync(join(fixtures, 'run-trace.jsonl'), 'utf8'), 'f');
    assert.deepEqual(steps(w).map(norm), steps(fixture).map((l) => norm(l).replace('pid14773', 'parent').replace('pid14774', 'child')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run trace refuses bad lines with the file and line, and a trace with no allocation', () => {
  const ok = '{"pid":1,"call":"ioctl","args":["0x3","0xc0184800"],"ret":0,"how":"served","t":5,"heap":"system","len":4096,"fd":4,"ino":1}';
  assert.equal(refusal(() => workloadFromRunTrace(`${ok}\n{"pid":1,`, 't.jsonl')), 't.jsonl:2:1: not a JSON object: Expected double-quoted property name in JSON at position 9');
  assert.equal(refusal(() => workloadFromRunTrace(`${ok}\n[1,2]\n`, 't.jsonl')), 't.jsonl:2:1: not a JSON object');
  // a trace from before the decoded fields: no time
  assert.equal(refusal(() => workloadFromRunTrace('{"pid":1,"call":"close","args":["0x4"],"ret":0,"how":"mirrored"}\n', 'old.jsonl')), 'old.jsonl:1:1: t: is missing');
  assert.equal(refusal(() => workloadFromRunTrace(ok.replace('"len":4096', '"len":"big"'), 't.jsonl')), 't.jsonl:1:1: len: must be a whole number');
  assert.equal(refusal(() => workloadFromRunTrace(ok.replace('"ret":0', '"ret":-1,"errno":"EWHAT"'), 't.jsonl')), "t.jsonl:1:1: errno: 'EWHAT' is not an errno name");
  assert.equal(refusal(() => workloadFromRunTrace('{"pid":1,"call":"close","args":["0x4"],"ret":0,"how":"mirrored","t":1}\n', 'n.jsonl')), 'n.jsonl:1:1: has no allocation: nothing to replay (dmaheap run --trace)');
  assert.equal(refusal(() => workloadFromRunTrace(`${ok}\n${'x'.repeat(1024 * 1024 + 1)}\n`, 'big.jsonl')), `big.jsonl:2:1: the line is ${1024 * 1024 + 1} characters long; at most 1048576`);
  assert.equal(refusal(() => workloadFromRunTrace(ok.replace('"freed"', '').replace('"t":5', '"t":5,"freed":[1,"x"]'), 't.jsonl')), 't.jsonl:1:1: freed: must be a list of inode numbers');
  // blank lines and CRLF are fine
  assert.deepEqual(steps(workloadFromRunTrace(`\r\n${ok}\r\n\r\n`, 't.jsonl')), ['5 alloc pid1 ino1 system 4096 ok']);
});

// ---- client traces ------------------------------------------------------------------------------

test('a client trace on the emulated backend: allocations (worked, ENOMEM, ENOENT), the last reference, a child, close', () => {
  const events: ClientTraceEvent[] = [];
  let now = 0;
  const c = emulatedBackend.createClient({ client: { trace: (e) => events.push(e), clock: () => (now += 1000) } });
  const a = c.allocate('system', 65536);
  // fd 0 is the system heap's node (kept open), fd 2 the CMA heap's
  const big = c.allocate('default_cma_region', 40 * MiB);
  assert.throws(() => c.allocate('default_cma_region', 40 * MiB), { code: 'ENOMEM' });
  assert.throws(() => c.allocate('no-such-heap', 4096), { code: 'ENOENT' });
  const m = a.map();
  a.close();
  m.unmap();
  const child = c.spawnChild('child');
  const x = child.allocate('system', 8192);
  x.release();
  child.allocate('system', 4096);
  child.close();
  c.close();
  void big;
  const p = c.target.getpid();
  const q = child.target.getpid();
  assert.deepEqual(events, [
    { ev: 'alloc', t: 1000, client: 1, pid: p, heap: 'system', size: 65536, ok: true, buf: 1, fd: 1, ino: 1 },
    { ev: 'alloc', t: 2000, client: 1, pid: p, heap: 'default_cma_region', size: 40 * MiB, ok: true, buf: 2, fd: 3, ino: 2 },
    { ev: 'alloc', t: 3000, client: 1, pid: p, heap: 'default_cma_region', size: 40 * MiB, ok: false, errno: 'ENOMEM' },
    { ev: 'alloc', t: 4000, client: 1, pid: p, heap: 'no-such-heap', size: 4096, ok: false, errno: 'ENOENT' },
    // closed while mapped: the buffer goes with the unmap
    { ev: 'free', t: 5000, client: 1, pid: p, buf: 1, fd: 1, ino: 1 },
    { ev: 'alloc', t: 6000, client: 2, pid: q, heap: 'system', size: 8192, ok: true, buf: 3, fd: 1, ino: 3 },
    { ev: 'free', t: 7000, client: 2, pid: q, buf: 3, fd: 1, ino: 3 },
    { ev: 'alloc', t: 8000, client: 2, pid: q, heap: 'system', size: 4096, ok: true, buf: 4, fd: 1, ino: 4 },
    { ev: 'close', t: 9000, client: 2, pid: q },
    { ev: 'close', t: 10000, client: 1, pid: p },
  ]);
  const w = workloadFromClientTrace(events.map((e) => JSON.stringify(e)).join('\n'), 'client.jsonl');
  assert.equal(recordingKind(events.map((e) => JSON.stringify(e)).join('\n')), 'client-trace');
  assert.deepEqual(steps(w), [
    '0 alloc client1 buf1 system 65536 ok',
    '1000 alloc client1 buf2 default_cma_region 41943040 ok',
    '2000 alloc client1 failed1 default_cma_region 41943040 12',
    '3000 alloc client1 failed2 no-such-heap 4096 2',
    '4000 free client1 buf1',
    '5000 alloc client2 buf3 system 8192 ok',
    '6000 free client2 buf3',
    '7000 alloc client2 buf4 system 4096 ok',
    '8000 exit client2',
    '9000 exit client1',
  ]);
  assert.equal(w.description, `Replay of client.jsonl, a client trace (client1 is pid ${p}, client2 is pid ${q})`);
  assert.deepEqual(comparable(parseWorkload(workloadToYaml(w), 'client.yaml')), comparable(w));
});

test('a client trace of the Linux backend on the real 6.1 kernel (recorded under QEMU) converts the same way', () => {
  const text = readFileSync(join(fixtures, 'client-trace-linux-6.1.jsonl'), 'utf8');
  assert.equal(recordingKind(text), 'client-trace');
  const w = workloadFromRecording(text, 'client-trace-linux-6.1.jsonl');
  assert.deepEqual(steps(w), [
    '0 alloc client1 buf1 system 65536 ok',
    '47350 alloc client1 failed1 reserved 1073741824 12',
    '55300 alloc client1 buf2 reserved 1048576 ok',
    // closed while mapped: freed at the unmap
    '90831 free client1 buf2',
    '146637 free client1 buf1',
    '146749 alloc client1 buf3 system 4096 ok',
    '162555 exit client1',
  ]);
  assert.equal(w.description, 'Replay of client-trace-linux-6.1.jsonl, a client trace (client1 is pid 48)');
});

test('a client without a trace reports nothing and allocates as before; allocateAsync and udmabuf are traced too', async () => {
  const events: ClientTraceEvent[] = [];
  let now = 0;
  const c = emulatedBackend.createClient({ client: { trace: (e) => events.push(e), clock: () => (now += 1) } });
  const b = await c.allocateAsync('system', 4096);
  const u = c.allocateUdmabuf(8192);
  b.close();
  u.close();
  c.close();
  assert.deepEqual(events.map((e) => `${e.ev} ${'heap' in e ? e.heap : ''} ${'buf' in e ? e.buf : ''}`), ['alloc system 1', 'alloc udmabuf 2', 'free  1', 'free  2', 'close  ']);
  const plain = emulatedBackend.createClient();
  plain.allocate('system', 4096).close();
  plain.close();
  // a trace function that throws: the allocation throws too, and leaves no buffer behind
  const thrower = emulatedBackend.createClient({ client: { trace: () => assert.fail('the trace is full') } });
  assert.throws(() => thrower.allocate('system', 4096), /the trace is full/);
  assert.match(thrower.target.readFile('/sys/kernel/debug/dma_buf/bufinfo').text!, /Total 0 objects, 0 bytes/);
});

test('DMAHEAP_CLIENT_TRACE writes the CLI client\'s trace as JSON lines (dmaheap demo), which replays', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-replay-'));
  try {
    const file = join(dir, 'client.jsonl');
    const r = spawnSync(process.execPath, [cli, 'demo'], { encoding: 'utf8', env: { ...process.env, DMAHEAP_CLIENT_TRACE: file }, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(file, 'utf8');
    const evs = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(evs.map(({ t, ...rest }) => (assert.equal(typeof t, 'number'), rest)), [
      { ev: 'alloc', client: 1, pid: 2, heap: 'default_cma_region', size: MiB, ok: true, buf: 1, fd: 1, ino: 1 },
      { ev: 'free', client: 1, pid: 2, buf: 1, fd: 1, ino: 1 },
      { ev: 'close', client: 1, pid: 2 },
    ]);
    const w = workloadFromClientTrace(text, file);
    assert.deepEqual(steps(w).map((l) => l.replace(/^\d+ /, '')), ['alloc client1 buf1 default_cma_region 1048576 ok', 'free client1 buf1', 'exit client1']);
    const bad = spawnSync(process.execPath, [cli, 'demo'], { encoding: 'utf8', env: { ...process.env, DMAHEAP_CLIENT_TRACE: join(dir, 'no/such/dir/t.jsonl') }, timeout: 120_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /cannot write the client trace to .*no\/such\/dir\/t\.jsonl: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client trace refuses an unknown event and a bad ok, with the line', () => {
  assert.equal(refusal(() => workloadFromClientTrace('{"ev":"alloc","t":1,"client":1,"heap":"system","size":1,"ok":true,"buf":1}\n{"ev":"boom","t":2,"client":1}', 'c.jsonl')), "c.jsonl:2:1: ev: 'boom' is not a client trace event");
  assert.equal(refusal(() => workloadFromClientTrace('{"ev":"alloc","t":1,"client":1,"heap":"system","size":1,"ok":"yes"}', 'c.jsonl')), 'c.jsonl:1:1: ok: must be true or false');
  assert.equal(refusal(() => workloadFromClientTrace('{"ev":"alloc","t":1,"client":1,"heap":"a/b","size":1,"ok":true,"buf":1}', 'c.jsonl')), "c.jsonl:1:1: heap: 'a/b' is not a heap name");
});

// ---- snapshot series ----------------------------------------------------------------------------

/**
 * Three moments of an emulated machine: camera holds a 1 MiB frame (mapped, shared with display)
 * and display a 256 KiB overlay from the CMA heap; then camera frees the frame and allocates a
 * 2 MiB one; then display closes the overlay. Each moment's bufinfo and dmabuf_dump texts.
 */
function recordSnapshots(profile: string): { cma: string; texts: { bufinfo: string; dump: string; all: string; perBuffer: string; both: string }[]; pids: number[] } {
  const reader = createEmulatedTarget({ profile, cmdline: 'cma=64M' });
  const k = reader.kernel;
  const cma = describeHeaps(k).find((h) => h.kind === 'cma')!.name;
  const root = { uid: 0, gid: 0, groups: [] };
  const camera = new DmaHeapClient(new EmulatedTarget(k, k.spawn(root, 'camera')));
  const display = new DmaHeapClient(new EmulatedTarget(k, k.spawn(root, 'display')));
  const texts: { bufinfo: string; dump: string; all: string; perBuffer: string; both: string }[] = [];
  const snap = (): void => {
    const r = readDmabufInfo(dmabufFsOf(reader));
    texts.push({
      bufinfo: reader.readFile('/sys/kernel/debug/dma_buf/bufinfo').text!,
      dump: formatDmabufDump(r),
      all: formatDmabufDump(r, { all: true }),
      perBuffer: formatDmabufDump(r, { perBuffer: true }),
      both: formatDmabufDump(r, { all: true, perBuffer: true }),
    });
  };
  const frame = camera.allocate('system', MiB);
  frame.map();
  frame.sendTo(display);
  const overlay = display.allocate(cma, 256 * 1024);
  snap();
  frame.release();
  camera.allocate('system', 2 * MiB);
  snap();
  overlay.close();
  snap();
  return { cma, texts, pids: [camera.target.getpid(), display.target.getpid()] };
}

for (const profile of ['6.1', '6.12', '7.3']) {
  test(`a bufinfo series (profile ${profile}) in one file with "=== t=" headers: appear → alloc, disappear → free`, () => {
    const { cma, texts } = recordSnapshots(profile);
    const file = texts.map((x, i) => `=== t=${[0, 1.5, 3][i]}s ===\n${x.bufinfo}`).join('');
    const snaps = splitSnapshots(file, 'series.txt');
    assert.deepEqual(snaps.map((s) => [s.t, s.line]), [[0, 2], [1_500_000, 2 + texts[0]!.bufinfo.split('\n').length], [3_000_000, 3 + texts[0]!.bufinfo.split('\n').length + texts[1]!.bufinfo.split('\n').length - 1]]);
    const w = workloadFromSnapshots(snaps, 'series.txt');
    assert.deepEqual(steps(w), [
      '0 alloc unattributed ino1 system 1048576 ok',
      `0 alloc unattributed ino2 ${cma} 262144 ok`,
      // camera released the frame, but display still holds it (passed over SCM_RIGHTS): no free
      '1500000 alloc unattributed ino3 system 2097152 ok',
      '3000000 free unattributed ino2',
    ]);
    assert.deepEqual(comparable(parseWorkload(workloadToYaml(w), 's.yaml')), comparable(w));
    assert.equal(recordingKind(file), 'snapshots');
    assert.deepEqual(steps(workloadFromRecording(file, 'series.txt')), steps(w));
    // the same snapshots as a directory of files named by time, given in any order
    const dir = workloadFromSnapshotFiles([{ name: '3s.txt', text: texts[2]!.bufinfo }, { name: '0.txt', text: texts[0]!.bufinfo }, { name: '1500ms.txt', text: texts[1]!.bufinfo }], 'snaps/');
    assert.deepEqual(steps(dir), steps(w));
    assert.equal(dir.script[2]!.at, 'snaps/1500ms.txt:1');
  });
}

test('bufinfo series from the real 6.1 and 7.3 kernels (recorded under QEMU) convert to the same script', () => {
  for (const v of ['6.1', '7.3']) {
    const file = `bufinfo-series-${v}.txt`;
    const w = workloadFromRecording(readFileSync(join(fixtures, file), 'utf8'), file);
    assert.deepEqual(steps(w), [
      '0 alloc unattributed ino1 system 65536 ok',
      '0 alloc unattributed ino2 reserved 1048576 ok',
      '500000 free unattributed ino1',
      '500000 alloc unattributed ino3 system 3145728 ok',
      '1000000 free unattributed ino2',
    ], v);
    assert.deepEqual(w.script.map((e) => e.at), [`${file}:2`, `${file}:2`, `${file}:16`, `${file}:16`, `${file}:30`]);
  }
});

test('dmabuf_dump series (default, -a, -b, -a -b) name the holding process; -b alone has none', () => {
  const { cma, texts, pids } = recordSnapshots('7.3');
  const at = (kind: 'dump' | 'all' | 'perBuffer' | 'both'): Snapshot[] => texts.map((x, i) => ({ t: 10_000_000 + i * 1_000_000, text: x[kind] }));
  const expected = (p1: string, p2: string): string[] => [
    `0 alloc ${p1} ino1 system 1048576 ok`,
    `0 alloc ${p2} ino2 ${cma} 262144 ok`,
    `1000000 alloc ${p1} ino3 system 2097152 ok`,
    `2000000 free ${p2} ino2`,
  ];
  assert.deepEqual(steps(workloadFromSnapshots(at('dump'), 'dump')), expected('camera', 'display'));
  // -a alone has no exporter column: the heap is not known
  assert.deepEqual(steps(workloadFromSnapshots(at('all'), 'all')), expected('camera', 'display').map((l) => l.replace(/ (system|default_cma_region) /, ' <unknown> ')));
  assert.deepEqual(steps(workloadFromSnapshots(at('both'), 'both')), expected('camera', 'display'));
  assert.deepEqual(steps(workloadFromSnapshots(at('perBuffer'), 'b')), expected('unattributed', 'unattributed'));
  assert.equal(pids.length, 2);
});

test('the demo scene\'s dmabuf_dump: a buffer only the kernel holds is the kernel\'s', () => {
  const t = createEmulatedTarget({ cmdline: 'cma=64M' });
  const before = formatDmabufDump(readDmabufInfo(dmabufFsOf(t)));
  const r = spawnSync(process.execPath, [cli, 'dump', '--backend', 'emulated', '--demo-workload'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  // the report itself, without dmaheap's heading (the machine and the steps)
  const report = r.stdout.slice(r.stdout.indexOf('\n\n') + 2);
  const w = workloadFromSnapshots([{ t: 0, text: before }, { t: 2_000_000, text: report }], 'demo');
  assert.deepEqual(steps(w), [
    '2000000 alloc camera ino1 system 1048576 ok',
    '2000000 alloc display ino2 default_cma_region 262144 ok',
    '2000000 alloc kernel ino3 system 524288 ok',
  ]);
});

test('snapshot series refuse bad input with the file and line', () => {
  assert.equal(refusal(() => splitSnapshots('hello\n=== t=1\n', 's.txt')), 's.txt:1:1: text before the first snapshot header');
  assert.equal(refusal(() => splitSnapshots('=== t=soon\n', 's.txt')), "s.txt:1:7: '=== t=soon' has no time");
  assert.equal(refusal(() => splitSnapshots('\n\n', 's.txt')), 's.txt:1:1: has no snapshot header');
  const bufinfo = '\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n00004096\t00000002\t00080007\t00000001\tsystem\t00000001\t<none>\n\tAttached Devices:\nTotal 0 devices attached\n\n\nTotal 1 objects, 4096 bytes\n';
  const snaps = splitSnapshots(`=== t=1\n${bufinfo}=== t=2\n${bufinfo.replace('Total 1 objects', 'Totally 1 objects')}`, 's.txt');
  assert.equal(refusal(() => workloadFromSnapshots(snaps, 's.txt')), "s.txt:20:1: 'Totally 1 objects, 4096 bytes' is not a line of debugfs bufinfo");
  assert.equal(refusal(() => workloadFromSnapshots([{ t: 0, text: 'camera:12\nnot a row\n', file: 'dir/0s.txt' }], 'dir')), "dir/0s.txt:2:1: 'not a row' is not a line of dmabuf_dump or bufinfo");
  assert.equal(refusal(() => workloadFromSnapshots([{ t: 2, text: bufinfo, file: 'b.txt' }, { t: 1, text: bufinfo, file: 'a.txt' }], 'dir')), 'a.txt:1:1: goes back in time: snapshots are in time order');
  assert.equal(refusal(() => workloadFromSnapshots([{ t: 0, text: '  \n' }], 'dir')), 'dir:1:1: the snapshot is empty: neither bufinfo nor dmabuf_dump text');
  assert.equal(refusal(() => workloadFromSnapshots([], 'dir')), 'dir:1:1: has no snapshot');
  assert.equal(refusal(() => workloadFromSnapshots([{ t: 0, text: `camera:1\n${' '.repeat(5000)}x\n` }], 'd')), 'd:2:1: the line is 5001 characters long; at most 4096 in a snapshot');
  assert.equal(refusal(() => workloadFromSnapshotFiles([{ name: 'README', text: bufinfo }], 'snaps')), 'snaps/README:1:1: the name has no time');
  assert.deepEqual(['12.5s.txt', 'bufinfo-1500ms', '0003', 'snap-2m.log', 'none.txt'].map(snapshotTimeFromName), [12_500_000, 1_500_000, 3_000_000, 120_000_000, null]);
});

// ---- back to YAML -------------------------------------------------------------------------------

test('workloadToYaml writes processes, pressure, faults and cgroups that parseWorkload reads back the same', () => {
  const text = [
    'name: pipeline',
    'description: "a camera and a codec"',
    'duration: 10s',
    'seed: 7',
    'machine: { board: imx8mp, profile: "6.12", cmdline: "cma=128M" }',
    'cgroups: [ { name: media, memoryMax: 64M } ]',
    'processes:',
    '  - name: camera',
    '    cgroup: media',
    '    anon: 4M',
    '    repeat: { every: 2s, times: 3, jitter: 10ms, life: 1s }',
    '    streams:',
    '      - { name: frames, heap: { name: "linux,cma", fallback: [system], requires: { contiguous: true, prefer: [cma] } }, size: { format: NV12, width: 1920, height: 1080 }, count: 4, fps: 30, hold: 3, importers: [isp], cpu: read, burst: { count: 2, every: 1s, hold: 100ms } }',
    '      - { name: log, heap: system, size: 64K, mode: churn, every: 100ms, start: 1s, stop: 5s }',
    'pressure:',
    '  - { kind: anon, process: hog, size: 32M, start: 1s, cgroup: media }',
    '  - { kind: pagecache, process: io, size: 8M, period: 500ms }',
    '  - { kind: pin, area: reserved, pages: 16, every: 2s, hold: 1s, stop: 9s }',
    'faults:',
    '  - { kind: fail-alloc, heap: system, fraction: 0.25, errno: EINTR }',
    '  - { kind: signal, process: camera, nth: 3 }',
    '  - { kind: shrink-cma, pages: 128, at: 2s }',
    '  - { kind: take-memory, size: 16M, at: 3s, until: 4s }',
    '  - { kind: pin, pages: 8, at: 1s }',
    'script:',
    '  - { t: 0.5, op: alloc, process: camera, id: "a b", heap: "true", size: 4096 }',
    '  - { t: 0.6, op: free, process: camera, id: "a b" }',
  ].join('\n');
  const w = parseWorkload(text, 'p.yaml');
  const again = parseWorkload(workloadToYaml(w), 'q.yaml');
  assert.deepEqual(comparable(again), comparable(w));
  assert.deepEqual(again.processes.map((p) => p.at), w.processes.map((p) => p.at));
});
