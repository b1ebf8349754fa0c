// memfd (mm/memfd.c, mm/shmem.c) and /dev/udmabuf (drivers/dma-buf/udmabuf.c) in the emulated
// kernel: exact errnos in the kernel's order, and the pages the two share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import type { DmaBuf } from '../../src/kernel/dma-buf/dma-buf.js';
import type { ShmemInode } from '../../src/kernel/mm/shmem.js';
import { Errno } from '../../src/uapi/errno.js';
import {
  F_ADD_SEALS, F_GET_SEALS, F_GETFD, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, FD_CLOEXEC,
  MAP_PRIVATE, MAP_SHARED, MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGETLB, O_CLOEXEC, O_RDWR, PROT_READ, PROT_WRITE, SEEK_END, SEEK_SET,
} from '../../src/uapi/fcntl.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST, UDMABUF_FLAGS_CLOEXEC, encodeUdmabufCreateList } from '../../src/uapi/udmabuf.js';
import { heapAlloc } from './kernel-helpers.js';

const E = Errno;
const MiB = 1024 * 1024;

function boot(): { k: Kernel; p: Process; u: number } {
  const k = new Kernel({ profile: '6.1', cmdline: 'cma=64M' });
  const p = k.spawn();
  const u = p.open('/dev/udmabuf', O_RDWR | O_CLOEXEC);
  assert.ok(u >= 0);
  return { k, p, u };
}

/** Free pages, not counting the anonymous pages the syscall arguments of the test take (user memory is RAM too). */
function freePages(k: Kernel): number {
  return k.buddy.freePages + k.anonPages;
}

/** A memfd of `size` bytes with `seals` added (MFD_ALLOW_SEALING). */
function memfd(p: Process, size: number, seals = F_SEAL_SHRINK, name = 'test'): number {
  const m = p.memfdCreate(name, MFD_ALLOW_SEALING);
  assert.ok(m >= 0);
  assert.equal(p.ftruncate(m, size), 0);
  if (seals !== 0) assert.equal(p.fcntl(m, F_ADD_SEALS, seals), 0);
  return m;
}

/** UDMABUF_CREATE with a struct udmabuf_create in user memory; offset and size may be u64 bigints. */
function create(p: Process, u: number, fd: number, size: number | bigint, offset: number | bigint = 0, flags = 0): number {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, fd, true);
  dv.setUint32(4, flags, true);
  dv.setBigUint64(8, BigInt(offset), true);
  dv.setBigUint64(16, BigInt(size), true);
  const a = p.userAlloc(24);
  p.mm.copyToUser(a, b);
  return p.ioctl(u, UDMABUF_CREATE, a);
}

function createList(p: Process, u: number, flags: number, items: { memfd: number; offset?: number; size: number }[], count = items.length): number {
  const b = encodeUdmabufCreateList(flags, items.map((i) => ({ memfd: i.memfd, offset: i.offset ?? 0, size: i.size })));
  new DataView(b.buffer).setUint32(4, count, true);
  const a = p.userAlloc(b.length);
  p.mm.copyToUser(a, b);
  return p.ioctl(u, UDMABUF_CREATE_LIST, a);
}

function writeFd(p: Process, fd: number, text: string): number {
  const a = p.userAlloc(text.length);
  p.mm.copyToUser(a, Uint8Array.from(text, (c) => c.charCodeAt(0)));
  return p.write(fd, a, text.length);
}

function readFd(p: Process, fd: number, n: number): string {
  const a = p.userAlloc(n);
  const r = p.read(fd, a, n);
  assert.ok(r >= 0, `read: ${r}`);
  return String.fromCharCode(...p.mm.copyFromUser(a, r)!);
}

function text(b: Uint8Array | string): string {
  assert.ok(typeof b !== 'string', `fault ${String(b)}`);
  return String.fromCharCode(...b);
}

