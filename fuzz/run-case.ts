/**
 * Runs one fuzz case against a fresh emulated kernel: every operation becomes the syscalls a C
 * program would make (its arguments written into the caller's user memory), every result is
 * checked (an integer, non-negative or a negated errno the kernel knows; never an exception),
 * cheap invariants are checked after every step, and after the teardown (every importer detached,
 * every process exited) nothing may be left: every pool back to its boot state, no dma-buf, no
 * fd, no memcg or dmem charge, no host bytes behind pages.
 */
import { Kernel } from '../src/kernel/index.js';
import type { Process } from '../src/kernel/fs/process.js';
import { pidfdProcess } from '../src/kernel/fs/process.js';
import type { File } from '../src/kernel/fs/file.js';
import type { AddressSpace } from '../src/kernel/fs/mm-user.js';
import type { Memcg } from '../src/kernel/cgroup/memcontrol.js';
import type { DmemCss } from '../src/kernel/cgroup/dmem.js';
import type { Cgroup } from '../src/kernel/cgroup/cgroup.js';
import type { DmaHeap } from '../src/kernel/dma-heap/dma-heap.js';
import type { AttachmentHandle } from '../src/kernel/dev/registry.js';
import { Errno, errnoName } from '../src/uapi/errno.js';
import { _IOWR } from '../src/uapi/ioctl.js';
import { DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME_A, DMA_BUF_SET_NAME_B } from '../src/uapi/dma-buf.js';
import { DMA_HEAP_IOC_MAGIC } from '../src/uapi/dma-heap.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST } from '../src/uapi/udmabuf.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../src/uapi/fcntl.js';
import { knownBugHit } from './known-bugs.js';
import { machineConfig } from './machines.js';
import type { AddrSel, FdKind, FdSel, FuzzCase, Op, PathSel, U64 } from './ops.js';

export interface RunOptions {
  /** Skip the calls that hit a known bug (known-bugs.ts). Default true. */
  readonly knownBugs?: boolean;
  /** Keep a strace-like log of every call (for printing a minimal case). Default false. */
  readonly trace?: boolean;
  /**
   * A step that takes longer than this (ms, wall clock) is a fault of kind `slow:<op>`: the
   * kernel spent more than it should (`npm run fuzz` only; never in `npm test`, which makes no
   * timing assertions). Default: off.
   */
  readonly slowStepMs?: number;
  /**
   * A step after which the host process's resident memory is above this (bytes) is a fault of
   * kind `host-memory:<op>` (`npm run fuzz` only). Default: off.
   */
  readonly maxRssBytes?: number;
}

export interface Failure {
  /** What kind of fault (`threw:write:RangeError`, `teardown:buddy`, ...): the minimiser keeps it. */
  readonly kind: string;
  readonly message: string;
  /** The step (operation index) it happened at; ops.length for the teardown. */
  readonly step: number;
}

export interface CaseResult {
  readonly failure: Failure | null;
  /** Operations run (all of them unless one failed). */
  readonly steps: number;
  /** Calls made (syscalls, user loads/stores, driver calls). */
  readonly calls: number;
  /** Calls not made, by known-bug id. */
  readonly skipped: Readonly<Record<string, number>>;
  /** Results by errno name (and 'ok'). */
  readonly results: Readonly<Record<string, number>>;
  /** Calls by name. */
  readonly byCall: Readonly<Record<string, number>>;
  readonly trace: readonly string[];
  /** The slowest step: its operation and wall-clock time. */
  readonly slowest: { readonly op: string; readonly ms: number };
}

/** At most this many processes alive at once (a harness bound, not a kernel one). */
const MAX_LIVE = 16;
const SCRATCH = 64 * 1024;
const KNOWN_ERRNOS = new Set<number>(Object.values(Errno));
const SKIP = Symbol('skip');
const TASK_SIZE_MAX = 2 ** 48;

class FuzzFailure extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

type Check = 'errno' | 'addr' | 'text' | 'names' | 'fault' | 'load' | 'kresult' | 'bytes' | 'process' | 'void';

function fmtArg(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isInteger(v) && Math.abs(v) >= 4096 ? `0x${v.toString(16)}` : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (v !== null && typeof v === 'object' && 'pid' in v) return `<pid ${(v as Process).pid}>`;
  if (v !== null && typeof v === 'object' && 'id' in v) return `<att ${(v as AttachmentHandle).id}>`;
  return String(v);
}

function fmtResult(r: unknown): string {
  if (typeof r === 'number') return r < 0 && errnoName(-r) !== undefined ? `${r} ${errnoName(-r)}` : fmtArg(r);
  if (typeof r === 'string') return `${JSON.stringify(r.length > 60 ? `${r.slice(0, 57)}...` : r)}`;
  if (r instanceof Uint8Array) return `<${r.length} bytes>`;
  if (Array.isArray(r)) return `[${r.length} names]`;
  if (r !== null && typeof r === 'object' && 'pid' in r) return `pid ${(r as Process).pid}`;
  if (r !== null && typeof r === 'object' && 'id' in r) return `att ${(r as AttachmentHandle).id}`;
  if (r !== null && typeof r === 'object' && 'entries' in r) {
    const m = r as { entries: readonly unknown[]; bounced: boolean; iova: boolean };
    return `mapped: ${m.entries.length} segment(s)${m.bounced ? ', bounced' : ''}${m.iova ? ', IOVA' : ''}`;
  }
  if (r === undefined) return 'done';
  return String(r);
}

