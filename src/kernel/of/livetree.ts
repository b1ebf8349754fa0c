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
 * No file system: the caller provides `list` and `read`.
 */
import { DeviceTree, baseName, newNode, type DtNode } from './tree.js';

export interface LiveTreeEntry {
  readonly name: string;
  readonly isDir: boolean;
}

/** Directory access for readLiveTree(); paths are joined with '/'. */
export interface LiveTreeFs {
  /** The entries of a directory (without '.' and '..'), or null when it cannot be read. */
  list(dir: string): LiveTreeEntry[] | null;
  /** A file's bytes, or null when it cannot be read. */
  read(file: string): Uint8Array | null;
}

/** Node nesting limit (the kernel's own limit is 64; this guards against looping links). */
export const LIVE_TREE_MAX_DEPTH = 256;
/** Node count limit, for the same reason. */
export const LIVE_TREE_MAX_NODES = 1 << 20;

/** Reads the tree rooted at directory `root` (e.g. `/sys/firmware/devicetree/base`). */
export function readLiveTree(fs: LiveTreeFs, root: string): { tree: DeviceTree } | { error: string } {
  const top = newNode('', null);
  const work: { node: DtNode; dir: string; depth: number }[] = [{ node: top, dir: root, depth: 0 }];
  let count = 1;
  for (let w = 0; w < work.length; w++) {
    const { node, dir, depth } = work[w]!;
    const entries = fs.list(dir);
    if (entries === null) return { error: `${dir}: cannot list the directory` };
    for (const e of entries) {
      if (e.name === '' || e.name === '.' || e.name === '..' || e.name.includes('/')) continue;
      const path = dir.endsWith('/') ? dir + e.name : `${dir}/${e.name}`;
      if (e.isDir) {
        if (depth + 1 > LIVE_TREE_MAX_DEPTH) return { error: `${path}: nodes nested more than ${LIVE_TREE_MAX_DEPTH} deep` };
        if (++count > LIVE_TREE_MAX_NODES) return { error: `${root}: more than ${LIVE_TREE_MAX_NODES} nodes` };
        const child = newNode(e.name, node);
        node.children.push(child);
        work.push({ node: child, dir: path, depth: depth + 1 });
        continue;
      }
      const value = fs.read(path);
      if (value === null) return { error: `${path}: cannot read the property` };
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
