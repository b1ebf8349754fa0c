// `dmaheap heaps --backend linux`: this machine's heaps through the client library's discovery,
// every fact with its source, size/free only where something says, open permission, the naming
// verdict, CMA totals, the device tree and udmabuf, and what to do next. The "machine" here is an
// emulated kernel handed to the code as if it were the Linux backend's target (exact facts left
// out, as a real kernel has none), so the tests run where /dev/dma_heap does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { DmaHeapClient } from '../../src/api/client.js';
import { bootHeaps, printHeaps, printLinuxHeaps, readLinuxHeaps } from '../../src/apps/cli/heaps.js';
import type { LinuxHeapsReport } from '../../src/apps/cli/heaps.js';
import { BackendError, openClient } from '../../src/apps/common/backend.js';
import type { LinuxLoader } from '../../src/apps/common/backend.js';
import { withBoard } from '../../src/apps/common/machine.js';
import { createEmulatedTarget } from '../../src/backends/emulated/index.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';

const MAIN = new URL('../../src/apps/cli/main.js', import.meta.url).pathname;
const IMX8MP = new URL('../../../examples/boards/imx8mp.dts', import.meta.url).pathname;
const MiB = 1024 * 1024;

/** readLinuxHeaps over a machine booted from `machine`, as the Linux backend's client would see it. */
function linuxHeaps(machine: EmulatedOptions): LinuxHeapsReport {
  const t = createEmulatedTarget(machine);
  const c = new DmaHeapClient(t);
  try {
    return readLinuxHeaps(c, `Linux ${t.release} (this machine)`);
  } finally {
    c.close();
  }
}

const SYSTEM_SOURCE = '  system    kind, contiguous, cached, protected (name): knowledge base: system (the page allocator: pages of order 8, 4 and 0, never physically contiguous beyond a chunk; Android requires it from kernel 5.10 (VTS))';
const RESERVED_NAMING = "  reserved: N4: 'reserved' is the kernel's label for the command-line/Kconfig CMA area (mainline's choice, not yours): it says that memory is reserved, not which memory; nothing known about the area identifies it";

test('the oracle\'s machine (6.1, cma=64M, root): sysfs says what reserved is, the name what system is', () => {
  const r = linuxHeaps({ profile: '6.1', cmdline: 'cma=64M' });
  assert.equal(printLinuxHeaps(r), [
    'Heaps on this machine: Linux 6.1.192 x86_64, 2 heaps in /dev/dma_heap',
    'The kernel has no heap query: every fact says where it came from (name: the knowledge base of heap names).',
    'name      kind           contig       cached       protected   size            free            open  naming',
    'reserved  cma (sysfs)    yes (sysfs)  yes (sysfs)  no (sysfs)  64 MiB (sysfs)  64 MiB (sysfs)  rw    N4 warning',
    'system    system (name)  no (name)    yes (name)   no (name)   unknown         unknown         rw    ok',
    '',
    'Where the facts come from:',
    '  reserved  kind, contiguous, protected (sysfs): /sys/kernel/mm/cma/reserved exists: a CMA area of that name',
    '            cached (sysfs): /sys/kernel/mm/cma/reserved exists: a CMA area of that name (CMA heaps map ordinary memory cacheable)',
    '            size (sysfs): /sys/kernel/debug/cma/reserved/count',
    '            free (sysfs): /sys/kernel/debug/cma/reserved/count - used',
    SYSTEM_SOURCE,
    '',
    'Naming (the kernel\'s heap naming convention; `dmaheap lint-names` explains every rule):',
    RESERVED_NAMING,
    '',
    'CMA          CmaTotal 64 MiB, CmaFree 64 MiB (/proc/meminfo); areas in /sys/kernel/mm/cma: reserved 64 MiB, 64 MiB free',
    'device tree  no /sys/firmware/devicetree/base (a machine described by ACPI, not a device tree)',
    'udmabuf      /dev/udmabuf usable: a memfd can become a dma-buf without a heap',
  ].join('\n'));

  // the JSON: every property with its source and reason; nothing invented for the system heap
  const j = JSON.parse(JSON.stringify(r)) as LinuxHeapsReport;
  assert.deepEqual([j.machine, j.backend, j.release, j.arch, j.devDmaHeap, j.next], ['Linux 6.1.192 (this machine)', 'linux', '6.1.192', 'x86_64', 'ok', []]);
  const [reserved, system] = j.heaps;
  assert.deepEqual(reserved!.kind, { value: 'cma', source: 'sysfs', reason: '/sys/kernel/mm/cma/reserved exists: a CMA area of that name' });
  assert.deepEqual(reserved!.size, { value: 64 * MiB, source: 'sysfs', reason: '/sys/kernel/debug/cma/reserved/count' });
  assert.deepEqual(reserved!.open, { rdonly: 'ok', rdwr: 'ok' });
  assert.deepEqual(reserved!.known, { id: 'mainline/reserved', pattern: 'reserved', upstream: true, since: '5.6' });
  assert.deepEqual([system!.name, system!.size, system!.free, system!.region, system!.naming.ok], ['system', null, null, null, true]);
  assert.equal(system!.contiguous?.source, 'name');
  assert.deepEqual(j.cma, { meminfo: { cmaTotal: 64 * MiB, cmaFree: 64 * MiB }, areas: [{ name: 'reserved', size: 64 * MiB, free: 64 * MiB }] });
  assert.deepEqual(j.deviceTree, { present: false, reservedMemory: null });
  assert.deepEqual(j.udmabuf, { present: true, usable: true, sizeLimit: null });
});

