/**
 * Helpers shared by the device-tree tests: fixtures, dtc's recorded answers (test/fixtures/dtc), the
 * real dtc for the live differential, random sources, and tree building.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDtsError, parseDts, type DtsReadFile } from '../../src/kernel/of/dts.js';
import { writeFdt } from '../../src/kernel/of/fdt.js';
import { DeviceTree, cellsBytes, newNode, setProp, type DtNode } from '../../src/kernel/of/tree.js';
import type { LiveTreeEntry, LiveTreeFs } from '../../src/kernel/of/livetree.js';

export const FIX = fileURLToPath(new URL('../../../test/fixtures/dts/', import.meta.url));

/** Every fixture compiled by the tests (top-level .dts files must all be listed). */
export const FIXTURES = [
  'labels-refs.dts',
  'merges-deletes.dts',
  'include/board.dts',
  'expressions.dts',
  'values.dts',
  'memreserve.dts',
  'arm64-board.dts',
  'preprocessed.dts',
];

/** Where the recorded dtc results live (`npm run fixtures:dtc` writes them; README.md there says which dtc). */
export const DTC_FIX = fileURLToPath(new URL('../../../test/fixtures/dtc/', import.meta.url));
const MANIFEST = join(DTC_FIX, 'dtc.json');
/** Every dtc run is `dtc -q <options> -I dts -O dtb -o - <input>`. */
const DTC_BASE = ['-q', '-I', 'dts', '-O', 'dtb', '-o', '-'];

/**
 * Input for dtc: a fixture under test/fixtures/dts, or a generated source compiled as the file `name`
 * (recorded with the source unless keepSource is false).
 */
export type DtcInput = string | { id: string; name: string; source: string; keepSource?: boolean };

/** One recorded dtc run (test/fixtures/dtc/dtc.json). */
export interface DtcRecord {
  id: string;
  /** dtc's options before -I dts -O dtb -o - (always with -q). */
  options: string[];
  /** The fixture under test/fixtures/dts that was compiled, */
  fixture?: string;
  /** or the file name a generated source was compiled as, */
  name?: string;
  /** and that source when it is kept (the live differential reruns it; random sources are regenerated instead). */
  source?: string;
  /**
   * sha256 of the input's bytes (the fixture file, or the source as latin1). Files a fixture includes
   * are not hashed: a change there shows as a blob that no longer matches.
   */
  sha256: string;
  status: number;
  /** The blob, a file in test/fixtures/dtc (status 0). */
  dtb?: string;
  /** What dtc printed on stderr (status != 0). */
  stderr?: string;
}

/** The answer dtc gave: its blob, or its exit status and stderr. */
export type DtcAnswer = { ok: true; dtb: Uint8Array } | { ok: false; status: number; stderr: string };

interface Manifest {
  dtc: string;
  records: DtcRecord[];
}

const RECORD = process.env['DMAHEAP_DTC_RECORD'] === '1';
let manifest: Manifest | null = null;

function loadManifest(): Manifest {
  if (manifest !== null) return manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
  } catch (e) {
    if (!RECORD) assert.fail(`cannot read the recorded dtc results ${MANIFEST} (${(e as Error).message}): run npm run fixtures:dtc (needs dtc)`);
    manifest = { dtc: dtcVersion() ?? 'unknown', records: [] };
  }
  return manifest;
}

/** The recorded dtc runs, in recording order. */
export function dtcRecords(): { dtc: string; records: readonly DtcRecord[] } {
  return loadManifest();
}

/** `dtc --version`'s line, or null when dtc is not on PATH. */
export function dtcVersion(): string | null {
  const r = spawnSync('dtc', ['--version'], { encoding: 'utf8' });
  return r.error !== undefined || r.status !== 0 ? null : r.stdout.trim();
}

