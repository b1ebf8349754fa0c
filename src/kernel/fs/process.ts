/**
 * Processes and the generic half of every syscall: the fd table (lowest free fd, FD_CLOEXEC,
 * RLIMIT_NOFILE), the VFS checks that run before a driver sees a call (fs/read_write.c,
 * fs/ioctl.c, mm/mmap.c, fs/stat.c, fs/select.c), fork/exec/exit and SCM_RIGHTS-style fd passing.
 * Every syscall returns a non-negative result or a negated errno, as the syscall ABI does.
 */
import { Errno } from '../../uapi/errno.js';
import type { FcntlConstants } from '../../uapi/fcntl.js';
import {
  F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_GET_SEALS, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC,
  F_CREATED_QUERY, F_DUPFD_QUERY, F_GET_FILE_RW_HINT, F_GET_RW_HINT, F_GETLEASE, F_GETLK, F_GETOWN, F_GETOWN_EX, F_GETPIPE_SZ, F_GETSIG,
  F_NOTIFY, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID, F_RDLCK, F_SET_FILE_RW_HINT, F_SET_RW_HINT,
  F_SETLEASE, F_SETLK, F_SETLKW, F_SETOWN, F_SETOWN_EX, F_SETPIPE_SZ, F_SETSIG, F_UNLCK, F_WRLCK, RWH_WRITE_LIFE_EXTREME, S_IFMT, S_IFREG,
  EPOLL_CLOEXEC, EPOLL_CTL_DEL,
  MAP_ANONYMOUS, MAP_PRIVATE,
  POLLERR, POLLHUP, POLLIN, POLLNVAL, PROT_READ, PROT_WRITE, SEEK_HOLE,
} from '../../uapi/fcntl.js';
import { File, FMODE_CAN_ODIRECT, FMODE_CAN_READ, FMODE_CAN_WRITE, FMODE_LSEEK, FMODE_OPENED, FMODE_PATH, FMODE_READ, FMODE_WRITE, FMODE_WRITER, newEncodeDev, openFmode } from './file.js';
import type { FileOperations, Inode } from './file.js';
import { AddressSpace, VM_WRITE, mmLayout, vmaUnlinkFile } from './mm-user.js';
import type { FaultKind, UserPager, Vma } from './mm-user.js';
import { RemoteAddressSpace } from './mm-remote.js';
import type { UserMemoryPort } from './mm-remote.js';
import { doMadvise, doMlock, doMlockall, doMmap, doMprotect, doMremap, doMsync, doMunlock, doMunlockall, doMunmap, MM_FEATURES_6_1 } from './mm-syscalls.js';
import type { MmCaller, MmFeatures } from './mm-syscalls.js';
import type { VfsInode } from './vfs.js';
import { FdTable } from './fdtable.js';
import { accessOk, isCInt, isCLong, maxRwCount, ulong } from './limits.js';
import type { Cgroup } from '../cgroup/cgroup.js';
import { strBytes } from '../bytes.js';
import { memfdCreate, memfdFcntl } from '../mm/memfd.js';
import { EP_MAX_EVENTS, eventpollCreate, eventpollCtl, eventpollOf } from './eventpoll.js';
import type { EpollWatches } from './eventpoll.js';
import { MSG_CTRUNC } from './af-unix.js';
import type { UnixNet } from './af-unix.js';
import type { ShmemFs } from '../mm/shmem.js';
import type { Profile } from '../profile.js';

const E = Errno;
/** SEEK_MAX = SEEK_HOLE (include/uapi/linux/fs.h). */
const SEEK_MAX = SEEK_HOLE;
/**
 * The most bytes one file operation call moves for read(2) (the kernel's bounce buffer here): a
 * larger count is served in pieces of this size, so a huge count costs no more memory than this.
 */
const RW_CHUNK = 1 << 20;

/** What a process needs from the kernel instance (kept narrow so fs/ does not import kernel.ts). */
export interface ProcessHost {
  readonly pageSize: number;
  readonly zeroPage: Uint8Array;
  readonly fc: FcntlConstants;
  readonly statLayout: 'x86_64' | 'arm64';
  /** The internal tmpfs mount that memfd_create() makes files on. */
  readonly shmem: ShmemFs;
  /** Resolves a path and opens it (after the fd was reserved). */
  openPath(proc: Process, path: string, flags: number, mode: number): File | number;
  /** Target of a symbolic link (/proc/<pid>/fd/<n>), or a negated errno. */
  readlinkPath(proc: Process, path: string): string | number;
  /** mkdir(2) of a path (after the fd-less VFS entry): 0 or a negated errno. */
  mkdirPath(proc: Process, path: string, mode: number): number;
  /** rmdir(2) of a path: 0 or a negated errno. */
  rmdirPath(proc: Process, path: string): number;
  newPid(): number;
  /** A new process: `parent` is the forking process (null: forked from init), whose cgroup it joins. */
  registerProcess(p: Process, parent: Process | null): void;
  unregisterProcess(p: Process): void;
  /** Where the address space of `p` gets the pages it faults in (the page allocator, the memcg, the OOM killer). */
  userPager(p: Process): UserPager;
  /**
   * __vm_enough_memory() for a mapping of `pages` pages that is charged against the overcommit
   * policy (false: ENOMEM).
   */
  vmEnoughMemory(pages: number): boolean;
  /** find_get_pid() in the initial pid namespace: the live process with that pid, or null. */
  findProcess?(pid: number): Process | null;
  /** v6.9: pidfd_open() accepts PIDFD_THREAD. */
  readonly pidfdThread?: boolean;
  /** What mm does in this kernel version (default: 6.1's). */
  readonly mmFeatures?: MmFeatures;
  /** Every user's epoll watches and fs.epoll.max_user_watches. */
  readonly epollWatches?: EpollWatches;
  /** AF_UNIX sockets of this kernel (socketpair, SCM_RIGHTS). */
  readonly unixNet?: UnixNet;
  /** The anon_inode file system's shared inode and its mount id (epoll instances live there). */
  anonInode?(): { readonly inode: Inode; readonly mntId: number };
  /** The version facts of the generic file layer (fcntl queries, F_ADD_SEALS's argument, leases, epoll on debugfs). */
  readonly profile?: Pick<Profile, 'fcntlQueries' | 'fcntlSealArgU32' | 'setleaseNeedsOp' | 'procFdSize' | 'debugfsPollAlways' | 'fileRwHint'>;
}

/** pidfs (v6.9; before it, the anon_inode mount): mount id and st_dev the emulator gives pidfds. */
export const PIDFS_MNT_ID = 16;
export const PIDFS_DEV = 13;
/** Inode numbers of pidfs files: one inode per process (pidfs keeps one per struct pid). */
const PIDFS_INO_BASE = 0x300000;

/**
 * The file operations of a pidfd: poll (ready once the process has exited) and the fdinfo lines
 * `Pid:` and `NSpid:` (-1 once the process is gone). private_data is the target Process.
 * @kernel fs/pidfs.c pidfs_file_operations, pidfd_show_fdinfo, pidfd_poll
 */
export const PIDFD_FOPS: FileOperations = {
  poll: (f, events) => ((f.priv as Process).alive ? 0 : events & POLLIN),
  showFdinfo: (f) => {
    const p = f.priv as Process;
    const nr = p.alive ? p.pid : -1;
    return `Pid:\t${nr}\nNSpid:\t${nr}\n`;
  },
};

/** pidfd_pid(): the process a pidfd refers to, or null when `f` is not a pidfd (the caller's EBADF). */
export function pidfdProcess(f: File): Process | null {
  return f.fop === PIDFD_FOPS ? (f.priv as Process) : null;
}

/** __O_TMPFILE (include/uapi/asm-generic/fcntl.h): O_TMPFILE without its O_DIRECTORY. */
export const O_TMPFILE_BIT = 0o20000000;
/** sizeof(struct flock) on 64-bit: l_type, l_whence (shorts), l_start, l_len (off_t), l_pid. */
const FLOCK_SIZE = 32;
/** FASYNC (O_ASYNC): the same on both architectures. */
const O_ASYNC = 0o20000;

/**
 * VALID_OPEN_FLAGS (include/linux/fcntl.h): every bit open(2) knows; the others are dropped.
 * O_SYNC includes O_DSYNC, O_TMPFILE includes O_DIRECTORY.
 */
export function validOpenFlags(fc: FcntlConstants): number {
  return fc.O_ACCMODE | fc.O_CREAT | fc.O_EXCL | fc.O_NOCTTY | fc.O_TRUNC | fc.O_APPEND | fc.O_NONBLOCK | fc.O_DSYNC | O_ASYNC |
    fc.O_DIRECT | fc.O_LARGEFILE | fc.O_DIRECTORY | fc.O_NOFOLLOW | fc.O_NOATIME | fc.O_CLOEXEC | fc.O_SYNC | fc.O_PATH | fc.O_TMPFILE;
}

