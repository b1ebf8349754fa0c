/**
 * Kernel version profiles: each behaviour of the DMA-BUF heaps timeline that depends on the
 * kernel version is a field here, and the code asks the profile, never a version number.
 * The timeline of ../shared/spec/kernel-behavior.md §0 was the hypothesis; real kernels referee
 * it (../shared/oracle: 5.10.262, 6.1.192, 6.12.118 and 7.3-rc7 on x86-64, 7.3-rc7 on arm64), and where a
 * referee and the spec disagree the referee won. Which source settled each field of each
 * profile is data too: PROFILE_FACTS below (rendered in docs/fidelity.md).
 */
export type ProfileName = '5.10' | '5.15' | '6.1' | '6.6' | '6.12' | '6.17' | '6.18' | '6.19' | '7.0' | '7.3';

export interface Profile {
  readonly name: ProfileName;
  /** `uname -r` of the emulated kernel. */
  readonly release: string;
  /**
   * v5.6-v5.10: both heaps build on the heap-helper library (drivers/dma-buf/heaps/heap-helpers.c,
   * removed in v5.11): every buffer is exported as `heap_helpers` (its KBUILD_MODNAME), keeps a
   * kmalloc_array() of page pointers (so a system-heap buffer above 2 GiB, 4 MiB of pointers, is
   * ENOMEM at once), the system heap takes order-0 pages one by one (a fatal signal: ENOMEM), the
   * heap op installs the fd itself (dma_buf_fd() before the core's copy-out), mappings must be
   * shared (EINVAL otherwise) and fault their pages in (no PFN map), and begin/end_cpu_access
   * sync every attachment (the 5.10 referee; drivers/dma-buf/heaps/heap-helpers.c dma_heap_mmap).
   */
  readonly heapHelpers: boolean;
  /** /proc/<pid>/fdinfo has the generic `ino:` line (fs/proc/fd.c seq_show; the 5.10 referee has none). */
  readonly fdinfoIno: boolean;
  /**
   * dma-buf inode numbers come from the dma-buf core's own counter, the first buffer after boot
   * getting 1 (drivers/dma-buf/dma-buf.c dma_buf_getfile); before, alloc_anon_inode() took them
   * from get_next_ino(), the counter procfs and other pseudo inodes share (the 5.10 referee).
   */
  readonly dmabufOwnIno: boolean;
  /**
   * debugfs names an area's directory `cma-<name>`, cut to 15 characters (the 5.10 referee:
   * cma/cma-reserved); v6.0 uses the name itself (mm/cma_debug.c cma_debugfs_add_one).
   */
  readonly cmaDebugfsPrefix: boolean;
  /** CONFIG_CMA_SYSFS exists: /sys/kernel/mm/cma/<area>/ (mm/cma_sysfs.c, v5.14; not on the 5.10 referee). */
  readonly cmaSysfs: boolean;
  /**
   * debugfs bufinfo has a `name` column heading and prints `<none>` for an unnamed buffer
   * (drivers/dma-buf/dma-buf.c dma_buf_debug_show); the 5.10 referee has no heading and prints "".
   */
  readonly bufinfoNameColumn: boolean;
  /** v6.0: DMA_BUF_IOCTL_EXPORT_SYNC_FILE and IMPORT_SYNC_FILE exist (ENOTTY before: the 5.10 referee). */
  readonly syncFileIoctls: boolean;
  /**
   * dma_buf_poll() wakes the poll's waiters itself when no fence is pending (the reworked poll:
   * an edge-triggered epoll item is reported at every wait, the 6.1+ referees); the older poll
   * returns the events without a wake-up, so an edge-triggered item is reported once (5.10).
   */
  readonly dmaBufPollWakes: boolean;
  /**
   * fcntl F_GET_FILE_RW_HINT/F_SET_FILE_RW_HINT exist and copy a u64 through the argument (NULL:
   * EFAULT, the 5.10 referee); removed later (EINVAL on the 6.1 referee).
   * @kernel fs/fcntl.c fcntl_rw_hint
   */
  readonly fileRwHint: boolean;
  /**
   * mremap() that shrinks or keeps the length (without MREMAP_FIXED) unmaps the tail and returns
   * the address without looking for a VMA there (the 5.10 referee: an unmapped address
   * succeeds); from v5.16 the VMA is looked up first (EFAULT on the 6.1 referee).
   * @kernel mm/mremap.c SYSCALL_DEFINE5(mremap)
   */
  readonly mremapShrinkUnchecked: boolean;
  /** Name of the default CMA heap: the area's own name (≤6.16) or `default_cma_region` (≥6.17). */
  readonly defaultCmaHeapName: 'area' | 'default_cma_region';
  /** 6.17-6.18: DMABUF_HEAPS_CMA_LEGACY adds a duplicate heap under the area's old name. */
  readonly cmaLegacyDuplicate: boolean;
  /** 6.19+: one CMA heap per reusable reserved-memory region (and for the cmdline area). */
  readonly cmaHeapPerRegion: boolean;
  /** CONFIG_DMABUF_SYSFS_STATS exists (v5.15 → v6.19; removed in v7.0; gone on the 7.3 referee; not on the 5.10 one). */
  readonly sysfsStats: boolean;
  /** v7.0: the `dma_heap.mem_accounting` module parameter exists. */
  readonly memAccountingParam: boolean;
  /** DMA_BUF_SET_NAME refused with EBUSY while a device is attached (drivers/dma-buf/dma-buf.c dma_buf_set_name, ≤5.15). */
  readonly setNameBusyWhenAttached: boolean;
  /** v6.18: TEE protected heaps may register. */
  readonly teeProtectedHeaps: boolean;
  /** dma_heap_add() duplicate name: EEXIST from the device core (≥~6.2 and 6.1 stable). */
  readonly duplicateNameErrno: 'EEXIST' | 'EINVAL';
  /** v6.8: the CMA heap maps with PFN insertion (VM_PFNMAP) rather than page insertion. */
  readonly cmaMmapPfn: boolean;
  /**
   * v6.14: the dmem cgroup controller exists (kernel/cgroup/dmem.c), and the profile's default
   * configuration builds it (CONFIG_CGROUP_DMEM; the referees are built without it).
   */
  readonly dmemCgroup: boolean;
  /** v6.9: pidfd_open() accepts PIDFD_THREAD (pidfds live in pidfs). */
  readonly pidfdThread: boolean;
  /** v6.15: pidfd_get_task() understands the PIDFD_SELF_THREAD/_THREAD_GROUP sentinels. */
  readonly pidfdSelf: boolean;
  /**
   * v6.14 ("filemap: move prefaulting out of hot write path"): generic_perform_write() calls
   * write_begin before touching the user's buffer, so a sealed memfd refuses a write from a bad
   * buffer with EPERM, and a write whose buffer faults leaves the page it allocated in the page
   * cache (observed on the 7.3 oracle; 6.1 and 6.12 fault the buffer in first: EFAULT, no page).
   */
  readonly writeBeginBeforeFault: boolean;
  /**
   * v6.6 ("tmpfs: trivial support for direct IO"): a tmpfs file opened through open(2) — a memfd
   * reopened through /proc/<pid>/fd — accepts O_DIRECT (the 6.12 and 7.3 oracles; 6.1: EINVAL).
   * memfd_create() does not call the open op, so the memfd itself still refuses it with F_SETFL.
   */
  readonly shmemDirectIo: boolean;
  /**
   * The heap ioctl publishes the new fd only after the copy-out succeeded, so a copy-out fault
   * (EFAULT) leaves no fd and frees the buffer ("don't publish fd before copy_to_user()
   * succeeds", 2026). Observed on the 6.1.192 and 6.12.118 stable referees and on 7.3; not in
   * the x.0 releases 6.6 and 6.17-7.0 stand for.
   */
  readonly heapFdAfterCopyOut: boolean;
  /**
   * v6.14 ("fsnotify: disable notification by default for all pseudo files"): alloc_file_pseudo()
   * sets FMODE_NONOTIFY (bit 25), so a dma-buf's f_mode, the debugfs bufinfo `mode` column, reads
   * 02080007 for O_RDWR (the 7.3 referee; 6.1 and 6.12: 00080007).
   */
  readonly fmodeNoNotify: boolean;
  /**
   * The system heap maps a buffer chunk by chunk (one remap_pfn_range() per sg entry) instead of
   * page by page, so a MAP_PRIVATE (copy-on-write) mapping, which remap_pfn_range() accepts only
   * when one call covers the whole vma, succeeds when it lies within one chunk (the 7.3 referee:
   * 64 KiB and 1 MiB private mappings map; 6.1 and 6.12 refuse all but one page with EINVAL).
   */
  readonly systemHeapChunkMmap: boolean;
  /** /sys/kernel/mm/cma/<area>/release_pages_success exists (the 6.12 and 7.3 referees; not 6.1). */
  readonly cmaSysfsReleasePages: boolean;
  /** /sys/kernel/mm/cma/<area>/total_pages and available_pages exist (the 7.3 referee; not 6.12). */
  readonly cmaSysfsPageCounts: boolean;
  /**
   * A cma_alloc() of more pages than the area has still counts them in alloc_pages_fail (the 6.1
   * and 7.3 referees); 6.12 returns before its accounting, leaving the counter unchanged.
   */
  readonly cmaOversizeCountsFail: boolean;
  /**
   * fcntl() hands F_ADD_SEALS its argument as an unsigned int (the high 32 bits are dropped:
   * 0x100000002 adds F_SEAL_SHRINK, the 6.12 and 7.3 referees); before, an argument above
   * UINT_MAX was EINVAL (the 6.1 referee).
   */
  readonly fcntlSealArgU32: boolean;
  /**
   * UDMABUF_CREATE checks an item's range against the memfd before looking its pages up, so an
   * offset past MAX_LFS_FILESIZE is EINVAL (the 6.12 and 7.3 referees; the memfd_pin_folios()
   * rework); 6.1 reaches shmem_read_mapping_page() with it and gets EFBIG.
   */
  readonly udmabufRangeEinval: boolean;
  /** The udmabuf size_limit_mb module parameter's default (64; INT_MAX on the 7.3 referee). */
  readonly udmabufSizeLimitMb: number;
  /**
   * The misc minor /dev/udmabuf gets (MISC_DYNAMIC_MINOR): 126 on the 6.1 referee (dynamic
   * minors counted down from 127; 125 here, see the mount-ids divergence), 257 on the 6.12 and
   * 7.3 referees (dynamic minors above 255).
   */
  readonly udmabufMinor: number;
  /** v6.11: mmap() takes MAP_DROPPABLE for private anonymous memory (mm/mmap.c do_mmap). */
  readonly mapDroppable: boolean;
  /**
   * Guard regions (MADV_GUARD_INSTALL/REMOVE): none, v6.13 in anonymous memory, v6.15 also in
   * file-backed mappings (mm/madvise.c madvise_guard_install; the 7.3 oracle: memfd and
   * anonymous memory, EINVAL on dma-buf PFN maps).
   */
  readonly guardRegions: 'none' | 'anon' | 'file';
  /**
   * v6.17: mremap(MREMAP_FIXED) without resizing moves a range spanning several VMAs and holes
   * (mm/mremap.c remap_move; the 7.3 oracle); before, a range beyond its first VMA is EFAULT.
   */
  readonly mremapMultiVma: boolean;
  /**
   * v6.16 (mm/vma.c is_mergeable_anon_vma rewritten): a VMA with an anon_vma merges into a
   * neighbour that has none (munlock of a faulted page re-merges it with its untouched
   * neighbours: the 7.3 oracle); before, the empty anon_vma_chain of the neighbour refused it
   * (the 6.1 and 6.12 oracles).
   */
  readonly mergeIntoNoAnonVma: boolean;
  /**
   * Pseudo file systems are noexec (init_pseudo() sets SB_I_NOEXEC, mid-2026, after 7.0): a
   * dma-buf mapping has no VM_MAYEXEC, so PROT_EXEC is EPERM in mmap and EACCES in mprotect
   * (the 7.3 oracle; the 7.3 profile).
   */
  readonly pseudoFsNoexec: boolean;
  /**
   * v6.2 ("proc: report open files as size in stat() for /proc/pid/fd"): st_size of
   * /proc/<pid>/fd is the number of open fds (6.12 and 7.3 oracles; 6.1: 0).
   */
  readonly procFdSize: boolean;
  /**
   * fcntl(F_DUPFD_QUERY) (v6.10) and F_CREATED_QUERY (v6.12), both allowed on O_PATH fds (the
   * 6.12 and 7.3 oracles; 6.1: EINVAL, EBADF on O_PATH).
   */
  readonly fcntlQueries: boolean;
  /**
   * v6.19 ("filelock: default to returning -EINVAL when ->setlease operation is NULL"): a file
   * system must opt in to leases; procfs, sysfs, debugfs and cgroup2 do not (EINVAL on the 7.3
   * oracle; 6.1 and 6.12 take leases on them). Version from the kernel's history.
   */
  readonly setleaseNeedsOp: boolean;
  /**
   * v6.14 (debugfs: one static full-proxy file_operations): every debugfs file can be polled,
   * DEFAULT_POLLMASK when its own fops have no poll, so epoll takes bufinfo (7.3 oracle; 6.1
   * and 6.12: EPERM). Version from the kernel's history.
   */
  readonly debugfsPollAlways: boolean;
  /**
   * ~v6.15 (the multi-range CMA series, "mm/cma: support multiple contiguous ranges"): cma_debugfs_add_one()
   * makes base_pfn (and bitmap) after maxchunk and the new `ranges` directory, so getdents
   * (newest first) lists base_pfn before maxchunk (7.3 oracle, vfs-walk.c; 6.1 and 6.12 list it
   * after count). The release is not confirmed; set for the 6.17+ profiles.
   */
  readonly cmaDebugfsRanges: boolean;
}

