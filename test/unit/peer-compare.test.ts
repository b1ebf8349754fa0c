/**
 * scripts/peer-compare.ts: what a peer-test binary printed on a real kernel against what it printed
 * under `dmaheap run` (issue 12, item 3). Pure: exact text in, exact verdict out; the CLI's output
 * and exit status on files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_EDITS, comparePeerOutputs, isSkippedLine, maskProbeLine, probeCase, rankBootInodes } from '../../scripts/peer-compare.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/peer-compare.js', import.meta.url));

const FDINFO = 'reserved/buf4k/fdinfo: ret=0 errno=0 extra=pos: 0;flags: 02000002;~mnt_id: 8;~ino: 18;size: 4096;count: 1;exp_name: reserved';
const SYSFS = 'reserved/buf4k/sysfs: ret=0 errno=0 extra=~ino=18 exporter_name=reserved size=4096';
const SKIP = 'system/alloc-huge: ret=0 errno=0 extra=skipped: see alloc-len-u64-max-minus-4095';

test('maskProbeLine: ~key: value and ~key=value compare as ~key; nothing else changes', () => {
  assert.equal(maskProbeLine(FDINFO), 'reserved/buf4k/fdinfo: ret=0 errno=0 extra=pos: 0;flags: 02000002;~mnt_id;~ino;size: 4096;count: 1;exp_name: reserved');
  assert.equal(maskProbeLine(SYSFS), 'reserved/buf4k/sysfs: ret=0 errno=0 extra=~ino exporter_name=reserved size=4096');
  // the value runs to the end of the line when nothing follows
  assert.equal(maskProbeLine('x: ret=0 errno=0 extra=~ino=4711'), 'x: ret=0 errno=0 extra=~ino');
  assert.equal(maskProbeLine('x: ret=0 errno=0 extra=a=1;~mnt_id: 22'), 'x: ret=0 errno=0 extra=a=1;~mnt_id');
  // an empty value is masked too
  assert.equal(maskProbeLine('x: extra=~ino= size=1'), 'x: extra=~ino size=1');
  // not a masked token: a ~ without key and separator, or with another separator
  assert.equal(maskProbeLine('x: extra=~ ~ino ~ino:5 home=~/a'), 'x: extra=~ ~ino ~ino:5 home=~/a');
  // unmarked numbers stay (the ENOENT text of 5.10's sysfs case has the inode in a path)
  assert.equal(maskProbeLine('x: extra=<open /sys/kernel/dmabuf/buffers/147/size: ENOENT>'), 'x: extra=<open /sys/kernel/dmabuf/buffers/147/size: ENOENT>');
});

test('probeCase and isSkippedLine', () => {
  assert.equal(probeCase(FDINFO), 'reserved/buf4k/fdinfo');
  assert.equal(probeCase('# not a case'), undefined);
  assert.equal(isSkippedLine(SKIP), true);
  assert.equal(isSkippedLine(FDINFO), false);
  assert.equal(isSkippedLine('skipped: no case name'), false);
  // "skipped" elsewhere on the line is not the probe skipping the case
  assert.equal(isSkippedLine('x: ret=0 errno=0 extra=name=skipped:'), false);
});

test('probe: identical after masking agrees, whatever the ~ values', () => {
  const real = `list-heaps: ret=2 errno=0 extra=heaps=reserved,system\n${FDINFO}\n${SYSFS}\n`;
  const emulated = `list-heaps: ret=2 errno=0 extra=heaps=reserved,system\n${FDINFO.replace('~ino: 18', '~ino: 9001').replace('~mnt_id: 8', '~mnt_id: 31')}\n${SYSFS.replace('~ino=18', '~ino=9001')}\n`;
  assert.deepEqual(comparePeerOutputs(real, emulated, 'probe'), { agreed: 3, skipped: 0, differences: [] });
  // tap mode does not mask
  assert.deepEqual(comparePeerOutputs(real, emulated, 'tap').differences, [
    `- real 2: ${FDINFO}`,
    `- real 3: ${SYSFS}`,
    `+ emulated 2: ${FDINFO.replace('~ino: 18', '~ino: 9001').replace('~mnt_id: 8', '~mnt_id: 31')}`,
    `+ emulated 3: ${SYSFS.replace('~ino=18', '~ino=9001')}`,
  ]);
});

test('probe: a changed unmasked field, a missing and an extra case are each printed with their line numbers', () => {
  const real = ['a: ret=0 errno=0 extra=', 'b: ret=-1 errno=EINVAL extra=', 'c: ret=0 errno=0 extra=', 'd: ret=0 errno=0 extra=', 'e: ret=0 errno=0 extra=x'].join('\n') + '\n';
  const emulated = ['a: ret=0 errno=0 extra=', 'b: ret=-1 errno=ENOTTY extra=', 'd: ret=0 errno=0 extra=', 'e: ret=0 errno=0 extra=x', 'f: ret=0 errno=0 extra='].join('\n') + '\n';
  assert.deepEqual(comparePeerOutputs(real, emulated, 'probe'), {
    agreed: 3,
    skipped: 0,
    differences: [
      '- real 2: b: ret=-1 errno=EINVAL extra=',
      '- real 3: c: ret=0 errno=0 extra=',
      '+ emulated 2: b: ret=-1 errno=ENOTTY extra=',
      '+ emulated 5: f: ret=0 errno=0 extra=',
    ],
  });
});

test('probe: a case the real run skipped itself is left out on both sides; one the emulated run skipped is not', () => {
  const real = `a: ret=0 errno=0 extra=\n${SKIP}\nb: ret=0 errno=0 extra=\n`;
  // the emulated run printed the skipped case differently (it ran it), or not at all
  assert.deepEqual(comparePeerOutputs(real, 'a: ret=0 errno=0 extra=\nsystem/alloc-huge: ret=-1 errno=ENOMEM extra=\nb: ret=0 errno=0 extra=\n', 'probe'), {
    agreed: 2,
    skipped: 1,
    differences: [],
  });
  assert.deepEqual(comparePeerOutputs(real, 'a: ret=0 errno=0 extra=\nb: ret=0 errno=0 extra=\n', 'probe'), { agreed: 2, skipped: 1, differences: [] });
  // the other way round: the real kernel ran it, the emulated run says it skipped
  assert.deepEqual(comparePeerOutputs('a: ret=0 errno=0 extra=\nsystem/alloc-huge: ret=-1 errno=ENOMEM extra=\n', `a: ret=0 errno=0 extra=\n${SKIP}\n`, 'probe'), {
    agreed: 1,
    skipped: 0,
    differences: ['- real 2: system/alloc-huge: ret=-1 errno=ENOMEM extra=', `+ emulated 2: ${SKIP}`],
  });
});

test('tap: identical byte for byte, including the newline at the end', () => {
  const tap = 'TAP version 13\n1..2\nok 1 a\nok 2 b\n';
  assert.deepEqual(comparePeerOutputs(tap, tap, 'tap'), { agreed: 4, skipped: 0, differences: [] });
  assert.deepEqual(comparePeerOutputs(tap, 'TAP version 13\n1..2\nnot ok 1 a\nok 2 b\n', 'tap').differences, ['- real 3: ok 1 a', '+ emulated 3: not ok 1 a']);
  assert.deepEqual(comparePeerOutputs(tap, tap.slice(0, -1), 'tap').differences, ['- real 4: ok 2 b', '+ emulated 4: ok 2 b \\ (no newline at end of output)']);
  assert.deepEqual(comparePeerOutputs(tap, `${tap}# extra\n`, 'tap').differences, ['+ emulated 5: # extra']);
  assert.deepEqual(comparePeerOutputs(tap, '', 'tap'), {
    agreed: 0,
    skipped: 0,
    differences: ['- real 1: TAP version 13', '- real 2: 1..2', '- real 3: ok 1 a', '- real 4: ok 2 b'],
  });
  // whitespace counts
  assert.deepEqual(comparePeerOutputs('ok 1\n', 'ok 1 \n', 'tap').differences, ['- real 1: ok 1', '+ emulated 1: ok 1 ']);
});

test('outputs too different to align are compared line by line, and the verdict says so', () => {
  const n = MAX_EDITS + 10;
  const real = Array.from({ length: n }, (_, i) => `ok ${i}`).join('\n') + '\n';
  const emulated = Array.from({ length: n }, (_, i) => `not ok ${i}`).join('\n') + '\n';
  const c = comparePeerOutputs(real, emulated, 'tap');
  assert.equal(c.agreed, 0);
  assert.deepEqual(c.differences.slice(0, 2), ['- real 1: ok 0', '+ emulated 1: not ok 0']);
  assert.equal(c.differences.length, MAX_EDITS + 1);
  assert.equal(c.differences.at(-1), `more than ${MAX_EDITS} lines differ: the outputs were compared line by line, not aligned`);
});

test('the CLI: differences on stdout, exit status 0, 1 or 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peer-compare-'));
  try {
    const real = join(dir, 'real');
    const same = join(dir, 'same');
    const other = join(dir, 'other');
    writeFileSync(real, `${FDINFO}\n${SKIP}\n`);
    writeFileSync(same, `${FDINFO.replace('~ino: 18', '~ino: 5')}\n`);
    writeFileSync(other, `${FDINFO.replace('count: 1', 'count: 2')}\n`);
    const run = (...args: string[]): [number | null, string, string] => {
      const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
      return [r.status, r.stdout, r.stderr];
    };
    assert.deepEqual(run('probe', real, same, '--label', '6.1'), [0, '6.1: 1 line(s) agree, 0 differ; left out: 1 case(s) the real run skipped itself\n', '']);
    assert.deepEqual(run('probe', real, other), [
      1,
      `DIFFER - real 1: ${FDINFO}\nDIFFER + emulated 1: ${FDINFO.replace('count: 1', 'count: 2')}\nprobe: 0 line(s) agree, 2 differ; left out: 1 case(s) the real run skipped itself\n`,
      '',
    ]);
    assert.deepEqual(run('tap', real, real), [0, 'tap: 2 line(s) agree, 0 differ\n', '']);
    const usage = 'usage: peer-compare <tap|probe> <real-output> <emulated-output> [--boot-ino] [--label <text>]\n';
    assert.deepEqual(run('diff', real, same), [2, '', usage]);
    assert.deepEqual(run('tap', real), [2, '', usage]);
    const [status, out, err] = run('tap', real, join(dir, 'missing'));
    assert.equal(status, 1);
    assert.equal(out, '');
    assert.match(err, /^peer-compare: ENOENT: no such file or directory, stat '.*missing'\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--boot-ino: get_next_ino() inode numbers (5.10) compare by rank, in sysfs paths and the bufinfo ino column', () => {
  const probe = (a: number, b: number, c: number): string =>
    `x/buf4k/sysfs: ret=-1 errno=ENOENT extra=~ino=${a} exporter_name=<open /sys/kernel/dmabuf/buffers/${a}/exporter_name: ENOENT>\n`
    + `x/buf1m/sysfs: ret=-1 errno=ENOENT extra=~ino=${b} exporter_name=<open /sys/kernel/dmabuf/buffers/${b}/exporter_name: ENOENT>\n`
    + `x/debugfs-bufinfo: ret=0 errno=0 extra=|Dma-buf Objects:|size     flags    mode     count    exp_name ino     |00004096 00000002 00080007 00000001 heap_helpers 00000${c} | Attached Devices:|Total 0 devices attached|||Total 1 objects, 4096 bytes\n`;
  // two boots of the 5.10 referee: 121/124/126 and 125/128/130; the emulator's 104/105/106
  assert.deepEqual(comparePeerOutputs(probe(121, 124, 126), probe(125, 128, 130), 'probe', { bootIno: true }).differences, []);
  assert.deepEqual(comparePeerOutputs(probe(121, 124, 126), probe(104, 105, 106), 'probe', { bootIno: true }).differences, []);
  assert.deepEqual(rankBootInodes(probe(121, 124, 126).trimEnd().split('\n')).map((l) => l.replace(/^.*?(buffers\/#\d|heap_helpers #\d).*$/, '$1')), ['buffers/#1', 'buffers/#2', 'heap_helpers #3']);
  // without it, or when the order differs (a buffer that should reuse a number does not), they differ
  assert.equal(comparePeerOutputs(probe(121, 124, 126), probe(125, 128, 130), 'probe').differences.length, 6);
  assert.equal(comparePeerOutputs(probe(121, 124, 126), probe(104, 104, 106), 'probe', { bootIno: true }).differences.length, 4);
});
