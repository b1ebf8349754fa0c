// Android's own kernels as data (src/kernel/android.ts): the GKI branches, their facts with
// sources or 'unknown', the --profile android<N>-<version> machines, and doctor's report of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANDROID_BRANCHES, ANDROID_BRANCH_NAMES, ANDROID_FACT_LABELS, UNKNOWN, androidBranch, androidFact, androidRelease, parseGkiRelease, resolveAndroidProfile,
} from '../../src/kernel/android.js';
import type { AndroidFactKey } from '../../src/kernel/android.js';
import { Kernel, KernelConfigError } from '../../src/kernel/kernel.js';
import { PROFILES, isProfileName } from '../../src/kernel/profile.js';
import { createEmulatedTarget, emulatedBackend } from '../../src/backends/emulated/index.js';
import { machineFrom, parseMachineProfile, UsageError } from '../../src/apps/common/args.js';
import { androidFactText, runDoctor } from '../../src/apps/cli/doctor.js';
import type { Check } from '../../src/apps/cli/doctor.js';
import { emulatedDoctor } from '../../src/apps/common/backend.js';
import type { DoctorTarget } from '../../src/apps/common/backend.js';

const KEYS = Object.keys(ANDROID_FACT_LABELS) as AndroidFactKey[];
/** A repository path@commit (40 hex digits) or a URL. */
const SOURCE = /^(github\.com\/[^ ]+ [^ ]+ @[0-9a-f]{40}|https:\/\/)/;

test('the branches: names, mainline bases, every fact once, a source for every known value', () => {
  assert.deepEqual(ANDROID_BRANCHES.map((b) => `${b.name} ${b.mainline} ${b.android}`), [
    'android12-5.10 5.10 12', 'android13-5.10 5.10 13', 'android13-5.15 5.15 13', 'android14-5.15 5.15 14', 'android14-6.1 6.1 14', 'android15-6.6 6.6 15', 'android16-6.12 6.12 16',
  ]);
  assert.deepEqual(ANDROID_BRANCHES.map((b) => b.name), [...ANDROID_BRANCH_NAMES]);
  for (const b of ANDROID_BRANCHES) {
    assert.deepEqual(b.facts.map((f) => f.key), KEYS, `${b.name}: every fact once, in label order`);
    for (const f of b.facts) {
      const where = `${b.name} ${f.key}`;
      assert.ok(f.note.length > 0, where);
      if (f.value === UNKNOWN) {
        assert.equal(f.source, null, `${where}: an unknown value has no source`);
      } else {
        assert.ok(f.source !== null && f.source.split('; ').every((s) => SOURCE.test(s)), `${where}: ${f.source}`);
      }
    }
    // every branch exists, and the sources say so
    assert.equal(androidFact(b, 'branch').value, true, b.name);
  }
});

