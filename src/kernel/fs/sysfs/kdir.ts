/**
 * sysfs and cgroupfs directories are kernfs directories: a name that is not there is a negative
 * dentry (no ->create: O_CREAT is EACCES), getdents lists in kernfs's hash order, and mkdir and
 * rmdir reach kernfs, which refuses them (EPERM) where the file system has no syscall ops for
 * them — after the VFS has checked for a mount point (EBUSY).
 *
 * @kernel fs/kernfs/dir.c (kernfs_iop_lookup, kernfs_iop_mkdir, kernfs_iop_rmdir, kernfs_fop_readdir)
 */
import { Errno } from '../../../uapi/errno.js';
import { kernfsOrder } from '../kernfs.js';
import { dirInode, missing, setSubdirNlink, TableDir } from '../libfs.js';
import type { DirSpec } from '../libfs.js';
import type { Dentry, SuperBlock, VfsInode } from '../vfs.js';

const E = Errno;

/** kernfs_iop_mkdir/kernfs_iop_rmdir without kernfs_syscall_ops: EPERM. */
export const KERNFS_NO_SYSCALL_OPS = { mkdir: () => -E.EPERM, rmdir: () => -E.EPERM } as const;

/** A kernfs directory kept for the life of the file system. */
export function kernfsDir(name: string, parent: Dentry | null, spec: Omit<DirSpec, 'missing' | 'order'> & { readonly signedChar: boolean }): TableDir {
  return new TableDir(name, parent, {
    op: KERNFS_NO_SYSCALL_OPS,
    subdirNlink: true,
    ...spec,
    missing: 'negative',
    order: (table, dynamic) => kernfsOrder([...table, ...dynamic], spec.signedChar),
  });
}

/** A kernfs subdirectory of `parent` (a directory of the same file system), added to its table. */
export function kernfsSubdir(parent: TableDir, name: string, ino: number, signedChar: boolean, spec: Partial<Omit<DirSpec, 'missing' | 'order'>> = {}): TableDir {
  const d = kernfsDir(name, parent.dentry, { sb: parent.sb, ino, mode: 0o755, signedChar, ...spec });
  parent.add(d.dentry);
  return d;
}

/**
 * The inode of a kernfs directory made at lookup time (for a live object: a heap, a buffer, a
 * CMA area, a device tree node): its entries are `names`, each made by `entry`.
 */
export function kernfsDynDir(sb: SuperBlock, ino: number, names: () => readonly string[], entry: (dir: Dentry, name: string) => Dentry | null, signedChar: boolean, subdirs?: () => number): VfsInode {
  const inode = dirInode(sb, ino, 0o755, {
    ...KERNFS_NO_SYSCALL_OPS,
    lookup: (dir, name) => entry(dir, name) ?? missing('negative', dir, name),
    iterate: () => kernfsOrder(names(), signedChar),
  });
  // st_nlink: 2 + subdirectories (kernfs_refresh_inode), where the caller counts them
  return subdirs === undefined ? inode : setSubdirNlink(inode, subdirs);
}
