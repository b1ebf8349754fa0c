/**
 * The bridge between a native program's system calls and the emulated kernel (`dmaheap run`).
 *
 * The seccomp filter (filter.ts) stops the calls that may touch the emulated machine; for each one
 * the supervisor asks {@link RunBridge.handle}, which either serves it on the emulated kernel (the
 * program gets the emulated result) or lets the host kernel run it (CONTINUE).
 *
 * Every real process of the program has a mirror: an emulated Process with the same pid, whose
 * user memory is the real one (RemoteAddressSpace) and whose fd table holds the program's
 * emulated files at the numbers the real kernel gave them. Each emulated file the program holds
 * is backed in the real fd table by a host file at the same number (SECCOMP_IOCTL_NOTIF_ADDFD):
 * a dma-buf by the memfd its bytes live in (so mmap is real and shared), anything else by an
 * empty memfd named after the file. The host therefore carries the numbers, fork's copies,
 * exec's close-on-exec and SCM_RIGHTS by itself; the mirror follows:
 *
 * - close, dup*, fcntl(F_DUPFD*, F_SETFD), close_range: served on the mirror, then continued so
 *   the host does the same to the backing file;
 * - fork/clone: the mirror forks at the call (the child's table is the parent's at that moment)
 *   and the child takes the real pid when it first shows up;
 * - execve: continued; on the process's next call the mirror checks whether the exec happened
 *   (its close-on-exec backing files are gone) and execs too;
 * - exit_group, or death by a signal (its pidfd): the mirror exits, and with it its references;
 * - mmap of a dma-buf: checked by the emulated mmap (which makes the mirror VMA and takes the
 *   file reference), then continued on the memfd; the mirror VMA moves to the real address on the
 *   process's next call (/proc/<pid>/maps);
 * - recvmsg: continued; on the next call, fds that arrived backed by an emulated file join the
 *   mirror's table (sendmsg of one took a reference for the time it is in flight).
 */
import { closeSync, fstatSync, openSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Kernel } from '../../kernel/kernel.js';
import type { Process } from '../../kernel/fs/process.js';
import { encodeStat, statSize } from '../../kernel/fs/process.js';
import type { File, Inode } from '../../kernel/fs/file.js';
import type { Memcg } from '../../kernel/cgroup/memcontrol.js';
import { FMODE_READ, FMODE_WRITE, devMajor, devMinor, newDecodeDev } from '../../kernel/fs/file.js';
import { MAX_MAP_COUNT, VM_LOCKED, VM_READ, VM_WRITE } from '../../kernel/fs/mm-user.js';
import { kernPath } from '../../kernel/fs/namei.js';
import { MAY_EXEC, MAY_READ, MAY_WRITE, inodePermission } from '../../kernel/fs/vfs.js';
import type { ShmemInode } from '../../kernel/mm/shmem.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST } from '../../uapi/udmabuf.js';
import { DMA_BUF_IOCTL_SYNC } from '../../uapi/dma-buf.js';
import { DMA_HEAP_ALLOCATION_DATA, DMA_HEAP_IOCTL_ALLOC } from '../../uapi/dma-heap.js';
import { Errno } from '../../uapi/errno.js';
import { F_CREATED_QUERY, F_DUPFD_QUERY, F_GET_SEALS, F_NOTIFY, F_SETFD, O_CLOEXEC, O_CREAT, O_TMPFILE } from '../../uapi/fcntl.js';
import { DmaBuf } from '../../kernel/dma-buf/dma-buf.js';
import type { Libc } from '../linux/libc.js';
import { BUFFER_MEMFD, readProc } from './memory.js';
import type { MapsLine, MemfdBuffers, ProcessMemory } from './memory.js';
import { FDMAP_NAME } from './shim-traces.js';
import type { RunSyscall, SyscallArch } from './syscalls.js';
import { NR_PIDFD_GETFD, NR_PIDFD_OPEN, syscallName } from './syscalls.js';
import { HELPER_EV_CHILD, HELPER_EV_CWD, HELPER_EV_EXEC, HELPER_EV_FORK, HELPER_EV_INTS, HELPER_EV_REGISTER } from './helper.js';

/** One seccomp notification (struct seccomp_notif). */
export interface Notification {
  readonly id: bigint;
  readonly pid: number;
  readonly nr: number;
  readonly args: readonly bigint[];
}

/** What the supervisor answers: a return value (or -errno), or let the host run the call. */
export type Answer = { readonly ret: number } | { readonly cont: true };

/** One emulated call, for --trace. */
export interface TraceRecord {
  readonly pid: number;
  readonly call: string;
  readonly args: readonly string[];
  readonly ret: number;
  readonly errno?: string;
  /**
   * `served`: the emulated kernel answered; `mirrored`: the mirror followed and the host ran the
   * call; `observed`: no call (`exit`: a process ended without exit_group, by a signal or at the
   * end of the run).
   */
  readonly how: 'served' | 'mirrored' | 'observed';
  /** Microseconds since the run started. */
  readonly t?: number;
  /** An open of an emulated file: the path it opened (d_path). */
  readonly path?: string;
  /** DMA_HEAP_IOCTL_ALLOC: the heap's name (of the fd's /dev/dma_heap node) and the length asked for. */
  readonly heap?: string;
  readonly len?: number;
  /** DMA_HEAP_IOCTL_ALLOC that worked: the new dma-buf fd. */
  readonly fd?: number;
  /** The dma-buf's inode: made by an ALLOC, or referred to by the fd a close closed. */
  readonly ino?: number;
  /** Inodes of the dma-bufs whose last reference went during the call (fds, mappings, in-flight). */
  readonly freed?: readonly number[];
}

/** A registered process's shim memfd, mapped here: the bitmap, the fast path's control page and approvals. */
interface FdMap {
  readonly fd: number;
  readonly addr: number;
  readonly bytes: number;
  readonly view: Uint8Array;
  marked: Set<number>;
  readonly ctl: Uint32Array;
  readonly ctlData: DataView;
  readonly approvals: BigUint64Array;
  /** The fds whose approval was last written non-zero. */
  readonly approved: Map<number, bigint>;
}

/** What the bridge needs from the host: the listener (ADDFD) and libc. */
export interface BridgeHost {
  readonly libc: Libc;
  readonly listener: number;
  readonly buffers: MemfdBuffers;
  readonly memory: ProcessMemory;
  /** A line for the user (stderr). */
  warn(line: string): void;
  trace?(r: TraceRecord): void;
  /** The preload shim is in the program's environment: its registration and sync calls are answered. */
  readonly preload?: boolean;
  /** The shim's shared object as /proc/<pid>/maps names it (its mappings are kept out of the program's maps). */
  readonly preloadPath?: string;
  errnoName(errno: number): string;
}

const CONT: Answer = { cont: true };
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const AT_NO_AUTOMOUNT = 0x800;
const AT_REMOVEDIR = 0x200;
const CLONE_VM = 0x100;
const CLONE_THREAD = 0x10000;
const FIOCLEX = 0x5451;
const FIONCLEX = 0x5450;
const CLOSE_RANGE_CLOEXEC = 4;
const MREMAP_FIXED = 2;
const EPOLL_CTL_DEL = 2;
const SECCOMP_IOCTL_NOTIF_ADDFD = 0x40182103;
const SECCOMP_ADDFD_FLAG_SETFD = 1;
const PATH_MAX = 4096;
/**
 * The preload shim's calls (native/preload/dmaheap-preload.c): ioctl(-1, REGISTER) asks for the
 * process's emulated-fd bitmap, ioctl(-1, SYNC) is a stop after a recvmsg so the mirror adopts
 * fds that arrived before the program uses them. No ioctl on fd -1 reaches a driver (EBADF), so
 * these numbers collide with nothing a program can mean.
 */
export const PRELOAD_REGISTER = 0x44480001;
/**
 * include/uapi/linux/pidfd.h: PIDFD_GET_INFO = _IOWR(PIDFS_IOCTL_MAGIC 0xff, 11, struct
 * pidfd_info), whose first published size is 64 bytes (PIDFD_INFO_SIZE_VER0), ppid at 24.
 */
const PIDFD_GET_INFO = 0xc040ff0b;
const PIDFD_INFO_SIZE = 64;
const PIDFD_INFO_PPID = 24;

/** The most words of the shim's reg_info the bridge reads (the shim's REG_WORDS). */
const REG_WORDS = 12;
export const PRELOAD_SYNC = 0x44480002;
/** Bits in a process's bitmap: fds at or above are always the slow path in the shim. */
export const PRELOAD_FD_BITS = 32768;
/** The shim's bitmap is installed at the lowest free fd from here (it closes it at once). */
const PRELOAD_FD_BASE = 1000;
const PROT_READ_WRITE = 3;
const MAP_SHARED = 1;
const MAP_FIXED = 0x10;
/**
 * The buffer fast path's pages in the registration memfd, after the bitmap (the shim's struct
 * fast_ctl and approvals in native/preload/dmaheap-preload.c): the control page (flags, the log's
 * head and tail, LOG_N records of LOG_REC bytes from LOG_BASE) and the approvals page (a u64 per
 * fd below APPROVE_FDS).
 */
const CTL_BYTES = 8192;
const CTL_FAST = 1;
const CTL_NEXT_ID = 1;
const CTL_PAGE_SIZE = 2;
/** Where in the control page the shim writes its reg_info and its name (dmaheap-preload.c struct fast_ctl reg, comm). */
const CTL_REG = 3264;
const CTL_HEAD = 16;
const CTL_TAIL = 32;
const LOG_BASE = 192;
const LOG_N = 64;
const LOG_REC = 48;
const LOG_MMAP = 1;
const LOG_MUNMAP = 2;
const LOG_CLOSE = 3;
const APPROVE_FDS = 512;
const AP_VALID = 1n << 63n;
const AP_READ = 1n << 62n;
const AP_WRITE = 1n << 61n;
const AP_SIZE_MAX = 2 ** 48;
/** The fourth argument of the shim's DMA_HEAP_IOCTL_ALLOC with its own memfd (the fifth), and the answer that sends it the usual way. */
const FAST_ALLOC = 0x4448414cn;
const FAST_ALLOC_RETRY = 0x44485259;
/** Fast mappings a process may make between two of its stops (the shim's table). */
const FAST_MAPS = 64;
/** Pids given to a forked mirror until its real child shows up (above any real pid). */
const PENDING_PID_BASE = 1 << 30;

const E = Errno;

/** A name that may reach an emulated tree (anything else is the host's at once). */
const EMULATED_PREFIX = /^\/(dev|sys|proc)\//;

/** Paths whose names the emulated kernel answers (the rest of the file system is the host's). */
export const EMULATED_TREES = [
  '/dev/dma_heap', '/dev/udmabuf', '/dev/dri', '/sys/kernel/dmabuf', '/sys/kernel/debug', '/sys/kernel/mm/cma', '/sys/fs/cgroup', '/sys/module/dma_heap',
  '/sys/class/dma_heap', '/sys/devices/virtual/dma_heap', '/sys/class/misc/udmabuf', '/sys/devices/virtual/misc/udmabuf', '/proc/device-tree',
];
export const EMULATED_FILES = ['/proc/meminfo', '/proc/sys/kernel/osrelease', '/proc/config.gz', '/proc/cmdline'];
/** Entries of /proc/<pid> that show the emulated view of a mirrored process. */
export const PID_ENTRIES = ['maps', 'smaps', 'pagemap', 'oom_score_adj', 'oom_score'];

interface MirrorState {
  /** A pidfd of the real process (readable once it has exited). */
  pidfd: number;
  /** A set*id or capset call was continued: on the next call, the mirror takes the new credentials. */
  credsPending: boolean;
  cwd: string | null;
  /** mmaps continued on the host whose mirror VMA is still at its emulated address. */
  pendingMaps: { emu: number; len: number; id: number }[];
  /** An execve was continued: on the next call, see whether it happened. */
  execPending: boolean;
  /** A recvmsg was continued: on the next call, adopt emulated files that arrived. */
  adoptPending: boolean;
  /** Anonymous pages the real process had when first looked at (not charged), and what was charged since. */
  anonBase: number | null;
  anonCharges: { memcg: Memcg; pages: number }[];
}

const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const u32 = (v: bigint): number => Number(BigInt.asUintN(32, v));
const s64 = (v: bigint): number => Number(BigInt.asIntN(64, v));
const u64 = (v: bigint): number => Number(v);

/** Lexical normalisation of an absolute path (., .., repeated slashes); the host's symlinks are not followed. */
export function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/**
 * The name and parent pid in the text of /proc/<pid>/stat (fs/proc/array.c do_task_stat: "pid
 * (comm) state ppid ..."), or null. The name is between the first "(" and the last ")": it may
 * hold either, and spaces.
 */
export function parseProcStat(text: string): { name: string; ppid: number } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const f = text.slice(close + 2).split(' ', 2);
  const ppid = f[1] === undefined || !/^\d+$/.test(f[1]) ? NaN : Number(f[1]);
  return Number.isSafeInteger(ppid) ? { name: text.slice(open + 1, close), ppid } : null;
}