const base = {
  heapHelpers: false,
  fdinfoIno: true,
  dmabufOwnIno: true,
  cmaSysfs: true,
  cmaDebugfsPrefix: false,
  bufinfoNameColumn: true,
  syncFileIoctls: true,
  dmaBufPollWakes: true,
  fileRwHint: false,
  mremapShrinkUnchecked: false,
  defaultCmaHeapName: 'area',
  cmaLegacyDuplicate: false,
  cmaHeapPerRegion: false,
  sysfsStats: true,
  memAccountingParam: false,
  setNameBusyWhenAttached: false,
  teeProtectedHeaps: false,
  duplicateNameErrno: 'EEXIST',
  cmaMmapPfn: false,
  dmemCgroup: false,
  pidfdThread: false,
  pidfdSelf: false,
  writeBeginBeforeFault: false,
  shmemDirectIo: true,
  heapFdAfterCopyOut: false,
  fmodeNoNotify: false,
  systemHeapChunkMmap: false,
  cmaSysfsReleasePages: false,
  cmaSysfsPageCounts: false,
  cmaOversizeCountsFail: true,
  fcntlSealArgU32: false,
  udmabufRangeEinval: false,
  udmabufSizeLimitMb: 64,
  udmabufMinor: 125,
  mapDroppable: false,
  guardRegions: 'none',
  mremapMultiVma: false,
  mergeIntoNoAnonVma: false,
  pseudoFsNoexec: false,
  procFdSize: true,
  fcntlQueries: false,
  setleaseNeedsOp: false,
  debugfsPollAlways: false,
  cmaDebugfsRanges: false,
} as const;

