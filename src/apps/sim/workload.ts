/**
 * Workloads as data: the schema `dmaheap simulate` runs, parsed from YAML or JSON text (JSON is
 * YAML 1.2) and validated field by field. Every refusal names the file, line, column and field.
 *
 * A workload file is data, never code: the parser is the `yaml` package with its core schema
 * (no tags that build objects or run anything), no aliases, and a size bound on the text;
 * every list has a bound; the simulation's total number of events is estimated before it starts
 * and refused above {@link MAX_EVENTS}.
 *
 * The schema is documented in docs/simulate.md (kept in step by a test).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { imageLayout, PIXEL_FORMATS } from '../../api/layout.js';
import type { PixelFormat } from '../../api/layout.js';
import type { HeapRequirements } from '../../api/choose.js';
import { Errno } from '../../uapi/errno.js';
import { parseSize, UsageError } from '../common/sizes.js';

/** Bytes of workload text accepted. */
export const MAX_WORKLOAD_BYTES = 4 * 1024 * 1024;
/** Simulated events (frames, allocations, frees, pins, samples) one run may take. */
export const MAX_EVENTS = 20_000_000;
/** Longest simulated duration: 30 days. */
export const MAX_DURATION_US = 30 * 24 * 3600 * 1_000_000;
const MAX_LIST = 10_000;
const MAX_SCRIPT = 1_000_000;

/** Microseconds of simulated time. */
export type Micros = number;

/** Microseconds per unit of a duration (`33ms`, `5m`, `1h`; no unit: seconds), for workloads and recordings alike. */
export const DURATION_UNIT_US: Readonly<Record<string, number>> = { us: 1, µs: 1, ms: 1_000, s: 1_000_000, m: 60_000_000, min: 60_000_000, h: 3_600_000_000 };

/** How a stream picks its heap: a name, or requirements resolved as the client library does. */
export interface HeapSpec {
  /** Heap names to try in order (the first that exists on the machine). */
  readonly names: readonly string[];
  /** Requirements for DmaHeapClient.choose() (when no name is given, or none exists). */
  readonly requires: HeapRequirements | null;
}

export interface StreamSpec {
  readonly name: string;
  readonly heap: HeapSpec;
  /** Bytes per buffer. */
  readonly size: number;
  /** How the size was given (`NV12 1920x1080`), for reports. */
  readonly sizeText: string;
  /** Buffers: the pool (mode pool), or the most held at once (mode churn). */
  readonly count: number;
  /** Time between frames; null: the buffers are allocated once at the start and held. */
  readonly period: Micros | null;
  /** Frames each buffer is held (churn: freed this many frames after it was allocated). */
  readonly hold: number;
  /** pool: `count` buffers allocated at the start, cycled per frame; churn: one new buffer per frame. */
  readonly mode: 'pool' | 'churn';
  /** Devices (name or dev_name) that import every buffer (attach + map for DMA). */
  readonly importers: readonly string[];
  /** Processes that get every buffer too (SCM_RIGHTS at allocation; they close it when it is freed). */
  readonly share: readonly string[];
  /** CPU access per frame inside a DMA_BUF_IOCTL_SYNC bracket. */
  readonly cpu: 'none' | 'read' | 'write';
  /** Relative to the process's start. */
  readonly start: Micros;
  readonly stop: Micros | null;
  /** Bursts: `count` extra buffers allocated together every `every`, held for `hold`. */
  readonly burst: { readonly count: number; readonly every: Micros; readonly hold: Micros } | null;
  /** Where in the file (for messages). */
  readonly at: string;
}

export interface ProcessSpec {
  readonly name: string;
  readonly cgroup: string | null;
  readonly start: Micros;
  /** null: runs to the end. */
  readonly stop: Micros | null;
  /** Instances: every `every` a new one starts (named name#1, name#2, ...), `times` in all, each living `life`. */
  readonly repeat: { readonly every: Micros; readonly times: number; readonly jitter: Micros; readonly life: Micros } | null;
  readonly streams: readonly StreamSpec[];
  /** Anonymous memory the process holds from its start (MAP_POPULATE: RAM and its memcg are charged). */
  readonly anon: number;
  readonly at: string;
}