/** DEFAULT_POLLMASK (include/linux/poll.h): POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM. */
export const DEFAULT_POLLMASK = 0x145;
/** INR_OPEN_CUR / INR_OPEN_MAX (include/uapi/linux/fs.h) and sysctl fs.nr_open (fs/file.c). */
export const INR_OPEN_CUR = 1024;
export const INR_OPEN_MAX = 4096;
export const NR_OPEN = 1048576;
/** MLOCK_LIMIT (include/uapi/linux/resource.h): the default RLIMIT_MEMLOCK, 8 MiB. */
export const MLOCK_LIMIT = 8 * 1024 * 1024;

/** Generic ioctls handled by do_vfs_ioctl() before the driver (fs/ioctl.c; include/uapi/asm-generic/ioctls.h). */
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const FIOASYNC = 0x5452;
const FIONBIO = 0x5421;
const FIOQSIZE = 0x5460;
const FIGETBSZ = 0x2;
const FASYNC = 0o20000;

export interface Credentials {
  uid: number;
  gid: number;
  groups: number[];
}

/** Where a mirrored process's fd numbers come from (see Process.fdAllocator). */
export interface FdAllocator {
  /** Installs `file` in the real process at the lowest free fd at or above `start`: the number, or a negated errno. */
  install(file: File, cloexec: boolean, start: number): number;
  /** The real process's lowest free fd (nothing installed), or a negated errno. */
  lowestFree(): number;
}

export class Process {
  /**
   * The fd table (files_struct): sparse entries and Linux's two search bitmaps, so neither its
   * memory nor the lowest-free-fd search grows with an fd number (fs/fdtable.ts).
   */
  private fdt = new FdTable();
  /** RLIMIT_NOFILE soft and hard limits. */
  nofile = { cur: INR_OPEN_CUR, max: INR_OPEN_MAX };
  /** RLIMIT_MEMLOCK soft and hard limits in bytes (MLOCK_LIMIT: 8 MiB since v5.16). */
  memlock = { cur: MLOCK_LIMIT, max: MLOCK_LIMIT };
  mm: AddressSpace;
  /** A fatal signal (SIGKILL) is pending: long kernel loops bail out with EINTR. */
  fatalSignalPending = false;
  /** Set when the process was killed: by a fault in user space, or by the OOM killer (SIGKILL). */
  killedBy: FaultKind | null = null;
  /**
   * oom_score_adj (-1000..1000, /proc/<pid>/oom_score_adj): added to the OOM badness in
   * thousandths of the memory; -1000 makes the process unkillable by the OOM killer. Inherited
   * by fork.
   */
  oomScoreAdj = 0;
  /** signal->oom_score_adj_min: the lowest value a write without CAP_SYS_RESOURCE may set. */
  oomScoreAdjMin = 0;
  alive = true;
  /** Name shown by tools (comm). */
  comm: string;
  /** The cgroup (v2) the process belongs to (task->cgroups); set when the kernel registers it. */
  cgroup: Cgroup | null = null;
  /** Gives the pages this process faults in (charged to its memory cgroup). */
  private readonly pager: UserPager;
  /**
   * Where fd numbers come from when they are not the emulator's to choose: a process of `dmaheap
   * run` mirrors a real one, whose kernel picks each number (the hook installs the file there and
   * returns the number it got, or a negated errno). Null: the lowest free fd of this table.
   */
  fdAllocator: FdAllocator | null = null;
  /** A number reserveFd() took for the next installFd() (get_unused_fd_flags before fd_install). */
  private reservedFd: number | null = null;
  /** The memory of a mirrored process (`dmaheap run`): its user accesses reach the real process. Null: emulated memory. */
  private userMemory: UserMemoryPort | null = null;

  constructor(
    readonly host: ProcessHost,
    /** Changes only when a mirrored process learns the pid its real counterpart got (Kernel.renumberProcess). */
    public pid: number,
    public cred: Credentials,
    comm = 'init',
    userMemory: UserMemoryPort | null = null,
  ) {
    this.pager = host.userPager(this);
    this.userMemory = userMemory;
    this.mm = this.newAddressSpace();
    this.comm = comm;
  }

  private newAddressSpace(): AddressSpace {
    const layout = mmLayout(this.host.statLayout, this.host.pageSize);
    const mm = this.userMemory !== null
      ? new RemoteAddressSpace(this.host.pageSize, this.host.zeroPage, layout, this.pager, this.userMemory)
      : new AddressSpace(this.host.pageSize, this.host.zeroPage, layout, this.pager);
    mm.ownerPid = this.pid;
    mm.mergeIntoNoAnonVma = (this.host.mmFeatures ?? MM_FEATURES_6_1).mergeIntoNoAnonVma;
    return mm;
  }

  /**
   * Makes this process the mirror of a real one (`dmaheap run`): from now on its user memory is
   * the real process's, reached through `port`, and its address space starts empty (it holds the
   * mirrors of the real mappings of emulated files only).
   */
  attachUserMemory(port: UserMemoryPort): void {
    this.userMemory = port;
    for (const v of this.mm.teardown()) this.closeVma(v);
    this.mm = this.newAddressSpace();
  }

  // ---- fd table (fs/file.c) --------------------------------------------------------------

  /**
   * The file behind `fd`, or null (fdget(), fget()): a number that is not an open descriptor (a
   * fraction, NaN, negative) has none, and neither has an O_PATH fd, which only the calls that
   * take {@link fileRaw} accept.
   */
  file(fd: number): File | null {
    const f = this.fdt.get(fd);
    return f === undefined || (f.mode & FMODE_PATH) !== 0 ? null : f;
  }

  /** The file behind `fd`, O_PATH files included (fdget_raw(): close, dup, fcntl, fstat, SCM_RIGHTS, /proc). */
  fileRaw(fd: number): File | null {
    return this.fdt.get(fd) ?? null;
  }

  /** FD_CLOEXEC of an open fd (false for a closed one). */
  isCloexec(fd: number): boolean {
    return this.fdt.isCloexec(fd);
  }

  /** The open fds, ascending (what /proc/<pid>/fd lists). */
  openFds(): number[] {
    return this.fdt.fds();
  }

  /** get_unused_fd_flags() + fd_install(): the lowest free fd at or above `start`, or -EMFILE. */
  installFd(file: File, cloexec: boolean, start = 0): number {
    const t = this.fdt;
    if (this.fdAllocator !== null) {
      const fd = this.fdAllocator.install(file, cloexec, this.reservedFd ?? start);
      this.reservedFd = null;
      if (fd >= 0) this.installFdAt(fd, file, cloexec);
      return fd;
    }
    const fd = t.lowestFree(Math.max(start, t.nextFd));
    if (fd >= this.nofile.cur) return -E.EMFILE;
    if (start <= t.nextFd) t.nextFd = fd + 1;
    t.set(fd, file, cloexec);
    return fd;
  }

  /**
   * Puts `file` at `fd` (the caller holds the reference it gives the table), dropping what was
   * there: how a mirrored process follows a number its real counterpart's kernel chose.
   */
  installFdAt(fd: number, file: File, cloexec: boolean): void {
    const old = this.fdt.delete(fd);
    this.fdt.set(fd, file, cloexec);
    if (old !== undefined) old.put();
  }

  /** Removes fd from the table without dropping the file reference (close_fd's first half). */
  private detachFd(fd: number): File | null {
    return this.fdt.delete(fd) ?? null;
  }

  /** Number of open fds. */
  openFdCount(): number {
    return this.fdt.size;
  }

  // ---- syscalls --------------------------------------------------------------------------

  /**
   * open(2). The fd is reserved before the path is resolved, so EMFILE wins over ENOENT.
   * @kernel fs/open.c do_sys_openat2, build_open_flags (O_LARGEFILE forced on 64-bit)
   */
  open(path: string, flags: number, mode = 0): number {
    if (!this.alive) return -E.ESRCH;
    if (!isCInt(flags) || !isCInt(mode)) return -E.EINVAL;
    const fc = this.host.fc;
    // build_open_how(): bits open(2) does not know are dropped (never seen by F_GETFL), and
    // O_PATH beats everything else
    let how = (flags | fc.O_LARGEFILE) & validOpenFlags(fc);
    if ((how & fc.O_PATH) !== 0) how &= fc.O_DIRECTORY | fc.O_NOFOLLOW | fc.O_PATH | fc.O_CLOEXEC;
    // build_open_flags(): O_TMPFILE needs O_DIRECTORY (part of its value) and write access
    if ((how & O_TMPFILE_BIT) !== 0 && ((how & fc.O_DIRECTORY) === 0 || (how & fc.O_ACCMODE) === fc.O_RDONLY)) return -E.EINVAL;
    if (this.reserveCheck() < 0) return -E.EMFILE;
    const f = this.host.openPath(this, path, how & ~fc.O_CLOEXEC, mode);
    if (typeof f === 'number') return f;
    return this.installFd(f, (how & fc.O_CLOEXEC) !== 0);
  }

