// pidfd_open(2) (kernel/pid.c) and the proposed charge_pid_fd (2026 RFC, KernelFeatures.chargePidFd):
// a 32-byte dma_heap_allocation_data whose charge_pid_fd (offset 24) names the process whose memcg
// is charged PAGE_ALIGN(size)/PAGE_SIZE pages at allocation; the system heap stops using
// __GFP_ACCOUNT; without the flag the extra bytes are only echoed. Exact values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelConfig } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { Errno } from '../../src/uapi/errno.js';
import { F_GETFD, F_GETFL, FD_CLOEXEC, O_EXCL, O_NONBLOCK, POLLIN } from '../../src/uapi/fcntl.js';
import { writeText as write } from './kernel-helpers.js';

const K = 1024;
const M = 1024 * 1024;
const O_RDONLY = 0;
const O_RDWR = 2;
const O_CLOEXEC = 0o2000000;
const CG = '/sys/fs/cgroup';
/** _IOWR('H', 0, 32): DMA_HEAP_IOCTL_ALLOC with the RFC's struct. */
const ALLOC_32 = 0xc0204800;
const ALLOC_24 = 0xc0184800;
const ALLOC_48 = 0xc0304800;


function current(k: Kernel, cg: string): number {
  const t = k.readFile(k.init, `${CG}/${cg}/memory.current`);
  assert.equal(typeof t, 'string');
  return Number(t);
}

const args = new WeakMap<Process, number>();
/** One page of argument memory per process, faulted in (and charged to its memcg) on first use. */
function argOf(p: Process): number {
  let a = args.get(p);
  if (a === undefined) {
    a = p.userAlloc(4096);
    assert.equal(p.fill(a, 4096, 0), null);
    args.set(p, a);
  }
  return a;
}

/**
 * DMA_HEAP_IOCTL_ALLOC with a struct of `size` bytes: len, fd 0, fd_flags O_RDWR, heap_flags 0,
 * charge_pid_fd at 24 (when the struct has room), then `tail` bytes. Returns the ioctl result,
 * the fd written back and the bytes after the call.
 */
function heapAlloc(p: Process, heap: string, len: number, opts: { pidfd?: number; size?: number; cmd?: number; fdFlags?: number; tail?: number[] } = {}): { ret: number; fd: number; out: Uint8Array } {
  const size = opts.size ?? 32;
  const h = p.open(`/dev/dma_heap/${heap}`, O_RDONLY);
  assert.ok(h >= 0);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint32(12, opts.fdFlags ?? O_RDWR, true);
  if (size >= 28) dv.setUint32(24, (opts.pidfd ?? 0) >>> 0, true);
  (opts.tail ?? []).forEach((v, i) => dv.setUint32(28 + i * 4, v >>> 0, true));
  const arg = argOf(p);
  p.mm.copyToUser(arg, b);
  const ret = p.ioctl(h, opts.cmd ?? (size === 32 ? ALLOC_32 : size === 24 ? ALLOC_24 : ALLOC_48), arg);
  const out = p.mm.copyFromUser(arg, size)!;
  p.close(h);
  return { ret, fd: new DataView(out.buffer, out.byteOffset).getUint32(8, true), out };
}

/** 7.0 with the RFC applied: `server` (the allocator) and `client` each in their own memory cgroup. */
function setup(config: Partial<KernelConfig> = {}): { k: Kernel; server: Process; client: Process; charged: (cg: 'server' | 'client') => number } {
  const k = new Kernel({ profile: '7.0', cmdline: 'cma=64M dma_heap.mem_accounting=1', features: { chargePidFd: true }, ...config });
  const admin = k.spawn();
  const server = k.spawn({ uid: 0, gid: 0, groups: [] }, 'allocator');
  const client = k.spawn({ uid: 1000, gid: 1000, groups: [] }, 'client');
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+memory'), 7);
  for (const [name, p] of [['server', server], ['client', client]] as const) {
    assert.equal(admin.mkdir(`${CG}/${name}`, 0o755), 0);
    assert.equal(write(admin, `${CG}/${name}/cgroup.procs`, String(p.pid)), String(p.pid).length);
    // fd 0 is taken (stdin, as in a real process): a pidfd numbered 0 would read as "the caller"
    assert.equal(p.open('/proc/meminfo', O_RDONLY), 0);
    argOf(p);
  }
  const base = new Map([['server', current(k, 'server')], ['client', current(k, 'client')]]);
  return { k, server, client, charged: (cg) => current(k, cg) - base.get(cg)! };
}

