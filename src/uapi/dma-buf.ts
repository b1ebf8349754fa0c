// dma-buf uAPI: include/uapi/linux/dma-buf.h (spec §1.3, §4.3-4.5).

import { _IOW, _IOWR } from './ioctl.js';
import { defineStruct } from './struct.js';
import type { StructLayout } from './struct.js';

export const DMA_BUF_SYNC_READ = 1 << 0;
export const DMA_BUF_SYNC_WRITE = 2 << 0;
export const DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
export const DMA_BUF_SYNC_START = 0 << 2;
export const DMA_BUF_SYNC_END = 1 << 2;
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;

export const DMA_BUF_NAME_LEN = 32;

/** ioctl type 'b'. */
export const DMA_BUF_BASE = 'b';

/** struct dma_buf_sync { __u64 flags; } */
export const DMA_BUF_SYNC: StructLayout = defineStruct('dma_buf_sync', 8, [
  { name: 'flags', type: 'u64', offset: 0 },
]);

/** struct dma_buf_export_sync_file { __u32 flags; __s32 fd; } */
export const DMA_BUF_EXPORT_SYNC_FILE: StructLayout = defineStruct('dma_buf_export_sync_file', 8, [
  { name: 'flags', type: 'u32', offset: 0 },
  { name: 'fd', type: 's32', offset: 4 },
]);

/** struct dma_buf_import_sync_file { __u32 flags; __s32 fd; } */
export const DMA_BUF_IMPORT_SYNC_FILE: StructLayout = defineStruct('dma_buf_import_sync_file', 8, [
  { name: 'flags', type: 'u32', offset: 0 },
  { name: 'fd', type: 's32', offset: 4 },
]);

/** _IOW('b', 0, struct dma_buf_sync) = 0x40086200. */
export const DMA_BUF_IOCTL_SYNC = _IOW(DMA_BUF_BASE, 0, DMA_BUF_SYNC.size);
/** _IOW('b', 1, const char *) with a plain pointer size: 32-bit variant (0x40046201). */
export const DMA_BUF_SET_NAME_A = _IOW(DMA_BUF_BASE, 1, 4);
/** 64-bit pointer variant (0x40086201). */
export const DMA_BUF_SET_NAME_B = _IOW(DMA_BUF_BASE, 1, 8);
/** _IOW('b', 1, const char *) on a 64-bit target = DMA_BUF_SET_NAME_B. */
export const DMA_BUF_SET_NAME = DMA_BUF_SET_NAME_B;
/** _IOWR('b', 2, struct dma_buf_export_sync_file) = 0xc0086202 (v6.0). */
export const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = _IOWR(DMA_BUF_BASE, 2, DMA_BUF_EXPORT_SYNC_FILE.size);
/** _IOW('b', 3, struct dma_buf_import_sync_file) = 0x40086203 (v6.0). */
export const DMA_BUF_IOCTL_IMPORT_SYNC_FILE = _IOW(DMA_BUF_BASE, 3, DMA_BUF_IMPORT_SYNC_FILE.size);

/** Filesystem magic of the dma-buf pseudo-fs, "DMAB" (include/uapi/linux/magic.h). */
export const DMA_BUF_MAGIC = 0x444d4142;
