/**
 * The seccomp filter `dmaheap run` installs in the launcher before it executes the program
 * (include/uapi/linux/filter.h struct sock_filter; include/uapi/linux/seccomp.h). Classic BPF
 * over struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }:
 *
 * 1. another audit arch (a 32-bit call from a 64-bit program) → ENOSYS: nothing reaches the
 *    host kernel behind the emulator's back;
 * 2. a call that is not one of {@link RUN_SYSCALLS} → ALLOW, decided on the number alone, before
 *    any argument is read: the kernel's seccomp action cache (kernel/seccomp.c
 *    seccomp_cache_prepare_bitmap, Linux 5.11) then lets those calls skip the filter altogether;
 *    on x86-64 an x32 call (the number with __X32_SYSCALL_BIT, the same audit arch) is ENOSYS
 *    (its numbers are none of the list's, so it would otherwise run untouched). The list is
 *    matched hottest first (what syscall-heavy programs make most: fcntl, close and the stats
 *    for find, read and write for tar), so that a watched call runs as few instructions as can be;
 * 3. with the preload shim (`--preload`): a call made from the shim's syscall page
 *    (instruction_pointer in that page) → ALLOW: the shim's FAST calls, and its mmaps (a host
 *    file, or a dma-buf the bridge approved, which it logs for the bridge to replay). The page
 *    holds one syscall instruction, the shim's stub, mapped at an address no other code of the
 *    program has (MAP_FIXED_NOREPLACE); a call from anywhere else is stopped as usual. This is
 *    the check each of the shim's calls pays for (a syscall-heavy program makes tens of
 *    thousands), so it is the first after the number;
 * 4. args[5] equal to the run's cookie → ALLOW: the launcher's own calls between installing the
 *    filter and execve (it passes the cookie in the sixth argument register of every call);
 * 5. mmap with fd -1 (anonymous memory) → ALLOW, unless MAP_FIXED (it may replace part of a buffer
 *    mapping, which the mirror must drop): the program's own memory is not ours to see;
 * 6. the rest of {@link RUN_SYSCALLS} → USER_NOTIF: the supervisor serves it or lets it continue.
 */
import { RUN_SYSCALLS } from './syscalls.js';
import type { RunSyscall, SyscallArch } from './syscalls.js';

/** The calls a syscall-heavy program makes most, matched first (the rest by number). */
const HOT: readonly RunSyscall[] = ['fcntl', 'close', 'newfstatat', 'read', 'write', 'getdents64', 'openat', 'fstat', 'statx', 'lseek', 'mmap', 'ioctl'];

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

/**
 * The preload shim's fast calls: the page its syscall instruction is on, which the filter
 * checks, and the cookie it is given (DMAHEAP_RUN_COOKIE: the sign that it runs under
 * `dmaheap run` and may register; the filter no longer looks at it).
 */
export interface PreloadGate {
  readonly cookie: bigint;
  /** Page-aligned user address (the shim maps its stub there, MAP_FIXED_NOREPLACE). */
  readonly page: bigint;
}

const AUDIT_ARCH_X86_64 = 0xc000003e;
/** arch/x86/include/uapi/asm/unistd.h __X32_SYSCALL_BIT */
const X32_SYSCALL_BIT = 0x40000000;

/** The filter as the bytes of a struct sock_filter array. */
export function buildFilter(arch: SyscallArch, cookie: bigint, preload?: PreloadGate): Uint8Array {
  const prog: Insn[] = [];
  const ld = (off: number): number => prog.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: off });
  const ret = (v: number): number => prog.push({ code: BPF_RET_K, jt: 0, jf: 0, k: v >>> 0 });
  const jeq = (k: number, jt: number, jf: number): number => prog.push({ code: BPF_JMP_JEQ_K, jt, jf, k: k >>> 0 });
  // 1. the architecture
  ld(OFF_ARCH);
  jeq(arch.auditArch, 1, 0);
  ret(SECCOMP_RET_ERRNO | ENOSYS);
  // 2. the number: a call we do not look at runs untouched (jeq i jumps past the list's ending,
  // the jf of the last falls onto it); x32's numbers end in ENOSYS
  ld(OFF_NR);
  const nrs = watchedNumbers(arch);
  const x32 = arch.auditArch === AUDIT_ARCH_X86_64;
  const ending = x32 ? 3 : 1;
  nrs.forEach((nr, i) => jeq(nr, nrs.length - i - 1 + ending, 0));
  if (x32) {
    prog.push({ code: BPF_JMP_JSET_K, jt: 0, jf: 1, k: X32_SYSCALL_BIT });
    ret(SECCOMP_RET_ERRNO | ENOSYS);
  }
  ret(SECCOMP_RET_ALLOW);
  // 3. the preload shim's page (a mismatch jumps past the ALLOW)
  if (preload !== undefined) {
    ld(OFF_IP);
    prog.push({ code: BPF_ALU_AND_K, jt: 0, jf: 0, k: 0xfffff000 });
    jeq(Number(preload.page & 0xfffff000n), 0, 3);
    ld(OFF_IP + 4);
    jeq(Number(preload.page >> 32n), 0, 1);
    ret(SECCOMP_RET_ALLOW);
  }
  // 4. the launcher's cookie in args[5]
  ld(argLo(5));
  jeq(Number(cookie & 0xffffffffn), 0, 3);
  ld(argHi(5));
  jeq(Number(cookie >> 32n), 0, 1);
  ret(SECCOMP_RET_ALLOW);
  // 5. anonymous mmap
  ld(OFF_NR);
  jeq(arch.nr.mmap!, 0, 5);
  ld(argLo(4));
  jeq(0xffffffff, 0, 3);
  // anonymous: only a MAP_FIXED one, which may replace part of a buffer mapping, is looked at
  ld(argLo(3));
  prog.push({ code: BPF_JMP_JSET_K, jt: 1, jf: 0, k: MAP_FIXED });
  ret(SECCOMP_RET_ALLOW);
  // 6. the supervisor's
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
