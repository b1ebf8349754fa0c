/**
 * The simulation's HTML report (`dmaheap simulate --report out.html`): one self-contained document
 * (inline CSS, inline SVG, a small inline script; no fonts, scripts or images from the network)
 * with a summary, heap use over time with the failures on it, the CMA area maps over time, the
 * failures as a table and per-process memory. Two or more runs give a side-by-side comparison:
 * one column per run, with the same scales in every column.
 *
 * The output depends only on the input (no clock, no random ids), so tests compare it as text.
 * Every string of the result (process, stream and heap names come from workload files) is escaped,
 * and strings put into the page's JSON have `<` written as \u003c.
 *
 * Size bound: the renderer draws what the pixels need, not every sample. Per report (shared by the
 * runs it compares) it keeps at most POINT_BUDGET chart points (min/max per pixel bucket, so peaks
 * stay), MAP_BUDGET map cells over all areas and frames (frames evenly chosen, at most MAX_CELLS
 * cells per area), OWNER_BUDGET coloured owners, AREA_BUDGET areas drawn (the others are table
 * rows), FAILURE_ROW_BUDGET failure rows and MARKER_BUDGET failure markers, each also capped per
 * run; it clips every name to 120 characters and compares at most MAX_RUNS runs. One run of 100,000
 * samples with 64 CMA areas and 5,000 failures gives about 1.6 MB (1.84 MB when every name is 120
 * characters long), 16 such runs compared 1.87 MB (2.15 MB with the long names): the bound is
 * ~2 MB, and test/unit/sim-report.test.ts measures each case.
 */
import { fmtBytes } from '../common/format.js';
import { byteUnit, clip, count, escapeHtml, finite, formatClock, formatDuration, jsonForScript, tickText, ticks, timeUnit } from './format.js';
import type { AxisUnit } from './format.js';
import type { FailureReason, SimAreaMap, SimFailure, SimResult } from './result.js';

export interface ReportOptions {
  /** The page's title (default: the workload's name). */
  readonly title?: string;
  /** One label per run, heading its column in a comparison (default: profile and seed). */
  readonly labels?: readonly string[];
}

/** Most runs one report compares (each is a column). */
export const MAX_RUNS = 16;
/** Chart points per report, over every line of every chart of every run. */
const POINT_BUDGET = 36_000;
/** Map cells per report, over every frame of every area of every run. */
const MAP_BUDGET = 360_000;
/** Cells a map draws at most (more are merged: each drawn cell shows the owner of most of its cells). */
const MAX_CELLS = 1024;
/** Frames a map keeps at most. */
const MAX_FRAMES = 400;
/** Owners a map colours (OWNER_BUDGET shared by the report's maps, 8 to MAX_OWNERS each); the others share one colour ("other owners"). */
const MAX_OWNERS = 48;
const OWNER_BUDGET = 1024;
/** CMA areas drawn (map and chart) per report, shared by its runs; the others are one table row each. */
const AREA_BUDGET = 64;
/** Failure rows listed and failure markers drawn per run (at most), and per report (shared by its runs). */
const FAILURE_ROWS = 200;
const FAILURE_ROW_BUDGET = 320;
const MARKERS = 500;
const MARKER_BUDGET = 480;
/** Lines a chart draws at most (heaps, processes, cgroups: the largest peaks first). */
const MAX_LINES = 10;
/** Process rows and warnings listed per run. */
const PROCESS_ROWS = 200;
const WARNING_ROWS = 50;

/** Chart geometry (SVG user units; the SVG scales to its column's width). */
const W = 640;
const H = 240;
const ML = 64;
const MR = 16;
const MT = 14;
const MB = 44;
const PW = W - ML - MR;
const PH = H - MT - MB;

const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b8860b', '#b07aa1', '#ff9da7', '#9c755f', '#17becf',
  '#1f77b4', '#bcbd22', '#8c564b', '#e377c2', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e', '#6b8e23', '#20b2aa',
];
const FREE = '#eef1f5';
const PINNED_CANVAS = '#3a3a3a';
const OTHER = '#a8a08c';
const FAIL = '#d1001f';
/** Map cell codes: one character per cell in the page's JSON. */
const CODES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const FREE_CODE = '.';
const PINNED_CODE = '#';
const OTHER_CODE = CODES[MAX_OWNERS]!;

const REASONS: Readonly<Record<FailureReason, string>> = {
  'area-too-small': 'the request is larger than the whole area or heap',
  fragmented: 'enough free pages in all, but no free run long enough',
  pinned: 'free runs were long enough, but pinned pages in them could not be moved',
  'out-of-memory': 'not enough free pages',
  'cgroup-limit': "the process's cgroup is at its limit",
  'dma-mask': 'an importer cannot reach the buffer (DMA mask, bus limit, contiguity)',
  'no-heap': 'no heap by that name, or none meets the requirements',
  injected: 'a fault the workload injected',
  signal: 'a fatal signal arrived during the allocation',
  other: 'another errno (see detail)',
};

/** The n-th colour of a series or an owner: a fixed palette, then hues by the golden angle. */
export function colour(i: number): string {
  if (i < PALETTE.length) return PALETTE[i]!;
  const h = ((i - PALETTE.length) * 137.508 + 20) % 360;
  return hslHex(h, 0.55, 0.48);
}

function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): string => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255).toString(16).padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

const n1 = (v: number): string => String(Math.round(v * 10) / 10);
const esc = (s: string, max?: number): string => escapeHtml(clip(s, max));

/** Min and max of each of `buckets` time buckets, in time order: the peaks survive downsampling. */
export function downsample(t: readonly number[], v: readonly number[], maxPoints: number): [number, number][] {
  const n = Math.min(t.length, v.length);
  const out: [number, number][] = [];
  if (n <= maxPoints) {
    for (let i = 0; i < n; i++) out.push([finite(t[i]), finite(v[i])]);
    return out;
  }
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    if (hi <= lo) continue;
    let iMin = lo;
    let iMax = lo;
    for (let i = lo; i < hi; i++) {
      if (finite(v[i]) < finite(v[iMin])) iMin = i;
      if (finite(v[i]) > finite(v[iMax])) iMax = i;
    }
    for (const i of iMin === iMax ? [iMin] : [Math.min(iMin, iMax), Math.max(iMin, iMax)]) out.push([finite(t[i]), finite(v[i])]);
  }
  return out;
}

/** `count` indexes spread evenly over 0..n-1, first and last included. */
function spread(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  if (count <= 1) return [n - 1];
  return Array.from({ length: count }, (_, j) => Math.round((j * (n - 1)) / (count - 1)));
}

/** A series by name: only the record's own keys (a process named `constructor` is not a lookup on Object's prototype). */
function own(rec: Readonly<Record<string, readonly number[]>>, key: string): readonly number[] | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

function maxOf(values: Iterable<number>): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && v > m) m = v;
  return m;
}

const maxCache = new WeakMap<readonly number[], number>();
/** A series' largest value (0 for none), computed once per array. */
function seriesMax(s: readonly number[] | undefined): number {
  if (s === undefined) return 0;
  let m = maxCache.get(s);
  if (m === undefined) {
    m = maxOf(s);
    maxCache.set(s, m);
  }
  return m;
}

