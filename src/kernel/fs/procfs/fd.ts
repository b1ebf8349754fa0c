/**
 * /proc/<pid>/fd and /proc/<pid>/fdinfo: a magic link per open fd (following one reopens the
 * file, reading one names it) and a text file per open fd. Who may do what: fd/ is 0500 and owned
 * by the task, which the task itself passes whatever its uid (proc_fd_permission); fdinfo/ is
 * 0555 but needs ptrace read access to the task (proc_fdinfo_permission, 5.14); following or
 * reading a link and opening an fdinfo file need ptrace read access too.
 *
 * @kernel fs/proc/fd.c (proc_fd_permission, proc_fdinfo_permission, proc_fd_link, proc_lookupfd_common, tid_fd_update_inode, seq_show), fs/proc/base.c (proc_pid_get_link, proc_pid_readlink, proc_fd_access_allowed)
 */
import { Errno } from '../../../uapi/errno.js';
import type { FcntlConstants } from '../../../uapi/fcntl.js';
import { FMODE_READ, FMODE_WRITE } from '../file.js';
import type { File } from '../file.js';
import { dirInode, setSubdirNlink, textInode } from '../libfs.js';
import type { MountTable } from '../mount.js';
import { fileJumpTarget } from '../namei.js';
import type { Process } from '../process.js';
import { Dentry, genericPermission, S_IFLNK } from '../vfs.js';
import type { SuperBlock, VfsInode } from '../vfs.js';
import { nameToInt } from './util.js';

const E = Errno;

/**
 * Inode numbers: fd/ and fdinfo/ of a task; the links (one per task and fd: Linux gives each
 * link dentry its own inode, get_next_ino(), kept while the dentry is cached, so the same link
 * looked up twice has the same number and two links differ; vfs-walk2.c); an fdinfo file.
 * @kernel fs/proc/fd.c proc_fd_instantiate; fs/proc/base.c proc_pid_make_inode
 */
const FD_DIR_INO = 0xc0000;
const FD_LINK_INO = 2 ** 32;
const FDINFO_INO = 0x10000;

/** What fd/ and fdinfo/ need from the kernel. */
export interface ProcFdHost {
  readonly fc: FcntlConstants;
  readonly mnts: MountTable;
  /** v6.2: st_size of /proc/<pid>/fd is the number of open fds. */
  readonly profile?: { readonly procFdSize: boolean; readonly fdinfoIno: boolean };
}

/**
 * ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS) as far as the model goes: the caller is the
 * task, or has CAP_SYS_PTRACE (root), or has the task's uid and gid (every task here is dumpable
 * and there is no LSM).
 * @kernel kernel/ptrace.c __ptrace_may_access
 */
export function ptraceMayRead(caller: Process, task: Process): boolean {
  if (caller === task || caller.cred.uid === 0) return true;
  return caller.cred.uid === task.cred.uid && caller.cred.gid === task.cred.gid;
}

/** /proc/<pid>/fd: 0500, the task's; lists and looks up the open fds. */
export function fdDir(sb: SuperBlock, host: ProcFdHost, parent: Dentry, task: Process): Dentry {
  const owner = { uid: task.cred.uid, gid: task.cred.gid };
  const inode = dirInode(sb, FD_DIR_INO + task.pid * 2, 0o500, {
    // proc_fd_permission(): the mode, or being the task itself
    permission: (inode, mask, proc) => {
      const r = genericPermission(inode, proc.cred, mask);
      return r === 0 || proc === task ? 0 : r;
    },
    lookup: (dir, name) => {
      const fd = nameToInt(name);
      const f = fd === null ? null : task.fileRaw(fd);
      return f === null ? -E.ENOENT : fdLink(sb, host, dir, task, fd!, f);
    },
    iterate: () => task.openFds().map(String),
  }, owner);
  // a directory of the pid's table has st_nlink 2 (proc_pident_instantiate)
  setSubdirNlink(inode, () => 0);
  // proc_fd_getattr() (v6.2): st_size counts the open fds when stat() asks
  if (host.profile?.procFdSize === true) Object.defineProperty(inode, 'size', { get: () => task.openFdCount(), enumerable: true });
  return new Dentry('fd', parent, inode);
}

/**
 * /proc/<pid>/fd/<n>: a symbolic link owned by the task whose permission bits say how the file
 * is open (r-x for reading, -wx for writing; none for O_PATH). Following it needs ptrace read
 * access to the task (EACCES) and puts the walk where the file is (nd_jump_link): a device node
 * opens again, a memfd gets a new open file on its inode, a dma-buf or sync_file cannot be opened
 * (ENXIO). Reading it gives the file's name.
 */
function fdLink(sb: SuperBlock, host: ProcFdHost, dir: Dentry, task: Process, fd: number, f: File): Dentry {
  let mode = S_IFLNK;
  if ((f.mode & FMODE_READ) !== 0) mode |= 0o500;
  if ((f.mode & FMODE_WRITE) !== 0) mode |= 0o300;
  const inode: VfsInode = {
    ino: FD_LINK_INO + task.pid * 2 ** 20 + fd, mode, uid: task.cred.uid, gid: task.cred.gid, rdev: 0, dev: sb.dev, size: 0,
    op: {
      getLink: (_d, proc) => (ptraceMayRead(proc, task) ? fileJumpTarget(host.mnts, f) : -E.EACCES),
      readlink: (_d, proc) => (ptraceMayRead(proc, task) ? f.pathName : -E.EACCES),
    },
  };
  return new Dentry(String(fd), dir, inode);
}

/** /proc/<pid>/fdinfo: 0555, the task's, entered only with ptrace read access to it. */
export function fdinfoDir(sb: SuperBlock, host: ProcFdHost, parent: Dentry, task: Process): Dentry {
  const owner = { uid: task.cred.uid, gid: task.cred.gid };
  return new Dentry('fdinfo', parent, setSubdirNlink(dirInode(sb, FD_DIR_INO + task.pid * 2 + 1, 0o555, {
    permission: (inode, mask, proc) => (ptraceMayRead(proc, task) ? genericPermission(inode, proc.cred, mask) : -E.EACCES),
    lookup: (dir, name) => {
      const fd = nameToInt(name);
      const f = fd === null ? null : task.fileRaw(fd);
      if (f === null) return -E.ENOENT;
      // 0444 since the fdinfo directory itself needs ptrace access (5.14; 0400 before)
      return new Dentry(name, dir, textInode(sb, {
        mode: 0o444, ino: FDINFO_INO + fd!, ...owner,
        show: () => fdinfoText(host.fc, task, fd!, f, host.profile?.fdinfoIno !== false),
        // proc_fdinfo_access_allowed()
        mayOpen: (proc) => (ptraceMayRead(proc, task) ? 0 : -E.EACCES),
      }));
    },
    iterate: () => task.openFds().map(String),
  }, owner), () => 0));
}

/** /proc/<pid>/fdinfo/<fd> @kernel fs/proc/fd.c seq_show */
export function fdinfoText(fc: FcntlConstants, p: Process, fd: number, f: File, fdinfoIno = true): string {
  const flags = f.flags | (p.isCloexec(fd) ? fc.O_CLOEXEC : 0);
  let s = `pos:\t${f.pos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${f.mntId}\n`;
  // the generic ino: line (the 5.10 referee has none: Profile.fdinfoIno)
  if (fdinfoIno) s += `ino:\t${f.inode.ino}\n`;
  if (f.fop.showFdinfo) s += f.fop.showFdinfo(f);
  return s;
}
