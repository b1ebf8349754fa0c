// The board loaders the library and the CLI share (src/boards, src/kernel/of/board.ts):
// `createClient({ board })` in every form — a shipped board's name, a path (DTS, DTB, live-tree
// directory), DTS text, DTB bytes, DTS bytes, a parsed tree — boots the same machine as the CLI's
// `--board`, and bad input is a BoardError that says what was wrong (file:line:col for DTS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emulatedBackend } from '../../src/backends/emulated/index.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';
import {
  BoardError, SHIPPED_BOARD_NAMES, classifyBoardString, isDtsText, loadBoard, loadBoardBytes, loadBoardText, resolveBoard, shippedBoards, writeFdt,
} from '../../src/boards/index.js';
import type { DeviceTree, DtNode } from '../../src/boards/index.js';
import { KernelConfigError } from '../../src/kernel/kernel.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const IMX8MP = join(ROOT, 'examples/boards/imx8mp.dts');
const MAIN = join(ROOT, 'dist/src/apps/cli/main.js');
/** imx8mp on 6.19: the default region, its per-region twin and the two other reusable regions. */
const IMX8MP_619 = ['system', 'default_cma_region', 'linux,cma', 'cma-video', 'framebuffer@78000000'];
const STRING_FORMS = "a board string is a shipped board's name, a path to a DTS file, a DTB or a live-tree directory, or DTS source text starting with /dts-v1/";
const ALL_FORMS = 'a board is the name of a shipped board (am62x, imx8mp, rk3588, rpi5, x86-pc), a path to a DTS file, a DTB or a live-tree directory, DTS source text (starting with /dts-v1/), DTB bytes (a Uint8Array) or a DeviceTree';

/** The heaps, arch and command line of a client booted with `board` on 6.19. */
function boot(board: EmulatedOptions['board'], extra: EmulatedOptions = {}): { heaps: string[]; arch: string; cmdline: string } {
  const c = emulatedBackend.createClient({ board, profile: '6.19', ...extra });
  try {
    return { heaps: c.heaps().map((h) => h.name), arch: c.target.arch, cmdline: c.target.readFile('/proc/cmdline').text ?? '' };
  } finally {
    c.close();
  }
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected an error');
}

/** The kernel's /sys/firmware/devicetree/base layout of a tree. */
function writeLive(t: DeviceTree, dir: string): void {
  const walk = (n: DtNode, d: string): void => {
    mkdirSync(d, { recursive: true });
    for (const p of n.props) writeFileSync(join(d, p.name), p.value);
    for (const c of n.children) walk(c, join(d, c.name));
  };
  walk(t.root, dir);
}

const BOOTARGS = 'console=ttymxc1,115200 root=/dev/mmcblk2p2 rootwait rw\n';

