/**
 * The heap-helper library of v5.6-v5.10 (Profile.heapHelpers): what the system and CMA heaps of
 * those releases share. v5.11 removed it, giving each heap its own code (system_heap.c,
 * cma_heap.c); the heaps here call into it only on a profile that has it.
 *
 * @kernel drivers/dma-buf/heaps/heap-helpers.c (v5.10)
 */
import { Errno } from '../../uapi/errno.js';
import type { DmaBuf } from '../dma-buf/dma-buf.js';
import { VM_MAYSHARE, VM_SHARED } from '../fs/mm-user.js';
import type { Vma } from '../fs/mm-user.js';
import type { KernelServices } from '../kapi.js';
import type { PagedBuffer } from './paged-buffer.js';

const E = Errno;

/** The exporter name of every helper buffer: DEFINE_DMA_BUF_EXPORT_INFO's KBUILD_MODNAME. */
export const HEAP_HELPERS_EXP_NAME = 'heap_helpers';

/**
 * The heap's kmalloc_array() of one page pointer per page fails above KMALLOC_MAX_SIZE, the
 * largest buddy block (4 MiB with 4 KiB pages: 512 Ki pointers, a 2 GiB buffer), before any page
 * is taken (the 5.10 referee: 2 GiB + 4 KiB is ENOMEM at once). True when it fits.
 * @kernel drivers/dma-buf/heaps/system_heap.c system_heap_allocate (v5.10); include/linux/slab.h KMALLOC_MAX_SIZE
 */
export function pageArrayFits(k: KernelServices, pagecount: number): boolean {
  return pagecount * 8 <= k.pageSize * 2 ** k.buddy.maxOrder;
}

/**
 * dma_heap_mmap(): the mapping must be shared (EINVAL otherwise: no copy-on-write mapping of
 * either heap, the 5.10 referee); pages are inserted on fault (dma_heap_vm_fault: get_page, no
 * PFN map), a page offset past the buffer is SIGBUS.
 */
export function helperMmap(buf: DmaBuf, vma: Vma): number {
  if ((vma.vmFlags & (VM_SHARED | VM_MAYSHARE)) === 0) return -E.EINVAL;
  const b = buf.priv as PagedBuffer;
  vma.pages = (p, write) => b.page(p, write);
  return 0;
}
