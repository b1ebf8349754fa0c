/**
 * /sys/kernel/dmabuf/buffers (CONFIG_DMABUF_SYSFS_STATS, v5.13 to v6.19): a directory per live
 * buffer, named by its inode number, with `exporter_name` and `size`.
 * @kernel drivers/dma-buf/dma-buf-sysfs-stats.c
 */
import type { DmaBuf, DmaBufCore } from '../../dma-buf/dma-buf.js';
import { textInode } from '../libfs.js';
import type { TableDir } from '../libfs.js';
import { Dentry } from '../vfs.js';
import type { SuperBlock } from '../vfs.js';
import { kernfsNoStore } from './dma-heap.js';
import { kernfsDynDir, kernfsSubdir } from './kdir.js';

/** Inode numbers: a buffer's directory and its two attributes (which share one). */
const INO = { attr: 0x60000, dir: 0x1000000 } as const;

/** Adds kernel/dmabuf/buffers under `kernelDir`. */
export function dmaBufSysfsStats(sb: SuperBlock, dmaBuf: DmaBufCore, kernelDir: TableDir, signedChar: boolean): void {
  const dmabuf = kernfsSubdir(kernelDir, 'dmabuf', 0x3f010, signedChar);
  kernfsSubdir(dmabuf, 'buffers', 0x3f011, signedChar, {
    lookupDynamic: (dir, name) => {
      const buf = /^[1-9]\d*$/.test(name) ? dmaBuf.byIno(Number(name)) : null;
      return buf === null ? null : new Dentry(name, dir, bufferDir(sb, buf, signedChar));
    },
    listDynamic: () => [...dmaBuf.list].map((b) => String(b.ino)),
    dynamicSubdirs: () => [...dmaBuf.list].length,
  });
}

function bufferDir(sb: SuperBlock, buf: DmaBuf, signedChar: boolean): ReturnType<typeof kernfsDynDir> {
  return kernfsDynDir(sb, INO.dir + buf.ino, () => ['exporter_name', 'size'], (dir, name) => {
    if (name !== 'size' && name !== 'exporter_name') return null;
    const show = name === 'size' ? () => `${buf.size}\n` : () => `${buf.expName}\n`;
    return new Dentry(name, dir, textInode(sb, { mode: 0o444, ino: INO.attr + buf.ino, show, mayOpen: kernfsNoStore }));
  }, signedChar, () => 0);
}
