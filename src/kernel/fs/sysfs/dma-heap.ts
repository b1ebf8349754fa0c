/**
 * The dma_heap class in sysfs: /sys/class/dma_heap/<name>, a link to the device's directory
 * /sys/devices/virtual/dma_heap/<name>, which holds `dev` (major:minor), `uevent` and the
 * `subsystem` link back to the class (the device core's attributes; a device there has more,
 * such as `power/`, on kernels built with it).
 *
 * @kernel drivers/dma-buf/dma-heap.c (class_create, device_create), drivers/base/core.c (dev_attr_dev, dev_attr_uevent, device_add_class_symlinks)
 */
import { Errno } from '../../../uapi/errno.js';
import type { DmaHeap, DmaHeapCore } from '../../dma-heap/dma-heap.js';
import { devMajor, devMinor } from '../file.js';
import { symlinkInode, textInode } from '../libfs.js';
import type { TableDir } from '../libfs.js';
import { Dentry } from '../vfs.js';
import type { SuperBlock } from '../vfs.js';
import { kernfsDynDir, kernfsSubdir } from './kdir.js';

export interface DmaHeapSysfsHost {
  readonly dmaHeap: DmaHeapCore;
  /** The registered heaps that are not being removed. */
  heaps(): readonly DmaHeap[];
}

/** Inode numbers: `dev` and `uevent` per minor; the device directory and its links. */
const INO = { attr: 0x40000, device: 0x44000 } as const;

/** Adds class/dma_heap and devices/virtual/dma_heap. */
export function dmaHeapSysfs(sb: SuperBlock, host: DmaHeapSysfsHost, classDir: TableDir, virtualDir: TableDir, signedChar: boolean): void {
  const live = (name: string): DmaHeap | null => {
    const h = host.dmaHeap.byDevName(name);
    return h === null || h.dying ? null : h;
  };
  const names = () => host.heaps().map((h) => h.devName);
  kernfsSubdir(classDir, 'dma_heap', 0x3f000, signedChar, {
    lookupDynamic: (dir, name) => {
      const h = live(name);
      return h === null ? null : new Dentry(name, dir, symlinkInode(sb, INO.device + h.minor * 4 + 1, () => `../../devices/virtual/dma_heap/${name}`));
    },
    listDynamic: names,
  });
  kernfsSubdir(virtualDir, 'dma_heap', 0x3f001, signedChar, {
    lookupDynamic: (dir, name) => {
      const h = live(name);
      return h === null ? null : new Dentry(name, dir, deviceDir(sb, h, signedChar));
    },
    listDynamic: names,
    dynamicSubdirs: () => host.heaps().length,
  });
}

/** The actions a write to a device's uevent file may ask for (lib/kobject_uevent.c kobject_actions). */
const UEVENT_ACTIONS = ['add', 'remove', 'change', 'move', 'online', 'offline', 'bind', 'unbind'];

/**
 * A write to a device's uevent: a synthetic uevent (nothing listens here), so only the checks:
 * an action, optionally followed by a UUID and KEY=value pairs; anything else is EINVAL.
 * @kernel drivers/base/core.c uevent_store; lib/kobject_uevent.c kobject_synth_uevent, kobject_action_type
 */
function ueventStore(text: string): number {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  const sp = t.indexOf(' ');
  const action = sp < 0 ? t : t.slice(0, sp);
  if (!UEVENT_ACTIONS.includes(action)) return -Errno.EINVAL;
  if (sp >= 0 && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}( [A-Za-z0-9_]+=\S*)*$/.test(t.slice(sp + 1))) return -Errno.EINVAL;
  return 0;
}

function deviceDir(sb: SuperBlock, heap: DmaHeap, signedChar: boolean): ReturnType<typeof kernfsDynDir> {
  const major = devMajor(heap.inode.rdev);
  const minor = devMinor(heap.inode.rdev);
  return kernfsDynDir(sb, INO.device + heap.minor * 4, () => ['dev', 'uevent', 'subsystem'], (dir, name) => {
    switch (name) {
      case 'dev':
        return new Dentry(name, dir, textInode(sb, { mode: 0o444, ino: INO.attr + heap.minor * 2, show: () => `${major}:${minor}\n`, mayOpen: kernfsNoStore }));
      case 'uevent':
        return new Dentry(name, dir, textInode(sb, { mode: 0o644, ino: INO.attr + 1 + heap.minor * 2, show: () => `MAJOR=${major}\nMINOR=${minor}\nDEVNAME=dma_heap/${heap.devName}\n`, store: ueventStore }));
      case 'subsystem':
        return new Dentry(name, dir, symlinkInode(sb, INO.device + heap.minor * 4 + 2, () => '../../../../class/dma_heap'));
    }
    return null;
  }, signedChar, () => 0);
}

/**
 * kernfs_fop_open(): an attribute without a store cannot be opened for writing, not even by root
 * (EACCES). The emulated attributes have none (docs/fidelity.md, virtual-file-write).
 */
export function kernfsNoStore(_proc: unknown, flags: number): number {
  // FMODE_WRITE: O_WRONLY or O_RDWR (the access mode 3 opens for neither)
  const acc = flags & 3;
  return acc === 1 || acc === 2 ? -Errno.EACCES : 0;
}
