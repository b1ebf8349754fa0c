// Heap choice from requirements (src/api/choose.ts) and allocateFor's fallback chain, which ends
// in udmabuf over a sealed memfd; allocateAsync and allocateForAsync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulatedBackend, createEmulatedTarget, AllocationError, DmaHeapClient, ErrnoError } from '../../src/backends/emulated/index.js';
import { chooseHeap, udmabufVerdict } from '../../src/api/choose.js';
import { inferHeapProperties } from '../../src/api/heap-knowledge.js';
import type { HeapInfo } from '../../src/api/heap-knowledge.js';
import type { SyscallTarget } from '../../src/api/target.js';
import { board, MiB } from './client-helpers.js';

/** Heaps known by name only (what a system without facts gives). */
function byName(...names: string[]): HeapInfo[] {
  return names.map((name) => ({ name, path: `/dev/dma_heap/${name}`, properties: inferHeapProperties(name, {}, names) }));
}

test('chooseHeap on 6.17 with cma=64M: exact explanations', () => {
  const client = emulatedBackend.createClient({ profile: '6.17' });
  assert.equal(
    client.choose({ contiguous: true }).explanation,
    'chose "default_cma_region" (physically contiguous [exact]); then "reserved"; refused "system" (not physically contiguous [exact]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous',
  );
  // nothing required: system memory first (CMA is kept for those who need it), the legacy alias last
  assert.equal(client.choose().explanation, 'chose "system" (no requirement); then "default_cma_region", "reserved"; last resort: udmabuf over a sealed memfd');
  assert.equal(
    client.choose({ cached: false }).explanation,
    'no heap satisfies uncached; refused "system" (CPU-cached [exact]), "default_cma_region" (CPU-cached [exact]), "reserved" (CPU-cached [exact]); no udmabuf fallback: udmabuf mappings are CPU-cached',
  );
  const big = client.choose({ contiguous: true, size: 128 * MiB });
  assert.equal(big.chosen, null);
  assert.deepEqual(big.refused, [
    { name: 'system', reason: 'not physically contiguous [exact]' },
    { name: 'default_cma_region', reason: 'holds 64 MiB in all, less than 128 MiB [exact]' },
    { name: 'reserved', reason: 'holds 64 MiB in all, less than 128 MiB [exact]' },
  ]);
  // the same choice from what a real 6.17 system shows: the CMA areas in sysfs, the names
  assert.equal(
    client.choose({ contiguous: true }, { exact: false }).explanation,
    'chose "default_cma_region" (physically contiguous [sysfs]); then "reserved"; refused "system" (not physically contiguous [name]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous',
  );
  // prefer wins over the alias rule, as long as the requirements hold
  assert.equal(client.choose({ contiguous: true, prefer: ['reserved', 'system'] }).chosen?.name, 'reserved');
  client.close();
});

test('chooseHeap by region, protection and preference on the RK3588 board (6.19)', () => {
  const client = emulatedBackend.createClient({ profile: '6.19', board: board('rk3588') });
  const isp = client.choose({ region: '@20000000' });
  assert.equal(isp.chosen?.name, 'isp@20000000');
  assert.equal(isp.explanation.split('; ')[0], 'chose "isp@20000000" (in @20000000 [exact])');
  assert.deepEqual(isp.refused.slice(0, 2), [
    { name: 'system', reason: 'not known to be backed by @20000000' },
    { name: 'default_cma_region', reason: 'backed by /reserved-memory/linux,cma, not @20000000 [exact]' },
  ]);
  // a node name finds the region's own heap and the default heap over it
  assert.deepEqual(client.choose({ region: 'linux,cma' }).candidates.map((h) => h.name), ['default_cma_region', 'linux,cma']);
  const tee = client.choose({ protected: true });
  assert.equal(tee.chosen?.name, 'protected,secure-video');
  assert.equal(tee.udmabuf.reason, 'udmabuf memory is ordinary CPU-accessible memory, not protected');
  // without protected: true a protected heap is never chosen
  assert.deepEqual(client.choose().refused, [{ name: 'protected,secure-video', reason: 'protected (no CPU access) [exact]; ask for protected: true' }]);
  assert.equal(
    client.choose({ contiguous: true, prefer: ['npu@28000000'] }).explanation.split('; ').slice(0, 2).join('; '),
    'chose "npu@28000000" (physically contiguous [exact], preferred); then "default_cma_region", "linux,cma", "cma@10000000", "isp@20000000"',
  );
  client.close();
});

