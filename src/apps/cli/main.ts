#!/usr/bin/env node
/**
 * The dmaheap command line.
 */
import { readFileSync } from 'node:fs';
import { ErrnoError } from '../../api/errors.js';
import { conformanceMain } from '../conformance/cli.js';
import { MACHINE_OPTIONS, UsageError, machineFrom, parse, parseSize } from '../common/args.js';
import { printDemo, runDemo } from './demo.js';
import { printDump, runDump } from './dump.js';
import { bootHeaps, printDiff, printHeaps, printLint, upgradeDiff, withBoard } from './heaps.js';

const USAGE = `Usage: dmaheap <command> [options]

Commands:
  demo                       boot the emulated kernel, list its heaps, then allocate, map,
                             sync, name and free a buffer, printing what happened
  heaps                      the heaps of a machine or a board: backing memory, properties,
                             capacity, naming verdict; --diff <v1> <v2> for a kernel upgrade
  lint-names                 check heap names against the kernel's naming convention (N1-N7)
  dump                       per-process DMA-BUF accounting as Android's dmabuf_dump prints it
                             (Rss, Pss, buffer x process table, per-exporter totals, kernel-only share)
  conformance run <files>    run conformance case files (JSON) against a backend

Machine options (emulated kernel; defaults: profile 7.0, x86_64, 4 KiB pages, 2 GiB RAM, cma=64M):
  --board <file>     boot a board from its device tree: DTS, DTB, or a directory laid out as
                     /sys/firmware/devicetree/base (RAM, reserved memory and bootargs come from it)
  --features <list>  proposals: coherent (node names, v3) or coherent-prefixed heaps; dmem (dmem
                     cgroup charging of CMA/coherent heaps); charge-pidfd (memcg charge_pid_fd)
  --profile <v>      kernel version profile: 6.1, 6.6, 6.12, 6.17, 6.18, 6.19, 7.0
  --cmdline <args>   kernel command line, e.g. 'cma=128M@0x40000000'
  --ram <size>       RAM size, e.g. 4G
  --page-size <n>    4096, or 16K/64K with --arch arm64
  --arch <a>         x86_64 or arm64
  --json             machine-readable output
Run 'dmaheap <command> --help' for a command's own options.`;

const DEFAULT_MACHINE = { cmdline: 'cma=64M' };

const DUMP_USAGE = `Usage: dmaheap dump [--demo-workload] [-a|--all] [-b|--per-buffer] [--pid <n>] [--json] [machine options]
Per-process DMA-BUF accounting of the emulated machine, computed as Android's dmabuf_dump does from
/proc/<pid>/fdinfo, /proc/<pid>/maps and the system-wide buffer list (debugfs bufinfo, or the sysfs
stats): per process each buffer's Rss, Pss (size / processes sharing it) and exporter; the totals
with the kernel-only share (buffers no process holds). -a prints the buffer x process table, -b the
per-buffer and per-exporter statistics. --demo-workload first runs a scene: two processes sharing
buffers passed with SCM_RIGHTS and one buffer held only by the kernel. See docs/accounting.md.`;

