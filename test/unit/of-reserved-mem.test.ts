import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceTree, cellsBytes, newNode, setProp } from '../../src/kernel/of/tree.js';
import type { MemReserve } from '../../src/kernel/of/tree.js';
import { planMemory } from '../../src/kernel/of/reserved-mem.js';
import type { MemoryPlan, PlanMemoryInput, ReservedRegion } from '../../src/kernel/of/reserved-mem.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import { type PropValue, dtNode } from './of-helpers.js';

const M = 1024 * 1024;
const G = 1024 * M;

type Kids = [string, Record<string, PropValue>][];



const RM_OK: Record<string, PropValue> = { '#address-cells': [2], '#size-cells': [2], ranges: true };

/** A 2 GiB arm64 board: RAM 0x40000000-0xbfffffff, #address-cells = #size-cells = 2. */
function board(kids: Kids, opts: { rm?: Record<string, PropValue>; memReg?: number[]; memreserve?: MemReserve[] } = {}): DeviceTree {
  const root = newNode('', null);
  setProp(root, '#address-cells', cellsBytes([2]));
  setProp(root, '#size-cells', cellsBytes([2]));
  dtNode(root, 'memory@40000000', { device_type: 'memory', reg: opts.memReg ?? [0, 0x40000000, 0, 0x80000000] });
  const rm = dtNode(root, 'reserved-memory', opts.rm ?? RM_OK);
  for (const [name, props] of kids) dtNode(rm, name, props);
  return new DeviceTree(root, opts.memreserve ?? []);
}

function plan(tree: DeviceTree | null, opts: { profile?: ProfileName; cma?: string; extra?: Partial<PlanMemoryInput> } = {}): MemoryPlan {
  return planMemory({
    tree,
    params: new Map(opts.cma === undefined ? [] : [['cma', opts.cma]]),
    arch: 'arm64',
    pageSize: 4096,
    cmaSizeMbytes: 0,
    kernelImage: { base: 0x40000000, size: 16 * M },
    ...(opts.profile === undefined ? {} : { profile: opts.profile }),
    ...opts.extra,
  });
}

const region = (p: MemoryPlan, name: string): ReservedRegion => {
  const r = p.regions.find((x) => x.name === name);
  assert.ok(r !== undefined, `region ${name}`);
  return r;
};

const CMA_DEFAULT: Record<string, PropValue> = { compatible: 'shared-dma-pool', reusable: true, size: [0, 64 * M], 'linux,cma-default': true };

// ---------------------------------------------------------------------------------------------

test('2 GiB arm64 board: static no-map region and a 64 MiB default CMA region placed top-down (7.0)', () => {
  const p = plan(board([
    ['firmware@b0000000', { reg: [0, 0xb0000000, 0, 0x1000000], 'no-map': true }],
    ['linux,cma', CMA_DEFAULT],
  ]));
  assert.deepEqual(p.ram, [{ base: 0x40000000, size: 2 * G }]);
  assert.deepEqual(p.log, [
    'Reserved memory: created CMA memory pool at 0x00000000bc000000, size 64 MiB',
    'OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool',
    'OF: reserved mem: 0x00000000bc000000..0x00000000bfffffff (65536 KiB) map reusable linux,cma',
    'OF: reserved mem: 0x00000000b0000000..0x00000000b0ffffff (16384 KiB) nomap non-reusable firmware@b0000000',
  ]);
  assert.deepEqual(p.regions, [
    {
      name: 'firmware@b0000000',
      path: '/reserved-memory/firmware@b0000000',
      base: 0xb0000000,
      size: 16 * M,
      static: true,
      ranges: [{ base: 0xb0000000, size: 16 * M }],
      nomap: true,
      reusable: false,
      compatible: [],
      cmaDefault: false,
      dmaDefault: false,
      phandle: null,
      handler: null,
      status: 'ok',
    },
    {
      name: 'linux,cma',
      path: '/reserved-memory/linux,cma',
      base: 0xbc000000,
      size: 64 * M,
      static: false,
      ranges: [],
      nomap: false,
      reusable: true,
      compatible: ['shared-dma-pool'],
      cmaDefault: true,
      dmaDefault: false,
      phandle: null,
      handler: 'cma',
      status: 'ok',
    },
  ]);
  assert.deepEqual(p.cmaAreas, [{ name: 'linux,cma', base: 0xbc000000, size: 64 * M, isDefault: true, regionPath: '/reserved-memory/linux,cma' }]);
  assert.equal(p.defaultCma, 'linux,cma');
  assert.deepEqual(p.memblock, {
    memory: [{ base: 0x40000000, size: 2 * G }],
    reserved: [
      { base: 0x40000000, size: 16 * M },
      { base: 0xbc000000, size: 64 * M },
    ],
    nomap: [{ base: 0xb0000000, size: 16 * M }],
  });
  assert.deepEqual(p.diagnostics, []);
});

