/**
 * The kernel's build configuration: a `.config` (what `make olddefconfig` writes and
 * /proc/config.gz shows) read into symbols, the symbols the emulator models with their types,
 * ranges, Kconfig defaults and dependencies, and the build they describe (which heaps are built
 * in, the default CMA area's size, CMA_AREAS, …). See docs/kconfig.md.
 *
 * A `.config` is data from others: it is read within {@link KCONFIG_LIMITS}, every line must be
 * a line Kconfig writes (`CONFIG_X=value`, `# CONFIG_X is not set`, another comment or blank),
 * and a value a modelled symbol cannot take is refused with `file:line`, never guessed at.
 *
 * @kernel scripts/kconfig/confdata.c conf_read_simple(), conf_write(); init/Kconfig, mm/Kconfig,
 *         kernel/dma/Kconfig, drivers/dma-buf/Kconfig, drivers/dma-buf/heaps/Kconfig
 */
import { KernelConfigError } from './config-error.js';
import { gzipStored } from './gzip.js';
import { bytesStr, strBytes } from './bytes.js';
import type { Arch } from './mm/page.js';
import { PROFILES, before } from './profile.js';
import type { ProfileName } from './profile.js';

/** Bounds on a `.config` (the largest real ones, allyesconfig, are about 400 KB and 12 000 symbols). */
export const KCONFIG_LIMITS = {
  /** Bytes of one file or text. */
  maxBytes: 4 * 1024 * 1024,
  /** Characters of one line (a CONFIG_CMDLINE string is at most a few KiB). */
  maxLine: 64 * 1024,
  /** Distinct symbols. */
  maxSymbols: 100_000,
  /** Single options (`--kconfig A=1,B=n`) in one run. */
  maxOptions: 10_000,
} as const;

/** A bad `.config` line or value: the message starts with `source:line:` (or `source:`). */
export class KconfigError extends KernelConfigError {
  override readonly name = 'KconfigError';
  constructor(
    /** The file or option the text came from (`kernel.config`, `--kconfig`). */
    readonly source: string,
    /** 1-based line, or null for a problem of the whole text. */
    readonly line: number | null,
    /** What is wrong, without the location. */
    readonly reason: string,
  ) {
    super(`${source}${line === null ? '' : `:${line}`}: ${reason}`);
  }
}

export type KconfigType = 'bool' | 'tristate' | 'int' | 'hex' | 'string';

/** What the emulator knows about a modelled symbol. */
export interface KconfigSymbol {
  readonly type: KconfigType;
  /** Inclusive range of an int symbol (Kconfig `range`, or the emulator's bound where Kconfig has none). */
  readonly range?: readonly [number, number];
  /** Kconfig `depends on`: symbols that must be y or m, or `!SYM` (must be n). */
  readonly depends?: readonly string[];
  /** What it changes in the emulated machine (docs/kconfig.md). */
  readonly what: string;
}

/**
 * The symbols the emulated kernel reads (names without `CONFIG_`). Every other symbol of a
 * `.config` is kept (it is in /proc/config.gz) and changes nothing.
 */