// ---------------------------------------------------------------- charts

interface Line {
  readonly name: string;
  readonly colour: string;
  readonly dashed: boolean;
  readonly pts: readonly [number, number][];
}

interface Marker {
  readonly t: number;
  readonly v: number;
  readonly title: string;
}

interface Level {
  readonly v: number;
  readonly colour: string;
  readonly title: string;
}

interface Chart {
  readonly cls: string;
  readonly label: string;
  readonly tMax: number;
  readonly yMax: number;
  readonly yUnit: AxisUnit;
  readonly yName: string;
  readonly lines: readonly Line[];
  readonly levels?: readonly Level[];
  readonly markers?: readonly Marker[];
  /** A vertical line the map's slider moves. */
  readonly cursor?: boolean;
}

const xOf = (t: number, tMax: number): number => ML + (tMax > 0 ? (Math.min(t, tMax) / tMax) * PW : 0);
const yOf = (v: number, yMax: number): number => MT + PH - (yMax > 0 ? (Math.min(Math.max(v, 0), yMax) / yMax) * PH : 0);

/** A line chart over simulated time: axes with units, grid, lines, dashed levels, failure markers. */
function chartSvg(c: Chart): string {
  const tu = timeUnit(c.tMax);
  const out: string[] = [];
  out.push(`<svg class="chart ${c.cls}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(c.label)}">`);
  const yTicks = ticks(c.yMax / c.yUnit.scale, 5);
  const yTop = (yTicks[yTicks.length - 1] ?? 1) * c.yUnit.scale;
  const xTicks = ticks(c.tMax / tu.scale, 6).filter((v) => v * tu.scale <= c.tMax * 1.0001);
  out.push(`<g class="axis">`);
  for (const v of yTicks) {
    const y = n1(yOf(v * c.yUnit.scale, yTop));
    out.push(`<line class="grid" x1="${ML}" x2="${ML + PW}" y1="${y}" y2="${y}"/><text x="${ML - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickText(v)}</text>`);
  }
  for (const v of xTicks) {
    const x = n1(xOf(v * tu.scale, c.tMax));
    out.push(`<line class="tick" x1="${x}" x2="${x}" y1="${MT + PH}" y2="${MT + PH + 4}"/><text x="${x}" y="${MT + PH + 16}" text-anchor="middle">${tickText(v)}</text>`);
  }
  out.push(`<line class="frame" x1="${ML}" x2="${ML}" y1="${MT}" y2="${MT + PH}"/><line class="frame" x1="${ML}" x2="${ML + PW}" y1="${MT + PH}" y2="${MT + PH}"/>`);
  out.push(`<text class="axis-label" x="${ML + PW / 2}" y="${H - 6}" text-anchor="middle">simulated time (${tu.name})</text>`);
  out.push(`<text class="axis-label" transform="translate(14 ${MT + PH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(c.yName)} (${c.yUnit.name})</text>`);
  out.push(`</g>`);
  for (const l of c.levels ?? []) {
    const y = n1(yOf(l.v, yTop));
    out.push(`<line class="level" x1="${ML}" x2="${ML + PW}" y1="${y}" y2="${y}" stroke="${l.colour}" stroke-dasharray="6 4"><title>${escapeHtml(l.title)}</title></line>`);
  }
  for (const l of c.lines) {
    if (l.pts.length === 0) continue;
    const pts = l.pts.map(([t, v]) => `${n1(xOf(t, c.tMax))},${n1(yOf(v, yTop))}`).join(' ');
    out.push(`<polyline class="series" points="${pts}" stroke="${l.colour}"${l.dashed ? ' stroke-dasharray="3 3"' : ''}><title>${escapeHtml(l.name)}</title></polyline>`);
  }
  for (const m of c.markers ?? []) {
    const x = xOf(m.t, c.tMax);
    const y = yOf(m.v, yTop);
    out.push(`<path class="failure-marker" d="M${n1(x)} ${n1(y + 1)}l-5 -9h10z"><title>${escapeHtml(m.title)}</title></path>`);
  }
  if (c.cursor === true) out.push(`<line class="map-cursor" x1="${ML}" x2="${ML}" y1="${MT}" y2="${MT + PH}"/>`);
  out.push(`</svg>`);
  return out.join('');
}

interface LegendEntry {
  readonly name: string;
  readonly colour: string;
  readonly kind: 'line' | 'dashed' | 'dotted' | 'marker' | 'cell' | 'hatch';
  /** A map cell's code (the page's script names a cell's owner from its legend entry). */
  readonly code?: string;
}

function legendHtml(entries: readonly LegendEntry[], cls = ''): string {
  const items = entries.map((e) => {
    const sw =
      e.kind === 'marker'
        ? `<svg class="sw" viewBox="0 0 12 12"><path class="failure-marker" d="M6 11l-5 -9h10z"/></svg>`
        : e.kind === 'cell' || e.kind === 'hatch'
          ? `<span class="sw cell${e.kind === 'hatch' ? ' hatch' : ''}" style="background-color:${e.colour}"></span>`
          : `<svg class="sw" viewBox="0 0 24 12"><line x1="0" x2="24" y1="6" y2="6" stroke="${e.colour}" stroke-width="${e.kind === 'line' ? 2.5 : 2}"${e.kind === 'dashed' ? ' stroke-dasharray="6 4"' : e.kind === 'dotted' ? ' stroke-dasharray="3 3"' : ''}/></svg>`;
    return `<li class="legend-item"${e.code === undefined ? '' : ` data-code="${e.code}"`}>${sw}<span class="name">${esc(e.name)}</span></li>`;
  });
  return `<ul class="legend${cls === '' ? '' : ` ${cls}`}">${items.join('')}</ul>`;
}

function figure(title: string, body: string, caption: string, cls: string): string {
  return `<figure class="${cls}"><figcaption class="chart-title">${title}</figcaption>${body}<p class="caption">${caption}</p></figure>`;
}

// ---------------------------------------------------------------- the parts of a run

interface Scales {
  readonly tMax: number;
  readonly heapMax: number;
  readonly procMax: number;
  readonly cgroupMax: number;
  readonly memMax: number;
  /** Per area name: its largest size in bytes over the runs. */
  readonly areaMax: ReadonlyMap<string, number>;
}

interface Budget {
  readonly pointsPerLine: number;
  readonly mapCells: number;
  readonly ownersPerMap: number;
  /** Failure markers per chart and failure rows, per run. */
  readonly markers: number;
  readonly rows: number;
  /** CMA areas drawn per run. */
  readonly areas: number;
}

/** Heaps drawn: those of `heaps` first (their order), then any other series key; at most MAX_LINES, largest peaks kept. */
const heapCache = new WeakMap<SimResult, string[]>();
function heapNames(r: SimResult): string[] {
  const cached = heapCache.get(r);
  if (cached !== undefined) return cached;
  const names = r.heaps.map((h) => h.name).filter((n) => Object.hasOwn(r.series.heapUse, n));
  const known = new Set(names);
  for (const k of Object.keys(r.series.heapUse)) if (!known.has(k)) names.push(k);
  const top = topByPeak(names, r.series.heapUse);
  heapCache.set(r, top);
  return top;
}