test('a device-tree board (i.MX 8M Plus, 6.18): the region, the legacy duplicate, free space from sysfs', () => {
  const r = linuxHeaps(withBoard({ profile: '6.18' }, IMX8MP));
  const text = printLinuxHeaps(r).split('\n');
  assert.deepEqual(text.slice(0, 5), [
    'Heaps on this machine: Linux 6.18.0 arm64, 3 heaps in /dev/dma_heap',
    'The kernel has no heap query: every fact says where it came from (name: the knowledge base of heap names).',
    'name                kind               contig             cached             protected         size                   free             open  naming',
    'default_cma_region  cma (device-tree)  yes (device-tree)  yes (device-tree)  no (device-tree)  640 MiB (device-tree)  640 MiB (sysfs)  rw    N3 warning',
    'linux,cma           cma (device-tree)  yes (device-tree)  yes (device-tree)  no (device-tree)  640 MiB (device-tree)  640 MiB (sysfs)  rw    ok',
  ]);
  const at = text.indexOf('Where the facts come from:');
  assert.deepEqual(text.slice(at + 6, at + 12), [
    '  linux,cma           kind, contiguous, cached, protected (device-tree): /reserved-memory/linux,cma is a reusable shared-dma-pool (CMA: ordinary memory, mapped cacheable)',
    '                      region /reserved-memory/linux,cma 640 MiB reusable (device-tree): named after /reserved-memory/linux,cma',
    '                      size (device-tree): the size of /reserved-memory/linux,cma',
    '                      free (sysfs): /sys/kernel/debug/cma/linux,cma/count - used',
    '                      same memory as default_cma_region (sysfs): the CMA area linux,cma (/sys/kernel/mm/cma) backs them all',
    '                      a legacy name (prefer the other) (name): on 6.17-6.18 \'linux,cma\' beside default_cma_region is the legacy duplicate of the default area',
  ]);
  assert.equal(text.find((l) => l.startsWith('device tree')), 'device tree  /reserved-memory: cma-video (shared-dma-pool, 256 MiB, reusable); dsp@92400000 (32 MiB, no-map); framebuffer@78000000 (shared-dma-pool, 32 MiB, reusable); linux,cma (shared-dma-pool, 640 MiB, reusable, linux,cma-default)');
  const cma = r.heaps.find((h) => h.name === 'linux,cma')!;
  assert.deepEqual(cma.region?.value, { name: 'linux,cma', path: '/reserved-memory/linux,cma', base: null, size: 640 * MiB, reusable: true, nomap: false });
  assert.deepEqual(cma.sameMemoryAs?.value, ['default_cma_region']);
  assert.equal(cma.legacyAlias?.value, true);
});

test('a user who may not open the heaps: sizes from /proc/meminfo, "no (EACCES)", doctor as the next step', () => {
  const r = linuxHeaps({ profile: '6.1', cmdline: 'cma=64M', uid: 1000, gid: 1000 });
  assert.equal(printLinuxHeaps(r), [
    'Heaps on this machine: Linux 6.1.192 x86_64, 2 heaps in /dev/dma_heap',
    'The kernel has no heap query: every fact says where it came from (name: the knowledge base of heap names).',
    'name      kind           contig       cached       protected   size              free              open         naming',
    'reserved  cma (sysfs)    yes (sysfs)  yes (sysfs)  no (sysfs)  64 MiB (meminfo)  64 MiB (meminfo)  no (EACCES)  N4 warning',
    'system    system (name)  no (name)    yes (name)   no (name)   unknown           unknown           no (EACCES)  ok',
    '',
    'Where the facts come from:',
    '  reserved  kind, contiguous, protected (sysfs): /sys/kernel/mm/cma/reserved exists: a CMA area of that name',
    '            cached (sysfs): /sys/kernel/mm/cma/reserved exists: a CMA area of that name (CMA heaps map ordinary memory cacheable)',
    '            size (meminfo): CmaTotal in /proc/meminfo (one CMA area on the system)',
    '            free (meminfo): CmaFree in /proc/meminfo (one CMA area on the system)',
    SYSTEM_SOURCE,
    '',
    'Naming (the kernel\'s heap naming convention; `dmaheap lint-names` explains every rule):',
    RESERVED_NAMING,
    '',
    'CMA          CmaTotal 64 MiB, CmaFree 64 MiB (/proc/meminfo); areas in /sys/kernel/mm/cma: reserved (sizes: debugfs cma/<area>/count, root)',
    'device tree  no /sys/firmware/devicetree/base (a machine described by ACPI, not a device tree)',
    'udmabuf      /dev/udmabuf exists but this user cannot open it (dmaheap doctor)',
    '',
    'next: no heap can be opened by this user (EACCES): dmaheap doctor shows each node\'s owner and mode and the udev rule or group that opens it',
  ].join('\n'));
});

