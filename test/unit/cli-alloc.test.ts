// `dmaheap alloc` and `--backend`: an allocation through the client library on the emulated
// backend (fd, page-rounded size, inode, exporter, name, what the heap is), the hints on failure,
// and how `--backend emulated|linux|auto` picks a backend (the Linux backend loaded on demand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { printAlloc, runAlloc } from '../../src/apps/cli/alloc.js';
import { CliError, UsageError } from '../../src/apps/common/args.js';
import { BackendError, emulatedKconfig, loadLinuxBackend, openFiles, openTarget, parseBackend } from '../../src/apps/common/backend.js';
import type { LinuxLoader, OpenedTarget } from '../../src/apps/common/backend.js';
import { bootKernel, createEmulatedTarget } from '../../src/backends/emulated/index.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';

const MAIN = new URL('../../src/apps/cli/main.js', import.meta.url).pathname;
const notBuilt: LinuxLoader = () => Promise.resolve({ ok: false, reason: 'linux backend not built' });

function emulated(machine: EmulatedOptions = { cmdline: 'cma=64M' }): OpenedTarget {
  const t = createEmulatedTarget(machine);
  return { kind: 'emulated', target: t, kernel: t.kernel, note: null, label: `emulated Linux ${t.release} (profile ${t.kernel.profile.name})` };
}

test('alloc from the system heap: the page-rounded size, the inode and exporter from fdinfo, the name', () => {
  const o = emulated();
  const { result, buffer, client } = runAlloc(o, 'system', 1_000_000, { name: 'demo' });
  assert.deepEqual({ ...result, about: undefined }, {
    machine: 'emulated Linux 7.0.0 (profile 7.0)', backend: 'emulated', note: null,
    heap: 'system', path: '/dev/dma_heap/system', requested: 1_000_000, size: 1_003_520, pageSize: 4096,
    fd: 1, inode: 1, exporter: 'system', name: 'demo', pid: 2, about: undefined,
  });
  assert.equal(result.about.kind, 'system');
  assert.equal(result.about.source, 'exact');
  assert.deepEqual([result.about.contiguous, result.about.cacheable, result.about.protected], [false, true, false]);
  const text = printAlloc(result).split('\n');
  assert.deepEqual(text.slice(0, 8), [
    'Allocated 980 KiB from /dev/dma_heap/system (emulated Linux 7.0.0 (profile 7.0))',
    '  fd        1',
    '  size      1003520 bytes (asked 1000000: rounded up to whole 4 KiB pages)',
    '  inode     1',
    '  exporter  system',
    '  name      demo',
    '  pid       2',
    '  heap      system: page allocator; not contiguous, cached, not protected',
  ]);
  assert.match(text[8]!, /^ {2}capacity {2}[\d.]+ GiB, [\d.]+ GiB free now$/);
  buffer.close();
  client.close();
});

test('alloc from the default CMA heap: the area behind it, its free space, its other name', () => {
  const o = emulated();
  const { result, client } = runAlloc(o, 'default_cma_region', 1024 * 1024);
  // cma=64M on the default 2 GiB QEMU pc machine: 0x7bc00000, as dmesg's "cma: Reserved 64 MiB at
  // 0x000000007bc00000" on the 6.1 referee (run-in-kernel.sh, ORACLE_MEM=2G)
  assert.deepEqual(result.about, {
    kind: 'cma', contiguous: true, cacheable: true, protected: false,
    backing: 'the cma= area @0x7bc00000 64 MiB reusable', capacity: 64 * 1024 * 1024, free: 63 * 1024 * 1024, source: 'exact', sameMemoryAs: ['reserved'],
  });
  assert.deepEqual(printAlloc(result).split('\n').slice(-3), [
    '  heap      cma: the cma= area @0x7bc00000 64 MiB reusable; contiguous, cached, not protected',
    '  capacity  64 MiB, 63 MiB free now',
    '  same as   reserved (other names for the same memory)',
  ]);
  client.close();
});

