/**
 * A real headless Chromium (Debian's `chromium`, driven by playwright-core; no browser download),
 * pointed at a real service. Each page records what would be a defect on its own: a script error,
 * a Content-Security-Policy violation, a failed request to the service, a dialog.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

/**
 * The built console (dist/console), built now when it is missing or older than its sources
 * (`npm test` builds it first; this covers running one test file). One builder at a time.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const index = path.join(ROOT, 'dist', 'console', 'index.html');
  const fresh = () =>
    existsSync(index) && statSync(index).mtimeMs >= Math.max(newest(path.join(ROOT, 'console')), statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs);
  if (fresh()) return;
  const lock = path.join(ROOT, 'dist', '.console-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 120_000) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
    }
  }
  try {
    if (!fresh()) execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** For the enclosing suite: one browser, closed afterwards. */
export function useBrowser(): { browser: Browser } {
  const fixture = {} as { browser: Browser };
  before(async () => {
    await ensureConsoleBuilt();
    fixture.browser = await launchBrowser();
  });
  after(async () => {
    await fixture.browser?.close();
  });
  return fixture;
}

export interface ConsolePage {
  readonly page: Page;
  /** Script errors, CSP violations, failed requests and dialogs seen so far. */
  readonly problems: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Signs the tab in by putting the session where the console keeps it. */
  readonly token?: { token: string; name: string; readOnly: boolean };
  readonly viewport?: { width: number; height: number };
}

/** A fresh browser context (its own session storage) on `url`. */
export async function openConsole(browser: Browser, url: string, options: OpenOptions = {}): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1440, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('response', (res) => {
    if (res.status() >= 500) problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
  });
  if (options.token) {
    const value = JSON.stringify(JSON.stringify(options.token));
    // A page script (the test's tsconfig has no DOM types): set once, so that signing out sticks.
    await page.addInitScript({
      content:
        "if (!sessionStorage.getItem('fis.test.signed-in')) {" +
        "sessionStorage.setItem('fis.test.signed-in', '1');" +
        `sessionStorage.setItem('fis.console.token', ${value}); }`,
    });
  }
  await page.goto(url);
  return { page, problems, close: () => context.close() };
}
