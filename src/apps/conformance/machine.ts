/**
 * The machine's facts for conformance cases: what a case may name instead of a number or a
 * heap name that holds on one machine only (docs/conformance.md, "Machine facts"). They are read
 * through the target's system calls, the same way on every backend: the page size and the
 * architecture from the target, `/proc/meminfo`, the CMA areas of `/sys/kernel/mm/cma` (or
 * debugfs `cma/`), the device tree's `linux,cma-default` region, debugfs `cma/<area>/count`,
 * and the heaps of `/dev/dma_heap` with what heap-knowledge.ts infers about each.
 *
 * A fact the machine does not have (no CMA area, debugfs not readable) is listed in `missing`
 * with the reason; a case that uses it is skipped with that reason (runner.ts).
 */
import { cmaAreaDirs, inferHeapProperties, readSystemFacts } from '../../api/heap-knowledge.js';
import type { SyscallTarget } from '../../api/target.js';
import type { Scalar } from './expr.js';

/** One machine fact: its name in expressions and `${...}`, and what it is. */
export interface MachineFactSpec {
  readonly name: string;
  /** `number`: usable in expressions; `text`: in `${...}` (and as a heap name: `"heap": "${cma_heap}"`). */
  readonly type: 'number' | 'text';
  readonly help: string;
}

/**
 * The machine facts besides `PAGE_SIZE` and `PAGE_SHIFT` (constants of every expression,
 * expr.ts), in the order docs/conformance.md lists them. Names are reserved: no step may store a
 * result under one.
 */
export const MACHINE_FACTS: readonly MachineFactSpec[] = Object.freeze([
  { name: 'ARCH', type: 'text', help: 'the architecture: x86_64 or arm64 (uname -m, as the kernel names it)' },
  { name: 'MEM_TOTAL', type: 'number', help: 'bytes of RAM the kernel manages: /proc/meminfo MemTotal' },
  { name: 'CMA_TOTAL', type: 'number', help: 'bytes in all CMA areas: /proc/meminfo CmaTotal (missing without CONFIG_CMA)' },
  { name: 'cma_area', type: 'text', help: 'the default CMA area\'s name, its directory in /sys/kernel/mm/cma and /sys/kernel/debug/cma: reserved for cma= or the Kconfig size, else the device tree\'s linux,cma-default region (linux,cma on most boards)' },
  { name: 'cma_debugfs', type: 'text', help: 'the default CMA area\'s directory in /sys/kernel/debug/cma: cma_area from 6.0, `cma-<cma_area>` cut to 15 characters before (cma-reserved on 5.10)' },
  { name: 'CMA_SIZE', type: 'number', help: 'bytes in the default CMA area: debugfs cma/<cma_area>/count (or sysfs total_pages) times PAGE_SIZE' },
  { name: 'cma_heap', type: 'text', help: 'the default CMA area\'s heap: default_cma_region from 6.17, else the heap named after cma_area' },
]);

/** The names of {@link MACHINE_FACTS}. */
export const MACHINE_FACT_NAMES: ReadonlySet<string> = new Set(MACHINE_FACTS.map((f) => f.name));

/** Facts whose value is a heap name: a case's `heap` may be `"${<one of them>}"`. */
export const HEAP_FACTS: ReadonlySet<string> = new Set(['cma_heap']);

/** What a case may require of its heap (`"requires": {"heap": [...]}`). */
export const HEAP_TRAITS = ['mappable', 'contiguous', 'cma'] as const;
export type HeapTrait = (typeof HEAP_TRAITS)[number];

/** What is known of one heap: each trait and, when false, why. */
export interface HeapTraits {
  readonly mappable: boolean;
  readonly contiguous: boolean;
  readonly cma: boolean;
  /** Why a trait is false, for the SKIP line. */
  readonly why: Readonly<Partial<Record<HeapTrait, string>>>;
}

export interface MachineFacts {
  /** Every known fact by name (MACHINE_FACTS, without PAGE_SIZE and PAGE_SHIFT). */
  readonly values: ReadonlyMap<string, Scalar>;
  /** Facts this machine does not have, with the reason. */
  readonly missing: ReadonlyMap<string, string>;
  /** Per heap of /dev/dma_heap. */
  readonly heaps: ReadonlyMap<string, HeapTraits>;
}

/** Bytes of a `/proc/meminfo` line (`MemTotal:  2049236 kB`); null when absent. */
function meminfoBytes(text: string | null, key: string): number | null {
  if (text === null) return null;
  const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
  return m === null ? null : Number(m[1]) * 1024;
}

/** A whole-number text file (`"16384\n"`); null when missing or not a number. */
function numberFile(t: SyscallTarget, path: string): number | null {
  const s = t.readFile(path).text;
  return s === null || !/^\s*\d{1,15}\s*$/.test(s) ? null : Number(s.trim());
}

