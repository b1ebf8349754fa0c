/**
 * What a heap module sees of the kernel: the narrow set of services its init function and its
 * buffers use (the analogue of the headers a heap driver includes). Heaps get this, never the
 * Kernel object, so they cannot reach into the core.
 */
import type { FcntlConstants } from '../uapi/fcntl.js';
import type { AndroidBranch } from './android.js';
import type { DmemPool, DmemRegion } from './cgroup/dmem.js';
import type { Memcg } from './cgroup/memcontrol.js';
import type { DmaBufCore } from './dma-buf/dma-buf.js';
import type { DmaHeapCore } from './dma-heap/dma-heap.js';
import type { Process } from './fs/process.js';
import type { BuddyAllocator } from './mm/buddy.js';
import type { CmaArea } from './mm/cma.js';
import type { CoherentPool } from './mm/coherent-pool.js';
import type { BackingStats, HostMemory } from './mm/backing.js';
import type { Profile } from './profile.js';
import type { KResult } from './result.js';

/**
 * Charging of __GFP_ACCOUNT page allocations to a memory cgroup (memory.current counts them).
 * @kernel mm/memcontrol.c __memcg_kmem_charge_page, __memcg_kmem_uncharge_page
 */
export interface KmemAccounting {
  /**
   * get_obj_cgroup_from_current(): the memcg the allocations of `proc` are charged to — its
   * cgroup's, or the nearest ancestor's with the memory controller; the root memcg (never
   * charged) for the root cgroup and for in-kernel callers (null).
   */
  memcgOf(proc: Process | null): Memcg;
  /** Charges `pages` pages; false when a memory.max on the way up would be exceeded (nothing charged). */
  tryCharge(m: Memcg, pages: number): boolean;
  uncharge(m: Memcg, pages: number): void;
}

/**
 * The proposed dmem charging of the CMA and coherent heaps (2026 dmem series v2, coherent heap
 * series): one dmem region per CMA area (`cma/<area>`, registered by mm/cma.c) and per coherent
 * pool (`coh/<region>`, registered by the heap), charged in bytes to the allocating task's dmem
 * css when dma_heap.mem_accounting is set.
 * @kernel kernel/cgroup/dmem.c dmem_cgroup_register_region, dmem_cgroup_try_charge, dmem_cgroup_uncharge
 */
export interface DmemAccounting {
  /** cma_get_dmem_cgroup_region(): the region of a CMA area (null: none registered). */
  regionOfCma(area: CmaArea): DmemRegion | null;
  /** dmem_cgroup_register_region(size, name); null for a zero size. */
  registerRegion(size: number, name: string): DmemRegion | null;
  unregisterRegion(region: DmemRegion | null): void;
  /**
   * dmem_cgroup_try_charge() of `size` bytes for `proc` (current; null: an in-kernel caller,
   * charged at the root): the pool to uncharge later, or -EAGAIN at a dmem.max.
   */
  tryCharge(region: DmemRegion, size: number, proc: Process | null): KResult<DmemPool>;
  /** dmem_cgroup_uncharge() */
  uncharge(pool: DmemPool | null, size: number): void;
}

export interface KernelServices {
  readonly pageSize: number;
  readonly fc: FcntlConstants;
  readonly profile: Profile;
  /** The Android GKI branch the kernel stands for (src/kernel/android.ts), or null for mainline. */
  readonly android: AndroidBranch | null;
  /** The page allocator for normal (non-CMA) memory. */
  readonly buddy: BuddyAllocator;
  /** The default CMA area (dev_get_cma_area(NULL)), if any. */
  readonly defaultCma: CmaArea | null;
  /** Every CMA area registered for heaps (6.19+: per-region heaps), default area included. */
  readonly cmaAreas: readonly CmaArea[];
  /** Per-device coherent pools (non-reusable shared-dma-pool regions). */
  readonly coherentPools: readonly CoherentPool[];
  /** Protected memory the TEE (OP-TEE) offers for protected heaps (v6.18+). */
  readonly teePools: readonly TeePool[];
  /** Heaps that exist only as proposals, switched on per kernel. */
  readonly features: KernelFeatures;
  /** CONFIG_CMA_ALIGNMENT */
  readonly cmaAlignment: number;
  /** CONFIG_DMABUF_HEAPS_CMA_LEGACY (6.17–6.18): the default CMA area under its old name too. */
  readonly cmaLegacyHeap: boolean;
  readonly backing: BackingStats;
  /** Host memory that exported buffers are bound to (`dmaheap run`), or null: their bytes stay in the emulator. */
  readonly hostMemory: HostMemory | null;
  readonly zeroPage: Uint8Array;
  readonly dmaBuf: DmaBufCore;
  readonly dmaHeap: DmaHeapCore;
  /** dma_heap.mem_accounting (7.0): heaps allocate with __GFP_ACCOUNT. */
  readonly memAccounting: boolean;
  readonly kmem: KmemAccounting;
  /**
   * The proposed dmem charging of the CMA/coherent heaps: null unless the kernel has the dmem
   * controller (v6.14+) and KernelFeatures.dmemCharging is on. Heaps charge only when
   * `memAccounting` is set too.
   */
  readonly dmem: DmemAccounting | null;
  /** printk */
  log(line: string): void;
}

/** A heap module: its init function registers its heaps (module_init). Returns 0 or -errno. */
export interface HeapModule {
  readonly name: string;
  /** Kconfig symbol that builds it in. */
  readonly kconfig: string;
  init(k: KernelServices): number;
}

/** A TEE protected-memory pool: a no-map carve-out the TEE hands out for one use case. */
export interface TeePool {
  /** `secure-video`, `trusted-ui`, `secure-video-record` (the heap is `protected,<useCase>`). */
  readonly useCase: string;
  /** The reserved-memory node behind it. */
  readonly regionPath: string;
  /** First-fit page allocator over the region (the TEE's gen_pool). */
  readonly area: CmaArea;
}

export interface KernelFeatures {
  /**
   * The proposed coherent reserved-memory heap (2026 series): off, named after the DT node (v3),
   * or `coherent_<node name>` (a later revision).
   */
  readonly coherentHeap: false | 'v3' | 'prefixed';
  /**
   * The proposed dmem charging of the CMA heaps (2026 dmem series v2: a `cma/<area>` region per
   * CMA area) and of the coherent heap (`coh/<region>`), gated by dma_heap.mem_accounting.
   * Needs the dmem controller (v6.14+: the 6.17+ profiles). Default false.
   */
  readonly dmemCharging: boolean;
  /**
   * The proposed memcg "dmabuf" charging with `charge_pid_fd` (2026 RFC): a 32-byte
   * dma_heap_allocation_data whose charge_pid_fd names the process whose memcg is charged
   * PAGE_ALIGN(size)/PAGE_SIZE pages at allocation (with mem_accounting, the caller's memcg when
   * it is 0); the system heap stops using __GFP_ACCOUNT. Default false.
   */
  readonly chargePidFd: boolean;
}
