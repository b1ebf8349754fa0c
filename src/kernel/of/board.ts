/**
 * Boards from text and bytes, without a file system: DTS source, a DTB, or bytes that are one of
 * the two; how a string given as a board is classified; the architecture a board implies. The
 * file-system side (paths, live-tree directories, the shipped boards) is src/boards, which feeds
 * the bytes it reads through these same functions.
 *
 * Errors are data: every loader returns `{ tree, source }` or `{ error }`, never throws.
 */
import { formatDtsError, parseDts } from './dts.js';
import type { DtsReadFile } from './dts.js';
import { isFdt, readFdt } from './fdt.js';
import { DeviceTree } from './tree.js';
import { KernelConfigError } from '../config-error.js';

/** How a board was given: DTS source, a DTB, a live-tree directory, or an already parsed tree. */
export type BoardSource = 'dts' | 'dtb' | 'live' | 'tree';

/** A loaded board, or what was wrong with the input (one line; `file:line:col: …` for DTS source). */
export type BoardResult = { readonly tree: DeviceTree; readonly source: BoardSource } | { readonly error: string };

/** What the text and bytes loaders take. */
export interface BoardTextOptions {
  /**
   * The file name in DTS errors, and what `/include/`s are relative to.
   *
   * Default `<board text>` for text, `<board bytes>` for bytes; the file loader passes the path.
   */
  readonly file?: string;
  /** Reads `/include/` and `/incbin/` files; without it they are errors (src/boards supplies one). */
  readonly readInclude?: DtsReadFile;
}

/**
 * Bytes one board file may have: a DTS or DTB file, and each file it pulls in with `/include/` or
 * `/incbin/` (a live tree's property files have the same limit, LIVE_TREE_LIMITS). Real device
 * trees are far smaller: the kernel's DTBs are tens to hundreds of KiB, and arm64 Linux refuses a
 * DTB over 2 MiB at boot (arch/arm64/include/asm/boot.h MAX_FDT_SIZE, fixmap_remap_fdt()).
 */
export const BOARD_FILE_MAX_BYTES = 16 * 1024 * 1024;
/** Bytes one board may read in all: its file and every /include/ and /incbin/ file (each read counts), or a live tree's properties. */
export const BOARD_TOTAL_MAX_BYTES = 32 * 1024 * 1024;

/** The file name DTS errors carry for a string given as DTS text. */
export const BOARD_TEXT_FILE = '<board text>';
/** The file name errors carry for a Uint8Array given as a board. */
export const BOARD_BYTES_FILE = '<board bytes>';

/**
 * True when `s` is DTS source: after white space and comments (`// …`, `/* … *\/`), it starts
 * with the `/dts-v1/` tag every dtc source file begins with. This is how a board string is told
 * apart from a path (a path never starts with it after comments: `/dts-v1/…` as a path is not
 * supported).
 */
export function isDtsText(s: string): boolean {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c || c === 0xfeff) {
      i++;
    } else if (s.startsWith('//', i)) {
      const nl = s.indexOf('\n', i);
      if (nl < 0) return false;
      i = nl + 1;
    } else if (s.startsWith('/*', i)) {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return false;
      i = end + 2;
    } else {
      return s.startsWith('/dts-v1/', i);
    }
  }
  return false;
}

/** DTS source text (one character per byte, as dtc reads it) → tree; errors as `file:line:col: message`. */
export function loadBoardText(text: string, opts: BoardTextOptions = {}): BoardResult {
  const r = parseDts(text, opts.file ?? BOARD_TEXT_FILE, opts.readInclude);
  return 'error' in r ? { error: formatDtsError(r.error) } : { tree: r.tree, source: 'dts' };
}

/**
 * A DTB (recognised by the FDT magic 0xd00dfeed) or DTS source bytes (anything else, read one
 * character per byte as dtc does) → tree. DTB errors are `<file>: invalid FDT: …`; DTS errors
 * `file:line:col: …`, prefixed for bytes that are neither with what a DTB would have needed.
 */
