/**
 * Kernel version profiles: each behaviour of the DMA-BUF heaps timeline that depends on the
 * kernel version is a field here, and the code asks the profile, never a version number.
 * Source: ../shared/spec/kernel-behavior.md §0 (version timeline).
 */
export type ProfileName = '6.1' | '6.6' | '6.12' | '6.17' | '6.18' | '6.19' | '7.0';

export interface Profile {
  readonly name: ProfileName;
  /** `uname -r` of the emulated kernel. */
  readonly release: string;
  /** Name of the default CMA heap: the area's own name (≤6.16) or `default_cma_region` (≥6.17). */
  readonly defaultCmaHeapName: 'area' | 'default_cma_region';
  /** 6.17-6.18: DMABUF_HEAPS_CMA_LEGACY adds a duplicate heap under the area's old name. */
  readonly cmaLegacyDuplicate: boolean;
  /** 6.19+: one CMA heap per reusable reserved-memory region (and for the cmdline area). */
  readonly cmaHeapPerRegion: boolean;
  /** CONFIG_DMABUF_SYSFS_STATS exists (v5.13 → v6.19; removed in v7.0). */
  readonly sysfsStats: boolean;
  /** v7.0: the `dma_heap.mem_accounting` module parameter exists. */
  readonly memAccountingParam: boolean;
  /** DMA_BUF_SET_NAME refused with EBUSY while attached (≤~5.15): false in every profile here. */
  readonly setNameBusyWhenAttached: boolean;
  /** v6.18: TEE protected heaps may register. */
  readonly teeProtectedHeaps: boolean;
  /** dma_heap_add() duplicate name: EEXIST from the device core (≥~6.2 and 6.1 stable). */
  readonly duplicateNameErrno: 'EEXIST' | 'EINVAL';
  /** v6.8: the CMA heap maps with PFN insertion (VM_PFNMAP) rather than page insertion. */
  readonly cmaMmapPfn: boolean;
  /** v6.14: the dmem cgroup controller (CONFIG_CGROUP_DMEM, kernel/cgroup/dmem.c). */
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
   * succeeds", 2026). Observed on the oracle's 6.1.192 stable; not in the x.0 releases the
   * other profiles stand for.
   */
  readonly heapFdAfterCopyOut: boolean;
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
}

const base = {
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
  procFdSize: true,
  fcntlQueries: false,
  setleaseNeedsOp: false,
  debugfsPollAlways: false,
} as const;

/** What every 6.17+ profile has on top of `base`. */
const v617 = { cmaMmapPfn: true, defaultCmaHeapName: 'default_cma_region', dmemCgroup: true, pidfdThread: true, pidfdSelf: true, writeBeginBeforeFault: true, fcntlQueries: true, debugfsPollAlways: true } as const;

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  '6.1': { ...base, name: '6.1', release: '6.1.192', heapFdAfterCopyOut: true, shmemDirectIo: false, procFdSize: false },
  '6.6': { ...base, name: '6.6', release: '6.6.0' },
  '6.12': { ...base, name: '6.12', release: '6.12.0', cmaMmapPfn: true, pidfdThread: true, fcntlQueries: true },
  '6.17': { ...base, ...v617, name: '6.17', release: '6.17.0', cmaLegacyDuplicate: true },
  '6.18': { ...base, ...v617, name: '6.18', release: '6.18.0', cmaLegacyDuplicate: true, teeProtectedHeaps: true },
  '6.19': { ...base, ...v617, name: '6.19', release: '6.19.0', cmaHeapPerRegion: true, teeProtectedHeaps: true, setleaseNeedsOp: true },
  '7.0': { ...base, ...v617, name: '7.0', release: '7.0.0', cmaHeapPerRegion: true, teeProtectedHeaps: true, sysfsStats: false, memAccountingParam: true, setleaseNeedsOp: true },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];
export const DEFAULT_PROFILE: ProfileName = '7.0';

export function isProfileName(s: string): s is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, s);
}
