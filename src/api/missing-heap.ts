/**
 * Why a heap name is not in /dev/dma_heap, in terms of the machine: which heaps exist, and the
 * renames that make code that hard-codes a name fail with ENOENT —
 *
 * - `cma=` on the kernel command line creates the default CMA area `reserved` and makes the
 *   kernel bypass (≤6.18) or skip (6.19+) the device tree's `linux,cma-default` region, whose
 *   heap (`linux,cma`, …) then does not exist;
 * - 6.17 names the default CMA heap `default_cma_region` (the area's old name stays as a legacy
 *   duplicate on 6.17-6.18 and as the per-region heap from 6.19); before 6.17 there is no such name;
 * - from 6.19 every reusable reserved-memory region is a heap under its node name; before, only
 *   the default one is;
 * - names the knowledge base knows to be newer than the running kernel (`protected,…` from 6.18).
 *
 * One implementation for the client ({@link DmaHeapClient.allocate}'s ENOENT), `dmaheap alloc`
 * and `dmaheap doctor`'s cma-naming check. Reads only what a process can read (/dev/dma_heap,
 * /proc/cmdline, the live device tree), so it works on both backends; it runs only after an
 * open has failed, never on the allocation path.
 *
 * @kernel kernel/dma/contiguous.c early_cma, rmem_cma_setup; drivers/dma-buf/heaps/cma_heap.c
 *   add_cma_heaps (6.17 default_cma_region, DMABUF_HEAPS_CMA_LEGACY; 6.19 one heap per region)
 */
import type { ErrnoName } from '../uapi/errno.js';
import { ErrnoError } from './errors.js';
import { kernelVersion, lookupHeapName, readReservedMemory } from './heap-knowledge.js';
import type { DeviceTreeFs, ReservedRegionFact } from './heap-knowledge.js';
import type { SyscallTarget } from './target.js';

/** Where a Linux system shows its device tree. */
export const LIVE_DEVICE_TREE = '/sys/firmware/devicetree/base';

/** What a process can see about how its heaps are named. */
export interface HeapNamingFacts {
  /** The entries of /dev/dma_heap; null when it does not exist or cannot be listed. */
  readonly heaps: readonly string[] | null;
  /** `uname -r` */
  readonly release: string | null;
  /** /proc/cmdline without the newline; null when it cannot be read ({@link cmdlineErrno} says why). */
  readonly cmdline: string | null;
  /** Why /proc/cmdline could not be read; null when it could. */
  readonly cmdlineErrno: ErrnoName | null;
  /** The value of the first `cma=` on the command line, null without one. */
  readonly cmdlineCma: string | null;
  /** The live device tree's enabled `/reserved-memory` regions; null without a reserved-memory node. */
  readonly reservedMemory: readonly ReservedRegionFact[] | null;
  /** The first enabled region with `linux,cma-default` (node name), null when none. */
  readonly dtCmaDefault: string | null;
}

/** A {@link DeviceTreeFs} over a syscall target's files (property files read one byte per character). */
export function deviceTreeFsOf(t: Pick<SyscallTarget, 'readdir' | 'readFile'>): DeviceTreeFs {
  return {
    list(dir) {
      const names = t.readdir(dir).names;
      if (names === null) return null;
      return [...names].sort().map((name) => ({ name, isDir: t.readdir(`${dir}/${name}`).names !== null }));
    },
    read(file) {
      const text = t.readFile(file).text;
      if (text === null) return null;
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
      return out;
    },
  };
}

