import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareReports } from '../../scripts/conformance-compare.js';
import type { ComparedResult } from '../../scripts/conformance-compare.js';

const r = (caseIndex: number, heap: string | null, status: string, reason?: string): ComparedResult =>
  ({ file: 'test/conformance/cases/x.json', caseIndex, name: `case ${caseIndex}`, heap, status, ...(reason === undefined ? {} : { reason }) });

test('compareReports: the same outcome per case instance agrees; skips agree whatever their reasons', () => {
  const c = compareReports(
    [r(1, 'system', 'pass'), r(1, 'reserved', 'pass'), r(2, null, 'skip', 'profile 7.3 not in [6.1]')],
    [r(1, 'system', 'pass'), r(1, 'reserved', 'pass'), r(2, null, 'skip', 'profile 7.3 not in [6.1, 6.6]')],
  );
  assert.deepEqual(c, { agreed: 3, emulatorOnly: 0, linuxOnly: 0, disagreements: [] });
});

test('compareReports: each disagreement is one line naming the instance and both outcomes', () => {
  const c = compareReports(
    [r(1, 'system', 'pass'), r(3, null, 'fail'), r(4, 'reserved', 'pass')],
    [r(1, 'system', 'fail'), r(3, null, 'skip', 'requires 4 KiB pages'), r(4, 'default_cma_region', 'pass')],
  );
  assert.deepEqual(c.disagreements, [
    'test/conformance/cases/x.json: case 1 [system] "case 1": linux PASS, emulated FAIL',
    'test/conformance/cases/x.json: case 3 "case 3": linux FAIL, emulated SKIP (requires 4 KiB pages)',
    'test/conformance/cases/x.json: case 4 [reserved] "case 4": linux PASS, emulated absent',
    'test/conformance/cases/x.json: case 4 [default_cma_region] "case 4": linux absent, emulated PASS',
  ]);
  assert.equal(c.agreed, 0);
});

test('compareReports: cases for one backend only are left out and counted, per instance', () => {
  const c = compareReports(
    [r(5, null, 'skip', 'backend linux is not emulated'), r(6, 'system', 'pass')],
    [r(5, 'system', 'pass'), r(5, 'reserved', 'fail'), r(6, null, 'skip', 'backend emulated is not linux')],
  );
  assert.deepEqual(c, { agreed: 0, emulatorOnly: 3, linuxOnly: 2, disagreements: [] });
});
