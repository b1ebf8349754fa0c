/**
 * Record and replay: three kinds of recordings turned into a {@link Workload} whose `script`
 * `dmaheap simulate` runs on any board and profile, with each allocation's `expect` (what the
 * recording saw) so the run can say where the result differs.
 *
 * - {@link workloadFromRunTrace}: the JSON lines of `dmaheap run --trace` (the emulated kernel's
 *   view of a real program: heap, length, inode, and the inodes each call freed);
 * - {@link workloadFromClientTrace}: the JSON lines of a client trace (DmaHeapClientOptions.trace,
 *   `DMAHEAP_CLIENT_TRACE`), recorded on either backend;
 * - {@link workloadFromSnapshots}: a series of `/sys/kernel/debug/dma_buf/bufinfo` or Android
 *   `dmabuf_dump` texts taken over time ({@link splitSnapshots} cuts one file into them).
 *
 * Every input is data from others: lines, steps and texts are bounded, and a bad line is a
 * {@link WorkloadError} with the file and line. No file is read here (no node:* import): the
 * caller reads and passes the text. docs/replay.md describes the formats and what is
 * approximated.
 */
import { imageLayout, PIXEL_FORMATS } from '../../api/layout.js';
import type { PixelFormat } from '../../api/layout.js';
import { Errno, errnoName } from '../../uapi/errno.js';
import { DURATION_UNIT_US, MAX_DURATION_US, WorkloadError } from './workload.js';
import type { CgroupSpec, FaultSpec, Micros, PressureSpec, ProcessSpec, ScriptEvent, StreamSpec, Workload } from './workload.js';

/** Script steps one converted recording may give (parseWorkload's bound on `script`). */
export const MAX_REPLAY_STEPS = 1_000_000;
/** Characters of one line of a trace or snapshot. */
export const MAX_LINE_CHARS = 1024 * 1024;
/** Snapshots in one series. */
export const MAX_SNAPSHOTS = 100_000;
/** Simulated time after the last recorded event (the run's tail, so the last state is sampled). */
export const REPLAY_MARGIN_US = 1_000_000;
const MAX_ID = 64;
const MAX_NAME = 15;

/** DMA_HEAP_IOCTL_ALLOC as `dmaheap run --trace` prints the command (hex). */
const ALLOC_CMD = '0xc0184800';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The lines of `text`, each with its number (1-based); a line longer than {@link MAX_LINE_CHARS} is refused. */
function* lines(text: string, file: string, first = 1): Generator<{ line: string; n: number }> {
  let at = 0;
  let n = first;
  while (at <= text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (end - at > MAX_LINE_CHARS) throw new WorkloadError(file, n, 1, '', `the line is ${end - at} characters long; at most ${MAX_LINE_CHARS}`, 'is this the right file? a trace has one JSON object per line');
    let line = text.slice(at, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (end === text.length && line === '') return;
    yield { line, n };
    at = end + 1;
    n++;
  }
}

/** Builds the script, keeping the bound on its length. */
class Script {
  readonly steps: ScriptEvent[] = [];
  constructor(private readonly file: string) {}

  push(e: ScriptEvent, line: number): void {
    if (this.steps.length >= MAX_REPLAY_STEPS) throw new WorkloadError(this.file, line, 1, '', `gives more than ${MAX_REPLAY_STEPS} script steps`, 'cut the recording into shorter pieces');
    this.steps.push(e);
  }
}

/** Process names the workload schema accepts (letters, digits, _ . : -, at most 15), unique per key. */
class ProcessNames {
  private readonly byKey = new Map<string, string>();
  private readonly used = new Set<string>();

  name(key: string, want: string): string {
    const had = this.byKey.get(key);
    if (had !== undefined) return had;
    let base = want.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, MAX_NAME);
    if (base === '') base = 'process';
    let name = base;
    for (let i = 2; this.used.has(name); i++) {
      const suffix = `.${i}`;
      name = `${base.slice(0, MAX_NAME - suffix.length)}${suffix}`;
    }
    this.used.add(name);
    this.byKey.set(key, name);
    return name;
  }
}

function errnoOf(name: unknown): number | null {
  if (typeof name === 'number' && Number.isInteger(name) && name > 0 && name < 4096) return name;
  if (typeof name !== 'string') return null;
  if (name in Errno) return (Errno as Record<string, number>)[name]!;
  const m = /^E(\d{1,4})$/.exec(name);
  return m !== null && Number(m[1]) > 0 && Number(m[1]) < 4096 ? Number(m[1]) : null;
}

