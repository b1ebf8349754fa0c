/**
 * The client library: discover heaps and what they are, choose one from requirements (with a
 * udmabuf fallback), allocate (named automatically, off the event loop if the backend can),
 * import and hand off foreign buffers, lay out multi-plane images, map with bounds-checked access
 * that can never outlive an unmap, sync, and report buffers left open (found by the garbage
 * collector, or still open at close()) — over any backend's {@link SyscallTarget}. Kernel errors surface as {@link ErrnoError}s
 * with the errno name, number and syscall. docs/client.md is the guide.
 */
import { DMA_HEAP_ALLOCATION_DATA, DMA_HEAP_IOCTL_ALLOC } from '../uapi/dma-heap.js';
import {
  DMA_BUF_IOCTL_SYNC, DMA_BUF_NAME_LEN, DMA_BUF_SET_NAME_B, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE,
} from '../uapi/dma-buf.js';
import type { ErrnoName } from '../uapi/errno.js';
import type { FcntlConstants } from '../uapi/fcntl.js';
import {
  F_ADD_SEALS, F_DUPFD_CLOEXEC, F_GETFL, F_SEAL_SHRINK, F_SETFD, fcntlConstants, MAP_SHARED, MFD_ALLOW_SEALING, MFD_CLOEXEC, PROT_READ,
  PROT_WRITE, SEEK_END,
} from '../uapi/fcntl.js';
import { utf8Decode, utf8Encode } from '../uapi/struct.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LAYOUT, UDMABUF_FLAGS_CLOEXEC } from '../uapi/udmabuf.js';
import { chooseHeap, describeRequirements } from './choose.js';
import type { HeapChoice, HeapRequirements } from './choose.js';
import { parseFdinfo } from './dmabuf-info.js';
import { ErrnoError, UnmappedError } from './errors.js';
import { inferHeapProperties, readSystemFacts } from './heap-knowledge.js';
import type { HeapInfo, SystemFacts } from './heap-knowledge.js';
import { imageLayout } from './layout.js';
import type { ImageLayout, ImageLayoutOptions, PlaneLayout } from './layout.js';
import { LeakGuard, stackMissing, stackText } from './leak-guard.js';
import type { CapturedStack, LeakGuardOptions, LeakReport, LeakSource } from './leak-guard.js';
import { heapOpenError } from './missing-heap.js';
import type { IoctlResult, MapHandle, SyscallTarget, SysResult } from './target.js';

export type { HeapInfo } from './heap-knowledge.js';

/** Access mode of a dma-buf fd. */
export type Access = 'read' | 'write' | 'rw';
/** DMA_BUF_IOCTL_SYNC phase. */
export type SyncPhase = 'start' | 'end';

/** Options of every allocation. */
export interface AllocateOptions {
  /** Access mode of the buffer's fd (default 'rw'); 'read' is the O_RDONLY the kernel gives a zeroed struct. */
  readonly access?: Access;
  /** Close the fd on exec (default true). */
  readonly cloexec?: boolean;
  /**
   * Buffer name (DMA_BUF_SET_NAME), cut to the kernel's 31 characters; a failure to set it fails
   * the allocation. Left out: the automatic name `<appName>:<purpose>`; null: no name.
   */
  readonly name?: string | null;
  /** The purpose part of the automatic name (default: the heap's name, `udmabuf`, or the image format). */
  readonly purpose?: string;
}

/** Options of {@link DmaHeapClient.allocateFor}. */
export interface AllocateForOptions extends AllocateOptions {
  /** End the fallback chain in udmabuf over a sealed memfd when it fits the requirements (default true). */
  readonly udmabuf?: boolean;
}

/** Options of a {@link DmaHeapClient}. */
export interface DmaHeapClientOptions {
  /**
   * The first part of automatic buffer names, `<appName>:<purpose>` (the names fdinfo,
   * debugfs bufinfo and dmabuf_dump show). Default `dmaheap`; null: no automatic names.
   */
  readonly appName?: string | null;
  /** Facts only the caller can supply (the live device tree's reserved memory), added to the ones the client reads. */
  readonly facts?: SystemFacts;
  /**
   * A guard to share, options for a new one (the default: counts leaks, calls no one, samples
   * allocation stacks), or false for none: then buffers are not tracked at all and
   * {@link DmaHeapClient.close} returns an empty list.
   */
  readonly leakGuard?: LeakGuard | LeakGuardOptions | false;
  /**
   * Keep each heap's /dev/dma_heap node open after its first allocation (default true), as
   * libdmabufheap's BufferAllocator does: an allocation is then one ioctl instead of open,
   * ioctl and close. {@link DmaHeapClient.close} closes them. With false every allocation opens
   * and closes the node, so a heap removed or a permission changed since is seen at once.
   */
  readonly keepHeapsOpen?: boolean;
  /**
   * Called on every allocation (worked or failed), when the client's last reference to a buffer
   * it allocated goes (its fd closed and no mapping left), and when the client closes: a record
   * that `dmaheap simulate` can replay (docs/replay.md). The CLI writes it to a file as JSON
   * lines (`DMAHEAP_CLIENT_TRACE`). Children ({@link DmaHeapClient.spawnChild}) share it.
   */
  readonly trace?: (ev: ClientTraceEvent) => void;
  /** The trace's clock, in microseconds (default: performance.now() × 1000). */
  readonly clock?: () => number;
}

/**
 * One event of a client trace ({@link DmaHeapClientOptions.trace}). `t` is the clock's reading
 * (µs); `client` numbers the clients sharing one trace function (1, 2, ... in creation order);
 * `pid` is the process the client acts as; `buf` numbers the buffers allocated under the trace.
 */
export type ClientTraceEvent =
  | {
      readonly ev: 'alloc'; readonly t: number; readonly client: number; readonly pid: number;
      /** The heap name, or `udmabuf`. */
      readonly heap: string;
      /** Bytes asked for. */
      readonly size: number;
      readonly ok: true; readonly buf: number; readonly fd: number;
      /** The dma-buf's inode (null when fstat could not tell). */
      readonly ino: number | null;
    }
  | { readonly ev: 'alloc'; readonly t: number; readonly client: number; readonly pid: number; readonly heap: string; readonly size: number; readonly ok: false; readonly errno: ErrnoName }
  | {
      /** The client's last reference to the buffer went: its fd was closed and no mapping is left (another process may still hold it). */
      readonly ev: 'free'; readonly t: number; readonly client: number; readonly pid: number; readonly buf: number; readonly fd: number; readonly ino: number | null;
    }
  /** The client was closed (its process ended): every buffer it still held went with it. */
  | { readonly ev: 'close'; readonly t: number; readonly client: number; readonly pid: number };

/** Numbers of the clients and buffers under one trace function. */
interface TraceCounters {
  clients: number;
  buffers: number;
}
const traceCounters = new WeakMap<(ev: ClientTraceEvent) => void, TraceCounters>();

function defaultClock(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return Math.round((perf?.now() ?? Date.now()) * 1000);
}

/** The tracing state of one client. */
interface ClientTracer {
  readonly emit: (ev: ClientTraceEvent) => void;
  readonly clock: () => number;
  readonly client: number;
  readonly pid: number;
  readonly counters: TraceCounters;
}

/** What a traced buffer reports when the client's last reference to it goes. */
interface BufferTrace {
  readonly tracer: ClientTracer;
  readonly buf: number;
}
/** Gives a buffer the client allocated its trace (set by DmaBuffer's static block: the field stays private). */
let setBufferTrace: (b: DmaBuffer, t: BufferTrace) => void;

/** One provider tried by an allocation, and its errno (null: it worked). */
export interface AllocationAttempt {
  /** A heap name, or `udmabuf`. */
  readonly provider: string;
  /** The errno it failed with; null for the one that worked. */
  readonly error: ErrnoName | null;
}

