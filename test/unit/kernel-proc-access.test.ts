// Who may see another process's files through /proc/<pid>: the modes of its directories, the
// search permission of fd/ and fdinfo/, and ptrace read access (PTRACE_MODE_READ_FSCREDS) for
// the links, fdinfo, maps and pagemap. Every errno here was observed on the oracle's 6.1.192,
// 6.12 and 7.3 kernels with a root process and users made with setresuid/setresgid (prctl
// PR_SET_DUMPABLE kept them dumpable, as every emulated task is).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { Errno } from '../../src/uapi/errno.js';
import { O_RDONLY, O_RDWR } from '../../src/uapi/fcntl.js';
import { createEmulatedTarget, EmulatedTarget } from '../../src/backends/emulated/target.js';
import { writeText } from './kernel-helpers.js';

const E = Errno;

/** Every /proc access the oracle probe made, as errno names ('ok' for success). */
function probe(k: Kernel, who: Process, task: Process, fd: number): Record<string, string> {
  const name = (r: number | string[] | string): string => (typeof r === 'number' && r < 0 ? (Object.entries(E).find(([, v]) => v === -r)?.[0] ?? String(r)) : 'ok');
  const open = (path: string, flags = O_RDONLY): string => {
    const r = who.open(path, flags);
    if (r >= 0) who.close(r);
    return name(r);
  };
  const buf = who.userAlloc(256);
  const d = `/proc/${task.pid}`;
  return {
    'open fd dir': open(`${d}/fd`),
    'readdir fd': name(k.readdirAt(`${d}/fd`, who)),
    'open fdinfo dir': open(`${d}/fdinfo`),
    'readdir fdinfo': name(k.readdirAt(`${d}/fdinfo`, who)),
    'readlink fd/n': name(who.readlink(`${d}/fd/${fd}`, buf, 256)),
    'open fd/n O_RDONLY': open(`${d}/fd/${fd}`),
    'open fd/n O_RDWR': open(`${d}/fd/${fd}`, O_RDWR),
    'open fd/9999': open(`${d}/fd/9999`),
    'readlink fd/9999': name(who.readlink(`${d}/fd/9999`, buf, 256)),
    'open fdinfo/n': open(`${d}/fdinfo/${fd}`),
    'open fdinfo/9999': open(`${d}/fdinfo/9999`),
    'open maps': open(`${d}/maps`),
    'open pagemap': open(`${d}/pagemap`),
    'open comm': open(`${d}/comm`),
    'open pid dir': open(d),
  };
}

const ALL_OK = {
  'open fd dir': 'ok', 'readdir fd': 'ok', 'open fdinfo dir': 'ok', 'readdir fdinfo': 'ok', 'readlink fd/n': 'ok',
  'open fd/n O_RDONLY': 'ok', 'open fd/n O_RDWR': 'ok', 'open fd/9999': 'ENOENT', 'readlink fd/9999': 'ENOENT', 'open fdinfo/n': 'ok',
  'open fdinfo/9999': 'ENOENT', 'open maps': 'ok', 'open pagemap': 'ok', 'open comm': 'ok', 'open pid dir': 'ok',
};
const STRANGER = {
  'open fd dir': 'EACCES', 'readdir fd': 'EACCES', 'open fdinfo dir': 'EACCES', 'readdir fdinfo': 'EACCES', 'readlink fd/n': 'EACCES',
  'open fd/n O_RDONLY': 'EACCES', 'open fd/n O_RDWR': 'EACCES', 'open fd/9999': 'EACCES', 'readlink fd/9999': 'EACCES', 'open fdinfo/n': 'EACCES',
  'open fdinfo/9999': 'EACCES', 'open maps': 'EACCES', 'open pagemap': 'EACCES', 'open comm': 'ok', 'open pid dir': 'ok',
};

test('another user gets EACCES for everything of a root process under /proc/<pid> but comm and the directory itself (oracle)', () => {
  const k = new Kernel({ profile: '6.1' });
  const root = k.spawn();
  const m = root.memfdCreate('victim', 0);
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  assert.deepEqual(probe(k, user, root, m), STRANGER);
  assert.deepEqual(probe(k, root, user, user.memfdCreate('mine', 0)), ALL_OK, 'root (CAP_SYS_PTRACE, CAP_DAC_OVERRIDE) sees a user\'s');
});

