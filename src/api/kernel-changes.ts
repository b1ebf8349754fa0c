/**
 * What a kernel upgrade (or downgrade) changes for the user space of DMA-BUF heaps: every fact of
 * the emulated kernel's version profiles (src/kernel/profile.ts, one field per behaviour that
 * depends on the kernel version) described as what a program sees, with the release that changed
 * it and the conformance cases (test/conformance/cases) that check it on both sides.
 *
 * The api layer does not see the kernel layer: kernelChanges() takes the two profiles' facts as
 * plain records (a kernel Profile is one), and a unit test holds this table to the profile's
 * field list and the case files (every name exists, with the profile list copied here).
 */

/** The facts of a version profile (the fields of the kernel's Profile but its name and release). */
export const KERNEL_FACTS = [
  'heapHelpers', 'fdinfoIno', 'dmabufOwnIno', 'cmaDebugfsPrefix', 'cmaSysfs', 'bufinfoNameColumn', 'syncFileIoctls', 'dmaBufPollWakes',
  'fileRwHint', 'mremapShrinkUnchecked', 'defaultCmaHeapName', 'cmaLegacyDuplicate', 'cmaHeapPerRegion', 'sysfsStats', 'memAccountingParam',
  'setNameBusyWhenAttached', 'teeProtectedHeaps', 'duplicateNameErrno', 'cmaMmapPfn', 'dmemCgroup', 'pidfdThread', 'pidfdSelf',
  'writeBeginBeforeFault', 'shmemDirectIo', 'heapFdAfterCopyOut', 'fmodeNoNotify', 'systemHeapChunkMmap', 'cmaSysfsReleasePages',
  'cmaSysfsPageCounts', 'cmaOversizeCountsFail', 'fcntlSealArgU32', 'udmabufRangeEinval', 'udmabufSizeLimitMb', 'udmabufMinor',
  'mapDroppable', 'guardRegions', 'mremapMultiVma', 'mergeIntoNoAnonVma', 'pseudoFsNoexec', 'procFdSize', 'fcntlQueries',
  'setleaseNeedsOp', 'debugfsPollAlways', 'cmaDebugfsRanges',
] as const;
export type KernelFact = (typeof KERNEL_FACTS)[number];

/** A fact's value in one profile. */
export type KernelFactValue = boolean | string | number;

/** One profile's facts: a kernel Profile (src/kernel/profile.ts PROFILES) is one. */
export type KernelFacts = { readonly name: string } & { readonly [F in KernelFact]: KernelFactValue };

/** Where the user-visible changes are grouped, in this order. */
export const CHANGE_GROUPS = ['heaps', 'dma-buf files', 'mmap and mm', 'sysfs and debugfs', 'udmabuf', 'memfd', 'fcntl and procfs', 'cgroups'] as const;
export type ChangeGroup = (typeof CHANGE_GROUPS)[number];

/** A conformance case: its file under test/conformance/cases, its exact name, and its case-level `profiles` list (null: every profile). */
export interface CaseRef {
  readonly file: string;
  readonly name: string;
  readonly profiles: readonly string[] | null;
}

interface Visible {
  readonly visible: true;
  readonly group: ChangeGroup;
  /** What a program looks at. */
  readonly what: string;
  /** What it sees, per value (String(value)); a value not listed is shown as itself. */
  readonly values: Readonly<Record<string, string>>;
  /** The release(s) that changed it, from the profile's comments and PROFILE_FACTS. */
  readonly version: string;
  readonly cases: readonly CaseRef[];
}

interface NotVisible {
  readonly visible: false;
  readonly what: string;
  readonly version: string;
  /** Why user space of DMA-BUF heaps cannot see it. */
  readonly reason: string;
}

export type KernelFactInfo = Visible | NotVisible;

const c = (file: string, name: string, profiles: readonly string[] | null = null): CaseRef => ({ file, name, profiles });
const yes = (t: string, f: string): Readonly<Record<string, string>> => ({ true: t, false: f });

