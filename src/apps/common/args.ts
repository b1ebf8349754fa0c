/**
 * Command-line parsing shared by every command: strict options with clear errors, sizes and
 * numbers with exactly one accepted syntax each, and the options that describe an emulated
 * machine. Every refusal says what was wrong with the value and, in its hint, which forms are
 * accepted (docs/tools.md, "Sizes and numbers").
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { KconfigError, kconfigMachine } from '../../kernel/kconfig.js';
import { parseLoaderSpec } from '../../kernel/of/boot-layout.js';
import { PROFILE_NAMES } from '../../kernel/profile.js';
import { KCONFIG_HINT, KconfigArgError, kconfigFromArgs } from './kconfig-file.js';
import { FAULT_FORMS, MAX_FAULT_SPECS, parseFaultText } from './fault-spec.js';
import type { ParsedFault } from './fault-spec.js';
import type { AllocFaultRule, MemoryFaultSpec } from '../../kernel/index.js';

/**
 * An error a command reports instead of its output: a stable `code` (docs/tools.md, "Errors"),
 * a message saying what went wrong, a hint saying what to do, and the exit status (2: the
 * command line or a file it names is wrong; 1: the command ran and failed).
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string | null = null,
    readonly exitCode: 1 | 2 | 125 = 1,
  ) {
    super(message);
  }
}

/** A usage error: code `usage`, exit status 2. `option` is set for an option the command does not know. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    hint: string | null = null,
    readonly option: string | null = null,
  ) {
    super('usage', message, hint, 2);
  }
}

export const MACHINE_OPTIONS = {
  profile: { type: 'string' },
  cmdline: { type: 'string' },
  board: { type: 'string' },
  features: { type: 'string' },
  ram: { type: 'string' },
  'page-size': { type: 'string' },
  arch: { type: 'string' },
  kconfig: { type: 'string', multiple: true },
  loader: { type: 'string' },
  fault: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The hint of every size refusal: what a size may look like. */
export const SIZE_FORMS = 'a size is a whole number of bytes, decimal or 0x hex, with an optional unit K, M, G or T (1K = 1024; KiB and KB mean K): 4096, 64K, 1M, 0x1000';

const UNITS: Readonly<Record<string, bigint>> = { '': 1n, b: 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n };

/** 4096 → "4096", 65536 → "64K", 2^42 → "4T": the largest unit that divides `n` exactly. */
export function sizeText(n: number | bigint): string {
  const v = BigInt(n);
  for (const [u, m] of [['T', 1n << 40n], ['G', 1n << 30n], ['M', 1n << 20n], ['K', 1n << 10n]] as const) {
    if (v >= m && v % m === 0n) return `${v / m}${u}`;
  }
  return String(v);
}

export interface SizeLimits {
  /** Smallest accepted value (default 0). */
  readonly min?: number;
  /** Largest accepted value (default 2^53 - 1, the largest byte count a JavaScript number holds exactly). */
  readonly max?: number;
  /** Why the maximum is what it is, appended to the refusal. */
  readonly maxWhy?: string;
}

/** Why `s` is not a size, for a refusal; null when it matches the grammar. */
function sizeProblem(s: string): string | null {
  if (s === '') return 'it is empty';
  if (/\s/.test(s)) return 'it contains a space';
  if (s.startsWith('-')) return 'it is negative';
  if (s.startsWith('+')) return 'a sign is not accepted';
  if (/^0x([^0-9a-f]|$)/i.test(s)) return '0x needs hex digits after it';
  const frac = /^(\d*\.\d*|\d+(?:\.\d*)?e[+-]?\d+)([kmgt]?)(i?b?)$/i.exec(s);
  if (frac !== null && /\d/.test(frac[1]!)) {
    const exp = /e/i.test(frac[1]!);
    const bytes = Number(frac[1]) * Number(UNITS[frac[2]!.toLowerCase()] ?? 1n);
    const instead = Number.isSafeInteger(bytes) && bytes > 0 ? ` (write ${sizeText(bytes)})` : '';
    return `${exp ? 'exponents are not accepted' : 'it is not a whole number of bytes'}${instead}`;
  }
  if (/^0\d/.test(s)) return 'a leading zero is ambiguous (the kernel reads 010 as octal): write the number without it, or in 0x hex';
  const m = /^(0x[0-9a-f]+|\d+)(.*)$/i.exec(s);
  if (m === null) return 'it does not start with a number';
  const unit = m[2]!;
  if (/^([kmgt]i?b?|b)?$/i.test(unit)) return null;
  return `'${unit}' is not a unit`;
}

