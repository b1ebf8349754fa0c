/**
 * The referee probes test/oracle/issue-11/vfs-walk.c and vfs-walk2.c re-run on the emulated
 * kernel: the same calls in the same order, printed in the same format, so that the output
 * compares line by line with what the real kernels printed (kernel-vfs-oracle.test.ts). The
 * child's lines (setresuid to 1000) come before the parent's, as the C program's waitpid()
 * orders them. chdir("/") is the emulated process's working directory already; the C program's
 * chmod() of cgroup directories it just made with the same mode changes nothing (umask 022 keeps
 * 0700, 0711 and 0755), and its chmod of the heap node is Kernel.setDevNode (a udev rule).
 */
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { errnoName } from '../../src/uapi/errno.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import { F_GETFL } from '../../src/uapi/fcntl.js';

const O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000;
const O_NOATIME = 0o1000000, O_PATH = 0o10000000, O_TMPFILE = 0o20200000;

/** new_encode_dev's major:minor of a kernel dev_t (MINORBITS 20). */
function devStr(dev: number): string {
  return `${Math.floor(dev / 2 ** 20)}:${dev % 2 ** 20}`;
}

class Probe {
  readonly k: Kernel;
  readonly p: Process;
  readonly out: string[] = [];
  readonly arg: number;

  constructor(readonly profile: ProfileName) {
    // the referees are built without CONFIG_IKCONFIG and CONFIG_CGROUP_DMEM
    this.k = new Kernel({ profile, arch: 'x86_64', pageSize: 4096, ramBytes: 2 * 1024 ** 3, cmdline: 'cma=64M', kconfig: { IKCONFIG: false, IKCONFIG_PROC: false, CGROUP_DMEM: false } });
    this.p = this.k.spawn({ uid: 0, gid: 0, groups: [] }, 'probe');
    // stdin, stdout, stderr
    const stdio = this.p.memfdCreate('stdio', 0);
    this.p.dup(stdio);
    this.p.dup(stdio);
    this.arg = this.p.userAlloc(1 << 16);
  }

  en(r: number): string {
    return errnoName(-r) ?? `errno${-r}`;
  }
  R(name: string, r: number): void {
    this.out.push(`${name}: ret=${r < 0 ? -1 : r} errno=${r < 0 ? this.en(r) : '0'}`);
  }

  /** open, then F_GETFL and st_mode/uid (vfs-walk.c) or st_mode/ino (vfs-walk2.c) of the fd */
  o(name: string, path: string, flags: number, proc = this.p, withIno = false): void {
    const fd = proc.open(path, flags, 0o600);
    if (fd < 0) { this.out.push(`${name}: errno=${this.en(fd)}`); return; }
    const st = proc.statOf(fd)!;
    const tail = withIno ? `ino=${st.ino}` : `uid=${st.uid}`;
    this.out.push(`${name}: ok F_GETFL=0${proc.fcntl(fd, F_GETFL).toString(8)} mode=0${st.mode.toString(8)} ${tail}`);
    proc.close(fd);
  }
  o2(name: string, path: string, flags: number, proc = this.p): void {
    this.o(name, path, flags, proc, true);
  }

  rl(name: string, path: string, proc = this.p): void {
    const n = proc.readlink(path, this.arg, 255);
    if (n < 0) { this.out.push(`${name}: errno=${this.en(n)}`); return; }
    const b = Buffer.from(proc.mm.copyFromUser(this.arg, n)!).toString('latin1');
    this.out.push(`${name}: link=${b === String(proc.pid) ? '<pid>' : b}`);
  }

  /** stat(2): the walk following every link, without an fd. */
  stat(path: string, proc = this.p): { dev: number; ino: number; mode: number; nlink: number } | number {
    const f = this.k.openPath(proc, path, O_PATH);
    if (typeof f === 'number') return f;
    const i = f.inode;
    f.put();
    return { dev: i.dev, ino: i.ino, mode: i.mode, nlink: i.nlink ?? 1 };
  }
  id(name: string, path: string): void {
    const st = this.stat(path);
    if (typeof st === 'number') { this.out.push(`${name}: errno=${this.en(st)}`); return; }
    this.out.push(`${name}: dev=${devStr(st.dev)} ino=${st.ino} mode=0${st.mode.toString(8)} nlink=${st.nlink}`);
  }
  same(name: string, a: string, b: string): void {
    const x = this.stat(a), y = this.stat(b);
    if (typeof x === 'number' || typeof y === 'number') { this.out.push(`${name}: errno=${this.en(typeof y === 'number' ? y : x as number)}`); return; }
    this.out.push(`${name}: ${x.dev === y.dev && x.ino === y.ino ? 'same' : 'different'}`);
  }

