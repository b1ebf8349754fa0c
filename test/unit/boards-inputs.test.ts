// Inputs that are not what they claim, and inputs that are too big: every board path goes through
// src/boards (the library's createClient({ board }), the CLI's --board, a case's board), which
// reads only regular files and directories, never past their size or the documented limits
// (docs/device-tree.md, input limits), and says what it found instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatedBackend } from '../../src/backends/emulated/index.js';
import { BOARD_FILE_MAX_BYTES, BOARD_TOTAL_MAX_BYTES, loadBoard, nodeIncludeReader, nodeLiveTreeFs } from '../../src/boards/index.js';
import { LIVE_TREE_LIMITS, readLiveTree } from '../../src/kernel/of/livetree.js';
import type { LiveTreeEntry } from '../../src/kernel/of/livetree.js';

const MAIN = new URL('../../../dist/src/apps/cli/main.js', import.meta.url).pathname;
const linux = process.platform === 'linux';
const NOT_A_TREE = (p: string): string =>
  `${p}: not a device tree: a live tree is a directory laid out like /sys/firmware/devicetree/base, whose root holds the root node's properties as files (#address-cells, #size-cells, compatible, model), and ${p} has none of them`;

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-inputs-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function boardError(board: string): string {
  try {
    emulatedBackend.createClient({ board }).close();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected a BoardError');
}

test('the limits are the documented ones', () => {
  assert.equal(BOARD_FILE_MAX_BYTES, 16 * 2 ** 20);
  assert.equal(BOARD_TOTAL_MAX_BYTES, 32 * 2 ** 20);
  assert.deepEqual({ ...LIVE_TREE_LIMITS }, { maxDepth: 64, maxEntries: 16384, maxNodes: 65536, maxProperties: 262144, maxPropertyBytes: 16 * 2 ** 20, maxTotalBytes: 32 * 2 ** 20 });
});

test('a device is refused before it is opened', { skip: existsSync('/dev/zero') ? false : 'no /dev/zero' }, () => {
  for (const dev of ['/dev/zero', '/dev/urandom', '/dev/null']) {
    assert.deepEqual(loadBoard(dev), { error: `${dev}: a character device, not a DTS file, a DTB or a live-tree directory` });
  }
  assert.equal(boardError('/dev/zero'), 'board: /dev/zero: a character device, not a DTS file, a DTB or a live-tree directory');
  // and so through the CLI
  const r = spawnSync(process.execPath, [MAIN, 'heaps', '--board', '/dev/urandom', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.deepEqual(JSON.parse(r.stdout), {
    error: {
      code: 'board',
      message: '--board: /dev/urandom: a character device, not a DTS file, a DTB or a live-tree directory',
      hint: 'fix the board file, or give a DTS, a DTB or a /sys/firmware/devicetree/base directory (docs/device-tree.md)',
    },
  });
});

test('a FIFO is refused without blocking', { skip: spawnSync('mkfifo', ['--version']).status === 0 ? false : 'no mkfifo' }, () => {
  withDir((dir) => {
    const fifo = join(dir, 'board.dtb');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assert.deepEqual(loadBoard(fifo), { error: `${fifo}: a FIFO (named pipe), not a DTS file, a DTB or a live-tree directory` });
    // included from DTS source
    writeFileSync(join(dir, 'main.dts'), '/dts-v1/;\n/include/ "board.dtb"\n');
    assert.deepEqual(loadBoard(join(dir, 'main.dts')), { error: `${join(dir, 'main.dts')}:2:1: cannot include "board.dtb": ${fifo}: a FIFO (named pipe), not a regular file` });
    // and inside a live tree
    writeFileSync(join(dir, 'model'), 'x\0');
    assert.deepEqual(loadBoard(dir), { error: `${fifo}: a FIFO (named pipe): a live tree holds only directories (nodes) and regular files (properties)` });
  });
});

test('/proc/self/mem (a file that reports 0 bytes) is refused without being read', { skip: linux ? false : 'needs /proc' }, () => {
  assert.deepEqual(loadBoard('/proc/self/mem'), { error: '/proc/self/mem: 0 bytes (an empty file, or a /proc or /sys file that does not give its size), not a DTS file or a DTB' });
  withDir((dir) => {
    const empty = join(dir, 'empty.dts');
    writeFileSync(empty, '');
    assert.deepEqual(loadBoard(empty), { error: `${empty}: 0 bytes (an empty file, or a /proc or /sys file that does not give its size), not a DTS file or a DTB` });
    // an /incbin/ of it reads nothing: zero bytes, as an empty file gives
    const r = loadBoard('/dts-v1/;\n/ { compatible = "x"; blob = /incbin/("/proc/self/mem"); };\n');
    assert.ok('tree' in r);
    assert.deepEqual(r.tree.root.props.find((p) => p.name === 'blob')?.value, new Uint8Array(0));
  });
});

test('/ and other directories that are not device trees are refused at their root', () => {
  assert.deepEqual(loadBoard('/'), { error: NOT_A_TREE('/') });
  assert.equal(boardError('/'), `board: ${NOT_A_TREE('/')}`);
  withDir((dir) => {
    // a /usr-like tree: many files and directories, none of them a root property
    for (let i = 0; i < 50; i++) {
      mkdirSync(join(dir, `lib${i}`));
      for (let j = 0; j < 20; j++) writeFileSync(join(dir, `lib${i}`, `f${j}.so`), 'x'.repeat(100));
      writeFileSync(join(dir, `bin${i}`), '#!/bin/sh\n');
    }
    assert.deepEqual(loadBoard(dir), { error: NOT_A_TREE(dir) });
  });
});

test('a file over 16 MiB is refused before it is read (a sparse file)', () => {
  withDir((dir) => {
    const big = join(dir, 'huge.dtb');
    writeFileSync(big, '');
    truncateSync(big, 20 * 2 ** 30); // 20 GiB of nothing
    assert.deepEqual(loadBoard(big), { error: `${big}: 21474836480 bytes, more than the 16 MiB a DTS or DTB file may have (docs/device-tree.md, input limits)` });
    const blob = join(dir, 'blob.bin');
    writeFileSync(blob, '');
    truncateSync(blob, BOARD_FILE_MAX_BYTES + 1);
    writeFileSync(join(dir, 'main.dts'), '/dts-v1/;\n/ {\n\tcompatible = "x";\n\tfw = /incbin/("blob.bin");\n};\n');
    assert.deepEqual(loadBoard(join(dir, 'main.dts')), { error: `${join(dir, 'main.dts')}:4:16: cannot read /incbin/ file "blob.bin": ${blob}: 16777217 bytes, more than the 16 MiB a board file may have` });
  });
});

test('/incbin/ and /include/ of a device are refused', { skip: existsSync('/dev/zero') ? false : 'no /dev/zero' }, () => {
  assert.deepEqual(loadBoard('/dts-v1/;\n/ { compatible = "x"; z = /incbin/("/dev/zero"); };\n'), {
    error: '<board text>:2:36: cannot read /incbin/ file "/dev/zero": /dev/zero: a character device, not a regular file',
  });
  assert.deepEqual(loadBoard('/dts-v1/;\n/include/ "/dev/urandom"\n'), { error: '<board text>:2:1: cannot include "/dev/urandom": /dev/urandom: a character device, not a regular file' });
});

test('every file a board reads counts against one budget', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'a.bin'), new Uint8Array(1000));
    const read = nodeIncludeReader([], { left: 2500 });
    assert.equal((read('a.bin', join(dir, 'x.dts')) as { text: string }).text.length, 1000);
    assert.equal((read('a.bin', join(dir, 'x.dts')) as { text: string }).text.length, 1000);
    assert.deepEqual(read('a.bin', join(dir, 'x.dts')), { error: 'the files of this board add up to more than the 32 MiB a board may read' });
    assert.equal(read('missing.bin', join(dir, 'x.dts')), null);
  });
});

