// `--kconfig` from the command line (src/apps/common/kconfig-file.ts, args.ts machineFrom()):
// .config files plain and gzip'd, options, repeated values, an option overriding a file; every
// refusal (a bad file, a bad option, an architecture the machine does not have, a huge or binary
// file) is exit status 2 with a message that says what to do; and doctor reading the kernel's
// /proc/config.gz, emulated and (where the file exists) on this machine's kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { KconfigArgError, KCONFIG_HINT, kconfigFromArgs, readKconfigFile } from '../../src/apps/common/kconfig-file.js';
import { KCONFIG_LIMITS, parseKconfigText, resolveBuild } from '../../src/kernel/kconfig.js';
import { runCaptured } from './cli-helpers.js';
import { runDoctor } from '../../src/apps/cli/doctor.js';
import type { Check } from '../../src/apps/cli/doctor.js';
import { emulatedDoctor, hostDoctor } from '../../src/apps/common/backend.js';
import { bootKernel, createEmulatedTarget } from '../../src/backends/emulated/index.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dmaheap-kconfig-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const ARM_CONFIG = new URL('../../../test/fixtures/arm64-7.3/kernel.config', import.meta.url).pathname;

const run = runCaptured;

/** `heaps --json` with these arguments fails with exit status 2: its {code, message, hint}. */
async function refused(...argv: string[]): Promise<{ code: string; message: string; hint: string | null }> {
  const r = await run('heaps', ...argv, '--json');
  assert.equal(r.code, 2, `${argv.join(' ')}: ${r.out}`);
  const text = await run('heaps', ...argv);
  assert.equal(text.code, 2);
  const e = (JSON.parse(r.out) as { error: { code: string; message: string; hint: string | null } }).error;
  assert.equal(text.err, `dmaheap heaps: ${e.message}${e.hint === null ? '' : `\nhint: ${e.hint}`}`);
  return e;
}

function argError(f: () => unknown): { message: string; hint: string } {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof KconfigArgError, String(e));
    return { message: e.message, hint: e.hint };
  }
  assert.fail('no KconfigArgError');
}

const CONFIG = '# test\nCONFIG_X86_64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=32\nCONFIG_DMABUF_HEAPS=y\nCONFIG_DMABUF_HEAPS_SYSTEM=y\nCONFIG_DMABUF_HEAPS_CMA=y\nCONFIG_IKCONFIG=y\nCONFIG_IKCONFIG_PROC=y\n';

test('a .config file, plain or gzip\'d (as /proc/config.gz), reads to the same text', () => {
  const plain = readKconfigFile(file('plain.config', CONFIG));
  const gz = readKconfigFile(file('config.gz', gzipSync(CONFIG)));
  assert.deepEqual(gz.lines, plain.lines);
  assert.deepEqual([...gz.entries].map(([k, v]) => [k, v.value, v.line]), [...plain.entries].map(([k, v]) => [k, v.value, v.line]));
  assert.equal(gz.source, join(dir, 'config.gz'));
  // the arm64 referee's own configuration
  const arm = readKconfigFile(ARM_CONFIG);
  assert.equal(arm.entries.get('CMA_SIZE_MBYTES')?.value, '64');
  assert.equal(arm.entries.get('ARM64')?.value, 'y');
});

