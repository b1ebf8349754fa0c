/**
 * `dmaheap heaps` and `dmaheap lint-names`: the heaps a machine or a board gets on a kernel
 * version, what backs each one, its properties and size, and how its name fares against the
 * naming convention; and what a kernel upgrade changes.
 *
 * On this machine (`--backend linux`) the kernel has no heap query: the heaps are the names in
 * /dev/dma_heap, and what each one is comes from the client library's discovery
 * (DmaHeapClient.heaps(): the knowledge base of heap names, the live device tree, /proc/meminfo,
 * /sys/kernel/mm/cma), every property with where it came from.
 */
import type { DmaHeapClient } from '../../api/client.js';
import { diffHeaps, kernelChanges, lintHeapNames, readReservedMemory, CHANGE_GROUPS } from '../../api/index.js';
import type { CmaAreaFact, HeapDiff, KernelChange, HeapFacts, HeapInfo, HeapProperties, HeapRegion, Inferred, ReservedRegionFact, SystemFacts, Verdict } from '../../api/index.js';
import { fcntlConstants } from '../../uapi/fcntl.js';
import type { ErrnoName } from '../../uapi/errno.js';
import { PROFILES } from '../../kernel/profile.js';
import type { ProfileName } from '../../kernel/profile.js';
import { deviceTreeFsOf } from '../../api/missing-heap.js';
import { createEmulatedTarget, describeHeaps, heapFacts, heapIdentity } from '../../backends/emulated/index.js';
import type { EmulatedOptions, HeapDescription } from '../../backends/emulated/index.js';
export { withBoard } from '../common/machine.js';
import { fmtBytes, table } from '../common/format.js';
import { UsageError } from '../common/args.js';
import { missingHeaps, missingText } from './missing.js';
import type { MissingHeap } from './missing.js';

export interface BootedHeaps {
  readonly kernel: string;
  readonly profile: string;
  readonly cmdline: string;
  readonly board: string | null;
  readonly heaps: (HeapDescription & { readonly naming: Verdict })[];
  /** Boot log lines about memory (reserved memory, CMA). */
  readonly log: readonly string[];
  /** Notes from the emulator about inputs the kernel would read differently. */
  readonly diagnostics: readonly string[];
  /** Heaps the machine asks for (cma=, reserved-memory regions, the TEE) that the kernel did not make, and why. */
  readonly missing: readonly MissingHeap[];
}

export function bootHeaps(machine: EmulatedOptions, boardPath: string | null, previous?: readonly string[]): BootedHeaps {
  const t = createEmulatedTarget(machine);
  try {
    const k = t.kernel;
    const heaps = describeHeaps(k);
    const missing = missingHeaps(k, heaps);
    const verdicts = lintHeapNames(heaps.map(heapFacts), previous !== undefined ? { previous } : undefined);
    return {
      kernel: k.profile.release,
      profile: k.profile.name,
      cmdline: k.cmdline,
      board: boardPath,
      heaps: heaps.map((h, i) => ({ ...h, naming: verdicts[i]! })),
      log: k.memoryPlan.log,
      diagnostics: k.memoryPlan.diagnostics,
      missing,
    };
  } finally {
    t.dispose();
  }
}

function backing(h: HeapDescription): string {
  if (h.region === null) return 'page allocator';
  const r = h.region;
  const where = r.path ?? 'cma= area';
  const flags = [r.reusable ? 'reusable' : '', r.nomap ? 'no-map' : ''].filter((f) => f !== '').join(',');
  return `${where} @0x${r.base.toString(16)} ${fmtBytes(r.size)}${flags !== '' ? ` ${flags}` : ''}`;
}

function verdictText(v: Verdict): string {
  const bad = v.findings.filter((f) => f.severity !== 'info');
  if (bad.length === 0) return 'ok';
  return bad.map((f) => `${f.rule} ${f.severity}`).join(', ');
}

