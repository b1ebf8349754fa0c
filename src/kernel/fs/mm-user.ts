/**
 * A process's user address space: VMAs holding anonymous memory or file mappings (dma-bufs), so
 * that syscall arguments live as bytes at user addresses and NULL or unmapped pointers give
 * EFAULT exactly where Linux's copy_from_user()/copy_to_user() would. Anonymous memory is real
 * memory of the emulated machine: each page written comes from the page allocator (charged to
 * the owner's memcg), a fork shares the pages copy-on-write, and the address allocator follows
 * mm's rules (top-down from mmap_base, holes reused, never outside [mmap_min_addr, TASK_SIZE)).
 *
 * @kernel mm/mmap.c (do_mmap, get_unmapped_area, vma_merge, do_vmi_munmap), mm/memory.c (faults,
 *   copy-on-write), kernel/fork.c (dup_mmap), include/linux/mm.h (vm_flags)
 */
import { Errno } from '../../uapi/errno.js';
import type { Arch } from '../../uapi/fcntl.js';
import type { File } from './file.js';
import { MMAP_MIN_ADDR, taskSize } from './limits.js';

// TASK_SIZE and vm.mmap_min_addr live with the other syscall limits
export { MMAP_MIN_ADDR, taskSize };

const E = Errno;

/** vm_flags bits (include/linux/mm.h). */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
/** MADV_SEQUENTIAL / MADV_RANDOM read-ahead hints. */
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
/** MADV_DONTFORK: a fork child does not get the mapping. */
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
/** mlock2(MLOCK_ONFAULT), mlockall(MCL_ONFAULT): lock pages as they fault in. */
export const VM_LOCKONFAULT = 0x80000;
/** Charged against the overcommit policy (a private writable mapping). */
export const VM_ACCOUNT = 0x100000;
/** MAP_NORESERVE: not charged. */
export const VM_NORESERVE = 0x200000;
/** MAP_SYNC (kept from the flags even for MAP_SHARED, which masks MAP_SYNC only afterwards). */
export const VM_SYNC = 0x800000;
/** MADV_WIPEONFORK: a fork child gets the mapping without its pages. */
export const VM_WIPEONFORK = 0x2000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_MIXEDMAP = 0x10000000;
/**
 * MAP_DROPPABLE (v6.11). Linux keeps it in a high bit (bit 40 on 64-bit); the emulator's flags
 * are 32-bit numbers, so it uses bit 30 (VM_UFFD_MINOR's, and userfaultfd is not modelled).
 */
export const VM_DROPPABLE = 0x40000000;
/** VM_SPECIAL: mappings that never merge, grow, lock or fork-copy like normal memory. */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
/** VM_LOCKED_MASK: what munlock clears. */
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
/** VM_ACCESS_FLAGS */
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

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

/**
 * An anonymous page (an anon folio of one page): its page frame, taken from the page allocator,
 * its bytes and the memcg it was charged to when it was allocated. `mapcount` counts the page
 * table entries that map it (page_mapcount()): a fork shares every private anonymous page
 * copy-on-write, so it is 2 or more until a side writes; the last unmap frees the page.
 * @kernel mm/memory.c do_anonymous_page, wp_page_copy, wp_page_reuse; mm/rmap.c page_add_new_anon_rmap
 */
export class AnonPage {
  mapcount = 1;
  private buf: Uint8Array | null;
  private readonly size: number;
  constructor(
    /** The page frame number (from the buddy allocator). */
    readonly pfn: number,
    /** The page's bytes, or its size: then they are allocated (zeroed) when first needed. */
    data: Uint8Array | number,
    /** Id of the memcg the page is charged to (memcg_data). */
    readonly memcg: number,
    /** A page of shared anonymous memory (a shmem page: /proc/meminfo Shmem, RssShmem) rather than an anonymous one. */
    readonly shmem: boolean,
  ) {
    this.buf = typeof data === 'number' ? null : data;
    this.size = typeof data === 'number' ? data : data.length;
  }

  /** The page's bytes (allocated at first use: a page faulted in by MAP_POPULATE or mlock costs no host memory until used). */
  get data(): Uint8Array {
    return (this.buf ??= new Uint8Array(this.size));
  }

  /** The bytes a load sees: the page's own, or `zero` (the shared zero page) while nothing was stored. */
  view(zero: Uint8Array): Uint8Array {
    return this.buf ?? zero;
  }
}

/**
 * The memory behind a MAP_SHARED|MAP_ANONYMOUS mapping: in Linux an unlinked shmem file
 * (shmem_zero_setup: "/dev/zero (deleted)" on the internal tmpfs mount, an inode number of its
 * own, i_size the mapping's length) whose pages every VMA made from it shares (the pieces of a
 * split, the copies a fork or mremap makes). A page at or past i_size is SIGBUS (a mapping
 * grown by mremap). The pages go when the last such VMA does.
 * @kernel mm/shmem.c shmem_zero_setup, shmem_fault
 */
export class SharedAnon {
  /** Page index (the VMA's vm_pgoff based) → page. */
  readonly pages = new Map<number, AnonPage>();
  /** The VMAs made from it, in every address space. */
  readonly vmas = new Set<Vma>();
  constructor(
    /** The shmem inode number (/proc/<pid>/maps). */
    readonly ino: number,
    /** i_size in pages. */
    readonly sizePages: number,
  ) {}

  /** VMAs made from it. */
  get users(): number {
    return this.vmas.size;
  }
}

/** Counters of the page work the address spaces did (kernel-wide). */
export interface MmStats {
  /** Pages copied because a write hit a page shared copy-on-write (after fork) or a private file page. */
  cowCopies: number;
}

/**
 * Where an address space gets and returns the pages it faults in: the kernel allocates them
 * from the page allocator and charges them to the owner's memcg, running the OOM killer (global
 * or the memcg's) when there is no page or no room in the memcg.
 */
export interface UserPager {
  /** A zeroed page for a fault of the owner: null when the fault cannot be satisfied (the owner was the OOM victim, or nothing was killable). */
  alloc(shmem: boolean): AnonPage | null;
  /** The last mapping of `page` went: uncharges it and gives it back to the page allocator. */
  free(page: AnonPage): void;
  readonly stats: MmStats;
}

export class Vma {
  /** MAP_SHARED|MAP_ANONYMOUS memory (null for private anonymous memory and for file mappings). */
  shm: SharedAnon | null = null;
  /**
   * anon_vma: 0 until the VMA gets its first anonymous page (a write fault), then an id that the
   * pieces of a split keep and that a fork replaces in the child.
   */
  anonVma = 0;
  /** Length of the anon_vma_chain: 1 for an anon_vma of its own, more for a fork child's (which then merges with no new mapping). */
  anonChain = 0;
  /** Set by the driver's mmap op. */
  pages: PageSource | null = null;
  /**
   * vm_ops->map_pages (filemap_map_pages: shmem files): whether file page `filePage` is in the
   * page cache, so that a read fault maps it with its neighbours (fault-around). Null: the
   * fault handler maps one page at a time (the dma-buf exporters, udmabuf).
   */
  cached: ((filePage: number) => boolean) | null = null;
  /**
   * Page table entries of a file mapping or of shared anonymous memory, by page index in the
   * VMA: present once the page was mapped (its fault ran). Read by /proc/<pid>/pagemap
   * (fs/pagemap.ts) and counted in the RSS. A private page copied on write leaves it: its PTE
   * maps the anonymous copy (AddressSpace.pte) from then on.
   */
  populated: Set<number> | null = null;
  /** How the RSS counts the pages of this file mapping: MM_SHMEMPAGES (memfd, udmabuf) or MM_FILEPAGES. */
  rssShmem = false;
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

