/**
 * Compares what a peer-test binary (../shared/peer-tests/bin) printed on a real kernel with what
 * the same binary printed under `dmaheap run` on the emulated kernel (issue 12, item 3). Used by
 * scripts/test-kernel.sh (the referee VM's run against the matching profile) and by
 * test/unit/run-peer-tests.test.ts (the recorded outputs against the matching profile).
 *
 *   node dist/scripts/peer-compare.js <tap|probe> <real-output> <emulated-output> [--boot-ino] [--label <text>]
 *
 * Modes:
 * - `tap`: the kernel selftest's TAP output: identical, byte for byte (line by line, including
 *   whether the last line ends with a newline).
 * - `probe`: the oracle's probe (../shared/oracle/probe.c), one line per case,
 *   `<case>: ret=<n> errno=<name> extra=<text>`. Identical after masking the fields the probe
 *   marks with `~` as machine-dependent (inode and mount numbers): a `~key: value` or `~key=value`
 *   token compares as `~key` (the value runs to the next `;`, space or end of line). A case the
 *   real run skipped itself (`extra=skipped: ...`, e.g. the OOM cases without PROBE_OOM=1) is left
 *   out on both sides, and counted.
 * - `--boot-ino` (probe mode): the kernel numbers dma-buf inodes with get_next_ino(), the counter
 *   every pseudo inode shares (5.10: Profile.dmabufOwnIno false), so the numbers depend on what
 *   ran since boot: the 5.10 referee itself printed 121.. in one boot and 125.. in another for
 *   the same probe. The numbers the probe prints unmasked (the debugfs bufinfo `ino` column and the
 *   /sys/kernel/dmabuf/buffers/<ino> paths) then compare by rank: each output's distinct numbers
 *   in increasing order become #1, #2, ..., so the same buffers must have distinct numbers in the
 *   same order and a number must come back where it came back, whatever the first one was.
 *
 * Prints one line per differing line (`DIFFER [<label>: ]- real <n>: ...` for a line only the real
 * kernel printed, `DIFFER [<label>: ]+ emulated <n>: ...` for one only the emulated kernel printed;
 * a changed line is both) and a summary (`<label or mode>: <n> line(s) agree, <n> differ`); exit status 0 when they agree, 1 when they do not (or a file cannot be read), 2 for a
 * usage error.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { takeLabel } from './label-arg.js';

export type PeerMode = 'tap' | 'probe';

export interface PeerComparison {
  /** Lines of the real output that the emulated output has too, in order (skipped cases left out). */
  readonly agreed: number;
  /** Probe cases the real run skipped itself, left out (0 in tap mode). */
  readonly skipped: number;
  /** One entry per differing line, in order: `- real <n>: <line>` or `+ emulated <n>: <line>`. */
  readonly differences: string[];
}

/** The largest output compared (the probe prints ~40 KiB, the selftest ~2 KiB). */
export const MAX_BYTES = 4 * 1024 * 1024;
/** The most differing lines the diff looks for before it gives up on aligning the outputs. */
export const MAX_EDITS = 2000;

/** A `~key: value` or `~key=value` token; the value runs to the next `;`, space or end of line. */
const MASKED = /~([A-Za-z0-9_]+)(?:: |=)[^; ]*/g;

/** A probe line with its `~` fields masked: `~ino: 18` and `~ino=18` both become `~ino`. */
export function maskProbeLine(line: string): string {
  return line.replace(MASKED, '~$1');
}

/** A number the probe prints from a dma-buf's inode: a sysfs path, or bufinfo's ino column. */
const BOOT_INO = /(buffers\/)(\d+)(?=\/)|(\|(?:\d{8} ){4}\S+ )(\d{8})(?= )/g;

/** The lines with their boot-dependent inode numbers replaced by their rank (`#1`, `#2`, ...). */
export function rankBootInodes(lines: readonly string[]): string[] {
  const seen = new Set<number>();
  for (const l of lines) for (const m of l.matchAll(BOOT_INO)) seen.add(Number(m[2] ?? m[4]));
  const rank = new Map([...seen].sort((a, b) => a - b).map((n, i) => [n, i + 1]));
  return lines.map((l) => l.replace(BOOT_INO, (_m, p1: string | undefined, n1: string | undefined, p2: string | undefined, n2: string | undefined) => `${p1 ?? p2 ?? ''}#${rank.get(Number(n1 ?? n2))}`));
}

/** The case name of a probe line (what comes before `: ret=`), or undefined for another line. */
export function probeCase(line: string): string | undefined {
  const i = line.indexOf(': ret=');
  return i < 0 ? undefined : line.slice(0, i);
}

/** Whether a probe line says the probe skipped the case itself (`extra=skipped: ...`). */
export function isSkippedLine(line: string): boolean {
  return probeCase(line) !== undefined && / extra=skipped:/.test(line);
}

interface Line {
  /** 1-based line number in its file. */
  readonly n: number;
  /** The line as printed. */
  readonly text: string;
  /** What is compared: the text, masked in probe mode. */
  readonly key: string;
}

/** The lines of a text; a last line without its newline is marked, so that it differs from one with it. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += ' \\ (no newline at end of output)';
  return lines;
}

/**
 * The shortest edit script between two line lists (Myers' O((N+M)D) greedy diff), as the lines of
 * `a` only (`-`) and of `b` only (`+`), in file order. Returns undefined when more than `maxEdits`
 * lines differ (the outputs are not worth aligning).
 */