test('memfd_create: 6.1 flag checks, the name limit, EMFILE before the file, MFD_HUGETLB without hugetlbfs', () => {
  const { p } = boot();
  assert.equal(p.memfdCreate('x', 0x8), -E.EINVAL, 'MFD_NOEXEC_SEAL does not exist in 6.1');
  assert.equal(p.memfdCreate('x', 0x10), -E.EINVAL, 'MFD_EXEC does not exist in 6.1');
  assert.equal(p.memfdCreate('x', 1 << 26), -E.EINVAL, 'huge page size bits need MFD_HUGETLB');
  assert.equal(p.memfdCreate('x', MFD_HUGETLB | (21 << 26)), -E.ENOSYS, 'CONFIG_HUGETLBFS=n: hugetlb_file_setup() is the ENOSYS stub');
  assert.equal(p.memfdCreate('x', MFD_HUGETLB | 0x8), -E.EINVAL);
  assert.equal(p.memfdCreate('x', -1), -E.EINVAL);
  assert.equal(p.memfdCreate('a'.repeat(250), 0), -E.EINVAL);
  const long = p.memfdCreate('a'.repeat(249), 0);
  assert.ok(long >= 0);
  assert.ok(p.memfdCreate(`cut\0${'a'.repeat(300)}`, 0) >= 0, 'the name ends at its first NUL');
  const fd = p.openFdCount();
  p.setNofile(fd, fd);
  assert.equal(p.memfdCreate('a'.repeat(250), 0), -E.EINVAL, 'the name is checked before the fd');
  assert.equal(p.memfdCreate('x', MFD_HUGETLB), -E.EMFILE, 'the fd is reserved before the file is made');
});

test('memfd: a regular file on the internal tmpfs, unlinked, O_RDWR|O_LARGEFILE, seals per MFD_ALLOW_SEALING', () => {
  const { k, p } = boot();
  const m = p.memfdCreate('probe', MFD_CLOEXEC);
  const inode = p.statOf(m)!;
  assert.deepEqual([inode.mode, inode.size, inode.uid, inode.nlink, inode.dev], [0o100777, 0, 0, 0, 1]);
  assert.equal(p.fcntl(m, F_GETFD), FD_CLOEXEC);
  assert.equal(p.fcntl(m, 3 /* F_GETFL */), O_RDWR | 0o100000);
  assert.equal(k.readlinkPath(p, `/proc/self/fd/${m}`), '/memfd:probe (deleted)');
  assert.match(k.readFile(p, `/proc/self/fdinfo/${m}`) as string, /^pos:\t0\nflags:\t02100002\nmnt_id:\t\d+\nino:\t\d+\n$/);
  assert.equal(p.fcntl(m, F_GET_SEALS), F_SEAL_SEAL);
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK), -E.EPERM);
  const s = p.memfdCreate('s', MFD_ALLOW_SEALING);
  assert.equal(p.fcntl(s, F_GET_SEALS), 0);
  // fstat: st_nlink 0 (clear_nlink in __shmem_file_setup)
  const a = p.userAlloc(144);
  assert.equal(p.fstat(s, a), 0);
  assert.equal(new DataView(p.mm.copyFromUser(a, 144)!.buffer).getBigUint64(16, true), 0n);
  const maps = p.mmap(0, 4096, PROT_READ, MAP_SHARED, s, 0);
  assert.ok(maps > 0);
  assert.match(k.readFile(p, '/proc/self/maps') as string, /r--s 00000000 00:01 \d+ +\/memfd:s \(deleted\)\n/);
});

test('F_ADD_SEALS in the kernel order: FMODE_WRITE, unknown bits, not shmem, F_SEAL_SEAL, then F_SEAL_WRITE busy checks', () => {
  const { p } = boot();
  const m = p.memfdCreate('m', MFD_ALLOW_SEALING);
  const ro = p.open(`/proc/self/fd/${m}`, 0);
  assert.equal(p.fcntl(ro, F_ADD_SEALS, 0x40), -E.EPERM, 'a read-only file: EPERM before the bits are looked at');
  assert.equal(p.fcntl(m, F_ADD_SEALS, 0x20), -E.EINVAL, 'F_SEAL_EXEC came with 6.3');
  assert.equal(p.fcntl(m, F_ADD_SEALS, 2 ** 32), -E.EINVAL, 'more than 32 bits');
  assert.equal(p.fcntl(m, F_ADD_SEALS, -1), -E.EINVAL, 'an unsigned long argument');
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  assert.equal(p.fcntl(h, F_ADD_SEALS, F_SEAL_SHRINK), -E.EINVAL);
  assert.equal(p.fcntl(h, F_GET_SEALS), -E.EINVAL);
  assert.equal(p.fcntl(p.open('/dev/dma_heap/system', 0), F_ADD_SEALS, 0), -E.EPERM);
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_FUTURE_WRITE), 0);
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_SEAL), 0);
  assert.equal(p.fcntl(m, F_ADD_SEALS, 0), -E.EPERM);
  assert.equal(p.fcntl(m, F_GET_SEALS), F_SEAL_SEAL | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
  assert.equal(p.fcntl(ro, F_GET_SEALS), F_SEAL_SEAL | F_SEAL_GROW | F_SEAL_FUTURE_WRITE, 'seals belong to the inode');
});

