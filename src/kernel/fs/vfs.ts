/**
 * The objects of the virtual file system that the path walk (namei.ts) moves over: dentries
 * (a name in a directory, with its inode), inodes with their operations (struct
 * inode_operations, plus the i_fop open and f_op->iterate_shared every emulated file system
 * provides with its inode), super blocks (one per mounted file system) and paths (a mount and a
 * dentry on it). Each file system (rootfs, devtmpfs, procfs, sysfs, debugfs, cgroupfs) builds its
 * tree of these in a module of its own; the mount table (mount.ts) joins them.
 *
 * @kernel include/linux/fs.h (struct inode, struct inode_operations, struct super_block), include/linux/dcache.h (struct dentry), include/linux/path.h
 */
import { Errno } from '../../uapi/errno.js';
import { strBytes } from '../bytes.js';
import type { File, Inode } from './file.js';
import type { Mount } from './mount.js';
import type { Credentials, Process } from './process.js';

const E = Errno;

/** File type bits of i_mode (include/uapi/linux/stat.h). */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

/** Permission masks (include/linux/fs.h). */
export const MAY_EXEC = 0x1;
export const MAY_WRITE = 0x2;
export const MAY_READ = 0x4;
export const MAY_APPEND = 0x8;
export const MAY_OPEN = 0x20;

/** NAME_MAX and PATH_MAX (include/uapi/linux/limits.h). */
export const NAME_MAX = 255;
export const PATH_MAX = 4096;
/** The most symbolic links one path walk follows (include/linux/namei.h MAXSYMLINKS). */
export const MAXSYMLINKS = 40;

/**
 * struct inode_operations, with the two file operations the VFS needs from an inode before a
 * file exists: `open` (i_fop->open together with do_dentry_open's choice of f_op) and `iterate`
 * (f_op->iterate_shared, what getdents lists). A missing operation gives the VFS default:
 * no lookup → not a directory (ENOTDIR), no open → no_open (ENXIO), no mkdir/rmdir → EPERM, no
 * create → EACCES.
 */
export interface InodeOperations {
  /**
   * ->lookup(): the child `name` of directory `dir`: its dentry, a negative dentry (inode null:
   * kernfs, debugfs, tmpfs keep those) or a negated errno (procfs answers ENOENT itself;
   * simple_lookup() ENAMETOOLONG for a name longer than NAME_MAX).
   */
  readonly lookup?: (dir: Dentry, name: string, proc: Process) => Dentry | number;
  /**
   * ->get_link(): the body of a symbolic link, or for a /proc magic link the place it jumps to
   * (nd_jump_link), or a negated errno.
   */
  readonly getLink?: (link: Dentry, proc: Process) => string | VfsPath | number;
  /** ->readlink() (procfs's magic links); without it readlink(2) reads get_link's body. */
  readonly readlink?: (link: Dentry, proc: Process) => string | number;
  /** ->permission(); without it generic_permission() on the inode's mode and owner. */
  readonly permission?: (inode: VfsInode, mask: number, proc: Process) => number;
  /**
   * i_fop->open: the file of an open(2) of this inode at `path` with f_flags `flags` (the VFS
   * checked may_open() first). Without it the inode cannot be opened: no_open() → ENXIO.
   */
  readonly open?: (path: VfsPath, flags: number, proc: Process) => File | number;
  /** f_op->iterate_shared: the names getdents lists, in the file system's order (without . and ..). */
  readonly iterate?: (dir: Dentry, proc: Process) => readonly string[] | number;
  /** ->mkdir() after may_create(); `mode` has the umask applied. */
  readonly mkdir?: (dir: Dentry, name: string, mode: number, proc: Process) => number;
  /** ->rmdir() after may_delete() and the mount point check. */
  readonly rmdir?: (dir: Dentry, victim: Dentry, proc: Process) => number;
}

/** struct inode as the VFS sees it: the stat data (file.ts Inode) and the operations. */
export interface VfsInode extends Inode {
  readonly op: InodeOperations;
  /** S_IMMUTABLE (i_flags): nobody gets write access (inode_permission: EPERM), as /proc/<pid> directories. */
  readonly immutable?: boolean;
}

/** struct super_block: one per mounted file system. */
export interface SuperBlock {
  /** file_system_type name (`proc`, `sysfs`, ...). */
  readonly type: string;
  /** s_dev: st_dev of every inode on it (kernel dev_t). */
  readonly dev: number;
  /** s_root */
  readonly root: Dentry;
  /** s_blocksize (st_blksize of its inodes): procfs 1024; the page size when absent. */
  readonly blksize?: number;
  /**
   * st_size of its text attributes: sysfs gives every attribute PAGE_SIZE (sysfs_add_file_mode_ns:
   * the most a show() may print); other file systems 0.
   */
  readonly attrSize?: number;
  /** How its text files answer poll (kernfs: `kernfs`); none when absent. */
  readonly textPoll?: 'none' | 'default' | 'kernfs';
}

