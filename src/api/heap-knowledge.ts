/**
 * What a heap is, when the kernel will not say. dma-buf heaps have no query ioctl (ION's
 * `ION_IOC_HEAP_QUERY` and the v14 series' `DMA_HEAP_IOC_GET_FEATURES` did not survive), so user
 * space can only read `/dev/dma_heap` and guess from the names. This module makes the guess
 * explicit and traceable:
 *
 * - a **knowledge base** ({@link KNOWN_HEAPS}) of heap names seen on mainline, Android,
 *   Raspberry Pi, Rockchip, NXP, TI, Qualcomm, MediaTek, Google/Samsung and OP-TEE systems,
 *   with the kernel versions that introduced or renamed them and the properties each implies;
 * - **facts** the caller can add ({@link SystemFacts}): the live device tree's reserved-memory
 *   regions, `/proc/meminfo` CmaTotal/CmaFree, the CMA areas in `/sys/kernel/mm/cma`, or the
 *   exact description a backend knows (the emulated kernel);
 * - **inference** ({@link inferHeapProperties}): every property says where it came from
 *   (`exact` > `device-tree` > `sysfs` > `meminfo` > `name`, strongest first) and why.
 *
 * Pure: no kernel, no Node APIs. Reading the facts goes through a {@link SyscallTarget} or an
 * injected directory reader ({@link DeviceTreeFs}).
 */
import { cmaDebugfsDirName } from '../uapi/cma.js';
import { fcntlConstants } from '../uapi/fcntl.js';
import type { ExactHeapFacts, SyscallTarget } from './target.js';

export type { ExactHeapFacts } from './target.js';

// ---------------------------------------------------------------------------------------------
// Types

/**
 * Where an inferred property came from, strongest first: `exact` (the backend knows: the
 * emulated kernel), `device-tree` (a reserved-memory region of the live device tree), `sysfs`
 * (`/sys/kernel/mm/cma`, debugfs `cma/<area>`), `meminfo` (`/proc/meminfo` CmaTotal/CmaFree),
 * `name` (the knowledge base or the naming convention's property words).
 */
export type PropertySource = 'exact' | 'device-tree' | 'sysfs' | 'meminfo' | 'name';

/** A property value with its provenance. */
export interface Inferred<T> {
  /** The property's value. */
  readonly value: T;
  /** Where it came from. */
  readonly source: PropertySource;
  /** Why, in one sentence: the knowledge-base entry, the region, the file. */
  readonly reason: string;
}

/**
 * What kind of memory backs a heap: the page allocator (`system`), a CMA area (`cma`), a
 * per-device coherent pool (`coherent`), a vendor carve-out (`carveout`), memory the OS cannot
 * access (`protected`), or something else.
 */
export type HeapKind = 'system' | 'cma' | 'coherent' | 'carveout' | 'protected' | 'other';

/** Where a knowledge-base entry was seen. */
export type Platform =
  | 'mainline'
  | 'android'
  | 'raspberry-pi'
  | 'rockchip'
  | 'nxp'
  | 'ti'
  | 'qualcomm'
  | 'mediatek'
  | 'google-samsung'
  | 'allwinner'
  | 'op-tee';

/** One knowledge-base entry: a heap name (or a family of names) and what it implies. */
export interface KnownHeap {
  /** Stable identifier, e.g. `mainline/default_cma_region`. */
  readonly id: string;
  /** The name or the family, for people: `system`, `carveout_<region>`, `qcom,secure-*`. */
  readonly pattern: string;
  /** The names the entry covers (whole name). */
  readonly match: RegExp;
  /** The memory behind such a heap; null: the name does not tell. */
  readonly kind: HeapKind | null;
  /** Physically contiguous buffers; null: the name does not tell. */
  readonly contiguous: boolean | null;
  /** CPU mappings are cacheable; null: the name does not tell. */
  readonly cacheable: boolean | null;
  /** Not accessible by the OS (the naming convention's `protected`; vendors say "secure"). */
  readonly protected: boolean | null;
  /** Where the name was seen. */
  readonly platforms: readonly Platform[];
  /** In mainline Linux (released or, with `since` marked "expected"/"proposed", on its way). */
  readonly upstream: boolean;
  /** The mainline version that introduced the name, when it is upstream. */
  readonly since: string | null;
  /** What happened to the name across kernel versions, and what it means on each. */
  readonly history: string;
  /** Where the name was seen and how it is used. */
  readonly note: string;
  /**
   * Where the name and its properties were read: a repository path@commit or a URL (the
   * kernel code that registers the heap). Absent for entries taken from the user-space survey
   * alone (userspace.md).
   */
  readonly source?: string;
}

/** A reserved-memory region of the device tree (`/reserved-memory/<node>`). */
export interface ReservedRegionFact {
  /** Full node name, e.g. `linux,cma` or `framebuffer@78000000`. */
  readonly name: string;
  /** e.g. `/reserved-memory/linux,cma` */
  readonly path: string;
  /** Static base (`reg`); null for a dynamically placed region (`size` only). */
  readonly base: number | null;
  /** Bytes (`reg` or `size`); null when neither can be read. */
  readonly size: number | null;
  /** The `compatible` strings (`shared-dma-pool`, `restricted-dma-pool`, ...). */
  readonly compatible: readonly string[];
  /** `reusable`: the OS may use the memory while no device does (CMA). */
  readonly reusable: boolean;
  /** `no-map`: no struct pages, outside the kernel's linear map. */
  readonly nomap: boolean;
  /** `linux,cma-default`: the default CMA area. */
  readonly cmaDefault: boolean;
}

/** A CMA area as `/sys/kernel/mm/cma/<name>` lists it; sizes from debugfs when readable. */
export interface CmaAreaFact {
  /** The area's name: `reserved` for the cmdline/Kconfig area, else the region's node name. */
  readonly name: string;
  /** Bytes (debugfs `cma/<area>/count` × page size); null when not readable. */
  readonly size: number | null;
  /** Bytes not in use (count − used); null when not readable. */
  readonly free: number | null;
}

/**
 * Facts about a system beyond heap names, all optional: pass what you have. A live device tree
 * comes from {@link readReservedMemory}; the rest from {@link readSystemFacts}.
 */
