/**
 * Every intentional difference between the emulated kernel and Linux, with its reason. This list
 * is the source of docs/fidelity.md (scripts/gen-fidelity.ts); a test keeps the two equal.
 */
export interface Divergence {
  readonly id: string;
  /** The subsystem, as a kernel path. */
  readonly area: string;
  readonly linux: string;
  readonly emulator: string;
  readonly reason: string;
}

export const DIVERGENCES: readonly Divergence[] = [
  {
    id: 'oom-killer',
    area: 'mm/oom_kill.c',
    linux: 'A system-heap allocation larger than free memory makes the page allocator reclaim and then invoke the OOM killer; on 6.1 the allocating process is killed by SIGKILL (the probe\'s PROBE_OOM run).',
    emulator: 'The OOM killer is not modelled: an allocation that cannot be satisfied fails with ENOMEM and gives back every page it took. (A memory cgroup at memory.max is different: see memcg.)',
    reason: 'Killing processes from inside an allocation would make every tool built on the emulator unpredictable; ENOMEM is what the heap itself returns when pages run out without OOM.',
  },
  {
    id: 'poll-never-blocks',
    area: 'fs/select.c',
    linux: 'poll() sleeps until an event or the timeout.',
    emulator: 'poll() never sleeps: it reports what is ready now and returns 0 when nothing is.',
    reason: 'There is no scheduler. Heap buffers only ever hold signalled fences, so on Linux they are always ready too.',
  },
  {
    id: 'ram-layout',
    area: 'arch/*/kernel/setup.c',
    linux: 'Firmware describes RAM with holes (below 1 MiB, the PCI hole on x86) and the kernel image sits somewhere in it.',
    emulator: 'Without a board, RAM is one bank from 0 (x86-64) or 0x40000000 (arm64) whose first 16 MiB are reserved for the kernel and firmware. With a board, RAM is its /memory banks and the kernel image is not reserved anywhere (a bootloader places it around the firmware carve-outs); early allocations (page tables, the DTB copy, mem_map) are not modelled either, so top-down placements can sit a little higher than on hardware.',
    reason: 'Only CMA and reserved-memory placement depend on the layout; the oracle\'s 2 GiB machine is reproduced exactly (cma=64M lands at 0x7c000000).',
  },
  {
    id: 'buddy-order',
    area: 'mm/page_alloc.c',
    linux: 'Free lists hand out the most recently freed block first.',
    emulator: 'Free lists hand out the oldest free block first (deterministic).',
    reason: 'System-heap page frames are not visible to user space; determinism makes tests and simulations reproducible.',
  },
  {
    id: 'generic-ioctls',
    area: 'fs/ioctl.c do_vfs_ioctl',
    linux: 'The VFS handles FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIGETBSZ, FIFREEZE, FITHAW, FS_IOC_FIEMAP, FICLONE, FIDEDUPERANGE and more before the driver.',
    emulator: 'FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE and FIGETBSZ are handled; the others reach the driver (the heap returns EINVAL or allocates, a dma-buf returns ENOTTY).',
    reason: 'The remaining commands concern regular files and file systems, which the emulator does not have.',
  },
  {
    id: 'virtual-file-write',
    area: 'fs/proc, fs/kernfs, fs/debugfs',
    linux: 'Root may open some procfs and debugfs text files for writing (CAP_DAC_OVERRIDE) and fails later; read-only sysfs and cgroupfs attributes refuse the open with EACCES (kernfs_fop_open), writable ones take writes.',
    emulator: 'The cgroupfs files that have a write handler in Linux (cgroup.procs, cgroup.subtree_control, memory.max; mode 0644) open for writing and take writes of up to a page (E2BIG beyond, as kernfs). Every other emulated /proc, /sys and debugfs text file refuses an open for writing with EACCES.',
    reason: 'The other emulated files are not writable in Linux either (the write fails, if not the open); one refusal point is simpler and never lets a write appear to succeed.',
  },
  {
    id: 'mount-ids',
    area: 'fs/namespace.c',
    linux: 'Mount ids and anonymous device numbers depend on boot order.',
    emulator: 'As on the 6.1 oracle: the dmabuf pseudo file system has mnt_id 8 and st_dev 0:7, anon_inode (sync_file) mnt_id 11, st_dev 0:10, inode 12; heap nodes are on st_dev 0:4 with mnt_id 22 (the oracle shows its own bind mount there). Not observed on the oracle: memfds (the internal tmpfs) are on st_dev 0:1 with mnt_id 1, and /dev/udmabuf is 10:125 (misc devices get dynamic minors in registration order).',
    reason: 'Stable values make output reproducible; conformance cases mask them.',
  },
  {
    id: 'meminfo-subset',
    area: 'fs/proc/meminfo.c',
    linux: '/proc/meminfo has ~50 lines.',
    emulator: '/proc/meminfo has MemTotal, MemFree, CmaTotal and CmaFree.',
    reason: 'These are the lines dma-buf tools read.',
  },
  {
    id: 'sync-file-ioctls',
    area: 'drivers/dma-buf/sync_file.c',
    linux: 'A sync_file fd answers SYNC_IOC_MERGE and SYNC_IOC_FILE_INFO.',
    emulator: 'A sync_file fd answers poll (always signalled); its ioctls return ENOTTY.',
    reason: 'Only export/import through the dma-buf is in scope so far.',
  },
  {
    id: 'vmap-at-release',
    area: 'drivers/dma-buf/dma-buf.c dma_buf_release',
    linux: 'Releasing a buffer that is still vmapped is a kernel BUG().',
    emulator: 'The mapping is torn down and the buffer released.',
    reason: 'A faithful crash helps nobody; the sanitizer (later) reports the bug instead.',
  },
  {
    id: 'fmode-newer-profiles',
    area: 'include/linux/fs.h FMODE_*',
    linux: 'Later kernels reshuffled f_mode bits (e.g. FMODE_LSEEK was reworked after 6.1).',
    emulator: 'The debugfs `mode` column uses the 6.1 bits (0x80007 for O_RDWR) in every profile.',
    reason: 'Only the 6.1 oracle has been observed.',
  },
  {
    id: 'device-name-format',
    area: 'drivers/dma-buf/dma-heap.c dma_heap_add',
    linux: 'The heap name is passed to device_create() as a printf format, so a % in a name is interpreted.',
    emulator: 'A % in a heap name is kept literally.',
    reason: 'Interpreting it would reproduce undefined behaviour; the naming linter (N6) flags such names instead.',
  },
  {
    id: 'address-space',
    area: 'mm/mmap.c get_unmapped_area',
    linux: 'mmap() places mappings top-down below mmap_base with randomisation, honouring hints and reusing freed ranges.',
    emulator: 'Mappings are placed top-down from 0x7f0000000000 without reuse or randomisation; hints without MAP_FIXED are ignored.',
    reason: 'Addresses are not part of any contract; deterministic addresses keep output stable.',
  },
  {
    id: 'cma-migration',
    area: 'mm/page_alloc.c alloc_contig_range',
    linux: 'A CMA allocation migrates movable pages out of the range and may fail with EBUSY on pinned pages, retrying elsewhere.',
    emulator: 'Migration always succeeds unless a test installs a `busy` hook on the area.',
    reason: 'No movable user pages are modelled inside CMA areas.',
  },
  {
    id: 'fatal-signal',
    area: 'kernel/signal.c',
    linux: 'SIGKILL makes the process exit at the next return to user space.',
    emulator: 'Process.kill() marks a fatal signal pending (so long kernel loops return EINTR); the process exits when the caller calls exit().',
    reason: 'The emulator has no user-space return path to interrupt.',
  },
  {
    id: 'memcg',
    area: 'mm/memcontrol.c',
    linux: 'cgroup v2 at /sys/fs/cgroup has many interface files and controllers. The memory controller charges anonymous memory, page cache and shmem (memfds), kernel memory (slab, page tables, __GFP_ACCOUNT pages such as the 7.0 system heap\'s with dma_heap.mem_accounting=1); charges are taken in batches of 64 pages per CPU, so memory.current may read a few hundred KiB high. At memory.max it reclaims, then the memcg OOM killer kills the largest task (or a high-order kernel allocation fails); lowering memory.max below the usage reclaims and OOM-kills too. An offlined memcg\'s kernel-memory charges are reparented. memory.peak can be reset by writing it from 6.12.',
    emulator: 'cgroup v2 with the memory controller only (the oracle kernel has CONFIG_MEMCG and no other controller): cgroup.controllers, cgroup.procs, cgroup.subtree_control, and memory.current, memory.max and memory.peak (read-only in every profile) in child cgroups; mkdir/rmdir of cgroups. Charged, exactly (no per-CPU batches): anonymous pages at their first write (any first access for MAP_SHARED anonymous memory), to the memcg of the faulting process, and uncharged from that same memcg at munmap or exit; with 7.0\'s dma_heap.mem_accounting=1, system-heap pages at allocation, uncharged at buffer release. Never charged: memfd (shmem) and udmabuf pages, page tables and other kernel memory, CMA-heap buffers (as in Linux). At memory.max nothing is reclaimed and the faulting process is the OOM victim: a user store that needs a new page is killed with SIGKILL, a kernel copy to user memory fails with EFAULT, a system-heap allocation fails with ENOMEM (an order that cannot be charged falls back to smaller ones, as a failed page allocation does); lowering memory.max below the usage changes nothing until the next charge. A fork child\'s copy of anonymous memory is charged again as the child writes it (Linux shares the pages copy-on-write). Charges of a removed cgroup stay on its memcg (counted in the ancestors) until uncharged. Not modelled: memory.stat, memory.events, memory.high/low/min, swap, threaded cgroups, cgroup.type/events/stat/kill/freeze.',
    reason: 'Enough to observe what the probe observes (which memory lands in memory.current) and the 7.0 accounting switch; reclaim and OOM victim selection need a page cache and a scheduler the emulator does not have.',
  },
  {
    id: 'read-only-paths',
    area: 'fs/namei.c do_mkdirat, do_rmdir',
    linux: 'mkdir and rmdir work on the writable file systems (devtmpfs /dev, tmpfs, the root file system); procfs and sysfs refuse them with EPERM; cgroupfs makes and removes cgroups.',
    emulator: 'Only cgroupfs (/sys/fs/cgroup) makes and removes directories; procfs and sysfs refuse with EPERM (rmdir of the /sys/fs/cgroup and /sys/kernel/debug mount points: EBUSY), as in Linux; everywhere else mkdir and rmdir fail with EROFS.',
    reason: 'The emulator has no disk or tmpfs file systems; EROFS says so without pretending a directory exists.',
  },
  {
    id: 'memfd-udmabuf-6.1',
    area: 'mm/memfd.c, mm/mmap.c, drivers/dma-buf/udmabuf.c',
    linux: 'Later kernels changed memfds and udmabuf: 6.3 added MFD_NOEXEC_SEAL, MFD_EXEC and F_SEAL_EXEC; 6.7 lets a read-only MAP_SHARED mapping of a write-sealed memfd through and counts only writable shared mappings against F_SEAL_WRITE; udmabuf later also rejects F_SEAL_FUTURE_WRITE, accepts hugetlbfs memfds and no longer leaks the buffer when dma_buf_fd() fails.',
    emulator: 'memfd_create, sealing and /dev/udmabuf behave as in 6.1 in every profile.',
    reason: 'Only 6.1 has been observed (the probe\'s udmabuf lines); the spec describes udmabuf only briefly.',
  },
  {
    id: 'no-hugetlbfs',
    area: 'fs/hugetlbfs/inode.c',
    linux: 'memfd_create(MFD_HUGETLB) makes a file on hugetlbfs (the oracle kernel has CONFIG_HUGETLBFS).',
    emulator: 'The kernel is built without hugetlbfs: after the flag, name and fd checks MFD_HUGETLB fails with ENOSYS, as the CONFIG_HUGETLBFS=n stub hugetlb_file_setup() does.',
    reason: 'Huge pages are not modelled; failing the way a real kernel without hugetlbfs fails keeps the error meaningful.',
  },
  {
    id: 'seal-write-pins',
    area: 'mm/memfd.c memfd_wait_for_pins',
    linux: 'F_ADD_SEALS(F_SEAL_WRITE) on a memfd whose pages have extra references (a udmabuf, direct I/O) waits about 150 ms for them to go before failing with EBUSY.',
    emulator: 'It fails with EBUSY at once.',
    reason: 'Nothing can drop a pin while the call runs: there is no concurrency.',
  },
  {
    id: 'tee-protected-memory',
    area: 'drivers/tee/optee, drivers/tee/tee_heap.c',
    linux: 'On 6.18 the OP-TEE driver asks the secure world for its protected memory (OPTEE_SMC_GET_PROTMEM_CONFIG / FF-A) and registers protected,<use case> heaps over it.',
    emulator: 'A board describes that memory in its device tree: the /firmware/optee node (compatible "linaro,optee-tz") points at no-map reserved regions with memory-region, one per use case (memory-region-names, or secure-video, trusted-ui, secure-video-record in order).',
    reason: 'There is no secure world to ask; the device tree is where a board already describes its carve-outs, so one file says everything about the board.',
  },
  {
    id: 'coherent-nomap',
    area: 'drivers/dma-buf/heaps/coherent_heap.c (proposed)',
    linux: 'The proposed coherent heap builds a page array from the pool\'s kernel address; over a no-map region there are no struct pages, which the series\' review called invalid without saying what the code does.',
    emulator: 'Allocation works (the pool serves it); the paths that need struct pages refuse: mmap with EINVAL, vmap with ENOMEM, mapping an attachment with ENOMEM (the CMA/coherent map-failure errno).',
    reason: 'The issue asks for these paths to refuse; the errnos are the ones the neighbouring kernel code returns for the same failures (vm_insert_page on a non-page, a failed vmap, a failed map_dma_buf).',
  },
  {
    id: 'proposed-heaps',
    area: 'drivers/dma-buf/heaps',
    linux: 'The coherent heap, dma_heap_find/put and the heap reference counting are proposals (2026 series), not in any release.',
    emulator: 'They exist behind config switches (features.coherentHeap; the in-kernel API) with the behaviour of the posted series and its review.',
    reason: 'Engineers evaluate proposals before they land; the switches keep default kernels to merged behaviour.',
  },
];