export interface CgroupSpec {
  readonly name: string;
  /** memory.max in bytes, or null (max). */
  readonly memoryMax: number | null;
}

export type PressureSpec =
  | { readonly kind: 'anon'; readonly process: string; readonly size: number; readonly start: Micros; readonly stop: Micros | null; readonly cgroup: string | null; readonly at: string }
  | { readonly kind: 'pagecache'; readonly process: string; readonly size: number; readonly period: Micros; readonly start: Micros; readonly stop: Micros | null; readonly at: string }
  | { readonly kind: 'pin'; readonly area: string | null; readonly pages: number; readonly every: Micros; readonly hold: Micros; readonly start: Micros; readonly stop: Micros | null; readonly at: string };

export type FaultSpec =
  | { readonly kind: 'fail-alloc'; readonly heap: string | null; readonly process: string | null; readonly nth: number | null; readonly every: number | null; readonly fraction: number | null; readonly errno: number; readonly start: Micros; readonly stop: Micros | null; readonly at: string }
  | { readonly kind: 'signal'; readonly process: string; readonly nth: number; readonly at: string }
  | { readonly kind: 'shrink-cma'; readonly area: string | null; readonly pages: number; readonly time: Micros; readonly at: string }
  | { readonly kind: 'take-memory'; readonly size: number; readonly time: Micros; readonly until: Micros | null; readonly at: string }
  | { readonly kind: 'pin'; readonly area: string | null; readonly pages: number; readonly time: Micros; readonly until: Micros | null; readonly at: string };

/** One step of a script (a replayed trace): allocate, free or name a buffer by id. */
export type ScriptEvent =
  | { readonly t: Micros; readonly op: 'alloc'; readonly process: string; readonly id: string; readonly heap: string; readonly size: number; readonly expect: 'ok' | number | null; readonly at: string }
  | { readonly t: Micros; readonly op: 'free'; readonly process: string; readonly id: string; readonly at: string }
  | { readonly t: Micros; readonly op: 'exit'; readonly process: string; readonly at: string };

export interface Machine {
  readonly board: string | null;
  readonly profile: string | null;
  readonly cmdline: string | null;
}

export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly duration: Micros;
  readonly seed: number;
  /** Time between samples of the time series. */
  readonly sample: Micros;
  readonly machine: Machine;
  readonly cgroups: readonly CgroupSpec[];
  readonly processes: readonly ProcessSpec[];
  readonly pressure: readonly PressureSpec[];
  readonly faults: readonly FaultSpec[];
  readonly script: readonly ScriptEvent[];
}

/** A refusal of a workload: the file, line, column and field, and what to do. */
export class WorkloadError extends UsageError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly field: string,
    readonly problem: string,
    hint?: string,
  ) {
    super(`${file}:${line}:${column}: ${field === '' ? '' : `${field}: `}${problem}`, hint ?? 'the workload schema is in docs/simulate.md');
  }
}

type Path = (string | number)[];

