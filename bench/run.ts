/**
 * dmaheap benchmarks. Each benchmark measures the emulator against a baseline measured in the
 * same run (or against a fixed rate target where the issue sets one), over several rounds, and
 * reports the median and range (min–max) of the per-round ratios together with PASS/MISS against
 * its target. This is a measurement, not a gate: the process exits 0 whatever the results, and
 * non-zero only when a benchmark crashed (or for a usage error).
 *
 * Usage: node --expose-gc dist/bench/run.js [--quick] [--json] [--only name[,name...]] [--list]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kernel } from '../src/kernel/kernel.js';
import { CmaArea } from '../src/kernel/mm/cma.js';
import { loadBoardBytes, loadBoardText } from '../src/kernel/of/board.js';
import { banksAndRegions, dynamicRegions, hugeRam } from './boards.js';
import { HeapUser } from './emu.js';
import { hostSyscallArch } from '../src/backends/run/syscalls.js';
import { watchedNumbers } from '../src/backends/run/filter.js';
import { simulate } from '../src/apps/sim/engine.js';
import { parseWorkload } from '../src/apps/sim/workload.js';
import { createEmulatedTarget, DmaHeapClient, EmulatedTarget } from '../src/backends/emulated/index.js';
import { emulatedSource } from '../src/apps/dashboard/sources.js';
import { Stepper } from '../src/apps/dashboard/server.js';
import {
  fmtBytes, fmtNs, fmtRate, fmtRatio, fmtSummary, fullGc, gcWasExposed, mulberry32, nowNs, Progress, settle, summarize,
} from './stats.js';
import type { Summary } from './stats.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

type Unit = 'ns' | 'ops/s' | 'bytes' | 'count';

/** One measured quantity: a value per round, summarised. */
interface Quantity {
  readonly label: string;
  readonly unit: Unit;
  readonly perRound: number[];
  readonly summary: Summary;
}

interface Target {
  /** `<=`: the ratio must not exceed `value`; `>=`: it must reach it. */
  readonly op: '<=' | '>=';
  readonly value: number;
  readonly text: string;
}

interface InfoLine {
  readonly quantity: Quantity;
  /** Per-round ratio to the benchmark's baseline, when that makes sense. */
  readonly ratio: Summary | null;
}

interface BenchResult {
  readonly name: string;
  readonly title: string;
  readonly rounds: number;
  readonly baseline: Quantity | null;
  readonly measured: Quantity;
  /** What the ratio is (e.g. "measured / baseline"). */
  readonly ratioLabel: string;
  readonly ratio: Summary;
  readonly ratioPerRound: number[];
  readonly target: Target;
  /** Decided on the median ratio. */
  readonly pass: boolean;
  readonly info: InfoLine[];
  readonly notes: string[];
}

interface Ctx {
  readonly rounds: number;
  readonly quick: boolean;
  readonly progress: Progress;
}

/** A benchmark that could not run on this machine (a tool or a kernel feature is missing). */
interface Skipped {
  readonly name: string;
  readonly title: string;
  readonly skipped: string;
}

interface Bench {
  readonly name: string;
  readonly title: string;
  run(ctx: Ctx): BenchResult | Skipped;
}

function isSkipped(r: BenchResult | Skipped): r is Skipped {
  return 'skipped' in r;
}

function quantity(label: string, unit: Unit, perRound: number[]): Quantity {
  return { label, unit, perRound, summary: summarize(perRound) };
}

function ratios(num: readonly number[], den: readonly number[]): number[] {
  return num.map((n, i) => n / den[i]!);
}

function result(
  b: { name: string; title: string },
  rounds: number,
  baseline: Quantity | null,
  measured: Quantity,
  ratioLabel: string,
  ratioPerRound: number[],
  target: Target,
  info: InfoLine[] = [],
  notes: string[] = [],
): BenchResult {
  const ratio = summarize(ratioPerRound);
  const pass = target.op === '<=' ? ratio.median <= target.value : ratio.median >= target.value;
  return { name: b.name, title: b.title, rounds, baseline, measured, ratioLabel, ratio, ratioPerRound, target, pass, info, notes };
}

/** Keeps allocated arrays reachable so that the baseline loops cannot be optimised away. */
const sink: (Uint8Array | null)[] = new Array<Uint8Array | null>(16).fill(null);

// ---- 1. recycled 64 MiB ---------------------------------------------------------------------

/** An untimed 4 KiB alloc + close (the buddy free lists end as they were), then `len` again. */
function warmSmall(u: HeapUser, len: number): void {
  u.setLen(4096);
  u.close(u.alloc());
  u.setLen(len);
}

const recycled: Bench = {
  name: 'recycled-64m',
  title: 'allocate + zero a recycled (dirty, freed) 64 MiB system-heap buffer vs Uint8Array.fill(0)',
  run(ctx) {
    const SIZE = 64 * MiB;
    const u = new HeapUser({ ramBytes: 512 * MiB });
    u.setLen(SIZE);
    const arr = new Uint8Array(SIZE);
    arr.fill(1);
    const base: number[] = [];
    const alloc: number[] = [];
    const touched: number[] = [];
    const warm = 2;
    for (let r = -warm; r < ctx.rounds; r++) {
      if (r >= 0) ctx.progress.line(`${this.name}: round ${r + 1}/${ctx.rounds}`);
      // a previous 64 MiB buffer is written all over, unmapped and freed
      const d = u.alloc();
      const da = u.map(d, SIZE);
      u.fill(da, SIZE, 0xa5);
      u.unmap(da, SIZE);
      u.close(d);
      // Collect the dropped bytes now rather than inside the timed part. The first kernel call
      // after a full GC runs several times slower (V8 drops caches a GC invalidates): an untimed
      // 4 KiB alloc + close pays for that; dirtying the baseline array wakes the CPU up again.
      settle();
      warmSmall(u, SIZE);
      arr.fill(0xa5);
      const t0 = nowNs();
      arr.fill(0);
      const t1 = nowNs();
      const fd = u.alloc();
      const t2 = nowNs();
      const m = u.map(fd, SIZE);
      u.touchPages(m, SIZE);
      const t3 = nowNs();
      // the recycled buffer must read as zero (byte 0 of each page was just written)
      const check = u.proc.load(m + 1, 4095);
      if (typeof check === 'string' || check.some((x) => x !== 0)) throw new Error('recycled buffer is not zero');
      u.unmap(m, SIZE);
      u.close(fd);
      if (r < 0) continue;
      base.push(t1 - t0);
      alloc.push(t2 - t1);
      touched.push(t3 - t1);
    }
    const b = quantity('Uint8Array(64 MiB).fill(0) on an existing, dirty array', 'ns', base);
    const m = quantity('DMA_HEAP_IOCTL_ALLOC 64 MiB right after a written 64 MiB buffer was freed (until the fd is returned)', 'ns', alloc);
    const t = quantity('informational: the same alloc + mmap + first write to each of its 16,384 pages', 'ns', touched);
    return result(this, ctx.rounds, b, m, 'alloc / fill(0)', ratios(alloc, base), { op: '<=', value: 1.25, text: '≤ 1.25×' },
      [{ quantity: t, ratio: summarize(ratios(touched, base)) }],
      ['Pages are backed lazily (src/kernel/mm/backing.ts): a freed run drops its bytes and a new run reads as zero until written, so zeroing costs nothing at allocation time; the first write to a page allocates its run\'s bytes (already zero).']);
  },
};

// ---- 2. fresh 64 MiB ------------------------------------------------------------------------

function newArrayBuffers(keep: ArrayBuffer[], n: number, size: number): void {
  for (let i = 0; i < n; i++) keep.push(new ArrayBuffer(size));
}

