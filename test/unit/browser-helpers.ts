/**
 * Headless Chromium for the browser tests: $CHROMIUM, else `chromium` (Debian's package) or
 * `chromium-browser` found on the PATH, driven by playwright-core; or the reason a test skips (no
 * Chromium on the PATH, no playwright-core).
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type * as PlaywrightCore from 'playwright-core';

function onPath(names: readonly string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  }
  return null;
}

export const CHROMIUM = process.env.CHROMIUM ?? onPath(['chromium', 'chromium-browser']) ?? 'chromium';
export type Playwright = typeof PlaywrightCore;

export async function loadPlaywright(): Promise<Playwright | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium (${process.env.CHROMIUM !== undefined ? `CHROMIUM=${CHROMIUM} does not exist` : 'chromium is not on the PATH'}; Debian: apt-get install chromium, or set CHROMIUM)`;
  try {
    return (await import('playwright-core')) as Playwright;
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
}
