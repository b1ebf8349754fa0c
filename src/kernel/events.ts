/**
 * Kernel events: what happens to dma-bufs, for observers (the sync sanitizer, the cache model's
 * bookkeeping, tools, the dashboard) that must not be wired into the code they watch. An
 * observer subscribes with {@link KernelEvents.on}; emitting with no observer costs one length
 * check. Events carry the objects themselves, never copies of data.
 */
import type { DmaBuf, DmaBufAttachment, DmaDirection } from './dma-buf/dma-buf.js';

/** Who touched memory: a process through a mapping, or a device through an attachment. */
export interface CpuAccessEvent {
  readonly buf: DmaBuf;
  readonly pid: number;
  /** Byte offset in the buffer and length. */
  readonly offset: number;
  readonly length: number;
  readonly write: boolean;
}

export interface DeviceAccessEvent {
  readonly buf: DmaBuf;
  readonly device: string;
  readonly offset: number;
  readonly length: number;
  readonly write: boolean;
  /** The attachment the device used, or null when it used a stale DMA address. */
  readonly attachment: DmaBufAttachment | null;
}

export interface SyncEvent {
  readonly buf: DmaBuf;
  readonly pid: number | null;
  readonly dir: DmaDirection;
  readonly end: boolean;
}

export interface KernelEventMap {
  /** A buffer was exported (created). */
  readonly export: { readonly buf: DmaBuf; readonly pid: number | null };
  /** The last reference went: the buffer is being freed. */
  readonly release: { readonly buf: DmaBuf };
  readonly cpuAccess: CpuAccessEvent;
  readonly deviceAccess: DeviceAccessEvent;
  /** DMA_BUF_IOCTL_SYNC / dma_buf_{begin,end}_cpu_access. */
  readonly sync: SyncEvent;
  readonly attach: { readonly att: DmaBufAttachment };
  readonly detach: { readonly att: DmaBufAttachment };
  readonly map: { readonly att: DmaBufAttachment; readonly dir: DmaDirection };
  readonly unmap: { readonly att: DmaBufAttachment; readonly dir: DmaDirection };
}

export type KernelEventName = keyof KernelEventMap;

export class KernelEvents {
  private readonly listeners: { [K in KernelEventName]: ((e: KernelEventMap[K]) => void)[] } = {
    export: [], release: [], cpuAccess: [], deviceAccess: [], sync: [], attach: [], detach: [], map: [], unmap: [],
  };

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends KernelEventName>(name: K, fn: (e: KernelEventMap[K]) => void): () => void {
    const list = this.listeners[name] as ((e: KernelEventMap[K]) => void)[];
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** True when someone listens (lets hot paths skip building the event). */
  has(name: KernelEventName): boolean {
    return this.listeners[name].length > 0;
  }

  emit<K extends KernelEventName>(name: K, e: KernelEventMap[K]): void {
    const list = this.listeners[name] as ((e: KernelEventMap[K]) => void)[];
    for (let i = 0; i < list.length; i++) list[i]!(e);
  }
}
