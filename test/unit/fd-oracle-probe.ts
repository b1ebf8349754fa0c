/**
 * The referee probe test/oracle/issue-11/fd-generic.c re-run on the emulated kernel: the same
 * calls in the same order, printed in the same format, so that the output compares line by line
 * with what the real kernels printed (kernel-fd-oracle.test.ts). fork and exec are the
 * kernel's (Process.fork, Process.exec): the child's lines come before the parent's, as the C
 * program's waitpid() orders them.
 */
import { Kernel } from '../../src/kernel/kernel.js';
import { encodeStat } from '../../src/kernel/fs/process.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { errnoName } from '../../src/uapi/errno.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import {
  EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLET, EPOLLEXCLUSIVE, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLPRI,
  F_ADD_SEALS, F_DUPFD_CLOEXEC, F_GET_SEALS, F_GETFD, F_GETFL, F_GETLEASE, F_GETLK, F_GETOWN, F_GETOWN_EX, F_GETPIPE_SZ, F_GETSIG,
  F_NOTIFY, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_RDLCK, F_SETFD, F_SETFL, F_SETLEASE, F_SETLK, F_SETLKW, F_SETOWN, F_SETPIPE_SZ,
  F_SETSIG, F_UNLCK, F_WRLCK, MAP_SHARED, POLLIN, POLLOUT, POLLPRI, PROT_READ, PROT_WRITE,
} from '../../src/uapi/fcntl.js';

const O_RDONLY = 0, O_RDWR = 2, O_CLOEXEC = 0o2000000, O_PATH = 0o10000000, O_DIRECTORY = 0o200000;
const O_DIRECT = 0o40000, O_ASYNC = 0o20000, O_NONBLOCK = 0o4000, O_APPEND = 0o2000, O_NOATIME = 0o1000000;
const O_TRUNC = 0o1000, O_CREAT = 0o100, O_SYNC = 0o4010000, O_DSYNC = 0o10000;
const MFD_ALLOW_SEALING = 2;
const DMA_BUF_SET_NAME_B = 0x40086201;

class Probe {
  readonly k: Kernel;
  p: Process;
  readonly out: string[] = [];
  /** Scratch user memory (the C program's stack and static buffers). */
  arg: number;

  constructor(readonly profile: ProfileName) {
    // the referees' kernels are built without CONFIG_IKCONFIG (no /proc/config.gz)
    this.k = new Kernel({ profile, arch: 'x86_64', pageSize: 4096, ramBytes: 2 * 1024 ** 3, cmdline: 'cma=64M', kconfig: { IKCONFIG: false, IKCONFIG_PROC: false } });
    this.p = this.k.spawn({ uid: 0, gid: 0, groups: [] }, 'probe');
    // stdin, stdout, stderr (what they are does not show)
    const stdio = this.p.memfdCreate('stdio', 0);
    this.p.dup(stdio);
    this.p.dup(stdio);
    this.arg = this.p.userAlloc(1 << 16);
  }

  en(r: number): string {
    return r < 0 ? (errnoName(-r) ?? `errno${-r}`) : '0';
  }
  R(name: string, r: number): void {
    this.out.push(`${name}: ret=${r < 0 ? -1 : r} errno=${this.en(r)}`);
  }
  put(bytes: Uint8Array, at = this.arg): number {
    this.p.mm.copyToUser(at, bytes);
    return at;
  }
  get(len: number, at = this.arg): Uint8Array {
    return this.p.mm.copyFromUser(at, len)!;
  }
  cstr(s: string, at = this.arg): number {
    return this.put(new Uint8Array([...Buffer.from(s, 'latin1'), 0]), at);
  }

