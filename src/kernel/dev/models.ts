/**
 * Small working devices that move real bytes through mapped attachments, with the DMA addresses
 * their mappings gave them (bounce buffers when bounced, the cache model for non-coherent
 * devices): a camera that captures a frame pattern, a display that scans a buffer out (its bytes
 * and CRC-32), a copy engine, and a codec that writes a transformed copy of its input.
 *
 * Every access goes through DeviceRegistry.deviceRead()/deviceWrite(), so observers get a
 * 'deviceAccess' event for each, and stale mappings are refused (EFAULT) without touching memory.
 * A device runs only the operation of its model (EINVAL otherwise); the two attachments of the
 * copy engine or the codec must belong to it (EINVAL otherwise).
 */
import { Errno } from '../../uapi/errno.js';
import type { KResult } from '../result.js';
import type { DeviceModelKind } from './device.js';
import type { AttachmentHandle, DeviceRegistry } from './registry.js';
import { crc32 } from '../gzip.js';

const E = Errno;

/** The byte a camera writes at buffer offset `i` of frame `frame`. */
export function framePatternByte(frame: number, i: number): number {
  return (i + frame * 17) & 0xff;
}

/** What the codec writes for an input byte (it inverts the samples). */
export function codecTransformByte(b: number): number {
  return 255 - b;
}

/** CRC-32 (IEEE 802.3, reflected, as zlib's crc32()): the one the kernel's gzip writer uses. */
export { crc32 } from '../gzip.js';

function check(h: AttachmentHandle, kind: DeviceModelKind): number {
  return h.device.model === kind ? 0 : -E.EINVAL;
}

/** The device models of a registry. */
export class DeviceModels {
  constructor(private readonly reg: DeviceRegistry) {}

  /** A camera captures frame `frame` into the whole buffer: bytes written or -errno. */
  capture(h: AttachmentHandle, frame: number): number {
    const c = check(h, 'camera');
    if (c < 0) return c;
    const size = h.buf.size;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = framePatternByte(frame, i);
    return this.reg.deviceWrite(h, 0, data);
  }

  /** A display scans the whole buffer out: its bytes and their CRC-32, or -errno. */
  scanout(h: AttachmentHandle): KResult<{ bytes: Uint8Array; crc32: number }> {
    const c = check(h, 'display');
    if (c < 0) return c;
    const bytes = this.reg.deviceRead(h, 0, h.buf.size);
    if (typeof bytes === 'number') return bytes;
    return { bytes, crc32: crc32(bytes) };
  }

  /** A copy engine copies `length` bytes (default: the smaller buffer) from `src` to `dst`: bytes copied or -errno. */
  copy(src: AttachmentHandle, dst: AttachmentHandle, length?: number): number {
    const c = check(src, 'copy');
    if (c < 0 || src.device !== dst.device) return -E.EINVAL;
    const n = length ?? Math.min(src.buf.size, dst.buf.size);
    const bytes = this.reg.deviceRead(src, 0, n);
    if (typeof bytes === 'number') return bytes;
    return this.reg.deviceWrite(dst, 0, bytes);
  }

  /** A codec reads `input` and writes the transformed bytes to `output`: bytes written or -errno. */
  transform(input: AttachmentHandle, output: AttachmentHandle): number {
    const c = check(input, 'codec');
    if (c < 0 || input.device !== output.device) return -E.EINVAL;
    const n = Math.min(input.buf.size, output.buf.size);
    const bytes = this.reg.deviceRead(input, 0, n);
    if (typeof bytes === 'number') return bytes;
    for (let i = 0; i < n; i++) bytes[i] = codecTransformByte(bytes[i]!);
    return this.reg.deviceWrite(output, 0, bytes);
  }
}
