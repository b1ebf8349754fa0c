/**
 * The real Linux backend at the syscall level: this Node process, calling libc through koffi.
 * Arguments are copied into preallocated native-side Buffers before each call and read back
 * after it, so the kernel sees exactly the bytes a C program would pass.
 *
 * What the process can and cannot do here, and how it stays alive:
 * - Memory is only touched in pages this target maps now (vm.ts OwnedMemory: what its mmap and
 *   mremap calls mapped, read back from /proc/self/maps after every mm call), through a handle
 *   it returned: up to the end of the last page the kernel mapped, not just the length asked
 *   for, and on into another of its mappings as a C program would. An access the kernel would
 *   answer with a signal is predicted or probed instead of made: a page this target does not
 *   map, or against its protection, or under a guard marker is SIGSEGV; a page past the end of a
 *   mapped file is SIGBUS (found with process_vm_readv/writev, which return EFAULT where a load
 *   or store would fault). The process is never actually signalled.
 * - mprotect, mremap, madvise, msync, mlock, munlock, munmap of a range and mmap with MAP_FIXED
 *   reach the kernel only for ranges of its own pages and of holes it made that are still free,
 *   so that they never change memory Node owns (SyscallTarget.mm).
 * - Each mapping has private koffi.view ArrayBuffers (at most 1 GiB each), made when a piece is
 *   first touched (a view is external memory V8 accounts for: making 1024 of them for a 1 TiB
 *   mapping nobody touches cost minutes of garbage collection) and dropped at munmap. They are never handed out: readMem returns a copy, writeMem copies in. A
 *   view cannot be detached, and touching one after munmap would crash the process.
 * - ioctlAt only passes addresses that lie inside a live mapping of this target (anything else
 *   is EFAULT without a call), so the kernel never writes into memory Node owns.
 * - There are no devices and no sanitizer: real DMA masters are kernel drivers, not reachable
 *   from user space; those methods answer ENOSYS with a note.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { isCInt, isCLong } from '../../uapi/ctypes.js';
import { Errno, errnoName } from '../../uapi/errno.js';
import type { ErrnoName } from '../../uapi/errno.js';
import { fcntlConstants, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../uapi/fcntl.js';
import type { Arch, FcntlConstants } from '../../uapi/fcntl.js';
import { _IOC_DIR, _IOC_READ, _IOC_SIZE, _IOC_WRITE } from '../../uapi/ioctl.js';
import { DMA_HEAP_IOC_MAGIC } from '../../uapi/dma-heap.js';
import { DMA_BUF_IOCTL_EXPORT_SYNC_FILE } from '../../uapi/dma-buf.js';
import { MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MADV_HWPOISON, MADV_SOFT_OFFLINE, MREMAP_FIXED } from '../../uapi/mman.js';
import { OwnedMemory, parseMaps } from './vm.js';
import type { Kind } from './vm.js';
import { SYNC_IOC_MERGE } from '../../uapi/sync-file.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST } from '../../uapi/udmabuf.js';
import type {
  AttachResult, DeviceStatsResult, DmaDir, EpollWaitResult, Fault, IoctlArg, IoctlResult, MapAttachmentResult, MapHandle, MmapResult, MmCall, PagemapResult, PollResult,
  RecvmsgResult, SanitizerResult, StatResult, SyscallTarget, SysResult, TextResult,
} from '../../api/target.js';
import type { Libc } from './libc.js';
import { decodeStat, S_IFMT, S_IFREG, STAT_BUF_SIZE } from '../../api/stat.js';

/** The "bad pointer" an `'unmapped'` ioctl argument passes: (void *)16, as the oracle's probe does. */
export const UNMAPPED_ADDR = 16;
/** Bytes of the preallocated ioctl argument buffer: more than any _IOC_SIZE (14 bits), so no size in a command can make the kernel write past it. */
export const ARG_BUF_SIZE = 64 * 1024;
/** Largest koffi.view made over one piece of a mapping (views near 4 GiB abort Node 20). */
export const VIEW_CHUNK = 1 << 30;
/** Bytes process_vm_readv/writev move per call for file-backed mappings. */
const XFER_SIZE = 1 << 20;
const RLIMIT_NOFILE = 7;
const F_GETFD = 1;
/**
 * Bytes an ioctlAt argument must have before the end of its mapping when the command encodes no
 * size (legacy commands such as FIONREAD or TCGETS write a struct of their own size).
 */
export const UNSIZED_ARG_BYTES = 4096;
const SC_PAGESIZE = 30;

/** Why the device and sanitizer methods answer ENOSYS. */
export const NO_DEVICES_NOTE =
  'the linux backend has no devices: a DMA master is a kernel driver (dma_buf_attach/map_attachment), not reachable from user space; use the emulated backend for device cases';
export const NO_SANITIZER_NOTE = 'the linux backend has no sync sanitizer: it exists only in the emulated kernel (docs/sanitizer.md)';

export interface LinuxTargetOptions {
  /**
   * Behave like a fresh process for its lifetime (the conformance runner): dispose() also
   * closes every descriptor that appeared in the process since the target was made, except
   * Node's own kinds (pipes, sockets, `anon_inode:[...]`), including ones an ioctl installed
   * without reporting them. Default false: dispose() closes only the descriptors this target
   * returned or saw reported (open, dup, F_DUPFD, memfd_create, heap ALLOC, sync_file export
   * and merge, udmabuf creation), so other users of the process keep theirs.
   */
  readonly exclusive?: boolean;
}


/** A live mapping handle: where it starts, and its private views (what is mapped there now is in {@link OwnedMemory}). */
interface MapState {
  readonly addr: number;
  readonly length: number;
  /** The pages the handle covers: `length` rounded up to whole pages (a load may reach the end of the last page). */
  readonly span: number;
  /** direct: loads and stores through the views; file: process_vm_readv/writev (a page past EOF is SIGBUS). */
  readonly kind: Kind;
  /** One slot per VIEW_CHUNK piece, null until the piece is touched; null for the whole after munmap. */
  views: (ArrayBuffer | null)[] | null;
}

/** The results that need no allocation. */
const OK0: SysResult = Object.freeze({ ret: 0, errno: null });
const GONE: SysResult = Object.freeze({ ret: -1, errno: 'ESRCH' });

/** Byte offset of the fd field an fd-creating ioctl writes back, or -1 (see LinuxTarget.noteIoctlFd). */
function fdFieldAt(c: number): number {
  if ((_IOC_DIR(c) & _IOC_READ) === 0) return -1;
  if ((c & 0xffff) === DMA_HEAP_IOC_MAGIC << 8) return 8;
  if (c === DMA_BUF_IOCTL_EXPORT_SYNC_FILE) return 4;
  if (c === SYNC_IOC_MERGE) return 36;
  return -1;
}

/** Whether command `c` can return a new descriptor (in its result or a field). */
function mayCreateFd(c: number): boolean {
  return c === UDMABUF_CREATE || c === UDMABUF_CREATE_LIST || fdFieldAt(c) >= 0;
}

