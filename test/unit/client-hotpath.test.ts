// The client's hot paths: heap nodes kept open between allocations, the allocation struct passed
// in place (SyscallTarget.ioctlInPlace), reads into the caller's array (readMemInto, readInto),
// and the leak guard's stack formatted only for a buffer that is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmulatedTarget, emulatedBackend, DmaHeapClient, formatLeak, LeakGuard, UnmappedError } from '../../src/backends/emulated/index.js';
import { kernelName } from '../../src/api/client.js';
import type { BufferRecord } from '../../src/api/client.js';
import type { LeakReport } from '../../src/backends/emulated/index.js';
import { DMA_HEAP_IOCTL_ALLOC } from '../../src/uapi/dma-heap.js';
import { MAP_SHARED, O_CLOEXEC, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE } from '../../src/uapi/fcntl.js';

test('heap nodes stay open between allocations and close with the client', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const t = client.target;
  const n0 = t.openFdCount();
  client.allocate('system', 4096).close();
  assert.equal(t.openFdCount(), n0 + 1, '/dev/dma_heap/system stays open');
  client.allocate('system', 4096).close();
  client.allocate('reserved', 4096).close();
  assert.equal(t.openFdCount(), n0 + 2, 'one per heap');
  assert.deepEqual(t.readdir('/proc/self/fd').names?.map((fd) => t.readlink(`/proc/self/fd/${fd}`).text).sort(), ['/dev/dma_heap/reserved', '/dev/dma_heap/system']);
  const fresh = emulatedBackend.createClient({ profile: '6.1', client: { keepHeapsOpen: false } });
  const f0 = fresh.target.openFdCount();
  fresh.allocate('system', 4096).close();
  assert.equal(fresh.target.openFdCount(), f0, 'keepHeapsOpen: false opens and closes the node each time');
  fresh.close();
  client.close();
});

test('a kept heap fd closed or reused behind the client is forgotten, not closed, and the node opened again', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const t = client.target;
  client.allocate('system', 4096).close();
  const heapFd = t.readdir('/proc/self/fd').names!.map(Number).find((fd) => t.readlink(`/proc/self/fd/${fd}`).text === '/dev/dma_heap/system')!;
  t.close(heapFd);
  assert.throws(() => client.allocate('system', 4096), { code: 'EBADF', syscall: 'ioctl', path: '/dev/dma_heap/system' });
  const ok = client.allocate('system', 8192);
  assert.equal(ok.size, 8192, 'the next allocation opened the node again');
  ok.close();
  // the number now names another file: ENOTTY, and that file is left open
  const again = t.readdir('/proc/self/fd').names!.map(Number).find((fd) => t.readlink(`/proc/self/fd/${fd}`).text === '/dev/dma_heap/system')!;
  t.close(again);
  const memfd = t.memfdCreate('other', 0).ret;
  assert.equal(memfd, again, 'the lowest free number');
  assert.throws(() => client.allocate('system', 4096), { code: 'ENOTTY' });
  assert.equal(t.readlink(`/proc/self/fd/${memfd}`).text, '/memfd:other (deleted)', 'the other file is still open');
  assert.equal(client.allocate('system', 4096).size, 4096);
  client.close();
});

