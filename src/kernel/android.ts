/**
 * Android's own kernels, as data: what the Android Common Kernel (ACK) branches that GKI devices
 * run add on top of the mainline version they are based on, as far as public sources show it.
 *
 * Every fact of every branch is either a value with the public source it was read from (a
 * repository, path and commit, or a URL) or `'unknown'`: no value is guessed, and a fact seen in
 * a tree whose branch is not stated stays `'unknown'` on each candidate branch (its note says
 * what was seen where). The emulator models only the facts it can model cheaply and that a
 * source confirms (see {@link AndroidBranch.emulated}); the rest is reported (doctor,
 * docs/android.md), not emulated.
 *
 * Pure data: no Node APIs, no DOM (the kernel layer runs in a browser).
 */

/** The mainline versions the GKI branches are based on (the profiles of src/kernel/profile.ts). */
export type AndroidMainline = '5.10' | '5.15' | '6.1' | '6.6' | '6.12';

/** The GKI branches covered here (kernel/common branches `android<N>-<mainline>`). */
export const ANDROID_BRANCH_NAMES = ['android12-5.10', 'android13-5.10', 'android13-5.15', 'android14-5.15', 'android14-6.1', 'android15-6.6', 'android16-6.12'] as const;
export type AndroidBranchName = (typeof ANDROID_BRANCH_NAMES)[number];

/** The value that marks a fact no public source read here shows. */
export const UNKNOWN = 'unknown';

/** What a fact can say: yes/no, a text, or a list of numbers (page orders). */
export type AndroidFactValue = boolean | string | readonly number[];

/** The facts looked for on every branch (docs/android.md lists them with their meaning). */
export type AndroidFactKey =
  | 'branch'
  | 'release'
  | 'systemUncachedHeap'
  | 'systemHeapPagePools'
  | 'systemHeapDeferredFree'
  | 'heapHelpersInTree'
  | 'totalPoolsKb'
  | 'dmabufSysfsStats'
  | 'gkiDefconfig'
  | 'ionRemoved'
  | 'dmaHeapKernelApi'
  | 'dmaHeapTracepoints'
  | 'vendorHeapFlags';

/** One fact of one branch. */
export interface AndroidFact {
  readonly key: AndroidFactKey;
  /** The value, or `'unknown'` when no public source read here shows it. */
  readonly value: AndroidFactValue | typeof UNKNOWN;
  /** Where the value was read (repository path@commit or URL); null exactly when the value is unknown. */
  readonly source: string | null;
  /** What the value means for a user, or what was seen and why it is still unknown. */
  readonly note: string;
}

/** What the emulator models of a branch (everything else is reported only). */
export interface AndroidEmulation {
  /** The system heap module also registers `system-uncached` (ACK system_heap_create()). */
  readonly systemUncachedHeap: boolean;
  /** The KMI generation of `uname -r` (`<w.x.y>-android<N>-<k>`), when a source gives it; null: the mainline release is kept. */
  readonly kmiGeneration: number | null;
}

export interface AndroidBranch {
  readonly name: AndroidBranchName;
  /** The mainline version the branch is based on (its emulated profile). */
  readonly mainline: AndroidMainline;
  /** The Android release the branch was made for (the `android<N>` of its name). */
  readonly android: number;
  readonly facts: readonly AndroidFact[];
  readonly emulated: AndroidEmulation;
}

/** The one-line meaning of each fact key (docs/android.md, doctor). */
export const ANDROID_FACT_LABELS: Readonly<Record<AndroidFactKey, string>> = {
  branch: 'the branch exists in kernel/common',
  release: '`uname -r` (GKI kernel release)',
  systemUncachedHeap: '`system-uncached` heap registered by the system heap',
  systemHeapPagePools: 'system heap keeps freed pages in page pools (orders)',
  systemHeapDeferredFree: 'system heap frees buffers later, from a kernel thread',
  heapHelpersInTree: 'drivers/dma-buf/heaps has page_pool.c and deferred-free-helper.c',
  totalPoolsKb: '/sys/kernel/dma_heap/total_pools_kb',
  dmabufSysfsStats: 'CONFIG_DMABUF_SYSFS_STATS (/sys/kernel/dmabuf/buffers)',
  gkiDefconfig: 'DMA-BUF lines of arch/arm64/configs/gki_defconfig',
  ionRemoved: 'ION removed',
  dmaHeapKernelApi: 'dma-heap kernel API for modules (dma_heap_find, dma_heap_buffer_alloc, ...)',
  dmaHeapTracepoints: 'dma-heap tracepoints or vendor hooks',
  vendorHeapFlags: 'DMA_HEAP_IOCTL_ALLOC heap_flags that vendor heaps accept',
};

