// A heap that does not exist: `client.allocate()` throws the ErrnoError of the failed open
// (ENOENT, errno 2, syscall 'open', the node's path) whose message names the heaps that exist and
// the likely reason — the cma= → reserved trap, 6.17's default_cma_region, 6.19's per-region
// heaps — from what the process can read (/dev/dma_heap, /proc/cmdline, the live device tree),
// so the same text comes from any backend's files (src/api/missing-heap.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulatedBackend } from '../../src/backends/emulated/index.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';
import { ErrnoError, explainMissingHeap, heapOpenError, readHeapNamingFacts } from '../../src/api/index.js';
import type { SyscallTarget, TextResult } from '../../src/api/index.js';

const DOCTOR = '; dmaheap doctor explains the cma= naming';

/** The ErrnoError of allocating 4 KiB from `heap` on a fresh machine. */
function missing(machine: EmulatedOptions, heap: string): ErrnoError {
  const c = emulatedBackend.createClient(machine);
  try {
    c.allocate(heap, 4096);
  } catch (e) {
    assert.ok(e instanceof ErrnoError);
    return e;
  } finally {
    c.close();
  }
  assert.fail(`${heap} was allocated`);
}

const msg = (heap: string, hint: string): string => `ENOENT: No such file or directory, open '/dev/dma_heap/${heap}' (${hint})`;

test('the error is the open\'s ENOENT, with the heaps there are and why this one is missing', () => {
  const e = missing({ profile: '6.12' }, 'linux,cma');
  assert.deepEqual([e.name, e.code, e.errno, e.syscall, e.path], ['ErrnoError', 'ENOENT', 2, 'open', '/dev/dma_heap/linux,cma']);
  assert.equal(e.message, msg('linux,cma', 'no heap named linux,cma; the heaps are system, reserved; the default CMA area comes from cma=64M on the kernel command line and is named reserved, not linux,cma (from Linux 6.17 its heap is default_cma_region): open reserved instead' + DOCTOR));
  assert.deepEqual(e.toJSON(), { code: 'ENOENT', errno: 2, syscall: 'open', path: '/dev/dma_heap/linux,cma', message: e.message });
});

test('each renaming trap has its own reason and names the heap to open instead', () => {
  const cases: [EmulatedOptions, string, string][] = [
    // 6.17's name on an older kernel
    [{ profile: '6.12' }, 'default_cma_region',
      "no heap named default_cma_region; the heaps are system, reserved; default_cma_region is the default CMA heap's name from Linux 6.17; this kernel (6.12.118) names it after its area, reserved: open reserved instead" + DOCTOR],
    // cma= replaces the device tree's default region
    [{ board: 'imx8mp', profile: '6.19', cmdline: 'cma=128M' }, 'linux,cma',
      'no heap named linux,cma; the heaps are system, default_cma_region, cma-video, framebuffer@78000000, reserved; cma=128M on the kernel command line replaces the device tree\'s default CMA region linux,cma (Linux 6.19+ skips the region), so there is no heap linux,cma; the default CMA area is the command-line one, named reserved: open default_cma_region instead' + DOCTOR],
    [{ board: 'imx8mp', profile: '6.12', cmdline: 'cma=128M' }, 'linux,cma',
      'no heap named linux,cma; the heaps are system, reserved; cma=128M on the kernel command line replaces the device tree\'s default CMA region linux,cma (the kernel bypasses it), so there is no heap linux,cma; the default CMA area is the command-line one, named reserved (from Linux 6.17 its heap is default_cma_region): open reserved instead' + DOCTOR],
    // the command-line name on a device-tree board
    [{ board: 'imx8mp', profile: '6.12' }, 'reserved',
      'no heap named reserved; the heaps are system, linux,cma; reserved is the name of a command-line (cma=) CMA area; here the default CMA area is the device tree\'s linux,cma (from Linux 6.17 its heap is default_cma_region): open linux,cma instead' + DOCTOR],
    // 6.19's per-region heaps on an older kernel
    [{ board: 'imx8mp', profile: '6.18' }, 'cma-video',
      'no heap named cma-video; the heaps are system, default_cma_region, linux,cma; cma-video is a reusable reserved-memory region: Linux makes a heap of every such region only from 6.19, and this kernel is 6.18.0 (before, only the default CMA region has a heap)'],
    // a region that is no CMA region
    [{ board: 'imx8mp', profile: '7.0' }, 'dsp@92400000',
      'no heap named dsp@92400000; the heaps are system, default_cma_region, linux,cma, cma-video, framebuffer@78000000; dsp@92400000 is a reserved-memory region that is not a CMA region (shared-dma-pool with reusable): no mainline kernel makes a heap of it'],
    // no CMA area at all
    [{ profile: '7.0', cmdline: '' }, 'linux,cma',
      'no heap named linux,cma; the heaps are system; there is no default CMA area: no cma= on the kernel command line and no linux,cma-default region in the device tree (add cma=64M to the command line for one)' + DOCTOR],
    // a name newer than the kernel
    [{ profile: '6.12' }, 'protected,secure-video', 'no heap named protected,secure-video; the heaps are system, reserved; protected,<use case> heaps exist from Linux 6.18; this kernel is 6.12.118'],
    // nothing known
    [{ profile: '6.1' }, 'foo', 'no heap named foo; the heaps are system, reserved'],
  ];
  for (const [machine, heap, hint] of cases) {
    const e = missing(machine, heap);
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.message, msg(heap, hint), `${heap} on ${JSON.stringify(machine)}`);
  }
});

