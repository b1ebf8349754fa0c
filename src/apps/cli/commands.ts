/**
 * The commands of `dmaheap`: what each one accepts and says in its `--help`. The help is made
 * from the same option sets the parser uses (src/apps/common/options.ts), so it lists every
 * option; test/unit/cli-options.test.ts checks that each option has an effect or is refused.
 */
import { BACKEND_OPTION_DOC, SANITIZE_OPTION } from '../common/options.js';
import type { CommandSpec, OptionSet } from '../common/options.js';
import { CONFORMANCE_RUN } from '../conformance/cli.js';

const USER: OptionSet = {
  uid: { type: 'string', arg: '<n>', help: 'the emulated user the command runs as (default 0, root)' },
  gid: { type: 'string', arg: '<n>', help: 'its group id (default: the uid)' },
  groups: { type: 'string', arg: '<list>', help: 'its supplementary group ids, comma-separated (default none)' },
};

const DEMO_WORKLOAD: OptionSet = {
  'demo-workload': { type: 'boolean', help: 'emulated: first run a scene: two processes sharing buffers passed with SCM_RIGHTS, and one buffer only the kernel holds' },
};

export const DEMO: CommandSpec = {
  name: 'demo',
  synopsis: ['demo [--heap <name>] [--size <size>] [--sanitize] [--json] [machine options]'],
  description: `Boots the emulated kernel, lists its heaps, then allocates, maps, syncs, names and frees a
buffer, printing each step and what the kernel shows for it (fdinfo, debugfs).`,
  own: {
    heap: { type: 'string', arg: '<name>', help: 'the heap to allocate from (default: the first CMA heap, else the first heap)' },
    size: { type: 'string', arg: '<size>', help: 'the buffer size (default 1M)' },
    ...SANITIZE_OPTION,
  },
  machine: true,
  positionals: false,
};

export const HEAPS: CommandSpec = {
  name: 'heaps',
  synopsis: ['heaps [--backend emulated|linux|auto] [--json] [machine options]', 'heaps [--board <file>] [--cmdline <args>] --diff <v1> <v2>'],
  description: `Lists each heap: name, kind, the memory behind it (reserved-memory node, base, size, reusable,
no-map), whether it is contiguous, cached or protected, capacity and free space, and whether its
name follows the kernel's naming convention. On an emulated machine it also says which heap
you asked for is missing and why (a cma= that does not fit, a region the kernel refused, a
kernel too old for per-region heaps), from the boot log. --backend linux (auto when
/dev/dma_heap has a heap) lists this machine's heaps: each fact with where it came from (the
heap-name knowledge base, the device tree, /sys/kernel/mm/cma, /proc/meminfo), "unknown" where
nothing says, whether you may open each node, the CMA totals and /dev/udmabuf.`,
  own: {
    ...BACKEND_OPTION_DOC,
    diff: { type: 'string', arg: '<v1> <v2>', help: 'emulated: what moving the machine from kernel v1 to v2 changes: heaps added, removed, renamed, then every change user space sees (dma-buf files, mmap, sysfs/debugfs, udmabuf, fcntl, ...) with its release and the conformance case that checks it; also --diff v1,v2' },
  },
  machine: true,
  positionals: true,
};

export const LINT_NAMES: CommandSpec = {
  name: 'lint-names',
  synopsis: ['lint-names [--fail-on any|changeable] [--json] [machine options]'],
  description: `Checks every heap name of an emulated machine or board against the kernel's naming convention
(rules N1-N7, docs/naming.md). Each name says who chose it: the device tree (a reserved-memory
node name: yours to change) or the kernel (system, default_cma_region, reserved, the legacy
duplicates, the TEE's protected,<use>: fixed).`,
  own: {
    'fail-on': { type: 'string', arg: '<which>', help: 'which names that break a rule make the exit status 1: any (default), or changeable: only those the board can change (device-tree node names); the kernel\'s fixed names are still reported' },
  },
  machine: true,
  positionals: false,
  footer: 'Exit status: 0 no failing name, 1 a failing name (an error or a warning), 2 usage error.',
};

