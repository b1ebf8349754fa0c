/**
 * The dma-buf core as heap buffers see it: export, the dma-buf file and its operations, the
 * global buffer list, references and release order, SYNC, SET_NAME, the sync-file ioctls, mmap
 * bounds, llseek, poll, vmap counting, fdinfo, debugfs bufinfo and the sysfs stats directory.
 *
 * @kernel drivers/dma-buf/dma-buf.c
 */
import { Errno } from '../../uapi/errno.js';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_NAME_LEN,
  DMA_BUF_SET_NAME_A, DMA_BUF_SET_NAME_B, DMA_BUF_SYNC_END, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_VALID_FLAGS_MASK,
  DMA_BUF_SYNC_WRITE,
} from '../../uapi/dma-buf.js';
import { POLLIN, POLLOUT, SEEK_END, SEEK_SET } from '../../uapi/fcntl.js';
import type { FcntlConstants } from '../../uapi/fcntl.js';
import { File, FMODE_LSEEK, FMODE_NONOTIFY, FMODE_OPENED, FMODE_READ, openFmode } from '../fs/file.js';
import type { FileOperations, Inode, PollWaiter } from '../fs/file.js';
import type { Process } from '../fs/process.js';
import type { Vma } from '../fs/mm-user.js';
import type { KResult } from '../result.js';
import { bytesStr } from '../bytes.js';
import { KernelEvents } from '../events.js';
import type { Device } from '../dev/device.js';

const E = Errno;

/** enum dma_data_direction (include/linux/dma-direction.h). */
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export type DmaDirection = 0 | 1 | 2;

/** A scatter-gather entry as an importer sees it. */
export interface SgEntry {
  readonly pfn: number;
  /** bytes */
  readonly length: number;
}

/**
 * struct dma_buf_attach_ops: what a dynamic importer gives dma_buf_dynamic_attach().
 * move_notify is required (the kernel WARNs and returns EINVAL without it).
 */
export interface DmaBufAttachOps {
  /** The importer can handle peer-to-peer (PCI P2P) memory. */
  readonly allowPeer2peer?: boolean;
  /** The exporter is about to move the buffer: mappings must be rebuilt. */
  readonly moveNotify?: (att: DmaBufAttachment) => void;
}

/** struct dma_buf_attachment */
export interface DmaBufAttachment {
  readonly dmabuf: DmaBuf;
  /** dev_name() of the importing device (bufinfo's "Attached Devices"). */
  readonly dev: string;
  /** The exporter's per-attachment data. */
  priv: unknown;
  /** The importing device, or null/absent for an attachment made with a bare name (no DMA mapping). */
  readonly device?: Device | null;
  /** Dynamic importers only (dma_buf_attachment_is_dynamic()). */
  readonly importerOps?: DmaBufAttachOps | null;
  importerPriv?: unknown;
  peer2peer?: boolean;
  /** The mapping the core cached at dynamic attach (≤6.14, importer and exporter of different kinds). */
  sgt?: SgEntry[] | null;
  dir?: DmaDirection | null;
}

/** struct dma_buf_ops. map, unmap and release are required (dma_buf_export checks them). */
export interface DmaBufOps {
  readonly attach?: (buf: DmaBuf, att: DmaBufAttachment) => number;
  readonly detach?: (buf: DmaBuf, att: DmaBufAttachment) => void;
  readonly pin?: (att: DmaBufAttachment) => number;
  readonly unpin?: (att: DmaBufAttachment) => void;
  readonly mapDmaBuf?: (att: DmaBufAttachment, dir: DmaDirection) => KResult<SgEntry[]>;
  readonly unmapDmaBuf?: (att: DmaBufAttachment, sgt: SgEntry[], dir: DmaDirection) => void;
  readonly release?: (buf: DmaBuf) => void;
  readonly beginCpuAccess?: (buf: DmaBuf, dir: DmaDirection) => number;
  readonly endCpuAccess?: (buf: DmaBuf, dir: DmaDirection) => number;
  readonly mmap?: (buf: DmaBuf, vma: Vma) => number;
  readonly vmap?: (buf: DmaBuf) => KResult<object>;
  readonly vunmap?: (buf: DmaBuf, map: object) => void;
}

