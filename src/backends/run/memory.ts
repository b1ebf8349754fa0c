/**
 * The memory `dmaheap run` shares with the program:
 *
 * - {@link MemfdBuffers}: every exported heap buffer's bytes live in a host memfd of the buffer's
 *   size. The emulator's page runs are views of the memfd mapped here; the program gets the same
 *   memfd behind its dma-buf fd, so its mmap() maps the very same pages (writes show up on both
 *   sides, with no copy). When the emulator frees the buffer, the mapping here is replaced by
 *   fresh anonymous memory (a stale view then reads zeros instead of faulting) and the memfd is
 *   closed.
 * - {@link ProcessMemory}: the program's own memory for the emulated calls' copy_from_user()
 *   and copy_to_user(), with process_vm_readv/process_vm_writev (which fail at a page the program
 *   cannot access instead of faulting, as the kernel's copies give EFAULT).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Libc } from '../linux/libc.js';
import type { BackingStats, HostMemory, PageRun } from '../../kernel/mm/backing.js';
import type { UserMemoryPort } from '../../kernel/fs/mm-remote.js';
import { hideInMaps, hideInSmaps } from './shim-traces.js';
import type { ShimTraces } from './shim-traces.js';

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_NORESERVE = 0x4000;
const PROT_NONE = 0;
const MFD_CLOEXEC = 1;
/** Largest koffi.view made over one run (views near 4 GiB abort Node 20). */
const VIEW_MAX = 1 << 30;
/**
 * Address space reserved once (PROT_NONE, nothing committed) for the mappings of small buffers'
 * memfds, with one koffi view over all of it: a buffer's bytes are then a subarray, where a view
 * of its own costs about 2 µs of every ALLOC (an external ArrayBuffer for V8 to make and sweep).
 */
const ARENA_BYTES = 256 << 20;
/** Buffers up to this size take a slot of the arena; larger ones get a mapping and views of their own. */
const ARENA_MAX = 1 << 20;

/** The buffer readProc reads into (grown to the largest file read so far, at most PROC_MAX). */
let procBuf = Buffer.alloc(16384);
const PROC_MAX = 64 << 20;

/**
 * A file of the host's /proc as text (latin1), or null when it cannot be read: open, read into
 * one reused buffer, close. readFileSync costs several times more on these files, whose size
 * fstat gives as 0. A file larger than PROC_MAX is cut there.
 */
