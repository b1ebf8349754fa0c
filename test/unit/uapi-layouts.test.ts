import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as U from '../../src/uapi/index.js';
import { decodeStruct, encodeStruct, encodeUdmabufCreateList, IOCTLS, ioctlName, STRUCTS } from '../../src/uapi/index.js';
import type { StructLayout } from '../../src/uapi/index.js';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const shape = (l: StructLayout): string => `${l.name}/${l.size}: ` + l.fields.map((f) => `${f.name}:${f.type}${f.count === undefined ? '' : `[${f.count}]`}@${f.offset}`).join(' ');

test('every layout, field by field', () => {
  const expected: Record<string, string> = {
    dma_heap_allocation_data: 'dma_heap_allocation_data/24: len:u64@0 fd:u32@8 fd_flags:u32@12 heap_flags:u64@16',
    dma_heap_allocation_data_pidfd: 'dma_heap_allocation_data_pidfd/32: len:u64@0 fd:u32@8 fd_flags:u32@12 heap_flags:u64@16 charge_pid_fd:u32@24 __padding:u32@28',
    dma_buf_sync: 'dma_buf_sync/8: flags:u64@0',
    dma_buf_export_sync_file: 'dma_buf_export_sync_file/8: flags:u32@0 fd:s32@4',
    dma_buf_import_sync_file: 'dma_buf_import_sync_file/8: flags:u32@0 fd:s32@4',
    udmabuf_create: 'udmabuf_create/24: memfd:u32@0 flags:u32@4 offset:u64@8 size:u64@16',
    udmabuf_create_item: 'udmabuf_create_item/24: memfd:u32@0 __pad:u32@4 offset:u64@8 size:u64@16',
    udmabuf_create_list: 'udmabuf_create_list/8: flags:u32@0 count:u32@4',
    sync_merge_data: 'sync_merge_data/48: name:char[32]@0 fd2:s32@32 fence:s32@36 flags:u32@40 pad:u32@44',
    sync_fence_info: 'sync_fence_info/80: obj_name:char[32]@0 driver_name:char[32]@32 status:s32@64 flags:u32@68 timestamp_ns:u64@72',
    sync_file_info: 'sync_file_info/56: name:char[32]@0 status:s32@32 flags:u32@36 num_fences:u32@40 pad:u32@44 sync_fence_info:ptr@48',
  };
  assert.deepEqual(Object.keys(STRUCTS).sort(), Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) {
    const l = STRUCTS[k];
    assert.ok(l !== undefined, k);
    assert.equal(shape(l), v);
    assert.equal(l.name, k);
  }
  assert.equal(U.DMA_HEAP_ALLOCATION_DATA, STRUCTS.dma_heap_allocation_data);
  assert.equal(U.UDMABUF_CREATE_LAYOUT, STRUCTS.udmabuf_create);
  assert.equal(U.UDMABUF_CREATE_LIST_LAYOUT, STRUCTS.udmabuf_create_list);
  assert.equal(U.SYNC_MERGE_DATA, STRUCTS.sync_merge_data);
});

test('dma-buf and dma-heap constants', () => {
  assert.equal(U.DMA_HEAP_IOC_MAGIC, 0x48);
  assert.equal(U.DMA_BUF_SYNC_READ, 1);
  assert.equal(U.DMA_BUF_SYNC_WRITE, 2);
  assert.equal(U.DMA_BUF_SYNC_RW, 3);
  assert.equal(U.DMA_BUF_SYNC_START, 0);
  assert.equal(U.DMA_BUF_SYNC_END, 4);
  assert.equal(U.DMA_BUF_SYNC_VALID_FLAGS_MASK, 7);
  assert.equal(U.DMA_BUF_BASE, 'b');
  assert.equal(U.DMA_BUF_NAME_LEN, 32);
  assert.equal(U.DMA_BUF_MAGIC, 0x444d4142);
  assert.equal(U.UDMABUF_FLAGS_CLOEXEC, 1);
  assert.equal(U.SYNC_IOC_MAGIC, '>');
});

