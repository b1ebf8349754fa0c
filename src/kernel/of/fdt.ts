/**
 * The flattened device tree (DTB) format of the devicetree specification, chapter 5: a reader
 * that validates every offset and size (a truncated or corrupt blob is an error, never an
 * exception or a hang), and a writer whose output is byte-identical to `dtc -I dts -O dtb` for the
 * same tree: header, memory reservation block at offset 40 (8-aligned), structure block, then the
 * strings block, with property names added to the strings block in first-use order and shared
 * with any existing string that ends the same way (dtc's stringtable_insert() matches suffixes).
 *
 * @kernel scripts/dtc/flattree.c (dt_to_blob, flatten_tree, stringtable_insert),
 *         scripts/dtc/libfdt/fdt.h, drivers/of/fdt.c (unflatten_dt_nodes)
 */
import { bytesStr, strBytes } from '../bytes.js';
import { DeviceTree, newNode, type DtNode, type MemReserve } from './tree.js';

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 1;
export const FDT_END_NODE = 2;
export const FDT_PROP = 3;
export const FDT_NOP = 4;
export const FDT_END = 9;
/** Version written; versions 16 and up are read (last_comp_version up to 17). */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
/** Node nesting the reader accepts (the kernel's unflattener stops at 64; dtc has no limit). */
export const FDT_MAX_DEPTH = 256;

const V17_HEADER = 40;
const V16_HEADER = 36;

/** dtc's -b, -p, -S, -a options (and -V 16). */
export interface FdtWriteOptions {
  /** boot_cpuid_phys; default the tree's `bootCpuidPhys`. */
  readonly bootCpuidPhys?: number;
  /** 16 or 17 (default). */
  readonly version?: 16 | 17;
  /** -S: pad the blob to at least this many bytes. */
  readonly minSize?: number;
  /** -p: add this many bytes of padding (overrides minSize). */
  readonly padSize?: number;
  /** -a: pad the total size to a multiple of this (a power of two). */
  readonly align?: number;
}

/** True when `b` starts with the FDT magic. */
export function isFdt(b: Uint8Array): boolean {
  return b.length >= 4 && rd32(b, 0) === FDT_MAGIC;
}

