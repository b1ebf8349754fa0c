import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffHeaps } from '../../src/api/heap-diff.js';

test('6.12 → 7.0 on a cmdline-CMA board: default_cma_region is new, reserved stays (old name kept)', () => {
  const d = diffHeaps(
    [{ name: 'system', backing: 'system' }, { name: 'reserved', backing: 'cma:reserved' }],
    [{ name: 'system', backing: 'system' }, { name: 'default_cma_region', backing: 'cma:reserved' }, { name: 'reserved', backing: 'cma:reserved' }],
  );
  assert.deepEqual(d, { added: [], removed: [], renamed: [{ from: 'reserved', to: 'default_cma_region', oldNameKept: true }], unchanged: ['system', 'reserved'] });
});

test('a DT default region renamed without alias, a new per-region heap and a removed heap', () => {
  const d = diffHeaps(
    [{ name: 'linux,cma', backing: 'cma:/reserved-memory/linux,cma' }, { name: 'old', backing: 'x' }],
    [{ name: 'default_cma_region', backing: 'cma:/reserved-memory/linux,cma' }, { name: 'framebuffer@78000000', backing: 'cma:/reserved-memory/framebuffer@78000000' }],
  );
  assert.deepEqual(d, {
    added: ['framebuffer@78000000'],
    removed: ['old'],
    renamed: [{ from: 'linux,cma', to: 'default_cma_region', oldNameKept: false }],
    unchanged: [],
  });
});
