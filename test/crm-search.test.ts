import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { walk } from './helpers/crm.js';
import { startService, useService } from './helpers/service.js';
import { seed, storeKinds } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

const c = (customer_id: string, display_name: string, extra: Partial<CustomerRecord> = {}): CustomerRecord => ({
  customer_id,
  display_name,
  workers: [ALICE],
  ...extra,
});

const RECORDS: CustomerRecord[] = [
  c('1', 'Mary Johnson', { channels: [{ type: 'sms', value: '+15550134123' }] }),
  c('2', 'Johnson & Johnson Ltd', { channels: [{ type: 'email', value: 'orders@jnj.example.com' }] }),
  c('3', 'José Álvarez', { channels: [{ type: 'whatsapp', value: 'whatsapp:+34600111222' }] }),
  c('4', 'Bobby Smith', { channels: [{ type: 'email', value: 'Bobby.Smith@Example.org' }] }),
  c('5', 'Ann Johnsen'),
  c('6', 'Peter Ohnsorg'),
  c('7', 'Zoë Martin', { channels: [{ type: 'sms', value: '+442071838750' }] }),
  c('8', 'Joseph Martin'),
  c('CUST-0042', 'Kim Lee'),
  c('9', 'Nobody Matches', { channels: [{ type: 'sms', value: '+15559990000' }] }),
  c('10', '100% Juice_Bar'),
  // Another rep's customer who matches everything: must never show up for Alice.
  c('b1', 'Johnson Foreign', { workers: [BOB], channels: [{ type: 'sms', value: '+15550134999' }] }),
];

for (const kind of storeKinds()) {
  describe(`search (Query) on ${kind}`, () => {
    const fx = useService(kind, { setup: (s) => seed(s.store, RECORDS) });

    const search = async (Query: string, worker = ALICE) => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: worker, PageSize: '50', Query });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.objects.searchable, true);
      return res.json.objects.customers.map((x: { customer_id: string }) => x.customer_id) as string[];
    };

    test('a fragment anywhere in the name, case-insensitively: ohns', async () => {
      // Names starting with the query first, then a word starting with it, then anything containing it.
      assert.deepEqual(await search('ohns'), ['6', '5', '2', '1']);
      assert.deepEqual(await search('OHNS'), ['6', '5', '2', '1']);
    });

    test('best matches first: the name starts with the query, then a word does, then it contains it', async () => {
      assert.deepEqual(await search('johns'), ['2', '5', '1']);
      assert.deepEqual(await search('mar'), ['1', '8', '7']);
    });

    test('accent-insensitive both ways: jose finds José, and josé finds Joseph and José', async () => {
      assert.deepEqual(await search('jose'), ['3', '8']);
      assert.deepEqual(await search('JOSÉ'), ['3', '8']);
      assert.deepEqual(await search('zoe'), ['7']);
      assert.deepEqual(await search('alvarez'), ['3']);
    });

    test('the full customer_id, and only the full id', async () => {
      assert.deepEqual(await search('CUST-0042'), ['CUST-0042']);
      assert.deepEqual(await search('CUST-004'), []);
    });

    test('any part of an e-mail address', async () => {
      assert.deepEqual(await search('jnj.example'), ['2']);
      assert.deepEqual(await search('orders@'), ['2']);
      assert.deepEqual(await search('bobby.smith@example.org'), ['4']);
      assert.deepEqual(await search('smith@EXAMPLE'), ['4']);
    });

    test('phone numbers by their digits, whatever the formatting', async () => {
      for (const q of ['555 0134', '+1 (555) 0134', '5550134', '(555) 013-4123', '+1-555-013-4123', '15550134123']) {
        assert.deepEqual(await search(q), ['1'], q);
      }
      assert.deepEqual(await search('+34 600 111 222'), ['3']);
      assert.deepEqual(await search('207 183 8750'), ['7']);
    });

    test('a complete national number in DEFAULT_COUNTRY matches without its trunk prefix', async () => {
      const uk = await startService(fx.db, { DEFAULT_COUNTRY: 'GB' });
      try {
        const res = await uk.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Query: '020 7183 8750' });
        assert.deepEqual(res.json.objects.customers.map((x: { customer_id: string }) => x.customer_id), ['7']);
      } finally {
        await uk.close();
      }
      // With the default country US, the same digits are not a number anybody has.
      assert.deepEqual(await search('020 7183 8750'), []);
    });

    test('nothing that does not match', async () => {
      assert.deepEqual(await search('xyz'), []);
      assert.deepEqual(await search('555 0135'), []);
      assert.deepEqual(await search('johnsonx'), []);
      // Two digits are not a phone search, and do not match digits inside numbers.
      assert.deepEqual(await search('55'), []);
    });

    test('LIKE wildcards in the query are literal', async () => {
      assert.deepEqual(await search('100%'), ['10']);
      assert.deepEqual(await search('e_b'), ['10']);
      assert.deepEqual(await search('%'), ['10']);
      assert.deepEqual(await search('_'), ['10']);
    });

    test('another worker customers never match', async () => {
      assert.ok(!(await search('johnson')).includes('b1'));
      assert.ok(!(await search('555 0134')).includes('b1'));
      assert.deepEqual(await search('johnson', BOB), ['b1']);
    });

    test('a blank query is the plain list', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Query: '   ' });
      assert.equal(res.json.objects.customers.length, RECORDS.filter((r) => r.workers.includes(ALICE)).length);
    });

    test('a query over 200 characters is a 400', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Query: 'a'.repeat(201) });
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 'BAD_REQUEST');
    });

    test('search results page by token and by anchor like the list, in rank order', async () => {
      const all = await search('o');
      assert.ok(all.length >= 8);
      for (const by of ['token', 'anchor'] as const) {
        for (const pageSize of [1, 3]) {
          assert.deepEqual(await walk(fx.service, { worker: ALICE, pageSize, by, query: 'o' }), all, `${by} ${pageSize}`);
        }
      }
    });

    test('an anchor that does not match the query ends the search', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Query: 'johns', Anchor: '4' });
      assert.deepEqual(res.json.objects.customers, []);
    });
  });
}
