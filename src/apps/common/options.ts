/**
 * Every command's options in one place: each with its help line, so a command's `--help` is made
 * from the options its parser accepts and cannot leave one out (test/unit/cli-options.test.ts
 * checks every command), and an option given to a command that does not take it is refused
 * with the commands that do.
 */
import { parse, UsageError } from './args.js';

export interface OptionDoc {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** May be given more than once (its value is then a list). */
  readonly multiple?: boolean;
  /** The value's placeholder in the help: `<size>`. */
  readonly arg?: string;
  readonly help: string;
}

export type OptionSet = Readonly<Record<string, OptionDoc>>;

/** The options that describe an emulated machine. */
export const MACHINE_OPTION_DOCS: OptionSet = {
  board: { type: 'string', arg: '<board>', help: 'boot a board from its device tree: a shipped board (am62x, imx8mp, rk3588, rpi5, x86-pc), or a DTS, DTB, or a directory laid out as /sys/firmware/devicetree/base (RAM, reserved memory, arch and bootargs come from it)' },
  profile: { type: 'string', arg: '<v>', help: 'kernel version: 5.10, 5.15, 6.1, 6.6, 6.12, 6.17, 6.18, 6.19, 7.0 or 7.3 (default 7.0), or an Android GKI branch, e.g. android14-6.1: its mainline version plus the branch facts the emulator models (docs/android.md)' },
  cmdline: { type: 'string', arg: '<args>', help: "kernel command line, e.g. 'cma=128M@0x40000000' (default cma=64M; with --board the board's bootargs)" },
  features: { type: 'string', arg: '<list>', help: 'proposed kernel features, comma-separated: coherent (or coherent-prefixed) heaps, dmem (dmem cgroup charging), charge-pidfd (memcg charge_pid_fd)' },
  ram: { type: 'string', arg: '<size>', help: 'RAM size, 64M to 64T (default 2G; with --board the board\'s /memory)' },
  'page-size': { type: 'string', arg: '<size>', help: 'page size: 4096 (default), or 16K or 64K with --arch arm64' },
  arch: { type: 'string', arg: '<a>', help: 'x86_64 (default) or arm64 (with --board: the board\'s; with --kconfig: the configuration\'s)' },
  kconfig: { type: 'string', multiple: true, arg: '<file|opts>', help: 'the kernel configuration: a .config file (or /proc/config.gz), and/or options SYMBOL=value, comma-separated, on top of it (CMA_SIZE_MBYTES=64,DMABUF_HEAPS_CMA=n); repeatable; heaps, CMA areas and /proc/config.gz follow it (docs/kconfig.md)' },
  fault: { type: 'string', multiple: true, arg: '<spec>', help: 'fault injection (docs/faults.md), repeatable: alloc:nth=N|every=N|fraction=F[,seed=S][,errno=E][,heap=NAME][,comm=NAME] fails heap allocations; signal:... (the same keys, no errno) kills the allocating process mid-allocation; shrink-cma:size=SIZE|pages=N[,area=NAME], pin:pages=N[,area=NAME][,pfn=PFN|seed=S] and take-memory:size=SIZE apply at boot. A name runs to the next ,key= (heap=linux,cma works)' },
  loader: { type: 'string', arg: '<spec>', help: 'where the boot loader put the kernel image, initrd and DTB: qemu-virt (QEMU arm64 -machine virt, the arm64 referee), qemu-pc (QEMU x86-64 -machine pc without a board, the x86 referees\' e820: the default of an x86-64 machine without a board), none (no loader: without a board, one bank of RAM) and/or image=SIZE@ADDR, initrd=SIZE@ADDR, dtb=SIZE@ADDR, comma-separated (docs/kconfig.md)' },
};

export const JSON_OPTION: OptionSet = {
  json: { type: 'boolean', help: 'machine-readable output; errors too, as {"error": {"code", "message", "hint"}} on stdout' },
};

export const HELP_OPTION: OptionSet = {
  help: { type: 'boolean', short: 'h', help: 'this help' },
};

export const BACKEND_OPTION_DOC: OptionSet = {
  backend: { type: 'string', arg: '<b>', help: 'emulated, linux (this machine\'s kernel) or auto (default: this machine when it can, else an emulated one, with a note); a machine option selects emulated' },
};

export const SANITIZE_OPTION: OptionSet = {
  sanitize: { type: 'boolean', help: 'run the emulated kernel with the sync sanitizer (docs/sanitizer.md): CPU access outside DMA_BUF_IOCTL_SYNC is reported' },
};

