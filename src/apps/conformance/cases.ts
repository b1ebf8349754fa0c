/**
 * Conformance case files: the data model and the loader. Loading checks the structure of every
 * file (JSON syntax, case keys, op names, each op's keys); names inside expressions are checked
 * when the step runs. Every problem is reported with the file, the case and the step index.
 * The format is documented in docs/conformance.md.
 */
import { resolveAndroidProfile } from '../../kernel/android.js';
import { profileListAdmits } from '../../api/kernel-changes.js';
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseSize, RAM_LIMITS, UsageError } from '../common/args.js';
import { isShippedBoardName, shippedBoardPath, shippedBoards } from '../../boards/index.js';
import { SHIPPED_BOARDS_DIR } from '../../boards/files.js';
import { CaseRegex, CaseRegexError } from './regex.js';
import { deviceConfigProblem } from '../../kernel/dev/device.js';
import type { DeviceConfig } from '../../kernel/dev/device.js';
import type { Kconfig } from '../../kernel/kconfig.js';
import { KconfigArgError, kconfigFromArgs, readKconfigFile } from '../common/kconfig-file.js';
import { HEAP_FACTS, HEAP_TRAITS, MACHINE_FACT_NAMES } from './machine.js';
import type { HeapTrait } from './machine.js';

/** The operations a step may perform (the step's single op key). */
export const OPS = [
  'open', 'close', 'dup', 'ioctl', 'mmap', 'munmap', 'write_mem', 'read_mem', 'read', 'write',
  'lseek', 'fstat', 'fcntl', 'poll', 'readlink', 'read_file', 'readdir', 'setrlimit_nofile',
  'count_fds', 'list_heaps', 'sysconf', 'memfd_create', 'ftruncate', 'mkdir', 'rmdir', 'write_file',
  'eval', 'pagemap', 'repeat',
  'attach', 'map_attachment', 'unmap_attachment', 'detach', 'sync_for_cpu', 'sync_for_device',
  'device_read', 'device_write', 'device_stats', 'sanitizer',
  // the address-range calls of mm (a mapping's name or an address, then offset and length)
  'mprotect', 'mremap', 'madvise', 'msync', 'mlock', 'munlock',
  // processes and the generic file layer (fork, exec, exit: the emulated kernel only)
  'fork', 'exec', 'exit', 'epoll_create', 'epoll_ctl', 'epoll_wait', 'socketpair', 'sendmsg', 'recvmsg',
] as const;
export type OpName = (typeof OPS)[number];

/** Keys a step may carry besides its op key, per op (`as`, `expect` and `comment` always allowed). */
const OP_KEYS: Readonly<Record<OpName, { readonly required: readonly string[]; readonly optional: readonly string[] }>> = {
  open: { required: [], optional: ['flags', 'mode'] },
  close: { required: [], optional: [] },
  dup: { required: [], optional: [] },
  ioctl: { required: ['cmd'], optional: ['arg'] },
  mmap: { required: ['length'], optional: ['prot', 'flags', 'offset', 'addr'] },
  munmap: { required: [], optional: ['offset', 'length'] },
  write_mem: { required: [], optional: ['offset', 'bytes', 'fill', 'text', 'length'] },
  read_mem: { required: ['length'], optional: ['offset'] },
  read: { required: [], optional: ['count'] },
  write: { required: [], optional: ['bytes', 'text'] },
  lseek: { required: ['offset', 'whence'], optional: [] },
  fstat: { required: [], optional: [] },
  fcntl: { required: ['cmd'], optional: ['arg'] },
  poll: { required: [], optional: ['events', 'timeout'] },
  readlink: { required: [], optional: [] },
  read_file: { required: [], optional: [] },
  readdir: { required: [], optional: [] },
  setrlimit_nofile: { required: [], optional: ['max'] },
  count_fds: { required: [], optional: [] },
  list_heaps: { required: [], optional: [] },
  sysconf: { required: [], optional: [] },
  memfd_create: { required: [], optional: ['flags'] },
  ftruncate: { required: ['length'], optional: [] },
  mkdir: { required: [], optional: ['mode'] },
  rmdir: { required: [], optional: [] },
  write_file: { required: ['text'], optional: [] },
  eval: { required: [], optional: [] },
  pagemap: { required: [], optional: ['page'] },
  repeat: { required: ['steps'], optional: ['index'] },
  attach: { required: ['device'], optional: [] },
  map_attachment: { required: [], optional: ['direction'] },
  unmap_attachment: { required: [], optional: [] },
  detach: { required: [], optional: [] },
  sync_for_cpu: { required: [], optional: ['direction'] },
  sync_for_device: { required: [], optional: ['direction'] },
  device_read: { required: ['buffer', 'length'], optional: ['offset'] },
  device_write: { required: ['buffer'], optional: ['offset', 'bytes', 'fill', 'text', 'length'] },
  device_stats: { required: [], optional: [] },
  sanitizer: { required: [], optional: [] },
  mprotect: { required: ['prot'], optional: ['offset', 'length'] },
  mremap: { required: ['new_length'], optional: ['offset', 'length', 'flags', 'new_addr'] },
  madvise: { required: ['advice'], optional: ['offset', 'length'] },
  msync: { required: [], optional: ['offset', 'length', 'flags'] },
  mlock: { required: [], optional: ['offset', 'length', 'flags'] },
  munlock: { required: [], optional: ['offset', 'length'] },
  fork: { required: [], optional: [] },
  exec: { required: [], optional: [] },
  exit: { required: [], optional: [] },
  epoll_create: { required: [], optional: [] },
  epoll_ctl: { required: ['op', 'fd'], optional: ['events', 'data'] },
  epoll_wait: { required: [], optional: ['maxevents', 'timeout'] },
  socketpair: { required: [], optional: [] },
  sendmsg: { required: [], optional: ['fds', 'bytes', 'text'] },
  recvmsg: { required: [], optional: ['length', 'max_fds', 'flags'] },
};

