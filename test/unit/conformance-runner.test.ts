import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AttachResult, DeviceStatsResult, IoctlArg, IoctlResult, MapAttachmentResult, MapHandle, PagemapResult, SanitizerResult, SyscallTarget, SysResult,
} from '../../src/api/target.js';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../src/backends/emulated/target.js';
import { conformanceMain, conformanceTarget } from '../../src/apps/conformance/cli.js';
import { formatReport, loadCaseFiles, parseCaseFile, runCases } from '../../src/apps/conformance/runner.js';
import type { CaseFile } from '../../src/apps/conformance/runner.js';
import { OPS, profileMatches } from '../../src/apps/conformance/cases.js';

/** A tiny fake kernel: one heap "fake", ALLOC returns fd 4 or EINVAL for len 0. */
class FakeTarget implements SyscallTarget {
  readonly backend = 'fake';
  readonly arch = 'x86_64' as const;
  readonly pageSize = 4096;
  readonly release = '6.1.0';
  private next = 3;
  private readonly sizes = new Map<number, number>();
  private readonly mem = new Map<number, Uint8Array>();
  disposed = false;
  listHeaps(): string[] { return ['fake']; }
  open(path: string): SysResult { return path === '/dev/dma_heap/fake' ? { ret: this.next++, errno: null } : { ret: -1, errno: 'ENOENT' }; }
  close(): SysResult { return { ret: 0, errno: null }; }
  dup(fd: number): SysResult { return { ret: fd + 100, errno: null }; }
  fcntl(): SysResult { return { ret: 0, errno: null }; }
  ioctl(_fd: number, cmd: number, arg: IoctlArg): IoctlResult {
    if (arg === null || arg === 'unmapped') return { ret: -1, errno: 'EFAULT', out: null };
    if ((cmd & 0xffff) !== 0x4800) return { ret: -1, errno: 'ENOTTY', out: arg };
    const out = Uint8Array.from(arg);
    const dv = new DataView(out.buffer);
    const len = Number(dv.getBigUint64(0, true));
    if (len === 0) return { ret: -1, errno: 'EINVAL', out };
    const fd = this.next++;
    this.sizes.set(fd, Math.ceil(len / 4096) * 4096);
    if (out.length >= 12) dv.setUint32(8, fd, true);
    return { ret: 0, errno: null, out };
  }
  ioctlInPlace(fd: number, cmd: number, arg: Uint8Array): SysResult {
    const r = this.ioctl(fd, cmd, arg);
    if (r.out !== null) arg.set(r.out);
    return r;
  }
  ioctlString(): SysResult { return { ret: 0, errno: null }; }
  mm(): { ret: number; errno: 'ENOSYS'; map: null } { return { ret: -1, errno: 'ENOSYS', map: null }; }
  mmap(length: number, _prot: number, _flags: number, fd: number): { ret: number; errno: null; map: MapHandle } | { ret: number; errno: 'EINVAL'; map: null } {
    if (!this.sizes.has(fd)) return { ret: -1, errno: 'EINVAL', map: null };
    const addr = 0x10000 * fd;
    this.mem.set(addr, new Uint8Array(length));
    return { ret: addr, errno: null, map: { addr, length } };
  }
  munmap(): SysResult { return { ret: 0, errno: null }; }
  readMem(map: MapHandle, offset: number, length: number): Uint8Array | 'SIGBUS' {
    const m = this.mem.get(map.addr);
    if (m === undefined || offset + length > m.length) return 'SIGBUS';
    return m.slice(offset, offset + length);
  }
  readMemInto(map: MapHandle, offset: number, dst: Uint8Array): null | 'SIGBUS' {
    const r = this.readMem(map, offset, dst.length);
    if (typeof r === 'string') return r;
    dst.set(r);
    return null;
  }
  writeMem(map: MapHandle, offset: number, data: Uint8Array): null | 'SIGBUS' {
    const m = this.mem.get(map.addr);
    if (m === undefined || offset + data.length > m.length) return 'SIGBUS';
    m.set(data, offset);
    return null;
  }
  read(): SysResult & { data: null } { return { ret: -1, errno: 'EINVAL', data: null }; }
  write(): SysResult { return { ret: -1, errno: 'EINVAL' }; }
  lseek(fd: number, offset: number, whence: number): SysResult {
    const size = this.sizes.get(fd);
    if (size === undefined) return { ret: -1, errno: 'ESPIPE' };
    if (offset !== 0 || (whence !== 0 && whence !== 2)) return { ret: -1, errno: 'EINVAL' };
    return { ret: whence === 2 ? size : 0, errno: null };
  }
  fstat(): SysResult & { stat: null } { return { ret: -1, errno: 'EBADF', stat: null }; }
  poll(fds: readonly { fd: number; events: number }[]): SysResult & { revents: number[] } { return { ret: fds.length, errno: null, revents: fds.map((f) => f.events) }; }
  readlink(): SysResult & { text: string } { return { ret: 8, errno: null, text: '/dmabuf:' }; }
  readdir(): SysResult & { names: string[] | null } {
    return { ret: -1, errno: 'ENOENT', names: null };
  }
  ioctlAt(): SysResult {
    return { ret: -1, errno: 'EFAULT' };
  }
  readFile(path: string): SysResult & { text: string | null } {
    const m = /^\/proc\/self\/fdinfo\/(\d+)$/.exec(path);
    if (m !== null && this.sizes.has(Number(m[1]))) return { ret: 1, errno: null, text: `size:\t${this.sizes.get(Number(m[1]))}\nexp_name:\tfake\n` };
    return { ret: -1, errno: 'ENOENT', text: null };
  }
  setNofile(): SysResult { return { ret: 0, errno: null }; }
  memfdCreate(): SysResult { return { ret: -1, errno: 'ENOSYS' }; }
  ftruncate(): SysResult { return { ret: -1, errno: 'ENOSYS' }; }
  mkdir(path: string): SysResult { return path.startsWith('/sys/fs/cgroup/') ? { ret: 0, errno: null } : { ret: -1, errno: 'EROFS' }; }
  rmdir(): SysResult { return { ret: -1, errno: 'ENOENT' }; }
  writeFile(path: string, text: string): SysResult { return path.endsWith('/cgroup.procs') && text === '4242' ? { ret: 4, errno: null } : { ret: -1, errno: 'EINVAL' }; }
  /** Pages of a mapping are present at PFN 0x1000 + page once written; other pages are not. */
  pagemap(map: MapHandle, page: number): PagemapResult {
    const m = this.mem.get(map.addr);
    const present = m !== undefined && page >= 0 && page * 4096 < m.length && m.subarray(page * 4096, (page + 1) * 4096).some((b) => b !== 0);
    const pfn = present ? 0x1000 + page : null;
    return { ret: 8, errno: null, present, pfn, entry: present ? (1n << 63n) | BigInt(0x1000 + page) : 0n };
  }
  // no devices and no sanitizer: every device call is ENOSYS (as a backend without them)
  attach(): AttachResult { return { ret: -1, errno: 'ENOSYS', handle: null }; }
  mapAttachment(): MapAttachmentResult { return { ret: -1, errno: 'ENOSYS', entries: null, bounced: false, iova: false }; }
  unmapAttachment(): SysResult { return { ret: -1, errno: 'ENOSYS' }; }
  detach(): SysResult { return { ret: -1, errno: 'ENOSYS' }; }
  syncForCpu(): SysResult { return { ret: -1, errno: 'ENOSYS' }; }
  syncForDevice(): SysResult { return { ret: -1, errno: 'ENOSYS' }; }
  deviceRead(): SysResult & { data: null } { return { ret: -1, errno: 'ENOSYS', data: null }; }
  deviceWrite(): SysResult { return { ret: -1, errno: 'ENOSYS' }; }
  deviceStats(): DeviceStatsResult { return { ret: -1, errno: 'ENOSYS', stats: null }; }
  sanitizer(): SanitizerResult { return { ret: -1, errno: 'ENOSYS', reports: null }; }
  getpid(): number { return 4242; }
  openFdCount(): number { return this.next; }
  dispose(): void { this.disposed = true; }
}