// ---------------------------------------------------------------------------------------------
// Sources (read with the project's search tools; a third-party copy of a branch says so)

const S = {
  // release-build listings: the branch exists and ships GKI builds
  a12_510Builds: 'https://source.android.com/docs/core/architecture/kernel/gki-android12-5_10-release-builds (JSON: branch android12-5.10, e.g. android12-5.10-2025-09, 5.10.240)',
  a13_510Builds: 'https://source.android.com/docs/core/architecture/kernel/gki-android13-5_10-release-builds (JSON: branch android13-5.10, e.g. android13-5.10-2025-07, 5.10.238)',
  a13_515Heaps: 'https://android.googlesource.com/kernel/common/+/refs/tags/android13-5.15-2023-10_r8/drivers/dma-buf/heaps',
  a14_515Builds: 'https://source.android.com/docs/core/architecture/kernel/gki-android14-5_15-release-builds (JSON: branch android14-5.15, e.g. android14-5.15-2025-07, 5.15.185)',
  a14_515DmaBuf: 'https://android.googlesource.com/kernel/common/+/refs/heads/android14-5.15-2026-01/drivers/dma-buf/',
  a14_61Heaps: 'https://android.googlesource.com/kernel/common/+/refs/heads/android14-6.1/drivers/dma-buf/heaps',
  a14_61DmaBuf: 'https://android.googlesource.com/kernel/common.git/+/refs/heads/android14-6.1/drivers/dma-buf',
  a15_66DmaBuf: 'https://android.googlesource.com/kernel/common/+/refs/tags/android15-6.6-2024-11_r6/drivers/dma-buf/',
  a16_612Builds: 'https://source.android.com/docs/core/architecture/kernel/gki-android16-6_12-release-builds',
  // source files
  a14_61SystemHeap: 'github.com/sreelekshman/android_kernel_6.1_nothing_mt6878 drivers/dma-buf/heaps/system_heap.c @9eed859493342169b2511b27ed0b26e35906dc4a (a device tree\'s copy of android14-6.1: its build.config.constants @565e30947eeffb7d5652122b7fd222082ebb4964 says BRANCH=android14-6.1)',
  a12SystemHeap: 'github.com/Anything-at-25-00/android_kernel_common_android12-5.10 drivers/dma-buf/heaps/system_heap.c @0d6c25031ed3a52fc7cb628d2068f2518fb2d320 (a copy of android12-5.10)',
  ack515SystemHeap: 'github.com/aosp-mirror/kernel_common drivers/dma-buf/heaps/system_heap.c @34148b6a5103338e78d6b545099d5200b75c7e58 (Makefile: 5.15.148)',
  deferredFree: 'github.com/aosp-mirror/kernel_common drivers/dma-buf/heaps/deferred-free-helper.c @bd1639945c30298e4bea2b611d6b0cd08d3cdd98',
  pagePool: 'github.com/aosp-mirror/kernel_common drivers/dma-buf/heaps/page_pool.c @0446041dcf10d1c466dd74fd26026236b6b340d2',
  totalPoolsAbi: 'https://android.googlesource.com/kernel/common/+/86e6176a42401c8014ac34e305b8e3c55eba9351/Documentation/ABI/testing/sysfs-kernel-dmaheap (KernelVersion: 5.10)',
  gos61Defconfig: 'github.com/GrapheneOS/kernel_common-6.1 arch/arm64/configs/gki_defconfig @000cec4c286129a23c5f156e6b7ba864c7aa8bcf (GrapheneOS\'s copy of android14-6.1)',
  gos66Defconfig: 'github.com/GrapheneOS/kernel_common-6.6 arch/arm64/configs/gki_defconfig @00b97ee2b78581255aa73b22113b36af1ce612e3 (GrapheneOS\'s copy of android15-6.6)',
  // documentation
  sysfsStatsDoc: 'https://source.android.com/devices/graphics/implement-dma-buf-gpu-mem (DMA-BUF statistics added to sysfs in Android 12)',
  ionDoc: 'https://source.android.com/docs/core/architecture/kernel/dma-buf-heaps (android12-5.10 disabled CONFIG_ION on 2021-03-01)',
  gkiVersioning: 'https://source.android.com/docs/core/architecture/kernel/gki-versioning (kernel release w.x.y-zzz-k-suffix)',
  a12Kmi: 'https://gitlab.com/dylanvanassche/linux/-/tags/5.10-android12-9 (a mirror\'s tag 5.10-android12-9, "Android 12 KMI Freeze", 2021-07-14)',
} as const;

