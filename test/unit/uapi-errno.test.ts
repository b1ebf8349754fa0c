import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno, ERRNO_MESSAGES, errnoName, errnoNumber, strerror } from '../../src/uapi/errno.js';
import type { ErrnoName } from '../../src/uapi/errno.js';

// The errnos listed in the spec's conventions line, with glibc messages.
const SPEC: readonly (readonly [ErrnoName, number, string])[] = [
  ['EPERM', 1, 'Operation not permitted'],
  ['ENOENT', 2, 'No such file or directory'],
  ['EINTR', 4, 'Interrupted system call'],
  ['ENXIO', 6, 'No such device or address'],
  ['EBADF', 9, 'Bad file descriptor'],
  ['EAGAIN', 11, 'Resource temporarily unavailable'],
  ['ENOMEM', 12, 'Cannot allocate memory'],
  ['EACCES', 13, 'Permission denied'],
  ['EFAULT', 14, 'Bad address'],
  ['EBUSY', 16, 'Device or resource busy'],
  ['EEXIST', 17, 'File exists'],
  ['ENODEV', 19, 'No such device'],
  ['EINVAL', 22, 'Invalid argument'],
  ['EMFILE', 24, 'Too many open files'],
  ['ENOTTY', 25, 'Inappropriate ioctl for device'],
  ['ENOSPC', 28, 'No space left on device'],
  ['ESPIPE', 29, 'Illegal seek'],
  ['EOVERFLOW', 75, 'Value too large for defined data type'],
  ['EBADFD', 77, 'File descriptor in bad state'],
];

test('spec errnos: numbers, names, messages', () => {
  for (const [name, n, msg] of SPEC) {
    assert.equal(Errno[name], n, name);
    assert.equal(errnoNumber(name), n, name);
    assert.equal(errnoName(n), name, name);
    assert.equal(ERRNO_MESSAGES[name], msg, name);
    assert.equal(strerror(name), msg, name);
    assert.equal(strerror(n), msg, name);
  }
});

test('ERESTARTSYS and table shape', () => {
  assert.equal(Errno.ERESTARTSYS, 512);
  assert.equal(errnoName(512), 'ERESTARTSYS');
  assert.equal(Errno.EOPNOTSUPP, 95);
  assert.equal(Errno.EDEADLK, 35);
  assert.equal(Errno.EHWPOISON, 133);
  assert.equal(strerror('EHWPOISON'), 'Memory page has hardware error');
  const keys = Object.keys(Errno);
  assert.ok(!keys.includes('EWOULDBLOCK'));
  assert.ok(!keys.includes('ENOTSUP'));
  assert.ok(!keys.includes('EDEADLOCK'));
  // 1..133 minus the two unassigned numbers (41, 58), plus ERESTARTSYS.
  assert.equal(keys.length, 131 + 1);
  const nums = Object.values(Errno);
  assert.equal(new Set(nums).size, nums.length, 'numbers are unique');
  for (let n = 1; n <= 133; n++) {
    if (n === 41 || n === 58) assert.equal(errnoName(n), undefined);
    else assert.notEqual(errnoName(n), undefined, String(n));
  }
  assert.deepEqual(Object.keys(ERRNO_MESSAGES).sort(), [...keys].sort());
});

test('unknown numbers', () => {
  assert.equal(errnoName(0), undefined);
  assert.equal(errnoName(41), undefined);
  assert.equal(errnoName(134), undefined);
  assert.equal(errnoName(-1), undefined);
  assert.equal(errnoName(1.5), undefined);
  assert.equal(errnoName(100000), undefined);
  assert.equal(strerror(0), 'Success');
  assert.equal(strerror(41), 'Unknown error 41');
  assert.equal(strerror(9999), 'Unknown error 9999');
  assert.equal(strerror(-22), 'Invalid argument');
});
