// What a kernel upgrade changes for user space (src/api/kernel-changes.ts): the table covers every
// profile fact, every case it names exists with the profile list it copies, every user-visible
// change between the Android kernels and 7.3 is checked by a case that runs on one side, and
// `dmaheap heaps --diff 5.10 7.3` prints the changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CHANGE_GROUPS, KERNEL_FACTS, KERNEL_FACT_INFO, caseRunsOn, kernelChanges } from '../../src/api/kernel-changes.js';
import type { CaseRef, KernelChange } from '../../src/api/kernel-changes.js';
import { PROFILES, PROFILE_NAMES } from '../../src/kernel/profile.js';
import type { ProfileName } from '../../src/kernel/profile.js';
import { PROFILE_FACTS } from '../../src/kernel/profile-facts.js';
import { profileMatches } from '../../src/apps/conformance/cases.js';

const MAIN = new URL('../../src/apps/cli/main.js', import.meta.url).pathname;
const CASES = new URL('../../../test/conformance/cases/', import.meta.url).pathname;

/** The case files' cases by file and name: the case-level profile list (null: none). */
function caseIndex(): Map<string, Map<string, readonly string[] | null>> {
  const index = new Map<string, Map<string, readonly string[] | null>>();
  const files = new Set(Object.values(KERNEL_FACT_INFO).flatMap((i) => (i.visible ? i.cases.map((c) => c.file) : [])));
  for (const f of files) {
    const json = JSON.parse(readFileSync(CASES + f, 'utf8')) as { cases: { name: string; profiles?: string[] }[] };
    const byName = new Map<string, readonly string[] | null>();
    for (const c of json.cases) byName.set(c.name, c.profiles ?? null);
    index.set(f, byName);
  }
  return index;
}

test('the table has every profile fact, and only those', () => {
  assert.deepEqual([...KERNEL_FACTS].sort(), Object.keys(PROFILE_FACTS).sort());
  const profileKeys = Object.keys(PROFILES['7.3']).filter((k) => k !== 'name' && k !== 'release').sort();
  assert.deepEqual([...KERNEL_FACTS].sort(), profileKeys);
  assert.deepEqual(Object.keys(KERNEL_FACT_INFO).sort(), profileKeys);
});

test('every case the table names exists under that exact name, with the profile list the table copies', () => {
  const index = caseIndex();
  for (const [fact, info] of Object.entries(KERNEL_FACT_INFO)) {
    if (!info.visible) continue;
    assert.ok(info.cases.length > 0, `${fact} names no case`);
    for (const c of info.cases) {
      const byName = index.get(c.file);
      assert.ok(byName?.has(c.name), `${fact}: no case "${c.name}" in ${c.file}`);
      assert.deepEqual(byName?.get(c.name), c.profiles, `${fact}: "${c.name}" (${c.file}) has another profile list`);
    }
  }
});

test('caseRunsOn is the runner\'s profileMatches', () => {
  const lists: (readonly string[] | null)[] = [null, ['5.10'], ['!5.10'], ['!5.10', '!5.15'], ['6.12', '7.3'], ['!7.3', '6.1', '7.3'], ['!5.10', '!5.15', '!7.3']];
  for (const profiles of lists) {
    for (const p of PROFILE_NAMES) {
      const ref: CaseRef = { file: 'x.json', name: 'x', profiles };
      assert.equal(caseRunsOn(ref, p), profiles === null ? true : profileMatches(profiles, p), `${JSON.stringify(profiles)} on ${p}`);
    }
  }
});

const ANDROID_AND_MAINLINE: readonly ProfileName[] = ['5.10', '5.15', '6.1', '6.12', '7.3'];