/** What a step checks. Every key is optional; see docs/conformance.md. */
export interface Expect {
  readonly ret?: unknown;
  readonly errno?: string;
  readonly fault?: string;
  readonly match?: string;
  readonly not_match?: string;
  readonly equals?: string;
  readonly zero?: boolean;
  readonly all?: unknown;
  readonly fields?: Readonly<Record<string, unknown>>;
  readonly bytes_at?: Readonly<Record<string, string>>;
}

const EXPECT_KEYS = ['ret', 'errno', 'fault', 'match', 'not_match', 'equals', 'zero', 'all', 'fields', 'bytes_at'] as const;

export interface Step {
  /** "3", or "3.1" for the first step inside a repeat at step 3 (1-based). */
  readonly label: string;
  readonly op: OpName;
  /** The op key's value. */
  readonly target: unknown;
  /** The step object as written. */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly as?: string;
  readonly expect?: Expect;
  /** The process the step runs in: the name a `fork` step stored (absent: the case's first process). */
  readonly in?: string;
  /** Only for repeat. */
  readonly steps?: readonly Step[];
  /** The profiles the step runs on (profileMatches); elsewhere it is left out. */
  readonly profiles?: readonly string[];
}

/** Feature names a case's `features` list may use (the CLI's --features values). */
export const CASE_FEATURES = ['coherent', 'coherent-v3', 'coherent-prefixed'] as const;

/** The case keys that give a case its own machine (they need `"backend": "emulated"`). */
export const MACHINE_KEYS = ['board', 'cmdline', 'features', 'ram', 'devices', 'sanitizer', 'kconfig'] as const;

/** The keys a case-level device may have (KernelConfig.devices entries, src/kernel/dev/device.ts). */
const DEVICE_KEYS: Readonly<Record<string, 'string' | 'number' | 'boolean'>> = {
  name: 'string', dmaMask: 'number', iommu: 'boolean', coherent: 'boolean', needsContiguous: 'boolean',
  protectedAccess: 'boolean', model: 'string', dmaOffset: 'number',
};

/**
 * The machine a case asks for with its own keys (`board`, `cmdline`, `features`, `ram`,
 * `devices`, `sanitizer`): it runs on that machine instead of the run's. Only the emulated
 * backend can boot one.
 */
