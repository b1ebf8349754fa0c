import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceTree, cellsBytes, newNode, setProp } from '../../src/kernel/of/tree.js';
import type { DtNode } from '../../src/kernel/of/tree.js';
import { Memblock, roundDown, roundUp } from '../../src/kernel/of/memblock.js';
import { readCells, rootCells, scanMemoryNodes } from '../../src/kernel/of/memory.js';
import { kernelSort, planMemory } from '../../src/kernel/of/reserved-mem.js';
import { dtNode } from './of-helpers.js';

const M = 1024 * 1024;
const G = 1024 * M;




function root(addrCells: number | null, sizeCells: number | null): DtNode {
  const r = newNode('', null);
  if (addrCells !== null) setProp(r, '#address-cells', cellsBytes([addrCells]));
  if (sizeCells !== null) setProp(r, '#size-cells', cellsBytes([sizeCells]));
  return r;
}

test('rootCells: early_init_dt_scan_root defaults are 1 and 1', () => {
  assert.deepEqual(rootCells(new DeviceTree(root(null, null))), { addr: 1, size: 1 });
  assert.deepEqual(rootCells(new DeviceTree(root(2, 2))), { addr: 2, size: 2 });
  assert.deepEqual(rootCells(new DeviceTree(root(2, null))), { addr: 2, size: 1 });
});

test('readCells: of_read_number keeps the low 64 bits', () => {
  assert.equal(readCells([1, 0x40000000], 0, 2), 0x140000000);
  assert.equal(readCells([0xdead, 0, 0x10], 0, 3), 0x10);
  assert.equal(readCells([0x80000000], 0, 1), 0x80000000);
});

test('memory nodes: every reg tuple, disabled nodes skipped, linux,usable-memory wins', () => {
  const r = root(2, 2);
  dtNode(r, 'memory@40000000', { device_type: 'memory', reg: [0, 0x40000000, 0, 0x40000000, 1, 0, 0, 0x40000000] });
  dtNode(r, 'memory@80000000', { device_type: 'memory', reg: [0, 0x80000000, 0, 0x10000000], status: 'disabled' });
  dtNode(r, 'memory@90000000', { device_type: 'memory', reg: [0, 0x90000000, 0, 0x10000000], 'linux,usable-memory': [0, 0x90000000, 0, 0x8000000] });
  dtNode(r, 'memory@a0000000', { device_type: 'memory', reg: [0, 0xa0000000, 0, 0], status: 'okay' });
  dtNode(r, 'sram@b0000000', { reg: [0, 0xb0000000, 0, 0x1000] });
  const bus = dtNode(r, 'soc', {});
  dtNode(bus, 'memory@c0000000', { device_type: 'memory', reg: [0, 0xc0000000, 0, 0x1000000] });
  const scan = scanMemoryNodes(new DeviceTree(r), { addr: 2, size: 2 }, 4096);
  assert.deepEqual(scan.added, [
    { base: 0x40000000, size: G },
    { base: 0x100000000, size: G },
    { base: 0x90000000, size: 128 * M },
  ]);
  assert.deepEqual(scan.log, []);
  assert.equal(scan.memoryNodes, 4);
});

test('memory nodes: early_init_dt_add_memory_arch page-aligns and ignores a block smaller than a page', () => {
  const r = root(1, 1);
  dtNode(r, 'memory@0', { device_type: 'memory', reg: [0x40000800, 0x10000000, 0x50000000, 0x800, 0x60000100, 0xe00, 0x70000100, 0xf00] });
  const scan = scanMemoryNodes(new DeviceTree(r), { addr: 1, size: 1 }, 4096);
  assert.deepEqual(scan.added, [{ base: 0x40001000, size: 0x10000000 - 0x1000 }]);
  assert.deepEqual(scan.log, ['OF: fdt: Ignoring memory block 0x50000000 - 0x50000800', 'OF: fdt: Ignoring memory block 0x60000100 - 0x60000f00']);
});

