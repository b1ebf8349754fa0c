/**
 * Text files of the pseudo file systems, the way seq_file and kernfs serve them: the whole text
 * is made by the file's show function when a read starts at offset 0 and kept for the reads that
 * follow; lseek moves within it (SEEK_SET, SEEK_CUR). A write hands the written bytes to the
 * file's store function (cgroupfs, oom_score_adj). Also the text helpers every /proc and debugfs
 * generator shares: escaping (mangle_path, seq_escape) and padding (seq_pad).
 *
 * @kernel fs/seq_file.c (seq_read_iter, seq_lseek, seq_pad, mangle_path, seq_escape_mem), fs/kernfs/file.c kernfs_fop_write_iter
 */
import { Errno } from '../../uapi/errno.js';
import { SEEK_CUR, SEEK_SET } from '../../uapi/fcntl.js';
import { bytesStr, strBytes } from '../bytes.js';
import type { FileOperations } from './file.js';
import type { Process } from './process.js';

const E = Errno;

/** What a text file shows and takes: the state a seq_file keeps in private_data. */
export interface SeqShow {
  /** The whole text, or a negated errno (a file of a removed cgroup: ENODEV). */
  readonly show: () => string | number;
  /**
   * The written bytes (up to the first NUL) as a string, from `proc`; returns 0 or a negated
   * errno. Absent: a write is EINVAL.
   */
  readonly store?: (text: string, proc: Process) => number;
}

/** private_data of an open text file: its show/store and the text the last read from 0 made. */
interface SeqFile extends SeqShow {
  buf: Uint8Array | null;
  /** Shown at least once since the open (kernfs: of->event caught up with the node's). */
  shown: boolean;
}

export function seqPriv(s: SeqShow): SeqFile {
  return { show: s.show, store: s.store, buf: null, shown: false };
}

/** The file operations of every emulated text file. */
export const SEQ_FOPS: FileOperations = {
  read: (f, out) => {
    const s = f.priv as SeqFile;
    let data = s.buf;
    if (data === null || f.pos === 0) {
      const text = s.show();
      s.shown = true;
      if (typeof text === 'number') return text;
      data = strBytes(text);
      s.buf = data;
    }
    const n = Math.max(0, Math.min(out.length, data.length - f.pos));
    out.set(data.subarray(f.pos, f.pos + n));
    f.pos += n;
    return n;
  },
  /**
   * A write to a cgroup (or /proc/<pid>/oom_score_adj) file: more than a page (of the writer's
   * kernel) at once → E2BIG (atomic_write_len); the whole buffer is copied in at once (any fault → EFAULT); the
   * handler sees the bytes as a C string; success returns the whole count.
   * @kernel fs/kernfs/file.c kernfs_fop_write_iter, kernel/cgroup/cgroup.c cgroup_file_write
   */
  write: (f, src, proc) => {
    const w = (f.priv as SeqFile).store;
    if (w === undefined) return -E.EINVAL;
    if (src.length > proc.host.pageSize) return -E.E2BIG;
    const data = new Uint8Array(src.length);
    if (src.copy(0, data) !== data.length) return -E.EFAULT;
    const nul = data.indexOf(0);
    const r = w(bytesStr(nul < 0 ? data : data.subarray(0, nul)), proc);
    if (r < 0) return r;
    f.pos += data.length;
    return data.length;
  },
  // seq_lseek(): SEEK_SET and SEEK_CUR only
  llseek: (f, off, whence) => {
    const pos = whence === SEEK_SET ? off : whence === SEEK_CUR ? f.pos + off : -1;
    if (whence !== SEEK_SET && whence !== SEEK_CUR) return -E.EINVAL;
    if (pos < 0) return -E.EINVAL;
    f.pos = pos;
    return pos;
  },
};

/** DEFAULT_POLLMASK: EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM. */
const DEFAULT_POLLMASK = 0x145;

/**
 * How a text file answers poll, which decides whether epoll may watch it: `none` (seq_files of
 * /proc/<pid>, debugfs before v6.14: epoll says EPERM), `default` (proc_reg_poll and debugfs's
 * full proxy without a poll of their own: DEFAULT_POLLMASK), `kernfs` (sysfs and cgroup2 files:
 * also EPOLLERR | EPOLLPRI until the file was read once after its open).
 * @kernel fs/proc/inode.c proc_reg_poll; fs/debugfs/file.c full_proxy_poll; fs/kernfs/file.c kernfs_generic_poll
 */
export type TextPoll = 'none' | 'default' | 'kernfs';

const SEQ_FOPS_DEFAULT_POLL: FileOperations = { ...SEQ_FOPS, poll: () => DEFAULT_POLLMASK };
const SEQ_FOPS_KERNFS_POLL: FileOperations = { ...SEQ_FOPS, poll: (f) => DEFAULT_POLLMASK | ((f.priv as SeqFile).shown ? 0 : 0x8 | 0x2) };

/** The text file operations for a poll behaviour. */
export function seqFops(poll: TextPoll): FileOperations {
  return poll === 'kernfs' ? SEQ_FOPS_KERNFS_POLL : poll === 'default' ? SEQ_FOPS_DEFAULT_POLL : SEQ_FOPS;
}

/**
 * mangle_path() / seq_escape(): every character of `s` that is in `esc` becomes a backslash and
 * three octal digits (`\n` → `\012`, ` ` → `\040`). seq_file_path() escapes "\n" in a file's
 * name in /proc/<pid>/maps; mountinfo escapes " \t\n\\".
 * @kernel fs/seq_file.c mangle_path, seq_escape_mem
 */
export function seqEscape(s: string, esc: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c <= 0xff && esc.includes(ch)) out += '\\' + ((c >> 6) & 7).toString() + ((c >> 3) & 7).toString() + (c & 7).toString();
    else out += ch;
  }
  return out;
}

/**
 * seq_setwidth(width) ... seq_pad(' '): the line so far padded with spaces to `width` characters,
 * then one more space. A longer line loses its last character to the space, as seq_pad's unsigned
 * arithmetic makes it.
 * @kernel fs/seq_file.c seq_pad
 */
export function seqPad(line: string, width: number): string {
  return (line.length <= width ? line.padEnd(width, ' ') : line.slice(0, width)) + ' ';
}
