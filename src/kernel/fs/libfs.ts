/**
 * Building blocks the emulated pseudo file systems share: directories whose entries sit in a
 * table (the static part of a tree, as proc_mkdir/kernfs/debugfs_create_dir make it) with an
 * optional computed part (pids, fds, heaps, buffers, cgroups), text files served by seq_file,
 * symbolic links with a computed body. Each file system says how a missing name is answered (a
 * negative dentry or ENOENT, with or without simple_lookup's NAME_MAX check) and in which order
 * getdents lists its names.
 *
 * @kernel fs/libfs.c (simple_lookup, dcache_readdir, simple_dir_operations), fs/proc/generic.c, fs/kernfs/dir.c
 */
import { Errno } from '../../uapi/errno.js';
import { File, FMODE_CAN_READ, FMODE_CAN_WRITE, FMODE_LSEEK, FMODE_OPENED, openFmode } from './file.js';
import type { FileOperations } from './file.js';
import type { Process } from './process.js';
import { seqFops, seqPriv } from './seq-file.js';
import type { TextPoll } from './seq-file.js';
import type { SeqShow } from './seq-file.js';
import { byteLength, Dentry, dPath, isDirInode, NAME_MAX, S_IFDIR, S_IFLNK, S_IFREG } from './vfs.js';
import type { InodeOperations, SuperBlock, VfsInode, VfsPath } from './vfs.js';

const E = Errno;

/** How a directory answers a name it does not have. */
export type MissingName =
  /** A negative dentry (kernfs, debugfs): O_CREAT then fails for want of ->create (EACCES). */
  | 'negative'
  /** simple_lookup(): ENAMETOOLONG beyond NAME_MAX bytes, else a negative dentry (tmpfs, devtmpfs, debugfs, the root). */
  | 'simple'
  /** ENOENT from ->lookup itself (procfs keeps no negative dentries). */
  | 'enoent';

export interface DirSpec {
  readonly sb: SuperBlock;
  readonly ino: number;
  /** Permission bits; S_IFDIR is added. */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly missing: MissingName;
  /** Entries made at each lookup: the dentry, a negated errno, or null when `name` is none of them. */
  readonly lookupDynamic?: (dir: Dentry, name: string, proc: Process) => Dentry | number | null;
  /** The names of the computed entries, in their order. */
  readonly listDynamic?: (dir: Dentry, proc: Process) => readonly string[];
  /** getdents order of the table's names (in insertion order) and the computed ones; default: table then computed. */
  readonly order?: (table: readonly string[], dynamic: readonly string[]) => string[];
  /** Other operations of the directory (permission, mkdir, rmdir). */
  readonly op?: Omit<InodeOperations, 'lookup' | 'iterate' | 'open'>;
  readonly immutable?: boolean;
  /**
   * st_nlink is 2 plus the subdirectories (kernfs, debugfs, devtmpfs): those of the table and
   * `dynamicSubdirs()` computed ones. Without it st_nlink is 1.
   */
  readonly subdirNlink?: boolean;
  readonly dynamicSubdirs?: () => number;
  /**
   * shmem's directory size (devtmpfs is shmem): BOGO_DIRENT_SIZE bytes for `.`, `..` and each
   * entry, counted with `dynamicEntries()` for the computed ones. Without it st_size is 0.
   * @kernel mm/shmem.c BOGO_DIRENT_SIZE, shmem_mknod, shmem_get_inode (a new directory's 2 entries)
   */
  readonly direntSize?: number;
  readonly dynamicEntries?: () => number;
}

/**
 * st_nlink of a directory that counts its subdirectories: 2 (itself and `.`) plus one `..` of
 * each subdirectory, computed when stat asks.
 * @kernel fs/kernfs/inode.c kernfs_refresh_inode; fs/libfs.c simple_mkdir's inc_nlink (debugfs, devtmpfs)
 */
export function setSubdirNlink(inode: VfsInode, subdirs: () => number): VfsInode {
  Object.defineProperty(inode, 'nlink', { get: () => 2 + subdirs(), enumerable: true });
  return inode;
}

/**
 * A directory of a pseudo file system, kept for the life of the file system: a table of named
 * children and, optionally, children computed at each lookup.
 */
export class TableDir {
  readonly dentry: Dentry;
  readonly inode: VfsInode;
  private readonly table = new Map<string, Dentry>();

  constructor(name: string, parent: Dentry | null, private readonly spec: DirSpec) {
    const op: InodeOperations = {
      ...spec.op,
      lookup: (_dir, n, proc) => this.lookup(n, proc),
      iterate: (_dir, proc) => this.names(proc),
      open: (path, flags) => openDir(path, flags),
    };
    this.inode = { ino: spec.ino, mode: S_IFDIR | spec.mode, uid: spec.uid ?? 0, gid: spec.gid ?? 0, rdev: 0, dev: spec.sb.dev, size: 0, op, immutable: spec.immutable };
    this.dentry = new Dentry(name, parent, this.inode);
    const direntSize = spec.direntSize;
    if (direntSize !== undefined) {
      Object.defineProperty(this.inode, 'size', { get: () => direntSize * (2 + this.table.size + (spec.dynamicEntries?.() ?? 0)), enumerable: true });
    }
    if (spec.subdirNlink === true) {
      setSubdirNlink(this.inode, () => {
        let n = spec.dynamicSubdirs?.() ?? 0;
        for (const d of this.table.values()) if (d.inode !== null && isDirInode(d.inode)) n++;
        return n;
      });
    }
  }

  get sb(): SuperBlock {
    return this.spec.sb;
  }

  /** A child in the table (its dentry's parent must be this directory). */
  add(d: Dentry): Dentry {
    this.table.set(d.name, d);
    return d;
  }