function rd32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** Reads a DTB into a tree. Errors name the field or the structure-block offset at fault. */
export function readFdt(b: Uint8Array): { tree: DeviceTree } | { error: string } {
  const err = (m: string): { error: string } => ({ error: `invalid FDT: ${m}` });
  if (b.length < 8) return err(`${b.length} bytes is too short for a header`);
  const magic = rd32(b, 0);
  if (magic !== FDT_MAGIC) return err(`bad magic ${hex(magic)} (expected ${hex(FDT_MAGIC)})`);
  if (b.length < V16_HEADER) return err(`${b.length} bytes is too short for a header`);
  const totalsize = rd32(b, 4);
  const offStruct = rd32(b, 8);
  const offStrings = rd32(b, 12);
  const offRsv = rd32(b, 16);
  const version = rd32(b, 20);
  const lastComp = rd32(b, 24);
  const bootCpuid = rd32(b, 28);
  const sizeStrings = rd32(b, 32);
  if (version < 16) return err(`version ${version} is not supported (16 or later is needed)`);
  if (lastComp > 17) return err(`last_comp_version ${lastComp} is newer than the supported version 17`);
  const hdr = version >= 17 ? V17_HEADER : V16_HEADER;
  if (b.length < hdr) return err(`${b.length} bytes is too short for a version ${version} header`);
  if (totalsize < hdr) return err(`totalsize ${totalsize} is smaller than the header`);
  if (totalsize > b.length) return err(`truncated: totalsize is ${totalsize} bytes but only ${b.length} are present`);
  const inBlob = (off: number, size: number): boolean => off >= hdr && off <= totalsize && size <= totalsize - off;
  if (!inBlob(offRsv, 0)) return err(`off_mem_rsvmap ${hex(offRsv)} is outside the blob`);
  if (offStruct % 4 !== 0) return err(`off_dt_struct ${hex(offStruct)} is not 4-byte aligned`);
  const sizeStruct = version >= 17 ? rd32(b, 36) : totalsize - Math.min(offStruct, totalsize);
  if (!inBlob(offStruct, sizeStruct)) return err(`structure block (offset ${hex(offStruct)}, ${sizeStruct} bytes) is outside the blob`);
  if (!inBlob(offStrings, sizeStrings)) return err(`strings block (offset ${hex(offStrings)}, ${sizeStrings} bytes) is outside the blob`);

  // Memory reservation block: (address, size) pairs up to the first entry of size 0 (the
  // specification's terminator is (0, 0); dtc and libfdt's fdt_num_mem_rsv() stop at size 0).
  const memreserve: MemReserve[] = [];
  for (let p = offRsv; ; p += 16) {
    if (p + 16 > totalsize) return err('memory reservation block is not terminated by an entry of size 0');
    const address = rd32(b, p) * 0x100000000 + rd32(b, p + 4);
    const size = rd32(b, p + 8) * 0x100000000 + rd32(b, p + 12);
    if (size === 0) break;
    memreserve.push({ address, size });
  }

  // Structure block.
  const end = offStruct + sizeStruct;
  const strEnd = offStrings + sizeStrings;
  const stack: DtNode[] = [];
  const names = new Map<number, string>();
  let root: DtNode | null = null;
  let p = offStruct;
  const at = (q: number): string => `structure block offset ${hex(q - offStruct)}`;
  for (;;) {
    if (p + 4 > end) return err(`${at(p)}: the structure block ends without FDT_END`);
    const tok = rd32(b, p);
    const tokAt = p;
    p += 4;
    if (tok === FDT_BEGIN_NODE) {
      const nul = b.indexOf(0, p);
      if (nul < 0 || nul >= end) return err(`${at(tokAt)}: node name runs past the end of the structure block`);
      const name = bytesStr(b.subarray(p, nul));
      p = (nul + 1 + 3) & ~3;
      if (stack.length === 0) {
        if (root !== null) return err(`${at(tokAt)}: a second root node`);
        if (name !== '' && name !== '/') return err(`${at(tokAt)}: the root node is named '${name}' (expected an empty name)`);
        root = newNode('', null);
        stack.push(root);
        continue;
      }
      if (name === '') return err(`${at(tokAt)}: a node with an empty name`);
      if (name.includes('/')) return err(`${at(tokAt)}: node name '${name}' contains '/'`);
      if (stack.length >= FDT_MAX_DEPTH) return err(`${at(tokAt)}: nodes nested more than ${FDT_MAX_DEPTH} deep`);
      const parent = stack[stack.length - 1]!;
      const n = newNode(name, parent);
      parent.children.push(n);
      stack.push(n);
    } else if (tok === FDT_END_NODE) {
      if (stack.length === 0) return err(`${at(tokAt)}: FDT_END_NODE without a matching FDT_BEGIN_NODE`);
      stack.pop();
    } else if (tok === FDT_PROP) {
      if (p + 8 > end) return err(`${at(tokAt)}: property header runs past the end of the structure block`);
      const len = rd32(b, p);
      const nameoff = rd32(b, p + 4);
      p += 8;
      if (len > end - p) return err(`${at(tokAt)}: property value (${len} bytes) runs past the end of the structure block`);
      if (stack.length === 0) return err(`${at(tokAt)}: a property outside any node`);
      if (nameoff >= sizeStrings) return err(`${at(tokAt)}: property name offset ${hex(nameoff)} is outside the strings block (${sizeStrings} bytes)`);
      let name = names.get(nameoff);
      if (name === undefined) {
        const nul = b.indexOf(0, offStrings + nameoff);
        if (nul < 0 || nul >= strEnd) return err(`${at(tokAt)}: property name at strings offset ${hex(nameoff)} is not NUL-terminated inside the strings block`);
        name = bytesStr(b.subarray(offStrings + nameoff, nul));
        names.set(nameoff, name);
      }
      if (name === '') return err(`${at(tokAt)}: a property with an empty name`);
      const node = stack[stack.length - 1]!;
      node.props.push({ name, value: b.slice(p, p + len), labels: [], loc: null });
      p = (p + len + 3) & ~3;
      if (p > end) p = end;
    } else if (tok === FDT_NOP) {
      continue;
    } else if (tok === FDT_END) {
      if (stack.length > 0) return err(`${at(tokAt)}: FDT_END inside node '${stack[stack.length - 1]!.name || '/'}' (missing FDT_END_NODE)`);
      if (root === null) return err(`${at(tokAt)}: FDT_END before any node`);
      break;
    } else {
      return err(`${at(tokAt)}: unknown token ${hex(tok)}`);
    }
  }
  if (root === null) return err('no root node');
  return { tree: new DeviceTree(root, memreserve, bootCpuid) };
}

