/**
 * A process's user address space: VMAs holding anonymous memory or file mappings (dma-bufs), so
 * that syscall arguments live as bytes at user addresses and NULL or unmapped pointers give
 * EFAULT exactly where Linux's copy_from_user()/copy_to_user() would.
 *
 * @kernel mm/mmap.c (do_mmap, do_munmap, VMA splitting), include/linux/mm.h (vm_flags)
 */
import type { File } from './file.js';

/** vm_flags bits used here (include/linux/mm.h). */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_IO = 0x4000;
export const VM_DONTEXPAND = 0x40000;
export const VM_PFNMAP = 0x400;
export const VM_DONTDUMP = 0x4000000;

/** A page of memory as a view: `data[off .. off + pageSize)`. */
export interface PageRef {
  readonly data: Uint8Array;
  readonly off: number;
}

/**
 * How a file mapping finds its pages: the fault handler or the PFN remap a driver's mmap set up.
 * `filePage` is the page index within the file (vm_pgoff based). `write` asks for a page that may
 * be written (lazily backed memory is materialised); a read may get the shared zero page. Null
 * means no page there (SIGBUS).
 */
export type PageSource = (filePage: number, write: boolean) => PageRef | null;

export class Vma {
  /** Pages copied on write in a MAP_PRIVATE file mapping (index within the VMA). */
  cow: Map<number, Uint8Array> | null = null;
  /** Anonymous memory (MAP_ANONYMOUS), one array for the whole VMA. */
  anon: Uint8Array | null = null;
  /**
   * Per page of {@link anon}: 0 while no page is faulted in, else the id of the memcg the page
   * was charged to when it was (the page's memcg_data).
   */
  anonMemcg: Uint32Array | null = null;
  /** Set by the driver's mmap op. */
  pages: PageSource | null = null;
  /**
   * Page table entries of a file mapping, one byte per VMA page: 1 once the page is mapped (its
   * fault ran), 0 while the PTE is none. Read by /proc/<pid>/pagemap (fs/pagemap.ts).
   */
  populated: Uint8Array | null = null;
  /**
   * What /proc/<pid>/maps shows as the offset (in pages) when it is not vm_pgoff:
   * remap_pfn_range() of a copy-on-write mapping stores the first PFN there
   * (mm/memory.c remap_pfn_range_notrack). The pages are still found through `pgoff`.
   */
  mapsPgoff: number | null = null;
  /**
   * Called for each CPU load or store through this file mapping (byte offset in the VMA), for
   * observers; set by the dma-buf core. `pid` is the accessing process.
   */
  onAccess: ((vma: Vma, pid: number, offInVma: number, length: number, write: boolean) => void) | null = null;
  /** vm_ops->close, called once per VMA piece when unmapped. */
  onClose: ((vma: Vma) => void) | null = null;
  constructor(
    public start: number,
    public end: number,
    public vmFlags: number,
    public readonly file: File | null,
    /** vm_pgoff: the file page the VMA starts at. */
    public pgoff: number,
  ) {}

  get length(): number {
    return this.end - this.start;
  }
}

/**
 * How a user access fails: SIGSEGV (no mapping or no permission), SIGBUS (no page behind a
 * file mapping) or SIGKILL (the page could not be charged to the memory cgroup, whose OOM
 * killer then kills the faulting process).
 */
export type FaultKind = 'SIGSEGV' | 'SIGBUS' | 'SIGKILL';

/**
 * Charges anonymous pages to a memory cgroup when they are faulted in, for one process.
 * @kernel mm/memcontrol.c __mem_cgroup_charge, uncharge_folio
 */
export interface AnonCharger {
  /** Charges one new page to the process's memcg: the memcg's id (> 0), or 0 when over its memory.max. */
  charge(): number;
  /** Uncharges `pages` pages from the memcg with id `id` (the pages are freed). */
  uncharge(id: number, pages: number): void;
}

/**
 * Uncharges every faulted-in page of an anonymous VMA that is going away, from the memcg it was
 * charged to (unmapping frees the pages).
 * @kernel mm/memory.c zap_pte_range, mm/memcontrol.c uncharge_folio
 */