export interface CaseMachine {
  /** The board file as written in the case (relative to the case file's directory). */
  readonly board?: string;
  /** The board file resolved against the case file's directory. */
  readonly boardPath?: string;
  /**
   * The directory a board file given as a path and its `/include/` and `/incbin/` files must
   * stay in (or in the shipped boards' directory): the case file's directory (its real path).
   * Absent for a shipped board's name and with --allow-host-paths.
   */
  readonly boardRoot?: string;
  /** The kernel command line (replaces the board's bootargs and the run's --cmdline). */
  readonly cmdline?: string;
  /** Proposed kernel features switched on (replaces the run's --features). */
  readonly features?: readonly string[];
  /** RAM size in bytes (replaces the run's --ram; not with a board, whose /memory gives the RAM). */
  readonly ramBytes?: number;
  /** DMA devices added to (or overriding the flags of) the board's. */
  readonly devices?: readonly DeviceConfig[];
  /** The sync sanitizer on (true) or off (false), replacing the run's --sanitize. */
  readonly sanitizer?: boolean;
  /**
   * The kernel configuration (`"kconfig"`: what --kconfig takes, a string or a list: options
   * `SYMBOL=value`, comma-separated, and/or a .config file relative to the case file), on top of
   * the run's --kconfig options.
   */
  readonly kconfig?: Kconfig;
}

/** A key identifying a case machine (cases with equal keys share the boot-time information). */
export function machineKey(m: CaseMachine): string {
  const kc = m.kconfig === undefined ? null : [m.kconfig.base?.source ?? null, m.kconfig.options];
  return JSON.stringify([m.boardPath ?? null, m.boardRoot ?? null, m.cmdline ?? null, m.features ?? null, m.ramBytes ?? null, m.devices ?? null, m.sanitizer ?? null, kc]);
}

/**
 * What a case needs of the machine (`requires`): it is skipped elsewhere, and the SKIP line says
 * which requirement failed and `why`.
 */
export interface CaseRequires {
  /** Page sizes in bytes the case holds on (e.g. [4096]: it encodes a 4 KiB PFN layout). */
  readonly pageSize?: readonly number[];
  /** Architectures the case holds on. */
  readonly arch?: readonly string[];
  /** What the case's heap must be (per heap instance): mappable, contiguous, cma. */
  readonly heap?: readonly HeapTrait[];
  /** Why, in words: printed with the skip. */
  readonly why?: string;
}

export interface Case {
  /** 1-based position in the file. */
  readonly index: number;
  readonly name: string;
  /**
   * '*': every heap; a list: those heaps; null: the case does not use a heap. A list entry may
   * be a machine fact naming a heap (`${cma_heap}`), resolved on the machine.
   */
  readonly heaps: '*' | readonly string[] | null;
  readonly requires?: CaseRequires;
  /** The machine facts (machine.ts) the case names: without one of them it is skipped. */
  readonly facts: readonly string[];
  readonly profiles?: readonly string[];
  readonly backend?: string;
  readonly arch?: string;
  readonly xfail?: string;
  /** The case's own machine, when it has one of the MACHINE_KEYS. */
  readonly machine?: CaseMachine;
  readonly steps: readonly Step[];
}

export interface CaseFile {
  readonly path: string;
  /** The path as printed (relative to the working directory). */
  readonly display: string;
  readonly cases: readonly Case[];
}

export interface LoadResult {
  readonly files: CaseFile[];
  /** One message per problem: "file: case 2 \"name\": step 3: ...". */
  readonly errors: string[];
}

/** Options of loading. */
export interface LoadOptions {
  /** `--allow-host-paths`: a case's board may be any file (a trusted suite). */
  readonly allowHostPaths?: boolean;
}

/** Largest case file read (bytes). */
export const CASE_FILE_MAX_BYTES = 16 * 1024 * 1024;

/** `path` is `root` or below it. */
export function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** The shipped boards' directory (examples/boards of the package), its real path. */
export function shippedBoardsDir(): string {
  return realOrNull(SHIPPED_BOARDS_DIR) ?? SHIPPED_BOARDS_DIR.replace(/\/$/, '');
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync.native(p);
  } catch {
    return null;
  }
}

const CASE_KEYS = new Set(['name', 'heap', 'profiles', 'backend', 'arch', 'requires', 'xfail', ...MACHINE_KEYS, 'steps', 'comment']);

/** The keys of `requires`. */
const REQUIRES_KEYS = ['page_size', 'arch', 'heap', 'why'] as const;

/** Page sizes a machine may have (the emulator's --page-size values; Linux's on x86-64 and arm64). */
const PAGE_SIZES = [4096, 16384, 65536];

/**
 * Names a step may not store a result under: the machine facts (new with them, so no older case
 * file used them; `heap`, `pid` and the constants may still be shadowed by a result, as before).
 */
const RESERVED_NAMES = MACHINE_FACT_NAMES;
const STEP_COMMON = new Set(['as', 'expect', 'comment', 'in', 'profiles']);

