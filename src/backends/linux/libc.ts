/**
 * libc through koffi: loaded once per process, on first use. Every function has a fixed arity,
 * including the variadic ones (open, fcntl, ioctl): koffi's variadic calls have no `.async`,
 * and on x86-64 and arm64 Linux a fixed-arity call is ABI-compatible with these variadic
 * callees for integer and pointer arguments. ioctl has two aliases: one taking a pointer to
 * JS-owned bytes (a Buffer), one taking a raw user address (NULL, a bad pointer, or an address
 * inside a mapping).
 *
 * Pointers are BigInts in koffi 3; the few functions here that return an address (mmap,
 * malloc) are declared as returning intptr_t/uintptr_t so the result is a plain number (user
 * addresses fit in 47-52 bits) and MAP_FAILED is -1.
 */
import { createRequire } from 'node:module';

/** The part of koffi this backend uses (koffi's own typings return `any` for every call). */
export interface KoffiModule {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
  errno(): number;
  errno(value: number): number;
  view(ptr: number | bigint, len: number): ArrayBuffer;
  readonly version: string;
}

type Ptr = Uint8Array | null;
type Int = number;
type Big = number | bigint;

/** The libc functions, typed. Sizes and offsets that may exceed 2^53 or be negative go as BigInt. */
export interface Libc {
  readonly koffi: KoffiModule;
  /** gnu_get_libc_version(): "2.36" (glibc only: libc.so.6 is glibc's name). */
  gnuGetLibcVersion(): string;
  open(path: string, flags: Int, mode: Int): number;
  close(fd: Int): number;
  dup(fd: Int): number;
  fcntl(fd: Int, cmd: Int, arg: Big): number;
  /** ioctl(fd, cmd, void *): the argument is JS-owned bytes (or null). */
  ioctlPtr(fd: Int, cmd: Big, arg: Ptr): number;
  /** ioctlPtr on the libuv pool (koffi's `.async`, which fixed-arity functions have): callback(err, ret). */
  ioctlPtrAsync(fd: Int, cmd: Big, arg: Uint8Array, cb: (err: unknown, ret: number) => void): void;
  /** ioctl(fd, cmd, uintptr_t): the argument is a raw user address. */
  ioctlAddr(fd: Int, cmd: Big, addr: Big): number;
  mmap(addr: Big, length: Big, prot: Int, flags: Int, fd: Int, offset: Big): number;
  munmap(addr: Big, length: Big): number;
  mprotect(addr: Big, length: Big, prot: Int): number;
  madvise(addr: Big, length: Big, advice: Int): number;
  msync(addr: Big, length: Big, flags: Int): number;
  mlock(addr: Big, length: Big): number;
  mlock2(addr: Big, length: Big, flags: Int): number;
  munlock(addr: Big, length: Big): number;
  /** mremap(old, old_size, new_size, flags, new_address): the new address, or -1. */
  mremap(addr: Big, oldLength: Big, newLength: Big, flags: Int, newAddr: Big): number;
  read(fd: Int, buf: Uint8Array, count: Big): number;
  write(fd: Int, buf: Uint8Array, count: Big): number;
  pread(fd: Int, buf: Uint8Array, count: Big, offset: Big): number;
  lseek(fd: Int, offset: Big, whence: Int): number;
  fstat(fd: Int, buf: Uint8Array): number;
  poll(fds: Uint8Array, nfds: Big, timeout: Int): number;
  getrlimit(resource: Int, rlim: Uint8Array): number;
  setrlimit(resource: Int, rlim: Uint8Array): number;
  memfdCreate(name: string, flags: Int): number;
  ftruncate(fd: Int, length: Big): number;
  mkdir(path: string, mode: Int): number;
  rmdir(path: string): number;
  sysconf(name: Int): number;
  malloc(size: Big): number;
  free(addr: Big): void;
  /** process_vm_readv(pid, local iov, n, remote iov, n, 0): bytes copied, or -1 (EFAULT: a page that would fault). */
  processVmReadv(pid: Int, local: Uint8Array, liovcnt: Big, remote: Uint8Array, riovcnt: Big, flags: Big): number;
  processVmWritev(pid: Int, local: Uint8Array, liovcnt: Big, remote: Uint8Array, riovcnt: Big, flags: Big): number;
  epollCreate1(flags: Int): number;
  epollCtl(epfd: Int, op: Int, fd: Int, event: Ptr): number;
  epollWait(epfd: Int, events: Uint8Array, maxevents: Int, timeout: Int): number;
  socketpair(domain: Int, type: Int, protocol: Int, sv: Uint8Array): number;
  /** sendmsg/recvmsg with a struct msghdr at a raw address (its pointers are raw addresses too). */
  sendmsg(fd: Int, msg: Big, flags: Int): number;
  recvmsg(fd: Int, msg: Big, flags: Int): number;
  /** syscall(nr, a, b, c) for calls glibc has no wrapper for (pidfd_open, pidfd_getfd): integer arguments only. */
  syscall3(nr: Int, a: Big, b: Big, c: Big): number;
  /** syscall(nr, dirfd, path, buf, flags): newfstatat. */
  syscallStatAt(nr: Int, dirfd: Int, path: string, buf: Uint8Array, flags: Int): number;
  /** syscall(nr, dirfd, path, flags, mask, buf): statx. */
  syscallStatx(nr: Int, dirfd: Int, path: string, flags: Int, mask: Int, buf: Uint8Array): number;
  /** syscall(nr, dirfd, path, mode): faccessat. */
  syscallAccessAt(nr: Int, dirfd: Int, path: string, mode: Int): number;
}