export function vmaUnchargeAnon(v: Vma, charger: AnonCharger | null): void {
  const ids = v.anonMemcg;
  if (ids === null || charger === null) return;
  let run = 0;
  let count = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id === 0) continue;
    if (id !== run) {
      if (count > 0) charger.uncharge(run, count);
      run = id;
      count = 0;
    }
    count++;
  }
  if (count > 0) charger.uncharge(run, count);
  ids.fill(0);
}

/**
 * A shared file VMA that may become writable (VM_SHARED and VM_MAYWRITE: vma_is_shared_maywrite)
 * counts in its file's i_mmap_writable while it is linked into the address space (made by mmap,
 * split off by munmap, copied by fork) and stops counting when it is unlinked. Only inodes that
 * track the count (shmem) are touched.
 * @kernel mm/mmap.c __vma_link_file, __remove_shared_vm_struct (6.7+, and 6.1.192 stable)
 */
export function vmaLinkFile(v: Vma): void {
  const inode = v.file?.inode;
  if (inode?.mmapWritable !== undefined && isSharedMaywrite(v.vmFlags)) inode.mmapWritable++;
}

/** The other half of {@link vmaLinkFile}: mapping_unmap_writable() when a shared VMA goes. */
export function vmaUnlinkFile(v: Vma): void {
  const inode = v.file?.inode;
  if (inode?.mmapWritable !== undefined && isSharedMaywrite(v.vmFlags)) inode.mmapWritable--;
}

/** is_shared_maywrite(): a shared mapping that is or may become writable. */
export function isSharedMaywrite(vmFlags: number): boolean {
  return (vmFlags & (VM_SHARED | VM_MAYWRITE)) === (VM_SHARED | VM_MAYWRITE);
}

/**
 * The address space (struct mm_struct). VMAs are kept sorted by start address, highest first,
 * because new mappings are placed top-down below the previous ones (mm/mmap.c
 * arch_get_unmapped_area_topdown) and appending is then O(1).
 */
export class AddressSpace {
  /** Sorted by `start`, descending. */
  readonly vmas: Vma[] = [];
  private nextTop: number;
  /** The process owning this address space (for access events). */
  ownerPid = 0;
  private last: Vma | null = null;
  /** Charges anonymous pages as they are faulted in (null: no memory cgroups). */
  charger: AnonCharger | null = null;

  constructor(
    readonly pageSize: number,
    /** Shared zero page for reads of never-written memory. */
    readonly zeroPage: Uint8Array,
    mmapBase = 0x7f0000000000,
  ) {
    this.nextTop = mmapBase;
  }