function file(cases: unknown[], name = 't.json'): CaseFile {
  const r = parseCaseFile(JSON.stringify({ cases }), name);
  assert.deepEqual(r.errors, []);
  assert.ok(r.file !== null);
  return r.file;
}

const ALLOC_OK = {
  name: 'alloc ok on ${heap}', heap: '*',
  steps: [
    { open: '/dev/dma_heap/${heap}', flags: 'O_RDWR|O_CLOEXEC', as: 'h' },
    { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4097, fd_flags: 'O_RDWR|O_CLOEXEC' }, as: 'b', expect: { fields: { fd: '${h} + 1', len: 4097 } } },
    { read_file: '/proc/self/fdinfo/${b.fd}', expect: { match: 'exp_name:\\t${heap}', not_match: '^name:' } },
    { lseek: 'b.fd', offset: 0, whence: 'SEEK_END', expect: { ret: '2 * PAGE_SIZE' } },
    { mmap: 'b.fd', length: 8192, prot: 'PROT_READ|PROT_WRITE', as: 'm' },
    { write_mem: 'm', offset: 4096, fill: '0xff', length: 4 },
    { read_mem: 'm', offset: 4096, length: 4, expect: { equals: 'ffffffff' } },
    { read_mem: 'm', offset: 0, length: 4096, expect: { zero: true } },
    { repeat: 3, index: 'k', steps: [{ ioctl: 'h', cmd: '0xc0184800', arg: { bytes: '0010000000000000000000000200080000000000000000000' + '0' }, as: 'r${k}' }] },
    { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096, size: 32, pad: '0xa5' }, expect: { bytes_at: { 24: 'a5a5a5a5a5a5a5a5' } } },
  ],
};

