/**
 * Reads a live device tree laid out as the kernel exposes it in /sys/firmware/devicetree/base
 * (and /proc/device-tree): one directory per node, named with the full node name
 * (`memory@40000000`), and one file per property holding the raw value bytes.
 *
 * The `name` property: the kernel creates one in every node from the node name when the blob
 * has none (drivers/of/fdt.c populate_properties(), so older kernels show a `name` file
 * everywhere, `""` for the root). A `name` file whose value is the node's base name is skipped,
 * as dtc drops such a property (checks.c check_name_properties()); one that differs is kept, as
 * it is real data. So a tree read back from sysfs matches the tree of the DTS it came from.
 *
 * Order: a live tree does not keep the blob's order (kernfs lists a directory in hash order), so
 * entries are taken in the order `list()` gives them; pass a sorted listing for a deterministic
 * tree. The FDT header's boot_cpuid_phys is not visible in the live tree and reads as 0; there
 * are no /memreserve/ entries either (they live in the header too).
 *
 * Bounds: the tree is read only if its root directory holds one of the root node's properties
 * (LIVE_TREE_ROOT_PROPERTIES), and never beyond LIVE_TREE_LIMITS (depth, entries per directory,
 * nodes, properties, bytes); an entry that is neither a directory nor a regular file (a link, a
 * FIFO, a device) is refused, not followed.
 *
 * No file system: the caller provides `list` and `read`.
 */
import { BOARD_FILE_MAX_BYTES, BOARD_TOTAL_MAX_BYTES } from './board.js';
import { DeviceTree, baseName, newNode, type DtNode } from './tree.js';

export interface LiveTreeEntry {
  readonly name: string;
  readonly isDir: boolean;
  /**
   * What the entry is when it is neither a directory nor a regular file, in a few words ('a
   * symbolic link', 'a FIFO (named pipe)', 'a character device', …): such an entry is refused (a
   * live tree holds only directories and regular files, and a link could lead out of the tree).
   * Absent for directories and regular files.
   */
  readonly special?: string;
}

/** Directory access for readLiveTree(); paths are joined with '/'. */
export interface LiveTreeFs {
  /**
   * The entries of a directory (without '.' and '..'), or null when it cannot be read. With
   * `maxEntries`, an implementation should stop after maxEntries + 1 entries (readLiveTree refuses
   * a directory with more, and must not have to hold an unbounded listing).
   */
  list(dir: string, maxEntries?: number): LiveTreeEntry[] | null;
  /**
   * A file's bytes, or null when it cannot be read. With `maxBytes`, a file larger than that
   * should not be read (return null, or more bytes than maxBytes: readLiveTree refuses both).
   */
  read(file: string, maxBytes?: number): Uint8Array | null;
  /**
   * Optional, used instead of read() when present: the bytes, null, or `{ error }` saying why the
   * file was refused, with its `size` when it is over `maxBytes` (readLiveTree then says which
   * limit it passed). A file over maxBytes must not be read.
   */
  readBounded?(file: string, maxBytes: number): Uint8Array | { readonly error: string; readonly size?: number } | null;
}

/**
 * What readLiveTree() reads at most. A tree beyond any of them is refused with a message naming
 * the limit; none is reached by a real /sys/firmware/devicetree/base (docs/device-tree.md, input
 * limits).
 */
export interface LiveTreeLimits {
  /** Node nesting: the kernel's unflattener stops at 64 (drivers/of/fdt.c FDT_MAX_DEPTH), so /sys never shows deeper. */
  readonly maxDepth: number;
  /** Entries (properties and child nodes) in one directory. */
  readonly maxEntries: number;
  /** Nodes (directories), the root included. */
  readonly maxNodes: number;
  /** Properties (files). */
  readonly maxProperties: number;
  /** Bytes of one property (BOARD_FILE_MAX_BYTES, as for a board file). */
  readonly maxPropertyBytes: number;
  /** Bytes of all properties together (BOARD_TOTAL_MAX_BYTES, as for a board's files). */
  readonly maxTotalBytes: number;
}

export const LIVE_TREE_LIMITS: LiveTreeLimits = Object.freeze({
  maxDepth: 64,
  maxEntries: 16384,
  maxNodes: 65536,
  maxProperties: 262144,
  maxPropertyBytes: BOARD_FILE_MAX_BYTES,
  maxTotalBytes: BOARD_TOTAL_MAX_BYTES,
});

