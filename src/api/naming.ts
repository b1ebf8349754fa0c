/**
 * Heap-naming linter: checks DMA-BUF heap names against the kernel's naming convention
 * (Documentation/userspace-api/dma-buf-heaps.rst, section "Naming Convention", merged in 2025;
 * spec kernel-behavior.md §7, rules N1–N7) and derives convention-following names from what is
 * known about each heap. Pure and deterministic: no kernel, no Node APIs. docs/naming.md
 * explains every rule with examples.
 */

/** The reserved-memory region behind a heap, as far as it is known. */
export interface HeapRegionFacts {
  /** Full device-tree node name, e.g. 'linux,cma' or 'framebuffer@78000000'; null for the cmdline/Kconfig area. */
  nodeName: string | null;
  /** Device-tree path, e.g. '/reserved-memory/linux,cma'. */
  path: string | null;
  /** Physical base address; pass it only when it is static (a `reg` or `cma=size@base`). */
  base: number | null;
  size: number | null;
  reusable: boolean;
  nomap: boolean;
}

/** What is known about one heap on a system. */
export interface HeapFacts {
  /** e.g. 'linux,cma', 'default_cma_region', 'framebuffer@78000000' */
  name: string;
  kind: 'system' | 'cma' | 'coherent' | 'protected' | 'other';
  region?: HeapRegionFacts | null;
  contiguous: boolean;
  cacheable: boolean;
  protected: boolean;
  /** e.g. 'video', from the devices that reference the region (memory-region users) or the region's name */
  usage?: string | null;
  /** true for a name the kernel chose for compatibility (6.17 legacy duplicate) */
  legacyAlias?: boolean;
}

export type RuleId = 'N1' | 'N2' | 'N3' | 'N4' | 'N5' | 'N6' | 'N7';
export type Severity = 'error' | 'warning' | 'info';
export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
}
export interface Verdict {
  name: string;
  /** No error or warning (info findings do not count). */
  ok: boolean;
  findings: Finding[];
  /**
   * A better name following the convention, or null: when the name is fine, when the kernel
   * fixes the name (`default_cma_region`, `reserved`, a legacy alias: renaming is not the user's
   * to do), or when no name that passes every rule can be derived from the facts. A non-null
   * suggestion always passes every rule itself.
   */
  suggestion: string | null;
}
export interface LintOptions {
  /** Names on the previous kernel version, for N2. */
  previous?: readonly string[];
}

export const RULES: Readonly<Record<RuleId, { title: string; text: string }>> = Object.freeze({
  N1: {
    title: 'non-empty and unique',
    text: 'A heap needs a non-empty name that no other heap on the system uses: the kernel refuses to register a second heap under a name already taken, so one of the two heaps would be missing. Two names over one region are allowed but noted.',
  },
  N2: {
    title: 'stable across kernel versions',
    text: 'User space finds heaps by name only, so a region must keep its name from one kernel version to the next. A region that had another name on the previous kernel is a rename; it breaks user space unless the old name survives as a compatibility alias (as 6.17-6.18 did for the default CMA heap).',
  },
  N3: {
    title: 'no allocator or implementation words',
    text: 'The name must not say how memory is allocated (cma, ion, carveout, chunk, genalloc/gen_pool, buddy, dma_alloc, vmalloc, page_pool): the heap driver can change, the name cannot.',
  },
  N4: {
    title: 'describes and identifies the region',
    text: 'The name must say which memory the heap allocates from: a unit address matching the region base (e.g. @42000000), the device-tree node name, or one of the well-known global pools (system, system_cc_shared, default_cma_region); TEE heaps are identified by their use case (protected,<use>).',
  },
  N5: {
    title: 'property vocabulary',
    text: 'Buffer properties in the name use the words cacheable, uncacheable, contiguous and protected; a name must not claim both cacheable and uncacheable, nor a property the heap does not have.',
  },
  N6: {
    title: 'filesystem-safe',
    text: "The name becomes /dev/dma_heap/<name> and a printf-style format: no '/', no '%', printable ASCII only, and at most 63 characters when it comes from a CMA area name (longer ones are cut).",
  },
  N7: {
    title: 'usage is optional',
    text: 'A name may say what the memory is for (video, camera, display, framebuffer, audio, secure-video, trusted-ui, ...). This is informational only.',
  },
});

