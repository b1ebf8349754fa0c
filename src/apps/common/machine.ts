/**
 * An emulated machine booted from a board description: the board's device tree, the
 * architecture it implies, and its /chosen bootargs as the command line unless one was given.
 * Shared by `dmaheap heaps`/`lint-names`/`demo` (--board) and the conformance runner (--board and
 * the case-level "board" key).
 */
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { UsageError } from './args.js';
import { loadBoard } from './board-files.js';

type Board = NonNullable<EmulatedOptions['board']>;

/** x86 when the root is compatible with a PC, arm64 otherwise (the boards we ship are arm64). */
export function archOf(tree: Board): 'x86_64' | 'arm64' {
  const compat = tree.root.props.find((p) => p.name === 'compatible');
  const text = compat === undefined ? '' : String.fromCharCode(...compat.value);
  return /x86|pc|intel|amd/i.test(text) ? 'x86_64' : 'arm64';
}

/**
 * The machine with an already loaded board: the board's arch unless `machine.arch` is set, and
 * the board's own bootargs as the command line unless `machine.cmdlineGiven` says otherwise.
 */
export function withBoardTree(machine: EmulatedOptions, tree: Board): EmulatedOptions {
  const arch = machine.arch ?? archOf(tree);
  const { cmdline: _omit, ...rest } = machine;
  return { ...rest, ...(machine.cmdlineGiven === true ? { cmdline: machine.cmdline } : {}), board: tree, arch };
}

/** Loads `--board` (DTS, DTB or a live-tree directory) into the machine options. */
export function withBoard(machine: EmulatedOptions, boardPath: string | undefined, what = '--board'): EmulatedOptions {
  if (boardPath === undefined) return machine;
  const r = loadBoard(boardPath);
  if ('error' in r) throw new UsageError(`${what}: ${r.error}`);
  return withBoardTree(machine, r.tree);
}
