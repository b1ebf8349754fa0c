// File, mmap, poll and stat constants, per architecture where they differ.
//
// open(2) flags: include/uapi/asm-generic/fcntl.h (x86-64 uses it unchanged) and
// arch/arm64/include/uapi/asm/fcntl.h (arm64 redefines O_DIRECTORY, O_NOFOLLOW, O_DIRECT and
// O_LARGEFILE, then includes the generic header). Values are the kernel's; note that glibc
// defines O_LARGEFILE as 0 on 64-bit targets (the kernel forces large-file mode there).

import { mmanConstants } from './mman.js';

export type Arch = 'x86_64' | 'arm64';
export const ARCHES: readonly Arch[] = Object.freeze(['x86_64', 'arm64'] as const);

export interface FcntlConstants {
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_RDWR: number;
  readonly O_ACCMODE: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_NOCTTY: number;
  readonly O_TRUNC: number;
  readonly O_APPEND: number;
  readonly O_NONBLOCK: number;
  readonly O_DSYNC: number;
  readonly O_SYNC: number;
  readonly O_DIRECT: number;
  readonly O_LARGEFILE: number;
  readonly O_DIRECTORY: number;
  readonly O_NOFOLLOW: number;
  readonly O_NOATIME: number;
  readonly O_CLOEXEC: number;
  readonly O_PATH: number;
  readonly O_TMPFILE: number;
}

/** Bits shared by both architectures (include/uapi/asm-generic/fcntl.h). */
const COMMON_O = {
  O_RDONLY: 0o0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_ACCMODE: 0o3,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_DSYNC: 0o10000,
  O_NOATIME: 0o1000000,
  O_CLOEXEC: 0o2000000,
  O_PATH: 0o10000000,
} as const;

/** `__O_SYNC` and `__O_TMPFILE` (asm-generic/fcntl.h): O_SYNC and O_TMPFILE are built from them. */
const __O_SYNC = 0o4000000;
const __O_TMPFILE = 0o20000000;

function makeTable(o: { O_DIRECT: number; O_LARGEFILE: number; O_DIRECTORY: number; O_NOFOLLOW: number }): FcntlConstants {
  return Object.freeze({
    ...COMMON_O,
    O_SYNC: __O_SYNC | COMMON_O.O_DSYNC,
    O_DIRECT: o.O_DIRECT,
    O_LARGEFILE: o.O_LARGEFILE,
    O_DIRECTORY: o.O_DIRECTORY,
    O_NOFOLLOW: o.O_NOFOLLOW,
    O_TMPFILE: __O_TMPFILE | o.O_DIRECTORY,
  });
}

const FCNTL_TABLES: Readonly<Record<Arch, FcntlConstants>> = Object.freeze({
  // include/uapi/asm-generic/fcntl.h
  x86_64: makeTable({ O_DIRECT: 0o40000, O_LARGEFILE: 0o100000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000 }),
  // arch/arm64/include/uapi/asm/fcntl.h
  arm64: makeTable({ O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000, O_DIRECT: 0o200000, O_LARGEFILE: 0o400000 }),
});

function checkArch(arch: Arch): void {
  if (!Object.hasOwn(FCNTL_TABLES, arch)) throw new RangeError(`unknown architecture '${String(arch)}' (known: ${ARCHES.join(', ')})`);
}

/** The frozen open(2)-flag table of an architecture. */
export function fcntlConstants(arch: Arch): FcntlConstants {
  checkArch(arch);
  return FCNTL_TABLES[arch];
}

// x86-64 values as plain named constants, for convenience.
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_ACCMODE = 0o3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;

