// The kernel's build configuration (src/kernel/kconfig.ts, docs/kconfig.md): reading a .config
// (every line form Kconfig writes, and every refusal with source:line), options on top, Kconfig
// defaults and dependencies, and what the emulated machine follows (heaps, CMA areas, sysfs and
// debugfs files, /proc/config.gz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import {
  Kconfig, KconfigError, KCONFIG_LIMITS, KCONFIG_SYMBOLS, configGz, kconfigMachine, looksLikeKconfigOptions, maxCmaAreas, parseKconfigOptions, parseKconfigText, resolveBuild,
} from '../../src/kernel/kconfig.js';
import type { BuildContext, KernelBuild } from '../../src/kernel/kconfig.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelConfig } from '../../src/kernel/kernel.js';
import { KernelConfigError } from '../../src/kernel/config-error.js';

const X86: BuildContext = { profile: '6.12', arch: 'x86_64', pageSize: 4096, coherentHeap: false };
const ARM: BuildContext = { profile: '6.12', arch: 'arm64', pageSize: 4096, coherentHeap: false };

/** The KconfigError `f` throws: its message, source and line. */
function refusal(f: () => unknown): { message: string; source: string; line: number | null } {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof KconfigError, `not a KconfigError: ${String(e)}`);
    assert.ok(e instanceof KernelConfigError);
    return { message: e.message, source: e.source, line: e.line };
  }
  assert.fail('no KconfigError');
}

function build(text: string | null, opts: [string, string][] = [], c: BuildContext = X86): KernelBuild {
  const kc = text === null ? Kconfig.options(opts) : Kconfig.parse(text, 'test.config').with(opts);
  return resolveBuild(kc, c);
}

test('parsing: every line form Kconfig writes', () => {
  const t = parseKconfigText([
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    '# Linux/arm64 7.3.0-rc7 Kernel Configuration',
    '',
    'CONFIG_ARM64=y',
    '# CONFIG_IKCONFIG is not set',
    'CONFIG_UDMABUF=m',
    'CONFIG_CMA_SIZE_MBYTES=64',
    'CONFIG_CMDLINE="console=ttyAMA0 cma=\\"64M\\", quiet"',
    'CONFIG_PHYS_OFFSET=0x40000000',
    'CONFIG_NEG=-1',
    '#CONFIG_NOT_A_NOT_SET_LINE is not set',
    'CONFIG_DMABUF_HEAPS=n',
    'CONFIG_CMA_AREAS=7\r',
    'CONFIG_CMA_AREAS=8',
  ].join('\n'), 'k.config');
  const e = (s: string) => { const x = t.entries.get(s); return x === undefined ? undefined : [x.value, x.line, x.source]; };
  assert.deepEqual(e('ARM64'), ['y', 5, 'k.config']);
  assert.deepEqual(e('IKCONFIG'), ['n', 6, 'k.config']);
  assert.deepEqual(e('UDMABUF'), ['m', 7, 'k.config']);
  assert.deepEqual(e('CMA_SIZE_MBYTES'), ['64', 8, 'k.config']);
  assert.deepEqual(e('CMDLINE'), ['"console=ttyAMA0 cma=\\"64M\\", quiet"', 9, 'k.config']);
  assert.deepEqual(e('PHYS_OFFSET'), ['0x40000000', 10, 'k.config']);
  assert.deepEqual(e('NEG'), ['-1', 11, 'k.config']);
  assert.equal(e('NOT_A_NOT_SET_LINE'), undefined); // a comment: "# CONFIG_" needs the space
  assert.deepEqual(e('DMABUF_HEAPS'), ['n', 13, 'k.config']);
  // a later line wins (conf_read_simple()); a CR LF line end is accepted
  assert.deepEqual(e('CMA_AREAS'), ['8', 15, 'k.config']);
  assert.equal(t.lines.length, 15);
  assert.equal(t.lines[13], 'CONFIG_CMA_AREAS=7');
  assert.equal(t.entries.size, 9);
});