test('IOCTLS registry and reverse lookup', () => {
  assert.deepEqual({ ...IOCTLS }, {
    DMA_HEAP_IOCTL_ALLOC: 0xc0184800,
    DMA_HEAP_IOC_ALLOC: 0xc0184800,
    DMA_BUF_IOCTL_SYNC: 0x40086200,
    DMA_BUF_SET_NAME: 0x40086201,
    DMA_BUF_SET_NAME_A: 0x40046201,
    DMA_BUF_SET_NAME_B: 0x40086201,
    DMA_BUF_IOCTL_EXPORT_SYNC_FILE: 0xc0086202,
    DMA_BUF_IOCTL_IMPORT_SYNC_FILE: 0x40086203,
    UDMABUF_CREATE: 0x40187542,
    UDMABUF_CREATE_LIST: 0x40087543,
    SYNC_IOC_MERGE: 0xc0303e03,
    SYNC_IOC_FILE_INFO: 0xc0383e04,
    FIOCLEX: 0x5451,
    FIONCLEX: 0x5450,
    FIONBIO: 0x5421,
    FIOASYNC: 0x5452,
    FIONREAD: 0x541b,
    TCGETS: 0x5401,
  });
  assert.equal(ioctlName(0xc0184800), 'DMA_HEAP_IOCTL_ALLOC');
  assert.equal(ioctlName(0x40086201), 'DMA_BUF_SET_NAME');
  assert.equal(ioctlName(0x40046201), 'DMA_BUF_SET_NAME_A');
  assert.equal(ioctlName(-0x3fe7b800), 'DMA_HEAP_IOCTL_ALLOC'); // signed view of 0xc0184800
  assert.equal(ioctlName(0xc0184801), undefined);
});

test('sync_file structs: exact bytes and round trip', () => {
  const m = encodeStruct(U.SYNC_MERGE_DATA, { name: 'merged', fd2: 5, fence: -1 });
  assert.equal(hex(m), '6d657267656400' + '00'.repeat(25) + '05000000' + 'ffffffff' + '00000000' + '00000000');
  assert.deepEqual(decodeStruct(U.SYNC_MERGE_DATA, m), { name: 'merged', fd2: 5, fence: -1, flags: 0, pad: 0 });
  const fi = { obj_name: 'dma_fence_stub', driver_name: 'stub', status: 1, flags: 0, timestamp_ns: 1234567890123 };
  const fb = encodeStruct(U.SYNC_FENCE_INFO, fi);
  assert.equal(fb.length, 80);
  assert.equal(hex(fb.subarray(64)), '01000000' + '00000000' + 'cb04fb711f010000');
  assert.deepEqual(decodeStruct(U.SYNC_FENCE_INFO, fb), fi);
  const info = { name: 'f', status: 1, flags: 0, num_fences: 2, pad: 0, sync_fence_info: 0x7fff00001000 };
  const ib = encodeStruct(U.SYNC_FILE_INFO, info);
  assert.equal(hex(ib.subarray(32)), '01000000' + '00000000' + '02000000' + '00000000' + '00100000ff7f0000');
  assert.deepEqual(decodeStruct(U.SYNC_FILE_INFO, ib), info);
});

test('dma-buf sync structs', () => {
  assert.equal(hex(encodeStruct(U.DMA_BUF_SYNC, { flags: U.DMA_BUF_SYNC_START | U.DMA_BUF_SYNC_RW })), '0300000000000000');
  assert.equal(hex(encodeStruct(U.DMA_BUF_SYNC, { flags: U.DMA_BUF_SYNC_END | U.DMA_BUF_SYNC_READ })), '0500000000000000');
  assert.equal(hex(encodeStruct(U.DMA_BUF_IMPORT_SYNC_FILE, { flags: 2, fd: 10 })), '020000000a000000');
});

test('udmabuf structs and create_list', () => {
  const c = encodeStruct(U.UDMABUF_CREATE_LAYOUT, { memfd: 3, flags: U.UDMABUF_FLAGS_CLOEXEC, offset: 4096, size: 8192 });
  assert.equal(hex(c), '03000000' + '01000000' + '0010000000000000' + '0020000000000000');
  const list = encodeUdmabufCreateList(1, [
    { memfd: 3, offset: 0, size: 4096 },
    { memfd: 4, offset: 8192n, size: 0x10000 },
  ]);
  assert.equal(list.length, 8 + 2 * 24);
  assert.equal(hex(list),
    '01000000' + '02000000' +
    '03000000' + '00000000' + '0000000000000000' + '0010000000000000' +
    '04000000' + '00000000' + '0020000000000000' + '0000010000000000');
  assert.equal(hex(encodeUdmabufCreateList(0, [])), '0000000000000000');
  assert.deepEqual(decodeStruct(U.UDMABUF_CREATE_ITEM, list.subarray(32)), { memfd: 4, __pad: 0, offset: 8192, size: 0x10000 });
});