/** The finished workload: steps in time order (stable), duration = last step + {@link REPLAY_MARGIN_US}. */
function finish(file: string, kind: string, steps: ScriptEvent[], description: string): Workload {
  if (!steps.some((s) => s.op === 'alloc')) throw new WorkloadError(file, 1, 1, '', `has no allocation: nothing to replay (${kind})`, 'record while the program allocates buffers');
  const sorted = steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.t - b.s.t || a.i - b.i).map((x) => x.s);
  const last = sorted[sorted.length - 1]!.t;
  const duration = last + REPLAY_MARGIN_US;
  if (duration > MAX_DURATION_US) throw new WorkloadError(file, 1, 1, '', `spans ${Math.round(last / 1_000_000)} s; the longest simulated time is 30 days`, 'cut the recording into shorter pieces');
  return {
    // eslint-disable-next-line no-control-regex
    name: file.replace(/^.*\//, '').replace(/\.[A-Za-z0-9]+$/, '').replace(/[\u0000-\u001f\u007f]/g, '_').slice(0, 200) || 'replay',
    description,
    file,
    duration,
    seed: 1,
    sample: Math.max(10_000, Math.round(duration / 600)),
    machine: { board: null, profile: null, cmdline: null },
    cgroups: [],
    processes: [],
    pressure: [],
    faults: [],
    script: sorted,
  };
}

function parseLine(file: string, n: number, line: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new WorkloadError(file, n, 1, '', `not a JSON object: ${e instanceof Error ? e.message : String(e)}`, 'a trace has one JSON object per line');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WorkloadError(file, n, 1, '', 'not a JSON object', 'a trace has one JSON object per line');
  return v as Record<string, unknown>;
}

function field(file: string, n: number, rec: Record<string, unknown>, name: string, kind: 'int' | 'string', required: boolean, hint?: string): number | string | undefined {
  const v = rec[name];
  if (v === undefined || v === null) {
    if (required) throw new WorkloadError(file, n, 1, name, 'is missing', hint);
    return undefined;
  }
  if (kind === 'int' && (typeof v !== 'number' || !Number.isSafeInteger(v))) throw new WorkloadError(file, n, 1, name, 'must be a whole number', hint);
  if (kind === 'string' && typeof v !== 'string') throw new WorkloadError(file, n, 1, name, 'must be text', hint);
  // eslint-disable-next-line no-control-regex
  if (typeof v === 'string' && (v.length > 4096 || /[\u0000-\u001f\u007f]/.test(v))) throw new WorkloadError(file, n, 1, name, 'is not a name (too long, or a control character)', hint);
  return v as number | string;
}

function time(file: string, n: number, rec: Record<string, unknown>, hint: string): Micros {
  const t = field(file, n, rec, 't', 'int', true, hint) as number;
  if (t < 0 || t > Number.MAX_SAFE_INTEGER / 2) throw new WorkloadError(file, n, 1, 't', `${t} is not a time in microseconds`);
  return t;
}

function heapName(file: string, n: number, v: string): string {
  if (v === '' || v.length > 200 || v.includes('/')) throw new WorkloadError(file, n, 1, 'heap', `'${v.slice(0, 80)}' is not a heap name`);
  return v;
}

function size(file: string, n: number, v: number, name: string): number {
  if (v < 0) throw new WorkloadError(file, n, 1, name, `${v} is not a size in bytes`);
  return v;
}

// ---- dmaheap run --trace ---------------------------------------------------------------------

/**
 * The script of a `dmaheap run --trace` file: each DMA_HEAP_IOCTL_ALLOC an `alloc` (its heap,
 * length, and the errno it met as `expect`), each dma-buf the trace says was freed (`freed`: its
 * last reference went, whichever call dropped it) a `free` by the process that allocated it, and
 * each exit (exit_group, or a process the run saw end) an `exit` of a process that allocated.
 * Processes are named `pid<pid>`. Times are the trace's `t` (µs since the run started).
 * @throws WorkloadError with the file and line for a line that is not a trace record
 */
export function workloadFromRunTrace(text: string, file: string): Workload {
  const hint = 'record the trace again with this version: dmaheap run --trace <file> -- <program>';
  const script = new Script(file);
  const names = new ProcessNames();
  /** Live buffers: inode → id and the process that allocated it. */
  const live = new Map<number, { id: string; process: string }>();
  const allocated = new Set<string>();
  const gen = new Map<number, number>();
  let failed = 0;
  let unnamed = 0;
  for (const { line, n } of lines(text, file)) {
    if (line.trim() === '') continue;
    const rec = parseLine(file, n, line);
    const pid = field(file, n, rec, 'pid', 'int', true, hint) as number;
    const call = field(file, n, rec, 'call', 'string', true, hint) as string;
    const t = time(file, n, rec, hint);
    const at = `${file}:${n}`;
    const process = names.name(String(pid), `pid${pid}`);
    const args = rec.args;
    if (call === 'ioctl' && Array.isArray(args) && args[1] === ALLOC_CMD) {
      // an ALLOC on an fd that is no heap node (ENOTTY) has no heap: nothing to replay
      const h = field(file, n, rec, 'heap', 'string', false) as string | undefined;
      if (h === undefined) continue;
      const heap = heapName(file, n, h);
      const len = size(file, n, field(file, n, rec, 'len', 'int', true, hint) as number, 'len');
      const ret = field(file, n, rec, 'ret', 'int', true, hint) as number;
      let expect: 'ok' | number = 'ok';
      let id: string;
      if (ret < 0) {
        const e = errnoOf(rec.errno);
        if (e === null) throw new WorkloadError(file, n, 1, 'errno', `'${String(rec.errno).slice(0, 40)}' is not an errno name`);
        expect = e;
        id = `failed${++failed}`;
      } else {
        const ino = field(file, n, rec, 'ino', 'int', false) as number | undefined;
        if (ino === undefined) id = `buf${++unnamed}`;
        else {
          const g = (gen.get(ino) ?? 0) + 1;
          gen.set(ino, g);
          id = g === 1 ? `ino${ino}` : `ino${ino}.${g}`;
          live.set(ino, { id, process });
        }
      }
      allocated.add(process);
      script.push({ t, op: 'alloc', process, id, heap, size: len, expect, at }, n);
    }
    const freed = rec.freed;
    if (freed !== undefined) {
      if (!Array.isArray(freed) || freed.length > 65536) throw new WorkloadError(file, n, 1, 'freed', 'must be a list of inode numbers');
      for (const ino of freed as unknown[]) {
        if (typeof ino !== 'number' || !Number.isSafeInteger(ino)) throw new WorkloadError(file, n, 1, 'freed', 'must be a list of inode numbers');
        const b = live.get(ino);
        if (b === undefined) continue;
        live.delete(ino);
        script.push({ t, op: 'free', process: b.process, id: b.id, at }, n);
      }
    }
    if ((call === 'exit_group' || call === 'exit') && allocated.has(process)) {
      allocated.delete(process);
      // the replay's exit takes the process's buffers with it (one another process still held goes early)
      for (const [ino, b] of live) if (b.process === process) live.delete(ino);
      script.push({ t, op: 'exit', process, at }, n);
    }
  }
  return finish(file, 'dmaheap run --trace', script.steps, `Replay of ${file.replace(/^.*\//, '')}, a dmaheap run --trace recording`);
}

