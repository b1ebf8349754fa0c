/**
 * The notification helper (native/notify/dmaheap-notify.c, shipped prebuilt): the supervisor's
 * wait for seccomp notifications, in C, which answers the calls of *plain* processes that the
 * bridge would let the host run anyway (docs/run.md "The notification helper"). Loaded with
 * koffi; where it cannot be, the supervisor waits and decides in JavaScript, more slowly.
 */
import type { Libc } from '../linux/libc.js';
import { prebuiltFile } from './preload.js';

/** The interface version dh_version() must report. */
const HELPER_VERSION = 1;

/** The shipped helper for this machine. */
export function shippedHelper(arch: string = process.arch): string {
  return prebuiltFile('dmaheap-notify.so', arch);
}

export interface NotifyHelper {
  readonly path: string;
  /**
   * dh_serve, with the addresses of native memory (koffi passes a number as it is, where a
   * typed array costs a conversion per call): 1 with a notification at `req` for the bridge; 0
   * with none (a timeout, a pidfd or the listener's POLLHUP in the pollfds' revents, or the time
   * budget spent); a negated errno of poll. Adds the calls it answered to the u64 at `answered`.
   */
  serve(listener: number, pfd: number, nfds: number, timeoutMs: number, req: number, plain: number, nplain: number, budgetUs: number, answered: number): number;
}

/** Memory of libc's malloc with a Buffer over it (for the helper's arguments); free() when done. */
export interface NativeBuffer {
  readonly addr: number;
  readonly buf: Buffer;
}

export function nativeBuffer(libc: Libc, size: number): NativeBuffer {
  const addr = libc.malloc(size);
  if (addr === 0) throw new Error(`malloc(${size}) failed`);
  const buf = Buffer.from(libc.koffi.view(addr, size));
  buf.fill(0);
  return { addr, buf };
}

/** The helper at `path` (the shipped one by default), or an Error saying why it cannot be used. */
export function loadHelper(libc: Libc, path: string = shippedHelper()): NotifyHelper | Error {
  try {
    const lib = libc.koffi.load(path);
    const version = lib.func('int dh_version(void)') as () => number;
    const v = version();
    if (v !== HELPER_VERSION) return new Error(`${path} speaks version ${v}, this dmaheap ${HELPER_VERSION}`);
    const serve = lib.func('int dh_serve(int, uintptr_t, int, int, uintptr_t, uintptr_t, int, int, uintptr_t)') as NotifyHelper['serve'];
    return { path, serve };
  } catch (e) {
    return new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
