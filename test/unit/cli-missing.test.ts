// `dmaheap heaps` says which heap a machine asks for and does not get, why (from the boot log)
// and what to do; `dmaheap lint-names --fail-on changeable` fails only on the names a board
// can change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootHeaps, lintReport, printHeaps, printLint } from '../../src/apps/cli/heaps.js';
import { runCaptured } from './cli-helpers.js';
import { withBoard } from '../../src/apps/common/machine.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';

const root = (p: string) => new URL(`../../../${p}`, import.meta.url).pathname;

function boot(machine: EmulatedOptions, board?: string) {
  return bootHeaps(board === undefined ? machine : withBoard({ ...machine, cmdlineGiven: machine.cmdline !== undefined }, root(board)), board ?? null);
}

/** The "Missing" section of the text. */
function missingSection(text: string): string[] {
  const lines = text.split('\n');
  const at = lines.indexOf('Missing (asked for, but the kernel made no heap):');
  if (at < 0) return [];
  const end = lines.indexOf('', at);
  return lines.slice(at, end < 0 ? undefined : end);
}

/** stdout and stderr as one text, as a terminal shows them. */
async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const r = await runCaptured(...argv);
  return { code: r.code, out: [r.out, r.err].filter((x) => x !== '').join('\n') };
}

test('cma= that does not fit, is misaligned, lies beyond RAM or finds no room: the heap is missing, with the log and what to do', () => {
  // the default 2 GiB QEMU pc: RAM ends at 0x7ffe0000, and cma_declare_contiguous_nid() aligns
  // the limit down to the emulated build's 2 MiB pageblock: 0x7fe00000. The 6.1 referee (4 MiB
  // pageblocks: no THP, no hugetlbfs) prints "exceeds limit (0x000000007fc00000)" with
  // ORACLE_CMA=4G, as the emulator does with its .config (kconfig-file.test.ts)
  const big = boot({ cmdline: 'cma=4G' });
  assert.deepEqual(big.heaps.map((h) => h.name), ['system']);
  assert.deepEqual(big.missing, [{
    names: ['default_cma_region', 'reserved'],
    wanted: 'cma=4G (the command line)',
    reason: '4 GiB does not fit below 0x7fe00000 (2.0 GiB: the end of RAM, or of the memory CMA may use)',
    log: ['cma: Size (0x0000000100000000) of region at 0x0000000000000000 exceeds limit (0x000000007fe00000)', 'cma: Failed to reserve 4096 MiB on node -1'],
    next: 'ask for less (a CMA area usually takes at most a quarter of RAM), or give the machine more RAM (--ram)',
  }]);
  const text = printHeaps(big);
  assert.deepEqual(missingSection(text), [
    'Missing (asked for, but the kernel made no heap):',
    '  default_cma_region and reserved: asked for by cma=4G (the command line)',
    '    why:  4 GiB does not fit below 0x7fe00000 (2.0 GiB: the end of RAM, or of the memory CMA may use)',
    '          cma: Size (0x0000000100000000) of region at 0x0000000000000000 exceeds limit (0x000000007fe00000)',
    '          cma: Failed to reserve 4096 MiB on node -1',
    '    next: ask for less (a CMA area usually takes at most a quarter of RAM), or give the machine more RAM (--ram)',
  ]);
  // no longer the advice to add cma=64M: the user asked for an area
  assert.doesNotMatch(text, /Only the system heap/);

  const m = (cmdline: string, extra: EmulatedOptions = {}) => boot({ cmdline, ...extra }).missing.map((x) => [x.names.join(' and '), x.reason, x.next]);
  assert.deepEqual(m('cma=64M@0x1001', { profile: '6.12' }), [['reserved', 'its base 0x1001 is not aligned to 2 MiB (the CMA area alignment)', 'use a base aligned to 2 MiB, e.g. cma=64M@0x200000']]);
  assert.deepEqual(m('cma=64M@0x200000000'), [['default_cma_region and reserved', '64 MiB at 0x200000000 lies beyond 0x7fe00000, the end of RAM (or of the memory CMA may use)', 'place it below 0x7fe00000 (cma=64M@<base> with base + size ≤ 0x7fe00000), or leave out @base']]);
  // one bank of 64 MiB (--loader none): the area fits below the end of RAM, but the kernel's 16 MiB leave no room
  assert.deepEqual(m('cma=64M', { ramBytes: 64 << 20, loader: { preset: 'none' } }), [['default_cma_region and reserved', 'no free 64 MiB range in RAM (64 MiB) besides the kernel and the other reservations', 'ask for less, or give the machine more RAM (--ram)']]);
  // a 64 MiB QEMU pc (the default): RAM ends 128 KiB short of 64 MiB, at 0x3fe0000, and the limit aligns down to 0x3e00000
  assert.deepEqual(m('cma=64M', { ramBytes: 64 << 20 }), [['default_cma_region and reserved', '64 MiB does not fit below 0x3e00000 (62 MiB: the end of RAM, or of the memory CMA may use)', 'ask for less (a CMA area usually takes at most a quarter of RAM), or give the machine more RAM (--ram)']]);
  assert.deepEqual(m('cma=junk', { profile: '6.6' }), [['reserved', 'the kernel cannot read "junk" as a size: it takes it as cma=0, no area', 'write cma=<size>[@<base>[-<limit>]] with a K, M or G suffix, e.g. cma=64M']]);
  // asked for nothing, or got it: nothing missing
  assert.deepEqual(m('cma=0'), []);
  assert.deepEqual(m('cma=64M'), []);
  assert.deepEqual(m(''), []);
});