export function readProc(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    let got = 0;
    for (;;) {
      if (got === procBuf.length) {
        if (procBuf.length >= PROC_MAX) break;
        const bigger = Buffer.alloc(Math.min(procBuf.length * 2, PROC_MAX));
        procBuf.copy(bigger, 0, 0, got);
        procBuf = bigger;
      }
      const n = readSync(fd, procBuf, got, procBuf.length - got, null);
      if (n <= 0) break;
      got += n;
    }
    return procBuf.toString('latin1', 0, got);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** How the host's memfds behind emulated files show in /proc/<pid>/maps and fd links (`dmaheap:buf:<id>`, `dmaheap:file:<id>`). */
export const BUFFER_MEMFD = '/memfd:dmaheap:';

/** A line of /proc/<pid>/maps: its range, its path column ('' for anonymous memory) and the line. */
export interface MapsLine {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  /** The file offset of `start` (the third column). */
  readonly offset: number;
  readonly line: string;
}

/** One buffer's host memory. */
export interface BufferMemory {
  /** The buffer (its struct dma_buf). */
  readonly owner: object;
  /** The memfd (an fd of this process), named `dmaheap:buf:<id>`. */
  readonly fd: number;
  readonly id: number;
  readonly addr: number;
  readonly bytes: number;
  /** Its offset in the arena, or -1 (a mapping of its own). */
  readonly slot: number;
}

interface Arena {
  readonly addr: number;
  readonly view: ArrayBuffer;
  /** The arena below this offset has been handed out at least once. */
  next: number;
  /** Slots given back, by size (a freed buffer's slot holds anonymous zero pages until reused). */
  readonly free: Map<number, number[]>;
}

export class MemfdBuffers implements HostMemory {
  private seq = 0;
  private readonly byOwner = new Map<object, BufferMemory>();
  readonly byId = new Map<number, BufferMemory>();
  /** Why the last bind failed (the buffer then keeps emulator memory, which the program cannot map). */
  lastError: string | null = null;
  /**
   * A memfd the program made for the next buffer (the preload shim's fast ALLOC, taken with
   * pidfd_getfd and named `dmaheap:buf:<id>` with an id from {@link reserveId}; `size`: its
   * length, already the buffer's when the shim sized it): the next bind uses it instead of making
   * one, and clears this.
   */
  adopt: { fd: number; id: number; size: number } | null = null;

  constructor(private readonly libc: Libc) {}

  /** undefined: not tried yet; null: the reservation failed (every buffer maps on its own). */
  private arena: Arena | null | undefined = undefined;

  private arenaSlot(bytes: number): { arena: Arena; slot: number } | null {
    if (bytes > ARENA_MAX) return null;
    if (this.arena === undefined) {
      const l = this.libc;
      const addr = l.mmap(0, ARENA_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      this.arena = addr === -1 ? null : { addr, view: l.koffi.view(addr, ARENA_BYTES), next: 0, free: new Map() };
    }
    const a = this.arena;
    if (a === null) return null;
    const reused = a.free.get(bytes)?.pop();
    if (reused !== undefined) return { arena: a, slot: reused };
    if (a.next + bytes > ARENA_BYTES) return null;
    a.next += bytes;
    return { arena: a, slot: a.next - bytes };
  }

  private freeSlot(bytes: number, slot: number): void {
    const a = this.arena;
    if (a === null || a === undefined || slot < 0) return;
    const list = a.free.get(bytes);
    if (list === undefined) a.free.set(bytes, [slot]);
    else list.push(slot);
  }

  bind(owner: object, runs: readonly PageRun[], bytes: number, acct: BackingStats): void {
    const l = this.libc;
    if (bytes <= 0 || runs.some((r) => r.bytes > VIEW_MAX)) {
      this.lastError = `a buffer of ${bytes} bytes has a run larger than ${VIEW_MAX} bytes`;
      return;
    }
    const adopted = this.adopt;
    this.adopt = null;
    const id = adopted?.id ?? ++this.seq;
    const fd = adopted?.fd ?? l.memfdCreate(`dmaheap:buf:${id}`, MFD_CLOEXEC);
    if (fd < 0) {
      this.lastError = `memfd_create failed (errno ${l.koffi.errno()})`;
      return;
    }
    if (adopted?.size !== bytes && l.ftruncate(fd, bytes) < 0) {
      this.lastError = `ftruncate(${bytes}) of a memfd failed (errno ${l.koffi.errno()})`;
      l.close(fd);
      return;
    }
    // a slot of the arena (MAP_FIXED over the slot's reserved or zero pages), else anywhere
    const s = this.arenaSlot(bytes);
    const addr = s !== null
      ? l.mmap(s.arena.addr + s.slot, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0)
      : l.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr === -1) {
      this.lastError = `mmap of ${bytes} bytes failed (errno ${l.koffi.errno()})`;
      if (s !== null) this.freeSlot(bytes, s.slot);
      l.close(fd);
      return;
    }
    let at = 0;
    for (const r of runs) {
      const view = s !== null ? new Uint8Array(s.arena.view, s.slot + at, r.bytes) : new Uint8Array(l.koffi.view(addr + at, r.bytes));
      if (r.data !== null) view.set(r.data);
      else acct.backedBytes += r.bytes;
      r.data = view;
      at += r.bytes;
    }
    const m = { owner, fd, id, addr, bytes, slot: s?.slot ?? -1 };
    this.byOwner.set(owner, m);
    this.byId.set(id, m);
  }

  /** An id no buffer has or will be given by bind() itself (for a memfd made elsewhere). */
  reserveId(): number {
    return ++this.seq;
  }

  /** The memory of a buffer (its struct dma_buf), or undefined when it has none here. */
  of(owner: object): BufferMemory | undefined {
    return this.byOwner.get(owner);
  }

  /** The buffer was freed: its pages go back to the host. */
  release(owner: object): void {
    const m = this.byOwner.get(owner);
    if (m === undefined) return;
    this.byOwner.delete(owner);
    this.byId.delete(m.id);
    // the views stay valid (anonymous zero pages), the memfd's pages go with its last reference;
    // an arena slot is given to a later buffer of the same size (the heap dropped this one's
    // page runs, so no view of the emulator's points there any more)
    this.libc.mmap(m.addr, m.bytes, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    this.freeSlot(m.bytes, m.slot);
    // the close frees the memfd's pages: after the answer that is waiting (flush), or now when
    // many are waiting
    this.closing.push(m.fd);
    if (this.closing.length >= CLOSE_BATCH) this.flush();
  }

  private readonly closing: number[] = [];

  /** Closes the memfds of freed buffers (the supervisor calls this after each answer). */
  flush(): void {
    for (const fd of this.closing) this.libc.close(fd);
    this.closing.length = 0;
  }

  /** Buffers still holding host memory (freed ones whose memfd waits for flush() included). */
  get live(): number {
    return this.byOwner.size + this.closing.length;
  }
}

/** Freed buffers whose memfds wait for {@link MemfdBuffers.flush} at most. */
const CLOSE_BATCH = 64;

/** Scratch memory for process_vm_readv/writev (malloc'ed once, never freed). */
const SCRATCH = 1 << 20;

export class ProcessMemory implements UserMemoryPort {
  private scratch: { addr: number; view: Uint8Array } | null = null;
  /** The fast path's traces in each process (by pid), kept out of its maps and smaps (shim-traces.ts). */
  readonly shimTraces = new Map<number, ShimTraces>();
  private readonly iov = Buffer.alloc(32);

  constructor(
    private readonly libc: Libc,
    private readonly pageSize: number = 4096,
  ) {}

  private buf(): { addr: number; view: Uint8Array } {
    if (this.scratch === null) {
      const p = this.libc.malloc(SCRATCH);
      if (p === 0) throw new Error('malloc failed');
      this.scratch = { addr: p, view: new Uint8Array(this.libc.koffi.view(p, SCRATCH)) };
    }
    return this.scratch;
  }

  private xfer(pid: number, addr: number, data: Uint8Array, write: boolean): number {
    const s = this.buf();
    const iov = this.iov;
    let done = 0;
    while (done < data.length) {
      const n = Math.min(SCRATCH, data.length - done);
      iov.writeBigUInt64LE(BigInt(s.addr), 0);
      iov.writeBigUInt64LE(BigInt(n), 8);
      iov.writeBigUInt64LE(BigInt(addr + done), 16);
      iov.writeBigUInt64LE(BigInt(n), 24);
      let got: number;
      if (write) {
        s.view.set(data.subarray(done, done + n));
        got = this.libc.processVmWritev(pid, iov.subarray(0, 16), 1, iov.subarray(16, 32), 1, 0);
      } else {
        got = this.libc.processVmReadv(pid, iov.subarray(0, 16), 1, iov.subarray(16, 32), 1, 0);
        if (got > 0) data.set(s.view.subarray(0, got), done);
      }
      if (got <= 0) return done;
      done += got;
      if (got < n) return done;
    }
    return done;
  }

  /**
   * The preload shim's copies for the call being served (its fast ALLOC): the bytes it read at
   * `addr` and passed in the call's arguments (the next read of exactly that range gets them),
   * and the range it copies out itself when the call succeeds (the next write of exactly that
   * range is left to it). Set by the bridge for one call and cleared after it.
   */
  shimCopies: { pid: number; addr: number; read: Uint8Array | null; write: number } | null = null;

  read(pid: number, addr: number, into: Uint8Array): number {
    const c = this.shimCopies;
    if (c !== null && c.read !== null && c.pid === pid && c.addr === addr && c.read.length === into.length) {
      into.set(c.read);
      c.read = null;
      return into.length;
    }
    return this.xfer(pid, addr, into, false);
  }

  write(pid: number, addr: number, data: Uint8Array): number {
    const c = this.shimCopies;
    if (c !== null && c.write === data.length && c.pid === pid && c.addr === addr) {
      c.write = -1;
      return data.length;
    }
    return this.xfer(pid, addr, data, true);
  }

  /** One entry of the real /proc/<pid>/pagemap (the page of `addr`). */
  pagemapEntry(pid: number, addr: number): bigint | null {
    let fd = -1;
    try {
      fd = openSync(`/proc/${pid}/pagemap`, 'r');
      const b = Buffer.alloc(8);
      if (readSync(fd, b, 0, 8, Math.floor(addr / this.pageSize) * 8) !== 8) return null;
      return b.readBigUInt64LE(0);
    } catch {
      return null;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  /**
   * The real /proc/<pid>/smaps in blocks, a buffer's block (its mirror is the emulator's) marked,
   * with its Rss and Referenced in bytes.
   */
  smaps(pid: number): { start: number; text: string; mirror: boolean; rss: number; referenced: number }[] {
    const text = readProc(`/proc/${pid}/smaps`);
    if (text === null) return [];
    const out: { start: number; text: string; mirror: boolean; rss: number; referenced: number }[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
        out.push({ start: parseInt(line.slice(0, line.indexOf('-')), 16), text: '', mirror: line.includes(BUFFER_MEMFD), rss: 0, referenced: 0 });
      }
      const b = out[out.length - 1];
      if (b === undefined) continue;
      b.text += line + '\n';
      const r = /^(Rss|Referenced):\s+(\d+) kB$/.exec(line);
      if (r !== null) b[r[1] === 'Rss' ? 'rss' : 'referenced'] = Number(r[2]) * 1024;
    }
    const t = this.shimTraces.get(pid);
    return t === undefined ? out : hideInSmaps(out, t, this.pageSize);
  }

  /** The real /proc/<pid>/maps, each line with its range and path (null when it cannot be read). */
  mapsOf(pid: number): MapsLine[] | null {
    const text = readProc(`/proc/${pid}/maps`);
    if (text === null) return null;
    const out: MapsLine[] = [];
    for (const line of text.split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \S+\s*(.*)$/.exec(line);
      if (m !== null) out.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), name: m[4]!, offset: parseInt(m[3]!, 16), line });
    }
    return out;
  }

  /** The real /proc/<pid>/maps without the mappings of buffers (their mirrors are the emulator's). */
  maps(pid: number): { start: number; line: string }[] {
    const lines = (this.mapsOf(pid) ?? []).filter((m) => !m.name.startsWith(BUFFER_MEMFD)).map((m) => ({ start: m.start, line: m.line }));
    const t = this.shimTraces.get(pid);
    return t === undefined ? lines : hideInMaps(lines, t, this.pageSize, (start, line) => ({ start, line }));
  }

}