  /**
   * A VMA for [s, e) of this one with its file, flags and page sources (the pieces of a split,
   * a fork's or mremap's copy): vm_pgoff, the PFN shown and the present file PTEs follow the
   * offset. The caller takes the references (file, shared anonymous memory).
   */
  cloneRange(s: number, e: number, pageSize: number): Vma {
    const skip = (s - this.start) / pageSize;
    const n = new Vma(s, e, this.vmFlags, this.file, this.pgoff + skip);
    n.pages = this.pages;
    n.cached = this.cached;
    n.onClose = this.onClose;
    n.onAccess = this.onAccess;
    n.shm = this.shm;
    n.anonVma = this.anonVma;
    n.anonChain = this.anonChain;
    n.rssShmem = this.rssShmem;
    if (this.mapsPgoff !== null) n.mapsPgoff = this.mapsPgoff + skip;
    if (this.populated !== null) {
      const npages = (e - s) / pageSize;
      n.populated = new Set();
      for (const k of this.populated) if (k >= skip && k < skip + npages) n.populated.add(k - skip);
    }
    return n;
  }
}

/**
 * How a user access fails: SIGSEGV (no mapping or no permission), SIGBUS (no page behind a
 * file mapping) or SIGKILL (no page could be had: the OOM killer, global or the memory cgroup's,
 * chose the faulting process).
 */
export type FaultKind = 'SIGSEGV' | 'SIGBUS' | 'SIGKILL';

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

/** sysctl vm.max_map_count: DEFAULT_MAX_MAP_COUNT (include/linux/mm.h, USHRT_MAX - MAPCOUNT_ELF_CORE_MARGIN). */
export const MAX_MAP_COUNT = 65530;

/** Where mappings go in an address space (mm->mmap_base and friends, without randomisation). */
export interface MmLayout {
  readonly arch: Arch;
  /** TASK_SIZE */
  readonly taskSize: number;
  /** mm->mmap_base: the top-down search starts below it. */
  readonly mmapBase: number;
  /** The lowest address of the bottom-up search that follows a failed top-down one. */
  readonly fallbackBase: number;
  /** vm.mmap_min_addr: only CAP_SYS_RAWIO may map below it. */
  readonly mmapMinAddr: number;
}

/**
 * The layout a process gets without address randomisation (ADDR_NO_RANDOMIZE, as the oracle
 * shows with it): mmap_base() leaves a gap below TASK_SIZE for the stack of the 8 MiB
 * RLIMIT_STACK plus the stack guard gap, raised to the 128 MiB minimum, so mappings start at
 * TASK_SIZE - 128 MiB (x86-64: 0x7ffff7fff000, arm64: 0xfffff8000000). When the top-down search
 * fails, x86-64 searches bottom-up from mmap_legacy_base (PAGE_ALIGN(TASK_SIZE / 3)), the
 * generic code (arm64) from mmap_base up to TASK_SIZE.
 * @kernel arch/x86/mm/mmap.c mmap_base, arch_pick_mmap_layout; mm/util.c mmap_base (MIN_GAP);
 *   arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area(_topdown); mm/mmap.c generic_get_unmapped_area(_topdown)
 */
export function mmLayout(arch: Arch, pageSize: number): MmLayout {
  const top = taskSize(arch, pageSize);
  const mmapBase = top - 128 * 1024 * 1024;
  const fallbackBase = arch === 'x86_64' ? Math.ceil(top / 3 / pageSize) * pageSize : mmapBase;
  return { arch, taskSize: top, mmapBase, fallbackBase, mmapMinAddr: MMAP_MIN_ADDR };
}

/**
 * The address space (struct mm_struct). VMAs are kept sorted by start address, highest first
 * (new mappings are placed top-down); the page table of the private mappings is a map from
 * virtual page number to anonymous page, so that splitting, merging, moving and forking VMAs
 * moves no page and memory costs only what was written.
 */
export class AddressSpace {
  /** Sorted by `start`, descending. */
  readonly vmas: Vma[] = [];
  /**
   * The anonymous pages the page table maps in private VMAs (anonymous memory and the copies of
   * private file pages), by virtual page number (address / PAGE_SIZE). Shared copy-on-write
   * with the other processes of a fork until written.
   */
  readonly pte = new Map<number, AnonPage>();
  /**
   * Guard markers (MADV_GUARD_INSTALL, PTE markers in Linux) by virtual page number: any access
   * there is SIGSEGV. They live in the page table: splits and merges keep them, munmap drops
   * them, mremap moves them.
   */
  readonly guards = new Set<number>();
  /**
   * PTEs that map the shared zero page, by virtual page number: a load from never-written private
   * anonymous memory maps it (do_anonymous_page without FAULT_FLAG_WRITE), so /proc/<pid>/pagemap
   * sees the page present while the RSS does not count it (vm_normal_page() is
   * NULL for the zero PFN). A store replaces it with a page of its own; they live in the page
   * table as the anonymous pages do (munmap and MADV_DONTNEED drop them, mremap moves them).
   * @kernel mm/memory.c do_anonymous_page (my_zero_pfn), vm_normal_page
   */
  readonly zeroPtes = new PageRanges();
  /** v6.16: a range with an anon_vma merges into a neighbour without one (see anonMergeable). */
  mergeIntoNoAnonVma = true;
  /** mm->locked_vm in pages: the pages of VM_LOCKED VMAs (RLIMIT_MEMLOCK is checked against it). */
  lockedVm = 0;
  /** mm->def_flags: VM_LOCKED (and VM_LOCKONFAULT) after mlockall(MCL_FUTURE), given to every new VMA. */
  defFlags = 0;
  /** The process owning this address space (for access events). */
  ownerPid = 0;
  /** The OOM reaper took the private pages (MMF_OOM_SKIP; the owner is dying): no fault can allocate any more. */
  dying = false;
  private last: Vma | null = null;
  private lastAnonVma = 0;
  /**
   * What the last top-down search learnt (the gap sizes the maple tree keeps in Linux): no free
   * gap above the VMA starting at `vmaStart` (below mmap_base) is longer than `maxGap`. Mappings
   * only shrink gaps; an unmap or a move forgets it. It makes filling the address space from the
   * top linear instead of quadratic.
   */
  private gapCache: { vmaStart: number; maxGap: number } | null = null;

  /**
   * The VMA flags a load may go through: the page tables have no write-only pages (PROT_WRITE
   * reads too, on x86-64 and arm64) and on x86-64 no execute-only ones (PROT_EXEC reads too).
   * @kernel arch/x86/mm/pgprot.c protection_map; arch/arm64/mm/mmap.c protection_map
   */
  private readonly readMask: number;

  constructor(
    readonly pageSize: number,
    /** Shared zero page for reads of never-written memory. */
    readonly zeroPage: Uint8Array,
    readonly layout: MmLayout,
    readonly pager: UserPager,
  ) {
    this.readMask = VM_READ | VM_WRITE | (layout.arch === 'x86_64' ? VM_EXEC : 0);
  }

  /** Whether the page tables of a VMA with these flags let a load through. */
  readable(vmFlags: number): boolean {
    return (vmFlags & this.readMask) !== 0;
  }