/** Why the live differential is skipped (dtc missing), or null when dtc is there. */
export function dtcMissing(): string | null {
  return dtcVersion() === null
    ? 'dtc is not on PATH: the device-tree tests used the dtc results recorded in test/fixtures/dtc; to also compare with dtc itself, install it (apt-get install device-tree-compiler)'
    : null;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const inputBytes = (input: DtcInput): Uint8Array => (typeof input === 'string' ? readFileSync(join(FIX, input)) : Buffer.from(input.source, 'latin1'));
const recordId = (input: DtcInput, options: string[]): string => (typeof input === 'string' ? [input, ...options].join(' ') : input.id);

/** Runs the real dtc now: a fixture under test/fixtures/dts, or a source compiled as the file `name`. */
export function runDtc(input: string | { name: string; source: string }, options: string[]): DtcAnswer {
  let file: string;
  let dir: string | null = null;
  if (typeof input === 'string') file = join(FIX, input);
  else {
    // in a directory of its own under its bare name, so that dtc's messages carry no temporary path
    dir = mkdtempSync(join(tmpdir(), 'dmaheap-dtc-'));
    file = input.name;
    writeFileSync(join(dir, file), input.source, 'latin1');
  }
  try {
    const r = spawnSync('dtc', [DTC_BASE[0]!, ...options, ...DTC_BASE.slice(1), file], { maxBuffer: 64 << 20, ...(dir === null ? {} : { cwd: dir }) });
    if (r.error !== undefined) assert.fail(`dtc could not be run (${r.error.message}): install device-tree-compiler (apt-get install device-tree-compiler)`);
    return r.status === 0 ? { ok: true, dtb: new Uint8Array(r.stdout) } : { ok: false, status: r.status ?? -1, stderr: r.stderr.toString('latin1') };
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

/** Where a record's blob is kept: its id as a file name. */
const dtbName = (id: string): string => id.replace(/[^A-Za-z0-9.,_-]+/g, '_').replace(/^_+|_+$/g, '') + '.dtb';

/** What dtc answers for `dtc -q <options> -I dts -O dtb -o - <input>`, from the recording in test/fixtures/dtc. */
export function dtcAnswer(input: DtcInput, options: string[] = []): DtcAnswer {
  const m = loadManifest();
  const id = recordId(input, options);
  const hash = sha256(inputBytes(input));
  const rec = m.records.find((r) => r.id === id);
  if (RECORD && (rec === undefined || rec.sha256 !== hash)) {
    const a = runDtc(input, options);
    const r: DtcRecord = { id, options, ...(typeof input === 'string' ? { fixture: input } : { name: input.name }), sha256: hash, status: a.ok ? 0 : a.status };
    if (typeof input !== 'string' && input.keepSource !== false) r.source = input.source;
    m.records = m.records.filter((x) => x.id !== id);
    if (a.ok) {
      r.dtb = dtbName(id);
      if (m.records.some((x) => x.dtb === r.dtb)) assert.fail(`two dtc records would share the blob ${r.dtb}`);
      mkdirSync(DTC_FIX, { recursive: true });
      writeFileSync(join(DTC_FIX, r.dtb), a.dtb);
    } else r.stderr = a.stderr;
    m.records.push(r);
    writeFileSync(MANIFEST, JSON.stringify(m, null, 2) + '\n');
    return a;
  }
  if (rec === undefined) assert.fail(`no recorded dtc result for '${id}' in test/fixtures/dtc: record it with npm run fixtures:dtc (needs dtc)`);
  if (rec.sha256 !== hash || rec.options.join(' ') !== options.join(' '))
    assert.fail(`the recorded dtc result for '${id}' was made from another input or other options: record again with npm run fixtures:dtc (needs dtc)`);
  if (rec.status !== 0) return { ok: false, status: rec.status, stderr: rec.stderr ?? '' };
  return { ok: true, dtb: new Uint8Array(readFileSync(join(DTC_FIX, rec.dtb!))) };
}

/** dtc's blob for `input` (recorded); dtc's refusal fails the test with its message. */
export function dtcBlob(input: DtcInput, options: string[] = []): Uint8Array {
  const a = dtcAnswer(input, options);
  if (!a.ok) assert.fail(`dtc ${options.join(' ')} refused ${recordId(input, options)}: ${a.stderr}`);
  return a.dtb;
}

/** /include/ resolution relative to the including file, bytes as latin1 (one char per byte). */
export const readInclude: DtsReadFile = (name, from) => {
  const p = isAbsolute(name) ? name : join(dirname(from), name);
  try {
    return { path: normalize(p), text: readFileSync(p, 'latin1') };
  } catch {
    return null;
  }
};

export function parseFixture(name: string): DeviceTree {
  const file = join(FIX, name);
  const r = parseDts(readFileSync(file, 'latin1'), file, readInclude);
  if ('error' in r) assert.fail(formatDtsError(r.error));
  return r.tree;
}

/** A property value for {@link dtNode}: boolean, string, string list or cells. */
export type PropValue = true | string | string[] | number[];

/** A string list as a property value: NUL-terminated strings. */
export function strs(...s: string[]): Uint8Array {
  return new TextEncoder().encode(s.map((x) => x + '\0').join(''));
}

/** Adds a child node with properties to `parent`. */
export function dtNode(parent: DtNode, name: string, props: Record<string, PropValue>): DtNode {
  const n = newNode(name, parent);
  parent.children.push(n);
  for (const [k, v] of Object.entries(props)) {
    if (v === true) setProp(n, k, new Uint8Array(0));
    else if (typeof v === 'string') setProp(n, k, strs(v));
    else if (v.length > 0 && typeof v[0] === 'string') setProp(n, k, strs(...(v as string[])));
    else setProp(n, k, cellsBytes(v as number[]));
  }
  return n;
}

/**
 * A tree as an in-memory live tree (/sys/firmware/devicetree/base layout), entries in tree order
 * (props, then children).
 */
export function memoryLiveTree(t: DeviceTree, root = '/sys/firmware/devicetree/base'): LiveTreeFs {
  const dirs = new Map<string, LiveTreeEntry[]>();
  const files = new Map<string, Uint8Array>();
  const walk = (n: DtNode, d: string): void => {
    const entries: LiveTreeEntry[] = [];
    for (const p of n.props) {
      entries.push({ name: p.name, isDir: false });
      files.set(`${d}/${p.name}`, p.value);
    }
    for (const c of n.children) {
      entries.push({ name: c.name, isDir: true });
      walk(c, `${d}/${c.name}`);
    }
    dirs.set(d, entries);
  };
  walk(t.root, root);
  return { list: (d) => dirs.get(d) ?? null, read: (f) => files.get(f) ?? null };
}

/** xorshift32: deterministic pseudo-random numbers for the fuzz tests. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** A random, mostly valid DTS using most of the language (for differential testing against dtc). */
/**
 * The differential of one random source: our parser accepts exactly what dtc accepts and writes
 * dtc's blob byte for byte. Returns whether dtc compiled it.
 */
export function sameAsDtc(seed: number, src: string, d: DtcAnswer): boolean {
  const r = parseDts(src, `r${seed}.dts`);
  if (!d.ok) {
    assert.ok('error' in r, `seed ${seed}: dtc fails (${d.stderr.split('\n')[0]}) but the parser accepts:\n${src}`);
    return false;
  }
  if ('error' in r) assert.fail(`seed ${seed}: dtc accepts but: ${formatDtsError(r.error)}\n${src}`);
  assert.ok(Buffer.from(writeFdt(r.tree)).equals(d.dtb), `seed ${seed}: blob differs from dtc's\n${src}`);
  return true;
}

export function randomDts(seed: number): string {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const int = (n: number): number => Math.floor(r() * n);
  const labels: string[] = [];
  const paths: string[] = [];
  let lbl = 0;
  let ph = 100;
  const nodeNames = ['a', 'b', 'cpu', 'memory', 'uart', 'i2c', 'node', 'x_y', 'c,d', 'reserved-memory', 'cma'];
  const propNames = ['reg', 'compatible', 'status', '#address-cells', 'p', 'q', 'linux,x', 'phandle-ref', 'ranges', 'v', 'andle'];
  const expr = (d: number): string => {
    if (d > 2 || r() < 0.4) return pick(['1', '0x10', '077', "'a'", '0xffffffff', '5', '0']);
    if (r() < 0.1) return `(${expr(d + 1)} ? ${expr(d + 1)} : ${expr(d + 1)})`;
    if (r() < 0.1) return `(${pick(['-', '~', '!'])}${expr(d + 1)})`;
    const op = pick(['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '<', '>', '<=', '>=', '==', '!=', '&&', '||']);
    const rhs = op === '/' || op === '%' ? '7' : op === '<<' || op === '>>' ? String(int(40)) : expr(d + 1);
    return `(${expr(d + 1)} ${op} ${rhs})`;
  };
  const ref = (): string | null => (labels.length > 0 && r() < 0.7 ? '&' + pick(labels) : paths.length > 0 ? `&{${pick(paths)}}` : null);
  const value = (): string => {
    const parts: string[] = [];
    for (let i = 1 + int(3); i > 0; i--) {
      const k = int(6);
      if (k === 0) parts.push(`"${pick(['', 'okay', 'a\\tb', 'x\\x41\\101', 'q\\"', '\xe9'])}"`);
      else if (k === 1) {
        const bits = pick([32, 32, 32, 8, 16, 64]);
        const cells: string[] = [];
        for (let j = int(4); j > 0; j--) {
          const rf = bits === 32 && r() < 0.3 ? ref() : null;
          cells.push(rf ?? (bits >= 32 && r() < 0.5 ? expr(0) : pick(['0', '1', '0x12', '255', "'z'", '(-1)'])));
        }
        parts.push((bits === 32 && r() < 0.7 ? '' : `/bits/ ${bits} `) + `<${cells.join(' ')}>`);
      } else if (k === 2) parts.push(`[${Array.from({ length: int(5) }, () => int(256).toString(16).padStart(2, '0')).join(r() < 0.5 ? ' ' : '')}]`);
      else if (k === 3) parts.push(ref() ?? '"s"');
      else if (k === 4) parts.push(`"a", "bc"`);
      else parts.push(`l${lbl++}: <${int(1000)}>`);
    }
    return parts.join(', ');
  };
  const body = (path: string, depth: number): string => {
    let s = '';
    const usedProps = new Set<string>();
    for (let i = int(5); i > 0; i--) {
      const pn = pick(propNames);
      if (usedProps.has(pn)) continue;
      usedProps.add(pn);
      if (r() < 0.1) {
        s += `/delete-property/ ${pn};\n`;
        continue;
      }
      if (r() < 0.1) s += `pl${lbl++}: `;
      s += r() < 0.2 ? `${pn};\n` : `${pn} = ${value()};\n`;
    }
    if (r() < 0.05) s += `phandle = <${ph++}>;\n`;
    const usedNodes = new Set<string>();
    for (let i = depth > 3 ? 0 : int(4); i > 0; i--) {
      const nm = pick(nodeNames) + (r() < 0.5 ? '@' + int(4).toString(16) : '');
      if (usedNodes.has(nm)) continue;
      usedNodes.add(nm);
      const cp = (path === '/' ? '' : path) + '/' + nm;
      if (r() < 0.08) {
        s += `/delete-node/ ${nm};\n`;
        continue;
      }
      let pre = r() < 0.1 ? '/omit-if-no-ref/ ' : '';
      if (r() < 0.4) {
        const l = `L${lbl++}`;
        pre += `${l}: `;
        labels.push(l);
      }
      paths.push(cp);
      s += `${pre}${nm} {\n${body(cp, depth + 1)}};\n`;
    }
    return s;
  };
  let out = '/dts-v1/;\n';
  for (let i = int(3); i > 0; i--) out += `${r() < 0.3 ? `m${lbl++}: ` : ''}/memreserve/ ${expr(0)} 0x${int(1 << 20).toString(16)};\n`;
  out += `/ {\n${body('/', 0)}};\n`;
  for (let i = int(5); i > 0; i--) {
    const k = int(5);
    if (k === 0) out += `/ {\n${body('/', 0)}};\n`;
    else if (k === 1 && labels.length > 0) out += `&${pick(labels)} {\n${body('/x', 2)}};\n`;
    else if (k === 2 && paths.length > 0) out += `&{${pick(paths)}} {\n${body('/x', 2)}};\n`;
    else if (k === 3 && labels.length > 0 && r() < 0.5) out += `/delete-node/ &${pick(labels)};\n`;
    else if (k === 4 && labels.length > 0) out += `/omit-if-no-ref/ &${pick(labels)};\n`;
  }
  return out;
}

/** The random sources whose dtc answers are recorded (the live differential runs more: LIVE_RANDOM_SEEDS). */
export const RANDOM_SEEDS: readonly number[] = Array.from({ length: 80 }, (_, i) => i + 1);

/** A 64-bit number as two 32-bit cells. */
export function u64Cells(v: number): [number, number] {
  return [Math.floor(v / 2 ** 32), v % 2 ** 32];
}

/** What {@link scaleBoard} builds. */
export interface ScaleBoard {
  /** /memory reg tuples (base, size), all in one node. */
  readonly banks: readonly (readonly [number, number])[];
  /** /reserved-memory children with a reg (base, size). */
  readonly staticRegions?: readonly (readonly [number, number])[];
  /** /reserved-memory children with a size only (and a 2 MiB alignment). */
  readonly dynamicRegions?: readonly number[];
}

/** A board with #address-cells = #size-cells = 2, built directly as a tree (no DTS text): for the boot-scale tests. */
export function scaleBoard(b: ScaleBoard): DeviceTree {
  const root = newNode('', null);
  setProp(root, '#address-cells', cellsBytes([2]));
  setProp(root, '#size-cells', cellsBytes([2]));
  setProp(root, 'compatible', strs('dmaheap,scale-test'));
  const mem = dtNode(root, `memory@${(b.banks[0]?.[0] ?? 0).toString(16)}`, { device_type: 'memory' });
  setProp(mem, 'reg', cellsBytes(b.banks.flatMap(([base, size]) => [...u64Cells(base), ...u64Cells(size)])));
  const stat = b.staticRegions ?? [];
  const dyn = b.dynamicRegions ?? [];
  if (stat.length + dyn.length > 0) {
    const rm = dtNode(root, 'reserved-memory', { '#address-cells': [2], '#size-cells': [2], ranges: true });
    stat.forEach(([base, size]) => setProp(dtNode(rm, `r@${base.toString(16)}`, {}), 'reg', cellsBytes([...u64Cells(base), ...u64Cells(size)])));
    dyn.forEach((size, i) => {
      const n = dtNode(rm, `d${i}`, {});
      setProp(n, 'size', cellsBytes(u64Cells(size)));
      setProp(n, 'alignment', cellsBytes(u64Cells(0x200000)));
    });
  }
  return new DeviceTree(root);
}