test('a passing case: struct args, ${} substitution, field checks, repeat, memory', async () => {
  const targets: FakeTarget[] = [];
  const report = await runCases([file([ALLOC_OK])], () => { const t = new FakeTarget(); targets.push(t); return t; });
  assert.equal(report.failed, 0, formatReport(report));
  assert.equal(report.passed, 1);
  assert.equal(report.results[0]?.name, 'alloc ok on fake');
  assert.ok(targets.every((t) => t.disposed), 'every target disposed');
  assert.match(formatReport(report), /^PASS {2}t\.json: case 1 "alloc ok on fake"\n1 passed, 0 failed\n$/);
});

test('a wrong errno gives a FAIL line with the step, expected and observed', async () => {
  const report = await runCases([file([{
    name: 'zero len', heap: 'fake',
    steps: [
      { open: '/dev/dma_heap/${heap}', as: 'h' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096 }, expect: { errno: 'EINVAL' } },
    ],
  }])], () => new FakeTarget());
  assert.equal(report.failed, 1);
  const text = formatReport(report);
  assert.match(text, /^FAIL {2}t\.json: case 1 "zero len": step 2 \(ioctl\): errno: expected EINVAL, observed ret=0 \(success\)$/m);
  assert.match(text, /^0 passed, 1 failed$/m);
});

test('a step without expect must succeed; errno mismatch on success is reported', async () => {
  const report = await runCases([file([{ name: 'no such heap', steps: [{ open: '/dev/dma_heap/nope' }] }])], () => new FakeTarget());
  assert.match(formatReport(report), /step 1 \(open\): expected success, observed ret=-1 errno=ENOENT/);
});

test('xfail: a failing xfail case passes with a note, a passing one is XPASS (a failure)', async () => {
  const report = await runCases([file([
    { name: 'known bug', xfail: 'kernel bug #1', steps: [{ open: '/dev/dma_heap/nope', expect: { errno: 'EACCES' } }] },
    { name: 'stale mark', xfail: 'fixed since', steps: [{ open: '/dev/dma_heap/nope', expect: { errno: 'ENOENT' } }] },
  ])], () => new FakeTarget());
  assert.equal(report.passed, 1);
  assert.equal(report.failed, 1);
  const text = formatReport(report);
  assert.match(text, /^XFAIL t\.json: case 1 "known bug": kernel bug #1 \[step 1 \(open\): errno: expected EACCES, observed ret=-1 errno=ENOENT\]$/m);
  assert.match(text, /^XPASS t\.json: case 2 "stale mark": marked xfail \(fixed since\) but passed; remove the mark$/m);
});

test('skips: profile, backend, missing heap; the closing line counts them', async () => {
  const report = await runCases([file([
    { name: 'only 7.0', profiles: ['7.0'], steps: [{ count_fds: true }] },
    { name: 'only linux', backend: 'linux', steps: [{ count_fds: true }] },
    { name: 'cma only', heap: 'reserved', steps: [{ count_fds: true }] },
    { name: 'runs', steps: [{ count_fds: true, as: 'n' }, { count_fds: true, expect: { ret: '${n}' } }] },
  ])], () => new FakeTarget());
  assert.equal(report.skipped, 3);
  assert.equal(report.passed, 1);
  const text = formatReport(report);
  assert.match(text, /^SKIP {2}t\.json: case 1 "only 7\.0": profile 6\.1 not in \[7\.0\]$/m);
  assert.match(text, /^SKIP {2}t\.json: case 3 "cma only": heap reserved is not present/m);
  assert.match(text, /^1 passed, 0 failed, 3 skipped$/m);
});

test('bad case files give clear errors naming file, case and step', () => {
  assert.deepEqual(parseCaseFile('{ "cases": [ {', 'bad.json').errors.map((e) => e.replace(/JSON: .*/, 'JSON')), ['bad.json: invalid JSON']);
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ count_fds: true }, { frobnicate: 'h' }] }] }), 'f.json').errors,
    [`f.json: case 1 "x": step 2: no op key (unknown op 'frobnicate'; known: ${OPS.join(', ')})`]);
  assert.ok(OPS.includes('open') && OPS.includes('sanitizer') && OPS.includes('epoll_ctl'));
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ lseek: 'h', whence: 0 }] }] }), 'f.json').errors,
    [`f.json: case 1 "x": step 1 (lseek): missing key 'offset'`]);
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ open: '/a', expect: { errno: 'EINVAL', rett: 1 } }] }] }), 'f.json').errors,
    [`f.json: case 1 "x": step 1 (open): unknown expect key 'rett' (known: ret, errno, fault, match, not_match, equals, zero, all, fields, bytes_at)`]);
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ read_file: '/a', expect: { match: '(' } }] }] }), 'f.json').errors.length, 1);
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ open: '/dev/dma_heap/${heap}' }] }] }), 'f.json').errors,
    [`f.json: case 1 "x": uses \${heap} but has no 'heap' key`]);
});

