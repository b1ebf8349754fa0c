/**
 * What a fuzz case is: a machine and a list of operations, plain JSON data (a failing case is
 * printed and replayed as it is). An operation names its process, fds, addresses and paths by
 * selectors that are resolved when it runs (the i-th live process, the i-th open dma-buf fd of
 * that process, ...), so that a case stays meaningful when the minimiser removes steps before it.
 * Numbers may be hostile (NaN, 1.5, -1, 2**53, Infinity): in JSON the non-finite ones and -0 are
 * written `{"$n": "NaN"}`.
 */
import type { MachineName } from './machines.js';

/** A number as the caller passes it: any JS number, hostile ones included. */
export type Num = number;
/** A u64 struct field: a number, or a decimal string for values above 2^53. */
export type U64 = number | string;

export const FD_KINDS = ['any', 'dmabuf', 'heap', 'memfd', 'udmabuf', 'sync', 'pidfd', 'epoll', 'socket', 'other'] as const;
export type FdKind = (typeof FD_KINDS)[number];

/** The i-th open fd of a kind in the caller's table (any fd when it has none of the kind), or a raw number. */
export type FdSel = { readonly k: FdKind; readonly i: number } | { readonly raw: Num };
/** An address: in the caller's scratch page, in its i-th mapping, or raw. */
export type AddrSel = { readonly s: 'scratch'; readonly off: number } | { readonly s: 'vma'; readonly i: number; readonly off: Num } | { readonly raw: Num };

export const PROC_FILES = ['fd', 'fdinfo', 'maps', 'pagemap', 'comm', 'dir', 'fddir'] as const;
/** A path, resolved against the kernel's current state. `q` selects any process ever made (dead ones too). */
export type PathSel =
  | { readonly t: 'heap'; readonly i: number }
  | { readonly t: 'proc'; readonly q: number; readonly f: (typeof PROC_FILES)[number]; readonly fd: number; readonly self: boolean }
  | { readonly t: 'cg'; readonly c: number; readonly f: string }
  | { readonly t: 'buf'; readonly i: number; readonly f: 'size' | 'exporter_name' | 'dir' }
  | { readonly t: 'cma'; readonly i: number; readonly f: string; readonly debug: boolean }
  | { readonly t: 'class'; readonly i: number; readonly f: 'dev' | 'uevent' }
  | { readonly t: 'lit'; readonly s: string };

export interface UdmabufItemOp {
  readonly memfd: FdSel;
  readonly offset: U64;
  /** Ignored when `fit`: the memfd's size (rounded down to a page) minus the offset. */
  readonly size: U64;
  readonly fit: boolean;
}

export interface PollEntryOp {
  readonly fd: FdSel;
  readonly events: number;
}

