/**
 * A parser for dtc's device tree source language (DTS version 1), producing the same tree that
 * `dtc -I dts` builds: labels, `&label { }` / `&{/path} { }` merges, `/delete-node/`,
 * `/delete-property/`, `/omit-if-no-ref/`, `/include/`, `/incbin/`, `/memreserve/`, cell lists with
 * C integer expressions and `/bits/`, strings, byte strings, phandle and path references.
 *
 * It follows dtc 1.6's semantics where they show in the output: deleted properties and nodes stay
 * in their lists as tombstones until the end, so re-adding one restores its original position
 * (dtc's merge_nodes()); phandles are allocated only to referenced nodes, in the order dtc's
 * fixup_phandle_references() meets the references (nodes depth first, then properties, then the
 * references inside a value), as the lowest unused value counting up from 1; a `name` property
 * equal to the node's base name is dropped (check_name_properties()); boot_cpuid_phys is the `reg`
 * of the first child of /cpus (guess_boot_cpuid()). dtc's error-level checks are errors here too
 * (duplicate node/property names in one block, duplicate labels, bad references, bad phandles).
 *
 * The C preprocessor is not emulated: a `#include`/`#define`/`#if...` line is an error that says to
 * run cpp first; cpp's line markers (`# 12 "board.dts"`) are honoured for error positions.
 * Overlays (`/plugin/`) are rejected.
 *
 * Errors are data: parseDts() returns `{ error: DtsError }` with a file, line and column; it never
 * throws on bad input. No file system: `/include/` and `/incbin/` go through a caller's callback.
 *
 * @kernel scripts/dtc/dtc-lexer.l, dtc-parser.y, livetree.c, checks.c, data.c
 */
import { strBytes } from '../bytes.js';
import { DeviceTree, newNode, type DtNode, type MemReserve, type SourceLoc } from './tree.js';

/** A DTS error: where, and what was expected. */
/** Single-character escapes of dtc strings and character literals (dtc's get_escape_char). */
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 };

export interface DtsError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/**
 * Reads an included file (`/include/ "path"`, `/incbin/("path")`) named in `fromFile`: returns the
 * resolved path (used in error messages and to detect include cycles) and the text, one character
 * per byte (latin1) so that strings and `/incbin/` keep their exact bytes; null when not found; or
 * `{ error }` when the file was found but refused (not a regular file, over a size limit).
 */
export type DtsReadFile = (path: string, fromFile: string) => { path: string; text: string } | { error: string } | null;

export type DtsResult = { tree: DeviceTree } | { error: DtsError };

/** `file:line:col: message`, as compilers print it. */
export function formatDtsError(e: DtsError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}`;
}

/** Include nesting limit (a file including itself is reported as a cycle before this). */
export const DTS_MAX_INCLUDE_DEPTH = 32;
/** Node nesting limit (deeper input is refused rather than risking the stack). */
export const DTS_MAX_NODE_DEPTH = 256;
const MAX_EXPR_DEPTH = 256;
const MAX_INCLUDES = 4096;

/**
 * Parses DTS source text. `file` names it in errors and is passed to `readFile` as the including
 * file. Without `readFile`, `/include/` and `/incbin/` are errors.
 */
export function parseDts(text: string, file: string, readFile?: DtsReadFile): DtsResult {
  try {
    return { tree: new Parser(text, file, readFile ?? null).parse() };
  } catch (e) {
    if (e instanceof Fail) return { error: e.error };
    // Not expected: the parser bounds its recursion. Still an error, never a crash.
    const message = e instanceof RangeError ? 'input nested too deeply' : `internal parser error: ${String(e)}`;
    return { error: { file, line: 1, column: 1, message } };
  }
}

class Fail {
  constructor(readonly error: DtsError) {}
}

function fail(loc: SourceLoc, message: string): never {
  throw new Fail({ file: loc.file, line: loc.line, column: loc.column, message });
}

// ---------------------------------------------------------------------------------------------
// The tree while parsing: dtc's struct node / struct property, with tombstones and markers.

interface Label {
  readonly name: string;
  deleted: boolean;
  readonly loc: SourceLoc;
}

/** A place in a value filled in later (phandle, path) or a label inside a value. */
interface Marker {
  readonly kind: 'phandle' | 'path' | 'label';
  offset: number;
  readonly ref: string;
  readonly loc: SourceLoc;
}

interface Value {
  bytes: number[];
  markers: Marker[];
}

interface PProp {
  readonly name: string;
  value: Value;
  readonly labels: Label[];
  deleted: boolean;
  loc: SourceLoc;
}

interface PNode {
  readonly name: string;
  readonly props: PProp[];
  readonly children: PNode[];
  readonly labels: Label[];
  deleted: boolean;
  omit: boolean;
  referenced: boolean;
  phandle: number;
  parent: PNode | null;
  readonly loc: SourceLoc;
}

function pnode(name: string, loc: SourceLoc): PNode {
  return { name, props: [], children: [], labels: [], deleted: false, omit: false, referenced: false, phandle: 0, parent: null, loc };
}

function addLabel(labels: Label[], name: string, loc: SourceLoc): void {
  const l = labels.find((x) => x.name === name);
  if (l !== undefined) l.deleted = false;
  else labels.push({ name, deleted: false, loc });
}

function liveChildren(n: PNode): PNode[] {
  return n.children.filter((c) => !c.deleted);
}

function liveProps(n: PNode): PProp[] {
  return n.props.filter((p) => !p.deleted);
}

function getProp(n: PNode, name: string): PProp | null {
  return n.props.find((p) => !p.deleted && p.name === name) ?? null;
}

function deleteProp(p: PProp): void {
  p.deleted = true;
  for (const l of p.labels) l.deleted = true;
}

function deleteNode(n: PNode): void {
  n.deleted = true;
  for (const c of n.children) if (!c.deleted) deleteNode(c);
  for (const p of n.props) if (!p.deleted) deleteProp(p);
  for (const l of n.labels) l.deleted = true;
}

/** The first entry of each name, deleted ones included (dtc's for_each_*_withdel lookups). */
function firstByName<T extends { readonly name: string }>(list: readonly T[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const x of list) if (!m.has(x.name)) m.set(x.name, x);
  return m;
}

/** dtc's merge_nodes(): `add` (a freshly parsed block) into `old`. */
function mergeNodes(old: PNode, add: PNode): void {
  old.deleted = false;
  for (const l of add.labels) addLabel(old.labels, l.name, l.loc);
  const props = firstByName(old.props);
  for (const np of add.props) {
    const op = props.get(np.name);
    if (np.deleted) {
      if (op !== undefined) deleteProp(op);
      continue;
    }
    if (op !== undefined) {
      for (const l of np.labels) addLabel(op.labels, l.name, l.loc);
      op.value = np.value;
      op.deleted = false;
      op.loc = np.loc;
    } else {
      old.props.push(np);
      props.set(np.name, np);
    }
  }
  const children = firstByName(old.children);
  for (const nc of add.children) {
    const oc = children.get(nc.name);
    if (nc.deleted) {
      if (oc !== undefined) deleteNode(oc);
      continue;
    }
    if (oc !== undefined) mergeNodes(oc, nc);
    else {
      nc.parent = old;
      old.children.push(nc);
      children.set(nc.name, nc);
    }
  }
}

/** get_node_by_path(): exact names, live nodes. */
function nodeByPath(root: PNode, path: string): PNode | null {
  if (root.deleted) return null;
  let n = root;
  for (const part of path.split('/')) {
    if (part === '') continue;
    const next = n.children.find((c) => !c.deleted && c.name === part);
    if (next === undefined) return null;
    n = next;
  }
  return n;
}

/** get_node_by_label(): the first live node (depth first) carrying a live label. */
function nodeByLabel(root: PNode, label: string): PNode | null {
  const stack: PNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.labels.some((l) => !l.deleted && l.name === label)) return n;
    for (let i = n.children.length - 1; i >= 0; i--) if (!n.children[i]!.deleted) stack.push(n.children[i]!);
  }
  return null;
}

function nodeByRef(root: PNode, ref: string): PNode | null {
  return ref.startsWith('/') ? nodeByPath(root, ref) : nodeByLabel(root, ref);
}

function fullPath(n: PNode): string {
  const parts: string[] = [];
  for (let c: PNode | null = n; c !== null && c.parent !== null; c = c.parent) parts.unshift(c.name);
  return '/' + parts.join('/');
}

/** Live nodes, depth first, parents before children (check_nodes_props() order). */
function* liveNodes(root: PNode): Generator<PNode> {
  if (root.deleted) return;
  const stack: PNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.deleted) continue; // deleted by the visitor (omit-if-no-ref) after being stacked
    yield n;
    for (let i = n.children.length - 1; i >= 0; i--) if (!n.children[i]!.deleted) stack.push(n.children[i]!);
  }
}

function baseNameLen(name: string): number {
  const at = name.indexOf('@');
  return at < 0 ? name.length : at;
}

function cellAt(b: readonly number[], off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function putCell(b: number[], off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

function pushText(out: number[], s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0xff) out.push(c);
    else {
      for (const b of strBytes(s.slice(i))) out.push(b);
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer (dtc-lexer.l). The parser says which state it is in: 'name' is dtc's PROPNODENAME start
// condition (after '{' and ';', where `#address-cells` and `cpu@0` are names), 'value' is V1
// (numbers), 'bytes' is BYTESTRING.

