/**
 * AF_UNIX stream socket pairs, as far as passing files goes (SCM_RIGHTS): a message queued on
 * the receiver's socket holds a reference to every file it carries (in flight), so a dma-buf
 * sent and then closed by its sender stays alive, and bufinfo counts the queued reference,
 * until the message is received (the receiver's new fd takes its own reference, the message's
 * is dropped) or the receiving socket is closed (its queue is purged). What does not fit the
 * receiver's control buffer, or its fd table (EMFILE), is dropped and the message says
 * MSG_CTRUNC. Sockets that are only reachable through queued messages (a socket sent over
 * itself) are collected when a socket is closed, as the unix garbage collector does.
 * @kernel net/unix/af_unix.c unix_stream_connect/socketpair, unix_stream_sendmsg,
 *   unix_stream_read_generic, unix_release_sock; net/core/scm.c scm_fp_copy, scm_detach_fds;
 *   net/unix/garbage.c unix_gc, unix_inflight, too_many_unix_fds
 */
import { Errno } from '../../uapi/errno.js';
import { POLLIN, POLLOUT, S_IFSOCK } from '../../uapi/fcntl.js';
import { File, FMODE_OPENED, FMODE_READ, FMODE_WRITE } from './file.js';
import type { FileOperations, Inode } from './file.js';

const E = Errno;
/** SCM_MAX_FD: the most files one SCM_RIGHTS message may carry. */
export const SCM_MAX_FD = 253;
/** MSG_CTRUNC: the control data (the files) did not all arrive. */
export const MSG_CTRUNC = 0x8;
/** The most bytes queued on one socket (sk_sndbuf's order of magnitude): a full queue is EAGAIN. */
const QUEUE_BYTES_MAX = 212_992;
/** The most messages queued on one socket (each carries at least one byte). */
const QUEUE_MSGS_MAX = 4096;

/** sockfs: st_dev and mount id the emulator gives sockets (not observed on a referee). */
export const SOCKFS_DEV = 8;
export const SOCKFS_MNT_ID = 9;

/** One queued message (sk_buff): its bytes not yet read and the files it carries until received. */
interface Skb {
  data: Uint8Array;
  files: File[] | null;
}

/** One end of a connected pair (struct unix_sock). */
export class UnixSock {
  peer: UnixSock | null = null;
  readonly queue: Skb[] = [];
  queuedBytes = 0;
  /** Released (its file's last reference is gone). */
  dead = false;
  file!: File;
  /** References to this socket's file held by queued messages (unix_sk(sk)->inflight). */
  inflight = 0;
  constructor(readonly net: UnixNet) {}
}

/** The collector's view: every live socket (for unix_gc) and the per-user in-flight counts. */
export class UnixNet {
  private lastIno = 0x4000;
  readonly socks = new Set<UnixSock>();
  /** user->unix_inflight: files in flight sent by each uid. */
  private readonly inflightByUid = new Map<number, number>();

  readonly fops: FileOperations = {
    // unix_poll(): readable with a message queued; the peer's close shuts both directions down
    // (EPOLLHUP, and EPOLLRDHUP | EPOLLIN); always writable (the queue's bound is far away)
    poll: (f) => {
      const s = f.priv as UnixSock;
      let mask = POLLOUT | 0x100 | 0x200; // EPOLLWRNORM | EPOLLWRBAND
      if (s.queue.length > 0) mask |= POLLIN | 0x40; // EPOLLRDNORM
      if (s.peer === null || s.peer.dead) mask |= 0x10 | 0x2000 | POLLIN | 0x40; // EPOLLHUP | EPOLLRDHUP
      return mask;
    },
    // unix_show_fdinfo(): the files in flight in this socket's receive queue
    showFdinfo: (f) => {
      let n = 0;
      for (const skb of (f.priv as UnixSock).queue) n += skb.files?.length ?? 0;
      return `scm_fds: ${n}\n`;
    },
    release: (f) => this.release(f.priv as UnixSock),
    afterClose: (f) => {
      const s = f.priv as UnixSock;
      if (s.inflight > 0 && f.count === s.inflight) this.gc();
    },
  };

  /** socketpair(AF_UNIX, SOCK_STREAM): two connected sockets' files, opened O_RDWR (plus O_NONBLOCK when asked). */
  pair(uid: number, gid: number, oflags: number): [File, File] {
    const a = this.sock(uid, gid, oflags);
    const b = this.sock(uid, gid, oflags);
    a.peer = b;
    b.peer = a;
    return [a.file, b.file];
  }

  private sock(uid: number, gid: number, oflags: number): UnixSock {
    const s = new UnixSock(this);
    const ino = ++this.lastIno;
    const inode: Inode = { ino, mode: S_IFSOCK | 0o777, uid, gid, rdev: 0, dev: SOCKFS_DEV, size: 0, blocks: 0 };
    s.file = new File(this.fops, inode, oflags, FMODE_READ | FMODE_WRITE | FMODE_OPENED, `socket:[${ino}]`, SOCKFS_MNT_ID, s);
    this.socks.add(s);
    return s;
  }

  /** The socket behind a file, or null (ENOTSOCK). */
  sockOf(f: File): UnixSock | null {
    return f.fop === this.fops ? (f.priv as UnixSock) : null;
  }

