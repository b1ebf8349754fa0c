// The heap-name knowledge base and property inference (src/api/heap-knowledge.ts): what each
// name implies, where every property comes from, and that what a real system could infer agrees
// with what the emulated kernel knows exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulatedBackend } from '../../src/backends/emulated/index.js';
import {
  KNOWN_HEAPS, inferHeapProperties, kernelVersion, lookupHeapName, parseMeminfo, readReservedMemory,
  type HeapProperties, type Inferred, type Platform, type ReservedRegionFact,
} from '../../src/api/heap-knowledge.js';
import { board, liveTreeFs, MiB } from './client-helpers.js';

const show = (p: Inferred<unknown> | null): string => (p === null ? '?' : `${JSON.stringify(p.value)} [${p.source}]`);

/** Names seen in the wild → the entry they hit and what it implies (contiguous, cacheable, protected). */
const SAMPLES: readonly [string, string | null, boolean | null, boolean | null, boolean | null][] = [
  ['system', 'mainline/system', false, true, false],
  ['system_cc_shared', 'mainline/system_cc_shared', false, true, false],
  ['default_cma_region', 'mainline/default_cma_region', true, true, false],
  ['reserved', 'mainline/reserved', true, true, false],
  ['linux,cma', 'mainline/linux,cma', true, true, false],
  ['default-pool', 'mainline/default-pool', true, true, false],
  ['protected,secure-video', 'mainline/protected', null, false, true],
  ['protected,trusted-ui', 'mainline/protected', null, false, true],
  ['protected,secure-video-record', 'mainline/protected', null, false, true],
  ['restricted,secure-video', 'op-tee/restricted', null, false, true],
  ['sdp', 'op-tee/sdp', null, false, true],
  ['coherent_display-carveout@a1000000', 'proposed/coherent', true, false, false],
  ['system-uncached', 'android/system-uncached', false, false, false],
  ['system-dma32', 'rockchip/system-dma32', false, true, false],
  ['system-uncached-dma32', 'rockchip/system-uncached-dma32', false, false, false],
  ['cma', 'rockchip/cma', true, true, false],
  ['cma-uncached', 'rockchip/cma-uncached', true, false, false],
  ['linux,cma-uncached', 'nxp/linux,cma-uncached', true, false, false],
  ['vidbuf_cached', 'raspberry-pi/vidbuf_cached', null, true, false],
  ['qcom,system', 'qualcomm/qcom,system', false, true, false],
  ['qcom,system-uncached', 'qualcomm/qcom,system-uncached', false, false, false],
  ['qcom,secure-pixel', 'qualcomm/qcom,secure', null, false, true],
  ['qcom,secure-non-pixel', 'qualcomm/qcom,secure', null, false, true],
  ['qcom,display', 'qualcomm/qcom', null, null, null],
  ['mtk_mm', 'mediatek/mtk_mm', false, true, false],
  ['mtk_mm-uncached', 'mediatek/mtk_mm-uncached', false, false, false],
  ['mtk_svp_region-aligned', 'mediatek/secure-region', true, false, true],
  ['mtk_prot_region-uncached', 'mediatek/secure-region', true, false, true],
  ['mtk_svp_page-uncached', 'mediatek/secure-page', false, false, true],
  ['mtk_sapu_data_shm-uncached', 'mediatek/secure-page', false, false, true],
  ['vframe-secure', 'google-samsung/secure', null, false, true],
  ['system-secure', 'qualcomm/system-secure', true, false, true],
  ['carveout_edgeai_shared-memories', 'ti/carveout', true, null, false],
  ['carveout', 'allwinner/carveout', true, true, false],
  ['framebuffer@78000000', 'mainline/region', true, null, null],
  ['memory@42000000-cacheable-contiguous', 'mainline/region', true, null, null],
  ['my-heap', null, null, null, null],
];

