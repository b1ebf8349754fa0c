import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, KernelConfigError } from '../../src/kernel/kernel.js';
import type { KernelConfig } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { allocFaultRuleProblem } from '../../src/kernel/fault-inject.js';
import { Errno } from '../../src/uapi/errno.js';
import { heapAlloc } from './kernel-helpers.js';

const K = 1024;
const M = 1024 * 1024;
const O_RDWR = 2;
const O_CLOEXEC = 0o2000000;

/** A 6.1 machine with cma=64M: heaps `system` and `reserved` (16384 pages of 4 KiB). */
function boot(extra: KernelConfig = {}): Kernel {
  return new Kernel({ profile: '6.1', cmdline: 'cma=64M', ramBytes: 256 * M, ...extra });
}

function meminfo(k: Kernel): Record<string, number> {
  const text = k.readFile(k.init, '/proc/meminfo');
  assert.equal(typeof text, 'string');
  const out: Record<string, number> = {};
  for (const m of (text as string).matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]) * 1024;
  return out;
}

/**
 * free + used = total, in pages: MemFree plus every page something holds (live dma-bufs,
 * anonymous and shmem pages, the memory faults' pages) is MemTotal; and each CMA area's free
 * and used pages are its size.
 */
function assertLedger(k: Kernel): void {
  const ps = k.pageSize;
  const mi = meminfo(k);
  let used = k.anonPages + k.shmemAnonPages + k.shmem.pages;
  for (const b of k.dmaBuf.list) used += b.size / ps;
  for (const f of k.faults.memoryFaults()) used += f.pages;
  assert.equal(mi.MemFree! / ps + used, mi.MemTotal! / ps, 'MemFree + used = MemTotal');
  for (const a of k.cmaAreas) assert.equal(a.availableCount + a.used, a.count, `area ${a.name}: free + used = total`);
}

function openHeap(p: Process, name: string): number {
  const fd = p.open(`/dev/dma_heap/${name}`, O_RDWR);
  assert.ok(fd >= 0, `open ${name}: ${fd}`);
  return fd;
}

/** `n` allocations of `len` bytes: the ioctl results, every buffer closed again. */
function results(p: Process, heapFd: number, n: number, len = 64 * K): number[] {
  const out: number[] = [];
  const fds: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = heapAlloc(p, heapFd, len, O_RDWR | O_CLOEXEC);
    out.push(r.ret);
    if (r.ret === 0) fds.push(r.fd);
  }
  for (const fd of fds) p.close(fd);
  return out;
}

test('nth: only the Nth matching allocation fails, with ENOMEM by default, and the counters say so', () => {
  const k = boot();
  assert.equal(k.faults.lastInjection, null);
  const id = k.faults.add({ heap: 'system', nth: 3 });
  const p = k.spawn();
  const h = openHeap(p, 'system');
  assert.deepEqual(results(p, h, 5), [0, 0, -Errno.ENOMEM, 0, 0]);
  assert.deepEqual(k.faults.list(), [{ id, rule: { heap: 'system', nth: 3 }, matched: 5, injected: 1 }]);
  assert.equal(k.faults.injected, 1);
  assert.equal(k.faults.injectedBy(id), 1);
  assert.equal(k.faults.injectedBy(id + 100), null);
  assert.deepEqual(k.faults.lastInjection, { rule: id, heap: 'system', pid: p.pid, comm: 'task', errno: Errno.ENOMEM });
  assertLedger(k);
});

