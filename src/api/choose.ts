/**
 * Heap choice from requirements instead of hard-coded paths. Every user of dma-buf heaps
 * carries its own list (`linux,cma`, `reserved`, `system`, ...) in its own order; this resolves
 * the caller's needs — contiguous, cached, protected, a region, a size — against what is known
 * about each heap ({@link HeapInfo.properties}), says why, and orders the fallbacks, ending, as
 * libcamera's DmaBufAllocator does, in udmabuf over a sealed memfd.
 *
 * Pure: no kernel, no Node APIs.
 */
import type { HeapInfo, HeapProperties, Inferred, SystemFacts } from './heap-knowledge.js';

/**
 * What the caller needs. A boolean that is given is a requirement; one that is left out is a
 * preference: non-contiguous heaps first (CMA is scarce: keep it for those who need it), cached
 * heaps first (CPU access is fast), never protected memory (the CPU cannot touch it).
 */
export interface HeapRequirements {
  /** true: physically contiguous buffers only; false: no contiguous heap. */
  readonly contiguous?: boolean;
  /** true: CPU-cached mappings only; false: uncached (write-combined) mappings only. */
  readonly cached?: boolean;
  /** true: protected (OS-inaccessible) memory only; false or left out: no protected heap. */
  readonly protected?: boolean;
  /**
   * The reserved-memory region that must back the heap: a node name (`linux,cma`,
   * `framebuffer@78000000`), a path (`/reserved-memory/linux,cma`) or a unit address
   * (`@78000000`, `78000000`).
   */
  readonly region?: string;
  /** Bytes: heaps known to be smaller (capacity) or fuller (free bytes) are refused. */
  readonly size?: number;
  /** Heap names to try first, in this order; they must still satisfy the requirements. */
  readonly prefer?: readonly string[];
}

/** A heap that does not satisfy the requirements, and why. */
export interface Refusal {
  /** The heap. */
  readonly name: string;
  /** The contradicting property and its source, e.g. `not physically contiguous [exact]`. */
  readonly reason: string;
}

/** Whether udmabuf over a sealed memfd can serve the requirements (the last resort). */
export interface UdmabufVerdict {
  /** udmabuf fits the requirements. */
  readonly ok: boolean;
  /** Why not, or `udmabuf over a sealed memfd`. */
  readonly reason: string;
}

/** The result of {@link chooseHeap}. */
export interface HeapChoice {
  /** The best heap, or null when none satisfies the requirements. */
  readonly chosen: HeapInfo | null;
  /** Every heap that satisfies them, best first (`chosen` is the first): the fallback order. */
  readonly candidates: readonly HeapInfo[];
  /** The heaps that contradict a requirement, in /dev/dma_heap order. */
  readonly refused: readonly Refusal[];
  /** After the candidates: udmabuf over a sealed memfd, when it fits. */
  readonly udmabuf: UdmabufVerdict;
  /** One line: what was chosen and why, what comes next, what was refused. */
  readonly explanation: string;
}

/** Default `size_limit_mb` of the udmabuf driver (spec §4.13). */
export const UDMABUF_DEFAULT_SIZE_LIMIT = 64 * 1024 * 1024;