test('the same board on 6.1: no region summary lines, same layout', () => {
  const p = plan(
    board([
      ['firmware@b0000000', { reg: [0, 0xb0000000, 0, 0x1000000], 'no-map': true }],
      ['linux,cma', CMA_DEFAULT],
    ]),
    { profile: '6.1' },
  );
  assert.deepEqual(p.log, ['Reserved memory: created CMA memory pool at 0x00000000bc000000, size 64 MiB', 'OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool']);
  assert.deepEqual(p.cmaAreas, [{ name: 'linux,cma', base: 0xbc000000, size: 64 * M, isDefault: true, regionPath: '/reserved-memory/linux,cma' }]);
});

test('CMA alignment: a reusable dynamic region is raised to CMA_MIN_ALIGNMENT_BYTES (2 MiB)', () => {
  // 1 MiB below a 1 MiB static region at the top: default alignment would give 0xbfe00000 - 16 MiB.
  const p = plan(board([
    ['top@bff00000', { reg: [0, 0xbff00000, 0, 0x100000] }],
    ['cma', { compatible: 'shared-dma-pool', reusable: true, size: [0, 16 * M] }],
    ['plain', { size: [0, 16 * M] }],
  ]));
  assert.equal(region(p, 'cma').base, 0xbee00000);
  assert.equal(region(p, 'plain').base, 0xbde00000);
  assert.deepEqual(p.cmaAreas.map((a) => [a.name, a.base, a.isDefault]), [['cma', 0xbee00000, false]]);
  assert.equal(p.defaultCma, null);
});

test('alloc-ranges: bottom-up when the window starts at a reservation, top-down when it ends at one (7.0)', () => {
  const tree = board([
    ['a', { size: [0, 32 * M], 'alloc-ranges': [0, 0x60000000, 0, 0x10000000] }],
    ['b', { size: [0, 32 * M], 'alloc-ranges': [0, 0x70000000, 0, 0x10000000] }],
    ['c', { size: [0, 16 * M], 'alloc-ranges': [0, 0x50000000, 0, 0x1e000000] }],
  ]);
  const p = plan(tree);
  // a: no neighbour → default top-down; b starts where a ends → bottom-up; c ends where a starts → top-down.
  assert.deepEqual(p.regions.map((r) => [r.name, r.base, r.status]), [
    ['a', 0x6e000000, 'ok'],
    ['b', 0x70000000, 'ok'],
    ['c', 0x6d000000, 'ok'],
  ]);
  assert.deepEqual(p.log, [
    'OF: reserved mem: 0x000000006e000000..0x000000006fffffff (32768 KiB) map non-reusable a',
    'OF: reserved mem: 0x0000000070000000..0x0000000071ffffff (32768 KiB) map non-reusable b',
    'OF: reserved mem: 0x000000006d000000..0x000000006dffffff (16384 KiB) map non-reusable c',
  ]);
  // 6.1 has no adjacency rule, and processes the (0, 0) dynamic regions in lib/sort.c heap order: b, c, a.
  const old = plan(tree, { profile: '6.1' });
  assert.deepEqual(old.regions.map((r) => [r.name, r.base]), [
    ['a', 0x6e000000],
    ['b', 0x7e000000],
    ['c', 0x6d000000],
  ]);
});