// fcntl(2) commands and flags (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h).
export const FD_CLOEXEC = 1;
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
/** F_LINUX_SPECIFIC_BASE (1024) + 6. */
export const F_DUPFD_CLOEXEC = 1030;
/** F_LINUX_SPECIFIC_BASE + 9. */
export const F_ADD_SEALS = 1033;
/** F_LINUX_SPECIFIC_BASE + 10. */
export const F_GET_SEALS = 1034;
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
// record locks, owners, signals, leases (64-bit values: F_GETLK is 5, not F_GETLK64's 12)
export const F_GETLK = 5;
export const F_SETLK = 6;
export const F_SETLKW = 7;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const F_SETSIG = 10;
export const F_GETSIG = 11;
export const F_SETOWN_EX = 15;
export const F_GETOWN_EX = 16;
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
/** F_LINUX_SPECIFIC_BASE + 0..2 */
export const F_SETLEASE = 1024;
export const F_GETLEASE = 1025;
export const F_NOTIFY = 1026;
/** F_LINUX_SPECIFIC_BASE + 3 (v6.10): is `arg` an fd of the same open file? */
export const F_DUPFD_QUERY = 1027;
/** F_LINUX_SPECIFIC_BASE + 4 (v6.12): did this open create the file? */
export const F_CREATED_QUERY = 1028;
export const F_CANCELLK = 1029;
export const F_SETPIPE_SZ = 1031;
export const F_GETPIPE_SZ = 1032;
export const F_GET_RW_HINT = 1035;
export const F_SET_RW_HINT = 1036;
export const F_GET_FILE_RW_HINT = 1037;
export const F_SET_FILE_RW_HINT = 1038;
/** RWH_WRITE_LIFE_EXTREME: the largest write-life hint. */
export const RWH_WRITE_LIFE_EXTREME = 5;
export const F_OWNER_TID = 0;
export const F_OWNER_PID = 1;
export const F_OWNER_PGRP = 2;

// epoll (include/uapi/linux/eventpoll.h; EPOLL_CLOEXEC is O_CLOEXEC, the same on x86-64 and arm64)
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDNORM = 0x040;
export const EPOLLRDBAND = 0x080;
export const EPOLLWRNORM = 0x100;
export const EPOLLWRBAND = 0x200;
export const EPOLLMSG = 0x400;
export const EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 0x10000000;
export const EPOLLWAKEUP = 0x20000000;
export const EPOLLONESHOT = 0x40000000;
export const EPOLLET = 0x80000000;

/** O_ASYNC (FASYNC): 020000 on x86-64 and arm64 (asm-generic/fcntl.h). */
export const O_ASYNC = 0o20000;

// sockets (include/linux/net.h, include/linux/socket.h; the same on x86-64 and arm64)
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const SOCK_CLOEXEC = 0o2000000;
export const SOCK_NONBLOCK = 0o4000;
export const MSG_PEEK = 0x2;
export const MSG_CTRUNC = 0x8;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

// memfd_create(2) flags (include/uapi/linux/memfd.h; 6.1 has no MFD_NOEXEC_SEAL / MFD_EXEC).
export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const MFD_HUGETLB = 0x4;
/** The huge page size (log2) may be encoded in bits 26..31 of the flags with MFD_HUGETLB. */
export const MFD_HUGE_SHIFT = 26;
export const MFD_HUGE_MASK = 0x3f;

// lseek(2) whence (include/uapi/linux/fs.h).
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

// mmap(2) (include/uapi/asm-generic/mman-common.h, include/uapi/linux/mman.h,
// include/uapi/asm-generic/mman.h; identical on x86-64 and arm64).
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;
/** `(void *) -1`. */
export const MAP_FAILED = -1;

// poll(2) events (include/uapi/asm-generic/poll.h).
export const POLLIN = 0x0001;
export const POLLPRI = 0x0002;
export const POLLOUT = 0x0004;
export const POLLERR = 0x0008;
export const POLLHUP = 0x0010;
export const POLLNVAL = 0x0020;

// st_mode file types (include/uapi/linux/stat.h).
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

// include/uapi/asm-generic/resource.h
export const RLIMIT_NOFILE = 7;
// include/uapi/asm-generic/signal.h (x86 and arm64 agree)
export const SIGKILL = 9;

