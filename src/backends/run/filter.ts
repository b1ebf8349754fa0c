/**
 * The seccomp filter `dmaheap run` installs in the launcher before it executes the program
 * (include/uapi/linux/filter.h struct sock_filter; include/uapi/linux/seccomp.h). Classic BPF
 * over struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }:
 *
 * 1. another audit arch (a 32-bit call from a 64-bit program, x32) → ENOSYS: nothing reaches the
 *    host kernel behind the emulator's back;
 * 2. a call that is not one of {@link RUN_SYSCALLS} → ALLOW, decided on the number alone, before
 *    any argument is read: the kernel's seccomp action cache (kernel/seccomp.c
 *    seccomp_cache_prepare_bitmap, Linux 5.11) then lets those calls skip the filter altogether;
 *    the list is matched hottest first (read, write, close, openat, the stats, getdents64);
 * 3. args[5] equal to the run's cookie → ALLOW: the launcher's own calls between installing the
 *    filter and execve (it passes the cookie in the sixth argument register of every call);
 * 3b. with the preload shim (`--preload`): args[5] equal to the shim's cookie AND the call made
 *    from the shim's syscall page (instruction_pointer in that page) → ALLOW. The page check
 *    matters: the kernel keeps registers across a call, so the cookie stays in the sixth
 *    argument's register after the shim's call, and a later libc call with fewer arguments (or a
 *    signal handler run when the call returns) would carry it; from any other address it is
 *    stopped as usual;
 * 3c. with the preload shim: mmap made from the shim's page → ALLOW, whatever its arguments (its
 *    sixth is the offset, so it cannot carry the cookie): the shim's fast mappings (a host file,
 *    or a dma-buf the bridge approved, which the shim logs for the bridge to replay);
 * 4. mmap with fd -1 (anonymous memory) → ALLOW, unless MAP_FIXED (it may replace part of a buffer
 *    mapping, which the mirror must drop): the program's own memory is not ours to see;
 * 5. the rest of {@link RUN_SYSCALLS} → USER_NOTIF: the supervisor serves it or lets it continue.
 */
import { RUN_SYSCALLS } from './syscalls.js';
import type { RunSyscall, SyscallArch } from './syscalls.js';

/** The calls a syscall-heavy program makes most, matched first (the rest by number). */
const HOT: readonly RunSyscall[] = ['read', 'write', 'close', 'openat', 'newfstatat', 'fstat', 'statx', 'getdents64', 'lseek', 'fcntl', 'mmap', 'ioctl'];

/** The numbers of {@link RUN_SYSCALLS} this architecture has, in the order the filter matches them. */
export function watchedNumbers(arch: SyscallArch): number[] {
  const all = [...new Set(RUN_SYSCALLS.map((n) => arch.nr[n]).filter((n): n is number => n !== undefined))];
  const hot = HOT.map((n) => arch.nr[n]).filter((n): n is number => n !== undefined);
  return [...hot, ...all.filter((n) => !hot.includes(n)).sort((a, b) => a - b)];
}

const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const BPF_JMP_JSET_K = 0x45;
const MAP_FIXED = 0x10;
const BPF_ALU_AND_K = 0x54;
const OFF_IP = 8;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_ERRNO = 0x00050000;
const ENOSYS = 38;

/** Offsets in struct seccomp_data (little-endian: the low half of a u64 first). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number): number => 16 + 8 * i;
const argHi = (i: number): number => 16 + 8 * i + 4;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The preload shim's fast calls: its cookie and the page its syscall instruction is on. */
export interface PreloadGate {
  readonly cookie: bigint;
  /** Page-aligned user address (the shim maps its stub there, MAP_FIXED_NOREPLACE). */
  readonly page: bigint;
}

/** The filter as the bytes of a struct sock_filter array. */
export function buildFilter(arch: SyscallArch, cookie: bigint, preload?: PreloadGate): Uint8Array {
  const prog: Insn[] = [];
  const ld = (off: number): number => prog.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: off });
  const ret = (v: number): number => prog.push({ code: BPF_RET_K, jt: 0, jf: 0, k: v >>> 0 });
  const jeq = (k: number, jt: number, jf: number): number => prog.push({ code: BPF_JMP_JEQ_K, jt, jf, k: k >>> 0 });
  /** ALLOW when the call was made from the shim's page (6 instructions; a mismatch jumps past them). */
  const fromShimPage = (page: bigint): void => {
    ld(OFF_IP);
    prog.push({ code: BPF_ALU_AND_K, jt: 0, jf: 0, k: 0xfffff000 });
    jeq(Number(page & 0xfffff000n), 0, 3);
    ld(OFF_IP + 4);
    jeq(Number(page >> 32n), 0, 1);
    ret(SECCOMP_RET_ALLOW);
  };
  // 1. the architecture
  ld(OFF_ARCH);
  jeq(arch.auditArch, 1, 0);
  ret(SECCOMP_RET_ERRNO | ENOSYS);
  // 2. the number: a call we do not look at runs untouched (jeq i jumps to the first
  // instruction after the list's ALLOW, the jf of the last falls onto it)
  ld(OFF_NR);
  const nrs = watchedNumbers(arch);
  nrs.forEach((nr, i) => jeq(nr, nrs.length - i, 0));
  ret(SECCOMP_RET_ALLOW);
  // 3. the launcher's cookie in args[5]
  ld(argLo(5));
  jeq(Number(cookie & 0xffffffffn), 0, 3);
  ld(argHi(5));
  jeq(Number(cookie >> 32n), 0, 1);
  ret(SECCOMP_RET_ALLOW);
  // 3b. the preload shim's cookie, from its page (each jf lands on step 4, after the ALLOW)
  if (preload !== undefined) {
    ld(argLo(5));
    jeq(Number(preload.cookie & 0xffffffffn), 0, 8);
    ld(argHi(5));
    jeq(Number(preload.cookie >> 32n), 0, 6);
    fromShimPage(preload.page);
    // 3c. mmap from the shim's page (each jf lands on step 4)
    ld(OFF_NR);
    jeq(arch.nr.mmap!, 0, 6);
    fromShimPage(preload.page);
  }
  // 4. anonymous mmap
  ld(OFF_NR);
  jeq(arch.nr.mmap!, 0, 5);
  ld(argLo(4));
  jeq(0xffffffff, 0, 3);
  // anonymous: only a MAP_FIXED one, which may replace part of a buffer mapping, is looked at
  ld(argLo(3));
  prog.push({ code: BPF_JMP_JSET_K, jt: 1, jf: 0, k: MAP_FIXED });
  ret(SECCOMP_RET_ALLOW);
  // 5. the supervisor's
  ret(SECCOMP_RET_USER_NOTIF);
  const out = new Uint8Array(prog.length * 8);
  const dv = new DataView(out.buffer);
  prog.forEach((p, i) => {
    dv.setUint16(i * 8, p.code, true);
    out[i * 8 + 2] = p.jt;
    out[i * 8 + 3] = p.jf;
    dv.setUint32(i * 8 + 4, p.k, true);
  });
  return out;
}
