import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintHeapNames, RULES, suggestName } from '../../src/api/naming.js';
import type { HeapFacts, HeapRegionFacts, RuleId, Verdict } from '../../src/api/naming.js';

// ---- facts ------------------------------------------------------------------------------------

function region(o: Partial<HeapRegionFacts>): HeapRegionFacts {
  return { nodeName: null, path: null, base: null, size: null, reusable: true, nomap: false, ...o };
}
/** A device-tree reserved-memory region. */
function dt(nodeName: string, base: number | null, o: Partial<HeapRegionFacts> = {}): HeapRegionFacts {
  return region({ nodeName, path: `/reserved-memory/${nodeName}`, base, size: 0x4000000, ...o });
}
function cma(name: string, r: HeapRegionFacts | null, o: Partial<HeapFacts> = {}): HeapFacts {
  return { name, kind: 'cma', region: r, contiguous: true, cacheable: true, protected: false, ...o };
}
function sys(name: string, o: Partial<HeapFacts> = {}): HeapFacts {
  return { name, kind: 'system', region: null, contiguous: false, cacheable: true, protected: false, ...o };
}
function tee(name: string, usage: string | null): HeapFacts {
  return { name, kind: 'protected', region: null, contiguous: false, cacheable: false, protected: true, usage };
}

const SYSTEM = sys('system');
const LINUX_CMA = dt('linux,cma', 0x30000000);
const CMDLINE_AREA = region({ base: 0xf0000000, size: 0x10000000 });
const LONG_NODE = `${'a'.repeat(20)}-${'b'.repeat(20)}-${'c'.repeat(20)}@7000000`;

const EXAMPLES: Record<string, HeapFacts[]> = {
  system: [SYSTEM],
  'linux,cma': [cma('linux,cma', LINUX_CMA)],
  default_cma_region: [cma('default_cma_region', LINUX_CMA)],
  reserved: [cma('reserved', CMDLINE_AREA)],
  'cma-video': [cma('cma-video', dt('video@42000000', 0x42000000), { usage: 'video' })],
  vpu_cma: [cma('vpu_cma', dt('vpu_cma', 0x50000000), { usage: 'video' })],
  'framebuffer@78000000': [cma('framebuffer@78000000', dt('framebuffer@78000000', 0x78000000), { usage: 'framebuffer' })],
  'a/b': [{ ...SYSTEM, name: 'a/b', kind: 'other' }],
  'x%s': [{ ...SYSTEM, name: 'x%s', kind: 'other' }],
  duplicates: [
    cma('video', dt('video@42000000', 0x42000000), { usage: 'video' }),
    cma('video', dt('video@50000000', 0x50000000), { usage: 'video' }),
  ],
  'memory@42000000-cacheable-uncacheable': [cma('memory@42000000-cacheable-uncacheable', dt('memory@42000000', 0x42000000))],
  'protected,secure-video': [tee('protected,secure-video', 'secure-video')],
  'long CMA name': [cma(LONG_NODE, dt(LONG_NODE, 0x7000000))],
};

// ---- expected messages ------------------------------------------------------------------------

const CMA_WORD = "'cma' names the Contiguous Memory Allocator, an implementation detail: the heap driver can change, the name must not";
const NO_REGION_FACTS = 'not checked: no region facts (node name, path or base) are known for this heap';
const LONG_BUFNAME = "longer than 31 characters: buffer names taken from the heap name (DMA_BUF_SET_NAME, as Android's libdmabufheap does) are cut to 31";
const usageInfo = (words: string): string => `says what the memory is for (${words}): optional, and it helps user space pick the heap`;
const TEE_INFO = "'protected,<use>' is mainline's TEE heap form (6.18): it was challenged in 2025 review for naming a use case rather than a memory region, and kept";

function one(heaps: HeapFacts[], opts?: { previous?: readonly string[] }): Verdict {
  const v = lintHeapNames(heaps, opts);
  assert.equal(v.length, heaps.length);
  return v[0]!;
}

// ---- the examples -----------------------------------------------------------------------------

test('system: fine', () => {
  assert.deepEqual(one(EXAMPLES.system!), { name: 'system', ok: true, findings: [], suggestion: null });
});

