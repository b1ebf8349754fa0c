/**
 * The Linux backend against real DMA-BUF heaps: these run where /dev/dma_heap has heaps this
 * process may open (the oracle VM: `npm run test:kernel`) and skip with the reason elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAvailable, linuxBackend, createLinuxTarget } from '../../src/backends/linux/index.js';
import type { LinuxTarget } from '../../src/backends/linux/index.js';
import { DMA_HEAP_IOCTL_ALLOC, _IOWR, MAP_SHARED, O_CLOEXEC, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE, SEEK_END } from '../../src/uapi/index.js';

const avail = isAvailable();
const skip: string | false = avail.ok ? false : avail.reason;

function allocArg(len: number, fdFlags = O_RDWR | O_CLOEXEC): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(len), true);
  dv.setUint32(12, fdFlags, true);
  return b;
}

function alloc(t: LinuxTarget, heap: string, len: number): number {
  const h = t.open(`/dev/dma_heap/${heap}`, O_RDONLY | O_CLOEXEC).ret;
  assert.ok(h >= 0, heap);
  const r = t.ioctl(h, DMA_HEAP_IOCTL_ALLOC, allocArg(len));
  t.close(h);
  assert.equal(r.errno, null, heap);
  return new DataView(r.out!.buffer).getUint32(8, true);
}

/** "Total N objects, M bytes" of debugfs bufinfo. */
function bufinfoTotal(t: LinuxTarget): string {
  return /^Total .*$/m.exec(t.readFile('/sys/kernel/debug/dma_buf/bufinfo').text ?? '')?.[0] ?? '(no bufinfo)';
}