test('chooseHeap with unknown properties: heaps known to fit first, then the guesses, said so', () => {
  const heaps = byName('vidbuf_cached', 'linux,cma', 'system');
  assert.equal(
    chooseHeap(heaps, { contiguous: true }).explanation,
    'chose "linux,cma" (physically contiguous [name]); then "vidbuf_cached" (contiguity unknown); refused "system" (not physically contiguous [name]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous',
  );
  assert.equal(chooseHeap(heaps).explanation, 'chose "system" (no requirement); then "vidbuf_cached", "linux,cma"; last resort: udmabuf over a sealed memfd');
  assert.equal(chooseHeap([]).explanation, 'no heap: /dev/dma_heap is empty or missing; last resort: udmabuf over a sealed memfd');
  const wc = chooseHeap(byName('system', 'system-uncached', 'cma-uncached'), { cached: false });
  assert.deepEqual(wc.candidates.map((h) => h.name), ['system-uncached', 'cma-uncached']);
});

test('udmabufVerdict: what udmabuf over a sealed memfd can serve', () => {
  assert.deepEqual(udmabufVerdict({}), { ok: true, reason: 'udmabuf over a sealed memfd' });
  assert.equal(udmabufVerdict({ contiguous: true }).reason, 'udmabuf memory (memfd pages) is not physically contiguous');
  assert.equal(udmabufVerdict({ cached: false }).reason, 'udmabuf mappings are CPU-cached');
  assert.equal(udmabufVerdict({ region: 'linux,cma' }).reason, 'udmabuf memory does not come from linux,cma');
  assert.equal(udmabufVerdict({ size: 65 * MiB }).reason, 'udmabuf refuses more than 64 MiB (size_limit_mb)');
  assert.equal(udmabufVerdict({ size: 65 * MiB }, { present: true, usable: true, sizeLimit: 128 * MiB }).ok, true);
  assert.equal(udmabufVerdict({}, { present: false, usable: false, sizeLimit: null }).reason, 'there is no /dev/udmabuf (CONFIG_UDMABUF)');
  assert.equal(udmabufVerdict({}, { present: true, usable: false, sizeLimit: null }).reason, 'this process may not open /dev/udmabuf');
});

/** A 6.17 kernel whose 16 MiB CMA area has 8 MiB free in 1 MiB holes: no 2 MiB block anywhere. */
function fragmented(): DmaHeapClient {
  const client = emulatedBackend.createClient({ profile: '6.17', cmdline: 'cma=16M' });
  const bufs = Array.from({ length: 16 }, () => client.allocate('default_cma_region', MiB, { name: null }));
  bufs.forEach((b, i) => {
    if (i % 2 === 0) b.close();
  });
  return client;
}

test('allocateFor: a fragmented CMA area fails with ENOMEM on both its names, and the error tells the story', () => {
  const client = fragmented();
  let err: unknown;
  try {
    client.allocateFor({ contiguous: true }, 2 * MiB);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof AllocationError && err instanceof ErrnoError);
  assert.equal(err.code, 'ENOMEM');
  assert.deepEqual(err.attempts, [{ provider: 'default_cma_region', error: 'ENOMEM' }, { provider: 'reserved', error: 'ENOMEM' }]);
  assert.equal(
    err.message,
    'ENOMEM: Cannot allocate memory, allocate (physically contiguous: tried "default_cma_region" (ENOMEM), "reserved" (ENOMEM); chose "default_cma_region" (physically contiguous [exact], 8 MiB free [exact]); then "reserved"; refused "system" (not physically contiguous [exact]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous)',
  );
  // without the contiguity requirement the chain goes on to the system heap
  const buf = client.allocateFor({ prefer: ['reserved'] }, 2 * MiB);
  assert.deepEqual(buf.provenance?.attempts, [{ provider: 'reserved', error: 'ENOMEM' }, { provider: 'system', error: null }]);
  assert.equal(buf.provenance?.explanation.split('; ')[0], 'allocated from heap "system" after "reserved" failed (ENOMEM)');
  assert.equal(buf.heap, 'system');
  client.close();
});