  alloc(len: number): number {
    const p = this.p;
    const h = p.open('/dev/dma_heap/system', O_RDWR);
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(len), true);
    dv.setUint32(12, O_RDWR | O_CLOEXEC, true);
    this.put(b);
    const r = p.ioctl(h, 0xc0184800, this.arg);
    if (r < 0) throw new Error(`alloc: ${r}`);
    p.close(h);
    return new DataView(this.get(24).buffer).getUint32(8, true);
  }

  readAll(path: string, proc = this.p): string | number {
    const fd = proc.open(path, O_RDONLY);
    if (fd < 0) return fd;
    let s = '';
    for (;;) {
      const n = proc.read(fd, this.arg, 8191);
      if (n <= 0) break;
      s += Buffer.from(proc.mm.copyFromUser(this.arg, n)!).toString('latin1');
    }
    proc.close(fd);
    return s;
  }

  inoOf(fd: number, proc = this.p): number {
    return proc.statOf(fd)!.ino;
  }

  bufinfo(name: string, ino: number, proc = this.p): void {
    const b = this.readAll('/sys/kernel/debug/dma_buf/bufinfo', proc);
    const want = `\t${String(ino).padStart(8, '0')}\t`;
    for (const l of (typeof b === 'string' ? b : '').split('\n')) {
      const at = l.indexOf(want);
      if (at >= 0) {
        this.out.push(`${name}: ${l.slice(0, at)}\tINO\t${l.slice(at + want.length)}`);
        return;
      }
    }
    this.out.push(`${name}: gone`);
  }

  maps(name: string, what: string, proc = this.p): void {
    const b = this.readAll('/proc/self/maps', proc);
    for (const l of (typeof b === 'string' ? b : '').split('\n')) {
      if (!l.includes(what)) continue;
      const m = /^\S+ (\S+) ([0-9a-f]+) \S+ \S+\s+(.*)$/.exec(l);
      if (m !== null) this.out.push(`${name}: ${m[1]} ${m[2]!.padStart(8, '0')} ${m[3]}`);
    }
  }

  link(name: string, fd: number, proc = this.p): void {
    const n = proc.readlink(`/proc/self/fd/${fd}`, this.arg, 511);
    if (n < 0) { this.out.push(`${name}: errno=${this.en(n)}`); return; }
    const l = Buffer.from(proc.mm.copyFromUser(this.arg, n)!).toString('latin1');
    this.out.push(`${name}: ${n} ${l}`);
  }

  fdinfo(name: string, fd: number, proc = this.p): void {
    const b = this.readAll(`/proc/self/fdinfo/${fd}`, proc);
    if (typeof b === 'number') { this.out.push(`${name}: errno=${this.en(b)}`); return; }
    this.out.push(`${name}:`);
    const lines = b.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const l of lines) {
      if (l.startsWith('mnt_id:')) this.out.push('mnt_id:\tMNT');
      else if (l.startsWith('ino:')) this.out.push('ino:\tINO');
      else this.out.push(l);
    }
  }

  statLine(name: string, r: number): void {
    if (r < 0) { this.out.push(`${name}: errno=${this.en(r)}`); return; }
    const dv = new DataView(this.get(144).buffer);
    const size = Number(dv.getBigInt64(48, true));
    const blksize = Number(dv.getBigInt64(56, true));
    const blocks = Number(dv.getBigInt64(64, true));
    const mode = dv.getUint32(24, true);
    this.out.push(`${name}: st_size=${size} st_blocks=${blocks} st_blksize=${blksize} mode=0${mode.toString(8)}`);
  }
  /** stat(2): the path walk without an fd (an fd would count in /proc/self/fd's size). */
  size(name: string, path: string): void {
    const f = this.k.openPath(this.p, path, O_PATH);
    if (typeof f === 'number') { this.statLine(name, f); return; }
    this.put(encodeStat(f.inode, 'x86_64', 4096));
    f.put();
    this.statLine(name, 0);
  }
  fsize(name: string, fd: number): void {
    this.statLine(name, this.p.fstat(fd, this.arg));
  }

  flock(type: number, pid = 0): number {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setInt16(0, type, true);
    dv.setInt32(24, pid, true);
    return this.put(b, this.arg + 4096);
  }
  ltype(): number {
    return new DataView(this.get(2, this.arg + 4096).buffer).getInt16(0, true);
  }

  fcntls(k: string, fd: number): void {
    const p = this.p;
    const F = (label: string, r: number): void => this.R(`${k} fcntl ${label}`, r);
    F('F_GETFD', p.fcntl(fd, F_GETFD));
    F('F_GETFL', p.fcntl(fd, F_GETFL));
    F('F_GETLK RDLCK', p.fcntl(fd, F_GETLK, this.flock(F_RDLCK))); this.out.push(`l_type=${this.ltype()}`);
    F('F_GETLK WRLCK', p.fcntl(fd, F_GETLK, this.flock(F_WRLCK))); this.out.push(`l_type=${this.ltype()}`);
    F('F_SETLK RDLCK', p.fcntl(fd, F_SETLK, this.flock(F_RDLCK)));
    F('F_SETLK WRLCK', p.fcntl(fd, F_SETLK, this.flock(F_WRLCK)));
    F('F_SETLKW UNLCK', p.fcntl(fd, F_SETLKW, this.flock(F_UNLCK)));
    F('F_SETLK type7', p.fcntl(fd, F_SETLK, this.flock(7)));
    F('F_OFD_GETLK', p.fcntl(fd, F_OFD_GETLK, this.flock(F_RDLCK))); this.out.push(`l_type=${this.ltype()}`);
    F('F_OFD_SETLK', p.fcntl(fd, F_OFD_SETLK, this.flock(F_RDLCK)));
    F('F_OFD_SETLKW', p.fcntl(fd, F_OFD_SETLKW, this.flock(F_UNLCK)));
    F('F_OFD_GETLK pid1', p.fcntl(fd, F_OFD_GETLK, this.flock(F_RDLCK, 1)));
    F('F_GETLK NULL', p.fcntl(fd, F_GETLK, 0));
    F('F_GETOWN', p.fcntl(fd, F_GETOWN));
    F('F_SETOWN 0', p.fcntl(fd, F_SETOWN, 0));
    this.put(new Uint8Array(8), this.arg + 4096);
    F('F_GETOWN_EX', p.fcntl(fd, F_GETOWN_EX, this.arg + 4096));
    { const dv = new DataView(this.get(8, this.arg + 4096).buffer); this.out.push(`type=${dv.getInt32(0, true)} pid=${dv.getInt32(4, true)}`); }
    F('F_GETSIG', p.fcntl(fd, F_GETSIG));
    F('F_SETSIG 0', p.fcntl(fd, F_SETSIG, 0));
    F('F_SETSIG 65', p.fcntl(fd, F_SETSIG, 65));
    F('F_GETLEASE', p.fcntl(fd, F_GETLEASE));
    F('F_SETLEASE RDLCK', p.fcntl(fd, F_SETLEASE, F_RDLCK));
    F('F_SETLEASE UNLCK', p.fcntl(fd, F_SETLEASE, F_UNLCK));
    F('F_NOTIFY', p.fcntl(fd, F_NOTIFY, 2));
    F('F_GETPIPE_SZ', p.fcntl(fd, F_GETPIPE_SZ));
    F('F_SETPIPE_SZ', p.fcntl(fd, F_SETPIPE_SZ, 4096));
    F('F_GET_SEALS', p.fcntl(fd, F_GET_SEALS));
    F('F_ADD_SEALS', p.fcntl(fd, F_ADD_SEALS, 0));
    const hint = (v: number): number => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return this.put(b, this.arg + 4096); };
    F('F_GET_RW_HINT', p.fcntl(fd, 1035, hint(0)));
    F('F_SET_RW_HINT', p.fcntl(fd, 1036, hint(2)));
    F('F_GET_FILE_RW_HINT', p.fcntl(fd, 1037, hint(0)));
    F('F_DUPFD_QUERY self', p.fcntl(fd, 1027, fd));
    F('F_DUPFD_QUERY 0', p.fcntl(fd, 1027, 0));
    F('F_CREATED_QUERY', p.fcntl(fd, 1028, 0));
    F('cmd 12 (F_GETLK64 on 64-bit = F_GETLK? no: 12)', p.fcntl(fd, 12, this.flock(F_RDLCK)));
    F('cmd 1029', p.fcntl(fd, 1029, 0));
    F('cmd 9999', p.fcntl(fd, 9999, 0));
    F('cmd -1', p.fcntl(fd, -1, 0));
    const d = p.fcntl(fd, F_DUPFD_CLOEXEC, 100);
    this.R(`${k} fcntl F_DUPFD_CLOEXEC 100`, d);
    F('dup F_GETFD', p.fcntl(d, F_GETFD));
    p.close(d);
  }

  setfl(k: string, fd: number): void {
    const p = this.p;
    const F = (label: string, r: number): void => {
      this.R(`${k} ${label}`, r);
      this.out.push(`F_GETFL=0${p.fcntl(fd, F_GETFL).toString(8)}`);
    };
    F('F_SETFL O_DIRECT', p.fcntl(fd, F_SETFL, O_DIRECT));
    F('F_SETFL O_ASYNC', p.fcntl(fd, F_SETFL, O_ASYNC));
    F('F_SETFL O_NONBLOCK|O_APPEND|O_NOATIME', p.fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND | O_NOATIME));
    F('F_SETFL O_RDONLY|O_TRUNC|O_CREAT|O_SYNC', p.fcntl(fd, F_SETFL, O_TRUNC | O_CREAT | O_SYNC | O_DSYNC));
    F('F_SETFL 0', p.fcntl(fd, F_SETFL, 0));
  }

  event(events: number, data: number): number {
    const b = new Uint8Array(12);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, events >>> 0, true);
    dv.setBigUint64(4, BigInt(data), true);
    return this.put(b, this.arg + 8192);
  }
  ep(name: string, e: number, fd: number, ev: number): void {
    this.R(name, this.p.epollCtl(e, EPOLL_CTL_ADD, fd, this.event(ev, fd)));
  }
  wait(name: string, e: number): void {
    const at = this.arg + 12288;
    const n = this.p.epollWait(e, at, 8, 0);
    let s = `${name}: ret=${n < 0 ? -1 : n} errno=${this.en(n)}`;
    if (n > 0) {
      const dv = new DataView(this.get(12 * n, at).buffer);
      for (let i = 0; i < n; i++) s += ` [${dv.getBigUint64(i * 12 + 4, true)} 0x${dv.getUint32(i * 12, true).toString(16)}]`;
    }
    this.out.push(s);
  }

  pollOne(name: string, fd: number, events: number): void {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, events, true);
    const at = this.put(b, this.arg + 4096);
    this.R(name, this.p.poll(at, 1, 0));
    this.out.push(`revents=0x${(new DataView(this.get(8, at).buffer).getInt16(6, true) & 0xffff).toString(16)}`);
  }

  sendfd(s: number, fd: number): number {
    return this.p.sendmsg(s, new Uint8Array([0x78]), [fd]);
  }
  recvfd(name: string, s: number, cloexec: boolean, space: boolean): number {
    const r = this.p.recvmsg(s, 1, space ? 1 : 0, cloexec ? 0x40000000 : 0);
    const fd = r.fds[0] ?? -1;
    this.out.push(`${name}: ret=${r.ret < 0 ? -1 : r.ret} errno=${this.en(r.ret)} fd=${fd} ctrunc=${(r.flags & 8) !== 0 ? 1 : 0}`);
    return fd;
  }
  socketpair(): [number, number] {
    const r = this.p.socketpair(1, 1, 0, this.arg + 4096);
    if (r < 0) return [r, r];
    const dv = new DataView(this.get(8, this.arg + 4096).buffer);
    return [dv.getInt32(0, true), dv.getInt32(4, true)];
  }
}