function fieldName(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/** Reads one document with positions; the helpers below refuse with the field's location. */
class Reader {
  constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  private node(path: Path): YamlNode | null {
    for (let i = path.length; i >= 0; i--) {
      const n = i === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, i), true);
      if (n !== undefined && n !== null && typeof n === 'object' && 'range' in n) return n as YamlNode;
    }
    return null;
  }

  fail(path: Path, problem: string, hint?: string, offset?: number): never {
    const n = this.node(path);
    const off = offset ?? n?.range?.[0] ?? 0;
    const pos = this.lines.linePos(off);
    throw new WorkloadError(this.file, pos.line, pos.col, fieldName(path), problem, hint);
  }

  value(path: Path): unknown {
    const n = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (n === undefined || n === null) return undefined;
    if (isScalar(n)) return n.value;
    if (isMap(n)) {
      const o: Record<string, unknown> = {};
      for (const it of n.items) {
        const k = isScalar(it.key) ? it.key.value : it.key;
        if (typeof k !== 'string') this.fail(path, 'a key is not a plain name');
        o[k] = true;
      }
      return o;
    }
    if (isSeq(n)) return n.items.map(() => true);
    return undefined;
  }

  has(path: Path): boolean {
    const v = this.value(path);
    return v !== undefined && v !== null;
  }

  map(path: Path, keys: readonly string[], required = true): boolean {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'is missing');
      return false;
    }
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'must be a mapping (key: value lines)');
    for (const k of Object.keys(v as object)) {
      if (keys.includes(k)) continue;
      // { heap: linux,cma }: in a flow mapping the comma ends the entry and 'cma' reads as a key
      const n = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
      const flow = isMap(n) && n.flow === true;
      // point at the key, not its value
      const key = isMap(n) ? n.items.find((it) => isScalar(it.key) && it.key.value === k)?.key : undefined;
      const keyAt = isScalar(key) ? key.range?.[0] : undefined;
      this.fail([...path, k], `unknown field '${k}'`, flow ? `in a { ... } mapping a comma ends an entry: quote a value that has one ('linux,cma'); the fields here are: ${keys.join(', ')}` : `the fields here are: ${keys.join(', ')}`, keyAt);
    }
    return true;
  }

  seq(path: Path, max = MAX_LIST): number {
    const v = this.value(path);
    if (v === undefined || v === null) return 0;
    if (!Array.isArray(v)) this.fail(path, 'must be a list');
    if (v.length > max) this.fail(path, `has ${v.length} entries; at most ${max} are accepted`);
    return v.length;
  }

  string(path: Path, dflt?: string, max = 200): string {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      this.fail(path, 'is missing');
    }
    if (typeof v !== 'string' && typeof v !== 'number') this.fail(path, 'must be text');
    const s = String(v);
    if (s.length > max) this.fail(path, `is ${s.length} characters long; at most ${max}`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(s)) this.fail(path, 'contains a control character');
    return s;
  }

  int(path: Path, min: number, max: number, dflt?: number): number {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      this.fail(path, 'is missing');
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `must be a whole number from ${min} to ${max}`);
    if (v < min || v > max) this.fail(path, `${v} is out of range: from ${min} to ${max}`);
    return v;
  }

  number(path: Path, min: number, max: number, dflt?: number): number {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      this.fail(path, 'is missing');
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `must be a number from ${min} to ${max}`);
    if (v < min || v > max) this.fail(path, `${v} is out of range: from ${min} to ${max}`);
    return v;
  }

  bool(path: Path): boolean | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(path, 'must be true or false');
    return v;
  }

  size(path: Path, dflt?: number): number {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      this.fail(path, 'is missing');
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) this.fail(path, `${v} is not a whole number of bytes`);
      return v;
    }
    if (typeof v !== 'string') this.fail(path, 'must be a size: bytes, or a number with K, M, G or T (8MiB)');
    try {
      return parseSize(v.replace(/ /g, ''), 'size');
    } catch (e) {
      this.fail(path, e instanceof UsageError ? e.message.replace(/^size: /, '') : String(e), 'sizes are bytes, or a number with K, M, G or T (powers of 1024): 4096, 64K, 8MiB');
    }
  }

  duration(path: Path, dflt?: Micros | null): Micros {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (dflt !== undefined && dflt !== null) return dflt;
      this.fail(path, 'is missing');
    }
    let us: number;
    if (typeof v === 'number') us = v * 1_000_000;
    else if (typeof v === 'string') {
      const m = /^(\d+(?:\.\d+)?) ?(us|µs|ms|s|m|min|h)?$/.exec(v.trim());
      if (m === null) this.fail(path, `'${v}' is not a duration`, 'durations are seconds (1.5), or a number with us, ms, s, m or h: 33ms, 5m, 1h');
      const mul = DURATION_UNIT_US[m[2] ?? 's'] ?? 1_000_000;
      us = Number(m[1]) * mul;
    } else this.fail(path, 'must be a duration: seconds, or a number with us, ms, s, m or h');
    if (!Number.isFinite(us) || us < 0) this.fail(path, 'must not be negative');
    if (us > MAX_DURATION_US) this.fail(path, 'is longer than 30 days, the longest simulated time');
    return Math.round(us);
  }

  optDuration(path: Path): Micros | null {
    return this.has(path) ? this.duration(path) : null;
  }

  errno(path: Path, dflt: number): number {
    const v = this.value(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'string' && v in Errno) return (Errno as Record<string, number>)[v]!;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 4096) return v;
    this.fail(path, `'${String(v)}' is not an errno`, 'give a name such as ENOMEM, EINTR, EBUSY, or a number from 1 to 4095');
  }

  strings(path: Path): string[] {
    const v = this.value(path);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return [this.string(path)];
    const n = this.seq(path, 64);
    return Array.from({ length: n }, (_, i) => this.string([...path, i]));
  }
}

