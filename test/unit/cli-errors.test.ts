// How every command fails: the text (message and hint on stderr) and the --json error object
// (on stdout), the exit status, and each refusal of a size or a number, with its exact text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from './cli-helpers.js';
import { parseInteger, parseSize, RAM_LIMITS, SIZE_FORMS, UsageError } from '../../src/apps/common/args.js';
import { describeError, reportError } from '../../src/apps/common/errors.js';

const MAIN = new URL('../../src/apps/cli/main.js', import.meta.url).pathname;

const run = runCaptured;

/** The command fails with `code`/`exit`; text: message and hint on stderr; --json: the object on stdout, stderr empty. */
async function fails(argv: string[], exit: number, code: string, message: string, hint: string | null): Promise<void> {
  const prefix = ['demo', 'heaps', 'lint-names', 'dump', 'doctor', 'top', 'alloc', 'conformance'].includes(argv[0]!) ? `dmaheap ${argv[0]!}` : 'dmaheap';
  const t = await run(...argv);
  assert.deepEqual([t.code, t.err, t.out], [exit, `${prefix}: ${message}${hint !== null ? `\nhint: ${hint}` : ''}`, ''], argv.join(' '));
  const end = argv.indexOf('--');
  const j = await run(...(end < 0 ? [...argv, '--json'] : [...argv.slice(0, end), '--json', ...argv.slice(end)]));
  assert.deepEqual([j.code, JSON.parse(j.out) as unknown, j.err], [exit, { error: { code, message, hint } }, ''], `${argv.join(' ')} --json`);
}

test('sizes: the accepted forms', () => {
  const ok: [string, number][] = [
    ['0', 0], ['4096', 4096], ['64K', 65536], ['64k', 65536], ['64KiB', 65536], ['64KB', 65536], ['64kib', 65536], ['64Ki', 65536],
    ['1M', 1 << 20], ['1m', 1 << 20], ['1MiB', 1 << 20], ['2G', 2 ** 31], ['1T', 2 ** 40], ['4096B', 4096], ['4096b', 4096],
    ['0x1000', 4096], ['0X1000', 4096], ['0x1e3', 0x1e3], ['0x10M', 16 << 20], ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ];
  for (const [s, v] of ok) assert.equal(parseSize(s, 'size'), v, s);
});

test('sizes: each refusal says what is wrong, and the hint names the accepted forms', () => {
  const refused: [string, string][] = [
    ['1Q', "'Q' is not a unit"],
    ['1P', "'P' is not a unit"],
    ['64KX', "'KX' is not a unit"],
    ['1e', "'e' is not a unit"],
    ['-1', 'it is negative'],
    ['+1', 'a sign is not accepted'],
    ['1e400', 'exponents are not accepted'],
    ['1e3', 'exponents are not accepted (write 1000)'],
    ['1.5M', 'it is not a whole number of bytes (write 1536K)'],
    ['.5M', 'it is not a whole number of bytes (write 512K)'],
    ['0.5', 'it is not a whole number of bytes'],
    ['0x', '0x needs hex digits after it'],
    ['0xg', '0x needs hex digits after it'],
    ['', 'it is empty'],
    [' 1M', 'it contains a space'],
    ['1 M', 'it contains a space'],
    ['010', 'a leading zero is ambiguous (the kernel reads 010 as octal): write the number without it, or in 0x hex'],
    ['M', 'it does not start with a number'],
    ['lots', 'it does not start with a number'],
  ];
  for (const [s, why] of refused) {
    assert.throws(() => parseSize(s, '--size'), (e: unknown) => e instanceof UsageError && e.message === `--size: '${s}' is not a size: ${why}` && e.hint === SIZE_FORMS && e.exitCode === 2, JSON.stringify(s));
  }
  assert.equal(SIZE_FORMS, 'a size is a whole number of bytes, decimal or 0x hex, with an optional unit K, M, G or T (1K = 1024; KiB and KB mean K): 4096, 64K, 1M, 0x1000');
  assert.throws(() => parseSize('99999999999T', '<size>'), { message: "<size>: '99999999999T' is too large: the largest is 9007199254740991 bytes (2^53 - 1, the largest whole number a JavaScript number holds exactly)" });
  assert.throws(() => parseSize('9007199254740992', '<size>'), { message: "<size>: '9007199254740992' is too large: the largest is 9007199254740991 bytes (2^53 - 1, the largest whole number a JavaScript number holds exactly)" });
  assert.throws(() => parseSize('128T', '--ram', RAM_LIMITS), { message: "--ram: '128T' is too large: the largest is 64T (the most RAM x86-64 with 4-level paging maps, MAX_PHYSMEM_BITS 46)" });
  assert.throws(() => parseSize('32M', '--ram', RAM_LIMITS), { message: "--ram: '32M' is too small: the smallest is 64M" });
  assert.equal(parseSize('64T', '--ram', RAM_LIMITS), 64 * 2 ** 40);
});

