/**
 * The kernel's internal tmpfs mount (shm_mnt), which holds the files memfd_create() makes:
 * unlinked regular files whose pages come from the page allocator one at a time, when first
 * needed, and whose bytes are backed lazily like every other page ({@link PageRun}). A page
 * is counted (`refs`) by the page cache and by every driver that pinned it (udmabuf), so a
 * pinned page outlives its file, as a struct page with an elevated refcount does.
 *
 * @kernel mm/shmem.c
 */
import { Errno } from '../../uapi/errno.js';
import type { FcntlConstants } from '../../uapi/fcntl.js';
import { F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../../uapi/fcntl.js';
import { File, FMODE_CAN_ODIRECT, FMODE_CAN_READ, FMODE_CAN_WRITE, FMODE_LSEEK, FMODE_OPENED, FMODE_PREAD, FMODE_PWRITE, openFmode } from '../fs/file.js';
import type { FileOperations, Inode, UserSource } from '../fs/file.js';
import { EMULATED_MAXBYTES } from '../fs/limits.js';
import { VM_MAYWRITE, VM_SHARED, VM_WRITE } from '../fs/mm-user.js';
import type { PageRef, Vma } from '../fs/mm-user.js';
import type { KResult } from '../result.js';
import type { InodeOperations } from '../fs/vfs.js';
import { PageRun } from './backing.js';
import type { BackingStats } from './backing.js';
import type { BuddyAllocator } from './buddy.js';

const E = Errno;

/**
 * st_dev and mount id of the internal tmpfs mount. A memfd's /proc/<pid>/maps line shows device
 * 00:01 on common x86-64 kernels; the oracle has not shown either value.
 */
export const SHMEM_DEV = 1;
export const SHMEM_MNT_ID = 1;
/**
 * MAX_LFS_FILESIZE (include/linux/fs.h): tmpfs's s_maxbytes on 64-bit, 2^63 - 1. The emulated
 * mount's s_maxbytes is {@link SHMEM_MAXBYTES} instead.
 */
export const MAX_LFS_FILESIZE = 2 ** 63 - 1;
/**
 * The emulated tmpfs's s_maxbytes: 2^53 - 1, the largest size and position a JS number holds
 * exactly (docs/fidelity.md, `file-size-limit`). Sizes, positions and writes are checked against
 * it as Linux checks them against MAX_LFS_FILESIZE: ftruncate past it → EFBIG, lseek past it →
 * EINVAL, a write starting at it → EFBIG and one crossing it is cut short.
 */
export const SHMEM_MAXBYTES = EMULATED_MAXBYTES;

/** A page of a shmem file: the page cache holds one reference, each pin (udmabuf) another. */
export class ShmemPage {
  refs = 1;
  constructor(readonly run: PageRun) {}
}

/** A tmpfs inode (struct shmem_inode_info with its struct inode). */
export class ShmemInode implements Inode {
  readonly rdev = 0;
  readonly dev = SHMEM_DEV;
  /** clear_nlink() in __shmem_file_setup: the file was never linked into a directory. */
  readonly nlink = 0;
  size = 0;
  /** shmem_get_inode() starts every file with F_SEAL_SEAL; memfd_create() may clear it. */
  seals = F_SEAL_SEAL;
  /** The page cache: page index → page. */
  readonly pages = new Map<number, ShmemPage>();
  mmapWritable = 0;
  /** Open files (struct file) on the inode; the last one to go evicts it. */
  files = 0;
  /** i_op/i_fop: an open(2) through /proc/<pid>/fd/<n> makes another file on the inode (set by the mount). */
  op: InodeOperations = {};
  constructor(
    readonly ino: number,
    public mode: number,
    public uid: number,
    public gid: number,
    private readonly pageSize: number,
  ) {}

  /** i_blocks: the pages allocated, in 512-byte units (a sparse file has few). */
  get blocks(): number {
    return (this.pages.size * this.pageSize) / 512;
  }
}

/** What the tmpfs mount needs from the kernel instance. */
export interface ShmemHost {
  readonly pageSize: number;
  readonly fc: FcntlConstants;
  readonly buddy: BuddyAllocator;
  readonly backing: BackingStats;
  readonly zeroPage: Uint8Array;
  /** v6.14: a write's page is allocated (and seals checked) before the user's bytes are touched (Profile.writeBeginBeforeFault). */
  readonly writeBeginBeforeFault?: boolean;
  /** v6.6: files opened through open(2) accept O_DIRECT (Profile.shmemDirectIo). */
  readonly shmemDirectIo?: boolean;
}

/** How a page is looked up (enum sgp_type, include/linux/shmem_fs.h). */
type Sgp = 'read' | 'cache' | 'write';

export class ShmemFs {
  readonly fops: FileOperations;
  /** get_next_ino(): inode numbers of the internal mount. */
  private lastIno = 1000;
  /** Pages allocated and not yet freed (page cache and pinned pages): /proc/meminfo Shmem. */
  pages = 0;

  constructor(readonly host: ShmemHost) {
    this.fops = {
      llseek: (f, off, whence) => this.llseek(f, off, whence),
      read: (f, out) => this.read(f, out),
      write: (f, src) => this.write(f, src),
      mmap: (f, vma) => this.mmap(f, vma),
      release: (f) => this.release(f.inode as ShmemInode),
      setattrSize: (f, size) => this.setattrSize(f.inode as ShmemInode, size),
      // noop_fsync
      fsync: () => 0,
      punchHole: (f, offset, len) => this.punchHole(f.inode as ShmemInode, offset, len),
      // shmem_file_operations.setlease = generic_setlease (v6.19; every file system took leases before)
      setlease: true,
    };
  }

  /** get_next_ino() on the internal mount (also the shmem file behind shared anonymous memory). */
  nextIno(): number {
    return ++this.lastIno;
  }

  /** True for a file of this mount (shmem_file() / shmem_mapping()). */
  isShmemFile(f: File): boolean {
    return f.fop === this.fops;
  }

  /**
   * shmem_file_setup(): a new unlinked regular file `name` (S_IFREG | 0777, owned by the caller)
   * opened O_RDWR. The path is "/<name> (deleted)": d_path() of an unhashed dentry on a mount
   * outside every namespace.
   * @kernel mm/shmem.c __shmem_file_setup, shmem_get_inode
   */
  fileSetup(name: string, uid: number, gid: number): File {
    const inode = new ShmemInode(++this.lastIno, 0o100777, uid, gid, this.host.pageSize);
    const fc = this.host.fc;
    const path = `/${name} (deleted)`;
    // another open file on the same inode (reopening through /proc/<pid>/fd/<n>): open(2) runs
    // shmem_file_open(), which from 6.6 marks the file FMODE_CAN_ODIRECT
    inode.op = { open: (_at, flags) => this.openInode(inode, flags, path, this.host.shmemDirectIo === true ? FMODE_CAN_ODIRECT : 0) };
    return this.openInode(inode, fc.O_RDWR, path);
  }

  /**
   * do_dentry_open(): regular files get FMODE_LSEEK, FMODE_PREAD and FMODE_PWRITE; read_iter
   * and write_iter make FMODE_CAN_READ and FMODE_CAN_WRITE.
   */
  private openInode(inode: ShmemInode, flags: number, path: string, extra = 0): File {
    inode.files++;
    const mode = openFmode(flags) | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE | FMODE_CAN_READ | FMODE_CAN_WRITE | FMODE_OPENED | extra;
    return new File(this.fops, inode, flags, mode, path, SHMEM_MNT_ID, null);
  }

  /**
   * shmem_get_folio_gfp(): an index past MAX_LFS_FILESIZE is EFBIG; a lookup for reading or for
   * the cache at or past i_size is EINVAL; an absent page reads as a hole (SGP_READ: null) or
   * is allocated (ENOMEM when the page allocator has nothing).
   */
  private getPage(inode: ShmemInode, index: number, sgp: Sgp): KResult<ShmemPage> | null {
    const ps = this.host.pageSize;
    // MAX_LFS_FILESIZE >> PAGE_SHIFT = 2^63 / PAGE_SIZE - 1 (exact, unlike 2^63 - 1 as a double);
    // a constant in shmem, not the mount's s_maxbytes
    if (index > 2 ** 63 / ps - 1) return -E.EFBIG;
    if (sgp !== 'write' && index * ps >= inode.size) return -E.EINVAL;
    const have = inode.pages.get(index);
    if (have !== undefined) return have;
    if (sgp === 'read') return null;
    const pfn = this.host.buddy.alloc(0);
    if (pfn < 0) return -E.ENOMEM;
    const page = new ShmemPage(new PageRun(pfn, 1, ps));
    inode.pages.set(index, page);
    this.pages++;
    return page;
  }

  /**
   * shmem_read_mapping_page(): the page at `index` (allocated if absent), with a reference for
   * the caller, who drops it with {@link putPage}.
   * @kernel mm/shmem.c shmem_read_mapping_page_gfp
   */
  readMappingPage(inode: ShmemInode, index: number): KResult<ShmemPage> {
    const p = this.getPage(inode, index, 'cache');
    if (p === null) return -E.EINVAL; // not reached: SGP_CACHE allocates
    if (typeof p !== 'number') p.refs++;
    return p;
  }

  /** put_page(): the last reference gives the page back to the page allocator. */
  putPage(page: ShmemPage): void {
    if (--page.refs > 0) return;
    page.run.drop(this.host.backing);
    this.host.buddy.free(page.run.pfn, 0);
    this.pages--;
  }

  /** A page as bytes for a mapping: a never-written page reads as the zero page. */
  pageRef(page: ShmemPage, write: boolean): PageRef {
    if (page.run.data === null && !write) return { data: this.host.zeroPage, off: 0 };
    return { data: page.run.materialize(this.host.backing), off: 0 };
  }

  /**
   * read(): bytes from f_pos up to i_size; holes read as zeros without allocating (SGP_READ).
   * @kernel mm/shmem.c shmem_file_read_iter
   */
  private read(f: File, out: Uint8Array): number {
    const inode = f.inode as ShmemInode;
    const ps = this.host.pageSize;
    const pos = f.pos;
    if (pos >= inode.size || out.length === 0) return 0;
    const end = Math.min(inode.size, pos + out.length);
    let at = pos;
    while (at < end) {
      const index = Math.floor(at / ps);
      const inPage = at - index * ps;
      const n = Math.min(end - at, ps - inPage);
      const data = inode.pages.get(index)?.run.data ?? null;
      if (data === null) out.fill(0, at - pos, at - pos + n);
      else out.set(data.subarray(inPage, inPage + n), at - pos);
      at += n;
    }
    f.pos = end;
    return end - pos;
  }

  /**
   * write(): O_APPEND starts at i_size; a start at s_maxbytes → EFBIG, and the count is cut to
   * end there (generic_write_checks); then page by page: the user's bytes for the page are
   * faulted in (none readable → EFAULT), shmem_write_begin() checks the seals (F_SEAL_WRITE or
   * F_SEAL_FUTURE_WRITE → EPERM; F_SEAL_GROW and a chunk ending past i_size → EPERM) and
   * allocates the page if absent, and the bytes that could be read are stored (a fault part way
   * stores the bytes before it). Before 6.14 the fault-in comes first; from 6.14 write_begin
   * does, so a sealed file refuses a bad buffer with EPERM and a buffer that faults leaves the
   * page allocated. A failure after some bytes were written returns the count. Memory follows
   * the pages written, whatever the count.
   * @kernel mm/filemap.c generic_perform_write; mm/shmem.c shmem_write_begin, shmem_write_end;
   * fs/read_write.c generic_write_checks
   */
  private write(f: File, src: UserSource): number {
    const inode = f.inode as ShmemInode;
    const ps = this.host.pageSize;
    if (src.length === 0) return 0;
    const pos = (f.flags & this.host.fc.O_APPEND) !== 0 ? inode.size : f.pos;
    if (pos >= SHMEM_MAXBYTES) return -E.EFBIG;
    const count = Math.min(src.length, SHMEM_MAXBYTES - pos);
    const bytes = new Uint8Array(Math.min(count, ps));
    const late = this.host.writeBeginBeforeFault === true;
    let done = 0;
    let err = 0;
    while (done < count) {
      const at = pos + done;
      const index = Math.floor(at / ps);
      const inPage = at - index * ps;
      const n = Math.min(count - done, ps - inPage);
      let got = late ? n : src.copy(done, bytes.subarray(0, n));
      if (got === 0) { err = -E.EFAULT; break; }
      if ((inode.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) { err = -E.EPERM; break; }
      if ((inode.seals & F_SEAL_GROW) !== 0 && at + n > inode.size) { err = -E.EPERM; break; }
      const page = this.getPage(inode, index, 'write');
      if (typeof page === 'number' || page === null) { err = typeof page === 'number' ? page : -E.ENOMEM; break; }
      if (late) {
        got = src.copy(done, bytes.subarray(0, n));
        if (got === 0) { err = -E.EFAULT; break; } // the page stays in the page cache
      }
      page.run.materialize(this.host.backing).set(bytes.subarray(0, got), inPage);
      done += got;
      if (at + got > inode.size) inode.size = at + got;
      if (got < n) break;
    }
    if (done === 0) return err;
    f.pos = pos + done;
    return done;
  }

  /**
   * lseek(): SEEK_SET/CUR/END within s_maxbytes (generic_file_llseek_size: a negative or too
   * large result is EINVAL, SEEK_CUR 0 returns f_pos); SEEK_DATA/SEEK_HOLE look at which pages
   * exist (mapping_seek_hole_data: from a negative offset or at or past i_size → ENXIO; a hole
   * runs to i_size). The search looks at the pages the file has, never at every page index up to
   * i_size: a sparse file of 2^44 bytes seeks as fast as a small one.
   * @kernel mm/shmem.c shmem_file_llseek; mm/filemap.c mapping_seek_hole_data; fs/read_write.c generic_file_llseek_size, vfs_setpos
   */
  private llseek(f: File, offset: number, whence: number): number {
    const inode = f.inode as ShmemInode;
    const setpos = (pos: number): number => {
      if (pos < 0 || pos > SHMEM_MAXBYTES) return -E.EINVAL;
      f.pos = pos;
      return pos;
    };
    switch (whence) {
      case SEEK_SET: return setpos(offset);
      case SEEK_CUR: return offset === 0 ? f.pos : setpos(f.pos + offset);
      case SEEK_END: return setpos(inode.size + offset);
      case SEEK_DATA:
      case SEEK_HOLE: {
        if (offset < 0 || offset >= inode.size) return -E.ENXIO;
        const ps = this.host.pageSize;
        const first = Math.floor(offset / ps);
        const last = Math.ceil(inode.size / ps); // page indices below it may hold data
        let index: number;
        if (whence === SEEK_DATA) {
          // the lowest page at or after `first`: one pass over the pages that exist
          index = last;
          for (const i of inode.pages.keys()) if (i >= first && i < index) index = i;
          if (index >= last) return -E.ENXIO;
        } else {
          // the first missing index at or after `first`: a run of existing pages at most
          index = first;
          while (index < last && inode.pages.has(index)) index++;
          if (index >= last) return setpos(inode.size);
        }
        return setpos(Math.min(inode.size, Math.max(offset, index * ps)));
      }
      default: return -E.EINVAL;
    }
  }

  /**
   * mmap(): F_SEAL_WRITE and F_SEAL_FUTURE_WRITE refuse a shared writable mapping (EPERM) and
   * take VM_MAYWRITE from a shared read-only one, which then does not count against the write
   * seal (seal_check_write, from the 6.7 rework; the oracle's 6.1.192 stable has it too); pages
   * are found by the fault handler, which allocates a missing page and gives SIGBUS at or past
   * i_size.
   * @kernel mm/shmem.c shmem_mmap, shmem_fault; include/linux/mm.h seal_check_write
   */
  private mmap(f: File, vma: Vma): number {
    const inode = f.inode as ShmemInode;
    if ((inode.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0 && (vma.vmFlags & VM_SHARED) !== 0) {
      if ((vma.vmFlags & VM_WRITE) !== 0) return -E.EPERM;
      vma.vmFlags &= ~VM_MAYWRITE;
    }
    // its mapped pages count as RssShmem
    vma.rssShmem = true;
    vma.pages = (index, write) => {
      const page = this.getPage(inode, index, 'cache');
      if (page === null || typeof page === 'number') return null;
      return this.pageRef(page, write);
    };
    // shmem_vm_ops.map_pages = filemap_map_pages: read faults map the cached neighbours too
    vma.cached = (index) => index < Math.ceil(inode.size / this.host.pageSize) && inode.pages.has(index);
    return 0;
  }

  /**
   * A size change: F_SEAL_SHRINK refuses shrinking and F_SEAL_GROW growing (EPERM); shrinking
   * drops the pages past the new end from the page cache (pinned ones live on with their pins)
   * and zeroes the tail of a partial last page.
   * @kernel mm/shmem.c shmem_setattr, shmem_truncate_range, shmem_undo_range
   */
  private setattrSize(inode: ShmemInode, size: number): number {
    const old = inode.size;
    // setattr_prepare() -> inode_newsize_ok(): growing past s_maxbytes → EFBIG, before the seals
    if (size > old && size > SHMEM_MAXBYTES) return -E.EFBIG;
    if ((size < old && (inode.seals & F_SEAL_SHRINK) !== 0) || (size > old && (inode.seals & F_SEAL_GROW) !== 0)) return -E.EPERM;
    inode.size = size;
    if (size < old) this.truncatePages(inode, size);
    return 0;
  }

  private truncatePages(inode: ShmemInode, size: number): void {
    const ps = this.host.pageSize;
    const keep = Math.ceil(size / ps);
    for (const [index, page] of inode.pages) {
      if (index < keep) continue;
      inode.pages.delete(index);
      this.putPage(page);
    }
    const partial = size % ps;
    if (partial !== 0) inode.pages.get(keep - 1)?.run.data?.fill(0, partial);
  }

  /**
   * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): the whole pages of [offset, offset +
   * len) leave the page cache (pinned ones live on with their pins), the partial ones at the
   * edges are zeroed there; a write seal refuses it (EPERM).
   * @kernel mm/shmem.c shmem_fallocate, shmem_truncate_range
   */
  private punchHole(inode: ShmemInode, offset: number, len: number): number {
    if ((inode.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) return -E.EPERM;
    const ps = this.host.pageSize;
    const end = Math.min(offset + len, inode.size);
    const first = Math.ceil(offset / ps);
    const last = Math.floor(end / ps);
    for (const [index, page] of [...inode.pages]) {
      if (index < first || index >= last) continue;
      inode.pages.delete(index);
      this.putPage(page);
    }
    if (offset % ps !== 0) inode.pages.get(first - 1)?.run.data?.fill(0, offset % ps, Math.min(ps, offset % ps + len));
    if (end % ps !== 0 && last >= first) inode.pages.get(last)?.run.data?.fill(0, 0, end % ps);
    return 0;
  }

  /** The last open file of an inode is gone: it is evicted and its pages freed (shmem_evict_inode). */
  private release(inode: ShmemInode): void {
    if (--inode.files > 0) return;
    for (const page of inode.pages.values()) this.putPage(page);
    inode.pages.clear();
  }
}
