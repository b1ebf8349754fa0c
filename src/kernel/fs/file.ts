/**
 * Open files, their operations and inodes: the slice of include/linux/fs.h that the dma-buf and
 * dma-heap code sees. A {@link File} is shared by every fd that dup()/fork()/SCM_RIGHTS made from
 * it and by every mapping of it; `count` is the kernel's f_count.
 */
import type { Process } from './process.js';
import type { Vma } from './mm-user.js';
import type { VfsPath } from './vfs.js';

/** f_mode bits (include/linux/fs.h). */
export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;
export const FMODE_LSEEK = 0x4;
export const FMODE_PREAD = 0x8;
export const FMODE_PWRITE = 0x10;
export const FMODE_CAN_READ = 0x20000;
export const FMODE_CAN_WRITE = 0x40000;
export const FMODE_OPENED = 0x80000;
/**
 * FMODE_NONOTIFY as v6.14 numbers it (bit 25): "fsnotify: disable notification by default for all
 * pseudo files" sets it on every alloc_file_pseudo() file (the 7.3 referee's bufinfo: 02080007).
 */
export const FMODE_NONOTIFY = 0x2000000;
/** An O_PATH file: a place in the tree, no operations (read, write, ioctl, mmap: EBADF). */
export const FMODE_PATH = 0x4000;
/** The file may be switched to O_DIRECT (at open or with F_SETFL); without it O_DIRECT is EINVAL. */
export const FMODE_CAN_ODIRECT = 0x400000;
/** The open took write access to the inode (get_write_access(): i_writecount), dropped by the last fput. */
export const FMODE_WRITER = 0x10000;

/** Bits of f_mode that debugfs and fdinfo print (the FMODE_CAN_* bits are internal here). */
export const FMODE_VISIBLE_MASK = ~(FMODE_CAN_READ | FMODE_CAN_WRITE | FMODE_CAN_ODIRECT | FMODE_WRITER);

/**
 * OPEN_FMODE(): access mode 0/1/2/3 → FMODE_READ/WRITE bits; 3 ("ioctl only") gives neither.
 * @kernel include/linux/fs.h OPEN_FMODE
 */
export function openFmode(flags: number): number {
  return (flags + 1) & 3;
}

export interface Inode {
  /** i_ino */
  readonly ino: number;
  /** i_mode (type bits and permissions) */
  mode: number;
  uid: number;
  gid: number;
  /** i_rdev for character devices (major << 20 | minor, the kernel's internal dev_t). */
  readonly rdev: number;
  /** st_dev of the file system holding the inode (kernel dev_t). */
  readonly dev: number;
  /** i_size in bytes */
  size: number;
  /** i_nlink (stat's st_nlink); 1 when absent. An unlinked file such as a memfd has 0. */
  readonly nlink?: number;
  /** i_blocks in 512-byte units (st_blocks); the size rounded up when absent. */
  readonly blocks?: number;
  /**
   * address_space::i_mmap_writable: VM_SHARED mappings of the file (> 0), or a write seal
   * denying new ones (< 0). Only inodes that define it are counted (shmem); no other emulated
   * file system can observe it.
   * @kernel include/linux/fs.h mapping_map_writable, mapping_deny_writable
   */
  mmapWritable?: number;
  /**
   * i_writecount: opens through the path walk that hold write access (FMODE_WRITER); a read
   * lease needs none. Files made by drivers (memfds, dma-bufs) take none.
   */
  writecount?: number;
  /** i_write_hint (fcntl F_SET_RW_HINT), 0 = RWH_WRITE_LIFE_NOT_SET. */
  writeHint?: number;
  /** st_blksize: the file system's block size (procfs: 1024); the page size when absent. */
  readonly blksize?: number;
}

/**
 * The file operations a driver provides (struct file_operations). A missing slot gives the VFS
 * default result, exactly as Linux: no read → EINVAL, no ioctl → ENOTTY, no mmap → ENODEV.
 * Every operation returns a non-negative value or a negated errno.
 */
export interface FileOperations {
  readonly llseek?: (file: File, offset: number, whence: number) => number;
  /**
   * read into `out` from f_pos (moving it); returns bytes read. The caller copies them to user
   * memory: a fault there gives back what did not arrive (f_pos moves back), so every read op
   * must be positional.
   */
  readonly read?: (file: File, out: Uint8Array) => number;
  /**
   * A fault while copying the result to user memory fails the whole read(2) with EFAULT and
   * leaves f_pos where the call found it, even after bytes were copied (pagemap_read copies at
   * the end of each walk and only then moves f_pos), instead of returning a short count.
   */
  readonly readFaultFails?: boolean;
  /**
   * write from `src` (the caller's buffer, already checked by access_ok() and cut to
   * MAX_RW_COUNT) for the calling process; returns bytes written. The op copies as it goes, so a
   * fault part way is the op's to report (a short count, or EFAULT).
   */
  readonly write?: (file: File, src: UserSource, proc: Process) => number;
  /** unlocked_ioctl: `arg` is a user address of the calling process. */
  readonly ioctl?: (file: File, proc: Process, cmd: number, arg: number) => number;
  /** Sets up `vma` (its backing) or refuses. */
  readonly mmap?: (file: File, vma: Vma) => number;
  /**
   * Returns the ready event mask. A file without it cannot be watched by epoll (EPERM) and
   * poll(2) takes it as always ready (DEFAULT_POLLMASK). `waiter` is the caller's wait queue
   * entry (epoll's), woken by files that signal readiness from within their poll.
   */
  readonly poll?: (file: File, events: number, waiter?: PollWaiter) => number;
  /** Last reference dropped. */
  readonly release?: (file: File) => void;
  /** Extra lines for /proc/<pid>/fdinfo/<fd> (show_fdinfo). */
  readonly showFdinfo?: (file: File) => string;
  /**
   * inode_operations.setattr with ATTR_SIZE: a regular file changes size (truncate). Only
   * regular files reach it (do_sys_ftruncate checks S_ISREG first).
   */
  readonly setattrSize?: (file: File, size: number) => number;
  /** fsync (vfs_fsync_range(), msync(MS_SYNC)): 0 or a negated errno; without it EINVAL. */
  readonly fsync?: (file: File) => number;
  /**
   * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) of [offset, offset + len) (MADV_REMOVE):
   * the pages there go; without it EOPNOTSUPP.
   */
  readonly punchHole?: (file: File, offset: number, len: number) => number;
  /** The file's mount is noexec (path_noexec()): mappings never get VM_MAYEXEC. */
  readonly noexec?: boolean;
  /**
   * setlease: the file system takes leases (generic_setlease). From v6.19 a file system without
   * it refuses F_SETLEASE with EINVAL; before, every one took them.
   */
  readonly setlease?: boolean;
  /**
   * Not a Linux op: called when an fd of the file was closed and the file lives on. AF_UNIX runs
   * its garbage collector here, where Linux runs it on the release of any unix socket in the
   * system (which, in a real system, comes soon after).
   */
  readonly afterClose?: (file: File) => void;
}