test('numbers: decimal whole numbers in a range, nothing else', () => {
  const spec = { noun: 'a process id', min: 1, max: 4194304, note: '(PID_MAX_LIMIT)' };
  assert.equal(parseInteger('4194304', '--pid', spec), 4194304);
  const hint = '--pid takes a process id: a decimal whole number from 1 to 4194304 (PID_MAX_LIMIT)';
  for (const [s, why] of [
    ['', 'it is empty'], [' 1', 'it contains a space'], ['-1', 'it is negative'], ['0x10', 'only decimal digits are accepted'], ['1e3', 'only decimal digits are accepted'],
    ['1.0', 'only decimal digits are accepted'], ['01', 'a leading zero is not accepted'], ['0', 'the smallest is 1'], ['4194305', 'the largest is 4194304'],
    ['99999999999999999999999', 'the largest is 4194304'],
  ] as const) {
    assert.throws(() => parseInteger(s, '--pid', spec), (e: unknown) => e instanceof UsageError && e.message === `--pid: '${s}' is not a process id: ${why}` && e.hint === hint, JSON.stringify(s));
  }
});

test('every place the command line takes a size or a number refuses a bad one, in text and in JSON', async () => {
  const size = SIZE_FORMS;
  await fails(['alloc', 'system', '1Q', '--backend', 'emulated'], 2, 'usage', "<size>: '1Q' is not a size: 'Q' is not a unit", size);
  await fails(['alloc', 'system', '-1', '--backend', 'emulated'], 2, 'usage', "'-1' is a negative number: sizes, ids and counts are never negative", "'dmaheap alloc --help' lists its options");
  await fails(['alloc', 'system', '--backend', 'emulated', '--', '-1'], 2, 'usage', "<size>: '-1' is not a size: it is negative", size);
  await fails(['alloc', 'system', '1e400', '--backend', 'emulated'], 2, 'usage', "<size>: '1e400' is not a size: exponents are not accepted", size);
  await fails(['alloc', 'system', '99999999999T', '--backend', 'emulated'], 2, 'usage', "<size>: '99999999999T' is too large: the largest is 9007199254740991 bytes (2^53 - 1, the largest whole number a JavaScript number holds exactly)", size);
  await fails(['alloc', 'system', '0x', '--backend', 'emulated'], 2, 'usage', "<size>: '0x' is not a size: 0x needs hex digits after it", size);
  await fails(['alloc', 'system', '', '--backend', 'emulated'], 2, 'usage', "<size>: '' is not a size: it is empty", size);
  await fails(['alloc', 'system', ' 1M', '--backend', 'emulated'], 2, 'usage', "<size>: ' 1M' is not a size: it contains a space", size);
  await fails(['alloc', 'system', '1.5M', '--backend', 'emulated'], 2, 'usage', "<size>: '1.5M' is not a size: it is not a whole number of bytes (write 1536K)", size);
  await fails(['demo', '--size', '1Q'], 2, 'usage', "--size: '1Q' is not a size: 'Q' is not a unit", size);
  await fails(['heaps', '--ram', '1e400'], 2, 'usage', "--ram: '1e400' is not a size: exponents are not accepted", size);
  await fails(['heaps', '--ram', '99999999999T'], 2, 'usage', "--ram: '99999999999T' is too large: the largest is 64T (the most RAM x86-64 with 4-level paging maps, MAX_PHYSMEM_BITS 46)", size);
  await fails(['heaps', '--ram', '1M'], 2, 'usage', "--ram: '1M' is too small: the smallest is 64M", size);
  await fails(['heaps', '--ram=-1'], 2, 'usage', "--ram: '-1' is not a size: it is negative", size);
  await fails(['heaps', '--ram', '-1'], 2, 'usage', '--ram needs a value', "to give a value that starts with '-', write --ram=<value>");
  await fails(['heaps', '--page-size', '8K'], 2, 'usage', "--page-size: '8K' is not a page size", 'the page sizes are 4096 (4K), 16K and 64K; 16K and 64K need --arch arm64 or an arm64 board');
  await fails(['heaps', '--page-size', '16K'], 2, 'config', 'the emulated kernel cannot boot this machine: page size 16384 is not supported on x86_64 (use 4096)', 'change the machine options (docs/tools.md lists them)');
  await fails(['lint-names', '--ram', '0x'], 2, 'usage', "--ram: '0x' is not a size: 0x needs hex digits after it", size);
  await fails(['conformance', 'run', 'x', '--ram', '1.5G'], 2, 'usage', "--ram: '1.5G' is not a size: it is not a whole number of bytes (write 1536M)", size);
  await fails(['conformance', 'run', 'x', '--page-size', '1Q'], 2, 'usage', "--page-size: '1Q' is not a size: 'Q' is not a unit", size);
  await fails(['top', '--interval', '1s'], 2, 'usage', "--interval: '1s' is not a number of milliseconds: only decimal digits are accepted", '--interval takes a number of milliseconds: a decimal whole number from 100 to 86400000 (one day)');
  await fails(['top', '--interval', '99'], 2, 'usage', "--interval: '99' is not a number of milliseconds: the smallest is 100", '--interval takes a number of milliseconds: a decimal whole number from 100 to 86400000 (one day)');
  await fails(['top', '--interval', '1e3'], 2, 'usage', "--interval: '1e3' is not a number of milliseconds: only decimal digits are accepted", '--interval takes a number of milliseconds: a decimal whole number from 100 to 86400000 (one day)');
  await fails(['dump', '--pid', '-5', '--backend', 'emulated'], 2, 'usage', '--pid needs a value', "to give a value that starts with '-', write --pid=<value>");
  await fails(['dump', '--pid', '4194305', '--backend', 'emulated'], 2, 'usage', "--pid: '4194305' is not a process id: the largest is 4194304", '--pid takes a process id: a decimal whole number from 1 to 4194304 (PID_MAX_LIMIT)');
  const id = 'a decimal whole number from 0 to 4294967294 ((uid_t)-1 is not an id)';
  await fails(['doctor', '--uid', '4294967295'], 2, 'usage', "--uid: '4294967295' is not a numeric id: the largest is 4294967294", `--uid takes a numeric id: ${id}`);
  await fails(['doctor', '--uid', 'root'], 2, 'usage', "--uid: 'root' is not a numeric id: only decimal digits are accepted", `--uid takes a numeric id: ${id}`);
  await fails(['doctor', '--gid', '1.5'], 2, 'usage', "--gid: '1.5' is not a numeric id: only decimal digits are accepted", `--gid takes a numeric id: ${id}`);
  await fails(['doctor', '--groups', '44,,1000'], 2, 'usage', "--groups: '44,,1000' has an empty entry", '--groups takes numeric ids separated by commas, e.g. 44,1000 (the empty text for none)');
  await fails(['doctor', '--groups', '44,video'], 2, 'usage', "--groups: 'video' is not a numeric id: only decimal digits are accepted", `--groups takes a numeric id: ${id}`);
  await fails(['alloc', 'system', '1M', '--uid', '01'], 2, 'usage', "--uid: '01' is not a numeric id: a leading zero is not accepted", `--uid takes a numeric id: ${id}`);
});

