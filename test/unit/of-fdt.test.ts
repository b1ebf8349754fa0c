import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDtsError, parseDts } from '../../src/kernel/of/dts.js';
import { FDT_MAGIC, isFdt, readFdt, writeFdt, type FdtWriteOptions } from '../../src/kernel/of/fdt.js';
import { propCells, treeLines, type DeviceTree } from '../../src/kernel/of/tree.js';
import { FIXTURES, dtcBlob, parseFixture } from './of-helpers.js';

function read(b: Uint8Array): DeviceTree {
  const r = readFdt(b);
  if ('error' in r) assert.fail(r.error);
  return r.tree;
}

/** Byte equality with the first difference in the message. */
function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  if (Buffer.from(a).equals(Buffer.from(b))) return;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  assert.fail(`${what}: ${a.length} vs ${b.length} bytes, first difference at offset 0x${i.toString(16)}`);
}

for (const name of FIXTURES) {
  test(`${name}: writeFdt() is byte-identical to dtc -O dtb, and a dtc blob round-trips`, () => {
    const blob = dtcBlob(name);
    sameBytes(writeFdt(parseFixture(name)), blob, 'writeFdt(parseDts(source)) vs dtc');
    sameBytes(writeFdt(read(blob)), blob, 'writeFdt(readFdt(dtc blob)) vs dtc');
  });
}

test('writer options match dtc -V 16, -b, -p, -S, -a', () => {
  const tree = parseFixture('memreserve.dts');
  const cases: [string[], FdtWriteOptions][] = [
    [['-V', '16'], { version: 16 }],
    [['-b', '7'], { bootCpuidPhys: 7 }],
    [['-p', '100'], { padSize: 100 }],
    [['-S', '1000'], { minSize: 1000 }],
    [['-S', '10'], { minSize: 10 }],
    [['-a', '64'], { align: 64 }],
    [['-p', '3', '-a', '16'], { padSize: 3, align: 16 }],
  ];
  for (const [args, opts] of cases) {
    const blob = dtcBlob('memreserve.dts', args);
    sameBytes(writeFdt(tree, opts), blob, `dtc ${args.join(' ')}`);
    const back = read(blob);
    assert.deepEqual(treeLines(back).slice(0, -1), treeLines(tree).slice(0, -1), `read back dtc ${args.join(' ')}`);
  }
  // A version 16 blob reads as well (no size_dt_struct field).
  const v16 = read(dtcBlob('memreserve.dts', ['-V', '16']));
  assert.deepEqual(treeLines(v16), treeLines(tree));
});

test('header fields, memreserve and boot CPU', () => {
  const tree = parseFixture('memreserve.dts');
  const b = writeFdt(tree);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.equal(dv.getUint32(0), FDT_MAGIC);
  assert.equal(dv.getUint32(4), b.length);
  assert.equal(dv.getUint32(16), 40, 'off_mem_rsvmap');
  assert.equal(dv.getUint32(8), 40 + 5 * 16, 'off_dt_struct after 4 entries and the terminator');
  assert.equal(dv.getUint32(20), 17);
  assert.equal(dv.getUint32(24), 16);
  assert.equal(dv.getUint32(28), 3, 'boot_cpuid_phys');
  assert.equal(dv.getUint32(12) + dv.getUint32(32), b.length, 'strings block ends the blob');
  assert.ok(isFdt(b));
  assert.ok(!isFdt(new Uint8Array([0xd0, 0x0d, 0xfe])));
  const back = read(b);
  assert.deepEqual(back.memreserve, tree.memreserve);
  assert.equal(back.bootCpuidPhys, 3);
  assert.deepEqual(propCells(back.find('/memory@80000000')!, 'reg'), [0, 0x80000000, 0, 0x40000000]);
  assert.equal(back.find('/cpus/cpu@0')!.parent, back.find('/cpus'));
});

/** A small blob to corrupt: /dts-v1/; / { a { p = <1>; }; }; */
function smallBlob(): Uint8Array {
  const r = parseDts('/dts-v1/;\n/memreserve/ 0x1000 0x1000;\n/ { a { p = <1>; }; };\n', 's.dts');
  if ('error' in r) assert.fail(formatDtsError(r.error));
  return writeFdt(r.tree);
}

