/**
 * Rewrites the generated facts section of docs/android.md from src/kernel/android.ts.
 * `node dist/scripts/gen-android-doc.js --check` exits 1 when the committed file is stale.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withAndroidFacts } from './android-doc.js';
import { writeOrCheck } from './generated-doc.js';

const out = fileURLToPath(new URL('../../docs/android.md', import.meta.url));
const text = withAndroidFacts(readFileSync(out, 'utf8'));
if (text === null) {
  console.error('docs/android.md has no generated-facts markers');
  process.exitCode = 1;
} else {
  writeOrCheck(out, text, 'docs/android.md', 'docs:android');
}
