/**
 * The C types of syscall arguments, and what a JS number that no C caller could pass becomes.
 *
 * A syscall argument from JS is a double; the C ABI passes integers. A value no C caller could
 * pass (a fraction, NaN, ±Infinity, or an integer beyond the argument's C type) is refused
 * before the call: an fd with EBADF (no such descriptor), a user pointer with EFAULT (no such
 * address), any other argument with EINVAL. An integer that fits the C type is converted as the
 * ABI converts it (a negative size_t or rlim_t is 2^64 + v). The emulated kernel
 * (src/kernel/fs/limits.ts) and the Linux backend apply the same rule, so a program gets the
 * same errno from both (docs/fidelity.md, `js-numbers`).
 */

/** An int or unsigned int argument: an integer in [-2^31, 2^32). */
export function isCInt(v: number): boolean {
  return Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff;
}

/** A 64-bit argument (long, unsigned long, size_t, off_t, a pointer): an integer in [-2^63, 2^64). */
export function isCLong(v: number): boolean {
  return Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 64;
}

/** The unsigned long a 64-bit argument is: a negative value is 2^64 + v (rounded; only compared). */
export function ulong(v: number): number {
  return v < 0 ? 2 ** 64 + v : v;
}