// ---------------------------------------------------------------------------------------------
// Vocabulary

/** Allocator/implementation words (token sequences) and what they name. */
const ALLOCATOR_WORDS: readonly (readonly [readonly string[], string])[] = [
  [['cma'], 'the Contiguous Memory Allocator'],
  [['ion'], 'the ION allocator (removed in 5.11)'],
  [['carveout'], 'a carve-out allocator (an ION heap type)'],
  [['chunk'], 'a chunk allocator (an ION heap type)'],
  [['genalloc'], 'the genalloc (gen_pool) allocator'],
  [['genpool'], 'the genalloc (gen_pool) allocator'],
  [['gen', 'pool'], 'the genalloc (gen_pool) allocator'],
  [['buddy'], 'the page (buddy) allocator'],
  [['vmalloc'], 'the vmalloc allocator'],
  [['dma', 'alloc'], 'the DMA API allocator (dma_alloc_*)'],
  [['page', 'pool'], 'a page-pool cache (an implementation detail of some system heaps)'],
  [['pagepool'], 'a page-pool cache (an implementation detail of some system heaps)'],
];

type Property = 'cacheable' | 'uncacheable' | 'contiguous' | 'protected';
const PROPERTY_WORDS: readonly (readonly [readonly string[], Property])[] = [
  [['cacheable'], 'cacheable'],
  [['uncacheable'], 'uncacheable'],
  [['contiguous'], 'contiguous'],
  [['protected'], 'protected'],
];
/** Words people use for the same properties; N5 asks for the convention's word instead. */
const PROPERTY_SYNONYMS: readonly (readonly [readonly string[], Property])[] = [
  [['cached'], 'cacheable'],
  [['uncached'], 'uncacheable'],
  [['noncached'], 'uncacheable'],
  [['non', 'cached'], 'uncacheable'],
  [['non', 'cacheable'], 'uncacheable'],
  [['noncacheable'], 'uncacheable'],
  [['writecombine'], 'uncacheable'],
  [['write', 'combine'], 'uncacheable'],
  [['wc'], 'uncacheable'],
  [['contig'], 'contiguous'],
  [['restricted'], 'protected'],
];
const USAGE_WORDS: readonly (readonly string[])[] = [
  ['secure', 'video', 'record'],
  ['secure', 'video'],
  ['trusted', 'ui'],
  ['video'],
  ['camera'],
  ['display'],
  ['framebuffer'],
  ['audio'],
  ['graphics'],
  ['gpu'],
  ['npu'],
  ['vpu'],
  ['isp'],
  ['dsp'],
  ['codec'],
  ['modem'],
];
/** Words that say nothing about which memory is meant. */
const GENERIC_WORDS = new Set(['reserved', 'memory', 'mem', 'region', 'heap', 'default', 'pool']);

const MAX_CMA_NAME = 63;
const NAME_MAX = 255;
const DMA_BUF_NAME_MAX = 31;

// ---------------------------------------------------------------------------------------------
// Tokens

interface Token {
  lower: string;
  start: number;
  end: number;
  /** The token follows '@': a unit address, never a word. */
  address: boolean;
}

type Match =
  | { cls: 'allocator'; text: string; what: string }
  | { cls: 'property'; text: string; prop: Property; synonym: boolean }
  | { cls: 'usage'; text: string }
  | { cls: 'coherent'; text: string }
  | { cls: 'word'; text: string };

interface Analysis {
  tokens: Token[];
  matches: Match[];
  /** The unit address after the first '@', when it is hexadecimal. */
  unit: { text: string; value: bigint } | null;
}

const SEPARATORS = /[,\-_@.]/;

function tokenize(name: string): Token[] {
  const out: Token[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = name[i];
    if (c === undefined || SEPARATORS.test(c)) {
      if (i > start) out.push({ lower: name.slice(start, i).toLowerCase(), start, end: i, address: name[start - 1] === '@' });
      start = i + 1;
    }
  }
  return out;
}