const fresh: Bench = {
  name: 'fresh-64m',
  title: 'fresh (never written) 64 MiB system-heap allocation vs new ArrayBuffer(64 MiB)',
  run(ctx) {
    const SIZE = 64 * MiB;
    const BATCH = 8;
    const u = new HeapUser({ ramBytes: 2 * GiB });
    u.setLen(SIZE);
    const fds = new Int32Array(BATCH);
    const keep: ArrayBuffer[] = [];
    const base: number[] = [];
    const meas: number[] = [];
    const warm = 2;
    for (let r = -warm; r < ctx.rounds; r++) {
      if (r >= 0) ctx.progress.line(`${this.name}: round ${r + 1}/${ctx.rounds}`);
      let tb = 0;
      let tm = 0;
      for (const which of r % 2 === 0 ? [0, 1] : [1, 0]) {
        // the other half's garbage (512 MiB of ArrayBuffers) is collected before each half
        settle();
        if (which === 0) {
          newArrayBuffers(keep, 1, SIZE); // untimed warm-up of the same operation
          keep.length = 0;
          const t0 = nowNs();
          newArrayBuffers(keep, BATCH, SIZE);
          tb = (nowNs() - t0) / BATCH;
          keep.length = 0;
        } else {
          u.close(u.alloc()); // untimed warm-up of the same operation
          const t0 = nowNs();
          for (let i = 0; i < BATCH; i++) fds[i] = u.alloc();
          tm = (nowNs() - t0) / BATCH;
          for (let i = 0; i < BATCH; i++) u.close(fds[i]!);
        }
      }
      if (r < 0) continue;
      base.push(tb);
      meas.push(tm);
    }
    if (u.kernel.backing.backedBytes !== 0) throw new Error('a fresh buffer was backed by memory');
    const b = quantity(`new ArrayBuffer(64 MiB), per allocation (batches of ${BATCH})`, 'ns', base);
    const m = quantity(`DMA_HEAP_IOCTL_ALLOC 64 MiB of never-written memory, per allocation (batches of ${BATCH})`, 'ns', meas);
    return result(this, ctx.rounds, b, m, 'alloc / new ArrayBuffer', ratios(meas, base), { op: '<=', value: 1.25, text: '≤ 1.25×' });
  },
};

// ---- 3. ioctl 4 KiB alloc + close -----------------------------------------------------------

function newArrays(n: number): void {
  for (let i = 0; i < n; i++) sink[i & 15] = new Uint8Array(4096);
}

function allocClose(u: HeapUser, n: number): void {
  for (let i = 0; i < n; i++) u.close(u.alloc());
}

/** Times `fns` once each per round, in an order that alternates between rounds; ns per op. */
function interleaved(ctx: Ctx, name: string, warm: number, ops: number, fns: readonly ((n: number) => void)[]): number[][] {
  const out: number[][] = fns.map(() => []);
  for (let r = -warm; r < ctx.rounds; r++) {
    if (r >= 0) ctx.progress.line(`${name}: round ${r + 1}/${ctx.rounds}`);
    fullGc();
    const order = fns.map((_, i) => i);
    if (r % 2 !== 0) order.reverse();
    for (const i of order) {
      const t0 = nowNs();
      fns[i]!(ops);
      const dt = (nowNs() - t0) / ops;
      if (r >= 0) out[i]!.push(dt);
    }
  }
  return out;
}

const ioctl4k: Bench = {
  name: 'ioctl-4k',
  title: 'full ioctl path: DMA_HEAP_IOCTL_ALLOC 4 KiB + close vs new Uint8Array(4096)',
  run(ctx) {
    const N = ctx.quick ? 50_000 : 100_000;
    const u = new HeapUser();
    u.setLen(4096);
    // one buffer held open: its buddy page is free at order 0, so the loop neither splits nor merges
    const u1 = new HeapUser();
    u1.setLen(4096);
    u1.alloc();
    const [base, meas, one] = interleaved(ctx, this.name, ctx.quick ? 2 : 3, N, [
      (n) => newArrays(n),
      (n) => allocClose(u, n),
      (n) => allocClose(u1, n),
    ]) as [number[], number[], number[]];
    const b = quantity(`new Uint8Array(4096), per op (${N.toLocaleString('en-US')} per round)`, 'ns', base);
    const m = quantity('data.fd = 0 store + ioctl(DMA_HEAP_IOCTL_ALLOC, 4 KiB) + fd load + close(fd), per op; freshly booted kernel', 'ns', meas);
    const o = quantity('informational: the same with one other 4 KiB buffer live (no buddy split/merge per op)', 'ns', one);
    return result(this, ctx.rounds, b, m, 'alloc+close / new Uint8Array', ratios(meas, base), { op: '<=', value: 3, text: '≤ 3×' },
      [{ quantity: o, ratio: summarize(ratios(one, base)) }],
      ['On a freshly booted kernel every 4 KiB allocation splits a 4 MiB (order-10) block down to order 0 and every free merges it back: about 20 Set operations in src/kernel/mm/buddy.ts.']);
  },
};

// ---- 4. alloc/free with 100,000 live buffers ------------------------------------------------

function fillLive(u: HeapUser, n: number, ctx: Ctx, what: string): void {
  for (let i = 0; i < n; i++) {
    u.alloc();
    if (i > 0 && i % 25_000 === 0) ctx.progress.line(`${what}: ${i.toLocaleString('en-US')} live buffers`);
  }
}

/** The order alloc(0) takes its page from: how many orders a 4 KiB alloc splits (and its free merges). */
function splitDepth(u: HeapUser): number {
  const b = u.kernel.buddy;
  for (let o = 0; o <= b.maxOrder; o++) if (b.freeBlocks(o) > 0) return o;
  return -1;
}

/** Allocates 1,024 buffers, then closes them (newest first); `n` is rounded to whole batches. */
function churn(u: HeapUser, fds: Int32Array, n: number): void {
  for (let done = 0; done < n; done += fds.length) {
    for (let i = 0; i < fds.length; i++) fds[i] = u.alloc();
    for (let i = fds.length - 1; i >= 0; i--) u.close(fds[i]!);
  }
}

const live: Bench = {
  name: 'live-100k',
  title: 'alloc + close of 4 KiB with 100,000 live buffers vs with 100 live',
  run(ctx) {
    const N = ctx.quick ? 8_192 : 20_480;
    const LIVE_SMALL = 100;
    const LIVE_BIG = 100_000;
    const small = new HeapUser({ nofile: 200_000 });
    const raw = new HeapUser({ nofile: 200_000 });
    const big = new HeapUser({ nofile: 200_000 });
    ctx.progress.line(`${this.name}: creating ${LIVE_SMALL} and ${LIVE_BIG.toLocaleString('en-US')} live 4 KiB buffers`);
    fillLive(small, LIVE_SMALL, ctx, this.name);
    fillLive(raw, LIVE_SMALL, ctx, this.name);
    fillLive(big, LIVE_BIG, ctx, this.name);
    // Without the per-CPU list, the cost of a pair would be set by how many buddy orders it splits
    // and merges (the live page count modulo 1024). The informational line equalises that depth:
    // the 100-live kernel holds a few pages straight from its page allocator.
    const depthBig = splitDepth(big);
    const depthRaw = splitDepth(raw);
    let pad = 0;
    while (splitDepth(small) !== depthBig) {
      if (small.kernel.buddy.alloc(0) < 0 || ++pad > 4096) throw new Error('could not equalise the buddy split depth');
    }
    const fa = new Int32Array(1024);
    const fb = new Int32Array(1024);
    const [s, bg, rs, cs, cb] = interleaved(ctx, this.name, 2, N, [
      (n) => allocClose(small, n),
      (n) => allocClose(big, n),
      (n) => allocClose(raw, n),
      (n) => churn(small, fa, n),
      (n) => churn(big, fb, n),
    ]) as [number[], number[], number[], number[], number[]];
    // Headline: the comparison as the issue states it (100 live, nothing else held). The
    // equalised split depth is informational: with the per-CPU page list (mm/page_alloc.c
    // free_unref_page) a freed page is reused without a split or merge, so depth matters little.
    const b = quantity(`alloc + close 4 KiB with ${LIVE_SMALL} live buffers, per pair`, 'ns', rs);
    const m = quantity(`alloc + close 4 KiB with ${LIVE_BIG.toLocaleString('en-US')} live buffers, per pair`, 'ns', bg);
    const i1 = quantity(`informational: pairs with ${LIVE_SMALL} live and ${pad} pages held (buddy split depth ${depthBig}, as the 100k kernel; unheld: ${depthRaw}); ratio = 100k / this`, 'ns', s);
    const i2 = quantity(`informational: churn with ${LIVE_BIG.toLocaleString('en-US')} live: alloc 1,024 then close them, per alloc+close; ratio = 100k / 100 live`, 'ns', cb);
    return result(this, ctx.rounds, b, m, '100k live / 100 live', ratios(bg, rs), { op: '<=', value: 1.5, text: '≤ 1.5×' },
      [{ quantity: i1, ratio: summarize(ratios(bg, s)) }, { quantity: i2, ratio: summarize(ratios(cb, cs)) }],
      [`${N.toLocaleString('en-US')} pairs per kernel per round. Split depth = the buddy order a 4 KiB allocation is taken from (orders split by the alloc and merged by the free).`]);
  },
};