/**
 * A size from the command line → bytes. Accepted: a decimal number without leading zeros, or
 * 0x and hex digits, then optionally a unit: K, M, G or T (powers of 1024, as the kernel's
 * memparse reads them), each optionally followed by `i`, `B` or `iB` (`64KiB`, `64KB`), or `B`
 * alone; case does not matter. Everything else is refused, with the accepted forms in the hint:
 * empty text, spaces, signs, fractions, exponents, other units, values above `max`.
 */
export function parseSize(s: string, what: string, limits: SizeLimits = {}): number {
  const problem = sizeProblem(s);
  if (problem !== null) throw new UsageError(`${what}: '${s}' is not a size: ${problem}`, SIZE_FORMS);
  const m = /^(0x[0-9a-f]+|\d+)([kmgt]?)/i.exec(s)!;
  const bytes = BigInt(m[1]!) * UNITS[m[2]!.toLowerCase()]!;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  const min = limits.min ?? 0;
  if (bytes > BigInt(max)) {
    const at = limits.max === undefined ? '9007199254740991 bytes (2^53 - 1, the largest whole number a JavaScript number holds exactly)' : `${sizeText(max)}${limits.maxWhy !== undefined ? ` (${limits.maxWhy})` : ''}`;
    throw new UsageError(`${what}: '${s}' is too large: the largest is ${at}`, SIZE_FORMS);
  }
  if (bytes < BigInt(min)) throw new UsageError(`${what}: '${s}' is too small: the smallest is ${sizeText(min)}`, SIZE_FORMS);
  return Number(bytes);
}

export interface IntegerSpec {
  /** What the number is, with its article: "a process id". */
  readonly noun: string;
  readonly min: number;
  readonly max: number;
  /** Said after the range in the hint, e.g. "(PID_MAX_LIMIT)". */
  readonly note?: string;
}

/**
 * A whole number from the command line: decimal digits only, no sign, no leading zero, no
 * spaces, no unit, within [min, max]. The refusal says what was wrong; its hint gives the range.
 */
export function parseInteger(s: string, what: string, spec: IntegerSpec): number {
  const hint = `${what} takes ${spec.noun}: a decimal whole number from ${spec.min} to ${spec.max}${spec.note !== undefined ? ` ${spec.note}` : ''}`;
  const refuse = (why: string): never => {
    throw new UsageError(`${what}: '${s}' is not ${spec.noun}: ${why}`, hint);
  };
  if (s === '') refuse('it is empty');
  if (/\s/.test(s)) refuse('it contains a space');
  if (s.startsWith('-')) refuse('it is negative');
  if (!/^\d+$/.test(s)) refuse('only decimal digits are accepted');
  if (/^0\d/.test(s)) refuse('a leading zero is not accepted');
  const n = BigInt(s);
  if (n > BigInt(spec.max)) refuse(`the largest is ${spec.max}`);
  if (n < BigInt(spec.min)) refuse(`the smallest is ${spec.min}`);
  return Number(n);
}

/** uid_t/gid_t: 0 to 2^32 - 2 ((uid_t)-1 means "no change" to setresuid(2), never an id). */
export const ID_SPEC: IntegerSpec = { noun: 'a numeric id', min: 0, max: 4294967294, note: '((uid_t)-1 is not an id)' };

/** A comma-separated list of ids (`--groups 44,1000`); the empty text is no groups. */
export function parseIdList(s: string, what: string): number[] {
  if (s === '') return [];
  const parts = s.split(',');
  if (parts.some((p) => p === '')) throw new UsageError(`${what}: '${s}' has an empty entry`, `${what} takes numeric ids separated by commas, e.g. 44,1000 (the empty text for none)`);
  return parts.map((p) => parseInteger(p, what, ID_SPEC));
}