test('a live tree: no symbolic link is followed, and it is read within the depth limit', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'compatible'), 'x\0');
    mkdirSync(join(dir, 'soc'));
    symlinkSync('/etc', join(dir, 'soc', 'escape'));
    assert.deepEqual(loadBoard(dir), { error: `${join(dir, 'soc', 'escape')}: a symbolic link: a live tree holds only directories (nodes) and regular files (properties)` });
    rmSync(join(dir, 'soc', 'escape'));
    // 65 nested nodes: deeper than the kernel itself unflattens (64)
    let p = dir;
    for (let i = 0; i < 65; i++) p = join(p, 'n');
    mkdirSync(p, { recursive: true });
    assert.deepEqual(loadBoard(dir), { error: `${p}: nodes nested more than 64 deep` });
    rmSync(join(dir, 'n'), { recursive: true });
    // a property over 16 MiB is not read
    const big = join(dir, 'soc', 'blob');
    writeFileSync(big, '');
    truncateSync(big, 17 * 2 ** 20);
    assert.deepEqual(loadBoard(dir), { error: `${big}: a property of more than 16 MiB` });
  });
});

test('a live tree: entries per directory, nodes, properties and bytes are bounded', () => {
  const root: LiveTreeEntry = { name: 'compatible', isDir: false };
  const many = (n: number, isDir: boolean): LiveTreeEntry[] => [root, ...Array.from({ length: n }, (_, i) => ({ name: `e${i}`, isDir }))];
  let listed = 0;
  const fs = (entries: LiveTreeEntry[], bytes = 1) => ({
    list: (d: string, max?: number) => {
      listed = Math.min(entries.length, (max ?? Infinity) + 1);
      return d === '/t' ? entries.slice(0, listed) : [];
    },
    read: () => new Uint8Array(bytes),
  });
  assert.deepEqual(readLiveTree(fs(many(20000, false)), '/t'), { error: '/t: more than 16384 entries in one directory (a live tree\'s node has fewer properties and children)' });
  assert.equal(listed, 16385, 'the listing stops one past the limit');
  const small = { ...LIVE_TREE_LIMITS, maxNodes: 10, maxProperties: 10, maxTotalBytes: 100, maxPropertyBytes: 60 };
  assert.deepEqual(readLiveTree(fs(many(10, true)), '/t', small), { error: '/t: more than 10 nodes' });
  assert.deepEqual(readLiveTree(fs(many(10, false)), '/t', small), { error: '/t: more than 10 properties' });
  assert.deepEqual(readLiveTree(fs(many(5, false), 30), '/t', small), { error: '/t: more than 100 bytes of properties' });
  assert.deepEqual(readLiveTree(fs(many(5, false), 61), '/t', small), { error: '/t/compatible: a property of more than 60 bytes' });
  // the Node listing stops one past the limit too
  withDir((dir) => {
    for (let i = 0; i < 30; i++) writeFileSync(join(dir, `p${i}`), '');
    assert.equal(nodeLiveTreeFs.list(dir, 10)?.length, 11);
    assert.equal(nodeLiveTreeFs.list(dir)?.length, 30);
  });
});