/** Reads {@link HeapNamingFacts} through a syscall target; `heaps` may be given when the caller already listed them. */
export function readHeapNamingFacts(t: Pick<SyscallTarget, 'readdir' | 'readFile' | 'release'>, heaps?: readonly string[] | null): HeapNamingFacts {
  const cmd = t.readFile('/proc/cmdline');
  const cmdline = cmd.text === null ? null : cmd.text.replace(/\n$/, '');
  const reservedMemory = readReservedMemory(deviceTreeFsOf(t), LIVE_DEVICE_TREE);
  return {
    heaps: heaps !== undefined ? heaps : t.readdir('/dev/dma_heap').names,
    release: t.release,
    cmdline,
    cmdlineErrno: cmd.text === null ? cmd.errno : null,
    cmdlineCma: cmdline === null ? null : (/(?:^|\s)cma=(\S+)/.exec(cmdline)?.[1] ?? null),
    reservedMemory,
    dtCmaDefault: reservedMemory?.find((r) => r.cmaDefault)?.name ?? null,
  };
}

function atLeast(v: readonly [number, number] | null, major: number, minor: number): boolean {
  return v !== null && (v[0] > major || (v[0] === major && v[1] >= minor));
}

/**
 * The default CMA heap's names on kernel version `v`: the area's name (`dtRegion`, the device
 * tree's default region, or `reserved` for the command-line/Kconfig area) up to 6.16;
 * `default_cma_region` and the area's name from 6.17.
 */
export function defaultCmaHeapNames(v: readonly [number, number] | null, dtRegion: string | null): string[] {
  const area = dtRegion ?? 'reserved';
  return atLeast(v, 6, 17) ? ['default_cma_region', area] : [area];
}

/** Names that code uses for the default CMA heap. */
const DEFAULT_CMA_NAMES = ['linux,cma', 'reserved', 'default_cma_region', 'default-pool'];

/** Why a heap is missing. */
export interface MissingHeapExplanation {
  /** The name that was asked for. */
  readonly heap: string;
  /** The heaps that exist; null without /dev/dma_heap. */
  readonly heaps: readonly string[] | null;
  /** The likely reason, one sentence; null when nothing known explains it. */
  readonly reason: string | null;
  /** An existing heap to open instead (the default CMA heap under its name here), or null. */
  readonly instead: string | null;
  /** All of it as one line, for an error message: `no heap named …; the heaps are …; <reason>: open <instead> instead`. */
  readonly hint: string;
}

