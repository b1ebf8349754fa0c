import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatDtsError, parseDts, type DtsReadFile } from '../../src/kernel/of/dts.js';
import { readFdt, writeFdt } from '../../src/kernel/of/fdt.js';
import { nodePath, propCells, propString, propStrings, treeLines, type DeviceTree } from '../../src/kernel/of/tree.js';
import { FIX, FIXTURES, RANDOM_SEEDS, dtcAnswer, dtcBlob, randomDts, readInclude, parseFixture, rng, sameAsDtc } from './of-helpers.js';

function node(t: DeviceTree, path: string) {
  const n = t.find(path);
  assert.ok(n !== null, `${path} exists`);
  return n;
}

test('every top-level fixture is compiled by the tests', () => {
  const top = readdirSync(FIX).filter((f) => f.endsWith('.dts'));
  for (const f of top) assert.ok(FIXTURES.includes(f), `${f} is listed in FIXTURES`);
});

for (const name of FIXTURES) {
  test(`${name}: the parsed tree equals dtc's blob read back (paths, property names, value bytes)`, () => {
    const fromDtc = readFdt(dtcBlob(name));
    if ('error' in fromDtc) assert.fail(fromDtc.error);
    assert.deepEqual(treeLines(parseFixture(name)), treeLines(fromDtc.tree));
  });
}

test('labels, references and phandles are assigned as dtc does', () => {
  const t = parseFixture('labels-refs.dts');
  // self-referencing `phandle = <&self>` is met first, 2 is taken explicitly, then in reference order.
  assert.deepEqual(propCells(node(t, '/self-referencing'), 'phandle'), [1]);
  assert.deepEqual(propCells(node(t, '/clock-controller@2000'), 'phandle'), [2]);
  assert.deepEqual(propCells(node(t, '/interrupt-controller@1000'), 'phandle'), [3]);
  assert.deepEqual(propCells(node(t, '/soc/serial@4000'), 'phandle'), [4]);
  assert.deepEqual(propCells(node(t, '/soc/serial@3000'), 'phandle'), [5]);
  assert.equal(t.find('/soc'), node(t, '/soc'));
  assert.equal(node(t, '/soc').props.find((p) => p.name === 'phandle'), undefined, 'unreferenced nodes get no phandle');
  assert.deepEqual(propCells(node(t, '/soc/serial@3000'), 'clocks'), [2, 7, 4, 1]);
  assert.equal(t.byPhandle(3), node(t, '/interrupt-controller@1000'));
  // Path references expand to the path and a NUL; `&{/}` is "/".
  assert.equal(propString(node(t, '/aliases'), 'serial0'), '/soc/serial@3000');
  assert.equal(propString(node(t, '/aliases'), 'serial1'), '/soc/serial@4000');
  assert.equal(propString(node(t, '/aliases'), 'root'), '/');
  const mixed = node(t, '/chosen').props.find((p) => p.name === 'mixed')!.value;
  assert.equal(Buffer.from(mixed).toString('latin1'), 'before\0/interrupt-controller@1000\0\xde\xad\xbe\xef\0\0\0\x05after\0');
  // Merges through labels and paths; a label added by a reference works afterwards.
  assert.equal(propString(node(t, '/soc/serial@3000'), 'status'), 'okay');
  assert.deepEqual(propCells(node(t, '/soc/serial@3000'), 'current-speed'), [115200]);
  assert.deepEqual(propCells(node(t, '/soc/serial@4000'), 'label-added-by-reference'), [4]);
  assert.deepEqual(node(t, '/soc/serial@4000').labels, ['console']);
  assert.deepEqual(node(t, '/soc/serial@3000').labels, ['uart0']);
  assert.deepEqual(node(t, '/soc/serial@3000').props.find((p) => p.name === 'status')!.labels, ['status_label']);
  // Source locations: the node's name, and the property's latest definition.
  const uart = node(t, '/soc/serial@3000');
  assert.deepEqual({ ...uart.loc!, file: relative(FIX, uart.loc!.file) }, { file: 'labels-refs.dts', line: 34, column: 10 });
  const status = uart.props.find((p) => p.name === 'status')!;
  assert.equal(status.loc!.line, 63);
  assert.equal(nodePath(uart), '/soc/serial@3000');
  assert.equal(uart.parent, node(t, '/soc'));
});