/**
 * A `profiles` list holds on `profile`: it names it, or its entries are all exclusions
 * (`!5.10`) and none of them names it.
 */
export function profileMatches(list: readonly string[], profile: string): boolean {
  // an Android GKI branch (android14-6.1) is its mainline base too, unless named itself
  const base = resolveAndroidProfile(profile)?.mainline ?? null;
  return profileListAdmits(list, base === null ? [profile] : [profile, base]);
}

class LoadError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseExpect(v: unknown, where: string): Expect {
  if (!isObject(v)) throw new LoadError(`${where}: 'expect' must be an object`);
  for (const k of Object.keys(v)) {
    if (!(EXPECT_KEYS as readonly string[]).includes(k)) throw new LoadError(`${where}: unknown expect key '${k}' (known: ${EXPECT_KEYS.join(', ')})`);
  }
  const str = (k: string): void => {
    if (v[k] !== undefined && typeof v[k] !== 'string') throw new LoadError(`${where}: expect.${k} must be a string`);
  };
  str('errno'); str('fault'); str('match'); str('not_match'); str('equals');
  if (v.errno !== undefined && !/^E[A-Z0-9]+$/.test(v.errno as string)) throw new LoadError(`${where}: expect.errno '${String(v.errno)}' is not an errno name`);
  if (v.fault !== undefined && v.fault !== 'SIGSEGV' && v.fault !== 'SIGBUS' && v.fault !== 'SIGKILL') throw new LoadError(`${where}: expect.fault must be "SIGSEGV", "SIGBUS" or "SIGKILL"`);
  if (v.zero !== undefined && typeof v.zero !== 'boolean') throw new LoadError(`${where}: expect.zero must be true or false`);
  if (v.fields !== undefined && !isObject(v.fields)) throw new LoadError(`${where}: expect.fields must be an object`);
  if (v.bytes_at !== undefined) {
    if (!isObject(v.bytes_at)) throw new LoadError(`${where}: expect.bytes_at must be an object {"offset": "hex"}`);
    for (const [k, x] of Object.entries(v.bytes_at)) {
      if (!/^[0-9]+$/.test(k) || typeof x !== 'string') throw new LoadError(`${where}: expect.bytes_at entries are "<decimal offset>": "<hex>"`);
    }
  }
  for (const k of ['match', 'not_match'] as const) {
    if (typeof v[k] === 'string') {
      // Check the pattern now (with ${...} blanked out): JavaScript syntax, and what the
      // linear-time engine runs (regex.ts)
      try {
        new CaseRegex((v[k] as string).replace(/\$\{[^}]*\}/g, 'x'));
      } catch (e) {
        if (!(e instanceof CaseRegexError)) throw e;
        throw new LoadError(`${where}: expect.${k} is not a regular expression the case engine runs: ${e.message} (docs/conformance.md, "Regular expressions")`);
      }
    }
  }
  return v as Expect;
}

