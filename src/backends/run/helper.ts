/**
 * The notification helper (native/notify/dmaheap-notify.c, shipped prebuilt): the supervisor's
 * wait for seccomp notifications, in C, which answers the calls of *plain* processes that the
 * bridge would let the host run anyway (docs/run.md "The notification helper"). Loaded with
 * koffi; where it cannot be, the supervisor waits and decides in JavaScript, more slowly.
 */
import type { Libc } from '../linux/libc.js';
import { prebuiltFile } from './preload.js';

/** The interface version dh_version() must report. */
const HELPER_VERSION = 2;

/** The shipped helper for this machine. */
export function shippedHelper(arch: string = process.arch): string {
  return prebuiltFile('dmaheap-notify.so', arch);
}

/**
 * dh_serve's flags: a plain process's forks, execs and chdirs (logged for the bridge), its
 * exit_group, its uname (answered), the preload shim's registration (answered, its memfd logged).
 */
export const HELPER_LIFECYCLE = 1;
export const HELPER_EXIT = 2;
export const HELPER_SERVE = 4;
export const HELPER_REGISTER = 8;
/**
 * The log's entries, HELPER_EV_INTS int32s each (what, thread id, an fd): a process forked (the
 * parent's thread id), a thread executed a program, changed directory, or registered the shim
 * (the fd: its memfd, now the supervisor's).
 */
export const HELPER_EV_FORK = 1;
export const HELPER_EV_EXEC = 2;
export const HELPER_EV_CWD = 3;
export const HELPER_EV_REGISTER = 4;
/** A process's first call, taken as a plain one: a child of a parent whose pending forks are all plain (the fd: the parent's pid). */
export const HELPER_EV_CHILD = 5;
export const HELPER_EV_INTS = 4;

/**
 * struct dh_args (native/notify/dmaheap-notify.c): dh_serve's arguments and the counts it
 * increases, at these byte offsets (int32s, then u64s).
 */
export const HELPER_ARGS = {
  listener: 0, nfds: 4, timeoutMs: 8, nplain: 12, budgetUs: 16, flags: 20, nevents: 24, turnUs: 28,
  fds: 32, req: 40, plain: 48, events: 56, uts: 64,
  /** the shim's registration: its memfd's size, where the page size goes in it, the page size, where its reg_info is (u32s) */
  regBytes: 72, regPageOff: 76, pageSize: 80, regInfoOff: 84,
  /** (parent pid, plain pending forks) pairs of int32 (HELPER_EV_CHILD), and how many */
  claim: 88, nclaim: 96,
  /** calls answered (continued or served), those the mirror follows, log entries, calls served */
  answered: 104, mirrored: 112, logged: 120, served: 128,
  bytes: 136,
} as const;

export interface NotifyHelper {
  readonly path: string;
  /**
   * dh_serve(struct dh_args *) at native address `args` (koffi passes a number as it is):
   * 1 with a notification at args.req for the bridge; 0 with none (a timeout, a pidfd or the
   * listener's POLLHUP in the pollfds' revents, or the time budget spent); a negated errno of
   * poll.
   */
  serve(args: number): number;
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
    const serve = lib.func('int dh_serve(uintptr_t)') as NotifyHelper['serve'];
    return { path, serve };
  } catch (e) {
    return new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
