// The boot loader's placements and the kernel's early arm64 allocations (src/kernel/of/boot-layout.ts):
// QEMU's -machine virt loader (the arm64 referee's), a loader given item by item, the linear map's
// page tables and the unflattened device tree's size, with the numbers the arm64 referee showed
// (Linux 7.3-rc7, memblock=debug: see the module's comment).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ARM64_DEVICE_NODE_SIZE, ARM64_PROPERTY_SIZE, QEMU_VIRT_IMAGE_SIZE, QEMU_VIRT_INITRD_SIZE, arm64LinearMapTables, parseLoaderSpec, resolveLoader, unflattenSize,
} from '../../src/kernel/of/boot-layout.js';
import type { LoaderConfig } from '../../src/kernel/of/boot-layout.js';
import { loadBoardBytes } from '../../src/kernel/index.js';
import type { DeviceTree } from '../../src/kernel/index.js';
import { parseSize } from '../../src/apps/common/args.js';
import { bootKernel } from '../../src/backends/emulated/index.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RAM = [{ base: 0x40000000, size: GiB }];
const fixture = (name: string) => new URL(`../../../test/fixtures/arm64-7.3/${name}`, import.meta.url).pathname;

function tree(name: string): DeviceTree {
  const r = loadBoardBytes(new Uint8Array(readFileSync(fixture(name))));
  assert.ok(!('error' in r), 'error' in r ? r.error : '');
  return r.tree;
}

test('qemu-virt: the image 2 MiB into RAM, the initrd at RAM/2 capped at 128 MiB, the DTB at the next 2 MiB after it, (size + 10000) × 2 long', () => {
  assert.deepEqual(resolveLoader({ preset: 'qemu-virt' }, { arch: 'arm64', ram: RAM, dtbFileSize: 7502 }), {
    image: { base: 0x40200000, size: QEMU_VIRT_IMAGE_SIZE },
    initrd: { base: 0x48000000, size: QEMU_VIRT_INITRD_SIZE },
    dtb: { base: 0x48200000, size: (7502 + 10000) * 2 },
    qemuTree: true,
  });
  assert.deepEqual([QEMU_VIRT_IMAGE_SIZE, QEMU_VIRT_INITRD_SIZE], [0x470000, 1297142]);
  // 64 MiB of RAM: the initrd at 32 MiB; a 40 MiB image pushes it past the image's end
  const small = [{ base: 0x40000000, size: 64 * MiB }];
  const s = resolveLoader({ preset: 'qemu-virt' }, { arch: 'arm64', ram: small, dtbFileSize: 7502 });
  assert.ok(!('error' in s));
  assert.equal(s.initrd?.base, 0x42000000);
  const big = resolveLoader({ preset: 'qemu-virt', image: { size: 40 * MiB } }, { arch: 'arm64', ram: small, dtbFileSize: 7502 });
  assert.ok(!('error' in big));
  assert.equal(big.initrd?.base, 0x40200000 + 40 * MiB);
  assert.equal(big.dtb?.base, 0x42c00000);
  // no initrd, no tree: only the image
  assert.deepEqual(resolveLoader({ preset: 'qemu-virt', initrd: { size: 0 } }, { arch: 'arm64', ram: RAM, dtbFileSize: null }), {
    image: { base: 0x40200000, size: QEMU_VIRT_IMAGE_SIZE }, initrd: null, dtb: null, qemuTree: false,
  });
  // an address given wins over the preset's
  const at = resolveLoader({ preset: 'qemu-virt', initrd: { size: 4096, base: 0x50000000 } }, { arch: 'arm64', ram: RAM, dtbFileSize: 100 });
  assert.ok(!('error' in at));
  assert.deepEqual([at.initrd, at.dtb?.base], [{ base: 0x50000000, size: 4096 }, 0x50200000]);
});

