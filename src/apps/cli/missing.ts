/**
 * The heaps an emulated machine asks for and does not get, and why, from its boot log: a `cma=`
 * (or CONFIG_CMA_SIZE_MBYTES) area that does not fit, a reserved-memory region the kernel
 * refused, a device-tree default CMA region that `cma=` replaces, a region whose heap needs a
 * newer kernel (per-region CMA heaps: 6.19; TEE protected heaps: 6.18), a coherent pool whose
 * heap could not register. Each with the log lines that say so and what to do.
 *
 * What asks for a heap: `cma=` with a size (the default CMA heap), a reusable shared-dma-pool
 * region (the default one: the default CMA heap; the others: a per-region heap from 6.19), a
 * shared-dma-pool without `reusable` when --features coherent is on, and the regions that
 * /firmware/optee names (protected,<use>). A disabled node asks for nothing.
 */
import type { Kernel } from '../../backends/emulated/index.js';
import type { HeapDescription } from '../../backends/emulated/index.js';
import { builtIn } from '../../kernel/kconfig.js';
import { formatPa, parseCmaParam, parseCmdline } from '../../kernel/mm/cmdline.js';
import type { ReservedRegion } from '../../kernel/of/reserved-mem.js';
import { isAvailable, propCells, propStrings } from '../../kernel/of/tree.js';
import { sizeText } from '../common/args.js';
import { fmtBytes } from '../common/format.js';

/** A heap the machine asks for and does not have. */
export interface MissingHeap {
  /** The names it would have on this kernel (the default CMA heap can have two). */
  readonly names: readonly string[];
  /** What asks for it: `cma=4G (the command line)`, `/reserved-memory/cma-video (a reusable shared-dma-pool, 256 MiB)`. */
  readonly wanted: string;
  /** Why there is none. */
  readonly reason: string;
  /** The kernel's log lines (and the emulator's notes) that say so; may be empty. */
  readonly log: readonly string[];
  /** What to do. */
  readonly next: string;
}

const TEE_USE_CASES = ['secure-video', 'trusted-ui', 'secure-video-record'];

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The kernel's names for the default CMA heap over an area called `area`, leaving out those that exist (over other memory). */
function defaultCmaNames(k: Kernel, area: string, heaps: readonly HeapDescription[] = []): string[] {
  const p = k.profile;
  const names = p.defaultCmaHeapName === 'area' ? [area] : p.cmaLegacyDuplicate || p.cmaHeapPerRegion ? ['default_cma_region', area] : ['default_cma_region'];
  const absent = names.filter((n) => !heaps.some((h) => h.name === n));
  return absent.length > 0 ? absent : names;
}

function regionWhat(r: ReservedRegion): string {
  const kind = r.compatible.includes('shared-dma-pool') ? `${r.reusable ? 'a reusable' : 'a non-reusable'} shared-dma-pool` : `a ${r.compatible.join(', ') || 'reserved-memory'} region`;
  return `${r.path} (${kind}${r.cmaDefault ? ', linux,cma-default' : ''}${r.size > 0 ? `, ${fmtBytes(r.size)}` : ''})`;
}

/** The log lines (dmesg and the emulator's notes) that name the region. */
function linesAbout(k: Kernel, r: ReservedRegion): string[] {
  const mentions = (l: string) => l.includes(`'${r.name}'`) || l.includes(` ${r.name} `) || l.includes(`${r.name} (`) || l.includes(r.path);
  return [...k.dmesg.filter(mentions), ...k.memoryPlan.diagnostics.filter(mentions).map((d) => `(emulator) ${d}`)];
}