/** struct dma_buf_export_info */
export interface DmaBufExportInfo {
  readonly expName: string;
  readonly ops: DmaBufOps;
  /** bytes */
  readonly size: number;
  /** fd flags of the request (access mode, O_CLOEXEC) */
  readonly flags: number;
  readonly priv: unknown;
}

/** A fence in the buffer's reservation object; every emulated fence is signalled. */
interface ResvFence {
  usage: 'write' | 'read';
}

export class DmaBuf {
  /** The exporter's buffer (struct dma_buf::priv). */
  readonly priv: unknown;
  /** Set once the file exists (export creates it). */
  file!: File;
  name: string | null = null;
  vmapCount = 0;
  vmapPtr: object | null = null;
  private atts: DmaBufAttachment[] | null = null;
  fence: ResvFence | null = null;
  /** The heap that allocated the buffer (a live buffer pins its heap); see DmaBufHost.releaseHook. */
  heap: unknown = null;
  constructor(
    readonly core: DmaBufCore,
    readonly ops: DmaBufOps,
    readonly size: number,
    readonly expName: string,
    readonly ino: number,
    priv: unknown,
  ) {
    this.priv = priv;
  }

  /** The attachment list (created on first use: most buffers are never attached). */
  get attachments(): DmaBufAttachment[] {
    return (this.atts ??= []);
  }
}

/** What the dma-buf core needs from the kernel instance. */
export interface DmaBufHost {
  readonly pageSize: number;
  readonly fc: FcntlConstants;
  /** CONFIG_DMABUF_SYSFS_STATS in this profile. */
  readonly sysfsStats: boolean;
  /** ≤~5.15: SET_NAME refused while attached. */
  readonly setNameBusyWhenAttached: boolean;
  /** Called after the exporter's release of a buffer whose `heap` is set (drops the heap's reference). */
  releaseHook?: (buf: DmaBuf) => void;
  /**
   * ≤6.14: dma_buf_dynamic_attach() maps at once (DMA_BIDIRECTIONAL) and caches the table when
   * the importer is dynamic and the exporter is not, or the other way round; 6.15 stopped it
   * ("dma-buf: stop mapping sg_tables on attach"). Default false.
   */
  readonly mapOnDynamicAttach?: boolean;
  /** ≥6.14: the pseudo file gets FMODE_NONOTIFY (Profile.fmodeNoNotify). Default false. */
  readonly fmodeNoNotify?: boolean;
  /** CONFIG_DMABUF_MOVE_NOTIFY (experimental, default n). */
  readonly moveNotify?: boolean;
  /** The dmabuf pseudo file system is noexec (init_pseudo() sets SB_I_NOEXEC after 7.0): no PROT_EXEC mapping. */
  readonly noexec?: boolean;
  /** debugfs bufinfo has the name heading and `<none>` (Profile.bufinfoNameColumn). Default true. */
  readonly bufinfoNameColumn?: boolean;
  /** v6.0: DMA_BUF_IOCTL_EXPORT_SYNC_FILE / IMPORT_SYNC_FILE exist (Profile.syncFileIoctls). Default true. */
  readonly syncFileIoctls?: boolean;
  /** dma_buf_poll() wakes its waiters when no fence is pending (Profile.dmaBufPollWakes). Default true. */
  readonly pollWakes?: boolean;
  /**
   * get_next_ino(), when buffers take their inode numbers from the counter other pseudo inodes
   * share (Profile.dmabufOwnIno false); absent: the dma-buf core's own counter.
   */
  readonly nextIno?: () => number;
}

/** Mount id and st_dev (0:7) of the internal dmabuf pseudo file system, as the 6.1 oracle shows. */
export const DMABUF_MNT_ID = 8;
export const DMABUF_DEV = 7;
/** The anon_inode file system holding sync_files (6.1 oracle: mnt_id 11, st_dev 0:10, one shared inode 12). */
export const ANON_INODE_MNT_ID = 11;
export const ANON_INODE_DEV = 10;
export const ANON_INODE_INO = 12;

export class DmaBufCore {
  /** db_list: every exported buffer, oldest first (debugfs prints newest first). */
  readonly list = new Set<DmaBuf>();
  /** dmabuf_inode counter: the first buffer after boot gets 1. */
  private lastIno = 0;
  readonly fops: FileOperations;
  private readonly syncFileFops: FileOperations;
  private syncFileInode: Inode | null = null;

