/**
 * Writes docs/fidelity.md from the list of intentional divergences (src/kernel/divergences.ts).
 * `node dist/scripts/gen-fidelity.js --check` exits 1 when the committed file is stale.
 */
import { fileURLToPath } from 'node:url';
import { renderFidelity } from './fidelity.js';
import { writeOrCheck } from './generated-doc.js';

writeOrCheck(fileURLToPath(new URL('../../docs/fidelity.md', import.meta.url)), renderFidelity(), 'docs/fidelity.md', 'docs:fidelity');