  /** opendir + readdir: `.` and `..` first, as every file system here emits them (dir_emit_dots). */
  ls(name: string, path: string, proc = this.p, max = Infinity): void {
    const r = this.k.readdirAt(path, proc);
    if (typeof r === 'number') { this.out.push(`${name}: errno=${this.en(r)}`); return; }
    this.out.push(`${name}:${['.', '..', ...r].slice(0, max).map((n) => ` ${n}`).join('')}`);
  }

  catf(name: string, path: string): void {
    const r = this.k.readFile(this.p, path);
    if (typeof r === 'number') { this.out.push(`${name}: errno=${this.en(r)}`); return; }
    const s = r.slice(0, 8191);
    this.out.push(`${name}: ${s.length} bytes`);
    this.out.push(...s.split('\n').slice(0, s.endsWith('\n') ? -1 : undefined));
  }

  /** A child with uid and gid 1000 (fork, setresgid, setresuid; every emulated task is dumpable). */
  user(): Process {
    const c = this.p.fork();
    c.cred = { uid: 1000, gid: 1000, groups: [] };
    return c;
  }
}

function rep(c: string, n: number): string {
  return c.repeat(n);
}

function userCases(t: Probe, u: Process): void {
  const o = (name: string, path: string, flags: number): void => t.o(name, path, flags, u);
  o('user open /sys/kernel/debug', '/sys/kernel/debug', O_RDONLY);
  o('user open /sys/kernel/debug/', '/sys/kernel/debug/', O_RDONLY);
  o('user O_PATH /sys/kernel/debug', '/sys/kernel/debug', O_PATH);
  o('user O_PATH /sys/kernel/debug/dma_buf', '/sys/kernel/debug/dma_buf', O_PATH);
  o('user open /sys/kernel/debug/nonexist', '/sys/kernel/debug/nonexist', O_RDONLY);
  o('user open /sys/kernel/debug/dma_buf/bufinfo', '/sys/kernel/debug/dma_buf/bufinfo', O_RDONLY);
  o('user open /sys/kernel/debug/..', '/sys/kernel/debug/..', O_RDONLY);
  t.rl('user readlink /sys/kernel/debug', '/sys/kernel/debug', u);
  t.rl('user readlink /sys/kernel/debug/x', '/sys/kernel/debug/x', u);
  t.R('user mkdir /sys/kernel/debug/x', u.mkdir('/sys/kernel/debug/x', 0o755));
  o('user open debugfs/<256>', `/sys/kernel/debug/${rep('n', 256)}`, O_RDONLY);
  o('user open /proc/1/fd/', '/proc/1/fd/', O_RDONLY);
  o('user open /proc/1/fd/0/', '/proc/1/fd/0/', O_RDONLY);
  o('user open /proc/1/fd/..', '/proc/1/fd/..', O_RDONLY);
  o('user O_PATH /proc/1/fd', '/proc/1/fd', O_PATH);
  o('user O_PATH /proc/1/fd/0', '/proc/1/fd/0', O_PATH);
  o('user O_PATH|O_NOFOLLOW /proc/1/fd/0', '/proc/1/fd/0', O_PATH | O_NOFOLLOW);
  o('user O_PATH /proc/1/fdinfo', '/proc/1/fdinfo', O_PATH);
  o('user O_PATH /proc/1/fdinfo/0', '/proc/1/fdinfo/0', O_PATH);
  o('user open /proc/1/fdinfo/nonexist', '/proc/1/fdinfo/nonexist', O_RDONLY);
  o('user open /proc/1/maps', '/proc/1/maps', O_RDONLY);
  o('user O_PATH /proc/1/maps', '/proc/1/maps', O_PATH);
  o('user open /dev/dma_heap/system/', '/dev/dma_heap/system/', O_RDONLY);
  o('user open /dev/dma_heap/system O_RDONLY', '/dev/dma_heap/system', O_RDONLY);
  o('user O_DIRECTORY /dev/dma_heap/system', '/dev/dma_heap/system', O_RDONLY | O_DIRECTORY);
  o('user open cg700/cgroup.procs', '/sys/fs/cgroup/vfsprobe700/cgroup.procs', O_RDONLY);
  o('user O_PATH cg700', '/sys/fs/cgroup/vfsprobe700', O_PATH);
  o('user O_PATH cg700/cgroup.procs', '/sys/fs/cgroup/vfsprobe700/cgroup.procs', O_PATH);
  t.ls('user ls cg700', '/sys/fs/cgroup/vfsprobe700', u);
  o('user open cg711 (--x)', '/sys/fs/cgroup/vfsprobe711', O_RDONLY);
  o('user open cg711/cgroup.procs', '/sys/fs/cgroup/vfsprobe711/cgroup.procs', O_RDONLY);
  o('user open cg700/nonexist', '/sys/fs/cgroup/vfsprobe700/nonexist', O_RDONLY);
  t.R('user mkdir cg700/x', u.mkdir('/sys/fs/cgroup/vfsprobe700/x', 0o755));
  t.R('user mkdir cg755/x', u.mkdir('/sys/fs/cgroup/vfsprobe755/x', 0o755));
  t.R('user rmdir cg700/x', u.rmdir('/sys/fs/cgroup/vfsprobe700/x'));
}

