/**
 * Expressions and `${...}` substitution in conformance case files.
 *
 * An expression is an integer formula over literals (decimal, `0x` hex, `0o`/C-style octal,
 * `0b` binary; parsed with {@link parseFlagExprBigInt}), symbolic constants (the open/mmap/poll/
 * fcntl tables of `constantsFor(arch)`, every ioctl name of `IOCTLS`, the DMA_BUF_SYNC_* flags,
 * the DMA directions `DMA_BIDIRECTIONAL`/`DMA_TO_DEVICE`/`DMA_FROM_DEVICE`, `PAGE_SIZE`,
 * `PAGE_SHIFT`), the machine's facts (machine.ts: `MEM_TOTAL`, `CMA_SIZE`, ...; found through
 * the lookup, as results are) and references to earlier results (`h`, `b.fd`, `m.addr`,
 * `p.revents[0]`), combined with `|`, `&`, `+`, `-`, `*`, `/`, `%`, `<<`, `>>`, unary `~` and
 * `-`, parentheses and the functions of {@link EXPR_FUNCTIONS} (`PAGE_ALIGN(4097)`). All
 * arithmetic is exact (bigint); `/` and `%` truncate toward zero, as in C.
 *
 * In a `${...}` substitution a value may carry a format after a colon: `${O_RDWR|O_LARGEFILE:o}`
 * (octal digits, as fdinfo prints flags), `${m.addr:x}` (lower-case hex, as /proc/self/maps),
 * `${base:08x}` (zero-padded to 8), `:X`, `:d`.
 *
 * Case files are data from others, so expressions have budgets (docs/conformance.md, "Budgets"):
 * every value fits {@link EXPR_MAX_BITS} bits, shift counts are 0..{@link EXPR_MAX_BITS}, an
 * expression is at most {@link EXPR_MAX_CHARS} characters and nests at most
 * {@link EXPR_MAX_DEPTH} deep, and a `${...}` substitution makes at most
 * {@link SUBST_MAX_CHARS} characters.
 */
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_START, DMA_BUF_SYNC_VALID_FLAGS_MASK, DMA_BUF_SYNC_WRITE } from '../../uapi/dma-buf.js';
import { DMA_HEAP_VALID_FD_FLAGS } from '../../uapi/dma-heap.js';
import { constantsFor, parseFlagExprBigInt } from '../../uapi/fcntl.js';
import type { Arch } from '../../uapi/fcntl.js';
import * as mman from '../../uapi/mman.js';
import { IOCTLS } from '../../uapi/registry.js';
import { UDMABUF_FLAGS_CLOEXEC } from '../../uapi/udmabuf.js';

/** A problem in the case file itself (not a behaviour mismatch): reported as ERROR. */
export class CaseError extends Error {
  override readonly name = 'CaseError';
}

/** Every value of an expression is below 2^EXPR_MAX_BITS in magnitude; shift counts are 0..EXPR_MAX_BITS. */
export const EXPR_MAX_BITS = 128;
/** Longest expression (after `${...}` substitution). */
export const EXPR_MAX_CHARS = 4096;
/** Deepest nesting of parentheses and unary operators. */
export const EXPR_MAX_DEPTH = 64;
/** Longest string a `${...}` substitution may make (paths, texts, patterns, expressions). */
export const SUBST_MAX_CHARS = 1 << 20;

const LIMIT = 1n << BigInt(EXPR_MAX_BITS);