export interface SystemFacts {
  /** `uname -r`, e.g. `6.17.0` (which names mean what depends on it). */
  readonly release?: string | null;
  /** The reserved-memory regions of the live device tree. */
  readonly reservedMemory?: readonly ReservedRegionFact[] | null;
  /** `/proc/meminfo` CmaTotal and CmaFree, in bytes. */
  readonly meminfo?: { readonly cmaTotal: number; readonly cmaFree: number } | null;
  /** The CMA areas of `/sys/kernel/mm/cma`. */
  readonly cmaAreas?: readonly CmaAreaFact[] | null;
  /** Exact facts from the backend; they win over everything else. */
  readonly exact?: readonly ExactHeapFacts[] | null;
  /**
   * `/dev/udmabuf`: whether it exists, whether this process may open it read-write, and its
   * `size_limit_mb` module parameter in bytes (null: not readable; the kernel default is 64 MiB).
   */
  readonly udmabuf?: { readonly present: boolean; readonly usable: boolean; readonly sizeLimit: number | null } | null;
}

/** The reserved-memory region behind a heap. */
export interface HeapRegion {
  /** Node name; null for the command-line/Kconfig CMA area. */
  readonly name: string | null;
  /** Device-tree path, e.g. `/reserved-memory/linux,cma`; null when not from the device tree. */
  readonly path: string | null;
  /** Physical base; null when dynamically placed and unknown. */
  readonly base: number | null;
  /** Bytes. */
  readonly size: number | null;
  /** `reusable` (CMA); null when unknown. */
  readonly reusable: boolean | null;
  /** `no-map`; null when unknown. */
  readonly nomap: boolean | null;
}

/** A heap in /dev/dma_heap and what is known about it. */
export interface HeapInfo {
  /** The name in /dev/dma_heap. */
  readonly name: string;
  /** `/dev/dma_heap/<name>` */
  readonly path: string;
  /** What is known about it, each property with its source. */
  readonly properties: HeapProperties;
}

/** What is known about a heap, each property with its provenance (null: unknown). */
export interface HeapProperties {
  /** The memory behind the heap. */
  readonly kind: Inferred<HeapKind> | null;
  /** Physically contiguous buffers. */
  readonly contiguous: Inferred<boolean> | null;
  /** CPU mappings are cacheable (false: write-combined or uncached). */
  readonly cacheable: Inferred<boolean> | null;
  /** Not accessible by the OS (TEE or TrustZone memory). */
  readonly protected: Inferred<boolean> | null;
  /** The reserved-memory region behind the heap. */
  readonly region: Inferred<HeapRegion> | null;
  /** Bytes the heap can hand out in total. */
  readonly capacity: Inferred<number> | null;
  /** Bytes free now. */
  readonly free: Inferred<number> | null;
  /** Other heaps on this system over the same memory (the 6.17-6.18 legacy duplicate, 6.19+ twins). */
  readonly sameMemoryAs: Inferred<readonly string[]> | null;
  /** A compatibility name kept beside a newer one (prefer the other). */
  readonly legacyAlias: Inferred<boolean> | null;
  /** The knowledge-base entry the name matched. */
  readonly known: KnownHeap | null;
}

// ---------------------------------------------------------------------------------------------
// The knowledge base

const exact = (s: string): RegExp => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const CMA_HISTORY =
  'the default CMA heap was named after its CMA area up to 6.16; 6.17 renamed it default_cma_region and kept the old name as a legacy duplicate (DMABUF_HEAPS_CMA_LEGACY, 6.17-6.18); from 6.19 every reusable region gets a heap under its own name, so the old name stays, as a per-region heap';

/**
 * Heap names seen in the wild, most specific first ({@link lookupHeapName} takes the first
 * match). Mainline facts follow the kernel documentation and the version timeline of the spec
 * (kernel-behavior.md §0, §1.7, §3.4); vendor names come from the vendors' kernels and the user
 * space that opens them (userspace.md §1, §3.2).
 */