export const KCONFIG_SYMBOLS: Readonly<Record<string, KconfigSymbol>> = {
  X86_64: { type: 'bool', what: 'the architecture: x86_64 (must agree with --arch and the board)' },
  ARM64: { type: 'bool', what: 'the architecture: arm64 (must agree with --arch and the board)' },
  ARM64_4K_PAGES: { type: 'bool', depends: ['ARM64'], what: 'arm64 page size 4 KiB (must agree with --page-size)' },
  ARM64_16K_PAGES: { type: 'bool', depends: ['ARM64'], what: 'arm64 page size 16 KiB' },
  ARM64_64K_PAGES: { type: 'bool', depends: ['ARM64'], what: 'arm64 page size 64 KiB' },
  IKCONFIG: { type: 'tristate', what: 'the .config is built into the kernel (m: in a module that is not loaded)' },
  IKCONFIG_PROC: { type: 'bool', depends: ['IKCONFIG'], what: '/proc/config.gz (with IKCONFIG=y)' },
  TRANSPARENT_HUGEPAGE: { type: 'bool', what: 'with HUGETLBFS: pageblock_order = min(HPAGE_PMD_ORDER, PAGE_BLOCK_MAX_ORDER), else PAGE_BLOCK_MAX_ORDER (the CMA alignment)' },
  HUGETLBFS: { type: 'bool', what: 'see TRANSPARENT_HUGEPAGE' },
  HUGETLB_PAGE: { type: 'bool', what: 'see TRANSPARENT_HUGEPAGE' },
  PAGE_BLOCK_MAX_ORDER: { type: 'int', range: [1, 13], what: 'the largest pageblock order (v6.16+; default: the largest buddy order)' },
  ZONE_DMA: { type: 'bool', what: 'arm64: the default CMA area stays below 4 GiB (with ZONE_DMA32 too); without either it may lie anywhere' },
  ZONE_DMA32: { type: 'bool', what: 'see ZONE_DMA' },
  CMA: { type: 'bool', what: 'the Contiguous Memory Allocator: no CMA area at all without it' },
  CMA_SYSFS: { type: 'bool', depends: ['CMA'], what: '/sys/kernel/mm/cma/<area>/' },
  CMA_DEBUGFS: { type: 'bool', depends: ['CMA'], what: '/sys/kernel/debug/cma/<area>/' },
  CMA_AREAS: { type: 'int', range: [1, 4096], depends: ['CMA'], what: 'how many CMA areas may exist (MAX_CMA_AREAS): one more is refused "Not enough slots"' },
  DMA_CMA: { type: 'bool', depends: ['CMA'], what: 'the default CMA area (cma=, CMA_SIZE_*) and reusable shared-dma-pool regions as CMA areas' },
  CMA_SIZE_MBYTES: { type: 'int', range: [0, 8_589_934_591], depends: ['DMA_CMA', '!CMA_SIZE_SEL_PERCENTAGE'], what: 'the default CMA area\'s size without cma= (MiB)' },
  CMA_SIZE_PERCENTAGE: { type: 'int', range: [0, 100], depends: ['DMA_CMA', '!CMA_SIZE_SEL_MBYTES'], what: 'the default CMA area\'s size without cma= (percent of RAM)' },
  CMA_SIZE_SEL_MBYTES: { type: 'bool', depends: ['DMA_CMA'], what: 'size from CMA_SIZE_MBYTES (the choice\'s default)' },
  CMA_SIZE_SEL_PERCENTAGE: { type: 'bool', depends: ['DMA_CMA'], what: 'size from CMA_SIZE_PERCENTAGE' },
  CMA_SIZE_SEL_MIN: { type: 'bool', depends: ['DMA_CMA'], what: 'size: the smaller of the two' },
  CMA_SIZE_SEL_MAX: { type: 'bool', depends: ['DMA_CMA'], what: 'size: the larger of the two' },
  CMA_ALIGNMENT: { type: 'int', range: [2, 12], depends: ['DMA_CMA'], what: 'the largest alignment order of a CMA heap allocation' },
  SWIOTLB: { type: 'bool', what: 'the swiotlb bounce buffer pool' },
  DMABUF_HEAPS: { type: 'bool', what: 'the heaps framework (/dev/dma_heap, /sys/class/dma_heap)' },
  DMABUF_HEAPS_SYSTEM: { type: 'tristate', depends: ['DMABUF_HEAPS'], what: 'the system heap (m: a module that is not loaded: no heap)' },
  DMABUF_HEAPS_CMA: { type: 'tristate', depends: ['DMABUF_HEAPS', 'DMA_CMA'], what: 'the CMA heaps (m: a module that is not loaded: no heap)' },
  DMABUF_HEAPS_CMA_LEGACY: { type: 'bool', depends: ['DMABUF_HEAPS_CMA'], what: '6.17–6.18: the default CMA area also under its old name' },
  DMABUF_SYSFS_STATS: { type: 'bool', what: '/sys/kernel/dmabuf/buffers (≤ 6.19)' },
  TEE: { type: 'tristate', what: 'the TEE subsystem (with TEE_DMABUF_HEAPS: the protected heaps, 6.18+)' },
  TEE_DMABUF_HEAPS: { type: 'bool', depends: ['TEE', 'DMABUF_HEAPS'], what: '6.18+: the TEE protected heaps' },
  UDMABUF: { type: 'tristate', what: '/dev/udmabuf (m: a module that is not loaded: no device)' },
  CGROUP_DMEM: { type: 'bool', what: '6.14+: the dmem cgroup controller (the referees are built without it)' },
};

/** When the symbols only some kernel versions have exist, for the note a dropped one gets. */
const SYMBOL_SPAN: Readonly<Record<string, { readonly added: string; readonly removed?: string; readonly only?: string }>> = {
  DMABUF_SYSFS_STATS: { added: '5.15', removed: '7.0' },
  CMA_SYSFS: { added: '5.14' },
  TEE_DMABUF_HEAPS: { added: '6.18' },
  DMABUF_HEAPS_CMA_LEGACY: { added: '6.17', only: 'only 6.17 and 6.18 have it' },
  CGROUP_DMEM: { added: '6.14' },
};

