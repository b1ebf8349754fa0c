// DMA-BUF heap uAPI: include/uapi/linux/dma-heap.h (spec §1.2).

import { fcntlConstants, O_ACCMODE, O_CLOEXEC } from './fcntl.js';
import type { Arch } from './fcntl.js';
import { _IOWR } from './ioctl.js';
import { defineStruct } from './struct.js';
import type { StructLayout } from './struct.js';

/** 'H'. */
export const DMA_HEAP_IOC_MAGIC = 0x48;

/** struct dma_heap_allocation_data (24 bytes, same on 32- and 64-bit). */
export const DMA_HEAP_ALLOCATION_DATA: StructLayout = defineStruct('dma_heap_allocation_data', 24, [
  { name: 'len', type: 'u64', offset: 0 },
  { name: 'fd', type: 'u32', offset: 8 },
  { name: 'fd_flags', type: 'u32', offset: 12 },
  { name: 'heap_flags', type: 'u64', offset: 16 },
]);

/** _IOWR('H', 0, 24) = 0xc0184800 on every architecture. */
export const DMA_HEAP_IOCTL_ALLOC = _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, DMA_HEAP_ALLOCATION_DATA.size);
/** Legacy spelling (v5.6), same number. */
export const DMA_HEAP_IOC_ALLOC = DMA_HEAP_IOCTL_ALLOC;

/** O_CLOEXEC | O_ACCMODE on x86-64 / arm64 (0x80003). */
export const DMA_HEAP_VALID_FD_FLAGS = O_CLOEXEC | O_ACCMODE;

/** O_CLOEXEC | O_ACCMODE for an architecture. */
export function dmaHeapValidFdFlags(arch: Arch): number {
  const t = fcntlConstants(arch);
  return t.O_CLOEXEC | t.O_ACCMODE;
}

/** No heap flags are defined. */
export const DMA_HEAP_VALID_HEAP_FLAGS = 0n;

/**
 * Proposed (2026 memcg-charging RFC, not mainline): 32-byte struct adding the pidfd of the
 * process to charge (0 = caller) and a padding word.
 */
export const DMA_HEAP_ALLOCATION_DATA_PIDFD: StructLayout = defineStruct('dma_heap_allocation_data_pidfd', 32, [
  { name: 'len', type: 'u64', offset: 0 },
  { name: 'fd', type: 'u32', offset: 8 },
  { name: 'fd_flags', type: 'u32', offset: 12 },
  { name: 'heap_flags', type: 'u64', offset: 16 },
  { name: 'charge_pid_fd', type: 'u32', offset: 24 },
  { name: '__padding', type: 'u32', offset: 28 },
]);