test('alloc failures carry a hint: the heap names here, the cma= naming, doctor for EACCES', () => {
  const o = emulated({ cmdline: 'cma=64M', profile: '6.12' });
  assert.throws(() => runAlloc(o, 'linux,cma', 4096), (e: unknown) => e instanceof CliError && e.code === 'ENOENT' && e.exitCode === 1
    && e.message === 'ENOENT: No such file or directory, open \'/dev/dma_heap/linux,cma\''
    && e.hint === 'no heap named linux,cma; the heaps are system, reserved; the default CMA area comes from cma=64M on the kernel command line and is named reserved, not linux,cma (from Linux 6.17 its heap is default_cma_region): open reserved instead; dmaheap doctor explains the cma= naming');
  const user = emulated({ cmdline: 'cma=64M', uid: 1000, gid: 1000 });
  assert.throws(() => runAlloc(user, 'system', 4096), (e: unknown) => e instanceof CliError && e.code === 'EACCES'
    && e.message === 'EACCES: Permission denied, open \'/dev/dma_heap/system\''
    && e.hint === 'run dmaheap doctor: it shows the node\'s owner and mode and the udev rule that opens it to a group');
  assert.throws(() => runAlloc(o, 'system', 0), (e: unknown) => e instanceof CliError && e.code === 'EINVAL'
    && e.message === 'EINVAL: Invalid argument, ioctl \'/dev/dma_heap/system\'' && e.hint === 'a heap refuses an empty buffer: give a size of at least 1 byte');
});

