/**
 * `dmaheap simulate [machine options] WORKLOAD`: a workload (docs/simulate.md) on an emulated
 * board in simulated time. One run, a sweep of the CMA size (`--sweep cma=16M..512M`: the
 * smallest size at which the workload never fails over N seeds), or a comparison of kernel
 * profiles (`--compare-profiles 6.12,6.19,7.3`). Sweeps and comparisons run on worker threads,
 * one per core.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { diffHeaps } from '../../api/heap-diff.js';
import type { HeapDiff } from '../../api/heap-diff.js';
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { createEmulatedTarget } from '../../backends/emulated/index.js';
import { cmaMinAlignmentBytes } from '../../kernel/mm/cma.js';
import { addrCells, baseName, cellsBytes, DeviceTree, hasProp, propCells, setProp, sizeCells } from '../../kernel/of/tree.js';
import { CliError, machineFrom, parseInteger, parseProfile, parseSize, sizeText, UsageError } from '../common/args.js';
import { withBoard } from '../common/machine.js';
import { fmtBytes, table as rowsTable } from '../common/format.js';
import { simulate } from '../sim/engine.js';
import { renderReport } from '../sim/report-html.js';
import type { FailureReason, SimResult } from '../sim/result.js';
import { workloadFromRecording, workloadFromSnapshotFiles, workloadToYaml } from '../sim/replay.js';
import { MAX_WORKLOAD_BYTES, parseWorkload } from '../sim/workload.js';
import type { Workload } from '../sim/workload.js';
import type { CliIo } from './run.js';

type Values = Record<string, string | boolean | string[] | undefined>;

const table = (head: string[], rows: string[][]): string => rowsTable([head, ...rows]);

/** What a run varies from the command line's machine: a sweep's command line, a comparison's profile. */
export interface MachineOverride {
  readonly profile?: string;
  /** `cma=` in the command line replaced by this size in bytes. */
  readonly cmaBytes?: number;
  /** The machine's command line before the override (a probe boot's), for `cmaBytes`. */
  readonly baseCmdline?: string;
  /** A reserved-memory region of the board resized (its `size`, or the size half of its `reg`). */
  readonly region?: { readonly name: string; readonly bytes: number };
}

/**
 * Resizes /reserved-memory/<name> of a board: a dynamic region's `size`, a static one's `reg`
 * (same base: a larger one may overlap a neighbour, which the boot then reports). Null when
 * done, else why not.
 */
export function resizeRegion(tree: DeviceTree, name: string, bytes: number): string | null {
  const rm = tree.find('/reserved-memory');
  if (rm === null) return 'the board has no /reserved-memory node';
  const node = rm.children.find((c) => c.name === name) ?? rm.children.find((c) => baseName(c.name) === name);
  if (node === undefined) return `no region '${name}' under /reserved-memory (it has ${rm.children.map((c) => c.name).join(', ') || 'none'})`;
  const sc = sizeCells(rm);
  const ac = addrCells(rm);
  const sizeCellsOf = (n: number): number[] => (sc === 2 ? [Math.floor(n / 2 ** 32), n % 2 ** 32] : [n % 2 ** 32]);
  if (hasProp(node, 'size')) setProp(node, 'size', cellsBytes(sizeCellsOf(bytes)));
  else {
    const reg = propCells(node, 'reg');
    if (reg === null || reg.length < ac + sc) return `region '${name}' has neither size nor reg`;
    setProp(node, 'reg', cellsBytes([...reg.slice(0, ac), ...sizeCellsOf(bytes)]));
  }
  return null;
}