function clip(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

/** The value, or the expression budget's error when it needs more than EXPR_MAX_BITS bits. */
function inBudget(v: bigint, expr: string): bigint {
  if (v >= LIMIT || v <= -LIMIT) {
    throw new CaseError(`expression budget: a value in '${clip(expr)}' needs more than ${EXPR_MAX_BITS} bits (every value must be below 2^${EXPR_MAX_BITS} in magnitude)`);
  }
  return v;
}

/** A value a result exposes: a number, an exact 64-bit value, or text. */
export type Scalar = number | bigint | string;

/** Looks up a reference (`h`, `b.fd`); returns undefined when `head` names no result. */
export type RefLookup = (ref: string) => Scalar | undefined;

const EXTRA: Readonly<Record<string, number>> = Object.freeze({
  DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_START, DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_VALID_FLAGS_MASK, DMA_HEAP_VALID_FD_FLAGS, UDMABUF_FLAGS_CLOEXEC,
  // enum dma_data_direction (include/linux/dma-direction.h): the map_attachment directions
  DMA_BIDIRECTIONAL: 0, DMA_TO_DEVICE: 1, DMA_FROM_DEVICE: 2,
  // mremap, madvise, msync and mlock flags, the other mmap flags and PROT_ bits (uapi/mman.ts;
  // MAP_32BIT is x86's own and left out)
  ...Object.fromEntries(Object.entries(mman).filter(([k, v]) => typeof v === 'number' && /^(MREMAP|MADV|MS|MLOCK|MCL|MAP|PROT)_/.test(k) && k !== 'MAP_32BIT' && !k.startsWith('MAP_HUGE_'))),
});

const TABLES = new Map<string, Readonly<Record<string, number>>>();

/** Every symbolic constant an expression may use on a target. */
export function constantTable(arch: Arch, pageSize: number): Readonly<Record<string, number>> {
  const key = `${arch}/${pageSize}`;
  let t = TABLES.get(key);
  if (t === undefined) {
    t = Object.freeze({ ...constantsFor(arch), ...IOCTLS, ...EXTRA, PAGE_SIZE: pageSize, PAGE_SHIFT: Math.log2(pageSize) });
    TABLES.set(key, t);
  }
  return t;
}

/** A function an expression may call: its arity (null: one or more) and its value. */
interface ExprFunction {
  readonly arity: number | null;
  readonly help: string;
  readonly fn: (args: readonly bigint[], env: EvalEnv, expr: string) => bigint;
}

function positive(v: bigint, what: string, expr: string): bigint {
  if (v <= 0n) throw new CaseError(`${what} must be positive, not ${v}, in expression '${clip(expr)}'`);
  return v;
}

/** `x` rounded up to a multiple of `a` (a > 0), as the kernel's ALIGN() for a power of two. */
function alignUp(x: bigint, a: bigint): bigint {
  const r = ((x % a) + a) % a;
  return r === 0n ? x : x + (a - r);
}

/**
 * The functions of the expression language, named as the kernel's macros where there is one
 * (include/linux/mm.h PAGE_ALIGN, include/linux/align.h ALIGN, include/linux/math.h
 * DIV_ROUND_UP): rewriting "4096" as "PAGE_ALIGN(4096)" states the rule, not the machine.
 */
export const EXPR_FUNCTIONS: Readonly<Record<string, ExprFunction>> = Object.freeze({
  PAGE_ALIGN: {
    arity: 1, help: 'PAGE_ALIGN(x): x rounded up to a multiple of PAGE_SIZE',
    fn: ([x], env) => alignUp(x ?? 0n, BigInt(env.constants.PAGE_SIZE ?? 4096)),
  },
  ALIGN: {
    arity: 2, help: 'ALIGN(x, a): x rounded up to a multiple of a (a > 0)',
    fn: ([x, a], _env, expr) => alignUp(x ?? 0n, positive(a ?? 0n, 'ALIGN\'s a', expr)),
  },
  DIV_ROUND_UP: {
    arity: 2, help: 'DIV_ROUND_UP(x, d): x / d rounded up (d > 0)',
    fn: ([x, d], _env, expr) => alignUp(x ?? 0n, positive(d ?? 0n, 'DIV_ROUND_UP\'s d', expr)) / (d ?? 1n),
  },
  min: { arity: null, help: 'min(a, b, ...): the smallest', fn: (args) => args.reduce((m, v) => (v < m ? v : m)) },
  max: { arity: null, help: 'max(a, b, ...): the largest', fn: (args) => args.reduce((m, v) => (v > m ? v : m)) },
});

export interface EvalEnv {
  readonly constants: Readonly<Record<string, number>>;
  readonly lookup: RefLookup;
}

type Tok = { kind: 'num'; v: bigint } | { kind: 'name'; v: string } | { kind: 'op'; v: string };

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:\[[0-9]+\])?/;
const NUM_RE = /^(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)/;

function tokenize(expr: string): Tok[] {
  const out: Tok[] = [];
  let s = expr;
  while (s.length > 0) {
    const ws = /^\s+/.exec(s);
    if (ws !== null) { s = s.slice(ws[0].length); continue; }
    const num = NUM_RE.exec(s);
    if (num !== null) {
      const lit = num[0];
      let v: bigint;
      try {
        v = parseFlagExprBigInt(lit, {});
      } catch {
        throw new CaseError(`invalid number '${lit}' in expression '${expr}'`);
      }
      out.push({ kind: 'num', v: inBudget(v, expr) });
      s = s.slice(lit.length);
      continue;
    }
    const name = NAME_RE.exec(s);
    if (name !== null) { out.push({ kind: 'name', v: name[0] }); s = s.slice(name[0].length); continue; }
    const two = s.slice(0, 2);
    if (two === '<<' || two === '>>') { out.push({ kind: 'op', v: two }); s = s.slice(2); continue; }
    const one = s[0] ?? '';
    if ('|&+-*/%~(),'.includes(one)) { out.push({ kind: 'op', v: one }); s = s.slice(1); continue; }
    throw new CaseError(`unexpected '${one}' in expression '${expr}'`);
  }
  return out;
}