let cached: Libc | Error | null = null;

/** The koffi package, loaded with require() so a missing or broken install is a catchable error. */
function requireKoffi(): KoffiModule {
  const req = createRequire(import.meta.url);
  return req('koffi') as KoffiModule;
}

function bind(): Libc {
  const koffi = requireKoffi();
  const lib = koffi.load('libc.so.6');
  const f = (def: string): ((...args: unknown[]) => unknown) => lib.func(def);
  const n = (def: string): ((...args: unknown[]) => number) => f(def) as (...args: unknown[]) => number;
  let fstat: (...args: unknown[]) => number;
  try {
    fstat = n('int fstat(int, void *)');
  } catch {
    // glibc before 2.33 exports only __fxstat(_STAT_VER, fd, buf); _STAT_VER is 1 on x86-64, 0 on arm64
    const fx = n('int __fxstat(int, int, void *)');
    const ver = process.arch === 'x64' ? 1 : 0;
    fstat = (fd, buf) => fx(ver, fd, buf);
  }
  const ioctlPtrFn = lib.func('int ioctl(int, unsigned long, void *)') as ((...args: unknown[]) => number) & { async: (...args: unknown[]) => void };
  const ioctlPtr = ioctlPtrFn;
  const ioctlAddr = n('int ioctl(int, unsigned long, uintptr_t)');
  return {
    koffi,
    gnuGetLibcVersion: f('const char *gnu_get_libc_version()') as () => string,
    open: n('int open(const char *, int, unsigned int)'),
    close: n('int close(int)'),
    dup: n('int dup(int)'),
    fcntl: n('int fcntl(int, int, intptr_t)'),
    ioctlPtr,
    ioctlPtrAsync: (fd, cmd, arg, cb) => ioctlPtrFn.async(fd, cmd, arg, cb),
    ioctlAddr,
    mmap: n('intptr_t mmap(uintptr_t, size_t, int, int, int, int64_t)'),
    munmap: n('int munmap(uintptr_t, size_t)'),
    mprotect: n('int mprotect(uintptr_t, size_t, int)'),
    madvise: n('int madvise(uintptr_t, size_t, int)'),
    msync: n('int msync(uintptr_t, size_t, int)'),
    mlock: n('int mlock(uintptr_t, size_t)'),
    mlock2: n('int mlock2(uintptr_t, size_t, unsigned int)'),
    munlock: n('int munlock(uintptr_t, size_t)'),
    // variadic in glibc (new_address only with MREMAP_FIXED): passed as a fifth fixed argument,
    // which the x86-64 and AAPCS64 calling conventions place where the variadic one goes
    mremap: n('intptr_t mremap(uintptr_t, size_t, size_t, int, uintptr_t)'),
    read: n('intptr_t read(int, void *, size_t)'),
    write: n('intptr_t write(int, void *, size_t)'),
    pread: n('intptr_t pread(int, void *, size_t, int64_t)'),
    lseek: n('int64_t lseek(int, int64_t, int)'),
    fstat,
    poll: n('int poll(void *, unsigned long, int)'),
    getrlimit: n('int getrlimit(int, void *)'),
    setrlimit: n('int setrlimit(int, void *)'),
    memfdCreate: n('int memfd_create(const char *, unsigned int)'),
    ftruncate: n('int ftruncate(int, int64_t)'),
    mkdir: n('int mkdir(const char *, unsigned int)'),
    rmdir: n('int rmdir(const char *)'),
    sysconf: n('long sysconf(int)'),
    malloc: n('uintptr_t malloc(size_t)'),
    free: f('void free(uintptr_t)') as (addr: Big) => void,
    processVmReadv: n('intptr_t process_vm_readv(int, void *, unsigned long, void *, unsigned long, unsigned long)'),
    processVmWritev: n('intptr_t process_vm_writev(int, void *, unsigned long, void *, unsigned long, unsigned long)'),
    epollCreate1: n('int epoll_create1(int)'),
    epollCtl: n('int epoll_ctl(int, int, int, void *)'),
    epollWait: n('int epoll_wait(int, void *, int, int)'),
    socketpair: n('int socketpair(int, int, int, void *)'),
    sendmsg: n('intptr_t sendmsg(int, uintptr_t, int)'),
    recvmsg: n('intptr_t recvmsg(int, uintptr_t, int)'),
    syscall3: n('long syscall(long, long, long, long)'),
    syscallStatAt: n('long syscall(long, int, const char *, void *, int)'),
    syscallStatx: n('long syscall(long, int, const char *, int, unsigned int, void *)'),
    syscallAccessAt: n('long syscall(long, int, const char *, int)'),
  };
}

/** libc, or the Error that loading koffi or libc.so.6 threw (kept: the next call gives the same answer). */
export function loadLibc(): Libc | Error {
  if (cached === null) {
    try {
      cached = bind();
    } catch (e) {
      cached = e instanceof Error ? e : new Error(String(e));
    }
  }
  return cached;
}
