/**
 * The memory-management system calls of a process: mmap, munmap, mprotect, mremap, madvise,
 * msync, mlock/mlock2/munlock, mlockall/munlockall. Each checks its arguments in the kernel's
 * order and walks the VMAs as mm does: a change to part of a VMA splits it, a VMA that ends up
 * like its neighbour merges with it, VM_SPECIAL mappings (the dma-buf heaps' PFN maps) neither
 * merge nor grow nor lock. Every rule here was checked on the referees (Linux 6.1, 6.12 and 7.3,
 * test/oracle/issue-11); what changed between versions is a profile field (`MmFeatures`).
 * Every call returns a non-negative result or a negated errno, as the syscall ABI does.
 *
 * @kernel mm/mmap.c (ksys_mmap_pgoff, do_mmap, mmap_region, __vm_munmap), mm/mprotect.c
 *   (do_mprotect_pkey, mprotect_fixup), mm/mremap.c (mremap, mremap_to, vma_to_resize, move_vma),
 *   mm/madvise.c (do_madvise, madvise_walk_vmas, madvise_vma_behavior), mm/msync.c (msync),
 *   mm/mlock.c (do_mlock, apply_vma_lock_flags, mlock_fixup, apply_mlockall_flags), mm/gup.c
 *   (__mm_populate, populate_vma_page_range, faultin_vma_page_range)
 */
import { Errno } from '../../uapi/errno.js';
import type { Arch } from '../../uapi/fcntl.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE,
  PROT_EXEC, PROT_READ, PROT_WRITE,
} from '../../uapi/fcntl.js';
import {
  MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE,
  MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MADV_KEEPONFORK, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
  MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_WIPEONFORK, MAP_32BIT, MAP_DENYWRITE, MAP_DROPPABLE,
  MAP_EXECUTABLE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK, MAP_STACK, MAP_SYNC, MAP_UNINITIALIZED,
  MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, MS_ASYNC,
  MS_INVALIDATE, MS_SYNC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_SEM,
} from '../../uapi/mman.js';
import { FMODE_READ, FMODE_WRITE } from './file.js';
import type { File } from './file.js';
import { isCInt, isCLong, ulong } from './limits.js';
import {
  AddressSpace, MAX_MAP_COUNT, SharedAnon, Vma, VM_ACCOUNT, VM_DONTCOPY, VM_DONTDUMP, VM_DONTEXPAND, VM_DROPPABLE, VM_EXEC,
  VM_GROWSDOWN, VM_IO, VM_LOCKED, VM_LOCKED_MASK, VM_LOCKONFAULT, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE,
  VM_NORESERVE, VM_PFNMAP, VM_RAND_READ, VM_READ, VM_SEQ_READ, VM_SHARED, VM_SPECIAL, VM_SYNC, VM_WIPEONFORK, VM_WRITE,
  isSharedMaywrite, vmaLinkFile,
} from './mm-user.js';
import type { FaultKind } from './mm-user.js';

const E = Errno;

/** What changed in mm between the kernel versions the profiles stand for (src/kernel/profile.ts). */
export interface MmFeatures {
  /** v6.11: MAP_DROPPABLE. */
  readonly mapDroppable: boolean;
  /** v6.13 (anonymous), v6.15 (file-backed): MADV_GUARD_INSTALL / MADV_GUARD_REMOVE. */
  readonly guardRegions: 'none' | 'anon' | 'file';
  /** v6.17: mremap(MREMAP_FIXED) moves a range of several VMAs and holes. */
  readonly mremapMultiVma: boolean;
  /** Before v5.16: mremap's shrink path runs without a VMA lookup (Profile.mremapShrinkUnchecked). */
  readonly mremapShrinkUnchecked?: boolean;
  /** v6.16: a VMA with an anon_vma merges into a neighbour without one (mm/vma.c is_mergeable_anon_vma). */
  readonly mergeIntoNoAnonVma: boolean;
}

/** The features of the oldest profile (6.1). */
export const MM_FEATURES_6_1: MmFeatures = Object.freeze({ mapDroppable: false, guardRegions: 'none', mremapMultiVma: false, mergeIntoNoAnonVma: false });

/** What the mm calls need from the calling process. */
export interface MmCaller {
  readonly mm: AddressSpace;
  readonly pageSize: number;
  readonly arch: Arch;
  /** CAP_SYS_RAWIO (below vm.mmap_min_addr) and CAP_IPC_LOCK (past RLIMIT_MEMLOCK): root. */
  readonly privileged: boolean;
  /** RLIMIT_MEMLOCK's soft limit in bytes. */
  readonly memlockLimit: number;
  readonly features: MmFeatures;
  /** fget(): the open file behind `fd` (not an O_PATH one), or null. */
  file(fd: number): File | null;
  /** __vm_enough_memory() for a charged mapping of `pages` pages. */
  vmEnoughMemory(pages: number): boolean;
  /** get_next_ino() of the internal tmpfs mount (the shmem file of shared anonymous memory). */
  newShmemIno(): number;
  /** A VMA taken out of the address space goes: vm_ops->close, i_mmap_writable, fput. */
  closeVma(v: Vma): void;
  /** A fatal signal is pending (populate loops stop, with EINTR). */
  readonly fatalSignalPending: boolean;
}

/** LEGACY_MAP_MASK: the flags MAP_SHARED_VALIDATE accepts (include/linux/mman.h; MAP_32BIT is x86's only). */
function legacyMapMask(arch: Arch): number {
  return MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN |
    MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | (arch === 'x86_64' ? MAP_32BIT : 0) |
    // MAP_HUGE_2MB | MAP_HUGE_1GB
    (21 << 26) | (30 << 26);
}

/** calc_vm_prot_bits(): PROT_READ/WRITE/EXEC as VM_READ/WRITE/EXEC (other bits are ignored). */
function protBits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/** calc_vm_flag_bits(): MAP_GROWSDOWN, MAP_LOCKED and MAP_SYNC (kept even for plain MAP_SHARED, as the referees' smaps show). */
function flagBits(flags: number): number {
  return (flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0) | (flags & MAP_LOCKED ? VM_LOCKED : 0) | (flags & MAP_SYNC ? VM_SYNC : 0);
}

/** can_do_mlock(): a nonzero RLIMIT_MEMLOCK, or CAP_IPC_LOCK. */
function canDoMlock(c: MmCaller): boolean {
  return c.memlockLimit !== 0 || c.privileged;
}

/** mlock_future_ok(): a VM_LOCKED mapping of `bytes` more fits RLIMIT_MEMLOCK (or CAP_IPC_LOCK). */
function mlockFutureOk(c: MmCaller, vmFlags: number, bytes: number): boolean {
  if ((vmFlags & VM_LOCKED) === 0 || c.privileged) return true;
  return c.mm.lockedVm + bytes / c.pageSize <= Math.floor(c.memlockLimit / c.pageSize);
}

/** PAGE_ALIGN() of an unsigned long: the aligned value, or 0 when it wraps past 2^64. */
function pageAlign(n: number, ps: number): number {
  const a = Math.ceil(n / ps) * ps;
  return a >= 2 ** 64 ? 0 : a;
}

/** MAX_LFS_FILESIZE and ULONG_MAX, exactly. */
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;
const ULONG_MAX = (1n << 64n) - 1n;

/**
 * file_mmap_ok(): a regular file may be mapped up to MAX_LFS_FILESIZE, anything else (a dma-buf:
 * its inode has no file type) up to ULONG_MAX; `pgoff` and `len` must fit below that.
 * @kernel mm/mmap.c file_mmap_size_max, file_mmap_ok
 */