  /** What happens to buffers, for observers (sanitizer, cache model, tools). */
  readonly events = new KernelEvents();

  constructor(readonly host: DmaBufHost) {
    this.fops = {
      llseek: (f, off, whence) => this.llseek(f, off, whence),
      ioctl: (f, p, cmd, arg) => this.ioctl(f, p, cmd, arg),
      mmap: (f, vma) => this.mmapInternal(f.priv as DmaBuf, vma),
      poll: (f, events, waiter) => this.poll(f.priv as DmaBuf, events, waiter),
      release: (f) => this.release(f.priv as DmaBuf),
      showFdinfo: (f) => this.showFdinfo(f),
      noexec: host.noexec === true,
    };
    this.syncFileFops = {
      // a stub fence is signalled: POLLIN at once (drivers/dma-buf/sync_file.c sync_file_poll)
      poll: (_f, events) => events & POLLIN,
    };
  }

  /**
   * dma_buf_export(): checks the required ops, then creates the buffer and its file.
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_export
   */
  export(info: DmaBufExportInfo): KResult<DmaBuf> {
    const ops = info.ops;
    if (info.priv == null || ops.mapDmaBuf === undefined || ops.unmapDmaBuf === undefined || ops.release === undefined) return -E.EINVAL;
    if ((ops.pin === undefined) !== (ops.unpin === undefined)) return -E.EINVAL;
    if (this.host.sysfsStats && !info.expName) return -E.EINVAL;
    const fc = this.host.fc;
    // dma_buf_getfile(): the core's own counter, or (v5.10) alloc_anon_inode()'s get_next_ino()
    const ino = this.host.nextIno !== undefined ? this.host.nextIno() : ++this.lastIno;
    const buf = new DmaBuf(this, ops, info.size, info.expName, ino, info.priv);
    const inode: Inode = { ino: buf.ino, mode: 0o600, uid: 0, gid: 0, rdev: 0, dev: DMABUF_DEV, size: info.size };
    const fflags = info.flags & (fc.O_ACCMODE | fc.O_NONBLOCK);
    // alloc_file_pseudo(): from v6.14 pseudo files do not generate fsnotify events (FMODE_NONOTIFY)
    const nonotify = this.host.fmodeNoNotify === true ? FMODE_NONOTIFY : 0;
    buf.file = new File(this.fops, inode, fflags, openFmode(fflags) | FMODE_LSEEK | FMODE_OPENED | nonotify, dmabufPath, DMABUF_MNT_ID, buf);
    this.list.add(buf);
    if (this.events.has('export')) this.events.emit('export', { buf, pid: null });
    return buf;
  }

  /** dma_buf_fd(): installs the buffer's file in `proc` (EMFILE when the table is full). */
  fd(buf: DmaBuf, proc: Process, flags: number): number {
    return proc.installFd(buf.file, (flags & this.host.fc.O_CLOEXEC) !== 0);
  }

  /** dma_buf_get(): EBADF for a bad fd, EINVAL for a file that is not a dma-buf. Takes a reference. */
  get(proc: Process, fd: number): KResult<DmaBuf> {
    const f = proc.file(fd);
    if (f === null) return -E.EBADF;
    if (f.fop !== this.fops) return -E.EINVAL;
    f.get();
    return f.priv as DmaBuf;
  }

  /** dma_buf_put() */
  put(buf: DmaBuf): void {
    buf.file.put();
  }

  /**
   * Last reference gone: remove from the list, then the exporter frees the memory.
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_file_release, dma_buf_release
   */
  private release(buf: DmaBuf): void {
    this.list.delete(buf);
    if (this.events.has('release')) this.events.emit('release', { buf });
    if (buf.vmapCount > 0) {
      // the kernel BUG()s here; a faithful crash is not useful in an emulator: tear it down
      buf.vmapCount = 0;
      if (buf.vmapPtr !== null) buf.ops.vunmap?.(buf, buf.vmapPtr);
      buf.vmapPtr = null;
    }
    buf.ops.release!(buf);
    if (buf.heap !== null) this.host.releaseHook?.(buf);
  }