/** Why `r` is not a valid result of a call of kind `check`, or null. */
function badResult(check: Check, r: unknown): string | null {
  const errno = (x: unknown): string | null => {
    if (typeof x !== 'number') return `returned a ${typeof x}`;
    if (!Number.isInteger(x)) return `returned ${String(x)}, not an integer`;
    if (x < 0 && !KNOWN_ERRNOS.has(-x)) return `returned ${x}, not a negated errno`;
    return null;
  };
  switch (check) {
    case 'errno':
    case 'addr':
      return errno(r);
    case 'text':
      return typeof r === 'string' ? null : typeof r === 'number' && r >= 0 ? `returned ${r}` : errno(r);
    case 'names':
      return r === null || (Array.isArray(r) && r.every((x) => typeof x === 'string')) ? null : `returned ${String(r)}`;
    case 'fault':
      return r === null || r === 'SIGSEGV' || r === 'SIGBUS' || r === 'SIGKILL' ? null : `returned ${String(r)}`;
    case 'load':
      return r instanceof Uint8Array || r === 'SIGSEGV' || r === 'SIGBUS' || r === 'SIGKILL' ? null : `returned ${String(r)}`;
    case 'bytes':
      return r instanceof Uint8Array ? null : typeof r === 'number' && r >= 0 ? `returned ${r}` : errno(r);
    case 'kresult':
      return r !== null && typeof r === 'object' ? null : typeof r === 'number' && r >= 0 ? `returned ${r}` : errno(r);
    case 'process':
      return r !== null && typeof r === 'object' ? null : `returned ${String(r)}`;
    case 'void':
      return r === undefined ? null : `returned ${String(r)}`;
  }
}

/** A u64 struct field as a BigInt (numbers are truncated and wrapped as a C cast would). */
function u64(v: U64): bigint {
  if (typeof v === 'string') return BigInt.asUintN(64, BigInt(v));
  if (!Number.isFinite(v)) return 0n;
  return BigInt.asUintN(64, BigInt(Math.trunc(v)));
}

/** A u32/i32 struct field from any number (a C cast). */
function u32(v: number): number {
  return Number.isFinite(v) ? Number(BigInt.asUintN(32, BigInt(Math.trunc(v)))) : 0;
}

interface Snapshot {
  readonly buddyFree: number;
  readonly buddyTotal: number;
  readonly cma: readonly { name: string; available: number; used: number; count: number }[];
  readonly coherent: readonly { name: string; used: number }[];
  readonly swiotlb: readonly { name: string; used: number }[];
  readonly iova: readonly { name: string; allocated: number }[];
  readonly backed: number;
}

class Runner {
  readonly k: Kernel;
  readonly ps: number;
  /** Every process the case made, dead ones too (selectors for targets reach them). */
  readonly procs: Process[] = [];
  private readonly scratch = new Map<Process, { mm: AddressSpace; addr: number }>();
  private readonly memcgs = new Set<Memcg>();
  private readonly dmemCsses = new Set<DmemCss>();
  private readonly boot: Snapshot;
  private readonly knownBugs: boolean;
  readonly trace: string[] | null;
  calls = 0;
  readonly skipped: Record<string, number> = {};
  readonly results: Record<string, number> = {};
  readonly byCall: Record<string, number> = {};
  step = 0;

  constructor(c: FuzzCase, opts: RunOptions) {
    this.knownBugs = opts.knownBugs ?? true;
    this.trace = opts.trace === true ? [] : null;
    this.k = new Kernel(machineConfig(c.machine));
    this.ps = this.k.pageSize;
    this.boot = this.snapshot();
    // heap nodes as a udev rule would set them: the system heap for everyone, the others for
    // group 1000 (uid 1001 is in no group and gets EACCES there); /dev/udmabuf stays root's
    for (const h of this.k.heaps()) this.k.setDevNode(h.devName, h.devName === 'system' ? { mode: 0o666 } : { mode: 0o660, gid: 1000 });
    for (const [uid, gid] of [[0, 0], [1000, 1000], [1001, 1001]] as const) this.procs.push(this.k.spawn({ uid, gid, groups: [] }, 'fuzz'));
    this.collectCgroups();
  }

  // ---- bookkeeping --------------------------------------------------------------------------

  private snapshot(): Snapshot {
    const k = this.k;
    const tlbs = [...(k.devices.swiotlb !== null ? [k.devices.swiotlb] : []), ...k.devices.restrictedPools.values()];
    return {
      buddyFree: k.buddy.freePages,
      buddyTotal: k.buddy.totalPages,
      cma: [...k.cmaAreas, ...k.teePools.map((t) => t.area)].map((a) => ({ name: a.name, available: a.availableCount, used: a.used, count: a.count })),
      coherent: k.coherentPools.map((c) => ({ name: c.name, used: c.usedPages })),
      swiotlb: tlbs.map((t) => ({ name: t.name, used: t.stats.used })),
      iova: k.devices.list().map((d) => ({ name: d.name, allocated: d.iova?.allocated ?? 0 })),
      backed: k.backing.backedBytes,
    };
  }

  private log(line: string): void {
    this.trace?.push(line);
  }

  private who(p: Process | null): string {
    return p === null ? 'kernel' : `[pid ${p.pid} uid ${p.cred.uid}]`;
  }

  /**
   * Makes one call: skipped when it would hit a known bug, else run and its result checked.
   * Returns the result, or SKIP.
   */
  private sys(p: Process | null, name: string, args: readonly unknown[], fn: () => unknown, check: Check = 'errno', note = ''): unknown {
    const bug = knownBugHit({ name, args, proc: p, kernel: this.k }, this.knownBugs);
    const shown = this.trace !== null ? `${this.who(p)} ${name}(${args.map(fmtArg).join(', ')})${note}` : '';
    if (bug !== null) {
      this.skipped[bug.id] = (this.skipped[bug.id] ?? 0) + 1;
      this.log(`${shown} -- not made: known bug ${bug.id} (${bug.fixedBy})`);
      return SKIP;
    }
    this.calls++;
    this.byCall[name] = (this.byCall[name] ?? 0) + 1;
    let r: unknown;
    try {
      r = fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.log(`${shown} THREW ${err.name}: ${err.message}`);
      throw new FuzzFailure(`threw:${name}:${err.name}`, `${name}(${args.map(fmtArg).join(', ')}) threw ${err.name}: ${err.message}`);
    }
    this.log(`${shown} = ${fmtResult(r)}`);
    const bad = badResult(check, r);
    if (bad !== null) throw new FuzzFailure(`bad-result:${name}`, `${name}(${args.map(fmtArg).join(', ')}) ${bad}`);
    if (check === 'addr' && typeof r === 'number' && r >= 0 && (r % this.ps !== 0 || r >= TASK_SIZE_MAX)) {
      throw new FuzzFailure(`bad-result:${name}`, `${name}(${args.map(fmtArg).join(', ')}) returned address 0x${r.toString(16)}, not a page-aligned user address`);
    }
    const key = typeof r === 'number' && r < 0 ? (errnoName(-r) ?? String(r)) : 'ok';
    this.results[key] = (this.results[key] ?? 0) + 1;
    return r;
  }