test('linux,cma: N3 warning with the device-tree remark; suggestion from the static base, none when the region is dynamic', () => {
  const message = `${CMA_WORD}; the name is the device-tree node name ('linux,cma' is a long-standing device-tree convention for the default CMA node), so changing it means renaming the node, which renames the heap (N2)`;
  assert.deepEqual(one(EXAMPLES['linux,cma']!), {
    name: 'linux,cma',
    ok: false,
    findings: [{ rule: 'N3', severity: 'warning', message }],
    suggestion: 'memory@30000000-contiguous',
  });
  const dynamic = one([cma('linux,cma', dt('linux,cma', null))]);
  assert.deepEqual(dynamic, { name: 'linux,cma', ok: false, findings: [{ rule: 'N3', severity: 'warning', message }], suggestion: null });
});

test("default_cma_region: N3 warning noting it is mainline's own choice; no rename suggested", () => {
  assert.deepEqual(one(EXAMPLES.default_cma_region!), {
    name: 'default_cma_region',
    ok: false,
    findings: [
      {
        rule: 'N3',
        severity: 'warning',
        message: `${CMA_WORD}; mainline chose this name itself in 6.17, in the same period as the convention, so it arguably breaks this rule, but it is the kernel's fixed name: keep using it`,
      },
    ],
    suggestion: null,
  });
});

test('reserved (cmdline area): N4 warning, the kernel label says nothing about which memory', () => {
  const label = "'reserved' is the kernel's label for the command-line/Kconfig CMA area (mainline's choice, not yours): it says that memory is reserved, not which memory";
  assert.deepEqual(one(EXAMPLES.reserved!), {
    name: 'reserved',
    ok: false,
    findings: [{ rule: 'N4', severity: 'warning', message: `${label}; the area is at 0xf0000000 (a unit address is stable only when its placement is fixed, cma=size@base)` }],
    suggestion: null,
  });
  assert.deepEqual(one([cma('reserved', region({}))]).findings, [{ rule: 'N4', severity: 'warning', message: `${label}; nothing known about the area identifies it` }]);
});

test("cma-video: the kernel document's bad example; N3 + N4, suggestion video@42000000", () => {
  assert.deepEqual(one(EXAMPLES['cma-video']!), {
    name: 'cma-video',
    ok: false,
    findings: [
      { rule: 'N3', severity: 'warning', message: CMA_WORD },
      { rule: 'N4', severity: 'warning', message: "does not identify its memory region: include the unit address @42000000 or the device-tree node name 'video@42000000'" },
      { rule: 'N7', severity: 'info', message: usageInfo("'video'") },
    ],
    suggestion: 'video@42000000',
  });
});

test('vpu_cma: N3 on a node name; the region users give the usage for the suggestion', () => {
  assert.deepEqual(one(EXAMPLES.vpu_cma!), {
    name: 'vpu_cma',
    ok: false,
    findings: [
      { rule: 'N3', severity: 'warning', message: `${CMA_WORD}; the name is the device-tree node name, so changing it means renaming the node, which renames the heap (N2)` },
      { rule: 'N7', severity: 'info', message: usageInfo("'vpu'") },
      { rule: 'N7', severity: 'info', message: "the region's users suggest the usage 'video'" },
    ],
    suggestion: 'video@50000000',
  });
});

test('framebuffer@78000000: good (usage + unit address matching the base)', () => {
  const h = EXAMPLES['framebuffer@78000000']![0]!;
  assert.deepEqual(one([h]), {
    name: 'framebuffer@78000000',
    ok: true,
    findings: [{ rule: 'N7', severity: 'info', message: usageInfo("'framebuffer'") }],
    suggestion: null,
  });
  assert.equal(suggestName(h), 'framebuffer@78000000');
});

test("N6: 'a/b' and 'x%s' are errors", () => {
  assert.deepEqual(one(EXAMPLES['a/b']!), {
    name: 'a/b',
    ok: false,
    findings: [
      { rule: 'N4', severity: 'info', message: NO_REGION_FACTS },
      { rule: 'N6', severity: 'error', message: "contains '/': the name becomes the path /dev/dma_heap/<name>, and a directory separator puts the node somewhere else" },
    ],
    suggestion: null,
  });
  assert.deepEqual(one(EXAMPLES['x%s']!), {
    name: 'x%s',
    ok: false,
    findings: [
      { rule: 'N4', severity: 'info', message: NO_REGION_FACTS },
      { rule: 'N6', severity: 'error', message: "contains '%': the kernel passes the heap name to device_create() as a printf-style format, so '%' sequences are expanded" },
    ],
    suggestion: null,
  });
});

