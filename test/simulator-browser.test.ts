/**
 * /console/simulator in a real headless Chromium, on both stores: a worker's list scrolled to its
 * end exactly as the app pages (compared with the store), search, Customer Details with its line
 * breaks and initials, the masking setting, the templates menu, and starting a conversation (the
 * sender address chosen, or the service's refusal). Every exchange is a real signed callback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { createAdminToken } from './helpers/admin-token.js';
import { type ConsolePage, openConsole, useBrowser } from './helpers/browser.js';
import { walk } from './helpers/crm.js';
import { loadSenders, loadTemplates } from './helpers/settings.js';
import { type TestService, startService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const REP = 'rep.one@example.com';
const OTHER = 'rep.two@example.com';
const SURNAMES = ['Zedd', 'Abbot', 'Moreno', 'Quist', 'Ng', 'Okafor', 'Lind', 'Petrov'];

function books(): CustomerRecord[] {
  const records: CustomerRecord[] = [];
  for (let i = 1; i <= 74; i++) {
    records.push({
      customer_id: `sim-${String(i).padStart(3, '0')}`,
      display_name: `${['Ana', 'Ben', 'Cleo', 'Dev', 'Eli'][i % 5]} ${SURNAMES[i % SURNAMES.length]} ${i}`,
      workers: i % 10 === 0 ? [REP, OTHER] : [REP],
      channels: [{ type: 'sms', value: `+1415555${String(1000 + i)}` }],
    });
  }
  records.push({
    customer_id: 'detail-1',
    display_name: 'Ada Lovelace',
    workers: [REP],
    channels: [
      { type: 'sms', value: '+14155550123' },
      { type: 'whatsapp', value: 'whatsapp:+14155550124' },
      { type: 'email', value: 'ada@example.org' },
    ],
    links: [{ type: 'CRM', value: 'https://crm.example.com/ada', display_name: 'Open in CRM' }],
    details: { title: 'Notes', content: 'Line one\nLine two' },
  });
  for (let i = 1; i <= 5; i++) records.push({ customer_id: `other-${i}`, display_name: `Other ${i}`, workers: [OTHER] });
  return records;
}

const rowIds = (page: Page) => page.locator('[data-customer-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-customer-id') ?? ''));

/** The simulated app's list, scrolled down until the app would stop asking. */
async function scrollToEnd(page: Page): Promise<void> {
  const scroller = page.getByTestId('customer-scroll');
  for (let i = 0; i < 50; i++) {
    if (await page.getByTestId('list-end').isVisible()) return;
    await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.waitForTimeout(150);
  }
  throw new Error('the list did not end');
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out');
}

/** The form fields of each logged callback, oldest first. */
async function wire(page: Page): Promise<Array<Record<string, string>>> {
  const bodies = await page.locator('[data-testid=wire-item] .wire-raw').evaluateAll((els) =>
    els.filter((_, i) => i % 2 === 0).map((el) => el.textContent ?? ''),
  );
  return bodies.reverse().map((b) => Object.fromEntries(new URLSearchParams(b)));
}