/**
 * struct dentry: a name in a directory and the inode it names (null: a negative dentry, the name
 * does not exist). Directories that are mount points or that never change are kept for the
 * life of their file system; the others are made by each lookup.
 */
export class Dentry {
  constructor(
    readonly name: string,
    /** d_parent; null for the root of a file system (IS_ROOT). */
    readonly parent: Dentry | null,
    readonly inode: VfsInode | null,
    /** d_dname(): the name d_path() shows for a dentry of a pseudo file system no one can reach by a path ("/memfd:x (deleted)"). */
    readonly dname: string | null = null,
  ) {}
}

/** struct path: a dentry on a mount. */
export interface VfsPath {
  readonly mnt: Mount;
  readonly dentry: Dentry;
}

export function isDirInode(inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFDIR;
}

/** d_can_lookup(): a directory the walk can look names up in. */
export function canLookup(d: Dentry): boolean {
  return d.inode !== null && d.inode.op.lookup !== undefined;
}

/** d_is_symlink() */
export function isSymlink(d: Dentry): boolean {
  return d.inode !== null && (d.inode.mode & S_IFMT) === S_IFLNK;
}

/**
 * generic_permission(): root passes (CAP_DAC_OVERRIDE; for a directory also CAP_DAC_READ_SEARCH),
 * except that execute on a non-directory needs an x bit somewhere; else the owner, group or other
 * bits must grant every bit of `mask` (MAY_READ, MAY_WRITE, MAY_EXEC). Returns 0 or -EACCES.
 * @kernel fs/namei.c generic_permission, acl_permission_check
 */
export function genericPermission(attrs: { readonly mode: number; readonly uid: number; readonly gid: number }, cred: Credentials, mask: number): number {
  const m = mask & (MAY_READ | MAY_WRITE | MAY_EXEC);
  if (cred.uid === 0) {
    if ((m & MAY_EXEC) === 0 || (attrs.mode & S_IFMT) === S_IFDIR || (attrs.mode & 0o111) !== 0) return 0;
  }
  let bits = attrs.mode & 7;
  if (cred.uid === attrs.uid) bits = (attrs.mode >> 6) & 7;
  else if (cred.gid === attrs.gid || cred.groups.includes(attrs.gid)) bits = (attrs.mode >> 3) & 7;
  return (bits & m) === m ? 0 : -E.EACCES;
}

/**
 * inode_permission(): an immutable inode refuses MAY_WRITE (EPERM), then the inode's own
 * ->permission() or generic_permission().
 * @kernel fs/namei.c inode_permission, do_inode_permission
 */
export function inodePermission(inode: VfsInode, mask: number, proc: Process): number {
  if ((mask & MAY_WRITE) !== 0 && inode.immutable === true) return -E.EPERM;
  const op = inode.op.permission;
  return op !== undefined ? op(inode, mask, proc) : genericPermission(inode, proc.cred, mask);
}

/**
 * The access mode of open(2)'s flags as permission bits (ACC_MODE: O_RDONLY → MAY_READ, O_WRONLY
 * → MAY_WRITE, O_RDWR and 3 → both).
 * @kernel include/linux/fs.h ACC_MODE
 */
export function accMode(flags: number): number {
  return [MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE][flags & 3]!;
}

/** Byte length of a name or path as the kernel counts it (strBytes: one byte per character up to 0xff, UTF-8 above). */
export function byteLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return strBytes(s).length;
  return s.length;
}

/**
 * d_path(): the name of `p` seen from the namespace's root — the names up to the root of its
 * file system, then on up through the mount point it is mounted on, to the root mount; a dentry
 * of a pseudo file system that is in no tree names itself (d_dname).
 * @kernel fs/d_path.c d_path, prepend_path
 */
export function dPath(p: VfsPath): string {
  if (p.dentry.dname !== null) return p.dentry.dname;
  const parts: string[] = [];
  let mnt = p.mnt;
  let d: Dentry | null = p.dentry;
  while (d !== null) {
    if (d === mnt.root) {
      if (mnt.parent === null || mnt.mountpoint === null) break;
      d = mnt.mountpoint;
      mnt = mnt.parent;
      continue;
    }
    parts.push(d.name);
    d = d.parent;
  }
  return '/' + parts.reverse().join('/');
}