/** The little-endian s32 fd field of an fd-creating command in `b`, or -1 when `b` is too short or the command has none. */
function fdField(c: number, b: Uint8Array): number {
  const at = fdFieldAt(c);
  if (at < 0 || b.length < at + 4) return -1;
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** Descriptors tracked by every live target, so one target's dispose leaves another's alone. */
const liveTargets = new Set<LinuxTarget>();

/**
 * Native scratch for process_vm_readv/writev, shared by every target (the calls are synchronous):
 * malloc'ed once on first use, never freed, viewed only here.
 */
let xfer: { readonly addr: number; readonly view: Uint8Array } | null = null;

/**
 * Native scratch for sendmsg/recvmsg (their msghdr holds pointers, so the whole message lives in
 * C memory): malloc'ed once on first use, never freed. Layout: msghdr, iovec, control, data.
 */
let msgBlock: { readonly addr: number; readonly view: Buffer } | null = null;
const MSG_HDR = 0;
const MSG_IOV = 64;
const MSG_CTL = 128;
const MSG_DATA = 2048;
/** The most bytes a case sends or receives in one message. */
const MSG_DATA_MAX = 4096;
const MSG_BLOCK = MSG_DATA + MSG_DATA_MAX;
const AF_UNIX = 1;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SCM_MAX_FD = 253;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
/** CMSG_LEN / CMSG_SPACE on 64-bit (a 16-byte cmsghdr, 8-byte alignment). */
function cmsgLen(n: number): number {
  return 16 + n;
}
function cmsgSpace(n: number): number {
  return 16 + Math.ceil(n / 8) * 8;
}

function archOf(): Arch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'arm64';
  throw new Error(`the linux backend supports x86-64 and arm64, not ${process.arch}`);
}

/** A size_t / unsigned long argument: C converts modulo 2^64. */
function u64(n: number): bigint {
  return BigInt.asUintN(64, BigInt(Math.trunc(n)));
}
/** An off_t argument. */
function s64(n: number): bigint {
  return BigInt.asIntN(64, BigInt(Math.trunc(n)));
}

/**
 * Arguments no C caller could pass, refused before any call as the emulated kernel refuses them
 * (src/uapi/ctypes.ts; docs/fidelity.md, js-numbers): koffi would truncate 1.5 to fd 1, and
 * BigInt(NaN) throws.
 */
const BAD_FD: SysResult = Object.freeze({ ret: -1, errno: 'EBADF' });
const BAD_ARG: SysResult = Object.freeze({ ret: -1, errno: 'EINVAL' });
const BAD_PTR: SysResult = Object.freeze({ ret: -1, errno: 'EFAULT' });
/** A range holding pages this target cannot vouch for (they may be Node's): refused without a call. */
const NOT_OURS: SysResult = BAD_PTR;

function errnoOf(n: number): ErrnoName {
  return errnoName(n) ?? 'EINVAL';
}

/** The errno name of an exception from node:fs (its `code`), else EIO. */
function fsErrno(e: unknown): ErrnoName {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && Object.hasOwn(Errno, code) ? (code as ErrnoName) : 'EIO';
}

/** Bytes of a string as the emulated kernel takes them: one byte per character when all fit, else UTF-8. */
function strBytes(s: string): Buffer {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  return Buffer.from(s, 'latin1');
}

/** Strings kept encoded by ioctlString (cleared when full). */
const STRING_CACHE = 64;

/**
 * `s` as the NUL-terminated bytes ioctlString passes, padded with zeros to at least `size` bytes
 * (what a command that copies a fixed-size argument in reads) and to 32 (a dma-buf name's
 * DMA_BUF_NAME_LEN, which strndup_user may read up to).
 */
function cString(s: string, size: number): Buffer {
  const bytes = strBytes(s);
  const b = Buffer.alloc(Math.max(bytes.length + 1, size, 32));
  bytes.copy(b, 0);
  return b;
}

/**
 * The fd numbers open in this process now: one readdir of /proc/self/fd, less the descriptor
 * that readdir had open (closed again by the time F_GETFD asks).
 */
function openFds(libc: Libc): number[] {
  const fds: number[] = [];
  for (const n of readdirSync('/proc/self/fd')) {
    const fd = Number(n);
    if (libc.fcntl(fd, F_GETFD, 0) >= 0) fds.push(fd);
  }
  return fds;
}

export class LinuxTarget implements SyscallTarget {
  readonly backend = 'linux';
  readonly arch: Arch;
  readonly pageSize: number;
  readonly release: string;
  private readonly fc: FcntlConstants;
  /** The ioctl/read/write/poll argument buffer (native memory owned by a Buffer; never handed out). */
  private arg: Buffer;
  /** The same memory as {@link arg} as a plain Uint8Array (its slice() is a plain Uint8Array, not a Buffer). */
  private argU8: Uint8Array;
  private readonly statBuf = Buffer.alloc(STAT_BUF_SIZE);
  private readonly rlimBuf = Buffer.alloc(16);
  private readonly iov = Buffer.alloc(32);
  private readonly maps = new Map<MapHandle, MapState>();
  /** The pages this target's mappings occupy now, and every page they ever did (vm.ts). */
  private readonly mem: OwnedMemory;
  /** ioctlString's encoded strings, for commands the kernel does not write back into. */
  private readonly strings = new Map<string, Buffer>();
  /** Descriptors this target returned or saw reported. */
  private readonly fds = new Set<number>();
  /**
   * Sockets and epoll instances this target made (socketpair, recvmsg, epoll_create1), by fd:
   * the st_dev:st_ino they had. They are the kinds Node itself has, so dispose closes one only
   * when the number still names that inode (a socket's is its own; an epoll instance shares the
   * anon inode, so it is also one this target has not seen closed).
   */
  private readonly special = new Map<number, string>();
  /** Descriptors open when the target was made (exclusive mode: everything else is ours at dispose). */
  private readonly before: ReadonlySet<number> | null;
  /** RLIMIT_NOFILE at creation, restored at dispose when setNofile changed it. */
  private readonly savedRlimit: Buffer | null;
  private rlimitChanged = false;
  private disposed = false;

  constructor(private readonly libc: Libc, opts: LinuxTargetOptions = {}) {
    this.arch = archOf();
    this.fc = fcntlConstants(this.arch);
    const ps = libc.sysconf(SC_PAGESIZE);
    this.pageSize = ps > 0 ? ps : 4096;
    this.mem = new OwnedMemory(this.pageSize);
    this.release = release();
    this.arg = Buffer.alloc(ARG_BUF_SIZE);
    this.argU8 = new Uint8Array(this.arg.buffer, this.arg.byteOffset, this.arg.length);
    this.before = opts.exclusive === true ? new Set(openFds(libc)) : null;
    const r = Buffer.alloc(16);
    this.savedRlimit = libc.getrlimit(RLIMIT_NOFILE, r) === 0 ? r : null;
    liveTargets.add(this);
  }

  // ---- results ---------------------------------------------------------------------------

