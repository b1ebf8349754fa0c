/**
 * The syscall-level contract every backend implements: the emulated kernel and (later) the real
 * Linux kernel. Arguments and results are bytes and numbers as the ABI has them, so one
 * conformance case file runs unchanged on both. Results carry the errno name instead of
 * throwing: the conformance runner compares errors; the client library turns them into
 * {@link ErrnoError}s.
 */
import type { ErrnoName } from '../uapi/errno.js';
import type { Arch } from '../uapi/fcntl.js';
import type { HeapFacts } from './naming.js';

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

/** An address-range call of mm ({@link SyscallTarget.mm}); lengths are bytes, flags the uAPI's. */
export type MmCall =
  | { readonly op: 'munmap'; readonly addr: number; readonly length: number }
  | { readonly op: 'mprotect'; readonly addr: number; readonly length: number; readonly prot: number }
  | { readonly op: 'madvise'; readonly addr: number; readonly length: number; readonly advice: number }
  | { readonly op: 'msync'; readonly addr: number; readonly length: number; readonly flags: number }
  | { readonly op: 'mlock'; readonly addr: number; readonly length: number; readonly flags: number }
  | { readonly op: 'munlock'; readonly addr: number; readonly length: number }
  /** mremap(2): `map` is the new mapping (its handle covers new_length) when it succeeds. */
  | { readonly op: 'mremap'; readonly addr: number; readonly length: number; readonly newLength: number; readonly flags: number; readonly newAddr: number };

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
 * no mapping or no permission; SIGBUS: no page behind a file mapping; SIGKILL: the OOM killer
 * chose the process, when no page was free or the new page could not be charged within its
 * memory cgroup's memory.max, or a SIGKILL was already pending).
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

/**
 * A DMA direction as the in-kernel DMA API numbers it (enum dma_data_direction):
 * 0 DMA_BIDIRECTIONAL, 1 DMA_TO_DEVICE, 2 DMA_FROM_DEVICE.
 */
export type DmaDir = 0 | 1 | 2;

/** One DMA segment of a mapped attachment (sg_dma_address, sg_dma_len). */
export interface DmaEntry {
  readonly dmaAddr: number;
  readonly length: number;
}

/** attach(): ret is the attachment handle (> 0) on success. */
export interface AttachResult extends SysResult {
  readonly handle: number | null;
}

/** mapAttachment(): the DMA segments the device got, whether it bounced, whether through an IOMMU. */
export interface MapAttachmentResult extends SysResult {
  /** null when the mapping failed. */
  readonly entries: readonly DmaEntry[] | null;
  /** Some segment goes through a swiotlb bounce buffer. */
  readonly bounced: boolean;
  /** Mapped through the device's IOMMU (an IOVA range). */
  readonly iova: boolean;
}

/**
 * One finding of a sync sanitizer, as plain data (the emulated backend's docs/sanitizer.md
 * describes the kinds). `text` is the finding formatted for people.
 */
export interface SanitizerFinding {
  /** `cpu-access-outside-sync`, `direction-mismatch`, `begin-never-ended`, ... */
  readonly kind: string;
  readonly severity: string;
  readonly message: string;
  readonly buffer: { readonly ino: number; readonly name: string | null; readonly exporter: string; readonly size: number };
  /** A process (pid; null for the kernel) or a device. */
  readonly actor: { readonly pid: number | null } | { readonly device: string };
  readonly offset: number;
  readonly length: number;
  /** Occurrences counted in this finding. */
  readonly count: number;
  readonly access: string | null;
  readonly text: string;
}

export interface SanitizerResult extends SysResult {
  /** The findings after the action (oldest first); null when the call failed. */
  readonly reports: readonly SanitizerFinding[] | null;
}

/** deviceStats(): the device's DMA counters by name (camelCase: bounceCopies, bounceBytes, ...). */
export interface DeviceStatsResult extends SysResult {
  readonly stats: Readonly<Record<string, number>> | null;
}

/** What a backend knows exactly about one heap (the emulated kernel; a real kernel has no such query). */
export interface ExactHeapFacts extends HeapFacts {
  /** Bytes the heap can hand out in total. */
  readonly capacity: number;
  /** Bytes free now. */
  readonly free: number;
}

/** What epoll_wait(2) reported: one entry per ready item. */
export interface EpollWaitResult extends SysResult {
  readonly events: readonly { readonly events: number; readonly data: bigint }[];
}

