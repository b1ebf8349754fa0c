import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStruct, defineStruct, encodeStruct, FIELD_SIZES, structField } from '../../src/uapi/struct.js';
import { DMA_HEAP_ALLOCATION_DATA, DMA_HEAP_ALLOCATION_DATA_PIDFD } from '../../src/uapi/dma-heap.js';
import { DMA_BUF_EXPORT_SYNC_FILE, DMA_BUF_SYNC } from '../../src/uapi/dma-buf.js';
import { constantsFor, parseFlagExpr } from '../../src/uapi/fcntl.js';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

test('dma_heap_allocation_data exact bytes', () => {
  const b = encodeStruct(DMA_HEAP_ALLOCATION_DATA, { len: 4096, fd_flags: 0x80002 });
  assert.equal(b.length, 24);
  assert.equal(hex(b), '0010000000000000' + '00000000' + '02000800' + '0000000000000000');
  assert.deepEqual(decodeStruct(DMA_HEAP_ALLOCATION_DATA, b), { len: 4096, fd: 0, fd_flags: 0x80002, heap_flags: 0 });

  const b2 = encodeStruct(DMA_HEAP_ALLOCATION_DATA, { len: 0x123456789abcdef0n, fd: 7, fd_flags: 'O_RDWR|O_CLOEXEC', heap_flags: 0xffffffffffffffffn },
    undefined, (s) => parseFlagExpr(s, constantsFor('x86_64')));
  assert.equal(hex(b2), 'f0debc9a78563412' + '07000000' + '02000800' + 'ffffffffffffffff');
  assert.deepEqual(decodeStruct(DMA_HEAP_ALLOCATION_DATA, b2), {
    len: 0x123456789abcdef0n, fd: 7, fd_flags: 0x80002, heap_flags: 0xffffffffffffffffn,
  });
});

test('u64 decodes to number up to MAX_SAFE_INTEGER, bigint above', () => {
  const safe = encodeStruct(DMA_BUF_SYNC, { flags: Number.MAX_SAFE_INTEGER });
  assert.equal(hex(safe), 'ffffffffffff1f00');
  assert.equal(decodeStruct(DMA_BUF_SYNC, safe).flags, Number.MAX_SAFE_INTEGER);
  const big = encodeStruct(DMA_BUF_SYNC, { flags: 2n ** 53n });
  assert.equal(decodeStruct(DMA_BUF_SYNC, big).flags, 2n ** 53n);
});

test('signed fields', () => {
  const b = encodeStruct(DMA_BUF_EXPORT_SYNC_FILE, { flags: 3, fd: -1 });
  assert.equal(hex(b), '03000000ffffffff');
  assert.deepEqual(decodeStruct(DMA_BUF_EXPORT_SYNC_FILE, b), { flags: 3, fd: -1 });
  const s64 = defineStruct('t', 8, [{ name: 'v', type: 's64', offset: 0 }]);
  assert.equal(hex(encodeStruct(s64, { v: -2 })), 'feffffffffffffff');
  assert.equal(decodeStruct(s64, unhex('feffffffffffffff')).v, -2);
  assert.equal(decodeStruct(s64, unhex('0000000000000080')).v, -(2n ** 63n));
});

test('short input reads as zero; into buffer and offsets', () => {
  // 16-byte "older" struct: heap_flags reads 0.
  const short = unhex('0010000000000000' + '05000000' + '02000800');
  assert.deepEqual(decodeStruct(DMA_HEAP_ALLOCATION_DATA, short), { len: 4096, fd: 5, fd_flags: 0x80002, heap_flags: 0 });
  assert.deepEqual(decodeStruct(DMA_HEAP_ALLOCATION_DATA, new Uint8Array(0)), { len: 0, fd: 0, fd_flags: 0, heap_flags: 0 });
  // A subarray at an odd byte offset.
  const backing = new Uint8Array(40).fill(0xee);
  const view = backing.subarray(3, 3 + 32);
  const r = encodeStruct(DMA_HEAP_ALLOCATION_DATA_PIDFD, { len: 1, charge_pid_fd: 9 }, view);
  assert.equal(r, view);
  assert.equal(hex(backing.subarray(0, 3)), 'eeeeee');
  assert.equal(hex(view), '0100000000000000' + '00000000' + '00000000' + '0000000000000000' + '09000000' + '00000000');
  assert.equal(hex(backing.subarray(35)), 'eeeeeeeeee');
  assert.equal(decodeStruct(DMA_HEAP_ALLOCATION_DATA_PIDFD, view).charge_pid_fd, 9);
  // into larger than the struct: only the first `size` bytes are touched.
  const big = new Uint8Array(48).fill(0x11);
  encodeStruct(DMA_HEAP_ALLOCATION_DATA, { len: 4096 }, big);
  assert.equal(hex(big.subarray(24)), '11'.repeat(24));
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, {}, new Uint8Array(16)), RangeError);
});