function matchAt(tokens: readonly Token[], i: number, phrase: readonly string[]): boolean {
  return phrase.every((p, k) => {
    const t = tokens[i + k];
    if (t === undefined || t.address) return false;
    // a single word may carry an instance number: cma0, ion1, video2
    return t.lower === p || (phrase.length === 1 && /^[a-z]+\d+$/.test(t.lower) && t.lower.replace(/\d+$/, '') === p);
  });
}

/** Every known phrase, longest first, so 'secure-video' wins over 'video'. */
const PHRASES: readonly { phrase: readonly string[]; make: (text: string) => Match }[] = [
  ...ALLOCATOR_WORDS.map(([phrase, what]) => ({ phrase, make: (text: string): Match => ({ cls: 'allocator', text, what }) })),
  ...PROPERTY_WORDS.map(([phrase, prop]) => ({ phrase, make: (text: string): Match => ({ cls: 'property', text, prop, synonym: false }) })),
  ...PROPERTY_SYNONYMS.map(([phrase, prop]) => ({ phrase, make: (text: string): Match => ({ cls: 'property', text, prop, synonym: true }) })),
  ...USAGE_WORDS.map((phrase) => ({ phrase, make: (text: string): Match => ({ cls: 'usage', text }) })),
  { phrase: ['coherent'], make: (text: string): Match => ({ cls: 'coherent', text }) },
].sort((a, b) => b.phrase.length - a.phrase.length);

/** Splits a name into tokens and classifies them, longest phrase first. */
function analyze(name: string): Analysis {
  const tokens = tokenize(name);
  const matches: Match[] = [];
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i]!;
    if (t.address) {
      i++;
      continue;
    }
    const hit = PHRASES.find((e) => matchAt(tokens, i, e.phrase));
    if (hit === undefined) {
      matches.push({ cls: 'word', text: name.slice(t.start, t.end) });
      i++;
      continue;
    }
    const last = tokens[i + hit.phrase.length - 1]!;
    matches.push(hit.make(name.slice(t.start, last.end)));
    i += hit.phrase.length;
  }
  const m = /@([0-9a-fA-F]+)(?![0-9a-zA-Z])/.exec(name);
  const unit = m === null ? null : { text: m[1]!, value: BigInt(`0x${m[1]!}`) };
  return { tokens, matches, unit };
}

// ---------------------------------------------------------------------------------------------
// Helpers over facts

function baseOf(h: HeapFacts): bigint | null {
  const b = h.region?.base;
  return b === null || b === undefined || !Number.isSafeInteger(b) || b < 0 ? null : BigInt(b);
}

function basename(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? '';
}

/** The cmdline/Kconfig CMA area: CMA memory with no device-tree node. */
function isCmdlineArea(h: HeapFacts): boolean {
  const r = h.region;
  return h.kind === 'cma' && r !== null && r !== undefined && r.nodeName === null && r.path === null;
}

function hasRegionIdentity(h: HeapFacts): boolean {
  const r = h.region;
  return r !== null && r !== undefined && (r.nodeName !== null || r.path !== null || baseOf(h) !== null);
}

/** A key equal for two heaps over the same memory, or null when unknown. */
function regionKey(h: HeapFacts): string | null {
  const r = h.region;
  if (r === null || r === undefined) return null;
  if (r.path !== null) return `path:${r.path}`;
  const b = baseOf(h);
  if (b !== null) return `base:${b.toString(16)}`;
  if (r.nodeName !== null) return `node:${r.nodeName}`;
  return null;
}

/** Whether `name` is one of the names this heap's region is (or was) known by. */
function regionKnownAs(h: HeapFacts, name: string): boolean {
  const r = h.region;
  if (r === null || r === undefined) return false;
  if (r.nodeName !== null && r.nodeName === name) return true;
  if (r.path !== null && basename(r.path) === name) return true;
  const b = baseOf(h);
  const u = analyze(name).unit;
  if (b !== null && u !== null && u.value === b) return true;
  return name === 'reserved' && isCmdlineArea(h);
}

/**
 * The name identifies a global pool rather than a region: a system heap whose name has the word
 * 'system' (system, system_cc_shared, system-dma32, qcom,system), or the default CMA heap.
 */
