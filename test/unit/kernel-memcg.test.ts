// cgroup v2 and the memory controller: exact memory.current values for anonymous memory and
// heap buffers (6.1: heaps are not charged; 7.0 with dma_heap.mem_accounting=1: the system heap
// is), memory.max, the hierarchy, and the cgroupfs file and directory syscalls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelConfig } from '../../src/kernel/kernel.js';
import { kstrtoint } from '../../src/kernel/cgroup/cgroup.js';
import { pageCounterMemparse } from '../../src/kernel/cgroup/memcontrol.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { Errno } from '../../src/uapi/errno.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/uapi/fcntl.js';
import { writeText as write } from './kernel-helpers.js';

const M = 1024 * 1024;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const CG = '/sys/fs/cgroup';

/** A kernel with an admin process (root cgroup) and a worker `p` moved into CG/<name> with the memory controller on. */
function setup(config: KernelConfig = { profile: '6.1', cmdline: 'cma=64M' }, name = 'probe'): { k: Kernel; admin: Process; p: Process; cur: () => number } {
  const k = new Kernel(config);
  const admin = k.spawn();
  const p = k.spawn();
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+memory'), 7);
  assert.equal(admin.mkdir(`${CG}/${name}`, 0o755), 0);
  assert.equal(write(admin, `${CG}/${name}/cgroup.procs`, String(p.pid)), String(p.pid).length);
  return { k, admin, p, cur: () => current(k, admin, `${CG}/${name}`) };
}


function read(k: Kernel, proc: Process, path: string): string | number {
  return k.readFile(proc, path);
}

function current(k: Kernel, proc: Process, dir: string): number {
  const t = read(k, proc, `${dir}/memory.current`);
  assert.equal(typeof t, 'string', `${dir}/memory.current: ${String(t)}`);
  assert.match(t as string, /^\d+\n$/);
  return Number(t);
}

/** DMA_HEAP_IOCTL_ALLOC with the struct at `arg` (already in user memory, so no page is faulted in). */
function heapAlloc(p: Process, heapFd: number, arg: number, len: number): { ret: number; fd: number } {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len % 2 ** 32, true);
  dv.setUint32(4, Math.floor(len / 2 ** 32), true);
  dv.setUint32(12, O_RDWR, true);
  assert.equal(p.store(arg, b), null);
  const ret = p.ioctl(heapFd, 0xc0184800, arg);
  const out = p.load(arg, 24);
  assert.ok(out instanceof Uint8Array);
  return { ret, fd: new DataView(out.buffer).getUint32(8, true) };
}