/** What recvmsg(2) received. */
export interface RecvmsgResult extends SysResult {
  readonly data: Uint8Array | null;
  readonly fds: readonly number[];
  readonly flags: number;
}

/**
 * A process's system calls, as the syscall ABI has them: numbers and bytes in, a result or an
 * errno name out, never an exception.
 *
 * Numbers are the C arguments. One that no C caller could pass (a fraction, NaN, ±Infinity, an
 * integer wider than the argument's C type) is refused before the kernel's own checks: an fd
 * with EBADF, a user address with EFAULT, anything else with EINVAL (on the emulated backend;
 * docs/fidelity.md, `js-numbers`). An integer that fits is passed as C converts it: a negative
 * size or rlimit is 2^64 + v (`setNofile(-1, -1)` asks for RLIM_INFINITY, which is EPERM).
 */
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
  /**
   * ioctl() on a caller-owned argument, as a C program passes `&data`: the kernel reads `arg`
   * and writes its answer back into the same bytes; nothing is allocated. The hot-path form of
   * {@link ioctl} (the client's allocations use it with one preallocated struct). When `arg` is
   * shorter than the size the command encodes, the kernel is given that many bytes (the rest
   * zeros) and only `arg.length` of them come back, as with {@link ioctl}.
   */
  ioctlInPlace(fd: number, cmd: number, arg: Uint8Array): SysResult;
  /** ioctl whose argument is a pointer to a NUL-terminated string (DMA_BUF_SET_NAME). */
  ioctlString(fd: number, cmd: number, s: string): SysResult;
  /**
   * mmap(2). `addr` is the hint, or with MAP_FIXED / MAP_FIXED_NOREPLACE the place (default 0).
   * The handle covers the pages the kernel mapped: `length` rounded up to whole pages is what a
   * load or store may reach (a C program may touch the rest of the last page).
   */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number, addr?: number): MmapResult;
  munmap(map: MapHandle): SysResult;
  /**
   * The address-range calls of mm (mm/mprotect.c, mm/mremap.c, mm/madvise.c, mm/msync.c,
   * mm/mlock.c, munmap of part of a mapping). A backend that runs in a real process passes only
   * ranges it can vouch for: pages of its own mappings, or holes it made itself that are still
   * holes; anything else is refused with EFAULT without a call (its memory is not the case's).
   */
  mm(call: MmCall): MmapResult;
  /** A load of `length` bytes at `offset` in a mapping; a fault kills the process and is returned. */
  readMem(map: MapHandle, offset: number, length: number): Uint8Array | NonNullable<Fault>;
  /**
   * A load of `dst.length` bytes at `offset` in a mapping into `dst` (no allocation: a reader of
   * frames reuses one array); a fault kills the process and is returned, and `dst` may then hold
   * part of the bytes.
   */
  readMemInto(map: MapHandle, offset: number, dst: Uint8Array): Fault;
  writeMem(map: MapHandle, offset: number, data: Uint8Array): Fault;
  /**
   * read(2) of up to `count` bytes into a buffer the target lends (at most 1 GiB). A `count`
   * that is not a whole number is EINVAL; a negative one (a huge size_t in C) or one above 1 GiB
   * is EFAULT, as for a C program whose buffer is smaller than its count; both before the call.
   */
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
  // ---- devices: the importer side, driven by device name (an emulated capability; a backend
  // without it returns ENOSYS) ----
  /**
   * An importer driver of `device` takes the dma-buf `fd` (dma_buf_get) and attaches
   * (dma_buf_attach). ret is a handle (> 0): ENODEV for an unknown device, EBADF for a bad fd,
   * EINVAL for an fd that is not a dma-buf.
   */
  attach(fd: number, device: string): AttachResult;
  /** dma_buf_map_attachment() for the handle, and the driver's checks (EBUSY when already mapped, EINVAL after detach). */
  mapAttachment(handle: number, dir: DmaDir): MapAttachmentResult;
  /** dma_buf_unmap_attachment(): EINVAL when not mapped. */
  unmapAttachment(handle: number): SysResult;
  /** dma_buf_detach() and dma_buf_put(): EINVAL when already detached. */
  detach(handle: number): SysResult;
  /** dma_sync_sgtable_for_cpu() by the driver (default: the mapping's direction): EINVAL when not mapped. */
  syncForCpu(handle: number, dir?: DmaDir): SysResult;
  /** dma_sync_sgtable_for_device() by the driver: EINVAL when not mapped. */
  syncForDevice(handle: number, dir?: DmaDir): SysResult;
  /**
   * `device` reads `length` bytes at `offset` of the buffer `fd` through its current mapping of
   * it (the most recent mapped attachment of that device to that buffer); without one the
   * access uses a stale DMA address and fails with EFAULT. EACCES: protected memory.
   */
  deviceRead(device: string, fd: number, offset: number, length: number): SysResult & { readonly data: Uint8Array | null };
  /** The device writes `data` at `offset` of the buffer `fd` (as deviceRead); ret is the bytes written. */
  deviceWrite(device: string, fd: number, offset: number, data: Uint8Array): SysResult;
  /** The device's DMA counters: ENODEV for an unknown device. */
  deviceStats(device: string): DeviceStatsResult;
  /**
   * The sync sanitizer: `report` returns the findings, `check` first reports every open BEGIN
   * as begin-never-ended, `clear` forgets the findings. ENOSYS when there is no sanitizer.
   */
  sanitizer(action: 'report' | 'check' | 'clear'): SanitizerResult;
  /** getpid(2): the calling process's pid. */
  getpid(): number;
  /** Number of open fds in the calling process. */
  openFdCount(): number;
  /** Ends the process: every fd closed, every mapping dropped. */
  dispose(): void;
  // ---- optional capabilities: a backend without one leaves it undefined, and the client falls
  // back or says so (docs/client.md) ----
  /** Exact facts about every heap, in /dev/dma_heap order (the emulated kernel knows them). */
  heapFacts?(): readonly ExactHeapFacts[];
  /**
   * A child process (fork, then exec): it inherits the fds without FD_CLOEXEC under the same
   * numbers, as a spawned program does.
   */
  spawn?(comm?: string): SyscallTarget;
  /** Passes `fd` to the process behind `to` (SCM_RIGHTS); ret is the receiver's new fd. */
  sendFd?(fd: number, to: SyscallTarget): SysResult;
  /**
   * A copy of the process (fork(2) without exec): every fd under the same number, FD_CLOEXEC
   * kept, the mappings shared or copied on write. Only the emulated kernel can fork (a Node
   * process cannot), so the Linux backend leaves it undefined.
   */
  fork?(): SyscallTarget;
  /** execve(2) of the same program: the FD_CLOEXEC fds are closed, the address space replaced (emulated only). */
  exec?(): SysResult;
  /** epoll_create1(2); ret is the new fd. */
  epollCreate?(flags: number): SysResult;
  /** epoll_ctl(2) with a struct epoll_event of `events` and the 64-bit `data`. */
  epollCtl?(epfd: number, op: number, fd: number, events: number, data: bigint): SysResult;
  /** epoll_wait(2) for up to `maxevents` events (1..64); ret is how many came. */
  epollWait?(epfd: number, maxevents: number, timeout: number): EpollWaitResult;
  /** socketpair(AF_UNIX, `type`, 0); ret is 0 and `fds` the two ends. */
  socketpair?(type: number): SysResult & { readonly fds: readonly [number, number] | null };
  /** sendmsg(2) of `data` (1..4096 bytes) with `fds` in one SCM_RIGHTS message (none: no control data); MSG_NOSIGNAL. */
  sendmsg?(sock: number, data: Uint8Array, fds: readonly number[]): SysResult;
  /**
   * recvmsg(2) of up to `length` bytes (1..4096) with room for `maxFds` fds (0..253) in the
   * control buffer, never blocking (MSG_DONTWAIT); `flags` may add MSG_CMSG_CLOEXEC or MSG_PEEK.
   * ret is the bytes; `fds` the fds that came; `flags` the msg_flags (MSG_CTRUNC).
   */
  recvmsg?(sock: number, length: number, maxFds: number, flags: number): RecvmsgResult;
  /**
   * ioctl() off the caller's thread, for allocations that may stall (CMA under fragmentation):
   * the Linux backend can run it on the libuv pool (a fixed three-argument koffi alias has
   * `.async`). Same arguments and result as {@link ioctl}.
   */
  ioctlAsync?(fd: number, cmd: number, arg: IoctlArg): Promise<IoctlResult>;
}