test('an injected failure leaves no trace but the counters: no pages, no fd, no buffer, no log line', () => {
  const k = boot();
  k.faults.add({ every: 1, errno: Errno.EIO });
  const p = k.spawn();
  const h = openHeap(p, 'system');
  heapAlloc(p, h, 4 * K, O_RDWR); // the argument page is faulted in before the baseline
  k.faults.remove(k.faults.list()[0]!.id);
  const warm = heapAlloc(p, h, 4 * K, O_RDWR);
  p.close(warm.fd);
  k.faults.add({ every: 1, errno: Errno.EIO });
  const free = k.buddy.freePages;
  const cmaFree = k.cmaAreas[0]!.availableCount;
  const bufs = k.dmaBuf.list.size;
  const log = k.dmesg.length;
  const r = heapAlloc(p, h, 8 * M, O_RDWR);
  assert.equal(r.ret, -Errno.EIO);
  assert.equal(r.fd, 0, 'the fd field is not written');
  const cma = openHeap(p, 'reserved');
  assert.equal(heapAlloc(p, cma, M, O_RDWR).ret, -Errno.EIO);
  assert.equal(k.buddy.freePages, free);
  assert.equal(k.cmaAreas[0]!.availableCount, cmaFree);
  assert.equal(k.cmaAreas[0]!.allocPagesFail, 0, 'cma_alloc never ran');
  assert.equal(k.dmaBuf.list.size, bufs);
  assert.equal(k.dmesg.length, log);
  // the lowest free fd is still the one after the heap fds
  assert.equal(p.dup(h), cma + 1);
  assertLedger(k);
});

test('the ioctl\'s own argument checks win: EINVAL for bad flags or length is not counted', () => {
  const k = boot({ faults: [{ heap: 'system', every: 1 }] });
  const p = k.spawn();
  const h = openHeap(p, 'system');
  assert.equal(heapAlloc(p, h, 4 * K, 0o100 /* O_CREAT */).ret, -Errno.EINVAL);
  assert.equal(heapAlloc(p, h, 0, O_RDWR).ret, -Errno.EINVAL);
  assert.equal(k.faults.list()[0]!.matched, 0);
  assert.equal(heapAlloc(p, h, 4 * K, O_RDWR).ret, -Errno.ENOMEM);
  assert.equal(k.faults.list()[0]!.matched, 1);
});

test('heap and comm filters: only matching allocations are counted', () => {
  const k = boot();
  const cmaRule = k.faults.add({ heap: 'reserved', nth: 2, errno: Errno.EBUSY });
  const camRule = k.faults.add({ comm: 'camera', every: 2, errno: Errno.EAGAIN });
  const cam = k.spawn(undefined, 'camera');
  const other = k.spawn(undefined, 'display');
  const camSys = openHeap(cam, 'system');
  const otherSys = openHeap(other, 'system');
  const otherCma = openHeap(other, 'reserved');
  assert.deepEqual(results(other, otherSys, 3), [0, 0, 0]);
  assert.deepEqual(results(cam, camSys, 4), [0, -Errno.EAGAIN, 0, -Errno.EAGAIN]);
  assert.deepEqual(results(other, otherCma, 3, M), [0, -Errno.EBUSY, 0]);
  assert.deepEqual(k.faults.list().map((r) => [r.id, r.matched, r.injected]), [[cmaRule, 3, 1], [camRule, 4, 2]]);
  // an in-kernel allocation (no process) matches a rule without comm only
  const sys = k.dmaHeap.findByName('system')!;
  const b = k.dmaHeap.bufferAlloc(sys, 4 * K, O_RDWR, 0n, null);
  assert.equal(typeof b, 'object');
  if (typeof b === 'object') k.dmaBuf.put(b);
  assert.equal(k.faults.list()[1]!.matched, 4);
  assertLedger(k);
});

test('every rule counts every matching allocation; the first that fires decides', () => {
  const k = boot();
  const a = k.faults.add({ every: 2, errno: Errno.EIO });
  const b = k.faults.add({ every: 3, errno: Errno.ENOSPC });
  const p = k.spawn();
  const h = openHeap(p, 'system');
  assert.deepEqual(results(p, h, 7), [0, -Errno.EIO, -Errno.ENOSPC, -Errno.EIO, 0, -Errno.EIO, 0]);
  assert.deepEqual(k.faults.list().map((r) => [r.id, r.matched, r.injected]), [[a, 7, 3], [b, 7, 1]]);
  assert.equal(k.faults.injected, 4);
  assert.equal(k.faults.remove(a), true);
  assert.equal(k.faults.remove(a), false);
  assert.deepEqual(results(p, h, 2), [0, -Errno.ENOSPC]); // the 8th and 9th matching allocations
  assert.equal(k.faults.injected, 5, 'a removed rule\'s failures stay in the total');
});