function scalarToBigInt(v: Scalar, what: string, expr: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new CaseError(`${what} is not an integer (${v}) in expression '${expr}'`);
    return BigInt(v);
  }
  const t = v.trim();
  if (/^-?[0-9]+$/.test(t)) {
    if (t.length > 41) throw new CaseError(`expression budget: ${what} is a number of ${t.replace('-', '').length} digits, more than ${EXPR_MAX_BITS} bits, in expression '${clip(expr)}'`);
    return inBudget(BigInt(t), expr);
  }
  throw new CaseError(`${what} is text ('${v.length > 40 ? `${v.slice(0, 40)}...` : v}'), not a number, in expression '${expr}'`);
}

/** Evaluates an integer expression (already free of `${...}`). */
export function evalExpr(expr: string, env: EvalEnv): bigint {
  if (expr.length > EXPR_MAX_CHARS) throw new CaseError(`expression budget: '${clip(expr)}' is ${expr.length} characters, more than ${EXPR_MAX_CHARS}`);
  const toks = tokenize(expr);
  if (toks.length === 0) throw new CaseError(`empty expression`);
  let i = 0;
  let depth = 0;
  const nest = (): void => {
    if (++depth > EXPR_MAX_DEPTH) throw new CaseError(`expression budget: '${clip(expr)}' nests deeper than ${EXPR_MAX_DEPTH} (parentheses and unary operators)`);
  };
  const shiftCount = (n: bigint): bigint => {
    if (n < 0n || n > BigInt(EXPR_MAX_BITS)) throw new CaseError(`expression budget: shift count ${n} in '${clip(expr)}' is outside 0..${EXPR_MAX_BITS}`);
    return n;
  };
  const peek = (): Tok | undefined => toks[i];
  const isOp = (v: string): boolean => { const t = peek(); return t !== undefined && t.kind === 'op' && t.v === v; };
  const primary = (): bigint => {
    const t = toks[i++];
    if (t === undefined) throw new CaseError(`expression '${expr}' ends too early`);
    if (t.kind === 'num') return t.v;
    if (t.kind === 'name') {
      if (isOp('(')) {
        if (Object.hasOwn(EXPR_FUNCTIONS, t.v)) return call(t.v);
        throw new CaseError(`unknown function '${t.v}' in expression '${expr}' (known: ${Object.keys(EXPR_FUNCTIONS).join(', ')})`);
      }
      const r = env.lookup(t.v);
      if (r !== undefined) return scalarToBigInt(r, `'${t.v}'`, expr);
      if (!t.v.includes('.') && Object.hasOwn(env.constants, t.v)) return BigInt(env.constants[t.v] ?? 0);
      throw new CaseError(`unknown name '${t.v}' in expression '${expr}' (neither an earlier result nor a known constant)`);
    }
    if (t.v === '(') {
      nest();
      const v = orExpr();
      if (!isOp(')')) throw new CaseError(`missing ')' in expression '${expr}'`);
      i++;
      depth--;
      return v;
    }
    if (t.v === '~' || t.v === '-') {
      nest();
      const v = primary();
      depth--;
      return inBudget(t.v === '~' ? ~v : -v, expr);
    }
    throw new CaseError(`unexpected '${t.v}' in expression '${expr}'`);
  };
  const call = (name: string): bigint => {
    const f = EXPR_FUNCTIONS[name] as ExprFunction;
    i++; // '('
    nest();
    const args: bigint[] = [];
    if (!isOp(')')) {
      for (;;) {
        args.push(orExpr());
        if (!isOp(',')) break;
        i++;
      }
    }
    if (!isOp(')')) throw new CaseError(`missing ')' after the arguments of ${name}() in expression '${expr}'`);
    i++;
    depth--;
    if (f.arity !== null ? args.length !== f.arity : args.length === 0) {
      throw new CaseError(`${name}() takes ${f.arity ?? 'one or more'} argument${f.arity === 1 ? '' : 's'}, not ${args.length}, in expression '${expr}' (${f.help})`);
    }
    return inBudget(f.fn(args, env, expr), expr);
  };
  const mul = (): bigint => {
    let v = primary();
    for (;;) {
      if (isOp('*')) { i++; v = inBudget(v * primary(), expr); continue; }
      const div = isOp('/');
      if (!div && !isOp('%')) return v;
      i++;
      const d = primary();
      if (d === 0n) throw new CaseError(`division by zero in expression '${expr}'`);
      v = div ? v / d : v % d;
    }
  };
  const add = (): bigint => {
    let v = mul();
    for (;;) {
      if (isOp('+')) { i++; v = inBudget(v + mul(), expr); } else if (isOp('-')) { i++; v = inBudget(v - mul(), expr); } else return v;
    }
  };
  const shift = (): bigint => {
    let v = add();
    for (;;) {
      if (isOp('<<')) { i++; v = inBudget(v << shiftCount(add()), expr); } else if (isOp('>>')) { i++; v >>= shiftCount(add()); } else return v;
    }
  };
  const and = (): bigint => { let v = shift(); while (isOp('&')) { i++; v &= shift(); } return v; };
  const orExpr = (): bigint => { let v = and(); while (isOp('|')) { i++; v |= and(); } return v; };
  const v = orExpr();
  const rest = peek();
  if (rest !== undefined) throw new CaseError(`unexpected '${rest.kind === 'num' ? rest.v.toString() : rest.v}' in expression '${expr}'`);
  return v;
}

