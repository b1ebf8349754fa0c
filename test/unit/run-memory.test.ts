/**
 * dmaheap run's buffer memory (src/backends/run/memory.ts MemfdBuffers): each exported buffer's
 * page runs become views of a host memfd, the same bytes the program maps; small buffers' memfds
 * are mapped in slots of one reserved arena, and a freed buffer's slot goes to the next buffer of
 * its size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemfdBuffers } from '../../src/backends/run/memory.js';
import { loadLibc } from '../../src/backends/linux/libc.js';
import { BackingStats, PageRun } from '../../src/kernel/mm/backing.js';

const libc = process.platform === 'linux' ? loadLibc() : new Error('Linux only');
const skip = libc instanceof Error ? `no libc through koffi here: ${libc.message}` : false;

test('buffer memory: a memfd per buffer, shared for real; a freed small buffer\'s arena slot goes to the next one of its size', { skip }, () => {
  const l = libc as Exclude<typeof libc, Error>;
  const buffers = new MemfdBuffers(l);
  const acct = new BackingStats();
  const bind = (owner: object, bytes: number): PageRun[] => {
    const runs = [new PageRun(0, bytes / 8192, bytes / 2), new PageRun(1, bytes / 8192, bytes / 2)];
    buffers.bind(owner, runs, bytes, acct);
    assert.equal(buffers.lastError, null);
    return runs;
  };
  /** The buffer's bytes as another mapping of its memfd sees them (the program's side). */
  const other = (owner: object): Uint8Array => {
    const m = buffers.of(owner)!;
    const addr = l.mmap(0, m.bytes, 3 /* PROT_READ | PROT_WRITE */, 1 /* MAP_SHARED */, m.fd, 0);
    assert.notEqual(addr, -1);
    return new Uint8Array(l.koffi.view(addr, m.bytes));
  };
  const a = {};
  const ra = bind(a, 16384);
  assert.equal(acct.backedBytes, 16384);
  ra[1]!.data![5] = 0xa5;
  const pa = other(a);
  assert.equal(pa[8192 + 5], 0xa5);
  pa[3] = 0x5a;
  assert.equal(ra[0]!.data![3], 0x5a);
  const slot = buffers.of(a)!.addr;
  buffers.release(a);
  buffers.flush();
  assert.equal(buffers.of(a), undefined);
  // the next buffer of that size takes the slot, zero-filled, and shares with its own memfd
  const b = {};
  const rb = bind(b, 16384);
  assert.equal(buffers.of(b)!.addr, slot);
  assert.ok(rb.every((r) => r.data!.every((x) => x === 0)));
  const pb = other(b);
  rb[0]!.data![3] = 0x11;
  assert.equal(pb[3], 0x11);
  // the first buffer's memfd mapping (the program's) keeps its bytes: a slot is only the supervisor's view
  assert.equal(pa[3], 0x5a);
  // a buffer of another size gets a slot of its own; one larger than the arena's slots, a mapping of its own
  const c = {};
  bind(c, 8192);
  assert.notEqual(buffers.of(c)!.addr, slot);
  const d = {};
  const rd = bind(d, 4 << 20);
  rd[1]!.data![0] = 7;
  assert.equal(other(d)[2 << 20], 7);
  for (const o of [b, c, d]) buffers.release(o);
  buffers.flush();
  assert.equal(buffers.live, 0);
});
