/**
 * Where each fact of each profile comes from. A profile with a referee (a real kernel booted by
 * ../shared/oracle) takes a fact from it wherever that referee can show it; every other value
 * was read from the kernel source of that version (or, where the entry says so, placed between
 * two referees that disagree without the exact version having been found). Rendered per profile
 * in docs/fidelity.md (scripts/fidelity.ts).
 */
import type { Profile, ProfileName } from './profile.js';

/** The real kernels that referee the profiles. */
export type Referee = '5.10 x86-64' | '6.1 x86-64' | '6.12 x86-64' | '7.3 x86-64' | '7.3 arm64';

export interface RefereeInfo {
  /** `uname -r` of the referee. */
  readonly release: string;
  /** The profile it referees. */
  readonly profile: ProfileName;
  /** How it runs. */
  readonly how: string;
}

export const REFEREES: Readonly<Record<Referee, RefereeInfo>> = {
  '5.10 x86-64': { release: '5.10.262', profile: '5.10', how: 'ORACLE_KERNEL=5.10 run-in-kernel.sh (Debian bullseye source): the probe, the kernel selftest, the conformance suite with --backend linux' },
  '6.1 x86-64': { release: '6.1.192', profile: '6.1', how: 'ORACLE_KERNEL=6.1 run-in-kernel.sh (QEMU x86-64, 2 GiB, cma=64M): the probe, the conformance suite with --backend linux, C programs' },
  '6.12 x86-64': { release: '6.12.118', profile: '6.12', how: 'ORACLE_KERNEL=6.12 run-in-kernel.sh: the probe, the conformance suite with --backend linux, C programs' },
  '7.3 x86-64': { release: '7.3.0-rc7', profile: '7.3', how: 'ORACLE_KERNEL=7.3 run-in-kernel.sh: the probe, the conformance suite with --backend linux, C programs' },
  '7.3 arm64': { release: '7.3.0-rc7', profile: '7.3', how: 'run-arm64.sh (QEMU virt, Cortex-A57, 1 GiB) with virt.dtb and virt-cma.dtb: heaps, CMA areas, boot log, the probe' },
};

export const REFEREE_NAMES = Object.keys(REFEREES) as Referee[];

/** The referees of a profile (none for the profiles between them). */
export function refereesOf(profile: ProfileName): Referee[] {
  return REFEREE_NAMES.filter((r) => REFEREES[r].profile === profile);
}

/** The facts of a profile: every field but its name and release. */
export type FactName = Exclude<keyof Profile, 'name' | 'release'>;

export interface FactSource {
  /** The referees on which the fact can be seen (and was, in the suite, the probe or a C program). */
  readonly referees: readonly Referee[];
  /** What was read in the kernel source for the profiles without a referee that shows it. */
  readonly source: string;
}

const X86: readonly Referee[] = ['5.10 x86-64', '6.1 x86-64', '6.12 x86-64', '7.3 x86-64'];
const ALL: readonly Referee[] = [...X86, '7.3 arm64'];

