/**
 * The heap modules built into the emulator (the Makefile of drivers/dma-buf/heaps). The kernel
 * boots the ones its config names, in this link order: system first, then CMA, as in Linux.
 */
import type { HeapModule } from '../kapi.js';
import { cmaHeapModule } from './cma-heap.js';
import { coherentHeapModule } from './coherent-heap.js';
import { teeHeapModule } from './tee-heap.js';
import { systemHeapModule } from './system-heap.js';

export const HEAP_MODULES: readonly HeapModule[] = [systemHeapModule, cmaHeapModule, coherentHeapModule, teeHeapModule];

/** Config names accepted in `KernelConfig.heaps`. */
export type HeapModuleName = 'system' | 'cma' | 'coherent' | 'tee';
export const HEAP_MODULE_BY_NAME: Readonly<Record<HeapModuleName, HeapModule>> = { system: systemHeapModule, cma: cmaHeapModule, coherent: coherentHeapModule, tee: teeHeapModule };
