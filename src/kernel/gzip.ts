/**
 * A gzip stream with stored (uncompressed) deflate blocks: what /proc/config.gz needs to be a
 * valid .gz file for zcat and node:zlib, without a compressor in a kernel layer that has no
 * zlib. (RFC 1952 member, RFC 1951 BTYPE=00 blocks of at most 65535 bytes, CRC-32 of ISO 3309.)
 */
let crcTable: Uint32Array | null = null;

export function crc32(data: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function gzipStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(10 + data.length + blocks * 5 + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]); // magic, deflate, no flags, mtime 0, xfl 0, OS unix
  let o = 10;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535;
    const len = Math.min(65535, data.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(start, start + len), o);
    o += len;
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(o, crc32(data), true);
  dv.setUint32(o + 4, data.length >>> 0, true);
  return out;
}