export const DUMP: CommandSpec = {
  name: 'dump',
  synopsis: ['dump [-a|--all] [-b|--per-buffer] [--pid <n>] [--json] [--backend emulated|linux|auto] [--demo-workload] [machine options]', 'dump --attach <pid|socket> [-a|--all] [-b|--per-buffer] [--pid <n>] [--json]'],
  description: `Per-process DMA-BUF accounting, computed as Android's dmabuf_dump does from /proc/<pid>/fdinfo,
/proc/<pid>/maps and the system-wide buffer list (debugfs bufinfo, or the sysfs stats): per
process each buffer's Rss, Pss (size / processes sharing it) and exporter; the totals with the
kernel-only share (buffers no process holds). --backend linux (auto on Linux) reads this machine
and says what it could not read (other users' processes need root, debugfs is root-only).
See docs/accounting.md.`,
  own: {
    all: { type: 'boolean', short: 'a', help: 'text: the buffer x process table instead of the per-process report' },
    'per-buffer': { type: 'boolean', short: 'b', help: 'text: the per-buffer and per-exporter statistics (with -a: first)' },
    pid: { type: 'string', arg: '<n>', help: 'only this process (1 to 4194304)' },
    attach: { type: 'string', arg: '<pid|socket>', help: 'a running `dmaheap run` (its pid, or its socket): the processes of the program it runs and their buffers' },
    ...BACKEND_OPTION_DOC,
    ...DEMO_WORKLOAD,
  },
  machine: true,
  positionals: false,
};

export const DOCTOR: CommandSpec = {
  name: 'doctor',
  synopsis: ['doctor [--backend emulated|linux|auto] [--json] [machine options] [--uid <n> --gid <n> --groups <list>]'],
  description: `Checks the DMA-BUF heap setup and explains every problem with what to do next: the kernel,
/dev/dma_heap (ENOENT), each heap node's owner and mode and whether you can open it (EACCES:
groups, a udev rule), the kernel configuration (/proc/config.gz or /boot/config-<release>), the
cma= naming trap, containers, /dev/udmabuf, a 4 KiB DMA_HEAP_IOCTL_ALLOC self-test (ENOTTY,
EINVAL) and what the accounting tools can see. --backend linux (auto on Linux) checks this
machine; --backend emulated an emulated one.`,
  own: { ...BACKEND_OPTION_DOC, ...USER },
  machine: true,
  positionals: false,
  footer: 'Exit status: 0 no check failed, 1 a check failed, 2 usage error.',
};

export const TOP: CommandSpec = {
  name: 'top',
  synopsis: ['top [--once | --interval <ms>] [--json] [--backend emulated|linux|auto] [--demo-workload] [machine options]', 'top --attach <pid|socket> [--once | --interval <ms>] [--json]'],
  description: `A live per-process view of DMA-BUF memory: Rss, Pss, buffer count, exporters and buffer names per
process, sorted by Rss, with the totals and the kernel-only share (buffers no process holds),
refreshed in place until Ctrl-C. On Linux, other users' processes need root.`,
  own: {
    once: { type: 'boolean', help: 'print one reading and exit' },
    interval: { type: 'string', arg: '<ms>', help: 'milliseconds between readings, 100 to 86400000 (default 1000); not with --once' },
    attach: { type: 'string', arg: '<pid|socket>', help: 'a running `dmaheap run` (its pid, or its socket): the processes of the program it runs and their buffers' },
    ...BACKEND_OPTION_DOC,
    ...DEMO_WORKLOAD,
  },
  machine: true,
  positionals: false,
};

export const ALLOC: CommandSpec = {
  name: 'alloc',
  synopsis: ['alloc <heap> <size> [--name <name>] [--hold] [--json] [--backend emulated|linux|auto] [--uid <n>] [machine options]'],
  description: `Allocates <size> bytes (4096, 64K, 1M, 0x1000; docs/tools.md, "Sizes") from /dev/dma_heap/<heap>
through the client library and shows the fd, the size the kernel gave (whole pages), the
dma-buf's inode, exporter and name, and what the heap is. The buffer is freed before exit.`,
  own: {
    name: { type: 'string', arg: '<name>', help: 'the buffer\'s name (DMA_BUF_SET_NAME; the kernel keeps 31 bytes)' },
    hold: { type: 'boolean', help: 'keep the buffer until Ctrl-C (inspect it meanwhile with dmaheap top or /proc/<pid>/fdinfo/<fd>)' },
    ...BACKEND_OPTION_DOC,
    uid: { type: 'string', arg: '<n>', help: 'emulated: allocate as this user (its gid is the same; the heap nodes are 0600 root:root, so any uid but 0 meets EACCES)' },
  },
  machine: true,
  positionals: true,
};