export const KNOWN_HEAPS: readonly KnownHeap[] = Object.freeze([
  {
    id: 'mainline/system', pattern: 'system', match: exact('system'), kind: 'system', contiguous: false, cacheable: true, protected: false,
    platforms: ['mainline', 'android', 'raspberry-pi', 'rockchip', 'nxp', 'ti', 'qualcomm', 'mediatek', 'google-samsung', 'allwinner'], upstream: true, since: '5.6',
    history: 'unchanged since 5.6',
    note: 'the page allocator: pages of order 8, 4 and 0, never physically contiguous beyond a chunk; Android requires it from kernel 5.10 (VTS)',
  },
  {
    id: 'mainline/system_cc_shared', pattern: 'system_cc_shared', match: exact('system_cc_shared'), kind: 'system', contiguous: false, cacheable: true, protected: false,
    platforms: ['mainline'], upstream: true, since: '7.1 (expected)',
    history: 'expected in 7.1; registered only in a memory-encrypted (confidential computing) guest without HIGHMEM',
    note: 'system heap whose pages are shared (decrypted) with the hypervisor, for devices in confidential-computing guests',
  },
  {
    id: 'mainline/default_cma_region', pattern: 'default_cma_region', match: exact('default_cma_region'), kind: 'cma', contiguous: true, cacheable: true, protected: false,
    platforms: ['mainline'], upstream: true, since: '6.17',
    history: 'the fixed name of the default CMA heap since 6.17 (v1/v2 of the series said default_cma)',
    note: 'the default CMA area, whether it came from the device tree (linux,cma-default) or from cma=/Kconfig',
  },
  {
    id: 'mainline/reserved', pattern: 'reserved', match: exact('reserved'), kind: 'cma', contiguous: true, cacheable: true, protected: false,
    platforms: ['mainline', 'raspberry-pi', 'allwinner'], upstream: true, since: '5.6',
    history: `the CMA area from cma= or Kconfig is named "reserved": ${CMA_HISTORY}`,
    note: 'appears instead of linux,cma as soon as cma= is on the command line (a DT default region is then bypassed): the rename that breaks hard-coded paths (libcamera, picamera2, Kodi)',
  },
  {
    id: 'mainline/linux,cma', pattern: 'linux,cma', match: exact('linux,cma'), kind: 'cma', contiguous: true, cacheable: true, protected: false,
    platforms: ['mainline', 'raspberry-pi', 'nxp', 'ti', 'rockchip'], upstream: true, since: '5.6',
    history: `the usual device-tree node name of the default CMA region: ${CMA_HISTORY}`,
    note: 'hard-coded by libcamera, picamera2, libiio, GstDmaHeap and NXP g2d; not a universal name',
  },
  {
    id: 'mainline/default-pool', pattern: 'default-pool', match: exact('default-pool'), kind: 'cma', contiguous: true, cacheable: true, protected: false,
    platforms: ['mainline'], upstream: true, since: '5.6',
    history: `another device-tree node name of the default CMA region: ${CMA_HISTORY}`,
    note: 'the default CMA heap on boards whose reserved-memory node is called default-pool',
  },
  {
    id: 'mainline/protected', pattern: 'protected,<use case>', match: /^protected,[a-z0-9-]+$/, kind: 'protected', contiguous: null, cacheable: false, protected: true,
    platforms: ['mainline', 'op-tee'], upstream: true, since: '6.18',
    history: 'TEE heaps since 6.18: protected,secure-video, protected,trusted-ui, protected,secure-video-record; the series said restricted,<use> before merge',
    note: 'memory the TEE protects from the OS: no CPU access; buffers are registered with the TEE (TEE_IOC_SHM_REGISTER_FD)',
  },
  {
    id: 'op-tee/restricted', pattern: 'restricted,<use case>', match: /^restricted,[a-z0-9-]+$/, kind: 'protected', contiguous: null, cacheable: false, protected: true,
    platforms: ['op-tee'], upstream: false, since: null,
    history: 'the pre-merge name of the TEE heaps (renamed protected,<use> in 6.18); optee_test moved from sdp to restricted,secure-video',
    note: 'OP-TEE secure data path on kernels carrying the restricted-heap series',
  },
  {
    id: 'op-tee/sdp', pattern: 'sdp', match: exact('sdp'), kind: 'protected', contiguous: null, cacheable: false, protected: true,
    platforms: ['op-tee'], upstream: false, since: null,
    history: 'the original OP-TEE secure data path heap, renamed restricted,secure-video and then protected,secure-video upstream',
    note: 'out-of-tree Linaro/OP-TEE heap for secure video',
  },
  {
    id: 'proposed/coherent', pattern: 'coherent_<region>', match: /^coherent_.+$/, kind: 'coherent', contiguous: true, cacheable: false, protected: false,
    platforms: ['mainline'], upstream: false, since: 'proposed (2026)',
    history: 'the proposed coherent reserved-memory heap: the node name in v3, coherent_<node name> in a later revision',
    note: 'a per-device coherent pool (shared-dma-pool without reusable); CPU mappings are write-combined',
  },
  {
    id: 'android/system-uncached', pattern: 'system-uncached', match: exact('system-uncached'), kind: 'system', contiguous: false, cacheable: false, protected: false,
    platforms: ['android', 'rockchip', 'mediatek', 'google-samsung', 'allwinner'], upstream: false, since: null,
    history: 'proposed upstream in 2021 and never merged; carried by Android (GKI: the ACK system heap registers it after system on android12-5.10, android14-6.1 and in an ACK 5.15 tree) and vendor kernels',
    note: 'system memory mapped write-combined, CPU syncs skipped: what libdmabufheap AllocSystem and Codec2 pick when the CPU does not touch the buffer',
    source: 'github.com/Anything-at-25-00/android_kernel_common_android12-5.10 drivers/dma-buf/heaps/system_heap.c @0d6c25031ed3a52fc7cb628d2068f2518fb2d320 system_heap_create(); github.com/sreelekshman/android_kernel_6.1_nothing_mt6878 drivers/dma-buf/heaps/system_heap.c @9eed859493342169b2511b27ed0b26e35906dc4a (android14-6.1); github.com/aosp-mirror/kernel_common drivers/dma-buf/heaps/system_heap.c @34148b6a5103338e78d6b545099d5200b75c7e58 (5.15.148)',
  },
  {
    id: 'rockchip/system-dma32', pattern: 'system-dma32', match: exact('system-dma32'), kind: 'system', contiguous: false, cacheable: true, protected: false,
    platforms: ['rockchip'], upstream: false, since: null,
    history: 'Rockchip BSP kernels (5.10, 6.1); missing on mainline and on newer vendor kernels (mpp#489, #556)',
    note: 'system memory below 4 GiB, for 32-bit DMA masters such as RGA',
  },
  {
    id: 'rockchip/system-uncached-dma32', pattern: 'system-uncached-dma32', match: exact('system-uncached-dma32'), kind: 'system', contiguous: false, cacheable: false, protected: false,
    platforms: ['rockchip'], upstream: false, since: null,
    history: 'Rockchip BSP kernels; MPP crashed when it was missing (mpp#535)',
    note: 'uncached system memory below 4 GiB',
  },
  {
    id: 'rockchip/cma', pattern: 'cma', match: exact('cma'), kind: 'cma', contiguous: true, cacheable: true, protected: false,
    platforms: ['rockchip'], upstream: false, since: null,
    history: 'Rockchip BSP kernels',
    note: 'the default CMA area under a fixed vendor name',
  },
  {
    id: 'rockchip/cma-uncached', pattern: 'cma-uncached', match: exact('cma-uncached'), kind: 'cma', contiguous: true, cacheable: false, protected: false,
    platforms: ['rockchip'], upstream: false, since: null,
    history: 'Rockchip BSP kernels',
    note: 'the default CMA area mapped uncached',
  },
  {
    id: 'nxp/linux,cma-uncached', pattern: 'linux,cma-uncached', match: exact('linux,cma-uncached'), kind: 'cma', contiguous: true, cacheable: false, protected: false,
    platforms: ['nxp'], upstream: false, since: null,
    history: 'NXP i.MX BSP kernels (snapd#16402)',
    note: 'the linux,cma region mapped uncached; NXP g2d and GStreamer plugins use it',
  },
  {
    id: 'raspberry-pi/vidbuf_cached', pattern: 'vidbuf_cached', match: exact('vidbuf_cached'), kind: null, contiguous: null, cacheable: true, protected: false,
    platforms: ['raspberry-pi'], upstream: false, since: null,
    history: 'a udev symlink on Raspberry Pi OS',
    note: 'points at the system heap on a Pi 5 (its media blocks sit behind an IOMMU) and at the CMA heap on a Pi 4 and earlier: contiguity depends on the model',
  },
  {
    id: 'qualcomm/qcom,system', pattern: 'qcom,system', match: exact('qcom,system'), kind: 'system', contiguous: false, cacheable: true, protected: false,
    platforms: ['qualcomm', 'android'], upstream: false, since: null,
    history: 'Qualcomm vendor heaps: qcom_dma_heap_probe() creates it with the name system passed too',
    note: 'system memory with Qualcomm page pools',
    source: 'github.com/aosp-mirror/kernel_msm drivers/dma-buf/heaps/qcom_dma_heap.c @d805c757be67ac7a19ad8de826444366aca04d31 qcom_dma_heap_probe()',
  },
  {
    id: 'qualcomm/qcom,system-uncached', pattern: 'qcom,system-uncached', match: exact('qcom,system-uncached'), kind: 'system', contiguous: false, cacheable: false, protected: false,
    platforms: ['qualcomm', 'android'], upstream: false, since: null,
    history: 'Qualcomm vendor heaps (CONFIG_QCOM_DMABUF_HEAPS_SYSTEM_UNCACHED)',
    note: 'uncached system memory; Qualcomm codecs and GStreamer plugins allocate here',
    source: 'github.com/aosp-mirror/kernel_msm drivers/dma-buf/heaps/qcom_dma_heap.c @d805c757be67ac7a19ad8de826444366aca04d31 qcom_dma_heap_probe()',
  },
  {
    id: 'qualcomm/qcom,secure', pattern: 'qcom,secure-*', match: /^qcom,secure-.+$/, kind: 'protected', contiguous: null, cacheable: false, protected: true,
    platforms: ['qualcomm', 'android'], upstream: false, since: null,
    history: 'Qualcomm vendor heaps: qcom,secure-pixel, qcom,secure-non-pixel (secure system heaps, always created) and secure carve-outs from the device tree',
    note: 'content-protected memory assigned to a secure VM; no CPU access',
    source: 'github.com/aosp-mirror/kernel_msm drivers/dma-buf/heaps/qcom_dma_heap.c @d805c757be67ac7a19ad8de826444366aca04d31 qcom_dma_heap_probe()',
  },
  {
    id: 'qualcomm/system-secure', pattern: 'system-secure', match: exact('system-secure'), kind: 'protected', contiguous: true, cacheable: false, protected: true,
    platforms: ['qualcomm', 'android'], upstream: false, since: null,
    history: 'Qualcomm vendor heaps: the bitstream contiguous heap (qcom_add_bitstream_contig_heap)',
    note: 'contiguous protected memory for secure video bitstreams; Qualcomm video drivers pick it for the secure bitstream region',
    source: 'github.com/aosp-mirror/kernel_msm drivers/dma-buf/heaps/qcom_dma_heap.c @d805c757be67ac7a19ad8de826444366aca04d31 qcom_dma_heap_probe()',
  },
  {
    id: 'qualcomm/qcom', pattern: 'qcom,*', match: /^qcom,.+$/, kind: null, contiguous: null, cacheable: null, protected: null,
    platforms: ['qualcomm'], upstream: false, since: null,
    history: 'Qualcomm vendor heaps declared in the device tree (qcom,dma-heaps): CMA, carve-out, secure carve-out and TUI carve-out heaps',
    note: 'the name alone does not say which type the device tree gave it',
    source: 'github.com/aosp-mirror/kernel_msm drivers/dma-buf/heaps/qcom_dma_heap.c @d805c757be67ac7a19ad8de826444366aca04d31 qcom_dma_heap_probe()',
  },
  {
    id: 'mediatek/mtk_mm', pattern: 'mtk_mm', match: exact('mtk_mm'), kind: 'system', contiguous: false, cacheable: true, protected: false,
    platforms: ['mediatek', 'android'], upstream: false, since: null,
    history: 'MediaTek vendor heaps',
    note: 'system memory for multimedia blocks behind the IOMMU',
    source: 'github.com/Linux4/samsung_kernel kernel/kernel_device_modules-6.1/drivers/dma-buf/heaps/mtk_system_heap.c @f92a7894b9667a4ef3a88d426aac095908c9cb96 (per-heap byte counts of system, system-uncached, mtk_mm, mtk_mm-uncached); github.com/MiCode/Xiaomi_Kernel_OpenSource drivers/dma-buf/heaps/mtk_mm_heap.c @a1598dc619fff50b76843bbbfb26ce8dc57683e0 (mtk_mm and mtk_mm_uncached heaps over page pools and deferred free)',
  },
  {
    id: 'mediatek/mtk_mm-uncached', pattern: 'mtk_mm-uncached', match: exact('mtk_mm-uncached'), kind: 'system', contiguous: false, cacheable: false, protected: false,
    platforms: ['mediatek', 'android'], upstream: false, since: null,
    history: 'MediaTek vendor heaps',
    note: 'uncached system memory for multimedia blocks',
    source: 'github.com/Linux4/samsung_kernel kernel/kernel_device_modules-6.1/drivers/dma-buf/heaps/mtk_system_heap.c @f92a7894b9667a4ef3a88d426aac095908c9cb96 (per-heap byte counts of system, system-uncached, mtk_mm, mtk_mm-uncached); github.com/MiCode/Xiaomi_Kernel_OpenSource drivers/dma-buf/heaps/mtk_mm_heap.c @a1598dc619fff50b76843bbbfb26ce8dc57683e0 (mtk_mm and mtk_mm_uncached heaps over page pools and deferred free)',
  },
  {
    id: 'mediatek/secure-region', pattern: 'mtk_<svp|prot|2d_fr|wfd|sapu_*>_region*', match: /^mtk_(svp|prot|2d_fr|wfd|sapu_[a-z_]+?)_region(-uncached)?(-aligned)?$/, kind: 'protected', contiguous: true, cacheable: false, protected: true,
    platforms: ['mediatek', 'android'], upstream: false, since: null,
    history: 'MediaTek trusted-memory heaps (secure video path, protected content, Wi-Fi display, APU)',
    note: 'a contiguous secure region handed out by the trusted-memory service; no CPU access',
  },
  {
    id: 'mediatek/secure-page', pattern: 'mtk_<svp|prot|wfd|sapu_*>_page*', match: /^mtk_(svp|prot|2d_fr|wfd|sapu_[a-z_]+?)_(page|shm)(-uncached)?$/, kind: 'protected', contiguous: false, cacheable: false, protected: true,
    platforms: ['mediatek', 'android'], upstream: false, since: null,
    history: 'MediaTek trusted-memory heaps',
    note: 'secure pages (not contiguous) handed out by the trusted-memory service; no CPU access',
  },
  {
    id: 'google-samsung/secure', pattern: '<use>-secure', match: /^[a-z0-9_-]+-secure$/, kind: 'protected', contiguous: null, cacheable: false, protected: true,
    platforms: ['google-samsung', 'android', 'qualcomm'], upstream: false, since: null,
    history: 'Exynos and Google Tensor vendor heaps (vframe-secure, vstream-secure, vscaler-secure, framebuffer-secure, ...); Qualcomm codecs use system-secure',
    note: 'protected memory for DRM video and secure camera paths; no CPU access',
  },
  {
    id: 'ti/carveout', pattern: 'carveout_<region>', match: /^carveout_.+$/, kind: 'carveout', contiguous: true, cacheable: null, protected: false,
    platforms: ['ti'], upstream: false, since: null,
    history: 'TI vendor carve-out heap (ti-linux): one heap per reserved-memory region, named carveout_<node name>, without the unit address in some versions',
    note: 'shared memory with the DSPs and accelerators (e.g. carveout_edgeai_shared-memories); no-map regions have no struct pages',
  },
  {
    id: 'allwinner/carveout', pattern: 'carveout', match: exact('carveout'), kind: 'carveout', contiguous: true, cacheable: true, protected: false,
    platforms: ['allwinner'], upstream: false, since: null,
    history: 'Allwinner BSP kernels (5.15, 6.6)',
    note: 'a cached carve-out beside reserved (CMA), system and system-uncached',
  },
  {
    id: 'mainline/region', pattern: '<name>@<unit address>', match: /^[^@/]+@[0-9a-fA-F]+([,\-_].*)?$/, kind: null, contiguous: true, cacheable: null, protected: null,
    platforms: ['mainline'], upstream: true, since: '6.19',
    history: 'from 6.19 every reusable reserved-memory region is a CMA heap under its node name; the proposed coherent heap also uses node names',
    note: 'a heap named after a reserved-memory region: CMA (reusable) or a coherent pool, both physically contiguous',
  },
] satisfies KnownHeap[]);