test('repeated --kconfig: one file, options on top in the order given (a later option wins)', () => {
  const p = file('base.config', CONFIG);
  const kc = kconfigFromArgs(['CMA_SIZE_MBYTES=8', p, 'CMA_SIZE_MBYTES=16,DMABUF_HEAPS_CMA=n']);
  assert.deepEqual(kc.options, [['CMA_SIZE_MBYTES', '8'], ['CMA_SIZE_MBYTES', '16'], ['DMABUF_HEAPS_CMA', 'n']]);
  const b = resolveBuild(kc, { profile: '6.12', arch: 'x86_64', pageSize: 4096, coherentHeap: false });
  assert.equal(b.values.get('CMA_SIZE_MBYTES'), '16');
  assert.equal(b.values.get('DMABUF_HEAPS_CMA'), 'n');
  assert.equal(b.text, CONFIG.replace('CONFIG_CMA_SIZE_MBYTES=32', 'CONFIG_CMA_SIZE_MBYTES=16').replace('CONFIG_DMABUF_HEAPS_CMA=y', '# CONFIG_DMABUF_HEAPS_CMA is not set'));
  assert.deepEqual(argError(() => kconfigFromArgs([p, p])), { message: `--kconfig: two .config files (${p} and ${p})`, hint: 'give one .config file and put the changes to it in options: --kconfig FILE --kconfig SYMBOL=value' });
  assert.deepEqual(argError(() => kconfigFromArgs([''])), { message: '--kconfig: an empty value', hint: KCONFIG_HINT });
});

test('bad files: each refusal names the file (and line) and the hint says what --kconfig takes', () => {
  const cases: [string, string][] = [
    [file('bad.config', 'CONFIG_X86_64=y\nCONFIG_CMA_SIZE_MBYTES=abc\n'), `--kconfig: ${join(dir, 'bad.config')}:2: 'abc' is not a .config value (y, m, n, a decimal or 0x number, or a "quoted string")`],
    [file('type.config', '# c\nCONFIG_CMA=m\n'), `--kconfig: ${join(dir, 'type.config')}:2: CONFIG_CMA is a bool: y or n (not set), not 'm'`],
    [join(dir, 'missing.config'), `--kconfig: ${join(dir, 'missing.config')}: no such file or directory`],
    [dir, `--kconfig: ${dir}: a directory, not a regular file`],
    [file('binary.config', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3])), `--kconfig: ${join(dir, 'binary.config')}: a NUL byte: this is not a text file (a .config, e.g. /proc/config.gz after gunzip)`],
    [file('bad.gz', new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5])), `--kconfig: ${join(dir, 'bad.gz')}: a gzip file that does not gunzip`],
  ];
  if (existsSync('/dev/zero')) cases.push(['/dev/zero', '--kconfig: /dev/zero: a character device, not a regular file']);
  for (const [p, message] of cases) assert.deepEqual(argError(() => readKconfigFile(p)), { message, hint: KCONFIG_HINT }, p);
});

test('huge files are refused before they are read or gunzip\'d (no hang): a big file, a gzip bomb', () => {
  const big = file('big.config', new Uint8Array(KCONFIG_LIMITS.maxBytes + 1).fill(0x23));
  assert.equal(argError(() => readKconfigFile(big)).message, `--kconfig: ${big}: ${KCONFIG_LIMITS.maxBytes + 1} bytes, more than the 4 MiB it may have`);
  // 64 MiB of '#' gzip to ~64 KiB; gunzip stops at the bound
  const bomb = file('bomb.gz', gzipSync(new Uint8Array(64 * 1024 * 1024).fill(0x23), { level: 9 }));
  assert.ok(readFileSync(bomb).length < 200 * 1024);
  assert.equal(argError(() => readKconfigFile(bomb)).message, `--kconfig: ${bomb}: more than ${KCONFIG_LIMITS.maxBytes} bytes once gunzip'd`);
});