function fileMmapOk(file: File, pgoff: bigint, len: number, ps: number): boolean {
  const t = file.inode.mode & 0o170000;
  const max = t === 0o100000 || t === 0o060000 || t === 0o140000 ? MAX_LFS_FILESIZE : ULONG_MAX;
  const l = BigInt(len);
  if (l > max) return false;
  return pgoff <= (max - l) / BigInt(ps);
}

/**
 * mmap(2): the arch entry (the offset must be page aligned), ksys_mmap_pgoff() (the fd, then
 * MAP_HUGETLB: no hugetlbfs, so EINVAL for a file and for anonymous memory), do_mmap() (length
 * 0: EINVAL; PAGE_ALIGN wrapping: ENOMEM; more than vm.max_map_count mappings: ENOMEM; the
 * address: get_unmapped_area(); MAP_FIXED_NOREPLACE over a mapping: EEXIST; MAP_LOCKED without
 * RLIMIT_MEMLOCK: EPERM, past it: EAGAIN; a file: file_mmap_ok() (EOVERFLOW), MAP_SHARED drops
 * the flags LEGACY_MAP_MASK does not know, MAP_SHARED_VALIDATE refuses them (EOPNOTSUPP),
 * writable MAP_SHARED of a file not open for writing: EACCES, a file not open for reading:
 * EACCES, PROT_EXEC from a noexec mount: EPERM, no mmap op: ENODEV, MAP_GROWSDOWN: EINVAL, a
 * map type but MAP_SHARED(_VALIDATE)/MAP_PRIVATE: EINVAL; anonymous memory: only MAP_SHARED,
 * MAP_PRIVATE and (6.11+) MAP_DROPPABLE), then mmap_region(): MAP_FIXED unmaps what is there
 * first (a failure later leaves the hole), the overcommit charge, expanding a neighbour of the
 * same file or anonymous memory instead of making a VMA (the driver's mmap op is then not
 * called), else the driver's mmap op; VM_LOCKED is dropped for VM_SPECIAL mappings; and
 * MAP_POPULATE (without MAP_NONBLOCK) or VM_LOCKED fault the pages in.
 * @kernel arch/x86/kernel/sys_x86_64.c sys_mmap; mm/mmap.c ksys_mmap_pgoff, do_mmap, mmap_region
 */
export function doMmap(c: MmCaller, addr: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  const ps = c.pageSize;
  const mm = c.mm;
  if (!isCLong(addr) || !isCLong(length) || !isCInt(prot) || !isCInt(flags) || !isCLong(offset)) return -E.EINVAL;
  if (!Number.isInteger(fd)) return -E.EBADF;
  if (offset % ps !== 0) return -E.EINVAL;
  // the offset is an unsigned long: a negative one is a huge page offset
  const pgoff = offset >= 0 ? BigInt(offset / ps) : BigInt(2 ** 64 / ps) + BigInt(offset / ps);
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  let file: File | null = null;
  if (!anonymous) {
    file = c.file(fd);
    if (file === null) return -E.EBADF;
    if ((flags & MAP_HUGETLB) !== 0) return -E.EINVAL;
  } else if ((flags & MAP_HUGETLB) !== 0) {
    return -E.EINVAL;
  }
  if (length === 0) return -E.EINVAL;
  if ((flags & MAP_FIXED_NOREPLACE) !== 0) flags |= MAP_FIXED;
  const len = pageAlign(ulong(length), ps);
  if (len === 0) return -E.ENOMEM;
  if (pgoff + BigInt(len / ps) >= 1n << 64n) return -E.EOVERFLOW;
  if (mm.vmas.length > MAX_MAP_COUNT) return -E.ENOMEM;
  const fixed = (flags & MAP_FIXED) !== 0;
  const start = mm.getUnmappedArea(ulong(addr), len, fixed, c.privileged, (flags & MAP_32BIT) !== 0 && c.arch === 'x86_64');
  if (start < 0) return start;
  if ((flags & MAP_FIXED_NOREPLACE) !== 0 && !mm.isFree(start, start + len)) return -E.EEXIST;
  let vmFlags = protBits(prot) | flagBits(flags) | mm.defFlags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if ((flags & MAP_LOCKED) !== 0 && !canDoMlock(c)) return -E.EPERM;
  if (!mlockFutureOk(c, vmFlags, len)) return -E.EAGAIN;
  let vmPgoff: number;
  if (file !== null) {
    if (!fileMmapOk(file, pgoff, len, ps)) return -E.EOVERFLOW;
    const legacy = legacyMapMask(c.arch);
    const type = flags & MAP_TYPE;
    if (type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE && type !== MAP_PRIVATE) return -E.EINVAL;
    if (type !== MAP_PRIVATE) {
      // MAP_SHARED ignores what LEGACY_MAP_MASK does not know; MAP_SHARED_VALIDATE refuses it
      // (no emulated file has mmap_supported_flags: MAP_SYNC is for DAX)
      if (type === MAP_SHARED_VALIDATE && (flags & ~legacy) !== 0) return -E.EOPNOTSUPP;
      if ((prot & PROT_WRITE) !== 0 && (file.mode & FMODE_WRITE) === 0) return -E.EACCES;
      vmFlags |= VM_SHARED | VM_MAYSHARE;
      // a read-only file can never be written through this mapping
      if ((file.mode & FMODE_WRITE) === 0) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
    }
    if ((file.mode & FMODE_READ) === 0) return -E.EACCES;
    if (file.fop.noexec === true) {
      // path_noexec(): a pseudo file system mounted noexec
      if ((vmFlags & VM_EXEC) !== 0) return -E.EPERM;
      vmFlags &= ~VM_MAYEXEC;
    }
    if (file.fop.mmap === undefined) return -E.ENODEV;
    if ((vmFlags & VM_GROWSDOWN) !== 0) return -E.EINVAL;
    // an offset past what the page index of a JS number holds cannot name a page of any
    // emulated file: the driver's bounds check refuses it (a dma-buf: EINVAL)
    vmPgoff = pgoff > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(pgoff);
  } else {
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if ((vmFlags & VM_GROWSDOWN) !== 0) return -E.EINVAL;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        vmPgoff = 0;
        break;
      case MAP_DROPPABLE:
        if (!c.features.mapDroppable) return -E.EINVAL;
        // a locked or growing droppable area makes no sense; its pages are neither reserved,
        // inherited nor dumped
        if ((flags & MAP_LOCKED) !== 0 || (vmFlags & VM_GROWSDOWN) !== 0) return -E.EINVAL;
        vmFlags |= VM_DROPPABLE | VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP;
        vmPgoff = start / ps;
        break;
      case MAP_PRIVATE:
        vmPgoff = start / ps;
        break;
      default:
        return -E.EINVAL;
    }
  }
  // vm.overcommit_memory is not OVERCOMMIT_NEVER: MAP_NORESERVE is honoured
  if ((flags & MAP_NORESERVE) !== 0) vmFlags |= VM_NORESERVE;
  const r = mmapRegion(c, file, start, len, vmFlags, vmPgoff);
  if (r < 0) return r;
  if ((vmFlags & VM_LOCKED) !== 0 || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE) populate(c, start, start + len, true);
  return start;
}

/**
 * mmap_region(): the mapping of [start, start + len), after the flag checks.
 * @kernel mm/mmap.c mmap_region, accountable_mapping; mm/shmem.c shmem_zero_setup
 */
