// Every line of the 6.1 oracle's probe output is covered by a conformance case named
// "probe: <line name>", or listed (with its reason) under "Not yet covered" in docs/conformance.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaseFiles } from '../../src/apps/conformance/runner.js';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** The oracle's heaps (probe-6.1.out: list-heaps). */
const ORACLE_HEAPS = ['reserved', 'system'];

/** The heap facts of the oracle VM (docs/conformance.md, "Machine facts"): a case's "${cma_heap}". */
const ORACLE_HEAP_FACTS: Readonly<Record<string, string>> = { '${cma_heap}': 'reserved' };

/** Probe lines deliberately without a case; each must appear in docs/conformance.md. */
const NOT_COVERED = [
  'system/alloc-len-u64-max-minus-4095',
  'system/alloc-huge',
];

function probeLines(): string[] {
  const text = readFileSync(root('test/conformance/oracle/probe-6.1.out'), 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const m = /^(\S+): ret=/.exec(l);
    assert.ok(m !== null, `unexpected probe line: ${l}`);
    return m[1] ?? '';
  });
}

function caseNames(): Set<string> {
  const { files, errors } = loadCaseFiles([root('test/conformance/cases')]);
  assert.deepEqual(errors, []);
  const names = new Set<string>();
  for (const f of files) {
    for (const c of f.cases) {
      const heaps = c.heaps === null ? [null] : c.heaps === '*' ? ORACLE_HEAPS : c.heaps.map((h) => ORACLE_HEAP_FACTS[h] ?? h);
      for (const h of heaps) names.add(h === null ? c.name : c.name.split('${heap}').join(h));
    }
  }
  return names;
}

test('every probe-6.1.out line has a case or is listed as not covered', () => {
  const names = caseNames();
  const missing = probeLines().filter((l) => !names.has(`probe: ${l}`) && !NOT_COVERED.includes(l));
  assert.deepEqual(missing, []);
});

test('the not-covered list is not stale and is documented', () => {
  const names = caseNames();
  const lines = probeLines();
  const docs = readFileSync(root('docs/conformance.md'), 'utf8');
  const section = docs.slice(docs.indexOf('## Not yet covered'));
  assert.ok(docs.includes('## Not yet covered'), 'docs/conformance.md has a "Not yet covered" section');
  for (const l of NOT_COVERED) {
    assert.ok(lines.includes(l), `${l} is not a probe line`);
    assert.ok(!names.has(`probe: ${l}`), `${l} is covered now: drop it from NOT_COVERED and the docs`);
    assert.ok(section.includes(`\`${l}\``), `docs/conformance.md "Not yet covered" lists \`${l}\``);
  }
});

test('every case file parses and case names are unique per file', () => {
  const { files } = loadCaseFiles([root('test/conformance/cases')]);
  assert.ok(files.length >= 10);
  for (const f of files) {
    const seen = new Set<string>();
    for (const c of f.cases) {
      assert.ok(!seen.has(c.name), `${f.display}: duplicate case name ${c.name}`);
      seen.add(c.name);
    }
  }
});