test('alloc-ranges: a window adjacent at both ends keeps the default direction', () => {
  const p = plan(board([
    ['p', { size: [0, 16 * M], 'alloc-ranges': [0, 0x60000000, 0, 0x1000000] }],
    ['q', { size: [0, 16 * M], 'alloc-ranges': [0, 0x68000000, 0, 0x1000000] }],
    ['r', { size: [0, 16 * M], 'alloc-ranges': [0, 0x61000000, 0, 0x7000000] }],
    ['s', { size: [0, 16 * M], 'alloc-ranges': [0, 0x61000000, 0, 0x5000000] }],
  ]));
  assert.deepEqual(p.regions.map((r) => [r.name, r.base]), [
    ['p', 0x60000000],
    ['q', 0x68000000],
    ['r', 0x67000000],
    ['s', 0x61000000],
  ]);
});

test('alloc-ranges: static neighbours count before 6.12 only (they are saved later since the restructure)', () => {
  const tree = board([
    ['fw@60000000', { reg: [0, 0x60000000, 0, 0x1000000] }],
    ['b', { size: [0, 32 * M], 'alloc-ranges': [0, 0x61000000, 0, 0x10000000] }],
  ]);
  assert.equal(region(plan(tree, { profile: '6.6' }), 'b').base, 0x61000000);
  assert.equal(region(plan(tree, { profile: '7.0' }), 'b').base, 0x6f000000);
});

test('shared-dma-pool with reusable and no-map: no CMA area, no pool, memory given back (spec §8 case 81)', () => {
  const tree = board([
    ['weird@90000000', { compatible: 'shared-dma-pool', reusable: true, 'no-map': true, reg: [0, 0x90000000, 0, 0x2000000] }],
    ['weird2', { compatible: 'shared-dma-pool', reusable: true, 'no-map': true, size: [0, 32 * M] }],
  ]);
  for (const profile of ['6.1', '7.0'] as const) {
    const p = plan(tree, { profile });
    assert.deepEqual(p.cmaAreas, []);
    assert.deepEqual(p.coherentPools, []);
    const w = region(p, 'weird@90000000');
    assert.equal(w.status, 'failed');
    assert.equal(w.handler, null);
    assert.equal(w.reason, 'no handler accepted it (rmem_cma_setup: no-map; rmem_dma_setup: reusable); memory given back');
    // no-map: memblock_clear_nomap() gives the static range back; the dynamic one was also
    // memblock-reserved by the allocation (not CMA-aligned: no-map), and stays reserved.
    assert.deepEqual(p.memblock.nomap, []);
    assert.deepEqual(p.memblock.reserved, [
      { base: 0x40000000, size: 16 * M },
      { base: 0xbe000000, size: 32 * M },
    ]);
  }
  assert.deepEqual(plan(tree).log, ['OF: reserved mem: node weird2 compatible matching fail', 'OF: reserved mem: node weird@90000000 compatible matching fail']);
});

test('disabled nodes are skipped', () => {
  const p = plan(board([
    ['off@a0000000', { reg: [0, 0xa0000000, 0, 0x1000000], status: 'disabled' }],
    ['off2', { ...CMA_DEFAULT, status: 'fail' }],
    ['on@a1000000', { reg: [0, 0xa1000000, 0, 0x1000000], status: 'okay' }],
  ]));
  assert.deepEqual(p.regions.map((r) => [r.name, r.status, r.reason ?? null]), [
    ['off@a0000000', 'ignored', 'disabled (status)'],
    ['off2', 'ignored', 'disabled (status)'],
    ['on@a1000000', 'ok', null],
  ]);
  assert.deepEqual(p.cmaAreas, []);
  assert.deepEqual(p.memblock.reserved, [
    { base: 0x40000000, size: 16 * M },
    { base: 0xa1000000, size: 16 * M },
  ]);
  assert.deepEqual(p.log, ['OF: reserved mem: 0x00000000a1000000..0x00000000a1ffffff (16384 KiB) map non-reusable on@a1000000']);
});

