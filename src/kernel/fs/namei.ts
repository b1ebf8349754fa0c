/**
 * The path walk, and the syscalls that walk a path: open(2), readlink(2), mkdir(2), rmdir(2) and
 * opendir+getdents. A path is walked one component at a time from the process's root (or its
 * working directory, which is the root: there is no chdir), over the mount table: search
 * permission (MAY_EXEC) on every directory before a name is looked up in it, `.` and `..` (which
 * at a mount's root climbs to the mount point, and at `/` stays), mounts crossed on the way down,
 * symbolic links followed (at most 40 in one walk), /proc's magic links jumping to an open file's
 * place. Every errno below comes from the same steps in Linux, in Linux's order.
 *
 * @kernel fs/namei.c (getname, path_init, link_path_walk, walk_component, may_lookup, step_into, pick_link, handle_dots, follow_dotdot, lookup_last, path_lookupat, path_parentat, open_last_lookups, lookup_open, do_open, may_open, do_tmpfile, do_o_path, filename_create, do_mkdirat, vfs_mkdir, do_rmdir, vfs_rmdir, may_delete), fs/open.c (build_open_flags, do_dentry_open), fs/stat.c do_readlinkat, fs/readdir.c
 */
import { Errno } from '../../uapi/errno.js';
import type { FcntlConstants } from '../../uapi/fcntl.js';
import { File, FMODE_CAN_ODIRECT, FMODE_OPENED, FMODE_PATH, FMODE_WRITE, FMODE_WRITER, PATH_FOPS } from './file.js';
import type { Mount, MountTable } from './mount.js';
import type { Process } from './process.js';
import {
  accMode, byteLength, canLookup, Dentry, dPath, inodePermission, isDirInode, isSymlink, MAY_EXEC, MAY_OPEN, MAY_WRITE, MAXSYMLINKS, PATH_MAX, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT,
} from './vfs.js';
import { S_IFBLK, S_IFIFO, S_IFSOCK } from '../../uapi/fcntl.js';
import type { VfsInode, VfsPath } from './vfs.js';

const E = Errno;

/** __O_TMPFILE (include/uapi/asm-generic/fcntl.h): O_TMPFILE without its O_DIRECTORY. */
const O_TMPFILE_BIT = 0o20000000;

/** Lookup flags (include/linux/namei.h). */
const LOOKUP_FOLLOW = 0x1;
const LOOKUP_DIRECTORY = 0x2;

/** walk_component()/step_into() flags (fs/namei.c). */
const WALK_TRAILING = 1;
const WALK_MORE = 2;
const WALK_NOFOLLOW = 4;

/** nd->last_type: what the last component is. */
type LastType = 'norm' | 'root' | 'dot' | 'dotdot' | 'bind';

/** struct nameidata: the state of one walk. */
class Nameidata {
  path: VfsPath;
  /** The last component seen (the one a caller acts on once the walk returns). */
  last = '';
  lastType: LastType = 'root';
  /** nd->last.name[nd->last.len] != 0: the last component of the path was followed by a slash. */
  lastSlash = false;
  totalLinkCount = 0;
  constructor(
    readonly mnts: MountTable,
    readonly proc: Process,
    readonly root: VfsPath,
    public flags: number,
  ) {
    this.path = root;
  }
}

/**
 * getname(): the path as the kernel copies it from user memory: up to its first NUL (a C
 * string); empty → ENOENT; PATH_MAX bytes or more (with the NUL) → ENAMETOOLONG.
 * @kernel fs/namei.c getname_flags
 */
export function getname(path: string): string | number {
  const nul = path.indexOf('\0');
  const s = nul < 0 ? path : path.slice(0, nul);
  if (s.length >= PATH_MAX || (s.length * 4 >= PATH_MAX && byteLength(s) >= PATH_MAX)) return -E.ENAMETOOLONG;
  if (s === '') return -E.ENOENT;
  return s;
}

/**
 * path_init(): a new walk from the root for an absolute path, else from the working directory,
 * which is the root for every emulated process (there is no chdir).
 */
function pathInit(mnts: MountTable, proc: Process, flags: number): Nameidata {
  const root = mnts.root;
  return new Nameidata(mnts, proc, root, flags);
}

/** The first index at or after `i` that is not a slash. */
function skipSlashes(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === 0x2f) i++;
  return i;
}

/**
 * may_lookup(): search permission on the directory the walk is in (EACCES; for another user's
 * /proc/<pid>/fd, before the name is even looked up).
 */
