/**
 * `--fault SPEC`: fault injection on the emulated machine (docs/faults.md). One spec is a kind,
 * a colon and comma-separated `key=value` fields:
 *
 *   alloc:nth=N|every=N|fraction=F[,seed=S][,errno=E][,heap=NAME][,comm=NAME]
 *   signal:nth=N|every=N|fraction=F[,seed=S][,heap=NAME][,comm=NAME]
 *   shrink-cma:size=SIZE|pages=N[,area=NAME]
 *   pin:pages=N|size=SIZE[,area=NAME][,pfn=PFN|seed=S]
 *   take-memory:size=SIZE
 *
 * Heap names contain commas and colons (`linux,cma`), so a value runs to the next comma that
 * is followed by a key of the same kind and `=`: `alloc:heap=linux,cma,nth=2` is heap
 * `linux,cma` and nth 2, whatever the order of the fields. A value that still holds `,word=` is
 * refused (a misspelt key would otherwise become part of a name); a name that really contains
 * one is given in double quotes (`heap="odd,nth=1"`). Nothing else is quoted or escaped.
 */
import type { AllocFaultRule, MemoryFaultSpec } from '../../kernel/index.js';
import { allocFaultRuleProblem } from '../../kernel/index.js';
import { Errno } from '../../uapi/errno.js';
import type { ErrnoName } from '../../uapi/errno.js';

/**
 * The number parsers of the command line (args.ts parseInteger, parseSize), passed in so that
 * this module does not import args.ts (which imports it); they throw their own refusals.
 */
export interface FaultNumberParsers {
  integer(text: string, what: string, spec: { noun: string; min: number; max: number }): number;
  size(text: string, what: string, limits: { min: number }): number;
}

/** Why a spec is refused (args.ts makes it a UsageError with {@link FAULT_FORMS} as the hint). */
class Refusal {
  constructor(readonly why: string) {}
}

/** The hint of every --fault refusal: the accepted forms. */
export const FAULT_FORMS = [
  'the forms are alloc:nth=N|every=N|fraction=F[,seed=S][,errno=ENOMEM][,heap=NAME][,comm=NAME]',
  'signal:nth=N|every=N|fraction=F[,seed=S][,heap=NAME][,comm=NAME]',
  'shrink-cma:size=SIZE|pages=N[,area=NAME]',
  'pin:pages=N|size=SIZE[,area=NAME][,pfn=PFN|seed=S]',
  'take-memory:size=SIZE',
].join('; ') + ' (a name runs to the next ,key=, so heap=linux,cma works; double-quote a name that contains one; e.g. --fault alloc:heap=system,nth=2)';

const KEYS = {
  alloc: ['nth', 'every', 'fraction', 'seed', 'errno', 'heap', 'comm'],
  signal: ['nth', 'every', 'fraction', 'seed', 'heap', 'comm'],
  'shrink-cma': ['size', 'pages', 'area'],
  pin: ['pages', 'size', 'area', 'pfn', 'seed'],
  'take-memory': ['size'],
} as const satisfies Record<string, readonly string[]>;

type Kind = keyof typeof KEYS;
const KINDS = Object.keys(KEYS) as Kind[];

/** The longest spec, and the most --fault options, accepted (bounds on the parse and on the machine). */
const MAX_SPEC_LENGTH = 4096;
export const MAX_FAULT_SPECS = 64;

/** What one --fault gives the machine: an allocation rule or a memory fault. */
export type ParsedFault = { readonly alloc: AllocFaultRule } | { readonly memory: MemoryFaultSpec };

/** The fields of a spec after `kind:`, in the order given. */
function fields(kind: Kind, body: string, refuse: (why: string) => never): Map<string, string> {
  const keys: readonly string[] = KEYS[kind];
  const out = new Map<string, string>();
  let i = 0;
  if (body === '') refuse(`${kind} needs fields (key=value, comma-separated)`);
  if (body.endsWith(',')) refuse('it ends with a comma');
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    const key = eq < 0 ? body.slice(i) : body.slice(i, eq);
    if (eq < 0 || key === '') refuse(`'${body.slice(i)}' is not key=value`);
    if (!keys.includes(key)) refuse(`'${key}' is not a key of ${kind} (its keys: ${keys.join(', ')})`);
    if (out.has(key)) refuse(`${key} is given twice`);
    let value: string;
    let next: number;
    if (body[eq + 1] === '"') {
      const close = body.indexOf('"', eq + 2);
      if (close < 0) refuse(`the quoted value of ${key} has no closing quote`);
      value = body.slice(eq + 2, close);
      next = close + 1;
      if (next < body.length && body[next] !== ',') refuse(`the quoted value of ${key} must be followed by a comma or the end`);
    } else {
      // the value ends at the first comma followed by a key of this kind and '='
      next = body.length;
      for (let c = body.indexOf(',', eq + 1); c >= 0; c = body.indexOf(',', c + 1)) {
        const rest = body.slice(c + 1);
        if (keys.some((k) => rest.startsWith(`${k}=`))) {
          next = c;
          break;
        }
      }
      value = body.slice(eq + 1, next);
      const stray = /,([A-Za-z_-]*)=/.exec(value);
      const isName = key === 'heap' || key === 'comm' || key === 'area';
      if (stray !== null) refuse(`the value of ${key} holds ',${stray[1]!}=': '${stray[1]!}' is not a key of ${kind} (its keys: ${keys.join(', ')})${isName ? '; double-quote a name that contains it' : ''}`);
    }
    if (value === '') refuse(`${key} has no value`);
    out.set(key, value);
    i = next < body.length ? next + 1 : next;
  }
  return out;
}

