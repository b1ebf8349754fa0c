import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { DmaBuf, DmaBufAttachment } from '../../src/kernel/dma-buf/dma-buf.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { formatReport } from '../../src/kernel/sanitizer/sanitizer.js';
import type { SanitizerOptions, SanitizerReport, SyncSanitizer } from '../../src/kernel/sanitizer/sanitizer.js';
import { frameLocation } from '../../src/kernel/sanitizer/stack.js';
import {
  DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE,
} from '../../src/uapi/dma-buf.js';
import { MAP_SHARED, O_CLOEXEC, O_RDWR, PROT_READ, PROT_WRITE } from '../../src/uapi/fcntl.js';
import { heapAlloc } from './kernel-helpers.js';

const SIZE = 16384;
const START_WRITE = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
const END_WRITE = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
const START_READ = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
const END_READ = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;

interface Rig {
  k: Kernel;
  san: SyncSanitizer;
  p: Process;
  fd: number;
  addr: number;
  buf: DmaBuf;
  /** DMA_BUF_IOCTL_SYNC with `flags` through `proc`'s fd (default: the rig's process and fd). */
  sync: (flags: number, proc?: Process, fd?: number) => number;
}

/** A 6.1 kernel with the sanitizer, a process with a 16 KiB system-heap buffer named "frame-0", mapped read-write. */
function rig(opts: boolean | SanitizerOptions = true): Rig {
  const k = new Kernel({ profile: '6.1', sanitizer: opts });
  const p = k.spawn({ uid: 0, gid: 0, groups: [] }, 'app');
  const h = p.open('/dev/dma_heap/system', O_RDWR);
  const { ret, fd } = heapAlloc(p, h, SIZE, O_RDWR | O_CLOEXEC);
  assert.equal(ret, 0);
  const name = p.userAlloc(16);
  p.store(name, new TextEncoder().encode('frame-0\0'));
  assert.equal(p.ioctl(fd, DMA_BUF_SET_NAME, name), 0);
  const addr = p.mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.ok(addr > 0);
  const arg = p.userAlloc(8);
  const sync = (flags: number, proc: Process = p, f: number = fd): number => {
    const a = proc === p ? arg : proc.userAlloc(8);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, flags, true);
    assert.ok(proc.mm.copyToUser(a, b));
    return proc.ioctl(f, DMA_BUF_IOCTL_SYNC, a);
  };
  const buf = [...k.dmaBuf.list].at(-1)!;
  return { k, san: k.sanitizer!, p, fd, addr, buf, sync };
}

/** The comparable part of a report (no message or stacks). */
function brief(r: SanitizerReport): object {
  return { kind: r.kind, severity: r.severity, buffer: r.buffer, actor: r.actor, offset: r.offset, length: r.length, count: r.count, access: r.access };
}

const BUFFER = { ino: 1, name: 'frame-0', exporter: 'system', size: SIZE };

/** A mapped attachment, announced as the core's attach and map events would. */
function mappedAttachment(r: Rig, dev: string): DmaBufAttachment {
  const att = r.k.dmaBuf.attach(r.buf, dev) as DmaBufAttachment;
  r.k.dmaBuf.events.emit('attach', { att });
  r.k.dmaBuf.events.emit('map', { att, dir: 0 });
  return att;
}

function device(r: Rig, dev: string, att: DmaBufAttachment | null, offset: number, length: number, write: boolean, buf: DmaBuf = r.buf): void {
  r.k.dmaBuf.events.emit('deviceAccess', { buf, device: dev, offset, length, write, attachment: att });
}

test('sanitizer: off by default; no listeners are added then', () => {
  const k = new Kernel({ profile: '6.1' });
  assert.equal(k.sanitizer, null);
  assert.equal(k.dmaBuf.events.has('cpuAccess'), false);
  const on = new Kernel({ profile: '6.1', sanitizer: { maxReports: 5 } });
  assert.ok(on.sanitizer !== null);
  assert.equal(on.dmaBuf.events.has('cpuAccess'), true);
});