/** How a buffer came to be: which path, which provider, what was tried, and why. */
export interface AllocationRecord {
  /** `heap`: DMA_HEAP_IOCTL_ALLOC; `udmabuf`: a sealed memfd through UDMABUF_CREATE; `import`: a foreign fd. */
  readonly path: 'heap' | 'udmabuf' | 'import';
  /** The heap name, `udmabuf`, or the exporter of an imported buffer. */
  readonly provider: string;
  /** What allocateFor was asked for (null: by name, or imported). */
  readonly requirements: HeapRequirements | null;
  /** Every provider tried, in order; the last one succeeded. */
  readonly attempts: readonly AllocationAttempt[];
  /** One line, e.g. `allocated from heap "reserved" after "default_cma_region" failed (ENOMEM); chose ...`. */
  readonly explanation: string;
}

/** What a child process needs to use a buffer (JSON-serialisable: pass it in argv, env or a pipe). */
export interface BufferHandoff {
  /** The fd number in the child. */
  readonly fd: number;
  /** The buffer's inode: the child checks it ({@link DmaHeapClient.importHandoff}). */
  readonly inode: number;
  /** Bytes. */
  readonly size: number;
  /** Heap name, `udmabuf`, or the exporter. */
  readonly exporter: string;
  /** The buffer's name (DMA_BUF_SET_NAME), null when unnamed. */
  readonly name: string | null;
  /** Access mode of the fd. */
  readonly access: Access;
}

/** Thrown by allocateFor when every provider failed or none fits: an ErrnoError with the story. */
export class AllocationError extends ErrnoError {
  constructor(
    code: ErrnoName,
    /** The providers tried, in order. */
    readonly attempts: readonly AllocationAttempt[],
    /** The choice the attempts followed. */
    readonly choice: HeapChoice,
    hint: string,
  ) {
    super(code, 'allocate', undefined, hint);
  }
}

/** Errors after which allocateFor tries the next provider (the heap is full, missing or closed to us). */
const NEXT_PROVIDER: ReadonlySet<ErrnoName> = new Set<ErrnoName>(['ENOMEM', 'ENOSPC', 'EACCES', 'EPERM', 'ENOENT', 'ENODEV', 'ENXIO', 'EBUSY']);

function check(r: SysResult, syscall: string, path?: string): number {
  if (r.errno !== null) throw new ErrnoError(r.errno, syscall, path);
  return r.ret;
}

function positiveSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a non-negative integer number of bytes, not ${size}`);
}

const q = (s: string): string => `"${s}"`;

/**
 * A buffer name as the kernel takes it: UTF-8, at most DMA_BUF_NAME_LEN - 1 bytes (longer is
 * EINVAL: strndup_user in dma_buf_set_name, drivers/dma-buf/dma-buf.c), cut between characters.
 * `bytes` is the byte string for {@link SyscallTarget.ioctlString} (one character per byte).
 */
export function kernelName(name: string): { text: string; bytes: string } {
  const known = kernelNames.get(name);
  if (known !== undefined) return known;
  const n = Object.freeze(cutName(name));
  if (kernelNames.size >= 64) kernelNames.clear();
  kernelNames.set(name, n);
  return n;
}

/** Names already cut and encoded (an application names its buffers with a few names). */
const kernelNames = new Map<string, { text: string; bytes: string }>();

function cutName(name: string): { text: string; bytes: string } {
  let text = '';
  let bytes = '';
  for (const ch of name) {
    const b = utf8Encode(ch);
    if (bytes.length + b.length > DMA_BUF_NAME_LEN - 1) break;
    text += ch;
    bytes += String.fromCharCode(...b);
  }
  return { text, bytes };
}

/** A name the kernel printed (one character per byte) as text: UTF-8 when it is valid UTF-8, else as it is. */
function nameFromKernel(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return s;
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return s;
  const b = Uint8Array.from(s, (c) => c.charCodeAt(0));
  const d = utf8Decode(b, 0, b.length);
  return d.includes('\ufffd') ? s : d;
}

const never = (): boolean => false;
/** The options of a call without any (shared: no object per allocation). */
const NO_OPTIONS: AllocateOptions = Object.freeze({});

/** Writes a dma_heap_allocation_data: len (u64), fd 0, fd_flags, heap_flags 0. */
function fillAllocArg(dv: DataView, len: number, fdFlags: number): void {
  dv.setUint32(0, len % 0x1_0000_0000, true);
  dv.setUint32(4, Math.floor(len / 0x1_0000_0000), true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, fdFlags, true);
  dv.setUint32(16, 0, true);
  dv.setUint32(20, 0, true);
}

/** The little-endian u32 at `at`. */
function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** What a new DmaBuffer gets besides the fd (the client fills it in). */
export interface DmaBufferInfo {
  /** The buffer's inode (fstat st_ino); left out, it is fetched (one fstat) when first asked for. */
  readonly inode?: number | null;
  /** The name the buffer already has. */
  readonly name?: string | null;
  /** How it came to be. */
  readonly provenance?: AllocationRecord | null;
  /** Tracks the buffer until it is closed. */
  readonly leakGuard?: LeakGuard | null;
  /** The allocation stack for the guard's report (formatted only if a leak is reported); default: none ('off'). */
  readonly stack?: CapturedStack;
  /** True when the client is gone (its process ended): no leak to report then. */
  readonly stale?: () => boolean;
  /** The owner's list of open buffers (the client's own): the buffer is in it from construction to close (only with a leakGuard). */
  readonly openBuffers?: OpenBuffers;
}

/**
 * A client's open buffers, by fd: an array indexed by the fd (the kernel hands out the lowest free
 * numbers), which costs an allocation less than a Map would; listed oldest first.
 */
export class OpenBuffers {
  private readonly byFd: (BufferRecord | undefined)[] = [];
  private seq = 0;

  /** Adds a buffer's record (one under the same fd, closed behind the client's back, is replaced); returns its sequence number. */
  add(rec: BufferRecord): number {
    this.byFd[rec.fd] = rec;
    return ++this.seq;
  }

  /** Removes a record, if it is still the one under its fd. */
  remove(rec: BufferRecord): void {
    if (this.byFd[rec.fd] === rec) this.byFd[rec.fd] = undefined;
  }

  /** The records, oldest first. */
  list(): BufferRecord[] {
    const out: BufferRecord[] = [];
    for (const r of this.byFd) if (r !== undefined) out.push(r);
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Forgets them all. */
  clear(): void {
    this.byFd.length = 0;
  }
}

/**
 * What a client keeps per open buffer, and what its leak guard holds: enough to report the
 * buffer without the DmaBuffer object (which it must not keep alive). The inode is fetched
 * (fstat) only for a report, unless the buffer learnt it first.
 */
export class BufferRecord implements LeakSource {
  /** The buffer's name, as far as this process knows. */
  name: string | null;
  /** The inode: undefined until someone asked. */
  ino: number | null | undefined;
  /** Reported already (by a collection): the client's close() returns it but does not report it again. */
  reported = false;
  /** Order of allocation in the owner's list (0 without one). */
  readonly seq: number;

  constructor(
    private readonly target: SyscallTarget,
    readonly fd: number,
    readonly size: number,
    readonly heap: string,
    name: string | null,
    ino: number | null | undefined,
    /** The allocation stack, unformatted. */
    readonly stack: CapturedStack,
    private readonly guard: LeakGuard,
    private readonly book: OpenBuffers | null,
    private readonly stale: () => boolean,
  ) {
    this.name = name;
    this.ino = ino;
    this.seq = book === null ? 0 : book.add(this);
  }

  /** The inode, fetched with fstat the first time (null when the fd cannot tell: closed, or the process ended). */
  inode(): number | null {
    if (this.ino === undefined && !this.stale()) {
      const st = this.target.fstat(this.fd);
      if (st.errno === null) this.ino = st.stat!.ino;
    }
    return this.ino ?? null;
  }

  /** The report of this buffer now (formats the stack; may fstat for the inode). */
  toReport(detectedBy: 'gc' | 'close'): LeakReport {
    const missing = stackMissing(this.stack);
    const base = { fd: this.fd, inode: this.inode(), size: this.size, heap: this.heap, name: this.name, stack: stackText(this.stack) };
    return missing === undefined ? { ...base, detectedBy } : { ...base, stackMissing: missing, detectedBy };
  }

  /** The guard's question after a collection: the report, or null when the owner's process ended. */
  leakReport(): LeakReport | null {
    if (this.stale()) return null;
    this.reported = true;
    return this.toReport('gc');
  }

  /** The buffer was closed: out of the guard and the owner's list. */
  drop(): void {
    this.guard.untrack(this);
    this.book?.remove(this);
  }
}

/** A process's view of the heaps and its buffers. */
export class DmaHeapClient {
  private readonly session = { closed: false };
  /** Heap nodes kept open ({@link DmaHeapClientOptions.keepHeapsOpen}), by heap name. */
  private readonly heapFds = new Map<string, number>();
  /** The one dma_heap_allocation_data of the synchronous allocations (the kernel writes the fd back into it). */
  private readonly allocArg = new Uint8Array(DMA_HEAP_ALLOCATION_DATA.size);
  private readonly allocView = new DataView(this.allocArg.buffer);
  /** The buffers open now (with a leak guard): what close() reports. */
  private readonly open = new OpenBuffers();
  /** Every buffer's "is the client gone" (one function for all of them). */
  private readonly stale = (): boolean => this.session.closed;
  /** Automatic names by purpose (the same string each time: kernelName finds it at once). */
  private readonly autoNames = new Map<string, string>();
  /** Allocation records by heap name ({@link allocate}: the same for every buffer). */
  private readonly byName = new Map<string, AllocationRecord>();
  /** The target's open flags (fetched once). */
  private fc: FcntlConstants | null = null;
  /** The trace ({@link DmaHeapClientOptions.trace}), or null. */
  private readonly tracer: ClientTracer | null;
  /** The guard that reports buffers left open: collected while open, or open at {@link close} (null: none). */
  readonly leakGuard: LeakGuard | null;
  /** The first part of automatic names (null: none). */
  readonly appName: string | null;

  constructor(
    /** The process the client acts as. */
    readonly target: SyscallTarget,
    private readonly options: DmaHeapClientOptions = {},
  ) {
    const g = options.leakGuard;
    this.leakGuard = g === false ? null : g instanceof LeakGuard ? g : new LeakGuard(g ?? {});
    this.appName = options.appName === undefined ? 'dmaheap' : options.appName;
    const emit = options.trace;
    if (emit !== undefined) {
      let counters = traceCounters.get(emit);
      if (counters === undefined) {
        counters = { clients: 0, buffers: 0 };
        traceCounters.set(emit, counters);
      }
      this.tracer = { emit, clock: options.clock ?? defaultClock, client: ++counters.clients, pid: target.getpid(), counters };
    } else {
      this.tracer = null;
    }
  }

  /** Runs one allocation from `provider`, reporting it to the trace (worked, or its errno). */
  private traceAlloc(tr: ClientTracer, provider: string, size: number, f: () => DmaBuffer): DmaBuffer {
    const t = tr.clock();
    let buf: DmaBuffer;
    try {
      buf = f();
    } catch (e) {
      if (e instanceof ErrnoError) tr.emit({ ev: 'alloc', t, client: tr.client, pid: tr.pid, heap: provider, size, ok: false, errno: e.code });
      throw e;
    }
    this.tracedAlloc(tr, t, provider, size, buf);
    return buf;
  }

  private tracedAlloc(tr: ClientTracer, t: number, provider: string, size: number, buf: DmaBuffer): void {
    const id = ++tr.counters.buffers;
    try {
      tr.emit({ ev: 'alloc', t, client: tr.client, pid: tr.pid, heap: provider, size, ok: true, buf: id, fd: buf.fd, ino: buf.inode });
    } catch (e) {
      // a trace function that throws: the caller never gets the buffer, so nothing stays open
      buf.close();
      throw e;
    }
    setBufferTrace(buf, { tracer: tr, buf: id });
  }

  /** True after {@link close}. */
  get isClosed(): boolean {
    return this.session.closed;
  }

  // ---- discovery ----------------------------------------------------------------------------

  /**
   * The facts this process can read (release, /proc/meminfo, /sys/kernel/mm/cma, /dev/udmabuf,
   * the backend's exact description), plus the client's `facts` and `extra` (later wins).
   * `exact: false` leaves the backend's description out, to see what a real system would infer.
   */
  systemFacts(opts: { facts?: SystemFacts; exact?: boolean } = {}): SystemFacts {
    const read = readSystemFacts(this.target, { exact: opts.exact !== false });
    return { ...read, ...definedOf(this.options.facts), ...definedOf(opts.facts) };
  }

  /**
   * The heaps in /dev/dma_heap, each with what is known about it and where that came from
   * ({@link HeapInfo.properties}: `exact` on the emulated backend; device tree, sysfs, meminfo
   * or name elsewhere).
   */
  heaps(opts: { facts?: SystemFacts; exact?: boolean } = {}): HeapInfo[] {
    return this.heapsWith(this.systemFacts(opts));
  }

  private heapsWith(facts: SystemFacts): HeapInfo[] {
    const names = this.target.listHeaps();
    return names.map((name) => ({ name, path: `/dev/dma_heap/${name}`, properties: inferHeapProperties(name, facts, names) }));
  }

  /** {@link chooseHeap} over this system's heaps (fresh facts). */
  choose(req: HeapRequirements = {}, opts: { facts?: SystemFacts; exact?: boolean } = {}): HeapChoice {
    const facts = this.systemFacts(opts);
    return chooseHeap(this.heapsWith(facts), req, { udmabuf: facts.udmabuf ?? null });
  }

  // ---- allocation ---------------------------------------------------------------------------

  /**
   * Allocates `size` bytes (rounded up to whole pages by the kernel) from heap `heap`, named
   * `<appName>:<heap>` unless `opts` says otherwise.
   * @throws ErrnoError ENOENT for an unknown heap (its message names the heaps there are and the
   * likely reason, such as the `cma=` and `default_cma_region` renames: {@link explainMissingHeap}),
   * EACCES without permission, EINVAL for a size of 0, ENOMEM when the heap is full
   */
  allocate(heap: string, size: number, opts: AllocateOptions = NO_OPTIONS): DmaBuffer {
    positiveSize(size);
    return this.allocFromHeap(heap, size, opts, this.leakGuard?.capture(DmaHeapClient.prototype.allocate) ?? 'off', this.recordByName(heap));
  }

  /** The provenance of an allocation by name: one frozen record per heap. */
  private recordByName(heap: string): AllocationRecord {
    let r = this.byName.get(heap);
    if (r === undefined) {
      r = byName(heap);
      if (this.byName.size < 64) this.byName.set(heap, r);
    }
    return r;
  }

  /**
   * {@link allocate} as a Promise. A backend with {@link SyscallTarget.ioctlAsync} (the Linux
   * backend, on the libuv pool) runs the allocation ioctl off the event loop; otherwise (the
   * emulated kernel) it runs in a microtask, so the Promise settles after the current code but
   * the work itself still happens on this thread.
   */
  allocateAsync(heap: string, size: number, opts: AllocateOptions = {}): Promise<DmaBuffer> {
    return this.allocateAsyncWith(heap, size, opts, this.leakGuard?.capture(DmaHeapClient.prototype.allocateAsync) ?? 'off', this.recordByName(heap));
  }

  /** One synchronous allocation from `heap`: the preallocated struct, passed in place. */
  private allocFromHeap(heap: string, size: number, opts: AllocateOptions, stack: CapturedStack, record: AllocationRecord): DmaBuffer {
    const tr = this.tracer;
    if (tr !== null) return this.traceAlloc(tr, heap, size, () => this.allocFromHeapUntraced(heap, size, opts, stack, record));
    return this.allocFromHeapUntraced(heap, size, opts, stack, record);
  }

  private allocFromHeapUntraced(heap: string, size: number, opts: AllocateOptions, stack: CapturedStack, record: AllocationRecord): DmaBuffer {
    // the kept node without building anything; else openHeap
    let h = this.heapFds.get(heap);
    let kept = true;
    if (h === undefined) ({ h, kept } = this.openHeap(heap));
    const arg = this.allocArg;
    fillAllocArg(this.allocView, size, this.fdFlags(opts));
    const r = this.target.ioctlInPlace(h, DMA_HEAP_IOCTL_ALLOC, arg);
    this.doneWithHeap(heap, h, kept, r);
    if (r.errno !== null) throw new ErrnoError(r.errno, 'ioctl', `/dev/dma_heap/${heap}`);
    return this.adopt(readU32(arg, 8), this.pageAligned(size), heap, opts.access ?? 'rw', opts, heap, stack, record);
  }

  /**
   * The size of a heap buffer of `size` bytes: the heap core page-aligns the length before any
   * heap sees it, and the heaps export exactly that (@kernel drivers/dma-buf/dma-heap.c
   * dma_heap_buffer_alloc: PAGE_ALIGN(len); heaps/system_heap.c, heaps/cma_heap.c: exp_info.size =
   * len; the oracle's probe: 1 byte → st_size 4096, 4097 → 8192). Known without an fstat.
   */
  private pageAligned(size: number): number {
    const ps = this.target.pageSize;
    return Math.ceil(size / ps) * ps;
  }

  private async allocateAsyncWith(heap: string, size: number, opts: AllocateOptions, stack: CapturedStack, record: AllocationRecord): Promise<DmaBuffer> {
    const t = this.target;
    if (t.ioctlAsync === undefined) {
      await Promise.resolve();
      positiveSize(size);
      return this.allocFromHeap(heap, size, opts, stack, record);
    }
    positiveSize(size);
    const tr = this.tracer;
    if (tr === null) return this.allocAsyncIoctl(heap, size, opts, stack, record);
    const t0 = tr.clock();
    let buf: DmaBuffer;
    try {
      buf = await this.allocAsyncIoctl(heap, size, opts, stack, record);
    } catch (e) {
      if (e instanceof ErrnoError) tr.emit({ ev: 'alloc', t: t0, client: tr.client, pid: tr.pid, heap, size, ok: false, errno: e.code });
      throw e;
    }
    this.tracedAlloc(tr, t0, heap, size, buf);
    return buf;
  }

  private async allocAsyncIoctl(heap: string, size: number, opts: AllocateOptions, stack: CapturedStack, record: AllocationRecord): Promise<DmaBuffer> {
    const ioctlAsync = this.target.ioctlAsync!.bind(this.target);
    const { h, path, kept } = this.openHeap(heap);
    // calls may overlap: each has its own struct
    const arg = new Uint8Array(DMA_HEAP_ALLOCATION_DATA.size);
    fillAllocArg(new DataView(arg.buffer), size, this.fdFlags(opts));
    let r: IoctlResult;
    try {
      r = await ioctlAsync(h, DMA_HEAP_IOCTL_ALLOC, arg);
    } catch (e) {
      this.doneWithHeap(heap, h, kept, null);
      throw e;
    }
    this.doneWithHeap(heap, h, kept, r);
    check(r, 'ioctl', path);
    return this.adopt(readU32(r.out!, 8), this.pageAligned(size), heap, opts.access ?? 'rw', opts, heap, stack, record);
  }

  /**
   * The heap's node: the one kept open, or a new open (read-only is enough to allocate:
   * libdmabufheap, "Do not open heap device in RW mode"), kept when the client keeps them.
   */
  private openHeap(heap: string): { h: number; path: string; kept: boolean } {
    const path = `/dev/dma_heap/${heap}`;
    const was = this.heapFds.get(heap);
    if (was !== undefined) return { h: was, path, kept: true };
    const fc = fcntlConstants(this.target.arch);
    const r = this.target.open(path, fc.O_RDONLY | fc.O_CLOEXEC);
    // the failure path only: an ENOENT names the heaps there are and why this one is missing
    if (r.errno !== null) throw heapOpenError(this.target, heap, path, r.errno);
    const h = r.ret;
    if (this.options.keepHeapsOpen === false || this.session.closed) return { h, path, kept: false };
    this.heapFds.set(heap, h);
    return { h, path, kept: true };
  }

  /**
   * After an allocation: a node opened for it is closed; a kept one stays, unless the ioctl says
   * the fd is no longer the node (EBADF: closed behind the client's back; ENOTTY: the number
   * now names another file). It is then forgotten without closing it (it is not ours any more),
   * and the next allocation opens the node again.
   */
  private doneWithHeap(heap: string, h: number, kept: boolean, r: SysResult | null): void {
    if (!kept) {
      this.target.close(h);
      return;
    }
    if (r !== null && (r.errno === 'EBADF' || r.errno === 'ENOTTY')) this.heapFds.delete(heap);
  }

  private fdFlags(opts: AllocateOptions): number {
    const fc = (this.fc ??= fcntlConstants(this.target.arch));
    const acc = opts.access ?? 'rw';
    return (acc === 'rw' ? fc.O_RDWR : acc === 'write' ? fc.O_WRONLY : fc.O_RDONLY) | ((opts.cloexec ?? true) ? fc.O_CLOEXEC : 0);
  }

  /**
   * Wraps a new fd of `size` bytes (known: no fstat; the inode is fetched when first asked for),
   * with leak tracking and the name. Closes the fd when naming it explicitly fails.
   */
  private adopt(fd: number, size: number, provider: string, access: Access, opts: AllocateOptions, purpose: string, stack: CapturedStack, record: AllocationRecord): DmaBuffer {
    const buf = new DmaBuffer(this.target, fd, size, provider, access, { provenance: record, leakGuard: this.leakGuard, stack, stale: this.stale, openBuffers: this.open });
    if (opts.name !== undefined) {
      if (opts.name === null) return buf;
      try {
        buf.setName(opts.name);
      } catch (e) {
        buf.close();
        throw e;
      }
    } else if (this.appName !== null) {
      buf.trySetName(this.autoName(opts.purpose ?? purpose));
    }
    return buf;
  }

  /** The automatic name `<appName>:<purpose>`, built once per purpose. */
  private autoName(purpose: string): string {
    let n = this.autoNames.get(purpose);
    if (n === undefined) {
      n = `${this.appName}:${purpose}`;
      if (this.autoNames.size < 64) this.autoNames.set(purpose, n);
    }
    return n;
  }

  /**
   * `size` bytes (rounded up to whole pages) of a sealed memfd turned into a dma-buf, as
   * libcamera's DmaBufAllocator does: memfd_create(MFD_ALLOW_SEALING), ftruncate,
   * F_ADD_SEALS(F_SEAL_SHRINK), UDMABUF_CREATE on /dev/udmabuf, then the memfd is closed (the
   * dma-buf keeps its pages). The fd is always O_RDWR. Needs no heap and no access to
   * /dev/dma_heap; /dev/udmabuf is what desktop distributions grant users (systemd#33738).
   * @throws ErrnoError ENOENT without /dev/udmabuf, EINVAL above its size_limit_mb (64 MiB by default)
   */
  allocateUdmabuf(size: number, opts: AllocateOptions = {}): DmaBuffer {
    return this.udmabufWith(size, opts, this.leakGuard?.capture(DmaHeapClient.prototype.allocateUdmabuf) ?? 'off', { path: 'udmabuf', provider: 'udmabuf', requirements: null, attempts: [{ provider: 'udmabuf', error: null }], explanation: 'udmabuf over a sealed memfd, asked for by name' });
  }

  private udmabufWith(size: number, opts: AllocateOptions, stack: CapturedStack, record: AllocationRecord): DmaBuffer {
    const tr = this.tracer;
    if (tr !== null) return this.traceAlloc(tr, 'udmabuf', size, () => this.udmabufUntraced(size, opts, stack, record));
    return this.udmabufUntraced(size, opts, stack, record);
  }

  private udmabufUntraced(size: number, opts: AllocateOptions, stack: CapturedStack, record: AllocationRecord): DmaBuffer {
    positiveSize(size);
    const t = this.target;
    const fc = fcntlConstants(t.arch);
    // 0 stays 0: the kernel refuses an empty udmabuf with EINVAL, as a heap refuses len 0
    const len = Math.ceil(size / t.pageSize) * t.pageSize;
    const memfdName = (typeof opts.name === 'string' ? opts.name : this.appName === null ? 'dmaheap' : `${this.appName}:${opts.purpose ?? 'udmabuf'}`).slice(0, 249);
    const m = check(t.memfdCreate(memfdName, MFD_ALLOW_SEALING | MFD_CLOEXEC), 'memfd_create');
    try {
      check(t.ftruncate(m, len), 'ftruncate');
      check(t.fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK), 'fcntl');
      const u = check(t.open('/dev/udmabuf', fc.O_RDWR | fc.O_CLOEXEC), 'open', '/dev/udmabuf');
      try {
        const arg = new Uint8Array(UDMABUF_CREATE_LAYOUT.size);
        const dv = new DataView(arg.buffer);
        dv.setUint32(0, m, true);
        dv.setUint32(4, (opts.cloexec ?? true) ? UDMABUF_FLAGS_CLOEXEC : 0, true);
        dv.setBigUint64(8, 0n, true);
        dv.setBigUint64(16, BigInt(len), true);
        const fd = check(t.ioctl(u, UDMABUF_CREATE, arg), 'ioctl', '/dev/udmabuf');
        return this.adopt(fd, len, 'udmabuf', 'rw', opts, 'udmabuf', stack, record);
      } finally {
        t.close(u);
      }
    } finally {
      t.close(m);
    }
  }

  /**
   * Allocates `size` bytes from the best heap for `req` ({@link chooseHeap} on fresh facts),
   * trying the next candidate when one fails for lack of memory or permission (ENOMEM, EACCES,
   * ENOENT, ...), and last udmabuf over a sealed memfd when it fits the requirements. The buffer's
   * {@link DmaBuffer.provenance} records the path taken and why.
   * @throws AllocationError (an ErrnoError: the last errno, ENOENT when nothing fits) listing every attempt
   */
  allocateFor(req: HeapRequirements, size: number, opts: AllocateForOptions = {}): DmaBuffer {
    positiveSize(size);
    const stack = this.leakGuard?.capture(DmaHeapClient.prototype.allocateFor) ?? 'off';
    const choice = this.choose({ ...req, size });
    const attempts: AllocationAttempt[] = [];
    for (const cand of choice.candidates) {
      try {
        return this.withRecord(cand.name, attempts, choice, req, (rec) => this.allocFromHeap(cand.name, size, opts, stack, rec));
      } catch (e) {
        if (!isNext(e)) throw e;
        attempts.push({ provider: cand.name, error: e.code });
      }
    }
    return this.udmabufOrFail(size, opts, stack, attempts, choice, req);
  }

  /**
   * The end of allocateFor: udmabuf over a sealed memfd when it fits the requirements (EINVAL
   * there, above the driver's size_limit_mb, also moves on), else the AllocationError listing
   * every attempt.
   */
  private udmabufOrFail(size: number, opts: AllocateForOptions, stack: CapturedStack, attempts: AllocationAttempt[], choice: HeapChoice, req: HeapRequirements): DmaBuffer {
    if (choice.udmabuf.ok && opts.udmabuf !== false) {
      try {
        return this.withRecord('udmabuf', attempts, choice, req, (rec) => this.udmabufWith(size, opts, stack, rec));
      } catch (e) {
        if (!(e instanceof ErrnoError) || !(NEXT_PROVIDER.has(e.code) || e.code === 'EINVAL')) throw e;
        attempts.push({ provider: 'udmabuf', error: e.code });
      }
    }
    throw failure(attempts, choice, req, opts);
  }

  /** {@link allocateFor} as a Promise; each heap allocation goes through {@link allocateAsync}'s path. */
  async allocateForAsync(req: HeapRequirements, size: number, opts: AllocateForOptions = {}): Promise<DmaBuffer> {
    const stack = this.leakGuard?.capture(DmaHeapClient.prototype.allocateForAsync) ?? 'off';
    await Promise.resolve();
    positiveSize(size);
    const choice = this.choose({ ...req, size });
    const attempts: AllocationAttempt[] = [];
    for (const cand of choice.candidates) {
      try {
        const rec = recordFor(cand.name, 'heap', [...attempts, { provider: cand.name, error: null }], choice, req);
        return await this.allocateAsyncWith(cand.name, size, opts, stack, rec);
      } catch (e) {
        if (!isNext(e)) throw e;
        attempts.push({ provider: cand.name, error: e.code });
      }
    }
    return this.udmabufOrFail(size, opts, stack, attempts, choice, req);
  }

  private withRecord(provider: string, attempts: readonly AllocationAttempt[], choice: HeapChoice, req: HeapRequirements, f: (rec: AllocationRecord) => DmaBuffer): DmaBuffer {
    const path = provider === 'udmabuf' ? 'udmabuf' : 'heap';
    return f(recordFor(provider, path, [...attempts, { provider, error: null }], choice, req));
  }

  /**
   * A multi-plane image in one buffer: the layout of {@link imageLayout}, allocated from `heap`
   * or, without one, by {@link allocateFor} with `requirements`; the automatic name's purpose is
   * `<format>-<width>x<height>` (e.g. `nv12-1920x1080`).
   */
  allocateImage(opts: AllocateImageOptions): ImageBuffer {
    const layout = imageLayout(opts);
    const a: AllocateForOptions = { ...opts, purpose: opts.purpose ?? `${opts.format.toLowerCase()}-${layout.width}x${layout.height}` };
    const buf = opts.heap !== undefined ? this.allocate(opts.heap, layout.size, a) : this.allocateFor(opts.requirements ?? {}, layout.size, a);
    return new ImageBuffer(buf, layout, this.target.pageSize);
  }

  // ---- foreign buffers ----------------------------------------------------------------------

  /**
   * Takes a dma-buf fd that came from elsewhere (another process, a driver, a library): checks
   * it is one — fstat, then /proc/self/fdinfo's exp_name (or, on kernels before 5.12 without
   * it, the /proc/self/fd link `/dmabuf:`) — and identifies it by inode. The DmaBuffer owns
   * the fd (it closes it); `dup: true` owns a duplicate instead and leaves `fd` to the caller.
   * @throws ErrnoError EBADF for a closed fd, EINVAL for an fd that is not a dma-buf (the hint
   * says what it is)
   */
  importFd(fd: number, opts: { dup?: boolean } = {}): DmaBuffer {
    const stack = this.leakGuard?.capture(DmaHeapClient.prototype.importFd) ?? 'off';
    const info = this.inspect(fd);
    return this.importInspected(fd, info, opts.dup === true, stack);
  }

  /** Imports a buffer handed to this process ({@link DmaBuffer.handoff}), checking it is the same buffer (inode). */
  importHandoff(h: BufferHandoff): DmaBuffer {
    const stack = this.leakGuard?.capture(DmaHeapClient.prototype.importHandoff) ?? 'off';
    const info = this.inspect(h.fd);
    if (info.inode !== h.inode) throw new ErrnoError('EBADF', 'import', undefined, `fd ${h.fd} is inode ${info.inode}, not the handed-off buffer (inode ${h.inode})`);
    return this.importInspected(h.fd, info, false, stack);
  }

  private inspect(fd: number): { inode: number; exporter: string; size: number; name: string | null; access: Access } {
    const t = this.target;
    const st = t.fstat(fd);
    if (st.errno !== null) throw new ErrnoError(st.errno, 'fstat', undefined, `fd ${fd}`);
    const text = t.readFile(`/proc/self/fdinfo/${fd}`).text;
    const info = text === null ? null : parseFdinfo(text);
    const link = t.readlink(`/proc/self/fd/${fd}`).text;
    let exporter = info?.exporter ?? null;
    if (exporter === null) {
      if (link !== null && (link.startsWith('/dmabuf:') || link === 'anon_inode:dmabuf')) exporter = '<unknown>';
      else throw new ErrnoError('EINVAL', 'import', undefined, `fd ${fd} is not a dma-buf: ${link === null ? 'its /proc/self/fd link cannot be read' : `/proc/self/fd/${fd} -> ${link}`}, and its fdinfo has no exp_name`);
    }
    const fc = fcntlConstants(t.arch);
    const fl = check(t.fcntl(fd, F_GETFL), 'fcntl') & fc.O_ACCMODE;
    const access: Access = fl === fc.O_RDWR ? 'rw' : fl === fc.O_WRONLY ? 'write' : 'read';
    const size = info?.size ?? check(t.lseek(fd, 0, SEEK_END), 'lseek');
    const raw = info?.name ?? (link !== null && link.startsWith('/dmabuf:') && link.length > 8 ? link.slice(8) : null);
    const name = raw === null ? null : nameFromKernel(raw);
    return { inode: st.stat!.ino, exporter, size, name, access };
  }

  private importInspected(fd: number, info: { inode: number; exporter: string; size: number; name: string | null; access: Access }, dup: boolean, stack: CapturedStack): DmaBuffer {
    const own = dup ? check(this.target.fcntl(fd, F_DUPFD_CLOEXEC, 0), 'fcntl') : fd;
    const record: AllocationRecord = {
      path: 'import',
      provider: info.exporter,
      requirements: null,
      attempts: [],
      explanation: `imported fd ${fd}${dup ? ` as fd ${own}` : ''}: a dma-buf exported by ${q(info.exporter)} (inode ${info.inode})`,
    };
    const buf = new DmaBuffer(this.target, own, info.size, info.exporter, info.access, {
      inode: info.inode, name: info.name, provenance: record, leakGuard: this.leakGuard, stack, stale: this.stale, openBuffers: this.open,
    });
    return buf;
  }

  /**
   * A client in a child process of this one ({@link SyscallTarget.spawn}: fork and exec, fds
   * without FD_CLOEXEC inherited under the same numbers); the child gets the same options.
   * @throws ErrnoError ENOSYS when the backend cannot start processes (use
   * `buffer.handoff({ childFd })` with child_process.spawn's stdio array instead)
   */
  spawnChild(comm?: string): DmaHeapClient {
    const spawn = this.target.spawn?.bind(this.target);
    if (spawn === undefined) throw new ErrnoError('ENOSYS', 'spawn', undefined, 'this backend cannot start a process: hand the fd over with buffer.handoff({ childFd }) and child_process.spawn stdio');
    return new DmaHeapClient(spawn(comm), this.options);
  }

  /**
   * The buffers open now (allocated or imported by this client and not closed), oldest first, as
   * the reports {@link close} would make of them; nothing is reported. Empty without a leak guard.
   * Each entry may cost an fstat (for an inode not fetched yet) and formats a stack.
   */
  openBuffers(): LeakReport[] {
    if (this.session.closed) return [];
    return this.open.list().map((r) => r.toReport('close'));
  }

  /**
   * Ends the client's process: every fd closed, every mapping dropped. Returns the buffers that
   * were still open (allocated or imported and never closed), oldest first, each with its
   * allocation stack when one was captured ({@link LeakGuardOptions.captureStacks}), and reports
   * each to the leak guard (counted in {@link LeakGuard.leaked}, passed to its `onLeak`) unless a
   * collection already reported it. Nothing is printed. Without a leak guard: an empty list. A
   * second call returns an empty list.
   */
  close(): LeakReport[] {
    if (this.session.closed) return [];
    // the reports before the process ends (one may need the fd: the inode); reported after it
    // ended, so that an onLeak that throws leaves nothing open
    const g = this.leakGuard;
    const recs = this.open.list();
    const left = recs.map((rec) => rec.toReport('close'));
    for (const rec of recs) g?.untrack(rec);
    this.open.clear();
    this.session.closed = true;
    for (const h of this.heapFds.values()) this.target.close(h);
    this.heapFds.clear();
    this.target.dispose();
    const tr = this.tracer;
    if (tr !== null) tr.emit({ ev: 'close', t: tr.clock(), client: tr.client, pid: tr.pid });
    if (g !== null) {
      recs.forEach((rec, i) => {
        if (!rec.reported) g.report(left[i]!);
        rec.reported = true;
      });
    }
    return left;
  }
}

function definedOf(f: SystemFacts | undefined): SystemFacts {
  if (f === undefined) return {};
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as SystemFacts;
}

function isNext(e: unknown): e is ErrnoError {
  return e instanceof ErrnoError && NEXT_PROVIDER.has(e.code);
}

function byName(heap: string): AllocationRecord {
  const attempts = Object.freeze([Object.freeze({ provider: heap, error: null })]);
  return Object.freeze({ path: 'heap', provider: heap, requirements: null, attempts, explanation: `heap ${q(heap)}, asked for by name` });
}

function recordFor(provider: string, path: 'heap' | 'udmabuf', attempts: readonly AllocationAttempt[], choice: HeapChoice, req: HeapRequirements): AllocationRecord {
  const failed = attempts.filter((a) => a.error !== null);
  const from = path === 'udmabuf' ? 'udmabuf over a sealed memfd' : `heap ${q(provider)}`;
  const after = failed.length === 0 ? '' : ` after ${failed.map((a) => `${q(a.provider)} failed (${a.error})`).join(', ')}`;
  return { path, provider, requirements: req, attempts, explanation: `allocated from ${from}${after}; ${choice.explanation}` };
}

function failure(attempts: readonly AllocationAttempt[], choice: HeapChoice, req: HeapRequirements, opts: AllocateForOptions): AllocationError {
  const last = attempts[attempts.length - 1];
  const tried = attempts.length === 0 ? 'nothing to try' : `tried ${attempts.map((a) => `${q(a.provider)} (${a.error})`).join(', ')}`;
  const off = opts.udmabuf === false && choice.udmabuf.ok ? '; the udmabuf fallback is off' : '';
  return new AllocationError(last?.error ?? 'ENOENT', attempts, choice, `${describeRequirements(req)}: ${tried}${off}; ${choice.explanation}`);
}

/** Options of {@link DmaHeapClient.allocateImage}. */
export interface AllocateImageOptions extends ImageLayoutOptions, AllocateForOptions {
  /** Allocate from this heap (by name); without it the requirements choose. */
  readonly heap?: string;
  /** What {@link DmaHeapClient.allocateFor} gets when no heap is named. */
  readonly requirements?: HeapRequirements;
}

/** A dma-buf fd owned by this process. */
export class DmaBuffer {
  private open = true;
  /** Live mappings (made on the first map()). */
  private maps: Set<Mapping> | null = null;
  /** The name set on the buffer (DMA_BUF_SET_NAME), as far as this process knows. */
  name: string | null;
  /** The inode; undefined until first asked for ({@link inode}). */
  private ino: number | null | undefined;
  /** How the buffer came to be (null for one made by hand). */
  readonly provenance: AllocationRecord | null;
  /** Why the automatic name could not be set (it does not fail the allocation); null when it was set. */
  nameError: ErrnoError | null = null;
  /** The owner's and the leak guard's record of this buffer (null without a guard). */
  private readonly record: BufferRecord | null;
  /** True once the owning client was closed: its process ended, with every fd and mapping. */
  private readonly gone: () => boolean;
  /** The client's trace (null: none): told when the last reference (fd or mapping) goes. */
  private trace: BufferTrace | null;

  constructor(
    private readonly target: SyscallTarget,
    /** The dma-buf fd. */
    readonly fd: number,
    /**
     * Size in bytes (page aligned). For an allocation, the request rounded up to whole pages, as
     * the heap core rounds it before any heap sees it (no fstat); for an import, what fdinfo says.
     */
    readonly size: number,
    /** Heap name, `udmabuf`, or the exporter of an imported buffer. */
    readonly heap: string,
    /** Access mode of the fd. */
    readonly access: Access,
    info: DmaBufferInfo = {},
  ) {
    this.ino = info.inode;
    this.name = info.name ?? null;
    this.provenance = info.provenance ?? null;
    this.trace = null;
    const gone = info.stale ?? never;
    this.gone = gone;
    const guard = info.leakGuard ?? null;
    if (guard !== null) {
      // the stack stays unformatted: most buffers are released and never pay for the text
      const rec = new BufferRecord(target, fd, size, heap, this.name, this.ino, info.stack ?? 'off', guard, info.openBuffers ?? null, gone);
      this.record = rec;
      guard.track(this, rec);
    } else {
      this.record = null;
    }
  }

  /**
   * The buffer's inode: its identity in fdinfo, /proc/<pid>/maps and dmabuf_dump. Fetched with
   * one fstat of {@link fd} the first time it is read or the buffer is mapped (an allocation does
   * not pay for it), then kept; null when that fstat fails (the fd was closed behind the library)
   * or the buffer was closed, never mapped, before anyone asked.
   */
  get inode(): number | null {
    let ino = this.ino;
    if (ino === undefined) {
      if (!this.isOpen) return null;
      const st = this.target.fstat(this.fd);
      if (st.errno !== null) return null;
      ino = st.stat!.ino;
      this.ino = ino;
      if (this.record !== null) this.record.ino = ino;
    }
    return ino;
  }

  /** The fd is still open (false after {@link close}, and after the client's close()). */
  get isOpen(): boolean {
    return this.open && !this.gone();
  }

  private live(what: string): void {
    if (!this.open) throw new ErrnoError('EBADF', what, undefined, 'the buffer was closed');
    if (this.gone()) throw new ErrnoError('EBADF', what, undefined, 'the client was closed: its process ended, and every fd with it');
  }

  /**
   * Maps the buffer (MAP_SHARED). The mapping stays valid after {@link close} until it is
   * unmapped, as in the kernel. Access is bounds-checked and refused after unmap.
   */
  map(opts: { writable?: boolean; offset?: number; length?: number } = {}): Mapping {
    this.live('mmap');
    // a mapping can outlive the fd: learn the inode (the mapping's identity in /proc/<pid>/maps) while the fd can tell
    if (this.ino === undefined) void this.inode;
    const writable = opts.writable ?? this.access === 'rw';
    const offset = opts.offset ?? 0;
    const length = opts.length ?? this.size - offset;
    const r = this.target.mmap(length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, this.fd, offset);
    check(r, 'mmap');
    const maps = (this.maps ??= new Set());
    const m = new Mapping(this.target, r.map!, writable, () => {
      maps.delete(m);
      if (!this.open && maps.size === 0) this.traceFree();
    }, this.gone);
    maps.add(m);
    return m;
  }

  /** DMA_BUF_IOCTL_SYNC: bracket CPU access ('start' before, 'end' after); EINTR and EAGAIN are retried. */
  sync(access: Access, phase: SyncPhase): void {
    this.live('ioctl');
    const flags = (access === 'read' ? DMA_BUF_SYNC_READ : access === 'write' ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_RW) | (phase === 'end' ? DMA_BUF_SYNC_END : DMA_BUF_SYNC_START);
    const arg = new Uint8Array(8);
    arg[0] = flags;
    for (;;) {
      const r = this.target.ioctl(this.fd, DMA_BUF_IOCTL_SYNC, arg);
      // the uAPI documentation: "can fail with EAGAIN or EINTR, restart it"
      if (r.errno === 'EINTR' || r.errno === 'EAGAIN') continue;
      check(r, 'ioctl');
      return;
    }
  }

  /** Runs `fn` between a START and an END sync of `access`; the END runs even if `fn` throws. */
  cpuAccess<T>(access: Access, fn: () => T): T {
    this.sync(access, 'start');
    try {
      return fn();
    } finally {
      this.sync(access, 'end');
    }
  }

  /**
   * DMA_BUF_SET_NAME with the name's UTF-8 bytes; a name longer than the kernel's 31 bytes is cut
   * to the characters that fit (never inside a character). {@link name} is then what fdinfo shows.
   */
  setName(name: string): void {
    this.setKernelName(kernelName(name));
  }

  /** DMA_BUF_SET_NAME with a name already cut and encoded by {@link kernelName}. */
  private setKernelName(n: { text: string; bytes: string }): void {
    this.live('ioctl');
    check(this.target.ioctlString(this.fd, DMA_BUF_SET_NAME_B, n.bytes), 'ioctl');
    this.name = n.text;
    if (this.record !== null) this.record.name = n.text;
  }

  /** {@link setName} that records a failure in {@link nameError} instead of throwing; true when the name was set. */
  trySetName(name: string): boolean {
    try {
      this.setKernelName(kernelName(name));
      this.nameError = null;
      return true;
    } catch (e) {
      if (!(e instanceof ErrnoError)) throw e;
      this.nameError = e;
      return false;
    }
  }

  /**
   * Checks that {@link fd} still refers to this buffer (fstat's inode): an fd closed behind the
   * library's back and reused for another file is caught here instead of corrupting it.
   * @throws ErrnoError EBADF when the fd is closed or now another file
   */
  checkIdentity(): void {
    this.live('fstat');
    const st = this.target.fstat(this.fd);
    const known = this.ino;
    if (st.errno !== null) throw new ErrnoError(st.errno, 'fstat', undefined, `fd ${this.fd} of buffer inode ${known ?? '(not fetched yet)'}`);
    const { ino, size } = st.stat!;
    if (known === undefined) {
      // the inode was never fetched: the size is all there is to compare; from now on the inode
      if (size !== this.size) throw new ErrnoError('EBADF', 'fstat', undefined, `fd ${this.fd} is now a file of ${size} bytes, not this ${this.size}-byte buffer`);
      this.ino = ino;
      if (this.record !== null) this.record.ino = ino;
      return;
    }
    if (known !== null && ino !== known) throw new ErrnoError('EBADF', 'fstat', undefined, `fd ${this.fd} is now inode ${ino}, not this buffer (inode ${known})`);
  }

  /**
   * What a child process needs to use this buffer. With `childFd`, the caller passes {@link fd}
   * to the child under that number (Node: `child_process.spawn(cmd, args, { stdio: [0, 1, 2,
   * buf.fd] })` gives it fd 3); without, the fd is made inheritable (FD_CLOEXEC cleared) and
   * keeps its number, for a child started by {@link DmaHeapClient.spawnChild} or by fork and exec.
   * The child calls {@link DmaHeapClient.importHandoff}.
   */
  handoff(opts: { childFd?: number } = {}): BufferHandoff {
    this.live('fcntl');
    if (opts.childFd === undefined) check(this.target.fcntl(this.fd, F_SETFD, 0), 'fcntl');
    if (this.inode === null) this.checkIdentity();
    return { fd: opts.childFd ?? this.fd, inode: this.inode ?? check(this.target.fstat(this.fd), 'fstat'), size: this.size, exporter: this.heap, name: this.name, access: this.access };
  }

  /**
   * Passes the buffer to the process of `to` (SCM_RIGHTS, {@link SyscallTarget.sendFd}) and
   * returns it as that client's buffer; this one stays open. On any failure nothing stays in
   * `to`'s process: a closed `to` is refused before anything is sent, and an fd that arrived
   * but cannot be imported is closed there again.
   * @throws ErrnoError EPIPE when `to` was closed (its process ended), ENOSYS when the backend
   * cannot pass fds between its processes
   */
  sendTo(to: DmaHeapClient): DmaBuffer {
    this.live('sendmsg');
    if (to.isClosed) throw new ErrnoError('EPIPE', 'sendmsg', undefined, 'the receiving client was closed: its process ended, so nothing was sent');
    const send = this.target.sendFd?.bind(this.target);
    if (send === undefined) throw new ErrnoError('ENOSYS', 'sendmsg', undefined, 'this backend cannot pass fds between processes');
    const fd = check(send(this.fd, to.target), 'sendmsg');
    try {
      return to.importFd(fd);
    } catch (e) {
      to.target.close(fd);
      throw e;
    }
  }

  /**
   * Closes the fd. Mappings stay usable until unmapped; the memory goes with the last one. After
   * the client's close() there is nothing left to close: it does nothing.
   */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.record?.drop();
    if (this.gone()) return;
    check(this.target.close(this.fd), 'close');
    if (this.maps === null || this.maps.size === 0) this.traceFree();
  }

  static {
    setBufferTrace = (b, t) => {
      b.trace = t;
    };
  }

  /** The client's last reference went: the trace's `free` (once). */
  private traceFree(): void {
    const t = this.trace;
    if (t === null || this.gone()) return;
    this.trace = null;
    const tr = t.tracer;
    tr.emit({ ev: 'free', t: tr.clock(), client: tr.client, pid: tr.pid, buf: t.buf, fd: this.fd, ino: this.ino ?? null });
  }

  /** Unmaps every mapping and closes the fd. */
  release(): void {
    if (this.maps !== null) for (const m of [...this.maps]) m.unmap();
    this.close();
  }
}

/** A CPU mapping of a buffer with bounds-checked access that fails cleanly after unmap. */
export class Mapping {
  private map: MapHandle | null;
  constructor(
    private readonly target: SyscallTarget,
    map: MapHandle,
    /** Mapped with PROT_WRITE. */
    readonly writable: boolean,
    private readonly onUnmap: () => void,
    /** True once the owning client was closed (its process ended: no mapping is left). */
    private readonly gone: () => boolean = never,
  ) {
    this.map = map;
  }

  /** The live handle: null after unmap and after the client's close(). */
  private get handle(): MapHandle | null {
    return this.gone() ? null : this.map;
  }

  /** Bytes mapped (0 after unmap). */
  get length(): number {
    return this.handle?.length ?? 0;
  }
  /** False after {@link unmap}, and after the client's close(). */
  get isMapped(): boolean {
    return this.handle !== null;
  }

  private range(what: string, offset: number, length: number): MapHandle {
    const m = this.handle;
    if (m === null) throw new UnmappedError(what);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > m.length) {
      throw new RangeError(`${what}: [${offset}, ${offset + length}) is outside the mapping [0, ${m.length})`);
    }
    return m;
  }

  /** A copy of `length` bytes at `offset`. */
  read(offset = 0, length = this.length - offset): Uint8Array {
    const m = this.range('read', offset, length);
    const r = this.target.readMem(m, offset, length);
    if (typeof r === 'string') throw new Error(`read: the process was killed by ${r}`);
    return r;
  }

  /**
   * Copies `dst.length` bytes at `offset` into `dst` and returns it: {@link read} without the
   * allocation, for a loop that reads every frame into one array (a fresh 64 MiB array per read
   * costs more than the copy: bench/linux).
   */
  readInto(dst: Uint8Array, offset = 0): Uint8Array {
    const m = this.range('readInto', offset, dst.length);
    const f = this.target.readMemInto(m, offset, dst);
    if (f !== null) throw new Error(`readInto: the process was killed by ${f}`);
    return dst;
  }

  /** Writes `data` at `offset`. */
  write(offset: number, data: Uint8Array): void {
    const m = this.range('write', offset, data.length);
    if (!this.writable) throw new ErrnoError('EACCES', 'write', undefined, 'the mapping is read-only; map with { writable: true } on an O_RDWR buffer');
    const f = this.target.writeMem(m, offset, data);
    if (f !== null) throw new Error(`write: the process was killed by ${f}`);
  }

  /** Fills `length` bytes at `offset` with `value`. */
  fill(value: number, offset = 0, length = this.length - offset): void {
    this.range('fill', offset, length);
    this.write(offset, new Uint8Array(length).fill(value));
  }

  /** munmap; later access throws {@link UnmappedError}. After the client's close() there is nothing to unmap. */
  unmap(): void {
    const m = this.map;
    if (m === null) return;
    this.map = null;
    this.onUnmap();
    if (this.gone()) return;
    check(this.target.munmap(m), 'munmap');
  }
}

/** A multi-plane image in one buffer ({@link DmaHeapClient.allocateImage}). */
export class ImageBuffer {
  constructor(
    /** The one buffer that holds every plane. */
    readonly buffer: DmaBuffer,
    /** Where each plane is. */
    readonly layout: ImageLayout,
    /** The page size: plane views map whole pages. */
    readonly pageSize: number,
  ) {}

  /** The planes, in buffer order. */
  get planes(): readonly PlaneLayout[] {
    return this.layout.planes;
  }

  /**
   * Maps the pages that hold plane `index` and returns a view limited to the plane: offsets
   * are relative to the plane, rows to its height, and nothing outside it can be reached.
   */
  mapPlane(index: number, opts: { writable?: boolean } = {}): PlaneView {
    const plane = this.layout.planes[index];
    if (plane === undefined) throw new RangeError(`plane ${index}: a ${this.layout.format} image has planes 0..${this.layout.planes.length - 1}`);
    const ps = this.pageSize;
    const start = Math.floor(plane.offset / ps) * ps;
    const end = Math.ceil((plane.offset + plane.size) / ps) * ps;
    const m = this.buffer.map({ ...opts, offset: start, length: end - start });
    return new PlaneView(m, plane, plane.offset - start);
  }

  /** Unmaps every view and closes the buffer. */
  release(): void {
    this.buffer.release();
  }
}

/** One plane of a mapped image: bounds-checked to the plane. */
export class PlaneView {
  constructor(
    private readonly mapping: Mapping,
    /** The plane this view is limited to. */
    readonly plane: PlaneLayout,
    private readonly base: number,
  ) {}

  /** False after {@link unmap} or the buffer's release(). */
  get isMapped(): boolean {
    return this.mapping.isMapped;
  }

  private span(what: string, offset: number, length: number): number {
    const p = this.plane;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > p.size) {
      throw new RangeError(`${what}: [${offset}, ${offset + length}) is outside plane ${p.index} (${p.name}) [0, ${p.size})`);
    }
    return this.base + offset;
  }

  private row(what: string, y: number): number {
    const p = this.plane;
    if (!Number.isSafeInteger(y) || y < 0 || y >= p.rows) throw new RangeError(`${what}: row ${y} is outside plane ${p.index} (${p.name}) rows [0, ${p.rows})`);
    return y * p.stride;
  }

  /** A copy of `length` bytes at `offset` in the plane (padding included). */
  read(offset = 0, length = this.plane.size - offset): Uint8Array {
    return this.mapping.read(this.span('read', offset, length), length);
  }

  /** {@link Mapping.readInto} within the plane: `dst.length` bytes at `offset` into `dst`. */
  readInto(dst: Uint8Array, offset = 0): Uint8Array {
    return this.mapping.readInto(dst, this.span('readInto', offset, dst.length));
  }

  /** Writes `data` at `offset` in the plane. */
  write(offset: number, data: Uint8Array): void {
    this.mapping.write(this.span('write', offset, data.length), data);
  }

  /** The image bytes of row `y` (rowBytes, without the stride padding). */
  readRow(y: number): Uint8Array {
    return this.read(this.row('readRow', y), this.plane.rowBytes);
  }

  /** Writes row `y`; `data` may be shorter than a row, never longer. */
  writeRow(y: number, data: Uint8Array): void {
    const at = this.row('writeRow', y);
    if (data.length > this.plane.rowBytes) throw new RangeError(`writeRow: ${data.length} bytes do not fit a row of plane ${this.plane.index} (${this.plane.name}), ${this.plane.rowBytes} bytes`);
    this.write(at, data);
  }

  /** Fills the whole plane (padding included) with `value`. */
  fill(value: number): void {
    this.write(0, new Uint8Array(this.plane.size).fill(value));
  }

  /** Unmaps the plane's pages; later access throws {@link UnmappedError}. */
  unmap(): void {
    this.mapping.unmap();
  }
}
