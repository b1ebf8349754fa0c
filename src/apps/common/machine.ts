/**
 * An emulated machine booted from a board description: the board's device tree, the
 * architecture it implies, and its /chosen bootargs as the command line unless one was given.
 * Shared by `dmaheap heaps`/`lint-names`/`demo` (--board) and the conformance runner (--board and
 * the case-level "board" key). The board is loaded by the library's own loader (src/boards), so
 * `--board` takes what `createClient({ board })` takes: a shipped board's name, a path, DTS text.
 */
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { boardArch, loadBoard } from '../../boards/index.js';
import type { DeviceTree } from '../../boards/index.js';
import { UsageError } from './args.js';

/**
 * The machine with an already loaded board: the board's arch unless `machine.arch` is set
 * (boardArch: x86 when the root is compatible with a PC, arm64 otherwise), and
 * the board's own bootargs as the command line unless `machine.cmdlineGiven` says otherwise.
 */
export function withBoardTree(machine: EmulatedOptions, tree: DeviceTree): EmulatedOptions {
  const arch = machine.arch ?? boardArch(tree);
  const { cmdline: _omit, ...rest } = machine;
  return { ...rest, ...(machine.cmdlineGiven === true ? { cmdline: machine.cmdline } : {}), board: tree, arch };
}

/** Loads `--board` (a shipped board's name, a DTS, DTB or live-tree path) into the machine options. */
export function withBoard(machine: EmulatedOptions, board: string | undefined, what = '--board'): EmulatedOptions {
  if (board === undefined) return machine;
  const r = loadBoard(board);
  if ('error' in r) throw new UsageError(`${what}: ${r.error}`);
  return withBoardTree(machine, r.tree);
}
