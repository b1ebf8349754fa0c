// The dmem cgroup controller (kernel/cgroup/dmem.c, v6.14+: our 6.17+ profiles) and the proposed
// dmem charging of the CMA heaps (2026 dmem series v2: a `cma/<area>` region per CMA area) and
// the coherent heap (`coh/<region>`), gated by dma_heap.mem_accounting; the adversarial case
// "a process allocates a whole region and keeps it", bounded by dmem.max. Exact values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelConfig } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { loadBoard } from '../../src/boards/index.js';
import { Errno } from '../../src/uapi/errno.js';
import { writeText as write } from './kernel-helpers.js';

const K = 1024;
const M = 1024 * 1024;
const O_RDONLY = 0;
const O_RDWR = 2;
const CG = '/sys/fs/cgroup';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));


function read(k: Kernel, proc: Process, path: string): string | number {
  return k.readFile(proc, path);
}

/** DMA_HEAP_IOCTL_ALLOC of `len` bytes from /dev/dma_heap/<heap>: the new fd, or the negated errno. */
function alloc(p: Process, heap: string, len: number): number {
  const h = p.open(`/dev/dma_heap/${heap}`, O_RDONLY);
  assert.ok(h >= 0, `open ${heap}: ${h}`);
  const arg = p.userAlloc(24);
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint32(12, O_RDWR, true);
  p.mm.copyToUser(arg, b);
  const ret = p.ioctl(h, 0xc0184800, arg);
  const out = p.mm.copyFromUser(arg, 24)!;
  p.close(h);
  p.munmap(arg, 24);
  return ret < 0 ? ret : new DataView(out.buffer).getUint32(8, true);
}

const DMEM = { profile: '7.0', cmdline: 'cma=64M dma_heap.mem_accounting=1', features: { dmemCharging: true } } as const satisfies KernelConfig;

/** A kernel with an admin in the root cgroup and processes moved into CG/<name> with memory and dmem on. */
function setup(config: KernelConfig, names: string[]): { k: Kernel; admin: Process; procs: Process[] } {
  const k = new Kernel(config);
  const admin = k.spawn();
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+memory +dmem'), 13);
  const procs = names.map((name) => {
    const p = k.spawn();
    assert.equal(admin.mkdir(`${CG}/${name}`, 0o755), 0);
    assert.equal(write(admin, `${CG}/${name}/cgroup.procs`, String(p.pid)), String(p.pid).length);
    return p;
  });
  return { k, admin, procs };
}

test('dmem exists from v6.14: the 6.17+ profiles list it after memory; older ones have memory alone', () => {
  for (const profile of ['6.1', '6.6', '6.12'] as const) {
    const k = new Kernel({ profile });
    assert.equal(read(k, k.init, `${CG}/cgroup.controllers`), 'memory\n', profile);
    assert.deepEqual(k.readdir(CG)?.sort(), ['cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control'], profile);
    assert.equal(write(k.init, `${CG}/cgroup.subtree_control`, '+dmem'), -Errno.EINVAL, profile);
  }
  for (const profile of ['6.17', '6.18', '6.19', '7.0'] as const) {
    const k = new Kernel({ profile, cmdline: 'cma=64M' });
    const admin = k.spawn();
    assert.equal(read(k, admin, `${CG}/cgroup.controllers`), 'memory dmem\n', profile);
    assert.deepEqual(k.readdir(CG)?.sort(), ['cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control', 'dmem.capacity', 'dmem.current'], profile);
    // without the proposal nothing registers a region on these machines
    assert.equal(read(k, admin, `${CG}/dmem.capacity`), '', profile);
    assert.equal(read(k, admin, `${CG}/dmem.current`), '', profile);
    assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+dmem'), 5);
    assert.equal(read(k, admin, `${CG}/cgroup.subtree_control`), 'dmem\n');
    assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+memory'), 7);
    assert.equal(read(k, admin, `${CG}/cgroup.subtree_control`), 'memory dmem\n', 'printed in subsystem order');
    assert.equal(admin.mkdir(`${CG}/a`, 0o755), 0);
    assert.deepEqual(k.readdir(`${CG}/a`)?.sort(), [
      'cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control', 'dmem.current', 'dmem.low', 'dmem.max', 'dmem.min', 'memory.current', 'memory.max', 'memory.peak',
    ]);
    // dmem.capacity is CFTYPE_ONLY_ON_ROOT, min/low/max CFTYPE_NOT_ON_ROOT
    assert.equal(read(k, admin, `${CG}/a/dmem.capacity`), -Errno.ENOENT);
    assert.equal(read(k, admin, `${CG}/dmem.max`), -Errno.ENOENT);
    assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '-dmem'), 5);
    assert.deepEqual(k.readdir(`${CG}/a`)?.sort(), ['cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control', 'memory.current', 'memory.max', 'memory.peak']);
  }
});

