/**
 * epoll: an instance is a file (anon_inode:[eventpoll]) holding one item per watched (file, fd)
 * pair and a ready list. A file can be watched only if it has a poll op (EPERM otherwise: a heap
 * device, a memfd, debugfs files before v6.14). An item goes on the ready list when it is
 * inserted or modified while ready, when its file wakes it (a dma-buf with no fence pending
 * wakes its waiters from inside its poll op, so it is ready again after every harvest, even
 * edge-triggered), and, level-triggered, after each harvest that reported it. Items go away with
 * EPOLL_CTL_DEL or when the watched file's last reference is dropped (not when one of its fds is
 * closed). epoll_wait never sleeps (docs/fidelity.md, poll-never-blocks).
 * @kernel fs/eventpoll.c do_epoll_create, do_epoll_ctl, ep_insert, ep_modify, ep_remove,
 *   ep_poll_callback, ep_send_events, ep_start_scan, ep_done_scan, ep_show_fdinfo, ep_loop_check
 */
import { Errno } from '../../uapi/errno.js';
import {
  EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT,
  EPOLLRDNORM, EPOLLWAKEUP,
} from '../../uapi/fcntl.js';
import { File, FMODE_OPENED, FMODE_READ, FMODE_WRITE } from './file.js';
import type { FileOperations, FileWatch, Inode, PollWaiter } from './file.js';

const E = Errno;
/** Bits of an item's events that are not poll events. */
const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
const EPOLLEXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/** INT_MAX / sizeof(struct epoll_event) on x86-64 (12 bytes). */
export const EP_MAX_EVENTS = Math.floor(0x7fffffff / 12);
/** Nesting limit of epoll instances watching epoll instances. */
const EP_MAX_NESTS = 4;

/** One watched (file, fd) pair (struct epitem). */
class Epitem implements FileWatch, PollWaiter {
  /** On the ready list. */
  linked = false;
  /** On the overflow list of a harvest in progress. */
  chained = false;
  constructor(
    readonly ep: Eventpoll,
    readonly file: File,
    readonly fd: number,
    public events: number,
    public data: bigint,
  ) {}

  /** eventpoll_release(): the watched file is going away. */
  release(): void {
    this.ep.remove(this, false);
  }

  /** ep_poll_callback() */
  wake(mask: number): void {
    this.ep.callback(this, mask);
  }
}

/**
 * The watches each user has (user->epoll_watches) and the most one may have
 * (fs.epoll.max_user_watches: 4% of low memory over the cost of a watch).
 */
export class EpollWatches {
  private readonly byUid = new Map<number, number>();
  constructor(readonly max: number) {}
  /** One more watch for `uid`, or false at the limit (ENOSPC). */
  take(uid: number): boolean {
    const n = this.byUid.get(uid) ?? 0;
    if (n >= this.max) return false;
    this.byUid.set(uid, n + 1);
    return true;
  }
  give(uid: number): void {
    const n = (this.byUid.get(uid) ?? 1) - 1;
    if (n <= 0) this.byUid.delete(uid);
    else this.byUid.set(uid, n);
  }
}

/** sizeof(struct epitem) + sizeof(struct eppoll_entry) on 64-bit, about (EP_ITEM_COST). */
export const EP_ITEM_COST = 200;

/** One epoll instance (struct eventpoll). */
export class Eventpoll {
  constructor(
    /** Whose watches these are (ep->user) and the per-user count. */
    readonly uid: number,
    readonly watches: EpollWatches | null,
  ) {}

  /** The items, by file then fd (the kernel's red-black tree). */
  private readonly items = new Map<File, Map<number, Epitem>>();
  private rdllist: Epitem[] = [];
  /** ep->ovflist while a harvest runs (wake order), else null (EP_UNACTIVE_PTR). */
  private ovflist: Epitem[] | null = null;
  file!: File;

  find(f: File, fd: number): Epitem | undefined {
    return this.items.get(f)?.get(fd);
  }

  /** ep_item_poll(): the item's ready events; a nested epoll answers EPOLLIN when it has any. */
  private itemPoll(epi: Epitem, depth: number): number {
    const inner = eventpollOf(epi.file);
    if (inner !== null) return depth > EP_MAX_NESTS ? 0 : (inner.ready(depth + 1) ? EPOLLIN | EPOLLRDNORM : 0) & epi.events;
    const op = epi.file.fop.poll;
    return op === undefined ? 0 : op(epi.file, epi.events & ~EP_PRIVATE_BITS, epi) & epi.events;
  }

  /** ep_events_available() after checking each ready item (__ep_eventpoll_poll's scan). */
  ready(depth: number): boolean {
    for (const epi of this.rdllist) if (this.itemPoll(epi, depth) !== 0) return true;
    return false;
  }