/**
 * One `--fault` value → an allocation rule or a memory fault, or `{ error }` saying what is wrong
 * with it (numbers and sizes are refused by `nums`, which throw).
 */
export function parseFaultText(spec: string, nums: FaultNumberParsers, what = '--fault'): ParsedFault | { readonly error: string } {
  try {
    return parseOrRefuse(spec, nums, what);
  } catch (e) {
    if (e instanceof Refusal) return { error: e.why };
    throw e;
  }
}

function parseOrRefuse(spec: string, nums: FaultNumberParsers, what: string): ParsedFault {
  const refuse = (why: string): never => {
    throw new Refusal(why);
  };
  if (spec.length > MAX_SPEC_LENGTH) refuse(`it is longer than ${MAX_SPEC_LENGTH} characters`);
  const colon = spec.indexOf(':');
  const kindText = colon < 0 ? spec : spec.slice(0, colon);
  if (!(KINDS as string[]).includes(kindText)) refuse(`'${kindText}' is not a kind of fault (the kinds: ${KINDS.join(', ')})`);
  const kind = kindText as Kind;
  if (colon < 0) refuse(`${kind} needs a colon and fields, e.g. ${kind === 'alloc' ? 'alloc:nth=2' : kind === 'signal' ? 'signal:nth=1' : kind === 'take-memory' ? 'take-memory:size=256M' : `${kind}:pages=16`}`);
  const f = fields(kind, spec.slice(colon + 1), refuse);
  const count = (key: string, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = f.get(key);
    return v === undefined ? undefined : nums.integer(v, `${what} ${key}`, { noun: key === 'seed' ? 'a seed' : 'a count', min: key === 'seed' ? 0 : 1, max: key === 'seed' ? 0xffffffff : max });
  };
  const size = (key: string): number | undefined => {
    const v = f.get(key);
    return v === undefined ? undefined : nums.size(v, `${what} ${key}`, { min: 1 });
  };

  if (kind === 'alloc' || kind === 'signal') {
    const rule: { -readonly [K in keyof AllocFaultRule]: AllocFaultRule[K] } = {};
    const heap = f.get('heap');
    const comm = f.get('comm');
    if (heap !== undefined) rule.heap = heap;
    if (comm !== undefined) rule.comm = comm;
    const nth = count('nth');
    const every = count('every');
    if (nth !== undefined) rule.nth = nth;
    if (every !== undefined) rule.every = every;
    const fr = f.get('fraction');
    if (fr !== undefined) {
      if (!/^(\d+(\.\d*)?|\.\d+)$/.test(fr)) refuse(`fraction '${fr}' is not a decimal number from 0 to 1 (such as 0.25)`);
      const n = Number(fr);
      if (n > 1) refuse(`fraction '${fr}' is more than 1 (all of them)`);
      rule.fraction = n;
    }
    const seed = count('seed');
    if (seed !== undefined) rule.seed = seed;
    const e = f.get('errno');
    if (e !== undefined) {
      if (/^\d+$/.test(e)) rule.errno = Number(e);
      else if (Object.hasOwn(Errno, e)) rule.errno = Errno[e as ErrnoName];
      else refuse(`errno '${e}' is not an errno name or number (such as ENOMEM, EIO, EAGAIN or 12)`);
    }
    if (kind === 'signal') rule.signal = true;
    const problem = allocFaultRuleProblem(rule);
    if (problem !== null) refuse(problem.replace('a fault rule needs', `${kind} needs`));
    return { alloc: rule };
  }
  const area = f.get('area');
  if (kind === 'take-memory') {
    const bytes = size('size');
    if (bytes === undefined) refuse('take-memory needs size=SIZE');
    return { memory: { kind: 'take-memory', bytes: bytes! } };
  }
  const pages = count('pages', 1 << 30);
  const bytes = size('size');
  if ((pages === undefined) === (bytes === undefined)) refuse(`${kind} needs exactly one of pages=N and size=SIZE`);
  const amount = pages !== undefined ? { pages } : { bytes: bytes! };
  if (kind === 'shrink-cma') return { memory: { kind: 'shrink-cma', ...(area !== undefined ? { area } : {}), ...amount } };
  const pfnText = f.get('pfn');
  const seed = count('seed');
  if (pfnText !== undefined && seed !== undefined) refuse('pin takes pfn (one run from that PFN) or seed (pages scattered by a seeded PRNG), not both');
  let pfn: number | undefined;
  if (pfnText !== undefined) {
    if (!/^(0x[0-9a-f]+|0|[1-9]\d*)$/i.test(pfnText)) refuse(`pfn '${pfnText}' is not a page frame number (decimal or 0x hex)`);
    pfn = Number(pfnText);
    if (!Number.isSafeInteger(pfn)) refuse(`pfn '${pfnText}' is too large`);
  }
  return { memory: { kind: 'pin-cma', ...(area !== undefined ? { area } : {}), ...amount, ...(pfn !== undefined ? { pfn } : {}), ...(seed !== undefined ? { seed } : {}) } };
}