function parseSteps(list: unknown, where: string, prefix: string): Step[] {
  if (!Array.isArray(list)) throw new LoadError(`${where}: 'steps' must be an array`);
  return list.map((s, i): Step => {
    const label = `${prefix}${i + 1}`;
    const sw = `${where}: step ${label}`;
    if (!isObject(s)) throw new LoadError(`${sw}: a step must be an object with one op key`);
    const ops = Object.keys(s).filter((k) => !STEP_COMMON.has(k) && (OPS as readonly string[]).includes(k));
    if (ops.length === 0) {
      const unknown = Object.keys(s).filter((k) => !STEP_COMMON.has(k));
      throw new LoadError(`${sw}: no op key${unknown.length > 0 ? ` (unknown op '${unknown[0] ?? ''}'; known: ${OPS.join(', ')})` : ''}`);
    }
    if (ops.length > 1) throw new LoadError(`${sw}: more than one op key (${ops.join(', ')})`);
    const op = ops[0] as OpName;
    const spec = OP_KEYS[op];
    for (const k of Object.keys(s)) {
      if (k === op || STEP_COMMON.has(k)) continue;
      if (!spec.required.includes(k) && !spec.optional.includes(k)) {
        throw new LoadError(`${sw} (${op}): unknown key '${k}'${(OPS as readonly string[]).includes(k) ? '' : ` (allowed: ${[...spec.required, ...spec.optional, 'as', 'expect'].join(', ')})`}`);
      }
    }
    for (const k of spec.required) if (s[k] === undefined) throw new LoadError(`${sw} (${op}): missing key '${k}'`);
    if (s.as !== undefined && (typeof s.as !== 'string' || !/^[A-Za-z_][A-Za-z0-9_${}]*$/.test(s.as))) {
      throw new LoadError(`${sw} (${op}): 'as' must be a name ([A-Za-z_][A-Za-z0-9_]*)`);
    }
    if (typeof s.as === 'string' && RESERVED_NAMES.has(s.as)) {
      throw new LoadError(`${sw} (${op}): 'as' cannot be '${s.as}': the name is a machine fact (docs/conformance.md, "Machine facts")`);
    }
    const step: { -readonly [K in keyof Step]: Step[K] } = { label, op, target: s[op], raw: s };
    if (typeof s.as === 'string') step.as = s.as;
    if (s.in !== undefined) {
      if (typeof s.in !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.in)) throw new LoadError(`${sw} (${op}): 'in' must name a process an earlier fork step stored with 'as'`);
      if (op === 'repeat') throw new LoadError(`${sw} (repeat): give 'in' to the steps inside the repeat`);
      step.in = s.in;
    }
    if (s.expect !== undefined) step.expect = parseExpect(s.expect, `${sw} (${op})`);
    if (s.profiles !== undefined) {
      if (!Array.isArray(s.profiles) || s.profiles.length === 0 || s.profiles.length > 64 || !s.profiles.every((p) => typeof p === 'string' && /^!?[\w.-]{1,32}$/.test(p))) {
        throw new LoadError(`${sw} (${op}): 'profiles' must be a list of kernel profiles (each may start with ! to leave that profile out)`);
      }
      step.profiles = s.profiles as string[];
    }
    if (op === 'repeat') {
      if (s.expect !== undefined || s.as !== undefined) throw new LoadError(`${sw} (repeat): a repeat takes neither 'as' nor 'expect'`);
      if (s.index !== undefined && (typeof s.index !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.index))) throw new LoadError(`${sw} (repeat): 'index' must be a name`);
      step.steps = parseSteps(s.steps, where, `${label}.`);
    }
    return step;
  });
}

/** The case's own machine keys, checked; undefined when it has none. */
function parseMachine(c: Record<string, unknown>, where: string, filePath: string, opts: LoadOptions): CaseMachine | undefined {
  if (MACHINE_KEYS.every((k) => c[k] === undefined)) return undefined;
  const m: { -readonly [K in keyof CaseMachine]: CaseMachine[K] } = {};
  if (c.board !== undefined) {
    if (typeof c.board !== 'string' || c.board === '') throw new LoadError(`${where}: 'board' must be a non-empty string (a shipped board's name, or a DTS, DTB or live-tree path relative to the case file)`);
    m.board = c.board;
    // a shipped board's name is that board (as for --board and createClient), else a path
    if (isShippedBoardName(c.board)) m.boardPath = shippedBoardPath(c.board);
    else {
      const p = resolve(dirname(filePath), c.board);
      let st;
      try {
        st = statSync(p);
      } catch {
        throw new LoadError(`${where}: board '${c.board}' not found (looked for ${p}; board paths are relative to the case file's directory)`);
      }
      m.boardPath = p;
      if (opts.allowHostPaths !== true) {
        // confinement: a file or directory of the suite or of the shipped boards (symbolic links resolved)
        const real = realOrNull(p) ?? p;
        const suite = realOrNull(resolve(dirname(filePath))) ?? resolve(dirname(filePath));
        const shipped = shippedBoardsDir();
        if (!isUnder(real, suite) && !isUnder(real, shipped)) {
          throw new LoadError(`${where}: board '${c.board}' is refused by the confinement rule "boards": a case's board is a shipped board's name `
            + `(${shippedBoards().map((b) => b.name).join(', ')}) or a file or directory inside the case file's directory (${suite}) or the shipped boards' (${shipped}), and '${c.board}' is ${real} `
            + `(docs/conformance.md, "Confinement"; a trusted suite may run with --allow-host-paths)`);
        }
        m.boardRoot = suite;
      }
      if (!st.isFile() && !st.isDirectory()) throw new LoadError(`${where}: board '${c.board}' is not a regular file or a directory (a DTS, a DTB or a live-tree directory)`);
    }
  }
  if (c.cmdline !== undefined) {
    if (typeof c.cmdline !== 'string') throw new LoadError(`${where}: 'cmdline' must be a string (the kernel command line)`);
    m.cmdline = c.cmdline;
  }
  if (c.features !== undefined) {
    if (!Array.isArray(c.features) || !c.features.every((f) => typeof f === 'string')) throw new LoadError(`${where}: 'features' must be a list of strings`);
    for (const f of c.features as string[]) {
      if (!(CASE_FEATURES as readonly string[]).includes(f)) throw new LoadError(`${where}: unknown feature '${f}' (known: ${CASE_FEATURES.join(', ')})`);
    }
    m.features = c.features as string[];
  }
  if (c.ram !== undefined) {
    if (c.board !== undefined) throw new LoadError(`${where}: 'ram' cannot be combined with 'board' (the board's /memory gives the RAM)`);
    let bytes: number;
    try {
      bytes = typeof c.ram === 'number' ? c.ram : typeof c.ram === 'string' ? parseSize(c.ram, 'ram', RAM_LIMITS) : NaN;
    } catch (e) {
      throw new LoadError(`${where}: ${(e as Error).message}${e instanceof UsageError && e.hint !== null ? `; ${e.hint}` : ''}`);
    }
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new LoadError(`${where}: 'ram' must be a size ("8G", "2048M" or a number of bytes)`);
    m.ramBytes = bytes;
  }
  if (c.devices !== undefined) m.devices = parseDevices(c.devices, where);
  if (c.kconfig !== undefined) m.kconfig = parseCaseKconfig(c.kconfig, where, filePath, opts);
  if (c.sanitizer !== undefined) {
    if (typeof c.sanitizer !== 'boolean') throw new LoadError(`${where}: 'sanitizer' must be true or false`);
    m.sanitizer = c.sanitizer;
  }
  if (c.backend !== 'emulated') {
    const used = MACHINE_KEYS.filter((k) => c[k] !== undefined).map((k) => `'${k}'`).join(', ');
    throw new LoadError(`${where}: a case with ${used} boots its own machine and needs "backend": "emulated"`);
  }
  return m;
}