test('sanitizer: a correctly bracketed sequence gives no report', () => {
  const r = rig();
  const { p, addr, sync } = r;
  assert.equal(sync(START_WRITE), 0);
  assert.equal(p.fill(addr, SIZE, 0x5a), null);
  assert.equal(sync(END_WRITE), 0);
  const att = mappedAttachment(r, 'isp0');
  device(r, 'isp0', att, 0, SIZE, false);
  device(r, 'isp0', att, 0, 4096, true);
  assert.equal(sync(START_READ), 0);
  assert.ok(p.load(addr, 64) instanceof Uint8Array);
  assert.equal(sync(END_READ), 0);
  assert.equal(sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW), 0);
  p.store(addr + 100, Uint8Array.of(1, 2, 3));
  p.load(addr + 100, 3);
  assert.equal(sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), 0);
  // nested brackets: each START has its own END
  sync(START_WRITE);
  sync(START_WRITE);
  sync(END_WRITE);
  p.store(addr, Uint8Array.of(9));
  sync(END_WRITE);
  r.k.dmaBuf.detach(att);
  assert.equal(p.munmap(addr, SIZE), 0);
  assert.equal(p.close(r.fd), 0);
  assert.equal(r.k.dmaBuf.list.size, 0, 'released');
  assert.deepEqual(r.san.check(), []);
  assert.deepEqual(r.san.reports(), []);
});

test('sanitizer: cpu-access-outside-sync, deduplicated with the span, count and access merged', () => {
  const { san, p, addr, sync } = rig();
  p.store(addr + 4104, new Uint8Array(100));
  let reps = san.reports();
  assert.equal(reps.length, 1);
  assert.deepEqual(brief(reps[0]!), {
    kind: 'cpu-access-outside-sync', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 4104, length: 100, count: 1, access: 'write',
  });
  assert.equal(
    reps[0]!.message,
    'pid 2 wrote 100 bytes at offset 4104 of dma-buf 1 "frame-0" (system, 16384 bytes) with no DMA_BUF_IOCTL_SYNC START open. On a cached heap the writes can stay in the CPU cache, and a device then reads stale memory. Wrap CPU writes in DMA_BUF_IOCTL_SYNC START|WRITE … END|WRITE.',
  );
  p.load(addr, 16);
  reps = san.reports();
  assert.equal(reps.length, 1, 'same kind, buffer and process: one report');
  assert.deepEqual(brief(reps[0]!), {
    kind: 'cpu-access-outside-sync', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: 4204, count: 2, access: 'read-write',
  });
  assert.match(reps[0]!.message, /^pid 2 read and wrote 4204 bytes at offset 0 .*START\|RW … END\|RW\.$/);
  // a fill over the whole buffer is one access per page
  san.clear();
  p.fill(addr, SIZE, 1);
  assert.deepEqual(brief(san.reports()[0]!), {
    kind: 'cpu-access-outside-sync', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: SIZE, count: 4, access: 'write',
  });
  // after END the bracket is closed again
  san.clear();
  sync(START_READ);
  sync(END_READ);
  p.load(addr + 8192, 8);
  assert.deepEqual(san.reports().map((x) => [x.kind, x.offset, x.length, x.access]), [['cpu-access-outside-sync', 8192, 8, 'read']]);
});

test('sanitizer: brackets are per process (a forked child has its own)', () => {
  const { san, p, addr, sync } = rig();
  const child = p.fork('worker');
  sync(START_WRITE);
  p.store(addr, Uint8Array.of(1));
  child.store(addr + 8, Uint8Array.of(2));
  assert.deepEqual(san.reports().map(brief), [
    { kind: 'cpu-access-outside-sync', severity: 'error', buffer: BUFFER, actor: { pid: child.pid }, offset: 8, length: 1, count: 1, access: 'write' },
  ]);
  sync(END_WRITE);
});