/** The first knowledge-base entry whose pattern covers `name`, or null. */
export function lookupHeapName(name: string): KnownHeap | null {
  return KNOWN_HEAPS.find((k) => k.match.test(name)) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Inference

/** `6.17.0-rc1` → [6, 17]; null when not a version. */
export function kernelVersion(release: string | null | undefined): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  return m === null ? null : [Number(m[1]), Number(m[2])];
}

/** One CMA area: its name and its debugfs directory (relative to /sys/kernel/debug/cma). */
export interface CmaAreaDir {
  readonly name: string;
  readonly debugfsDir: string;
}

/**
 * The CMA areas of a machine, in listing order, from the listings of /sys/kernel/mm/cma and
 * /sys/kernel/debug/cma (null: not listable), each with its debugfs directory; null when neither
 * lists. Before v6.0 the directory is `cma-<area>` cut to 15 characters (cmaDebugfsDirName), and
 * kernels before 5.14 have no /sys/kernel/mm/cma: there the names are the debugfs ones without
 * `cma-` (a name cut at 15 characters stays cut: nothing else says the rest).
 */
export function cmaAreaDirs(sysfs: readonly string[] | null, debugfs: readonly string[] | null, release: string): CmaAreaDir[] | null {
  const v = kernelVersion(release);
  const prefixed = v !== null && v[0] < 6;
  if (sysfs !== null) return sysfs.map((name) => ({ name, debugfsDir: cmaDebugfsDirName(name, prefixed) }));
  if (debugfs === null) return null;
  return debugfs.map((d) => ({ name: prefixed && d.startsWith('cma-') ? d.slice(4) : d, debugfsDir: d }));
}

