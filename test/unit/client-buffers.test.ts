// Buffers: automatic names, importing and validating foreign fds, identity by inode, handing a
// buffer to a child process, multi-plane image layouts and bounds-checked plane views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulatedBackend, createEmulatedTarget, DmaHeapClient, ErrnoError, UnmappedError } from '../../src/backends/emulated/index.js';
import { imageLayout, PIXEL_FORMATS } from '../../src/api/layout.js';
import type { SyscallTarget } from '../../src/api/target.js';
import { MiB } from './client-helpers.js';

test('automatic names: <appName>:<purpose>, cut to 31 characters; explicit names and null win', () => {
  const client = emulatedBackend.createClient({ profile: '6.1', client: { appName: 'camera-app' } });
  assert.equal(client.allocate('system', 4096).name, 'camera-app:system');
  const long = client.allocate('system', 4096, { purpose: 'preview-frame-with-a-long-purpose' });
  assert.equal(long.name, 'camera-app:preview-frame-with-a');
  assert.match(client.target.readFile(`/proc/self/fdinfo/${long.fd}`).text ?? '', /\nname:\tcamera-app:preview-frame-with-a\n/);
  assert.equal(client.allocate('reserved', 4096, { name: 'frame-0' }).name, 'frame-0');
  const unnamed = client.allocate('system', 4096, { name: null });
  assert.equal(unnamed.name, null);
  assert.doesNotMatch(client.target.readFile(`/proc/self/fdinfo/${unnamed.fd}`).text ?? '', /\nname:/);
  assert.equal(client.allocateUdmabuf(1).name, 'camera-app:udmabuf');
  const quiet = emulatedBackend.createClient({ profile: '6.1', client: { appName: null } });
  assert.equal(quiet.allocate('system', 4096).name, null);
  client.close();
  quiet.close();
});

test('a failing automatic name is recorded, a failing explicit name fails the allocation (and closes the fd)', () => {
  const inner = createEmulatedTarget({ profile: '6.1', cmdline: 'cma=64M' });
  // a kernel before 5.3 has no DMA_BUF_SET_NAME
  const target = new Proxy(inner, {
    get(obj, key) {
      if (key === 'ioctlString') return () => ({ ret: -1, errno: 'ENOTTY' });
      const v = Reflect.get(obj, key, obj) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
    },
  }) as SyscallTarget;
  const client = new DmaHeapClient(target);
  const buf = client.allocate('system', 4096);
  assert.equal(buf.name, null);
  assert.equal(buf.nameError?.message, 'ENOTTY: Inappropriate ioctl for device, ioctl');
  const before = target.openFdCount();
  assert.throws(() => client.allocate('system', 4096, { name: 'frame-0' }), (e: unknown) => e instanceof ErrnoError && e.code === 'ENOTTY');
  assert.equal(target.openFdCount(), before, 'the buffer of the failed allocation was closed');
  client.close();
});

test('importFd: a dma-buf is identified by inode; anything else is refused with what it is', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const t = client.target;
  const mine = client.allocate('system', 8192, { purpose: 'shared' });
  const foreign = client.importFd(t.dup(mine.fd).ret);
  assert.deepEqual([foreign.heap, foreign.size, foreign.inode, foreign.name, foreign.access], ['system', 8192, mine.inode, 'dmaheap:shared', 'rw']);
  assert.deepEqual(foreign.provenance, { path: 'import', provider: 'system', requirements: null, attempts: [], explanation: `imported fd ${foreign.fd}: a dma-buf exported by "system" (inode ${mine.inode})` });
  // dup: true leaves the caller's fd alone
  const copy = client.importFd(mine.fd, { dup: true });
  assert.notEqual(copy.fd, mine.fd);
  copy.close();
  mine.checkIdentity();
  const ro = client.allocate('system', 4096, { access: 'read' });
  assert.equal(client.importFd(t.dup(ro.fd).ret).access, 'read');
  const memfd = t.memfdCreate('frame', 0).ret;
  assert.throws(() => client.importFd(memfd), {
    name: 'ErrnoError',
    code: 'EINVAL',
    message: `EINVAL: Invalid argument, import (fd ${memfd} is not a dma-buf: /proc/self/fd/${memfd} -> /memfd:frame (deleted), and its fdinfo has no exp_name)`,
  });
  const heapFd = t.open('/dev/dma_heap/system', 0).ret;
  assert.throws(() => client.importFd(heapFd), /is not a dma-buf: \/proc\/self\/fd\/\d+ -> \/dev\/dma_heap\/system, and/);
  assert.throws(() => client.importFd(999), { code: 'EBADF', message: 'EBADF: Bad file descriptor, fstat (fd 999)' });
  client.close();
});

