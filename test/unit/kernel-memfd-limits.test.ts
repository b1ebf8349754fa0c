// read(2)/write(2) against the user's buffer and the kernel's limits, on memfds, cgroup files and
// pagemap: faults part way, huge counts that cost only what is moved, sparse files of any size,
// and the emulated tmpfs's s_maxbytes. Oracle values are from 6.1.192 (6.12 agrees) and 7.3
// where a profile from 6.14 on behaves differently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import type { Process } from '../../src/kernel/fs/process.js';
import type { ShmemInode } from '../../src/kernel/mm/shmem.js';
import { SHMEM_MAXBYTES } from '../../src/kernel/mm/shmem.js';
import { Errno } from '../../src/uapi/errno.js';
import {
  F_ADD_SEALS, F_SEAL_GROW, F_SEAL_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MFD_ALLOW_SEALING, O_RDONLY, O_WRONLY, PROT_READ, PROT_WRITE,
  SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET,
} from '../../src/uapi/fcntl.js';
import { writeText } from './kernel-helpers.js';

const E = Errno;
const PS = 4096;

/**
 * A one-page buffer filled with 'a', with nothing mapped in the page after it, where a C
 * program's heap lies (the oracle's buffers were there): access_ok() of a huge count depends on
 * where the buffer is, and the mmap area itself is just below TASK_SIZE.
 */
function pageThenHole(p: Process): number {
  const heap = 0x555555554000;
  const a = p.mmap(heap, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.equal(a, heap, 'a free hint is honoured');
  assert.equal(p.munmap(a + PS, PS), 0);
  assert.equal(p.fill(a, PS, 0x61), null);
  return a;
}

function blocks(p: Process, fd: number): number {
  return p.statOf(fd)!.blocks ?? -1;
}

test('read and write move what the buffer holds: a fault part way returns the bytes before it, none is EFAULT (oracle)', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const m = p.memfdCreate('m', 0);
  const b = pageThenHole(p);
  assert.equal(p.write(m, b, 2 ** 40), PS, 'write(2^40) from a 4 KiB buffer');
  assert.equal(p.write(m, b, PS + 1), PS);
  assert.equal(p.write(m, b + 1, PS), PS - 1);
  assert.equal(p.write(m, 0, 10), -E.EFAULT);
  assert.equal(p.write(m, 0, 0), 0);
  assert.equal(p.lseek(m, 0, SEEK_END), 3 * PS - 1);
  assert.equal(p.lseek(m, 0, SEEK_SET), 0);
  assert.equal(p.read(m, b, 2 ** 40), PS, 'read(2^40) into a 4 KiB buffer');
  assert.equal(p.lseek(m, 0, SEEK_CUR), PS, 'the position moved by what arrived');
  assert.equal(p.read(m, 0, 10), -E.EFAULT);
  assert.equal(p.lseek(m, 0, SEEK_CUR), PS, 'nothing arrived: the position stays');
  assert.equal(p.read(m, b, -1), -E.EFAULT, 'a negative count is a huge size_t: access_ok() fails');
  assert.equal(p.lseek(m, 0, SEEK_END), 3 * PS - 1);
  assert.equal(p.read(m, 0, 10), 0, 'at end of file the buffer is never touched');
  assert.equal(p.read(m, b, -1), -E.EFAULT, 'access_ok() comes first, even at end of file');
  assert.equal(p.read(m, b, 2 ** 47), -E.EFAULT);
});

test('a huge write costs what it stores: one page of data, one page of the memfd, whatever the count', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const m = p.memfdCreate('m', 0);
  const b = pageThenHole(p);
  const free = k.buddy.freePages;
  assert.equal(p.write(m, b, 0x7ffff000), PS, 'MAX_RW_COUNT');
  assert.equal((p.file(m)!.inode as ShmemInode).pages.size, 1);
  assert.equal(k.buddy.freePages, free - 1);
  p.exit();
  assert.equal(k.buddy.freePages, free + 1, 'the memfd\'s page and the buffer\'s own anonymous page come back');
});

test('a bad buffer on a sealed memfd: EFAULT and no page before 6.14, EPERM (seals first) and the page kept from 6.14 (oracle 6.1, 6.12, 7.3)', () => {
  const cases: [ProfileName, { empty: number; hole: number; dataAt0: number; sealed: number }][] = [
    ['6.1', { empty: 0, hole: 0, dataAt0: -E.ENXIO, sealed: -E.EFAULT }],
    ['6.12', { empty: 0, hole: 0, dataAt0: -E.ENXIO, sealed: -E.EFAULT }],
    ['7.0', { empty: 8, hole: 16, dataAt0: 0, sealed: -E.EPERM }],
  ];
  for (const [profile, want] of cases) {
    const k = new Kernel({ profile });
    const p = k.spawn();
    const m = p.memfdCreate('a', MFD_ALLOW_SEALING);
    assert.equal(p.write(m, 0, 10), -E.EFAULT, profile);
    assert.equal(blocks(p, m), want.empty, `${profile}: st_blocks after a faulting write to an empty file`);
    assert.equal(p.lseek(m, 0, SEEK_END), 0, `${profile}: i_size did not move`);
    assert.equal(p.ftruncate(m, 2 * PS), 0);
    assert.equal(p.lseek(m, PS, SEEK_SET), PS);
    assert.equal(p.write(m, 0, 10), -E.EFAULT);
    assert.equal(blocks(p, m), want.hole, profile);
    assert.equal(p.lseek(m, 0, SEEK_DATA), want.dataAt0, profile);
    assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_GROW), 0);
    assert.equal(p.lseek(m, 2 * PS - 2, SEEK_SET), 2 * PS - 2);
    assert.equal(p.write(m, 0, 10), -E.EFAULT, `${profile}: the first 2 bytes end at i_size, so F_SEAL_GROW allows them`);
    const b = pageThenHole(p);
    assert.equal(p.write(m, b, 10), 2, `${profile}: F_SEAL_GROW stops the write at i_size`);
    assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_WRITE), 0);
    assert.equal(p.write(m, 0, 10), want.sealed, profile);
    assert.equal(p.write(m, b, 10), -E.EPERM, profile);
    assert.equal(p.write(m, b, 0), 0, profile);
  }
});