  /** @kernel drivers/dma-buf/dma-buf.c dma_buf_llseek */
  private llseek(f: File, offset: number, whence: number): number {
    const buf = f.priv as DmaBuf;
    let base: number;
    if (whence === SEEK_END) base = buf.size;
    else if (whence === SEEK_SET) base = 0;
    else return -E.EINVAL;
    if (offset !== 0) return -E.EINVAL;
    return base;
  }

  /**
   * No fence is ever pending, so each requested direction is ready at once, and the poll wakes
   * its waiters for it (dma_buf_poll_cb() called directly): an epoll item is back on the ready
   * list after every harvest, edge-triggered or not (the referees').
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_poll, dma_buf_poll_cb
   */
  private poll(_buf: DmaBuf, events: number, waiter?: PollWaiter): number {
    const ready = events & (POLLIN | POLLOUT);
    // before the rework (the 5.10 referee) the ready events are returned without a wake-up, so
    // an edge-triggered epoll item is reported once
    if (this.host.pollWakes === false) return ready;
    if ((ready & POLLOUT) !== 0) waiter?.wake(POLLOUT);
    if ((ready & POLLIN) !== 0) waiter?.wake(POLLIN);
    return ready;
  }

  /** The anon_inode file system's one shared inode (anon_inode_inode): sync_files, epoll instances. */
  anonInode(): Inode {
    this.syncFileInode ??= { ino: ANON_INODE_INO, mode: 0o600, uid: 0, gid: 0, rdev: 0, dev: ANON_INODE_DEV, size: 0 };
    return this.syncFileInode;
  }

  /**
   * dma_buf_mmap_internal(): exporter without mmap → EINVAL; the requested pages must lie in the
   * buffer → EINVAL; then the exporter's mmap.
   */
  private mmapInternal(buf: DmaBuf, vma: Vma): number {
    if (buf.ops.mmap === undefined) return -E.EINVAL;
    const ps = this.host.pageSize;
    if (vma.pgoff + vma.length / ps > buf.size / ps) return -E.EINVAL;
    const r = buf.ops.mmap(buf, vma);
    if (r >= 0) {
      // CPU loads and stores through this mapping are events for observers (sanitizer, cache model)
      vma.onAccess = (v, pid, offInVma, length, write) => {
        if (this.events.has('cpuAccess')) this.events.emit('cpuAccess', { buf, pid, offset: v.pgoff * ps + offInVma, length, write });
      };
    }
    return r;
  }

  /** @kernel drivers/dma-buf/dma-buf.c dma_buf_ioctl (exact command matching; others ENOTTY) */
  private ioctl(f: File, proc: Process, cmd: number, arg: number): number {
    const buf = f.priv as DmaBuf;
    switch (cmd) {
      case DMA_BUF_IOCTL_SYNC: {
        const b = proc.mm.copyFromUser(arg, 8);
        if (b === null) return -E.EFAULT;
        const dv = new DataView(b.buffer, b.byteOffset, 8);
        const lo = dv.getUint32(0, true);
        const hi = dv.getUint32(4, true);
        if (hi !== 0 || (lo & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) !== 0) return -E.EINVAL;
        let dir: DmaDirection;
        switch (lo & DMA_BUF_SYNC_RW) {
          case 1: dir = DMA_FROM_DEVICE; break;
          case 2: dir = DMA_TO_DEVICE; break;
          case 3: dir = DMA_BIDIRECTIONAL; break;
          default: return -E.EINVAL;
        }
        return (lo & DMA_BUF_SYNC_END) !== 0 ? this.endCpuAccess(buf, dir, proc.pid) : this.beginCpuAccess(buf, dir, proc.pid);
      }
      case DMA_BUF_SET_NAME_A:
      case DMA_BUF_SET_NAME_B:
        return this.setName(buf, proc, arg);
      // v6.0: before, no such command (ENOTTY: the 5.10 referee)
      case DMA_BUF_IOCTL_EXPORT_SYNC_FILE:
        return this.host.syncFileIoctls === false ? -E.ENOTTY : this.exportSyncFile(buf, proc, arg);
      case DMA_BUF_IOCTL_IMPORT_SYNC_FILE:
        return this.host.syncFileIoctls === false ? -E.ENOTTY : this.importSyncFile(buf, proc, arg);
      default:
        return -E.ENOTTY;
    }
  }