test('checkIdentity: an fd closed behind the library and reused for another file is caught', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const buf = client.allocate('system', 4096);
  const ino = buf.inode; // the first read fetches it (fstat) and keeps it
  assert.equal(ino, client.target.fstat(buf.fd).stat?.ino);
  client.target.close(buf.fd);
  const other = client.allocate('system', 4096);
  assert.equal(other.fd, buf.fd, 'the kernel reused the lowest free fd');
  assert.throws(() => buf.checkIdentity(), { code: 'EBADF', message: `EBADF: Bad file descriptor, fstat (fd ${buf.fd} is now inode ${other.inode}, not this buffer (inode ${ino}))` });
  assert.equal(buf.inode, ino, 'kept, not fetched again');
  // an inode never asked for: only the size can tell; a same-size buffer under the number passes and pins its inode
  const a = client.allocate('system', 8192);
  client.target.close(a.fd);
  const b = client.allocate('system', 4096);
  assert.throws(() => a.checkIdentity(), { code: 'EBADF', message: `EBADF: Bad file descriptor, fstat (fd ${a.fd} is now a file of 4096 bytes, not this 8192-byte buffer)` });
  const c = client.allocate('reserved', 4096);
  client.target.close(c.fd);
  const d = client.allocate('system', 4096);
  c.checkIdentity();
  assert.equal(c.inode, d.inode);
  // a closed buffer that never fetched its inode has none
  const e = client.allocate('system', 4096);
  e.close();
  assert.equal(e.inode, null);
  for (const x of [other, b, d]) x.close();
  client.close();
});

test('handoff to a child process: inherited under the same number, checked by inode in the child', () => {
  const parent = emulatedBackend.createClient({ profile: '6.1' });
  const buf = parent.allocate('reserved', MiB, { purpose: 'frame' });
  const m = buf.map();
  buf.cpuAccess('write', () => m.fill(0x5a, 0, 4096));
  const h = buf.handoff();
  assert.deepEqual(h, { fd: buf.fd, inode: buf.inode, size: MiB, exporter: 'reserved', name: 'dmaheap:frame', access: 'rw' });
  const child = parent.spawnChild('consumer');
  assert.notEqual(child.target.getpid(), parent.target.getpid());
  const inChild = child.importHandoff(JSON.parse(JSON.stringify(h)));
  const cm = inChild.map({ writable: false });
  assert.deepEqual([...inChild.cpuAccess('read', () => cm.read(0, 4))], [0x5a, 0x5a, 0x5a, 0x5a]);
  // a buffer still FD_CLOEXEC does not reach a child spawned later
  const secret = parent.allocate('system', 4096);
  const child2 = parent.spawnChild();
  assert.throws(() => child2.importHandoff({ ...h, fd: secret.fd, inode: secret.inode ?? 0 }), { code: 'EBADF', syscall: 'fstat' });
  // the wrong buffer under the right number is caught by its inode
  assert.throws(() => child2.importHandoff({ ...h, inode: 12345 }), { message: `EBADF: Bad file descriptor, import (fd ${h.fd} is inode ${h.inode}, not the handed-off buffer (inode 12345))` });
  // childFd: the caller maps the fd (child_process.spawn stdio); the fd keeps FD_CLOEXEC
  assert.equal(secret.handoff({ childFd: 3 }).fd, 3);
  // SCM_RIGHTS to another process
  const sent = secret.sendTo(child);
  assert.equal(sent.inode, secret.inode);
  child.close();
  child2.close();
  parent.close();
});

test('sendTo a closed child: EPIPE before anything is sent, and the buffer\'s memory comes back when it is closed', () => {
  const parent = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: false } });
  const kernel = (parent.target as ReturnType<typeof createEmulatedTarget>).kernel;
  // the ioctl's argument lives in the parent's user memory: an anonymous page of its own
  const free = () => kernel.buddy.freePages + kernel.anonPages;
  const before = free();
  const buf = parent.allocate('system', MiB);
  const child = parent.spawnChild();
  child.close();
  assert.throws(() => buf.sendTo(child), { code: 'EPIPE', syscall: 'sendmsg', message: 'EPIPE: Broken pipe, sendmsg (the receiving client was closed: its process ended, so nothing was sent)' });
  // the kernel refuses too, whatever the client knows (SCM_RIGHTS to an exited process)
  assert.deepEqual(parent.target.sendFd!(buf.fd, child.target), { ret: -1, errno: 'EPIPE' });
  buf.close();
  assert.equal(kernel.dmaBuf.list.size, 0);
  assert.equal(free(), before, 'the 1 MiB came back');
  // an fd that arrived but cannot be imported is closed in the receiver again
  const live = parent.spawnChild();
  const fds = live.target.openFdCount();
  const again = parent.allocate('system', MiB);
  const failing = Object.assign(live, { importFd: (): never => { throw new ErrnoError('EINVAL', 'import'); } });
  assert.throws(() => again.sendTo(failing), { code: 'EINVAL', syscall: 'import' });
  assert.equal(live.target.openFdCount(), fds);
  again.close();
  live.close();
  parent.close();
  assert.equal(free(), before, 'everything came back');
});

