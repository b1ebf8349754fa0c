// `dmaheap doctor` on emulated machines: the same checks a real machine gets, through the syscall
// target and the host facts (src/apps/common/backend.ts emulatedDoctor), with exact texts for
// EACCES (udev rule, groups), ENOENT, the cma= naming trap, ENOTTY and the kernel configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelVersion, modeString, parseKconfig, printDoctor, runDoctor } from '../../src/apps/cli/doctor.js';
import type { Check, DoctorReport } from '../../src/apps/cli/doctor.js';
import { emulatedDoctor } from '../../src/apps/common/backend.js';
import type { HostFacts } from '../../src/apps/common/backend.js';
import { withBoard } from '../../src/apps/common/machine.js';
import { createEmulatedTarget } from '../../src/backends/emulated/index.js';
import type { EmulatedOptions, EmulatedTarget } from '../../src/backends/emulated/index.js';

const root = new URL('../../../', import.meta.url);
const IMX8MP = new URL('examples/boards/imx8mp.dts', root).pathname;

/** Boots `machine`, lets `setup` change it (udev rules, a broken ioctl), and runs doctor. */
function doctor(machine: EmulatedOptions, setup?: (t: EmulatedTarget) => void, host?: (h: HostFacts) => HostFacts): DoctorReport {
  const t = createEmulatedTarget(machine);
  setup?.(t);
  const d = emulatedDoctor(t);
  try {
    return runDoctor(d.target, host === undefined ? d.host : host(d.host), d.note);
  } finally {
    d.dispose();
  }
}

function check(r: DoctorReport, id: string): Check {
  const c = r.checks.find((x) => x.id === id);
  assert.ok(c !== undefined, `no check ${id}`);
  return c;
}

const UDEV_RELOAD = 'reload the rules and re-apply them to the nodes: sudo udevadm control --reload-rules && sudo udevadm trigger --subsystem-match=dma_heap';
const CGROUP_NOTE = 'mind why distributions do not do this by default: heap memory is not charged to the memory cgroup, so any member can pin memory outside its limits';

test('as root on the default machine every check passes', () => {
  const r = doctor({ cmdline: 'cma=64M' });
  assert.deepEqual(r.checks.map((c) => `${c.id} ${c.status}`), [
    'os ok', 'container ok', 'dev-dma-heap ok', 'heap-access ok', 'kernel-config ok', 'cma-naming ok', 'udmabuf ok', 'alloc-selftest ok', 'accounting ok',
  ]);
  assert.deepEqual(r.counts, { ok: 9, warn: 0, fail: 0 });
  assert.equal(r.user.id, 'uid=0(root) gid=0(root) groups=0(root)');
  assert.equal(check(r, 'dev-dma-heap').summary, '/dev/dma_heap has 3 heaps: system, default_cma_region, reserved');
  assert.deepEqual(check(r, 'alloc-selftest').details, [
    'system              ok: 4 KiB dma-buf (fd 1, closed again)',
    'default_cma_region  ok: 4 KiB dma-buf (fd 1, closed again)',
    'reserved            ok: 4 KiB dma-buf (fd 1, closed again)',
  ]);
  const text = printDoctor(r);
  assert.ok(text.startsWith('dmaheap doctor: the emulated machine (Linux 7.0.0 x86_64, backend emulated), uid=0(root) gid=0(root) groups=0(root)\n\n[ ok ] os              Linux 7.0.0 x86_64 (emulated): DMA-BUF heaps exist since 5.6\n'), text);
  assert.ok(text.endsWith('\n9 ok, 0 warnings, 0 failures'));
});

