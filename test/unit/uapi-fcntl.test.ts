import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/uapi/fcntl.js';
import { ARCHES, constantsFor, fcntlConstants, parseFlagExpr, parseFlagExprBigInt } from '../../src/uapi/fcntl.js';
import { DMA_HEAP_VALID_FD_FLAGS, DMA_HEAP_VALID_HEAP_FLAGS, dmaHeapValidFdFlags } from '../../src/uapi/dma-heap.js';

test('x86-64 open flags (asm-generic/fcntl.h)', () => {
  const t = fcntlConstants('x86_64');
  assert.deepEqual({ ...t }, {
    O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_ACCMODE: 3, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400,
    O_TRUNC: 0o1000, O_APPEND: 0o2000, O_NONBLOCK: 0o4000, O_DSYNC: 0o10000, O_NOATIME: 0o1000000,
    O_CLOEXEC: 0o2000000, O_PATH: 0o10000000, O_SYNC: 0o4010000, O_DIRECT: 0o40000, O_LARGEFILE: 0o100000,
    O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_TMPFILE: 0o20200000,
  });
  assert.equal(t.O_CLOEXEC, 0x80000);
  assert.ok(Object.isFrozen(t));
  // The named exports are the x86-64 values.
  for (const [k, v] of Object.entries(t)) assert.equal((F as unknown as Record<string, number>)[k], v, k);
});

test('arm64 differs in O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE (and O_TMPFILE)', () => {
  const x = fcntlConstants('x86_64');
  const a = fcntlConstants('arm64');
  assert.equal(a.O_DIRECTORY, 0o40000);
  assert.equal(a.O_NOFOLLOW, 0o100000);
  assert.equal(a.O_DIRECT, 0o200000);
  assert.equal(a.O_LARGEFILE, 0o400000);
  assert.equal(a.O_TMPFILE, 0o20040000);
  const differing = Object.keys(x).filter((k) => x[k as keyof typeof x] !== a[k as keyof typeof a]).sort();
  assert.deepEqual(differing, ['O_DIRECT', 'O_DIRECTORY', 'O_LARGEFILE', 'O_NOFOLLOW', 'O_TMPFILE']);
  assert.equal(a.O_CLOEXEC, 0x80000);
  assert.deepEqual([...ARCHES], ['x86_64', 'arm64']);
  assert.throws(() => fcntlConstants('sparc' as 'arm64'), RangeError);
});

test('DMA_HEAP_VALID_FD_FLAGS', () => {
  assert.equal(DMA_HEAP_VALID_FD_FLAGS, 0x80003);
  assert.equal(dmaHeapValidFdFlags('x86_64'), 0x80003);
  assert.equal(dmaHeapValidFdFlags('arm64'), 0x80003);
  assert.equal(DMA_HEAP_VALID_HEAP_FLAGS, 0n);
});

