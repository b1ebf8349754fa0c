// Lookup tables: every struct layout by its C name, every ioctl number by its C name.

import { DMA_BUF_EXPORT_SYNC_FILE, DMA_BUF_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME, DMA_BUF_SET_NAME_A, DMA_BUF_SET_NAME_B, DMA_BUF_SYNC } from './dma-buf.js';
import { DMA_HEAP_ALLOCATION_DATA, DMA_HEAP_ALLOCATION_DATA_PIDFD, DMA_HEAP_IOC_ALLOC, DMA_HEAP_IOCTL_ALLOC } from './dma-heap.js';
import { FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, TCGETS } from './ioctl.js';
import type { StructLayout } from './struct.js';
import { SYNC_FENCE_INFO, SYNC_FILE_INFO, SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, SYNC_MERGE_DATA } from './sync-file.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_ITEM, UDMABUF_CREATE_LAYOUT, UDMABUF_CREATE_LIST, UDMABUF_CREATE_LIST_LAYOUT } from './udmabuf.js';

export const STRUCTS: Readonly<Record<string, StructLayout>> = Object.freeze({
  dma_heap_allocation_data: DMA_HEAP_ALLOCATION_DATA,
  dma_heap_allocation_data_pidfd: DMA_HEAP_ALLOCATION_DATA_PIDFD,
  dma_buf_sync: DMA_BUF_SYNC,
  dma_buf_export_sync_file: DMA_BUF_EXPORT_SYNC_FILE,
  dma_buf_import_sync_file: DMA_BUF_IMPORT_SYNC_FILE,
  udmabuf_create: UDMABUF_CREATE_LAYOUT,
  udmabuf_create_item: UDMABUF_CREATE_ITEM,
  udmabuf_create_list: UDMABUF_CREATE_LIST_LAYOUT,
  sync_merge_data: SYNC_MERGE_DATA,
  sync_file_info: SYNC_FILE_INFO,
  sync_fence_info: SYNC_FENCE_INFO,
});

/** Generic (x86-64 / arm64) numbers. Where two names share a number the first one listed is canonical. */
export const IOCTLS: Readonly<Record<string, number>> = Object.freeze({
  DMA_HEAP_IOCTL_ALLOC,
  DMA_HEAP_IOC_ALLOC,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  UDMABUF_CREATE,
  UDMABUF_CREATE_LIST,
  SYNC_IOC_MERGE,
  SYNC_IOC_FILE_INFO,
  FIOCLEX,
  FIONCLEX,
  FIONBIO,
  FIOASYNC,
  FIONREAD,
  TCGETS,
});

const NAME_BY_NUMBER: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, n] of Object.entries(IOCTLS)) if (!m.has(n)) m.set(n, name);
  return m;
})();

/** Canonical symbolic name of an ioctl number, or undefined (e.g. for strace-like output). */
export function ioctlName(cmd: number): string | undefined {
  return NAME_BY_NUMBER.get(cmd >>> 0);
}
