// Every syscall entry of Process and of the emulated SyscallTarget, called with numbers no C
// caller could pass (fractions, NaN, Infinity, integers wider than the C type) and with the odd
// values a C caller can pass (negative sizes, huge counts and lengths). Each call returns an
// integer: a result or the exact negated errno, never an exception and never a fraction; and
// every page it took comes back when the process exits. The C-valid cases are the oracle's
// (6.1.192; 6.12 agrees, 7.3 where it says so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { Errno } from '../../src/uapi/errno.js';
import {
  F_ADD_SEALS, F_DUPFD, F_GETFD, F_SEAL_SHRINK, F_SETFD, F_SETFL, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MFD_ALLOW_SEALING,
  O_RDONLY, POLLIN, PROT_READ, PROT_WRITE, SEEK_CUR, SEEK_DATA, SEEK_HOLE, SEEK_SET,
} from '../../src/uapi/fcntl.js';
import { createEmulatedTarget, READ_BUFFER_MAX } from '../../src/backends/emulated/target.js';
import { checkNotCNumbers } from './target-args.js';

const E = Errno;
const FIONBIO = 0x5421;

/** Numbers that are no integer at all. */
const NON_INTEGERS = [NaN, Infinity, -Infinity, 0.5, -0.5, 1.5, 4096.5, 1e-9];
/** Integers no C int or unsigned int holds. */
const WIDE_INTS = [2 ** 32, -(2 ** 31) - 1, 2 ** 40, 2 ** 53];
/** Integers no 64-bit argument holds. */
const WIDE_LONGS = [2 ** 64, 2 ** 70, -(2 ** 64)];
/** Integers that are no open fd (and that no int fd can be, for the wide ones). */
const NO_FD = [-1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 1e6];

/** What an argument is in C, and so the errno of a number it cannot be. */
type Kind = 'fd' | 'ptr' | 'int' | 'long';
const REFUSED: Record<Kind, { errno: number; values: number[] }> = {
  fd: { errno: E.EBADF, values: [...NON_INTEGERS, ...NO_FD, ...WIDE_LONGS] },
  ptr: { errno: E.EFAULT, values: [...NON_INTEGERS, ...WIDE_LONGS] },
  int: { errno: E.EINVAL, values: [...NON_INTEGERS, ...WIDE_INTS, ...WIDE_LONGS] },
  long: { errno: E.EINVAL, values: [...NON_INTEGERS, ...WIDE_LONGS] },
};

/** A process with a memfd of 8 KiB (m), an 8 KiB user buffer (b) holding a pollfd for m, and a second process (q). */
interface Ctx {
  readonly p: Process;
  readonly q: Process;
  readonly m: number;
  readonly b: number;
}

interface Entry {
  readonly name: string;
  /** The numeric arguments of a call that works. */
  readonly valid: (c: Ctx) => number[];
  readonly kinds: readonly Kind[];
  readonly call: (c: Ctx, a: number[]) => number;
}

