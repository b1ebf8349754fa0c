/**
 * /sys/kernel/mm/cma/<area>: the CMA area counters. Which attributes exist depends on the
 * kernel version: the table below says from which profile on.
 * @kernel mm/cma_sysfs.c
 */
import type { CmaArea } from '../../mm/cma.js';
import type { Profile } from '../../profile.js';
import { textInode } from '../libfs.js';
import type { TableDir } from '../libfs.js';
import { Dentry } from '../vfs.js';
import type { SuperBlock } from '../vfs.js';
import { kernfsNoStore } from './dma-heap.js';
import { kernfsDynDir, kernfsSubdir } from './kdir.js';

/** The attributes of an area's directory, what they show, and the kernels that have them. */
export const CMA_SYSFS_ATTRS: readonly { readonly name: string; readonly value: (a: CmaArea) => number; readonly present: (p: Profile) => boolean }[] = [
  { name: 'alloc_pages_success', value: (a) => a.allocPagesSuccess, present: () => true },
  { name: 'alloc_pages_fail', value: (a) => a.allocPagesFail, present: () => true },
  // v6.10 ("mm: cma: add sysfs file 'release_pages_success'"): the 6.12 and 7.3 referees
  { name: 'release_pages_success', value: (a) => a.releasePagesSuccess, present: (p) => p.cmaSysfsReleasePages },
  // the 7.3 referee (v6.14, "mm/cma: export total and free number of pages for CMA areas")
  { name: 'total_pages', value: (a) => a.count, present: (p) => p.cmaSysfsPageCounts },
  { name: 'available_pages', value: (a) => a.availableCount, present: (p) => p.cmaSysfsPageCounts },
];

/** Inode numbers: every attribute shares one; an area's directory. */
const INO = { attr: 0x70000, dir: 0x78000 } as const;

/** Adds mm/cma under `mmDir`. */
export function cmaSysfs(sb: SuperBlock, profile: Profile, areas: readonly CmaArea[], mmDir: TableDir, signedChar: boolean): void {
  const attrs = CMA_SYSFS_ATTRS.filter((a) => a.present(profile));
  kernfsSubdir(mmDir, 'cma', 0x3f020, signedChar, {
    lookupDynamic: (dir, name) => {
      const i = areas.findIndex((a) => a.name === name);
      if (i < 0) return null;
      const area = areas[i]!;
      return new Dentry(name, dir, kernfsDynDir(sb, INO.dir + i, () => attrs.map((a) => a.name), (d, n) => {
        const attr = attrs.find((a) => a.name === n);
        return attr === undefined ? null : new Dentry(n, d, textInode(sb, { mode: 0o444, ino: INO.attr, show: () => `${attr.value(area)}\n`, mayOpen: kernfsNoStore }));
      }, signedChar, () => 0));
    },
    listDynamic: () => areas.map((a) => a.name),
    dynamicSubdirs: () => areas.length,
  });
}