function topByPeak(names: readonly string[], series: Readonly<Record<string, readonly number[]>>): string[] {
  if (names.length <= MAX_LINES) return [...names];
  const peak = new Map(names.map((n) => [n, seriesMax(series[n])]));
  const keep = new Set([...names].sort((a, b) => peak.get(b)! - peak.get(a)! || (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_LINES));
  return names.filter((n) => keep.has(n));
}

/** A failure marker's tooltip, names and detail clipped (the table has them whole). */
function failureTitle(f: SimFailure, hours: boolean): string {
  return `${formatClock(f.t, hours)} ${clip(f.process, 40)}/${clip(f.stream, 40)}: ${fmtBytes(finite(f.size))} from ${clip(f.heap, 40)} failed, ${clip(f.errno, 16)} (${clip(String(f.reason), 20)}) ${clip(f.detail, 100)}`;
}

/** The failures drawn as markers: all, or the budget's spread over them. */
function markedFailures(r: SimResult, b: Budget): SimFailure[] {
  const sorted = sortedFailures(r);
  return spread(sorted.length, b.markers).map((i) => sorted[i]!);
}

const failureCache = new WeakMap<SimResult, SimFailure[]>();
function sortedFailures(r: SimResult): SimFailure[] {
  let s = failureCache.get(r);
  if (s === undefined) {
    s = [...r.failures].sort((a, b) => finite(a.t) - finite(b.t));
    failureCache.set(r, s);
  }
  return s;
}

/** The value of `s` at the last sample at or before `t` (sample times ascend). */
function valueAt(times: readonly number[], s: readonly number[] | undefined, t: number): number {
  if (s === undefined) return 0;
  let lo = 0;
  let hi = Math.min(times.length, s.length) - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (finite(times[mid]) <= t) lo = mid;
    else hi = mid - 1;
  }
  return finite(s[lo]);
}

function heapChart(r: SimResult, sc: Scales, b: Budget): string {
  const names = heapNames(r);
  const hours = sc.tMax >= 3_600_000_000;
  const yUnit = byteUnit(sc.heapMax);
  const lines: Line[] = [];
  const levels: Level[] = [];
  const legend: LegendEntry[] = [];
  names.forEach((name, i) => {
    const c = colour(i);
    lines.push({ name: `${name}: bytes in use`, colour: c, dashed: false, pts: downsample(r.series.t, own(r.series.heapUse, name) ?? [], b.pointsPerLine) });
    legend.push({ name, colour: c, kind: 'line' });
    const cap = r.heaps.find((h) => h.name === name)?.capacity ?? null;
    if (cap !== null && Number.isFinite(cap)) {
      levels.push({ v: cap, colour: c, title: `${name}: capacity ${fmtBytes(cap)}` });
      legend.push({ name: `${name} capacity (${fmtBytes(cap)})`, colour: c, kind: 'dashed' });
    }
  });
  const marked = markedFailures(r, b);
  const markers = marked.map((f) => ({
    t: finite(f.t),
    v: Object.hasOwn(r.series.heapUse, f.heap) ? valueAt(r.series.t, own(r.series.heapUse, f.heap), finite(f.t)) : sc.heapMax,
    title: failureTitle(f, hours),
  }));
  if (r.failures.length > 0) legend.push({ name: `failed allocation (${r.failures.length}${marked.length < r.failures.length ? `, ${marked.length} marked` : ''})`, colour: FAIL, kind: 'marker' });
  const body =
    names.length === 0
      ? `<p class="empty">No heap was used in this run.</p>`
      : chartSvg({ cls: 'heap-use', label: 'Heap use over time', tMax: sc.tMax, yMax: sc.heapMax, yUnit, yName: 'in use', lines, levels, markers }) + legendHtml(legend);
  const caption =
    r.failures.length > 0
      ? 'Bytes allocated from each heap. A red triangle is an allocation that failed, drawn at its heap’s use at that moment: a failure far below the dashed capacity means fragmentation or a limit, not a full heap.'
      : 'Bytes allocated from each heap; the dashed line is the heap’s capacity. The closer a line runs to its capacity, the less headroom the workload has.';
  return figure('Heap use over time', body, caption, 'fig-heap-use');
}

function failuresPart(r: SimResult, b: Budget): string {
  if (r.failures.length === 0) return `<p class="no-failures"><span class="ok">✓</span> No allocation failed in this run.</p>`;
  const hours = r.duration >= 3_600_000_000;
  const sorted = sortedFailures(r);
  const byReason = new Map<string, number>();
  for (const f of sorted) byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + 1);
  const summary = [...byReason].map(([k, v]) => `${count(v)} ${esc(k, 40)}`).join(', ');
  const rows = sorted.slice(0, b.rows).map((f) => {
    const area = f.area === undefined ? '' : `<br><span class="sub">area ${esc(f.area.name, 60)}: ${count(f.area.freePages)} pages free, largest free run ${count(f.area.largestFreeRun)} pages, request ${count(f.area.requestPages)} pages</span>`;
    const differs = f.differs === undefined ? '' : `<br><span class="sub">trace: ${esc(f.differs, 200)}</span>`;
    const why = Object.hasOwn(REASONS, f.reason) ? REASONS[f.reason] : '';
    return `<tr class="failure-row"><td class="num">${formatClock(f.t, hours)}</td><td>${esc(f.process)}</td><td>${esc(f.stream)}</td><td>${esc(f.heap)}</td><td class="num">${fmtBytes(finite(f.size))}</td><td><code>${esc(f.errno, 24)}</code></td><td><span class="reason reason-${escapeHtml(String(f.reason).replace(/[^a-z-]/g, ''))}" title="${escapeHtml(why)}">${esc(String(f.reason), 40)}</span></td><td>${esc(f.detail, 300)}${area}${differs}</td></tr>`;
  });
  const more = sorted.length > b.rows ? `<p class="more">${sorted.length - b.rows} more failures are not listed here; <code>dmaheap simulate --json</code> gives them all.</p>` : '';
  const reasons = [...byReason.keys()]
    .filter((k): k is FailureReason => Object.hasOwn(REASONS, k))
    .map((k) => `<li><span class="reason">${k}</span>: ${escapeHtml(REASONS[k])}</li>`)
    .join('');
  return (
    `<p class="failure-summary"><strong>${r.failures.length} allocation${r.failures.length === 1 ? '' : 's'} failed</strong>: ${summary}.</p>` +
    `<div class="scroll"><table class="failures"><thead><tr><th>time (${hours ? 'h:min:s' : 'min:s'})</th><th>process</th><th>stream</th><th>heap</th><th>size</th><th>errno</th><th>reason</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>${more}${reasons === '' ? '' : `<ul class="reasons">${reasons}</ul>`}`
  );
}

