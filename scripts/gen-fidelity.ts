/**
 * Writes docs/fidelity.md from the list of intentional divergences (src/kernel/divergences.ts).
 * `node dist/scripts/gen-fidelity.js --check` exits 1 when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderFidelity } from './fidelity.js';

const out = fileURLToPath(new URL('../../docs/fidelity.md', import.meta.url));
const text = renderFidelity();
if (process.argv.includes('--check')) {
  const cur = readFileSync(out, 'utf8');
  if (cur !== text) {
    console.error('docs/fidelity.md is stale: run npm run docs:fidelity');
    process.exitCode = 1;
  }
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