/**
 * What an epoll instance keeps on a file it watches (struct epitem on file->f_ep): dropped when
 * the file's last reference goes (eventpoll_release()).
 */
export interface FileWatch {
  /** The file is going away: remove the watch without touching the file again. */
  release(): void;
}

/**
 * The wait queue a poll op registers on (poll_wait()): a file that is ready at once wakes its
 * waiters from inside its poll op (dma_buf_poll with no fence pending).
 */
export interface PollWaiter {
  /** wake_up with a key: the events that became ready. */
  wake(mask: number): void;
}

/**
 * The user buffer of a write(2) (the kernel's iov_iter over one iovec): `length` bytes at a user
 * address, copied in as the file system asks for them, so that a write costs memory in
 * proportion to what it stores, not to the count it was given.
 */
export interface UserSource {
  /** Bytes the caller passed (its count, cut to MAX_RW_COUNT). */
  readonly length: number;
  /**
   * copy_from_iter(): bytes [from, from + out.length) of the buffer into `out`. Returns how many
   * were copied: fewer than asked when the buffer runs into memory the process cannot read.
   */
  copy(from: number, out: Uint8Array): number;
}

/** The operations of an O_PATH file: none (empty_fops). */
export const PATH_FOPS: FileOperations = {};

export class File {
  /** f_count: fds, mappings and kernel references. */
  count = 1;
  /** f_pos */
  pos = 0;
  /** f_write_hint (fcntl F_SET_FILE_RW_HINT, before v5.18); unset: the inode's. */
  writeHint?: number;
  /**
   * f_path: where the file was opened in the tree (set by the VFS's open); null for a file a
   * driver made on an internal mount (a dma-buf, a memfd, a sync_file, a pidfd), which
   * /proc/<pid>/fd/<n> then shows by its name.
   */
  vfsPath: VfsPath | null = null;
  /** f_owner (F_SETOWN): the pid (negative: a process group) and its F_OWNER_* type. */
  owner = { pid: 0, type: 1 };
  /** f_owner.signum (F_SETSIG) */
  signum = 0;
  /** The lease this open file holds (F_RDLCK, F_WRLCK), or null. */
  lease: number | null = null;
  /** f_ep: the epoll instances watching this file. */
  watches: Set<FileWatch> | null = null;
  constructor(
    readonly fop: FileOperations,
    readonly inode: Inode,
    /** f_flags (access mode and status flags; O_CLOEXEC lives in the fd table). */
    public flags: number,
    /** f_mode */
    public mode: number,
    /** Path shown by /proc/<pid>/fd/<n> and /proc/<pid>/maps; a function for names that change. */
    readonly path: string | ((f: File) => string),
    /** Mount id shown in fdinfo. */
    readonly mntId: number,
    /** private_data */
    public priv: unknown = null,
  ) {}

  get pathName(): string {
    return typeof this.path === 'string' ? this.path : this.path(this);
  }

  /** get_file() */
  get(): this {
    this.count++;
    return this;
  }

  /** fput(): drops one reference; the last one calls the release op. */
  put(): void {
    if (--this.count !== 0) return;
    // __fput(): eventpoll_release() first, then the driver's release, then the write access
    if (this.watches !== null) {
      for (const w of [...this.watches]) w.release();
      this.watches = null;
    }
    this.fop.release?.(this);
    if ((this.mode & FMODE_WRITER) !== 0 && this.inode.writecount !== undefined) this.inode.writecount--;
  }
}

/** The kernel's dev_t encoding (include/linux/kdev_t.h MKDEV). */
export function mkdev(major: number, minor: number): number {
  return major * 0x100000 + minor;
}
export function devMajor(dev: number): number {
  return Math.floor(dev / 0x100000);
}
export function devMinor(dev: number): number {
  return dev % 0x100000;
}
/** The inverse of {@link newEncodeDev}: a st_dev as stat(2) gives it back to major << 20 | minor (new_decode_dev). */
export function newDecodeDev(dev: number): number {
  return mkdev((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
}

/** The encoding stat(2) reports (new_encode_dev, include/linux/kdev_t.h). */
export function newEncodeDev(dev: number): number {
  const major = devMajor(dev);
  const minor = devMinor(dev);
  return (minor & 0xff) + major * 256 + Math.floor(minor / 256) * 0x100000;
}
