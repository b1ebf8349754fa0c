/**
 * The zero page in the emulated kernel (mm/memory.c do_anonymous_page without FAULT_FLAG_WRITE):
 * a load from, or a read populate of, never-written private anonymous memory maps it; pagemap
 * shows it present, the RSS does not count it, a store replaces it. The zero-page PTEs are page
 * ranges, so that a MAP_POPULATE of a terabyte of read-only memory is one step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { PageRanges } from '../../src/kernel/fs/mm-user.js';
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, O_RDONLY, PROT_READ, PROT_WRITE } from '../../src/uapi/fcntl.js';
import { MADV_DONTNEED, MADV_POPULATE_READ } from '../../src/uapi/mman.js';

const PS = 4096;

/** Bit 63 (present) and bit 56 (exclusive) of the pagemap entry of `addr`. */
function entry(p: Process, addr: number): { present: number; exclusive: number } {
  const fd = p.open('/proc/self/pagemap', O_RDONLY);
  const buf = p.userAlloc(8);
  p.lseek(fd, Math.floor(addr / PS) * 8, 0);
  assert.equal(p.read(fd, buf, 8), 8);
  const b = p.mm.copyFromUser(buf, 8)!;
  p.close(fd);
  p.munmap(buf, 8);
  return { present: b[7]! >> 7, exclusive: b[7]! & 1 };
}

test('PageRanges keeps exactly the pages added and not dropped (against a set)', () => {
  const r = new PageRanges();
  const ref = new Set<number>();
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let k = 0; k < 5000; k++) {
    const a = rnd(300);
    const b = a + rnd(20);
    if (rnd(3) === 0) {
      const gone = r.drop(a, b).reduce((n, [x, y]) => n + y - x, 0);
      let expected = 0;
      for (let v = a; v < b; v++) if (ref.delete(v)) expected++;
      assert.equal(gone, expected, `drop ${a}..${b} at step ${k}`);
    } else {
      r.add(a, b);
      for (let v = a; v < b; v++) ref.add(v);
    }
  }
  for (let v = 0; v < 330; v++) assert.equal(r.has(v), ref.has(v), `page ${v}`);
});

test('a load maps the zero page: present, not exclusive, no RSS; a store replaces it; MADV_DONTNEED drops it', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const a = p.mmap(0, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.deepEqual(entry(p, a), { present: 0, exclusive: 0 });
  assert.deepEqual([...(p.load(a, 1) as Uint8Array)], [0]);
  assert.deepEqual(entry(p, a), { present: 1, exclusive: 0 });
  assert.equal(entry(p, a + PS).present, 0, 'only the page loaded');
  assert.equal(p.mm.rss().anon, 0);
  assert.equal(p.store(a, Uint8Array.from([7])), null);
  assert.deepEqual(entry(p, a), { present: 1, exclusive: 1 });
  assert.equal(p.mm.rss().anon, 1);
  assert.equal(p.madvise(a, 2 * PS, MADV_DONTNEED), 0);
  assert.deepEqual(entry(p, a), { present: 0, exclusive: 0 });
  assert.equal(p.madvise(a, 2 * PS, MADV_POPULATE_READ), 0);
  assert.deepEqual(entry(p, a + PS), { present: 1, exclusive: 0 });
  assert.equal(p.mm.rss().anon, 0);
});

test('MAP_POPULATE of a terabyte of read-only private memory maps the zero page everywhere at once', () => {
  const k = new Kernel({ profile: '6.12' });
  const p = k.spawn();
  const len = 2 ** 40;
  const a = p.mmap(0, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
  assert.ok(a > 0);
  assert.equal(entry(p, a).present, 1);
  assert.equal(entry(p, a + len - PS).present, 1);
  assert.equal(p.mm.rss().anon, 0);
  assert.equal(p.munmap(a, len), 0);
  assert.equal(p.mm.zeroPtes.has(a / PS), false, 'munmap drops them');
});