test('a loader given item by item (none): each item needs its address; bad sizes and the wrong arch are refused', () => {
  assert.deepEqual(resolveLoader({ image: { size: 0x470000, base: 0x80080000 }, dtb: { size: 0x10000, base: 0x83000000 } }, { arch: 'arm64', ram: RAM, dtbFileSize: 1 }), {
    image: { base: 0x80080000, size: 0x470000 }, initrd: null, dtb: { base: 0x83000000, size: 0x10000 }, qemuTree: false,
  });
  assert.deepEqual(resolveLoader({}, { arch: 'x86_64', ram: RAM, dtbFileSize: null }), { image: null, initrd: null, dtb: null, qemuTree: false });
  const refusals: [LoaderConfig, 'x86_64' | 'arm64', string][] = [
    [{ initrd: { size: 4096 } }, 'arm64', 'loader initrd=4096: give its address (initrd=SIZE@ADDR), or use a preset (qemu-virt) that places it'],
    [{ preset: 'qemu-virt' }, 'x86_64', 'loader qemu-virt: QEMU\'s -machine virt loader is for arm64 (the machine is x86_64): use qemu-pc'],
    [{ image: { size: -1, base: 0 } }, 'arm64', 'loader image: size -1 is not a whole number of bytes'],
    [{ dtb: { size: 1.5, base: 0 } }, 'arm64', 'loader dtb: size 1.5 is not a whole number of bytes'],
    [{ initrd: { size: 1, base: Number.MAX_SAFE_INTEGER + 2 } }, 'arm64', 'loader initrd: address 9007199254740992 is not a whole number'],
  ];
  for (const [cfg, arch, error] of refusals) assert.deepEqual(resolveLoader(cfg, { arch, ram: RAM, dtbFileSize: null }), { error }, JSON.stringify(cfg));
});

test('the CLI form of a loader: a preset and/or items, with sizes and addresses in the CLI\'s units', () => {
  const p = (s: string) => parseLoaderSpec(s, (t, what) => parseSize(t, what));
  assert.deepEqual(p('qemu-virt'), { preset: 'qemu-virt' });
  assert.deepEqual(p('qemu-virt, initrd=0'), { preset: 'qemu-virt', initrd: { size: 0 } });
  assert.deepEqual(p('image=0x470000@0x40200000,dtb=64K@0x48200000'), { image: { size: 0x470000, base: 0x40200000 }, dtb: { size: 65536, base: 0x48200000 } });
  assert.deepEqual(p('none,initrd=1M@1G'), { preset: 'none', initrd: { size: MiB, base: GiB } });
  assert.deepEqual(p('a,b,c,d,e'), { error: "'a,b,c,d,e' has more than a preset and three items" });
  assert.deepEqual(p('kernel=1M'), { error: "'kernel=1M' is not a loader preset (qemu-virt, qemu-pc, none) or an item (image=SIZE[@ADDR], initrd=SIZE[@ADDR], dtb=SIZE[@ADDR])" });
  assert.deepEqual(p('dtb=1M,dtb=2M'), { error: "'dtb=1M,dtb=2M' gives dtb twice" });
  assert.deepEqual(p('none,qemu-virt'), { error: "'none,qemu-virt' names two presets" });
  assert.throws(() => p('image=1Q@0'), (e: unknown) => e instanceof Error && e.message === "image size: '1Q' is not a size: 'Q' is not a unit");
});

test('the linear map\'s page tables: the counts the arm64 referee allocated for 512 MiB to 3 GiB of RAM (4 KiB pages)', () => {
  const at = (size: number, pageSize = 4096) => arm64LinearMapTables([{ base: 0x40000000, size }], pageSize, 0x40000000);
  assert.deepEqual([at(512 * MiB), at(GiB), at(1.5 * GiB), at(2 * GiB), at(3 * GiB)], [258, 514, 771, 1027, 1540]);
  // 16 KiB pages (4 levels, 32 MiB per PTE table): 32 + 1 + 1; 64 KiB (3 levels, 512 MiB per table): 2 + 1
  assert.equal(at(GiB, 16384), 34);
  assert.equal(at(GiB, 65536), 3);
  // two banks sharing a table count it once; an empty bank counts nothing
  assert.equal(arm64LinearMapTables([{ base: 0x40000000, size: 1 * MiB }, { base: 0x40100000, size: 1 * MiB }, { base: 0x50000000, size: 0 }], 4096, 0x40000000), 3);
});

test('the unflattened device tree: 42276 bytes for virt.dtb and 44460 for virt-cma.dtb, as the referee allocated', () => {
  const qemu = { bootargs: true, initrd: true, qemuMemory: { ramBase: 0x40000000 } };
  assert.equal(unflattenSize(tree('virt.dtb'), qemu), 42276);
  assert.equal(unflattenSize(tree('virt-cma.dtb'), qemu), 44460);
  // the 4 properties and 3 nodes of /reserved-memory (the two regions' node names included) make the difference
  assert.equal(44460 - 42276, 2184);
  // without what the loader adds (/chosen bootargs and initrd, QEMU's /memory node): less
  assert.equal(unflattenSize(tree('virt.dtb'), { bootargs: false, initrd: false, qemuMemory: null }), 41964);
  assert.deepEqual([ARM64_DEVICE_NODE_SIZE, ARM64_PROPERTY_SIZE], [208, 104]);
});