test('N1: a duplicate pair is an error on both; each gets its own region-based suggestion', () => {
  const dup = "'video' is used by 2 heaps on this system: the kernel refuses a second heap with the same name (EEXIST or EINVAL), so only one of them would appear";
  assert.deepEqual(lintHeapNames(EXAMPLES.duplicates!), [
    {
      name: 'video',
      ok: false,
      findings: [
        { rule: 'N1', severity: 'error', message: dup },
        { rule: 'N4', severity: 'warning', message: "does not identify its memory region: include the unit address @42000000 or the device-tree node name 'video@42000000'" },
        { rule: 'N7', severity: 'info', message: usageInfo("'video'") },
      ],
      suggestion: 'video@42000000',
    },
    {
      name: 'video',
      ok: false,
      findings: [
        { rule: 'N1', severity: 'error', message: dup },
        { rule: 'N4', severity: 'warning', message: "does not identify its memory region: include the unit address @50000000 or the device-tree node name 'video@50000000'" },
        { rule: 'N7', severity: 'info', message: usageInfo("'video'") },
      ],
      suggestion: 'video@50000000',
    },
  ]);
  assert.deepEqual(one([{ ...SYSTEM, name: '' }]).findings, [{ rule: 'N1', severity: 'error', message: 'empty name: a heap needs a name to become /dev/dma_heap/<name>' }]);
});

test('N2: 6.16 → 6.17 without the legacy alias is a rename (warning)', () => {
  const v = lintHeapNames([SYSTEM, cma('default_cma_region', LINUX_CMA)], { previous: ['system', 'linux,cma'] });
  assert.deepEqual(v[0], { name: 'system', ok: true, findings: [], suggestion: null });
  assert.deepEqual(v[1]!.findings[0], {
    rule: 'N2',
    severity: 'warning',
    message: "renamed: this region was 'linux,cma' on the previous kernel, and user space that opens /dev/dma_heap/linux,cma breaks; keep the old name as a compatibility alias (as 6.17-6.18 did with DMABUF_HEAPS_CMA_LEGACY)",
  });
  assert.deepEqual(v[1]!.findings.map((f) => f.rule), ['N2', 'N3']);
});

test('N2: 6.16 → 6.17 with the legacy alias keeps the old name (info only on the rename; the alias is ok)', () => {
  const v = lintHeapNames([SYSTEM, cma('default_cma_region', LINUX_CMA), cma('linux,cma', LINUX_CMA, { legacyAlias: true })], { previous: ['system', 'linux,cma'] });
  assert.deepEqual(v[1]!.findings.slice(0, 2), [
    { rule: 'N1', severity: 'info', message: "same memory as 'linux,cma': two names over one region, and allocations from either come out of the same area" },
    { rule: 'N2', severity: 'info', message: "renamed from 'linux,cma'; the old name stays available as a compatibility alias" },
  ]);
  assert.deepEqual(v[2], {
    name: 'linux,cma',
    ok: true,
    findings: [
      { rule: 'N1', severity: 'info', message: "same memory as 'default_cma_region': two names over one region, and allocations from either come out of the same area" },
      {
        rule: 'N2',
        severity: 'info',
        message: "compatibility alias: the kernel keeps this old name beside 'default_cma_region' as a separate device node over the same memory (user space cannot tell they are one area); prefer the new name",
      },
      { rule: 'N3', severity: 'info', message: `${CMA_WORD}; this is an old name kept only for compatibility` },
    ],
    suggestion: null,
  });
});

