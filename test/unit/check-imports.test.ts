import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCycles, valueImports } from '../../scripts/check-imports.js';

test('value imports are found and type-only imports are ignored', () => {
  const text = "import { a } from './a.js';\nimport type { B } from './b.js';\nexport { c } from '../c.js';\nexport type { D } from './d.js';\nimport x from 'node:fs';\nconst m = import('./e.js');\n";
  assert.deepEqual(valueImports('/r/src/f.ts', text), ['/r/src/a.ts', '/r/c.ts', '/r/src/e.ts']);
});

test('cycles are reported, acyclic graphs are not', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
  assert.deepEqual(findCycles(g), [['a', 'b', 'c'], ['e']]);
  assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', []]])), []);
});