export const RUN: CommandSpec = {
  name: 'run',
  synopsis: ['run [machine options] [--sanitize] [--trace <file>] [--preload auto|off|<so>] [--json] -- <program> [args...]'],
  description: `Runs an unmodified native program (C, C++, Rust, Go, Python; static or dynamic) so that what it
does with DMA-BUF heaps happens on the emulated kernel: /dev/dma_heap, /dev/udmabuf, dma-buf and
sync_file fds and their ioctls, mmap of buffers (real shared memory), /proc/<pid>/fd, fdinfo and
maps, /sys/kernel/dmabuf, debugfs bufinfo, /sys/kernel/mm/cma and cgroup files; its children
(fork, exec, SCM_RIGHTS) too. Everything else runs natively on this machine. Linux 5.9 or later,
x86-64 or arm64 (seccomp user notification; see docs/run.md).`,
  own: {
    ...SANITIZE_OPTION,
    trace: { type: 'string', arg: '<file>', help: 'write every emulated call with its arguments and result to <file> as JSON lines' },
    stats: { type: 'boolean', help: 'print a summary on stderr at the end (calls served, continued, buffers left); with --json as one JSON line' },
    preload: { type: 'string', arg: 'auto|off|<so>', help: 'the fast path for dynamically linked glibc programs: with auto (the default) the shipped shim (native/prebuilt/linux-<arch>/dmaheap-preload.so) goes in such a program\'s LD_PRELOAD, and its calls that cannot touch the emulated machine skip the supervisor; off: every call goes through the supervisor; <so>: that shim for any program (also DMAHEAP_PRELOAD; see docs/run.md)' },
  },
  machine: true,
  positionals: true,
  footer: `Exit status: the program's (128 + the signal's number when a signal killed it); 125 when
dmaheap run itself failed (a missing launcher, no seccomp), 2 usage error.`,
};

