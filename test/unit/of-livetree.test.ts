import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


import { writeFdt } from '../../src/kernel/of/fdt.js';
import { readLiveTree, type LiveTreeEntry } from '../../src/kernel/of/livetree.js';
import { baseName, treeLines, type DeviceTree, type DtNode } from '../../src/kernel/of/tree.js';
import { FIX, parseFixture, memoryLiveTree } from './of-helpers.js';




/** Node and property lines only (a live tree has no header: no memreserve, no boot CPU). */
function body(t: DeviceTree): string[] {
  return treeLines(t).filter((l) => l.startsWith('/') && !l.startsWith('/memreserve/'));
}

/** The kernel's /sys/firmware/devicetree/base layout; `nameFiles` adds the `name` file older kernels show. */
function writeLive(t: DeviceTree, dir: string, nameFiles: boolean): void {
  const walk = (n: DtNode, d: string): void => {
    mkdirSync(d, { recursive: true });
    for (const p of n.props) writeFileSync(join(d, p.name), p.value);
    if (nameFiles && !n.props.some((p) => p.name === 'name')) writeFileSync(join(d, 'name'), Buffer.from(baseName(n.name) + '\0', 'latin1'));
    for (const c of n.children) walk(c, join(d, c.name));
  };
  walk(t.root, dir);
}


interface BoardFiles {
  loadBoard(path: string, opts?: { includeDirs?: readonly string[] }): { tree: DeviceTree; source: 'dts' | 'dtb' | 'live' } | { error: string };
}
/** src/apps/common is not a project reference of the test project, so load it at run time. */
async function boardFiles(): Promise<BoardFiles> {
  return (await import(new URL('../../src/apps/common/board-files.js', import.meta.url).href)) as BoardFiles;
}