test('EACCES for a user without access: the nodes, the udev rule, the reload command and the group', () => {
  const r = doctor({ cmdline: 'cma=64M', uid: 1000, gid: 1000 });
  assert.deepEqual(check(r, 'heap-access'), {
    id: 'heap-access',
    status: 'fail',
    summary: 'uid 1000 cannot open any of the 3 heaps (EACCES)',
    details: [
      '/dev/dma_heap/system              crw------- root:root  O_RDONLY EACCES, O_RDWR EACCES',
      '/dev/dma_heap/default_cma_region  crw------- root:root  O_RDONLY EACCES, O_RDWR EACCES',
      '/dev/dma_heap/reserved            crw------- root:root  O_RDONLY EACCES, O_RDWR EACCES',
    ],
    next: [
      'give a group access with a udev rule in /etc/udev/rules.d/72-dma-heap.rules (devtmpfs creates the nodes 0600 root:root):',
      '  SUBSYSTEM=="dma_heap", KERNEL=="system", GROUP="video", MODE="0660"',
      '  SUBSYSTEM=="dma_heap", KERNEL=="default_cma_region", GROUP="video", MODE="0660"',
      '  SUBSYSTEM=="dma_heap", KERNEL=="reserved", GROUP="video", MODE="0660"',
      UDEV_RELOAD,
      'and join the group: sudo usermod -aG video $USER, then log out and back in (id -G must list the video group\'s id, 44)',
      CGROUP_NOTE,
    ],
  });
  assert.equal(check(r, 'alloc-selftest').summary, 'skipped: no heap can be opened (see heap-access)');
  assert.equal(check(r, 'udmabuf').summary, '/dev/udmabuf exists but you cannot open it (EACCES)');
  assert.equal(r.counts.fail, 1);
  const text = printDoctor(r);
  assert.ok(text.includes([
    '[FAIL] heap-access     uid 1000 cannot open any of the 3 heaps (EACCES)',
    '                       /dev/dma_heap/system              crw------- root:root  O_RDONLY EACCES, O_RDWR EACCES',
    '                       /dev/dma_heap/default_cma_region  crw------- root:root  O_RDONLY EACCES, O_RDWR EACCES',
    '                       /dev/dma_heap/reserved            crw------- root:root  O_RDONLY EACCES, O_RDWR EACCES',
    '                       next: give a group access with a udev rule in /etc/udev/rules.d/72-dma-heap.rules (devtmpfs creates the nodes 0600 root:root):',
    '                               SUBSYSTEM=="dma_heap", KERNEL=="system", GROUP="video", MODE="0660"',
  ].join('\n')), text);
});

test('after a udev rule: a group member opens the node; a 0640 node is read-only; a non-member is told to join', () => {
  const rules = (t: EmulatedTarget) => {
    t.kernel.setDevNode('system', { mode: 0o660, gid: 44 });
    t.kernel.setDevNode('reserved', { mode: 0o640, gid: 44 });
  };
  const member = doctor({ cmdline: 'cma=64M', profile: '6.1', uid: 1000, gid: 1000, groups: [1000, 44] }, rules);
  assert.equal(member.user.id, 'uid=1000 gid=1000 groups=1000,44(video)');
  assert.deepEqual(check(member, 'heap-access'), {
    id: 'heap-access',
    status: 'warn',
    summary: 'uid 1000 cannot fully open 1 of 2 heaps',
    details: [
      '/dev/dma_heap/system    crw-rw---- root:video  O_RDONLY ok, O_RDWR ok',
      '/dev/dma_heap/reserved  crw-r----- root:video  O_RDONLY ok, O_RDWR EACCES',
    ],
    next: [
      'reserved: O_RDONLY works (enough for libdmabufheap and dmaheap) but O_RDWR is refused (libcamera opens O_RDWR): make it MODE="0660"',
      'give a group access with a udev rule in /etc/udev/rules.d/72-dma-heap.rules (devtmpfs creates the nodes 0600 root:root):',
      '  SUBSYSTEM=="dma_heap", KERNEL=="reserved", GROUP="video", MODE="0660"',
      UDEV_RELOAD,
      CGROUP_NOTE,
    ],
  });
  // the self-test allocates from both: O_RDONLY is all DMA_HEAP_IOCTL_ALLOC needs
  assert.equal(check(member, 'alloc-selftest').summary, 'DMA_HEAP_IOCTL_ALLOC of 4 KiB: 2 of 2 heaps answered with a buffer');

  const other = doctor({ cmdline: 'cma=64M', profile: '6.1', uid: 1000, gid: 1000 }, rules);
  assert.equal(check(other, 'heap-access').status, 'fail');
  assert.deepEqual(check(other, 'heap-access').next.slice(0, 2), [
    '/dev/dma_heap/system is crw-rw---- root:video: join its group: sudo usermod -aG video $USER, then log out and back in (id -G must list 44)',
    'give a group access with a udev rule in /etc/udev/rules.d/72-dma-heap.rules (devtmpfs creates the nodes 0600 root:root):',
  ]);

  // in /etc/group but not in this login session
  const stale = doctor({ cmdline: 'cma=64M', profile: '6.1', uid: 1000, gid: 1000 }, rules, (h) => ({ ...h, configuredGroups: [1000, 44] }));
  assert.equal(check(stale, 'heap-access').next[0], 'you are in group video in /etc/group, but not in this session: log out and back in (or run: newgrp video); id -G must list 44');
});