test('regions: cma/<area> per CMA area at boot (whatever mem_accounting says), coh/<region> per coherent heap', () => {
  const k = new Kernel({ profile: '7.0', cmdline: 'cma=64M', features: { dmemCharging: true } });
  assert.equal(read(k, k.init, `${CG}/dmem.capacity`), 'cma/reserved 67108864\n');
  assert.equal(read(k, k.init, `${CG}/dmem.current`), 'cma/reserved 0\n');
  assert.equal(read(k, k.init, '/sys/module/dma_heap/parameters/mem_accounting'), 'N\n');
  // the flag on 6.17 brings 7.0's mem_accounting parameter with it (the series is based on it)
  const old = new Kernel({ profile: '6.17', cmdline: 'cma=64M dma_heap.mem_accounting=1', features: { dmemCharging: true } });
  assert.equal(read(old, old.init, '/sys/module/dma_heap/parameters/mem_accounting'), 'Y\n');
  assert.equal(read(new Kernel({ profile: '6.17' }), old.init, '/sys/module/dma_heap/parameters/mem_accounting'), -Errno.ENOENT);
  // a board: one CMA area and two non-reusable shared-dma-pool regions (the coherent heap's)
  const board = loadBoard(`${ROOT}examples/boards/am62x.dts`);
  assert.ok(!('error' in board));
  const kb = new Kernel({ profile: '7.0', board: board.tree, features: { dmemCharging: true, coherentHeap: 'prefixed' } });
  assert.equal(read(kb, kb.init, `${CG}/dmem.capacity`), 'cma/linux,cma 33554432\ncoh/r5f-dma-memory@9c800000 1048576\ncoh/display-carveout@a1000000 16777216\n');
  // without the dmem controller (6.12) the flag has nothing to register with
  const k612 = new Kernel({ profile: '6.12', cmdline: 'cma=64M', features: { dmemCharging: true } });
  assert.equal(k612.dmem, null);
});

test('CMA heap: size bytes charged to the allocating task\'s dmem pool and every ancestor\'s, uncharged at release', () => {
  const { k, admin, procs } = setup(DMEM, ['app']);
  const [app] = procs as [Process];
  const fd = alloc(app, 'default_cma_region', 1 * M + 1);
  assert.ok(fd >= 0);
  assert.equal(read(k, admin, `${CG}/app/dmem.current`), `cma/reserved ${1 * M + 4 * K}\n`, 'PAGE_ALIGN(len)');
  assert.equal(read(k, admin, `${CG}/dmem.current`), `cma/reserved ${1 * M + 4 * K}\n`, 'the root pool is charged too');
  // the system heap is not a dmem user; the memcg is not charged for CMA buffers
  assert.ok(alloc(app, 'system', 1 * M) >= 0);
  assert.equal(read(k, admin, `${CG}/app/dmem.current`), `cma/reserved ${1 * M + 4 * K}\n`);
  assert.equal(read(k, admin, `${CG}/app/memory.current`), `${1 * M}\n`, 'system heap: __GFP_ACCOUNT pages');
  // the region of the 7.0 per-region heap of the same area is the same one
  const fd2 = alloc(app, 'reserved', 64 * K);
  assert.ok(fd2 >= 0);
  assert.equal(read(k, admin, `${CG}/app/dmem.current`), `cma/reserved ${1 * M + 68 * K}\n`);
  // an fd passed on does not move the charge; the last reference uncharges where it was charged
  const other = k.spawn();
  assert.ok(app.sendFd(fd, other) >= 0);
  assert.equal(app.close(fd), 0);
  assert.equal(read(k, admin, `${CG}/app/dmem.current`), `cma/reserved ${1 * M + 68 * K}\n`);
  other.exit();
  assert.equal(read(k, admin, `${CG}/app/dmem.current`), `cma/reserved ${64 * K}\n`);
  app.exit();
  assert.equal(read(k, admin, `${CG}/app/dmem.current`), 'cma/reserved 0\n');
  assert.equal(read(k, admin, `${CG}/dmem.current`), 'cma/reserved 0\n');
});

