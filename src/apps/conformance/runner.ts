/**
 * The conformance runner: runs case files (see cases.ts and docs/conformance.md) against any
 * {@link SyscallTarget}, each case instance on a fresh target, and reports one line per case.
 * Case files are data: every path and fd a step names is confined (confine.ts), every regular
 * expression runs in linear time (regex.ts), and every loop, read and allocation a case drives
 * has a budget (below and in expr.ts; docs/conformance.md, "Budgets").
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DmaDir, IoctlArg, MapHandle, MmapResult, SyscallTarget, SysResult } from '../../api/target.js';
import { DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC } from '../../uapi/dma-buf.js';
import { DMA_HEAP_IOCTL_ALLOC } from '../../uapi/dma-heap.js';
import { STRUCTS } from '../../uapi/registry.js';
import { decodeStruct, encodeStruct } from '../../uapi/struct.js';
import type { StructLayout } from '../../uapi/struct.js';
import { SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE } from '../../uapi/sync-file.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST } from '../../uapi/udmabuf.js';
import { machineKey, profileMatches } from './cases.js';
import { Confinement, EnvironmentError } from './confine.js';
import type { ConfineOptions, PathOp, PathPlan, ResolvePath } from './confine.js';
import { CaseRegex, CaseRegexError } from './regex.js';
import type { Case, CaseFile, CaseMachine, Expect, Step } from './cases.js';
import { CaseError, constantTable, parseHex, substitute, toHex, toInt, toNum } from './expr.js';
import type { EvalEnv, Scalar } from './expr.js';
import { readMachineFacts } from './machine.js';
import type { MachineFacts } from './machine.js';

export { loadCaseFiles, parseCaseFile } from './cases.js';
export type { Case, CaseFile, CaseMachine, CaseRequires, LoadResult, Step } from './cases.js';
export { MACHINE_FACTS, readMachineFacts } from './machine.js';
export type { MachineFacts } from './machine.js';
export { CaseError } from './expr.js';

/** Largest buffer a single step may read or write (protects against runaway case files). */
export const MAX_STEP_BYTES = 256 * 1024 * 1024;
/** Largest repeat count. */
export const MAX_REPEAT = 100_000;
/** The step budget of one case instance: every step run and every repeat iteration counts one. */
export const CASE_MAX_STEPS = 1_000_000;
/** The byte budget of one case instance: the bytes of every buffer its steps read, write, fill or pass (host memory). */
export const CASE_MAX_BYTES = 1024 * 1024 * 1024;
/** The poll budget of one case instance: its poll timeouts added up (ms). */
export const CASE_MAX_POLL_MS = 10_000;
/** fcntl commands whose argument is a pointer (struct flock, f_owner_ex, a u64 hint). */
const FCNTL_POINTER_CMDS: readonly number[] = [5, 6, 7, 15, 16, 36, 37, 38, 1035, 1036, 1037, 1038];
/** The most processes the fork steps of one case make. */
export const MAX_PROCS = 16;

export type CaseStatus = 'pass' | 'fail' | 'skip' | 'xfail' | 'xpass' | 'error';

export interface StepFailure {
  readonly step: string;
  readonly op: string;
  readonly message: string;
}

export interface CaseResult {
  readonly file: string;
  readonly caseIndex: number;
  /** The case name with `${heap}` substituted (or ` [heap]` appended). */
  readonly name: string;
  readonly heap: string | null;
  readonly status: CaseStatus;
  /** Skip reason, or the xfail reason. */
  readonly reason?: string;
  readonly failure?: StepFailure;
}

export interface Report {
  readonly results: CaseResult[];
  /** Load errors (bad files): each counts as a failure. */
  readonly errors: string[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly target: { backend: string; arch: string; release: string; profile: string; pageSize: number; heaps: string[]; facts: Record<string, Scalar> } | null;
}

export interface RunOptions {
  /** Profile name cases are filtered by (`profiles` key); default: major.minor of the release. */
  readonly profile?: string;
  /** Run only case instances whose name contains this text. */
  readonly filter?: string;
  /** Called after each case instance (for streaming output). */
  readonly onResult?: (r: CaseResult) => void;
  /** Load errors to include in the report. */
  readonly loadErrors?: readonly string[];
  /**
   * Boots a fresh target on a case's own machine (its `board`, `cmdline`, `features` keys);
   * throws when the machine cannot be made. Without it such cases are skipped.
   */
  readonly machineTarget?: (m: CaseMachine) => SyscallTarget | Promise<SyscallTarget>;
  /** `--allow-host-paths`: no confinement rule applies (a trusted suite). */
  readonly allowHostPaths?: boolean;
  /**
   * The target's file system is this machine's: paths are also resolved here (symbolic links)
   * and /sys/fs/cgroup is a scratch cgroup (confine.ts). Default: for the linux backend, with
   * realpath(3); for others none (an emulated kernel's file system is its own).
   */
  readonly host?: { readonly resolve: ResolvePath } | null;
}

/** realpath(3) of the longest prefix of `path` that exists, with the rest appended (the linux backend's resolver). */
export function resolveHostPath(path: string): string {
  const rest: string[] = [];
  let cur = path;
  for (;;) {
    try {
      const real = realpathSync.native(cur);
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (cur === '/' || (code !== 'ENOENT' && code !== 'ENOTDIR')) return rest.length === 0 ? cur : join(cur, ...rest.reverse());
      rest.push(basename(cur));
      cur = dirname(cur);
    }
  }
}


// ---------------------------------------------------------------------------------------------
// Results and outcomes

interface Result {
  /** What a bare reference (`h`) resolves to. */
  readonly value: Scalar;
  /** `b.fd`, `b.ret`, `b.errno`, `b.bytes`, ... (a function: computed when first used) */
  readonly fields: ReadonlyMap<string, Scalar | (() => Scalar)>;
  readonly map?: MapHandle;
}

/** What a step observed, for the expect checks. */
interface Outcome {
  readonly ret: bigint;
  readonly errno: string | null;
  readonly fault: string | null;
  readonly text?: string | null;
  /** Text computed only when a check needs it (large memory reads). */
  readonly lazyText?: () => string;
  readonly bytes?: Uint8Array | null;
  readonly fields?: ReadonlyMap<string, Scalar | (() => Scalar)>;
}

/** Bits 0-54 of a pagemap entry: the page frame number. */
const PM_PFRAME_MASK = (1n << 55n) - 1n;

/** ioctl numbers whose argument struct is known: matched on type and nr (direction and size ignored). */
const STRUCT_BY_CMD: readonly (readonly [number, string])[] = [
  [DMA_HEAP_IOCTL_ALLOC, 'dma_heap_allocation_data'],
  [DMA_BUF_IOCTL_SYNC, 'dma_buf_sync'],
  [DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 'dma_buf_export_sync_file'],
  [DMA_BUF_IOCTL_IMPORT_SYNC_FILE, 'dma_buf_import_sync_file'],
  [UDMABUF_CREATE, 'udmabuf_create'],
  [UDMABUF_CREATE_LIST, 'udmabuf_create_list'],
  [SYNC_IOC_MERGE, 'sync_merge_data'],
  [SYNC_IOC_FILE_INFO, 'sync_file_info'],
];

function layoutFor(name: unknown, what: string): StructLayout {
  if (typeof name !== 'string' || !Object.hasOwn(STRUCTS, name)) {
    throw new CaseError(`${what}: unknown struct '${String(name)}' (known: ${Object.keys(STRUCTS).join(', ')})`);
  }
  return STRUCTS[name] as StructLayout;
}

function inferLayout(cmd: number): StructLayout | null {
  for (const [n, s] of STRUCT_BY_CMD) if ((n & 0xffff) === (cmd & 0xffff)) return STRUCTS[s] ?? null;
  return null;
}

function describe(o: Outcome): string {
  if (o.fault !== null) return `fault ${o.fault}`;
  return o.errno !== null ? `ret=${o.ret} errno=${o.errno}` : `ret=${o.ret} (success)`;
}

/** Directory order for readdir results: numbers numerically, other names as strings. */
function byName(a: string, b: string): number {
  if (/^[0-9]+$/.test(a) && /^[0-9]+$/.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One character per byte (U+0000..U+00FF), in one pass (a read may be 256 MiB). */
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

function textBytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'utf8'));
}

function short(s: string, n = 200): string {
  const j = JSON.stringify(s);
  return j.length > n ? `${j.slice(0, n)}..." (${s.length} chars)` : j;
}