/** Explains why `heap` is not in /dev/dma_heap (see the module comment for what it knows). */
export function explainMissingHeap(heap: string, f: HeapNamingFacts): MissingHeapExplanation {
  const names = f.heaps;
  if (names === null) {
    const hint = 'there is no /dev/dma_heap here: the kernel has no DMA-BUF heaps (CONFIG_DMABUF_HEAPS), or this container was not given the devices; dmaheap doctor says which';
    return { heap, heaps: null, reason: hint, instead: null, hint };
  }
  const have = (n: string): boolean => names.includes(n);
  const v = kernelVersion(f.release);
  const release = f.release ?? 'unknown';
  const cma = f.cmdlineCma;
  const dt = f.dtCmaDefault;
  const expected = defaultCmaHeapNames(v, cma !== null ? null : dt);
  const present = expected.filter(have);
  const region = f.reservedMemory?.find((r) => r.name === heap) ?? null;
  const cmaFamily = DEFAULT_CMA_NAMES.includes(heap) || (dt !== null && heap === dt);
  let reason: string | null = null;
  let instead: string | null = null;
  let cmaNaming = false;

  if (cmaFamily) {
    cmaNaming = true;
    instead = present[0] ?? null;
    const since617 = atLeast(v, 6, 17) ? '' : ' (from Linux 6.17 its heap is default_cma_region)';
    if (expected.includes(heap) && (cma !== null || dt !== null)) {
      // the right name for this kernel's default area, and still no heap: the area is missing
      const origin = cma !== null ? `cma=${cma} on the kernel command line` : `the device tree's ${dt!}`;
      reason = `${heap} is the name of the default CMA area's heap here (${origin}), but there is no such heap: CONFIG_DMABUF_HEAPS_CMA is off, or the area could not be placed (dmesg | grep -i cma)`;
    } else if (heap === 'default_cma_region' && !atLeast(v, 6, 17)) {
      reason = `default_cma_region is the default CMA heap's name from Linux 6.17; this kernel (${release}) names it after its area, ${expected[0]!}`;
    } else if (cma !== null && dt !== null && heap === dt) {
      reason = `cma=${cma} on the kernel command line replaces the device tree's default CMA region ${dt} (${atLeast(v, 6, 19) ? 'Linux 6.19+ skips the region' : 'the kernel bypasses it'}), so there is no heap ${dt}; the default CMA area is the command-line one, named reserved${since617}`;
    } else if (cma !== null) {
      reason = `the default CMA area comes from cma=${cma} on the kernel command line and is named reserved, not ${heap}${since617}`;
    } else if (dt !== null) {
      reason = heap === 'reserved'
        ? `reserved is the name of a command-line (cma=) CMA area; here the default CMA area is the device tree's ${dt}${since617}`
        : `the device tree's default CMA region is ${dt}, so the default CMA heap is ${expected.join(' and ')}, not ${heap}`;
    } else if (names.some((n) => DEFAULT_CMA_NAMES.includes(n))) {
      reason = `the default CMA heap is called ${names.filter((n) => DEFAULT_CMA_NAMES.includes(n)).join(' and ')} here`;
      instead = names.find((n) => DEFAULT_CMA_NAMES.includes(n)) ?? null;
    } else {
      reason = 'there is no default CMA area: no cma= on the kernel command line and no linux,cma-default region in the device tree (add cma=64M to the command line for one)';
    }
    if (instead === null && (cma !== null || dt !== null) && !expected.includes(heap) && reason !== null && !reason.startsWith('there is no')) {
      reason += '; and no CMA heap exists at all: CONFIG_DMABUF_HEAPS_CMA is off, or the area could not be placed (dmesg | grep -i cma)';
    }
  } else if (region !== null && region.reusable && region.compatible.includes('shared-dma-pool')) {
    reason = atLeast(v, 6, 19)
      ? `${heap} is a reusable reserved-memory region but has no heap: CONFIG_DMABUF_HEAPS_CMA is off, or the area could not be placed (dmesg | grep -i cma)`
      : `${heap} is a reusable reserved-memory region: Linux makes a heap of every such region only from 6.19, and this kernel is ${release} (before, only the default CMA region has a heap)`;
  } else if (region !== null) {
    reason = `${heap} is a reserved-memory region that is not a CMA region (shared-dma-pool with reusable): no mainline kernel makes a heap of it`;
  } else {
    const k = lookupHeapName(heap);
    const since = k?.since === null || k?.since === undefined ? null : kernelVersion(k.since);
    if (k !== null && since !== null && v !== null && !atLeast(v, since[0], since[1])) {
      reason = `${k.pattern} heaps exist from Linux ${k.since!}; this kernel is ${release}`;
    }
  }
  const hint = `no heap named ${heap}; the heaps are ${names.length === 0 ? 'none' : names.join(', ')}${reason !== null ? `; ${reason}` : ''}${instead !== null ? `: open ${instead} instead` : ''}${cmaNaming ? '; dmaheap doctor explains the cma= naming' : ''}`;
  return { heap, heaps: names, reason, instead, hint };
}

/**
 * The error of a failed open of heap `heap`'s node: for ENOENT an {@link ErrnoError} whose message
 * says which heaps exist and why this one is missing ({@link explainMissingHeap}); any other
 * errno as it is. Called only after the open failed.
 */
export function heapOpenError(t: Pick<SyscallTarget, 'readdir' | 'readFile' | 'release'>, heap: string, path: string, errno: ErrnoName): ErrnoError {
  if (errno !== 'ENOENT') return new ErrnoError(errno, 'open', path);
  return new ErrnoError(errno, 'open', path, explainMissingHeap(heap, readHeapNamingFacts(t)).hint);
}