test('a /reserved-memory with the wrong #size-cells (or no ranges) is ignored as a whole', () => {
  const kids: Kids = [['linux,cma', CMA_DEFAULT], ['fw@a0000000', { reg: [0, 0xa0000000, 1 * M] }]];
  const bad = board(kids, { rm: { '#address-cells': [2], '#size-cells': [1], ranges: true } });
  const recent = plan(bad, { extra: { cmaSizeMbytes: 32 } });
  // Printed by both fdt_scan_reserved_mem() and fdt_scan_reserved_mem_reg_nodes().
  assert.deepEqual(recent.log, [
    'OF: reserved mem: Reserved memory: unsupported node format, ignoring',
    'OF: reserved mem: Reserved memory: unsupported node format, ignoring',
    'cma: Reserved 32 MiB at 0x00000000be000000 on node -1',
  ]);
  assert.deepEqual(recent.regions.map((r) => r.status), ['ignored', 'ignored']);
  assert.deepEqual(recent.cmaAreas, [{ name: 'reserved', base: 0xbe000000, size: 32 * M, isDefault: true, regionPath: null }]);
  // 6.1: the scan lived in drivers/of/fdt.c.
  assert.deepEqual(plan(bad, { profile: '6.1' }).log, ['OF: fdt: Reserved memory: unsupported node format, ignoring']);
  const noRanges = board(kids, { rm: { '#address-cells': [2], '#size-cells': [2] } });
  assert.deepEqual(plan(noRanges, { profile: '6.1' }).log, ['OF: fdt: Reserved memory: unsupported node format, ignoring']);
});

test('cma= on the command line overrides the DT default region', () => {
  const tree = board([['linux,cma', CMA_DEFAULT]]);
  const cmdArea = [{ name: 'reserved', base: 0xbe000000, size: 32 * M, isDefault: true, regionPath: null }];
  // 6.19+: the node is skipped before anything is reserved.
  for (const profile of ['6.19', '7.0'] as const) {
    const p = plan(tree, { profile, cma: '32M' });
    assert.deepEqual(p.log, ['OF: reserved mem: Skipping dt linux,cma-default for "cma=" kernel param.', 'cma: Reserved 32 MiB at 0x00000000be000000 on node -1']);
    assert.equal(region(p, 'linux,cma').status, 'ignored');
    assert.deepEqual(p.cmaAreas, cmdArea);
    assert.equal(p.defaultCma, 'reserved');
  }
  // 6.1–6.18: the region is allocated, rmem_cma_setup() bypasses it, the memory goes back.
  // (6.1.192 prints no "on node": the 6.1 referee)
  for (const profile of ['6.1', '6.18'] as const) {
    const p = plan(tree, { profile, cma: '32M' });
    assert.deepEqual(p.log, [
      'Reserved memory: bypass linux,cma node, using cmdline CMA params instead',
      'OF: reserved mem: node linux,cma compatible matching fail',
      `cma: Reserved 32 MiB at 0x00000000be000000${profile === '6.1' ? '' : ' on node -1'}`,
    ]);
    assert.equal(region(p, 'linux,cma').status, 'failed');
    assert.deepEqual(p.cmaAreas, cmdArea);
  }
  // A non-default CMA region is not affected by cma=.
  const other = plan(board([['pool', { compatible: 'shared-dma-pool', reusable: true, size: [0, 16 * M] }]]), { cma: '32M' });
  assert.deepEqual(other.cmaAreas.map((a) => [a.name, a.base, a.isDefault]), [
    ['pool', 0xbf000000, false],
    ['reserved', 0xbd000000, true],
  ]);
});

