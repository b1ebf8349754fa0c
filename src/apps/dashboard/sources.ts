/**
 * Where the dashboard's data comes from (model.ts): a {@link DashboardSource} gives the current
 * state; the server (server.ts) numbers the states, keeps the timeline and computes the deltas.
 *
 * - {@link emulatedSource}: an emulated kernel read directly from its objects (the dma-buf list,
 *   the processes' fd tables and VMAs, the device registry's attachments, the CMA bitmaps, the
 *   fault injector, the sanitizer), with the controls (alloc, free, fault). Built for 10,000
 *   live buffers at 4 updates a second: a buffer's entry is rebuilt only when something of it
 *   changed, so an unchanged buffer is the same object from one state to the next (the server's
 *   delta then costs one identity check per buffer).
 * - {@link runSource}: a running `dmaheap run`, through its attach socket (op `dashboard`,
 *   answered in the run by an emulated source); read-only.
 * - the real kernel: linux.ts.
 */
import type { Kernel } from '../../kernel/index.js';
import type { DmaBuf } from '../../kernel/dma-buf/dma-buf.js';
import type { CmaArea } from '../../kernel/mm/cma.js';
import type { Process } from '../../kernel/fs/process.js';
import type { File } from '../../kernel/fs/file.js';
import type { SanitizerReport } from '../../kernel/sanitizer/report.js';
import { formatReport } from '../../kernel/sanitizer/report.js';
import { describeHeaps, DmaHeapClient, EmulatedTarget, ErrnoError } from '../../backends/emulated/index.js';
import { parseFaultText } from '../common/fault-spec.js';
import { parseInteger, parseSize, UsageError } from '../common/args.js';
import { attachRequest } from '../common/attach.js';
import type { DashArea, DashBuffer, DashFinding, DashHeap, DashProcess, DashRef, DashSnapshot, DashSource, DashWorkload } from './model.js';

/** A state without what the server adds (its number, its time, the timeline). */
export type DashState = Omit<DashSnapshot, 'seq' | 't' | 'timeline'>;

/** A refusal of a control, answered as `{error: {code, message, hint}}` with `status`. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface AllocRequest {
  readonly heap: string;
  readonly size: number;
  readonly name?: string;
  /** The comm of the process that holds it (spawned on first use; default `dashboard`). */
  readonly process?: string;
}

/** What an emulated machine lets the dashboard do (each is a POST route, server.ts). */
export interface DashControls {
  alloc(req: AllocRequest): object;
  free(ino: number): object;
  fault(spec: string): object;
  /** The workload runner (the lead wires it); absent: the routes answer 409 `no workload`. */
  readonly workload?: { pause(): object; resume(): object; step(us: number): object };
}

export interface DashboardSource {
  readonly kind: DashSource['kind'];
  /** The state now; `t` is milliseconds since the dashboard started (findings' first-seen times). */
  snapshot(t: number): DashState | Promise<DashState>;
  /** Absent for read-only sources: every control is refused. */
  readonly controls?: DashControls;
  close?(): void;
}

// ---- the emulated kernel --------------------------------------------------------------------

/** Deep equality of plain JSON values (no allocation): how unchanged entries keep their object. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/** `next` when it differs from `prev`, else `prev` (so that an unchanged value keeps its identity). */
function keep<T>(prev: T | undefined, next: T): T {
  return prev !== undefined && sameJson(prev, next) ? prev : next;
}

/** What the source keeps per live buffer (forgotten after the update that no longer finds it). */
interface BufCache {
  /** The entry last shown (the same object while nothing of it changes). */
  obj: DashBuffer | null;
  /** Its place in a CMA area (pages of a heap buffer do not move). */
  readonly cma: DashBuffer['cma'];
  /** The refs counted in update `epoch`: `n` numbers, triples pid, fds, maps (reused: no allocation per update). */
  epoch: number;
  n: number;
  readonly refs: number[];
  /** The update that last found it in the dma-buf list. */
  seen: number;
}

export interface EmulatedSourceOptions {
  readonly label: string;
  /** A `dmaheap run`'s kernel: its program owns the machine, the dashboard only reads. */
  readonly readOnly?: boolean;
  readonly kind?: 'emulated' | 'run';
  /** The workload's clock, when one runs (the lead's runner). */
  readonly workload?: () => DashWorkload | null;
  readonly workloadControls?: DashControls['workload'];
}

