/**
 * A CMA area's directory under /sys/kernel/debug/cma: before v6.0 `cma-<area>` formatted into a
 * 16-byte buffer (so cut to 15 characters: the 5.10 referee's cma/cma-reserved); from v6.0 the
 * area's name ("mm/cma_debug: show complete cma name in debugfs directories"). The emulated
 * kernel makes it and the client reads it with this one function.
 * @kernel mm/cma_debug.c cma_debugfs_add_one
 */
export function cmaDebugfsDirName(area: string, prefixed: boolean): string {
  return prefixed ? `cma-${area}`.slice(0, 15) : area;
}
