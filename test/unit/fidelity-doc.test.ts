import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderFidelity } from '../../scripts/fidelity.js';
import { DIVERGENCES } from '../../src/kernel/divergences.js';

test('docs/fidelity.md is generated from the divergence list (run npm run docs:fidelity)', () => {
  const doc = readFileSync(new URL('../../../docs/fidelity.md', import.meta.url), 'utf8');
  assert.equal(doc, renderFidelity());
});

test('divergence ids are unique and every entry has a reason', () => {
  const ids = DIVERGENCES.map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const d of DIVERGENCES) assert.ok(d.reason.length > 20, d.id);
});