test('knowledge base: every sample name hits the expected entry, and every entry is covered by a sample', () => {
  for (const [name, id, contiguous, cacheable, prot] of SAMPLES) {
    const k = lookupHeapName(name);
    assert.equal(k?.id ?? null, id, name);
    if (k !== null) assert.deepEqual([k.contiguous, k.cacheable, k.protected], [contiguous, cacheable, prot], name);
  }
  const hit = new Set(SAMPLES.map((s) => s[1]));
  assert.deepEqual(KNOWN_HEAPS.filter((k) => !hit.has(k.id)).map((k) => k.id), []);
  assert.equal(new Set(KNOWN_HEAPS.map((k) => k.id)).size, KNOWN_HEAPS.length, 'ids are unique');
  for (const k of KNOWN_HEAPS) {
    assert.ok(k.history.length > 0 && k.note.length > 0 && k.platforms.length > 0, k.id);
    if (k.upstream) assert.notEqual(k.since, null, `${k.id}: an upstream name says since when`);
  }
  const platforms = new Set<Platform>(KNOWN_HEAPS.flatMap((k) => k.platforms));
  assert.deepEqual([...platforms].sort(), ['allwinner', 'android', 'google-samsung', 'mainline', 'mediatek', 'nxp', 'op-tee', 'qualcomm', 'raspberry-pi', 'rockchip', 'ti']);
  assert.deepEqual(
    KNOWN_HEAPS.filter((k) => k.upstream).map((k) => `${k.pattern} ${k.since}`),
    ['system 5.6', 'system_cc_shared 7.1 (expected)', 'default_cma_region 6.17', 'reserved 5.6', 'linux,cma 5.6', 'default-pool 5.6', 'protected,<use case> 6.18', '<name>@<unit address> 6.19'],
  );
});

test('knowledge base: the vendor names read from kernel code cite it', () => {
  assert.deepEqual(KNOWN_HEAPS.filter((k) => k.source !== undefined).map((k) => k.id), [
    'android/system-uncached', 'qualcomm/qcom,system', 'qualcomm/qcom,system-uncached', 'qualcomm/qcom,secure', 'qualcomm/system-secure', 'qualcomm/qcom', 'mediatek/mtk_mm', 'mediatek/mtk_mm-uncached',
  ]);
  assert.equal(lookupHeapName('qcom,secure-pixel')?.source, 'github.com/aosp-mirror/kernel_msm drivers/dma-buf/heaps/qcom_dma_heap.c @d805c757be67ac7a19ad8de826444366aca04d31 qcom_dma_heap_probe()');
  assert.match(lookupHeapName('system-uncached')?.source ?? '', /^github\.com\/Anything-at-25-00\/android_kernel_common_android12-5\.10 drivers\/dma-buf\/heaps\/system_heap\.c @0d6c2503/);
  for (const k of KNOWN_HEAPS) if (k.source !== undefined) assert.match(k.source, /(github\.com\/[^ ]+ [^ ]+ @[0-9a-f]{40})|(https:\/\/)/, k.id);
});

test('inference from the name alone: the knowledge base first, then the convention property words', () => {
  const a = inferHeapProperties('memory@42000000-uncacheable-contiguous');
  assert.deepEqual([show(a.kind), show(a.contiguous), show(a.cacheable), show(a.protected)], ['?', 'true [name]', 'false [name]', '?']);
  assert.equal(a.cacheable?.reason, "the name says 'uncacheable', 'contiguous' (naming convention)");
  const b = inferHeapProperties('video-uncached');
  assert.equal(b.known, null);
  assert.deepEqual([show(b.contiguous), show(b.cacheable)], ['?', 'false [name]']);
  const c = inferHeapProperties('protected,secure-video');
  assert.deepEqual([show(c.kind), show(c.contiguous), show(c.cacheable), show(c.protected)], ['"protected" [name]', '?', 'false [name]', 'true [name]']);
  assert.equal(c.protected?.reason, 'knowledge base: protected,<use case> (memory the TEE protects from the OS: no CPU access; buffers are registered with the TEE (TEE_IOC_SHM_REGISTER_FD))');
  const d = inferHeapProperties('qcom,display');
  assert.deepEqual([d.known?.id, show(d.contiguous), show(d.cacheable), show(d.protected)], ['qualcomm/qcom', '?', '?', '?']);
});

test('names and kernel versions: the 6.17-6.18 legacy duplicate and the 6.19 per-region twin', () => {
  assert.deepEqual(kernelVersion('6.17.0-rc3'), [6, 17]);
  assert.equal(kernelVersion('unknown'), null);
  const names = ['system', 'default_cma_region', 'linux,cma'];
  const legacy = inferHeapProperties('linux,cma', { release: '6.17.0' }, names);
  assert.deepEqual([show(legacy.legacyAlias), show(legacy.sameMemoryAs)], ['true [name]', '["default_cma_region"] [name]']);
  assert.equal(legacy.legacyAlias?.reason, "on 6.17-6.18 'linux,cma' beside default_cma_region is the legacy duplicate of the default area");
  const main = inferHeapProperties('default_cma_region', { release: '6.18.2' }, names);
  assert.deepEqual([show(main.legacyAlias), show(main.sameMemoryAs)], ['false [name]', '["linux,cma"] [name]']);
  // 6.19: a region's own heap, which the name alone cannot tie to the default area
  const perRegion = inferHeapProperties('linux,cma', { release: '6.19.0' }, names);
  assert.deepEqual([show(perRegion.legacyAlias), show(perRegion.sameMemoryAs)], ['?', '?']);
  // but 'reserved' is the cmdline area, the default one whenever it exists
  const cmdline = inferHeapProperties('reserved', { release: '7.0.0' }, ['system', 'default_cma_region', 'reserved']);
  assert.deepEqual([show(cmdline.legacyAlias), show(cmdline.sameMemoryAs)], ['false [name]', '["default_cma_region"] [name]']);
});

