/**
 * What the Linux-backend tests expect of this machine's kernel where it depends on the version
 * (the referees: 5.10.262, 6.1.192, 6.12.118, 7.3-rc7; docs/kernels.md).
 */
import { release } from 'node:os';
import { kernelVersion } from '../../src/api/heap-knowledge.js';

/** This machine's kernel is older than `version` (major.minor of `uname -r`). */
export function kernelBefore(version: string): boolean {
  const [a, b] = kernelVersion(release()) ?? [0, 0];
  const [c, d] = kernelVersion(version) ?? [0, 0];
  return a < c || (a === c && b < d);
}

/**
 * The exporter (fdinfo `exp_name`) of a buffer of `heap`: `heap_helpers` for every heap before
 * 5.11 (the helper library), the heap's name from 5.13 (profile fact heapHelpers).
 */
export function heapExporter(heap: string): string {
  return kernelBefore('5.11') ? 'heap_helpers' : heap;
}

/** /proc/<pid>/fdinfo has the generic `ino:` line (5.14; profile fact fdinfoIno). */
export function fdinfoHasIno(): boolean {
  return !kernelBefore('5.14');
}
