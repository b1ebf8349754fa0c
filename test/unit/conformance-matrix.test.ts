/**
 * The suite follows the machine (issue 11): a subset of the matrix of emulated machines
 * (scripts/conformance-matrix.ts MATRIX_SUBSET: every architecture, page size, shipped board
 * and matrix profile at least once) runs the whole suite with 0 failures. `npm run
 * test:matrix` runs the whole matrix (CI does too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MATRIX, MATRIX_BOARDS, MATRIX_PROFILES, MATRIX_SUBSET, formatRow, runMatrix } from '../../scripts/conformance-matrix.js';

test('the subset covers every profile, architecture, page size and board of the matrix', () => {
  const names = MATRIX_SUBSET.map((m) => m.name);
  for (const p of MATRIX_PROFILES) assert.ok(MATRIX_SUBSET.some((m) => m.profile === p), `profile ${p}`);
  for (const b of MATRIX_BOARDS) assert.ok(names.some((n) => n === b || n.startsWith(`${b}-`)), `board ${b}`);
  for (const a of ['x86_64', 'arm64']) assert.ok(names.some((n) => n.startsWith(a)), `arch ${a}`);
  for (const s of ['16K', '64K']) assert.ok(names.some((n) => n.endsWith(`-${s}`)), `page size ${s}`);
  assert.equal(MATRIX.length, MATRIX_PROFILES.length * (4 + (MATRIX_BOARDS.length - 1) * 3 + 1));
});

test('the suite passes on every machine of the subset, skips stated', async () => {
  const rows = await runMatrix(MATRIX_SUBSET);
  const bad = rows.filter((r) => r.status !== 0).map((r) => `${formatRow(r)}\n  ${r.problems.join('\n  ')}`);
  assert.deepEqual(bad, []);
  for (const r of rows) assert.match(r.summary, /^\d+ passed, 0 failed, \d+ skipped$/, formatRow(r));
});