/** A version 17 blob around a hand-made structure block (32-bit words) and strings block. */
function rawFdt(words: number[], strings: string): Uint8Array {
  const st = 40 + 16;
  const str = Buffer.from(strings, 'latin1');
  const total = st + words.length * 4 + str.length;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  [FDT_MAGIC, total, st, st + words.length * 4, 40, 17, 16, 0, str.length, words.length * 4].forEach((v, i) => dv.setUint32(i * 4, v));
  words.forEach((w, i) => dv.setUint32(st + i * 4, w));
  b.set(str, st + words.length * 4);
  return b;
}

function patch(b: Uint8Array, off: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(off, v);
  return c;
}

test('corrupt blobs: clear errors', () => {
  const b = smallBlob();
  const dv = new DataView(b.buffer);
  const st = dv.getUint32(8);
  const err = (x: Uint8Array): string => {
    const r = readFdt(x);
    assert.ok('error' in r, 'should fail');
    return r.error;
  };
  // Layout of the structure block: BEGIN_NODE "" / BEGIN_NODE "a" / PROP len nameoff <1> / END_NODE / END_NODE / END.
  assert.equal(err(b.subarray(0, 3)), 'invalid FDT: 3 bytes is too short for a header');
  assert.equal(err(patch(b, 0, 0x12345678)), 'invalid FDT: bad magic 0x12345678 (expected 0xd00dfeed)');
  assert.equal(err(patch(b, 20, 15)), 'invalid FDT: version 15 is not supported (16 or later is needed)');
  assert.equal(err(patch(b, 24, 18)), 'invalid FDT: last_comp_version 18 is newer than the supported version 17');
  assert.equal(err(b.subarray(0, b.length - 1)), `invalid FDT: truncated: totalsize is ${b.length} bytes but only ${b.length - 1} are present`);
  assert.equal(err(patch(b, 8, st + 2)), `invalid FDT: off_dt_struct 0x${(st + 2).toString(16)} is not 4-byte aligned`);
  assert.equal(err(patch(b, 36, 0x10000)), `invalid FDT: structure block (offset 0x${st.toString(16)}, 65536 bytes) is outside the blob`);
  assert.equal(err(patch(b, 32, 0x10000)), `invalid FDT: strings block (offset 0x${dv.getUint32(12).toString(16)}, 65536 bytes) is outside the blob`);
  assert.equal(err(patch(b, 16, 0xfffffff0)), 'invalid FDT: off_mem_rsvmap 0xfffffff0 is outside the blob');
  assert.equal(err(patch(b, st + 16 + 8, 0x1000)), 'invalid FDT: structure block offset 0x10: property name offset 0x1000 is outside the strings block (2 bytes)');
  assert.equal(err(patch(b, st + 16 + 4, 0x1000)), 'invalid FDT: structure block offset 0x10: property value (4096 bytes) runs past the end of the structure block');
  assert.equal(err(patch(b, st + 16, 0x77)), 'invalid FDT: structure block offset 0x10: unknown token 0x77');
  assert.equal(err(patch(b, st + 32, 9)), "invalid FDT: structure block offset 0x20: FDT_END inside node 'a' (missing FDT_END_NODE)");
  assert.equal(err(patch(b, st + 40, 4)), 'invalid FDT: structure block offset 0x2c: the structure block ends without FDT_END');
  assert.equal(err(patch(b, st + 40, 2)), 'invalid FDT: structure block offset 0x28: FDT_END_NODE without a matching FDT_BEGIN_NODE');
  assert.equal(err(patch(b, st + 36, 1)), 'invalid FDT: structure block offset 0x24: a node with an empty name');
  assert.equal(err(patch(b, st, 3)), 'invalid FDT: structure block offset 0x0: a property outside any node');
  const strEnd = dv.getUint32(12) + dv.getUint32(32);
  const noTerm = b.slice();
  noTerm[strEnd - 1] = 0x41;
  assert.equal(err(noTerm), 'invalid FDT: structure block offset 0x10: property name at strings offset 0x0 is not NUL-terminated inside the strings block');
  assert.equal(err(patch(b, 16, b.length - 8)), 'invalid FDT: memory reservation block is not terminated by an entry of size 0');
  // Hand-made structure blocks: NOPs are skipped anywhere; one root only.
  const P = 0x70000000; // placeholder for the property value
  const nops = read(rawFdt([1, 0, 4, 3, 4, 0, P, 4, 1, 0x61000000, 4, 2, 4, 2, 4, 9], 'p\0'));
  assert.deepEqual(treeLines(nops), ['/', '/:p = 70 00 00 00', '/a', 'boot_cpuid_phys 0x0']);
  assert.equal(err(rawFdt([1, 0, 2, 1, 0, 2, 9], '')), 'invalid FDT: structure block offset 0xc: a second root node');
  assert.equal(err(rawFdt([1, 0x2f610000, 2, 9], '')), "invalid FDT: structure block offset 0x0: the root node is named '/a' (expected an empty name)");
  assert.equal(err(rawFdt([1, 0, 1, 0x612f6200, 2, 2, 9], '')), "invalid FDT: structure block offset 0x8: node name 'a/b' contains '/'");
  assert.equal(err(rawFdt([1, 0, 3, 0, 0, 2, 9], '\0')), 'invalid FDT: structure block offset 0x8: a property with an empty name');
  assert.equal(err(rawFdt([9], '')), 'invalid FDT: structure block offset 0x0: FDT_END before any node');
  const deep: number[] = [];
  for (let i = 0; i < 300; i++) deep.push(1, i === 0 ? 0 : 0x61000000);
  assert.equal(err(rawFdt(deep, '')), 'invalid FDT: structure block offset 0x800: nodes nested more than 256 deep');
});

