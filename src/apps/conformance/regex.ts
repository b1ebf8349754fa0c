/**
 * The regular expressions of case files (`expect.match`, `expect.not_match`), run in linear time.
 *
 * JavaScript's RegExp backtracks: `^(a+)+$` against `aaaa…b` doubles its time with every `a`.
 * Case files are data from others, so their patterns run here instead: the pattern is compiled
 * to a small program of character-set, split, jump and assertion instructions and simulated
 * with all threads in lock step (Thompson's construction, Pike's VM), so the cost is at most
 * (program size) × (text length), whatever the pattern. Patterns keep JavaScript syntax and
 * meaning (the `m` flag: `^` and `$` match at line ends) for the subset that can run this way;
 * what cannot (backreferences, lookarounds other than the two text anchors) is refused with a
 * message. Budgets bound the program and the work of one search. docs/conformance.md
 * ("Regular expressions") lists the subset and the budgets.
 */

/** A pattern that cannot be compiled (syntax, unsupported feature, budget). */
export class CaseRegexError extends Error {
  override readonly name = 'CaseRegexError';
}

/** Largest program a pattern may compile to (instructions, after expanding `{n,m}`). */
export const REGEX_MAX_PROGRAM = 20_000;
/** Largest bound of a counted repetition `{n}`, `{n,}`, `{n,m}`. */
export const REGEX_MAX_COUNT = 1_000;
/** Most thread steps one search may take (each a program instruction visited at a text position). */
export const REGEX_STEP_BUDGET = 20_000_000;
/** Longest pattern text (after `${...}` substitution). */
export const REGEX_MAX_PATTERN = 65_536;

// ---------------------------------------------------------------------------------------------
// Character sets

/** Sorted, merged inclusive UTF-16 code unit ranges [lo0, hi0, lo1, hi1, ...]. */
type Ranges = number[];

const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
// WhiteSpace and LineTerminator (ECMA-262 \s)
const SPACE: Ranges = [0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff];
const LINE_TERMINATORS: Ranges = [0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029];

function normalise(r: Ranges): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

function negate(r: Ranges): Ranges {
  const n = normalise(r);
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < n.length; i += 2) {
    if (n[i]! > next) out.push(next, n[i]! - 1);
    next = n[i + 1]! + 1;
  }
  if (next <= 0xffff) out.push(next, 0xffff);
  return out;
}

function inRanges(r: Ranges, c: number): boolean {
  for (let i = 0; i < r.length; i += 2) {
    if (c < r[i]!) return false;
    if (c <= r[i + 1]!) return true;
  }
  return false;
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x61 && c <= 0x7a);
}

function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

// ---------------------------------------------------------------------------------------------
// Parsing: pattern text to a tree

type Assertion = 'line-start' | 'line-end' | 'text-start' | 'text-end' | 'word' | 'not-word';

type Node =
  | { readonly t: 'set'; readonly r: Ranges }
  | { readonly t: 'assert'; readonly a: Assertion }
  | { readonly t: 'cat'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly items: readonly Node[] }
  | { readonly t: 'rep'; readonly item: Node; readonly min: number; readonly max: number | null }
  | { readonly t: 'empty' };

