#!/usr/bin/env node
/**
 * The dmaheap command line.
 */
import { readFileSync } from 'node:fs';
import { ErrnoError } from '../../api/errors.js';
import { conformanceMain } from '../conformance/cli.js';
import { MACHINE_OPTIONS, UsageError, machineFrom, parse, parseSize } from '../common/args.js';
import { BACKEND_OPTION, openClient, openDoctor, openFiles, openTarget, parseBackend } from '../common/backend.js';
import type { BackendChoice } from '../common/backend.js';
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { printAlloc, runAlloc } from './alloc.js';
import { printDoctor, runDoctor } from './doctor.js';
import { CLEAR, formatTop, topLoop, topSnapshot } from './top.js';
import { printDemo, runDemo } from './demo.js';
import { dumpOn, printDump, printLinuxDump, readLinuxDump, runDemoWorkload, runDump } from './dump.js';
import { bootHeaps, printDiff, printHeaps, printLinuxHeaps, printLint, readLinuxHeaps, upgradeDiff, withBoard } from './heaps.js';

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
  doctor                     check this machine's heap setup (/dev/dma_heap, permissions, groups,
                             udev rules, kernel config, the cma= naming trap, containers, udmabuf)
                             and say what to do next
  top                        live per-process DMA-BUF memory (Rss, Pss, buffers, exporters, names)
  alloc <heap> <size>        allocate a buffer and show what the kernel gave (fd, size, inode, heap)

Backend (heaps, dump, doctor, top, alloc): --backend emulated|linux|auto (default auto: this
machine when it can, else the emulated one, with a note); a machine option below selects the
emulated backend.

Machine options (emulated kernel; defaults: profile 7.0, x86_64, 4 KiB pages, 2 GiB RAM, cma=64M):
  --board <b>        boot a board from its device tree: a shipped board (imx8mp, rpi5, rk3588,
                     am62x, x86-pc), or a DTS, DTB, or a directory laid out as
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

const DUMP_USAGE = `Usage: dmaheap dump [-a|--all] [-b|--per-buffer] [--pid <n>] [--json] [--backend emulated|linux|auto] [--demo-workload] [machine options]
Per-process DMA-BUF accounting, computed as Android's dmabuf_dump does from /proc/<pid>/fdinfo,
/proc/<pid>/maps and the system-wide buffer list (debugfs bufinfo, or the sysfs stats): per
process each buffer's Rss, Pss (size / processes sharing it) and exporter; the totals with the
kernel-only share (buffers no process holds). -a prints the buffer x process table, -b the
per-buffer and per-exporter statistics. --backend linux (auto on Linux) reads this machine and
says what it could not read (other users' processes need root, debugfs is root-only);
--demo-workload (emulated) first runs a scene: two processes sharing buffers passed with
SCM_RIGHTS and one buffer held only by the kernel. See docs/accounting.md.`;

const HEAPS_USAGE = `Usage: dmaheap heaps [--backend emulated|linux|auto] [--json] [--board <name|dts|dtb|dir>] [--profile <v>] [--cmdline <args>] [--features coherent]
       dmaheap heaps [--board <name|dts|dtb|dir>] --diff <v1> <v2>
Lists each heap: name, kind, the memory behind it (reserved-memory node, base, size, reusable,
no-map), whether it is contiguous, cached or protected, capacity and free space, and whether its
name follows the kernel's naming convention. --backend linux (auto when /dev/dma_heap has a heap)
lists this machine's heaps: each fact with where it came from (the heap-name knowledge base, the
device tree, /sys/kernel/mm/cma, /proc/meminfo), "unknown" where nothing says, whether you may
open each node, the CMA totals and /dev/udmabuf. --diff (emulated) shows what upgrading from
kernel v1 to v2 changes for the board (heaps added, removed, renamed).`;

const DOCTOR_USAGE = `Usage: dmaheap doctor [--backend emulated|linux|auto] [--json] [machine options] [--uid <n> --gid <n> --groups <list>]
Checks the DMA-BUF heap setup and explains every problem with what to do next: the kernel,
/dev/dma_heap (ENOENT), each heap node's owner and mode and whether you can open it (EACCES:
groups, a udev rule), the kernel configuration (/proc/config.gz or /boot/config-<release>), the
cma= naming trap, containers, /dev/udmabuf, a 4 KiB DMA_HEAP_IOCTL_ALLOC self-test (ENOTTY,
EINVAL) and what the accounting tools can see. --backend linux (auto on Linux) checks this
machine; --backend emulated an emulated one (--uid/--gid/--groups: the user it runs as).
Exit status 1 when a check fails.`;

const TOP_USAGE = `Usage: dmaheap top [--once] [--json] [--interval <ms>] [--backend emulated|linux|auto] [--demo-workload] [machine options]
A live per-process view of DMA-BUF memory: Rss, Pss, buffer count, exporters and buffer names per
process, sorted by Rss, with the totals and the kernel-only share (buffers no process holds),
refreshed in place every --interval ms (default 1000) until Ctrl-C. --once prints one reading;
--json prints JSON (one object per reading). On Linux, other users' processes need root.
--demo-workload (emulated) first runs dump's scene: two processes sharing buffers, one buffer
held only by the kernel.`;

