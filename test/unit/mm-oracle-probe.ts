/**
 * The referee probes of issue 11 (test/oracle/issue-11/mm-vma.c and mm-vma2.c) re-run on the
 * emulated kernel: the same calls in the same order, printed in the same format, so that their
 * output compares line by line with what the real kernels printed (kernel-mm-oracle.test.ts).
 * What a C program does with a load or store (sigsetjmp around a fault) is an access through
 * the address space that reports the fault instead of killing the process; smaps' VmFlags, Rss
 * and Locked are derived from the VMAs as fs/proc/task_mmu.c does.
 */
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import type { AddressSpace, Vma } from '../../src/kernel/fs/mm-user.js';
import { VM_EXEC, VM_LOCKED, VM_MAYSHARE, VM_PFNMAP, VM_READ, VM_WRITE } from '../../src/kernel/fs/mm-user.js';
import { errnoName } from '../../src/uapi/errno.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import { vmFlagsText } from '../../src/kernel/fs/procfs/task-mmu.js';

const PS = 4096;
const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;
const MAP_32BIT = 0x40, MAP_GROWSDOWN = 0x100, MAP_DENYWRITE = 0x800, MAP_EXECUTABLE = 0x1000, MAP_LOCKED = 0x2000;
const MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000, MAP_HUGETLB = 0x40000;
const MAP_SYNC = 0x80000, MAP_FIXED_NOREPLACE = 0x100000, MAP_DROPPABLE = 0x08;
const PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
const MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;
const O_RDONLY = 0, O_RDWR = 2, O_CLOEXEC = 0o2000000;
const MFD_CLOEXEC = 1;

type Kind = 'system' | 'reserved' | 'memfd' | 'anon' | 'shanon';
const KINDS: readonly Kind[] = ['system', 'reserved', 'memfd', 'anon', 'shanon'];

/** One probe run: the emulated machine the referees run on (2 GiB, cma=64M), one root process. */
/** Where the probe's scratch page sits: low, far below the top-down mmap area. */
const ARG_ADDR = 0x10000;
const PMD_SIZE = 512 * PS;

class Probe {
  readonly k: Kernel;
  p: Process;
  readonly out: string[] = [];
  subj = '';
  private hsys = -1;
  private hres = -1;
  /** Scratch user memory for syscall arguments (the C program's stack). */
  readonly arg: number;

