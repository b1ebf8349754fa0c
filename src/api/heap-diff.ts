/**
 * What a kernel upgrade changes for a board's heaps: heaps that appear, disappear, or are
 * renamed (the same backing memory under another name), and those that stay.
 */

/** The identity of a heap's memory, independent of its name. */
export interface HeapIdentity {
  readonly name: string;
  /** e.g. 'system', 'cma:/reserved-memory/linux,cma', 'cma:reserved' (the cmdline area), 'coherent:/reserved-memory/x' */
  readonly backing: string;
}

export interface HeapDiff {
  readonly added: string[];
  readonly removed: string[];
  /** Same backing memory, new name; `kept: true` when the old name also survives (a compatibility alias). */
  readonly renamed: { from: string; to: string; oldNameKept: boolean }[];
  readonly unchanged: string[];
}

/**
 * Compares the heaps of two kernels on one board. A heap is unchanged when its name exists on
 * both; a name that disappears while another name appears for the same backing is a rename; the
 * rest are added or removed. A new name over a backing that keeps its old name too (6.17's
 * default_cma_region beside the legacy name) is reported as a rename with the old name kept.
 */
export function diffHeaps(before: readonly HeapIdentity[], after: readonly HeapIdentity[]): HeapDiff {
  const beforeNames = new Set(before.map((h) => h.name));
  const afterNames = new Set(after.map((h) => h.name));
  const unchanged = [...beforeNames].filter((n) => afterNames.has(n));
  const renamed: HeapDiff['renamed'] = [];
  const matchedNew = new Set<string>();
  const matchedOld = new Set<string>();
  for (const b of before) {
    const successors = after.filter((a) => a.backing === b.backing && !beforeNames.has(a.name) && !matchedNew.has(a.name));
    const first = successors[0];
    if (first === undefined) continue;
    renamed.push({ from: b.name, to: first.name, oldNameKept: afterNames.has(b.name) });
    matchedNew.add(first.name);
    matchedOld.add(b.name);
  }
  const added = after.filter((a) => !beforeNames.has(a.name) && !matchedNew.has(a.name)).map((a) => a.name);
  const removed = before.filter((b) => !afterNames.has(b.name) && !matchedOld.has(b.name)).map((b) => b.name);
  return { added, removed, renamed, unchanged };
}
