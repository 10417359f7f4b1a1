import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { fold } from '../src/kernel/text.js';
import { generateCustomers, workerIdentity } from '../src/application/files/seed.js';
import { walk } from './helpers/crm.js';
import { startService, useService } from './helpers/service.js';
import { seed, storeKinds } from './helpers/stores.js';

const ALICE = workerIdentity(0);
const BOB = workerIdentity(1);

/** The worker's customers in the documented order: folded name, then customer_id, byte-wise. */
function expectedOrder(records: CustomerRecord[], worker: string): string[] {
  const byteCompare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return records
    .filter((r) => r.workers.includes(worker))
    .sort((a, b) => byteCompare(fold(a.display_name), fold(b.display_name)) || byteCompare(a.customer_id, b.customer_id))
    .map((r) => r.customer_id);
}

for (const kind of storeKinds()) {
  describe(`GetCustomersList on ${kind}`, () => {
    const records = [...generateCustomers({ customers: 320, workers: 3, seed: 7 })];

    const fx = useService(kind, { setup: (s) => seed(s.store, records) });

    test('first page: the worker own customers, ordered by name then id, with searchable true', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '30' });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const { customers, searchable, next_page_token } = res.json.objects;
      assert.equal(searchable, true);
      assert.equal(typeof next_page_token, 'string');
      assert.deepEqual(
        customers.map((c: { customer_id: string }) => c.customer_id),
        expectedOrder(records, ALICE).slice(0, 30),
      );
      for (const c of customers) {
        const record = records.find((r) => r.customer_id === c.customer_id) as CustomerRecord;
        const expected: Record<string, string> = { customer_id: record.customer_id, display_name: record.display_name };
        if (record.avatar) expected.avatar = record.avatar;
        assert.deepEqual(c, expected, 'list items carry id, name and avatar only');
      }
    });

    test('PageSize defaults to 30', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE });
      assert.equal(res.status, 200);
      assert.equal(res.json.objects.customers.length, 30);
    });

    for (const pageSize of [1, 7, 30]) {
      for (const by of ['token', 'anchor'] as const) {
        test(`walking by ${by} with PageSize ${pageSize} lists every customer of the worker exactly once, in order`, async () => {
          const ids = await walk(fx.service, { worker: ALICE, pageSize, by });
          assert.deepEqual(ids, expectedOrder(records, ALICE));
        });
      }
    }

    test('another worker sees only their own book', async () => {
      const ids = await walk(fx.service, { worker: BOB, pageSize: 50, by: 'token' });
      assert.deepEqual(ids, expectedOrder(records, BOB));
      const alice = new Set(expectedOrder(records, ALICE));
      const shared = ids.filter((id) => alice.has(id));
      for (const id of shared) {
        const r = records.find((x) => x.customer_id === id) as CustomerRecord;
        assert.ok(r.workers.includes(ALICE) && r.workers.includes(BOB), 'only customers both own appear in both');
      }
    });

    test('an unknown worker gets an empty list', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: 'nobody@example.com' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json.objects, { customers: [], searchable: true });
    });

    test('the last page carries no next_page_token', async () => {
      const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '200' });
      assert.equal(res.status, 200);
      assert.equal(res.json.objects.customers.length, expectedOrder(records, ALICE).length);
      assert.equal('next_page_token' in res.json.objects, false);
    });

    test('an unknown or invisible Anchor ends the list instead of restarting it', async () => {
      for (const anchor of ['no-such-customer', expectedOrder(records, BOB).find((id) => !expectedOrder(records, ALICE).includes(id)) as string]) {
        const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Anchor: anchor });
        assert.equal(res.status, 200);
        assert.deepEqual(res.json.objects, { customers: [], searchable: true });
      }
    });

    test('NextPageToken wins over Anchor when both are sent', async () => {
      const first = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '5' });
      const token = first.json.objects.next_page_token;
      const res = await fx.service.post('/callbacks/crm', {
        Location: 'GetCustomersList',
        Worker: ALICE,
        PageSize: '5',
        NextPageToken: token,
        Anchor: 'no-such-customer',
      });
      assert.deepEqual(
        res.json.objects.customers.map((c: { customer_id: string }) => c.customer_id),
        expectedOrder(records, ALICE).slice(5, 10),
      );
    });

    describe('page tokens are tamper-evident and bound to worker and query', () => {
      let token: string;
      before(async () => {
        const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '3' });
        token = res.json.objects.next_page_token;
      });
      const refused = async (params: Record<string, string>) => {
        const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '3', ...params });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.json.error.code, 'INVALID_PAGE_TOKEN');
      };
      test('forged', () => refused({ NextPageToken: 'v1.WzAsImEiLCJiIl0.AAAAAAAAAAAAAAAAAAAAAAAA' }));
      test('garbage', () => refused({ NextPageToken: 'not a token' }));
      test('altered cursor', () => {
        const [v, , mac] = token.split('.');
        const body = Buffer.from(JSON.stringify([0, 'a', 'C0000001'])).toString('base64url');
        return refused({ NextPageToken: `${v}.${body}.${mac}` });
      });
      test('altered MAC', () => refused({ NextPageToken: `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}` }));
      test('used by another worker', async () => {
        const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: BOB, PageSize: '3', NextPageToken: token });
        assert.equal(res.status, 400);
        assert.equal(res.json.error.code, 'INVALID_PAGE_TOKEN');
      });
      test('used with another query', () => refused({ NextPageToken: token, Query: 'jo' }));
      test('issued by another deployment (other secret)', async () => {
        const other = await startService(fx.db, { PAGE_TOKEN_SECRET: 'another-secret-of-enough-length' });
        try {
          const res = await other.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '3', NextPageToken: token });
          assert.equal(res.status, 400);
        } finally {
          await other.close();
        }
      });
    });

    describe('PageSize', () => {
      for (const bad of ['0', '201', '-1', '1.5', 'abc', '', ' 30', '30x', '99999999999']) {
        test(`"${bad}" is a 400`, async () => {
          const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: bad });
          assert.equal(res.status, 400);
          assert.equal(res.json.error.code, 'INVALID_PAGE_SIZE');
          assert.match(res.json.error.message, /PageSize/);
        });
      }
      for (const good of ['1', '200']) {
        test(`"${good}" is accepted`, async () => {
          const res = await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: good });
          assert.equal(res.status, 200);
          assert.equal(res.json.objects.customers.length, Math.min(Number(good), expectedOrder(records, ALICE).length));
        });
      }
    });
  });

  describe(`paging while the data changes, on ${kind}`, () => {
    const fx = useService(kind);

    for (const by of ['token', 'anchor'] as const) {
      test(`by ${by}: customers present throughout appear exactly once; nothing repeats`, async () => {
        const base = [...generateCustomers({ customers: 200, workers: 2, seed: 11 })];
        await seed(fx.service.store, base, { prune: true });
        let current = base;
        let extra = 0;
        const removed = new Set<string>();
        const everAlice = new Set(base.filter((r) => r.workers.includes(ALICE)).map((r) => r.customer_id));
        const ids = await walk(fx.service, {
          worker: ALICE,
          pageSize: 7,
          by,
          between: async (page) => {
            // Insert customers that sort everywhere, delete some not yet seen, rename one.
            const added: CustomerRecord[] = ['Aaron', 'Mia', 'Zed'].map((name) => ({
              customer_id: `new-${page}-${extra++}`,
              display_name: `${name} Newcomer ${page}`,
              workers: [ALICE],
            }));
            for (const a of added) everAlice.add(a.customer_id);
            const victims = current.filter((r) => r.workers.includes(ALICE)).slice(-2 - page, -1 - page);
            for (const v of victims) removed.add(v.customer_id);
            current = [...current.filter((r) => !removed.has(r.customer_id)), ...added];
            await seed(fx.service.store, current, { prune: true });
          },
        });
        assert.equal(new Set(ids).size, ids.length, 'no customer is listed twice');
        const stable = base.filter((r) => r.workers.includes(ALICE) && !removed.has(r.customer_id)).map((r) => r.customer_id);
        const seen = new Set(ids);
        for (const id of stable) assert.ok(seen.has(id), `${id} was present throughout and must be listed`);
        for (const id of ids) assert.ok(everAlice.has(id), `only the worker own customers: ${id}`);
      });
    }
  });
}