function heapSpec(r: Reader, path: Path): HeapSpec {
  const v = r.value(path);
  if (typeof v === 'string') return { names: [r.string(path)], requires: null };
  if (Array.isArray(v)) return { names: r.strings(path), requires: null };
  r.map(path, ['name', 'fallback', 'requires']);
  const names = [...(r.has([...path, 'name']) ? [r.string([...path, 'name'])] : []), ...r.strings([...path, 'fallback'])];
  let requires: HeapRequirements | null = null;
  if (r.has([...path, 'requires'])) {
    const q = [...path, 'requires'];
    r.map(q, ['contiguous', 'cached', 'protected', 'region', 'prefer']);
    const req: { -readonly [K in keyof HeapRequirements]: HeapRequirements[K] } = {};
    for (const k of ['contiguous', 'cached', 'protected'] as const) {
      const b = r.bool([...q, k]);
      if (b !== undefined) req[k] = b;
    }
    if (r.has([...q, 'region'])) req.region = r.string([...q, 'region']);
    if (r.has([...q, 'prefer'])) req.prefer = r.strings([...q, 'prefer']);
    requires = req;
  }
  if (names.length === 0 && requires === null) r.fail(path, 'names no heap and no requirements', 'give heap: <name>, or heap: { requires: { contiguous: true } }');
  return { names, requires };
}

function streamSize(r: Reader, path: Path): { size: number; text: string } {
  const v = r.value(path);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    r.map(path, ['format', 'width', 'height', 'align', 'heightAlign']);
    const format = r.string([...path, 'format']);
    if (!PIXEL_FORMATS.includes(format as PixelFormat)) r.fail([...path, 'format'], `unknown pixel format '${format}'`, `the formats are: ${PIXEL_FORMATS.join(', ')}`);
    const width = r.int([...path, 'width'], 1, 65536);
    const height = r.int([...path, 'height'], 1, 65536);
    const align = r.int([...path, 'align'], 1, 4096, 1);
    const heightAlign = r.int([...path, 'heightAlign'], 1, 4096, 1);
    const l = imageLayout({ format: format as PixelFormat, width, height, align, heightAlign });
    return { size: l.size, text: `${format} ${width}×${height}` };
  }
  const size = r.size(path);
  if (size === 0) r.fail(path, 'a buffer of 0 bytes is refused by the kernel (EINVAL); give its size');
  return { size, text: '' };
}