type Mode = 'name' | 'value' | 'bytes';

type TokKind = 'eof' | 'kw' | 'label' | 'ref' | 'name' | 'int' | 'char' | 'str' | 'byte' | 'op';

interface Tok {
  readonly kind: TokKind;
  /** Keyword, label or node name, reference target, operator, or the raw literal text. */
  readonly text: string;
  readonly num: bigint;
  readonly bytes: number[];
  readonly start: number;
  readonly end: number;
  readonly src: Source;
}

interface LineMark {
  /** 0-based physical line the marker describes (the line after the marker). */
  readonly phys: number;
  readonly file: string;
  readonly line: number;
}

interface Source {
  /** The path used to resolve includes relative to this file and to detect cycles. */
  readonly path: string;
  /** The name shown in errors (a cpp line marker can change it). */
  readonly name: string;
  readonly text: string;
  pos: number;
  readonly lineStarts: number[];
  readonly marks: LineMark[];
}

const KEYWORDS = ['/dts-v1/', '/plugin/', '/memreserve/', '/bits/', '/delete-property/', '/delete-node/', '/omit-if-no-ref/', '/incbin/'];
const OPS2 = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||'];
const DIRECTIVES = 'include_next|include|import|define|undef|ifdef|ifndef|if|elif|else|endif|error|warning|pragma|line';
const RE_LABEL = /[A-Za-z_][A-Za-z0-9_]*:/y;
const RE_NAME = /\\?[a-zA-Z0-9,._+*#?@-]+/y;
const RE_INT = /(0[xX][0-9a-fA-F]+|[0-9]+)(ULL|UL|LL|U|L)?/y;
const RE_LABELREF = /&[A-Za-z_][A-Za-z0-9_]*/y;
const RE_PATHREF = /&\{([a-zA-Z0-9,._+*#?@/-]*)\}/y;
const RE_BYTE = /[0-9a-fA-F]{2}/y;
const RE_INCLUDE = /\/include\/[ \t\n\v\f\r]*"((?:[^\\"]|\\.)*)"/y;
const RE_LINEMARK = /#(?:line)?[ \t]+([0-9]+)[ \t]+"((?:[^\\"\n]|\\.)*)"(?:[ \t]+[0-9]+)*/y;
const RE_DIRECTIVE = new RegExp(`#[ \\t]*(${DIRECTIVES})(?![a-zA-Z0-9,._+*#?@-])`, 'y');
const MASK64 = (1n << 64n) - 1n;

function sticky(re: RegExp, text: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(text);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function lineStartsOf(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

function describe(t: Tok): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'kw':
      return `'${t.text}'`;
    case 'label':
      return `label '${t.text}:'`;
    case 'ref':
      return t.text.startsWith('/') ? `reference '&{${t.text}}'` : `reference '&${t.text}'`;
    case 'name':
      return `name '${t.text}'`;
    case 'int':
      return `number '${t.text}'`;
    case 'char':
      return `character literal ${t.text}`;
    case 'str':
      return t.text.length > 24 ? `string ${t.text.slice(0, 20)}..."` : `string ${t.text}`;
    case 'byte':
      return `byte '${t.text}'`;
    case 'op': {
      const c = t.text.charCodeAt(0);
      return c < 0x20 || c >= 0x7f ? `character 0x${c.toString(16).padStart(2, '0')}` : `'${t.text}'`;
    }
  }
}

// ---------------------------------------------------------------------------------------------

class Parser {
  private readonly stack: Source[];
  private readonly mainName: string;
  private includes = 0;
  private cache: { src: Source; pos: number; mode: Mode; tok: Tok } | null = null;
  private root: PNode | null = null;
  private exprDepth = 0;

  constructor(
    text: string,
    file: string,
    private readonly readFile: DtsReadFile | null,
  ) {
    this.mainName = file;
    this.stack = [{ path: file, name: file, text, pos: 0, lineStarts: lineStartsOf(text), marks: [] }];
  }

  private get cur(): Source {
    return this.stack[this.stack.length - 1]!;
  }

  // --- positions -----------------------------------------------------------------------------

  private locAt(s: Source, pos: number): SourceLoc {
    const ls = s.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    let file = s.name;
    let line = lo + 1;
    const ms = s.marks;
    let a = 0;
    let b = ms.length - 1;
    let m: LineMark | null = null;
    while (a <= b) {
      const mid = (a + b) >> 1;
      if (ms[mid]!.phys <= lo) {
        m = ms[mid]!;
        a = mid + 1;
      } else b = mid - 1;
    }
    if (m !== null) {
      file = m.file;
      line = Math.max(1, m.line + (lo - m.phys));
    }
    return { file, line, column: pos - ls[lo]! + 1 };
  }

  private loc(t: Tok): SourceLoc {
    return this.locAt(t.src, t.start);
  }

  private failAt(t: Tok, message: string): never {
    fail(this.loc(t), message);
  }

  // --- trivia: whitespace, comments, /include/, cpp line markers and directives ---------------

  private skipTrivia(): void {
    for (;;) {
      const s = this.cur;
      const text = s.text;
      let p = s.pos;
      while (p < text.length && isSpace(text.charCodeAt(p))) p++;
      s.pos = p;
      if (p >= text.length) {
        if (this.stack.length > 1) {
          this.stack.pop();
          continue;
        }
        return;
      }
      const c = text.charCodeAt(p);
      if (c === 0x2f) {
        if (text.startsWith('/*', p)) {
          const e = text.indexOf('*/', p + 2);
          if (e < 0) fail(this.locAt(s, p), "unterminated comment: expected '*/' to close the '/*' here");
          s.pos = e + 2;
          continue;
        }
        if (text.startsWith('//', p)) {
          const e = text.indexOf('\n', p);
          s.pos = e < 0 ? text.length : e + 1;
          continue;
        }
        if (text.startsWith('/include/', p)) {
          this.include(s, p);
          continue;
        }
      } else if (c === 0x23 && this.atLineStart(text, p)) {
        const lm = sticky(RE_LINEMARK, text, p);
        if (lm !== null) {
          const phys = this.locLine(s, p) + 1;
          const line = Number(lm[1]!);
          if (line <= 0x7fffffff) s.marks.push({ phys, file: unescapeName(lm[2]!), line });
          s.pos = p + lm[0].length;
          continue;
        }
        const d = sticky(RE_DIRECTIVE, text, p);
        if (d !== null) {
          const main = this.mainName;
          fail(
            this.locAt(s, p),
            `C preprocessor directive '#${d[1]!}' is not supported; run \`cpp -nostdinc -undef -x assembler-with-cpp -I include ${main}\` first (as the kernel's dtc build does) and pass the output`,
          );
        }
      }
      return;
    }
  }

  private atLineStart(text: string, p: number): boolean {
    let i = p - 1;
    while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
    return i < 0 || text[i] === '\n';
  }

  private locLine(s: Source, pos: number): number {
    const ls = s.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private include(s: Source, p: number): void {
    const at = this.locAt(s, p);
    const m = sticky(RE_INCLUDE, s.text, p);
    if (m === null) fail(at, 'expected a quoted file name after /include/');
    const name = m[1]!;
    if (this.readFile === null) fail(at, `cannot include "${name}": no file reader was given`);
    if (this.stack.length >= DTS_MAX_INCLUDE_DEPTH + 1) fail(at, `includes nested too deeply (more than ${DTS_MAX_INCLUDE_DEPTH} levels)`);
    if (++this.includes > MAX_INCLUDES) fail(at, `too many included files (more than ${MAX_INCLUDES})`);
    const r = this.readFile(name, s.path);
    if (r === null) fail(at, `cannot find include file "${name}"`);
    if ('error' in r) fail(at, `cannot include "${name}": ${r.error}`);
    const i = this.stack.findIndex((x) => x.path === r.path);
    if (i >= 0)
      fail(
        at,
        `include cycle: ${this.stack
          .slice(i)
          .map((x) => x.path)
          .concat(r.path)
          .join(' -> ')}`,
      );
    s.pos = p + m[0].length;
    this.stack.push({ path: r.path, name: r.path, text: r.text, pos: 0, lineStarts: lineStartsOf(r.text), marks: [] });
  }

  // --- tokens --------------------------------------------------------------------------------

  private peek(mode: Mode): Tok {
    this.skipTrivia();
    const s = this.cur;
    const c = this.cache;
    if (c !== null && c.src === s && c.pos === s.pos && c.mode === mode) return c.tok;
    const tok = this.lex(s, mode);
    this.cache = { src: s, pos: s.pos, mode, tok };
    return tok;
  }

  private next(mode: Mode): Tok {
    const t = this.peek(mode);
    t.src.pos = t.end;
    this.cache = null;
    return t;
  }

  private tok(kind: TokKind, s: Source, start: number, end: number, text: string, num = 0n, bytes: number[] = []): Tok {
    return { kind, text, num, bytes, start, end, src: s };
  }

  private lex(s: Source, mode: Mode): Tok {
    const text = s.text;
    const p = s.pos;
    if (p >= text.length) return this.tok('eof', s, p, p, '');
    const c = text[p]!;
    let m: RegExpExecArray | null;
    if (mode === 'bytes') {
      if ((m = sticky(RE_LABEL, text, p)) !== null) return this.tok('label', s, p, p + m[0].length, m[0].slice(0, -1));
      if ((m = sticky(RE_BYTE, text, p)) !== null) return this.tok('byte', s, p, p + 2, m[0], BigInt('0x' + m[0]));
      if (c === ']') return this.tok('op', s, p, p + 1, ']');
      const t = this.lex(s, 'value');
      this.failAt(t, `expected two hex digits or ']' in a byte string, found ${describe(t)}`);
    }
    if (c === '/') for (const k of KEYWORDS) if (text.startsWith(k, p)) return this.tok('kw', s, p, p + k.length, k);
    if (c === '"') return this.lexString(s, p);
    if (c === "'") return this.lexChar(s, p);
    if ((m = sticky(RE_LABEL, text, p)) !== null) return this.tok('label', s, p, p + m[0].length, m[0].slice(0, -1));
    if (c === '&') {
      if (text[p + 1] === '{') {
        if ((m = sticky(RE_PATHREF, text, p)) === null) fail(this.locAt(s, p), "expected a node path and '}' after '&{'");
        if (m[1] === '') fail(this.locAt(s, p), "empty path reference '&{}'");
        return this.tok('ref', s, p, p + m[0].length, m[1]!);
      }
      if ((m = sticky(RE_LABELREF, text, p)) !== null) return this.tok('ref', s, p, p + m[0].length, m[0].slice(1));
    }
    if (mode === 'name') {
      if ((m = sticky(RE_NAME, text, p)) !== null) return this.tok('name', s, p, p + m[0].length, m[0].startsWith('\\') ? m[0].slice(1) : m[0]);
    } else if ((m = sticky(RE_INT, text, p)) !== null) {
      return this.tok('int', s, p, p + m[0].length, m[0], this.intValue(m[1]!, m[0], this.locAt(s, p)));
    }
    for (const o of OPS2) if (text.startsWith(o, p)) return this.tok('op', s, p, p + 2, o);
    const cp = text.codePointAt(p)!;
    const ch = String.fromCodePoint(cp);
    return this.tok('op', s, p, p + ch.length, ch);
  }

  /** strtoull(s, &e, 0) with dtc's checks. */
  private intValue(digits: string, raw: string, loc: SourceLoc): bigint {
    let v: bigint;
    if (/^0[xX]/.test(digits)) v = BigInt(digits);
    else if (digits.length > 1 && digits.startsWith('0')) {
      if (!/^[0-7]+$/.test(digits)) fail(loc, `bad integer literal '${raw}' (a leading 0 means octal)`);
      v = BigInt('0o' + digits.slice(1));
    } else v = BigInt(digits);
    if (v > MASK64) fail(loc, `integer literal '${raw}' out of range (more than 64 bits)`);
    return v;
  }

  private lexString(s: Source, p: number): Tok {
    const text = s.text;
    let i = p + 1;
    for (;;) {
      if (i >= text.length) fail(this.locAt(s, p), 'unterminated string: expected a closing \'"\'');
      const ch = text[i]!;
      if (ch === '"') break;
      if (ch === '\\') {
        if (i + 1 >= text.length || text[i + 1] === '\n') fail(this.locAt(s, i), "a '\\' at the end of a line is not allowed in a string");
        i += 2;
      } else i++;
    }
    const bytes = this.unescape(text.slice(p + 1, i), s, p + 1);
    return this.tok('str', s, p, i + 1, text.slice(p, i + 1), 0n, bytes);
  }

  private lexChar(s: Source, p: number): Tok {
    const text = s.text;
    let i = p + 1;
    for (;;) {
      if (i >= text.length) fail(this.locAt(s, p), "unterminated character literal: expected a closing \"'\"");
      const ch = text[i]!;
      if (ch === "'") break;
      i += ch === '\\' ? 2 : 1;
    }
    const bytes = this.unescape(text.slice(p + 1, i), s, p + 1);
    if (bytes.length === 0) fail(this.locAt(s, p), 'empty character literal');
    if (bytes.length > 1) fail(this.locAt(s, p), `character literal has ${bytes.length} characters instead of 1`);
    return this.tok('char', s, p, i + 1, text.slice(p, i + 1), BigInt(bytes[0]!));
  }

  /** data_copy_escape_string() / get_escape_char(), without the trailing NUL. */
  private unescape(raw: string, s: Source, base: number): number[] {
    const out: number[] = [];
    let i = 0;
    while (i < raw.length) {
      const bs = raw.indexOf('\\', i);
      if (bs < 0) {
        pushText(out, raw.slice(i));
        break;
      }
      pushText(out, raw.slice(i, bs));
      const c = raw[bs + 1] ?? '';
      i = bs + 2;
      const simple = SIMPLE_ESCAPES[c];
      if (simple !== undefined) {
        out.push(simple);
        continue;
      }
      switch (c) {
        case 'x': {
          const m = /^[0-9a-fA-F]{1,2}/.exec(raw.slice(i, i + 2));
          if (m === null) fail(this.locAt(s, base + bs), '\\x used with no following hex digits');
          out.push(parseInt(m[0], 16));
          i += m[0].length;
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            const m = /^[0-7]{1,3}/.exec(raw.slice(bs + 1, bs + 4))!;
            out.push(parseInt(m[0], 8) & 0xff);
            i = bs + 1 + m[0].length;
          } else pushText(out, c);
      }
    }
    return out;
  }

  // --- helpers for the grammar ---------------------------------------------------------------

  private isOp(t: Tok, op: string): boolean {
    return t.kind === 'op' && t.text === op;
  }

  private isKw(t: Tok, kw: string): boolean {
    return t.kind === 'kw' && t.text === kw;
  }

  private expectOp(op: string, mode: Mode, what: string): Tok {
    const t = this.next(mode);
    if (!this.isOp(t, op)) this.failAt(t, `expected '${op}' ${what}, found ${describe(t)}`);
    return t;
  }

  // --- grammar (dtc-parser.y) ----------------------------------------------------------------

  parse(): DeviceTree {
    const t0 = this.next('value');
    if (!this.isKw(t0, '/dts-v1/'))
      this.failAt(t0, `expected '/dts-v1/;' at the start of the file (only version 1 device tree source is supported), found ${describe(t0)}`);
    this.expectOp(';', 'value', "after '/dts-v1/'");
    for (;;) {
      const t = this.peek('name');
      if (this.isKw(t, '/dts-v1/')) {
        this.next('name');
        this.expectOp(';', 'value', "after '/dts-v1/'");
      } else if (this.isKw(t, '/plugin/')) {
        this.failAt(t, "device tree overlays ('/plugin/') are not supported; apply the overlay to its base tree first (for example with fdtoverlay) and pass the result");
      } else break;
    }

    const memreserve: { address: bigint; size: bigint }[] = [];
    for (;;) {
      const labels = this.labels('name');
      const t = this.peek('name');
      if (this.isKw(t, '/memreserve/')) {
        this.next('name');
        const address = this.intPrim('an address after /memreserve/');
        const size = this.intPrim('a size after the /memreserve/ address');
        this.expectOp(';', 'value', 'after a /memreserve/ entry');
        memreserve.push({ address, size });
        continue;
      }
      if (labels.length > 0) this.failAt(t, `expected '/memreserve/' after a label at the top level, found ${describe(t)}`);
      break;
    }

    const t = this.next('name');
    if (!this.isOp(t, '/')) {
      if (t.kind === 'ref') this.failAt(t, `label or path '${t.text}' not found: a '&reference { ... };' block must follow the root node '/ { ... };'`);
      this.failAt(t, `expected the root node '/ { ... };', found ${describe(t)}`);
    }
    const root = this.nodeDef('', this.loc(t), 1);
    this.root = root;

    for (;;) {
      const first = this.peek('name');
      if (first.kind === 'eof') break;
      const labels = this.labels('name');
      const u = this.next('name');
      if (this.isOp(u, '/') && labels.length === 0) {
        mergeNodes(root, this.nodeDef('', this.loc(u), 1));
      } else if (u.kind === 'ref') {
        const target = nodeByRef(root, u.text);
        if (target === null) this.failAt(u, `label or path '${u.text}' not found`);
        const add = this.nodeDef(target.name, this.loc(u), 1);
        for (const l of labels) addLabel(target.labels, l.text, this.loc(l));
        mergeNodes(target, add);
      } else if ((this.isKw(u, '/delete-node/') || this.isKw(u, '/omit-if-no-ref/')) && labels.length === 0) {
        const r = this.next('name');
        if (r.kind !== 'ref') this.failAt(r, `expected a reference ('&label' or '&{/path}') after '${u.text}' at the top level, found ${describe(r)}`);
        this.expectOp(';', 'value', `after '${u.text} &${r.text}'`);
        const target = nodeByRef(root, r.text);
        if (target === null) this.failAt(r, `label or path '${r.text}' not found`);
        if (u.text === '/delete-node/') deleteNode(target);
        else target.omit = true;
      } else if (this.isOp(u, '/')) {
        this.failAt(labels[0]!, "a label cannot be put on '/' at the top level; put it on a node, or use '&label { ... };'");
      } else if (this.isKw(u, '/memreserve/')) {
        this.failAt(u, "'/memreserve/' entries must come before the root node");
      } else {
        this.failAt(
          u,
          `expected '/ { ... };', '&label { ... };', '/delete-node/ &label;', '/omit-if-no-ref/ &label;' or end of file, found ${describe(u)}`,
        );
      }
    }

    const bootCpuid = guessBootCpuid(root);
    this.checks(root);
    const out = toDtNode(root, null);
    const mr: MemReserve[] = memreserve.map((r) => ({ address: Number(r.address), size: Number(r.size) }));
    return new DeviceTree(out, mr, bootCpuid);
  }

  private labels(mode: Mode): Tok[] {
    const out: Tok[] = [];
    while (this.peek(mode).kind === 'label') out.push(this.next(mode));
    return out;
  }

  /** nodedef: '{' proplist subnodes '}' ';' */
  private nodeDef(name: string, loc: SourceLoc, depth: number): PNode {
    if (depth > DTS_MAX_NODE_DEPTH) fail(loc, `nodes nested too deeply (more than ${DTS_MAX_NODE_DEPTH} levels)`);
    const open = this.next('name');
    if (!this.isOp(open, '{')) this.failAt(open, `expected '{' to open node '${name === '' ? '/' : name}', found ${describe(open)}`);
    const node = pnode(name, loc);
    let sawChild = false;
    for (;;) {
      const first = this.peek('name');
      if (this.isOp(first, '}')) break;
      const labels: Tok[] = [];
      let omit: Tok | null = null;
      for (;;) {
        const t = this.peek('name');
        if (t.kind === 'label') labels.push(this.next('name'));
        else if (this.isKw(t, '/omit-if-no-ref/')) omit = this.next('name');
        else break;
      }
      const t = this.next('name');
      if (this.isKw(t, '/delete-property/') || this.isKw(t, '/delete-node/')) {
        if (omit !== null && t.text === '/delete-property/') this.failAt(omit, "'/omit-if-no-ref/' applies to nodes, not to '/delete-property/'");
        const n = this.next('name');
        if (n.kind !== 'name') {
          if (n.kind === 'ref' && t.text === '/delete-node/')
            this.failAt(n, "inside a node, '/delete-node/' takes a child node name; use '/delete-node/ &label;' at the top level to delete by reference");
          this.failAt(n, `expected a ${t.text === '/delete-node/' ? 'node' : 'property'} name after '${t.text}', found ${describe(n)}`);
        }
        this.expectOp(';', 'value', `after '${t.text} ${n.text}'`);
        if (t.text === '/delete-property/') {
          if (sawChild) this.failAt(first, 'properties must precede subnodes');
          node.props.push({ name: n.text, value: { bytes: [], markers: [] }, labels: [], deleted: true, loc: this.loc(t) });
        } else {
          const dead = pnode(n.text, this.loc(t));
          dead.deleted = true;
          dead.parent = node;
          node.children.push(dead);
          sawChild = true;
        }
        continue;
      }
      if (t.kind !== 'name') {
        if (t.kind === 'eof') this.failAt(t, `unexpected end of file: expected '}' to close node '${name === '' ? '/' : name}' opened at ${fmtLoc(loc)}`);
        this.failAt(t, `expected a property or child node name, a label, '/delete-node/', '/delete-property/' or '}', found ${describe(t)}`);
      }
      const after = this.peek('name');
      if (this.isOp(after, '{')) {
        const child = this.nodeDef(t.text, this.loc(t), depth + 1);
        for (const l of labels) addLabel(child.labels, l.text, this.loc(l));
        if (omit !== null) child.omit = true;
        child.parent = node;
        node.children.push(child);
        sawChild = true;
        continue;
      }
      if (!this.isOp(after, '=') && !this.isOp(after, ';'))
        this.failAt(after, `expected '=' or ';' after property name '${t.text}' (or '{' to open a node), found ${describe(after)}`);
      if (omit !== null) this.failAt(omit, "'/omit-if-no-ref/' applies to nodes, not to properties");
      if (sawChild) this.failAt(first, 'properties must precede subnodes');
      this.next('name');
      const value: Value = this.isOp(after, '=') ? this.propData() : { bytes: [], markers: [] };
      const prop: PProp = { name: t.text, value, labels: [], deleted: false, loc: this.loc(t) };
      for (const l of labels) addLabel(prop.labels, l.text, this.loc(l));
      node.props.push(prop);
    }
    this.next('name');
    this.expectOp(';', 'name', `after '}' closing node '${name === '' ? '/' : name}'`);
    return node;
  }

  /** propdata, through the closing ';'. */
  private propData(): Value {
    const v: Value = { bytes: [], markers: [] };
    for (;;) {
      this.valueLabels(v, 'value');
      const t = this.next('value');
      if (t.kind === 'str') {
        for (const b of t.bytes) v.bytes.push(b);
        v.bytes.push(0);
      } else if (this.isOp(t, '<') || this.isKw(t, '/bits/')) {
        this.cells(v, t);
      } else if (this.isOp(t, '[')) {
        this.byteString(v, t);
      } else if (t.kind === 'ref') {
        v.markers.push({ kind: 'path', offset: v.bytes.length, ref: t.text, loc: this.loc(t) });
      } else if (this.isKw(t, '/incbin/')) {
        this.incbin(v, t);
      } else {
        this.failAt(t, `expected a property value (a "string", <cells>, [bytes] or a &reference), found ${describe(t)}`);
      }
      this.valueLabels(v, 'value');
      const s = this.next('value');
      if (this.isOp(s, ',')) continue;
      if (this.isOp(s, ';')) return v;
      this.failAt(s, `expected ',' or ';' after a property value, found ${describe(s)}`);
    }
  }

  private valueLabels(v: Value, mode: Mode): void {
    for (const l of this.labels(mode)) v.markers.push({ kind: 'label', offset: v.bytes.length, ref: l.text, loc: this.loc(l) });
  }

  private cells(v: Value, open: Tok): void {
    let bits = 32;
    if (open.kind === 'kw') {
      const n = this.next('value');
      if (n.kind !== 'int') this.failAt(n, `expected 8, 16, 32 or 64 after '/bits/', found ${describe(n)}`);
      if (n.num !== 8n && n.num !== 16n && n.num !== 32n && n.num !== 64n) this.failAt(n, `array elements must be 8, 16, 32 or 64 bits, not ${n.text}`);
      bits = Number(n.num);
      this.expectOp('<', 'value', `after '/bits/ ${n.text}'`);
    }
    const bytes = bits / 8;
    for (;;) {
      const t = this.peek('value');
      if (this.isOp(t, '>')) {
        this.next('value');
        return;
      }
      let val: bigint;
      if (t.kind === 'label') {
        this.next('value');
        v.markers.push({ kind: 'label', offset: v.bytes.length, ref: t.text, loc: this.loc(t) });
        continue;
      } else if (t.kind === 'ref') {
        this.next('value');
        if (bits !== 32) this.failAt(t, `references are only allowed in arrays with 32-bit elements (this one is /bits/ ${bits})`);
        v.markers.push({ kind: 'phandle', offset: v.bytes.length, ref: t.text, loc: this.loc(t) });
        val = 0xffffffffn;
      } else if (t.kind === 'int' || t.kind === 'char' || this.isOp(t, '(')) {
        val = this.intPrim('a number');
        if (bits < 64) {
          const mask = (1n << BigInt(bits)) - 1n;
          if (val > mask && (val | mask) !== MASK64) this.failAt(t, `value 0x${val.toString(16)} out of range for ${bits === 8 ? 'an' : 'a'} ${bits}-bit array element`);
        }
      } else if (t.kind === 'eof') {
        fail(this.loc(open), "unexpected end of file: expected '>' to close this cell list");
      } else {
        const hint = t.kind === 'op' && '+-*/%~!|^&<>='.includes(t.text[0]!) ? ' (an expression must be in parentheses, as in <(1 + 2)>)' : '';
        this.failAt(t, `expected a number, a '(' expression ')', a &reference or '>' in a cell list, found ${describe(t)}${hint}`);
      }
      if (bits === 32) {
        // the common case without a BigInt per byte
        const n = Number(val & 0xffffffffn);
        v.bytes.push(Math.floor(n / 0x1000000), Math.floor(n / 0x10000) % 256, Math.floor(n / 0x100) % 256, n % 256);
      } else for (let i = bytes - 1; i >= 0; i--) v.bytes.push(Number((val >> BigInt(8 * i)) & 0xffn));
    }
  }

  private byteString(v: Value, open: Tok): void {
    for (;;) {
      const t = this.next('bytes');
      if (t.kind === 'eof') fail(this.loc(open), "unexpected end of file: expected ']' to close this byte string");
      if (t.kind === 'byte') v.bytes.push(Number(t.num));
      else if (t.kind === 'label') v.markers.push({ kind: 'label', offset: v.bytes.length, ref: t.text, loc: this.loc(t) });
      else return; // ']'
    }
  }

  private incbin(v: Value, kw: Tok): void {
    this.expectOp('(', 'value', "after '/incbin/'");
    const f = this.next('value');
    if (f.kind !== 'str') this.failAt(f, `expected a quoted file name in '/incbin/(...)', found ${describe(f)}`);
    let offset = 0n;
    let length = MASK64;
    const sep = this.next('value');
    if (this.isOp(sep, ',')) {
      offset = this.intPrim('an offset');
      this.expectOp(',', 'value', "after the /incbin/ offset (the form is /incbin/(\"file\", offset, length))");
      length = this.intPrim('a length');
      this.expectOp(')', 'value', "to close '/incbin/('");
    } else if (!this.isOp(sep, ')')) this.failAt(sep, `expected ',' or ')' in '/incbin/(...)', found ${describe(sep)}`);
    const name = f.bytes.map((b) => String.fromCharCode(b)).join('');
    if (this.readFile === null) this.failAt(kw, `cannot read "${name}" for /incbin/: no file reader was given`);
    const r = this.readFile(name, f.src.path);
    if (r === null) this.failAt(f, `cannot find /incbin/ file "${name}"`);
    if ('error' in r) this.failAt(f, `cannot read /incbin/ file "${name}": ${r.error}`);
    const data = strBytes(r.text);
    const size = BigInt(data.length);
    if (offset > size) this.failAt(kw, `/incbin/ offset ${offset} is past the end of "${name}" (${size} bytes)`);
    const take = length === MASK64 ? size - offset : length;
    if (offset + take > size) this.failAt(kw, `/incbin/ asks for ${take} bytes at offset ${offset} but "${name}" has ${size} bytes`);
    for (let i = Number(offset), end = Number(offset + take); i < end; i++) v.bytes.push(data[i]!);
  }

  /** integer_prim: a literal, a character literal or a parenthesised expression. */
  private intPrim(what: string): bigint {
    const t = this.next('value');
    if (t.kind === 'int' || t.kind === 'char') return t.num;
    if (this.isOp(t, '(')) {
      const v = this.expr();
      this.expectOp(')', 'value', 'to close the expression');
      return v;
    }
    this.failAt(t, `expected ${what} (a number, a character literal or a '(' expression ')'), found ${describe(t)}`);
  }

  // integer_expr .. integer_unary: unsigned 64-bit arithmetic, as dtc's uint64_t.
  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['||'],
    ['&&'],
    ['|'],
    ['^'],
    ['&'],
    ['==', '!='],
    ['<', '>', '<=', '>='],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];

  private expr(): bigint {
    if (++this.exprDepth > MAX_EXPR_DEPTH) fail(this.loc(this.peek('value')), `expression nested too deeply (more than ${MAX_EXPR_DEPTH} levels)`);
    try {
      const c = this.binary(0);
      const q = this.peek('value');
      if (!this.isOp(q, '?')) return c;
      this.next('value');
      const a = this.expr();
      this.expectOp(':', 'value', "in a '? :' expression");
      const b = this.expr();
      return c !== 0n ? a : b;
    } finally {
      this.exprDepth--;
    }
  }

  private binary(level: number): bigint {
    const ops = Parser.LEVELS[level];
    if (ops === undefined) return this.unary();
    let l = this.binary(level + 1);
    for (;;) {
      const t = this.peek('value');
      if (t.kind !== 'op' || !ops.includes(t.text)) return l;
      this.next('value');
      const r = this.binary(level + 1);
      l = this.apply(t, l, r);
    }
  }

  private apply(t: Tok, a: bigint, b: bigint): bigint {
    const bool = (x: boolean): bigint => (x ? 1n : 0n);
    switch (t.text) {
      case '||':
        return bool(a !== 0n || b !== 0n);
      case '&&':
        return bool(a !== 0n && b !== 0n);
      case '|':
        return a | b;
      case '^':
        return a ^ b;
      case '&':
        return a & b;
      case '==':
        return bool(a === b);
      case '!=':
        return bool(a !== b);
      case '<':
        return bool(a < b);
      case '>':
        return bool(a > b);
      case '<=':
        return bool(a <= b);
      case '>=':
        return bool(a >= b);
      case '<<':
        return b < 64n ? (a << b) & MASK64 : 0n;
      case '>>':
        return b < 64n ? a >> b : 0n;
      case '+':
        return (a + b) & MASK64;
      case '-':
        return (a - b) & MASK64;
      case '*':
        return (a * b) & MASK64;
      case '/':
        if (b === 0n) this.failAt(t, 'division by zero');
        return a / b;
      default:
        if (b === 0n) this.failAt(t, 'division by zero');
        return a % b;
    }
  }

  private unary(): bigint {
    const t = this.peek('value');
    if (t.kind === 'op' && (t.text === '-' || t.text === '~' || t.text === '!')) {
      this.next('value');
      if (++this.exprDepth > MAX_EXPR_DEPTH) this.failAt(t, `expression nested too deeply (more than ${MAX_EXPR_DEPTH} levels)`);
      try {
        const v = this.unary();
        if (t.text === '-') return -v & MASK64;
        if (t.text === '~') return ~v & MASK64;
        return v === 0n ? 1n : 0n;
      } finally {
        this.exprDepth--;
      }
    }
    return this.intPrim('a number');
  }

  // --- checks and fixups (checks.c, in dtc's order) ------------------------------------------

  private checks(root: PNode): void {
    // duplicate_node_names: dtc compares each live child with every later sibling, deleted ones
    // included. duplicate_property_names: live properties only.
    for (const n of liveNodes(root)) {
      const firstLive = new Map<string, PNode>();
      for (const b of n.children) {
        const a = firstLive.get(b.name);
        if (a !== undefined) {
          if (b.deleted)
            fail(b.loc, `'/delete-node/ ${a.name}' in the block that defines '${a.name}' (at ${fmtLoc(a.loc)}) is a duplicate node name; delete it from a later block`);
          fail(b.loc, `duplicate node name '${a.name}' in ${fullPath(n)} (first at ${fmtLoc(a.loc)}); to extend a node, use a later '/ { ... };' or '&label { ... };' block`);
        }
        if (!b.deleted) firstLive.set(b.name, b);
      }
      const firstProp = new Map<string, PProp>();
      for (const q of n.props) {
        if (q.deleted) continue;
        const p = firstProp.get(q.name);
        if (p !== undefined)
          fail(q.loc, `duplicate property '${p.name}' in ${fullPath(n)} (first at ${fmtLoc(p.loc)}); to override a property, set it in a later block`);
        firstProp.set(q.name, q);
      }
    }
    // node_name_format, property_name_chars
    for (const n of liveNodes(root)) {
      if (n.name.indexOf('@') !== n.name.lastIndexOf('@')) fail(n.loc, `multiple '@' characters in node name '${n.name}'`);
      for (const p of liveProps(n)) {
        const bad = /[^a-zA-Z0-9,._+*#?-]/.exec(p.name);
        if (bad !== null) fail(p.loc, `bad character '${bad[0]}' in property name '${p.name}'`);
      }
    }
    // name_is_string, name_properties
    for (const n of liveNodes(root)) {
      const live = getProp(n, 'name');
      if (live !== null) {
        const b = live.value.bytes;
        if (b.length === 0 || b[b.length - 1] !== 0 || b.indexOf(0) !== b.length - 1) fail(live.loc, `property 'name' of ${fullPath(n)} is not a single string`);
      }
      const i = n.props.findIndex((p) => p.name === 'name');
      if (i < 0) continue;
      const p = n.props[i]!;
      const bl = baseNameLen(n.name);
      const b = p.value.bytes;
      const same = b.length === bl + 1 && b.slice(0, bl).every((x, k) => x === n.name.charCodeAt(k));
      if (!same) fail(p.loc, `"name" property is incorrect ("${bytesToText(b)}" instead of the base node name '${n.name.slice(0, bl)}')`);
      n.props.splice(i, 1);
    }
    // duplicate_label
    const seen = new Map<string, string>();
    const label = (name: string, what: string, loc: SourceLoc): void => {
      const other = seen.get(name);
      if (other !== undefined) fail(loc, `duplicate label '${name}' on ${what} and ${other}`);
      seen.set(name, what);
    };
    for (const n of liveNodes(root)) {
      const path = fullPath(n);
      for (const l of n.labels) if (!l.deleted) label(l.name, path, l.loc);
      for (const p of liveProps(n)) {
        for (const l of p.labels) if (!l.deleted) label(l.name, `'${p.name}' in ${path}`, l.loc);
        for (const m of p.value.markers) if (m.kind === 'label') label(m.ref, `value of '${p.name}' in ${path}`, m.loc);
      }
    }
    // The references below resolve against a tree whose nodes and labels no longer change.
    const byLabel = new Map<string, PNode>();
    for (const n of liveNodes(root)) for (const l of n.labels) if (!l.deleted && !byLabel.has(l.name)) byLabel.set(l.name, n);
    const resolve = (ref: string): PNode | null => (ref.startsWith('/') ? nodeByPath(root, ref) : (byLabel.get(ref) ?? null));
    // explicit_phandles
    const used = new Map<number, PNode>();
    for (const n of liveNodes(root)) {
      const ph = this.phandleProp(resolve, n, 'phandle');
      const lph = this.phandleProp(resolve, n, 'linux,phandle');
      if (ph === 0 && lph === 0) continue;
      if (ph !== 0 && lph !== 0 && ph !== lph) fail(n.loc, `mismatching 'phandle' and 'linux,phandle' properties in ${fullPath(n)}`);
      const v = ph !== 0 ? ph : lph;
      const other = used.get(v);
      if (other !== undefined && other !== n) fail(n.loc, `duplicated phandle 0x${v.toString(16)} in ${fullPath(n)} (seen before at ${fullPath(other)})`);
      n.phandle = v;
      used.set(v, n);
    }
    // phandle_references
    let next = 1;
    for (const n of liveNodes(root)) {
      for (const p of liveProps(n)) {
        for (const m of p.value.markers) {
          if (m.kind !== 'phandle') continue;
          const target = resolve(m.ref);
          if (target === null) fail(m.loc, `reference to non-existent node or label '${m.ref}'`);
          if (target.phandle === 0 || target.phandle === 0xffffffff) {
            while (used.has(next)) next++;
            target.phandle = next;
            used.set(next, target);
            if (getProp(target, 'phandle') === null) {
              const b: number[] = [];
              putCell(b, 0, next);
              target.props.push({ name: 'phandle', value: { bytes: b, markers: [] }, labels: [], deleted: false, loc: target.loc });
            }
          }
          putCell(p.value.bytes, m.offset, target.phandle);
          target.referenced = true;
        }
      }
    }
    // path_references
    for (const n of liveNodes(root)) {
      for (const p of liveProps(n)) {
        const ms = p.value.markers;
        if (!ms.some((m) => m.kind === 'path')) continue;
        const old = p.value.bytes;
        const out: number[] = [];
        let from = 0;
        for (const m of ms) {
          const at = m.offset;
          for (; from < at; from++) out.push(old[from]!);
          m.offset = out.length;
          if (m.kind !== 'path') continue;
          const target = resolve(m.ref);
          if (target === null) fail(m.loc, `reference to non-existent node or label '${m.ref}'`);
          pushText(out, fullPath(target));
          out.push(0);
          target.referenced = true;
        }
        for (; from < old.length; from++) out.push(old[from]!);
        p.value.bytes = out;
      }
    }
    // omit_unused_nodes
    for (const n of liveNodes(root)) if (n.omit && !n.referenced) deleteNode(n);
  }

  private phandleProp(resolve: (ref: string) => PNode | null, n: PNode, name: string): number {
    const p = getProp(n, name);
    if (p === null) return 0;
    if (p.value.bytes.length !== 4) fail(p.loc, `bad length (${p.value.bytes.length}) ${name} property in ${fullPath(n)}: a phandle is one cell`);
    const refs = p.value.markers.filter((m) => m.kind === 'phandle');
    if (refs.length > 0) {
      for (const m of refs) if (resolve(m.ref) !== n) fail(p.loc, `${name} of ${fullPath(n)} is a reference to another node`);
      return 0;
    }
    const v = cellAt(p.value.bytes, 0);
    if (v === 0 || v === 0xffffffff) fail(p.loc, `bad value (0x${v.toString(16)}) in ${name} property of ${fullPath(n)}`);
    return v;
  }
}

function unescapeName(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function fmtLoc(l: SourceLoc): string {
  return `${l.file}:${l.line}:${l.column}`;
}

function bytesToText(b: readonly number[]): string {
  const end = b.indexOf(0);
  return String.fromCharCode(...(end < 0 ? b : b.slice(0, end)).slice(0, 64));
}

/** guess_boot_cpuid(): the `reg` of the first child of /cpus when it is one cell. */
function guessBootCpuid(root: PNode): number {
  const cpus = nodeByPath(root, '/cpus');
  const cpu = cpus?.children[0];
  if (cpu === undefined) return 0;
  const reg = getProp(cpu, 'reg');
  if (reg === null || reg.value.bytes.length !== 4) return 0;
  return cellAt(reg.value.bytes, 0);
}

function toDtNode(p: PNode, parent: DtNode | null): DtNode {
  const n = newNode(p.name, parent, p.loc);
  for (const l of p.labels) if (!l.deleted) n.labels.push(l.name);
  for (const pp of liveProps(p)) {
    n.props.push({ name: pp.name, value: Uint8Array.from(pp.value.bytes), labels: pp.labels.filter((l) => !l.deleted).map((l) => l.name), loc: pp.loc });
  }
  for (const c of liveChildren(p)) n.children.push(toDtNode(c, n));
  return n;
}