function mayLookup(nd: Nameidata): number {
  return inodePermission(nd.path.dentry.inode!, MAY_EXEC, nd.proc);
}

/**
 * link_path_walk(): walks every component of `s` but the last, which it leaves in nd.last for
 * the caller (open, lookup, parent lookup). A symbolic link met on the way is walked in place
 * (its body, then the rest of the path); every component walked must be a directory (ENOTDIR).
 * Returns 0 or a negated errno.
 */
function linkPathWalk(nd: Nameidata, path: string): number {
  /** The rest of the path (or of an enclosing link body) to resume after a nested link body. */
  const stack: { s: string; i: number }[] = [];
  let s = path;
  nd.lastType = 'root';
  let i = skipSlashes(s, 0);
  if (i === s.length) return 0;
  for (;;) {
    const err = mayLookup(nd);
    if (err < 0) return err;
    let j = s.indexOf('/', i);
    if (j < 0) j = s.length;
    const name = s.slice(i, j);
    nd.last = name;
    nd.lastType = name === '.' ? 'dot' : name === '..' ? 'dotdot' : 'norm';
    const k = skipSlashes(s, j);
    let link: string | number | null;
    if (k === s.length) {
      if (stack.length === 0) {
        // the path's last component (or a trailing link's): the caller walks it
        nd.lastSlash = j < s.length;
        return 0;
      }
      // the last component of a link body met in the middle of the path: then the rest
      const outer = stack.pop()!;
      s = outer.s;
      i = outer.i;
      link = walkComponent(nd, 0);
    } else {
      link = walkComponent(nd, WALK_MORE);
      i = k;
    }
    if (typeof link === 'number') return link;
    if (link !== null) {
      // a symbolic link to follow: its body first, then the rest of this string
      stack.push({ s, i });
      s = link;
      i = 0;
      continue;
    }
    if (!canLookup(nd.path.dentry)) return -E.ENOTDIR;
  }
}

/** ->lookup() of `name` in the directory the walk is in. */
function lookup(nd: Nameidata, name: string): Dentry | number {
  const dir = nd.path.dentry;
  return dir.inode!.op.lookup!(dir, name, nd.proc);
}

/**
 * walk_component(): `.` and `..` (handle_dots), else the lookup of nd.last and a step onto it.
 * Returns null (the walk is on the component), a link body to walk, or a negated errno.
 */
function walkComponent(nd: Nameidata, flags: number): string | number | null {
  if (nd.lastType !== 'norm') return handleDots(nd, nd.lastType);
  const d = lookup(nd, nd.last);
  if (typeof d === 'number') return d;
  return stepInto(nd, flags, d);
}

/**
 * step_into(): onto `d` (a negative dentry: ENOENT), down through whatever is mounted on it
 * (traverse_mounts), and through a symbolic link unless this is the last component and the
 * caller does not follow it (or `..`).
 */
function stepInto(nd: Nameidata, flags: number, d: Dentry): string | number | null {
  if (d.inode === null) return -E.ENOENT;
  let path: VfsPath = { mnt: nd.path.mnt, dentry: d };
  for (let m = nd.mnts.lookupMnt(path); m !== null; m = nd.mnts.lookupMnt(path)) path = { mnt: m, dentry: m.root };
  if (!isSymlink(path.dentry) || ((flags & WALK_TRAILING) !== 0 && (nd.flags & LOOKUP_FOLLOW) === 0) || (flags & WALK_NOFOLLOW) !== 0) {
    nd.path = path;
    return null;
  }
  return pickLink(nd, path);
}

/**
 * pick_link(): the 41st link of a walk is ELOOP; a magic link (/proc/<pid>/fd/<n>) puts the walk
 * where it points (nd_jump_link); a body starting with `/` restarts from the root.
 */
function pickLink(nd: Nameidata, link: VfsPath): string | number | null {
  if (nd.totalLinkCount++ >= MAXSYMLINKS) return -E.ELOOP;
  const res = link.dentry.inode!.op.getLink!(link.dentry, nd.proc);
  if (typeof res === 'number') return res;
  if (typeof res !== 'string') {
    nd.path = res;
    nd.lastType = 'bind';
    return null;
  }
  let i = 0;
  if (res.startsWith('/')) {
    nd.path = nd.root;
    i = skipSlashes(res, 0);
  }
  return i === res.length ? null : res.slice(i);
}

