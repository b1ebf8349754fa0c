/**
 * Where a CMA area's debugfs directory is. Before v6.0 mm/cma_debug.c named it `cma-<area>`, cut
 * to 15 characters (the 5.10 referee: /sys/kernel/debug/cma/cma-reserved); from v6.0 it is the
 * area's name ("mm/cma_debug: show complete cma name in debugfs directories"). Kernels before
 * 5.14 have no /sys/kernel/mm/cma, so there debugfs is the only list of areas.
 */

/** The kernel release (`uname -r`) is older than v6.0, so its debugfs directories are `cma-<area>`. */
export function cmaDebugfsPrefixed(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m !== null && Number(m[1]) < 6;
}

/** One CMA area: its name and its debugfs directory (relative to /sys/kernel/debug/cma). */
export interface CmaAreaDir {
  readonly name: string;
  readonly debugfsDir: string;
}

/**
 * The areas of a machine from the listings of /sys/kernel/mm/cma and /sys/kernel/debug/cma
 * (null: not listable), each with its debugfs directory; null when neither lists. Without sysfs
 * on an older kernel the names are the debugfs ones without `cma-` (a name cut at 15 characters
 * stays cut: nothing else says the rest).
 */
export function cmaAreaDirs(sysfs: readonly string[] | null, debugfs: readonly string[] | null, release: string): CmaAreaDir[] | null {
  const prefixed = cmaDebugfsPrefixed(release);
  const dirOf = (name: string): string => (prefixed ? `cma-${name}`.slice(0, 15) : name);
  if (sysfs !== null) return sysfs.map((name) => ({ name, debugfsDir: dirOf(name) }));
  if (debugfs === null) return null;
  return debugfs.map((d) => ({ name: prefixed && d.startsWith('cma-') ? d.slice(4) : d, debugfsDir: d }));
}
