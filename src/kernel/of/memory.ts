/**
 * RAM as the flattened device tree describes it: the root's cell sizes and the `/memory` nodes
 * (spec §5.4 "RAM ranges").
 *
 * @kernel drivers/of/fdt.c early_init_dt_scan_root(), early_init_dt_scan_memory(),
 *         early_init_dt_add_memory_arch()
 */
import { isAvailable, prop, propCells, propString } from './tree.js';
import type { DeviceTree, DtNode } from './tree.js';
import type { PhysRange } from './memblock.js';

/** dt_root_addr_cells / dt_root_size_cells. */
export interface RootCells {
  readonly addr: number;
  readonly size: number;
}

/**
 * drivers/of/fdt.c early_init_dt_scan_root(): the root's #address-cells and #size-cells, each
 * defaulting to 1 (OF_ROOT_NODE_ADDR_CELLS_DEFAULT, OF_ROOT_NODE_SIZE_CELLS_DEFAULT; not the
 * 2/1 of of_n_addr_cells()). The kernel reads the first cell of the property whatever its length.
 */
export function rootCells(tree: DeviceTree): RootCells {
  const first = (name: string): number | null => {
    const p = prop(tree.root, name);
    if (p === null || p.value.length < 4) return null;
    return ((p.value[0]! << 24) | (p.value[1]! << 16) | (p.value[2]! << 8) | p.value[3]!) >>> 0;
  };
  return { addr: first('#address-cells') ?? 1, size: first('#size-cells') ?? 1 };
}

const U64 = (1n << 64n) - 1n;

/**
 * drivers/of/fdt.c dt_mem_next_cell() → include/linux/of.h of_read_number(): `count` big-endian
 * cells as one u64 (cells beyond two shift the high ones out, as the u64 arithmetic does).
 * The result is a JS number: exact below 2^53.
 */
export function readCells(cells: readonly number[], start: number, count: number): number {
  let v = 0n;
  for (let i = 0; i < count; i++) v = ((v << 32n) | BigInt(cells[start + i] ?? 0)) & U64;
  return Number(v);
}

/** A property's raw length in bytes, or null when absent. */
export function propLength(n: DtNode, name: string): number | null {
  const p = prop(n, name);
  return p === null ? null : p.value.length;
}

/**
 * A property as (address, size) tuples of the root's cell sizes. `trailing` is the number of
 * bytes left over after the last whole tuple (the kernel's loops ignore them or reject the
 * property, depending on the caller).
 */
export function addrSizeTuples(n: DtNode, name: string, cells: RootCells): { tuples: PhysRange[]; trailing: number } | null {
  const p = prop(n, name);
  if (p === null) return null;
  const tupleBytes = (cells.addr + cells.size) * 4;
  const words = propCells(n, name) ?? wordsOf(p.value);
  const tuples: PhysRange[] = [];
  if (tupleBytes === 0) return { tuples, trailing: p.value.length };
  const count = Math.floor(p.value.length / tupleBytes);
  const step = cells.addr + cells.size;
  for (let i = 0; i < count; i++) {
    tuples.push({ base: readCells(words, i * step, cells.addr), size: readCells(words, i * step + cells.addr, cells.size) });
  }
  return { tuples, trailing: p.value.length - count * tupleBytes };
}

