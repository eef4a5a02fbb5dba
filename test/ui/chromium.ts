// Debian's Chromium, driven by playwright-core (which downloads nothing). Tests that need it
// skip with this message when it is missing.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.KPROXY_CHROMIUM ?? '/usr/bin/chromium';

/** null when Chromium can be used, else why not. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} not found: install Debian's chromium package (scripts/setup.sh does) to run the dashboard's browser tests`;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: the suite runs as root, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