test('concrete facts: android12-5.10 system heap, android14-6.1 gki_defconfig, android16-6.12 only exists', () => {
  const a12 = androidBranch('android12-5.10')!;
  assert.deepEqual(androidFact(a12, 'systemUncachedHeap'), {
    key: 'systemUncachedHeap', value: true,
    source: 'github.com/Anything-at-25-00/android_kernel_common_android12-5.10 drivers/dma-buf/heaps/system_heap.c @0d6c25031ed3a52fc7cb628d2068f2518fb2d320 (a copy of android12-5.10)',
    note: 'system_heap_create() adds "system-uncached" after "system": the same pages, mapped write-combined, CPU syncs skipped (EBUSY until its DMA mask is set); libdmabufheap AllocSystem() and Codec2 pick it for buffers the CPU does not touch',
  });
  assert.deepEqual(androidFact(a12, 'systemHeapPagePools').value, [8, 4, 0]);
  assert.equal(androidFact(a12, 'systemHeapDeferredFree').value, true);
  assert.match(androidFact(a12, 'systemHeapDeferredFree').source!, /deferred-free-helper\.c @bd1639945c30298e4bea2b611d6b0cd08d3cdd98$/);
  assert.deepEqual(a12.emulated, { systemUncachedHeap: true, kmiGeneration: 9 });
  const a14 = androidBranch('android14-6.1')!;
  assert.equal(androidFact(a14, 'gkiDefconfig').value, 'DMABUF_HEAPS=y, DMABUF_SYSFS_STATS=y, DMABUF_HEAPS_DEFERRED_FREE=y, DMABUF_HEAPS_PAGE_POOL=y; DMABUF_HEAPS_SYSTEM not set in the defconfig');
  assert.equal(androidFact(a14, 'systemUncachedHeap').value, true);
  assert.match(androidFact(a14, 'systemUncachedHeap').source!, /^github\.com\/sreelekshman\/android_kernel_6\.1_nothing_mt6878 drivers\/dma-buf\/heaps\/system_heap\.c @9eed859493342169b2511b27ed0b26e35906dc4a .*BRANCH=android14-6\.1\)$/);
  // 6.1 frees into the pools at once: the deferred-free helper is in the tree but unused
  assert.equal(androidFact(a14, 'systemHeapDeferredFree').value, false);
  assert.deepEqual(androidFact(a14, 'systemHeapPagePools').value, [8, 4, 0]);
  assert.equal(androidFact(a14, 'totalPoolsKb').value, UNKNOWN);
  assert.deepEqual(a14.emulated, { systemUncachedHeap: true, kmiGeneration: null });
  assert.deepEqual(androidBranch('android15-6.6')!.emulated, { systemUncachedHeap: false, kmiGeneration: null });
  // the 5.15 system heap seen in a tree whose branch is not stated stays unknown on both candidates
  for (const n of ['android13-5.15', 'android14-5.15']) {
    const f = androidFact(androidBranch(n)!, 'systemUncachedHeap');
    assert.equal(f.value, UNKNOWN, n);
    assert.match(f.note, /android13-5\.15 or android14-5\.15: the mirror does not say which/);
  }
  const a16 = androidBranch('android16-6.12')!;
  assert.deepEqual(a16.facts.filter((f) => f.value !== UNKNOWN).map((f) => f.key), ['branch']);
  // the heap_flags question: mainline refuses them, and nothing read shows a branch changing that
  for (const b of ANDROID_BRANCHES) assert.equal(androidFact(b, 'vendorHeapFlags').value, UNKNOWN, b.name);
});

test('resolving a profile name, and GKI kernel releases', () => {
  const r = resolveAndroidProfile('android14-6.1');
  assert.deepEqual([r?.mainline, r?.branch.name], ['6.1', 'android14-6.1']);
  assert.equal(resolveAndroidProfile('6.1'), null);
  assert.equal(resolveAndroidProfile('android9-4.19'), null);
  const g = parseGkiRelease('5.10.198-android12-9-00085-g226a9632f13d');
  assert.deepEqual(g && { ...g, known: g.known?.name ?? null }, { mainline: '5.10', android: 12, kmiGeneration: 9, branch: 'android12-5.10', known: 'android12-5.10' });
  const old = parseGkiRelease('5.4.42-android12-0-foo');
  assert.deepEqual(old && [old.branch, old.known], ['android12-5.4', null]);
  assert.equal(parseGkiRelease('6.1.192'), null);
  assert.equal(parseGkiRelease('6.1.0-android-foo'), null);
  assert.equal(androidRelease('5.10.240', androidBranch('android12-5.10')!), '5.10.240-android12-9');
  assert.equal(androidRelease('6.1.192', androidBranch('android14-6.1')!), '6.1.192');
});

test('booting a branch: its mainline profile, system-uncached where sourced, no unsourced heap, clear errors', () => {
  const k = new Kernel({ android: 'android14-6.1', cmdline: 'cma=64M' });
  assert.deepEqual([k.profile.name, k.profile.release, k.android?.name], ['6.1', '6.1.192', 'android14-6.1']);
  assert.deepEqual(k.heaps().map((h) => h.devName), ['system', 'system-uncached', 'reserved']);
  assert.deepEqual(new Kernel({ profile: '6.1', cmdline: 'cma=64M' }).heaps().map((h) => h.devName), ['system', 'reserved']);
  assert.throws(() => new Kernel({ android: 'android14-6.1', profile: '6.12' }), (e: unknown) => e instanceof KernelConfigError && e.message === 'the Android branch android14-6.1 is based on Linux 6.1, not on the 6.12 profile');
  assert.throws(() => new Kernel({ android: 'android9-4.19' }), /^KernelConfigError: unknown Android GKI branch 'android9-4.19' \(known: android12-5.10, android13-5.10, android13-5.15, android14-5.15, android14-6.1, android15-6.6, android16-6.12\)$/);
  // EmulatedOptions.profile takes a branch name
  const t = createEmulatedTarget({ profile: 'android15-6.6', cmdline: 'cma=64M' });
  assert.deepEqual([t.release, t.kernel.android?.name, t.listHeaps()], ['6.6.0', 'android15-6.6', ['system', 'reserved']]);
  t.dispose();
});

