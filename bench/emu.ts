/**
 * A user program of the emulated kernel, as the benchmarks drive it: a root process with the
 * system heap open and a dma_heap_allocation_data struct in its user memory, allocating through
 * the real ioctl path (copy in, checks, heap, fd install, copy out).
 */
import { DMA_HEAP_IOCTL_ALLOC } from '../src/uapi/dma-heap.js';
import { MAP_SHARED, O_CLOEXEC, O_RDWR, PROT_READ, PROT_WRITE } from '../src/uapi/fcntl.js';
import { Kernel } from '../src/kernel/kernel.js';
import type { Process } from '../src/kernel/fs/process.js';

export interface HeapUserOptions {
  /** Emulated RAM in bytes (default 2 GiB). */
  readonly ramBytes?: number;
  /** Heap device name (default `system`). */
  readonly heap?: string;
  /** RLIMIT_NOFILE to set (default: leave 1024). */
  readonly nofile?: number;
}

export class HeapUser {
  readonly kernel: Kernel;
  readonly proc: Process;
  readonly heapFd: number;
  /** User address of the 24-byte dma_heap_allocation_data. */
  readonly arg: number;
  /** Four zero bytes: what `data.fd = 0` stores before each ioctl. */
  private readonly zero4 = new Uint8Array(4);
  private readonly fdBytes = new Uint8Array(4);
  private readonly fdView = new DataView(this.fdBytes.buffer);

  constructor(opts: HeapUserOptions = {}) {
    const ramBytes = opts.ramBytes ?? 2 * 1024 ** 3;
    this.kernel = new Kernel({ profile: '6.1', cmdline: 'cma=64M', ramBytes });
    this.proc = this.kernel.spawn();
    if (opts.nofile !== undefined) {
      const r = this.proc.setNofile(opts.nofile, opts.nofile);
      if (r < 0) throw new Error(`setrlimit(RLIMIT_NOFILE, ${opts.nofile}) failed: errno ${-r}`);
    }
    const heapFd = this.proc.open(`/dev/dma_heap/${opts.heap ?? 'system'}`, O_RDWR | O_CLOEXEC);
    if (heapFd < 0) throw new Error(`open(/dev/dma_heap/${opts.heap ?? 'system'}) failed: errno ${-heapFd}`);
    this.heapFd = heapFd;
    this.arg = this.proc.userAlloc(24);
    this.setLen(4096);
  }

  /** Writes the whole struct: len, fd = 0, fd_flags = O_RDWR | O_CLOEXEC, heap_flags = 0. */
  setLen(len: number): void {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, len % 0x100000000, true);
    dv.setUint32(4, Math.floor(len / 0x100000000), true);
    dv.setUint32(12, O_RDWR | O_CLOEXEC, true);
    if (!this.proc.mm.copyToUser(this.arg, b)) throw new Error('copy_to_user of the ioctl struct failed');
  }

  /**
   * One DMA_HEAP_IOCTL_ALLOC with the struct already in user memory: store fd = 0, ioctl, load
   * the returned fd. Returns the fd; throws on an errno (the benchmarks never expect one).
   */
  alloc(): number {
    const p = this.proc;
    p.mm.copyToUser(this.arg + 8, this.zero4);
    const r = p.ioctl(this.heapFd, DMA_HEAP_IOCTL_ALLOC, this.arg);
    if (r < 0) throw new Error(`DMA_HEAP_IOCTL_ALLOC failed: errno ${-r}`);
    p.mm.copyFromUser(this.arg + 8, 4, this.fdBytes);
    return this.fdView.getUint32(0, true);
  }

  close(fd: number): void {
    const r = this.proc.close(fd);
    if (r < 0) throw new Error(`close(${fd}) failed: errno ${-r}`);
  }

  /** mmap(MAP_SHARED, PROT_READ | PROT_WRITE) of a whole buffer. */
  map(fd: number, len: number): number {
    const addr = this.proc.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr < 0) throw new Error(`mmap failed: errno ${-addr}`);
    return addr;
  }

  unmap(addr: number, len: number): void {
    const r = this.proc.munmap(addr, len);
    if (r < 0) throw new Error(`munmap failed: errno ${-r}`);
  }

  /** Writes `value` to every byte of [addr, addr + len) (memset through the mapping). */
  fill(addr: number, len: number, value: number): void {
    if (this.proc.fill(addr, len, value) !== null) throw new Error('fault while filling a mapping');
  }

  /** Stores one byte in every page of [addr, addr + len): each page is faulted in for writing. */
  touchPages(addr: number, len: number): void {
    const ps = this.kernel.pageSize;
    for (let off = 0; off < len; off += ps) {
      if (this.proc.fill(addr + off, 1, 1) !== null) throw new Error('fault while touching a mapping');
    }
  }
}