  /** find_vma(): the VMA containing `addr`, or null. */
  find(addr: number): Vma | null {
    const l = this.last;
    if (l !== null && addr >= l.start && addr < l.end) return l;
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = v[mid]!;
      if (addr >= m.end) hi = mid - 1;
      else if (addr < m.start) lo = mid + 1;
      else {
        this.last = m;
        return m;
      }
    }
    return null;
  }

  /** get_unmapped_area() for a new mapping of `length` bytes (page aligned). */
  unmappedArea(length: number): number {
    this.nextTop -= length + this.pageSize; // a guard gap keeps neighbours from merging visually
    return this.nextTop;
  }

  /** Inserts a VMA (the range must be free). */
  insert(vma: Vma): void {
    const v = this.vmas;
    // New mappings are normally the lowest: append. Otherwise keep the order.
    if (v.length === 0 || v[v.length - 1]!.start > vma.start) {
      v.push(vma);
      return;
    }
    let i = 0;
    while (i < v.length && v[i]!.start > vma.start) i++;
    v.splice(i, 0, vma);
  }

  /** True when no VMA overlaps [start, end). */
  isFree(start: number, end: number): boolean {
    for (const m of this.vmas) if (m.start < end && start < m.end) return false;
    return true;
  }

  /**
   * Removes [start, end) from the address space, splitting VMAs at the edges. Returns the removed
   * pieces (the caller closes them and drops their file references).
   * @kernel mm/mmap.c do_vmi_munmap / __split_vma
   */
  carve(start: number, end: number): { removed: Vma[]; added: Vma[] } {
    const removed: Vma[] = [];
    const added: Vma[] = [];
    const v = this.vmas;
    for (let i = 0; i < v.length; i++) {
      const m = v[i]!;
      if (m.end <= start || m.start >= end) continue;
      // the part of m outside [start, end) survives as new pieces
      if (m.start < start) added.push(this.slice(m, m.start, start));
      if (m.end > end) added.push(this.slice(m, end, m.end));
      removed.push(this.slice(m, Math.max(m.start, start), Math.min(m.end, end)));
      v.splice(i, 1);
      i--;
    }
    for (const a of added) {
      a.file?.get();
      vmaLinkFile(a);
      this.insert(a);
    }
    this.last = null;
    return { removed, added };
  }

  private slice(m: Vma, s: number, e: number): Vma {
    if (s === m.start && e === m.end) return m;
    const n = new Vma(s, e, m.vmFlags, m.file, m.pgoff + (s - m.start) / this.pageSize);
    n.pages = m.pages;
    n.onClose = m.onClose;
    n.onAccess = m.onAccess;
    if (m.mapsPgoff !== null) n.mapsPgoff = m.mapsPgoff + (s - m.start) / this.pageSize;
    if (m.anon !== null) n.anon = m.anon.subarray(s - m.start, e - m.start);
    if (m.anonMemcg !== null) n.anonMemcg = m.anonMemcg.subarray((s - m.start) / this.pageSize, (e - m.start) / this.pageSize);
    if (m.populated !== null) n.populated = m.populated.subarray((s - m.start) / this.pageSize, (e - m.start) / this.pageSize);
    if (m.cow !== null) {
      const first = (s - m.start) / this.pageSize;
      const npages = (e - s) / this.pageSize;
      n.cow = new Map();
      for (const [k, val] of m.cow) if (k >= first && k < first + npages) n.cow.set(k - first, val);
    }
    return n;
  }

  /**
   * Walks [addr, addr+len) page piece by piece. `write` selects the access; `user` selects the
   * permission rule: user accesses honour PROT_* (a fault is a signal), kernel copies (copy_*_user)
   * also honour them and turn faults into EFAULT. Returns null on success or the fault kind.
   */
  access(
    addr: number,
    len: number,
    write: boolean,
    visit: (data: Uint8Array, off: number, n: number, done: number) => void,
  ): FaultKind | null {
    const ps = this.pageSize;
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const vma = this.find(a);
      if (vma === null) return 'SIGSEGV';
      if (write ? (vma.vmFlags & VM_WRITE) === 0 : (vma.vmFlags & VM_READ) === 0) return 'SIGSEGV';
      const inVma = a - vma.start;
      if (vma.anon !== null) {
        const n = Math.min(len - done, vma.end - a);
        const ok = this.faultAnon(vma, inVma, n, write);
        if (ok > 0) visit(vma.anon, inVma, ok, done);
        done += ok;
        if (ok < n) return 'SIGKILL';
        continue;
      }
      const pageIdx = Math.floor(inVma / ps);
      const inPage = inVma - pageIdx * ps;
      const n = Math.min(len - done, ps - inPage);
      const ref = this.filePage(vma, pageIdx, write);
      if (ref === null) return 'SIGBUS';
      // observers (sanitizer, cache model) see the access before the bytes move
      if (vma.onAccess !== null) vma.onAccess(vma, this.ownerPid, inVma, n, write);
      visit(ref.data, ref.off + inPage, n, done);
      done += n;
    }
    return null;
  }

  /**
   * Faults in the anonymous pages under [off, off + n) of `vma` (offsets in the VMA) before an
   * access: a store, or any access to shared anonymous memory, allocates each page not yet
   * present and charges it to the memcg of the process. A load from private anonymous memory
   * maps the shared zero page and charges nothing (the bytes read are the same zeros). Returns
   * how many bytes from `off` can be accessed: fewer than `n` when a charge failed.
   * @kernel mm/memory.c do_anonymous_page (zero page for a read fault, mem_cgroup_charge for a write), mm/shmem.c shmem_fault
   */
  private faultAnon(vma: Vma, off: number, n: number, write: boolean): number {
    const ids = vma.anonMemcg;
    const charger = this.charger;
    if (ids === null || charger === null || n === 0) return n;
    if (!write && (vma.vmFlags & VM_SHARED) === 0) return n;
    const ps = this.pageSize;
    const last = Math.floor((off + n - 1) / ps);
    for (let p = Math.floor(off / ps); p <= last; p++) {
      if (ids[p] !== 0) continue;
      const id = charger.charge();
      if (id === 0) return Math.max(0, p * ps - off);
      ids[p] = id;
    }
    return n;
  }

  private filePage(vma: Vma, pageIdx: number, write: boolean): PageRef | null {
    const cow = vma.cow;
    if (cow !== null) {
      const c = cow.get(pageIdx);
      if (c !== undefined) return { data: c, off: 0 };
    }
    const src = vma.pages;
    if (src === null) return null;
    const shared = (vma.vmFlags & VM_SHARED) !== 0;
    if (!shared && write) {
      // MAP_PRIVATE write: copy the page first (mm/memory.c do_wp_page / wp_page_copy)
      const orig = src(vma.pgoff + pageIdx, false);
      if (orig === null) return null;
      const copy = orig.data.slice(orig.off, orig.off + this.pageSize);
      (vma.cow ??= new Map()).set(pageIdx, copy);
      return { data: copy, off: 0 };
    }
    const ref = src(vma.pgoff + pageIdx, write);
    // the fault handler mapped the page: its PTE is present from now on
    if (ref !== null) (vma.populated ??= new Uint8Array(vma.length / this.pageSize))[pageIdx] = 1;
    return ref;
  }

  /** copy_from_user(): the bytes, or null for EFAULT. */
  copyFromUser(addr: number, len: number, into?: Uint8Array): Uint8Array | null {
    if (addr <= 0) return len === 0 ? (into ?? new Uint8Array(0)) : null;
    const out = into ?? new Uint8Array(len);
    // fast path: one anonymous VMA
    const vma = this.find(addr);
    if (vma !== null && vma.anon !== null && addr + len <= vma.end && (vma.vmFlags & VM_READ) !== 0 && this.faultAnon(vma, addr - vma.start, len, false) === len) {
      const o = addr - vma.start;
      out.set(vma.anon.subarray(o, o + len));
      return out;
    }
    const fault = this.access(addr, len, false, (d, off, n, done) => out.set(d.subarray(off, off + n), done));
    return fault === null ? out : null;
  }

  /** copy_to_user(): false for EFAULT (bytes before the fault may have been written, as in Linux). */
  copyToUser(addr: number, data: Uint8Array): boolean {
    const len = data.length;
    if (addr <= 0) return len === 0;
    const vma = this.find(addr);
    if (vma !== null && vma.anon !== null && addr + len <= vma.end && (vma.vmFlags & VM_WRITE) !== 0 && this.faultAnon(vma, addr - vma.start, len, true) === len) {
      vma.anon.set(data, addr - vma.start);
      return true;
    }
    return this.access(addr, len, true, (d, off, n, done) => d.set(data.subarray(done, done + n), off)) === null;
  }

  /** strncpy_from_user(): the string up to NUL (at most `max` bytes), or null for EFAULT. */
  strncpyFromUser(addr: number, max: number): { bytes: Uint8Array; terminated: boolean } | null {
    if (addr <= 0) return null;
    const out: number[] = [];
    let a = addr;
    while (out.length < max) {
      const b = this.copyFromUser(a, 1);
      if (b === null) return out.length === 0 ? null : null;
      if (b[0] === 0) return { bytes: Uint8Array.from(out), terminated: true };
      out.push(b[0]!);
      a++;
    }
    return { bytes: Uint8Array.from(out), terminated: false };
  }
}