test('runtime case errors (unknown name, missing result) are ERROR lines, even in xfail cases', async () => {
  const report = await runCases([file([
    { name: 'typo', heap: '*', steps: [{ open: '/dev/dma_heap/${heap}', flags: 'O_RDWR|O_CLOEXC' }] },
    { name: 'missing', xfail: 'x', steps: [{ lseek: 'b.fd', offset: 0, whence: 'SEEK_END' }] },
    { name: 'no field', heap: '*', steps: [{ open: '/dev/dma_heap/${heap}', as: 'h' }, { lseek: 'h.fd', offset: 0, whence: 0 }] },
  ])], () => new FakeTarget());
  const text = formatReport(report);
  assert.equal(report.failed, 3, text);
  assert.match(text, /^ERROR t\.json: case 1 "typo \[fake\]": step 1 \(open\): unknown name 'O_CLOEXC' in expression 'O_RDWR\|O_CLOEXC'/m);
  assert.match(text, /^ERROR t\.json: case 2 "missing": step 1 \(lseek\): no earlier result named 'b' \(in 'b\.fd'\)$/m);
  assert.match(text, /^ERROR t\.json: case 3 "no field \[fake\]": step 2 \(lseek\): result 'h' has no field 'fd' \(fields: ret, errno\)$/m);
});

test('loadCaseFiles reports unreadable paths and bad files; conformanceMain exit codes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-'));
  writeFileSync(join(dir, 'good.json'), JSON.stringify({ cases: [ALLOC_OK] }));
  writeFileSync(join(dir, 'bad.json'), '{"cases": [{"name": "b", "steps": [{"ioctl": "h"}]}]}');
  const r = loadCaseFiles([dir, join(dir, 'missing.json')]);
  assert.equal(r.files.length, 1);
  assert.equal(r.errors.length, 2);
  assert.match(r.errors.join('\n'), /bad\.json: case 1 "b": step 1 \(ioctl\): missing key 'cmd'/);
  assert.match(r.errors.join('\n'), /missing\.json: no such file or directory/);

  const lines: string[] = [];
  const print = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
  assert.equal(await conformanceMain(['run', join(dir, 'good.json'), '--profile', '6.1'], print), 0, lines.join('\n'));
  assert.equal(lines.at(-1), '2 passed, 0 failed');
  lines.length = 0;
  assert.equal(await conformanceMain(['run', dir, '--profile', '6.1'], print), 1);
  assert.match(lines.join('\n'), /^ERROR .*bad\.json: case 1 "b": step 1 \(ioctl\): missing key 'cmd'$/m);
  assert.equal(lines.at(-1), '2 passed, 1 failed');
  assert.equal(await conformanceMain(['run', '--frob', dir], print), 2);
  assert.equal(await conformanceMain(['run'], print), 2);
  assert.equal(await conformanceMain(['run', join(dir, 'nope')], print), 2);
});

test('the example of the format reference runs on the emulated 6.1 machine', async () => {
  const example = {
    name: 'alloc of 0 bytes is EINVAL', heap: '*',
    steps: [
      { open: '/dev/dma_heap/${heap}', flags: 'O_RDWR|O_CLOEXEC', as: 'h' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 0, fd_flags: 'O_RDWR|O_CLOEXEC' }, as: 'a', expect: { errno: 'EINVAL' } },
      { ioctl: 'h', cmd: '0xc0104800', arg: { bytes: '00001000000000000000000002000800' }, as: 'b' },
      { read_file: '/proc/self/fdinfo/${b.fd}', expect: { match: 'exp_name:\\t${heap}' } },
      { mmap: 'b.fd', length: 4096, prot: 'PROT_READ|PROT_WRITE', flags: 'MAP_SHARED', as: 'm' },
      { read_mem: 'm', offset: 0, length: 4096, expect: { zero: true } },
      { lseek: 'b.fd', offset: 0, whence: 'SEEK_END', expect: { ret: 1048576 } },
    ],
  };
  const report = await runCases([file([example])], () => createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' }));
  assert.equal(report.failed, 0, formatReport(report));
  assert.deepEqual(report.results.map((r) => r.heap).sort(), ['reserved', 'system']);
});

test('readdir and a pointer into a mapping (copy-out fault: 6.1.192 leaves no fd, 6.6 leaves one)', async () => {
  const c = {
    name: 'ext', heap: 'system',
    steps: [
      { open: '/dev/dma_heap/${heap}', as: 'h' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096, fd_flags: 'O_RDWR' }, as: 'b' },
      { fstat: 'b.fd', as: 's' },
      { readdir: '/sys/kernel/dmabuf/buffers', expect: { ret: 1, equals: '${s.ino}' } },
      { mmap: 'b.fd', length: 4096, prot: 'PROT_READ|PROT_WRITE', as: 'w' },
      { write_mem: 'w', bytes: '0010000000000000' + '00000000' + '02000000' },
      { mmap: 'b.fd', length: 4096, prot: 'PROT_READ', as: 'ro' },
      { count_fds: true, as: 'n' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { at: 'ro' }, expect: { errno: 'EFAULT' } },
      { count_fds: true, expect: { ret: '${n} + ${leak}' } },
      { readdir: '/dev/dma_heap/nonexistent', expect: { errno: 'ENOENT' } },
    ],
  };
  for (const [profile, leak] of [['6.1', '0'], ['6.6', '1']] as const) {
    const steps = c.steps.map((s) => JSON.parse(JSON.stringify(s).replace('${leak}', leak)) as typeof s);
    const report = await runCases([file([{ ...c, steps }])], () => conformanceTarget({ ...ORACLE_MACHINE, profile }));
    assert.equal(report.failed, 0, formatReport(report));
  }
});