/** Largest byte result shown as hex text (a `bytes` field, `equals` on bytes): twice as many characters. */
export const MAX_HEX_BYTES = 64 * 1024 * 1024;

/** Bytes as hex text, for results up to {@link MAX_HEX_BYTES}. */
function hexOf(b: Uint8Array): string {
  if (b.length > MAX_HEX_BYTES) throw new CaseError(`${b.length} bytes are too many to compare as hex text (at most ${MAX_HEX_BYTES}); check them with zero, all or bytes_at`);
  return toHex(b);
}

function cmpScalar(expected: unknown, lazy: Scalar | (() => Scalar) | undefined, env: EvalEnv, what: string): string | null {
  const actual = typeof lazy === 'function' ? lazy() : lazy;
  if (actual === undefined) return `${what}: no such value`;
  if (typeof actual === 'string' && !/^-?[0-9]+$/.test(actual)) {
    const exp = typeof expected === 'string' ? substitute(expected, env) : String(expected);
    return exp === actual ? null : `${what}: expected ${short(exp)}, observed ${short(actual)}`;
  }
  const want = toInt(expected, env, what);
  const got = BigInt(actual);
  return want === got ? null : `${what}: expected ${want}, observed ${got}`;
}

// ---------------------------------------------------------------------------------------------
// One case instance

class Instance {
  private readonly results = new Map<string, Result>();
  /** Processes `fork` steps made, by their `as` name (a step's `in` runs there). */
  private readonly procs = new Map<string, SyscallTarget>();
  readonly env: EvalEnv;
  readonly confine: Confinement;
  /** Budgets spent so far. */
  private steps = 0;
  private bytes = 0;
  private pollMs = 0;
  /** The op of the step running (for messages). */
  private op = '';
  /** Compiled patterns by source. */
  private readonly patterns = new Map<string, CaseRegex>();

  constructor(public t: SyscallTarget, readonly heap: string | null, confine: ConfineOptions = {}, private readonly facts: MachineFacts | null = null, private readonly profile = '') {
    const constants = constantTable(t.arch, t.pageSize);
    this.env = { constants, lookup: (ref) => this.lookup(ref) };
    this.confine = new Confinement(t, {
      O_ACCMODE: constants.O_ACCMODE ?? 3, O_CREAT: constants.O_CREAT ?? 0o100, O_TRUNC: constants.O_TRUNC ?? 0o1000, F_GETFD: constants.F_GETFD ?? 1,
    }, confine);
  }

  /** One step or repeat iteration more (the step budget). */
  private tick(): void {
    if (++this.steps > CASE_MAX_STEPS) {
      throw new CaseError(`step budget: the case has run more than ${CASE_MAX_STEPS} steps and repeat iterations (the budget of one case)`);
    }
  }

  /** `n` more bytes of buffers (the byte budget); returns n. */
  private spend(n: number, what: string): number {
    this.bytes += n;
    if (this.bytes > CASE_MAX_BYTES) {
      throw new CaseError(`byte budget: ${what} (${n} bytes) takes the buffers of the case past ${CASE_MAX_BYTES} bytes (the budget of one case)`);
    }
    return n;
  }

  /** A path step checked by the confinement rules: the path the target gets. */
  private place(op: PathOp, raw: string, detail: { flags?: number; text?: string } = {}): PathPlan {
    return this.confine.path(op, raw, detail);
  }

  /** A compiled pattern (cached); a pattern the engine cannot run is a case error. */
  private regex(source: string, what: string): CaseRegex {
    let re = this.patterns.get(source);
    if (re === undefined) {
      try {
        re = new CaseRegex(source);
      } catch (e) {
        if (e instanceof CaseRegexError) throw new CaseError(`${what}: ${e.message}`);
        throw e;
      }
      this.patterns.set(source, re);
    }
    return re;
  }

  /** Whether `re` matches in `text`; the regex step budget is a case error. */
  private search(re: CaseRegex, text: string, what: string): boolean {
    try {
      return re.test(text);
    } catch (e) {
      if (e instanceof CaseRegexError) throw new CaseError(`${what}: ${e.message}`);
      throw e;
    }
  }

  private lookup(ref: string): Scalar | undefined {
    const dot = ref.indexOf('.');
    const head = dot < 0 ? ref : ref.slice(0, dot);
    if (head === 'heap' && dot < 0 && this.heap !== null && !this.results.has('heap')) return this.heap;
    if (head === 'pid' && dot < 0 && !this.results.has('pid')) return this.t.getpid();
    const r = this.results.get(head);
    if (r === undefined) {
      if (dot >= 0) throw new CaseError(`no earlier result named '${head}' (in '${ref}')`);
      const fact = this.facts?.values.get(ref);
      if (fact !== undefined) return fact;
      const why = this.facts?.missing.get(ref);
      if (why !== undefined) throw new CaseError(`the machine fact ${ref} is not known on this machine: ${why}`);
      return undefined;
    }
    if (dot < 0) return r.value;
    const field = ref.slice(dot + 1);
    const f = r.fields.get(field);
    const v = typeof f === 'function' ? f() : f;
    if (v === undefined) throw new CaseError(`result '${head}' has no field '${field}' (fields: ${[...r.fields.keys()].join(', ') || 'none'})`);
    return v;
  }

  /** An fd operand: a number, and not one of the runner's descriptors (the confinement). */
  private fd(v: unknown, what: string): number {
    const fd = toNum(v, this.env, what);
    this.confine.checkFd(fd, this.op);
    return fd;
  }

  /** A number operand that is not an fd (an attachment handle). */
  private num(v: unknown, what: string): number {
    return toNum(v, this.env, what);
  }

  private mapOf(v: unknown, what: string): MapHandle {
    if (typeof v !== 'string') throw new CaseError(`${what}: must name an mmap result`);
    const r = this.results.get(substitute(v, this.env));
    if (r === undefined) throw new CaseError(`${what}: no earlier result named '${v}'`);
    if (r.map === undefined) throw new CaseError(`${what}: result '${v}' is not a mapping (no successful mmap)`);
    return r.map;
  }

  /**
   * The range of an address-range step (munmap with offset/length, mprotect, mremap, madvise,
   * msync, mlock, munlock): its op value names a mapping (the range starts at its address and
   * is its length by default) or is an address expression (`m + 0x2000`; `length` is then
   * required); `offset` is added to the start.
   */
  private range(step: Step): { addr: number; length: number } {
    const env = this.env;
    const v = step.target;
    const r = typeof v === 'string' ? this.results.get(substitute(v, env)) : undefined;
    const map = r?.map;
    const base = map !== undefined ? map.addr : toNum(v, env, `${step.op} address`);
    const addr = base + toNum(step.raw.offset ?? 0, env, `${step.op}.offset`);
    if (step.raw.length === undefined && map === undefined) throw new CaseError(`${step.op}: 'length' is needed when the op names an address, not a mapping`);
    const length = step.raw.length !== undefined ? toNum(step.raw.length, env, `${step.op}.length`) : map!.length;
    return { addr, length };
  }

  /** The outcome of a call that makes a mapping (mmap, mremap): its value is the address, with fields addr and length. */
  private mapResult(r: MmapResult): { out: Outcome; res: Result } {
    const fields: Record<string, Scalar> = {};
    if (r.map !== null) { fields.addr = r.map.addr; fields.length = r.map.length; }
    const { out, res } = this.sys(r, {}, fields);
    return { out, res: r.map !== null ? { ...res, value: r.map.addr, map: r.map } : res };
  }

  /** A buffer length: 0..MAX_STEP_BYTES, spent from the byte budget. */
  private len(v: unknown, what: string): number {
    const n = toNum(v, this.env, what);
    if (n < 0 || n > MAX_STEP_BYTES) throw new CaseError(`${what}: ${n} bytes is outside 0..${MAX_STEP_BYTES}`);
    return this.spend(n, what);
  }

  private sys(r: SysResult, extra: Partial<Outcome> = {}, fields: Record<string, Scalar | (() => Scalar)> = {}): { out: Outcome; res: Result } {
    const f = new Map<string, Scalar | (() => Scalar)>(Object.entries(fields));
    f.set('ret', r.ret);
    f.set('errno', r.errno ?? '0');
    const out: Outcome = { ret: BigInt(r.ret), errno: r.errno, fault: null, fields: f, ...extra };
    return { out, res: { value: r.ret, fields: f } };
  }