/** The physical page under a dma-buf's page 0 and its page count, when its exporter says (BufferPages; src/kernel/fs/pagemap.ts filePfn). */
function bufferPages(buf: DmaBuf): { pfn: number; pages: number } | null {
  const mem = buf.priv as { pfnOf?: unknown; pages?: unknown } | null;
  if (mem === null || typeof mem !== 'object' || typeof mem.pfnOf !== 'function' || typeof mem.pages !== 'number' || mem.pages <= 0) return null;
  const pfn = (mem.pfnOf as (i: number) => number).call(mem, 0);
  return typeof pfn === 'number' ? { pfn, pages: mem.pages } : null;
}

/**
 * A CMA area as runs `[first, count, owner]` (model.ts DashArea): the buffers placed in it, then
 * the pinned pages (-2), then the free runs of its bitmap (0), and what is left allocated by
 * someone the dashboard cannot name (-1).
 */
export function areaRuns(pages: number, layers: readonly (readonly { first: number; count: number; owner: number }[])[]): number[] {
  // elementary intervals between every boundary; each takes the first layer that covers it
  const cuts = new Set<number>([0, pages]);
  for (const l of layers) for (const s of l) {
    cuts.add(Math.max(0, Math.min(pages, s.first)));
    cuts.add(Math.max(0, Math.min(pages, s.first + s.count)));
  }
  const points = [...cuts].sort((x, y) => x - y);
  const idx = layers.map(() => 0);
  const out: number[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    let owner = -1;
    for (let l = 0; l < layers.length; l++) {
      const segs = layers[l]!;
      while (idx[l]! < segs.length && segs[idx[l]!]!.first + segs[idx[l]!]!.count <= a) idx[l]!++;
      const s = segs[idx[l]!];
      if (s !== undefined && s.first <= a && s.first + s.count >= b) {
        owner = s.owner;
        break;
      }
    }
    const n = out.length;
    if (n >= 3 && out[n - 1] === owner && out[n - 3]! + out[n - 2]! === a) out[n - 2]! += b - a;
    else out.push(a, b - a, owner);
  }
  return out;
}

/**
 * The emulated kernel as the dashboard shows it, read from the kernel's objects. Refs are
 * counted as /proc shows them (src/api/dmabuf-info.ts): a process holds a buffer through an fd
 * (fdinfo) or a mapping (maps); Pss is size / processes holding it.
 */