  private live(): Process[] {
    return this.procs.filter((p) => p.alive);
  }

  private proc(i: number): Process | null {
    const live = this.live();
    return live.length === 0 ? null : live[i % live.length]!;
  }

  private anyProc(i: number): Process {
    return this.procs.length === 0 ? this.k.init : this.procs[i % this.procs.length]!;
  }

  private kindOf(f: File): FdKind {
    const k = this.k;
    if (f.fop === k.dmaBuf.fops) return 'dmabuf';
    if (f.fop === k.dmaHeap.fops) return 'heap';
    if (k.shmem.isShmemFile(f)) return 'memfd';
    if (k.udmabuf !== null && f.fop === k.udmabuf.fops) return 'udmabuf';
    if (pidfdProcess(f) !== null) return 'pidfd';
    if (f.pathName === 'anon_inode:sync_file') return 'sync';
    if (f.pathName === 'anon_inode:[eventpoll]') return 'epoll';
    if (k.unixNet.sockOf(f) !== null) return 'socket';
    return 'other';
  }

  private openFds(p: Process, kind: FdKind = 'any'): number[] {
    const out: number[] = [];
    for (const fd of p.openFds()) {
      const f = p.fileRaw(fd)!;
      if (kind === 'any' || this.kindOf(f) === kind) out.push(fd);
    }
    return out;
  }

  private fd(p: Process, sel: FdSel): number {
    if ('raw' in sel) return sel.raw;
    let list = this.openFds(p, sel.k);
    if (list.length === 0) list = this.openFds(p);
    return list.length === 0 ? -1 : list[sel.i % list.length]!;
  }

  /** The caller's scratch memory (64 KiB of private anonymous read-write memory), made on demand. */
  private scratchOf(p: Process): number {
    const s = this.scratch.get(p);
    if (s !== undefined && s.mm === p.mm && p.mm.find(s.addr) !== null) return s.addr;
    const addr = p.mmap(0, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!Number.isInteger(addr) || addr < 0) return 0;
    this.scratch.set(p, { mm: p.mm, addr });
    return addr;
  }

  private addr(p: Process, sel: AddrSel): number {
    if ('raw' in sel) return sel.raw;
    if (sel.s === 'scratch') {
      const base = this.scratchOf(p);
      return base === 0 ? 0 : base + (sel.off % SCRATCH);
    }
    const vmas = p.mm.vmas;
    if (vmas.length === 0) return this.scratchOf(p) + sel.off;
    return vmas[sel.i % vmas.length]!.start + sel.off;
  }

  /** Writes an argument into user memory at a selected address (nothing for a raw, hostile one). */
  private put(p: Process, sel: AddrSel, at: number, bytes: Uint8Array): void {
    if ('raw' in sel || !Number.isSafeInteger(at) || at <= 0) return;
    p.mm.copyToUser(at, bytes);
  }

  private cgroupList(): Cgroup[] {
    const out: Cgroup[] = [];
    const walk = (c: Cgroup): void => {
      out.push(c);
      for (const ch of c.children.values()) walk(ch);
    };
    walk(this.k.cgroups.root);
    return out;
  }

  private cgPath(c: Cgroup): string {
    const parts: string[] = [];
    for (let x: Cgroup | null = c; x !== null && x.parent !== null; x = x.parent) parts.unshift(x.name);
    return ['/sys/fs/cgroup', ...parts].join('/');
  }

  private collectCgroups(): void {
    const walkDmem = (css: DmemCss | null): void => {
      if (css !== null) this.dmemCsses.add(css);
    };
    for (const c of this.cgroupList()) {
      if (c.memcg !== null) this.memcgs.add(c.memcg);
      walkDmem(c.dmemCss);
    }
  }

  private path(sel: PathSel): string {
    const k = this.k;
    switch (sel.t) {
      case 'lit':
        return sel.s;
      case 'heap': {
        const hs = k.heaps();
        return hs.length === 0 ? '/dev/dma_heap/system' : `/dev/dma_heap/${hs[sel.i % hs.length]!.devName}`;
      }
      case 'class': {
        const hs = k.heaps();
        return `/sys/class/dma_heap/${hs.length === 0 ? 'system' : hs[sel.i % hs.length]!.devName}/${sel.f}`;
      }
      case 'proc': {
        const q = this.anyProc(sel.q);
        const base = sel.self ? '/proc/self' : `/proc/${q.pid}`;
        const fds = this.openFds(q);
        const fd = fds.length === 0 ? sel.fd : fds[sel.fd % fds.length]!;
        switch (sel.f) {
          case 'fd':
          case 'fdinfo':
            return `${base}/${sel.f}/${fd}`;
          case 'dir':
            return base;
          case 'fddir':
            return `${base}/fd`;
          default:
            return `${base}/${sel.f}`;
        }
      }
      case 'cg': {
        const cgs = this.cgroupList();
        const dir = this.cgPath(cgs[sel.c % cgs.length]!);
        if (sel.f === '') return dir;
        return sel.f.startsWith('new:') ? `${dir}/${sel.f.slice(4)}` : `${dir}/${sel.f}`;
      }
      case 'buf': {
        const bufs = [...k.dmaBuf.list];
        const ino = bufs.length === 0 ? sel.i + 1 : bufs[sel.i % bufs.length]!.ino;
        return sel.f === 'dir' ? `/sys/kernel/dmabuf/buffers/${ino}` : `/sys/kernel/dmabuf/buffers/${ino}/${sel.f}`;
      }
      case 'cma': {
        const as = k.cmaAreas;
        const name = as.length === 0 ? 'reserved' : as[sel.i % as.length]!.name;
        return sel.debug ? `/sys/kernel/debug/cma/${name}/${sel.f}` : `/sys/kernel/mm/cma/${name}/${sel.f}`;
      }
    }
  }

  private handle(i: number): AttachmentHandle | null {
    const hs = this.k.devices.handles();
    return hs.length === 0 ? null : hs[i % hs.length]!;
  }

  /** The size of the file behind `fd` (a page when it has none), for calls that cover a whole file. */
  private fileSize(p: Process, fd: number): number {
    const size = p.file(fd)?.inode.size ?? 0;
    return size > 0 ? size : this.ps;
  }