test('no /dev/dma_heap: the CMA and udmabuf facts, doctor and udmabuf as next steps', () => {
  const r = linuxHeaps({ heaps: [], cmdline: '' });
  assert.deepEqual([r.devDmaHeap, r.heaps], ['ENOENT', []]);
  assert.equal(printLinuxHeaps(r), [
    'Heaps on this machine: Linux 7.0.0 x86_64, no heap in /dev/dma_heap (ENOENT)',
    '',
    'CMA          CmaTotal 0 B, CmaFree 0 B (/proc/meminfo); no CMA area in /sys/kernel/mm/cma',
    'device tree  no /sys/firmware/devicetree/base (a machine described by ACPI, not a device tree)',
    'udmabuf      /dev/udmabuf usable: a memfd can become a dma-buf without a heap',
    '',
    'next: no /dev/dma_heap: the kernel has no DMA-BUF heaps, or the heap modules are not loaded, or this container was started without the nodes; dmaheap doctor says which and what to do',
    '      /dev/udmabuf works here: DmaHeapClient.allocateFor falls back to it (a sealed memfd turned into a dma-buf; not physically contiguous)',
    '      to see what a board would get: dmaheap heaps --backend emulated --board <your.dts> --profile <version>',
  ].join('\n'));
  // a kernel without CMA, udmabuf or sysfs CMA areas: each line says so rather than guessing
  const bare: LinuxHeapsReport = { ...r, cma: { meminfo: null, areas: null }, udmabuf: { present: false, usable: false, sizeLimit: null }, devDmaHeap: 'EACCES', next: [] };
  assert.deepEqual(printLinuxHeaps(bare).split('\n').slice(2, 5), [
    'CMA          no CmaTotal in /proc/meminfo (CONFIG_CMA off); no /sys/kernel/mm/cma',
    'device tree  no /sys/firmware/devicetree/base (a machine described by ACPI, not a device tree)',
    'udmabuf      no /dev/udmabuf (CONFIG_UDMABUF off or the module not loaded)',
  ]);
});

/** A Linux backend over an emulated machine; `available` is what its isAvailable() says. */
function fakeLoader(machine: EmulatedOptions, available: { ok: true } | { ok: false; reason: string }, closed: string[] = []): LinuxLoader {
  return () => Promise.resolve({
    ok: true,
    backend: {
      name: 'linux',
      isAvailable: () => available,
      createTarget: () => createEmulatedTarget(machine),
      createClient: () => {
        const c = new DmaHeapClient(createEmulatedTarget(machine));
        const close = c.close.bind(c);
        c.close = () => {
          closed.push('client');
          return close();
        };
        return c;
      },
    },
  });
}