test('parsing: each bad line is a KconfigError with source:line and what a line may be', () => {
  const cases: [string, number | null, string][] = [
    ['CONFIG_A=y\nCONFIG_B\n', 2, "test.config:2: 'CONFIG_B' has no '=': a .config line is CONFIG_<SYMBOL>=<value>"],
    ['CONFIG_A-B=y\n', 1, "test.config:1: 'CONFIG_A-B' is not a symbol name (letters, digits and _)"],
    ['\n\nhello world\n', 3, 'test.config:3: \'hello world\' is not a .config line (CONFIG_<SYMBOL>=<value>, "# CONFIG_<SYMBOL> is not set", a # comment or a blank line)'],
    ['CONFIG_X=\n', 1, 'test.config:1: CONFIG_X has no value (a .config line is CONFIG_X=<y|m|n|number|"string">, or "# CONFIG_X is not set")'],
    ['CONFIG_X=yes\n', 1, "test.config:1: 'yes' is not a .config value (y, m, n, a decimal or 0x number, or a \"quoted string\")"],
    ['CONFIG_X="open\n', 1, "test.config:1: '\"open' is not a .config value (y, m, n, a decimal or 0x number, or a \"quoted string\")"],
    ['CONFIG_X=0xZZ\n', 1, "test.config:1: '0xZZ' is not a .config value (y, m, n, a decimal or 0x number, or a \"quoted string\")"],
    // modelled symbols: their type and range
    ['CONFIG_CMA=m\n', 1, "test.config:1: CONFIG_CMA is a bool: y or n (not set), not 'm'"],
    ['CONFIG_DMABUF_HEAPS_CMA=64\n', 1, "test.config:1: CONFIG_DMABUF_HEAPS_CMA is a tristate: y, m or n (not set), not '64'"],
    ['CONFIG_CMA_SIZE_MBYTES=0x40\n', 1, "test.config:1: CONFIG_CMA_SIZE_MBYTES is a number, not '0x40'"],
    ['CONFIG_CMA_SIZE_MBYTES=y\n', 1, "test.config:1: CONFIG_CMA_SIZE_MBYTES is a number, not 'y'"],
    ['CONFIG_CMA_AREAS=0\n', 1, 'test.config:1: CONFIG_CMA_AREAS=0 is out of range: 1 to 4096'],
    ['CONFIG_CMA_ALIGNMENT=13\n', 1, 'test.config:1: CONFIG_CMA_ALIGNMENT=13 is out of range: 2 to 12'],
    ['CONFIG_CMA_SIZE_PERCENTAGE=101\n', 1, 'test.config:1: CONFIG_CMA_SIZE_PERCENTAGE=101 is out of range: 0 to 100'],
    ['CONFIG_CMA_SIZE_MBYTES=99999999999999999999\n', 1, 'test.config:1: CONFIG_CMA_SIZE_MBYTES=99999999999999999999 is out of range: 0 to 8589934591'],
    ['CONFIG_A=y\0\n', null, 'test.config: a NUL byte: this is not a text file (a .config, e.g. /proc/config.gz after gunzip)'],
  ];
  for (const [text, line, message] of cases) assert.deepEqual(refusal(() => parseKconfigText(text, 'test.config')), { message, source: 'test.config', line }, JSON.stringify(text));
});

test('parsing: bounds (size, line length, symbols) are refused at once, not worked through', () => {
  assert.deepEqual(refusal(() => parseKconfigText('#'.repeat(KCONFIG_LIMITS.maxBytes + 1), 'big')), { message: `big: ${KCONFIG_LIMITS.maxBytes + 1} bytes: more than a .config can be (the limit is ${KCONFIG_LIMITS.maxBytes} bytes)`, source: 'big', line: null });
  assert.deepEqual(refusal(() => parseKconfigText(`CONFIG_A=y\n# ${'x'.repeat(KCONFIG_LIMITS.maxLine)}\n`, 'long')), { message: `long:2: a line of ${KCONFIG_LIMITS.maxLine + 2} characters (the limit is ${KCONFIG_LIMITS.maxLine})`, source: 'long', line: 2 });
  // the largest accepted text parses, and in reasonable time (no quadratic work): 4 MiB of lines
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < KCONFIG_LIMITS.maxBytes - 64; i++) {
    const l = `CONFIG_S${i % 5000}=${i}`;
    lines.push(l);
    n += l.length + 1;
  }
  const t = parseKconfigText(`${lines.join('\n')}\n`, 'many');
  assert.equal(t.entries.size, 5000);
  assert.equal(t.lines.length, lines.length);
});