/** What to do about a region the kernel refused, by its reason. */
function regionNext(r: ReservedRegion): string {
  const why = r.reason ?? '';
  if (why.startsWith('ENOMEM')) return 'make the region smaller, give it an alloc-ranges or reg where RAM is free, or give the board more RAM (its /memory node)';
  if (why.includes('reg')) return 'fix its reg: /reserved-memory\'s #address-cells and #size-cells say how many cells each number takes, and the range must lie in RAM';
  if (why.includes('size')) return 'fix its size property (as many cells as /reserved-memory\'s #size-cells)';
  if (why.includes('alignment')) return 'fix its alignment property (as many cells as /reserved-memory\'s #address-cells)';
  if (why.includes('alloc-ranges')) return 'fix its alloc-ranges (address and size pairs in /reserved-memory\'s cells)';
  if (why.includes('handler')) return 'a shared-dma-pool needs reg or size, and a reusable one must not be no-map (docs/device-tree.md)';
  return 'fix the node (docs/device-tree.md); the lines above are what the kernel says';
}

/**
 * Why the kernel configuration gives no CMA heap at all (docs/kconfig.md), or null: no heaps
 * framework, no CONFIG_DMA_CMA (no area: cma= and the CMA regions do nothing), or no CMA heap
 * driver (=m: a module the emulated kernel does not load).
 */
function cmaHeapOff(k: Kernel): { reason: string; next: string } | null {
  const b = k.build;
  if (!builtIn(b, 'DMABUF_HEAPS')) return { reason: 'the kernel is built without CONFIG_DMABUF_HEAPS: there are no heaps at all', next: 'a kernel with CONFIG_DMABUF_HEAPS=y and CONFIG_DMABUF_HEAPS_CMA=y (here: --kconfig DMABUF_HEAPS=y,DMABUF_HEAPS_CMA=y)' };
  if (!builtIn(b, 'DMA_CMA')) return { reason: `the kernel is built without CONFIG_DMA_CMA${builtIn(b, 'CMA') ? '' : ' (and CONFIG_CMA)'}: no CMA area, whatever cma= and the device tree say`, next: 'a kernel with CONFIG_CMA=y and CONFIG_DMA_CMA=y (here: --kconfig CMA=y,DMA_CMA=y)' };
  const v = b.values.get('DMABUF_HEAPS_CMA') ?? 'n';
  if (v !== 'y') {
    return v === 'm'
      ? { reason: 'the CMA heap is a module (CONFIG_DMABUF_HEAPS_CMA=m) that is not loaded: the CMA area exists, its heap does not', next: 'modprobe cma_heap on a real system (here: --kconfig DMABUF_HEAPS_CMA=y)' }
      : { reason: 'the kernel is built without CONFIG_DMABUF_HEAPS_CMA: the CMA area exists, but no heap over it', next: 'a kernel with CONFIG_DMABUF_HEAPS_CMA=y (here: --kconfig DMABUF_HEAPS_CMA=y)' };
  }
  return null;
}

