/**
 * The root file system: `/` with the directories the other file systems are mounted on (/dev,
 * /proc, /sys). The emulated machine has no disk and no tmpfs a process could write to: the root
 * is mounted read-only (mkdir, rmdir, O_CREAT and O_TMPFILE there are EROFS; docs/fidelity.md,
 * read-only-paths), and a name that is not there is ENOENT (ENAMETOOLONG beyond NAME_MAX, as
 * on the oracle's root).
 *
 * @kernel init/do_mounts.c (rootfs), fs/libfs.c simple_lookup
 */
import { TableDir } from './libfs.js';
import type { Dentry, SuperBlock } from './vfs.js';

/** st_dev of the root (0:21, the oracle's root file system on 6.1). */
export const ROOTFS_DEV = 21;

export class Rootfs implements SuperBlock {
  readonly type = 'rootfs';
  readonly dev = ROOTFS_DEV;
  readonly root: Dentry;
  /** The mount points, by name. */
  readonly dirs: { readonly dev: Dentry; readonly proc: Dentry; readonly sys: Dentry };

  constructor() {
    const root = new TableDir('/', null, { sb: this, ino: 2, mode: 0o755, missing: 'simple' });
    this.root = root.dentry;
    this.dirs = {
      dev: root.dir('dev', { ino: 3 }).dentry,
      proc: root.dir('proc', { ino: 4, mode: 0o555 }).dentry,
      sys: root.dir('sys', { ino: 5, mode: 0o555 }).dentry,
    };
  }
}