  /** dma_buf_begin_cpu_access(): the exporter, then the (always signalled) implicit fences. */
  beginCpuAccess(buf: DmaBuf, dir: DmaDirection, pid: number | null = null): number {
    const r = buf.ops.beginCpuAccess ? buf.ops.beginCpuAccess(buf, dir) : 0;
    if (r === 0 && this.events.has('sync')) this.events.emit('sync', { buf, pid, dir, end: false });
    return r;
  }

  /** dma_buf_end_cpu_access() */
  endCpuAccess(buf: DmaBuf, dir: DmaDirection, pid: number | null = null): number {
    const r = buf.ops.endCpuAccess ? buf.ops.endCpuAccess(buf, dir) : 0;
    if (r === 0 && this.events.has('sync')) this.events.emit('sync', { buf, pid, dir, end: true });
    return r;
  }

  /**
   * DMA_BUF_SET_NAME: strndup_user(arg, DMA_BUF_NAME_LEN): a fault is EFAULT, a string of 32 or
   * more bytes is EINVAL; the last name set wins; an empty name is kept as "".
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_set_name; mm/util.c strndup_user
   */
  private setName(buf: DmaBuf, proc: Process, arg: number): number {
    const s = proc.mm.strncpyFromUser(arg, DMA_BUF_NAME_LEN);
    if (s === null) return -E.EFAULT;
    if (!s.terminated) return -E.EINVAL;
    if (this.host.setNameBusyWhenAttached && buf.attachments.length > 0) return -E.EBUSY;
    buf.name = bytesStr(s.bytes);
    return 0;
  }

  /** @kernel drivers/dma-buf/dma-buf.c dma_buf_export_sync_file */
  private exportSyncFile(_buf: DmaBuf, proc: Process, arg: number): number {
    const b = proc.mm.copyFromUser(arg, 8);
    if (b === null) return -E.EFAULT;
    const dv = new DataView(b.buffer, b.byteOffset, 8);
    const flags = dv.getUint32(0, true);
    if ((flags & ~DMA_BUF_SYNC_RW) !== 0 || (flags & DMA_BUF_SYNC_RW) === 0) return -E.EINVAL;
    const fd = proc.reserveFd();
    if (fd < 0) return fd;
    const file = this.newSyncFile();
    dv.setInt32(4, fd, true);
    if (!proc.mm.copyToUser(arg, b)) {
      file.put();
      return -E.EFAULT;
    }
    return proc.installFd(file, true) >= 0 ? 0 : -E.EMFILE;
  }

  /** @kernel drivers/dma-buf/dma-buf.c dma_buf_import_sync_file */
  private importSyncFile(buf: DmaBuf, proc: Process, arg: number): number {
    const b = proc.mm.copyFromUser(arg, 8);
    if (b === null) return -E.EFAULT;
    const dv = new DataView(b.buffer, b.byteOffset, 8);
    const flags = dv.getUint32(0, true);
    if ((flags & ~DMA_BUF_SYNC_RW) !== 0 || (flags & DMA_BUF_SYNC_RW) === 0) return -E.EINVAL;
    const sf = proc.file(dv.getInt32(4, true));
    if (sf === null || sf.fop !== this.syncFileFops) return -E.EINVAL;
    // dma_resv_add_fence replaces a signalled fence, so a buffer keeps at most one stub fence
    buf.fence = { usage: (flags & DMA_BUF_SYNC_WRITE) !== 0 ? 'write' : 'read' };
    return 0;
  }

  /** A sync_file holding the signalled stub fence (dma_fence_get_stub). */
  private newSyncFile(): File {
    // anon_inode_getfile("sync_file", ..., 0): O_RDONLY (drivers/dma-buf/sync_file.c sync_file_alloc)
    return new File(this.syncFileFops, this.anonInode(), this.host.fc.O_RDONLY, FMODE_READ | FMODE_OPENED, 'anon_inode:sync_file', ANON_INODE_MNT_ID, null);
  }

  /** dma_buf_vmap(): the exporter is called on 0 → 1 only; later calls return the same mapping. */
  vmap(buf: DmaBuf): KResult<object> {
    if (buf.ops.vmap === undefined) return -E.EINVAL;
    if (buf.vmapCount > 0) {
      buf.vmapCount++;
      return buf.vmapPtr!;
    }
    const r = buf.ops.vmap(buf);
    if (typeof r === 'number') return r;
    buf.vmapPtr = r;
    buf.vmapCount = 1;
    return r;
  }