function atLeast(v: [number, number] | null, major: number, minor: number): boolean | null {
  return v === null ? null : v[0] > major || (v[0] === major && v[1] >= minor);
}

const inf = <T>(value: T, source: PropertySource, reason: string): Inferred<T> => ({ value, source, reason });

/** Property words of the naming convention (and the vendor synonyms) in a name. */
function propertyWords(name: string): { cacheable: boolean | null; contiguous: boolean | null; protected: boolean | null; word: string } | null {
  const tokens = name.toLowerCase().split(/[,\-_@.]/);
  const has = (...w: string[]): string | undefined => tokens.find((t) => w.includes(t));
  let cacheable: boolean | null = null;
  let contiguous: boolean | null = null;
  let prot: boolean | null = null;
  const words: string[] = [];
  const unc = has('uncacheable', 'uncached', 'noncached', 'wc', 'writecombine');
  const cac = has('cacheable', 'cached');
  if (unc !== undefined) {
    cacheable = false;
    words.push(unc);
  } else if (cac !== undefined) {
    cacheable = true;
    words.push(cac);
  }
  const con = has('contiguous', 'contig');
  if (con !== undefined) {
    contiguous = true;
    words.push(con);
  }
  const pro = has('protected', 'secure', 'restricted');
  if (pro !== undefined) {
    prot = true;
    words.push(pro);
  }
  return words.length === 0 ? null : { cacheable, contiguous, protected: prot, word: words.join("', '") };
}

/** The region behind a heap name, from the device tree's reserved-memory regions. */
function regionOf(name: string, regions: readonly ReservedRegionFact[]): { r: ReservedRegionFact; how: string } | null {
  const byNode = regions.find((r) => r.name === name);
  if (byNode !== undefined) return { r: byNode, how: `named after ${byNode.path}` };
  if (name.startsWith('coherent_')) {
    const r = regions.find((x) => x.name === name.slice('coherent_'.length));
    if (r !== undefined) return { r, how: `coherent_ + ${r.path}` };
  }
  if (name.startsWith('carveout_')) {
    const rest = name.slice('carveout_'.length);
    const r = regions.find((x) => x.name === rest) ?? regions.find((x) => x.name.split('@')[0] === rest);
    if (r !== undefined) return { r, how: r.name === rest ? `carveout_ + ${r.path}` : `carveout_ + ${r.path} without its unit address` };
  }
  return null;
}