test('createClient({ board }) boots the same imx8mp from its name, a path, DTS text, DTB bytes, DTS bytes, a live tree and a parsed tree', () => {
  const text = readFileSync(IMX8MP, 'latin1');
  const tree = resolveBoard(IMX8MP);
  const dtb = writeFdt(tree);
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-boards-'));
  try {
    writeFileSync(join(dir, 'imx8mp.dtb'), dtb);
    writeLive(tree, join(dir, 'base'));
    const forms: [string, EmulatedOptions['board']][] = [
      ['name', 'imx8mp'],
      ['absolute path', IMX8MP],
      ['relative path', relative(process.cwd(), IMX8MP)],
      ['DTB path', join(dir, 'imx8mp.dtb')],
      ['live-tree directory', join(dir, 'base')],
      ['DTS text', text],
      ['DTB bytes (Uint8Array)', dtb],
      ['DTB bytes (Buffer)', Buffer.from(dtb)],
      ['DTS bytes', new Uint8Array(Buffer.from(text, 'latin1'))],
      ['DeviceTree', tree],
    ];
    // a live tree lists nodes in name order, not the DTS's, so its heaps register in another order: compare sets
    for (const [what, board] of forms) {
      const b = boot(board);
      assert.deepEqual({ ...b, heaps: [...b.heaps].sort() }, { heaps: [...IMX8MP_619].sort(), arch: 'arm64', cmdline: BOOTARGS }, what);
    }
    assert.deepEqual(boot('imx8mp').heaps, IMX8MP_619);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // an explicit command line and arch still win over the board's
  assert.deepEqual(boot('imx8mp', { cmdline: 'cma=128M', arch: 'x86_64' }).cmdline, 'cma=128M\n');
  assert.equal(boot('imx8mp', { arch: 'x86_64' }).arch, 'x86_64');
  assert.equal(boot('x86-pc').arch, 'x86_64');
});

test('every shipped board boots by name, and the names are exactly the files of examples/boards', () => {
  const files = readdirSync(join(ROOT, 'examples/boards')).filter((f) => f.endsWith('.dts')).map((f) => f.slice(0, -4)).sort();
  assert.deepEqual([...SHIPPED_BOARD_NAMES], files);
  assert.deepEqual(shippedBoards().map((b) => [b.name, b.path]), files.map((f) => [f, join(ROOT, 'examples/boards', `${f}.dts`)]));
  const heaps = Object.fromEntries(SHIPPED_BOARD_NAMES.map((n) => [n, boot(n).heaps]));
  assert.deepEqual(heaps, {
    'am62x': ['system', 'default_cma_region', 'linux,cma'],
    'imx8mp': IMX8MP_619,
    'rk3588': ['system', 'default_cma_region', 'linux,cma', 'cma@10000000', 'isp@20000000', 'npu@28000000', 'protected,secure-video'],
    'rpi5': ['system', 'default_cma_region', 'reserved'],
    'x86-pc': ['system', 'default_cma_region', 'reserved'],
  });
});

test('a board string is a shipped name exactly, else DTS text when /dts-v1/ comes first after comments, else a path', () => {
  assert.deepEqual(['imx8mp', 'IMX8MP', 'imx8mp.dts', './imx8mp', 'rpi5 ', 'x86-pc'].map(classifyBoardString), ['name', 'path', 'path', 'path', 'path', 'name']);
  assert.equal(classifyBoardString('/dts-v1/;\n/ { };'), 'text');
  assert.equal(classifyBoardString('\ufeff  // SPDX\n/* a\n comment */\n\t/dts-v1/;'), 'text');
  assert.equal(classifyBoardString('/ { };'), 'path');
  assert.equal(classifyBoardString('/* never closed /dts-v1/;'), 'path');
  assert.equal(classifyBoardString('// only a comment /dts-v1/;'), 'path');
  assert.equal(isDtsText('#include "x.dtsi"\n/dts-v1/;'), false);
  // a file named like a shipped board does not change what the name means
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-boards-'));
  const cwd = process.cwd();
  try {
    writeFileSync(join(dir, 'rpi5'), '/dts-v1/;\n/ { compatible = "x86-pc"; };\n');
    process.chdir(dir);
    assert.deepEqual(boot('rpi5').heaps, ['system', 'default_cma_region', 'reserved']);
    assert.equal(boot('rpi5').arch, 'arm64');
    assert.equal(boot('./rpi5').arch, 'x86_64');
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad boards are BoardErrors (KernelConfigErrors) that say what was wrong and what a board may be', () => {
  const e = thrown(() => emulatedBackend.createClient({ board: 'imx8mq' }));
  assert.ok(e instanceof BoardError && e instanceof KernelConfigError);
  assert.equal(e.name, 'BoardError');
  assert.equal(e.message, `board: 'imx8mq' is not a shipped board (am62x, imx8mp, rk3588, rpi5, x86-pc) and not an existing path (no such file or directory); ${STRING_FORMS}`);
  assert.equal(thrown(() => emulatedBackend.createClient({ board: 'examples/boards/imx8mp.dts/x' })).message,
    'board: examples/boards/imx8mp.dts/x: a part of the path is not a directory');
  // DTS without its /dts-v1/ header is not taken for a path silently
  assert.equal(thrown(() => emulatedBackend.createClient({ board: '/ {\n  model = "x";\n};\n' })).message,
    `board: a string of 22 characters starting '/ {…' is not a shipped board (am62x, imx8mp, rk3588, rpi5, x86-pc), not DTS source text (no /dts-v1/ at the start) and not an existing path (no such file or directory); ${STRING_FORMS}`);
  for (const [bad, what] of [[42, 'a number'], ['', "''"], [{ root: 1 }, 'an object that is not a DeviceTree'], [['imx8mp'], 'an array'], [true, 'a boolean']] as const) {
    const err = thrown(() => emulatedBackend.createClient({ board: bad as unknown as string }));
    assert.ok(err instanceof BoardError);
    assert.equal(err.message, `board: ${what} is not a board; ${ALL_FORMS}`);
  }
  // bytes that are neither a DTB nor DTS source
  assert.equal(thrown(() => emulatedBackend.createClient({ board: new Uint8Array([1, 2, 3, 4, 5]) })).message,
    'board: <board bytes>: neither a DTB (no FDT magic d0 0d fe ed at the start: 01 02 03 04) nor DTS source (no /dts-v1/ at the start)');
  assert.equal(thrown(() => emulatedBackend.createClient({ board: new Uint8Array(0) })).message,
    'board: <board bytes>: neither a DTB (no FDT magic d0 0d fe ed at the start: empty) nor DTS source (no /dts-v1/ at the start)');
  // a truncated DTB
  const dtb = writeFdt(resolveBoard('imx8mp'));
  assert.equal(thrown(() => emulatedBackend.createClient({ board: dtb.subarray(0, 60) })).message,
    `board: <board bytes>: invalid FDT: truncated: totalsize is ${dtb.length} bytes but only 60 are present`);
  // null and undefined mean no board
  assert.deepEqual(emulatedBackend.createClient({ board: null, profile: '6.1' }).heaps().map((h) => h.name), ['system', 'reserved']);
});

test('malformed DTS is an error at file:line:col, for a file, text and bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-boards-'));
  try {
    const bad = '/dts-v1/;\n/ {\n\tmodel = "x"\n};\n';
    writeFileSync(join(dir, 'bad.dts'), bad);
    const msg = "expected ',' or ';' after a property value, found '}'";
    assert.equal(thrown(() => emulatedBackend.createClient({ board: join(dir, 'bad.dts') })).message, `board: ${join(dir, 'bad.dts')}:4:1: ${msg}`);
    assert.equal(thrown(() => emulatedBackend.createClient({ board: bad })).message, `board: <board text>:4:1: ${msg}`);
    assert.equal(thrown(() => emulatedBackend.createClient({ board: Buffer.from(bad) })).message, `board: <board bytes>:4:1: ${msg}`);
    assert.deepEqual(loadBoardText(bad, { file: 'mine.dts' }), { error: `mine.dts:4:1: ${msg}` });
    assert.deepEqual(loadBoardBytes(Buffer.from(bad), { file: 'mine.dts' }), { error: `mine.dts:4:1: ${msg}` });
    // a file's /include/ is found beside it; DTS text's beside the current directory or in includeDirs
    writeFileSync(join(dir, 'soc.dtsi'), '/ { compatible = "dmaheap,x86-pc"; };\n');
    writeFileSync(join(dir, 'main.dts'), '/dts-v1/;\n/include/ "soc.dtsi"\n');
    assert.equal(boot(join(dir, 'main.dts')).arch, 'x86_64');
    const inc = '/dts-v1/;\n/include/ "soc.dtsi"\n';
    assert.equal(thrown(() => emulatedBackend.createClient({ board: inc })).message, 'board: <board text>:2:1: cannot find include file "soc.dtsi"');
    assert.equal(boot(inc, { boardIncludeDirs: [dir] }).arch, 'x86_64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreadable board file is an error naming the file and the reason', { skip: process.platform !== 'linux' ? 'needs Linux file permissions' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-boards-'));
  try {
    const file = join(dir, 'secret.dts');
    writeFileSync(file, readFileSync(IMX8MP));
    chmodSync(file, 0o000);
    chmodSync(dir, 0o755);
    // root reads anything: ask as nobody (uid 65534) in a child process then, from a copy of the
    // built sources nobody can read (the checkout may sit in a 0700 directory, as mktemp makes them)
    const src = join(dir, 'src');
    cpSync(fileURLToPath(new URL('../../src/', import.meta.url)), src, { recursive: true });
    const code = `import('${pathToFileURL(join(src, 'boards', 'index.js')).href}').then((b) => console.log(JSON.stringify(b.loadBoard(${JSON.stringify(file)}))))`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}) });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { error: `${file}: permission denied` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadBoard returns what it read and how; resolveBoard throws', () => {
  const r = loadBoard('imx8mp');
  assert.ok(!('error' in r));
  assert.equal(r.source, 'dts');
  assert.deepEqual(loadBoard(r.tree), { tree: r.tree, source: 'tree' });
  const b = loadBoard(writeFdt(r.tree));
  assert.ok(!('error' in b) && b.source === 'dtb');
  assert.deepEqual(loadBoard('nope'), { error: `'nope' is not a shipped board (am62x, imx8mp, rk3588, rpi5, x86-pc) and not an existing path (no such file or directory); ${STRING_FORMS}` });
  assert.throws(() => resolveBoard('nope'), { name: 'BoardError', message: `board: 'nope' is not a shipped board (am62x, imx8mp, rk3588, rpi5, x86-pc) and not an existing path (no such file or directory); ${STRING_FORMS}` });
});

