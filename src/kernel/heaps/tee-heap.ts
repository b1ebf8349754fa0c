/**
 * TEE protected heaps (v6.18): `protected,<use case>` heaps over memory the TEE protects. The
 * CPU cannot touch it: the buffers have no mmap and no vmap (the dma-buf core then refuses with
 * EINVAL), and only devices allowed into protected memory may import them (devices: next issue).
 *
 * @kernel drivers/tee/tee_heap.c (tee_heap_register_pool, tee_dma_heap_alloc)
 */
import { Errno } from '../../uapi/errno.js';
import type { DmaBuf, DmaBufOps, SgEntry } from '../dma-buf/dma-buf.js';
import type { DmaHeap } from '../dma-heap/dma-heap.js';
import type { HeapModule, KernelServices, TeePool } from '../kapi.js';
import { DMA_ATTR_SKIP_CPU_SYNC } from '../dev/dma-mapping.js';
import { PageRun } from '../mm/backing.js';
import type { KResult } from '../result.js';
import { exportHeapBuffer, PagedBuffer } from './paged-buffer.js';

const E = Errno;

/** The use cases the TEE registers heaps for (enum tee_dma_heap_id). */
export const TEE_HEAP_USE_CASES = ['secure-video', 'trusted-ui', 'secure-video-record'] as const;

class ProtectedBuffer extends PagedBuffer {
  /** Memory behind the TEE's firewall: only devices allowed into protected memory reach it. */
  readonly protectedMemory = true;
  constructor(
    readonly pool: TeePool,
    run: PageRun,
    k: KernelServices,
  ) {
    super([run], k.pageSize, k.backing, k.zeroPage, false);
  }
}

function allocate(k: KernelServices, ops: DmaBufOps, heap: DmaHeap, len: number, fdFlags: number): KResult<DmaBuf> {
  const pool = k.dmaHeap.getDrvdata(heap) as TeePool;
  const ps = k.pageSize;
  const pfn = pool.area.alloc(len / ps, 0);
  if (pfn < 0) return -E.ENOMEM;
  const buffer = new ProtectedBuffer(pool, new PageRun(pfn, len / ps, len), k);
  return exportHeapBuffer(k, ops, heap, len, fdFlags, buffer, () => pool.area.release(pfn, len / ps));
}

function makeOps(k: KernelServices): DmaBufOps {
  return {
    /** tee_heap_attach(): a copy of the table; any device may attach (the secure firewall, not Linux, keeps others out). */
    attach: (buf, att) => (buf.priv as ProtectedBuffer).attach(att),
    detach: (buf, att) => (buf.priv as ProtectedBuffer).detach(att),
    /** tee_heap_map_dma_buf(): dma_map_sgtable(..., DMA_ATTR_SKIP_CPU_SYNC); its error as is. */
    mapDmaBuf: (att, dir): KResult<SgEntry[]> => (att.dmabuf.priv as ProtectedBuffer).map(att, dir, null, DMA_ATTR_SKIP_CPU_SYNC),
    unmapDmaBuf: (att, sgt, dir) => (att.dmabuf.priv as ProtectedBuffer).unmap(att, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC),
    // no mmap, no vmap, no CPU access ops: the CPU cannot reach protected memory
    release: (buf: DmaBuf) => {
      const b = buf.priv as ProtectedBuffer;
      const r = b.runs[0]!;
      r.drop(k.backing);
      b.pool.area.release(r.pfn, r.pages);
    },
  };
}

export const teeHeapModule: HeapModule = {
  name: 'tee_heap',
  kconfig: 'CONFIG_TEE_DMABUF_HEAPS',
  init(k: KernelServices): number {
    if (!k.profile.teeProtectedHeaps) return 0;
    const ops = makeOps(k);
    for (const pool of k.teePools) {
      const name = `protected,${pool.useCase}`;
      const heap = k.dmaHeap.add({ name, ops: { allocate: (h, len, fdFlags) => allocate(k, ops, h, len, fdFlags) }, priv: pool });
      if (typeof heap === 'number') k.log(`tee: failed to register heap ${name}: ${heap}`);
    }
    return 0;
  },
};