/**
 * --ram: at least 64M (the emulated kernel's minimum), at most 64T: the most physical memory both
 * modelled architectures map (x86-64 with 4-level paging: MAX_PHYSMEM_BITS 46; arm64 maps 128T).
 * Free memory costs nothing until used (src/kernel/mm/buddy.ts), so a 64T machine boots at once.
 */
export const RAM_LIMITS = { min: 64 * 1024 ** 2, max: 64 * 1024 ** 4, maxWhy: 'the most RAM x86-64 with 4-level paging maps, MAX_PHYSMEM_BITS 46' } as const;

/** A kernel version profile name (6.1 … 7.0). */
export function parseProfile(s: string, what: string): string {
  if (!(PROFILE_NAMES as readonly string[]).includes(s)) throw new UsageError(`${what}: '${s}' is not a kernel profile`, `the profiles are ${PROFILE_NAMES.join(', ')}`);
  return s;
}

/** The page sizes a kernel can have: 4K everywhere, 16K and 64K on arm64. */
const PAGE_SIZES = [4096, 16384, 65536];

export function machineFrom(values: Record<string, unknown>, defaults: EmulatedOptions = {}): EmulatedOptions {
  const o: EmulatedOptions = { ...defaults };
  if (typeof values.profile === 'string') o.profile = parseProfile(values.profile, '--profile');
  if (typeof values.cmdline === 'string') {
    o.cmdline = values.cmdline;
    o.cmdlineGiven = true;
  }
  if (typeof values.ram === 'string') o.ramBytes = parseSize(values.ram, '--ram', RAM_LIMITS);
  if (typeof values['page-size'] === 'string') {
    const ps = parseSize(values['page-size'], '--page-size');
    if (!PAGE_SIZES.includes(ps)) throw new UsageError(`--page-size: '${values['page-size']}' is not a page size`, 'the page sizes are 4096 (4K), 16K and 64K; 16K and 64K need --arch arm64 or an arm64 board');
    o.pageSize = ps;
  }
  if (typeof values.features === 'string') {
    const list = values.features.split(',').map((x) => x.trim()).filter((x) => x !== '');
    if (list.includes('coherent-prefixed') && (list.includes('coherent') || list.includes('coherent-v3'))) {
      throw new UsageError(`--features: '${values.features}' names two coherent heaps`, 'coherent (node names, v3) and coherent-prefixed (coherent_<node>) are two revisions of one proposal: give one');
    }
    for (const f of list) {
      if (f === 'coherent' || f === 'coherent-v3') o.features = { ...o.features, coherentHeap: 'v3' };
      else if (f === 'coherent-prefixed') o.features = { ...o.features, coherentHeap: 'prefixed' };
      else if (f === 'dmem') o.features = { ...o.features, dmemCharging: true };
      else if (f === 'charge-pidfd') o.features = { ...o.features, chargePidFd: true };
      else throw new UsageError(`--features: unknown feature '${f}'`, 'the features are coherent, coherent-prefixed, dmem and charge-pidfd, comma-separated');
    }
  }
  if (values.sanitize === true) o.sanitizer = true;
  if (typeof values.arch === 'string') {
    if (values.arch !== 'x86_64' && values.arch !== 'arm64') throw new UsageError(`--arch: '${values.arch}' is not an architecture`, 'the architectures are x86_64 and arm64');
    o.arch = values.arch;
  }
  const kconfig = values.kconfig;
  if (typeof kconfig === 'string' || Array.isArray(kconfig)) {
    let kc;
    try {
      kc = kconfigFromArgs(Array.isArray(kconfig) ? (kconfig as string[]) : [kconfig]);
    } catch (e) {
      if (e instanceof KconfigArgError) throw new UsageError(e.message, e.hint);
      throw e;
    }
    o.kconfig = kc;
    // the architecture and page size the configuration is for, unless given
    let m;
    try {
      m = kconfigMachine(kc);
    } catch (e) {
      if (e instanceof KconfigError) throw new UsageError(e.message.startsWith('--kconfig') ? e.message : `--kconfig: ${e.message}`, KCONFIG_HINT);
      throw e;
    }
    if (m.arch !== null) {
      if (typeof values.arch === 'string' && values.arch !== m.arch) throw new UsageError(`--arch ${values.arch}, but the kernel configuration is for ${m.arch} (CONFIG_${m.arch === 'arm64' ? 'ARM64' : 'X86_64'}=y)`, `leave out --arch, or give a configuration for ${values.arch}`);
      o.arch = m.arch;
    }
    if (m.pageSize !== null) {
      if (typeof values['page-size'] === 'string' && o.pageSize !== m.pageSize) throw new UsageError(`--page-size ${values['page-size']}, but the kernel configuration has ${sizeText(m.pageSize)} pages`, 'leave out --page-size, or give a configuration with that page size');
      o.pageSize = m.pageSize;
    }
  }
  if (typeof values.loader === 'string') {
    const spec = values.loader;
    const r = parseLoaderSpec(spec, (t, what) => parseSize(t, `--loader ${what}`));
    if ('error' in r) throw new UsageError(`--loader: ${r.error}`, 'the loader is a preset (qemu-virt: QEMU\'s arm64 -machine virt; qemu-pc: the x86-64 referees\' QEMU pc, without a board, the x86-64 default there; none: no loader, one bank of RAM without a board) and/or image=SIZE[@ADDR], initrd=SIZE[@ADDR], dtb=SIZE[@ADDR], comma-separated; e.g. --loader qemu-virt or --loader image=0x470000@0x40200000');
    o.loader = r;
  }
  const fault = values.fault;
  if (typeof fault === 'string' || Array.isArray(fault)) {
    const { faults, memoryFaults } = parseFaultSpecs(Array.isArray(fault) ? (fault as string[]) : [fault]);
    if (faults.length > 0) o.faults = [...(o.faults ?? []), ...faults];
    if (memoryFaults.length > 0) o.memoryFaults = [...(o.memoryFaults ?? []), ...memoryFaults];
  }
  return o;
}

