/**
 * /dev/udmabuf: dma-bufs made of the pages of sealed memfds, as in Linux 6.1. The buffer holds
 * a reference on each memfd page it covers, so its pages ARE the memfd's pages: what is written
 * through one is read through the other, and the pages outlive the memfd until the buffer goes.
 *
 * @kernel drivers/dma-buf/udmabuf.c
 */
import { Errno } from '../../uapi/errno.js';
import { F_SEAL_FUTURE_WRITE, F_SEAL_SHRINK, F_SEAL_WRITE } from '../../uapi/fcntl.js';
import type { FcntlConstants } from '../../uapi/fcntl.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST, UDMABUF_FLAGS_CLOEXEC } from '../../uapi/udmabuf.js';
import { File, FMODE_OPENED, mkdev, openFmode } from '../fs/file.js';
import type { FileOperations, Inode } from '../fs/file.js';
import { VM_MAYSHARE, VM_SHARED } from '../fs/mm-user.js';
import type { Vma } from '../fs/mm-user.js';
import type { Process } from '../fs/process.js';
import { DEVTMPFS_DEV, DEVTMPFS_MNT_ID } from '../dma-heap/dma-heap.js';
import { memfdGetSeals } from '../mm/memfd.js';
import type { ShmemFs, ShmemInode, ShmemPage } from '../mm/shmem.js';
import type { DmaBuf, DmaBufCore, DmaBufOps, SgEntry } from './dma-buf.js';
import type { PageRef } from '../fs/mm-user.js';
import type { KResult } from '../result.js';
import type { Device } from '../dev/device.js';
import type { BufferPages } from '../dev/cache.js';
import { dmaMapSgtable, dmaUnmapSgtable } from '../dev/dma-mapping.js';

const E = Errno;

/** MISC_MAJOR (include/uapi/linux/major.h). */
export const MISC_MAJOR = 10;
/**
 * udmabuf registers with MISC_DYNAMIC_MINOR: dynamic minors are handed out from 127 downwards in
 * registration order (drivers/char/misc.c misc_register), so the number depends on the other
 * misc drivers of the kernel; 125 is a common value on distribution kernels.
 */
export const UDMABUF_MINOR = 125;
/** Inode number of the device node on devtmpfs (the heap nodes have 100 + minor). */
const UDMABUF_NODE_INO = 90;

/** Module parameter defaults: list_limit (items of a CREATE_LIST) and size_limit_mb. */
export const UDMABUF_LIST_LIMIT = 1024;
export const UDMABUF_SIZE_LIMIT_MB = 64;

/** sizeof(struct udmabuf_create) = sizeof(struct udmabuf_create_item); the list header is 8. */
const ITEM_SIZE = 24;
const LIST_HEAD_SIZE = 8;

/** struct udmabuf (the exporter's buffer). */
/**
 * struct udmabuf: the memfd's pages, which the DMA layer and the cache model reach as a
 * buffer's pages (BufferPages).
 */
class Udmabuf implements BufferPages {
  /** ubuf->sg: made by the first begin_cpu_access. */
  sg = false;
  constructor(
    readonly shm: ShmemPage[],
    readonly pageSize: number,
    private readonly shmem: ShmemFs,
  ) {}
  get pages(): number {
    return this.shm.length;
  }
  pfnOf(page: number): number {
    return this.shm[page]!.run.pfn;
  }
  page(page: number, write: boolean): PageRef | null {
    const p = this.shm[page];
    return p === undefined ? null : this.shmem.pageRef(p, write);
  }
}

/** Per attachment: the table get_sg_table() built for the importing device. */
interface UdmabufAttachment {
  readonly table: SgEntry[];
  readonly dev: Device | null;
}

/** One memfd range of a create request; u64 values split in 32-bit halves. */
interface Item {
  readonly memfd: number;
  readonly offsetLo: number;
  readonly offsetHi: number;
  readonly sizeLo: number;
  readonly sizeHi: number;
}

