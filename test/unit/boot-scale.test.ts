/**
 * Boot at scale: huge RAM costs nothing until used, the architecture's physical address limits
 * are applied as Linux applies them (with its log line), and boot is linear in memory banks and
 * reserved regions. Results are asserted, never times (bench/ prints those: `npm run bench --
 * --only boot-scale`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelConfigError } from '../../src/kernel/config-error.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { BuddyAllocator } from '../../src/kernel/mm/buddy.js';
import { SparseBitmap } from '../../src/kernel/mm/bitmap.js';
import { CmaArea } from '../../src/kernel/mm/cma.js';
import { CoherentPool } from '../../src/kernel/mm/coherent-pool.js';
import { SwiotlbPool } from '../../src/kernel/dev/swiotlb.js';
import { readFdt, writeFdt } from '../../src/kernel/of/fdt.js';
import { Memblock } from '../../src/kernel/of/memblock.js';
import { rng, scaleBoard } from './of-helpers.js';

const GiB = 2 ** 30;
const TiB = 2 ** 40;
const PiB = 2 ** 50;

/** Boots a board given as a DTB (the tree is written and read back, as --board file.dtb would). */
function bootDtb(b: Parameters<typeof scaleBoard>[0], arch: 'arm64' | 'x86_64', profile: '6.1' | '6.12' | '7.0' = '7.0'): Kernel {
  const r = readFdt(writeFdt(scaleBoard(b)));
  if ('error' in r) assert.fail(r.error);
  return new Kernel({ board: r.tree, arch, profile });
}

const ARM64_NOTE = (lost: string, had: string, left: string): string =>
  `${lost} of the ${had} of RAM is not used: arm64_memblock_init() removes RAM at or above 2^52 (PHYS_MASK_SHIFT) and beyond the 128 TiB linear map of a 48-bit kernel VA (${left} left)`;
const X86_NOTE = (lost: string, had: string, left: string): string =>
  `${lost} of the ${had} of RAM is not used: x86-64 with 4-level paging maps physical addresses below 64 TiB (MAX_PHYSMEM_BITS 46; max_pfn is capped at max_arch_pfn) (${left} left)`;

for (const [ram, what] of [[256 * TiB, '256 TiB'], [4 * PiB, '4 PiB']] as const) {
  test(`a ${what} machine boots on arm64 with the 128 TiB the linear map covers, and Linux's warning`, () => {
    const k = bootDtb({ banks: [[0x80000000, ram]] }, 'arm64');
    // memstart_addr = round_down(0x80000000, 1 GiB); everything above memstart + 2^47 is removed
    assert.deepEqual(k.memoryPlan.ram, [{ base: 0x80000000, size: 2 ** 47 }]);
    assert.ok(k.dmesg.includes("Memory doesn't fit in the linear mapping, VA_BITS too small"));
    assert.deepEqual(k.memoryPlan.diagnostics, [ARM64_NOTE(ram === 4 * PiB ? '3968 TiB' : '128 TiB', what, '128 TiB')]);
    // all of it reaches the page allocator but the 64 MiB swiotlb pool below 4 GiB, the linear
    // map's page tables (paging_init(), page-granular: 2^26 PTE tables of 2 MiB, 2^17 PMD tables
    // of 1 GiB, 256 PUD tables of 512 GiB) and the page the unflattened tree (1188 bytes) starts
    const tables = 2 ** 26 + 2 ** 17 + 2 ** 8;
    assert.equal(k.buddy.totalPages, 2 ** 47 / 4096 - (64 * 2 ** 20) / 4096 - tables - 1);
    // [0xfbfff000, 0xfffff000) is not 4 MiB-aligned: it cuts into 17 of the max-order blocks;
    // the tables and the tree take the top tables + 1 pages: 65665 blocks, the lowest one in part
    assert.equal(k.buddy.freeBlocks(10), 2 ** 47 / (4 * 2 ** 20) - 17 - Math.ceil((tables + 1) / 1024));
  });

  test(`a ${what} machine boots on x86-64 with 64 TiB (MAX_PHYSMEM_BITS 46), and e820's last_pfn line`, () => {
    const k = bootDtb({ banks: [[0x80000000, ram]] }, 'x86_64');
    assert.deepEqual(k.memoryPlan.ram, [{ base: 0x80000000, size: 2 ** 46 - 0x80000000 }]);
    assert.ok(k.dmesg.includes('last_pfn = 0x400000000 max_arch_pfn = 0x400000000'));
    const lostGiB = ram / GiB - (2 ** 46 - 2 ** 31) / GiB;
    assert.deepEqual(k.memoryPlan.diagnostics, [X86_NOTE(`${lostGiB} GiB`, what, '65534 GiB')]);
    assert.equal(k.buddy.totalPages, (2 ** 46 - 2 ** 31) / 4096 - (64 * 2 ** 20) / 4096);
  });
}