test('allocateFor without /dev/dma_heap: udmabuf over a sealed memfd, as libcamera does', () => {
  const client = emulatedBackend.createClient({ profile: '6.1', heaps: [] });
  const buf = client.allocateFor({}, 100_000);
  assert.deepEqual([buf.heap, buf.size, buf.name, buf.access], ['udmabuf', 102_400, 'dmaheap:udmabuf', 'rw']);
  assert.deepEqual(buf.provenance, {
    path: 'udmabuf',
    provider: 'udmabuf',
    requirements: {},
    attempts: [{ provider: 'udmabuf', error: null }],
    explanation: 'allocated from udmabuf over a sealed memfd; no heap: /dev/dma_heap is empty or missing; last resort: udmabuf over a sealed memfd',
  });
  const fdinfo = client.target.readFile(`/proc/self/fdinfo/${buf.fd}`).text ?? '';
  assert.match(fdinfo, /exp_name:\tudmabuf\n/);
  // the memfd was closed: only the dma-buf fd is left
  assert.equal(client.target.openFdCount(), 1);
  const m = buf.map();
  buf.cpuAccess('write', () => m.fill(7, 0, 16));
  assert.deepEqual([...m.read(0, 4)], [7, 7, 7, 7]);
  buf.release();
  assert.throws(() => client.allocateFor({}, 100_000, { udmabuf: false }), {
    message: 'ENOENT: No such file or directory, allocate (no requirement: nothing to try; the udmabuf fallback is off; no heap: /dev/dma_heap is empty or missing; last resort: udmabuf over a sealed memfd)',
  });
  assert.throws(() => client.allocateFor({}, 100 * MiB), /nothing to try; no heap: \/dev\/dma_heap is empty or missing; no udmabuf fallback: udmabuf refuses more than 64 MiB \(size_limit_mb\)\)$/);
  client.close();
});

test('allocateFor as a user without access: EACCES from every heap, and no udmabuf either', () => {
  const client = emulatedBackend.createClient({ profile: '6.1', uid: 1000, gid: 1000 });
  // the system heap's free memory on the default 2 GiB QEMU pc machine: its e820's 523647 usable
  // pages (0x9f below 640 KiB, 0x7fee0 from 1 MiB) less the 3999 in the kernel image's first 16 MiB
  // and the 64 MiB CMA area: 503264 pages = 2013056 KiB
  assert.throws(
    () => client.allocateFor({}, MiB),
    (e: unknown) =>
      e instanceof AllocationError &&
      e.code === 'EACCES' &&
      e.message === 'EACCES: Permission denied, allocate (no requirement: tried "system" (EACCES), "reserved" (EACCES); chose "system" (2013056 KiB free [exact]); then "reserved"; no udmabuf fallback: this process may not open /dev/udmabuf)',
  );
  client.close();
});

test('allocateAsync: a Promise that settles after the current code; rejections are ErrnoErrors', async () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  let settled = false;
  const p = client.allocateAsync('system', MiB, { purpose: 'async' }).then((b) => {
    settled = true;
    return b;
  });
  assert.equal(settled, false);
  const buf = await p;
  assert.deepEqual([buf.heap, buf.size, buf.name], ['system', MiB, 'dmaheap:async']);
  await assert.rejects(client.allocateAsync('system', 0), (e: unknown) => e instanceof ErrnoError && e.code === 'EINVAL' && e.syscall === 'ioctl');
  await assert.rejects(client.allocateAsync('nope', 4096), (e: unknown) => e instanceof ErrnoError && e.code === 'ENOENT' && e.syscall === 'open');
  const viaFor = await client.allocateForAsync({ contiguous: true }, MiB);
  assert.equal(viaFor.heap, 'reserved');
  assert.equal(viaFor.provenance?.explanation.split('; ')[0], 'allocated from heap "reserved"');
  client.close();
});

test('allocateAsync uses the backend ioctlAsync when there is one (the Linux backend runs it on the libuv pool)', async () => {
  const inner = createEmulatedTarget({ profile: '6.1', cmdline: 'cma=64M' });
  const calls: number[] = [];
  const target = new Proxy(inner, {
    get(obj, key) {
      if (key === 'ioctlAsync') {
        return async (fd: number, cmd: number, arg: Uint8Array | null) => {
          calls.push(cmd);
          await new Promise((r) => setImmediate(r));
          return obj.ioctl(fd, cmd, arg);
        };
      }
      const v = Reflect.get(obj, key, obj) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
    },
  }) as SyscallTarget;
  const client = new DmaHeapClient(target);
  const buf = await client.allocateAsync('reserved', 8192);
  assert.deepEqual(calls, [0xc0184800]);
  assert.equal(buf.size, 8192);
  // allocateForAsync: the heap attempts go through ioctlAsync too
  const two = await client.allocateForAsync({ contiguous: true }, 4096);
  assert.deepEqual([two.heap, calls.length], ['reserved', 2]);
  client.close();
});