  /** An open fd of `p` on heap `heap`, opening the node when there is none (null: the open failed). */
  private heapFd(p: Process, heap: DmaHeap): number | null {
    for (const fd of this.openFds(p, 'heap')) if (p.file(fd)!.priv === heap) return fd;
    const path = `/dev/dma_heap/${heap.devName}`;
    const fc = this.k.fc;
    const r = this.sys(p, 'open', [path, fc.O_RDWR | fc.O_CLOEXEC], () => p.open(path, fc.O_RDWR | fc.O_CLOEXEC));
    return typeof r === 'number' && r >= 0 ? r : null;
  }

  // ---- one operation -------------------------------------------------------------------------

  run(op: Op): void {
    const k = this.k;
    const fc = k.fc;
    switch (op.op) {
      case 'spawn': {
        if (this.live().length >= MAX_LIVE) return;
        const r = this.sys(null, 'spawn', [op.uid, op.gid], () => k.spawn({ uid: op.uid, gid: op.gid, groups: [] }, 'fuzz'), 'process');
        if (r !== SKIP) this.procs.push(r as Process);
        return;
      }
      case 'setCred': {
        const p = this.proc(op.p);
        if (p === null) return;
        // setresuid/setresgid: only root may become another user (EPERM otherwise)
        this.sys(p, 'setresuid', [op.uid, op.gid], () => {
          if (p.cred.uid !== 0 && (op.uid !== p.cred.uid || op.gid !== p.cred.gid)) return -Errno.EPERM;
          p.cred = { uid: op.uid, gid: op.gid, groups: [] };
          return 0;
        });
        return;
      }
      case 'cgWrite':
        return this.cgWrite(op);
      case 'map':
      case 'unmap':
      case 'detach':
      case 'devSync':
      case 'devRW':
        return this.driver(op);
    }
    const p = this.proc(op.p);
    if (p === null) return;
    switch (op.op) {
      case 'fork': {
        if (this.live().length >= MAX_LIVE) return;
        const r = this.sys(p, 'fork', [], () => p.fork('fuzz'), 'process');
        if (r !== SKIP) this.procs.push(r as Process);
        return;
      }
      case 'exec':
        this.sys(p, 'execve', [], () => p.exec('fuzz'), 'void');
        return;
      case 'exit':
        this.sys(p, 'exit', [], () => p.exit(), 'void');
        return;
      case 'kill':
        this.sys(p, 'kill', [], () => p.kill(), 'void');
        return;
      case 'setNofile':
        this.sys(p, 'setNofile', [op.cur, op.max], () => p.setNofile(op.cur, op.max));
        return;
      case 'sendFd': {
        const fd = this.fd(p, op.fd);
        const to = this.anyProc(op.to);
        this.sys(p, 'sendFd', [fd, to, op.cloexec], () => p.sendFd(fd, to, op.cloexec));
        return;
      }
      case 'pidfdOpen': {
        const pid = this.anyProc(op.target).pid;
        this.sys(p, 'pidfd_open', [pid, op.flags], () => p.pidfdOpen(pid, op.flags));
        return;
      }
      case 'open': {
        const path = this.path(op.path);
        this.sys(p, 'open', [path, op.flags], () => p.open(path, op.flags));
        return;
      }
      case 'close': {
        const fd = this.fd(p, op.fd);
        this.sys(p, 'close', [fd], () => p.close(fd));
        return;
      }
      case 'dup': {
        const fd = this.fd(p, op.fd);
        this.sys(p, 'dup', [fd], () => p.dup(fd));
        return;
      }
      case 'dup3': {
        const fd = this.fd(p, op.fd);
        const nfd = this.fd(p, op.newfd);
        this.sys(p, 'dup3', [fd, nfd, op.flags], () => p.dup3(fd, nfd, op.flags));
        return;
      }
      case 'fcntl': {
        const fd = this.fd(p, op.fd);
        this.sys(p, 'fcntl', [fd, op.cmd, op.arg], () => p.fcntl(fd, op.cmd, op.arg));
        return;
      }
      case 'epollCreate':
        this.sys(p, 'epoll_create1', [op.flags], () => p.epollCreate1(op.flags));
        return;
      case 'epollCtl': {
        const ep = this.fd(p, op.ep);
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        const b = new Uint8Array(16);
        new DataView(b.buffer).setUint32(0, u32(op.events), true);
        p.mm.copyToUser(at, b);
        this.sys(p, 'epoll_ctl', [ep, op.ctl, fd, at], () => p.epollCtl(ep, op.ctl, fd, at));
        return;
      }
      case 'epollWait': {
        const ep = this.fd(p, op.ep);
        const at = this.addr(p, op.ptr);
        this.sys(p, 'epoll_wait', [ep, at, op.max], () => p.epollWait(ep, at, op.max, 0));
        return;
      }
      case 'socketpair': {
        const at = this.addr(p, op.ptr);
        this.sys(p, 'socketpair', [1, op.type, 0, at], () => p.socketpair(1, op.type, 0, at));
        return;
      }
      case 'sendmsg': {
        const sock = this.fd(p, op.sock);
        const fds = op.fds.map((s) => this.fd(p, s));
        this.sys(p, 'sendmsg', [sock, fds], () => p.sendmsg(sock, new Uint8Array([0x78]), fds));
        return;
      }
      case 'recvmsg': {
        const sock = this.fd(p, op.sock);
        this.sys(p, 'recvmsg', [sock, op.len, op.maxFds, op.flags], () => p.recvmsg(sock, op.len, op.maxFds, op.flags).ret);
        return;
      }
      case 'heapAlloc': {
        const heaps = k.heaps();
        if (heaps.length === 0) return;
        const heap = heaps[op.heap % heaps.length]!;
        const hfd = this.heapFd(p, heap);
        if (hfd === null) return;
        const size = op.size;
        const b = new Uint8Array(Math.max(size, 32));
        const dv = new DataView(b.buffer);
        dv.setBigUint64(0, u64(op.len), true);
        dv.setUint32(8, u32(op.fdIn), true);
        dv.setUint32(12, u32(op.fdFlags), true);
        dv.setBigUint64(16, BigInt(u32(op.heapFlags)), true);
        dv.setUint32(24, op.pidfd === null ? 0 : u32(this.fd(p, op.pidfd)), true);
        const at = this.addr(p, op.ptr);
        this.put(p, op.ptr, at, b.subarray(0, size));
        const cmd = _IOWR(DMA_HEAP_IOC_MAGIC, 0, size);
        this.sys(p, 'ioctl', [hfd, cmd, at], () => p.ioctl(hfd, cmd, at), 'errno', ` DMA_HEAP_IOCTL_ALLOC{${heap.devName}, len=${String(op.len)}, fd_flags=0x${u32(op.fdFlags).toString(16)}, heap_flags=${u32(op.heapFlags)}, size=${size}}`);
        return;
      }
      case 'bufSync': {
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, u64(op.flags), true);
        this.put(p, op.ptr, at, b);
        this.sys(p, 'ioctl', [fd, DMA_BUF_IOCTL_SYNC, at], () => p.ioctl(fd, DMA_BUF_IOCTL_SYNC, at), 'errno', ` SYNC{flags=${String(op.flags)}}`);
        return;
      }
      case 'setName': {
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        this.put(p, op.ptr, at, Uint8Array.from([...op.name].map((c) => c.charCodeAt(0) & 0xff).concat([0])));
        const cmd = op.b ? DMA_BUF_SET_NAME_B : DMA_BUF_SET_NAME_A;
        this.sys(p, 'ioctl', [fd, cmd, at], () => p.ioctl(fd, cmd, at), 'errno', ` SET_NAME{${JSON.stringify(op.name)}}`);
        return;
      }
      case 'exportSync':
      case 'importSync': {
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        const b = new Uint8Array(8);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, u32(op.flags), true);
        dv.setInt32(4, op.op === 'importSync' ? u32(this.fd(p, op.sync)) | 0 : -1, true);
        this.put(p, op.ptr, at, b);
        const cmd = op.op === 'exportSync' ? DMA_BUF_IOCTL_EXPORT_SYNC_FILE : DMA_BUF_IOCTL_IMPORT_SYNC_FILE;
        this.sys(p, 'ioctl', [fd, cmd, at], () => p.ioctl(fd, cmd, at), 'errno', op.op === 'exportSync' ? ' EXPORT_SYNC_FILE' : ' IMPORT_SYNC_FILE');
        return;
      }
      case 'udmabuf': {
        if (k.udmabuf === null) return;
        let ufd = this.openFds(p, 'udmabuf')[0];
        if (ufd === undefined) {
          const r = this.sys(p, 'open', ['/dev/udmabuf', fc.O_RDWR], () => p.open('/dev/udmabuf', fc.O_RDWR));
          if (typeof r !== 'number' || r < 0) return;
          ufd = r;
        }
        const at = this.addr(p, op.ptr);
        const items = op.items.map((it) => {
          const memfd = this.fd(p, it.memfd);
          const offset = u64(it.offset);
          let size = u64(it.size);
          if (it.fit) {
            const isize = BigInt(p.file(memfd)?.inode.size ?? 0);
            const ps = BigInt(this.ps);
            size = isize / ps * ps > offset ? isize / ps * ps - offset : 0n;
          }
          return { memfd: u32(memfd), offset, size };
        });
        let b: Uint8Array;
        if (op.list) {
          b = new Uint8Array(8 + 24 * items.length);
          const dv = new DataView(b.buffer);
          dv.setUint32(0, u32(op.flags), true);
          dv.setUint32(4, op.count === null ? items.length : u32(op.count), true);
          items.forEach((it, i) => {
            dv.setUint32(8 + i * 24, it.memfd, true);
            dv.setBigUint64(8 + i * 24 + 8, it.offset, true);
            dv.setBigUint64(8 + i * 24 + 16, it.size, true);
          });
        } else {
          b = new Uint8Array(24);
          const dv = new DataView(b.buffer);
          const it = items[0] ?? { memfd: 0, offset: 0n, size: 0n };
          dv.setUint32(0, it.memfd, true);
          dv.setUint32(4, u32(op.flags), true);
          dv.setBigUint64(8, it.offset, true);
          dv.setBigUint64(16, it.size, true);
        }
        this.put(p, op.ptr, at, b);
        const cmd = op.list ? UDMABUF_CREATE_LIST : UDMABUF_CREATE;
        const what = items.map((it) => `${it.memfd}:${it.offset}+${it.size}`).join(' ');
        this.sys(p, 'ioctl', [ufd, cmd, at], () => p.ioctl(ufd, cmd, at), 'errno', ` ${op.list ? 'UDMABUF_CREATE_LIST' : 'UDMABUF_CREATE'}{${what}}`);
        return;
      }
      case 'ioctl': {
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        this.put(p, op.ptr, at, Uint8Array.of(1, 0, 0, 0));
        this.sys(p, 'ioctl', [fd, op.cmd, at], () => p.ioctl(fd, op.cmd, at));
        return;
      }
      case 'mmap': {
        const addr = op.addr === null ? 0 : this.addr(p, op.addr);
        const fd = this.fd(p, op.fd);
        const len = op.fit ? this.fileSize(p, fd) : op.len;
        const r = this.sys(p, 'mmap', [addr, len, op.prot, op.flags, fd, op.off], () => p.mmap(addr, len, op.prot, op.flags, fd, op.off), 'addr');
        // a mapping lies in the user range: [mmap_min_addr, TASK_SIZE) (x86-64: 2^47 - 4096; arm64 48-bit VA: 2^48);
        // root (CAP_SYS_RAWIO) may map below mmap_min_addr (4096)
        const taskSize = k.arch === 'x86_64' ? 2 ** 47 - 4096 : 2 ** 48;
        const low = p.cred.uid === 0 ? 0 : 4096;
        if (typeof r === 'number' && r >= 0 && (r < low || r + Math.ceil(len / this.ps) * this.ps > taskSize)) {
          throw new FuzzFailure('bad-result:mmap', `mmap(0x${addr.toString(16)}, ${len}, ...) mapped [0x${r.toString(16)}, +${len}), outside the user range [0x${low.toString(16)}, 0x${taskSize.toString(16)})`);
        }
        return;
      }
      case 'sealedMemfd': {
        // memfd_create(MFD_ALLOW_SEALING | MFD_CLOEXEC), ftruncate, F_ADD_SEALS: what a udmabuf user does
        const fd = this.sys(p, 'memfd_create', ['sealed', 3], () => p.memfdCreate('sealed', 3));
        if (typeof fd !== 'number' || fd < 0) return;
        this.sys(p, 'ftruncate', [fd, op.size], () => p.ftruncate(fd, op.size));
        this.sys(p, 'fcntl', [fd, 1033, op.seals], () => p.fcntl(fd, 1033, op.seals));
        return;
      }
      case 'cpuAccess': {
        // mmap the whole buffer shared, SYNC_START, touch it, SYNC_END (and maybe munmap)
        const fd = this.fd(p, op.fd);
        const len = this.fileSize(p, fd);
        const addr = this.sys(p, 'mmap', [0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0], () => p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), 'addr');
        if (typeof addr !== 'number' || addr < 0) return;
        const syncArg = this.scratchOf(p);
        const sync = (flags: number): void => {
          if (!op.sync) return;
          const b = new Uint8Array(8);
          b[0] = flags;
          if (syncArg > 0) p.mm.copyToUser(syncArg, b);
          this.sys(p, 'ioctl', [fd, DMA_BUF_IOCTL_SYNC, syncArg], () => p.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg), 'errno', ` SYNC{flags=${flags}}`);
        };
        const n = Math.min(op.len, len);
        sync(op.write ? 2 : 1);
        if (op.write) this.sys(p, 'store', [addr, n, 0xa5], () => p.fill(addr, n, 0xa5), 'fault');
        else this.sys(p, 'load', [addr, n], () => p.load(addr, n), 'load');
        if (!p.alive) return;
        sync(op.write ? 6 : 5);
        if (op.unmap) this.sys(p, 'munmap', [addr, len], () => p.munmap(addr, len));
        return;
      }
      case 'munmap': {
        const addr = this.addr(p, op.addr);
        this.sys(p, 'munmap', [addr, op.len], () => p.munmap(addr, op.len));
        return;
      }
      case 'store': {
        const addr = this.addr(p, op.addr);
        this.sys(p, 'store', [addr, op.len, op.val], () => p.fill(addr, op.len, op.val), 'fault');
        return;
      }
      case 'load': {
        const addr = this.addr(p, op.addr);
        this.sys(p, 'load', [addr, op.len], () => p.load(addr, op.len), 'load');
        return;
      }
      case 'read': {
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        this.sys(p, 'read', [fd, at, op.count], () => p.read(fd, at, op.count));
        return;
      }
      case 'write': {
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        if (op.text !== null) this.put(p, op.ptr, at, Uint8Array.from([...op.text].map((c) => c.charCodeAt(0) & 0xff)));
        this.sys(p, 'write', [fd, at, op.count], () => p.write(fd, at, op.count), 'errno', op.text !== null ? ` ${JSON.stringify(op.text)}` : '');
        return;
      }
      case 'lseek': {
        const fd = this.fd(p, op.fd);
        this.sys(p, 'lseek', [fd, op.off, op.whence], () => p.lseek(fd, op.off, op.whence));
        return;
      }
      case 'ftruncate': {
        const fd = this.fd(p, op.fd);
        this.sys(p, 'ftruncate', [fd, op.len], () => p.ftruncate(fd, op.len));
        return;
      }
      case 'memfd':
        this.sys(p, 'memfd_create', [op.name, op.flags], () => p.memfdCreate(op.name, op.flags));
        return;
      case 'poll': {
        const at = this.addr(p, op.ptr);
        const b = new Uint8Array(8 * op.fds.length);
        const dv = new DataView(b.buffer);
        op.fds.forEach((e, i) => {
          dv.setInt32(i * 8, u32(this.fd(p, e.fd)) | 0, true);
          dv.setInt16(i * 8 + 4, e.events, true);
        });
        this.put(p, op.ptr, at, b);
        const nfds = op.nfds ?? op.fds.length;
        this.sys(p, 'poll', [at, nfds, 0], () => p.poll(at, nfds, 0));
        return;
      }
      case 'fstat': {
        const fd = this.fd(p, op.fd);
        const at = this.addr(p, op.ptr);
        this.sys(p, 'fstat', [fd, at], () => p.fstat(fd, at));
        return;
      }
      case 'readlink': {
        const path = this.path(op.path);
        const at = this.addr(p, op.ptr);
        this.sys(p, 'readlink', [path, at, op.size], () => p.readlink(path, at, op.size));
        return;
      }
      case 'mkdir': {
        const path = this.path(op.path);
        this.sys(p, 'mkdir', [path, op.mode], () => p.mkdir(path, op.mode));
        this.collectCgroups();
        return;
      }
      case 'rmdir': {
        const path = this.path(op.path);
        this.sys(p, 'rmdir', [path], () => p.rmdir(path));
        return;
      }
      case 'readFile': {
        const path = this.path(op.path);
        this.sys(p, 'readFile', [path], () => k.readFile(p, path), 'text');
        return;
      }
      case 'readdir': {
        const path = this.path(op.path);
        this.sys(p, 'readdir', [path], () => k.readdir(path, p), 'names');
        return;
      }
      case 'attach': {
        const devs = k.devices.list();
        if (devs.length === 0) return;
        const fd = this.fd(p, op.fd);
        const dev = devs[op.dev % devs.length]!;
        this.sys(p, 'dma_buf_attach', [fd, dev.devName, op.dynamic], () => k.devices.attachFd(p, fd, dev.name, { dynamic: op.dynamic }), 'kresult');
        return;
      }
    }
  }

  /** cgroupfs writes as a shell's `echo value > file` does: open, write, close. */
  private cgWrite(op: Extract<Op, { op: 'cgWrite' }>): void {
    const p = this.proc(op.p);
    if (p === null) return;
    const cgs = this.cgroupList();
    const path = `${this.cgPath(cgs[op.cg % cgs.length]!)}/${op.file}`;
    const text = op.value.replace('$pid', String(this.anyProc(op.q).pid));
    const fd = this.sys(p, 'open', [path, this.k.fc.O_WRONLY], () => p.open(path, this.k.fc.O_WRONLY));
    if (typeof fd !== 'number' || fd < 0) return;
    const at = this.scratchOf(p);
    const bytes = Uint8Array.from([...text].map((c) => c.charCodeAt(0) & 0xff));
    if (at > 0) p.mm.copyToUser(at, bytes);
    this.sys(p, 'write', [fd, at, bytes.length], () => p.write(fd, at, bytes.length), 'errno', ` ${JSON.stringify(text)}`);
    this.sys(p, 'close', [fd], () => p.close(fd));
    this.collectCgroups();
  }

  /** The importer driver's calls on an attachment. */
  private driver(op: Extract<Op, { op: 'map' | 'unmap' | 'detach' | 'devSync' | 'devRW' }>): void {
    const h = this.handle(op.h);
    if (h === null) return;
    const d = this.k.devices;
    switch (op.op) {
      case 'map':
        this.sys(null, 'dma_buf_map_attachment', [h, op.dir], () => d.mapAttachment(h, op.dir), 'kresult');
        return;
      case 'unmap':
        this.sys(null, 'dma_buf_unmap_attachment', [h], () => d.unmapAttachment(h));
        return;
      case 'detach':
        // a driver unmaps before it detaches (detaching a mapped attachment leaks the mapping's
        // swiotlb slots and IOVA range, in Linux too: drivers/dma-buf/dma-buf.c dma_buf_detach)
        if (h.sgt !== null) this.sys(null, 'dma_buf_unmap_attachment', [h], () => d.unmapAttachment(h));
        this.sys(null, 'dma_buf_detach', [h], () => d.detach(h));
        return;
      case 'devSync':
        this.sys(null, op.cpu ? 'dma_sync_for_cpu' : 'dma_sync_for_device', [h, op.dir], () => (op.cpu ? d.syncForCpu(h, op.dir) : d.syncForDevice(h, op.dir)));
        return;
      case 'devRW':
        if (op.write) this.sys(null, 'device_write', [h, op.off, op.len], () => d.deviceWrite(h, op.off, new Uint8Array(op.len).fill(0x5a)));
        else this.sys(null, 'device_read', [h, op.off, op.len], () => d.deviceRead(h, op.off, op.len), 'bytes');
        return;
    }
  }

  // ---- invariants ----------------------------------------------------------------------------

  private fail(kind: string, message: string): never {
    throw new FuzzFailure(kind, message);
  }

  /** The cheap invariants, after every step. */
  checkStep(): void {
    const k = this.k;
    const ps = this.ps;
    const b = k.buddy;
    if (!Number.isInteger(b.freePages) || b.freePages < 0 || b.freePages > b.totalPages) this.fail('step:buddy', `buddy: ${b.freePages} free of ${b.totalPages} pages`);
    let cmaTotal = 0;
    let cmaFree = 0;
    for (const a of k.cmaAreas) {
      if (a.used < 0 || a.used > a.count || a.availableCount < 0 || a.availableCount > a.count) this.fail('step:cma', `CMA area ${a.name}: used ${a.used}, available ${a.availableCount} of ${a.count} pages`);
      cmaTotal += a.count;
      cmaFree += a.availableCount;
    }
    for (const t of k.teePools) if (t.area.used < 0 || t.area.used > t.area.count) this.fail('step:tee', `TEE pool ${t.useCase}: used ${t.area.used} of ${t.area.count}`);
    for (const c of k.coherentPools) if (c.usedPages < 0 || c.usedPages > c.pages) this.fail('step:coherent', `coherent pool ${c.name}: used ${c.usedPages} of ${c.pages}`);
    for (const t of [...(k.devices.swiotlb !== null ? [k.devices.swiotlb] : []), ...k.devices.restrictedPools.values()]) {
      if (t.stats.used < 0 || t.stats.used > t.nslabs) this.fail('step:swiotlb', `swiotlb ${t.name}: used ${t.stats.used} of ${t.nslabs} slabs`);
    }
    // /proc/meminfo says what the allocators say
    const mi = k.readFile(k.init, '/proc/meminfo');
    if (typeof mi !== 'string') this.fail('step:meminfo', `/proc/meminfo: ${String(mi)}`);
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(mi)?.[1] ?? NaN);
    const want = { MemTotal: ((b.totalPages + cmaTotal) * ps) / 1024, MemFree: ((b.freePages + cmaFree) * ps) / 1024, CmaTotal: (cmaTotal * ps) / 1024, CmaFree: (cmaFree * ps) / 1024 };
    for (const [name, v] of Object.entries(want)) if (kb(name) !== v) this.fail('step:meminfo', `/proc/meminfo ${name}: ${kb(name)} kB, the allocators say ${v} kB`);
    if (kb('MemFree') > kb('MemTotal') || kb('CmaFree') > kb('CmaTotal')) this.fail('step:meminfo', `/proc/meminfo: free above total\n${mi}`);
    for (const m of this.memcgs) if (!Number.isInteger(m.usage) || m.usage < 0) this.fail('step:memcg', `memcg ${m.id}: usage ${m.usage} pages`);
    for (const css of this.dmemCsses) for (const pool of css.pools.values()) if (pool.usage < 0) this.fail('step:dmem', `dmem pool ${pool.region.name}: usage ${pool.usage}`);
    if (k.backing.backedBytes < 0) this.fail('step:backing', `backed bytes ${k.backing.backedBytes}`);
    for (const buf of k.dmaBuf.list) if (buf.file.count < 1) this.fail('step:dmabuf', `dma-buf ${buf.ino} listed with f_count ${buf.file.count}`);
    for (const p of this.procs) {
      // an fd table holds files at integer indexes only (fds[1.5] would never be closed)
      const bad = p.openFds().filter((fd) => !Number.isInteger(fd) || fd < 0);
      if (bad.length > 0) this.fail('step:fd-table', `pid ${p.pid}: fd table has non-index keys ${bad.join(', ')}`);
    }
  }

  /** Detach what drivers hold, exit every process, then nothing may be left. */
  teardown(): void {
    const k = this.k;
    for (const h of k.devices.handles()) {
      if (h.sgt !== null) this.sys(null, 'dma_buf_unmap_attachment', [h], () => k.devices.unmapAttachment(h));
      this.sys(null, 'dma_buf_detach', [h], () => k.devices.detach(h));
    }
    for (const p of this.procs) if (p.alive) this.sys(p, 'exit', [], () => p.exit(), 'void');
    this.collectCgroups();
    const problems: [string, string][] = [];
    for (const p of [...this.procs, k.init]) {
      const n = p.openFdCount();
      if (p !== k.init && p.alive) problems.push(['process', `pid ${p.pid} still alive`]);
      if (n > 0) problems.push(['fd', `pid ${p.pid}${p.alive ? '' : ' (exited)'} still has ${n} fd(s): ${p.openFds().join(', ')}`]);
      if (p !== k.init && p.mm.vmas.length > 0) problems.push(['vma', `pid ${p.pid} (exited) still has ${p.mm.vmas.length} mapping(s)`]);
    }
    if (k.processes.size !== 1) problems.push(['process', `kernel still lists ${k.processes.size} processes: ${[...k.processes.keys()].join(', ')}`]);
    if (k.dmaBuf.list.size !== 0) problems.push(['dmabuf', `${k.dmaBuf.list.size} dma-buf(s) left: ${[...k.dmaBuf.list].map((b) => `ino ${b.ino} ${b.expName} ${b.size} B f_count ${b.file.count}`).join('; ')}`]);
    const bufinfo = k.readFile(k.init, '/sys/kernel/debug/dma_buf/bufinfo');
    if (typeof bufinfo !== 'string' || !bufinfo.endsWith('\nTotal 0 objects, 0 bytes\n')) problems.push(['dmabuf', `debugfs bufinfo is not empty: ${String(bufinfo).slice(-200)}`]);
    const now = this.snapshot();
    const boot = this.boot;
    if (now.buddyTotal !== boot.buddyTotal || now.buddyFree !== boot.buddyFree) problems.push(['buddy', `buddy allocator: ${now.buddyFree} free of ${now.buddyTotal} pages, at boot ${boot.buddyFree} of ${boot.buddyTotal}`]);
    now.cma.forEach((a, i) => {
      const b0 = boot.cma[i]!;
      if (a.available !== b0.available || a.used !== b0.used) problems.push(['cma', `CMA area ${a.name}: ${a.available} available, ${a.used} used of ${a.count} pages; at boot ${b0.available} and ${b0.used}`]);
    });
    now.coherent.forEach((c, i) => {
      if (c.used !== boot.coherent[i]!.used) problems.push(['coherent', `coherent pool ${c.name}: ${c.used} pages used, at boot ${boot.coherent[i]!.used}`]);
    });
    now.swiotlb.forEach((t, i) => {
      if (t.used !== boot.swiotlb[i]!.used) problems.push(['swiotlb', `swiotlb ${t.name}: ${t.used} slabs used, at boot ${boot.swiotlb[i]!.used}`]);
    });
    now.iova.forEach((d, i) => {
      if (d.allocated !== boot.iova[i]!.allocated) problems.push(['iova', `device ${d.name}: ${d.allocated} bytes of IOVA space allocated`]);
    });
    // the sanitizer's brackets of live buffers (white-box: a buffer it still tracks after release is host memory kept)
    const tracked = (k.sanitizer as unknown as { open?: Map<unknown, unknown> } | null)?.open?.size ?? 0;
    if (tracked !== 0) problems.push(['sanitizer', `the sync sanitizer still tracks ${tracked} buffer(s)`]);
    if (now.backed !== boot.backed) problems.push(['backing', `${now.backed - boot.backed} host bytes still behind pages`]);
    for (const m of this.memcgs) if (m.usage !== 0) problems.push(['memcg', `memcg ${m.id}${m.offline ? ' (offline)' : ''}: ${m.usage} pages still charged`]);
    for (const css of this.dmemCsses) for (const pool of css.pools.values()) if (pool.usage !== 0) problems.push(['dmem', `dmem pool ${pool.region.name}: ${pool.usage} bytes still charged`]);
    for (const c of this.cgroupList()) {
      if (c.parent === null || c.memcg === null) continue;
      const t = k.readFile(k.init, `${this.cgPath(c)}/memory.current`);
      if (t !== '0\n') problems.push(['memcg', `${this.cgPath(c)}/memory.current reads ${JSON.stringify(t)}`]);
    }
    if (problems.length > 0) this.fail(`teardown:${problems[0]![0]}`, `after teardown:\n  ${problems.map((x) => x[1]).join('\n  ')}`);
  }
}