  /**
   * unix_stream_sendmsg() with SCM_RIGHTS: more than SCM_MAX_FD files → EINVAL; more files in
   * flight for this user than its RLIMIT_NOFILE (without CAP_SYS_RESOURCE) → ETOOMANYREFS; a
   * closed peer → EPIPE; a full queue → EAGAIN. `files` are already looked up (fget_raw: O_PATH
   * files travel too) and get one reference each while in flight. Returns the bytes queued.
   */
  send(s: UnixSock, data: Uint8Array, files: File[], cred: { uid: number; nofile: number }): number {
    if (files.length > SCM_MAX_FD) return -E.EINVAL;
    if (files.length > 0 && cred.uid !== 0 && (this.inflightByUid.get(cred.uid) ?? 0) + files.length > cred.nofile) return -E.ETOOMANYREFS;
    const peer = s.peer;
    if (peer === null || peer.dead) return -E.EPIPE;
    if (data.length === 0 && files.length === 0) return 0;
    if (peer.queuedBytes + data.length > QUEUE_BYTES_MAX || peer.queue.length >= QUEUE_MSGS_MAX) return -E.EAGAIN;
    const carried = files.length > 0 ? files.map((f) => f.get()) : null;
    if (carried !== null) {
      for (const f of carried) {
        const inner = this.sockOf(f);
        if (inner !== null) inner.inflight++;
      }
      this.inflightByUid.set(cred.uid, (this.inflightByUid.get(cred.uid) ?? 0) + carried.length);
    }
    // a stream socket still sends one byte with the files when asked to send none (the message must carry them)
    peer.queue.push({ data: data.length > 0 ? data.slice() : new Uint8Array(1), files: carried });
    peer.queuedBytes += Math.max(data.length, 1);
    if (carried !== null) this.owner.set(peer.queue[peer.queue.length - 1]!, cred.uid);
    return data.length;
  }

  /** Which uid sent each in-flight message (to give its count back). */
  private readonly owner = new WeakMap<Skb, number>();

  /** Drops a message's files (they leave flight: unix_notinflight + fput). */
  private dropFiles(skb: Skb): void {
    const files = skb.files;
    if (files === null) return;
    skb.files = null;
    const uid = this.owner.get(skb) ?? 0;
    this.inflightByUid.set(uid, Math.max(0, (this.inflightByUid.get(uid) ?? 0) - files.length));
    for (const f of files) {
      const inner = this.sockOf(f);
      if (inner !== null) inner.inflight--;
      f.put();
    }
  }

  /**
   * unix_stream_read_generic() for one message: up to `len` bytes of the first queued message,
   * and with them its files: `install` gives each a new fd (its own reference) until it fails
   * (EMFILE) or `maxFds` are placed; the rest are dropped and ctrunc is set. Nothing queued:
   * EOF (0) when the peer is gone, else EAGAIN (the emulator never sleeps).
   */
  recv(s: UnixSock, len: number, maxFds: number, peek: boolean, install: (f: File) => number): { data: Uint8Array; fds: number[]; ctrunc: boolean } | number {
    const skb = s.queue[0];
    if (skb === undefined) return s.peer === null || s.peer.dead ? 0 : -E.EAGAIN;
    const n = Math.min(len, skb.data.length);
    const data = skb.data.slice(0, n);
    const fds: number[] = [];
    let ctrunc = false;
    if (skb.files !== null) {
      for (const f of skb.files) {
        if (fds.length >= maxFds) { ctrunc = true; break; }
        const fd = install(f);
        if (fd < 0) { ctrunc = true; break; }
        f.get();
        fds.push(fd);
      }
      if (!peek) this.dropFiles(skb);
    }
    if (!peek) {
      skb.data = skb.data.subarray(n);
      s.queuedBytes -= n;
      if (skb.data.length === 0) s.queue.shift();
    }
    return { data, fds, ctrunc };
  }

  /** unix_release_sock(): the peer sees the end; the queue (and the files in it) is purged; then the collector. */
  private release(s: UnixSock): void {
    s.dead = true;
    this.socks.delete(s);
    const q = s.queue.splice(0);
    s.queuedBytes = 0;
    for (const skb of q) this.dropFiles(skb);
    if (s.peer !== null && s.peer.peer === s) s.peer.peer = null;
    s.peer = null;
    this.gc();
  }

  /**
   * unix_gc() (run when a socket is released or, here, when an fd of a socket in flight is closed:
   * docs/fidelity.md af-unix-stream-only): a socket whose every reference is a queued message (file count = in flight) is a
   * candidate; those reachable from a socket something else holds stay; the queues of the rest
   * are purged, which may free them.
   */
  private gc(): void {
    const candidates = [...this.socks].filter((s) => s.inflight > 0 && s.file.count === s.inflight);
    if (candidates.length === 0) return;
    const cand = new Set(candidates);
    const alive = new Set<UnixSock>();
    const stack = [...this.socks].filter((s) => !cand.has(s));
    while (stack.length > 0) {
      const s = stack.pop()!;
      for (const skb of s.queue) for (const f of skb.files ?? []) {
        const inner = this.sockOf(f);
        if (inner !== null && cand.has(inner) && !alive.has(inner)) {
          alive.add(inner);
          stack.push(inner);
        }
      }
    }
    const dead = candidates.filter((s) => !alive.has(s));
    for (const s of dead) {
      const q = s.queue.splice(0);
      s.queuedBytes = 0;
      for (const skb of q) this.dropFiles(skb);
    }
  }
}
