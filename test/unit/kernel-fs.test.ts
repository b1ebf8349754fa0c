import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import { Errno } from '../../src/uapi/errno.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { FdTable } from '../../src/kernel/fs/fdtable.js';
import type { File } from '../../src/kernel/fs/file.js';
import { heapAlloc } from './kernel-helpers.js';

const O_RDWR = 2;
const O_CLOEXEC = 0o2000000;

function alloc(p: Process, heapFd: number, len: number, fdFlags = O_RDWR | O_CLOEXEC): { ret: number; fd: number; arg: number } {
  return heapAlloc(p, heapFd, len, fdFlags);
}

test('EMFILE when RLIMIT_NOFILE is exhausted, and no memory stays allocated', () => {
  const k = new Kernel({ profile: '6.1', cmdline: 'cma=64M' });
  const p = k.spawn();
  const h = p.open('/dev/dma_heap/reserved', O_RDWR);
  assert.equal(p.setNofile(h + 1, 4096), 0);
  const used = k.defaultCma!.availableCount;
  assert.equal(alloc(p, h, 1 << 20).ret, -Errno.EMFILE);
  assert.equal(k.defaultCma!.availableCount, used);
  assert.equal(k.dmaBuf.list.size, 0);
  assert.equal(p.open('/dev/dma_heap/nope', 0), -Errno.EMFILE, 'EMFILE is checked before the path');
});

test('copy-out fault: EFAULT; 6.1.192 publishes no fd and frees the buffer, 6.6.0 leaves the fd installed', () => {
  for (const profile of ['6.1', '6.6'] as const) {
    const leak = profile === '6.1' ? 0 : 1;
    const k = new Kernel({ profile });
    const p = k.spawn();
    const h = p.open('/dev/dma_heap/system', O_RDWR);
    // the struct lives in a buffer mapped twice: written through a read-write view, passed to the
    // ioctl through a read-only one, so copy_from_user() works and copy_to_user() faults
    const { fd } = alloc(p, h, 4096);
    const rw = p.mmap(0, 4096, 3, 1, fd, 0);
    const ro = p.mmap(0, 4096, 1, 1, fd, 0);
    const b = new Uint8Array(24);
    new DataView(b.buffer).setUint32(0, 4096, true);
    new DataView(b.buffer).setUint32(12, O_RDWR, true);
    assert.equal(p.store(rw, b), null);
    const before = p.openFdCount();
    assert.equal(p.ioctl(h, 0xc0184800, ro), -Errno.EFAULT);
    assert.equal(p.openFdCount(), before + leak, profile);
    assert.equal(k.dmaBuf.list.size, 1 + leak, profile);
  }
});

test('lowest free fd, dup, FD_CLOEXEC, fork and exec', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const h = p.open('/dev/dma_heap/system', O_RDWR | O_CLOEXEC);
  assert.equal(h, 0);
  const a = alloc(p, h, 4096);
  const b = alloc(p, h, 4096, O_RDWR);
  assert.deepEqual([a.fd, b.fd], [1, 2]);
  assert.equal(p.fcntl(a.fd, 1), 1);
  assert.equal(p.fcntl(b.fd, 1), 0);
  assert.equal(p.fcntl(b.fd, 3), O_RDWR);
  p.close(a.fd);
  assert.equal(p.dup(b.fd), 1, 'the lowest free fd');
  const child = p.fork();
  assert.equal(child.openFdCount(), 3);
  child.exec();
  assert.deepEqual(child.openFds(), [1, 2], 'CLOEXEC fds are closed by exec');
  child.exit();
  assert.equal(k.dmaBuf.list.size, 1);
});

test('SCM_RIGHTS-style passing: both processes see the same memory', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const q = k.spawn();
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  const { fd } = alloc(p, h, 8192);
  const qfd = p.sendFd(fd, q);
  assert.equal(qfd, 0);
  const mp = p.mmap(0, 8192, 3, 1, fd, 0);
  const mq = q.mmap(0, 4096, 3, 1, qfd, 4096);
  assert.equal(p.store(mp + 4096 + 7, Uint8Array.of(42)), null);
  assert.deepEqual(q.load(mq + 7, 1), Uint8Array.of(42));
  assert.equal(k.readFile(q, `/proc/self/fdinfo/${qfd}`), 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t1\nsize:\t8192\ncount:\t4\nexp_name:\tsystem\n');
});

test('touching unmapped memory kills the process (SIGSEGV), no page past a mapping is SIGBUS-free', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  const { fd } = alloc(p, h, 4096);
  const m = p.mmap(0, 4096, 1, 1, fd, 0);
  assert.equal(p.store(m, Uint8Array.of(1)), 'SIGSEGV', 'write to a read-only mapping');
  assert.equal(p.alive, false);
  assert.equal(p.killedBy, 'SIGSEGV');
  assert.equal(k.dmaBuf.list.size, 0, 'exit released the buffer');
});