test('pidfd_open: flags, pid checks, the close-on-exec pidfs fd, its link and fdinfo', () => {
  const k = new Kernel({ profile: '7.0' });
  const p = k.spawn();
  const q = k.spawn({ uid: 1000, gid: 1000, groups: [] }, 'target');
  assert.equal(p.pidfdOpen(q.pid, O_CLOEXEC), -Errno.EINVAL, 'only PIDFD_NONBLOCK and PIDFD_THREAD');
  assert.equal(p.pidfdOpen(q.pid, 1), -Errno.EINVAL);
  assert.equal(p.pidfdOpen(0, 0), -Errno.EINVAL);
  assert.equal(p.pidfdOpen(-1, 0), -Errno.EINVAL);
  assert.equal(p.pidfdOpen(4242, 0), -Errno.ESRCH);
  const fd = p.pidfdOpen(q.pid, 0);
  assert.equal(fd, 0);
  assert.equal(p.fcntl(fd, F_GETFD), FD_CLOEXEC);
  assert.equal(p.fcntl(fd, F_GETFL), O_RDWR);
  assert.equal(k.readlinkPath(p, `/proc/self/fd/${fd}`), 'anon_inode:[pidfd]');
  const info = k.readFile(p, `/proc/self/fdinfo/${fd}`);
  assert.equal(info, `pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t${0x300000 + q.pid}\nPid:\t${q.pid}\nNSpid:\t${q.pid}\n`);
  const nb = p.pidfdOpen(q.pid, O_NONBLOCK | O_EXCL);
  assert.equal(nb, 1);
  assert.match(k.readFile(p, `/proc/self/fdinfo/${nb}`) as string, /^pos:\t0\nflags:\t02004202\n/);
  assert.equal(p.file(nb)!.inode.ino, p.file(fd)!.inode.ino, 'one pidfs inode per process');
  // the process exits: the pidfd stays open, polls readable and shows Pid -1; a new pidfd_open is ESRCH
  assert.equal(p.file(fd)!.fop.poll!(p.file(fd)!, POLLIN), 0);
  q.exit();
  assert.equal(p.file(fd)!.fop.poll!(p.file(fd)!, POLLIN), POLLIN);
  assert.match(k.readFile(p, `/proc/self/fdinfo/${fd}`) as string, /Pid:\t-1\nNSpid:\t-1\n$/);
  assert.equal(p.pidfdOpen(q.pid, 0), -Errno.ESRCH);
  // PIDFD_THREAD arrived in 6.9
  const old = new Kernel({ profile: '6.6' });
  const o = old.spawn();
  assert.equal(o.pidfdOpen(o.pid, O_EXCL), -Errno.EINVAL);
  assert.equal(o.pidfdOpen(o.pid, O_NONBLOCK), 0);
});

test('charge_pid_fd: the buffer is charged to the pidfd\'s process memcg, not the allocator\'s; uncharged at release', () => {
  const { k, server, client, charged } = setup();
  const pidfd = server.pidfdOpen(client.pid, 0);
  assert.ok(pidfd >= 0);
  const r = heapAlloc(server, 'system', 1 * M + 1, { pidfd });
  assert.equal(r.ret, 0);
  assert.equal(charged('client'), 1 * M + 4 * K, 'PAGE_ALIGN(size) / PAGE_SIZE pages');
  assert.equal(charged('server'), 0, 'and no __GFP_ACCOUNT page charge to the allocator');
  // the bytes are copied back as they were, with the fd
  assert.equal(new DataView(r.out.buffer, r.out.byteOffset).getUint32(24, true), pidfd);
  // any heap: the charge is made by the heap core
  const c = heapAlloc(server, 'default_cma_region', 2 * M, { pidfd });
  assert.equal(c.ret, 0);
  assert.equal(charged('client'), 3 * M + 4 * K);
  // passing the fd on does not move the charge; the last reference uncharges
  assert.ok(server.sendFd(r.fd, client) >= 0);
  assert.equal(server.close(r.fd), 0);
  assert.equal(charged('client'), 3 * M + 4 * K);
  client.exit();
  // (its own anonymous page went with it: memory.current is the CMA buffer alone)
  assert.equal(current(k, 'client'), 2 * M, 'the charge outlives the process; the CMA buffer is still open in the server');
  assert.equal(server.close(c.fd), 0);
  assert.equal(current(k, 'client'), 0);
});

