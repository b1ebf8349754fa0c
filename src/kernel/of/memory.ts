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