  /**
   * The /proc/<pid>/maps lines of mappings that exist outside the emulator, lowest address first:
   * none here; a mirrored process's (`dmaheap run`) real libraries, heap and stack.
   */
  foreignMapLines(): readonly { start: number; line: string }[] {
    return [];
  }

  /**
   * The /proc/<pid>/smaps blocks of mappings outside the emulator, lowest address first (none
   * here): a mirrored process's own (`mirror` false: shown as they are) and the real side of its
   * buffer mappings (`mirror` true: only their Rss is used).
   */
  foreignSmaps(): readonly { start: number; text: string; mirror: boolean; rss: number }[] {
    return [];
  }

  /** The /proc/<pid>/pagemap entry of an address the emulator does not map (none here: a hole). */
  foreignPagemapEntry(_addr: number): bigint | null {
    return null;
  }

  /** find_vma() for an address inside a VMA: the VMA containing `addr`, or null. */
  find(addr: number): Vma | null {
    const l = this.last;
    if (l !== null && addr >= l.start && addr < l.end) return l;
    const i = this.indexAbove(addr);
    if (i < 0) return null;
    const m = this.vmas[i]!;
    if (addr < m.start) return null;
    this.last = m;
    return m;
  }

  /** find_vma(): the lowest VMA that ends above `addr` (it may start above it), or null. */
  findAbove(addr: number): Vma | null {
    const i = this.indexAbove(addr);
    return i < 0 ? null : this.vmas[i]!;
  }

