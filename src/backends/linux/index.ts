/**
 * The Linux backend: the real kernel's DMA-BUF heaps (/dev/dma_heap) through libc, called with
 * koffi. Needs Linux on x86-64 or arm64, a kernel with CONFIG_DMABUF_HEAPS and a heap, and
 * the koffi package. docs/linux-backend.md tells the requirements and the differences from the
 * emulated backend.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { DmaHeapClient } from '../../api/client.js';
import type { DmaHeapClientOptions } from '../../api/client.js';
import { loadLibc } from './libc.js';
import { LinuxTarget } from './target.js';
import type { LinuxTargetOptions } from './target.js';

export { LinuxTarget, UNMAPPED_ADDR, NO_DEVICES_NOTE, NO_SANITIZER_NOTE } from './target.js';
export type { LinuxTargetOptions } from './target.js';
export { decodeStat } from '../../api/stat.js';
// the client library, so that `dmaheap/linux` alone is enough for an application
export * from '../../api/index.js';

export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Why the backend cannot run on this machine, or null when it can (cheap checks first; koffi last). */
function unavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (this is ${process.platform}): DMA-BUF heaps are a Linux kernel interface; use the emulated backend`;
  if (process.arch !== 'x64' && process.arch !== 'arm64') return `unsupported architecture ${process.arch}: the linux backend knows the x86-64 and arm64 ABIs`;
  let heaps: string[];
  try {
    heaps = readdirSync('/dev/dma_heap');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return `no /dev/dma_heap: kernel ${release()} has no DMA-BUF heaps (build it with CONFIG_DMABUF_HEAPS=y and CONFIG_DMABUF_HEAPS_SYSTEM=y and/or CONFIG_DMABUF_HEAPS_CMA=y)`;
    }
    return `cannot list /dev/dma_heap: ${code ?? (e as Error).message}`;
  }
  if (heaps.length === 0) {
    return `/dev/dma_heap is empty: kernel ${release()} registered no heap (CONFIG_DMABUF_HEAPS_SYSTEM=y, or CONFIG_DMABUF_HEAPS_CMA=y with a CMA area: cma= or a linux,cma reserved-memory node)`;
  }
  const readable = heaps.filter((h) => {
    try {
      accessSync(`/dev/dma_heap/${h}`, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (readable.length === 0) {
    return `no heap in /dev/dma_heap (${heaps.join(', ')}) can be opened by uid ${process.getuid?.() ?? '?'}: the nodes are 0600 root:root unless a udev rule says otherwise; run as root or add a rule`;
  }
  const libc = loadLibc();
  if (libc instanceof Error) return `koffi failed to load: ${libc.message.split('\n')[0] ?? libc.message}`;
  return null;
}

/** Whether this machine can run the backend, and if not, why. */
export function isAvailable(): Availability {
  const why = unavailable();
  return why === null ? { ok: true } : { ok: false, reason: why };
}

/**
 * A {@link LinuxTarget}: this process, through libc. Works without heaps (listHeaps() is then
 * empty) but needs Linux, a supported arch and koffi; throws with the reason otherwise.
 */
export function createLinuxTarget(opts: LinuxTargetOptions = {}): LinuxTarget {
  if (process.platform !== 'linux') throw new Error(`the linux backend needs Linux (this is ${process.platform})`);
  const libc = loadLibc();
  if (libc instanceof Error) throw new Error(`koffi failed to load: ${libc.message}`);
  return new LinuxTarget(libc, opts);
}

export const linuxBackend = {
  name: 'linux',
  /** `{ ok: true }`, or the reason: not Linux, no /dev/dma_heap (CONFIG_DMABUF_HEAPS), no heap, koffi failed to load. */
  isAvailable,
  /** A target over this process (see {@link LinuxTargetOptions}). */
  createTarget(opts: LinuxTargetOptions = {}): LinuxTarget {
    return createLinuxTarget(opts);
  },
  /**
   * A client over this process; `client.close()` unmaps its mappings and closes its descriptors.
   * `client` holds the client's options (appName, leakGuard, keepHeapsOpen, facts), as the
   * emulated backend's createClient takes them.
   */
  createClient(opts: LinuxTargetOptions & { readonly client?: DmaHeapClientOptions } = {}): DmaHeapClient {
    return new DmaHeapClient(createLinuxTarget(opts), opts.client);
  },
};
