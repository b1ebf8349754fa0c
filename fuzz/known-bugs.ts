/**
 * TEMPORARY: the known bugs of issue 10 that other helpers are fixing on their own branches while
 * this fuzzer was written. A call that would hit one of them is not made (the step is counted as
 * skipped under the bug's id), so that the fuzzer can look for everything else meanwhile.
 *
 * The lead removes each entry when the branch that fixes it is merged (and this whole file when
 * the list is empty); `npm run fuzz -- --no-known-bugs` runs with the filter off to check a merge.
 * An entry only ever hides the call that triggers the bug: the sequences around it still run.
 */
import type { Kernel } from '../src/kernel/index.js';
import type { Process } from '../src/kernel/fs/process.js';
import { SEEK_DATA, SEEK_HOLE } from '../src/uapi/fcntl.js';

/** One call about to be made: the syscall's name, its arguments as passed, and its caller. */
export interface PendingCall {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly proc: Process | null;
  readonly kernel: Kernel;
}

export interface KnownBug {
  /** Short id, used in skip counts and in docs/reliability.md. */
  readonly id: string;
  /** The helper branch fixing it, or `unassigned` for a fault this fuzzer found and reported to the lead. */
  readonly fixedBy: 'wt-proc' | 'wt-mem' | 'unassigned';
  /** What goes wrong (issue 10's words). */
  readonly summary: string;
  /** True when `call` would hit the bug. */
  readonly hits: (call: PendingCall) => boolean;
}

const NR_OPEN = 1048576;
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const isFdNumber = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    id: 'fork-nofile-lowered',
    fixedBy: 'wt-proc',
    summary: 'fork() after RLIMIT_NOFILE was lowered below an open fd loses the fds above the limit (their files never close)',
    hits: ({ name, proc }) => name === 'fork' && proc !== null && proc.fds.some((f, fd) => f != null && fd >= proc.nofile.cur),
  },
  {
    id: 'sendfd-dead',
    fixedBy: 'wt-proc',
    summary: 'sendFd() to an exited process installs the file in a table nobody closes',
    hits: ({ name, args }) => name === 'sendFd' && (args[1] as Process | undefined)?.alive === false,
  },
  {
    id: 'fd-arg-not-integer',
    fixedBy: 'wt-proc',
    summary: 'fcntl(fd, F_DUPFD, 1.5) returns 1.5 and installs a file at a non-index key that is never closed',
    hits: ({ name, args }) => name === 'fcntl' && (args[1] === 0 || args[1] === 1030) && !Number.isInteger(args[2]),
  },
  {
    id: 'setnofile-unchecked',
    fixedBy: 'wt-proc',
    summary: 'setNofile(NaN, NaN) and (-1, -1) are accepted; dup3(fd, 2**31-1) then kills Node (invalid array length)',
    hits: ({ name, args, proc }) =>
      (name === 'setNofile' && !(isFdNumber(args[0]) && isFdNumber(args[1]))) ||
      (name === 'dup3' && proc !== null && !(isFdNumber(proc.nofile.cur) && proc.nofile.cur <= NR_OPEN)),
  },
  {
    id: 'huge-length-rangeerror',
    fixedBy: 'wt-proc',
    summary: 'write(fd, buf, 2**40) and other counts a typed array cannot hold throw RangeError instead of an errno',
    hits: ({ name, args }) => name === 'write' && num(args[2]) > 2 ** 31,
  },
  {
    id: 'poll-nfds-not-integer',
    fixedBy: 'wt-proc',
    summary: 'poll(fds, 1.5, 0) throws',
    hits: ({ name, args }) => name === 'poll' && !Number.isInteger(args[1]),
  },
  {
    id: 'lseek-offset-not-integer',
    fixedBy: 'wt-proc',
    summary: 'lseek(fd, 0.5 | NaN, whence) returns 0.5 or NaN',
    hits: ({ name, args }) => name === 'lseek' && !Number.isInteger(args[1]),
  },
  {
    id: 'memfd-seek-walks-isize',
    fixedBy: 'wt-proc',
    summary: 'memfd lseek(SEEK_DATA|SEEK_HOLE) walks i_size page by page (2^44: 20 s)',
    hits: ({ name, args, proc, kernel }) => {
      if (name !== 'lseek' || (args[2] !== SEEK_DATA && args[2] !== SEEK_HOLE) || proc === null) return false;
      const f = proc.file(args[0] as number);
      return f !== null && kernel.shmem.isShmemFile(f) && f.inode.size > 64 * 1024 * 1024;
    },
  },
  {
    id: 'ftruncate-beyond-maxbytes',
    fixedBy: 'wt-proc',
    summary: 'ftruncate(2^62) is accepted (above MAX_LFS_FILESIZE of tmpfs) and later walks are proportional to it',
    hits: ({ name, args }) => name === 'ftruncate' && num(args[1]) > 2 ** 40,
  },
  // found by this fuzzer, reported to the lead (docs/reliability.md)
  {
    id: 'user-arg-not-integer',
    fixedBy: 'wt-proc',
    summary:
      'write(fd, addr + 1.5, 0.5) throws RangeError in AddressSpace.copyFromUser (a fractional length: new Uint8Array(0.5) has 0 bytes, the subarray it copies has 1); pointers and counts are integers in the ABI',
    hits: ({ name, args }) => (name === 'write' || name === 'read') && !(Number.isInteger(args[1]) && Number.isInteger(args[2])),
  },
  {
    id: 'read-huge-count-allocates',
    fixedBy: 'wt-proc',
    summary:
      'read(fd, buf, 2^32) allocates min(count, 2 GiB) before reading (1.3-6 s, 1.4 GB RSS on a 4 GiB memfd) and returns EFAULT where Linux returns the bytes copied before the fault (shmem_file_read_iter); a sibling of write(2**40)',
    hits: ({ name, args }) => name === 'read' && num(args[2]) > 2 ** 26,
  },
  {
    id: 'open-flags-unchecked',
    fixedBy: 'unassigned',
    summary:
      'open() keeps the flags it does not know: open(path, -1) succeeds and F_GETFL then returns a negative number (Linux: build_open_how drops bits outside VALID_OPEN_FLAGS; -1 is ENOTDIR, O_PATH and O_DIRECTORY are not modelled)',
    hits: ({ name, args }) => name === 'open' && (num(args[1]) & 0x80000000) !== 0,
  },
];

/** The known bug `call` would hit, or null (always null when the filter is off). */
export function knownBugHit(call: PendingCall, enabled: boolean): KnownBug | null {
  if (!enabled) return null;
  for (const b of KNOWN_BUGS) if (b.hits(call)) return b;
  return null;
}