/**
 * One `--fault` value (src/apps/common/fault-spec.ts, docs/faults.md) → an allocation rule or a
 * memory fault; a UsageError saying what is wrong, with the accepted forms as its hint.
 */
export function parseFaultSpec(spec: string, what = '--fault'): ParsedFault {
  const r = parseFaultText(spec, { integer: parseInteger, size: parseSize }, what);
  if ('error' in r) throw new UsageError(`${what}: '${spec.length > 200 ? `${spec.slice(0, 200)}…` : spec}': ${r.error}`, FAULT_FORMS);
  return r;
}

/** Every `--fault` value, in order: the machine's allocation rules and memory faults. */
export function parseFaultSpecs(specs: readonly string[]): { faults: AllocFaultRule[]; memoryFaults: MemoryFaultSpec[] } {
  if (specs.length > MAX_FAULT_SPECS) throw new UsageError(`--fault is given ${specs.length} times; at most ${MAX_FAULT_SPECS}`, FAULT_FORMS);
  const faults: AllocFaultRule[] = [];
  const memoryFaults: MemoryFaultSpec[] = [];
  for (const s of specs) {
    const p = parseFaultSpec(s);
    if ('alloc' in p) faults.push(p.alloc);
    else memoryFaults.push(p.memory);
  }
  return { faults, memoryFaults };
}

/** parseArgs with its errors turned into UsageErrors that name the option. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: boolean }>> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const msg = (e as Error).message;
    const opt = /'(-[^' ]+)/.exec(msg)?.[1] ?? null;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && opt !== null) throw new UsageError(`unknown option '${opt}'`, null, opt);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && opt !== null) {
      if (/does not take an argument/.test(msg)) throw new UsageError(`${opt} takes no value`);
      if (/ambiguous/.test(msg)) throw new UsageError(`${opt} needs a value`, `to give a value that starts with '-', write ${opt}=<value>`);
      throw new UsageError(`${opt} needs a value`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument '${/'([^']*)'/.exec(msg)?.[1] ?? ''}'`);
    throw new UsageError(msg.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}