const ALLOC_USAGE = `Usage: dmaheap alloc <heap> <size> [--name <name>] [--hold] [--json] [--backend emulated|linux|auto] [machine options]
Allocates <size> bytes (e.g. 4096, 1M) from /dev/dma_heap/<heap> through the client library and
shows the fd, the size the kernel gave (whole pages), the dma-buf's inode, exporter and name, and
what the heap is. --hold keeps the buffer until Ctrl-C (inspect it meanwhile with dmaheap top or
/proc/<pid>/fdinfo/<fd>); otherwise it is freed before exit.`;

/** --uid/--gid/--groups: the user an emulated command runs as. */
const USER_OPTIONS = { uid: { type: 'string' }, gid: { type: 'string' }, groups: { type: 'string' } } as const;

/** Options that describe an emulated machine: with one, `auto` means emulated and `linux` is an error. */
const EMULATED_ONLY = ['profile', 'cmdline', 'board', 'features', 'ram', 'page-size', 'arch', 'sanitize', 'uid', 'gid', 'groups', 'demo-workload'] as const;

/**
 * `--backend`, with the emulated-only options (EMULATED_ONLY and the command's `extra`): one of
 * them selects the emulated backend under auto and is a usage error with --backend linux.
 */
function backendFor(values: Record<string, unknown>, extra: readonly string[] = []): BackendChoice {
  const choice = parseBackend(values.backend);
  const given = [...EMULATED_ONLY, ...extra].filter((k) => values[k] !== undefined);
  if (given.length === 0) return choice;
  if (choice === 'linux') throw new UsageError(`--${given[0]!} applies to the emulated machine; with --backend linux the machine is this one`);
  return 'emulated';
}

/** The emulated output after an `auto` fallback: a note line first, or a `note` key in the JSON. */
function withNote(note: string | null, json: boolean, data: object, text: () => string): string {
  if (json) return JSON.stringify(note === null ? data : { note, ...data }, null, 2);
  return note === null ? text() : `note: ${note}\n${text()}`;
}