test('other usage errors: commands, options, values, positionals', async () => {
  await fails(['frob'], 2, 'usage', "unknown command 'frob'", 'the commands are demo, heaps, lint-names, dump, doctor, top, alloc, run, simulate, dashboard, conformance');
  await fails(['heaps', '--frob'], 2, 'usage', "unknown option '--frob'", "'dmaheap heaps --help' lists its options");
  await fails(['heaps', '-z'], 2, 'usage', "unknown option '-z'", "'dmaheap heaps --help' lists its options");
  await fails(['heaps', '--json=1'], 2, 'usage', '--json takes no value', "'dmaheap heaps --help' lists its options");
  await fails(['heaps', '--profile', '5.4'], 2, 'usage', "--profile: '5.4' is not a kernel profile", 'the profiles are 5.10, 5.15, 6.1, 6.6, 6.12, 6.17, 6.18, 6.19, 7.0, 7.3; the Android GKI branches are android12-5.10, android13-5.10, android13-5.15, android14-5.15, android14-6.1, android15-6.6, android16-6.12');
  await fails(['heaps', '--arch', 'riscv64'], 2, 'usage', "--arch: 'riscv64' is not an architecture", 'the architectures are x86_64 and arm64');
  await fails(['heaps', '--features', 'warp'], 2, 'usage', "--features: unknown feature 'warp'", 'the features are coherent, coherent-prefixed, dmem and charge-pidfd, comma-separated');
  await fails(['heaps', '--features', 'coherent,coherent-prefixed'], 2, 'usage', "--features: 'coherent,coherent-prefixed' names two coherent heaps", 'coherent (node names, v3) and coherent-prefixed (coherent_<node>) are two revisions of one proposal: give one');
  await fails(['heaps', 'extra'], 2, 'usage', "unexpected argument 'extra'", "'dmaheap heaps --help' lists its options");
  await fails(['lint-names', '--fail-on', 'all'], 2, 'usage', "--fail-on: 'all' is not any or changeable", "any: every name that breaks a rule fails (the default); changeable: only names the device tree chooses fail, the kernel's fixed names are reported");
  await fails(['lint-names', 'extra'], 2, 'usage', "unexpected argument 'extra'", "'dmaheap lint-names --help' lists its options");
  await fails(['alloc', 'system', '1M', 'extra', '--backend', 'emulated'], 2, 'usage', "unexpected argument 'extra'", "'dmaheap alloc --help' lists its options");
  await fails(['conformance', 'walk'], 2, 'usage', "unknown subcommand 'walk' (only 'run')", "'dmaheap conformance run --help' lists its options");
  await fails(['conformance', 'run'], 2, 'usage', 'no case files or directories given', 'give case files or directories, e.g. dmaheap conformance run test/conformance/cases');
  await fails(['conformance', 'run', '/nonexistent/cases'], 2, 'usage', '/nonexistent/cases: no such file or directory', "'dmaheap conformance run --help' lists its options");
  await fails(['conformance', 'run', 'x', '--backend', 'qemu'], 2, 'usage', "--backend: 'qemu' is not a backend of conformance run", 'the backends are emulated and linux');
  // options go after the command
  const t = await run('--json', 'heaps');
  assert.deepEqual([t.code, JSON.parse(t.out) as unknown], [2, { error: { code: 'usage', message: "'--json' is not a command: options go after the command (dmaheap <command> [options])", hint: 'the commands are demo, heaps, lint-names, dump, doctor, top, alloc, run, simulate, dashboard, conformance' } }]);
  // no command: the usage on stderr, exit status 2; --help on stdout, 0
  const none = await run();
  assert.equal(none.code, 2);
  assert.match(none.err, /^Usage: dmaheap <command> \[options\]\n/);
  const help = await run('--help');
  assert.deepEqual([help.code, help.err], [0, '']);
  assert.match(help.out, /^Usage: dmaheap <command> \[options\]\n/);
  assert.deepEqual(JSON.parse((await run('--version', '--json')).out), { version: '0.1.0' });
  const topHelp = await run('help', 'top');
  assert.deepEqual([topHelp.code, topHelp.out.split('\n')[0]], [0, 'Usage: dmaheap top [--once | --interval <ms>] [--json] [--backend emulated|linux|auto] [--demo-workload] [machine options]']);
  await fails(['help', 'frob'], 2, 'usage', "no command 'frob'", 'the commands are demo, heaps, lint-names, dump, conformance run, doctor, top, alloc, run, simulate, dashboard');
});