test('x86-64 prints last_pfn on every boot; below the limit nothing is dropped', () => {
  // the default x86-64 machine is the referees' QEMU pc: the 6.1 referee with 2 GiB prints
  // "last_pfn = 0x7ffe0 max_arch_pfn = 0x400000000" (its e820 ends usable RAM at 0x7ffe0000)
  const k = new Kernel({ arch: 'x86_64' });
  assert.ok(k.dmesg.includes('last_pfn = 0x7ffe0 max_arch_pfn = 0x400000000'), '2 GiB on QEMU pc: the last PFN is 0x7ffe0');
  assert.deepEqual(k.memoryPlan.diagnostics, []);
  const one = new Kernel({ arch: 'x86_64', loader: { preset: 'none' } });
  assert.ok(one.dmesg.includes('last_pfn = 0x80000 max_arch_pfn = 0x400000000'), '2 GiB of RAM from 0: the last PFN is 0x80000');
  assert.deepEqual(one.memoryPlan.diagnostics, []);
  const big = new Kernel({ arch: 'x86_64', ramBytes: 64 * TiB, loader: { preset: 'none' } });
  assert.ok(big.dmesg.includes('last_pfn = 0x400000000 max_arch_pfn = 0x400000000'));
  assert.deepEqual(big.memoryPlan.ram, [{ base: 0, size: 64 * TiB }]);
  // QEMU pc with 64 TiB: low RAM to 3 GiB less the firmware's 128 KiB, the rest from 4 GiB, cut at 64 TiB
  const bigPc = new Kernel({ arch: 'x86_64', ramBytes: 64 * TiB });
  assert.ok(bigPc.dmesg.includes('last_pfn = 0x400000000 max_arch_pfn = 0x400000000'));
  assert.deepEqual(bigPc.memoryPlan.ram, [{ base: 0, size: 0x9fc00 }, { base: 0x100000, size: 0xc0000000 - 0x20000 - 0x100000 }, { base: 4 * GiB, size: 64 * TiB - 4 * GiB }]);
  assert.equal(new Kernel({ arch: 'arm64', ramBytes: 64 * TiB }).memoryPlan.ram[0]!.size, 64 * TiB);
});

test('RAM entirely beyond the limits is refused: Linux would have no memory to boot with', () => {
  assert.throws(() => bootDtb({ banks: [[2 ** 52, TiB]] }, 'arm64'), (e: unknown) => {
    assert.ok(e instanceof KernelConfigError);
    assert.equal(e.message, `no usable RAM: ${ARM64_NOTE('1 TiB', '1 TiB', '0 bytes')}; Linux cannot boot without memory: describe RAM the arm64 kernel maps (docs/device-tree.md, physical address limits)`);
    return true;
  });
  assert.throws(() => bootDtb({ banks: [[2 ** 46, TiB]] }, 'x86_64'), {
    name: 'KernelConfigError',
    message: `no usable RAM: ${X86_NOTE('1 TiB', '1 TiB', '0 bytes')}; Linux cannot boot without memory: describe RAM the x86_64 kernel maps (docs/device-tree.md, physical address limits)`,
  });
  // on arm64 the linear map starts at the first bank: a bank 200 TiB above another is dropped
  const k = bootDtb({ banks: [[0x80000000, GiB], [200 * TiB, GiB]] }, 'arm64');
  assert.deepEqual(k.memoryPlan.ram, [{ base: 0x80000000, size: GiB }]);
  assert.ok(k.dmesg.includes("Memory doesn't fit in the linear mapping, VA_BITS too small"));
});