  /** Index of the lowest VMA that ends above `addr` (mm/mmap.c find_vma), or -1. */
  private indexAbove(addr: number): number {
    const v = this.vmas;
    // the VMAs ending above addr are a prefix of the (descending) array: find its last element
    let lo = 0;
    let hi = v.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (v[mid]!.end > addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** True when no VMA overlaps [start, end). */
  isFree(start: number, end: number): boolean {
    const i = this.indexAbove(start);
    return i < 0 || this.vmas[i]!.start >= end;
  }

  /** mm->total_vm in pages. */
  get totalVm(): number {
    let n = 0;
    for (const v of this.vmas) n += v.length;
    return n / this.pageSize;
  }

  /**
   * get_unmapped_area() then security_mmap_addr(): the start of a free range of `len` bytes
   * (page aligned), or a negated errno. Order: a length beyond TASK_SIZE is ENOMEM; MAP_FIXED
   * takes `addr` as is, otherwise the hint (raised to mmap_min_addr first, round_hint_to_min)
   * is used when the range there is free, else the highest free range below mmap_base that
   * fits (vm_unmapped_area, top-down), else the lowest one from the fallback base up to
   * TASK_SIZE (bottom-up), else ENOMEM; x86-64's MAP_32BIT searches bottom-up in [1 GiB, 2 GiB)
   * instead. Then a range reaching past TASK_SIZE is ENOMEM, an unaligned address EINVAL, and
   * one below mmap_min_addr EPERM without CAP_SYS_RAWIO (cap_mmap_addr).
   * @kernel mm/mmap.c do_mmap (round_hint_to_min), get_unmapped_area, vm_unmapped_area;
   *   arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area(_topdown) (mmap_address_hint_valid,
   *   find_start_end); mm/mmap.c generic_get_unmapped_area_topdown (arm64); security/commoncap.c cap_mmap_addr
   */
  getUnmappedArea(addr: number, len: number, fixed: boolean, capSysRawio: boolean, below2G = false): number {
    const L = this.layout;
    const ps = this.pageSize;
    if (len > L.taskSize) return -E.ENOMEM;
    let a = addr;
    if (!fixed) {
      a = below2G && L.arch === 'x86_64' ? this.bottomup32(addr, len) : this.topdown(addr, len);
      if (a < 0) return a;
    }
    // an unsigned long: a negative address is a huge one
    if (a < 0 || a > L.taskSize - len) return -E.ENOMEM;
    if (a % ps !== 0) return -E.EINVAL;
    if (a < L.mmapMinAddr && !capSysRawio) return -E.EPERM;
    return a;
  }

  /** arch_get_unmapped_area_topdown() for a mapping that is not MAP_FIXED. */
  private topdown(hint: number, len: number): number {
    const L = this.layout;
    const ps = this.pageSize;
    if (hint < 0) hint = Number.MAX_SAFE_INTEGER; // an unsigned long: never a valid hint
    if (hint !== 0 && hint < L.mmapMinAddr) hint = Math.ceil(L.mmapMinAddr / ps) * ps;
    if (hint !== 0) {
      // x86-64 rounds the hint down and checks only TASK_SIZE; the generic code (arm64) rounds it
      // up and also checks mmap_min_addr
      const h = L.arch === 'x86_64' ? Math.floor(hint / ps) * ps : Math.ceil(hint / ps) * ps;
      const ok = L.taskSize - len >= h && (L.arch === 'x86_64' || h >= L.mmapMinAddr);
      if (ok && this.isFree(h, h + len)) return h;
    }
    const low = Math.max(ps, L.mmapMinAddr);
    const a = this.searchTopdown(len, low, L.mmapBase);
    if (a >= 0) return a;
    return this.searchBottomup(len, L.fallbackBase, L.taskSize);
  }

  /**
   * x86-64 MAP_32BIT: arch_get_unmapped_area() bottom-up within find_start_end()'s
   * [0x40000000, 0x80000000) (not randomised); a free hint there (rounded up) is taken.
   */
  private bottomup32(hint: number, len: number): number {
    const begin = 0x40000000;
    const end = 0x80000000;
    if (len > end) return -E.ENOMEM;
    if (hint > 0) {
      const h = Math.ceil(hint / this.pageSize) * this.pageSize;
      if (end - len >= h && this.isFree(h, h + len)) return h;
    }
    return this.searchBottomup(len, begin, end);
  }

  /** vm_unmapped_area() with VM_UNMAPPED_AREA_TOPDOWN: the highest free [a, a + len) inside [low, high), or -ENOMEM. */
  private searchTopdown(len: number, low: number, high: number): number {
    const v = this.vmas;
    let gapEnd = high;
    let i = 0;
    let maxGap = 0;
    const c = this.gapCache;
    if (c !== null && len > c.maxGap) {
      // every gap above that VMA is too short: resume below it
      const j = this.indexAbove(c.vmaStart);
      if (j >= 0 && v[j]!.start === c.vmaStart) {
        gapEnd = Math.min(high, c.vmaStart);
        i = j + 1;
        maxGap = c.maxGap;
      }
    }
    for (; i < v.length; i++) {
      const m = v[i]!;
      if (m.start >= gapEnd) continue;
      const gapStart = Math.max(m.end, low);
      if (gapEnd - len >= gapStart) return gapEnd - len;
      maxGap = Math.max(maxGap, gapEnd - gapStart);
      gapEnd = m.start;
      this.gapCache = { vmaStart: m.start, maxGap };
      if (gapEnd - len < low) return -E.ENOMEM;
    }
    return gapEnd - len >= low ? gapEnd - len : -E.ENOMEM;
  }

  /** vm_unmapped_area() bottom-up: the lowest free [a, a + len) inside [low, high), or -ENOMEM. */
  private searchBottomup(len: number, low: number, high: number): number {
    let gapStart = low;
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const v = this.vmas[i]!;
      if (v.end <= gapStart) continue;
      if (gapStart + len > high) return -E.ENOMEM;
      if (v.start - gapStart >= len) return gapStart;
      gapStart = v.end;
    }
    return gapStart + len <= high ? gapStart : -E.ENOMEM;
  }

  /** Inserts a VMA (the range must be free). */
  insert(vma: Vma): void {
    const v = this.vmas;
    this.last = null;
    // new mappings are normally the lowest: append; otherwise the first index with a lower start
    if (v.length === 0 || v[v.length - 1]!.start > vma.start) {
      v.push(vma);
      return;
    }
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v[mid]!.start > vma.start) lo = mid + 1;
      else hi = mid;
    }
    v.splice(lo, 0, vma);
  }

  /** Takes `vma` out of the list (no reference is dropped). */
  private detach(vma: Vma): void {
    const i = this.indexAbove(vma.start);
    if (i >= 0 && this.vmas[i] === vma) this.vmas.splice(i, 1);
    else {
      const j = this.vmas.indexOf(vma);
      if (j >= 0) this.vmas.splice(j, 1);
    }
    this.last = null;
  }

  /**
   * Whether `a` and the VMA `b` right after it may be one VMA: the same flags (never VM_SPECIAL
   * ones), the same file or shared anonymous memory at consecutive offsets, no close op, and
   * anon_vmas that allow it (a VMA cloned by fork, with a longer anon_vma_chain, merges only with
   * its own anon_vma).
   * @kernel mm/mmap.c is_mergeable_vma, is_mergeable_anon_vma, can_vma_merge_before/after
   */
  mergeable(a: Vma, b: Vma, into: Vma): boolean {
    if (!this.compatible(a, b)) return false;
    const src = into === a ? b : a;
    return this.anonMergeable(into, src.anonVma, src.anonChain);
  }

  /** Everything but the anon_vma: `b` right after `a`, the same flags (never VM_SPECIAL), file or shared memory at consecutive offsets, no close op. */
  private compatible(a: Vma, b: Vma): boolean {
    if (a.end !== b.start || a.vmFlags !== b.vmFlags || (a.vmFlags & VM_SPECIAL) !== 0) return false;
    if (a.file !== b.file || a.shm !== b.shm || a.onClose !== null || b.onClose !== null) return false;
    return a.pgoff + a.length / this.pageSize === b.pgoff;
  }

  /**
   * is_mergeable_anon_vma() of the VMA that stays (`target`) and the anon_vma of the range
   * joining it: the same one; none joining a target whose anon_vma_chain is singular (not a fork
   * child's); or one joining a target that has none, from a VMA with no forked parents — only
   * since v6.16 (before, the test was list_is_singular() of the target's empty chain, false:
   * the 6.1 and 6.12 referees keep an mlock'd and faulted page's VMA apart from its untouched
   * neighbours after munlock, 7.3 merges them).
   * @kernel mm/vma.c is_mergeable_anon_vma, vma_had_uncowed_parents; mm/mmap.c is_mergeable_anon_vma (≤6.15)
   */
  private anonMergeable(target: Vma, srcAnon: number, srcChain: number): boolean {
    if (target.anonVma === srcAnon) return true;
    if (srcAnon === 0) return target.anonChain <= 1;
    if (target.anonVma === 0) return this.mergeIntoNoAnonVma && srcChain <= 1;
    return false;
  }

  /** `b` (right after `a`) becomes part of `a`: its present PTEs follow, its references go. */
  private absorb(a: Vma, b: Vma): void {
    const off = a.length / this.pageSize;
    if (b.populated !== null && b.populated.size > 0) {
      const pop = (a.populated ??= new Set());
      for (const k of b.populated) pop.add(k + off);
    }
    a.end = b.end;
    if (a.anonVma === 0) {
      a.anonVma = b.anonVma;
      a.anonChain = b.anonChain;
    }
    this.detach(b);
    b.shm?.vmas.delete(b);
    vmaUnlinkFile(b);
    // the file is still held by `a`: never the last reference
    b.file?.put();
  }

  /**
   * vma_merge() of a VMA whose range or flags just changed: it joins the previous and the next
   * VMA where they are compatible. Returns the VMA that now covers its range.
   */
  mergeNeighbours(vma: Vma): Vma {
    let v = vma;
    const srcAnon = v.anonVma;
    const srcChain = v.anonChain;
    const pi = this.indexAbove(v.start - 1);
    const prev = pi >= 0 ? this.vmas[pi]! : null;
    let prevAnon: number | null = null;
    if (prev !== null && prev !== v && prev.end === v.start && this.mergeable(prev, v, prev)) {
      prevAnon = prev.anonVma;
      this.absorb(prev, v);
      v = prev;
    }
    const ni = this.indexAbove(v.end);
    const next = ni >= 0 ? this.vmas[ni]! : null;
    // the range against next (next the target), and for a three-way merge prev against next
    // (is_mergeable_anon_vma() without a VMA: either has none, or the same)
    if (
      next !== null && next !== v && next.start === v.end && this.compatible(v, next) && this.anonMergeable(next, srcAnon, srcChain) &&
      (prevAnon === null || prevAnon === 0 || next.anonVma === 0 || prevAnon === next.anonVma)
    ) this.absorb(v, next);
    this.last = null;
    return v;
  }

  /**
   * Inserts a new VMA and merges it with a neighbour it touches where vma_merge() would. Returns
   * the VMA that now covers the range.
   * @kernel mm/mmap.c vma_merge (cases 1-8), can_vma_merge_after/before, is_mergeable_anon_vma
   */
  insertMerging(vma: Vma): Vma {
    this.insert(vma);
    return this.mergeNeighbours(vma);
  }

  /**
   * The VMA a new mapping of [start, end) with these flags would expand instead of creating one
   * (mmap_region(): "Can we just expand an old mapping?"; the driver's mmap op is not called
   * then): the previous or next VMA of the same file or anonymous memory at the right offset,
   * or null. Never for VM_SPECIAL flags or shared anonymous memory (each is a new shmem file).
   */
  expandable(start: number, end: number, vmFlags: number, file: File | null, pgoff: number): Vma | null {
    if ((vmFlags & VM_SPECIAL) !== 0) return null;
    if (file === null && (vmFlags & VM_SHARED) !== 0) return null;
    const probe = new Vma(start, end, vmFlags, file, pgoff);
    const pi = this.indexAbove(start - 1);
    const prev = pi >= 0 ? this.vmas[pi]! : null;
    if (prev !== null && prev.end === start && this.mergeable(prev, probe, prev)) return prev;
    const ni = this.indexAbove(end);
    const next = ni >= 0 ? this.vmas[ni]! : null;
    if (next !== null && next.start === end && this.mergeable(probe, next, next)) return next;
    return null;
  }

  /**
   * Makes `vma` (the prev or next of [start, end), from {@link expandable}) cover the range too,
   * and merges it with the VMA on the other side where it can.
   * @kernel mm/mmap.c vma_expand
   */
  expandOver(vma: Vma, start: number, end: number): Vma {
    if (vma.end === start) vma.end = end;
    else {
      const shift = (vma.start - start) / this.pageSize;
      if (vma.populated !== null && vma.populated.size > 0) vma.populated = new Set([...vma.populated].map((k) => k + shift));
      vma.pgoff -= shift;
      vma.start = start;
      this.detach(vma);
      this.insert(vma);
    }
    return this.mergeNeighbours(vma);
  }

  /**
   * __split_vma(): the VMA holding `addr` strictly inside becomes two at `addr` (the upper one
   * is a new VMA with its own references). Returns the VMA starting at `addr`, or null when no
   * VMA holds it.
   */
  splitAt(addr: number): Vma | null {
    const v = this.find(addr);
    if (v === null) return null;
    if (v.start === addr) return v;
    const hi = v.cloneRange(addr, v.end, this.pageSize);
    const keep = (addr - v.start) / this.pageSize;
    if (v.populated !== null) {
      for (const k of [...v.populated]) if (k >= keep) v.populated.delete(k);
    }
    v.end = addr;
    hi.file?.get();
    hi.shm?.vmas.add(hi);
    vmaLinkFile(hi);
    this.insert(hi);
    return hi;
  }

  /** How many splits changing [start, end) needs (0-2): a VMA reaching over either end. */
  splitsNeeded(start: number, end: number): number {
    let n = 0;
    const a = this.find(start);
    if (a !== null && a.start < start) n++;
    const b = this.find(end - 1);
    if (b !== null && b.end > end) n++;
    return n;
  }

  /**
   * Removes [start, end) from the address space, splitting VMAs at the edges, and frees the
   * private pages mapped there (and drops the guard markers). Returns the removed pieces (the
   * caller closes them and drops their file references) and the pieces a split left behind.
   * @kernel mm/mmap.c do_vmi_munmap / __split_vma; mm/memory.c unmap_vmas (zap_pte_range)
   */
  unmap(start: number, end: number): { removed: Vma[]; added: Vma[] } {
    this.gapCache = null;
    const r = this.carve(start, end);
    this.zap(start, end);
    this.dropGuards(start, end);
    for (const v of r.removed) {
      if ((v.vmFlags & VM_LOCKED) !== 0) this.lockedVm -= v.length / this.pageSize;
      this.releaseShared(v);
    }
    return r;
  }

  /** How many VMAs unmapping [start, end) adds (a VMA straddling both ends is split in two). */
  splitsFor(start: number, end: number): number {
    const v = this.find(start);
    return v !== null && v.start < start && v.end > end ? 1 : 0;
  }

  private carve(start: number, end: number): { removed: Vma[]; added: Vma[] } {
    const removed: Vma[] = [];
    const added: Vma[] = [];
    const v = this.vmas;
    // the VMAs overlapping [start, end) are v[a..b]: from the highest one starting below end
    // down to the lowest one ending above start
    const b = this.indexAbove(start);
    let a = b + 1;
    while (a > 0 && v[a - 1]!.start < end) a--;
    if (a > b) return { removed, added };
    const ps = this.pageSize;
    for (let i = a; i <= b; i++) {
      const m = v[i]!;
      if (m.start < start) added.push(m.cloneRange(m.start, start, ps));
      if (m.end > end) added.push(m.cloneRange(end, m.end, ps));
      const s = Math.max(m.start, start);
      const e = Math.min(m.end, end);
      removed.push(s === m.start && e === m.end ? m : m.cloneRange(s, e, ps));
    }
    const old = v.splice(a, b - a + 1);
    for (const x of added) {
      x.file?.get();
      x.shm?.vmas.add(x);
      vmaLinkFile(x);
      this.insert(x);
    }
    // a VMA cut into pieces is replaced by them (each piece holds its own references)
    for (const m of old) if (!removed.includes(m)) m.shm?.vmas.delete(m);
    for (const x of removed) x.shm?.vmas.add(x);
    this.last = null;
    return { removed, added };
  }

  /** Unmaps the private pages of [start, end) (the last mapping of a page frees it). */
  private zap(start: number, end: number): void {
    const ps = this.pageSize;
    const first = start / ps;
    const last = end / ps;
    const pte = this.pte;
    this.zeroPtes.drop(first, last);
    if (pte.size === 0) return;
    if (last - first <= pte.size) {
      for (let vpn = first; vpn < last; vpn++) {
        const pg = pte.get(vpn);
        if (pg === undefined) continue;
        pte.delete(vpn);
        this.putPage(pg);
      }
      return;
    }
    for (const [vpn, pg] of pte) {
      if (vpn < first || vpn >= last) continue;
      pte.delete(vpn);
      this.putPage(pg);
    }
  }

  private dropGuards(start: number, end: number): void {
    if (this.guards.size === 0) return;
    const ps = this.pageSize;
    for (const vpn of [...this.guards]) if (vpn >= start / ps && vpn < end / ps) this.guards.delete(vpn);
  }

  /**
   * zap_page_range() of [start, end) inside `vma` (MADV_DONTNEED, guard installation): its
   * anonymous pages are unmapped (the last mapping frees them) and its file PTEs dropped, so the
   * next access faults again (a shared or file page comes back with its contents, private
   * anonymous memory reads zeros).
   * @kernel mm/madvise.c madvise_dontneed_single_vma; mm/memory.c zap_page_range
   */
  zapRange(vma: Vma, start: number, end: number): void {
    this.zap(start, end);
    const pop = vma.populated;
    if (pop === null || pop.size === 0) return;
    const ps = this.pageSize;
    const lo = (start - vma.start) / ps;
    const hi = (end - vma.start) / ps;
    for (const k of [...pop]) {
      if (k < lo || k >= hi) continue;
      pop.delete(k);
      if (vma.shm !== null) {
        const pg = vma.shm.pages.get(vma.pgoff + k);
        if (pg !== undefined) pg.mapcount--;
      }
    }
  }

  /**
   * Guard markers over [start, end) of `vma` (MADV_GUARD_INSTALL): the pages there are zapped
   * first, then any access is SIGSEGV until MADV_GUARD_REMOVE.
   * @kernel mm/madvise.c madvise_guard_install
   */
  installGuards(vma: Vma, start: number, end: number): void {
    this.zapRange(vma, start, end);
    const ps = this.pageSize;
    for (let vpn = start / ps; vpn < end / ps; vpn++) this.guards.add(vpn);
  }

  /** MADV_GUARD_REMOVE over [start, end). @kernel mm/madvise.c madvise_guard_remove */
  removeGuards(start: number, end: number): void {
    this.dropGuards(start, end);
  }

  private putPage(pg: AnonPage): void {
    if (--pg.mapcount === 0) this.pager.free(pg);
  }

  /** A VMA of shared anonymous memory goes: its PTEs, and with the last VMA the pages. */
  private releaseShared(v: Vma): void {
    const shm = v.shm;
    if (shm === null) return;
    if (v.populated !== null) {
      for (const idx of v.populated) {
        const pg = shm.pages.get(v.pgoff + idx);
        if (pg !== undefined) pg.mapcount--;
      }
      v.populated = null;
    }
    shm.vmas.delete(v);
    if (shm.vmas.size > 0) return;
    for (const pg of shm.pages.values()) this.pager.free(pg);
    shm.pages.clear();
  }

  /**
   * Punches a hole in shared anonymous memory (MADV_REMOVE: shmem_fallocate(PUNCH_HOLE) on its
   * shmem file): every mapping of pages [first, first + count) in every process loses them, and
   * the pages go; the next access gets a zeroed page.
   * @kernel mm/shmem.c shmem_fallocate, shmem_truncate_range; mm/memory.c unmap_mapping_range
   */
  static punchShared(shm: SharedAnon, first: number, count: number, pager: UserPager): void {
    for (const v of shm.vmas) {
      if (v.populated === null) continue;
      for (const k of [...v.populated]) {
        const idx = v.pgoff + k;
        if (idx < first || idx >= first + count) continue;
        v.populated.delete(k);
        const pg = shm.pages.get(idx);
        if (pg !== undefined) pg.mapcount--;
      }
    }
    for (const [idx, pg] of [...shm.pages]) {
      if (idx < first || idx >= first + count) continue;
      shm.pages.delete(idx);
      pager.free(pg);
    }
  }

  /**
   * Moves `vma` (whole) to start at `to` (mremap's move_vma(): copy_vma() then
   * move_page_tables(), then the old range goes): its pages and guard markers follow, a private
   * anonymous VMA that has no anonymous page yet takes the new address as its vm_pgoff, and it
   * merges with its new neighbours. Returns the VMA now covering the new range.
   * @kernel mm/mremap.c move_vma, move_page_tables; mm/mmap.c copy_vma
   */
  relocate(vma: Vma, to: number): Vma {
    const from = vma.start;
    this.gapCache = null;
    this.detach(vma);
    this.movePtes(from, vma.end, to);
    vma.end = to + vma.length;
    vma.start = to;
    if (vma.file === null && vma.shm === null && vma.anonVma === 0) vma.pgoff = to / this.pageSize;
    this.insert(vma);
    return this.mergeNeighbours(vma);
  }

  /**
   * MREMAP_DONTUNMAP: a copy of `vma` (whole) at `to` takes its pages and guard markers; the old
   * VMA stays, empty (a fault there maps the file again, or zeros for private anonymous memory),
   * loses VM_LOCKED and its anon_vma. Returns the new VMA (merged with its neighbours).
   * @kernel mm/mremap.c move_vma (MREMAP_DONTUNMAP)
   */
  relocateCopy(vma: Vma, to: number): Vma {
    const n = vma.cloneRange(vma.start, vma.end, this.pageSize);
    this.movePtes(vma.start, vma.end, to);
    n.end = to + vma.length;
    n.start = to;
    if (n.file === null && n.shm === null && n.anonVma === 0) n.pgoff = to / this.pageSize;
    // the file PTEs moved with the page tables: the new VMA has them, the old one none
    vma.populated = null;
    vma.vmFlags &= ~VM_LOCKED_MASK;
    vma.anonVma = 0;
    vma.anonChain = 0;
    n.file?.get();
    n.shm?.vmas.add(n);
    vmaLinkFile(n);
    this.insert(n);
    return this.mergeNeighbours(n);
  }

  /** The private pages and guard markers of [from, end) move to `to` (move_page_tables()). */
  private movePtes(from: number, end: number, to: number): void {
    const ps = this.pageSize;
    const first = from / ps;
    const last = end / ps;
    const delta = (to - from) / ps;
    const moved: [number, AnonPage][] = [];
    if (last - first <= this.pte.size) {
      for (let vpn = first; vpn < last; vpn++) {
        const pg = this.pte.get(vpn);
        if (pg !== undefined) moved.push([vpn, pg]);
      }
    } else {
      for (const e of this.pte) if (e[0] >= first && e[0] < last) moved.push(e);
    }
    for (const [vpn] of moved) this.pte.delete(vpn);
    for (const [vpn, pg] of moved) this.pte.set(vpn + delta, pg);
    for (const [a, b] of this.zeroPtes.drop(first, last)) this.zeroPtes.add(a + delta, b + delta);
    if (this.guards.size > 0) {
      const g = [...this.guards].filter((vpn) => vpn >= first && vpn < last);
      for (const vpn of g) this.guards.delete(vpn);
      for (const vpn of g) this.guards.add(vpn + delta);
    }
  }

  /** `vma` grows in place to end at `end` (mremap's vma_expandable() path) and merges with the next VMA where it can. */
  grow(vma: Vma, end: number): Vma {
    vma.end = end;
    this.last = null;
    return this.mergeNeighbours(vma);
  }

  /**
   * exit_mmap(): every page is unmapped (the last mapping of a page frees it) and every VMA
   * removed. Returns the VMAs (the caller closes them and drops their file references).
   */
  teardown(): Vma[] {
    const vmas = this.vmas.splice(0);
    for (const pg of this.pte.values()) this.putPage(pg);
    this.pte.clear();
    this.zeroPtes.clear();
    this.guards.clear();
    for (const v of vmas) this.releaseShared(v);
    this.lockedVm = 0;
    this.last = null;
    return vmas;
  }

  /**
   * The OOM reaper: the private pages (anonymous memory, copies of private file pages) are
   * unmapped at once, before the dying owner exits; its shared mappings stay. No later fault
   * can allocate.
   * @kernel mm/oom_kill.c oom_reap_task_mm, __oom_reap_task_mm
   */
  reap(): void {
    this.dying = true;
    for (const pg of this.pte.values()) this.putPage(pg);
    this.pte.clear();
    this.zeroPtes.clear();
  }

  /**
   * dup_mmap() into the empty address space of a fork child: every VMA but the VM_DONTCOPY ones
   * (MADV_DONTFORK) is copied (the files referenced again, shared anonymous memory shared),
   * without VM_LOCKED (mlock is not inherited); the child's VMAs with anonymous pages get an
   * anon_vma of their own (anon_vma_fork), and the page table's anonymous pages are shared
   * copy-on-write, each mapped once more, except in VM_WIPEONFORK VMAs (MADV_WIPEONFORK,
   * MAP_DROPPABLE), which the child gets empty. Nothing is copied: the cost is one step per VMA
   * and per present anonymous page. PTEs of file pages are copied only where copy_page_range()
   * runs (a VMA with anonymous pages, or a PFN map); elsewhere the child faults them in again.
   * Guard markers are copied with the page tables.
   * @kernel kernel/fork.c dup_mmap; mm/memory.c copy_page_range (vma_needs_copy), copy_present_pte; mm/rmap.c anon_vma_fork
   */
  forkInto(child: AddressSpace): void {
    const ps = this.pageSize;
    for (const v of this.vmas) {
      if ((v.vmFlags & VM_DONTCOPY) !== 0) continue;
      const wipe = (v.vmFlags & VM_WIPEONFORK) !== 0;
      const n = new Vma(v.start, v.end, v.vmFlags & ~VM_LOCKED_MASK, v.file, v.pgoff);
      n.pages = v.pages;
      n.cached = v.cached;
      n.onClose = v.onClose;
      n.onAccess = v.onAccess;
      n.mapsPgoff = v.mapsPgoff;
      n.rssShmem = v.rssShmem;
      if (v.shm !== null) {
        n.shm = v.shm;
        v.shm.vmas.add(n);
      }
      if (v.anonVma !== 0 && !wipe) {
        n.anonVma = ++child.lastAnonVma;
        n.anonChain = v.anonChain + 1;
      }
      if (!wipe && v.populated !== null && v.shm === null && (v.anonVma !== 0 || (v.vmFlags & VM_PFNMAP) !== 0)) n.populated = new Set(v.populated);
      v.file?.get();
      vmaLinkFile(n);
      child.vmas.push(n);
    }
    const copied = (vpn: number): boolean => {
      const v = this.find(vpn * ps);
      return v !== null && (v.vmFlags & (VM_DONTCOPY | VM_WIPEONFORK)) === 0;
    };
    for (const [vpn, pg] of this.pte) {
      if (!copied(vpn)) continue;
      pg.mapcount++;
      child.pte.set(vpn, pg);
    }
    for (const vpn of this.guards) if (copied(vpn)) child.guards.add(vpn);
    // zero-page PTEs are copied where copy_page_range() runs: a VMA with an anon_vma
    for (const v of this.vmas) {
      if (v.anonVma === 0 || (v.vmFlags & (VM_DONTCOPY | VM_WIPEONFORK)) !== 0) continue;
      for (const [a, b] of this.zeroPtes.within(v.start / ps, v.end / ps)) child.zeroPtes.add(a, b);
    }
  }

  /**
   * The RSS counters (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES) in pages: the anonymous pages
   * mapped, and the present PTEs of page-backed file mappings (memfd and udmabuf pages count as
   * shmem) and of shared anonymous memory. PFN maps (the dma-buf heaps' remap_pfn_range() and
   * vmf_insert_pfn() mappings) are not counted, as in Linux.
   * @kernel include/linux/mm.h get_mm_counter, mm_counter_file
   */
  rss(): { anon: number; file: number; shmem: number } {
    let file = 0;
    let shmem = 0;
    for (const v of this.vmas) {
      if (v.populated === null || (v.vmFlags & VM_PFNMAP) !== 0) continue;
      if (v.shm !== null || v.rssShmem) shmem += v.populated.size;
      else file += v.populated.size;
    }
    return { anon: this.pte.size, file, shmem };
  }

  /**
   * Walks [addr, addr+len) page by page. `write` selects the access; user accesses and kernel
   * copies (copy_*_user) both honour PROT_* and guard markers. Returns null on success or the
   * fault kind (a kernel copy turns it into EFAULT).
   */
  access(
    addr: number,
    len: number,
    write: boolean,
    visit: (data: Uint8Array, off: number, n: number, done: number) => void,
  ): FaultKind | null {
    const ps = this.pageSize;
    const guards = this.guards.size > 0;
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const vma = this.find(a);
      if (vma === null) return 'SIGSEGV';
      if (write ? (vma.vmFlags & VM_WRITE) === 0 : (vma.vmFlags & this.readMask) === 0) return 'SIGSEGV';
      if (guards && this.guards.has(Math.floor(a / ps))) return 'SIGSEGV';
      const inVma = a - vma.start;
      const pageIdx = Math.floor(inVma / ps);
      const inPage = inVma - pageIdx * ps;
      const n = Math.min(len - done, ps - inPage);
      const ref = this.fault(vma, pageIdx, write);
      if (typeof ref === 'string') return ref;
      // observers (sanitizer, cache model) see the access before the bytes move
      if (vma.onAccess !== null) vma.onAccess(vma, this.ownerPid, inVma, n, write);
      visit(ref.data, ref.off + inPage, n, done);
      done += n;
    }
    return null;
  }

  /**
   * A fault on page `idx` of `vma` as get_user_pages() takes it (MAP_POPULATE, mlock,
   * MADV_POPULATE_*): the page is mapped as a user access would map it, without the access
   * itself (no observer sees it). A guard marker fails it (SIGSEGV).
   */
  faultIn(vma: Vma, idx: number, write: boolean): FaultKind | null {
    if (this.guards.size > 0 && this.guards.has(vma.start / this.pageSize + idx)) return 'SIGSEGV';
    const r = this.fault(vma, idx, write, false);
    return typeof r === 'string' ? r : null;
  }

  /**
   * Read faults over [start, end) of private anonymous `vma` at once, as get_user_pages() takes
   * them: every page without an anonymous page maps the zero page. False (nothing done) for
   * another kind of VMA or a range with guard markers (then each page faults on its own).
   */
  mapZeroPages(vma: Vma, start: number, end: number): boolean {
    if (vma.file !== null || vma.shm !== null || (vma.vmFlags & VM_SHARED) !== 0) return false;
    const ps = this.pageSize;
    const first = start / ps;
    const last = end / ps;
    if (this.guards.size > 0 && [...this.guards].some((g) => g >= first && g < last)) return false;
    // pages that have an anonymous page keep it (the zero PTE under it is never looked at)
    this.zeroPtes.add(first, last);
    return true;
  }

  /**
   * The page under VMA page `idx` for an access, faulting it in: a load from never-written
   * private anonymous memory maps the zero page and allocates nothing; a store allocates a
   * zeroed page (do_anonymous_page), or copies a page shared copy-on-write (wp_page_copy; a page
   * no other PTE maps any more is reused, wp_page_reuse) or a private file page (do_cow_fault);
   * any access to shared anonymous memory allocates its page (shmem_fault), SIGBUS past its
   * i_size. A page that cannot be had kills (SIGKILL: the OOM killer chose the faulting process).
   * @kernel mm/memory.c handle_pte_fault, do_anonymous_page, do_wp_page, do_cow_fault; mm/shmem.c shmem_fault
   */
  private fault(vma: Vma, idx: number, write: boolean, needData = true): PageRef | FaultKind {
    if (vma.shm !== null) return this.sharedAnonFault(vma, vma.shm, idx, write);
    if ((vma.vmFlags & VM_SHARED) === 0) {
      const vpn = vma.start / this.pageSize + idx;
      const pg = this.pte.get(vpn);
      if (pg !== undefined) {
        if (!write) return { data: pg.view(this.zeroPage), off: 0 };
        // a fault without the access (get_user_pages): the page's bytes stay unallocated until used
        if (pg.mapcount === 1) return needData ? { data: pg.data, off: 0 } : { data: this.zeroPage, off: 0 };
        const copy = this.newPage(vma);
        if (copy === null) return 'SIGKILL';
        // the allocation may have OOM-killed the processes the page was shared with
        if (pg.mapcount === 1) {
          this.pager.free(copy);
          return { data: pg.data, off: 0 };
        }
        copy.data.set(pg.view(this.zeroPage));
        pg.mapcount--;
        this.pte.set(vpn, copy);
        this.pager.stats.cowCopies++;
        return { data: copy.data, off: 0 };
      }
      if (vma.file === null) {
        if (!write) {
          this.zeroPtes.add(vpn, vpn + 1);
          return { data: this.zeroPage, off: 0 };
        }
        const np = this.newPage(vma);
        if (np === null) return 'SIGKILL';
        this.zeroPtes.drop(vpn, vpn + 1);
        this.pte.set(vpn, np);
        return needData ? { data: np.data, off: 0 } : { data: this.zeroPage, off: 0 };
      }
      if (write) {
        const orig = this.filePage(vma, idx, false);
        if (orig === null) return 'SIGBUS';
        const np = this.newPage(vma);
        if (np === null) return 'SIGKILL';
        np.data.set(orig.data.subarray(orig.off, orig.off + this.pageSize));
        this.pte.set(vpn, np);
        vma.populated?.delete(idx);
        this.pager.stats.cowCopies++;
        return { data: np.data, off: 0 };
      }
    }
    if (!write && vma.cached !== null && vma.populated?.has(idx) !== true) this.faultAround(vma, idx, (i) => vma.cached!(vma.pgoff + i), () => {});
    const ref = this.filePage(vma, idx, write);
    if (ref === null) return 'SIGBUS';
    // the fault handler mapped the page: its PTE is present from now on
    (vma.populated ??= new Set()).add(idx);
    return ref;
  }

  /**
   * Fault-around of a read fault at page `idx` of a shmem-backed `vma`: the page-cache pages of
   * the fault_around_bytes (64 KiB) window around it, aligned in the address space and clipped
   * to the VMA and to its page table, are mapped too where nothing is mapped yet (no PTE, no
   * guard marker, no private copy). Pages not in the cache are left to their own faults.
   * @kernel mm/memory.c do_read_fault, should_fault_around, do_fault_around; mm/filemap.c filemap_map_pages
   */
  private faultAround(vma: Vma, idx: number, inCache: (i: number) => boolean, mapped: (i: number) => void): void {
    const ps = this.pageSize;
    const nr = Math.floor(FAULT_AROUND_BYTES / ps);
    if (nr <= 1) return;
    const ptrs = ps / 8;
    const vpn = vma.start / ps + idx;
    const pteOff = vpn % ptrs;
    const fromPte = Math.max(pteOff - (pteOff % nr), pteOff - Math.min(pteOff, idx));
    const toPte = Math.min(fromPte + nr, ptrs, pteOff + (vma.length / ps - idx));
    const pop = (vma.populated ??= new Set());
    for (let pte = fromPte; pte < toPte; pte++) {
      const i = idx + (pte - pteOff);
      const v = vpn + (pte - pteOff);
      if (pop.has(i) || this.pte.has(v) || this.guards.has(v) || !inCache(i)) continue;
      pop.add(i);
      mapped(i);
    }
  }

  /** A new anonymous page for `vma` (anon_vma_prepare() gives the VMA its anon_vma), or null. */
  private newPage(vma: Vma): AnonPage | null {
    if (this.dying) return null;
    const pg = this.pager.alloc(false);
    if (pg === null) return null;
    if (vma.anonVma === 0) {
      vma.anonVma = ++this.lastAnonVma;
      vma.anonChain = 1;
    }
    return pg;
  }

  private sharedAnonFault(vma: Vma, shm: SharedAnon, idx: number, write: boolean): PageRef | FaultKind {
    const key = vma.pgoff + idx;
    if (key >= shm.sizePages) return 'SIGBUS';
    if (!write && vma.populated?.has(idx) !== true) {
      this.faultAround(vma, idx, (i) => shm.pages.has(vma.pgoff + i), (i) => { shm.pages.get(vma.pgoff + i)!.mapcount++; });
    }
    let pg = shm.pages.get(key);
    if (pg === undefined) {
      const np = this.dying ? null : this.pager.alloc(true);
      if (np === null) return 'SIGKILL';
      np.mapcount = 0;
      shm.pages.set(key, np);
      pg = np;
    }
    const pop = (vma.populated ??= new Set());
    if (!pop.has(idx)) {
      pop.add(idx);
      pg.mapcount++;
    }
    return { data: write ? pg.data : pg.view(this.zeroPage), off: 0 };
  }

  private filePage(vma: Vma, pageIdx: number, write: boolean): PageRef | null {
    const src = vma.pages;
    if (src === null) return null;
    return src(vma.pgoff + pageIdx, write);
  }

  /** The one-page fast path of the kernel copies: the page under `addr` when [addr, addr + len) lies in it, else null. */
  private onePage(addr: number, len: number, write: boolean): PageRef | FaultKind | null {
    const ps = this.pageSize;
    const inPage = addr % ps;
    if (inPage + len > ps) return null;
    const vma = this.find(addr);
    if (vma === null || vma.onAccess !== null) return null;
    if (write ? (vma.vmFlags & VM_WRITE) === 0 : (vma.vmFlags & this.readMask) === 0) return null;
    if (this.guards.size > 0 && this.guards.has(Math.floor(addr / ps))) return null;
    return this.fault(vma, Math.floor((addr - vma.start) / ps), write);
  }

  /** copy_from_user(): the bytes, or null for EFAULT. */
  copyFromUser(addr: number, len: number, into?: Uint8Array): Uint8Array | null {
    if (len === 0) return into ?? new Uint8Array(0);
    if (addr < 0) return null;
    const out = into ?? new Uint8Array(len);
    const one = this.onePage(addr, len, false);
    if (typeof one === 'string') return null;
    if (one !== null) {
      const o = one.off + (addr % this.pageSize);
      out.set(one.data.subarray(o, o + len));
      return out;
    }
    const fault = this.access(addr, len, false, (d, off, n, done) => out.set(d.subarray(off, off + n), done));
    return fault === null ? out : null;
  }

  /** copy_to_user(): false for EFAULT (bytes before the fault may have been written, as in Linux). */
  copyToUser(addr: number, data: Uint8Array): boolean {
    const len = data.length;
    if (len === 0) return true;
    if (addr < 0) return false;
    const one = this.onePage(addr, len, true);
    if (typeof one === 'string') return false;
    if (one !== null) {
      one.data.set(data, one.off + (addr % this.pageSize));
      return true;
    }
    return this.access(addr, len, true, (d, off, n, done) => d.set(data.subarray(done, done + n), off)) === null;
  }

  /** strncpy_from_user(): the string up to NUL (at most `max` bytes), or null for EFAULT. */
  strncpyFromUser(addr: number, max: number): { bytes: Uint8Array; terminated: boolean } | null {
    if (addr < 0) return null;
    const out: number[] = [];
    let a = addr;
    while (out.length < max) {
      const b = this.copyFromUser(a, 1);
      if (b === null) return null;
      if (b[0] === 0) return { bytes: Uint8Array.from(out), terminated: true };
      out.push(b[0]!);
      a++;
    }
    return { bytes: Uint8Array.from(out), terminated: false };
  }
}

