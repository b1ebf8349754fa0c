/**
 * `--fault SPEC` (src/apps/common/fault-spec.ts, docs/faults.md): the grammar, its refusals,
 * and its effect on the commands that boot an emulated machine, `dmaheap run` included (which
 * skips, with the reason, on a host where it cannot work or without python3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULT_FORMS } from '../../src/apps/common/fault-spec.js';
import { UsageError, parseFaultSpec, parseFaultSpecs } from '../../src/apps/common/args.js';
import { Errno } from '../../src/uapi/errno.js';
import { runCaptured } from './cli-helpers.js';
import { runDmaheapRun, runUnsupported } from './run-helpers.js';

test('the accepted forms', () => {
  const cases: [string, unknown][] = [
    ['alloc:nth=2', { alloc: { nth: 2 } }],
    ['alloc:heap=system,nth=2', { alloc: { heap: 'system', nth: 2 } }],
    // a name runs to the next ,key=: commas and colons are part of it, in any position
    ['alloc:nth=2,errno=ENOMEM,heap=linux,cma', { alloc: { heap: 'linux,cma', nth: 2, errno: Errno.ENOMEM } }],
    ['alloc:heap=linux,cma,nth=2', { alloc: { heap: 'linux,cma', nth: 2 } }],
    ['alloc:heap=a:b,c,every=3,comm=cam,era', { alloc: { heap: 'a:b,c', comm: 'cam,era', every: 3 } }],
    ['alloc:heap="odd,nth=1",nth=4', { alloc: { heap: 'odd,nth=1', nth: 4 } }],
    ['alloc:fraction=0.25,seed=7,errno=5', { alloc: { fraction: 0.25, seed: 7, errno: 5 } }],
    ['alloc:fraction=1', { alloc: { fraction: 1 } }],
    ['alloc:fraction=.5', { alloc: { fraction: 0.5 } }],
    ['signal:comm=camera,nth=1', { alloc: { comm: 'camera', nth: 1, signal: true } }],
    ['shrink-cma:size=16M', { memory: { kind: 'shrink-cma', bytes: 16 * 1024 * 1024 } }],
    ['shrink-cma:area=linux,cma,pages=100', { memory: { kind: 'shrink-cma', area: 'linux,cma', pages: 100 } }],
    ['pin:pages=16,seed=3', { memory: { kind: 'pin-cma', pages: 16, seed: 3 } }],
    ['pin:area=reserved,size=8K,pfn=0x7bc00', { memory: { kind: 'pin-cma', area: 'reserved', bytes: 8192, pfn: 0x7bc00 } }],
    ['take-memory:size=1G', { memory: { kind: 'take-memory', bytes: 1024 ** 3 } }],
  ];
  for (const [spec, want] of cases) assert.deepEqual(parseFaultSpec(spec), want, spec);
  assert.deepEqual(parseFaultSpecs(['alloc:nth=1', 'take-memory:size=4K', 'signal:every=2']), {
    faults: [{ nth: 1 }, { every: 2, signal: true }],
    memoryFaults: [{ kind: 'take-memory', bytes: 4096 }],
  });
});

test('bad specs are refused with what is wrong and the accepted forms', () => {
  const cases: [string, string][] = [
    ['', "'' is not a kind of fault (the kinds: alloc, signal, shrink-cma, pin, take-memory)"],
    ['fail:nth=1', "'fail' is not a kind of fault (the kinds: alloc, signal, shrink-cma, pin, take-memory)"],
    ['alloc', 'alloc needs a colon and fields, e.g. alloc:nth=2'],
    ['pin', 'pin needs a colon and fields, e.g. pin:pages=16'],
    ['alloc:', 'alloc needs fields (key=value, comma-separated)'],
    ['alloc:heap=system', 'alloc needs exactly one of nth (fail the Nth matching allocation), every (every Nth) or fraction (a share of them, 0..1)'],
    ['alloc:nth=1,every=2', 'alloc needs exactly one of nth (fail the Nth matching allocation), every (every Nth) or fraction (a share of them, 0..1), not nth and every'],
    ['alloc:nth', "'nth' is not key=value"],
    ['alloc:size=4K', "'size' is not a key of alloc (its keys: nth, every, fraction, seed, errno, heap, comm)"],
    ['alloc:nth=1,nth=2', 'nth is given twice'],
    ['alloc:nth=1,', 'it ends with a comma'],
    ['alloc:nth=', 'nth has no value'],
    ['alloc:heap=linux,cma,nht=2', "the value of heap holds ',nht=': 'nht' is not a key of alloc (its keys: nth, every, fraction, seed, errno, heap, comm); double-quote a name that contains it"],
    ['alloc:nth=2,hep=system', "the value of nth holds ',hep=': 'hep' is not a key of alloc (its keys: nth, every, fraction, seed, errno, heap, comm)"],
    ['alloc:heap="linux,cma,nth=1', 'the quoted value of heap has no closing quote'],
    ['alloc:heap="a"b,nth=1', 'the quoted value of heap must be followed by a comma or the end'],
    ['alloc:fraction=1.5', "fraction '1.5' is more than 1 (all of them)"],
    ['alloc:fraction=1e-1', "fraction '1e-1' is not a decimal number from 0 to 1 (such as 0.25)"],
    ['alloc:nth=1,errno=ENOMEN', "errno 'ENOMEN' is not an errno name or number (such as ENOMEM, EIO, EAGAIN or 12)"],
    ['alloc:nth=1,errno=9999', 'errno is a positive Linux errno number (such as 12 for ENOMEM), not 9999'],
    ['alloc:nth=1,seed=4', 'seed applies only to fraction'],
    ['signal:errno=EINTR,nth=1', "'errno' is not a key of signal (its keys: nth, every, fraction, seed, heap, comm)"],
    ['signal:nth=1,errno=EINTR', "the value of nth holds ',errno=': 'errno' is not a key of signal (its keys: nth, every, fraction, seed, heap, comm)"],
    ['shrink-cma:area=reserved', 'shrink-cma needs exactly one of pages=N and size=SIZE'],
    ['shrink-cma:pages=1,size=4K', 'shrink-cma needs exactly one of pages=N and size=SIZE'],
    ['pin:pages=1,pfn=5,seed=1', 'pin takes pfn (one run from that PFN) or seed (pages scattered by a seeded PRNG), not both'],
    ['pin:pages=1,pfn=-5', "pfn '-5' is not a page frame number (decimal or 0x hex)"],
    ['take-memory:pages=4', "'pages' is not a key of take-memory (its keys: size)"],
  ];
  for (const [spec, why] of cases) {
    assert.throws(() => parseFaultSpec(spec), (e: unknown) => e instanceof UsageError && e.message === `--fault: '${spec}': ${why}` && e.hint === FAULT_FORMS, spec);
  }
  // numbers and sizes are refused as every other option's are
  assert.throws(() => parseFaultSpec('alloc:nth=0'), { message: "--fault nth: '0' is not a count: the smallest is 1" });
  assert.throws(() => parseFaultSpec('take-memory:size=1.5M'), { message: "--fault size: '1.5M' is not a size: it is not a whole number of bytes (write 1536K)" });
  assert.throws(() => parseFaultSpecs(Array<string>(65).fill('alloc:nth=1')), { message: '--fault is given 65 times; at most 64' });
  assert.equal(FAULT_FORMS, 'the forms are alloc:nth=N|every=N|fraction=F[,seed=S][,errno=ENOMEM][,heap=NAME][,comm=NAME]; signal:nth=N|every=N|fraction=F[,seed=S][,heap=NAME][,comm=NAME]; shrink-cma:size=SIZE|pages=N[,area=NAME]; pin:pages=N|size=SIZE[,area=NAME][,pfn=PFN|seed=S]; take-memory:size=SIZE (a name runs to the next ,key=, so heap=linux,cma works; double-quote a name that contains one; e.g. --fault alloc:heap=system,nth=2)');
});

test('dmaheap alloc --fault: the injected errno, as text and as JSON', async () => {
  const argv = ['alloc', 'reserved', '1M', '--profile', '6.1', '--backend', 'emulated', '--fault', 'alloc:heap=reserved,nth=1,errno=EIO'];
  const hint = 'a --fault rule failed this allocation on purpose (fault injection: docs/faults.md)';
  assert.deepEqual(await runCaptured(...argv), { code: 1, out: '', err: `dmaheap alloc: EIO: Input/output error, ioctl '/dev/dma_heap/reserved'\nhint: ${hint}` });
  const j = await runCaptured(...argv, '--json');
  assert.equal(j.code, 1);
  assert.deepEqual(JSON.parse(j.out), { error: { code: 'EIO', message: "EIO: Input/output error, ioctl '/dev/dma_heap/reserved'", hint } });
  const demo = await runCaptured('demo', '--profile', '6.1', '--heap', 'system', '--fault', 'alloc:heap=system,nth=1');
  assert.deepEqual(demo, { code: 1, out: '', err: `dmaheap demo: ENOMEM: Cannot allocate memory, ioctl '/dev/dma_heap/system'\nhint: ${hint}` });
  // the 2nd allocation would fail: alloc makes one, which succeeds
  assert.equal((await runCaptured('alloc', 'system', '1M', '--profile', '6.1', '--backend', 'emulated', '--fault', 'alloc:nth=2')).code, 0);
});

test('dmaheap heaps --fault: a shrunk CMA area and RAM taken show as less free memory', async () => {
  const heaps = async (...faults: string[]): Promise<Record<string, number>> => {
    const r = await runCaptured('heaps', '--profile', '6.1', '--backend', 'emulated', '--json', ...faults.flatMap((f) => ['--fault', f]));
    assert.equal(r.code, 0, r.out);
    return Object.fromEntries((JSON.parse(r.out) as { heaps: { name: string; free: number }[] }).heaps.map((h) => [h.name, h.free]));
  };
  const before = await heaps();
  const after = await heaps('shrink-cma:size=16M', 'take-memory:size=1G', 'pin:area=reserved,pages=4,seed=1');
  assert.deepEqual(after, { system: before.system! - 1024 ** 3, reserved: before.reserved! - 16 * 1024 ** 2 });
});

test('a memory fault the machine cannot take is a config error that says why', async () => {
  const cases: [string, string][] = [
    ['pin:area=foo,pages=3', "pinning pages in CMA area 'foo': there is no CMA area of that name (the CMA areas: reserved)"],
    ['shrink-cma:size=65M', "shrinking CMA area 'reserved' by 68157440 bytes: it has only 16384 free pages of 16384 (67108864 bytes)"],
    ['pin:pages=2,pfn=5', "pinning pages in CMA area 'reserved': 2 pages from PFN 5 is not inside the area (PFNs 506880 to 523263)"],
    ['take-memory:size=4T', 'taking 4398046511104 bytes of RAM: the page allocator has only 2061369344 bytes free (503264 pages)'],
  ];
  for (const [spec, why] of cases) {
    const r = await runCaptured('heaps', '--profile', '6.1', '--backend', 'emulated', '--json', '--fault', spec);
    assert.equal(r.code, 2, spec);
    assert.deepEqual(JSON.parse(r.out), { error: { code: 'config', message: `the emulated kernel cannot boot this machine: ${why}`, hint: 'change the machine options (docs/tools.md lists them)' } }, spec);
  }
  const typo = await runCaptured('alloc', 'system', '1M', '--profile', '6.1', '--backend', 'emulated', '--json', '--fault', 'alloc:heap=sytem,nth=1');
  assert.deepEqual([typo.code, (JSON.parse(typo.out) as { error: { message: string } }).error.message], [2, "the emulated kernel cannot boot this machine: a fault rule names heap 'sytem', which this machine does not have (its heaps: system, reserved)"]);
  const none = await runCaptured('heaps', '--profile', '6.1', '--backend', 'emulated', '--cmdline', 'cma=0', '--json', '--fault', 'shrink-cma:pages=1');
  assert.equal((JSON.parse(none.out) as { error: { message: string } }).error.message, 'the emulated kernel cannot boot this machine: shrinking the default CMA area: there is none (this machine has no CMA area); name an area');
});

test('--fault with --backend linux is refused: it describes the emulated machine', async () => {
  const r = await runCaptured('heaps', '--backend', 'linux', '--fault', 'alloc:nth=1');
  assert.deepEqual(r, { code: 2, out: '', err: 'dmaheap heaps: --fault applies to the emulated machine; with --backend linux the machine is this one\nhint: leave out --fault to look at this machine, or use --backend emulated' });
});

// ---- dmaheap run ------------------------------------------------------------------------------

const run = runDmaheapRun;
const unsupported = runUnsupported;
const python = spawnSync('sh', ['-c', 'command -v python3'], { stdio: 'ignore' }).status === 0 ? null : 'python3 is not installed';

/** Three DMA_HEAP_IOCTL_ALLOCs of 1 MiB from the heap named by argv[1], each result printed. */
const ALLOCS_PY = `import errno, fcntl, os, struct, sys
heap = os.open("/dev/dma_heap/" + sys.argv[1], os.O_RDONLY | os.O_CLOEXEC)
for i in range(1, 4):
    req = bytearray(struct.pack("=QIIQ", 1 << 20, 0, os.O_RDWR | os.O_CLOEXEC, 0))
    try:
        fcntl.ioctl(heap, 0xC0184800, req)
        print(f"alloc {i}: fd {struct.unpack('=QIIQ', req)[1]}", flush=True)
    except OSError as e:
        print(f"alloc {i}: {errno.errorcode[e.errno]}", flush=True)
`;