test('N2: a per-region heap renamed by its unit address; a cmdline area that was reserved', () => {
  const fb = dt('display@78000000', 0x78000000);
  const v = one([cma('display@78000000', fb, { usage: 'display' })], { previous: ['framebuffer@78000000'] });
  assert.deepEqual(v.findings[0], {
    rule: 'N2',
    severity: 'warning',
    message: "renamed: this region was 'framebuffer@78000000' on the previous kernel, and user space that opens /dev/dma_heap/framebuffer@78000000 breaks; keep the old name as a compatibility alias (as 6.17-6.18 did with DMABUF_HEAPS_CMA_LEGACY)",
  });
  assert.equal(v.ok, false);
  // 6.19 on a cmdline board: default_cma_region and reserved over one area, nothing renamed
  const w = lintHeapNames([SYSTEM, cma('default_cma_region', CMDLINE_AREA), cma('reserved', CMDLINE_AREA)], { previous: ['system', 'reserved'] });
  assert.ok(w.every((x) => x.findings.every((f) => f.rule !== 'N2')));
  // no previous names: N2 is not checked
  assert.ok(one([cma('display@78000000', fb)]).ok);
});

test('N5: cacheable + uncacheable is an error; the suggestion follows the merged document (memory@<base>-contiguous)', () => {
  assert.deepEqual(one(EXAMPLES['memory@42000000-cacheable-uncacheable']!), {
    name: 'memory@42000000-cacheable-uncacheable',
    ok: false,
    findings: [
      { rule: 'N5', severity: 'error', message: 'says both cacheable and uncacheable: a heap cannot be both' },
      { rule: 'N6', severity: 'info', message: LONG_BUFNAME },
    ],
    suggestion: 'memory@42000000-contiguous',
  });
});

test('N5: words that contradict the facts, synonyms, missing protected', () => {
  assert.deepEqual(one([sys('system-contiguous')]).findings, [
    { rule: 'N5', severity: 'warning', message: "says contiguous, but the heap's buffers are not physically contiguous (the system heap gathers scattered pages)" },
  ]);
  assert.deepEqual(one([cma('memory@42000000-uncacheable', dt('memory@42000000', 0x42000000))]).findings, [
    { rule: 'N5', severity: 'warning', message: "says uncacheable, but the heap's buffers are CPU-cacheable" },
  ]);
  assert.deepEqual(one([cma('memory@42000000-protected', dt('memory@42000000', 0x42000000))]).findings, [
    { rule: 'N5', severity: 'warning', message: 'says protected, but the OS can access this memory' },
  ]);
  assert.deepEqual(one([sys('system-uncached', { cacheable: false })]), {
    name: 'system-uncached',
    ok: false,
    findings: [{ rule: 'N5', severity: 'warning', message: "'uncached' is not in the property vocabulary (cacheable, uncacheable, contiguous, protected): write 'uncacheable'" }],
    suggestion: 'system-uncacheable',
  });
  assert.equal(one([sys('system-uncached-dma32', { cacheable: false })]).suggestion, 'system-uncacheable-dma32');
  const sdp = one([tee('sdp', 'secure-video')]);
  assert.equal(sdp.ok, true);
  assert.deepEqual(sdp.findings[1], { rule: 'N5', severity: 'info', message: "protected memory, but the name does not say 'protected' (optional; it tells user space the CPU cannot touch these buffers)" });
  const restricted = one([tee('restricted,secure-video', 'secure-video')]);
  assert.equal(restricted.ok, false);
  assert.equal(restricted.suggestion, 'protected,secure-video');
  assert.match(restricted.findings.find((f) => f.rule === 'N5')!.message, /^'restricted' is not in the property vocabulary .*write 'protected'/);
});

test('protected,secure-video: ok, with the 2025 challenge as info', () => {
  assert.deepEqual(one(EXAMPLES['protected,secure-video']!), {
    name: 'protected,secure-video',
    ok: true,
    findings: [{ rule: 'N7', severity: 'info', message: TEE_INFO }],
    suggestion: null,
  });
  for (const n of ['protected,trusted-ui', 'protected,secure-video-record']) assert.ok(one([tee(n, null)]).ok, n);
});

