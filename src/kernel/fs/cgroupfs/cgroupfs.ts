/**
 * cgroup2, mounted on /sys/fs/cgroup: the hierarchy of src/kernel/cgroup/cgroup.ts as a kernfs
 * tree — a directory per cgroup (the root is 0555, as kernfs_create_root makes it) with the
 * interface files of its controllers. mkdir makes a cgroup, rmdir removes one (the VFS checks
 * permission first: only root may, the directories being root's). A name that is not there is a
 * negative dentry, so O_CREAT is EACCES; no name is too long for kernfs.
 *
 * @kernel kernel/cgroup/cgroup.c (cgroup_kf_syscall_ops: cgroup_mkdir, cgroup_rmdir; cgroup_file_write), fs/kernfs/dir.c
 */
import { Errno } from '../../../uapi/errno.js';
import { CGROUP_INO_BASE } from '../../cgroup/cgroup.js';
import type { Cgroup, CgroupFs } from '../../cgroup/cgroup.js';
import { kernfsOrder } from '../kernfs.js';
import { dirInode, missing, setSubdirNlink, textInode } from '../libfs.js';
import { Dentry } from '../vfs.js';
import type { SuperBlock, VfsInode } from '../vfs.js';

/** st_dev of the cgroup2 mount (0:17, the 6.1 oracle's). */
export const CGROUP2_DEV = 17;

export class Cgroup2Fs implements SuperBlock {
  readonly type = 'cgroup2';
  readonly dev = CGROUP2_DEV;
  /** cgroup_file_poll() → kernfs_generic_poll() */
  readonly textPoll = 'kernfs';
  readonly root: Dentry;

  constructor(private readonly cgroups: CgroupFs, private readonly signedChar: boolean) {
    this.root = new Dentry('/', null, this.dirInode(cgroups.root));
  }

  /** A cgroup's directory: its files and its children, in kernfs order. */
  private dirInode(cg: Cgroup): VfsInode {
    const cgroups = this.cgroups;
    // the root is 0555 (kernfs_create_root); a child has the mode mkdir gave it
    // st_nlink: 2 + the child cgroups (kernfs_refresh_inode)
    return setSubdirNlink(dirInode(this, CGROUP_INO_BASE + cg.id * 16, cg.isRoot ? 0o555 : cg.mode, {
      lookup: (dir, name) => {
        const child = cg.children.get(name);
        if (child !== undefined) return new Dentry(name, dir, this.dirInode(child));
        const f = cgroups.file(cg, name);
        if (f === null) return missing('negative', dir, name);
        return new Dentry(name, dir, textInode(this, { mode: f.mode, ino: f.ino, show: f.text, store: f.write }));
      },
      iterate: () => kernfsOrder(cgroups.readdir(cg), this.signedChar),
      mkdir: (_dir, name, mode) => cgroups.mkdir(cg, name, mode),
      rmdir: (_dir, victim) => {
        const child = cg.children.get(victim.name);
        return child === undefined ? -Errno.ENOENT : cgroups.rmdir(child);
      },
    }), () => cg.children.size);
  }
}