test('fraction: the same seed fails the same allocations; 0 never, 1 always', () => {
  const pattern = (seed: number, fraction: number): string => {
    const k = boot({ faults: [{ fraction, seed }] });
    const p = k.spawn();
    const h = openHeap(p, 'system');
    const r = results(p, h, 24, 4 * K).map((x) => (x === 0 ? '.' : 'x')).join('');
    assert.equal(k.faults.injected, [...r].filter((c) => c === 'x').length);
    assertLedger(k);
    return r;
  };
  assert.equal(pattern(42, 0.5), pattern(42, 0.5));
  assert.equal(pattern(42, 0.5), '.x..x.x..xx..xx...xx.x.x');
  assert.equal(pattern(7, 0.5), 'xx...xxx..xx..xxx.x.x.xx');
  // the same draws: a smaller fraction fails a subset
  assert.equal(pattern(42, 0.25), '....x.....x...x...x..x.x');
  assert.equal(pattern(1, 0), '.'.repeat(24));
  assert.equal(pattern(1, 1), 'x'.repeat(24));
});

test('signal: the system heap returns EINTR, the process dies at its next access, nothing leaks', () => {
  const k = boot();
  k.faults.add({ heap: 'system', comm: 'victim', nth: 2, signal: true });
  const p = k.spawn(undefined, 'victim');
  const h = openHeap(p, 'system');
  const first = heapAlloc(p, h, M, O_RDWR);
  assert.equal(first.ret, 0);
  const free = k.buddy.freePages;
  assert.equal(heapAlloc(p, h, 4 * M, O_RDWR).ret, -Errno.EINTR);
  assert.equal(k.buddy.freePages, free);
  assert.equal(p.fatalSignalPending, true);
  assert.equal(p.alive, true);
  assert.equal(p.store(first.arg, new Uint8Array(1)), 'SIGKILL');
  assert.equal(p.alive, false);
  assert.equal(p.killedBy, 'SIGKILL');
  assert.equal(k.faults.injected, 1);
  assert.deepEqual(k.faults.lastInjection, { rule: 1, heap: 'system', pid: p.pid, comm: 'victim', errno: null });
  assertLedger(k); // its buffer went with its fds
  assert.equal(k.dmaBuf.list.size, 0);
});

test('signal: the CMA heap fails with ENOMEM (cma_alloc interrupted), counted as a CMA failure', () => {
  const k = boot({ faults: [{ heap: 'reserved', nth: 1, signal: true }] });
  const p = k.spawn();
  const h = openHeap(p, 'reserved');
  const area = k.cmaAreas[0]!;
  assert.equal(heapAlloc(p, h, M, O_RDWR).ret, -Errno.ENOMEM);
  assert.equal(p.fatalSignalPending, true);
  assert.equal(area.allocPagesFail, 256);
  assert.equal(area.availableCount, area.count);
  assertLedger(k);
  // without a process, a signal rule does not match
  const k2 = boot({ faults: [{ every: 1, signal: true }] });
  const sys = k2.dmaHeap.findByName('system')!;
  const b = k2.dmaHeap.bufferAlloc(sys, 4 * K, O_RDWR, 0n, null);
  assert.equal(typeof b, 'object');
  assert.equal(k2.faults.list()[0]!.matched, 0);
});