export const PROFILE_FACTS: Readonly<Record<FactName, FactSource>> = {
  heapHelpers: { referees: X86, source: 'v5.11 removed drivers/dma-buf/heaps/heap-helpers.c (the system heap rewritten with high-order pages and an sg_table, the CMA heap self-contained); the heap name became exp_name in v5.13 (v5.11-v5.12: system_heap, cma_heap). 5.15: read in the 5.15.225 source' },
  fdinfoIno: { referees: X86, source: 'v5.14 fs/proc/fd.c seq_show prints the generic ino: line (present in v5.14, absent in v5.11; 5.15: present)' },
  dmabufOwnIno: { referees: X86, source: 'drivers/dma-buf/dma-buf.c dma_buf_getfile: a dedicated counter from v5.18, back-ported to 5.15.y (≈5.15.42; the v5.15 tag and 5.10.y use alloc_anon_inode() → get_next_ino())' },
  cmaDebugfsPrefix: { referees: X86, source: 'v6.1 mm/cma_debug.c cma_debugfs_add_one ("mm/cma_debug: show complete cma name in debugfs directories", Aug 2022); 5.15.225: cma-<name>' },
  cmaSysfs: { referees: X86, source: 'v5.14 mm/cma_sysfs.c (CONFIG_CMA_SYSFS: alloc_pages_success, alloc_pages_fail)' },
  bufinfoNameColumn: { referees: X86, source: 'v6.0 drivers/dma-buf/dma-buf.c dma_buf_debug_show: the name heading and <none> (v5.19 and 5.15.225 print neither)' },
  syncFileIoctls: { referees: X86, source: 'v6.0 drivers/dma-buf/dma-buf.c dma_buf_export_sync_file / dma_buf_import_sync_file (5.15.225: ENOTTY)' },
  dmaBufPollWakes: { referees: X86, source: 'v5.16 drivers/dma-buf/dma-buf.c dma_buf_poll reworked ("dma-buf: fix and rework dma_buf_poll"), back-ported to 5.15.y (≈5.15.3); not in 5.10.y' },
  fileRwHint: { referees: X86, source: 'fs/fcntl.c fcntl_rw_hint: F_GET/SET_FILE_RW_HINT removed in v5.18 (5.15: present)' },
  mremapShrinkUnchecked: { referees: X86, source: 'v5.16 mm/mremap.c mremap: the VMA looked up before the shrink path ("mm, hugepages: add mremap() support for hugepage backed vma"); 5.15: not yet' },
  defaultCmaHeapName: { referees: ALL, source: 'v6.17 drivers/dma-buf/heaps/cma_heap.c add_cma_heaps (spec §0)' },
  cmaLegacyDuplicate: { referees: X86, source: 'v6.17-v6.18 Kconfig DMABUF_HEAPS_CMA_LEGACY (spec §0); the 7.3 referees export the area twice through the per-area loop instead' },
  cmaHeapPerRegion: { referees: ALL, source: 'v6.19 cma_heap.c: one heap per reusable reserved-memory region (spec §0)' },
  sysfsStats: { referees: X86, source: 'CONFIG_DMABUF_SYSFS_STATS added in v5.15 (absent from the v5.14 tree; the spec said v5.13), removed in v7.0 (spec §0)' },
  memAccountingParam: { referees: X86, source: 'v7.0 drivers/dma-buf/dma-heap.c mem_accounting (spec §0)' },
  setNameBusyWhenAttached: { referees: [], source: 'v5.17 drivers/dma-buf/dma-buf.c dma_buf_set_name ("dma-buf: remove restriction of IOCTL:DMA_BUF_SET_NAME"; 5.10.262 and 5.15.225 still refuse; no referee can attach a device from user space)' },
  teeProtectedHeaps: { referees: [], source: 'v6.18 drivers/tee/tee_heap.c (no referee has OP-TEE)' },
  duplicateNameErrno: { referees: [], source: '~v6.2 and 6.1 stable, drivers/dma-buf/dma-heap.c dma_heap_add (needs a second heap driver: not observable from user space)' },
  cmaMmapPfn: { referees: X86, source: '~v6.8 cma_heap.c cma_heap_vm_fault: vmf_insert_pfn' },
  dmemCgroup: { referees: [], source: 'v6.14 kernel/cgroup/dmem.c (the referees are built without CONFIG_CGROUP_DMEM)' },
  pidfdThread: { referees: [], source: 'v6.9 kernel/pid.c pidfd_open PIDFD_THREAD' },
  pidfdSelf: { referees: [], source: 'v6.15 kernel/pid.c pidfd_get_task PIDFD_SELF_*' },
  writeBeginBeforeFault: { referees: X86, source: 'v6.14 mm/filemap.c generic_perform_write ("filemap: move prefaulting out of hot write path")' },
  shmemDirectIo: { referees: X86, source: 'v6.6 mm/shmem.c shmem_file_open ("tmpfs: trivial support for direct IO")' },
  heapFdAfterCopyOut: { referees: X86, source: 'the fix ("don\'t publish fd before copy_to_user() succeeds") is in the 6.1.192 and 6.12.118 stable kernels and in 7.3; the x.0 releases 6.6 and 6.17-7.0 predate it (spec §9.10)' },
  fmodeNoNotify: { referees: ALL, source: 'v6.14 fs/file_table.c alloc_file_pseudo ("fsnotify: disable notification by default for all pseudo files")' },
  systemHeapChunkMmap: { referees: X86, source: 'placed at v6.19, between the 6.12 and 7.3 referees: drivers/dma-buf/heaps/system_heap.c system_heap_mmap remapping one sg entry per call; the exact release was not confirmed' },
  cmaSysfsReleasePages: { referees: X86, source: 'v6.10 mm/cma_sysfs.c ("mm: cma: add sysfs file \'release_pages_success\'")' },
  cmaSysfsPageCounts: { referees: X86, source: 'v6.14 mm/cma_sysfs.c ("mm/cma: export total and free number of pages for CMA areas")' },
  cmaOversizeCountsFail: { referees: X86, source: 'mm/cma.c cma_alloc: 6.6 counts as 6.1 does; from the v6.14 multi-range rework the failure is counted again (as on 7.3); placed between the referees, not confirmed per version' },
  fcntlSealArgU32: { referees: X86, source: 'fs/fcntl.c do_fcntl hands memfd_fcntl() an unsigned int (include/linux/memfd.h); after 6.6, placed with 6.12; not confirmed per version' },
  udmabufRangeEinval: { referees: X86, source: 'v6.11 drivers/dma-buf/udmabuf.c: pages pinned with memfd_pin_folios() (mm/gup.c), which refuses a negative range' },
  udmabufSizeLimitMb: { referees: X86, source: 'drivers/dma-buf/udmabuf.c size_limit_mb: 64 through 7.0; the 7.3 referee reads 2147483647 (the release of the change was not found)' },
  udmabufMinor: { referees: ['6.12 x86-64', '7.3 x86-64'], source: 'drivers/char/misc.c: dynamic minors above 255 on the 6.12 and 7.3 referees; 6.6 kept as 6.1; 6.1: 126 on its referee, 125 here (divergence mount-ids); 5.15 as 6.1 (a 128-wide dynamic range since v5.11); 5.10: 62 on its referee (64 wide), 61 here' },
  mapDroppable: { referees: X86, source: 'v6.11 mm/mmap.c do_mmap MAP_DROPPABLE (test/oracle/issue-11/mm-vma.c: EINVAL on 6.1, accepted on 6.12 and 7.3)' },
  guardRegions: { referees: X86, source: 'v6.13 mm/madvise.c madvise_guard_install (anonymous), v6.15 file-backed mappings (mm-vma.c: EINVAL on 6.1 and 6.12; memfd and anonymous on 7.3)' },
  mremapMultiVma: { referees: X86, source: 'v6.17 mm/mremap.c remap_move (mm-vma2.c: EFAULT on 6.1 and 6.12, moved on 7.3)' },
  mergeIntoNoAnonVma: { referees: X86, source: 'v6.16 mm/vma.c is_mergeable_anon_vma (mm-vma.c munlock: three VMAs on 6.1 and 6.12, one on 7.3; the version between is from memory of the upstream change)' },
  pseudoFsNoexec: { referees: X86, source: 'init_pseudo() SB_I_NOEXEC, after 7.0 (mm-vma-7.3.out: no `me` flag on dma-buf mappings, PROT_EXEC refused; 6.1 and 6.12 map it)' },
  procFdSize: { referees: X86, source: 'v6.2 fs/proc/fd.c proc_fd_getattr (test/oracle/issue-11/fd-generic.c: 0 on 6.1, the fd count on 6.12 and 7.3)' },
  fcntlQueries: { referees: X86, source: 'v6.10 F_DUPFD_QUERY, v6.12 F_CREATED_QUERY, fs/fcntl.c (fd-generic.c: EINVAL on 6.1, answered on 6.12 and 7.3)' },
  setleaseNeedsOp: { referees: X86, source: 'v6.19 fs/locks.c kernel_setlease without ->setlease (fd-generic.c: EINVAL on procfs, sysfs, debugfs and cgroup2 on 7.3; taken on 6.1 and 6.12; the version from the kernel history)' },
  debugfsPollAlways: { referees: X86, source: 'v6.14 fs/debugfs/file.c full proxy fops (fd-generic.c: epoll takes bufinfo on 7.3, EPERM on 6.1 and 6.12; the version from the kernel history)' },
  cmaDebugfsRanges: { referees: X86, source: 'mm/cma_debug.c cma_debugfs_add_one with the multi-range CMA series (~v6.15): base_pfn made after maxchunk and `ranges` (vfs-walk.c: listed after count on 6.1 and 6.12, first on 7.3; placed with the 6.17+ profiles, the release not confirmed)' },
};

/** What settled a profile's value of a fact: its referees that show it, or the source read. */
export function factSource(profile: ProfileName, fact: FactName): { readonly referees: readonly Referee[]; readonly source: string | null } {
  const f = PROFILE_FACTS[fact];
  const referees = refereesOf(profile).filter((r) => f.referees.includes(r));
  return { referees, source: referees.length > 0 ? null : f.source };
}