test('heap node permissions: 0600 root by default, EACCES for others, changeable as udev would', () => {
  const k = new Kernel({ profile: '6.1' });
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [44] });
  assert.equal(user.open('/dev/dma_heap/system', O_RDWR), -Errno.EACCES);
  assert.equal(k.setDevNode('system', { mode: 0o660, gid: 44 }), 0);
  assert.equal(user.open('/dev/dma_heap/system', O_RDWR), 0);
  assert.equal(k.setDevNode('nope', { mode: 0o666 }), -Errno.ENOENT);
  assert.equal(user.open('/sys/kernel/debug/dma_buf/bufinfo', 0), -Errno.EACCES);
});

test('sysfs stats exist up to 6.19 and not in 7.0; mem_accounting only in 7.0', () => {
  for (const [profile, stats] of [['6.1', true], ['6.19', true], ['7.0', false]] as const) {
    const k = new Kernel({ profile });
    const p = k.spawn();
    const h = p.open('/dev/dma_heap/system', O_RDWR);
    const { fd } = alloc(p, h, 4096);
    const ino = Number(/ino:\t(\d+)/.exec(k.readFile(p, `/proc/self/fdinfo/${fd}`) as string)![1]);
    assert.equal(k.readFile(p, `/sys/kernel/dmabuf/buffers/${ino}/exporter_name`), stats ? 'system\n' : -Errno.ENOENT, profile);
    assert.equal(k.readFile(p, '/sys/module/dma_heap/parameters/mem_accounting'), profile === '7.0' ? 'N\n' : -Errno.ENOENT);
    p.close(fd);
    assert.equal(k.readFile(p, `/sys/kernel/dmabuf/buffers/${ino}/size`), -Errno.ENOENT);
  }
  const k = new Kernel({ cmdline: 'dma_heap.mem_accounting=1' });
  assert.equal(k.readFile(k.init, '/sys/module/dma_heap/parameters/mem_accounting'), 'Y\n');
  assert.equal(k.init.open('/sys/module/dma_heap/parameters/mem_accounting', O_RDWR), -Errno.EACCES);
});

test('kernels are independent: inode numbers start at 1 in each', () => {
  const a = new Kernel({ profile: '6.1' });
  const b = new Kernel({ profile: '6.1' });
  for (const k of [a, b]) {
    const p = k.spawn();
    const { fd } = alloc(p, p.open('/dev/dma_heap/system', O_RDWR), 4096);
    assert.match(k.readFile(p, `/proc/self/fdinfo/${fd}`) as string, /\nino:\t1\n/);
  }
});

test('bad kernel configs get clear errors', () => {
  assert.throws(() => new Kernel({ profile: '5.4' as '6.1' }), /unknown kernel profile '5.4' \(known: 5.10, 5.15, 6.1, 6.6, 6.12, 6.17, 6.18, 6.19, 7.0, 7.3\)/);
  assert.throws(() => new Kernel({ pageSize: 16384 }), /page size 16384 is not supported on x86_64 \(use 4096\)/);
  assert.throws(() => new Kernel({ ramBytes: 1000 }), /RAM size 1000 must be a whole number of pages and at least 64 MiB/);
  assert.throws(() => new Kernel({ heaps: ['ion' as 'system'] }), /unknown heap module 'ion'/);
  const k = new Kernel({ arch: 'arm64', pageSize: 65536, profile: '6.1', cmdline: 'cma=1G' });
  assert.equal(k.pageSize, 65536);
});

test('fork copies the whole fd table after RLIMIT_NOFILE was lowered below an open fd, and every page comes back (oracle)', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const free = k.buddy.freePages;
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  const { fd } = alloc(p, h, 1 << 20);
  assert.equal(p.dup3(fd, 100), 100);
  assert.equal(p.close(fd), 0);
  assert.equal(p.setNofile(10, 10), 0);
  const child = p.fork();
  assert.deepEqual(child.openFds(), [h, 100]);
  // what the oracle's child did with fd 100 and RLIMIT_NOFILE 10
  assert.equal(child.fcntl(100, 1 /* F_GETFD */), 0);
  assert.equal(child.dup(100), 1, 'the lowest free fd');
  assert.equal(child.dup3(100, 50), -Errno.EBADF, 'at or above the limit');
  assert.equal(child.fcntl(100, 0 /* F_DUPFD */, 5), 5);
  assert.equal(child.close(100), 0);
  assert.equal(child.close(100), -Errno.EBADF);
  child.exit();
  p.exit();
  assert.equal(k.dmaBuf.list.size, 0);
  assert.equal(k.buddy.freePages, free, 'the 1 MiB buffer was freed');
});

