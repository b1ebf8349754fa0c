/**
 * /sys/firmware/devicetree/base: the device tree the kernel booted with, a directory per node
 * (named with its unit address) and a read-only file per property holding its raw bytes, plus
 * `name` (the node's name without the unit address, NUL-terminated) in every node. A child node
 * hides a property of the same name.
 * @kernel drivers/of/kobj.c (__of_attach_node_sysfs, __of_add_property_sysfs), drivers/of/fdt.c populate_properties
 */
import { bytesStr, strBytes } from '../../bytes.js';
import { baseName } from '../../of/tree.js';
import type { DtNode } from '../../of/tree.js';
import { textInode } from '../libfs.js';
import type { TableDir } from '../libfs.js';
import type { SuperBlock } from '../vfs.js';
import { Dentry } from '../vfs.js';
import { kernfsNoStore } from './dma-heap.js';
import { kernfsDynDir } from './kdir.js';

/** Inode numbers: every property file shares one, every node directory another. */
const INO = { prop: 0xa0000, node: 0xa8000 } as const;

/** Adds devicetree/base (the tree's root) under `devicetreeDir`. */
export function deviceTreeSysfs(sb: SuperBlock, root: DtNode, devicetreeDir: TableDir, signedChar: boolean): void {
  devicetreeDir.add(new Dentry('base', devicetreeDir.dentry, nodeDir(sb, root, signedChar)));
}

function nodeDir(sb: SuperBlock, node: DtNode, signedChar: boolean): ReturnType<typeof kernfsDynDir> {
  const names = () => ['name', ...node.props.map((p) => p.name).filter((n) => n !== 'name'), ...node.children.map((c) => c.name)];
  return kernfsDynDir(sb, INO.node, names, (dir, name) => {
    const child = node.children.find((c) => c.name === name);
    if (child !== undefined) return new Dentry(name, dir, nodeDir(sb, child, signedChar));
    const value = name === 'name' ? strBytes(`${baseName(node.name)}\0`) : (node.props.find((p) => p.name === name)?.value ?? null);
    if (value === null) return null;
    return new Dentry(name, dir, textInode(sb, { mode: 0o444, ino: INO.prop, show: () => bytesStr(value), mayOpen: kernfsNoStore, size: value.length }));
  }, signedChar);
}