/** `1 MiB`, `64 KiB`, `1536 bytes`. */
export function formatBytes(n: number): string {
  const units: [number, string][] = [[2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [u, name] of units) if (n >= u && n % u === 0) return `${n / u} ${name}`;
  return `${n} bytes`;
}

const q = (s: string): string => `"${s}"`;

const LABELS = {
  contiguous: { true: 'physically contiguous', false: 'not physically contiguous', unknown: 'contiguity unknown' },
  cacheable: { true: 'CPU-cached', false: 'uncached', unknown: 'caching unknown' },
  protected: { true: 'protected (no CPU access)', false: 'CPU-accessible', unknown: 'protection unknown' },
} as const;

interface Verdict {
  heap: HeapInfo;
  index: number;
  refused: string | null;
  satisfied: string[];
  /** Labels of the required properties nobody knows for this heap. */
  unknowns: string[];
}

function normalizeRegion(r: string): string {
  return r.replace(/^@/, '').toLowerCase();
}

/** Whether `heap` is backed by `want`: by the region's name, path or unit address, or by the heap name. */
function regionMatches(heap: HeapInfo, want: string): Inferred<boolean> | null {
  const w = normalizeRegion(want);
  const r = heap.properties.region;
  if (r !== null) {
    const v = r.value;
    const unit = v.name?.split('@')[1]?.toLowerCase() ?? null;
    const hit =
      v.name?.toLowerCase() === w ||
      v.path?.toLowerCase() === want.toLowerCase() ||
      v.path?.toLowerCase().endsWith(`/${w}`) === true ||
      unit === w ||
      (v.base !== null && v.base.toString(16) === w.replace(/^0x/, ''));
    return { value: hit, source: r.source, reason: r.reason };
  }
  const name = heap.name.toLowerCase();
  if (name === w || name.split('@')[1]?.split(/[,\-_]/)[0] === w) return { value: true, source: 'name', reason: 'the heap is named after it' };
  return null;
}

function describeRegion(heap: HeapInfo): string {
  const r = heap.properties.region;
  if (r === null) return 'an unknown region';
  return r.value.path ?? r.value.name ?? 'the command-line/Kconfig CMA area';
}

function evaluate(heap: HeapInfo, index: number, req: HeapRequirements): Verdict {
  const p: HeapProperties = heap.properties;
  const v: Verdict = { heap, index, refused: null, satisfied: [], unknowns: [] };
  const check = (key: 'contiguous' | 'cacheable' | 'protected', want: boolean | undefined): void => {
    if (want === undefined || v.refused !== null) return;
    const got = p[key];
    const labels = LABELS[key];
    if (got === null) {
      v.unknowns.push(labels.unknown);
      v.satisfied.push(labels.unknown);
    } else if (got.value !== want) {
      v.refused = `${labels[got.value ? 'true' : 'false']} [${got.source}]`;
    } else {
      v.satisfied.push(`${labels[want ? 'true' : 'false']} [${got.source}]`);
    }
  };
  // protected memory first: the CPU cannot touch it, which says more than its other properties
  if (req.protected === true) check('protected', true);
  else if (p.protected?.value === true) v.refused = `${LABELS.protected.true} [${p.protected.source}]; ask for protected: true`;
  check('contiguous', req.contiguous);
  check('cacheable', req.cached);
  if (v.refused === null && req.region !== undefined) {
    const m = regionMatches(heap, req.region);
    if (m === null) v.refused = `not known to be backed by ${req.region}`;
    else if (!m.value) v.refused = `backed by ${describeRegion(heap)}, not ${req.region} [${m.source}]`;
    else v.satisfied.push(`in ${req.region} [${m.source}]`);
  }
  if (v.refused === null && req.size !== undefined) {
    const cap = p.capacity;
    const free = p.free;
    if (cap !== null && cap.value < req.size) v.refused = `holds ${formatBytes(cap.value)} in all, less than ${formatBytes(req.size)} [${cap.source}]`;
    else if (free !== null && free.value < req.size) v.refused = `${formatBytes(free.value)} free, less than ${formatBytes(req.size)} [${free.source}]`;
    else if (free !== null) v.satisfied.push(`${formatBytes(free.value)} free [${free.source}]`);
  }
  return v;
}

/** 0 for the preferred value of a property left out of the requirements, 1 unknown, 2 the other. */
function leaning(p: Inferred<boolean> | null, preferred: boolean): number {
  return p === null ? 1 : p.value === preferred ? 0 : 2;
}

/**
 * Whether udmabuf over a sealed memfd serves `req`: memfd pages are ordinary, cached,
 * CPU-accessible memory, not physically contiguous, from no reserved region, and the driver
 * refuses more than `size_limit_mb` (64 MiB by default).
 */
export function udmabufVerdict(req: HeapRequirements, facts: SystemFacts['udmabuf'] = null): UdmabufVerdict {
  if (req.contiguous === true) return { ok: false, reason: 'udmabuf memory (memfd pages) is not physically contiguous' };
  if (req.protected === true) return { ok: false, reason: 'udmabuf memory is ordinary CPU-accessible memory, not protected' };
  if (req.cached === false) return { ok: false, reason: 'udmabuf mappings are CPU-cached' };
  if (req.region !== undefined) return { ok: false, reason: `udmabuf memory does not come from ${req.region}` };
  if (facts !== null && facts !== undefined && !facts.present) return { ok: false, reason: 'there is no /dev/udmabuf (CONFIG_UDMABUF)' };
  if (facts !== null && facts !== undefined && !facts.usable) return { ok: false, reason: 'this process may not open /dev/udmabuf' };
  const limit = facts?.sizeLimit ?? UDMABUF_DEFAULT_SIZE_LIMIT;
  if (req.size !== undefined && req.size > limit) return { ok: false, reason: `udmabuf refuses more than ${formatBytes(limit)} (size_limit_mb)` };
  return { ok: true, reason: 'udmabuf over a sealed memfd' };
}

/**
 * Chooses a heap for `req` among `heaps` and explains the choice. Heaps that contradict a
 * requirement are refused with the property and its source; a heap whose property is unknown is
 * kept but ranked after the heaps known to fit (and the explanation says "unknown"). Order:
 * `prefer`, then fewer unknowns, then the main name before a compatibility alias, then the
 * preferences for what was left out (non-contiguous, cached), then /dev/dma_heap order.
 */
export function chooseHeap(heaps: readonly HeapInfo[], req: HeapRequirements = {}, opts: { udmabuf?: SystemFacts['udmabuf'] } = {}): HeapChoice {
  const verdicts = heaps.map((h, i) => evaluate(h, i, req));
  const prefer = req.prefer ?? [];
  const rank = (v: Verdict): number[] => {
    const p = v.heap.properties;
    const pi = prefer.indexOf(v.heap.name);
    return [
      pi < 0 ? prefer.length : pi,
      v.unknowns.length,
      p.legacyAlias?.value === true ? 1 : 0,
      req.contiguous === undefined ? leaning(p.contiguous, false) : 0,
      req.cached === undefined ? leaning(p.cacheable, true) : 0,
      v.index,
    ];
  };
  const cmp = (a: number[], b: number[]): number => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  const ok = verdicts.filter((v) => v.refused === null).sort((a, b) => cmp(rank(a), rank(b)));
  const refused = verdicts.filter((v) => v.refused !== null).map((v) => ({ name: v.heap.name, reason: v.refused! }));
  const udmabuf = udmabufVerdict(req, opts.udmabuf ?? null);
  const first = ok[0];
  const parts: string[] = [];
  if (first === undefined) {
    parts.push(heaps.length === 0 ? 'no heap: /dev/dma_heap is empty or missing' : `no heap satisfies ${describeRequirements(req)}`);
  } else {
    const why = first.satisfied.length > 0 ? first.satisfied.join(', ') : 'no requirement';
    const preferred = prefer.includes(first.heap.name) ? ', preferred' : '';
    parts.push(`chose ${q(first.heap.name)} (${why}${preferred})`);
    if (ok.length > 1) parts.push(`then ${ok.slice(1).map((v) => `${q(v.heap.name)}${v.unknowns.length > 0 ? ` (${v.unknowns.join(', ')})` : ''}`).join(', ')}`);
  }
  if (refused.length > 0) parts.push(`refused ${refused.map((r) => `${q(r.name)} (${r.reason})`).join(', ')}`);
  parts.push(udmabuf.ok ? 'last resort: udmabuf over a sealed memfd' : `no udmabuf fallback: ${udmabuf.reason}`);
  return { chosen: first?.heap ?? null, candidates: ok.map((v) => v.heap), refused, udmabuf, explanation: parts.join('; ') };
}

/** `contiguous, CPU-cached, in linux,cma, 1 MiB`; `no requirement` when empty. */
export function describeRequirements(req: HeapRequirements): string {
  const out: string[] = [];
  if (req.contiguous !== undefined) out.push(LABELS.contiguous[req.contiguous ? 'true' : 'false']);
  if (req.cached !== undefined) out.push(LABELS.cacheable[req.cached ? 'true' : 'false']);
  if (req.protected === true) out.push(LABELS.protected.true);
  if (req.region !== undefined) out.push(`in ${req.region}`);
  if (req.size !== undefined) out.push(formatBytes(req.size));
  return out.length === 0 ? 'no requirement' : out.join(', ');
}