function isGlobalPool(h: HeapFacts, a: Analysis): boolean {
  if (h.kind === 'system') return a.tokens.some((t) => !t.address && t.lower === 'system');
  return h.kind === 'cma' && h.name === 'default_cma_region';
}

function isTeeForm(h: HeapFacts): boolean {
  return h.protected && /^protected,[^,]+/.test(h.name);
}

/** The name contains the full node name, bounded by separators or the ends. */
function containsNodeName(name: string, node: string): boolean {
  let from = 0;
  for (;;) {
    const at = name.indexOf(node, from);
    if (at < 0) return false;
    const before = at === 0 || SEPARATORS.test(name[at - 1]!);
    const after = at + node.length === name.length || SEPARATORS.test(name[at + node.length]!);
    if (before && after) return true;
    from = at + 1;
  }
}

/** A name the kernel chooses and the user cannot change: default_cma_region, the cmdline area's 'reserved', a legacy alias. */
function isKernelFixed(h: HeapFacts): boolean {
  if (h.legacyAlias === true) return true;
  if (h.name === 'default_cma_region') return h.kind === 'cma';
  return h.name === 'reserved' && isCmdlineArea(h);
}

/** The usage as name words: lowercase, '-'-joined, without allocator or property words. */
function usageWords(usage: string | null | undefined): string | null {
  if (usage === null || usage === undefined) return null;
  const cleaned = usage.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (cleaned === '') return null;
  const kept = analyze(cleaned)
    .matches.filter((m) => m.cls === 'usage' || m.cls === 'word')
    .map((m) => m.text);
  return kept.length === 0 ? null : kept.join('-');
}