export class RunBridge {
  /** Mirrors by real thread id (threads map to their process's mirror). */
  private readonly byTid = new Map<number, Process>();
  private readonly state = new Map<Process, MirrorState>();
  /** Mirrors whose real process was sent SIGKILL for a fatal signal pending in the emulated kernel. */
  private readonly signalled = new WeakSet<Process>();
  /** Forked mirrors waiting for their real child, by the parent's pid. */
  private readonly pendingForks = new Map<number, Process[]>();
  private pendingSeq = 0;
  /** The emulated directory a process chdir'ed into (its host working directory is unchanged). */
  private readonly vcwd = new WeakMap<Process, string>();
  /** Backing memfds of emulated files that are not dma-bufs (the memfd's name carries the id). */
  private readonly backing = new Map<File, { fd: number; id: number }>();
  private readonly backingById = new Map<number, File>();
  /** The eventfd a host epoll watches in place of an emulated file (epollCtl). */
  private readonly pollProxies = new Map<File, number>();
  private backingSeq = 0;
  /** References taken for emulated files in flight in an SCM_RIGHTS message, by backing name. */
  private readonly inFlight = new Map<string, File[]>();
  private current: Notification | null = null;
  /** The shim's memfd for the ALLOC being served: its number in the program and ours (fastAlloc). */
  private preInstalled: { fd: number; hostFd: number } | null = null;
  /**
   * Calls served, mirrored and continued, the shim's calls replayed from its log, and the ALLOCs
   * that took the shim's memfd (for the summary).
   */
  readonly counts = { served: 0, mirrored: 0, continued: 0, logged: 0, fastAllocs: 0, helper: 0 };
  /** Calls refused because the emulation cannot serve them, by name (each reported once). */
  private readonly refused = new Set<string>();
  /** The first process: the program itself. */
  root: Process | null = null;
  /** The ids the program started with (root on the emulated machine). */
  private baseIds: { uid: number; gid: number; groups: number[] } | null = null;
  /** --sanitize: each mapped buffer's bytes at the last checkpoint (writes show as differences). */
  private readonly snapshots = new Map<DmaBuf, Uint8Array>();
  private readonly sanitize: boolean;
  /**
   * The preload shim's bitmaps of emulated fds, one per registered process: a memfd mapped here
   * and (read-only) in the program, and the fds whose bits are set. The bridge re-reads the
   * mirror's fd table after every call it handles for that process and flips the bits that
   * changed, before the call's answer goes back: every change of a mirror's fd table happens
   * while serving one of the process's own stopped calls, so the bitmap is exact whenever the
   * program runs.
   */
  private readonly fdMaps = new Map<Process, FdMap>();
  /**
   * The buffer fast path is offered to the shim (CTL_FAST): not with --sanitize, which checks
   * accesses at each munmap and close, nor with --trace, which records every call as it happens.
   */
  private readonly fastBufs: boolean;
  /** --trace: when the run started (performance.now()), the call being traced, the inodes released since the last record. */
  private readonly t0 = performance.now();
  private tracing: { p: Process; heap?: string; len?: number; ino?: number } | null = null;
  private readonly released: number[] = [];

  constructor(
    readonly kernel: Kernel,
    private readonly host: BridgeHost,
    private readonly arch: SyscallArch,
  ) {
    this.sanitize = kernel.sanitizer !== null;
    this.fastBufs = !this.sanitize && host.trace === undefined;
    kernel.dmaBuf.events.on('release', ({ buf }) => {
      this.snapshots.delete(buf);
      host.buffers.release(buf);
      if (host.trace !== undefined && this.released.length < 65536) this.released.push(buf.ino);
    });
  }

  /** The live mirrors (one per real process). */
  mirrors(): Process[] {
    return [...this.state.keys()].filter((p) => p.alive);
  }

  /**
   * Writes the thread ids of the *plain* processes into `out` (as many as fit) and returns how
   * many: a mirror with no emulated file, no emulated mapping and no emulated working directory,
   * whose recvmsg or credential change has been looked at, and with no fatal signal on the way
   * (an exec not yet looked at leaves it plain: it can only close emulated files, and it has
   * none). Every fd and every mapping of such a process is the host's, so the notification helper
   * (helper.ts) lets the host run its calls on fds, its mmap, munmap, mprotect and madvise, and
   * its calls on absolute names outside /dev, /sys and /proc, as this bridge would. A process
   * stops being plain only while one of its own calls is served here, and the supervisor asks
   * again after each.
   */
  plainTids(out: Int32Array): number {
    let n = 0;
    // consecutive threads of one process share its answer
    let last: Process | null = null;
    let ok = false;
    for (const [tid, p] of this.byTid) {
      if (p !== last) {
        last = p;
        const st = this.state.get(p);
        ok = st !== undefined && p.alive && !st.adoptPending && !st.credsPending && st.pendingMaps.length === 0 &&
          this.holdsNothingEmulated(p) && !this.signalled.has(p) && !p.fatalSignalPending;
      }
      if (ok && n < out.length) out[n++] = tid;
    }
    return n;
  }

  /** No emulated file, no emulated mapping, no emulated working directory: every fd and mapping of the process is the host's. */
  private holdsNothingEmulated(p: Process): boolean {
    return p.openFdCount() === 0 && p.mm.vmas.length === 0 && !this.vcwd.has(p);
  }

  /** pidfds of the live mirrors, with their process (the supervisor polls them). */
  pidfds(): { fd: number; proc: Process }[] {
    const out: { fd: number; proc: Process }[] = [];
    for (const [p, st] of this.state) if (p.alive && st.pidfd >= 0) out.push({ fd: st.pidfd, proc: p });
    return out;
  }

  /** A real process is gone (exit_group, a signal): its mirror exits, dropping its references. */
  exited(p: Process): void {
    if (!p.alive) return;
    // what its shim logged before it went
    const m = this.fdMaps.get(p);
    if (m !== undefined) this.drain(p, m);
    p.exit();
    this.forget(p);
    // outside a call of its own (a signal, the end of the run): the trace still learns of it
    if (this.current === null) this.traced(p.pid, 'exit', [], 0, 'observed');
  }

  private forget(p: Process): void {
    this.dropFdMap(p);
    const st = this.state.get(p);
    for (const c of st?.anonCharges ?? []) this.kernel.kmem.uncharge(c.memcg, c.pages);
    if (st !== undefined && st.pidfd >= 0) this.host.libc.close(st.pidfd);
    this.state.delete(p);
    for (const [tid, q] of this.byTid) if (q === p) this.byTid.delete(tid);
    this.sweepBacking();
  }

  /** Ends the run: every mirror still alive exits (the program is gone), in-flight references go. */
  shutdown(): void {
    this.drainAll();
    for (const p of this.mirrors()) this.exited(p);
    for (const p of [...this.fdMaps.keys(), ...this.pendingRegs.keys()]) this.dropFdMap(p);
    for (const [, files] of this.inFlight) for (const f of files) f.put();
    for (const fd of this.pollProxies.values()) this.host.libc.close(fd);
    this.pollProxies.clear();
    this.inFlight.clear();
    for (const pending of this.pendingForks.values()) {
      for (const p of pending) {
        p.exit();
        // a child that never made a call of its own: its pid is a placeholder
        this.traced(p.pid, 'exit', [], 0, 'observed');
      }
    }
    this.pendingForks.clear();
    this.sweepBacking();
    this.host.buffers.flush();
  }

  /** Closes the backing memfds of files no longer open anywhere. */
  private sweepBacking(): void {
    for (const [f, fd] of this.pollProxies) {
      if (f.count > 0) continue;
      this.host.libc.close(fd);
      this.pollProxies.delete(f);
    }
    for (const [f, b] of this.backing) {
      if (f.count > 0) continue;
      this.host.libc.close(b.fd);
      this.backing.delete(f);
      this.backingById.delete(b.id);
    }
  }

  // ---- mirrors ------------------------------------------------------------------------------

  /**
   * What the supervisor reads of /proc/<tid>/status: the thread group and parent, the name, the
   * file-system uid and gid (what permission checks use), the groups, and RssAnon in kB.
   */
  private status(tid: number): { tgid: number; ppid: number; name: string; uid: number; gid: number; groups: number[]; rssAnonKb: number } | null {
    const text = readProc(`/proc/${tid}/status`);
    if (text === null) return null;
    // "Key:\tvalue" lines, read once (the file's own order; a key's first line wins)
    const fields = new Map<string, string>();
    for (const line of text.split('\n')) {
      const c = line.indexOf(':');
      if (c > 0 && !fields.has(line.slice(0, c))) fields.set(line.slice(0, c), line.slice(c + 1).trimStart());
    }
    const field = (k: string): string => fields.get(k) ?? '';
    // Uid:/Gid: real, effective, saved, file-system
    const fs = (k: string): number => Number(field(k).split(/\s+/)[3]);
    return {
      tgid: Number(field('Tgid')),
      ppid: Number(field('PPid')),
      name: field('Name'),
      uid: fs('Uid'),
      gid: fs('Gid'),
      groups: field('Groups').trim().split(/\s+/).filter((g) => g !== '').slice(0, 65536).map(Number),
      rssAnonKb: Number(/^(\d+) kB$/.exec(field('RssAnon'))?.[1] ?? NaN),
    };
  }


  /**
   * The name and parent in /proc/<tid>/stat, or null: what a forked process's mirror needs, for
   * less than /proc/<tid>/status costs (which renders signals, capabilities and memory counters).
   * The name is between the first "(" and the last ")" (it may hold both, and spaces).
   */
  private procStat(tid: number): { name: string; ppid: number } | null {
    const text = readProc(`/proc/${tid}/stat`);
    return text === null ? null : parseProcStat(text);
  }

  private readonly pidfdInfo = new Uint8Array(PIDFD_INFO_SIZE);
  /** PIDFD_GET_INFO answers here (Linux 6.13): null until tried. */
  private pidfdInfoWorks: boolean | null = null;

  /**
   * The parent of the process a pidfd refers to, by PIDFD_GET_INFO (fs/pidfs.c
   * pidfd_info(), Linux 6.13: one ioctl where /proc/<pid>/stat is an open, a read and a close),
   * or -1 where the kernel has no such ioctl.
   */
  private pidfdParent(pidfd: number): number {
    if (this.pidfdInfoWorks === false) return -1;
    const b = this.pidfdInfo;
    b.fill(0);
    const ok = this.host.libc.ioctlPtr(pidfd, PIDFD_GET_INFO, b) === 0;
    this.pidfdInfoWorks ??= ok;
    return ok ? new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(PIDFD_INFO_PPID, true) : -1;
  }

  private mirrorOf(tid: number): Process | null {
    const known = this.byTid.get(tid);
    if (known !== undefined) return known;
    const libc = this.host.libc;
    // pidfd_open refuses a thread that is not its group's leader (EINVAL): a process opens, and
    // once the first one is known (the ids the program started with), its parent says enough
    // for a child whose mirror forked already (it has its parent's name, as fork leaves it);
    // else its stat file (name and parent)
    const pidfd = libc.syscall3(NR_PIDFD_OPEN, tid, 0, 0);
    let quick: { name: string | null; ppid: number } | null = null;
    if (pidfd >= 0 && this.baseIds !== null) {
      const ppid = this.pidfdParent(pidfd);
      quick = ppid > 0 && (this.pendingForks.get(ppid)?.length ?? 0) > 0 ? { name: null, ppid } : this.procStat(tid);
    }
    const st = quick !== null ? { tgid: tid, ppid: quick.ppid, name: quick.name } : this.status(tid);
    if (st === null || st.tgid !== tid) {
      if (pidfd >= 0) libc.close(pidfd);
      if (st === null) return null;
      const leader = this.mirrorOf(st.tgid);
      if (leader !== null) this.byTid.set(tid, leader);
      return leader;
    }
    return this.makeMirror(tid, pidfd, st.ppid, st.name, 'uid' in st ? st : null);
  }

  /**
   * The mirror of process `tid` (a thread group's leader) whose parent is `ppid`: the fork its
   * parent's mirror made for it (pendingForks), else a fork made now, else a process adopted
   * (the first). `name` null: the fork's (a forked child has its parent's name).
   */
  private makeMirror(tid: number, pidfd: number, ppid: number, name: string | null, ids: { uid: number; gid: number; groups: number[] } | null): Process {
    let p: Process;
    const pending = this.pendingForks.get(ppid);
    const forked = pending?.shift();
    if (forked !== undefined) {
      this.kernel.renumberProcess(forked, tid);
      if (name !== null) forked.comm = name;
      p = forked;
    } else {
      // (a name is known here: only a pending fork's child goes without its stat file)
      const n = name ?? this.procStat(tid)?.name ?? '';
      const parent = this.byTid.get(ppid) ?? null;
      p = parent !== null ? parent.fork(n, tid) : this.kernel.adoptProcess(tid, n, null, this.host.memory);
      this.root ??= p;
    }
    // a forked child has its parent's address space, the shim's pages included, until it
    // registers itself (its first call the shim would make fast) or executes
    const traces = p !== this.root ? this.host.memory.shimTraces.get(ppid) : undefined;
    if (traces !== undefined) this.host.memory.shimTraces.set(tid, traces);
    p.fdAllocator = {
      install: (file, cloexec, start) => this.addFd(file, cloexec, start),
      lowestFree: () => this.lowestFreeFd(this.current?.pid ?? tid, 0),
    };
    this.state.set(p, { pidfd, credsPending: false, cwd: null, pendingMaps: [], execPending: false, adoptPending: forked === undefined, anonBase: null, anonCharges: [] });
    if (this.baseIds === null && ids !== null) this.baseIds = this.idsFrom(ids);
    this.byTid.set(tid, p);
    return p;
  }

  /**
   * Writes the parents whose every pending fork is a plain process's (their children, the
   * notification helper may take as plain on their first call: HELPER_EV_CHILD) into `out` as
   * (pid, forks) pairs, as many as fit; returns how many pairs.
   */
  claimableForks(out: Int32Array): number {
    let n = 0;
    for (const [ppid, list] of this.pendingForks) {
      if (list.length === 0 || 2 * n + 1 >= out.length) continue;
      if (!list.every((c) => this.holdsNothingEmulated(c))) continue;
      out[2 * n] = ppid;
      out[2 * n + 1] = list.length;
      n++;
    }
    return n;
  }

  /**
   * The helper took process `tid`, a child of `ppid`, as plain on its first call (it had a plain
   * pending fork): its mirror is made now. A child that is gone already (reaped) exits at once.
   */
  private helperChild(tid: number, ppid: number): void {
    if (this.byTid.has(tid)) return;
    const pidfd = this.host.libc.syscall3(NR_PIDFD_OPEN, tid, 0, 0);
    const p = this.makeMirror(tid, pidfd, ppid, null, null);
    if (pidfd < 0) this.exited(p);
  }

  /** The host fd behind an emulated file: the dma-buf's memfd, or a named empty memfd. */
  private backingFd(file: File): number {
    if (file.priv instanceof DmaBuf) {
      const m = this.host.buffers.of(file.priv);
      if (m !== undefined) return m.fd;
    }
    let b = this.backing.get(file);
    if (b === undefined) {
      const id = ++this.backingSeq;
      const fd = this.host.libc.memfdCreate(`dmaheap:file:${id}`, 1);
      if (fd < 0) return -1;
      b = { fd, id };
      this.backing.set(file, b);
      this.backingById.set(id, file);
    }
    return b.fd;
  }

  /** The emulated file a backing memfd's name stands for. */
  private fileByBackingName(name: string): File | null {
    let m = /^\/memfd:dmaheap:file:(\d+) \(deleted\)$/.exec(name);
    if (m !== null) return this.backingById.get(Number(m[1])) ?? null;
    m = /^\/memfd:dmaheap:buf:(\d+) \(deleted\)$/.exec(name);
    // a live buffer's memory: its dma-buf's one file
    const owner = m === null ? undefined : this.host.buffers.byId.get(Number(m[1]))?.owner;
    return owner instanceof DmaBuf ? owner.file : null;
  }