/** fault_around_bytes: the default 64 KiB (mm/memory.c). */
const FAULT_AROUND_BYTES = 65536;

/**
 * A set of page numbers kept as sorted, disjoint, joined ranges [start, end): the zero-page PTEs
 * of an address space, which a MAP_POPULATE of a terabyte of read-only memory makes in one step.
 */
export class PageRanges {
  private r: [number, number][] = [];

  has(vpn: number): boolean {
    let lo = 0;
    let hi = this.r.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.r[mid]!;
      if (vpn < a) hi = mid - 1;
      else if (vpn >= b) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Index of the first range that ends at or after `vpn`. */
  private lower(vpn: number): number {
    let lo = 0;
    let hi = this.r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.r[mid]![1] < vpn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds [start, end). */
  add(start: number, end: number): void {
    if (start >= end) return;
    const i = this.lower(start);
    let j = i;
    let s = start;
    let e = end;
    while (j < this.r.length && this.r[j]![0] <= e) {
      s = Math.min(s, this.r[j]![0]);
      e = Math.max(e, this.r[j]![1]);
      j++;
    }
    this.r.splice(i, j - i, [s, e]);
  }

  /** Removes [start, end) and returns the ranges removed. */
  drop(start: number, end: number): [number, number][] {
    if (this.r.length === 0 || start >= end) return [];
    let i = this.lower(start);
    // a range ending exactly at start does not overlap
    if (i < this.r.length && this.r[i]![1] === start) i++;
    let j = i;
    const gone: [number, number][] = [];
    const keep: [number, number][] = [];
    while (j < this.r.length && this.r[j]![0] < end) {
      const x = this.r[j]!;
      if (x[0] < start) keep.push([x[0], start]);
      if (x[1] > end) keep.push([end, x[1]]);
      gone.push([Math.max(x[0], start), Math.min(x[1], end)]);
      j++;
    }
    if (j > i) this.r.splice(i, j - i, ...keep);
    return gone;
  }

  /** The parts inside [start, end). */
  within(start: number, end: number): [number, number][] {
    const out: [number, number][] = [];
    for (const x of this.r) {
      const a = Math.max(x[0], start);
      const b = Math.min(x[1], end);
      if (a < b) out.push([a, b]);
    }
    return out;
  }

  clear(): void {
    this.r = [];
  }
}
