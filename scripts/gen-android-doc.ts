/**
 * Rewrites the generated facts section of docs/android.md from src/kernel/android.ts.
 * `node dist/scripts/gen-android-doc.js --check` exits 1 when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withAndroidFacts } from './android-doc.js';

const out = fileURLToPath(new URL('../../docs/android.md', import.meta.url));
const cur = readFileSync(out, 'utf8');
const text = withAndroidFacts(cur);
if (text === null) {
  console.error('docs/android.md has no generated-facts markers');
  process.exitCode = 1;
} else if (process.argv.includes('--check')) {
  if (cur !== text) {
    console.error('docs/android.md is stale: run npm run docs:android');
    process.exitCode = 1;
  }
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