/** The command-line (or Kconfig) CMA area, when one was asked for and not made. */
function cmdlineArea(k: Kernel, heaps: readonly HeapDescription[]): MissingHeap | null {
  const value = parseCmdline(k.cmdline).get('cma');
  const kconfig = value === undefined && k.cmaSizeMbytes > 0;
  if (value === undefined && !kconfig) return null;
  if (heaps.some((h) => h.kind === 'cma' && (h.region === null || h.region.path === null))) return null;
  const names = defaultCmaNames(k, 'reserved');
  const wanted = kconfig ? `CONFIG_CMA_SIZE_MBYTES=${k.cmaSizeMbytes} (the kernel configuration)` : `cma=${value} (the command line)`;
  const parsed = value === undefined ? { size: k.cmaSizeMbytes * 1024 * 1024, base: 0, limit: 0, fixed: false } : parseCmaParam(value);
  if ('error' in parsed) {
    return {
      names, wanted, reason: `the kernel cannot read "${value}" as a size: it takes it as cma=0, no area`,
      log: k.memoryPlan.diagnostics.filter((d) => d.startsWith('cma:')).map((d) => `(emulator) ${d}`),
      next: 'write cma=<size>[@<base>[-<limit>]] with a K, M or G suffix, e.g. cma=64M',
    };
  }
  if (parsed.size === 0) return null; // cma=0: no area, as asked
  const off = cmaHeapOff(k);
  if (off !== null) return { names, wanted, reason: off.reason, log: [], next: off.next };
  const log = k.dmesg.filter((l) => l.startsWith('cma: ') && !l.startsWith('cma: Reserved '));
  const size = fmtBytes(parsed.size);
  const limit = log.map((l) => /exceeds limit \((0x[0-9a-f]+)\)/.exec(l)?.[1]).find((x) => x !== undefined);
  if (limit !== undefined) {
    const end = Number(limit);
    if (parsed.base !== 0 && parsed.base >= end) {
      return { names, wanted, reason: `${size} at ${hex(parsed.base)} lies beyond ${hex(end)}, the end of RAM (or of the memory CMA may use)`, log, next: `place it below ${hex(end)} (cma=${sizeText(parsed.size)}@<base> with base + size ≤ ${hex(end)}), or leave out @base` };
    }
    return { names, wanted, reason: `${size}${parsed.base !== 0 ? ` from ${hex(parsed.base)}` : ''} does not fit below ${hex(end)} (${fmtBytes(end)}: the end of RAM, or of the memory CMA may use)`, log, next: `ask for less (a CMA area usually takes at most a quarter of RAM), or give the machine more RAM (--ram)` };
  }
  const align = log.map((l) => /must be aligned to (0x[0-9a-f]+) bytes/.exec(l)?.[1]).find((x) => x !== undefined);
  if (align !== undefined) {
    const a = Number(align);
    return { names, wanted, reason: `its base ${hex(parsed.base)} is not aligned to ${fmtBytes(a)} (the CMA area alignment)`, log, next: `use a base aligned to ${fmtBytes(a)}, e.g. cma=${sizeText(parsed.size)}@${hex(alignUp(parsed.base, a))}` };
  }
  if (log.some((l) => l.startsWith('cma: Failed to reserve'))) {
    return {
      names, wanted,
      reason: parsed.fixed ? `the range ${formatPa(parsed.base)} + ${size} is not free (the kernel image or another reservation is there)` : `no free ${size} range in RAM (${fmtBytes(k.ramBytes)}) besides the kernel and the other reservations`,
      log, next: parsed.fixed ? 'choose a free base (the boot log lists the reservations), or leave out @base' : 'ask for less, or give the machine more RAM (--ram)',
    };
  }
  const slots = k.dmesg.filter((l) => l.includes('Not enough slots for CMA'));
  return { names, wanted, reason: slots.length > 0 ? 'every CMA area slot (CONFIG_CMA_AREAS) is taken' : 'the kernel made no command-line CMA area', log: [...log, ...slots], next: slots.length > 0 ? 'fewer reusable regions on the board' : 'see the boot log (heaps --json: log)' };
}

/**
 * The heaps this booted machine asks for and does not have (see the module comment), in boot
 * order: the command-line area, then the reserved-memory regions, then the TEE's heaps.
 */
