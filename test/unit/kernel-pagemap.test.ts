// /proc/<pid>/pagemap in the emulated kernel (fs/proc/task_mmu.c pagemap_read,
// pte_to_pagemap_entry, pagemap_pte_hole; mm/pagewalk.c walk_page_test): exact entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelConfig } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { Errno } from '../../src/uapi/errno.js';
import {
  F_SEAL_SHRINK, F_ADD_SEALS, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MFD_ALLOW_SEALING, O_CLOEXEC, O_RDONLY, O_RDWR, O_WRONLY,
  PROT_READ, PROT_WRITE, SEEK_CUR, SEEK_END, SEEK_SET,
} from '../../src/uapi/fcntl.js';
import { UDMABUF_CREATE } from '../../src/uapi/udmabuf.js';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../src/backends/emulated/target.js';
import { heapAlloc } from './kernel-helpers.js';

const E = Errno;
const PS = 4096;
const PRESENT = 1n << 63n;
const FILE = 1n << 61n;
const EXCLUSIVE = 1n << 56n;
const SOFT_DIRTY = 1n << 55n;

function boot(cfg: KernelConfig = {}): { k: Kernel; p: Process } {
  const k = new Kernel({ profile: '6.1', cmdline: 'cma=64M', ...cfg });
  return { k, p: k.spawn() };
}

/** One buffer per process for the reads (a new mapping per read would fill the holes the tests look at). */
const scratch = new WeakMap<Process, number>();

/** Reads `count` bytes of /proc/self/pagemap at `pos` through read(2): the ret and the bytes. */
function readAt(p: Process, pos: number, count: number, path = '/proc/self/pagemap'): { ret: number; data: Uint8Array | null } {
  const fd = p.open(path, O_RDONLY);
  assert.ok(fd >= 0, `open ${path}: ${fd}`);
  try {
    assert.equal(p.lseek(fd, pos, SEEK_SET), pos);
    assert.ok(count <= 4096);
    let buf = scratch.get(p);
    if (buf === undefined) {
      buf = p.userAlloc(4096);
      scratch.set(p, buf);
    }
    const ret = p.read(fd, buf, count);
    return { ret, data: ret > 0 ? p.mm.copyFromUser(buf, ret) : null };
  } finally {
    p.close(fd);
  }
}

/** The entry of the page at `addr`. */
function entry(p: Process, addr: number, path?: string): bigint {
  const r = readAt(p, (addr / PS) * 8, 8, path);
  assert.equal(r.ret, 8);
  return new DataView(r.data!.buffer, r.data!.byteOffset, 8).getBigUint64(0, true);
}

/** A buffer of `len` bytes from `heap`, mapped shared read-write: its fd and address. */
function mapped(p: Process, heap: string, len: number): { fd: number; addr: number } {
  const h = p.open(`/dev/dma_heap/${heap}`, O_RDWR | O_CLOEXEC);
  assert.ok(h >= 0);
  const a = heapAlloc(p, h, len, O_RDWR | O_CLOEXEC);
  assert.equal(a.ret, 0);
  const addr = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
  assert.ok(addr > 0);
  return { fd: a.fd, addr };
}

function cmaBase(k: Kernel): number {
  return k.cmaAreas[0]!.basePfn;
}

test('6.1 CMA heap: a page is present only after its first touch, with its PFN, the file and exclusive bits', () => {
  const { k, p } = boot();
  const base = cmaBase(k);
  // cma=64M on the default 2 GiB QEMU pc: PFN 0x7bc00 (506880), the 6.1 referee's base_pfn
  assert.equal(base, 0x7bc00);
  const { addr } = mapped(p, 'reserved', 3 * PS);
  // cma_heap_mmap() installs a fault handler: no PTE yet; x86-64's VM_SOFTDIRTY marks the VMA
  assert.equal(entry(p, addr), SOFT_DIRTY);
  assert.equal(entry(p, addr), 0x0080000000000000n);
  assert.ok(p.load(addr + PS, 1) instanceof Uint8Array);
  assert.equal(entry(p, addr + PS), PRESENT | FILE | EXCLUSIVE | SOFT_DIRTY | BigInt(base + 1));
  assert.equal(entry(p, addr + PS), 0xa18000000007bc01n);
  assert.equal(entry(p, addr), SOFT_DIRTY, 'page 0 still untouched');
  assert.equal(p.store(addr + 2 * PS, new Uint8Array([1])), null);
  assert.equal(entry(p, addr + 2 * PS), 0xa18000000007bc02n);
});

