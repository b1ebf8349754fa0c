/**
 * The kernel's size limits that syscall arguments are checked against before anything is
 * allocated, and the rule for JS numbers that a C caller could not pass.
 *
 * A syscall argument from JS is a double; the C ABI passes integers. A value no C caller could
 * pass (a fraction, NaN, ±Infinity, or an integer beyond the argument's C type) is refused at
 * the syscall entry, before the kernel's own checks: an fd with EBADF (no such descriptor), a
 * user pointer with EFAULT (no such address), any other integer with EINVAL. An integer that
 * fits the C type is converted as the ABI converts it: a negative size_t or rlim_t is 2^64 + v
 * (so `read(fd, buf, -1)` is the huge count C's `(size_t)-1` is, and `-1` as an rlimit is
 * RLIM_INFINITY).
 */

import { ulong } from '../../uapi/ctypes.js';

/**
 * TASK_SIZE: the end of the user address space (x86-64: TASK_SIZE_MAX = 2^47 - PAGE_SIZE;
 * arm64 with 48-bit virtual addresses: 2^48).
 * @kernel arch/x86/include/asm/page_64_types.h TASK_SIZE_MAX; arch/arm64/include/asm/processor.h TASK_SIZE_64
 */
export function taskSize(arch: 'x86_64' | 'arm64', pageSize: number): number {
  return arch === 'x86_64' ? 2 ** 47 - pageSize : 2 ** 48;
}

/**
 * access_ok(): [addr, addr + size) lies below TASK_SIZE_MAX (both as the unsigned longs the
 * ABI passes: a negative size is a huge one).
 * @kernel include/asm-generic/access_ok.h __access_ok
 */
export function accessOk(addr: number, size: number, limit: number): boolean {
  const a = ulong(addr);
  const s = ulong(size);
  return s <= limit && a <= limit - s;
}

/**
 * MAX_RW_COUNT: what one read(2) or write(2) moves at most (INT_MAX rounded down to a page);
 * a larger count is cut to it.
 * @kernel include/linux/fs.h MAX_RW_COUNT
 */
export function maxRwCount(pageSize: number): number {
  return 0x7fffffff - (0x7fffffff % pageSize);
}

/**
 * The emulated tmpfs's s_maxbytes: Linux's MAX_LFS_FILESIZE is 2^63 - 1 on 64-bit, which no JS
 * number holds exactly, and positions above 2^53 would round; the emulator's limit is
 * Number.MAX_SAFE_INTEGER (docs/fidelity.md, `file-size-limit`).
 */
export const EMULATED_MAXBYTES = Number.MAX_SAFE_INTEGER;

/**
 * vm.mmap_min_addr: 4096 on the oracle kernels (CONFIG_DEFAULT_MMAP_MIN_ADDR's Kconfig default;
 * distributions often build with 65536).
 */
export const MMAP_MIN_ADDR = 4096;

// the C types of arguments and the rule for JS numbers: one definition for the kernel and the Linux backend
export { isCInt, isCLong, ulong } from '../../uapi/ctypes.js';