const UP_TO_6_18 = ['5.10', '5.15', '6.1', '6.6', '6.12', '6.17', '6.18'];
const FROM_6_12 = ['6.12', '6.17', '6.18', '6.19', '7.0', '7.3'];
const FROM_6_17 = ['6.17', '6.18', '6.19', '7.0', '7.3'];
const FROM_6_19 = ['6.19', '7.0', '7.3'];
const NOT_5 = ['!5.10', '!5.15'];
const SYSFS_STATS = ['5.15', '6.1', '6.6', '6.12', '6.17', '6.18', '6.19'];

/** Every profile fact: what a program sees, the release, the cases; or why it cannot be seen. */
export const KERNEL_FACT_INFO: Readonly<Record<KernelFact, KernelFactInfo>> = {
  heapHelpers: {
    visible: true, group: 'heaps', what: 'heap buffers',
    values: yes(
      'exported as heap_helpers, the system heap capped at 2 GiB, MAP_PRIVATE EINVAL on every heap, pages fault in',
      'exported under the heap\'s name (exp_name), no 2 GiB cap, one system-heap page maps MAP_PRIVATE, system-heap mappings are PFN maps',
    ),
    version: 'v5.11 (heap-helpers.c removed; the heap name as exp_name from v5.13)',
    cases: [
      c('fd.json', 'probe: ${heap}/buf4k/fdinfo'),
      c('mmap.json', '5.10: the heap helpers refuse MAP_PRIVATE on every heap (EINVAL), even one page of the system heap', ['5.10']),
      c('mmap.json', 'probe: system/buf4k/mmap-rw-private', ['!5.10']),
    ],
  },
  fdinfoIno: {
    visible: true, group: 'dma-buf files', what: '/proc/<pid>/fdinfo of a dma-buf',
    values: yes('has an `ino:` line', 'has no `ino:` line'), version: 'v5.14',
    cases: [c('fd.json', 'probe: ${heap}/buf4k/fdinfo')],
  },
  dmabufOwnIno: {
    visible: true, group: 'dma-buf files', what: 'dma-buf inode numbers (st_ino, fdinfo, bufinfo)',
    values: yes('the dma-buf core\'s own counter (1 for the first buffer after boot)', 'get_next_ino(), shared with procfs and other pseudo files'),
    version: 'v5.18, back-ported to 5.15.y',
    cases: [c('fd-generic.json', 'inode numbers (emulated boot): dma-bufs count on their own counter from 1; 5.10 draws them from get_next_ino(), past the boot\'s pseudo inodes')],
  },
  cmaDebugfsPrefix: {
    visible: true, group: 'sysfs and debugfs', what: 'a CMA area\'s debugfs directory',
    values: yes('/sys/kernel/debug/cma/cma-<area> (cut to 15 characters)', '/sys/kernel/debug/cma/<area>'), version: 'v6.0',
    cases: [c('stats.json', 'cma debugfs: the area\'s directory is cma-<area> before 6.0, <area> after')],
  },
  cmaSysfs: {
    visible: true, group: 'sysfs and debugfs', what: '/sys/kernel/mm/cma/<area>/',
    values: yes('exists (alloc_pages_success, alloc_pages_fail)', 'does not exist (CONFIG_CMA_SYSFS is newer)'), version: 'v5.14',
    cases: [
      c('stats.json', 'cma sysfs: an area has alloc_pages_success and alloc_pages_fail', ['5.15', '6.1', '6.6']),
      c('stats.json', 'cma sysfs: and release_pages_success (6.10), which a close adds the buffer\'s pages to', ['6.12']),
      c('stats.json', 'cma sysfs: and total_pages and available_pages (6.14), which follow the area\'s free pages', FROM_6_17),
    ],
  },
  bufinfoNameColumn: {
    visible: true, group: 'sysfs and debugfs', what: 'debugfs dma_buf/bufinfo',
    values: yes('has a `name` column; an unnamed buffer shows <none>', 'has no `name` heading; an unnamed buffer shows nothing'), version: 'v6.0',
    cases: [c('stats.json', 'probe: ${heap}/debugfs-bufinfo', ['5.10', '5.15', '6.1', '6.6', '6.12']), c('stats.json', 'probe: ${heap}/debugfs-bufinfo (FMODE_NONOTIFY)', FROM_6_17)],
  },
  syncFileIoctls: {
    visible: true, group: 'dma-buf files', what: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE and IMPORT_SYNC_FILE',
    values: yes('exist', 'ENOTTY'), version: 'v6.0',
    cases: [
      c('sync-file.json', '5.x: DMA_BUF_IOCTL_EXPORT_SYNC_FILE and IMPORT_SYNC_FILE do not exist before 6.0: ENOTTY, whatever the flags or fd', ['5.10', '5.15']),
      c('sync-file.json', 'spec 8.61: EXPORT_SYNC_FILE with flags=RW gives a signalled sync_file with FD_CLOEXEC', NOT_5),
    ],
  },
  dmaBufPollWakes: {
    visible: true, group: 'dma-buf files', what: 'an edge-triggered epoll item of a dma-buf',
    values: yes('is reported at every wait (dma_buf_poll wakes its waiters)', 'is reported once (the old dma_buf_poll does not wake)'),
    version: 'v5.16, back-ported to 5.15.y',
    cases: [c('fd-generic.json', 'epoll: a dma-buf wakes its waiters from its own poll, so edge-triggered it is reported at every wait; one-shot only once')],
  },
  fileRwHint: {
    visible: true, group: 'fcntl and procfs', what: 'fcntl F_GET_FILE_RW_HINT / F_SET_FILE_RW_HINT',
    values: yes('exist (a NULL argument is EFAULT)', 'EINVAL'), version: 'v5.18 (removed)',
    cases: [c('fd-generic.json', 'fcntl on a dma-buf: locks\' checks, owner, signal, lease, pipe size, seals, unknown commands')],
  },
  mremapShrinkUnchecked: {
    visible: true, group: 'mmap and mm', what: 'mremap() shrinking an address with no mapping',
    values: yes('succeeds (no VMA lookup)', 'EFAULT'), version: 'v5.16',
    cases: [c('mm-vma.json', 'mm: mremap checks: an unaligned address and MREMAP_FIXED without MREMAP_MAYMOVE are EINVAL, an address with no mapping EFAULT; MREMAP_FIXED moves onto the given address, replacing what is there')],
  },
  defaultCmaHeapName: {
    visible: true, group: 'heaps', what: 'the default CMA area\'s heap',
    values: { area: 'is named after the area (reserved, linux,cma)', default_cma_region: 'is renamed default_cma_region' }, version: 'v6.17',
    cases: [
      c('discovery.json', 'probe: list-heaps', ['5.10', '5.15', '6.1', '6.6', '6.12', '!android12-5.10', '!android14-6.1']),
      c('discovery.json', 'spec 8.8: with a default CMA area, default_cma_region exists (6.17+), and the area\'s own name too', FROM_6_17),
    ],
  },
  cmaLegacyDuplicate: {
    visible: true, group: 'heaps', what: 'the default CMA area\'s old heap name',
    values: yes('kept as a second heap (DMABUF_HEAPS_CMA_LEGACY)', 'not added by the legacy option'), version: 'v6.17 (added), v6.19 (replaced by a heap per region)',
    cases: [c('boards.json', 'board: imx8mp on 6.17, 6.18: heaps system, default_cma_region, linux,cma', ['6.17', '6.18'])],
  },
  cmaHeapPerRegion: {
    visible: true, group: 'heaps', what: 'reusable reserved-memory regions',
    values: yes('get a CMA heap each', 'get no heap (only the default area has one)'), version: 'v6.19',
    cases: [
      c('boards.json', 'board: imx8mp on 6.1, 6.6, 6.12: heaps system, linux,cma', ['6.1', '6.6', '6.12', '!android12-5.10', '!android14-6.1']),
      c('boards.json', 'board: imx8mp on 6.19, 7.0: heaps system, default_cma_region, linux,cma, cma-video, framebuffer@78000000', FROM_6_19),
    ],
  },
  sysfsStats: {
    visible: true, group: 'sysfs and debugfs', what: '/sys/kernel/dmabuf/buffers',
    values: yes('exists (CONFIG_DMABUF_SYSFS_STATS)', 'does not exist'), version: 'v5.15 (added), v7.0 (removed)',
    cases: [c('stats.json', 'probe: ${heap}/buf4k/sysfs', SYSFS_STATS), c('stats.json', 'spec 8.64: no /sys/kernel/dmabuf/buffers in 7.0 (sysfs stats removed)', ['7.0', '7.3'])],
  },
  memAccountingParam: {
    visible: true, group: 'cgroups', what: '/sys/module/dma_heap/parameters/mem_accounting',
    values: yes('exists (N by default: heap memory charged to memcg on request)', 'does not exist'), version: 'v7.0',
    cases: [c('stats.json', 'spec 8.65: mem_accounting reads N by default and cannot be written', ['7.0', '7.3'])],
  },
  setNameBusyWhenAttached: {
    visible: true, group: 'dma-buf files', what: 'DMA_BUF_SET_NAME while a device has the buffer attached',
    values: yes('EBUSY', 'renames it'), version: 'v5.17',
    cases: [c('devices.json', 'device: DMA_BUF_SET_NAME while a device is attached: EBUSY on 5.10 and 5.15, accepted from 5.17', null)],
  },
  teeProtectedHeaps: {
    visible: true, group: 'heaps', what: 'a board with OP-TEE secure-video memory',
    values: yes('gets protected,<use> heaps', 'gets no protected heap'), version: 'v6.18',
    cases: [
      c('boards.json', 'board: rk3588 on 6.17: no protected heap', ['6.1', '6.6', '6.12', '6.17']),
      c('boards.json', 'board: rk3588: protected,secure-video allocates; its buffers cannot be mapped (EINVAL)', ['6.18', ...FROM_6_19]),
    ],
  },
  duplicateNameErrno: {
    visible: false, what: 'dma_heap_add() of a name that exists', version: '~v6.2 (and 6.1 stable)',
    reason: 'only a second heap driver registering a taken name sees it; user space cannot register heaps',
  },
  cmaMmapPfn: {
    visible: true, group: 'mmap and mm', what: 'a CMA-heap mapping',
    values: yes('is a PFN map (pagemap shows no page, not even after a touch)', 'inserts pages one by one as they fault (pagemap shows the touched ones)'), version: 'v6.8',
    cases: [
      c('cma-placement.json', 'cma: pages fault in one by one: only the touched page of a 3-page mapping is present', ['5.10', '5.15', '6.1', '6.6']),
      c('cma-placement.json', 'cma: from 6.8 a CMA mapping is PFN-mapped: pagemap shows no page even after a touch', FROM_6_12),
    ],
  },
  dmemCgroup: {
    visible: true, group: 'cgroups', what: 'the dmem cgroup controller',
    values: yes('exists (cgroup.controllers lists dmem; the profile builds CONFIG_CGROUP_DMEM)', 'does not exist'), version: 'v6.14',
    cases: [c('memcg.json', 'memcg: from 6.17 the root also offers the dmem controller', FROM_6_17), c('memcg.json', 'memcg: the cgroup v2 files of the root and of a child', ['5.15', '6.1', '6.6', '6.12'])],
  },
  pidfdThread: {
    visible: false, what: 'pidfd_open(PIDFD_THREAD)', version: 'v6.9',
    reason: 'a pidfd interface, not one of DMA-BUF heaps: a heap program sees it only if it opens thread pidfds (test/unit/accounting-pidfd.test.ts checks it; the case language has no pidfd op)',
  },
  pidfdSelf: {
    visible: false, what: 'PIDFD_SELF_THREAD / PIDFD_SELF_THREAD_GROUP', version: 'v6.15',
    reason: 'a pidfd interface, not one of DMA-BUF heaps (the case language has no pidfd op)',
  },
  writeBeginBeforeFault: {
    visible: false, what: 'a write() to a memfd from a buffer that faults', version: 'v6.14',
    reason: 'only a program that passes write() a bad pointer sees it (EPERM instead of EFAULT on a sealed memfd, a page left behind); the case language writes bytes, not addresses',
  },
  shmemDirectIo: {
    visible: true, group: 'memfd', what: 'a memfd reopened through /proc/<pid>/fd with O_DIRECT',
    values: yes('opens', 'EINVAL'), version: 'v6.6',
    cases: [c('memfd.json', 'memfd: reopened through /proc/self/fd, O_DIRECT is EINVAL before 6.6 and accepted from 6.6; the memfd itself refuses it in F_SETFL')],
  },
  heapFdAfterCopyOut: {
    visible: true, group: 'heaps', what: 'DMA_HEAP_IOCTL_ALLOC whose copy-out faults',
    values: yes('EFAULT and no fd (the buffer is freed)', 'EFAULT, but the fd is installed (leaked)'), version: 'the 6.1.192, 6.12.118 stable kernels and 7.3 (not the x.0 releases)',
    cases: [
      c('selftest.json', 'selftest: no fd leak when copy-out faults: 6.1.192, 6.12.118 and 7.3 publish the fd only after the copy-out (EFAULT, no new fd, the buffer is freed)', ['6.1', '6.12', '7.3']),
      c('selftest.json', 'selftest: no fd leak when copy-out faults: before the fix the fd IS installed (EFAULT, count_fds grows by one)', ['5.10', '5.15', '6.6', '6.17', '6.18', '6.19', '7.0']),
    ],
  },
  fmodeNoNotify: {
    visible: true, group: 'sysfs and debugfs', what: 'a dma-buf\'s f_mode (the bufinfo `mode` column)',
    values: yes('02080007 for O_RDWR (FMODE_NONOTIFY)', '00080007 for O_RDWR'), version: 'v6.14',
    cases: [c('stats.json', 'probe: ${heap}/debugfs-bufinfo', ['5.10', '5.15', '6.1', '6.6', '6.12']), c('stats.json', 'probe: ${heap}/debugfs-bufinfo (FMODE_NONOTIFY)', FROM_6_17)],
  },
  systemHeapChunkMmap: {
    visible: true, group: 'mmap and mm', what: 'a MAP_PRIVATE mapping of a system-heap buffer',
    values: yes('works within one chunk (64 KiB, 1 MiB)', 'works for one page only (EINVAL for more)'), version: 'v6.19 (between the 6.12 and 7.3 referees)',
    cases: [
      c('mmap.json', 'probe: ${heap}/buf1m/mmap-rw-private', UP_TO_6_18),
      c('mmap.json', 'probe: system/buf1m/mmap-private-write-visibility (one chunk)', FROM_6_19),
    ],
  },
  cmaSysfsReleasePages: {
    visible: true, group: 'sysfs and debugfs', what: '/sys/kernel/mm/cma/<area>/release_pages_success',
    values: yes('exists', 'does not exist'), version: 'v6.10',
    cases: [
      c('stats.json', 'cma sysfs: an area has alloc_pages_success and alloc_pages_fail', ['5.15', '6.1', '6.6']),
      c('stats.json', 'cma sysfs: and release_pages_success (6.10), which a close adds the buffer\'s pages to', ['6.12']),
      c('stats.json', 'cma sysfs: and total_pages and available_pages (6.14), which follow the area\'s free pages', FROM_6_17),
    ],
  },
  cmaSysfsPageCounts: {
    visible: true, group: 'sysfs and debugfs', what: '/sys/kernel/mm/cma/<area>/total_pages and available_pages',
    values: yes('exist', 'do not exist'), version: 'v6.14',
    cases: [
      c('stats.json', 'cma sysfs: and release_pages_success (6.10), which a close adds the buffer\'s pages to', ['6.12']),
      c('stats.json', 'cma sysfs: and total_pages and available_pages (6.14), which follow the area\'s free pages', FROM_6_17),
    ],
  },
  cmaOversizeCountsFail: {
    visible: true, group: 'sysfs and debugfs', what: 'a CMA allocation larger than the area',
    values: yes('counts in alloc_pages_fail', 'leaves alloc_pages_fail unchanged'), version: 'not counted in 6.12; counted again from the v6.14 multi-range rework',
    cases: [
      c('cma-placement.json', 'cma: a request larger than the area fails with ENOMEM; the whole area then succeeds, and nothing more', ['5.15', '6.1', '6.6', ...FROM_6_17]),
      c('cma-placement.json', 'cma: a request larger than the area fails with ENOMEM; the whole area then succeeds, and nothing more (6.12: the oversized request is not counted)', ['6.12']),
    ],
  },
  fcntlSealArgU32: {
    visible: true, group: 'memfd', what: 'F_ADD_SEALS with an argument above UINT_MAX',
    values: yes('cut to 32 bits (0x100000002 adds F_SEAL_SHRINK)', 'EINVAL'), version: 'after 6.6 (with 6.12)',
    cases: [
      c('memfd.json', 'memfd: F_ADD_SEALS accumulates seals until F_SEAL_SEAL; unknown bits are EINVAL', ['5.10', '5.15', '6.1', '6.6']),
      c('memfd.json', 'memfd: F_ADD_SEALS accumulates seals until F_SEAL_SEAL; unknown bits are EINVAL (a 64-bit argument is cut to 32 bits from 6.12)', FROM_6_12),
    ],
  },
  udmabufRangeEinval: {
    visible: true, group: 'udmabuf', what: 'UDMABUF_CREATE with an offset past MAX_LFS_FILESIZE',
    values: yes('EINVAL', 'EFBIG'), version: 'v6.11',
    cases: [
      c('udmabuf.json', 'spec 8.67: a size of 2^64 - PAGE_SIZE is EINVAL (size limit), an offset past MAX_LFS_FILESIZE is EFBIG', ['5.10', '5.15', '6.1', '6.6']),
      c('udmabuf.json', 'spec 8.67: a size of 2^64 - PAGE_SIZE is EINVAL (size limit), an offset past MAX_LFS_FILESIZE is EFBIG (EINVAL from 6.12)', FROM_6_12),
    ],
  },
  udmabufSizeLimitMb: {
    visible: true, group: 'udmabuf', what: 'the udmabuf size limit (size_limit_mb)',
    values: { 64: '64 MiB (65 MiB is EINVAL)', 2147483647: 'INT_MAX MiB (65 MiB is accepted)' }, version: 'after 7.0 (the 7.3 referee)',
    cases: [
      c('udmabuf.json', 'spec 8.67: 65 MiB is EINVAL, 64 MiB is accepted', ['5.10', '5.15', '6.1', '6.6', '6.12', '6.17', '6.18', '6.19', '7.0']),
      c('udmabuf.json', 'udmabuf: size_limit_mb defaults to INT_MAX on 7.3: 65 MiB is accepted', ['7.3']),
    ],
  },
  udmabufMinor: {
    visible: true, group: 'udmabuf', what: 'the minor of /dev/udmabuf (a dynamic misc minor)',
    values: { 61: '61 here (62 on the 5.10 referee: below 128)', 125: '125 here (126 on the 6.1 referee: below 128)', 257: '257 (above 255)' }, version: 'v6.12 (dynamic minors above 255)',
    cases: [
      c('udmabuf.json', 'udmabuf: the dynamic misc minor is below 128 before 6.12', ['5.10', '5.15', '6.1', '6.6']),
      c('udmabuf.json', 'udmabuf: the dynamic misc minor is above 255 from 6.12', FROM_6_12),
    ],
  },
  mapDroppable: {
    visible: true, group: 'mmap and mm', what: 'mmap(MAP_DROPPABLE) of anonymous memory',
    values: yes('maps', 'EINVAL'), version: 'v6.11',
    cases: [c('mm-vma.json', 'mm: MAP_DROPPABLE anonymous memory is EINVAL before 6.11 and maps from 6.11')],
  },
  guardRegions: {
    visible: true, group: 'mmap and mm', what: 'madvise(MADV_GUARD_INSTALL)',
    values: { none: 'EINVAL', anon: 'guards anonymous memory', file: 'guards anonymous memory and file mappings (memfd; EINVAL on a dma-buf)' }, version: 'v6.13 (anonymous), v6.15 (file mappings)',
    cases: [c('mm-vma.json', 'mm: MADV_GUARD_INSTALL is EINVAL before 6.13; from 6.15 it guards anonymous and memfd pages (SIGSEGV) but not a dma-buf mapping (EINVAL)')],
  },
  mremapMultiVma: {
    visible: true, group: 'mmap and mm', what: 'mremap(MREMAP_FIXED) of a range spanning several VMAs without resizing',
    values: yes('moves them all', 'EFAULT'), version: 'v6.17',
    cases: [c('mm-vma.json', 'mm: mremap MREMAP_FIXED of a range over two VMAs is EFAULT before 6.17 and moves both from 6.17')],
  },
  mergeIntoNoAnonVma: {
    visible: true, group: 'mmap and mm', what: 'munlock of a faulted page between untouched ones',
    values: yes('merges the VMAs back into one', 'leaves three VMAs'), version: 'v6.16',
    cases: [
      c('mm-vma.json', 'mm: before v6.16 munlock leaves the faulted page\'s VMA apart from its untouched neighbours (it has an anon_vma, they have none)', ['5.10', '5.15', '6.1', '6.6', '6.12']),
      c('mm-vma.json', 'mm: since v6.16 munlock merges the faulted page\'s VMA back with its untouched neighbours', FROM_6_17),
    ],
  },
  pseudoFsNoexec: {
    visible: true, group: 'mmap and mm', what: 'PROT_EXEC on a dma-buf',
    values: yes('EPERM in mmap, EACCES in mprotect (pseudo file systems are noexec)', 'maps'), version: 'after 7.0 (the 7.3 referee)',
    cases: [
      c('mm-vma.json', 'mm: a dma-buf maps with PROT_EXEC, and mprotect adds it', ['!5.10', '!5.15', '!7.3']),
      c('mm-vma.json', 'mm: 7.3: pseudo file systems are noexec: PROT_EXEC on a dma-buf is EPERM in mmap and EACCES in mprotect', ['7.3']),
    ],
  },
  procFdSize: {
    visible: true, group: 'fcntl and procfs', what: 'st_size of /proc/<pid>/fd',
    values: yes('the number of open fds', '0'), version: 'v6.2',
    cases: [c('fd-generic.json', 'st_size of /proc/self/fd: 0 before 6.2, the number of open fds from 6.2')],
  },
  fcntlQueries: {
    visible: true, group: 'fcntl and procfs', what: 'fcntl F_DUPFD_QUERY and F_CREATED_QUERY',
    values: yes('answer (1/0)', 'EINVAL'), version: 'v6.10 (F_DUPFD_QUERY), v6.12 (F_CREATED_QUERY)',
    cases: [c('fd-generic.json', 'fcntl F_DUPFD_QUERY and F_CREATED_QUERY on a dma-buf: EINVAL before 6.12, answered from 6.12')],
  },
  setleaseNeedsOp: {
    visible: true, group: 'fcntl and procfs', what: 'F_SETLEASE on procfs, sysfs, debugfs and cgroup2 files',
    values: yes('EINVAL (the file system must opt in)', 'takes the lease'), version: 'v6.19',
    cases: [c('fd-generic.json', 'F_SETLEASE on a /proc file: taken before 6.19, EINVAL from 6.19 (a file system without ->setlease)')],
  },
  debugfsPollAlways: {
    visible: true, group: 'sysfs and debugfs', what: 'epoll of debugfs dma_buf/bufinfo',
    values: yes('accepted (every debugfs file polls)', 'EPERM'), version: 'v6.14',
    cases: [c('fd-generic.json', 'epoll of debugfs bufinfo: EPERM before 6.14, accepted from 6.14 (every debugfs file polls)')],
  },
  cmaDebugfsRanges: {
    visible: true, group: 'sysfs and debugfs', what: 'a CMA area\'s debugfs directory',
    values: yes('has a `ranges` directory (and lists base_pfn before maxchunk)', 'has no `ranges` directory'), version: '~v6.15 (the multi-range CMA series)',
    cases: [c('stats.json', 'cma debugfs on a real kernel: a `ranges` directory from the multi-range CMA series')],
  },
};