export function printHeaps(r: BootedHeaps): string {
  const out: string[] = [];
  out.push(`${r.board !== null ? `Board ${r.board}, e` : 'E'}mulated Linux ${r.kernel} (profile ${r.profile}), command line "${r.cmdline}": ${r.heaps.length} heap${r.heaps.length === 1 ? '' : 's'}`);
  out.push(table([
    ['name', 'kind', 'backing', 'contig', 'cached', 'protected', 'capacity', 'free', 'naming'],
    ...r.heaps.map((h) => [h.name, h.kind, backing(h), yn(h.contiguous), yn(h.cacheable), yn(h.protected), fmtBytes(h.capacity), fmtBytes(h.free), verdictText(h.naming)]),
  ]));
  out.push(...missingText(r.missing));
  out.push(...namingNotes(r.heaps));
  for (const d of r.diagnostics) out.push(`note: ${d}`);
  if (r.heaps.length === 1 && r.missing.length === 0) out.push('Only the system heap: add cma=64M to the command line (--cmdline) or a reusable shared-dma-pool region to the board for a CMA heap.');
  return out.join('\n');
}

/** The names that break a rule, with the findings and a suggestion (a blank line and a header first). */
function namingNotes(heaps: readonly { readonly name: string; readonly naming: Verdict }[]): string[] {
  const notes = heaps.filter((h) => !h.naming.ok);
  if (notes.length === 0) return [];
  const out = ['', 'Naming (the kernel\'s heap naming convention; `dmaheap lint-names` explains every rule):'];
  for (const h of notes) {
    const f = h.naming.findings.filter((x) => x.severity !== 'info');
    out.push(`  ${h.name}: ${f.map((x) => `${x.rule}: ${x.message}`).join('; ')}${h.naming.suggestion !== null ? ` → suggest "${h.naming.suggestion}"` : ''}`);
  }
  return out;
}

function yn(b: boolean): string {
  return b ? 'yes' : 'no';
}

/** `lint-names --fail-on`: which failing names make the exit status 1. */
export type FailOn = 'any' | 'changeable';

export function parseFailOn(v: string | undefined): FailOn {
  if (v === undefined || v === 'any' || v === 'changeable') return v ?? 'any';
  throw new UsageError(`--fail-on: '${v}' is not any or changeable`, 'any: every name that breaks a rule fails (the default); changeable: only names the device tree chooses fail, the kernel\'s fixed names are reported');
}

/**
 * Who chose a heap's name: the kernel (fixed: the system heap, default_cma_region, `reserved`
 * for the command-line/Kconfig CMA area, the 6.17-6.18 legacy duplicate, the TEE's
 * protected,<use>), or the device tree (a per-region, default-region or coherent heap is named
 * after its /reserved-memory node: renaming the node renames the heap).
 */
export function nameOwner(h: HeapDescription): { readonly namedBy: 'kernel' | 'device-tree'; readonly detail: string; readonly changeable: boolean } {
  const kernel = (detail: string) => ({ namedBy: 'kernel', detail, changeable: false }) as const;
  if (h.kind === 'system') return kernel('the system heap');
  if (h.legacyAlias) return kernel('the legacy duplicate of the default CMA heap (6.17-6.18, CONFIG_DMABUF_HEAPS_CMA_LEGACY)');
  if (h.kind === 'cma' && h.name === 'default_cma_region') return kernel('the default CMA heap, so named since 6.17');
  if (h.kind === 'protected') return kernel('a TEE protected heap, named after its use case');
  if (h.region === null || h.region.path === null) return kernel('the command-line/Kconfig CMA area');
  return { namedBy: 'device-tree', detail: `node ${h.region.path}`, changeable: true };
}

/** A name's verdict, who chose the name, and whether it fails the run. */
export interface LintedName extends Verdict {
  /** Who chose the name: the kernel (fixed) or the device tree (a node name). */
  readonly namedBy: 'kernel' | 'device-tree';
  /** Which heap of the kernel's, or which node. */
  readonly detail: string;
  /** The board can change it: a device-tree node name. */
  readonly changeable: boolean;
  /** Counts toward the exit status under `failOn`: not ok, and changeable unless failOn is any. */
  readonly fails: boolean;
}

