/**
 * The emulator's text files against what the real 6.1 kernel printed for the same program
 * (a C program run in ../shared/oracle; its output is pinned here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { heapAlloc } from './kernel-helpers.js';
import type { PagedBuffer } from '../../src/kernel/heaps/paged-buffer.js';

function alloc(p: Process, h: number, len: number, fdFlags: number): number {
  const r = heapAlloc(p, h, len, fdFlags);
  assert.equal(r.ret, 0);
  return r.fd;
}
function str(p: Process, s: string): number {
  const a = p.userAlloc(s.length + 1);
  p.mm.copyToUser(a, Uint8Array.from([...s].map((c) => c.charCodeAt(0)).concat(0)));
  return a;
}
function syncArg(p: Process, flags: number, fd: number): number {
  const a = p.userAlloc(8);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, flags, true);
  new DataView(b.buffer).setInt32(4, fd, true);
  p.mm.copyToUser(a, b);
  return a;
}

test('bufinfo, fdinfo and maps text match the 6.1 oracle byte for byte', () => {
  const k = new Kernel({ profile: '6.1', cmdline: 'cma=64M' });
  const p = k.spawn();
  const h = p.open('/dev/dma_heap/system', 0o2000002);
  assert.equal(k.readFile(p, `/proc/self/fdinfo/${h}`), 'pos:\t0\nflags:\t02100002\nmnt_id:\t22\nino:\t100\n');
  const a = alloc(p, h, 4096, 0);
  const b = alloc(p, h, 8192, 1);
  const c = alloc(p, h, 4096, 3);
  const d = alloc(p, h, 4096, 2);
  assert.equal(p.ioctl(d, 0x40086201, str(p, 'named')), 0);
  const m1 = p.mmap(0, 4096, 3, 1, d, 0);
  const m2 = p.mmap(0, 4096, 1, 2, d, 0);
  const m3 = p.mmap(0, 4096, 1, 1, a, 0);
  assert.ok(m1 > 0 && m2 > 0 && m3 > 0);
  const exp = syncArg(p, 1, 0);
  assert.equal(p.ioctl(d, 0xc0086202, exp), 0);
  const sf = new DataView(p.mm.copyFromUser(exp, 8)!.buffer).getInt32(4, true);
  assert.equal(p.ioctl(d, 0x40086203, syncArg(p, 2, sf)), 0);
  assert.equal(p.ioctl(b, 0x40086203, syncArg(p, 1, sf)), 0);
  assert.equal(k.readFile(p, `/proc/self/fdinfo/${sf}`), 'pos:\t0\nflags:\t02000000\nmnt_id:\t11\nino:\t12\n');
  assert.equal(k.readFile(p, '/sys/kernel/debug/dma_buf/bufinfo'), [
    '',
    'Dma-buf Objects:',
    'size    \tflags   \tmode    \tcount   \texp_name\tino     \tname',
    '00004096\t00000002\t00080007\t00000003\tsystem\t00000004\tnamed',
    '\twrite fence:stub stub seq 0 signalled',
    '\tAttached Devices:',
    'Total 0 devices attached',
    '',
    '00004096\t00000003\t00080004\t00000001\tsystem\t00000003\t<none>',
    '\tAttached Devices:',
    'Total 0 devices attached',
    '',
    '00008192\t00000001\t00080006\t00000001\tsystem\t00000002\t<none>',
    '\tread fence:stub stub seq 0 signalled',
    '\tAttached Devices:',
    'Total 0 devices attached',
    '',
    '00004096\t00000000\t00080005\t00000002\tsystem\t00000001\t<none>',
    '\tAttached Devices:',
    'Total 0 devices attached',
    '',
    '',
    'Total 4 objects, 20480 bytes',
    '',
  ].join('\n'));
  const pfnOf = (fd: number) => ((p.file(fd)!.priv as { priv: PagedBuffer }).priv).pfnOf(0);
  const maps = (k.readFile(p, '/proc/self/maps') as string).split('\n').filter((l) => l.includes('dmabuf'));
  const hex = (n: number) => n.toString(16);
  assert.deepEqual(maps, [
    `${hex(m3)}-${hex(m3 + 4096)} r--s 00000000 00:07 1                          /dmabuf:`,
    // a private mapping shows its page frame as the offset (the oracle: 00a8d000; frames differ per machine)
    `${hex(m2)}-${hex(m2 + 4096)} r--p ${(pfnOf(d) * 4096).toString(16).padStart(8, '0')} 00:07 4                          /dmabuf:named`,
    `${hex(m1)}-${hex(m1 + 4096)} rw-s 00000000 00:07 4                          /dmabuf:named`,
  ]);
  assert.equal(k.readFile(p, `/proc/self/fdinfo/${c}`), 'pos:\t0\nflags:\t03\nmnt_id:\t8\nino:\t3\nsize:\t4096\ncount:\t1\nexp_name:\tsystem\n');
  assert.equal(k.readFile(p, '/sys/class/dma_heap/system/uevent'), 'MAJOR=254\nMINOR=0\nDEVNAME=dma_heap/system\n');
  assert.equal(p.fcntl(h, 3), 0o100002);
  assert.equal(p.open(`/proc/self/fd/${d}`, 2), -6, 'ENXIO: a dma-buf cannot be reopened through /proc');
  assert.ok(p.open('/dev/dma_heap', 0) >= 0, 'a directory opens read-only');
  assert.ok((k.readFile(p, '/proc/meminfo') as string).endsWith('\nCmaTotal:          65536 kB\nCmaFree:           65536 kB\n'));
});
