import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderApiDocs } from '../../scripts/api-docs.js';

test('docs/api.md is generated from the TSDoc of the public entry points (run npm run docs:api)', () => {
  assert.equal(readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8'), renderApiDocs());
});
