import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { startService, useService } from './helpers/service.js';
import { seed, storeKinds } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

const FULL: CustomerRecord = {
  customer_id: '42',
  display_name: 'Joseph Martin',
  workers: [ALICE],
  channels: [
    { type: 'sms', value: '+15558675310' },
    { type: 'whatsapp', value: 'whatsapp:+15558675310' },
    { type: 'email', value: 'joseph@example.com' },
    { type: 'chat', value: 'joseph.martin' },
  ],
  links: [{ type: 'Facebook', value: 'https://www.facebook.com/josephmartin/', display_name: 'Facebook' }],
  details: { title: 'Purchase History', content: 'Product: Unobtanium\n\nDate: 2021-07-07\nQuantity: 1000 units' },
  avatar: 'https://example.com/a.png',
};
const MINIMAL: CustomerRecord = { customer_id: 'min-1', display_name: 'Bare Minimum', workers: [ALICE] };
const FOREIGN: CustomerRecord = { customer_id: 'bob-1', display_name: 'Bob Customer', workers: [BOB] };

for (const kind of storeKinds()) {
  describe(`GetCustomerDetailsByCustomerId on ${kind}`, () => {
    const fx = useService(kind, { setup: (s) => seed(s.store, [FULL, MINIMAL, FOREIGN]) });

    const details = (CustomerId: string, Worker = ALICE) =>
      fx.service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker, CustomerId });

    test('the whole Customer DTO', async () => {
      const res = await details('42');
      assert.equal(res.status, 200);
      const { workers: _, ...dto } = FULL;
      assert.deepEqual(res.json, { objects: { customer: dto } });
    });

    test('absent fields are left out, not sent as null', async () => {
      const res = await details('min-1');
      assert.equal(res.status, 200);
      assert.equal(res.text, '{"objects":{"customer":{"customer_id":"min-1","display_name":"Bare Minimum"}}}');
    });

    test('a customer that does not exist is a 404 with a JSON error', async () => {
      const res = await details('nope');
      assert.equal(res.status, 404);
      assert.equal(res.json.error.code, 'CUSTOMER_NOT_FOUND');
    });

    test('another rep customer is a 404: a rep never sees it', async () => {
      const res = await details('bob-1');
      assert.equal(res.status, 404);
      assert.equal(res.json.error.code, 'CUSTOMER_NOT_FOUND');
      assert.ok(!res.text.includes('Bob Customer'));
      assert.equal((await details('bob-1', BOB)).status, 200);
    });

    test('CustomerId is required', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE });
      assert.equal(res.status, 400);
      assert.match(res.json.error.message, /CustomerId/);
    });

    test('CUSTOMER_VISIBILITY=all makes every customer visible to every worker', async () => {
      const open = await startService(fx.db, { CUSTOMER_VISIBILITY: 'all' });
      try {
        const res = await open.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: 'carol@example.com', CustomerId: 'bob-1' });
        assert.equal(res.status, 200);
        assert.equal(res.json.objects.customer.display_name, 'Bob Customer');
        const list = await open.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: 'carol@example.com' });
        assert.deepEqual(
          list.json.objects.customers.map((c: { customer_id: string }) => c.customer_id),
          ['min-1', 'bob-1', '42'],
        );
      } finally {
        await open.close();
      }
    });
  });
}
