// docs/android.md lists every fact of every branch (its tables are generated from src/kernel/android.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ANDROID_DOC_BEGIN, ANDROID_DOC_END, renderAndroidFacts, withAndroidFacts } from '../../scripts/android-doc.js';
import { ANDROID_BRANCHES, ANDROID_FACT_LABELS, UNKNOWN } from '../../src/kernel/android.js';

const doc = readFileSync(new URL('../../../docs/android.md', import.meta.url), 'utf8');

test('docs/android.md carries the facts as the data renders them (run npm run docs:android)', () => {
  assert.equal(withAndroidFacts(doc), doc);
  assert.equal(withAndroidFacts('no markers'), null);
  const section = doc.slice(doc.indexOf(ANDROID_DOC_BEGIN), doc.indexOf(ANDROID_DOC_END) + ANDROID_DOC_END.length);
  assert.equal(section, renderAndroidFacts());
});

test('every fact of every branch is a row: its label, and its source or unknown', () => {
  for (const b of ANDROID_BRANCHES) {
    const at = doc.indexOf(`### ${b.name}\n`);
    assert.ok(at > 0, b.name);
    const table = doc.slice(at, doc.indexOf('\n\n###', at + 1) > 0 ? doc.indexOf('\n\n###', at + 1) : doc.indexOf(ANDROID_DOC_END));
    for (const f of b.facts) {
      const row = table.split('\n').find((l) => l.startsWith(`| ${ANDROID_FACT_LABELS[f.key]} |`));
      assert.ok(row !== undefined, `${b.name} ${f.key}`);
      if (f.value === UNKNOWN) assert.ok(row.includes('| **unknown** | — |'), row);
      else assert.ok(row.includes(f.source!), row);
    }
  }
});
