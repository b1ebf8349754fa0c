/**
 * The dma-heap core: the heap registry (minors, names, device nodes), the heap chardev with its
 * one ioctl, and the in-kernel API (add, get_drvdata, get_name, and the proposed find-by-name,
 * buffer_alloc and put with reference counts). It never imports a heap: heaps call
 * {@link DmaHeapCore.add} from their own init function, as Linux heaps call dma_heap_add().
 *
 * @kernel drivers/dma-buf/dma-heap.c
 */
import { Errno } from '../../uapi/errno.js';
import type { ErrnoName } from '../../uapi/errno.js';
import { _IOC_NR, _IOC_SIZE, IOC_IN, IOC_OUT } from '../../uapi/ioctl.js';
import { DMA_HEAP_IOCTL_ALLOC } from '../../uapi/dma-heap.js';
import type { FcntlConstants } from '../../uapi/fcntl.js';
import { File, FMODE_OPENED, mkdev, openFmode } from '../fs/file.js';
import type { FileOperations, Inode } from '../fs/file.js';
import type { Process } from '../fs/process.js';
import type { DmaBuf, DmaBufCore } from '../dma-buf/dma-buf.js';
import type { KResult } from '../result.js';

const E = Errno;

/** NUM_HEAP_MINORS */
export const NUM_HEAP_MINORS = 128;
/** The dynamically allocated char major (254 on the 6.1 oracle). */
export const DMA_HEAP_MAJOR = 254;
/** Mount id and st_dev of devtmpfs, where /dev/dma_heap/<name> lives. */
export const DEVTMPFS_MNT_ID = 22;
export const DEVTMPFS_DEV = 4;

/** struct dma_heap_ops */
export interface DmaHeapOps {
  /**
   * Allocates `len` bytes (already page aligned by the core) and exports the buffer.
   * @param len bytes, a multiple of PAGE_SIZE (may exceed RAM; then the heap fails)
   */
  readonly allocate?: (heap: DmaHeap, len: number, fdFlags: number, heapFlags: bigint, proc: Process | null) => KResult<DmaBuf>;
  /** Optional debug text for /sys/kernel/debug/dma_heap/<name> (proposed `show` op). */
  readonly show?: (heap: DmaHeap) => string;
}

/** struct dma_heap_export_info */
export interface DmaHeapExportInfo {
  readonly name: string;
  readonly ops: DmaHeapOps | null;
  readonly priv: unknown;
}

/** struct dma_heap: opaque to heaps, which use getDrvdata()/getName(). */
export class DmaHeap {
  /** kref: registration, open fds, find_by_name references and live buffers. */
  refs = 1;
  /** Unregistered: find returns nothing and open fails, the device goes with the last ref. */
  dying = false;
  readonly inode: Inode;
  constructor(
    readonly name: string,
    readonly ops: DmaHeapOps,
    readonly priv: unknown,
    readonly minor: number,
    /** device name: '/' becomes '!' (drivers/base/core.c device_add → kobject name rules) */
    readonly devName: string,
  ) {
    this.inode = { ino: 100 + minor, mode: 0o020600, uid: 0, gid: 0, rdev: mkdev(DMA_HEAP_MAJOR, minor), dev: DEVTMPFS_DEV, size: 0 };
  }
}

/**
 * The proposed memcg "dmabuf" charging with `charge_pid_fd` (2026 RFC; KernelFeatures.chargePidFd):
 * what the heap core needs from the kernel to resolve a pidfd and charge a memcg.
 */
export interface DmabufMemcgCharging {
  /**
   * pidfd_get_task(): the process `pidfd` (the struct field read as an int) refers to for
   * `proc`; EBADF when it is no open fd or not a pidfd, ESRCH when the process is gone.
   */
  pidfdTask(proc: Process, pidfd: number): KResult<Process>;
  /**
   * mem_cgroup_charge_dmabuf() of `pages` pages to the memcg of `target` (get_mem_cgroup_from_mm),
   * or, when `target` is null, to the caller's memcg if dma_heap.mem_accounting is set: returns
   * the uncharge to run at release, null when nothing was charged, or -ENOMEM at a memory.max.
   */
  charge(proc: Process, target: Process | null, pages: number): (() => void) | null | number;
}