/** A map's frames and cells cut to the budget, coded one character per cell. */
interface CodedMap {
  readonly cells: number;
  readonly pagesPerCell: number;
  /** Names by cell code (owners, then "other owners" when some share a colour). */
  readonly owners: { readonly code: string; readonly name: string; readonly other: boolean }[];
  readonly frames: { readonly t: number; readonly cells: string }[];
}

/**
 * A map cut to at most `maxFrames` frames (spread evenly, first and last kept) and MAX_CELLS cells
 * (each merged cell shows the value most of its cells hold), its cells coded one character each:
 * `.` free, `#` pinned or taken, then one code per coloured owner; owners past `maxOwners` (those
 * holding the fewest cells) share the "other owners" code.
 */
export function codeMap(m: SimAreaMap, maxFrames: number, maxOwners = MAX_OWNERS): CodedMap {
  const ownersMax = Math.max(1, Math.min(MAX_OWNERS, maxOwners));
  const raw = Math.max(0, Math.floor(finite(m.cells)));
  const group = Math.max(1, Math.ceil(raw / MAX_CELLS));
  const cells = Math.ceil(raw / group);
  const picked = spread(m.frames.length, Math.max(2, Math.min(MAX_FRAMES, maxFrames))).map((i) => m.frames[i]!);
  // Merged cells: the value held by most of the group's cells (the first one on a tie).
  const merged = picked.map((f) => {
    if (group === 1) return Array.from({ length: cells }, (_, i) => f.cells[i] ?? -1);
    const out: number[] = [];
    const count = new Map<number, number>();
    for (let c = 0; c < cells; c++) {
      count.clear();
      let best = -1;
      let bestN = 0;
      for (let i = c * group; i < Math.min(raw, (c + 1) * group); i++) {
        const v = f.cells[i] ?? -1;
        const k = (count.get(v) ?? 0) + 1;
        count.set(v, k);
        if (k > bestN) {
          best = v;
          bestN = k;
        }
      }
      out.push(best);
    }
    return out;
  });
  // Owners coloured: all when they fit, else those holding the most cells in the kept frames.
  let keep: number[];
  if (m.owners.length <= ownersMax) keep = m.owners.map((_, i) => i);
  else {
    const held = new Map<number, number>();
    for (const f of merged) for (const v of f) if (v >= 0) held.set(v, (held.get(v) ?? 0) + 1);
    keep = [...held].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, ownersMax).map(([i]) => i).sort((a, b) => a - b);
  }
  const codeOf = new Map(keep.map((o, j) => [o, CODES[j]!]));
  const owners = keep.map((o, j) => ({ code: CODES[j]!, name: clip(m.owners[o] ?? '', 120), other: false }));
  const frames = picked.map((f, j) => ({
    t: finite(f.t),
    cells: merged[j]!.map((v) => (v === -1 ? FREE_CODE : v === -2 ? PINNED_CODE : (codeOf.get(v) ?? OTHER_CODE))).join(''),
  }));
  const hasOther = m.owners.length > ownersMax || frames.some((f) => f.cells.includes(OTHER_CODE));
  if (hasOther) owners.push({ code: OTHER_CODE, name: m.owners.length > keep.length ? `other owners (${m.owners.length - keep.length})` : 'unknown owner', other: true });
  return { cells, pagesPerCell: finite(m.pagesPerCell) * group, owners, frames };
}

const MAP_CAPTION =
  'Which buffer holds each part of the CMA area at the time the slider picks (it starts at the first failure in the area, or at the end of the run). Coloured cells belong to the owner in the legend; light cells are free; hatched cells are pinned or taken and cannot be moved, so they split the free space.';

/** The areas drawn when there are more than `n`: those with the most failures, then the least contiguous room left. */
function drawnAreas(r: SimResult, n: number): Set<number> {
  if (r.areas.length <= n) return new Set(r.areas.map((_, i) => i));
  const failed = new Map<string, number>();
  for (const f of r.failures) if (f.area !== undefined) failed.set(f.area.name, (failed.get(f.area.name) ?? 0) + 1);
  const room = (i: number): number => finite(r.areas[i]!.minLargestFreeRun) / Math.max(1, finite(r.areas[i]!.pages));
  const order = r.areas.map((_, i) => i).sort((x, y) => (failed.get(r.areas[y]!.name) ?? 0) - (failed.get(r.areas[x]!.name) ?? 0) || room(x) - room(y) || x - y);
  return new Set(order.slice(0, n));
}