test('parsing: more symbols than the bound is refused with the line', () => {
  const text = Array.from({ length: KCONFIG_LIMITS.maxSymbols + 1 }, (_, i) => `CONFIG_S${i}=y`).join('\n');
  assert.deepEqual(refusal(() => parseKconfigText(text, 'wide')), { message: `wide:${KCONFIG_LIMITS.maxSymbols + 1}: more than ${KCONFIG_LIMITS.maxSymbols} symbols`, source: 'wide', line: KCONFIG_LIMITS.maxSymbols + 1 });
});

test('options: SYM=value or CONFIG_SYM=value, comma-separated, a comma inside a string kept', () => {
  assert.deepEqual(parseKconfigOptions('CMA_SIZE_MBYTES=64, CONFIG_DMABUF_HEAPS_CMA=n,CMDLINE="a,b"'), [['CMA_SIZE_MBYTES', '64'], ['DMABUF_HEAPS_CMA', 'n'], ['CMDLINE', '"a,b"']]);
  assert.deepEqual(parseKconfigOptions('CMDLINE="say \\"hi, there\\""'), [['CMDLINE', '"say \\"hi, there\\""']]);
  assert.equal(looksLikeKconfigOptions('CMA_SIZE_MBYTES=64'), true);
  assert.equal(looksLikeKconfigOptions(' CONFIG_CMA=y'), true);
  assert.equal(looksLikeKconfigOptions('images-arm64-7.3/kernel.config'), false);
  assert.equal(looksLikeKconfigOptions('./a=b.config'), false);
  assert.equal(refusal(() => parseKconfigOptions('CMA_SIZE_MBYTES=64,,CMA=y')).message, "--kconfig: '' is not an option: write SYMBOL=value (CMA_SIZE_MBYTES=64, DMABUF_HEAPS_CMA=n), comma-separated, or give a .config file");
  assert.equal(refusal(() => parseKconfigOptions('CMA=yes')).message, "--kconfig: 'yes' is not a .config value (y, m, n, a decimal or 0x number, or a \"quoted string\")");
  assert.equal(refusal(() => parseKconfigOptions('CMA_AREAS=-1', 'case kconfig')).message, 'case kconfig: CONFIG_CMA_AREAS=-1 is out of range: 1 to 4096');
  assert.equal(refusal(() => parseKconfigOptions(Array.from({ length: KCONFIG_LIMITS.maxOptions + 1 }, () => 'CMA=y').join(','))).message, `--kconfig: more than ${KCONFIG_LIMITS.maxOptions} options`);
});

test('Kconfig.from: text, records and maps (booleans y/n, numbers decimal), each value checked', () => {
  const b = resolveBuild(Kconfig.from({ CMA_SIZE_MBYTES: 32, CONFIG_DMABUF_HEAPS_CMA: false, UDMABUF: 'm' }), X86);
  assert.equal(b.values.get('CMA_SIZE_MBYTES'), '32');
  assert.equal(b.values.get('DMABUF_HEAPS_CMA'), 'n');
  assert.equal(b.values.get('UDMABUF'), 'm');
  const m = resolveBuild(Kconfig.from(new Map<string, string | number | boolean>([['CMA_SYSFS', true]])), X86);
  assert.equal(m.values.get('CMA_SYSFS'), 'y');
  assert.equal(refusal(() => Kconfig.from({ CMA_SIZE_MBYTES: 1.5 })).message, 'kconfig: CONFIG_CMA_SIZE_MBYTES has no value (a .config line is CONFIG_CMA_SIZE_MBYTES=<y|m|n|number|"string">, or "# CONFIG_CMA_SIZE_MBYTES is not set")');
  assert.equal(refusal(() => Kconfig.from({ 'BAD NAME': true })).message, "kconfig: 'BAD NAME' is not a symbol name (letters, digits and _)");
  assert.equal(refusal(() => Kconfig.from('CONFIG_CMA=2\n', 'my.config')).message, "my.config:1: CONFIG_CMA is a bool: y or n (not set), not '2'");
});