  private fail(): SysResult {
    return { ret: -1, errno: errnoOf(this.libc.koffi.errno()) };
  }
  /** ret, or -1 with the errno koffi saved right after the call. */
  private res(ret: number): SysResult {
    return ret < 0 ? this.fail() : { ret, errno: null };
  }
  /** A result that returned a new descriptor: tracked for dispose. */
  private fdRes(ret: number): SysResult {
    if (ret < 0) return this.fail();
    this.fds.add(ret);
    return { ret, errno: null };
  }
  private gone(): SysResult | null {
    return this.disposed ? { ret: -1, errno: 'ESRCH' } : null;
  }

  /** The argument buffer, grown to hold at least `n` bytes. */
  private argBuf(n: number): Buffer {
    if (n > this.arg.length) {
      this.arg = Buffer.alloc(Math.ceil(n / ARG_BUF_SIZE) * ARG_BUF_SIZE);
      this.argU8 = new Uint8Array(this.arg.buffer, this.arg.byteOffset, this.arg.length);
    }
    return this.arg;
  }
  /** {@link argBuf} as a plain Uint8Array. */
  private argBytes(n: number): Uint8Array {
    if (n > this.argU8.length) this.argBuf(n);
    return this.argU8;
  }

  // ---- discovery ---------------------------------------------------------------------------

  listHeaps(): string[] {
    try {
      return readdirSync('/dev/dma_heap');
    } catch {
      return [];
    }
  }

  // ---- descriptors -------------------------------------------------------------------------