export function missingHeaps(k: Kernel, heaps: readonly HeapDescription[]): MissingHeap[] {
  const out: MissingHeap[] = [];
  const cmd = cmdlineArea(k, heaps);
  if (cmd !== null) out.push(cmd);
  const cmaParam = parseCmdline(k.cmdline).get('cma');
  const has = (r: ReservedRegion) => heaps.some((h) => h.region?.path === r.path);
  const p = k.profile;
  for (const r of k.memoryPlan.regions) {
    if (r.reason === 'disabled (status)' || !r.compatible.includes('shared-dma-pool') || has(r)) continue;
    const cma = r.reusable || r.cmaDefault;
    const coherent = !cma && k.features.coherentHeap !== false;
    if (!cma && !coherent) continue;
    const wanted = regionWhat(r);
    const log = linesAbout(k, r);
    if (cma && r.cmaDefault && cmaParam !== undefined) {
      const parsed = parseCmaParam(cmaParam);
      const none = 'error' in parsed || parsed.size === 0;
      out.push({
        names: defaultCmaNames(k, r.name, heaps), wanted,
        reason: `cma=${cmaParam} on the command line replaces the device tree's default CMA region${p.cmaHeapPerRegion ? ' (the region is not even reserved)' : ''}; ${none ? 'and with a size of 0 there is no default CMA area at all' : 'the default CMA heap is the command-line area'}`,
        log, next: `to get ${r.name} back, remove cma= from the command line (the board's bootargs, or --cmdline); code that opens /dev/dma_heap/${r.name} should fall back to default_cma_region, then reserved (dmaheap doctor explains the cma= naming)`,
      });
      continue;
    }
    const off = cma ? cmaHeapOff(k) : null;
    if (off !== null) {
      out.push({ names: r.cmaDefault ? defaultCmaNames(k, r.name) : [r.name], wanted, reason: off.reason, log, next: off.next });
      continue;
    }
    if (r.status !== 'ok') {
      out.push({ names: cma && r.cmaDefault ? defaultCmaNames(k, r.name) : [r.name], wanted, reason: `the kernel ${r.status === 'failed' ? 'refused' : 'skipped'} the region: ${r.reason ?? 'see the log'}`, log, next: regionNext(r) });
      continue;
    }
    if (cma && !r.cmaDefault && !p.cmaHeapPerRegion) {
      out.push({
        names: [r.name], wanted,
        reason: `Linux ${p.release} makes a CMA heap only for the default CMA area; per-region CMA heaps arrive in 6.19 (the region is a CMA area for the devices that name it in memory-region)`,
        log: [], next: 'see its heap with --profile 6.19; on an older kernel, make it the default region (linux,cma-default) or give it a vendor heap driver',
      });
      continue;
    }
    const area = k.memoryPlan.cmaAreas.some((a) => a.regionPath === r.path);
    out.push({
      names: cma && r.cmaDefault ? defaultCmaNames(k, r.name) : [r.name], wanted,
      reason: cma && !area ? 'the kernel made no CMA area for it' : 'the heap did not register',
      log: [...log, ...k.dmesg.filter((l) => l.includes('Not enough slots for CMA') || l.includes(`heap ${r.name}`))],
      next: log.some((l) => l.includes('OVERLAP')) ? 'make the regions not overlap' : 'see the log lines above',
    });
  }
  out.push(...teeHeaps(k, heaps));
  return out;
}

/** The protected,<use> heaps /firmware/optee asks for (6.18+). */
function teeHeaps(k: Kernel, heaps: readonly HeapDescription[]): MissingHeap[] {
  const optee = k.board?.find('/firmware/optee') ?? null;
  if (optee === null || !isAvailable(optee) || !(propStrings(optee, 'compatible') ?? []).includes('linaro,optee-tz')) return [];
  const names = propStrings(optee, 'memory-region-names') ?? [];
  const out: MissingHeap[] = [];
  (propCells(optee, 'memory-region') ?? []).forEach((ph, i) => {
    const r = k.memoryPlan.regions.find((x) => x.phandle === ph);
    const use = names[i] ?? TEE_USE_CASES[i];
    if (r === undefined || use === undefined) return;
    if (heaps.some((h) => h.kind === 'protected' && h.region?.path === r.path)) return;
    const wanted = `/firmware/optee memory-region ${i} (${r.path}, ${use})`;
    if (!k.profile.teeProtectedHeaps) {
      out.push({ names: [`protected,${use}`], wanted, reason: `Linux ${k.profile.release} has no TEE protected heaps; they arrive in 6.18`, log: [], next: 'see it with --profile 6.18 or later' });
    } else {
      out.push({ names: [`protected,${use}`], wanted, reason: `the kernel ${r.status === 'ok' ? 'made no pool of' : 'refused'} the region${r.reason !== undefined ? `: ${r.reason}` : ''}`, log: linesAbout(k, r), next: regionNext(r) });
    }
  });
  return out;
}

/** The text under `dmaheap heaps`' table. */
export function missingText(missing: readonly MissingHeap[]): string[] {
  if (missing.length === 0) return [];
  const out = ['', 'Missing (asked for, but the kernel made no heap):'];
  for (const m of missing) {
    out.push(`  ${m.names.join(' and ')}: asked for by ${m.wanted}`);
    out.push(`    why:  ${m.reason}`);
    for (const l of m.log) out.push(`          ${l}`);
    out.push(`    next: ${m.next}`);
  }
  return out;
}