/** Runs a case; never throws (a fault of the harness itself is reported as `harness:...`). */
export function runCase(c: FuzzCase, opts: RunOptions = {}): CaseResult {
  let r: Runner | null = null;
  let failure: Failure | null = null;
  let slowest = { op: '', ms: 0 };
  try {
    r = new Runner(c, opts);
    for (const op of c.ops) {
      const t0 = performance.now();
      r.run(op);
      const ms = performance.now() - t0;
      if (ms > slowest.ms) slowest = { op: op.op, ms };
      if (opts.slowStepMs !== undefined && ms > opts.slowStepMs) throw new FuzzFailure(`slow:${op.op}`, `step ${r.step} (${op.op}) took ${ms.toFixed(0)} ms (limit ${opts.slowStepMs} ms): ${JSON.stringify(op)}`);
      if (opts.maxRssBytes !== undefined) {
        const rss = process.memoryUsage.rss();
        if (rss > opts.maxRssBytes) throw new FuzzFailure(`host-memory:${op.op}`, `after step ${r.step} (${op.op}) the host process holds ${(rss / 2 ** 20).toFixed(0)} MiB (limit ${(opts.maxRssBytes / 2 ** 20).toFixed(0)} MiB): ${JSON.stringify(op)}`);
      }
      r.checkStep();
      r.step++;
    }
    r.teardown();
  } catch (e) {
    const step = r?.step ?? 0;
    if (e instanceof FuzzFailure) failure = { kind: e.kind, message: e.message, step };
    else failure = { kind: `harness:${e instanceof Error ? e.name : 'throw'}`, message: `the harness itself threw at step ${step}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, step };
  }
  return {
    failure,
    steps: r?.step ?? 0,
    calls: r?.calls ?? 0,
    skipped: r?.skipped ?? {},
    results: r?.results ?? {},
    byCall: r?.byCall ?? {},
    trace: r?.trace ?? [],
    slowest,
  };
}