  open(path: string, flags: number, mode = 0): SysResult {
    if (!isCInt(flags) || !isCInt(mode)) return this.gone() ?? BAD_ARG;
    return this.gone() ?? this.fdRes(this.libc.open(path, flags | 0, mode >>> 0));
  }
  close(fd: number): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCInt(fd)) return BAD_FD;
    // even a failing close(2) releases the descriptor
    this.fds.delete(fd | 0);
    this.special.delete(fd | 0);
    const ret = this.libc.close(fd | 0);
    return ret === 0 ? OK0 : this.res(ret);
  }
  dup(fd: number): SysResult {
    if (!isCInt(fd)) return this.gone() ?? BAD_FD;
    return this.gone() ?? this.fdRes(this.libc.dup(fd | 0));
  }
  fcntl(fd: number, cmd: number, arg = 0): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCInt(fd)) return BAD_FD;
    if (!isCInt(cmd) || !isCLong(arg)) return BAD_ARG;
    const r = this.libc.fcntl(fd | 0, cmd | 0, s64(arg));
    // F_DUPFD and F_DUPFD_CLOEXEC return a new descriptor
    return cmd === 0 || cmd === 1030 ? this.fdRes(r) : this.res(r);
  }

  ioctl(fd: number, cmd: number, arg: IoctlArg): IoctlResult {
    if (this.disposed) return { ret: -1, errno: 'ESRCH', out: null };
    if (!isCInt(fd)) return { ...BAD_FD, out: null };
    if (!isCInt(cmd)) return { ...BAD_ARG, out: null };
    const c = cmd >>> 0;
    if (arg === null || arg === 'unmapped') {
      const ret = this.libc.ioctlAddr(fd | 0, c, arg === null ? 0 : UNMAPPED_ADDR);
      if (ret < 0) return { ret: -1, errno: errnoOf(this.libc.koffi.errno()), out: null };
      this.noteIoctlFd(c, ret, null, null);
      return { ret, errno: null, out: null };
    }
    // the hot path allocates only the copy it returns (bench/linux: every object counts under TCG)
    const n = arg.length;
    const size = _IOC_SIZE(c);
    const b = this.argBytes(n > size ? n : size > 0 ? size : 1);
    b.set(arg, 0);
    // the kernel may read _IOC_SIZE bytes although fewer were given: let it read zeros, not stale bytes
    if (size > n) b.fill(0, n, size);
    const ret = this.libc.ioctlPtr(fd | 0, c, b);
    const out = b.slice(0, n);
    if (ret < 0) return { ret: -1, errno: errnoOf(this.libc.koffi.errno()), out };
    if (mayCreateFd(c)) this.noteIoctlFd(c, ret, arg, out);
    return { ret, errno: null, out };
  }

  ioctlInPlace(fd: number, cmd: number, arg: Uint8Array): SysResult {
    if (this.disposed) return GONE;
    if (!isCInt(fd)) return BAD_FD;
    if (!isCInt(cmd)) return BAD_ARG;
    const c = cmd >>> 0;
    const n = arg.length;
    const size = _IOC_SIZE(c);
    // the caller's bytes go to the kernel as they are when they hold every byte the command
    // says the kernel may write; otherwise through the argument buffer (zero-padded), as ioctl()
    if (n === 0 || n < size || size === 0) {
      const r = this.ioctl(fd, c, arg);
      if (r.out !== null) arg.set(r.out);
      return r.errno === null ? { ret: r.ret, errno: null } : { ret: -1, errno: r.errno };
    }
    const field = fdFieldAt(c) >= 0;
    const was = field ? fdField(c, arg) : 0;
    const ret = this.libc.ioctlPtr(fd | 0, c, arg);
    if (ret < 0) return { ret: -1, errno: errnoOf(this.libc.koffi.errno()) };
    if (field) {
      const now = fdField(c, arg);
      if (now > 2 && now !== was) this.fds.add(now);
    } else {
      this.noteIoctlFd(c, ret, null, null); // UDMABUF_CREATE(_LIST): the fd is the result
    }
    return ret === 0 ? OK0 : { ret, errno: null };
  }

  /**
   * {@link ioctl} on the libuv thread pool (koffi's `.async` of the fixed-arity alias), for
   * allocations that may stall (CMA under fragmentation) without blocking the event loop. Each
   * call has its own argument buffer, so calls may overlap.
   */
  ioctlAsync(fd: number, cmd: number, arg: IoctlArg): Promise<IoctlResult> {
    if (this.disposed || arg === null || arg === 'unmapped') return Promise.resolve(this.ioctl(fd, cmd, arg));
    const size = _IOC_SIZE(cmd >>> 0);
    const b = Buffer.alloc(Math.max(arg.length, size, 1));
    b.set(arg, 0);
    return new Promise((resolve, reject) => {
      this.libc.ioctlPtrAsync(fd | 0, cmd >>> 0, b, (err, ret) => {
        if (err !== null && err !== undefined) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        // koffi hands the worker's errno back to this thread before the callback
        const r = ret < 0 ? this.fail() : { ret, errno: null };
        const out = Uint8Array.prototype.slice.call(b, 0, arg.length);
        if (r.errno === null) this.noteIoctlFd(cmd >>> 0, r.ret, arg, out);
        resolve({ ...r, out });
      });
    });
  }

  /**
   * Tracks the descriptor a known fd-creating ioctl reported: the ret of UDMABUF_CREATE(_LIST),
   * the fd field the kernel wrote back for ALLOC (type 'H', nr 0, any size), EXPORT_SYNC_FILE and
   * SYNC_IOC_MERGE. Only a field the kernel copied back (a _IOC_READ command) and changed counts,
   * and never 0-2: a command the kernel did not answer must not make dispose() close stdio.
   */
  private noteIoctlFd(c: number, ret: number, arg: Uint8Array | null, out: Uint8Array | null): void {
    if (c === UDMABUF_CREATE || c === UDMABUF_CREATE_LIST) {
      if (ret > 2) this.fds.add(ret);
      return;
    }
    if (arg === null || out === null) return;
    const fd = fdField(c, out);
    if (fd > 2 && fd !== fdField(c, arg)) this.fds.add(fd);
  }

  ioctlString(fd: number, cmd: number, s: string): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCInt(fd)) return BAD_FD;
    if (!isCInt(cmd)) return BAD_ARG;
    const c = cmd >>> 0;
    // a command encoded as one the kernel only reads (_IOW: DMA_BUF_SET_NAME, whose handler
    // strndup_user()s the string) gets the string's own bytes, encoded once and kept (a client
    // names every buffer with one of a few names); anything else, legacy commands without a
    // direction included, goes through the large argument buffer
    if (_IOC_DIR(c) === _IOC_WRITE) {
      let b = this.strings.get(s);
      if (b === undefined) {
        b = cString(s, _IOC_SIZE(c));
        if (this.strings.size >= STRING_CACHE) this.strings.clear();
        this.strings.set(s, b);
      }
      if (b.length >= _IOC_SIZE(c)) {
        const ret = this.libc.ioctlPtr(fd | 0, c, b);
        return ret === 0 ? OK0 : this.res(ret);
      }
    }
    // one byte per character, or UTF-8 when a character does not fit a byte (as the emulated kernel)
    const bytes = strBytes(s);
    const b = this.argBuf(bytes.length + 1);
    bytes.copy(b, 0);
    b[bytes.length] = 0;
    return this.res(this.libc.ioctlPtr(fd | 0, c, b));
  }

  ioctlAt(fd: number, cmd: number, addr: number): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCInt(fd)) return BAD_FD;
    if (!isCInt(cmd)) return BAD_ARG;
    if (!isCLong(addr)) return BAD_PTR;
    // only addresses inside this target's own live mappings (or NULL and the bad pointer, which
    // the kernel refuses): the kernel must never write into memory Node owns
    const size = _IOC_SIZE(cmd >>> 0);
    const need = size > 0 ? size : UNSIZED_ARG_BYTES;
    const low = addr === 0 || addr === UNMAPPED_ADDR;
    if (!low && this.findMap(addr, need) === null) return { ret: -1, errno: 'EFAULT' };
    return this.res(this.libc.ioctlAddr(fd | 0, cmd >>> 0, addr));
  }

  /** The live mapping of this target that holds [addr, addr + len), or null. */
  private findMap(addr: number, len: number): readonly unknown[] | null {
    return this.mem.covering(addr, len);
  }

  // ---- memory ------------------------------------------------------------------------------

  mmap(length: number, prot: number, flags: number, fd: number, offset: number, addr = 0): MmapResult {
    const g = this.gone();
    if (g !== null) return { ...g, map: null };
    if (!isCLong(length) || !isCInt(prot) || !isCInt(flags) || !isCLong(offset) || !isCLong(addr)) return { ...BAD_ARG, map: null };
    if (!isCInt(fd)) return { ...BAD_FD, map: null };
    // MAP_FIXED replaces what is there: only this target's own pages and holes (MAP_FIXED_NOREPLACE
    // and a hint never replace anything, and the kernel refuses an unaligned address or no length first)
    if ((flags & MAP_FIXED) !== 0 && (flags & MAP_FIXED_NOREPLACE) === 0 && !this.vouch(addr, length, false)) return { ...NOT_OURS, map: null };
    const got = this.libc.mmap(u64(addr), u64(length), prot | 0, flags | 0, fd | 0, s64(offset));
    if (got === -1 || typeof got !== 'number') return { ...this.fail(), map: null };
    // how to touch it: files (memfd, shmem, regular files) can fault past EOF; dma-bufs,
    // devices and anonymous memory cannot inside the mapping
    let kind: Kind = 'direct';
    if ((flags & MAP_ANONYMOUS) === 0 && this.libc.fstat(fd | 0, this.statBuf) === 0) {
      if ((decodeStat(this.statBuf, this.arch).mode & S_IFMT) === S_IFREG) kind = 'file';
    }
    const span = this.mem.pageAlign(length);
    this.mem.mapped(got, got + span, prot & (PROT_READ | PROT_WRITE | PROT_EXEC), kind);
    const views: (ArrayBuffer | null)[] = kind === 'direct' ? new Array<ArrayBuffer | null>(Math.ceil(span / VIEW_CHUNK)).fill(null) : [];
    const map: MapHandle = Object.freeze({ addr: got, length });
    this.maps.set(map, { addr: got, length, span, kind, views });
    return { ret: got, errno: null, map };
  }

  munmap(map: MapHandle): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCLong(map.addr) || !isCLong(map.length)) return BAD_ARG;
    const m = this.maps.get(map);
    // a handle this target did not make, or one already unmapped: never pass its range to the
    // kernel (Node may own those addresses now); munmap of an unmapped range succeeds
    if (m === undefined) return { ret: 0, errno: null };
    m.views = null;
    this.maps.delete(map);
    const range = { start: m.addr, end: m.addr + m.span };
    if (this.vouch(m.addr, m.length, false)) {
      const r = this.res(this.libc.munmap(m.addr, u64(m.length)));
      this.resync([range]);
      return r;
    }
    // part of its range is no longer this target's (moved away by mremap, taken since): only
    // the pages this target still maps there go
    for (const s of this.mem.segments()) {
      const a = Math.max(s.start, range.start);
      const e = Math.min(s.end, range.end);
      if (a < e) this.libc.munmap(a, u64(e - a));
    }
    this.resync([range]);
    return OK0;
  }

  /**
   * The address-range calls (SyscallTarget.mm). A range reaches the kernel only when this
   * target can vouch for every page in it ({@link vouch}); else EFAULT without a call. Poisoning
   * pages (MADV_HWPOISON, MADV_SOFT_OFFLINE) would kill this process: EPERM without a call.
   * Afterwards the ranges the call touched are read back from /proc/self/maps.
   */
  mm(c: MmCall): MmapResult {
    const g = this.gone();
    if (g !== null) return { ...g, map: null };
    if (!isCLong(c.addr) || !isCLong(c.length)) return { ...BAD_ARG, map: null };
    const ps = this.pageSize;
    // mlock rounds the start down to its page; the others refuse an unaligned start (EINVAL) first
    const rounds = c.op === 'mlock' || c.op === 'munlock';
    const start = rounds ? Math.floor(c.addr / ps) * ps : c.addr;
    const len = rounds ? c.length + (c.addr - start) : c.length;
    const touched: { start: number; end: number }[] = [];
    if (len > 0 && start % ps === 0 && start + len <= 2 ** 64) touched.push({ start, end: start + this.mem.pageAlign(len) });
    if (!this.vouch(start, len, c.op === 'mremap')) return { ...NOT_OURS, map: null };
    const addr = u64(c.addr);
    const length = u64(c.length);
    let ret = -1;
    const map: MapHandle | null = null;
    switch (c.op) {
      case 'munmap': ret = this.libc.munmap(addr, length); break;
      case 'mprotect': {
        if (!isCInt(c.prot)) return { ...BAD_ARG, map: null };
        ret = this.libc.mprotect(addr, length, c.prot | 0);
        break;
      }
      case 'madvise': {
        if (!isCInt(c.advice)) return { ...BAD_ARG, map: null };
        if (c.advice === MADV_HWPOISON || c.advice === MADV_SOFT_OFFLINE) return { ret: -1, errno: 'EPERM', map: null };
        ret = this.libc.madvise(addr, length, c.advice | 0);
        if (ret === 0 && touched[0] !== undefined && (c.advice === MADV_GUARD_INSTALL || c.advice === MADV_GUARD_REMOVE)) {
          this.mem.guard(touched[0].start, touched[0].end, c.advice === MADV_GUARD_INSTALL);
        }
        break;
      }
      case 'msync': {
        if (!isCInt(c.flags)) return { ...BAD_ARG, map: null };
        ret = this.libc.msync(addr, length, c.flags | 0);
        break;
      }
      case 'mlock': {
        if (!isCInt(c.flags)) return { ...BAD_ARG, map: null };
        ret = c.flags === 0 ? this.libc.mlock(addr, length) : this.libc.mlock2(addr, length, c.flags >>> 0);
        break;
      }
      case 'munlock': ret = this.libc.munlock(addr, length); break;
      case 'mremap': {
        if (!isCLong(c.newLength) || !isCLong(c.newAddr) || !isCInt(c.flags)) return { ...BAD_ARG, map: null };
        // the destination of MREMAP_FIXED is replaced as MAP_FIXED would
        if ((c.flags & MREMAP_FIXED) !== 0 && !this.vouch(c.newAddr, c.newLength, false)) return { ...NOT_OURS, map: null };
        const kind = this.mem.kindAt(c.addr) ?? 'file';
        const got = this.libc.mremap(addr, length, u64(c.newLength), c.flags | 0, u64(c.newAddr));
        if (got === -1 || typeof got !== 'number') {
          const f = this.fail();
          this.resync(touched);
          return { ...f, map: null };
        }
        const span = this.mem.pageAlign(c.newLength);
        const dest = { start: got, end: got + span };
        this.resync([...touched, dest], kind, [dest]);
        const h: MapHandle = Object.freeze({ addr: got, length: c.newLength });
        this.maps.set(h, { addr: got, length: c.newLength, span, kind, views: kind === 'direct' ? new Array<ArrayBuffer | null>(Math.ceil(span / VIEW_CHUNK)).fill(null) : [] });
        return { ret: got, errno: null, map: h };
      }
    }
    const r = this.res(ret);
    this.resync(touched);
    return { ...r, map };
  }

  /**
   * Whether the page range a call would act on, [start, start + PAGE_ALIGN(len)), may be given
   * to the kernel: every page is mapped by this target, or is a hole it made that
   * /proc/self/maps still shows free. A call the kernel refuses before looking at any page is
   * always allowed: an unaligned start (EINVAL), a start beyond any TASK_SIZE (2^63 and up as an
   * unsigned long), no length, or a range that wraps (end <= start in unsigned arithmetic,
   * computed exactly). `dupZero`: mremap's old_len 0 (duplicate a shared mapping) names the page
   * at start.
   */
  private vouch(start: number, len: number, dupZero: boolean): boolean {
    const ps = this.pageSize;
    if (start < 0 || start % ps !== 0) return true;
    const psB = BigInt(ps);
    const ulen = len < 0 ? (1n << 64n) + BigInt(len) : BigInt(len);
    const spanB = ulen === 0n ? (dupZero ? psB : 0n) : ((ulen + psB - 1n) / psB) * psB;
    if (spanB === 0n || BigInt(start) + spanB >= 1n << 64n) return true;
    // a range beyond what a number holds exactly cannot be this target's
    if (BigInt(start) + spanB > BigInt(Number.MAX_SAFE_INTEGER)) return false;
    const span = Number(spanB);
    const holes = this.mem.ownHoles(start, start + span);
    if (holes === null) return false;
    if (holes.length === 0) return true;
    const lines = this.procMaps();
    if (lines === null) return false;
    return !holes.some((h) => lines.some((l) => l.start < h.end && l.end > h.start));
  }

  /** /proc/self/maps, parsed; null when it cannot be read. */
  private procMaps(): ReturnType<typeof parseMaps> | null {
    try {
      return parseMaps(readFileSync('/proc/self/maps', 'latin1'));
    } catch {
      return null;
    }
  }

  /** Reads back what the kernel now maps in `ranges` (this target's pages there). */
  private resync(ranges: readonly { start: number; end: number }[], newKind: Kind = 'file', addToArena: readonly { start: number; end: number }[] = []): void {
    if (ranges.length === 0) return;
    const lines = this.procMaps();
    if (lines === null) return;
    this.mem.resync(lines, ranges, newKind, addToArena);
  }

  /**
   * The mapping for an access of `length` bytes at `offset` of a handle, or the signal the
   * access would get: the pages must be mapped by this target now (the handle's own, up to the
   * end of its last page, or another mapping's beyond it), with the protection the access needs,
   * and carry no guard marker. How: through the handle's views when every page is directly
   * touchable and inside the handle's pages, else probed (process_vm_readv/writev).
   */
  private access(map: MapHandle, offset: number, length: number, write: boolean): { m: MapState; probe: boolean } | NonNullable<Fault> {
    const m = this.maps.get(map);
    if (m === undefined) return 'SIGSEGV';
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) return 'SIGSEGV';
    if (length === 0) return { m, probe: false };
    const a = m.addr + offset;
    const segs = this.mem.covering(a, length);
    if (segs === null) return 'SIGSEGV';
    // PROT_WRITE implies read on both architectures; PROT_EXEC is readable on x86-64
    for (const s of segs) {
      const readable = (s.prot & (PROT_READ | PROT_WRITE)) !== 0 || (this.arch === 'x86_64' && (s.prot & PROT_EXEC) !== 0);
      if (write ? (s.prot & PROT_WRITE) === 0 : !readable) return 'SIGSEGV';
    }
    if (this.mem.guarded(a, length)) return 'SIGSEGV';
    const inHandle = offset + length <= m.span && m.views !== null && m.kind === 'direct';
    const direct = segs.every((s) => s.kind === 'direct');
    return { m, probe: !(inHandle && direct) || this.mem.guardsEver };
  }

  readMem(map: MapHandle, offset: number, length: number): Uint8Array | NonNullable<Fault> {
    const m = this.access(map, offset, length, false);
    if (typeof m === 'string') return m;
    const out = new Uint8Array(length);
    return this.transfer(m, offset, out, false) ?? out;
  }

  readMemInto(map: MapHandle, offset: number, dst: Uint8Array): Fault {
    const m = this.access(map, offset, dst.length, false);
    return typeof m === 'string' ? m : this.transfer(m, offset, dst, false);
  }

  writeMem(map: MapHandle, offset: number, data: Uint8Array): Fault {
    const m = this.access(map, offset, data.length, true);
    return typeof m === 'string' ? m : this.transfer(m, offset, data, true);
  }

  /** Moves bytes between a checked range of a mapping and `data`: through the views, or probed for SIGBUS (file mappings). */
  private transfer(acc: { m: MapState; probe: boolean }, offset: number, data: Uint8Array, store: boolean): Fault {
    if (data.length === 0) return null;
    if (acc.probe) return this.xfer(acc.m, offset, data, store) ? null : 'SIGBUS';
    this.copyViews(acc.m, offset, data, store);
    return null;
  }

  /** Copies between the mapping's views and `data` (store: into the mapping). */
  private copyViews(m: MapState, offset: number, data: Uint8Array, store: boolean): void {
    const views = m.views!;
    let done = 0;
    while (done < data.length) {
      const at = offset + done;
      const i = Math.floor(at / VIEW_CHUNK);
      const view = (views[i] ??= this.libc.koffi.view(m.addr + i * VIEW_CHUNK, Math.min(VIEW_CHUNK, m.span - i * VIEW_CHUNK)));
      const inView = at % VIEW_CHUNK;
      const n = Math.min(data.length - done, view.byteLength - inView);
      const win = new Uint8Array(view, inView, n);
      if (store) win.set(data.subarray(done, done + n));
      else data.set(win, done);
      done += n;
    }
  }

  /**
   * Moves bytes between a file-backed mapping and `data` with process_vm_readv/writev on this
   * process: where a load or store would raise SIGBUS (a page past the end of the file) they
   * return EFAULT or a short count instead. False when some page would fault.
   */
  private xfer(m: MapState, offset: number, data: Uint8Array, store: boolean): boolean {
    if (xfer === null) {
      const p = this.libc.malloc(XFER_SIZE);
      if (p === 0) throw new Error('malloc failed');
      xfer = { addr: p, view: new Uint8Array(this.libc.koffi.view(p, XFER_SIZE)) };
    }
    const scratch = xfer.view;
    const pid = process.pid;
    const iov = this.iov;
    let done = 0;
    while (done < data.length) {
      const n = Math.min(XFER_SIZE, data.length - done);
      iov.writeBigUInt64LE(BigInt(xfer.addr), 0);
      iov.writeBigUInt64LE(BigInt(n), 8);
      iov.writeBigUInt64LE(BigInt(m.addr + offset + done), 16);
      iov.writeBigUInt64LE(BigInt(n), 24);
      const local = iov.subarray(0, 16);
      const remote = iov.subarray(16, 32);
      if (store) {
        scratch.set(data.subarray(done, done + n));
        if (this.libc.processVmWritev(pid, local, 1, remote, 1, 0) !== n) return false;
      } else {
        if (this.libc.processVmReadv(pid, local, 1, remote, 1, 0) !== n) return false;
        data.set(scratch.subarray(0, n), done);
      }
      done += n;
    }
    return true;
  }

  pagemap(map: MapHandle, page: number): PagemapResult {
    const none = { present: false, pfn: null, entry: null };
    const g = this.gone();
    if (g !== null) return { ...g, ...none };
    if (!isCLong(page)) return { ...BAD_ARG, ...none };
    const fd = this.libc.open('/proc/self/pagemap', this.fc.O_RDONLY | this.fc.O_CLOEXEC, 0);
    if (fd < 0) return { ...this.fail(), ...none };
    try {
      const b = this.argBuf(8);
      const pos = (Math.floor(map.addr / this.pageSize) + page) * 8;
      const n = this.libc.pread(fd, b, 8, s64(pos));
      if (n < 0) return { ...this.fail(), ...none };
      if (n !== 8) return { ret: n, errno: null, ...none };
      const entry = b.readBigUInt64LE(0);
      const present = (entry >> 63n) === 1n;
      return { ret: 8, errno: null, present, pfn: present ? Number(entry & ((1n << 55n) - 1n)) : null, entry };
    } finally {
      this.libc.close(fd);
    }
  }

  // ---- files -------------------------------------------------------------------------------

  read(fd: number, count: number): SysResult & { readonly data: Uint8Array | null } {
    const g = this.gone();
    if (g !== null) return { ...g, data: null };
    if (!isCInt(fd)) return { ...BAD_FD, data: null };
    // never let the kernel write past the buffer: a count that no buffer here can hold is EFAULT,
    // as for a C program whose buffer is smaller than its count; one that is no size_t is EINVAL
    if (!Number.isInteger(count)) return { ret: -1, errno: 'EINVAL', data: null };
    if (count < 0 || count > 1 << 30) return { ret: -1, errno: 'EFAULT', data: null };
    const b = new Uint8Array(Math.max(count, 1));
    const r = this.res(this.libc.read(fd | 0, b, count));
    return { ...r, data: r.ret >= 0 ? b.slice(0, r.ret) : null };
  }
  write(fd: number, data: Uint8Array): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCInt(fd)) return BAD_FD;
    const b = data.length > 0 ? data : this.arg;
    return this.res(this.libc.write(fd | 0, b, data.length));
  }
  lseek(fd: number, offset: number, whence: number): SysResult {
    if (!isCInt(fd)) return this.gone() ?? BAD_FD;
    if (!isCLong(offset) || !isCInt(whence)) return this.gone() ?? BAD_ARG;
    return this.gone() ?? this.res(this.libc.lseek(fd | 0, s64(offset), whence | 0));
  }
  fstat(fd: number): StatResult {
    const g = this.gone();
    if (g !== null) return { ...g, stat: null };
    if (!isCInt(fd)) return { ...BAD_FD, stat: null };
    const r = this.res(this.libc.fstat(fd | 0, this.statBuf));
    return r.ret < 0 ? { ...r, stat: null } : { ...r, stat: decodeStat(this.statBuf, this.arch) };
  }
  poll(fds: readonly { fd: number; events: number }[], timeout: number): PollResult {
    const g = this.gone();
    if (g !== null) return { ...g, revents: fds.map(() => 0) };
    if (!isCInt(timeout) || fds.some((p) => !isCInt(p.events))) return { ...BAD_ARG, revents: fds.map(() => 0) };
    const b = this.argBuf(Math.max(fds.length * 8, 8));
    fds.forEach((p, i) => {
      // a struct pollfd's fd is an int: a number no int holds names no open file (INT_MAX: POLLNVAL)
      b.writeInt32LE(Number.isInteger(p.fd) && p.fd >= -0x80000000 && p.fd <= 0x7fffffff ? p.fd : 0x7fffffff, i * 8);
      b.writeInt16LE((p.events << 16) >> 16, i * 8 + 4);
      b.writeInt16LE(0, i * 8 + 6);
    });
    const r = this.res(this.libc.poll(b, fds.length, timeout | 0));
    return { ...r, revents: fds.map((_, i) => b.readUInt16LE(i * 8 + 6)) };
  }
  readlink(path: string): TextResult {
    const g = this.gone();
    if (g !== null) return { ...g, text: null };
    try {
      const b = readlinkSync(path, { encoding: 'buffer' });
      return { ret: b.length, errno: null, text: b.toString('latin1') };
    } catch (e) {
      return { ret: -1, errno: fsErrno(e), text: null };
    }
  }
  readdir(path: string): SysResult & { readonly names: readonly string[] | null } {
    const g = this.gone();
    if (g !== null) return { ...g, names: null };
    try {
      const names = readdirSync(path);
      return { ret: names.length, errno: null, names };
    } catch (e) {
      return { ret: -1, errno: fsErrno(e), names: null };
    }
  }
  readFile(path: string): TextResult {
    const g = this.gone();
    if (g !== null) return { ...g, text: null };
    try {
      // node:fs reads to EOF in chunks when st_size is 0 (proc, debugfs seq files) and stops at
      // a short read otherwise (sysfs attributes report 4096)
      const t = readFileSync(path).toString('latin1');
      return { ret: t.length, errno: null, text: t };
    } catch (e) {
      return { ret: -1, errno: fsErrno(e), text: null };
    }
  }
  writeFile(path: string, text: string): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    const fd = this.libc.open(path, this.fc.O_WRONLY | this.fc.O_CLOEXEC, 0);
    if (fd < 0) return this.fail();
    const data = strBytes(text);
    const n = this.libc.write(fd, data.length > 0 ? data : this.arg, data.length);
    const r = this.res(n);
    this.libc.close(fd);
    return r;
  }
  memfdCreate(name: string, flags: number): SysResult {
    if (!isCInt(flags)) return this.gone() ?? BAD_ARG;
    return this.gone() ?? this.fdRes(this.libc.memfdCreate(name, flags >>> 0));
  }
  ftruncate(fd: number, length: number): SysResult {
    if (!isCInt(fd)) return this.gone() ?? BAD_FD;
    if (!isCLong(length)) return this.gone() ?? BAD_ARG;
    return this.gone() ?? this.res(this.libc.ftruncate(fd | 0, s64(length)));
  }
  mkdir(path: string, mode: number): SysResult {
    if (!isCInt(mode)) return this.gone() ?? BAD_ARG;
    return this.gone() ?? this.res(this.libc.mkdir(path, mode >>> 0));
  }
  rmdir(path: string): SysResult {
    return this.gone() ?? this.res(this.libc.rmdir(path));
  }

  // ---- process -----------------------------------------------------------------------------

  setNofile(cur: number, max: number): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCLong(cur) || !isCLong(max)) return BAD_ARG;
    this.rlimBuf.writeBigUInt64LE(u64(cur), 0);
    this.rlimBuf.writeBigUInt64LE(u64(max), 8);
    const r = this.res(this.libc.setrlimit(RLIMIT_NOFILE, this.rlimBuf));
    if (r.ret === 0) this.rlimitChanged = true;
    return r;
  }
  getpid(): number {
    return process.pid;
  }
  openFdCount(): number {
    return openFds(this.libc).length;
  }

  // ---- epoll and AF_UNIX socket pairs (SCM_RIGHTS) -----------------------------------------

  /** st_dev:st_ino of an open fd, or null. */
  private identity(fd: number): string | null {
    if (this.libc.fstat(fd, this.statBuf) !== 0) return null;
    const st = decodeStat(this.statBuf, this.arch);
    return `${st.dev}:${st.ino}`;
  }
  /** Notes a socket or epoll fd this target made (see {@link special}). */
  private own(fd: number): void {
    this.fds.add(fd);
    const id = this.identity(fd);
    if (id !== null) this.special.set(fd, id);
  }

  epollCreate(flags: number): SysResult {
    if (!isCInt(flags)) return this.gone() ?? BAD_ARG;
    const g = this.gone();
    if (g !== null) return g;
    const r = this.libc.epollCreate1(flags | 0);
    if (r < 0) return this.fail();
    this.own(r);
    return { ret: r, errno: null };
  }
  epollCtl(epfd: number, op: number, fd: number, events: number, data: bigint): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCInt(epfd) || !isCInt(fd)) return BAD_FD;
    if (!isCInt(op) || !Number.isInteger(events) || events < -0x80000000 || events > 0xffffffff) return BAD_ARG;
    // struct epoll_event: packed on x86-64 (12 bytes), padded on arm64 (16)
    const size = this.arch === 'x86_64' ? 12 : 16;
    const b = Buffer.alloc(size);
    b.writeUInt32LE(events >>> 0, 0);
    b.writeBigUInt64LE(BigInt.asUintN(64, data), size === 12 ? 4 : 8);
    return this.res(this.libc.epollCtl(epfd | 0, op | 0, fd | 0, b));
  }
  epollWait(epfd: number, maxevents: number, timeout: number): EpollWaitResult {
    const g = this.gone();
    if (g !== null) return { ...g, events: [] };
    if (!isCInt(epfd)) return { ...BAD_FD, events: [] };
    // the buffer holds at most 64 events: a larger count would let the kernel write past it
    if (!isCInt(maxevents) || !isCInt(timeout) || maxevents > 64) return { ...BAD_ARG, events: [] };
    const size = this.arch === 'x86_64' ? 12 : 16;
    const b = Buffer.alloc(64 * size);
    const r = this.res(this.libc.epollWait(epfd | 0, b, maxevents | 0, timeout | 0));
    const n = r.errno === null ? r.ret : 0;
    const events = Array.from({ length: n }, (_, i) => ({ events: b.readUInt32LE(i * size), data: b.readBigUInt64LE(i * size + (size === 12 ? 4 : 8)) }));
    return { ...r, events };
  }
  socketpair(type: number): SysResult & { readonly fds: readonly [number, number] | null } {
    const g = this.gone();
    if (g !== null) return { ...g, fds: null };
    if (!isCInt(type)) return { ...BAD_ARG, fds: null };
    const b = Buffer.alloc(8);
    const r = this.libc.socketpair(AF_UNIX, type | 0, 0, b);
    if (r < 0) return { ...this.fail(), fds: null };
    const fds: [number, number] = [b.readInt32LE(0), b.readInt32LE(4)];
    this.own(fds[0]);
    this.own(fds[1]);
    return { ret: 0, errno: null, fds };
  }
  /** The malloc'd block sendmsg/recvmsg build their msghdr, iovec, control and data in. */
  private msgBlock(): { addr: number; view: Buffer } {
    if (msgBlock === null) {
      const p = this.libc.malloc(MSG_BLOCK);
      if (p === 0) throw new Error('malloc failed');
      msgBlock = { addr: p, view: Buffer.from(this.libc.koffi.view(p, MSG_BLOCK)) };
    }
    return msgBlock;
  }
  /** struct msghdr (56 bytes) at MSG_HDR, one iovec at MSG_IOV, control at MSG_CTL, data at MSG_DATA. */
  private msghdr(len: number, controllen: number): void {
    const { addr, view } = this.msgBlock();
    view.fill(0, 0, MSG_DATA);
    view.writeBigUInt64LE(BigInt(addr + MSG_IOV), MSG_HDR + 16); // msg_iov
    view.writeBigUInt64LE(1n, MSG_HDR + 24); // msg_iovlen
    view.writeBigUInt64LE(controllen === 0 ? 0n : BigInt(addr + MSG_CTL), MSG_HDR + 32); // msg_control
    view.writeBigUInt64LE(BigInt(controllen), MSG_HDR + 40); // msg_controllen
    view.writeBigUInt64LE(BigInt(addr + MSG_DATA), MSG_IOV); // iov_base
    view.writeBigUInt64LE(BigInt(len), MSG_IOV + 8); // iov_len
  }
  sendmsg(sock: number, data: Uint8Array, fds: readonly number[]): SysResult {
    const g = this.gone();
    if (g !== null) return g;
    if (!isCInt(sock) || fds.some((fd) => !isCInt(fd))) return BAD_FD;
    if (data.length < 1 || data.length > MSG_DATA_MAX || fds.length > SCM_MAX_FD) return BAD_ARG;
    const controllen = fds.length === 0 ? 0 : cmsgSpace(fds.length * 4);
    this.msghdr(data.length, controllen);
    const { addr, view } = this.msgBlock();
    view.set(data, MSG_DATA);
    if (fds.length > 0) {
      view.writeBigUInt64LE(BigInt(cmsgLen(fds.length * 4)), MSG_CTL); // cmsg_len
      view.writeInt32LE(SOL_SOCKET, MSG_CTL + 8);
      view.writeInt32LE(SCM_RIGHTS, MSG_CTL + 12);
      fds.forEach((fd, i) => view.writeInt32LE(fd | 0, MSG_CTL + 16 + i * 4));
    }
    return this.res(this.libc.sendmsg(sock | 0, addr + MSG_HDR, MSG_NOSIGNAL));
  }
  recvmsg(sock: number, length: number, maxFds: number, flags: number): RecvmsgResult {
    const none = { data: null, fds: [], flags: 0 };
    const g = this.gone();
    if (g !== null) return { ...g, ...none };
    if (!isCInt(sock)) return { ...BAD_FD, ...none };
    if (!Number.isInteger(length) || length < 1 || length > MSG_DATA_MAX || !Number.isInteger(maxFds) || maxFds < 0 || maxFds > SCM_MAX_FD || !isCInt(flags)) return { ...BAD_ARG, ...none };
    const controllen = maxFds === 0 ? 0 : cmsgSpace(maxFds * 4);
    this.msghdr(length, controllen);
    const { addr, view } = this.msgBlock();
    const r = this.res(this.libc.recvmsg(sock | 0, addr + MSG_HDR, (flags | MSG_DONTWAIT) | 0));
    if (r.errno !== null) return { ...r, ...none };
    const got = Number(view.readBigUInt64LE(MSG_HDR + 40));
    const fds: number[] = [];
    // walk the control messages the kernel wrote (CMSG_FIRSTHDR / CMSG_NXTHDR)
    let off = 0;
    while (off + 16 <= got) {
      const clen = Number(view.readBigUInt64LE(MSG_CTL + off));
      if (clen < 16 || off + clen > got) break;
      if (view.readInt32LE(MSG_CTL + off + 8) === SOL_SOCKET && view.readInt32LE(MSG_CTL + off + 12) === SCM_RIGHTS) {
        for (let i = 16; i + 4 <= clen; i += 4) {
          const fd = view.readInt32LE(MSG_CTL + off + i);
          this.own(fd);
          fds.push(fd);
        }
      }
      off += Math.ceil(clen / 8) * 8;
    }
    const data = Uint8Array.from(view.subarray(MSG_DATA, MSG_DATA + r.ret));
    return { ...r, data, fds, flags: view.readInt32LE(MSG_HDR + 48) };
  }

  // ---- devices and sanitizer: not reachable from user space --------------------------------

  private enosys(note: string): SysResult & { readonly note: string } {
    return { ret: -1, errno: 'ENOSYS', note };
  }
  attach(_fd: number, _device: string): AttachResult {
    return { ...this.enosys(NO_DEVICES_NOTE), handle: null };
  }
  mapAttachment(_handle: number, _dir: DmaDir): MapAttachmentResult {
    return { ...this.enosys(NO_DEVICES_NOTE), entries: null, bounced: false, iova: false };
  }
  unmapAttachment(_handle: number): SysResult {
    return this.enosys(NO_DEVICES_NOTE);
  }
  detach(_handle: number): SysResult {
    return this.enosys(NO_DEVICES_NOTE);
  }
  syncForCpu(_handle: number, _dir?: DmaDir): SysResult {
    return this.enosys(NO_DEVICES_NOTE);
  }
  syncForDevice(_handle: number, _dir?: DmaDir): SysResult {
    return this.enosys(NO_DEVICES_NOTE);
  }
  deviceRead(_device: string, _fd: number, _offset: number, _length: number): SysResult & { readonly data: Uint8Array | null } {
    return { ...this.enosys(NO_DEVICES_NOTE), data: null };
  }
  deviceWrite(_device: string, _fd: number, _offset: number, _data: Uint8Array): SysResult {
    return this.enosys(NO_DEVICES_NOTE);
  }
  deviceStats(_device: string): DeviceStatsResult {
    return { ...this.enosys(NO_DEVICES_NOTE), stats: null };
  }
  sanitizer(_action: 'report' | 'check' | 'clear'): SanitizerResult {
    return { ...this.enosys(NO_SANITIZER_NOTE), reports: null };
  }

  // ---- the end -----------------------------------------------------------------------------

  /**
   * What a process exit would do, for this target's share of the process: unmaps every mapping
   * it made, closes the descriptors it owns (see {@link LinuxTargetOptions.exclusive}) and
   * restores RLIMIT_NOFILE. Later calls answer ESRCH.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    liveTargets.delete(this);
    // what this target maps now (not the handles' ranges: mremap may have moved pages away)
    for (const m of this.maps.values()) m.views = null;
    for (const seg of this.mem.segments()) this.libc.munmap(seg.start, u64(seg.end - seg.start));
    this.maps.clear();
    this.mem.clear();
    if (this.rlimitChanged && this.savedRlimit !== null) this.libc.setrlimit(RLIMIT_NOFILE, this.savedRlimit);
    const others = new Set<number>();
    for (const t of liveTargets) for (const fd of t.fds) others.add(fd);
    const candidates = new Set<number>(this.fds);
    if (this.before !== null) for (const fd of openFds(this.libc)) if (!this.before.has(fd)) candidates.add(fd);
    for (const fd of candidates) {
      if (others.has(fd)) continue;
      let link: string;
      try {
        link = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue; // not open any more
      }
      // never Node's own kinds (its event loop's epoll, eventfds, pipes and sockets), even under a
      // number this target once returned and that was closed and reused behind its back; a socket
      // or epoll instance this target made is closed when the number still names it
      if (/^(pipe|socket):|^anon_inode:\[/.test(link) && (this.special.get(fd) === undefined || this.special.get(fd) !== this.identity(fd))) continue;
      this.libc.close(fd);
    }
    this.fds.clear();
    this.special.clear();
  }
}