test('dmaheap run --fault: a Python program sees ENOMEM on its 2nd DMA_HEAP_IOCTL_ALLOC, and a signal kills it', { skip: unsupported ?? python ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-faults-'));
  try {
    const prog = join(dir, 'allocs.py');
    writeFileSync(prog, ALLOCS_PY);
    const r = run(['--fault', 'alloc:heap=system,nth=2', '--', 'python3', prog, 'system']);
    assert.deepEqual(r, { status: 0, out: 'alloc 1: fd 4\nalloc 2: ENOMEM\nalloc 3: fd 5\n', err: '' });
    // another heap is not counted; the comm of the program is python3
    const other = run(['--profile', '6.1', '--fault', 'alloc:heap=system,nth=1', '--fault', 'alloc:comm=python3,every=3,errno=EIO', '--', 'python3', prog, 'reserved']);
    assert.deepEqual(other, { status: 0, out: 'alloc 1: fd 4\nalloc 2: fd 5\nalloc 3: EIO\n', err: '' });
    // the signal reaches the real program on its way back from the ioctl: it never sees EINTR
    const killed = run(['--fault', 'signal:heap=system,nth=2', '--', 'python3', prog, 'system']);
    assert.deepEqual(killed, { status: 128 + 9, out: 'alloc 1: fd 4\n', err: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