/** Why a version lacks a symbol: too old for it, or too new. */
function symbolSpanNote(sym: string, profile: ProfileName): string {
  const s = SYMBOL_SPAN[sym];
  if (s === undefined) return 'not in this release';
  if (s.only !== undefined) return s.only;
  return before(profile, s.added) || s.removed === undefined ? `added in ${s.added}` : `removed in ${s.removed}`;
}

/** Symbols only some kernel versions have (the others drop them, as Kconfig drops unknown symbols). */
function symbolExists(sym: string, profile: ProfileName): boolean {
  const p = PROFILES[profile];
  if (sym === 'DMABUF_HEAPS_CMA_LEGACY') return p.cmaLegacyDuplicate;
  if (sym === 'DMABUF_SYSFS_STATS') return p.sysfsStats;
  if (sym === 'CMA_SYSFS') return p.cmaSysfs;
  if (sym === 'TEE_DMABUF_HEAPS') return p.teeProtectedHeaps;
  if (sym === 'CGROUP_DMEM') return p.dmemCgroup;
  return true;
}

/**
 * Kconfig's default for a modelled symbol whose line a `.config` lacks (what `make olddefconfig`
 * would write; dependencies are applied afterwards): mm/Kconfig, kernel/dma/Kconfig,
 * drivers/dma-buf/Kconfig, init/Kconfig, arch/arm64/Kconfig.
 */
function kconfigDefault(sym: string, arch: Arch, profile: ProfileName): string | null {
  switch (sym) {
    case 'PAGE_BLOCK_MAX_ORDER':
      return null; // default: the largest buddy order (ARCH_FORCE_MAX_ORDER)
    case 'CMA_SIZE_MBYTES':
      return arch === 'x86_64' ? '0' : '16';
    case 'CMA_SIZE_PERCENTAGE':
      return arch === 'x86_64' ? '0' : '10';
    case 'CMA_SIZE_SEL_MBYTES':
      return 'y';
    case 'CMA_ALIGNMENT':
      return '8';
    case 'CMA_AREAS':
      return cmaAreasDefault(profile);
    case 'IKCONFIG_PROC':
    case 'DMABUF_HEAPS_CMA_LEGACY':
    case 'TEE_DMABUF_HEAPS':
    case 'SWIOTLB': // selected by X86_64 and ARM64
      return 'y';
    case 'ZONE_DMA':
    case 'ZONE_DMA32':
      return 'y';
    default:
      return 'n';
  }
}

/**
 * mm/Kconfig CMA_AREAS without NUMA: 7 until v6.9, 8 from it (the 6.1 referee has 7, the 6.12
 * and 7.3 referees 8): "mm/cma: Make MAX_CMA_AREAS = CONFIG_CMA_AREAS" (2024) raised the
 * default by one as it dropped the one extra slot, so the number of areas stays 8.
 */
function cmaAreasDefault(profile: ProfileName): string {
  return cmaAreasPlusOne(profile) ? '7' : '8';
}

/** Before v6.9, include/linux/cma.h MAX_CMA_AREAS was 1 + CONFIG_CMA_AREAS ("the global area"). */
function cmaAreasPlusOne(profile: ProfileName): boolean {
  return before(profile, '6.9');
}

/** MAX_CMA_AREAS: how many CMA areas the build can have (include/linux/cma.h). */
export function maxCmaAreas(b: KernelBuild, profile: ProfileName): number {
  return intValue(b, 'CMA_AREAS', 7) + (cmaAreasPlusOne(profile) ? 1 : 0);
}

/** One symbol as a `.config` gives it. */
export interface KconfigEntry {
  /** The value as written: `y`, `m`, `n` (for "is not set"), a number, or a quoted string. */
  readonly value: string;
  /** 1-based line in its source, or null when it was given as an option. */
  readonly line: number | null;
  /** The file or option it came from. */
  readonly source: string;
}

/** A `.config`, read. */
export interface KconfigText {
  /** The text's lines (the last empty line of a text ending in a newline is not one). */
  readonly lines: readonly string[];
  /** Symbol (without CONFIG_) → its last assignment (a later line wins, as in conf_read_simple()). */
  readonly entries: ReadonlyMap<string, KconfigEntry>;
  /** Symbol → index in `lines` of its last line. */
  readonly lineOf: ReadonlyMap<string, number>;
  readonly source: string;
}