function scalarText(v: Scalar): string {
  return typeof v === 'string' ? v : v.toString();
}

/** A format at the end of a `${...}`: `:x`, `:X`, `:o`, `:d`, with an optional width, zero-padded with a leading 0 (`:08x`), as printf's. */
const FORMAT_RE = /:\s*(0?)([0-9]{0,2})([xXod])$/;

/** An integer in a format of {@link FORMAT_RE} (decimal without one); the sign goes before the padding. */
function formatInt(v: bigint, fmt: RegExpExecArray | null): string {
  if (fmt === null) return v.toString();
  const [, zero, width, conv] = fmt;
  const mag = v < 0n ? -v : v;
  let digits = conv === 'd' ? mag.toString() : conv === 'o' ? mag.toString(8) : mag.toString(16);
  if (conv === 'X') digits = digits.toUpperCase();
  const w = width === undefined || width === '' ? 0 : Number(width);
  const sign = v < 0n ? '-' : '';
  // as printf: "%04d" of -5 is -005, "%4d" is "  -5"
  return zero === '0' ? sign + digits.padStart(w - sign.length, '0') : (sign + digits).padStart(w, ' ');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces every `${ref}` / `${expr}` in `s`. A plain reference is replaced by its value as
 * text (a text result by its text); anything else is evaluated as an integer expression.
 * With `regex`, substituted text is escaped so it matches literally.
 */
export function substitute(s: string, env: EvalEnv, regex = false): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const start = s.indexOf('${', pos);
    if (start < 0) break;
    const end = s.indexOf('}', start + 2);
    if (end < 0) throw new CaseError(`unterminated '\${' in '${s}'`);
    let inner = s.slice(start + 2, end).trim();
    const fmt = FORMAT_RE.exec(inner);
    if (fmt !== null) inner = inner.slice(0, fmt.index).trim();
    let text: string;
    const direct = /^[A-Za-z_][A-Za-z0-9_.[\]]*$/.test(inner) ? env.lookup(inner) : undefined;
    if (direct !== undefined && fmt === null) text = scalarText(direct);
    else if (direct === undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(inner) && !Object.hasOwn(env.constants, inner)) {
      throw new CaseError(`unknown name '${inner}' in '\${${inner}}' (no earlier result has that name)`);
    } else text = formatInt(evalExpr(inner, env), fmt);
    out += s.slice(pos, start) + (regex ? escapeRegExp(text) : text);
    pos = end + 1;
    if (out.length > SUBST_MAX_CHARS) throw new CaseError(`substitution budget: '${clip(s)}' makes more than ${SUBST_MAX_CHARS} characters`);
  }
  out += s.slice(pos);
  if (out.length > SUBST_MAX_CHARS) throw new CaseError(`substitution budget: '${clip(s)}' makes more than ${SUBST_MAX_CHARS} characters`);
  return out;
}

/** A JSON value (number, bigint-safe string expression) to an exact integer. */
export function toInt(v: unknown, env: EvalEnv, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new CaseError(`${what}: ${v} is not a safe integer (write 64-bit values as strings, e.g. "0xffffffffffffffff")`);
    return BigInt(v);
  }
  if (typeof v === 'string') {
    const s = substitute(v, env);
    return evalExpr(s, env);
  }
  throw new CaseError(`${what}: expected a number or an expression string, got ${v === null ? 'null' : typeof v}`);
}

/** Like {@link toInt} but a JS number, which must be a safe integer. */
export function toNum(v: unknown, env: EvalEnv, what: string): number {
  const b = toInt(v, env, what);
  const n = Number(b);
  if (!Number.isSafeInteger(n)) throw new CaseError(`${what}: ${b} does not fit a safe integer`);
  return n;
}

/** Hex text (whitespace ignored) to bytes. */
export function parseHex(s: string, what: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new CaseError(`${what}: '${s.length > 40 ? `${s.slice(0, 40)}...` : s}' is not an even-length hex string`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes as lower-case hex, in one pass. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}