function diffLines(a: readonly Line[], b: readonly Line[], maxEdits: number): { side: '-' | '+'; line: Line }[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  // v[k + off] = the furthest x on diagonal k; trace[d] = v before step d (only the band -d..d is used)
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x]!.key === b[y]!.key) {
        x++;
        y++;
      }
      next[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
  }
  if (found < 0) return undefined;
  // walk back from (n, m): each step d came from diagonal k+1 (a line of b only) or k-1 (of a only)
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const band = trace[d]!; // v before step d, diagonals -d-1..d+1 at band[k + d + 1]
    const at = (k: number): number => band[k + d + 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    if (down) edits.push({ side: '+', line: b[prevY]!, from: [prevX, prevY], to: [prevX, prevY + 1] });
    else edits.push({ side: '-', line: a[prevX]!, from: [prevX, prevY], to: [prevX + 1, prevY] });
    x = prevX;
    y = prevY;
  }
  edits.reverse();
  // within a hunk (edits with no common line between them), what the real kernel printed first
  const out: { side: '-' | '+'; line: Line }[] = [];
  let i = 0;
  while (i < edits.length) {
    let j = i;
    while (j + 1 < edits.length && edits[j + 1]!.from[0] === edits[j]!.to[0] && edits[j + 1]!.from[1] === edits[j]!.to[1]) j++;
    const hunk = edits.slice(i, j + 1);
    out.push(...hunk.filter((e) => e.side === '-'), ...hunk.filter((e) => e.side === '+'));
    i = j + 1;
  }
  return out;
}

interface Edit {
  readonly side: '-' | '+';
  readonly line: Line;
  /** The edit graph's point before and after the edit: (lines of a, lines of b) consumed. */
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
}

/** Compares a real kernel's output of a peer-test binary with the emulated kernel's. Pure. */
export function comparePeerOutputs(real: string, emulated: string, mode: PeerMode, opts: { readonly bootIno?: boolean } = {}): PeerComparison {
  const toLines = (text: string): Line[] => {
    const lines = splitLines(text);
    const keys = mode === 'probe' && opts.bootIno === true ? rankBootInodes(lines) : lines;
    return lines.map((t, i) => ({ n: i + 1, text: t, key: mode === 'probe' ? maskProbeLine(keys[i]!) : t }));
  };
  let a = toLines(real);
  let b = toLines(emulated);
  let skipped = 0;
  if (mode === 'probe') {
    const cases = new Set<string>();
    for (const l of a) if (isSkippedLine(l.text)) cases.add(probeCase(l.text)!);
    skipped = cases.size;
    const kept = (l: Line): boolean => {
      const c = probeCase(l.text);
      return c === undefined || !cases.has(c);
    };
    a = a.filter(kept);
    b = b.filter(kept);
  }
  const show = (side: '-' | '+', l: Line): string => `${side} ${side === '-' ? 'real' : 'emulated'} ${l.n}: ${l.text}`;
  const edits = diffLines(a, b, MAX_EDITS);
  let differences: string[];
  if (edits !== undefined) {
    differences = edits.map((e) => show(e.side, e.line));
  } else {
    // too different to align: line by line, up to MAX_EDITS
    differences = [];
    for (let i = 0; i < Math.max(a.length, b.length) && differences.length < MAX_EDITS; i++) {
      const l = a[i];
      const e = b[i];
      if (l !== undefined && e !== undefined && l.key === e.key) continue;
      if (l !== undefined) differences.push(show('-', l));
      if (e !== undefined) differences.push(show('+', e));
    }
    differences.push(`more than ${MAX_EDITS} lines differ: the outputs were compared line by line, not aligned`);
  }
  const onlyReal = edits === undefined ? a.length : edits.filter((e) => e.side === '-').length;
  return { agreed: a.length - onlyReal, skipped, differences };
}

function load(path: string): string {
  const size = statSync(path).size;
  if (size > MAX_BYTES) throw new Error(`${path}: ${size} bytes, more than the ${MAX_BYTES} compared; is it a peer test's output?`);
  return readFileSync(path, 'utf8');
}

function main(argv: readonly string[]): number {
  const { label, args: all } = takeLabel(argv);
  const bootIno = all.includes('--boot-ino');
  const args = all.filter((a) => a !== '--boot-ino');
  const [mode, realPath, emulatedPath] = args;
  if (args.length !== 3 || (mode !== 'tap' && mode !== 'probe') || args.some((a) => a.startsWith('--'))) {
    console.error('usage: peer-compare <tap|probe> <real-output> <emulated-output> [--boot-ino] [--label <text>]');
    return 2;
  }
  let c: PeerComparison;
  try {
    c = comparePeerOutputs(load(realPath!), load(emulatedPath!), mode, { bootIno });
  } catch (e) {
    console.error(`peer-compare: ${(e as Error).message}`);
    return 1;
  }
  const tag = label === '' ? '' : `${label}: `;
  for (const d of c.differences) console.log(`DIFFER ${tag}${d}`);
  const left = mode === 'probe' ? `; left out: ${c.skipped} case(s) the real run skipped itself` : '';
  console.log(`${label === '' ? mode : label}: ${c.agreed} line(s) agree, ${c.differences.length} differ${left}`);
  return c.differences.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