test('options override the file: the option\'s value is used and written into its line of the text', () => {
  const b = build('CONFIG_X86_64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=64\n# CONFIG_CMA_SYSFS is not set\n', [['CMA_SIZE_MBYTES', '16'], ['CMA_SYSFS', 'y'], ['CMA_SIZE_MBYTES', '8'], ['UDMABUF', 'n']]);
  assert.equal(b.values.get('CMA_SIZE_MBYTES'), '8');
  assert.equal(b.values.get('CMA_SYSFS'), 'y');
  assert.equal(b.text, 'CONFIG_X86_64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=8\nCONFIG_CMA_SYSFS=y\n# CONFIG_UDMABUF is not set\n');
});

test('defaults: a symbol the .config lacks takes its Kconfig default (per arch and version), with a note for the ones that matter', () => {
  const x = build('CONFIG_X86_64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n');
  assert.equal(x.values.get('CMA_SIZE_MBYTES'), '0'); // kernel/dma/Kconfig: default 0 if X86
  assert.equal(x.values.get('CMA_SIZE_SEL_MBYTES'), 'y');
  assert.equal(x.values.get('CMA_ALIGNMENT'), '8');
  assert.equal(x.values.get('CMA_AREAS'), '8');
  assert.equal(x.values.get('DMABUF_HEAPS'), 'n');
  assert.deepEqual(x.notes, [
    'CONFIG_CMA_AREAS is not in the configuration: its Kconfig default, 8 (as make olddefconfig)',
    'CONFIG_CMA_SIZE_MBYTES is not in the configuration: its Kconfig default, 0 (as make olddefconfig)',
    'CONFIG_CMA_ALIGNMENT is not in the configuration: its Kconfig default, 8 (as make olddefconfig)',
  ]);
  const a = build('CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n', [], ARM);
  assert.equal(a.values.get('CMA_SIZE_MBYTES'), '16'); // default 16 elsewhere
  assert.ok(a.notes.includes('CONFIG_CMA_SIZE_MBYTES is not in the configuration: its Kconfig default, 16 (as make olddefconfig)'));
  // CMA_AREAS: 7 before v6.9 (MAX_CMA_AREAS = 1 + CMA_AREAS), 8 from it
  assert.equal(build('CONFIG_CMA=y\n', [], { ...X86, profile: '6.1' }).values.get('CMA_AREAS'), '7');
  assert.equal(maxCmaAreas(build('CONFIG_CMA=y\n', [], { ...X86, profile: '6.1' }), '6.1'), 8);
  assert.equal(maxCmaAreas(build('CONFIG_CMA=y\n', [], X86), '6.12'), 8);
  assert.equal(maxCmaAreas(build('CONFIG_CMA=y\nCONFIG_CMA_AREAS=3\n', [], X86), '6.12'), 3);
});