export interface UdmabufHost {
  readonly pageSize: number;
  readonly fc: FcntlConstants;
  readonly dmaBuf: DmaBufCore;
  readonly shmem: ShmemFs;
  /** The size_limit_mb parameter's default (Profile.udmabufSizeLimitMb; UDMABUF_SIZE_LIMIT_MB). */
  readonly sizeLimitMb?: number;
  /** The device's misc minor (Profile.udmabufMinor; UDMABUF_MINOR). */
  readonly minor?: number;
  /** Profile.udmabufRangeEinval: memfd_pin_folios() refuses a negative start or end (EINVAL). */
  readonly rangeEinval?: boolean;
}

export class UdmabufDevice {
  readonly inode: Inode;
  readonly fops: FileOperations;
  private readonly ops: DmaBufOps;

  constructor(readonly host: UdmabufHost) {
    this.inode = { ino: UDMABUF_NODE_INO, mode: 0o020600, uid: 0, gid: 0, rdev: mkdev(MISC_MAJOR, host.minor ?? UDMABUF_MINOR), dev: DEVTMPFS_DEV, size: 0 };
    // udmabuf_fops: unlocked_ioctl only (no llseek, read, write or mmap)
    this.fops = { ioctl: (_f, proc, cmd, arg) => this.ioctl(proc, cmd, arg) };
    this.ops = this.makeOps();
  }

  /** misc_open(): the device has no open op of its own, so every open succeeds. */
  open(flags: number): File {
    return new File(this.fops, this.inode, flags, openFmode(flags) | FMODE_OPENED, '/dev/udmabuf', DEVTMPFS_MNT_ID, this);
  }

  /**
   * The ioctl: exact command numbers; anything else is ENOTTY. UDMABUF_CREATE copies the 24-byte
   * struct (EFAULT); UDMABUF_CREATE_LIST copies the 8-byte header (EFAULT), refuses more than
   * list_limit items (EINVAL) and copies the items that follow it (EFAULT).
   * @kernel drivers/dma-buf/udmabuf.c udmabuf_ioctl, udmabuf_ioctl_create, udmabuf_ioctl_create_list
   */
  private ioctl(proc: Process, cmd: number, arg: number): number {
    switch (cmd) {
      case UDMABUF_CREATE: {
        const b = proc.mm.copyFromUser(arg, ITEM_SIZE);
        if (b === null) return -E.EFAULT;
        const dv = new DataView(b.buffer, b.byteOffset, ITEM_SIZE);
        // struct udmabuf_create: memfd, flags, offset, size
        const item: Item = { memfd: dv.getUint32(0, true), offsetLo: dv.getUint32(8, true), offsetHi: dv.getUint32(12, true), sizeLo: dv.getUint32(16, true), sizeHi: dv.getUint32(20, true) };
        return this.create(proc, dv.getUint32(4, true), [item]);
      }
      case UDMABUF_CREATE_LIST: {
        const h = proc.mm.copyFromUser(arg, LIST_HEAD_SIZE);
        if (h === null) return -E.EFAULT;
        const hv = new DataView(h.buffer, h.byteOffset, LIST_HEAD_SIZE);
        const flags = hv.getUint32(0, true);
        const count = hv.getUint32(4, true);
        if (count > UDMABUF_LIST_LIMIT) return -E.EINVAL;
        const l = proc.mm.copyFromUser(arg + LIST_HEAD_SIZE, ITEM_SIZE * count);
        if (l === null) return -E.EFAULT;
        const lv = new DataView(l.buffer, l.byteOffset, l.byteLength);
        const items: Item[] = [];
        for (let i = 0; i < count; i++) {
          // struct udmabuf_create_item: memfd, __pad (ignored), offset, size
          const o = i * ITEM_SIZE;
          items.push({ memfd: lv.getUint32(o, true), offsetLo: lv.getUint32(o + 8, true), offsetHi: lv.getUint32(o + 12, true), sizeLo: lv.getUint32(o + 16, true), sizeHi: lv.getUint32(o + 20, true) });
        }
        return this.create(proc, flags, items);
      }
      default:
        return -E.ENOTTY;
    }
  }

