/**
 * The memory-management uAPI beyond what fcntl.ts defines for mmap itself: the rest of the mmap
 * flags, mremap, madvise, msync and mlock constants.
 * @kernel include/uapi/asm-generic/mman-common.h, include/uapi/asm-generic/mman.h,
 *   include/uapi/linux/mman.h, arch/x86/include/uapi/asm/mman.h
 */

// mmap(2) flags (identical on x86-64 and arm64 unless noted).
export const MAP_DROPPABLE = 0x08;
/** x86 only: a mapping in the first 2 GiB (arch/x86/include/uapi/asm/mman.h). */
export const MAP_32BIT = 0x40;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_UNINITIALIZED = 0x4000000;
/** The huge page size (log2) of MAP_HUGETLB sits in bits 26..31. */
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_MASK = 0x3f;

// mprotect(2) extra protection bits.
export const PROT_SEM = 0x8;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

// mremap(2) flags (include/uapi/linux/mman.h).
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

// madvise(2) advice (include/uapi/asm-generic/mman-common.h).
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_DONTNEED_LOCKED = 24;
export const MADV_COLLAPSE = 25;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;
/** v6.13: guard regions (v6.15 also in file-backed mappings). */
export const MADV_GUARD_INSTALL = 102;
export const MADV_GUARD_REMOVE = 103;

// msync(2) flags.
export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;

// mlockall(2) and mlock2(2) flags.
export const MCL_CURRENT = 1;
export const MCL_FUTURE = 2;
export const MCL_ONFAULT = 4;
export const MLOCK_ONFAULT = 0x01;

// include/uapi/asm-generic/resource.h
export const RLIMIT_MEMLOCK = 8;

const COMMON: Readonly<Record<string, number>> = Object.freeze({
  MAP_DROPPABLE, MAP_GROWSDOWN, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_LOCKED, MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB,
  MAP_SYNC, MAP_UNINITIALIZED, PROT_SEM, PROT_GROWSDOWN, PROT_GROWSUP,
  MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP,
  MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK,
  MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP,
  MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
  MADV_DONTNEED_LOCKED, MADV_COLLAPSE, MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE,
  MS_ASYNC, MS_INVALIDATE, MS_SYNC, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, RLIMIT_MEMLOCK,
});
const X86: Readonly<Record<string, number>> = Object.freeze({ ...COMMON, MAP_32BIT });

/** The constants of this module an expression may use on `arch` (MAP_32BIT is x86-64's only). */
export function mmanConstants(arch: 'x86_64' | 'arm64'): Readonly<Record<string, number>> {
  return arch === 'x86_64' ? X86 : COMMON;
}