const ENTRIES: readonly Entry[] = [
  { name: 'open(path, flags, mode)', valid: () => [O_RDONLY, 0], kinds: ['int', 'int'], call: (c, [f, m]) => c.p.open('/proc/meminfo', f!, m) },
  { name: 'close(fd)', valid: (c) => [c.m], kinds: ['fd'], call: (c, [fd]) => c.p.close(fd!) },
  { name: 'dup(fd)', valid: (c) => [c.m], kinds: ['fd'], call: (c, [fd]) => c.p.dup(fd!) },
  { name: 'dup3(oldfd, newfd, flags)', valid: (c) => [c.m, 50, 0], kinds: ['fd', 'fd', 'int'], call: (c, [o, n, f]) => c.p.dup3(o!, n!, f) },
  { name: 'fcntl(fd, F_DUPFD, arg)', valid: (c) => [c.m, F_DUPFD, 10], kinds: ['fd', 'int', 'long'], call: (c, [fd, cmd, arg]) => c.p.fcntl(fd!, cmd!, arg) },
  { name: 'fcntl(fd, F_SETFD, arg)', valid: (c) => [c.m, 1], kinds: ['fd', 'long'], call: (c, [fd, arg]) => c.p.fcntl(fd!, F_SETFD, arg) },
  { name: 'fcntl(fd, F_SETFL, arg)', valid: (c) => [c.m, 0], kinds: ['fd', 'long'], call: (c, [fd, arg]) => c.p.fcntl(fd!, F_SETFL, arg) },
  { name: 'fcntl(fd, F_ADD_SEALS, arg)', valid: (c) => [c.m, F_SEAL_SHRINK], kinds: ['fd', 'long'], call: (c, [fd, arg]) => c.p.fcntl(fd!, F_ADD_SEALS, arg) },
  { name: 'ioctl(fd, cmd, arg)', valid: (c) => [c.m, FIONBIO, c.b], kinds: ['fd', 'int', 'ptr'], call: (c, [fd, cmd, arg]) => c.p.ioctl(fd!, cmd!, arg!) },
  {
    name: 'mmap(addr, length, prot, flags, fd, offset)', valid: (c) => [0, 4096, PROT_READ, MAP_SHARED, c.m, 0],
    kinds: ['long', 'long', 'int', 'int', 'fd', 'long'], call: (c, [a, l, pr, f, fd, o]) => c.p.mmap(a!, l!, pr!, f!, fd!, o!),
  },
  { name: 'munmap(addr, length)', valid: (c) => [c.b, 4096], kinds: ['long', 'long'], call: (c, [a, l]) => c.p.munmap(a!, l!) },
  { name: 'read(fd, buf, count)', valid: (c) => [c.m, c.b, 16], kinds: ['fd', 'ptr', 'long'], call: (c, [fd, b, n]) => c.p.read(fd!, b!, n!) },
  { name: 'write(fd, buf, count)', valid: (c) => [c.m, c.b, 16], kinds: ['fd', 'ptr', 'long'], call: (c, [fd, b, n]) => c.p.write(fd!, b!, n!) },
  { name: 'lseek(fd, offset, whence)', valid: (c) => [c.m, 0, SEEK_SET], kinds: ['fd', 'long', 'int'], call: (c, [fd, o, w]) => c.p.lseek(fd!, o!, w!) },
  { name: 'fstat(fd, buf)', valid: (c) => [c.m, c.b], kinds: ['fd', 'ptr'], call: (c, [fd, b]) => c.p.fstat(fd!, b!) },
  { name: 'poll(fds, nfds, timeout)', valid: (c) => [c.b, 1, 0], kinds: ['ptr', 'long', 'int'], call: (c, [b, n, t]) => c.p.poll(b!, n!, t!) },
  { name: 'readlink(path, buf, size)', valid: (c) => [c.b, 64], kinds: ['ptr', 'int'], call: (c, [b, n]) => c.p.readlink(`/proc/self/fd/${c.m}`, b!, n!) },
  { name: 'setrlimit(RLIMIT_NOFILE)', valid: () => [64, 4096], kinds: ['long', 'long'], call: (c, [cur, max]) => c.p.setNofile(cur!, max!) },
  { name: 'memfd_create(name, flags)', valid: () => [0], kinds: ['int'], call: (c, [f]) => c.p.memfdCreate('t', f!) },
  { name: 'ftruncate(fd, length)', valid: (c) => [c.m, 4096], kinds: ['fd', 'long'], call: (c, [fd, l]) => c.p.ftruncate(fd!, l!) },
  { name: 'pidfd_open(pid, flags)', valid: (c) => [c.q.pid, 0], kinds: ['int', 'int'], call: (c, [pid, f]) => c.p.pidfdOpen(pid!, f!) },
  { name: 'mkdir(path, mode)', valid: () => [0o755], kinds: ['int'], call: (c, [mode]) => c.p.mkdir('/sys/fs/cgroup/t', mode!) },
  { name: 'SCM_RIGHTS send(fd)', valid: (c) => [c.m], kinds: ['fd'], call: (c, [fd]) => c.p.sendFd(fd!, c.q) },
];

function setup(k: Kernel): Ctx {
  const p = k.spawn();
  const q = k.spawn();
  const m = p.memfdCreate('args', MFD_ALLOW_SEALING);
  const b = p.userAlloc(8192);
  const data = new Uint8Array(8192).fill(7);
  new DataView(data.buffer).setInt32(0, m, true);
  new DataView(data.buffer).setInt16(4, POLLIN, true);
  assert.equal(p.mm.copyToUser(b, data), true);
  assert.equal(p.write(m, b, 8192), 8192);
  assert.equal(p.lseek(m, 0, SEEK_SET), 0);
  return { p, q, m, b };
}