/**
 * The default CMA area (kernel/dma/contiguous.c `dma_contiguous_default_area`): the cmdline or
 * Kconfig area is named `reserved` and wins whenever it exists (`cma=` bypasses a device-tree
 * default, rmem_cma_setup); else the reserved-memory region with `linux,cma-default`; else, when
 * there is one area only, that one.
 */
function defaultCmaArea(t: SyscallTarget, areas: readonly string[]): string | null {
  if (areas.includes('reserved')) return 'reserved';
  for (const a of areas) {
    const props = t.readdir(`/sys/firmware/devicetree/base/reserved-memory/${a}`).names;
    if (props?.includes('linux,cma-default') === true) return a;
  }
  return areas.length === 1 ? (areas[0] ?? null) : null;
}

/** Reads the machine's facts through `t` (a fresh target: it opens and closes a few files). */
export function readMachineFacts(t: SyscallTarget): MachineFacts {
  const values = new Map<string, Scalar>();
  const missing = new Map<string, string>();
  values.set('ARCH', t.arch);
  const meminfo = t.readFile('/proc/meminfo').text;
  const mem = meminfoBytes(meminfo, 'MemTotal');
  if (mem !== null) values.set('MEM_TOTAL', mem);
  else missing.set('MEM_TOTAL', '/proc/meminfo has no MemTotal line');
  const cmaTotal = meminfoBytes(meminfo, 'CmaTotal');
  if (cmaTotal !== null) values.set('CMA_TOTAL', cmaTotal);
  else missing.set('CMA_TOTAL', '/proc/meminfo has no CmaTotal line (a kernel without CONFIG_CMA)');

  const heapNames = t.listHeaps();
  const dirs = cmaAreaDirs(t.readdir('/sys/kernel/mm/cma').names, t.readdir('/sys/kernel/debug/cma').names, t.release);
  const areas = dirs === null ? null : dirs.map((d) => d.name);
  const area = areas === null ? null : defaultCmaArea(t, areas);
  if (areas === null) {
    for (const f of ['cma_area', 'cma_debugfs', 'CMA_SIZE', 'cma_heap']) missing.set(f, 'neither /sys/kernel/mm/cma nor /sys/kernel/debug/cma can be listed');
  } else if (area === null) {
    const why = areas.length === 0 ? 'the machine has no CMA area' : `no default CMA area among ${areas.join(', ')} (no cma=, no linux,cma-default region)`;
    for (const f of ['cma_area', 'cma_debugfs', 'CMA_SIZE', 'cma_heap']) missing.set(f, why);
  } else {
    values.set('cma_area', area);
    const dir = dirs?.find((d) => d.name === area)?.debugfsDir ?? area;
    values.set('cma_debugfs', dir);
    const pages = numberFile(t, `/sys/kernel/debug/cma/${dir}/count`) ?? numberFile(t, `/sys/kernel/mm/cma/${area}/total_pages`);
    if (pages !== null) values.set('CMA_SIZE', pages * t.pageSize);
    else if (areas.length === 1 && cmaTotal !== null) values.set('CMA_SIZE', cmaTotal);
    else missing.set('CMA_SIZE', `neither /sys/kernel/debug/cma/${dir}/count nor /sys/kernel/mm/cma/${area}/total_pages can be read`);
    const heap = heapNames.includes('default_cma_region') ? 'default_cma_region' : heapNames.includes(area) ? area : null;
    if (heap !== null) values.set('cma_heap', heap);
    else missing.set('cma_heap', `no heap for the default CMA area ${area} in /dev/dma_heap (CONFIG_DMABUF_HEAPS_CMA off?)`);
  }

  const sys = readSystemFacts(t);
  const heaps = new Map<string, HeapTraits>();
  for (const name of heapNames) {
    const p = inferHeapProperties(name, sys, heapNames);
    const why: Partial<Record<HeapTrait, string>> = {};
    const prot = p.protected?.value === true;
    const nomap = p.region?.value.nomap === true;
    if (prot) why.mappable = `protected memory, no CPU access (${p.protected?.reason ?? ''})`;
    else if (nomap) why.mappable = 'its pool is no-map: no CPU mapping';
    const contiguous = p.contiguous?.value === true;
    if (!contiguous) why.contiguous = p.contiguous === null ? 'not known to be physically contiguous' : `not physically contiguous (${p.contiguous.reason})`;
    const cma = p.kind?.value === 'cma';
    if (!cma) why.cma = p.kind === null ? 'not known to be a CMA heap' : `a ${p.kind.value} heap, not a CMA one`;
    heaps.set(name, { mappable: !prot && !nomap, contiguous, cma, why });
  }
  return { values, missing, heaps };
}
