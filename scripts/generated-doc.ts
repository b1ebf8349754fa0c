/**
 * A generated document: written from its source, or with `--check` compared with the committed
 * file (exit status 1 and "<doc> is stale: run npm run <script>" when they differ).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Writes `text` to `out`, or with `--check` in argv only compares it; `doc` and `script` name them in the messages. */
export function writeOrCheck(out: string, text: string, doc: string, script: string): void {
  if (process.argv.includes('--check')) {
    if (readFileSync(out, 'utf8') !== text) {
      console.error(`${doc} is stale: run npm run ${script}`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  }
}
