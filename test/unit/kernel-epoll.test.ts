/**
 * epoll beyond the referee probe (kernel-fd-oracle.test.ts has the probe's lines): the per-user
 * watch limit (fs.epoll.max_user_watches, ENOSPC), nesting (an epoll fd in an epoll, ELOOP for a
 * cycle), and the watches given back when an item or the instance goes.
 * @kernel fs/eventpoll.c ep_insert (ENOSPC), ep_loop_check (ELOOP), ep_free
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import { Errno } from '../../src/uapi/errno.js';
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLLIN } from '../../src/uapi/fcntl.js';
import { EP_ITEM_COST } from '../../src/kernel/fs/eventpoll.js';

function setup(ram = 64 * 1024 * 1024): { k: Kernel; p: ReturnType<Kernel['spawn']>; ev: number; sock: number } {
  const k = new Kernel({ profile: '6.12', ramBytes: ram });
  const p = k.spawn({ uid: 1000, gid: 1000, groups: [] }, 't');
  const ev = p.userAlloc(4096);
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(0, EPOLLIN, true);
  p.mm.copyToUser(ev, b);
  assert.equal(p.socketpair(1, 1, 0, ev + 64), 0);
  const sock = new DataView(p.mm.copyFromUser(ev + 64, 4)!.buffer).getInt32(0, true);
  return { k, p, ev, sock };
}

test('fs.epoll.max_user_watches: 4% of RAM over the cost of a watch per user; one more is ENOSPC; DEL and closing the instance give them back', () => {
  const { k, p, ev, sock } = setup();
  const max = Math.floor(64 * 1024 * 1024 / 25 / EP_ITEM_COST);
  assert.equal(k.epollWatches.max, max);
  assert.equal(p.setNofile(max + 64, max + 64), -Errno.EPERM); // raising the hard limit needs root
  p.cred = { uid: 0, gid: 0, groups: [] };
  assert.equal(p.setNofile(max + 64, max + 64), 0);
  p.cred = { uid: 1000, gid: 1000, groups: [] };
  const e = p.epollCreate1(0);
  // one watch per (file, fd): the same socket under `max` fd numbers
  const fds: number[] = [sock];
  while (fds.length < max) fds.push(p.dup(sock));
  for (const fd of fds) assert.equal(p.epollCtl(e, EPOLL_CTL_ADD, fd, ev), 0);
  const extra = p.dup(sock);
  assert.equal(p.epollCtl(e, EPOLL_CTL_ADD, extra, ev), -Errno.ENOSPC);
  // another user has its own count
  const q = k.spawn({ uid: 1001, gid: 1001, groups: [] }, 'q');
  const qe = q.epollCreate1(0);
  const qev = q.userAlloc(4096);
  q.mm.copyToUser(qev, p.mm.copyFromUser(ev, 12)!);
  assert.equal(q.socketpair(1, 1, 0, qev + 64), 0);
  assert.equal(q.epollCtl(qe, EPOLL_CTL_ADD, new DataView(q.mm.copyFromUser(qev + 64, 4)!.buffer).getInt32(0, true), qev), 0);
  assert.equal(p.epollCtl(e, EPOLL_CTL_DEL, fds[0]!, 0), 0);
  assert.equal(p.epollCtl(e, EPOLL_CTL_ADD, extra, ev), 0);
  // closing an fd keeps the watch (the file lives on): the same number again is EEXIST
  assert.equal(p.close(fds[1]!), 0);
  assert.equal(p.dup(sock), fds[1]);
  assert.equal(p.epollCtl(e, EPOLL_CTL_ADD, fds[1]!, ev), -Errno.EEXIST);
  // closing the instance gives every watch back
  assert.equal(p.close(e), 0);
  const e2 = p.epollCreate1(0);
  assert.equal(p.epollCtl(e2, EPOLL_CTL_ADD, extra, ev), 0);
});

test('an epoll fd in an epoll reports EPOLLIN when it has a ready item; a cycle is ELOOP; an exited process leaves no watch', () => {
  const { k, p, ev, sock } = setup();
  const outer = p.epollCreate1(0);
  const inner = p.epollCreate1(0);
  assert.equal(p.epollCtl(outer, EPOLL_CTL_ADD, inner, ev), 0);
  assert.equal(p.epollCtl(inner, EPOLL_CTL_ADD, outer, ev), -Errno.ELOOP);
  const out = ev + 1024;
  assert.equal(p.epollWait(outer, out, 4, 0), 0);
  // the socket is writable, not readable: watch EPOLLOUT
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(0, 4, true);
  p.mm.copyToUser(ev + 512, b);
  assert.equal(p.epollCtl(inner, EPOLL_CTL_ADD, sock, ev + 512), 0);
  assert.equal(p.epollWait(outer, out, 4, 0), 1);
  assert.equal(new DataView(p.mm.copyFromUser(out, 4)!.buffer).getUint32(0, true), EPOLLIN);
  p.exit();
  const q = k.spawn({ uid: 1000, gid: 1000, groups: [] }, 'q');
  assert.ok(q.epollCreate1(0) >= 0);
  // every watch of uid 1000 went with the process: the full quota is there again
  assert.equal(k.epollWatches.take(1000), true);
  k.epollWatches.give(1000);
});