test('bad rules are refused with what is allowed, at add() and at boot', () => {
  const cases: [unknown, string][] = [
    [{ heap: 'system' }, 'a fault rule needs exactly one of nth (fail the Nth matching allocation), every (every Nth) or fraction (a share of them, 0..1)'],
    [{ nth: 1, every: 2 }, 'a fault rule needs exactly one of nth (fail the Nth matching allocation), every (every Nth) or fraction (a share of them, 0..1), not nth and every'],
    [{ nth: 0 }, 'nth is a whole number from 1, not 0'],
    [{ every: 1.5 }, 'every is a whole number from 1, not 1.5'],
    [{ fraction: 1.01 }, 'fraction is a number from 0 to 1, not 1.01'],
    [{ fraction: Number.NaN }, 'fraction is a number from 0 to 1, not NaN'],
    [{ nth: 1, errno: 0 }, 'errno is a positive Linux errno number (such as 12 for ENOMEM), not 0'],
    [{ nth: 1, errno: 4096 }, 'errno is a positive Linux errno number (such as 12 for ENOMEM), not 4096'],
    [{ nth: 1, signal: true, errno: 4 }, 'a signal rule takes no errno: the allocation fails as the heap fails it with a fatal signal pending (the system heap: EINTR)'],
    [{ nth: 1, seed: 3 }, 'seed applies only to fraction'],
    [{ fraction: 0.5, seed: -1 }, 'seed is a whole number from 0 to 4294967295, not -1'],
    [{ nth: 1, heap: '' }, 'heap is a non-empty name, not ""'],
    [{ nth: 1, size: 4 }, 'unknown fault rule field \'size\' (known: heap, comm, nth, every, fraction, errno, signal, seed)'],
    [null, 'a fault rule is an object such as { heap: \'system\', nth: 3 }'],
  ];
  const k = boot();
  for (const [rule, message] of cases) {
    assert.equal(allocFaultRuleProblem(rule), message);
    assert.throws(() => k.faults.add(rule as never), (e: unknown) => e instanceof KernelConfigError && e.message === message);
  }
  assert.deepEqual(k.faults.list(), []);
  assert.throws(() => boot({ faults: [{ nth: 0 }] }), { name: 'KernelConfigError', message: 'nth is a whole number from 1, not 0' });
  // at boot, a rule for a heap the machine does not have is refused (add() later takes any name)
  assert.throws(() => boot({ faults: [{ heap: 'linux,cma', nth: 1 }] }), { name: 'KernelConfigError', message: "a fault rule names heap 'linux,cma', which this machine does not have (its heaps: system, reserved)" });
  assert.equal(typeof k.faults.add({ heap: 'linux,cma', nth: 1 }), 'number');
});

test('shrinkCma: the area\'s tail (highest free pages) is taken, cma_alloc cannot use it, release gives it back', () => {
  const k = boot();
  const area = k.cmaAreas[0]!;
  const base = area.basePfn;
  const p = k.spawn();
  const h = openHeap(p, 'reserved');
  assert.equal(k.faults.shrinkCma('nope', 1), -Errno.ENOENT);
  assert.equal(k.faults.shrinkCma('reserved', 0), -Errno.EINVAL);
  assert.equal(k.faults.shrinkCma('reserved', 16385), -Errno.ENOMEM);
  const cmaFree = meminfo(k).CmaFree!;
  const s = k.faults.shrinkCma('reserved', 4096);
  assert.ok(typeof s === 'object');
  assert.deepEqual(s.ranges, [{ pfn: base + 12288, count: 4096 }]);
  assert.deepEqual(k.faults.takenRanges('reserved'), [{ pfn: base + 12288, count: 4096 }]);
  assert.equal(meminfo(k).CmaFree, cmaFree - 16 * M);
  assert.equal(area.maxchunk, 12288);
  assertLedger(k);
  // 48 MiB fits, 48 MiB + 4 KiB no longer does
  assert.equal(heapAlloc(p, h, 48 * M + 4 * K, O_RDWR).ret, -Errno.ENOMEM);
  const big = heapAlloc(p, h, 48 * M, O_RDWR);
  assert.equal(big.ret, 0);
  assertLedger(k);
  p.close(big.fd);
  // with a buffer in the area, the shrink takes the free pages nearest the end
  const small = heapAlloc(p, h, M, O_RDWR);
  assert.equal(s.release(), true);
  assert.equal(s.release(), false);
  assert.equal(s.released, true);
  const s2 = k.faults.shrinkCma('reserved', 16384 - 256);
  assert.ok(typeof s2 === 'object');
  assert.deepEqual(s2.ranges, [{ pfn: base + 256, count: 16128 }]);
  assert.equal(area.availableCount, 0);
  assertLedger(k);
  s2.release();
  p.close(small.fd);
  assert.equal(area.availableCount, area.count);
  assert.deepEqual(k.faults.takenRanges('reserved'), []);
  assertLedger(k);
});