  /** A subdirectory in the table, with the same file system and missing-name rule unless `spec` says otherwise. */
  dir(name: string, spec: Partial<DirSpec> & { readonly ino: number }): TableDir {
    const d = new TableDir(name, this.dentry, { mode: 0o755, missing: this.spec.missing, sb: this.spec.sb, ...spec });
    this.add(d.dentry);
    return d;
  }

  /** A text file in the table. */
  file(name: string, attr: TextAttr): Dentry {
    return this.add(new Dentry(name, this.dentry, textInode(this.spec.sb, attr)));
  }

  /** A symbolic link in the table. */
  link(name: string, ino: number, body: (proc: Process) => string): Dentry {
    return this.add(new Dentry(name, this.dentry, symlinkInode(this.spec.sb, ino, body)));
  }

  private lookup(name: string, proc: Process): Dentry | number {
    const d = this.table.get(name);
    if (d !== undefined) return d;
    const dyn = this.spec.lookupDynamic?.(this.dentry, name, proc) ?? null;
    if (dyn !== null) return dyn;
    return missing(this.spec.missing, this.dentry, name);
  }

  private names(proc: Process): string[] {
    const table = [...this.table.keys()];
    const dynamic = this.spec.listDynamic?.(this.dentry, proc) ?? [];
    return this.spec.order !== undefined ? this.spec.order(table, dynamic) : [...table, ...dynamic];
  }
}

/** The answer of a directory for a name it does not have (see {@link MissingName}). */
export function missing(how: MissingName, dir: Dentry, name: string): Dentry | number {
  if (how === 'enoent') return -E.ENOENT;
  if (how === 'simple' && byteLength(name) > NAME_MAX) return -E.ENAMETOOLONG;
  return new Dentry(name, dir, null);
}

/** A directory inode made at lookup time (kernfs and procfs directories for live objects). */
export function dirInode(sb: SuperBlock, ino: number, mode: number, op: Omit<InodeOperations, 'open'>, owner: { uid: number; gid: number } = { uid: 0, gid: 0 }, immutable = false): VfsInode {
  return { ino, mode: S_IFDIR | mode, uid: owner.uid, gid: owner.gid, rdev: 0, dev: sb.dev, size: 0, blocks: 0, blksize: sb.blksize, op: { ...op, open: (path, flags) => openDir(path, flags) }, immutable };
}

/** generic_read_dir(): read() on a directory is EISDIR. */
const DIR_FOPS: FileOperations = { read: () => -E.EISDIR, llseek: () => 0 };

/**
 * The open of a directory (dcache_dir_open and the like): a file that getdents would list,
 * read-only (an open for writing was refused by may_open: EISDIR).
 */
export function openDir(path: VfsPath, flags: number): File {
  const f = new File(DIR_FOPS, path.dentry.inode!, flags, openFmode(flags) | FMODE_LSEEK | FMODE_OPENED | FMODE_CAN_READ, () => dPath(path), path.mnt.id, null);
  return f;
}

/** What a text file is: its inode's attributes and what it shows and takes. */
export interface TextAttr extends SeqShow {
  /** Permission bits (0444, 0644, 0400); S_IFREG is added. */
  readonly mode: number;
  readonly ino: number;
  readonly uid?: number;
  readonly gid?: number;
  /**
   * Checked by the open after the permission check (i_fop->open): /proc's ptrace read access
   * (fdinfo, maps), kernfs's refusal to open an attribute without a store for writing.
   */
  readonly mayOpen?: (proc: Process, flags: number) => number;
  /** st_size: the file system's attribute size when absent (sysfs: PAGE_SIZE; a device-tree property: its length). */
  readonly size?: number;
  /** How it answers poll; the file system's (SuperBlock.textPoll) when absent, else none. */
  readonly poll?: TextPoll;
}

/** A text file's inode: opening it makes a seq_file over `attr.show` (and `attr.store` when writable). */
export function textInode(sb: SuperBlock, attr: TextAttr): VfsInode {
  const inode: VfsInode = {
    ino: attr.ino, mode: S_IFREG | attr.mode, uid: attr.uid ?? 0, gid: attr.gid ?? 0, rdev: 0, dev: sb.dev, size: attr.size ?? sb.attrSize ?? 0, blocks: 0, blksize: sb.blksize,
    op: {
      open: (path, flags, proc) => {
        const check = attr.mayOpen?.(proc, flags) ?? 0;
        if (check < 0) return check;
        let fmode = openFmode(flags) | FMODE_LSEEK | FMODE_OPENED | FMODE_CAN_READ;
        if (attr.store !== undefined) fmode |= FMODE_CAN_WRITE;
        return new File(seqFops(attr.poll ?? sb.textPoll ?? 'none'), inode, flags, fmode, () => dPath(path), path.mnt.id, seqPriv(attr));
      },
    },
  };
  return inode;
}

/** A symbolic link's inode (lrwxrwxrwx, root's): its body is computed when followed or read. */
export function symlinkInode(sb: SuperBlock, ino: number, body: (proc: Process) => string, owner: { uid: number; gid: number } = { uid: 0, gid: 0 }): VfsInode {
  return { ino, mode: S_IFLNK | 0o777, uid: owner.uid, gid: owner.gid, rdev: 0, dev: sb.dev, size: 0, blksize: sb.blksize, op: { getLink: (_d, proc) => body(proc) } };
}

/** The super block of an internal mount (kern_mount): an empty root; its files are reached through open fds only. */
export function internalSb(type: string, dev: number): SuperBlock {
  const sb: { type: string; dev: number; root: Dentry | null } = { type, dev, root: null };
  sb.root = new TableDir('/', null, { sb: sb as SuperBlock, ino: 1, mode: 0o755, missing: 'enoent' }).dentry;
  return sb as SuperBlock;
}