  /**
   * get_unused_fd_flags() for a caller that tells user space the number before it installs the
   * file (the next installFd() puts it there): the number, or -EMFILE.
   */
  reserveFd(): number {
    if (this.fdAllocator === null) return this.reserveCheck();
    const fd = this.fdAllocator.lowestFree();
    if (fd >= 0) this.reservedFd = fd;
    return fd;
  }

  /** get_unused_fd_flags() without installing: -EMFILE when the table is full. */
  reserveCheck(): number {
    // a mirrored process's real kernel reserves (and refuses with EMFILE) itself
    if (this.fdAllocator !== null) return 0;
    const fd = this.fdt.lowestFree(this.fdt.nextFd);
    return fd >= this.nofile.cur ? -E.EMFILE : fd;
  }

  /** close(2) @kernel fs/open.c close_fd */
  close(fd: number): number {
    const f = this.detachFd(fd);
    if (f === null) return -E.EBADF;
    f.put();
    if (f.count > 0) f.fop.afterClose?.(f);
    return 0;
  }

  /**
   * pidfd_open(2): flags other than PIDFD_NONBLOCK (O_NONBLOCK) and, from v6.9, PIDFD_THREAD
   * (O_EXCL) → EINVAL; pid ≤ 0 → EINVAL; no such process → ESRCH; then a close-on-exec fd (the
   * lowest free one, EMFILE when none) for a pidfs file opened O_RDWR (plus O_NONBLOCK when
   * asked), whose /proc/<pid>/fd link reads `anon_inode:[pidfd]`. Every emulated process is a
   * single-threaded thread-group leader, so PIDFD_THREAD changes nothing else.
   * @kernel kernel/pid.c sys_pidfd_open, pidfd_create; fs/pidfs.c pidfd_prepare (kernel/fork.c before v6.9), pidfs_dname
   */
  pidfdOpen(pid: number, flags: number): number {
    if (!this.alive) return -E.ESRCH;
    const fc = this.host.fc;
    if (!isCInt(flags)) return -E.EINVAL;
    const allowed = fc.O_NONBLOCK | (this.host.pidfdThread === true ? fc.O_EXCL : 0);
    if ((flags & ~allowed) >>> 0 !== 0) return -E.EINVAL;
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) return -E.EINVAL;
    const target = this.host.findProcess?.(pid) ?? null;
    if (target === null || !target.alive) return -E.ESRCH;
    if (this.reserveCheck() < 0) return -E.EMFILE;
    const fflags = fc.O_RDWR | (flags & (fc.O_NONBLOCK | fc.O_EXCL));
    // no type bits; an anon_inode's mode is 0600, a pidfs inode's 0700 (v6.9, pidfs_init_inode's S_IRWXU;
    // the 6.12 and 7.3 referees' fstat of a pidfd reopened through /proc/self/fd, vfs-walk.c)
    // @kernel fs/anon_inodes.c alloc_anon_inode; fs/pidfs.c pidfs_init_inode
    const inode: VfsInode = {
      ino: PIDFS_INO_BASE + target.pid, mode: this.host.pidfdThread === true ? 0o700 : 0o600, uid: target.cred.uid, gid: target.cred.gid, rdev: 0, dev: PIDFS_DEV, size: 0,
      // pidfs (v6.9) gives its inodes file operations: /proc/<pid>/fd/<n> opens another pidfd of
      // the same process (6.12 and 7.3 oracles); an anon_inode before it cannot be opened (ENXIO)
      op: this.host.pidfdThread === true ? { open: (_at, oflags) => new File(PIDFD_FOPS, inode, oflags, openFmode(oflags) | FMODE_OPENED, 'anon_inode:[pidfd]', PIDFS_MNT_ID, target) } : {},
    };
    const f = new File(PIDFD_FOPS, inode, fflags, openFmode(fflags) | FMODE_OPENED, 'anon_inode:[pidfd]', PIDFS_MNT_ID, target);
    return this.installFd(f, true);
  }

  /**
   * memfd_create(2): `name` is the string the caller passes (up to its first NUL); returns the
   * new fd or a negated errno.
   * @kernel mm/memfd.c memfd_create
   */
  memfdCreate(name: string, flags: number): number {
    if (!this.alive) return -E.ESRCH;
    if (!isCInt(flags)) return -E.EINVAL;
    return memfdCreate(this.host.shmem, this, name, flags);
  }

  /**
   * ftruncate(2): a negative length (or one no loff_t holds) → EINVAL; a bad fd → EBADF; not a
   * regular file or not open for writing → EINVAL (O_LARGEFILE is forced on 64-bit, so no 2 GiB
   * limit); then the file system's setattr (tmpfs: past s_maxbytes → EFBIG, seals → EPERM).
   * @kernel fs/open.c do_sys_ftruncate, do_truncate
   */
  ftruncate(fd: number, length: number): number {
    if (!Number.isInteger(length) || length < 0 || length >= 2 ** 63) return -E.EINVAL;
    const f = this.file(fd);
    if (f === null) return -E.EBADF;
    if ((f.inode.mode & 0o170000) !== 0o100000 || (f.mode & FMODE_WRITE) === 0) return -E.EINVAL;
    const op = f.fop.setattrSize;
    if (op === undefined) return -E.EINVAL;
    return op(f, length);
  }

  /** dup(2) @kernel fs/file.c ksys_dup */
  dup(fd: number): number {
    const f = this.fileRaw(fd);
    if (f === null) return -E.EBADF;
    const nfd = this.installFd(f, false);
    if (nfd >= 0) f.get();
    return nfd;
  }

  /**
   * dup2(2) / dup3(2): flags other than O_CLOEXEC → EINVAL; oldfd = newfd → EINVAL; newfd at or
   * above RLIMIT_NOFILE (or not a descriptor number at all) → EBADF; oldfd not open → EBADF.
   * @kernel fs/file.c ksys_dup3, do_dup2
   */
  dup3(oldfd: number, newfd: number, flags = 0): number {
    const fc = this.host.fc;
    if (!isCInt(flags) || (flags & ~fc.O_CLOEXEC) !== 0) return -E.EINVAL;
    if (oldfd === newfd) return -E.EINVAL;
    if (!Number.isInteger(newfd) || newfd < 0 || newfd >= this.nofile.cur) return -E.EBADF;
    const f = this.fileRaw(oldfd);
    if (f === null) return -E.EBADF;
    f.get();
    const old = this.detachFd(newfd);
    this.fdt.set(newfd, f, (flags & fc.O_CLOEXEC) !== 0);
    old?.put();
    if (old !== null && old.count > 0) old.fop.afterClose?.(old);
    return newfd;
  }

  /**
   * fcntl(2). `cmd` is an int and `arg` an unsigned long (a number neither can be → EINVAL);
   * F_DUPFD takes the low 32 bits of `arg` as its unsigned minimum, so a negative one is huge:
   * at or above RLIMIT_NOFILE → EINVAL.
   * @kernel fs/fcntl.c do_fcntl, f_dupfd, setfl
   */
  fcntl(fd: number, cmd: number, arg = 0): number {
    const f = this.fileRaw(fd);
    if (f === null) return -E.EBADF;
    if (!isCInt(cmd) || !isCLong(arg)) return -E.EINVAL;
    const queries = this.host.profile?.fcntlQueries === true;
    // check_fcntl_cmd(): an O_PATH fd answers only these (and the v6.10/v6.12 queries)
    if ((f.mode & FMODE_PATH) !== 0 && cmd !== F_DUPFD && cmd !== F_DUPFD_CLOEXEC && cmd !== F_GETFD && cmd !== F_SETFD && cmd !== F_GETFL &&
      !(queries && (cmd === F_DUPFD_QUERY || cmd === F_CREATED_QUERY))) return -E.EBADF;
    const fc = this.host.fc;
    const argi = Number(BigInt.asIntN(32, BigInt(arg))); // (int)arg
    switch (cmd) {
      case F_DUPFD:
      case F_DUPFD_CLOEXEC: {
        const from = arg >>> 0; // (int)arg, used as an unsigned int
        if (from >= this.nofile.cur) return -E.EINVAL;
        const nfd = this.installFd(f, cmd === F_DUPFD_CLOEXEC, from);
        if (nfd >= 0) f.get();
        return nfd;
      }
      case F_GETFD:
        return this.fdt.isCloexec(fd) ? FD_CLOEXEC : 0;
      case F_SETFD:
        this.fdt.setCloexec(fd, (arg & FD_CLOEXEC) !== 0);
        return 0;
      case F_GETFL:
        return f.flags;
      case F_SETFL: {
        // setfl(): O_NOATIME only for the owner; O_DIRECT needs a file that can do it
        // (FMODE_CAN_ODIRECT); then SETFL_MASK: O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT |
        // O_NOATIME. O_ASYNC goes to the file's fasync op, which no emulated file has: nothing changes
        if ((arg & fc.O_NOATIME) !== 0 && (f.flags & fc.O_NOATIME) === 0 && this.cred.uid !== 0 && this.cred.uid !== f.inode.uid) return -E.EPERM;
        if ((arg & fc.O_DIRECT) !== 0 && (f.mode & FMODE_CAN_ODIRECT) === 0) return -E.EINVAL;
        const mask = fc.O_APPEND | fc.O_NONBLOCK | fc.O_DIRECT | fc.O_NOATIME;
        f.flags = (arg & mask) | (f.flags & ~mask);
        return 0;
      }
      case F_ADD_SEALS:
      case F_GET_SEALS:
        // `arg` is an unsigned long (a negative value is a huge one); from 6.12 (the 6.12 and 7.3
        // referees) do_fcntl() hands memfd_fcntl() its low 32 bits only
        return memfdFcntl(this.host.shmem, f, cmd, this.host.profile?.fcntlSealArgU32 === true ? ulong(arg) % 2 ** 32 : ulong(arg));
      case F_GETLK:
      case F_SETLK:
      case F_SETLKW:
      case F_OFD_GETLK:
      case F_OFD_SETLK:
      case F_OFD_SETLKW:
        return this.fcntlLock(f, cmd, arg);
      case F_GETOWN:
        return f.owner.type === F_OWNER_PGRP ? -f.owner.pid : f.owner.pid;
      case F_SETOWN: {
        // f_setown(): a negative value names a process group
        if (argi === -0x80000000) return -E.EINVAL;
        const who = Math.abs(argi);
        if (who !== 0 && !(this.host.findProcess?.(who)?.alive ?? false)) return -E.ESRCH;
        f.owner = { pid: who, type: argi < 0 ? F_OWNER_PGRP : F_OWNER_PID };
        return 0;
      }
      case F_GETOWN_EX: {
        const b = new Uint8Array(8);
        const dv = new DataView(b.buffer);
        dv.setInt32(0, f.owner.type, true);
        dv.setInt32(4, f.owner.pid, true);
        return this.mm.copyToUser(arg, b) ? 0 : -E.EFAULT;
      }
      case F_SETOWN_EX: {
        const b = this.mm.copyFromUser(arg, 8);
        if (b === null) return -E.EFAULT;
        const dv = new DataView(b.buffer, b.byteOffset, 8);
        const type = dv.getInt32(0, true);
        const pid = dv.getInt32(4, true);
        if (type !== F_OWNER_TID && type !== F_OWNER_PID && type !== F_OWNER_PGRP) return -E.EINVAL;
        if (pid !== 0 && !(this.host.findProcess?.(pid)?.alive ?? false)) return -E.ESRCH;
        f.owner = { pid, type };
        return 0;
      }
      case F_GETSIG:
        return f.signum;
      case F_SETSIG:
        // valid_signal(): 0..._NSIG (64)
        if (argi < 0 || argi > 64) return -E.EINVAL;
        f.signum = argi;
        return 0;
      case F_GETLEASE:
        return f.lease ?? F_UNLCK;
      case F_SETLEASE:
        return this.setlease(f, argi);
      case F_NOTIFY:
        // fcntl_dirnotify() without CONFIG_DNOTIFY (the referees' configuration): EINVAL
        return -E.EINVAL;
      case F_SETPIPE_SZ:
      case F_GETPIPE_SZ:
        // pipe_fcntl(): not a pipe
        return -E.EBADF;
      case F_GET_RW_HINT:
        return this.getRwHint(arg, f.inode.writeHint ?? 0);
      case F_SET_RW_HINT:
        return this.setRwHint(arg, (h) => {
          f.inode.writeHint = h;
        });
      case F_DUPFD_QUERY:
        if (!queries) return -E.EINVAL;
        // f_dupfd_query(): the same open file behind `arg`?
        return this.fileRaw(argi) === f ? 1 : 0;
      case F_CREATED_QUERY:
        // FMODE_CREATED: no emulated open creates a file
        return queries ? 0 : -E.EINVAL;
      case F_GET_FILE_RW_HINT:
      case F_SET_FILE_RW_HINT:
        // removed in v5.18 (EINVAL below); before, the open file's own hint, falling back to the
        // inode's (Profile.fileRwHint; fs/fcntl.c fcntl_rw_hint, file_write_hint)
        if (this.host.profile?.fileRwHint !== true) return -E.EINVAL;
        if (cmd === F_GET_FILE_RW_HINT) return this.getRwHint(arg, f.writeHint ?? f.inode.writeHint ?? 0);
        return this.setRwHint(arg, (h) => {
          f.writeHint = h;
        });
      default:
        // F_CANCELLK and unknown commands
        return -E.EINVAL;
    }
  }

  /** A write-life hint read: the u64 copied out to `arg` (EFAULT). @kernel fs/fcntl.c fcntl_rw_hint */
  private getRwHint(arg: number, hint: number): number {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(hint), true);
    return this.mm.copyToUser(arg, b) ? 0 : -E.EFAULT;
  }

  /** A write-life hint set: the u64 copied in from `arg` (EFAULT), a valid rw_hint (EINVAL), then stored. */
  private setRwHint(arg: number, store: (hint: number) => void): number {
    const b = this.mm.copyFromUser(arg, 8);
    if (b === null) return -E.EFAULT;
    const hint = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    if (hint > BigInt(RWH_WRITE_LIFE_EXTREME)) return -E.EINVAL;
    store(Number(hint));
    return 0;
  }

  /**
   * The record-lock commands: struct flock read from user memory (EFAULT), its type (EINVAL),
   * an OFD lock's l_pid (must be 0), l_whence and the range (EINVAL, EOVERFLOW), the access
   * mode a lock needs (a read lock on a file not open for reading, a write lock on one not open
   * for writing: EBADF). The emulator keeps no lock table (docs/fidelity.md, no-record-locks):
   * every lock is granted and F_GETLK reports F_UNLCK.
   * @kernel fs/locks.c fcntl_getlk, fcntl_setlk, flock_to_posix_lock, check_fmode_for_setlk
   */
  private fcntlLock(f: File, cmd: number, arg: number): number {
    const b = this.mm.copyFromUser(arg, FLOCK_SIZE);
    if (b === null) return -E.EFAULT;
    const dv = new DataView(b.buffer, b.byteOffset, FLOCK_SIZE);
    const type = dv.getInt16(0, true);
    const whence = dv.getInt16(2, true);
    const start = dv.getBigInt64(8, true);
    const len = dv.getBigInt64(16, true);
    const pid = dv.getInt32(24, true);
    const getlk = cmd === F_GETLK || cmd === F_OFD_GETLK;
    const ofd = cmd === F_OFD_GETLK || cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
    if (getlk && type !== F_RDLCK && type !== F_WRLCK) return -E.EINVAL;
    if (ofd && pid !== 0) return -E.EINVAL;
    // flock_to_posix_lock()
    let base: bigint;
    if (whence === 0) base = 0n;
    else if (whence === 1) base = BigInt(f.pos);
    else if (whence === 2) base = BigInt(f.inode.size);
    else return -E.EINVAL;
    const OFFSET_MAX = (1n << 63n) - 1n;
    if (start > OFFSET_MAX - base) return -E.EOVERFLOW;
    const s = base + start;
    if (s < 0n) return -E.EINVAL;
    if (len > 0n && len - 1n > OFFSET_MAX - s) return -E.EOVERFLOW;
    if (len < 0n && s + len < 0n) return -E.EINVAL;
    if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) return -E.EINVAL;
    if (getlk) {
      // posix_test_lock(): nothing conflicts
      dv.setInt16(0, F_UNLCK, true);
      return this.mm.copyToUser(arg, b) ? 0 : -E.EFAULT;
    }
    if (type === F_RDLCK && (f.mode & FMODE_READ) === 0) return -E.EBADF;
    if (type === F_WRLCK && (f.mode & FMODE_WRITE) === 0) return -E.EBADF;
    return 0;
  }

  /**
   * F_SETLEASE: the lease type (EINVAL); from v6.19 a file system without ->setlease refuses
   * (EINVAL); generic_setlease(): the owner or CAP_LEASE (EACCES), a regular file (EINVAL), and
   * no conflicting open: a read lease on a file someone has open for writing, a write lease on
   * one open elsewhere (EAGAIN). F_UNLCK without a lease is EAGAIN (generic_delete_lease).
   * @kernel fs/locks.c fcntl_setlease, vfs_setlease, generic_setlease, check_conflicting_open
   */
  private setlease(f: File, arg: number): number {
    if (arg !== F_RDLCK && arg !== F_WRLCK && arg !== F_UNLCK) return -E.EINVAL;
    if (f.fop.setlease !== true && this.host.profile?.setleaseNeedsOp === true) return -E.EINVAL;
    if (this.cred.uid !== 0 && this.cred.uid !== f.inode.uid) return -E.EACCES;
    if ((f.inode.mode & S_IFMT) !== S_IFREG) return -E.EINVAL;
    const writers = f.inode.writecount ?? 0;
    if (arg === F_UNLCK) {
      if (f.lease === null) return -E.EAGAIN;
      f.lease = null;
      return 0;
    }
    if (arg === F_RDLCK && writers > 0) return -E.EAGAIN;
    if (arg === F_WRLCK && writers !== ((f.mode & FMODE_WRITER) !== 0 ? 1 : 0)) return -E.EAGAIN;
    f.lease = arg;
    return 0;
  }

  // ---- epoll (fs/eventpoll.c) --------------------------------------------------------------

  /** epoll_create1(2): flags other than EPOLL_CLOEXEC → EINVAL; EMFILE when the table is full. @kernel fs/eventpoll.c do_epoll_create */
  epollCreate1(flags: number): number {
    if (!this.alive) return -E.ESRCH;
    if (!isCInt(flags)) return -E.EINVAL;
    const anon = this.host.anonInode?.();
    if (anon === undefined) return -E.ENOSYS;
    if ((flags & ~EPOLL_CLOEXEC) !== 0) return -E.EINVAL;
    if (this.reserveCheck() < 0) return -E.EMFILE;
    const f = eventpollCreate(flags, anon.inode, anon.mntId, this.host.fc.O_RDWR, this.cred.uid, this.host.epollWatches ?? null);
    if (typeof f === 'number') return f;
    return this.installFd(f, (flags & EPOLL_CLOEXEC) !== 0);
  }

  /** epoll_create(2): a size ≤ 0 → EINVAL (the size is otherwise ignored). */
  epollCreate(size: number): number {
    if (!isCInt(size) || size <= 0) return -E.EINVAL;
    return this.epollCreate1(0);
  }

  /** Bytes of struct epoll_event: packed on x86-64 (12), padded elsewhere (16). */
  private get epollEventSize(): number {
    return this.host.statLayout === 'x86_64' ? 12 : 16;
  }

  /**
   * epoll_ctl(2): the event is copied in first (not for EPOLL_CTL_DEL: EFAULT), then both fds
   * (EBADF; O_PATH fds have no file), then the checks of {@link eventpollCtl}.
   * @kernel fs/eventpoll.c sys_epoll_ctl, do_epoll_ctl
   */
  epollCtl(epfd: number, op: number, fd: number, event: number): number {
    if (!isCInt(op) || !isCLong(event)) return -E.EINVAL;
    let events = 0;
    let data = 0n;
    if (op !== EPOLL_CTL_DEL) {
      const b = this.mm.copyFromUser(event, this.epollEventSize);
      if (b === null) return -E.EFAULT;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      events = dv.getUint32(0, true);
      data = dv.getBigUint64(this.epollEventSize === 12 ? 4 : 8, true);
    }
    const ef = this.file(epfd);
    if (ef === null) return -E.EBADF;
    const tf = this.file(fd);
    if (tf === null) return -E.EBADF;
    return eventpollCtl(ef, op, tf, fd, events, data, this.cred.uid === 0);
  }

  /**
   * epoll_wait(2) without sleeping: maxevents ≤ 0 or past EP_MAX_EVENTS → EINVAL, a buffer
   * outside user space → EFAULT, epfd not open → EBADF, not epoll → EINVAL; then what is ready
   * now (0 when nothing is: docs/fidelity.md, poll-never-blocks).
   * @kernel fs/eventpoll.c do_epoll_wait, ep_poll, ep_send_events
   */
  epollWait(epfd: number, events: number, maxevents: number, timeout: number): number {
    if (!isCInt(maxevents) || !isCInt(timeout) || maxevents <= 0 || maxevents > EP_MAX_EVENTS) return -E.EINVAL;
    const size = this.epollEventSize;
    if (!isCLong(events) || !accessOk(events, maxevents * size, this.mm.layout.taskSize)) return -E.EFAULT;
    const f = this.file(epfd);
    if (f === null) return -E.EBADF;
    const ep = eventpollOf(f);
    if (ep === null) return -E.EINVAL;
    return ep.harvest(maxevents, (i, ev, data) => {
      const b = new Uint8Array(size);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, ev >>> 0, true);
      dv.setBigUint64(size === 12 ? 4 : 8, BigInt.asUintN(64, data), true);
      return this.mm.copyToUser(events + i * size, b);
    });
  }

  /**
   * ioctl(2): the generic commands of do_vfs_ioctl() first, then the driver's unlocked_ioctl
   * (ENOTTY when it has none).
   * @kernel fs/ioctl.c __x64_sys_ioctl, do_vfs_ioctl, vfs_ioctl
   */
  ioctl(fd: number, cmd: number, arg: number): number {
    const f = this.file(fd);
    if (f === null) return -E.EBADF;
    if (!isCInt(cmd)) return -E.EINVAL;
    // `arg` is an unsigned long that every emulated ioctl uses as a user pointer
    if (!isCLong(arg)) return -E.EFAULT;
    cmd = cmd >>> 0;
    switch (cmd) {
      case FIOCLEX:
        this.fdt.setCloexec(fd, true);
        return 0;
      case FIONCLEX:
        this.fdt.setCloexec(fd, false);
        return 0;
      case FIONBIO: {
        const v = this.getUserInt(arg);
        if (v === null) return -E.EFAULT;
        const nb = this.host.fc.O_NONBLOCK;
        f.flags = v !== 0 ? f.flags | nb : f.flags & ~nb;
        return 0;
      }
      case FIOASYNC: {
        const v = this.getUserInt(arg);
        if (v === null) return -E.EFAULT;
        const flag = v !== 0 ? FASYNC : 0;
        // none of the emulated files has a fasync op
        if (((flag ^ f.flags) & FASYNC) !== 0) return -E.ENOTTY;
        return 0;
      }
      case FIOQSIZE: {
        const t = f.inode.mode & 0o170000;
        if (t !== 0o040000 && t !== 0o100000 && t !== 0o120000) return -E.ENOTTY;
        break;
      }
      case FIGETBSZ: {
        // put_user(inode->i_sb->s_blocksize): every emulated file system uses PAGE_SIZE blocks
        const b = new Uint8Array(4);
        new DataView(b.buffer).setInt32(0, this.host.pageSize, true);
        return this.mm.copyToUser(arg, b) ? 0 : -E.EFAULT;
      }
    }
    const op = f.fop.ioctl;
    if (op === undefined) return -E.ENOTTY;
    return op(f, this, cmd, arg);
  }

  private getUserInt(addr: number): number | null {
    const b = this.mm.copyFromUser(addr, 4);
    return b === null ? null : new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  }

  /**
   * mmap(2), mm's checks in the kernel's order then the driver's mmap op
   * (src/kernel/fs/mm-syscalls.ts doMmap). An exited process makes no calls (ESRCH).
   */
  mmap(addr: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
    if (!this.alive) return -E.ESRCH;
    return doMmap(this.mmCaller(), addr, length, prot, flags, fd, offset);
  }

  /** munmap(2) (mm-syscalls.ts doMunmap). */
  munmap(addr: number, length: number): number {
    return doMunmap(this.mmCaller(), addr, length);
  }

  /** mprotect(2) (mm-syscalls.ts doMprotect). */
  mprotect(addr: number, length: number, prot: number): number {
    if (!this.alive) return -E.ESRCH;
    return doMprotect(this.mmCaller(), addr, length, prot);
  }

  /** mremap(2): the new address or a negated errno (mm-syscalls.ts doMremap). `newAddr` is read with MREMAP_FIXED or MREMAP_DONTUNMAP. */
  mremap(oldAddr: number, oldLength: number, newLength: number, flags: number, newAddr = 0): number {
    if (!this.alive) return -E.ESRCH;
    return doMremap(this.mmCaller(), oldAddr, oldLength, newLength, flags, newAddr);
  }

  /** madvise(2) (mm-syscalls.ts doMadvise). */
  madvise(addr: number, length: number, advice: number): number {
    if (!this.alive) return -E.ESRCH;
    return doMadvise(this.mmCaller(), addr, length, advice);
  }

  /** msync(2) (mm-syscalls.ts doMsync). */
  msync(addr: number, length: number, flags: number): number {
    if (!this.alive) return -E.ESRCH;
    return doMsync(this.mmCaller(), addr, length, flags);
  }

  /** mlock(2), or mlock2(2) with `flags` (MLOCK_ONFAULT) (mm-syscalls.ts doMlock). */
  mlock(addr: number, length: number, flags = 0): number {
    if (!this.alive) return -E.ESRCH;
    return doMlock(this.mmCaller(), addr, length, flags);
  }

  /** munlock(2) (mm-syscalls.ts doMunlock). */
  munlock(addr: number, length: number): number {
    if (!this.alive) return -E.ESRCH;
    return doMunlock(this.mmCaller(), addr, length);
  }

  /** mlockall(2) (mm-syscalls.ts doMlockall). */
  mlockall(flags: number): number {
    if (!this.alive) return -E.ESRCH;
    return doMlockall(this.mmCaller(), flags);
  }

  /** munlockall(2). */
  munlockall(): number {
    if (!this.alive) return -E.ESRCH;
    return doMunlockall(this.mmCaller());
  }

  /**
   * setrlimit(RLIMIT_MEMLOCK): the same rules as {@link setNofile} (a value no rlim_t holds →
   * EINVAL, soft above hard → EINVAL, raising the hard limit without CAP_SYS_RESOURCE → EPERM),
   * without fs.nr_open.
   * @kernel kernel/sys.c do_prlimit
   */
  setMemlock(cur: number, max: number): number {
    if (!isCLong(cur) || !isCLong(max)) return -E.EINVAL;
    const c = ulong(cur);
    const m = ulong(max);
    if (c > m) return -E.EINVAL;
    if (m > this.memlock.max && this.cred.uid !== 0) return -E.EPERM;
    this.memlock = { cur: c, max: m };
    return 0;
  }

  /** What the mm calls need of this process (mm-syscalls.ts MmCaller). */
  private mmCaller(): MmCaller {
    const host = this.host;
    return {
      mm: this.mm,
      pageSize: host.pageSize,
      arch: host.statLayout,
      // root has CAP_SYS_RAWIO and CAP_IPC_LOCK
      privileged: this.cred.uid === 0,
      memlockLimit: this.memlock.cur,
      features: host.mmFeatures ?? MM_FEATURES_6_1,
      fatalSignalPending: this.fatalSignalPending,
      file: (fd) => this.file(fd),
      vmEnoughMemory: (pages) => host.vmEnoughMemory(pages),
      newShmemIno: () => host.shmem.nextIno(),
      closeVma: (v) => this.closeVma(v),
    };
  }

  private closeVma(v: Vma): void {
    v.onClose?.(v);
    vmaUnlinkFile(v);
    v.file?.put();
  }

  /**
   * read(2): EBADF (no fd, not open for reading), EINVAL (no read op), then access_ok() of the
   * whole count (a buffer that would end past TASK_SIZE, such as a negative count: EFAULT, even
   * at end of file); the count is cut to MAX_RW_COUNT. The bytes go to user memory as the file
   * produces them, in bounded pieces: a fault after some bytes returns those (the file position
   * moves by them only), a fault before any is EFAULT; end of file returns 0 without touching
   * the buffer. The kernel's memory for one call is bounded, whatever the count.
   * @kernel fs/read_write.c ksys_read, vfs_read; include/linux/fs.h MAX_RW_COUNT
   */
  read(fd: number, buf: number, count: number): number {
    const f = this.file(fd);
    if (f === null) return -E.EBADF;
    if (!isCLong(buf)) return -E.EFAULT;
    if (!isCLong(count)) return -E.EINVAL;
    if ((f.mode & FMODE_READ) === 0) return -E.EBADF;
    const op = f.fop.read;
    if ((f.mode & FMODE_CAN_READ) === 0 || op === undefined) return -E.EINVAL;
    const ps = this.host.pageSize;
    if (!accessOk(buf, count, this.mm.layout.taskSize)) return -E.EFAULT;
    const total = Math.min(ulong(count), maxRwCount(ps));
    const tmp = new Uint8Array(Math.min(total, RW_CHUNK));
    const pos0 = f.pos;
    let done = 0;
    do {
      const want = Math.min(tmp.length, total - done);
      const n = op(f, tmp.subarray(0, want));
      if (n < 0) return done > 0 ? done : n;
      if (n === 0) break;
      const copied = this.copyOut(buf + done, tmp.subarray(0, n));
      if (copied < n) {
        if (f.fop.readFaultFails === true) {
          f.pos = pos0;
          return -E.EFAULT;
        }
        // what did not reach user memory was not read (every read op is positional)
        f.pos -= n - copied;
        done += copied;
        return done > 0 ? done : -E.EFAULT;
      }
      done += n;
      if (n < want) break;
    } while (done < total);
    return done;
  }

  /**
   * write(2): EBADF (no fd, not open for writing), EINVAL (no write op), then access_ok() of the
   * whole count (EFAULT); the count is cut to MAX_RW_COUNT and the file system copies from user
   * memory as it goes (a regular file page by page: a fault after some bytes writes those, one
   * before any is EFAULT; a kernfs file all at once).
   * @kernel fs/read_write.c ksys_write, vfs_write; mm/filemap.c generic_perform_write
   */
  write(fd: number, buf: number, count: number): number {
    const f = this.file(fd);
    if (f === null) return -E.EBADF;
    if (!isCLong(buf)) return -E.EFAULT;
    if (!isCLong(count)) return -E.EINVAL;
    if ((f.mode & FMODE_WRITE) === 0) return -E.EBADF;
    const op = f.fop.write;
    if ((f.mode & FMODE_CAN_WRITE) === 0 || op === undefined) return -E.EINVAL;
    const ps = this.host.pageSize;
    if (!accessOk(buf, count, this.mm.layout.taskSize)) return -E.EFAULT;
    const length = Math.min(ulong(count), maxRwCount(ps));
    return op(f, { length, copy: (from, out) => this.copyIn(buf + from, out) }, this);
  }

  /** copy_from_user() that stops at a fault: how many bytes of `out` it filled from `addr`. */
  private copyIn(addr: number, out: Uint8Array): number {
    if (out.length === 0) return 0;
    let got = 0;
    const fault = this.mm.access(addr, out.length, false, (d, off, n, done) => {
      out.set(d.subarray(off, off + n), done);
      got = done + n;
    });
    return fault === null ? out.length : got;
  }

  /** copy_to_user() that stops at a fault: how many bytes of `data` reached `addr`. */
  private copyOut(addr: number, data: Uint8Array): number {
    let put = 0;
    const fault = this.mm.access(addr, data.length, true, (d, off, n, done) => {
      d.set(data.subarray(done, done + n), off);
      put = done + n;
    });
    return fault === null ? data.length : put;
  }

  /**
   * mkdir(2). Only cgroupfs (/sys/fs/cgroup) makes directories; see Kernel.mkdirPath for the
   * errors elsewhere. @kernel fs/namei.c do_mkdirat
   */
  mkdir(path: string, mode: number): number {
    if (!this.alive) return -E.ESRCH;
    if (!isCInt(mode)) return -E.EINVAL;
    return this.host.mkdirPath(this, path, mode);
  }

  /** rmdir(2): only cgroup directories can be removed. @kernel fs/namei.c do_rmdir */
  rmdir(path: string): number {
    if (!this.alive) return -E.ESRCH;
    return this.host.rmdirPath(this, path);
  }

  /** getpid(2) */
  getpid(): number {
    return this.pid;
  }

  /**
   * lseek(2): `offset` is an off_t and `whence` an unsigned int (a number neither holds, or a
   * whence past SEEK_MAX → EINVAL).
   * @kernel fs/read_write.c ksys_lseek, vfs_llseek
   */
  lseek(fd: number, offset: number, whence: number): number {
    const f = this.file(fd);
    if (f === null) return -E.EBADF;
    if (!Number.isInteger(offset) || offset < -(2 ** 63) || offset >= 2 ** 63 || !isCInt(whence)) return -E.EINVAL;
    if (whence < 0 || whence > SEEK_MAX) return -E.EINVAL;
    if ((f.mode & FMODE_LSEEK) === 0) return -E.ESPIPE;
    const op = f.fop.llseek;
    if (op === undefined) return -E.ESPIPE;
    return op(f, offset, whence);
  }

  /** fstat(2): writes struct stat (x86-64: 144 bytes; arm64: 128) @kernel fs/stat.c cp_new_stat */
  fstat(fd: number, statbuf: number): number {
    const f = this.fileRaw(fd);
    if (f === null) return -E.EBADF;
    if (!isCLong(statbuf)) return -E.EFAULT;
    const bytes = encodeStat(f.inode, this.host.statLayout, this.host.pageSize);
    return this.mm.copyToUser(statbuf, bytes) ? 0 : -E.EFAULT;
  }

  /** The stat data of an open file, decoded (for tools; the syscall is {@link fstat}). */
  statOf(fd: number): Inode | null {
    return this.fileRaw(fd)?.inode ?? null;
  }

  /**
   * poll(2) without blocking: a file that is not ready is reported as not ready at once
   * (see docs/fidelity.md, "poll never blocks").
   * @kernel fs/select.c do_sys_poll, do_pollfd
   */
  poll(fds: number, nfds: number, timeout: number): number {
    // nfds is an unsigned long (a negative one is huge), timeout an int
    if (!isCLong(nfds) || !isCInt(timeout) || ulong(nfds) > this.nofile.cur) return -E.EINVAL;
    if (!isCLong(fds)) return -E.EFAULT;
    const raw = this.mm.copyFromUser(fds, nfds * 8);
    if (raw === null) return -E.EFAULT;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let count = 0;
    for (let i = 0; i < nfds; i++) {
      const fd = dv.getInt32(i * 8, true);
      const events = dv.getInt16(i * 8 + 4, true) & 0xffff;
      let revents = 0;
      if (fd >= 0) {
        const f = this.file(fd);
        if (f === null) revents = POLLNVAL;
        else {
          const mask = f.fop.poll ? f.fop.poll(f, events) : DEFAULT_POLLMASK;
          revents = mask & (events | POLLERR | POLLHUP);
        }
      }
      dv.setInt16(i * 8 + 6, revents, true);
      if (revents !== 0) count++;
    }
    return this.mm.copyToUser(fds, raw) ? count : -E.EFAULT;
  }

  /** readlink(2): `size` is an int (≤ 0, or a number no int holds → EINVAL). @kernel fs/stat.c do_readlinkat */
  readlink(path: string, buf: number, size: number): number {
    if (!Number.isInteger(size) || size <= 0 || size > 0x7fffffff) return -E.EINVAL;
    if (!isCLong(buf)) return -E.EFAULT;
    const target = this.host.readlinkPath(this, path);
    if (typeof target === 'number') return target;
    const bytes = strBytes(target).subarray(0, size);
    return this.mm.copyToUser(buf, bytes) ? bytes.length : -E.EFAULT;
  }

  /**
   * setrlimit(RLIMIT_NOFILE). The limits are rlim_t (unsigned 64-bit): a value no rlim_t holds
   * (a fraction, NaN, ±Infinity, 2^64 or more) → EINVAL; a negative integer is 2^64 + v as in
   * C, so -1 is RLIM_INFINITY. Then soft above hard → EINVAL; hard above fs.nr_open → EPERM;
   * raising the hard limit without CAP_SYS_RESOURCE (root here) → EPERM.
   * @kernel kernel/sys.c do_prlimit; fs/file.c sysctl_nr_open
   */
  setNofile(cur: number, max: number): number {
    if (!isCLong(cur) || !isCLong(max)) return -E.EINVAL;
    const c = ulong(cur);
    const m = ulong(max);
    if (c > m) return -E.EINVAL;
    if (m > NR_OPEN) return -E.EPERM;
    if (m > this.nofile.max && this.cred.uid !== 0) return -E.EPERM;
    this.nofile = { cur: c, max: m };
    return 0;
  }

  // ---- process lifetime ------------------------------------------------------------------

  /**
   * fork(2): the child shares every open file and gets a copy of the address space whose
   * anonymous pages are shared copy-on-write (nothing is copied until a side writes), and the
   * parent's oom_score_adj. The whole fd table is copied, numbers and FD_CLOEXEC, whatever
   * RLIMIT_NOFILE says now (dup_fd() sizes the copy by the highest open fd, not by the limit).
   * @kernel kernel/fork.c copy_files, copy_mm; fs/file.c dup_fd; mm/memory.c copy_page_range
   */
  fork(comm = this.comm, pid = this.host.newPid()): Process {
    const host = this.host;
    // a mirror's child is one too, from its first address space on
    const child = new Process(host, pid, { ...this.cred, groups: [...this.cred.groups] }, comm, this.userMemory);
    child.nofile = { ...this.nofile };
    child.memlock = { ...this.memlock };
    child.oomScoreAdj = this.oomScoreAdj;
    child.oomScoreAdjMin = this.oomScoreAdjMin;
    child.fdt = this.fdt.clone();
    this.mm.forkInto(child.mm);
    host.registerProcess(child, this);
    return child;
  }

  /** execve(2): CLOEXEC fds are closed and the address space is replaced. */
  exec(comm = this.comm): void {
    this.comm = comm;
    for (const fd of this.openFds().reverse()) if (this.isCloexec(fd)) this.close(fd);
    this.dropAddressSpace();
  }

  private dropAddressSpace(): void {
    const old = this.mm;
    this.mm = this.newAddressSpace();
    for (const v of old.teardown()) this.closeVma(v);
  }

  /** exit(2): every fd is closed and every mapping dropped (the last references free buffers). */
  exit(): void {
    if (!this.alive) return;
    for (const fd of this.openFds().reverse()) this.close(fd);
    // the emptied address space stays (no other will be needed)
    for (const v of this.mm.teardown()) this.closeVma(v);
    this.alive = false;
    this.host.unregisterProcess(this);
  }

  /**
   * The OOM killer's SIGKILL (mm/oom_kill.c __oom_kill_process): a process that is not running
   * exits at once (its fds close, so its dma-bufs go with their last reference); the faulting
   * process itself, which is inside the kernel, gets a pending SIGKILL and its private memory
   * reaped now (the OOM reaper), and exits on its next return to user space (its next load or
   * store here) or when the caller calls exit().
   */
  oomKill(faulting: boolean): void {
    this.killedBy = 'SIGKILL';
    this.fatalSignalPending = true;
    if (faulting) this.mm.reap();
    else this.exit();
  }

  /**
   * Writing /proc/<pid>/oom_score_adj: a value outside -1000..1000 → EINVAL; going below
   * oom_score_adj_min without CAP_SYS_RESOURCE (root) → EACCES; a privileged write also sets the
   * minimum. `writer` is the writing process.
   * @kernel fs/proc/base.c oom_score_adj_write, __set_oom_adj
   */
  setOomScoreAdj(value: number, writer: Process): number {
    if (!Number.isInteger(value) || value < -1000 || value > 1000) return -E.EINVAL;
    const capSysResource = writer.cred.uid === 0;
    if (value < this.oomScoreAdjMin && !capSysResource) return -E.EACCES;
    this.oomScoreAdj = value;
    if (capSysResource) this.oomScoreAdjMin = value;
    return 0;
  }

  /** Delivers SIGKILL: marks a fatal signal pending (fatal_signal_pending()), then exits. */
  kill(): void {
    this.fatalSignalPending = true;
  }

  /**
   * Passes `fd` to `to` as an SCM_RIGHTS message over a connected AF_UNIX stream socket does:
   * the receiver gets a new fd (lowest free) for the same open file. Returns the receiver's fd
   * or a negated errno: EBADF (no such fd here), EPIPE (the receiver has exited: its end of the
   * socket is closed, so sendmsg fails before anything is queued; with MSG_NOSIGNAL, else
   * SIGPIPE too), EMFILE (the receiver's table is full). Nothing is installed on failure.
   * @kernel net/unix/af_unix.c unix_stream_sendmsg; net/core/scm.c scm_detach_fds, receive_fd
   */
  sendFd(fd: number, to: Process, cloexec = false): number {
    const f = this.fileRaw(fd);
    if (f === null) return -E.EBADF;
    if (!to.alive) return -E.EPIPE;
    const nfd = to.installFd(f, cloexec);
    if (nfd >= 0) f.get();
    return nfd;
  }

  // ---- AF_UNIX socket pairs and SCM_RIGHTS (net/unix/af_unix.c) ---------------------------

  /**
   * socketpair(2) in the kernel's order: type bits other than the socket type, SOCK_NONBLOCK and
   * SOCK_CLOEXEC → EINVAL; two fds reserved (EMFILE); both numbers written to `sv` (EFAULT) before
   * the family is looked at, so a failing call still leaves them there (the referees'); then
   * AF_INET/AF_INET6 → EOPNOTSUPP, another family but AF_UNIX → EAFNOSUPPORT, a protocol other
   * than 0 or PF_UNIX → EPROTONOSUPPORT, a type other than SOCK_STREAM → ESOCKTNOSUPPORT (the
   * emulator has stream sockets only: docs/fidelity.md af-unix-stream-only).
   * @kernel net/socket.c __sys_socketpair; net/unix/af_unix.c unix_create
   */
  socketpair(domain: number, type: number, protocol: number, sv: number): number {
    if (!this.alive) return -E.ESRCH;
    const net = this.host.unixNet;
    if (!isCInt(domain) || !isCInt(type) || !isCInt(protocol) || !isCLong(sv)) return -E.EINVAL;
    const fc = this.host.fc;
    const flags = type & ~0xf;
    if ((flags & ~(fc.O_NONBLOCK | fc.O_CLOEXEC)) !== 0) return -E.EINVAL;
    const first = this.fdt.lowestFree(this.fdt.nextFd);
    if (first >= this.nofile.cur) return -E.EMFILE;
    const second = this.fdt.lowestFree(first + 1);
    if (second >= this.nofile.cur) return -E.EMFILE;
    const out = new Uint8Array(8);
    const dv = new DataView(out.buffer);
    dv.setInt32(0, first, true);
    dv.setInt32(4, second, true);
    if (!this.mm.copyToUser(sv, out)) return -E.EFAULT;
    if (domain === 2 || domain === 10) return -E.EOPNOTSUPP;
    if (domain !== 1 || net === undefined) return -E.EAFNOSUPPORT;
    if (protocol !== 0 && protocol !== 1) return -E.EPROTONOSUPPORT;
    if ((type & 0xf) !== 1) return -E.ESOCKTNOSUPPORT;
    const [a, b] = net.pair(this.cred.uid, this.cred.gid, fc.O_RDWR | (flags & fc.O_NONBLOCK));
    const cloexec = (flags & fc.O_CLOEXEC) !== 0;
    this.installFd(a, cloexec);
    this.installFd(b, cloexec);
    return 0;
  }

  /** sockfd_lookup(): EBADF (no such fd, or O_PATH), ENOTSOCK. */
  private sockOf(fd: number): ReturnType<UnixNet['sockOf']> | number {
    const f = this.file(fd);
    if (f === null) return -E.EBADF;
    return this.host.unixNet?.sockOf(f) ?? -E.ENOTSOCK;
  }

  /**
   * sendmsg(2) on a connected stream socket with `data` and, when `fds` is not empty, one
   * SCM_RIGHTS message: the socket (EBADF, ENOTSOCK), more than SCM_MAX_FD fds (EINVAL), each fd
   * (EBADF; O_PATH fds travel), too many files in flight for this user (ETOOMANYREFS), a closed
   * peer (EPIPE, as with MSG_NOSIGNAL: no SIGPIPE is sent), a full queue (EAGAIN). Each file
   * travels with a reference of its own: closing it here does not free it.
   * @kernel net/socket.c ____sys_sendmsg; net/core/scm.c scm_fp_copy; net/unix/af_unix.c unix_stream_sendmsg
   */
  sendmsg(sock: number, data: Uint8Array, fds: readonly number[] = []): number {
    if (!this.alive) return -E.ESRCH;
    const s = this.sockOf(sock);
    if (typeof s === 'number') return s;
    if (s === null) return -E.ENOTSOCK;
    if (fds.length > 253) return -E.EINVAL;
    const files: File[] = [];
    for (const fd of fds) {
      const f = this.fileRaw(fd);
      if (f === null) return -E.EBADF;
      files.push(f);
    }
    return s.net.send(s, data, files, { uid: this.cred.uid, nofile: this.nofile.cur });
  }

  /**
   * recvmsg(2) on a stream socket, never sleeping: up to `length` bytes of the next message and
   * its files, each installed at the lowest free fd (close-on-exec with MSG_CMSG_CLOEXEC,
   * 0x40000000) while `maxFds` (the room in the control buffer) and the fd table allow; the rest
   * are dropped and `flags` has MSG_CTRUNC. Nothing queued: EAGAIN, or 0 when the peer is gone.
   * MSG_PEEK (2) leaves the message queued (its files are installed all the same, as Linux does).
   * @kernel net/unix/af_unix.c unix_stream_read_generic; net/core/scm.c scm_detach_fds, scm_recv
   */
  recvmsg(sock: number, length: number, maxFds: number, flags = 0): { ret: number; data: Uint8Array; fds: number[]; flags: number } {
    const fail = (e: number) => ({ ret: e, data: new Uint8Array(0), fds: [], flags: 0 });
    if (!this.alive) return fail(-E.ESRCH);
    if (!isCInt(flags) || !Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(maxFds) || maxFds < 0) return fail(-E.EINVAL);
    const s = this.sockOf(sock);
    if (typeof s === 'number') return fail(s);
    if (s === null) return fail(-E.ENOTSOCK);
    const cloexec = (flags & 0x40000000) !== 0;
    const peek = (flags & 2) !== 0;
    const r = s.net.recv(s, length, maxFds, peek, (f) => this.installFd(f, cloexec));
    if (typeof r === 'number') return fail(r);
    // ___sys_recvmsg(): msg_flags keeps MSG_CMSG_CLOEXEC from the call
    return { ret: r.data.length, data: r.data, fds: r.fds, flags: (r.ctrunc ? MSG_CTRUNC : 0) | (flags & 0x40000000) };
  }

  // ---- user memory (what a user program would do with loads and stores) -----------------

  /**
   * Anonymous read-write memory for syscall arguments, like malloc(). Returns its address.
   * @throws RangeError when the mapping cannot be made (as malloc() returning NULL)
   */
  userAlloc(length: number): number {
    const r = this.mmap(0, Math.max(length, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r < 0) throw new RangeError(`userAlloc(${length}) failed: errno ${-r}`);
    return r;
  }

  /**
   * A load from user memory. A fault kills the process as the kernel does (SIGSEGV for no
   * mapping or no permission, SIGBUS for no page behind the mapping) and is returned.
   */
  load(addr: number, length: number): Uint8Array | FaultKind {
    // an access that cannot be (no such address or length) or that runs off the mapped memory
    // faults before anything is allocated for it
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length < 0 || this.userSpan(addr, length, false) < length) return this.die('SIGSEGV');
    const out = new Uint8Array(length);
    const fault = this.loadInto(addr, out);
    return fault !== null ? fault : out;
  }

  /** {@link load} of `dst.length` bytes into `dst`; a fault kills the process (dst may hold part of the bytes). */
  loadInto(addr: number, dst: Uint8Array): FaultKind | null {
    if (this.fatalSignalPending) return this.die('SIGKILL');
    if (!Number.isSafeInteger(addr)) return this.die('SIGSEGV');
    const fault = this.mm.access(addr, dst.length, false, (d, off, n, done) => dst.set(d.subarray(off, off + n), done));
    if (fault !== null) this.die(fault);
    return fault;
  }

  /** A store to user memory; a fault kills the process (see {@link load}). */
  store(addr: number, data: Uint8Array): FaultKind | null {
    if (this.fatalSignalPending) return this.die('SIGKILL');
    if (!Number.isSafeInteger(addr)) return this.die('SIGSEGV');
    const fault = this.mm.access(addr, data.length, true, (d, off, n, done) => d.set(data.subarray(done, done + n), off));
    if (fault !== null) this.die(fault);
    return fault;
  }

  /** Fills user memory with one byte value (memset); a fault kills the process. */
  fill(addr: number, length: number, value: number): FaultKind | null {
    if (this.fatalSignalPending) return this.die('SIGKILL');
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length < 0) return this.die('SIGSEGV');
    const fault = this.mm.access(addr, length, true, (d, off, n) => d.fill(value, off, off + n));
    if (fault !== null) this.die(fault);
    return fault;
  }

  private die(fault: FaultKind): FaultKind {
    this.killedBy ??= fault;
    this.exit();
    return fault;
  }

  /**
   * How many bytes from `addr` (up to `length`) lie in VMAs that allow the access: the walk goes
   * VMA by VMA, so its cost follows the mappings, never the length.
   */
  private userSpan(addr: number, length: number, write: boolean): number {
    let at = addr;
    const end = addr + length;
    while (at < end) {
      const v = this.mm.find(at);
      if (v === null || (write ? (v.vmFlags & VM_WRITE) === 0 : !this.mm.readable(v.vmFlags))) break;
      at = v.end;
    }
    return Math.min(at, end) - addr;
  }

}