/** Big-endian words of a value whose length is not a multiple of 4 (the tail is dropped). */
function wordsOf(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length; i += 4) out.push(((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
  return out;
}

const hex = (v: number): string => '0x' + v.toString(16);

/** Result of scanning the `/memory` nodes. */
export interface MemoryScan {
  /** The ranges given to memblock_add(), in scan order (after page alignment). */
  readonly added: PhysRange[];
  /** printk lines. */
  readonly log: string[];
  /** Number of `device_type = "memory"` nodes that were looked at (enabled or not). */
  readonly memoryNodes: number;
}

/**
 * drivers/of/fdt.c early_init_dt_add_memory_arch(): page-align the block (a block smaller than
 * what is left of its first page is ignored: "OF: fdt: Ignoring memory block …"), then
 * memblock_add(). MIN_MEMBLOCK_ADDR is taken as 0 and MAX_MEMBLOCK_ADDR as ~0 (64-bit
 * phys_addr_t), so the other "Ignoring memory range" cases cannot arise here.
 */
export function addMemoryArch(base: number, size: number, pageSize: number, log: string[]): PhysRange | null {
  const off = base % pageSize;
  if (size < pageSize - off) {
    log.push(`OF: fdt: Ignoring memory block ${hex(base)} - ${hex(base + size)}`);
    return null;
  }
  let b = base;
  let s = size;
  if (off !== 0) {
    s -= pageSize - off;
    b = base - off + pageSize;
  }
  s -= s % pageSize;
  return { base: b, size: s };
}

/**
 * drivers/of/fdt.c early_init_dt_scan_memory(): every child of the root (not deeper) whose
 * `device_type` is "memory" and that is available (of_fdt_device_is_available(): no `status`, or
 * "okay"/"ok"; a disabled node is skipped); its `linux,usable-memory` if present, else `reg`,
 * read as (address, size) tuples of the root's cell sizes while at least one whole tuple is left;
 * a tuple of size 0 is skipped; each one goes through early_init_dt_add_memory_arch().
 */
export function scanMemoryNodes(tree: DeviceTree, cells: RootCells, pageSize: number): MemoryScan {
  const added: PhysRange[] = [];
  const log: string[] = [];
  let memoryNodes = 0;
  for (const node of tree.root.children) {
    if (propString(node, 'device_type') !== 'memory') continue;
    memoryNodes++;
    if (!isAvailable(node)) continue;
    const t = addrSizeTuples(node, 'linux,usable-memory', cells) ?? addrSizeTuples(node, 'reg', cells);
    if (t === null) continue;
    for (const r of t.tuples) {
      if (r.size === 0) continue;
      const a = addMemoryArch(r.base, r.size, pageSize, log);
      // memblock_add() of an empty range adds nothing.
      if (a !== null && a.size > 0) added.push(a);
    }
  }
  return { added, log, memoryNodes };
}

/**
 * The physical memory the emulated kernel can map, per architecture (the machine model; see
 * docs/device-tree.md "Physical address limits"):
 *
 * - x86-64 with 4-level paging (the oracle's 6.1 kernel has no CONFIG_X86_5LEVEL, and a CPU
 *   without LA57 runs 4-level even when it has): MAX_PHYSMEM_BITS = 46, so MAXMEM = 64 TiB and
 *   max_arch_pfn = 2^34 with 4 KiB pages (arch/x86/include/asm/pgtable_64_types.h,
 *   arch/x86/include/asm/page_64_types.h MAXMEM).
 * - arm64 as the arm64 oracle (7.3, a Cortex-A57 guest): CONFIG_ARM64_PA_BITS = 52
 *   (PHYS_MASK_SHIFT), and a 48-bit kernel VA at run time (vabits_actual: VA_BITS 48, or 52 on a
 *   CPU without LVA/LPA2), so the linear map covers 2^47 bytes = 128 TiB.
 *   ARM64_MEMSTART_ALIGN: 1 GiB with 4 KiB and 16 KiB pages (PUD_SHIFT, CONT_PMD_SHIFT), 512 MiB
 *   with 64 KiB pages (PMD_SHIFT = SECTION_SIZE_BITS = 29).
 *
 * @kernel arch/arm64/include/asm/kernel-pgtable.h ARM64_MEMSTART_ALIGN
 */
export const PHYS_LIMITS = {
  x86_64: { maxPhysmemBits: 46 },
  arm64: { physMaskShift: 52, vaBitsActual: 48 },
} as const;

/** arch/arm64/include/asm/kernel-pgtable.h ARM64_MEMSTART_ALIGN for a page size. */
export function arm64MemstartAlign(pageSize: number): number {
  return pageSize === 65536 ? 2 ** 29 : 2 ** 30;
}

/** What {@link clampPhysMemory} needs of memblock. */
export interface PhysClampMemblock {
  startOfDram(): number;
  endOfDram(): number;
  removeMemory(base: number, size: number): void;
  snapshot(): { memory: PhysRange[] };
}

const sizeText = (n: number): string => {
  for (const [u, s] of [['PiB', 2 ** 50], ['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20]] as const) if (n >= s && n % s === 0) return `${n / s} ${u}`;
  return `${n} bytes`;
};

/**
 * arch/x86/kernel/e820.c e820_end_pfn(limit_pfn, E820_TYPE_RAM): the end of the highest RAM page
 * frame below `limitPfn`, capped at it (a range that starts at or above the limit is skipped).
 */
function e820EndPfn(ranges: readonly PhysRange[], pageSize: number, limitPfn: number): number {
  let last = 0;
  for (const r of ranges) {
    if (Math.floor(r.base / pageSize) >= limitPfn) continue;
    last = Math.max(last, Math.min(limitPfn, Math.floor((r.base + r.size) / pageSize)));
  }
  return last;
}

/**
 * The architecture's limit on usable physical memory, applied to memblock.memory right after the
 * memory scan, with the kernel's log line and an emulator note for what was dropped:
 *
 * - arm64 arm64_memblock_init(): memblock_remove() of everything at or above 1 << PHYS_MASK_SHIFT;
 *   memstart_addr = round_down(start of DRAM, ARM64_MEMSTART_ALIGN); when the end of DRAM is more
 *   than the linear region above it, "Memory doesn't fit in the linear mapping, VA_BITS too
 *   small" (pr_warn, no prefix) and memblock_remove() of everything above memstart_addr + the
 *   linear region size (the kernel image's position, which can keep more, is not modelled).
 * - x86-64 e820__end_of_ram_pfn() → e820_end_pfn(): the highest RAM page frame, capped at
 *   max_arch_pfn (MAXMEM >> PAGE_SHIFT), printed as "last_pfn = %#lx max_arch_pfn = %#lx" (no
 *   prefix, as the 6.1 oracle prints it), and with RAM past 4 GiB a second time for max_low_pfn
 *   (e820__end_of_low_ram_pfn(), capped at 4 GiB). RAM above max_pfn never reaches the page allocator
 *   (mm/memblock.c __free_memory_core() stops at max_low_pfn); here it is removed from memblock
 *   instead, which is the same for the page allocator and keeps later memblock allocations below
 *   it as x86's memblock_set_current_limit() does.
 *
 * The emulator's PFNs and addresses are JS numbers, exact below 2^53: both limits are far below.
 */
export function clampPhysMemory(mb: PhysClampMemblock, arch: 'x86_64' | 'arm64', pageSize: number, log: string[], diagnostics: string[]): void {
  const total = (): number => mb.snapshot().memory.reduce((n, r) => n + r.size, 0);
  const before = mb.snapshot().memory;
  const had = total();
  const note = (rule: string): void => {
    const kept = total();
    if (kept < had) diagnostics.push(`${sizeText(had - kept)} of the ${sizeText(had)} of RAM is not used: ${rule} (${sizeText(kept)} left)`);
  };
  if (arch === 'arm64') {
    const { physMaskShift, vaBitsActual } = PHYS_LIMITS.arm64;
    const linear = 2 ** (vaBitsActual - 1);
    const rule = `arm64_memblock_init() removes RAM at or above 2^${physMaskShift} (PHYS_MASK_SHIFT) and beyond the ${sizeText(linear)} linear map of a ${vaBitsActual}-bit kernel VA`;
    mb.removeMemory(2 ** physMaskShift, Infinity);
    if (mb.endOfDram() > 0) {
      const align = arm64MemstartAlign(pageSize);
      const memstart = Math.floor(mb.startOfDram() / align) * align;
      if (mb.endOfDram() - memstart > linear) log.push("Memory doesn't fit in the linear mapping, VA_BITS too small");
      mb.removeMemory(memstart + linear, Infinity);
    }
    note(rule);
    return;
  }
  const shift = Math.log2(pageSize);
  const maxArchPfn = 2 ** (PHYS_LIMITS.x86_64.maxPhysmemBits - shift);
  const line = (pfn: number): string => `last_pfn = ${pfn === 0 ? '0' : '0x' + pfn.toString(16)} max_arch_pfn = 0x${maxArchPfn.toString(16)}`;
  const lastPfn = e820EndPfn(before, pageSize, maxArchPfn);
  log.push(line(lastPfn));
  // setup_arch(): with RAM past 4 GiB, max_low_pfn = e820__end_of_low_ram_pfn(), the same walk
  // capped at 4 GiB, printed the same way (the 6.1 referee with 4 GiB: 0x140000, then 0xbffe0)
  const lowLimit = 2 ** (32 - shift);
  if (lastPfn > lowLimit) log.push(line(e820EndPfn(before, pageSize, lowLimit)));
  mb.removeMemory(maxArchPfn * pageSize, Infinity);
  note(`x86-64 with 4-level paging maps physical addresses below ${sizeText(2 ** PHYS_LIMITS.x86_64.maxPhysmemBits)} (MAX_PHYSMEM_BITS ${PHYS_LIMITS.x86_64.maxPhysmemBits}; max_pfn is capped at max_arch_pfn)`);
}