export interface LintReport {
  readonly kernel: string;
  readonly profile: string;
  readonly board: string | null;
  readonly failOn: FailOn;
  readonly heaps: readonly LintedName[];
  readonly passed: number;
  readonly failed: number;
  /** Names that break a rule but do not fail the run: the kernel's, under --fail-on changeable. */
  readonly reported: number;
}

export function lintReport(r: BootedHeaps, failOn: FailOn = 'any'): LintReport {
  const heaps = r.heaps.map((h): LintedName => {
    const o = nameOwner(h);
    return { ...h.naming, ...o, fails: !h.naming.ok && (failOn === 'any' || o.changeable) };
  });
  const failed = heaps.filter((h) => h.fails).length;
  const passed = heaps.filter((h) => h.ok).length;
  return { kernel: r.kernel, profile: r.profile, board: r.board, failOn, heaps, passed, failed, reported: heaps.length - passed - failed };
}

export function printLint(r: LintReport): string {
  const out: string[] = [`Heap names on ${r.board ?? 'the emulated machine'}, Linux ${r.kernel} (profile ${r.profile}):`];
  for (const v of r.heaps) {
    const tag = v.ok ? 'ok' : v.fails ? 'FAIL' : 'fixed';
    out.push(`${tag.padEnd(5)} ${v.name}${v.suggestion !== null ? `  → suggest "${v.suggestion}"` : ''}  [named by the ${v.namedBy === 'kernel' ? 'kernel' : 'device tree'}: ${v.detail}]`);
    for (const f of v.findings) out.push(`        ${f.rule} ${f.severity}: ${f.message}`);
  }
  const fixedFailing = r.heaps.filter((h) => h.fails && !h.changeable).length;
  let summary = `${r.passed} passed, ${r.failed} failed`;
  if (r.reported > 0) summary += `, ${r.reported} fixed by the kernel (reported, not failed: --fail-on changeable)`;
  else if (fixedFailing > 0) summary += ` (${fixedFailing} of them fixed by the kernel: --fail-on changeable fails only on names the board can change)`;
  out.push(summary);
  return out.join('\n');
}

export interface UpgradeDiff extends HeapDiff {
  readonly from: string;
  readonly to: string;
  readonly board: string | null;
  /** What else user space sees change between the two kernels (src/api/kernel-changes.ts): the facts of the two profiles that differ. */
  readonly changes: readonly KernelChange[];
  /** What to do next. */
  readonly next: string;
}

export function upgradeDiff(machine: EmulatedOptions, boardPath: string | null, from: ProfileName, to: ProfileName): UpgradeDiff {
  const a = bootHeaps({ ...machine, profile: from }, boardPath);
  const b = bootHeaps({ ...machine, profile: to }, boardPath);
  const changes = kernelChanges(PROFILES[from], PROFILES[to]);
  const next = `run \`dmaheap conformance run test/conformance/cases --profile ${to}\` (and --profile ${from}) to check the cases above on each kernel; with --backend linux on a ${to} device they check the real kernel and your code's assumptions`;
  return { from, to, board: boardPath, ...diffHeaps(a.heaps.map(heapIdentity), b.heaps.map(heapIdentity)), changes, next };
}

function caseText(ch: KernelChange): string {
  if (ch.cases.length === 0) return 'no case';
  return `case${ch.cases.length === 1 ? '' : 's'} ${ch.cases.map((r) => `"${r.name}" (${r.file})`).join(', ')}`;
}

