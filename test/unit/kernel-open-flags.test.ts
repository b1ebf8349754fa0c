// open(2)'s flags as the 6.1.192 oracle handles them (7.3 agrees but where it says): unknown bits
// dropped, O_PATH beating everything else, O_DIRECTORY, O_NOFOLLOW on /proc's links, O_CREAT and
// O_EXCL, O_TMPFILE, O_DIRECT, and what an O_PATH fd can and cannot do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { Errno } from '../../src/uapi/errno.js';
import {
  F_DUPFD, F_GET_SEALS, F_GETFD, F_GETFL, F_SETFD, F_SETFL, MAP_SHARED, O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_EXCL, O_NOATIME,
  O_NOFOLLOW, O_NONBLOCK, O_APPEND, O_PATH, O_RDONLY, O_RDWR, O_SYNC, O_TMPFILE, O_TRUNC, O_WRONLY, POLLIN, POLLNVAL, PROT_READ, SEEK_SET,
} from '../../src/uapi/fcntl.js';

const E = Errno;
const O_LARGEFILE = 0o100000;
const FIOCLEX = 0x5451;

/** open() then F_GETFL, as the oracle probe printed them: 'ok 0<octal>' or the errno name. */
function tryOpen(p: Process, path: string, flags: number): string {
  const fd = p.open(path, flags);
  if (fd < 0) return Object.entries(E).find(([, v]) => v === -fd)?.[0] ?? String(fd);
  const fl = p.fcntl(fd, F_GETFL);
  p.close(fd);
  return `ok 0${fl.toString(8)}`;
}

test('open(2) flags: unknown bits dropped, O_PATH first, O_DIRECTORY, O_NOFOLLOW, O_CREAT|O_EXCL, O_TMPFILE, O_DIRECT (oracle 6.1)', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const m = p.memfdCreate('m', 0);
  const rows: [string, number, string][] = [
    // -1 holds O_PATH, which keeps only O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC: a file is then ENOTDIR
    ['/proc/meminfo', -1, 'ENOTDIR'],
    ['/proc/meminfo', 0xffffffff, 'ENOTDIR'],
    ['/proc/meminfo', O_RDONLY | 0x80000000, 'ok 0100000'],
    ['/proc/meminfo', O_RDONLY | 0x40000000, 'ok 0100000'],
    ['/proc/meminfo', O_RDONLY | 0x20000000, 'ok 0100000'],
    ['/proc/meminfo', O_RDONLY | O_DIRECTORY, 'ENOTDIR'],
    ['/proc', O_RDONLY | O_DIRECTORY, 'ok 0300000'],
    ['/proc/meminfo', O_PATH, 'ok 010000000'],
    ['/proc/meminfo', O_PATH | O_RDWR | O_TRUNC, 'ok 010000000'],
    ['/proc/nonexist', O_PATH, 'ENOENT'],
    ['/dev/dma_heap/system', O_PATH, 'ok 010000000'],
    ['/sys/kernel/debug/dma_buf/bufinfo', O_PATH, 'ok 010000000'],
    ['/proc/meminfo', O_TMPFILE | O_RDWR, 'ENOTDIR'],
    ['/proc', O_TMPFILE | O_RDWR, 'EOPNOTSUPP'],
    ['/proc', O_TMPFILE | O_RDONLY, 'EINVAL'],
    ['/proc', 0o20000000 | O_RDWR, 'EINVAL'],
    ['/sys/fs/cgroup', O_TMPFILE | O_RDWR, 'EOPNOTSUPP'],
    ['/proc/meminfo', O_CREAT | O_EXCL, 'EEXIST'],
    ['/proc/meminfo', O_CREAT, 'ok 0100000'],
    ['/proc/meminfo', O_TRUNC, 'ok 0100000'],
    ['/proc', O_CREAT, 'EISDIR'],
    ['/proc', O_CREAT | O_EXCL, 'EEXIST'],
    ['/proc/nonexist', O_CREAT | O_RDWR, 'ENOENT'],
    ['/proc/meminfo', O_NOFOLLOW, 'ok 0500000'],
    ['/proc/self', O_NOFOLLOW, 'ELOOP'],
    ['/proc/self', O_NOFOLLOW | O_PATH, 'ok 010400000'],
    [`/proc/self/fd/${m}`, O_RDWR | O_NOFOLLOW, 'ELOOP'],
    [`/proc/self/fd/${m}`, O_RDWR | O_CREAT | O_EXCL, 'EEXIST'],
    ['/proc/self/fd', O_NOFOLLOW, 'ok 0500000'],
    ['/proc/meminfo', 3, 'ok 0100003'],
    ['/dev/dma_heap/system', 3, 'ok 0100003'],
    ['/dev/dma_heap/system', O_RDWR | O_NONBLOCK | O_APPEND | O_NOATIME | O_SYNC, 'ok 05116002'],
    ['/dev/dma_heap/system', O_RDWR | O_CLOEXEC, 'ok 0100002'],
    ['/proc', O_RDWR, 'EISDIR'],
    ['/proc', O_WRONLY | O_DIRECTORY, 'EISDIR'],
    // O_DIRECT: no emulated file can do it on 6.1 (FMODE_CAN_ODIRECT)
    ['/proc/meminfo', O_RDONLY | O_DIRECT, 'EINVAL'],
    ['/dev/dma_heap/system', O_RDWR | O_DIRECT, 'EINVAL'],
    ['/dev/udmabuf', O_RDWR | O_DIRECT, 'EINVAL'],
    [`/proc/self/fd/${m}`, O_RDWR | O_DIRECT, 'EINVAL'],
    ['/sys/kernel/debug/dma_buf/bufinfo', O_RDONLY | O_DIRECT, 'EINVAL'],
    ['/sys/fs/cgroup/cgroup.procs', O_RDONLY | O_DIRECT, 'EINVAL'],
    ['/proc', O_RDONLY | O_DIRECT, 'EINVAL'],
  ];
  for (const [path, flags, want] of rows) assert.equal(tryOpen(p, path, flags), want, `open(${path}, 0${(flags >>> 0).toString(8)})`);
  assert.deepEqual(p.openFds(), [m], 'every failed open left nothing behind');
});