function mapAnon(p: Process, len: number, flags = MAP_PRIVATE): number {
  const a = p.mmap(0, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
  assert.ok(a > 0);
  return a;
}

/** The probe's loop: one byte written per page. */
function touch(p: Process, addr: number, len: number): null | string {
  for (let i = 0; i < len; i += 4096) {
    const f = p.store(addr + i, Uint8Array.of(1));
    if (f !== null) return f;
  }
  return null;
}

test('anonymous memory: charged page by page when first written, uncharged at munmap', () => {
  const { p, cur } = setup();
  assert.equal(cur(), 0);
  const a = mapAnon(p, 16 * M);
  assert.equal(cur(), 0, 'mmap alone charges nothing');
  assert.ok(p.load(a, 16 * M) instanceof Uint8Array);
  assert.equal(cur(), 0, 'reading private anonymous memory maps the zero page: no charge');
  assert.equal(touch(p, a, 16 * M), null);
  assert.equal(cur(), 16 * M);
  assert.equal(touch(p, a, 16 * M), null);
  assert.equal(cur(), 16 * M, 'a page is charged once');
  // munmap of the middle: the pieces keep their own pages' charges
  assert.equal(p.munmap(a + 4 * M, 4 * M), 0);
  assert.equal(cur(), 12 * M);
  assert.equal(p.munmap(a, 16 * M), 0);
  assert.equal(cur(), 0);
});

test('shared anonymous memory is charged when read too; exit uncharges everything', () => {
  const { k, admin, p, cur } = setup();
  const a = mapAnon(p, 8 * 4096, MAP_SHARED);
  assert.ok(p.load(a, 3 * 4096) instanceof Uint8Array);
  assert.equal(cur(), 3 * 4096);
  // a kernel copy into user memory (read(2) into a buffer) faults pages in like a store
  const fd = p.open(`${CG}/probe/memory.max`, O_RDONLY);
  const b = mapAnon(p, 4096);
  assert.equal(p.read(fd, b, 100), 4);
  assert.equal(cur(), 4 * 4096);
  p.exit();
  assert.equal(cur(), 0);
  assert.equal(read(k, admin, `${CG}/probe/cgroup.procs`), '');
  assert.equal(admin.rmdir(`${CG}/probe`), 0);
});

test('6.1: heap buffers are not charged (system and CMA), as the probe observed', () => {
  const { p, cur } = setup();
  const arg = mapAnon(p, 4096);
  assert.equal(touch(p, arg, 4096), null);
  const base = cur();
  assert.equal(base, 4096);
  for (const heap of ['system', 'reserved']) {
    const h = p.open(`/dev/dma_heap/${heap}`, O_RDONLY);
    const b = heapAlloc(p, h, arg, 16 * M);
    assert.equal(b.ret, 0, heap);
    assert.equal(cur(), base, `${heap}: after alloc`);
    const m = p.mmap(0, 16 * M, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd, 0);
    assert.equal(touch(p, m, 16 * M), null);
    assert.equal(cur(), base, `${heap}: after touching the mapping`);
    p.munmap(m, 16 * M);
    p.close(b.fd);
    p.close(h);
    assert.equal(cur(), base, `${heap}: after close`);
  }
});

test('7.0 with dma_heap.mem_accounting=1: the system heap charges at allocation and uncharges at release; CMA never', () => {
  const { k, p, cur } = setup({ profile: '7.0', cmdline: 'cma=64M dma_heap.mem_accounting=1' });
  assert.equal(k.memAccounting, true);
  const arg = mapAnon(p, 4096);
  assert.equal(touch(p, arg, 4096), null);
  const base = cur();
  const h = p.open('/dev/dma_heap/system', O_RDONLY);
  const b = heapAlloc(p, h, arg, 16 * M);
  assert.equal(b.ret, 0);
  assert.equal(cur(), base + 16 * M, 'charged at allocation');
  const m = p.mmap(0, 16 * M, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd, 0);
  assert.equal(touch(p, m, 16 * M), null);
  assert.equal(cur(), base + 16 * M, 'touching the mapping adds nothing');
  // the charge stays with the allocating memcg while the mapping holds the buffer
  assert.equal(p.close(b.fd), 0);
  assert.equal(cur(), base + 16 * M);
  assert.equal(p.munmap(m, 16 * M), 0);
  assert.equal(cur(), base, 'uncharged when the buffer is released');
  for (const heap of ['default_cma_region', 'reserved']) {
    const c = p.open(`/dev/dma_heap/${heap}`, O_RDONLY);
    assert.ok(c >= 0, heap);
    const cb = heapAlloc(p, c, arg, 16 * M);
    assert.equal(cb.ret, 0, heap);
    assert.equal(cur(), base, `${heap}: CMA heaps are never charged`);
    p.close(cb.fd);
    p.close(c);
  }
});

test('7.0 without the parameter, and in-kernel allocations: nothing is charged', () => {
  const { k, p, cur } = setup({ profile: '7.0', cmdline: 'cma=64M' });
  assert.equal(k.memAccounting, false);
  const arg = mapAnon(p, 4096);
  assert.equal(touch(p, arg, 4096), null);
  const base = cur();
  const h = p.open('/dev/dma_heap/system', O_RDONLY);
  assert.equal(heapAlloc(p, h, arg, 16 * M).ret, 0);
  assert.equal(cur(), base);
  const k2 = setup({ profile: '7.0', cmdline: 'dma_heap.mem_accounting=1' }).k;
  const buf = k2.dmaHeap.bufferAlloc(k2.dmaHeap.findByName('system')!, 4 * M, O_RDWR, 0n, null);
  assert.ok(typeof buf === 'object');
  assert.equal(current(k2, k2.init, `${CG}/probe`), 0, 'a kernel caller charges the root memcg, which is never charged');
});

test('memory.max: the memcg OOM killer kills the biggest task of the memcg at a fault (a kernel copy fails with EFAULT), heap allocations get ENOMEM', () => {
  const { k, admin, p, cur } = setup({ profile: '7.0', cmdline: 'dma_heap.mem_accounting=1' });
  assert.equal(write(admin, `${CG}/probe/memory.max`, '8M'), 2);
  assert.equal(read(k, admin, `${CG}/probe/memory.max`), `${8 * M}\n`);
  const arg = mapAnon(p, 4096);
  assert.equal(touch(p, arg, 4096), null);
  // a heap allocation that does not fit: ENOMEM, every page given back and uncharged
  const free = k.buddy.freePages;
  const h = p.open('/dev/dma_heap/system', O_RDONLY);
  assert.equal(heapAlloc(p, h, arg, 16 * M).ret, -Errno.ENOMEM);
  assert.equal(k.buddy.freePages, free);
  assert.equal(cur(), 4096);
  assert.ok(Number(read(k, admin, `${CG}/probe/memory.peak`)) <= 8 * M);
  // one that fits exactly
  const ok = heapAlloc(p, h, arg, 8 * M - 4096);
  assert.equal(ok.ret, 0);
  assert.equal(cur(), 8 * M);
  assert.equal(p.close(ok.fd), 0);
  assert.equal(cur(), 4096);
  // a store beyond the limit: the memcg OOM killer chooses among the memcg's tasks, here the
  // faulting one; it dies with SIGKILL and its memory is uncharged
  const q = p.fork('worker');
  assert.equal(write(admin, `${CG}/probe/memory.max`, `${64 * 1024}`), 5);
  const a = mapAnon(q, 1 * M);
  assert.equal(touch(q, a, 1 * M), 'SIGKILL');
  assert.equal(q.killedBy, 'SIGKILL');
  assert.equal(q.alive, false);
  assert.equal(cur(), 4096, 'its memory went with it; p\'s page stays');
  assert.equal(Number(read(k, admin, `${CG}/probe/memory.peak`)), 8 * M);
  // p had one page (shared with q until q died), q sixteen: q was the victim
  // the log: the memcg's counter (the failed heap charges counted too), its tasks, the victim
  assert.deepEqual(k.dmesg.slice(-9), [
    'worker invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
    'memory: usage 64kB, limit 64kB, failcnt 4',
    'swap: usage 0kB, limit 9007199254740988kB, failcnt 0',
    'Tasks state (memory values in pages):',
    // (7.0: the RSS broken down, as on the 6.12 and 7.3 oracles)
    '[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name',
    `[${String(p.pid).padStart(7)}]     0 ${String(p.pid).padStart(5)}        1        1        1        0         0        0        0             0 task`,
    `[${String(q.pid).padStart(7)}]     0 ${String(q.pid).padStart(5)}      257       16       16        0         0        0        0             0 worker`,
    `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),oom_memcg=/probe,task_memcg=/probe,task=worker,pid=${q.pid},uid=0`,
    `Memory cgroup out of memory: Killed process ${q.pid} (worker) total-vm:1028kB, anon-rss:64kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0`,
  ]);
  // a read(2) into a page not yet faulted in over the limit: p is the only task left in the
  // memcg, so the OOM killer chooses it; the copy fails with EFAULT, p's private memory is
  // reaped at once and p dies at its next return to user space
  assert.equal(write(admin, `${CG}/probe/memory.max`, '4096'), 4);
  const fd = p.open(`${CG}/probe/memory.max`, O_RDONLY);
  const b = mapAnon(p, 4096);
  assert.equal(p.read(fd, b, 100), -Errno.EFAULT);
  assert.equal(p.killedBy, 'SIGKILL');
  assert.equal(p.fatalSignalPending, true);
  assert.equal(cur(), 0, 'reaped');
  assert.equal(p.alive, true, 'still in the kernel');
  assert.equal(p.store(arg, Uint8Array.of(1)), 'SIGKILL');
  assert.equal(p.alive, false);
  assert.equal(k.dmesg.at(-1), `Memory cgroup out of memory: Killed process ${p.pid} (task) total-vm:8kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0`);
});

test('the hierarchy: a parent counts its children, its memory.max limits them, and uncontrolled cgroups charge the nearest memcg', () => {
  const k = new Kernel({ profile: '6.1' });
  const admin = k.spawn();
  const p = k.spawn();
  const q = k.spawn();
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+memory'), 7);
  assert.equal(admin.mkdir(`${CG}/a`, 0o755), 0);
  assert.equal(admin.mkdir(`${CG}/a/b`, 0o755), 0);
  assert.equal(admin.mkdir(`${CG}/a/c`, 0o755), 0);
  // a has no controller for its children yet: b has no memory files, and charges go to a
  assert.equal(read(k, admin, `${CG}/a/b/memory.current`), -Errno.ENOENT);
  assert.equal(write(admin, `${CG}/a/b/cgroup.procs`, String(p.pid)), 1);
  const x = mapAnon(p, 1 * M);
  assert.equal(touch(p, x, 1 * M), null);
  assert.equal(current(k, admin, `${CG}/a`), 1 * M);
  // enable it in a (no process lives in a itself): b and c get fresh memcgs
  assert.equal(write(admin, `${CG}/a/cgroup.subtree_control`, '+memory'), 7);
  assert.equal(current(k, admin, `${CG}/a/b`), 0, 'the old charges stay where they were made');
  assert.equal(write(admin, `${CG}/a/c/cgroup.procs`, String(q.pid)), 1);
  const y = mapAnon(p, 2 * M);
  const z = mapAnon(q, 3 * M);
  assert.equal(touch(p, y, 2 * M), null);
  assert.equal(touch(q, z, 3 * M), null);
  assert.equal(current(k, admin, `${CG}/a/b`), 2 * M);
  assert.equal(current(k, admin, `${CG}/a/c`), 3 * M);
  assert.equal(current(k, admin, `${CG}/a`), 6 * M);
  // the parent's limit applies to the children's charges
  assert.equal(write(admin, `${CG}/a/memory.max`, '7M'), 2);
  const w = mapAnon(q, 2 * M);
  assert.equal(touch(q, w, 2 * M), 'SIGKILL');
  assert.equal(current(k, admin, `${CG}/a/c`), 0);
  assert.equal(current(k, admin, `${CG}/a`), 3 * M);
  // unmapping uncharges each page from the memcg it was charged to, at every level
  p.munmap(x, 1 * M);
  assert.equal(current(k, admin, `${CG}/a`), 2 * M);
  p.munmap(y, 2 * M);
  assert.equal(current(k, admin, `${CG}/a`), 0);
  assert.equal(current(k, admin, `${CG}/a/b`), 0);
});

test('fork inherits the cgroup; moving does not move charges; a removed cgroup keeps its charges in the parent', () => {
  const { k, admin, p, cur } = setup();
  const a = mapAnon(p, 1 * M);
  assert.equal(touch(p, a, 1 * M), null);
  const child = p.fork('child');
  assert.equal(read(k, admin, `${CG}/probe/cgroup.procs`), `${p.pid}\n${child.pid}\n`);
  assert.equal(cur(), 1 * M, 'the child has not written its copy yet');
  assert.equal(touch(child, a, 4096), null);
  assert.equal(cur(), 1 * M + 4096);
  child.exit();
  assert.equal(cur(), 1 * M);
  // p leaves (writing 0 moves the writer itself); its pages stay charged here
  assert.equal(write(p, `${CG}/cgroup.procs`, '0'), 1);
  assert.equal(cur(), 1 * M);
  assert.equal(read(k, admin, `${CG}/probe/cgroup.procs`), '');
  assert.equal(admin.mkdir(`${CG}/other`, 0o755), 0);
  assert.equal(write(admin, `${CG}/other/cgroup.procs`, String(p.pid)), String(p.pid).length);
  // an open file of the removed cgroup answers ENODEV
  const fd = admin.open(`${CG}/probe/memory.max`, O_WRONLY);
  assert.ok(fd >= 0);
  assert.equal(admin.rmdir(`${CG}/probe`), 0);
  const buf = admin.userAlloc(4);
  assert.equal(admin.write(fd, buf, 3), -Errno.ENODEV);
  assert.equal(admin.close(fd), 0);
  assert.equal(p.munmap(a, 1 * M), 0);
  assert.equal(current(k, admin, `${CG}/other`), 0);
});

test('cgroup.procs, cgroup.subtree_control and memory.max: parsing and refusals', () => {
  const k = new Kernel({ profile: '6.1' });
  const admin = k.spawn();
  const p = k.spawn();
  assert.equal(read(k, admin, `${CG}/cgroup.controllers`), 'memory\n');
  assert.equal(read(k, admin, `${CG}/cgroup.subtree_control`), '');
  assert.equal(read(k, admin, `${CG}/cgroup.procs`), `${k.init.pid}\n${admin.pid}\n${p.pid}\n`);
  assert.equal(admin.mkdir(`${CG}/a`, 0o755), 0);
  assert.equal(read(k, admin, `${CG}/a/cgroup.controllers`), '');
  assert.equal(write(admin, `${CG}/a/cgroup.subtree_control`, '+memory'), -Errno.ENOENT);
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, ' +memory -memory +memory\n'), 25);
  assert.equal(read(k, admin, `${CG}/cgroup.subtree_control`), 'memory\n');
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, 'memory'), -Errno.EINVAL);
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+io'), -Errno.EINVAL);
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, ''), 0, 'nothing to change');
  // pids: kstrtoint base 0
  assert.equal(write(admin, `${CG}/a/cgroup.procs`, `0x${p.pid.toString(16)}\n`), 3 + p.pid.toString(16).length);
  assert.equal(read(k, admin, `${CG}/a/cgroup.procs`), `${p.pid}\n`);
  for (const bad of ['', 'x', '-1', '1 2', '99999999999', '08']) assert.equal(write(admin, `${CG}/a/cgroup.procs`, bad), -Errno.EINVAL, JSON.stringify(bad));
  assert.equal(write(admin, `${CG}/a/cgroup.procs`, '4242'), -Errno.ESRCH);
  // no internal processes: a cannot enable a controller while it has members, nor take members after
  assert.equal(write(admin, `${CG}/a/cgroup.subtree_control`, '+memory'), -Errno.EBUSY);
  assert.equal(write(admin, `${CG}/cgroup.procs`, String(p.pid)), 1);
  assert.equal(write(admin, `${CG}/a/cgroup.subtree_control`, '+memory'), 7);
  assert.equal(write(admin, `${CG}/a/cgroup.procs`, String(p.pid)), -Errno.EBUSY);
  assert.equal(admin.mkdir(`${CG}/a/b`, 0o755), 0);
  assert.equal(read(k, admin, `${CG}/a/b/memory.max`), 'max\n');
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '-memory'), -Errno.EBUSY, 'a child still enables it');
  // memory.max: memparse suffixes, rounding down to pages, "max"
  const mm = `${CG}/a/b/memory.max`;
  for (const [text, want] of [['1k', '0\n'], ['0x2000', '8192\n'], ['2G', `${2 * 1024 * M}\n`], ['max\n', 'max\n'], ['  5M  ', `${5 * M}\n`], ['', '0\n']] as const) {
    assert.equal(write(admin, mm, text), text.length, text);
    assert.equal(read(k, admin, mm), want, text);
  }
  for (const bad of ['-1', '5 M', 'MAX', '1X']) assert.equal(write(admin, mm, bad), -Errno.EINVAL, bad);
  // a write larger than a page: E2BIG
  assert.equal(write(admin, mm, '1'.repeat(4097)), -Errno.E2BIG);
  // read-only files: root opens them for writing (CAP_DAC_OVERRIDE; every cgroup file has
  // cgroup_file_write) and the write fails, as on the 6.1 oracle; directories are EISDIR
  assert.equal(write(admin, `${CG}/a/b/memory.current`, '0'), -Errno.EINVAL);
  assert.equal(write(admin, `${CG}/a/b/memory.peak`, '0'), -Errno.EINVAL);
  assert.equal(write(admin, `${CG}/cgroup.controllers`, 'memory'), -Errno.EINVAL);
  assert.equal(admin.open(`${CG}/a`, O_WRONLY), -Errno.EISDIR);
  // procfs the same; a sysfs attribute without a store cannot be opened for writing at all
  assert.equal(write(admin, '/proc/meminfo', '0'), -Errno.EINVAL);
  assert.equal(admin.open('/sys/class/dma_heap/system/dev', O_WRONLY), -Errno.EACCES);
  assert.deepEqual(k.readdir(`${CG}/a`)?.sort(), ['b', 'cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control', 'memory.current', 'memory.max', 'memory.peak']);
  assert.deepEqual(k.readdir(CG)?.sort(), ['a', 'cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control']);
  assert.deepEqual(k.readdir('/sys/fs'), ['cgroup']);
});

