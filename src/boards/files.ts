/**
 * Boards on disk: a DTB (recognised by the FDT magic), a live-tree directory
 * (/sys/firmware/devicetree/base, /proc/device-tree, or a copy of one), or DTS source (anything
 * else), read with node:fs and handed to the file-system-free loaders of src/kernel/of/board.ts.
 * `/include/` and `/incbin/` files are found relative to the including file, then in
 * `includeDirs` (dtc's -i). Source is read one byte per character (latin1), so strings keep
 * their exact bytes, as dtc treats them.
 *
 * Every read is bounded (docs/device-tree.md, input limits): only regular files are read (a
 * device, a FIFO or a socket is refused before it is opened, and a file is opened non-blocking
 * and checked again after opening), never past its size as stat() gives it, never more than
 * BOARD_FILE_MAX_BYTES per file and BOARD_TOTAL_MAX_BYTES per board; a file that says it has 0
 * bytes (as /proc files such as /proc/self/mem do) is not read at all. A live tree is walked
 * within LIVE_TREE_LIMITS, without following symbolic links.
 *
 * The only module of the board loaders that touches the file system.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, opendirSync, readSync, statSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOARD_FILE_MAX_BYTES, BOARD_TOTAL_MAX_BYTES, loadBoardBytes } from '../kernel/of/board.js';
import type { BoardResult, ShippedBoardName } from '../kernel/of/board.js';
import type { DtsReadFile } from '../kernel/of/dts.js';
import { LIVE_TREE_LIMITS, readLiveTree } from '../kernel/of/livetree.js';
import type { LiveTreeEntry, LiveTreeFs } from '../kernel/of/livetree.js';

export interface LoadBoardOptions {
  /** Extra directories searched for /include/ and /incbin/ files (dtc's -i). */
  readonly includeDirs?: readonly string[];
}

/** The directory of the shipped boards: examples/boards of the installed package. */
export const SHIPPED_BOARDS_DIR = fileURLToPath(new URL('../../../examples/boards/', import.meta.url));

/** The file of a shipped board: `<package>/examples/boards/<name>.dts`. */
export function shippedBoardPath(name: ShippedBoardName): string {
  return join(SHIPPED_BOARDS_DIR, `${name}.dts`);
}

/** A file-system error as a few words (`no such file or directory`). */
export function fsReason(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  if (code === 'ENAMETOOLONG') return 'file name too long';
  if (code === 'EIO') return 'input/output error';
  if (code === 'EAGAIN') return 'no data to read without waiting';
  return e instanceof Error ? e.message : String(e);
}

const MiB = 1024 * 1024;

/** What a file system object is when it is not a regular file (or a directory), in a few words; null for a regular file. */
function specialKind(st: Stats | Dirent): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The bytes a board may still read (shared by a board's file and everything it includes). */
export interface BoardReadBudget {
  left: number;
}

/**
 * Reads a regular file of at most `max` bytes: its bytes, or `{ error, size? }` (the size when it
 * is over `max`). The file is stat()ed first (a device, FIFO or socket is never opened), opened
 * with O_NONBLOCK (a FIFO swapped in meanwhile does not block) and checked again with fstat();
 * exactly the size stat() reported is read, no more, and a file of size 0 is not read.
 * `follow: false` opens with O_NOFOLLOW and refuses a symbolic link.
 */
export function readBoundedFile(path: string, max: number, follow = true): Uint8Array | { error: string; size?: number } {
  let st: Stats;
  try {
    st = follow ? statSync(path) : lstatSync(path);
  } catch (e) {
    return { error: `${path}: ${fsReason(e)}` };
  }
  const kind = specialKind(st);
  if (kind !== null) return { error: `${path}: ${kind}, not a regular file` };
  if (st.size > max) return { error: `${path}: ${st.size} bytes, more than the ${max % MiB === 0 ? `${max / MiB} MiB` : `${max} bytes`} it may have`, size: st.size };
  if (st.size === 0) return new Uint8Array(0);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (follow ? 0 : constants.O_NOFOLLOW));
  } catch (e) {
    return { error: `${path}: ${fsReason(e)}` };
  }
  try {
    const now = fstatSync(fd);
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) return { error: `${path}: changed while it was being read` };
    const out = new Uint8Array(st.size);
    let got = 0;
    while (got < out.length) {
      const n = readSync(fd, out, got, out.length - got, null);
      if (n === 0) break;
      got += n;
    }
    return got === out.length ? out : out.subarray(0, got);
  } catch (e) {
    return { error: `${path}: ${fsReason(e)}` };
  } finally {
    closeSync(fd);
  }
}

/** A directory entry as a live-tree entry (an unknown d_type is settled with lstat, never following a link). */
function liveEntry(dir: string, d: Dirent): LiveTreeEntry {
  let kind: string | null;
  if (d.isFile() || d.isDirectory() || d.isSymbolicLink() || d.isFIFO() || d.isCharacterDevice() || d.isBlockDevice() || d.isSocket()) kind = specialKind(d);
  else {
    try {
      kind = specialKind(lstatSync(join(dir, d.name)));
    } catch {
      kind = 'not readable';
    }
  }
  if (kind === null) return { name: d.name, isDir: false };
  if (kind === 'a directory') return { name: d.name, isDir: true };
  return { name: d.name, isDir: false, special: kind };
}