test('merges: overrides, deletions restored in place, omit-if-no-ref, redundant name', () => {
  const t = parseFixture('merges-deletes.dts');
  assert.equal(propString(t.root, 'model'), 'second');
  const a = node(t, '/node-a');
  assert.deepEqual(
    a.props.map((p) => p.name),
    ['p1', 'p2', 'p3', 'p4'],
  );
  assert.deepEqual(propCells(a, 'p1'), [11]);
  assert.deepEqual(propCells(a, 'p2'), [22]);
  assert.deepEqual(
    a.children.map((c) => c.name),
    ['child1', 'child2', 'child3', 'child4'],
  );
  assert.deepEqual(
    node(t, '/node-a/child1').props.map((p) => p.name),
    ['x', 'w'],
  );
  assert.deepEqual(
    node(t, '/node-a/child2').props.map((p) => p.name),
    ['again'],
  );
  assert.deepEqual(node(t, '/node-b').props, []);
  assert.deepEqual(
    node(t, '/node-gone').props.map((p) => p.name),
    ['v2'],
  );
  assert.deepEqual(node(t, '/node-gone').labels, [], 'a deleted label does not come back with its node');
  assert.equal(t.find('/unused'), null);
  assert.equal(t.find('/maybe'), null);
  assert.deepEqual(propCells(node(t, '/used'), 'phandle'), [1]);
  assert.deepEqual(node(t, '/name-test').props, []);
  assert.deepEqual(
    t.root.children.map((c) => c.name),
    ['node-a', 'node-b', 'node-gone', 'used', 'name-test', 'user'],
  );
});

test('includes resolve relative to the including file; /incbin/ reads bytes', () => {
  const t = parseFixture('include/board.dts');
  assert.deepEqual(propCells(node(t, '/cpus/cpu@101'), 'reg'), [0x101]);
  assert.equal(t.bootCpuidPhys, 0x100);
  const uart = node(t, '/soc/serial@9000');
  assert.equal(propString(uart, 'status'), 'okay');
  assert.equal(relative(FIX, uart.loc!.file), join('include', 'soc.dtsi'));
  assert.equal(uart.loc!.line, 12);
  assert.deepEqual([...t.root.props.find((p) => p.name === 'firmware-blob')!.value], [...readFileSync(join(FIX, 'include/blob.bin'))]);
  assert.deepEqual([...t.root.props.find((p) => p.name === 'firmware-head')!.value], [0x00, 0x01, 0xfe, 0xff]);
});

