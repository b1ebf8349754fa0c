// udmabuf uAPI: include/uapi/linux/udmabuf.h (spec §4.13).
// The ioctl numbers own the C names UDMABUF_CREATE / UDMABUF_CREATE_LIST, so the struct
// layouts of the same name are exported with a _LAYOUT suffix.

import { _IOW } from './ioctl.js';
import { defineStruct, encodeStruct } from './struct.js';
import type { StructLayout } from './struct.js';

export const UDMABUF_FLAGS_CLOEXEC = 0x01;

/** struct udmabuf_create (24 bytes). */
export const UDMABUF_CREATE_LAYOUT: StructLayout = defineStruct('udmabuf_create', 24, [
  { name: 'memfd', type: 'u32', offset: 0 },
  { name: 'flags', type: 'u32', offset: 4 },
  { name: 'offset', type: 'u64', offset: 8 },
  { name: 'size', type: 'u64', offset: 16 },
]);

/** struct udmabuf_create_item (24 bytes). */
export const UDMABUF_CREATE_ITEM: StructLayout = defineStruct('udmabuf_create_item', 24, [
  { name: 'memfd', type: 'u32', offset: 0 },
  { name: '__pad', type: 'u32', offset: 4 },
  { name: 'offset', type: 'u64', offset: 8 },
  { name: 'size', type: 'u64', offset: 16 },
]);

/** struct udmabuf_create_list header (8 bytes), followed by `count` udmabuf_create_item. */
export const UDMABUF_CREATE_LIST_LAYOUT: StructLayout = defineStruct('udmabuf_create_list', 8, [
  { name: 'flags', type: 'u32', offset: 0 },
  { name: 'count', type: 'u32', offset: 4 },
]);

/** _IOW('u', 0x42, struct udmabuf_create) = 0x40187542. */
export const UDMABUF_CREATE = _IOW('u', 0x42, UDMABUF_CREATE_LAYOUT.size);
/** _IOW('u', 0x43, struct udmabuf_create_list) = 0x40087543 (the flexible array adds nothing). */
export const UDMABUF_CREATE_LIST = _IOW('u', 0x43, UDMABUF_CREATE_LIST_LAYOUT.size);

export interface UdmabufItem {
  readonly memfd: number;
  readonly offset: number | bigint;
  readonly size: number | bigint;
  /** Defaults to 0. */
  readonly __pad?: number;
}

/** Bytes of a struct udmabuf_create_list with its items (8 + 24 × items.length); count = items.length. */
export function encodeUdmabufCreateList(flags: number, items: readonly UdmabufItem[]): Uint8Array {
  const itemSize = UDMABUF_CREATE_ITEM.size;
  const out = new Uint8Array(UDMABUF_CREATE_LIST_LAYOUT.size + itemSize * items.length);
  encodeStruct(UDMABUF_CREATE_LIST_LAYOUT, { flags, count: items.length }, out);
  items.forEach((it, i) => {
    const at = UDMABUF_CREATE_LIST_LAYOUT.size + i * itemSize;
    encodeStruct(UDMABUF_CREATE_ITEM, { memfd: it.memfd, __pad: it.__pad ?? 0, offset: it.offset, size: it.size }, out.subarray(at, at + itemSize));
  });
  return out;
}