export function emulatedSource(kernel: Kernel, opts: EmulatedSourceOptions): DashboardSource {
  const fops = kernel.dmaBuf.fops;
  const source: DashSource = { kind: opts.kind ?? 'emulated', label: opts.label, readOnly: opts.readOnly === true, cannotRead: [] };
  // a Map (faster than a WeakMap here), pruned of released buffers after each update
  const cache = new Map<DmaBuf, BufCache>();
  let heapsPrev: DashHeap[] | undefined;
  let areasPrev: DashArea[] | undefined;
  const areaSig: string[] = [];
  let procsPrev = new Map<number, DashProcess>();
  const findingObjs: DashFinding[] = [];
  const findingCounts: number[] = [];
  let epoch = 0;

  const cacheOf = (buf: DmaBuf): BufCache => {
    let c = cache.get(buf);
    if (c === undefined) {
      let cma: DashBuffer['cma'] = null;
      const bp = bufferPages(buf);
      if (bp !== null) {
        const a = kernel.cmaAreas.find((x) => bp.pfn >= x.basePfn && bp.pfn < x.basePfn + x.count);
        if (a !== undefined) cma = { area: a.name, page: bp.pfn - a.basePfn, pages: bp.pages };
      }
      c = { obj: null, cma, epoch: 0, n: 0, refs: [], seen: 0 };
      cache.set(buf, c);
    }
    return c;
  };
  /** One more fd (or mapping) of `pid` on the buffer: processes are walked in pid order, so its triple is the last one. */
  const hold = (buf: DmaBuf, pid: number, fd: boolean): void => {
    const c = cacheOf(buf);
    if (c.epoch !== epoch) {
      c.epoch = epoch;
      c.n = 0;
    }
    const r = c.refs;
    if (c.n === 0 || r[c.n - 3] !== pid) {
      r[c.n] = pid;
      r[c.n + 1] = 0;
      r[c.n + 2] = 0;
      c.n += 3;
    }
    r[c.n - (fd ? 2 : 1)]!++;
  };
  /** Whether the refs counted this time are the buffer's entry's. */
  const sameRefs = (c: BufCache, refs: readonly DashRef[]): boolean => {
    const n = c.epoch === epoch ? c.n : 0;
    if (refs.length * 3 !== n) return false;
    for (let i = 0; i < refs.length; i++) {
      const x = refs[i]!;
      if (x.pid !== c.refs[3 * i] || x.fds !== c.refs[3 * i + 1] || x.maps !== c.refs[3 * i + 2]) return false;
    }
    return true;
  };

  const state = (t: number): DashState => {
    epoch++;
    // who holds what: one walk over the processes' fd tables and VMAs, in pid order
    const procs: Process[] = [];
    for (const p of kernel.processes.values()) if (p.alive) procs.push(p);
    procs.sort((a, b) => a.pid - b.pid);
    for (const p of procs) {
      for (const fd of p.openFds()) {
        const f: File | null = p.fileRaw(fd);
        if (f !== null && f.fop === fops) hold(f.priv as DmaBuf, p.pid, true);
      }
      for (const v of p.mm.vmas) if (v.file !== null && v.file.fop === fops) hold(v.file.priv as DmaBuf, p.pid, false);
    }
    const importers = new Map<DmaBuf, { device: string; mapped: boolean }[]>();
    for (const h of kernel.devices.handles()) {
      let l = importers.get(h.buf);
      if (l === undefined) importers.set(h.buf, (l = []));
      l.push({ device: h.device.name, mapped: h.sgt !== null });
    }

    const buffers: DashBuffer[] = [];
    const perProc = new Map<number, { rss: number; pss: number; inos: number[] }>();
    const usedByExporter = new Map<string, number>();
    const inArea = new Map<string, { first: number; count: number; owner: number }[]>();
    const NONE: readonly { device: string; mapped: boolean }[] = [];
    for (const buf of kernel.dmaBuf.list) {
      const c = cacheOf(buf);
      c.seen = epoch;
      const imps = importers.get(buf) ?? NONE;
      const o = c.obj;
      const count = buf.file.count;
      if (o === null || o.name !== buf.name || o.count !== count || !sameRefs(c, o.refs) || !sameJson(o.importers, imps)) {
        const n = c.epoch === epoch ? c.n : 0;
        const refs: DashRef[] = [];
        for (let i = 0; i < n; i += 3) refs.push({ pid: c.refs[i]!, fds: c.refs[i + 1]!, maps: c.refs[i + 2]! });
        c.obj = { ino: buf.ino, size: buf.size, name: buf.name, exporter: buf.expName, count, refs, importers: imps === NONE ? [] : imps, cma: c.cma };
      }
      const b = c.obj as DashBuffer;
      buffers.push(b);
      const share = b.refs.length === 0 ? 0 : Math.floor(b.size / b.refs.length);
      for (const r of b.refs) {
        let pp = perProc.get(r.pid);
        if (pp === undefined) perProc.set(r.pid, (pp = { rss: 0, pss: 0, inos: [] }));
        pp.rss += b.size;
        pp.pss += share;
        pp.inos.push(b.ino);
      }
      usedByExporter.set(buf.expName, (usedByExporter.get(buf.expName) ?? 0) + buf.size);
      if (b.cma !== null) {
        let l = inArea.get(b.cma.area);
        if (l === undefined) inArea.set(b.cma.area, (l = []));
        l.push({ first: b.cma.page, count: b.cma.pages, owner: b.ino });
      }
    }

    if (cache.size > kernel.dmaBuf.list.size) for (const [buf, c] of cache) if (c.seen !== epoch) cache.delete(buf);

    const heaps: DashHeap[] = describeHeaps(kernel).map((h) => ({ name: h.name, kind: h.kind, contiguous: h.contiguous, cached: h.cacheable, protected: h.protected, capacity: h.kind === 'system' ? null : h.capacity, used: usedByExporter.get(h.name) ?? 0, area: h.area }));
    heapsPrev = keep(heapsPrev, heaps);

    const areas = kernel.cmaAreas.map((a: CmaArea, i): DashArea => {
      const bufs = inArea.get(a.name) ?? [];
      const pinnedRanges = kernel.faults.pinnedRanges(a.name);
      // the map is redrawn only when the area changed: its free count, its buffers, its pinned pages
      let sig = `${a.availableCount}:${bufs.length}:${pinnedRanges.length}`;
      for (const x of bufs) sig += `,${x.owner}@${x.first}`;
      for (const r of pinnedRanges) sig += `,p${r.pfn}+${r.count}`;
      const prev = areasPrev?.[i];
      if (prev !== undefined && prev.name === a.name && areaSig[i] === sig) return prev;
      areaSig[i] = sig;
      bufs.sort((x, y) => x.first - y.first);
      const pinned = pinnedRanges.map((r) => ({ first: r.pfn - a.basePfn, count: r.count, owner: -2 }));
      const free = a.freeRuns().map((r) => ({ first: r.pfn - a.basePfn, count: r.count, owner: 0 }));
      // maxchunk from the runs just walked, not from a second walk of the bitmap
      const largestFreeRun = free.reduce((m, r) => (r.count > m ? r.count : m), 0);
      const next: DashArea = { name: a.name, basePfn: a.basePfn, pages: a.count, pageSize: kernel.pageSize, freePages: a.availableCount, largestFreeRun, runs: areaRuns(a.count, [bufs, pinned, free]) };
      return keep(prev, next);
    });
    areasPrev = keep(areasPrev, areas);

    const processes: DashProcess[] = [];
    const nextProcs = new Map<number, DashProcess>();
    for (const p of procs) {
      const held = perProc.get(p.pid);
      if (held === undefined) continue;
      const prev = procsPrev.get(p.pid);
      const dp = prev !== undefined && prev.comm === p.comm && prev.rss === held.rss && prev.pss === held.pss && sameJson(prev.buffers, held.inos) ? prev : { pid: p.pid, comm: p.comm, rss: held.rss, pss: held.pss, buffers: held.inos };
      processes.push(dp);
      nextProcs.set(p.pid, dp);
    }
    procsPrev = nextProcs;

    const reports: readonly SanitizerReport[] = kernel.sanitizer?.reports() ?? [];
    for (let i = 0; i < reports.length; i++) {
      const r = reports[i]!;
      if (findingObjs[i] === undefined || findingCounts[i] !== r.count) {
        findingObjs[i] = { id: i + 1, t: findingObjs[i]?.t ?? t, kind: r.kind, severity: r.severity, text: formatReport(r) };
        findingCounts[i] = r.count;
      }
    }
    // the newest 200
    const findings = findingObjs.slice(Math.max(0, reports.length - 200), reports.length);
    return { source, heaps: heapsPrev, areas: areasPrev, buffers, processes, findings, workload: opts.workload?.() ?? null };
  };

  if (opts.readOnly === true) return { kind: source.kind, snapshot: state };
  return { kind: source.kind, snapshot: state, controls: emulatedControls(kernel, opts.workloadControls) };
}