test('dependencies: a symbol whose depends on is unmet is off, with a note saying which', () => {
  const b = build('CONFIG_X86_64=y\nCONFIG_DMABUF_HEAPS=y\nCONFIG_DMABUF_HEAPS_SYSTEM=y\nCONFIG_DMABUF_HEAPS_CMA=y\nCONFIG_CMA=y\nCONFIG_CMA_SYSFS=y\nCONFIG_CMA_AREAS=8\nCONFIG_CMA_ALIGNMENT=8\n');
  assert.equal(b.values.get('DMABUF_HEAPS_CMA'), 'n');
  assert.equal(b.values.get('CMA_SYSFS'), 'y');
  assert.deepEqual(b.notes, [
    'CONFIG_DMABUF_HEAPS_CMA=y has no effect: it depends on CONFIG_DMA_CMA, which is not set (make olddefconfig would turn it off)',
    'CONFIG_CMA_SIZE_MBYTES is not in the configuration: its Kconfig default, 0 (as make olddefconfig)',
  ]);
  // a chain: CMA off turns DMA_CMA off, which turns the CMA heap off
  const c = build(null, [['CMA', 'n']]);
  assert.equal(c.values.get('DMA_CMA'), 'n');
  assert.equal(c.values.get('DMABUF_HEAPS_CMA'), 'n');
  assert.equal(c.values.get('CMA_SYSFS'), 'n');
  assert.deepEqual(c.notes, [
    'CONFIG_CMA_SYSFS=y has no effect: it depends on CONFIG_CMA, which is not set (make olddefconfig would turn it off)',
    'CONFIG_CMA_DEBUGFS=y has no effect: it depends on CONFIG_CMA, which is not set (make olddefconfig would turn it off)',
    'CONFIG_DMA_CMA=y has no effect: it depends on CONFIG_CMA, which is not set (make olddefconfig would turn it off)',
    'CONFIG_CMA_SIZE_SEL_MBYTES=y has no effect: it depends on CONFIG_DMA_CMA, which is not set (make olddefconfig would turn it off)',
    'CONFIG_DMABUF_HEAPS_CMA=y has no effect: it depends on CONFIG_DMA_CMA, which is not set (make olddefconfig would turn it off)',
  ]);
  // IKCONFIG_PROC needs IKCONFIG built in or a module; the arm64 page sizes need ARM64
  assert.equal(build(null, [['IKCONFIG', 'n']]).values.get('IKCONFIG_PROC'), 'n');
  assert.equal(build('CONFIG_X86_64=y\nCONFIG_ARM64_16K_PAGES=y\n').values.get('ARM64_16K_PAGES'), 'n');
  // the CMA_SIZE_SEL choice: one member chosen by an option unchooses the others
  const p = build(null, [['CMA_SIZE_SEL_PERCENTAGE', 'y'], ['CMA_SIZE_PERCENTAGE', '10']]);
  assert.equal(p.values.get('CMA_SIZE_SEL_MBYTES'), 'n');
  assert.equal(p.values.get('CMA_SIZE_SEL_PERCENTAGE'), 'y');
  assert.match(p.text, /^# CONFIG_CMA_SIZE_SEL_MBYTES is not set$/m);
  const two = build('CONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_SEL_MBYTES=y\nCONFIG_CMA_SIZE_SEL_MAX=y\n');
  assert.equal(two.values.get('CMA_SIZE_SEL_MBYTES'), 'n');
  assert.ok(two.notes.includes('CONFIG_CMA_SIZE_SEL_MBYTES and CONFIG_CMA_SIZE_SEL_MAX are one choice: CONFIG_CMA_SIZE_SEL_MAX is used'));
});

test('symbols of other versions are dropped with a note; modules are not loaded', () => {
  const b = build(null, [['DMABUF_SYSFS_STATS', 'y'], ['UDMABUF', 'm']], { ...X86, profile: '7.0' });
  assert.equal(b.values.get('DMABUF_SYSFS_STATS'), 'n');
  assert.ok(b.notes.includes('CONFIG_DMABUF_SYSFS_STATS=y: Linux 7.0.0 has no such option (removed in 7.0): no effect'), b.notes.join('\n'));
  assert.ok(b.notes.includes('CONFIG_UDMABUF=m: a module, and the emulated kernel loads none (modprobe udmabuf on a real system)'));
});

test('the machine a configuration is for; two architectures or page sizes are refused', () => {
  assert.deepEqual(kconfigMachine(Kconfig.parse('CONFIG_ARM64=y\nCONFIG_ARM64_64K_PAGES=y\n')), { arch: 'arm64', pageSize: 65536 });
  assert.deepEqual(kconfigMachine(Kconfig.parse('CONFIG_X86_64=y\n')), { arch: 'x86_64', pageSize: 4096 });
  assert.deepEqual(kconfigMachine(Kconfig.parse('CONFIG_CMA=y\n')), { arch: null, pageSize: null });
  assert.deepEqual(kconfigMachine(Kconfig.options([['ARM64', 'y']])), { arch: 'arm64', pageSize: null });
  assert.equal(refusal(() => kconfigMachine(Kconfig.parse('CONFIG_ARM64=y\n', 'a.config').with([['X86_64', 'y']]))).message, 'a.config: CONFIG_ARM64 and CONFIG_X86_64 are both set: a configuration is for one architecture');
  assert.equal(refusal(() => kconfigMachine(Kconfig.parse('CONFIG_ARM64=y\nCONFIG_ARM64_4K_PAGES=y\nCONFIG_ARM64_16K_PAGES=y\n', 'p.config'))).message, 'p.config: CONFIG_ARM64_4K_PAGES and CONFIG_ARM64_16K_PAGES are all set: a configuration has one page size');
});

test('every modelled symbol says what it changes, and its dependencies are modelled symbols', () => {
  for (const [sym, s] of Object.entries(KCONFIG_SYMBOLS)) {
    assert.ok(s.what.length > 10, sym);
    for (const d of s.depends ?? []) assert.ok(d.replace(/^!/, '') in KCONFIG_SYMBOLS, `${sym} depends on ${d}`);
  }
});

// ---- what the emulated machine follows ------------------------------------------------------

function boot(cfg: KernelConfig): { k: Kernel; ls: (p: string) => string[] | null; read: (p: string) => string | number } {
  const k = new Kernel(cfg);
  const p = k.spawn({ uid: 0, gid: 0, groups: [] }, 'test');
  return { k, ls: (path) => k.readdir(path, p)?.slice().sort() ?? null, read: (path) => k.readFile(p, path) };
}

test('heaps follow the configuration: CONFIG_DMABUF_HEAPS_CMA=n removes the CMA heap, =m too (no module is loaded)', () => {
  assert.deepEqual(boot({ profile: '6.12', cmdline: 'cma=64M' }).ls('/dev/dma_heap'), ['reserved', 'system']);
  for (const v of ['n', 'm']) {
    const m = boot({ profile: '6.12', cmdline: 'cma=64M', kconfig: { DMABUF_HEAPS_CMA: v } });
    assert.deepEqual(m.ls('/dev/dma_heap'), ['system'], v);
    // the CMA area itself stays (it is DMA_CMA's): only the heap is gone
    assert.deepEqual(m.ls('/sys/kernel/mm/cma'), ['reserved'], v);
  }
  assert.deepEqual(boot({ profile: '6.12', cmdline: 'cma=64M', kconfig: { DMABUF_HEAPS_SYSTEM: 'n' } }).ls('/dev/dma_heap'), ['reserved']);
  assert.equal(boot({ profile: '6.12', cmdline: 'cma=64M', kconfig: { DMABUF_HEAPS: 'n' } }).ls('/dev/dma_heap'), null);
  assert.equal(boot({ profile: '6.12', kconfig: { UDMABUF: 'n' } }).read('/dev/udmabuf'), -2);
});

test('CONFIG_CMA_SIZE_MBYTES sizes the default area when there is no cma=; cma= wins; CMA_SIZE_SEL_PERCENTAGE uses the percentage', () => {
  const m = boot({ profile: '6.12', kconfig: { CMA_SIZE_MBYTES: 32 } });
  assert.deepEqual(m.ls('/dev/dma_heap'), ['reserved', 'system']);
  assert.equal(m.read('/sys/kernel/debug/cma/reserved/count'), `${32 * 256}\n`);
  // the default 2 GiB QEMU pc: the area ends at 0x7fc00000, as cma=64M's does on the referees
  assert.ok(m.k.dmesg.includes('cma: Reserved 32 MiB at 0x000000007dc00000 on node -1'), m.k.dmesg.join('\n'));
  const c = boot({ profile: '6.12', cmdline: 'cma=16M', kconfig: { CMA_SIZE_MBYTES: 32 } });
  assert.equal(c.read('/sys/kernel/debug/cma/reserved/count'), `${16 * 256}\n`);
  // 0 (the emulated build's value): no default area without cma=
  assert.deepEqual(boot({ profile: '6.12' }).ls('/dev/dma_heap'), ['system']);
  // DMA_CMA off: CMA_SIZE_MBYTES has no effect
  assert.deepEqual(boot({ profile: '6.12', kconfig: { CMA_SIZE_MBYTES: 32, DMA_CMA: 'n' } }).ls('/dev/dma_heap'), ['system']);
  // 10 % of 1 GiB is 26214 pages (102.4 MiB), rounded up to the 2 MiB CMA alignment: 104 MiB
  const sel = (s: string) => boot({ profile: '6.12', ramBytes: 1024 ** 3, kconfig: { [`CMA_SIZE_SEL_${s}`]: 'y', CMA_SIZE_PERCENTAGE: 10, CMA_SIZE_MBYTES: 32 } });
  assert.equal(sel('PERCENTAGE').read('/sys/kernel/debug/cma/reserved/count'), `${104 * 256}\n`);
  assert.equal(sel('MAX').read('/sys/kernel/debug/cma/reserved/count'), `${104 * 256}\n`);
  assert.equal(sel('MIN').read('/sys/kernel/debug/cma/reserved/count'), `${32 * 256}\n`);
});

test('CONFIG_DMABUF_SYSFS_STATS=n removes /sys/kernel/dmabuf; CMA_SYSFS and CMA_DEBUGFS remove theirs', () => {
  assert.deepEqual(boot({ profile: '6.12' }).ls('/sys/kernel/dmabuf'), ['buffers']);
  const m = boot({ profile: '6.12', kconfig: { DMABUF_SYSFS_STATS: 'n' } });
  assert.equal(m.ls('/sys/kernel/dmabuf'), null);
  assert.equal(m.read('/sys/kernel/dmabuf/buffers'), -2);
  const c = boot({ profile: '6.12', cmdline: 'cma=64M', kconfig: { CMA_SYSFS: 'n', CMA_DEBUGFS: 'n' } });
  assert.equal(c.ls('/sys/kernel/mm/cma'), null);
  assert.equal(c.ls('/sys/kernel/debug/cma'), null);
  assert.deepEqual(c.ls('/dev/dma_heap'), ['reserved', 'system']);
});

test('/proc/config.gz: gunzips to the configuration given (options written in); absent with IKCONFIG_PROC=n or IKCONFIG=m', () => {
  const text = '# my kernel\nCONFIG_X86_64=y\nCONFIG_IKCONFIG=y\nCONFIG_IKCONFIG_PROC=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_DMABUF_HEAPS=y\nCONFIG_DMABUF_HEAPS_SYSTEM=y\nCONFIG_CMA_SIZE_MBYTES=64\n';
  const m = boot({ profile: '6.12', kconfig: text });
  const gz = m.read('/proc/config.gz');
  assert.equal(typeof gz, 'string');
  assert.equal(gunzipSync(Buffer.from(gz as string, 'latin1')).toString('latin1'), text);
  assert.equal(m.k.kconfigText(), text);
  const o = boot({ profile: '6.12', kconfig: Kconfig.parse(text).with([['CMA_SIZE_MBYTES', '16'], ['UDMABUF', 'y']]) });
  assert.equal(gunzipSync(Buffer.from(o.read('/proc/config.gz') as string, 'latin1')).toString('latin1'), text.replace('CONFIG_CMA_SIZE_MBYTES=64', 'CONFIG_CMA_SIZE_MBYTES=16') + 'CONFIG_UDMABUF=y\n');
  // the emulated build's own configuration without a kconfig
  const d = boot({ profile: '6.12' });
  assert.equal(gunzipSync(Buffer.from(d.read('/proc/config.gz') as string, 'latin1')).toString('latin1'), d.k.kconfigText());
  assert.deepEqual(configGz(d.k.build)?.subarray(0, 3), new Uint8Array([0x1f, 0x8b, 8]));
  for (const kc of [{ IKCONFIG_PROC: 'n' }, { IKCONFIG: 'm' }, { IKCONFIG: 'n' }] as Record<string, string>[]) {
    const n = boot({ profile: '6.12', kconfig: kc });
    assert.equal(n.read('/proc/config.gz'), -2, JSON.stringify(kc));
    assert.equal(n.ls('/proc')?.includes('config.gz'), false);
    assert.equal(configGz(n.k.build), null);
  }
});

test('the machine refuses a configuration for another architecture or page size, saying what to do', () => {
  assert.throws(() => new Kernel({ arch: 'x86_64', kconfig: 'CONFIG_ARM64=y\n' }), (e: unknown) => e instanceof KernelConfigError && e.message === 'the kernel configuration is for arm64 (CONFIG_ARM64=y) but the machine is x86_64 (its arch or board): give a configuration for x86_64, or the other architecture');
  assert.throws(() => new Kernel({ arch: 'arm64', pageSize: 4096, kconfig: 'CONFIG_ARM64=y\nCONFIG_ARM64_16K_PAGES=y\n' }), (e: unknown) => e instanceof KernelConfigError && e.message === 'the kernel configuration has 16 KiB pages but the machine 4 KiB (its page size): give one page size');
  // the configuration gives the machine its arch and page size when they are not given
  const k = new Kernel({ kconfig: 'CONFIG_ARM64=y\nCONFIG_ARM64_16K_PAGES=y\n' });
  assert.deepEqual([k.arch, k.pageSize], ['arm64', 16384]);
});

test('docs/kconfig.md has a row for every modelled symbol, and no row for one that is not', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../../docs/kconfig.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `CONFIG_([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(rows, Object.keys(KCONFIG_SYMBOLS));
});