/** Runs the probe; returns its lines. */
export function runFdGeneric(profile: ProfileName): string[] {
  const t = new Probe(profile);
  const p = t.p;
  t.size('size sysfs cma attr', '/sys/kernel/mm/cma/reserved/alloc_pages_success');
  t.size('size sysfs dev attr', '/sys/class/dma_heap/system/dev');
  t.size('size sysfs uevent', '/sys/class/dma_heap/system/uevent');
  t.size('size procfs meminfo', '/proc/meminfo');
  t.size('size procfs self/maps', '/proc/self/maps');
  t.size('size procfs self/status', '/proc/self/status');
  t.size('size procfs fdinfo/0', '/proc/self/fdinfo/0');
  t.size('size procfs self/fd', '/proc/self/fd');
  t.size('size procfs config.gz', '/proc/config.gz');
  t.size('size debugfs bufinfo', '/sys/kernel/debug/dma_buf/bufinfo');
  t.size('size debugfs cma count', '/sys/kernel/debug/cma/reserved/count');
  t.size('size cgroup.procs', '/sys/fs/cgroup/cgroup.procs');
  t.size('size cgroup memory.stat', '/sys/fs/cgroup/memory.stat');
  t.size('size sysfs dir', '/sys/kernel/mm/cma/reserved');
  t.size('size heap node', '/dev/dma_heap/system');
  t.size('size udmabuf node', '/dev/udmabuf');

  const heap = p.open('/dev/dma_heap/system', O_RDWR);
  let buf = t.alloc(16384);
  const mfd = p.memfdCreate('m', MFD_ALLOW_SEALING);
  p.ftruncate(mfd, 4096);
  const meminfo = p.open('/proc/meminfo', O_RDONLY);
  const attr = p.open('/sys/kernel/mm/cma/reserved/alloc_pages_success', O_RDONLY);
  const binfo = p.open('/sys/kernel/debug/dma_buf/bufinfo', O_RDONLY);
  const procs = p.open('/sys/fs/cgroup/cgroup.procs', O_RDWR);
  const opath = p.open(`/proc/self/fd/${buf}`, O_PATH);
  t.R('O_PATH dma-buf', opath);
  t.fsize('dma-buf fstat', buf);
  t.fsize('O_PATH dma-buf fstat', opath);
  t.fcntls('heap', heap);
  t.fcntls('dma-buf', buf);
  t.fcntls('memfd', mfd);
  t.fcntls('meminfo', meminfo);
  t.fcntls('sysfs', attr);
  t.fcntls('bufinfo', binfo);
  t.fcntls('cgroup.procs', procs);
  t.fcntls('O_PATH', opath);
  t.setfl('heap', heap);
  t.setfl('dma-buf', buf);
  t.setfl('memfd', mfd);
  t.setfl('meminfo', meminfo);
  t.setfl('sysfs', attr);
  t.setfl('O_PATH', opath);

  t.R('O_PATH dma-buf read', p.read(opath, t.arg, 8));
  t.R('O_PATH dma-buf mmap', p.mmap(0, 4096, PROT_READ, MAP_SHARED, opath, 0) < 0 ? p.mmap(0, 4096, PROT_READ, MAP_SHARED, opath, 0) : 0);
  t.R('O_PATH dma-buf ioctl SET_NAME', p.ioctl(opath, DMA_BUF_SET_NAME_B, t.cstr('x')));
  t.link('O_PATH dma-buf link', opath);
  t.fdinfo('O_PATH dma-buf fdinfo', opath);
  t.R('reopen dma-buf RDWR', p.open(`/proc/self/fd/${buf}`, O_RDWR));
  t.R('reopen dma-buf O_PATH|O_DIRECTORY', p.open(`/proc/self/fd/${buf}`, O_PATH | O_DIRECTORY));
  t.R('reopen dma-buf trailing slash', p.open(`/proc/self/fd/${buf}/`, O_PATH));

  const e = p.epollCreate1(EPOLL_CLOEXEC);
  t.R('epoll_create1', e);
  t.R('epoll_create1 bad flag', p.epollCreate1(1));
  t.R('epoll_create 0', p.epollCreate(0));
  t.ep('epoll ADD heap', e, heap, EPOLLIN);
  t.ep('epoll ADD dma-buf', e, buf, EPOLLIN | EPOLLOUT);
  t.ep('epoll ADD dma-buf again', e, buf, EPOLLIN);
  t.ep('epoll ADD memfd', e, mfd, EPOLLIN);
  t.ep('epoll ADD meminfo', e, meminfo, EPOLLIN);
  t.ep('epoll ADD sysfs', e, attr, EPOLLIN | EPOLLPRI);
  t.ep('epoll ADD bufinfo', e, binfo, EPOLLIN);
  t.ep('epoll ADD cgroup.procs', e, procs, EPOLLIN);
  t.ep('epoll ADD O_PATH', e, opath, EPOLLIN);
  t.ep('epoll ADD self', e, e, EPOLLIN);
  t.ep('epoll ADD bad fd', e, 999, EPOLLIN);
  t.ep('epoll ADD on non-epoll', heap, buf, EPOLLIN);
  { const pf = p.pidfdOpen(p.pid, 0); t.ep('epoll ADD pidfd', e, pf, EPOLLIN); p.close(pf); }
  t.R('epoll bad op', p.epollCtl(e, 9, buf, t.event(EPOLLIN, 0)));
  t.R('epoll MOD dma-buf IN', p.epollCtl(e, EPOLL_CTL_MOD, buf, t.event(EPOLLIN, buf)));
  t.R('epoll MOD memfd', p.epollCtl(e, EPOLL_CTL_MOD, mfd, t.event(EPOLLIN, 0)));
  t.R('epoll MOD EXCLUSIVE', p.epollCtl(e, EPOLL_CTL_MOD, buf, t.event(EPOLLIN | EPOLLEXCLUSIVE, 0)));
  t.R('epoll DEL memfd', p.epollCtl(e, EPOLL_CTL_DEL, mfd, 0));
  t.wait('epoll_wait', e);
  t.fdinfo('epoll fdinfo', e);
  t.link('epoll link', e);
  t.fsize('epoll fstat', e);
  t.R('epoll_wait maxevents 0', p.epollWait(e, t.arg + 12288, 0, 0));
  t.R('epoll_wait on dma-buf', p.epollWait(buf, t.arg + 12288, 1, 0));
  t.R('epoll MOD dma-buf OUT', p.epollCtl(e, EPOLL_CTL_MOD, buf, t.event(EPOLLOUT, buf)));
  t.wait('epoll_wait OUT', e);
  t.R('epoll MOD dma-buf ET', p.epollCtl(e, EPOLL_CTL_MOD, buf, t.event(EPOLLIN | EPOLLOUT | EPOLLET, buf)));
  t.wait('epoll_wait ET 1', e);
  t.wait('epoll_wait ET 2', e);
  t.R('epoll MOD dma-buf ONESHOT', p.epollCtl(e, EPOLL_CTL_MOD, buf, t.event(EPOLLIN | EPOLLONESHOT, buf)));
  t.wait('epoll_wait ONESHOT 1', e);
  t.wait('epoll_wait ONESHOT 2', e);
  t.pollOne('poll dma-buf', buf, POLLIN | POLLOUT | POLLPRI);
  t.pollOne('poll epoll', e, POLLIN);
  {
    const d = p.dup(buf);
    const b2 = t.alloc(4096);
    t.ep('epoll ADD b2', e, b2, EPOLLIN);
    p.close(b2);
    p.epollCtl(e, EPOLL_CTL_MOD, buf, t.event(EPOLLIN, buf));
    t.wait('epoll_wait after close of b2', e);
    t.R('epoll DEL closed fd', p.epollCtl(e, EPOLL_CTL_DEL, b2, 0));
    p.close(buf);
    t.wait("epoll_wait after close of a dup'd fd", e);
    t.R("epoll DEL closed dup'd fd", p.epollCtl(e, EPOLL_CTL_DEL, buf, 0));
    buf = p.dup3(d, buf);
    p.close(d);
  }
  p.close(e);

  const names = ['a b', 'nl\nx', 'bs\\y', 'tab\tz', 'pct%d', ''];
  names.forEach((nm, i) => {
    const b = t.alloc(4096);
    const k = `name${i}`;
    t.R(`${k} set_name`, p.ioctl(b, DMA_BUF_SET_NAME_B, t.cstr(nm, t.arg + 256)));
    const m = p.mmap(0, 4096, PROT_READ, MAP_SHARED, b, 0);
    t.maps(`${k} maps`, 'dmabuf');
    t.link(`${k} link`, b);
    t.fdinfo(`${k} fdinfo`, b);
    t.bufinfo(`${k} bufinfo`, t.inoOf(b));
    p.munmap(m, 4096);
    p.close(b);
  });
  {
    const m = p.memfdCreate('sp ace\nnl\\bs', 0);
    p.ftruncate(m, 4096);
    const a = p.mmap(0, 4096, PROT_READ, MAP_SHARED, m, 0);
    t.maps('memfd maps', 'memfd');
    t.link('memfd link', m);
    p.munmap(a, 4096);
    p.close(m);
    const b = t.alloc(4096);
    t.R('set_name 39 bytes', p.ioctl(b, DMA_BUF_SET_NAME_B, t.cstr('q'.repeat(39), t.arg + 256)));
    t.link('name 39 link', b);
    t.R('set_name 31 bytes', p.ioctl(b, DMA_BUF_SET_NAME_B, t.cstr('q'.repeat(31), t.arg + 256)));
    t.link('name 31 link', b);
    p.close(b);
  }

  {
    const b = t.alloc(8192);
    const ino = t.inoOf(b);
    t.bufinfo('fork before', ino);
    const m = p.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
    t.bufinfo('fork mapped', ino);
    const d = p.dup(b);
    p.fcntl(d, F_SETFD, 0);
    t.bufinfo('fork dup', ino);
    const c = p.fork();
    t.p = c;
    t.bufinfo('fork child', ino, c);
    t.R('fork child F_GETFD cloexec', c.fcntl(b, F_GETFD));
    t.R('fork child F_GETFD dup', c.fcntl(d, F_GETFD));
    t.fdinfo('fork child fdinfo', b, c);
    t.maps('fork child maps', 'dmabuf', c);
    c.close(b);
    t.bufinfo('fork child closed one', ino, c);
    c.munmap(m, 8192);
    t.bufinfo('fork child unmapped', ino, c);
    c.fcntl(d, F_DUPFD_CLOEXEC, b);
    t.bufinfo('fork child before exec', ino, c);
    c.exec('fd-generic');
    t.arg = c.userAlloc(1 << 16);
    t.R('exec F_GETFD kept', c.fcntl(d, F_GETFD));
    t.R('exec F_GETFD cloexec', c.fcntl(b, F_GETFD));
    t.bufinfo('exec bufinfo', ino, c);
    c.exit();
    t.p = p;
    t.arg = t.p.userAlloc(1 << 16);
    t.bufinfo('fork parent after child exit', ino);
    p.munmap(m, 8192);
    p.close(d);
    t.bufinfo('fork parent unmapped', ino);
    p.close(b);
    t.bufinfo('fork parent closed', ino);
  }

  {
    const sp = p.socketpair(1, 1, 0, t.arg + 4096);
    t.R('socketpair', sp);
    let sv = new DataView(t.get(8, t.arg + 4096).buffer);
    let s0 = sv.getInt32(0, true), s1 = sv.getInt32(4, true);
    let b = t.alloc(4096);
    let ino = t.inoOf(b);
    t.bufinfo('scm before', ino);
    t.R('scm sendmsg', t.sendfd(s0, b));
    t.bufinfo('scm in flight', ino);
    p.close(b);
    t.bufinfo('scm sender closed', ino);
    let r = t.recvfd('scm recvmsg', s1, true, true);
    t.bufinfo('scm received', ino);
    t.R('scm received F_GETFD', p.fcntl(r, F_GETFD));
    t.link('scm received link', r);
    t.fdinfo('scm received fdinfo', r);
    t.R('scm sendmsg O_PATH', t.sendfd(s0, opath));
    r = t.recvfd('scm recvmsg O_PATH', s1, false, true);
    t.link('scm O_PATH link', r);
    t.R('scm received O_PATH F_GETFL', p.fcntl(r, F_GETFL));
    p.close(r);
    b = t.alloc(4096); ino = t.inoOf(b);
    t.sendfd(s0, b); p.close(b);
    t.bufinfo('scm ctrunc in flight', ino);
    t.recvfd('scm recvmsg no space', s1, false, false);
    t.bufinfo('scm ctrunc after', ino);
    b = t.alloc(4096); ino = t.inoOf(b);
    t.sendfd(s0, b); p.close(b);
    const old = { ...p.nofile };
    const hi = p.dup(0); p.close(hi);
    p.setNofile(hi, old.max);
    t.recvfd('scm recvmsg EMFILE', s1, false, true);
    p.setNofile(old.cur, old.max);
    t.bufinfo('scm EMFILE after', ino);
    b = t.alloc(4096); ino = t.inoOf(b);
    t.sendfd(s0, b); p.close(b);
    t.bufinfo('scm queued', ino);
    p.close(s1);
    t.bufinfo('scm receiver closed', ino);
    t.R('scm sendmsg to closed', t.sendfd(s0, 0));
    p.close(s0);
    p.socketpair(1, 1, 0, t.arg + 4096);
    sv = new DataView(t.get(8, t.arg + 4096).buffer);
    s0 = sv.getInt32(0, true); s1 = sv.getInt32(4, true);
    b = t.alloc(4096); ino = t.inoOf(b);
    t.sendfd(s0, b); p.close(b); p.close(s0);
    t.bufinfo('scm sender socket closed', ino);
    r = t.recvfd('scm recvmsg after sender closed', s1, false, true);
    t.bufinfo('scm received after sender closed', ino);
    p.close(r); p.close(s1);
    t.bufinfo('scm all closed', ino);
    t.R('scm sendmsg on dma-buf', t.sendfd(buf, 0));
    t.R('scm sendmsg bad fd', t.sendfd(s0, 0));
    [s0, s1] = t.socketpair();
    t.R('scm sendmsg closed fd', t.sendfd(s0, 999));
    p.close(s0); p.close(s1);
  }
  return t.out;
}

