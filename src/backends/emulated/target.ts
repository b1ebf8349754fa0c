/**
 * The emulated backend at the syscall level: one process in a fresh emulated kernel. Arguments
 * are copied into the process's user memory before each call and read back after it, so the
 * kernel sees exactly the bytes a C program would pass.
 */
import { Errno, errnoName } from '../../uapi/errno.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SEEK_SET } from '../../uapi/fcntl.js';
import type { ErrnoName } from '../../uapi/errno.js';
import { strBytes } from '../../kernel/bytes.js';
import type { AttachmentHandle } from '../../kernel/dev/registry.js';
import { formatReport } from '../../kernel/sanitizer/report.js';
import { Kernel } from '../../kernel/kernel.js';
import type { KernelConfig } from '../../kernel/kernel.js';
import { resolveAndroidProfile } from '../../kernel/android.js';
import type { Process } from '../../kernel/fs/process.js';
import { boardArch } from '../../kernel/of/board.js';
import { resolveBoard } from '../../boards/index.js';
import type { BoardInput, LoadBoardOptions } from '../../boards/index.js';
import { describeHeaps, heapFacts } from './describe.js';
import { decodeStat, STAT_BUF_SIZE } from '../../api/stat.js';
import type {
  AttachResult, DeviceStatsResult, DmaDir, ExactHeapFacts, Fault, IoctlArg, IoctlResult, MapAttachmentResult, MapHandle, MmapResult, MmCall, PagemapResult, PollResult,
  SanitizerResult, StatResult, SyscallTarget, SysResult, TextResult,
} from '../../api/target.js';

/** An address no mapping ever uses: the probe's "bad pointer" ((void *)16). */
export const UNMAPPED_ADDR = 16;

/**
 * The largest buffer read() lends the kernel (1 GiB, as the Linux backend's): a larger count is
 * EFAULT, as for a C program whose buffer is smaller than its count.
 */
export const READ_BUFFER_MAX = 1 << 30;

/** INT_MAX: what a pollfd's fd becomes when no C int holds it (no process has that fd open: POLLNVAL). */
const NO_SUCH_FD = 0x7fffffff;

export interface EmulatedOptions {
  /**
   * Kernel version profile, e.g. '6.1' (default 7.0), or an Android GKI branch, e.g.
   * 'android14-6.1': its mainline profile plus the branch facts the emulator models
   * (KernelConfig.android, docs/android.md).
   */
  profile?: string;
  /** Kernel command line (default: none; with a board, its /chosen bootargs). */
  cmdline?: string;
  /** True when `cmdline` was given explicitly (it then overrides a board's bootargs). */
  cmdlineGiven?: boolean;
  ramBytes?: number;
  pageSize?: number;
  arch?: 'x86_64' | 'arm64';
  heaps?: KernelConfig['heaps'];
  /**
   * The kernel configuration (KernelConfig.kconfig, docs/kconfig.md): a `.config` as text,
   * options as a map or record (`{ CMA_SIZE_MBYTES: 64 }`), or a Kconfig.
   */
  kconfig?: KernelConfig['kconfig'];
  /** Where the boot loader put the kernel image, initrd and DTB (KernelConfig.loader). */
  loader?: KernelConfig['loader'];
  /**
   * The board: a shipped board's name (`'imx8mp'`), a DTS/DTB/live-tree path, DTS text, DTB bytes or a DeviceTree.
   *
   * Shipped boards: `imx8mp`, `rpi5`, `rk3588`, `am62x`, `x86-pc`. A string is a shipped name
   * when it is one exactly, DTS text when it starts with `/dts-v1/` (after white space and
   * comments), else a path (see `loadBoard`). The board gives the RAM, the reserved memory, the
   * command line (its /chosen/bootargs, unless `cmdline` is given) and the architecture (unless
   * `arch` is given). A bad board throws a BoardError saying what was wrong.
   */
  board?: BoardInput | null;
  /** Where `/include/` files of a DTS board are looked for besides the including file's directory (dtc's -i). */
  boardIncludeDirs?: LoadBoardOptions['includeDirs'];
  /** Proposed heaps switched on (KernelConfig.features). */
  features?: KernelConfig['features'];
  /** DMA devices beyond (or overriding the flags of) the board's (KernelConfig.devices). */
  devices?: KernelConfig['devices'];
  /** Switch on the sync sanitizer (KernelConfig.sanitizer). */
  sanitizer?: KernelConfig['sanitizer'];
  /** Host memory for every exported buffer's bytes (`dmaheap run`: KernelConfig.hostMemory). */
  hostMemory?: KernelConfig['hostMemory'];
  /** The programs' ABI when it is not the machine's (KernelConfig.abi). */
  abi?: KernelConfig['abi'];
  /**
   * Allocation-failure rules in force from boot (KernelConfig.faults, docs/faults.md): e.g.
   * `[{ heap: 'system', nth: 3 }]` fails the third allocation from the system heap with ENOMEM.
   */
  faults?: KernelConfig['faults'];
  /**
   * Memory faults applied right after boot (KernelConfig.memoryFaults): a CMA area shrunk or
   * pinned, RAM taken. Later ones are `target.kernel.faults` calls.
   */
  memoryFaults?: KernelConfig['memoryFaults'];
  /** Run as this user instead of root. */
  uid?: number;
  gid?: number;
  groups?: number[];
}