test('charge_pid_fd 0: the caller with mem_accounting, nothing without; a 24-byte struct reads it as 0', () => {
  const { server, charged } = setup();
  assert.equal(heapAlloc(server, 'system', 1 * M).ret, 0);
  assert.equal(charged('server'), 1 * M, 'charged once (MEMCG_DMABUF), not twice');
  assert.equal(heapAlloc(server, 'system', 1 * M, { size: 24 }).ret, 0);
  assert.equal(charged('server'), 2 * M);
  const off = setup({ cmdline: 'cma=64M' });
  assert.equal(heapAlloc(off.server, 'system', 1 * M).ret, 0);
  assert.equal(off.charged('server'), 0);
  // a pidfd charges even without mem_accounting
  const pidfd = off.server.pidfdOpen(off.client.pid, 0);
  assert.equal(heapAlloc(off.server, 'system', 1 * M, { pidfd }).ret, 0);
  assert.equal(off.charged('client'), 1 * M);
  // PIDFD_SELF_THREAD (v6.15) is the caller
  assert.equal(heapAlloc(off.server, 'system', 1 * M, { pidfd: -10000 }).ret, 0);
  assert.equal(off.charged('server'), 1 * M);
});

test('charge_pid_fd refusals: EBADF for no fd or a file that is not a pidfd, ESRCH for an exited process; checked after the flags, before the length', () => {
  const { k, server, client } = setup();
  const before = server.openFdCount();
  const notPidfd = server.open('/dev/dma_heap/system', O_RDONLY); // the selftest probes with /dev/null
  assert.equal(heapAlloc(server, 'system', 4 * K, { pidfd: notPidfd }).ret, -Errno.EBADF);
  assert.equal(heapAlloc(server, 'system', 4 * K, { pidfd: 77 }).ret, -Errno.EBADF);
  assert.equal(heapAlloc(server, 'system', 4 * K, { pidfd: -1 }).ret, -Errno.EBADF);
  const pidfd = server.pidfdOpen(client.pid, 0);
  assert.equal(heapAlloc(server, 'system', 0, { pidfd: 77 }).ret, -Errno.EBADF, 'before PAGE_ALIGN(len) == 0');
  assert.equal(heapAlloc(server, 'system', 4 * K, { pidfd: 77, fdFlags: O_RDWR | O_NONBLOCK }).ret, -Errno.EINVAL, 'after the fd_flags check');
  assert.equal(heapAlloc(server, 'system', 0, { pidfd }).ret, -Errno.EINVAL);
  // the 48-byte compat struct of the mainline selftest has 0xffffffff at offset 24
  assert.equal(heapAlloc(server, 'system', 4 * K, { size: 48, tail: [0x88888888, 0x11111111], pidfd: 0xffffffff }).ret, -Errno.EBADF);
  // __padding is not checked
  assert.equal(heapAlloc(server, 'system', 4 * K, { pidfd, tail: [0xdeadbeef] }).ret, 0);
  client.exit();
  assert.equal(heapAlloc(server, 'system', 4 * K, { pidfd }).ret, -Errno.ESRCH);
  assert.equal(server.openFdCount(), before + 3, 'the heap fd, the pidfd and the one buffer');
  assert.equal(current(k, 'client'), 4 * K, 'the padding test\'s buffer, still open in the server');
});

test('charge_pid_fd at the target\'s memory.max: ENOMEM, the buffer is released', () => {
  const { k, server, client, charged } = setup();
  const admin = k.init;
  // 1 MiB for buffers on top of the client's own (argument) page
  assert.equal(write(admin, `${CG}/client/memory.max`, String(1 * M + 4 * K)), 7);
  const pidfd = server.pidfdOpen(client.pid, 0);
  const fds = server.openFdCount();
  const cmaUsed = k.defaultCma!.used;
  assert.equal(heapAlloc(server, 'default_cma_region', 2 * M, { pidfd }).ret, -Errno.ENOMEM);
  assert.equal(server.openFdCount(), fds);
  assert.equal(k.defaultCma!.used, cmaUsed);
  assert.equal(heapAlloc(server, 'default_cma_region', 1 * M, { pidfd }).ret, 0);
  assert.equal(charged('client'), 1 * M);
  assert.equal(heapAlloc(server, 'system', 4 * K, { pidfd }).ret, -Errno.ENOMEM);
});

test('without the flag the struct is 24 bytes: the tail is echoed, the allocator is charged as in 7.0', () => {
  const k = new Kernel({ profile: '7.0', cmdline: 'dma_heap.mem_accounting=1' });
  const p = k.spawn();
  const r = heapAlloc(p, 'system', 4 * K, { size: 48, pidfd: 0xffffffff, tail: [0x88888888, 0x11111111] });
  assert.equal(r.ret, 0);
  const dv = new DataView(r.out.buffer, r.out.byteOffset);
  assert.deepEqual([dv.getUint32(24, true), dv.getUint32(28, true), dv.getUint32(32, true)], [0xffffffff, 0x88888888, 0x11111111]);
  assert.equal(heapAlloc(p, 'system', 4 * K, { pidfd: 77 }).ret, 0, 'no pidfd lookup');
});