const MATRIX_FLAGS: readonly [string, number, boolean][] = [
  ['O_RDONLY', O_RDONLY, false], ['O_WRONLY', 1, false], ['O_RDWR', O_RDWR, false], ['O_RDONLY|O_TRUNC', O_TRUNC, false],
  ['O_WRONLY|O_APPEND', 1 | O_APPEND, false], ['O_RDONLY|O_DIRECTORY', O_DIRECTORY, false], ['O_RDONLY|O_CREAT', O_CREAT, false],
  ['O_RDWR|O_CREAT|O_EXCL', O_RDWR | O_CREAT | 0o200, false], ['O_RDONLY|O_NOFOLLOW', 0o400000, false], ['O_PATH', O_PATH, false],
  ['O_PATH|O_DIRECTORY', O_PATH | O_DIRECTORY, false], ['O_PATH|O_NOFOLLOW', O_PATH | 0o400000, false], ['O_TMPFILE|O_RDWR', 0o20200000 | O_RDWR, false],
  ['O_RDONLY|O_NONBLOCK|O_NOATIME', O_NONBLOCK | O_NOATIME, false], ['O_RDONLY trailing slash', O_RDONLY, true], ['O_PATH trailing slash', O_PATH, true],
];

/** test/oracle/issue-11/open-matrix.c re-run: open(2) flags on every kind of file, as root and as uid 1000. */
export function runOpenMatrix(profile: ProfileName): string[] {
  const t = new Probe(profile);
  const p = t.p;
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, 4096n, true);
  dv.setUint32(12, O_RDWR, true);
  t.put(b);
  p.ioctl(h, 0xc0184800, t.arg);
  const buf = new DataView(t.get(24).buffer).getUint32(8, true);
  p.close(h);
  const m = p.memfdCreate('m', 0);
  for (const who of ['root', 'user']) {
    const c = p.fork();
    if (who === 'user') c.cred = { uid: 1000, gid: 1000, groups: [] };
    const files: [string, string][] = [
      ['heap', '/dev/dma_heap/system'], ['udmabuf', '/dev/udmabuf'], ['meminfo', '/proc/meminfo'], ['maps', '/proc/self/maps'],
      ['sysfs-ro', '/sys/class/dma_heap/system/dev'], ['sysfs-rw', '/sys/class/dma_heap/system/uevent'], ['bufinfo', '/sys/kernel/debug/dma_buf/bufinfo'],
      ['cgroup.procs', '/sys/fs/cgroup/cgroup.procs'], ['dma-buf', `/proc/self/fd/${buf}`], ['memfd', `/proc/self/fd/${m}`], ['heap-dir', '/dev/dma_heap'],
    ];
    for (const [file, path] of files) {
      for (const [name, flags, slash] of MATRIX_FLAGS) {
        const fd = c.open(slash ? `${path}/` : path, flags, 0o600);
        if (fd < 0) t.out.push(`${who} ${file} ${name}: errno=${t.en(fd)}`);
        else {
          t.out.push(`${who} ${file} ${name}: ok F_GETFL=0${c.fcntl(fd, F_GETFL).toString(8)}`);
          c.close(fd);
        }
      }
    }
    c.exit();
  }
  return t.out;
}

