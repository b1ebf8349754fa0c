/**
 * The emulated kernel against the referees, line by line: the probes of issue 11
 * (test/oracle/issue-11/mm-vma.c, mm-vma2.c: mmap's generic checks, VMA splits and merges,
 * mprotect, mremap, madvise, msync, mlock, fork) re-run on the emulated kernel
 * (mm-oracle-probe.ts) must print what Linux 6.1.192, 6.12.118 and 7.3-rc7 printed, each on
 * its own profile.
 * Masked: device numbers of pseudo file systems (they depend on boot order), the PFN a
 * copy-on-write PFN map shows, VM_PAT (`ar`, x86 PAT tracking), VM_MAYBE_GUARD (`gu`, not
 * modelled: divergences.ts vm-maybe-guard), and the lines that depend on what the C program
 * has mapped besides the probe ([vvar] above a mapping).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runMmVma, runMmVma2 } from './mm-oracle-probe.js';
import type { ProfileName } from '../../src/kernel/profile.js';

const DIR = fileURLToPath(new URL('../../../test/oracle/issue-11/', import.meta.url));

/** Lines that depend on the C program's own address space, not on the call. */
const ENVIRONMENT = [
  /\/mmap-len100(-touch)?: (maps|ret=0)/, // [vvar] sits right above the first mapping of the C program
  /\/private-copy-populate-read-past:/, // the 4 pages past the mapping belong to whatever the C program had there
  // the 7.3 guest runs with 5-level paging (CONFIG_X86_5LEVEL on a CPU with LA57: TASK_SIZE_MAX
  // is 2^56 - 4096), so a MAP_FIXED at 2^47 - 4096 maps; the emulated x86-64 machine has 4 levels
  // (TASK_SIZE 2^47 - 4096), as the 6.1 and 6.12 guests, and refuses it with ENOMEM
  /\/fixed-last-page-4level:/,
];

function mask(line: string): string {
  return line
    .replace(/ 00:0[2-9a-f] /g, ' 00:DEV ')
    .replace(/ (r|-)(w|-)(x|-)p [0-9a-f]{8} 00:DEV/g, ' $1$2$3p PFN 00:DEV')
    .replace(/ ar /g, ' ')
    // VM_MAYBE_GUARD is not modelled (src/kernel/divergences.ts vm-maybe-guard)
    .replace(/ gu /g, ' ')
    .replace(/^osrelease=.*/, 'osrelease');
}

function compare(name: string, observed: string[], expected: string[]): void {
  const exp = expected.filter((l) => l !== '' && !ENVIRONMENT.some((r) => r.test(l))).map(mask);
  const obs = observed.filter((l) => !ENVIRONMENT.some((r) => r.test(l))).map(mask);
  const diffs: string[] = [];
  const n = Math.max(exp.length, obs.length);
  for (let i = 0; i < n; i++) {
    if (exp[i] === obs[i]) continue;
    diffs.push(`line ${i + 1}:\n  linux:    ${exp[i] ?? '(none)'}\n  emulated: ${obs[i] ?? '(none)'}`);
    if (diffs.length >= 12) break;
  }
  assert.equal(exp.length, obs.length, `${name}: ${obs.length} lines, the referee printed ${exp.length}${diffs.length > 0 ? `\n${diffs.join('\n')}` : ''}`);
  assert.deepEqual(diffs, [], `${name}: lines differ from the referee`);
}

function referee(file: string): string[] {
  return readFileSync(`${DIR}${file}`, 'utf8').split('\n');
}

for (const profile of ['6.1', '6.12', '7.3'] as ProfileName[]) {
  test(`mm-vma.c: the emulated ${profile} kernel prints what Linux ${profile} printed`, () => {
    compare(`mm-vma ${profile}`, runMmVma(profile), referee(`mm-vma-${profile}.out`));
  });
  test(`mm-vma2.c: the emulated ${profile} kernel prints what Linux ${profile} printed`, () => {
    compare(`mm-vma2 ${profile}`, runMmVma2(profile), referee(`mm-vma2-${profile}.out`));
  });
}