test('CLI: a bad file, a bad option and a wrong architecture are exit status 2 with what to do', async () => {
  const bad = file('cli-bad.config', 'CONFIG_X86_64=y\nnot a line\n');
  assert.deepEqual(await refused('--kconfig', bad), { code: 'usage', message: `--kconfig: ${bad}:2: 'not a line' is not a .config line (CONFIG_<SYMBOL>=<value>, "# CONFIG_<SYMBOL> is not set", a # comment or a blank line)`, hint: KCONFIG_HINT });
  assert.deepEqual(await refused('--kconfig', 'CMA_SIZE_MBYTES=lots'), { code: 'usage', message: "--kconfig: 'lots' is not a .config value (y, m, n, a decimal or 0x number, or a \"quoted string\")", hint: KCONFIG_HINT });
  assert.deepEqual(await refused('--kconfig', 'CMA_AREAS=0'), { code: 'usage', message: '--kconfig: CONFIG_CMA_AREAS=0 is out of range: 1 to 4096', hint: KCONFIG_HINT });
  assert.deepEqual(await refused('--kconfig', ARM_CONFIG, '--arch', 'x86_64'), { code: 'usage', message: '--arch x86_64, but the kernel configuration is for arm64 (CONFIG_ARM64=y)', hint: 'leave out --arch, or give a configuration for x86_64' });
  assert.deepEqual(await refused('--kconfig', ARM_CONFIG, '--page-size', '16K'), { code: 'usage', message: '--page-size 16K, but the kernel configuration has 4K pages', hint: 'leave out --page-size, or give a configuration with that page size' });
  assert.deepEqual(await refused('--kconfig', 'ARM64=y,X86_64=y'), { code: 'usage', message: '--kconfig: CONFIG_ARM64 and CONFIG_X86_64 are both set: a configuration is for one architecture', hint: KCONFIG_HINT });
  // a board of the other architecture: refused, not booted as the configuration's
  assert.deepEqual(await refused('--kconfig', ARM_CONFIG, '--board', 'x86-pc'), { code: 'board', message: 'the board is x86_64 (its root compatible), but the kernel configuration is for arm64 (CONFIG_ARM64=y)', hint: 'give a kernel configuration for x86_64 (CONFIG_X86_64=y), or a board for arm64' });
  assert.deepEqual(await refused('--kconfig', 'X86_64=y', '--board', 'imx8mp'), { code: 'board', message: 'the board is arm64 (its root compatible), but the kernel configuration is for x86_64 (CONFIG_X86_64=y)', hint: 'give a kernel configuration for arm64 (CONFIG_ARM64=y), or a board for x86_64' });
  const big = file('cli-big.config', new Uint8Array(KCONFIG_LIMITS.maxBytes + 1).fill(0x23));
  assert.deepEqual(await refused('--kconfig', big), { code: 'usage', message: `--kconfig: ${big}: ${KCONFIG_LIMITS.maxBytes + 1} bytes, more than the 4 MiB it may have`, hint: KCONFIG_HINT });
});

test('CLI: --loader refusals say what a loader is', async () => {
  const hint = 'the loader is a preset (qemu-virt: QEMU\'s arm64 -machine virt; qemu-pc: the x86-64 referees\' QEMU pc, without a board, the x86-64 default there; none: no loader, one bank of RAM without a board) and/or image=SIZE[@ADDR], initrd=SIZE[@ADDR], dtb=SIZE[@ADDR], comma-separated; e.g. --loader qemu-virt or --loader image=0x470000@0x40200000';
  assert.deepEqual(await refused('--arch', 'arm64', '--loader', 'grub'), { code: 'usage', message: "--loader: 'grub' is not a loader preset (qemu-virt, qemu-pc, none) or an item (image=SIZE[@ADDR], initrd=SIZE[@ADDR], dtb=SIZE[@ADDR])", hint });
  assert.deepEqual(await refused('--arch', 'arm64', '--loader', 'qemu-virt,none'), { code: 'usage', message: "--loader: 'qemu-virt,none' names two presets", hint });
  assert.deepEqual(await refused('--arch', 'arm64', '--loader', 'image=1M,image=2M'), { code: 'usage', message: "--loader: 'image=1M,image=2M' gives image twice", hint });
  const m = await refused('--loader', 'qemu-virt');
  assert.equal(m.message, 'the emulated kernel cannot boot this machine: loader qemu-virt: QEMU\'s -machine virt loader is for arm64 (the machine is x86_64): use qemu-pc');
  const n = await refused('--arch', 'arm64', '--loader', 'image=1M');
  assert.equal(n.message, 'the emulated kernel cannot boot this machine: loader image=1048576: give its address (image=SIZE@ADDR), or use a preset (qemu-virt) that places it');
});