export function loadBoardBytes(bytes: Uint8Array, opts: BoardTextOptions = {}): BoardResult {
  const file = opts.file ?? BOARD_BYTES_FILE;
  if (isFdt(bytes)) {
    const r = readFdt(bytes);
    return 'error' in r ? { error: `${file}: ${r.error}` } : { tree: r.tree, source: 'dtb' };
  }
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 8192) parts.push(String.fromCharCode(...bytes.subarray(i, i + 8192)));
  const text = parts.join('');
  if (opts.file === undefined && !isDtsText(text)) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return { error: `${file}: neither a DTB (no FDT magic d0 0d fe ed at the start: ${bytes.length === 0 ? 'empty' : head}) nor DTS source (no /dts-v1/ at the start)` };
  }
  return loadBoardText(text, { ...opts, file });
}

/** True for an already parsed tree (a DeviceTree, or an object of its shape from another copy of the package). */
export function isDeviceTree(x: unknown): x is DeviceTree {
  if (x instanceof DeviceTree) return true;
  if (typeof x !== 'object' || x === null) return false;
  const root = (x as { root?: unknown }).root;
  return typeof root === 'object' && root !== null && Array.isArray((root as { props?: unknown }).props) && Array.isArray((root as { children?: unknown }).children)
    && typeof (x as { find?: unknown }).find === 'function';
}

/**
 * The architecture a board implies: x86-64 when the root's `compatible` names a PC (x86, pc,
 * intel, amd), arm64 otherwise (the device-tree boards dmaheap ships are arm64 but one).
 */
export function boardArch(tree: DeviceTree): 'x86_64' | 'arm64' {
  const compat = tree.root.props.find((p) => p.name === 'compatible');
  const text = compat === undefined ? '' : String.fromCharCode(...compat.value);
  return /x86|pc|intel|amd/i.test(text) ? 'x86_64' : 'arm64';
}

/**
 * The boards the package ships (examples/boards/<name>.dts), by name. A board string equal to
 * one of these names is that board, whatever files the current directory holds (write
 * `./imx8mp` for a file of that name).
 */
export const SHIPPED_BOARD_NAMES = Object.freeze(['am62x', 'imx8mp', 'rk3588', 'rpi5', 'x86-pc'] as const);
export type ShippedBoardName = (typeof SHIPPED_BOARD_NAMES)[number];

export function isShippedBoardName(s: string): s is ShippedBoardName {
  return (SHIPPED_BOARD_NAMES as readonly string[]).includes(s);
}

/** What a string given as a board is: a shipped board's name, DTS source text, or a path. */
export type BoardStringKind = 'name' | 'text' | 'path';

/**
 * How a board string is read, in this order: exactly a shipped board's name
 * ({@link SHIPPED_BOARD_NAMES}) → that board; DTS source ({@link isDtsText}: `/dts-v1/` first
 * after white space and comments) → parsed as text; anything else → a path (a DTS file, a DTB
 * or a live-tree directory, relative to the current directory).
 */
export function classifyBoardString(s: string): BoardStringKind {
  if (isShippedBoardName(s)) return 'name';
  if (isDtsText(s)) return 'text';
  return 'path';
}

/** What a board may be given as, for error messages. */
export const BOARD_FORMS =
  `a board is the name of a shipped board (${SHIPPED_BOARD_NAMES.join(', ')}), a path to a DTS file, a DTB or a live-tree directory, DTS source text (starting with /dts-v1/), DTB bytes (a Uint8Array) or a DeviceTree`;

/** What a board string may be, for error messages (the CLI's --board takes strings only). */
export const BOARD_STRING_FORMS = "a board string is a shipped board's name, a path to a DTS file, a DTB or a live-tree directory, or DTS source text starting with /dts-v1/";

/** A board that cannot be loaded: the message says what was wrong and, when the input's form was not recognised, the accepted forms. */
export class BoardError extends KernelConfigError {
  override readonly name: string = 'BoardError';
}

/** A short quotation of a board string for messages (long or multi-line strings are cut). */
export function quoteBoardString(s: string): string {
  const line = s.split('\n')[0]!;
  return line.length > 60 || line !== s ? `a string of ${s.length} characters starting '${line.slice(0, 40)}…'` : `'${s}'`;
}

/** The message for a value that is not a board at all (wrong type, empty string). */
export function notABoard(x: unknown): string {
  const what = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'string' ? "''" : typeof x === 'object' ? 'an object that is not a DeviceTree' : `a ${typeof x}`;
  return `${what} is not a board; ${BOARD_FORMS}`;
}