/** Node nesting limit (LIVE_TREE_LIMITS.maxDepth). */
export const LIVE_TREE_MAX_DEPTH = LIVE_TREE_LIMITS.maxDepth;
/** Node count limit (LIVE_TREE_LIMITS.maxNodes). */
export const LIVE_TREE_MAX_NODES = LIVE_TREE_LIMITS.maxNodes;

/**
 * The root properties one of which a live tree's root directory must hold as a regular file
 * before the tree is walked: every tree the kernel exposes has them (the root's #address-cells
 * and #size-cells, its compatible and model), and a directory that is not a device tree (`/`,
 * `/usr`, a home directory) has none, so it is refused at once instead of being read whole.
 */
export const LIVE_TREE_ROOT_PROPERTIES = Object.freeze(['#address-cells', '#size-cells', 'compatible', 'model'] as const);

const MiB = 1024 * 1024;
const sizeText = (n: number): string => (n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`);

/** Reads the tree rooted at directory `root` (e.g. `/sys/firmware/devicetree/base`). */
export function readLiveTree(fs: LiveTreeFs, root: string, limits: LiveTreeLimits = LIVE_TREE_LIMITS): { tree: DeviceTree } | { error: string } {
  const top = newNode('', null);
  const work: { node: DtNode; dir: string; depth: number }[] = [{ node: top, dir: root, depth: 0 }];
  let nodes = 1;
  let props = 0;
  let bytes = 0;
  for (let w = 0; w < work.length; w++) {
    const { node, dir, depth } = work[w]!;
    const entries = fs.list(dir, limits.maxEntries);
    if (entries === null) return { error: `${dir}: cannot list the directory` };
    if (entries.length > limits.maxEntries) return { error: `${dir}: more than ${limits.maxEntries} entries in one directory (a live tree's node has fewer properties and children)` };
    if (w === 0 && !entries.some((e) => !e.isDir && e.special === undefined && (LIVE_TREE_ROOT_PROPERTIES as readonly string[]).includes(e.name))) {
      return {
        error: `${root}: not a device tree: a live tree is a directory laid out like /sys/firmware/devicetree/base, whose root holds the root node's properties as files (${LIVE_TREE_ROOT_PROPERTIES.join(', ')}), and ${root} has none of them`,
      };
    }
    for (const e of entries) {
      if (e.name === '' || e.name === '.' || e.name === '..' || e.name.includes('/')) continue;
      const path = dir.endsWith('/') ? dir + e.name : `${dir}/${e.name}`;
      if (e.special !== undefined) return { error: `${path}: ${e.special}: a live tree holds only directories (nodes) and regular files (properties)` };
      if (e.isDir) {
        if (depth + 1 > limits.maxDepth) return { error: `${path}: nodes nested more than ${limits.maxDepth} deep` };
        if (++nodes > limits.maxNodes) return { error: `${root}: more than ${limits.maxNodes} nodes` };
        const child = newNode(e.name, node);
        node.children.push(child);
        work.push({ node: child, dir: path, depth: depth + 1 });
        continue;
      }
      if (++props > limits.maxProperties) return { error: `${root}: more than ${limits.maxProperties} properties` };
      const room = Math.min(limits.maxPropertyBytes, limits.maxTotalBytes - bytes);
      const value = fs.readBounded !== undefined ? fs.readBounded(path, room) : fs.read(path, room);
      if (value === null) return { error: `${path}: cannot read the property` };
      const size = value instanceof Uint8Array ? value.length : (value.size ?? -1);
      if (size > room) {
        return {
          error: size > limits.maxPropertyBytes
            ? `${path}: a property of more than ${sizeText(limits.maxPropertyBytes)}`
            : `${root}: more than ${sizeText(limits.maxTotalBytes)} of properties`,
        };
      }
      if (!(value instanceof Uint8Array)) return { error: value.error };
      bytes += value.length;
      if (e.name === 'name' && isBaseNameValue(value, node.name)) continue;
      node.props.push({ name: e.name, value, labels: [], loc: null });
    }
  }
  return { tree: new DeviceTree(top, [], 0) };
}

function isBaseNameValue(v: Uint8Array, nodeName: string): boolean {
  const base = baseName(nodeName);
  if (v.length !== base.length + 1 || v[base.length] !== 0) return false;
  for (let i = 0; i < base.length; i++) if (v[i] !== base.charCodeAt(i)) return false;
  return true;
}