// ---- client traces ----------------------------------------------------------------------------

/**
 * The script of a client trace (JSON lines of ClientTraceEvent): each `alloc` an `alloc` (its
 * errno as `expect` when it failed), each `free` (the client's last reference to the buffer) a
 * `free`, each `close` an `exit` of a client that allocated. Processes are named
 * `client<n>`; times are relative to the first event.
 * @throws WorkloadError with the file and line for a line that is not a client trace event
 */
export function workloadFromClientTrace(text: string, file: string): Workload {
  const hint = 'a client trace has one event per line, as DMAHEAP_CLIENT_TRACE writes them (docs/replay.md)';
  const script = new Script(file);
  const names = new ProcessNames();
  const live = new Map<number, { id: string; process: string }>();
  const allocated = new Set<string>();
  const pids = new Map<string, number>();
  let t0: number | null = null;
  let failed = 0;
  for (const { line, n } of lines(text, file)) {
    if (line.trim() === '') continue;
    const rec = parseLine(file, n, line);
    const ev = field(file, n, rec, 'ev', 'string', true, hint) as string;
    const client = field(file, n, rec, 'client', 'int', true, hint) as number;
    const pid = field(file, n, rec, 'pid', 'int', false) as number | undefined;
    const abs = time(file, n, rec, hint);
    t0 ??= abs;
    const t = Math.max(0, abs - t0);
    const at = `${file}:${n}`;
    const process = names.name(String(client), `client${client}`);
    if (pid !== undefined && !pids.has(process)) pids.set(process, pid);
    if (ev === 'alloc') {
      const heap = heapName(file, n, field(file, n, rec, 'heap', 'string', true, hint) as string);
      const sz = size(file, n, field(file, n, rec, 'size', 'int', true, hint) as number, 'size');
      if (rec.ok === true) {
        const buf = field(file, n, rec, 'buf', 'int', true, hint) as number;
        const id = `buf${buf}`;
        if (live.has(buf)) throw new WorkloadError(file, n, 1, 'buf', `buffer ${buf} is allocated a second time`, hint);
        live.set(buf, { id, process });
        script.push({ t, op: 'alloc', process, id, heap, size: sz, expect: 'ok', at }, n);
      } else if (rec.ok === false) {
        const e = errnoOf(rec.errno);
        if (e === null) throw new WorkloadError(file, n, 1, 'errno', `'${String(rec.errno).slice(0, 40)}' is not an errno name`);
        script.push({ t, op: 'alloc', process, id: `failed${++failed}`, heap, size: sz, expect: e, at }, n);
      } else throw new WorkloadError(file, n, 1, 'ok', 'must be true or false', hint);
      allocated.add(process);
    } else if (ev === 'free') {
      const buf = field(file, n, rec, 'buf', 'int', true, hint) as number;
      const b = live.get(buf);
      if (b === undefined) continue;
      live.delete(buf);
      script.push({ t, op: 'free', process: b.process, id: b.id, at }, n);
    } else if (ev === 'close') {
      if (!allocated.has(process)) continue;
      allocated.delete(process);
      for (const [buf, b] of live) if (b.process === process) live.delete(buf);
      script.push({ t, op: 'exit', process, at }, n);
    } else throw new WorkloadError(file, n, 1, 'ev', `'${ev.slice(0, 40)}' is not a client trace event`, 'events are alloc, free and close');
  }
  const who = [...pids].slice(0, 20).map(([p, pid]) => `${p} is pid ${pid}`).join(', ');
  return finish(file, 'client trace', script.steps, `Replay of ${file.replace(/^.*\//, '')}, a client trace${who === '' ? '' : ` (${who})`}`);
}

