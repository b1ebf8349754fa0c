/**
 * Loading a board description from disk: a device tree blob (recognised by the FDT magic), a
 * live tree directory (/sys/firmware/devicetree/base, /proc/device-tree, or a copy of one), or
 * DTS source (anything else). `/include/` and `/incbin/` files are found relative to the including
 * file, then in `includeDirs` (dtc's -i). Source is read one byte per character (latin1), so
 * strings keep their exact bytes, as dtc treats them.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { parseDts, formatDtsError } from '../../kernel/of/dts.js';
import { isFdt, readFdt } from '../../kernel/of/fdt.js';
import { readLiveTree, type LiveTreeEntry, type LiveTreeFs } from '../../kernel/of/livetree.js';
import type { DeviceTree } from '../../kernel/of/tree.js';

export type BoardSource = 'dts' | 'dtb' | 'live';

export interface LoadBoardOptions {
  /** Extra directories searched for /include/ and /incbin/ files (dtc's -i). */
  readonly includeDirs?: readonly string[];
}

export type LoadBoardResult = { tree: DeviceTree; source: BoardSource } | { error: string };

function why(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
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

/** Loads a DTS file, a DTB or a live tree directory, choosing the front end by content. */
export function loadBoard(path: string, opts: LoadBoardOptions = {}): LoadBoardResult {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    return { error: `${path}: ${why(e)}` };
  }
  if (isDir) {
    const r = readLiveTree(nodeLiveTreeFs, path);
    return 'error' in r ? { error: r.error } : { tree: r.tree, source: 'live' };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    return { error: `${path}: ${why(e)}` };
  }
  if (isFdt(bytes)) {
    const r = readFdt(bytes);
    return 'error' in r ? { error: `${path}: ${r.error}` } : { tree: r.tree, source: 'dtb' };
  }
  const dirs = opts.includeDirs ?? [];
  const readInclude = (name: string, from: string): { path: string; text: string } | null => {
    const candidates = isAbsolute(name) ? [name] : [join(dirname(from), name), ...dirs.map((d) => join(d, name))];
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
  const r = parseDts(Buffer.from(bytes).toString('latin1'), normalize(path), readInclude);
  return 'error' in r ? { error: formatDtsError(r.error) } : { tree: r.tree, source: 'dts' };
}
