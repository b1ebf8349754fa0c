import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memparse, parseCmaParam, parseCmdline, placeCmaArea, formatPa } from '../../src/kernel/mm/cmdline.js';

const M = 1024 * 1024;
const G = 1024 * M;
const MIN = 2 * M;

test('memparse', () => {
  assert.deepEqual(memparse('64M'), { value: 64 * M, rest: '' });
  assert.deepEqual(memparse('64m@0'), { value: 64 * M, rest: '@0' });
  assert.deepEqual(memparse('0x40000000-x'), { value: 0x40000000, rest: '-x' });
  assert.deepEqual(memparse('0X10k'), { value: 16 * 1024, rest: '' });
  assert.deepEqual(memparse('010'), { value: 8, rest: '' });
  assert.deepEqual(memparse('0'), { value: 0, rest: '' });
  assert.deepEqual(memparse('0x'), { value: 0, rest: 'x' });
  assert.deepEqual(memparse('1G'), { value: G, rest: '' });
  assert.deepEqual(memparse('2t'), { value: 2 * 2 ** 40, rest: '' });
  assert.deepEqual(memparse('1P'), { value: 2 ** 50, rest: '' });
  assert.deepEqual(memparse('1e'), { value: 2 ** 60, rest: '' });
  assert.deepEqual(memparse('12MB'), { value: 12 * M, rest: 'B' });
  assert.equal(memparse('M'), null);
  assert.equal(memparse(''), null);
});

test('parseCmaParam', () => {
  assert.deepEqual(parseCmaParam('64M'), { size: 64 * M, base: 0, limit: 0, fixed: false });
  assert.deepEqual(parseCmaParam('64M@0x40000000'), { size: 64 * M, base: 0x40000000, limit: 0x44000000, fixed: true });
  assert.deepEqual(parseCmaParam('64M@0x40000000-0x80000000'), { size: 64 * M, base: 0x40000000, limit: 0x80000000, fixed: false });
  assert.deepEqual(parseCmaParam('64M@0x40000000-0x44000000'), { size: 64 * M, base: 0x40000000, limit: 0x44000000, fixed: true });
  assert.ok('error' in parseCmaParam('lots'));
  assert.ok('error' in parseCmaParam('64M@x'));
});

test('parseCmdline', () => {
  const m = parseCmdline('  console=ttyS0,115200 quiet cma=64M@0x40000000 dyndbg="file foo.c +p" "a=b c" cma=128M -- init=/x');
  assert.equal(m.get('console'), 'ttyS0,115200');
  assert.equal(m.get('quiet'), '');
  assert.equal(m.get('cma'), '128M');
  assert.equal(m.get('dyndbg'), 'file foo.c +p');
  assert.equal(m.get('a'), 'b c');
  assert.equal(m.has('init'), false);
  assert.equal(m.size, 5);
});

test('formatPa', () => {
  assert.equal(formatPa(0x7c000000), '0x000000007c000000');
});

test('placement: top-down in 2 GiB of RAM', () => {
  const r = placeCmaArea({ size: 64 * M, base: 0, limit: 0, fixed: false }, [{ base: 0, size: 2 * G }], [], MIN);
  assert.deepEqual(r, { base: 0x7c000000, size: 64 * M, log: ['cma: Reserved 64 MiB at 0x000000007c000000 on node -1'] });
});

test('placement: top-down skips reserved memory and honours alignment', () => {
  const r = placeCmaArea(
    { size: 64 * M, base: 0, limit: 0, fixed: false, alignment: 32 * M },
    [{ base: 0, size: 2 * G }],
    [{ base: 0x7ff00000, size: M }, { base: 0x7e000000, size: 0x10000 }],
    MIN,
  );
  assert.ok('base' in r);
  assert.equal(r.base, 0x7a000000);
});

test('placement: size rounded up to the minimum alignment; limit rounded down', () => {
  const r = placeCmaArea({ size: 3 * M, base: 0, limit: 0x40100000, fixed: false }, [{ base: 0, size: 2 * G }], [], MIN);
  assert.ok('base' in r);
  assert.deepEqual([r.base, r.size], [0x40000000 - 4 * M, 4 * M]);
});

test('placement: bottom-up above 4 GiB first', () => {
  const ram = [{ base: 0, size: 2 * G }, { base: 4 * G, size: 4 * G }];
  const r = placeCmaArea({ size: 64 * M, base: 0, limit: 0, fixed: false }, ram, [{ base: 4 * G, size: M }], MIN);
  assert.ok('base' in r);
  assert.equal(r.base, 4 * G + MIN);
  assert.deepEqual(r.log, ['cma: Reserved 64 MiB at 0x0000000100200000 on node -1']);
  // a limit below 4 GiB keeps it low (top-down)
  const low = placeCmaArea({ size: 64 * M, base: 0, limit: 4 * G, fixed: false }, ram, [], MIN);
  assert.ok('base' in low);
  assert.equal(low.base, 0x7c000000);
});

test('placement: fixed', () => {
  const ram = [{ base: 0, size: 2 * G }];
  const ok = placeCmaArea({ size: 64 * M, base: 0x40000000, limit: 0x44000000, fixed: true }, ram, [], MIN);
  assert.ok('base' in ok);
  assert.equal(ok.base, 0x40000000);
  const busy = placeCmaArea({ size: 64 * M, base: 0x40000000, limit: 0x44000000, fixed: true }, ram, [{ base: 0x43fff000, size: 0x1000 }], MIN);
  assert.deepEqual(busy, { errno: 16, message: 'cma: Failed to reserve 64 MiB on node -1', log: ['cma: Failed to reserve 64 MiB on node -1'] });
  const unaligned = placeCmaArea({ size: 64 * M, base: 0x40100000, limit: 0x44100000, fixed: true }, ram, [], MIN);
  assert.ok('errno' in unaligned);
  assert.equal(unaligned.errno, 22);
  assert.equal(unaligned.log[0], 'cma: Region at 0x0000000040100000 must be aligned to 0x0000000000200000 bytes');
});

test('placement: ENOMEM and EINVAL', () => {
  const ram = [{ base: 0, size: 256 * M }];
  const full = placeCmaArea({ size: 128 * M, base: 0, limit: 0, fixed: false }, ram, [{ base: 120 * M, size: 16 * M }], MIN);
  assert.ok('errno' in full);
  assert.equal(full.errno, 12);
  const tooBig = placeCmaArea({ size: 512 * M, base: 0, limit: 0, fixed: false }, ram, [], MIN);
  assert.ok('errno' in tooBig);
  assert.equal(tooBig.errno, 22);
  assert.equal(tooBig.log[0], 'cma: Size (0x0000000020000000) of region at 0x0000000000000000 exceeds limit (0x0000000010000000)');
  const zero = placeCmaArea({ size: 0, base: 0, limit: 0, fixed: false }, ram, [], MIN);
  assert.ok('errno' in zero);
  assert.equal(zero.errno, 22);
});