function streams(r: Reader, path: Path): StreamSpec[] {
  const n = r.seq(path, 256);
  const out: StreamSpec[] = [];
  const names = new Set<string>();
  for (let i = 0; i < n; i++) {
    const p = [...path, i];
    r.map(p, ['name', 'heap', 'size', 'count', 'fps', 'every', 'hold', 'mode', 'importers', 'share', 'cpu', 'start', 'stop', 'burst']);
    const name = r.string([...p, 'name'], `stream${i + 1}`, 64);
    if (names.has(name)) r.fail([...p, 'name'], `a second stream is named '${name}'`);
    names.add(name);
    if (r.has([...p, 'fps']) && r.has([...p, 'every'])) r.fail([...p, 'every'], 'give fps or every, not both');
    let period: Micros | null = null;
    if (r.has([...p, 'fps'])) period = Math.max(1, Math.round(1_000_000 / r.number([...p, 'fps'], 0.001, 100_000)));
    else if (r.has([...p, 'every'])) {
      period = r.duration([...p, 'every']);
      if (period === 0) r.fail([...p, 'every'], 'must be longer than 0');
    }
    const count = r.int([...p, 'count'], 1, 4096, 1);
    const mode = r.string([...p, 'mode'], 'pool');
    if (mode !== 'pool' && mode !== 'churn') r.fail([...p, 'mode'], `'${mode}' is not a mode`, 'mode is pool (buffers allocated once and reused) or churn (a new buffer per frame)');
    if (mode === 'churn' && period === null) r.fail([...p, 'mode'], 'churn needs a frame rate: give fps or every');
    const cpu = r.string([...p, 'cpu'], 'none');
    if (cpu !== 'none' && cpu !== 'read' && cpu !== 'write') r.fail([...p, 'cpu'], `'${cpu}' is not a CPU access`, 'cpu is none, read or write');
    const sz = streamSize(r, [...p, 'size']);
    let burst: StreamSpec['burst'] = null;
    if (r.has([...p, 'burst'])) {
      const b = [...p, 'burst'];
      r.map(b, ['count', 'every', 'hold']);
      const every = r.duration([...b, 'every']);
      if (every === 0) r.fail([...b, 'every'], 'must be longer than 0');
      burst = { count: r.int([...b, 'count'], 1, 4096), every, hold: r.duration([...b, 'hold'], 0) };
    }
    out.push({
      name,
      heap: heapSpec(r, [...p, 'heap']),
      size: sz.size,
      sizeText: sz.text,
      count,
      period,
      hold: r.int([...p, 'hold'], 1, 4096, count),
      mode,
      importers: r.strings([...p, 'importers']),
      share: r.strings([...p, 'share']),
      cpu,
      start: r.duration([...p, 'start'], 0),
      stop: r.optDuration([...p, 'stop']),
      burst,
      at: fieldName(p),
    });
  }
  return out;
}

function parseProcesses(r: Reader, cgroups: readonly CgroupSpec[]): ProcessSpec[] {
  const n = r.seq(['processes'], 1024);
  const out: ProcessSpec[] = [];
  const names = new Set<string>();
  for (let i = 0; i < n; i++) {
    const p: Path = ['processes', i];
    r.map(p, ['name', 'cgroup', 'start', 'stop', 'repeat', 'streams', 'anon']);
    const name = r.string([...p, 'name'], undefined, 15);
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) r.fail([...p, 'name'], `'${name}' is not a process name`, 'names are letters, digits, _ . : -, at most 15 (TASK_COMM_LEN - 1)');
    if (names.has(name)) r.fail([...p, 'name'], `a second process is named '${name}'`);
    names.add(name);
    const cgroup = r.has([...p, 'cgroup']) ? r.string([...p, 'cgroup']) : null;
    if (cgroup !== null && !cgroups.some((c) => c.name === cgroup)) r.fail([...p, 'cgroup'], `no cgroup named '${cgroup}' in cgroups`);
    let repeat: ProcessSpec['repeat'] = null;
    if (r.has([...p, 'repeat'])) {
      const q = [...p, 'repeat'];
      r.map(q, ['every', 'times', 'jitter', 'life']);
      const every = r.duration([...q, 'every']);
      if (every === 0) r.fail([...q, 'every'], 'must be longer than 0');
      repeat = { every, times: r.int([...q, 'times'], 1, 100_000), jitter: r.duration([...q, 'jitter'], 0), life: r.duration([...q, 'life']) };
    }
    const ss = streams(r, [...p, 'streams']);
    out.push({ name, cgroup, start: r.duration([...p, 'start'], 0), stop: r.optDuration([...p, 'stop']), repeat, streams: ss, anon: r.size([...p, 'anon'], 0), at: fieldName(p) });
  }
  return out;
}

