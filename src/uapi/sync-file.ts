// Explicit-fence sync_file uAPI: include/uapi/linux/sync_file.h.

import { _IOWR } from './ioctl.js';
import { defineStruct } from './struct.js';
import type { StructLayout } from './struct.js';

/** struct sync_merge_data (48 bytes). */
export const SYNC_MERGE_DATA: StructLayout = defineStruct('sync_merge_data', 48, [
  { name: 'name', type: 'char', offset: 0, count: 32 },
  { name: 'fd2', type: 's32', offset: 32 },
  { name: 'fence', type: 's32', offset: 36 },
  { name: 'flags', type: 'u32', offset: 40 },
  { name: 'pad', type: 'u32', offset: 44 },
]);

/** struct sync_fence_info (80 bytes). */
export const SYNC_FENCE_INFO: StructLayout = defineStruct('sync_fence_info', 80, [
  { name: 'obj_name', type: 'char', offset: 0, count: 32 },
  { name: 'driver_name', type: 'char', offset: 32, count: 32 },
  { name: 'status', type: 's32', offset: 64 },
  { name: 'flags', type: 'u32', offset: 68 },
  { name: 'timestamp_ns', type: 'u64', offset: 72 },
]);

/** struct sync_file_info (56 bytes); `sync_fence_info` is a user pointer to an array. */
export const SYNC_FILE_INFO: StructLayout = defineStruct('sync_file_info', 56, [
  { name: 'name', type: 'char', offset: 0, count: 32 },
  { name: 'status', type: 's32', offset: 32 },
  { name: 'flags', type: 'u32', offset: 36 },
  { name: 'num_fences', type: 'u32', offset: 40 },
  { name: 'pad', type: 'u32', offset: 44 },
  { name: 'sync_fence_info', type: 'ptr', offset: 48 },
]);

/** ioctl type '>'. */
export const SYNC_IOC_MAGIC = '>';
/** _IOWR('>', 3, struct sync_merge_data) = 0xc0303e03. */
export const SYNC_IOC_MERGE = _IOWR(SYNC_IOC_MAGIC, 3, SYNC_MERGE_DATA.size);
/** _IOWR('>', 4, struct sync_file_info) = 0xc0383e04. */
export const SYNC_IOC_FILE_INFO = _IOWR(SYNC_IOC_MAGIC, 4, SYNC_FILE_INFO.size);