test('the CLI takes the same names: --board imx8mp gives the heaps of --board examples/boards/imx8mp.dts', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: ROOT });
  const byName = run('heaps', '--board', 'imx8mp', '--profile', '6.19', '--json');
  const byPath = run('heaps', '--board', 'examples/boards/imx8mp.dts', '--profile', '6.19', '--json');
  assert.equal(byName.status, 0, byName.stderr);
  assert.equal(byPath.status, 0, byPath.stderr);
  const a = JSON.parse(byName.stdout) as { board: string; heaps: { name: string }[] };
  const b = JSON.parse(byPath.stdout) as { board: string; heaps: { name: string }[] };
  assert.deepEqual([a.board, b.board], ['imx8mp', 'examples/boards/imx8mp.dts']);
  assert.deepEqual(a.heaps.map((h) => h.name), IMX8MP_619);
  assert.deepEqual({ ...a, board: null }, { ...b, board: null });
  const bad = run('heaps', '--board', 'imx8mq');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, `dmaheap heaps: --board: 'imx8mq' is not a shipped board (am62x, imx8mp, rk3588, rpi5, x86-pc) and not an existing path (no such file or directory); ${STRING_FORMS}\nhint: fix the board file, or give a DTS, a DTB or a /sys/firmware/devicetree/base directory (docs/device-tree.md)\n`);
});
