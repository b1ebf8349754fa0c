/**
 * What a heap module sees of the kernel: the narrow set of services its init function and its
 * buffers use (the analogue of the headers a heap driver includes). Heaps get this, never the
 * Kernel object, so they cannot reach into the core.
 */
import type { FcntlConstants } from '../uapi/fcntl.js';
import type { Memcg } from './cgroup/memcontrol.js';
import type { DmaBufCore } from './dma-buf/dma-buf.js';
import type { DmaHeapCore } from './dma-heap/dma-heap.js';
import type { Process } from './fs/process.js';
import type { BuddyAllocator } from './mm/buddy.js';
import type { CmaArea } from './mm/cma.js';
import type { CoherentPool } from './mm/coherent-pool.js';
import type { BackingStats } from './mm/backing.js';
import type { Profile } from './profile.js';

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

export interface KernelServices {
  readonly pageSize: number;
  readonly fc: FcntlConstants;
  readonly profile: Profile;
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
  readonly backing: BackingStats;
  readonly zeroPage: Uint8Array;
  readonly dmaBuf: DmaBufCore;
  readonly dmaHeap: DmaHeapCore;
  /** dma_heap.mem_accounting (7.0): heaps allocate with __GFP_ACCOUNT. */
  readonly memAccounting: boolean;
  readonly kmem: KmemAccounting;
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
}
