/**
 * What the 5.10 and 5.15 profiles do that no conformance case can show, each against the
 * source it follows (docs/kernels.md): the heap helpers' page-pointer array and fatal signal
 * (drivers/dma-buf/heaps/system_heap.c system_heap_allocate, v5.10), F_GET/SET_FILE_RW_HINT
 * (fs/fcntl.c fcntl_rw_hint, before v5.18), debugfs CMA directory names cut to 15 characters
 * (mm/cma_debug.c cma_debugfs_add_one, before v6.0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import { Errno } from '../../src/uapi/errno.js';
import { F_GET_FILE_RW_HINT, F_GET_RW_HINT, F_SET_FILE_RW_HINT, F_SET_RW_HINT } from '../../src/uapi/fcntl.js';
import { heapAlloc } from './kernel-helpers.js';
import { board } from './client-helpers.js';

const M = 1024 * 1024;
const O_RDWR = 2;

function boot(profile: ProfileName, ramBytes = 256 * M): Kernel {
  return new Kernel({ profile, cmdline: 'cma=64M', ramBytes });
}

function openHeap(p: Process, name: string): number {
  const fd = p.open(`/dev/dma_heap/${name}`, O_RDWR);
  assert.ok(fd >= 0, `open ${name}: ${fd}`);
  return fd;
}

test('5.10 system heap: above 2 GiB (512 Ki page pointers, 4 MiB of kmalloc) ENOMEM before any page is taken; 6.1 takes them', () => {
  for (const [profile, want] of [['5.10', -Errno.ENOMEM], ['6.1', 0]] as const) {
    const k = boot(profile, 4096 * M);
    const p = k.spawn();
    const h = openHeap(p, 'system');
    // the helper's argument page first (user memory is RAM too): len 0 is EINVAL
    assert.equal(heapAlloc(p, h, 0, O_RDWR).ret, -Errno.EINVAL);
    const free = k.buddy.freePages;
    const r = heapAlloc(p, h, 2048 * M + 4096, O_RDWR);
    assert.equal(r.ret, want, profile);
    if (want < 0) assert.equal(k.buddy.freePages, free, `${profile}: nothing taken`);
    else p.close(r.fd);
    // exactly 2 GiB fits the array
    const two = heapAlloc(p, h, 2048 * M, O_RDWR);
    assert.equal(two.ret, 0, `${profile}: 2 GiB`);
    p.close(two.fd);
    assert.equal(k.buddy.freePages, free, `${profile}: every page back`);
  }
});

test('5.10 system heap: a fatal signal during the allocation is ENOMEM (the function\'s initial ret), 6.1 EINTR; pages go back', () => {
  for (const [profile, want] of [['5.10', -Errno.ENOMEM], ['6.1', -Errno.EINTR]] as const) {
    const k = boot(profile);
    k.faults.add({ heap: 'system', comm: 'victim', nth: 1, signal: true });
    const p = k.spawn(undefined, 'victim');
    const h = openHeap(p, 'system');
    assert.equal(heapAlloc(p, h, 0, O_RDWR).ret, -Errno.EINVAL);
    const free = k.buddy.freePages;
    assert.equal(heapAlloc(p, h, 4 * M, O_RDWR).ret, want, profile);
    assert.equal(k.buddy.freePages, free, profile);
  }
});

test('5.10 and 5.15: F_SET_FILE_RW_HINT sets the open file\'s hint, F_GET_FILE_RW_HINT reads it (else the inode\'s); 6.1: EINVAL', () => {
  for (const profile of ['5.10', '5.15', '6.1'] as const) {
    const k = boot(profile);
    const p = k.spawn();
    const h = openHeap(p, 'system');
    const b = heapAlloc(p, h, 4096, O_RDWR);
    const arg = p.userAlloc(8);
    const put = (v: number): number => {
      const u = new Uint8Array(8);
      new DataView(u.buffer).setBigUint64(0, BigInt(v), true);
      assert.equal(p.mm.copyToUser(arg, u), true);
      return arg;
    };
    const got = (): number => Number(new DataView(p.mm.copyFromUser(arg, 8)!.buffer).getBigUint64(0, true));
    if (profile === '6.1') {
      assert.deepEqual([p.fcntl(b.fd, F_GET_FILE_RW_HINT, arg), p.fcntl(b.fd, F_SET_FILE_RW_HINT, put(2))], [-Errno.EINVAL, -Errno.EINVAL]);
      continue;
    }
    assert.equal(p.fcntl(b.fd, F_GET_FILE_RW_HINT, 0), -Errno.EFAULT, profile);
    assert.equal(p.fcntl(b.fd, F_SET_RW_HINT, put(3)), 0);
    assert.deepEqual([p.fcntl(b.fd, F_GET_FILE_RW_HINT, put(9)), got()], [0, 3], `${profile}: the inode's hint while the file has none`);
    assert.equal(p.fcntl(b.fd, F_SET_FILE_RW_HINT, put(2)), 0);
    assert.deepEqual([p.fcntl(b.fd, F_GET_FILE_RW_HINT, put(9)), got()], [0, 2], `${profile}: the file's own hint`);
    assert.deepEqual([p.fcntl(b.fd, F_GET_RW_HINT, put(9)), got()], [0, 3], `${profile}: the inode's is unchanged`);
    assert.equal(p.fcntl(b.fd, F_SET_FILE_RW_HINT, put(6)), -Errno.EINVAL, `${profile}: not a write-life hint`);
    assert.equal(p.fcntl(b.fd, F_SET_FILE_RW_HINT, 0), -Errno.EFAULT, profile);
  }
});

test('5.10 and 5.15: debugfs names a CMA area\'s directory cma-<area> cut to 15 characters; 6.1 uses the name', () => {
  const dirs = (profile: ProfileName): string[] | null => new Kernel({ profile, board: board('imx8mp') }).readdir('/sys/kernel/debug/cma');
  assert.deepEqual(dirs('5.10')?.sort(), ['cma-cma-video', 'cma-framebuffer', 'cma-linux,cma']);
  assert.deepEqual(dirs('5.15')?.sort(), ['cma-cma-video', 'cma-framebuffer', 'cma-linux,cma']);
  assert.deepEqual(dirs('6.1')?.sort(), ['cma-video', 'framebuffer@78000000', 'linux,cma']);
});