// ---- 5. CMA first-fit search ----------------------------------------------------------------

const CMA_PAGES = 1 << 20;
const CMA_TARGET = 1_000_000;

/** An area of 1 Mi pages, all allocated, then the pages for which `freeIt` is true released. */
function fragmentedArea(freeIt: (page: number) => boolean): { area: CmaArea; free: number } {
  const area = new CmaArea('bench', 0, CMA_PAGES);
  if (area.alloc(CMA_PAGES, 0) !== 0) throw new Error('could not fill the CMA area');
  let free = 0;
  for (let i = 0; i < CMA_PAGES; i++) {
    if (freeIt(i)) {
      area.release(i, 1);
      free++;
    }
  }
  return { area, free };
}

/** `n` searches: alloc(sizes[i % len], aligns[i % len]) then release, so the bitmap never changes. */
function searches(area: CmaArea, sizes: readonly number[], aligns: readonly number[], n: number, mustFit: boolean): number {
  const t0 = nowNs();
  const len = sizes.length;
  let misses = 0;
  for (let i = 0; i < n; i++) {
    const k = i % len;
    const count = sizes[k]!;
    const pfn = area.alloc(count, aligns[k]!);
    if (pfn >= 0) area.release(pfn, count);
    else misses++;
  }
  const dt = nowNs() - t0;
  if (mustFit ? misses > 0 : misses !== n) throw new Error(`unexpected CMA search outcome: ${misses} misses of ${n}`);
  return n / (dt / 1e9);
}

const cma: Bench = {
  name: 'cma-search',
  title: 'CMA first-fit on a 1 Mi-page area at 50% fragmentation (searches/s)',
  run(ctx) {
    ctx.progress.line(`${this.name}: building 1 Mi-page areas (random 50% free, every other page free)`);
    const rnd = mulberry32(0x5eed);
    const random = fragmentedArea(() => rnd() < 0.5);
    const alternate = fragmentedArea((i) => i % 2 === 1);
    const N = ctx.quick ? 100_000 : 300_000;
    const NMISS = ctx.quick ? 100 : 200;
    const head: number[] = [];
    const aligned: number[] = [];
    const alt: number[] = [];
    const miss: number[] = [];
    const sizes = [1, 2, 4, 8];
    const zero = [0, 0, 0, 0];
    // the CMA heap's alignment: min(get_order(size), CONFIG_CMA_ALIGNMENT)
    const hsizes = [1, 2, 3, 4, 5, 6, 7, 8];
    const haligns = [0, 1, 2, 2, 3, 3, 3, 3];
    const warm = 2;
    for (let r = -warm; r < ctx.rounds; r++) {
      if (r >= 0) ctx.progress.line(`${this.name}: round ${r + 1}/${ctx.rounds}`);
      const a = searches(random.area, sizes, zero, N, true);
      const b = searches(random.area, hsizes, haligns, N, true);
      const c = searches(alternate.area, [1], [0], N, true);
      const d = searches(alternate.area, [2], [0], NMISS, false);
      if (r < 0) continue;
      head.push(a);
      aligned.push(b);
      alt.push(c);
      miss.push(d);
    }
    const pct = ((100 * random.free) / CMA_PAGES).toFixed(2);
    const m = quantity(`alloc(n, 0) + release, n = 1, 2, 4, 8 pages; random ${pct}% free (seeded)`, 'ops/s', head);
    const toTarget = (xs: number[]) => summarize(xs.map((x) => x / CMA_TARGET));
    return result(this, ctx.rounds, null, m, 'searches/s / 1,000,000', head.map((x) => x / CMA_TARGET), { op: '>=', value: 1, text: '≥ 1,000,000/s (≥ 1×)' },
      [
        { quantity: quantity('informational: CMA-heap alignment, n = 1..8 pages, align = min(get_order(n), 8); same area', 'ops/s', aligned), ratio: toTarget(aligned) },
        { quantity: quantity('informational: alloc(1, 0) + release; every other page free', 'ops/s', alt), ratio: toTarget(alt) },
        { quantity: quantity('informational: worst case, no fit: alloc(2, 0) with every other page free (full 1 Mi-page scan)', 'ops/s', miss), ratio: toTarget(miss) },
      ],
      ['Ratios here are searches/s divided by the 1,000,000/s target (higher is better).']);
  },
};

// ---- 6. JS heap per live buffer -------------------------------------------------------------

const heapPerBuffer: Bench = {
  name: 'heap-per-buffer',
  title: 'JS heap per live 4 KiB buffer (100,000 live)',
  run(ctx) {
    const LIVE = 100_000;
    const rounds = ctx.quick ? 2 : 5;
    const per: number[] = [];
    const ext: number[] = [];
    for (let r = -1; r < rounds; r++) {
      if (r >= 0) ctx.progress.line(`${this.name}: round ${r + 1}/${rounds}`);
      let u: HeapUser | null = new HeapUser({ nofile: 200_000 });
      fullGc();
      fullGc();
      const before = process.memoryUsage();
      for (let i = 0; i < LIVE; i++) u.alloc();
      fullGc();
      fullGc();
      const after = process.memoryUsage();
      if (u.proc.openFdCount() !== LIVE + 1) throw new Error('live buffer count is wrong');
      u = null;
      if (r < 0) continue;
      per.push((after.heapUsed - before.heapUsed) / LIVE);
      ext.push((after.external - before.external) / LIVE);
    }
    const m = quantity(`process.memoryUsage().heapUsed growth / ${LIVE.toLocaleString('en-US')} live buffers (after global.gc())`, 'bytes', per);
    return result(this, rounds, null, m, 'bytes per buffer / 1024', per.map((x) => x / 1024), { op: '<=', value: 1, text: '≤ 1 KiB (≤ 1×)' },
      [{ quantity: quantity('informational: external (ArrayBuffer) memory growth per buffer', 'bytes', ext), ratio: null }],
      gcWasExposed() ? [] : ['node was started without --expose-gc: the gc function was enabled at run time.']);
  },
};

// ---- 7. boot at scale ------------------------------------------------------------------------

const BOOT_TARGET_NS = 1e9;