test('16,000 memory banks and 3,000 reserved regions boot, every one accounted for', () => {
  const banks = Array.from({ length: 16000 }, (_, i) => [0x80000000 + i * 0x400000, 0x200000] as const);
  const regions = Array.from({ length: 3000 }, (_, j) => [0x80000000 + j * 5 * 0x400000, 0x100000] as const);
  for (const profile of ['6.1', '6.12', '7.0'] as const) {
    const k = bootDtb({ banks, staticRegions: regions }, 'arm64', profile);
    const plan = k.memoryPlan;
    assert.equal(plan.ram.length, 16000, 'banks with holes between them stay apart');
    assert.equal(plan.ram.reduce((n, r) => n + r.size, 0), 16000 * 0x200000);
    assert.equal(plan.regions.length, 3000);
    // drivers/of/of_private.h MAX_RESERVED_REGIONS: the first 64 are recorded, every one is reserved
    assert.equal(plan.regions.filter((r) => r.status === 'ok').length, 64);
    assert.equal(plan.regions.filter((r) => r.status === 'failed' && r.reason === 'more than MAX_RESERVED_REGIONS regions').length, 2936);
    assert.equal(k.dmesg.filter((l) => l === 'OF: reserved mem: not enough space for all defined regions.').length, 2936);
    // what is left for the page allocator: the banks minus the regions minus the swiotlb pool,
    // which is halved down to what fits in one 2 MiB bank (1024 slots), minus arm64's early
    // allocations: 16064 page-table pages (one PTE table per bank, 63 PMD tables for the 62.5 GiB
    // the banks span, a PUD table), the unflattened tree (323 pages) and, from 6.12, the
    // reserved_mem array (3000 regions of 48 bytes: 36 pages)
    assert.equal(k.devices.swiotlb?.nslabs, 1024);
    const early = 16000 + 63 + 1 + 323 + (profile === '6.1' ? 0 : 36);
    assert.equal(k.buddy.totalPages, (16000 * 0x200000 - 3000 * 0x100000 - 1024 * 2048) / 4096 - early);
  }
});

test('3,000 dynamically placed regions boot: each one allocated top-down in turn', () => {
  const k = bootDtb({ banks: [[0x80000000, 64 * GiB]], dynamicRegions: Array.from({ length: 3000 }, () => 0x200000) }, 'arm64', '6.12');
  const placed = k.memoryPlan.regions.filter((r) => r.base !== 0);
  // 6.12+: a dynamic region is allocated first and saved after, so the 64-entry table fills and
  // the rest stay allocated (memblock) without a record
  assert.equal(k.memoryPlan.regions.length, 3000);
  assert.equal(placed.length, 3000);
  const bases = placed.map((r) => r.base);
  assert.equal(bases[0], 0x80000000 + 64 * GiB - 0x200000, 'the first one at the top of RAM');
  assert.ok(bases.every((b, i) => i === 0 || b === bases[i - 1]! - 0x200000), 'each next one right below');
});

test('the buddy allocator keeps untouched max-order blocks as extents: 16 PiB costs one entry per zone', () => {
  const b = new BuddyAllocator(10, 0, 2 ** 20);
  b.addFreeRange(3, 2 ** 42 - 3); // PFNs 3 .. 2^42 of 4 KiB pages (16 PiB), across the zone split at 4 GiB
  assert.equal(b.totalPages, 2 ** 42 - 3);
  assert.equal(b.freePages, 2 ** 42 - 3);
  // the head up to PFN 1024: 3 (order 0), 4 (order 2), 8 (order 3) ... 512 (order 9); then whole blocks
  assert.deepEqual(b.buddyinfo(), [1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2 ** 32 - 1]);
  // ZONE_NORMAL (from PFN 2^20) is served first, from its oldest extent, lowest PFN first
  assert.equal(b.alloc(10), 2 ** 20);
  assert.equal(b.alloc(0), 2 ** 20 + 1024, 'a max-order block taken from the extent and split');
  assert.deepEqual(b.buddyinfo(), [2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2 ** 32 - 3]);
  b.free(2 ** 20, 10);
  b.free(2 ** 20, 10); // an exact double free is ignored
  assert.equal(b.freeBlocks(10), 2 ** 32 - 2);
  b.free(2 ** 20 + 2048, 10); // so is a double free of a block still inside an extent
  assert.equal(b.freePages, 2 ** 42 - 4);
  b.free(2 ** 20 + 1024, 0);
  assert.equal(b.freePages, 2 ** 42 - 3);
  assert.equal(b.freeBlocks(10), 2 ** 32 - 1, 'merged back into one max-order block');
  // a freed max-order block comes after the untouched ones
  assert.equal(b.alloc(10), 2 ** 20 + 2048);
});