test('sanitizer: direction-mismatch for a write under START|READ and for END with another direction', () => {
  const { san, p, addr, sync } = rig();
  sync(START_READ);
  p.load(addr, 32);
  p.store(addr + 64, new Uint8Array(32));
  p.store(addr + 4096, new Uint8Array(4));
  assert.equal(sync(END_READ), 0);
  assert.deepEqual(san.reports().map(brief), [
    { kind: 'direction-mismatch', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 64, length: 4036, count: 2, access: 'write' },
  ]);
  assert.match(san.reports()[0]!.message, /^pid 2 wrote 4036 bytes at offset 64 of dma-buf 1 "frame-0" \(system, 16384 bytes\) while its only open sync is START\|READ \(DMA_FROM_DEVICE\)\. .*Begin with START\|WRITE, or START\|RW/);
  san.clear();
  // a write under RW is fine, even with a READ bracket open too
  sync(START_READ);
  sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
  p.store(addr, Uint8Array.of(1));
  sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
  sync(END_READ);
  assert.deepEqual(san.reports(), []);
  // END|READ closes a START|WRITE bracket (Linux does not care): reported, and the bracket is gone
  sync(START_WRITE);
  p.store(addr, Uint8Array.of(1));
  assert.equal(sync(END_READ), 0, 'Linux accepts it');
  p.store(addr, Uint8Array.of(2));
  const reps = san.reports();
  assert.deepEqual(reps.map(brief), [
    { kind: 'direction-mismatch', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: SIZE, count: 1, access: null },
    { kind: 'cpu-access-outside-sync', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: 1, count: 1, access: 'write' },
  ]);
  assert.equal(
    reps[0]!.message,
    'pid 2 ended with END|READ the CPU access it began with START|WRITE on dma-buf 1 "frame-0" (system, 16384 bytes). Linux does not check the pairing: it does the cache maintenance for END\'s direction and returns 0, so the maintenance may not match what the CPU did. Use the same flags for START and END (START|WRITE … END|WRITE).',
  );
});

test('sanitizer: end-without-begin is a warning (legal in Linux)', () => {
  const { san, sync } = rig();
  assert.equal(sync(END_WRITE), 0);
  assert.equal(sync(END_WRITE), 0);
  const reps = san.reports();
  assert.deepEqual(reps.map(brief), [
    { kind: 'end-without-begin', severity: 'warning', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: SIZE, count: 2, access: null },
  ]);
  assert.match(reps[0]!.message, /^pid 2 issued DMA_BUF_IOCTL_SYNC END\|WRITE on dma-buf 1 "frame-0" .* with no START open\. Linux accepts this/);
});

