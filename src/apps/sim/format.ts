/**
 * Text helpers for the simulation's outputs (the HTML report): escaping, simulated times, axis
 * units and ticks. No Node and no DOM: plain functions over numbers and strings.
 */

/** Escapes text for HTML element content and for quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/**
 * JSON for a `<script type="application/json">` element: `<` (and so `</script>` and `<!--`), `>`, `&`
 * and the two line separators JavaScript once refused are written as \u escapes, so no string from a
 * workload can end the element.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** At most `max` characters of `s` (a name from a workload file may be any length), with "…" when cut. */
export function clip(s: string, max = 120): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A finite number or 0 (a series value that is NaN or infinite draws as 0 rather than breaking a chart). */
export function finite(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) ? v : 0;
}

/** Microseconds of simulated time as a clock: "12:30.250" (min:s.ms), or "1:02:03.000" with hours. */
export function formatClock(us: number, withHours: boolean): string {
  const ms = Math.round(Math.max(0, finite(us)) / 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) - (withHours ? h * 60 : 0);
  const s = Math.floor(ms / 1000) % 60;
  const frac = String(ms % 1000).padStart(3, '0');
  const mm = withHours ? String(m).padStart(2, '0') : String(m);
  return `${withHours ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}.${frac}`;
}

/** Microseconds as a duration in words: "1 h", "1 h 30 min", "45 min 10 s", "2.5 s", "350 ms", "120 µs". */
export function formatDuration(us: number): string {
  const v = Math.max(0, finite(us));
  if (v < 1000) return `${Math.round(v)} µs`;
  if (v < 1_000_000) return `${trim(v / 1000)} ms`;
  if (v < 60_000_000) return `${trim(v / 1_000_000)} s`;
  const totalS = Math.round(v / 1_000_000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor(totalS / 60) % 60;
  const s = totalS % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return s > 0 ? `${m} min ${s} s` : `${m} min`;
}

function trim(v: number): string {
  return String(Number(v.toFixed(v < 10 ? 2 : 1)));
}

/** A unit for an axis: its name and how many base units (bytes, microseconds) it holds. */
export interface AxisUnit {
  readonly name: string;
  readonly scale: number;
}

/** The byte unit an axis up to `max` bytes reads best in (at least two of the unit at the top). */
export function byteUnit(max: number): AxisUnit {
  const units: AxisUnit[] = [
    { name: 'GiB', scale: 2 ** 30 },
    { name: 'MiB', scale: 2 ** 20 },
    { name: 'KiB', scale: 2 ** 10 },
  ];
  for (const u of units) if (max >= 2 * u.scale) return u;
  return { name: 'bytes', scale: 1 };
}

/** The time unit an axis up to `maxUs` microseconds reads best in. */
export function timeUnit(maxUs: number): AxisUnit {
  if (maxUs > 3 * 3_600_000_000) return { name: 'hours', scale: 3_600_000_000 };
  if (maxUs > 180_000_000) return { name: 'minutes', scale: 60_000_000 };
  if (maxUs > 2_000_000) return { name: 'seconds', scale: 1_000_000 };
  if (maxUs > 2000) return { name: 'milliseconds', scale: 1000 };
  return { name: 'microseconds', scale: 1 };
}

/** Round tick values from 0 to at least `max` (in the axis' unit): steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function ticks(max: number, count = 5): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = top / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let i = 0; out.length < 50; i++) {
    const v = Number((i * step).toPrecision(12));
    out.push(v);
    if (v >= top) break;
  }
  return out;
}

/** A tick label: an integer as is, otherwise up to two decimals without trailing zeros. */
export function tickText(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
}

/** An integer with thousands separators ("1,048,576"), the same in every locale. */
export function count(n: number): string {
  const v = Math.round(finite(n));
  const s = String(Math.abs(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return v < 0 ? `-${s}` : s;
}
