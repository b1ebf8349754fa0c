/** Programs of this machine, found as a shell finds them. */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first of `names` found in a directory of $PATH (in PATH order), as a path; null when none is. */
export function onPath(...names: readonly string[]): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  }
  return null;
}