test('SparseBitmap: any length, memory only where bits are set, scans skip whole chunks', () => {
  const bm = new SparseBitmap(2 ** 50);
  assert.equal(bm.nextZero(0, bm.nbits), 0);
  assert.equal(bm.nextSet(0, bm.nbits), bm.nbits);
  bm.set(2 ** 44 - 5, 2 ** 48); // 2^48 bits: 2^28 whole chunks between two partial ones
  assert.equal(bm.chunksInUse, 2, 'the whole chunks in between are one run');
  assert.equal(bm.popcount(), 2 ** 48);
  assert.equal(bm.nextSet(0, bm.nbits), 2 ** 44 - 5);
  assert.equal(bm.nextZero(2 ** 44, bm.nbits), 2 ** 44 - 5 + 2 ** 48);
  assert.equal(bm.get(2 ** 46 + 12345), true);
  bm.clear(2 ** 46, 3); // a chunk in the middle of the run gets words again
  assert.equal(bm.chunksInUse, 3);
  assert.equal(bm.nextZero(2 ** 44 - 5, bm.nbits), 2 ** 46);
  assert.equal(bm.word(2 ** 46 / 32), 0xfffffff8);
  assert.equal(bm.nextSet(2 ** 46, bm.nbits), 2 ** 46 + 3);
  bm.set(2 ** 46, 3);
  assert.equal(bm.chunksInUse, 2, 'all set again: back into the run');
  bm.clear(0, bm.nbits);
  assert.equal(bm.chunksInUse, 0);
  assert.equal(bm.popcount(), 0);
  assert.equal(bm.nextSet(0, bm.nbits), bm.nbits);
  // against a plain array, at random, across chunk boundaries
  const next = rng(0xb17);
  const n = 3 * 2 ** 20 + 77;
  const ref = new Uint8Array(n);
  const sb = new SparseBitmap(n);
  for (let op = 0; op < 300; op++) {
    const start = Math.floor(next() * n);
    const nr = next() < 0.3 ? Math.floor(next() * 2 ** 21) : Math.floor(next() * 100);
    const on = next() < 0.55;
    if (on) sb.set(start, nr);
    else sb.clear(start, nr);
    ref.fill(on ? 1 : 0, start, Math.min(start + nr, n));
    const q = Math.floor(next() * n);
    let z = q;
    while (z < n && ref[z] === 1) z++;
    let o = q;
    while (o < n && ref[o] === 0) o++;
    assert.equal(sb.nextZero(q, n), z);
    assert.equal(sb.nextSet(q, n), o);
  }
  assert.equal(sb.popcount(), ref.reduce((a, b) => a + b, 0));
});

test('a CMA area, a coherent pool and a swiotlb pool of terabytes cost nothing until used', () => {
  const cma = new CmaArea('huge', 2 ** 20, 2 ** 36); // 256 TiB of 4 KiB pages
  assert.equal(cma.used, 0);
  assert.equal(cma.maxchunk, 2 ** 36);
  assert.equal(cma.alloc(2 ** 35, 8), 2 ** 20, 'half of it in one allocation');
  assert.equal(cma.alloc(1, 0), 2 ** 20 + 2 ** 35);
  assert.equal(cma.alloc(2 ** 35, 0), -1, 'one page short');
  assert.equal(cma.used, 2 ** 35 + 1);
  assert.equal(cma.maxchunk, 2 ** 35 - 1);
  assert.ok(cma.release(2 ** 20, 2 ** 35));
  assert.equal(cma.maxchunk, 2 ** 35);

  const pool = new CoherentPool('big', 0, 2 ** 36, 4096);
  assert.equal(pool.largestFreeBlock(), 2 ** 36);
  assert.equal(pool.alloc(4096), 0);
  assert.equal(pool.alloc(8192), 2, 'a 2-page block at the next multiple of 2');
  assert.equal(pool.largestFreeBlock(), 2 ** 35);
  assert.ok(pool.release(0, 4096));
  assert.equal(pool.alloc(4096), 0);

  const tlb = new SwiotlbPool('restricted', 2 ** 40, 2 ** 40, 4096, true); // 2 PiB of 2 KiB slots
  assert.equal(tlb.segmentsInUse, 0);
  const s = tlb.findSlots(0x1000, 4096);
  assert.equal(s, 0);
  assert.equal(tlb.findSlots(0x3000, 4096), 2);
  assert.equal(tlb.segmentsInUse, 1);
  tlb.release(s);
  tlb.release(2);
  assert.equal(tlb.segmentsInUse, 0, 'a segment with nothing in use is dropped');
  assert.equal(tlb.stats.used, 0);
});