function regionInfo(r: ReservedRegionFact): HeapRegion {
  return { name: r.name, path: r.path, base: r.base, size: r.size, reusable: r.reusable, nomap: r.nomap };
}

const isPool = (r: ReservedRegionFact): boolean => r.compatible.includes('shared-dma-pool');

interface Resolved {
  readonly region: { readonly r: ReservedRegionFact; readonly how: string } | null;
  readonly area: { readonly a: CmaAreaFact; readonly how: string } | null;
}

/**
 * The device-tree region and the CMA area behind a heap name. A heap named after a CMA area is
 * that area's heap (≤6.16 default heap, 6.19+ per-region heaps). `default_cma_region` is the
 * cmdline/Kconfig area `reserved` whenever it exists (cma= bypasses a device-tree default),
 * else the device tree's linux,cma-default region.
 */
function resolveMemory(name: string, facts: SystemFacts): Resolved {
  const regions = facts.reservedMemory ?? null;
  const areas = facts.cmaAreas ?? null;
  let area: Resolved['area'] = null;
  if (areas !== null) {
    const own = areas.find((a) => a.name === name);
    if (own !== undefined) {
      area = { a: own, how: `/sys/kernel/mm/cma/${own.name} exists: a CMA area of that name` };
    } else if (name === 'default_cma_region') {
      const cmdline = areas.find((a) => a.name === 'reserved');
      const dtDefault = regions?.find((r) => r.cmaDefault);
      const fromDt = dtDefault === undefined ? undefined : areas.find((a) => a.name === dtDefault.name);
      const only = areas.length === 1 ? areas[0] : undefined;
      if (cmdline !== undefined) area = { a: cmdline, how: '/sys/kernel/mm/cma/reserved is the command-line/Kconfig area, the default one whenever it exists' };
      else if (fromDt !== undefined) area = { a: fromDt, how: `/sys/kernel/mm/cma/${fromDt.name} is the device tree's linux,cma-default region` };
      else if (only !== undefined) area = { a: only, how: `/sys/kernel/mm/cma/${only.name} is the only CMA area, so the default one` };
    }
  }
  let region: Resolved['region'] = null;
  if (regions !== null) {
    if (name !== 'default_cma_region') {
      region = regionOf(name, regions);
    } else if (area === null) {
      const r = regions.find((x) => x.cmaDefault);
      if (r !== undefined) region = { r, how: `${r.path} has linux,cma-default (unless cma= on the command line bypasses it)` };
    } else {
      const r = regions.find((x) => x.name === area!.a.name);
      if (r !== undefined) region = { r, how: `the default CMA area ${area.a.name} is ${r.path}` };
    }
  }
  return { region, area };
}

function memoryKey(r: Resolved): string | null {
  if (r.area !== null) return `cma:${r.area.a.name}`;
  if (r.region !== null) return `dt:${r.region.r.path}`;
  return null;
}

/**
 * Which other heap names share this heap's memory, by name and kernel version: `reserved` (the
 * cmdline area) beside `default_cma_region` is always the same area (6.17+: a legacy
 * duplicate on 6.17-6.18, the area's per-region heap from 6.19); so is the one CMA node name
 * beside it on 6.17-6.18 (there is at most one legacy duplicate).
 */
function twinsByName(name: string, all: readonly string[], v: [number, number] | null): { twins: string[]; legacy: boolean; reason: string } | null {
  const cmaNames = ['reserved', 'linux,cma', 'default-pool'];
  const has = (n: string): boolean => all.includes(n);
  const legacyEra = v !== null && atLeast(v, 6, 17) === true && atLeast(v, 6, 19) === false;
  if (name === 'default_cma_region') {
    const twins = all.filter((n) => n === 'reserved' || (legacyEra && cmaNames.includes(n)));
    if (twins.length === 0) return null;
    const list = twins.map((t) => `'${t}'`).join(', ');
    return { twins, legacy: false, reason: legacyEra ? `the 6.17 name of the default area; ${list} is its legacy duplicate` : `the 6.17 name of the default area; ${list} is its per-region name` };
  }
  if (!has('default_cma_region')) return null;
  if (name === 'reserved') {
    return { twins: ['default_cma_region'], legacy: legacyEra, reason: legacyEra ? "on 6.17-6.18 'reserved' beside default_cma_region is the legacy duplicate of the cmdline area" : "'reserved' is the cmdline CMA area, which is the default area whenever it exists" };
  }
  if (legacyEra && cmaNames.includes(name)) {
    return { twins: ['default_cma_region'], legacy: true, reason: `on 6.17-6.18 '${name}' beside default_cma_region is the legacy duplicate of the default area` };
  }
  return null;
}

/**
 * Infers a heap's properties from everything known, strongest source first: `facts.exact`,
 * the device tree (`facts.reservedMemory`), the CMA areas (`facts.cmaAreas`), `/proc/meminfo`,
 * then the name (knowledge base, then the convention's property words). `allNames` (every heap
 * on the system) lets it tell which names share memory.
 */