test('truncated and randomly corrupted blobs never throw or hang', () => {
  const blobs = FIXTURES.map((f) => writeFdt(parseFixture(f)));
  for (const b of blobs) {
    for (let n = 0; n < b.length; n++) {
      const r = readFdt(b.subarray(0, n));
      assert.ok('error' in r, `a ${n}-byte prefix of a ${b.length}-byte blob is an error`);
    }
  }
  let s = 12345;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 4294967296;
  };
  let ok = 0;
  const t0 = Date.now();
  for (let i = 0; i < 3000; i++) {
    const b = blobs[i % blobs.length]!.slice();
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const r = readFdt(b);
    if ('tree' in r) {
      ok++;
      writeFdt(r.tree);
    } else assert.match(r.error, /^invalid FDT: /);
  }
  assert.ok(Date.now() - t0 < 10000, 'corruption fuzz finished in time');
  assert.ok(ok > 0, 'some corruptions only change values');
});

test('strings block: names share the tail of an earlier name, as in dtc (long names too)', () => {
  const long = 'x'.repeat(300);
  const src = `/dts-v1/;\n/ {\n\tacme,phandle;\n\t${long},status = "a";\n\tstatus = "b";\n\t${long}-reg;\n\treg = <1>;\n\tg;\n\tr = <&n>;\n\tn: n { };\n};\n`;
  const blob = dtcBlob({ id: 'strings-block', name: 's.dts', source: src });
  const r = parseDts(src, 's.dts');
  if ('error' in r) assert.fail(formatDtsError(r.error));
  const mine = writeFdt(r.tree);
  sameBytes(mine, blob, 'writeFdt vs dtc');
  const dv = new DataView(mine.buffer, mine.byteOffset);
  const strings = Buffer.from(mine.subarray(dv.getUint32(12))).toString('latin1');
  assert.equal(strings, `acme,phandle\0${long},status\0${long}-reg\0r\0`, "'status', 'reg', 'g' and 'phandle' are tails");
});

test('large trees are written in linear time', () => {
  const n = 50000;
  const r = parseDts(`/dts-v1/;\n/ {\n${Array.from({ length: n }, (_, i) => `\tname-${i} = <${i}>;\n`).join('')}};\n`, 'big.dts');
  if ('error' in r) assert.fail(formatDtsError(r.error));
  const t0 = Date.now();
  const b = writeFdt(r.tree);
  assert.ok(Date.now() - t0 < 3000, `writing ${n} distinct names took ${Date.now() - t0} ms`);
  assert.equal(read(b).root.props.length, n);
});