function quoteList(items: readonly string[]): string {
  return items.map((s) => `'${s}'`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Rules

type Emit = (rule: RuleId, severity: Severity, message: string) => void;

/** Severity for a convention finding (N3–N5) on a name kept for compatibility: renaming it would defeat its purpose. */
function soften(h: HeapFacts, s: Severity): Severity {
  return h.legacyAlias === true && s === 'warning' ? 'info' : s;
}

function checkN3(h: HeapFacts, a: Analysis, emit: Emit): void {
  for (const m of a.matches) {
    if (m.cls !== 'allocator') continue;
    let msg = `'${m.text}' names ${m.what}, an implementation detail: the heap driver can change, the name must not`;
    if (h.name === 'default_cma_region') {
      msg += '; mainline chose this name itself in 6.17, in the same period as the convention, so it arguably breaks this rule, but it is the kernel\'s fixed name: keep using it';
    } else if (h.legacyAlias === true) {
      msg += '; this is an old name kept only for compatibility';
    } else if (h.region?.nodeName === h.name) {
      msg += `; the name is the device-tree node name${h.name === 'linux,cma' ? " ('linux,cma' is a long-standing device-tree convention for the default CMA node)" : ''}, so changing it means renaming the node, which renames the heap (N2)`;
    }
    emit('N3', soften(h, 'warning'), msg);
  }
}

function checkN4(h: HeapFacts, a: Analysis, emit: Emit): void {
  if (isGlobalPool(h, a) || isTeeForm(h)) return;
  if (h.kind === 'system') {
    emit('N4', soften(h, 'warning'), "a system heap allocates from the global page pool, and its name should say so with the word 'system'");
    return;
  }
  const r = h.region ?? null;
  const base = baseOf(h);
  if (a.unit !== null) {
    if (base !== null) {
      if (a.unit.value !== base) emit('N4', soften(h, 'warning'), `unit address @${a.unit.text} does not match the region base 0x${base.toString(16)}: the name points at other memory`);
      return;
    }
    const nodeUnit = r !== null && r.nodeName !== null ? analyze(r.nodeName).unit : null;
    if (nodeUnit === null || nodeUnit.value !== a.unit.value) emit('N4', 'info', `unit address @${a.unit.text} not verified: the region base is unknown`);
    return;
  }
  if (r !== null && r.nodeName !== null && containsNodeName(h.name, r.nodeName)) return;
  if (r !== null && r.path !== null && basename(r.path) !== '' && containsNodeName(h.name, basename(r.path))) return;
  if (h.name === 'reserved' && isCmdlineArea(h)) {
    const where = base !== null
      ? `the area is at 0x${base.toString(16)} (a unit address is stable only when its placement is fixed, cma=size@base)`
      : 'nothing known about the area identifies it';
    emit('N4', soften(h, 'warning'), `'reserved' is the kernel's label for the command-line/Kconfig CMA area (mainline's choice, not yours): it says that memory is reserved, not which memory; ${where}`);
    return;
  }
  if (hasRegionIdentity(h)) {
    const ways: string[] = [];
    if (base !== null) ways.push(`the unit address @${base.toString(16)}`);
    if (r !== null && r.nodeName !== null) ways.push(`the device-tree node name '${r.nodeName}'`);
    emit('N4', soften(h, 'warning'), `does not identify its memory region: include ${ways.join(' or ')}`);
    return;
  }
  const words = a.tokens.filter((t) => !t.address).map((t) => t.lower);
  if (words.length > 0 && words.every((w) => GENERIC_WORDS.has(w))) {
    emit('N4', soften(h, 'warning'), 'only generic words: the name does not say which memory the heap allocates from');
    return;
  }
  emit('N4', 'info', 'not checked: no region facts (node name, path or base) are known for this heap');
}

function checkN5(h: HeapFacts, a: Analysis, emit: Emit): void {
  const said = new Set<Property>();
  for (const m of a.matches) {
    if (m.cls === 'coherent') {
      emit('N5', 'info', `'${m.text}' is not in the convention's vocabulary: it was proposed in 2025 review for buffers that need no cache sync, and not adopted; in the proposed coherent heap's coherent_<node> names it names the heap driver`);
      continue;
    }
    if (m.cls !== 'property') continue;
    said.add(m.prop);
    if (!m.synonym) continue;
    const hint = m.prop === 'protected' ? " (OP-TEE's tests used restricted,secure-video; mainline 6.18 registers protected,secure-video)" : '';
    emit('N5', soften(h, 'warning'), `'${m.text}' is not in the property vocabulary (cacheable, uncacheable, contiguous, protected): write '${m.prop}'${hint}`);
  }
  if (said.has('cacheable') && said.has('uncacheable')) {
    emit('N5', 'error', 'says both cacheable and uncacheable: a heap cannot be both');
  } else if (said.has('uncacheable') && h.cacheable) {
    emit('N5', soften(h, 'warning'), "says uncacheable, but the heap's buffers are CPU-cacheable");
  } else if (said.has('cacheable') && !h.cacheable) {
    emit('N5', soften(h, 'warning'), "says cacheable, but the heap's buffers are not CPU-cacheable");
  }
  if (said.has('contiguous') && !h.contiguous) {
    const why = h.kind === 'system' ? ' (the system heap gathers scattered pages)' : '';
    emit('N5', soften(h, 'warning'), `says contiguous, but the heap's buffers are not physically contiguous${why}`);
  }
  if (said.has('protected') && !h.protected) {
    emit('N5', soften(h, 'warning'), 'says protected, but the OS can access this memory');
  }
  if (!said.has('protected') && h.protected) {
    emit('N5', 'info', "protected memory, but the name does not say 'protected' (optional; it tells user space the CPU cannot touch these buffers)");
  }
}

function checkN6(h: HeapFacts, emit: Emit): void {
  const name = h.name;
  if (name === '.' || name === '..') {
    emit('N6', 'error', `'${name}' is a path component of its own: /dev/dma_heap/${name} cannot be a device node`);
  }
  if (name.includes('/')) {
    emit('N6', 'error', "contains '/': the name becomes the path /dev/dma_heap/<name>, and a directory separator puts the node somewhere else");
  }
  if (name.includes('%')) {
    emit('N6', 'error', "contains '%': the kernel passes the heap name to device_create() as a printf-style format, so '%' sequences are expanded");
  }
  const bad = [...name].find((c) => {
    const cp = c.codePointAt(0)!;
    return cp < 0x20 || cp > 0x7e;
  });
  if (bad !== undefined) {
    const cp = bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    emit('N6', 'error', `contains U+${cp}, which is not printable ASCII: device names must be printable ASCII`);
  }
  if (name.includes(' ')) {
    emit('N6', 'warning', 'contains a space: legal, but every shell use of /dev/dma_heap/<name> needs quoting');
  }
  if (h.kind === 'cma' && name !== 'default_cma_region' && name.length > MAX_CMA_NAME) {
    emit('N6', 'error', `${name.length} characters: CMA area names are cut to ${MAX_CMA_NAME}, so this heap would register as '${name.slice(0, MAX_CMA_NAME)}'`);
  } else if (name.length > NAME_MAX) {
    emit('N6', 'error', `${name.length} characters: longer than a file name may be (${NAME_MAX})`);
  }
  if (name.length > DMA_BUF_NAME_MAX) {
    emit('N6', 'info', `longer than ${DMA_BUF_NAME_MAX} characters: buffer names taken from the heap name (DMA_BUF_SET_NAME, as Android's libdmabufheap does) are cut to ${DMA_BUF_NAME_MAX}`);
  }
}

function checkN7(h: HeapFacts, a: Analysis, emit: Emit): void {
  if (isTeeForm(h)) {
    emit('N7', 'info', "'protected,<use>' is mainline's TEE heap form (6.18): it was challenged in 2025 review for naming a use case rather than a memory region, and kept");
    return;
  }
  const used = a.matches.filter((m) => m.cls === 'usage').map((m) => m.text);
  if (used.length === 0) return;
  emit('N7', 'info', `says what the memory is for (${quoteList(used)}): optional, and it helps user space pick the heap`);
  const want = usageWords(h.usage);
  if (want !== null && !used.some((u) => u.toLowerCase() === want)) {
    emit('N7', 'info', `the region's users suggest the usage '${want}'`);
  }
}

const RULE_ORDER: readonly RuleId[] = ['N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7'];

/** Findings for every heap (no suggestions). */
function check(heaps: readonly HeapFacts[], previous: readonly string[] | undefined): Finding[][] {
  const count = new Map<string, number>();
  for (const h of heaps) count.set(h.name, (count.get(h.name) ?? 0) + 1);
  const current = new Set(heaps.map((h) => h.name));
  return heaps.map((h) => {
    const findings: Finding[] = [];
    const emit: Emit = (rule, severity, message) => findings.push({ rule, severity, message });

    // N1
    if (h.name === '') {
      emit('N1', 'error', 'empty name: a heap needs a name to become /dev/dma_heap/<name>');
    } else if ((count.get(h.name) ?? 0) > 1) {
      emit('N1', 'error', `'${h.name}' is used by ${count.get(h.name)} heaps on this system: the kernel refuses a second heap with the same name (EEXIST or EINVAL), so only one of them would appear`);
    }
    const key = regionKey(h);
    if (key !== null) {
      const others = [...new Set(heaps.filter((o) => o !== h && o.name !== h.name && regionKey(o) === key).map((o) => o.name))];
      if (others.length > 0) emit('N1', 'info', `same memory as ${quoteList(others)}: two names over one region, and allocations from either come out of the same area`);
    }

    // N2
    if (h.legacyAlias === true) {
      const main = heaps.filter((o) => o !== h && o.legacyAlias !== true && key !== null && regionKey(o) === key).map((o) => o.name);
      const beside = main.length > 0 ? ` beside ${quoteList(main)}` : '';
      emit('N2', 'info', `compatibility alias: the kernel keeps this old name${beside} as a separate device node over the same memory (user space cannot tell they are one area); prefer the new name`);
    } else if (previous !== undefined) {
      for (const old of previous) {
        if (old === h.name || !regionKnownAs(h, old)) continue;
        if (!current.has(old)) {
          emit('N2', 'warning', `renamed: this region was '${old}' on the previous kernel, and user space that opens /dev/dma_heap/${old} breaks; keep the old name as a compatibility alias (as 6.17-6.18 did with DMABUF_HEAPS_CMA_LEGACY)`);
        } else if (heaps.some((o) => o.name === old && o.legacyAlias === true)) {
          emit('N2', 'info', `renamed from '${old}'; the old name stays available as a compatibility alias`);
        }
      }
    }

    if (h.name !== '') {
      const a = analyze(h.name);
      checkN3(h, a, emit);
      checkN4(h, a, emit);
      checkN5(h, a, emit);
      checkN6(h, emit);
      checkN7(h, a, emit);
    }
    return findings
      .map((f, i) => ({ f, i }))
      .sort((x, y) => RULE_ORDER.indexOf(x.f.rule) - RULE_ORDER.indexOf(y.f.rule) || x.i - y.i)
      .map((x) => x.f);
  });
}

function isOk(findings: readonly Finding[]): boolean {
  return findings.every((f) => f.severity === 'info');
}

/**
 * A name for this heap that follows the convention, derived from the facts (the current name
 * is consulted only for system heaps):
 * - system heap: `system` (or `system_cc_shared`), `-uncacheable` when not cacheable, keeping
 *   the current name's plain words, which the facts do not carry (`qcom,system`, `system-dma32`);
 * - a region with a known base: `<usage>@<base>` or, without usage, `memory@<base>` followed by
 *   `-uncacheable`/`-contiguous` as they apply, and `-protected` for protected memory;
 * - protected memory without a base: `protected,<usage>` (the TEE form);
 * - otherwise the device-tree node name when it has no allocator word, `default_cma_region` for
 *   the cmdline/Kconfig CMA area, else `<usage|memory>` with property words (this last form
 *   cannot identify the region and fails N4: lintHeapNames then reports no suggestion).
 */
export function suggestName(h: HeapFacts): string {
  const usage = usageWords(h.usage);
  const props = (withContiguous: boolean): string[] => {
    const p: string[] = [];
    if (!h.protected && !h.cacheable) p.push('uncacheable');
    if (withContiguous && h.contiguous) p.push('contiguous');
    if (h.protected) p.push('protected');
    return p;
  };
  if (h.kind === 'system' && !h.protected) {
    const root = /(^|[,\-_@.])system_cc_shared($|[,\-_@.])/.test(h.name) ? 'system_cc_shared' : 'system';
    // keep the plain words of a system-heap variant, which the facts do not carry: a vendor
    // prefix before 'system' (qcom,system), a constraint after it (system-dma32)
    const rootWords = new Set(root.split('_'));
    const words = analyze(h.name).matches.filter((m) => m.cls === 'word' || m.cls === 'usage');
    const at = words.findIndex((m) => m.text.toLowerCase() === 'system');
    const plain = (ms: readonly Match[]): string[] =>
      ms.map((m) => m.text.toLowerCase()).filter((w) => !rootWords.has(w) && !GENERIC_WORDS.has(w));
    const before = at < 0 ? [] : plain(words.slice(0, at));
    const after = plain(at < 0 ? words : words.slice(at + 1));
    const head = before.length > 0 ? `${before.join('-')},${root}` : root;
    return [head, ...(h.cacheable ? [] : ['uncacheable']), ...after].join('-');
  }
  const base = baseOf(h);
  if (base !== null) return [`${usage ?? 'memory'}@${base.toString(16)}`, ...props(usage === null)].join('-');
  if (h.protected && usage !== null) return `protected,${usage}`;
  const node = h.region?.nodeName ?? null;
  if (node !== null && node !== '' && !analyze(node).matches.some((m) => m.cls === 'allocator')) return node;
  if (isCmdlineArea(h)) return 'default_cma_region';
  return [usage ?? 'memory', ...props(true)].join('-');
}

/** Lints the heap names of one system; one verdict per heap, in input order. */
export function lintHeapNames(heaps: readonly HeapFacts[], opts: LintOptions = {}): Verdict[] {
  const all = check(heaps, opts.previous);
  return heaps.map((h, i) => {
    const findings = all[i]!;
    const ok = isOk(findings);
    let suggestion: string | null = null;
    if (!ok && !isKernelFixed(h)) {
      const candidate = suggestName(h);
      const taken = heaps.some((o) => o !== h && o.name === candidate);
      if (candidate !== h.name && !taken && isOk(check([{ ...h, name: candidate, legacyAlias: false }], undefined)[0]!)) suggestion = candidate;
    }
    return { name: h.name, ok, findings, suggestion };
  });
}