test('the emulator has no writable file system: O_CREAT of a new name and O_TMPFILE outside procfs and sysfs are EROFS (docs/fidelity.md, read-only-paths)', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  assert.equal(p.open('/dev/dma_heap/newone', O_CREAT | O_RDWR), -E.EROFS, 'Linux creates it on devtmpfs');
  assert.equal(p.open('/dev/dma_heap', O_TMPFILE | O_RDWR), -E.EROFS, 'Linux makes an unnamed file on devtmpfs');
  assert.equal(p.open('/nope/x', O_CREAT | O_RDWR), -E.ENOENT, 'no parent');
});

test('O_DIRECT on a memfd reopened through /proc: EINVAL on 6.1, accepted from 6.6 (tmpfs direct IO); F_SETFL O_DIRECT on the memfd itself stays EINVAL (oracle 6.1, 6.12, 7.3)', () => {
  for (const [profile, reopen] of [['6.1', 'EINVAL'], ['6.6', 'ok'], ['6.12', 'ok'], ['7.0', 'ok']] as [ProfileName, string][]) {
    const k = new Kernel({ profile });
    const p = k.spawn();
    const m = p.memfdCreate('m', 0);
    const fd = p.open(`/proc/self/fd/${m}`, O_RDWR | O_DIRECT);
    assert.equal(fd >= 0 ? 'ok' : fd === -E.EINVAL ? 'EINVAL' : String(fd), reopen, profile);
    assert.equal(p.fcntl(m, F_SETFL, O_DIRECT), -E.EINVAL, `${profile}: memfd_create() never ran the open op`);
    if (fd >= 0) {
      assert.equal(p.fcntl(fd, F_GETFL), O_RDWR | O_LARGEFILE | O_DIRECT, profile);
      assert.equal(p.fcntl(fd, F_SETFL, O_NONBLOCK), 0, 'F_SETFL without O_DIRECT clears it');
      assert.equal(p.fcntl(fd, F_SETFL, O_DIRECT), 0, 'and the reopened file may set it again');
    }
    const h = p.open('/dev/dma_heap/system', O_RDWR);
    assert.equal(p.fcntl(h, F_SETFL, O_DIRECT), -E.EINVAL);
    assert.equal(p.fcntl(h, F_SETFL, O_NONBLOCK | O_APPEND | O_NOATIME | 0x40000000), 0);
    assert.equal(p.fcntl(h, F_GETFL), 0o1106002, 'unknown bits are not kept');
  }
});