test('range and type errors name the field', () => {
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, { fd: 2 ** 32 }), { name: 'RangeError', message: /dma_heap_allocation_data\.fd: value 4294967296 out of range for u32/ });
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, { fd: -1 }), /\.fd: value -1 out of range/);
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, { len: -1n }), /\.len: value -1 out of range for u64/);
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, { len: 2n ** 64n }), /\.len:/);
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, { len: 1.5 }), /\.len: value 1.5 is not an integer/);
  assert.throws(() => encodeStruct(DMA_BUF_EXPORT_SYNC_FILE, { fd: 2 ** 31 }), /\.fd:.*s32/);
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, { fd_flags: 'O_RDWR' }), { name: 'RangeError', message: /\.fd_flags: cannot resolve 'O_RDWR'/ });
  assert.throws(() => encodeStruct(DMA_HEAP_ALLOCATION_DATA, { lenn: 1 }), /no field named 'lenn'/);
  // Numeric literal strings work without a resolver.
  assert.equal(decodeStruct(DMA_HEAP_ALLOCATION_DATA, encodeStruct(DMA_HEAP_ALLOCATION_DATA, { fd_flags: '0x80002' })).fd_flags, 0x80002);
});

test('char arrays, numeric arrays and layout validation', () => {
  const L = defineStruct('demo', 16, [
    { name: 'name', type: 'char', offset: 0, count: 8 },
    { name: 'v', type: 'u16', offset: 8, count: 2 },
    { name: 'b', type: 'u8', offset: 12 },
  ]);
  const b = encodeStruct(L, { name: 'héllo', 'v[0]': 0x0102, 'v[1]': 0xfffe, b: 255 });
  assert.equal(hex(b), '68c3a96c6c6f0000' + '0201feff' + 'ff000000');
  assert.deepEqual(decodeStruct(L, b), { name: 'héllo', 'v[0]': 0x0102, 'v[1]': 0xfffe, b: 255 });
  // Exactly full (no NUL) is accepted and decodes to all bytes.
  assert.equal(decodeStruct(L, encodeStruct(L, { name: 'abcdefgh' })).name, 'abcdefgh');
  assert.throws(() => encodeStruct(L, { name: 'abcdefghi' }), /demo\.name: string of 9 bytes does not fit char\[8\]/);
  assert.throws(() => encodeStruct(L, { name: 5 }), /demo\.name/);
  assert.throws(() => encodeStruct(L, { b: 256 }), /demo\.b:/);
  assert.equal(decodeStruct(L, unhex('ff41' + '00'.repeat(14))).name, '\ufffdA');
  assert.equal(FIELD_SIZES.ptr, 8);
  assert.equal(structField(DMA_HEAP_ALLOCATION_DATA, 'heap_flags').offset, 16);
  assert.throws(() => structField(DMA_HEAP_ALLOCATION_DATA, 'nope'), RangeError);
  assert.throws(() => defineStruct('x', 4, [{ name: 'a', type: 'u64', offset: 0 }]), RangeError);
  assert.throws(() => defineStruct('x', 8, [{ name: 'a', type: 'u32', offset: 2 }]), /not aligned/);
  assert.throws(() => defineStruct('x', 8, [{ name: 'a', type: 'u32', offset: 0 }, { name: 'b', type: 'u16', offset: 2 }]), /overlaps/);
  assert.throws(() => defineStruct('x', 8, [{ name: 'a', type: 'u32', offset: 0 }, { name: 'a', type: 'u32', offset: 4 }]), /duplicate/);
  assert.ok(Object.isFrozen(DMA_HEAP_ALLOCATION_DATA));
});