/**
 * The Node side of a live tree: sorted listings (so the tree does not depend on readdir order),
 * read one entry at a time and never more than `maxEntries` + 1; entries that are neither
 * directories nor regular files are reported as such (readLiveTree refuses them, so a symbolic
 * link is never followed); property files are read with readBoundedFile (no link followed), by
 * readBounded() with the reason when one is refused, by read() as null (so it is also the api's
 * DeviceTreeFs, for readReservedMemory()).
 */
export const nodeLiveTreeFs: LiveTreeFs = {
  list(dir: string, maxEntries = LIVE_TREE_LIMITS.maxEntries): LiveTreeEntry[] | null {
    let d;
    try {
      d = opendirSync(dir);
    } catch {
      return null;
    }
    const out: LiveTreeEntry[] = [];
    try {
      for (;;) {
        const e = d.readSync();
        if (e === null) break;
        out.push(liveEntry(dir, e));
        if (out.length > maxEntries) break;
      }
    } catch {
      return null;
    } finally {
      d.closeSync();
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  },
  read(file: string, maxBytes = LIVE_TREE_LIMITS.maxPropertyBytes): Uint8Array | null {
    const r = readBoundedFile(file, maxBytes, false);
    return r instanceof Uint8Array ? r : null;
  },
  readBounded(file: string, maxBytes: number): Uint8Array | { error: string; size?: number } {
    return readBoundedFile(file, maxBytes, false);
  },
};

/**
 * Reads `/include/` and `/incbin/` files with node:fs: relative to the including file (for text
 * that is not a file, its pseudo-name's directory is the current one), then in `includeDirs`.
 * A name that exists but is not a regular file, or is over BOARD_FILE_MAX_BYTES, is refused (not
 * skipped for the next candidate); all files read through one reader share `budget` (default:
 * BOARD_TOTAL_MAX_BYTES), and every read counts, so including one file many times is bounded too.
 */
export function nodeIncludeReader(includeDirs: readonly string[] = [], budget: BoardReadBudget = { left: BOARD_TOTAL_MAX_BYTES }): DtsReadFile {
  return (name, from) => {
    const candidates = isAbsolute(name) ? [name] : [join(dirname(from), name), ...includeDirs.map((d) => join(d, name))];
    for (const c of candidates) {
      try {
        statSync(c);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        return { error: `${c}: ${fsReason(e)}` };
      }
      const r = readBoundedFile(c, Math.min(BOARD_FILE_MAX_BYTES, budget.left));
      if (!(r instanceof Uint8Array)) {
        if (r.size !== undefined && r.size <= BOARD_FILE_MAX_BYTES) return { error: `the files of this board add up to more than the ${BOARD_TOTAL_MAX_BYTES / MiB} MiB a board may read` };
        return { error: r.size !== undefined ? `${c}: ${r.size} bytes, more than the ${BOARD_FILE_MAX_BYTES / MiB} MiB a board file may have` : r.error };
      }
      budget.left -= r.length;
      return { path: normalize(c), text: latin1(r) };
    }
    return null;
  };
}

/** Bytes as a string of one character per byte. */
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/**
 * Loads a DTS file, a DTB or a live-tree directory, choosing the front end by content. Anything
 * else (a device, a FIFO, a socket, a file of 0 bytes such as /proc/self/mem, a file over
 * BOARD_FILE_MAX_BYTES, a directory that is not a device tree) is refused with a message that
 * says what it is, before anything is read from it.
 */
export function loadBoardFile(path: string, opts: LoadBoardOptions = {}): BoardResult {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return { error: `${path}: ${fsReason(e)}` };
  }
  if (st.isDirectory()) {
    const r = readLiveTree(nodeLiveTreeFs, path);
    return 'error' in r ? { error: r.error } : { tree: r.tree, source: 'live' };
  }
  const kind = specialKind(st);
  if (kind !== null) return { error: `${path}: ${kind}, not a DTS file, a DTB or a live-tree directory` };
  if (st.size === 0) return { error: `${path}: 0 bytes (an empty file, or a /proc or /sys file that does not give its size), not a DTS file or a DTB` };
  if (st.size > BOARD_FILE_MAX_BYTES) return { error: `${path}: ${st.size} bytes, more than the ${BOARD_FILE_MAX_BYTES / MiB} MiB a DTS or DTB file may have (docs/device-tree.md, input limits)` };
  const bytes = readBoundedFile(path, BOARD_FILE_MAX_BYTES);
  if (!(bytes instanceof Uint8Array)) return { error: bytes.error };
  const budget: BoardReadBudget = { left: BOARD_TOTAL_MAX_BYTES - bytes.length };
  return loadBoardBytes(bytes, { file: normalize(path), readInclude: nodeIncludeReader(opts.includeDirs, budget) });
}