test('i_mmap_writable: every shared maywrite piece counts, through munmap splits and fork; a write seal then refuses writable shared maps', () => {
  const { p } = boot();
  const m = memfd(p, 4 * 4096, 0);
  const inode = p.file(m)!.inode as ShmemInode;
  const a = p.mmap(0, 4 * 4096, PROT_READ, MAP_SHARED, m, 0);
  assert.equal(inode.mmapWritable, 1);
  assert.equal(p.munmap(a + 4096, 4096), 0, 'a hole in the middle: two pieces remain');
  assert.equal(inode.mmapWritable, 2);
  const child = p.fork();
  assert.equal(inode.mmapWritable, 4);
  child.exit();
  assert.equal(inode.mmapWritable, 2);
  p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
  assert.equal(inode.mmapWritable, 2, 'a private mapping does not count');
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_WRITE), -E.EBUSY);
  assert.equal(p.munmap(a, 4 * 4096), 0);
  assert.equal(inode.mmapWritable, 0);
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_WRITE), 0);
  assert.equal(inode.mmapWritable, -1);
  assert.equal(p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0), -E.EPERM, 'seal_check_write');
  assert.ok(p.mmap(0, 4096, PROT_READ, MAP_SHARED, m, 0) > 0, 'read-only: VM_MAYWRITE is taken away (6.7 rework, in 6.1.192)');
  assert.equal(inode.mmapWritable, -1, 'a shared mapping without VM_MAYWRITE does not count');
  const ro = p.open(`/proc/self/fd/${m}`, 0);
  assert.ok(p.mmap(0, 4096, PROT_READ, MAP_SHARED, ro, 0) > 0, 'a read-only fd maps without VM_SHARED');
  assert.equal(inode.mmapWritable, -1);
});

test('ftruncate: checks in do_sys_ftruncate order, seals, and pages dropped past the new end', () => {
  const { k, p } = boot();
  const free0 = freePages(k);
  const m = p.memfdCreate('t', MFD_ALLOW_SEALING);
  assert.equal(p.ftruncate(m, -1), -E.EINVAL);
  assert.equal(p.ftruncate(99, -1), -E.EINVAL, 'the length is checked before the fd');
  assert.equal(p.ftruncate(99, 0), -E.EBADF);
  assert.equal(p.ftruncate(p.open('/proc/meminfo', 0), 0), -E.EINVAL);
  assert.equal(p.ftruncate(p.open('/dev/dma_heap/system', O_RDWR), 0), -E.EINVAL);
  assert.equal(p.ftruncate(m, 3 * 4096), 0);
  assert.equal(freePages(k), free0, 'growing allocates nothing');
  p.lseek(m, 4096 - 2, SEEK_SET);
  assert.equal(writeFd(p, m, 'abcd'), 4);
  const inode = p.file(m)!.inode as ShmemInode;
  assert.equal(inode.pages.size, 2);
  assert.equal(freePages(k), free0 - 2);
  assert.equal(p.ftruncate(m, 4096 - 1), 0);
  assert.equal(inode.pages.size, 1);
  assert.equal(freePages(k), free0 - 1);
  assert.equal(p.ftruncate(m, 4096), 0);
  p.lseek(m, 4096 - 2, SEEK_SET);
  assert.equal(readFd(p, m, 8), 'a\0', 'the cut tail of the partial page reads as zero');
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
  assert.equal(p.ftruncate(m, 4095), -E.EPERM);
  assert.equal(p.ftruncate(m, 4097), -E.EPERM);
  assert.equal(p.ftruncate(m, 4096), 0);
  p.close(m);
  assert.equal(freePages(k), free0, 'the last close evicts the inode and frees its pages');
});