export const SIMULATE: CommandSpec = {
  name: 'simulate',
  synopsis: [
    'simulate [machine options] [--seed <n>] [--report <out.html>] [--csv <file|->] [--json] <workload>',
    'simulate [machine options] --sweep cma=<from>..<to>|region:<name>=<from>..<to> [--points <n>] [--resolution <size>] [--seeds <n>] [--jobs <n>] [--json] <workload>',
    'simulate [machine options] --compare-profiles <v1>,<v2>[,...] [--report <out.html>] [--json] <workload>',
    'simulate [machine options] --replay [--save-workload <file>] [...] <recording|directory>',
  ],
  description: `Runs a workload (YAML or JSON: processes and their buffer streams, cgroups, memory pressure,
faults, or a replayed script; docs/simulate.md, examples in examples/workloads/) on an emulated
board in simulated time, far faster than real time and the same for the same seed. Reports every
failed allocation with why (the CMA area too small, fragmented: largest free run vs request,
pinned pages, a cgroup limit, a DMA mask), each heap's peak, the CMA areas' least free memory and
largest free run, per-process dma-buf Rss/Pss, and the time series (--csv) and pictures (--report).
--sweep finds the smallest CMA size at which the workload never fails over --seeds seeds;
--compare-profiles shows what a kernel upgrade changes for it. Sweeps and comparisons use one
worker thread per core.`,
  own: {
    seed: { type: 'string', arg: '<n>', help: 'the seed (default: the workload\'s, else 1); the same seed gives the same run' },
    report: { type: 'string', arg: '<out.html>', help: 'write a self-contained HTML report with charts (heap use, CMA area maps, failures, per-process memory; side by side for --compare-profiles and --sweep)' },
    csv: { type: 'string', arg: '<file|->', help: 'write the time series as CSV (- for stdout)' },
    sweep: { type: 'string', arg: 'cma=<from>..<to>', help: 'run the workload at --points CMA sizes from..to (cma= on the command line) and report the smallest without a failure; region:<name>=<from>..<to> resizes a board\'s reserved-memory region instead' },
    points: { type: 'string', arg: '<n>', help: 'sizes a sweep tries in its first round, 2 to 256 (default 16)' },
    resolution: { type: 'string', arg: '<size>', help: 'a sweep refines the gap between the largest failing and the smallest passing size until it is this narrow (default 1M; at most 4 rounds)' },
    seeds: { type: 'string', arg: '<n>', help: 'seeds per sweep size, 1 to 1000 (default 1): seed, seed+1, ...' },
    'compare-profiles': { type: 'string', arg: '<v1>,<v2>,...', help: 'run the workload on each kernel profile and show what changes (heaps renamed or split, accounting, failures)' },
    jobs: { type: 'string', arg: '<n>', help: 'worker threads for sweeps and comparisons (default: the number of cores)' },
    replay: { type: 'boolean', help: 'the file is a recording to replay: a dmaheap run --trace, a client trace (DMAHEAP_CLIENT_TRACE), a bufinfo or dmabuf_dump snapshot series, or a directory of snapshots (docs/replay.md); the report says where this machine differs' },
    'save-workload': { type: 'string', arg: '<file>', help: 'also write the workload as YAML (with --replay: the recording converted, to edit and run again)' },
  },
  machine: true,
  positionals: true,
  footer: 'Exit status: 0 done (failures of the workload are results, not errors), 1 a sweep found no size without failures, 2 usage error (a bad workload: file:line:column: field).',
};

export const DASHBOARD: CommandSpec = {
  name: 'dashboard',
  synopsis: ['dashboard [--backend emulated|linux] [--port <n>] [--host <h>] [--token <t>] [--open] [--sanitize] [--demo-workload] [--workload <file> [--speed <x>]] [--json] [machine options]', 'dashboard --attach <pid|socket> [--port <n>] [--host <h>] [--token <t>] [--open] [--json]'],
  description: `Serves a live web page of DMA-BUF memory (docs/dashboard.md): the heaps, each CMA area page by
page, the buffers with their importers and mappings, the processes with Rss/Pss, sanitizer
findings and a timeline, updated 4 times a second. It shows an emulated machine (the machine
options; with controls: allocate, free, inject a fault), a running \`dmaheap run\` (--attach,
read-only) or this machine's kernel (--backend linux, read-only: what it cannot read is listed).
It listens on 127.0.0.1 (a free port unless --port) until Ctrl-C; every page is also a JSON API.`,
  own: {
    backend: { type: 'string', arg: '<b>', help: 'emulated (default: the machine options) or linux (this machine\'s kernel, read-only, through /proc, /sys and debugfs)' },
    attach: { type: 'string', arg: '<pid|socket>', help: 'a running `dmaheap run` (its pid, or its socket), read-only' },
    workload: { type: 'string', arg: '<file>', help: 'emulated: a workload (dmaheap simulate\'s YAML) to run on the machine, with pause and step' },
    speed: { type: 'string', arg: '<x>', help: 'with --workload: simulated time per wall time, 0.001 to 100000 (default 1: real time; 60: a minute a second)' },
    port: { type: 'string', arg: '<n>', help: 'the TCP port, 1 to 65535 (default: a free one)' },
    host: { type: 'string', arg: '<h>', help: 'the address to listen on (default 127.0.0.1); any other needs a token and prints a warning' },
    token: { type: 'string', arg: '<t>', help: 'the token every request must carry (Authorization: Bearer, or ?token=); generated when --host is not loopback and none is given' },
    open: { type: 'boolean', help: 'open the page in the browser (xdg-open)' },
    ...SANITIZE_OPTION,
    ...DEMO_WORKLOAD,
  },
  machine: true,
  positionals: false,
  footer: 'Exit status: 0 stopped with Ctrl-C, 1 it could not start (the port is taken, the run is gone), 2 usage error.',
};