  /** The fd number the real kernel gives an emulated file installed in the calling process. */
  private addFd(file: File, cloexec: boolean, start: number): number {
    const src = this.backingFd(file);
    if (src < 0) return -E.ENOMEM;
    const pre = this.preInstalled;
    if (pre !== null) {
      this.preInstalled = null;
      // the shim's memfd is the buffer's memory: already where the kernel puts the fd
      if (file.priv instanceof DmaBuf && this.host.buffers.of(file.priv)?.fd === pre.hostFd) {
        this.counts.fastAllocs++;
        return pre.fd;
      }
      // it is not (the buffer got no host memory): the right file replaces it at that number
      return this.installHostFd(src, pre.fd, cloexec, true);
    }
    return this.installHostFd(src, start, cloexec);
  }

  /**
   * DMA_HEAP_IOCTL_ALLOC from the shim, with a memfd it made at the fd the dma-buf gets and the
   * struct it read (the shim's alloc_fast): the memfd is taken with pidfd_getfd and checked (a
   * memfd, empty or of the rounded length) before anything is emulated. When pidfd_getfd is
   * refused the answer is FAST_ALLOC_RETRY, and the shim makes the call again the usual way; when
   * the call cannot be the shim's (its fourth register holds a leftover value), it is served as
   * any ALLOC. The emulated ioctl then reads the struct from the arguments, binds the buffer's
   * memory to the memfd, installs the dma-buf at its number with no ADDFD, and leaves the copy
   * out to the shim.
   */
  private fastAlloc(p: Process, st: MirrorState, fd: number, a: readonly bigint[]): Answer {
    const m = this.fdMaps.get(p);
    const want = m === undefined ? 0 : Atomics.load(m.ctl, CTL_NEXT_ID);
    const target = Number(a[3]! >> 32n);
    const arg = u64(a[2]!);
    // not the shim's call (it sends one only with an id, the fast path on, and its memfd at a
    // number the mirror has free): an ALLOC whose fourth register holds a leftover, served as any
    const plain = (): Answer => ({ ret: p.ioctl(fd, DMA_HEAP_IOCTL_ALLOC, arg) });
    if (m === undefined || want === 0 || !this.fastBufs || target >= PRELOAD_FD_BITS || p.fileRaw(target) !== null) return plain();
    const ps = this.kernel.pageSize;
    const len = a[4]!;
    const rounded = len === 0n || len > 1n << 46n ? 0 : Math.ceil(Number(len) / ps) * ps;
    // a memfd, empty or already the buffer's size: the shim's
    const x = this.takeMemfd(st, target, (size) => size === 0 || size === rounded);
    // nothing at that number, or some other file: no memfd of the shim's; pidfd_getfd refused
    // (EPERM under a ptrace policy) sends the shim's call the usual way
    if (typeof x === 'number') return x === -E.EBADF || x === -E.EINVAL ? plain() : { ret: FAST_ALLOC_RETRY };
    this.host.buffers.adopt = { fd: x.fd, id: want, size: x.size };
    // the id is spent: the next ALLOC names its memfd with a fresh one
    Atomics.store(m.ctl, CTL_NEXT_ID, this.host.buffers.reserveId());
    const struct = new Uint8Array(DMA_HEAP_ALLOCATION_DATA.size);
    const dv = new DataView(struct.buffer);
    dv.setBigUint64(0, len, true);
    dv.setUint32(8, Number(a[5]! & 0xffffffffn), true);
    dv.setUint32(12, Number(a[5]! >> 32n), true);
    this.preInstalled = { fd: target, hostFd: x.fd };
    this.host.memory.shimCopies = { pid: p.pid, addr: arg, read: struct, write: struct.length };
    try {
      return { ret: p.ioctl(fd, DMA_HEAP_IOCTL_ALLOC, arg) };
    } finally {
      // no buffer took it (the ioctl failed before allocating): the shim closes its own
      if (this.host.buffers.adopt !== null) {
        this.host.buffers.adopt = null;
        this.host.libc.close(x.fd);
      }
      this.preInstalled = null;
      this.host.memory.shimCopies = null;
    }
  }

  /**
   * Fd `fd` of the calling process, taken with pidfd_getfd, when it is a memfd (a regular file
   * with no name on the kernel's shmem mount) whose size `sizeOk` accepts: ours to close, and its
   * size. Otherwise a negated errno: pidfd_getfd's (EBADF: nothing at that number), or EINVAL
   * for a file that is no such memfd.
   */
  private takeMemfd(st: MirrorState, fd: number, sizeOk: (size: number) => boolean): { fd: number; size: number } | number {
    if (st.pidfd < 0) return -E.ESRCH;
    const l = this.host.libc;
    const x = l.syscall3(NR_PIDFD_GETFD, st.pidfd, fd, 0);
    if (x < 0) return -l.koffi.errno();
    const s = this.hostFstat(x);
    if (s !== null && (s.mode & 0o170000) === 0o100000 && s.nlink === 0 && s.dev === this.memfdDev() && sizeOk(s.size)) return { fd: x, size: s.size };
    l.close(x);
    return -E.EINVAL;
  }

  private readonly statBuf = new Uint8Array(256);

  /** fstat(2) of one of the supervisor's own fds (libc's, into a buffer kept for it: fs.fstatSync costs several µs more), or null. */
  private hostFstat(fd: number): { mode: number; nlink: number; dev: bigint; size: number } | null {
    const b = this.statBuf;
    if (this.host.libc.fstat(fd, b) !== 0) return null;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // struct stat: arch/x86/include/uapi/asm/stat.h (x86-64), include/uapi/asm-generic/stat.h (arm64)
    const x86 = this.kernel.statLayout === 'x86_64';
    return {
      dev: dv.getBigUint64(0, true),
      mode: dv.getUint32(x86 ? 24 : 16, true),
      nlink: x86 ? Number(dv.getBigUint64(16, true)) : dv.getUint32(20, true),
      size: Number(dv.getBigInt64(48, true)),
    };
  }

  /** The device of the host's memfds (the kernel's internal shmem mount), from a probe made once. */
  private memfdDev(): bigint {
    if (this.memfdDevice === null) {
      const l = this.host.libc;
      const fd = l.memfdCreate('dmaheap-probe', 1);
      if (fd < 0) return -2n;
      try {
        this.memfdDevice = this.hostFstat(fd)?.dev ?? -2n;
      } finally {
        l.close(fd);
      }
    }
    return this.memfdDevice;
  }

  private memfdDevice: bigint | null = null;

  /** The real process's lowest free fd at or above `start`. */
  private lowestFreeFd(tid: number, start: number): number {
    const used = new Set(this.realFds(tid));
    let fd = start;
    while (used.has(fd)) fd++;
    return fd;
  }

  private realFds(tid: number): number[] {
    try {
      return readdirSync(`/proc/${tid}/fd`).map(Number);
    } catch {
      return [];
    }
  }

  private link(path: string): string | null {
    try {
      return readlinkSync(path);
    } catch {
      return null;
    }
  }

  /** Before serving a process: exec, recvmsg and mmap results the host produced since its last call. */
  private catchUp(p: Process, st: MirrorState, tid: number, comm: string | null = null): void {
    if (st.credsPending) {
      st.credsPending = false;
      this.followCreds(p, tid);
    }
    if (st.execPending) {
      st.execPending = false;
      this.resolveExec(p, st, tid, comm);
    }
    if (st.adoptPending) {
      st.adoptPending = false;
      this.adopt(p, tid);
    }
  }

  /** A process's file-system uid and gid and its groups, from its status (null when unreadable). */
  private idsFrom(st: { uid: number; gid: number; groups: number[] } | null): { uid: number; gid: number; groups: number[] } | null {
    return st !== null && Number.isInteger(st.uid) && Number.isInteger(st.gid) ? { uid: st.uid, gid: st.gid, groups: st.groups } : null;
  }


  /**
   * After setuid and friends: the mirror's credentials follow the real process's. The ids the
   * program started with stand for root on the emulated machine (`dmaheap run` by any user runs
   * the program as root there, as the other commands' machines do); any other id is itself (a
   * program that drops to uid 1000 meets the heap nodes' 0600 root:root, as on Linux).
   */
  private followCreds(p: Process, tid: number): void {
    const now = this.idsFrom(this.status(tid));
    const base = this.baseIds;
    if (now === null || base === null) return;
    p.cred = {
      uid: now.uid === base.uid ? 0 : now.uid,
      gid: now.gid === base.gid ? 0 : now.gid,
      groups: now.groups.filter((g) => !base.groups.includes(g) && g !== base.gid),
    };
  }

  /**
   * Did the continued execve happen? Its close-on-exec backing fds, or its mappings, are gone,
   * or the name changed (`known`: the name the caller said it has, else /proc/<tid>/comm).
   */
  private resolveExec(p: Process, st: MirrorState, tid: number, known: string | null = null): void {
    const comm = known ?? readProc(`/proc/${tid}/comm`)?.trim() ?? p.comm;
    const cloexec = p.openFds().find((fd) => p.isCloexec(fd));
    let happened: boolean;
    if (cloexec !== undefined) {
      const f = p.fileRaw(cloexec);
      const l = this.link(`/proc/${tid}/fd/${cloexec}`);
      happened = f === null || l === null || this.fileByBackingName(l) !== f;
    } else if (p.mm.vmas.length > 0) {
      happened = this.realMaps(tid).length === 0;
    } else {
      happened = comm !== p.comm;
    }
    if (happened) {
      // the old image's mapping of the bitmap is gone; the new image's shim registers again
      this.dropFdMap(p);
      p.exec(comm);
      st.pendingMaps = [];
      st.cwd = null;
    }
  }

  /** Emulated files that arrived in the real fd table (SCM_RIGHTS) join the mirror's. */
  private adopt(p: Process, tid: number): void {
    for (const fd of this.realFds(tid)) {
      if (p.fileRaw(fd) !== null) continue;
      const l = this.link(`/proc/${tid}/fd/${fd}`);
      if (l === null || !l.startsWith(BUFFER_MEMFD)) continue;
      const file = this.fileByBackingName(l);
      if (file === null) continue;
      const flight = this.inFlight.get(l);
      const held = flight?.indexOf(file) ?? -1;
      if (flight !== undefined && held >= 0) {
        flight.splice(held, 1);
        if (flight.length === 0) this.inFlight.delete(l);
      } else file.get();
      p.installFdAt(fd, file, this.realCloexec(tid, fd));
    }
  }

  private realCloexec(tid: number, fd: number): boolean {
    const m = /^flags:\s*([0-7]+)$/m.exec(readProc(`/proc/${tid}/fdinfo/${fd}`) ?? '');
    return m !== null && (parseInt(m[1]!, 8) & O_CLOEXEC) !== 0;
  }

  /** The real process's mappings of buffers and other emulated files (their host memfds). */
  private realMaps(tid: number): MapsLine[] {
    return (this.host.memory.mapsOf(tid) ?? []).filter((m) => m.name.startsWith(BUFFER_MEMFD));
  }


  /**
   * Moves the mirror VMAs of continued mmaps to the addresses the host chose, when an address
   * matters (munmap, fork, /proc/<pid>/maps, the sanitizer): reading the real map costs tens of
   * microseconds, so a mapping that is never looked at by address is never placed.
   */
  private placeMaps(p: Process, st: MirrorState, tid: number, hint?: { addr: number; len: number }): void {
    if (st.pendingMaps.length === 0) return;
    // a munmap names the real range: /proc/<pid>/map_files says which file is there in one
    // readlink (it needs CAP_SYS_ADMIN; without it, the whole map is read)
    if (hint !== undefined && p.mm.find(hint.addr) === null) {
      const i = st.pendingMaps.findIndex((m) => m.len === hint.len);
      const pm = st.pendingMaps[i];
      const vma = pm === undefined ? null : p.mm.find(pm.emu);
      if (pm !== undefined && vma !== null && this.link(`/proc/${tid}/map_files/${hint.addr.toString(16)}-${(hint.addr + hint.len).toString(16)}`) === bufferLink(pm.id)) {
        p.mm.relocate(vma, hint.addr);
        st.pendingMaps.splice(i, 1);
        if (st.pendingMaps.length === 0) return;
      }
    }
    const real = this.realMaps(tid);
    const ps = this.kernel.pageSize;
    for (const pm of st.pendingMaps) {
      const name = bufferLink(pm.id);
      const vma = p.mm.find(pm.emu);
      if (vma === null) continue;
      const off = vma.pgoff * ps;
      // where a line of the host's maps has this mapping's bytes of the file: the host merges
      // adjacent mappings of a memfd whose offsets run on (a buffer mapped plane by plane), where
      // the emulated kernel keeps them apart (a heap's mapping is VM_PFNMAP, which mm/vma.c
      // is_mergeable_vma() never merges, or has vm_ops), so a
      // mapping may be part of a line
      const perms = `${(vma.vmFlags & VM_READ) !== 0 ? 'r' : '-'}${(vma.vmFlags & VM_WRITE) !== 0 ? 'w' : '-'}`;
      const at = (r: MapsLine): number =>
        r.name === name && off >= r.offset && r.start + (off - r.offset) + pm.len <= r.end && r.line.split(' ', 2)[1]?.startsWith(perms) === true ? r.start + (off - r.offset) : -1;
      // already where the host put it (the emulated choice was the host's)
      if (real.some((r) => at(r) === vma.start)) continue;
      let hit = -1;
      for (const r of real) {
        const s = at(r);
        if (s >= 0 && p.mm.find(s) === null && p.mm.find(s + pm.len - 1) === null) {
          hit = s;
          break;
        }
      }
      if (hit < 0) {
        // the host's mmap failed after the emulated one succeeded: the mirror drops it
        p.munmap(pm.emu, pm.len);
        continue;
      }
      p.mm.relocate(vma, hit);
    }
    st.pendingMaps = [];
  }