test('a board: cma= replaces the default region; per-region CMA heaps need 6.19, TEE heaps 6.18', () => {
  const imx = boot({ profile: '6.12', cmdline: 'cma=128M' }, 'examples/boards/imx8mp.dts');
  assert.deepEqual(missingSection(printHeaps(imx)), [
    'Missing (asked for, but the kernel made no heap):',
    '  linux,cma: asked for by /reserved-memory/linux,cma (a reusable shared-dma-pool, linux,cma-default, 640 MiB)',
    '    why:  cma=128M on the command line replaces the device tree\'s default CMA region; the default CMA heap is the command-line area',
    '          Reserved memory: bypass linux,cma node, using cmdline CMA params instead',
    '          OF: reserved mem: node linux,cma compatible matching fail',
    '          linux,cma (0x00000000d8000000--0x0000000100000000) overlaps with cma-video (0x00000000f0000000--0x0000000100000000)',
    '    next: to get linux,cma back, remove cma= from the command line (the board\'s bootargs, or --cmdline); code that opens /dev/dma_heap/linux,cma should fall back to default_cma_region, then reserved (dmaheap doctor explains the cma= naming)',
    '  cma-video: asked for by /reserved-memory/cma-video (a reusable shared-dma-pool, 256 MiB)',
    '    why:  Linux 6.12.118 makes a CMA heap only for the default CMA area; per-region CMA heaps arrive in 6.19 (the region is a CMA area for the devices that name it in memory-region)',
    '    next: see its heap with --profile 6.19; on an older kernel, make it the default region (linux,cma-default) or give it a vendor heap driver',
    '  framebuffer@78000000: asked for by /reserved-memory/framebuffer@78000000 (a reusable shared-dma-pool, 32 MiB)',
    '    why:  Linux 6.12.118 makes a CMA heap only for the default CMA area; per-region CMA heaps arrive in 6.19 (the region is a CMA area for the devices that name it in memory-region)',
    '    next: see its heap with --profile 6.19; on an older kernel, make it the default region (linux,cma-default) or give it a vendor heap driver',
  ]);
  // 6.19: the region is skipped entirely; default_cma_region exists (the command-line area), linux,cma does not
  const six19 = boot({ profile: '6.19', cmdline: 'cma=128M' }, 'examples/boards/imx8mp.dts');
  assert.deepEqual(six19.missing.map((x) => [x.names, x.reason]), [[['linux,cma'], 'cma=128M on the command line replaces the device tree\'s default CMA region (the region is not even reserved); the default CMA heap is the command-line area']]);
  // the board as shipped, on 6.19: everything it asks for is there
  assert.deepEqual(boot({ profile: '6.19' }, 'examples/boards/imx8mp.dts').missing, []);
  assert.deepEqual(boot({ profile: '6.19' }, 'examples/boards/rk3588.dts').missing, []);
  const rk = boot({ profile: '6.12' }, 'examples/boards/rk3588.dts').missing;
  assert.deepEqual(rk.map((x) => x.names.join()), ['cma@10000000', 'isp@20000000', 'npu@28000000', 'protected,secure-video']);
  assert.deepEqual(rk[3], { names: ['protected,secure-video'], wanted: '/firmware/optee memory-region 0 (/reserved-memory/optee_sdp@c000000, secure-video)', reason: 'Linux 6.12.118 has no TEE protected heaps; they arrive in 6.18', log: [], next: 'see it with --profile 6.18 or later' });
  // a non-reusable pool asks for a heap only with the coherent heap (a proposal) switched on
  assert.deepEqual(boot({ profile: '6.19' }, 'examples/boards/am62x.dts').missing, []);
});

