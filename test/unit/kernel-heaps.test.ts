import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import { Errno } from '../../src/uapi/errno.js';
import type { DmaBuf } from '../../src/kernel/dma-buf/dma-buf.js';
import type { PagedBuffer } from '../../src/kernel/heaps/paged-buffer.js';
import { heapAlloc } from './kernel-helpers.js';

function chunks(b: DmaBuf): number[] {
  return (b.priv as PagedBuffer).runs.map((r) => r.bytes);
}
const K = 1024;
const M = 1024 * 1024;

test('system heap: orders 8/4/0, largest first, one sg entry per chunk', () => {
  const k = new Kernel({ heaps: ['system'] });
  const h = k.dmaHeap.findByName('system')!;
  const cases: [number, number[]][] = [
    [4 * K, [4 * K]],
    [68 * K, [64 * K, 4 * K]],
    [M + 68 * K, [M, 64 * K, 4 * K]],
    [3 * M, [M, M, M]],
    [2 * M - 4 * K, [M, ...Array<number>(15).fill(64 * K), ...Array<number>(15).fill(4 * K)]],
  ];
  for (const [len, want] of cases) {
    const b = k.dmaHeap.bufferAlloc(h, len, 2, 0n, null);
    assert.ok(typeof b === 'object');
    assert.deepEqual(chunks(b), want, `len ${len}`);
    k.dmaBuf.put(b);
  }
});

test('system heap: never goes back up to a larger order (48 × 64 KiB when order 8 fails)', () => {
  const k = new Kernel({ heaps: ['system'] });
  const h = k.dmaHeap.findByName('system')!;
  k.buddy.failOrders.add(8);
  const b = k.dmaHeap.bufferAlloc(h, 3 * M, 2, 0n, null);
  assert.ok(typeof b === 'object');
  assert.deepEqual(chunks(b), Array<number>(48).fill(64 * K));
  k.buddy.failOrders.clear();
  k.dmaBuf.put(b);
});

test('system heap: pending fatal signal gives EINTR and leaks nothing', () => {
  const k = new Kernel({ heaps: ['system'] });
  const h = k.dmaHeap.findByName('system')!;
  const p = k.spawn();
  const free = k.buddy.freePages;
  p.kill();
  assert.equal(k.dmaHeap.bufferAlloc(h, M, 2, 0n, p), -Errno.EINTR);
  assert.equal(k.buddy.freePages, free);
});

test('system heap: ENOMEM when memory runs out, everything given back', () => {
  const k = new Kernel({ heaps: ['system'], ramBytes: 64 * M });
  const h = k.dmaHeap.findByName('system')!;
  const free = k.buddy.freePages;
  assert.equal(k.dmaHeap.bufferAlloc(h, 64 * M, 2, 0n, null), -Errno.ENOMEM);
  assert.equal(k.buddy.freePages, free);
  // a fault-injected allocator that fails every order also gives ENOMEM
  k.buddy.failOrders.add(8).add(4).add(0);
  assert.equal(k.dmaHeap.bufferAlloc(h, M, 2, 0n, null), -Errno.ENOMEM);
  assert.equal(k.buddy.freePages, free);
});

test('freed pages are really released and come back zeroed', () => {
  const k = new Kernel({ heaps: ['system'] });
  const p = k.spawn();
  const h = p.open('/dev/dma_heap/system', 2);
  const first = heapAlloc(p, h, M, 2);
  assert.equal(first.ret, 0);
  const fd = first.fd;
  const m = p.mmap(0, M, 3, 1, fd, 0);
  assert.equal(k.backing.backedBytes, 0, 'nothing is backed before the first write');
  assert.equal(p.fill(m, M, 0xff), null);
  assert.equal(k.backing.backedBytes, M);
  p.munmap(m, M);
  p.close(fd);
  assert.equal(k.backing.backedBytes, 0);
  const second = heapAlloc(p, h, M, 2);
  assert.equal(second.ret, 0);
  const fd2 = second.fd;
  const m2 = p.mmap(0, M, 1, 1, fd2, 0);
  const bytes = p.load(m2, M);
  assert.ok(bytes instanceof Uint8Array && bytes.every((b) => b === 0));
});