test('memblock span operations agree with a page-by-page model', () => {
  // small enough to model page by page: 64 pages of 4 KiB
  const PAGES = 64;
  const next = rng(0x3e3b);
  for (let run = 0; run < 40; run++) {
    const mb = new Memblock(4096);
    const mem = new Uint8Array(PAGES);
    const res = new Uint8Array(PAGES);
    const nomap = new Uint8Array(PAGES);
    for (let op = 0; op < 30; op++) {
      const a = Math.floor(next() * PAGES);
      const len = 1 + Math.floor(next() * 8);
      const e = Math.min(PAGES, a + len);
      const k = Math.floor(next() * 6);
      if (k === 0) {
        mb.addMemory(a * 4096, (e - a) * 4096);
        mem.fill(1, a, e);
      } else if (k === 1) {
        mb.removeMemory(a * 4096, (e - a) * 4096);
        mem.fill(0, a, e);
        nomap.fill(0, a, e);
      } else if (k === 2) {
        mb.reserve(a * 4096, (e - a) * 4096);
        res.fill(1, a, e);
      } else if (k === 3) {
        mb.free(a * 4096, (e - a) * 4096);
        res.fill(0, a, e);
      } else if (k === 4) {
        mb.markNomap(a * 4096, (e - a) * 4096);
        for (let i = a; i < e; i++) if (mem[i] === 1) nomap[i] = 1;
      } else {
        mb.clearNomap(a * 4096, (e - a) * 4096);
        nomap.fill(0, a, e);
      }
      const spans = (f: (i: number) => boolean): { base: number; size: number }[] => {
        const out: { base: number; size: number }[] = [];
        for (let i = 0; i < PAGES; i++) {
          if (!f(i)) continue;
          const last = out[out.length - 1];
          if (last !== undefined && last.base + last.size === i * 4096) last.size += 4096;
          else out.push({ base: i * 4096, size: 4096 });
        }
        return out;
      };
      const snap = mb.snapshot();
      assert.deepEqual(snap.memory, spans((i) => mem[i] === 1));
      assert.deepEqual(snap.reserved, spans((i) => res[i] === 1));
      assert.deepEqual(snap.nomap, spans((i) => nomap[i] === 1));
      assert.deepEqual(mb.freeSpans().map(([s, t]) => ({ base: s, size: t - s })), spans((i) => mem[i] === 1 && res[i] === 0 && nomap[i] === 0));
      assert.equal(mb.isRegionReserved(a * 4096, (e - a) * 4096), res.subarray(a, e).includes(1));
      // top-down: the highest free page run of `len` pages (page 0 is never handed out)
      let want = 0;
      for (let s = PAGES - len; s >= 1 && want === 0; s--) {
        let ok = true;
        for (let i = s; i < s + len; i++) if (mem[i] !== 1 || res[i] === 1 || nomap[i] === 1) ok = false;
        if (ok) want = s * 4096;
      }
      assert.equal(mb.findInRange(len * 4096, 4096, 0, Infinity), want);
    }
  }
});

test('swiotlb= with a huge slab count halves down to what fits below 4 GiB (no 32-bit shift wraps it)', () => {
  const k = new Kernel({ ramBytes: 64 * TiB, cmdline: 'swiotlb=99999999999999,force' });
  const tlb = k.dmesg.filter((l) => l.startsWith('software IO TLB: '));
  // 99999999999999 aligned up to 128 slabs, then halved 26 times (each failure logged)
  assert.equal(tlb.filter((l) => l.includes('Failed to allocate')).length, 26);
  assert.equal(tlb.at(-2), 'software IO TLB: SWIOTLB bounce buffer size adjusted 100000000000000 -> 1490176 slabs');
  // the default x86-64 machine is QEMU pc: with 64 TiB its low RAM ends at 0xbffe0000 (3 GiB less
  // the firmware's 128 KiB), and the pool sits top-down below it: 0xbffe0000 - 1490176 × 2 KiB
  assert.equal(tlb.at(-1), 'software IO TLB: mapped [mem 0x000000000a160000-0x00000000bffe0000] (2910MB)');
  assert.equal(k.devices.swiotlb?.nslabs, 1490176);
  assert.equal(k.devices.swiotlb?.segmentsInUse, 0);
});