/** The fact of `key` with a value from `source`. */
function known(key: AndroidFactKey, value: AndroidFactValue, source: string, note: string): AndroidFact {
  return { key, value, source, note };
}

/** The fact of `key` that no source read here shows. */
function unknown(key: AndroidFactKey, note: string): AndroidFact {
  return { key, value: UNKNOWN, source: null, note };
}

const NOT_READ = 'no public source read for this branch shows it';
const GKI_DMABUF_LINES = 'DMABUF_HEAPS=y, DMABUF_SYSFS_STATS=y, DMABUF_HEAPS_DEFERRED_FREE=y, DMABUF_HEAPS_PAGE_POOL=y; DMABUF_HEAPS_SYSTEM not set in the defconfig';
const ACK515_SEEN = 'an ACK 5.15 tree (5.15.148, android13-5.15 or android14-5.15: the mirror does not say which) registers system-uncached and keeps page pools of orders 8, 4, 0, but frees at release without the deferred-free thread (aosp-mirror/kernel_common system_heap.c @34148b6a)';
const API_SEEN = 'android-mainline\'s dma-heap.c has dma_heap_find() and a refcount (https://android.googlesource.com/kernel/common/+/android-mainline/drivers/dma-buf/dma-heap.c); which GKI branches export it was not read';
const TRACE_NOTE = 'no dma_heap tracepoint header or dma-buf vendor hook was found in the sources read';
const FLAGS_NOTE = 'mainline dma-heap.c refuses heap_flags outside DMA_HEAP_VALID_HEAP_FLAGS (none) with EINVAL before a heap sees them; no source read shows a GKI branch or vendor heap changing that (Qualcomm and MediaTek heaps are listed in docs/android.md without flags)';

/** The rest of a branch's facts when only its existence is known. */
function unknownRest(name: AndroidBranchName, except: readonly AndroidFactKey[] = []): AndroidFact[] {
  const notes: Partial<Record<AndroidFactKey, string>> = {
    release: `the format w.x.y-${name.split('-')[0]}-k-suffix is documented (${S.gkiVersioning}); the KMI generation k of this branch was not found`,
    systemUncachedHeap: name.endsWith('5.15') ? ACK515_SEEN : NOT_READ,
    systemHeapPagePools: name.endsWith('5.15') ? ACK515_SEEN : NOT_READ,
    systemHeapDeferredFree: name.endsWith('5.15') ? ACK515_SEEN : NOT_READ,
    dmaHeapKernelApi: API_SEEN,
    dmaHeapTracepoints: TRACE_NOTE,
    vendorHeapFlags: FLAGS_NOTE,
  };
  const keys: AndroidFactKey[] = ['release', 'systemUncachedHeap', 'systemHeapPagePools', 'systemHeapDeferredFree', 'heapHelpersInTree', 'totalPoolsKb', 'dmabufSysfsStats', 'gkiDefconfig', 'ionRemoved', 'dmaHeapKernelApi', 'dmaHeapTracepoints', 'vendorHeapFlags'];
  return keys.filter((k) => !except.includes(k)).map((k) => unknown(k, notes[k] ?? NOT_READ));
}

function branch(name: AndroidBranchName, mainline: AndroidMainline, facts: AndroidFact[]): AndroidBranch {
  const order = Object.keys(ANDROID_FACT_LABELS) as AndroidFactKey[];
  const sorted = [...facts].sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
  const get = (k: AndroidFactKey) => sorted.find((f) => f.key === k)?.value;
  const rel = get('release');
  const kmi = typeof rel === 'string' ? /-android\d+-(\d+)/.exec(rel) : null;
  return Object.freeze({
    name, mainline, android: Number(/^android(\d+)/.exec(name)![1]), facts: Object.freeze(sorted),
    emulated: Object.freeze({ systemUncachedHeap: get('systemUncachedHeap') === true, kmiGeneration: kmi === null ? null : Number(kmi[1]) }),
  });
}

