/**
 * The arm64 referee against the emulator (issue 11, item 2): what Linux 7.3-rc7 under
 * `qemu-system-aarch64 -machine virt` (../shared/oracle/run-arm64.sh) shows for a device tree and
 * a command line — the heaps (/dev/dma_heap), the CMA areas (/sys/kernel/mm/cma and debugfs
 * base_pfn/count), CmaTotal and the boot-log lines about reserved memory and CMA — and what the
 * emulator shows when it boots the same DTB with the referee's `.config` (`--kconfig
 * kernel.config`) and QEMU's loader (`--loader qemu-virt`).
 *
 * The recordings are test/oracle/issue-11/arm64/<case>.out, made with guest.sh beside them;
 * test/unit/arm64-referee.test.ts compares them with the emulator, and
 * scripts/test-kernel-arm64.sh records them again live and runs
 * `node dist/scripts/arm64-referee.js compare <dir> [--images <dir>]` on the result.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { bootKernel } from '../src/backends/emulated/index.js';
import type { LoaderConfig } from '../src/kernel/of/boot-layout.js';
import type { ProfileName } from '../src/kernel/profile.js';

/** One referee run: a device tree and extra kernel command line (run-arm64.sh ORACLE_DTB, ORACLE_APPEND). */
export interface Arm64Case {
  /** The recording's name: test/oracle/issue-11/arm64/<name>.out. */
  readonly name: string;
  /** The DTB's file name in images-arm64-7.3/ (and test/fixtures/arm64-7.3/). */
  readonly dtb: string;
  /** What ORACLE_APPEND adds to the command line ('' for nothing). */
  readonly cmdline: string;
}

export const ARM64_CASES: readonly Arm64Case[] = [
  { name: 'virt-cma', dtb: 'virt-cma.dtb', cmdline: '' },
  { name: 'virt-cma.cma32M', dtb: 'virt-cma.dtb', cmdline: 'cma=32M' },
  { name: 'virt', dtb: 'virt.dtb', cmdline: '' },
  { name: 'virt.cma32M', dtb: 'virt.dtb', cmdline: 'cma=32M' },
  { name: 'virt-cma.cma0', dtb: 'virt-cma.dtb', cmdline: 'cma=0' },
  { name: 'virt.cma0', dtb: 'virt.dtb', cmdline: 'cma=0' },
];

/** What is compared. */
export interface Arm64Facts {
  /** `ls -1 /dev/dma_heap`, sorted bytewise (as busybox ls sorts in the C locale). */
  readonly heaps: readonly string[];
  /** `ls -1 /sys/kernel/mm/cma` (null: no such directory). */
  readonly cmaSysfs: readonly string[] | null;
  /** `<area> base_pfn=<n> count=<n>` for each /sys/kernel/debug/cma/<area>, sorted. */
  readonly cmaDebugfs: readonly string[];
  /** The CmaTotal line of /proc/meminfo, spaces collapsed (`CmaTotal: 65536 kB`). */
  readonly cmaTotal: string | null;
  /** The boot-log lines about reserved memory and CMA, in order ({@link isReservedMemLine}). */
  readonly bootLog: readonly string[];
}