test('ioctlInPlace: the kernel writes the struct back into the caller\'s bytes', () => {
  const t = createEmulatedTarget({ profile: '6.1' });
  const h = t.open('/dev/dma_heap/system', O_RDONLY | O_CLOEXEC).ret;
  const arg = new Uint8Array(24);
  const dv = new DataView(arg.buffer);
  dv.setUint32(0, 4096, true);
  dv.setUint32(12, O_RDWR | O_CLOEXEC, true);
  assert.deepEqual(t.ioctlInPlace(h, DMA_HEAP_IOCTL_ALLOC, arg), { ret: 0, errno: null });
  const fd = dv.getUint32(8, true);
  assert.equal(t.fstat(fd).stat?.size, 4096);
  dv.setUint32(0, 0, true);
  dv.setUint32(8, 0, true);
  assert.deepEqual(t.ioctlInPlace(h, DMA_HEAP_IOCTL_ALLOC, arg), { ret: -1, errno: 'EINVAL' });
  assert.equal(dv.getUint32(8, true), 0, 'nothing written back on failure');
  // readMemInto: a copy into the caller's array; a fault kills the process as a load would
  const m = t.mmap(4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0).map!;
  t.writeMem(m, 100, Uint8Array.of(1, 2, 3));
  const dst = new Uint8Array(4).fill(9);
  assert.equal(t.readMemInto(m, 99, dst), null);
  assert.deepEqual([...dst], [0, 1, 2, 3]);
  // a second mapping goes right below the first (top-down); unmapping the first leaves a hole
  // above it, which a read across its end faults on
  const m2 = t.mmap(4096, PROT_READ, MAP_SHARED, fd, 0).map!;
  assert.equal(m2.addr, m.addr - 4096);
  assert.deepEqual(t.munmap(m), { ret: 0, errno: null });
  assert.equal(t.readMemInto(m2, 4094, dst), 'SIGSEGV');
  assert.equal(t.open('/dev/null', O_RDONLY).errno, 'ESRCH', 'the process was killed');
  t.dispose();
});

test('Mapping.readInto and PlaneView.readInto: bounds-checked, no access after unmap', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const buf = client.allocate('system', 8192);
  const m = buf.map();
  m.write(4094, Uint8Array.of(7, 8, 9, 10));
  const frame = new Uint8Array(4);
  assert.equal(m.readInto(frame, 4094), frame);
  assert.deepEqual([...frame], [7, 8, 9, 10]);
  assert.throws(() => m.readInto(frame, 8190), { name: 'RangeError', message: 'readInto: [8190, 8194) is outside the mapping [0, 8192)' });
  assert.throws(() => m.readInto(frame, -1), RangeError);
  m.unmap();
  assert.throws(() => m.readInto(frame), UnmappedError);
  const img = client.allocateImage({ format: 'NV12', width: 64, height: 48, align: 64, planeAlign: 4096, heap: 'system' });
  const uv = img.mapPlane(1);
  uv.writeRow(1, Uint8Array.of(5, 6));
  const row = new Uint8Array(2);
  assert.deepEqual([...uv.readInto(row, 64)], [5, 6]);
  assert.throws(() => uv.readInto(row, 1535), { name: 'RangeError', message: 'readInto: [1535, 1537) is outside plane 1 (UV) [0, 1536)' });
  img.release();
  buf.close();
  client.close();
});

test('the leak guard keeps the allocation stack unformatted until a report reads it; the stack starts at the caller of allocate', () => {
  const seen: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => seen.push(r), captureStacks: true });
  assert.equal(typeof guard.capture(), 'object');
  assert.equal(new LeakGuard({ captureStacks: false }).capture(), 'off');
  const client = new DmaHeapClient(createEmulatedTarget({ profile: '6.1' }), { leakGuard: guard });
  const buf = client.allocate('system', 4096, { name: 'frame-7' });
  // what the client and the guard keep: the captured object, not text
  const rec = (buf as unknown as { record: BufferRecord }).record;
  assert.equal(typeof rec.stack, 'object');
  assert.equal(rec.ino, undefined, 'the inode is not fetched by the allocation');
  // the report path a collection takes, driven by hand
  const r = rec.leakReport()!;
  guard.report(r);
  assert.equal(seen.length, 1);
  assert.equal(rec.ino, buf.inode, 'the report fetched the inode');
  const first = r.stack.split('\n')[0]!;
  assert.match(first, /^ {4}at .*client-hotpath\.test\.js/, 'the first frame is the code that called allocate()');
  assert.doesNotMatch(r.stack, /DmaHeapClient\.allocate|LeakGuard\.capture|^Error/);
  assert.equal(r.stackMissing, undefined);
  assert.match(formatLeak(r), /^leaked dma-buf fd \d+ \(inode \d+, 4 KiB from system, "frame-7"\) collected without release\(\), allocated\n {4}at /);
  buf.close();
  assert.deepEqual(client.close(), [], 'a closed buffer is not left open');
});

