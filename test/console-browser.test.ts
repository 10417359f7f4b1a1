/**
 * The web console in a real headless Chromium, on both stores: sign in with an admin token,
 * search a customer, change its owner and see the change in signed CRM callbacks for both reps,
 * edit a template and see the preview change, reorder templates by keyboard and by dragging, a
 * read-only token that cannot save, and a display name made of markup that shows as text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { adminCall, createAdminToken } from './helpers/admin-token.js';
import { type ConsolePage, openConsole, useBrowser } from './helpers/browser.js';
import { loadTemplates, loadWorkers } from './helpers/settings.js';
import { type TestService, startService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const MARKUP = '<img src=x onerror=alert(1)>';

const CUSTOMERS: CustomerRecord[] = [
  {
    customer_id: 'gh-1',
    display_name: 'Grace Hopper',
    workers: [ALICE],
    channels: [{ type: 'sms', value: '+14155550100' }],
    details: { title: 'Account', content: 'Navy\nCOBOL' },
  },
  { customer_id: 'xss-1', display_name: MARKUP, workers: [ALICE], channels: [{ type: 'email', value: 'x@example.org' }] },
  ...Array.from({ length: 12 }, (_, i) => ({ customer_id: `fill-${i}`, display_name: `Filler Person ${i}`, workers: [BOB] })),
];

const listIds = async (service: TestService, worker: string) => {
  const res = await service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: worker, PageSize: '200' });
  assert.equal(res.status, 200, res.text);
  return res.json.objects.customers.map((c: { customer_id: string }) => c.customer_id) as string[];
};

const callbackTemplates = async (service: TestService, worker: string, customerId: string) => {
  const res = await service.post('/callbacks/templates', { Location: 'GetTemplatesByCustomerId', Worker: worker, CustomerId: customerId });
  assert.equal(res.status, 200, res.text);
  return res.json as Array<{ display_name: string; templates: Array<{ content: string }> }>;
};

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out');
}

for (const kind of storeKinds()) {
  describe(`web console in Chromium on ${kind}`, () => {
    const fixture = useBrowser();
    let db: TestDatabase;
    let service: TestService;
    let adminToken: string;
    let viewerToken: string;
    const tabs: ConsolePage[] = [];
    const open = async (path: string, token?: { token: string; name: string; readOnly: boolean }) => {
      const tab = await openConsole(fixture.browser, `${service.url}${path}`, token ? { token } : {});
      tabs.push(tab);
      return tab;
    };
    const asAdmin = (path: string) => open(path, { token: adminToken, name: 'ops', readOnly: false });
    const asViewer = (path: string) => open(path, { token: viewerToken, name: 'auditor', readOnly: true });

    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
      await seed(service.store, CUSTOMERS);
      await loadWorkers(service.store, [
        { identity: ALICE, display_name: 'Alice Admin' },
        { identity: BOB, display_name: 'Bob Builder' },
      ]);
      await loadTemplates(service.store, [
        {
          display_name: 'Openers',
          templates: [{ content: 'Hi {{customer.first_name}}, {{worker.display_name}} here.', whatsAppApproved: true }, { content: 'Second opener' }],
        },
        { display_name: 'Closers', templates: [{ content: 'Bye {{customer.first_name}}' }] },
      ]);
      adminToken = await createAdminToken(service.store, 'ops');
      viewerToken = await createAdminToken(service.store, 'auditor', true);
    });
    after(async () => {
      for (const tab of tabs) await tab.close();
      await service?.close();
      await db?.drop();
    });

    test('sign in with a token: a wrong one is refused, a good one opens the customers', async () => {
      const { page, problems } = await open('/console');
      await page.getByLabel('Admin token').fill('fis_wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('The service does not know this token').waitFor();
      await page.getByLabel('Admin token').fill(adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Customers' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/console/customers');
      assert.equal(await page.getByText('ops', { exact: true }).count(), 1);
      // Kept in this tab's session storage, never as a cookie.
      assert.deepEqual(await page.context().cookies(), []);
      await page.reload();
      await page.getByRole('heading', { name: 'Customers' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Admin token').waitFor();
      assert.deepEqual(problems, []);
    });

    test('search a customer, change its owner, and both reps see the change in a signed CRM callback', async () => {
      assert.ok((await listIds(service, ALICE)).includes('gh-1'));
      assert.ok(!(await listIds(service, BOB)).includes('gh-1'));

      const { page, problems } = await asAdmin('/console/customers');
      await page.getByLabel('Search', { exact: true }).fill('hopp');
      await page.getByRole('button', { name: 'Search' }).click();
      await until(async () => (await page.locator('[data-customer-id]').count()) === 1);
      assert.equal(await page.locator('[data-customer-id]').getAttribute('data-customer-id'), 'gh-1');
      await page.getByRole('link', { name: 'Grace Hopper' }).click();

      await page.getByRole('button', { name: `Remove owner ${ALICE}` }).click();
      await page.getByPlaceholder('Worker identity').fill(BOB);
      await page.getByRole('button', { name: 'Add owner' }).click();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();
      assert.deepEqual(await page.getByTestId('owner').allTextContents(), [BOB]);

      assert.ok(!(await listIds(service, ALICE)).includes('gh-1'), 'gone from the old owner’s list');
      assert.ok((await listIds(service, BOB)).includes('gh-1'), 'in the new owner’s list');
      const forAlice = await service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: 'gh-1' });
      assert.equal(forAlice.status, 404);
      const forBob = await service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: BOB, CustomerId: 'gh-1' });
      assert.equal(forBob.status, 200);
      assert.equal(forBob.json.objects.customer.details.content, 'Navy\nCOBOL');
      assert.deepEqual(problems, []);
    });

    test('a bad field is refused with its message next to it, and nothing changes', async () => {
      const { page, problems } = await asAdmin('/console/customers/gh-1');
      await page.getByLabel('Channel 1 address').fill('12');
      await page.getByLabel('Avatar URL').fill('javascript:alert(1)');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('.field-error[data-field="channels[0].value"]').waitFor();
      assert.match((await page.locator('.field-error[data-field="channels[0].value"]').textContent()) ?? '', /not a phone number/);
      assert.match((await page.locator('.field-error[data-field="avatar"]').textContent()) ?? '', /https|http/);
      const stored = await adminCall(service.url, adminToken, 'GET', '/customers/gh-1');
      assert.deepEqual(stored.json.channels, [{ type: 'sms', value: '+14155550100' }]);
      assert.equal(stored.json.avatar, undefined);
      assert.deepEqual(problems, []);
    });

    test('edit a template: the draft preview follows the typing, and the preview changes when it is saved', async () => {
      // Bob owns Grace Hopper whether or not the owner test ran first.
      assert.equal((await adminCall(service.url, adminToken, 'PUT', `/workers/${BOB}/customers/gh-1`)).status, 200);
      const { page, problems } = await asAdmin('/console/templates');
      await page.locator('select[name=preview_worker]').selectOption(BOB);
      await page.getByPlaceholder("Search this worker's customers").fill('grace');
      await until(async () => (await page.locator('select[name=preview_customer] option[value="gh-1"]').count()) === 1);
      await page.locator('select[name=preview_customer]').selectOption('gh-1');
      const preview = page.getByTestId('preview');
      await until(async () => (await preview.getByText('Hi Grace, Bob Builder here.').count()) === 1);

      const first = page.locator('[data-template-id]').first();
      await first.getByRole('button', { name: 'Edit' }).click();
      await first.getByLabel('Template text').fill('Good morning {{customer.display_name}}, from {{worker.display_name}}');
      await until(async () => (await first.getByTestId('draft-preview').textContent()) === 'Good morning Grace Hopper, from Bob Builder');
      await first.getByRole('button', { name: 'Save template' }).click();
      await page.getByText('Template saved.').waitFor();
      await until(async () => (await preview.getByText('Good morning Grace Hopper, from Bob Builder').count()) === 1);
      assert.equal(await preview.getByText('Hi Grace, Bob Builder here.').count(), 0);
      const served = await callbackTemplates(service, BOB, 'gh-1');
      assert.equal(served[0]?.templates[0]?.content, 'Good morning Grace Hopper, from Bob Builder');
      assert.deepEqual(problems, []);
    });

    test('reorder templates with the keyboard and categories by dragging; the callback answers the new order', async () => {
      const { page, problems } = await asAdmin('/console/templates');
      await page.locator('[data-template-id]').nth(1).waitFor();
      const handle = page.getByRole('button', { name: /Reorder template 2 of 2 in Openers/ });
      await handle.focus();
      await page.keyboard.press('ArrowUp');
      await until(async () => (await callbackTemplates(service, BOB, 'gh-1'))[0]?.templates[0]?.content === 'Second opener');
      // Focus stays on the moved template's handle, so it can keep moving.
      await until(async () => /Reorder template 1 of 2 in Openers/.test((await page.locator(':focus').getAttribute('aria-label')) ?? ''));
      const closers = page.getByRole('button', { name: /Reorder category Closers/ });
      const openers = page.locator('section[aria-label="Category Openers"] .category-head');
      // Dragged again when the first drag did not take (seen once in three full runs today, on a clean clone; likely
      // the drag began while the list re-rendered after the keyboard move's save). A second drag of a category
      // already first changes nothing, so the assertion still needs the drag to work.
      for (let attempt = 1; ; attempt++) {
        await closers.dragTo(openers, { targetPosition: { x: 20, y: 2 } });
        try {
          await until(async () => (await callbackTemplates(service, BOB, 'gh-1')).map((c) => c.display_name).join() === 'Closers,Openers', 5_000);
          break;
        } catch (err) {
          if (attempt === 3) throw err;
        }
      }
      await until(async () => (await page.locator('section.category .name').first().textContent()) === 'Closers');
      assert.deepEqual(problems, []);
    });

    test("a worker's book, sender addresses in their order, and the audit trail", async () => {
      const { page, problems } = await asAdmin('/console/workers');
      await page.getByRole('link', { name: 'Alice Admin' }).click();
      const book = page.getByRole('region', { name: 'Book' });
      await book.getByRole('link', { name: MARKUP }).waitFor();
      await book.getByLabel('Assign a customer by id').fill('fill-0');
      await book.getByRole('button', { name: 'Assign', exact: true }).click();
      await page.getByText("Customer fill-0 is now in this worker's book.").waitFor();
      assert.ok((await listIds(service, ALICE)).includes('fill-0'));
      await book.getByRole('button', { name: 'Unassign Filler Person 0' }).click();
      await page.getByText("Customer fill-0 was removed from this worker's book.").waitFor();
      assert.ok(!(await listIds(service, ALICE)).includes('fill-0'));

      // State and availability (issue 15): set in the editor, stored, and back to active.
      const editor = page.getByRole('form', { name: 'Worker' });
      await editor.getByLabel('State').selectOption('deactivated');
      await editor.getByLabel("Available (Frontline's IsAvailable)").uncheck();
      await editor.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();
      const stored = await adminCall(service.url, adminToken, 'GET', `/workers/${ALICE}`);
      assert.deepEqual([stored.json.state, stored.json.available], ['deactivated', false]);
      await editor.getByLabel('State').selectOption('active');
      await editor.getByLabel("Available (Frontline's IsAvailable)").check();
      await editor.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();
      assert.equal((await adminCall(service.url, adminToken, 'GET', `/workers/${ALICE}`)).json.state, 'active');

      const proxy = async () => {
        const res = await service.post('/callbacks/outgoing-conversation', {
          Location: 'GetProxyAddress', Worker: ALICE, CustomerId: 'xss-1', ChannelType: 'sms', ChannelValue: '+14155550100',
        });
        return res.status === 200 ? (res.json.proxy_address as string) : `HTTP ${res.status}`;
      };
      await page.getByRole('navigation').getByRole('link', { name: 'Sender addresses' }).click();
      for (const address of ['+15005550006', '+15005550009']) {
        await page.getByRole('button', { name: 'New sender address' }).click();
        await page.getByLabel('Address', { exact: true }).fill(address);
        await page.getByRole('button', { name: 'Save' }).click();
        await page.getByRole('cell', { name: address, exact: true }).waitFor();
      }
      assert.equal(await proxy(), '+15005550006', 'among equal candidates, the first listed');
      await page.getByRole('button', { name: 'Move +15005550009 up' }).click();
      await until(async () => (await proxy()) === '+15005550009');
      assert.equal(await page.locator('table[aria-label="Sender addresses"] tbody tr').first().locator('td').nth(1).textContent(), '+15005550009');

      await page.getByRole('navigation').getByRole('link', { name: 'Audit trail' }).click();
      const rows = page.locator('table[aria-label="Audit trail"] tbody tr');
      await rows.first().waitFor();
      const text = (await rows.allTextContents()).join('\n');
      assert.match(text, /customer\.assign/);
      assert.match(text, /sender/);
      // Field names, never their values (the resource id of a sender is the company's own number).
      assert.match(text, /fill-0\s*workers/);
      // (A customer's change names its `workers` field, not who they are; a rep's own change has the rep as its id.)
      for (const line of text.split('\n').filter((l) => l.includes('customer.'))) assert.doesNotMatch(line, /alice@example\.com/);
      assert.deepEqual(problems, []);
    });

    test('a read-only token shows everything but cannot save', async () => {
      const { page, problems } = await asViewer('/console/customers/gh-1');
      await page.getByLabel('Display name').waitFor();
      assert.equal(await page.getByTestId('read-only-badge').count(), 1);
      assert.equal(await page.getByLabel('Display name').inputValue(), 'Grace Hopper');
      assert.equal(await page.getByLabel('Display name').isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /Delete/ }).count(), 0);
      await page.getByRole('link', { name: 'Templates' }).click();
      await page.locator('[data-template-id]').first().waitFor();
      assert.equal(await page.getByRole('button', { name: 'Edit' }).count(), 0);
      await page.getByRole('link', { name: 'Customers' }).click();
      assert.equal(await page.getByRole('link', { name: 'New customer' }).count(), 0);
      // And the API behind it refuses the token's writes.
      const put = await adminCall(service.url, viewerToken, 'PATCH', '/customers/gh-1', { display_name: 'Changed' });
      assert.equal(put.status, 403);
      assert.deepEqual(problems, []);
    });

    test('a display name made of markup shows as those characters, in the console and in the simulator', async () => {
      const { page, problems } = await asAdmin(`/console/customers?q=${encodeURIComponent('onerror')}`);
      const link = page.getByRole('link', { name: MARKUP, exact: true });
      await link.waitFor();
      assert.equal(await link.textContent(), MARKUP);
      assert.equal(await page.locator('img[src="x"]').count(), 0);
      await link.click();
      await page.getByLabel('Display name').waitFor();
      assert.equal(await page.getByLabel('Display name').inputValue(), MARKUP);
      assert.equal(await page.getByRole('heading', { name: MARKUP }).count(), 2);

      await page.getByRole('navigation').getByRole('link', { name: 'Simulator' }).click();
      await page.getByLabel('Worker').fill(ALICE);
      await page.getByRole('button', { name: 'Sign in as this worker' }).click();
      await page.locator('[data-customer-id="xss-1"]').click();
      await page.getByTestId('details-name').waitFor();
      assert.equal(await page.getByTestId('details-name').textContent(), MARKUP);
      assert.equal(await page.locator('img[src="x"]').count(), 0);
      assert.deepEqual(problems, [], 'no dialog, no script error, no CSP violation');
    });
  });
}