test('pinCma: a range over a pinned page fails to migrate and cma_alloc retries further on', () => {
  const k = boot();
  const area = k.cmaAreas[0]!;
  const base = area.basePfn;
  const p = k.spawn();
  const h = openHeap(p, 'reserved');
  const cmaFree = meminfo(k).CmaFree!;
  const pin = k.faults.pinCma('reserved', 1, { pfn: base + 5 });
  assert.ok(typeof pin === 'object');
  assert.deepEqual(k.faults.pinnedRanges('reserved'), [{ pfn: base + 5, count: 1 }]);
  assert.equal(meminfo(k).CmaFree, cmaFree - 4 * K, 'a pinned page is not free');
  assert.equal(area.availableCount, area.count, 'nor set in the bitmap');
  assertLedger(k);
  const r = heapAlloc(p, h, M, O_RDWR);
  assert.equal(r.ret, 0);
  const buf = [...k.dmaBuf.list].at(-1)!;
  const pfnOf = (b: typeof buf): number => (b.priv as { runs: { pfn: number }[] }).runs[0]!.pfn;
  assert.equal(pfnOf(buf), base + 256, 'the 1 MiB-aligned window at the base holds the pin: the next one');
  // a one-page buffer fits beside the pin
  const one = heapAlloc(p, h, 4 * K, O_RDWR);
  assert.equal(pfnOf([...k.dmaBuf.list].at(-1)!), base);
  assertLedger(k);
  // errors: no area, bad count, outside, over an allocated or pinned page, too many
  assert.equal(k.faults.pinCma('nope', 1), -Errno.ENOENT);
  assert.equal(k.faults.pinCma('reserved', 0), -Errno.EINVAL);
  assert.equal(k.faults.pinCma('reserved', 2, { pfn: base + 16383 }), -Errno.EINVAL);
  assert.equal(k.faults.pinCma('reserved', 1, { pfn: base - 1 }), -Errno.EINVAL);
  assert.equal(k.faults.pinCma('reserved', 1, { pfn: base }), -Errno.EBUSY);
  assert.equal(k.faults.pinCma('reserved', 1, { pfn: base + 5 }), -Errno.EBUSY);
  assert.equal(k.faults.pinCma('reserved', 16384), -Errno.ENOMEM);
  assert.equal(pin.release(), true);
  assert.deepEqual(k.faults.pinnedRanges('reserved'), []);
  p.close(r.fd);
  p.close(one.fd);
  const again = heapAlloc(p, h, M, O_RDWR);
  assert.equal(pfnOf([...k.dmaBuf.list].at(-1)!), base);
  p.close(again.fd);
  assertLedger(k);
  assert.equal(meminfo(k).CmaFree, cmaFree);
});

