/** Helpers of the client tests: the example boards and their device trees as a live tree. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseDts, formatDtsError } from '../../src/kernel/of/dts.js';
import type { DeviceTree } from '../../src/kernel/of/tree.js';
import type { DeviceTreeFs } from '../../src/api/heap-knowledge.js';
import { memoryLiveTree } from './of-helpers.js';

export const BOARDS_DIR = fileURLToPath(new URL('../../../examples/boards/', import.meta.url));

/** An example board's device tree (examples/boards/<name>.dts). */
export function board(name: string): DeviceTree {
  const file = `${BOARDS_DIR}${name}.dts`;
  const r = parseDts(readFileSync(file, 'latin1'), file, () => null);
  if ('error' in r) assert.fail(formatDtsError(r.error));
  return r.tree;
}

/** The tree as /sys/firmware/devicetree/base shows it: a directory per node, a file per property. */
export function liveTreeFs(t: DeviceTree, root = '/sys/firmware/devicetree/base'): DeviceTreeFs {
  return memoryLiveTree(t, root);
}

export const MiB = 1024 * 1024;

/** `gc()`: --expose-gc's global when the runner has it, else the V8 flag set at run time. */
export function gcFunction(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    const f = runInNewContext('gc') as unknown;
    return typeof f === 'function' ? (f as () => void) : null;
  } catch {
    return null;
  }
}