test('every Process syscall refuses a number its C argument cannot be: EBADF for an fd, EFAULT for a pointer, EINVAL otherwise', () => {
  const k = new Kernel({ profile: '6.1', cmdline: 'cma=64M' });
  const free0 = k.buddy.freePages;
  let calls = 0;
  for (const e of ENTRIES) {
    // the valid call works
    const ok = setup(k);
    const r = e.call(ok, e.valid(ok));
    assert.ok(Number.isInteger(r) && r >= 0, `${e.name} with valid arguments: ${r}`);
    ok.p.exit();
    ok.q.exit();
    e.kinds.forEach((kind, i) => {
      for (const v of REFUSED[kind].values) {
        const c = setup(k);
        const args = e.valid(c);
        args[i] = v;
        const fds = c.p.openFdCount();
        const got = e.call(c, args);
        assert.equal(got, -REFUSED[kind].errno, `${e.name}: argument ${i + 1} (${kind}) = ${v}`);
        assert.equal(c.p.openFdCount(), fds, `${e.name}: argument ${i + 1} = ${v} installed nothing`);
        c.p.exit();
        c.q.exit();
        calls++;
      }
    });
  }
  assert.equal(k.buddy.freePages, free0, 'every memfd page came back');
  assert.equal(k.processes.size, 1, 'only init is left');
  assert.ok(calls > 500, `${calls} refused calls`);
});