test('sanitizer: begin-never-ended at release, with the BEGIN as the access stack', () => {
  const { k, san, p, addr, fd, sync } = rig();
  sync(START_WRITE);
  p.store(addr, Uint8Array.of(1));
  p.munmap(addr, SIZE);
  p.close(fd);
  assert.equal(k.dmaBuf.list.size, 0);
  const reps = san.reports();
  assert.deepEqual(reps.map(brief), [
    { kind: 'begin-never-ended', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: SIZE, count: 1, access: null },
  ]);
  assert.match(reps[0]!.message, /^pid 2 began CPU access to dma-buf 1 "frame-0" \(system, 16384 bytes\) with START\|WRITE and the buffer was released with no END\|WRITE\./);
  // user frames first: the sync helper in this file, then the test; nothing from the kernel
  assert.match(reps[0]!.accessStack[0]!, /sync .*sanitizer\.test\.js/);
  assert.match(reps[0]!.allocStack[0]!, /heapAlloc .*kernel-helpers\.js/);
  for (const f of [...reps[0]!.accessStack, ...reps[0]!.allocStack]) assert.doesNotMatch(frameLocation(f) ?? '', /\/src\/kernel\//);
  assert.ok(reps[0]!.accessStack.length <= 12);
});

test('sanitizer: begin-never-ended when the process exits while another holds the buffer', () => {
  const { k, san, p, fd, sync } = rig();
  const other = k.spawn({ uid: 0, gid: 0, groups: [] }, 'consumer');
  assert.ok(p.sendFd(fd, other) >= 0);
  sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
  p.exit();
  assert.equal(k.dmaBuf.list.size, 1, 'still held by the consumer');
  assert.deepEqual(san.reports().map(brief), [
    { kind: 'begin-never-ended', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: SIZE, count: 1, access: null },
  ]);
  assert.match(san.reports()[0]!.message, /with START\|RW and exited with no END\|RW\./);
  assert.deepEqual(san.check(), [], 'the bracket died with the process');
});

test('sanitizer: check() reports open brackets once; a later release does not count them again', () => {
  const { k, san, p, addr, fd, sync } = rig();
  sync(START_WRITE);
  sync(START_WRITE);
  const now = san.check();
  assert.deepEqual(now.map(brief), [
    { kind: 'begin-never-ended', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: SIZE, count: 2, access: null },
  ]);
  assert.match(now[0]!.message, /and has not ended it \(no END\|WRITE yet\)\./);
  assert.deepEqual(san.reports(), now);
  assert.deepEqual(san.check().map((x) => x.count), [2]);
  p.munmap(addr, SIZE);
  p.close(fd);
  assert.equal(k.dmaBuf.list.size, 0);
  assert.deepEqual(san.reports().map((x) => [x.kind, x.count]), [['begin-never-ended', 2]]);
});

test('sanitizer: after clear() a bracket still open is reported again', () => {
  const { san, sync } = rig();
  sync(START_READ);
  assert.deepEqual(san.check().map((x) => [x.kind, x.count]), [['begin-never-ended', 1]]);
  san.clear();
  assert.deepEqual(san.reports(), []);
  assert.deepEqual(san.check().map((x) => [x.kind, x.count]), [['begin-never-ended', 1]]);
  sync(END_READ);
  assert.deepEqual(san.check(), []);
});

test('sanitizer: device-access-during-cpu-access while a process holds START', () => {
  const r = rig();
  const { san, sync } = r;
  const att = mappedAttachment(r, 'isp0');
  sync(START_WRITE);
  device(r, 'isp0', att, 4096, 8192, false);
  device(r, 'isp0', att, 0, 64, true);
  sync(END_WRITE);
  device(r, 'isp0', att, 0, 64, true);
  const reps = san.reports();
  assert.deepEqual(reps.map(brief), [
    { kind: 'device-access-during-cpu-access', severity: 'error', buffer: BUFFER, actor: { device: 'isp0' }, offset: 0, length: 12288, count: 2, access: 'read-write' },
  ]);
  assert.equal(
    reps[0]!.message,
    'device "isp0" read and wrote 12288 bytes at offset 0 of dma-buf 1 "frame-0" (system, 16384 bytes) while pid 2 (START|WRITE) holds it with DMA_BUF_IOCTL_SYNC START. The CPU owns the buffer until END: its cached data can hide or overwrite the device\'s. Issue END (same flags as START) before starting the device, and START again after the device is done.',
  );
  assert.deepEqual(reps[0]!.allocStack.length > 0, true);
});

test('sanitizer: use-after-release for a stale DMA address and for a released buffer (device or CPU)', () => {
  const r = rig();
  const { k, san, p, addr, fd } = r;
  device(r, 'vpu0', null, 0, 4096, true);
  p.munmap(addr, SIZE);
  p.close(fd);
  assert.equal(k.dmaBuf.list.size, 0);
  device(r, 'vpu0', null, 0, 4096, true);
  device(r, 'isp0', { dmabuf: r.buf, dev: 'isp0', priv: null }, 8192, 4096, false);
  k.dmaBuf.events.emit('cpuAccess', { buf: r.buf, pid: 2, offset: 0, length: 4, write: false });
  const reps = san.reports();
  assert.deepEqual(reps.map(brief), [
    { kind: 'use-after-release', severity: 'error', buffer: BUFFER, actor: { device: 'vpu0' }, offset: 0, length: 4096, count: 1, access: 'write' },
    { kind: 'use-after-release', severity: 'error', buffer: BUFFER, actor: { device: 'vpu0' }, offset: 0, length: 4096, count: 1, access: 'write' },
    { kind: 'use-after-release', severity: 'error', buffer: BUFFER, actor: { device: 'isp0' }, offset: 8192, length: 4096, count: 1, access: 'read' },
    { kind: 'use-after-release', severity: 'error', buffer: BUFFER, actor: { pid: 2 }, offset: 0, length: 4, count: 1, access: 'read' },
  ]);
  assert.match(reps[0]!.message, /through a stale DMA address/);
  assert.match(reps[1]!.message, /after the buffer was released/);
});

test('sanitizer: device-access-unmapped through an attachment that is not (or no longer) mapped', () => {
  const r = rig();
  const { k, san } = r;
  // made by hand: the core's own attach may announce it (then it would be judged at once)
  const att: DmaBufAttachment = { dmabuf: r.buf, dev: 'isp0', priv: null };
  const ev = k.dmaBuf.events;
  // an attachment the sanitizer never saw attached is not judged
  device(r, 'isp0', att, 0, 64, false);
  assert.deepEqual(san.reports(), []);
  ev.emit('attach', { att });
  device(r, 'isp0', att, 0, 64, false);
  ev.emit('map', { att, dir: 0 });
  device(r, 'isp0', att, 0, 64, false);
  ev.emit('unmap', { att, dir: 0 });
  device(r, 'isp0', att, 128, 64, true);
  ev.emit('detach', { att });
  device(r, 'isp0', att, 0, 64, false);
  const reps = san.reports();
  assert.deepEqual(reps.map(brief), [
    { kind: 'device-access-unmapped', severity: 'error', buffer: BUFFER, actor: { device: 'isp0' }, offset: 0, length: 192, count: 2, access: 'read-write' },
    { kind: 'device-access-unmapped', severity: 'error', buffer: BUFFER, actor: { device: 'isp0' }, offset: 0, length: 64, count: 1, access: 'read' },
  ]);
  assert.match(reps[1]!.message, /through an attachment that was detached/);
});

test('sanitizer: maxReports keeps the first distinct reports and counts the rest; captureStacks: false', () => {
  const r = rig({ maxReports: 2, captureStacks: false });
  const { san, p, addr, sync } = r;
  p.store(addr, Uint8Array.of(1)); // 1: outside sync
  sync(END_READ); // 2: end without begin
  device(r, 'vpu0', null, 0, 1, false); // 3: dropped
  p.store(addr, Uint8Array.of(1)); // still counted in 1
  assert.deepEqual(san.reports().map((x) => [x.kind, x.count]), [['cpu-access-outside-sync', 2], ['end-without-begin', 1]]);
  assert.equal(san.dropped, 1);
  assert.deepEqual(san.reports()[0]!.allocStack, []);
  assert.deepEqual(san.reports()[0]!.accessStack, []);
  san.clear();
  assert.deepEqual([san.reports(), san.dropped], [[], 0]);
});

test('sanitizer: dispose stops watching', () => {
  const { san, p, addr } = rig();
  san.dispose();
  p.store(addr, Uint8Array.of(1));
  assert.deepEqual(san.reports(), []);
  assert.deepEqual(san.check(), []);
});

test('sanitizer: formatReport prints the report as text', () => {
  const { san, p, addr } = rig({ captureStacks: false });
  p.fill(addr, 8192, 0);
  assert.equal(
    formatReport(san.reports()[0]!),
    'error: cpu-access-outside-sync (2 times)\n' +
      '  pid 2 wrote 8192 bytes at offset 0 of dma-buf 1 "frame-0" (system, 16384 bytes) with no DMA_BUF_IOCTL_SYNC START open. On a cached heap the writes can stay in the CPU cache, and a device then reads stale memory. Wrap CPU writes in DMA_BUF_IOCTL_SYNC START|WRITE … END|WRITE.\n' +
      '  buffer  ino 1 "frame-0", exporter system, 16384 bytes\n' +
      '  by      pid 2\n' +
      '  range   offset 0, length 8192 (write)\n',
  );
  const withStacks = rig();
  withStacks.p.store(withStacks.addr, Uint8Array.of(1));
  const text = formatReport(withStacks.san.reports()[0]!);
  assert.match(text, /\n {2}access stack\n {4}at .*sanitizer\.test\.js:\d+:\d+\)?\n/);
  assert.match(text, /\n {2}allocation stack\n {4}at heapAlloc .*kernel-helpers\.js/);
});

test('sanitizer: frame locations of V8 and other engines', () => {
  assert.equal(frameLocation('    at fn (file:///a/b.js:1:2)'), 'file:///a/b.js');
  assert.equal(frameLocation('    at file:///a/b.js:10:3'), 'file:///a/b.js');
  assert.equal(frameLocation('fn@https://x.test/app.js:5:9'), 'https://x.test/app.js');
  assert.equal(frameLocation(''), null);
});