function mmapRegion(c: MmCaller, file: File | null, start: number, len: number, vmFlags: number, pgoff: number): number {
  const mm = c.mm;
  const ps = c.pageSize;
  const end = start + len;
  const npages = len / ps;
  // MAP_FIXED: what is mapped there goes first
  if (!mm.isFree(start, end)) {
    if (mm.splitsFor(start, end) > 0 && mm.vmas.length >= MAX_MAP_COUNT) return -E.ENOMEM;
    unmapRange(c, start, end);
  }
  // a private writable mapping is charged against the overcommit policy (accountable_mapping),
  // and shared anonymous memory's shmem file likewise whatever the protection
  // (shmem_zero_setup -> shmem_acct_size), unless MAP_NORESERVE
  if ((vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE) {
    if (!c.vmEnoughMemory(npages)) return -E.ENOMEM;
    vmFlags |= VM_ACCOUNT;
  } else if (file === null && (vmFlags & VM_SHARED) !== 0 && (vmFlags & VM_NORESERVE) === 0 && !c.vmEnoughMemory(npages)) {
    return -E.ENOMEM;
  }
  let vma: Vma;
  const old = mm.expandable(start, end, vmFlags, file, pgoff);
  if (old !== null) {
    // vma_expand(): the neighbour grows over the range; the driver's mmap op is not called
    vma = mm.expandOver(old, start, end);
  } else {
    const v = new Vma(start, end, vmFlags, file, pgoff);
    if (file !== null) {
      file.get(); // the mapping holds the file (vma->vm_file)
      const r = file.fop.mmap!(file, v);
      if (r < 0) {
        file.put();
        return r;
      }
      // after call_mmap() (whose seal check may have taken VM_MAYWRITE from a read-only shared
      // mapping), a shared mapping that may become writable must be allowed by
      // mapping_map_writable(), which a write seal denies (EPERM)
      const w = file.inode.mmapWritable;
      if (w !== undefined && w < 0 && isSharedMaywrite(v.vmFlags)) {
        v.onClose?.(v);
        file.put();
        return -E.EPERM;
      }
    } else if ((vmFlags & VM_SHARED) !== 0) {
      v.shm = new SharedAnon(c.newShmemIno(), npages);
      v.shm.vmas.add(v);
    }
    mm.insert(v);
    if (file !== null) vmaLinkFile(v);
    // the driver may have changed the flags: merging is tried again (VM_SPECIAL never merges)
    vma = mm.mergeNeighbours(v);
    if ((v.vmFlags & VM_LOCKED) !== 0 && (v.vmFlags & VM_SPECIAL) !== 0) v.vmFlags &= ~VM_LOCKED_MASK;
  }
  if ((vma.vmFlags & VM_LOCKED) !== 0) mm.lockedVm += npages;
  return 0;
}

/** do_vmi_munmap() of a checked, page-aligned range: the VMAs there go (closed, their files put). */
function unmapRange(c: MmCaller, start: number, end: number): void {
  const { removed } = c.mm.unmap(start, end);
  for (const v of removed) c.closeVma(v);
}

/**
 * munmap(2): an unaligned address, a range reaching past TASK_SIZE (a negative address or
 * length is a huge unsigned one) or an empty one → EINVAL; splitting a VMA in two when the
 * process already has vm.max_map_count of them → ENOMEM.
 * @kernel mm/mmap.c __vm_munmap, do_vmi_munmap, do_vmi_align_munmap
 */
export function doMunmap(c: MmCaller, addr: number, length: number): number {
  const ps = c.pageSize;
  if (!isCLong(addr) || !isCLong(length)) return -E.EINVAL;
  const top = c.mm.layout.taskSize;
  const a = ulong(addr);
  const l = ulong(length);
  if (a % ps !== 0 || a > top || l > top - a) return -E.EINVAL;
  const len = Math.ceil(l / ps) * ps;
  if (len === 0) return -E.EINVAL;
  if (c.mm.splitsFor(a, a + len) > 0 && c.mm.vmas.length >= MAX_MAP_COUNT) return -E.ENOMEM;
  unmapRange(c, a, a + len);
  return 0;
}

/**
 * Changes the flags of [start, end) inside `vma` as mprotect_fixup(), madvise_update_vma() and
 * mlock_fixup() do: the VMA is split at the range's edges (each split needs room under
 * vm.max_map_count: ENOMEM), takes the new flags, and merges with its neighbours where it can.
 * Returns the VMA holding the range, or -ENOMEM.
 */
function setFlags(mm: AddressSpace, vma: Vma, start: number, end: number, newFlags: number): Vma | number {
  if (newFlags === vma.vmFlags) return vma;
  let v = vma;
  if (start > v.start) {
    if (mm.vmas.length >= MAX_MAP_COUNT) return -E.ENOMEM;
    v = mm.splitAt(start)!;
  }
  if (end < v.end) {
    if (mm.vmas.length >= MAX_MAP_COUNT) return -E.ENOMEM;
    mm.splitAt(end);
  }
  v.vmFlags = newFlags;
  return mm.mergeNeighbours(v);
}

/**
 * mprotect(2): PROT_GROWSDOWN with PROT_GROWSUP → EINVAL; an unaligned start → EINVAL; length 0
 * → 0 (even unmapped); a range that wraps → ENOMEM; protection bits beyond
 * READ|WRITE|EXEC|SEM → EINVAL (arch_validate_prot); no VMA at the start → ENOMEM;
 * PROT_GROWSDOWN needs a VM_GROWSDOWN VMA and PROT_GROWSUP a VM_GROWSUP one (none on x86-64
 * or arm64) → EINVAL. Then VMA by VMA: a protection the VMA may not have (VM_MAY* cleared: a
 * shared mapping of a read-only file is never writable, a noexec one never executable) →
 * EACCES; a private mapping becoming writable is charged (ENOMEM); the VMA splits and merges;
 * a hole before the end → ENOMEM. Each VMA changed before the failing one keeps its change.
 * @kernel mm/mprotect.c do_mprotect_pkey, mprotect_fixup; include/linux/mman.h arch_validate_prot
 */
export function doMprotect(c: MmCaller, addr: number, length: number, prot: number): number {
  const ps = c.pageSize;
  const mm = c.mm;
  if (!isCLong(addr) || !isCLong(length) || !isCInt(prot)) return -E.EINVAL;
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return -E.EINVAL;
  let start = ulong(addr);
  if (start % ps !== 0) return -E.EINVAL;
  if (length === 0) return 0;
  const len = pageAlign(ulong(length), ps);
  let end = start + len;
  if (len === 0 || end >= 2 ** 64) return -E.ENOMEM;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0) return -E.EINVAL;
  let vma = mm.findAbove(start);
  if (vma === null) return -E.ENOMEM;
  if ((grows & PROT_GROWSDOWN) !== 0) {
    if (vma.start >= end) return -E.ENOMEM;
    start = vma.start;
    if ((vma.vmFlags & VM_GROWSDOWN) === 0) return -E.EINVAL;
  } else {
    if (vma.start > start) return -E.ENOMEM;
    if ((grows & PROT_GROWSUP) !== 0) {
      end = vma.end;
      return -E.EINVAL; // no VM_GROWSUP VMA on x86-64 or arm64
    }
  }
  let nstart = start;
  for (;;) {
    // each call passes r/w/x explicitly: what it does not pass is cleared
    const newFlags = protBits(prot) | (vma.vmFlags & ~(VM_READ | VM_WRITE | VM_EXEC));
    // newflags >> 4 puts VM_MAY* where VM_* are
    if ((newFlags & ~(newFlags >> 4) & (VM_READ | VM_WRITE | VM_EXEC)) !== 0) return -E.EACCES;
    const tmp = Math.min(vma.end, end);
    const r = mprotectFixup(c, vma, nstart, tmp, newFlags);
    if (typeof r === 'number') return r;
    nstart = tmp;
    if (nstart < r.end) nstart = r.end;
    if (nstart >= end) return 0;
    const next = mm.findAbove(nstart);
    if (next === null || next.start !== nstart) return -E.ENOMEM;
    vma = next;
  }
}