const SYMBOL = /^[A-Za-z0-9_]+$/;
const VALUE = /^(?:[ymn]|-?[0-9]+|0[xX][0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;

/** Why `value` is not a value of `sym` (a modelled symbol) or not a `.config` value at all, else null. */
export function kconfigValueProblem(sym: string, value: string): string | null {
  if (!VALUE.test(value)) {
    return value === ''
      ? `CONFIG_${sym} has no value (a .config line is CONFIG_${sym}=<y|m|n|number|"string">, or "# CONFIG_${sym} is not set")`
      : `'${value}' is not a .config value (y, m, n, a decimal or 0x number, or a "quoted string")`;
  }
  const s = KCONFIG_SYMBOLS[sym];
  if (s === undefined) return null;
  switch (s.type) {
    case 'bool':
      return value === 'y' || value === 'n' ? null : `CONFIG_${sym} is a bool: y or n (not set), not '${value}'`;
    case 'tristate':
      return value === 'y' || value === 'm' || value === 'n' ? null : `CONFIG_${sym} is a tristate: y, m or n (not set), not '${value}'`;
    case 'int': {
      if (!/^-?[0-9]+$/.test(value)) return `CONFIG_${sym} is a number, not '${value}'`;
      const n = Number(value);
      const [lo, hi] = s.range ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
      if (!Number.isSafeInteger(n) || n < lo || n > hi) return `CONFIG_${sym}=${value} is out of range: ${lo} to ${hi}`;
      return null;
    }
    case 'hex':
      return /^0[xX][0-9a-fA-F]+$/.test(value) ? null : `CONFIG_${sym} is a 0x hex number, not '${value}'`;
    case 'string':
      return value.startsWith('"') ? null : `CONFIG_${sym} is a "quoted string", not '${value}'`;
  }
}

/**
 * Reads a `.config` (scripts/kconfig/confdata.c conf_read_simple()): each line is
 * `CONFIG_<SYM>=<value>`, `# CONFIG_<SYM> is not set`, another `#` comment or blank (CR LF line
 * ends are accepted). A later line for the same symbol wins. Throws KconfigError with
 * `source:line` for any other line, a value that is not a `.config` value or one a modelled
 * symbol cannot take, and a text beyond {@link KCONFIG_LIMITS}.
 */
export function parseKconfigText(text: string, source = 'kconfig'): KconfigText {
  if (text.length > KCONFIG_LIMITS.maxBytes) throw new KconfigError(source, null, `${text.length} bytes: more than a .config can be (the limit is ${KCONFIG_LIMITS.maxBytes} bytes)`);
  if (text.includes('\0')) throw new KconfigError(source, null, 'a NUL byte: this is not a text file (a .config, e.g. /proc/config.gz after gunzip)');
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  const lines: string[] = [];
  const entries = new Map<string, KconfigEntry>();
  const lineOf = new Map<string, number>();
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const no = i + 1;
    if (line.length > KCONFIG_LIMITS.maxLine) throw new KconfigError(source, no, `a line of ${line.length} characters (the limit is ${KCONFIG_LIMITS.maxLine})`);
    lines.push(line);
    let sym: string | null = null;
    let value = '';
    if (line.startsWith('CONFIG_')) {
      const eq = line.indexOf('=');
      if (eq < 0) throw new KconfigError(source, no, `'${short(line)}' has no '=': a .config line is CONFIG_<SYMBOL>=<value>`);
      sym = line.slice(7, eq);
      value = line.slice(eq + 1);
      if (!SYMBOL.test(sym)) throw new KconfigError(source, no, `'${short(line.slice(0, eq))}' is not a symbol name (letters, digits and _)`);
    } else if (line.startsWith('#')) {
      const m = /^# CONFIG_([A-Za-z0-9_]+) is not set$/.exec(line);
      if (m === null) continue; // a comment
      sym = m[1]!;
      value = 'n';
    } else if (line.trim() === '') {
      continue;
    } else {
      throw new KconfigError(source, no, `'${short(line)}' is not a .config line (CONFIG_<SYMBOL>=<value>, "# CONFIG_<SYMBOL> is not set", a # comment or a blank line)`);
    }
    const problem = kconfigValueProblem(sym, value);
    if (problem !== null) throw new KconfigError(source, no, problem);
    if (!entries.has(sym) && entries.size >= KCONFIG_LIMITS.maxSymbols) throw new KconfigError(source, no, `more than ${KCONFIG_LIMITS.maxSymbols} symbols`);
    entries.set(sym, { value, line: no, source });
    lineOf.set(sym, lines.length - 1);
  }
  return { lines, entries, lineOf, source };
}

function short(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Single options, `SYM=value` or `CONFIG_SYM=value`, separated by commas (a comma inside a
 * "quoted string" belongs to the string); `SYM=n` means "is not set". Throws KconfigError
 * (source `--kconfig` or whatever `source` says) for anything else.
 */
export function parseKconfigOptions(spec: string, source = '--kconfig'): [string, string][] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === '\\' && quoted && i + 1 < spec.length) {
      cur += c + spec[++i]!;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  if (parts.length > KCONFIG_LIMITS.maxOptions) throw new KconfigError(source, null, `more than ${KCONFIG_LIMITS.maxOptions} options`);
  return parts.map((p) => {
    const t = p.trim();
    const m = /^(?:CONFIG_)?([A-Za-z0-9_]+)=(.*)$/.exec(t);
    if (m === null) throw new KconfigError(source, null, `'${short(t)}' is not an option: write SYMBOL=value (CMA_SIZE_MBYTES=64, DMABUF_HEAPS_CMA=n), comma-separated, or give a .config file`);
    const problem = kconfigValueProblem(m[1]!, m[2]!);
    if (problem !== null) throw new KconfigError(source, null, problem);
    return [m[1]!, m[2]!];
  });
}

/** A text that `--kconfig` reads as options rather than as a file name: `SYM=value[,...]`. */
export function looksLikeKconfigOptions(s: string): boolean {
  return /^(?:CONFIG_)?[A-Za-z0-9_]+=/.test(s.trim());
}

/** What `KernelConfig.kconfig` accepts: `.config` text, options (`{ CMA_SIZE_MBYTES: '64' }`, map or record), or a Kconfig. */
export type KconfigInput = string | Kconfig | ReadonlyMap<string, string | number | boolean> | Readonly<Record<string, string | number | boolean>>;

/**
 * A kernel configuration: a `.config` (given, or the emulated build's) plus options set on top.
 * Immutable; {@link Kconfig.with} gives a new one.
 */
export class Kconfig {
  private constructor(
    /** The base text read (null: none given, the emulated build's is used). */
    readonly base: KconfigText | null,
    /** Options set on top, in order (a later one wins). */
    readonly options: readonly (readonly [string, string])[],
  ) {}

  /** A `.config` text (throws KconfigError for a bad line). */
  static parse(text: string, source = 'kconfig'): Kconfig {
    return new Kconfig(parseKconfigText(text, source), []);
  }

  /** No file: the emulated build's configuration, plus the options. */
  static options(opts: readonly (readonly [string, string])[] = []): Kconfig {
    return Kconfig.empty.with(opts);
  }

  static readonly empty = new Kconfig(null, []);

  /**
   * KernelConfig.kconfig: a string is a whole `.config` (a modelled symbol it lacks takes its
   * Kconfig default); a map or record gives options on top of the emulated build's configuration
   * (a boolean is y/n, a number a decimal value, a string as written: `'64'`, `'"text"'`).
   */
  static from(input: KconfigInput, source = 'kconfig'): Kconfig {
    if (input instanceof Kconfig) return input;
    if (typeof input === 'string') return Kconfig.parse(input, source);
    const pairs: [string, string][] = [];
    const entries = input instanceof Map ? [...(input as ReadonlyMap<string, string | number | boolean>).entries()] : Object.entries(input as Readonly<Record<string, string | number | boolean>>);
    if (entries.length > KCONFIG_LIMITS.maxOptions) throw new KconfigError(source, null, `more than ${KCONFIG_LIMITS.maxOptions} options`);
    for (const [k, v] of entries) {
      const sym = k.startsWith('CONFIG_') ? k.slice(7) : k;
      if (!SYMBOL.test(sym)) throw new KconfigError(source, null, `'${short(k)}' is not a symbol name (letters, digits and _)`);
      const value = typeof v === 'boolean' ? (v ? 'y' : 'n') : typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : '') : String(v);
      const problem = kconfigValueProblem(sym, value);
      if (problem !== null) throw new KconfigError(source, null, problem);
      pairs.push([sym, value]);
    }
    return Kconfig.options(pairs);
  }

  /** This configuration with more options on top. */
  with(opts: readonly (readonly [string, string])[]): Kconfig {
    if (opts.length === 0) return this;
    if (this.options.length + opts.length > KCONFIG_LIMITS.maxOptions) throw new KconfigError('--kconfig', null, `more than ${KCONFIG_LIMITS.maxOptions} options`);
    return new Kconfig(this.base, [...this.options, ...opts]);
  }

  /** The given `.config` with these options on top (options are kept in order). */
  withBase(text: KconfigText): Kconfig {
    return new Kconfig(text, this.options);
  }
}

