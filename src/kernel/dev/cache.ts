/**
 * The CPU data cache as non-coherent DMA sees it, per 64-byte line of physical memory.
 *
 * Two views of a page: the CPU view (what loads and stores through mappings see: the page's
 * bytes, PageRun data) and the memory view (what a non-coherent device reads and writes). They
 * differ only on lines the CPU holds in its cache; the memory view is a shadow copy made for a
 * page the first time they can differ. Each line is uncached, cached clean or cached dirty:
 *
 * - a CPU load of an uncached line fills it (cached clean: the CPU view already equals memory,
 *   because uncached lines are kept equal); a CPU store makes the line dirty (the shadow keeps
 *   the old memory contents);
 * - a non-coherent device reads memory; its writes go to memory, and also to the CPU view of
 *   lines the CPU does not hold (the CPU will fetch them fresh), while a cached line keeps its
 *   stale bytes until invalidated;
 * - a coherent device snoops: it reads the CPU view, and its writes update both views;
 * - clean (arch_sync_dma_for_device on arm64: dcache_clean_poc, every direction) writes dirty
 *   lines back to memory; invalidate (arch_sync_dma_for_cpu unless DMA_TO_DEVICE:
 *   dcache_inval_poc) drops lines: a partially covered line at either end is cleaned first, a
 *   fully covered dirty line loses its data.
 *
 * Tracking is off until a non-coherent device maps a buffer: then the pages the CPU had written
 * (materialised pages) start out cached clean and never-written pages uncached. Memory that CPU
 * mappings reach uncached or write-combined (the coherent heap's pool on arm64) bypasses the
 * cache and is never tracked. There are no spontaneous evictions (the deterministic worst case).
 *
 * x86-64 never gets here: every device is coherent (no ARCH_HAS_SYNC_DMA_FOR_DEVICE/CPU).
 *
 * @kernel arch/arm64/mm/dma-mapping.c arch_sync_dma_for_device, arch_sync_dma_for_cpu;
 *   arch/arm64/mm/cache.S dcache_clean_poc, dcache_inval_poc; include/linux/dma-map-ops.h
 *   dev_is_dma_coherent; kernel/dma/mapping.c dma_pgprot (pgprot_dmacoherent)
 */
import type { DmaBuf } from '../dma-buf/dma-buf.js';
import type { KernelEvents, CpuAccessEvent } from '../events.js';
import type { PageRef } from '../fs/mm-user.js';
import { forPageChunks } from '../mm/page.js';
import type { Arch } from '../mm/page.js';
import { CoherentPool } from '../mm/coherent-pool.js';

/** L1_CACHE_BYTES on arm64 (and x86-64). */
export const CACHE_LINE = 64;

const UNCACHED = 0;
const CLEAN = 1;
const DIRTY = 2;

/**
 * A buffer's pages as the DMA layer and the cache model reach them (the heaps' PagedBuffer has
 * this shape): page `i` of the buffer, its page frame, and its bytes.
 */
export interface BufferPages {
  readonly pages: number;
  readonly pageSize: number;
  pfnOf(page: number): number;
  /** The bytes of buffer page `page` (write: materialise lazily backed memory). */
  page(page: number, write: boolean): PageRef | null;
  /** The zero page a never-written page reads as (PagedBuffer.zeroPage). */
  readonly zeroPage?: Uint8Array;
}

/** KernelConfig.cacheCost: a simulated cost of CPU reads, off by default. */
export interface CacheCostConfig {
  /** How many times slower a read of uncached/write-combined memory is than a cached one (published: 4-15×). */
  readonly uncachedReadFactor: number;
  /** Simulated cost of a cached read, ns per byte (default 0.1, i.e. 10 GB/s). */
  readonly cachedReadNsPerByte?: number;
}

export interface CacheStats {
  /** Buffers tracked since boot. */
  trackedBuffers: number;
  /** arch_sync_dma_for_device calls that reached a tracked page, and lines written back. */
  cleanOps: number;
  cleanedLines: number;
  /** arch_sync_dma_for_cpu invalidations that reached a tracked page, lines dropped, and dirty lines whose data was lost. */
  invalidateOps: number;
  invalidatedLines: number;
  discardedDirtyLines: number;
  /** Device accesses served from memory while the CPU held newer data (reads) or kept stale data (writes). */
  staleDeviceReads: number;
  staleCpuLinesLeft: number;
  /** Cost model (only counted with KernelConfig.cacheCost). */
  cpuReadBytesCached: number;
  cpuReadBytesUncached: number;
  simulatedReadNs: number;
}