  /** dma_buf_vunmap(): the exporter is called on 1 → 0. */
  vunmap(buf: DmaBuf): void {
    if (buf.vmapCount === 0) return;
    if (--buf.vmapCount === 0) {
      buf.ops.vunmap?.(buf, buf.vmapPtr!);
      buf.vmapPtr = null;
    }
  }

  /** dma_buf_attach(): dma_buf_dynamic_attach() without importer ops (a static importer). */
  attach(buf: DmaBuf, dev: string | Device): KResult<DmaBufAttachment> {
    return this.dynamicAttach(buf, dev, null, null);
  }

  /**
   * dma_buf_dynamic_attach(): importer ops without move_notify → EINVAL; the exporter's attach
   * may refuse; the attachment goes to the head of the buffer's list (list_add, so bufinfo
   * lists the newest first). ≤6.14, when exactly one of importer and exporter is dynamic, the
   * core pins (dynamic exporter) and maps DMA_BIDIRECTIONAL at once and caches the table; a
   * failure detaches again and returns the error.
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_dynamic_attach
   */
  dynamicAttach(buf: DmaBuf, dev: string | Device, importerOps: DmaBufAttachOps | null, importerPriv: unknown): KResult<DmaBufAttachment> {
    if (importerOps !== null && importerOps.moveNotify === undefined) return -E.EINVAL;
    const device = typeof dev === 'string' ? null : dev;
    const att: DmaBufAttachment = {
      dmabuf: buf,
      dev: typeof dev === 'string' ? dev : dev.devName,
      priv: null,
      device,
      importerOps,
      importerPriv,
      peer2peer: importerOps?.allowPeer2peer ?? false,
      sgt: null,
      dir: null,
    };
    const r = buf.ops.attach ? buf.ops.attach(buf, att) : 0;
    if (r < 0) return r;
    buf.attachments.unshift(att);
    if (this.events.has('attach')) this.events.emit('attach', { att });
    if (this.host.mapOnDynamicAttach === true && isDynamicAttachment(att) !== isDynamicBuf(buf)) {
      if (isDynamicBuf(buf)) {
        const pr = buf.ops.pin!(att);
        if (pr < 0) {
          this.detach(att);
          return pr;
        }
      }
      const sgt = this.mapDmaBuf(att, DMA_BIDIRECTIONAL);
      if (typeof sgt === 'number') {
        if (isDynamicBuf(buf)) buf.ops.unpin!(att);
        this.detach(att);
        return sgt;
      }
      att.sgt = sgt;
      att.dir = DMA_BIDIRECTIONAL;
    }
    return att;
  }

  /** __map_dma_buf(): the exporter's map; static importers would wait for kernel fences (all signalled). */
  private mapDmaBuf(att: DmaBufAttachment, dir: DmaDirection): KResult<SgEntry[]> {
    const r = att.dmabuf.ops.mapDmaBuf!(att, dir);
    if (typeof r !== 'number' && this.events.has('map')) this.events.emit('map', { att, dir });
    return r;
  }

  /** Whether dma_buf_map_attachment() pins first (≥6.15 dma_buf_pin_on_map(); ≤6.14 a dynamic exporter without move notify). */
  private pinOnMap(att: DmaBufAttachment): boolean {
    const buf = att.dmabuf;
    if (this.host.mapOnDynamicAttach === true) return isDynamicBuf(buf) && this.host.moveNotify !== true;
    return buf.ops.pin !== undefined && (!isDynamicAttachment(att) || this.host.moveNotify !== true);
  }