test('allocate() makes no fstat: the size is the page-aligned request (as the heap core aligns it), the inode comes on first use', () => {
  const target = createEmulatedTarget({ profile: '6.1' });
  const calls: string[] = [];
  const spy = new Proxy(target, {
    get(t, k, recv) {
      const v = Reflect.get(t, k, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(k));
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  const client = new DmaHeapClient(spy as typeof target);
  const sizes = [1, 4095, 4096, 4097, 3 * 4096 + 1, 1 << 20];
  const bufs = sizes.map((n) => client.allocate('system', n));
  assert.deepEqual(calls, ['open', ...sizes.flatMap(() => ['ioctlInPlace', 'ioctlString'])], 'the heap node once, then ALLOC and SET_NAME per buffer');
  assert.deepEqual(bufs.map((b) => b.size), [4096, 4096, 4096, 8192, 16384, 1 << 20]);
  assert.deepEqual(bufs.map((b) => target.fstat(b.fd).stat?.size), [4096, 4096, 4096, 8192, 16384, 1 << 20], 'what the kernel made');
  calls.length = 0;
  const ino = bufs[0]!.inode;
  assert.deepEqual([calls, ino], [['fstat'], target.fstat(bufs[0]!.fd).stat?.ino]);
  calls.length = 0;
  assert.equal(bufs[0]!.inode, ino);
  assert.deepEqual(calls, [], 'kept');
  // the automatic name is encoded once per purpose; the name is the kernel's
  assert.deepEqual(bufs.map((b) => b.name), sizes.map(() => 'dmaheap:system'));
  calls.length = 0;
  client.allocate('system', 4096, { name: null }).close();
  assert.deepEqual(calls, ['ioctlInPlace', 'close'], 'name: null: no SET_NAME');
  for (const b of bufs) b.close();
  client.close();
});

test('names reach the kernel as UTF-8, cut to 31 bytes between characters; an imported buffer decodes them', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const utf8 = (s: string): string => String.fromCharCode(...Buffer.from(s, 'utf8'));
  const fdinfoName = (fd: number): string | undefined => /^name:\t(.*)$/m.exec(client.target.readFile(`/proc/self/fdinfo/${fd}`).text ?? '')?.[1];
  const a = client.allocate('system', 4096, { name: 'cam\u00e9ra-\u20ac' });
  assert.deepEqual([a.name, fdinfoName(a.fd)], ['cam\u00e9ra-\u20ac', utf8('cam\u00e9ra-\u20ac')]);
  // 20 euro signs are 60 bytes: 10 fit in 31 (30 bytes), an 11th would not
  const b = client.allocate('system', 4096, { name: '\u20ac'.repeat(20) });
  assert.deepEqual([b.name, fdinfoName(b.fd)], ['\u20ac'.repeat(10), utf8('\u20ac'.repeat(10))]);
  assert.equal(client.importFd(client.target.dup(a.fd).ret).name, 'cam\u00e9ra-\u20ac', 'the fdinfo bytes decoded as UTF-8');
  assert.deepEqual(kernelName('a'.repeat(40)), { text: 'a'.repeat(31), bytes: 'a'.repeat(31) });
  assert.deepEqual(kernelName('\u{1f4f7}x'), { text: '\u{1f4f7}x', bytes: utf8('\u{1f4f7}x') });
  client.close();
});

test('udmabuf of size 0 is EINVAL from the kernel, as a heap\'s', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  assert.throws(() => client.allocateUdmabuf(0), { code: 'EINVAL', syscall: 'ioctl', path: '/dev/udmabuf' });
  assert.throws(() => client.allocate('system', 0), { code: 'EINVAL', syscall: 'ioctl', path: '/dev/dma_heap/system' });
  assert.equal(client.allocateUdmabuf(1).size, 4096);
  client.close();
});

test('after client.close() its buffers and mappings are gone: UnmappedError, isMapped and isOpen false, close and unmap do nothing', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const b = client.allocate('system', 4096);
  const m = b.map();
  client.close();
  assert.deepEqual([m.isMapped, m.length, b.isOpen], [false, 0, false]);
  assert.throws(() => m.read(0, 1), UnmappedError);
  assert.throws(() => b.map(), { code: 'EBADF', message: 'EBADF: Bad file descriptor, mmap (the client was closed: its process ended, and every fd with it)' });
  assert.doesNotThrow(() => b.release());
  assert.doesNotThrow(() => m.unmap());
});
