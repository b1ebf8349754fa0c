import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getOrder, pageAlign, pageShift, MAX_PAGE_ORDER, archMaxPageOrder, pageblockOrder, hpagePmdOrder } from '../../src/kernel/mm/page.js';
import { cmaMinAlignmentBytes } from '../../src/kernel/mm/cma.js';

const K = 1024;
const M = 1024 * 1024;

test('getOrder', () => {
  assert.equal(getOrder(0, 4096), 0);
  assert.equal(getOrder(1, 4096), 0);
  assert.equal(getOrder(4096, 4096), 0);
  assert.equal(getOrder(4097, 4096), 1);
  assert.equal(getOrder(8192, 4096), 1);
  assert.equal(getOrder(12288, 4096), 2);
  assert.equal(getOrder(M, 4096), 8);
  assert.equal(getOrder(M + 4 * K, 4096), 9);
  assert.equal(getOrder(64 * K, 65536), 0);
  assert.equal(getOrder(8 * 1024 * M, 4096), 21);
});

test('pageAlign and pageShift', () => {
  assert.equal(pageAlign(0, 4096), 0);
  assert.equal(pageAlign(1, 4096), 4096);
  assert.equal(pageAlign(4096, 4096), 4096);
  assert.equal(pageAlign(4097, 16384), 16384);
  assert.equal(pageAlign(2 ** 40 + 1, 4096), 2 ** 40 + 4096);
  assert.equal(pageShift(4096), 12);
  assert.equal(pageShift(16384), 14);
  assert.equal(pageShift(65536), 16);
  assert.equal(MAX_PAGE_ORDER, 10);
});

test('pageblock order and CMA_MIN_ALIGNMENT_BYTES per arch', () => {
  assert.equal(hpagePmdOrder(4096), 9);
  assert.equal(archMaxPageOrder(4096, 'x86_64'), 10);
  assert.equal(archMaxPageOrder(16384, 'arm64'), 11);
  assert.equal(archMaxPageOrder(65536, 'arm64'), 13);
  assert.equal(pageblockOrder(4096, 'x86_64'), 9);
  assert.equal(pageblockOrder(65536, 'arm64'), 13);
  assert.equal(cmaMinAlignmentBytes(4096, 'x86_64'), 2 * M);
  assert.equal(cmaMinAlignmentBytes(4096, 'arm64'), 2 * M);
  assert.equal(cmaMinAlignmentBytes(16384, 'arm64'), 32 * M);
  assert.equal(cmaMinAlignmentBytes(65536, 'arm64'), 512 * M);
});