/**
 * mprotect_fixup(): a private mapping that becomes writable for the first time is charged
 * against the overcommit policy (VM_ACCOUNT, ENOMEM); then the flags change (split, merge).
 */
function mprotectFixup(c: MmCaller, vma: Vma, start: number, end: number, newFlags: number): Vma | number {
  if (newFlags === vma.vmFlags) return vma;
  if ((newFlags & VM_WRITE) !== 0 && (vma.vmFlags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) === 0) {
    if (!c.vmEnoughMemory((end - start) / c.pageSize)) return -E.ENOMEM;
    newFlags |= VM_ACCOUNT;
  }
  return setFlags(c.mm, vma, start, end, newFlags);
}

/**
 * mremap(2): flags beyond MAYMOVE|FIXED|DONTUNMAP → EINVAL; FIXED or DONTUNMAP without MAYMOVE
 * → EINVAL; DONTUNMAP with a new length → EINVAL; an unaligned old address → EINVAL; a new
 * length of 0 → EINVAL; no VMA at the old address → EFAULT. FIXED or DONTUNMAP go to
 * mremap_to(); a shrink unmaps the tail in place; a growth needs a VMA that may grow (an old
 * length of 0 only for shared mappings: EINVAL; DONTEXPAND or PFNMAP: EFAULT; the old range
 * inside the VMA: EFAULT; RLIMIT_MEMLOCK: EAGAIN) and grows in place when the pages after it
 * are free, else moves with MAYMOVE (else ENOMEM). From 6.17, MREMAP_FIXED without resizing
 * moves every VMA of a range that spans several (holes kept).
 * @kernel mm/mremap.c SYSCALL_DEFINE5(mremap), vma_to_resize, mremap_to, move_vma, vma_expandable
 */
export function doMremap(c: MmCaller, oldAddr: number, oldLength: number, newLength: number, flags: number, newAddr: number): number {
  const ps = c.pageSize;
  const mm = c.mm;
  if (!isCLong(oldAddr) || !isCLong(oldLength) || !isCLong(newLength) || !isCInt(flags) || !isCLong(newAddr)) return -E.EINVAL;
  if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) !== 0) return -E.EINVAL;
  if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) return -E.EINVAL;
  const addr = ulong(oldAddr);
  const rawOld = ulong(oldLength);
  const rawNew = ulong(newLength);
  if ((flags & MREMAP_DONTUNMAP) !== 0 && ((flags & MREMAP_MAYMOVE) === 0 || rawOld !== rawNew)) return -E.EINVAL;
  if (addr % ps !== 0) return -E.EINVAL;
  // PAGE_ALIGN() wraps a huge length to 0: the "duplicate a shared mapping" length
  const oldLen = pageAlign(rawOld, ps);
  const newLen = pageAlign(rawNew, ps);
  if (newLen === 0) return -E.EINVAL;
  // before v5.16 the shrink path runs without a VMA lookup (Profile.mremapShrinkUnchecked)
  const vma = mm.find(addr);
  if (vma === null && !(c.features.mremapShrinkUnchecked === true && (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) === 0 && oldLen >= newLen)) return -E.EFAULT;
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) return mremapTo(c, addr, oldLen, ulong(newAddr), newLen, flags);
  if (oldLen >= newLen) {
    // a shrink just unmaps the tail (nothing to unmap when the lengths are equal)
    if (oldLen !== newLen) {
      const r = doMunmap(c, addr + newLen, oldLen - newLen);
      if (r < 0) return r;
    }
    return addr;
  }
  const v = vmaToResize(c, addr, oldLen, newLen, flags);
  if (typeof v === 'number') return v;
  if (oldLen === v.end - addr && expandable(mm, v, newLen - oldLen)) {
    const pages = (newLen - oldLen) / ps;
    if ((v.vmFlags & VM_ACCOUNT) !== 0 && !c.vmEnoughMemory(pages)) return -E.ENOMEM;
    const g = mm.grow(v, addr + newLen);
    if ((g.vmFlags & VM_LOCKED) !== 0) {
      mm.lockedVm += pages;
      populate(c, addr + oldLen, addr + newLen, true);
    }
    return addr;
  }
  if ((flags & MREMAP_MAYMOVE) === 0) return -E.ENOMEM;
  const to = mm.getUnmappedArea(0, newLen, false, c.privileged);
  if (to < 0) return to;
  return moveVma(c, v, addr, oldLen, newLen, to, flags);
}

/** vma_expandable(): the pages after `v` are free up to its new end, inside TASK_SIZE. */
function expandable(mm: AddressSpace, v: Vma, delta: number): boolean {
  const end = v.end + delta;
  if (!mm.isFree(v.end, end)) return false;
  return mm.getUnmappedArea(v.start, end - v.start, true, true) >= 0;
}

/**
 * vma_to_resize(): the VMA at `addr` if [addr, addr + oldLen) may become newLen long: an old
 * length of 0 duplicates only a shared mapping (EINVAL), DONTUNMAP refuses PFN maps and
 * non-expandable ones (EINVAL), the old range must lie in the VMA (EFAULT); a growth refuses
 * VM_DONTEXPAND and VM_PFNMAP (EFAULT) and RLIMIT_MEMLOCK (EAGAIN).
 */