function mapPart(r: SimResult, ri: number, sc: Scales, b: Budget): string {
  if (r.areas.length === 0) return `<p class="empty">This board has no CMA area.</p>`;
  const hours = sc.tMax >= 3_600_000_000;
  const out: string[] = [];
  const drawn = drawnAreas(r, b.areas);
  const drawnNames = new Set(r.areas.filter((_, i) => drawn.has(i)).map((a) => a.name));
  const maps = r.maps.filter((m) => m.cells > 0 && drawnNames.has(m.area));
  const cellsAll = maps.reduce((s, m) => s + Math.min(MAX_CELLS, m.cells), 0);
  const framesEach = Math.floor(b.mapCells / Math.max(1, cellsAll));
  r.areas.forEach((a, ai) => {
    if (!drawn.has(ai)) return;
    const id = `r${ri}-a${ai}`;
    const bytes = finite(a.pages) * finite(a.pageSize);
    const m = r.maps.find((x) => x.area === a.name && x.cells > 0);
    const head = `<h3 class="chart-title">CMA area map over time: <code>${esc(a.name)}</code>: ${fmtBytes(bytes)} (${finite(a.pages)} pages of ${fmtBytes(finite(a.pageSize))}) at pfn 0x${Math.max(0, finite(a.basePfn)).toString(16)}${a.heap === null ? '' : `, heap <code>${esc(a.heap)}</code>`}</h3>`;
    let mapHtml = '';
    let hasMap = false;
    if (m !== undefined && m.frames.length > 0) {
      hasMap = true;
      const coded = codeMap(m, framesEach, b.ownersPerMap);
      const owners = coded.owners;
      const colours: Record<string, string> = { [FREE_CODE]: FREE, [PINNED_CODE]: `url(#hatch-${id})` };
      const legend: LegendEntry[] = [];
      owners.forEach((o, j) => {
        const c = o.other ? OTHER : colour(j);
        colours[o.code] = c;
        legend.push({ name: o.name, colour: c, kind: 'cell', code: o.code });
      });
      legend.push({ name: 'free', colour: FREE, kind: 'cell', code: FREE_CODE });
      legend.push({ name: 'pinned or taken (cannot be moved)', colour: PINNED_CANVAS, kind: 'hatch', code: PINNED_CODE });
      const areaFailures = sortedFailures(r).filter((f) => f.area?.name === a.name || (f.area === undefined && a.heap !== null && f.heap === a.heap));
      const firstFail = areaFailures[0];
      let start = coded.frames.length - 1;
      if (firstFail !== undefined) {
        const i = coded.frames.findIndex((f) => f.t > finite(firstFail.t));
        start = i <= 0 ? (i === 0 ? 0 : coded.frames.length - 1) : i - 1;
      }
      const cols = Math.min(64, coded.cells);
      const rows = Math.ceil(coded.cells / cols);
      const data = {
        cols,
        cells: coded.cells,
        pagesPerCell: coded.pagesPerCell,
        pageSize: a.pageSize,
        basePfn: a.basePfn,
        colours,
        hours,
        frames: coded.frames.map((f) => [f.t, formatClock(f.t, hours), f.cells]),
        start,
        cursor: { x0: ML, w: PW, tMax: sc.tMax, vw: W },
      };
      const cellBytes = coded.pagesPerCell * finite(a.pageSize);
      const startFrame = coded.frames[start];
      mapHtml =
        `<div class="map-controls"><label>time <input type="range" class="map-slider" min="0" max="${coded.frames.length - 1}" step="1" value="${start}" aria-label="map time"></label> <output class="map-time">${startFrame === undefined ? '' : formatClock(startFrame.t, hours)}</output> <span class="map-frame-note">frame <span class="map-frame">${start + 1}</span> of ${coded.frames.length}${coded.frames.length < m.frames.length ? ` (${m.frames.length} recorded)` : ''}</span></div>` +
        `<svg class="map-grid" viewBox="0 0 ${cols * 10} ${rows * 10}" role="img" aria-label="${escapeHtml(`map of ${clip(a.name)}`)}"><defs><pattern id="hatch-${id}" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#6b6b6b"/><rect width="2" height="4" fill="#262626"/></pattern></defs><g class="cells"></g></svg>` +
        `<noscript><p>The area map is drawn by the page's script; allow JavaScript to see it.</p></noscript>` +
        `<p class="map-axis">Each cell is ${coded.pagesPerCell} pages (${fmtBytes(cellBytes)}), in physical-address order: left to right, then top to bottom (${cols} cells a row). <span class="map-info"></span></p>` +
        legendHtml(legend, 'owners') +
        `<div class="history-wrap"><div class="history-axis"><span>${formatClock(coded.frames[0]?.t ?? 0, hours)}</span><span>time ↓</span><span>${formatClock(coded.frames[coded.frames.length - 1]?.t ?? 0, hours)}</span></div><div class="history-box"><canvas class="map-history" width="${coded.cells}" height="${coded.frames.length}"></canvas><div class="history-cursor"></div></div></div>` +
        `<p class="map-axis">The whole run at once: one row per frame (time runs down), one column per cell (low addresses left); click a row to show that frame above. Streaks of free cells between owned ones are fragmentation.</p>` +
        `<p class="caption">${MAP_CAPTION}</p>` +
        `<script type="application/json" class="map-data">${jsonForScript(data)}</script>`;
    }
    // Free pages and the largest free run, in bytes, under the map.
    const yMax = sc.areaMax.get(a.name) ?? bytes;
    const yUnit = byteUnit(yMax);
    const ps = finite(a.pageSize);
    const inBytes = (s: readonly number[] | undefined): [number, number][] => downsample(r.series.t, s ?? [], b.pointsPerLine).map(([x, v]) => [x, v * ps]);
    const fails = markedFailures(r, b).filter((f) => f.area?.name === a.name);
    const chart = chartSvg({
      cls: 'area-free',
      label: `Free memory in ${a.name} over time`,
      tMax: sc.tMax,
      yMax,
      yUnit,
      yName: 'free',
      lines: [
        { name: 'free pages', colour: '#2f7d32', dashed: false, pts: inBytes(own(r.series.cmaFree, a.name)) },
        { name: 'largest free run', colour: '#c2410c', dashed: true, pts: inBytes(own(r.series.cmaLargest, a.name)) },
      ],
      levels: [{ v: bytes, colour: '#888888', title: `area size ${fmtBytes(bytes)}` }],
      markers: fails.map((f) => ({ t: finite(f.t), v: (f.area?.requestPages ?? 0) * ps, title: `${formatClock(f.t, hours)}: ${fmtBytes(finite(f.size))} failed (${clip(String(f.reason), 20)})` })),
      cursor: hasMap,
    });
    const legend: LegendEntry[] = [
      { name: 'free', colour: '#2f7d32', kind: 'line' },
      { name: 'largest free run (the biggest buffer that still fits)', colour: '#c2410c', kind: 'dotted' },
      { name: `area size (${fmtBytes(bytes)})`, colour: '#888888', kind: 'dashed' },
    ];
    if (fails.length > 0) legend.push({ name: 'failed allocation, drawn at its size', colour: FAIL, kind: 'marker' });
    out.push(
      `<div class="cma-map" id="map-${id}" data-area="${escapeHtml(clip(a.name))}">${head}${mapHtml}` +
        figure(
          `Free memory in <code>${esc(a.name)}</code>`,
          chart + legendHtml(legend),
          `Lowest: ${fmtBytes(finite(a.minFreePages) * ps)} free, largest free run ${fmtBytes(finite(a.minLargestFreeRun) * ps)}. When the orange line falls far below the green one, memory is free but scattered: a large buffer fails although the total would fit.`,
          'fig-area-free',
        ) +
        `</div>`,
    );
  });
  if (drawn.size < r.areas.length) {
    const failed = new Map<string, number>();
    for (const f of r.failures) if (f.area !== undefined) failed.set(f.area.name, (failed.get(f.area.name) ?? 0) + 1);
    const rest = r.areas
      .filter((_, i) => !drawn.has(i))
      .map((a) => {
        const ps = finite(a.pageSize);
        return `<tr class="area-row"><td><code>${esc(a.name)}</code></td><td class="num">${fmtBytes(finite(a.pages) * ps)}</td><td class="num">${fmtBytes(finite(a.minFreePages) * ps)}</td><td class="num">${fmtBytes(finite(a.minLargestFreeRun) * ps)}</td><td class="num">${count(failed.get(a.name) ?? 0)}</td></tr>`;
      });
    out.push(
      `<p class="more">${rest.length} more CMA areas are not drawn (a report draws ${AREA_BUDGET} areas, shared by its runs: those with the most failures, then the least room, come first):</p>` +
        `<div class="scroll"><table class="areas"><thead><tr><th>area</th><th>size</th><th>lowest free</th><th>lowest largest free run</th><th>failures</th></tr></thead><tbody>${rest.join('')}</tbody></table></div>`,
    );
  }
  return `<div class="fig-cma-map">${out.join('')}</div>`;
}