test('UDMABUF_CREATE: the checks of udmabuf_create() in the kernel order', () => {
  const { k, p, u } = boot();
  const m = memfd(p, 64 * 1024);
  const unsealed = memfd(p, 64 * 1024, 0);
  const writeSealed = memfd(p, 64 * 1024, F_SEAL_SHRINK | F_SEAL_WRITE);
  // 1. alignment and the size limit come before the memfd is looked at
  assert.equal(create(p, u, 999, 4096, 100), -E.EINVAL, 'offset not page aligned');
  assert.equal(create(p, u, 999, 100), -E.EINVAL, 'size not page aligned');
  assert.equal(create(p, u, 999, 65 * MiB), -E.EINVAL, 'over size_limit_mb');
  assert.equal(create(p, u, 999, 0xfffffffffffff000n), -E.EINVAL, 'a u64 size far over the limit');
  // 2. nothing at all
  assert.equal(create(p, u, 999, 0), -E.EINVAL);
  // 3. the memfd
  assert.equal(create(p, u, 999, 4096), -E.EBADFD, 'not an open fd');
  assert.equal(create(p, u, 0xffffffff, 4096), -E.EBADFD);
  assert.equal(create(p, u, u, 4096), -E.EBADFD, 'the udmabuf node is not shmem');
  assert.equal(create(p, u, p.open('/proc/meminfo', 0), 4096), -E.EBADFD, 'a regular file that is not shmem');
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  const b = heapAlloc(p, h, 4096, O_RDWR);
  assert.equal(create(p, u, b.fd, 4096), -E.EBADFD, 'a dma-buf');
  assert.equal(create(p, u, unsealed, 4096), -E.EINVAL, 'no F_SEAL_SHRINK');
  assert.equal(create(p, u, writeSealed, 4096), -E.EINVAL, 'F_SEAL_WRITE');
  assert.equal(create(p, u, m, 4096, 64 * 1024), -E.EINVAL, 'the first page is past the end');
  assert.equal(create(p, u, m, 4096, 0x8000000000000000n), -E.EFBIG, 'past MAX_LFS_FILESIZE');
  assert.equal(create(p, u, m, 4096, 0x7ffffffffffff000n), -E.EINVAL, 'the last page below MAX_LFS_FILESIZE: past the end');
  assert.equal(k.dmaBuf.list.size, 1, 'only the heap buffer');
  // 4. success: the fd is the result
  const fd = create(p, u, m, 8192, 4096);
  assert.equal(fd, p.openFdCount() - 1);
  const buf = k.dmaBuf.get(p, fd) as DmaBuf;
  assert.equal(buf.expName, 'udmabuf');
  assert.equal(buf.size, 8192);
  k.dmaBuf.put(buf);
  assert.equal(p.fcntl(fd, 3 /* F_GETFL */), O_RDWR);
  assert.equal(p.fcntl(fd, F_GETFD), 0);
  assert.equal(p.lseek(fd, 0, SEEK_END), 8192);
  const c = create(p, u, m, 4096, 0, UDMABUF_FLAGS_CLOEXEC);
  assert.equal(p.fcntl(c, F_GETFD), FD_CLOEXEC);
  const odd = create(p, u, m, 4096, 0, 0xfffffffe);
  assert.ok(odd >= 0, '6.1 ignores unknown flag bits');
  assert.equal(p.fcntl(odd, F_GETFD), 0);
  // 64 MiB exactly is allowed
  const big = memfd(p, 64 * MiB);
  assert.ok(create(p, u, big, 64 * MiB) >= 0);
});