  /** Runs a list of steps; returns the first failure or null. */
  runSteps(steps: readonly Step[]): StepFailure | null {
    for (const step of steps) {
      // a step for other kernel versions (its `profiles`) is left out
      if (step.profiles !== undefined && !profileMatches(step.profiles, this.profile)) continue;
      const f = this.runStep(step);
      if (f !== null) return f;
    }
    return null;
  }

  private runStep(step: Step): StepFailure | null {
    try {
      this.tick();
    } catch (e) {
      throw new StepError(step, (e as Error).message);
    }
    if (step.op === 'repeat') return this.runRepeat(step);
    let out: Outcome;
    let res: Result;
    this.op = step.op;
    const home = this.t;
    try {
      if (step.in !== undefined) {
        const p = this.procs.get(step.in);
        if (p === undefined) throw new CaseError(`in: no process named '${step.in}' (a fork step names one with 'as')`);
        this.t = p;
      }
      ({ out, res } = this.exec(step));
    } catch (e) {
      if (e instanceof CaseError) throw new StepError(step, e.message);
      if (e instanceof EnvironmentError) throw new StepError(step, e.message, false);
      throw new StepError(step, `target threw: ${e instanceof Error ? e.message : String(e)}`, false);
    } finally {
      this.t = home;
    }
    if (step.as !== undefined) this.results.set(substitute(step.as, this.env), res);
    let msg: string | null;
    try {
      msg = this.check(out, step.expect);
    } catch (e) {
      if (e instanceof CaseError) throw new StepError(step, e.message);
      throw e;
    }
    return msg === null ? null : { step: step.label, op: step.op, message: msg };
  }

  private runRepeat(step: Step): StepFailure | null {
    let n: number;
    try {
      n = toNum(step.target, this.env, 'repeat count');
    } catch (e) {
      throw new StepError(step, (e as Error).message);
    }
    if (n < 0 || n > MAX_REPEAT) throw new StepError(step, `repeat count ${n} is outside 0..${MAX_REPEAT}`);
    const index = typeof step.raw.index === 'string' ? step.raw.index : 'i';
    for (let k = 0; k < n; k++) {
      try {
        this.tick();
      } catch (e) {
        throw new StepError(step, `${(e as Error).message} (iteration ${index}=${k})`);
      }
      const f = new Map<string, Scalar | (() => Scalar)>([['ret', k]]);
      this.results.set(index, { value: k, fields: f });
      const fail = this.runSteps(step.steps ?? []);
      if (fail !== null) return { ...fail, message: `${fail.message} (iteration ${index}=${k})` };
    }
    return null;
  }