test('dmaheap alloc on the command line: JSON, usage errors', () => {
  const r = spawnSync(process.execPath, [MAIN, 'alloc', 'system', '64K', '--backend', 'emulated', '--json', '--name', 'x'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { size: number; name: string; exporter: string; about: { kind: string } };
  assert.deepEqual([j.size, j.name, j.exporter, j.about.kind], [65536, 'x', 'system', 'system']);
  const text = spawnSync(process.execPath, [MAIN, 'alloc', 'system', '4096', '--profile', '6.1'], { encoding: 'utf8' });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^Allocated 4 KiB from \/dev\/dma_heap\/system \(emulated Linux 6\.1\.192 \(profile 6\.1\)\)\n/);
  assert.match(text.stdout, /\nreleased: fd 1 closed, the memory goes back to system\n$/);
  const bad = spawnSync(process.execPath, [MAIN, 'alloc', 'system'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, "dmaheap alloc: alloc needs a heap and a size, e.g. dmaheap alloc system 1M\nhint: 'dmaheap alloc --help' lists its options\n");
  const enoent = spawnSync(process.execPath, [MAIN, 'alloc', 'nope', '4096', '--backend', 'emulated'], { encoding: 'utf8' });
  assert.equal(enoent.status, 1);
  assert.equal(enoent.stderr, "dmaheap alloc: ENOENT: No such file or directory, open '/dev/dma_heap/nope'\nhint: no heap named nope; the heaps are system, default_cma_region, reserved\n");
});

test('--backend: parsing, auto falls back to the emulated backend with a note, linux refuses', async () => {
  assert.equal(parseBackend(undefined), 'auto');
  assert.equal(parseBackend('linux'), 'linux');
  assert.throws(() => parseBackend('qemu'), (e: unknown) => e instanceof UsageError && e.message === '--backend: \'qemu\' is not emulated, linux or auto');

  const auto = await openTarget('auto', { cmdline: 'cma=64M' }, notBuilt);
  assert.equal(auto.kind, 'emulated');
  assert.equal(auto.note, 'linux backend not built; using the emulated backend');
  assert.equal(auto.label, 'emulated Linux 7.0.0 (profile 7.0)');
  auto.target.dispose();
  await assert.rejects(openTarget('linux', {}, notBuilt), (e: unknown) => e instanceof BackendError && e.message === '--backend linux: linux backend not built');

  const unavailable: LinuxLoader = () => Promise.resolve({
    ok: true,
    backend: { name: 'linux', isAvailable: () => ({ ok: false, reason: 'no /dev/dma_heap' }), createTarget: () => assert.fail('not to be created'), createClient: () => assert.fail('not to be created') },
  });
  const fallback = await openTarget('auto', {}, unavailable);
  assert.equal(fallback.note, 'linux backend not available: no /dev/dma_heap; using the emulated backend');
  fallback.target.dispose();
  const emu = await openTarget('emulated', { profile: '6.6' }, () => assert.fail('the emulated backend never loads the linux one'));
  assert.deepEqual([emu.kind, emu.note, emu.label], ['emulated', null, 'emulated Linux 6.6.0 (profile 6.6)']);
  emu.target.dispose();
});

test('--backend for commands that read files: this machine on Linux, the emulated one elsewhere', () => {
  const elsewhere = openFiles('auto', { cmdline: 'cma=64M' }, 'darwin');
  assert.deepEqual([elsewhere.kind, elsewhere.note, elsewhere.uid], ['emulated', 'this is darwin, not Linux; using the emulated backend', 0]);
  elsewhere.target?.dispose();
  assert.throws(() => openFiles('linux', {}, 'darwin'), (e: unknown) => e instanceof BackendError && e.message === '--backend linux: this is darwin, not Linux');
  const here = openFiles('linux', {}, 'linux');
  assert.deepEqual([here.kind, here.target, here.kernel], ['linux', null, null]);
});

test('the Linux backend loads on demand: built or not, the answer says which', async () => {
  const l = await loadLinuxBackend();
  if (l.ok) assert.equal(l.backend.name, 'linux');
  else assert.match(l.reason, /^linux backend (not built|failed to load)/);
});

test('the emulated kernel configuration doctor reads as /proc/config.gz', () => {
  assert.equal(emulatedKconfig(bootKernel({ cmdline: 'cma=64M', profile: '6.18' })), [
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    '# Linux/x86 6.18.0 Kernel Configuration (dmaheap emulated kernel)',
    '#',
    'CONFIG_X86_64=y',
    'CONFIG_IKCONFIG=y',
    'CONFIG_IKCONFIG_PROC=y',
    'CONFIG_MEMCG=y',
    'CONFIG_CGROUP_DMEM=y',
    'CONFIG_TRANSPARENT_HUGEPAGE=y',
    'CONFIG_ZONE_DMA32=y',
    'CONFIG_CMA=y',
    'CONFIG_CMA_DEBUGFS=y',
    'CONFIG_CMA_SYSFS=y',
    'CONFIG_CMA_AREAS=8',
    'CONFIG_DMA_SHARED_BUFFER=y',
    'CONFIG_UDMABUF=y',
    'CONFIG_DMABUF_HEAPS=y',
    'CONFIG_DMABUF_SYSFS_STATS=y',
    'CONFIG_DMABUF_HEAPS_SYSTEM=y',
    'CONFIG_DMABUF_HEAPS_CMA=y',
    'CONFIG_DMABUF_HEAPS_CMA_LEGACY=y',
    '# CONFIG_DMABUF_HEAPS_COHERENT is not set',
    'CONFIG_TEE=y',
    'CONFIG_TEE_DMABUF_HEAPS=y',
    'CONFIG_SWIOTLB=y',
    'CONFIG_DMA_CMA=y',
    'CONFIG_CMA_SIZE_MBYTES=0',
    'CONFIG_CMA_SIZE_SEL_MBYTES=y',
    '# CONFIG_CMA_SIZE_SEL_PERCENTAGE is not set',
    '# CONFIG_CMA_SIZE_SEL_MIN is not set',
    '# CONFIG_CMA_SIZE_SEL_MAX is not set',
    'CONFIG_CMA_ALIGNMENT=8',
    '',
  ].join('\n'));
  assert.ok(!emulatedKconfig(bootKernel({ profile: '7.0' })).includes('SYSFS_STATS'));
  assert.ok(emulatedKconfig(bootKernel({ cmdline: 'cma=64M', heaps: ['system'] })).includes('# CONFIG_DMABUF_HEAPS_CMA is not set\n'));
});
