/**
 * Golden tests: the heap table of every shipped example board on every kernel profile (with the
 * proposed coherent heap switched on), and the kernel's memory boot log. Regenerate after an
 * intended change with `UPDATE_GOLDEN=1 node --test dist/test/unit/boards-golden.test.js` and
 * review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PROFILE_NAMES } from '../../src/kernel/profile.js';
import { bootHeaps, withBoard } from '../../src/apps/cli/heaps.js';

const root = new URL('../../../', import.meta.url);
const BOARDS = ['rpi5', 'imx8mp', 'rk3588', 'am62x', 'x86-pc'];
const update = process.env.UPDATE_GOLDEN === '1';

function golden(board: string, profile: string): unknown {
  const r = bootHeaps(withBoard({ profile, features: { coherentHeap: 'v3' } }, new URL(`examples/boards/${board}.dts`, root).pathname), `examples/boards/${board}.dts`);
  return {
    kernel: r.kernel,
    cmdline: r.cmdline,
    heaps: r.heaps.map((h) => ({
      name: h.name, kind: h.kind, dev: h.dev, contiguous: h.contiguous, cacheable: h.cacheable, protected: h.protected,
      capacity: h.capacity, free: h.free, area: h.area, legacyAlias: h.legacyAlias,
      region: h.region === null ? null : { ...h.region, base: `0x${h.region.base.toString(16)}` },
      naming: { ok: h.naming.ok, rules: h.naming.findings.filter((f) => f.severity !== 'info').map((f) => `${f.rule} ${f.severity}`), suggestion: h.naming.suggestion },
    })),
    log: r.log,
    diagnostics: r.diagnostics,
  };
}

for (const board of BOARDS) {
  for (const profile of PROFILE_NAMES) {
    test(`board ${board} on ${profile}: heap table and memory log`, () => {
      const file = new URL(`test/golden/boards/${board}-${profile}.json`, root);
      const got = JSON.stringify(golden(board, profile), null, 2) + '\n';
      if (update) {
        mkdirSync(new URL('test/golden/boards/', root), { recursive: true });
        writeFileSync(file, got);
      }
      assert.equal(got, readFileSync(file, 'utf8'));
    });
  }
}