/** Reads a DTB and boots it (what --board file.dtb costs after the file is read). */
function bootDtb(dtb: Uint8Array, arch: 'arm64' | 'x86_64'): Kernel {
  const r = loadBoardBytes(dtb);
  if ('error' in r) throw new Error(r.error);
  return new Kernel({ board: r.tree, arch, profile: '7.0' });
}

const bootScale: Bench = {
  name: 'boot-scale',
  title: 'read and boot a DTB with 16,000 memory banks and 3,000 reserved regions (arm64) vs a 1 s target',
  run(ctx) {
    ctx.progress.line(`${this.name}: building the device trees`);
    const TiB = 2 ** 40;
    const scale = banksAndRegions();
    const dyn = dynamicRegions();
    const t256 = hugeRam(256 * TiB);
    const p4 = hugeRam(4 * 1024 * TiB);
    const imx = readFileSync(new URL('../../examples/boards/imx8mp.dts', import.meta.url), 'latin1');
    const time = (f: () => unknown): number => {
      settle();
      const t0 = nowNs();
      f();
      return nowNs() - t0;
    };
    const rounds = ctx.quick ? 3 : ctx.rounds;
    const q: Record<'scale' | 'imx' | 'dyn' | 't256' | 'p4', number[]> = { scale: [], imx: [], dyn: [], t256: [], p4: [] };
    for (let r = -1; r < rounds; r++) {
      if (r >= 0) ctx.progress.line(`${this.name}: round ${r + 1}/${rounds}`);
      const scaleNs = time(() => bootDtb(scale, 'arm64'));
      const imxNs = time(() => {
        const b = loadBoardText(imx, { file: 'imx8mp.dts' });
        if ('error' in b) throw new Error(b.error);
        return new Kernel({ board: b.tree, arch: 'arm64', profile: '7.0' });
      });
      const dynNs = time(() => bootDtb(dyn, 'arm64'));
      const t256Ns = time(() => bootDtb(t256, 'arm64'));
      const p4Ns = time(() => bootDtb(p4, 'x86_64'));
      if (r < 0) continue;
      q.scale.push(scaleNs);
      q.imx.push(imxNs);
      q.dyn.push(dynNs);
      q.t256.push(t256Ns);
      q.p4.push(p4Ns);
    }
    const toTarget = (xs: number[]) => summarize(xs.map((x) => x / BOOT_TARGET_NS));
    const m = quantity('16,000 banks of 2 MiB, 3,000 static regions of 1 MiB: loadBoardBytes + new Kernel', 'ns', q.scale);
    return result(this, rounds, quantity('the imx8mp board from its DTS: loadBoardText + new Kernel', 'ns', q.imx), m, 'time / 1 s', q.scale.map((x) => x / BOOT_TARGET_NS),
      { op: '<=', value: 1, text: '≤ 1 s (≤ 1×)' },
      [
        { quantity: quantity('informational: 64 GiB with 3,000 regions the kernel places (dynamic, 2 MiB each)', 'ns', q.dyn), ratio: toTarget(q.dyn) },
        { quantity: quantity('informational: 256 TiB of RAM, arm64 (128 TiB kept: the linear map)', 'ns', q.t256), ratio: toTarget(q.t256) },
        { quantity: quantity('informational: 4 PiB of RAM, x86-64 (64 TiB kept: MAX_PHYSMEM_BITS 46)', 'ns', q.p4), ratio: toTarget(q.p4) },
      ],
      ['Ratios are times divided by the 1 s target (lower is better). Before issue 10 the 16,000-bank board took ~21 s, 3,000 dynamic regions ~30 s, and 256 TiB did not boot (Set maximum size exceeded).']);
  },
};

// ---- 8. dmaheap run ---------------------------------------------------------------------------

/** The CLI (dist/src/apps/cli/main.js) and the project's node_modules (a tree for find and tar). */
const CLI = fileURLToPath(new URL('../src/apps/cli/main.js', import.meta.url));
const ALLOC_SEQ_C = fileURLToPath(new URL('../../bench/native/alloc-seq.c', import.meta.url));
const NOTIF_FLOOR_C = fileURLToPath(new URL('../../bench/native/notif-floor.c', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

interface Spawned {
  /** Wall time of the whole child, from spawn to exit, as the bench process sees it. */
  readonly ns: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `dmaheap run --stats --json` counts: `continued` includes the mirrored calls (both run on the host). */
interface RunCalls {
  readonly served: number;
  readonly mirrored: number;
  readonly continued: number;
  /** Answered by the notification helper (in served or continued too). */
  readonly helper: number;
}

let devNull = -1;

/** Runs a command to completion (stdout to /dev/null unless `capture`); throws unless it exits 0. */
function spawnTimed(cmd: string, args: readonly string[], capture = true, okStatus: readonly number[] = [0]): Spawned {
  if (devNull < 0) devNull = openSync('/dev/null', 'w');
  const t0 = nowNs();
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 16 * MiB, timeout: 600_000, stdio: ['ignore', capture ? 'pipe' : devNull, 'pipe'] });
  const ns = nowNs() - t0;
  if (r.error !== undefined) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status === null || !okStatus.includes(r.status)) throw new Error(`${[cmd, ...args].join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.trim().slice(-2000)}`);
  return { ns, stdout: r.stdout ?? '', stderr: r.stderr };
}

/** `dmaheap run --stats --json [own...] -- argv`, with the call counts it reports. */
function underRun(argv: readonly string[], capture = true, own: readonly string[] = []): Spawned & { calls: RunCalls } {
  const s = spawnTimed(process.execPath, [CLI, 'run', '--stats', '--json', ...own, '--', ...argv], capture);
  const line = s.stderr.split('\n').reverse().find((l) => l.startsWith('{"status"'));
  if (line === undefined) throw new Error(`dmaheap run printed no --stats line: ${s.stderr.trim().slice(-2000)}`);
  const calls = (JSON.parse(line) as { calls: RunCalls }).calls;
  return { ...s, calls };
}

let runUsable: string | null | undefined;

/** Why `dmaheap run` cannot run programs here (null when it can); asked once. */
function runUnavailable(): string | null {
  if (runUsable !== undefined) return runUsable;
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
    runUsable = `dmaheap run needs x86-64 or arm64 Linux (this is ${process.platform} ${process.arch})`;
    return runUsable;
  }
  const r = spawnSync(process.execPath, [CLI, 'run', '--', 'true'], { encoding: 'latin1', timeout: 60_000 });
  runUsable = r.status === 0 ? null : `\`dmaheap run -- true\` failed (${r.error?.message ?? (r.stderr.trim() || `status ${r.status ?? r.signal}`)})`;
  return runUsable;
}

/** Why gcc cannot build the benchmarks' C programs (null when it can). */
function gccMissing(): string | null {
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'latin1' });
  return gcc.error !== undefined || gcc.status !== 0 ? 'gcc is missing (the benchmark compiles its C programs in bench/native); install gcc to run it' : null;
}

/**
 * argv run `n` times in one bash, each timed from inside with bash's $EPOCHREALTIME (µs), stdout
 * to /dev/null: without dmaheap run's start, whose noise (tens of ms) is larger than a fast run.
 * Each time includes bash's fork and exec of the program (its dynamic loader's calls too).
 */
function loopArgv(n: number, argv: readonly string[]): string[] {
  return ['bash', '-c', 'n=$1; shift; for ((i = 0; i < n; i++)); do s=$EPOCHREALTIME; "$@" >/dev/null; e=$EPOCHREALTIME; echo "dmaheap-bench-time $s $e" >&2; done', 'bash', String(n), ...argv];
}