  callback(epi: Epitem, mask: number): void {
    // a disabled EPOLLONESHOT item, or a wake-up for events the item does not want
    if ((epi.events & ~EP_PRIVATE_BITS) === 0) return;
    if (mask !== 0 && (mask & epi.events) === 0) return;
    if (this.ovflist !== null) {
      if (!epi.chained) {
        epi.chained = true;
        this.ovflist.push(epi);
      }
      return;
    }
    if (!epi.linked) this.queue(epi);
  }

  /**
   * list_add_tail() on the ready list, then ep_poll_safewake(): an epoll instance watching this
   * one (its epitem is on our file) hears that something is ready.
   */
  private queue(epi: Epitem): void {
    epi.linked = true;
    this.rdllist.push(epi);
    for (const w of this.file.watches ?? []) if (w instanceof Epitem) w.wake(EPOLLIN);
  }

  insert(f: File, fd: number, events: number, data: bigint): number {
    if (this.watches !== null && !this.watches.take(this.uid)) return -E.ENOSPC;
    const epi = new Epitem(this, f, fd, events, data);
    let byFd = this.items.get(f);
    if (byFd === undefined) this.items.set(f, (byFd = new Map()));
    byFd.set(fd, epi);
    (f.watches ??= new Set()).add(epi);
    const revents = this.itemPoll(epi, 1);
    if (revents !== 0 && !epi.linked) this.queue(epi);
    return 0;
  }

  modify(epi: Epitem, events: number, data: bigint): number {
    epi.events = events;
    epi.data = data;
    const revents = this.itemPoll(epi, 1);
    if (revents !== 0 && !epi.linked) this.queue(epi);
    return 0;
  }

  /** ep_remove(): `unwatch` also takes the item off the file (not when the file itself goes). */
  remove(epi: Epitem, unwatch = true): void {
    if (this.find(epi.file, epi.fd) !== epi) return;
    this.watches?.give(this.uid);
    if (unwatch) epi.file.watches?.delete(epi);
    const byFd = this.items.get(epi.file);
    byFd?.delete(epi.fd);
    if (byFd?.size === 0) this.items.delete(epi.file);
    if (epi.linked) {
      this.rdllist = this.rdllist.filter((e) => e !== epi);
      epi.linked = false;
    }
    if (epi.chained && this.ovflist !== null) this.ovflist = this.ovflist.filter((e) => e !== epi);
    epi.chained = false;
  }

  /** The epoll file itself is released: every item goes. */
  release(): void {
    for (const byFd of [...this.items.values()]) for (const epi of [...byFd.values()]) this.remove(epi);
  }

  /**
   * ep_send_events(): takes the ready list, polls each item again, reports at most `max` of
   * them (`put` copies one to user memory: false is a fault), re-queues level-triggered ones,
   * disables one-shot ones, then puts back what woke during the harvest and what was not reached.
   */
  harvest(max: number, put: (i: number, events: number, data: bigint) => boolean): number {
    const txlist = this.rdllist;
    for (const epi of txlist) epi.linked = false;
    this.rdllist = [];
    this.ovflist = [];
    let res = 0;
    let i = 0;
    for (; i < txlist.length && res < max; i++) {
      const epi = txlist[i]!;
      const revents = this.itemPoll(epi, 1);
      if (revents === 0) continue;
      if (!put(res, revents, epi.data)) {
        // back on the list (the loop stops at it)
        if (res === 0) res = -E.EFAULT;
        break;
      }
      res++;
      if ((epi.events & EPOLLONESHOT) !== 0) epi.events &= EP_PRIVATE_BITS;
      else if ((epi.events & EPOLLET) === 0) {
        epi.linked = true;
        this.rdllist.push(epi);
      }
    }
    // ep_done_scan(): what woke meanwhile goes first, in wake order; what was not reached before it
    const rest = txlist.slice(i).filter((e) => !e.linked && this.find(e.file, e.fd) === e);
    const restSet = new Set(rest);
    const woke = this.ovflist.filter((e) => !e.linked && !restSet.has(e));
    for (const e of this.ovflist) e.chained = false;
    this.ovflist = null;
    for (const e of [...woke, ...rest]) e.linked = true;
    this.rdllist = [...rest, ...woke, ...this.rdllist];
    return res;
  }

  /** Does this instance reach `target` through watched epoll instances (ep_loop_check)? */
  reaches(target: Eventpoll, depth = 0): boolean {
    if (depth > EP_MAX_NESTS) return true;
    for (const f of this.items.keys()) {
      const inner = eventpollOf(f);
      if (inner === null) continue;
      if (inner === target || inner.reaches(target, depth + 1)) return true;
    }
    return false;
  }

