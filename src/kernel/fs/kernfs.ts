/**
 * What sysfs and cgroupfs share from kernfs: the order getdents lists a directory in. kernfs keeps
 * a directory's children in a red-black tree sorted by a hash of the name (then the name), so
 * `ls -f /sys/class/dma_heap/system` shows `uevent dev subsystem` on every oracle kernel, and the
 * emulator lists them the same way.
 *
 * @kernel fs/kernfs/dir.c kernfs_name_hash, kernfs_name_compare; include/linux/stringhash.h; include/linux/hash.h hash_64_generic
 */
import { strBytes } from '../bytes.js';

const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;
const U64 = (1n << 64n) - 1n;
const INT_MAX = 0x7fffffff;

/**
 * kernfs_name_hash(name, NULL): partial_name_hash() over the name's bytes, end_name_hash()
 * (hash_64 to 32 bits), masked to 31 bits, with 0, 1 and INT_MAX reserved. `signedChar`: the
 * bytes are C `char`s that sign-extend (x86 before 6.2 built without -funsigned-char).
 */
export function kernfsNameHash(name: string, signedChar = false): number {
  let hash = 0n;
  for (const b of strBytes(name)) {
    const c = signedChar && b >= 0x80 ? (BigInt(b) - 256n) & U64 : BigInt(b);
    hash = ((hash + ((c << 4n) & U64) + (c >> 4n)) * 11n) & U64;
  }
  let h = Number(((hash * GOLDEN_RATIO_64) & U64) >> 32n) & INT_MAX;
  if (h < 2) h += 2;
  if (h >= INT_MAX) h = INT_MAX - 1;
  return h;
}

/** `names` in kernfs's directory order: by hash, then by name (strcmp). */
export function kernfsOrder(names: readonly string[], signedChar = false): string[] {
  return names
    .map((n) => ({ n, h: kernfsNameHash(n, signedChar) }))
    .sort((a, b) => a.h - b.h || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
    .map((x) => x.n);
}