/** The machine the conformance suite defaults to: the oracle VM (x86-64, 4 KiB, 2 GiB, cma=64M). */
export const ORACLE_MACHINE: Readonly<EmulatedOptions> = { arch: 'x86_64', pageSize: 4096, ramBytes: 2 * 1024 ** 3, cmdline: 'cma=64M' };

/**
 * Boots a kernel for `opts`; throws KernelConfigError (with a clear message) for a bad config,
 * BoardError (a KernelConfigError) for a board that cannot be loaded.
 */
export function bootKernel(opts: EmulatedOptions): Kernel {
  const cfg: KernelConfig = {};
  if (opts.profile !== undefined) {
    if (resolveAndroidProfile(opts.profile) !== null) cfg.android = opts.profile;
    else cfg.profile = opts.profile as KernelConfig['profile'];
  }
  if (opts.cmdline !== undefined) cfg.cmdline = opts.cmdline;
  if (opts.ramBytes !== undefined) cfg.ramBytes = opts.ramBytes;
  if (opts.pageSize !== undefined) cfg.pageSize = opts.pageSize;
  if (opts.arch !== undefined) cfg.arch = opts.arch;
  if (opts.heaps !== undefined) cfg.heaps = opts.heaps;
  if (opts.kconfig !== undefined) cfg.kconfig = opts.kconfig;
  if (opts.loader !== undefined) cfg.loader = opts.loader;
  if (opts.board !== undefined && opts.board !== null) {
    cfg.board = resolveBoard(opts.board, opts.boardIncludeDirs !== undefined ? { includeDirs: opts.boardIncludeDirs } : {});
    cfg.arch ??= boardArch(cfg.board);
  }
  if (opts.features !== undefined) cfg.features = opts.features;
  if (opts.sanitizer !== undefined) cfg.sanitizer = opts.sanitizer;
  if (opts.devices !== undefined) cfg.devices = opts.devices;
  if (opts.hostMemory !== undefined) cfg.hostMemory = opts.hostMemory;
  if (opts.abi !== undefined) cfg.abi = opts.abi;
  if (opts.faults !== undefined) cfg.faults = opts.faults;
  if (opts.memoryFaults !== undefined) cfg.memoryFaults = opts.memoryFaults;
  return new Kernel(cfg);
}

function res(ret: number): SysResult {
  return ret < 0 ? { ret: -1, errno: errnoName(-ret) ?? 'EINVAL' } : { ret, errno: null };
}

export class EmulatedTarget implements SyscallTarget {
  readonly backend = 'emulated';
  readonly arch: 'x86_64' | 'arm64';
  readonly pageSize: number;
  readonly release: string;
  readonly proc: Process;
  /** The attachments this target made (attach()), by handle, oldest first. */
  private readonly atts = new Map<number, AttachmentHandle>();
  /** Scratch user memory for arguments, grown on demand. */
  private scratch = 0;
  private scratchLen = 0;

