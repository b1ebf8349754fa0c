/**
 * /proc/<pid>/pagemap: one little-endian 64-bit entry per virtual page of the process, read at
 * file offset (vaddr / PAGE_SIZE) * 8. Entry bits (Documentation/admin-guide/mm/pagemap.rst):
 *
 * | bits | meaning |
 * | --- | --- |
 * | 0-54 | page frame number when present (0 unless the opener had CAP_SYS_ADMIN) |
 * | 55 | soft-dirty (the PTE, or the whole VMA while it has VM_SOFTDIRTY) |
 * | 56 | page exclusively mapped (page_mapcount() == 1) |
 * | 61 | file page or shared anonymous page |
 * | 62 | swapped (never: nothing is swapped here) |
 * | 63 | present |
 *
 * What the walk sees, per VMA:
 * - a `VM_PFNMAP` VMA is not walked at all: walk_page_test() hands it to the pte_hole callback,
 *   so every page reads as "not present" (soft-dirty only) although its PFNs are mapped. That is
 *   every remap_pfn_range() mapping (system heap, coherent heap) and every vmf_insert_pfn()
 *   mapping (CMA heap from 6.8, profile `cmaMmapPfn`);
 * - a file VMA with page-backed faults (CMA heap before 6.8, udmabuf, memfd): present once the
 *   page was faulted in (Vma.populated), with the page's PFN, the file bit, and "exclusive" when
 *   no other PTE maps the same page; a copy-on-write copy is an anonymous page;
 * - anonymous memory: present once written (shared anonymous memory: once touched), with the
 *   page's PFN (anonymous pages come from the page allocator), the file bit for shared
 *   anonymous memory, and "exclusive" unless another PTE maps the page too (a fork shares
 *   private pages copy-on-write until one side writes). A load from never-written private
 *   anonymous memory maps the shared zero page in Linux (present, zero page's PFN); the emulator
 *   does not record such loads, so those pages read as not present.
 *
 * @kernel fs/proc/task_mmu.c pagemap_read, pagemap_pmd_range, pte_to_pagemap_entry, pagemap_pte_hole;
 *   mm/pagewalk.c walk_page_test; mm/mmap.c mmap_region (VM_SOFTDIRTY on every new VMA)
 */
import { Errno } from '../../uapi/errno.js';
import type { Arch } from '../../uapi/fcntl.js';
import { SEEK_CUR, SEEK_SET } from '../../uapi/fcntl.js';
import type { DmaBuf } from '../dma-buf/dma-buf.js';
import type { BufferPages } from '../dev/cache.js';
import { ShmemInode } from '../mm/shmem.js';
import type { File, FileOperations } from './file.js';
import { taskSize } from './limits.js';
import { VM_PFNMAP, VM_SHARED } from './mm-user.js';
import type { AddressSpace } from './mm-user.js';
import type { Process } from './process.js';

const E = Errno;

/** PM_ENTRY_BYTES */
export const PM_ENTRY_BYTES = 8;
export const PM_PFRAME_MASK = (1n << 55n) - 1n;
export const PM_SOFT_DIRTY = 1n << 55n;
export const PM_MMAP_EXCLUSIVE = 1n << 56n;
export const PM_UFFD_WP = 1n << 57n;
export const PM_FILE = 1n << 61n;
export const PM_SWAP = 1n << 62n;
export const PM_PRESENT = 1n << 63n;

/** What the pagemap file needs from the kernel instance. */
export interface PagemapHost {
  readonly pageSize: number;
  readonly arch: Arch;
  /** The dma-buf file operations (a mapping of a dma-buf: its exporter's pages). */
  readonly dmaBufFops: FileOperations;
  /** The shmem (memfd) file operations. */
  readonly shmemFops: FileOperations;
  /** Every live process (page_mapcount() counts the PTEs of all of them). */
  processes(): Iterable<Process>;
}

/** The open pagemap file: the target's mm and whether the opener may see PFNs. */
export interface PagemapFile {
  readonly proc: Process;
  /** file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN): root here. */
  readonly showPfn: boolean;
}

/**
 * CONFIG_MEM_SOFT_DIRTY: x86-64 distribution kernels enable it (it needs HAVE_ARCH_SOFT_DIRTY
 * and CHECKPOINT_RESTORE); arm64 has no soft-dirty PTE bit, so VM_SOFTDIRTY is 0 there.
 */
export function hasSoftDirty(arch: Arch): boolean {
  return arch === 'x86_64';
}

/**
 * The physical page under file page `index` of `file`, or null when the emulator cannot tell:
 * a dma-buf's pages (BufferPages: the heaps' page runs, a udmabuf's memfd pages), a memfd's page cache.
 */
export function filePfn(host: PagemapHost, file: File, index: number): number | null {
  if (file.fop === host.dmaBufFops) {
    // every exporter's buffer exposes its pages as BufferPages (heaps' PagedBuffer, udmabuf)
    const mem = (file.priv as DmaBuf).priv as Partial<BufferPages> | null;
    if (mem === null || typeof mem.pfnOf !== 'function' || typeof mem.pages !== 'number') return null;
    return index >= 0 && index < mem.pages ? mem.pfnOf(index) : null;
  }
  if (file.fop === host.shmemFops && file.inode instanceof ShmemInode) return file.inode.pages.get(index)?.run.pfn ?? null;
  return null;
}