test('board, config, errno and backend errors: their codes, exit statuses and hints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-errors-'));
  try {
    const bad = join(dir, 'bad.dts');
    writeFileSync(bad, '/dts-v1/;\n/ { x = <1 2; };\n');
    const boardHint = 'fix the board file, or give a DTS, a DTB or a /sys/firmware/devicetree/base directory (docs/device-tree.md)';
    await fails(['heaps', '--board', join(dir, 'none.dts')], 2, 'board', `--board: ${join(dir, 'none.dts')}: no such file or directory`, boardHint);
    const syntax = await run('lint-names', '--board', bad, '--json');
    const e = (JSON.parse(syntax.out) as { error: { code: string; message: string; hint: string } }).error;
    assert.deepEqual([syntax.code, e.code, e.hint], [2, 'board', boardHint]);
    assert.match(e.message, /^--board: .*bad\.dts:2:/);
    await fails(['conformance', 'run', dir, '--board', join(dir, 'none.dts')], 2, 'board', `--board: ${join(dir, 'none.dts')}: no such file or directory`, boardHint);
    await fails(['demo', '--ram', '64M', '--cmdline', 'cma=64M', '--heap', 'reserved'], 1, 'ENOENT', "ENOENT: No such file or directory, open '/dev/dma_heap/reserved'",
      'no heap named reserved; the heaps are system; reserved is the name of the default CMA area\'s heap here (cma=64M on the kernel command line), but there is no such heap: CONFIG_DMABUF_HEAPS_CMA is off, or the area could not be placed (dmesg | grep -i cma); dmaheap doctor explains the cma= naming');
    await fails(['alloc', 'default_cma_region', '4G', '--backend', 'emulated'], 1, 'ENOMEM', "ENOMEM: Cannot allocate memory, ioctl '/dev/dma_heap/default_cma_region'", 'the heap has no room for that size');
    await fails(['alloc', 'system', '0', '--backend', 'emulated'], 1, 'EINVAL', "EINVAL: Invalid argument, ioctl '/dev/dma_heap/system'", 'a heap refuses an empty buffer: give a size of at least 1 byte');
    await fails(['alloc', 'system', '4K', '--backend', 'emulated', '--uid', '1000'], 1, 'EACCES', "EACCES: Permission denied, open '/dev/dma_heap/system'", "run dmaheap doctor: it shows the node's owner and mode and the udev rule that opens it to a group");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('any other exception is a bug: code internal, exit status 70, the stack on stderr', () => {
  const e = new TypeError('x is not a function');
  const lines: string[] = [];
  const code = reportError(e, { json: true, prefix: 'dmaheap heaps', usageHint: '', out: (s) => lines.push(`out:${s}`), err: (s) => lines.push(`err:${s}`) });
  assert.equal(code, 70);
  assert.deepEqual(JSON.parse(lines[0]!.slice(4)) as unknown, { error: { code: 'internal', message: 'internal error: x is not a function', hint: 'this is a bug in dmaheap: please report it with the command line that caused it' } });
  assert.match(lines[1]!, /^err:TypeError: x is not a function\n {4}at /);
  const backend = Object.assign(new Error('--backend linux: this is darwin, not Linux'), { name: 'BackendError' });
  assert.deepEqual(describeError(backend, ''), { code: 'backend', message: '--backend linux: this is darwin, not Linux', hint: 'dmaheap doctor says why this machine cannot be used and what to do; --backend emulated runs the command on an emulated machine', exitCode: 1, stack: null });
});

test('on the process: exit statuses, and an error in JSON is the only output', { skip: process.platform !== 'linux' ? 'the linux backend error is checked on Linux' : false }, () => {
  const r = spawnSync(process.execPath, [MAIN, 'heaps', '--ram', '1Q', '--json'], { encoding: 'utf8' });
  assert.deepEqual([r.status, r.stderr], [2, '']);
  assert.equal(r.stdout, `${JSON.stringify({ error: { code: 'usage', message: "--ram: '1Q' is not a size: 'Q' is not a unit", hint: SIZE_FORMS } }, null, 2)}\n`);
  // --backend linux: a failure (1) where it cannot run (code backend), or where the heap is not there (ENOENT) or not for this user (EACCES)
  const l = spawnSync(process.execPath, [MAIN, 'alloc', 'system', '4K', '--backend', 'linux', '--json'], { encoding: 'utf8' });
  if (l.status === 0) return; // this machine has a system heap this user may open
  const j = JSON.parse(l.stdout) as { error: { code: string; message: string; hint: string | null } };
  assert.deepEqual([l.status, l.stderr], [1, '']);
  assert.ok(['backend', 'ENOENT', 'EACCES'].includes(j.error.code), j.error.code);
  assert.notEqual(j.error.hint, null);
});