test('arch-independent constants', () => {
  const expect: Record<string, number> = {
    FD_CLOEXEC: 1, F_DUPFD: 0, F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, F_DUPFD_CLOEXEC: 1030,
    F_ADD_SEALS: 1033, F_GET_SEALS: 1034, F_SEAL_SEAL: 1, F_SEAL_SHRINK: 2, F_SEAL_GROW: 4, F_SEAL_WRITE: 8,
    F_SEAL_FUTURE_WRITE: 16, SEEK_SET: 0, SEEK_CUR: 1, SEEK_END: 2, SEEK_DATA: 3, SEEK_HOLE: 4,
    PROT_NONE: 0, PROT_READ: 1, PROT_WRITE: 2, PROT_EXEC: 4, MAP_SHARED: 1, MAP_PRIVATE: 2,
    MAP_SHARED_VALIDATE: 3, MAP_TYPE: 0xf, MAP_FIXED: 0x10, MAP_ANONYMOUS: 0x20, MAP_POPULATE: 0x8000,
    MAP_NORESERVE: 0x4000, MAP_FIXED_NOREPLACE: 0x100000, MAP_FAILED: -1, POLLIN: 1, POLLPRI: 2, POLLOUT: 4,
    POLLERR: 8, POLLHUP: 0x10, POLLNVAL: 0x20, S_IFMT: 0o170000, S_IFCHR: 0o020000, S_IFREG: 0o100000,
    S_IFDIR: 0o040000, S_IFLNK: 0o120000, S_IFBLK: 0o060000, S_IFIFO: 0o010000, S_IFSOCK: 0o140000,
    RLIMIT_NOFILE: 7, SIGKILL: 9,
  };
  for (const arch of ARCHES) {
    const all = constantsFor(arch);
    assert.ok(Object.isFrozen(all));
    assert.equal(constantsFor(arch), all, 'cached');
    for (const [k, v] of Object.entries(expect)) {
      assert.equal(all[k], v, `${arch} ${k}`);
      assert.equal((F as unknown as Record<string, number>)[k], v, k);
    }
    for (const [k, v] of Object.entries(fcntlConstants(arch))) assert.equal(all[k], v, `${arch} ${k}`);
  }
  assert.equal(constantsFor('arm64').O_DIRECTORY, 0o40000);
  assert.equal(constantsFor('x86_64').O_DIRECTORY, 0o200000);
});

test('parseFlagExpr', () => {
  const x = constantsFor('x86_64');
  assert.equal(parseFlagExpr('O_RDWR|O_CLOEXEC', x), 0x80002);
  assert.equal(parseFlagExpr('  O_RDWR |  O_CLOEXEC ', x), 0x80002);
  assert.equal(parseFlagExpr('O_RDWR|0x80000', x), 0x80002);
  assert.equal(parseFlagExpr(0x80002, x), 0x80002);
  assert.equal(parseFlagExpr('524290', x), 0x80002);
  assert.equal(parseFlagExpr('0x80002', x), 0x80002);
  assert.equal(parseFlagExpr('0X80002', x), 0x80002);
  assert.equal(parseFlagExpr('0o2000002', x), 0x80002);
  assert.equal(parseFlagExpr('02000002', x), 0x80002);
  assert.equal(parseFlagExpr('0b101', x), 5);
  assert.equal(parseFlagExpr('0', x), 0);
  assert.equal(parseFlagExpr('O_RDONLY', x), 0);
  assert.equal(parseFlagExpr('PROT_READ|PROT_WRITE', x), 3);
  assert.equal(parseFlagExpr('MAP_FAILED', x), -1);
  assert.equal(parseFlagExpr('O_DIRECTORY', constantsFor('arm64')), 0o40000);
  assert.equal(parseFlagExpr('0x100000000|1', {}), 0x100000001);
  assert.equal(parseFlagExprBigInt('0xffffffffffffffff', {}), 0xffffffffffffffffn);
  assert.throws(() => parseFlagExpr('0xffffffffffffffff', {}), RangeError);
});

test('parseFlagExpr errors name the token', () => {
  const x = constantsFor('x86_64');
  assert.throws(() => parseFlagExpr('O_RDWR|O_BOGUS', x), {
    name: 'RangeError',
    message: "unknown flag name 'O_BOGUS' in flag expression 'O_RDWR|O_BOGUS'",
  });
  assert.throws(() => parseFlagExpr('O_RDWR||O_CLOEXEC', x), { name: 'RangeError', message: "empty token in flag expression 'O_RDWR||O_CLOEXEC'" });
  assert.throws(() => parseFlagExpr('09', x), { name: 'RangeError', message: "invalid token '09' in flag expression '09'" });
  assert.throws(() => parseFlagExpr('O_RDWR + 1', x), /invalid token 'O_RDWR \+ 1'/);
  assert.throws(() => parseFlagExpr('', x), RangeError);
  assert.throws(() => parseFlagExpr('toString', x), /unknown flag name 'toString'/);
  assert.throws(() => parseFlagExpr(1.5, x), RangeError);
});