/** Which heaps and CMA areas a build gives, and what else the emulator reads of it. */
export interface KernelBuild {
  /** Effective value of every modelled symbol ('y', 'm', 'n', a number as text, or a string). */
  readonly values: ReadonlyMap<string, string>;
  /** The `.config` as /proc/config.gz shows it. */
  readonly text: string;
  /** The architecture the config is for (CONFIG_ARM64 / CONFIG_X86_64), or null when it does not say. */
  readonly arch: Arch | null;
  /** The page size the config is for (arm64 ARM64_*_PAGES; 4096 on x86_64), or null. */
  readonly pageSize: number | null;
  /** Notes: options that had no effect, dependencies that turned one off, symbols of other versions. */
  readonly notes: readonly string[];
}

/** Inputs of {@link resolveBuild}. */
export interface BuildContext {
  readonly profile: ProfileName;
  readonly arch: Arch;
  readonly pageSize: number;
  /** The proposed coherent heap is switched on (KernelFeatures.coherentHeap). */
  readonly coherentHeap: boolean;
}

/**
 * The emulated build's `.config` when none is given: every modelled symbol, as the emulator
 * behaves without a configuration (heaps, udmabuf, CMA with huge pages configured, the sysfs
 * files, CONFIG_CMA_SIZE_MBYTES=0 on both architectures so that a board's heaps come from its
 * device tree and command line), and /proc/config.gz itself.
 */