test('memfd_create and ftruncate ops; struct fields named size, buffer_size, and items for a flexible array', async () => {
  const c = {
    name: 'udmabuf',
    steps: [
      { open: '/dev/udmabuf', flags: 'O_RDWR', as: 'u' },
      { memfd_create: 'm${u}', flags: 'MFD_ALLOW_SEALING|MFD_CLOEXEC', as: 'm' },
      { readlink: '/proc/self/fd/${m}', expect: { equals: '/memfd:m0 (deleted)' } },
      { ftruncate: 'm', length: '4 * PAGE_SIZE' },
      { fcntl: 'm', cmd: 'F_ADD_SEALS', arg: 'F_SEAL_SHRINK' },
      { ioctl: 'u', cmd: 'UDMABUF_CREATE', arg: { struct: 'udmabuf_create', memfd: 'm', size: 8192 }, as: 'b', expect: { ret: '${m} + 1', fields: { size: 8192 } } },
      { ioctl: 'u', cmd: 'UDMABUF_CREATE', arg: { struct: 'udmabuf_create', memfd: 'm', size: 4096, buffer_size: 32, buffer_pad: '0xa5' }, expect: { ret: '${b} + 1', bytes_at: { 16: '0010000000000000a5a5a5a5a5a5a5a5' } } },
      { ioctl: 'u', cmd: 'UDMABUF_CREATE_LIST', arg: { struct: 'udmabuf_create_list', count: 2, items: [{ struct: 'udmabuf_create_item', memfd: 'm', size: 4096 }, { struct: 'udmabuf_create_item', memfd: 'm', offset: 8192, size: 8192 }] }, as: 'l', expect: { fields: { count: 2 } } },
      { lseek: 'l', offset: 0, whence: 'SEEK_END', expect: { ret: 12288 } },
      { count_fds: true, expect: { ret: 5 } },
      { ftruncate: 'm', length: 0, expect: { errno: 'EPERM' } },
    ],
  };
  const report = await runCases([file([c])], () => createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' }));
  assert.equal(report.failed, 0, formatReport(report));
  const fake = await runCases([file([{ name: 'fake', steps: [{ memfd_create: 'x' }] }])], () => new FakeTarget());
  assert.match(formatReport(fake), /step 1 \(memfd_create\): expected success, observed ret=-1 errno=ENOSYS/);
  const bad = await runCases([file([{ name: 'bad', steps: [{ open: '/dev/udmabuf', as: 'u' }, { ioctl: 'u', cmd: 'UDMABUF_CREATE_LIST', arg: { struct: 'udmabuf_create_list', items: [{ memfd: 1 }] } }] }])], () => createEmulatedTarget({ profile: '6.1' }));
  assert.match(formatReport(bad), /ERROR .*ioctl\.arg\.items\[0\]: must be \{"struct"/);
});

test('mkdir, rmdir, write_file and eval ops; ${pid}; / and % in expressions; fault SIGKILL', async () => {
  const fake = await runCases([file([{
    name: 'cgroup ops',
    steps: [
      { mkdir: '/sys/fs/cgroup/x', mode: '0755' },
      { mkdir: '/sys/kernel/dmabuf/x', expect: { errno: 'EROFS' } },
      { rmdir: '/sys/fs/cgroup/x', expect: { errno: 'ENOENT' } },
      { write_file: '/sys/fs/cgroup/x/cgroup.procs', text: '${pid}', expect: { ret: 4 } },
      { write_file: '/sys/fs/cgroup/x/cgroup.procs', text: 'x${pid}', expect: { errno: 'EINVAL' } },
      { eval: '${pid} / 1000 * 10 + ${pid} % 10', as: 'v', expect: { ret: 42 } },
      { eval: '-7 / 2', expect: { ret: -3 } },
      { eval: '-7 % 2', expect: { ret: -1 } },
      { eval: 'v - 43', expect: { ret: -1 } },
    ],
  }])], () => new FakeTarget());
  assert.equal(fake.failed, 0, formatReport(fake));
  const bad = await runCases([file([
    { name: 'div0', steps: [{ eval: '1 / (2 - 2)' }] },
    { name: 'no text', steps: [{ write_file: '/x', text: 1 }] },
    { name: 'negative needs expect', steps: [{ eval: '0 - 1' }] },
  ])], () => new FakeTarget());
  const text = formatReport(bad);
  assert.match(text, /^ERROR t\.json: case 1 "div0": step 1 \(eval\): division by zero in expression '1 \/ \(2 - 2\)'$/m);
  assert.match(text, /^ERROR t\.json: case 2 "no text": step 1 \(write_file\): write_file\.text must be a string$/m);
  assert.match(text, /^FAIL {2}t\.json: case 3 "negative needs expect": step 1 \(eval\): expected success, observed ret=-1 \(success\)$/m);
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ write_file: '/a' }] }] }), 'f.json').errors,
    [`f.json: case 1 "x": step 1 (write_file): missing key 'text'`]);
  // on the emulated kernel: a memory.max that a store exceeds kills the process with SIGKILL
  const c = {
    name: 'memcg limit',
    steps: [
      { write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: '+memory' },
      { mkdir: '/sys/fs/cgroup/small' },
      { write_file: '/sys/fs/cgroup/small/memory.max', text: '64K' },
      { write_file: '/sys/fs/cgroup/small/cgroup.procs', text: '${pid}' },
      { read_file: '/sys/fs/cgroup/small/cgroup.procs', expect: { equals: '${pid}\n' } },
      { mmap: -1, length: '1 << 20', prot: 'PROT_READ|PROT_WRITE', flags: 'MAP_PRIVATE|MAP_ANONYMOUS', as: 'a' },
      { read_mem: 'a', length: '1 << 20', expect: { zero: true } },
      { write_mem: 'a', fill: 1, length: '1 << 20', expect: { fault: 'SIGKILL' } },
    ],
  };
  const report = await runCases([file([c])], () => createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' }));
  assert.equal(report.failed, 0, formatReport(report));
});