test('between any two of 5.10, 5.15, 6.1, 6.12 and 7.3 every user-visible change is checked by a case that runs on one side', () => {
  const index = caseIndex();
  let pairs = 0;
  for (const a of ANDROID_AND_MAINLINE) {
    for (const b of ANDROID_AND_MAINLINE) {
      if (a === b) continue;
      pairs++;
      const changes = kernelChanges(PROFILES[a], PROFILES[b]);
      for (const ch of changes) {
        if (!ch.visible) {
          assert.equal(ch.cases.length, 0);
          assert.ok(ch.reason !== null && ch.reason.length > 0, `${ch.fact}: no reason`);
          continue;
        }
        assert.ok(ch.cases.length > 0, `${a} → ${b}: ${ch.fact} changes and no case runs on either`);
        for (const c of ch.cases) {
          const profiles = index.get(c.file)?.get(c.name);
          assert.ok(profiles !== undefined, `${c.file}: "${c.name}"`);
          assert.ok(profiles === null || profileMatches(profiles, a) || profileMatches(profiles, b), `${a} → ${b}: ${ch.fact}: "${c.name}" runs on neither`);
        }
      }
    }
  }
  assert.equal(pairs, 20);
});

test('kernelChanges: the facts that differ, either way round, with what a program sees', () => {
  const up = kernelChanges(PROFILES['5.10'], PROFILES['7.3']);
  const down = kernelChanges(PROFILES['7.3'], PROFILES['5.10']);
  assert.deepEqual(up.map((c) => c.fact).sort(), down.map((c) => c.fact).sort());
  assert.equal(up.length, 40);
  assert.equal(up.filter((c) => c.visible).length, 37);
  assert.deepEqual(up.filter((c) => !c.visible).map((c) => c.fact), ['pidfdThread', 'pidfdSelf', 'writeBeginBeforeFault']);
  // grouped in CHANGE_GROUPS order, the facts user space cannot see last
  const ranks = up.map((c) => (c.group === null ? CHANGE_GROUPS.length : CHANGE_GROUPS.indexOf(c.group)));
  assert.deepEqual(ranks, [...ranks].sort((x, y) => x - y));
  const fdinfo = up.find((c) => c.fact === 'fdinfoIno');
  assert.deepEqual(fdinfo, {
    fact: 'fdinfoIno', visible: true, group: 'dma-buf files', what: '/proc/<pid>/fdinfo of a dma-buf', from: false, to: true,
    fromText: 'has no `ino:` line', toText: 'has an `ino:` line', version: 'v5.14',
    cases: [{ file: 'fd.json', name: 'probe: ${heap}/buf4k/fdinfo', profiles: null }], reason: null,
  } satisfies KernelChange);
  const limit = down.find((c) => c.fact === 'udmabufSizeLimitMb');
  assert.equal(limit?.fromText, 'INT_MAX MiB (65 MiB is accepted)');
  assert.equal(limit?.toText, '64 MiB (65 MiB is EINVAL)');
  // only the cases that run on one of the two: 6.12 → 7.3 sees the 6.12 and 6.17+ CMA sysfs cases, not the 5.15-6.6 one
  const counts = kernelChanges(PROFILES['6.12'], PROFILES['7.3']).find((c) => c.fact === 'cmaSysfsPageCounts');
  assert.deepEqual(counts?.cases.map((c) => c.profiles), [['6.12'], ['6.17', '6.18', '6.19', '7.0', '7.3']]);
  assert.deepEqual(kernelChanges(PROFILES['7.0'], PROFILES['7.0']), []);
  // duplicateNameErrno is the same on every profile here, and marked as not observable
  assert.equal(KERNEL_FACT_INFO.duplicateNameErrno.visible, false);
});

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'heaps', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dmaheap heaps --diff 5.10 7.3: the heap changes, then 37 user-space changes by group, each with its version and case, then what to do', () => {
  const r = run('--diff', '5.10', '7.3');
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 9), [
    'Heaps on the emulated machine: Linux 5.10 → 7.3',
    '  ~ reserved → default_cma_region  (same memory; "reserved" still exists)',
    '  = system',
    '  = reserved',
    '',
    'What user space sees change, Linux 5.10 → 7.3: 37 changes',
    '  heaps:',
    '    heap buffers: exported as heap_helpers, the system heap capped at 2 GiB, MAP_PRIVATE EINVAL on every heap, pages fault in → exported under the heap\'s name (exp_name), no 2 GiB cap, one system-heap page maps MAP_PRIVATE, system-heap mappings are PFN maps (v5.11 (heap-helpers.c removed; the heap name as exp_name from v5.13); cases "probe: ${heap}/buf4k/fdinfo" (fd.json), "5.10: the heap helpers refuse MAP_PRIVATE on every heap (EINVAL), even one page of the system heap" (mmap.json), "probe: system/buf4k/mmap-rw-private" (mmap.json))',
    '    the default CMA area\'s heap: is named after the area (reserved, linux,cma) → is renamed default_cma_region (v6.17; cases "probe: list-heaps" (discovery.json), "spec 8.8: with a default CMA area, default_cma_region exists (6.17+), and the area\'s own name too" (discovery.json))',
  ]);
  assert.deepEqual(lines.slice(-7), [
    '  cgroups:',
    '    /sys/module/dma_heap/parameters/mem_accounting: does not exist → exists (N by default: heap memory charged to memcg on request) (v7.0; case "spec 8.65: mem_accounting reads N by default and cannot be written" (stats.json))',
    '    the dmem cgroup controller: does not exist → exists (cgroup.controllers lists dmem; the profile builds CONFIG_CGROUP_DMEM) (v6.14; case "memcg: from 6.17 the root also offers the dmem controller" (memcg.json))',
    '  not observable by a DMA-BUF heaps program: pidfd_open(PIDFD_THREAD) (v6.9); PIDFD_SELF_THREAD / PIDFD_SELF_THREAD_GROUP (v6.15); a write() to a memfd from a buffer that faults (v6.14) (dmaheap heaps --diff --json gives the reasons)',
    '',
    'next: run `dmaheap conformance run test/conformance/cases --profile 7.3` (and --profile 5.10) to check the cases above on each kernel; with --backend linux on a 7.3 device they check the real kernel and your code\'s assumptions',
    '',
  ]);
  const changeLines = lines.filter((l) => l.startsWith('    '));
  assert.equal(changeLines.length, 37);
  assert.ok(changeLines.every((l) => / \(.*; cases? ".*\)$/.test(l)), 'every change names its case');
  assert.deepEqual(lines.filter((l) => /^ {2}[a-z].*:$/.test(l)), CHANGE_GROUPS.map((g) => `  ${g}:`));

  const j = run('--diff', '5.10,7.3', '--json');
  assert.equal(j.status, 0);
  const d = JSON.parse(j.stdout) as { from: string; to: string; renamed: unknown[]; changes: KernelChange[]; next: string };
  assert.equal(d.from, '5.10');
  assert.deepEqual(d.renamed, [{ from: 'reserved', to: 'default_cma_region', oldNameKept: true }]);
  assert.deepEqual(d.changes, kernelChanges(PROFILES['5.10'], PROFILES['7.3']));
  assert.match(d.next, /^run `dmaheap conformance run test\/conformance\/cases --profile 7\.3`/);
});

test('dmaheap heaps --diff 6.19 7.0: no heap change, the user-space changes still listed', () => {
  const r = run('--diff', '6.19', '7.0');
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout.split('\n').slice(0, 10), [
    'Heaps on the emulated machine: Linux 6.19 → 7.0',
    '  = system',
    '  = default_cma_region',
    '  = reserved',
    '  no change',
    '',
    'What user space sees change, Linux 6.19 → 7.0: 2 changes',
    '  sysfs and debugfs:',
    '    /sys/kernel/dmabuf/buffers: exists (CONFIG_DMABUF_SYSFS_STATS) → does not exist (v5.15 (added), v7.0 (removed); cases "probe: ${heap}/buf4k/sysfs" (stats.json), "spec 8.64: no /sys/kernel/dmabuf/buffers in 7.0 (sysfs stats removed)" (stats.json))',
    '  cgroups:',
  ]);
});
