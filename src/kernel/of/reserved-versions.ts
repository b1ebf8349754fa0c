/**
 * How /reserved-memory handling differs between the kernel versions the emulator profiles. Every
 * difference is one flag; the code asks the flag, never a version number.
 *
 * Sources read (drivers/of/fdt.c and drivers/of/of_reserved_mem.c at several versions, and the
 * commits that changed them):
 * - 6.1: the scan lives in drivers/of/fdt.c (pr_fmt "OF: fdt: "); /memreserve/ entries are
 *   reserved before /reserved-memory; each node's first reg tuple is saved, dynamic nodes are
 *   saved as (0, 0); fdt_init_reserved_mem() sorts the saved regions (__rmem_check_for_overlap()),
 *   then allocates and initialises them in that order.
 * - between 6.1 and 6.6 (2023 patches; exact releases not pinned, all three are in 6.6):
 *   "of: reserved-mem: print out reserved-mem details during boot" adds the
 *   "%pa..%pa (%lu KiB) %s %s %s" line after a region's init; early_init_fdt_scan_reserved_mem()
 *   scans /reserved-memory before reserving /memreserve/; __reserved_mem_alloc_in_range() ("of:
 *   reserved_mem: Try to keep range allocations contiguous") picks bottom-up/top-down from
 *   neighbouring regions for `alloc-ranges`.
 * - v6.12: 8a6e02d0c00e "of: reserved_mem: Restructure how the reserved memory regions are
 *   processed": the code is in of_reserved_mem.c (pr_fmt "OF: reserved mem: "); dynamic regions
 *   are allocated and initialised during the early scan (before /memreserve/ is reserved), static
 *   ones are saved and initialised from unflatten_device_tree() (fdt_scan_reserved_mem_reg_nodes()),
 *   and the overlap check runs last, over both.
 * - v6.14 (also 6.12.y/6.13.y stable): 81dfedd5234b warns "%s() ignores %d regions in node '%s'"
 *   when a static node has more than one reg tuple.
 * - v6.19: the of_flat_dt_get_addr_size() helpers: the late scan only takes nodes with exactly one
 *   reg tuple (a malformed or multi-tuple reg is skipped without a message); 0fd17e598333
 *   "Allow reserved_mem framework detect "cma=" kernel param" skips a linux,cma-default node before
 *   reserving anything when `cma=` was given (6.1–6.18: rmem_cma_setup() bypasses it with -EBUSY
 *   and the memory is given back).
 * - 7.0: the early scan uses of_flat_dt_get_addr_size_prop() too, so a malformed `reg` or
 *   `alloc-ranges` counts as absent instead of being reported.
 *
 * Unverified: the 6.6 message prefix (the code moved to of_reserved_mem.c during the 2024
 * restructure series; 6.6 is assumed to still print "OF: fdt: "), and whether 7.0 (rather than
 * 7.1) already has the early-scan helpers. Not modelled: the 2026 rework (reserved_mem_ops with
 * node_validate/node_fixup/node_init, -ENODEV for "not mine", coherent pools logged in KiB),
 * which is in mainline after 7.0.
 */
import type { ProfileName } from '../profile.js';