/** The times loopArgv printed, in ns. */
function loopNs(stderr: string): number[] {
  const us = (t: string): bigint => BigInt(t.replace(/[.,]/, ''));
  const out = [...stderr.matchAll(/^dmaheap-bench-time (\d+[.,]\d{6}) (\d+[.,]\d{6})$/gm)].map((m) => Number(us(m[2]!) - us(m[1]!)) * 1000);
  if (out.length === 0) throw new Error(`bash printed no times (it needs $EPOCHREALTIME, bash 5): ${stderr.slice(-500)}`);
  return out;
}

/** Compiles bench/native/<name>.c into `dir`; the executable's path. */
function compile(dir: string, source: string): string {
  const exe = path.join(dir, path.basename(source, '.c'));
  spawnTimed('gcc', ['-O2', '-o', exe, source]);
  return exe;
}

/**
 * `notif-floor <nrs> argv`: the program under a C supervisor that CONTINUEs every call of dmaheap
 * run's list (bench/native/notif-floor.c), the floor of any seccomp-notification design.
 */
function floorArgv(argv: readonly string[]): string[] {
  const arch = hostSyscallArch();
  if (arch === null) throw new Error('no syscall table for this architecture');
  return [watchedNumbers(arch).join(','), ...argv];
}

function skip(b: { name: string; title: string }, why: string): Skipped {
  return { name: b.name, title: b.title, skipped: why };
}

/** `alloc-seq` output: `<mode> <iterations> <ns per iteration>`. */
function nsPerIteration(out: string): number {
  const m = /^(?:heap|memfd) \d+ ([0-9.]+)$/m.exec(out);
  if (m === null) throw new Error(`alloc-seq printed no result: ${out.slice(0, 200)}`);
  return Number(m[1]);
}

/** alloc-seq runs max(10, n/10) untimed iterations before the timed ones. */
const allocSeqRuns = (n: number): number => n + Math.max(10, Math.floor(n / 10));