/**
 * The case's `kconfig`: a string or a list of strings, each what --kconfig takes (options
 * `SYMBOL=value`, comma-separated, or a .config file). A file is relative to the case file's
 * directory and must stay in it (symbolic links resolved) unless --allow-host-paths; it is read
 * within the --kconfig limits.
 */
function parseCaseKconfig(v: unknown, where: string, filePath: string, opts: LoadOptions): Kconfig {
  const list = typeof v === 'string' ? [v] : Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  if (list === null) throw new LoadError(`${where}: 'kconfig' must be a string or a list of strings (SYMBOL=value options, comma-separated, or a .config file relative to the case file)`);
  const suite = realOrNull(resolve(dirname(filePath))) ?? resolve(dirname(filePath));
  try {
    return kconfigFromArgs(list, 'kconfig', (name) => {
      const p = resolve(dirname(filePath), name);
      const real = realOrNull(p) ?? p;
      if (opts.allowHostPaths !== true && !isUnder(real, suite)) {
        throw new LoadError(`${where}: kconfig '${name}' is refused by the confinement rule "kconfig": a case's .config file is inside the case file's directory (${suite}), and '${name}' is ${real} (docs/conformance.md, "Confinement"; a trusted suite may run with --allow-host-paths)`);
      }
      return readKconfigFile(p, 'kconfig');
    });
  } catch (e) {
    if (e instanceof KconfigArgError) throw new LoadError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The case's `devices` list, checked: each a DeviceConfig with known keys of the right types. */
function parseDevices(v: unknown, where: string): DeviceConfig[] {
  if (!Array.isArray(v)) throw new LoadError(`${where}: 'devices' must be a list of device objects ({"name": ..., "dmaMask": ..., ...})`);
  const names = new Set<string>();
  return v.map((d, i) => {
    const dw = `${where}: devices[${i}]`;
    if (!isObject(d)) throw new LoadError(`${dw}: must be an object with at least "name"`);
    for (const [k, x] of Object.entries(d)) {
      const type = DEVICE_KEYS[k];
      if (type === undefined) throw new LoadError(`${dw}: unknown key '${k}' (known: ${Object.keys(DEVICE_KEYS).join(', ')})`);
      if (typeof x !== type) throw new LoadError(`${dw}: '${k}' must be a ${type}`);
    }
    const problem = deviceConfigProblem(d as unknown as DeviceConfig);
    if (problem !== null) throw new LoadError(`${dw}: ${problem}`);
    if (names.has(d.name as string)) throw new LoadError(`${dw}: device '${String(d.name)}' is declared twice`);
    names.add(d.name as string);
    return d as unknown as DeviceConfig;
  });
}

function parseCase(c: unknown, index: number, fileWhere: string, filePath: string, opts: LoadOptions): Case {
  let where = `${fileWhere}: case ${index}`;
  if (!isObject(c)) throw new LoadError(`${where}: a case must be an object`);
  if (typeof c.name !== 'string' || c.name === '') throw new LoadError(`${where}: 'name' must be a non-empty string`);
  where += ` "${c.name}"`;
  for (const k of Object.keys(c)) if (!CASE_KEYS.has(k)) throw new LoadError(`${where}: unknown case key '${k}' (known: ${[...CASE_KEYS].join(', ')})`);
  let heaps: Case['heaps'] = null;
  if (c.heap === '*') heaps = '*';
  else if (typeof c.heap === 'string' && c.heap !== '') heaps = [c.heap];
  else if (Array.isArray(c.heap) && c.heap.length > 0 && c.heap.every((h) => typeof h === 'string' && h !== '')) heaps = c.heap as string[];
  else if (c.heap !== undefined) throw new LoadError(`${where}: 'heap' must be "*", a heap name or a non-empty list of names`);
  if (heaps !== null && heaps !== '*') {
    for (const h of heaps) {
      if (!h.includes('${')) continue;
      const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(h);
      if (m === null || !HEAP_FACTS.has(m[1] ?? '')) {
        throw new LoadError(`${where}: heap '${h}' is neither a heap name nor a machine fact naming a heap (${[...HEAP_FACTS].map((f) => `"\${${f}}"`).join(', ')})`);
      }
    }
  }
  const strList = (k: string): string[] | undefined => {
    const v = c[k];
    if (v === undefined) return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    throw new LoadError(`${where}: '${k}' must be a list of strings`);
  };
  const str = (k: string): string | undefined => {
    const v = c[k];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && v !== '') return v;
    throw new LoadError(`${where}: '${k}' must be a non-empty string`);
  };
  const out: { -readonly [K in keyof Case]: Case[K] } = { index, name: c.name, heaps, steps: [], facts: [] };
  if (c.requires !== undefined) out.requires = parseRequires(c.requires, where, heaps !== null);
  const profiles = strList('profiles');
  if (profiles !== undefined) out.profiles = profiles;
  const backend = str('backend');
  if (backend !== undefined) out.backend = backend;
  const arch = str('arch');
  if (arch !== undefined) out.arch = arch;
  const xfail = str('xfail');
  if (xfail !== undefined) out.xfail = xfail;
  const machine = parseMachine(c, where, filePath, opts);
  if (machine !== undefined) out.machine = machine;
  if (c.steps === undefined) throw new LoadError(`${where}: missing 'steps'`);
  out.steps = parseSteps(c.steps, where, '');
  if (heaps === null && JSON.stringify(c.steps).includes('${heap}')) throw new LoadError(`${where}: uses \${heap} but has no 'heap' key`);
  out.facts = factsNamed(JSON.stringify([c.heap ?? null, c.steps]));
  return out;
}

/** The machine facts `text` names as whole words (a case without one of them is skipped). */
function factsNamed(text: string): string[] {
  return [...MACHINE_FACT_NAMES].filter((f) => new RegExp(`(?<![A-Za-z0-9_.])${f}(?![A-Za-z0-9_])`).test(text));
}

/** A case's `requires`, checked. */
function parseRequires(v: unknown, where: string, hasHeap: boolean): CaseRequires {
  const w = `${where}: requires`;
  if (!isObject(v)) throw new LoadError(`${w} must be an object (keys: ${REQUIRES_KEYS.join(', ')})`);
  for (const k of Object.keys(v)) {
    if (!(REQUIRES_KEYS as readonly string[]).includes(k)) throw new LoadError(`${w}: unknown key '${k}' (known: ${REQUIRES_KEYS.join(', ')})`);
  }
  if (Object.keys(v).every((k) => k === 'why')) throw new LoadError(`${w}: names no requirement (${REQUIRES_KEYS.filter((k) => k !== 'why').join(', ')})`);
  const list = <T>(k: string, ok: (x: unknown) => x is T, what: string): T[] | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    const xs = Array.isArray(x) ? x : [x];
    if (xs.length === 0 || !xs.every(ok)) throw new LoadError(`${w}.${k} must be ${what} or a non-empty list of them`);
    return xs;
  };
  const r: { -readonly [K in keyof CaseRequires]: CaseRequires[K] } = {};
  const pageSize = list('page_size', (x): x is number => typeof x === 'number' && PAGE_SIZES.includes(x), `a page size in bytes (${PAGE_SIZES.join(', ')})`);
  if (pageSize !== undefined) r.pageSize = pageSize;
  const arch = list('arch', (x): x is string => x === 'x86_64' || x === 'arm64', '"x86_64" or "arm64"');
  if (arch !== undefined) r.arch = arch;
  const heap = list('heap', (x): x is HeapTrait => (HEAP_TRAITS as readonly unknown[]).includes(x), `a heap trait (${HEAP_TRAITS.join(', ')})`);
  if (heap !== undefined) {
    if (!hasHeap) throw new LoadError(`${w}.heap: the case has no 'heap' key, so no heap to require anything of`);
    r.heap = heap;
  }
  if (v.why !== undefined) {
    if (typeof v.why !== 'string' || v.why === '') throw new LoadError(`${w}.why must be a non-empty string (the reason, printed with the skip)`);
    r.why = v.why;
  }
  return r;
}