/** What 6.12 changed against `base` (the 6.12.118 referee, where it could see it). */
const v612 = { cmaMmapPfn: true, cmaSysfsReleasePages: true, pidfdThread: true, fcntlSealArgU32: true, udmabufRangeEinval: true, udmabufMinor: 257, cmaOversizeCountsFail: false, mapDroppable: true, fcntlQueries: true } as const;
/** What every 6.17+ profile has on top of `base` and v612. */
const v617 = {
  ...v612, defaultCmaHeapName: 'default_cma_region', dmemCgroup: true, pidfdSelf: true, writeBeginBeforeFault: true,
  fmodeNoNotify: true, cmaSysfsPageCounts: true, cmaOversizeCountsFail: true,
  guardRegions: 'file', mremapMultiVma: true, mergeIntoNoAnonVma: true, debugfsPollAlways: true, cmaDebugfsRanges: true,
} as const;

/**
 * What the 5.x profiles have against `base` (the 6.1 referee's kernel): the 5.10.262 referee
 * settles 5.10; 5.15 is read from the v5.15 source (PROFILE_FACTS names each source).
 */
const v5 = {
  syncFileIoctls: false, bufinfoNameColumn: false, cmaDebugfsPrefix: true, fileRwHint: true, shmemDirectIo: false, procFdSize: false, heapFdAfterCopyOut: false,
} as const;

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  '5.10': {
    ...base, ...v5, name: '5.10', release: '5.10.262', heapHelpers: true, fdinfoIno: false, dmabufOwnIno: false, cmaSysfs: false, sysfsStats: false,
    dmaBufPollWakes: false, mremapShrinkUnchecked: true, setNameBusyWhenAttached: true, udmabufMinor: 61,
  },
  // the 5.15.y stable kernel Android's android13-5.15 and android14-5.15 branches follow, as read
  // in its 5.15.225 source (the v5.15 tag itself still had the old poll and inode numbers)
  '5.15': { ...base, ...v5, name: '5.15', release: '5.15.225', setNameBusyWhenAttached: true, mremapShrinkUnchecked: true },
  '6.1': { ...base, name: '6.1', release: '6.1.192', heapFdAfterCopyOut: true, shmemDirectIo: false, procFdSize: false },
  '6.6': { ...base, name: '6.6', release: '6.6.0' },
  '6.12': { ...base, ...v612, name: '6.12', release: '6.12.118', heapFdAfterCopyOut: true },
  '6.17': { ...base, ...v617, name: '6.17', release: '6.17.0', cmaLegacyDuplicate: true },
  '6.18': { ...base, ...v617, name: '6.18', release: '6.18.0', cmaLegacyDuplicate: true, teeProtectedHeaps: true },
  '6.19': { ...base, ...v617, name: '6.19', release: '6.19.0', cmaHeapPerRegion: true, teeProtectedHeaps: true, systemHeapChunkMmap: true, setleaseNeedsOp: true },
  '7.0': { ...base, ...v617, name: '7.0', release: '7.0.0', cmaHeapPerRegion: true, teeProtectedHeaps: true, sysfsStats: false, memAccountingParam: true, systemHeapChunkMmap: true, setleaseNeedsOp: true },
  '7.3': {
    ...base, ...v617, name: '7.3', release: '7.3.0-rc7', cmaHeapPerRegion: true, teeProtectedHeaps: true, sysfsStats: false, memAccountingParam: true,
    systemHeapChunkMmap: true, heapFdAfterCopyOut: true, udmabufSizeLimitMb: 2147483647, pseudoFsNoexec: true, setleaseNeedsOp: true,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

/**
 * The profile is older than mainline release `version` (major.minor), for the few behaviours
 * kept as a version boundary rather than a fact of their own.
 */
export function before(profile: ProfileName, version: string): boolean {
  const num = (v: string): number => {
    const [a, b] = v.split('.');
    return Number(a) * 1000 + Number(b);
  };
  return num(profile) < num(version);
}
export const DEFAULT_PROFILE: ProfileName = '7.0';

export function isProfileName(s: string): s is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, s);
}