export interface ReservedMemBehaviour {
  /** pr_fmt of the scan messages: "OF: fdt: " (drivers/of/fdt.c) or "OF: reserved mem: ". */
  readonly scanPrefix: string;
  /** 6.6 (not 6.1): /memreserve/ entries are reserved after /reserved-memory is scanned. */
  readonly memreserveAfterScan: boolean;
  /** 6.6 (not 6.1): "OF: reserved mem: %pa..%pa (%lu KiB) map|nomap reusable|non-reusable name". */
  readonly regionSummary: boolean;
  /** 6.6 (not 6.1): __reserved_mem_alloc_in_range() adjacency rule for `alloc-ranges`. */
  readonly allocRangesAdjacency: boolean;
  /** v6.12+: dynamic regions first (early), static ones from the late scan, overlap check last. */
  readonly restructured: boolean;
  /** v6.14–v6.18: the late scan warns about (and ignores) reg tuples after the first. */
  readonly warnIgnoredRegs: boolean;
  /** v6.19+: the late scan only takes a single, well-formed reg tuple (of_flat_dt_get_addr_size()). */
  readonly lateScanSingleTuple: boolean;
  /** 7.0: the early scan treats a malformed `reg`/`alloc-ranges` as absent. */
  readonly earlyScanAddrSizeHelper: boolean;
  /** v6.19+: `cma=` makes the scan skip linux,cma-default nodes before reserving them. */
  readonly cmdlineSkipsDtDefault: boolean;
  /**
   * v6.12+: sizeof(struct reserved_mem), the element of the array fdt_scan_reserved_mem_late()
   * allocates (memblock, SMP_CACHE_BYTES aligned) before the static regions are initialised;
   * 0 before 6.12 (a static array). 48 as read (name, fdt_node, ops, base, size, priv); the
   * 7.3-rc7 referee allocates 40 per region (its struct lost a field).
   */
  readonly rmemStructSize: number;
  /**
   * mm/cma.c cma_declare_contiguous_nid(): "cma: Reserved %ld MiB at %pa on node %d" (the 6.12
   * referee) rather than "cma: Reserved %ld MiB at %pa" (the 6.1.192 and 7.3-rc7 referees).
   */
  readonly cmaReservedOnNode: boolean;
  /**
   * The line a linux,cma-default node skipped for `cma=` prints (cmdlineSkipsDtDefault): 6.19
   * and 7.0 as read, 7.3 as the arm64 7.3-rc7 referee printed it (no "OF: reserved mem: " prefix).
   */
  readonly skipDtDefaultLine: string;
}

const legacy: ReservedMemBehaviour = {
  scanPrefix: 'OF: fdt: ',
  memreserveAfterScan: false,
  regionSummary: false,
  allocRangesAdjacency: false,
  restructured: false,
  warnIgnoredRegs: false,
  lateScanSingleTuple: false,
  earlyScanAddrSizeHelper: false,
  cmdlineSkipsDtDefault: false,
  rmemStructSize: 0,
  cmaReservedOnNode: false,
  skipDtDefaultLine: 'OF: reserved mem: Skipping dt linux,cma-default for "cma=" kernel param.',
};

const restructured: ReservedMemBehaviour = {
  ...legacy,
  scanPrefix: 'OF: reserved mem: ',
  memreserveAfterScan: true,
  regionSummary: true,
  allocRangesAdjacency: true,
  restructured: true,
  rmemStructSize: 48,
  cmaReservedOnNode: true,
};

const BEHAVIOUR: Readonly<Record<ProfileName, ReservedMemBehaviour>> = {
  // 5.10 and 5.15 print what 6.1 prints (drivers/of/of_reserved_mem.c, drivers/of/fdt.c of those releases)
  '5.10': legacy,
  '5.15': legacy,
  '6.1': legacy,
  '6.6': { ...legacy, memreserveAfterScan: true, regionSummary: true, allocRangesAdjacency: true, cmaReservedOnNode: true },
  '6.12': restructured,
  '6.17': { ...restructured, warnIgnoredRegs: true },
  '6.18': { ...restructured, warnIgnoredRegs: true },
  '6.19': { ...restructured, lateScanSingleTuple: true, cmdlineSkipsDtDefault: true },
  '7.0': { ...restructured, lateScanSingleTuple: true, earlyScanAddrSizeHelper: true, cmdlineSkipsDtDefault: true },
  // the arm64 7.3-rc7 referee (test/oracle/issue-11/arm64): "cma: Reserved ... at ..." without
  // "on node", and the skip line reworded without the pr_fmt prefix
  '7.3': {
    ...restructured, lateScanSingleTuple: true, earlyScanAddrSizeHelper: true, cmdlineSkipsDtDefault: true, cmaReservedOnNode: false,
    skipDtDefaultLine: 'Skipping dt linux,cma-default node in favor for "cma=" kernel param.',
  },
};

export function reservedMemBehaviour(profile: ProfileName): ReservedMemBehaviour {
  return BEHAVIOUR[profile];
}