/** Parses one case file's text. Returns the file or the errors found in it. */
export function parseCaseFile(text: string, path: string, display = path, opts: LoadOptions = {}): { file: CaseFile | null; errors: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { file: null, errors: [`${display}: invalid JSON: ${(e as Error).message}`] };
  }
  if (!isObject(doc) || !Array.isArray(doc.cases)) return { file: null, errors: [`${display}: the top level must be an object {"cases": [...]}`] };
  for (const k of Object.keys(doc)) {
    if (k !== 'cases' && k !== 'comment') return { file: null, errors: [`${display}: unknown top-level key '${k}' (known: cases, comment)`] };
  }
  const cases: Case[] = [];
  const errors: string[] = [];
  doc.cases.forEach((c, i) => {
    try {
      cases.push(parseCase(c, i + 1, display, path, opts));
    } catch (e) {
      if (e instanceof LoadError) errors.push(e.message);
      else throw e;
    }
  });
  return { file: errors.length === 0 ? { path, display, cases } : null, errors };
}

/**
 * The .json files named by `paths` (directories are searched recursively, in name order; a
 * symbolic link to a directory is not followed, so a link back up cannot loop).
 */
export function expandPaths(paths: readonly string[]): { files: string[]; errors: string[] } {
  const files: string[] = [];
  const errors: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      errors.push(`${dir}: cannot read the directory: ${(e as Error).message}`);
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.json')) files.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      errors.push(`${p}: no such file or directory`);
      continue;
    }
    if (st.isDirectory()) walk(p);
    else files.push(p);
  }
  return { files, errors };
}