const COMM_MAX = 15;

/** alloc, free and fault on an emulated kernel (the HTTP controls; server.ts checks the JSON shapes). */
export function emulatedControls(kernel: Kernel, workload?: DashControls['workload']): DashControls {
  const holders = new Map<string, Process>();
  const holder = (comm: string): Process => {
    let p = holders.get(comm);
    if (p === undefined || !p.alive) holders.set(comm, (p = kernel.spawn({ uid: 0, gid: 0, groups: [] }, comm)));
    return p;
  };
  const errnoRefusal = (e: unknown, what: string): never => {
    if (e instanceof ErrnoError) throw new ControlError(409, e.code, `${what}: ${e.message}`, e.hint ?? (e.code === 'ENOMEM' ? 'the heap has no room, or a fault (POST /api/fault, --fault) refused it: free a buffer, or allocate less' : `the kernel refused it; a fault rule (POST /api/fault, --fault) may be in force`));
    throw e;
  };
  return {
    ...(workload !== undefined ? { workload } : {}),
    alloc(req) {
      const comm = req.process ?? 'dashboard';
      if (comm === '' || comm.length > COMM_MAX) throw new ControlError(400, 'bad-request', `process: '${comm.slice(0, 40)}' is not a comm (1 to ${COMM_MAX} characters)`, 'give the name of the process that should hold the buffer, e.g. "camera"');
      if (!kernel.heaps().some((h) => h.name === req.heap)) throw new ControlError(404, 'no-heap', `no heap '${req.heap.slice(0, 64)}'`, `the heaps: ${kernel.heaps().map((h) => h.name).join(', ')}`);
      const p = holder(comm);
      const t = new EmulatedTarget(kernel, p);
      const client = new DmaHeapClient(t);
      try {
        const b = client.allocate(req.heap, req.size, req.name !== undefined ? { name: req.name } : {});
        const ino = t.fstat(b.fd).stat?.ino ?? null;
        return { ino, fd: b.fd, pid: p.pid, comm: p.comm, heap: req.heap, size: b.size };
      } catch (e) {
        return errnoRefusal(e, `alloc ${req.size} bytes from ${req.heap}`);
      }
    },
    free(ino) {
      const buf = kernel.dmaBuf.byIno(ino);
      if (buf === null) throw new ControlError(404, 'no-buffer', `no live dma-buf with inode ${ino}`, 'GET /api/snapshot lists the buffers (their ino)');
      let closed = 0;
      let unmapped = 0;
      for (const p of kernel.processes.values()) {
        if (!p.alive) continue;
        for (const fd of p.openFds()) {
          if (p.fileRaw(fd)?.priv === buf && p.close(fd) === 0) closed++;
        }
        for (const v of [...p.mm.vmas]) {
          if (v.file !== null && v.file.priv === buf && p.munmap(v.start, v.end - v.start) === 0) unmapped++;
        }
      }
      const released = !kernel.dmaBuf.list.has(buf);
      return { ino, closed, unmapped, released, ...(released ? {} : { note: 'a kernel reference (an importer, a driver) still holds it' }) };
    },
    fault(spec) {
      const r = parseFaultText(spec, { integer: parseInteger, size: parseSize }, 'spec');
      if ('error' in r) throw new ControlError(400, 'bad-fault', `spec: ${r.error}`, 'the forms: docs/faults.md (e.g. alloc:nth=1,errno=ENOMEM,heap=system)');
      if ('alloc' in r) {
        try {
          const id = kernel.faults.add(r.alloc);
          return { id, kind: 'alloc', rule: r.alloc };
        } catch (e) {
          throw new ControlError(409, 'fault-refused', e instanceof Error ? e.message : String(e), 'check the heap name against GET /api/snapshot');
        }
      }
      const h = kernel.faults.apply(r.memory);
      if (typeof h === 'number') throw new ControlError(409, 'fault-refused', kernel.faults.describeRefusal(r.memory, h), 'a smaller fault, or another area');
      return { id: h.id, kind: h.kind, area: h.area, pages: h.pages };
    },
  };
}