test('pinCma scattered: deterministic for a seed, and 16 pins stop a 32 MiB buffer in a 64 MiB area', () => {
  const pins = (seed: number): { pfns: number[]; big: number; mid: number | null; maxchunk: number } => {
    const k = boot();
    const area = k.cmaAreas[0]!;
    const pin = k.faults.pinCma('reserved', 16, { seed });
    assert.ok(typeof pin === 'object');
    assert.equal(pin.ranges.reduce((n, r) => n + r.count, 0), 16);
    const p = k.spawn();
    const h = openHeap(p, 'reserved');
    const big = heapAlloc(p, h, 32 * M, O_RDWR).ret;
    const mid = heapAlloc(p, h, 16 * M, O_RDWR).ret === 0 ? ([...k.dmaBuf.list].at(-1)!.priv as { runs: { pfn: number }[] }).runs[0]!.pfn - area.basePfn : null;
    assertLedger(k);
    return { pfns: pin.ranges.map((r) => r.pfn - area.basePfn), big, mid, maxchunk: area.maxchunk };
  };
  const a = pins(9);
  assert.deepEqual(a, pins(9));
  assert.notDeepEqual(a.pfns, pins(10).pfns);
  // the largest pin-free run of 1 MiB-aligned blocks is blocks 19..36 (18 MiB); debugfs maxchunk
  // reads the bitmap, which the pins are not in
  assert.deepEqual(a, {
    pfns: [2150, 2324, 3255, 4308, 4652, 4712, 9626, 10362, 11287, 11439, 11859, 11968, 13462, 13946, 15064, 15365],
    big: -Errno.ENOMEM,
    mid: 19 * 256,
    maxchunk: 16384 - (19 + 16) * 256, // above the 16 MiB buffer
  });
});

test('takeMemory: MemFree drops by the bytes taken, the system heap fails earlier, release gives them back', () => {
  const k = boot();
  const p = k.spawn();
  const h = openHeap(p, 'system');
  heapAlloc(p, h, 4 * K, O_RDWR); // fault the argument page in first
  const before = meminfo(k).MemFree!;
  assert.equal(k.faults.takeMemory(0), -Errno.EINVAL);
  assert.equal(k.faults.takeMemory(1.5), -Errno.EINVAL);
  assert.equal(k.faults.takeMemory(before + 4 * K), -Errno.ENOMEM);
  assert.equal(meminfo(k).MemFree, before, 'a refused take takes nothing');
  const cmaFree = meminfo(k).CmaFree!;
  const ramFree = before - cmaFree; // the page allocator's part
  const t = k.faults.takeMemory(ramFree - 8 * M + 1);
  assert.ok(typeof t === 'object');
  assert.equal(t.pages, (ramFree - 8 * M) / 4096 + 1);
  assert.equal(meminfo(k).MemFree, before - t.pages * 4096);
  assert.equal(k.faults.takenRanges(null).reduce((n, r) => n + r.count, 0), t.pages);
  assertLedger(k);
  assert.equal(heapAlloc(p, h, 8 * M, O_RDWR).ret, -Errno.ENOMEM);
  const fits = heapAlloc(p, h, 8 * M - 4 * K, O_RDWR);
  assert.equal(fits.ret, 0);
  assertLedger(k);
  p.close(fits.fd);
  assert.equal(t.release(), true);
  assert.equal(meminfo(k).MemFree, before);
  assert.deepEqual(k.faults.takenRanges(null), []);
  assertLedger(k);
});

test('pins and an earlier busy hook both answer; shrink leaves pinned pages alone', () => {
  const k = boot();
  const area = k.cmaAreas[0]!;
  const base = area.basePfn;
  area.busy = (pfn) => pfn === base + 256;
  const pin = k.faults.pinCma('reserved', 1, { pfn: base });
  assert.ok(typeof pin === 'object');
  const p = k.spawn();
  const h = openHeap(p, 'reserved');
  const r = heapAlloc(p, h, M, O_RDWR);
  assert.equal(r.ret, 0);
  assert.equal(([...k.dmaBuf.list].at(-1)!.priv as { runs: { pfn: number }[] }).runs[0]!.pfn, base + 512);
  p.close(r.fd);
  const s = k.faults.shrinkCma('reserved', 16383);
  assert.ok(typeof s === 'object');
  assert.deepEqual(s.ranges, [{ pfn: base + 1, count: 16383 }]);
  assert.equal(k.faults.shrinkCma('reserved', 1), -Errno.ENOMEM, 'the pinned page is not free to take');
  assertLedger(k);
});