test('CLI: an option overrides the file, and heaps follow (CMA heap gone, default area sized by CMA_SIZE_MBYTES)', async () => {
  const p = file('cli.config', CONFIG);
  const heapNames = async (...a: string[]) => {
    const r = await run('heaps', '--backend', 'emulated', '--profile', '6.12', '--cmdline', '', '--json', ...a);
    assert.equal(r.code, 0, r.out);
    return (JSON.parse(r.out) as { heaps: { name: string; sizeBytes?: number; capacityBytes?: number }[] }).heaps.map((h) => h.name).sort();
  };
  assert.deepEqual(await heapNames('--kconfig', p), ['reserved', 'system']);
  assert.deepEqual(await heapNames('--kconfig', p, '--kconfig', 'DMABUF_HEAPS_CMA=n'), ['system']);
  assert.deepEqual(await heapNames('--kconfig', p, '--kconfig', 'CMA_SIZE_MBYTES=0'), ['system']);
  const r = await run('heaps', '--backend', 'emulated', '--profile', '6.12', '--cmdline', '', '--kconfig', p, '--kconfig', 'CMA_SIZE_MBYTES=16');
  // the default 2 GiB QEMU pc: a 16 MiB area ends where cma=64M's does on the referees (0x7bc00000 + 64 MiB = 0x7fc00000)
  assert.match(r.out, /^reserved +cma +cma= area @0x7ec00000 16 MiB reusable /m);
});

// ---- doctor reads the kernel's /proc/config.gz ------------------------------------------------

function kernelConfigCheck(machine: EmulatedOptions): Check {
  const d = emulatedDoctor(createEmulatedTarget(machine));
  try {
    const c = runDoctor(d.target, d.host, d.note).checks.find((x) => x.id === 'kernel-config');
    assert.ok(c !== undefined);
    return c;
  } finally {
    d.dispose();
  }
}

test('doctor (emulated) reads the configuration the machine was given, through its /proc/config.gz', () => {
  const c = kernelConfigCheck({ profile: '6.12', cmdline: 'cma=64M', kconfig: `${CONFIG}# CONFIG_DMABUF_HEAPS_CMA is not set\nCONFIG_UDMABUF=m\n` });
  assert.equal(c.summary, 'from /proc/config.gz: 1 of 4 heap options not set');
  assert.deepEqual(c.details.slice(0, 3), [
    'CONFIG_DMABUF_HEAPS=y              the heaps framework (/dev/dma_heap)',
    'CONFIG_DMABUF_HEAPS_SYSTEM=y       the system heap (page allocator)',
    'CONFIG_DMABUF_HEAPS_CMA not set    CMA heaps (physically contiguous)',
  ]);
  assert.equal(c.details[5], 'CONFIG_UDMABUF=m                   /dev/udmabuf (memfd → dma-buf)');
  // the arm64 referee's configuration has "# CONFIG_IKCONFIG is not set": no /proc/config.gz there,
  // nor here; with IKCONFIG and IKCONFIG_PROC on top doctor reads it
  const arm = readKconfigFile(ARM_CONFIG);
  assert.equal(kernelConfigCheck({ kconfig: kconfigFromArgs([ARM_CONFIG], '--kconfig', () => arm), profile: '7.0' }).summary, 'the kernel configuration cannot be read');
  const armProc = kernelConfigCheck({ kconfig: kconfigFromArgs([ARM_CONFIG, 'IKCONFIG=y,IKCONFIG_PROC=y'], '--kconfig', () => arm), profile: '7.0' });
  assert.equal(armProc.summary, 'from /proc/config.gz: heaps, system, CMA heaps and CMA enabled');
  // no /proc/config.gz: doctor says it tried
  const none = kernelConfigCheck({ profile: '6.12', cmdline: 'cma=64M', kconfig: { IKCONFIG_PROC: 'n' } });
  assert.equal(none.summary, 'the kernel configuration cannot be read');
  assert.deepEqual(none.details, ['tried /proc/config.gz (absent: CONFIG_IKCONFIG_PROC)', 'tried /boot/config-6.12.118 (absent)']);
});