  /** ep_show_fdinfo(): one line per item (the kernel's tree order is by file address: here by fd). */
  showFdinfo(): string {
    const all: Epitem[] = [];
    for (const byFd of this.items.values()) all.push(...byFd.values());
    all.sort((a, b) => a.fd - b.fd);
    return all.map((e) => {
      const inode = e.file.inode;
      return `tfd: ${String(e.fd).padStart(8)} events: ${(e.events >>> 0).toString(16).padStart(8)} data: ${BigInt.asUintN(64, e.data).toString(16).padStart(16)}  pos:${e.file.pos} ino:${inode.ino.toString(16)} sdev:${inode.dev.toString(16)}\n`;
    }).join('');
  }
}

const EVENTPOLL_FOPS: FileOperations = {
  poll: (f) => ((f.priv as Eventpoll).ready(1) ? EPOLLIN | EPOLLRDNORM : 0),
  release: (f) => (f.priv as Eventpoll).release(),
  showFdinfo: (f) => (f.priv as Eventpoll).showFdinfo(),
};

/** The epoll instance behind a file, or null (is_file_epoll()). */
export function eventpollOf(f: File): Eventpoll | null {
  return f.fop === EVENTPOLL_FOPS ? (f.priv as Eventpoll) : null;
}

/** Can epoll watch this file (file_can_poll(), or another epoll instance)? */
export function canPoll(f: File): boolean {
  return f.fop.poll !== undefined;
}

/**
 * epoll_create1(): flags other than EPOLL_CLOEXEC → EINVAL; the file is O_RDWR on the shared anon
 * inode (anon_inode_getfile() keeps only the access mode and O_NONBLOCK of the O_CLOEXEC it is
 * given: F_GETFL is O_RDWR, the 6.12 referee's).
 */
export function eventpollCreate(flags: number, anonInode: Inode, anonMntId: number, oRdwr: number, uid: number, watches: EpollWatches | null): File | number {
  if ((flags & ~EPOLL_CLOEXEC) !== 0) return -E.EINVAL;
  const ep = new Eventpoll(uid, watches);
  const fflags = oRdwr;
  ep.file = new File(EVENTPOLL_FOPS, anonInode, fflags, FMODE_READ | FMODE_WRITE | FMODE_OPENED, 'anon_inode:[eventpoll]', anonMntId, ep);
  return ep.file;
}

/**
 * do_epoll_ctl() after the event was copied in and both fds looked up: a target without poll →
 * EPERM; the instance itself, or an epfd that is not epoll → EINVAL; EPOLLEXCLUSIVE with
 * MOD, on an epoll target or with other bits → EINVAL; a loop or too deep a nesting → ELOOP;
 * then ADD (EEXIST; ENOSPC past fs.epoll.max_user_watches), DEL (ENOENT), MOD (ENOENT; EINVAL on
 * an exclusive item); another op → EINVAL.
 * ADD and MOD always watch EPOLLERR and EPOLLHUP. `privileged`: CAP_BLOCK_SUSPEND (else EPOLLWAKEUP is dropped).
 */
export function eventpollCtl(epf: File, op: number, tf: File, fd: number, events: number, data: bigint, privileged: boolean): number {
  const target = eventpollOf(tf);
  if (!canPoll(tf) && target === null) return -E.EPERM;
  if (!privileged) events &= ~EPOLLWAKEUP;
  const ep = eventpollOf(epf);
  if (epf === tf || ep === null) return -E.EINVAL;
  const hasEvent = op !== EPOLL_CTL_DEL;
  if (hasEvent && (events & EPOLLEXCLUSIVE) !== 0) {
    if (op === EPOLL_CTL_MOD) return -E.EINVAL;
    if (op === EPOLL_CTL_ADD && (target !== null || (events & ~EPOLLEXCLUSIVE_OK_BITS) !== 0)) return -E.EINVAL;
  }
  if (op === EPOLL_CTL_ADD && target !== null && (target === ep || target.reaches(ep))) return -E.ELOOP;
  const epi = ep.find(tf, fd);
  switch (op) {
    case EPOLL_CTL_ADD:
      if (epi !== undefined) return -E.EEXIST;
      return ep.insert(tf, fd, events | EPOLLERR | EPOLLHUP, data);
    case EPOLL_CTL_DEL:
      if (epi === undefined) return -E.ENOENT;
      ep.remove(epi);
      return 0;
    case EPOLL_CTL_MOD:
      if (epi === undefined) return -E.ENOENT;
      if ((epi.events & EPOLLEXCLUSIVE) !== 0) return -E.EINVAL;
      return ep.modify(epi, events | EPOLLERR | EPOLLHUP, data);
    default:
      return -E.EINVAL;
  }
}