interface PageState {
  readonly lines: Uint8Array;
  /** Memory view, or null while it equals the CPU view. */
  mem: Uint8Array | null;
}

interface Tracked {
  /** Per buffer page: 1 while its initial state (cached clean, it had been written) is still to be applied. */
  readonly initial: Uint8Array;
  /** Pages that may hold a cached line: an initial flag set or a state made. 0: every line is uncached. */
  hot: number;
}

export class CacheModel {
  readonly stats: CacheStats = {
    trackedBuffers: 0, cleanOps: 0, cleanedLines: 0, invalidateOps: 0, invalidatedLines: 0, discardedDirtyLines: 0,
    staleDeviceReads: 0, staleCpuLinesLeft: 0, cpuReadBytesCached: 0, cpuReadBytesUncached: 0, simulatedReadNs: 0,
  };
  private readonly states = new Map<number, PageState>();
  private readonly tracked = new Map<BufferPages, Tracked>();
  private readonly linesPerPage: number;
  private subscribed = false;

  constructor(
    readonly pageSize: number,
    readonly arch: Arch,
    private readonly events: KernelEvents,
    readonly cost: CacheCostConfig | null,
  ) {
    this.linesPerPage = pageSize / CACHE_LINE;
    if (cost !== null) this.subscribe();
  }

