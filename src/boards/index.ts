/**
 * The board loaders (`dmaheap/boards`, also re-exported by the main entry): one loader for the
 * library (`createClient({ board })`) and the CLI (`--board`). A board is given as
 *
 * - the name of a shipped board (`imx8mp`, `rpi5`, `rk3588`, `am62x`, `x86-pc`: examples/boards);
 * - DTS source text (a string that starts with `/dts-v1/` after white space and comments);
 * - a path (any other string): a DTS file, a DTB or a live-tree directory;
 * - DTB bytes (a Uint8Array or Buffer; DTS source bytes are read too);
 * - an already parsed DeviceTree.
 *
 * Strings are classified in that order ({@link classifyBoardString}). Text and bytes go through
 * the file-system-free loaders of src/kernel/of/board.ts (also exported by `dmaheap/kernel`);
 * only names and paths touch the file system (./files.ts).
 */
import { BOARD_STRING_FORMS, BoardError, SHIPPED_BOARD_NAMES, classifyBoardString, isDeviceTree, loadBoardBytes, loadBoardText, notABoard, quoteBoardString } from '../kernel/of/board.js';
import type { BoardResult, ShippedBoardName } from '../kernel/of/board.js';
import type { DeviceTree } from '../kernel/of/tree.js';
import { loadBoardFile, nodeIncludeReader, shippedBoardPath } from './files.js';
import type { LoadBoardOptions } from './files.js';
import { statSync } from 'node:fs';

/** Anything {@link loadBoard} takes. */
export type BoardInput = string | Uint8Array | DeviceTree;

/** A shipped board: its name and the path of its DTS file in the installed package. */
export interface ShippedBoard {
  readonly name: ShippedBoardName;
  readonly path: string;
}

/** The boards the package ships, by name (examples/boards/<name>.dts). */
export function shippedBoards(): ShippedBoard[] {
  return SHIPPED_BOARD_NAMES.map((name) => ({ name, path: shippedBoardPath(name) }));
}

/**
 * Loads a board given in any accepted form: `{ tree, source }`, or `{ error }` saying what was
 * wrong — for input of no recognised form also the accepted forms and the shipped boards' names;
 * for DTS source `file:line:col: message`; for a file the reason (`<path>: permission denied`).
 *
 * A DeviceTree is used as it is; a Uint8Array is a DTB (FDT magic) or DTS source bytes; a string
 * is, in this order: a shipped board's name when it is one exactly ({@link SHIPPED_BOARD_NAMES};
 * `./imx8mp` is the file), DTS source text when `/dts-v1/` comes first after white space and
 * comments, else a path relative to the current directory (a DTS file, a DTB or a live-tree
 * directory, chosen by content). `includeDirs` are searched for `/include/` files after the
 * including file's directory (for text and bytes: the current directory).
 */
export function loadBoard(input: BoardInput, opts: LoadBoardOptions = {}): BoardResult {
  if (isDeviceTree(input)) return { tree: input, source: 'tree' };
  if (input instanceof Uint8Array) return loadBoardBytes(input, { readInclude: nodeIncludeReader(opts.includeDirs) });
  if (typeof input !== 'string' || input === '') return { error: notABoard(input) };
  const kind = classifyBoardString(input);
  if (kind === 'name') return loadBoardFile(shippedBoardPath(input as ShippedBoardName), opts);
  if (kind === 'text') return loadBoardText(input, { readInclude: nodeIncludeReader(opts.includeDirs) });
  try {
    statSync(input);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') {
      const looksLikeSource = /[\n{};]/.test(input);
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'a part of the path is not a directory' : 'file name too long';
      // what is plainly a path (a directory part or a device-tree file suffix) needs only the reason
      if (!looksLikeSource && /[/\\]|\.(dts|dtsi|dtb)$/.test(input)) return { error: `${input}: ${why}` };
      return {
        error: `${quoteBoardString(input)} is not a shipped board (${SHIPPED_BOARD_NAMES.join(', ')})${looksLikeSource ? ', not DTS source text (no /dts-v1/ at the start)' : ''} and not an existing path (${why}); ${BOARD_STRING_FORMS}`,
      };
    }
  }
  return loadBoardFile(input, opts);
}

/** {@link loadBoard}, throwing a {@link BoardError} (`board: <what was wrong>`) instead of returning the error. */
export function resolveBoard(input: BoardInput, opts: LoadBoardOptions = {}): DeviceTree {
  const r = loadBoard(input, opts);
  if ('error' in r) throw new BoardError(`board: ${r.error}`);
  return r.tree;
}

export { loadBoardFile, nodeLiveTreeFs, nodeIncludeReader, readBoundedFile, shippedBoardPath, SHIPPED_BOARDS_DIR } from './files.js';
export type { BoardReadBudget, LoadBoardOptions } from './files.js';
// the file-system-free part, as dmaheap/kernel has it
export {
  BOARD_BYTES_FILE, BOARD_FILE_MAX_BYTES, BOARD_FORMS, BOARD_STRING_FORMS, BOARD_TEXT_FILE, BOARD_TOTAL_MAX_BYTES, BoardError, DeviceTree, LIVE_TREE_LIMITS, LIVE_TREE_ROOT_PROPERTIES,
  SHIPPED_BOARD_NAMES, boardArch, classifyBoardString, formatDtsError, isDeviceTree, isDtsText, isFdt, isShippedBoardName, loadBoardBytes, loadBoardText, parseDts, readFdt, readLiveTree,
  writeFdt,
} from '../kernel/index.js';
export type {
  BoardResult, BoardSource, BoardStringKind, BoardTextOptions, DtNode, DtProperty, DtsError, DtsReadFile, DtsResult, FdtWriteOptions, LiveTreeEntry, LiveTreeFs, LiveTreeLimits, MemReserve,
  ShippedBoardName, SourceLoc,
} from '../kernel/index.js';