// ---- a running `dmaheap run` ------------------------------------------------------------------

/** Keeps unchanged entries of a state read from elsewhere (JSON) as the previous objects. */
function interned(prev: DashState | null, next: DashState): DashState {
  if (prev === null) return next;
  const byIno = new Map<number, DashBuffer>();
  for (const b of prev.buffers) byIno.set(b.ino, b);
  return {
    ...next,
    source: keep(prev.source, next.source),
    heaps: keep(prev.heaps, next.heaps),
    areas: keep(prev.areas, next.areas),
    processes: keep(prev.processes, next.processes),
    buffers: next.buffers.map((b) => keep(byIno.get(b.ino), b)),
  };
}

/** Whether a value read from the socket has the shape of a state (a bad answer is an error, not a crash). */
function isState(v: unknown): v is DashState {
  if (v === null || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return typeof s['source'] === 'object' && s['source'] !== null && ['heaps', 'areas', 'buffers', 'processes', 'findings'].every((k) => Array.isArray(s[k]));
}

/** A running `dmaheap run` (its pid or socket), read through its attach socket; read-only. */
export function runSource(where: string): DashboardSource {
  let prev: DashState | null = null;
  return {
    kind: 'run',
    async snapshot() {
      const v = await attachRequest(where, { op: 'dashboard' });
      if (!isState(v)) throw new UsageError(`${where}: the run's answer is not a dashboard state`, 'is the run a dmaheap of the same version?');
      prev = interned(prev, v);
      return prev;
    },
  };
}
