/**
 * struct stat as the kernel (and glibc, which passes it through) lays it out on the two
 * architectures the backend runs on.
 * @kernel arch/x86/include/uapi/asm/stat.h (x86-64, 144 bytes), include/uapi/asm-generic/stat.h (arm64, 128 bytes)
 */
import type { Arch } from '../uapi/fcntl.js';
import type { StatResult } from './target.js';

/** Bytes to reserve for fstat(2)'s buffer: the larger of the two layouts. */
export const STAT_BUF_SIZE = 144;

export type Stat = NonNullable<StatResult['stat']>;

/** Decodes the fields {@link StatResult} reports from a struct stat of `arch`. */
export function decodeStat(b: Uint8Array, arch: Arch): Stat {
  const need = arch === 'x86_64' ? 144 : 128;
  if (b.length < need) throw new RangeError(`struct stat on ${arch} is ${need} bytes, got ${b.length}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const x86 = arch === 'x86_64';
  return {
    dev: Number(dv.getBigUint64(0, true)),
    ino: Number(dv.getBigUint64(8, true)),
    // x86-64: st_nlink (u64) at 16, then mode, uid, gid; generic: mode, nlink (u32), uid, gid
    mode: dv.getUint32(x86 ? 24 : 16, true),
    uid: dv.getUint32(x86 ? 28 : 24, true),
    gid: dv.getUint32(x86 ? 32 : 28, true),
    rdev: Number(dv.getBigUint64(x86 ? 40 : 32, true)),
    size: Number(dv.getBigInt64(48, true)),
  };
}

/** S_IFMT and the file types the backend tells apart. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