test('memory faults as data: apply() (bytes rounded up, the default area) and KernelConfig.memoryFaults at boot', () => {
  const k = boot();
  const area = k.cmaAreas[0]!;
  const s = k.faults.apply({ kind: 'shrink-cma', bytes: 4097 });
  assert.ok(typeof s === 'object');
  assert.deepEqual([s.area, s.pages], ['reserved', 2]);
  assert.equal(k.faults.apply({ kind: 'shrink-cma', pages: 1, bytes: 4096 }), -Errno.EINVAL);
  assert.equal(k.faults.apply({ kind: 'pin-cma' }), -Errno.EINVAL);
  assert.equal(k.faults.apply({ kind: 'shrink-cma', area: 'nope', pages: 1 }), -Errno.ENOENT);
  assert.deepEqual(k.faults.memoryFaults(), [{ id: s.id, kind: 'shrink-cma', area: 'reserved', pages: 2 }]);
  const booted = boot({ memoryFaults: [{ kind: 'pin-cma', pages: 3, seed: 5 }, { kind: 'take-memory', bytes: 64 * M }, { kind: 'shrink-cma', area: 'reserved', pages: 10 }] });
  assert.deepEqual(booted.faults.memoryFaults().map((f) => [f.kind, f.area, f.pages]), [['pin-cma', 'reserved', 3], ['take-memory', null, 16384], ['shrink-cma', 'reserved', 10]]);
  assert.equal(booted.faults.pinnedRanges('reserved').reduce((n, r) => n + r.count, 0), 3);
  assertLedger(booted);
  assert.throws(() => boot({ cmdline: 'cma=0', memoryFaults: [{ kind: 'pin-cma', pages: 1 }] }), {
    name: 'KernelConfigError',
    message: 'pinning pages in the default CMA area: there is none (this machine has no CMA area); name an area',
  });
  assert.throws(() => boot({ memoryFaults: [{ kind: 'pin-cma', area: 'reserved', pages: 1, pfn: area.basePfn }, { kind: 'pin-cma', area: 'reserved', pages: 2, pfn: area.basePfn }] }), {
    name: 'KernelConfigError',
    message: `pinning pages in CMA area 'reserved': the 2 pages from PFN ${area.basePfn} are not all free (a buffer or another pin holds one of them)`,
  });
});

test('the pins\' busy hook skips ahead to where cma_alloc()\'s retries would arrive: the same placements as retrying window by window', () => {
  const place = (retryEachWindow: boolean): number[] => {
    const k = boot();
    const area = k.cmaAreas[0]!;
    const pin = k.faults.pinCma('reserved', 300, { seed: 11 });
    assert.ok(typeof pin === 'object');
    if (retryEachWindow) {
      const inner = area.busy!;
      area.busy = (pfn, count) => inner(pfn, count) !== false;
    }
    const h = k.dmaHeap.findByName('reserved')!;
    const live: { pfn: number; buf: object }[] = [];
    const out: number[] = [];
    for (let i = 0; i < 400; i++) {
      const pages = [1, 3, 16, 64, 257, 1024][i % 6]!;
      const b = k.dmaHeap.bufferAlloc(h, pages * 4096, O_RDWR, 0n, null);
      if (typeof b === 'number') out.push(b);
      else {
        const pfn = (b.priv as { runs: { pfn: number }[] }).runs[0]!.pfn - area.basePfn;
        out.push(pfn);
        live.push({ pfn, buf: b });
      }
      if (i % 4 === 3) k.dmaBuf.put(live.splice((i * 7) % live.length, 1)[0]!.buf as never);
    }
    assertLedger(k);
    return out;
  };
  const skipped = place(false);
  assert.deepEqual(skipped, place(true));
  assert.ok(skipped.includes(-Errno.ENOMEM) && skipped.some((p) => p > 0), 'the sequence both places buffers and runs out');
});
