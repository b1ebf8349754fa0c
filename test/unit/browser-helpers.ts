/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium (or $CHROMIUM) driven by
 * playwright-core, or the reason a test skips (no Chromium, no playwright-core).
 */
import { existsSync } from 'node:fs';
import type * as PlaywrightCore from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export type Playwright = typeof PlaywrightCore;

export async function loadPlaywright(): Promise<Playwright | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;
  try {
    return (await import('playwright-core')) as Playwright;
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
}
