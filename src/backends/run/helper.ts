/**
 * The notification helper (native/notify/dmaheap-notify.c, shipped prebuilt): the supervisor's
 * wait for seccomp notifications, in C, which answers the calls of *plain* processes that the
 * bridge would let the host run anyway (docs/run.md "The notification helper"). Loaded with
 * koffi; where it cannot be, the supervisor waits and decides in JavaScript, more slowly.
 */
import { fileURLToPath } from 'node:url';
import type { Libc } from '../linux/libc.js';

/** The interface version dh_version() must report. */
const HELPER_VERSION = 1;

/** The shipped helper for this machine. */
export function shippedHelper(arch: string = process.arch): string {
  const dir = arch === 'x64' ? 'linux-x64' : 'linux-arm64';
  return fileURLToPath(new URL(`../../../../native/prebuilt/${dir}/dmaheap-notify.so`, import.meta.url));
}

export interface NotifyHelper {
  readonly path: string;
  /**
   * dh_serve: 1 with a notification in `req` for the bridge; 0 with none (a timeout, a pidfd or
   * the listener's POLLHUP in `pfd`'s revents, or the time budget spent); a negated errno of poll.
   * Adds the calls it answered to `answered[0]`.
   */
  serve(listener: number, pfd: Uint8Array, nfds: number, timeoutMs: number, req: Uint8Array, plain: Int32Array, nplain: number, budgetUs: number, answered: BigUint64Array): number;
}

/** The helper at `path` (the shipped one by default), or an Error saying why it cannot be used. */
export function loadHelper(libc: Libc, path: string = shippedHelper()): NotifyHelper | Error {
  try {
    const lib = libc.koffi.load(path);
    const version = lib.func('int dh_version(void)') as () => number;
    const v = version();
    if (v !== HELPER_VERSION) return new Error(`${path} speaks version ${v}, this dmaheap ${HELPER_VERSION}`);
    const serve = lib.func('int dh_serve(int, void *, int, int, void *, void *, int, int, void *)') as NotifyHelper['serve'];
    return { path, serve };
  } catch (e) {
    return new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
