import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderFidelity } from '../../scripts/fidelity.js';
import { DIVERGENCE_CHECKS } from '../../src/kernel/divergence-checks.js';
import { DIVERGENCES } from '../../src/kernel/divergences.js';
import { PROFILE_FACTS, REFEREES, REFEREE_NAMES, factSource } from '../../src/kernel/profile-facts.js';
import type { FactName } from '../../src/kernel/profile-facts.js';
import { PROFILES, PROFILE_NAMES } from '../../src/kernel/profile.js';

test('docs/fidelity.md is generated from the divergence list, its checks and the profile facts (run npm run docs:fidelity)', () => {
  const doc = readFileSync(new URL('../../../docs/fidelity.md', import.meta.url), 'utf8');
  assert.equal(doc, renderFidelity());
});

test('divergence ids are unique and every entry has a reason', () => {
  const ids = DIVERGENCES.map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const d of DIVERGENCES) assert.ok(d.reason.length > 20, d.id);
});

test('every divergence says which referee or source checked it, and no check names an entry that is gone', () => {
  const ids = DIVERGENCES.map((d) => d.id);
  assert.deepEqual(ids.filter((id) => DIVERGENCE_CHECKS[id] === undefined), [], 'add these to src/kernel/divergence-checks.ts');
  assert.deepEqual(Object.keys(DIVERGENCE_CHECKS).filter((id) => !ids.includes(id)), []);
  for (const [id, c] of Object.entries(DIVERGENCE_CHECKS)) assert.ok(c.referees.length > 0 || c.source, `${id}: checked nowhere`);
});

test('each profile fact names what settled it: the referees of a profile win, the source covers the rest', () => {
  // a referee profile's fact comes from its referee wherever the referee shows it
  assert.deepEqual(factSource('7.3', 'fmodeNoNotify'), { referees: ['7.3 x86-64', '7.3 arm64'], source: null });
  assert.deepEqual(factSource('6.12', 'cmaOversizeCountsFail'), { referees: ['6.12 x86-64'], source: null });
  // a profile between referees takes the source
  assert.equal(factSource('6.17', 'fmodeNoNotify').referees.length, 0);
  assert.match(factSource('6.17', 'fmodeNoNotify').source ?? '', /v6\.14/);
  // what no referee can show is source on the referee profiles too
  assert.equal(factSource('7.3', 'teeProtectedHeaps').referees.length, 0);
  for (const p of PROFILE_NAMES) for (const f of Object.keys(PROFILE_FACTS) as FactName[]) {
    const s = factSource(p, f);
    assert.ok(s.referees.length > 0 || (s.source ?? '').length > 10, `${p} ${f}`);
  }
  // every field of a profile but its name and release is a fact with a source
  assert.deepEqual(Object.keys(PROFILES['7.3']).filter((k) => k !== 'name' && k !== 'release' && !(k in PROFILE_FACTS)), []);
  // the referees' profiles carry the referees' releases
  for (const r of REFEREE_NAMES) assert.equal(PROFILES[REFEREES[r].profile].release, REFEREES[r].release, r);
});
