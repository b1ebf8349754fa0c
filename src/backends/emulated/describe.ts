/**
 * What the emulated kernel knows about its heaps, for tools: the facts a real system only hints
 * at through names (which memory backs a heap, how big it is, how much is free).
 */
import type { Kernel } from '../../kernel/kernel.js';
import { CmaArea } from '../../kernel/mm/cma.js';

export interface HeapDescription {
  readonly name: string;
  readonly path: string;
  readonly minor: number;
  /** major:minor as /sys/class/dma_heap/<name>/dev shows it */
  readonly dev: string;
  readonly kind: 'system' | 'cma';
  readonly contiguous: boolean;
  readonly cacheable: boolean;
  /** bytes the heap could hand out in total, and free now */
  readonly capacity: number;
  readonly free: number;
  /** the CMA area behind a CMA heap */
  readonly area: { readonly name: string; readonly base: number; readonly size: number } | null;
}

export function describeHeaps(k: Kernel): HeapDescription[] {
  const ps = k.pageSize;
  return k.heaps().map((h) => {
    const priv = k.dmaHeap.getDrvdata(h);
    const dev = `${254}:${h.minor}`;
    if (priv instanceof CmaArea) {
      return {
        name: h.name, path: `/dev/dma_heap/${h.devName}`, minor: h.minor, dev, kind: 'cma', contiguous: true, cacheable: true,
        capacity: priv.count * ps, free: priv.availableCount * ps,
        area: { name: priv.name, base: priv.basePfn * ps, size: priv.count * ps },
      } as const;
    }
    return {
      name: h.name, path: `/dev/dma_heap/${h.devName}`, minor: h.minor, dev, kind: 'system', contiguous: false, cacheable: true,
      capacity: k.buddy.totalPages * ps, free: k.buddy.freePages * ps, area: null,
    } as const;
  });
}
