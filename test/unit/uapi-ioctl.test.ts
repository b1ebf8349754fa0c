import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  _IO, _IOC, _IOC_DIR, _IOC_NONE, _IOC_NR, _IOC_READ, _IOC_SIZE, _IOC_TYPE, _IOC_WRITE, _IOR, _IOW, _IOWR,
  FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, IOC_IN, IOC_INOUT, IOC_OUT, TCGETS, ioc, iocDecode,
} from '../../src/uapi/ioctl.js';
import type { IoctlEncoding } from '../../src/uapi/ioctl.js';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME,
  DMA_BUF_SET_NAME_A, DMA_BUF_SET_NAME_B,
} from '../../src/uapi/dma-buf.js';
import { DMA_HEAP_IOC_ALLOC, DMA_HEAP_IOCTL_ALLOC } from '../../src/uapi/dma-heap.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST } from '../../src/uapi/udmabuf.js';
import { SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE } from '../../src/uapi/sync-file.js';

const RW = _IOC_READ | _IOC_WRITE;

// Spec §1.3: [name, dir, type, nr, size, generic value, powerpc/mips value]
const TABLE: readonly (readonly [string, number, string, number, number, number, number])[] = [
  ['DMA_HEAP_IOCTL_ALLOC', RW, 'H', 0, 24, 0xc0184800, 0xc0184800],
  ['older 16-byte alloc', RW, 'H', 0, 16, 0xc0104800, 0xc0104800],
  ['newer 48-byte alloc', RW, 'H', 0, 48, 0xc0304800, 0xc0304800],
  ['56-byte pidfd alloc', RW, 'H', 0, 56, 0xc0384800, 0xc0384800],
  ['DMA_BUF_IOCTL_SYNC', _IOC_WRITE, 'b', 0, 8, 0x40086200, 0x80086200],
  ['DMA_BUF_SET_NAME_A', _IOC_WRITE, 'b', 1, 4, 0x40046201, 0x80046201],
  ['DMA_BUF_SET_NAME_B', _IOC_WRITE, 'b', 1, 8, 0x40086201, 0x80086201],
  ['DMA_BUF_IOCTL_EXPORT_SYNC_FILE', RW, 'b', 2, 8, 0xc0086202, 0xc0086202],
  ['DMA_BUF_IOCTL_IMPORT_SYNC_FILE', _IOC_WRITE, 'b', 3, 8, 0x40086203, 0x80086203],
  ['UDMABUF_CREATE', _IOC_WRITE, 'u', 0x42, 24, 0x40187542, 0x80187542],
  ['UDMABUF_CREATE_LIST', _IOC_WRITE, 'u', 0x43, 8, 0x40087543, 0x80087543],
];

test('spec §1.3 table, generic and powerpc columns', () => {
  for (const [name, dir, type, nr, size, generic, ppc] of TABLE) {
    assert.equal(_IOC(dir, type, nr, size), generic, name);
    assert.equal(ioc('generic', dir, type, nr, size), generic, name);
    assert.equal(ioc('powerpc', dir, type, nr, size), ppc, name);
    assert.deepEqual(iocDecode('generic', generic), { dir, type: type.charCodeAt(0), nr, size }, name);
    assert.deepEqual(iocDecode('powerpc', ppc), { dir, type: type.charCodeAt(0), nr, size }, name);
  }
});

test('exported ioctl constants match the literal values', () => {
  assert.equal(DMA_HEAP_IOCTL_ALLOC, 0xc0184800);
  assert.equal(DMA_HEAP_IOC_ALLOC, 0xc0184800);
  assert.equal(DMA_BUF_IOCTL_SYNC, 0x40086200);
  assert.equal(DMA_BUF_SET_NAME_A, 0x40046201);
  assert.equal(DMA_BUF_SET_NAME_B, 0x40086201);
  assert.equal(DMA_BUF_SET_NAME, 0x40086201);
  assert.equal(DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 0xc0086202);
  assert.equal(DMA_BUF_IOCTL_IMPORT_SYNC_FILE, 0x40086203);
  assert.equal(UDMABUF_CREATE, 0x40187542);
  assert.equal(UDMABUF_CREATE_LIST, 0x40087543);
  assert.equal(SYNC_IOC_MERGE, 0xc0303e03);
  assert.equal(SYNC_IOC_FILE_INFO, 0xc0383e04);
  assert.equal(FIOCLEX, 0x5451);
  assert.equal(FIONCLEX, 0x5450);
  assert.equal(FIONBIO, 0x5421);
  assert.equal(FIOASYNC, 0x5452);
  assert.equal(FIONREAD, 0x541b);
  assert.equal(TCGETS, 0x5401);
});

test('helpers and decoders', () => {
  assert.equal(_IOC_NONE, 0);
  assert.equal(_IOC_WRITE, 1);
  assert.equal(_IOC_READ, 2);
  assert.equal(IOC_IN, 0x40000000);
  assert.equal(IOC_OUT, 0x80000000);
  assert.equal(IOC_INOUT, 0xc0000000);
  assert.equal(_IOWR('H', 0, 24), 0xc0184800);
  assert.equal(_IOWR(0x48, 0, 24), 0xc0184800);
  assert.equal(_IOR('H', 0, 24), 0x80184800);
  assert.equal(_IOW('H', 0, 24), 0x40184800);
  assert.equal(_IOWR('H', 0, 8), 0xc0084800);
  assert.equal(_IO('b', 4), 0x00006204);
  assert.equal(ioc('powerpc', _IOC_NONE, 'b', 4, 0), 0x20006204);
  assert.equal(iocDecode('powerpc', 0x20006204).dir, _IOC_NONE);
  const cmd = 0xc0184801;
  assert.equal(_IOC_DIR(cmd), 3);
  assert.equal(_IOC_TYPE(cmd), 0x48);
  assert.equal(_IOC_NR(cmd), 1);
  assert.equal(_IOC_SIZE(cmd), 24);
  assert.equal(_IOC_NR(FIONREAD), 0x1b);
  assert.equal(_IOC_DIR(FIONREAD), 0);
  // Results are unsigned 32-bit.
  assert.ok(_IOWR('H', 0, 24) > 0);
  assert.equal(_IOC(3, 0xff, 0xff, 0x3fff), 0xffffffff);
});

test('range errors', () => {
  assert.throws(() => _IOC(0, 'HH', 0, 0), RangeError);
  assert.throws(() => _IOC(0, 256, 0, 0), RangeError);
  assert.throws(() => _IOC(0, 'H', 256, 0), RangeError);
  assert.throws(() => _IOC(0, 'H', 0, 0x4000), RangeError);
  assert.throws(() => _IOC(4, 'H', 0, 0), RangeError);
  assert.throws(() => ioc('powerpc', RW, 'H', 0, 0x2000), RangeError);
  assert.equal(ioc('generic', RW, 'H', 0, 0x2000), 0xe0004800);
  const encodings: readonly IoctlEncoding[] = ['generic', 'powerpc'];
  for (const e of encodings) assert.equal(ioc(e, RW, 'H', 0, 24), 0xc0184800);
});