test('android14-6.1: system-uncached hands out system pages under its own name', () => {
  const c = emulatedBackend.createClient({ profile: 'android14-6.1' });
  try {
    const t = c.target as ReturnType<typeof createEmulatedTarget>;
    const pages = () => t.kernel.buddy.freePages;
    const a = c.allocate('system', 1 << 20);
    a.close();
    const before = pages();
    const s = c.allocate('system', 1 << 20);
    const system = before - pages();
    s.close();
    assert.equal(pages(), before);
    const b = c.allocate('system-uncached', 1 << 20);
    assert.equal(b.size, 1 << 20);
    assert.equal(before - pages(), system, 'the same pages as a system buffer');
    assert.ok(system >= 256, String(system));
    assert.match(t.readFile('/sys/kernel/debug/dma_buf/bufinfo').text ?? '', /\bsystem-uncached\b/);
    b.close();
    assert.equal(pages(), before, 'freed at once: the pools are not modelled');
  } finally {
    c.close();
  }
});

test('android12-5.10: system-uncached and the GKI release on the 5.10 profile (or a clear error without it)', () => {
  if (!isProfileName('5.10')) {
    assert.throws(() => new Kernel({ android: 'android12-5.10' }), /^KernelConfigError: the Android branch android12-5\.10 needs the 5\.10 mainline profile, which this build does not have/);
    assert.throws(() => parseMachineProfile('android12-5.10', '--profile'), (e: unknown) => e instanceof UsageError && e.message === '--profile: the Android branch android12-5.10 is based on Linux 5.10, and this build has no 5.10 profile');
    return;
  }
  const c = emulatedBackend.createClient({ profile: 'android12-5.10' });
  try {
    const t = c.target as ReturnType<typeof createEmulatedTarget>;
    assert.equal(t.release, `${(PROFILES as Readonly<Record<string, { release: string }>>)['5.10']?.release}-android12-9`);
    assert.deepEqual(t.listHeaps().slice(0, 2), ['system', 'system-uncached']);
    const b = c.allocate('system-uncached', 8192);
    assert.equal(b.size, 8192);
    assert.match(t.readFile('/sys/kernel/debug/dma_buf/bufinfo').text ?? '', /system-uncached/);
    b.close();
  } finally {
    c.close();
  }
});

test('--profile takes the branches whose mainline profile exists', () => {
  assert.deepEqual(machineFrom({ profile: 'android14-6.1' }), { profile: 'android14-6.1' });
  assert.equal(parseMachineProfile('6.12', '--profile'), '6.12');
  assert.throws(() => parseMachineProfile('android9-4.19', '--profile'), (e: unknown) => e instanceof UsageError && e.message === "--profile: 'android9-4.19' is not a kernel profile"
    && e.hint === `the profiles are ${Object.keys(PROFILES).join(', ')}; the Android GKI branches are android12-5.10, android13-5.10, android13-5.15, android14-5.15, android14-6.1, android15-6.6, android16-6.12`);
});

function androidCheck(target: (d: DoctorTarget) => DoctorTarget, profile: string): Check | undefined {
  const d = emulatedDoctor(createEmulatedTarget({ profile, cmdline: 'cma=64M' }));
  try {
    return runDoctor(target(d.target), d.host).checks.find((c) => c.id === 'android');
  } finally {
    d.dispose();
  }
}