export function defaultKconfigText(c: BuildContext): string {
  const p = PROFILES[c.profile];
  const y = (name: string, on: boolean) => (on ? `CONFIG_${name}=y` : `# CONFIG_${name} is not set`);
  const arch = c.arch === 'x86_64'
    ? ['CONFIG_X86_64=y']
    : ['CONFIG_ARM64=y', y('ARM64_4K_PAGES', c.pageSize === 4096), y('ARM64_16K_PAGES', c.pageSize === 16384), y('ARM64_64K_PAGES', c.pageSize === 65536)];
  return [
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    `# Linux/${c.arch === 'x86_64' ? 'x86' : 'arm64'} ${p.release} Kernel Configuration (dmaheap emulated kernel)`,
    '#',
    ...arch,
    'CONFIG_IKCONFIG=y',
    'CONFIG_IKCONFIG_PROC=y',
    'CONFIG_MEMCG=y',
    ...(p.dmemCgroup ? ['CONFIG_CGROUP_DMEM=y'] : []),
    'CONFIG_TRANSPARENT_HUGEPAGE=y',
    ...(c.arch === 'arm64' ? ['CONFIG_ZONE_DMA=y'] : []),
    'CONFIG_ZONE_DMA32=y',
    'CONFIG_CMA=y',
    'CONFIG_CMA_DEBUGFS=y',
    ...(p.cmaSysfs ? ['CONFIG_CMA_SYSFS=y'] : []),
    `CONFIG_CMA_AREAS=${cmaAreasDefault(c.profile)}`,
    'CONFIG_DMA_SHARED_BUFFER=y',
    'CONFIG_UDMABUF=y',
    'CONFIG_DMABUF_HEAPS=y',
    ...(p.sysfsStats ? ['CONFIG_DMABUF_SYSFS_STATS=y'] : []),
    'CONFIG_DMABUF_HEAPS_SYSTEM=y',
    'CONFIG_DMABUF_HEAPS_CMA=y',
    ...(p.cmaLegacyDuplicate ? ['CONFIG_DMABUF_HEAPS_CMA_LEGACY=y'] : []),
    y('DMABUF_HEAPS_COHERENT', c.coherentHeap),
    ...(p.teeProtectedHeaps ? ['CONFIG_TEE=y', 'CONFIG_TEE_DMABUF_HEAPS=y'] : []),
    'CONFIG_SWIOTLB=y',
    'CONFIG_DMA_CMA=y',
    'CONFIG_CMA_SIZE_MBYTES=0',
    'CONFIG_CMA_SIZE_SEL_MBYTES=y',
    '# CONFIG_CMA_SIZE_SEL_PERCENTAGE is not set',
    '# CONFIG_CMA_SIZE_SEL_MIN is not set',
    '# CONFIG_CMA_SIZE_SEL_MAX is not set',
    'CONFIG_CMA_ALIGNMENT=8',
    '',
  ].join('\n');
}

