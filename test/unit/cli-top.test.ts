// `dmaheap top`: one reading of the emulated machine after dump's demo workload (per-process Rss,
// Pss, buffers, exporters, names, sorted by Rss; totals and the kernel-only share), the text
// screen, the JSON of `top --once --json` from the command line, and the live loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { DmabufFs } from '../../src/api/dmabuf-info.js';
import { dmabufFsOf } from '../../src/api/dmabuf-info.js';
import { runDemoWorkload } from '../../src/apps/cli/dump.js';
import { CLEAR, formatTop, topLoop, topSnapshot } from '../../src/apps/cli/top.js';
import type { TopSnapshot } from '../../src/apps/cli/top.js';
import { createEmulatedTarget } from '../../src/backends/emulated/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const NOW = new Date('2026-01-02T03:04:05.678Z');
const MAIN = new URL('../../src/apps/cli/main.js', import.meta.url).pathname;

function demo(profile?: string): TopSnapshot {
  const t = createEmulatedTarget({ cmdline: 'cma=64M', ...(profile !== undefined ? { profile } : {}) });
  runDemoWorkload(t.kernel);
  return topSnapshot(dmabufFsOf(t), { machine: 'emulated Linux 7.0.0 (profile 7.0)', backend: 'emulated' }, NOW);
}

const DEMO_PROCESSES = [
  { pid: 4, comm: 'display', rss: 1 * MiB + 256 * KiB, pss: 768 * KiB, buffers: 2, exporters: ['default_cma_region', 'system'], names: ['camera-frame', 'overlay'] },
  { pid: 3, comm: 'camera', rss: 1 * MiB, pss: 512 * KiB, buffers: 1, exporters: ['system'], names: ['camera-frame'] },
];

test('a reading after the demo workload: sorted by Rss, Pss shared, the kernel-only share', () => {
  const s = demo();
  assert.deepEqual(s, {
    time: '2026-01-02T03:04:05.678Z',
    machine: 'emulated Linux 7.0.0 (profile 7.0)',
    backend: 'emulated',
    note: null,
    processes: DEMO_PROCESSES,
    totals: {
      processes: 2,
      buffers: 2,
      userspaceSize: 1 * MiB + 256 * KiB,
      userspaceRss: 2 * MiB + 256 * KiB,
      userspacePss: 1 * MiB + 256 * KiB,
      dmabufTotal: 1 * MiB + 768 * KiB,
      kernelOnly: 512 * KiB,
      kernelOnlyBuffers: 1,
      kernelOnlyPercent: 28.6,
    },
    source: 'debugfs',
    unreadable: 0,
    warnings: [],
  });
});

test('the screen: header, one line per process, totals', () => {
  assert.equal(formatTop(demo()), [
    'dmaheap top: emulated Linux 7.0.0 (profile 7.0), 2026-01-02 03:04:05Z',
    '',
    'PID  COMM         RSS      PSS  BUFS  EXPORTERS                  NAMES',
    '  4  display  1.3 MiB  768 KiB     2  default_cma_region,system  camera-frame,overlay',
    '  3  camera     1 MiB  512 KiB     1  system                     camera-frame',
    '',
    '2 processes, 2 buffers held (1.3 MiB); Rss 2.3 MiB, Pss 1.3 MiB',
    'dmabuf total 1.8 MiB (debugfs); kernel only 512 KiB in 1 buffer (28.6%)',
  ].join('\n'));
  // a narrow terminal cuts lines; the live header says how often it refreshes
  const narrow = formatTop(demo(), { width: 40, interval: 500 }).split('\n');
  assert.equal(narrow[0], 'dmaheap top: emulated Linux 7.0.0 (profile 7.0), 2026-01-02 03:04:05Z, every 500 ms (Ctrl-C quits)');
  assert.equal(narrow[3], '  4  display  1.3 MiB  768 KiB     2  d…');
});

