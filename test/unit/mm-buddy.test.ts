import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuddyAllocator } from '../../src/kernel/mm/buddy.js';

test('split and merge: 1024 pages at pfn 0', () => {
  const b = new BuddyAllocator();
  b.addFreeRange(0, 1024);
  assert.equal(b.totalPages, 1024);
  assert.equal(b.freePages, 1024);
  assert.equal(b.freeBlocks(10), 1);
  assert.equal(b.largestFreeOrder(), 10);

  assert.equal(b.alloc(8), 0);
  // expand(): 512 on order 9, 256 on order 8
  assert.deepEqual(b.buddyinfo(), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
  assert.equal(b.alloc(8), 256);
  assert.deepEqual(b.buddyinfo(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.equal(b.freePages, 512);
  assert.equal(b.largestFreeOrder(), 9);

  b.free(0, 8);
  assert.deepEqual(b.buddyinfo(), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
  b.free(256, 8);
  assert.deepEqual(b.buddyinfo(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(b.freePages, 1024);
});

test('small allocations split down and merge back', () => {
  const b = new BuddyAllocator();
  b.addFreeRange(0, 1024);
  assert.equal(b.alloc(0), 0);
  assert.deepEqual(b.buddyinfo(), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  assert.equal(b.alloc(0), 1);
  assert.equal(b.alloc(4), 16);
  assert.equal(b.freePages, 1024 - 18);
  b.free(1, 0);
  b.free(0, 0);
  b.free(16, 4);
  assert.equal(b.freeBlocks(10), 1);
  assert.equal(b.freePages, 1024);
});

test('addFreeRange splits into naturally aligned blocks and merges with neighbours', () => {
  const b = new BuddyAllocator();
  b.addFreeRange(3, 13); // pfn 3..15: 3(o0) 4(o2) 8(o3)
  assert.deepEqual(b.buddyinfo(), [1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  b.addFreeRange(0, 3); // 0(o1) 2(o0) → merges up to one order-4 block at 0
  assert.deepEqual(b.buddyinfo(), [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.equal(b.totalPages, 16);
  // A 4 GiB range starting at an unaligned pfn above 2^31
  const big = new BuddyAllocator();
  const start = 2 ** 31 + 1;
  big.addFreeRange(start, 2048);
  assert.equal(big.freePages, 2048);
  assert.equal(big.freeBlocks(10), 1);
  assert.equal(big.alloc(10), 2 ** 31 + 1024);
  assert.equal(big.alloc(10), -1);
});

test('alloc fails when nothing large enough is free', () => {
  const b = new BuddyAllocator();
  b.addFreeRange(0, 8);
  assert.equal(b.alloc(4), -1);
  assert.equal(b.alloc(3), 0);
  assert.equal(b.alloc(0), -1);
  assert.equal(b.largestFreeOrder(), -1);
  assert.equal(b.alloc(11), -1);
  assert.equal(b.alloc(-1), -1);
});

test('fault injection: failOrders', () => {
  const b = new BuddyAllocator();
  b.addFreeRange(0, 1024);
  b.failOrders = new Set([8]);
  assert.equal(b.alloc(8), -1);
  assert.equal(b.alloc(4), 0);
  assert.equal(b.freePages, 1024 - 16);
  b.failOrders.clear();
  assert.equal(b.alloc(8), 256);
});

test('maxOrder caps merging', () => {
  const b = new BuddyAllocator(2);
  b.addFreeRange(0, 16);
  assert.deepEqual(b.buddyinfo(), [0, 0, 4]);
  assert.equal(b.alloc(2), 0);
  assert.equal(b.alloc(2), 4);
  b.free(0, 2);
  b.free(4, 2);
  assert.deepEqual(b.buddyinfo(), [0, 0, 4]);
});

test('100,000 live order-0 allocations', () => {
  const b = new BuddyAllocator();
  b.addFreeRange(0, 4 * 1024 * 1024); // 16 GiB of 4 KiB pages
  const got: number[] = [];
  for (let i = 0; i < 100_000; i++) got.push(b.alloc(0));
  assert.equal(new Set(got).size, 100_000);
  assert.equal(b.freePages, 4 * 1024 * 1024 - 100_000);
  for (const pfn of got) b.free(pfn, 0);
  assert.equal(b.freeBlocks(10), 4096);
  assert.equal(b.freePages, 4 * 1024 * 1024);
});

test('per-CPU page list: freed single pages are reused without a merge, drain() merges them', () => {
  const b = new BuddyAllocator(10, 4);
  b.addFreeRange(0, 1024);
  const p = b.alloc(0);
  assert.equal(p, 0);
  assert.deepEqual(b.buddyinfo(), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  b.free(p, 0);
  assert.equal(b.pcpCount, 1);
  assert.equal(b.freePages, 1024, 'pages on the per-CPU list count as free');
  assert.deepEqual(b.buddyinfo(), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], 'not merged yet');
  assert.equal(b.alloc(0), 0, 'taken from the per-CPU list');
  b.free(0, 0);
  b.drain();
  assert.equal(b.pcpCount, 0);
  assert.deepEqual(b.buddyinfo(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  // the list holds at most pcpHigh pages; beyond that frees merge at once
  const pages = [0, 1, 2, 3, 4, 5].map(() => b.alloc(0));
  for (const q of pages) b.free(q, 0);
  assert.equal(b.pcpCount, 4);
  b.failOrders.add(0);
  assert.equal(b.alloc(0), -1, 'fault injection wins over the per-CPU list');
});

test('zones: user pages come from ZONE_NORMAL first, then ZONE_DMA32; merges never cross the boundary', () => {
  const b = new BuddyAllocator(10, 0, 2048);
  b.addFreeRange(1024, 2048); // one order-10 block below the split (1024) and one above (2048)
  assert.equal(b.alloc(0), 2048, 'the first page above the split');
  assert.equal(b.alloc(10), 1024, 'no whole order-10 block is left in ZONE_NORMAL: ZONE_DMA32 serves it');
  assert.equal(b.alloc(10), -1);
  b.free(1024, 10);
  b.free(2048, 0);
  assert.deepEqual(b.buddyinfo(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 'two order-10 blocks, never merged into order 11 across the split');
  assert.equal(b.freePages, 2048);
});
