/**
 * Records what dtc answers for every dtc run the device-tree tests make (`npm run fixtures:dtc`;
 * needs dtc: apt-get install device-tree-compiler). The answers go to test/fixtures/dtc: the blob
 * of each successful run, and dtc.json with every run's options, input hash, exit status and, for
 * the refused inputs, dtc's stderr. The tests answer from there, so they run on machines without
 * dtc; of-dtc-live.test.ts compares the recording with dtc itself where dtc is installed.
 *
 * How: the old recording is removed, then the device-tree tests run (one file at a time) with
 * DMAHEAP_DTC_RECORD=1, in which mode test/unit/of-helpers.ts runs dtc for each answer it is asked
 * for and records it; the live differential runs last, against the new recording. Exit status: the tests' (0 when they pass against the new recording), or 2
 * when dtc is missing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(root, 'test/fixtures/dtc');
const version = spawnSync('dtc', ['--version'], { encoding: 'utf8' });
if (version.error !== undefined || version.status !== 0) {
  console.error(`record-dtc-fixtures: dtc cannot be run (${version.error?.message ?? version.stderr.trim()}): apt-get install device-tree-compiler`);
  process.exit(2);
}
const dtcLine = version.stdout.trim();

for (const f of readdirSync(dir)) if (f.endsWith('.dtb') || f === 'dtc.json') rmSync(join(dir, f));
const tests = readdirSync(join(root, 'dist/test/unit'))
  .filter((f) => /^of-.*\.test\.js$/.test(f))
  .map((f) => join('dist/test/unit', f));
const nodeTest = (files: string[], env: NodeJS.ProcessEnv): number =>
  spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { cwd: root, stdio: 'inherit', env }).status ?? 1;
// record, then check the new recording with the live differential
const live = tests.filter((f) => f.endsWith('of-dtc-live.test.js'));
const status = nodeTest(tests.filter((f) => !live.includes(f)), { ...process.env, DMAHEAP_DTC_RECORD: '1' }) || nodeTest(live, process.env);

const manifest = JSON.parse(readFileSync(join(dir, 'dtc.json'), 'utf8')) as { dtc: string; records: { status: number }[] };
const ok = manifest.records.filter((r) => r.status === 0).length;
const readme = join(dir, 'README.md');
const text = readFileSync(readme, 'utf8').replace(/^Recorded with: .*$/m, `Recorded with: \`${dtcLine}\` (\`dtc --version\`), ${manifest.records.length} runs: ${ok} blobs, ${manifest.records.length - ok} refusals.`);
writeFileSync(readme, text);
console.log(`record-dtc-fixtures: ${manifest.records.length} dtc runs recorded in ${dir} with ${dtcLine}`);
process.exitCode = status;