/** Serialises a tree as dtc does (`dtc -I dts -O dtb`, optionally with -V/-b/-S/-p/-a). */
export function writeFdt(tree: DeviceTree, opts: FdtWriteOptions = {}): Uint8Array {
  const version = opts.version ?? FDT_VERSION;
  const hdrSize = version >= 17 ? V17_HEADER : V16_HEADER;

  // Structure block and strings (flatten_tree).
  const st = new Bytes();
  const table = new StringTable();
  const nameoff = (name: string): number => table.offsetOf(name);
  const stack: { node: DtNode; child: number }[] = [];
  const begin = (n: DtNode): void => {
    st.u32(FDT_BEGIN_NODE);
    st.bytes(strBytes(n.name));
    st.u8(0);
    st.align4();
    for (const p of n.props) {
      st.u32(FDT_PROP);
      st.u32(p.value.length);
      st.u32(nameoff(p.name));
      st.bytes(p.value);
      st.align4();
    }
    stack.push({ node: n, child: 0 });
  };
  begin(tree.root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const c = top.node.children[top.child++];
    if (c !== undefined) begin(c);
    else {
      st.u32(FDT_END_NODE);
      stack.pop();
    }
  }
  st.u32(FDT_END);
  const structBytes = st.done();
  const strBytesBlock = strBytes(table.text);

  // Reservation block, header (make_fdt_header), padding.
  const rsvOff = (hdrSize + 7) & ~7;
  const rsvSize = (tree.memreserve.length + 1) * 16;
  const offStruct = rsvOff + rsvSize;
  const offStrings = offStruct + structBytes.length;
  let total = offStrings + strBytesBlock.length;
  let pad = 0;
  if (opts.minSize !== undefined && opts.minSize > 0) pad = Math.max(0, opts.minSize - total);
  if (opts.padSize !== undefined && opts.padSize > 0) pad = opts.padSize;
  if (opts.align !== undefined && opts.align > 0) pad = Math.ceil((total + pad) / opts.align) * opts.align - total;
  total += pad;

  const out = new Uint8Array(total);
  const w32 = (off: number, v: number): void => {
    out[off] = (v >>> 24) & 0xff;
    out[off + 1] = (v >>> 16) & 0xff;
    out[off + 2] = (v >>> 8) & 0xff;
    out[off + 3] = v & 0xff;
  };
  const w64 = (off: number, v: number): void => {
    w32(off, Math.floor(v / 0x100000000) >>> 0);
    w32(off + 4, v >>> 0);
  };
  w32(0, FDT_MAGIC);
  w32(4, total);
  w32(8, offStruct);
  w32(12, offStrings);
  w32(16, rsvOff);
  w32(20, version);
  w32(24, FDT_LAST_COMP_VERSION);
  w32(28, (opts.bootCpuidPhys ?? tree.bootCpuidPhys) >>> 0);
  w32(32, strBytesBlock.length);
  if (version >= 17) w32(36, structBytes.length);
  tree.memreserve.forEach((r, i) => {
    w64(rsvOff + i * 16, r.address);
    w64(rsvOff + i * 16 + 8, r.size);
  });
  out.set(structBytes, offStruct);
  out.set(strBytesBlock, offStrings);
  return out;
}

/**
 * dtc's strings block: a name is stored once, and a name that ends another stored name uses that
 * name's tail (stringtable_insert() returns the first offset where the name and its NUL occur).
 * Such a match always ends at a stored string's NUL, so it is the tail of the first stored string
 * the name ends; tails of stored names are indexed to find it without searching the block.
 */
class StringTable {
  /** The block, one character per byte. */
  text = '';
  private readonly tails = new Map<string, number>();
  /** Stored names too long to index every tail of (searched directly, in order). */
  private readonly long: { readonly s: string; readonly off: number }[] = [];

  offsetOf(name: string): number {
    const key = bytesStr(strBytes(name));
    if (key === '' || key.includes('\0')) {
      // Not a valid property name; search the block as dtc does.
      const i = this.text.indexOf(key + '\0');
      return i >= 0 ? i : this.append(key);
    }
    let best = this.tails.get(key) ?? -1;
    for (const l of this.long) {
      if (best >= 0 && l.off > best) break;
      if (l.s.endsWith(key)) {
        const pos = l.off + l.s.length - key.length;
        if (best < 0 || pos < best) best = pos;
        break;
      }
    }
    return best >= 0 ? best : this.append(key);
  }

  private append(key: string): number {
    const off = this.text.length;
    this.text += key + '\0';
    if (key.length > 256) this.long.push({ s: key, off });
    else for (let i = 0; i < key.length; i++) if (!this.tails.has(key.slice(i))) this.tails.set(key.slice(i), off + i);
    return off;
  }
}

/** A growing byte buffer. */
class Bytes {
  private buf = new Uint8Array(1024);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  align4(): void {
    while (this.len % 4 !== 0) this.u8(0);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
