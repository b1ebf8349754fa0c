/**
 * What one simulation run gives: failures with their reasons, peaks, time series, CMA area maps
 * over time. Plain data (JSON as it stands): `dmaheap simulate --json` prints it, the HTML report
 * draws it, sweeps and comparisons combine several.
 */

/** Why an allocation (or an import) failed, as far as the emulated kernel's state tells. */
export type FailureReason =
  /** The request is larger than the whole CMA area (or the heap's capacity). */
  | 'area-too-small'
  /** Enough pages are free in all, but no free run is long enough (largest free run < request). */
  | 'fragmented'
  /** Free runs were long enough, but pinned pages inside them could not be migrated (alloc_contig_range EBUSY). */
  | 'pinned'
  /** Not enough free pages in the area or in RAM. */
  | 'out-of-memory'
  /** The process's cgroup is at its limit (memory.max, or a dmem limit). */
  | 'cgroup-limit'
  /** An importer cannot reach the buffer (DMA mask, bus limit, contiguity). */
  | 'dma-mask'
  /** No heap by that name, or none satisfies the requirements. */
  | 'no-heap'
  /** A fault the workload injected. */
  | 'injected'
  /** A fatal signal arrived during the allocation (EINTR). */
  | 'signal'
  /** Another errno; `detail` says which. */
  | 'other';

export interface SimFailure {
  /** Microseconds of simulated time. */
  readonly t: number;
  readonly process: string;
  readonly stream: string;
  readonly heap: string;
  readonly size: number;
  /** errno name (ENOMEM, EINVAL, ...). */
  readonly errno: string;
  readonly reason: FailureReason;
  /** One line: the numbers behind the reason (largest free run vs request, cgroup usage vs limit, ...). */
  readonly detail: string;
  /** What the area had when it failed (CMA heaps), in pages. */
  readonly area?: { readonly name: string; readonly freePages: number; readonly largestFreeRun: number; readonly requestPages: number };
  /** For a replay: the trace said this allocation succeeded (or gave another errno). */
  readonly differs?: string;
}

export interface SimHeap {
  readonly name: string;
  /** system, cma, coherent, tee, ... (describeHeaps' kind). */
  readonly kind: string;
  /** Bytes the heap can hold at most (a CMA area's size, a pool's size), or null (RAM). */
  readonly capacity: number | null;
  /** The CMA area behind it, or null. */
  readonly area: string | null;
  /** What memory it is, whatever its name (heapIdentity: `system`, `cma:<region path or area>`): matches heaps across kernels. */
  readonly backing?: string;
  readonly peakBytes: number;
  readonly allocations: number;
  readonly failures: number;
}

export interface SimArea {
  readonly name: string;
  readonly heap: string | null;
  readonly basePfn: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly minFreePages: number;
  readonly minLargestFreeRun: number;
}

export interface SimProcess {
  readonly name: string;
  readonly pid: number;
  /** Microseconds: when it started and (null: still running) ended. */
  readonly start: number;
  readonly end: number | null;
  readonly peakRss: number;
  readonly peakPss: number;
  readonly peakDmabufBytes: number;
  /** Killed (OOM, an injected signal), with why. */
  readonly killed: string | null;
}

/** One series: values at the run's sample times (`SimSeries.t`). */
export type Series = number[];

export interface SimSeries {
  /** Sample times, microseconds. */
  readonly t: number[];
  /** Bytes in use per heap. */
  readonly heapUse: Record<string, Series>;
  /** Free pages per CMA area. */
  readonly cmaFree: Record<string, Series>;
  /** Largest free run (pages) per CMA area. */
  readonly cmaLargest: Record<string, Series>;
  /** Rss and Pss of dma-buf memory per process name (bytes; instances of a repeated process add up). */
  readonly rss: Record<string, Series>;
  readonly pss: Record<string, Series>;
  /** Bytes charged per cgroup (memory.current). */
  readonly cgroup: Record<string, Series>;
  /** MemFree of the machine, bytes. */
  readonly memFree: Series;
}

/**
 * A CMA area's map over time: the area cut into `cells` equal cells, each frame giving per cell the
 * index into `owners` of the buffer holding most of the cell's pages, -1 for a free cell, -2 for a
 * cell with pinned or taken pages.
 */
export interface SimAreaMap {
  readonly area: string;
  readonly cells: number;
  readonly pagesPerCell: number;
  /** Who holds pages: `process/stream`. */
  readonly owners: string[];
  readonly frames: { readonly t: number; readonly cells: number[] }[];
}

export interface SimResult {
  readonly workload: string;
  readonly file: string;
  readonly board: string | null;
  readonly profile: string;
  readonly cmdline: string;
  /** Whether the kernel charges dma-buf heap memory to the allocating task's memcg (dma_heap.mem_accounting), and to a dmem region. */
  readonly accounting?: { readonly memcg: boolean; readonly dmem: boolean };
  /** x86_64 or arm64, and the page size in bytes. */
  readonly arch?: string;
  readonly pageSize?: number;
  readonly seed: number;
  /** Simulated microseconds. */
  readonly duration: number;
  readonly heaps: SimHeap[];
  readonly areas: SimArea[];
  readonly processes: SimProcess[];
  readonly failures: SimFailure[];
  /** A replay's allocations that succeeded here although the trace saw them fail (errno 'OK', `differs` says what the trace saw). */
  readonly differences?: SimFailure[];
  readonly series: SimSeries;
  readonly maps: SimAreaMap[];
  readonly counts: { readonly events: number; readonly allocations: number; readonly frees: number; readonly frames: number; readonly failures: number; readonly injected: number };
  /** Warnings about the workload on this machine (an importer that does not exist, ...). */
  readonly warnings: string[];
  /** Wall-clock milliseconds the run took (not deterministic; left out of comparisons). */
  readonly wallMs: number;
}