test('ENOENT: no /dev/dma_heap when no heap driver is built in, and the kernel configuration says why', () => {
  const r = doctor({ cmdline: 'cma=64M', heaps: [] });
  assert.deepEqual(check(r, 'dev-dma-heap'), {
    id: 'dev-dma-heap',
    status: 'fail',
    summary: '/dev/dma_heap does not exist (ENOENT): every heap open will fail with ENOENT',
    details: ['the kernel has the heaps framework but no heap driver: CONFIG_DMABUF_HEAPS_SYSTEM and CONFIG_DMABUF_HEAPS_CMA are not set (/proc/config.gz)'],
    next: ['use a kernel built with CONFIG_DMABUF_HEAPS_SYSTEM=y (and CONFIG_DMABUF_HEAPS_CMA=y for contiguous memory)'],
  });
  assert.deepEqual(check(r, 'kernel-config'), {
    id: 'kernel-config',
    status: 'warn',
    summary: 'from /proc/config.gz: 2 of 4 heap options not set',
    details: [
      'CONFIG_DMABUF_HEAPS=y               the heaps framework (/dev/dma_heap)',
      'CONFIG_DMABUF_HEAPS_SYSTEM not set  the system heap (page allocator)',
      'CONFIG_DMABUF_HEAPS_CMA not set     CMA heaps (physically contiguous)',
      'CONFIG_CMA=y                        the Contiguous Memory Allocator',
      'CONFIG_DMABUF_SYSFS_STATS not set   per-buffer stats in /sys/kernel/dmabuf (deprecated; gone in 7.0); top/dump use debugfs (root) or fdinfo',
      'CONFIG_UDMABUF=y                    /dev/udmabuf (memfd → dma-buf)',
    ],
    next: ['enable CONFIG_DMABUF_HEAPS_SYSTEM=y, CONFIG_DMABUF_HEAPS_CMA=y for the heaps you need (system: page allocator; CMA: physically contiguous)'],
  });
  assert.equal(check(r, 'heap-access').summary, 'skipped: no heap nodes (see dev-dma-heap)');
});

