/**
 * Real bytes behind physical pages, allocated lazily: a run of pages costs host memory only once
 * something is written to it, reads of a never-written run see zeros without allocating, and
 * freeing a run drops its bytes so the host really gets the memory back. This is how the emulator
 * gives "zeroed pages" (__GFP_ZERO, mm/page_alloc.c) without ever re-zeroing memory that is
 * already zero.
 */
export class PageRun {
  /** Bytes, or null while the run has never been written (all zero). */
  data: Uint8Array | null = null;
  constructor(
    /** First page frame number. */
    readonly pfn: number,
    /** Length in pages. */
    readonly pages: number,
    /** Length in bytes (pages × page size). */
    readonly bytes: number,
  ) {}

  /** The bytes, allocating them (zero-filled) on first use. */
  materialize(acct: BackingStats): Uint8Array {
    let d = this.data;
    if (d === null) {
      d = new Uint8Array(this.bytes);
      this.data = d;
      acct.backedBytes += this.bytes;
    }
    return d;
  }

  /** Drop the bytes: the run is free again (or must read as zero again). */
  drop(acct: BackingStats): void {
    if (this.data !== null) {
      acct.backedBytes -= this.bytes;
      this.data = null;
    }
  }
}

/** Host memory actually spent on page contents, per kernel instance. */
export class BackingStats {
  /** Bytes behind the page runs of buffers and memfds (written pages). */
  backedBytes = 0;
  /** Bytes behind anonymous pages (each allocated when first written, dropped when freed). */
  anonBytes = 0;
}

/**
 * Where buffer bytes live when something outside the emulator must share them: `dmaheap run`
 * gives each exported heap buffer host memory that the native program maps for real. The kernel
 * calls {@link bind} once per exported buffer with its page runs in buffer (sg-table) order; the
 * host sets each run's `data` to its share of that memory (zero-filled, as the runs were) and
 * takes the bytes back when the buffer is released. Null in a kernel of its own (the bytes are
 * plain JS memory, allocated lazily).
 */
export interface HostMemory {
  /** `owner` identifies the buffer (its struct dma_buf); `runs` start at byte 0 and follow each other. */
  bind(owner: object, runs: readonly PageRun[], bytes: number, acct: BackingStats): void;
}