/**
 * handle_dots(): `..` goes to the parent (follow_dotdot): at the process's root it stays; at the
 * root of a mount it first climbs to the mount point (choose_mountpoint); `.` stays.
 */
function handleDots(nd: Nameidata, type: LastType): string | number | null {
  if (type !== 'dotdot') return null;
  return stepInto(nd, WALK_NOFOLLOW, followDotdot(nd));
}

/** follow_dotdot(): the dentry `..` names; nd.path moves to the mount point first when the walk is at a mount's root. */
function followDotdot(nd: Nameidata): Dentry {
  const root = nd.root;
  if (nd.path.dentry === root.dentry && nd.path.mnt === root.mnt) return nd.path.dentry;
  if (nd.path.dentry === nd.path.mnt.root) {
    const mp = chooseMountpoint(nd.path.mnt, root);
    if (mp === null) return nd.path.dentry;
    nd.path = mp;
  }
  return nd.path.dentry.parent ?? nd.path.dentry;
}

/** choose_mountpoint(): the mount point below mount `m`, skipping mounts stacked on another's root; null at the process's root. */
function chooseMountpoint(m: Mount, root: VfsPath): VfsPath | null {
  let cur = m;
  while (cur.parent !== null && cur.mountpoint !== null) {
    const mp = cur.mountpoint;
    cur = cur.parent;
    if (root.dentry === mp && root.mnt === cur) break;
    if (mp !== cur.root) return { mnt: cur, dentry: mp };
  }
  return null;
}

/**
 * lookup_last(): the last component of a lookup (not an open); a trailing slash makes it follow
 * a link and want a directory.
 */
function lookupLast(nd: Nameidata): string | number | null {
  if (nd.lastType === 'norm' && nd.lastSlash) nd.flags |= LOOKUP_FOLLOW | LOOKUP_DIRECTORY;
  return walkComponent(nd, WALK_TRAILING);
}

/**
 * path_lookupat(): the whole walk, trailing links included (LOOKUP_FOLLOW), and LOOKUP_DIRECTORY's
 * ENOTDIR at the end. Returns where it ended or a negated errno.
 */
function pathLookupat(mnts: MountTable, proc: Process, path: string, flags: number): VfsPath | number {
  const nd = pathInit(mnts, proc, flags);
  let s: string | number | null = path;
  for (;;) {
    const err = linkPathWalk(nd, s);
    if (err < 0) return err;
    s = lookupLast(nd);
    if (typeof s === 'number') return s;
    if (s === null) break;
  }
  if ((nd.flags & LOOKUP_DIRECTORY) !== 0 && !canLookup(nd.path.dentry)) return -E.ENOTDIR;
  return nd.path;
}

/** path_parentat(): the walk up to the last component's directory; the caller acts on the name. */
function pathParentat(mnts: MountTable, proc: Process, path: string): Nameidata | number {
  const nd = pathInit(mnts, proc, 0);
  const err = linkPathWalk(nd, path);
  return err < 0 ? err : nd;
}

/** The open(2) flags a path walk needs. */
export interface OpenContext {
  readonly mnts: MountTable;
  readonly fc: FcntlConstants;
}

/**
 * do_filp_open(): the VFS half of open(2), after the fd was reserved. `flags` are open(2)'s,
 * already masked to VALID_OPEN_FLAGS (O_PATH ones to O_PATH_FLAGS). O_TMPFILE looks the
 * directory up and asks it for an unnamed file (do_tmpfile), O_PATH opens the place only
 * (do_o_path), everything else walks to the last component (open_last_lookups, following
 * trailing links) and opens it (do_open).
 * @kernel fs/namei.c do_filp_open, path_openat; fs/open.c build_open_flags
 */
export function doFilpOpen(ctx: OpenContext, proc: Process, pathname: string, flags: number): File | number {
  const fc = ctx.fc;
  const name = getname(pathname);
  if (typeof name === 'number') return name;
  // build_open_flags(): O_CREAT|O_EXCL never follows a trailing link
  let lookupFlags = 0;
  const nofollow = (flags & fc.O_NOFOLLOW) !== 0 || ((flags & fc.O_CREAT) !== 0 && (flags & fc.O_EXCL) !== 0);
  if ((flags & fc.O_DIRECTORY) !== 0) lookupFlags |= LOOKUP_DIRECTORY;
  if (!nofollow) lookupFlags |= LOOKUP_FOLLOW;
  if ((flags & O_TMPFILE_BIT) !== 0) return doTmpfile(ctx.mnts, proc, name, lookupFlags);
  if ((flags & fc.O_PATH) !== 0) {
    const p = pathLookupat(ctx.mnts, proc, name, lookupFlags);
    return typeof p === 'number' ? p : vfsOpen(ctx, p, flags, proc);
  }
  const nd = pathInit(ctx.mnts, proc, lookupFlags);
  let s: string | number | null = name;
  for (;;) {
    const err = linkPathWalk(nd, s);
    if (err < 0) return err;
    s = openLastLookups(nd, flags, fc);
    if (typeof s === 'number') return s;
    if (s === null) break;
  }
  return doOpen(ctx, nd, flags);
}