/**
 * A case file's text: a regular file (after symbolic links) of at most
 * {@link CASE_FILE_MAX_BYTES}, read once without reading past that size.
 */
export function readCaseFile(path: string): string {
  // O_NONBLOCK: a FIFO named like a case file must not block the open
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    const buf = Buffer.alloc(Math.min(st.size, CASE_FILE_MAX_BYTES) + 1);
    let n = 0;
    for (;;) {
      const k = readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
      if (n === buf.length) break;
    }
    if (n > CASE_FILE_MAX_BYTES) throw new Error(`larger than ${CASE_FILE_MAX_BYTES} bytes (the limit of a case file)`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Loads every case file named by `paths` (files or directories). */
export function loadCaseFiles(paths: readonly string[], opts: LoadOptions = {}): LoadResult {
  const { files: names, errors } = expandPaths(paths);
  const files: CaseFile[] = [];
  for (const path of names) {
    const rel = relative(process.cwd(), path);
    const display = rel === '' || rel.startsWith('..') ? path : rel;
    let text: string;
    try {
      text = readCaseFile(path);
    } catch (e) {
      errors.push(`${display}: cannot read: ${(e as Error).message}`);
      continue;
    }
    const r = parseCaseFile(text, path, display, opts);
    if (r.file !== null) files.push(r.file);
    errors.push(...r.errors);
  }
  return { files, errors };
}