test('regions the kernel refuses: the reason, its log lines and the fix; a disabled region asks for nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-missing-'));
  try {
    const dts = join(dir, 'bad.dts');
    writeFileSync(dts, `/dts-v1/;
/ {
  #address-cells = <2>; #size-cells = <2>;
  compatible = "acme,board";
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x40000000>; };
  reserved-memory {
    #address-cells = <2>; #size-cells = <2>; ranges;
    huge { compatible = "shared-dma-pool"; reusable; size = <0x1 0x0>; };
    badreg@0 { compatible = "shared-dma-pool"; reusable; reg = <0x0>; };
    pool@50000000 { compatible = "shared-dma-pool"; reg = <0x0 0x50000000 0x0 0x100000>; };
    off { compatible = "shared-dma-pool"; reusable; size = <0x0 0x100000>; status = "disabled"; };
  };
};
`);
    const r = bootHeaps(withBoard({ profile: '6.19', features: { coherentHeap: 'v3' } }, dts), dts);
    assert.deepEqual(r.heaps.map((h) => h.name), ['system', 'pool@50000000']);
    assert.deepEqual(r.missing, [
      {
        names: ['huge'], wanted: '/reserved-memory/huge (a reusable shared-dma-pool, 4 GiB)', reason: 'the kernel refused the region: ENOMEM: no free range fits',
        log: ["OF: reserved mem: failed to allocate memory for node 'huge': size 4096 MiB"],
        next: 'make the region smaller, give it an alloc-ranges or reg where RAM is free, or give the board more RAM (its /memory node)',
      },
      {
        names: ['badreg@0'], wanted: '/reserved-memory/badreg@0 (a reusable shared-dma-pool)', reason: 'the kernel refused the region: invalid reg property',
        log: ["OF: reserved mem: Reserved memory: invalid reg property in 'badreg@0', skipping node."],
        next: 'fix its reg: /reserved-memory\'s #address-cells and #size-cells say how many cells each number takes, and the range must lie in RAM',
      },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dmaheap heaps prints the missing heaps in text and JSON', async () => {
  const t = await cli('heaps', '--cmdline', 'cma=4G');
  assert.equal(t.code, 0);
  assert.match(t.out, /\nMissing \(asked for, but the kernel made no heap\):\n {2}default_cma_region and reserved: asked for by cma=4G \(the command line\)\n/);
  const j = await cli('heaps', '--cmdline', 'cma=4G', '--json');
  assert.deepEqual((JSON.parse(j.out) as { missing: { names: string[] }[] }).missing.map((x) => x.names), [['default_cma_region', 'reserved']]);
});

test('lint-names: each name says who chose it; --fail-on changeable fails only on device-tree names', async () => {
  const r = boot({ profile: '6.19' }, 'examples/boards/imx8mp.dts');
  const any = lintReport(r);
  assert.deepEqual(any.heaps.map((h) => [h.name, h.namedBy, h.changeable, h.ok, h.fails]), [
    ['system', 'kernel', false, true, false],
    ['default_cma_region', 'kernel', false, false, true],
    ['linux,cma', 'device-tree', true, false, true],
    ['cma-video', 'device-tree', true, false, true],
    ['framebuffer@78000000', 'device-tree', true, true, false],
  ]);
  assert.deepEqual([any.passed, any.failed, any.reported], [2, 3, 0]);
  const lines = (s: string) => s.split('\n').filter((l) => !l.startsWith('  '));
  assert.deepEqual(lines(printLint(any)), [
    'Heap names on examples/boards/imx8mp.dts, Linux 6.19.0 (profile 6.19):',
    'ok    system  [named by the kernel: the system heap]',
    'FAIL  default_cma_region  [named by the kernel: the default CMA heap, so named since 6.17]',
    'FAIL  linux,cma  → suggest "memory@d8000000-contiguous"  [named by the device tree: node /reserved-memory/linux,cma]',
    'FAIL  cma-video  → suggest "video@c8000000"  [named by the device tree: node /reserved-memory/cma-video]',
    'ok    framebuffer@78000000  [named by the device tree: node /reserved-memory/framebuffer@78000000]',
    '2 passed, 3 failed (1 of them fixed by the kernel: --fail-on changeable fails only on names the board can change)',
  ]);
  const changeable = lintReport(r, 'changeable');
  assert.deepEqual([changeable.passed, changeable.failed, changeable.reported], [2, 2, 1]);
  assert.deepEqual(lines(printLint(changeable)).slice(2, 3).concat(lines(printLint(changeable)).slice(-1)), [
    'fixed default_cma_region  [named by the kernel: the default CMA heap, so named since 6.17]',
    '2 passed, 2 failed, 1 fixed by the kernel (reported, not failed: --fail-on changeable)',
  ]);

  // the exit status: a board whose own names pass gates its CI even though the kernel's fail
  const imx = root('examples/boards/imx8mp.dts');
  assert.equal((await cli('lint-names', '--board', imx, '--profile', '6.19')).code, 1);
  assert.equal((await cli('lint-names', '--board', imx, '--profile', '6.19', '--fail-on', 'changeable')).code, 1);
  assert.equal((await cli('lint-names', '--profile', '6.19')).code, 1); // default_cma_region and reserved: the kernel's
  const plain = await cli('lint-names', '--profile', '6.19', '--fail-on', 'changeable', '--json');
  assert.equal(plain.code, 0);
  const j = JSON.parse(plain.out) as { failOn: string; passed: number; failed: number; reported: number; heaps: { name: string; namedBy: string; detail: string; fails: boolean; ok: boolean }[] };
  assert.deepEqual([j.failOn, j.passed, j.failed, j.reported], ['changeable', 1, 0, 2]);
  assert.deepEqual(j.heaps.map((h) => [h.name, h.namedBy, h.detail, h.ok, h.fails]), [
    ['system', 'kernel', 'the system heap', true, false],
    ['default_cma_region', 'kernel', 'the default CMA heap, so named since 6.17', false, false],
    ['reserved', 'kernel', 'the command-line/Kconfig CMA area', false, false],
  ]);
  // 6.17: linux,cma is the legacy duplicate (the kernel's), TEE heaps on 6.19 are the kernel's too
  assert.deepEqual(lintReport(boot({ profile: '6.17' }, 'examples/boards/imx8mp.dts'), 'changeable').heaps.map((h) => [h.name, h.namedBy]), [['system', 'kernel'], ['default_cma_region', 'kernel'], ['linux,cma', 'kernel']]);
  assert.deepEqual(lintReport(boot({ profile: '6.19' }, 'examples/boards/rk3588.dts')).heaps.filter((h) => h.name.startsWith('protected')).map((h) => [h.name, h.namedBy, h.detail]), [['protected,secure-video', 'kernel', 'a TEE protected heap, named after its use case']]);
});
