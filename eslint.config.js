// Lint: zero warnings and the layer rules of ARCHITECTURE.md (import cycles: scripts/check-imports.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Which layers each layer may import (ARCHITECTURE.md, "Layers"). */
const forbid = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['src/uapi/**/*.ts'], rules: forbid(['**/kernel/**', '**/api/**', '**/backends/**', '**/apps/**', 'node:*'], 'uapi depends on nothing') },
  { files: ['src/kernel/**/*.ts'], rules: forbid(['**/api/**', '**/backends/**', '**/apps/**', 'node:*'], 'the kernel layer sees only uapi and itself (it runs in a browser too)') },
  { files: ['src/kernel/dma-heap/**/*.ts', 'src/kernel/dma-buf/**/*.ts'], rules: forbid(['**/heaps/**', '**/api/**', '**/backends/**', '**/apps/**', 'node:*'], 'the heap core never imports a heap: heaps register themselves') },
  { files: ['src/api/**/*.ts'], rules: forbid(['**/kernel/**', '**/backends/**', '**/apps/**'], 'api sees only uapi') },
  { files: ['src/backends/**/*.ts'], rules: forbid(['**/apps/**'], 'backends never import apps') },
  { files: ['fuzz/**/*.ts'], rules: forbid(['**/api/**', '**/backends/**', '**/apps/**', '**/boards/**'], 'the fuzzer drives the kernel layer (src/kernel, src/uapi) directly') },
  { files: ['src/apps/sim/**/*.ts'], rules: forbid(['node:*'], 'the simulator and its report run in a browser too: no Node modules in src/apps/sim') },
  { files: ['src/apps/dashboard/page.ts'], rules: forbid(['node:*', '**/kernel/**', '**/api/**', '**/backends/**'], 'the dashboard page is a string of HTML for the browser: no Node module, nothing it would have to bundle') },
  { files: ['src/boards/**/*.ts'], rules: forbid(['**/api/**', '**/backends/**', '**/apps/**'], 'the board loaders see the kernel layer (its file-system-free loaders) and node:fs only') },
);