export interface CommandSpec {
  /** `heaps`, `conformance run`. */
  readonly name: string;
  /** Usage lines after "dmaheap " (the first is printed after "Usage: "). */
  readonly synopsis: readonly string[];
  /** What the command does, as lines of text. */
  readonly description: string;
  /** The command's own options (besides the machine options, --json and --help). */
  readonly own: OptionSet;
  /** Whether it takes the machine options. */
  readonly machine: boolean;
  readonly positionals: boolean;
  /** Said after the options (exit status, …). */
  readonly footer?: string;
}

/** All the options a command's parser accepts. */
export function optionsOf(c: CommandSpec): OptionSet {
  return { ...c.own, ...(c.machine ? MACHINE_OPTION_DOCS : {}), ...JSON_OPTION, ...HELP_OPTION };
}

function optionLabel(name: string, o: OptionDoc): string {
  return `${o.short !== undefined ? `-${o.short}, ` : ''}--${name}${o.arg !== undefined ? ` ${o.arg}` : ''}`;
}

/** Lines of "  label   help", labels padded to `w`, the help wrapped to `width` columns. */
function optionLines(set: OptionSet, w: number, width = 100): string[] {
  const entries = Object.entries(set);
  const out: string[] = [];
  for (const [n, o] of entries) {
    const label = optionLabel(n, o);
    const indent = ' '.repeat(2 + w + 2);
    const words = o.help.split(' ');
    const lines: string[] = [];
    let line = '';
    for (const word of words) {
      if (line !== '' && indent.length + line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    lines.push(line);
    if (label.length > w) {
      out.push(`  ${label}`);
      for (const l of lines) out.push(`${indent}${l}`);
    } else lines.forEach((l, i) => out.push(i === 0 ? `  ${label.padEnd(w)}  ${l}` : `${indent}${l}`));
  }
  return out;
}

/** The command's `--help`: synopsis, description, then every option its parser accepts. */
export function helpText(c: CommandSpec): string {
  const out = c.synopsis.map((s, i) => `${i === 0 ? 'Usage: ' : '       '}dmaheap ${s}`);
  const w = Math.min(24, Math.max(...Object.entries(optionsOf(c)).map(([n, o]) => optionLabel(n, o).length)));
  out.push(c.description, '', 'Options:');
  out.push(...optionLines({ ...c.own, ...JSON_OPTION, ...HELP_OPTION }, w));
  if (c.machine) {
    out.push('', 'Machine options (the emulated kernel):');
    out.push(...optionLines(MACHINE_OPTION_DOCS, w));
  }
  if (c.footer !== undefined) out.push('', c.footer);
  return out.join('\n');
}

/** The hint of a usage error in `c`. */
export function usageHint(c: CommandSpec | null): string {
  return c === null ? "'dmaheap --help' lists the commands" : `'dmaheap ${c.name} --help' lists its options`;
}

/**
 * Parses `argv` with `c`'s options. An option `c` does not take is refused with the commands
 * that do take it (`--sanitize does not apply to heaps`), or the closest option it has.
 */
export function parseCommand(c: CommandSpec, argv: string[], all: readonly CommandSpec[]): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const set = optionsOf(c);
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [n, o] of Object.entries(set)) config[n] = { type: o.type, ...(o.short !== undefined ? { short: o.short } : {}), ...(o.multiple === true ? { multiple: true } : {}) };
  try {
    const r = parse(argv, config, c.positionals);
    return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals };
  } catch (e) {
    if (!(e instanceof UsageError) || e.option === null) throw e;
    const opt = e.option;
    if (/^-[\d.]/.test(opt)) throw new UsageError(`'${opt}' is a negative number: sizes, ids and counts are never negative`, usageHint(c));
    const name = opt.replace(/^-+/, '').replace(/=.*$/, '');
    const takers = all.filter((o) => o !== c && (opt.startsWith('--') ? name in optionsOf(o) : Object.values(optionsOf(o)).some((d) => d.short === name)));
    if (takers.length > 0) throw new UsageError(`${opt} does not apply to ${c.name} (it is an option of ${takers.map((t) => t.name).join(', ')})`, usageHint(c));
    const near = Object.keys(set).filter((k) => distance(k, name) <= 2).sort((a, b) => distance(a, name) - distance(b, name));
    throw new UsageError(`unknown option '${opt}'${near.length > 0 ? ` (did you mean --${near[0]!}?)` : ''}`, usageHint(c));
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}
