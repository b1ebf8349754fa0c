/**
 * What the dashboard shows, as data: the contract between the server (src/apps/dashboard/server.ts,
 * its sources) and the page (src/apps/dashboard/page.ts). Plain JSON.
 *
 * Protocol (docs/dashboard.md):
 * - `GET /` the page; `GET /api/snapshot` one {@link DashSnapshot};
 * - `GET /api/events` server-sent events: first an `event: snapshot` with a whole
 *   {@link DashSnapshot}, then at most every 250 ms an `event: delta` with a {@link DashDelta}
 *   against the previous one (by `seq`); a client that misses one (`base` ≠ its `seq`) reloads
 *   `/api/snapshot`. A slow client is sent the newest state, never a backlog;
 * - controls (emulated machines only; POST with a JSON body, answered with JSON):
 *   `POST /api/alloc {heap, size, name?, process?}`, `POST /api/free {ino}`,
 *   `POST /api/fault {...}` (src/apps/common/fault-spec.ts forms), `POST /api/workload/pause`,
 *   `/resume`, `/step {us}`; errors as `{error: {code, message, hint}}` with a 4xx status.
 */

/** Where the data comes from. */
export interface DashSource {
  readonly kind: 'emulated' | 'run' | 'linux';
  /** One line: `emulated Linux 6.19 on imx8mp`, `dmaheap run ./camera (pid 1234)`, `this machine: Linux 6.12.0`. */
  readonly label: string;
  /** True for the real kernel (nothing is ever changed) and a `dmaheap run` (its program owns the machine). */
  readonly readOnly: boolean;
  /** What could not be read and why (`/sys/kernel/debug: root only`, ...). */
  readonly cannotRead: readonly string[];
}

export interface DashHeap {
  readonly name: string;
  /** system, cma, coherent, protected, or null when unknown (real kernel without facts). */
  readonly kind: string | null;
  readonly contiguous: boolean | null;
  readonly cached: boolean | null;
  readonly protected: boolean | null;
  /** Bytes the heap can hand out, or null (unknown, or RAM). */
  readonly capacity: number | null;
  /** Bytes allocated from it now (the buffers whose exporter is this heap), or null. */
  readonly used: number | null;
  /** The CMA area behind it, or null. */
  readonly area: string | null;
}

/**
 * A CMA area page by page. `runs` is run-length encoded: triples `[firstPage, pageCount, owner]`
 * covering the area in order, owner = a buffer's inode, 0 free, -1 allocated by someone the
 * dashboard cannot name (the real kernel's bitmap, a shrunk area), -2 pinned (cannot migrate).
 */
export interface DashArea {
  readonly name: string;
  readonly basePfn: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly freePages: number;
  readonly largestFreeRun: number;
  readonly runs: readonly number[];
}

/** One process's references to a buffer. */
export interface DashRef {
  readonly pid: number;
  readonly fds: number;
  readonly maps: number;
}

export interface DashBuffer {
  readonly ino: number;
  readonly size: number;
  /** The buffer's name (DMA_BUF_SET_NAME), or null. */
  readonly name: string | null;
  /** exp_name: the heap, or the exporting driver. */
  readonly exporter: string;
  /** File references (fdinfo count), or null. */
  readonly count: number | null;
  readonly refs: readonly DashRef[];
  /** Devices attached (their dev_name), with whether each has it mapped (null: not known, as on the real kernel, whose bufinfo lists attachments only). */
  readonly importers: readonly { readonly device: string; readonly mapped: boolean | null }[];
  /** Where its pages are, for a CMA buffer: the area and the first page index in it; else null. */
  readonly cma: { readonly area: string; readonly page: number; readonly pages: number } | null;
}

export interface DashProcess {
  readonly pid: number;
  readonly comm: string;
  /** dma-buf Rss and Pss (dmabuf_dump's), bytes. */
  readonly rss: number;
  readonly pss: number;
  /** The buffers it holds, by inode. */
  readonly buffers: readonly number[];
}

/** A sanitizer report (src/kernel/sanitizer), as text with its kind and when it came. */
export interface DashFinding {
  readonly id: number;
  /** Milliseconds since the dashboard started. */
  readonly t: number;
  readonly kind: string;
  readonly severity: string;
  readonly text: string;
}

/** One point of the timeline (the server keeps the last 5 minutes). */
export interface DashPoint {
  /** Milliseconds since the dashboard started. */
  readonly t: number;
  /** Bytes per heap name. */
  readonly heaps: Readonly<Record<string, number>>;
  readonly buffers: number;
}

/** A workload the emulated machine runs (src/apps/sim), with its clock. */
export interface DashWorkload {
  readonly name: string;
  /** Simulated microseconds done, and in all. */
  readonly now: number;
  readonly duration: number;
  readonly paused: boolean;
  readonly failures: number;
}

export interface DashSnapshot {
  /** Increases with every state sent. */
  readonly seq: number;
  /** Milliseconds since the dashboard started. */
  readonly t: number;
  readonly source: DashSource;
  readonly heaps: readonly DashHeap[];
  readonly areas: readonly DashArea[];
  readonly buffers: readonly DashBuffer[];
  readonly processes: readonly DashProcess[];
  /** The newest 200 findings, oldest first. */
  readonly findings: readonly DashFinding[];
  readonly timeline: readonly DashPoint[];
  readonly workload: DashWorkload | null;
}

/** The change from the state `base` to the state `seq`. Lists replace their entries by key. */
export interface DashDelta {
  readonly seq: number;
  readonly base: number;
  readonly t: number;
  /** Replaced whole when anything in them changed (few, small). */
  readonly heaps?: readonly DashHeap[];
  readonly areas?: readonly DashArea[];
  readonly processes?: readonly DashProcess[];
  readonly workload?: DashWorkload | null;
  /** Buffers new or changed (by inode), and inodes gone. */
  readonly buffers?: readonly DashBuffer[];
  readonly gone?: readonly number[];
  readonly findings?: readonly DashFinding[];
  /** The new timeline point(s). */
  readonly timeline?: readonly DashPoint[];
}
