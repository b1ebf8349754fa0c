/**
 * Headless browsers for the browser tests, or the reason a test skips.
 * - Chromium: $CHROMIUM, else `chromium` (Debian's package) or `chromium-browser` found on the PATH,
 *   driven by playwright-core.
 * - Firefox: $FIREFOX, else `firefox-esr` (Debian's package) or `firefox` found on the PATH, a stock
 *   build driven over WebDriver BiDi by puppeteer-core (playwright-core drives only its own patched
 *   Firefox).
 */
import { existsSync } from 'node:fs';
import type * as PlaywrightCore from 'playwright-core';
import { onPath } from '../../src/apps/common/host-path.js';
import type * as PuppeteerCore from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM ?? onPath('chromium', 'chromium-browser') ?? 'chromium';
export type Playwright = typeof PlaywrightCore;

export async function loadPlaywright(): Promise<Playwright | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium (${process.env.CHROMIUM !== undefined ? `CHROMIUM=${CHROMIUM} does not exist` : 'chromium is not on the PATH'}; Debian: apt-get install chromium, or set CHROMIUM)`;
  try {
    return (await import('playwright-core')) as Playwright;
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
}

export const FIREFOX = process.env.FIREFOX ?? onPath('firefox-esr', 'firefox') ?? 'firefox-esr';
export type Puppeteer = typeof PuppeteerCore;

export async function loadFirefox(): Promise<Puppeteer | string> {
  if (!existsSync(FIREFOX)) return `no Firefox (${process.env.FIREFOX !== undefined ? `FIREFOX=${FIREFOX} does not exist` : 'neither firefox-esr nor firefox is on the PATH'}; Debian: apt-get install firefox-esr, or set FIREFOX)`;
  try {
    return (await import('puppeteer-core')) as Puppeteer;
  } catch {
    return 'puppeteer-core is not installed (npm install)';
  }
}