test('CONFIG_CMA_SIZE_MBYTES gives way to a DT default region, not to a non-default one', () => {
  const dt = plan(board([['linux,cma', CMA_DEFAULT]]), { extra: { cmaSizeMbytes: 32 } });
  assert.deepEqual(dt.cmaAreas.map((a) => a.name), ['linux,cma']);
  const both = plan(board([['pool', { compatible: 'shared-dma-pool', reusable: true, size: [0, 16 * M] }]]), { extra: { cmaSizeMbytes: 32 } });
  assert.deepEqual(both.cmaAreas.map((a) => [a.name, a.isDefault]), [
    ['pool', false],
    ['reserved', true],
  ]);
});

test('overlapping static regions are reported and kept', () => {
  const tree = board([
    ['a@80000000', { reg: [0, 0x80000000, 0, 0x1000000] }],
    ['b@80800000', { reg: [0, 0x80800000, 0, 0x1000000] }],
  ]);
  const p = plan(tree);
  assert.deepEqual(p.log, [
    'OF: reserved mem: 0x0000000080000000..0x0000000080ffffff (16384 KiB) map non-reusable a@80000000',
    'OF: reserved mem: 0x0000000080800000..0x00000000817fffff (16384 KiB) map non-reusable b@80800000',
    'OF: reserved mem: OVERLAP DETECTED!',
    'a@80000000 (0x0000000080000000--0x0000000081000000) overlaps with b@80800000 (0x0000000080800000--0x0000000081800000)',
  ]);
  assert.deepEqual(p.regions.map((r) => [r.status, r.reason]), [
    ['ok', 'overlaps b@80800000'],
    ['ok', 'overlaps a@80000000'],
  ]);
  assert.deepEqual(p.memblock.reserved[1], { base: 0x80000000, size: 0x1800000 });
  // 6.1 checks before initialising anything.
  assert.deepEqual(plan(tree, { profile: '6.1' }).log, [
    'OF: reserved mem: OVERLAP DETECTED!',
    'a@80000000 (0x0000000080000000--0x0000000081000000) overlaps with b@80800000 (0x0000000080800000--0x0000000081800000)',
  ]);
});

test('regions outside RAM: reserved as the kernel does; a CMA one is left out of cmaAreas', () => {
  const p = plan(board([
    ['mmio@10000000', { reg: [0, 0x10000000, 0, 0x100000], 'no-map': true }],
    ['cma@100000000', { compatible: 'shared-dma-pool', reusable: true, reg: [1, 0, 0, 0x4000000] }],
  ]));
  assert.deepEqual(p.log, [
    'OF: reserved mem: 0x0000000010000000..0x00000000100fffff (1024 KiB) nomap non-reusable mmio@10000000',
    'Reserved memory: created CMA memory pool at 0x0000000100000000, size 64 MiB',
    'OF: reserved mem: initialized node cma@100000000, compatible id shared-dma-pool',
    'OF: reserved mem: 0x0000000100000000..0x0000000103ffffff (65536 KiB) map reusable cma@100000000',
  ]);
  assert.deepEqual(p.regions.map((r) => [r.name, r.status, r.handler]), [
    ['mmio@10000000', 'ok', null],
    ['cma@100000000', 'ok', 'cma'],
  ]);
  assert.deepEqual(p.cmaAreas, []);
  // memblock_mark_nomap() only flags RAM; memblock_reserve() takes any range.
  assert.deepEqual(p.memblock.nomap, []);
  assert.deepEqual(p.memblock.reserved[1], { base: 0x100000000, size: 64 * M });
  assert.deepEqual(p.diagnostics, [
    'CMA area cma@100000000 (0x0000000100000000, 67108864 bytes) is not inside RAM: cma_activate_area() cannot use it; left out of cmaAreas',
    '/reserved-memory/mmio@10000000: 0x0000000010000000+1048576 is not entirely inside RAM',
  ]);
});