/** test/oracle/issue-11/unix-socket.c re-run: a socket pair as a file, fdinfo's scm_fds, poll, socketpair's checks. */
export function runUnixSocket(profile: ProfileName): string[] {
  const t = new Probe(profile);
  const p = t.p;
  const pair = (domain: number, type: number, protocol: number, at: number): number => p.socketpair(domain, type, protocol, at);
  const svAt = t.arg + 4096;
  t.R('socketpair', pair(1, 1, 0, svAt));
  const sv = new DataView(t.get(8, svAt).buffer);
  const s0 = sv.getInt32(0, true);
  const s1 = sv.getInt32(4, true);
  p.fstat(s0, t.arg);
  {
    const dv = new DataView(t.get(144).buffer);
    t.out.push(`fstat: mode=0${dv.getUint32(24, true).toString(8)} size=${dv.getBigInt64(48, true)} blocks=${dv.getBigInt64(64, true)} blksize=${dv.getBigInt64(56, true)} nlink=${dv.getBigUint64(16, true)}`);
  }
  const n = p.readlink(`/proc/self/fd/${s0}`, t.arg, 127);
  const l = Buffer.from(t.get(Math.max(n, 0))).toString('latin1');
  t.out.push(`link: ${l.startsWith('socket:[') ? 'socket:[INO]' : l}`);
  t.R('F_GETFL', p.fcntl(s0, F_GETFL));
  t.R('reopen', p.open(`/proc/self/fd/${s0}`, O_RDWR));
  t.fdinfo('fdinfo empty', s1);
  const pl = (name: string, fd: number): void => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, POLLIN | POLLOUT | POLLPRI | 0x2000, true);
    const at = t.put(b, t.arg + 8192);
    const r = p.poll(at, 1, 0);
    t.out.push(`${name}: ret=${r} revents=0x${(new DataView(t.get(8, at).buffer).getInt16(6, true) & 0xffff).toString(16)}`);
  };
  pl('poll idle s0', s0);
  pl('poll idle s1', s1);
  const m = p.memfdCreate('m', 0);
  t.R('sendmsg 2 fds', p.sendmsg(s0, new Uint8Array([0x78]), [m, m]));
  t.fdinfo('fdinfo queued s1', s1);
  t.fdinfo('fdinfo queued s0', s0);
  pl('poll queued s1', s1);
  t.R('sendmsg 253 fds', p.sendmsg(s0, new Uint8Array([0x78]), new Array<number>(253).fill(m)));
  t.R('sendmsg 254 fds', p.sendmsg(s0, new Uint8Array([0x78]), new Array<number>(254).fill(m)));
  const bad = t.arg + 12288;
  const tryPair = (name: string, domain: number, type: number, protocol: number): void => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setInt32(0, -7, true);
    new DataView(b.buffer).setInt32(4, -7, true);
    t.put(b, bad);
    t.R(name, pair(domain, type, protocol, bad));
    t.out.push(`sv written: ${new DataView(t.get(8, bad).buffer).getInt32(0, true) !== -7 ? 1 : 0}`);
  };
  tryPair('socketpair AF_INET', 2, 1, 0);
  tryPair('socketpair family 99', 99, 1, 0);
  tryPair('socketpair type 99', 1, 99, 0);
  tryPair('socketpair protocol 7', 1, 1, 7);
  t.R('socketpair NULL', pair(1, 1, 0, 0));
  t.R('socketpair flags', pair(1, 1 | O_CLOEXEC | O_NONBLOCK, 0, bad));
  const two = new DataView(t.get(8, bad).buffer);
  const a = two.getInt32(0, true);
  const b = two.getInt32(4, true);
  t.R('F_GETFL nonblock', p.fcntl(a, F_GETFL));
  t.R('F_GETFD cloexec', p.fcntl(a, F_GETFD));
  p.close(a);
  p.close(b);
  p.close(s0);
  pl('poll peer closed s1', s1);
  return t.out;
}
