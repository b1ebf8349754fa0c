/**
 * The fast path's traces kept out of the program's /proc/<pid>/maps and smaps
 * (src/backends/run/shim-traces.ts): its own mappings dropped, libc's text joined again where the
 * shim's patch split it, and nothing else touched (a split the program made itself stays).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FDMAP_NAME, hideInMaps, hideInSmaps } from '../../src/backends/run/shim-traces.js';

const PS = 4096;
const pad = (head: string, name: string): string => (name === '' ? `${head} ` : `${head}${' '.repeat(Math.max(1, 73 - head.length))}${name}`);
const line = (start: number, end: number, perms: string, off: number, inode: number, name: string): { start: number; line: string } => ({
  start,
  line: pad(`${start.toString(16)}-${end.toString(16)} ${perms} ${off.toString(16).padStart(8, '0')} ${inode === 0 ? '00:00' : 'fe:00'} ${inode}`, name),
});
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const SHIM = '/opt/dmaheap/native/prebuilt/linux-x64/dmaheap-preload.so';
const STUB = 0x40_a499_9000;
const LIVE = 0x7f44_510c_4000;
const PATCHED = 0x7f44_50fc_e000;
const traces = { pages: [STUB, LIVE], patched: [PATCHED], names: [FDMAP_NAME, SHIM] };
const make = (start: number, l: string): { start: number; line: string } => ({ start, line: l });

test('maps: the shim\'s mappings go, libc\'s text split at the patched page is one line again', () => {
  const real = [
    line(STUB, STUB + PS, 'r-xp', 0, 0, ''),
    line(0x7f44_50ed_6000, 0x7f44_50ef_c000, 'r--p', 0, 339380, LIBC),
    line(0x7f44_50ef_c000, PATCHED, 'r-xp', 0x26000, 339380, LIBC),
    line(PATCHED, PATCHED + PS, 'r-xp', 0xf8000, 339380, LIBC),
    line(PATCHED + PS, 0x7f44_5105_2000, 'r-xp', 0xf9000, 339380, LIBC),
    line(0x7f44_5105_2000, 0x7f44_510a_5000, 'r--p', 0x17c000, 339380, LIBC),
    line(0x7f44_510c_3000, LIVE, 'r--s', 0, 2349516, FDMAP_NAME),
    line(LIVE, LIVE + PS, 'rw-p', 0, 0, ''),
    line(0x7f44_510c_5000, 0x7f44_510c_7000, 'r--p', 0, 5316628, SHIM),
    line(0x7f44_510c_7000, 0x7f44_510c_b000, 'r-xp', 0x2000, 5316628, SHIM),
    line(0x7f44_510c_f000, 0x7f44_510d_2000, 'rw-p', 0, 0, ''),
  ];
  const shown = hideInMaps(real, traces, PS, make).map((l) => l.line);
  assert.deepEqual(shown, [
    real[1]!.line,
    line(0x7f44_50ef_c000, 0x7f44_5105_2000, 'r-xp', 0x26000, 339380, LIBC).line,
    real[5]!.line,
    real[10]!.line,
  ]);
  // the path stays in its column
  assert.equal(shown[1]!.indexOf(LIBC), real[2]!.line.indexOf(LIBC));
});

test('maps: a split the shim did not make stays, and without traces nothing changes', () => {
  const real = [
    line(0x1000_0000, 0x1000_4000, 'r-xp', 0, 7, '/lib/x.so'),
    // the program's own mprotect/mlock split (same perms shown, another VMA): not at a patched page
    line(0x1000_4000, 0x1000_8000, 'r-xp', 0x4000, 7, '/lib/x.so'),
    line(PATCHED, PATCHED + PS, 'r-xp', 0xf8000, 339380, LIBC),
    // next to the patched page but not its continuation (another file, another offset)
    line(PATCHED + PS, PATCHED + 2 * PS, 'r-xp', 0x1000, 8, '/lib/y.so'),
    line(PATCHED + 2 * PS, PATCHED + 3 * PS, 'r--p', 0xfa000, 339380, LIBC),
  ];
  assert.deepEqual(hideInMaps(real, traces, PS, make), real);
  assert.deepEqual(hideInMaps(real, { pages: [], patched: [], names: [] }, PS, make), real);
});

test('smaps: the patched page\'s block joins its neighbours, its amounts added', () => {
  const block = (start: number, end: number, off: number, rss: number, anon: number): { start: number; text: string; mirror: boolean; rss: number; referenced: number } => ({
    start,
    mirror: false,
    rss: rss * 1024,
    referenced: rss * 1024,
    text: `${line(start, end, 'r-xp', off, 339380, LIBC).line}\nSize:           ${String((end - start) / 1024).padStart(8)} kB\nKernelPageSize:        4 kB\nRss:            ${String(rss).padStart(8)} kB\nAnonymous:      ${String(anon).padStart(8)} kB\nVmFlags: rd ex mr mw me \n`,
  });
  const stub = { start: STUB, mirror: false, rss: 4096, referenced: 4096, text: `${line(STUB, STUB + PS, 'r-xp', 0, 0, '').line}\nSize:                  4 kB\n` };
  const got = hideInSmaps([stub, block(PATCHED - 0x10000, PATCHED, 0xe8000, 40, 0), block(PATCHED, PATCHED + PS, 0xf8000, 4, 4), block(PATCHED + PS, PATCHED + 0x11000, 0xf9000, 20, 0)], traces, PS);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.rss, 64 * 1024);
  assert.equal(got[0]!.referenced, 64 * 1024);
  assert.equal(got[0]!.text, `${line(PATCHED - 0x10000, PATCHED + 0x11000, 'r-xp', 0xe8000, 339380, LIBC).line}\nSize:                132 kB\nKernelPageSize:        4 kB\nRss:                  64 kB\nAnonymous:             4 kB\nVmFlags: rd ex mr mw me \n`);
});