test('doctor --backend linux reads this kernel\'s /proc/config.gz', { skip: existsSync('/proc/config.gz') ? false : 'no /proc/config.gz on this machine (CONFIG_IKCONFIG_PROC)' }, async () => {
  const d = await hostDoctor();
  let c: Check | undefined;
  try {
    c = runDoctor(d.target, d.host, d.note).checks.find((x) => x.id === 'kernel-config');
  } finally {
    d.dispose();
  }
  assert.ok(c !== undefined);
  assert.match(c.summary, /^from \/proc\/config\.gz: /);
  // each line agrees with the file, read here by the kernel's own .config reader
  const t = parseKconfigText(gunzipSync(readFileSync('/proc/config.gz')).toString('latin1'), '/proc/config.gz');
  for (const sym of ['DMABUF_HEAPS', 'DMABUF_HEAPS_SYSTEM', 'DMABUF_HEAPS_CMA', 'CMA', 'UDMABUF']) {
    const v = t.entries.get(sym)?.value ?? 'n';
    const line = c.details.find((l) => l.startsWith(`CONFIG_${sym} `) || l.startsWith(`CONFIG_${sym}=`));
    assert.ok(line !== undefined, sym);
    assert.ok(line.startsWith(v === 'n' ? `CONFIG_${sym} not set ` : `CONFIG_${sym}=${v} `), `${sym}: ${line} (file: ${v})`);
  }
});

test('heaps\' missing-heap notes follow the configuration: CMA_SIZE_MBYTES asks for an area only when the device tree gives no default one', async () => {
  const dtb = (n: string) => new URL(`../../../test/fixtures/arm64-7.3/${n}`, import.meta.url).pathname;
  const missing = async (...a: string[]) => {
    const r = await run('heaps', '--kconfig', ARM_CONFIG, '--loader', 'qemu-virt', '--json', ...a);
    assert.equal(r.code, 0, r.out);
    return (JSON.parse(r.out) as { missing: { names: string[]; wanted: string; reason: string }[] }).missing.map((m) => `${m.names.join(' and ')}: ${m.wanted}: ${m.reason}`);
  };
  // virt-cma.dtb: linux,cma (linux,cma-default) is the default area; CONFIG_CMA_SIZE_MBYTES=64 makes none
  assert.deepEqual(await missing('--board', dtb('virt-cma.dtb')), []);
  assert.deepEqual(await missing('--board', dtb('virt.dtb')), []);
  assert.deepEqual(await missing('--board', dtb('virt.dtb'), '--kconfig', 'DMABUF_HEAPS_CMA=n'), [
    'default_cma_region and reserved: CONFIG_CMA_SIZE_MBYTES=64 (the kernel configuration): the kernel is built without CONFIG_DMABUF_HEAPS_CMA: the CMA area exists, but no heap over it',
  ]);
});

