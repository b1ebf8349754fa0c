/**
 * The mount table: which file system is mounted where. The emulated machine has one mount
 * namespace, as the oracle's guest: a read-only root file system with devtmpfs on /dev, procfs on
 * /proc, sysfs on /sys, and below it debugfs on /sys/kernel/debug and cgroup2 on /sys/fs/cgroup.
 * The kernel's internal mounts (shm_mnt for memfds, the dmabuf and anon_inode pseudo file
 * systems, pidfs) are in the table too, without a place in the tree (kern_mount()).
 *
 * Mount ids and st_dev numbers are fixed (docs/fidelity.md, mount-ids), so output is the same on
 * every boot.
 *
 * @kernel fs/namespace.c (struct mount, lookup_mnt, graft_tree, kern_mount), fs/mount.h
 */
import type { Dentry, SuperBlock, VfsPath } from './vfs.js';

/** struct mount / struct vfsmount */
export class Mount {
  constructor(
    /** mnt_id (fdinfo's mnt_id, /proc/<pid>/mountinfo's first column). */
    readonly id: number,
    readonly sb: SuperBlock,
    /** mnt_parent; null for the namespace's root and for internal mounts. */
    readonly parent: Mount | null,
    /** mnt_mountpoint: the dentry on the parent mount this one covers (null: not in the tree). */
    readonly mountpoint: Dentry | null,
    /** MNT_READONLY: nothing can be created or removed on it (mnt_want_write(): EROFS). */
    readonly readOnly: boolean,
  ) {}

  /** mnt_root */
  get root(): Dentry {
    return this.sb.root;
  }
}

/** struct mnt_namespace: the mounts and the root every process starts its walks from. */
export class MountTable {
  /** Every mount, in the order it was made. */
  readonly mounts: Mount[] = [];
  /** The mount covering each mount point: (parent mount, dentry) → child (the mount hash). */
  private readonly covering = new Map<Dentry, Mount>();
  private rootMount: Mount | null = null;

  /** The namespace's root (the `/` of every process: there is no chroot or pivot_root). */
  get root(): VfsPath {
    const m = this.rootMount;
    if (m === null) throw new Error('no root file system mounted');
    return { mnt: m, dentry: m.root };
  }

  /** Mounts `sb` as the root file system. */
  mountRoot(id: number, sb: SuperBlock, readOnly: boolean): Mount {
    const m = new Mount(id, sb, null, null, readOnly);
    this.mounts.push(m);
    this.rootMount = m;
    return m;
  }

  /**
   * do_new_mount() + graft_tree(): mounts `sb` on the directory `at` (a dentry the parent file
   * system keeps for as long as it exists).
   */
  mount(id: number, sb: SuperBlock, at: VfsPath, readOnly = false): Mount {
    const m = new Mount(id, sb, at.mnt, at.dentry, readOnly);
    this.mounts.push(m);
    this.covering.set(at.dentry, m);
    return m;
  }

  /** kern_mount(): an internal mount, reachable through the files on it only. */
  kernMount(id: number, sb: SuperBlock): Mount {
    const m = new Mount(id, sb, null, null, false);
    this.mounts.push(m);
    return m;
  }

  /** The internal or visible mount with this id. */
  byId(id: number): Mount | null {
    for (const m of this.mounts) if (m.id === id) return m;
    return null;
  }

  /**
   * lookup_mnt(): the mount on top of `path`, or null. Each dentry is mounted on at most once in
   * the one namespace, so the dentry alone is the key.
   */
  lookupMnt(path: VfsPath): Mount | null {
    const m = this.covering.get(path.dentry);
    return m !== undefined && m.parent === path.mnt ? m : null;
  }

  /** is_local_mountpoint(): something is mounted on `d`. */
  isMountpoint(d: Dentry): boolean {
    return this.covering.has(d);
  }
}