/**
 * struct stat as the stat family writes it.
 * @kernel arch/x86/include/uapi/asm/stat.h (x86-64, 144 bytes), include/uapi/asm-generic/stat.h (arm64, 128 bytes)
 */
/** sizeof(struct stat) of the layout (arch/x86/include/uapi/asm/stat.h, include/uapi/asm-generic/stat.h). */
export function statSize(layout: 'x86_64' | 'arm64'): number {
  return layout === 'x86_64' ? 144 : 128;
}

export function encodeStat(inode: Inode, layout: 'x86_64' | 'arm64', pageSize: number): Uint8Array {
  const big = layout === 'x86_64';
  const b = new Uint8Array(statSize(layout));
  const dv = new DataView(b.buffer);
  const dev = BigInt(newEncodeDev(inode.dev));
  const rdev = BigInt(newEncodeDev(inode.rdev));
  const blocks = BigInt(inode.blocks ?? Math.ceil(inode.size / 512));
  dv.setBigUint64(0, dev, true);
  dv.setBigUint64(8, BigInt(inode.ino), true);
  if (big) {
    dv.setBigUint64(16, BigInt(inode.nlink ?? 1), true); // st_nlink
    dv.setUint32(24, inode.mode, true);
    dv.setUint32(28, inode.uid, true);
    dv.setUint32(32, inode.gid, true);
    dv.setBigUint64(40, rdev, true);
    dv.setBigInt64(48, BigInt(inode.size), true);
    dv.setBigInt64(56, BigInt(inode.blksize ?? pageSize), true); // st_blksize
    dv.setBigInt64(64, blocks, true);
  } else {
    dv.setUint32(16, inode.mode, true);
    dv.setUint32(20, inode.nlink ?? 1, true); // st_nlink
    dv.setUint32(24, inode.uid, true);
    dv.setUint32(28, inode.gid, true);
    dv.setBigUint64(32, rdev, true);
    dv.setBigInt64(48, BigInt(inode.size), true);
    dv.setInt32(56, inode.blksize ?? pageSize, true); // st_blksize
    dv.setBigInt64(64, blocks, true);
  }
  return b;
}
