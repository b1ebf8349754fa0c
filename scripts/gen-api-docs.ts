/** Writes docs/api.md (`--check`: exit 1 when the committed file is stale). */
import { fileURLToPath } from 'node:url';
import { renderApiDocs } from './api-docs.js';
import { writeOrCheck } from './generated-doc.js';

writeOrCheck(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), renderApiDocs(), 'docs/api.md', 'docs:api');
