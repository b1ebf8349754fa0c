/**
 * /proc/meminfo's text.
 * @kernel fs/proc/meminfo.c meminfo_proc_show
 */

/** What /proc/meminfo reads from the kernel. */
export interface MeminfoFacts {
  readonly pageSize: number;
  /** totalram_pages(): the page allocator's pages, CMA areas included. */
  totalRamPages(): number;
  readonly buddy: { readonly freePages: number };
  readonly cmaAreas: readonly { readonly count: number; readonly availableCount: number; readonly pinnedPages: number }[];
  /** Private anonymous pages (AnonPages). */
  readonly anonPages: number;
  /** Pages of the memfds' tmpfs and of shared anonymous memory (Shmem). */
  readonly shmem: { readonly pages: number };
  readonly shmemAnonPages: number;
}

/**
 * The /proc/meminfo lines the tools read (a subset; see docs/fidelity.md), in the kernel's
 * order. MemFree counts the free pages of the page allocator and of the CMA areas; everything
 * else of MemTotal is in use (heap buffers, anonymous memory, shmem pages). MemAvailable is
 * MemFree: there are no reserves (watermarks) and nothing reclaimable (no page cache, no swap).
 */
export function meminfoText(k: MeminfoFacts): string {
  const kb = (pages: number) => String((pages * k.pageSize) / 1024).padStart(8, ' ') + ' kB\n';
  const cmaTotal = k.cmaAreas.reduce((n, a) => n + a.count, 0);
  // pinned pages (fault injection) are not in the area's bitmap but hold a process's data
  const cmaFree = k.cmaAreas.reduce((n, a) => n + a.availableCount - a.pinnedPages, 0);
  const free = k.buddy.freePages + cmaFree;
  return `MemTotal:       ${kb(k.totalRamPages())}MemFree:        ${kb(free)}MemAvailable:   ${kb(free)}` +
    `AnonPages:      ${kb(k.anonPages)}Shmem:          ${kb(k.shmem.pages + k.shmemAnonPages)}` +
    `CmaTotal:       ${kb(cmaTotal)}CmaFree:        ${kb(cmaFree)}`;
}
