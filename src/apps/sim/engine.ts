/**
 * The simulation: a workload run on an emulated kernel in simulated time. A discrete-event loop
 * (an event queue ordered by time, ties in order of scheduling) drives processes of the emulated
 * kernel through the client library, as an application would: heaps chosen by name or by
 * requirements (DmaHeapClient.choose), DMA_HEAP_IOCTL_ALLOC, SET_NAME, SCM_RIGHTS to consumers,
 * importer devices attaching and mapping, SYNC brackets for CPU access, close. Nothing is
 * shortcut: an allocation that fails here fails for the kernel's own reasons (placement,
 * fragmentation, memcg limits, DMA masks), and the engine then reads the kernel's state to say
 * which. Deterministic for a seed: the only chance is {@link Rng}, the clock is simulated.
 *
 * No Node APIs: the engine runs wherever the kernel does.
 */
import { DmaHeapClient, AllocationError } from '../../api/client.js';
import type { DmaBuffer } from '../../api/client.js';
import { ErrnoError } from '../../api/errors.js';
import { createEmulatedTarget, describeHeaps, heapIdentity } from '../../backends/emulated/index.js';
import type { EmulatedOptions, EmulatedTarget } from '../../backends/emulated/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { CmaArea } from '../../kernel/mm/cma.js';
import type { Process } from '../../kernel/fs/process.js';
import type { FaultHandle, MemoryFaultSpec } from '../../kernel/fault-inject.js';
import { DMA_BIDIRECTIONAL } from '../../kernel/dma-buf/dma-buf.js';
import { errnoName } from '../../uapi/errno.js';
import { MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../uapi/fcntl.js';
import { EventQueue, Rng } from './rng.js';
import type { FailureReason, SimAreaMap, SimFailure, SimResult } from './result.js';
import type { Micros, ProcessSpec, StreamSpec, Workload, ScriptEvent } from './workload.js';

export interface SimOptions {
  /** The machine (board, profile, command line, ...); the workload's `machine` fills what is not given. */
  readonly machine: EmulatedOptions;
  /** Overrides the workload's seed. */
  readonly seed?: number;
  /** Called now and then with the fraction of simulated time done (0..1). */
  readonly progress?: (done: number) => void;
  /** Cells per CMA area map (default 256). */
  readonly mapCells?: number;
  /** Map frames kept at most (default 240; samples are thinned evenly). */
  readonly mapFrames?: number;
  /** The board's name or path, for the report. */
  readonly boardLabel?: string | null;
  /** Wall clock in ms (performance.now), for the report's wallMs only; default none (0). */
  readonly clock?: () => number;
}

/** A live buffer of the simulation. */
interface Live {
  readonly id: number;
  readonly buf: DmaBuffer;
  readonly owner: Inst;
  readonly stream: string;
  readonly heap: string;
  readonly size: number;
  /** Consumers holding it too (their own fds). */
  readonly shared: { inst: Inst; buf: DmaBuffer }[];
  /** Importer attachments (target handles). */
  readonly atts: number[];
  /** CMA placement (area index, first pfn, pages), or null. */
  readonly cma: { area: number; pfn: number; pages: number } | null;
  readonly ownerIndex: number;
  freed: boolean;
}

/** A running instance of a process spec. */
interface Inst {
  readonly spec: ProcessSpec | null;
  readonly name: string;
  readonly client: DmaHeapClient;
  readonly target: EmulatedTarget;
  readonly proc: Process;
  readonly start: Micros;
  end: Micros | null;
  killed: string | null;
  readonly live: Set<Live>;
  /** Heap resolved per stream name (null: none; the reason in `why`). */
  readonly heaps: Map<string, { name: string | null; why: string }>;
  anon: { addr: number; len: number }[];
  peakRss: number;
  peakPss: number;
  peakHeld: number;
  held: number;
}

type Ev =
  | { k: 'proc-start'; spec: ProcessSpec; instance: number }
  | { k: 'proc-stop'; inst: Inst }
  | { k: 'stream-start'; inst: Inst; s: StreamSpec }
  | { k: 'frame'; inst: Inst; s: StreamSpec; n: number; pool: Live[] | null }
  | { k: 'free'; live: Live }
  | { k: 'burst'; inst: Inst; s: StreamSpec }
  | { k: 'pin'; idx: number }
  | { k: 'fault'; idx: number }
  | { k: 'fault-end'; idx: number }
  | { k: 'release'; h: FaultHandle }
  | { k: 'anon-start'; idx: number }
  | { k: 'anon-stop'; idx: number }
  | { k: 'script'; e: ScriptEvent }
  | { k: 'sample' }
  | { k: 'end' };

const mib = (n: number): string => `${(n / 1048576).toFixed(n % 1048576 === 0 ? 0 : 1)} MiB`;

/** Runs `w` on a freshly booted emulated kernel and returns what happened. */
export function simulate(w: Workload, opts: SimOptions): SimResult {
  return new Simulation(w, opts).run();
}

/**
 * A workload run step by step (the dashboard's live machine): `advance(until)` handles the events
 * up to a simulated time; the kernel stays as the workload left it until `shutdown()`.
 */
export class SimRunner {
  private readonly sim: Simulation;
  constructor(w: Workload, opts: SimOptions) {
    this.sim = new Simulation(w, opts);
    this.sim.begin();
  }

  get kernel(): Kernel {
    return this.sim.kernel;
  }

  /** Simulated microseconds done, and in all. */
  get now(): Micros {
    return this.sim.clock;
  }

  get duration(): Micros {
    return this.sim.duration;
  }

  get done(): boolean {
    return this.sim.ended;
  }

  get failures(): number {
    return this.sim.failureCount;
  }

  advance(until: Micros): void {
    this.sim.advance(until);
  }

  /** The result (call once, at the end); the processes stay until shutdown(). */
  result(): SimResult {
    return this.sim.finish();
  }

  shutdown(): void {
    this.sim.shutdown();
  }
}

class Simulation {
  private readonly k: Kernel;
  private readonly init: EmulatedTarget;
  private readonly initClient: DmaHeapClient;
  private readonly q = new EventQueue<Ev>();
  private readonly rng: Rng;
  private readonly seed: number;
  private now: Micros = 0;
  private readonly heapsByName: Map<string, { kind: string; capacity: number | null; area: string | null; backing: string }>;
  private readonly areaIndex = new Map<string, number>();
  private readonly areas: CmaArea[];
  private readonly owners: string[] = [];
  private readonly ownerIds = new Map<string, number>();
  private readonly insts: Inst[] = [];
  private readonly byName = new Map<string, Inst>();
  private readonly failures: SimFailure[] = [];
  private readonly differences: SimFailure[] = [];
  private readonly warnings: string[] = [];
  private readonly heapUse = new Map<string, number>();
  private readonly heapPeak = new Map<string, number>();
  private readonly heapAllocs = new Map<string, number>();
  private readonly heapFails = new Map<string, number>();
  private readonly liveCma = new Set<Live>();
  private readonly scriptBufs = new Map<string, Live>();
  private readonly missingDevs = new Set<string>();
  private readonly impossible = new Set<string>();
  private nextId = 1;
  private counts = { events: 0, allocations: 0, frees: 0, frames: 0, failures: 0, injected: 0 };
  private readonly series: SimResult['series'];
  private readonly maps: SimAreaMap[];
  private readonly mapEvery: number;
  private samples = 0;
  private readonly minFree: number[];
  private readonly minLargest: number[];
  private readonly anonState: ({ inst: Inst; addr: number; len: number } | null)[] = [];
  /** Per workload fault: the kernel rule id or the memory fault's handle while in force. */
  private readonly faultState: (number | FaultHandle | null)[] = [];
  /** Pool streams without per-frame work: their frames are counted when they end. */
  private readonly quiet: { inst: Inst; period: Micros; from: Micros; end: Micros }[] = [];

  constructor(
    private readonly w: Workload,
    private readonly opts: SimOptions,
  ) {
    this.seed = opts.seed ?? w.seed;
    this.rng = new Rng(this.seed);
    this.init = createEmulatedTarget(opts.machine);
    this.k = this.init.kernel;
    this.initClient = new DmaHeapClient(this.init, { leakGuard: false, appName: null });
    this.heapsByName = new Map(describeHeaps(this.k).map((d) => [d.name, { kind: d.kind, capacity: d.kind === 'system' ? null : d.capacity, area: d.area, backing: heapIdentity(d).backing }]));
    this.areas = [...this.k.cmaAreas];
    this.areas.forEach((a, i) => this.areaIndex.set(a.name, i));
    this.minFree = this.areas.map((a) => a.availableCount);
    this.minLargest = this.areas.map((a) => a.maxchunk);
    const cells = opts.mapCells ?? 256;
    this.maps = this.areas.map((a) => {
      const n = Math.max(1, Math.min(cells, a.count));
      return { area: a.name, cells: n, pagesPerCell: Math.ceil(a.count / n), owners: this.owners, frames: [] };
    });
    const nSamples = Math.floor(w.duration / w.sample) + 1;
    this.mapEvery = Math.max(1, Math.ceil(nSamples / (opts.mapFrames ?? 240)));
    const rec = (): Record<string, number[]> => ({});
    this.series = { t: [], heapUse: rec(), cmaFree: rec(), cmaLargest: rec(), rss: rec(), pss: rec(), cgroup: rec(), memFree: [] };
    for (const h of this.heapsByName.keys()) this.series.heapUse[h] = [];
    for (const a of this.areas) {
      this.series.cmaFree[a.name] = [];
      this.series.cmaLargest[a.name] = [];
    }
  }

  run(): SimResult {
    this.begin();
    this.advance(Infinity);
    const r = this.finish();
    this.shutdown();
    return r;
  }

  private t0 = 0;
  private lastReport = -1;
  /** True once the end event was reached. */
  ended = false;

  /** Sets the machine up and schedules the workload; nothing has happened yet (simulated time 0). */
  begin(): void {
    this.t0 = this.opts.clock?.() ?? 0;
    this.setupCgroups();
    this.schedule();
  }

  /** Handles every event up to simulated time `until` (inclusive); stops at the workload's end. */
  advance(until: Micros): void {
    while (!this.ended) {
      if (this.q.peekTime() > until) {
        if (Number.isFinite(until)) this.now = Math.max(this.now, Math.min(until, this.w.duration));
        return;
      }
      const e = this.q.pop();
      if (e === null) {
        this.ended = true;
        break;
      }
      this.now = e.time;
      if (e.value.k === 'end') {
        this.ended = true;
        break;
      }
      this.counts.events++;
      this.handle(e.value);
      if (this.opts.progress !== undefined) {
        const pct = Math.floor((this.now / this.w.duration) * 100);
        if (pct !== this.lastReport) {
          this.lastReport = pct;
          this.opts.progress(Math.min(1, this.now / this.w.duration));
        }
      }
    }
  }

  /** The result so far (the whole run once it ended): the last sample and the quiet streams' frames are added once. */
  finish(): SimResult {
    const t0 = this.t0;
    this.now = this.w.duration;
    for (const qs of this.quiet) {
      const stop = Math.min(qs.end, qs.inst.end ?? Infinity);
      const n = Math.ceil((stop - qs.from) / qs.period) - 1;
      if (n > 0) this.counts.frames += n;
    }
    this.quiet.length = 0;
    this.sample();
    const result: SimResult = {
      workload: this.w.name,
      file: this.w.file,
      board: this.opts.boardLabel ?? null,
      profile: this.k.profile.release,
      cmdline: this.k.cmdline,
      accounting: { memcg: this.k.memAccounting, dmem: this.k.dmem !== null },
      arch: this.k.arch,
      pageSize: this.k.pageSize,
      seed: this.seed,
      duration: this.w.duration,
      heaps: [...this.heapsByName].map(([name, h]) => ({ name, kind: h.kind, capacity: h.capacity, area: h.area, backing: h.backing, peakBytes: this.heapPeak.get(name) ?? 0, allocations: this.heapAllocs.get(name) ?? 0, failures: this.heapFails.get(name) ?? 0 })),
      areas: this.areas.map((a, i) => ({ name: a.name, heap: [...this.heapsByName].filter(([, h]) => h.area === a.name).map(([n]) => n).join(', ') || null, basePfn: a.basePfn, pages: a.count, pageSize: this.k.pageSize, minFreePages: this.minFree[i]!, minLargestFreeRun: this.minLargest[i]! })),
      processes: this.insts.map((i) => ({ name: i.name, pid: i.proc.pid, start: i.start, end: i.end, peakRss: i.peakRss, peakPss: i.peakPss, peakDmabufBytes: i.peakHeld, killed: i.killed })),
      failures: this.failures,
      differences: this.differences,
      series: this.series,
      maps: this.maps,
      counts: { ...this.counts, failures: this.failures.length, injected: this.k.faults.injected },
      warnings: this.warnings,
      wallMs: (this.opts.clock?.() ?? 0) - t0,
    };
    return result;
  }

  /** The emulated kernel the workload runs on. */
  get kernel(): Kernel {
    return this.k;
  }

  /** Simulated microseconds done. */
  get clock(): Micros {
    return this.now;
  }

  get duration(): Micros {
    return this.w.duration;
  }

  /** Failed allocations so far. */
  get failureCount(): number {
    return this.failures.length;
  }

  private warn(line: string): void {
    if (this.warnings.length < 100) this.warnings.push(line);
  }

  // ---- set-up ----------------------------------------------------------------------------------

  private setupCgroups(): void {
    if (this.w.cgroups.length === 0) return;
    const r = this.init.writeFile('/sys/fs/cgroup/cgroup.subtree_control', '+memory');
    if (r.errno !== null) this.warnings.push(`cgroups: enabling the memory controller failed (${r.errno}); cgroup limits are not applied`);
    for (const c of this.w.cgroups) {
      const m = this.init.mkdir(`/sys/fs/cgroup/${c.name}`, 0o755);
      if (m.errno !== null) {
        this.warnings.push(`cgroup ${c.name}: mkdir failed (${m.errno})`);
        continue;
      }
      if (c.memoryMax !== null) {
        const x = this.init.writeFile(`/sys/fs/cgroup/${c.name}/memory.max`, String(c.memoryMax));
        if (x.errno !== null) this.warnings.push(`cgroup ${c.name}: memory.max could not be set (${x.errno})`);
      }
    }
  }

  private schedule(): void {
    const w = this.w;
    for (const p of w.processes) {
      if (p.repeat === null) this.q.push(p.start, { k: 'proc-start', spec: p, instance: 0 });
      else {
        for (let i = 0; i < p.repeat.times; i++) {
          const t = p.start + i * p.repeat.every + (p.repeat.jitter > 0 ? this.rng.int(p.repeat.jitter + 1) : 0);
          if (t < w.duration) this.q.push(t, { k: 'proc-start', spec: p, instance: i + 1 });
        }
      }
    }
    w.pressure.forEach((q, i) => {
      this.anonState.push(null);
      if (q.kind === 'anon') {
        this.q.push(q.start, { k: 'anon-start', idx: i });
        if (q.stop !== null) this.q.push(q.stop, { k: 'anon-stop', idx: i });
      } else if (q.kind === 'pagecache') {
        const end = q.stop ?? w.duration;
        for (let t = q.start; t < end; t += q.period) {
          this.q.push(t, { k: 'anon-start', idx: i });
          this.q.push(Math.min(end, t + Math.floor(q.period / 2)), { k: 'anon-stop', idx: i });
        }
      }
    });
    w.pressure.forEach((q, i) => {
      if (q.kind !== 'pin') return;
      const end = q.stop ?? w.duration;
      for (let t = q.start; t < end; t += q.every) this.q.push(t, { k: 'pin', idx: i });
    });
    w.faults.forEach((f, i) => {
      this.faultState.push(null);
      if (f.kind === 'fail-alloc') {
        this.q.push(f.start, { k: 'fault', idx: i });
        if (f.stop !== null) this.q.push(f.stop, { k: 'fault-end', idx: i });
      } else if (f.kind === 'signal') this.q.push(0, { k: 'fault', idx: i });
      else {
        this.q.push(f.time, { k: 'fault', idx: i });
        if (f.kind !== 'shrink-cma' && f.until !== null) this.q.push(f.until, { k: 'fault-end', idx: i });
      }
    });
    for (const e of w.script) this.q.push(e.t, { k: 'script', e });
    for (let t = 0; t < w.duration; t += w.sample) this.q.push(t, { k: 'sample' });
    this.q.push(w.duration, { k: 'end' });
  }

  // ---- events ------------------------------------------------------------------------------------

  private handle(e: Ev): void {
    switch (e.k) {
      case 'proc-start':
        return this.procStart(e.spec, e.instance);
      case 'proc-stop':
        return this.procStop(e.inst, null);
      case 'stream-start':
        return this.streamStart(e.inst, e.s);
      case 'frame':
        return this.frame(e.inst, e.s, e.n, e.pool);
      case 'free':
        return this.free(e.live);
      case 'burst':
        return this.burst(e.inst, e.s);
      case 'pin':
        return this.pinPressure(e.idx);
      case 'fault':
        return this.faultStart(e.idx);
      case 'fault-end':
        return this.faultEnd(e.idx);
      case 'release':
        e.h.release();
        return;
      case 'anon-start':
        return this.anonStart(e.idx);
      case 'anon-stop':
        return this.anonStop(e.idx);
      case 'script':
        return this.script(e.e);
      case 'sample':
        return this.sample();
      case 'end':
        return;
    }
  }

  private spawn(name: string, spec: ProcessSpec | null, cgroup: string | null): Inst {
    // every instance of a repeated process has the process's name as its comm (fault rules match it)
    const target = this.init.spawn((spec?.name ?? name).slice(0, 15));
    const inst: Inst = {
      spec, name, target, proc: target.proc, client: new DmaHeapClient(target, { leakGuard: false, appName: null }),
      start: this.now, end: null, killed: null, live: new Set(), heaps: new Map(), anon: [], peakRss: 0, peakPss: 0, peakHeld: 0, held: 0,
    };
    if (cgroup !== null) {
      const r = this.init.writeFile(`/sys/fs/cgroup/${cgroup}/cgroup.procs`, String(inst.proc.pid));
      if (r.errno !== null) this.warnings.push(`${name}: could not join cgroup ${cgroup} (${r.errno})`);
    }
    this.insts.push(inst);
    this.byName.set(name, inst);
    return inst;
  }

  private procStart(spec: ProcessSpec, instance: number): void {
    const name = instance === 0 ? spec.name : `${spec.name}#${instance}`;
    const inst = this.spawn(name, spec, spec.cgroup);
    if (spec.anon > 0) {
      const a = this.mapAnon(inst, spec.anon);
      if (a !== null) inst.anon.push(a);
    }
    const stop = spec.repeat !== null ? this.now + spec.repeat.life : spec.stop;
    if (stop !== null && stop < this.w.duration) this.q.push(stop, { k: 'proc-stop', inst });
    for (const s of spec.streams) this.q.push(this.now + s.start, { k: 'stream-start', inst, s });
  }

  /** The process ends (its stop time, or a kill): every fd closes, as exit() does. */
  private procStop(inst: Inst, killed: string | null): void {
    if (inst.end !== null) return;
    inst.end = this.now;
    if (killed !== null) inst.killed = killed;
    for (const l of [...inst.live]) this.free(l);
    // buffers it received from others: its fds close with it
    for (const other of this.insts) {
      for (const l of other.live) {
        const i = l.shared.findIndex((s) => s.inst === inst);
        if (i >= 0) {
          this.heldChange(inst, -l.size);
          l.shared.splice(i, 1);
        }
      }
    }
    inst.client.close();
    inst.target.proc.exit();
  }

  private heldChange(inst: Inst, delta: number): void {
    inst.held += delta;
    if (inst.held > inst.peakHeld) inst.peakHeld = inst.held;
  }

  private alive(inst: Inst): boolean {
    if (inst.end !== null) return false;
    if (!inst.proc.alive || inst.proc.fatalSignalPending) {
      this.procStop(inst, inst.proc.killedBy !== null ? `${inst.proc.killedBy} (the OOM killer)` : 'SIGKILL');
      return false;
    }
    return true;
  }

  private streamEnd(inst: Inst, s: StreamSpec): Micros {
    const procEnd = inst.spec?.repeat !== null && inst.spec !== null ? inst.start + inst.spec.repeat!.life : (inst.spec?.stop ?? this.w.duration);
    const sEnd = s.stop !== null ? inst.start + s.stop : Infinity;
    return Math.min(procEnd, sEnd, this.w.duration);
  }

  private streamStart(inst: Inst, s: StreamSpec): void {
    if (!this.alive(inst)) return;
    const end = this.streamEnd(inst, s);
    let pool: Live[] | null = null;
    if (s.mode === 'pool') {
      pool = [];
      for (let i = 0; i < s.count; i++) {
        const l = this.allocate(inst, s.name, s, s.size);
        if (l !== null) pool.push(l);
        if (!this.alive(inst)) return;
      }
      if (s.stop !== null && inst.start + s.stop < this.w.duration) for (const l of pool) this.q.push(inst.start + s.stop, { k: 'free', live: l });
    }
    if (s.period !== null && pool !== null && s.cpu === 'none') {
      // a pool without CPU access does nothing per frame the kernel sees (the importers keep
      // their mappings): its frames are counted, not simulated one by one
      this.quiet.push({ inst, period: s.period, from: this.now, end });
    } else if (s.period !== null && this.now + s.period < end) this.q.push(this.now + s.period, { k: 'frame', inst, s, n: 1, pool });
    if (s.burst !== null && this.now + s.burst.every < end) this.q.push(this.now + s.burst.every, { k: 'burst', inst, s });
  }

  private frame(inst: Inst, s: StreamSpec, n: number, pool: Live[] | null): void {
    if (!this.alive(inst)) return;
    this.counts.frames++;
    if (pool !== null) {
      const l = pool.length > 0 ? pool[n % pool.length] : undefined;
      if (l !== undefined && !l.freed) this.cpuAccess(l, s);
    } else {
      const l = this.allocate(inst, s.name, s, s.size);
      if (l !== null) {
        this.cpuAccess(l, s);
        this.q.push(this.now + s.hold * s.period!, { k: 'free', live: l });
      }
    }
    const next = this.now + s.period!;
    if (next < this.streamEnd(inst, s)) this.q.push(next, { k: 'frame', inst, s, n: n + 1, pool });
  }

  private burst(inst: Inst, s: StreamSpec): void {
    if (!this.alive(inst) || s.burst === null) return;
    for (let i = 0; i < s.burst.count; i++) {
      const l = this.allocate(inst, `${s.name}-burst`, s, s.size);
      if (l !== null) this.q.push(this.now + s.burst.hold, { k: 'free', live: l });
      if (!this.alive(inst)) return;
    }
    const next = this.now + s.burst.every;
    if (next < this.streamEnd(inst, s)) this.q.push(next, { k: 'burst', inst, s });
  }

  private cpuAccess(l: Live, s: StreamSpec): void {
    if (s.cpu === 'none') return;
    try {
      l.buf.sync(s.cpu, 'start');
      l.buf.sync(s.cpu, 'end');
    } catch (e) {
      if (!(e instanceof ErrnoError)) throw e;
      this.warn(`${l.owner.name}/${l.stream}: DMA_BUF_IOCTL_SYNC failed (${e.code})`);
    }
  }

  // ---- allocation ----------------------------------------------------------------------------

  private resolveHeap(inst: Inst, s: StreamSpec): { name: string | null; why: string } {
    const got = inst.heaps.get(s.name);
    if (got !== undefined) return got;
    let r: { name: string | null; why: string };
    const names = s.heap.names.filter((n) => this.heapsByName.has(n));
    if (names.length > 0) r = { name: names[0]!, why: '' };
    else if (s.heap.requires !== null) {
      const c = inst.client.choose({ ...s.heap.requires, size: s.size });
      r = c.chosen !== null ? { name: c.chosen.name, why: '' } : { name: null, why: c.explanation };
    } else r = { name: null, why: `no heap named ${s.heap.names.map((n) => `'${n}'`).join(' or ')} on this machine (it has ${[...this.heapsByName.keys()].join(', ')})` };
    inst.heaps.set(s.name, r);
    const key = `${inst.spec?.name ?? inst.name}/${s.name}`;
    if (!this.impossible.has(key)) {
      this.impossible.add(key);
      const biggest = Math.max(...[...this.heapsByName.values()].map((h) => h.capacity ?? this.k.ramBytes));
      const cap = r.name !== null ? this.heapsByName.get(r.name)?.capacity ?? null : null;
      if (s.size > biggest) this.warn(`impossible: ${key} asks for ${mib(s.size)} buffers, larger than every heap of this machine (the largest holds ${mib(biggest)}): each allocation fails`);
      else if (cap !== null && s.size > cap) this.warn(`impossible: ${key} asks for ${mib(s.size)} buffers from ${r.name}, which holds ${mib(cap)}: each allocation fails`);
    }
    return r;
  }

  /**
   * The default CMA area's heap changed its name in 6.17 (`reserved` or the linux,cma node's name
   * before, `default_cma_region` from then on, the old name kept as a legacy duplicate until 6.19):
   * a replay across that change names the heap it probably meant.
   */
  private renamedAs(name: string): string {
    const has = (n: string): boolean => this.heapsByName.has(n);
    if ((name === 'reserved' || name === 'linux,cma') && has('default_cma_region')) return ` (from Linux 6.17 the default CMA area's heap is 'default_cma_region': the same memory under its new name, if the recording's '${name}' was the default area)`;
    if (name === 'default_cma_region') {
      const old = ['reserved', 'linux,cma'].find(has);
      if (old !== undefined) return ` (before Linux 6.17 the default CMA area's heap is named after its area: '${old}' here)`;
    }
    return '';
  }

  private ownerIndex(key: string): number {
    let i = this.ownerIds.get(key);
    if (i === undefined) {
      i = this.owners.length;
      this.owners.push(key);
      this.ownerIds.set(key, i);
    }
    return i;
  }

  private allocate(inst: Inst, label: string, s: StreamSpec | null, size: number, heapName?: string): Live | null {
    let heap: string | null;
    if (heapName !== undefined) heap = this.heapsByName.has(heapName) ? heapName : null;
    else heap = this.resolveHeap(inst, s!).name;
    if (heap === null) {
      const why = heapName !== undefined ? `no heap named '${heapName}' on this machine${this.renamedAs(heapName)}` : this.resolveHeap(inst, s!).why;
      this.fail(inst, label, heapName ?? s?.heap.names[0] ?? '(requirements)', size, 'ENOENT', 'no-heap', why);
      return null;
    }
    const injected = this.k.faults.injected;
    let buf: DmaBuffer;
    try {
      buf = inst.client.allocate(heap, size, { name: label.slice(0, 32) });
    } catch (e) {
      if (!(e instanceof AllocationError) && !(e instanceof ErrnoError)) throw e;
      this.heapFails.set(heap, (this.heapFails.get(heap) ?? 0) + 1);
      if (this.k.faults.injected > injected) {
        const signalled = inst.proc.fatalSignalPending;
        this.fail(inst, label, heap, size, e.code, signalled ? 'signal' : 'injected', signalled ? `a fatal signal (injected) arrived during the allocation: ${e.code}, and the process dies` : `a fault rule of the workload failed it with ${e.code}`);
        this.alive(inst);
        return null;
      }
      this.classify(inst, label, heap, size, e.code);
      this.alive(inst);
      return null;
    }
    this.counts.allocations++;
    this.heapAllocs.set(heap, (this.heapAllocs.get(heap) ?? 0) + 1);
    const use = (this.heapUse.get(heap) ?? 0) + buf.size;
    this.heapUse.set(heap, use);
    if (use > (this.heapPeak.get(heap) ?? 0)) this.heapPeak.set(heap, use);
    const cma = this.placement(inst, buf, heap);
    const live: Live = { id: this.nextId++, buf, owner: inst, stream: label, heap, size: buf.size, shared: [], atts: [], cma, ownerIndex: this.ownerIndex(`${inst.spec?.name ?? inst.name}/${label}`), freed: false };
    inst.live.add(live);
    this.heldChange(inst, live.size);
    if (cma !== null) this.liveCma.add(live);
    if (s !== null) {
      for (const dev of s.importers) this.importTo(live, dev);
      for (const to of s.share) {
        const other = this.byName.get(to);
        if (other === undefined || !this.alive(other)) continue;
        try {
          live.shared.push({ inst: other, buf: buf.sendTo(other.client) });
          this.heldChange(other, live.size);
        } catch (e) {
          if (!(e instanceof ErrnoError)) throw e;
          this.fail(inst, label, heap, size, e.code, 'other', `passing the buffer to ${to} (SCM_RIGHTS) failed`);
        }
      }
    }
    return live;
  }

  /** The index of the CMA area behind `heap` in `areas`, or null (not a CMA heap). */
  private areaIndexOf(heap: string): number | null {
    const area = this.heapsByName.get(heap)?.area ?? null;
    return area === null ? null : (this.areaIndex.get(area) ?? null);
  }

  private placement(inst: Inst, buf: DmaBuffer, heap: string): Live['cma'] {
    const ai = this.areaIndexOf(heap);
    if (ai === null) return null;
    const f = inst.proc.file(buf.fd);
    const mem = (f?.priv as { priv?: { pfnOf?: (i: number) => number; pages?: number } } | null)?.priv;
    if (mem === undefined || typeof mem.pfnOf !== 'function' || typeof mem.pages !== 'number') return null;
    return { area: ai, pfn: mem.pfnOf(0), pages: mem.pages };
  }

  private importTo(l: Live, dev: string): void {
    if (this.k.devices.get(dev) === null) {
      if (!this.missingDevs.has(dev)) {
        this.missingDevs.add(dev);
        this.warn(`importer '${dev}' is not a device of this machine (it has ${this.k.devices.list().map((d) => d.devName).join(', ') || 'none'}): its imports are left out`);
      }
      return;
    }
    const t = l.owner.target;
    const a = t.attach(l.buf.fd, dev);
    if (a.handle === null) {
      this.fail(l.owner, l.stream, l.heap, l.size, a.errno ?? 'EINVAL', 'dma-mask', `${dev} could not attach the buffer (${a.errno})`);
      return;
    }
    l.atts.push(a.handle);
    const m = t.mapAttachment(a.handle, DMA_BIDIRECTIONAL);
    if (m.errno !== null) {
      const dv = this.k.devices.get(dev)!;
      const contiguous = this.heapsByName.get(l.heap)?.kind !== 'system';
      const why = dv.needsContiguous && !contiguous
        ? `${dev} needs physically contiguous memory and ${l.heap} is not (dma_buf_map_attachment: ${m.errno})`
        : `${dev} cannot map it for DMA (${m.errno}): ${this.k.devices.handle(a.handle)?.lastError ?? 'its DMA mask or bus limit does not reach the buffer'}`;
      this.fail(l.owner, l.stream, l.heap, l.size, m.errno, 'dma-mask', why);
    }
  }

  private free(l: Live): void {
    if (l.freed) return;
    l.freed = true;
    this.counts.frees++;
    const t = l.owner.target;
    for (const h of l.atts) {
      t.unmapAttachment(h);
      t.detach(h);
    }
    for (const s of l.shared) {
      if (s.inst.end === null) {
        try {
          s.buf.close();
        } catch {
          // the consumer died meanwhile: its fd went with it
        }
      }
      this.heldChange(s.inst, -l.size);
    }
    try {
      if (l.owner.end === null) l.buf.close();
    } catch {
      // closed with its process
    }
    l.owner.live.delete(l);
    this.heldChange(l.owner, -l.size);
    this.heapUse.set(l.heap, (this.heapUse.get(l.heap) ?? 0) - l.size);
    this.liveCma.delete(l);
  }

  // ---- why an allocation failed ---------------------------------------------------------------

  private fail(inst: Inst, stream: string, heap: string, size: number, errno: string, reason: FailureReason, detail: string, area?: SimFailure['area']): void {
    if (this.failures.length >= 100_000) return;
    this.failures.push({ t: this.now, process: inst.name, stream, heap, size, errno, reason, detail, ...(area !== undefined ? { area } : {}) });
  }

  /** Reads the kernel's state right after a failed allocation and records why it failed. */
  private classify(inst: Inst, stream: string, heap: string, size: number, errno: string): void {
    const ps = this.k.pageSize;
    const pages = Math.ceil(size / ps);
    if (errno === 'EINTR') return this.fail(inst, stream, heap, size, errno, 'signal', 'a fatal signal arrived during the allocation');
    const cg = this.cgroupOver(inst, size);
    if (errno === 'ENOMEM' && cg !== null) return this.fail(inst, stream, heap, size, errno, 'cgroup-limit', cg);
    const ai = this.areaIndexOf(heap);
    const a = ai === null ? null : this.areas[ai]!;
    if (a !== null && errno === 'ENOMEM') {
      const largest = a.maxchunk;
      const info = { name: a.name, freePages: a.availableCount, largestFreeRun: largest, requestPages: pages };
      const align = Math.min(Math.ceil(Math.log2(pages)), 8);
      if (pages > a.count) return this.fail(inst, stream, heap, size, errno, 'area-too-small', `the request (${pages} pages, ${mib(size)}) is larger than the whole CMA area ${a.name} (${a.count} pages, ${mib(a.count * ps)})`, info);
      if (pages > a.availableCount) return this.fail(inst, stream, heap, size, errno, 'out-of-memory', `CMA area ${a.name} has ${a.availableCount} pages free (${mib(a.availableCount * ps)}), the request needs ${pages}`, info);
      if (largest < pages) return this.fail(inst, stream, heap, size, errno, 'fragmented', `${a.availableCount} pages free in CMA area ${a.name}, but the largest free run is ${largest} pages (${mib(largest * ps)}) and the request needs ${pages} contiguous pages`, info);
      if (this.pinnedIn(a)) return this.fail(inst, stream, heap, size, errno, 'pinned', `free runs of ${largest} pages exist in ${a.name}, but pinned pages inside them cannot be migrated (alloc_contig_range: EBUSY)`, info);
      return this.fail(inst, stream, heap, size, errno, 'fragmented', `no free run of ${pages} pages aligned to ${2 ** align} pages in ${a.name} (largest free run ${largest} pages)`, info);
    }
    if (errno === 'ENOMEM') {
      const free = this.k.buddy.freePages * ps;
      return this.fail(inst, stream, heap, size, errno, 'out-of-memory', `RAM: ${mib(free)} free, the request needs ${mib(size)}`);
    }
    this.fail(inst, stream, heap, size, errno, 'other', `${heap} refused ${mib(size)} with ${errno}`);
  }

  private pinnedIn(a: CmaArea): boolean {
    return this.k.faults.pinnedRanges(a.name).length > 0;
  }

  /** When `inst`'s cgroup (or an ancestor) has no room for `size` more bytes: why, else null. */
  private cgroupOver(inst: Inst, size: number): string | null {
    const cg = inst.spec?.cgroup ?? null;
    if (cg === null) return null;
    const cur = Number(this.init.readFile(`/sys/fs/cgroup/${cg}/memory.current`).text ?? 'NaN');
    const maxText = (this.init.readFile(`/sys/fs/cgroup/${cg}/memory.max`).text ?? 'max').trim();
    if (maxText === 'max' || !Number.isFinite(cur)) return null;
    const max = Number(maxText);
    if (cur + size <= max) return null;
    return `cgroup ${cg}: memory.current ${mib(cur)} + ${mib(size)} exceeds memory.max ${mib(max)}`;
  }

  // ---- pressure ----------------------------------------------------------------------------------

  private mapAnon(inst: Inst, len: number): { addr: number; len: number } | null {
    const ps = this.k.pageSize;
    const l = Math.ceil(len / ps) * ps;
    const a = inst.proc.mmap(0, l, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (a < 0) {
      this.warn(`${inst.name}: ${mib(l)} of anonymous memory could not be mapped (${errnoName(-a) ?? -a})`);
      return null;
    }
    this.alive(inst);
    return { addr: a, len: l };
  }

  private anonStart(idx: number): void {
    const q = this.w.pressure[idx]!;
    if (q.kind !== 'anon' && q.kind !== 'pagecache') return;
    let st = this.anonState[idx] ?? null;
    if (st !== null) return;
    let inst = this.byName.get(q.process);
    if (inst === undefined || inst.end !== null) inst = this.spawn(q.process, null, q.kind === 'anon' ? q.cgroup : null);
    const a = this.mapAnon(inst, q.size);
    if (a === null) return;
    st = { inst, ...a };
    this.anonState[idx] = st;
  }

  private anonStop(idx: number): void {
    const st = this.anonState[idx] ?? null;
    if (st === null) return;
    this.anonState[idx] = null;
    if (st.inst.end === null && st.inst.proc.alive) st.inst.proc.munmap(st.addr, st.len);
  }

  // ---- faults --------------------------------------------------------------------------------

  private memoryFault(spec: MemoryFaultSpec, what: string): FaultHandle | null {
    const h = this.k.faults.apply(spec);
    if (typeof h === 'number') {
      this.warn(`${what}: ${this.k.faults.describeRefusal(spec, h)}`);
      return null;
    }
    return h;
  }

  private faultStart(idx: number): void {
    const f = this.w.faults[idx]!;
    const area = (a: string | null): { area?: string } => (a !== null ? { area: a } : {});
    if (f.kind === 'fail-alloc') {
      this.faultState[idx] = this.k.faults.add({
        ...(f.heap !== null ? { heap: f.heap } : {}),
        ...(f.process !== null ? { comm: f.process.slice(0, 15) } : {}),
        ...(f.nth !== null ? { nth: f.nth } : f.every !== null ? { every: f.every } : { fraction: f.fraction!, seed: (this.seed + idx) >>> 0 }),
        errno: f.errno,
      });
    } else if (f.kind === 'signal') this.faultState[idx] = this.k.faults.add({ comm: f.process.slice(0, 15), nth: f.nth, signal: true });
    else if (f.kind === 'shrink-cma') this.faultState[idx] = this.memoryFault({ kind: 'shrink-cma', ...area(f.area), pages: f.pages }, `faults: ${f.at}`);
    else if (f.kind === 'pin') this.faultState[idx] = this.memoryFault({ kind: 'pin-cma', ...area(f.area), pages: f.pages, seed: (this.seed + idx) >>> 0 }, `faults: ${f.at}`);
    else this.faultState[idx] = this.memoryFault({ kind: 'take-memory', bytes: f.size }, `faults: ${f.at}`);
  }

  private faultEnd(idx: number): void {
    const st = this.faultState[idx] ?? null;
    this.faultState[idx] = null;
    if (typeof st === 'number') this.k.faults.remove(st);
    else st?.release();
  }

  /** Pin pressure: pages of a CMA area pinned for a while (a seeded scatter over its free pages). */
  private pinPressure(idx: number): void {
    const q = this.w.pressure[idx]!;
    if (q.kind !== 'pin') return;
    const h = this.memoryFault({ kind: 'pin-cma', ...(q.area !== null ? { area: q.area } : {}), pages: q.pages, seed: this.rng.int(0x100000000) }, `pressure: ${q.at}`);
    if (h !== null) this.q.push(this.now + q.hold, { k: 'release', h });
  }

  // ---- scripts (replays) --------------------------------------------------------------------------

  private script(e: ScriptEvent): void {
    let inst = this.byName.get(e.process);
    if (e.op === 'exit') {
      if (inst !== undefined) this.procStop(inst, null);
      return;
    }
    if (inst === undefined || inst.end !== null) inst = this.spawn(e.process, null, null);
    if (e.op === 'alloc') {
      const n = this.failures.length;
      const l = this.allocate(inst, e.id, null, e.size, e.heap);
      if (l !== null) {
        this.scriptBufs.set(`${e.process}\u0000${e.id}`, l);
        if (e.expect !== null && e.expect !== 'ok') this.differs(inst, e, `the trace saw ${errnoName(e.expect) ?? e.expect}; here it succeeded`);
      } else if (this.failures.length > n) {
        const f = this.failures[n]!;
        if (e.expect === 'ok') this.failures[n] = { ...f, differs: `the trace saw this allocation succeed; here it failed with ${f.errno} (${f.reason})` };
        else if (e.expect !== null && errnoName(e.expect) !== f.errno) this.failures[n] = { ...f, differs: `the trace saw ${errnoName(e.expect) ?? e.expect}; here ${f.errno}` };
      }
    } else {
      const key = `${e.process}\u0000${e.id}`;
      const l = this.scriptBufs.get(key);
      if (l !== undefined) {
        this.scriptBufs.delete(key);
        this.free(l);
      }
    }
  }

  private differs(inst: Inst, e: ScriptEvent & { op: 'alloc' }, why: string): void {
    if (this.differences.length >= 100_000) return;
    this.differences.push({ t: this.now, process: inst.name, stream: e.id, heap: e.heap, size: e.size, errno: 'OK', reason: 'other', detail: why, differs: why });
  }

  // ---- samples -----------------------------------------------------------------------------------

  private sample(): void {
    const s = this.series;
    s.t.push(this.now);
    for (const h of this.heapsByName.keys()) s.heapUse[h]!.push(this.heapUse.get(h) ?? 0);
    this.areas.forEach((a, i) => {
      const free = a.availableCount;
      const largest = a.maxchunk;
      s.cmaFree[a.name]!.push(free);
      s.cmaLargest[a.name]!.push(largest);
      if (free < this.minFree[i]!) this.minFree[i] = free;
      if (largest < this.minLargest[i]!) this.minLargest[i] = largest;
    });
    s.memFree.push(this.k.buddy.freePages * this.k.pageSize);
    // dma-buf Rss and Pss per process name, as dmabuf_dump counts them: a buffer counts in full
    // in every process that holds it (Rss), and divided among them (Pss)
    const rss = new Map<string, number>();
    const pss = new Map<string, number>();
    const byInst = new Map<Inst, { rss: number; pss: number }>();
    for (const inst of this.insts) {
      if (inst.end !== null) continue;
      for (const l of inst.live) {
        const holders = 1 + l.shared.length;
        const add = (i: Inst): void => {
          const v = byInst.get(i) ?? { rss: 0, pss: 0 };
          v.rss += l.size;
          v.pss += l.size / holders;
          byInst.set(i, v);
        };
        add(inst);
        for (const sh of l.shared) add(sh.inst);
      }
    }
    for (const [inst, v] of byInst) {
      const key = inst.spec?.name ?? inst.name;
      rss.set(key, (rss.get(key) ?? 0) + v.rss);
      pss.set(key, (pss.get(key) ?? 0) + v.pss);
      if (v.rss > inst.peakRss) inst.peakRss = v.rss;
      if (v.pss > inst.peakPss) inst.peakPss = v.pss;
    }
    const n = s.t.length;
    const put = (rec: Record<string, number[]>, key: string, v: number): void => {
      let arr = rec[key];
      if (arr === undefined) {
        arr = new Array<number>(n - 1).fill(0);
        rec[key] = arr;
      }
      arr.push(Math.round(v));
    };
    for (const inst of this.insts) {
      const key = inst.spec?.name ?? inst.name;
      put(s.rss, key, rss.get(key) ?? 0);
      put(s.pss, key, pss.get(key) ?? 0);
    }
    for (const rec of [s.rss, s.pss]) for (const arr of Object.values(rec)) while (arr.length < n) arr.push(0);
    for (const c of this.w.cgroups) {
      const cur = Number(this.init.readFile(`/sys/fs/cgroup/${c.name}/memory.current`).text ?? '0');
      put(s.cgroup, c.name, Number.isFinite(cur) ? cur : 0);
    }
    if (this.samples++ % this.mapEvery === 0) this.mapFrame();
  }

  private mapFrame(): void {
    this.maps.forEach((m, ai) => {
      const a = this.areas[ai]!;
      const counts = new Map<number, Map<number, number>>();
      for (const l of this.liveCma) {
        if (l.cma === null || l.cma.area !== ai) continue;
        let p = l.cma.pfn - a.basePfn;
        const end = p + l.cma.pages;
        while (p < end) {
          const cell = Math.floor(p / m.pagesPerCell);
          const cellEnd = Math.min(end, (cell + 1) * m.pagesPerCell);
          let c = counts.get(cell);
          if (c === undefined) counts.set(cell, (c = new Map()));
          c.set(l.ownerIndex, (c.get(l.ownerIndex) ?? 0) + (cellEnd - p));
          p = cellEnd;
        }
      }
      const cells = new Array<number>(m.cells).fill(-1);
      for (const [cell, c] of counts) {
        let best = -1;
        let bestN = 0;
        for (const [o, nPages] of c) if (nPages > bestN || (nPages === bestN && o < best)) [best, bestN] = [o, nPages];
        if (cell < cells.length) cells[cell] = best;
      }
      // pinned pages (not in the bitmap) and pages allocated that no simulated buffer holds (shrunk): -2
      for (const r of this.k.faults.pinnedRanges(a.name)) {
        for (let p = r.pfn - a.basePfn; p < r.pfn - a.basePfn + r.count; p += m.pagesPerCell) {
          const cell = Math.floor(p / m.pagesPerCell);
          if (cell < cells.length && cells[cell] === -1) cells[cell] = -2;
        }
        const lastCell = Math.floor((r.pfn - a.basePfn + r.count - 1) / m.pagesPerCell);
        if (lastCell < cells.length && cells[lastCell] === -1) cells[lastCell] = -2;
      }
      for (let cell = 0; cell < m.cells; cell++) {
        if (cells[cell] !== -1) continue;
        const first = a.basePfn + cell * m.pagesPerCell;
        if (a.isAllocated(first)) cells[cell] = -2;
      }
      m.frames.push({ t: this.now, cells });
    });
  }

  /** Ends every process of the workload (their fds close) and the engine's own client. */
  shutdown(): void {
    for (const inst of this.insts) if (inst.end === null) this.procStop(inst, null);
    this.initClient.close();
  }
}