test('values and expressions', () => {
  const v = parseFixture('values.dts');
  const val = (n: string): number[] => [...v.root.props.find((p) => p.name === n)!.value];
  assert.deepEqual(val('empty'), []);
  assert.deepEqual(val('empty-cells'), []);
  assert.deepEqual(val('empty-string'), [0]);
  assert.deepEqual(val('high-bytes'), [0xff, 0xfe, 0x80, 0]);
  assert.deepEqual(propStrings(v.root, 'string-list'), ['acme,board-v2', 'acme,board', 'simple-bus']);
  assert.deepEqual(val('bytes-packed'), [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
  assert.deepEqual(val('mixed'), [0x61, 0, 0, 0, 0, 1, 0x22, 0x62, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 2, 0, 3]);
  assert.ok(v.root.props.some((p) => p.name === 'backslash-escaped-name'));
  const e = parseFixture('expressions.dts');
  assert.deepEqual(propCells(e.root, 'arith'), [3, 7, 42, 14, 2, 3, 9]);
  assert.deepEqual(propCells(e.root, 'unsigned'), [0xffffffff, 1, 0x7fffffff, 2, 0, 1]);
  assert.deepEqual(propCells(e.root, 'ternary'), [2, 3, 3]);
  const m = parseFixture('memreserve.dts');
  assert.deepEqual(m.memreserve, [
    { address: 0x10000000, size: 0x4000 },
    { address: 0x20000000, size: 0x2000 },
    { address: 0x80000000, size: 0x100000 },
    { address: 0x100000000, size: 0x10000 },
  ]);
  assert.equal(m.bootCpuidPhys, 3, 'boot_cpuid_phys is the reg of the first cpu node');
});

test('cpp line markers map positions back to the original file', () => {
  const t = parseFixture('preprocessed.dts');
  const uart = node(t, '/serial@3000');
  assert.deepEqual(uart.loc, { file: 'board.dts', line: 10, column: 9 });
  assert.deepEqual(propCells(uart, 'interrupts'), [37, 4]);
});

const CPP_HINT = (f: string): string =>
  `C preprocessor directive '#include' is not supported; run \`cpp -nostdinc -undef -x assembler-with-cpp -I include ${f}\` first (as the kernel's dtc build does) and pass the output`;

test('C preprocessor directives are refused with the command to run', () => {
  const r = parseDts('/dts-v1/;\n\n#include <dt-bindings/gpio/gpio.h>\n/ { };\n', 'board.dts');
  assert.ok('error' in r);
  assert.equal(formatDtsError(r.error), `board.dts:3:1: ${CPP_HINT('board.dts')}`);
  const file = join(FIX, 'cpp/board.dts');
  const f = parseDts(readFileSync(file, 'latin1'), file, readInclude);
  assert.ok('error' in f);
  assert.equal(formatDtsError(f.error), `${file}:3:1: ${CPP_HINT(file)}`);
  for (const d of ['#define X 1', '  #if defined(FOO)', '#ifdef FOO', '#ifndef FOO', '#endif', '# include "x.h"', '#undef X', '#else']) {
    const e = parseDts(`/dts-v1/;\n/ {\n${d}\n};\n`, 'b.dts');
    assert.ok('error' in e, d);
    assert.match(e.error.message, /^C preprocessor directive '#\w+' is not supported/, d);
    assert.equal(e.error.line, 3);
  }
  // Property names starting with '#' are not directives, even at the start of a line.
  const ok = parseDts('/dts-v1/;\n/ {\n#address-cells = <1>;\n#if-cells;\n  #include-cells = <2>;\n};\n', 'b.dts');
  assert.ok('tree' in ok, 'error' in ok ? formatDtsError(ok.error) : '');
});

/** Malformed inputs and the exact error; dtc refuses them too (overlays aside: dtc compiles those). */
const ERRORS: [string, string][] = [
  ['/ { };\n', "bad.dts:1:1: expected '/dts-v1/;' at the start of the file (only version 1 device tree source is supported), found '/'"],
  ['/dts-v1/;\n/ {\n\tp = <1 + 2>;\n};\n', "bad.dts:3:9: expected a number, a '(' expression ')', a &reference or '>' in a cell list, found '+' (an expression must be in parentheses, as in <(1 + 2)>)"],
  ['/dts-v1/;\n/ {\n\tp = <1>\n};\n', "bad.dts:4:1: expected ',' or ';' after a property value, found '}'"],
  ['/dts-v1/;\n/ {\n\tn { }\n};\n', "bad.dts:4:1: expected ';' after '}' closing node 'n', found '}'"],
  ['/dts-v1/;\n/ {\n\tn {\n', "bad.dts:4:1: unexpected end of file: expected '}' to close node 'n' opened at bad.dts:3:2"],
  ['/dts-v1/;\n/ {\n\tn { };\n\tp = <1>;\n};\n', 'bad.dts:4:2: properties must precede subnodes'],
  ['/dts-v1/;\n/ { };\n&nolabel { };\n', "bad.dts:3:1: label or path 'nolabel' not found"],
  ['/dts-v1/;\n/ {\n\tp = <&nolabel>;\n};\n', "bad.dts:3:7: reference to non-existent node or label 'nolabel'"],
  ['/dts-v1/;\n/ {\n\tl: a { };\n\tl: b { };\n};\n', "bad.dts:4:2: duplicate label 'l' on /b and /a"],
  ['/dts-v1/;\n/ {\n\ta { };\n\ta { };\n};\n', "bad.dts:4:2: duplicate node name 'a' in / (first at bad.dts:3:2); to extend a node, use a later '/ { ... };' or '&label { ... };' block"],
  ['/dts-v1/;\n/ {\n\tp = /bits/ 8 <256>;\n};\n', "bad.dts:3:16: value 0x100 out of range for an 8-bit array element"],
  ['/dts-v1/;\n/ {\n\tp = /bits/ 7 <1>;\n};\n', 'bad.dts:3:13: array elements must be 8, 16, 32 or 64 bits, not 7'],
  ['/dts-v1/;\n/ {\n\tp = /bits/ 16 <&a>;\n};\n', 'bad.dts:3:17: references are only allowed in arrays with 32-bit elements (this one is /bits/ 16)'],
  ['/dts-v1/;\n/ {\n\tp = <(1 / 0)>;\n};\n', 'bad.dts:3:10: division by zero'],
  ['/dts-v1/;\n/ {\n\tp = [0 1];\n};\n', "bad.dts:3:7: expected two hex digits or ']' in a byte string, found number '0'"],
  ['/dts-v1/;\n/ {\n\tp = "abc;\n};\n', 'bad.dts:3:6: unterminated string: expected a closing \'"\''],
  ['/dts-v1/;\n/ {\n\tp = <08>;\n};\n', "bad.dts:3:7: bad integer literal '08' (a leading 0 means octal)"],
  ['/dts-v1/;\n/ { /* never closed\n', "bad.dts:2:5: unterminated comment: expected '*/' to close the '/*' here"],
  ['/dts-v1/;\n/ {\n\tp = \'ab\';\n};\n', 'bad.dts:3:6: character literal has 2 characters instead of 1'],
  ['/dts-v1/;\n/ {\n\tname = "other";\n};\n', "bad.dts:3:2: \"name\" property is incorrect (\"other\" instead of the base node name '')"],
  ['/dts-v1/;\n/ {\n\ta { phandle = <1>; };\n\tb { phandle = <1>; };\n};\n', 'bad.dts:4:2: duplicated phandle 0x1 in /b (seen before at /a)'],
  ['/dts-v1/;\n/ {\n\tp@1 = <1>;\n};\n', "bad.dts:3:2: bad character '@' in property name 'p@1'"],
  ['/dts-v1/;\n/ {\n\tp = x;\n};\n', "bad.dts:3:6: expected a property value (a \"string\", <cells>, [bytes] or a &reference), found 'x'"],
  ['/dts-v1/;\n/ {\n\t= <1>;\n};\n', "bad.dts:3:2: expected a property or child node name, a label, '/delete-node/', '/delete-property/' or '}', found '='"],
];

test('malformed input: exact file:line:col messages, and dtc refuses it too', () => {
  ERRORS.forEach(([src, want], i) => {
    const d = dtcAnswer({ id: `malformed-${String(i + 1).padStart(2, '0')}`, name: 'bad.dts', source: src });
    assert.ok(!d.ok, `dtc accepts ${JSON.stringify(src)}`);
    assert.match(d.stderr, /ERROR|Error/, `dtc says why it refuses ${JSON.stringify(src)}`);
    const r = parseDts(src, 'bad.dts');
    assert.ok('error' in r, `should fail: ${JSON.stringify(src)} (dtc: ${d.stderr.split('\n')[0]})`);
    assert.equal(formatDtsError(r.error), want);
  });
});

test('overlays are refused', () => {
  const r = parseDts('/dts-v1/;\n/plugin/;\n&{/} { };\n', 'overlay.dts');
  assert.ok('error' in r);
  assert.equal(
    formatDtsError(r.error),
    "overlay.dts:2:1: device tree overlays ('/plugin/') are not supported; apply the overlay to its base tree first (for example with fdtoverlay) and pass the result",
  );
});

test('includes: cycles, depth limit, missing files, errors inside included files', () => {
  const files = new Map<string, string>();
  const reader: DtsReadFile = (name) => {
    const text = files.get(name);
    return text === undefined ? null : { path: name, text };
  };
  files.set('a.dtsi', '/include/ "b.dtsi"\n');
  files.set('b.dtsi', '\n  /include/ "a.dtsi"\n');
  let r = parseDts('/dts-v1/;\n/include/ "a.dtsi"\n/ { };\n', 'main.dts', reader);
  assert.ok('error' in r);
  assert.equal(formatDtsError(r.error), 'b.dtsi:2:3: include cycle: a.dtsi -> b.dtsi -> a.dtsi');

  files.clear();
  for (let i = 1; i <= 40; i++) files.set(`f${i}.dtsi`, `/include/ "f${i + 1}.dtsi"\n`);
  files.set('f32.dtsi', '/ { deep; };\n');
  r = parseDts('/dts-v1/;\n/include/ "f1.dtsi"\n', 'main.dts', reader);
  assert.ok('tree' in r, '32 levels are fine');
  files.set('f32.dtsi', '/include/ "f33.dtsi"\n');
  files.set('f33.dtsi', '/ { deep; };\n');
  r = parseDts('/dts-v1/;\n/include/ "f1.dtsi"\n', 'main.dts', reader);
  assert.ok('error' in r);
  assert.equal(formatDtsError(r.error), 'f32.dtsi:1:1: includes nested too deeply (more than 32 levels)');

  r = parseDts('/dts-v1/;\n/include/ "nope.dtsi"\n', 'main.dts', reader);
  assert.ok('error' in r);
  assert.equal(formatDtsError(r.error), 'main.dts:2:1: cannot find include file "nope.dtsi"');
  r = parseDts('/dts-v1/;\n/include/ "x.dtsi"\n', 'main.dts');
  assert.ok('error' in r);
  assert.equal(formatDtsError(r.error), 'main.dts:2:1: cannot include "x.dtsi": no file reader was given');

  files.set('bad.dtsi', '/ {\n\tp = <1>\n};\n');
  r = parseDts('/dts-v1/;\n/include/ "bad.dtsi"\n', 'main.dts', reader);
  assert.ok('error' in r);
  assert.equal(formatDtsError(r.error), "bad.dtsi:3:1: expected ',' or ';' after a property value, found '}'");
});

test('deep nesting is refused, not a stack overflow', () => {
  const deep = (s: string): string => ('error' in parseDts(s, 'd.dts') ? (parseDts(s, 'd.dts') as { error: { message: string } }).error.message : 'ok');
  assert.equal(deep('/dts-v1/; / {' + ' a {'.repeat(100000)), 'nodes nested too deeply (more than 256 levels)');
  assert.equal(deep('/dts-v1/; / {' + ' a {'.repeat(255) + ' };'.repeat(256)), 'ok');
  assert.equal(deep('/dts-v1/; / { p = <' + '('.repeat(100000)), 'expression nested too deeply (more than 256 levels)');
  assert.equal(deep('/dts-v1/; / { p = <(' + '-'.repeat(100000) + '1)>; };'), 'expression nested too deeply (more than 256 levels)');
});

test('large inputs parse in about linear time', () => {
  const n = 20000;
  const seq = (f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('');
  const inputs = {
    'merged properties': `/dts-v1/; / {${seq((i) => `p${i};`)}}; / {${seq((i) => `p${i} = <1>;`)}};`,
    'merged children': `/dts-v1/; / {${seq((i) => `n${i} {};`)}}; / {${seq((i) => `n${i} { x; };`)}};`,
    'references': `/dts-v1/; / {${seq((i) => `l${i}: n${i} { r = <&l${(i * 7) % n}>; p = &l${(i * 3) % n}; };`)}};`,
    'one long value': `/dts-v1/; / { p = <${seq(() => '&a ')}>, ${seq(() => '&a, ')}"end"; a: a {}; };`,
  };
  for (const [what, src] of Object.entries(inputs)) {
    const t0 = Date.now();
    const r = parseDts(src, 'big.dts');
    assert.ok('tree' in r, what);
    assert.ok(Date.now() - t0 < 5000, `${what}: ${Date.now() - t0} ms`);
  }
});

test('fuzz: garbage, truncations and mutations give a tree or an error, quickly', () => {
  const r = rng(20240601);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const bases = FIXTURES.map((f) => readFileSync(join(FIX, f), 'latin1'));
  const soup = ['{', '}', ';', '/', '<', '>', '(', ')', '&', 'a:', 'x', '=', '"s"', '[00]', '/dts-v1/;', '/ {', '};', '&a', '/delete-node/', '/bits/ 8', ',', '0x1', '#include', '\n#', '/include/ "x"', "'c'", '/*', '//', '&{/a}', '?', ':', '-'];
  const reader: DtsReadFile = (name) => (name === 'x' ? { path: 'x', text: pick(bases).slice(0, 200) } : null);
  let worst = 0;
  for (let i = 0; i < 2000; i++) {
    const base = pick(bases);
    let s: string;
    switch (i % 4) {
      case 0:
        s = base.slice(0, Math.floor(r() * base.length));
        break;
      case 1: {
        const a = base.split('');
        for (let j = 0; j < 4; j++) a[Math.floor(r() * a.length)] = String.fromCharCode(Math.floor(r() * 256));
        s = a.join('');
        break;
      }
      case 2:
        s = Array.from({ length: Math.floor(r() * 300) }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
        break;
      default:
        s = Array.from({ length: Math.floor(r() * 60) }, () => pick(soup)).join(r() < 0.5 ? ' ' : '');
    }
    const t0 = Date.now();
    const res = parseDts(s, 'fuzz.dts', reader);
    worst = Math.max(worst, Date.now() - t0);
    assert.ok('tree' in res || ('error' in res && typeof res.error.message === 'string' && res.error.line >= 1 && res.error.column >= 1));
    if ('tree' in res) writeFdt(res.tree);
  }
  assert.ok(worst < 1000, `slowest parse took ${worst} ms`);
});

test('differential: random sources give dtc\'s exact blob (as recorded), or fail where dtc fails', () => {
  let compiled = 0;
  for (const seed of RANDOM_SEEDS) {
    const src = randomDts(seed);
    const d = dtcAnswer({ id: `random-${seed}`, name: `r${seed}.dts`, source: src, keepSource: false });
    if (sameAsDtc(seed, src, d)) compiled++;
  }
  assert.ok(compiled >= 40, `only ${compiled} random sources compiled`);
});