test('the kernel configuration from /boot/config-<release> when /proc/config.gz is absent; in a container without heaps', () => {
  const boot = '# Linux\n# CONFIG_DMABUF_HEAPS is not set\nCONFIG_CMA=y\nCONFIG_UDMABUF=m\n';
  const r = doctor({ cmdline: 'cma=64M' }, undefined, (h) => ({
    ...h,
    container: ['/.dockerenv'],
    readBytes: (p) => (p === '/boot/config-7.0.0' ? new TextEncoder().encode(boot) : null),
  }));
  const k = check(r, 'kernel-config');
  assert.equal(k.status, 'fail');
  assert.equal(k.summary, 'from /boot/config-7.0.0: 3 of 4 heap options not set');
  assert.equal(k.details[5], 'CONFIG_UDMABUF=m                    /dev/udmabuf (memfd → dma-buf)');
  assert.deepEqual(k.next, [
    'rebuild the kernel with CONFIG_DMABUF_HEAPS=y (Device Drivers → DMABUF options → DMA-BUF Userland Memory Heaps)',
    'and CONFIG_DMABUF_HEAPS_SYSTEM=y, CONFIG_DMABUF_HEAPS_CMA=y for the heaps you need (system: page allocator; CMA: physically contiguous)',
  ]);
  // the emulated machine has heaps, so the container check sees them passed through
  assert.deepEqual(check(r, 'container'), {
    id: 'container', status: 'ok', summary: 'in a container, with heaps passed through', details: ['evidence: /.dockerenv'],
    next: ['the heap nodes keep the host\'s owner and group ids: add the node\'s group with --group-add <gid> (ls -ln /dev/dma_heap on the host)'],
  });

  const none = doctor({ cmdline: 'cma=64M' }, undefined, (h) => ({ ...h, readBytes: () => null }));
  assert.deepEqual(check(none, 'kernel-config'), {
    id: 'kernel-config', status: 'warn', summary: 'the kernel configuration cannot be read',
    details: ['tried /proc/config.gz (absent: CONFIG_IKCONFIG_PROC)', 'tried /boot/config-7.0.0 (absent)'],
    next: ['sudo modprobe configs (CONFIG_IKCONFIG_PROC=m) makes /proc/config.gz appear', 'or check the config the kernel was built from for CONFIG_DMABUF_HEAPS, CONFIG_DMABUF_HEAPS_SYSTEM, CONFIG_DMABUF_HEAPS_CMA, CONFIG_CMA'],
  });
});

test('the cma= naming trap: a command-line area replaces the device tree default region and its heap name', () => {
  const board = (profile: string, cmdline?: string): EmulatedOptions => withBoard({ profile, ...(cmdline !== undefined ? { cmdline, cmdlineGiven: true } : {}) }, IMX8MP);
  const old = check(doctor(board('6.12', 'cma=128M')), 'cma-naming');
  assert.deepEqual(old, {
    id: 'cma-naming',
    status: 'warn',
    summary: 'cma=128M overrides the device tree\'s default CMA region linux,cma: the CMA heap is reserved, not linux,cma',
    details: [
      '/proc/cmdline has cma=128M; the device tree has /reserved-memory/linux,cma with linux,cma-default',
      'Linux ≤ 6.18 bypasses that region ("Reserved memory: bypass linux,cma node, using cmdline CMA params instead"): the command-line area replaces it, and there is no heap named linux,cma',
      'the default CMA heap is the command-line area: reserved (present); from 6.17 it is called default_cma_region',
      'heaps now: system, reserved',
    ],
    next: [
      'code that opens /dev/dma_heap/linux,cma fails with ENOENT: open reserved instead, or try linux,cma, default_cma_region, reserved in turn',
      'or remove cma=128M from the kernel command line (Raspberry Pi OS: /boot/firmware/cmdline.txt) and size the region in the device tree, to get linux,cma back',
      'preview a combination: dmaheap heaps --board <your.dts> --cmdline \'cma=…\' --profile <version>',
    ],
  });
  const nw = check(doctor(board('6.19', 'cma=128M')), 'cma-naming');
  assert.equal(nw.summary, 'cma=128M overrides the device tree\'s default CMA region linux,cma: the CMA heap is default_cma_region / reserved, not linux,cma');
  assert.equal(nw.details[1], 'Linux ≥ 6.19 skips that region entirely ("Skipping dt linux,cma-default for "cma=" kernel param."): its memory is not reserved and there is no heap named linux,cma');
  assert.equal(nw.next[0], 'code that opens /dev/dma_heap/linux,cma fails with ENOENT: open default_cma_region instead, or try linux,cma, default_cma_region, reserved in turn');

  // the board's own bootargs have no cma=: the DT region is the default CMA heap
  assert.deepEqual(check(doctor(board('6.12')), 'cma-naming'), {
    id: 'cma-naming', status: 'ok',
    summary: 'the device tree\'s default CMA region linux,cma is the default CMA heap, named linux,cma',
    details: ['expected: linux,cma (present)', 'heaps now: system, linux,cma', 'adding cma= to the command line would replace it: the heap would be called reserved, and linux,cma would disappear'],
    next: [],
  });
  assert.equal(check(doctor(board('7.0')), 'cma-naming').details[0], 'expected: default_cma_region (present), linux,cma (present)');
});