export interface DmaHeapHost {
  readonly pageSize: number;
  readonly fc: FcntlConstants;
  readonly duplicateNameErrno: ErrnoName;
  readonly dmaBuf: DmaBufCore;
  log(line: string): void;
  /** Set when the charge_pid_fd RFC is applied: the kernel struct is then 32 bytes. */
  readonly dmabufCharging?: DmabufMemcgCharging | null;
  /** A copy-out fault after a successful allocation leaves no fd (Profile.heapFdAfterCopyOut). */
  readonly heapFdAfterCopyOut?: boolean;
  /**
   * The fault-injection site (src/kernel/fault-inject.ts), consulted after the argument checks
   * and before the heap's allocate op: 0 to go on, or the negated errno to fail with.
   */
  readonly allocFault?: (heap: DmaHeap, proc: Process | null) => number;
}

/** sizeof(struct dma_heap_allocation_data) with the charge_pid_fd RFC: charge_pid_fd at 24, __padding at 28. */
export const DMA_HEAP_ALLOCATION_DATA_PIDFD_SIZE = 32;

export class DmaHeapCore {
  /** heap_list, in registration order. */
  readonly heaps: DmaHeap[] = [];
  /** dma_heap_minors (xarray): minor → heap */
  private readonly minors = new Map<number, DmaHeap>();
  readonly fops: FileOperations;
  /** Reused kernel buffer for ioctl arguments up to 128 bytes (the handler's stack_kdata). */
  private readonly stackKdata = new Uint8Array(128);
  private readonly stackView = new DataView(this.stackKdata.buffer);
  /** charge_pid_fd RFC: the memcg uncharge of each charged buffer (dma_buf::memcg), run at release. */
  private readonly memcgCharges = new WeakMap<DmaBuf, () => void>();

  constructor(readonly host: DmaHeapHost) {
    host.dmaBuf.host.releaseHook = (buf) => {
      const uncharge = this.memcgCharges.get(buf);
      if (uncharge !== undefined) {
        this.memcgCharges.delete(buf);
        uncharge();
      }
      this.put(buf.heap as DmaHeap);
    };
    this.fops = {
      ioctl: (f, proc, cmd, arg) => this.ioctl(f, proc, cmd, arg),
      release: (f) => this.put(f.priv as DmaHeap),
    };
  }

  /**
   * dma_heap_add(): order (≥~6.2): empty name → EINVAL, no allocate op → EINVAL, a free minor
   * (EBUSY when all 128 are used), device creation (a duplicate device name fails there with
   * EEXIST), then the name check under the list lock (EINVAL, reachable only by races).
   * @kernel drivers/dma-buf/dma-heap.c dma_heap_add
   */
  add(info: DmaHeapExportInfo): KResult<DmaHeap> {
    if (!info.name) {
      this.host.log('dma_heap: Cannot add heap without a name');
      return -E.EINVAL;
    }
    if (info.ops === null || info.ops.allocate === undefined) {
      this.host.log('dma_heap: Cannot add heap with invalid ops struct');
      return -E.EINVAL;
    }
    let minor = 0;
    while (minor < NUM_HEAP_MINORS && this.minors.has(minor)) minor++;
    if (minor >= NUM_HEAP_MINORS) {
      this.host.log(`dma_heap: Unable to get minor number for heap`);
      return -E.EBUSY;
    }
    const devName = info.name.replaceAll('/', '!');
    if (this.heaps.some((h) => h.devName === devName)) {
      // device_create() → sysfs: a duplicate file name fails with EEXIST
      this.host.log(`sysfs: cannot create duplicate filename '/devices/virtual/dma_heap/${devName}'`);
      return -E[this.host.duplicateNameErrno];
    }
    const heap = new DmaHeap(info.name, info.ops, info.priv, minor, devName);
    this.minors.set(minor, heap);
    this.heaps.push(heap);
    return heap;
  }

  /** dma_heap_get_drvdata() */
  getDrvdata(heap: DmaHeap): unknown {
    return heap.priv;
  }

  /** dma_heap_get_name() */
  getName(heap: DmaHeap): string {
    return heap.name;
  }

  /** The registered heap of a device node name (devtmpfs lookup). */
  byDevName(devName: string): DmaHeap | null {
    for (const h of this.heaps) if (h.devName === devName) return h;
    return null;
  }

  /**
   * Proposed dma_heap_find_by_name(): compares with sysfs_streq (equal, tolerating one trailing
   * newline on either side) first, then takes a reference; NULL when none matches.
   * @kernel drivers/dma-buf/dma-heap.c dma_heap_find (2026 in-kernel accessors series, as reviewed)
   */
  findByName(name: string): DmaHeap | null {
    for (const h of this.heaps) {
      if (h.dying || !sysfsStreq(h.name, name)) continue;
      if (h.refs === 0) return null;
      h.refs++;
      return h;
    }
    return null;
  }