test('N6: a 70-character CMA area name is cut to 63', () => {
  assert.equal(LONG_NODE.length, 70);
  assert.deepEqual(one(EXAMPLES['long CMA name']!), {
    name: LONG_NODE,
    ok: false,
    findings: [
      { rule: 'N6', severity: 'error', message: `70 characters: CMA area names are cut to 63, so this heap would register as '${LONG_NODE.slice(0, 63)}'` },
      { rule: 'N6', severity: 'info', message: LONG_BUFNAME },
    ],
    suggestion: 'memory@7000000-contiguous',
  });
  // 63 is fine; a non-CMA heap may be longer
  assert.ok(one([cma('m'.repeat(63), dt('m'.repeat(63), null))]).ok);
  assert.ok(one([{ ...cma('m'.repeat(70), dt('m'.repeat(70), null)), kind: 'coherent' }]).ok);
});

test('N6: non-printable, non-ASCII, space, dot names', () => {
  const f = (name: string): string[] => one([{ ...SYSTEM, name, kind: 'other' }]).findings.filter((x) => x.rule === 'N6').map((x) => `${x.severity}: ${x.message}`);
  assert.deepEqual(f('vid\u00e9o'), ['error: contains U+00E9, which is not printable ASCII: device names must be printable ASCII']);
  assert.deepEqual(f('a\tb'), ['error: contains U+0009, which is not printable ASCII: device names must be printable ASCII']);
  assert.deepEqual(f('my heap'), ['warning: contains a space: legal, but every shell use of /dev/dma_heap/<name> needs quoting']);
  assert.deepEqual(f('..'), ["error: '..' is a path component of its own: /dev/dma_heap/.. cannot be a device node"]);
});

test('N3: every allocator word, as tokens only', () => {
  const words = (name: string): string[] =>
    one([{ ...SYSTEM, name, kind: 'other' }])
      .findings.filter((f) => f.rule === 'N3')
      .map((f) => f.message.slice(1, f.message.indexOf("'", 1)));
  assert.deepEqual(words('cma0-ion-carveout_chunk.genalloc,buddy@1-vmalloc'), ['cma0', 'ion', 'carveout', 'chunk', 'genalloc', 'buddy', 'vmalloc']);
  assert.deepEqual(words('dma_alloc-dma-alloc-page_pool-gen_pool'), ['dma_alloc', 'dma-alloc', 'page_pool', 'gen_pool']);
  assert.deepEqual(words('cmake-lion-default-pool-dma32'), []);
});

test('N4: unit address must match the base; node names and global pools identify; no facts is only info', () => {
  assert.deepEqual(one([cma('memory@42000000', dt('x@50000000', 0x50000000))]).findings, [
    { rule: 'N4', severity: 'warning', message: 'unit address @42000000 does not match the region base 0x50000000: the name points at other memory' },
  ]);
  assert.ok(one([cma('default-pool', dt('default-pool', null))]).ok);
  assert.ok(one([cma('linux,cma-contiguous', dt('linux,cma', null))]).findings.every((f) => f.rule !== 'N4'));
  assert.ok(one([sys('system_cc_shared')]).ok);
  assert.ok(one([sys('system-dma32')]).ok);
  assert.deepEqual(one([cma('memory', region({}))]).findings, [{ rule: 'N4', severity: 'warning', message: 'only generic words: the name does not say which memory the heap allocates from' }]);
  assert.deepEqual(one([cma('video@42000000', null)]).findings.filter((f) => f.rule === 'N4'), [{ rule: 'N4', severity: 'info', message: 'unit address @42000000 not verified: the region base is unknown' }]);
  // 'system' on a CMA heap is not the system pool
  assert.equal(one([cma('system', LINUX_CMA)]).findings[0]!.rule, 'N4');
});

test("N5/N7: 'coherent' and usage words are information only", () => {
  const v = one([{ name: 'coherent_dsp@9a000000', kind: 'coherent', region: dt('dsp@9a000000', 0x9a000000, { reusable: false }), contiguous: true, cacheable: true, protected: false }]);
  assert.equal(v.ok, true);
  assert.deepEqual(v.findings.map((f) => `${f.rule} ${f.severity}`), ['N5 info', 'N7 info']);
  assert.equal(v.findings[1]!.message, usageInfo("'dsp'"));
});