/**
 * open_last_lookups(): the last component of an open. Without O_CREAT a trailing slash makes it
 * follow a link and want a directory; with O_CREAT a trailing slash is EISDIR, and a name that
 * is not there is created — which no emulated file system does: a read-only mount says EROFS, a
 * directory the caller may not write EACCES (or EPERM when immutable), and a file system without
 * ->create EACCES (sysfs, debugfs, cgroupfs; procfs answered ENOENT from its lookup already).
 * Returns null when the walk is on the file, a trailing link's body to walk, or a negated errno.
 * @kernel fs/namei.c open_last_lookups, lookup_open, may_o_create
 */
function openLastLookups(nd: Nameidata, flags: number, fc: FcntlConstants): string | number | null {
  if (nd.lastType !== 'norm') return handleDots(nd, nd.lastType);
  const creat = (flags & fc.O_CREAT) !== 0;
  if (!creat) {
    if (nd.lastSlash) nd.flags |= LOOKUP_FOLLOW | LOOKUP_DIRECTORY;
  } else if (nd.lastSlash) {
    return -E.EISDIR;
  }
  const d = lookup(nd, nd.last);
  if (typeof d === 'number') return d;
  if (d.inode === null && creat) {
    const dir = nd.path.dentry.inode!;
    const createError = nd.path.mnt.readOnly ? -E.EROFS : inodePermission(dir, MAY_WRITE | MAY_EXEC, nd.proc);
    return createError < 0 ? createError : -E.EACCES;
  }
  return stepInto(nd, WALK_TRAILING, d);
}

/**
 * do_open(): O_CREAT on what exists (O_EXCL: EEXIST; a directory: EISDIR), LOOKUP_DIRECTORY on
 * what is not one (ENOTDIR), may_open(), then the file's open.
 */
function doOpen(ctx: OpenContext, nd: Nameidata, flags: number): File | number {
  const fc = ctx.fc;
  const d = nd.path.dentry;
  if ((flags & fc.O_CREAT) !== 0) {
    if ((flags & fc.O_EXCL) !== 0) return -E.EEXIST;
    if (d.inode !== null && isDirInode(d.inode)) return -E.EISDIR;
  }
  if ((nd.flags & LOOKUP_DIRECTORY) !== 0 && !canLookup(d)) return -E.ENOTDIR;
  // build_open_flags(): the access mode's permission, and write permission for O_TRUNC
  let acc = MAY_OPEN | accMode(flags);
  if ((flags & fc.O_TRUNC) !== 0) acc |= MAY_WRITE;
  const err = mayOpen(nd.path, acc, flags, nd.proc, fc);
  if (err < 0) return err;
  return vfsOpen(ctx, nd.path, flags, nd.proc);
}

/**
 * may_open(): a symbolic link cannot be opened (ELOOP), a directory not for writing (EISDIR);
 * then the inode's permission for the access mode, and O_NOATIME only for the owner (or root).
 * @kernel fs/namei.c may_open
 */
function mayOpen(path: VfsPath, acc: number, flags: number, proc: Process, fc: FcntlConstants): number {
  const inode = path.dentry.inode;
  if (inode === null) return -E.ENOENT;
  switch (inode.mode & S_IFMT) {
    case S_IFLNK:
      return -E.ELOOP;
    case S_IFDIR:
      if ((acc & MAY_WRITE) !== 0) return -E.EISDIR;
      if ((acc & MAY_EXEC) !== 0) return -E.EACCES;
      break;
    case S_IFCHR:
      if ((acc & MAY_EXEC) !== 0) return -E.EACCES;
      break;
  }
  const err = inodePermission(inode, acc, proc);
  if (err < 0) return err;
  // inode_owner_or_capable(): the file's owner or CAP_FOWNER
  if ((flags & fc.O_NOATIME) !== 0 && proc.cred.uid !== 0 && proc.cred.uid !== inode.uid) return -E.EPERM;
  return 0;
}