/** Constants whose values do not depend on the architecture (x86-64 / arm64). */
const ARCH_INDEPENDENT: Readonly<Record<string, number>> = Object.freeze({
  FD_CLOEXEC, F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS,
  F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE,
  F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG, F_SETOWN_EX, F_GETOWN_EX,
  F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_RDLCK, F_WRLCK, F_UNLCK, F_SETLEASE, F_GETLEASE, F_NOTIFY,
  F_DUPFD_QUERY, F_CREATED_QUERY, F_CANCELLK, F_SETPIPE_SZ, F_GETPIPE_SZ, F_GET_RW_HINT, F_SET_RW_HINT,
  F_GET_FILE_RW_HINT, F_SET_FILE_RW_HINT, F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP,
  EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP,
  EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG, EPOLLRDHUP, EPOLLEXCLUSIVE, EPOLLWAKEUP,
  EPOLLONESHOT, EPOLLET,
  O_ASYNC, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_CLOEXEC, SOCK_NONBLOCK, MSG_PEEK, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL,
  MSG_CMSG_CLOEXEC,
  MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB,
  SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE,
  PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC,
  MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE, MAP_FIXED, MAP_ANONYMOUS, MAP_NORESERVE,
  MAP_POPULATE, MAP_FIXED_NOREPLACE, MAP_FAILED,
  POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL,
  S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO,
  RLIMIT_NOFILE, SIGKILL,
});

const MERGED = new Map<Arch, Readonly<Record<string, number>>>();

/** Every constant of this module for an architecture, in one frozen table (cached). */
export function constantsFor(arch: Arch): Readonly<Record<string, number>> {
  let table = MERGED.get(arch);
  if (table === undefined) {
    table = Object.freeze({ ...fcntlConstants(arch), ...ARCH_INDEPENDENT, ...mmanConstants(arch) });
    MERGED.set(arch, table);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// Flag expressions: "O_RDWR | O_CLOEXEC", "0x80002", "0o2000002", "02000002", 524290.

const HEX = /^0[xX][0-9a-fA-F]+$/;
const OCT = /^0[oO][0-7]+$/;
const C_OCT = /^0[0-7]+$/;
const BIN = /^0[bB][01]+$/;
const DEC = /^(?:0|[1-9][0-9]*)$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function tokenValue(tok: string, expr: string, table: Readonly<Record<string, number>>): bigint {
  if (HEX.test(tok) || OCT.test(tok) || BIN.test(tok) || DEC.test(tok)) return BigInt(tok);
  if (C_OCT.test(tok)) return BigInt(`0o${tok.slice(1)}`);
  if (NAME.test(tok)) {
    if (!Object.hasOwn(table, tok)) throw new RangeError(`unknown flag name '${tok}' in flag expression '${expr}'`);
    const v = table[tok];
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (typeof v === 'bigint') return v;
    throw new RangeError(`flag name '${tok}' in flag expression '${expr}' has no integer value`);
  }
  throw new RangeError(`invalid token '${tok}' in flag expression '${expr}'`);
}

/**
 * Like {@link parseFlagExpr} but exact for 64-bit values (returns a bigint).
 * Table values may be numbers or bigints.
 */
export function parseFlagExprBigInt(expr: string | number | bigint, table: Readonly<Record<string, number | bigint>>): bigint {
  if (typeof expr === 'bigint') return expr;
  if (typeof expr === 'number') {
    if (!Number.isInteger(expr)) throw new RangeError(`flag value ${expr} is not an integer`);
    return BigInt(expr);
  }
  const parts = expr.split('|');
  let acc = 0n;
  for (const part of parts) {
    const tok = part.trim();
    if (tok === '') throw new RangeError(`empty token in flag expression '${expr}'`);
    acc |= tokenValue(tok, expr, table as Readonly<Record<string, number>>);
  }
  return acc;
}

/**
 * Resolve a flag expression: a number, a decimal / hex (`0x`) / octal (`0o` or C-style leading
 * `0`) / binary (`0b`) literal, or several of those and symbolic names from `table` joined by
 * `|` (whitespace allowed). Throws RangeError naming the offending token.
 */
export function parseFlagExpr(expr: string | number, table: Readonly<Record<string, number>>): number {
  if (typeof expr === 'number') {
    if (!Number.isInteger(expr)) throw new RangeError(`flag value ${expr} is not an integer`);
    return expr;
  }
  const v = parseFlagExprBigInt(expr, table);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`flag expression '${expr}' = ${v} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}
