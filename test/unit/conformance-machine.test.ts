// Case-level machines (board, cmdline, features), the pagemap op, the CLI's --board and
// --features, and the board/coherent/CMA placement case files on every profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SyscallTarget } from '../../src/api/target.js';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../src/backends/emulated/target.js';
import { caseMachineFactory, conformanceMain } from '../../src/apps/conformance/cli.js';
import { formatReport, loadCaseFiles, parseCaseFile, runCases } from '../../src/apps/conformance/runner.js';
import type { CaseFile, CaseMachine } from '../../src/apps/conformance/runner.js';
import { PROFILE_NAMES } from '../../src/kernel/profile.js';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const AM62X = root('examples/boards/am62x.dts');

function parse(cases: unknown[], path = join(root('test/conformance/cases'), 't.json')): { file: CaseFile | null; errors: string[] } {
  return parseCaseFile(JSON.stringify({ cases }), path, 't.json');
}

test('machine keys: need "backend": "emulated", known features, a shipped board\'s name or an existing board relative to the case file', () => {
  assert.deepEqual(parse([{ name: 'x', cmdline: 'cma=8M', steps: [{ count_fds: true }] }]).errors,
    [`t.json: case 1 "x": a case with 'cmdline' boots its own machine and needs "backend": "emulated"`]);
  assert.deepEqual(parse([{ name: 'x', backend: 'emulated', features: ['coherent', 'warp'], steps: [{ count_fds: true }] }]).errors,
    [`t.json: case 1 "x": unknown feature 'warp' (known: coherent, coherent-v3, coherent-prefixed)`]);
  assert.deepEqual(parse([{ name: 'x', backend: 'emulated', features: 'coherent', steps: [{ count_fds: true }] }]).errors,
    [`t.json: case 1 "x": 'features' must be a list of strings`]);
  const missing = parse([{ name: 'x', backend: 'emulated', board: 'nope.dts', steps: [{ count_fds: true }] }]).errors;
  assert.equal(missing.length, 1);
  assert.match(missing[0] ?? '', /^t\.json: case 1 "x": board 'nope\.dts' not found \(looked for .*test\/conformance\/cases\/nope\.dts; board paths are relative to the case file's directory\)$/);
  const ok = parse([{ name: 'x', backend: 'emulated', board: '../../../examples/boards/am62x.dts', cmdline: '', features: ['coherent-prefixed'], steps: [{ count_fds: true }] }]);
  assert.deepEqual(ok.errors, []);
  // a path is confined to the case file's directory or the shipped boards' (boardRoot: docs/conformance.md, "Confinement")
  assert.deepEqual(ok.file?.cases[0]?.machine, { board: '../../../examples/boards/am62x.dts', boardPath: AM62X, boardRoot: realpathSync(root('test/conformance/cases')), cmdline: '', features: ['coherent-prefixed'] });
  // a shipped board's name is that board, as for --board and createClient({ board })
  const named = parse([{ name: 'x', backend: 'emulated', board: 'am62x', steps: [{ count_fds: true }] }]);
  assert.deepEqual([named.errors, named.file?.cases[0]?.machine], [[], { board: 'am62x', boardPath: AM62X }]);
  assert.deepEqual(parse([{ name: 'x', steps: [{ pagemap: 'm', pages: 1 }] }]).errors,
    [`t.json: case 1 "x": step 1 (pagemap): unknown key 'pages' (allowed: page, as, expect)`]);
});

test('caseMachineFactory: case keys replace the run\'s, a case board decides the arch, boards load once', () => {
  const make = caseMachineFactory({ profile: '6.19', arch: 'x86_64' }, undefined);
  const m = make({ boardPath: AM62X, features: ['coherent'] });
  assert.equal(m.arch, 'arm64');
  assert.equal(m.profile, '6.19');
  assert.deepEqual(m.features, { coherentHeap: 'v3' });
  assert.equal(m.cmdline, undefined, 'the board\'s bootargs');
  assert.equal(make({ boardPath: AM62X }).board, m.board, 'one tree per path');
  const c = make({ cmdline: 'cma=8M' });
  assert.deepEqual([c.cmdline, c.arch, c.ramBytes], ['cma=8M', 'x86_64', ORACLE_MACHINE.ramBytes]);
  const withRun = caseMachineFactory({ profile: '6.1', features: { coherentHeap: 'v3' } }, AM62X);
  const p = withRun({ features: ['coherent-prefixed'] });
  assert.deepEqual(p.features, { coherentHeap: 'prefixed' });
  assert.equal(p.arch, 'arm64');
  const none = withRun({ features: [] });
  assert.equal(none.features, undefined, 'an empty list switches the run\'s features off');
  const dev = make({ ramBytes: 8 * 1024 ** 3, devices: [{ name: 'd', dmaMask: 32 }], sanitizer: true });
  assert.deepEqual([dev.ramBytes, dev.devices, dev.sanitizer], [8 * 1024 ** 3, [{ name: 'd', dmaMask: 32 }], true]);
  assert.equal(make({ boardPath: AM62X, devices: [{ name: 'd' }] }).devices?.length, 1, 'devices on a board');
  const cl = withRun({ cmdline: 'cma=16M' });
  assert.deepEqual([cl.cmdline, cl.cmdlineGiven], ['cma=16M', true]);
  assert.throws(() => caseMachineFactory({}, undefined)({ boardPath: root('package.json') }), /^Error: board: /);
});

test('runCases: a case machine gives its own heaps; boot failures are ERROR; no machineTarget skips', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-machine-'));
  writeFileSync(join(dir, 'bad.dts'), '/dts-v1/;\n/ { x = <1; };\n');
  writeFileSync(join(dir, 'am62x.dts'), `/include/ "${AM62X}"\n`);
  const r = parse([
    { name: 'coherent heaps ${heap}', backend: 'emulated', board: 'am62x.dts', features: ['coherent'], heap: '*', steps: [{ open: '/dev/dma_heap/${heap}' }] },
    { name: 'default machine', heap: '*', steps: [{ open: '/dev/dma_heap/${heap}' }] },
    { name: 'broken', backend: 'emulated', board: 'bad.dts', steps: [{ count_fds: true }] },
    { name: 'broken on every heap', backend: 'emulated', board: 'bad.dts', heap: '*', steps: [{ count_fds: true }] },
  ], join(dir, 'c.json'));
  assert.ok(r.file !== null, r.errors.join('\n'));
  const seen: CaseMachine[] = [];
  const machineTarget = (m: CaseMachine): SyscallTarget => {
    seen.push(m);
    const make = caseMachineFactory({ profile: '6.1' }, undefined);
    return createEmulatedTarget(make(m));
  };
  const report = await runCases([r.file], () => createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' }), { machineTarget });
  const text = formatReport(report);
  const names = report.results.map((x) => `${x.status} ${x.name}`);
  assert.deepEqual(names.slice(0, 4).sort(), [
    'pass coherent heaps display-carveout@a1000000', 'pass coherent heaps linux,cma', 'pass coherent heaps r5f-dma-memory@9c800000', 'pass coherent heaps system',
  ], text);
  assert.deepEqual(names.slice(4, 6).sort(), ['pass default machine [reserved]', 'pass default machine [system]']);
  assert.equal(report.results[6]?.status, 'error', text);
  assert.match(text, /^ERROR t\.json: case 3 "broken": step 0 \(machine\): cannot boot the case's machine: board: .*bad\.dts/m);
  assert.deepEqual(report.results.slice(7).map((x) => `${x.status} ${x.name}`), ['error broken on every heap'], 'one line: the heaps are unknown');
  // one boot for the heap list, then one per instance
  assert.equal(seen.filter((m) => m.features !== undefined).length, 5);
  const skipped = await runCases([r.file], () => createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' }));
  assert.match(formatReport(skipped), /^SKIP {2}t\.json: case 1 "coherent heaps \$\{heap\}": this run cannot boot a case machine/m);
});

test('the pagemap op: present, pfn and the flag bits as fields', async () => {
  const r = parse([{
    name: 'pm', heap: 'reserved',
    steps: [
      { open: '/dev/dma_heap/${heap}', flags: 'O_RDWR', as: 'h' },
      { read_file: '/sys/kernel/debug/cma/${heap}/base_pfn', as: 'base' },
      { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 8192, fd_flags: 'O_RDWR' }, as: 'b' },
      { mmap: 'b.fd', length: 8192, prot: 'PROT_READ|PROT_WRITE', flags: 'MAP_SHARED', as: 'm' },
      { pagemap: 'm', page: 1, expect: { ret: 8, fields: { present: 0, pfn: 0, soft_dirty: 1, entry: '1 << 55' } } },
      { write_mem: 'm', offset: 4096, fill: 1, length: 1 },
      { pagemap: 'm', page: '2 - 1', as: 'p', expect: { fields: { present: 1, pfn: 'base + 1', file: 1, exclusive: 1, soft_dirty: 1, swapped: 0 } } },
      { eval: 'p.entry >> 63', expect: { ret: 1 } },
      { eval: 'p.entry & ((1 << 55) - 1)', expect: { ret: 'base + 1' } },
      { pagemap: 'm', page: 1, expect: { fields: { present: 0 } } },
    ],
  }]);
  assert.ok(r.file !== null, r.errors.join('\n'));
  const report = await runCases([r.file], () => createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' }));
  const text = formatReport(report);
  assert.equal(report.failed, 1, text);
  assert.match(text, /step 10 \(pagemap\): field present: expected 0, observed 1$/m);
});

test('CLI: --board and --features pick the run\'s machine; a bad board is a usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-board-'));
  writeFileSync(join(dir, 'c.json'), JSON.stringify({ cases: [{ name: 'heaps', steps: [{ list_heaps: true, expect: { equals: 'display-carveout@a1000000,linux,cma,r5f-dma-memory@9c800000,system' } }] }] }));
  const lines: string[] = [];
  const print = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
  assert.equal(await conformanceMain(['run', join(dir, 'c.json'), '--profile', '6.12', '--board', AM62X, '--features', 'coherent'], print), 0, lines.join('\n'));
  assert.equal(await conformanceMain(['run', join(dir, 'c.json'), '--profile', '6.12', '--board', AM62X], print), 1);
  lines.length = 0;
  assert.equal(await conformanceMain(['run', join(dir, 'c.json'), '--board', join(dir, 'none.dts')], print), 2);
  assert.ok(lines.join('\n').includes(`--board: ${join(dir, 'none.dts')}: no such file or directory\nhint: fix the board file`), lines.join('\n'));
  assert.equal(await conformanceMain(['run', join(dir, 'c.json'), '--features', 'warp'], print), 2);
});

test('boards.json, coherent.json and cma-placement.json pass on every profile', async () => {
  const { files, errors } = loadCaseFiles(['boards.json', 'coherent.json', 'cma-placement.json'].map((f) => root(`test/conformance/cases/${f}`)));
  assert.deepEqual(errors, []);
  const counts: Record<string, number> = {};
  for (const profile of PROFILE_NAMES) {
    const lines: string[] = [];
    const print = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    const code = await conformanceMain(['run', ...files.map((f) => f.path), '--profile', profile, '--quiet'], print);
    assert.equal(code, 0, `${profile}:\n${lines.join('\n')}`);
    counts[profile] = Number(/^(\d+) passed/.exec(lines.at(-1) ?? '')?.[1]);
  }
  // every profile runs a good share of the cases (none skips everything); 5.10 and 5.15 skip the
  // board cases that read CMA debugfs directories by their 6.0+ names
  for (const [p, n] of Object.entries(counts)) assert.ok(n >= (p.startsWith('5.') ? 10 : 20), `${p}: only ${n} passed`);
});

test('devices.json, cache.json, bounce.json and sanitizer.json pass on every profile', async () => {
  const files = ['devices.json', 'cache.json', 'bounce.json', 'sanitizer.json'].map((f) => root(`test/conformance/cases/${f}`));
  const expected: Record<string, string> = {
    '5.10': '18 passed, 0 failed, 13 skipped', '5.15': '26 passed, 0 failed, 6 skipped',
    '6.1': '31 passed, 0 failed, 1 skipped', '6.6': '31 passed, 0 failed, 1 skipped', '6.12': '31 passed, 0 failed, 1 skipped',
    '6.17': '33 passed, 0 failed, 1 skipped', '6.18': '34 passed, 0 failed', '6.19': '34 passed, 0 failed', '7.0': '34 passed, 0 failed', '7.3': '34 passed, 0 failed',
  };
  for (const profile of PROFILE_NAMES) {
    const lines: string[] = [];
    const print = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    const code = await conformanceMain(['run', ...files, '--profile', profile, '--quiet'], print);
    assert.equal(code, 0, `${profile}:\n${lines.join('\n')}`);
    assert.equal(lines.at(-1), expected[profile], profile);
  }
});