/**
 * vfs_open() / do_dentry_open(): O_PATH gives a file for the place only (FMODE_PATH, no
 * operations); otherwise the inode's open (none: ENXIO, as no_open), which keeps f_flags but
 * O_CREAT, O_EXCL, O_NOCTTY and O_TRUNC; then O_DIRECT on a file that cannot do it is EINVAL.
 * @kernel fs/open.c vfs_open, do_dentry_open; fs/libfs.c no_open
 */
function vfsOpen(ctx: OpenContext, path: VfsPath, flags: number, proc: Process): File | number {
  const fc = ctx.fc;
  const inode = path.dentry.inode!;
  if ((flags & fc.O_PATH) !== 0) {
    const f = new File(PATH_FOPS, inode, flags, FMODE_PATH | FMODE_OPENED, () => dPath(path), path.mnt.id, null);
    f.vfsPath = path;
    return f;
  }
  const open = inode.op.open;
  if (open === undefined) return -E.ENXIO;
  const f = open(path, flags & ~(fc.O_CREAT | fc.O_EXCL | fc.O_NOCTTY | fc.O_TRUNC), proc);
  if (typeof f === 'number') return f;
  f.vfsPath ??= path;
  // get_write_access() for a writer that is not a device, FIFO or socket (special_file())
  const type = f.inode.mode & S_IFMT;
  if ((f.mode & FMODE_WRITE) !== 0 && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFIFO && type !== S_IFSOCK) {
    f.inode.writecount = (f.inode.writecount ?? 0) + 1;
    f.mode |= FMODE_WRITER;
  }
  if ((f.flags & fc.O_DIRECT) !== 0 && (f.mode & FMODE_CAN_ODIRECT) === 0) {
    f.put();
    return -E.EINVAL;
  }
  return f;
}

/**
 * do_tmpfile(): the directory (following links; ENOENT, ENOTDIR), a read-only mount (EROFS),
 * write and search permission on it (EACCES; EPERM for an immutable /proc/<pid>), then its
 * ->tmpfile, which no emulated file system has (EOPNOTSUPP).
 * @kernel fs/namei.c do_tmpfile, vfs_tmpfile
 */
function doTmpfile(mnts: MountTable, proc: Process, name: string, lookupFlags: number): number {
  const p = pathLookupat(mnts, proc, name, lookupFlags | LOOKUP_DIRECTORY);
  if (typeof p === 'number') return p;
  if (p.mnt.readOnly) return -E.EROFS;
  const err = inodePermission(p.dentry.inode!, MAY_WRITE | MAY_EXEC, proc);
  return err < 0 ? err : -E.EOPNOTSUPP;
}

/**
 * readlink(2)'s walk and read: the path without following its last component; a symbolic link
 * gives its body (or, for a /proc magic link, ->readlink: the open file's name), anything else
 * EINVAL.
 * @kernel fs/stat.c do_readlinkat; fs/namei.c vfs_readlink
 */
export function doReadlinkat(mnts: MountTable, proc: Process, pathname: string): string | number {
  const name = getname(pathname);
  if (typeof name === 'number') return name;
  const p = pathLookupat(mnts, proc, name, 0);
  if (typeof p === 'number') return p;
  const inode = p.dentry.inode!;
  if (inode.op.readlink !== undefined) return inode.op.readlink(p.dentry, proc);
  if (!isSymlink(p.dentry)) return -E.EINVAL;
  const body = inode.op.getLink!(p.dentry, proc);
  return typeof body === 'string' || typeof body === 'number' ? body : -E.EINVAL;
}

/**
 * mkdir(2): the parent directory is walked (ENOENT, ENOTDIR, EACCES), a last component `.`,
 * `..` or none is EEXIST, the name is looked up (procfs: ENOENT; tmpfs-like: ENAMETOOLONG) and
 * must not exist (EEXIST); then a read-only mount is EROFS, the directory's write and search
 * permission EACCES (EPERM immutable), a file system without ->mkdir EPERM, and ->mkdir gets the
 * mode less the umask (0022).
 * @kernel fs/namei.c do_mkdirat, filename_create, vfs_mkdir, may_create
 */