test('device ops on the emulated target: attach, map_attachment fields, device_write/read, syncs, device_stats, unmap, detach', async () => {
  const c = {
    name: 'devices', backend: 'emulated', devices: [{ name: 'dev32', dmaMask: 32 }, { name: 'mmu', iommu: true }],
    steps: [
      { open: '/dev/dma_heap/system', flags: 'O_RDWR', as: 'h' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096, fd_flags: 'O_RDWR' }, as: 'b0' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 1052672, fd_flags: 'O_RDWR' }, as: 'b' },
      { attach: 'b.fd', device: 'dev32', as: 'att', expect: { ret: 'att.handle' } },
      { map_attachment: 'att', direction: 'DMA_TO_DEVICE', as: 'sgt', expect: { fields: { count: 2, bounced: 0, iova: 0, length: 1048576, handle: 'att' }, match: '^0x[0-9a-f]+:4096$' } },
      { eval: 'sgt', expect: { ret: 'att' } },
      { device_write: 'dev32', buffer: 'b.fd', offset: 4094, bytes: '01020304', expect: { ret: 4 } },
      { device_read: 'dev32', buffer: 'b.fd', offset: 4092, length: 8, as: 'x', expect: { equals: '0000010203040000', bytes_at: { 2: '0102' } } },
      { eval: 'x', expect: { ret: 8 } },
      { device_read: 'dev32', buffer: 'b.fd', offset: 1052670, length: 4, expect: { errno: 'EINVAL' } },
      { sync_for_cpu: 'att' },
      { sync_for_device: 'sgt', direction: 'DMA_BIDIRECTIONAL' },
      { device_stats: 'dev32', expect: { fields: { maps: 1, syncs_for_cpu: 1, syncs_for_device: 1, dma_writes: 1, dma_reads: 1, dma_read_bytes: 8, bounce_copies: 0 } } },
      { attach: 'b.fd', device: 'mmu', as: 'a2' },
      { map_attachment: 'a2', as: 's2', expect: { fields: { count: 1, iova: 1, length: 1052672 } } },
      { unmap_attachment: 'sgt' },
      { device_read: 'dev32', buffer: 'b.fd', length: 4, expect: { errno: 'EFAULT' } },
      { sync_for_cpu: 'att', expect: { errno: 'EINVAL' } },
      { detach: 'att' },
      { detach: 'att', expect: { errno: 'EINVAL' } },
      { device_read: 'mmu', buffer: 'b.fd', offset: 4094, length: 2, expect: { equals: '0102' } },
      { sanitizer: 'report', expect: { errno: 'ENOSYS' } },
    ],
  };
  const run = async (cases: unknown[]): Promise<string> => {
    const r = await runCases([file(cases)], () => conformanceTarget({ ...ORACLE_MACHINE, profile: '6.1' }), { machineTarget: (m) => conformanceTarget({ ...ORACLE_MACHINE, profile: '6.1', ...(m.devices !== undefined ? { devices: m.devices } : {}), ...(m.sanitizer !== undefined ? { sanitizer: m.sanitizer } : {}) }) });
    return formatReport(r);
  };
  assert.match(await run([c]), /^1 passed, 0 failed$/m);
  const bad = await run([
    { name: 'bad direction', backend: 'emulated', devices: [{ name: 'd' }], steps: [{ map_attachment: 1, direction: 'DMA_TO_DEVICE|DMA_FROM_DEVICE' }] },
    { name: 'bad action', backend: 'emulated', sanitizer: true, steps: [{ sanitizer: 'flush' }] },
    { name: 'no device', steps: [{ device_stats: 'd', expect: { errno: 'ENODEV' } }, { attach: 0, device: '' }] },
  ]);
  assert.match(bad, /^ERROR t\.json: case 1 "bad direction": step 1 \(map_attachment\): map_attachment\.direction: 3 is not a DMA direction/m);
  assert.match(bad, /^ERROR t\.json: case 2 "bad action": step 1 \(sanitizer\): sanitizer: the action must be "report", "check" or "clear"$/m);
  assert.match(bad, /^ERROR t\.json: case 3 "no device": step 2 \(attach\): attach\.device: must be a device name/m);
});

