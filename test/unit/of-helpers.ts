/** Helpers shared by the device-tree tests: fixtures, the real dtc, and tree building. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDtsError, parseDts, type DtsReadFile } from '../../src/kernel/of/dts.js';
import { cellsBytes, newNode, setProp, type DeviceTree, type DtNode } from '../../src/kernel/of/tree.js';
import type { LiveTreeEntry, LiveTreeFs } from '../../src/kernel/of/livetree.js';

export const FIX = fileURLToPath(new URL('../../../test/fixtures/dts/', import.meta.url));

/** Every fixture compiled by the tests (top-level .dts files must all be listed). */
export const FIXTURES = [
  'labels-refs.dts',
  'merges-deletes.dts',
  'include/board.dts',
  'expressions.dts',
  'values.dts',
  'memreserve.dts',
  'arm64-board.dts',
  'preprocessed.dts',
];

/** Runs the real dtc; a missing dtc fails the test with what to install. */
export function dtc(args: string[]): Buffer {
  const r = spawnSync('dtc', args, { maxBuffer: 64 << 20 });
  if (r.error !== undefined)
    assert.fail(`this test compares against the real dtc, which could not be run (${r.error.message}): install device-tree-compiler (apt-get install device-tree-compiler; CI's .ci/run does)`);
  if (r.status !== 0) assert.fail(`dtc ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** /include/ resolution relative to the including file, bytes as latin1 (one char per byte). */
export const readInclude: DtsReadFile = (name, from) => {
  const p = isAbsolute(name) ? name : join(dirname(from), name);
  try {
    return { path: normalize(p), text: readFileSync(p, 'latin1') };
  } catch {
    return null;
  }
};

export function parseFixture(name: string): DeviceTree {
  const file = join(FIX, name);
  const r = parseDts(readFileSync(file, 'latin1'), file, readInclude);
  if ('error' in r) assert.fail(formatDtsError(r.error));
  return r.tree;
}

/** A property value for {@link dtNode}: boolean, string, string list or cells. */
export type PropValue = true | string | string[] | number[];

/** A string list as a property value: NUL-terminated strings. */
export function strs(...s: string[]): Uint8Array {
  return new TextEncoder().encode(s.map((x) => x + '\0').join(''));
}

/** Adds a child node with properties to `parent`. */
export function dtNode(parent: DtNode, name: string, props: Record<string, PropValue>): DtNode {
  const n = newNode(name, parent);
  parent.children.push(n);
  for (const [k, v] of Object.entries(props)) {
    if (v === true) setProp(n, k, new Uint8Array(0));
    else if (typeof v === 'string') setProp(n, k, strs(v));
    else if (v.length > 0 && typeof v[0] === 'string') setProp(n, k, strs(...(v as string[])));
    else setProp(n, k, cellsBytes(v as number[]));
  }
  return n;
}

/** A tree as an in-memory live tree (/sys/firmware/devicetree/base layout), entries in tree order (props, then children). */
export function memoryLiveTree(t: DeviceTree, root = '/sys/firmware/devicetree/base'): LiveTreeFs {
  const dirs = new Map<string, LiveTreeEntry[]>();
  const files = new Map<string, Uint8Array>();
  const walk = (n: DtNode, d: string): void => {
    const entries: LiveTreeEntry[] = [];
    for (const p of n.props) {
      entries.push({ name: p.name, isDir: false });
      files.set(`${d}/${p.name}`, p.value);
    }
    for (const c of n.children) {
      entries.push({ name: c.name, isDir: true });
      walk(c, `${d}/${c.name}`);
    }
    dirs.set(d, entries);
  };
  walk(t.root, root);
  return { list: (d) => dirs.get(d) ?? null, read: (f) => files.get(f) ?? null };
}