test('CMA heap: without dma_heap.mem_accounting nothing is charged; a root-cgroup task charges the root pool', () => {
  const off = setup({ ...DMEM, cmdline: 'cma=64M' }, ['app']);
  assert.ok(alloc(off.procs[0]!, 'default_cma_region', 1 * M) >= 0);
  assert.equal(read(off.k, off.admin, `${CG}/app/dmem.current`), 'cma/reserved 0\n');
  assert.equal(read(off.k, off.admin, `${CG}/dmem.current`), 'cma/reserved 0\n');
  const k = new Kernel(DMEM);
  const p = k.spawn();
  assert.ok(alloc(p, 'default_cma_region', 2 * M) >= 0);
  assert.equal(read(k, p, `${CG}/dmem.current`), `cma/reserved ${2 * M}\n`);
});

test('6.17: default_cma_region and its legacy duplicate share one region (one area)', () => {
  const { k, admin, procs } = setup({ ...DMEM, profile: '6.17' }, ['app']);
  const app = procs[0]!;
  assert.deepEqual(k.heaps().map((h) => h.name), ['system', 'default_cma_region', 'reserved']);
  assert.equal(read(k, admin, `${CG}/dmem.capacity`), 'cma/reserved 67108864\n');
  assert.equal(write(admin, `${CG}/app/dmem.max`, 'cma/reserved 3M'), 15);
  assert.ok(alloc(app, 'default_cma_region', 2 * M) >= 0);
  assert.equal(alloc(app, 'reserved', 2 * M), -Errno.EAGAIN, 'the duplicate counts against the same limit');
  assert.ok(alloc(app, 'reserved', 1 * M) >= 0);
  assert.equal(read(k, admin, `${CG}/app/dmem.current`), `cma/reserved ${3 * M}\n`);
});

test('adversarial: a process that would take the whole CMA region is bounded by dmem.max (EAGAIN); another cgroup still allocates', () => {
  // without a limit: the hog takes all 64 MiB and keeps it; nobody else gets CMA memory
  const free = setup(DMEM, ['hog', 'victim']);
  const [hog0, victim0] = free.procs as [Process, Process];
  let n = 0;
  while (alloc(hog0, 'default_cma_region', 4 * M) >= 0) n++;
  assert.equal(n, 16);
  assert.equal(alloc(victim0, 'default_cma_region', 4 * K), -Errno.ENOMEM);
  assert.equal(read(free.k, free.admin, `${CG}/hog/dmem.current`), `cma/reserved ${64 * M}\n`);

  // with dmem.max = 16M on the hog's cgroup
  const { k, admin, procs } = setup(DMEM, ['hog', 'victim']);
  const [hog, victim] = procs as [Process, Process];
  assert.equal(write(admin, `${CG}/hog/dmem.max`, 'cma/reserved 16M'), 16);
  assert.equal(read(k, admin, `${CG}/hog/dmem.max`), `cma/reserved ${16 * M}\n`);
  const held: number[] = [];
  for (let i = 0; i < 4; i++) held.push(alloc(hog, 'default_cma_region', 4 * M));
  assert.ok(held.every((fd) => fd >= 0));
  assert.equal(alloc(hog, 'default_cma_region', 4 * M), -Errno.EAGAIN, 'the charge fails before cma_alloc: -EAGAIN as the posted series returns it');
  assert.equal(alloc(hog, 'default_cma_region', 4 * K), -Errno.EAGAIN);
  assert.equal(read(k, admin, `${CG}/hog/dmem.current`), `cma/reserved ${16 * M}\n`);
  assert.equal(k.defaultCma!.used, (16 * M) / 4096, 'nothing was taken from the area by the refused calls');
  // the rest of the region is there for everybody else
  for (let i = 0; i < 12; i++) assert.ok(alloc(victim, 'default_cma_region', 4 * M) >= 0);
  assert.equal(read(k, admin, `${CG}/victim/dmem.current`), `cma/reserved ${48 * M}\n`);
  // the region is now physically full: a charge that fits the limit fails in cma_alloc (ENOMEM)
  assert.equal(hog.close(held[0]!), 0);
  assert.equal(alloc(victim, 'default_cma_region', 8 * M), -Errno.ENOMEM);
  assert.equal(read(k, admin, `${CG}/victim/dmem.current`), `cma/reserved ${48 * M}\n`, 'uncharged after the failed cma_alloc');
  assert.ok(alloc(hog, 'default_cma_region', 4 * M) >= 0, 'freeing brings the hog back under its limit');
  assert.equal(read(k, admin, `${CG}/dmem.current`), `cma/reserved ${64 * M}\n`);
});

