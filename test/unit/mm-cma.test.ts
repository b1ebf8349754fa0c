import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CmaArea, cmaAlignOrder, CMA_ALIGNMENT_DEFAULT } from '../../src/kernel/mm/cma.js';

const M = 1024 * 1024;

test('cmaAlignOrder clamps to CONFIG_CMA_ALIGNMENT', () => {
  assert.equal(CMA_ALIGNMENT_DEFAULT, 8);
  assert.equal(cmaAlignOrder(4096, 4096), 0);
  assert.equal(cmaAlignOrder(8192, 4096), 1);
  assert.equal(cmaAlignOrder(12288, 4096), 2);
  assert.equal(cmaAlignOrder(1, 4096), 0);
  assert.equal(cmaAlignOrder(M, 4096), 8);
  assert.equal(cmaAlignOrder(M + 4096, 4096), 8);
  assert.equal(cmaAlignOrder(M + 4096, 4096, 12), 9);
  assert.equal(cmaAlignOrder(64 * M, 4096, 4), 4);
});

test('alignment uses the physical base pfn', () => {
  const a = new CmaArea('odd', 3, 64);
  assert.equal(a.alloc(1, 2), 4); // bit index 1: (1 + 3) % 4 == 0
  assert.equal(a.isAllocated(4), true);
  assert.equal(a.isAllocated(3), false);
  assert.equal(a.alloc(1, 0), 3);
  assert.equal(a.alloc(4, 2), 8);
  assert.equal(a.availableCount, 64 - 6);
  assert.equal(a.used, 6);
});

test('first fit with restarts after set bits', () => {
  const a = new CmaArea('reserved', 0x7c000, 256);
  assert.equal(a.alloc(1, 0), 0x7c000);
  assert.equal(a.alloc(3, 0), 0x7c001);
  assert.equal(a.alloc(8, 3), 0x7c008);
  assert.equal(a.release(0x7c001, 3), true);
  assert.equal(a.alloc(2, 0), 0x7c001);
  assert.equal(a.alloc(2, 0), 0x7c003); // [3,5) free
  assert.equal(a.alloc(4, 2), 0x7c010); // first clear bit 5 → aligned 8, busy → next clear 16
  assert.equal(a.maxchunk, 256 - 20);
});

test('fragmentation failure with free space left', () => {
  const a = new CmaArea('frag', 0, 64);
  const pfns: number[] = [];
  for (let i = 0; i < 64; i++) pfns.push(a.alloc(1, 0));
  assert.deepEqual(pfns, Array.from({ length: 64 }, (_, i) => i));
  for (let i = 0; i < 64; i += 2) assert.equal(a.release(i, 1), true);
  assert.equal(a.availableCount, 32);
  assert.equal(a.maxchunk, 1);
  assert.equal(a.alloc(2, 0), -1);
  assert.equal(a.allocPagesFail, 2);
  assert.equal(a.alloc(1, 0), 0);
  assert.equal(a.allocPagesSuccess, 65);
  assert.equal(a.releasePagesSuccess, 32);
});

test('count > availableCount fails immediately; count > area fails', () => {
  const a = new CmaArea('small', 1024, 16);
  let calls = 0;
  a.busy = () => {
    calls++;
    return false;
  };
  assert.equal(a.alloc(10, 0), 1024);
  assert.equal(calls, 1);
  assert.equal(a.alloc(7, 0), -1);
  assert.equal(calls, 1); // never searched
  assert.equal(a.alloc(17, 0), -1);
  assert.equal(a.alloc(0, 0), -1);
  assert.equal(a.allocPagesFail, 24);
  assert.equal(a.alloc(6, 0), 1034);
  assert.equal(a.availableCount, 0);
});

test('release of a foreign pfn returns false', () => {
  const a = new CmaArea('r', 1000, 100);
  assert.equal(a.alloc(10, 0), 1000);
  assert.equal(a.release(999, 10), false);
  assert.equal(a.release(1100, 1), false);
  assert.equal(a.release(1095, 10), false); // runs past the end
  assert.equal(a.availableCount, 90);
  assert.equal(a.release(1000, 10), true);
  assert.equal(a.availableCount, 100);
  assert.equal(a.used, 0);
});

test('busy hook: EBUSY retries from index + mask + 1', () => {
  const a = new CmaArea('busy', 0, 64);
  const tried: number[] = [];
  a.busy = (pfn) => {
    tried.push(pfn);
    return pfn < 16;
  };
  assert.equal(a.alloc(4, 2), 16);
  assert.deepEqual(tried, [0, 4, 8, 12, 16]);
  assert.equal(a.availableCount, 60);
  assert.equal(a.used, 4);
  a.busy = () => true;
  assert.equal(a.alloc(1, 0), -1);
  assert.equal(a.availableCount, 60);
});

test('order_per_bit rounds counts up to whole bits', () => {
  const a = new CmaArea('opb', 0, 64, 2);
  assert.equal(a.alloc(1, 0), 0);
  assert.equal(a.used, 4);
  assert.equal(a.availableCount, 63); // available_count is in pages as requested
  assert.equal(a.alloc(5, 0), 4);
  assert.equal(a.alloc(1, 4), 16);
  assert.equal(a.release(4, 5), true);
  assert.equal(a.used, 8);
});

test('large area: word-boundary searches', () => {
  const n = 1 << 20;
  const a = new CmaArea('big', 0, n);
  // every other page free, except a 64-page hole at the end
  assert.equal(a.alloc(n, 0), 0);
  for (let i = 0; i < n - 64; i += 2) a.release(i, 1);
  a.release(n - 64, 64);
  assert.equal(a.availableCount, (n - 64) / 2 + 64);
  assert.equal(a.alloc(33, 0), n - 64);
  assert.equal(a.alloc(1, 0), 0);
  assert.equal(a.alloc(32, 5), -1);
  assert.equal(a.alloc(31, 0), n - 31);
  assert.equal(a.maxchunk, 1);
  for (let k = 0; k < 1000; k++) {
    const p = a.alloc(1, 0);
    assert.equal(p, 2 + 2 * k);
  }
});

/** Reference: smallest index ≥ 0 with (index + offset) % step == 0 and nr clear bits, or -1. */
function naiveFirstFit(used: boolean[], nr: number, step: number, offset: number): number {
  for (let p = 0; p + nr <= used.length; p++) {
    if ((p + offset) % step !== 0) continue;
    let ok = true;
    for (let k = 0; k < nr; k++) if (used[p + k] === true) ok = false;
    if (ok) return p;
  }
  return -1;
}

test('first fit matches a naive reference on random bitmaps', () => {
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 300; round++) {
    const n = 1 + Math.floor(rnd() * 300);
    const base = Math.floor(rnd() * 1000);
    const a = new CmaArea('rnd', base, n);
    const used: boolean[] = new Array<boolean>(n).fill(true);
    assert.equal(a.alloc(n, 0), base);
    const density = rnd();
    for (let i = 0; i < n; i++) {
      if (rnd() > density) {
        a.release(base + i, 1);
        used[i] = false;
      }
    }
    for (let q = 0; q < 5; q++) {
      const count = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 70));
      const align = Math.floor(rnd() * 8);
      const step = 2 ** align;
      const expectIdx = count > used.filter((u) => !u).length ? -1 : naiveFirstFit(used, count, step, base % step);
      const got = a.alloc(count, align);
      assert.equal(got, expectIdx < 0 ? -1 : base + expectIdx, `n=${n} base=${base} count=${count} align=${align}`);
      if (got >= 0) for (let k = 0; k < count; k++) used[got - base + k] = true;
    }
  }
});