test('the same uid and gid see everything; the same uid with another gid lists fd/ but follows nothing (ptrace needs both); another uid nothing (oracle)', () => {
  const k = new Kernel({ profile: '6.1' });
  const holder = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  const m = holder.memfdCreate('userfd', 0);
  assert.deepEqual(probe(k, k.spawn({ uid: 1000, gid: 1000, groups: [] }), holder, m), ALL_OK);
  assert.deepEqual(probe(k, k.spawn({ uid: 1000, gid: 1001, groups: [1000] }), holder, m), {
    ...STRANGER, 'open fd dir': 'ok', 'readdir fd': 'ok', 'open fd/9999': 'ENOENT', 'readlink fd/9999': 'ENOENT',
  });
  assert.deepEqual(probe(k, k.spawn({ uid: 1001, gid: 1000, groups: [] }), holder, m), STRANGER);
  assert.deepEqual(probe(k, holder, holder, m), ALL_OK, 'a task and its own /proc/self');
});

test('a user cannot read or write a root process\'s memfd through /proc/<pid>/fd/<n>: its bytes stay the same', () => {
  const k = new Kernel({ profile: '6.1' });
  const root = k.spawn();
  const m = root.memfdCreate('secret', 0);
  const b = root.userAlloc(6);
  root.mm.copyToUser(b, Uint8Array.from('secret', (c) => c.charCodeAt(0)));
  assert.equal(root.write(m, b, 6), 6);
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  assert.equal(writeText(user, `/proc/${root.pid}/fd/${m}`, 'gotcha'), -E.EACCES);
  assert.equal(k.readFile(user, `/proc/${root.pid}/fd/${m}`), -E.EACCES);
  assert.equal(k.readFile(root, `/proc/self/fd/${m}`), 'secret');
  assert.equal(user.openFdCount(), 0, 'nothing was opened');
});

test('modes and owners: /proc/<pid> 0555, fd/ 0500, fdinfo/ 0555, fdinfo files 0444, maps 0444, pagemap 0400, comm 0644, all the task\'s (oracle)', () => {
  const k = new Kernel({ profile: '6.1' });
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  const m = user.memfdCreate('x', 0);
  const stat = (path: string): string => {
    const fd = k.init.open(path, O_RDONLY);
    assert.ok(fd >= 0, path);
    const i = k.init.statOf(fd)!;
    k.init.close(fd);
    return `${i.mode.toString(8)} ${i.uid}:${i.gid}`;
  };
  const d = `/proc/${user.pid}`;
  assert.deepEqual([d, `${d}/fd`, `${d}/fdinfo`, `${d}/fdinfo/${m}`, `${d}/maps`, `${d}/pagemap`, `${d}/comm`].map(stat), [
    '40555 1000:1000', '40500 1000:1000', '40555 1000:1000', '100444 1000:1000', '100444 1000:1000', '100400 1000:1000', '100644 1000:1000',
  ]);
  assert.deepEqual([`/proc/${k.init.pid}/fd`, '/proc/self/fdinfo'].map(stat), ['40500 0:0', '40555 0:0']);
});

test('the path walk is refused before the lookup: mkdir/rmdir under another user\'s fd/ are EACCES, root gets procfs\'s ENOENT from the lookup (oracle: vfs-walk.c)', () => {
  const k = new Kernel({ profile: '6.1' });
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  assert.equal(user.mkdir(`/proc/${k.init.pid}/fd/x`, 0o755), -E.EACCES);
  assert.equal(user.rmdir(`/proc/${k.init.pid}/fdinfo/0`), -E.EACCES);
  assert.equal(k.init.mkdir(`/proc/${user.pid}/fd/x`, 0o755), -E.ENOENT);
});

test('SyscallTarget.readdir reports EACCES for another user\'s /proc/<pid>/fd, ENOENT for what does not exist', () => {
  const user = createEmulatedTarget({ profile: '6.1', uid: 1000, gid: 1000 });
  assert.deepEqual(user.readdir('/proc/1/fd'), { ret: -1, errno: 'EACCES', names: null });
  assert.deepEqual(user.readdir('/proc/1/fdinfo'), { ret: -1, errno: 'EACCES', names: null });
  assert.deepEqual(user.readlink('/proc/1/fd/0'), { ret: -1, errno: 'EACCES', text: null });
  assert.deepEqual(user.readdir('/proc/99999/fd'), { ret: -1, errno: 'ENOENT', names: null });
  const m = user.memfdCreate('mine', 0).ret;
  assert.deepEqual(user.readdir('/proc/self/fd').names, [String(m)]);
  const root = new EmulatedTarget(user.kernel);
  assert.deepEqual(root.readdir(`/proc/${user.getpid()}/fd`).names, [String(m)]);
});