/** Every command, in the order of `dmaheap --help`. */
export const COMMANDS: readonly CommandSpec[] = [DEMO, HEAPS, LINT_NAMES, DUMP, CONFORMANCE_RUN, DOCTOR, TOP, ALLOC, RUN, SIMULATE, DASHBOARD];

export const USAGE = `Usage: dmaheap <command> [options]

Commands:
  demo                       boot the emulated kernel, list its heaps, then allocate, map,
                             sync, name and free a buffer, printing what happened
  heaps                      the heaps of a machine or a board: backing memory, properties,
                             capacity, naming verdict, missing heaps and why; --diff <v1> <v2>:
                             what a kernel upgrade changes for user space, case by case
  lint-names                 check heap names against the kernel's naming convention (N1-N7);
                             --fail-on changeable gates a board's CI on the names it can change
  dump                       per-process DMA-BUF accounting as Android's dmabuf_dump prints it
                             (Rss, Pss, buffer x process table, per-exporter totals, kernel-only share)
  conformance run <files>    run conformance case files (JSON) against a backend
  doctor                     check this machine's heap setup (/dev/dma_heap, permissions, groups,
                             udev rules, kernel config, the cma= naming trap, containers, udmabuf)
                             and say what to do next
  top                        live per-process DMA-BUF memory (Rss, Pss, buffers, exporters, names)
  alloc <heap> <size>        allocate a buffer and show what the kernel gave (fd, size, inode, heap)
  run -- <program> [args]    run a native program (C, Python, ...; static or dynamic) on the
                             emulated kernel: its DMA-BUF heap calls are served by the emulator
  simulate <workload>        run a workload on a board in simulated time: failed allocations and
                             why, peaks, CMA fragmentation, pictures; --sweep cma=16M..512M for the
                             smallest CMA size, --compare-profiles for a kernel upgrade
  dashboard                  a live web page of the heaps, CMA page maps, buffers, importers and
                             processes (emulated, a dmaheap run, or this machine read-only)

Backend (heaps, dump, doctor, top, alloc): --backend emulated|linux|auto (default auto: this
machine when it can, else the emulated one, with a note); a machine option selects the
emulated backend.

Machine options (emulated kernel; defaults: profile 7.0, x86_64, 4 KiB pages, 2 GiB RAM, cma=64M):
  --board <file>     boot a board from its device tree: DTS, DTB, or a directory laid out as
                     /sys/firmware/devicetree/base (RAM, reserved memory and bootargs come from it)
  --features <list>  proposals: coherent (node names, v3) or coherent-prefixed heaps; dmem (dmem
                     cgroup charging of CMA/coherent heaps); charge-pidfd (memcg charge_pid_fd)
  --profile <v>      kernel version profile: 5.10, 5.15, 6.1, ..., 7.0, 7.3, or an
                     Android GKI branch: android14-6.1, android15-6.6, ... (docs/android.md)
  --cmdline <args>   kernel command line, e.g. 'cma=128M@0x40000000'
  --ram <size>       RAM size, e.g. 4G (64M to 64T)
  --page-size <n>    4096, or 16K/64K with --arch arm64
  --arch <a>         x86_64 or arm64
  --kconfig <f|opts> the kernel configuration: a .config (or /proc/config.gz) and/or SYMBOL=value
                     options on top (CMA_SIZE_MBYTES=64,DMABUF_HEAPS_CMA=n); repeatable
  --loader <spec>    where the boot loader put the kernel, initrd and DTB: qemu-virt (QEMU arm64
                     -machine virt), qemu-pc (QEMU x86-64 -machine pc, no board: its e820 map; the
                     x86-64 default without a board), none (without a board: one bank of RAM)
                     and/or image=SIZE@ADDR, initrd=SIZE@ADDR, dtb=SIZE@ADDR
  --json             machine-readable output; errors too: {"error": {"code", "message", "hint"}} on stdout

Sizes: a whole number of bytes, decimal or 0x hex, with an optional K, M, G or T (1K = 1024).
Exit status: 0 success, 1 failure (an error, a failing check or case), 2 usage error.
Run 'dmaheap <command> --help' for a command's own options.`;