// ---- snapshot series --------------------------------------------------------------------------

/** One snapshot: its time (µs), its text, and where it came from (for messages). */
export interface Snapshot {
  readonly t: Micros;
  readonly text: string;
  /** The file it was read from (default: the series' file). */
  readonly file?: string;
  /** The line of that file its text starts on (default 1). */
  readonly line?: number;
}

const TIME_RE = /^(\d{1,15}(?:\.\d{1,9})?)(us|µs|ms|s|m|min|h)?$/;
function micros(num: string, unit: string | undefined): Micros {
  return Math.round(Number(num) * (DURATION_UNIT_US[unit ?? 's'] ?? 1_000_000));
}

/**
 * Cuts one file of snapshots into its snapshots: each begins after a header line
 * `=== t=<time>` (seconds, or a number with us, ms, s, m or h; anything after a space is
 * ignored, e.g. `=== t=12.5s ===` or `=== t=3 2026-12-07T01:00:03Z`). Only blank lines may come
 * before the first header.
 * @throws WorkloadError for text before the first header, a bad time, or no header at all
 */
export function splitSnapshots(text: string, file: string): Snapshot[] {
  const out: Snapshot[] = [];
  let cur: { t: Micros; line: number; parts: string[] } | null = null;
  const flush = (): void => {
    if (cur !== null) out.push({ t: cur.t, text: cur.parts.join('\n'), file, line: cur.line });
  };
  for (const { line, n } of lines(text, file)) {
    if (line.startsWith('=== t=')) {
      const m = TIME_RE.exec(line.slice(6).split(' ')[0]!);
      if (m === null) throw new WorkloadError(file, n, 7, '', `'${line.slice(0, 60)}' has no time`, 'a snapshot header is "=== t=<seconds>" or a number with us, ms, s, m or h: === t=12.5s');
      flush();
      if (out.length >= MAX_SNAPSHOTS) throw new WorkloadError(file, n, 1, '', `has more than ${MAX_SNAPSHOTS} snapshots`);
      cur = { t: micros(m[1]!, m[2]), line: n + 1, parts: [] };
    } else if (cur === null) {
      if (line.trim() !== '') throw new WorkloadError(file, n, 1, '', 'text before the first snapshot header', 'begin each snapshot with a line "=== t=<seconds>" (docs/replay.md)');
    } else cur.parts.push(line);
  }
  flush();
  if (out.length === 0) throw new WorkloadError(file, 1, 1, '', 'has no snapshot header', 'begin each snapshot with a line "=== t=<seconds>" (docs/replay.md), or give a directory of files named by time');
  return out;
}

/**
 * The time of a snapshot file named by it: the first number in the name, in seconds unless a
 * unit follows (`12.5s.txt`, `bufinfo-1500ms`, `0003`, `1733533200.txt`); null when the name has none.
 */