function userFrom(values: Record<string, unknown>, machine: EmulatedOptions): EmulatedOptions {
  const id = (v: unknown, what: string): number | undefined => {
    if (typeof v !== 'string') return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`${what}: '${v}' is not a numeric id`);
    return Number(v);
  };
  const uid = id(values.uid, '--uid');
  const gid = id(values.gid, '--gid') ?? uid;
  const groups = typeof values.groups === 'string' ? values.groups.split(',').filter((g) => g !== '').map((g) => id(g, '--groups')!) : undefined;
  return { ...machine, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}), ...(groups !== undefined ? { groups } : {}) };
}

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
        console.log('Usage: dmaheap demo [--board <name|dts|dtb|dir>] [--heap <name>] [--size <bytes>] [machine options] [--json]');
        return 0;
      }
      const machine = withBoard(machineFrom(values, values.board === undefined ? DEFAULT_MACHINE : {}), values.board);
      const size = values.size !== undefined ? parseSize(values.size, '--size') : 1024 * 1024;
      const r = runDemo(machine, values.heap, size, values.board ?? null);
      console.log(values.json ? JSON.stringify(r, null, 2) : printDemo(r));
      return 0;
    }
    case 'heaps': {
      const { values, positionals } = parse(rest, { ...MACHINE_OPTIONS, ...BACKEND_OPTION, diff: { type: 'string' } }, true);
      if (values.help) {
        console.log(HEAPS_USAGE);
        return 0;
      }
      const choice = backendFor(values, ['diff']);
      if (values.diff === undefined && positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const o = await openClient(choice);
      if (o.kind === 'linux') {
        try {
          const r = readLinuxHeaps(o.client, o.label);
          console.log(values.json ? JSON.stringify(r, null, 2) : printLinuxHeaps(r));
          return 0;
        } finally {
          o.client.close();
        }
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
      const r = bootHeaps(machine, board);
      console.log(withNote(o.note, values.json === true, r, () => printHeaps(r)));
      return 0;
    }
    case 'lint-names': {
      const { values } = parse(rest, MACHINE_OPTIONS);
      if (values.help) {
        console.log('Usage: dmaheap lint-names [--board <name|dts|dtb|dir>] [--profile <v>] [--cmdline <args>] [--features coherent] [--json]\nChecks every heap name against the kernel\'s naming convention (rules N1-N7, docs/naming.md).\nExit status 1 when a name breaks a rule (an error or a warning).');
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
        ...BACKEND_OPTION,
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
      const choice = backendFor(values);
      const machine = withBoard(machineFrom(values, values.board === undefined ? DEFAULT_MACHINE : {}), values.board);
      const layout = { all: values.all === true, perBuffer: values['per-buffer'] === true };
      const f = choice === 'emulated' ? null : openFiles(choice, machine);
      try {
        if (f !== null && f.kind === 'linux') {
          const d = readLinuxDump(f.files, f.fs, { machine: f.label, uid: f.uid }, pids !== undefined ? { pids } : {});
          console.log(values.json ? JSON.stringify(d, null, 2) : printLinuxDump(d, layout));
          return 0;
        }
        const opts = { demoWorkload: values['demo-workload'] === true, board: values.board ?? null, ...(pids !== undefined ? { pids } : {}) };
        const d = f?.target != null ? dumpOn(f.target, opts) : runDump(machine, opts);
        console.log(withNote(f?.note ?? null, values.json === true, d, () => printDump(d, layout)));
        return 0;
      } finally {
        f?.target?.dispose();
      }
    }
    case 'conformance':
      return conformanceMain(rest);
    case 'doctor': {
      const { values } = parse(rest, { ...MACHINE_OPTIONS, ...BACKEND_OPTION, ...USER_OPTIONS });
      if (values.help) {
        console.log(DOCTOR_USAGE);
        return 0;
      }
      const machine = userFrom(values, withBoard(machineFrom(values, values.board === undefined ? DEFAULT_MACHINE : {}), values.board));
      const d = await openDoctor(backendFor(values), machine);
      try {
        const r = runDoctor(d.target, d.host, d.note);
        console.log(values.json ? JSON.stringify(r, null, 2) : printDoctor(r));
        return r.counts.fail > 0 ? 1 : 0;
      } finally {
        d.dispose();
      }
    }
    case 'top': {
      const { values } = parse(rest, { ...MACHINE_OPTIONS, ...BACKEND_OPTION, once: { type: 'boolean' }, interval: { type: 'string' }, 'demo-workload': { type: 'boolean' } });
      if (values.help) {
        console.log(TOP_USAGE);
        return 0;
      }
      const interval = values.interval === undefined ? 1000 : Number(values.interval);
      if (!Number.isInteger(interval) || interval < 100) throw new UsageError(`--interval: '${values.interval}' is not a number of milliseconds ≥ 100`);
      const machine = withBoard(machineFrom(values, values.board === undefined ? DEFAULT_MACHINE : {}), values.board);
      const f = openFiles(backendFor(values), machine);
      if (values['demo-workload'] === true && f.kernel !== null) runDemoWorkload(f.kernel);
      const read = () => topSnapshot(f.fs, { machine: f.label, backend: f.kind, note: f.note });
      try {
        if (values.once === true) {
          const snap = read();
          console.log(values.json ? JSON.stringify(snap, null, 2) : formatTop(snap));
          return 0;
        }
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const tty = process.stdout.isTTY === true && values.json !== true;
        await topLoop(read, { interval, json: values.json === true, write: (s) => process.stdout.write(tty ? s : s.replace(CLEAR, '')), width: () => (tty ? process.stdout.columns : undefined), signal: ac.signal });
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        return 0;
      } finally {
        f.target?.dispose();
      }
    }
    case 'alloc': {
      const { values, positionals } = parse(rest, { ...MACHINE_OPTIONS, ...BACKEND_OPTION, ...USER_OPTIONS, name: { type: 'string' }, hold: { type: 'boolean' } }, true);
      if (values.help) {
        console.log(ALLOC_USAGE);
        return 0;
      }
      const [heap, sizeText, extra] = positionals;
      if (heap === undefined || sizeText === undefined) throw new UsageError('alloc needs a heap and a size, e.g. dmaheap alloc system 1M');
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
      const size = parseSize(sizeText, 'size');
      const machine = userFrom(values, withBoard(machineFrom(values, values.board === undefined ? DEFAULT_MACHINE : {}), values.board));
      const o = await openTarget(backendFor(values), machine);
      const { result, buffer, client } = runAlloc(o, heap, size, values.name !== undefined ? { name: values.name } : {});
      try {
        console.log(values.json ? JSON.stringify(result, null, 2) : printAlloc(result));
        if (values.hold === true) {
          console.error(`holding ${buffer.size} bytes as fd ${result.fd} of pid ${result.pid}${o.kind === 'emulated' ? ' (in the emulated kernel inside this process)' : ` (see /proc/${result.pid}/fdinfo/${result.fd}, or dmaheap top)`}; Ctrl-C releases it`);
          await new Promise<void>((resolve) => {
            // signal listeners do not keep Node running: a timer does until the signal comes
            const keepAlive = setInterval(() => undefined, 1 << 30);
            const done = () => {
              clearInterval(keepAlive);
              resolve();
            };
            process.once('SIGINT', done);
            process.once('SIGTERM', done);
          });
        }
        buffer.close();
        if (!values.json) console.log(`released: fd ${result.fd} closed, the memory goes back to ${heap}`);
      } finally {
        client.close();
      }
      return 0;
    }
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
    } else if (e instanceof Error && e.name === 'BackendError') {
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