function parseCgroups(r: Reader): CgroupSpec[] {
  const n = r.seq(['cgroups'], 256);
  const out: CgroupSpec[] = [];
  for (let i = 0; i < n; i++) {
    const p: Path = ['cgroups', i];
    r.map(p, ['name', 'memoryMax']);
    const name = r.string([...p, 'name'], undefined, 64);
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') r.fail([...p, 'name'], `'${name}' is not a cgroup name`, 'names are letters, digits, _ . -');
    if (out.some((c) => c.name === name)) r.fail([...p, 'name'], `a second cgroup is named '${name}'`);
    out.push({ name, memoryMax: r.has([...p, 'memoryMax']) ? r.size([...p, 'memoryMax']) : null });
  }
  return out;
}

function parsePressure(r: Reader, procs: ReadonlySet<string>): PressureSpec[] {
  const n = r.seq(['pressure'], 256);
  const out: PressureSpec[] = [];
  for (let i = 0; i < n; i++) {
    const p: Path = ['pressure', i];
    const kind = r.string([...p, 'kind']);
    const start = (): Micros => r.duration([...p, 'start'], 0);
    const stop = (): Micros | null => r.optDuration([...p, 'stop']);
    const proc = (): string => {
      const s = r.string([...p, 'process'], 'pressure', 15);
      if (!/^[A-Za-z0-9_.:-]+$/.test(s)) r.fail([...p, 'process'], `'${s}' is not a process name`);
      return s;
    };
    if (kind === 'anon') {
      r.map(p, ['kind', 'process', 'size', 'start', 'stop', 'cgroup']);
      out.push({ kind, process: proc(), size: r.size([...p, 'size']), start: start(), stop: stop(), cgroup: r.has([...p, 'cgroup']) ? r.string([...p, 'cgroup']) : null, at: fieldName(p) });
    } else if (kind === 'pagecache') {
      r.map(p, ['kind', 'process', 'size', 'period', 'start', 'stop']);
      const period = r.duration([...p, 'period']);
      if (period === 0) r.fail([...p, 'period'], 'must be longer than 0');
      out.push({ kind, process: proc(), size: r.size([...p, 'size']), period, start: start(), stop: stop(), at: fieldName(p) });
    } else if (kind === 'pin') {
      r.map(p, ['kind', 'area', 'pages', 'every', 'hold', 'start', 'stop']);
      const every = r.duration([...p, 'every']);
      if (every === 0) r.fail([...p, 'every'], 'must be longer than 0');
      out.push({ kind, area: r.has([...p, 'area']) ? r.string([...p, 'area']) : null, pages: r.int([...p, 'pages'], 1, 1 << 20), every, hold: r.duration([...p, 'hold']), start: start(), stop: stop(), at: fieldName(p) });
    } else r.fail([...p, 'kind'], `'${kind}' is not a kind of pressure`, 'kind is anon (memory a process holds), pagecache (memory that grows and is dropped) or pin (pinned pages inside a CMA area)');
    void procs;
  }
  return out;
}