/**
 * A case or step's profile list (`"6.1"` names one, `"!5.10"` leaves one out) admits a profile
 * known by any of `names`: none of them is left out, and the list names one of them or names
 * none but left-out ones. The conformance runner's profileMatches (src/apps/conformance/cases.ts)
 * asks with a GKI branch's mainline base among the names.
 */
export function profileListAdmits(list: readonly string[], names: readonly string[]): boolean {
  const excluded = list.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const included = list.filter((p) => !p.startsWith('!'));
  if (excluded.some((p) => names.includes(p))) return false;
  return included.length === 0 || included.some((p) => names.includes(p));
}

/** The case runs on `profile`: it has no profile list, or its list admits the profile (profileListAdmits: named, or only others left out). */
export function caseRunsOn(ref: CaseRef, profile: string): boolean {
  return ref.profiles === null || profileListAdmits(ref.profiles, [profile]);
}

/** One fact whose value differs between two profiles. */
export interface KernelChange {
  readonly fact: KernelFact;
  readonly visible: boolean;
  /** null for a fact user space cannot see. */
  readonly group: ChangeGroup | null;
  readonly what: string;
  readonly from: KernelFactValue;
  readonly to: KernelFactValue;
  /** What a program sees before and after (the values themselves for a fact user space cannot see). */
  readonly fromText: string;
  readonly toText: string;
  readonly version: string;
  /** The cases that check it and run on at least one of the two profiles (none for a fact user space cannot see). */
  readonly cases: readonly CaseRef[];
  /** Why user space cannot see it (null when it can). */
  readonly reason: string | null;
}

