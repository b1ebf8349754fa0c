/**
 * `dmaheap heaps` and `dmaheap lint-names`: the heaps a machine or a board gets on a kernel
 * version, what backs each one, its properties and size, and how its name fares against the
 * naming convention; and what a kernel upgrade changes.
 */
import { diffHeaps, lintHeapNames } from '../../api/index.js';
import type { HeapDiff, Verdict } from '../../api/index.js';
import { createEmulatedTarget, describeHeaps, heapFacts, heapIdentity } from '../../backends/emulated/index.js';
import type { EmulatedOptions, HeapDescription } from '../../backends/emulated/index.js';
export { withBoard } from '../common/machine.js';
import { fmtBytes, table } from '../common/format.js';

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
}

export function bootHeaps(machine: EmulatedOptions, boardPath: string | null, previous?: readonly string[]): BootedHeaps {
  const t = createEmulatedTarget(machine);
  try {
    const k = t.kernel;
    const heaps = describeHeaps(k);
    const verdicts = lintHeapNames(heaps.map(heapFacts), previous !== undefined ? { previous } : undefined);
    return {
      kernel: k.profile.release,
      profile: k.profile.name,
      cmdline: k.cmdline,
      board: boardPath,
      heaps: heaps.map((h, i) => ({ ...h, naming: verdicts[i]! })),
      log: k.memoryPlan.log,
      diagnostics: k.memoryPlan.diagnostics,
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
  const notes = r.heaps.filter((h) => !h.naming.ok);
  if (notes.length > 0) {
    out.push('');
    out.push('Naming (the kernel\'s heap naming convention; `dmaheap lint-names` explains every rule):');
    for (const h of notes) {
      const f = h.naming.findings.filter((x) => x.severity !== 'info');
      out.push(`  ${h.name}: ${f.map((x) => `${x.rule}: ${x.message}`).join('; ')}${h.naming.suggestion !== null ? ` → suggest "${h.naming.suggestion}"` : ''}`);
    }
  }
  for (const d of r.diagnostics) out.push(`note: ${d}`);
  if (r.heaps.length === 1) out.push('Only the system heap: add cma=64M to the command line (--cmdline) or a reusable shared-dma-pool region to the board for a CMA heap.');
  return out.join('\n');
}

function yn(b: boolean): string {
  return b ? 'yes' : 'no';
}

export function printLint(r: BootedHeaps): string {
  const out: string[] = [`Heap names on ${r.board ?? 'the emulated machine'}, Linux ${r.kernel} (profile ${r.profile}):`];
  for (const h of r.heaps) {
    const v = h.naming;
    out.push(`${v.ok ? 'ok  ' : 'FAIL'}  ${h.name}${v.suggestion !== null ? `  → suggest "${v.suggestion}"` : ''}`);
    for (const f of v.findings) out.push(`        ${f.rule} ${f.severity}: ${f.message}`);
  }
  const bad = r.heaps.filter((h) => !h.naming.ok).length;
  out.push(`${r.heaps.length - bad} passed, ${bad} failed`);
  return out.join('\n');
}

export interface UpgradeDiff extends HeapDiff {
  readonly from: string;
  readonly to: string;
  readonly board: string | null;
}

export function upgradeDiff(machine: EmulatedOptions, boardPath: string | null, from: string, to: string): UpgradeDiff {
  const a = bootHeaps({ ...machine, profile: from }, boardPath);
  const b = bootHeaps({ ...machine, profile: to }, boardPath);
  return { from, to, board: boardPath, ...diffHeaps(a.heaps.map(heapIdentity), b.heaps.map(heapIdentity)) };
}

export function printDiff(d: UpgradeDiff): string {
  const out = [`Heaps on ${d.board ?? 'the emulated machine'}: Linux ${d.from} → ${d.to}`];
  for (const n of d.added) out.push(`  + ${n}  (new)`);
  for (const n of d.removed) out.push(`  - ${n}  (gone: code that opens /dev/dma_heap/${n} breaks)`);
  for (const r of d.renamed) out.push(`  ~ ${r.from} → ${r.to}  (same memory${r.oldNameKept ? `; "${r.from}" still exists` : `; "${r.from}" is gone: update code that opens it`})`);
  for (const n of d.unchanged) out.push(`  = ${n}`);
  if (d.added.length + d.removed.length + d.renamed.length === 0) out.push('  no change');
  return out.join('\n');
}