  /**
   * udmabuf_create(), in the kernel's order:
   * 1. every item: offset not page aligned → EINVAL; size not page aligned → EINVAL; the running
   *    page total above size_limit_mb → EINVAL (so an early oversized item wins over a later
   *    misaligned one);
   * 2. a page total of 0 → EINVAL;
   * 3. every item: the memfd not an open fd → EBADFD; not a shmem file → EBADFD; its seals
   *    lacking F_SEAL_SHRINK or holding F_SEAL_WRITE or F_SEAL_FUTURE_WRITE → EINVAL (the
   *    future-write check is a later fix that the oracle's 6.1.192 stable has); then each page by
   *    shmem_read_mapping_page() (a page at or past the memfd's size → EINVAL, past
   *    MAX_LFS_FILESIZE → EFBIG, no memory → ENOMEM), each with a reference the buffer keeps;
   * 4. dma_buf_export() (exp_name "udmabuf", always O_RDWR), then dma_buf_fd() with O_CLOEXEC
   *    iff UDMABUF_FLAGS_CLOEXEC; the fd is the ioctl's result.
   * The flags are never validated: unknown bits are ignored. If dma_buf_fd() fails (EMFILE), the
   * buffer is put again (its release drops the page references) and the error returned: 6.1.0
   * leaked it, but the fix ("udmabuf: fix memory leak on last export_udmabuf() error path") is in
   * the 6.1.192 stable kernel, and in 6.12.118 and 7.3 (observed on the oracles: nothing left in
   * bufinfo after the EMFILE).
   * @kernel drivers/dma-buf/udmabuf.c udmabuf_create, export_udmabuf
   */
  private create(proc: Process, flags: number, items: readonly Item[]): number {
    const { pageSize: ps, shmem, dmaBuf, fc } = this.host;
    const pglimit = ((this.host.sizeLimitMb ?? UDMABUF_SIZE_LIMIT_MB) * 1024 * 1024) / ps;
    // ps divides 2^32: the low half decides alignment, and a u64 in pages is exact below 2^53
    const pagesOf = (lo: number, hi: number): number => hi * (0x100000000 / ps) + lo / ps;
    let pagecount = 0;
    for (const it of items) {
      if (it.offsetLo % ps !== 0) return -E.EINVAL;
      if (it.sizeLo % ps !== 0) return -E.EINVAL;
      pagecount += pagesOf(it.sizeLo, it.sizeHi);
      if (pagecount > pglimit) return -E.EINVAL;
    }
    if (pagecount === 0) return -E.EINVAL;
    const pages: ShmemPage[] = [];
    const fail = (err: number): number => {
      while (pages.length > 0) shmem.putPage(pages.pop()!);
      return err;
    };
    for (const it of items) {
      const memfd = proc.file(it.memfd);
      if (memfd === null) return fail(-E.EBADFD);
      if (!shmem.isShmemFile(memfd)) return fail(-E.EBADFD);
      const seals = memfdGetSeals(shmem, memfd);
      if (seals === -E.EINVAL) return fail(-E.EBADFD);
      if ((seals & F_SEAL_SHRINK) === 0 || (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) return fail(-E.EINVAL);
      const inode = memfd.inode as ShmemInode;
      const pgoff = pagesOf(it.offsetLo, it.offsetHi);
      const pgcnt = pagesOf(it.sizeLo, it.sizeHi);
      // 6.12 on: memfd_pin_folios(memfd, offset, offset + size - 1) takes loff_t bounds and refuses
      // a negative start or end with EINVAL, before any page lookup (the 6.12 and 7.3 referees)
      if (this.host.rangeEinval === true && (it.offsetHi >= 0x80000000 || pagesOf(it.offsetLo, it.offsetHi) + pgcnt > 2 ** 63 / ps)) return fail(-E.EINVAL);
      for (let i = 0; i < pgcnt; i++) {
        const page = shmem.readMappingPage(inode, pgoff + i);
        if (typeof page === 'number') return fail(page);
        pages.push(page);
      }
    }
    const ubuf = new Udmabuf(pages, ps, this.host.shmem);
    const buf = dmaBuf.export({ expName: 'udmabuf', ops: this.ops, size: pagecount * ps, flags: fc.O_RDWR, priv: ubuf });
    if (typeof buf === 'number') return fail(buf);
    const fd = dmaBuf.fd(buf, proc, (flags & UDMABUF_FLAGS_CLOEXEC) !== 0 ? fc.O_CLOEXEC : 0);
    if (fd < 0) dmaBuf.put(buf);
    return fd;
  }

  /** udmabuf_ops */
  private makeOps(): DmaBufOps {
    const { pageSize: ps, shmem } = this.host;
    const ubufOf = (buf: DmaBuf): Udmabuf => buf.priv as Udmabuf;
    return {
      attach: (_buf, att) => {
        att.priv = { table: sgTableOf(ubufOf(att.dmabuf), ps), dev: att.device ?? null } satisfies UdmabufAttachment;
        return 0;
      },
      /**
       * map_udmabuf() → get_sg_table(): the pages as an sg table (sg_alloc_table_from_pages()
       * merges contiguous ones), DMA-mapped for the importing device; a mapping error is returned.
       */
      mapDmaBuf: (att, dir): KResult<SgEntry[]> => {
        // get_sg_table() builds the table at map time; attach only prepares it
        const a = (att.priv as UdmabufAttachment | null) ?? (att.priv = { table: sgTableOf(ubufOf(att.dmabuf), ps), dev: att.device ?? null } satisfies UdmabufAttachment);
        const r = dmaMapSgtable(a.dev, a.table, dir, ubufOf(att.dmabuf));
        return typeof r === 'number' ? r : a.table;
      },
      /** unmap_udmabuf(): dma_unmap_sgtable(). */
      unmapDmaBuf: (att, sgt, dir) => dmaUnmapSgtable((att.priv as UdmabufAttachment | null)?.dev ?? null, sgt, dir),
      /** release_udmabuf(): every page reference goes. */
      release: (buf) => {
        for (const p of ubufOf(buf).shm) shmem.putPage(p);
      },
      /** begin_cpu_udmabuf(): the first call makes the sg table. */
      beginCpuAccess: (buf) => {
        ubufOf(buf).sg = true;
        return 0;
      },
      /** end_cpu_udmabuf(): EINVAL until a begin made the sg table. */
      endCpuAccess: (buf) => (ubufOf(buf).sg ? 0 : -E.EINVAL),
      /**
       * mmap_udmabuf(): only a shared mapping (VM_SHARED or VM_MAYSHARE) → else EINVAL; the
       * fault handler hands out the buffer's pages (SIGBUS past the end).
       */
      mmap: (buf: DmaBuf, vma: Vma): number => {
        if ((vma.vmFlags & (VM_SHARED | VM_MAYSHARE)) === 0) return -E.EINVAL;
        const ubuf = ubufOf(buf);
        vma.pages = (index, write) => ubuf.page(index, write);
        // the pages are the memfd's: shmem pages in the RSS (mm_counter_file)
        vma.rssShmem = true;
        return 0;
      },
      /** vmap_udmabuf(): vm_map_ram() of the pages. */
      vmap: (buf) => ({ vaddr: ubufOf(buf) }),
      vunmap: () => undefined,
    };
  }
}

/** The buffer's pages as an sg table, physically contiguous pages merged into one entry. */
function sgTableOf(ubuf: Udmabuf, ps: number): SgEntry[] {
  const out: { pfn: number; length: number }[] = [];
  for (let i = 0; i < ubuf.pages; i++) {
    const pfn = ubuf.pfnOf(i);
    const last = out[out.length - 1];
    if (last !== undefined && last.pfn + last.length / ps === pfn) last.length += ps;
    else out.push({ pfn, length: ps });
  }
  return out;
}