test('/proc/meminfo: CmaTotal and CmaFree become the capacity of the one CMA heap', () => {
  assert.deepEqual(parseMeminfo('MemTotal:        2097152 kB\nCmaTotal:          65536 kB\nCmaFree:           61440 kB\n'), { cmaTotal: 64 * MiB, cmaFree: 60 * MiB });
  assert.equal(parseMeminfo('MemTotal:        2097152 kB\n'), null);
  const meminfo = { cmaTotal: 64 * MiB, cmaFree: 60 * MiB };
  const one = inferHeapProperties('reserved', { meminfo }, ['system', 'reserved']);
  assert.deepEqual([show(one.capacity), show(one.free)], [`${64 * MiB} [meminfo]`, `${60 * MiB} [meminfo]`]);
  // two CMA memories: the totals cannot be split between them
  const two = inferHeapProperties('reserved', { meminfo, release: '6.19.0' }, ['system', 'reserved', 'cma']);
  assert.deepEqual([show(two.capacity), show(two.free)], ['?', '?']);
  // twins count once
  const twins = inferHeapProperties('default_cma_region', { meminfo, release: '6.17.0' }, ['system', 'default_cma_region', 'reserved']);
  assert.equal(show(twins.capacity), `${64 * MiB} [meminfo]`);
});

test('readReservedMemory: the live device tree of the RK3588 board', () => {
  const rm = readReservedMemory(liveTreeFs(board('rk3588')));
  assert.deepEqual(
    rm?.map((r) => `${r.name} base=${r.base === null ? '-' : `0x${r.base.toString(16)}`} size=${r.size === null ? '-' : r.size / MiB}M ${r.compatible.join('+') || '-'}${r.reusable ? ' reusable' : ''}${r.nomap ? ' no-map' : ''}${r.cmaDefault ? ' default' : ''}`),
    [
      'atf@0 base=0x0 size=2M - no-map',
      'cma@10000000 base=0x10000000 size=256M shared-dma-pool reusable',
      'isp@20000000 base=0x20000000 size=128M shared-dma-pool reusable',
      'linux,cma base=- size=128M shared-dma-pool reusable default',
      'npu@28000000 base=0x28000000 size=64M shared-dma-pool reusable',
      'optee@8400000 base=0x8400000 size=32M - no-map',
      'optee_sdp@c000000 base=0xc000000 size=64M - no-map',
    ],
  );
  assert.equal(readReservedMemory({ list: () => null, read: () => null }), null);
});

test('every property says where it came from: the RK3588 board on 6.19 without the exact facts', () => {
  const tree = board('rk3588');
  const client = emulatedBackend.createClient({ profile: '6.19', board: tree });
  const heaps = client.heaps({ exact: false, facts: { reservedMemory: readReservedMemory(liveTreeFs(tree)) } });
  const row = (name: string): string[] => {
    const p = heaps.find((h) => h.name === name)!.properties;
    return [show(p.kind), show(p.contiguous), show(p.cacheable), show(p.protected), show(p.capacity), show(p.sameMemoryAs)];
  };
  assert.deepEqual(heaps.map((h) => h.name), ['system', 'default_cma_region', 'linux,cma', 'cma@10000000', 'isp@20000000', 'npu@28000000', 'protected,secure-video']);
  assert.deepEqual(row('system'), ['"system" [name]', 'false [name]', 'true [name]', 'false [name]', '?', '?']);
  assert.deepEqual(row('default_cma_region'), ['"cma" [device-tree]', 'true [device-tree]', 'true [device-tree]', 'false [device-tree]', `${128 * MiB} [device-tree]`, '["linux,cma"] [sysfs]']);
  assert.deepEqual(row('isp@20000000'), ['"cma" [device-tree]', 'true [device-tree]', 'true [device-tree]', 'false [device-tree]', `${128 * MiB} [device-tree]`, '?']);
  assert.deepEqual(row('protected,secure-video'), ['"protected" [name]', '?', 'false [name]', 'true [name]', '?', '?']);
  const isp = heaps.find((h) => h.name === 'isp@20000000')!.properties;
  assert.equal(isp.region?.reason, 'named after /reserved-memory/isp@20000000');
  assert.equal(isp.kind?.reason, '/reserved-memory/isp@20000000 is a reusable shared-dma-pool (CMA: ordinary memory, mapped cacheable)');
  // with the exact facts (the default on the emulated backend) every property is exact
  const exact = client.heaps().find((h) => h.name === 'isp@20000000')!.properties;
  assert.deepEqual([show(exact.contiguous), show(exact.capacity), show(exact.free)], ['true [exact]', `${128 * MiB} [exact]`, `${128 * MiB} [exact]`]);
  client.close();
});