/** The line Kconfig writes for a value. */
function configLine(sym: string, value: string): string {
  return value === 'n' ? `# CONFIG_${sym} is not set` : `CONFIG_${sym}=${value}`;
}

/**
 * The build a configuration describes for a kernel version and machine: the given `.config` (or
 * the emulated build's), the options on top, a modelled symbol the text lacks at its Kconfig
 * default (as `make olddefconfig`), symbols the version does not have dropped, and every
 * dependency applied (a symbol whose `depends on` is not met is off, with a note). The text is
 * the given `.config` with the options written into it: that is what /proc/config.gz holds.
 */
export function resolveBuild(kc: Kconfig, c: BuildContext): KernelBuild {
  const notes: string[] = [];
  const base = kc.base ?? parseKconfigText(defaultKconfigText(c), 'the emulated build');
  const given = kc.base !== null;
  // the text: the base's lines, each option replacing its symbol's line or appended
  const lines = [...base.lines];
  const lineOf = new Map(base.lineOf);
  const raw = new Map<string, string>();
  for (const [sym, e] of base.entries) raw.set(sym, e.value);
  const sels = ['CMA_SIZE_SEL_MBYTES', 'CMA_SIZE_SEL_PERCENTAGE', 'CMA_SIZE_SEL_MIN', 'CMA_SIZE_SEL_MAX'];
  const set = (sym: string, value: string): void => {
    raw.set(sym, value);
    const at = lineOf.get(sym);
    if (at !== undefined) lines[at] = configLine(sym, value);
    else {
      lineOf.set(sym, lines.length);
      lines.push(configLine(sym, value));
    }
  };
  for (const [sym, value] of kc.options) {
    // choosing one member of the CMA_SIZE_SEL choice unchooses the others, as menuconfig does
    if (sels.includes(sym) && value === 'y') for (const s of sels) if (s !== sym && raw.get(s) === 'y') set(s, 'n');
    set(sym, value);
  }
  const text = `${lines.join('\n')}\n`;

  const values = new Map<string, string>();
  const defaulted: string[] = [];
  for (const sym of Object.keys(KCONFIG_SYMBOLS)) {
    const v = raw.get(sym);
    if (!symbolExists(sym, c.profile)) {
      if (v !== undefined && v !== 'n') notes.push(`CONFIG_${sym}=${v}: Linux ${PROFILES[c.profile].release} has no such option (${symbolSpanNote(sym, c.profile)}): no effect`);
      values.set(sym, 'n');
      continue;
    }
    if (v === undefined) {
      const d = kconfigDefault(sym, c.arch, c.profile);
      if (d !== null) values.set(sym, d);
      if (given && d !== null && NOTED_DEFAULTS.includes(sym)) defaulted.push(sym);
    } else values.set(sym, v);
  }
  // the CMA_SIZE_SEL choice: exactly one; none given → Kconfig's default (MBYTES)
  const on = sels.filter((s) => values.get(s) === 'y');
  if (on.length > 1) {
    const last = on[on.length - 1]!;
    for (const s of sels) values.set(s, s === last ? 'y' : 'n');
    notes.push(`${on.map((s) => `CONFIG_${s}`).join(' and ')} are one choice: CONFIG_${last} is used`);
  } else if (on.length === 0) values.set('CMA_SIZE_SEL_MBYTES', 'y');

  // dependencies, in table order (a symbol's dependencies come before it)
  const isOn = (s: string) => {
    const v = values.get(s) ?? 'n';
    return v !== 'n';
  };
  for (const [sym, s] of Object.entries(KCONFIG_SYMBOLS)) {
    const v = values.get(sym) ?? 'n';
    if (v === 'n' || s.depends === undefined) continue;
    const unmet = s.depends.filter((d) => (d.startsWith('!') ? isOn(d.slice(1)) : !isOn(d)));
    if (unmet.length === 0) continue;
    // an int whose dependency is off keeps its value (it is not used); a bool/tristate is off
    if (s.type === 'bool' || s.type === 'tristate') {
      values.set(sym, 'n');
      if (raw.get(sym) !== undefined && raw.get(sym) !== 'n') {
        notes.push(`CONFIG_${sym}=${v} has no effect: it depends on ${unmet.map((d) => (d.startsWith('!') ? `CONFIG_${d.slice(1)} not being set` : `CONFIG_${d}`)).join(' and ')}${unmet.some((d) => !d.startsWith('!')) ? ', which is not set' : ''} (make olddefconfig would turn it off)`);
      }
    }
  }
  for (const sym of defaulted) {
    const d = values.get(sym) ?? 'n';
    if (d !== 'n') notes.push(`CONFIG_${sym} is not in the configuration: its Kconfig default, ${d} (as make olddefconfig)`);
  }
  // the tristate heaps at m are not loaded
  for (const sym of ['DMABUF_HEAPS_SYSTEM', 'DMABUF_HEAPS_CMA', 'UDMABUF', 'IKCONFIG']) {
    if (values.get(sym) === 'm') notes.push(`CONFIG_${sym}=m: a module, and the emulated kernel loads none (modprobe ${MODULE_NAME[sym]} on a real system)`);
  }

  const { arch, pageSize } = kconfigMachine(kc);
  return { values, text, arch, pageSize, notes };
}