  constructor(readonly profile: ProfileName) {
    this.k = new Kernel({ profile, arch: 'x86_64', pageSize: PS, ramBytes: 2 * 1024 ** 3, cmdline: 'cma=64M' });
    this.p = this.k.spawn({ uid: 0, gid: 0, groups: [] }, 'probe');
    // away from the mmap area: the C program's stack is nowhere near its mappings, and a
    // scratch page next to them would merge with a probe's private anonymous mapping
    this.arg = this.p.mmap(ARG_ADDR, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    this.hsys = this.p.open('/dev/dma_heap/system', O_RDWR | O_CLOEXEC);
    this.hres = this.p.open('/dev/dma_heap/reserved', O_RDWR | O_CLOEXEC);
  }

  line(c: string, ret: number, extra = ''): void {
    const e = ret < 0 ? (errnoName(-ret) ?? '?') : '0';
    this.out.push(`${this.subj}/${c}: ret=${ret < 0 ? -1 : ret} errno=${e}${extra === '' ? '' : ` ${extra}`}`);
  }
  mline(c: string, r: number, extra = ''): void {
    const e = r < 0 ? (errnoName(-r) ?? '?') : '0';
    this.out.push(`${this.subj}/${c}: ret=${r < 0 ? 'MAP_FAILED' : 'ok'} errno=${e}${extra === '' ? '' : ` ${extra}`}`);
  }
  /** A free range of `pages` pages. */
  hole(pages: number): number {
    // inside one page table (2 MiB): where the C program's holes happened to be, so that a
    // read fault's fault-around window (mm/memory.c do_fault_around) is clipped by the VMA
    // only, never by the end of a page table
    const a = this.p.mmap(0, pages * PS + PMD_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    this.p.munmap(a, pages * PS + PMD_SIZE);
    return Math.ceil(a / PMD_SIZE) * PMD_SIZE;
  }
  /** A load or store of one byte: "ok", "SIGSEGV" or "SIGBUS", and the value loaded. */
  touch(addr: number, write: boolean, proc: Process = this.p): { r: string; v: number } {
    let v = -1;
    const f = proc.mm.access(addr, 1, write, (d, off) => {
      if (write) d[off] = 0x5a;
      else v = d[off]!;
    });
    return { r: f ?? 'ok', v: f === null && !write ? v : -1 };
  }
  t(addr: number, write = false, proc?: Process): string {
    return this.touch(addr, write, proc).r;
  }
  poke(addr: number, value: number): void {
    this.p.mm.access(addr, 1, true, (d, off) => { d[off] = value; });
  }
  obj(kind: Kind, len: number, rdonly = false): number {
    const p = this.p;
    if (kind === 'system' || kind === 'reserved') {
      const b = new Uint8Array(24);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, len, true);
      dv.setUint32(12, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC, true);
      p.mm.copyToUser(this.arg, b);
      const r = p.ioctl(kind === 'system' ? this.hsys : this.hres, 0xc0184800, this.arg);
      if (r < 0) throw new Error(`alloc ${kind}: ${r}`);
      return new DataView(p.mm.copyFromUser(this.arg, 24)!.buffer).getUint32(8, true);
    }
    if (kind === 'memfd') {
      const fd = p.memfdCreate('t', MFD_CLOEXEC);
      p.ftruncate(fd, len);
      if (rdonly) {
        const r = p.open(`/proc/self/fd/${fd}`, O_RDONLY | O_CLOEXEC);
        p.close(fd);
        return r;
      }
      return fd;
    }
    return -1;
  }
  mflags(kind: Kind): number {
    return kind === 'anon' ? MAP_PRIVATE | MAP_ANONYMOUS : kind === 'shanon' ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED;
  }
  isfile(kind: Kind): boolean {
    return kind !== 'anon' && kind !== 'shanon';
  }
  present(addr: number, proc: Process = this.p): string {
    const fd = proc.open('/proc/self/pagemap', O_RDONLY);
    proc.lseek(fd, Math.floor(addr / PS) * 8, 0);
    proc.read(fd, this.arg, 8);
    const b = proc.mm.copyFromUser(this.arg, 8)!;
    proc.close(fd);
    return String(b[7]! >> 7);
  }
  vmlckKb(): number {
    return this.p.mm.lockedVm * 4;
  }
  fdcount(fd: number, proc: Process = this.p): string {
    const f = proc.fileRaw(fd);
    // only dma-buf fdinfo has a count: line
    return f === null || !f.pathName.startsWith('/dmabuf:') ? '-' : String(f.count);
  }
  /** smaps VmFlags mnemonics in bit order (the kernel's /proc/<pid>/smaps renders them the same way). */
  vmflags(v: Vma): string {
    return vmFlagsText(v.vmFlags, this.profile === '6.1' ? '??' : 'lf');
  }
  rssKb(mm: AddressSpace, v: Vma): number {
    let n = 0;
    for (let vpn = v.start / PS; vpn < v.end / PS; vpn++) if (mm.pte.has(vpn)) n++;
    if ((v.vmFlags & VM_PFNMAP) === 0 && v.populated !== null) n += v.populated.size;
    return n * 4;
  }
  maps(c: string, base: number, span: number, proc: Process = this.p, smaps = true): void {
    const mm = proc.mm;
    let s = `${this.subj}/${c}: maps`;
    let n = 0;
    for (let i = mm.vmas.length - 1; i >= 0; i--) {
      const v = mm.vmas[i]!;
      if (!(v.start < base + span && v.end > base)) continue;
      const perms = `${v.vmFlags & VM_READ ? 'r' : '-'}${v.vmFlags & VM_WRITE ? 'w' : '-'}${v.vmFlags & VM_EXEC ? 'x' : '-'}${v.vmFlags & VM_MAYSHARE ? 's' : 'p'}`;
      let off = 0;
      let dev = '00:00';
      let ino = '0';
      let path = '';
      if (v.file !== null) {
        off = (v.mapsPgoff ?? v.pgoff) * PS;
        dev = `00:${(v.file.inode.dev & 0xff).toString(16).padStart(2, '0')}`;
        ino = '*';
        path = v.file.pathName;
      } else if (v.shm !== null) {
        off = v.pgoff * PS;
        dev = '00:01';
        ino = '*';
        path = '/dev/zero (deleted)';
      }
      const rel = (a: number): string => (a >= base ? `+0x${(a - base).toString(16)}` : `-0x${(base - a).toString(16)}`);
      s += `${n++ > 0 ? ']' : ''} [${rel(v.start)}-${rel(v.end)} ${perms} ${off.toString(16).padStart(8, '0')}`;
      if (smaps) {
        const rss = this.rssKb(mm, v);
        s += ` ${dev} ${ino} ${path} Rss:${rss} Locked:${(v.vmFlags & VM_LOCKED) !== 0 ? rss : 0} |${this.vmflags(v)}`;
      }
    }
    this.out.push(`${s}${n > 0 ? ']' : ' none'}`);
  }
  mapat(kind: Kind, objpages: number, pages: number, prot: number): { p: number; fd: number } {
    const h = this.hole(64);
    const fd = this.obj(kind, objpages * PS);
    const p = this.p.mmap(h, pages * PS, prot, this.mflags(kind) | MAP_FIXED, fd, 0);
    if (p < 0) throw new Error(`${this.subj}: setup mmap failed: ${p}`);
    return { p, fd };
  }
  done(p: number, pages: number, fd: number): void {
    this.p.munmap(p, pages * PS);
    if (fd >= 0) this.p.close(fd);
  }
}

function mmapChecks(P: Probe, kind: Kind): void {
  const p = P.p;
  const fd = P.obj(kind, 16 * PS);
  const fl = P.mflags(kind) & ~MAP_TYPE;
  const type = P.mflags(kind) & MAP_TYPE;
  const tf: [string, number][] = [
    ['mmap-shared-validate', fl | MAP_SHARED_VALIDATE], ['mmap-validate-sync', fl | MAP_SHARED_VALIDATE | MAP_SYNC],
    ['mmap-shared-sync', fl | MAP_SHARED | MAP_SYNC], ['mmap-validate-noreplace', fl | MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE],
    ['mmap-validate-bit30', fl | MAP_SHARED_VALIDATE | 0x40000000], ['mmap-validate-bit21', fl | MAP_SHARED_VALIDATE | 0x200000],
    ['mmap-validate-uninit', fl | MAP_SHARED_VALIDATE | 0x4000000], ['mmap-private-bit30', fl | MAP_PRIVATE | 0x40000000],
    ['mmap-type0', fl], ['mmap-type4', fl | 0x04], ['mmap-droppable', fl | MAP_DROPPABLE], ['mmap-type15', fl | 0x0f],
    ['mmap-hugetlb', fl | type | MAP_HUGETLB], ['mmap-hugetlb-private', fl | MAP_PRIVATE | MAP_HUGETLB],
    ['mmap-growsdown', fl | type | MAP_GROWSDOWN], ['mmap-growsdown-private', fl | MAP_PRIVATE | MAP_GROWSDOWN],
    ['mmap-stack', fl | type | MAP_STACK], ['mmap-denywrite-executable', fl | type | MAP_DENYWRITE | MAP_EXECUTABLE],
    ['mmap-32bit', fl | type | MAP_32BIT], ['mmap-noreserve', fl | type | MAP_NORESERVE], ['mmap-locked', fl | type | MAP_LOCKED],
    ['mmap-populate', fl | type | MAP_POPULATE], ['mmap-populate-nonblock', fl | type | MAP_POPULATE | MAP_NONBLOCK],
  ];
  for (const [n, flags] of tf) {
    const l0 = P.vmlckKb();
    const a = p.mmap(0, 4 * PS, PROT_READ | PROT_WRITE, flags, fd, 0);
    if (a < 0) { P.mline(n, a); continue; }
    P.mline(n, a, `below4g=${a < 2 ** 32 ? 1 : 0} present0=${P.present(a)} vmlck_kb=${P.vmlckKb() - l0}`);
    P.maps(n, a, 4 * PS);
    p.munmap(a, 4 * PS);
  }
  const tp: [string, number][] = [
    ['mmap-prot-exec', PROT_READ | PROT_EXEC], ['mmap-prot-exec-only', PROT_EXEC], ['mmap-prot-none', PROT_NONE],
    ['mmap-prot-write-only', PROT_WRITE], ['mmap-prot-sem', PROT_READ | 0x8], ['mmap-prot-bit4', PROT_READ | 0x10],
    ['mmap-prot-growsdown', PROT_READ | PROT_GROWSDOWN], ['mmap-prot-growsup', PROT_READ | PROT_GROWSUP], ['mmap-prot-minus1', -1],
  ];
  for (const [n, prot] of tp) {
    const a = p.mmap(0, 4 * PS, prot, P.mflags(kind), fd, 0);
    P.mline(n, a);
    if (a >= 0) {
      P.maps(n, a, 4 * PS);
      const r = P.t(a);
      P.line(n, 0, `read=${r} write=${P.t(a, true)}`);
      p.munmap(a, 4 * PS);
    }
  }
  const tl: [string, number, number, number][] = [
    ['mmap-off-minus4096', PS, -4096, fd], ['mmap-off-2p62', PS, 2 ** 62, fd], ['mmap-off-2p63-4096', PS, 2 ** 63 - 4096, fd],
    ['mmap-off-minus-2p52', PS, -(2 ** 52), fd], ['mmap-off-2p44', PS, 2 ** 44, fd], ['mmap-off-15p', PS, 15 * PS, fd],
    ['mmap-off-15p-len2', 2 * PS, 15 * PS, fd], ['mmap-off-16p', PS, 16 * PS, fd], ['mmap-off-unaligned', PS, 100, fd],
    ['mmap-off-unaligned-badfd', PS, 100, 999], ['mmap-len0-badfd', 0, 0, 999], ['mmap-len0', 0, 0, fd], ['mmap-len100', 100, 0, fd],
    ['mmap-len-minus1', -1, 0, fd], ['mmap-len-minus4096', -4096, 0, fd], ['mmap-len-2p47', 2 ** 47, 0, fd], ['mmap-len-2p57', 2 ** 57, 0, fd],
    ['mmap-len-2p63', 2 ** 63, 0, fd], ['mmap-len-17p', 17 * PS, 0, fd], ['mmap-len-2p46', 2 ** 46, 0, fd],
  ];
  for (const [n, len, off, f] of tl) {
    const a = p.mmap(0, len, PROT_READ, P.mflags(kind) | MAP_NORESERVE, P.isfile(kind) ? f : -1, off);
    P.mline(n, a);
    if (a >= 0) {
      if (len === 100) {
        P.line('mmap-len100-touch', 0, `byte4000=${P.t(a + 4000)} byte4095=${P.t(a + 4095)} byte4096=${P.t(a + 4096)}`);
        P.maps(n, a, 2 * PS);
      }
      p.munmap(a, len);
    }
  }
  const h = P.hole(64);
  let q = p.mmap(h, 4 * PS, PROT_READ, P.mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0);
  P.mline('noreplace-free', q, `at_hint=${q === h ? 1 : 0}`);
  q = p.mmap(h + 2 * PS, 4 * PS, PROT_READ, P.mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0);
  P.mline('noreplace-overlap', q);
  q = p.mmap(h + 4 * PS, 4 * PS, PROT_READ, P.mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0);
  P.mline('noreplace-adjacent', q, `at=${q === h + 4 * PS ? 1 : 0}`);
  P.maps('noreplace-adjacent', h, 16 * PS);
  P.mline('noreplace-unaligned', p.mmap(h + 100, 4 * PS, PROT_READ, P.mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0));
  P.mline('fixed-unaligned', p.mmap(h + 100, 4 * PS, PROT_READ, P.mflags(kind) | MAP_FIXED, fd, 0));
  P.mline('fixed-anon-over-middle', p.mmap(h + 2 * PS, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  P.maps('fixed-anon-over-middle', h, 16 * PS);
  if (P.isfile(kind)) P.line('fixed-anon-over-middle-count', 0, `fdinfo_count=${P.fdcount(fd)}`);
  q = p.mmap(h + 100, PS, PROT_READ, P.mflags(kind), fd, 0);
  P.mline('hint-unaligned', q, `at=${q === h + 100 ? 'hint' : q === h + PS ? 'hint-rounded-up' : q === h ? 'hint-rounded-down' : 'elsewhere'}`);
  if (q >= 0) p.munmap(q, PS);
  q = p.mmap(h + 12 * PS, PS, PROT_READ, P.mflags(kind), fd, 0);
  P.mline('hint-free', q, `at=${q === h + 12 * PS ? 'hint' : 'elsewhere'}`);
  if (q >= 0) p.munmap(q, PS);
  q = p.mmap(h + 2 * PS, PS, PROT_READ, P.mflags(kind), fd, 0);
  P.mline('hint-taken', q, `at=${q === h + 2 * PS ? 'hint' : 'elsewhere'}`);
  if (q >= 0) p.munmap(q, PS);
  p.munmap(h, 16 * PS);
  q = p.mmap(2 ** 47 - PS, PS, PROT_READ, P.mflags(kind) | MAP_FIXED, fd, 0);
  P.mline('fixed-last-page-4level', q);
  if (q >= 0) p.munmap(q, PS);
  if (fd >= 0) p.close(fd);
  if (P.isfile(kind)) {
    const ro = P.obj(kind, 4 * PS, true);
    P.mline('ro-shared-write', p.mmap(0, PS, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
    let a = p.mmap(0, PS, PROT_READ, MAP_SHARED, ro, 0);
    P.mline('ro-shared-read', a);
    if (a >= 0) {
      P.maps('ro-shared-read', a, PS);
      P.line('ro-mprotect-write', p.mprotect(a, PS, PROT_READ | PROT_WRITE));
      P.line('ro-mprotect-exec', p.mprotect(a, PS, PROT_READ | PROT_EXEC));
      p.munmap(a, PS);
    }
    a = p.mmap(0, PS, PROT_READ, MAP_PRIVATE, ro, 0);
    P.mline('ro-private-read', a);
    if (a >= 0) {
      P.maps('ro-private-read', a, PS);
      P.line('ro-private-mprotect-write', p.mprotect(a, PS, PROT_READ | PROT_WRITE));
      p.munmap(a, PS);
    }
    p.close(ro);
  }
}

function munmapSplit(P: Probe, kind: Kind): void {
  const p = P.p;
  const { p: a, fd } = P.mapat(kind, 8, 8, PROT_READ | PROT_WRITE);
  for (let i = 0; i < 8; i++) P.poke(a + i * PS, 0x10 + i);
  P.maps('split-before', a, 16 * PS);
  P.line('munmap-page1', p.munmap(a + PS, PS));
  P.maps('munmap-page1', a, 16 * PS);
  const r = P.t(a + PS);
  const r2 = P.touch(a + 2 * PS, false);
  P.line('munmap-page1-touch', 0, `page1=${r} page2=${r2.r} value=0x${(r2.v >>> 0).toString(16)}`);
  if (fd >= 0) P.line('munmap-page1-count', 0, `fdinfo_count=${P.fdcount(fd)}`);
  P.line('munmap-unaligned', p.munmap(a + 100, PS));
  P.line('munmap-len0', p.munmap(a, 0));
  P.line('munmap-hole-and-tail', p.munmap(a + PS, 2 * PS));
  P.maps('munmap-hole-and-tail', a, 16 * PS);
  P.line('munmap-len-unaligned', p.munmap(a + 7 * PS, 100));
  P.maps('munmap-len-unaligned', a, 16 * PS);
  P.line('munmap-beyond', p.munmap(a + 3 * PS, 20 * PS));
  P.maps('munmap-beyond', a, 16 * PS);
  P.line('munmap-again', p.munmap(a + 3 * PS, PS));
  P.done(a, 1, fd);
}

function mprotectCases(P: Probe, kind: Kind): void {
  const p = P.p;
  const { p: a, fd } = P.mapat(kind, 8, 8, PROT_READ | PROT_WRITE);
  for (let i = 0; i < 8; i++) P.poke(a + i * PS, 0x20 + i);
  P.line('mprotect-middle-ro', p.mprotect(a + 2 * PS, 2 * PS, PROT_READ));
  P.maps('mprotect-middle-ro', a, 16 * PS);
  P.line('mprotect-middle-ro-touch', 0, `write2=${P.t(a + 2 * PS, true)} write4=${P.t(a + 4 * PS, true)} read2=${P.t(a + 2 * PS)}`);
  if (fd >= 0) P.line('mprotect-middle-count', 0, `fdinfo_count=${P.fdcount(fd)}`);
  P.line('mprotect-back-rw', p.mprotect(a + 2 * PS, 2 * PS, PROT_READ | PROT_WRITE));
  P.maps('mprotect-back-rw', a, 16 * PS);
  P.line('mprotect-none', p.mprotect(a + 7 * PS, PS, PROT_NONE));
  P.line('mprotect-none-touch', 0, `read=${P.t(a + 7 * PS)}`);
  P.maps('mprotect-none', a, 16 * PS);
  P.line('mprotect-exec', p.mprotect(a, PS, PROT_READ | PROT_EXEC));
  P.maps('mprotect-exec', a, 2 * PS);
  const wo = p.mprotect(a + PS, PS, PROT_WRITE);
  P.line('mprotect-write-only', wo, `read=${P.t(a + PS)}`);
  P.line('mprotect-unaligned', p.mprotect(a + 100, PS, PROT_READ));
  P.line('mprotect-len0', p.mprotect(a, 0, PROT_READ));
  P.line('mprotect-len0-unmapped', p.mprotect(PS, 0, PROT_READ));
  P.line('mprotect-len-unaligned', p.mprotect(a + 6 * PS, 100, PROT_READ));
  P.maps('mprotect-len-unaligned', a, 16 * PS);
  P.line('mprotect-prot-bit4', p.mprotect(a, PS, PROT_READ | 0x10));
  P.line('mprotect-prot-sem', p.mprotect(a, PS, PROT_READ | 0x8));
  P.line('mprotect-prot-growsdown', p.mprotect(a, PS, PROT_READ | PROT_GROWSDOWN));
  P.line('mprotect-prot-growsup', p.mprotect(a, PS, PROT_READ | PROT_GROWSUP));
  P.line('mprotect-prot-both-grows', p.mprotect(a, PS, PROT_READ | PROT_GROWSUP | PROT_GROWSDOWN));
  P.line('mprotect-past-end', p.mprotect(a + 6 * PS, 4 * PS, PROT_READ));
  P.maps('mprotect-past-end', a, 16 * PS);
  P.line('mprotect-unmapped', p.mprotect(a + 9 * PS, PS, PROT_READ));
  P.line('mprotect-wrap', p.mprotect(a, -PS, PROT_READ));
  P.line('mprotect-2p47', p.mprotect(2 ** 47 - PS, PS, PROT_READ));
  p.munmap(a + 3 * PS, PS);
  P.line('mprotect-over-hole', p.mprotect(a + 2 * PS, 3 * PS, PROT_NONE));
  P.maps('mprotect-over-hole', a, 16 * PS);
  P.done(a, 8, fd);
}

function mergeCases(P: Probe, kind: Kind): void {
  const p = P.p;
  if (!P.isfile(kind)) {
    const h = P.hole(16);
    const a = p.mmap(h, 2 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, -1, 0);
    const b = p.mmap(h + 2 * PS, 2 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, -1, 0);
    P.mline('merge-adjacent', a >= 0 && b >= 0 ? a : b);
    P.maps('merge-adjacent', h, 8 * PS);
    p.munmap(h, 4 * PS);
    return;
  }
  const fd = P.obj(kind, 8 * PS);
  const h = P.hole(16);
  const a = p.mmap(h, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  const b = p.mmap(h + 2 * PS, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 2 * PS);
  P.mline('merge-contiguous', a >= 0 && b >= 0 ? a : b);
  P.maps('merge-contiguous', h, 8 * PS);
  P.line('merge-contiguous-count', 0, `fdinfo_count=${P.fdcount(fd)}`);
  P.mline('merge-noncontiguous', p.mmap(h + 4 * PS, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 6 * PS));
  P.maps('merge-noncontiguous', h, 8 * PS);
  p.mmap(h + 6 * PS, 2 * PS, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  p.munmap(h, 8 * PS);
  p.close(fd);
}

function mremapCases(P: Probe, kind: Kind): void {
  const p = P.p;
  const m0 = P.mapat(kind, 8, 4, PROT_READ | PROT_WRITE);
  const fd = m0.fd;
  let a = m0.p;
  for (let i = 0; i < 4; i++) P.poke(a + i * PS, 0x30 + i);
  let q: number;
  P.mline('mremap-bad-flag', p.mremap(a, 4 * PS, 4 * PS, 8));
  P.mline('mremap-fixed-no-maymove', p.mremap(a, 4 * PS, 4 * PS, MREMAP_FIXED, a + 8 * PS));
  P.mline('mremap-dontunmap-no-maymove', p.mremap(a, 4 * PS, 4 * PS, MREMAP_DONTUNMAP, 0));
  P.mline('mremap-unaligned', p.mremap(a + 100, PS, PS, 0));
  P.mline('mremap-newlen0', p.mremap(a, 4 * PS, 0, 0));
  P.mline('mremap-oldlen0-nomove', p.mremap(a, 0, PS, 0));
  P.mline('mremap-dontunmap-shrink', p.mremap(a, 4 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0));
  P.mline('mremap-fixed-overlap', p.mremap(a, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, a + 2 * PS));
  P.mline('mremap-past-vma', p.mremap(a + 3 * PS, 2 * PS, 2 * PS, 0));
  P.mline('mremap-unmapped', p.mremap(a + 10 * PS, PS, PS, 0));
  q = p.mremap(a, 4 * PS, 4 * PS, 0);
  P.mline('mremap-same', q, `at=${q === a ? 1 : 0}`);
  q = p.mremap(a, 4 * PS, 100 + 2 * PS, 0);
  P.mline('mremap-shrink-unaligned', q, `at=${q === a ? 1 : 0}`);
  P.maps('mremap-shrink-unaligned', a, 16 * PS);
  q = p.mremap(a, 3 * PS, 4 * PS, 0);
  P.mline('mremap-grow-back', q, `at=${q === a ? 1 : 0}`);
  P.maps('mremap-grow-back', a, 16 * PS);
  q = p.mremap(a, 4 * PS, 6 * PS, 0);
  P.mline('mremap-grow-inplace', q, `at=${q === a ? 1 : 0}`);
  if (q >= 0) {
    P.maps('mremap-grow-inplace', a, 16 * PS);
    P.line('mremap-grow-inplace-touch', 0, `page3=${P.t(a + 3 * PS)} page4=${P.t(a + 4 * PS)} page5=${P.t(a + 5 * PS)}`);
    p.mremap(a, 6 * PS, 4 * PS, 0);
  }
  p.mmap(a + 4 * PS, PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  P.mline('mremap-grow-blocked', p.mremap(a, 4 * PS, 6 * PS, 0));
  q = p.mremap(a, 4 * PS, 6 * PS, MREMAP_MAYMOVE);
  P.mline('mremap-grow-maymove', q, `moved=${q >= 0 && q !== a ? 1 : 0}`);
  if (q >= 0 && q !== a) {
    const n0 = P.touch(q, false);
    P.line('mremap-grow-maymove-touch', 0, `old0=${P.t(a)} new0=${n0.r} value=0x${(n0.v >>> 0).toString(16)} new5=${P.t(q + 5 * PS)}`);
    P.maps('mremap-grow-maymove', q, 6 * PS);
    if (fd >= 0) P.line('mremap-grow-maymove-count', 0, `fdinfo_count=${P.fdcount(fd)}`);
    const back = p.mremap(q, 6 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, a);
    P.mline('mremap-fixed-back', back);
    a = back < 0 ? q : back;
  }
  p.munmap(a + 4 * PS, PS);
  const dst = P.hole(16);
  q = p.mremap(a, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  P.mline('mremap-fixed-move', q, `at=${q === dst ? 1 : 0}`);
  if (q >= 0) {
    const nv = P.touch(dst, false);
    P.line('mremap-fixed-move-touch', 0, `old=${P.t(a)} new=${nv.r} value=0x${(nv.v >>> 0).toString(16)}`);
    P.maps('mremap-fixed-move', dst, 4 * PS);
    a = q;
  }
  q = p.mremap(a, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
  P.mline('mremap-dontunmap', q);
  if (q >= 0) {
    const w = P.touch(a, false);
    const v = P.touch(q, false);
    P.line('mremap-dontunmap-touch', 0, `old=${w.r} oldvalue=0x${(w.v >>> 0).toString(16)} new=${v.r} value=0x${(v.v >>> 0).toString(16)}`);
    P.maps('mremap-dontunmap-old', a, 4 * PS);
    p.munmap(q, 4 * PS);
  }
  q = p.mremap(a, 0, 2 * PS, MREMAP_MAYMOVE);
  P.mline('mremap-oldlen0-dup', q);
  if (q >= 0) {
    const v = P.touch(q, false);
    P.line('mremap-oldlen0-dup-touch', 0, `new0=${v.r} value=0x${(v.v >>> 0).toString(16)} new1=${P.t(q + PS)}`);
    P.maps('mremap-oldlen0-dup', q, 2 * PS);
    p.munmap(q, 2 * PS);
  }
  {
    const f2 = P.obj(kind, 4 * PS);
    const h = P.hole(32);
    const m = p.mmap(h, 4 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, f2, 0);
    q = p.mremap(m, 4 * PS, 6 * PS, 0);
    P.mline('mremap-grow-past-object', q, `at=${q === m ? 1 : 0}`);
    if (q >= 0) {
      P.line('mremap-grow-past-object-touch', 0, `page3=${P.t(m + 3 * PS)} page4=${P.t(m + 4 * PS)} page5=${P.t(m + 5 * PS, true)}`);
      P.maps('mremap-grow-past-object', m, 8 * PS);
      p.munmap(m, 6 * PS);
    } else p.munmap(m, 4 * PS);
    if (f2 >= 0) p.close(f2);
  }
  p.mprotect(a + PS, PS, PROT_READ);
  q = p.mremap(a, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, P.hole(16));
  P.mline('mremap-two-vmas', q);
  if (q >= 0) a = q;
  q = p.mremap(a, 2 * PS, 3 * PS, MREMAP_MAYMOVE);
  P.mline('mremap-grow-first-of-two', q);
  if (q >= 0 && q !== a) p.munmap(q, 3 * PS);
  P.done(a, 8, fd);
}

const ADVICE: [string, number][] = [
  ['normal', 0], ['random', 1], ['sequential', 2], ['willneed', 3], ['dontneed', 4], ['free', 8], ['remove', 9], ['dontfork', 10],
  ['dofork', 11], ['mergeable', 12], ['unmergeable', 13], ['hugepage', 14], ['nohugepage', 15], ['dontdump', 16], ['dodump', 17],
  ['wipeonfork', 18], ['keeponfork', 19], ['cold', 20], ['pageout', 21], ['populate-read', 22], ['populate-write', 23],
  ['dontneed-locked', 24], ['collapse', 25], ['guard-install', 102], ['guard-remove', 103], ['hwpoison', 100], ['soft-offline', 101],
  ['adv-5', 5], ['adv-7', 7], ['adv-26', 26], ['adv-99', 99], ['adv-104', 104], ['adv-minus1', -1],
];

function madviseCases(P: Probe, kind: Kind): void {
  const p = P.p;
  for (const [name, adv] of ADVICE) {
    const { p: a, fd } = P.mapat(kind, 4, 4, PROT_READ | PROT_WRITE);
    for (let k = 0; k < 4; k++) P.poke(a + k * PS, 0x40 + k);
    const n = `madvise-${name}`;
    const r = p.madvise(a + PS, PS, adv);
    const t = P.touch(a + PS, false);
    P.line(n, r, `page1=${t.r} value=0x${(t.v >>> 0).toString(16)} present1=${P.present(a + PS)}`);
    if (r === 0) P.maps(n, a, 8 * PS);
    if (r === 0 && (adv === 10 || adv === 18)) {
      const c = p.fork();
      const ct = P.touch(a + PS, false, c);
      c.exit();
      P.line(`madvise-${name}-child`, 0, `child_page1=${ct.r} 0x${(ct.v >>> 0).toString(16)}`);
    }
    P.done(a, 4, fd);
  }
  const { p: a, fd } = P.mapat(kind, 4, 4, PROT_READ | PROT_WRITE);
  P.line('madvise-unaligned', p.madvise(a + 100, PS, 0));
  P.line('madvise-len0', p.madvise(a, 0, 0));
  P.line('madvise-len0-bad', p.madvise(a, 0, 99));
  P.line('madvise-unmapped', p.madvise(a + 8 * PS, PS, 0));
  P.line('madvise-past-end', p.madvise(a + 2 * PS, 4 * PS, 1));
  P.maps('madvise-past-end', a, 8 * PS);
  P.line('madvise-wrap', p.madvise(a, -PS, 0));
  P.line('madvise-len-unaligned', p.madvise(a, 100, 2));
  P.maps('madvise-len-unaligned', a, 8 * PS);
  P.done(a, 4, fd);
}

function msyncCases(P: Probe, kind: Kind): void {
  const p = P.p;
  const { p: a, fd } = P.mapat(kind, 4, 4, PROT_READ | PROT_WRITE);
  const tm: [string, number][] = [
    ['msync-async', MS_ASYNC], ['msync-sync', MS_SYNC], ['msync-invalidate', MS_INVALIDATE], ['msync-0', 0],
    ['msync-async-sync', MS_ASYNC | MS_SYNC], ['msync-bit3', 8], ['msync-sync-invalidate', MS_SYNC | MS_INVALIDATE],
  ];
  for (const [n, f] of tm) P.line(n, p.msync(a, 4 * PS, f));
  P.line('msync-unaligned', p.msync(a + 100, PS, MS_SYNC));
  P.line('msync-len0', p.msync(a, 0, MS_SYNC));
  P.line('msync-unmapped', p.msync(a + 8 * PS, PS, MS_ASYNC));
  P.line('msync-past-end', p.msync(a + 2 * PS, 4 * PS, MS_ASYNC));
  P.line('msync-past-end-sync', p.msync(a + 2 * PS, 4 * PS, MS_SYNC));
  P.line('msync-wrap', p.msync(a, -PS, MS_ASYNC));
  P.line('msync-locked-mlock', p.mlock(a, PS));
  P.line('msync-locked-invalidate', p.msync(a, PS, MS_INVALIDATE));
  P.line('msync-locked-async-invalidate', p.msync(a, PS, MS_ASYNC | MS_INVALIDATE));
  P.line('msync-locked-sync', p.msync(a, PS, MS_SYNC));
  p.munlock(a, PS);
  P.done(a, 4, fd);
}

function mlockCases(P: Probe, kind: Kind): void {
  const p = P.p;
  const { p: a, fd } = P.mapat(kind, 4, 4, PROT_READ | PROT_WRITE);
  const l0 = P.vmlckKb();
  const r = p.mlock(a + PS, PS);
  P.line('mlock-page1', r, `vmlck_kb=${P.vmlckKb() - l0} present1=${P.present(a + PS)}`);
  P.maps('mlock-page1', a, 8 * PS);
  P.line('mlock-dontneed', p.madvise(a + PS, PS, 4));
  P.line('mlock-pageout', p.madvise(a + PS, PS, 21));
  const u = p.munlock(a + PS, PS);
  P.line('munlock-page1', u, `vmlck_kb=${P.vmlckKb() - l0}`);
  P.maps('munlock-page1', a, 8 * PS);
  const un = p.mlock(a + 100, 100);
  P.line('mlock-unaligned', un, `vmlck_kb=${P.vmlckKb() - l0}`);
  P.maps('mlock-unaligned', a, 8 * PS);
  p.munlock(a, 4 * PS);
  P.line('mlock-len0', p.mlock(a, 0));
  P.line('mlock-unmapped', p.mlock(a + 8 * PS, PS));
  const pe = p.mlock(a + 2 * PS, 4 * PS);
  P.line('mlock-past-end', pe, `vmlck_kb=${P.vmlckKb() - l0}`);
  P.maps('mlock-past-end', a, 8 * PS);
  p.munlock(a, 4 * PS);
  P.line('munlock-unmapped', p.munlock(a + 8 * PS, PS));
  P.line('mlock-wrap', p.mlock(a, -PS));
  const of = p.mlock(a, PS, 1);
  P.line('mlock2-onfault', of, `vmlck_kb=${P.vmlckKb() - l0}`);
  P.maps('mlock2-onfault', a, 8 * PS);
  p.munlock(a, 4 * PS);
  P.line('mlock2-bad-flag', p.mlock(a, PS, 2));
  P.line('mlock2-0', p.mlock(a, PS, 0));
  p.munlock(a, 4 * PS);
  P.done(a, 4, fd);
}

function mlockallCases(P: Probe): void {
  let p = P.p;
  P.subj = 'mlockall';
  P.line('mlockall-0', p.mlockall(0));
  P.line('mlockall-onfault-only', p.mlockall(MCL_ONFAULT));
  P.line('mlockall-bad', p.mlockall(8));
  P.line('mlockall-future', p.mlockall(MCL_FUTURE));
  for (const kind of KINDS) {
    const fd = P.obj(kind, 4 * PS);
    const a = p.mmap(0, 4 * PS, PROT_READ | PROT_WRITE, P.mflags(kind), fd, 0);
    P.mline(`future-${kind}`, a, `present0=${a < 0 ? '-' : P.present(a)}`);
    if (a >= 0) {
      P.maps(`future-${kind}`, a, 4 * PS);
      p.munmap(a, 4 * PS);
    }
    if (fd >= 0) p.close(fd);
  }
  P.line('munlockall', p.munlockall());
  const a = p.mmap(0, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  P.maps('after-munlockall', a, 4 * PS);
  p.munmap(a, 4 * PS);
  // RLIMIT_MEMLOCK as a user
  P.subj = 'user';
  let c = p.fork();
  c.setMemlock(0, 0);
  c.cred = { uid: 1000, gid: 1000, groups: [] };
  p = c;
  let x = c.mmap(0, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  P.line('rlimit0-mlock', c.mlock(x, PS));
  P.mline('rlimit0-map-locked', c.mmap(0, PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
  P.line('rlimit0-mlockall', c.mlockall(MCL_CURRENT));
  P.line('rlimit0-munlock', c.munlock(x, PS));
  c.exit();
  c = P.p.fork();
  c.setMemlock(2 * PS, 2 * PS);
  c.cred = { uid: 1000, gid: 1000, groups: [] };
  x = c.mmap(0, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  P.line('rlimit8k-mlock-2p', c.mlock(x, 2 * PS));
  P.line('rlimit8k-mlock-3p', c.mlock(x, 3 * PS));
  P.line('rlimit8k-mlock-again-2p', c.mlock(x, 2 * PS));
  c.munlock(x, 4 * PS);
  P.line('rlimit8k-mlock-4p', c.mlock(x, 4 * PS));
  P.mline('rlimit8k-map-locked-3p', c.mmap(0, 3 * PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
  P.mline('rlimit8k-map-locked-2p', c.mmap(0, 2 * PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
  P.line('rlimit8k-mlockall-current', c.mlockall(MCL_CURRENT));
  P.line('rlimit8k-mlockall-future', c.mlockall(MCL_FUTURE));
  P.mline('rlimit8k-future-3p', c.mmap(0, 3 * PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  c.munlockall();
  c.exit();
}

function forkCases(P: Probe, kind: Kind): void {
  const p = P.p;
  const { p: a, fd } = P.mapat(kind, 4, 4, PROT_READ | PROT_WRITE);
  for (let k = 0; k < 4; k++) P.poke(a + k * PS, 0x50 + k);
  const c = p.fork();
  const t = P.touch(a + PS, false, c);
  c.mm.access(a + 2 * PS, 1, true, (d, off) => { d[off] = 0x77; });
  P.out.push(`${P.subj}/fork-child: ret=0 errno=0 page1=${t.r} value=0x${(t.v >>> 0).toString(16)}`);
  P.maps('fork-child', a, 4 * PS, c);
  if (fd >= 0) P.out.push(`${P.subj}/fork-child-count: ret=0 errno=0 fdinfo_count=${P.fdcount(fd, c)}`);
  c.exit();
  P.line('fork-parent-sees-child-write', 0, `page2=0x${P.touch(a + 2 * PS, false).v.toString(16)}`);
  P.done(a, 4, fd);
}

/** mm-vma.c on the emulated kernel of `profile`: its output lines. */
export function runMmVma(profile: ProfileName): string[] {
  const P = new Probe(profile);
  P.out.push(`osrelease=${P.k.profile.release}`);
  for (const kind of KINDS) {
    P.subj = kind;
    mmapChecks(P, kind);
    munmapSplit(P, kind);
    mprotectCases(P, kind);
    mergeCases(P, kind);
    mremapCases(P, kind);
    madviseCases(P, kind);
    msyncCases(P, kind);
    mlockCases(P, kind);
    forkCases(P, kind);
  }
  mlockallCases(P);
  return P.out;
}

/** mm-vma2.c on the emulated kernel of `profile`: its output lines. */
export function runMmVma2(profile: ProfileName): string[] {
  const P = new Probe(profile);
  const p = P.p;
  P.out.push(`osrelease=${P.k.profile.release}`);
  const o = (c: string, s: string): void => { P.out.push(`${P.subj}/${c}: ${s}`); };
  const R = (c: string, r: number): void => o(c, `ret=${r < 0 ? -1 : r} errno=${r < 0 ? errnoName(-r) : '0'}`);
  const M = (c: string, r: number): number => {
    o(c, `ret=${r < 0 ? 'MAP_FAILED' : 'ok'} errno=${r < 0 ? errnoName(-r) : '0'}`);
    return r;
  };
  const maps = (c: string, base: number, span: number, proc: Process = p): void => P.maps(c, base, span, proc, false);
  for (const kind of KINDS) {
    P.subj = kind;
    const file = P.isfile(kind);
    let fd = P.obj(kind, 4 * PS);
    let h = P.hole(32);
    let a = p.mmap(h, 2 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, fd, 0);
    let q = M('adjacent-past-end', p.mmap(h + 2 * PS, 4 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, fd, 2 * PS));
    if (q >= 0) {
      o('adjacent-past-end-touch', `page3=${P.t(h + 3 * PS)} page4=${P.t(h + 4 * PS)} page5=${P.t(h + 5 * PS)} count=${file ? P.fdcount(fd) : '-'}`);
      maps('adjacent-past-end', h, 8 * PS);
    }
    p.munmap(h, 8 * PS);
    if (fd >= 0) p.close(fd);

    fd = P.obj(kind, 4 * PS);
    h = P.hole(32);
    a = p.mmap(h, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    P.poke(a + PS, 0x33);
    M('fixed-failing-over-anon', p.mmap(h, 4 * PS, PROT_READ | PROT_WRITE, (file ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS) | MAP_FIXED, file ? fd : -1, file ? 8 * PS : 0));
    {
      const v = P.touch(h + PS, false);
      o('fixed-failing-over-anon-touch', `page1=${v.r} value=0x${(v.v >>> 0).toString(16)}`);
    }
    maps('fixed-failing-over-anon', h, 4 * PS);
    p.munmap(h, 4 * PS);
    if (fd >= 0) p.close(fd);

    fd = P.obj(kind, 4 * PS);
    h = P.hole(32);
    a = p.mmap(h, 4 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, fd, 0);
    P.poke(a, 0x61);
    q = M('move-fixed-same-size', p.mremap(a, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 16 * PS));
    if (q >= 0) {
      const v = P.touch(q, false);
      o('move-fixed-same-size-touch', `old=${P.t(a)} new=${v.r} value=0x${(v.v >>> 0).toString(16)} count=${file ? P.fdcount(fd) : '-'}`);
      maps('move-fixed-same-size', h, 32 * PS);
      a = q;
    }
    q = M('move-maymove-shrink', p.mremap(a, 4 * PS, 2 * PS, MREMAP_MAYMOVE));
    if (q >= 0) a = q;
    q = M('dontunmap', p.mremap(a, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0));
    if (q >= 0) {
      const w = P.touch(a, false);
      const v = P.touch(q, false);
      o('dontunmap-touch', `old=${w.r} oldvalue=0x${(w.v >>> 0).toString(16)} new=${v.r} value=0x${(v.v >>> 0).toString(16)} count=${file ? P.fdcount(fd) : '-'}`);
      maps('dontunmap-old', a, 2 * PS);
      maps('dontunmap-new', q, 2 * PS);
      p.munmap(q, 2 * PS);
    }
    q = M('dontunmap-fixed', p.mremap(a, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, h + 24 * PS));
    if (q >= 0) p.munmap(q, 2 * PS);
    q = M('dontunmap-hint-unaligned', p.mremap(a, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, h + 100));
    if (q >= 0) p.munmap(q, 2 * PS);
    p.munmap(a, 2 * PS);
    p.munmap(h, 32 * PS);
    if (fd >= 0) p.close(fd);

    fd = P.obj(kind, 8 * PS);
    h = P.hole(64);
    const remap = (): void => {
      a = p.mmap(h, 6 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, fd, 0);
      p.mprotect(a + 2 * PS, PS, PROT_READ);
    };
    remap();
    q = M('move-two-vmas-maymove', p.mremap(a, 4 * PS, 4 * PS, MREMAP_MAYMOVE));
    if (q >= 0) { maps('move-two-vmas-maymove', q, 4 * PS); p.munmap(q, 4 * PS); remap(); }
    q = M('move-two-vmas-fixed-grow', p.mremap(a, 4 * PS, 5 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 32 * PS));
    if (q >= 0) { p.munmap(q, 5 * PS); remap(); }
    q = M('move-two-vmas-fixed-dontunmap', p.mremap(a, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, h + 32 * PS));
    if (q >= 0) p.munmap(q, 4 * PS);
    p.munmap(a + 4 * PS, PS);
    q = M('move-with-hole-fixed', p.mremap(a, 6 * PS, 6 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 32 * PS));
    if (q >= 0) {
      maps('move-with-hole-fixed-new', h + 32 * PS, 8 * PS);
      maps('move-with-hole-fixed-old', h, 8 * PS);
      p.munmap(q, 6 * PS);
      a = p.mmap(h, 6 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_FIXED, fd, 0);
      p.munmap(a + 4 * PS, PS);
    }
    p.munmap(a, PS);
    q = M('move-leading-hole-fixed', p.mremap(a, 6 * PS, 6 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 32 * PS));
    if (q >= 0) p.munmap(q, 6 * PS);
    R('mlock-leading-hole', p.mlock(a, 3 * PS));
    maps('mlock-leading-hole', h, 8 * PS);
    p.munlock(a, 6 * PS);
    R('mprotect-leading-hole', p.mprotect(a, 3 * PS, PROT_READ));
    maps('mprotect-leading-hole', h, 8 * PS);
    R('madvise-leading-hole', p.madvise(a, 3 * PS, 1));
    maps('madvise-leading-hole', h, 8 * PS);
    R('msync-async-leading-hole', p.msync(a, 3 * PS, MS_ASYNC));
    R('msync-sync-leading-hole', p.msync(a, 3 * PS, MS_SYNC));
    R('msync-invalidate-leading-hole', p.msync(a, 3 * PS, MS_INVALIDATE));
    R('munlock-leading-hole', p.munlock(a, 3 * PS));
    p.munmap(h, 64 * PS);
    if (fd >= 0) p.close(fd);

    fd = P.obj(kind, 4 * PS);
    const roFlags = file ? MAP_SHARED : P.mflags(kind);
    a = M('populate-ro', p.mmap(0, 4 * PS, PROT_READ, roFlags | MAP_POPULATE, fd, 0));
    if (a >= 0) { o('populate-ro-present', `present0=${P.present(a)} present3=${P.present(a + 3 * PS)}`); p.munmap(a, 4 * PS); }
    a = M('populate-none', p.mmap(0, 4 * PS, PROT_NONE, P.mflags(kind) | MAP_POPULATE, fd, 0));
    if (a >= 0) { o('populate-none-present', `present0=${P.present(a)}`); p.munmap(a, 4 * PS); }
    if (kind === 'memfd' || kind === 'anon') {
      a = M('populate-private-ro', p.mmap(0, 4 * PS, PROT_READ, MAP_PRIVATE | (file ? 0 : MAP_ANONYMOUS) | MAP_POPULATE, fd, 0));
      if (a >= 0) { o('populate-private-ro-present', `present0=${P.present(a)}`); p.munmap(a, 4 * PS); }
    }
    a = M('populate-past-end', p.mmap(0, 8 * PS, PROT_READ | PROT_WRITE, P.mflags(kind) | MAP_POPULATE, fd, 0));
    if (a >= 0) { o('populate-past-end-present', `present3=${P.present(a + 3 * PS)}`); p.munmap(a, 8 * PS); }
    if (fd >= 0) p.close(fd);

    if (kind === 'memfd') {
      fd = P.obj(kind, 4 * PS);
      p.mm.copyToUser(P.arg, Uint8Array.of(0x46));
      p.lseek(fd, PS, 0);
      p.write(fd, P.arg, 1);
      a = p.mmap(0, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      P.poke(a + PS, 0x43);
      const v0 = P.touch(a + PS, false).v;
      R('private-copy-dontneed', p.madvise(a, 4 * PS, 4));
      o('private-copy-dontneed-value', `before=${String.fromCharCode(v0)} after=${String.fromCharCode(P.touch(a + PS, false).v)}`);
      P.poke(a + PS, 0x43);
      R('private-copy-remove', p.madvise(a, 4 * PS, 9));
      R('private-copy-populate-write', p.madvise(a, 4 * PS, 23));
      R('private-copy-populate-read-past', p.madvise(a, 8 * PS, 22));
      p.munmap(a, 4 * PS);
      a = p.mmap(0, 8 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      R('populate-write-past-eof', p.madvise(a, 8 * PS, 23));
      R('populate-read-past-eof', p.madvise(a, 8 * PS, 22));
      R('mlock-past-eof', p.mlock(a, 8 * PS));
      R('munlock-past-eof', p.munlock(a, 8 * PS));
      P.poke(a, 1);
      p.mprotect(a, 8 * PS, PROT_READ);
      R('remove-ro', p.madvise(a, PS, 9));
      p.munmap(a, 8 * PS);
      p.close(fd);
    }

    fd = P.obj(kind, 4 * PS);
    a = p.mmap(0, 4 * PS, PROT_READ | PROT_WRITE, P.mflags(kind), fd, 0);
    for (let i = 0; i < 4 * PS; i += PS) p.fill(a + i, PS, 0x77);
    p.madvise(a, PS, 10);
    const wf = p.madvise(a + PS, PS, 18);
    p.mlock(a + 2 * PS, PS);
    const c = p.fork();
    const ta = P.touch(a, false, c);
    const tb = P.touch(a + PS, false, c);
    const td = P.touch(a + 2 * PS, false, c);
    o('fork-child', `dontfork=${ta.r} wipe(${wf < 0 ? -1 : 0})=${tb.r} 0x${(tb.v >>> 0).toString(16)} locked=${td.r} 0x${(td.v >>> 0).toString(16)} count=${file ? P.fdcount(fd, c) : '-'}`);
    maps('fork-child', a, 4 * PS, c);
    R('fork-child-msync-invalidate-locked-page', c.msync(a + 2 * PS, PS, MS_INVALIDATE));
    c.exit();
    o('fork-parent', `count=${file ? P.fdcount(fd) : '-'}`);
    p.munmap(a, 4 * PS);
    if (fd >= 0) p.close(fd);
  }
  return P.out;
}
