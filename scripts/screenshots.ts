/**
 * Screenshots of the console's main screens for the README (docs/screenshots/*.png):
 *
 *   npm run screenshots
 *
 * A throwaway SQLite store with the demo's data (sample customers, examples/ reps, numbers and
 * templates), a service on a free port, an admin token, and Debian's headless Chromium at a
 * laptop's 1440×900.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/platform/config.js';
import { openStore } from '../src/platform/db/connect.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { buildApp } from '../src/transports/http/app.js';
import { importCustomers } from '../src/application/files/import.service.js';
import { asSourceRecords, generateCustomers, workerIdentity } from '../src/application/files/seed.js';
import { importSenders, importTemplates, importWorkers } from '../src/application/files/settings.service.js';
import { TokenService } from '../src/domains/access/token.service.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const dir = mkdtempSync(path.join(tmpdir(), 'fis-shots-'));
const config = loadConfig({
  DATABASE_URL: `sqlite:${path.join(dir, 'fis.sqlite')}`,
  TWILIO_AUTH_TOKEN: 'screenshots-auth-token-0123456789',
  LOG_LEVEL: 'silent',
});
const store = openStore(config);
await migrateToLatest(store);
await importCustomers(store, asSourceRecords(generateCustomers({ customers: 1000, workers: 30, seed: 1 })), { prune: false, defaultCountry: 'US' });
const example = (name: string) => ({ file: path.join(ROOT, 'examples', name), format: 'yaml' as const });
await importWorkers(store, example('workers.yaml'), { prune: false });
await importSenders(store, example('senders.yaml'), { defaultCountry: 'US' });
await importTemplates(store, example('templates.yaml'));
const created = await new TokenService(store.db).create('readme', { readOnly: false });
if (!created.ok) throw new Error(created.reason);
const session = { token: created.token, name: 'readme', readOnly: false };

const app = await buildApp({ config, store, logger: false });
const url = await app.http.listen({ port: 0, host: '127.0.0.1' });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
mkdirSync(OUT, { recursive: true });
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  // Avatars of the sample data point at example.com, which does not serve them: answer at once, so the initials show.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  await context.addInitScript({ content: `sessionStorage.setItem('fis.console.token', ${JSON.stringify(JSON.stringify(session))});` });
  const page = await context.newPage();
  const shot = async (name: string) => {
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, `${name}.png`) });
    process.stderr.write(`docs/screenshots/${name}.png\n`);
  };

  await page.goto(`${url}/console/customers?q=garc`);
  await page.locator('[data-customer-id]').first().waitFor();
  await shot('console-customers');

  const first = await page.locator('[data-customer-id]').first().getAttribute('data-customer-id');
  await page.goto(`${url}/console/customers/${encodeURIComponent(first ?? '')}`);
  await page.getByLabel('Display name').waitFor();
  await page.getByLabel('Channel 1 address').fill('+1 555 01');
  await page.getByLabel('Link 1 URL').fill('javascript:alert(1)');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.field-error').first().waitFor();
  await page.locator('h1').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(OUT, 'console-editor.png'), fullPage: true });
  process.stderr.write('docs/screenshots/console-editor.png\n');

  await page.goto(`${url}/console/simulator`);
  await page.getByLabel('Worker').fill(workerIdentity(0));
  await page.getByRole('button', { name: 'Sign in as this worker' }).click();
  await page.locator('[data-customer-id]').nth(5).waitFor();
  await page.locator('[data-customer-id]').nth(2).click();
  await page.getByTestId('details-name').waitFor();
  await page.getByLabel('Mask contact phone numbers').check();
  await page.getByTestId('wire-item').first().locator('summary').click();
  await shot('simulator');

  await page.goto(`${url}/console/templates`);
  await page.getByTestId('preview-template').first().waitFor().catch(async (err) => { await page.screenshot({ path: '/tmp/debug.png' }); throw err; });
  await shot('console-templates');
} finally {
  await browser.close();
  await app.http.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