test('dmem.max/min/low: parsing, "max", memparse sizes, unknown regions, and a max below usage that changes nothing', () => {
  const { k, admin, procs } = setup(DMEM, ['a']);
  const f = `${CG}/a/dmem.max`;
  assert.equal(read(k, admin, f), 'cma/reserved max\n');
  assert.equal(read(k, admin, `${CG}/a/dmem.min`), 'cma/reserved 0\n');
  assert.equal(write(admin, f, 'cma/reserved'), -Errno.EINVAL, 'no value');
  assert.equal(write(admin, f, 'cma/reserved '), -Errno.EINVAL, 'stripped to no value');
  assert.equal(write(admin, f, 'nope 1M'), -Errno.EINVAL, 'unknown region');
  assert.equal(write(admin, f, 'cma/reserved  1M'), -Errno.EINVAL, 'a second blank is part of the value');
  assert.equal(write(admin, f, 'cma/reserved 1Q'), -Errno.EINVAL);
  assert.equal(write(admin, f, 'cma/reserved -1'), -Errno.EINVAL);
  assert.equal(write(admin, f, '  cma/reserved\t0x100000\n'), 24);
  assert.equal(read(k, admin, f), `cma/reserved ${1 * M}\n`);
  assert.equal(write(admin, f, 'cma/reserved 2k'), 15);
  assert.equal(read(k, admin, f), 'cma/reserved 2048\n', 'bytes: not rounded to pages');
  assert.equal(write(admin, f, 'cma/reserved 18446744073709551615'), 33);
  assert.equal(read(k, admin, f), 'cma/reserved max\n', 'at or above PAGE_COUNTER_MAX');
  assert.equal(write(admin, `${CG}/a/dmem.min`, 'cma/reserved 8M'), 15);
  assert.equal(write(admin, `${CG}/a/dmem.low`, 'cma/reserved 010'), 16);
  assert.equal(read(k, admin, `${CG}/a/dmem.min`), `cma/reserved ${8 * M}\n`);
  assert.equal(read(k, admin, `${CG}/a/dmem.low`), 'cma/reserved 8\n', 'octal');
  assert.equal(write(admin, `${CG}/a/dmem.current`, 'cma/reserved 1M'), -Errno.EINVAL, 'read-only file: root opens it, the write fails');
  // page_counter_set_max() refuses a limit below the usage (EBUSY); dmem ignores that result
  assert.ok(alloc(procs[0]!, 'default_cma_region', 4 * M) >= 0);
  assert.equal(write(admin, f, 'cma/reserved 1M'), 15);
  assert.equal(read(k, admin, f), 'cma/reserved max\n');
  assert.equal(write(admin, f, 'cma/reserved 4M'), 15);
  assert.equal(read(k, admin, f), `cma/reserved ${4 * M}\n`);
  assert.equal(alloc(procs[0]!, 'default_cma_region', 4 * K), -Errno.EAGAIN);
});

