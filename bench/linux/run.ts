/**
 * Linux-backend benchmarks (issue 5 item 6): the TypeScript backend against a C program doing
 * the same syscalls (bench/linux-c/dmaheap-bench.c), both measured in the same run, several
 * rounds interleaved (C first in even rounds, TypeScript first in odd ones), median and range of
 * the per-round ratios, PASS/MISS against the target. Meant to run inside the oracle VM
 * (scripts/bench-kernel.sh, `npm run bench:kernel`): under TCG absolute times mean nothing, the
 * ratios do. The start-up benchmark measures fresh Node processes on the machine it runs on
 * (the host, via --startup-only, whose JSON the VM run takes with --host-startup).
 *
 * client-alloc-4k is the client API's allocation (createClient() defaults) and a breakdown of
 * what each default costs: one client per variant (one default changed), each timed between two
 * runs of C's ALLOC + close, and the differences of their ratios.
 *
 * A measurement, not a gate: exits 0 whatever the results (1 only when a benchmark crashed,
 * 2 for a usage error). Progress on stderr; stdout is the report, or one JSON document (--json).
 *
 * Usage: node --expose-gc dist/bench/linux/run.js [--quick] [--json] [--rounds N]
 *          [--c-bin PATH] [--heap NAME] [--only a,b] [--startup-only] [--host-startup FILE]
 *          [--clock wall|icount]
 * Benchmarks (--only): startup, alloc-close-4k, client-alloc-4k, map-read-{4k,64k,1m,16m,64m}.
 * --clock only labels the report (scripts/bench-kernel.sh --icount passes it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linuxBackend } from '../../src/backends/linux/index.js';
import type { LinuxTarget } from '../../src/backends/linux/index.js';
import type { DmaHeapClient, DmaHeapClientOptions } from '../../src/api/client.js';
import { DEFAULT_STACK_SAMPLING, LeakGuard } from '../../src/api/leak-guard.js';
import { loadLibc } from '../../src/backends/linux/libc.js';
import type { Libc } from '../../src/backends/linux/libc.js';
import { DMA_HEAP_IOCTL_ALLOC } from '../../src/uapi/dma-heap.js';
import { MAP_SHARED, O_CLOEXEC, O_RDONLY, O_RDWR, PROT_READ } from '../../src/uapi/fcntl.js';
import { fmtNs, fmtRatio, fmtSummary, nowNs, Progress, settle, summarize } from '../stats.js';
import type { Summary } from '../stats.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

// ---- arguments ---------------------------------------------------------------------------------

interface Opts {
  quick: boolean;
  json: boolean;
  rounds: number;
  cBin: string;
  heap: string;
  only: Set<string> | null;
  startupOnly: boolean;
  hostStartup: string | null;
  /** what the guest's clock counts: wall time (default) or instructions (bench-kernel.sh --icount) */
  clock: 'wall' | 'icount';
}