test('sending an fd to a process that exited is EPIPE before anything is installed (unix_stream_sendmsg); the buffer goes with its last fd', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const q = k.spawn();
  const free = k.buddy.freePages;
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  const { fd } = alloc(p, h, 1 << 20);
  q.exit();
  assert.equal(p.sendFd(fd, q), -Errno.EPIPE);
  assert.equal(q.openFdCount(), 0);
  assert.equal(p.sendFd(99, q), -Errno.EBADF, 'the fd is looked up first');
  const r = k.spawn();
  assert.equal(r.setNofile(0, 0), 0);
  assert.equal(p.sendFd(fd, r), -Errno.EMFILE, 'a full table: nothing installed');
  p.close(fd);
  assert.equal(k.dmaBuf.list.size, 0);
  // the ioctl's argument took one anonymous page of p's memory, which p still maps
  assert.equal(k.buddy.freePages + k.anonPages, free);
  // an exited process makes no new state either: no mapping, no file
  assert.equal(q.mmap(0, 4096, 3, 0x22, -1, 0), -Errno.ESRCH);
  assert.equal(q.open('/proc/meminfo', 0), -Errno.ESRCH);
  assert.equal(q.mm.vmas.length, 0);
});

test('the fd table is sparse: at fs.nr_open an fd of 1048575 costs one entry; above nr_open setrlimit is EPERM', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const m = p.memfdCreate('x', 0);
  assert.equal(p.setNofile(1048577, 1048577), -Errno.EPERM);
  assert.equal(p.setNofile(1048576, 1048576), 0);
  assert.equal(p.dup3(m, 1048575), 1048575);
  assert.equal(p.dup3(m, 1048576), -Errno.EBADF);
  assert.deepEqual(p.openFds(), [0, 1048575]);
  assert.deepEqual(k.readdir(`/proc/${p.pid}/fd`, p), ['0', '1048575']);
  assert.equal(p.dup(m), 1, 'the lowest free fd');
  const child = p.fork();
  assert.deepEqual(child.openFds(), [0, 1, 1048575]);
  child.exec();
  assert.deepEqual(child.openFds(), [0, 1, 1048575], 'no FD_CLOEXEC: exec keeps them');
  child.exit();
  assert.equal(child.openFdCount(), 0);
});

test('FdTable: the lowest free fd, as a linear scan finds it, across full words and after closes, and FD_CLOEXEC (random sequence, seeded)', () => {
  const t = new FdTable();
  const open = new Set<number>();
  const cloexec = new Set<number>();
  const naive = (start: number): number => {
    let fd = start;
    while (open.has(fd)) fd++;
    return fd;
  };
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const file = { get: () => file } as unknown as File;
  for (let i = 0; i < 20000; i++) {
    const op = rnd(10);
    if (op < 6) {
      // install at the lowest free fd at or above a start that is mostly low, sometimes far
      const start = op === 0 ? rnd(5000) : rnd(64);
      const fd = t.lowestFree(start);
      assert.equal(fd, naive(start), `step ${i}: lowestFree(${start})`);
      const ce = rnd(2) === 1;
      t.set(fd, file, ce);
      open.add(fd);
      if (ce) cloexec.add(fd);
    } else if (open.size > 0) {
      const all = [...open];
      const fd = all[rnd(all.length)]!;
      assert.equal(t.isCloexec(fd), cloexec.has(fd), `step ${i}: FD_CLOEXEC of ${fd}`);
      assert.equal(t.delete(fd), file);
      open.delete(fd);
      cloexec.delete(fd);
      assert.equal(t.isCloexec(fd), false);
    }
  }
  assert.deepEqual(t.fds(), [...open].sort((a, b) => a - b));
  assert.equal(t.size, open.size);
  const copy = t.clone();
  assert.deepEqual(copy.fds().filter((fd) => copy.isCloexec(fd)), [...cloexec].sort((a, b) => a - b), 'dup_fd keeps FD_CLOEXEC');
  // 4096 fds in a row: the search steps over 128 full words
  const dense = new FdTable();
  for (let fd = 0; fd < 4096; fd++) dense.set(fd, file, false);
  assert.equal(dense.lowestFree(0), 4096);
  dense.delete(3000);
  assert.equal(dense.lowestFree(0), 3000);
  assert.equal(dense.lowestFree(3001), 4096);
  assert.equal(dense.clone().lowestFree(100), 3000);
});
