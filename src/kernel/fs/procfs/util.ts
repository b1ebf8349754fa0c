/** Helpers of procfs. @kernel fs/proc/util.c */

/**
 * name_to_int(): a /proc name that is a pid or an fd: decimal digits only, no leading zero
 * (except `0` itself), below 2^32 - 10; null otherwise.
 * @kernel fs/proc/util.c name_to_int
 */
export function nameToInt(name: string): number | null {
  if (name.length === 0 || (name.length > 1 && name.charCodeAt(0) === 0x30)) return null;
  let n = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return null;
    if (n >= Math.floor((0xffffffff - 9) / 10)) return null;
    n = n * 10 + c;
  }
  return n;
}