function usage(msg: string): never {
  process.stderr.write(`bench/linux: ${msg}\nusage: node --expose-gc dist/bench/linux/run.js [--quick] [--json] [--rounds N] [--c-bin PATH] [--heap NAME] [--only a,b] [--startup-only] [--host-startup FILE] [--clock wall|icount]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = {
    quick: false, json: false, rounds: 0, cBin: join(repo, 'dist/bench-linux-c/dmaheap-bench'), heap: 'system', only: null, startupOnly: false, hostStartup: null, clock: 'wall',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--quick') o.quick = true;
    else if (a === '--json') o.json = true;
    else if (a === '--rounds') o.rounds = Number(val());
    else if (a === '--c-bin') o.cBin = resolve(val());
    else if (a === '--heap') o.heap = val();
    else if (a === '--only') for (const n of val().split(',')) (o.only ??= new Set()).add(n);
    else if (a === '--startup-only') o.startupOnly = true;
    else if (a === '--host-startup') o.hostStartup = resolve(val());
    else if (a === '--clock') {
      const c = val();
      if (c !== 'wall' && c !== 'icount') usage('--clock is wall or icount');
      o.clock = c;
    }
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.rounds) || o.rounds < 0) usage('--rounds wants a positive integer');
  if (o.rounds === 0) o.rounds = o.quick ? 3 : 5;
  return o;
}

// ---- results -------------------------------------------------------------------------------------

interface Line {
  readonly label: string;
  /** ns per operation (or ms for start-up; or a ratio: unit 'x'), per round */
  readonly perRound: number[];
  readonly summary: Summary;
  readonly unit: 'ns' | 'ms' | 'x';
  /** per-round ratio to the baseline (the C program), when there is one */
  readonly ratio: Summary | null;
  readonly ratioPerRound: number[] | null;
}

interface Result {
  readonly name: string;
  readonly title: string;
  readonly where: 'guest' | 'host';
  readonly rounds: number;
  readonly ops: number;
  readonly baseline: Line | null;
  readonly measured: Line;
  readonly ratioLabel: string;
  readonly ratio: Summary;
  readonly ratioPerRound: number[];
  readonly target: { op: '<='; value: number; text: string };
  readonly pass: boolean;
  readonly info: Line[];
  readonly notes: string[];
}

function line(label: string, perRound: number[], base: number[] | null, unit: 'ns' | 'ms' | 'x' = 'ns'): Line {
  const rp = base === null ? null : perRound.map((v, i) => v / base[i]!);
  return { label, perRound, summary: summarize(perRound), unit, ratio: rp === null ? null : summarize(rp), ratioPerRound: rp };
}

// ---- the C program ---------------------------------------------------------------------------------

interface CRun {
  allocClose: number;
  /** the other 4 KiB loops (alloc-name-close, alloc-fstat-close, open-alloc-close, close-ebadf) by name */
  extra: Map<string, number>;
  mapRead: Map<number, number>;
  mapReadFresh: Map<number, number>;
}

/** Runs the C program: `allocOps` is the 4 KiB loops' count, optionally with `:loop,...` to run only those. */
function runC(o: Opts, allocOps: number | string, sizes: readonly { size: number; ops: number }[]): CRun {
  const args = [`/dev/dma_heap/${o.heap}`, String(allocOps), ...sizes.map((s) => `${s.size}:${s.ops}`)];
  const out = execFileSync(o.cBin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const r: CRun = { allocClose: Number.NaN, extra: new Map(), mapRead: new Map(), mapReadFresh: new Map() };
  for (const l of out.split('\n')) {
    const [what, size, ns] = l.trim().split(/\s+/);
    if (what === 'alloc-close') r.allocClose = Number(ns);
    else if (what === 'map-read') r.mapRead.set(Number(size), Number(ns));
    else if (what === 'map-read-fresh') r.mapReadFresh.set(Number(size), Number(ns));
    else if (what !== undefined && what !== '') r.extra.set(what, Number(ns));
  }
  return r;
}

// ---- the TypeScript side ---------------------------------------------------------------------------

const fdFlags = O_RDWR | O_CLOEXEC;

/** The preallocated dma_heap_allocation_data: len, fd = 0, fd_flags, heap_flags = 0. */
function allocArg(size: number): Uint8Array {
  const a = new Uint8Array(24);
  const dv = new DataView(a.buffer);
  dv.setBigUint64(0, BigInt(size), true);
  dv.setUint32(12, fdFlags, true);
  return a;
}

/** fd field of a dma_heap_allocation_data. */
function fdOf(b: Uint8Array): number {
  return b[8]! | (b[9]! << 8) | (b[10]! << 16) | (b[11]! << 24);
}

/**
 * ALLOC with the preallocated struct, fd = 0 each time as the C program does: passed in place
 * (ioctlInPlace; the fd is read back from the struct) or copied (ioctl(); read from `out`).
 */
function allocFd(t: LinuxTarget, heapFd: number, arg: Uint8Array, inPlace = false): number {
  arg.fill(0, 8, 12);
  if (inPlace) {
    const r = t.ioctlInPlace(heapFd, DMA_HEAP_IOCTL_ALLOC, arg);
    if (r.ret < 0) throw new Error(`DMA_HEAP_IOCTL_ALLOC: ${r.errno}`);
    return fdOf(arg);
  }
  const r = t.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg);
  if (r.ret < 0 || r.out === null) throw new Error(`DMA_HEAP_IOCTL_ALLOC: ${r.errno}`);
  return fdOf(r.out);
}

/** ns per ALLOC(4 KiB) + close through the SyscallTarget: in place (the measured line) or the copying ioctl(). */
function tsAllocClose(t: LinuxTarget, heapFd: number, arg: Uint8Array, n: number, inPlace: boolean): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) {
    const fd = allocFd(t, heapFd, arg, inPlace);
    if (t.close(fd).ret < 0) throw new Error('close failed');
  }
  return (nowNs() - t0) / n;
}

/** ns per client.allocate(heap, 4 KiB).close(). */
function clientAllocClose(c: DmaHeapClient, heap: string, n: number): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) c.allocate(heap, 4096).close();
  return (nowNs() - t0) / n;
}

/**
 * The client breakdown (client-alloc-4k): createClient() with its defaults, and with one default
 * changed at a time, so that each default's cost is the difference (in the same run, against the
 * same C baseline).
 */
const CLIENT_VARIANTS: readonly { readonly key: string; readonly label: string; readonly opts: DmaHeapClientOptions }[] = [
  { key: 'defaults', label: 'defaults', opts: {} },
  { key: 'stacks-all', label: 'stack for every allocation (leakGuard: { captureStacks: true })', opts: { leakGuard: { captureStacks: true } } },
  { key: 'stacks-off', label: 'no stacks (leakGuard: { captureStacks: false })', opts: { leakGuard: { captureStacks: false } } },
  { key: 'guard-off', label: 'no leak guard (leakGuard: false)', opts: { leakGuard: false } },
  { key: 'name-off', label: 'no automatic name (appName: null)', opts: { appName: null } },
  { key: 'heap-fd-each-time', label: 'heap node opened per allocation (keepHeapsOpen: false)', opts: { keepHeapsOpen: false } },
  { key: 'bare', label: 'no guard, no name (leakGuard: false, appName: null)', opts: { leakGuard: false, appName: null } },
];

/** What each default costs: the defaults' time less the time with it changed (per round). */
const CLIENT_COSTS: readonly { readonly label: string; readonly minus: string; readonly from: string }[] = [
  { label: 'the leak guard with sampled stacks (defaults − leakGuard: false)', from: 'defaults', minus: 'guard-off' },
  { label: '  of which the sampled stacks (defaults − captureStacks: false)', from: 'defaults', minus: 'stacks-off' },
  { label: '  and tracking, close() bookkeeping, FinalizationRegistry (captureStacks: false − leakGuard: false)', from: 'stacks-off', minus: 'guard-off' },
  { label: 'a stack for every allocation instead of 1 in 32 (captureStacks: true − defaults)', from: 'stacks-all', minus: 'defaults' },
  { label: 'the automatic name, one DMA_BUF_SET_NAME (defaults − appName: null)', from: 'defaults', minus: 'name-off' },
  { label: 'not keeping the heap node (keepHeapsOpen: false − defaults)', from: 'heap-fd-each-time', minus: 'defaults' },
];

/** The C program's other 4 KiB loops, for the same features in C. */
const C_EXTRAS: readonly { readonly key: string; readonly label: string }[] = [
  { key: 'alloc-name-close', label: 'C: ALLOC + DMA_BUF_SET_NAME + close' },
  { key: 'alloc-fstat-close', label: 'C: ALLOC + fstat + close (the fstat the client no longer makes)' },
  { key: 'open-alloc-close', label: 'C: open(heap) + ALLOC + close(heap) + close' },
  { key: 'close-ebadf', label: 'C: close(-1) (EBADF: a syscall that fails at once)' },
];

/** Diagnostics of the JS side of an allocation, per operation. */
interface JsCosts {
  koffiEbadf: number;
  frRegister: number;
  captureStack: number;
  newError: number;
}

/** ns per op of the JS pieces an allocation may pay for, at the stack depth of a client call. */
function jsCosts(libc: Libc, n: number): JsCosts {
  const reg = new FinalizationRegistry<object>(() => {});
  const guard = new LeakGuard({ captureStacks: true });
  const time = (f: () => void): number => {
    const t0 = nowNs();
    for (let i = 0; i < n; i++) f();
    return (nowNs() - t0) / n;
  };
  // a few frames down, as an allocation is (the user's code, allocate, capture)
  const deep = (d: number, f: () => void): void => {
    if (d === 0) f();
    else deep(d - 1, f);
  };
  let keep: unknown = null;
  const koffiEbadf = time(() => {
    if (libc.close(-1) !== -1) throw new Error('close(-1) succeeded');
  });
  const frRegister = time(() => {
    const owner = {};
    const token = { fd: 0 };
    reg.register(owner, token, token);
    reg.unregister(token);
  });
  const captureStack = time(() => deep(6, () => {
    keep = guard.capture();
  }));
  const newError = time(() => deep(6, () => {
    keep = new Error('allocated here');
  }));
  if (keep === sink) process.stderr.write('');
  return { koffiEbadf, frRegister, captureStack, newError };
}

let sink = 0;

/**
 * ns per ALLOC + mmap + a read of the whole mapping + munmap + close through the SyscallTarget:
 * into the preallocated `dst` (readMemInto and ALLOC in place: the measured line, as the C
 * program copies into one buffer), or a fresh copy per op (dst null: readMem and ioctl()).
 */
function tsMapRead(t: LinuxTarget, heapFd: number, arg: Uint8Array, size: number, n: number, dst: Uint8Array | null): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) {
    const fd = allocFd(t, heapFd, arg, dst !== null);
    const m = t.mmap(size, PROT_READ, MAP_SHARED, fd, 0);
    if (m.map === null) throw new Error(`mmap: ${m.errno}`);
    if (dst !== null) {
      const f = t.readMemInto(m.map, 0, dst);
      if (f !== null) throw new Error(`readMemInto: ${f}`);
      sink ^= dst[size - 1]!;
    } else {
      const bytes = t.readMem(m.map, 0, size);
      if (typeof bytes === 'string') throw new Error(`readMem: ${bytes}`);
      sink ^= bytes[size - 1]!;
    }
    if (t.munmap(m.map).ret < 0) throw new Error('munmap failed');
    if (t.close(fd).ret < 0) throw new Error('close failed');
  }
  return (nowNs() - t0) / n;
}

/** ns per allocate + map (read-only) + Mapping.readInto(dst) + unmap + close through the client API. */
function clientMapRead(c: DmaHeapClient, heap: string, size: number, n: number, dst: Uint8Array): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) {
    const b = c.allocate(heap, size);
    const m = b.map({ writable: false });
    m.readInto(dst);
    sink ^= dst[size - 1]!;
    m.unmap();
    b.close();
  }
  return (nowNs() - t0) / n;
}

// ---- diagnostics: libc through koffi with no SyscallTarget in between (the floor of this design) ----

/** ns per ALLOC + close calling koffi's libc functions directly with a preallocated Buffer. */
function floorAllocClose(libc: Libc, heapFd: number, arg: Buffer, n: number): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) {
    arg.writeUInt32LE(0, 8);
    if (libc.ioctlPtr(heapFd, DMA_HEAP_IOCTL_ALLOC, arg) < 0) throw new Error('ALLOC failed');
    if (libc.close(arg.readInt32LE(8)) < 0) throw new Error('close failed');
  }
  return (nowNs() - t0) / n;
}

/**
 * ns per ALLOC + mmap + koffi.view + copy into `dst` (or a fresh Uint8Array when null) + munmap
 * + close, calling libc directly.
 */
function floorMapRead(libc: Libc, heapFd: number, arg: Buffer, size: number, n: number, dst: Uint8Array | null): number {
  const len = BigInt(size);
  const t0 = nowNs();
  for (let i = 0; i < n; i++) {
    arg.writeUInt32LE(0, 8);
    if (libc.ioctlPtr(heapFd, DMA_HEAP_IOCTL_ALLOC, arg) < 0) throw new Error('ALLOC failed');
    const fd = arg.readInt32LE(8);
    const addr = libc.mmap(0, len, PROT_READ, MAP_SHARED, fd, 0n);
    if (addr === -1) throw new Error('mmap failed');
    const out = dst ?? new Uint8Array(size);
    out.set(new Uint8Array(libc.koffi.view(addr, size)));
    sink ^= out[size - 1]!;
    if (libc.munmap(addr, len) < 0) throw new Error('munmap failed');
    if (libc.close(fd) < 0) throw new Error('close failed');
  }
  return (nowNs() - t0) / n;
}

// ---- start-up ------------------------------------------------------------------------------------

interface Startup {
  importMs: number;
  availableMs: number;
  createMs: number;
  totalMs: number;
  available: boolean;
  reason: string | null;
  created: boolean;
  error: string | null;
}

interface StartupRun {
  readonly where: string;
  readonly runs: Startup[];
  /** wall time of the whole `node startup-child.js` process, ms */
  readonly processMs: number[];
}

function measureStartup(o: Opts, progress: Progress): StartupRun {
  const child = join(here, 'startup-child.js');
  const runs: Startup[] = [];
  const processMs: number[] = [];
  const n = o.rounds + 1;
  for (let r = 0; r < n; r++) {
    progress.line(`startup: process ${r + 1}/${n}${r === 0 ? ' (warm-up: page cache)' : ''}`);
    const t0 = nowNs();
    const out = execFileSync(process.execPath, [child], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const t1 = nowNs();
    if (r === 0) continue;
    runs.push(JSON.parse(out.trim()) as Startup);
    processMs.push((t1 - t0) / 1e6);
  }
  return { where: `${os.hostname()} (${os.release()})`, runs, processMs };
}

function startupResult(s: StartupRun): Result {
  const total = s.runs.map((r) => r.totalMs);
  const measured = line('import + isAvailable() + createTarget(), ms', total, null, 'ms');
  const ratioPerRound = total.map((v) => v / 50);
  const ratio = summarize(ratioPerRound);
  const first = s.runs[0];
  const notes = [`measured on ${s.where}, each round a fresh node process`];
  if (first !== undefined) {
    notes.push(first.available ? 'isAvailable(): ok' : `isAvailable(): not available here (${first.reason ?? '?'}); createTarget() still loads koffi, binds libc and makes the target (no heaps)`);
    if (!first.created) notes.push(`createTarget() threw: ${first.error ?? '?'}`);
  }
  return {
    name: 'startup',
    title: 'backend start-up: import of the linux backend + isAvailable() + createTarget() (koffi load, libc binding)',
    where: 'host',
    rounds: total.length,
    ops: 1,
    baseline: null,
    measured,
    ratioLabel: 'ms ÷ 50 ms',
    ratio,
    ratioPerRound,
    target: { op: '<=', value: 1, text: '≤ 50 ms' },
    pass: ratio.median <= 1,
    info: [
      line('module import, ms', s.runs.map((r) => r.importMs), null, 'ms'),
      line('isAvailable(), ms', s.runs.map((r) => r.availableMs), null, 'ms'),
      line('createTarget(), ms', s.runs.map((r) => r.createMs), null, 'ms'),
      line('whole node process (spawn to exit; not part of the target), ms', s.processMs, null, 'ms'),
    ],
    notes,
  };
}

// ---- the kernel benchmarks -------------------------------------------------------------------------

interface SizeSpec {
  readonly size: number;
  readonly ops: number;
  /** client-API informational ops */
  readonly clientOps: number;
}

function sizeName(size: number): string {
  return size >= MiB ? `${size / MiB}m` : `${size / KiB}k`;
}

function kernelBenches(o: Opts, progress: Progress): Result[] {
  // --quick only runs fewer rounds: with fewer operations per loop V8 has not finished optimising
  // the TypeScript loops under TCG (one vCPU, concurrent compilation) and the ratios come out
  // 1.3-1.6x higher
  const ops = (n: number): number => n;
  const allocOps = ops(10000);
  const clientAllocOps = ops(2000);
  const sizes: SizeSpec[] = [
    { size: 4 * KiB, ops: ops(2000), clientOps: ops(500) },
    { size: 64 * KiB, ops: ops(1000), clientOps: ops(300) },
    { size: 1 * MiB, ops: ops(100), clientOps: ops(40) },
    { size: 16 * MiB, ops: ops(10), clientOps: ops(5) },
    { size: 64 * MiB, ops: ops(4), clientOps: ops(2) },
  ].filter((s) => o.only === null || o.only.has(`map-read-${sizeName(s.size)}`));
  const doAlloc = o.only === null || o.only.has('alloc-close-4k');
  const doClient = o.only === null || o.only.has('client-alloc-4k');
  if (!doAlloc && !doClient && sizes.length === 0) return [];
  const t = linuxBackend.createTarget();
  const client = linuxBackend.createClient();
  const variants = new Map(CLIENT_VARIANTS.map((v) => [v.key, linuxBackend.createClient({ client: v.opts })]));
  const hf = t.open(`/dev/dma_heap/${o.heap}`, O_RDONLY | O_CLOEXEC);
  if (hf.ret < 0) throw new Error(`open /dev/dma_heap/${o.heap}: ${hf.errno}`);
  const heapFd = hf.ret;
  const arg4k = allocArg(4096);
  const args = new Map(sizes.map((s) => [s.size, allocArg(s.size)]));
  const libc = loadLibc();
  if (libc instanceof Error) throw libc;
  const bufArg = (a: Uint8Array): Buffer => Buffer.from(a);

  const c = { alloc: [] as number[], extra: new Map<string, number[]>(C_EXTRAS.map((x) => [x.key, []])), map: new Map<number, number[]>(), fresh: new Map<number, number[]>() };
  const cv = new Map<string, number[]>(CLIENT_VARIANTS.map((v) => [v.key, []]));
  const cvBase = new Map<string, number[]>(CLIENT_VARIANTS.map((v) => [v.key, []]));
  const jsOps = ops(2000);
  const js = { koffiEbadf: [] as number[], frRegister: [] as number[], captureStack: [] as number[], newError: [] as number[] };
  const ts = {
    alloc: [] as number[], allocCopy: [] as number[], floor: [] as number[],
    map: new Map<number, number[]>(), mapCopy: new Map<number, number[]>(), clientMap: new Map<number, number[]>(), floorPre: new Map<number, number[]>(),
  };
  for (const s of sizes) {
    for (const m of [c.map, c.fresh, ts.map, ts.mapCopy, ts.clientMap, ts.floorPre]) m.set(s.size, []);
  }
  const push = (m: Map<number, number[]>, size: number, v: number): void => {
    m.get(size)!.push(v);
  };
  const warm = 1;
  for (let r = -warm; r < o.rounds; r++) {
    progress.line(r < 0 ? 'kernel: warm-up round' : `kernel: round ${r + 1}/${o.rounds} (${r % 2 === 0 ? 'C first' : 'TypeScript first'})`);
    const runTs = (): void => {
      if (doClient) {
        // the variants in a different order each round, so that none always runs first
        const keys = CLIENT_VARIANTS.map((v) => v.key);
        const shift = ((r % keys.length) + keys.length) % keys.length;
        // Each variant runs between two runs of C's ALLOC + close, whose mean is its baseline:
        // under a loaded host (other guests, builds) a baseline from seconds earlier is another
        // machine. No forced GC before these loops (settle()): a full collection deoptimizes the client's
        // optimized code ("weak objects": --trace-deopt) and the next few thousand allocations
        // run up to 2x slower while V8 recompiles (on the guest's one vCPU), which an application
        // never asks for. So they run first in the round, after one untimed pass over every
        // variant, and each variant runs its count untimed again right before it is timed.
        for (const k of keys) clientAllocClose(variants.get(k)!, o.heap, clientAllocOps);
        for (const k of [...keys.slice(shift), ...keys.slice(0, shift)]) {
          const before = runC(o, `${clientAllocOps}:alloc-close`, []).allocClose;
          clientAllocClose(variants.get(k)!, o.heap, clientAllocOps);
          const v = clientAllocClose(variants.get(k)!, o.heap, clientAllocOps);
          const after = runC(o, `${clientAllocOps}:alloc-close`, []).allocClose;
          if (r >= 0) {
            cv.get(k)!.push(v);
            cvBase.get(k)!.push((before + after) / 2);
          }
        }
        const j = jsCosts(libc, jsOps);
        if (r >= 0) for (const [k, v] of Object.entries(j)) js[k as keyof JsCosts].push(v);
      }
      settle();
      if (doAlloc) {
        const a = tsAllocClose(t, heapFd, arg4k, allocOps, true);
        const ac = tsAllocClose(t, heapFd, arg4k, allocOps, false);
        const f = floorAllocClose(libc, heapFd, bufArg(arg4k), allocOps);
        if (r >= 0) {
          ts.alloc.push(a);
          ts.allocCopy.push(ac);
          ts.floor.push(f);
        }
      }
      for (const s of sizes) {
        // one destination per size, faulted in before timing, as the C program's
        const dst = new Uint8Array(s.size).fill(1);
        settle();
        const a = tsMapRead(t, heapFd, args.get(s.size)!, s.size, s.ops, dst);
        settle();
        const ac = tsMapRead(t, heapFd, args.get(s.size)!, s.size, s.ops, null);
        settle();
        const b = clientMapRead(client, o.heap, s.size, s.clientOps, dst);
        settle();
        const fp = floorMapRead(libc, heapFd, bufArg(args.get(s.size)!), s.size, s.ops, dst);
        if (r >= 0) {
          push(ts.map, s.size, a);
          push(ts.mapCopy, s.size, ac);
          push(ts.clientMap, s.size, b);
          push(ts.floorPre, s.size, fp);
        }
      }
    };
    const runCProg = (): void => {
      const cr = runC(o, doAlloc ? allocOps : doClient ? clientAllocOps : 0, sizes);
      if (r < 0) return;
      if (doAlloc || doClient) c.alloc.push(cr.allocClose);
      for (const [k, v] of c.extra) v.push(cr.extra.get(k) ?? Number.NaN);
      for (const s of sizes) {
        push(c.map, s.size, cr.mapRead.get(s.size) ?? Number.NaN);
        push(c.fresh, s.size, cr.mapReadFresh.get(s.size) ?? Number.NaN);
      }
    };
    if (r % 2 === 0 || r < 0) {
      runCProg();
      runTs();
    } else {
      runTs();
      runCProg();
    }
  }
  t.close(heapFd);
  client.close();
  for (const v of variants.values()) v.close();

  const out: Result[] = [];
  const mk = (name: string, title: string, n: number, base: number[], meas: number[], target: number, info: Line[], notes: string[]): Result => {
    const baseline = line('C program (same syscalls), ns/op', base, null);
    const measured = line('TypeScript, SyscallTarget, ns/op', meas, base);
    const ratio = measured.ratio!;
    return {
      name, title, where: 'guest', rounds: base.length, ops: n, baseline, measured, ratioLabel: 'TypeScript / C', ratio,
      ratioPerRound: measured.ratioPerRound!, target: { op: '<=', value: target, text: `≤ ${target}×` }, pass: ratio.median <= target, info, notes,
    };
  };
  if (doAlloc) {
    out.push(mk(
      'alloc-close-4k', 'DMA_HEAP_IOCTL_ALLOC of 4 KiB (one preallocated struct, target.ioctlInPlace) + close(fd)', allocOps, c.alloc, ts.alloc, 1.5,
      [
        line('target.ioctl() (copies the struct in and returns a copy) + close, ns/op', ts.allocCopy, c.alloc),
        line('diagnostic: koffi libc ioctl + close called directly (no SyscallTarget), ns/op', ts.floor, c.alloc),
      ],
      [],
    ));
  }
  if (doClient) {
    const variantLines = CLIENT_VARIANTS.filter((v) => v.key !== 'defaults').map((v) => line(`client, ${v.label}, ns/op`, cv.get(v.key)!, cvBase.get(v.key)!));
    const ratios = (k: string): number[] => cv.get(k)!.map((v, i) => v / cvBase.get(k)![i]!);
    const costLines = CLIENT_COSTS.map((x) => {
      const a = ratios(x.from);
      const b = ratios(x.minus);
      return line(`cost of ${x.label}, × C`, a.map((v, i) => v - b[i]!), null, 'x');
    });
    const cLines = C_EXTRAS.map((x) => line(`${x.label}, ns/op`, c.extra.get(x.key)!, c.alloc));
    const jsLines = [
      line('diagnostic: koffi libc close(-1) (EBADF; compare C close(-1)), ns/op', js.koffiEbadf, c.alloc),
      line('diagnostic: FinalizationRegistry register + unregister, ns/op', js.frRegister, c.alloc),
      line('diagnostic: one stack capture (LeakGuard.capture, Error.captureStackTrace into an object), ns/op', js.captureStack, c.alloc),
      line('diagnostic: new Error() at the same depth, ns/op', js.newError, c.alloc),
    ];
    const r = mk(
      'client-alloc-4k', `client.allocate(heap, 4 KiB).close() with createClient() defaults (leak guard on, stacks 1 in ${DEFAULT_STACK_SAMPLING}, automatic name, heap node kept) against C's ALLOC + close`,
      clientAllocOps, cvBase.get('defaults')!, cv.get('defaults')!, 2, [...variantLines, ...costLines, ...cLines, ...jsLines],
      [
        'each client variant changes one default and runs between two runs of the C loop (ALLOC + close, same count), whose mean is its baseline',
        '"cost of" lines: per round, the difference of two variants\' ratios (in units of C\'s ALLOC + close); the C and diagnostic lines are against the round\'s main C run',
      ],
    );
    out.push({ ...r, measured: { ...r.measured, label: 'TypeScript, client API with its defaults, ns/op' } });
  }
  for (const s of sizes) {
    out.push(mk(
      `map-read-${sizeName(s.size)}`,
      `ALLOC ${sizeName(s.size).toUpperCase().replace('K', ' KiB').replace('M', ' MiB')} + mmap(PROT_READ) + read the whole mapping + munmap + close (C: memcpy into one buffer; TS: target.readMemInto one Uint8Array)`,
      s.ops, c.map.get(s.size)!, ts.map.get(s.size)!, 2,
      [
        line('target.readMem() (a fresh copy per op) and ioctl(), ns/op', ts.mapCopy.get(s.size)!, c.map.get(s.size)!),
        line(`client: allocate + map + Mapping.readInto(one array) + unmap + close, ns/op, ${s.clientOps} per round`, ts.clientMap.get(s.size)!, c.map.get(s.size)!),
        line('diagnostic: koffi libc calls directly, koffi.view copied into a preallocated Uint8Array, ns/op', ts.floorPre.get(s.size)!, c.map.get(s.size)!),
        line('diagnostic: C copying into a buffer malloc\'ed and freed per op, ns/op', c.fresh.get(s.size)!, c.map.get(s.size)!),
      ],
      [],
    ));
  }
  if (sink === 0.5) process.stderr.write('');
  return out;
}

