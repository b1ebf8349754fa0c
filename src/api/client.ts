/**
 * The client library (v0): list heaps, allocate, map with bounds-checked access that can never
 * outlive an unmap, sync, name and close — over any backend's {@link SyscallTarget}. Kernel
 * errors surface as {@link ErrnoError}s with the errno name, number and syscall.
 */
import { DMA_HEAP_ALLOCATION_DATA, DMA_HEAP_IOCTL_ALLOC } from '../uapi/dma-heap.js';
import {
  DMA_BUF_IOCTL_SYNC, DMA_BUF_NAME_LEN, DMA_BUF_SET_NAME_B, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE,
} from '../uapi/dma-buf.js';
import { fcntlConstants, MAP_SHARED, PROT_READ, PROT_WRITE, SEEK_END } from '../uapi/fcntl.js';
import { ErrnoError, UnmappedError } from './errors.js';
import type { MapHandle, SyscallTarget, SysResult } from './target.js';

export type Access = 'read' | 'write' | 'rw';
export type SyncPhase = 'start' | 'end';

export interface HeapInfo {
  readonly name: string;
  readonly path: string;
}

export interface AllocateOptions {
  /** Access mode of the buffer's fd (default 'rw'); 'read' is the O_RDONLY the kernel gives a zeroed struct. */
  readonly access?: Access;
  /** Close the fd on exec (default true). */
  readonly cloexec?: boolean;
  /** Buffer name (DMA_BUF_SET_NAME); longer names are cut to the kernel's 31 characters. */
  readonly name?: string;
}

function check(r: SysResult, syscall: string, path?: string): number {
  if (r.errno !== null) throw new ErrnoError(r.errno, syscall, path);
  return r.ret;
}

export class DmaHeapClient {
  private closed = false;
  constructor(readonly target: SyscallTarget) {}

  /** The heaps in /dev/dma_heap. */
  heaps(): HeapInfo[] {
    return this.target.listHeaps().map((name) => ({ name, path: `/dev/dma_heap/${name}` }));
  }

  /**
   * Allocates `size` bytes (rounded up to whole pages by the kernel) from heap `heap`.
   * @throws ErrnoError ENOENT for an unknown heap, EACCES without permission, EINVAL for a size
   * of 0, ENOMEM when the heap is full
   */
  allocate(heap: string, size: number, opts: AllocateOptions = {}): DmaBuffer {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a non-negative integer number of bytes, not ${size}`);
    const t = this.target;
    const fc = fcntlConstants(t.arch);
    const path = `/dev/dma_heap/${heap}`;
    const h = check(t.open(path, fc.O_RDONLY | fc.O_CLOEXEC), 'open', path);
    try {
      const acc = opts.access ?? 'rw';
      const fdFlags = (acc === 'rw' ? fc.O_RDWR : acc === 'write' ? fc.O_WRONLY : fc.O_RDONLY) | ((opts.cloexec ?? true) ? fc.O_CLOEXEC : 0);
      const arg = new Uint8Array(DMA_HEAP_ALLOCATION_DATA.size);
      const dv = new DataView(arg.buffer);
      dv.setBigUint64(0, BigInt(size), true);
      dv.setUint32(12, fdFlags, true);
      const r = t.ioctl(h, DMA_HEAP_IOCTL_ALLOC, arg);
      check(r, 'ioctl', path);
      const fd = new DataView(r.out!.buffer, r.out!.byteOffset, 24).getUint32(8, true);
      const real = check(t.lseek(fd, 0, SEEK_END), 'lseek');
      const buf = new DmaBuffer(t, fd, real, heap, acc);
      if (opts.name !== undefined) buf.setName(opts.name);
      return buf;
    } finally {
      t.close(h);
    }
  }

  /** Ends the client's process (every fd closed, every mapping dropped). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.target.dispose();
  }
}

export class DmaBuffer {
  private open = true;
  private readonly maps = new Set<Mapping>();
  name: string | null = null;
  constructor(
    private readonly target: SyscallTarget,
    /** The dma-buf fd. */
    readonly fd: number,
    /** Size in bytes (page aligned). */
    readonly size: number,
    readonly heap: string,
    readonly access: Access,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  private live(what: string): void {
    if (!this.open) throw new ErrnoError('EBADF', what, undefined, 'the buffer was closed');
  }

  /**
   * Maps the buffer (MAP_SHARED). The mapping stays valid after {@link close} until it is
   * unmapped, as in the kernel. Access is bounds-checked and refused after unmap.
   */
  map(opts: { writable?: boolean; offset?: number; length?: number } = {}): Mapping {
    this.live('mmap');
    const writable = opts.writable ?? this.access === 'rw';
    const offset = opts.offset ?? 0;
    const length = opts.length ?? this.size - offset;
    const r = this.target.mmap(length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, this.fd, offset);
    check(r, 'mmap');
    const m = new Mapping(this.target, r.map!, writable, () => this.maps.delete(m));
    this.maps.add(m);
    return m;
  }

  /** DMA_BUF_IOCTL_SYNC: bracket CPU access ('start' before, 'end' after). */
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

  /** DMA_BUF_SET_NAME; a name longer than 31 characters is cut to 31. */
  setName(name: string): void {
    this.live('ioctl');
    const n = name.slice(0, DMA_BUF_NAME_LEN - 1);
    check(this.target.ioctlString(this.fd, DMA_BUF_SET_NAME_B, n), 'ioctl');
    this.name = n;
  }

  /** Closes the fd. Mappings stay usable until unmapped; the memory goes with the last one. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    check(this.target.close(this.fd), 'close');
  }

  /** Unmaps every mapping and closes the fd. */
  release(): void {
    for (const m of [...this.maps]) m.unmap();
    this.close();
  }
}

export class Mapping {
  private map: MapHandle | null;
  constructor(
    private readonly target: SyscallTarget,
    map: MapHandle,
    readonly writable: boolean,
    private readonly onUnmap: () => void,
  ) {
    this.map = map;
  }

  get length(): number {
    return this.map?.length ?? 0;
  }
  get isMapped(): boolean {
    return this.map !== null;
  }

  private range(what: string, offset: number, length: number): MapHandle {
    const m = this.map;
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

  unmap(): void {
    const m = this.map;
    if (m === null) return;
    this.map = null;
    this.onUnmap();
    check(this.target.munmap(m), 'munmap');
  }
}