const HEAPS_USAGE = `Usage: dmaheap heaps [--board <dts|dtb|dir>] [--profile <v>] [--cmdline <args>] [--features coherent] [--json]
       dmaheap heaps [--board <file>] --diff <v1> <v2>
Lists each heap: name, kind, the memory behind it (reserved-memory node, base, size, reusable,
no-map), whether it is contiguous, cached or protected, capacity and free space, and whether its
name follows the kernel's naming convention. --diff shows what upgrading from kernel v1 to v2
changes for the board (heaps added, removed, renamed).`;

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    case '--version':
    case '-V':
      console.log(version());
      return 0;
    case 'demo': {
      const { values } = parse(rest, { ...MACHINE_OPTIONS, heap: { type: 'string' }, size: { type: 'string' } });
      if (values.help) {
        console.log('Usage: dmaheap demo [--board <dts|dtb|dir>] [--heap <name>] [--size <bytes>] [machine options] [--json]');
        return 0;
      }
      const machine = withBoard(machineFrom(values, values.board === undefined ? DEFAULT_MACHINE : {}), values.board);
      const size = values.size !== undefined ? parseSize(values.size, '--size') : 1024 * 1024;
      const r = runDemo(machine, values.heap, size, values.board ?? null);
      console.log(values.json ? JSON.stringify(r, null, 2) : printDemo(r));
      return 0;
    }
    case 'heaps': {
      const { values, positionals } = parse(rest, { ...MACHINE_OPTIONS, diff: { type: 'string' } }, true);
      if (values.help) {
        console.log(HEAPS_USAGE);
        return 0;
      }
      const board = values.board ?? null;
      const machine = withBoard(machineFrom(values, board === null ? DEFAULT_MACHINE : {}), values.board);
      if (values.diff !== undefined) {
        const [from, to] = values.diff.includes(',') ? values.diff.split(',') : [values.diff, positionals[0]];
        if (from === undefined || to === undefined || to === '') throw new UsageError('--diff needs two profiles, e.g. --diff 6.12 7.0');
        const d = upgradeDiff(machine, board, from, to);
        console.log(values.json ? JSON.stringify(d, null, 2) : printDiff(d));
        return 0;
      }
      if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const r = bootHeaps(machine, board);
      console.log(values.json ? JSON.stringify(r, null, 2) : printHeaps(r));
      return 0;
    }
    case 'lint-names': {
      const { values } = parse(rest, MACHINE_OPTIONS);
      if (values.help) {
        console.log('Usage: dmaheap lint-names [--board <dts|dtb|dir>] [--profile <v>] [--cmdline <args>] [--features coherent] [--json]\nChecks every heap name against the kernel\'s naming convention (rules N1-N7, docs/naming.md).\nExit status 1 when a name breaks a rule (an error or a warning).');
        return 0;
      }
      const board = values.board ?? null;
      const r = bootHeaps(withBoard(machineFrom(values, board === null ? DEFAULT_MACHINE : {}), values.board), board);
      console.log(values.json ? JSON.stringify({ kernel: r.kernel, profile: r.profile, board: r.board, heaps: r.heaps.map((h) => h.naming) }, null, 2) : printLint(r));
      return r.heaps.every((h) => h.naming.ok) ? 0 : 1;
    }
    case 'dump': {
      const { values } = parse(rest, {
        ...MACHINE_OPTIONS,
        'demo-workload': { type: 'boolean' },
        all: { type: 'boolean', short: 'a' },
        'per-buffer': { type: 'boolean', short: 'b' },
        pid: { type: 'string' },
      });
      if (values.help) {
        console.log(DUMP_USAGE);
        return 0;
      }
      let pids: number[] | undefined;
      if (values.pid !== undefined) {
        if (!/^[1-9]\d*$/.test(values.pid)) throw new UsageError(`--pid: '${values.pid}' is not a process id`);
        pids = [Number(values.pid)];
      }
      const machine = withBoard(machineFrom(values, values.board === undefined ? DEFAULT_MACHINE : {}), values.board);
      const d = runDump(machine, { demoWorkload: values['demo-workload'] === true, board: values.board ?? null, ...(pids !== undefined ? { pids } : {}) });
      console.log(values.json ? JSON.stringify(d, null, 2) : printDump(d, { all: values.all === true, perBuffer: values['per-buffer'] === true }));
      return 0;
    }
    case 'conformance':
      return conformanceMain(rest);
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`dmaheap: ${e.message}\nRun 'dmaheap --help' for usage.`);
      process.exitCode = 2;
    } else if (e instanceof ErrnoError) {
      console.error(`dmaheap: ${e.message}`);
      process.exitCode = 1;
    } else if (e instanceof Error && e.name === 'KernelConfigError') {
      console.error(`dmaheap: ${e.message}`);
      process.exitCode = 2;
    } else {
      console.error(`dmaheap: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 70;
    }
  },
);