test('a case-level "kconfig": a .config beside the case file and options on top; the run\'s --kconfig options under them', async () => {
  const { conformanceMain } = await import('../../src/apps/conformance/cli.js');
  const cdir = mkdtempSync(join(tmpdir(), 'dmaheap-kconfig-case-'));
  try {
    writeFileSync(join(cdir, 'x86.config'), CONFIG);
    const cases = [
      { name: 'file', backend: 'emulated', cmdline: '', kconfig: 'x86.config', steps: [{ readdir: '/dev/dma_heap', expect: { equals: 'reserved\nsystem' } }, { read_file: '/sys/kernel/debug/cma/reserved/count', expect: { errno: 'ENOENT' } }] },
      { name: 'file and options', backend: 'emulated', cmdline: '', kconfig: ['x86.config', 'DMABUF_HEAPS_CMA=n,CMA_SIZE_MBYTES=16', 'CMA_DEBUGFS=y'], steps: [{ readdir: '/dev/dma_heap', expect: { equals: 'system' } }, { read_file: '/sys/kernel/debug/cma/reserved/count', expect: { equals: '4096\n' } }] },
      { name: 'no dma-buf sysfs', backend: 'emulated', kconfig: 'DMABUF_SYSFS_STATS=n', steps: [{ readdir: '/sys/kernel/dmabuf', expect: { errno: 'ENOENT' } }] },
    ];
    writeFileSync(join(cdir, 'c.json'), JSON.stringify({ cases }));
    const out: string[] = [];
    const print = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    assert.equal(await conformanceMain(['run', join(cdir, 'c.json'), '--profile', '6.12'], print), 0, out.join('\n'));
    assert.equal(out.at(-1), '3 passed, 0 failed');
    // a bad case-level value: the case file is refused, naming the case
    writeFileSync(join(cdir, 'bad.json'), JSON.stringify({ cases: [{ name: 'bad', backend: 'emulated', kconfig: 'CMA_AREAS=0', steps: [{ count_fds: true }] }] }));
    out.length = 0;
    assert.notEqual(await conformanceMain(['run', join(cdir, 'bad.json'), '--profile', '6.12'], print), 0);
    assert.match(out.join('\n'), /bad\.json: case 1 "bad": .*CONFIG_CMA_AREAS=0 is out of range: 1 to 4096/);
  } finally {
    rmSync(cdir, { recursive: true, force: true });
  }
});

const ORACLE = new URL('../../../../shared/oracle/', import.meta.url).pathname;

test('the referees\' own .config files read, name their machine, and give the referees\' heaps', { skip: existsSync(`${ORACLE}kernel-6.1.config`) ? false : 'no ../shared/oracle beside the repository' }, async () => {
  for (const [f, arch] of [['kernel-5.10.config', 'x86_64'], ['kernel-6.1.config', 'x86_64'], ['kernel-6.12.config', 'x86_64'], ['kernel-7.3.config', 'x86_64'], ['images-arm64-7.3/kernel.config', 'arm64']] as const) {
    if (!existsSync(`${ORACLE}${f}`)) continue;
    const kc = kconfigFromArgs([`${ORACLE}${f}`]);
    const { kconfigMachine } = await import('../../src/kernel/kconfig.js');
    assert.deepEqual(kconfigMachine(kc), { arch, pageSize: 4096 }, f);
  }
  // the x86 referees boot with cma=64M: /dev/dma_heap/{reserved,system} on 6.1 and 6.12
  for (const v of ['6.1', '6.12']) {
    const r = await run('heaps', '--backend', 'emulated', '--profile', v, '--cmdline', 'cma=64M', '--kconfig', `${ORACLE}kernel-${v}.config`, '--json');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual((JSON.parse(r.out) as { heaps: { name: string }[] }).heaps.map((h) => h.name).sort(), ['reserved', 'system'], v);
  }
  // the 6.1 and 7.3 referees with ORACLE_CMA=4G (2 GiB, RAM to 0x7ffe0000, 4 MiB pageblocks): "cma:
  // Size (0x0000000100000000) of region at 0x0000000000000000 exceeds limit (0x000000007fc00000)"
  for (const v of ['6.1', '7.3'] as const) {
    const big = bootKernel({ profile: v, ramBytes: 2 * 1024 ** 3, cmdline: 'cma=4G', kconfig: readFileSync(`${ORACLE}kernel-${v}.config`, 'latin1') });
    assert.ok(big.dmesg.includes('cma: Size (0x0000000100000000) of region at 0x0000000000000000 exceeds limit (0x000000007fc00000)'), `${v}: ${big.dmesg.join('\n')}`);
  }
});