/** vfs-walk.c on the emulated kernel of `profile`: its lines. */
export function runVfsWalk(profile: ProfileName): string[] {
  const t = new Probe(profile);
  const p = t.p;
  const o = (name: string, path: string, flags: number): void => t.o(name, path, flags);
  const m = p.memfdCreate('m', 0);
  p.ftruncate(m, 4096);
  const pfd = p.open('/proc', O_RDONLY | O_DIRECTORY);
  const mi = p.open('/proc/meminfo', O_RDONLY);
  const cgp = p.open('/sys/fs/cgroup/cgroup.procs', O_RDONLY);
  const hp = p.open('/dev/dma_heap/system', O_PATH);
  const h = p.open('/dev/dma_heap/system', O_RDONLY);
  const sysd = p.open('/sys/class/dma_heap/system', O_RDONLY | O_DIRECTORY);
  const pidfd = p.pidfdOpen(p.pid, 0);
  t.out.push(`fds: memfd=${m} proc=${pfd} meminfo=${mi} cgprocs=${cgp} heappath=${hp} heap=${h} sysclass=${sysd} pidfd=${pidfd}`);

  o('open /dev/dma_heap/system/', '/dev/dma_heap/system/', O_RDONLY);
  o('open /dev/dma_heap/system/ O_RDWR', '/dev/dma_heap/system/', O_RDWR);
  o('O_PATH /dev/dma_heap/system/', '/dev/dma_heap/system/', O_PATH);
  o('O_DIRECTORY /dev/dma_heap/system', '/dev/dma_heap/system', O_RDONLY | O_DIRECTORY);
  o('O_PATH|O_DIRECTORY /dev/dma_heap/system', '/dev/dma_heap/system', O_PATH | O_DIRECTORY);
  o('open /dev/dma_heap/system/x', '/dev/dma_heap/system/x', O_RDONLY);
  o('open /dev/dma_heap/system/.', '/dev/dma_heap/system/.', O_RDONLY);
  o('open /dev/dma_heap/system/..', '/dev/dma_heap/system/..', O_RDONLY);
  o('open /dev/udmabuf/', '/dev/udmabuf/', O_RDWR);
  o('open /dev/dma_heap/nonexist/', '/dev/dma_heap/nonexist/', O_RDONLY);
  o('open /dev/dma_heap/nonexist/x', '/dev/dma_heap/nonexist/x', O_RDONLY);
  o('open /dev/dma_heap/', '/dev/dma_heap/', O_RDONLY);
  o('open /dev/dma_heap//system', '/dev/dma_heap//system', O_RDONLY);
  o('open /dev/./dma_heap/../dma_heap/system', '/dev/./dma_heap/../dma_heap/system', O_RDONLY);
  o('open /proc/meminfo/', '/proc/meminfo/', O_RDONLY);
  o('open /proc/meminfo/x', '/proc/meminfo/x', O_RDONLY);
  o('open /proc/meminfo/.', '/proc/meminfo/.', O_RDONLY);
  o('open /proc/nonexist/x', '/proc/nonexist/x', O_RDONLY);
  o('open /sys/fs/cgroup/cgroup.procs/', '/sys/fs/cgroup/cgroup.procs/', O_RDONLY);
  o('open /sys/kernel/debug/dma_buf/bufinfo/', '/sys/kernel/debug/dma_buf/bufinfo/', O_RDONLY);
  o('open /sys/class/dma_heap/system/dev/', '/sys/class/dma_heap/system/dev/', O_RDONLY);
  o('open empty path', '', O_RDONLY);
  o('open relative proc/meminfo from /', 'proc/meminfo', O_RDONLY);
  o('open relative . from /', '.', O_RDONLY);

  o('O_CREAT /dev/dma_heap/system/', '/dev/dma_heap/system/', O_RDWR | O_CREAT);
  o('O_CREAT /proc/nonexist/', '/proc/nonexist/', O_RDWR | O_CREAT);
  o('O_CREAT /proc/meminfo/', '/proc/meminfo/', O_RDONLY | O_CREAT);
  o('O_CREAT /proc/', '/proc/', O_RDONLY | O_CREAT);
  o('O_CREAT|O_EXCL /proc/', '/proc/', O_RDONLY | O_CREAT | O_EXCL);
  o('O_CREAT /proc/self', '/proc/self', O_RDONLY | O_CREAT);
  o('O_CREAT|O_EXCL /proc/self', '/proc/self', O_RDONLY | O_CREAT | O_EXCL);
  o('O_CREAT /sys/class/dma_heap/system', '/sys/class/dma_heap/system', O_RDONLY | O_CREAT);
  o('O_CREAT /proc/meminfo/x', '/proc/meminfo/x', O_RDWR | O_CREAT);
  o('O_CREAT /sys/nonexist', '/sys/nonexist', O_RDWR | O_CREAT);
  o('O_CREAT /sys/kernel/debug/nonexist', '/sys/kernel/debug/nonexist', O_RDWR | O_CREAT);
  o('O_CREAT /sys/fs/cgroup/nonexist', '/sys/fs/cgroup/nonexist', O_RDWR | O_CREAT);
  o('O_TMPFILE /dev/dma_heap/system', '/dev/dma_heap/system', O_TMPFILE | O_RDWR);
  o('O_TMPFILE /proc/self', '/proc/self', O_TMPFILE | O_RDWR);
  o('O_TMPFILE /sys/kernel/debug', '/sys/kernel/debug', O_TMPFILE | O_RDWR);
  o('O_TMPFILE /sys', '/sys', O_TMPFILE | O_RDWR);

  o('open /proc/self/', '/proc/self/', O_RDONLY);
  o('O_NOFOLLOW /proc/self/', '/proc/self/', O_RDONLY | O_NOFOLLOW);
  o('O_NOFOLLOW|O_PATH /proc/self', '/proc/self', O_PATH | O_NOFOLLOW);
  o('O_NOFOLLOW|O_PATH|O_DIRECTORY /proc/self', '/proc/self', O_PATH | O_NOFOLLOW | O_DIRECTORY);
  o('O_NOFOLLOW|O_DIRECTORY /proc/self', '/proc/self', O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
  o('open /proc/self/.', '/proc/self/.', O_RDONLY);
  t.same('/proc/self/.. is /proc', '/proc/self/..', '/proc');
  t.same('/proc/self/fd/.. is /proc/self', '/proc/self/fd/..', '/proc/self');
  o('open /sys/class/dma_heap/system', '/sys/class/dma_heap/system', O_RDONLY);
  o('O_NOFOLLOW /sys/class/dma_heap/system', '/sys/class/dma_heap/system', O_RDONLY | O_NOFOLLOW);
  o('O_NOFOLLOW|O_PATH /sys/class/dma_heap/system', '/sys/class/dma_heap/system', O_PATH | O_NOFOLLOW);
  o('O_NOFOLLOW /sys/class/dma_heap/system/dev', '/sys/class/dma_heap/system/dev', O_RDONLY | O_NOFOLLOW);
  t.rl('readlink /sys/class/dma_heap/system', '/sys/class/dma_heap/system');
  t.rl('readlink /sys/class/dma_heap/system/', '/sys/class/dma_heap/system/');
  t.ls('ls /sys/class/dma_heap/system', '/sys/class/dma_heap/system');
  t.ls('ls /sys/devices/virtual/dma_heap', '/sys/devices/virtual/dma_heap');
  t.ls('ls /sys/class/dma_heap', '/sys/class/dma_heap');
  t.same('/sys/class/dma_heap/system/.. is /sys/devices/virtual/dma_heap', '/sys/class/dma_heap/system/..', '/sys/devices/virtual/dma_heap');
  t.catf('cat /sys/class/dma_heap/system/dev', '/sys/class/dma_heap/system/dev');
  t.catf('cat /sys/class/dma_heap/system/uevent', '/sys/class/dma_heap/system/uevent');
  t.id('stat /sys/class/dma_heap/system/dev', '/sys/class/dma_heap/system/dev');
  t.rl('readlink /sys/class/dma_heap/system/subsystem', '/sys/class/dma_heap/system/subsystem');
  t.rl('readlink /proc/self', '/proc/self');
  t.rl('readlink /proc/self/', '/proc/self/');
  t.rl('readlink /proc/meminfo', '/proc/meminfo');
  t.rl('readlink /proc/meminfo/', '/proc/meminfo/');
  t.rl('readlink /', '/');
  t.rl('readlink empty', '');
  t.rl('readlink /nonexist', '/nonexist');
  t.rl('readlink /dev/dma_heap/system', '/dev/dma_heap/system');
  t.rl('readlink /dev/dma_heap/system/', '/dev/dma_heap/system/');
  t.rl('readlink fd/memfd', `/proc/self/fd/${m}`);
  t.rl('readlink fd/memfd/', `/proc/self/fd/${m}/`);
  t.rl('readlink fd/proc-dir', `/proc/self/fd/${pfd}`);
  t.rl('readlink fd/meminfo', `/proc/self/fd/${mi}`);
  t.rl('readlink fd/cgroup.procs', `/proc/self/fd/${cgp}`);
  t.rl('readlink fd/sysclass-dir', `/proc/self/fd/${sysd}`);
  t.rl('readlink fd/pidfd', `/proc/self/fd/${pidfd}`);
  o('open fd/memfd/', `/proc/self/fd/${m}/`, O_RDONLY);
  o('open fd/memfd/x', `/proc/self/fd/${m}/x`, O_RDONLY);
  o('open fd/memfd/..', `/proc/self/fd/${m}/..`, O_RDONLY);
  o('O_DIRECTORY fd/memfd', `/proc/self/fd/${m}`, O_RDONLY | O_DIRECTORY);
  o('O_PATH|O_NOFOLLOW fd/memfd', `/proc/self/fd/${m}`, O_PATH | O_NOFOLLOW);
  o('O_PATH|O_NOFOLLOW fd/heap(RDONLY)', `/proc/self/fd/${h}`, O_PATH | O_NOFOLLOW);
  o('O_PATH fd/memfd', `/proc/self/fd/${m}`, O_PATH);
  o('open fd/proc-dir', `/proc/self/fd/${pfd}`, O_RDONLY);
  o('open fd/proc-dir/', `/proc/self/fd/${pfd}/`, O_RDONLY);
  o('open fd/proc-dir/meminfo', `/proc/self/fd/${pfd}/meminfo`, O_RDONLY);
  t.same('fd/proc-dir/.. is /', `/proc/self/fd/${pfd}/..`, '/');
  o('open fd/meminfo', `/proc/self/fd/${mi}`, O_RDONLY);
  o('open fd/cgroup.procs', `/proc/self/fd/${cgp}`, O_RDONLY);
  o('open fd/sysclass-dir', `/proc/self/fd/${sysd}`, O_RDONLY);
  o('open fd/sysclass-dir/dev', `/proc/self/fd/${sysd}/dev`, O_RDONLY);
  o('open fd/pidfd', `/proc/self/fd/${pidfd}`, O_RDONLY);
  o('open fd/heap-O_PATH/', `/proc/self/fd/${hp}`, O_RDONLY | O_DIRECTORY);

  t.same('/.. is /', '/..', '/');
  t.same('/../.. is /', '/../..', '/');
  t.same('/proc/.. is /', '/proc/..', '/');
  t.same('/sys/.. is /', '/sys/..', '/');
  t.same('/dev/.. is /', '/dev/..', '/');
  t.same('/sys/fs/cgroup/.. is /sys/fs', '/sys/fs/cgroup/..', '/sys/fs');
  t.same('/sys/kernel/debug/.. is /sys/kernel', '/sys/kernel/debug/..', '/sys/kernel');
  o('open /../proc/meminfo', '/../proc/meminfo', O_RDONLY);
  o('open /sys/kernel/debug/../debug/dma_buf/bufinfo', '/sys/kernel/debug/../debug/dma_buf/bufinfo', O_RDONLY);
  for (const d of ['/', '/proc', '/proc/self', '/proc/self/fd', '/proc/self/fdinfo', '/proc/sys', '/proc/sys/kernel', '/proc/meminfo', '/sys', '/sys/kernel',
    '/sys/kernel/mm', '/sys/kernel/mm/cma', '/sys/kernel/dmabuf', '/sys/kernel/dmabuf/buffers', '/sys/class', '/sys/class/dma_heap', '/sys/fs', '/sys/fs/cgroup',
    '/sys/kernel/debug', '/sys/kernel/debug/dma_buf', '/sys/kernel/debug/dma_buf/bufinfo', '/sys/kernel/debug/cma', '/sys/module/dma_heap', '/dev', '/dev/dma_heap',
    '/dev/dma_heap/system', '/dev/udmabuf']) t.id(`stat ${d}`, d);
  t.ls('ls /sys/kernel/debug/dma_buf', '/sys/kernel/debug/dma_buf');
  t.ls('ls /proc/sys', '/proc/sys');
  t.ls('ls /proc/sys/kernel (osrelease?)', '/proc/sys/kernel');
  t.ls('ls /sys/module/dma_heap', '/sys/module/dma_heap');
  t.ls('ls /sys/kernel/mm/cma/reserved', '/sys/kernel/mm/cma/reserved');
  t.ls('ls /sys/kernel/debug/cma/reserved', '/sys/kernel/debug/cma/reserved');
  t.ls('ls /dev/dma_heap', '/dev/dma_heap');

  for (const d of ['', '/proc', '/sys', '/sys/fs/cgroup', '/sys/kernel/debug', '/dev', '/dev/dma_heap', '/proc/self/fd', '/sys/class/dma_heap']) {
    o(`open ${d}/<255>`, `${d}/${rep('n', 255)}`, O_RDONLY);
    o(`open ${d}/<256>`, `${d}/${rep('n', 256)}`, O_RDONLY);
    o(`open ${d}/<256>/x`, `${d}/${rep('n', 256)}/x`, O_RDONLY);
    o(`O_CREAT ${d}/<256>`, `${d}/${rep('n', 256)}`, O_RDWR | O_CREAT);
    t.R(`mkdir ${d}/<256>`, p.mkdir(`${d}/${rep('n', 256)}`, 0o755));
    t.rl(`readlink ${d}/<256>`, `${d}/${rep('n', 256)}`);
  }
  {
    // "/" + "./" * k + "proc/meminfo", padded with slashes to 4095 bytes; then one more slash
    const base = '/proc/meminfo'.length;
    const k = Math.floor((4095 - base) / 2);
    let s = `/${'./'.repeat(k)}proc/meminfo`;
    if (s.length < 4095) s = `/${'/'.repeat(4095 - s.length)}${s.slice(1)}`;
    t.out.push(`len=${s.length}`);
    o('open path of 4095 bytes', s, O_RDONLY);
    s = `/${s}`;
    t.out.push(`len=${s.length}`);
    o('open path of 4096 bytes', s, O_RDONLY);
    t.rl('readlink path of 4096 bytes', s);
    t.R('mkdir path of 4096 bytes', p.mkdir(s, 0o755));
    o('open 4096 bytes under a missing dir', `/nonexist/${rep('n', 4096 - 10)}`, O_RDONLY);
  }

  const mk = (name: string, path: string): void => t.R(name, p.mkdir(path, 0o755));
  const rm = (name: string, path: string): void => t.R(name, p.rmdir(path));
  mk('mkdir /dev/dma_heap/system/x', '/dev/dma_heap/system/x');
  mk('mkdir /proc/meminfo/x', '/proc/meminfo/x');
  mk('mkdir /dev/dma_heap/system', '/dev/dma_heap/system');
  mk('mkdir /proc/self', '/proc/self');
  mk('mkdir /proc/self/', '/proc/self/');
  mk('mkdir /sys/class/dma_heap/system', '/sys/class/dma_heap/system');
  mk('mkdir /proc/x', '/proc/x');
  mk('mkdir /proc/nonexist/x', '/proc/nonexist/x');
  mk('mkdir fd/memfd/x', `/proc/self/fd/${m}/x`);
  mk('mkdir cgroup with trailing slash', '/sys/fs/cgroup/vfsprobe-slash/');
  rm('rmdir cgroup with trailing slash', '/sys/fs/cgroup/vfsprobe-slash/');
  mk('mkdir cgroup via ..', '/sys/fs/cgroup/../cgroup/vfsprobe-dd');
  rm('rmdir cgroup/.', '/sys/fs/cgroup/vfsprobe-dd/.');
  rm('rmdir cgroup/..', '/sys/fs/cgroup/vfsprobe-dd/..');
  rm('rmdir cgroup via ..', '/sys/fs/cgroup/vfsprobe-dd/../vfsprobe-dd');
  for (const d of ['/proc/self', '/proc/self/', '/sys/class/dma_heap/system', '/proc/meminfo', '/proc/meminfo/', '/dev/dma_heap/system', '/proc/self/fd', '/proc/nonexist/x',
    '/proc/meminfo/x', '/sys/kernel/debug', '/sys/fs/cgroup', '/proc', '/sys', '/dev/dma_heap', '/']) rm(`rmdir ${d}`, d);

  p.mkdir('/sys/fs/cgroup/vfsprobe700', 0o700);
  p.mkdir('/sys/fs/cgroup/vfsprobe711', 0o711);
  p.mkdir('/sys/fs/cgroup/vfsprobe755', 0o755);
  t.id('stat cg700', '/sys/fs/cgroup/vfsprobe700');
  const u = t.user();
  userCases(t, u);
  u.exit();
  p.rmdir('/sys/fs/cgroup/vfsprobe700');
  p.rmdir('/sys/fs/cgroup/vfsprobe711');
  p.rmdir('/sys/fs/cgroup/vfsprobe755');
  t.catf('mountinfo', '/proc/self/mountinfo');
  return t.out;
}

/** vfs-walk2.c on the emulated kernel of `profile`: its lines. */
export function runVfsWalk2(profile: ProfileName): string[] {
  const t = new Probe(profile);
  const p = t.p;
  const ls = (name: string, path: string): void => t.ls(name, path, p, 40);
  for (const d of ['/proc', '/proc/self', '/dev', '/sys', '/sys/kernel', '/sys/kernel/mm', '/sys/kernel/mm/cma', '/sys/kernel/debug/cma', '/sys/kernel/debug', '/sys/fs',
    '/sys/class', '/sys/devices/virtual', '/sys/fs/cgroup']) ls(`ls ${d}`, d);
  p.mkdir('/sys/fs/cgroup/b', 0o755); p.mkdir('/sys/fs/cgroup/a', 0o755); p.mkdir('/sys/fs/cgroup/c', 0o755);
  ls('ls /sys/fs/cgroup after mkdir b a c', '/sys/fs/cgroup');
  ls('ls /sys/fs/cgroup/a', '/sys/fs/cgroup/a');
  {
    const fd = p.open('/sys/fs/cgroup/cgroup.subtree_control', 1);
    p.mm.copyToUser(t.arg, Buffer.from('+memory', 'latin1'));
    p.write(fd, t.arg, 7);
    p.close(fd);
  }
  ls('ls /sys/fs/cgroup/a with memory', '/sys/fs/cgroup/a');
  p.rmdir('/sys/fs/cgroup/a'); p.rmdir('/sys/fs/cgroup/b'); p.rmdir('/sys/fs/cgroup/c');
  ls('ls /sys/kernel/dmabuf', '/sys/kernel/dmabuf');
  const h = p.open('/dev/dma_heap/system', O_RDONLY);
  const alloc = (): number => {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, 4096n, true);
    dv.setUint32(12, O_RDWR, true);
    p.mm.copyToUser(t.arg, b);
    p.ioctl(h, 0xc0184800, t.arg);
    return new DataView(p.mm.copyFromUser(t.arg, 24)!.buffer).getUint32(8, true);
  };
  const a1 = alloc();
  alloc();
  ls('ls /sys/kernel/dmabuf/buffers (2 buffers)', '/sys/kernel/dmabuf/buffers');
  ls('ls buffers/<ino>', `/sys/kernel/dmabuf/buffers/${p.statOf(a1)?.ino ?? 0}`);
  for (let n = 19; n <= 21; n++) {
    let s = `/sys/class/dma_heap${'/system/subsystem'.repeat(n)}/system/dev`;
    t.o2(`${n} pairs then /system/dev (${2 * n + 1} links)`, s, O_RDONLY);
    s = s.slice(0, -4);
    t.o2(`${n} pairs then /system (${2 * n + 1} links, trailing)`, s, O_RDONLY);
    t.o2(`${n} pairs then /system O_NOFOLLOW|O_PATH`, s, O_PATH | O_NOFOLLOW);
  }
  const m = p.memfdCreate('m', 0);
  t.o2('O_PATH|O_NOFOLLOW fd/memfd twice (ino stable?)', `/proc/self/fd/${m}`, O_PATH | O_NOFOLLOW);
  t.o2('again', `/proc/self/fd/${m}`, O_PATH | O_NOFOLLOW);
  const pf = p.open('/dev/dma_heap/system', O_PATH);
  t.o2('O_PATH|O_NOFOLLOW fd/O_PATH-heap', `/proc/self/fd/${pf}`, O_PATH | O_NOFOLLOW);
  t.o2('O_PATH|O_NOFOLLOW /proc/self', '/proc/self', O_PATH | O_NOFOLLOW);
  const ps = p.open('/proc/self', O_PATH | O_NOFOLLOW);
  t.o2('open fd/<O_PATH of the /proc/self link>', `/proc/self/fd/${ps}`, O_RDONLY);
  t.o2('O_PATH fd/<O_PATH of the /proc/self link>', `/proc/self/fd/${ps}`, O_PATH);
  t.o2('fd/<the /proc/self link>/meminfo', `/proc/self/fd/${ps}/meminfo`, O_RDONLY);
  const readlinkLine = (proc: Process): string => {
    const n = proc.readlink(`/proc/self/fd/${ps}`, t.arg, 63);
    return `readlink fd/<link>: ${n < 0 ? t.en(n) : Buffer.from(proc.mm.copyFromUser(t.arg, n)!).toString('latin1')}`;
  };
  // printf without fflush: stdout is a pipe, so this line is still in stdio's buffer at fork;
  // the child prints its copy with its first line, the parent its own at exit (after the child)
  const rlLine = readlinkLine(p);
  t.k.setDevNode('system', { mode: 0o666 });
  const u = t.user();
  t.out.push(rlLine);
  const uo = (name: string, path: string, flags: number): void => t.o2(name, path, flags, u);
  uo('user O_NOATIME heap (0666 root)', '/dev/dma_heap/system', O_RDWR | O_NOATIME);
  uo('user O_NOATIME /proc/meminfo', '/proc/meminfo', O_RDONLY | O_NOATIME);
  uo('user O_NOATIME /proc/self/status', '/proc/self/status', O_RDONLY | O_NOATIME);
  uo('user O_TRUNC|O_RDONLY /proc/meminfo', '/proc/meminfo', O_RDONLY | O_TRUNC);
  uo('user O_TRUNC|O_RDONLY heap (0666)', '/dev/dma_heap/system', O_RDONLY | O_TRUNC);
  uo('user O_RDONLY /sys/kernel/mm/cma', '/sys/kernel/mm/cma', O_RDONLY);
  uo('user O_NOATIME /proc (dir)', '/proc', O_RDONLY | O_NOATIME);
  u.exit();
  t.out.push(rlLine);
  t.k.setDevNode('system', { mode: 0o600 });
  t.o2('root O_NOATIME meminfo', '/proc/meminfo', O_RDONLY | O_NOATIME);
  return t.out;
}