test('CMA heap: alignment order min(get_order(size), CMA_ALIGNMENT), physically contiguous', () => {
  const k = new Kernel({ profile: '6.1', heaps: ['cma'], cmdline: 'cma=64M' });
  const h = k.dmaHeap.findByName('reserved')!;
  const area = k.defaultCma!;
  assert.equal(area.basePfn * 4096, 0x7bc00000); // the 6.1 referee with 2 GiB: "cma: Reserved 64 MiB at 0x000000007bc00000"
  const a = k.dmaHeap.bufferAlloc(h, 4 * K, 2, 0n, null) as DmaBuf; // pfn base+0
  const b = k.dmaHeap.bufferAlloc(h, M + 4 * K, 2, 0n, null) as DmaBuf; // order 9 clamped to 8: next 1 MiB boundary
  const ra = (a.priv as PagedBuffer).runs[0]!;
  const rb = (b.priv as PagedBuffer).runs[0]!;
  assert.equal(ra.pfn, area.basePfn);
  assert.equal(rb.pfn, area.basePfn + 256);
  assert.equal(rb.pages, 257);
  assert.equal(area.availableCount, 16384 - 258);
  k.dmaBuf.put(a);
  k.dmaBuf.put(b);
  assert.equal(area.availableCount, 16384);
  assert.equal(k.dmaHeap.bufferAlloc(h, 128 * M, 2, 0n, null), -Errno.ENOMEM);
});

test('CMA_ALIGNMENT is configurable (2..12)', () => {
  const k = new Kernel({ profile: '6.1', heaps: ['cma'], cmdline: 'cma=64M', cmaAlignment: 4 });
  const h = k.dmaHeap.findByName('reserved')!;
  const a = k.dmaHeap.bufferAlloc(h, 4 * K, 2, 0n, null) as DmaBuf;
  const b = k.dmaHeap.bufferAlloc(h, M, 2, 0n, null) as DmaBuf; // order 8 clamped to 4: 64 KiB aligned
  assert.equal((b.priv as PagedBuffer).runs[0]!.pfn - (a.priv as PagedBuffer).runs[0]!.pfn, 16);
  assert.throws(() => new Kernel({ cmaAlignment: 13 }), /CONFIG_CMA_ALIGNMENT must be 2..12/);
});

test('heap names follow the profile', () => {
  const names = (profile: '6.1' | '6.12' | '6.17' | '6.18' | '6.19' | '7.0', cmdline = 'cma=64M') =>
    new Kernel({ profile, cmdline }).heaps().map((h) => h.name);
  assert.deepEqual(names('6.1'), ['system', 'reserved']);
  assert.deepEqual(names('6.12'), ['system', 'reserved']);
  assert.deepEqual(names('6.17'), ['system', 'default_cma_region', 'reserved']);
  assert.deepEqual(names('6.18'), ['system', 'default_cma_region', 'reserved']);
  assert.deepEqual(names('6.19'), ['system', 'default_cma_region', 'reserved']);
  assert.deepEqual(names('7.0'), ['system', 'default_cma_region', 'reserved']);
  assert.deepEqual(names('7.0', ''), ['system']);
  // the legacy duplicate and the default heap share one area but have their own minors
  const k = new Kernel({ profile: '6.17', cmdline: 'cma=64M' });
  assert.deepEqual(k.heaps().map((h) => h.minor), [0, 1, 2]);
  assert.equal(k.dmaHeap.getDrvdata(k.heaps()[1]!), k.dmaHeap.getDrvdata(k.heaps()[2]!));
});

test('CONFIG_CMA_SIZE_MBYTES makes the default area when cma= is absent', () => {
  const k = new Kernel({ profile: '6.1', cmaSizeMbytes: 16 });
  assert.equal(k.defaultCma?.count, 4096);
  assert.deepEqual(k.heaps().map((h) => h.name), ['system', 'reserved']);
  const k2 = new Kernel({ profile: '6.1', cmaSizeMbytes: 16, cmdline: 'cma=32M' });
  assert.equal(k2.defaultCma?.count, 8192);
});

test('cma= in its forms: size@base fixed, size@base-limit, bad values logged', () => {
  const k = new Kernel({ profile: '6.1', cmdline: 'cma=32M@0x40000000' });
  assert.equal(k.defaultCma!.basePfn * 4096, 0x40000000);
  const k2 = new Kernel({ profile: '6.1', cmdline: 'cma=32M@0x10000000-0x20000000' });
  assert.equal(k2.defaultCma!.basePfn * 4096, 0x1e000000);
  const k3 = new Kernel({ profile: '6.1', cmdline: 'cma=banana' });
  assert.equal(k3.defaultCma, null);
  // early_cma() reads an unparsable size as 0 and says nothing; the emulator says why, apart from dmesg
  assert.ok(!k3.dmesg.some((l) => l.startsWith('cma: ')));
  assert.deepEqual(k3.memoryPlan.diagnostics, ['cma: invalid size "banana": read as cma=0 (no command-line area; a DT default area is still skipped)']);
  const k4 = new Kernel({ profile: '6.1', cmdline: 'cma=4G' });
  assert.equal(k4.defaultCma, null);
  // no "on node" on 6.1, as its referee prints it (ORACLE_CMA=4G)
  assert.ok(k4.dmesg.includes('cma: Failed to reserve 4096 MiB'));
});