/** Defaults worth a note when a given `.config` lacks them (its kernel version may not have had them). */
const NOTED_DEFAULTS = ['DMABUF_HEAPS_CMA_LEGACY', 'TEE_DMABUF_HEAPS', 'CMA_SIZE_MBYTES', 'CMA_AREAS', 'CMA_ALIGNMENT'];

/** The raw value of a symbol: the last option that sets it, else the `.config`'s line. */
function rawValue(kc: Kconfig, sym: string): string | undefined {
  for (let i = kc.options.length - 1; i >= 0; i--) if (kc.options[i]![0] === sym) return kc.options[i]![1];
  return kc.base?.entries.get(sym)?.value;
}

/**
 * The machine a configuration is for: its architecture (CONFIG_ARM64 or CONFIG_X86_64) and page
 * size (arm64: CONFIG_ARM64_{4K,16K,64K}_PAGES; x86_64: 4 KiB), null where it does not say.
 * Throws KconfigError when it names two.
 */
export function kconfigMachine(kc: Kconfig): { arch: Arch | null; pageSize: number | null } {
  const src = kc.base?.source ?? '--kconfig';
  const arm = rawValue(kc, 'ARM64') === 'y';
  const x86 = rawValue(kc, 'X86_64') === 'y';
  if (arm && x86) throw new KconfigError(src, null, 'CONFIG_ARM64 and CONFIG_X86_64 are both set: a configuration is for one architecture');
  const arch: Arch | null = arm ? 'arm64' : x86 ? 'x86_64' : null;
  if (arch !== 'arm64') return { arch, pageSize: arch === 'x86_64' ? 4096 : null };
  const sizes = ([['ARM64_4K_PAGES', 4096], ['ARM64_16K_PAGES', 16384], ['ARM64_64K_PAGES', 65536]] as const).filter(([s]) => rawValue(kc, s) === 'y');
  if (sizes.length > 1) throw new KconfigError(src, null, `${sizes.map(([x]) => `CONFIG_${x}`).join(' and ')} are all set: a configuration has one page size`);
  return { arch, pageSize: sizes[0]?.[1] ?? null };
}

const MODULE_NAME: Readonly<Record<string, string>> = { DMABUF_HEAPS_SYSTEM: 'system_heap', DMABUF_HEAPS_CMA: 'cma_heap', UDMABUF: 'udmabuf', IKCONFIG: 'configs' };

/** A bool/tristate symbol is built in (y). */
export function builtIn(b: KernelBuild, sym: string): boolean {
  return b.values.get(sym) === 'y';
}

/** An int symbol's value (its Kconfig default when not set). */
export function intValue(b: KernelBuild, sym: string, fallback: number): number {
  const v = b.values.get(sym);
  return v === undefined || !/^-?[0-9]+$/.test(v) ? fallback : Number(v);
}

/**
 * /proc/config.gz (kernel/configs.c, CONFIG_IKCONFIG_PROC): the `.config` gzip'd, or null when
 * the build has none (IKCONFIG not built in, or IKCONFIG_PROC off). The kernel embeds the
 * output of `gzip -n -9`; this is a gzip stream of stored blocks (gzip.ts): the same text
 * after gunzip, other compressed bytes.
 */
export function configGz(b: KernelBuild): Uint8Array | null {
  if (!builtIn(b, 'IKCONFIG') || !builtIn(b, 'IKCONFIG_PROC')) return null;
  return gzipStored(strBytes(b.text));
}

/** configGz() as the latin1 string the kernel's virtual files hold, or null. */
export function configGzText(b: KernelBuild): string | null {
  const gz = configGz(b);
  return gz === null ? null : bytesStr(gz);
}
