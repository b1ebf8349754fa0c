/**
 * The live differential against dtc, where dtc is installed: the answers recorded in
 * test/fixtures/dtc (which the other device-tree tests use, so that they run everywhere) are what
 * dtc answers now, and random sources beyond the recorded ones compile as dtc compiles them. One
 * test, skipped with the reason and the way to enable it where dtc is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DTC_FIX, RANDOM_SEEDS, dtcAnswer, dtcMissing, dtcRecords, dtcVersion, randomDts, runDtc, sameAsDtc } from './of-helpers.js';

/** Random sources compiled by dtc now: the recorded ones and as many again. */
const LIVE_RANDOM_SEEDS = Array.from({ length: RANDOM_SEEDS.length * 2 }, (_, i) => i + 1);

test('live differential against dtc: the recorded answers and random sources', { skip: dtcMissing() ?? false }, async (t) => {
  const version = dtcVersion();
  const { dtc: recordedWith, records } = dtcRecords();

  await t.test('every recorded answer (fixtures, option variants, malformed inputs) is what dtc answers now', () => {
    let checked = 0;
    for (const rec of records) {
      // random sources are not kept in the recording: the next subtest regenerates them
      const input = rec.fixture ?? (rec.source !== undefined ? { name: rec.name!, source: rec.source } : null);
      if (input === null) continue;
      const now = runDtc(input, rec.options);
      const what = `${rec.id} (recorded with ${recordedWith}, dtc now is ${version}; npm run fixtures:dtc records again)`;
      if (rec.status === 0) {
        assert.ok(now.ok, `${what}: dtc now refuses it: ${now.ok ? '' : now.stderr}`);
        assert.ok(Buffer.from(readFileSync(join(DTC_FIX, rec.dtb!))).equals(now.dtb), `${what}: dtc's blob differs from the recorded one`);
      } else {
        assert.ok(!now.ok, `${what}: dtc now accepts it`);
        // the wording of dtc's messages is its own: compared only with the version that recorded them
        if (version === recordedWith) assert.equal(now.stderr, rec.stderr, what);
      }
      checked++;
    }
    assert.ok(checked >= 40, `only ${checked} recorded answers were checked`);
  });

  await t.test(`random sources (seeds 1-${LIVE_RANDOM_SEEDS.length}) give dtc's exact blob now, or fail where dtc fails`, () => {
    let compiled = 0;
    for (const seed of LIVE_RANDOM_SEEDS) {
      const src = randomDts(seed);
      const d = runDtc({ name: `r${seed}.dts`, source: src }, []);
      if (RANDOM_SEEDS.includes(seed)) {
        const rec = dtcAnswer({ id: `random-${seed}`, name: `r${seed}.dts`, source: src, keepSource: false });
        assert.equal(d.ok, rec.ok, `seed ${seed}: dtc's verdict now differs from the recorded one`);
        if (d.ok && rec.ok) assert.ok(Buffer.from(d.dtb).equals(rec.dtb), `seed ${seed}: dtc's blob now differs from the recorded one`);
      }
      if (sameAsDtc(seed, src, d)) compiled++;
    }
    assert.ok(compiled >= LIVE_RANDOM_SEEDS.length / 2, `only ${compiled} random sources compiled`);
  });
});