  /**
   * --sanitize: the CPU accesses the program made to its mapped buffers since the last
   * checkpoint, told to the kernel's sync sanitizer as the emulator's own mappings tell it (a
   * cpuAccess event: the sanitizer decides whether a SYNC bracket covered it). The program's
   * loads and stores run natively, so they are found afterwards: stores as pages whose bytes
   * changed, loads as the mapping's pages the kernel marked referenced (/proc/<pid>/smaps after
   * clear_refs "1": one VMA at a time, so a load's offset is the mapping's). Checkpoints are the
   * program's sync ioctls, munmaps, closes of a dma-buf and exit, so an access is judged by the
   * bracket state at the next of them.
   */
  private checkpoint(p: Process, tid: number): void {
    const st = this.state.get(p);
    if (st !== undefined) this.placeMaps(p, st, tid);
    const ps = this.kernel.pageSize;
    const vmas = p.mm.vmas.filter((v) => v.file !== null && v.file.priv instanceof DmaBuf);
    if (vmas.length === 0) return;
    // the bytes /proc/<pid>/smaps says each mapping of a buffer had referenced, by start address
    const referenced = new Map(this.host.memory.smaps(tid).filter((b) => b.mirror).map((b) => [b.start, b.referenced]));
    const events = this.kernel.dmaBuf.events;
    for (const v of vmas) {
      const buf = v.file!.priv as DmaBuf;
      const m = this.host.buffers.of(buf);
      if (m === undefined) continue;
      const now = new Uint8Array(this.host.libc.koffi.view(m.addr, m.bytes));
      const before = this.snapshots.get(buf);
      const first = v.pgoff * ps;
      const end = Math.min(first + (v.end - v.start), m.bytes);
      let wrote = 0;
      if (before !== undefined) {
        let runStart = -1;
        for (let off = first; off <= end; off += ps) {
          const changed = off < end && !sameBytes(before, now, off, Math.min(off + ps, end));
          if (changed && runStart < 0) runStart = off;
          if (!changed && runStart >= 0) {
            events.emit('cpuAccess', { buf, pid: p.pid, offset: runStart, length: off - runStart, write: true });
            wrote += off - runStart;
            runStart = -1;
          }
        }
      }
      const readBytes = referenced.get(v.start) ?? 0;
      if (readBytes > wrote) events.emit('cpuAccess', { buf, pid: p.pid, offset: first, length: Math.min(readBytes, end - first), write: false });
      this.snapshots.set(buf, now.slice());
    }
    try {
      writeFileSync(`/proc/${tid}/clear_refs`, '1');
    } catch {
      // the process is gone
    }
  }



  // ---- paths --------------------------------------------------------------------------------

  private readPath(p: Process, addr: bigint): string | number {
    const a = u64(addr);
    if (a === 0) return -E.EFAULT;
    const r = p.mm.strncpyFromUser(a, PATH_MAX);
    if (r === null) return -E.EFAULT;
    if (!r.terminated) return -E.ENAMETOOLONG;
    return Buffer.from(r.bytes).toString('latin1');
  }

  private cwd(st: MirrorState, tid: number, p?: Process): string {
    const v = p === undefined ? undefined : this.vcwd.get(p);
    if (v !== undefined) return v;
    st.cwd ??= this.link(`/proc/${tid}/cwd`) ?? '/';
    return st.cwd;
  }

  /**
   * chdir/fchdir into an emulated directory: the emulated walk's errors (ENOENT, ENOTDIR,
   * EACCES without search permission), else the process's working directory becomes that
   * directory for the mirror's path calls and getcwd (the host's stays where it was: its own
   * relative names still resolve there, see docs/run.md).
   */
  private enterDir(p: Process, abs: string): number {
    const r = kernPath(this.kernel.mnts, p, abs);
    if (typeof r === 'number') return r;
    const ino = r.dentry.inode;
    if (ino === null || (ino.mode & 0o170000) !== 0o040000) return -E.ENOTDIR;
    const perm = inodePermission(ino, MAY_EXEC, p);
    if (perm < 0) return perm;
    this.vcwd.set(p, normalizePath(abs));
    return 0;
  }

  /** Is this normalised path the root of an emulated tree (or an emulated file of /proc)? */
  private emulatedRoot(n: string): boolean {
    return EMULATED_TREES.includes(n) || EMULATED_FILES.includes(n);
  }

  /** Is this absolute path one the emulated kernel answers for process `p`? */
  private emulatedPath(p: Process, abs: string): boolean {
    for (const t of EMULATED_TREES) if (abs === t || abs.startsWith(t + '/')) return true;
    if (EMULATED_FILES.includes(abs)) return true;
    // /proc/<pid>/fd/<n> (and a name through it: the magic link jumps to the emulated file)
    const m = /^\/proc\/(self|thread-self|\d+)(?:\/task\/\d+)?\/(fd|fdinfo|[a-z_]+)(?:\/(\d+)(\/.*)?)?$/.exec(abs);
    if (m === null) return false;
    const who = m[1] === 'self' || m[1] === 'thread-self' ? p : this.byTid.get(Number(m[1]));
    if (who === undefined) return false;
    if (m[2] === 'fd' || m[2] === 'fdinfo') return m[3] !== undefined && (m[4] === undefined || m[2] === 'fd') && who.fileRaw(Number(m[3])) !== null;
    return m[3] === undefined && PID_ENTRIES.includes(m[2]!);
  }

  /** The emulated name a (dirfd, user pointer) pair gives, or null: a bad pointer or a host name (the host answers). */
  private emulatedName(p: Process, st: MirrorState, tid: number, dirfd: number, ptr: bigint): string | null {
    const path = this.readPath(p, ptr);
    return typeof path === 'number' ? null : this.resolve(p, st, tid, dirfd, path);
  }

  /** The absolute path a (dirfd, path) pair names when it is an emulated one, else null. */
  private resolve(p: Process, st: MirrorState, tid: number, dirfd: number, path: string): string | null {
    this.climbedTo = null;
    // the decision is made on the normalised name, and the emulated kernel walks that name with
    // the trailing slash kept (its ENOTDIR for a node named with one): the components before an
    // emulated tree are the host's (`/usr/../dev/dma_heap` is /dev/dma_heap whatever the
    // emulator's root holds)
    const walked = (abs: string): string | null => {
      const n = normalizePath(abs);
      const emulated = this.emulatedPath(p, n);
      if (!emulated && !abs.includes('/.') && !EMULATED_PREFIX.test(abs)) return null;
      // a magic link through an emulated fd: the emulated walk follows it as written
      if (/^\/proc\/[^/]+\/fd\/\d+\//.test(abs) && this.emulatedPath(p, n.split('/').slice(0, 5).join('/'))) return abs;
      // the host's directories up to the first emulated one are resolved here; from there on the
      // name goes to the emulated walk as written (`system/..` is ENOTDIR, a sysfs link's `..` is
      // its target's parent, a trailing slash is kept)
      const parts = abs.split('/');
      const stack: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!;
        if (part === '' || part === '.') continue;
        if (part === '..') stack.pop();
        else stack.push(part);
        const prefix = '/' + stack.join('/');
        if (!this.emulatedRoot(prefix)) continue;
        // a name that passes through an emulated directory is the emulated kernel's to walk;
        // one that climbs out of it again (/sys/kernel/debug/..) ends on the host, after the
        // emulated walk's checks on the way (a user's search permission on debugfs: EACCES)
        const rest = [prefix, ...parts.slice(i + 1)].join('/');
        if (emulated) return rest;
        // the emulated walk up to where the name leaves the emulated directory again makes its
        // checks (a user's search permission on debugfs: EACCES); what follows is the host's
        let depth = stack.length;
        let out = parts.length - 1;
        for (let j = i + 1; j < parts.length; j++) {
          const q = parts[j]!;
          if (q === '..') depth--;
          else if (q !== '' && q !== '.') depth++;
          if (depth < stack.length) {
            out = j;
            break;
          }
        }
        if (typeof kernPath(this.kernel.mnts, p, [prefix, ...parts.slice(i + 1, out + 1)].join('/')) === 'number') return rest;
        // it climbs out again (fs/namei.c follow_dotdot(): `..` of the tree's top is its parent
        // on the host), to a name of the host's; the name as written passes through a
        // directory the host may not have (/dev/dma_heap/..), so the host is asked for where it
        // ends (climbedTo)
        this.climbedTo = n;
        return null;
      }
      if (!emulated) return null;
      return /\/\.?$/.test(abs) && n !== '/' ? `${n}/` : n;
    };
    if (path.startsWith('/')) return walked(path);
    let base: string | null;
    if (dirfd === AT_FDCWD) base = this.cwd(st, tid, p);
    else {
      const f = p.fileRaw(dirfd);
      base = f === null ? null : this.kernelPathOf(p, dirfd);
    }
    if (base === null) return null;
    return walked(`${base === '/' ? '' : base}/${path}`);
  }

  /** Where an emulated fd was opened (d_path), or null. */
  private kernelPathOf(p: Process, fd: number): string | null {
    const r = this.kernel.readlinkPath(p, `/proc/${p.pid}/fd/${fd}`);
    return typeof r === 'string' && r.startsWith('/') ? r : null;
  }

  // ---- the calls ----------------------------------------------------------------------------

