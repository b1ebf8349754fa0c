/**
 * The system calls `dmaheap run` looks at, by architecture: the numbers the seccomp filter
 * matches (arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h for arm64,
 * which has no open/stat/fork-style legacy calls) and the audit arch it checks first
 * (include/uapi/linux/audit.h AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64).
 */

/**
 * pidfd_open and pidfd_getfd, which the supervisor calls itself: the same numbers on x86-64 and
 * arm64 (include/uapi/asm-generic/unistd.h; arch/x86/entry/syscalls/syscall_64.tbl).
 */
export const NR_PIDFD_OPEN = 434;
export const NR_PIDFD_GETFD = 438;

/** Every call the supervisor may be asked about. */
export const RUN_SYSCALLS = [
  // paths: the emulated trees are reached by name
  'open', 'openat', 'openat2', 'stat', 'lstat', 'newfstatat', 'statx', 'access', 'faccessat', 'faccessat2', 'readlink', 'readlinkat', 'chdir', 'getcwd',
  'mkdir', 'mkdirat', 'rmdir', 'unlink', 'unlinkat',
  'getxattr', 'lgetxattr', 'listxattr', 'llistxattr', 'fgetxattr', 'flistxattr',
  // calls on an fd, which may be an emulated one
  'read', 'write', 'pread64', 'pwrite64', 'readv', 'writev', 'preadv', 'pwritev', 'preadv2', 'pwritev2', 'lseek', 'fstat', 'ioctl', 'fcntl',
  'close', 'dup', 'dup2', 'dup3', 'getdents64', 'fchdir', 'ftruncate', 'fallocate', 'flock', 'fsync', 'fdatasync', 'close_range', 'mmap',
  // calls on an fd the emulation answers with Linux's errno or refuses by name
  'sendfile', 'splice', 'tee', 'copy_file_range', 'fadvise64', 'readahead', 'fchmod', 'fchown', 'fstatfs', 'fsetxattr', 'fremovexattr', 'syncfs', 'sync_file_range',
  // mappings of emulated files
  'munmap', 'mremap', 'mprotect', 'madvise', 'msync', 'mlock', 'mlock2', 'munlock',
  // processes: the mirror follows forks, execs and exits
  'clone', 'clone3', 'fork', 'vfork', 'execve', 'execveat', 'exit_group',
  // fds in flight between processes, and watched by epoll
  'sendmsg', 'recvmsg', 'recvmmsg', 'epoll_ctl',
  // the emulated machine's identity, and the credentials its permission checks use
  'uname', 'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'setfsuid', 'setfsgid', 'setgroups', 'capset',
] as const;

export type RunSyscall = (typeof RUN_SYSCALLS)[number];

export interface SyscallArch {
  readonly name: 'x86_64' | 'arm64';
  readonly auditArch: number;
  /** eventfd2, which the supervisor itself calls (epoll proxies). */
  readonly eventfd2: number;
  /** sizeof(struct epoll_event): packed (12) on x86-64, 16 on arm64. */
  readonly epollEventSize: number;
  /** Number of each call this architecture has (arm64 lacks the legacy path calls and fork/vfork). */
  readonly nr: Partial<Record<RunSyscall, number>>;
}