/** page_mapcount() of every page mapped by a page-backed file PTE: PFN → number of PTEs. */
function mapcounts(host: PagemapHost): Map<number, number> {
  const ps = host.pageSize;
  const counts = new Map<number, number>();
  for (const p of host.processes()) {
    for (const v of p.mm.vmas) {
      if (v.file === null || v.populated === null || (v.vmFlags & VM_PFNMAP) !== 0) continue;
      for (const i of v.populated) {
        // a page copied on write is mapped by its anonymous copy instead
        if (p.mm.pte.has(v.start / ps + i)) continue;
        const pfn = filePfn(host, v.file, v.pgoff + i);
        if (pfn !== null) counts.set(pfn, (counts.get(pfn) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/** The entry of the page at `addr` in `mm` (lazily computed mapcounts). */
function entryAt(host: PagemapHost, mm: AddressSpace, addr: number, showPfn: boolean, counts: () => Map<number, number>): bigint {
  const vma = mm.find(addr);
  // a hole between VMAs: not present, no flags (a mirrored process's own memory: the host's entry)
  if (vma === null) return mm.foreignPagemapEntry(addr) ?? 0n;
  // mmap_region() gives every new VMA VM_SOFTDIRTY (when the kernel has soft-dirty tracking)
  const sd = hasSoftDirty(host.arch) ? PM_SOFT_DIRTY : 0n;
  // walk_page_test(): a VM_PFNMAP VMA is handed to pagemap_pte_hole(), never walked
  if ((vma.vmFlags & VM_PFNMAP) !== 0) return sd;
  const idx = Math.floor((addr - vma.start) / host.pageSize);
  const frame = (pfn: number | null): bigint => (showPfn && pfn !== null ? BigInt(pfn) & PM_PFRAME_MASK : 0n);
  // an anonymous page of a private VMA (anonymous memory, or a copy of a private file page)
  const anon = (vma.vmFlags & VM_SHARED) === 0 ? mm.pte.get(vma.start / host.pageSize + idx) : undefined;
  if (anon !== undefined) return PM_PRESENT | (anon.mapcount === 1 ? PM_MMAP_EXCLUSIVE : 0n) | sd | frame(anon.pfn);
  // the shared zero page (a load from never-written private anonymous memory): present, but
  // vm_normal_page() gives no page, so neither PM_FILE nor PM_MMAP_EXCLUSIVE (its PFN is not modelled)
  if (vma.file === null && vma.shm === null && mm.zeroPtes.has(vma.start / host.pageSize + idx)) return PM_PRESENT | sd;
  if (vma.shm !== null) {
    // a shmem page of shared anonymous memory
    const pg = vma.populated?.has(idx) === true ? vma.shm.pages.get(vma.pgoff + idx) : undefined;
    if (pg === undefined) return sd;
    return PM_PRESENT | PM_FILE | (pg.mapcount === 1 ? PM_MMAP_EXCLUSIVE : 0n) | sd | frame(pg.pfn);
  }
  // a mirrored process's mapping of an emulated file (`dmaheap run`) is faulted in on the host
  const faulted = vma.populated?.has(idx) === true || (vma.file !== null && ((mm.foreignPagemapEntry(addr) ?? 0n) & PM_PRESENT) !== 0n);
  if (!faulted || vma.file === null) return sd;
  const pfn = filePfn(host, vma.file, vma.pgoff + idx);
  // vm_normal_page() finds a page that is not PageAnon: PM_FILE; page_mapcount() == 1: exclusive
  const exclusive = pfn !== null && counts().get(pfn) === 1 ? PM_MMAP_EXCLUSIVE : 0n;
  return PM_PRESENT | PM_FILE | exclusive | sd | frame(pfn);
}

/** Positions are f_pos; a negative one reads as beyond the address space (an unsigned long). */
function read(host: PagemapHost, f: File, out: Uint8Array): number {
  const st = f.priv as PagemapFile;
  // mmget_not_zero() fails once the process is gone: nothing to read
  if (!st.proc.alive) return 0;
  const pos = f.pos;
  if (pos % PM_ENTRY_BYTES !== 0 || out.length % PM_ENTRY_BYTES !== 0) return -E.EINVAL;
  if (out.length === 0) return 0;
  const ps = host.pageSize;
  const end = taskSize(host.arch, ps);
  const start = pos < 0 ? end : Math.min((pos / PM_ENTRY_BYTES) * ps, end);
  const n = Math.min(out.length / PM_ENTRY_BYTES, Math.max(0, Math.ceil((end - start) / ps)));
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let counts: Map<number, number> | null = null;
  const lazy = (): Map<number, number> => (counts ??= mapcounts(host));
  for (let i = 0; i < n; i++) dv.setBigUint64(i * PM_ENTRY_BYTES, entryAt(host, st.proc.mm, start + i * ps, st.showPfn, lazy), true);
  f.pos += n * PM_ENTRY_BYTES;
  return n * PM_ENTRY_BYTES;
}

/**
 * The file operations of /proc/<pid>/pagemap: pagemap_read (a fault while copying to the
 * reader's buffer fails the read with EFAULT and leaves the position) and mem_lseek (SEEK_SET and
 * SEEK_CUR only, any position, no EOF check).
 * @kernel fs/proc/task_mmu.c proc_pagemap_operations; fs/proc/base.c mem_lseek
 */
export function pagemapFops(host: PagemapHost): FileOperations {
  return {
    read: (f, out) => read(host, f, out),
    readFaultFails: true,
    llseek: (f, off, whence) => {
      if (whence === SEEK_SET) f.pos = off;
      else if (whence === SEEK_CUR) f.pos += off;
      else return -E.EINVAL;
      return f.pos;
    },
  };
}