function processPart(r: SimResult, sc: Scales, b: Budget): string {
  const names = topByPeak(
    [...new Set([...Object.keys(r.series.rss), ...Object.keys(r.series.pss)])],
    Object.fromEntries([...new Set([...Object.keys(r.series.rss), ...Object.keys(r.series.pss)])].map((n) => [n, own(r.series.pss, n) ?? own(r.series.rss, n) ?? []])),
  );
  const hours = sc.tMax >= 3_600_000_000;
  let chart = `<p class="empty">No process mapped dma-buf memory.</p>`;
  if (names.length > 0) {
    const lines: Line[] = [];
    const legend: LegendEntry[] = [];
    names.forEach((n, i) => {
      const c = colour(i);
      lines.push({ name: `${n}: Rss`, colour: c, dashed: false, pts: downsample(r.series.t, own(r.series.rss, n) ?? [], b.pointsPerLine) });
      lines.push({ name: `${n}: Pss`, colour: c, dashed: true, pts: downsample(r.series.t, own(r.series.pss, n) ?? [], b.pointsPerLine) });
      legend.push({ name: n, colour: c, kind: 'line' });
    });
    chart =
      chartSvg({ cls: 'process-memory', label: 'Per-process dma-buf memory over time', tMax: sc.tMax, yMax: sc.procMax, yUnit: byteUnit(sc.procMax), yName: 'dma-buf memory', lines }) +
      legendHtml(legend) +
      `<p class="legend-note">Solid line: Rss (every dma-buf page the process maps). Dotted line: Pss (each shared page divided among the processes that map it).</p>`;
  }
  const rows = r.processes.slice(0, PROCESS_ROWS).map(
    (p) =>
      `<tr class="process-row"><td>${esc(p.name)}</td><td class="num">${p.pid}</td><td class="num">${formatClock(p.start, hours)}</td><td class="num">${p.end === null ? 'running' : formatClock(p.end, hours)}</td><td class="num">${fmtBytes(finite(p.peakRss))}</td><td class="num">${fmtBytes(finite(p.peakPss))}</td><td class="num">${fmtBytes(finite(p.peakDmabufBytes))}</td><td>${p.killed === null ? '' : `<span class="killed">${esc(p.killed, 200)}</span>`}</td></tr>`,
  );
  const more = r.processes.length > PROCESS_ROWS ? `<p class="more">${r.processes.length - PROCESS_ROWS} more processes are not listed.</p>` : '';
  const table = `<div class="scroll"><table class="processes"><thead><tr><th>process</th><th>pid</th><th>start</th><th>end</th><th>peak Rss</th><th>peak Pss</th><th>peak dma-buf</th><th>killed</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>${more}`;
  return figure(
    'Per-process memory',
    chart + table,
    'Dma-buf memory each process maps over time. A process whose Rss is much larger than its Pss shares its buffers with others (a compositor, an encoder); the table gives each process’s peaks.',
    'fig-processes',
  );
}

function cgroupPart(r: SimResult, sc: Scales, b: Budget): string {
  const names = topByPeak(Object.keys(r.series.cgroup), r.series.cgroup);
  if (names.length === 0) return '';
  const lines = names.map((n, i) => ({ name: n, colour: colour(i), dashed: false, pts: downsample(r.series.t, own(r.series.cgroup, n) ?? [], b.pointsPerLine) }));
  return figure(
    'Charges per cgroup',
    chartSvg({ cls: 'cgroup-charge', label: 'Charges per cgroup over time', tMax: sc.tMax, yMax: sc.cgroupMax, yUnit: byteUnit(sc.cgroupMax), yName: 'charged', lines }) +
      legendHtml(names.map((n, i) => ({ name: n, colour: colour(i), kind: 'line' as const }))),
    'Bytes charged to each cgroup (memory.current). A line that flattens at a limit is where allocations start failing with reason cgroup-limit.',
    'fig-cgroups',
  );
}

function memPart(r: SimResult, sc: Scales, b: Budget): string {
  if (r.series.memFree.length === 0) return '';
  const lines = [{ name: 'MemFree', colour: colour(0), dashed: false, pts: downsample(r.series.t, r.series.memFree, b.pointsPerLine) }];
  return figure(
    'Free RAM',
    chartSvg({ cls: 'mem-free', label: 'Free RAM over time', tMax: sc.tMax, yMax: sc.memMax, yUnit: byteUnit(sc.memMax), yName: 'free', lines }) +
      legendHtml([{ name: 'MemFree', colour: colour(0), kind: 'line' as const }]),
    'Memory the page allocator has free (/proc/meminfo MemFree): anonymous memory, page cache and system-heap buffers take it; when it nears zero the OOM killer runs and system-heap allocations fail with reason out-of-memory.',
    'fig-mem',
  );
}

// ---------------------------------------------------------------- the summary