test('an O_PATH fd: fstat, F_GETFL, F_GETFD/F_SETFD, dup, readlink and fdinfo work; read, write, lseek, ioctl, mmap, ftruncate, F_SETFL are EBADF; poll says POLLNVAL; /proc reopens it (oracle 6.1)', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const pf = p.open('/dev/dma_heap/system', O_PATH | O_CLOEXEC);
  assert.ok(pf >= 0);
  const b = p.userAlloc(64);
  assert.equal(p.read(pf, b, 8), -E.EBADF);
  assert.equal(p.write(pf, b, 8), -E.EBADF);
  assert.equal(p.lseek(pf, 0, SEEK_SET), -E.EBADF);
  assert.equal(p.fstat(pf, b), 0);
  assert.equal(p.statOf(pf)!.mode, 0o020600);
  assert.equal(p.ioctl(pf, FIOCLEX, 0), -E.EBADF);
  assert.equal(p.ioctl(pf, 0xc0184800, b), -E.EBADF);
  assert.equal(p.mmap(0, 4096, PROT_READ, MAP_SHARED, pf, 0), -E.EBADF);
  assert.equal(p.fcntl(pf, F_GETFD), 1);
  assert.equal(p.fcntl(pf, F_SETFD, 0), 0);
  assert.equal(p.fcntl(pf, F_GETFL), O_PATH);
  assert.equal(p.fcntl(pf, F_SETFL, O_NONBLOCK), -E.EBADF);
  assert.equal(p.fcntl(pf, F_GET_SEALS), -E.EBADF);
  assert.ok(p.fcntl(pf, F_DUPFD, 0) >= 0);
  assert.ok(p.dup(pf) >= 0);
  assert.equal(p.ftruncate(pf, 0), -E.EBADF);
  const pollfd = new Uint8Array(8);
  new DataView(pollfd.buffer).setInt32(0, pf, true);
  new DataView(pollfd.buffer).setInt16(4, POLLIN, true);
  p.mm.copyToUser(b, pollfd);
  assert.equal(p.poll(b, 1, 0), 1);
  assert.equal(new DataView(p.mm.copyFromUser(b, 8)!.buffer).getInt16(6, true), POLLNVAL);
  assert.equal(p.readlink(`/proc/self/fd/${pf}`, b, 64), '/dev/dma_heap/system'.length);
  assert.match(k.readFile(p, `/proc/self/fdinfo/${pf}`) as string, /^pos:\t0\nflags:\t010000000\n/);
  const again = p.open(`/proc/self/fd/${pf}`, O_RDWR);
  assert.ok(again >= 0, 'the O_PATH reopen');
  assert.equal(p.fcntl(again, F_GETFL), O_RDWR | O_LARGEFILE);
  assert.equal(p.statOf(p.open('/proc/meminfo', O_PATH))!.mode, 0o100444);
  assert.equal(p.close(pf), 0);
});

test('O_PATH needs no permission on the file, only the walk: a user gets an O_PATH fd for a 0600 root node, but nothing under debugfs or another user\'s fd/', () => {
  const k = new Kernel({ profile: '6.1' });
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  assert.equal(user.open('/dev/dma_heap/system', O_RDWR), -E.EACCES);
  const pf = user.open('/dev/dma_heap/system', O_PATH);
  assert.ok(pf >= 0);
  assert.equal(user.open(`/proc/self/fd/${pf}`, O_RDWR), -E.EACCES, 'reopening checks the node\'s permission');
  assert.equal(user.open('/sys/kernel/debug/dma_buf/bufinfo', O_PATH), -E.EACCES);
  const m = k.init.memfdCreate('root', 0);
  assert.equal(user.open(`/proc/1/fd/${m}`, O_PATH), -E.EACCES);
});