export const X86_64: SyscallArch = {
  name: 'x86_64',
  auditArch: 0xc000003e,
  eventfd2: 290,
  epollEventSize: 12,
  nr: {
    read: 0, write: 1, open: 2, close: 3, stat: 4, fstat: 5, lstat: 6, lseek: 8, mmap: 9, mprotect: 10, munmap: 11, msync: 26, madvise: 28,
    mlock: 149, munlock: 150, mlock2: 325, ioctl: 16, pread64: 17, pwrite64: 18,
    readv: 19, writev: 20, access: 21, mremap: 25, dup: 32, dup2: 33, sendmsg: 46, recvmsg: 47, clone: 56, fork: 57, vfork: 58, execve: 59,
    uname: 63, getcwd: 79, setuid: 105, setgid: 106, setreuid: 113, setregid: 114, setgroups: 116, setresuid: 117, setresgid: 119,
    setfsuid: 122, setfsgid: 123, capset: 126, epoll_ctl: 233, fcntl: 72, sendfile: 40, splice: 275, tee: 276, copy_file_range: 326, fadvise64: 221, readahead: 187,
    fchmod: 91, fchown: 93, fstatfs: 138, fsetxattr: 190, fremovexattr: 199, syncfs: 306, sync_file_range: 277, flock: 73, fsync: 74, fdatasync: 75, ftruncate: 77, chdir: 80, fchdir: 81, readlink: 89, getdents64: 217,
    exit_group: 231, openat: 257, newfstatat: 262, readlinkat: 267, faccessat: 269, fallocate: 285, dup3: 292, preadv: 295, pwritev: 296,
    mkdir: 83, rmdir: 84, unlink: 87, mkdirat: 258, unlinkat: 263,
    getxattr: 191, lgetxattr: 192, fgetxattr: 193, listxattr: 194, llistxattr: 195, flistxattr: 196,
    recvmmsg: 299, execveat: 322, preadv2: 327, pwritev2: 328, statx: 332, clone3: 435, close_range: 436, openat2: 437, faccessat2: 439,
  },
};

export const AARCH64: SyscallArch = {
  name: 'arm64',
  auditArch: 0xc00000b7,
  eventfd2: 19,
  epollEventSize: 16,
  nr: {
    mkdirat: 34, unlinkat: 35, getxattr: 8, lgetxattr: 9, fgetxattr: 10, listxattr: 11, llistxattr: 12, flistxattr: 13, getdents64: 61, ioctl: 29, fcntl: 25, flock: 32, dup: 23, dup3: 24, faccessat: 48, chdir: 49, fchdir: 50, openat: 56, close: 57, lseek: 62,
    read: 63, write: 64, readv: 65, writev: 66, pread64: 67, pwrite64: 68, preadv: 69, pwritev: 70, readlinkat: 78, newfstatat: 79, fstat: 80,
    fsync: 82, fdatasync: 83, ftruncate: 46, fallocate: 47, exit_group: 94, uname: 160, sendmsg: 211, recvmsg: 212, munmap: 215, mremap: 216,
    clone: 220, execve: 221, mmap: 222, mprotect: 226, msync: 227, mlock: 228, munlock: 229, madvise: 233, mlock2: 284, recvmmsg: 243, execveat: 281, preadv2: 286, pwritev2: 287, statx: 291, clone3: 435, close_range: 436,
    openat2: 437, faccessat2: 439,
    getcwd: 17, fsetxattr: 7, fremovexattr: 16, epoll_ctl: 21, fstatfs: 44, fchmod: 52, fchown: 55, sendfile: 71, splice: 76, tee: 77,
    sync_file_range: 84, capset: 91, setregid: 143, setgid: 144, setreuid: 145, setuid: 146, setresuid: 147, setresgid: 149, setfsuid: 151,
    setfsgid: 152, setgroups: 159, readahead: 213, fadvise64: 223, syncfs: 267, copy_file_range: 285,
  },
};

/** The table of the host's architecture (process.arch), or null where `dmaheap run` does not run. */
export function hostSyscallArch(arch: string = process.arch): SyscallArch | null {
  return arch === 'x64' ? X86_64 : arch === 'arm64' ? AARCH64 : null;
}

const byNumber = new WeakMap<SyscallArch, Map<number, RunSyscall>>();

/** Name of a call by number (every stopped call asks: one map lookup). */
export function syscallName(a: SyscallArch, nr: number): RunSyscall | null {
  let m = byNumber.get(a);
  if (m === undefined) {
    m = new Map(Object.entries(a.nr).map(([k, v]) => [v, k as RunSyscall]));
    byNumber.set(a, m);
  }
  return m.get(nr) ?? null;
}