export function printDiff(d: UpgradeDiff): string {
  const out = [`Heaps on ${d.board ?? 'the emulated machine'}: Linux ${d.from} → ${d.to}`];
  for (const n of d.added) out.push(`  + ${n}  (new)`);
  for (const n of d.removed) out.push(`  - ${n}  (gone: code that opens /dev/dma_heap/${n} breaks)`);
  for (const r of d.renamed) out.push(`  ~ ${r.from} → ${r.to}  (same memory${r.oldNameKept ? `; "${r.from}" still exists` : `; "${r.from}" is gone: update code that opens it`})`);
  for (const n of d.unchanged) out.push(`  = ${n}`);
  if (d.added.length + d.removed.length + d.renamed.length === 0) out.push('  no change');
  const visible = d.changes.filter((c) => c.visible);
  out.push('');
  out.push(`What user space sees change, Linux ${d.from} → ${d.to}: ${visible.length === 0 ? 'nothing' : `${visible.length} change${visible.length === 1 ? '' : 's'}`}`);
  for (const g of CHANGE_GROUPS) {
    const inGroup = visible.filter((c) => c.group === g);
    if (inGroup.length === 0) continue;
    out.push(`  ${g}:`);
    for (const c of inGroup) {
      out.push(`    ${c.what}: ${c.fromText} → ${c.toText} (${c.version}; ${caseText(c)})`);
    }
  }
  const hidden = d.changes.filter((c) => !c.visible);
  if (hidden.length > 0) out.push(`  not observable by a DMA-BUF heaps program: ${hidden.map((c) => `${c.what} (${c.version})`).join('; ')} (dmaheap heaps --diff --json gives the reasons)`);
  out.push('');
  out.push(`next: ${d.next}`);
  return out.join('\n');
}

// ---- this machine (--backend linux) ------------------------------------------------------------

/** An open(2) of a heap node: `ok` (closed again) or the errno. */
export type OpenOutcome = 'ok' | ErrnoName;

/**
 * A heap in this machine's /dev/dma_heap and what is known about it, each fact with its source:
 * the client's {@link HeapProperties}, with `capacity` called `size` and the knowledge-base entry
 * cut to what a report needs.
 */
export interface LinuxHeap extends Omit<HeapProperties, 'capacity' | 'known'> {
  readonly name: string;
  readonly path: string;
  /** Bytes the heap can hand out; null: unknown. */
  readonly size: Inferred<number> | null;
  /** The knowledge-base entry its name matched. */
  readonly known: { readonly id: string; readonly pattern: string; readonly upstream: boolean; readonly since: string | null } | null;
  /** Whether this process may open the node read-only (enough to allocate) and read-write (libcamera). */
  readonly open: { readonly rdonly: OpenOutcome; readonly rdwr: OpenOutcome };
  /** The naming convention's verdict, judged on these facts (unknown ones assumed not to contradict the name). */
  readonly naming: Verdict;
}

export interface LinuxHeapsReport {
  /** "Linux 6.1.0 (this machine)" */
  readonly machine: string;
  readonly backend: 'linux';
  readonly release: string;
  readonly arch: string;
  /** Listing /dev/dma_heap: `ok` or the errno (ENOENT: no heaps framework or none loaded). */
  readonly devDmaHeap: OpenOutcome;
  /** By name. */
  readonly heaps: readonly LinuxHeap[];
  readonly cma: { readonly meminfo: { readonly cmaTotal: number; readonly cmaFree: number } | null; readonly areas: readonly CmaAreaFact[] | null };
  /** The live device tree: whether /sys/firmware/devicetree/base exists, and its reserved-memory regions (null: no such node). */
  readonly deviceTree: { readonly present: boolean; readonly reservedMemory: readonly ReservedRegionFact[] | null };
  readonly udmabuf: SystemFacts['udmabuf'];
  /** What to do next (no heaps, no permission, unknown sizes). */
  readonly next: readonly string[];
}

const DT_ROOT = '/sys/firmware/devicetree/base';