test('UDMABUF_CREATE_LIST: list_limit, EFAULT, per-item checks, pages joined in order', () => {
  const { k, p, u } = boot();
  const a = memfd(p, 8192);
  const b = memfd(p, 8192);
  assert.equal(createList(p, u, 0, [{ memfd: a, size: 4096 }], 1025), -E.EINVAL);
  assert.equal(createList(p, u, 0, [], 0), -E.EINVAL);
  // a header and one item at the end of a mapping, claiming two items: the second is unmapped
  const one = encodeUdmabufCreateList(0, [{ memfd: a, offset: 0, size: 4096 }]);
  new DataView(one.buffer).setUint32(4, 2, true);
  // (the page above is unmapped: mappings are placed next to each other, so make a hole)
  const two = p.userAlloc(8192);
  assert.equal(p.munmap(two + 4096, 4096), 0);
  const end = two + 4096 - one.length;
  p.mm.copyToUser(end, one);
  assert.equal(p.ioctl(u, UDMABUF_CREATE_LIST, end), -E.EFAULT, 'memdup_user() of the items faults');
  assert.equal(p.ioctl(u, UDMABUF_CREATE_LIST, 0), -E.EFAULT);
  assert.equal(createList(p, u, 0, [{ memfd: 999, size: 4096 }, { memfd: a, size: 100 }]), -E.EINVAL, 'every item is aligned-checked before any fd');
  assert.equal(createList(p, u, 0, [{ memfd: a, size: 32 * MiB }, { memfd: a, size: 33 * MiB }]), -E.EINVAL);
  const free0 = freePages(k);
  assert.equal(createList(p, u, 0, [{ memfd: a, size: 4096 }, { memfd: b, offset: 8192, size: 4096 }]), -E.EINVAL);
  assert.equal(freePages(k), free0 - 1, 'the page of the first item stays in its memfd');
  assert.equal((p.file(a)!.inode as ShmemInode).pages.get(0)!.refs, 1, 'the reference taken for the buffer is dropped');
  p.lseek(a, 4096, SEEK_SET);
  writeFd(p, a, 'A1');
  writeFd(p, b, 'B0');
  const fd = createList(p, u, UDMABUF_FLAGS_CLOEXEC, [{ memfd: b, size: 4096 }, { memfd: a, offset: 4096, size: 4096 }, { memfd: b, size: 8192 }]);
  assert.ok(fd >= 0);
  assert.equal(p.fcntl(fd, F_GETFD), FD_CLOEXEC);
  assert.equal(p.lseek(fd, 0, SEEK_END), 4 * 4096);
  const map = p.mmap(0, 4 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  assert.deepEqual([0, 1, 2, 3].map((i) => text(p.load(map + i * 4096, 2))), ['B0', 'A1', 'B0', '\0\0']);
  const buf = k.dmaBuf.get(p, fd) as DmaBuf;
  const sg = buf.ops.mapDmaBuf!({ dmabuf: buf, dev: 'x', priv: null }, 0);
  assert.ok(Array.isArray(sg));
  assert.equal(sg.reduce((n, e) => n + e.length, 0), 4 * 4096);
  k.dmaBuf.put(buf);
});

test('udmabuf: the buffer pages are the memfd pages, they outlive the memfd, and release gives them back', () => {
  const { k, p, u } = boot();
  const free0 = freePages(k);
  const m = memfd(p, 4 * 4096);
  const fd = create(p, u, m, 2 * 4096, 4096);
  assert.equal(freePages(k), free0 - 2, 'shmem_read_mapping_page() allocated the two pages');
  const ub = p.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const mm = p.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
  assert.equal(p.store(ub + 10, Uint8Array.of(1, 2, 3)), null);
  assert.deepEqual([...(p.load(mm + 4096 + 10, 3) as Uint8Array)], [1, 2, 3], 'a store through the udmabuf is seen through the memfd mapping');
  p.lseek(m, 2 * 4096, SEEK_SET);
  assert.equal(writeFd(p, m, 'via write'), 9);
  assert.equal(text(p.load(ub + 4096, 9)), 'via write', 'write(2) on the memfd is seen through the udmabuf');
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_WRITE), -E.EBUSY, 'the mapping counts');
  p.munmap(mm, 4 * 4096);
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_WRITE), -E.EBUSY, 'the pinned pages count (memfd_wait_for_pins)');
  assert.equal((p.file(m)!.inode as ShmemInode).mmapWritable, 0, 'a failed seal gives the writable count back');
  assert.equal(p.mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0), -E.EINVAL, 'mmap_udmabuf() wants VM_SHARED');
  p.close(m);
  assert.equal(freePages(k), free0 - 2, 'the pinned pages outlive the memfd');
  assert.equal(text(p.load(ub + 4096, 9)), 'via write');
  p.munmap(ub, 2 * 4096);
  p.close(fd);
  assert.equal(k.dmaBuf.list.size, 0);
  assert.equal(freePages(k), free0, 'the release drops the last references');
});