test('no buffers; processes that cannot be read; no system-wide list', () => {
  const files: Record<string, string> = { '/proc/7/comm': 'x\n', '/proc/7/maps': '' };
  const fs: DmabufFs = {
    readdir: (p) => (p === '/proc' ? ['7', '9', 'self'] : p === '/proc/7/fdinfo' ? [] : null),
    readFile: (p) => files[p] ?? null,
    readlink: () => null,
  };
  const s = topSnapshot(fs, { machine: 'm', backend: 'linux', note: 'n' }, NOW);
  assert.equal(s.unreadable, 1);
  assert.deepEqual(s.warnings, []);
  assert.equal(formatTop(s), [
    'note: n',
    'dmaheap top: m, 2026-01-02 03:04:05Z',
    '',
    'no process holds a dma-buf',
    '',
    '0 processes, 0 buffers held (0 B); Rss 0 B, Pss 0 B',
    'dmabuf total: unknown (no debugfs bufinfo or sysfs stats readable): the kernel-only share is unknown',
    '1 process could not be read (another user\'s fdinfo needs root): sudo dmaheap top',
  ].join('\n'));
});

test('dmaheap top --once --json --demo-workload: the JSON structure', () => {
  const r = spawnSync(process.execPath, [MAIN, 'top', '--once', '--json', '--demo-workload', '--profile', '6.6'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as TopSnapshot;
  assert.deepEqual(Object.keys(s), ['time', 'machine', 'backend', 'note', 'processes', 'totals', 'source', 'unreadable', 'warnings']);
  assert.ok(!Number.isNaN(Date.parse(s.time)));
  assert.equal(s.machine, 'emulated Linux 6.6.0 (profile 6.6)');
  assert.equal(s.backend, 'emulated');
  // 6.6: the default CMA heap is still named after its area
  assert.deepEqual(s.processes, DEMO_PROCESSES.map((p) => ({ ...p, exporters: p.exporters.map((e) => (e === 'default_cma_region' ? 'reserved' : e)) })));
  assert.deepEqual(Object.keys(s.totals), ['processes', 'buffers', 'userspaceSize', 'userspaceRss', 'userspacePss', 'dmabufTotal', 'kernelOnly', 'kernelOnlyBuffers', 'kernelOnlyPercent']);
  assert.equal(s.totals.kernelOnly, 512 * KiB);
  assert.equal(s.source, 'debugfs');
});

test('--demo-workload needs the emulated machine; bad --interval', () => {
  const r = spawnSync(process.execPath, [MAIN, 'top', '--once', '--backend', 'linux', '--demo-workload'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--demo-workload applies to the emulated machine; with --backend linux the machine is this one/);
  const i = spawnSync(process.execPath, [MAIN, 'top', '--once', '--interval', '5'], { encoding: 'utf8' });
  assert.equal(i.status, 2);
  assert.equal(i.stderr, "dmaheap top: --interval applies to the live view; --once prints one reading\nhint: leave out --once for a reading every --interval ms, or --interval for one reading\n");
});

test('the live loop redraws in place until aborted; JSON mode writes one object per line', async () => {
  const writes: string[] = [];
  const ac = new AbortController();
  let reads = 0;
  await topLoop(() => {
    if (++reads === 3) ac.abort();
    return demo();
  }, { interval: 100, json: false, write: (s) => writes.push(s), signal: ac.signal });
  assert.equal(writes.length, 3);
  for (const w of writes) assert.ok(w.startsWith(`${CLEAR}dmaheap top: emulated Linux 7.0.0 (profile 7.0), 2026-01-02 03:04:05Z, every 100 ms (Ctrl-C quits)\n`));

  const lines: string[] = [];
  const ac2 = new AbortController();
  await topLoop(() => {
    ac2.abort();
    return demo();
  }, { interval: 100, json: true, write: (s) => lines.push(s), signal: ac2.signal });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('}\n') && !lines[0]!.includes('\n{'));
  assert.deepEqual((JSON.parse(lines[0]!) as TopSnapshot).processes, DEMO_PROCESSES);
});