test('the client over the real kernel: allocate, name, map, sync, read back, release', { skip }, () => {
  const c = linuxBackend.createClient();
  try {
    const heaps = c.heaps().map((h) => h.name);
    assert.ok(heaps.length > 0);
    for (const heap of heaps) {
      const n0 = c.target.openFdCount();
      const b = c.allocate(heap, 4097, { name: `t-${heap}` });
      assert.equal(b.size, 8192);
      assert.match(c.target.readFile(`/proc/self/fdinfo/${b.fd}`).text ?? '', new RegExp(`^name:\\s+t-${heap}$`, 'm'));
      const m = b.map();
      assert.ok((m.read() as Uint8Array).every((x) => x === 0), 'a new buffer reads zero');
      b.cpuAccess('rw', () => m.write(4090, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])));
      assert.deepEqual([...m.read(4089, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
      const ro = b.map({ writable: false });
      assert.throws(() => ro.write(0, new Uint8Array(1)), /read-only/);
      assert.deepEqual([...ro.read(4090, 2)], [1, 2]);
      b.release();
      assert.throws(() => m.read(0, 1), /unmapped|Unmapped/i);
      assert.equal(c.target.openFdCount(), n0 + 1, `${heap}: only the heap node the client keeps open is left`);
    }
  } finally {
    c.close();
  }
});

test('raw ALLOC: the reported fd is tracked and closed by dispose; a mapping stays bounds- and protection-checked', { skip }, () => {
  const t = createLinuxTarget();
  const heap = t.listHeaps()[0]!;
  const total0 = bufinfoTotal(t);
  const fd = alloc(t, heap, 1 << 20);
  assert.equal(t.lseek(fd, 0, SEEK_END).ret, 1 << 20);
  assert.equal(t.fstat(fd).stat!.mode, 0o600, 'a dma-buf has no file-type bits');
  assert.equal(t.mmap(2 << 20, PROT_READ, MAP_SHARED, fd, 0).errno, 'EINVAL', 'longer than the buffer');
  const h = t.open(`/dev/dma_heap/${heap}`, O_RDWR).ret;
  assert.equal(t.mmap(4096, PROT_READ, MAP_SHARED, h, 0).errno, 'ENODEV', 'the heap node cannot be mapped');
  const m = t.mmap(1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0).map!;
  const big = new Uint8Array(1 << 20).fill(0x5a);
  assert.equal(t.writeMem(m, 0, big), null);
  const back = t.readMem(m, 0, 1 << 20) as Uint8Array;
  assert.ok(back.every((x) => x === 0x5a));
  back[0] = 0;
  assert.equal((t.readMem(m, 0, 1) as Uint8Array)[0], 0x5a, 'readMem returns a copy');
  const ro = t.mmap(4096, PROT_READ, MAP_SHARED, fd, 0).map!;
  assert.equal(t.writeMem(ro, 0, new Uint8Array(1)), 'SIGSEGV', 'predicted, not taken');
  assert.equal(t.readMem(m, (1 << 20) - 1, 2), 'SIGSEGV');
  t.dispose();
  const u = createLinuxTarget();
  assert.equal(u.fstat(fd).errno, 'EBADF', 'dispose closed the reported fd');
  assert.equal(u.fstat(h).errno, 'EBADF', 'and the heap fd it opened');
  assert.equal(bufinfoTotal(u), total0, 'the buffer is gone');
  u.dispose();
});

test('exclusive targets also close descriptors an ioctl installed without reporting them', { skip }, () => {
  const t = createLinuxTarget({ exclusive: true });
  const heap = t.listHeaps()[0]!;
  const total0 = bufinfoTotal(t);
  const n0 = t.openFdCount();
  const h = t.open(`/dev/dma_heap/${heap}`, O_RDWR).ret;
  // an 8-byte struct: the kernel allocates and installs an fd but copies back only len
  const r = t.ioctl(h, _IOWR('H', 0, 8), allocArg(4096).subarray(0, 8));
  assert.equal(r.ret, 0);
  assert.equal(t.openFdCount(), n0 + 2);
  assert.notEqual(bufinfoTotal(t), total0);
  t.dispose();
  const u = createLinuxTarget();
  assert.equal(u.openFdCount(), n0);
  assert.equal(bufinfoTotal(u), total0);
  u.dispose();
});

test('RLIMIT_NOFILE: ALLOC is EMFILE at the limit; dispose restores the limit', { skip }, () => {
  const t = createLinuxTarget();
  const heap = t.listHeaps()[0]!;
  const limits = t.readFile('/proc/self/limits').text;
  const h = t.open(`/dev/dma_heap/${heap}`, O_RDONLY | O_CLOEXEC).ret;
  // the lowest free descriptor (a test runner's child may have holes below its highest fd)
  const n = t.dup(h).ret;
  t.close(n);
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits ?? '')?.[1] ?? 'unlimited';
  assert.equal(t.setNofile(n, hard === 'unlimited' ? -1 : Number(hard)).ret, 0);
  assert.equal(t.ioctl(h, DMA_HEAP_IOCTL_ALLOC, allocArg(4096)).errno, 'EMFILE');
  assert.equal(t.readFile('/proc/self/limits').errno, 'EMFILE', 'reading a file needs a descriptor too');
  t.dispose();
  const u = createLinuxTarget();
  assert.equal(u.readFile('/proc/self/limits').text, limits);
  u.dispose();
});

test('ioctlAsync allocates on the libuv pool; several at once', { skip }, async () => {
  const t = createLinuxTarget();
  try {
    for (const heap of t.listHeaps()) {
      const h = t.open(`/dev/dma_heap/${heap}`, O_RDONLY | O_CLOEXEC).ret;
      const rs = await Promise.all([1, 2, 3].map((k) => t.ioctlAsync(h, DMA_HEAP_IOCTL_ALLOC, allocArg(k * 4096))));
      const fds = rs.map((r) => {
        assert.equal(r.errno, null);
        return new DataView(r.out!.buffer).getUint32(8, true);
      });
      assert.equal(new Set(fds).size, 3);
      assert.deepEqual(fds.map((fd) => t.lseek(fd, 0, SEEK_END).ret), [4096, 8192, 12288]);
      const bad = await t.ioctlAsync(h, DMA_HEAP_IOCTL_ALLOC, allocArg(0));
      assert.equal(bad.errno, 'EINVAL', 'the worker thread\'s errno comes back');
    }
  } finally {
    t.dispose();
  }
});