test('hierarchy: an ancestor\'s dmem.max bounds its descendants; disabling dmem resets the child\'s limits and keeps its charges', () => {
  const k = new Kernel(DMEM);
  const admin = k.spawn();
  const p = k.spawn();
  assert.equal(write(admin, `${CG}/cgroup.subtree_control`, '+dmem'), 5);
  assert.equal(admin.mkdir(`${CG}/a`, 0o755), 0);
  assert.equal(write(admin, `${CG}/a/cgroup.subtree_control`, '+dmem'), 5);
  assert.equal(admin.mkdir(`${CG}/a/b`, 0o755), 0);
  assert.equal(write(admin, `${CG}/a/cgroup.procs`, String(p.pid)), -Errno.EBUSY, 'no internal processes');
  assert.equal(write(admin, `${CG}/a/b/cgroup.procs`, String(p.pid)), String(p.pid).length);
  assert.equal(write(admin, `${CG}/a/dmem.max`, 'cma/reserved 6M'), 15);
  assert.ok(alloc(p, 'default_cma_region', 4 * M) >= 0);
  assert.equal(alloc(p, 'default_cma_region', 4 * M), -Errno.EAGAIN);
  assert.equal(read(k, admin, `${CG}/a/b/dmem.current`), `cma/reserved ${4 * M}\n`);
  assert.equal(read(k, admin, `${CG}/a/dmem.current`), `cma/reserved ${4 * M}\n`);
  assert.equal(write(admin, `${CG}/a/b/dmem.max`, 'cma/reserved 5M'), 15);
  assert.equal(write(admin, `${CG}/a/dmem.max`, 'max'), -Errno.EINVAL, 'the region name is required');
  assert.equal(write(admin, `${CG}/a/dmem.max`, 'cma/reserved max'), 16);
  assert.equal(alloc(p, 'default_cma_region', 2 * M), -Errno.EAGAIN, 'b\'s own limit now');
  // -dmem on a: b's css goes offline (limits reset), new charges go to a's pool
  assert.equal(write(admin, `${CG}/a/cgroup.subtree_control`, '-dmem'), 5);
  assert.ok(alloc(p, 'default_cma_region', 2 * M) >= 0);
  assert.equal(read(k, admin, `${CG}/a/dmem.current`), `cma/reserved ${6 * M}\n`);
  p.exit();
  assert.equal(read(k, admin, `${CG}/a/dmem.current`), 'cma/reserved 0\n', 'the offline pool uncharged through its parents');
  assert.equal(read(k, admin, `${CG}/dmem.current`), 'cma/reserved 0\n');
});

test('coherent heap: coh/<region> charged like CMA; the pool being full is ENOMEM, the limit EAGAIN', () => {
  const board = loadBoard(`${ROOT}examples/boards/am62x.dts`);
  assert.ok(!('error' in board));
  const { k, admin, procs } = setup({ profile: '7.0', board: board.tree, cmdline: 'dma_heap.mem_accounting=1', features: { dmemCharging: true, coherentHeap: 'prefixed' } }, ['gfx']);
  const gfx = procs[0]!;
  const heap = 'coherent_display-carveout@a1000000';
  assert.equal(write(admin, `${CG}/gfx/dmem.max`, 'coh/display-carveout@a1000000 8M'), 32);
  assert.ok(alloc(gfx, heap, 4 * M) >= 0);
  assert.ok(alloc(gfx, heap, 4 * M) >= 0);
  assert.equal(alloc(gfx, heap, 4 * K), -Errno.EAGAIN);
  assert.equal(read(k, admin, `${CG}/gfx/dmem.current`), `cma/linux,cma 0\ncoh/r5f-dma-memory@9c800000 0\ncoh/display-carveout@a1000000 ${8 * M}\n`);
  const other = k.spawn();
  assert.ok(alloc(other, heap, 8 * M) >= 0);
  assert.equal(alloc(other, heap, 4 * K), -Errno.ENOMEM, 'the 16 MiB pool is full: no fallback');
  assert.equal(read(k, admin, `${CG}/dmem.current`), `cma/linux,cma 0\ncoh/r5f-dma-memory@9c800000 0\ncoh/display-carveout@a1000000 ${16 * M}\n`);
});