for (const name of ['arm64-board.dts', 'labels-refs.dts', 'values.dts']) {
  test(`${name}: written in the kernel's live-tree layout, it reads back (with and without name files)`, async () => {
    const { loadBoard } = await boardFiles();
    const tree = parseFixture(name);
    const dir = mkdtempSync(join(tmpdir(), 'dmaheap-live-'));
    try {
      for (const nameFiles of [false, true]) {
        const base = join(dir, `base-${nameFiles}`);
        writeLive(tree, base, nameFiles);
        const r = loadBoard(base);
        if ('error' in r) assert.fail(r.error);
        assert.equal(r.source, 'live');
        assert.deepEqual(body(r.tree).sort(), body(tree).sort());
        assert.equal(r.tree.root.name, '');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('readLiveTree keeps the listing order, and needs no file system', () => {
  const tree = parseFixture('arm64-board.dts');
  const r = readLiveTree(memoryLiveTree(tree, '/proc/device-tree'), '/proc/device-tree');
  if ('error' in r) assert.fail(r.error);
  assert.deepEqual(body(r.tree), body(tree));
  assert.equal(r.tree.find('/reserved-memory/vpu@50000000')!.parent, r.tree.find('/reserved-memory'));
  assert.equal(r.tree.bootCpuidPhys, 0);
  assert.deepEqual(r.tree.memreserve, []);
});

test("the kernel's name property: skipped when it is the base name, kept when it differs", () => {
  const files = new Map<string, Uint8Array>([
    ['/b/name', new Uint8Array([0])],
    ['/b/model', Buffer.from('m\0')],
    ['/b/memory@40000000/name', Buffer.from('memory\0')],
    ['/b/memory@40000000/device_type', Buffer.from('memory\0')],
    ['/b/odd/name', Buffer.from('other\0')],
  ]);
  const dirs = new Map<string, LiveTreeEntry[]>([
    ['/b', [{ name: 'name', isDir: false }, { name: 'model', isDir: false }, { name: 'memory@40000000', isDir: true }, { name: 'odd', isDir: true }]],
    ['/b/memory@40000000', [{ name: 'name', isDir: false }, { name: 'device_type', isDir: false }]],
    ['/b/odd', [{ name: 'name', isDir: false }]],
  ]);
  const r = readLiveTree({ list: (d) => dirs.get(d) ?? null, read: (f) => files.get(f) ?? null }, '/b');
  if ('error' in r) assert.fail(r.error);
  assert.deepEqual(body(r.tree), ['/', '/:model = 6d 00', '/memory@40000000', '/memory@40000000:device_type = 6d 65 6d 6f 72 79 00', '/odd', '/odd:name = 6f 74 68 65 72 00']);
});

test('live tree errors', () => {
  const dirs = new Map<string, LiveTreeEntry[]>([
    ['/b', [{ name: 'x', isDir: true }, { name: 'compatible', isDir: false }]],
    ['/b/x', [{ name: 'q', isDir: false }]],
  ]);
  let r = readLiveTree({ list: (d) => dirs.get(d) ?? null, read: (f) => (f === '/b/compatible' ? new Uint8Array(0) : null) }, '/b');
  assert.deepEqual(r, { error: '/b/x/q: cannot read the property' });
  r = readLiveTree({ list: () => null, read: () => null }, '/nope');
  assert.deepEqual(r, { error: '/nope: cannot list the directory' });
  // A directory that contains itself (a link loop) stops at the depth limit (the kernel's own: 64).
  r = readLiveTree({ list: () => [{ name: 'loop', isDir: true }, { name: 'model', isDir: false }], read: () => new Uint8Array(0) }, '/l');
  assert.deepEqual(r, { error: `/l${'/loop'.repeat(65)}: nodes nested more than 64 deep` });
});

test('loadBoard chooses the front end by content and formats errors', async () => {
  const { loadBoard } = await boardFiles();
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-board-'));
  try {
    const dts = loadBoard(join(FIX, 'include/board.dts'));
    if ('error' in dts) assert.fail(dts.error);
    assert.equal(dts.source, 'dts');
    assert.deepEqual(treeLines(dts.tree), treeLines(parseFixture('include/board.dts')));

    const blobPath = join(dir, 'board.dtb');
    writeFileSync(blobPath, writeFdt(dts.tree));
    const dtb = loadBoard(blobPath);
    if ('error' in dtb) assert.fail(dtb.error);
    assert.equal(dtb.source, 'dtb');
    assert.deepEqual(treeLines(dtb.tree), treeLines(dts.tree));

    const blob = readFileSync(blobPath);
    writeFileSync(blobPath, blob.subarray(0, 60));
    assert.deepEqual(loadBoard(blobPath), { error: `${blobPath}: invalid FDT: truncated: totalsize is ${blob.length} bytes but only 60 are present` });

    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'main.dts'), '/dts-v1/;\n/include/ "sub/a.dtsi"\n/ { };\n');
    writeFileSync(join(dir, 'sub/a.dtsi'), '/include/ "b.dtsi"\n');
    writeFileSync(join(dir, 'sub/b.dtsi'), '/ {\n\tp = <1 2>\n};\n');
    assert.deepEqual(loadBoard(join(dir, 'main.dts')), { error: `${join(dir, 'sub/b.dtsi')}:3:1: expected ',' or ';' after a property value, found '}'` });

    mkdirSync(join(dir, 'inc'));
    writeFileSync(join(dir, 'inc/soc.dtsi'), '/ { from-include-dir; };\n');
    writeFileSync(join(dir, 'uses-i.dts'), '/dts-v1/;\n/include/ "soc.dtsi"\n');
    assert.deepEqual(loadBoard(join(dir, 'uses-i.dts')), { error: `${join(dir, 'uses-i.dts')}:2:1: cannot find include file "soc.dtsi"` });
    const withI = loadBoard(join(dir, 'uses-i.dts'), { includeDirs: [join(dir, 'inc')] });
    assert.ok('tree' in withI && withI.tree.root.props.some((p) => p.name === 'from-include-dir'));

    writeFileSync(join(dir, 'cpp.dts'), '/dts-v1/;\n#include "x.h"\n');
    const cpp = loadBoard(join(dir, 'cpp.dts'));
    assert.ok('error' in cpp && cpp.error.startsWith(`${join(dir, 'cpp.dts')}:2:1: C preprocessor directive '#include' is not supported`));

    assert.deepEqual(loadBoard(join(dir, 'missing.dts')), { error: `${join(dir, 'missing.dts')}: no such file or directory` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