  constructor(
    readonly kernel: Kernel,
    proc?: Process,
  ) {
    this.arch = kernel.arch;
    this.pageSize = kernel.pageSize;
    this.release = kernel.profile.release;
    this.proc = proc ?? kernel.spawn({ uid: 0, gid: 0, groups: [] }, 'dmaheap');
  }

  /**
   * Scratch user memory of at least `len` bytes for arguments: its address, or a negated errno
   * (ENOMEM) when the process cannot map that much; the old scratch stays until a new one exists.
   */
  private arg(len: number): number {
    if (len <= this.scratchLen) return this.scratch;
    const size = Math.max(4096, Math.ceil(len / 4096) * 4096);
    const a = this.proc.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a < 0) return a;
    if (this.scratch !== 0) this.proc.munmap(this.scratch, this.scratchLen);
    this.scratch = a;
    this.scratchLen = size;
    return a;
  }

  /** `data` copied into scratch user memory: its address, or a negated errno. */
  private put(data: Uint8Array): number {
    const a = this.arg(Math.max(1, data.length));
    if (a >= 0) this.proc.mm.copyToUser(a, data);
    return a;
  }

  /** The heaps /dev/dma_heap lists, in registration order (the directory itself lists the newest first, as devtmpfs does). */
  listHeaps(): string[] {
    const names = this.kernel.readdir('/dev/dma_heap', this.proc);
    if (names === null) return [];
    return this.kernel.heaps().map((h) => h.devName).filter((n) => names.includes(n));
  }
  open(path: string, flags: number, mode = 0): SysResult {
    return res(this.proc.open(path, flags, mode));
  }
  close(fd: number): SysResult {
    return res(this.proc.close(fd));
  }
  dup(fd: number): SysResult {
    return res(this.proc.dup(fd));
  }
  fcntl(fd: number, cmd: number, arg = 0): SysResult {
    return res(this.proc.fcntl(fd, cmd, arg));
  }
  ioctl(fd: number, cmd: number, arg: IoctlArg): IoctlResult {
    if (arg === null || arg === 'unmapped') {
      const r = res(this.proc.ioctl(fd, cmd, arg === null ? 0 : UNMAPPED_ADDR));
      return { ...r, out: null };
    }
    const a = this.put(arg);
    if (a < 0) return { ...res(a), out: null };
    const r = res(this.proc.ioctl(fd, cmd, a));
    return { ...r, out: this.proc.mm.copyFromUser(a, arg.length) };
  }
  ioctlInPlace(fd: number, cmd: number, arg: Uint8Array): SysResult {
    const a = this.put(arg);
    if (a < 0) return res(a);
    const r = res(this.proc.ioctl(fd, cmd, a));
    const out = this.proc.mm.copyFromUser(a, arg.length);
    if (out !== null) arg.set(out);
    return r;
  }
  ioctlString(fd: number, cmd: number, s: string): SysResult {
    // one byte per character, or UTF-8 when a character does not fit a byte (the kernel's strBytes)
    const str = strBytes(s);
    const bytes = new Uint8Array(str.length + 1);
    bytes.set(str);
    const a = this.put(bytes);
    return res(a < 0 ? a : this.proc.ioctl(fd, cmd, a));
  }
  mmap(length: number, prot: number, flags: number, fd: number, offset: number, addr = 0): MmapResult {
    const r = this.proc.mmap(addr, length, prot, flags, fd, offset);
    return r < 0 ? { ...res(r), map: null } : { ret: r, errno: null, map: { addr: r, length } };
  }
  mm(c: MmCall): MmapResult {
    const p = this.proc;
    switch (c.op) {
      case 'munmap': return { ...res(p.munmap(c.addr, c.length)), map: null };
      case 'mprotect': return { ...res(p.mprotect(c.addr, c.length, c.prot)), map: null };
      case 'madvise': return { ...res(p.madvise(c.addr, c.length, c.advice)), map: null };
      case 'msync': return { ...res(p.msync(c.addr, c.length, c.flags)), map: null };
      case 'mlock': return { ...res(p.mlock(c.addr, c.length, c.flags)), map: null };
      case 'munlock': return { ...res(p.munlock(c.addr, c.length)), map: null };
      case 'mremap': {
        const r = p.mremap(c.addr, c.length, c.newLength, c.flags, c.newAddr);
        return r < 0 ? { ...res(r), map: null } : { ret: r, errno: null, map: { addr: r, length: c.newLength } };
      }
    }
  }
  munmap(map: MapHandle): SysResult {
    return res(this.proc.munmap(map.addr, map.length));
  }
  readMem(map: MapHandle, offset: number, length: number): Uint8Array | NonNullable<Fault> {
    return this.proc.load(map.addr + offset, length);
  }
  readMemInto(map: MapHandle, offset: number, dst: Uint8Array): Fault {
    return this.proc.loadInto(map.addr + offset, dst);
  }
  writeMem(map: MapHandle, offset: number, data: Uint8Array): Fault {
    return this.proc.store(map.addr + offset, data);
  }
  read(fd: number, count: number): SysResult & { readonly data: Uint8Array | null } {
    // SyscallTarget.read: a count that is not a whole number is EINVAL; a negative one (a huge
    // size_t) or one past the buffer this target lends is EFAULT, before the call (as the Linux
    // backend): never a huge allocation
    if (!Number.isInteger(count)) return { ...res(-Errno.EINVAL), data: null };
    if (count < 0 || count > READ_BUFFER_MAX) return { ...res(-Errno.EFAULT), data: null };
    const a = this.arg(Math.max(1, count));
    if (a < 0) return { ...res(a), data: null };
    const r = res(this.proc.read(fd, a, count));
    return { ...r, data: r.ret >= 0 ? this.proc.mm.copyFromUser(a, r.ret) : null };
  }
  write(fd: number, data: Uint8Array): SysResult {
    const a = this.put(data);
    return res(a < 0 ? a : this.proc.write(fd, a, data.length));
  }
  lseek(fd: number, offset: number, whence: number): SysResult {
    return res(this.proc.lseek(fd, offset, whence));
  }
  fstat(fd: number): StatResult {
    const a = this.arg(STAT_BUF_SIZE);
    if (a < 0) return { ...res(a), stat: null };
    const r = res(this.proc.fstat(fd, a));
    if (r.ret < 0) return { ...r, stat: null };
    return { ...r, stat: decodeStat(this.proc.mm.copyFromUser(a, STAT_BUF_SIZE)!, this.arch) };
  }
  poll(fds: readonly { fd: number; events: number }[], timeout: number): PollResult {
    // struct pollfd holds an int fd and a short events mask: an fd no int holds names no open
    // file (POLLNVAL); an events value no short (or unsigned short) holds cannot be passed (EINVAL)
    if (fds.some((p) => !Number.isInteger(p.events) || p.events < -0x8000 || p.events > 0xffff)) return { ...res(-Errno.EINVAL), revents: fds.map(() => 0) };
    const b = new Uint8Array(fds.length * 8);
    const dv = new DataView(b.buffer);
    fds.forEach((p, i) => {
      dv.setInt32(i * 8, Number.isInteger(p.fd) && p.fd >= -0x80000000 && p.fd <= 0x7fffffff ? p.fd : NO_SUCH_FD, true);
      dv.setInt16(i * 8 + 4, p.events, true);
    });
    const a = this.put(b);
    if (a < 0) return { ...res(a), revents: fds.map(() => 0) };
    const r = res(this.proc.poll(a, fds.length, timeout));
    const out = this.proc.mm.copyFromUser(a, b.length)!;
    const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
    return { ...r, revents: fds.map((_, i) => ov.getInt16(i * 8 + 6, true) & 0xffff) };
  }
  readlink(path: string): TextResult {
    const a = this.arg(4096);
    if (a < 0) return { ...res(a), text: null };
    const r = res(this.proc.readlink(path, a, 4096));
    if (r.ret < 0) return { ...r, text: null };
    const b = this.proc.mm.copyFromUser(a, r.ret)!;
    return { ...r, text: String.fromCharCode(...b) };
  }
  readdir(path: string): SysResult & { readonly names: readonly string[] | null } {
    // the library lists heaps in registration order (listHeaps); getdents's own order, the newest
    // first as devtmpfs lists them, is what a program reading the directory sees
    if (path === '/dev/dma_heap' || path === '/dev/dma_heap/') {
      const r = this.kernel.readdirAt(path, this.proc);
      if (typeof r !== 'number') {
        const heaps = this.listHeaps();
        return { ret: heaps.length, errno: null, names: heaps };
      }
    }
    const names = this.kernel.readdirAt(path, this.proc);
    return typeof names === 'number' ? { ...res(names), names: null } : { ret: names.length, errno: null, names };
  }
  ioctlAt(fd: number, cmd: number, addr: number): SysResult {
    return res(this.proc.ioctl(fd, cmd, addr));
  }
  readFile(path: string): TextResult {
    // open(2) first reserves a descriptor: with RLIMIT_NOFILE exhausted reading any file is EMFILE
    if (this.proc.reserveCheck() < 0) return { ret: -1, errno: 'EMFILE', text: null };
    const t = this.kernel.readFile(this.proc, path);
    return typeof t === 'number' ? { ...res(t), text: null } : { ret: t.length, errno: null, text: t };
  }
  setNofile(cur: number, max: number): SysResult {
    return res(this.proc.setNofile(cur, max));
  }
  memfdCreate(name: string, flags: number): SysResult {
    return res(this.proc.memfdCreate(name, flags));
  }
  ftruncate(fd: number, length: number): SysResult {
    return res(this.proc.ftruncate(fd, length));
  }
  mkdir(path: string, mode: number): SysResult {
    return res(this.proc.mkdir(path, mode));
  }
  rmdir(path: string): SysResult {
    return res(this.proc.rmdir(path));
  }
  writeFile(path: string, text: string): SysResult {
    const fd = this.proc.open(path, this.kernel.fc.O_WRONLY);
    if (fd < 0) return res(fd);
    const data = strBytes(text);
    const a = this.put(data);
    const r = a < 0 ? a : this.proc.write(fd, a, data.length);
    this.proc.close(fd);
    return res(r);
  }
  pagemap(map: MapHandle, page: number): PagemapResult {
    const fd = this.proc.open('/proc/self/pagemap', this.kernel.fc.O_RDONLY);
    if (fd < 0) return { ...res(fd), present: false, pfn: null, entry: null };
    try {
      const pos = (Math.floor(map.addr / this.pageSize) + page) * 8;
      const s = this.proc.lseek(fd, pos, SEEK_SET);
      if (s < 0) return { ...res(s), present: false, pfn: null, entry: null };
      const r = this.read(fd, 8);
      if (r.ret !== 8 || r.data === null) return { ...r, present: false, pfn: null, entry: null };
      const entry = new DataView(r.data.buffer, r.data.byteOffset, 8).getBigUint64(0, true);
      const present = (entry >> 63n) === 1n;
      return { ret: r.ret, errno: null, present, pfn: present ? Number(entry & ((1n << 55n) - 1n)) : null, entry };
    } finally {
      this.proc.close(fd);
    }
  }
  attach(fd: number, device: string): AttachResult {
    const h = this.kernel.devices.attachFd(this.proc, fd, device);
    if (typeof h === 'number') return { ...res(h), handle: null };
    this.atts.set(h.id, h);
    return { ret: h.id, errno: null, handle: h.id };
  }
  mapAttachment(handle: number, dir: DmaDir): MapAttachmentResult {
    const h = this.atts.get(handle);
    if (h === undefined) return { ret: -1, errno: 'EINVAL', entries: null, bounced: false, iova: false };
    const r = this.kernel.devices.mapAttachment(h, dir);
    if (typeof r === 'number') return { ...res(r), entries: null, bounced: false, iova: false };
    return { ret: 0, errno: null, entries: r.entries.map((e) => ({ dmaAddr: e.dmaAddr, length: e.length })), bounced: r.bounced, iova: r.iova };
  }
  unmapAttachment(handle: number): SysResult {
    const h = this.atts.get(handle);
    return h === undefined ? res(-Errno.EINVAL) : res(this.kernel.devices.unmapAttachment(h));
  }
  detach(handle: number): SysResult {
    const h = this.atts.get(handle);
    return h === undefined ? res(-Errno.EINVAL) : res(this.kernel.devices.detach(h));
  }
  syncForCpu(handle: number, dir?: DmaDir): SysResult {
    const h = this.atts.get(handle);
    return h === undefined ? res(-Errno.EINVAL) : res(this.kernel.devices.syncForCpu(h, dir));
  }
  syncForDevice(handle: number, dir?: DmaDir): SysResult {
    const h = this.atts.get(handle);
    return h === undefined ? res(-Errno.EINVAL) : res(this.kernel.devices.syncForDevice(h, dir));
  }

  /**
   * The handle `device` uses for the buffer behind `fd`: its most recent mapped attachment of
   * that buffer, else its most recent one that was ever mapped (a stale DMA address: the
   * registry refuses it with EFAULT and reports it), else null (no address at all).
   */
  private deviceHandle(device: string, fd: number, offset: number, length: number, write: boolean): AttachmentHandle | number {
    const reg = this.kernel.devices;
    const dev = reg.get(device);
    if (dev === null) return -Errno.ENODEV;
    const buf = this.kernel.dmaBuf.get(this.proc, fd);
    if (typeof buf === 'number') return buf;
    this.kernel.dmaBuf.put(buf);
    const mine = [...this.atts.values()].filter((h) => h.device === dev && h.buf === buf).reverse();
    const h = mine.find((x) => !x.detached && x.sgt !== null) ?? mine.find((x) => x.mapping !== null);
    if (h !== undefined) return h;
    // The device never had a DMA address for this buffer: a wild access with no attachment,
    // which the registry would report as stale (it has no call for a device without a handle).
    if (length < 0 || offset < 0 || offset + length > buf.size) return -Errno.EINVAL;
    dev.stats.faults++;
    const events = this.kernel.dmaBuf.events;
    if (events.has('deviceAccess')) events.emit('deviceAccess', { buf, device: dev.devName, offset, length, write, attachment: null });
    return -Errno.EFAULT;
  }
  deviceRead(device: string, fd: number, offset: number, length: number): SysResult & { readonly data: Uint8Array | null } {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return { ...res(-Errno.EINVAL), data: null };
    const h = this.deviceHandle(device, fd, offset, length, false);
    if (typeof h === 'number') return { ...res(h), data: null };
    const r = this.kernel.devices.deviceRead(h, offset, length);
    return typeof r === 'number' ? { ...res(r), data: null } : { ret: r.length, errno: null, data: r };
  }
  deviceWrite(device: string, fd: number, offset: number, data: Uint8Array): SysResult {
    if (!Number.isSafeInteger(offset)) return res(-Errno.EINVAL);
    const h = this.deviceHandle(device, fd, offset, data.length, true);
    if (typeof h === 'number') return res(h);
    return res(this.kernel.devices.deviceWrite(h, offset, data));
  }
  deviceStats(device: string): DeviceStatsResult {
    const dev = this.kernel.devices.get(device);
    if (dev === null) return { ...res(-Errno.ENODEV), stats: null };
    return { ret: 0, errno: null, stats: { ...dev.stats } };
  }
  sanitizer(action: 'report' | 'check' | 'clear'): SanitizerResult {
    const s = this.kernel.sanitizer;
    if (s === null) return { ...res(-Errno.ENOSYS), reports: null };
    if (action === 'check') s.check();
    else if (action === 'clear') s.clear();
    else if (action !== 'report') return { ...res(-Errno.EINVAL), reports: null };
    return { ret: 0, errno: null, reports: s.reports().map((r) => ({
      kind: r.kind, severity: r.severity, message: r.message, buffer: { ...r.buffer }, actor: { ...r.actor },
      offset: r.offset, length: r.length, count: r.count, access: r.access, text: formatReport(r),
    })) };
  }

  getpid(): number {
    return this.proc.getpid();
  }
  openFdCount(): number {
    return this.proc.openFdCount();
  }
  dispose(): void {
    this.proc.exit();
  }

  // ---- optional capabilities (SyscallTarget) ----
  /** What the kernel knows about every heap (describeHeaps), with capacity and free bytes. */
  heapFacts(): ExactHeapFacts[] {
    return describeHeaps(this.kernel).map((d) => ({ ...heapFacts(d), capacity: d.capacity, free: d.free }));
  }
  /** fork() then exec(): the child keeps the fds without FD_CLOEXEC, under the same numbers. */
  spawn(comm: string = this.proc.comm): EmulatedTarget {
    const child = this.proc.fork(comm);
    child.exec(comm);
    return new EmulatedTarget(this.kernel, child);
  }
  /**
   * SCM_RIGHTS to another process of the same kernel; EINVAL for a target of another kernel or
   * backend, EPIPE for one whose process has exited (nothing is installed).
   */
  sendFd(fd: number, to: SyscallTarget): SysResult {
    if (!(to instanceof EmulatedTarget) || to.kernel !== this.kernel) return res(-Errno.EINVAL);
    return res(this.proc.sendFd(fd, to.proc));
  }
  /** fork(2): a child process with a copy of the fd table and the address space. */
  fork(): EmulatedTarget {
    return new EmulatedTarget(this.kernel, this.proc.fork());
  }
  /** execve(2) of the same program: close-on-exec fds closed, a new address space. */
  exec(): SysResult {
    if (!this.proc.alive) return res(-Errno.ESRCH);
    this.proc.exec();
    // the scratch memory went with the old address space
    this.scratch = 0;
    this.scratchLen = 0;
    return res(0);
  }
  epollCreate(flags: number): SysResult {
    return res(this.proc.epollCreate1(flags));
  }
  epollCtl(epfd: number, op: number, fd: number, events: number, data: bigint): SysResult {
    if (!Number.isInteger(events) || events < -0x80000000 || events > 0xffffffff) return res(-Errno.EINVAL);
    const size = this.arch === 'x86_64' ? 12 : 16;
    const b = new Uint8Array(size);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, events >>> 0, true);
    dv.setBigUint64(size === 12 ? 4 : 8, BigInt.asUintN(64, data), true);
    const a = this.put(b);
    if (a < 0) return res(a);
    return res(this.proc.epollCtl(epfd, op, fd, a));
  }
  epollWait(epfd: number, maxevents: number, timeout: number): SysResult & { readonly events: readonly { events: number; data: bigint }[] } {
    const size = this.arch === 'x86_64' ? 12 : 16;
    const n = Number.isInteger(maxevents) && maxevents > 0 && maxevents <= 64 ? maxevents : 1;
    const a = this.arg(n * size);
    if (a < 0) return { ...res(a), events: [] };
    const r = this.proc.epollWait(epfd, a, maxevents, timeout);
    if (r <= 0) return { ...res(r), events: [] };
    const b = this.proc.mm.copyFromUser(a, r * size)!;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const events = Array.from({ length: r }, (_, i) => ({ events: dv.getUint32(i * size, true), data: dv.getBigUint64(i * size + (size === 12 ? 4 : 8), true) }));
    return { ...res(r), events };
  }
  socketpair(type: number): SysResult & { readonly fds: readonly [number, number] | null } {
    const a = this.arg(8);
    if (a < 0) return { ...res(a), fds: null };
    const r = this.proc.socketpair(1, type, 0, a);
    if (r < 0) return { ...res(r), fds: null };
    const dv = new DataView(this.proc.mm.copyFromUser(a, 8)!.buffer);
    return { ...res(r), fds: [dv.getInt32(0, true), dv.getInt32(4, true)] };
  }
  sendmsg(sock: number, data: Uint8Array, fds: readonly number[]): SysResult {
    return res(this.proc.sendmsg(sock, data, fds));
  }
  recvmsg(sock: number, length: number, maxFds: number, flags: number): SysResult & { readonly data: Uint8Array | null; readonly fds: readonly number[]; readonly flags: number } {
    const r = this.proc.recvmsg(sock, length, maxFds, flags);
    return { ...res(r.ret), data: r.ret >= 0 ? r.data : null, fds: r.fds, flags: r.flags };
  }
}

/** Boots a fresh emulated kernel and returns a process in it as a {@link SyscallTarget}. */
export function createEmulatedTarget(opts: EmulatedOptions = {}): EmulatedTarget {
  const k = bootKernel(opts);
  const proc = k.spawn({ uid: opts.uid ?? 0, gid: opts.gid ?? 0, groups: opts.groups ?? [] }, 'dmaheap');
  return new EmulatedTarget(k, proc);
}

export type { ErrnoName };