test('C-valid edge values get Linux\'s errno (oracle 6.1, 6.12)', () => {
  const k = new Kernel({ profile: '6.1', cmdline: 'cma=64M' });
  const c = setup(k);
  const { p, m, b } = c;
  const rows: [string, () => number, number][] = [
    // sizes are size_t: a negative one is huge, and access_ok() fails before anything else
    ['read(m, b, -1)', () => p.read(m, b, -1), -E.EFAULT],
    ['write(m, b, -1)', () => p.write(m, b, -1), -E.EFAULT],
    ['read(m, b, 2^47)', () => p.read(m, b, 2 ** 47), -E.EFAULT],
    ['write(m, b, 2^47)', () => p.write(m, b, 2 ** 47), -E.EFAULT],
    ['write(m, NULL, 10)', () => p.write(m, 0, 10), -E.EFAULT],
    ['write(m, NULL, 0)', () => p.write(m, 0, 0), 0],
    ['mmap length -1', () => p.mmap(0, -1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -E.ENOMEM],
    ['mmap length -4096', () => p.mmap(0, -4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -E.ENOMEM],
    ['mmap length 2^47', () => p.mmap(0, 2 ** 47, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -E.ENOMEM],
    ['mmap length 0', () => p.mmap(0, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -E.EINVAL],
    ['mmap 2^40 private writable', () => p.mmap(0, 2 ** 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -E.ENOMEM],
    ['MAP_FIXED ending past TASK_SIZE', () => p.mmap(2 ** 47 - 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), -E.ENOMEM],
    ['MAP_FIXED at -4096', () => p.mmap(-4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), -E.ENOMEM],
    ['MAP_FIXED misaligned past TASK_SIZE', () => p.mmap(2 ** 47 + 1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), -E.ENOMEM],
    ['MAP_FIXED misaligned', () => p.mmap(0x100001, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), -E.EINVAL],
    // below mmap_min_addr needs CAP_SYS_RAWIO, which root has (test/conformance/oracle/mm: 'fixed 0 root: 0'; a user's EPERM is in kernel-mm.test.ts)
    ['MAP_FIXED at 0 as root', () => p.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), 0],
    ['munmap past TASK_SIZE', () => p.munmap(2 ** 47 - 4096, 4096), -E.EINVAL],
    ['munmap 0, 2^47', () => p.munmap(0, 2 ** 47), -E.EINVAL],
    ['munmap -4096', () => p.munmap(-4096, 4096), -E.EINVAL],
    ['munmap length -1', () => p.munmap(0x100000, -1), -E.EINVAL],
    ['munmap length 0', () => p.munmap(0x100000, 0), -E.EINVAL],
    ['munmap misaligned', () => p.munmap(0x100001, 4096), -E.EINVAL],
    // rlimits are rlim_t: -1 is RLIM_INFINITY, above fs.nr_open
    ['setrlimit(-1, -1)', () => p.setNofile(-1, -1), -E.EPERM],
    ['setrlimit(10, -1)', () => p.setNofile(10, -1), -E.EPERM],
    ['setrlimit(nr_open + 1)', () => p.setNofile(1048577, 1048577), -E.EPERM],
    ['setrlimit(5, 4)', () => p.setNofile(5, 4), -E.EINVAL],
    // fds past RLIMIT_NOFILE
    ['dup3(m, 2^31 - 1)', () => p.dup3(m, 2 ** 31 - 1), -E.EBADF],
    ['F_DUPFD from -1', () => p.fcntl(m, F_DUPFD, -1), -E.EINVAL],
    ['F_DUPFD from 1048576', () => p.fcntl(m, F_DUPFD, 1048576), -E.EINVAL],
    ['F_DUPFD from 2^32 + 5 (its low 32 bits)', () => p.fcntl(m, F_DUPFD, 2 ** 32 + 5), 5],
    ['poll nfds -1', () => p.poll(b, -1, 0), -E.EINVAL],
    ['poll nfds past RLIMIT_NOFILE', () => p.poll(b, 1025, 0), -E.EINVAL],
    ['readlink size 0', () => p.readlink(`/proc/self/fd/${m}`, b, 0), -E.EINVAL],
    ['readlink size -1', () => p.readlink(`/proc/self/fd/${m}`, b, -1), -E.EINVAL],
    ['lseek whence 5', () => p.lseek(m, 0, 5), -E.EINVAL],
    ['lseek whence -1', () => p.lseek(m, 0, -1), -E.EINVAL],
    ['lseek -1 SEEK_SET', () => p.lseek(m, -1, SEEK_SET), -E.EINVAL],
    ['SEEK_DATA -1', () => p.lseek(m, -1, SEEK_DATA), -E.ENXIO],
    ['SEEK_HOLE -1', () => p.lseek(m, -1, SEEK_HOLE), -E.ENXIO],
    ['ftruncate -1', () => p.ftruncate(m, -1), -E.EINVAL],
    ['ftruncate 2^63', () => p.ftruncate(m, 2 ** 63), -E.EINVAL],
    ['pidfd_open(2^31)', () => p.pidfdOpen(2 ** 31, 0), -E.EINVAL],
  ];
  for (const [name, call, want] of rows) assert.equal(call(), want, name);
  p.exit();
  c.q.exit();
});

test('the emulated SyscallTarget: bad numbers come back as errno names, never as exceptions or huge allocations', () => {
  const t = createEmulatedTarget({ profile: '6.1' });
  checkNotCNumbers(t, { devices: true });
  const m = t.memfdCreate('t', 0).ret;
  assert.equal(t.ftruncate(m, 8192).ret, 0);
  const map = t.mmap(4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0).map!;
  // read() lends at most 1 GiB: more is EFAULT before the call, as on the Linux backend
  assert.deepEqual(t.read(m, -1), { ret: -1, errno: 'EFAULT', data: null });
  assert.deepEqual(t.read(m, READ_BUFFER_MAX + 1), { ret: -1, errno: 'EFAULT', data: null });
  assert.deepEqual(t.read(m, 2 ** 40), { ret: -1, errno: 'EFAULT', data: null });
  assert.equal(t.read(m, 16).ret, 16);
  // a load that cannot be is a fault, not an allocation
  assert.equal(t.readMem(map, 0, 2 ** 40), 'SIGSEGV');
  assert.equal(t.proc.alive, false, 'the fault killed the process, as a C load would');
  // an access at an address no pointer can be faults too, in every form
  type Access = (u: typeof t, at: typeof map) => unknown;
  const accesses: Access[] = [
    (u, at) => u.readMem(at, NaN, 4), (u, at) => u.readMemInto(at, 0.5, new Uint8Array(4)), (u, at) => u.writeMem(at, Infinity, Uint8Array.of(1)),
  ];
  for (const access of accesses) {
    const u = createEmulatedTarget({ profile: '6.1' });
    const f = u.memfdCreate('t', 0).ret;
    assert.equal(u.ftruncate(f, 4096).ret, 0);
    assert.equal(access(u, u.mmap(4096, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0).map!), 'SIGSEGV');
    assert.equal(u.proc.alive, false);
  }
});

test('a fractional fd never lands in the table: F_DUPFD 1.5 is EINVAL, and fcntl(fd, F_GETFD) of 1.5 is EBADF', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const m = p.memfdCreate('x', 0);
  assert.equal(p.fcntl(m, F_DUPFD, 1.5), -E.EINVAL);
  assert.equal(p.fcntl(1.5, F_GETFD), -E.EBADF);
  assert.deepEqual(p.openFds(), [m]);
  assert.equal(p.lseek(m, 0.5, SEEK_SET), -E.EINVAL);
  assert.equal(p.lseek(m, NaN, SEEK_CUR), -E.EINVAL);
  assert.equal(p.lseek(m, 0, SEEK_CUR), 0, 'the position stayed an integer');
});
