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
import { Kconfig, kconfigMachine } from '../../kernel/kconfig.js';

/**
 * The machine with an already loaded board: the board's arch unless `machine.arch` is set
 * (boardArch: x86 when the root is compatible with a PC, arm64 otherwise), and
 * the board's own bootargs as the command line unless `machine.cmdlineGiven` says otherwise.
 */
export function withBoardTree(machine: EmulatedOptions, tree: DeviceTree): EmulatedOptions {
  const arch = machine.arch ?? boardArch(tree);
  // a kernel configuration for another architecture than the board's (machineFrom() took its arch
  // as the machine's): refused rather than booting an x86 board as arm64 or the reverse
  const kcArch = configArch(machine);
  if (kcArch !== null && kcArch !== boardArch(tree) && arch === kcArch) {
    const b = boardArch(tree);
    throw new UsageError(`the board is ${b} (its root compatible), but the kernel configuration is for ${kcArch} (CONFIG_${kcArch === 'arm64' ? 'ARM64' : 'X86_64'}=y)`, `give a kernel configuration for ${b} (CONFIG_${b === 'arm64' ? 'ARM64' : 'X86_64'}=y), or a board for ${kcArch}`);
  }
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

/** The architecture the machine's kernel configuration names, or null (none, or it does not say; a bad one is the kernel's to refuse). */
function configArch(machine: EmulatedOptions): 'x86_64' | 'arm64' | null {
  if (machine.kconfig === undefined) return null;
  try {
    return kconfigMachine(Kconfig.from(machine.kconfig)).arch;
  } catch {
    return null;
  }
}