test('two PTEs on one page: not exclusive (page_mapcount 2)', () => {
  const { k, p } = boot();
  const { fd, addr } = mapped(p, 'reserved', PS);
  const addr2 = p.mmap(0, PS, PROT_READ, MAP_SHARED, fd, 0);
  p.load(addr, 1);
  assert.equal(entry(p, addr), PRESENT | FILE | EXCLUSIVE | SOFT_DIRTY | BigInt(cmaBase(k)));
  p.load(addr2, 1);
  assert.equal(entry(p, addr), PRESENT | FILE | SOFT_DIRTY | BigInt(cmaBase(k)));
  assert.equal(entry(p, addr2), PRESENT | FILE | SOFT_DIRTY | BigInt(cmaBase(k)));
  assert.equal(p.munmap(addr2, PS), 0);
  assert.equal(entry(p, addr2), 0n, 'unmapped: a hole');
  assert.equal(entry(p, addr), PRESENT | FILE | EXCLUSIVE | SOFT_DIRTY | BigInt(cmaBase(k)));
});

test('VM_PFNMAP mappings are not walked: system heap, CMA from 6.8 (vmf_insert_pfn)', () => {
  const { p } = boot();
  const sys = mapped(p, 'system', 2 * PS);
  assert.equal(p.store(sys.addr, new Uint8Array([7])), null);
  assert.equal(entry(p, sys.addr), SOFT_DIRTY);
  assert.equal(entry(p, sys.addr + PS), SOFT_DIRTY);
  const k7 = new Kernel({ profile: '7.0', cmdline: 'cma=64M' });
  const p7 = k7.spawn();
  const cma = mapped(p7, 'default_cma_region', PS);
  assert.equal(p7.store(cma.addr, new Uint8Array([7])), null);
  assert.equal(entry(p7, cma.addr), SOFT_DIRTY);
});

test('only CAP_SYS_ADMIN readers see PFNs; others read 0 in bits 0-54', () => {
  const { k, p } = boot();
  assert.equal(k.setDevNode('reserved', { mode: 0o666 }), 0);
  const user = k.spawn({ uid: 1000, gid: 1000, groups: [] });
  const { addr } = mapped(user, 'reserved', PS);
  user.load(addr, 1);
  assert.equal(entry(user, addr), PRESENT | FILE | EXCLUSIVE | SOFT_DIRTY);
  // root reading the user's pagemap sees the PFN
  assert.equal(entry(p, addr, `/proc/${user.pid}/pagemap`), PRESENT | FILE | EXCLUSIVE | SOFT_DIRTY | BigInt(cmaBase(k)));
  // 0400 and owned by the task: another user cannot open it
  const other = k.spawn({ uid: 1001, gid: 1001, groups: [] });
  assert.equal(other.open(`/proc/${user.pid}/pagemap`, O_RDONLY), -E.EACCES);
});

