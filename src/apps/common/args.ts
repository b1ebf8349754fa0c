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
import { PROFILE_NAMES, isProfileName } from '../../kernel/profile.js';
import type { ProfileName } from '../../kernel/profile.js';
import { ANDROID_BRANCH_NAMES, resolveAndroidProfile } from '../../kernel/android.js';
import { KCONFIG_HINT, KconfigArgError, kconfigFromArgs } from './kconfig-file.js';
import { FAULT_FORMS, MAX_FAULT_SPECS, parseFaultText } from './fault-spec.js';
import type { ParsedFault } from './fault-spec.js';
import type { AllocFaultRule, MemoryFaultSpec } from '../../kernel/index.js';
import { CliError, parseInteger, parseSize, SIZE_FORMS, sizeText, UsageError } from './sizes.js';
import type { IntegerSpec, SizeLimits } from './sizes.js';

export { CliError, parseInteger, parseSize, SIZE_FORMS, sizeText, UsageError };
export type { IntegerSpec, SizeLimits };


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
export function parseProfile(s: string, what: string): ProfileName {
  if (!isProfileName(s)) throw new UsageError(`${what}: '${s}' is not a kernel profile`, `the profiles are ${PROFILE_NAMES.join(', ')}`);
  return s;
}

/**
 * --profile: a mainline profile (6.1 … 7.3) or an Android GKI branch (android14-6.1 …: the
 * branch's mainline profile plus its facts, docs/android.md). A branch whose mainline profile
 * this build lacks is refused here, with the profiles it has.
 */
export function parseMachineProfile(s: string, what: string): string {
  const a = resolveAndroidProfile(s);
  if (a === null) {
    if (!(PROFILE_NAMES as readonly string[]).includes(s)) throw new UsageError(`${what}: '${s}' is not a kernel profile`, `the profiles are ${PROFILE_NAMES.join(', ')}; the Android GKI branches are ${ANDROID_BRANCH_NAMES.join(', ')}`);
    return s;
  }
  if (!(PROFILE_NAMES as readonly string[]).includes(a.mainline)) throw new UsageError(`${what}: the Android branch ${s} is based on Linux ${a.mainline}, and this build has no ${a.mainline} profile`, `the profiles are ${PROFILE_NAMES.join(', ')}; pick a branch on one of them`);
  return s;
}

/** The page sizes a kernel can have: 4K everywhere, 16K and 64K on arm64. */
const PAGE_SIZES = [4096, 16384, 65536];

export function machineFrom(values: Record<string, unknown>, defaults: EmulatedOptions = {}): EmulatedOptions {
  const o: EmulatedOptions = { ...defaults };
  if (typeof values.profile === 'string') o.profile = parseMachineProfile(values.profile, '--profile');
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