export function inferHeapProperties(name: string, facts: SystemFacts = {}, allNames: readonly string[] = [name]): HeapProperties {
  const known = lookupHeapName(name);
  const v = kernelVersion(facts.release);
  let kind: Inferred<HeapKind> | null = null;
  let contiguous: Inferred<boolean> | null = null;
  let cacheable: Inferred<boolean> | null = null;
  let prot: Inferred<boolean> | null = null;
  let region: Inferred<HeapRegion> | null = null;
  let capacity: Inferred<number> | null = null;
  let free: Inferred<number> | null = null;
  let sameMemoryAs: Inferred<readonly string[]> | null = null;
  let legacyAlias: Inferred<boolean> | null = null;

  // 1. exact: the backend's own description
  const ex = facts.exact?.find((h) => h.name === name);
  if (ex !== undefined) {
    const why = `the ${ex.kind} heap as the backend describes it`;
    kind = inf(ex.kind, 'exact', why);
    contiguous = inf(ex.contiguous, 'exact', why);
    cacheable = inf(ex.cacheable, 'exact', why);
    prot = inf(ex.protected, 'exact', why);
    const r = ex.region;
    if (r !== null && r !== undefined) {
      region = inf({ name: r.nodeName, path: r.path, base: r.base, size: r.size, reusable: r.reusable, nomap: r.nomap }, 'exact', r.path ?? 'the command-line/Kconfig CMA area');
    }
    capacity = inf(ex.capacity, 'exact', 'the backend counts it');
    free = inf(ex.free, 'exact', 'the backend counts it');
    const key = (h: ExactHeapFacts): string | null => (h.region === null || h.region === undefined ? null : `${h.kind}:${h.region.path ?? ''}:${h.region.base}:${h.region.size}`);
    const k = key(ex);
    const twins = k === null ? [] : (facts.exact ?? []).filter((o) => o.name !== name && key(o) === k).map((o) => o.name);
    if (twins.length > 0) sameMemoryAs = inf(twins, 'exact', 'the same region backs them');
    legacyAlias = inf(ex.legacyAlias === true, 'exact', ex.legacyAlias === true ? 'the kernel keeps this name for compatibility' : 'not a compatibility name');
  }

  // 2. device tree, 3. sysfs: the region and the CMA area behind the name
  const res = resolveMemory(name, facts);
  if (res.region !== null) {
    const { r, how } = res.region;
    region ??= inf(regionInfo(r), 'device-tree', how);
    if (isPool(r) && r.reusable) {
      const why = `${r.path} is a reusable shared-dma-pool (CMA: ordinary memory, mapped cacheable)`;
      kind ??= inf('cma', 'device-tree', why);
      contiguous ??= inf(true, 'device-tree', why);
      cacheable ??= inf(true, 'device-tree', why);
      prot ??= inf(false, 'device-tree', why);
    } else if (isPool(r) && !name.startsWith('carveout_')) {
      const why = `${r.path} is a shared-dma-pool without reusable (a coherent pool, mapped write-combined)`;
      kind ??= inf('coherent', 'device-tree', why);
      contiguous ??= inf(true, 'device-tree', why);
      cacheable ??= inf(false, 'device-tree', why);
      prot ??= inf(false, 'device-tree', why);
    } else {
      const why = `${r.path} is one physical range${r.nomap ? ' (no-map: no struct pages)' : ''}`;
      if (name.startsWith('carveout_')) kind ??= inf('carveout', 'device-tree', why);
      contiguous ??= inf(true, 'device-tree', why);
    }
    if (r.size !== null) capacity ??= inf(r.size, 'device-tree', `the size of ${r.path}`);
  }
  if (res.area !== null) {
    const { a, how } = res.area;
    kind ??= inf('cma', 'sysfs', how);
    contiguous ??= inf(true, 'sysfs', how);
    cacheable ??= inf(true, 'sysfs', `${how} (CMA heaps map ordinary memory cacheable)`);
    prot ??= inf(false, 'sysfs', how);
    if (a.size !== null) capacity ??= inf(a.size, 'sysfs', `/sys/kernel/debug/cma/${a.name}/count`);
    if (a.free !== null) free ??= inf(a.free, 'sysfs', `/sys/kernel/debug/cma/${a.name}/count - used`);
  }
  const key = memoryKey(res);
  if (key !== null && sameMemoryAs === null) {
    const twins = allNames.filter((o) => o !== name && memoryKey(resolveMemory(o, facts)) === key);
    if (twins.length > 0) {
      const what = res.area !== null ? `the CMA area ${res.area.a.name} (/sys/kernel/mm/cma)` : `${res.region!.r.path} (device tree)`;
      sameMemoryAs = inf(twins, res.area !== null ? 'sysfs' : 'device-tree', `${what} backs them all`);
    }
  }
  const areas = facts.cmaAreas ?? null;

  // 4. name: the knowledge base, then the convention's property words
  const words = propertyWords(name);
  if (known !== null) {
    const why = `knowledge base: ${known.pattern} (${known.note})`;
    if (known.kind !== null) kind ??= inf(known.kind, 'name', why);
    if (known.contiguous !== null) contiguous ??= inf(known.contiguous, 'name', why);
    if (known.cacheable !== null) cacheable ??= inf(known.cacheable, 'name', why);
    if (known.protected !== null) prot ??= inf(known.protected, 'name', why);
  }
  if (words !== null) {
    const why = `the name says '${words.word}' (naming convention)`;
    if (words.contiguous !== null) contiguous ??= inf(words.contiguous, 'name', why);
    if (words.cacheable !== null) cacheable ??= inf(words.cacheable, 'name', why);
    if (words.protected !== null) prot ??= inf(words.protected, 'name', why);
  }
  if (prot?.value === true) cacheable ??= inf(false, prot.source, 'protected memory has no CPU mapping');

  // 5. meminfo: CmaTotal/CmaFree are the capacity of a CMA heap when there is one CMA area
  const mi = facts.meminfo ?? null;
  if (mi !== null && kind?.value === 'cma') {
    const oneArea = areas !== null ? areas.length === 1 : distinctCmaMemory(allNames, facts) === 1;
    if (oneArea) {
      capacity ??= inf(mi.cmaTotal, 'meminfo', 'CmaTotal in /proc/meminfo (one CMA area on the system)');
      free ??= inf(mi.cmaFree, 'meminfo', 'CmaFree in /proc/meminfo (one CMA area on the system)');
    }
  }

  // twins and legacy names by version, when the exact facts did not say
  if (sameMemoryAs === null || legacyAlias === null) {
    const t = twinsByName(name, allNames, v);
    if (t !== null) {
      sameMemoryAs ??= inf(t.twins, 'name', t.reason);
      legacyAlias ??= inf(t.legacy, 'name', t.reason);
    }
  }
  return { kind, contiguous, cacheable, protected: prot, region, capacity, free, sameMemoryAs, legacyAlias, known };
}