test('x86-64 without a tree: fallback RAM, cma=64M lands at 0x7c000000 above a 16 MiB kernel image', () => {
  const input = (cma: string | undefined, mbytes: number): PlanMemoryInput => ({
    tree: null,
    params: new Map(cma === undefined ? [] : [['cma', cma]]),
    arch: 'x86_64',
    pageSize: 4096,
    ramFallback: [{ base: 0, size: 2 * G }],
    cmaSizeMbytes: mbytes,
    kernelImage: { base: 0, size: 16 * M },
  });
  const expected = {
    ram: [{ base: 0, size: 2 * G }],
    memreserve: [],
    regions: [],
    cmaAreas: [{ name: 'reserved', base: 0x7c000000, size: 64 * M, isDefault: true, regionPath: null }],
    defaultCma: 'reserved',
    coherentPools: [],
    restrictedPools: [],
    memblock: {
      memory: [{ base: 0, size: 2 * G }],
      reserved: [
        { base: 0, size: 16 * M },
        { base: 0x7c000000, size: 64 * M },
      ],
      nomap: [],
    },
    // e820_end_pfn(): the end of RAM in pages (2 GiB / 4 KiB), below max_arch_pfn (2^46 / 4 KiB)
    log: ['last_pfn = 0x80000 max_arch_pfn = 0x400000000', 'cma: Reserved 64 MiB at 0x000000007c000000 on node -1'],
    diagnostics: [],
    boot: null,
  };
  assert.deepEqual(planMemory(input('64M', 0)), expected);
  assert.deepEqual(planMemory(input(undefined, 64)), expected);
  // cma= wins over the Kconfig size; cma=0 means no area at all.
  assert.deepEqual(planMemory(input('0', 64)).cmaAreas, []);
});

test('the default area: arm64 keeps it below 4 GiB (arm64_dma_phys_limit), x86-64 goes above 4 GiB first', () => {
  const big = board([], { memReg: [0, 0x40000000, 1, 0] });
  assert.deepEqual(plan(big, { cma: '64M' }).cmaAreas.map((a) => a.base), [0xfc000000]);
  const x86 = planMemory({
    tree: null,
    params: new Map([['cma', '64M']]),
    arch: 'x86_64',
    pageSize: 4096,
    ramFallback: [{ base: 0, size: 6 * G }],
    cmaSizeMbytes: 0,
    kernelImage: { base: 0, size: 16 * M },
  });
  assert.deepEqual(x86.cmaAreas.map((a) => a.base), [0x100000000]);
});

test('coherent and restricted DMA pools', () => {
  const p = plan(board([
    ['vpu', { compatible: 'shared-dma-pool', size: [0, 8 * M], 'no-map': true, 'linux,dma-default': true, phandle: [7] }],
    ['restricted@a0000000', { compatible: 'restricted-dma-pool', reg: [0, 0xa0000000, 0, 0x400000] }],
    ['bad-restricted@a1000000', { compatible: 'restricted-dma-pool', reg: [0, 0xa1000000, 0, 0x400000], 'no-map': true }],
  ]));
  assert.deepEqual(p.log, [
    'Reserved memory: created DMA memory pool at 0x00000000bf800000, size 8 MiB',
    'OF: reserved mem: initialized node vpu, compatible id shared-dma-pool',
    'OF: reserved mem: 0x00000000bf800000..0x00000000bfffffff (8192 KiB) nomap non-reusable vpu',
    'software IO TLB: Reserved memory: created restricted DMA pool at 0x00000000a0000000, size 4 MiB',
    'OF: reserved mem: initialized node restricted@a0000000, compatible id restricted-dma-pool',
    'OF: reserved mem: 0x00000000a0000000..0x00000000a03fffff (4096 KiB) map non-reusable restricted@a0000000',
    'OF: reserved mem: node bad-restricted@a1000000 compatible matching fail',
  ]);
  assert.deepEqual(p.coherentPools, [{ name: 'vpu', path: '/reserved-memory/vpu', base: 0xbf800000, size: 8 * M, nomap: true, dmaDefault: true }]);
  assert.deepEqual(p.restrictedPools, [{ name: 'restricted@a0000000', path: '/reserved-memory/restricted@a0000000', base: 0xa0000000, size: 4 * M }]);
  assert.deepEqual(p.regions.map((r) => [r.name, r.handler, r.status, r.phandle]), [
    ['vpu', 'coherent', 'ok', 7],
    ['restricted@a0000000', 'restricted-dma', 'ok', null],
    ['bad-restricted@a1000000', null, 'failed', null],
  ]);
  // The dynamic no-map pool is both reserved and NOMAP (early_init_dt_alloc_reserved_memory_arch()).
  assert.deepEqual(p.memblock.nomap, [{ base: 0xbf800000, size: 8 * M }]);
});