test('cgroup files take the whole buffer at once: more than a page is E2BIG before it is touched, a buffer that faults EFAULT (oracle)', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  assert.equal(writeText(p, '/sys/fs/cgroup/cgroup.subtree_control', '+memory'), 7);
  assert.equal(p.mkdir('/sys/fs/cgroup/w', 0o755), 0);
  const b = pageThenHole(p);
  const max = p.open('/sys/fs/cgroup/w/memory.max', O_WRONLY);
  assert.ok(max >= 0);
  assert.equal(p.store(b + PS - 4, Uint8Array.from('max\n', (c) => c.charCodeAt(0))), null);
  assert.equal(p.write(max, b + PS - 4, 4), 4);
  assert.equal(p.write(max, b + PS - 4, 8), -E.EFAULT);
  assert.equal(p.write(max, b + PS - 4, 5000), -E.E2BIG);
  assert.equal(p.write(max, 0, PS + 1), -E.E2BIG);
  assert.equal(p.write(max, 0, 10), -E.EFAULT);
  assert.equal(p.write(max, b, -1), -E.EFAULT);
  assert.equal(p.write(max, b, 0), 0);
});

test('pagemap: a fault while copying the entries fails the read with EFAULT and leaves the position (oracle)', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const b = pageThenHole(p);
  const pm = p.open('/proc/self/pagemap', O_RDONLY);
  assert.equal(p.read(pm, b, 2 ** 40), -E.EFAULT);
  assert.equal(p.lseek(pm, 0, SEEK_CUR), 0);
  assert.equal(p.read(pm, b, 7), -E.EINVAL);
  assert.equal(p.read(pm, b, PS), PS, 'a read that fits');
  assert.equal(p.lseek(pm, 0, SEEK_CUR), PS);
});

test('SEEK_DATA and SEEK_HOLE on a sparse 16 TiB file give the oracle\'s answers by looking at the pages that exist', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const m = p.memfdCreate('sparse', 0);
  const T = 2 ** 40;
  assert.equal(p.ftruncate(m, 2 ** 44), 0);
  const b = pageThenHole(p);
  assert.equal(p.lseek(m, T, SEEK_SET), T);
  assert.equal(p.write(m, b, 10), 10);
  const rows: [number, number, number][] = [
    [0, SEEK_DATA, T], [0, SEEK_HOLE, 0], [T + 5, SEEK_DATA, T + 5], [T + 5, SEEK_HOLE, T + PS],
    [T + PS, SEEK_DATA, -E.ENXIO], [T + PS, SEEK_HOLE, T + PS], [-1, SEEK_DATA, -E.ENXIO], [-1, SEEK_HOLE, -E.ENXIO],
    [2 ** 44, SEEK_DATA, -E.ENXIO], [2 ** 44 - 1, SEEK_HOLE, 2 ** 44 - 1],
  ];
  for (const [off, whence, want] of rows) assert.equal(p.lseek(m, off, whence), want, `lseek(${off}, ${whence === SEEK_DATA ? 'SEEK_DATA' : 'SEEK_HOLE'})`);
  // the largest file the emulated tmpfs holds: the same search, 2^41 pages of index space
  assert.equal(p.ftruncate(m, SHMEM_MAXBYTES), 0);
  assert.equal(p.lseek(m, T + PS, SEEK_DATA), -E.ENXIO);
  assert.equal(p.lseek(m, T + PS, SEEK_HOLE), T + PS);
  assert.equal(p.lseek(m, SHMEM_MAXBYTES - 1, SEEK_HOLE), SHMEM_MAXBYTES - 1);
});

test('the emulated s_maxbytes (2^53 - 1): ftruncate past it EFBIG, lseek past it EINVAL, a write at it EFBIG, one crossing it cut short', () => {
  const k = new Kernel({ profile: '6.1' });
  const p = k.spawn();
  const m = p.memfdCreate('big', 0);
  const b = pageThenHole(p);
  assert.equal(p.ftruncate(m, SHMEM_MAXBYTES + 1), -E.EFBIG);
  assert.equal(p.ftruncate(m, 2 ** 62), -E.EFBIG, 'Linux accepts it (MAX_LFS_FILESIZE): docs/fidelity.md, file-size-limit');
  assert.equal(p.lseek(m, SHMEM_MAXBYTES + 1, SEEK_SET), -E.EINVAL);
  assert.equal(p.lseek(m, SHMEM_MAXBYTES, SEEK_SET), SHMEM_MAXBYTES);
  assert.equal(p.write(m, b, 10), -E.EFBIG);
  assert.equal(p.lseek(m, SHMEM_MAXBYTES - 4, SEEK_SET), SHMEM_MAXBYTES - 4);
  assert.equal(p.write(m, b, 10), 4);
  assert.equal(p.lseek(m, 0, SEEK_END), SHMEM_MAXBYTES);
  assert.equal(p.lseek(m, 1, SEEK_CUR), -E.EINVAL);
  assert.equal(p.ftruncate(m, 0), 0);
  assert.equal((p.file(m)!.inode as ShmemInode).pages.size, 0, 'the page at the end went with the truncation');
});