/** How many distinct CMA memories the names suggest (twins counted once). */
function distinctCmaMemory(all: readonly string[], facts: SystemFacts): number {
  const v = kernelVersion(facts.release);
  const seen = new Set<string>();
  for (const n of all) {
    const k = lookupHeapName(n);
    if (k?.kind !== 'cma' && n !== 'default_cma_region') continue;
    const t = twinsByName(n, all, v);
    seen.add(t === null ? n : [n, ...t.twins].sort()[0]!);
  }
  return seen.size;
}

// ---------------------------------------------------------------------------------------------
// Reading the facts

/** `/proc/meminfo`: CmaTotal and CmaFree in bytes; null when the lines are missing (no CONFIG_CMA). */
export function parseMeminfo(text: string): { cmaTotal: number; cmaFree: number } | null {
  const kb = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m === null ? null : Number(m[1]) * 1024;
  };
  const cmaTotal = kb('CmaTotal');
  const cmaFree = kb('CmaFree');
  return cmaTotal === null || cmaFree === null ? null : { cmaTotal, cmaFree };
}

/**
 * Reads the facts a process can read through its syscall target: the release,
 * `/proc/meminfo`, `/sys/kernel/mm/cma` (with debugfs sizes when readable), `/dev/udmabuf` and
 * the backend's exact description when it has one ({@link SyscallTarget.heapFacts}). The
 * device tree is binary and comes separately ({@link readReservedMemory}).
 */
export function readSystemFacts(t: SyscallTarget, opts: { exact?: boolean; reservedMemory?: readonly ReservedRegionFact[] | null } = {}): SystemFacts {
  const mi = t.readFile('/proc/meminfo').text;
  const dirs = cmaAreaDirs(t.readdir('/sys/kernel/mm/cma').names, t.readdir('/sys/kernel/debug/cma').names, t.release);
  const num = (p: string): number | null => {
    const s = t.readFile(p).text;
    return s === null || !/^\s*\d+\s*$/.test(s) ? null : Number(s.trim());
  };
  const cmaAreas =
    dirs === null
      ? null
      : [...dirs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(({ name, debugfsDir }): CmaAreaFact => {
          const count = num(`/sys/kernel/debug/cma/${debugfsDir}/count`);
          const used = num(`/sys/kernel/debug/cma/${debugfsDir}/used`);
          return { name, size: count === null ? null : count * t.pageSize, free: count === null || used === null ? null : (count - used) * t.pageSize };
        });
  const fcn = fcntlConstants(t.arch);
  const u = t.open('/dev/udmabuf', fcn.O_RDWR | fcn.O_CLOEXEC);
  if (u.errno === null) t.close(u.ret);
  const limitMb = num('/sys/module/udmabuf/parameters/size_limit_mb');
  const exactFacts = opts.exact !== false && t.heapFacts !== undefined ? t.heapFacts() : null;
  return {
    release: t.release,
    reservedMemory: opts.reservedMemory ?? null,
    meminfo: mi === null ? null : parseMeminfo(mi),
    cmaAreas,
    exact: exactFacts,
    udmabuf: { present: u.errno === null || u.errno === 'EACCES' || u.errno === 'EPERM', usable: u.errno === null, sizeLimit: limitMb === null ? null : limitMb * 1024 * 1024 },
  };
}

/** A directory tree laid out as `/sys/firmware/devicetree/base` (structurally the kernel layer's LiveTreeFs). */
export interface DeviceTreeFs {
  /** Entries of a directory, or null when it cannot be read. */
  list(dir: string): readonly { readonly name: string; readonly isDir: boolean }[] | null;
  /** A property file's bytes, or null. */
  read(file: string): Uint8Array | null;
}

function cellsOf(b: Uint8Array | null): number[] | null {
  if (b === null || b.length % 4 !== 0) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 4 }, (_, i) => dv.getUint32(i * 4, false));
}

function numberOf(cells: readonly number[], at: number, count: number): number | null {
  let v = 0;
  for (let i = 0; i < count; i++) {
    const c = cells[at + i];
    if (c === undefined) return null;
    v = v * 2 ** 32 + c;
  }
  return Number.isSafeInteger(v) ? v : null;
}

/**
 * The reserved-memory regions of a live device tree (`<root>/reserved-memory/*`): node name,
 * `reg` (first entry) or `size`, `compatible`, `reusable`, `no-map`, `linux,cma-default`.
 * Null when there is no reserved-memory node. Nodes with `status` other than okay are left out.
 */
export function readReservedMemory(fs: DeviceTreeFs, root = '/sys/firmware/devicetree/base'): ReservedRegionFact[] | null {
  const dir = `${root.replace(/\/$/, '')}/reserved-memory`;
  const entries = fs.list(dir);
  if (entries === null) return null;
  const rootCells = (p: string, dflt: number): number => cellsOf(fs.read(`${root}/${p}`))?.[0] ?? dflt;
  const ac = cellsOf(fs.read(`${dir}/#address-cells`))?.[0] ?? rootCells('#address-cells', 2);
  const sc = cellsOf(fs.read(`${dir}/#size-cells`))?.[0] ?? rootCells('#size-cells', 1);
  const out: ReservedRegionFact[] = [];
  for (const e of [...entries].filter((x) => x.isDir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = `${dir}/${e.name}`;
    const props = new Set((fs.list(p) ?? []).filter((x) => !x.isDir).map((x) => x.name));
    const str = (name: string): string[] => {
      const b = props.has(name) ? fs.read(`${p}/${name}`) : null;
      return b === null ? [] : String.fromCharCode(...b).split('\0').filter((s) => s !== '');
    };
    const status = str('status')[0];
    if (status !== undefined && status !== 'okay' && status !== 'ok') continue;
    const reg = props.has('reg') ? cellsOf(fs.read(`${p}/reg`)) : null;
    const size = props.has('size') ? cellsOf(fs.read(`${p}/size`)) : null;
    out.push({
      name: e.name,
      path: `/reserved-memory/${e.name}`,
      base: reg === null ? null : numberOf(reg, 0, ac),
      size: reg !== null ? numberOf(reg, ac, sc) : size !== null ? numberOf(size, 0, sc) : null,
      compatible: str('compatible'),
      reusable: props.has('reusable'),
      nomap: props.has('no-map'),
      cmaDefault: props.has('linux,cma-default'),
    });
  }
  return out;
}
