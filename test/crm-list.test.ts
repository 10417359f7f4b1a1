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
      test(`by ${by}: customers added, renamed and deleted mid-walk (the anchor row too); unchanged ones appear exactly once, nothing repeats`, async () => {
        const base = [...generateCustomers({ customers: 200, workers: 2, seed: 11 })];
        await seed(fx.service.store, base, { prune: true });
        let current = base;
        let extra = 0;
        /** Customers that were renamed or deleted at some point: not "present throughout". */
        const touched = new Set<string>();
        const deletedUnlisted = new Set<string>();
        const deletedListed = new Set<string>();
        const renamedAhead = new Set<string>();
        const renamedBehind = new Set<string>();
        let anchorDeletedAt: number | undefined;
        let lastBetween = -1;
        const everAlice = new Set(base.filter((r) => r.workers.includes(ALICE)).map((r) => r.customer_id));
        const ANCHOR_PAGE = 3;
        const rename = (id: string, display_name: string) => {
          current = current.map((r) => (r.customer_id === id ? { ...r, display_name } : r));
          touched.add(id);
        };
        const ids = await walk(fx.service, {
          worker: ALICE,
          pageSize: 7,
          by,
          between: async (page, listed) => {
            lastBetween = page;
            const seen = new Set(listed);
            const alice = current.filter((r) => r.workers.includes(ALICE) && !touched.has(r.customer_id));
            const unseen = alice.filter((r) => !seen.has(r.customer_id));
            const seenRows = alice.filter((r) => seen.has(r.customer_id));
            // Newcomers that sort before, among and after what is listed.
            const added: CustomerRecord[] = ['Aaron', 'Mia', 'Zed'].map((name) => ({
              customer_id: `new-${page}-${extra++}`,
              display_name: `${name} Newcomer ${page}`,
              workers: [ALICE],
            }));
            for (const a of added) everAlice.add(a.customer_id);
            // Delete one customer already listed and one not listed yet.
            const gone = [seenRows.at(0), unseen.at(-1)].filter((r): r is CustomerRecord => r !== undefined);
            for (const r of gone) {
              touched.add(r.customer_id);
              (seen.has(r.customer_id) ? deletedListed : deletedUnlisted).add(r.customer_id);
            }
            // Rename one not yet listed so that it still sorts ahead of the cursor, and one listed so that it sorts behind it.
            const ahead = unseen.at(-2);
            if (ahead) {
              // Later renames sort after earlier ones, so the name is ahead of the cursor even near the end.
              rename(ahead.customer_id, `Zzzz Renamed ${String(page).padStart(4, '0')}`);
              renamedAhead.add(ahead.customer_id);
            }
            const behind = seenRows.at(1);
            if (behind) {
              rename(behind.customer_id, `Aaa Renamed ${page}`);
              renamedBehind.add(behind.customer_id);
            }
            // Once, delete the row the next page continues from (the last one listed).
            if (page === ANCHOR_PAGE) {
              const anchorId = listed.at(-1) as string;
              touched.add(anchorId);
              deletedListed.add(anchorId);
              anchorDeletedAt = page;
            }
            const removed = new Set([...gone.map((r) => r.customer_id), ...(page === ANCHOR_PAGE ? [listed.at(-1) as string] : [])]);
            current = [...current.filter((r) => !removed.has(r.customer_id)), ...added];
            await seed(fx.service.store, current, { prune: true });
          },
        });
        assert.ok(deletedListed.size >= ANCHOR_PAGE + 1 && deletedUnlisted.size >= ANCHOR_PAGE, 'the walk deleted listed and unlisted customers');
        assert.ok(renamedAhead.size >= ANCHOR_PAGE && renamedBehind.size >= ANCHOR_PAGE, 'the walk renamed customers');
        assert.equal(anchorDeletedAt, ANCHOR_PAGE, 'the anchor row was deleted');
        assert.equal(new Set(ids).size, ids.length, 'no customer is listed twice (renamed ones included)');
        for (const id of ids) assert.ok(everAlice.has(id), `only the worker own customers: ${id}`);
        for (const id of deletedUnlisted) assert.ok(!ids.includes(id), `${id} was deleted before its page and must not be listed`);
        const stable = base.filter((r) => r.workers.includes(ALICE) && !touched.has(r.customer_id)).map((r) => r.customer_id);
        const listedSet = new Set(ids);
        if (by === 'token') {
          // The token carries the position, not the row: deleting the anchor row changes nothing.
          for (const id of stable) assert.ok(listedSet.has(id), `${id} was present throughout and must be listed`);
          for (const id of renamedAhead) assert.ok(listedSet.has(id), `${id}, renamed ahead of the cursor, is listed under its new name`);
          assert.ok(lastBetween > ANCHOR_PAGE, 'the walk went on after the anchor row was deleted');
        } else {
          // Documented (README): an anchor that is gone ends the list. The page after the deletion is empty.
          assert.equal(lastBetween, ANCHOR_PAGE, 'the list ended at the deleted anchor');
          const final = expectedOrder(current, ALICE);
          const stableListedPrefix = stable.filter((id) => listedSet.has(id));
          assert.ok(stableListedPrefix.length >= 7 * ANCHOR_PAGE - 2 * ANCHOR_PAGE - 2, 'the pages before the end listed the stable customers');
          assert.ok(final.length > ids.length, 'customers remained after the deleted anchor: the end is the documented one, not the list running out');
        }
      });
    }
  });
}