function summaryTable(runs: readonly SimResult[], labels: readonly string[]): string {
  const row = (name: string, cells: string[], cls = ''): string => `<tr${cls === '' ? '' : ` class="${cls}"`}><th scope="row">${name}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  const head = runs.length > 1 ? `<thead><tr><th></th>${labels.map((l) => `<th scope="col" class="run-label">${esc(l)}</th>`).join('')}</tr></thead>` : '';
  const rows = [
    row('workload', runs.map((r) => `${esc(r.workload)}${r.file === '' ? '' : ` <span class="sub">(${esc(r.file, 200)})</span>`}`)),
    row('board', runs.map((r) => (r.board === null ? 'generic machine' : esc(r.board, 200)))),
    row('kernel profile', runs.map((r) => esc(r.profile))),
    row('kernel command line', runs.map((r) => (r.cmdline === '' ? '<span class="sub">none</span>' : `<code>${esc(r.cmdline, 300)}</code>`))),
    row('seed', runs.map((r) => String(r.seed))),
    row('simulated time', runs.map((r) => formatDuration(r.duration))),
    row('events', runs.map((r) => count(r.counts.events))),
    row('allocations / frees', runs.map((r) => `${count(r.counts.allocations)} / ${count(r.counts.frees)}`)),
    row('frames', runs.map((r) => count(r.counts.frames))),
    row('failed allocations', runs.map((r) => (r.counts.failures === 0 ? '<span class="ok">0</span>' : `<span class="bad">${count(r.counts.failures)}</span>`)), 'row-failures'),
    row('faults injected', runs.map((r) => count(r.counts.injected))),
    row(
      'heaps',
      runs.map((r) =>
        r.heaps
          .slice(0, 32)
          .map((h) => `<code>${esc(h.name)}</code> (${esc(h.kind, 20)}${h.capacity === null ? '' : `, ${fmtBytes(finite(h.capacity))}`}): peak ${fmtBytes(finite(h.peakBytes))}, ${count(h.allocations)} allocations${h.failures > 0 ? `, <span class="bad">${count(h.failures)} failed</span>` : ''}`)
          .join('<br>') + (r.heaps.length > 32 ? `<br>${r.heaps.length - 32} more heaps` : ''),
      ),
    ),
    row(
      'warnings',
      runs.map((r) =>
        r.warnings.length === 0
          ? '<span class="sub">none</span>'
          : `<ul class="warnings">${r.warnings.slice(0, WARNING_ROWS).map((w) => `<li class="warning">${esc(w, 500)}</li>`).join('')}${r.warnings.length > WARNING_ROWS ? `<li>${r.warnings.length - WARNING_ROWS} more</li>` : ''}</ul>`,
      ),
      'row-warnings',
    ),
  ];
  return `<table class="summary">${head}<tbody>${rows.join('')}</tbody></table>`;
}

// ---------------------------------------------------------------- the page

const CSS = `
:root{color-scheme:light;--fg:#1d2430;--sub:#5b6575;--line:#d5dae1;--bad:${FAIL};--ok:#1b7f3b}
*{box-sizing:border-box}
body{margin:0;padding:20px 24px 40px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:#fff}
h1{font-size:22px;margin:0 0 4px}h3.chart-title{margin:12px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h4{font-size:14px;margin:12px 0 6px;font-weight:600}
.lede{color:var(--sub);margin:0 0 12px}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f5f8;padding:0 3px;border-radius:3px}
table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#f6f8fa;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.summary th[scope=row]{color:var(--sub);font-weight:500;white-space:nowrap}
.sub{color:var(--sub);font-size:12px}.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}
.cols{display:grid;gap:20px;grid-template-columns:repeat(var(--n),minmax(0,1fr))}
.col-label{font-weight:600;margin:0 0 4px;font-size:15px}
.scroll{overflow-x:auto}
figure{margin:0 0 16px}.chart-title{font-weight:600;font-size:15px;margin:4px 0}
.caption{color:var(--sub);margin:4px 0 0;font-size:13px;max-width:72em}
svg.chart{width:100%;max-width:900px;height:auto;display:block;font-size:11px}
svg.chart text{fill:#333}svg.chart .axis-label{font-size:12px;fill:#222}
svg.chart .grid{stroke:#e6e9ee}svg.chart .frame,svg.chart .tick{stroke:#555}
svg.chart .series{fill:none;stroke-width:2;stroke-linejoin:round}svg.chart .level{stroke-width:1.5}
.failure-marker{fill:var(--bad);stroke:#fff;stroke-width:1}
.map-cursor{stroke:#111;stroke-width:1.5;stroke-dasharray:2 2}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 16px;padding:0;margin:6px 0}
.legend-item{display:flex;align-items:center;gap:6px;font-size:12.5px}
.legend .sw{width:24px;height:12px;flex:none}.legend .sw.cell{width:14px;height:14px;border:1px solid #9aa3af;display:inline-block}
.hatch{background-image:repeating-linear-gradient(45deg,#262626 0 2px,#6b6b6b 2px 4px)}
.legend-note{color:var(--sub);font-size:12.5px;margin:2px 0}
.no-failures{font-size:15px;color:var(--ok);background:#eef8f0;border:1px solid #bfe3c8;padding:8px 12px;border-radius:4px;display:inline-block}
.failure-summary{margin:4px 0}
.reason{font-weight:600;color:#7a1020;cursor:help;border-bottom:1px dotted #7a1020;white-space:nowrap}
table.failures td:nth-child(-n+6){white-space:nowrap}.reasons{margin:6px 0;padding-left:18px;color:var(--sub);font-size:13px}.reasons .reason{cursor:auto;border:0}
.map-controls{display:flex;align-items:center;gap:10px;margin:4px 0}.map-controls input{width:320px;max-width:60vw}
.map-time{font-variant-numeric:tabular-nums;font-weight:600}.map-frame-note{color:var(--sub);font-size:12px}
svg.map-grid{width:100%;max-width:900px;height:auto;display:block;border:1px solid #c8ced6;shape-rendering:crispEdges}
.map-axis{color:var(--sub);font-size:12.5px;margin:4px 0}.map-info{color:var(--fg);font-weight:500}
.history-wrap{display:flex;gap:6px;max-width:900px}.history-axis{display:flex;flex-direction:column;justify-content:space-between;font-size:11px;color:var(--sub);width:64px;text-align:right}
.history-box{position:relative;flex:1}canvas.map-history{width:100%;height:140px;display:block;image-rendering:pixelated;border:1px solid #c8ced6}
.history-cursor{position:absolute;left:0;right:0;height:2px;background:#111;pointer-events:none}
.cma-map{border-top:1px dashed var(--line);padding-top:6px;margin-top:8px}
.warnings{margin:0;padding-left:18px}.killed{color:var(--bad)}.empty{color:var(--sub)}
footer{margin-top:32px;color:var(--sub);font-size:12px}
`;

/**
 * The page's script: draws each map's cells for the slider's frame and its history image; in a
 * comparison, moving one map moves the maps of the same area in the other columns to the same time.
 * Reads only the page's JSON and legends.
 */
const SCRIPT = `
(function(){
  var NS='http://www.w3.org/2000/svg',all=[],linked=document.body.classList.contains('comparison');
  function sync(from,t){if(!linked)return;all.forEach(function(m){if(m!==from&&m.area===from.area)m.at(t);});}
  function rgb(h){var n=parseInt(h.slice(1),16);return [n>>16&255,n>>8&255,n&255];}
  document.querySelectorAll('.cma-map').forEach(function(root){
    var el=root.querySelector('script.map-data');if(!el)return;
    var d=JSON.parse(el.textContent);
    var g=root.querySelector('svg.map-grid g.cells'),rects=[];
    for(var i=0;i<d.cells;i++){var r=document.createElementNS(NS,'rect');
      r.setAttribute('x',(i%d.cols)*10);r.setAttribute('y',Math.floor(i/d.cols)*10);r.setAttribute('width',9);r.setAttribute('height',9);
      r.setAttribute('data-i',i);g.appendChild(r);rects.push(r);}
    var slider=root.querySelector('input.map-slider'),out=root.querySelector('.map-time'),num=root.querySelector('.map-frame');
    var info=root.querySelector('.map-info'),cur=root.querySelector('.map-cursor'),hc=root.querySelector('.history-cursor');
    var shown=d.start,names={};
    root.querySelectorAll('ul.owners .legend-item[data-code]').forEach(function(li){names[li.getAttribute('data-code')]=li.querySelector('.name').textContent;});
    function name(c){return Object.prototype.hasOwnProperty.call(names,c)?names[c]:'unknown owner';}
    function show(k){shown=k;var f=d.frames[k],s=f[2];
      for(var i=0;i<rects.length;i++){var c=s.charAt(i);rects[i].setAttribute('fill',d.colours[c]||'#a8a08c');rects[i].setAttribute('data-code',c);}
      out.textContent=f[1];num.textContent=String(k+1);
      if(cur){var x=d.cursor.x0+(d.cursor.tMax>0?Math.min(f[0],d.cursor.tMax)/d.cursor.tMax*d.cursor.w:0);cur.setAttribute('x1',x);cur.setAttribute('x2',x);}
      if(hc){hc.style.top=((k+0.5)/d.frames.length*100)+'%';}}
    var self={area:root.getAttribute('data-area'),at:function(t){var k=0;for(var j=0;j<d.frames.length;j++)if(d.frames[j][0]<=t)k=j;slider.value=String(k);show(k);}};
    all.push(self);
    slider.addEventListener('input',function(){show(Number(slider.value));sync(self,d.frames[shown][0]);});
    g.addEventListener('mouseover',function(e){var i=e.target.getAttribute&&e.target.getAttribute('data-i');if(i===null||i===undefined)return;
      var n=Number(i),pfn=d.basePfn+n*d.pagesPerCell;var c=d.frames[shown][2].charAt(n);
      info.textContent='Cell '+n+' (pfn 0x'+pfn.toString(16)+'): '+name(c)+' at '+d.frames[shown][1]+'.';});
    var cv=root.querySelector('canvas.map-history');
    if(cv&&cv.getContext){var ctx=cv.getContext('2d'),img=ctx.createImageData(d.cells,d.frames.length),p=img.data,pal={};
      Object.keys(d.colours).forEach(function(k){pal[k]=rgb(k==='#'?'${PINNED_CANVAS}':d.colours[k]);});
      for(var y=0;y<d.frames.length;y++){var s=d.frames[y][2];for(var x=0;x<d.cells;x++){var v=pal[s.charAt(x)]||[168,160,140],o=(y*d.cells+x)*4;p[o]=v[0];p[o+1]=v[1];p[o+2]=v[2];p[o+3]=255;}}
      ctx.putImageData(img,0,0);
      cv.addEventListener('click',function(e){var b=cv.getBoundingClientRect();var k=Math.min(d.frames.length-1,Math.max(0,Math.floor((e.clientY-b.top)/b.height*d.frames.length)));slider.value=String(k);show(k);sync(self,d.frames[k][0]);});}
    show(d.start);
  });
})();
`;

/**
 * One self-contained HTML document for `runs`: a report for one run, a side-by-side comparison
 * (one column per run, labelled by `opts.labels`) for two or more.
 */
export function renderReport(runs: readonly SimResult[], opts: ReportOptions = {}): string {
  if (runs.length === 0) throw new RangeError('renderReport needs at least one run');
  if (runs.length > MAX_RUNS) throw new RangeError(`a report compares at most ${MAX_RUNS} runs (got ${runs.length}); split the comparison`);
  const labels = runs.map((r, i) => opts.labels?.[i] ?? (runs.length === 1 ? r.profile : `${r.profile}, seed ${r.seed}${runs.filter((x) => x.profile === r.profile && x.seed === r.seed).length > 1 ? ` (run ${i + 1})` : ''}`));
  const first = runs[0]!;
  const title = opts.title ?? (runs.length === 1 ? `Simulation: ${first.workload}` : `Simulation compared: ${[...new Set(runs.map((r) => r.workload))].join(', ')}`);

  const areaMax = new Map<string, number>();
  for (const r of runs) for (const a of r.areas) areaMax.set(a.name, Math.max(areaMax.get(a.name) ?? 0, finite(a.pages) * finite(a.pageSize)));
  const sc: Scales = {
    tMax: Math.max(1, ...runs.map((r) => Math.max(finite(r.duration), seriesMax(r.series.t)))),
    heapMax: Math.max(
      1,
      ...runs.map((r) => Math.max(maxOf(heapNames(r).map((n) => seriesMax(own(r.series.heapUse, n)))), maxOf(r.heaps.filter((h) => heapNames(r).includes(h.name)).map((h) => finite(h.capacity ?? 0))))),
    ),
    procMax: Math.max(1, ...runs.map((r) => Math.max(maxOf(Object.values(r.series.rss).map(seriesMax)), maxOf(Object.values(r.series.pss).map(seriesMax))))),
    cgroupMax: Math.max(1, ...runs.map((r) => maxOf(Object.values(r.series.cgroup).map(seriesMax)))),
    memMax: Math.max(1, ...runs.map((r) => seriesMax(r.series.memFree))),
    areaMax,
  };
  // Lines per run: heaps, Rss and Pss per process, free and largest per area, cgroups.
  const lineCount = runs.reduce(
    (s, r) =>
      s +
      Math.min(MAX_LINES, Object.keys(r.series.heapUse).length) +
      2 * Math.min(MAX_LINES, new Set([...Object.keys(r.series.rss), ...Object.keys(r.series.pss)]).size) +
      2 * r.areas.length +
      Math.min(MAX_LINES, Object.keys(r.series.cgroup).length) +
      1,
    0,
  );
  const budget: Budget = {
    pointsPerLine: Math.max(60, Math.min(2 * PW, Math.floor(POINT_BUDGET / Math.max(1, lineCount)))),
    mapCells: Math.floor(MAP_BUDGET / runs.length),
    ownersPerMap: Math.max(8, Math.floor(OWNER_BUDGET / Math.max(1, runs.reduce((s, r) => s + r.maps.length, 0)))),
    markers: Math.min(MARKERS, Math.floor(MARKER_BUDGET / runs.length)),
    rows: Math.min(FAILURE_ROWS, Math.floor(FAILURE_ROW_BUDGET / runs.length)),
    areas: Math.max(1, Math.floor(AREA_BUDGET / runs.length)),
  };

  const cols = (part: (r: SimResult, i: number) => string): string =>
    runs.length === 1 ? part(first, 0) : `<div class="cols" style="--n:${runs.length}">${runs.map((r, i) => `<div class="col"><p class="col-label">${esc(labels[i]!)}</p>${part(r, i)}</div>`).join('')}</div>`;

  const lede =
    runs.length === 1
      ? `Workload <strong>${esc(first.workload)}</strong> on ${first.board === null ? 'a generic machine' : `<strong>${esc(first.board, 200)}</strong>`}, kernel profile <strong>${esc(first.profile)}</strong>, seed ${first.seed}, ${formatDuration(first.duration)} of simulated time: ${first.counts.failures === 0 ? 'no allocation failed.' : `<span class="bad">${first.counts.failures} allocation${first.counts.failures === 1 ? '' : 's'} failed.</span>`}`
      : `${runs.length} runs side by side (${labels.map((l) => esc(l)).join(' · ')}). Every chart in a row uses the same scales; moving a CMA map's slider moves the same area's map in every column to that time.`;

  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(title, 200)}</title><style>${CSS}</style></head>`,
    `<body class="${runs.length === 1 ? 'single' : 'comparison'}">`,
    `<header><h1>${esc(title, 200)}</h1><p class="lede">${lede}</p></header>`,
    `<section id="summary"><h2>Summary</h2>${summaryTable(runs, labels)}</section>`,
    `<section id="heap-use"><h2>Heap use and failures</h2>${cols((r) => heapChart(r, sc, budget))}</section>`,
    `<section id="failures"><h2>Failed allocations</h2>${cols((r) => failuresPart(r, budget))}</section>`,
    `<section id="cma"><h2>CMA areas</h2>${cols((r, i) => mapPart(r, i, sc, budget))}</section>`,
    `<section id="processes"><h2>Processes</h2>${cols((r) => processPart(r, sc, budget))}</section>`,
    `<section id="memory"><h2>Free RAM</h2>${cols((r) => memPart(r, sc, budget) || '<p class="empty">No samples.</p>')}</section>`,
    runs.some((r) => Object.keys(r.series.cgroup).length > 0) ? `<section id="cgroups"><h2>Cgroups</h2>${cols((r) => cgroupPart(r, sc, budget) || '<p class="empty">No cgroup charges.</p>')}</section>` : '',
    `<footer>Written by dmaheap simulate. Times are simulated time since the start of the run; sizes are in binary units (1 MiB = 1,048,576 bytes).</footer>`,
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
