/**
 * Errors at the API edge. Inside the kernel errno is data; here it becomes an exception with the
 * errno name, number and the syscall that failed, and a libuv-style message as Node's own
 * errors have: `EINVAL: Invalid argument, ioctl '/dev/dma_heap/system'`.
 */
import { Errno, errnoName, strerror } from '../uapi/errno.js';
import type { ErrnoName } from '../uapi/errno.js';

export interface ErrnoErrorJSON {
  code: ErrnoName;
  errno: number;
  syscall: string;
  path?: string;
  message: string;
}

/** libuv's form: `EINVAL: Invalid argument, ioctl '/dev/dma_heap/system'`. */
function errnoSummary(code: ErrnoName, syscall: string, path: string | undefined): string {
  return `${code}: ${strerror(code)}, ${syscall}${path !== undefined ? ` '${path}'` : ''}`;
}

export class ErrnoError extends Error {
  override readonly name = 'ErrnoError';
  readonly code: ErrnoName;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;
  /**
   * What the error means here and what to do, when the library knows more than the errno (a
   * missing heap: the heaps there are and why). It is also the message's parenthesised tail.
   */
  readonly hint: string | undefined;

  constructor(code: ErrnoName, syscall: string, path?: string, hint?: string) {
    super(`${errnoSummary(code, syscall, path)}${hint !== undefined ? ` (${hint})` : ''}`);
    this.code = code;
    this.errno = Errno[code];
    this.syscall = syscall;
    this.path = path;
    this.hint = hint;
  }

  /** The message without the hint: `ENOENT: No such file or directory, open '/dev/dma_heap/x'`. */
  get summary(): string {
    return errnoSummary(this.code, this.syscall, this.path);
  }

  /** From a negated errno number as a syscall returns it. */
  static fromNumber(negOrPos: number, syscall: string, path?: string, hint?: string): ErrnoError {
    const n = Math.abs(negOrPos);
    const code = errnoName(n);
    if (code === undefined) throw new RangeError(`unknown errno ${n} from ${syscall}`);
    return new ErrnoError(code, syscall, path, hint);
  }

  toJSON(): ErrnoErrorJSON {
    return { code: this.code, errno: this.errno, syscall: this.syscall, ...(this.path !== undefined ? { path: this.path } : {}), message: this.message };
  }

  static fromJSON(j: ErrnoErrorJSON): ErrnoError {
    const e = new ErrnoError(j.code, j.syscall, j.path);
    if (j.message !== e.message) Object.defineProperty(e, 'message', { value: j.message });
    return e;
  }
}

/** Thrown when a mapping is used after it was unmapped or its buffer closed. */
export class UnmappedError extends Error {
  override readonly name = 'UnmappedError';
  constructor(what: string) {
    super(`${what}: the mapping was unmapped; map the buffer again with buffer.map()`);
  }
}
