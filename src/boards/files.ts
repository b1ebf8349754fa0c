/**
 * Boards on disk: a DTB (recognised by the FDT magic), a live-tree directory
 * (/sys/firmware/devicetree/base, /proc/device-tree, or a copy of one), or DTS source (anything
 * else), read with node:fs and handed to the file-system-free loaders of src/kernel/of/board.ts.
 * `/include/` and `/incbin/` files are found relative to the including file, then in
 * `includeDirs` (dtc's -i). Source is read one byte per character (latin1), so strings keep
 * their exact bytes, as dtc treats them.
 *
 * The only module of the board loaders that touches the file system.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBoardBytes } from '../kernel/of/board.js';
import type { BoardResult, ShippedBoardName } from '../kernel/of/board.js';
import type { DtsReadFile } from '../kernel/of/dts.js';
import { readLiveTree } from '../kernel/of/livetree.js';
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
  return e instanceof Error ? e.message : String(e);
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The Node side of a live tree: sorted listings, so the tree does not depend on readdir order. */
export const nodeLiveTreeFs: LiveTreeFs = {
  list(dir: string): LiveTreeEntry[] | null {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory() || d.isFile())
        .map((d) => ({ name: d.name, isDir: d.isDirectory() }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      return null;
    }
  },
  read(file: string): Uint8Array | null {
    try {
      return new Uint8Array(readFileSync(file));
    } catch {
      return null;
    }
  },
};

/**
 * Reads `/include/` and `/incbin/` files with node:fs: relative to the including file (for text
 * that is not a file, its pseudo-name's directory is the current one), then in `includeDirs`.
 */
export function nodeIncludeReader(includeDirs: readonly string[] = []): DtsReadFile {
  return (name, from) => {
    const candidates = isAbsolute(name) ? [name] : [join(dirname(from), name), ...includeDirs.map((d) => join(d, name))];
    for (const c of candidates) {
      if (!isFile(c)) continue;
      try {
        return { path: normalize(c), text: readFileSync(c).toString('latin1') };
      } catch {
        continue;
      }
    }
    return null;
  };
}

/** Loads a DTS file, a DTB or a live-tree directory, choosing the front end by content. */
export function loadBoardFile(path: string, opts: LoadBoardOptions = {}): BoardResult {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    return { error: `${path}: ${fsReason(e)}` };
  }
  if (isDir) {
    const r = readLiveTree(nodeLiveTreeFs, path);
    return 'error' in r ? { error: r.error } : { tree: r.tree, source: 'live' };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    return { error: `${path}: ${fsReason(e)}` };
  }
  return loadBoardBytes(bytes, { file: normalize(path), readInclude: nodeIncludeReader(opts.includeDirs) });
}