test('memblock: top-down and bottom-up search, NOMAP skipped, start raised to PAGE_SIZE', () => {
  const mb = new Memblock(4096);
  mb.addMemory(0, 0x10000000);
  mb.reserve(0xf000000, 0x1000000);
  mb.markNomap(0xe000000, 0x1000000);
  assert.equal(mb.findInRange(0x100000, 0x100000, 0, Infinity), 0xdf00000);
  mb.bottomUp = true;
  assert.equal(mb.findInRange(0x100000, 0x100000, 0, Infinity), 0x100000);
  assert.equal(mb.findInRange(0x1000, 64, 0, Infinity), 0x1000);
  assert.equal(mb.findInRange(0x10000000, 64, 0, Infinity), 0);
  mb.clearNomap(0xe000000, 0x1000000);
  mb.bottomUp = false;
  assert.equal(mb.allocRange(0x1000000, 0x1000000, 0, Infinity), 0xe000000);
  assert.ok(mb.isRegionReserved(0xe800000, 1));
  mb.free(0xe000000, 0x2000000);
  assert.deepEqual(mb.snapshot(), { memory: [{ base: 0, size: 0x10000000 }], reserved: [], nomap: [] });
});

test('memblock: round_down/round_up use the kernel mask arithmetic', () => {
  assert.equal(roundDown(0x12345678, 0x1000), 0x12345000);
  assert.equal(roundUp(0x12345001, 0x1000), 0x12346000);
  assert.equal(roundUp(0, 0x1000), 0);
  assert.equal(roundDown(0x1_2345_6789, 0x1_0000_0000), 0x1_0000_0000);
  // A non-power-of-two alignment gives the kernel's mask result, not a multiple.
  assert.equal(roundDown(10, 3), 8);
});

test('kernelSort: a correct sort, and lib/sort.c order for equal keys', () => {
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let len = 0; len < 40; len++) {
    const a = Array.from({ length: len }, () => rnd());
    const b = [...a];
    kernelSort(b, (x, y) => x - y);
    assert.deepEqual(b, [...a].sort((x, y) => x - y));
  }
  const eq = ['a', 'b', 'c'];
  kernelSort(eq, () => 0);
  assert.deepEqual(eq, ['b', 'c', 'a']);
});

test('planMemory: RAM comes from the tree, else from ramFallback', () => {
  const r = root(2, 2);
  dtNode(r, 'memory@40000000', { device_type: 'memory', reg: [0, 0x40000000, 0, 0x80000000] });
  const withTree = planMemory({
    tree: new DeviceTree(r),
    params: new Map(),
    arch: 'arm64',
    pageSize: 4096,
    ramFallback: [{ base: 0, size: G }],
    cmaSizeMbytes: 0,
    kernelImage: { base: 0x40000000, size: 16 * M },
  });
  assert.deepEqual(withTree.ram, [{ base: 0x40000000, size: 2 * G }]);
  assert.deepEqual(withTree.diagnostics, []);

  const empty = root(2, 2);
  const noMem = planMemory({
    tree: new DeviceTree(empty),
    params: new Map(),
    arch: 'arm64',
    pageSize: 4096,
    ramFallback: [{ base: 0x40000000, size: G }],
    cmaSizeMbytes: 0,
    kernelImage: { base: 0x40000000, size: 16 * M },
  });
  assert.deepEqual(noMem.ram, [{ base: 0x40000000, size: G }]);
  assert.deepEqual(noMem.diagnostics, ['the device tree has no usable /memory node (device_type = "memory" with a reg): using the default RAM instead (1024 MiB at 0x40000000); add a /memory node to describe the board\'s RAM']);
  assert.deepEqual(noMem.log, ['OF: reserved mem: Reserved memory: No reserved-memory node in the DT']);
});

test('planMemory: /memreserve/ entries are reserved up to the first of size 0', () => {
  const r = root(2, 2);
  dtNode(r, 'memory@40000000', { device_type: 'memory', reg: [0, 0x40000000, 0, 0x80000000] });
  const tree = new DeviceTree(r, [
    { address: 0x48000000, size: 0x100000 },
    { address: 0x49000000, size: 0 },
    { address: 0x4a000000, size: 0x100000 },
  ]);
  const p = planMemory({ tree, params: new Map(), arch: 'arm64', pageSize: 4096, cmaSizeMbytes: 0, kernelImage: { base: 0x40000000, size: 16 * M }, profile: '6.1' });
  assert.deepEqual(p.memreserve, [{ base: 0x48000000, size: 0x100000 }]);
  assert.deepEqual(p.memblock.reserved, [
    { base: 0x40000000, size: 16 * M },
    { base: 0x48000000, size: 0x100000 },
  ]);
  assert.deepEqual(p.log, []);
});