const HEAP_HELPER_KEYS: readonly AndroidFactKey[] = ['heapHelpersInTree'];

/** The branches, in the order Android released them. */
export const ANDROID_BRANCHES: readonly AndroidBranch[] = Object.freeze([
  branch('android12-5.10', '5.10', [
    known('branch', true, S.a12_510Builds, 'Android 12 launch kernels (GKI 2.0)'),
    known('release', '5.10.<sublevel>-android12-9-<suffix>', `${S.gkiVersioning}; ${S.a12Kmi}`, 'KMI generation 9 since the Android 12 KMI freeze'),
    known('systemUncachedHeap', true, S.a12SystemHeap, 'system_heap_create() adds "system-uncached" after "system": the same pages, mapped write-combined, CPU syncs skipped (EBUSY until its DMA mask is set); libdmabufheap AllocSystem() and Codec2 pick it for buffers the CPU does not touch'),
    known('systemHeapPagePools', [8, 4, 0], `${S.a12SystemHeap}; ${S.pagePool}`, 'one dmabuf_page_pool per order (1 MiB, 64 KiB, 4 KiB); an allocation takes pool pages first; pool pages count as KReclaimable in /proc/meminfo (NR_KERNEL_MISC_RECLAIMABLE) and go back to the buddy allocator only through the pool shrinker, under memory pressure'),
    known('systemHeapDeferredFree', true, `${S.a12SystemHeap}; ${S.deferredFree}`, 'release queues the buffer for the "dmabuf-deferred-free-worker" kernel thread (SCHED_IDLE), which zeroes it and puts its pages in the pools; under memory pressure the freelist shrinker frees them to the buddy allocator instead: MemFree does not rise when the last fd is closed'),
    known('heapHelpersInTree', true, S.a12SystemHeap, 'system_heap.c includes page_pool.h and deferred-free-helper.h'),
    known('totalPoolsKb', true, `${S.totalPoolsAbi}; ${S.a12SystemHeap}`, 'read-only, the memory held in heap pools in KiB (the system heap reports its pools through get_pool_size); Android\'s libmeminfo ReadDmabufHeapPoolsSizeKb() reads it for dumpsys meminfo'),
    known('dmabufSysfsStats', true, S.sysfsStatsDoc, 'Android 12 added /sys/kernel/dmabuf/buffers (mainline 5.13) because debugfs is not mounted on user builds; libdmabufinfo and dmabuf_dump -b read it'),
    known('ionRemoved', 'CONFIG_ION disabled on 2021-03-01', S.ionDoc, 'DMA-BUF heaps replace ION on GKI 2.0 kernels'),
    ...unknownRest('android12-5.10', ['release', 'systemUncachedHeap', 'systemHeapPagePools', 'systemHeapDeferredFree', 'heapHelpersInTree', 'totalPoolsKb', 'dmabufSysfsStats', 'ionRemoved']),
  ]),
  branch('android13-5.10', '5.10', [
    known('branch', true, S.a13_510Builds, 'Android 13 kernels on 5.10'),
    ...unknownRest('android13-5.10'),
  ]),
  branch('android13-5.15', '5.15', [
    known('branch', true, S.a13_515Heaps, 'Android 13 launch kernels on 5.15'),
    known('heapHelpersInTree', true, S.a13_515Heaps, 'tag android13-5.15-2023-10_r8: cma_heap.c, deferred-free-helper.c, page_pool.c, system_heap.c'),
    ...unknownRest('android13-5.15', HEAP_HELPER_KEYS),
  ]),
  branch('android14-5.15', '5.15', [
    known('branch', true, S.a14_515Builds, 'Android 14 kernels on 5.15'),
    ...unknownRest('android14-5.15', ['dmabufSysfsStats']),
    unknown('dmabufSysfsStats', `dma-buf-sysfs-stats.c is in the tree (${S.a14_515DmaBuf}); whether gki_defconfig enables it was not read`),
  ]),
  branch('android14-6.1', '6.1', [
    known('branch', true, S.a14_61Heaps, 'Android 14 launch kernels on 6.1'),
    known('systemUncachedHeap', true, S.a14_61SystemHeap, 'system_heap_create() adds "system-uncached" after "system": the same pages, mapped write-combined, CPU syncs skipped (EBUSY until its DMA mask is set)'),
    known('systemHeapPagePools', [8, 4, 0], S.a14_61SystemHeap, 'orders ORDER_1M, ORDER_64K and 0 (8, 4, 0 with 4 KiB pages; the orders follow PAGE_SHIFT on 16 KiB-page kernels); an allocation takes pool pages first; pool pages stay out of MemFree until the pool shrinker frees them under memory pressure'),
    known('systemHeapDeferredFree', false, S.a14_61SystemHeap, 'release zeroes the buffer and puts its pages in the pools at once, without the deferred-free thread (deferred-free-helper.c is still in the tree); MemFree still does not rise, as the pages stay in the pools'),
    known('heapHelpersInTree', true, S.a14_61Heaps, 'branch head: cma_heap.c, deferred-free-helper.c, page_pool.c, system_heap.c'),
    known('dmabufSysfsStats', true, `${S.gos61Defconfig}; ${S.a14_61DmaBuf}`, 'CONFIG_DMABUF_SYSFS_STATS=y (mainline has it from 5.13 to 6.19)'),
    known('gkiDefconfig', GKI_DMABUF_LINES, S.gos61Defconfig, 'also CONFIG_UDMABUF=y and CONFIG_DMA_CMA=y; the system heap itself is not built in by the defconfig'),
    ...unknownRest('android14-6.1', ['systemUncachedHeap', 'systemHeapPagePools', 'systemHeapDeferredFree', 'heapHelpersInTree', 'dmabufSysfsStats', 'gkiDefconfig', 'totalPoolsKb']),
    unknown('totalPoolsKb', `the system heap implements get_pool_size (${S.a14_61SystemHeap}), the heap op that total_pools_kb sums; the branch's dma-heap.c, which creates the file, was not read`),
  ]),
  branch('android15-6.6', '6.6', [
    known('branch', true, S.a15_66DmaBuf, 'Android 15 launch kernels on 6.6'),
    known('dmabufSysfsStats', true, `${S.gos66Defconfig}; ${S.a15_66DmaBuf}`, 'CONFIG_DMABUF_SYSFS_STATS=y'),
    known('gkiDefconfig', GKI_DMABUF_LINES, S.gos66Defconfig, 'CONFIG_DMA_CMA=y; no CONFIG_UDMABUF line; the heaps directory of this branch was not read'),
    ...unknownRest('android15-6.6', ['dmabufSysfsStats', 'gkiDefconfig']),
  ]),
  branch('android16-6.12', '6.12', [
    known('branch', true, S.a16_612Builds, 'Android 16 launch kernels on 6.12'),
    ...unknownRest('android16-6.12'),
  ]),
]);