/** The facts the naming linter takes, from inferred ones; an unknown property is one the name does not claim (the inference read the name's property words). */
function lintFacts(h: HeapInfo): HeapFacts {
  const p = h.properties;
  const k = p.kind?.value ?? null;
  const r = p.region?.value ?? null;
  // the kernel names the CMA area of cma= or CONFIG_CMA_SIZE_* "reserved" (no device-tree node)
  const cmdlineArea = r === null && k === 'cma' && h.name === 'reserved';
  return {
    name: h.name,
    kind: k === 'system' || k === 'cma' || k === 'coherent' || k === 'protected' ? k : 'other',
    region: cmdlineArea
      ? { nodeName: null, path: null, base: null, size: p.capacity?.value ?? null, reusable: true, nomap: false }
      : r === null ? null : { nodeName: r.name, path: r.path, base: r.base, size: r.size, reusable: r.reusable === true, nomap: r.nomap === true },
    contiguous: p.contiguous?.value ?? false,
    cacheable: p.cacheable?.value ?? true,
    protected: p.protected?.value ?? false,
    legacyAlias: p.legacyAlias?.value === true,
  };
}

/**
 * This machine's heaps through `client` (over the Linux backend; a test passes any target):
 * DmaHeapClient.heaps() with the live device tree's reserved memory added to the facts, each
 * node opened read-only and read-write (and closed), the names linted.
 */