test('openClient: which machine heaps describes under --backend emulated|linux|auto', async () => {
  const notBuilt: LinuxLoader = () => Promise.resolve({ ok: false, reason: 'linux backend not built' });
  assert.deepEqual(await openClient('emulated', () => assert.fail('the emulated backend never loads the linux one')), { kind: 'emulated', note: null });
  assert.deepEqual(await openClient('auto', notBuilt, 'darwin'), { kind: 'emulated', note: 'this is darwin, not Linux; using the emulated backend' });
  await assert.rejects(openClient('linux', notBuilt, 'darwin'), (e: unknown) => e instanceof BackendError && e.message === '--backend linux: this is darwin, not Linux');
  assert.deepEqual(await openClient('auto', notBuilt, 'linux'), { kind: 'emulated', note: 'linux backend not built; using the emulated backend' });
  await assert.rejects(openClient('linux', notBuilt, 'linux'), (e: unknown) => e instanceof BackendError && e.message === '--backend linux: linux backend not built');

  // heaps this user may open: linux
  const ok = await openClient('auto', fakeLoader({ profile: '6.1' }, { ok: true }), 'linux');
  assert.equal(ok.kind, 'linux');
  if (ok.kind === 'linux') {
    assert.equal(ok.label, 'Linux 6.1.192 (this machine)');
    ok.client.close();
  }
  // heaps listed but not openable: still this machine (the report explains the permission)
  const denied = await openClient('auto', fakeLoader({ profile: '6.1', uid: 1000, gid: 1000 }, { ok: false, reason: 'no heap can be opened' }), 'linux');
  assert.equal(denied.kind, 'linux');
  if (denied.kind === 'linux') denied.client.close();
  // no heap at all: auto falls back with the backend's reason and closes the client; linux stays
  const closed: string[] = [];
  const none = fakeLoader({ heaps: [] }, { ok: false, reason: 'no /dev/dma_heap' }, closed);
  assert.deepEqual(await openClient('auto', none, 'linux'), { kind: 'emulated', note: 'linux backend not available: no /dev/dma_heap; using the emulated backend' });
  assert.deepEqual(closed, ['client']);
  const forced = await openClient('linux', none, 'linux');
  assert.equal(forced.kind, 'linux');
  if (forced.kind === 'linux') forced.client.close();
  // a backend that fails to start
  const broken: LinuxLoader = () => Promise.resolve({
    ok: true,
    backend: { name: 'linux', isAvailable: () => ({ ok: true }), createTarget: () => assert.fail('unused'), createClient: () => { throw new Error('koffi failed to load: x'); } },
  });
  assert.deepEqual(await openClient('auto', broken, 'linux'), { kind: 'emulated', note: 'linux backend failed: koffi failed to load: x; using the emulated backend' });
  await assert.rejects(openClient('linux', broken, 'linux'), (e: unknown) => e instanceof BackendError && e.message === '--backend linux: koffi failed to load: x');
});

test('dmaheap heaps on the command line: emulated output unchanged, emulated-only options refused with --backend linux', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'heaps', ...args], { encoding: 'utf8' });
  const emu = run('--backend', 'emulated', '--profile', '6.1');
  assert.equal(emu.status, 0, emu.stderr);
  assert.equal(emu.stdout, `${printHeaps(bootHeaps({ profile: '6.1', cmdline: 'cma=64M' }, null))}\n`);
  // a machine option selects the emulated backend under auto, without a note
  const board = run('--profile', '6.1', '--json');
  assert.equal(board.status, 0, board.stderr);
  assert.deepEqual(JSON.parse(board.stdout), JSON.parse(JSON.stringify(bootHeaps({ profile: '6.1', cmdline: 'cma=64M' }, null))));
  const usage = "'dmaheap heaps --help' lists its options";
  for (const [args, message, hint] of [
    [['--backend', 'linux', '--board', IMX8MP], '--board applies to the emulated machine; with --backend linux the machine is this one', 'leave out --board to look at this machine, or use --backend emulated'],
    [['--backend', 'linux', '--diff', '6.12', '7.0'], '--diff applies to the emulated machine; with --backend linux the machine is this one', 'leave out --diff to look at this machine, or use --backend emulated'],
    [['--backend', 'linux', '--profile', '6.1'], '--profile applies to the emulated machine; with --backend linux the machine is this one', 'leave out --profile to look at this machine, or use --backend emulated'],
    [['--backend', 'linux', 'system'], "unexpected argument 'system'", usage],
    [['--backend', 'qemu'], "--backend: 'qemu' is not emulated, linux or auto", usage],
    [['--diff', '6.12'], '--diff needs two profiles, e.g. --diff 6.12 7.0', usage],
    [['--diff', '6.12', '7.0', '6.19'], "unexpected argument '6.19'", usage],
    [['--diff', '6.12,7.0', '6.19'], "unexpected argument '6.19'", usage],
    [['--diff', '6.12', '5.4'], "--diff: '5.4' is not a kernel profile", 'the profiles are 5.10, 5.15, 6.1, 6.6, 6.12, 6.17, 6.18, 6.19, 7.0, 7.3'],
    [['--diff', '6.12', '7.0', '--profile', '6.1'], '--profile does not apply with --diff: --diff <v1> <v2> names both kernel versions', usage],
    [['--sanitize'], '--sanitize does not apply to heaps (it is an option of demo, conformance run, run, dashboard)', usage],
    [['--bord', IMX8MP], "unknown option '--bord' (did you mean --board?)", usage],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr, `dmaheap heaps: ${message}\nhint: ${hint}\n`);
    assert.equal(r.stdout, '');
  }
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: dmaheap heaps \[--backend emulated\|linux\|auto\] \[--json\]/);
});