const TEXT_START = '(?<![\\s\\S])';
const TEXT_END = '(?![\\s\\S])';

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly src: string) {}

  private fail(what: string): never {
    throw new CaseRegexError(`${what} at offset ${this.i}`);
  }

  parse(): Node {
    const n = this.alternation();
    if (this.i < this.src.length) this.fail(`unexpected '${this.src[this.i] ?? ''}'`);
    return n;
  }

  private alternation(): Node {
    const items = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined || c === '|' || c === ')') break;
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return items.length === 1 ? items[0]! : items.length === 0 ? { t: 'empty' } : { t: 'cat', items };
  }

  /** A quantifier after `atom`, if any (`{` that is not a quantifier is a literal, as in JavaScript). */
  private quantified(atom: Node): Node {
    let n = atom;
    for (;;) {
      const c = this.src[this.i];
      let min: number;
      let max: number | null;
      if (c === '*') { min = 0; max = null; this.i++; }
      else if (c === '+') { min = 1; max = null; this.i++; }
      else if (c === '?') { min = 0; max = 1; this.i++; }
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i, this.i + 40));
        if (m === null) return n;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? null : Number(m[3]);
        if (max !== null && max < min) this.fail('numbers out of order in {} quantifier');
        if (min > REGEX_MAX_COUNT || (max !== null && max > REGEX_MAX_COUNT)) {
          this.fail(`counted repetition ${m[0]} is above the budget of ${REGEX_MAX_COUNT}`);
        }
        this.i += m[0].length;
      } else return n;
      if (n.t === 'assert') this.fail('nothing to repeat');
      if (this.src[this.i] === '?') this.i++; // lazy: the same for a yes/no search
      n = { t: 'rep', item: n, min, max };
      // a second quantifier directly after the first (`a**`) is a JavaScript syntax error
      const next = this.src[this.i];
      if (next === '*' || next === '+' || next === '?') this.fail('nothing to repeat');
    }
  }

  private atom(): Node {
    const src = this.src;
    const c = src[this.i]!;
    if (c === '(') {
      if (src.startsWith(TEXT_START, this.i)) { this.i += TEXT_START.length; return { t: 'assert', a: 'text-start' }; }
      if (src.startsWith(TEXT_END, this.i)) { this.i += TEXT_END.length; return { t: 'assert', a: 'text-end' }; }
      if (src.startsWith('(?=', this.i) || src.startsWith('(?!', this.i) || src.startsWith('(?<=', this.i) || src.startsWith('(?<!', this.i)) {
        this.fail(`lookaround is not supported (only ${TEXT_START} for the start and ${TEXT_END} for the end of the text)`);
      }
      this.i++;
      if (src.startsWith('?:', this.i)) this.i += 2;
      else if (src[this.i] === '?' && src[this.i + 1] === '<') {
        const m = /^\?<[A-Za-z_$][A-Za-z0-9_$]*>/.exec(src.slice(this.i, this.i + 300));
        if (m === null) this.fail('invalid group');
        this.i += m[0].length;
      } else if (src[this.i] === '?') this.fail('invalid group');
      if (++this.depth > 200) this.fail('groups nested deeper than 200');
      const inner = this.alternation();
      this.depth--;
      if (src[this.i] !== ')') this.fail("missing ')'");
      this.i++;
      return inner;
    }
    if (c === ')') this.fail("unmatched ')'");
    if (c === '*' || c === '+' || c === '?') this.fail('nothing to repeat');
    if (c === '^') { this.i++; return { t: 'assert', a: 'line-start' }; }
    if (c === '$') { this.i++; return { t: 'assert', a: 'line-end' }; }
    if (c === '.') { this.i++; return { t: 'set', r: negate(LINE_TERMINATORS) }; }
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape(false) as Node;
    this.i++;
    const code = c.charCodeAt(0);
    return { t: 'set', r: [code, code] };
  }

  /** An escape at `\`: a set or an assertion (outside a class), or a set (inside one). */
  private escape(inClass: boolean): Node | Ranges {
    const src = this.src;
    this.i++; // the backslash
    const c = src[this.i];
    if (c === undefined) this.fail('\\ at end of pattern');
    this.i++;
    const one = (code: number): Node | Ranges => (inClass ? [code, code] : { t: 'set', r: [code, code] });
    const set = (r: Ranges): Node | Ranges => (inClass ? r : { t: 'set', r });
    switch (c) {
      case 'd': return set(DIGIT);
      case 'D': return set(negate(DIGIT));
      case 'w': return set(WORD);
      case 'W': return set(negate(WORD));
      case 's': return set(SPACE);
      case 'S': return set(negate(SPACE));
      case 't': return one(0x09);
      case 'n': return one(0x0a);
      case 'r': return one(0x0d);
      case 'f': return one(0x0c);
      case 'v': return one(0x0b);
      case 'b': return inClass ? [0x08, 0x08] : { t: 'assert', a: 'word' };
      case 'B':
        if (inClass) return [0x42, 0x42];
        return { t: 'assert', a: 'not-word' };
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(src.slice(this.i, this.i + 2));
        if (m === null) return one(0x78);
        this.i += 2;
        return one(parseInt(m[0], 16));
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(src.slice(this.i, this.i + 4));
        if (m === null) return one(0x75);
        this.i += 4;
        return one(parseInt(m[0], 16));
      }
      case 'c': {
        const l = src[this.i];
        if (l !== undefined && /[A-Za-z]/.test(l)) {
          this.i++;
          return one(l.charCodeAt(0) % 32);
        }
        this.i--; // `\c` without a letter is a backslash and a `c`
        return one(0x5c);
      }
      case '0':
        if (!/[0-9]/.test(src[this.i] ?? '')) return one(0);
        return this.fail(`octal escape \\0${src[this.i] ?? ''} is not supported`);
      case 'k':
        if (!inClass && /^<[A-Za-z_$]/.test(src.slice(this.i, this.i + 2))) this.fail('backreference \\k<...> is not supported (backreferences can take exponential time)');
        return one(0x6b);
      default:
        break;
    }
    if (/[0-9]/.test(c)) {
      if (!inClass) this.fail(`backreference \\${c} is not supported (backreferences can take exponential time)`);
      this.fail(`octal escape \\${c} is not supported`);
    }
    // an identity escape: the character itself (\. \\ \/ \| \( ...)
    return one(c.charCodeAt(0));
  }

  private charClass(): Node {
    const src = this.src;
    this.i++; // [
    let neg = false;
    if (src[this.i] === '^') { neg = true; this.i++; }
    const ranges: Ranges = [];
    /** One class atom: a single code unit (number) or a set (Ranges). */
    const classAtom = (): number | Ranges => {
      const ch = src[this.i];
      if (ch === undefined) this.fail("missing ']'");
      if (ch === '\\') {
        const r = this.escape(true) as Ranges;
        return r.length === 2 && r[0] === r[1] ? r[0]! : r;
      }
      this.i++;
      return ch.charCodeAt(0);
    };
    while (src[this.i] !== ']') {
      if (this.i >= src.length) this.fail("missing ']'");
      const a = classAtom();
      if (src[this.i] === '-' && src[this.i + 1] !== ']' && src[this.i + 1] !== undefined) {
        this.i++;
        const b = classAtom();
        if (typeof a !== 'number' || typeof b !== 'number') {
          // JavaScript (without the u flag) reads `[\d-x]` as \d, '-', 'x'
          for (const x of [a, 0x2d, b]) {
            if (typeof x === 'number') ranges.push(x, x);
            else ranges.push(...x);
          }
          continue;
        }
        if (b < a) this.fail('range out of order in character class');
        ranges.push(a, b);
      } else if (typeof a === 'number') ranges.push(a, a);
      else ranges.push(...a);
    }
    this.i++; // ]
    const r = normalise(ranges);
    return { t: 'set', r: neg ? negate(r) : r };
  }
}