/** Reads a workload file (bounded) and parses it. */
export function loadWorkload(path: string): Workload {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${path}: not a file`, 'give a workload file (YAML or JSON; examples in examples/workloads/)');
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'give a workload file (YAML or JSON; examples in examples/workloads/)');
  }
  if (size > MAX_WORKLOAD_BYTES) throw new UsageError(`${path}: ${size} bytes; a workload has at most ${MAX_WORKLOAD_BYTES}`);
  return parseWorkload(readFileSync(path, 'utf8'), path);
}

/** Bytes of a recording file read at most, and of a directory of snapshots in all. */
export const MAX_RECORDING_BYTES = 512 * 1024 * 1024;

/**
 * A recording (a `dmaheap run --trace`, a client trace, a snapshot series in one file, or a
 * directory of snapshot files named by time) as a workload with a script (src/apps/sim/replay.ts).
 */
export function loadRecording(path: string): Workload {
  const hint = 'give a dmaheap run --trace file, a client trace (DMAHEAP_CLIENT_TRACE), a snapshot series (=== t=<time> headers) or a directory of snapshots named by time (docs/replay.md)';
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UsageError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, hint);
  }
  if (st.isDirectory()) {
    const names = readdirSync(path).filter((n) => !n.startsWith('.')).sort();
    let total = 0;
    const files: { name: string; text: string }[] = [];
    for (const name of names.slice(0, MAX_SNAPSHOT_FILES + 1)) {
      const f = join(path, name);
      const fst = statSync(f);
      if (!fst.isFile()) continue;
      total += fst.size;
      if (total > MAX_RECORDING_BYTES) throw new UsageError(`${path}: more than ${MAX_RECORDING_BYTES} bytes of snapshots`, 'replay a shorter series');
      files.push({ name, text: readFileSync(f, 'utf8') });
    }
    return workloadFromSnapshotFiles(files, path);
  }
  if (!st.isFile()) throw new UsageError(`${path}: not a file or a directory`, hint);
  if (st.size > MAX_RECORDING_BYTES) throw new UsageError(`${path}: ${st.size} bytes; a recording has at most ${MAX_RECORDING_BYTES}`, 'replay a shorter recording');
  return workloadFromRecording(readFileSync(path, 'utf8'), path);
}
const MAX_SNAPSHOT_FILES = 100_000;

/** The machine of a run: the command line's options, then the workload's `machine`, then the override. */
export function simMachine(values: Values, w: Workload, over: MachineOverride = {}): EmulatedOptions {
  const v: Values = { ...values };
  if (v.board === undefined && w.machine.board !== null) {
    // a path in the workload is relative to the workload's file; a shipped board's name stays
    const rel = resolve(dirname(w.file), w.machine.board);
    let exists = false;
    try {
      const st = statSync(rel);
      exists = st.isFile() || st.isDirectory();
    } catch {
      exists = false;
    }
    v.board = exists ? rel : w.machine.board;
  }
  if (v.profile === undefined && w.machine.profile !== null) v.profile = w.machine.profile;
  if (v.cmdline === undefined && w.machine.cmdline !== null) v.cmdline = w.machine.cmdline;
  if (over.profile !== undefined) v.profile = over.profile;
  if (over.cmaBytes !== undefined) {
    const base = (over.baseCmdline ?? (typeof v.cmdline === 'string' ? v.cmdline : '')).split(/\s+/).filter((t) => t !== '' && !t.startsWith('cma='));
    v.cmdline = [...base, `cma=${Math.floor(over.cmaBytes / 1048576)}M`].join(' ');
  }
  const board = typeof v.board === 'string' ? v.board : undefined;
  let m = machineFrom(v, board === undefined ? { cmdline: 'cma=64M' } : {});
  try {
    m = withBoard(m, board);
  } catch (e) {
    if (e instanceof UsageError) throw new CliError('board', e.message, e.hint ?? 'fix the board file, or give a shipped board\'s name (docs/device-tree.md)', 2);
    throw e;
  }
  if (over.region !== undefined) {
    if (!(m.board instanceof DeviceTree)) throw new UsageError('--sweep region:...: the machine has no board', 'give --board (or machine.board in the workload)');
    const why = resizeRegion(m.board, over.region.name, over.region.bytes);
    if (why !== null) throw new UsageError(`--sweep: ${why}`);
  }
  return m;
}

/** One run of a workload in this thread (the worker's job too). */
export function runOne(w: Workload, values: Values, over: MachineOverride, seed: number | undefined, progress?: (f: number) => void): SimResult {
  const machine = simMachine(values, w, over);
  const board = typeof values.board === 'string' ? values.board : w.machine.board;
  return simulate(w, { machine, boardLabel: board, clock: () => performance.now(), ...(seed !== undefined ? { seed } : {}), ...(progress !== undefined ? { progress } : {}) });
}

interface Task {
  readonly over: MachineOverride;
  readonly seed: number | undefined;
}

/** Runs tasks on worker threads (`jobs` at a time), in order of the tasks. */
async function runPool(w: Workload, values: Values, tasks: readonly Task[], jobs: number, onDone: (n: number) => void): Promise<SimResult[]> {
  const out = new Array<SimResult>(tasks.length);
  let next = 0;
  let done = 0;
  const n = Math.max(1, Math.min(jobs, tasks.length));
  // only plain data crosses to a worker (the machine is rebuilt there from the same options)
  const plain: Values = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) plain[k] = v;
  const one = (): Promise<void> =>
    new Promise<void>((resolveP, reject) => {
      const worker = new Worker(new URL('./sim-worker.js', import.meta.url));
      const feed = (): void => {
        if (next >= tasks.length) {
          void worker.terminate().then(() => resolveP());
          return;
        }
        const id = next++;
        worker.postMessage({ id, w, values: plain, over: tasks[id]!.over, seed: tasks[id]!.seed });
      };
      worker.on('message', (m: { id: number; result?: SimResult; error?: { message: string; hint?: string; code?: string } }) => {
        if (m.error !== undefined) {
          void worker.terminate();
          reject(new CliError(m.error.code ?? 'simulate', m.error.message, m.error.hint ?? '', 1));
          return;
        }
        out[m.id] = m.result!;
        onDone(++done);
        feed();
      });
      worker.on('error', (e) => reject(e));
      feed();
    });
  await Promise.all(Array.from({ length: n }, one));
  return out;
}

// ---- formatting -----------------------------------------------------------------------------------

/** 1:02:03.5 / 2:03.250 / 0.033 s. */
export function fmtTime(us: number): string {
  const s = us / 1e6;
  if (s < 60) return `${s.toFixed(3)}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = (s % 60).toFixed(3).padStart(6, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function fmtDuration(us: number): string {
  const s = us / 1e6;
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

function byReason(r: SimResult): string {
  const m = new Map<FailureReason, number>();
  for (const f of r.failures) m.set(f.reason, (m.get(f.reason) ?? 0) + 1);
  return [...m].map(([k, v]) => `${k} ${v}`).join(', ');
}

function machineLine(r: SimResult): string {
  const arch = r.arch !== undefined ? ` ${r.arch}${r.pageSize !== undefined && r.pageSize !== 4096 ? ` (${r.pageSize / 1024} KiB pages)` : ''}` : '';
  return `${r.board !== null ? `board ${r.board}, ` : ''}Linux ${r.profile}${arch}, cmdline '${r.cmdline}', seed ${r.seed}`;
}

export function formatRun(r: SimResult, maxFailures = 20): string {
  const lines: string[] = [];
  lines.push(`workload ${r.workload}: ${fmtDuration(r.duration)} simulated on ${machineLine(r)} (${(r.wallMs / 1000).toFixed(1)} s)`);
  lines.push(`events ${r.counts.events}, allocations ${r.counts.allocations}, frees ${r.counts.frees}, frames ${r.counts.frames}, failures ${r.failures.length}${r.counts.injected > 0 ? ` (${r.counts.injected} injected)` : ''}`);
  lines.push('');
  lines.push(
    table(
      ['heap', 'kind', 'capacity', 'peak use', 'allocations', 'failed'],
      r.heaps.map((h) => [h.name, h.kind, h.capacity === null ? 'RAM' : fmtBytes(h.capacity), fmtBytes(h.peakBytes), String(h.allocations), String(h.failures)]),
    ),
  );
  if (r.areas.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['CMA area', 'heap', 'size', 'least free', 'smallest largest free run'],
        r.areas.map((a) => [a.name, a.heap ?? '-', fmtBytes(a.pages * a.pageSize), fmtBytes(a.minFreePages * a.pageSize), `${fmtBytes(a.minLargestFreeRun * a.pageSize)} (${a.minLargestFreeRun} pages)`]),
      ),
    );
  }
  if (r.processes.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['process', 'pid', 'started', 'ended', 'peak dma-buf Rss', 'peak Pss', 'killed'],
        r.processes.slice(0, 50).map((p) => [p.name, String(p.pid), fmtTime(p.start), p.end === null ? '-' : fmtTime(p.end), fmtBytes(p.peakRss), fmtBytes(Math.round(p.peakPss)), p.killed ?? '-']),
      ),
    );
    if (r.processes.length > 50) lines.push(`(${r.processes.length - 50} more processes; --json lists them all)`);
  }
  lines.push('');
  if (r.failures.length === 0) lines.push('no allocation failed');
  else {
    lines.push(`${r.failures.length} failed (${byReason(r)}):`);
    for (const f of r.failures.slice(0, maxFailures)) lines.push(`  ${fmtTime(f.t)}  ${f.process}/${f.stream}  ${f.heap}  ${fmtBytes(f.size)}  ${f.errno}  ${f.reason}: ${f.detail}${f.differs !== undefined ? `  [replay: ${f.differs}]` : ''}`);
    if (r.failures.length > maxFailures) lines.push(`  ... ${r.failures.length - maxFailures} more (--json lists them all)`);
  }
  const diffs = r.differences ?? [];
  if (diffs.length > 0) {
    lines.push('', `${diffs.length} allocation${diffs.length === 1 ? '' : 's'} of the replay succeeded here although the trace saw ${diffs.length === 1 ? 'it' : 'them'} fail:`);
    for (const f of diffs.slice(0, maxFailures)) lines.push(`  ${fmtTime(f.t)}  ${f.process}/${f.stream}  ${f.heap}  ${fmtBytes(f.size)}  ${f.detail}`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** The time series as CSV: one row per sample. */
export function seriesCsv(r: SimResult): string {
  const s = r.series;
  const cols: [string, number[]][] = [];
  const q = (x: string): string => (/[",\n]/.test(x) ? `"${x.replaceAll('"', '""')}"` : x);
  for (const [k, v] of Object.entries(s.heapUse)) cols.push([`heap_bytes:${k}`, v]);
  for (const [k, v] of Object.entries(s.cmaFree)) cols.push([`cma_free_pages:${k}`, v]);
  for (const [k, v] of Object.entries(s.cmaLargest)) cols.push([`cma_largest_free_run_pages:${k}`, v]);
  for (const [k, v] of Object.entries(s.rss)) cols.push([`dmabuf_rss_bytes:${k}`, v]);
  for (const [k, v] of Object.entries(s.pss)) cols.push([`dmabuf_pss_bytes:${k}`, v]);
  for (const [k, v] of Object.entries(s.cgroup)) cols.push([`cgroup_bytes:${k}`, v]);
  cols.push(['mem_free_bytes', s.memFree]);
  const out = [['t_seconds', ...cols.map((c) => q(c[0]))].join(',')];
  s.t.forEach((t, i) => out.push([String(t / 1e6), ...cols.map((c) => String(c[1][i] ?? ''))].join(',')));
  return `${out.join('\n')}\n`;
}

// ---- sweeps -----------------------------------------------------------------------------------------

export interface SweepSpec {
  /** cma: the command line's cma=; region: a board's reserved-memory region. */
  readonly key: 'cma' | 'region';
  /** The region's node name (key region). */
  readonly region: string | null;
  readonly from: number;
  readonly to: number;
}

export function parseSweep(s: string): SweepSpec {
  const hint = 'give --sweep cma=<from>..<to> (e.g. cma=16M..512M), or region:<node name>=<from>..<to> for a board\'s reserved-memory region (e.g. region:linux,cma=64M..640M)';
  const m = /^(?:cma|region:(.{1,200}))=([^=.]+)\.\.([^=]+)$/.exec(s);
  if (m === null) throw new UsageError(`--sweep: '${s}' is not a sweep`, hint);
  const from = parseSize(m[2]!, '--sweep (from)', { min: 1048576 });
  const to = parseSize(m[3]!, '--sweep (to)', { max: 64 * 1024 ** 4 });
  if (to <= from) throw new UsageError(`--sweep: the range ${m[2]}..${m[3]} is empty: the end must be larger than the start`, hint);
  return { key: m[1] === undefined ? 'cma' : 'region', region: m[1] ?? null, from, to };
}

/** What a sweep's `size` changes in the machine. */
function sweepOverride(sp: SweepSpec, size: number, baseCmdline: string): MachineOverride {
  return sp.key === 'cma' ? { cmaBytes: size, baseCmdline } : { region: { name: sp.region!, bytes: size } };
}

/** `what=size` as the sweep names it. */
export function sweepLabel(sp: Pick<SweepSpec, 'key' | 'region'>, size: number): string {
  return `${sp.key === 'cma' ? 'cma' : sp.region!}=${sizeText(size)}`;
}

/** `n` sizes from..to, evenly spaced, multiples of `step` (default 1 MiB), distinct. */
export function sweepPoints(sp: Pick<SweepSpec, 'from' | 'to'>, n: number, step = 1048576): number[] {
  const out: number[] = [];
  const lo = Math.ceil(sp.from / step);
  const hi = Math.floor(sp.to / step);
  for (let i = 0; i < n; i++) {
    const v = Math.round(lo + ((hi - lo) * i) / Math.max(1, n - 1)) * step;
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** `n` sizes strictly between from and to, evenly spaced, multiples of `step`, distinct. */
export function interiorPoints(range: { from: number; to: number }, n: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) {
    const v = Math.round((range.from + ((range.to - range.from) * i) / (n + 1)) / step) * step;
    if (v > range.from && v < range.to && !out.includes(v)) out.push(v);
  }
  return out;
}

export interface SweepPoint {
  /** The size asked for. */
  readonly cma: number;
  /** The area the kernel made of it (aligned), or null when it made none. */
  readonly areaBytes: number | null;
  /** Failures per seed. */
  readonly failures: number[];
  /** The least free pages of any CMA area over all seeds, in bytes. */
  readonly leastFree: number;
  readonly reasons: string;
}

export interface SweepResult {
  readonly workload: string;
  /** What was swept: cma, or the region's name. */
  readonly swept: string;
  readonly key: 'cma' | 'region';
  readonly seeds: number[];
  readonly points: SweepPoint[];
  /** The smallest size at which no seed failed, with every larger size passing too; null: none. */
  readonly smallest: number | null;
  /** The largest size that failed below it (null: none failed). */
  readonly largestFailing: number | null;
  /** At `smallest`: the least free CMA memory over the seeds (how much was never needed). */
  readonly headroom: number | null;
  /** Sizes that passed below a failing one (the workload is not monotonic there). */
  readonly nonMonotonic: number[];
  readonly wallMs: number;
  readonly jobs: number;
}

export function summariseSweep(workload: string, sp: Pick<SweepSpec, 'key' | 'region'>, seeds: number[], sizes: number[], results: SimResult[], wallMs: number, jobs: number): SweepResult {
  const points: SweepPoint[] = sizes.map((cma, i) => {
    const rs = results.slice(i * seeds.length, (i + 1) * seeds.length);
    // the swept area: the region by name, or the area of exactly the size cma= asked for
    const swept = (r: SimResult): SimResult['areas'] => {
      // cma= makes the area Linux names "reserved" (mm/cma.c, cma_declare_contiguous from kernel/dma/contiguous.c)
      const own = r.areas.filter((a) => (sp.key === 'region' ? a.name === sp.region || a.name.split('@')[0] === sp.region : a.name === 'reserved'));
      return own.length > 0 ? own : r.areas;
    };
    const leastFree = Math.min(...rs.flatMap((r) => swept(r).map((a) => a.minFreePages * a.pageSize)), Infinity);
    const reasons = new Map<string, number>();
    for (const r of rs) for (const f of r.failures) reasons.set(f.reason, (reasons.get(f.reason) ?? 0) + 1);
    const area = rs[0] !== undefined ? swept(rs[0]) : [];
    return { cma, areaBytes: area.length === 1 ? area[0]!.pages * area[0]!.pageSize : null, failures: rs.map((r) => r.failures.length), leastFree: Number.isFinite(leastFree) ? leastFree : 0, reasons: [...reasons].map(([k, v]) => `${k} ${v}`).join(', ') };
  });
  let smallest: number | null = null;
  for (let i = points.length - 1; i >= 0; i--) {
    if (points[i]!.failures.some((n) => n > 0)) break;
    smallest = points[i]!.cma;
  }
  const below = points.filter((p) => smallest === null || p.cma < smallest);
  const failing = below.filter((p) => p.failures.some((n) => n > 0));
  const largestFailing = failing.length > 0 ? failing[failing.length - 1]!.cma : null;
  const nonMonotonic = below.filter((p) => p.failures.every((n) => n === 0)).map((p) => p.cma);
  const at = points.find((p) => p.cma === smallest);
  return { workload, swept: sp.key === 'cma' ? 'cma' : sp.region!, key: sp.key, seeds, points, smallest, largestFailing, headroom: at?.leastFree ?? null, nonMonotonic, wallMs, jobs };
}

export function formatSweep(s: SweepResult): string {
  const what = s.key === 'cma' ? 'cma=' : `region ${s.swept}`;
  const lbl = (n: number): string => sweepLabel({ key: s.key, region: s.swept }, n);
  const lines = [`sweep of ${what} for ${s.workload}, ${s.seeds.length} seed${s.seeds.length === 1 ? '' : 's'} (${s.seeds.join(', ')}), ${s.points.length} sizes on ${s.jobs} worker${s.jobs === 1 ? '' : 's'} (${(s.wallMs / 1000).toFixed(1)} s)`, ''];
  lines.push(table([s.key === 'cma' ? 'cma=' : 'size', 'area', 'failures per seed', 'least free', 'why'], s.points.map((p) => [sizeText(p.cma), p.areaBytes === null ? 'none' : fmtBytes(p.areaBytes), p.failures.join(' '), fmtBytes(p.leastFree), p.reasons === '' ? '-' : p.reasons])));
  lines.push('');
  if (s.smallest === null) lines.push(`no size up to ${sizeText(s.points[s.points.length - 1]?.cma ?? 0)} runs without a failure: widen the range (--sweep) or look at the failures (dmaheap simulate without --sweep)`);
  else {
    lines.push(`smallest size without a failure: ${lbl(s.smallest)}${s.largestFailing !== null ? ` (${lbl(s.largestFailing)} failed)` : ' (the smallest size tried: lower the start of the range)'}`);
    if (s.headroom !== null) lines.push(`margin at ${lbl(s.smallest)}: at least ${fmtBytes(s.headroom)} of CMA stayed free at every moment of every seed`);
  }
  if (s.nonMonotonic.length > 0) lines.push(`note: ${s.nonMonotonic.map((n) => lbl(n)).join(', ')} passed although a larger size failed: placement and fragmentation are not monotonic in the size; more seeds (--seeds) give a safer answer`);
  return lines.join('\n');
}

// ---- profile comparisons ---------------------------------------------------------------------------------

export interface ProfileComparison {
  readonly workload: string;
  readonly runs: { profile: string; failures: number; reasons: string; heaps: { name: string; peak: number; failures: number }[]; cgroupCharged: boolean; areas: { name: string; pages: number; minFreePages: number; minLargestFreeRun: number }[] }[];
  /** Heap changes from the first profile to each later one. */
  readonly changes: { from: string; to: string; diff: HeapDiff }[];
}

export function compareProfiles(results: readonly SimResult[]): ProfileComparison {
  const ids = (r: SimResult): { name: string; backing: string }[] => r.heaps.map((h) => ({ name: h.name, backing: h.backing ?? h.name }));
  const first = results[0]!;
  return {
    workload: first.workload,
    runs: results.map((r) => ({
      profile: r.profile,
      failures: r.failures.length,
      reasons: byReason(r),
      heaps: r.heaps.map((h) => ({ name: h.name, peak: h.peakBytes, failures: h.failures })),
      cgroupCharged: r.accounting?.memcg ?? false,
      areas: r.areas.map((a) => ({ name: a.name, pages: a.pages, minFreePages: a.minFreePages, minLargestFreeRun: a.minLargestFreeRun })),
    })),
    changes: results.slice(1).map((r, i) => ({ from: results[i]!.profile, to: r.profile, diff: diffHeaps(ids(results[i]!), ids(r)) })),
  };
}

export function formatComparison(c: ProfileComparison): string {
  const lines = [`${c.workload} on ${c.runs.map((r) => `Linux ${r.profile}`).join(', ')}`, ''];
  lines.push(table(['kernel', 'failures', 'why', 'heaps used (peak)', 'dma-buf charged to cgroups'], c.runs.map((r) => [r.profile, String(r.failures), r.reasons === '' ? '-' : r.reasons, r.heaps.filter((h) => h.peak > 0 || h.failures > 0).map((h) => `${h.name} ${fmtBytes(h.peak)}${h.failures > 0 ? ` (${h.failures} failed)` : ''}`).join('; ') || '-', r.cgroupCharged ? 'yes' : 'no'])));
  for (const ch of c.changes) {
    const d = ch.diff;
    const parts = [
      ...d.renamed.map((r) => `renamed ${r.from} -> ${r.to}${r.oldNameKept ? ' (old name kept)' : ''}`),
      ...d.added.map((a) => `new heap ${a}`),
      ...d.removed.map((a) => `heap ${a} gone: a workload that names it fails with no-heap`),
    ];
    lines.push('', `${ch.from} -> ${ch.to}: ${parts.length === 0 ? 'the same heaps' : parts.join('; ')}`);
  }
  // placement: the same area's worst moment differs between kernels
  const areaNames = [...new Set(c.runs.flatMap((r) => r.areas.map((a) => a.name)))];
  for (const name of areaNames) {
    const per = c.runs.map((r) => ({ profile: r.profile, a: r.areas.find((x) => x.name === name) ?? null }));
    const shown = per.map((p) => (p.a === null ? 'none' : `${p.a.minLargestFreeRun}`));
    if (new Set(shown).size > 1) lines.push(`CMA area ${name}: smallest largest free run (pages) ${per.map((p, i) => `${p.profile} ${shown[i]}`).join(', ')}: placement or use differs`);
  }
  const prev = c.runs[0]!;
  for (const r of c.runs.slice(1)) {
    if (r.failures !== prev.failures) lines.push(`${prev.profile} -> ${r.profile}: failures ${prev.failures} -> ${r.failures}`);
    if (r.cgroupCharged !== prev.cgroupCharged) lines.push(`${prev.profile} -> ${r.profile}: dma-buf memory ${r.cgroupCharged ? 'is now' : 'is no longer'} charged to the processes' cgroups`);
  }
  return lines.join('\n');
}

// ---- the command --------------------------------------------------------------------------------------

function progressBar(io: CliIo, label: string): ((f: number) => void) | undefined {
  if (io.progress === undefined) return undefined;
  return (f) => {
    const w = 30;
    const n = Math.round(f * w);
    io.progress?.(`${label} [${'#'.repeat(n)}${' '.repeat(w - n)}] ${Math.floor(f * 100)}%`);
  };
}

function str(v: Values, k: string): string | undefined {
  const x = v[k];
  return typeof x === 'string' ? x : undefined;
}

export async function simulateCommand(values: Values, positionals: string[], json: boolean, io: CliIo): Promise<number> {
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError('simulate needs a workload file', 'dmaheap simulate [machine options] <workload.yaml> (examples in examples/workloads/)');
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}': one workload per run`);
  const workload = values.replay === true ? loadRecording(file) : loadWorkload(file);
  const save = str(values, 'save-workload');
  if (save !== undefined) {
    writeFileSync(save, workloadToYaml(workload));
    io.err(`workload written to ${save} (${workload.script.length} script steps)`);
  }
  const seedText = str(values, 'seed');
  const seed = seedText !== undefined ? parseInteger(seedText, '--seed', { noun: 'a seed', min: 0, max: 0xffffffff }) : undefined;
  const seedsText = str(values, 'seeds');
  const nSeeds = seedsText !== undefined ? parseInteger(seedsText, '--seeds', { noun: 'a number of seeds', min: 1, max: 1000 }) : 1;
  const jobsText = str(values, 'jobs');
  const jobs = jobsText !== undefined ? parseInteger(jobsText, '--jobs', { noun: 'a number of worker threads', min: 1, max: 256 }) : availableParallelism();
  const sweepText = str(values, 'sweep');
  const compareText = str(values, 'compare-profiles');
  const report = str(values, 'report');
  const csv = str(values, 'csv');
  if (sweepText !== undefined && compareText !== undefined) throw new UsageError('--sweep and --compare-profiles do not go together', 'run one, then the other');
  // the machine is checked (and the board loaded) once here, so that a bad option fails before any worker starts
  const probe = simMachine(values, workload);
  io.onMachine?.(probe);
  const baseSeed = seed ?? workload.seed;
  const t0 = performance.now();

  if (sweepText !== undefined) {
    const sp = parseSweep(sweepText);
    const pointsText = str(values, 'points');
    const n = pointsText !== undefined ? parseInteger(pointsText, '--points', { noun: 'a number of sizes', min: 2, max: 256 }) : 16;
    const resText = str(values, 'resolution');
    const probeKernel = createEmulatedTarget(probe).kernel;
    const baseCmdline = probeKernel.cmdline;
    // a reserved-memory region must be a multiple of CMA's alignment (rmem_cma_setup refuses
    // another size): a region sweep steps by it; cma= is aligned by the kernel itself
    const step = sp.key === 'region' ? Math.max(1048576, cmaMinAlignmentBytes(probeKernel.pageSize, probeKernel.arch)) : 1048576;
    const resolution = Math.max(step, resText !== undefined ? parseSize(resText, '--resolution', { min: 1048576 }) : step);
    const seeds = Array.from({ length: nSeeds }, (_, i) => baseSeed + i);
    if (sp.key === 'region') simMachine(values, workload, sweepOverride(sp, sp.from, baseCmdline));
    // rounds: the range, then the gap between the largest failing and the smallest passing
    // size, until it is at most --resolution wide (at most 4 rounds)
    let range = { from: sp.from, to: sp.to };
    const sizes: number[] = [];
    const results: SimResult[] = [];
    let summary: SweepResult | null = null;
    let used = 1;
    for (let round = 0; round < 4; round++) {
      // later rounds: points inside the gap, spaced no finer than the resolution
      const pts = (round === 0 ? sweepPoints(range, n, step) : interiorPoints(range, Math.min(n, Math.max(1, Math.ceil((range.to - range.from) / resolution) - 1)), step)).filter((x) => !sizes.includes(x));
      if (pts.length === 0) break;
      const tasks: Task[] = pts.flatMap((size) => seeds.map((sd) => ({ over: sweepOverride(sp, size, baseCmdline), seed: sd })));
      const bar = progressBar(io, `sweep round ${round + 1}: ${tasks.length} runs`);
      const got = await runPool(workload, values, tasks, jobs, (d) => bar?.(d / tasks.length));
      io.progress?.(null);
      // keep the points in size order with their seeds' results
      const all = [...sizes.map((sz, i) => ({ sz, rs: results.slice(i * seeds.length, (i + 1) * seeds.length) })), ...pts.map((sz, i) => ({ sz, rs: got.slice(i * seeds.length, (i + 1) * seeds.length) }))].sort((a, b) => a.sz - b.sz);
      sizes.length = 0;
      results.length = 0;
      for (const p of all) {
        sizes.push(p.sz);
        results.push(...p.rs);
      }
      used = Math.max(used, Math.min(jobs, tasks.length));
      summary = summariseSweep(workload.name, sp, seeds, sizes, results, performance.now() - t0, used);
      if (summary.smallest === null || summary.largestFailing === null || summary.smallest - summary.largestFailing <= resolution) break;
      range = { from: summary.largestFailing, to: summary.smallest };
    }
    const s = summary!;
    if (report !== undefined) writeReport(io, report, results.filter((_, i) => i % seeds.length === 0), sizes.map((c) => sweepLabel(sp, c)));
    io.out(json ? JSON.stringify(s, null, 2) : formatSweep(s));
    return s.smallest === null ? 1 : 0;
  }

  if (compareText !== undefined) {
    const profiles = compareText.split(',').map((p) => parseProfile(p.trim(), '--compare-profiles'));
    if (profiles.length < 2) throw new UsageError('--compare-profiles needs two profiles or more, comma-separated', 'e.g. --compare-profiles 6.12,6.19,7.3');
    const tasks: Task[] = profiles.map((p) => ({ over: { profile: p }, seed: baseSeed }));
    const bar = progressBar(io, `${profiles.length} kernels`);
    const results = await runPool(workload, values, tasks, jobs, (d) => bar?.(d / tasks.length));
    io.progress?.(null);
    const c = compareProfiles(results);
    if (report !== undefined) writeReport(io, report, results, profiles.map((p) => `Linux ${p}`));
    io.out(json ? JSON.stringify({ ...c, results: results.map((r) => ({ profile: r.profile, failures: r.failures })) }, null, 2) : formatComparison(c));
    return 0;
  }

  const bar = progressBar(io, `simulating ${fmtDuration(workload.duration)}`);
  const r = simulate(workload, { machine: probe, boardLabel: typeof values.board === 'string' ? values.board : workload.machine.board, clock: () => performance.now(), ...(seed !== undefined ? { seed } : {}), ...(bar !== undefined ? { progress: bar } : {}) });
  io.progress?.(null);
  if (csv !== undefined) {
    if (csv === '-') io.write(seriesCsv(r));
    else writeFileSync(csv, seriesCsv(r));
  }
  if (report !== undefined) writeReport(io, report, [r], []);
  if (csv === '-') return 0;
  io.out(json ? JSON.stringify(r) : `${formatRun(r)}\n\nnext: --report out.html draws it; --sweep cma=16M..512M finds the smallest CMA size; --compare-profiles 6.12,7.3 shows a kernel upgrade`);
  return 0;
}

function writeReport(io: CliIo, path: string, runs: readonly SimResult[], labels: readonly string[]): void {
  writeFileSync(path, renderReport(runs, labels.length > 0 ? { labels } : {}));
  io.err(`report written to ${path}`);
}