test('allocateAsync sees the same error; other errnos are unchanged', async () => {
  const c = emulatedBackend.createClient({ profile: '6.12' });
  try {
    await assert.rejects(c.allocateAsync('default_cma_region', 4096), (e: unknown) => e instanceof ErrnoError && e.code === 'ENOENT' && e.message.includes("default_cma_region is the default CMA heap's name from Linux 6.17"));
    // a successful allocation is untouched
    c.allocate('reserved', 4096).close();
  } finally {
    c.close();
  }
  const user = emulatedBackend.createClient({ profile: '6.12', uid: 1000, gid: 1000 });
  try {
    assert.throws(() => user.allocate('system', 4096), { code: 'EACCES', message: "EACCES: Permission denied, open '/dev/dma_heap/system'" });
  } finally {
    user.close();
  }
});

/** A machine as files only, as the Linux backend reads them: /dev/dma_heap, /proc/cmdline, the live device tree. */
function filesTarget(files: Record<string, string>, dirs: Record<string, string[]>, release: string): Pick<SyscallTarget, 'readdir' | 'readFile' | 'release'> {
  return {
    release,
    readdir: (p) => (p in dirs ? { ret: dirs[p]!.length, errno: null, names: dirs[p]! } : { ret: -1, errno: 'ENOENT', names: null }),
    readFile: (p): TextResult => (p in files ? { ret: files[p]!.length, errno: null, text: files[p]! } : { ret: -1, errno: p in dirs ? 'EISDIR' : 'ENOENT', text: null }),
  };
}

test('the explanation reads only files, so it works on a real kernel\'s as on the emulated one', () => {
  const DT = '/sys/firmware/devicetree/base';
  // a Raspberry Pi OS-like machine: cma= on the command line, the device tree's linux,cma bypassed
  const pi = filesTarget(
    {
      '/proc/cmdline': 'coherent_pool=1M 8250.nr_uarts=1 cma=320M console=ttyS0,115200\n',
      [`${DT}/reserved-memory/linux,cma/compatible`]: 'shared-dma-pool\0',
      [`${DT}/reserved-memory/linux,cma/reusable`]: '',
      [`${DT}/reserved-memory/linux,cma/linux,cma-default`]: '',
      [`${DT}/reserved-memory/linux,cma/size`]: '\0\0\0\0\x04\0\0\0',
    },
    {
      '/dev/dma_heap': ['system', 'reserved'],
      [`${DT}/reserved-memory`]: ['linux,cma'],
      [`${DT}/reserved-memory/linux,cma`]: ['compatible', 'linux,cma-default', 'reusable', 'size'],
    },
    '6.6.51+rpt-rpi-2712',
  );
  const f = readHeapNamingFacts(pi);
  assert.deepEqual([f.heaps, f.cmdlineCma, f.dtCmaDefault, f.release], [['system', 'reserved'], '320M', 'linux,cma', '6.6.51+rpt-rpi-2712']);
  const e = heapOpenError(pi, 'linux,cma', '/dev/dma_heap/linux,cma', 'ENOENT');
  assert.equal(e.message, msg('linux,cma', 'no heap named linux,cma; the heaps are system, reserved; cma=320M on the kernel command line replaces the device tree\'s default CMA region linux,cma (the kernel bypasses it), so there is no heap linux,cma; the default CMA area is the command-line one, named reserved (from Linux 6.17 its heap is default_cma_region): open reserved instead' + DOCTOR));
  // no /dev/dma_heap at all
  const none = filesTarget({ '/proc/cmdline': 'quiet\n' }, {}, '6.8.0-45-generic');
  assert.deepEqual(explainMissingHeap('system', readHeapNamingFacts(none)), {
    heap: 'system', heaps: null, instead: null,
    reason: 'there is no /dev/dma_heap here: the kernel has no DMA-BUF heaps (CONFIG_DMABUF_HEAPS), or this container was not given the devices; dmaheap doctor says which',
    hint: 'there is no /dev/dma_heap here: the kernel has no DMA-BUF heaps (CONFIG_DMABUF_HEAPS), or this container was not given the devices; dmaheap doctor says which',
  });
  // another errno is left as it is, without reading anything
  assert.equal(heapOpenError(none, 'system', '/dev/dma_heap/system', 'EACCES').message, "EACCES: Permission denied, open '/dev/dma_heap/system'");
});
