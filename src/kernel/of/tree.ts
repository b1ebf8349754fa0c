/**
 * The device tree as the kernel sees it after unflattening: nodes with ordered properties whose
 * values are raw big-endian bytes, as in an FDT. Both front ends (the DTS parser and the FDT
 * reader) produce this, and reserved-memory/memory/device code reads it.
 *
 * @kernel drivers/of/base.c, include/linux/of.h (struct device_node, struct property)
 */

/** Where something came from in a DTS source (for error messages and lint). */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface DtProperty {
  readonly name: string;
  /** The value bytes (big-endian cells, NUL-terminated strings), empty for a boolean property. */
  value: Uint8Array;
  /** Labels attached to the property in the source (`lbl: prop = ...`). */
  readonly labels: string[];
  loc: SourceLoc | null;
}

export interface DtNode {
  /** Full node name with unit address (`memory@40000000`); '' for the root. */
  name: string;
  readonly props: DtProperty[];
  readonly children: DtNode[];
  readonly labels: string[];
  parent: DtNode | null;
  loc: SourceLoc | null;
}

/** A /memreserve/ entry (address and size in bytes). */
export interface MemReserve {
  readonly address: number;
  readonly size: number;
}

export function newNode(name: string, parent: DtNode | null, loc: SourceLoc | null = null): DtNode {
  return { name, props: [], children: [], labels: [], parent, loc };
}

export class DeviceTree {
  constructor(
    readonly root: DtNode,
    readonly memreserve: MemReserve[] = [],
    /** FDT header fields when read from a blob (boot_cpuid_phys), else 0. */
    readonly bootCpuidPhys = 0,
  ) {}

  /** of_find_node_by_path(): `/a/b@1` (unit address optional when unique), or null. */
  find(path: string): DtNode | null {
    if (!path.startsWith('/')) return null;
    let node: DtNode = this.root;
    for (const part of path.split('/').filter((p) => p !== '')) {
      const next: DtNode | undefined = node.children.find((c) => c.name === part) ?? (part.includes('@') ? undefined : node.children.find((c) => baseName(c.name) === part));
      if (next === undefined) return null;
      node = next;
    }
    return node;
  }

  /** The node with `phandle` (or `linux,phandle`) equal to `ph`, or null. */
  byPhandle(ph: number): DtNode | null {
    const walk = (n: DtNode): DtNode | null => {
      const p = prop(n, 'phandle') ?? prop(n, 'linux,phandle');
      if (p !== null && p.value.length === 4 && u32(p.value, 0) === ph) return n;
      for (const c of n.children) {
        const r = walk(c);
        if (r !== null) return r;
      }
      return null;
    };
    return walk(this.root);
  }

  /** Every node, depth first, root first. */
  *nodes(): Generator<DtNode> {
    const stack: DtNode[] = [this.root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      yield n;
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
  }
}

/** The node's path (`/reserved-memory/linux,cma`). */
export function nodePath(n: DtNode): string {
  const parts: string[] = [];
  for (let c: DtNode | null = n; c !== null && c.parent !== null; c = c.parent) parts.unshift(c.name);
  return '/' + parts.join('/');
}

/** The name without its unit address (of_node_name_eq / kbasename semantics). */
export function baseName(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

/** The unit address part (`40000000` of `memory@40000000`), or null. */
export function unitAddress(name: string): string | null {
  const at = name.indexOf('@');
  return at < 0 ? null : name.slice(at + 1);
}

export function prop(n: DtNode, name: string): DtProperty | null {
  return n.props.find((p) => p.name === name) ?? null;
}

export function hasProp(n: DtNode, name: string): boolean {
  return prop(n, name) !== null;
}

export function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** A property's value as 32-bit cells, or null when absent or not a multiple of 4 bytes. */
export function propCells(n: DtNode, name: string): number[] | null {
  const p = prop(n, name);
  if (p === null || p.value.length % 4 !== 0) return null;
  const out: number[] = [];
  for (let i = 0; i < p.value.length; i += 4) out.push(u32(p.value, i));
  return out;
}

/** of_read_number(): `count` cells from `cells[start]` as one number (exact below 2^53). */
export function readNumber(cells: readonly number[], start: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) v = v * 0x100000000 + (cells[start + i] ?? 0);
  return v;
}

/** A string property (first string), or null. */
export function propString(n: DtNode, name: string): string | null {
  return propStrings(n, name)?.[0] ?? null;
}

/** A string-list property (`compatible`), or null. */
export function propStrings(n: DtNode, name: string): string[] | null {
  const p = prop(n, name);
  if (p === null) return null;
  const out: string[] = [];
  let cur = '';
  for (const b of p.value) {
    if (b === 0) {
      out.push(cur);
      cur = '';
    } else cur += String.fromCharCode(b);
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** of_device_is_available(): no `status`, or "okay"/"ok". */
export function isAvailable(n: DtNode): boolean {
  const s = propString(n, 'status');
  return s === null || s === 'okay' || s === 'ok';
}

/** #address-cells / #size-cells of a node's children (defaults 2 and 1, as of_n_addr_cells does). */
export function addrCells(n: DtNode): number {
  return propCells(n, '#address-cells')?.[0] ?? 2;
}
export function sizeCells(n: DtNode): number {
  return propCells(n, '#size-cells')?.[0] ?? 1;
}

/** Sets (or replaces) a property, keeping its position. */
export function setProp(n: DtNode, name: string, value: Uint8Array, loc: SourceLoc | null = null): DtProperty {
  const p = prop(n, name);
  if (p !== null) {
    p.value = value;
    p.loc = loc ?? p.loc;
    return p;
  }
  const np: DtProperty = { name, value, labels: [], loc };
  n.props.push(np);
  return np;
}

/** Big-endian cells as bytes. */
export function cellsBytes(cells: readonly number[]): Uint8Array {
  const b = new Uint8Array(cells.length * 4);
  cells.forEach((c, i) => {
    b[i * 4] = (c >>> 24) & 0xff;
    b[i * 4 + 1] = (c >>> 16) & 0xff;
    b[i * 4 + 2] = (c >>> 8) & 0xff;
    b[i * 4 + 3] = c & 0xff;
  });
  return b;
}

/**
 * A canonical listing of a tree, for comparisons and dumps: one line per node (`/a/b@1`) and one
 * per property (`/a/b@1:reg = 00 00 10 00`, value bytes in hex; `/a:flag =` when empty), depth
 * first in tree order; then `/memreserve/ 0x... 0x...` lines and `boot_cpuid_phys 0x...`.
 */
export function treeLines(t: DeviceTree): string[] {
  const out: string[] = [];
  for (const n of t.nodes()) {
    const path = nodePath(n);
    out.push(path);
    for (const p of n.props) {
      let v = '';
      for (const b of p.value) v += ' ' + b.toString(16).padStart(2, '0');
      out.push(`${path}:${p.name} =${v}`);
    }
  }
  for (const r of t.memreserve) out.push(`/memreserve/ 0x${r.address.toString(16)} 0x${r.size.toString(16)}`);
  out.push(`boot_cpuid_phys 0x${t.bootCpuidPhys.toString(16)}`);
  return out;
}
