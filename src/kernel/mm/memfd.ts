/**
 * memfd_create(2) and file sealing (fcntl F_ADD_SEALS / F_GET_SEALS), as in Linux 6.1: no
 * MFD_NOEXEC_SEAL / MFD_EXEC and no F_SEAL_EXEC yet (they came with 6.3).
 *
 * @kernel mm/memfd.c
 */
import { Errno } from '../../uapi/errno.js';
import {
  F_ADD_SEALS, F_GET_SEALS, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
  MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGE_MASK, MFD_HUGE_SHIFT, MFD_HUGETLB,
} from '../../uapi/fcntl.js';
import { FMODE_WRITE } from '../fs/file.js';
import type { File } from '../fs/file.js';
import type { Process } from '../fs/process.js';
import { bytesStr, strBytes } from '../bytes.js';
import type { ShmemFs, ShmemInode } from './shmem.js';

const E = Errno;

/** NAME_MAX (255) less the "memfd:" prefix. */
export const MFD_NAME_MAX_LEN = 255 - 'memfd:'.length;
/** MFD_ALL_FLAGS of 6.1. */
const MFD_ALL_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB;
/** F_ALL_SEALS of 6.1. */
const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/**
 * memfd_create(): unknown flag bits → EINVAL (with MFD_HUGETLB the huge page size bits are
 * allowed); a name (up to its first NUL) longer than MFD_NAME_MAX_LEN bytes → EINVAL; a free fd
 * (EMFILE); then the file: a tmpfs file named "memfd:<name>", O_RDWR | O_LARGEFILE, seekable,
 * sealed with F_SEAL_SEAL unless MFD_ALLOW_SEALING. The emulated kernel is built without
 * hugetlbfs, so MFD_HUGETLB then fails as the CONFIG_HUGETLBFS=n stub does (ENOSYS).
 * @kernel mm/memfd.c memfd_create; include/linux/hugetlb.h hugetlb_file_setup (stub)
 */
export function memfdCreate(shmem: ShmemFs, proc: Process, name: string, flags: number): number {
  const f = flags >>> 0;
  const allowed = (f & MFD_HUGETLB) === 0 ? MFD_ALL_FLAGS : MFD_ALL_FLAGS | (MFD_HUGE_MASK << MFD_HUGE_SHIFT);
  if ((f & ~allowed) !== 0) return -E.EINVAL;
  const nul = name.indexOf('\0');
  const bytes = strBytes(nul < 0 ? name : name.slice(0, nul));
  // strnlen_user() counts the terminating NUL
  if (bytes.length + 1 > MFD_NAME_MAX_LEN + 1) return -E.EINVAL;
  const fd = proc.reserveCheck();
  if (fd < 0) return fd;
  if ((f & MFD_HUGETLB) !== 0) return -E.ENOSYS;
  const fc = shmem.host.fc;
  const file = shmem.fileSetup(`memfd:${bytesStr(bytes)}`, proc.cred.uid, proc.cred.gid);
  file.flags |= fc.O_LARGEFILE;
  if ((f & MFD_ALLOW_SEALING) !== 0) (file.inode as ShmemInode).seals &= ~F_SEAL_SEAL;
  return proc.installFd(file, (f & MFD_CLOEXEC) !== 0);
}

/** memfd_file_seals_ptr(): the seals of a shmem file, or null for any other file. */
function sealsOf(shmem: ShmemFs, file: File): ShmemInode | null {
  return shmem.isShmemFile(file) ? (file.inode as ShmemInode) : null;
}

/**
 * F_GET_SEALS: the seals of a shmem file, EINVAL for any other file.
 * @kernel mm/memfd.c memfd_get_seals
 */
export function memfdGetSeals(shmem: ShmemFs, file: File): number {
  const inode = sealsOf(shmem, file);
  return inode === null ? -E.EINVAL : inode.seals;
}

/**
 * F_ADD_SEALS, in the kernel's order: a file not open for writing → EPERM; unknown seal bits →
 * EINVAL; not a shmem file → EINVAL; already F_SEAL_SEAL → EPERM; a new F_SEAL_WRITE needs no
 * shared mapping (mapping_deny_writable: EBUSY) and no pinned page (memfd_wait_for_pins: a page
 * with a reference besides the page cache's, e.g. held by a udmabuf → EBUSY; Linux waits about
 * 150 ms for pins to go first, here nothing can drop them meanwhile). Seals only accumulate.
 * @kernel mm/memfd.c memfd_add_seals, memfd_wait_for_pins
 */
export function memfdAddSeals(shmem: ShmemFs, file: File, seals: number): number {
  if ((file.mode & FMODE_WRITE) === 0) return -E.EPERM;
  if ((seals & ~F_ALL_SEALS) !== 0) return -E.EINVAL;
  const inode = sealsOf(shmem, file);
  if (inode === null) return -E.EINVAL;
  if ((inode.seals & F_SEAL_SEAL) !== 0) return -E.EPERM;
  if ((seals & F_SEAL_WRITE) !== 0 && (inode.seals & F_SEAL_WRITE) === 0) {
    if (inode.mmapWritable > 0) return -E.EBUSY;
    inode.mmapWritable--;
    for (const page of inode.pages.values()) {
      if (page.refs > 1) {
        inode.mmapWritable++; // mapping_allow_writable()
        return -E.EBUSY;
      }
    }
  }
  inode.seals |= seals;
  return 0;
}

/**
 * fcntl(F_ADD_SEALS / F_GET_SEALS): an argument above 32 bits is EINVAL.
 * @kernel mm/memfd.c memfd_fcntl; fs/fcntl.c do_fcntl
 */
export function memfdFcntl(shmem: ShmemFs, file: File, cmd: number, arg: number): number {
  switch (cmd) {
    case F_ADD_SEALS:
      // `arg` is an unsigned long: a negative value is a huge one
      if (arg < 0 || arg > 0xffffffff) return -E.EINVAL;
      return memfdAddSeals(shmem, file, arg);
    case F_GET_SEALS:
      return memfdGetSeals(shmem, file);
    default:
      return -E.EINVAL;
  }
}