function valueText(info: KernelFactInfo, v: KernelFactValue): string {
  return info.visible ? info.values[String(v)] ?? String(v) : String(v);
}

/**
 * The facts whose values differ between the profiles `from` and `to` (either way round), the
 * visible ones first by group (CHANGE_GROUPS order), then in KERNEL_FACTS order.
 */
export function kernelChanges(from: KernelFacts, to: KernelFacts): KernelChange[] {
  const out: KernelChange[] = [];
  for (const fact of KERNEL_FACTS) {
    const a = from[fact];
    const b = to[fact];
    if (a === b) continue;
    const info = KERNEL_FACT_INFO[fact];
    out.push({
      fact, visible: info.visible, group: info.visible ? info.group : null, what: info.what, from: a, to: b,
      fromText: valueText(info, a), toText: valueText(info, b), version: info.version,
      cases: info.visible ? info.cases.filter((r) => caseRunsOn(r, from.name) || caseRunsOn(r, to.name)) : [],
      reason: info.visible ? null : info.reason,
    });
  }
  const rank = (ch: KernelChange): number => (ch.group === null ? CHANGE_GROUPS.length : CHANGE_GROUPS.indexOf(ch.group));
  return out.map((ch, i) => ({ ch, i })).sort((x, y) => rank(x.ch) - rank(y.ch) || x.i - y.i).map((x) => x.ch);
}