test('what a real system can infer never contradicts what the emulated kernel knows (every board, four profiles)', () => {
  const checked = new Map<string, number>();
  for (const name of ['rpi5', 'imx8mp', 'rk3588', 'am62x', 'x86-pc']) {
    const tree = board(name);
    const reservedMemory = readReservedMemory(liveTreeFs(tree));
    for (const profile of ['6.12', '6.17', '6.19', '7.0']) {
      const style = profile < '6.19' ? 'v3' : 'prefixed';
      const client = emulatedBackend.createClient({ profile, board: tree, features: { coherentHeap: style } });
      const exact = new Map(client.heaps().map((h) => [h.name, h.properties]));
      for (const h of client.heaps({ exact: false, facts: { reservedMemory } })) {
        const truth = exact.get(h.name)!;
        for (const key of ['kind', 'contiguous', 'cacheable', 'protected', 'capacity'] as const) {
          const got = h.properties[key] as Inferred<unknown> | null;
          if (got === null) continue;
          assert.deepEqual(got.value, (truth[key] as Inferred<unknown>).value, `${name} ${profile} ${h.name} ${key}: ${got.reason}`);
          checked.set(got.source, (checked.get(got.source) ?? 0) + 1);
        }
        const twins = (p: HeapProperties): string[] => [...(p.sameMemoryAs?.value ?? [])].sort();
        if (h.properties.sameMemoryAs !== null) assert.deepEqual(twins(h.properties), twins(truth), `${name} ${profile} ${h.name} twins`);
      }
      client.close();
    }
  }
  // the device tree, the CMA areas and the names all took part (meminfo is only the fallback
  // when /sys/kernel/mm/cma cannot be listed)
  assert.deepEqual(Object.fromEntries([...checked].sort()), { 'device-tree': 195, name: 86, sysfs: 70 });
});

test('docs/client.md lists every knowledge-base entry as the table row the code implies', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../../docs/client.md', import.meta.url), 'utf8');
  const yn = (b: boolean | null): string => (b === null ? '?' : b ? 'yes' : 'no');
  const rows = KNOWN_HEAPS.map(
    (k) => `| \`${k.pattern.replaceAll('|', '\\|')}\` | ${k.kind ?? '?'} | ${yn(k.contiguous)} | ${yn(k.cacheable)} | ${yn(k.protected)} | ${k.since ?? '—'} | ${k.platforms.join(', ')} |`,
  );
  const lines = doc.split('\n');
  const start = lines.indexOf('| Name | Kind | Contiguous | Cacheable | Protected | Mainline since | Seen on |');
  assert.ok(start > 0, 'the knowledge-base table is in docs/client.md');
  const end = lines.indexOf('', start);
  assert.deepEqual(lines.slice(start + 2, end), rows);
});

test('device-tree facts for vendor carve-outs (TI): carveout_<node>, with or without the unit address', () => {
  const region = (name: string, base: number, size: number): ReservedRegionFact => ({ name, path: `/reserved-memory/${name}`, base, size, compatible: [], reusable: false, nomap: true, cmaDefault: false });
  const reservedMemory = [region('edgeai_shared-memories@a3000000', 0xa3000000, 0x2000000), region('ai-share-memory@a7000000', 0xa7000000, 0x800000)];
  const names = ['system', 'linux,cma', 'carveout_edgeai_shared-memories', 'carveout_ai-share-memory@a7000000'];
  const a = inferHeapProperties('carveout_edgeai_shared-memories', { reservedMemory }, names);
  assert.deepEqual([show(a.kind), show(a.contiguous), show(a.capacity), show(a.cacheable)], ['"carveout" [device-tree]', 'true [device-tree]', `${32 * MiB} [device-tree]`, '?']);
  assert.equal(a.region?.reason, 'carveout_ + /reserved-memory/edgeai_shared-memories@a3000000 without its unit address');
  assert.equal(a.kind?.reason, '/reserved-memory/edgeai_shared-memories@a3000000 is one physical range (no-map: no struct pages)');
  const b = inferHeapProperties('carveout_ai-share-memory@a7000000', { reservedMemory }, names);
  assert.deepEqual([b.region?.value.base, b.region?.reason, b.known?.id], [0xa7000000, 'carveout_ + /reserved-memory/ai-share-memory@a7000000', 'ti/carveout']);
});
