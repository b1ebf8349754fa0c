/**
 * The Linux backend's epoll and socket-pair calls in this process (no heap needed): SCM_RIGHTS
 * of a memfd with MSG_CMSG_CLOEXEC, MSG_CTRUNC, EAGAIN instead of blocking, epoll readiness, and
 * dispose closing the sockets and epoll instances the target made (never Node's own).
 * Skips with the reason where the backend cannot load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { createLinuxTarget } from '../../src/backends/linux/index.js';
import { loadLibc } from '../../src/backends/linux/libc.js';
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLLIN, EPOLLOUT, F_GETFD, MSG_CMSG_CLOEXEC, MSG_CTRUNC, SOCK_STREAM } from '../../src/uapi/fcntl.js';

const libc = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') ? loadLibc() : new Error(`not Linux on x86-64/arm64 (${process.platform}/${process.arch})`);
const skip: string | false = libc instanceof Error ? `the linux backend cannot load here: ${libc.message}` : false;

function isOpen(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

test('SCM_RIGHTS through the Linux backend: a memfd in flight, MSG_CMSG_CLOEXEC, MSG_CTRUNC, EAGAIN; dispose closes the sockets and the epoll instance', { skip }, () => {
  const t = createLinuxTarget();
  const sp = t.socketpair!(SOCK_STREAM);
  assert.equal(sp.errno, null);
  const [a, b] = sp.fds!;
  const m = t.memfdCreate('scm', 0);
  assert.equal(t.sendmsg!(a, new Uint8Array([7]), [m.ret]).ret, 1);
  assert.equal(t.close(m.ret).ret, 0);
  const r = t.recvmsg!(b, 16, 1, MSG_CMSG_CLOEXEC);
  assert.deepEqual([r.ret, [...(r.data ?? [])], r.fds.length], [1, [7], 1]);
  assert.equal(t.fcntl(r.fds[0]!, F_GETFD).ret, 1);
  assert.match(isOpen(r.fds[0]!) ?? '', /^\/memfd:scm/);
  assert.equal(t.sendmsg!(a, new Uint8Array([8]), [r.fds[0]!]).ret, 1);
  const dropped = t.recvmsg!(b, 16, 0, 0);
  assert.deepEqual([dropped.ret, dropped.fds.length, dropped.flags & MSG_CTRUNC], [1, 0, MSG_CTRUNC]);
  assert.equal(t.recvmsg!(b, 16, 1, 0).errno, 'EAGAIN');
  const e = t.epollCreate!(EPOLL_CLOEXEC);
  assert.equal(t.epollCtl!(e.ret, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLOUT, 42n).ret, 0);
  const w = t.epollWait!(e.ret, 8, 0);
  assert.deepEqual(w.events, [{ events: EPOLLOUT, data: 42n }]);
  assert.equal(t.epollCtl!(e.ret, EPOLL_CTL_ADD, r.fds[0]!, EPOLLIN, 0n).errno, 'EPERM'); // a memfd has no poll
  t.dispose();
  for (const fd of [a, b, e.ret, r.fds[0]!]) assert.equal(isOpen(fd), null, `fd ${fd} is still open after dispose`);
});