export function readLinuxHeaps(client: DmaHeapClient, label: string): LinuxHeapsReport {
  const t = client.target;
  const dt = deviceTreeFsOf(t);
  const reservedMemory = readReservedMemory(dt, DT_ROOT);
  // the real kernel has no exact facts; exact: false keeps a test's emulated stand-in honest too
  const facts = client.systemFacts({ facts: { reservedMemory }, exact: false });
  const infos = client.heaps({ facts, exact: false }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const verdicts = lintHeapNames(infos.map(lintFacts));
  const fc = fcntlConstants(t.arch);
  const tryOpen = (path: string, flags: number): OpenOutcome => {
    const r = t.open(path, flags | fc.O_CLOEXEC);
    if (r.errno !== null) return r.errno;
    t.close(r.ret);
    return 'ok';
  };
  const heaps: LinuxHeap[] = infos.map((h, i) => {
    const p = h.properties;
    const k = p.known;
    return {
      name: h.name,
      path: h.path,
      kind: p.kind,
      contiguous: p.contiguous,
      cacheable: p.cacheable,
      protected: p.protected,
      region: p.region,
      size: p.capacity,
      free: p.free,
      sameMemoryAs: p.sameMemoryAs,
      legacyAlias: p.legacyAlias,
      known: k === null ? null : { id: k.id, pattern: k.pattern, upstream: k.upstream, since: k.since },
      open: { rdonly: tryOpen(h.path, fc.O_RDONLY), rdwr: tryOpen(h.path, fc.O_RDWR) },
      naming: verdicts[i]!,
    };
  });
  const dir = t.readdir('/dev/dma_heap');
  const report: Omit<LinuxHeapsReport, 'next'> = {
    machine: label,
    backend: 'linux',
    release: t.release,
    arch: t.arch,
    devDmaHeap: dir.errno ?? 'ok',
    heaps,
    cma: { meminfo: facts.meminfo ?? null, areas: facts.cmaAreas ?? null },
    deviceTree: { present: t.readdir(DT_ROOT).names !== null, reservedMemory },
    udmabuf: facts.udmabuf ?? null,
  };
  return { ...report, next: nextSteps(report) };
}

function nextSteps(r: Omit<LinuxHeapsReport, 'next'>): string[] {
  const out: string[] = [];
  const u = r.udmabuf;
  if (r.heaps.length === 0) {
    if (r.devDmaHeap === 'ENOENT') out.push('no /dev/dma_heap: the kernel has no DMA-BUF heaps, or the heap modules are not loaded, or this container was started without the nodes; dmaheap doctor says which and what to do');
    else if (r.devDmaHeap === 'ok') out.push('/dev/dma_heap is empty: no heap registered (no heap driver built, or no CMA area for the CMA heap); dmaheap doctor says which');
    else out.push(`/dev/dma_heap cannot be listed (${r.devDmaHeap}): dmaheap doctor checks the directory and its permissions`);
    if (u?.usable === true) out.push('/dev/udmabuf works here: DmaHeapClient.allocateFor falls back to it (a sealed memfd turned into a dma-buf; not physically contiguous)');
    out.push('to see what a board would get: dmaheap heaps --backend emulated --board <your.dts> --profile <version>');
    return out;
  }
  const refused = r.heaps.filter((h) => h.open.rdonly !== 'ok');
  const roOnly = r.heaps.filter((h) => h.open.rdonly === 'ok' && h.open.rdwr !== 'ok');
  if (refused.length > 0) {
    out.push(`${refused.length === r.heaps.length ? 'no heap' : refused.map((h) => h.name).join(', ')} can${refused.length === r.heaps.length ? '' : 'not'} be opened by this user (${[...new Set(refused.map((h) => h.open.rdonly))].join(', ')}): dmaheap doctor shows each node's owner and mode and the udev rule or group that opens it`);
  }
  if (roOnly.length > 0) out.push(`${roOnly.map((h) => h.name).join(', ')}: read-only open works (enough to allocate with dmaheap and libdmabufheap), read-write does not (libcamera opens O_RDWR): dmaheap doctor`);
  const noSize = r.heaps.filter((h) => h.size === null && h.kind?.value !== 'system');
  if (noSize.length > 0) {
    const cmaUnread = (r.cma.areas ?? []).some((a) => a.size === null);
    out.push(`size unknown for ${noSize.map((h) => h.name).join(', ')}${cmaUnread ? ': the CMA area sizes are in /sys/kernel/debug/cma/<area>/count, which needs debugfs mounted and root' : ': nothing on this machine says (no device-tree region, no single CMA area)'}`);
  }
  return out;
}

function src<T>(p: Inferred<T> | null, show: (v: T) => string): string {
  return p === null ? 'unknown' : `${show(p.value)} (${p.source})`;
}

function regionText(r: HeapRegion): string {
  const flags = [r.reusable === true ? 'reusable' : '', r.nomap === true ? 'no-map' : ''].filter((f) => f !== '').join(',');
  return `${r.path ?? 'the cma= area'}${r.base !== null ? ` @0x${r.base.toString(16)}` : ''}${r.size !== null ? ` ${fmtBytes(r.size)}` : ''}${flags !== '' ? ` ${flags}` : ''}`;
}

function openText(o: LinuxHeap['open']): string {
  if (o.rdwr === 'ok') return 'rw';
  if (o.rdonly === 'ok') return `ro (rw: ${o.rdwr})`;
  return `no (${o.rdonly})`;
}

/** Per heap: which facts came from where and why, one line per (source, reason). */
function sourceLines(h: LinuxHeap): string[] {
  const facts: [string, Inferred<unknown> | null][] = [
    ['kind', h.kind],
    ['contiguous', h.contiguous],
    ['cached', h.cacheable],
    ['protected', h.protected],
    [h.region === null ? 'region' : `region ${regionText(h.region.value)}`, h.region],
    ['size', h.size],
    ['free', h.free],
    [h.sameMemoryAs === null ? '' : `same memory as ${h.sameMemoryAs.value.join(', ')}`, h.sameMemoryAs],
    ['a legacy name (prefer the other)', h.legacyAlias?.value === true ? h.legacyAlias : null],
  ];
  const groups = new Map<string, { source: string; reason: string; labels: string[] }>();
  for (const [label, p] of facts) {
    if (p === null) continue;
    const key = `${p.source}\0${p.reason}`;
    const g = groups.get(key) ?? { source: p.source, reason: p.reason, labels: [] };
    g.labels.push(label);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => `${g.labels.join(', ')} (${g.source}): ${g.reason}`);
}

function udmabufText(u: SystemFacts['udmabuf']): string {
  if (u === null || u === undefined) return 'unknown';
  if (!u.present) return 'no /dev/udmabuf (CONFIG_UDMABUF off or the module not loaded)';
  const limit = u.sizeLimit === null ? '' : `, size limit ${fmtBytes(u.sizeLimit)} (size_limit_mb)`;
  return u.usable ? `/dev/udmabuf usable${limit}: a memfd can become a dma-buf without a heap` : `/dev/udmabuf exists but this user cannot open it${limit} (dmaheap doctor)`;
}

function cmaText(c: LinuxHeapsReport['cma']): string {
  const mi = c.meminfo === null ? 'no CmaTotal in /proc/meminfo (CONFIG_CMA off)' : `CmaTotal ${fmtBytes(c.meminfo.cmaTotal)}, CmaFree ${fmtBytes(c.meminfo.cmaFree)} (/proc/meminfo)`;
  if (c.areas === null) return `${mi}; no /sys/kernel/mm/cma`;
  if (c.areas.length === 0) return `${mi}; no CMA area in /sys/kernel/mm/cma`;
  const areas = c.areas.map((a) => `${a.name}${a.size === null ? '' : ` ${fmtBytes(a.size)}${a.free !== null ? `, ${fmtBytes(a.free)} free` : ''}`}`);
  return `${mi}; areas in /sys/kernel/mm/cma: ${areas.join('; ')}${c.areas.some((a) => a.size === null) ? ' (sizes: debugfs cma/<area>/count, root)' : ''}`;
}

function deviceTreeText(d: LinuxHeapsReport['deviceTree']): string {
  if (!d.present) return `no ${DT_ROOT} (a machine described by ACPI, not a device tree)`;
  if (d.reservedMemory === null) return 'no /reserved-memory node';
  if (d.reservedMemory.length === 0) return '/reserved-memory has no region';
  return `/reserved-memory: ${d.reservedMemory.map((r) => `${r.name} (${[...r.compatible, r.size !== null ? fmtBytes(r.size) : '', r.reusable ? 'reusable' : '', r.nomap ? 'no-map' : '', r.cmaDefault ? 'linux,cma-default' : ''].filter((x) => x !== '').join(', ')})`).join('; ')}`;
}

export function printLinuxHeaps(r: LinuxHeapsReport): string {
  const out: string[] = [];
  const n = r.heaps.length;
  out.push(`Heaps on this machine: Linux ${r.release} ${r.arch}, ${n === 0 ? 'no heap' : `${n} heap${n === 1 ? '' : 's'}`} in /dev/dma_heap${r.devDmaHeap === 'ok' ? '' : ` (${r.devDmaHeap})`}`);
  if (n > 0) {
    out.push('The kernel has no heap query: every fact says where it came from (name: the knowledge base of heap names).');
    out.push(table([
      ['name', 'kind', 'contig', 'cached', 'protected', 'size', 'free', 'open', 'naming'],
      ...r.heaps.map((h) => [
        h.name, src(h.kind, String), src(h.contiguous, yn), src(h.cacheable, yn), src(h.protected, yn), src(h.size, fmtBytes), src(h.free, fmtBytes), openText(h.open), verdictText(h.naming),
      ]),
    ]));
    out.push('');
    out.push('Where the facts come from:');
    const w = Math.max(...r.heaps.map((h) => h.name.length));
    for (const h of r.heaps) {
      const lines = sourceLines(h);
      if (lines.length === 0) lines.push('nothing: the name is not in the knowledge base and nothing on this machine describes it');
      lines.forEach((l, i) => out.push(`  ${(i === 0 ? h.name : '').padEnd(w)}  ${l}`));
    }
  }
  out.push(...namingNotes(r.heaps));
  out.push('');
  out.push(`CMA          ${cmaText(r.cma)}`);
  out.push(`device tree  ${deviceTreeText(r.deviceTree)}`);
  out.push(`udmabuf      ${udmabufText(r.udmabuf)}`);
  if (r.next.length > 0) {
    out.push('');
    r.next.forEach((x, i) => out.push(`${i === 0 ? 'next: ' : '      '}${x}`));
  }
  return out.join('\n');
}