function vmaToResize(c: MmCaller, addr: number, oldLen: number, newLen: number, flags: number): Vma | number {
  const v = c.mm.find(addr);
  if (v === null) return -E.EFAULT;
  if (oldLen === 0 && (v.vmFlags & (VM_SHARED | VM_MAYSHARE)) === 0) return -E.EINVAL;
  if ((flags & MREMAP_DONTUNMAP) !== 0 && (v.vmFlags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return -E.EINVAL;
  if (oldLen > v.end - addr) return -E.EFAULT;
  if (newLen === oldLen) return v;
  if ((v.vmFlags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return -E.EFAULT;
  if (!mlockFutureOk(c, v.vmFlags, newLen - oldLen)) return -E.EAGAIN;
  return v;
}

/**
 * mremap_to(): the new address must be aligned (EINVAL) and fit under TASK_SIZE (EINVAL), the
 * ranges may not overlap (EINVAL); MREMAP_FIXED unmaps the new range first (it stays unmapped
 * when a later check fails), a shrink unmaps the old tail, then vma_to_resize(), the address
 * (the new one with MREMAP_FIXED, else a free range near it) and move_vma().
 */
function mremapTo(c: MmCaller, addr: number, oldLen: number, newAddr: number, newLen: number, flags: number): number {
  const mm = c.mm;
  const ps = c.pageSize;
  const top = mm.layout.taskSize;
  if (newAddr % ps !== 0) return -E.EINVAL;
  if (newLen > top || newAddr > top - newLen) return -E.EINVAL;
  if (addr + oldLen > newAddr && newAddr + newLen > addr) return -E.EINVAL;
  if (mm.vmas.length + 2 >= MAX_MAP_COUNT - 3) return -E.ENOMEM;
  const fixed = (flags & MREMAP_FIXED) !== 0;
  // 6.17+: a move without resizing may span several VMAs and holes
  if (c.features.mremapMultiVma && fixed && oldLen === newLen && oldLen > 0) {
    const first = mm.find(addr)!;
    if (addr + oldLen > first.end) return moveRangeMulti(c, addr, oldLen, newAddr, flags);
  }
  if (fixed) unmapRange(c, newAddr, newAddr + newLen);
  if (oldLen > newLen) {
    const r = doMunmap(c, addr + newLen, oldLen - newLen);
    if (r < 0) return r;
    oldLen = newLen;
  }
  const v = vmaToResize(c, addr, oldLen, newLen, flags);
  if (typeof v === 'number') return v;
  const to = mm.getUnmappedArea(newAddr, newLen, fixed, c.privileged);
  if (to < 0) return to;
  return moveVma(c, v, addr, oldLen, newLen, to, flags);
}

/**
 * move_vma(): [addr, addr + oldLen) of `v` moves to `to` with its pages (a growth adds pages
 * after it); without DONTUNMAP the old range goes (a locked VMA keeps its lock accounting),
 * with it the old VMA stays empty and unlocked.
 */
function moveVma(c: MmCaller, v: Vma, addr: number, oldLen: number, newLen: number, to: number, flags: number): number {
  const mm = c.mm;
  const ps = c.pageSize;
  if (mm.vmas.length >= MAX_MAP_COUNT - 3) return -E.ENOMEM;
  const dontunmap = (flags & MREMAP_DONTUNMAP) !== 0;
  // a DONTUNMAP copy of a private writable mapping is charged anew
  if (dontunmap && (v.vmFlags & VM_ACCOUNT) !== 0 && !c.vmEnoughMemory(newLen / ps)) return -E.ENOMEM;
  const locked = (v.vmFlags & VM_LOCKED) !== 0;
  if (oldLen === 0) {
    // the "duplicate a shared mapping" case: a new VMA of the same pages, nothing moves
    const dup = v.cloneRange(addr, addr + ps, ps);
    dup.populated = null;
    dup.start = to;
    dup.end = to + newLen;
    dup.file?.get();
    dup.shm?.vmas.add(dup);
    vmaLinkFile(dup);
    mm.insert(dup);
    mm.mergeNeighbours(dup);
    if ((dup.vmFlags & VM_LOCKED) !== 0) {
      mm.lockedVm += newLen / ps;
      populate(c, to, to + newLen, true);
    }
    return to;
  }
  // the old range becomes a VMA of its own
  let piece = v;
  if (addr > piece.start) piece = mm.splitAt(addr)!;
  if (addr + oldLen < piece.end) mm.splitAt(addr + oldLen);
  let moved: Vma;
  if (dontunmap) {
    moved = mm.relocateCopy(piece, to);
    if (locked) mm.lockedVm -= oldLen / ps;
  } else {
    moved = mm.relocate(piece, to);
  }
  if (newLen > oldLen) {
    const g = mm.find(to + oldLen - ps)!;
    const grown = mm.grow(g, to + newLen);
    if ((grown.vmFlags & VM_LOCKED) !== 0) mm.lockedVm += (newLen - oldLen) / ps;
    moved = grown;
  }
  if (locked && dontunmap) mm.lockedVm += newLen / ps;
  if ((moved.vmFlags & VM_LOCKED) !== 0 && newLen > oldLen) populate(c, to + oldLen, to + newLen, true);
  return to;
}

/**
 * 6.17+: MREMAP_FIXED of a same-sized range that spans several VMAs: each VMA (or part) moves
 * to the same offset from `to`, the holes stay holes; PFN maps move too, but DONTUNMAP still
 * refuses them (EINVAL). The range must start in a VMA (EFAULT before, checked by the caller).
 * @kernel mm/mremap.c remap_move (v6.17)
 */
function moveRangeMulti(c: MmCaller, addr: number, len: number, to: number, flags: number): number {
  const mm = c.mm;
  const dontunmap = (flags & MREMAP_DONTUNMAP) !== 0;
  const pieces: Vma[] = [];
  for (let v = mm.findAbove(addr); v !== null && v.start < addr + len; v = mm.findAbove(v.end)) {
    if (dontunmap && (v.vmFlags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return -E.EINVAL;
    pieces.push(v);
  }
  unmapRange(c, to, to + len);
  if (mm.splitsNeeded(addr, addr + len) > 0) {
    mm.splitAt(addr);
    mm.splitAt(addr + len);
  }
  const parts: Vma[] = [];
  for (let v = mm.findAbove(addr); v !== null && v.start < addr + len; v = mm.findAbove(v.end)) parts.push(v);
  for (const p of parts) {
    const dest = to + (p.start - addr);
    const locked = (p.vmFlags & VM_LOCKED) !== 0;
    if (dontunmap) {
      mm.relocateCopy(p, dest);
      if (locked) mm.lockedVm -= p.length / c.pageSize;
    } else {
      mm.relocate(p, dest);
    }
  }
  return to;
}

/**
 * __mm_populate() / populate_vma_page_range() over [start, end): every VMA but PFN and I/O maps
 * and VM_LOCKONFAULT ones has its pages faulted in as get_user_pages() would (a write fault
 * for a private writable VMA, else a read fault, which maps the shared zero page into
 * never-written private anonymous memory; never a PROT_NONE VMA). With `ignoreErrors` a fault stops only
 * that VMA; without, the first one is returned: EFAULT (SIGBUS), ENOMEM (no page), EINTR (the
 * process was killed).
 * @kernel mm/gup.c __mm_populate, populate_vma_page_range
 */
function populate(c: MmCaller, start: number, end: number, ignoreErrors: boolean): number {
  const mm = c.mm;
  let nstart = start;
  while (nstart < end) {
    const v = mm.findAbove(nstart);
    if (v === null || v.start >= end) break;
    const nend = Math.min(end, v.end);
    if ((v.vmFlags & (VM_IO | VM_PFNMAP)) !== 0 || (v.vmFlags & VM_LOCKONFAULT) !== 0) {
      nstart = nend;
      continue;
    }
    if (nstart < v.start) nstart = v.start;
    const r = populateVma(c, v, nstart, nend);
    if (r < 0 && !ignoreErrors) return r;
    if (c.fatalSignalPending || mm.dying) return -E.EINTR;
    nstart = nend;
  }
  return 0;
}

/** The faults of populate_vma_page_range() over [start, end) of `v`: 0, or the first error. */
function populateVma(c: MmCaller, v: Vma, start: number, end: number): number {
  const ps = c.pageSize;
  const f = v.vmFlags;
  if ((f & (VM_READ | VM_WRITE | VM_EXEC)) === 0) return -E.EFAULT;
  const write = (f & (VM_WRITE | VM_SHARED)) === VM_WRITE;
  // read faults of private anonymous memory map the zero page: one step for the whole range
  if (!write && c.mm.mapZeroPages(v, start, end)) return 0;
  for (let a = start; a < end; a += ps) {
    const fault = c.mm.faultIn(v, (a - v.start) / ps, write);
    if (fault !== null) return faultErrno(c, fault);
  }
  return 0;
}

/** What get_user_pages() returns for a fault: SIGBUS/SIGSEGV → EFAULT, no page → ENOMEM (EINTR once killed). */
function faultErrno(c: MmCaller, f: FaultKind): number {
  if (f === 'SIGKILL') return c.fatalSignalPending || c.mm.dying ? -E.EINTR : -E.ENOMEM;
  return -E.EFAULT;
}

/** madvise_behavior_valid() for a profile: the advice this kernel knows. */
function adviceValid(c: MmCaller, advice: number): boolean {
  switch (advice) {
    case MADV_DOFORK: case MADV_DONTFORK: case MADV_NORMAL: case MADV_SEQUENTIAL: case MADV_RANDOM: case MADV_REMOVE:
    case MADV_WILLNEED: case MADV_DONTNEED: case MADV_DONTNEED_LOCKED: case MADV_FREE: case MADV_COLD: case MADV_PAGEOUT:
    case MADV_POPULATE_READ: case MADV_POPULATE_WRITE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
      return true;
    case MADV_GUARD_INSTALL: case MADV_GUARD_REMOVE:
      return c.features.guardRegions !== 'none';
    default:
      // MADV_MERGEABLE (no KSM), MADV_HUGEPAGE/NOHUGEPAGE/COLLAPSE (no THP), MADV_HWPOISON and
      // MADV_SOFT_OFFLINE (no MEMORY_FAILURE): not built in, as on the referees
      return false;
  }
}

/**
 * madvise(2): unknown advice → EINVAL (first, even for length 0); an unaligned start → EINVAL;
 * a length that rounds to 0 or wraps → EINVAL; length 0 → 0. POPULATE_READ/WRITE fault pages
 * in (a hole: ENOMEM; a PFN/IO map or the wrong protection: EINVAL; SIGBUS: EFAULT). The rest
 * walk the VMAs: holes are skipped and reported as ENOMEM at the end, the first failing VMA
 * stops the walk. Per advice: NORMAL/RANDOM/SEQUENTIAL set the read-ahead flags, DONTFORK/
 * DOFORK VM_DONTCOPY (DOFORK: EINVAL on VM_IO), WIPEONFORK/KEEPONFORK VM_WIPEONFORK (private
 * anonymous memory only: EINVAL), DONTDUMP/DODUMP VM_DONTDUMP (DODUMP: EINVAL on VM_SPECIAL);
 * DONTNEED zaps the pages (EINVAL for VM_PFNMAP, and VM_LOCKED unless DONTNEED_LOCKED), FREE
 * likewise but only for private anonymous memory (the pages stay until reclaim: nothing to
 * do here); COLD/PAGEOUT: EINVAL for VM_LOCKED/VM_PFNMAP (no swap: nothing moves); WILLNEED:
 * EBADF for anonymous memory (no swap), else 0; REMOVE punches a hole in the shmem file behind
 * a shared mapping that may be written (EINVAL for VM_LOCKED or no file, EACCES without VM_SHARED
 * and VM_MAYWRITE, whatever the protection, ENODEV for a file that is not regular: a dma-buf); GUARD_INSTALL (6.13,
 * 6.15 for files) zaps and makes the pages SIGSEGV (EINVAL for VM_SPECIAL, VM_LOCKED, a file
 * mapping before 6.15), GUARD_REMOVE lifts that. A split past vm.max_map_count: EAGAIN.
 * @kernel mm/madvise.c do_madvise, madvise_walk_vmas, madvise_vma_behavior, madvise_update_vma,
 *   madvise_dontneed_free_valid_vma, madvise_willneed, madvise_remove, madvise_populate; mm/vma.c (guards)
 */
export function doMadvise(c: MmCaller, addr: number, length: number, advice: number): number {
  const ps = c.pageSize;
  const mm = c.mm;
  if (!isCLong(addr) || !isCLong(length) || !isCInt(advice)) return -E.EINVAL;
  if (!adviceValid(c, advice)) return -E.EINVAL;
  let start = ulong(addr);
  if (start % ps !== 0) return -E.EINVAL;
  const lenIn = ulong(length);
  const len = pageAlign(lenIn, ps);
  if (lenIn !== 0 && len === 0) return -E.EINVAL;
  const end = start + len;
  if (end >= 2 ** 64) return -E.EINVAL;
  if (end === start) return 0;
  if (advice === MADV_POPULATE_READ || advice === MADV_POPULATE_WRITE) return madvisePopulate(c, start, end, advice === MADV_POPULATE_WRITE);
  let unmapped = 0;
  let vma = mm.findAbove(start);
  for (;;) {
    if (vma === null) return -E.ENOMEM;
    if (start < vma.start) {
      unmapped = -E.ENOMEM;
      start = vma.start;
      if (start >= end) break;
    }
    const tmp = Math.min(vma.end, end);
    const r = madviseVma(c, vma, start, tmp, advice);
    if (r < 0) return r;
    start = tmp;
    if (start >= end) break;
    vma = mm.findAbove(start);
  }
  return unmapped;
}

/** madvise_vma_behavior() for [start, end) inside `vma`: 0 or a negated errno. */
function madviseVma(c: MmCaller, vma: Vma, start: number, end: number, advice: number): number {
  const mm = c.mm;
  let newFlags = vma.vmFlags;
  switch (advice) {
    case MADV_REMOVE: return madviseRemove(c, vma, start, end);
    case MADV_WILLNEED:
      // no swap: anonymous memory has nothing to read ahead (madvise_willneed without CONFIG_SWAP)
      return vma.file === null && vma.shm === null ? -E.EBADF : 0;
    case MADV_COLD:
    case MADV_PAGEOUT:
      // can_madv_lru_vma(); no swap or reclaim: the pages stay
      return (vma.vmFlags & (VM_LOCKED | VM_PFNMAP)) !== 0 ? -E.EINVAL : 0;
    case MADV_FREE:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED: {
      const forbidden = VM_PFNMAP | (advice === MADV_DONTNEED_LOCKED ? 0 : VM_LOCKED);
      if ((vma.vmFlags & forbidden) !== 0) return -E.EINVAL;
      if (advice === MADV_FREE) {
        // only private anonymous memory: its pages are freed lazily, under memory pressure
        // (reclaim is not modelled, so they keep their contents until written or unmapped)
        return vma.file === null && vma.shm === null ? 0 : -E.EINVAL;
      }
      mm.zapRange(vma, start, end);
      return 0;
    }
    case MADV_GUARD_INSTALL: {
      const fileOk = c.features.guardRegions === 'file';
      if ((vma.vmFlags & (VM_SPECIAL | VM_LOCKED)) !== 0 || (!fileOk && (vma.file !== null || vma.shm !== null))) return -E.EINVAL;
      mm.installGuards(vma, start, end);
      return 0;
    }
    case MADV_GUARD_REMOVE: {
      const fileOk = c.features.guardRegions === 'file';
      if ((vma.vmFlags & VM_SPECIAL) !== 0 || (!fileOk && (vma.file !== null || vma.shm !== null))) return -E.EINVAL;
      mm.removeGuards(start, end);
      return 0;
    }
    case MADV_NORMAL: newFlags &= ~(VM_RAND_READ | VM_SEQ_READ); break;
    case MADV_SEQUENTIAL: newFlags = (newFlags & ~VM_RAND_READ) | VM_SEQ_READ; break;
    case MADV_RANDOM: newFlags = (newFlags & ~VM_SEQ_READ) | VM_RAND_READ; break;
    case MADV_DONTFORK: newFlags |= VM_DONTCOPY; break;
    case MADV_DOFORK:
      if ((vma.vmFlags & VM_IO) !== 0) return -E.EINVAL;
      newFlags &= ~VM_DONTCOPY;
      break;
    case MADV_WIPEONFORK:
      // only private anonymous memory
      if (vma.file !== null || (vma.vmFlags & VM_SHARED) !== 0) return -E.EINVAL;
      newFlags |= VM_WIPEONFORK;
      break;
    case MADV_KEEPONFORK: newFlags &= ~VM_WIPEONFORK; break;
    case MADV_DONTDUMP: newFlags |= VM_DONTDUMP; break;
    case MADV_DODUMP:
      if ((newFlags & VM_SPECIAL) !== 0) return -E.EINVAL;
      newFlags &= ~VM_DONTDUMP;
      break;
    default: return -E.EINVAL;
  }
  const r = setFlags(mm, vma, start, end, newFlags);
  // madvise returns EAGAIN where the kernel resources (a split) are missing
  return typeof r === 'number' ? (r === -E.ENOMEM ? -E.EAGAIN : r) : 0;
}

/**
 * madvise_remove(): a hole punched in the file behind a shared mapping that may be written
 * (vfs_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)): shmem drops the pages (memfd,
 * shared anonymous memory); a file that is not regular (a dma-buf) is ENODEV, one without
 * fallocate EOPNOTSUPP.
 */
function madviseRemove(c: MmCaller, vma: Vma, start: number, end: number): number {
  const ps = c.pageSize;
  if ((vma.vmFlags & VM_LOCKED) !== 0) return -E.EINVAL;
  if (vma.file === null && vma.shm === null) return -E.EINVAL;
  // vma_is_shared_maywrite(): VM_SHARED and VM_MAYWRITE, whatever the protection now is (the
  // 6.1/6.12/7.3 referees: a memfd mapping mprotect'ed read-only: 0; one of an O_RDONLY fd: EACCES)
  if (!isSharedMaywrite(vma.vmFlags)) return -E.EACCES;
  const first = vma.pgoff + (start - vma.start) / ps;
  const count = (end - start) / ps;
  if (vma.shm !== null) {
    AddressSpace.punchShared(vma.shm, first, count, c.mm.pager);
    return 0;
  }
  const f = vma.file!;
  if ((f.mode & FMODE_WRITE) === 0) return -E.EBADF;
  const t = f.inode.mode & 0o170000;
  if (t !== 0o100000 && t !== 0o060000) return -E.ENODEV;
  const op = f.fop.punchHole;
  if (op === undefined) return -E.EOPNOTSUPP;
  const r = op(f, first * ps, count * ps);
  if (r < 0) return r;
  // unmap_mapping_range(): the PTEs of the hole go (in this address space)
  for (const v of c.mm.vmas) {
    if (v.file === null || v.file.inode !== f.inode) continue;
    const lo = Math.max(v.start, v.start + (first - v.pgoff) * ps);
    const hi = Math.min(v.end, v.start + (first + count - v.pgoff) * ps);
    if (lo < hi && (v.vmFlags & VM_SHARED) !== 0) c.mm.zapRange(v, lo, hi);
  }
  return 0;
}

/**
 * madvise_populate(): every page of [start, end) faulted in (POPULATE_WRITE as a write): a
 * hole → ENOMEM; a PFN/IO map or a VMA without the access → EINVAL; SIGBUS/SIGSEGV → EFAULT;
 * no page → ENOMEM.
 * @kernel mm/madvise.c madvise_populate; mm/gup.c faultin_vma_page_range, check_vma_flags
 */
function madvisePopulate(c: MmCaller, start: number, end: number, write: boolean): number {
  const mm = c.mm;
  const ps = c.pageSize;
  let a = start;
  while (a < end) {
    const v = mm.find(a);
    if (v === null) return -E.ENOMEM;
    if ((v.vmFlags & (VM_IO | VM_PFNMAP)) !== 0) return -E.EINVAL;
    if (write ? (v.vmFlags & VM_WRITE) === 0 : (v.vmFlags & VM_READ) === 0) return -E.EINVAL;
    const tmp = Math.min(v.end, end);
    // a read of never-written private anonymous memory maps the zero page (in one step)
    if (!write && mm.mapZeroPages(v, a, tmp)) {
      a = tmp;
      continue;
    }
    for (let p = a; p < tmp; p += ps) {
      const f = mm.faultIn(v, (p - v.start) / ps, write);
      if (f !== null) return faultErrno(c, f);
    }
    a = tmp;
  }
  return 0;
}

/**
 * msync(2): flags beyond ASYNC|INVALIDATE|SYNC → EINVAL; an unaligned start → EINVAL; ASYNC
 * with SYNC → EINVAL; a length that wraps → ENOMEM; length 0 → 0. Then VMA by VMA: a hole
 * stops an MS_ASYNC call at once with ENOMEM, any other is skipped and reported as ENOMEM at
 * the end; MS_INVALIDATE on a locked VMA → EBUSY; MS_SYNC of a shared file mapping runs the
 * file's fsync (a dma-buf has none: EINVAL; shmem's does nothing).
 * @kernel mm/msync.c msync; fs/sync.c vfs_fsync_range
 */
export function doMsync(c: MmCaller, addr: number, length: number, flags: number): number {
  const ps = c.pageSize;
  const mm = c.mm;
  if (!isCLong(addr) || !isCLong(length) || !isCInt(flags)) return -E.EINVAL;
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) !== 0) return -E.EINVAL;
  let start = ulong(addr);
  if (start % ps !== 0) return -E.EINVAL;
  if ((flags & MS_ASYNC) !== 0 && (flags & MS_SYNC) !== 0) return -E.EINVAL;
  // the length rounds up to pages, wrapping to 0 past ULONG_MAX
  const len = pageAlign(ulong(length), ps);
  const end = start + len;
  if (end >= 2 ** 64) return -E.ENOMEM;
  if (end === start) return 0;
  let unmapped = 0;
  let vma = mm.findAbove(start);
  for (;;) {
    if (vma === null) return -E.ENOMEM;
    if (start < vma.start) {
      if (flags === MS_ASYNC) return -E.ENOMEM;
      start = vma.start;
      if (start >= end) return -E.ENOMEM;
      unmapped = -E.ENOMEM;
    }
    if ((flags & MS_INVALIDATE) !== 0 && (vma.vmFlags & VM_LOCKED) !== 0) return -E.EBUSY;
    start = vma.end;
    const file = vma.file;
    if ((flags & MS_SYNC) !== 0 && (vma.vmFlags & VM_SHARED) !== 0 && (file !== null || vma.shm !== null)) {
      // vfs_fsync_range(): no fsync op is EINVAL; shared anonymous memory is a shmem file (noop_fsync)
      const r = file === null ? 0 : file.fop.fsync === undefined ? -E.EINVAL : file.fop.fsync(file);
      if (r < 0 || start >= end) return r < 0 ? r : unmapped;
    } else if (start >= end) {
      return unmapped;
    }
    vma = mm.findAbove(start);
  }
}

/**
 * mlock(2) and mlock2(2): flags beyond MLOCK_ONFAULT → EINVAL; no RLIMIT_MEMLOCK and no
 * CAP_IPC_LOCK → EPERM; the start is rounded down to its page and the length up; past
 * RLIMIT_MEMLOCK (pages already locked in the range count once) without CAP_IPC_LOCK → ENOMEM;
 * then apply_vma_lock_flags() (a range that wraps: EINVAL; a hole, also at the start: ENOMEM
 * with the VMAs before it locked; VM_SPECIAL VMAs are skipped and stay unlocked) and the
 * pages are faulted in (MLOCK_ONFAULT: not now), a fault there being ENOMEM.
 * @kernel mm/mlock.c do_mlock, apply_vma_lock_flags, mlock_fixup, count_mm_mlocked_page_nr; __mlock_posix_error_return
 */
export function doMlock(c: MmCaller, addr: number, length: number, flags: number): number {
  const ps = c.pageSize;
  const mm = c.mm;
  if (!isCLong(addr) || !isCLong(length) || !isCInt(flags)) return -E.EINVAL;
  if ((flags & ~MLOCK_ONFAULT) !== 0) return -E.EINVAL;
  const vmFlags = VM_LOCKED | (flags & MLOCK_ONFAULT ? VM_LOCKONFAULT : 0);
  if (!canDoMlock(c)) return -E.EPERM;
  const a = ulong(addr);
  const start = Math.floor(a / ps) * ps;
  const len = pageAlign(ulong(length) + (a - start), ps);
  const limit = Math.floor(c.memlockLimit / ps);
  let locked = len / ps + mm.lockedVm;
  if (locked > limit && !c.privileged) locked -= lockedPagesIn(mm, start, len);
  if (locked > limit && !c.privileged) return -E.ENOMEM;
  const r = applyLockFlags(c, start, len, vmFlags);
  if (r < 0) return r;
  const p = populate(c, start, start + len, false);
  // __mlock_posix_error_return(): EFAULT is ENOMEM, ENOMEM is EAGAIN
  if (p === -E.EFAULT) return -E.ENOMEM;
  if (p === -E.ENOMEM) return -E.EAGAIN;
  return p;
}

/** count_mm_mlocked_page_nr(): the pages of VM_LOCKED VMAs inside [start, start + len). */
function lockedPagesIn(mm: AddressSpace, start: number, len: number): number {
  let n = 0;
  const end = start + len;
  for (const v of mm.vmas) {
    if ((v.vmFlags & VM_LOCKED) === 0 || v.end <= start || v.start >= end) continue;
    n += (Math.min(v.end, end) - Math.max(v.start, start)) / mm.pageSize;
  }
  return n;
}

/** munlock(2): the pages of [start, start + len) rounded to pages are unlocked (holes: ENOMEM). @kernel mm/mlock.c munlock */
export function doMunlock(c: MmCaller, addr: number, length: number): number {
  const ps = c.pageSize;
  if (!isCLong(addr) || !isCLong(length)) return -E.EINVAL;
  const a = ulong(addr);
  const start = Math.floor(a / ps) * ps;
  const len = pageAlign(ulong(length) + (a - start), ps);
  return applyLockFlags(c, start, len, 0);
}

/**
 * apply_vma_lock_flags(): every VMA of [start, start + len) takes the lock flags (VM_LOCKED,
 * VM_LOCKONFAULT, or none to unlock); a wrapping range → EINVAL, empty → 0, a hole (or no VMA
 * at the start) → ENOMEM after the VMAs before it.
 */
function applyLockFlags(c: MmCaller, start: number, len: number, lockFlags: number): number {
  const mm = c.mm;
  const end = start + len;
  if (end >= 2 ** 64) return -E.EINVAL;
  if (end === start) return 0;
  let vma = mm.find(start);
  if (vma === null) return -E.ENOMEM;
  let nstart = start;
  for (;;) {
    const tmp = Math.min(vma.end, end);
    const newFlags = (vma.vmFlags & ~VM_LOCKED_MASK) | lockFlags;
    const r = mlockFixup(c, vma, nstart, tmp, newFlags);
    if (typeof r === 'number') return r;
    nstart = tmp;
    if (nstart >= end) return 0;
    const next = mm.findAbove(nstart);
    if (next === null || next.start !== nstart) return -E.ENOMEM;
    vma = next;
  }
}

/**
 * mlock_fixup(): VM_SPECIAL VMAs are left as they are (neither locked nor counted); otherwise
 * the flags change (split, merge) and mm->locked_vm follows.
 */
function mlockFixup(c: MmCaller, vma: Vma, start: number, end: number, newFlags: number): Vma | number {
  const old = vma.vmFlags;
  if (newFlags === old || (old & VM_SPECIAL) !== 0) return vma;
  const r = setFlags(c.mm, vma, start, end, newFlags);
  if (typeof r === 'number') return r;
  const pages = (end - start) / c.pageSize;
  if ((newFlags & VM_LOCKED) === 0) c.mm.lockedVm -= (old & VM_LOCKED) !== 0 ? pages : 0;
  else if ((old & VM_LOCKED) === 0) c.mm.lockedVm += pages;
  return r;
}

/**
 * mlockall(2): no flag, an unknown one, or MCL_ONFAULT alone → EINVAL; no RLIMIT_MEMLOCK and
 * no CAP_IPC_LOCK → EPERM; MCL_CURRENT when the whole address space exceeds RLIMIT_MEMLOCK
 * (without CAP_IPC_LOCK) → ENOMEM. MCL_FUTURE locks every later mapping (mm->def_flags);
 * MCL_CURRENT locks every VMA now (VM_SPECIAL ones excepted) and faults its pages in.
 * @kernel mm/mlock.c mlockall, apply_mlockall_flags
 */
export function doMlockall(c: MmCaller, flags: number): number {
  if (!isCInt(flags)) return -E.EINVAL;
  if (flags === 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) !== 0 || flags === MCL_ONFAULT) return -E.EINVAL;
  if (!canDoMlock(c)) return -E.EPERM;
  const limit = Math.floor(c.memlockLimit / c.pageSize);
  if ((flags & MCL_CURRENT) !== 0 && c.mm.totalVm > limit && !c.privileged) return -E.ENOMEM;
  applyMlockall(c, flags);
  if ((flags & MCL_CURRENT) !== 0) populate(c, 0, c.mm.layout.taskSize, true);
  return 0;
}

/** munlockall(2): every VMA unlocked, and no lock for later mappings. @kernel mm/mlock.c munlockall */
export function doMunlockall(c: MmCaller): number {
  applyMlockall(c, 0);
  return 0;
}

/** apply_mlockall_flags(): mm->def_flags, then every VMA (errors are ignored). */
function applyMlockall(c: MmCaller, flags: number): void {
  const mm = c.mm;
  mm.defFlags &= ~VM_LOCKED_MASK;
  let toAdd = 0;
  if ((flags & MCL_FUTURE) !== 0) {
    mm.defFlags |= VM_LOCKED;
    if ((flags & MCL_ONFAULT) !== 0) mm.defFlags |= VM_LOCKONFAULT;
    if ((flags & MCL_CURRENT) === 0) return;
  }
  if ((flags & MCL_CURRENT) !== 0) {
    toAdd |= VM_LOCKED;
    if ((flags & MCL_ONFAULT) !== 0) toAdd |= VM_LOCKONFAULT;
  }
  // each VMA in address order; a merge may swallow the next one, so walk by address
  let at = 0;
  for (;;) {
    const v = mm.findAbove(at);
    if (v === null) break;
    const r = mlockFixup(c, v, v.start, v.end, (v.vmFlags & ~VM_LOCKED_MASK) | toAdd);
    at = typeof r === 'number' ? v.end : r.end;
  }
}