test('doctor on an emulated branch: what it adds, with sources, unknown where unknown', () => {
  const A14 = 'github.com/sreelekshman/android_kernel_6.1_nothing_mt6878 drivers/dma-buf/heaps/system_heap.c @9eed859493342169b2511b27ed0b26e35906dc4a (a device tree\'s copy of android14-6.1: its build.config.constants @565e30947eeffb7d5652122b7fd222082ebb4964 says BRANCH=android14-6.1)';
  const c = androidCheck((t) => t, 'android14-6.1');
  assert.deepEqual(c, {
    id: 'android', status: 'ok',
    summary: 'Android GKI branch android14-6.1 (from --profile android14-6.1), mainline 6.1: 4 of 6 facts known, 2 unknown',
    details: [
      `system heap frees buffers later, from a kernel thread: no (source: ${A14})`,
      `system heap keeps freed pages in page pools (orders): orders 8, 4, 0 (source: ${A14})`,
      `\`system-uncached\` heap registered by the system heap: yes (source: ${A14})`,
      `/sys/kernel/dma_heap/total_pools_kb: unknown (the system heap implements get_pool_size (${A14}), the heap op that total_pools_kb sums; the branch's dma-heap.c, which creates the file, was not read)`,
      'CONFIG_DMABUF_SYSFS_STATS (/sys/kernel/dmabuf/buffers): yes (source: github.com/GrapheneOS/kernel_common-6.1 arch/arm64/configs/gki_defconfig @000cec4c286129a23c5f156e6b7ba864c7aa8bcf (GrapheneOS\'s copy of android14-6.1); https://android.googlesource.com/kernel/common.git/+/refs/heads/android14-6.1/drivers/dma-buf)',
      'DMA_HEAP_IOCTL_ALLOC heap_flags that vendor heaps accept: unknown (mainline dma-heap.c refuses heap_flags outside DMA_HEAP_VALID_HEAP_FLAGS (none) with EINVAL before a heap sees them; no source read shows a GKI branch or vendor heap changing that (Qualcomm and MediaTek heaps are listed in docs/android.md without flags))',
      "so: closing the last fd of a system-heap buffer does not raise MemFree at once: its pages stay in the system heap's page pools until memory pressure; /sys/kernel/dma_heap/total_pools_kb shows the pools",
      'emulated: Linux 6.1 (mainline profile) plus the system-uncached heap; the other facts are reported, not emulated (docs/fidelity.md, android-gki)',
    ],
    next: ['docs/android.md lists every fact of every branch with its source'],
  });
  // a branch with nothing but its existence known
  assert.equal(androidCheck((t) => t, 'android16-6.12')?.summary, 'Android GKI branch android16-6.12 (from --profile android16-6.12), mainline 6.12: 0 of 6 facts known, 6 unknown');
  // a mainline machine has no such check
  assert.equal(androidCheck((t) => t, '6.1'), undefined);
});

test('doctor on a real GKI kernel: the branch from uname -r, the pools it keeps, total_pools_kb read live', () => {
  const gki = (release: string) => (t: DoctorTarget): DoctorTarget => ({ ...t, backend: 'linux', release, androidBranch: null });
  const c = androidCheck(gki('5.10.198-android12-9-00085-g226a9632f13d'), '6.1');
  assert.equal(c?.summary, 'Android GKI branch android12-5.10 (from the release 5.10.198-android12-9-00085-g226a9632f13d), mainline 5.10: 5 of 6 facts known, 1 unknown');
  const a12 = androidBranch('android12-5.10')!;
  assert.deepEqual(c?.details, [
    androidFactText(androidFact(a12, 'systemHeapDeferredFree')),
    androidFactText(androidFact(a12, 'systemHeapPagePools')),
    androidFactText(androidFact(a12, 'systemUncachedHeap')),
    androidFactText(androidFact(a12, 'totalPoolsKb')),
    androidFactText(androidFact(a12, 'dmabufSysfsStats')),
    androidFactText(androidFact(a12, 'vendorHeapFlags')),
    "so: closing the last fd of a system-heap buffer does not raise MemFree at once: the deferred-free thread zeroes it later, and its pages stay in the system heap's page pools until memory pressure; /sys/kernel/dma_heap/total_pools_kb shows the pools",
    '/sys/kernel/dma_heap/total_pools_kb now: ENOENT',
  ]);
  assert.equal(androidFactText(androidFact(a12, 'systemHeapPagePools')), `system heap keeps freed pages in page pools (orders): orders 8, 4, 0 (source: ${androidFact(a12, 'systemHeapPagePools').source})`);
  // a GKI release of a branch without facts here
  const old = androidCheck(gki('5.4.42-android12-0-foo'), '6.1');
  assert.deepEqual(old && [old.summary, old.details], [
    'Android GKI branch android12-5.4 (from the release 5.4.42-android12-0-foo): what it adds to mainline 5.4 is unknown',
    ['the branches with facts: android12-5.10, android13-5.10, android13-5.15, android14-5.15, android14-6.1, android15-6.6, android16-6.12'],
  ]);
});