  /**
   * Proposed dma_heap_put(): drops a reference; the last one unlinks the heap, removes its
   * device and frees its minor.
   */
  put(heap: DmaHeap): void {
    if (--heap.refs > 0) return;
    const i = this.heaps.indexOf(heap);
    if (i >= 0) this.heaps.splice(i, 1);
    this.minors.delete(heap.minor);
  }

  /**
   * Unregisters a heap (heaps-as-modules teardown): it can no longer be found or opened, and it
   * stays alive until its last reference (open fd, find reference, live buffer) is gone.
   */
  remove(heap: DmaHeap): void {
    if (heap.dying) return;
    heap.dying = true;
    this.put(heap);
  }

  /**
   * dma_heap_buffer_alloc() (the ioctl's allocate step; also the proposed in-kernel API): flag
   * checks, page alignment (0 → EINVAL), then the heap. The buffer pins the heap.
   * @kernel drivers/dma-buf/dma-heap.c dma_heap_buffer_alloc
   */
  bufferAlloc(heap: DmaHeap, len: number, fdFlags: number, heapFlags: bigint, proc: Process | null): KResult<DmaBuf> {
    const r = this.flagChecks(fdFlags, heapFlags !== 0n);
    if (r < 0) return r;
    const aligned = this.pageAlign(len, false);
    if (aligned === 0) return -E.EINVAL;
    return this.allocAligned(heap, aligned, fdFlags, 0n, proc);
  }

  /**
   * The flag checks of the allocate step, shared by the ioctl and the in-kernel API: fd_flags
   * outside O_CLOEXEC|O_ACCMODE, any heap flag → EINVAL.
   */
  private flagChecks(fdFlags: number, heapFlagsSet: boolean): number {
    const fc = this.host.fc;
    if ((fdFlags & ~(fc.O_CLOEXEC | fc.O_ACCMODE)) !== 0) return -E.EINVAL;
    if (heapFlagsSet) return -E.EINVAL;
    return 0;
  }

  /**
   * PAGE_ALIGN(len); 0 (the caller's EINVAL) for len 0 and for a u64 length so close to 2^64
   * that aligning it wraps (`lenWraps`).
   */
  private pageAlign(len: number, lenWraps: boolean): number {
    const ps = this.host.pageSize;
    return lenWraps ? 0 : Math.ceil(len / ps) * ps;
  }

  /**
   * The heap's allocate op, behind the fault-injection site: where Linux's fault-injection
   * framework would ask should_fail() for this call, an injected failure returns before the heap
   * runs (no pages, no fd), and a delivered signal is seen by the heap.
   * @kernel drivers/dma-buf/dma-heap.c dma_heap_buffer_alloc; lib/fault-inject.c should_fail
   */
  private allocAligned(heap: DmaHeap, len: number, fdFlags: number, heapFlags: bigint, proc: Process | null): KResult<DmaBuf> {
    const injected = this.host.allocFault?.(heap, proc) ?? 0;
    if (injected < 0) return injected;
    const buf = heap.ops.allocate!(heap, len, fdFlags, heapFlags, proc);
    if (typeof buf === 'number') return buf;
    heap.refs++;
    buf.heap = heap;
    return buf;
  }

  /** The chardev open: ENODEV for a minor without a heap (or a heap being removed). */
  open(heap: DmaHeap, flags: number): File | number {
    if (heap.dying || this.minors.get(heap.minor) !== heap) {
      this.host.log(`dma_heap: minor ${heap.minor} unknown.`);
      return -E.ENODEV;
    }
    heap.refs++;
    // nonseekable_open(): no FMODE_LSEEK/PREAD/PWRITE
    return new File(this.fops, heap.inode, flags, openFmode(flags) | FMODE_OPENED, `/dev/dma_heap/${heap.devName}`, DEVTMPFS_MNT_ID, heap);
  }