test('the sanitizer op: count, kinds and the report text; check and clear', async () => {
  const c = {
    name: 'sanitizer', backend: 'emulated', sanitizer: true,
    steps: [
      { open: '/dev/dma_heap/system', flags: 'O_RDWR', as: 'h' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096, fd_flags: 'O_RDWR' }, as: 'b' },
      { mmap: 'b.fd', length: 4096, prot: 'PROT_READ|PROT_WRITE', as: 'm' },
      { write_mem: 'm', fill: 1, length: 4 },
      { ioctl: 'b.fd', cmd: 'DMA_BUF_IOCTL_SYNC', arg: { struct: 'dma_buf_sync', flags: 'DMA_BUF_SYNC_START|DMA_BUF_SYNC_READ' } },
      { write_mem: 'm', fill: 1, length: 4 },
      { sanitizer: 'report', as: 's', expect: { ret: 2, fields: { count: 2, kinds: 'cpu-access-outside-sync\ndirection-mismatch' }, match: '^error: direction-mismatch\\n' } },
      { sanitizer: 'check', expect: { fields: { kinds: 'cpu-access-outside-sync\ndirection-mismatch\nbegin-never-ended' } } },
      { sanitizer: 'clear', expect: { ret: 0, equals: '' } },
      { eval: 's.count', expect: { ret: 2 } },
    ],
  };
  const report = await runCases([file([c])], () => conformanceTarget(ORACLE_MACHINE), { machineTarget: (m) => conformanceTarget({ ...ORACLE_MACHINE, sanitizer: m.sanitizer ?? false }) });
  assert.equal(report.failed, 0, formatReport(report));
});

test('device and sanitizer ops on a target without them: ENOSYS; emulated-only cases are skipped with the reason printed', async () => {
  const report = await runCases([file([
    { name: 'enosys', steps: [{ attach: 3, device: 'd', expect: { errno: 'ENOSYS' } }, { sanitizer: 'report', expect: { errno: 'ENOSYS' } }, { device_read: 'd', buffer: 3, length: 4, expect: { errno: 'ENOSYS' } }] },
    { name: 'needs devices', backend: 'emulated', devices: [{ name: 'd' }], steps: [{ attach: 3, device: 'd' }] },
  ])], () => new FakeTarget(), { machineTarget: () => new FakeTarget() });
  const text = formatReport(report);
  assert.match(text, /^PASS {2}t\.json: case 1 "enosys"$/m);
  assert.match(text, /^SKIP {2}t\.json: case 2 "needs devices": backend fake is not emulated$/m);
  assert.match(text, /^1 passed, 0 failed, 1 skipped$/m);
});

test('case keys devices, sanitizer and ram: checked when the file loads', () => {
  const errs = (c: Record<string, unknown>): string[] => parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ count_fds: true }], ...c }] }), 'f.json').errors;
  assert.deepEqual(errs({ devices: [{ name: 'd' }] }), [`f.json: case 1 "x": a case with 'devices' boots its own machine and needs "backend": "emulated"`]);
  assert.deepEqual(errs({ backend: 'emulated', devices: { name: 'd' } }), [`f.json: case 1 "x": 'devices' must be a list of device objects ({"name": ..., "dmaMask": ..., ...})`]);
  assert.deepEqual(errs({ backend: 'emulated', devices: [{ name: 'd', dmamask: 32 }] }), [`f.json: case 1 "x": devices[0]: unknown key 'dmamask' (known: name, dmaMask, iommu, coherent, needsContiguous, protectedAccess, model, dmaOffset)`]);
  assert.deepEqual(errs({ backend: 'emulated', devices: [{ name: 'd', iommu: 'yes' }] }), [`f.json: case 1 "x": devices[0]: 'iommu' must be a boolean`]);
  assert.deepEqual(errs({ backend: 'emulated', devices: [{ name: 'd', dmaMask: 8 }] }), [`f.json: case 1 "x": devices[0]: device d: dmaMask must be a bit count from 12 to 64, not 8`]);
  assert.deepEqual(errs({ backend: 'emulated', devices: [{ name: 'd', model: 'gpu' }] }), [`f.json: case 1 "x": devices[0]: device d: unknown model 'gpu' (known: camera, display, copy, codec)`]);
  assert.deepEqual(errs({ backend: 'emulated', devices: [{ name: 'd' }, { name: 'd' }] }), [`f.json: case 1 "x": devices[1]: device 'd' is declared twice`]);
  assert.deepEqual(errs({ backend: 'emulated', sanitizer: 'on' }), [`f.json: case 1 "x": 'sanitizer' must be true or false`]);
  assert.deepEqual(errs({ backend: 'emulated', ram: 'lots' }), [`f.json: case 1 "x": ram: 'lots' is not a size: it does not start with a number; a size is a whole number of bytes, decimal or 0x hex, with an optional unit K, M, G or T (1K = 1024; KiB and KB mean K): 4096, 64K, 1M, 0x1000`]);
  assert.deepEqual(errs({ backend: 'emulated', ram: '8G', sanitizer: true, devices: [{ name: 'd', dmaMask: 32 }] }), []);
  const m = parseCaseFile(JSON.stringify({ cases: [{ name: 'x', backend: 'emulated', ram: '8G', sanitizer: false, steps: [{ count_fds: true }] }] }), 'f.json').file?.cases[0]?.machine;
  assert.deepEqual(m, { ramBytes: 8 * 1024 ** 3, sanitizer: false });
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ device_read: 'd', buffer: 3 }] }] }), 'f.json').errors,
    [`f.json: case 1 "x": step 1 (device_read): missing key 'length'`]);
  assert.deepEqual(parseCaseFile(JSON.stringify({ cases: [{ name: 'x', steps: [{ attach: 3, device: 'd', direction: 1 }] }] }), 'f.json').errors,
    [`f.json: case 1 "x": step 1 (attach): unknown key 'direction' (allowed: device, as, expect)`]);
});