export type Op =
  // processes and users
  | { readonly op: 'spawn'; readonly uid: number; readonly gid: number }
  | { readonly op: 'fork'; readonly p: number }
  | { readonly op: 'exec'; readonly p: number }
  | { readonly op: 'exit'; readonly p: number }
  | { readonly op: 'kill'; readonly p: number }
  | { readonly op: 'setCred'; readonly p: number; readonly uid: number; readonly gid: number }
  | { readonly op: 'setNofile'; readonly p: number; readonly cur: Num; readonly max: Num }
  | { readonly op: 'sendFd'; readonly p: number; readonly fd: FdSel; readonly to: number; readonly cloexec: boolean }
  | { readonly op: 'pidfdOpen'; readonly p: number; readonly target: number; readonly flags: Num }
  // the fd table
  | { readonly op: 'open'; readonly p: number; readonly path: PathSel; readonly flags: Num }
  | { readonly op: 'close'; readonly p: number; readonly fd: FdSel }
  | { readonly op: 'dup'; readonly p: number; readonly fd: FdSel }
  | { readonly op: 'dup3'; readonly p: number; readonly fd: FdSel; readonly newfd: FdSel; readonly flags: Num }
  | { readonly op: 'fcntl'; readonly p: number; readonly fd: FdSel; readonly cmd: Num; readonly arg: Num }
  // epoll and socket pairs (SCM_RIGHTS)
  | { readonly op: 'epollCreate'; readonly p: number; readonly flags: Num }
  | { readonly op: 'epollCtl'; readonly p: number; readonly ep: FdSel; readonly ctl: Num; readonly fd: FdSel; readonly events: Num; readonly ptr: AddrSel }
  | { readonly op: 'epollWait'; readonly p: number; readonly ep: FdSel; readonly max: Num; readonly ptr: AddrSel }
  | { readonly op: 'socketpair'; readonly p: number; readonly type: Num; readonly ptr: AddrSel }
  | { readonly op: 'sendmsg'; readonly p: number; readonly sock: FdSel; readonly fds: readonly FdSel[] }
  | { readonly op: 'recvmsg'; readonly p: number; readonly sock: FdSel; readonly len: Num; readonly maxFds: Num; readonly flags: Num }
  // ioctls
  | { readonly op: 'heapAlloc'; readonly p: number; readonly heap: number; readonly len: U64; readonly fdFlags: Num; readonly heapFlags: Num; readonly pidfd: FdSel | null; readonly size: number; readonly fdIn: Num; readonly ptr: AddrSel }
  | { readonly op: 'bufSync'; readonly p: number; readonly fd: FdSel; readonly flags: U64; readonly ptr: AddrSel }
  | { readonly op: 'setName'; readonly p: number; readonly fd: FdSel; readonly name: string; readonly b: boolean; readonly ptr: AddrSel }
  | { readonly op: 'exportSync'; readonly p: number; readonly fd: FdSel; readonly flags: Num; readonly ptr: AddrSel }
  | { readonly op: 'importSync'; readonly p: number; readonly fd: FdSel; readonly flags: Num; readonly sync: FdSel; readonly ptr: AddrSel }
  | { readonly op: 'udmabuf'; readonly p: number; readonly list: boolean; readonly flags: Num; readonly count: Num | null; readonly items: readonly UdmabufItemOp[]; readonly ptr: AddrSel }
  | { readonly op: 'ioctl'; readonly p: number; readonly fd: FdSel; readonly cmd: Num; readonly ptr: AddrSel }
  // memory
  | { readonly op: 'mmap'; readonly p: number; readonly addr: AddrSel | null; readonly len: Num; readonly fit: boolean; readonly prot: Num; readonly flags: Num; readonly fd: FdSel; readonly off: Num }
  | { readonly op: 'munmap'; readonly p: number; readonly addr: AddrSel; readonly len: Num }
  | { readonly op: 'store'; readonly p: number; readonly addr: AddrSel; readonly len: number; readonly val: number }
  | { readonly op: 'load'; readonly p: number; readonly addr: AddrSel; readonly len: number }
  // recipes: the few calls a program makes in a row to reach a deeper state
  | { readonly op: 'sealedMemfd'; readonly p: number; readonly size: Num; readonly seals: number }
  | { readonly op: 'cpuAccess'; readonly p: number; readonly fd: FdSel; readonly write: boolean; readonly sync: boolean; readonly unmap: boolean; readonly len: number }
  // files
  | { readonly op: 'read'; readonly p: number; readonly fd: FdSel; readonly ptr: AddrSel; readonly count: Num }
  | { readonly op: 'write'; readonly p: number; readonly fd: FdSel; readonly ptr: AddrSel; readonly count: Num; readonly text: string | null }
  | { readonly op: 'lseek'; readonly p: number; readonly fd: FdSel; readonly off: Num; readonly whence: Num }
  | { readonly op: 'ftruncate'; readonly p: number; readonly fd: FdSel; readonly len: Num }
  | { readonly op: 'memfd'; readonly p: number; readonly name: string; readonly flags: Num }
  | { readonly op: 'poll'; readonly p: number; readonly fds: readonly PollEntryOp[]; readonly nfds: Num | null; readonly ptr: AddrSel }
  | { readonly op: 'fstat'; readonly p: number; readonly fd: FdSel; readonly ptr: AddrSel }
  | { readonly op: 'readlink'; readonly p: number; readonly path: PathSel; readonly size: Num; readonly ptr: AddrSel }
  | { readonly op: 'mkdir'; readonly p: number; readonly path: PathSel; readonly mode: Num }
  | { readonly op: 'rmdir'; readonly p: number; readonly path: PathSel }
  | { readonly op: 'cgWrite'; readonly p: number; readonly cg: number; readonly file: string; readonly value: string; readonly q: number }
  | { readonly op: 'readFile'; readonly p: number; readonly path: PathSel }
  | { readonly op: 'readdir'; readonly p: number; readonly path: PathSel }
  // an importer driver (src/kernel/dev): attachments by index among the live ones
  | { readonly op: 'attach'; readonly p: number; readonly fd: FdSel; readonly dev: number; readonly dynamic: boolean }
  | { readonly op: 'map'; readonly h: number; readonly dir: 0 | 1 | 2 }
  | { readonly op: 'unmap'; readonly h: number }
  | { readonly op: 'detach'; readonly h: number }
  | { readonly op: 'devSync'; readonly h: number; readonly cpu: boolean; readonly dir: 0 | 1 | 2 }
  | { readonly op: 'devRW'; readonly h: number; readonly write: boolean; readonly off: Num; readonly len: number };