test('a CMA region not aligned to CMA_MIN_ALIGNMENT_BYTES is refused and given back', () => {
  const p = plan(board([['cma@a0100000', { compatible: 'shared-dma-pool', reusable: true, reg: [0, 0xa0100000, 0, 0x1000000] }]]));
  assert.deepEqual(p.log, ['Reserved memory: incorrect alignment of CMA region', 'OF: reserved mem: node cma@a0100000 compatible matching fail']);
  assert.deepEqual(p.memblock.reserved, [{ base: 0x40000000, size: 16 * M }]);
  assert.deepEqual(p.cmaAreas, []);
});

test('bad size/alignment/alloc-ranges properties and allocation failure', () => {
  const tree = board([
    ['badsize', { size: [0x4000000] }],
    ['badalign', { size: [0, 16 * M], alignment: [0x1000000] }],
    ['badranges', { size: [0, 16 * M], 'alloc-ranges': [0, 0x60000000, 0] }],
    ['huge', { size: [1, 0] }],
    ['aligned', { size: [0, 16 * M], alignment: [0, 0x10000000] }],
  ]);
  const p = plan(tree, { profile: '6.18' });
  assert.deepEqual(p.log, [
    "OF: reserved mem: invalid size property in 'badsize' node.",
    "OF: reserved mem: invalid alignment property in 'badalign' node.",
    "OF: reserved mem: invalid alloc-ranges property in 'badranges', skipping node.",
    "OF: reserved mem: failed to allocate memory for node 'huge': size 4096 MiB",
    'OF: reserved mem: 0x00000000b0000000..0x00000000b0ffffff (16384 KiB) map non-reusable aligned',
  ]);
  assert.deepEqual(p.regions.map((r) => [r.name, r.status, r.base]), [
    ['badsize', 'failed', 0],
    ['badalign', 'failed', 0],
    ['badranges', 'failed', 0],
    ['huge', 'failed', 0],
    ['aligned', 'ok', 0xb0000000],
  ]);
  assert.equal(region(p, 'huge').reason, 'ENOMEM: no free range fits');
  // 7.0 reads alloc-ranges through of_flat_dt_get_addr_size_prop(): malformed = absent.
  assert.equal(region(plan(tree), 'badranges').base, 0xbf000000);
});

test('several reg tuples: all reserved, the first is the region', () => {
  const tree = board([['split@a0000000', { reg: [0, 0xa0000000, 0, M, 0, 0xa8000000, 0, M] }]]);
  const reserved = [
    { base: 0x40000000, size: 16 * M },
    { base: 0xa0000000, size: M },
    { base: 0xa8000000, size: M },
  ];
  const v61 = plan(tree, { profile: '6.1' });
  assert.deepEqual(v61.log, []);
  assert.deepEqual(v61.memblock.reserved, reserved);
  assert.deepEqual(region(v61, 'split@a0000000').ranges, reserved.slice(1));
  const v617 = plan(tree, { profile: '6.17' });
  assert.deepEqual(v617.log, [
    "OF: reserved mem: fdt_scan_reserved_mem_reg_nodes() ignores 1 regions in node 'split@a0000000'",
    'OF: reserved mem: 0x00000000a0000000..0x00000000a00fffff (1024 KiB) map non-reusable split@a0000000',
  ]);
  const v70 = plan(tree);
  assert.deepEqual(v70.log, []);
  assert.deepEqual(v70.memblock.reserved, reserved);
  assert.equal(region(v70, 'split@a0000000').status, 'ok');
  assert.equal(region(v70, 'split@a0000000').reason, 'reg has more than one tuple: reserved but never initialised (of_flat_dt_get_addr_size())');
});

