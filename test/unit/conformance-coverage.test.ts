// Every line of the referees' probe output (6.1, 6.12 and 7.3: test/conformance/oracle, copies of
// ../shared/oracle/probe-*.out) is covered by a conformance case named "probe: <line name>" (a
// case split per version carries a suffix: " [...]" or " (...)"), or listed (with its reason)
// under "Not yet covered" in docs/conformance.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaseFiles } from '../../src/apps/conformance/runner.js';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** A referee's heaps (its probe's list-heaps line) and what a case's "${cma_heap}" names there. */
interface Referee {
  readonly probe: string;
  readonly heaps: readonly string[];
  readonly cmaHeaps: readonly string[];
}

const REFEREES: readonly Referee[] = [
  { probe: 'probe-6.1.out', heaps: ['reserved', 'system'], cmaHeaps: ['reserved'] },
  { probe: 'probe-6.12.out', heaps: ['reserved', 'system'], cmaHeaps: ['reserved'] },
  // 7.3 shows the default area under both names (cma=64M: default_cma_region and reserved)
  { probe: 'probe-7.3.out', heaps: ['default_cma_region', 'reserved', 'system'], cmaHeaps: ['default_cma_region', 'reserved'] },
];

/** Probe lines deliberately without a case; each must appear in docs/conformance.md. */
const NOT_COVERED = [
  'system/alloc-len-u64-max-minus-4095',
  'system/alloc-huge',
];

function probeLines(r: Referee = REFEREES[0]!): string[] {
  const text = readFileSync(root(`test/conformance/oracle/${r.probe}`), 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const m = /^(\S+): ret=/.exec(l);
    assert.ok(m !== null, `unexpected probe line: ${l}`);
    return m[1] ?? '';
  });
}

function caseNames(r: Referee = REFEREES[0]!): Set<string> {
  const { files, errors } = loadCaseFiles([root('test/conformance/cases')]);
  assert.deepEqual(errors, []);
  const names = new Set<string>();
  for (const f of files) {
    for (const c of f.cases) {
      const heaps = c.heaps === null ? [null] : c.heaps === '*' ? r.heaps : c.heaps.flatMap((h) => (h === '${cma_heap}' ? r.cmaHeaps : [h]));
      for (const h of heaps) {
        const name = h === null ? c.name : c.name.split('${heap}').join(h);
        names.add(name);
        // a case split per kernel version: "probe: <line> [6.12+]", "probe: <line> (before 6.14)"
        const m = /^(probe: \S+) (\[[^\]]*\]|\([^)]*\))$/.exec(name);
        if (m !== null) names.add(m[1]!);
      }
    }
  }
  return names;
}

for (const r of REFEREES) {
  test(`every ${r.probe} line has a case or is listed as not covered`, () => {
    const names = caseNames(r);
    const missing = probeLines(r).filter((l) => !names.has(`probe: ${l}`) && !NOT_COVERED.includes(l));
    assert.deepEqual(missing, []);
  });
}

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