/** A boot-log line about reserved memory or CMA: what the comparison takes from dmesg. */
export function isReservedMemLine(line: string): boolean {
  return /^(?:Reserved memory: |cma: |OF: reserved mem: |OF: fdt: |Skipping dt linux,cma-default)/.test(line);
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Bounds on a recording (a referee's console is a few KiB; these stop a wrong file early). */
const MAX_RECORDING = 1024 * 1024;
const MAX_LINES = 20_000;

/** The facts of a recording made with guest.sh; throws Error naming what is missing. */
export function refereeFacts(text: string, source = 'recording'): Arm64Facts {
  if (text.length > MAX_RECORDING) throw new Error(`${source}: ${text.length} bytes, more than a recording can be (${MAX_RECORDING})`);
  const lines = text.split('\n', MAX_LINES + 1);
  if (lines.length > MAX_LINES) throw new Error(`${source}: more than ${MAX_LINES} lines`);
  const sections = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    const m = /^## (.+)$/.exec(line);
    if (m !== null) {
      cur = [];
      sections.set(m[1]!, cur);
    } else if (cur !== null && line !== '') cur.push(line);
  }
  const need = (name: string): string[] => {
    const s = sections.get(name);
    if (s === undefined) throw new Error(`${source}: no '## ${name}' section (record it with test/oracle/issue-11/arm64/guest.sh)`);
    return s;
  };
  const sysfs = need('/sys/kernel/mm/cma');
  const total = need('/proc/meminfo').find((l) => l.startsWith('CmaTotal:'));
  return {
    heaps: [...need('/dev/dma_heap')].sort(byteOrder),
    cmaSysfs: sysfs.some((l) => l.startsWith('ls: ')) ? null : [...sysfs].sort(byteOrder),
    cmaDebugfs: [...need('/sys/kernel/debug/cma')].sort(byteOrder),
    cmaTotal: total === undefined ? null : total.replace(/\s+/g, ' '),
    bootLog: need('dmesg').filter(isReservedMemLine),
  };
}

/** The kernel version the emulator plays against the 7.3-rc7 referee. */
export const REFEREE_PROFILE: ProfileName = '7.3';

/** What the emulator needs to boot like the referee. */
export interface EmulatedRun {
  /** The DTB's bytes. */
  readonly dtb: Uint8Array;
  /** The referee's `.config` (images-arm64-7.3/kernel.config). */
  readonly kconfig: string;
  /** The extra command line (the referee's own is console=… quiet …, which changes nothing here). */
  readonly cmdline: string;
  /** The loader (default: the qemu-virt preset, whose sizes are the referee's images'). */
  readonly loader?: LoaderConfig;
  readonly profile?: ProfileName;
}

/** The same facts from the emulator booted like the referee. */
export function emulatedFacts(run: EmulatedRun): { facts: Arm64Facts; profile: ProfileName } {
  const profile = run.profile ?? REFEREE_PROFILE;
  const k = bootKernel({ profile, board: run.dtb, kconfig: run.kconfig, loader: run.loader ?? { preset: 'qemu-virt' }, cmdline: run.cmdline, cmdlineGiven: true });
  const p = k.spawn({ uid: 0, gid: 0, groups: [] }, 'ls');
  const read = (path: string): string | null => {
    const r = k.readFile(p, path);
    return typeof r === 'string' ? r : null;
  };
  const debugfs = (k.readdir('/sys/kernel/debug/cma', p) ?? []).map((a) => `${a} base_pfn=${(read(`/sys/kernel/debug/cma/${a}/base_pfn`) ?? '?').trim()} count=${(read(`/sys/kernel/debug/cma/${a}/count`) ?? '?').trim()}`);
  const total = (read('/proc/meminfo') ?? '').split('\n').find((l) => l.startsWith('CmaTotal:'));
  const bootLog = k.dmesg.filter(isReservedMemLine);
  const sysfs = k.readdir('/sys/kernel/mm/cma', p);
  return {
    profile,
    facts: {
      heaps: [...(k.readdir('/dev/dma_heap', p) ?? [])].sort(byteOrder),
      cmaSysfs: sysfs === null ? null : [...sysfs].sort(byteOrder),
      cmaDebugfs: debugfs.sort(byteOrder),
      cmaTotal: total === undefined ? null : total.replace(/\s+/g, ' '),
      bootLog,
    },
  };
}

/** Each fact that differs, as `fact: referee … / emulator …` lines (empty: they agree). */
export function compareFacts(referee: Arm64Facts, emulated: Arm64Facts): string[] {
  const out: string[] = [];
  const show = (v: unknown) => JSON.stringify(v);
  for (const key of ['heaps', 'cmaSysfs', 'cmaDebugfs', 'cmaTotal', 'bootLog'] as const) {
    if (show(referee[key]) !== show(emulated[key])) out.push(`${key}:\n  referee:  ${show(referee[key])}\n  emulator: ${show(emulated[key])}`);
  }
  return out;
}

/**
 * The loader of a referee's images: the qemu-virt preset with the kernel image's size from the
 * arm64 Image header (image_size, at byte 16 of the gunzip'd Image) and the initrd's file size.
 */
export function loaderOfImages(imageGz: Uint8Array, initrdSize: number): LoaderConfig {
  const head = gunzipSync(imageGz, { maxOutputLength: 256 * 1024 * 1024 }).subarray(0, 64);
  if (head.length < 64 || head[56] !== 0x41 || head[57] !== 0x52 || head[58] !== 0x4d || head[59] !== 0x64) throw new Error('Image.gz: not an arm64 Image (no ARM\\x64 magic at byte 56)');
  const size = Number(Buffer.from(head).readBigUInt64LE(16));
  return { preset: 'qemu-virt', image: { size }, initrd: { size: initrdSize } };
}

function usage(): never {
  console.error('usage: node dist/scripts/arm64-referee.js compare <recordings dir> [--images <images-arm64-7.3 dir>] [--kconfig <.config>]');
  process.exit(2);
}

/** `compare DIR`: every case's recording against the emulator; exit 0 when all agree, 1 otherwise. */
function main(argv: readonly string[]): void {
  if (argv[0] !== 'compare' || argv[1] === undefined) usage();
  const dir = argv[1];
  let images: string | null = null;
  let kconfigPath: string | null = null;
  for (let i = 2; i < argv.length; i += 2) {
    if (argv[i] === '--images' && argv[i + 1] !== undefined) images = argv[i + 1]!;
    else if (argv[i] === '--kconfig' && argv[i + 1] !== undefined) kconfigPath = argv[i + 1]!;
    else usage();
  }
  const fixtures = fileURLToPath(new URL('../../test/fixtures/arm64-7.3/', import.meta.url));
  const from = images ?? fixtures;
  const kconfig = readFileSync(kconfigPath ?? `${from}/kernel.config`, 'latin1');
  const loader = images === null ? undefined : loaderOfImages(readFileSync(`${images}/Image.gz`), readFileSync(`${images}/initramfs.cpio.gz`).length);
  let failed = 0;
  for (const c of ARM64_CASES) {
    const referee = refereeFacts(readFileSync(`${dir}/${c.name}.out`, 'utf8'), `${dir}/${c.name}.out`);
    const e = emulatedFacts({ dtb: readFileSync(`${from}/${c.dtb}`), kconfig, cmdline: c.cmdline, ...(loader !== undefined ? { loader } : {}) });
    const diff = compareFacts(referee, e.facts);
    const what = `${c.dtb}${c.cmdline === '' ? '' : ` ${c.cmdline}`}`;
    if (diff.length === 0) console.log(`ok   ${what}: ${referee.heaps.length} heaps, ${referee.cmaDebugfs.length} CMA areas, ${referee.bootLog.length} boot-log lines agree (emulated profile ${e.profile})`);
    else {
      failed++;
      console.log(`FAIL ${what} (emulated profile ${e.profile}):\n${diff.join('\n')}`);
    }
  }
  console.log(failed === 0 ? `arm64 referee: all ${ARM64_CASES.length} runs agree with the emulator` : `arm64 referee: ${failed} of ${ARM64_CASES.length} runs differ from the emulator`);
  process.exitCode = failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