test('no-map over memory that is already reserved fails (EBUSY); /memreserve/ counts only on 6.1', () => {
  const clash = plan(board([['clash@40000000', { reg: [0, 0x40000000, 0, M], 'no-map': true }]]));
  assert.deepEqual(clash.log, [
    "OF: reserved mem: Reserved memory: failed to reserve memory for node 'clash@40000000': base 0x0000000040000000, size 1 MiB",
    'OF: reserved mem: 0x0000000040000000..0x00000000400fffff (1024 KiB) nomap non-reusable clash@40000000',
  ]);
  assert.deepEqual(clash.memblock.nomap, []);
  assert.equal(region(clash, 'clash@40000000').reason, 'failed to reserve memory at 0x0000000040000000');

  const tree = board([['fw@48000000', { reg: [0, 0x48000000, 0, M], 'no-map': true }]], { memreserve: [{ address: 0x48000000, size: M }] });
  assert.deepEqual(plan(tree, { profile: '6.1' }).log, ["OF: fdt: Reserved memory: failed to reserve memory for node 'fw@48000000': base 0x0000000048000000, size 1 MiB"]);
  const later = plan(tree, { profile: '6.6' });
  assert.deepEqual(later.log, ['OF: reserved mem: 0x0000000048000000..0x00000000480fffff (1024 KiB) nomap non-reusable fw@48000000']);
  assert.deepEqual(later.memblock.nomap, [{ base: 0x48000000, size: M }]);
});

test('CONFIG_CMA_AREAS limits the number of CMA areas', () => {
  const p = plan(
    board([
      ['linux,cma', CMA_DEFAULT],
      ['second', { compatible: 'shared-dma-pool', reusable: true, size: [0, 16 * M] }],
    ]),
    { extra: { maxCmaAreas: 1 } },
  );
  assert.deepEqual(p.log.slice(3), [
    'cma: Not enough slots for CMA reserved regions!',
    'Reserved memory: unable to setup CMA region',
    'OF: reserved mem: node second compatible matching fail',
  ]);
  assert.deepEqual(p.cmaAreas.map((a) => a.name), ['linux,cma']);
});

test('CMA area names are truncated to 63 characters', () => {
  const long = 'a'.repeat(70);
  const p = plan(board([[long, { compatible: 'shared-dma-pool', reusable: true, size: [0, 16 * M] }]]));
  assert.equal(p.cmaAreas[0]?.name, 'a'.repeat(63));
  assert.equal(p.regions[0]?.name, long);
});

test('nodes with neither reg nor size are ignored; a tree without /reserved-memory is fine', () => {
  const p = plan(board([['nothing', { compatible: 'shared-dma-pool' }]]));
  assert.deepEqual(p.regions.map((r) => [r.status, r.reason]), [['ignored', 'neither reg nor size']]);
  const root = newNode('', null);
  setProp(root, '#address-cells', cellsBytes([1]));
  setProp(root, '#size-cells', cellsBytes([1]));
  dtNode(root, 'memory@0', { device_type: 'memory', reg: [0x40000000, 0x40000000] });
  const bare = plan(new DeviceTree(root), { profile: '6.1', cma: '16M' });
  assert.deepEqual(bare.log, ['cma: Reserved 16 MiB at 0x000000007f000000']);
});