test('mkdir and rmdir: cgroupfs only, root only, EBUSY while populated', () => {
  const k = new Kernel({ profile: '6.1' });
  const admin = k.spawn();
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  assert.equal(admin.mkdir(`${CG}/a`, 0o700), 0);
  assert.equal(admin.mkdir(`${CG}/a/`, 0o700), -Errno.EEXIST);
  assert.equal(admin.mkdir(`${CG}/a/cgroup.procs`, 0o755), -Errno.EEXIST);
  assert.equal(admin.mkdir(`${CG}/nope/b`, 0o755), -Errno.ENOENT);
  assert.equal(admin.mkdir(`${CG}/a/cgroup.procs/x`, 0o755), -Errno.ENOTDIR);
  assert.equal(admin.mkdir(`${CG}/bad\nname`, 0o755), -Errno.EINVAL);
  // kernfs has no NAME_MAX: a 256-byte cgroup name is made (oracle 6.1, 6.12, 7.3: test/oracle/issue-11/vfs-walk.c)
  assert.equal(admin.mkdir(`${CG}/${'n'.repeat(256)}`, 0o755), 0);
  assert.equal(admin.rmdir(`${CG}/${'n'.repeat(256)}`), 0);
  assert.equal(admin.mkdir(CG, 0o755), -Errno.EEXIST);
  assert.equal(admin.mkdir('/sys/kernel/x', 0o755), -Errno.EPERM);
  assert.equal(admin.mkdir('/proc/x', 0o755), -Errno.ENOENT, 'procfs answers ENOENT from its own lookup (oracle)');
  assert.equal(admin.mkdir('/dev/x', 0o755), -Errno.EROFS);
  assert.equal(admin.mkdir('/x', 0o755), -Errno.EROFS);
  assert.equal(admin.mkdir('/tmp/x', 0o755), -Errno.ENOENT);
  assert.equal(user.mkdir(`${CG}/u`, 0o755), -Errno.EACCES);
  assert.equal(user.open(`${CG}/cgroup.procs`, O_WRONLY), -Errno.EACCES);
  assert.ok(user.open(`${CG}/cgroup.procs`, O_RDONLY) >= 0);
  // the directory's mode (umask 022 applied)
  const d = admin.open(`${CG}/a`, O_RDONLY);
  assert.equal(admin.statOf(d)?.mode, 0o040700);
  // rmdir
  assert.equal(admin.mkdir(`${CG}/a/b`, 0o755), 0);
  assert.equal(admin.rmdir(`${CG}/a`), -Errno.EBUSY, 'a child cgroup');
  assert.equal(write(admin, `${CG}/a/b/cgroup.procs`, String(user.pid)), String(user.pid).length);
  assert.equal(admin.rmdir(`${CG}/a/b`), -Errno.EBUSY, 'a member process');
  assert.equal(user.rmdir(`${CG}/a/b`), -Errno.EACCES);
  user.exit();
  assert.equal(admin.rmdir(`${CG}/a/b/`), 0);
  assert.equal(admin.rmdir(`${CG}/a/b`), -Errno.ENOENT);
  assert.equal(admin.rmdir(`${CG}/a/cgroup.procs`), -Errno.ENOTDIR);
  assert.equal(admin.rmdir(`${CG}/a/.`), -Errno.EINVAL);
  assert.equal(admin.rmdir(`${CG}/a/..`), -Errno.ENOTEMPTY);
  assert.equal(admin.rmdir(CG), -Errno.EBUSY);
  assert.equal(admin.rmdir('/sys/class/dma_heap'), -Errno.EPERM);
  assert.equal(admin.rmdir('/dev/dma_heap'), -Errno.EROFS);
  assert.equal(admin.rmdir('/'), -Errno.EBUSY);
  assert.equal(admin.rmdir(`${CG}/a`), 0);
  assert.deepEqual(k.readdir(CG)?.sort(), ['cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control']);
});

