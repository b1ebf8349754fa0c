// The machine facts of conformance cases (PAGE_SIZE, ARCH, MEM_TOTAL, CMA_TOTAL, CMA_SIZE,
// cma_area, cma_heap), the expression language's functions and formats, and `requires`:
// docs/conformance.md, "Machine facts" and "requires".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../src/backends/emulated/target.js';
import type { EmulatedOptions } from '../../src/backends/emulated/target.js';
import { constantTable, evalExpr, substitute } from '../../src/apps/conformance/expr.js';
import type { EvalEnv } from '../../src/apps/conformance/expr.js';
import { formatReport, parseCaseFile, readMachineFacts, runCases } from '../../src/apps/conformance/runner.js';
import type { CaseFile } from '../../src/apps/conformance/runner.js';
import { caseMachineFactory } from '../../src/apps/conformance/cli.js';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

function env(arch: 'x86_64' | 'arm64', pageSize: number, results: Record<string, string | number> = {}): EvalEnv {
  return { constants: constantTable(arch, pageSize), lookup: (r) => results[r] };
}

test('expressions: PAGE_SHIFT, PAGE_ALIGN, ALIGN, DIV_ROUND_UP, min, max', () => {
  const e16 = env('arm64', 16384, { n: '4097\n' });
  assert.equal(evalExpr('PAGE_SHIFT', e16), 14n);
  assert.equal(evalExpr('PAGE_ALIGN(4097)', env('x86_64', 4096)), 8192n);
  assert.equal(evalExpr('PAGE_ALIGN(n)', e16), 16384n);
  assert.equal(evalExpr('PAGE_ALIGN(0)', e16), 0n);
  assert.equal(evalExpr('PAGE_ALIGN(65536) / PAGE_SIZE', env('arm64', 65536)), 1n);
  assert.equal(evalExpr('ALIGN(5, 4) + DIV_ROUND_UP(9, 4)', e16), 11n);
  assert.equal(evalExpr('max(1, PAGE_SIZE, 3) - min(7, 2 * 3)', e16), 16378n);
  assert.equal(evalExpr('(1 << 64) - PAGE_SIZE', e16), 0xffffffffffffc000n);
  const err = (expr: string): string => {
    try {
      evalExpr(expr, e16);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.equal(err('PAGE_ALIGN()'), `PAGE_ALIGN() takes 1 argument, not 0, in expression 'PAGE_ALIGN()' (PAGE_ALIGN(x): x rounded up to a multiple of PAGE_SIZE)`);
  assert.equal(err('ALIGN(1, 0)'), `ALIGN's a must be positive, not 0, in expression 'ALIGN(1, 0)'`);
  assert.equal(err('min()'), `min() takes one or more arguments, not 0, in expression 'min()' (min(a, b, ...): the smallest)`);
  assert.equal(err('round(1)'), `unknown function 'round' in expression 'round(1)' (known: PAGE_ALIGN, ALIGN, DIV_ROUND_UP, min, max)`);
  assert.equal(err('max(1,'), `expression 'max(1,' ends too early`);
  assert.equal(err('max(1 2)'), `missing ')' after the arguments of max() in expression 'max(1 2)'`);
});

test('${...} formats: octal flags per arch, hex, zero-padded, printf signs', () => {
  const flags = 'flags:\t0${O_RDWR|O_LARGEFILE:o}';
  assert.equal(substitute(flags, env('x86_64', 4096)), 'flags:\t0100002');
  assert.equal(substitute(flags, env('arm64', 4096)), 'flags:\t0400002');
  const e = env('x86_64', 4096, { m: 0x7f12340000, t: '255\n' });
  assert.equal(substitute('${m:x}-${m + PAGE_SIZE:x} ${t:08x} ${t:X} ${t:o} ${t:d}', e), '7f12340000-7f12341000 000000ff FF 377 255');
  assert.equal(substitute('[${-5:4d}] [${-5:04d}] [${5:3x}]', e), '[  -5] [-005] [  5]');
  assert.equal(substitute('${t}', e), '255\n', 'a text result without a format is its text');
  assert.equal(substitute('${PAGE_SIZE:x}', e, true), '1000');
});

function facts(o: EmulatedOptions): Record<string, unknown> {
  const t = createEmulatedTarget(o);
  try {
    const f = readMachineFacts(t);
    return { ...Object.fromEntries(f.values), missing: Object.fromEntries(f.missing), heaps: Object.fromEntries([...f.heaps].map(([h, x]) => [h, [x.mappable, x.contiguous, x.cma]])) };
  } finally {
    t.dispose();
  }
}

test('machine facts: the oracle VM on 6.1 and 7.0, arm64 with 16 KiB pages, a board, no CMA', () => {
  const M = 1024 * 1024;
  // MEM_TOTAL: the QEMU pc's e820 with 2 GiB has 523647 usable pages, 3999 of them in the first
  // 16 MiB the kernel image keeps: 519648 pages (2078592 kB). The 6.1 referee's MemTotal is
  // 2049236 kB (head -1 /proc/meminfo): its mem_map and other early allocations are not modelled
  // (docs/fidelity.md, ram-layout)
  assert.deepEqual(facts({ ...ORACLE_MACHINE, profile: '6.1' }), {
    ARCH: 'x86_64', MEM_TOTAL: 2078592 * 1024, CMA_TOTAL: 64 * M, cma_area: 'reserved', cma_debugfs: 'reserved', CMA_SIZE: 64 * M, cma_heap: 'reserved',
    missing: {}, heaps: { system: [true, false, false], reserved: [true, true, true] },
  });
  // 5.10 (the 5.10 referee): no /sys/kernel/mm/cma, and debugfs names the area cma-reserved
  const f510 = facts({ ...ORACLE_MACHINE, profile: '5.10' });
  assert.deepEqual([f510.cma_area, f510.cma_debugfs, f510.cma_heap, f510.CMA_SIZE], ['reserved', 'cma-reserved', 'reserved', 64 * M]);
  const f70 = facts({ ...ORACLE_MACHINE, profile: '7.0' });
  assert.deepEqual([f70.cma_heap, f70.cma_area, f70.CMA_SIZE], ['default_cma_region', 'reserved', 64 * M]);
  const a16 = facts({ ...ORACLE_MACHINE, profile: '6.12', arch: 'arm64', pageSize: 16384 });
  assert.deepEqual([a16.ARCH, a16.cma_heap, a16.CMA_SIZE], ['arm64', 'reserved', 64 * M]);
  const imx = caseMachineFactory({ profile: '6.1' }, undefined)({ boardPath: root('examples/boards/imx8mp.dts') });
  const fi = facts(imx);
  assert.deepEqual([fi.ARCH, fi.cma_area, fi.cma_heap, fi.CMA_SIZE, fi.CMA_TOTAL], ['arm64', 'linux,cma', 'linux,cma', 640 * M, 928 * M]);
  const rk = facts(caseMachineFactory({ profile: '7.0' }, undefined)({ boardPath: root('examples/boards/rk3588.dts') }));
  assert.deepEqual((rk.heaps as Record<string, unknown>)['protected,secure-video'], [false, false, false]);
  assert.deepEqual([rk.cma_heap, rk.cma_area], ['default_cma_region', 'linux,cma']);
  const none = facts({ ...ORACLE_MACHINE, profile: '6.1', cmdline: '' });
  assert.deepEqual([none.cma_heap, none.CMA_SIZE, none.missing], [undefined, undefined, {
    cma_area: 'the machine has no CMA area', cma_debugfs: 'the machine has no CMA area', CMA_SIZE: 'the machine has no CMA area', cma_heap: 'the machine has no CMA area',
  }]);
});

function parse(cases: unknown[]): { file: CaseFile | null; errors: string[] } {
  return parseCaseFile(JSON.stringify({ cases }), join(root('test/conformance/cases'), 't.json'), 't.json');
}

test('requires and heap facts: checked when the file loads', () => {
  const steps = [{ count_fds: true }];
  const bad = (c: Record<string, unknown>): string[] => parse([{ name: 'x', steps, ...c }]).errors;
  assert.deepEqual(bad({ requires: { page_size: 8192 } }), ['t.json: case 1 "x": requires.page_size must be a page size in bytes (4096, 16384, 65536) or a non-empty list of them']);
  assert.deepEqual(bad({ requires: { arch: ['x86_64', 'riscv'] } }), ['t.json: case 1 "x": requires.arch must be "x86_64" or "arm64" or a non-empty list of them']);
  assert.deepEqual(bad({ requires: { heap: 'mappable' } }), [`t.json: case 1 "x": requires.heap: the case has no 'heap' key, so no heap to require anything of`]);
  assert.deepEqual(bad({ heap: '*', requires: { heap: 'shiny' } }), ['t.json: case 1 "x": requires.heap must be a heap trait (mappable, contiguous, cma) or a non-empty list of them']);
  assert.deepEqual(bad({ requires: { why: 'because' } }), ['t.json: case 1 "x": requires: names no requirement (page_size, arch, heap)']);
  assert.deepEqual(bad({ requires: { pages: 1 } }), [`t.json: case 1 "x": requires: unknown key 'pages' (known: page_size, arch, heap, why)`]);
  assert.deepEqual(bad({ requires: { page_size: 4096, why: '' } }), ['t.json: case 1 "x": requires.why must be a non-empty string (the reason, printed with the skip)']);
  assert.deepEqual(bad({ heap: '${cma_area}' }), [`t.json: case 1 "x": heap '\${cma_area}' is neither a heap name nor a machine fact naming a heap ("\${cma_heap}")`]);
  assert.deepEqual(bad({ heap: 'x${cma_heap}' }), [`t.json: case 1 "x": heap 'x\${cma_heap}' is neither a heap name nor a machine fact naming a heap ("\${cma_heap}")`]);
  assert.deepEqual(bad({ steps: [{ count_fds: true, as: 'CMA_SIZE' }] }), [`t.json: case 1 "x": step 1 (count_fds): 'as' cannot be 'CMA_SIZE': the name is a machine fact (docs/conformance.md, "Machine facts")`]);
  const ok = parse([{ name: 'x', heap: ['system', '${cma_heap}'], requires: { page_size: [4096, 16384], heap: ['mappable'], why: 'w' }, steps: [{ eval: 'CMA_SIZE / PAGE_SIZE' }] }]);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.file?.cases[0]?.requires, { pageSize: [4096, 16384], heap: ['mappable'], why: 'w' });
  assert.deepEqual(ok.file?.cases[0]?.facts, ['CMA_SIZE', 'cma_heap']);
});

test('runCases: facts in steps, ${cma_heap} as the heap, requires and missing facts skip with the reason', async () => {
  const r = parse([
    {
      name: 'probe: ${heap}/count', heap: '${cma_heap}',
      steps: [
        { read_file: '/sys/kernel/debug/cma/${cma_area}/count', expect: { equals: '${CMA_SIZE / PAGE_SIZE}\n' } },
        { open: '/dev/dma_heap/${heap}', flags: 'O_RDWR', as: 'h' },
        { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 'CMA_SIZE + 1', fd_flags: 'O_RDWR' }, expect: { errno: 'ENOMEM' } },
        { eval: 'MEM_TOTAL % PAGE_SIZE', expect: { ret: 0 } },
        { eval: 'CMA_TOTAL', expect: { ret: 'CMA_SIZE' }, comment: 'one CMA area' },
        { read_file: '/proc/sys/kernel/osrelease', expect: { not_match: '${ARCH}' } },
      ],
    },
    { name: 'four', requires: { page_size: 4096, why: 'a 4 KiB PFN layout' }, steps: [{ sysconf: 'PAGE_SIZE', expect: { ret: 4096 } }] },
    { name: 'x86', requires: { arch: 'x86_64' }, steps: [{ count_fds: true }] },
    { name: 'maps ${heap}', heap: '*', requires: { heap: ['mappable', 'contiguous'] }, steps: [{ open: '/dev/dma_heap/${heap}' }] },
    { name: 'uses CMA_SIZE', steps: [{ eval: 'CMA_SIZE' }] },
  ]);
  assert.ok(r.file !== null, r.errors.join('\n'));
  const run = async (o: EmulatedOptions): Promise<string> => formatReport(await runCases([r.file!], () => createEmulatedTarget(o)));
  assert.equal(await run({ ...ORACLE_MACHINE, profile: '6.1' }), [
    'PASS  t.json: case 1 "probe: reserved/count"',
    'PASS  t.json: case 2 "four"',
    'PASS  t.json: case 3 "x86"',
    'SKIP  t.json: case 4 "maps system": requires a contiguous heap: system is not physically contiguous (the system heap as the backend describes it)',
    'PASS  t.json: case 4 "maps reserved"',
    'PASS  t.json: case 5 "uses CMA_SIZE"',
    '5 passed, 0 failed, 1 skipped', '',
  ].join('\n'));
  assert.equal(await run({ ...ORACLE_MACHINE, profile: '7.0', arch: 'arm64', pageSize: 16384 }), [
    'PASS  t.json: case 1 "probe: default_cma_region/count"',
    'SKIP  t.json: case 2 "four": requires 4 KiB pages, this machine\'s are 16 KiB: a 4 KiB PFN layout',
    'SKIP  t.json: case 3 "x86": requires arch x86_64, this machine is arm64',
    'SKIP  t.json: case 4 "maps system": requires a contiguous heap: system is not physically contiguous (the system heap as the backend describes it)',
    'PASS  t.json: case 4 "maps default_cma_region"',
    'PASS  t.json: case 4 "maps reserved"',
    'PASS  t.json: case 5 "uses CMA_SIZE"',
    '4 passed, 0 failed, 3 skipped', '',
  ].join('\n'));
  const noCma = await run({ ...ORACLE_MACHINE, profile: '6.1', cmdline: '' });
  assert.match(noCma, /^SKIP {2}t\.json: case 1 "probe: \$\{heap\}\/count": the case's heap is \$\{cma_heap\}, which this machine does not have: the machine has no CMA area$/m);
  assert.match(noCma, /^SKIP {2}t\.json: case 5 "uses CMA_SIZE": uses the machine fact CMA_SIZE, which this machine does not have: the machine has no CMA area$/m);
  const rk = caseMachineFactory({ profile: '7.0' }, undefined)({ boardPath: root('examples/boards/rk3588.dts') });
  assert.match(await run(rk), /^SKIP {2}t\.json: case 4 "maps protected,secure-video": requires a mappable heap: protected,secure-video is protected memory, no CPU access \(.*\)$/m);
});
