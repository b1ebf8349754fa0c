/**
 * Errors inside the kernel are data, as in Linux: a syscall returns a non-negative value or a
 * negated errno number, and an in-kernel function that returns an object returns either the
 * object or a negated errno number (the ERR_PTR idiom of include/linux/err.h).
 */
export type KResult<T extends object> = T | number;

/** IS_ERR() for {@link KResult}: true when the value is a negated errno. */
export function isErr<T extends object>(v: KResult<T>): v is number {
  return typeof v === 'number';
}
