/**
 * One table for both backends: a SyscallTarget refuses a number no C caller could pass with the
 * errno the rule gives (src/uapi/ctypes.ts; docs/fidelity.md, js-numbers), before any call,
 * never with an exception. The emulated target and the Linux target run the same rows, so a
 * program gets the same errno from both.
 */
import assert from 'node:assert/strict';
import type { SyscallTarget } from '../../src/api/target.js';
import { F_DUPFD, MAP_SHARED, POLLIN, POLLNVAL, PROT_READ, PROT_WRITE, SEEK_SET } from '../../src/uapi/fcntl.js';

/** Values no C argument holds. */
export const NOT_C_NUMBERS = [NaN, Infinity, 0.5, 2 ** 64] as const;

/**
 * Calls every number-taking method of `t` with each of {@link NOT_C_NUMBERS} in each numeric
 * argument and checks the errno; `devices` says whether the target has devices (the Linux
 * target answers device calls with ENOSYS whatever the arguments).
 */
export function checkNotCNumbers(t: SyscallTarget, opts: { devices: boolean }): void {
  const m = t.memfdCreate('t', 0).ret;
  assert.ok(m >= 0);
  assert.equal(t.ftruncate(m, 8192).ret, 0);
  const map = t.mmap(4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0).map!;
  const errno = (r: { ret: number; errno: string | null }): string => {
    assert.ok(Number.isInteger(r.ret), `ret ${r.ret}`);
    return r.errno ?? 'ok';
  };
  for (const v of NOT_C_NUMBERS) {
    assert.equal(errno(t.close(v)), 'EBADF', `close(${v})`);
    assert.equal(errno(t.dup(v)), 'EBADF');
    assert.equal(errno(t.fcntl(m, F_DUPFD, v)), 'EINVAL', `F_DUPFD ${v}`);
    assert.equal(errno(t.fcntl(m, v)), 'EINVAL');
    assert.equal(errno(t.fcntl(v, F_DUPFD, 0)), 'EBADF');
    assert.equal(errno(t.ioctl(m, v, null)), 'EINVAL');
    assert.equal(errno(t.ioctl(v, 0, null)), 'EBADF');
    assert.equal(errno(t.mmap(v, PROT_READ, MAP_SHARED, m, 0)), 'EINVAL');
    assert.equal(errno(t.mmap(4096, PROT_READ, MAP_SHARED, m, v)), 'EINVAL');
    assert.equal(errno(t.mmap(4096, PROT_READ, MAP_SHARED, v, 0)), 'EBADF');
    assert.equal(errno(t.munmap({ addr: v, length: 4096 })), 'EINVAL');
    assert.equal(errno(t.read(m, v)), Number.isInteger(v) ? 'EFAULT' : 'EINVAL', `read count ${v}`);
    assert.equal(errno(t.read(v, 16)), 'EBADF');
    assert.equal(errno(t.write(v, Uint8Array.of(1))), 'EBADF');
    assert.equal(errno(t.lseek(m, v, SEEK_SET)), 'EINVAL');
    assert.equal(errno(t.lseek(m, 0, v)), 'EINVAL');
    assert.equal(errno(t.lseek(v, 0, SEEK_SET)), 'EBADF');
    assert.equal(errno(t.fstat(v)), 'EBADF');
    assert.equal(errno(t.poll([{ fd: m, events: POLLIN }], v)), 'EINVAL');
    assert.equal(errno(t.poll([{ fd: m, events: v }], 0)), 'EINVAL');
    assert.equal(errno(t.setNofile(v, v)), 'EINVAL');
    assert.equal(errno(t.memfdCreate('x', v)), 'EINVAL');
    assert.equal(errno(t.ftruncate(m, v)), 'EINVAL');
    assert.equal(errno(t.ftruncate(v, 0)), 'EBADF');
    assert.equal(errno(t.mkdir('/sys/fs/cgroup/x', v)), 'EINVAL');
    assert.equal(errno(t.pagemap(map, v)), 'EINVAL');
    if (opts.devices) {
      assert.equal(errno(t.attach(v, 'dev')), 'ENODEV');
      assert.equal(errno(t.deviceRead('dev', m, v, 4)), 'EINVAL');
      assert.equal(errno(t.deviceWrite('dev', m, v, Uint8Array.of(1))), 'EINVAL');
    }
  }
  // an fd no struct pollfd can hold names no open file: POLLNVAL, as INT_MAX does on the oracle
  for (const fd of [NaN, 0.5, 2 ** 40, 2 ** 31 - 1]) assert.deepEqual(t.poll([{ fd, events: POLLIN }], 0), { ret: 1, errno: null, revents: [POLLNVAL] }, `pollfd ${fd}`);
  assert.deepEqual(t.poll([{ fd: -5, events: POLLIN }], 0), { ret: 0, errno: null, revents: [0] }, 'a negative fd is ignored');
  assert.equal(t.munmap(map).ret, 0);
  assert.equal(t.close(m).ret, 0);
}