// ---------------------------------------------------------------------------------------------
// Compiling: tree to program

const enum Op { Set, Split, Jmp, Assert, Match }

interface Inst {
  op: Op;
  /** Set: the ranges. */
  r?: Ranges;
  /** Split: the two targets; Jmp: x. */
  x?: number;
  y?: number;
  a?: Assertion;
}

class Compiler {
  readonly prog: Inst[] = [];
  private emit(i: Inst): number {
    if (this.prog.length >= REGEX_MAX_PROGRAM) {
      throw new CaseRegexError(`the pattern compiles to more than ${REGEX_MAX_PROGRAM} instructions (the regex program budget)`);
    }
    this.prog.push(i);
    return this.prog.length - 1;
  }

  compile(n: Node): void {
    switch (n.t) {
      case 'empty': return;
      case 'set': this.emit({ op: Op.Set, r: n.r }); return;
      case 'assert': this.emit({ op: Op.Assert, a: n.a }); return;
      case 'cat': for (const x of n.items) this.compile(x); return;
      case 'alt': {
        // split L1, next; L1: a; jmp end; next: split L2, next2 ...
        const jumps: number[] = [];
        n.items.forEach((item, k) => {
          if (k < n.items.length - 1) {
            const split = this.emit({ op: Op.Split });
            this.prog[split]!.x = split + 1;
            this.compile(item);
            jumps.push(this.emit({ op: Op.Jmp }));
            this.prog[split]!.y = this.prog.length;
          } else this.compile(item);
        });
        for (const j of jumps) this.prog[j]!.x = this.prog.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) this.compile(n.item);
        if (n.max === null) {
          // L: split body, end; body; jmp L
          const split = this.emit({ op: Op.Split });
          this.prog[split]!.x = split + 1;
          this.compile(n.item);
          this.emit({ op: Op.Jmp, x: split });
          this.prog[split]!.y = this.prog.length;
        } else {
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            const split = this.emit({ op: Op.Split });
            this.prog[split]!.x = split + 1;
            splits.push(split);
            this.compile(n.item);
          }
          for (const s of splits) this.prog[s]!.y = this.prog.length;
        }
        return;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

/** A compiled case-file pattern. */
export class CaseRegex {
  private readonly prog: readonly Inst[];
  /** The pattern can only match at the start of the text (it begins with `(?<![\s\S])`). */
  private readonly anchored: boolean;

  /** Compiles `source` (JavaScript syntax, the `m` flag); throws {@link CaseRegexError}. */
  constructor(readonly source: string) {
    if (source.length > REGEX_MAX_PATTERN) throw new CaseRegexError(`the pattern is ${source.length} characters, more than the budget of ${REGEX_MAX_PATTERN}`);
    try {
      // the syntax check of JavaScript itself (compiling runs nothing): a pattern is valid here only if it is valid there
      new RegExp(source, 'm');
    } catch (e) {
      throw new CaseRegexError((e as Error).message.replace(/^Invalid regular expression: \/.*\/m?: /s, ''));
    }
    const tree = new Parser(source).parse();
    const c = new Compiler();
    c.compile(tree);
    c.prog.push({ op: Op.Match });
    this.prog = c.prog;
    this.anchored = tree.t === 'cat' ? tree.items[0]?.t === 'assert' && tree.items[0].a === 'text-start' : tree.t === 'assert' && tree.a === 'text-start';
  }

  /** Program size (instructions). */
  get size(): number {
    return this.prog.length;
  }

  /**
   * Whether the pattern matches somewhere in `text`. Throws {@link CaseRegexError} when the
   * search would take more than `budget` thread steps.
   */
  test(text: string, budget = REGEX_STEP_BUDGET): boolean {
    const prog = this.prog;
    const n = prog.length;
    const len = text.length;
    // the threads of the current and next position (program counters), and a mark per pc so a
    // pc is added once per position
    let clist = new Int32Array(n);
    let nlist = new Int32Array(n);
    let ccount = 0;
    let ncount = 0;
    const mark = new Int32Array(n).fill(-1);
    const stack = new Int32Array(n * 2 + 2);
    let steps = 0;
    let gen = 0;
    const over = (): never => {
      throw new CaseRegexError(`the search took more than ${budget} steps (the regex step budget; the pattern has ${n} instructions, the text ${len} characters)`);
    };
    /** Adds pc and everything reachable from it without consuming a character, at position i. */
    const add = (list: Int32Array, count: number, pc0: number, i: number): number => {
      let sp = 0;
      stack[sp++] = pc0;
      while (sp > 0) {
        const pc = stack[--sp]!;
        if (mark[pc] === gen) continue;
        mark[pc] = gen;
        if (++steps > budget) over();
        const ins = prog[pc]!;
        switch (ins.op) {
          case Op.Jmp: stack[sp++] = ins.x!; break;
          case Op.Split: stack[sp++] = ins.y!; stack[sp++] = ins.x!; break;
          case Op.Assert: {
            const prev = i > 0 ? text.charCodeAt(i - 1) : -1;
            const cur = i < len ? text.charCodeAt(i) : -1;
            let ok: boolean;
            switch (ins.a!) {
              case 'text-start': ok = i === 0; break;
              case 'text-end': ok = i === len; break;
              case 'line-start': ok = i === 0 || isLineTerminator(prev); break;
              case 'line-end': ok = i === len || isLineTerminator(cur); break;
              case 'word': ok = (prev >= 0 && isWordChar(prev)) !== (cur >= 0 && isWordChar(cur)); break;
              case 'not-word': ok = (prev >= 0 && isWordChar(prev)) === (cur >= 0 && isWordChar(cur)); break;
            }
            if (ok) stack[sp++] = pc + 1;
            break;
          }
          default: list[count++] = pc; break;
        }
      }
      return count;
    };
    ccount = add(clist, 0, 0, 0);
    for (let i = 0; ; i++) {
      for (let k = 0; k < ccount; k++) if (prog[clist[k]!]!.op === Op.Match) return true;
      if (i >= len) return false;
      if (ccount === 0 && this.anchored) return false;
      gen++;
      ncount = 0;
      const c = text.charCodeAt(i);
      for (let k = 0; k < ccount; k++) {
        const ins = prog[clist[k]!]!;
        if (ins.op === Op.Set && inRanges(ins.r!, c)) ncount = add(nlist, ncount, clist[k]! + 1, i + 1);
      }
      // a search: a new thread starts at every position (none after the start when anchored)
      if (!this.anchored) ncount = add(nlist, ncount, 0, i + 1);
      const t = clist; clist = nlist; nlist = t;
      ccount = ncount;
    }
  }
}

/** Compiles a pattern; the error message says what is wrong. */
export function compileCaseRegex(source: string): CaseRegex {
  return new CaseRegex(source);
}