  private exec(step: Step): { out: Outcome; res: Result } {
    const t = this.t;
    const raw = step.raw;
    const env = this.env;
    const what = (k: string): string => `${step.op}.${k}`;
    switch (step.op) {
      case 'open': {
        if (typeof step.target !== 'string') throw new CaseError(`open: the path must be a string`);
        const flags = toNum(raw.flags ?? 'O_RDONLY', env, what('flags'));
        const mode = raw.mode === undefined ? undefined : toNum(raw.mode, env, what('mode'));
        const { path } = this.place('open', substitute(step.target, env), { flags });
        return this.sys(mode === undefined ? t.open(path, flags) : t.open(path, flags, mode));
      }
      case 'close': return this.sys(t.close(this.fd(step.target, 'close')));
      case 'dup': return this.sys(t.dup(this.fd(step.target, 'dup')));
      case 'ioctl': return this.ioctl(step);
      case 'mmap': {
        const fd = this.fd(step.target, 'mmap fd');
        const length = toNum(raw.length, env, what('length'));
        const prot = toNum(raw.prot ?? 'PROT_READ', env, what('prot'));
        const flags = toNum(raw.flags ?? 'MAP_SHARED', env, what('flags'));
        const offset = toNum(raw.offset ?? 0, env, what('offset'));
        const addr = toNum(raw.addr ?? 0, env, what('addr'));
        return this.mapResult(t.mmap(length, prot, flags, fd, offset, addr));
      }
      case 'munmap': {
        // the whole mapping by its name, or a range of it (offset, length) or at an address
        if (raw.offset === undefined && raw.length === undefined) return this.sys(t.munmap(this.mapOf(step.target, 'munmap')));
        return this.sys(t.mm({ op: 'munmap', ...this.range(step) }));
      }
      case 'mprotect': return this.sys(t.mm({ op: 'mprotect', ...this.range(step), prot: toNum(raw.prot, env, what('prot')) }));
      case 'mremap': {
        const { addr, length } = this.range(step);
        const newLength = toNum(raw.new_length, env, what('new_length'));
        const flags = toNum(raw.flags ?? 0, env, what('flags'));
        const newAddr = toNum(raw.new_addr ?? 0, env, what('new_addr'));
        return this.mapResult(t.mm({ op: 'mremap', addr, length, newLength, flags, newAddr }));
      }
      case 'madvise': return this.sys(t.mm({ op: 'madvise', ...this.range(step), advice: toNum(raw.advice, env, what('advice')) }));
      case 'msync': return this.sys(t.mm({ op: 'msync', ...this.range(step), flags: toNum(raw.flags ?? 'MS_SYNC', env, what('flags')) }));
      case 'mlock': return this.sys(t.mm({ op: 'mlock', ...this.range(step), flags: toNum(raw.flags ?? 0, env, what('flags')) }));
      case 'munlock': return this.sys(t.mm({ op: 'munlock', ...this.range(step) }));
      case 'write_mem': {
        const map = this.mapOf(step.target, 'write_mem');
        const offset = toNum(raw.offset ?? 0, env, what('offset'));
        const data = this.dataOf(raw, 'write_mem', true);
        const fault = t.writeMem(map, offset, data);
        const f = new Map<string, Scalar | (() => Scalar)>([['ret', fault === null ? 0 : -1], ['fault', fault ?? '0']]);
        return { out: { ret: fault === null ? 0n : -1n, errno: null, fault, fields: f }, res: { value: fault === null ? 0 : -1, fields: f } };
      }
      case 'read_mem': {
        const map = this.mapOf(step.target, 'read_mem');
        const offset = toNum(raw.offset ?? 0, env, what('offset'));
        const length = this.len(raw.length, what('length'));
        const r = t.readMem(map, offset, length);
        if (typeof r === 'string') {
          const f = new Map<string, Scalar | (() => Scalar)>([['ret', -1], ['fault', r]]);
          return { out: { ret: -1n, errno: null, fault: r, fields: f }, res: { value: -1, fields: f } };
        }
        const hex = (): string => hexOf(r);
        const f = new Map<string, Scalar | (() => Scalar)>([['ret', r.length], ['bytes', hex], ['fault', '0']]);
        return { out: { ret: BigInt(r.length), errno: null, fault: null, bytes: r, lazyText: () => latin1(r), fields: f }, res: { value: r.length, fields: f } };
      }
      case 'read': {
        const count = this.len(raw.count ?? 16, what('count'));
        const r = t.read(this.fd(step.target, 'read fd'), count);
        const data = r.data;
        const fields: Record<string, Scalar | (() => Scalar)> = data !== null ? { bytes: () => hexOf(data) } : {};
        return this.sys(r, { bytes: r.data, text: r.data === null ? null : latin1(r.data) }, fields);
      }
      case 'write': {
        const fd = this.fd(step.target, 'write fd');
        const data = raw.bytes === undefined && raw.text === undefined ? textBytes('x') : this.dataOf(raw, 'write', false);
        return this.sys(t.write(fd, data));
      }
      case 'lseek':
        return this.sys(t.lseek(this.fd(step.target, 'lseek fd'), toNum(raw.offset, env, what('offset')), toNum(raw.whence, env, what('whence'))));
      case 'fstat': {
        const r = t.fstat(this.fd(step.target, 'fstat fd'));
        return this.sys(r, {}, r.stat !== null ? { ...r.stat } : {});
      }
      case 'fcntl': {
        const fd = this.fd(step.target, 'fcntl fd');
        const cmd = toNum(raw.cmd, env, what('cmd'));
        // these take a pointer: on the linux backend any other number is an address in the runner
        if (FCNTL_POINTER_CMDS.includes(cmd) && raw.arg !== undefined && toNum(raw.arg, env, what('arg')) !== 0) {
          throw new CaseError(`fcntl: command ${cmd} takes a pointer to a struct; a case may pass only 0 (NULL, which is EFAULT)`);
        }
        return this.sys(raw.arg === undefined ? t.fcntl(fd, cmd) : t.fcntl(fd, cmd, toNum(raw.arg, env, what('arg'))));
      }
      case 'poll': {
        let fds: { fd: number; events: number }[];
        if (Array.isArray(step.target)) {
          fds = step.target.map((e, i) => {
            if (!isObject(e)) throw new CaseError(`poll[${i}]: must be {"fd": ..., "events": ...}`);
            return { fd: this.fd(e.fd, `poll[${i}].fd`), events: toNum(e.events ?? 'POLLIN', env, `poll[${i}].events`) };
          });
        } else {
          fds = [{ fd: this.fd(step.target, 'poll fd'), events: toNum(raw.events ?? 'POLLIN', env, what('events')) }];
        }
        const timeout = toNum(raw.timeout ?? 0, env, what('timeout'));
        if (timeout < 0 || timeout > 10_000) throw new CaseError(`poll.timeout: ${timeout} ms is outside 0..10000 (a case must not block)`);
        this.pollMs += timeout;
        if (this.pollMs > CASE_MAX_POLL_MS) throw new CaseError(`poll budget: the poll timeouts of the case add up to ${this.pollMs} ms, more than ${CASE_MAX_POLL_MS} ms (the budget of one case)`);
        const r = t.poll(fds, timeout);
        const fields: Record<string, Scalar> = {};
        r.revents.forEach((v, i) => { fields[`revents[${i}]`] = v; });
        if (r.revents[0] !== undefined) fields.revents = r.revents[0];
        return this.sys(r, {}, fields);
      }
      case 'readlink':
      case 'read_file': {
        if (typeof step.target !== 'string') throw new CaseError(`${step.op}: the path must be a string`);
        const { path } = this.place(step.op, substitute(step.target, env));
        const r = step.op === 'readlink' ? t.readlink(path) : t.readFile(path);
        const { out, res } = this.sys(r, { text: r.text }, r.text !== null ? { text: r.text } : {});
        return { out, res: r.text !== null ? { ...res, value: r.text } : res };
      }
      case 'readdir': {
        if (typeof step.target !== 'string') throw new CaseError(`readdir: the path must be a string`);
        const plan = this.place('readdir', substitute(step.target, env));
        const r = t.readdir(plan.path);
        const names = r.names === null ? null : r.names.filter((n) => n !== plan.hide).sort(byName);
        const text = names === null ? null : names.join('\n');
        const fields: Record<string, Scalar> = names === null ? {} : { text: text ?? '', count: names.length };
        const { out, res } = this.sys(r, { text }, fields);
        return { out, res: text !== null ? { ...res, value: text } : res };
      }
      case 'setrlimit_nofile': {
        const cur = toNum(step.target, env, 'setrlimit_nofile');
        const max = toNum(raw.max ?? step.target, env, what('max'));
        return this.sys(t.setNofile(cur, max));
      }
      case 'count_fds': {
        const n = t.openFdCount();
        return this.sys({ ret: n, errno: null });
      }
      case 'list_heaps': {
        const names = [...t.listHeaps()].sort();
        const text = names.join(',');
        const { out, res } = this.sys({ ret: names.length, errno: null }, { text }, { text });
        return { out, res };
      }
      case 'sysconf': {
        if (step.target !== 'PAGE_SIZE') throw new CaseError(`sysconf: only "PAGE_SIZE" is supported`);
        return this.sys({ ret: t.pageSize, errno: null });
      }
      case 'memfd_create': {
        if (typeof step.target !== 'string') throw new CaseError(`memfd_create: the name must be a string`);
        return this.sys(t.memfdCreate(substitute(step.target, env), toNum(raw.flags ?? 0, env, what('flags'))));
      }
      case 'ftruncate':
        return this.sys(t.ftruncate(this.fd(step.target, 'ftruncate fd'), toNum(raw.length, env, what('length'))));
      case 'mkdir':
      case 'rmdir': {
        if (typeof step.target !== 'string') throw new CaseError(`${step.op}: the path must be a string`);
        const mode = step.op === 'mkdir' ? toNum(raw.mode ?? '0777', env, what('mode')) : 0;
        const { path } = this.place(step.op, substitute(step.target, env));
        return this.sys(step.op === 'mkdir' ? t.mkdir(path, mode) : t.rmdir(path));
      }
      case 'write_file': {
        if (typeof step.target !== 'string') throw new CaseError(`write_file: the path must be a string`);
        if (typeof raw.text !== 'string') throw new CaseError(`write_file.text must be a string`);
        const text = substitute(raw.text, env);
        this.spend(text.length, 'write_file.text');
        const plan = this.place('write_file', substitute(step.target, env), { text });
        const r = t.writeFile(plan.path, text);
        plan.done?.(r);
        return this.sys(r);
      }
      case 'eval': {
        const v = toInt(step.target, env, 'eval');
        const f = new Map<string, Scalar | (() => Scalar)>([['ret', v]]);
        return { out: { ret: v, errno: null, fault: null, fields: f }, res: { value: v, fields: f } };
      }
      case 'pagemap': {
        const map = this.mapOf(step.target, 'pagemap');
        const page = toNum(raw.page ?? 0, env, what('page'));
        const r = t.pagemap(map, page);
        const e = r.entry ?? 0n;
        const bit = (n: bigint): number => Number((e >> n) & 1n);
        const fields: Record<string, Scalar> = {
          present: r.present ? 1 : 0,
          pfn: r.pfn ?? Number(e & PM_PFRAME_MASK),
          entry: e,
          soft_dirty: bit(55n),
          exclusive: bit(56n),
          file: bit(61n),
          swapped: bit(62n),
        };
        return this.sys(r, {}, fields);
      }
      case 'attach': {
        const fd = this.fd(step.target, 'attach fd');
        const r = t.attach(fd, this.deviceName(raw.device, 'attach.device'));
        return this.sys(r, {}, r.handle !== null ? { handle: r.handle } : {});
      }
      case 'map_attachment': {
        const handle = this.num(step.target, 'map_attachment attachment');
        const r = t.mapAttachment(handle, this.direction(raw.direction ?? 'DMA_BIDIRECTIONAL', what('direction')));
        const fields: Record<string, Scalar> = { handle };
        let text: string | null = null;
        if (r.entries !== null) {
          text = r.entries.map((e) => `0x${e.dmaAddr.toString(16)}:${e.length}`).join('\n');
          Object.assign(fields, { count: r.entries.length, bounced: r.bounced ? 1 : 0, iova: r.iova ? 1 : 0, entries: text });
          const first = r.entries[0];
          if (first !== undefined) Object.assign(fields, { dma_addr: first.dmaAddr, length: first.length });
        }
        const { out, res } = this.sys(r, { text }, fields);
        // the mapping names the attachment: unmap_attachment "sgt" reaches its handle
        return { out, res: { ...res, value: handle } };
      }
      case 'unmap_attachment': return this.sys(t.unmapAttachment(this.num(step.target, 'unmap_attachment attachment')));
      case 'detach': return this.sys(t.detach(this.num(step.target, 'detach attachment')));
      case 'sync_for_cpu':
      case 'sync_for_device': {
        const handle = this.num(step.target, `${step.op} attachment`);
        const dir = raw.direction === undefined ? undefined : this.direction(raw.direction, what('direction'));
        return this.sys(step.op === 'sync_for_cpu' ? t.syncForCpu(handle, dir) : t.syncForDevice(handle, dir));
      }
      case 'device_read': {
        const device = this.deviceName(step.target, 'device_read device');
        const fd = this.fd(raw.buffer, what('buffer'));
        const offset = toNum(raw.offset ?? 0, env, what('offset'));
        const length = this.len(raw.length, what('length'));
        const r = t.deviceRead(device, fd, offset, length);
        const data = r.data;
        if (data === null) return this.sys(r, { bytes: null, text: null });
        return this.sys(r, { bytes: data, lazyText: () => latin1(data) }, { bytes: () => hexOf(data) });
      }
      case 'device_write': {
        const device = this.deviceName(step.target, 'device_write device');
        const fd = this.fd(raw.buffer, what('buffer'));
        const offset = toNum(raw.offset ?? 0, env, what('offset'));
        return this.sys(t.deviceWrite(device, fd, offset, this.dataOf(raw, 'device_write', true)));
      }
      case 'device_stats': {
        const r = t.deviceStats(this.deviceName(step.target, 'device_stats device'));
        const fields: Record<string, Scalar> = {};
        // bounceCopies → bounce_copies
        for (const [k, v] of Object.entries(r.stats ?? {})) fields[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
        return this.sys(r, {}, fields);
      }
      case 'sanitizer': {
        const action = step.target;
        if (action !== 'report' && action !== 'check' && action !== 'clear') throw new CaseError(`sanitizer: the action must be "report", "check" or "clear"`);
        const r = t.sanitizer(action);
        if (r.reports === null) return this.sys(r, { text: null });
        const text = r.reports.map((x) => x.text).join('');
        const fields: Record<string, Scalar> = { count: r.reports.length, kinds: r.reports.map((x) => x.kind).join('\n'), text };
        const { out, res } = this.sys({ ret: r.reports.length, errno: null }, { text }, fields);
        return { out, res };
      }
      case 'repeat':
        throw new CaseError('internal: repeat reached exec');
      default:
        return this.execFile(step);
    }
  }

  /** Processes, epoll and socket pairs (SCM_RIGHTS). */
  private execFile(step: Step): { out: Outcome; res: Result } {
    const t = this.t;
    const raw = step.raw;
    const env = this.env;
    const what = (k: string): string => `${step.op}.${k}`;
    const need = <K extends keyof SyscallTarget>(k: K, why: string): NonNullable<SyscallTarget[K]> => {
      const f = t[k];
      if (f === undefined) throw new CaseError(`${step.op}: the ${t.backend} backend cannot ${why}; give the case "backend": "emulated"`);
      return f as NonNullable<SyscallTarget[K]>;
    };
    switch (step.op) {
      case 'fork': {
        if (step.as === undefined) throw new CaseError(`fork: name the child with 'as' (its steps then say "in": "<name>")`);
        if (this.procs.size >= MAX_PROCS) throw new CaseError(`fork: a case makes at most ${MAX_PROCS} processes`);
        const fork = need('fork', 'fork (a Node process cannot)');
        const child = fork.call(t);
        this.procs.set(substitute(step.as, env), child);
        const pid = child.getpid();
        return this.sys({ ret: pid, errno: null }, {}, { pid });
      }
      case 'exec':
        return this.sys(need('exec', 'exec').call(t));
      case 'exit':
        if (step.in === undefined) throw new CaseError(`exit: only a forked process exits (give "in": "<name>")`);
        t.dispose();
        return this.sys({ ret: 0, errno: null });
      case 'epoll_create':
        return this.sys(need('epollCreate', 'epoll').call(t, toNum(step.target ?? 0, env, 'epoll_create flags')));
      case 'epoll_ctl': {
        const epfd = this.fd(step.target, 'epoll_ctl epfd');
        const fd = this.fd(raw.fd, what('fd'));
        const events = toNum(raw.events ?? 0, env, what('events'));
        const data = BigInt(toNum(raw.data ?? 0, env, what('data')));
        return this.sys(need('epollCtl', 'epoll').call(t, epfd, toNum(raw.op, env, what('op')), fd, events, data));
      }
      case 'epoll_wait': {
        const epfd = this.fd(step.target, 'epoll_wait epfd');
        const max = toNum(raw.maxevents ?? 8, env, what('maxevents'));
        if (max > 64) throw new CaseError(`epoll_wait.maxevents: ${max} is more than 64`);
        const timeout = toNum(raw.timeout ?? 0, env, what('timeout'));
        if (timeout < 0 || timeout > 10_000) throw new CaseError(`epoll_wait.timeout: ${timeout} ms is outside 0..10000 (a case must not block)`);
        this.pollMs += timeout;
        if (this.pollMs > CASE_MAX_POLL_MS) throw new CaseError(`poll budget: the poll timeouts of the case add up to ${this.pollMs} ms, more than ${CASE_MAX_POLL_MS} ms (the budget of one case)`);
        const r = need('epollWait', 'epoll').call(t, epfd, max, timeout);
        const fields: Record<string, Scalar> = {};
        r.events.forEach((e, i) => { fields[`events[${i}]`] = e.events; fields[`data[${i}]`] = Number(e.data); });
        // the probe's form: [<data> 0x<events>] per event
        const text = r.events.map((e) => `[${e.data} 0x${e.events.toString(16)}]`).join(' ');
        return this.sys(r, { text }, { ...fields, text });
      }
      case 'socketpair': {
        const r = need('socketpair', 'make sockets').call(t, toNum(step.target ?? 'SOCK_STREAM', env, 'socketpair type'));
        const fields: Record<string, Scalar> = r.fds === null ? {} : { fd0: r.fds[0], fd1: r.fds[1] };
        return this.sys(r, {}, fields);
      }
      case 'sendmsg': {
        const sock = this.fd(step.target, 'sendmsg socket');
        const list = raw.fds ?? [];
        if (!Array.isArray(list) || list.length > 253) throw new CaseError(`sendmsg.fds: must be a list of at most 253 fds`);
        const fds = list.map((v, i) => this.fd(v, `sendmsg.fds[${i}]`));
        const data = raw.bytes === undefined && raw.text === undefined ? textBytes('x') : this.dataOf(raw, 'sendmsg', false);
        if (data.length < 1 || data.length > 4096) throw new CaseError(`sendmsg: ${data.length} bytes is outside 1..4096`);
        return this.sys(need('sendmsg', 'send messages').call(t, sock, data, fds));
      }
      case 'recvmsg': {
        const sock = this.fd(step.target, 'recvmsg socket');
        const length = toNum(raw.length ?? 16, env, what('length'));
        if (length < 1 || length > 4096) throw new CaseError(`recvmsg.length: ${length} is outside 1..4096`);
        const maxFds = toNum(raw.max_fds ?? 1, env, what('max_fds'));
        if (maxFds < 0 || maxFds > 253) throw new CaseError(`recvmsg.max_fds: ${maxFds} is outside 0..253`);
        const r = need('recvmsg', 'receive messages').call(t, sock, length, maxFds, toNum(raw.flags ?? 0, env, what('flags')));
        const fields: Record<string, Scalar> = { fd: r.fds[0] ?? -1, nfds: r.fds.length, flags: r.flags, ctrunc: (r.flags & 8) !== 0 ? 1 : 0 };
        r.fds.forEach((fd, i) => { fields[`fd[${i}]`] = fd; });
        const data = r.data;
        return this.sys(r, { bytes: data, text: data === null ? null : latin1(data) }, fields);
      }
      default:
        throw new CaseError(`internal: no handler for ${step.op}`);
    }
  }

  /** The processes fork steps made end with the case. */
  disposeProcs(): void {
    for (const p of this.procs.values()) {
      try { p.dispose(); } catch { /* already gone */ }
    }
    this.procs.clear();
  }

  /** A device name (a string, with `${}`): a board device's path or dev_name, or a case-declared device. */
  private deviceName(v: unknown, what: string): string {
    if (typeof v !== 'string' || v === '') throw new CaseError(`${what}: must be a device name (a string)`);
    return substitute(v, this.env);
  }

  /** A DMA direction: DMA_BIDIRECTIONAL (0), DMA_TO_DEVICE (1) or DMA_FROM_DEVICE (2), or an expression giving one. */
  private direction(v: unknown, what: string): DmaDir {
    const d = toNum(v, this.env, what);
    if (d !== 0 && d !== 1 && d !== 2) throw new CaseError(`${what}: ${d} is not a DMA direction (DMA_BIDIRECTIONAL, DMA_TO_DEVICE or DMA_FROM_DEVICE)`);
    return d;
  }

  /** Bytes for write/write_mem/device_write: `bytes` (hex), `text`, or (write_mem, device_write) `fill` + `length`. */
  private dataOf(raw: Readonly<Record<string, unknown>>, op: string, allowFill: boolean): Uint8Array {
    const given = ['bytes', 'text', 'fill'].filter((k) => raw[k] !== undefined);
    if (given.length !== 1) throw new CaseError(`${op}: give exactly one of bytes, text${allowFill ? ', fill' : ''}`);
    if (raw.bytes !== undefined) {
      if (typeof raw.bytes !== 'string') throw new CaseError(`${op}.bytes must be a hex string`);
      const b = parseHex(substitute(raw.bytes, this.env), `${op}.bytes`);
      this.spend(b.length, `${op}.bytes`);
      return b;
    }
    if (raw.text !== undefined) {
      if (typeof raw.text !== 'string') throw new CaseError(`${op}.text must be a string`);
      const b = textBytes(substitute(raw.text, this.env));
      this.spend(b.length, `${op}.text`);
      return b;
    }
    if (!allowFill) throw new CaseError(`${op}: 'fill' is only for write_mem and device_write`);
    const b = toNum(raw.fill, this.env, `${op}.fill`);
    if (b < 0 || b > 255) throw new CaseError(`${op}.fill: ${b} is not a byte value`);
    if (raw.length === undefined) throw new CaseError(`${op}: 'fill' needs 'length'`);
    return new Uint8Array(this.len(raw.length, `${op}.length`)).fill(b);
  }

  private ioctl(step: Step): { out: Outcome; res: Result } {
    const env = this.env;
    const fd = this.fd(step.target, 'ioctl fd');
    const cmdBig = toInt(step.raw.cmd, env, 'ioctl.cmd');
    if (cmdBig < 0n || cmdBig > 0xffffffffn) throw new CaseError(`ioctl.cmd: ${cmdBig} does not fit 32 bits`);
    const cmd = Number(cmdBig);
    const a = step.raw.arg;
    let arg: IoctlArg;
    let layout: StructLayout | null = null;
    if (a === undefined || a === null) arg = null;
    else if (a === 'unmapped') arg = 'unmapped';
    else if (isObject(a) && a.at !== undefined) {
      const extra = Object.keys(a).filter((k) => k !== 'at' && k !== 'offset');
      if (extra.length > 0) throw new CaseError(`ioctl.arg: an "at" argument takes only 'offset' besides 'at' (got ${extra.join(', ')})`);
      const map = this.mapOf(a.at, 'ioctl.arg.at');
      const off = toNum(a.offset ?? 0, env, 'ioctl.arg.offset');
      return this.sys(this.t.ioctlAt(fd, cmd, map.addr + off));
    } else if (isObject(a) && a.string !== undefined) {
      const extra = Object.keys(a).filter((k) => k !== 'string');
      if (extra.length > 0) throw new CaseError(`ioctl.arg: a string argument takes no other keys (got ${extra.join(', ')})`);
      if (typeof a.string !== 'string') throw new CaseError(`ioctl.arg.string must be a string`);
      return this.sys(this.t.ioctlString(fd, cmd, substitute(a.string, env)));
    } else if (isObject(a) && a.bytes !== undefined) {
      const extra = Object.keys(a).filter((k) => k !== 'bytes' && k !== 'decode');
      if (extra.length > 0) throw new CaseError(`ioctl.arg: a bytes argument takes only 'decode' besides 'bytes' (got ${extra.join(', ')})`);
      if (typeof a.bytes !== 'string') throw new CaseError(`ioctl.arg.bytes must be a hex string`);
      arg = parseHex(substitute(a.bytes, env), 'ioctl.arg.bytes');
      this.spend(arg.length, 'ioctl.arg.bytes');
      layout = a.decode !== undefined ? layoutFor(a.decode, 'ioctl.arg.decode') : inferLayout(cmd);
    } else if (isObject(a) && a.struct !== undefined) {
      layout = layoutFor(a.struct, 'ioctl.arg.struct');
      // `size` and `pad` are the buffer options unless the struct has a field of that name
      // (udmabuf_create.size, sync_merge_data.pad); `buffer_size`/`buffer_pad` always are
      const isField = (k: string): boolean => layout !== null && layout.fields.some((f) => f.name === k);
      const bufSize = a.buffer_size ?? (isField('size') ? undefined : a.size);
      const bufPad = a.buffer_pad ?? (isField('pad') ? undefined : a.pad);
      const options = new Set(['struct', 'items', 'buffer_size', 'buffer_pad']);
      if (!isField('size')) options.add('size');
      if (!isField('pad')) options.add('pad');
      const values: Record<string, number | bigint | string> = {};
      for (const [k, v] of Object.entries(a)) {
        if (options.has(k)) continue;
        if (typeof v !== 'number' && typeof v !== 'string') throw new CaseError(`ioctl.arg.${k}: must be a number or an expression string`);
        values[k] = v;
      }
      let enc: Uint8Array;
      try {
        enc = encodeStruct(layout, values, undefined, (s) => toInt(s, env, `${layout?.name ?? ''}.field`));
      } catch (e) {
        if (e instanceof CaseError) throw e;
        throw new CaseError(`ioctl.arg: ${(e as Error).message}`);
      }
      if (bufSize !== undefined) {
        const size = this.len(bufSize, 'ioctl.arg.size');
        const pad = bufPad === undefined ? 0 : toNum(bufPad, env, 'ioctl.arg.pad');
        if (pad < 0 || pad > 255) throw new CaseError(`ioctl.arg.pad: ${pad} is not a byte value`);
        const buf = new Uint8Array(size).fill(pad);
        buf.set(enc.subarray(0, Math.min(size, enc.length)));
        enc = buf;
      } else if (bufPad !== undefined) throw new CaseError(`ioctl.arg.pad needs ioctl.arg.size`);
      const counted = bufSize === undefined ? 0 : enc.length; // ioctl.arg.size was spent by len()
      if (a.items !== undefined) enc = this.appendItems(enc, a.items);
      this.spend(enc.length - counted, 'ioctl.arg');
      arg = enc;
    } else {
      throw new CaseError(`ioctl.arg must be null, "unmapped", {"struct": ...}, {"bytes": "hex"}, {"string": ...} or {"at": mapping}`);
    }
    const r = this.t.ioctl(fd, cmd, arg);
    const bytes = r.out ?? (arg instanceof Uint8Array ? arg : null);
    const fields: Record<string, Scalar | (() => Scalar)> = {};
    if (bytes !== null) {
      fields.bytes = () => hexOf(bytes);
      if (layout !== null) Object.assign(fields, decodeStruct(layout, bytes));
    }
    return this.sys(r, { bytes: r.out }, fields);
  }

  /**
   * `items` of a struct argument: further structs encoded one after another behind it (the
   * flexible array of e.g. udmabuf_create_list). Each is `{"struct": "<name>", <field>: ...}`.
   */
  private appendItems(head: Uint8Array, items: unknown): Uint8Array {
    if (!Array.isArray(items)) throw new CaseError(`ioctl.arg.items must be a list of {"struct": ...} objects`);
    const parts: Uint8Array[] = [head];
    items.forEach((it, i) => {
      const what = `ioctl.arg.items[${i}]`;
      if (!isObject(it) || it.struct === undefined) throw new CaseError(`${what}: must be {"struct": "<name>", <field>: ...}`);
      const layout = layoutFor(it.struct, `${what}.struct`);
      const values: Record<string, number | bigint | string> = {};
      for (const [k, v] of Object.entries(it)) {
        if (k === 'struct') continue;
        if (typeof v !== 'number' && typeof v !== 'string') throw new CaseError(`${what}.${k}: must be a number or an expression string`);
        values[k] = v;
      }
      try {
        parts.push(encodeStruct(layout, values, undefined, (s) => toInt(s, this.env, `${layout.name}.field`)));
      } catch (e) {
        if (e instanceof CaseError) throw e;
        throw new CaseError(`${what}: ${(e as Error).message}`);
      }
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Checks an outcome against `expect`; returns a failure message or null. */
  private check(o: Outcome, e: Expect | undefined): string | null {
    const env = this.env;
    if (e === undefined || (e.errno === undefined && e.fault === undefined)) {
      if (o.fault !== null) return `expected success, observed fault ${o.fault}`;
      if (o.errno !== null) return `expected success, observed ${describe(o)}`;
      if (e === undefined) return o.ret < 0n ? `expected success, observed ${describe(o)}` : null;
    } else if (e.errno !== undefined) {
      if (o.errno !== e.errno) return `errno: expected ${e.errno}, observed ${describe(o)}`;
    } else if (e.fault !== undefined) {
      if (o.fault !== e.fault) return `fault: expected ${e.fault}, observed ${describe(o)}`;
    }
    if (e.ret !== undefined) {
      const want = toInt(e.ret, env, 'expect.ret');
      if (want !== o.ret) return `ret: expected ${want}, observed ${describe(o)}`;
    }
    const needText = (k: string): string => {
      if (o.lazyText !== undefined) return o.lazyText();
      if (o.text === undefined) throw new CaseError(`expect.${k}: this op has no text to check`);
      return o.text ?? '';
    };
    if (e.match !== undefined) {
      const text = needText('match');
      const re = this.regex(substitute(e.match, env, true), 'expect.match');
      if (!this.search(re, text, 'expect.match')) return `match: /${re.source}/ not found in ${short(text, 400)}`;
    }
    if (e.not_match !== undefined) {
      const text = needText('not_match');
      const re = this.regex(substitute(e.not_match, env, true), 'expect.not_match');
      if (this.search(re, text, 'expect.not_match')) return `not_match: /${re.source}/ found in ${short(text, 400)}`;
    }
    if (e.equals !== undefined) {
      const want = substitute(e.equals, env);
      if (o.bytes !== undefined) {
        // Byte results (read_mem, read, ioctl) compare as hex.
        const got = o.bytes === null ? '(none)' : hexOf(o.bytes);
        if (got !== want.replace(/\s+/g, '').toLowerCase()) return `equals: expected bytes ${short(want)}, observed ${short(got)}`;
      } else {
        const text = needText('equals');
        if (text !== want) return `equals: expected ${short(want)}, observed ${short(text)}`;
      }
    }
    if (e.zero !== undefined) {
      if (o.bytes === undefined || o.bytes === null) throw new CaseError(`expect.zero: this op has no bytes to check`);
      let nonzero = 0;
      let first = -1;
      for (let i = 0; i < o.bytes.length; i++) if (o.bytes[i] !== 0) { nonzero++; if (first < 0) first = i; }
      if (e.zero && nonzero > 0) return `zero: ${nonzero} of ${o.bytes.length} bytes are nonzero (first at offset ${first}: 0x${(o.bytes[first] ?? 0).toString(16)})`;
      if (!e.zero && nonzero === 0) return `zero: expected some nonzero byte, all ${o.bytes.length} are zero`;
    }
    if (e.all !== undefined) {
      if (o.bytes === undefined || o.bytes === null) throw new CaseError(`expect.all: this op has no bytes to check`);
      const want = toNum(e.all, env, 'expect.all');
      let bad = 0;
      let first = -1;
      for (let i = 0; i < o.bytes.length; i++) if (o.bytes[i] !== want) { bad++; if (first < 0) first = i; }
      if (bad > 0) return `all: ${bad} of ${o.bytes.length} bytes differ from 0x${want.toString(16)} (first at offset ${first}: 0x${(o.bytes[first] ?? 0).toString(16)})`;
    }
    if (e.bytes_at !== undefined) {
      const b = o.bytes;
      if (b === undefined || b === null) throw new CaseError(`expect.bytes_at: this op has no bytes to check`);
      for (const [off, hex] of Object.entries(e.bytes_at)) {
        const want = parseHex(substitute(hex, env), `expect.bytes_at.${off}`);
        const start = Number(off);
        const got = b.subarray(start, start + want.length);
        if (toHex(got) !== toHex(want)) return `bytes_at ${off}: expected ${toHex(want)}, observed ${toHex(got) || '(past the end)'}`;
      }
    }
    if (e.fields !== undefined) {
      for (const [k, v] of Object.entries(e.fields)) {
        const m = cmpScalar(v, o.fields?.get(k), env, `field ${k}`);
        if (m !== null) return m;
      }
    }
    return null;
  }
}

class StepError extends Error {
  constructor(readonly step: Step, message: string, readonly caseBug = true) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Running files

function profileOf(release: string): string {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m === null ? release : `${m[1]}.${m[2]}`;
}

function instanceName(c: Case, heap: string | null): string {
  if (heap === null) return c.name;
  if (c.name.includes('${heap}')) return c.name.split('${heap}').join(heap);
  // A case written for one named heap needs no suffix; "*" and lists do.
  return c.heaps !== '*' && c.heaps !== null && c.heaps.length === 1 ? c.name : `${c.name} [${heap}]`;
}

interface MachineInfo {
  readonly backend: string;
  readonly arch: string;
  readonly pageSize: number;
  readonly heaps: readonly string[];
  readonly facts: MachineFacts;
}

function kib(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

/** Why the machine `where` does not give the case what it needs (before its heap is known); null when it does. */
function unmetRequirement(c: Case, where: MachineInfo): string | null {
  const r = c.requires;
  const why = r?.why !== undefined ? `: ${r.why}` : '';
  if (r?.pageSize !== undefined && !r.pageSize.includes(where.pageSize)) {
    return `requires ${r.pageSize.map(kib).join(' or ')} pages, this machine's are ${kib(where.pageSize)}${why}`;
  }
  if (r?.arch !== undefined && !r.arch.includes(where.arch)) return `requires arch ${r.arch.join(' or ')}, this machine is ${where.arch}${why}`;
  if (c.heaps !== null && c.heaps !== '*') {
    const r = resolveHeaps(c.heaps, where);
    if ('skip' in r) return r.skip;
  }
  for (const f of c.facts) {
    const missing = where.facts.missing.get(f);
    if (missing !== undefined) return `uses the machine fact ${f}, which this machine does not have: ${missing}`;
  }
  return null;
}

/** Why `heap` lacks a trait the case requires of its heap; null when it has them all. */
function unmetHeapTrait(c: Case, heap: string, where: MachineInfo): string | null {
  const traits = where.facts.heaps.get(heap);
  for (const trait of c.requires?.heap ?? []) {
    if (traits === undefined) return `requires a ${trait} heap, and nothing is known of heap ${heap}`;
    if (!traits[trait]) return `requires a ${trait} heap${c.requires?.why !== undefined ? ` (${c.requires.why})` : ''}: ${heap} is ${traits.why[trait] ?? `not ${trait}`}`;
  }
  return null;
}

/** The case's heap list on machine `where`: `${cma_heap}` becomes that heap's name; null with the reason when the machine has none. */
function resolveHeaps(heaps: readonly string[], where: MachineInfo): { heaps: string[] } | { skip: string } {
  const out: string[] = [];
  for (const h of heaps) {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(h);
    if (m === null) { out.push(h); continue; }
    const name = m[1] ?? '';
    const v = where.facts.values.get(name);
    if (typeof v === 'string') out.push(v);
    else return { skip: `the case's heap is \${${name}}, which this machine does not have: ${where.facts.missing.get(name) ?? 'unknown'}` };
  }
  return { heaps: out };
}

/** Runs every case of `files`, each case instance (case × heap) on a fresh target. */
export async function runCases(files: readonly CaseFile[], makeTarget: () => SyscallTarget | Promise<SyscallTarget>, opts: RunOptions = {}): Promise<Report> {
  const results: CaseResult[] = [];
  const errors = [...(opts.loadErrors ?? [])];
  const first = await makeTarget();
  let facts: MachineFacts;
  try {
    facts = readMachineFacts(first);
  } finally {
    first.dispose();
  }
  const info = {
    backend: first.backend, arch: first.arch, release: first.release, pageSize: first.pageSize,
    heaps: [...first.listHeaps()], profile: opts.profile ?? profileOf(first.release), facts,
  };
  const confine: ConfineOptions = {
    allowHostPaths: opts.allowHostPaths === true,
    host: opts.host !== undefined ? opts.host : info.backend === 'linux' ? { resolve: resolveHostPath } : null,
  };
  const push = (r: CaseResult): void => { results.push(r); opts.onResult?.(r); };
  // a case machine is booted once to learn its arch and heaps; then once per case instance
  const machines = new Map<string, MachineInfo | string>();
  const machineInfo = async (m: CaseMachine): Promise<MachineInfo | string> => {
    const key = machineKey(m);
    let mi = machines.get(key);
    if (mi === undefined) {
      try {
        const t = await opts.machineTarget!(m);
        try {
          mi = { backend: t.backend, arch: t.arch, pageSize: t.pageSize, heaps: [...t.listHeaps()], facts: readMachineFacts(t) };
        } finally {
          t.dispose();
        }
      } catch (e) {
        mi = `cannot boot the case's machine: ${e instanceof Error ? e.message : String(e)}`;
      }
      machines.set(key, mi);
    }
    return mi;
  };

  for (const file of files) {
    for (const c of file.cases) {
      const base = { file: file.display, caseIndex: c.index };
      let skip: string | null = null;
      if (c.profiles !== undefined && !profileMatches(c.profiles, info.profile)) skip = `profile ${info.profile} not in [${c.profiles.join(', ')}]`;
      else if (c.backend !== undefined && c.backend !== info.backend) skip = `backend ${info.backend} is not ${c.backend}`;
      else if (c.machine !== undefined && opts.machineTarget === undefined) skip = 'this run cannot boot a case machine (board, cmdline, features, ram, devices, sanitizer)';
      // a case machine keeps the run's page size: a page size it cannot have is known before it boots
      else if (c.requires?.pageSize !== undefined && !c.requires.pageSize.includes(info.pageSize)) skip = unmetRequirement(c, info);
      let where: MachineInfo = info;
      let machineError: string | null = null;
      if (skip === null && c.machine !== undefined && (opts.filter === undefined || wouldMatch(c, opts.filter))) {
        const mi = await machineInfo(c.machine);
        if (typeof mi === 'string') machineError = mi;
        else where = mi;
      }
      if (skip === null && c.arch !== undefined && c.arch !== where.arch) skip = `arch ${where.arch} is not ${c.arch}`;
      if (skip === null && machineError === null) skip = unmetRequirement(c, where);
      let heaps: (string | null)[];
      if (c.heaps === null) heaps = [null];
      // the heaps of a case machine that is not booted are unknown: one line for the case
      else if (c.heaps === '*') heaps = where.heaps.length > 0 && !(c.machine !== undefined && (skip !== null || machineError !== null)) ? [...where.heaps] : [];
      else if (skip !== null || machineError !== null) heaps = c.heaps.some((h) => h.includes('${')) ? [] : [...c.heaps];
      else {
        const r = resolveHeaps(c.heaps, where);
        if ('skip' in r) { skip = r.skip; heaps = []; } else heaps = r.heaps;
      }
      if (heaps.length === 0) {
        if (opts.filter === undefined || c.name.includes(opts.filter)) {
          if (machineError !== null) push({ ...base, name: c.name, heap: null, status: 'error', failure: { step: '0', op: 'machine', message: machineError } });
          else push({ ...base, name: c.name, heap: null, status: 'skip', reason: skip ?? 'the target exposes no heaps' });
        }
        continue;
      }
      const make = c.machine === undefined ? makeTarget : (): SyscallTarget | Promise<SyscallTarget> => opts.machineTarget!(c.machine!);
      for (const heap of heaps) {
        const name = instanceName(c, heap);
        if (opts.filter !== undefined && !name.includes(opts.filter)) continue;
        if (skip !== null) { push({ ...base, name, heap, status: 'skip', reason: skip }); continue; }
        if (machineError !== null) { push({ ...base, name, heap, status: 'error', failure: { step: '0', op: 'machine', message: machineError } }); continue; }
        if (heap !== null && !where.heaps.includes(heap)) { push({ ...base, name, heap, status: 'skip', reason: `heap ${heap} is not present (target has: ${where.heaps.join(', ') || 'none'})` }); continue; }
        const trait = heap === null ? null : unmetHeapTrait(c, heap, where);
        if (trait !== null) { push({ ...base, name, heap, status: 'skip', reason: trait }); continue; }
        push(await runInstance(c, heap, base, name, make, confine, where.facts, info.profile));
      }
    }
  }
  const passed = results.filter((r) => r.status === 'pass' || r.status === 'xfail').length;
  const failed = results.filter((r) => r.status === 'fail' || r.status === 'xpass' || r.status === 'error').length + errors.length;
  const skipped = results.filter((r) => r.status === 'skip').length;
  const { facts: f, ...target } = info;
  return { results, errors, passed, failed, skipped, target: { ...target, facts: Object.fromEntries(f.values) } };
}

/**
 * Whether some instance of `c` can match `--filter` (the heap names of "*" are not known before
 * the machine boots, so such a case counts as a possible match).
 */
function wouldMatch(c: Case, filter: string): boolean {
  if (c.name.includes(filter) || c.heaps === '*') return true;
  if (c.heaps === null) return false;
  return c.heaps.some((h) => instanceName(c, h).includes(filter));
}

async function runInstance(c: Case, heap: string | null, base: { file: string; caseIndex: number }, name: string,
  makeTarget: () => SyscallTarget | Promise<SyscallTarget>, confine: ConfineOptions, facts: MachineFacts, profile: string): Promise<CaseResult> {
  let target: SyscallTarget;
  try {
    target = await makeTarget();
  } catch (e) {
    return { ...base, name, heap, status: 'fail', failure: { step: '0', op: 'boot', message: `cannot create the target: ${(e as Error).message}` } };
  }
  let failure: StepFailure | null = null;
  /** A mistake in the case file: an error even in an xfail case. */
  let caseError: StepFailure | null = null;
  let instance: Instance | null = null;
  try {
    // a case with its own machine runs on an emulated kernel: nothing of this machine's
    instance = new Instance(target, heap, c.machine === undefined ? confine : { ...confine, host: null }, facts, profile);
    failure = instance.runSteps(c.steps);
  } catch (e) {
    if (e instanceof StepError) {
      const f = { step: e.step.label, op: e.step.op, message: e.message };
      if (e.caseBug) caseError = f;
      else failure = f;
    } else {
      failure = { step: '?', op: '?', message: `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` };
    }
  }
  // the linux backend's scratch cgroup goes before the process does
  let cleanup: string[];
  try {
    cleanup = instance?.confine.tearDown() ?? [];
  } catch (e) {
    cleanup = [`internal error: ${e instanceof Error ? e.message : String(e)}`];
  }
  instance?.disposeProcs();
  try { target.dispose(); } catch { /* the process may already be gone */ }
  if (cleanup.length > 0) {
    const note = `the scratch cgroup could not be removed: ${cleanup.join('; ')}`;
    const first = caseError ?? failure;
    if (first === null) return { ...base, name, heap, status: 'fail', failure: { step: 'cleanup', op: 'cgroup', message: note } };
    if (caseError !== null) caseError = { ...caseError, message: `${caseError.message}; then ${note}` };
    else failure = { ...first, message: `${first.message}; then ${note}` };
  }
  if (caseError !== null) return { ...base, name, heap, status: 'error', failure: caseError };
  if (c.xfail !== undefined) {
    return failure === null
      ? { ...base, name, heap, status: 'xpass', reason: c.xfail }
      : { ...base, name, heap, status: 'xfail', reason: c.xfail, failure };
  }
  return failure === null ? { ...base, name, heap, status: 'pass' } : { ...base, name, heap, status: 'fail', failure };
}

// ---------------------------------------------------------------------------------------------
// Output

const TAGS: Readonly<Record<CaseStatus, string>> = { pass: 'PASS ', fail: 'FAIL ', skip: 'SKIP ', xfail: 'XFAIL', xpass: 'XPASS', error: 'ERROR' };

/** The line printed for one case instance. */
export function formatResult(r: CaseResult): string {
  const where = `${r.file}: case ${r.caseIndex} "${r.name}"`;
  const step = r.failure !== undefined ? `step ${r.failure.step} (${r.failure.op}): ${r.failure.message}` : '';
  switch (r.status) {
    case 'pass': return `PASS  ${where}`;
    case 'skip': return `SKIP  ${where}: ${r.reason ?? ''}`;
    case 'fail': return `FAIL  ${where}: ${step}`;
    case 'error': return `ERROR ${where}: ${step}`;
    case 'xfail': return `XFAIL ${where}: ${r.reason ?? ''} [${step}]`;
    case 'xpass': return `XPASS ${where}: marked xfail (${r.reason ?? ''}) but passed; remove the mark`;
  }
}

/** The closing line: `N passed, N failed` (and `, N skipped` when some were). */
export function summaryLine(r: Pick<Report, 'passed' | 'failed' | 'skipped'>): string {
  return `${r.passed} passed, ${r.failed} failed${r.skipped > 0 ? `, ${r.skipped} skipped` : ''}`;
}

/** The whole report as text: one line per case instance, load errors, the closing line. */
export function formatReport(r: Report): string {
  const lines = r.results.map(formatResult);
  for (const e of r.errors) lines.push(`ERROR ${e}`);
  lines.push(summaryLine(r));
  return `${lines.join('\n')}\n`;
}

/** The report as a JSON-able object (for --json). */
export function reportJson(r: Report): unknown {
  return {
    target: r.target,
    passed: r.passed, failed: r.failed, skipped: r.skipped,
    errors: r.errors,
    results: r.results.map((x) => ({ ...x, tag: TAGS[x.status].trim() })),
  };
}