const runAlloc: Bench = {
  name: 'run-alloc',
  title: 'dmaheap run: 4 KiB DMA_HEAP_IOCTL_ALLOC + mmap + write + munmap + close vs the same on a host memfd, natively',
  run(ctx) {
    const why = runUnavailable();
    if (why !== null) return skip(this, why);
    const noGcc = gccMissing();
    if (noGcc !== null) return skip(this, noGcc);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dmaheap-bench-'));
    try {
      const exe = compile(dir, ALLOC_SEQ_C);
      const floor = compile(dir, NOTIF_FLOOR_C);
      const off = ['--preload', 'off'];
      const NATIVE = ctx.quick ? 5_000 : 20_000;
      // the measured line runs as many iterations as the baseline: its steady state (the
      // supervisor's handlers optimised by V8) is what a program that keeps allocating sees; the
      // informational lines under the supervisor run fewer, to bound the round's time
      const RUN = ctx.quick ? 500 : 2_000;
      const base: number[] = [];
      const heap: number[] = [];
      const memfd: number[] = [];
      const floorMemfd: number[] = [];
      const heapOff: number[] = [];
      const memfdOff: number[] = [];
      const perCallHeap: number[] = [];
      const perCallMemfd: number[] = [];
      let heapCalls: RunCalls | null = null;
      let memfdCalls: RunCalls | null = null;
      for (let r = -1; r < ctx.rounds; r++) {
        if (r >= 0) ctx.progress.line(`${this.name}: round ${r + 1}/${ctx.rounds}`);
        const steps = [
          () => nsPerIteration(spawnTimed(exe, ['memfd', String(NATIVE)]).stdout),
          () => {
            const s = underRun([exe, 'heap', String(NATIVE)]);
            heapCalls = s.calls;
            return nsPerIteration(s.stdout);
          },
          () => {
            const s = underRun([exe, 'memfd', String(RUN)]);
            memfdCalls = s.calls;
            return nsPerIteration(s.stdout);
          },
          () => nsPerIteration(spawnTimed(floor, floorArgv([exe, 'memfd', String(RUN)])).stdout),
          () => nsPerIteration(underRun([exe, 'heap', String(RUN)], true, off).stdout),
          () => nsPerIteration(underRun([exe, 'memfd', String(RUN)], true, off).stdout),
        ];
        const got = [0, 0, 0, 0, 0, 0];
        const order = r % 2 === 0 ? [0, 1, 2, 3, 4, 5] : [5, 4, 3, 2, 1, 0];
        for (const i of order) got[i] = steps[i]!();
        if (r < 0) continue;
        const [b, h, m, f, hp, mp] = got as [number, number, number, number, number, number];
        heapOff.push(hp);
        memfdOff.push(mp);
        base.push(b);
        heap.push(h);
        memfd.push(m);
        floorMemfd.push(f);
        const hc = heapCalls as RunCalls | null;
        const mc = memfdCalls as RunCalls | null;
        // intercepted calls per iteration (the program's start adds a few dozen over the whole run)
        const hPer = hc === null ? NaN : (hc.served + hc.continued) / allocSeqRuns(NATIVE);
        const mPer = mc === null ? NaN : (mc.served + mc.continued) / allocSeqRuns(RUN);
        perCallHeap.push(h / hPer);
        perCallMemfd.push((m - b) / mPer);
      }
      const hc = heapCalls as RunCalls | null;
      const mc = memfdCalls as RunCalls | null;
      const per = (c: RunCalls | null, n = RUN): string => (c === null ? '?' : ((c.served + c.continued) / allocSeqRuns(n)).toFixed(2));
      const b = quantity(`memfd_create + ftruncate + mmap + memset 4 KiB + munmap + close, natively, per iteration (${NATIVE.toLocaleString('en-US')} per round)`, 'ns', base);
      const m = quantity(`ALLOC 4 KiB + mmap + memset 4 KiB + munmap + close under dmaheap run, per iteration (${NATIVE.toLocaleString('en-US')} per round, as the baseline: the supervisor's steady state)`, 'ns', heap);
      return result(this, ctx.rounds, b, m, 'dmaheap run / host memfd', ratios(heap, base), { op: '<=', value: 5, text: '≤ 5×' },
        [
          { quantity: quantity('informational: the memfd sequence under dmaheap run (nothing emulated: ftruncate, mmap and munmap are stopped and CONTINUEd; the fast path runs close natively)', 'ns', memfd), ratio: summarize(ratios(memfd, base)) },
          { quantity: quantity('informational: the memfd sequence under notif-floor, a C supervisor that CONTINUEs every call (the floor of seccomp notification here)', 'ns', floorMemfd), ratio: summarize(ratios(floorMemfd, base)) },
          { quantity: quantity('informational: the heap sequence under dmaheap run --preload off (every call through the supervisor); ratio to the host memfd natively', 'ns', heapOff), ratio: summarize(ratios(heapOff, base)) },
          { quantity: quantity('informational: the memfd sequence under dmaheap run --preload off (close stopped too)', 'ns', memfdOff), ratio: summarize(ratios(memfdOff, base)) },
          { quantity: quantity(`informational: heap sequence under dmaheap run / intercepted calls per iteration (${per(hc, NATIVE)}: the ioctl served; mmap, munmap and close natively, replayed from the shim's log)`, 'ns', perCallHeap), ratio: null },
          { quantity: quantity(`informational: (memfd under dmaheap run − memfd natively) / intercepted calls per iteration (${per(mc)}): the cost of one CONTINUEd call`, 'ns', perCallMemfd), ratio: null },
        ],
        [
          'Times are measured inside bench/native/alloc-seq.c (clock_gettime around the loop, after an untimed warm-up): dmaheap run\'s own start (Node, the kernel\'s boot) is not in them.',
          `Calls of the last round (dmaheap run --stats; continued includes mirrored): heap ${JSON.stringify(hc)}, memfd ${JSON.stringify(mc)}.`,
        ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const runSyscalls: Bench = {
  name: 'run-syscalls',
  title: 'dmaheap run: a syscall-heavy program that never touches dma-buf (find over node_modules) vs natively',
  run(ctx) {
    const why = runUnavailable();
    if (why !== null) return skip(this, why);
    let tree: string;
    try {
      tree = realpathSync(NODE_MODULES);
    } catch {
      return skip(this, `${NODE_MODULES} is missing (run \`npm ci\` first)`);
    }
    const COPIES = ctx.quick ? 3 : 5;
    const findArgv = ['find', ...new Array<string>(COPIES).fill(tree), '-type', 'f'];
    const shm = '/dev/shm';
    let outDir: string;
    try {
      outDir = mkdtempSync(path.join(shm, 'dmaheap-bench-'));
    } catch {
      outDir = mkdtempSync(path.join(os.tmpdir(), 'dmaheap-bench-'));
    }
    const noGcc = gccMissing();
    const floorDir = mkdtempSync(path.join(os.tmpdir(), 'dmaheap-bench-'));
    const floor = noGcc === null ? compile(floorDir, NOTIF_FLOOR_C) : null;
    const off = ['--preload', 'off'];
    const tarArgv = ['tar', 'cf', path.join(outDir, 'out.tar'), '-C', path.dirname(tree), path.basename(tree)];
    try {
      const N = ctx.quick ? 3 : 5;
      const q = { nf: [] as number[], rf: [] as number[], nt: [] as number[], rt: [] as number[], ff: [] as number[], nfEnd: [] as number[], rfEnd: [] as number[], start: [] as number[], of: [] as number[], ot: [] as number[], perCallOff: [] as number[] };
      let findCalls: RunCalls | null = null;
      let tarCalls: RunCalls | null = null;
      let offFindCalls: RunCalls | null = null;
      let offTarCalls: RunCalls | null = null;
      for (let r = -1; r < ctx.rounds; r++) {
        if (r >= 0) ctx.progress.line(`${this.name}: round ${r + 1}/${ctx.rounds}`);
        let nf = 0, rf = 0, nt = 0, rt = 0, ff = 0, nfEnd = 0, rfEnd = 0, ntrue = 0, rtrue = 0, otrue = 0, of = 0, ot = 0;
        const steps = [
          () => { nf = summarize(loopNs(spawnTimed('bash', loopArgv(N, findArgv).slice(1), false).stderr)).median; },
          () => { const s = underRun(loopArgv(N, findArgv), false); rf = summarize(loopNs(s.stderr)).median; findCalls = s.calls; },
          () => { nt = summarize(loopNs(spawnTimed('bash', loopArgv(N, tarArgv).slice(1), false).stderr)).median; },
          () => { const s = underRun(loopArgv(N, tarArgv), false); rt = summarize(loopNs(s.stderr)).median; tarCalls = s.calls; },
          () => { if (floor !== null) ff = spawnTimed(floor, floorArgv(findArgv), false).ns; },
          () => { nfEnd = spawnTimed(findArgv[0]!, findArgv.slice(1), false).ns; },
          () => { rfEnd = underRun(findArgv, false).ns; },
          () => { ntrue = spawnTimed('true', [], false).ns; },
          () => { rtrue = underRun(['true'], false).ns; },
          () => { otrue = underRun(['true'], false, off).ns; },
          () => { const s = underRun(findArgv, false, off); of = s.ns; offFindCalls = s.calls; },
          () => { const s = underRun(tarArgv, false, off); ot = s.ns; offTarCalls = s.calls; },
        ];
        const order = steps.map((_, i) => i);
        if (r % 2 !== 0) order.reverse();
        for (const i of order) steps[i]!();
        if (r < 0) continue;
        q.nf.push(nf);
        q.rf.push(rf);
        q.nt.push(nt);
        q.rt.push(rt);
        q.ff.push(ff);
        q.nfEnd.push(nfEnd);
        q.rfEnd.push(rfEnd);
        // dmaheap run's fixed start (Node, module loading, the kernel's boot, the launcher), measured with `true`
        q.start.push(rtrue - ntrue);
        const startOff = otrue - ntrue;
        q.of.push(of - startOff);
        q.ot.push(ot - startOff);
        const oc = offFindCalls as RunCalls | null;
        q.perCallOff.push(oc === null ? NaN : (of - startOff - nfEnd) / (oc.served + oc.continued));
      }
      const calls = (c: RunCalls | null, runs = 1): string => (c === null ? '?' : Math.round((c.served + c.continued) / runs).toLocaleString('en-US'));
      // what the bridge itself handled (the rest the notification helper answered)
      const bridged = (c: RunCalls | null, runs = 1): string => (c === null ? '?' : ((c.served + c.continued - c.helper) / runs).toLocaleString('en-US', { maximumFractionDigits: 1 }));
      const fc = findCalls as RunCalls | null;
      const tc = tarCalls as RunCalls | null;
      const what = `find over ${COPIES} copies of node_modules (-type f, stdout to /dev/null)`;
      const b = quantity(`${what}, natively: the median of ${N} runs in one bash, each timed from inside ($EPOCHREALTIME around fork, exec and the run)`, 'ns', q.nf);
      const m = quantity(`the same bash under dmaheap run (the fast path, the default for these dynamically linked programs; about ${calls(fc, N)} calls stopped per find, ${bridged(fc, N)} of them handled by the bridge, the rest by the notification helper)`, 'ns', q.rf);
      return result(this, ctx.rounds, b, m, 'dmaheap run / natively', ratios(q.rf, q.nf), { op: '<=', value: 1.2, text: '≤ 1.2×' },
        [
          { quantity: quantity(`informational: tar cf FILE node_modules (FILE in ${path.dirname(outDir)}) under dmaheap run, timed the same way (about ${calls(tc, N)} calls stopped per tar, ${bridged(tc, N)} of them handled by the bridge); ratio to natively`, 'ns', q.rt), ratio: summarize(ratios(q.rt, q.nt)) },
          { quantity: quantity('informational: tar natively, timed the same way', 'ns', q.nt), ratio: null },
          { quantity: quantity('informational: find natively, one process timed from the bench (with its start)', 'ns', q.nfEnd), ratio: null },
          { quantity: quantity('informational: find under dmaheap run, end to end (with dmaheap run\'s start)', 'ns', q.rfEnd), ratio: summarize(ratios(q.rfEnd, q.nfEnd)) },
          { quantity: quantity('informational: dmaheap run\'s fixed start (dmaheap run -- true − true)', 'ns', q.start), ratio: null },
          { quantity: quantity(`informational: find under dmaheap run --preload off (every watched call stopped: ${calls(offFindCalls as RunCalls | null)}) less its start; ratio to the end-to-end find natively`, 'ns', q.of), ratio: summarize(ratios(q.of, q.nfEnd)) },
          { quantity: quantity(`informational: tar under dmaheap run --preload off (${calls(offTarCalls as RunCalls | null)} calls stopped) less its start`, 'ns', q.ot), ratio: null },
          ...(floor === null ? [] : [{ quantity: quantity('informational: find under notif-floor, a C supervisor that stops and CONTINUEs every call of dmaheap run\'s list (the floor of seccomp notification without the fast path); ratio to the end-to-end find natively', 'ns', q.ff), ratio: summarize(ratios(q.ff, q.nfEnd)) }]),
          { quantity: quantity('informational: time added per stopped call of find under --preload off', 'ns', q.perCallOff), ratio: null },
        ],
        [
          'The fast path (the LD_PRELOAD shim, on by default for dynamically linked glibc programs) runs the calls that cannot touch the emulated machine natively, libc\'s own calls included (stdio\'s read and write, the locale\'s open, fstat, mmap and close); what still stops is mostly the dynamic loader\'s work before the shim is loaded (about 60 calls per program started) and each fork, exec, registration, uname and exit, and the forked child\'s first call, which the notification helper (native/notify/dmaheap-notify.c) answers in C ("helper" in the counts below); the bridge follows them from the helper\'s log, off the program\'s path.',
          `Calls of the last round (dmaheap run --stats; continued includes mirrored; ${N} runs and bash): find ${JSON.stringify(fc)}, tar ${JSON.stringify(tc)}.`,
          ...(noGcc === null ? [] : [`notif-floor not measured: ${noGcc}.`]),
        ]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
      rmSync(floorDir, { recursive: true, force: true });
    }
  },
};

// ---- 9. dmaheap simulate ----------------------------------------------------------------------------

const CAMERA_WORKLOAD = fileURLToPath(new URL('../../examples/workloads/camera-display-codec.yaml', import.meta.url));
const SIM_HOUR_TARGET_NS = 10e9;

const simHour: Bench = {
  name: 'sim-hour',
  title: 'one hour of simulated time of examples/workloads/camera-display-codec.yaml (imx8mp, 6.19) vs a 10 s target',
  run(ctx) {
    const text = readFileSync(CAMERA_WORKLOAD, 'utf8');
    const w = parseWorkload(text, CAMERA_WORKLOAD);
    const rounds = ctx.quick ? 1 : Math.min(3, ctx.rounds);
    const ns: number[] = [];
    const events: number[] = [];
    const allocs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      ctx.progress.line(`${this.name}: round ${r + 1}/${rounds} (an hour of the camera pipeline)`);
      settle();
      const t0 = nowNs();
      const res = simulate(w, { machine: { board: 'imx8mp', profile: '6.19' } });
      ns.push(nowNs() - t0);
      events.push(res.counts.events);
      allocs.push(res.counts.allocations + res.counts.frees + res.counts.frames);
    }
    const perEvent = ns.map((x, i) => x / events[i]!);
    return result(this, rounds, null, quantity('simulate(): 1 h of the camera + display + codec workload', 'ns', ns), 'time / 10 s', ns.map((x) => x / SIM_HOUR_TARGET_NS),
      { op: '<=', value: 1, text: '≤ 10 s (≤ 1×)' },
      [
        { quantity: quantity('informational: events the engine handled', 'count', events), ratio: null },
        { quantity: quantity('informational: buffer events (allocations + frees + frames)', 'count', allocs), ratio: null },
        { quantity: quantity('informational: time per event', 'ns', perEvent), ratio: null },
      ],
      ['Measured in this process (no Node start-up). The issue counts about 100,000 buffer events for this hour; the shipped workload has more (every frame of preview, scan-out and encoder).']);
  },
};

const simSweep: Bench = {
  name: 'sim-sweep',
  title: 'a 16-point sweep of linux,cma (5 min of the camera workload) on worker threads vs one run per core',
  run(ctx) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dmaheap-bench-sweep-'));
    try {
      const file = path.join(dir, 'camera-5m.yaml');
      writeFileSync(file, readFileSync(CAMERA_WORKLOAD, 'utf8').replace('duration: 1h', 'duration: 5m').replace('sample: 5s', 'sample: 1s'));
      const cores = Math.min(16, os.availableParallelism());
      const rounds = ctx.quick ? 1 : Math.min(3, ctx.rounds);
      const single: number[] = [];
      const sweep: number[] = [];
      for (let r = 0; r < rounds; r++) {
        ctx.progress.line(`${this.name}: round ${r + 1}/${rounds}: one run, then 16 sizes on ${cores} worker${cores === 1 ? '' : 's'}`);
        single.push(spawnTimed(process.execPath, [CLI, 'simulate', file, '--json']).ns);
        sweep.push(spawnTimed(process.execPath, [CLI, 'simulate', file, '--sweep', 'region:linux,cma=64M..640M', '--points', '16', '--resolution', '1T', '--jobs', String(cores), '--json'], true, [0, 1]).ns);
      }
      // the target: 16 runs spread over `cores` workers, each at most twice a single run
      const perCore = single.map((x) => (x * 16) / cores);
      return result(this, rounds, quantity(`one run × 16 / ${cores} core${cores === 1 ? '' : 's'} (each a whole \`dmaheap simulate\`, Node start-up included)`, 'ns', perCore), quantity('dmaheap simulate --sweep region:linux,cma=64M..640M --points 16 (one round)', 'ns', sweep), 'sweep / (single × 16 / cores)', ratios(sweep, perCore),
        { op: '<=', value: 2, text: '≤ 2×' },
        [{ quantity: quantity('informational: one run (wall time of the process)', 'ns', single), ratio: null }],
        [`${cores} worker thread${cores === 1 ? '' : 's'} (availableParallelism, at most 16).`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

// ---- dashboard: the server's cost per update with 10,000 live buffers ------------------------

/** 5% of one core at 4 updates a second: 12.5 ms of the 250 ms between two updates. */
const DASH_BUDGET_NS = 12.5e6;

const dashboard10k: Bench = {
  name: 'dashboard-10k',
  title: "the dashboard server's work per update (read the emulated kernel, delta, JSON) with 10,000 live buffers vs 12.5 ms (5% of a core at 4/s)",
  run(ctx) {
    ctx.progress.line(`${this.name}: allocating 10,000 buffers`);
    const t = createEmulatedTarget({ cmdline: 'cma=256M', ramBytes: 4 * GiB });
    const k = t.kernel;
    const cma = k.heaps().find((h) => h.name !== 'system')?.name ?? 'system';
    // 4 processes of 2,500 buffers each: 9,000 of 4 KiB from system, 1,000 of 64 KiB from CMA; every tenth one mapped, every fiftieth shared
    const procs = ['camera', 'isp', 'display', 'encoder'].map((comm) => {
      const p = k.spawn({ uid: 0, gid: 0, groups: [] }, comm);
      p.nofile = { cur: 8192, max: 8192 };
      return { p, c: new DmaHeapClient(new EmulatedTarget(k, p)) };
    });
    const live: { close(): void }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const o = procs[i % 4]!;
      const b = o.c.allocate(i % 10 === 9 ? cma : 'system', i % 10 === 9 ? 64 * 1024 : 4096, { name: `buf-${i}` });
      if (i % 10 === 0) b.map();
      if (i % 50 === 0) o.p.sendFd(b.fd, procs[(i + 1) % 4]!.p);
      live.push(b);
    }
    const source = emulatedSource(k, { label: 'bench' });
    const stepper = new Stepper();
    let clock = 0;
    const update = (): number => {
      const t0 = nowNs();
      clock += 250;
      const r = stepper.step(clock, source.snapshot(clock) as Exclude<ReturnType<typeof source.snapshot>, Promise<unknown>>);
      const text = JSON.stringify(r.delta ?? r.snapshot);
      if (text.length === 0) throw new Error('empty update');
      return nowNs() - t0;
    };
    const first = (): number => {
      const t0 = nowNs();
      const s = new Stepper().step(0, emulatedSource(k, { label: 'bench' }).snapshot(0) as Exclude<ReturnType<typeof source.snapshot>, Promise<unknown>>);
      const n = JSON.stringify(s.snapshot).length;
      if (n === 0) throw new Error('empty snapshot');
      return nowNs() - t0;
    };
    update();
    const rounds = ctx.quick ? 5 : Math.max(ctx.rounds, 10);
    const quiet: number[] = [];
    const churn: number[] = [];
    const full: number[] = [];
    let rng = mulberry32(7);
    for (let r = 0; r < rounds; r++) {
      ctx.progress.line(`${this.name}: round ${r + 1}/${rounds}`);
      settle();
      quiet.push(update());
      // between two updates: 20 buffers freed and 20 allocated (a busy pipeline)
      for (let j = 0; j < 20; j++) {
        const i = Math.floor(rng() * live.length);
        live[i]!.close();
        const o = procs[i % 4]!;
        live[i] = o.c.allocate('system', 4096, { name: `re-${r}-${j}` });
      }
      churn.push(update());
      if (r < 3) full.push(first());
    }
    rng = mulberry32(0);
    const base = quantity('the budget: 12.5 ms (5% of one core at 4 updates a second)', 'ns', churn.map(() => DASH_BUDGET_NS));
    const m = quantity('one update after 20 frees and 20 allocations (emulated source + delta + JSON.stringify)', 'ns', churn);
    const out = result(this, rounds, base, m, 'update / 12.5 ms', churn.map((x) => x / DASH_BUDGET_NS), { op: '<=', value: 1, text: '≤ 1× (≤ 5% of a core)' },
      [
        { quantity: quantity('informational: an update with nothing changed', 'ns', quiet), ratio: summarize(quiet.map((x) => x / DASH_BUDGET_NS)) },
        { quantity: quantity('informational: a whole snapshot from a fresh source (a new client; JSON ~ MBs)', 'ns', full), ratio: summarize(full.map((x) => x / DASH_BUDGET_NS)) },
      ],
      ['10,000 live dma-bufs in 4 processes (1,000 mapped, 200 shared, 1,000 in CMA). The SSE write itself (one shared delta string per update) is not included.']);
    for (const b of live) b.close();
    t.dispose();
    return out;
  },
};

const BENCHES: readonly Bench[] = [recycled, fresh, ioctl4k, live, cma, heapPerBuffer, bootScale, runAlloc, runSyscalls, simHour, simSweep, dashboard10k];

// ---- reporting ------------------------------------------------------------------------------

function fmtUnit(unit: Unit): (x: number) => string {
  return unit === 'ns' ? fmtNs : unit === 'ops/s' ? fmtRate : unit === 'count' ? (x) => Math.round(x).toLocaleString('en-US') : fmtBytes;
}

function printResult(r: BenchResult | Skipped): void {
  if (isSkipped(r)) {
    process.stdout.write(`${r.name} — ${r.title}\n  skipped  ${r.skipped}\n\n`);
    return;
  }
  const out: string[] = [];
  out.push(`${r.name} — ${r.title}`);
  const q = (tag: string, x: Quantity) => out.push(`  ${tag.padEnd(9)}${fmtSummary(x.summary, fmtUnit(x.unit))}  ${x.label}`);
  if (r.baseline !== null) q('baseline', r.baseline);
  q('measured', r.measured);
  out.push(`  ${'ratio'.padEnd(9)}${fmtSummary(r.ratio, fmtRatio)}  ${r.ratioLabel}; target ${r.target.text}: ${r.pass ? 'PASS' : 'MISS'}`);
  for (const i of r.info) {
    const ratio = i.ratio === null ? '' : `  [ratio ${fmtSummary(i.ratio, fmtRatio)}]`;
    out.push(`  ${'info'.padEnd(9)}${fmtSummary(i.quantity.summary, fmtUnit(i.quantity.unit))}${ratio}  ${i.quantity.label.replace(/^informational: /, '')}`);
  }
  for (const n of r.notes) out.push(`  note     ${n}`);
  process.stdout.write(out.join('\n') + '\n\n');
}

function printSummary(results: readonly (BenchResult | Skipped)[]): void {
  const rows = results.map((r) => isSkipped(r) ? [r.name, '-', '-', '-', '-', '-', 'SKIP'] : [
    r.name,
    fmtUnit(r.measured.unit)(r.measured.summary.median),
    `${fmtUnit(r.measured.unit)(r.measured.summary.min)} – ${fmtUnit(r.measured.unit)(r.measured.summary.max)}`,
    fmtRatio(r.ratio.median),
    `${fmtRatio(r.ratio.min)} – ${fmtRatio(r.ratio.max)}`,
    r.target.text,
    r.pass ? 'PASS' : 'MISS',
  ]);
  const head = ['benchmark', 'median', 'range', 'ratio', 'ratio range', 'target', 'result'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(head)}\n${line(w.map((n) => '-'.repeat(n)))}\n${rows.map(line).join('\n')}\n`);
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemBytes: os.totalmem(),
  };
}

// ---- main -----------------------------------------------------------------------------------

interface Args {
  json: boolean;
  quick: boolean;
  only: string[] | null;
  list: boolean;
}

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: node --expose-gc dist/bench/run.js [--quick] [--json] [--only name[,name...]] [--list]\n`);
  process.stderr.write(`benchmarks: ${BENCHES.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { json: false, quick: false, only: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    if (s === '--json') a.json = true;
    else if (s === '--quick') a.quick = true;
    else if (s === '--list') a.list = true;
    else if (s === '--only' || s.startsWith('--only=')) {
      const v = s === '--only' ? argv[++i] : s.slice('--only='.length);
      if (v === undefined || v === '') usage('--only needs a benchmark name');
      const names = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
      for (const n of names) if (!BENCHES.some((b) => b.name === n)) usage(`unknown benchmark '${n}'`);
      a.only = [...(a.only ?? []), ...names];
    } else if (s === '--help' || s === '-h') usage('dmaheap benchmarks');
    else usage(`unknown argument '${s}'`);
  }
  return a;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const b of BENCHES) process.stdout.write(`${b.name.padEnd(16)}${b.title}\n`);
    return;
  }
  const rounds = args.quick ? 3 : 7;
  const progress = new Progress(false);
  const ctx: Ctx = { rounds, quick: args.quick, progress };
  const selected = args.only === null ? BENCHES : BENCHES.filter((b) => args.only!.includes(b.name));
  const exposed = gcWasExposed();
  if (!exposed) progress.line('note: node was started without --expose-gc; enabling gc at run time');
  const m = machine();
  if (!args.json) {
    process.stdout.write(`dmaheap benchmarks — node ${process.version}, ${String(m.cpus)} × ${String(m.cpuModel)}, ${rounds} rounds${args.quick ? ' (--quick)' : ''}; median (min – max) over rounds\n\n`);
  }
  const t0 = nowNs();
  const results: (BenchResult | Skipped)[] = [];
  for (const [i, b] of selected.entries()) {
    progress.line(`[${i + 1}/${selected.length}] ${b.name}: ${b.title}`);
    const t = nowNs();
    const r = b.run(ctx);
    results.push(r);
    fullGc();
    progress.line(`[${i + 1}/${selected.length}] ${b.name} done in ${((nowNs() - t) / 1e9).toFixed(1)} s: ${isSkipped(r) ? 'SKIP' : r.pass ? 'PASS' : 'MISS'}`);
    if (!args.json) printResult(r);
  }
  const seconds = (nowNs() - t0) / 1e9;
  if (args.json) {
    const doc = {
      machine: m,
      rounds,
      quick: args.quick,
      gcExposed: exposed,
      seconds,
      results: results.map((r) => isSkipped(r) ? r : ({
        name: r.name,
        title: r.title,
        rounds: r.rounds,
        baseline: r.baseline,
        measured: r.measured,
        ratioLabel: r.ratioLabel,
        ratio: r.ratio,
        ratioPerRound: r.ratioPerRound,
        target: r.target,
        pass: r.pass,
        info: r.info,
        notes: r.notes,
      })),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    printSummary(results);
    const ran = results.filter((r): r is BenchResult => !isSkipped(r));
    const skipped = results.length - ran.length;
    process.stdout.write(`\n${ran.filter((r) => r.pass).length}/${ran.length} targets met${skipped > 0 ? ` (${skipped} skipped)` : ''}; total ${seconds.toFixed(1)} s. (A measurement, not a gate: the exit status is 0 either way.)\n`);
  }
}

main();