test('ENOTTY from the allocation self-test: not a dma-heap node', () => {
  const r = doctor({ cmdline: 'cma=64M' }, (t) => {
    t.ioctl = () => ({ ret: -1, errno: 'ENOTTY', out: null });
  });
  assert.deepEqual(check(r, 'alloc-selftest'), {
    id: 'alloc-selftest',
    status: 'fail',
    summary: 'DMA_HEAP_IOCTL_ALLOC of 4 KiB: 0 of 3 heaps answered with a buffer',
    details: [
      'system              ENOTTY: the node does not answer the dma-heap ioctl',
      'default_cma_region  ENOTTY: the node does not answer the dma-heap ioctl',
      'reserved            ENOTTY: the node does not answer the dma-heap ioctl',
    ],
    next: ['ENOTTY means this fd is not a dma-heap: a plain file or another device under that name (check the node\'s major in /proc/devices: dma_heap), /dev/ion on a pre-5.6 kernel, or an ioctl number built for another struct size'],
  });
  const einval = doctor({ cmdline: 'cma=64M' }, (t) => {
    t.ioctl = () => ({ ret: -1, errno: 'EINVAL', out: null });
  });
  assert.equal(check(einval, 'alloc-selftest').details[0], 'system              EINVAL: the kernel rejected the arguments');
});

test('a system that is not Linux stops after the first check', () => {
  const r = doctor({}, undefined, (h) => ({ ...h, platform: 'darwin', label: 'this machine' }));
  assert.deepEqual(r.checks, [{
    id: 'os', status: 'fail', summary: 'not Linux (darwin): DMA-BUF heaps are a Linux kernel interface', details: [],
    next: ['run dmaheap on the Linux machine (board, VM) that has the heaps', 'or explore an emulated machine: dmaheap doctor --backend emulated'],
  }]);
});

test('what the accounting tools see: root reads debugfs; a user on 7.0 has no system-wide list', () => {
  assert.equal(check(doctor({ cmdline: 'cma=64M' }), 'accounting').summary, 'dmaheap top/dump see every process; system-wide buffer list: debugfs bufinfo');
  const user = check(doctor({ cmdline: 'cma=64M', uid: 1000, gid: 1000 }), 'accounting');
  assert.equal(user.status, 'warn');
  // init (pid 1, root's) is refused: its fdinfo directory needs ptrace access, as in Linux
  assert.equal(user.summary, 'dmaheap top/dump see 0 of 1 processes; system-wide buffer list: none (kernel-only share unknown)');
  assert.deepEqual(user.details, [
    '/sys/kernel/debug/dma_buf/bufinfo: EACCES (debugfs is root-only)',
    '/sys/kernel/dmabuf/buffers: ENOENT (CONFIG_DMABUF_SYSFS_STATS, removed in 7.0)',
    '/proc/<pid>/fdinfo readable for 0 of 1 processes with open files',
    'denied: 1 (init)',
  ]);
  assert.equal(check(doctor({ cmdline: 'cma=64M', profile: '6.6', uid: 1000, gid: 1000 }), 'accounting').summary, 'dmaheap top/dump see 0 of 1 processes; system-wide buffer list: sysfs /sys/kernel/dmabuf/buffers');
});

test('helpers: ls modes, kernel versions, Kconfig lines', () => {
  assert.equal(modeString(0o020660), 'crw-rw----');
  assert.equal(modeString(0o100644), '-rw-r--r--');
  assert.equal(modeString(0o040755), 'drwxr-xr-x');
  assert.deepEqual(kernelVersion('6.18.44-fc-v657'), [6, 18]);
  assert.equal(kernelVersion('unknown'), null);
  assert.deepEqual([...parseKconfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\n# comment\n')], [['CONFIG_A', 'y'], ['CONFIG_B', 'n'], ['CONFIG_C', '"x y"']]);
});