function parseFaults(r: Reader): FaultSpec[] {
  const n = r.seq(['faults'], 256);
  const out: FaultSpec[] = [];
  for (let i = 0; i < n; i++) {
    const p: Path = ['faults', i];
    const kind = r.string([...p, 'kind']);
    const at = fieldName(p);
    if (kind === 'fail-alloc') {
      r.map(p, ['kind', 'heap', 'process', 'nth', 'every', 'fraction', 'errno', 'start', 'stop']);
      const nth = r.has([...p, 'nth']) ? r.int([...p, 'nth'], 1, Number.MAX_SAFE_INTEGER) : null;
      const every = r.has([...p, 'every']) ? r.int([...p, 'every'], 1, Number.MAX_SAFE_INTEGER) : null;
      const fraction = r.has([...p, 'fraction']) ? r.number([...p, 'fraction'], 0, 1) : null;
      if ([nth, every, fraction].filter((x) => x !== null).length !== 1) r.fail(p, 'give exactly one of nth (fail the Nth allocation), every (every Nth) or fraction (0..1 of them)');
      out.push({ kind, heap: r.has([...p, 'heap']) ? r.string([...p, 'heap']) : null, process: r.has([...p, 'process']) ? r.string([...p, 'process']) : null, nth, every, fraction, errno: r.errno([...p, 'errno'], Errno.ENOMEM), start: r.duration([...p, 'start'], 0), stop: r.optDuration([...p, 'stop']), at });
    } else if (kind === 'signal') {
      r.map(p, ['kind', 'process', 'nth']);
      out.push({ kind, process: r.string([...p, 'process']), nth: r.int([...p, 'nth'], 1, Number.MAX_SAFE_INTEGER, 1), at });
    } else if (kind === 'shrink-cma') {
      r.map(p, ['kind', 'area', 'pages', 'at']);
      out.push({ kind, area: r.has([...p, 'area']) ? r.string([...p, 'area']) : null, pages: r.int([...p, 'pages'], 1, 1 << 28), time: r.duration([...p, 'at'], 0), at });
    } else if (kind === 'take-memory') {
      r.map(p, ['kind', 'size', 'at', 'until']);
      out.push({ kind, size: r.size([...p, 'size']), time: r.duration([...p, 'at'], 0), until: r.optDuration([...p, 'until']), at });
    } else if (kind === 'pin') {
      r.map(p, ['kind', 'area', 'pages', 'at', 'until']);
      out.push({ kind, area: r.has([...p, 'area']) ? r.string([...p, 'area']) : null, pages: r.int([...p, 'pages'], 1, 1 << 28), time: r.duration([...p, 'at'], 0), until: r.optDuration([...p, 'until']), at });
    } else r.fail([...p, 'kind'], `'${kind}' is not a kind of fault`, 'kind is fail-alloc, signal, shrink-cma, take-memory or pin');
  }
  return out;
}

function parseScript(r: Reader): ScriptEvent[] {
  const n = r.seq(['script'], MAX_SCRIPT);
  const out: ScriptEvent[] = [];
  let last = 0;
  for (let i = 0; i < n; i++) {
    const p: Path = ['script', i];
    const op = r.string([...p, 'op']);
    const t = r.duration([...p, 't']);
    if (t < last) r.fail([...p, 't'], 'goes back in time: script steps are in time order');
    last = t;
    const at = fieldName(p);
    const process = r.string([...p, 'process'], undefined, 15);
    if (op === 'alloc') {
      r.map(p, ['t', 'op', 'process', 'id', 'heap', 'size', 'expect']);
      const ex = r.value([...p, 'expect']);
      const expect = ex === undefined || ex === null ? null : ex === 'ok' ? 'ok' : r.errno([...p, 'expect'], 0);
      const size = r.size([...p, 'size']);
      out.push({ t, op, process, id: r.string([...p, 'id'], undefined, 64), heap: r.string([...p, 'heap']), size, expect, at });
    } else if (op === 'free') {
      r.map(p, ['t', 'op', 'process', 'id']);
      out.push({ t, op, process, id: r.string([...p, 'id'], undefined, 64), at });
    } else if (op === 'exit') {
      r.map(p, ['t', 'op', 'process']);
      out.push({ t, op, process, at });
    } else r.fail([...p, 'op'], `'${op}' is not a script step`, 'op is alloc, free or exit');
  }
  return out;
}

/**
 * Parses and validates a workload (YAML or JSON text). `file` names it in messages.
 * @throws WorkloadError with the file, line, column and field
 */