test('profiles: a step runs only on its profiles, `!` leaves a profile out, at case level too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-'));
  const sync = (errno: string | null) => ({ ioctl: 'b.fd', cmd: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE', arg: { struct: 'dma_buf_export_sync_file', flags: 'DMA_BUF_SYNC_READ', fd: -1 }, expect: errno === null ? { ret: 0 } : { errno } });
  const alloc = [
    { open: '/dev/dma_heap/system', flags: 'O_RDONLY|O_CLOEXEC', as: 'h' },
    { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096, fd_flags: 'O_RDWR|O_CLOEXEC' }, as: 'b', expect: { ret: 0 } },
  ];
  writeFileSync(join(dir, 'p.json'), JSON.stringify({ cases: [
    { name: 'export: ENOTTY before 6.0', steps: [...alloc, { profiles: ['!5.10', '!5.15'], ...sync(null) }, { profiles: ['5.10', '5.15'], ...sync('ENOTTY') }] },
    { name: 'not on 5.10', profiles: ['!5.10'], steps: [...alloc, sync(null)] },
    { name: 'wrong on purpose', steps: [...alloc, { profiles: ['6.1'], ...sync('ENOTTY') }] },
  ] }));
  const run = async (profile: string): Promise<string[]> => {
    const lines: string[] = [];
    await conformanceMain(['run', join(dir, 'p.json'), '--profile', profile], { out: (s) => lines.push(s), err: (s) => lines.push(s) });
    return lines;
  };
  const on510 = await run('5.10');
  assert.deepEqual(on510.filter((l) => !l.startsWith('PASS')), [
    `SKIP  ${join(dir, 'p.json')}: case 2 "not on 5.10": profile 5.10 not in [!5.10]`,
    '2 passed, 0 failed, 1 skipped',
  ].map((l) => l.replace(`${dir}/`, l.includes('SKIP') ? `${dir}/` : '')));
  const on61 = (await run('6.1')).join('\n');
  assert.match(on61, /^FAIL .*case 3 "wrong on purpose": step 3 \(ioctl\): errno: expected ENOTTY, observed ret=0 \(success\)$/m);
  assert.match(on61, /2 passed, 1 failed$/);
  assert.deepEqual(loadCaseFiles([join(dir, 'p.json')]).errors, []);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ cases: [{ name: 'x', steps: [{ profiles: 'all', open: '/dev/null', flags: 'O_RDONLY' }] }] }));
  assert.match(loadCaseFiles([join(dir, 'bad.json')]).errors.join('\n'), /bad\.json: case 1 "x": step 1 \(open\): 'profiles' must be a list of kernel profiles \(each may start with ! to leave that profile out\)/);
});

test('profileMatches: an Android GKI branch is its mainline base too, unless a list names it', () => {
  assert.equal(profileMatches(['6.1', '6.6'], 'android14-6.1'), true);
  assert.equal(profileMatches(['6.1', '!android14-6.1'], 'android14-6.1'), false);
  assert.equal(profileMatches(['!6.1'], 'android14-6.1'), false);
  assert.equal(profileMatches(['!5.10'], 'android14-6.1'), true);
  assert.equal(profileMatches(['5.10'], 'android12-5.10'), true);
  assert.equal(profileMatches(['android12-5.10'], '5.10'), false);
  assert.equal(profileMatches(['!5.10', '!5.15'], '6.12'), true);
  assert.equal(profileMatches(['!5.10', '!5.15'], '5.15'), false);
});