/** A branch by name, or null. */
export function androidBranch(name: string): AndroidBranch | null {
  return ANDROID_BRANCHES.find((b) => b.name === name) ?? null;
}

/** `android14-6.1` → its mainline base and the branch; null for a name that is not a branch here. */
export function resolveAndroidProfile(name: string): { readonly mainline: AndroidMainline; readonly branch: AndroidBranch } | null {
  const b = androidBranch(name);
  return b === null ? null : { mainline: b.mainline, branch: b };
}

/** The value of a fact of a branch (`'unknown'` when not known). */
export function androidFact(b: AndroidBranch, key: AndroidFactKey): AndroidFact {
  return b.facts.find((f) => f.key === key) ?? unknown(key, NOT_READ);
}

/**
 * A GKI kernel release (`5.10.198-android12-9-00085-gabcdef`, the gki-versioning page's
 * w.x.y-zzz-k-suffix): its mainline version, Android release, KMI generation and the branch name
 * (`android12-5.10`), whether or not this module knows the branch; null for any other release.
 */
export function parseGkiRelease(release: string): { readonly mainline: string; readonly android: number; readonly kmiGeneration: number; readonly branch: string; readonly known: AndroidBranch | null } | null {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?-android(\d+)-(\d+)(?:-|$)/.exec(release);
  if (m === null) return null;
  const mainline = `${m[1]}.${m[2]}`;
  const name = `android${m[3]}-${mainline}`;
  return { mainline, android: Number(m[3]), kmiGeneration: Number(m[4]), branch: name, known: androidBranch(name) };
}

/** The `uname -r` of an emulated branch: the mainline release with `-android<N>-<k>` when the KMI generation is known. */
export function androidRelease(mainlineRelease: string, b: AndroidBranch): string {
  return b.emulated.kmiGeneration === null ? mainlineRelease : `${mainlineRelease}-android${b.android}-${b.emulated.kmiGeneration}`;
}