export function parseWorkload(text: string, file: string): Workload {
  if (text.length > MAX_WORKLOAD_BYTES) throw new WorkloadError(file, 1, 1, '', `is ${text.length} bytes; at most ${MAX_WORKLOAD_BYTES} are accepted`);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, schema: 'core', uniqueKeys: true, prettyErrors: false, strict: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = lines.linePos(err.pos[0]);
    throw new WorkloadError(file, pos.line, pos.col, '', `not valid YAML or JSON: ${err.message.split('\n')[0]}`);
  }
  let alias: number | null = null;
  visit(doc, (_k, n) => {
    if (isAlias(n)) {
      alias = n.range?.[0] ?? 0;
      return visit.BREAK;
    }
    return undefined;
  });
  if (alias !== null) {
    const pos = lines.linePos(alias);
    throw new WorkloadError(file, pos.line, pos.col, '', 'anchors and aliases (&name, *name) are not accepted', 'write the value out where it is used');
  }
  const r = new Reader(file, doc, lines);
  r.map([], ['name', 'description', 'duration', 'seed', 'sample', 'machine', 'cgroups', 'processes', 'pressure', 'faults', 'script']);
  const duration = r.duration(['duration']);
  if (duration === 0) r.fail(['duration'], 'must be longer than 0');
  let machine: Machine = { board: null, profile: null, cmdline: null };
  if (r.map(['machine'], ['board', 'profile', 'cmdline'], false)) {
    machine = {
      board: r.has(['machine', 'board']) ? r.string(['machine', 'board']) : null,
      profile: r.has(['machine', 'profile']) ? r.string(['machine', 'profile']) : null,
      cmdline: r.has(['machine', 'cmdline']) ? r.string(['machine', 'cmdline'], undefined, 4096) : null,
    };
  }
  const cgroups = parseCgroups(r);
  const processes = parseProcesses(r, cgroups);
  processes.forEach((p, i) =>
    p.streams.forEach((s, j) =>
      s.share.forEach((name, k) => {
        const to = processes.find((q) => q.name === name);
        if (to === undefined) return r.fail(['processes', i, 'streams', j, 'share', k], `no process named '${name}'`);
        if (to === p) r.fail(['processes', i, 'streams', j, 'share', k], 'a process does not share a buffer with itself');
        if (to.repeat !== null) r.fail(['processes', i, 'streams', j, 'share', k], `'${name}' repeats (it has many instances): share with a process that runs once`);
      }),
    ),
  );
  const pressure = parsePressure(r, new Set(processes.map((p) => p.name)));
  const faults = parseFaults(r);
  const script = parseScript(r);
  if (processes.length === 0 && script.length === 0 && pressure.length === 0) r.fail(['processes'], 'the workload has no processes, pressure or script: nothing would happen');
  const sample = r.has(['sample']) ? r.duration(['sample']) : Math.max(10_000, Math.round(duration / 600));
  if (sample < 1000) r.fail(['sample'], 'must be at least 1ms');
  if (duration / sample > 100_000) r.fail(['sample'], `gives ${Math.ceil(duration / sample)} samples; at most 100000`, 'give a longer sample interval');
  const w: Workload = {
    name: r.string(['name'], file.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, ''), 200),
    description: r.string(['description'], '', 4000),
    file,
    duration,
    seed: r.int(['seed'], 0, 0xffffffff, 1),
    sample,
    machine,
    cgroups,
    processes,
    pressure,
    faults,
    script,
  };
  const events = estimateEvents(w);
  if (events > MAX_EVENTS) r.fail(['duration'], `the workload would take about ${events} simulated events; at most ${MAX_EVENTS}`, 'shorten the duration, lower a frame rate, or split the workload');
  return w;
}

/** About how many events a run takes (frames, allocations, frees, pins, samples). */
export function estimateEvents(w: Workload): number {
  let n = w.duration / w.sample + w.script.length;
  for (const p of w.processes) {
    const instances = p.repeat?.times ?? 1;
    const life = p.repeat !== null ? p.repeat.life : (p.stop ?? w.duration) - p.start;
    for (const s of p.streams) {
      const span = Math.max(0, Math.min(life, (s.stop ?? life)) - s.start);
      let per = s.count * 2;
      if (s.period !== null) per += (span / s.period) * (s.mode === 'churn' ? 2 : 1);
      if (s.burst !== null) per += (span / s.burst.every) * s.burst.count * 2;
      n += per * instances;
    }
  }
  for (const q of w.pressure) {
    if (q.kind === 'pin') n += (2 * ((q.stop ?? w.duration) - q.start)) / q.every;
    if (q.kind === 'pagecache') n += (2 * ((q.stop ?? w.duration) - q.start)) / q.period;
  }
  return Math.ceil(n);
}