test('kstrtoint and page_counter_memparse', () => {
  assert.equal(kstrtoint('42'), 42);
  assert.equal(kstrtoint('+42\n'), 42);
  assert.equal(kstrtoint('-0x10'), -16);
  assert.equal(kstrtoint('017'), 15);
  assert.equal(kstrtoint('0'), 0);
  assert.equal(kstrtoint('2147483647'), 2147483647);
  for (const bad of ['', '-', '0x', '2147483648', '09', '1\n\n', ' 1', '1a']) assert.equal(kstrtoint(bad), null, JSON.stringify(bad));
  const ps = 4096;
  assert.equal(pageCounterMemparse('max', ps), Number(0x7fffffffffffffffn / 4096n));
  assert.equal(pageCounterMemparse('4096', ps), 1);
  assert.equal(pageCounterMemparse('4095', ps), 0);
  assert.equal(pageCounterMemparse('1M', ps), 256);
  assert.equal(pageCounterMemparse('1m', ps), 256);
  assert.equal(pageCounterMemparse('010', ps), 0);
  assert.equal(pageCounterMemparse('0x1000', ps), 1);
  assert.equal(pageCounterMemparse('1E', ps), 2 ** 48);
  assert.equal(pageCounterMemparse('8E', ps), Number(0x7fffffffffffffffn / 4096n), 'capped at PAGE_COUNTER_MAX');
  assert.equal(pageCounterMemparse('', ps), 0);
  for (const bad of ['max ', '1MB', '-1', '1.5M']) assert.equal(pageCounterMemparse(bad, ps), null, bad);
});