test('a board boot with the qemu-virt loader reserves the image, initrd and DTB where QEMU puts them', () => {
  const k = bootKernel({ board: new Uint8Array(readFileSync(fixture('virt.dtb'))), loader: { preset: 'qemu-virt' }, cmdline: 'cma=32M', cmdlineGiven: true, kconfig: readFileSync(fixture('kernel.config'), 'latin1') });
  const reserved = k.memoryPlan.memblock.reserved.map((r) => [r.base, r.size]);
  for (const r of [[0x40200000, QEMU_VIRT_IMAGE_SIZE], [0x48000000, 0x13d000], [0x48200000, (readFileSync(fixture('virt.dtb')).length + 10000) * 2]]) {
    assert.ok(reserved.some(([b, s]) => b! <= r[0]! && b! + s! >= r[0]! + r[1]!), `${r[0]!.toString(16)}+${r[1]!.toString(16)} in ${reserved.map(([b, s]) => `${b!.toString(16)}+${s!.toString(16)}`).join(' ')}`);
  }
});

test('qemu-pc: the x86-64 referees\' e820 map and first page-table block put cma=64M where Linux 6.1 does (1, 2, 3, 4 GiB)', () => {
  // ORACLE_MEM=1G|2G|3G|4G run-in-kernel.sh: dmesg's "cma: Reserved" and "last_pfn" lines
  const cases: [number, string, string[]][] = [
    [1, '0x000000003bc00000', ['last_pfn = 0x3ffe0 max_arch_pfn = 0x400000000']],
    [2, '0x000000007bc00000', ['last_pfn = 0x7ffe0 max_arch_pfn = 0x400000000']],
    [3, '0x00000000bbc00000', ['last_pfn = 0xbffe0 max_arch_pfn = 0x400000000']],
    [4, '0x0000000100000000', ['last_pfn = 0x140000 max_arch_pfn = 0x400000000', 'last_pfn = 0xbffe0 max_arch_pfn = 0x400000000']],
  ];
  for (const [g, at, pfn] of cases) {
    const k = bootKernel({ profile: '6.1', ramBytes: g * GiB, cmdline: 'cma=64M', loader: { preset: 'qemu-pc' } });
    assert.deepEqual(k.dmesg.filter((l) => l.startsWith('last_pfn')), pfn, `${g} GiB`);
    assert.ok(k.dmesg.includes(`cma: Reserved 64 MiB at ${at}`), `${g} GiB: ${k.dmesg.filter((l) => l.startsWith('cma:')).join(', ')}`);
  }
  // qemu-pc is the default of an x86-64 machine without a board: the same placement without it
  assert.ok(bootKernel({ profile: '6.1', ramBytes: 2 * GiB, cmdline: 'cma=64M' }).dmesg.includes('cma: Reserved 64 MiB at 0x000000007bc00000'));
  // the none preset keeps one bank from 0 (no e820 holes, no page-table block): 4 MiB higher
  const none = bootKernel({ profile: '6.1', ramBytes: 2 * GiB, cmdline: 'cma=64M', loader: { preset: 'none' } });
  assert.ok(none.dmesg.includes('cma: Reserved 64 MiB at 0x000000007c000000'));
  assert.deepEqual(none.memoryPlan.ram, [{ base: 0, size: 2 * GiB }]);
});

test('qemu-pc is x86-64 without a board, and takes no items', () => {
  assert.deepEqual(resolveLoader({ preset: 'qemu-pc' }, { arch: 'arm64', ram: RAM, dtbFileSize: null }), { error: 'loader qemu-pc: QEMU\'s -machine pc is x86-64 (the machine is arm64): use qemu-virt' });
  assert.deepEqual(resolveLoader({ preset: 'qemu-pc' }, { arch: 'x86_64', ram: RAM, dtbFileSize: 1000 }), { error: 'loader qemu-pc: the QEMU pc machine describes its RAM with e820, not a device tree: drop --board, or use none' });
  assert.deepEqual(resolveLoader({ preset: 'qemu-pc', initrd: { size: 4096 } }, { arch: 'x86_64', ram: RAM, dtbFileSize: null }), { error: 'loader qemu-pc: takes no image, initrd or dtb items (the kernel image keeps the first 16 MiB)' });
  assert.deepEqual(parseLoaderSpec('qemu-pc', (t) => Number(t)), { preset: 'qemu-pc' });
});