test('suggestions: follow the document; protected forms; kernel-fixed names get none', () => {
  const r = dt('memory@42000000', 0x42000000);
  assert.equal(suggestName(cma('x', r)), 'memory@42000000-contiguous');
  assert.equal(suggestName(cma('x', r, { usage: 'video' })), 'video@42000000');
  assert.equal(suggestName(cma('x', r, { cacheable: false })), 'memory@42000000-uncacheable-contiguous');
  assert.equal(suggestName(cma('x', r, { usage: 'Video Capture' })), 'video-capture@42000000');
  assert.equal(suggestName(cma('x', r, { usage: 'cma video' })), 'video@42000000');
  assert.equal(suggestName({ ...cma('x', r, { usage: 'secure-video' }), kind: 'protected', protected: true }), 'secure-video@42000000-protected');
  assert.equal(suggestName({ ...cma('x', r), kind: 'protected', protected: true }), 'memory@42000000-contiguous-protected');
  assert.equal(suggestName(tee('x', 'secure-video')), 'protected,secure-video');
  assert.equal(suggestName(SYSTEM), 'system');
  assert.equal(suggestName(sys('system_cc_shared')), 'system_cc_shared');
  assert.equal(suggestName(cma('x', dt('framebuffer', null))), 'framebuffer');
  assert.equal(suggestName(cma('reserved', region({}))), 'default_cma_region');
  // a suggestion never takes a name another heap already has
  assert.equal(lintHeapNames([cma('cma-video', r, { usage: 'video' }), cma('video@42000000', dt('y', 0x42000000), { usage: 'video' })])[0]!.suggestion, null);
});

test('every non-null suggestion passes every rule, and ok names get none', () => {
  const all = Object.values(EXAMPLES).flat();
  const extra = [sys('system-uncached', { cacheable: false }), sys('system-uncached-dma32', { cacheable: false }), tee('restricted,secure-video', 'secure-video')];
  let seen = 0;
  for (const h of [...all, ...extra]) {
    const [v] = lintHeapNames([h]);
    if (v!.ok) assert.equal(v!.suggestion, null, h.name);
    if (v!.suggestion === null) continue;
    seen++;
    const again = lintHeapNames([{ ...h, name: v!.suggestion }])[0]!;
    assert.ok(again.ok, `${h.name} → ${v!.suggestion}: ${JSON.stringify(again.findings)}`);
    assert.equal(again.suggestion, null);
  }
  assert.ok(seen >= 8, `only ${seen} suggestions checked`);
});

test('a 6.19 device-tree board: default_cma_region and linux,cma share the region, no rename since 6.16', () => {
  const heaps = [SYSTEM, cma('default_cma_region', LINUX_CMA), cma('linux,cma', LINUX_CMA), EXAMPLES['framebuffer@78000000']![0]!, tee('protected,secure-video', 'secure-video')];
  const v = lintHeapNames(heaps, { previous: ['system', 'linux,cma'] });
  assert.deepEqual(v.map((x) => [x.name, x.ok, x.suggestion]), [
    ['system', true, null],
    ['default_cma_region', false, null],
    ['linux,cma', false, 'memory@30000000-contiguous'],
    ['framebuffer@78000000', true, null],
    ['protected,secure-video', true, null],
  ]);
  assert.ok(v.every((x) => x.findings.every((f) => f.rule !== 'N2')));
  assert.deepEqual(v[1]!.findings.map((f) => `${f.rule} ${f.severity}`), ['N1 info', 'N3 warning']);
});

test('deterministic, input order kept, input not modified', () => {
  const heaps = Object.values(EXAMPLES).flat();
  const copy = structuredClone(heaps);
  const a = lintHeapNames(heaps, { previous: ['linux,cma'] });
  const b = lintHeapNames(heaps, { previous: ['linux,cma'] });
  assert.deepEqual(a, b);
  assert.deepEqual(heaps, copy);
  assert.deepEqual(a.map((v) => v.name), heaps.map((h) => h.name));
  assert.ok(a.every((v) => v.ok === v.findings.every((f) => f.severity === 'info')));
});

test('RULES: N1–N7 with a title and a text', () => {
  const ids: RuleId[] = ['N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7'];
  assert.deepEqual(Object.keys(RULES), ids);
  for (const id of ids) {
    assert.ok(RULES[id].title.length > 0 && RULES[id].text.length > 40, id);
  }
  assert.ok(Object.isFrozen(RULES));
});