export function doMkdirat(mnts: MountTable, proc: Process, pathname: string, mode: number): number {
  const name = getname(pathname);
  if (typeof name === 'number') return name;
  const nd = pathParentat(mnts, proc, name);
  if (typeof nd === 'number') return nd;
  if (nd.lastType !== 'norm') return -E.EEXIST;
  const d = lookup(nd, nd.last);
  if (typeof d === 'number') return d;
  if (d.inode !== null) return -E.EEXIST;
  if (nd.path.mnt.readOnly) return -E.EROFS;
  const dir = nd.path.dentry;
  const err = inodePermission(dir.inode!, MAY_WRITE | MAY_EXEC, proc);
  if (err < 0) return err;
  const op = dir.inode!.op.mkdir;
  if (op === undefined) return -E.EPERM;
  return op(dir, nd.last, mode & 0o1777 & ~0o022, proc);
}

/**
 * rmdir(2): the parent directory is walked; a last component `..` is ENOTEMPTY, `.` EINVAL, none
 * (`/`) EBUSY; a read-only mount EROFS; the name is looked up (ENOENT); may_delete(): write and
 * search permission on the directory (EACCES, EPERM immutable), the victim must be a directory
 * (ENOTDIR: a symbolic link is not followed); then a file system without ->rmdir is EPERM, a
 * mount point EBUSY, and ->rmdir decides.
 * @kernel fs/namei.c do_rmdir, vfs_rmdir, may_delete
 */
export function doRmdir(mnts: MountTable, proc: Process, pathname: string): number {
  const name = getname(pathname);
  if (typeof name === 'number') return name;
  const nd = pathParentat(mnts, proc, name);
  if (typeof nd === 'number') return nd;
  if (nd.lastType === 'dotdot') return -E.ENOTEMPTY;
  if (nd.lastType === 'dot') return -E.EINVAL;
  if (nd.lastType !== 'norm') return -E.EBUSY;
  if (nd.path.mnt.readOnly) return -E.EROFS;
  const victim = lookup(nd, nd.last);
  if (typeof victim === 'number') return victim;
  if (victim.inode === null) return -E.ENOENT;
  const dir = nd.path.dentry;
  const err = inodePermission(dir.inode!, MAY_WRITE | MAY_EXEC, proc);
  if (err < 0) return err;
  if (!isDirInode(victim.inode)) return -E.ENOTDIR;
  const op = dir.inode!.op.rmdir;
  if (op === undefined) return -E.EPERM;
  if (mnts.isMountpoint(victim)) return -E.EBUSY;
  return op(dir, victim, proc);
}

/**
 * opendir() + getdents(): open(O_RDONLY|O_DIRECTORY) (so ENOENT, ENOTDIR, EACCES as open gives
 * them, read permission included), then the directory's names.
 * @kernel fs/readdir.c iterate_dir
 */
export function doReaddir(ctx: OpenContext, proc: Process, pathname: string): readonly string[] | number {
  const f = doFilpOpen(ctx, proc, pathname, ctx.fc.O_RDONLY | ctx.fc.O_DIRECTORY | ctx.fc.O_LARGEFILE);
  if (typeof f === 'number') return f;
  try {
    const d = f.vfsPath!.dentry;
    const it = d.inode!.op.iterate;
    return it === undefined ? -E.ENOTDIR : it(d, proc);
  } finally {
    f.put();
  }
}

/**
 * A lookup that follows every link (stat(2)'s walk), or all but the last one (lstat(2)'s, with
 * `followLast` false): where `pathname` leads, or a negated errno.
 */
export function kernPath(mnts: MountTable, proc: Process, pathname: string, followLast = true): VfsPath | number {
  const name = getname(pathname);
  if (typeof name === 'number') return name;
  return pathLookupat(mnts, proc, name, followLast ? LOOKUP_FOLLOW : 0);
}

/** The /proc/<pid>/fd/<n> view of an open file: where a magic link to it jumps. */
export function fileJumpTarget(mnts: MountTable, f: File): VfsPath {
  if (f.vfsPath !== null) return f.vfsPath;
  // a file a driver made on an internal mount: a dentry that names itself (d_dname)
  const mnt = mnts.byId(f.mntId) ?? mnts.root.mnt;
  const inode = f.inode as Partial<VfsInode>;
  const vinode: VfsInode = inode.op !== undefined ? (f.inode as VfsInode) : { ...f.inode, op: {} };
  return { mnt, dentry: new Dentry(f.pathName, null, vinode, f.pathName) };
}