  /**
   * dma_buf_map_attachment(): ≤6.14 a cached table is returned again (EBUSY when asked for
   * another direction than the cached one, unless that is DMA_BIDIRECTIONAL); pin when
   * pinOnMap(); the exporter's map (a NULL table would be ENOMEM); a failure unpins. No heap
   * has pin/unpin, so heap buffers are never pinned: a dynamic importer of a heap buffer gets
   * the static behaviour.
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_map_attachment, dma_buf_pin_on_map
   */
  mapAttachment(att: DmaBufAttachment, dir: DmaDirection): KResult<SgEntry[]> {
    if (att.sgt !== undefined && att.sgt !== null) {
      if (att.dir !== dir && att.dir !== DMA_BIDIRECTIONAL) return -E.EBUSY;
      return att.sgt;
    }
    const pin = this.pinOnMap(att);
    if (pin) {
      const r = att.dmabuf.ops.pin!(att);
      if (r < 0) return r;
    }
    const sgt = this.mapDmaBuf(att, dir);
    if (typeof sgt === 'number' && pin) att.dmabuf.ops.unpin!(att);
    return sgt;
  }

  /**
   * dma_buf_unmap_attachment(): the cached table is left alone (detach unmaps it); otherwise the
   * exporter's unmap, then unpin when map pinned.
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_unmap_attachment
   */
  unmapAttachment(att: DmaBufAttachment, sgt: SgEntry[], dir: DmaDirection): void {
    if (att.sgt === sgt) return;
    att.dmabuf.ops.unmapDmaBuf!(att, sgt, dir);
    if (this.events.has('unmap')) this.events.emit('unmap', { att, dir });
    if (this.pinOnMap(att)) att.dmabuf.ops.unpin!(att);
  }

  /** dma_buf_pin(): dynamic importers only (the kernel WARNs otherwise); the exporter's pin, if any. */
  pin(att: DmaBufAttachment): number {
    return att.dmabuf.ops.pin ? att.dmabuf.ops.pin(att) : 0;
  }

  /** dma_buf_unpin() */
  unpin(att: DmaBufAttachment): void {
    att.dmabuf.ops.unpin?.(att);
  }

  /** dma_buf_move_notify(): every dynamic importer is told to rebuild its mappings. */
  moveNotify(buf: DmaBuf): void {
    for (const a of [...buf.attachments]) a.importerOps?.moveNotify?.(a);
  }

  /**
   * dma_buf_detach(): ≤6.14 a cached table is unmapped first (and unpinned for a dynamic
   * exporter); the attachment leaves the list and the exporter's detach runs. A table the
   * importer mapped and never unmapped stays mapped (the exporter frees its copy: a leak, as in
   * Linux).
   * @kernel drivers/dma-buf/dma-buf.c dma_buf_detach
   */
  detach(att: DmaBufAttachment): void {
    const buf = att.dmabuf;
    if (att.sgt !== undefined && att.sgt !== null) {
      buf.ops.unmapDmaBuf!(att, att.sgt, att.dir ?? DMA_BIDIRECTIONAL);
      if (this.events.has('unmap')) this.events.emit('unmap', { att, dir: att.dir ?? DMA_BIDIRECTIONAL });
      if (isDynamicBuf(buf)) buf.ops.unpin!(att);
      att.sgt = null;
    }
    const list = buf.attachments;
    const i = list.indexOf(att);
    if (i >= 0) list.splice(i, 1);
    buf.ops.detach?.(buf, att);
    if (this.events.has('detach')) this.events.emit('detach', { att });
  }

  /** fdinfo lines @kernel drivers/dma-buf/dma-buf.c dma_buf_show_fdinfo */
  private showFdinfo(f: File): string {
    const buf = f.priv as DmaBuf;
    let s = `size:\t${buf.size}\ncount:\t${f.count}\nexp_name:\t${buf.expName}\n`;
    if (buf.name !== null) s += `name:\t${buf.name}\n`;
    return s;
  }

  /** A buffer by inode number (sysfs stats directory lookup). */
  byIno(ino: number): DmaBuf | null {
    for (const b of this.list) if (b.ino === ino) return b;
    return null;
  }
}

/** dma_buf_attachment_is_dynamic() */
export function isDynamicAttachment(att: DmaBufAttachment): boolean {
  return att.importerOps !== undefined && att.importerOps !== null;
}

/** dma_buf_is_dynamic(): the exporter has pin/unpin. */
export function isDynamicBuf(buf: DmaBuf): boolean {
  return buf.ops.pin !== undefined;
}

/** d_dname of a dma-buf: "/dmabuf:" and the name (drivers/dma-buf/dma-buf.c dmabuffs_dname). */
function dmabufPath(f: File): string {
  return `/dmabuf:${(f.priv as DmaBuf).name ?? ''}`;
}