for (const kind of storeKinds()) {
  describe(`simulator in Chromium on ${kind}`, () => {
    const fixture = useBrowser();
    let db: TestDatabase;
    let service: TestService;
    let tab: ConsolePage;
    let page: Page;

    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
      await seed(service.store, books());
      await loadSenders(service.store, [{ channel_type: 'sms', address: '+15005550006' }]);
      await loadTemplates(service.store, [
        {
          display_name: 'Openers',
          templates: [
            { content: 'Hi {{customer.first_name}}, this is {{worker.identity}}', whatsAppApproved: true },
            { content: 'Hello {{customer.display_name}}!' },
          ],
        },
      ]);
      const token = await createAdminToken(service.store, 'sim-viewer', true);
      tab = await openConsole(fixture.browser, `${service.url}/console/simulator`, { token: { token, name: 'sim-viewer', readOnly: true } });
      page = tab.page;
      await page.getByLabel('Worker').fill(REP);
      await page.getByRole('button', { name: 'Sign in as this worker' }).click();
    });
    after(async () => {
      await tab?.close();
      await service?.close();
      await db?.drop();
    });

    test('My Customers scrolls to its end exactly as the app pages, and matches the store', async () => {
      await page.locator('[data-customer-id]').nth(29).waitFor();
      await scrollToEnd(page);
      const shown = await rowIds(page);
      const expected = await walk(service, { worker: REP, pageSize: 30, by: 'token' });
      assert.equal(expected.length, 75);
      assert.deepEqual(shown, expected);
      assert.deepEqual(
        [...shown].sort(),
        books()
          .filter((c) => c.workers.includes(REP))
          .map((c) => c.customer_id)
          .sort(),
      );
      assert.match((await page.getByTestId('list-end').textContent()) ?? '', /75 customers/);

      // The requests, as the app sends them: PageSize 30; NextPageToken when the last reply had one, else Anchor.
      const requests = (await wire(page)).filter((r) => r.Location === 'GetCustomersList');
      assert.ok(requests.length >= 3, JSON.stringify(requests));
      assert.deepEqual(requests[0], { Location: 'GetCustomersList', Worker: REP, PageSize: '30' });
      for (const r of requests.slice(1)) {
        assert.equal(r.PageSize, '30');
        assert.ok((r.NextPageToken === undefined) !== (r.Anchor === undefined), JSON.stringify(r));
      }
      const anchors = requests.filter((r) => r.Anchor !== undefined);
      for (const r of anchors) assert.ok(expected.includes(r.Anchor as string));
    });

    test('search sends Query and shows what the service found', async () => {
      await page.getByLabel('Search customers').fill('zedd');
      // (Not page.waitForFunction: a string evaluated in the page is exactly what the console's CSP forbids.)
      await until(async () => {
        const names = await page.locator('[data-customer-id]').allTextContents();
        return names.length > 0 && names.every((n) => /zedd/i.test(n));
      });
      await scrollToEnd(page);
      const expected = await walk(service, { worker: REP, pageSize: 30, by: 'token', query: 'zedd' });
      assert.ok(expected.length > 0);
      assert.deepEqual(await rowIds(page), expected);
      const last = (await wire(page)).filter((r) => r.Location === 'GetCustomersList').at(-1);
      assert.equal(last?.Query, 'zedd');
    });

    test('Customer Details: initials for no avatar, channels, links, details with their line breaks', async () => {
      await page.getByLabel('Search customers').fill('Ada Lovelace');
      await page.locator('[data-customer-id="detail-1"]').click();
      await page.getByTestId('details-name').waitFor();
      assert.equal(await page.getByTestId('details-name').textContent(), 'Ada Lovelace');
      const details = page.getByRole('region', { name: 'Customer Details' });
      assert.equal(await details.locator('.avatar-initials').textContent(), 'AL');
      assert.deepEqual(await details.getByTestId('channel-value').allTextContents(), [
        '+14155550123',
        'whatsapp:+14155550124',
        'ada@example.org',
      ]);
      assert.equal(await details.getByRole('link', { name: 'Open in CRM' }).getAttribute('href'), 'https://crm.example.com/ada');
      assert.equal(await details.getByTestId('details-content').innerText(), 'Line one\nLine two');
    });

    test('masking contact phone numbers replaces their last four digits, as the app does', async () => {
      const details = page.getByRole('region', { name: 'Customer Details' });
      await page.getByLabel('Mask contact phone numbers').check();
      assert.deepEqual(await details.getByTestId('channel-value').allTextContents(), [
        '+1415555XXXX',
        'whatsapp:+1415555XXXX',
        'ada@example.org',
      ]);
      await page.getByLabel('Mask contact phone numbers').uncheck();
      assert.equal(await details.getByTestId('channel-value').first().textContent(), '+14155550123');
      await page.getByLabel('Mask contact phone numbers').check();
    });

    test('the templates menu: filled in for this customer and worker, WhatsApp-approved marked', async () => {
      await page.getByRole('region', { name: 'Customer Details' }).getByRole('button', { name: 'Templates' }).click();
      const items = page.getByTestId('sim-template');
      await items.first().waitFor();
      assert.deepEqual(await items.locator('.template-content').allTextContents(), [
        `Hi Ada, this is ${REP}`,
        'Hello Ada Lovelace!',
      ]);
      assert.equal(await items.nth(0).getByText('WhatsApp approved').count(), 1);
      assert.equal(await items.nth(1).getByText('WhatsApp approved').count(), 0);
      await page.getByRole('button', { name: '‹ Back' }).click();
    });

    test('starting a conversation shows the sender address the service chose, or its refusal', async () => {
      const details = page.getByRole('region', { name: 'Customer Details' });
      await details.getByRole('button', { name: /Message on SMS/ }).click();
      await page.getByText('Conversation started from +15005550006.').waitFor();
      assert.equal(await page.getByTestId('proxy-address').textContent(), '+15005550006');
      assert.equal(await page.getByTestId('conversation-to').textContent(), '+1415555XXXX');
      await page.getByRole('button', { name: '‹ Ada Lovelace' }).click();

      await details.getByRole('button', { name: /Message on WhatsApp/ }).click();
      const refusal = page.getByTestId('proxy-error');
      await refusal.waitFor();
      assert.match((await refusal.textContent()) ?? '', /HTTP 403.*NO_SENDER_ADDRESS/);
      await page.getByRole('button', { name: '‹ Ada Lovelace' }).click();
      await page.getByRole('button', { name: '‹ My Customers' }).click();
      await page.getByLabel('Search customers').waitFor();
    });

    test('every exchange is on the wire with its time against the 6-second budget, and nothing went wrong in the page', async () => {
      const items = page.getByTestId('wire-item');
      assert.ok((await items.count()) >= 8);
      const first = items.first();
      await first.locator('summary').click();
      assert.equal(await first.locator('meter').getAttribute('max'), '6000');
      assert.match((await first.locator('.wire-body').textContent()) ?? '', /x-twilio-signature/);
      assert.deepEqual(tab.problems, []);
    });
  });
}