export type OpName = Op['op'];

export interface FuzzCase {
  readonly machine: MachineName;
  readonly ops: readonly Op[];
}

/** The replay file: a case and what it found. */
export interface ReplayFile {
  readonly dmaheapFuzz: 1;
  readonly machine: MachineName;
  readonly ops: readonly Op[];
  readonly seed?: number;
  readonly failure?: string;
}

/** JSON text of a case; non-finite numbers and -0 as {"$n": "NaN" | "Infinity" | "-Infinity" | "-0"}. */
export function caseToJson(c: FuzzCase, extra: { seed?: number; failure?: string } = {}, space?: number): string {
  const file: ReplayFile = { dmaheapFuzz: 1, ...(extra.seed !== undefined ? { seed: extra.seed } : {}), ...(extra.failure !== undefined ? { failure: extra.failure } : {}), machine: c.machine, ops: c.ops };
  return JSON.stringify(file, (_k, v: unknown) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? { $n: Object.is(v, -0) ? '-0' : String(v) } : v), space);
}

/** Parses a replay file (the inverse of caseToJson); throws with a message saying what is wrong. */
export function caseFromJson(text: string, machines: readonly string[]): FuzzCase & { seed?: number; failure?: string } {
  const v = JSON.parse(text, (_k, x: unknown) => {
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === '$n' && typeof o.$n === 'string') return o.$n === '-0' ? -0 : Number(o.$n);
    }
    return x;
  }) as Partial<ReplayFile> | null;
  if (v === null || typeof v !== 'object' || v.dmaheapFuzz !== 1) throw new Error('not a dmaheap fuzz replay file (no "dmaheapFuzz": 1)');
  if (typeof v.machine !== 'string' || !machines.includes(v.machine)) throw new Error(`unknown machine ${JSON.stringify(v.machine)} (known: ${machines.join(', ')})`);
  if (!Array.isArray(v.ops)) throw new Error('"ops" must be an array');
  for (const [i, op] of v.ops.entries()) {
    if (op === null || typeof op !== 'object' || typeof (op as { op?: unknown }).op !== 'string') throw new Error(`ops[${i}] is not an operation`);
  }
  return { machine: v.machine as MachineName, ops: v.ops, ...(typeof v.seed === 'number' ? { seed: v.seed } : {}), ...(typeof v.failure === 'string' ? { failure: v.failure } : {}) };
}