test('anonymous memory: present once written, with its PFN; shared anonymous pages carry the file bit; fork shares pages until written', () => {
  const { k, p } = boot();
  const a = p.mmap(0, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.equal(entry(p, a), SOFT_DIRTY);
  assert.equal(p.store(a + PS, new Uint8Array([1])), null);
  // the page came from the page allocator: its PFN is a real one
  const pfn = p.mm.pte.get((a + PS) / PS)!.pfn;
  assert.ok(pfn > 0 && pfn < k.ramBytes / PS);
  assert.equal(entry(p, a + PS), PRESENT | EXCLUSIVE | SOFT_DIRTY | BigInt(pfn));
  assert.equal(entry(p, a), SOFT_DIRTY);
  const s = p.mmap(0, PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  p.load(s, 1);
  const spfn = Number(entry(p, s) & ((1n << 55n) - 1n));
  assert.equal(entry(p, s), PRESENT | FILE | EXCLUSIVE | SOFT_DIRTY | BigInt(spfn));
  // fork: the private page is mapped by both (not exclusive) until a side writes; the shared
  // page is not mapped in the child until it touches it
  const c = p.fork();
  assert.equal(entry(p, a + PS), PRESENT | SOFT_DIRTY | BigInt(pfn));
  assert.equal(entry(c, a + PS), PRESENT | SOFT_DIRTY | BigInt(pfn));
  assert.equal(entry(c, s), SOFT_DIRTY);
  c.load(s, 1);
  assert.equal(entry(c, s), PRESENT | FILE | SOFT_DIRTY | BigInt(spfn));
  assert.equal(entry(p, s), PRESENT | FILE | SOFT_DIRTY | BigInt(spfn));
  assert.equal(c.store(a + PS, new Uint8Array([2])), null);
  const cpfn = c.mm.pte.get((a + PS) / PS)!.pfn;
  assert.notEqual(cpfn, pfn);
  assert.equal(entry(c, a + PS), PRESENT | EXCLUSIVE | SOFT_DIRTY | BigInt(cpfn));
  assert.equal(entry(p, a + PS), PRESENT | EXCLUSIVE | SOFT_DIRTY | BigInt(pfn));
});

test('memfd and udmabuf: the same page cache page under both mappings', () => {
  const { p } = boot();
  const m = p.memfdCreate('pm', MFD_ALLOW_SEALING);
  assert.equal(p.ftruncate(m, PS), 0);
  assert.equal(p.fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK), 0);
  const ma = p.mmap(0, PS, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
  assert.equal(entry(p, ma), SOFT_DIRTY);
  assert.equal(p.store(ma, new Uint8Array([5])), null);
  const e = entry(p, ma);
  const pfn = Number(e & ((1n << 55n) - 1n));
  assert.equal(e, PRESENT | FILE | EXCLUSIVE | SOFT_DIRTY | BigInt(pfn));
  // a udmabuf over the memfd maps the very same page: two PTEs, so neither is exclusive
  const u = p.open('/dev/udmabuf', O_RDWR);
  const arg = p.userAlloc(24);
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, m, true);
  dv.setBigUint64(16, BigInt(PS), true);
  p.mm.copyToUser(arg, b);
  const ub = p.ioctl(u, UDMABUF_CREATE, arg);
  assert.ok(ub >= 0);
  const ua = p.mmap(0, PS, PROT_READ, MAP_SHARED, ub, 0);
  p.load(ua, 1);
  assert.equal(entry(p, ua), PRESENT | FILE | SOFT_DIRTY | BigInt(pfn));
  assert.equal(entry(p, ma), PRESENT | FILE | SOFT_DIRTY | BigInt(pfn));
  // MAP_PRIVATE: a read maps the page cache page, a write replaces it with an anonymous copy
  const pa = p.mmap(0, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
  p.load(pa, 1);
  assert.equal(entry(p, pa), PRESENT | FILE | SOFT_DIRTY | BigInt(pfn));
  assert.equal(p.store(pa, new Uint8Array([9])), null);
  assert.equal(entry(p, pa), PRESENT | EXCLUSIVE | SOFT_DIRTY | BigInt(p.mm.pte.get(pa / PS)!.pfn));
});

test('arm64 has no soft-dirty bit', () => {
  const { k, p } = boot({ arch: 'arm64' });
  const { addr } = mapped(p, 'reserved', PS);
  assert.equal(entry(p, addr), 0n);
  p.load(addr, 1);
  assert.equal(entry(p, addr), PRESENT | FILE | EXCLUSIVE | BigInt(cmaBase(k)));
});

test('pagemap_read: aligned position and count, the end of the address space, mem_lseek', () => {
  const { p } = boot();
  const a = p.mmap(0, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.equal(readAt(p, (a / PS) * 8 + 4, 8).ret, -E.EINVAL, 'position not a multiple of 8');
  assert.equal(readAt(p, (a / PS) * 8, 12).ret, -E.EINVAL, 'count not a multiple of 8');
  assert.equal(readAt(p, (a / PS) * 8, 0).ret, 0);
  // two entries across the end of the VMA: the VMA's page, then the guard gap (a hole)
  const two = readAt(p, (a / PS) * 8, 16);
  assert.equal(two.ret, 16);
  const dv = new DataView(two.data!.buffer, two.data!.byteOffset, 16);
  assert.equal(dv.getBigUint64(0, true), SOFT_DIRTY);
  assert.equal(dv.getBigUint64(8, true), 0n);
  // x86-64: TASK_SIZE_MAX = 2^47 - 4096; the walk stops there
  const last = (2 ** 47 / PS - 2) * 8;
  assert.equal(readAt(p, last, 64).ret, 8);
  assert.equal(readAt(p, last + 8, 64).ret, 0);
  assert.equal(readAt(p, 2 ** 50, 8).ret, 0);
  const fd = p.open('/proc/self/pagemap', O_RDONLY);
  assert.equal(p.lseek(fd, 16, SEEK_SET), 16);
  assert.equal(p.lseek(fd, 8, SEEK_CUR), 24);
  assert.equal(p.lseek(fd, 0, SEEK_END), -E.EINVAL);
  const buf = p.userAlloc(16);
  assert.equal(p.read(fd, buf, 16), 16);
  assert.equal(p.lseek(fd, 0, SEEK_CUR), 40, 'read advances the position by the bytes copied');
  p.close(fd);
});

test('pagemap is binary: the text helper refuses it; not writable', () => {
  const { k, p } = boot();
  assert.equal(k.readFile(p, '/proc/self/pagemap'), -E.EINVAL);
  const w = p.open('/proc/self/pagemap', O_WRONLY);
  assert.ok(w >= 0, 'root opens it for writing (CAP_DAC_OVERRIDE)');
  assert.equal(p.write(w, 0, 0), -E.EINVAL, 'and cannot write');
  assert.equal(p.open('/proc/99999/pagemap', O_RDONLY), -E.ENOENT);
});

test('SyscallTarget.pagemap: present and pfn of a page of a mapping', () => {
  const t = createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' });
  try {
    const h = t.open('/dev/dma_heap/reserved', O_RDWR);
    const arg = new Uint8Array(24);
    new DataView(arg.buffer).setUint32(0, 2 * PS, true);
    new DataView(arg.buffer).setUint32(12, O_RDWR, true);
    const r = t.ioctl(h.ret, 0xc0184800, arg);
    assert.equal(r.ret, 0);
    const fd = new DataView(r.out!.buffer).getUint32(8, true);
    const m = t.mmap(2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert.ok(m.map !== null);
    assert.deepEqual(t.pagemap(m.map, 1), { ret: 8, errno: null, present: false, pfn: null, entry: SOFT_DIRTY });
    assert.equal(t.writeMem(m.map, PS, new Uint8Array([1])), null);
    assert.deepEqual(t.pagemap(m.map, 1), { ret: 8, errno: null, present: true, pfn: 0x7bc01, entry: 0xa18000000007bc01n });
    assert.deepEqual(t.pagemap(m.map, 0), { ret: 8, errno: null, present: false, pfn: null, entry: SOFT_DIRTY });
  } finally {
    t.dispose();
  }
});