  private subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    this.events.on('cpuAccess', (e) => this.onCpuAccess(e));
    this.events.on('release', (e) => this.onRelease(e.buf));
  }

  /**
   * CPU mappings of this memory are uncached or write-combined: the coherent heap's per-device
   * pool, mapped by dma_mmap_coherent() for a non-coherent heap device (pgprot_dmacoherent on
   * arm64; x86-64 maps it cacheable).
   */
  isUncached(mem: BufferPages): boolean {
    return this.arch === 'arm64' && (mem as { pool?: unknown }).pool instanceof CoherentPool;
  }

  isTracked(mem: BufferPages): boolean {
    return this.tracked.has(mem);
  }

  /** Starts tracking a buffer (a non-coherent device is mapping it). */
  track(mem: BufferPages): void {
    if (this.tracked.has(mem) || this.isUncached(mem)) return;
    const initial = new Uint8Array(mem.pages);
    const zero = mem.zeroPage;
    let hot = 0;
    for (let p = 0; p < mem.pages; p++) {
      const ref = mem.page(p, false);
      if (ref !== null && ref.data !== zero) {
        initial[p] = 1;
        hot++;
      }
    }
    this.tracked.set(mem, { initial, hot });
    this.stats.trackedBuffers++;
    this.subscribe();
  }

  private onRelease(buf: DmaBuf): void {
    const mem = buf.priv as BufferPages;
    const t = this.tracked.get(mem);
    if (t === undefined) return;
    // hot 0: no page of it has a state to drop
    if (t.hot > 0) for (let p = 0; p < mem.pages; p++) this.states.delete(mem.pfnOf(p));
    this.tracked.delete(mem);
  }

  private onCpuAccess(e: CpuAccessEvent): void {
    const mem = e.buf.priv as BufferPages;
    if (this.cost !== null && !e.write) {
      const base = this.cost.cachedReadNsPerByte ?? 0.1;
      if (this.isUncached(mem)) {
        this.stats.cpuReadBytesUncached += e.length;
        this.stats.simulatedReadNs += e.length * base * this.cost.uncachedReadFactor;
      } else {
        this.stats.cpuReadBytesCached += e.length;
        this.stats.simulatedReadNs += e.length * base;
      }
    }
    if (this.tracked.has(mem)) this.cpuAccess(mem, e.offset, e.length, e.write);
  }

  /** The state of buffer page `page` (created on first use from the tracking-start snapshot). */
  private state(mem: BufferPages, page: number): PageState | null {
    const t = this.tracked.get(mem);
    if (t === undefined) return null;
    const pfn = mem.pfnOf(page);
    let st = this.states.get(pfn);
    if (st === undefined) {
      st = { lines: new Uint8Array(this.linesPerPage), mem: null };
      if (t.initial[page] === 1) st.lines.fill(CLEAN);
      else t.hot++;
      t.initial[page] = 0;
      this.states.set(pfn, st);
    }
    return st;
  }

  /** The CPU view of a page (never-written pages read as zeros; `write` materialises). */
  private cpuView(mem: BufferPages, page: number, write: boolean): PageRef {
    return mem.page(page, write) ?? { data: new Uint8Array(this.pageSize), off: 0 };
  }

  private ensureShadow(mem: BufferPages, page: number, st: PageState): Uint8Array {
    if (st.mem === null) {
      const v = this.cpuView(mem, page, false);
      st.mem = v.data.slice(v.off, v.off + this.pageSize);
    }
    return st.mem;
  }

  /**
   * A CPU load or store of [offset, offset + length) of a tracked buffer, before the bytes move
   * (the 'cpuAccess' event, or the CPU side of a swiotlb bounce copy).
   */
  cpuAccess(mem: BufferPages, offset: number, length: number, write: boolean): void {
    if (length <= 0 || !this.tracked.has(mem)) return;
    const ps = this.pageSize;
    const last = offset + length;
    for (let p = Math.floor(offset / ps); p * ps < last; p++) {
      const st = this.state(mem, p)!;
      const from = Math.max(offset, p * ps) - p * ps;
      const to = Math.min(last, (p + 1) * ps) - p * ps;
      const l0 = Math.floor(from / CACHE_LINE);
      const l1 = Math.ceil(to / CACHE_LINE);
      for (let l = l0; l < l1; l++) {
        const s = st.lines[l]!;
        if (write) {
          if (s !== DIRTY) {
            this.ensureShadow(mem, p, st);
            st.lines[l] = DIRTY;
          }
        } else if (s === UNCACHED) st.lines[l] = CLEAN;
      }
    }
  }

  /**
   * A device reads `n` bytes at `off` of buffer page `page` into `out[outOff..]`: the CPU view
   * for a coherent device (snooping), the memory view otherwise.
   */
  deviceRead(mem: BufferPages, page: number, off: number, out: Uint8Array, outOff: number, n: number, coherent: boolean): void {
    const st = coherent ? null : this.peek(mem, page);
    if (st !== null && st.mem !== null) {
      for (let l = Math.floor(off / CACHE_LINE); l < Math.ceil((off + n) / CACHE_LINE); l++) if (st.lines[l] === DIRTY) this.stats.staleDeviceReads++;
      out.set(st.mem.subarray(off, off + n), outOff);
      return;
    }
    const v = this.cpuView(mem, page, false);
    out.set(v.data.subarray(v.off + off, v.off + off + n), outOff);
  }

  /** A device writes `src[srcOff..srcOff+n)` at `off` of buffer page `page`. */
  deviceWrite(mem: BufferPages, page: number, off: number, src: Uint8Array, srcOff: number, n: number, coherent: boolean): void {
    const st = this.peek(mem, page);
    if (st === null || coherent) {
      // snooped (or untracked): both views take the bytes
      const v = this.cpuView(mem, page, true);
      v.data.set(src.subarray(srcOff, srcOff + n), v.off + off);
      if (st !== null && st.mem !== null) st.mem.set(src.subarray(srcOff, srcOff + n), off);
      return;
    }
    let done = 0;
    while (done < n) {
      const at = off + done;
      const l = Math.floor(at / CACHE_LINE);
      const k = Math.min(n - done, (l + 1) * CACHE_LINE - at);
      const chunk = src.subarray(srcOff + done, srcOff + done + k);
      if (st.lines[l] === UNCACHED) {
        const v = this.cpuView(mem, page, true);
        v.data.set(chunk, v.off + at);
        if (st.mem !== null) st.mem.set(chunk, at);
      } else {
        this.ensureShadow(mem, page, st).set(chunk, at);
        this.stats.staleCpuLinesLeft++;
      }
      done += k;
    }
  }

  /** The state of a tracked page (created if needed), or null for an untracked buffer. */
  private peek(mem: BufferPages, page: number): PageState | null {
    return this.tracked.has(mem) ? this.state(mem, page) : null;
  }

  /**
   * arch_sync_dma_for_device() over [offset, offset + length) of a buffer, page by page
   * ({@link clean}); a buffer none of whose lines is cached costs one check.
   */
  cleanRange(mem: BufferPages, offset: number, length: number): void {
    this.range(mem, offset, length, false);
  }

  /** arch_sync_dma_for_cpu() over [offset, offset + length) of a buffer, page by page ({@link invalidate}). */
  invalidateRange(mem: BufferPages, offset: number, length: number): void {
    this.range(mem, offset, length, true);
  }

  private range(mem: BufferPages, offset: number, length: number, inval: boolean): void {
    const t = this.tracked.get(mem);
    if (t === undefined || length <= 0) return;
    const ps = this.pageSize;
    if (t.hot === 0) {
      // every line uncached: nothing to write back or drop; the calls are counted as made
      const pages = Math.floor((offset + length - 1) / ps) - Math.floor(offset / ps) + 1;
      if (inval) this.stats.invalidateOps += pages;
      else this.stats.cleanOps += pages;
      return;
    }
    forPageChunks(ps, offset, length, (page, off, n) => (inval ? this.invalidate(mem, page, off, n) : this.clean(mem, page, off, n)));
  }

  /** arch_sync_dma_for_device() over [off, off + n) of buffer page `page`: dcache_clean_poc. */
  clean(mem: BufferPages, page: number, off: number, n: number): void {
    const t = this.tracked.get(mem);
    if (t === undefined) return;
    this.stats.cleanOps++;
    // a page whose state was never made has no dirty line (uncached, or clean from the snapshot)
    const st = this.states.get(mem.pfnOf(page));
    if (st === undefined) return;
    for (let l = Math.floor(off / CACHE_LINE); l < Math.ceil((off + n) / CACHE_LINE); l++) {
      if (st.lines[l] !== DIRTY) continue;
      this.writeBack(mem, page, st, l);
      st.lines[l] = CLEAN;
      this.stats.cleanedLines++;
    }
  }

  /**
   * arch_sync_dma_for_cpu() over [off, off + n) of buffer page `page`: dcache_inval_poc. A line
   * only partly inside the range is cleaned and invalidated (civac), a fully covered one is
   * invalidated (a dirty one loses its data). Dropped lines show memory again.
   */
  invalidate(mem: BufferPages, page: number, off: number, n: number): void {
    const t = this.tracked.get(mem);
    if (t === undefined) return;
    this.stats.invalidateOps++;
    const end = off + n;
    if (!this.states.has(mem.pfnOf(page))) {
      // no state made yet: every line is uncached (nothing to do), or clean without a shadow
      // (the snapshot's): a whole-page invalidate drops them all without making the state
      if (t.initial[page] !== 1) return;
      if (off <= 0 && end >= this.pageSize) {
        t.initial[page] = 0;
        t.hot--;
        this.stats.invalidatedLines += this.linesPerPage;
        return;
      }
    }
    const st = this.state(mem, page)!;
    for (let l = Math.floor(off / CACHE_LINE); l < Math.ceil(end / CACHE_LINE); l++) {
      const s = st.lines[l]!;
      if (s === UNCACHED) continue;
      const partial = l * CACHE_LINE < off || (l + 1) * CACHE_LINE > end;
      if (s === DIRTY) {
        if (partial) this.writeBack(mem, page, st, l);
        else this.stats.discardedDirtyLines++;
      }
      if (st.mem !== null) {
        const v = this.cpuView(mem, page, true);
        v.data.set(st.mem.subarray(l * CACHE_LINE, (l + 1) * CACHE_LINE), v.off + l * CACHE_LINE);
      }
      st.lines[l] = UNCACHED;
      this.stats.invalidatedLines++;
    }
    if (st.lines.every((s) => s === UNCACHED)) st.mem = null;
  }

  private writeBack(mem: BufferPages, page: number, st: PageState, l: number): void {
    if (st.mem === null) return; // no shadow: memory already equals the CPU view
    const v = this.cpuView(mem, page, false);
    st.mem.set(v.data.subarray(v.off + l * CACHE_LINE, v.off + (l + 1) * CACHE_LINE), l * CACHE_LINE);
  }

  /** Line states of buffer page `page` for tools and tests: '.' uncached, 'c' clean, 'D' dirty; null when untracked. */
  lineStates(mem: BufferPages, page: number): string | null {
    if (!this.tracked.has(mem)) return null;
    const st = this.states.get(mem.pfnOf(page));
    if (st === undefined) return (this.tracked.get(mem)!.initial[page] === 1 ? 'c' : '.').repeat(this.linesPerPage);
    let s = '';
    for (const x of st.lines) s += x === DIRTY ? 'D' : x === CLEAN ? 'c' : '.';
    return s;
  }
}
