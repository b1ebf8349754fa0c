/**
 * Page-size arithmetic shared by the page allocator, CMA and the heaps.
 *
 * Every function takes the page size explicitly: the emulated kernel can be configured with
 * 4 KiB, 16 KiB or 64 KiB pages (spec §5.4), so nothing here assumes PAGE_SIZE = 4096.
 * Byte counts and physical addresses are plain JS numbers (exact below 2^53); no 32-bit bitwise
 * operator is applied to a byte count or to a PFN, so values above 2^31 are safe.
 */

/**
 * Highest buddy order the page allocator hands out: orders 0..10 inclusive.
 *
 * include/linux/mmzone.h MAX_PAGE_ORDER (v6.8+; 6.4–6.7 call it MAX_ORDER with the same
 * inclusive meaning). Linux 6.1's MAX_ORDER = 11 is exclusive ("orders 0..MAX_ORDER-1"), i.e. the
 * same range. This is the generic default (x86-64, arm64 with 4 KiB pages); see archMaxPageOrder()
 * for the arm64 values with larger pages.
 */
export const MAX_PAGE_ORDER = 10;

/**
 * log2 of the page size (PAGE_SHIFT). `pageSize` must be a power of two; for anything else the
 * result is the log2 of the highest power of two below it.
 */
export function pageShift(pageSize: number): number {
  let shift = 0;
  let v = pageSize;
  while (v >= 2) {
    v /= 2;
    shift++;
  }
  return shift;
}

/**
 * Round `bytes` up to a whole number of pages (include/linux/mm.h PAGE_ALIGN()).
 * 0 stays 0.
 */
export function pageAlign(bytes: number, pageSize: number): number {
  return Math.ceil(bytes / pageSize) * pageSize;
}

/**
 * Smallest k with pageSize·2^k ≥ bytes (include/asm-generic/getorder.h get_order()).
 * Anything up to one page, including 0, is order 0 (the kernel leaves get_order(0) undefined).
 * Examples with 4 KiB pages: 4096 → 0, 8192 → 1, 12288 → 2, 1 MiB → 8, 1 MiB + 4 KiB → 9.
 */
export function getOrder(bytes: number, pageSize: number): number {
  const pages = Math.ceil(bytes / pageSize);
  let order = 0;
  let span = 1;
  while (span < pages) {
    span *= 2;
    order++;
  }
  return order;
}

/** The two architectures whose memory layout the emulator models. */
export type Arch = 'x86_64' | 'arm64';

/**
 * Highest buddy order for an architecture and page size (inclusive, like MAX_PAGE_ORDER).
 *
 * arch/arm64/Kconfig ARCH_FORCE_MAX_ORDER: 4 KiB pages → 10, 16 KiB → 11, 64 KiB → 13 (v6.4+
 * inclusive values; 6.1 expressed the same ranges as the exclusive 11, 12 and 14).
 * x86-64 does not override it: include/linux/mmzone.h default 10.
 */
export function archMaxPageOrder(pageSize: number, arch: Arch): number {
  if (arch === 'arm64') {
    if (pageSize === 65536) return 13;
    if (pageSize === 16384) return 11;
  }
  return MAX_PAGE_ORDER;
}

/**
 * Order of a PMD-sized huge page: PMD_SHIFT − PAGE_SHIFT (include/linux/huge_mm.h
 * HPAGE_PMD_ORDER). A PMD entry maps one page-table page worth of PTEs, i.e.
 * PAGE_SIZE / 8 entries, so the order is PAGE_SHIFT − 3: 4 KiB → 9 (2 MiB), 16 KiB → 11
 * (32 MiB, arm64 PMD_SHIFT 25), 64 KiB → 13 (512 MiB, arm64 PMD_SHIFT 29).
 * arch/arm64/include/asm/pgtable-hwdef.h ARM64_HW_PGTABLE_LEVEL_SHIFT(2).
 */
export function hpagePmdOrder(pageSize: number): number {
  return pageShift(pageSize) - 3;
}

/**
 * Pageblock order (include/linux/pageblock-flags.h pageblock_order): with huge pages configured
 * (THP/HugeTLB, as on every distribution kernel of x86-64 and arm64) it is
 * min(HPAGE_PMD_ORDER, highest buddy order). Results: x86-64 4 KiB → 9; arm64 4 KiB → 9,
 * 16 KiB → min(11, 11) = 11, 64 KiB → min(13, 13) = 13.
 */
export function pageblockOrder(pageSize: number, arch: Arch, build?: PageblockConfig): number {
  const max = Math.min(build?.maxOrder ?? archMaxPageOrder(pageSize, arch), archMaxPageOrder(pageSize, arch));
  if (build !== undefined && !build.hugePages) return max;
  return Math.min(hpagePmdOrder(pageSize), max);
}

/**
 * What the kernel configuration says about pageblocks (include/linux/pageblock-flags.h): with
 * CONFIG_TRANSPARENT_HUGEPAGE or CONFIG_HUGETLB_PAGE, pageblock_order = min(HPAGE_PMD_ORDER,
 * PAGE_BLOCK_MAX_ORDER); without either, PAGE_BLOCK_MAX_ORDER (v6.16+; before it,
 * MAX_PAGE_ORDER, its default): 4 MiB with 4 KiB pages, as on the oracles' tiny configs.
 */
export interface PageblockConfig {
  readonly hugePages: boolean;
  /** CONFIG_PAGE_BLOCK_MAX_ORDER (default: the largest buddy order). */
  readonly maxOrder?: number;
}

/** Pages per pageblock (include/linux/pageblock-flags.h pageblock_nr_pages). */
export function pageblockNrPages(pageSize: number, arch: Arch, build?: PageblockConfig): number {
  return 2 ** pageblockOrder(pageSize, arch, build);
}

/**
 * Walks [offset, offset + length) of a page-divided object page by page: `fn(page, inPage, n,
 * done)` for each piece (its page index, offset inside the page, length, and bytes before it).
 */
export function forPageChunks(pageSize: number, offset: number, length: number, fn: (page: number, inPage: number, n: number, done: number) => void): void {
  let done = 0;
  while (done < length) {
    const at = offset + done;
    const page = Math.floor(at / pageSize);
    const inPage = at - page * pageSize;
    const n = Math.min(length - done, pageSize - inPage);
    fn(page, inPage, n, done);
    done += n;
  }
}