  /** Serves or continues one notification. */
  handle(n: Notification): Answer {
    // every process's fast-path log first: nothing the call does or sees may run ahead of it
    if (this.fdMaps.size > 0) this.drainAll();
    const name = syscallName(this.arch, n.nr);
    if (name === null) return CONT;
    const p = this.mirrorOf(n.pid);
    if (p === null) return CONT;
    const st = this.state.get(p)!;
    this.current = n;
    try {
      // a registration the helper answered: mapped before the call may change the fd table
      if (this.pendingRegs.size > 0) this.adoptRegistration(p);
      const a = n.args;
      const shimCall = this.host.preload === true && name === 'ioctl' && s32(a[0]!) === -1 && (u32(a[1]!) === PRELOAD_REGISTER || u32(a[1]!) === PRELOAD_SYNC);
      // (a registration catches up itself, once it has the name the shim wrote in its memfd)
      if (!shimCall || u32(a[1]!) !== PRELOAD_REGISTER) this.catchUp(p, st, n.pid);
      if (shimCall) {
        this.counts.served++;
        if (u32(a[1]!) === PRELOAD_REGISTER) return { ret: this.registerPreload(p, st, n.pid, u64(a[2]!), Number(a[3]! & 0xffn), s32(a[4]!) - 1) };
        // the sync: catchUp adopted what a recvmsg brought; the bitmap follows before the answer
        this.syncFdMap(p);
        return { ret: 0 };
      }
      if (this.host.trace !== undefined) this.tracing = this.traceBefore(name, p, a);
      const r = this.dispatch(name, p, st, n.pid, a);
      if (this.fdMaps.size > 0) this.syncFdMap(p);
      // a fatal signal the emulated kernel made pending in the call (fault injection's `signal`)
      // is delivered on the way back to user space: the real process gets SIGKILL, and its
      // mirror goes when the supervisor sees it exit
      if (p.fatalSignalPending && p.alive && !this.signalled.has(p)) {
        this.signalled.add(p);
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // it is gone already
        }
      }
      if ('cont' in r) {
        this.counts.continued++;
        return r;
      }
      this.counts.served++;
      this.traced(n.pid, name, a, r.ret, 'served');
      return r;
    } finally {
      this.current = null;
      this.tracing = null;
    }
  }

  // ---- the preload shim's bitmap of emulated fds ---------------------------------------------

  /**
   * ioctl(-1, PRELOAD_REGISTER) from the shim's constructor (or its fork handler): a fresh
   * bitmap of the mirror's emulated fds in a memfd, the shim's own (`shimFd`, taken with
   * pidfd_getfd) or, when it made none, one made here and installed in the caller at the lowest
   * free fd from {@link PRELOAD_FD_BASE}; the answer is that fd (the shim maps it and closes it).
   * `info` points at the shim's reg_info of `count` u64 words (4 when the shim passed 0; at most
   * REG_WORDS): the stub page, the live page, then the libc pages it patched (0 where none).
   * With it, the shim's traces are kept out of the process's maps and smaps (shim-traces.ts). A
   * shim that passes 0 (an older build) leaves the pages in.
   */
  private registerPreload(p: Process, st: MirrorState, tid: number, info: number, count: number, shimFd: number): number {
    const bytes = PRELOAD_FD_BITS / 8 + CTL_BYTES;
    // the shim's own memfd when it made one (taken with pidfd_getfd: no ADDFD round trip), else
    // one made here and installed in the caller
    const taken = shimFd >= 0 ? this.takeMemfd(st, shimFd, (size) => size === bytes) : -1;
    const own = typeof taken === 'number' ? -1 : taken.fd;
    const words = this.registered(p, st, tid, own);
    const l = this.host.libc;
    const fd = own >= 0 ? own : l.memfdCreate('dmaheap-fdmap', 1);
    if (fd < 0) return -E.ENOMEM;
    if (own < 0 && l.ftruncate(fd, bytes) < 0) {
      l.close(fd);
      return -E.ENOMEM;
    }
    // reg_info: the copy the shim wrote in its memfd, else (a shim of before, or no memfd of its own) its memory
    if (words !== null && words.some((w) => w !== 0)) this.setShimTraces(p, words);
    else {
      const n = count >= 4 && count <= REG_WORDS ? count : 4;
      const raw = info === 0 ? null : p.mm.copyFromUser(info, n * 8);
      const dv = raw === null ? null : new DataView(raw.buffer, raw.byteOffset, n * 8);
      this.setShimTraces(p, dv === null ? [] : Array.from({ length: n }, (_, i) => Number(dv.getBigUint64(i * 8, true))));
    }
    if (!this.mapFdMap(p, fd)) return -E.ENOMEM;
    if (own >= 0) return shimFd;
    // a low RLIMIT_NOFILE: the lowest free fd (the shim closes it before the program goes on)
    let r = this.installHostFd(fd, PRELOAD_FD_BASE, true);
    if (r < 0) r = this.installHostFd(fd, 0, true);
    if (r < 0) this.dropFdMap(p);
    return r;
  }

  /** What the notification helper needs to answer a plain process's registration (helper.ts HELPER_REGISTER). */
  shimRegistration(): { bytes: number; pageSizeAt: number; pageSize: number; infoAt: number } {
    return { bytes: PRELOAD_FD_BITS / 8 + CTL_BYTES, pageSizeAt: PRELOAD_FD_BITS / 8 + 4 * CTL_PAGE_SIZE, pageSize: this.kernel.pageSize, infoAt: PRELOAD_FD_BITS / 8 + CTL_REG };
  }

  private readonly regBuf = new Uint8Array(REG_WORDS * 8 + 16);

  /** The reg_info words and the name the shim wrote in its memfd's control page (pread: the memfd is not mapped yet). */
  private shimRegInfo(fd: number): { words: number[] | null; comm: string | null } {
    const b = this.regBuf;
    if (this.host.libc.pread(fd, b, b.length, PRELOAD_FD_BITS / 8 + CTL_REG) !== b.length) return { words: null, comm: null };
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const words = Array.from({ length: REG_WORDS }, (_, i) => Number(dv.getBigUint64(i * 8, true)));
    const c = Buffer.from(b.buffer, b.byteOffset + REG_WORDS * 8, 16);
    const end = c.indexOf(0);
    const comm = c.toString('latin1', 0, end < 0 ? 15 : Math.min(end, 15));
    return { words, comm: comm === '' ? null : comm };
  }

  /** The shim's own pages (reg_info: the stub page, the live page, the libc pages it patched) kept out of `p`'s maps and smaps. */
  private setShimTraces(p: Process, words: readonly number[]): void {
    const nonzero = (xs: readonly number[]): number[] => [...new Set(xs.filter((x) => x !== 0 && Number.isSafeInteger(x)))];
    this.host.memory.shimTraces.set(p.pid, {
      pages: nonzero(words.slice(0, 2)),
      patched: nonzero(words.slice(2)),
      names: [FDMAP_NAME, ...(this.host.preloadPath !== undefined ? [this.host.preloadPath] : [])],
    });
  }

  /** Maps the bitmap's memfd `fd` (ours now) and makes it `p`'s, up to date; false (fd closed) when it cannot be mapped. */
  private mapFdMap(p: Process, fd: number): boolean {
    const l = this.host.libc;
    const bitmapBytes = PRELOAD_FD_BITS / 8;
    const bytes = bitmapBytes + CTL_BYTES;
    const addr = l.mmap(0, bytes, PROT_READ_WRITE, MAP_SHARED, fd, 0);
    if (addr === -1) {
      l.close(fd);
      return false;
    }
    const mem = l.koffi.view(addr, bytes) as ArrayBuffer;
    const m: FdMap = {
      fd, addr, bytes,
      view: new Uint8Array(mem, 0, bitmapBytes),
      marked: new Set(),
      ctl: new Uint32Array(mem, bitmapBytes, 4096 / 4),
      ctlData: new DataView(mem, bitmapBytes, 4096),
      approvals: new BigUint64Array(mem, bitmapBytes + 4096, APPROVE_FDS),
      approved: new Map(),
    };
    Atomics.store(m.ctl, CTL_PAGE_SIZE, this.kernel.pageSize);
    if (this.fastBufs) {
      Atomics.store(m.ctl, CTL_NEXT_ID, this.host.buffers.reserveId());
      Atomics.store(m.ctl, 0, CTL_FAST);
    }
    this.fdMaps.set(p, m);
    this.syncFdMap(p);
    return true;
  }

  /**
   * The notification helper answered a plain process's registration (HELPER_EV_REGISTER): the
   * shim's memfd is ours (`fd`), and its bitmap (all 0: a plain process has no emulated fd)
   * already in use. The exec it follows is looked at now, with the name the shim wrote; the
   * memfd is mapped only when the bridge next serves the process (adoptRegistration), which may
   * be never.
   */
  private helperRegistered(p: Process, st: MirrorState, tid: number, fd: number): void {
    const words = this.registered(p, st, tid, fd);
    if (words !== null) this.setShimTraces(p, words);
    this.pendingRegs.set(p, fd);
  }

  /**
   * What every registration starts with: the process catches up (an exec it follows is looked
   * at with the name the shim wrote in its memfd `fd`, else /proc's), and its old bitmap goes.
   * The reg_info words the shim wrote there, or null (no memfd of the shim's).
   */
  private registered(p: Process, st: MirrorState, tid: number, fd: number): number[] | null {
    const { words, comm } = fd >= 0 ? this.shimRegInfo(fd) : { words: null, comm: null };
    this.catchUp(p, st, tid, comm);
    this.dropFdMap(p);
    return words;
  }

  /** The memfd of a registration the helper answered, mapped now: the bridge is about to serve the process. */
  private adoptRegistration(p: Process): void {
    const fd = this.pendingRegs.get(p);
    if (fd === undefined) return;
    this.pendingRegs.delete(p);
    this.mapFdMap(p, fd);
  }

  /** Registrations the helper answered whose memfds the bridge has not mapped yet (the memfd, ours). */
  private readonly pendingRegs = new Map<Process, number>();

  /**
   * Sets and clears the bits of `p`'s bitmap (if it has one) to its mirror's fd table, and the
   * approvals of its dma-buf fds (what the shim may map, unmap and close on its own).
   */
  private syncFdMap(p: Process): void {
    const m = this.fdMaps.get(p);
    if (m === undefined) return;
    const want = new Set<number>();
    for (const fd of p.openFds()) if (fd < PRELOAD_FD_BITS) want.add(fd);
    for (const fd of m.marked) if (!want.has(fd)) m.view[fd >> 3]! &= ~(1 << (fd & 7));
    for (const fd of want) if (!m.marked.has(fd)) m.view[fd >> 3]! |= 1 << (fd & 7);
    m.marked = want;
    for (const [fd] of m.approved) {
      if (want.has(fd)) continue;
      m.approvals[fd] = 0n;
      m.approved.delete(fd);
    }
    for (const fd of want) {
      if (fd >= APPROVE_FDS) continue;
      const v = this.approvalOf(p, fd);
      // written every time: the shim clears an approval when it closes the fd itself
      m.approvals[fd] = v;
      if (v === 0n) m.approved.delete(fd);
      else m.approved.set(fd, v);
    }
  }

  /**
   * What the shim may do with fd `fd` of `p` without a stop (0: nothing): a dma-buf with host
   * memory, whose shared mapping of whole pages inside it the emulated kernel always makes
   * (mm/mmap.c do_mmap()'s checks for MAP_SHARED of a readable file, drivers/dma-buf/dma-buf.c
   * dma_buf_mmap_internal()'s bounds, an exporter mmap that accepts shared mappings), in a
   * process that has not asked for locked mappings (mlockall(MCL_FUTURE): RLIMIT_MEMLOCK could
   * refuse them) and has room for the shim's FAST_MAPS mappings under vm.max_map_count.
   */
  private approvalOf(p: Process, fd: number): bigint {
    if (!this.fastBufs) return 0n;
    const f = p.fileRaw(fd);
    if (f === null || !(f.priv instanceof DmaBuf)) return 0n;
    const buf = f.priv;
    if (buf.ops.mmap === undefined || f.fop.mmap === undefined || this.host.buffers.of(buf) === undefined) return 0n;
    if (buf.size <= 0 || buf.size >= AP_SIZE_MAX || (p.mm.defFlags & VM_LOCKED) !== 0 || p.mm.vmas.length + FAST_MAPS >= MAX_MAP_COUNT) return 0n;
    let v = AP_VALID | BigInt(buf.size);
    if ((f.mode & FMODE_READ) !== 0) v |= AP_READ;
    if ((f.mode & FMODE_WRITE) !== 0) v |= AP_WRITE;
    return v;
  }

  /** After an answer went back: the work that was left for then. */
  afterAnswer(): void {
    this.host.buffers.flush();
  }

  /** Replays what every registered process's shim logged since its last stop. */
  drainAll(): void {
    for (const [p, m] of this.fdMaps) if (p.alive) this.drain(p, m);
  }

  /**
   * Replays `p`'s log on its mirror, in order (the shim wrote each record before its native
   * close or munmap, and right after its native mmap): at most LOG_N records, each only once its
   * seq says it is complete (another thread may be writing the next).
   */
  private drain(p: Process, m: FdMap): void {
    const c = m.ctl;
    const head = Atomics.load(c, CTL_HEAD);
    let tail = c[CTL_TAIL]!;
    if (head === tail) return;
    const st = this.state.get(p);
    for (let i = 0; i < LOG_N && tail !== head; i++) {
      const at = LOG_BASE + (tail % LOG_N) * LOG_REC;
      if (Atomics.load(c, at / 4) !== ((tail + 1) >>> 0)) break;
      const d = m.ctlData;
      const op = d.getUint32(at + 4, true);
      const fd = d.getInt32(at + 8, true);
      const prot = d.getUint32(at + 12, true);
      const addr = Number(d.getBigUint64(at + 16, true));
      const len = Number(d.getBigUint64(at + 24, true));
      const off = Number(d.getBigUint64(at + 32, true));
      const flags = d.getUint32(at + 40, true);
      tail = (tail + 1) >>> 0;
      // the log is the program's memory: a record the shim cannot have written is skipped
      if (st === undefined || !Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || !Number.isSafeInteger(off)) continue;
      this.replay(p, st, op, fd, prot, addr, len, off, flags);
    }
    Atomics.store(c, CTL_TAIL, tail);
  }

  /** One record of the shim's log, on the mirror (what the slow path's handler would have done). */
  private replay(p: Process, st: MirrorState, op: number, fd: number, prot: number, addr: number, len: number, off: number, flags: number): void {
    this.counts.logged++;
    const ps = this.kernel.pageSize;
    switch (op) {
      case LOG_CLOSE: {
        const f = p.fileRaw(fd);
        if (f === null || !(f.priv instanceof DmaBuf)) return;
        p.close(fd);
        this.sweepBacking();
        return;
      }
      case LOG_MMAP: {
        const f = p.fileRaw(fd);
        if (f === null || !(f.priv instanceof DmaBuf)) return;
        // a slow mapping not yet placed may sit where the host put this one
        this.placeMaps(p, st, p.pid);
        const r = p.mmap(addr, len, prot, flags | MAP_FIXED, fd, off);
        if (r !== addr) this.host.warn(`dmaheap run: the fast path's mmap of fd ${fd} at 0x${addr.toString(16)} could not be replayed on the emulated kernel (${r < 0 ? this.host.errnoName(-r) : `at 0x${r.toString(16)}`}): its maps and references miss that mapping (please report this)`);
        return;
      }
      case LOG_MUNMAP:
        if (p.mm.vmas.length === 0) return;
        this.placeMaps(p, st, p.pid, { addr, len: Math.ceil(len / ps) * ps });
        p.munmap(addr, len);
        return;
      default:
        this.counts.logged--;
    }
  }

  private dropFdMap(p: Process): void {
    this.host.memory.shimTraces.delete(p.pid);
    const pending = this.pendingRegs.get(p);
    if (pending !== undefined) {
      this.pendingRegs.delete(p);
      this.host.libc.close(pending);
    }
    const m = this.fdMaps.get(p);
    if (m === undefined) return;
    this.fdMaps.delete(p);
    this.host.libc.munmap(m.addr, m.bytes);
    this.host.libc.close(m.fd);
  }

  /**
   * Installs a host fd of ours in the calling process (SECCOMP_IOCTL_NOTIF_ADDFD): at the lowest
   * free number from `start` (SECCOMP_ADDFD_FLAG_SETFD), or with `start` 0 wherever the host's
   * own lowest free fd is; with `exact`, at `start` itself, replacing what is there. The number,
   * or a negated errno.
   */
  private installHostFd(src: number, start: number, cloexec: boolean, exact = false): number {
    const n = this.current;
    if (n === null) return -E.EBADF;
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(n.id, 0);
    b.writeUInt32LE(start > 0 || exact ? SECCOMP_ADDFD_FLAG_SETFD : 0, 8);
    b.writeUInt32LE(src, 12);
    b.writeUInt32LE(exact ? start : start > 0 ? this.lowestFreeFd(n.pid, start) : 0, 16);
    b.writeUInt32LE(cloexec ? O_CLOEXEC : 0, 20);
    const r = this.host.libc.ioctlPtr(this.host.listener, SECCOMP_IOCTL_NOTIF_ADDFD, b);
    return r < 0 ? -this.host.libc.koffi.errno() : r;
  }

  /** What a trace record needs from before the call: an ALLOC's heap and length, the inode a close drops. */
  private traceBefore(name: RunSyscall, p: Process, a: readonly bigint[]): { p: Process; heap?: string; len?: number; ino?: number } {
    const fd = s32(a[0]!);
    if (name === 'ioctl' && u32(a[1]!) === DMA_HEAP_IOCTL_ALLOC && p.fileRaw(fd) !== null) {
      const path = this.kernelPathOf(p, fd);
      const arg = p.mm.copyFromUser(u64(a[2]!), DMA_HEAP_ALLOCATION_DATA.size);
      return {
        p,
        ...(path !== null && path.startsWith('/dev/dma_heap/') ? { heap: path.slice('/dev/dma_heap/'.length) } : {}),
        ...(arg !== null ? { len: Number(new DataView(arg.buffer, arg.byteOffset).getBigUint64(0, true)) } : {}),
      };
    }
    if (name === 'close') {
      const f = p.fileRaw(fd);
      if (f !== null && f.priv instanceof DmaBuf) return { p, ino: f.priv.ino };
    }
    return { p };
  }

  private traced(pid: number, call: string, a: readonly bigint[], ret: number, how: TraceRecord['how']): void {
    if (this.host.trace === undefined) return;
    const args = a.map((x) => '0x' + x.toString(16));
    const t = Math.round((performance.now() - this.t0) * 1000);
    const r: { -readonly [K in keyof TraceRecord]: TraceRecord[K] } = ret < 0 ? { pid, call, args, ret: -1, errno: this.host.errnoName(-ret), how, t } : { pid, call, args, ret, how, t };
    const tr = this.tracing;
    if (tr !== null) {
      const p = tr.p;
      if ((call === 'open' || call === 'openat' || call === 'openat2') && ret >= 0) {
        const path = this.kernelPathOf(p, ret);
        if (path !== null) r.path = path;
      }
      if (tr.heap !== undefined) r.heap = tr.heap;
      if (tr.len !== undefined) r.len = tr.len;
      if (call === 'ioctl' && tr.heap !== undefined && ret >= 0) {
        // the kernel wrote the new fd into the struct (dma_heap_ioctl copies it back)
        const arg = p.mm.copyFromUser(u64(a[2]!), DMA_HEAP_ALLOCATION_DATA.size);
        const fd = arg === null ? -1 : new DataView(arg.buffer, arg.byteOffset).getUint32(8, true);
        const f = fd < 0 ? null : p.fileRaw(fd);
        if (fd >= 0) r.fd = fd;
        if (f !== null && f.priv instanceof DmaBuf) r.ino = f.priv.ino;
      }
      if (tr.ino !== undefined) r.ino = tr.ino;
    }
    if (this.released.length > 0) {
      r.freed = this.released.slice();
      this.released.length = 0;
    }
    this.host.trace(r);
  }

  /**
   * A process is forking (its clone is about to be continued): its mirror forks now, while it is
   * as the real one is at the fork, and the child waits for the real child's first call
   * (mirrorOf, by the parent's pid).
   */
  private forkMirror(p: Process, st: MirrorState, tid: number): void {
    // an exec the helper let through that no call served here has looked at yet: it happened
    // before this fork, and the child takes the new image's name
    if (st.execPending) {
      st.execPending = false;
      this.resolveExec(p, st, tid);
    }
    this.placeMaps(p, st, tid);
    const child = p.fork(p.comm, PENDING_PID_BASE + ++this.pendingSeq);
    const v = this.vcwd.get(p);
    if (v !== undefined) this.vcwd.set(child, v);
    const list = this.pendingForks.get(p.pid) ?? [];
    list.push(child);
    this.pendingForks.set(p.pid, list);
  }

  /**
   * The forks, execs and chdirs of plain processes the notification helper let through
   * (helper.ts), in their order: read before anything else is served, so a fork's mirror is the
   * parent's as it was at the fork (a plain process changes only in calls served here), an exec
   * is looked at on the process's next call served here (catchUp), as for one this bridge
   * continued, and the working directory is read again when a relative name needs it.
   */
  helperEvents(log: Int32Array, n: number): void {
    for (let i = 0; i < n && HELPER_EV_INTS * (i + 1) <= log.length; i++) {
      const e = HELPER_EV_INTS * i;
      const what = log[e];
      const tid = log[e + 1]!;
      if (what === HELPER_EV_CHILD) {
        this.helperChild(tid, log[e + 2]!);
        continue;
      }
      const p = this.byTid.get(tid);
      const st = p === undefined ? undefined : this.state.get(p);
      if (p === undefined || st === undefined || !p.alive) {
        if (what === HELPER_EV_REGISTER) this.host.libc.close(log[e + 2]!);
        continue;
      }
      if (what === HELPER_EV_REGISTER) this.helperRegistered(p, st, tid, log[e + 2]!);
      else if (what === HELPER_EV_FORK) this.forkMirror(p, st, tid);
      else if (what === HELPER_EV_EXEC) st.execPending = true;
      // a chdir to a host directory (what the bridge's chdir and fchdir do for one)
      else if (what === HELPER_EV_CWD) st.cwd = null;
    }
  }

  /** The mirror followed a call the host then ran. */
  private mirrored(p: Process, call: RunSyscall, a: readonly bigint[], ret = 0): Answer {
    this.counts.mirrored++;
    this.traced(p.pid, call, a, ret, 'mirrored');
    return CONT;
  }

  private dispatch(name: RunSyscall, p: Process, st: MirrorState, tid: number, a: readonly bigint[]): Answer {
    const fdArg = s32(a[0]!);
    const emu = (fd: number): boolean => p.fileRaw(fd) !== null;
    switch (name) {
      case 'open':
        return this.openAt(p, st, tid, AT_FDCWD, a[0]!, s32(a[1]!), s32(a[2]!));
      case 'openat':
        return this.openAt(p, st, tid, fdArg, a[1]!, s32(a[2]!), s32(a[3]!));
      case 'openat2': {
        const how = p.mm.copyFromUser(u64(a[2]!), 24);
        if (how === null) return CONT;
        const dv = new DataView(how.buffer);
        if (dv.getBigUint64(16, true) !== 0n) return this.refuse('openat2 with RESOLVE_* flags');
        return this.openAt(p, st, tid, fdArg, a[1]!, s32(dv.getBigUint64(0, true)), s32(dv.getBigUint64(8, true)));
      }
      case 'stat':
        return this.statPath(p, st, tid, AT_FDCWD, a[0]!, u64(a[1]!), 0);
      case 'lstat':
        return this.statPath(p, st, tid, AT_FDCWD, a[0]!, u64(a[1]!), AT_SYMLINK_NOFOLLOW);
      case 'newfstatat':
        return this.statPath(p, st, tid, fdArg, a[1]!, u64(a[2]!), s32(a[3]!));
      case 'statx':
        return this.statx(p, st, tid, fdArg, a[1]!, s32(a[2]!), u32(a[3]!), u64(a[4]!));
      case 'access':
        return this.access(p, st, tid, AT_FDCWD, a[0]!, s32(a[1]!));
      case 'faccessat':
      case 'faccessat2':
        return this.access(p, st, tid, fdArg, a[1]!, s32(a[2]!));
      case 'readlink':
        return this.readlink(p, st, tid, AT_FDCWD, a[0]!, u64(a[1]!), s32(a[2]!));
      case 'readlinkat':
        return this.readlink(p, st, tid, fdArg, a[1]!, u64(a[2]!), s32(a[3]!));
      case 'getxattr':
      case 'lgetxattr':
      case 'listxattr':
      case 'llistxattr': {
        // the emulated file systems keep no extended attributes
        const r = this.access(p, st, tid, AT_FDCWD, a[0]!);
        if ('cont' in r || r.ret < 0) return r;
        return { ret: name.endsWith('listxattr') ? 0 : -E.ENODATA };
      }
      case 'fgetxattr':
      case 'flistxattr':
        return emu(fdArg) ? { ret: name === 'flistxattr' ? 0 : -E.ENODATA } : CONT;
      case 'mkdir':
      case 'mkdirat': {
        const at = name === 'mkdir' ? 0 : 1;
        const abs = this.emulatedName(p, st, tid, at === 0 ? AT_FDCWD : fdArg, a[at]!);
        return abs === null ? CONT : { ret: p.mkdir(abs, s32(a[at + 1]!)) };
      }
      case 'unlink': {
        const abs = this.emulatedName(p, st, tid, AT_FDCWD, a[0]!);
        return abs === null ? CONT : { ret: this.unlinkAnswer(p, abs) };
      }
      case 'rmdir':
      case 'unlinkat': {
        const at = name === 'rmdir' ? 0 : 1;
        const abs = this.emulatedName(p, st, tid, at === 0 ? AT_FDCWD : fdArg, a[at]!);
        if (abs === null) return CONT;
        // unlink(2) of an emulated file: no emulated file system lets one go (the read-only /dev:
        // EROFS, docs/fidelity.md read-only-paths; sysfs, debugfs, procfs: EPERM)
        if (name === 'unlinkat' && (s32(a[2]!) & AT_REMOVEDIR) === 0) return { ret: this.unlinkAnswer(p, abs) };
        return { ret: p.rmdir(abs) };
      }
      case 'chdir': {
        const abs = this.emulatedName(p, st, tid, AT_FDCWD, a[0]!);
        if (abs === null) {
          this.vcwd.delete(p);
          st.cwd = null;
          return CONT;
        }
        return { ret: this.enterDir(p, abs) };
      }
      case 'fchdir': {
        if (!emu(fdArg)) {
          this.vcwd.delete(p);
          st.cwd = null;
          return CONT;
        }
        const dir = this.kernelPathOf(p, fdArg);
        return { ret: dir === null ? -E.ENOTDIR : this.enterDir(p, dir) };
      }
      case 'getcwd': {
        const v = this.vcwd.get(p);
        if (v === undefined) return CONT;
        const b = Buffer.from(v + '\0', 'latin1');
        if (u64(a[1]!) < b.length) return { ret: -E.ERANGE };
        return { ret: p.mm.copyToUser(u64(a[0]!), b) ? b.length : -E.EFAULT };
      }
      case 'read':
        return emu(fdArg) ? { ret: p.read(fdArg, u64(a[1]!), u64(a[2]!)) } : CONT;
      case 'write':
        return emu(fdArg) ? { ret: p.write(fdArg, u64(a[1]!), u64(a[2]!)) } : CONT;
      case 'pread64':
      case 'pwrite64':
        return emu(fdArg) ? { ret: this.positional(p, fdArg, u64(a[1]!), u64(a[2]!), s64(a[3]!), name === 'pwrite64') } : CONT;
      case 'readv':
      case 'writev':
      case 'preadv':
      case 'pwritev':
      case 'preadv2':
      case 'pwritev2':
        return emu(fdArg) ? { ret: this.vector(p, fdArg, u64(a[1]!), s32(a[2]!), name.startsWith('pwrite') || name === 'writev', name.startsWith('p') ? s64(a[3]!) : null) } : CONT;
      case 'lseek':
        return emu(fdArg) ? { ret: p.lseek(fdArg, s64(a[1]!), s32(a[2]!)) } : CONT;
      case 'fstat':
        return emu(fdArg) ? { ret: p.fstat(fdArg, u64(a[1]!)) } : CONT;
      case 'ioctl': {
        const cmd = u32(a[1]!);
        if (!emu(fdArg)) return this.hostIoctl(p, tid, fdArg, cmd);
        if (this.sanitize && cmd === DMA_BUF_IOCTL_SYNC) this.checkpoint(p, tid);
        if (cmd === DMA_HEAP_IOCTL_ALLOC && (a[3]! & 0xffffffffn) === FAST_ALLOC && this.fdMaps.has(p)) return this.fastAlloc(p, st, fdArg, a);
        const proxies = cmd === UDMABUF_CREATE || cmd === UDMABUF_CREATE_LIST ? this.memfdProxies(p, st, tid, cmd, u64(a[2]!)) : [];
        const r = p.ioctl(fdArg, cmd, u64(a[2]!));
        for (const fd of proxies) p.close(fd);
        // the backing fd's close-on-exec flag follows the mirror's (exec is the host's)
        if (r === 0 && (cmd === FIOCLEX || cmd === FIONCLEX)) return this.mirrored(p, name, a);
        return { ret: r };
      }
      case 'fcntl': {
        const cmd = s32(a[1]!);
        // F_DUPFD_QUERY (v6.10) and F_CREATED_QUERY (v6.12) are the emulated version's to know,
        // on the host's own fds too: unknown commands are EINVAL before them
        // F_NOTIFY: the emulated build has no CONFIG_DNOTIFY (as the referees)
        if (!emu(fdArg)) return ((cmd === F_DUPFD_QUERY || cmd === F_CREATED_QUERY) && !this.kernel.profile.fcntlQueries) || cmd === F_NOTIFY ? { ret: -E.EINVAL } : CONT;
        const r = p.fcntl(fdArg, cmd, u64(a[2]!));
        // F_DUPFD(_CLOEXEC) installed the new fd through the mirror's fdAllocator (the host's number)
        if (r >= 0 && cmd === F_SETFD) return this.mirrored(p, name, a, r);
        return { ret: r };
      }
      case 'close':
        if (!emu(fdArg)) return CONT;
        if (this.sanitize) this.checkpoint(p, tid);
        p.close(fdArg);
        this.sweepBacking();
        return this.mirrored(p, name, a);
      case 'dup':
        return emu(fdArg) ? { ret: p.dup(fdArg) } : CONT;
      case 'dup2':
      case 'dup3': {
        const newfd = s32(a[1]!);
        const flags = name === 'dup3' ? s32(a[2]!) : 0;
        if (emu(fdArg)) {
          if (fdArg === newfd) return name === 'dup2' ? { ret: newfd } : { ret: -E.EINVAL };
          const r = p.dup3(fdArg, newfd, flags);
          return r < 0 ? { ret: r } : this.mirrored(p, name, a, r);
        }
        if (emu(newfd)) {
          p.close(newfd);
          return this.mirrored(p, name, a);
        }
        return CONT;
      }
      case 'close_range': {
        const first = u32(a[0]!);
        const last = u32(a[1]!);
        const flags = u32(a[2]!);
        let any = false;
        for (const fd of p.openFds()) {
          if (fd < first || fd > last) continue;
          any = true;
          if ((flags & CLOSE_RANGE_CLOEXEC) !== 0) p.fcntl(fd, F_SETFD, 1);
          else p.close(fd);
        }
        return any ? this.mirrored(p, name, a) : CONT;
      }
      case 'getdents64':
        return emu(fdArg) ? { ret: this.getdents(p, fdArg, u64(a[1]!), u32(a[2]!)) } : CONT;
      case 'ftruncate':
        return emu(fdArg) ? { ret: p.ftruncate(fdArg, s64(a[1]!)) } : CONT;
      case 'fallocate':
        return emu(fdArg) ? { ret: -E.EOPNOTSUPP } : CONT;
      case 'flock':
        return emu(fdArg) ? { ret: 0 } : CONT;
      case 'fsync':
      case 'fdatasync':
        return emu(fdArg) ? { ret: -E.EINVAL } : CONT;
      case 'mmap':
        return this.mmap(p, st, a);
      case 'munmap': {
        const addr = u64(a[0]!);
        const len = u64(a[1]!);
        if (p.mm.vmas.length === 0) return CONT;
        this.placeMaps(p, st, tid, { addr, len: Math.ceil(len / this.kernel.pageSize) * this.kernel.pageSize });
        if (this.sanitize) this.checkpoint(p, tid);
        p.munmap(addr, len);
        return this.mirrored(p, name, a);
      }
      case 'mremap':
      case 'mprotect':
      case 'madvise':
      case 'msync':
      case 'mlock':
      case 'mlock2':
      case 'munlock':
        return this.mappingCall(name, p, st, tid, a);
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork': {
        let flags = 0;
        if (name === 'clone') flags = u32(a[0]!);
        else if (name === 'clone3') {
          const b = p.mm.copyFromUser(u64(a[0]!), 8);
          flags = b === null ? 0 : Number(new DataView(b.buffer).getBigUint64(0, true) & 0xffffffffn);
        } else if (name === 'vfork') flags = CLONE_VM;
        if ((flags & CLONE_THREAD) !== 0) return CONT;
        this.forkMirror(p, st, tid);
        return this.mirrored(p, name, a);
      }
      case 'execve':
      case 'execveat':
        st.execPending = true;
        return CONT;
      case 'exit_group':
        if (this.sanitize) this.checkpoint(p, tid);
        this.exited(p);
        return this.mirrored(p, name, a);
      case 'sendmsg':
        this.inFlightRefs(p, u64(a[1]!));
        return CONT;
      case 'sendfile':
      case 'splice':
      case 'tee':
      case 'copy_file_range': {
        // the fds: sendfile(out, in), splice/copy_file_range(in, off, out), tee(in, out)
        const fds = name === 'sendfile' ? [s32(a[1]!), fdArg] : name === 'tee' ? [fdArg, s32(a[1]!)] : [fdArg, s32(a[2]!)];
        const f = fds.map((fd) => p.fileRaw(fd)).find((x) => x !== null);
        if (f === undefined || f === null) return CONT;
        // a file with no read op has no splice_read either: EINVAL (fs/splice.c, fs/read_write.c);
        // a readable one (sysfs, debugfs, procfs) is not spliced here: EXDEV for copy_file_range and
        // EINVAL for the others, the answers on which programs (cat, cp) fall back to read and write
        if (f.fop.read === undefined || name !== 'copy_file_range') return { ret: -E.EINVAL };
        return { ret: -E.EXDEV };
      }
      case 'fadvise64':
        // advice only: accepted for an emulated file, as generic_fadvise accepts it
        return emu(fdArg) ? { ret: 0 } : CONT;
      case 'readahead':
        return emu(fdArg) ? { ret: -E.EINVAL } : CONT;
      case 'fchmod':
      case 'fchown':
      case 'fstatfs':
      case 'fsetxattr':
      case 'fremovexattr':
      case 'syncfs':
      case 'sync_file_range':
        return emu(fdArg) ? this.refuse(`${name} of an emulated file (${p.fileRaw(fdArg)!.pathName})`) : CONT;
      case 'epoll_ctl':
        return emu(s32(a[2]!)) ? { ret: this.epollCtl(p, st, fdArg, s32(a[1]!), s32(a[2]!), u64(a[3]!)) } : CONT;
      case 'recvmsg':
      case 'recvmmsg':
        st.adoptPending = true;
        return CONT;
      case 'uname':
        return { ret: this.uname(p, u64(a[0]!)) };
      case 'setuid':
      case 'setgid':
      case 'setreuid':
      case 'setregid':
      case 'setresuid':
      case 'setresgid':
      case 'setfsuid':
      case 'setfsgid':
      case 'setgroups':
      case 'capset':
        st.credsPending = true;
        return CONT;
    }
    return CONT;
  }

  /**
   * An ioctl on a real fd with a DMA-BUF heap or dma-buf command: refused (EPERM) when the fd is
   * one of the host's own heaps or dma-bufs, which `dmaheap run` never lets the program reach
   * (a path that led there by a link the emulated names did not catch).
   */
  private hostIoctl(p: Process, tid: number, fd: number, cmd: number): Answer {
    const type = (cmd >>> 8) & 0xff;
    if (type !== 0x48 && type !== 0x62 && type !== 0x75) return CONT;
    const l = this.link(`/proc/${tid}/fd/${fd}`) ?? '';
    if (l.startsWith('/dev/dma_heap/') || l.startsWith('/dmabuf:') || l === '/dev/udmabuf') {
      this.refuseOnce(`fd ${fd} of pid ${p.pid} is the host's ${l}; dmaheap run keeps programs on the emulated machine, so its ioctls fail with EPERM`);
      return { ret: -E.EPERM };
    }
    return CONT;
  }

  /**
   * UDMABUF_CREATE(_LIST) names memfds, which are the host's (memfd_create runs natively): each
   * one is lent to the mirror as an emulated memfd of the same size and seals at the same fd
   * number for the call, so the emulated udmabuf checks them as Linux does. Its pages are
   * emulated: the buffer does not see what the program wrote into the memfd (docs/run.md).
   */
  private memfdProxies(p: Process, st: MirrorState, tid: number, cmd: number, arg: number): number[] {
    const fds: number[] = [];
    if (cmd === UDMABUF_CREATE) {
      const b = p.mm.copyFromUser(arg, 4);
      if (b !== null) fds.push(new DataView(b.buffer).getUint32(0, true));
    } else {
      const h = p.mm.copyFromUser(arg, 8);
      const count = h === null ? 0 : Math.min(new DataView(h.buffer).getUint32(4, true), 1024);
      const items = count > 0 ? p.mm.copyFromUser(arg + 8, count * 24) : null;
      if (items !== null) for (let i = 0; i < count; i++) fds.push(new DataView(items.buffer).getUint32(i * 24, true));
    }
    const out: number[] = [];
    const libc = this.host.libc;
    for (const fd of new Set(fds)) {
      if (fd > 0x7fffffff || p.fileRaw(fd) !== null) continue;
      const l = this.link(`/proc/${tid}/fd/${fd}`);
      if (l === null || !l.startsWith('/memfd:')) continue;
      const x = libc.syscall3(NR_PIDFD_GETFD, st.pidfd, fd, 0);
      if (x < 0) continue;
      try {
        const size = fstatSync(x).size;
        const seals = libc.fcntl(x, F_GET_SEALS, 0);
        const f = this.kernel.shmem.fileSetup(l.replace(/^\//, '').replace(/ \(deleted\)$/, ''), p.cred.uid, p.cred.gid);
        f.fop.setattrSize?.(f, size);
        if (seals >= 0) (f.inode as ShmemInode).seals = seals;
        p.installFdAt(fd, f, false);
        out.push(fd);
      } finally {
        libc.close(x);
      }
    }
    return out;
  }

  /** A call the emulation cannot serve: ENOSYS, and a message naming it (once per kind). */
  private refuse(what: string): Answer {
    this.refuseOnce(`${what} is not emulated: the call fails with ENOSYS`);
    return { ret: -E.ENOSYS };
  }

  private refuseOnce(msg: string): void {
    if (this.refused.has(msg)) return;
    this.refused.add(msg);
    this.host.warn(`dmaheap run: ${msg}`);
  }

  private openAt(p: Process, st: MirrorState, tid: number, dirfd: number, pathArg: bigint, flags: number, mode: number): Answer {
    const abs = this.emulatedName(p, st, tid, dirfd, pathArg);
    if (abs === null && this.climbedTo !== null && (flags & O_CREAT) === 0 && (flags & O_TMPFILE) !== O_TMPFILE) return this.hostOpen(this.climbedTo, flags);
    if (abs === null) return CONT;
    if (abs.startsWith('/sys/fs/cgroup/')) this.chargeAnon();
    if (abs.endsWith('/maps') || abs.endsWith('/smaps') || abs.endsWith('/pagemap')) for (const [q, qs] of this.state) this.placeMaps(q, qs, q.pid);
    return { ret: p.open(abs, flags, mode) };
  }

  /**
   * open of a name that climbed out of an emulated directory: the host's file it ends at, opened
   * here and installed in the caller at its lowest free fd (not with O_CREAT or O_TMPFILE, which
   * would make a file as this process: those keep the host's answer for the name as written).
   */
  private hostOpen(path: string, flags: number): Answer {
    let fd: number;
    try {
      fd = openSync(path, flags & ~O_CLOEXEC);
    } catch (e) {
      const errno = (e as NodeJS.ErrnoException).errno;
      return { ret: typeof errno === 'number' && errno < 0 ? errno : -E.EIO };
    }
    try {
      return { ret: this.installHostFd(fd, 0, (flags & O_CLOEXEC) !== 0) };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The programs' own anonymous memory is the host's; before a cgroup file is read, each
   * process's growth (RssAnon) since the last look is charged to its memory cgroup, and a
   * shrink uncharges, newest charge first (cgroup v2 leaves charges where they were made when a
   * process moves).
   */
  private chargeAnon(): void {
    const ps = this.kernel.pageSize;
    for (const [p, st] of this.state) {
      if (!p.alive) continue;
      const kb = this.status(p.pid)?.rssAnonKb ?? NaN;
      if (!Number.isFinite(kb)) continue;
      const pages = Math.floor((kb * 1024) / ps);
      if (st.anonBase === null) {
        st.anonBase = pages;
        continue;
      }
      const charged = st.anonCharges.reduce((n, c) => n + c.pages, 0);
      let delta = pages - st.anonBase - charged;
      if (delta > 0) {
        const m = this.kernel.kmem.memcgOf(p);
        if (this.kernel.kmem.tryCharge(m, delta)) st.anonCharges.push({ memcg: m, pages: delta });
      }
      while (delta < 0 && st.anonCharges.length > 0) {
        const c = st.anonCharges[st.anonCharges.length - 1]!;
        const n = Math.min(c.pages, -delta);
        this.kernel.kmem.uncharge(c.memcg, n);
        c.pages -= n;
        delta += n;
        if (c.pages === 0) st.anonCharges.pop();
      }
    }
  }

  /**
   * Set by resolve() when a name passes through an emulated directory and climbs out of it
   * again (`/dev/dma_heap/..`): the host's name it ends at, which statPath, statx, access and
   * openAt (hostOpen) answer with the host's own call; null otherwise.
   */
  private climbedTo: string | null = null;

  private stated(p: Process, st: MirrorState, tid: number, dirfd: number, pathArg: bigint, flags: number): Inode | number | HostName | null {
    if ((flags & AT_EMPTY_PATH) !== 0) {
      const path = this.readPath(p, pathArg);
      if (path === '') return p.fileRaw(dirfd)?.inode ?? null;
    }
    const path = this.readPath(p, pathArg);
    if (typeof path === 'number') return null;
    if (path.startsWith('/proc/') && !this.kernel.profile.procFdSize) {
      const fdDir = this.procFdDirStat(p, normalizePath(path));
      if (fdDir !== null) return fdDir;
    }
    const abs = this.resolve(p, st, tid, dirfd, path);
    if (abs === null) return this.climbedTo === null ? null : new HostName(this.climbedTo);
    const r = kernPath(this.kernel.mnts, p, abs, (flags & AT_SYMLINK_NOFOLLOW) === 0);
    return typeof r === 'number' ? r : r.dentry.inode ?? -2;
  }

  /**
   * stat of a mirrored process's /proc/<pid>/fd before v6.2 (Profile.procFdSize false): the
   * host's directory (its fds are the real ones) with st_size 0, as those kernels give it; the
   * host's kernel may count the fds there (v6.2+). Null for any other path.
   * @kernel fs/proc/fd.c proc_fd_getattr (v6.2)
   */
  private procFdDirStat(p: Process, abs: string): Inode | null {
    const m = /^\/proc\/(self|thread-self|\d+)\/fd$/.exec(abs);
    if (m === null) return null;
    const who = m[1] === 'self' || m[1] === 'thread-self' ? p : this.byTid.get(Number(m[1]));
    if (who === undefined) return null;
    let h: ReturnType<typeof statSync>;
    try {
      h = statSync(`/proc/${who.pid}/fd`);
    } catch {
      return null;
    }
    if (h === undefined) return null;
    return { ino: Number(h.ino), mode: Number(h.mode), uid: Number(h.uid), gid: Number(h.gid), rdev: 0, dev: newDecodeDev(Number(h.dev)), size: 0, nlink: Number(h.nlink), blocks: 0, blksize: Number(h.blksize) };
  }

  private statPath(p: Process, st: MirrorState, tid: number, dirfd: number, pathArg: bigint, buf: number, flags: number): Answer {
    const ino = this.stated(p, st, tid, dirfd, pathArg, flags);
    if (ino === null) return CONT;
    if (typeof ino === 'number') return { ret: ino };
    if (ino instanceof HostName) {
      // the host's newfstatat of that name (struct stat is the same for stat and lstat)
      const b = new Uint8Array(statSize(this.kernel.statLayout));
      const r = this.host.libc.syscallStatAt(this.arch.nr.newfstatat!, AT_FDCWD, ino.path, b, flags & (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT));
      if (r < 0) return { ret: -this.host.libc.koffi.errno() };
      return { ret: p.mm.copyToUser(buf, b) ? 0 : -E.EFAULT };
    }
    return { ret: p.mm.copyToUser(buf, encodeStat(ino, this.kernel.statLayout, this.kernel.pageSize)) ? 0 : -E.EFAULT };
  }

  private statx(p: Process, st: MirrorState, tid: number, dirfd: number, pathArg: bigint, flags: number, mask: number, buf: number): Answer {
    const ino = this.stated(p, st, tid, dirfd, pathArg, flags);
    if (ino === null) return CONT;
    if (typeof ino === 'number') return { ret: ino };
    if (ino instanceof HostName) {
      const b = new Uint8Array(256);
      const r = this.host.libc.syscallStatx(this.arch.nr.statx!, AT_FDCWD, ino.path, flags & ~AT_EMPTY_PATH, mask, b);
      if (r < 0) return { ret: -this.host.libc.koffi.errno() };
      return { ret: p.mm.copyToUser(buf, b) ? 0 : -E.EFAULT };
    }
    return { ret: p.mm.copyToUser(buf, encodeStatx(ino, this.kernel.pageSize)) ? 0 : -E.EFAULT };
  }

  private access(p: Process, st: MirrorState, tid: number, dirfd: number, pathArg: bigint, mode = 0): Answer {
    const abs = this.emulatedName(p, st, tid, dirfd, pathArg);
    if (abs === null && this.climbedTo !== null) {
      const r = this.host.libc.syscallAccessAt(this.arch.nr.faccessat!, AT_FDCWD, this.climbedTo, mode);
      return { ret: r < 0 ? -this.host.libc.koffi.errno() : 0 };
    }
    if (abs === null) return CONT;
    const r = kernPath(this.kernel.mnts, p, abs);
    if (typeof r === 'number') return { ret: r };
    // do_faccessat(): F_OK is existence; R_OK/W_OK/X_OK (MAY_READ/WRITE/EXEC) the inode's permission
    const mask = ((mode & 4) !== 0 ? MAY_READ : 0) | ((mode & 2) !== 0 ? MAY_WRITE : 0) | ((mode & 1) !== 0 ? MAY_EXEC : 0);
    return { ret: mask === 0 || r.dentry.inode === null ? 0 : inodePermission(r.dentry.inode, mask, p) };
  }

  private readlink(p: Process, st: MirrorState, tid: number, dirfd: number, pathArg: bigint, buf: number, size: number): Answer {
    const abs = this.emulatedName(p, st, tid, dirfd, pathArg);
    if (abs === null) return CONT;
    return { ret: p.readlink(abs, buf, size) };
  }

  private unlinkAnswer(p: Process, abs: string): number {
    const r = kernPath(this.kernel.mnts, p, abs, false);
    if (typeof r === 'number') return r;
    return normalizePath(abs).startsWith('/dev/') ? -E.EROFS : -E.EPERM;
  }

  /** pread/pwrite: a file that cannot seek → ESPIPE; else a read or write at `off`, the position kept. */
  private positional(p: Process, fd: number, buf: number, count: number, off: number, write: boolean): number {
    const f = p.fileRaw(fd)!;
    if (off < 0) return -E.EINVAL;
    // FMODE_PREAD/FMODE_PWRITE come with a seekable file (do_dentry_open); the emulator's files
    // say so by FMODE_LSEEK (a stream, such as a pipe or a socket, has neither)
    if ((f.mode & 0x4) === 0) return -E.ESPIPE;
    const pos = f.pos;
    f.pos = off;
    const r = write ? p.write(fd, buf, count) : p.read(fd, buf, count);
    f.pos = pos;
    return r;
  }

  /** readv/writev and their positional forms, one iovec at a time. */
  private vector(p: Process, fd: number, iov: number, cnt: number, write: boolean, off: number | null): number {
    if (cnt < 0 || cnt > 1024) return -E.EINVAL;
    const raw = p.mm.copyFromUser(iov, cnt * 16);
    if (raw === null) return -E.EFAULT;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let total = 0;
    let at = off;
    for (let i = 0; i < cnt; i++) {
      const base = Number(dv.getBigUint64(i * 16, true));
      const len = Number(dv.getBigUint64(i * 16 + 8, true));
      if (len === 0) continue;
      const r = at !== null && at >= 0 ? this.positional(p, fd, base, len, at, write) : write ? p.write(fd, base, len) : p.read(fd, base, len);
      if (r < 0) return total > 0 ? total : r;
      total += r;
      if (at !== null && at >= 0) at += r;
      if (r < len) break;
    }
    return total;
  }

  /** getdents64 of an emulated directory: ".", "..", then the names, from the file position on. */
  private getdents(p: Process, fd: number, buf: number, count: number): number {
    const f = p.fileRaw(fd)!;
    const dentry = f.vfsPath?.dentry;
    const dirPath = this.kernelPathOf(p, fd);
    const it = dentry?.inode?.op.iterate;
    if (dentry === undefined || it === undefined || dirPath === null) return -E.ENOTDIR;
    const names = it(dentry, p);
    if (typeof names === 'number') return names;
    const all = ['.', '..', ...names];
    const out = new Uint8Array(Math.min(count, 1 << 16));
    let used = 0;
    let i = f.pos;
    for (; i < all.length; i++) {
      const name = all[i]!;
      const nb = Buffer.from(name, 'latin1');
      const reclen = Math.ceil((19 + nb.length + 1) / 8) * 8;
      if (used + reclen > out.length) break;
      const child = name === '.' ? dirPath : name === '..' ? normalizePath(dirPath + '/..') : `${dirPath}/${name}`;
      const r = kernPath(this.kernel.mnts, p, child, false);
      const inode = typeof r === 'number' ? null : r.dentry.inode;
      const dv = new DataView(out.buffer, used, reclen);
      dv.setBigUint64(0, BigInt(inode?.ino ?? 0), true);
      dv.setBigInt64(8, BigInt(i + 1), true);
      dv.setUint16(16, reclen, true);
      dv.setUint8(18, inode === null || inode === undefined ? 0 : (inode.mode >> 12) & 0xf);
      out.set(nb, used + 19);
      used += reclen;
    }
    if (used === 0 && i < all.length) return -E.EINVAL;
    if (used > 0 && !p.mm.copyToUser(buf, out.subarray(0, used))) return -E.EFAULT;
    f.pos = i;
    return used;
  }

  private mmap(p: Process, st: MirrorState, a: readonly bigint[]): Answer {
    const fd = s32(a[4]!);
    // the emulated mm takes lengths as C's signed longs (-1 is the huge size_t it stands for)
    const len = s64(a[1]!);
    const f = p.fileRaw(fd);
    if (f === null) {
      // MAP_FIXED over part of a buffer mapping (anonymous memory, or a host file): the host
      // replaces that part, and the mirror drops it (splitting the VMA, as the kernel does)
      const addr = u64(a[0]!);
      if ((s32(a[3]!) & 0x10) !== 0 && len > 0 && p.mm.vmas.length > 0) {
        this.placeMaps(p, st, p.pid);
        const end = addr + Math.ceil(len / this.kernel.pageSize) * this.kernel.pageSize;
        if (p.mm.vmas.some((v) => v.start < end && v.end > addr)) {
          const r = p.munmap(addr, end - addr);
          if (r === 0) return this.mirrored(p, 'mmap', a);
        }
      }
      return CONT;
    }
    const r = p.mmap(u64(a[0]!), len, s32(a[2]!), s32(a[3]!), fd, s64(a[5]!));
    if (r < 0) return { ret: r };
    const m = f.priv instanceof DmaBuf ? this.host.buffers.of(f.priv) : undefined;
    if (m === undefined) {
      p.munmap(r, len);
      this.refuseOnce(`mmap of ${f.pathName} cannot share memory with the program (only dma-bufs are backed by host memory): ENODEV`);
      return { ret: -E.ENODEV };
    }
    const vma = p.mm.find(r);
    // MAP_FIXED and MAP_FIXED_NOREPLACE put it where the program said, on both sides
    if ((s32(a[3]!) & (0x10 | 0x100000)) === 0) st.pendingMaps.push({ emu: r, len: vma !== null ? vma.end - vma.start : len, id: m.id });
    // --sanitize: what the program touches from now on is checked at its next sync, munmap, close or exit
    if (this.sanitize && !this.snapshots.has(f.priv as DmaBuf)) this.snapshots.set(f.priv as DmaBuf, new Uint8Array(this.host.libc.koffi.view(m.addr, m.bytes)).slice());
    return this.mirrored(p, 'mmap', a, r);
  }

  /**
   * mremap, mprotect, madvise, msync, mlock(2) and munlock of a range inside the mirrors of a
   * program's buffer mappings: the emulated call first (its checks and errno: a dma-buf VMA does
   * not grow, MADV_DONTNEED of a PFN map is EINVAL, ...), then, when it succeeded, the host's on
   * the real mapping. A range that is not all mirrors (the program's own memory) is the host's.
   */
  private mappingCall(name: RunSyscall, p: Process, st: MirrorState, tid: number, a: readonly bigint[]): Answer {
    if (p.mm.vmas.length === 0) return CONT;
    this.placeMaps(p, st, tid);
    const addr = u64(a[0]!);
    const len = s64(a[1]!);
    const ps = this.kernel.pageSize;
    const end = addr + Math.ceil(Math.max(len, 0) / ps) * ps;
    let at = addr;
    let mirrors = false;
    let holes = false;
    while (at < end) {
      const v = p.mm.find(at);
      if (v === null) {
        holes = true;
        const next = p.mm.findAbove(at);
        at = next === null ? end : Math.min(next.start, end);
        continue;
      }
      mirrors = true;
      at = v.end;
    }
    if (len === 0 && p.mm.find(addr) === null) return CONT;
    // a range that is mirrors and holes is the emulated call's (its errno for the hole: ENOMEM
    // after the part before it, as Linux), unless the program's own memory is in a hole
    if (len > 0 && !mirrors) return CONT;
    if (holes && this.hostMapsIn(tid, addr, end)) return CONT;
    let r: number;
    switch (name) {
      case 'mremap': {
        const flags = s32(a[3]!);
        r = p.mremap(addr, len, s64(a[2]!), flags, u64(a[4]!));
        if (r < 0) return { ret: r };
        // moved where the emulator chose (MREMAP_MAYMOVE without MREMAP_FIXED): the host moves it
        // somewhere else, and the mirror follows when an address matters; in place or to the
        // fixed address, both agree
        const v = r !== addr && (flags & MREMAP_FIXED) === 0 ? p.mm.find(r) : null;
        const f = v?.file;
        const m = f !== null && f !== undefined && f.priv instanceof DmaBuf ? this.host.buffers.of(f.priv) : undefined;
        if (v !== null && m !== undefined) st.pendingMaps.push({ emu: v.start, len: v.end - v.start, id: m.id });
        return this.mirrored(p, name, a, r);
      }
      case 'mprotect':
        r = p.mprotect(addr, len, s32(a[2]!));
        break;
      case 'madvise':
        r = p.madvise(addr, len, s32(a[2]!));
        break;
      case 'msync':
        // the pages are shared memory on both sides: nothing for the host to write back, and
        // its own answer would be about its memfd mapping (EBUSY when locked), not the buffer's
        return { ret: p.msync(addr, len, s32(a[2]!)) };
      case 'mlock':
      case 'mlock2':
      case 'munlock': {
        // a buffer mapping the kernel does not lock (VM_IO, VM_PFNMAP: the system heap's) stays
        // unlocked on the host too (its VmLck); one it locks is locked there as well
        const before = p.mm.lockedVm;
        r = name === 'munlock' ? p.munlock(addr, len) : p.mlock(addr, len, name === 'mlock2' ? s32(a[2]!) : 0);
        if (r < 0 || p.mm.lockedVm === before) return { ret: r };
        return this.mirrored(p, name, a, r);
      }
      default:
        return CONT;
    }
    return r < 0 ? { ret: r } : this.mirrored(p, name, a, r);
  }

  /**
   * epoll_ctl of an emulated fd on the program's (host) epoll: a file without a poll op is EPERM
   * (ep_insert's file_can_poll); otherwise the host epoll watches, in its place, an eventfd
   * with a count of 1 (always readable and writable: EPOLLIN | EPOLLOUT, as a dma-buf whose
   * fences are all signalled, which a heap buffer's always are), registered by the supervisor on
   * its own copy of the program's epoll (pidfd_getfd) with the program's event and data.
   */
  private epollCtl(p: Process, st: MirrorState, epfd: number, op: number, fd: number, eventAddr: number): number {
    // ep_ctl's fdget(): an O_PATH fd is no file here (EBADF)
    const f = p.file(fd);
    if (f === null) return -E.EBADF;
    const libc = this.host.libc;
    const ep = libc.syscall3(NR_PIDFD_GETFD, st.pidfd, epfd, 0);
    if (ep < 0) return -E.EBADF;
    try {
      if (op !== EPOLL_CTL_DEL && f.fop.poll === undefined) return this.link(`/proc/self/fd/${ep}`) === 'anon_inode:[eventpoll]' ? -E.EPERM : -E.EINVAL;
      let proxy = this.pollProxies.get(f);
      if (proxy === undefined) {
        proxy = libc.syscall3(this.arch.eventfd2, 1, O_CLOEXEC, 0);
        if (proxy < 0) return -E.ENOMEM;
        this.pollProxies.set(f, proxy);
      }
      let ev: Uint8Array | null = null;
      if (op !== EPOLL_CTL_DEL) {
        ev = p.mm.copyFromUser(eventAddr, this.arch.epollEventSize);
        if (ev === null) return -E.EFAULT;
      }
      const r = libc.epollCtl(ep, op, proxy, ev);
      return r < 0 ? -libc.koffi.errno() : r;
    } finally {
      libc.close(ep);
    }
  }

  /** Does the real process map anything other than buffers in [start, end)? (Yes when its map cannot be read.) */
  private hostMapsIn(tid: number, start: number, end: number): boolean {
    const maps = this.host.memory.mapsOf(tid);
    return maps === null || maps.some((m) => !m.name.startsWith(BUFFER_MEMFD) && m.start < end && m.end > start);
  }


  /** sendmsg with SCM_RIGHTS of emulated fds: a reference for each while it is in flight. */
  private inFlightRefs(p: Process, msgAddr: number): void {
    const hdr = p.mm.copyFromUser(msgAddr, 56);
    if (hdr === null) return;
    const dv = new DataView(hdr.buffer);
    const ctl = Number(dv.getBigUint64(32, true));
    const ctlLen = Math.min(Number(dv.getBigUint64(40, true)), 4096);
    if (ctl === 0 || ctlLen < 16) return;
    const c = p.mm.copyFromUser(ctl, ctlLen);
    if (c === null) return;
    const cv = new DataView(c.buffer);
    let at = 0;
    while (at + 16 <= ctlLen) {
      const len = Number(cv.getBigUint64(at, true));
      if (len < 16 || at + len > ctlLen) break;
      if (cv.getInt32(at + 8, true) === 1 && cv.getInt32(at + 12, true) === 1) {
        for (let o = at + 16; o + 4 <= at + len; o += 4) {
          const fd = cv.getInt32(o, true);
          const f = p.fileRaw(fd);
          if (f === null) continue;
          const l = this.link(`/proc/${p.pid}/fd/${fd}`);
          if (l === null) continue;
          const list = this.inFlight.get(l) ?? [];
          list.push(f.get());
          this.inFlight.set(l, list);
        }
      }
      at += Math.ceil(len / 8) * 8;
    }
  }

  /**
   * struct new_utsname (include/uapi/linux/utsname.h) of the emulated machine: release and
   * machine from its profile and arch, the host's node name (the notification helper, which
   * answers a plain process's uname with these bytes, puts in the host's name at each call).
   */
  utsname(): Uint8Array {
    const out = new Uint8Array(65 * 6);
    const put = (i: number, s: string): void => out.set(Buffer.from(s.slice(0, 64), 'latin1'), i * 65);
    put(0, 'Linux');
    put(1, hostname());
    put(2, this.kernel.profile.release);
    put(3, '#1 SMP PREEMPT_DYNAMIC dmaheap');
    put(4, this.kernel.arch === 'arm64' ? 'aarch64' : 'x86_64');
    put(5, '(none)');
    return out;
  }

  private uname(p: Process, buf: number): number {
    return p.mm.copyToUser(buf, this.utsname()) ? 0 : -E.EFAULT;
  }
}

/** A name the host answers (one that climbed out of an emulated tree), as stated() gives it. */
class HostName {
  constructor(readonly path: string) {}
}

/** How a buffer's memfd shows in /proc/<pid>/maps, map_files and fd links. */
function bufferLink(id: number): string {
  return `${BUFFER_MEMFD}buf:${id} (deleted)`;
}

function sameBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** struct statx (include/uapi/linux/stat.h) of an emulated inode: the basic stats and the mount id. */
export function encodeStatx(inode: Inode, pageSize: number): Uint8Array {
  const b = new Uint8Array(256);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x7ff, true); // STATX_BASIC_STATS
  dv.setUint32(4, inode.blksize ?? pageSize, true);
  dv.setUint32(16, inode.nlink ?? 1, true);
  dv.setUint32(20, inode.uid, true);
  dv.setUint32(24, inode.gid, true);
  dv.setUint16(28, inode.mode, true);
  dv.setBigUint64(32, BigInt(inode.ino), true);
  dv.setBigUint64(40, BigInt(inode.size), true);
  dv.setBigUint64(48, BigInt(inode.blocks ?? Math.ceil(inode.size / 512)), true);
  dv.setUint32(128, devMajor(inode.rdev), true);
  dv.setUint32(132, devMinor(inode.rdev), true);
  dv.setUint32(136, devMajor(inode.dev), true);
  dv.setUint32(140, devMinor(inode.dev), true);
  return b;
}