export function snapshotTimeFromName(name: string): Micros | null {
  const m = /(\d{1,15}(?:\.\d{1,9})?)(us|µs|ms|min|s|m|h)?(?![A-Za-z0-9])/.exec(name.replace(/^.*\//, '').replace(/\.(txt|log|out)$/, ''));
  return m === null ? null : micros(m[1]!, m[2]);
}

/** A buffer one snapshot shows. */
interface SnapBuf {
  readonly ino: number;
  readonly size: number;
  readonly exporter: string;
  /** The process holding it (dmabuf_dump), or null. */
  readonly proc: { readonly comm: string; readonly pid: number } | null;
}

/** Characters of one line of a snapshot (the real ones are short; the bound keeps the patterns linear). */
const MAX_SNAP_LINE = 4096;

function snapFail(s: Snapshot, file: string, i: number, problem: string, hint?: string): never {
  throw new WorkloadError(s.file ?? file, (s.line ?? 1) + i, 1, '', problem, hint);
}

/**
 * debugfs bufinfo (dma_buf_debug_show): `Dma-buf Objects:`, the column header, one line per
 * buffer `size flags mode count exp_name ino name` (tab-separated; the name may hold tabs),
 * tab-indented fence and attachment lines, `Total N devices attached`, `Total N objects, M bytes`.
 * @kernel drivers/dma-buf/dma-buf.c dma_buf_debug_show
 */
function parseBufinfoSnap(s: Snapshot, file: string): SnapBuf[] {
  const out: SnapBuf[] = [];
  let i = 0;
  for (const { line } of lines(s.text, s.file ?? file, s.line ?? 1)) {
    const n = i++;
    if (line.length > MAX_SNAP_LINE) snapFail(s, file, n, `the line is ${line.length} characters long; at most ${MAX_SNAP_LINE} in a snapshot`);
    if (line.trim() === '' || line.startsWith('\t') || line === 'Dma-buf Objects:' || /^size\s+\tflags/.test(line) || /^Total \d+ devices attached$/.test(line) || /^Total \d+ objects, \d+ bytes$/.test(line)) continue;
    const f = line.split('\t');
    if (f.length >= 7 && /^\d{1,15}$/.test(f[0]!) && /^[0-9a-f]{1,16}$/.test(f[1]!) && /^\d{1,15}$/.test(f[5]!)) {
      out.push({ ino: Number(f[5]), size: Number(f[0]), exporter: f[4]!, proc: null });
      continue;
    }
    snapFail(s, file, n, `'${line.slice(0, 60)}' is not a line of debugfs bufinfo`, 'a bufinfo snapshot is what cat /sys/kernel/debug/dma_buf/bufinfo prints');
  }
  return out;
}

/**
 * Android dmabuf_dump text: the default per-process report (sizes in kB), `-a` (the buffer ×
 * process table, kB) and `-b` (per buffer, in bytes), alone or together (-a -b).
 * The format: libdmabufinfo/tools/include/dmabuf_output_helper.h (src/api/dmabuf-dump.ts prints it).
 */
/** The holder of dmabuf_dump's "kernel only" buffers. */
const KERNEL = { comm: 'kernel', pid: -1 };

function parseDmabufDumpSnap(s: Snapshot, file: string): SnapBuf[] {
  const byIno = new Map<number, Mutable<SnapBuf>>();
  const order: number[] = [];
  let section: 'proc' | 'table' | 'perbuf' | 'exporters' | 'totals' | null = null;
  let proc: { comm: string; pid: number } | null = null;
  let tablePids: ({ comm: string; pid: number } | null)[] = [];
  let i = 0;
  const put = (ino: number, size: number | null, exporter: string | null, p: { comm: string; pid: number } | null, exact: boolean): void => {
    let b = byIno.get(ino);
    if (b === undefined) {
      if (order.length >= 1_000_000) return;
      b = { ino, size: size ?? 0, exporter: exporter ?? '<unknown>', proc: p };
      byIno.set(ino, b);
      order.push(ino);
      return;
    }
    if (size !== null && (exact || b.size === 0)) b.size = size;
    if (exporter !== null && b.exporter === '<unknown>') b.exporter = exporter;
    if (b.proc === null) b.proc = p;
  };
  for (const { line } of lines(s.text, s.file ?? file, s.line ?? 1)) {
    const n = i++;
    if (line.length > MAX_SNAP_LINE) snapFail(s, file, n, `the line is ${line.length} characters long; at most ${MAX_SNAP_LINE} in a snapshot`);
    const tr = line.trim();
    if (tr === '' || /^-+$/.test(tr) || tr.startsWith('dmabuf info not found')) continue;
    if (tr.includes('DMA-BUF per-buffer stats')) { section = 'perbuf'; continue; }
    if (tr.includes('DMA-BUF exporter stats')) { section = 'exporters'; continue; }
    if (tr.includes('DMA-BUF total stats')) { section = 'totals'; continue; }
    if (tr.includes('DMA-BUF Table buffer x process')) { section = 'table'; tablePids = []; continue; }
    if (section === 'perbuf') {
      if (tr.startsWith('Dmabuf Inode')) continue;
      const m = /^(\d{1,15}) \| *(\d{1,15}) \| *(.*?) *$/.exec(tr);
      if (m === null) snapFail(s, file, n, `'${tr.slice(0, 60)}' is not a line of dmabuf_dump -b`);
      put(Number(m[1]), Number(m[2]), m[3]!, null, true);
      continue;
    }
    if (section === 'exporters' || section === 'totals') continue;
    if (section === 'table') {
      if (tr.startsWith('Dmabuf Inode')) {
        tablePids = line.split('|').slice(4).map((c) => {
          const m = /^\s*(.*):(\d+)\s*$/.exec(c);
          return m === null ? null : { comm: m[1]!, pid: Number(m[2]) };
        });
        continue;
      }
      if (tr.startsWith('TOTALS')) continue;
      const cells = line.split('|');
      const m = /^ *(\d{1,15}) *$/.exec(cells[0] ?? '');
      const kb = /^ *(\d{1,15}) kB *$/.exec(cells[1] ?? '');
      if (m === null || kb === null) snapFail(s, file, n, `'${tr.slice(0, 60)}' is not a line of dmabuf_dump -a`);
      let holder: { comm: string; pid: number } | null = null;
      for (let c = 4; c < cells.length && holder === null; c++) if (/refs/.test(cells[c]!)) holder = tablePids[c - 4] ?? null;
      put(Number(m[1]), Number(kb[1]) * 1024, null, holder, false);
      continue;
    }
    // the default per-process report
    if (/^Name +Rss +Pss +nr_procs +Inode +Exporter$/.test(tr) || tr.startsWith('PROCESS TOTAL') || tr.startsWith('dmabuf total:') || tr.startsWith('Unable to read') || tr.startsWith('Warning:')) continue;
    if (tr.startsWith('kernel only (held by no process):')) {
      for (const part of tr.slice('kernel only (held by no process):'.length).split(', ')) {
        const m = /^ *(\d{1,15}) (\d{1,15}) kB (\S+)/.exec(part);
        if (m !== null) put(Number(m[1]), Number(m[2]) * 1024, m[3]!, KERNEL, false);
      }
      continue;
    }
    const row = /^(.*?) +(\d{1,15}) kB +(\d{1,15}) kB +(\d{1,9}) +(\d{1,15}) +(\S+)$/.exec(tr);
    if (row !== null && proc !== null) {
      put(Number(row[5]), Number(row[2]) * 1024, row[6]!, proc, false);
      continue;
    }
    const head = /^(.*):(\d{1,9})$/.exec(tr);
    if (head !== null) {
      section = 'proc';
      proc = { comm: head[1]!, pid: Number(head[2]) };
      continue;
    }
    snapFail(s, file, n, `'${tr.slice(0, 60)}' is not a line of dmabuf_dump or bufinfo`, 'a snapshot is the text of cat /sys/kernel/debug/dma_buf/bufinfo or of dmabuf_dump (-a, -b)');
  }
  return order.map((ino) => byIno.get(ino)!);
}

/** Which of the two a snapshot's text is. */
export function snapshotKind(text: string): 'bufinfo' | 'dmabuf_dump' {
  return text.includes('Dma-buf Objects:') ? 'bufinfo' : 'dmabuf_dump';
}

/**
 * The script of a series of snapshots (bufinfo or dmabuf_dump; each detected on its own): a
 * buffer (inode) that appears is an `alloc` at that snapshot's time (those of the first snapshot
 * at its time), of its size and with its exporter as the heap, by the process that holds it
 * (dmabuf_dump: the first process listing it, named by its comm, or `kernel` for its "kernel
 * only" buffers; `unattributed` where the text names no process: bufinfo, dmabuf_dump -b);
 * one that disappears is a `free` at the time of the first snapshot without it.
 * Times are relative to the first snapshot. Snapshots must be in time order.
 * @throws WorkloadError with the file and line of a line that is neither format
 */
export function workloadFromSnapshots(snaps: readonly Snapshot[], file: string): Workload {
  if (snaps.length === 0) throw new WorkloadError(file, 1, 1, '', 'has no snapshot', 'give at least two snapshots taken while the workload ran');
  if (snaps.length > MAX_SNAPSHOTS) throw new WorkloadError(file, 1, 1, '', `has ${snaps.length} snapshots; at most ${MAX_SNAPSHOTS}`);
  const script = new Script(file);
  const names = new ProcessNames();
  const t0 = snaps[0]!.t;
  let live = new Map<number, { id: string; process: string; size: number }>();
  const gen = new Map<number, number>();
  const kinds = new Set<string>();
  let prevT = t0;
  for (const s of snaps) {
    const line = s.line ?? 1;
    const where = s.file ?? file;
    if (!Number.isFinite(s.t) || s.t < prevT) throw new WorkloadError(where, Math.max(1, line - 1), 1, '', 'goes back in time: snapshots are in time order');
    prevT = s.t;
    if (s.text.trim() === '') throw new WorkloadError(where, line, 1, '', 'the snapshot is empty: neither bufinfo nor dmabuf_dump text', 'a capture that failed leaves an empty snapshot: remove it');
    const kind = snapshotKind(s.text);
    kinds.add(kind);
    const bufs = kind === 'bufinfo' ? parseBufinfoSnap(s, file) : parseDmabufDumpSnap(s, file);
    const t = s.t - t0;
    const at = `${where}:${line}`;
    const next = new Map<number, { id: string; process: string; size: number }>();
    const appeared: SnapBuf[] = [];
    for (const b of bufs) {
      const was = live.get(b.ino);
      if (was !== undefined && was.size === b.size) next.set(b.ino, was);
      else appeared.push(b);
    }
    for (const [ino, b] of live) {
      if (next.get(ino) === b) continue;
      script.push({ t, op: 'free', process: b.process, id: b.id, at }, line);
    }
    // in inode order: the order they were made in (bufinfo lists the newest first)
    appeared.sort((a, b) => a.ino - b.ino);
    for (const b of appeared) {
      if (next.has(b.ino)) continue;
      const g = (gen.get(b.ino) ?? 0) + 1;
      gen.set(b.ino, g);
      const id = `ino${b.ino}${g === 1 ? '' : `.${g}`}`.slice(0, MAX_ID);
      const process = b.proc === null ? names.name('-', 'unattributed') : names.name(`${b.proc.pid}`, b.proc.comm.trim());
      next.set(b.ino, { id, process, size: b.size });
      // eslint-disable-next-line no-control-regex
      const heap = b.exporter === '' ? '<unknown>' : b.exporter.replace(/[\u0000-\u001f\u007f]/g, '_').slice(0, 200);
      script.push({ t, op: 'alloc', process, id, heap, size: b.size, expect: 'ok', at }, line);
    }
    live = next;
  }
  return finish(file, 'snapshots', script.steps, `Replay of ${file.replace(/^.*\//, '')}: ${snaps.length} ${[...kinds].join(' and ')} snapshots`);
}

// ---- back to text ------------------------------------------------------------------------------

const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

/** A YAML scalar for `s`: plain when that is safe, else double-quoted (JSON's escapes are YAML's). */
function str(s: string): string {
  return /^[A-Za-z_][A-Za-z0-9_./@+-]*$/.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

/** Microseconds as YAML: a whole number of `us` (exact, and parseWorkload's duration syntax). */
function dur(us: Micros): string {
  return `${us}us`;
}

function errnoText(e: number): string {
  return errnoName(e) ?? String(e);
}

function heapYaml(h: StreamSpec['heap']): string {
  const parts: string[] = [];
  if (h.names.length > 0) parts.push(`name: ${str(h.names[0]!)}`);
  if (h.names.length > 1) parts.push(`fallback: [${h.names.slice(1).map(str).join(', ')}]`);
  if (h.requires !== null) {
    const r = h.requires;
    const q: string[] = [];
    for (const k of ['contiguous', 'cached', 'protected'] as const) if (r[k] !== undefined) q.push(`${k}: ${String(r[k])}`);
    if (r.region !== undefined) q.push(`region: ${str(r.region)}`);
    if (r.prefer !== undefined) q.push(`prefer: [${r.prefer.map(str).join(', ')}]`);
    parts.push(`requires: { ${q.join(', ')} }`);
  }
  return `{ ${parts.join(', ')} }`;
}

/** A stream's size: the pixel format it was given as, when that gives the same bytes (align 1), else bytes. */
function sizeYaml(s: StreamSpec): string {
  const m = /^(\S+) (\d+)×(\d+)$/.exec(s.sizeText);
  if (m !== null && PIXEL_FORMATS.includes(m[1] as PixelFormat)) {
    const o = { format: m[1] as PixelFormat, width: Number(m[2]), height: Number(m[3]) };
    try {
      if (imageLayout(o).size === s.size) return `{ format: ${o.format}, width: ${o.width}, height: ${o.height} }`;
    } catch {
      // not a layout: the bytes
    }
  }
  return String(s.size);
}

function streamYaml(s: StreamSpec, ind: string): string {
  let o = `${ind}- name: ${str(s.name)}\n`;
  const f = (k: string, v: string): void => {
    o += `${ind}  ${k}: ${v}\n`;
  };
  f('heap', heapYaml(s.heap));
  f('size', sizeYaml(s));
  f('count', String(s.count));
  if (s.period !== null) f('every', dur(s.period));
  f('hold', String(s.hold));
  f('mode', s.mode);
  if (s.importers.length > 0) f('importers', `[${s.importers.map(str).join(', ')}]`);
  f('cpu', s.cpu);
  f('start', dur(s.start));
  if (s.stop !== null) f('stop', dur(s.stop));
  if (s.burst !== null) f('burst', `{ count: ${s.burst.count}, every: ${dur(s.burst.every)}, hold: ${dur(s.burst.hold)} }`);
  return o;
}

function processYaml(p: ProcessSpec): string {
  let o = `  - name: ${str(p.name)}\n`;
  if (p.cgroup !== null) o += `    cgroup: ${str(p.cgroup)}\n`;
  o += `    start: ${dur(p.start)}\n`;
  if (p.stop !== null) o += `    stop: ${dur(p.stop)}\n`;
  if (p.repeat !== null) o += `    repeat: { every: ${dur(p.repeat.every)}, times: ${p.repeat.times}, jitter: ${dur(p.repeat.jitter)}, life: ${dur(p.repeat.life)} }\n`;
  if (p.anon > 0) o += `    anon: ${p.anon}\n`;
  if (p.streams.length > 0) o += `    streams:\n${p.streams.map((s) => streamYaml(s, '      ')).join('')}`;
  return o;
}

function flow(fields: [string, string | null][]): string {
  return `{ ${fields.filter((f): f is [string, string] => f[1] !== null).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
}

function pressureYaml(q: PressureSpec): string {
  const opt = (v: Micros | null): string | null => (v === null ? null : dur(v));
  if (q.kind === 'anon') return flow([['kind', 'anon'], ['process', str(q.process)], ['size', String(q.size)], ['start', dur(q.start)], ['stop', opt(q.stop)], ['cgroup', q.cgroup === null ? null : str(q.cgroup)]]);
  if (q.kind === 'pagecache') return flow([['kind', 'pagecache'], ['process', str(q.process)], ['size', String(q.size)], ['period', dur(q.period)], ['start', dur(q.start)], ['stop', opt(q.stop)]]);
  return flow([['kind', 'pin'], ['area', q.area === null ? null : str(q.area)], ['pages', String(q.pages)], ['every', dur(q.every)], ['hold', dur(q.hold)], ['start', dur(q.start)], ['stop', opt(q.stop)]]);
}

function faultYaml(f: FaultSpec): string {
  const opt = (v: Micros | null): string | null => (v === null ? null : dur(v));
  const name = (v: string | null): string | null => (v === null ? null : str(v));
  switch (f.kind) {
    case 'fail-alloc':
      return flow([['kind', 'fail-alloc'], ['heap', name(f.heap)], ['process', name(f.process)], ['nth', f.nth === null ? null : String(f.nth)], ['every', f.every === null ? null : String(f.every)], ['fraction', f.fraction === null ? null : String(f.fraction)], ['errno', errnoText(f.errno)], ['start', dur(f.start)], ['stop', opt(f.stop)]]);
    case 'signal':
      return flow([['kind', 'signal'], ['process', str(f.process)], ['nth', String(f.nth)]]);
    case 'shrink-cma':
      return flow([['kind', 'shrink-cma'], ['area', name(f.area)], ['pages', String(f.pages)], ['at', dur(f.time)]]);
    case 'take-memory':
      return flow([['kind', 'take-memory'], ['size', String(f.size)], ['at', dur(f.time)], ['until', opt(f.until)]]);
    case 'pin':
      return flow([['kind', 'pin'], ['area', name(f.area)], ['pages', String(f.pages)], ['at', dur(f.time)], ['until', opt(f.until)]]);
  }
}

function cgroupYaml(c: CgroupSpec): string {
  return flow([['name', str(c.name)], ['memoryMax', c.memoryMax === null ? null : String(c.memoryMax)]]);
}

function stepYaml(e: ScriptEvent): string {
  const head: [string, string][] = [['t', dur(e.t)], ['op', e.op], ['process', str(e.process)]];
  if (e.op === 'alloc') return flow([...head, ['id', str(e.id)], ['heap', str(e.heap)], ['size', String(e.size)], ['expect', e.expect === null ? null : e.expect === 'ok' ? 'ok' : errnoText(e.expect)]]);
  if (e.op === 'free') return flow([...head, ['id', str(e.id)]]);
  return flow(head);
}

/**
 * The workload as YAML that parseWorkload reads back to the same workload (times as whole
 * microseconds, `us`): a converted recording saved to be edited. Script steps are one line each.
 */
export function workloadToYaml(w: Workload): string {
  const o: string[] = [];
  o.push(`name: ${str(w.name)}`);
  if (w.description !== '') o.push(`description: ${JSON.stringify(w.description)}`);
  o.push(`duration: ${dur(w.duration)}`, `seed: ${w.seed}`, `sample: ${dur(w.sample)}`);
  const m = w.machine;
  if (m.board !== null || m.profile !== null || m.cmdline !== null) {
    o.push(`machine: ${flow([['board', m.board === null ? null : str(m.board)], ['profile', m.profile === null ? null : str(m.profile)], ['cmdline', m.cmdline === null ? null : JSON.stringify(m.cmdline)]])}`);
  }
  if (w.cgroups.length > 0) o.push('cgroups:', ...w.cgroups.map((c) => `  - ${cgroupYaml(c)}`));
  if (w.processes.length > 0) o.push(`processes:\n${w.processes.map(processYaml).join('').trimEnd()}`);
  if (w.pressure.length > 0) o.push('pressure:', ...w.pressure.map((q) => `  - ${pressureYaml(q)}`));
  if (w.faults.length > 0) o.push('faults:', ...w.faults.map((f) => `  - ${faultYaml(f)}`));
  if (w.script.length > 0) {
    o.push('script:');
    // a loop, not a spread: a million steps would overflow the stack as arguments
    for (const e of w.script) o.push(`  - ${stepYaml(e)}`);
  }
  return `${o.join('\n')}\n`;
}

// ---- which recording ----------------------------------------------------------------------------

export type RecordingKind = 'run-trace' | 'client-trace' | 'snapshots';

/**
 * What a recording file is, from its first line that is not blank: a JSON object with `ev` is
 * a client trace, one with `call` a `dmaheap run --trace`; anything else a snapshot file
 * (`=== t=` headers, {@link splitSnapshots}).
 */
export function recordingKind(text: string): RecordingKind {
  for (const { line } of lines(text.slice(0, 2 * MAX_LINE_CHARS), '')) {
    const tr = line.trim();
    if (tr === '') continue;
    if (!tr.startsWith('{')) return 'snapshots';
    return /"ev"\s*:/.test(tr) ? 'client-trace' : 'run-trace';
  }
  return 'snapshots';
}

/**
 * One recording file as a workload, whichever of the three it is ({@link recordingKind}).
 * @throws WorkloadError with the file and line
 */
export function workloadFromRecording(text: string, file: string): Workload {
  const kind = recordingKind(text);
  if (kind === 'client-trace') return workloadFromClientTrace(text, file);
  if (kind === 'run-trace') return workloadFromRunTrace(text, file);
  return workloadFromSnapshots(splitSnapshots(text, file), file);
}

/**
 * A directory of snapshots, one file each, named by time ({@link snapshotTimeFromName}), in
 * time order. `dir` names the directory in messages; `files` are its files' names and texts.
 * @throws WorkloadError for a name without a time, or a bad line (with that file and line)
 */
export function workloadFromSnapshotFiles(files: readonly { readonly name: string; readonly text: string }[], dir: string): Workload {
  if (files.length > MAX_SNAPSHOTS) throw new WorkloadError(dir, 1, 1, '', `has ${files.length} files; at most ${MAX_SNAPSHOTS} snapshots`);
  const snaps = files.map((f) => {
    const t = snapshotTimeFromName(f.name);
    const path = `${dir.replace(/\/$/, '')}/${f.name}`;
    if (t === null) throw new WorkloadError(path, 1, 1, '', 'the name has no time', 'name each snapshot file by its time: 0s.txt, 12.5s.txt, 1500ms.txt (seconds without a unit)');
    return { t, text: f.text, file: path, line: 1, name: f.name };
  });
  snaps.sort((a, b) => a.t - b.t || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return workloadFromSnapshots(snaps.map(({ t, text, file, line }) => ({ t, text, file, line })), dir);
}