// ---- report ------------------------------------------------------------------------------------------

function fmtLine(l: Line): string {
  const f = l.unit === 'ms' ? (x: number): string => `${x.toPrecision(3)} ms` : l.unit === 'x' ? fmtRatio : fmtNs;
  const ratio = l.ratio === null ? '' : `   ratio ${fmtSummary(l.ratio, fmtRatio)}`;
  return `${l.label}: ${fmtSummary(l.summary, f)}${ratio}`;
}

function report(results: Result[], meta: Record<string, unknown>): string {
  const out: string[] = [];
  out.push('dmaheap Linux-backend benchmarks (TypeScript vs the C program, same run)');
  for (const [k, v] of Object.entries(meta)) out.push(`  ${k}: ${String(v)}`);
  out.push('');
  for (const r of results) {
    out.push(`${r.name} [${r.where}]: ${r.title}`);
    out.push(`  rounds ${r.rounds}, ${r.ops} operation(s) per round`);
    if (r.baseline !== null) out.push(`  baseline  ${fmtLine(r.baseline)}`);
    out.push(`  measured  ${fmtLine(r.measured)}`);
    out.push(`  ratio (${r.ratioLabel}): ${fmtSummary(r.ratio, fmtRatio)}   target ${r.target.text}   ${r.pass ? 'PASS' : 'MISS'}`);
    for (const i of r.info) out.push(`  info      ${fmtLine(i)}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
    out.push('');
  }
  out.push('summary:');
  for (const r of results) out.push(`  ${r.pass ? 'PASS' : 'MISS'}  ${r.name.padEnd(16)} ${fmtRatio(r.ratio.median).padStart(9)}  (${fmtRatio(r.ratio.min)} – ${fmtRatio(r.ratio.max)})  target ${r.target.text}`);
  return `${out.join('\n')}\n`;
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const progress = new Progress(false);
  const results: Result[] = [];
  const notes: string[] = [];
  let crashed = false;
  const wantStartup = o.only === null || o.only.has('startup');
  try {
    if (o.startupOnly) {
      if (wantStartup) results.push(startupResult(measureStartup(o, progress)));
    } else {
      if (wantStartup) {
        if (o.hostStartup !== null && existsSync(o.hostStartup)) {
          const doc = JSON.parse(readFileSync(o.hostStartup, 'utf8')) as { results: Result[] };
          results.push(...doc.results.filter((r) => r.name === 'startup'));
        } else {
          results.push(startupResult(measureStartup(o, progress)));
        }
      }
      const avail = linuxBackend.isAvailable();
      if (!avail.ok) notes.push(`kernel benchmarks skipped: ${avail.reason}`);
      else if (!existsSync(o.cBin)) notes.push(`kernel benchmarks skipped: no C program at ${o.cBin} (gcc -static -O2 -o ${o.cBin} bench/linux-c/dmaheap-bench.c)`);
      else results.push(...kernelBenches(o, progress));
    }
  } catch (e) {
    crashed = true;
    process.stderr.write(`bench/linux: ${(e as Error).stack ?? String(e)}\n`);
  }
  const meta = {
    kernel: `${os.release()} ${os.arch()}`,
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    rounds: o.rounds,
    quick: o.quick,
    heap: o.heap,
    clock: o.clock === 'icount' ? 'icount: guest time = instructions executed, 1 ns each (QEMU -icount shift=0,sleep=off)' : 'wall (QEMU TCG)',
  };
  if (o.json) process.stdout.write(`${JSON.stringify({ meta, notes, results }, null, 2)}\n`);
  else {
    process.stdout.write(report(results, meta));
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
  }
  process.exitCode = crashed ? 1 : 0;
}

main();