test('imageLayout: strides, plane offsets and sizes', () => {
  const nv12 = imageLayout({ format: 'NV12', width: 1920, height: 1080, align: 64 });
  assert.deepEqual(nv12.planes.map((p) => [p.name, p.offset, p.stride, p.rowBytes, p.rows, p.size]), [
    ['Y', 0, 1920, 1920, 1080, 2073600],
    ['UV', 2073600, 1920, 1920, 540, 1036800],
  ]);
  assert.equal(nv12.size, 3110400);
  // odd sizes round the subsampled planes up; planeAlign spaces the planes
  const i420 = imageLayout({ format: 'YUV420', width: 5, height: 3, align: 16, planeAlign: 64 });
  assert.deepEqual(i420.planes.map((p) => [p.name, p.offset, p.stride, p.rowBytes, p.rows]), [['Y', 0, 16, 5, 3], ['U', 64, 16, 3, 2], ['V', 128, 16, 3, 2]]);
  assert.equal(i420.size, 160);
  assert.deepEqual(imageLayout({ format: 'YVU420', width: 4, height: 4 }).planes.map((p) => [p.name, p.offset]), [['Y', 0], ['V', 16], ['U', 20]]);
  assert.deepEqual(imageLayout({ format: 'RGBA8888', width: 100, height: 10, align: 256 }).planes.map((p) => [p.stride, p.rowBytes, p.size]), [[512, 400, 5120]]);
  assert.deepEqual(imageLayout({ format: 'YUYV', width: 7, height: 2 }).planes.map((p) => [p.stride, p.rows]), [[16, 2]]);
  // a codec's 16-row alignment: 1080 → 1088 luma rows, 544 chroma rows
  assert.deepEqual(imageLayout({ format: 'NV12', width: 1920, height: 1080, heightAlign: 16 }).planes.map((p) => p.rows), [1088, 544]);
  assert.equal(PIXEL_FORMATS.length, 19);
  assert.throws(() => imageLayout({ format: 'NV12', width: 0, height: 2 }), { name: 'RangeError', message: 'width must be a positive integer, not 0' });
  assert.throws(() => imageLayout({ format: 'P010' as 'NV12', width: 2, height: 2 }), /unknown pixel format 'P010'/);
});

test('allocateImage: one buffer, planes at their offsets, plane views bounds-checked to the plane', () => {
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const img = client.allocateImage({ format: 'NV12', width: 64, height: 48, align: 64, planeAlign: 4096, heap: 'reserved' });
  assert.deepEqual([img.buffer.heap, img.buffer.size, img.buffer.name], ['reserved', 8192, 'dmaheap:nv12-64x48']);
  const uv = img.mapPlane(1);
  img.buffer.cpuAccess('write', () => {
    uv.fill(0x80);
    uv.writeRow(0, Uint8Array.of(1, 2, 3));
  });
  assert.deepEqual([...uv.readRow(0).subarray(0, 5)], [1, 2, 3, 0x80, 0x80]);
  const y = img.mapPlane(0);
  assert.deepEqual([...y.read(0, 4)], [0, 0, 0, 0], 'the luma plane was not touched');
  assert.throws(() => uv.readRow(24), { name: 'RangeError', message: 'readRow: row 24 is outside plane 1 (UV) rows [0, 24)' });
  assert.throws(() => uv.read(1530, 10), { name: 'RangeError', message: 'read: [1530, 1540) is outside plane 1 (UV) [0, 1536)' });
  assert.throws(() => uv.writeRow(0, new Uint8Array(65)), { message: 'writeRow: 65 bytes do not fit a row of plane 1 (UV), 64 bytes' });
  assert.throws(() => img.mapPlane(2), { message: 'plane 2: a NV12 image has planes 0..1' });
  // without a heap the requirements choose; the automatic name says what it is
  const rgba = client.allocateImage({ format: 'RGBA8888', width: 320, height: 240, requirements: { contiguous: true } });
  assert.deepEqual([rgba.buffer.heap, rgba.buffer.size, rgba.buffer.name], ['reserved', 307200, 'dmaheap:rgba8888-320x240']);
  img.release();
  assert.throws(() => uv.read(0, 1), UnmappedError);
  client.close();
});