test('udmabuf: SYNC END before a START is EINVAL; vmap; EMFILE puts the buffer back, as 6.1.192 does', () => {
  const { k, p, u } = boot();
  const m = memfd(p, 4096);
  const fd = create(p, u, m, 4096);
  const buf = k.dmaBuf.get(p, fd) as DmaBuf;
  assert.equal(k.dmaBuf.endCpuAccess(buf, 0), -E.EINVAL);
  assert.equal(k.dmaBuf.beginCpuAccess(buf, 0), 0);
  assert.equal(k.dmaBuf.endCpuAccess(buf, 0), 0);
  assert.ok(typeof k.dmaBuf.vmap(buf) === 'object');
  k.dmaBuf.vunmap(buf);
  k.dmaBuf.put(buf);
  const n = p.openFdCount();
  p.setNofile(n, n);
  assert.equal(create(p, u, m, 4096), -E.EMFILE);
  // the 6.1.192, 6.12.118 and 7.3 oracles: bufinfo says "Total 0 objects" again after the EMFILE
  assert.equal(k.dmaBuf.list.size, 1, 'dma_buf_fd() failed after the export: the buffer is released');
  assert.equal((p.file(m)!.inode as ShmemInode).pages.get(0)!.refs, 2, 'the page cache and the first buffer');
  assert.equal(p.close(fd), 0);
  assert.equal(p.close(m), 0);
  assert.equal(k.dmaBuf.list.size, 0);
  assert.match(k.readFile(k.init, '/sys/kernel/debug/dma_buf/bufinfo') as string, /\nTotal 0 objects, 0 bytes\n$/);
});

test('/dev/udmabuf: a 0600 root misc node (10:125) with only an ioctl; absent without CONFIG_UDMABUF', () => {
  const { k, p, u } = boot();
  const st = p.statOf(u)!;
  assert.deepEqual([st.mode, st.uid, st.gid, st.rdev], [0o020600, 0, 0, 10 * 0x100000 + 125]);
  assert.equal(p.ioctl(u, 0x40107542, 0), -E.ENOTTY, 'the command must match exactly');
  assert.equal(p.ioctl(u, UDMABUF_CREATE, 0), -E.EFAULT);
  assert.equal(p.read(u, p.userAlloc(1), 1), -E.EINVAL);
  assert.equal(p.lseek(u, 0, SEEK_SET), -E.ESPIPE);
  assert.equal(p.mmap(0, 4096, PROT_READ, MAP_SHARED, u, 0), -E.ENODEV);
  assert.equal(k.readlinkPath(p, `/proc/self/fd/${u}`), '/dev/udmabuf');
  assert.equal(k.readlinkPath(p, '/dev/udmabuf'), -E.EINVAL);
  const again = p.open(`/proc/self/fd/${u}`, O_RDWR);
  assert.ok(again >= 0, 'the node reopens through /proc');
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  assert.equal(user.open('/dev/udmabuf', O_RDWR), -E.EACCES);
  const none = new Kernel({ udmabuf: false }).spawn();
  assert.equal(none.open('/dev/udmabuf', O_RDWR), -E.ENOENT);
});

test('udmabuf with 16 KiB pages (arm64): alignment and the size limit are in pages of 16 KiB', () => {
  const k = new Kernel({ profile: '6.1', arch: 'arm64', pageSize: 16384 });
  const p = k.spawn();
  const u = p.open('/dev/udmabuf', O_RDWR);
  const m = memfd(p, 64 * 1024);
  assert.equal(create(p, u, m, 4096), -E.EINVAL);
  const fd = create(p, u, m, 16384, 16384);
  assert.ok(fd >= 0);
  assert.equal(p.lseek(fd, 0, SEEK_END), 16384);
});