  /**
   * The heap ioctl. Only the nr is checked against the command table (nr ≥ 1 → EINVAL, the type
   * byte is ignored); the user's size decides how much is copied in and out; the kernel buffer is
   * at least the kernel struct and zero-filled past what was copied in; the copy-out happens
   * whatever the allocation returned, and a copy-out fault overrides the result: the new fd stays
   * installed, unless the host publishes it only after the copy-out (heapFdAfterCopyOut), when
   * the fd is never seen and the buffer goes.
   * @kernel drivers/dma-buf/dma-heap.c dma_heap_ioctl, dma_heap_ioctl_allocate
   */
  private ioctl(f: File, proc: Process, ucmd: number, arg: number): number {
    const heap = f.priv as DmaHeap;
    const nr = _IOC_NR(ucmd);
    if (nr >= 1) return -E.EINVAL;
    const kcmd = DMA_HEAP_IOCTL_ALLOC;
    let inSize = _IOC_SIZE(ucmd);
    let outSize = inSize;
    const drvSize = _IOC_SIZE(kcmd);
    if (((ucmd & kcmd & IOC_IN) >>> 0) === 0) inSize = 0;
    if (((ucmd & kcmd & IOC_OUT) >>> 0) === 0) outSize = 0;
    // with the charge_pid_fd RFC the kernel's struct (and command) is 32 bytes: a shorter user
    // struct reads charge_pid_fd as 0 from the zero-filled tail
    const ksize = Math.max(inSize, outSize, this.host.dmabufCharging ? DMA_HEAP_ALLOCATION_DATA_PIDFD_SIZE : drvSize);
    let kdata = this.stackKdata;
    let dv = this.stackView;
    if (ksize > kdata.length) {
      kdata = new Uint8Array(ksize);
      dv = new DataView(kdata.buffer);
    }
    if (inSize > 0 && proc.mm.copyFromUser(arg, inSize, kdata.subarray(0, inSize)) === null) return -E.EFAULT;
    kdata.fill(0, inSize, ksize);
    let ret = this.ioctlAllocate(heap, proc, dv);
    if (outSize > 0 && !proc.mm.copyToUser(arg, kdata.subarray(0, outSize))) {
      // reserve fd, copy out, then install: the reserved fd is put back with the buffer
      if (ret === 0 && this.host.heapFdAfterCopyOut === true) proc.close(dv.getUint32(8, true));
      ret = -E.EFAULT;
    }
    return ret;
  }

  /**
   * dma_heap_ioctl_allocate(): fd must be 0 on input; fd_flags, heap_flags; (charge_pid_fd RFC)
   * a non-zero charge_pid_fd is resolved with pidfd_get_task() — EBADF for a bad fd or a file
   * that is not a pidfd, ESRCH for a process that is gone — before dma_heap_buffer_alloc()
   * checks the length; PAGE_ALIGN(len) == 0 → EINVAL; the heap; (RFC) the memcg charge of the
   * buffer's pages to the pidfd's process or, with mem_accounting, the caller (ENOMEM: the
   * buffer is released); the new fd is written back. `__padding` is not checked.
   * @kernel drivers/dma-buf/dma-heap.c dma_heap_ioctl_allocate, dma_heap_buffer_alloc (charge_pid_fd RFC, May 2026)
   */
  private ioctlAllocate(heap: DmaHeap, proc: Process, dv: DataView): number {
    if (dv.getUint32(8, true) !== 0) return -E.EINVAL;
    const lo = dv.getUint32(0, true);
    const hi = dv.getUint32(4, true);
    const fdFlags = dv.getUint32(12, true);
    const heapFlagsSet = dv.getUint32(16, true) !== 0 || dv.getUint32(20, true) !== 0;
    const checked = this.flagChecks(fdFlags, heapFlagsSet);
    if (checked < 0) return checked;
    const charging = this.host.dmabufCharging ?? null;
    let chargeTo: Process | null = null;
    if (charging !== null) {
      const pidfd = dv.getInt32(24, true);
      if (pidfd !== 0) {
        const task = charging.pidfdTask(proc, pidfd);
        if (typeof task === 'number') return task;
        chargeTo = task;
      }
    }
    const wraps = hi === 0xffffffff && lo > 0x100000000 - this.host.pageSize;
    const aligned = this.pageAlign(hi * 0x100000000 + lo, wraps);
    if (aligned === 0) return -E.EINVAL;
    const buf = this.allocAligned(heap, aligned, fdFlags, 0n, proc);
    if (typeof buf === 'number') return buf;
    if (charging !== null) {
      const uncharge = charging.charge(proc, chargeTo, aligned / this.host.pageSize);
      if (typeof uncharge === 'number') {
        this.host.dmaBuf.put(buf);
        return uncharge;
      }
      if (uncharge !== null) this.memcgCharges.set(buf, uncharge);
    }
    const fd = this.host.dmaBuf.fd(buf, proc, fdFlags);
    if (fd < 0) {
      this.host.dmaBuf.put(buf); // the release op frees the memory
      return fd;
    }
    dv.setUint32(8, fd, true);
    return 0;
  }
}

/** sysfs_streq(): equal, ignoring one trailing newline on either string (lib/string.c). */
export function sysfsStreq(a: string, b: string): boolean {
  const ta = a.endsWith('\n') ? a.slice(0, -1) : a;
  const tb = b.endsWith('\n') ? b.slice(0, -1) : b;
  return ta === tb;
}
