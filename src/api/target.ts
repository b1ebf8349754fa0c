/**
 * The syscall-level contract every backend implements: the emulated kernel and (later) the real
 * Linux kernel. Arguments and results are bytes and numbers as the ABI has them, so one
 * conformance case file runs unchanged on both. Results carry the errno name instead of
 * throwing: the conformance runner compares errors; the client library turns them into
 * {@link ErrnoError}s.
 */
import type { ErrnoName } from '../uapi/errno.js';
import type { Arch } from '../uapi/fcntl.js';

export interface SysResult {
  /** The syscall's return value; -1 when it failed. */
  readonly ret: number;
  readonly errno: ErrnoName | null;
}

/** An ioctl argument: bytes copied to user memory, a NULL pointer, or an unmapped address. */
export type IoctlArg = Uint8Array | null | 'unmapped';

export interface IoctlResult extends SysResult {
  /** The argument bytes after the call (null for a NULL or unmapped pointer). */
  readonly out: Uint8Array | null;
}

/** A mapping made by {@link SyscallTarget.mmap}. */
export interface MapHandle {
  readonly addr: number;
  readonly length: number;
}

export interface MmapResult extends SysResult {
  readonly map: MapHandle | null;
}

/**
 * What happens when a program touches memory: nothing, or the signal that kills it (SIGSEGV:
 * no mapping or no permission; SIGBUS: no page behind a file mapping; SIGKILL: the memory
 * cgroup's OOM killer, when the new page cannot be charged within memory.max).
 */
export type Fault = 'SIGSEGV' | 'SIGBUS' | 'SIGKILL' | null;

export interface StatResult extends SysResult {
  readonly stat: { dev: number; ino: number; mode: number; uid: number; gid: number; rdev: number; size: number } | null;
}

export interface PollResult extends SysResult {
  readonly revents: number[];
}

export interface TextResult extends SysResult {
  readonly text: string | null;
}

/**
 * One entry of /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst): bit 63 present,
 * bits 0-54 the page frame number (0 for a reader without CAP_SYS_ADMIN), bit 55 soft-dirty,
 * bit 56 exclusively mapped, bit 61 file page or shared anonymous page, bit 62 swapped.
 */
export interface PagemapResult extends SysResult {
  /** Bit 63: a page is mapped there. */
  readonly present: boolean;
  /** Bits 0-54 when present (0 when the reader may not see PFNs); null when not present or the read failed. */
  readonly pfn: number | null;
  /** The whole 64-bit entry; null when the read failed or returned no entry. */
  readonly entry: bigint | null;
}

export interface SyscallTarget {
  /** 'emulated' or 'linux' */
  readonly backend: string;
  readonly arch: Arch;
  readonly pageSize: number;
  /** `uname -r` */
  readonly release: string;
  /** Heap names in /dev/dma_heap (empty when the directory does not exist). */
  listHeaps(): string[];
  open(path: string, flags: number, mode?: number): SysResult;
  close(fd: number): SysResult;
  dup(fd: number): SysResult;
  fcntl(fd: number, cmd: number, arg?: number): SysResult;
  ioctl(fd: number, cmd: number, arg: IoctlArg): IoctlResult;
  /** ioctl whose argument is a pointer to a NUL-terminated string (DMA_BUF_SET_NAME). */
  ioctlString(fd: number, cmd: number, s: string): SysResult;
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): MmapResult;
  munmap(map: MapHandle): SysResult;
  /** A load of `length` bytes at `offset` in a mapping; a fault kills the process and is returned. */
  readMem(map: MapHandle, offset: number, length: number): Uint8Array | NonNullable<Fault>;
  writeMem(map: MapHandle, offset: number, data: Uint8Array): Fault;
  read(fd: number, count: number): SysResult & { readonly data: Uint8Array | null };
  write(fd: number, data: Uint8Array): SysResult;
  lseek(fd: number, offset: number, whence: number): SysResult;
  fstat(fd: number): StatResult;
  poll(fds: readonly { fd: number; events: number }[], timeout: number): PollResult;
  readlink(path: string): TextResult;
  /** Names in a directory (/dev/dma_heap, /sys/kernel/dmabuf/buffers/<ino>, ...). */
  readdir(path: string): SysResult & { readonly names: readonly string[] | null };
  /** ioctl whose argument is a raw user address, e.g. inside a mapping made by {@link mmap}. */
  ioctlAt(fd: number, cmd: number, addr: number): SysResult;
  /** Reads a whole text file (open, read to EOF, close). */
  readFile(path: string): TextResult;
  setNofile(cur: number, max: number): SysResult;
  /** memfd_create(2): a new memfd named `name` (MFD_CLOEXEC, MFD_ALLOW_SEALING, ...); ret is the fd. */
  memfdCreate(name: string, flags: number): SysResult;
  /** ftruncate(2) */
  ftruncate(fd: number, length: number): SysResult;
  /** mkdir(2) (cgroup directories under /sys/fs/cgroup). */
  mkdir(path: string, mode: number): SysResult;
  /** rmdir(2) */
  rmdir(path: string): SysResult;
  /**
   * Writes `text` to a file: open(O_WRONLY), one write(), close. ret is the write's result; the
   * errno is the open's or the write's when one fails (e.g. a cgroup file refusing the text).
   */
  writeFile(path: string, text: string): SysResult;
  /**
   * The pagemap entry of page `page` of a mapping: open /proc/self/pagemap, pread 8 bytes at
   * ((map.addr / PAGE_SIZE) + page) * 8, close. ret is the read's (8, or 0 past the end).
   */
  pagemap(map: MapHandle, page: number): PagemapResult;
  /** getpid(2): the calling process's pid. */
  getpid(): number;
  /** Number of open fds in the calling process. */
  openFdCount(): number;
  /** Ends the process: every fd closed, every mapping dropped. */
  dispose(): void;
}
