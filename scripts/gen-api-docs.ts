/** Writes docs/api.md (`--check`: exit 1 when the committed file is stale). */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderApiDocs } from './api-docs.js';

const out = fileURLToPath(new URL('../../docs/api.md', import.meta.url));
const text = renderApiDocs();
if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== text) {
    console.error('docs/api.md is stale: run npm run docs:api');
    process.exitCode = 1;
  }
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
