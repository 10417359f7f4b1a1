/**
 * A named statement of PostgreSQL may be run with a generic plan (after five runs on a connection, when its
 * estimate is no worse than the custom plans'), chosen without the rep's name or the digits in hand. Such a
 * plan must still read only the holders of what is asked: a search of a number's digits in a large book once
 * read the whole book for every search (an `exists` answered with a hashed subplan of the book's rows).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { generateCustomers, workerIdentity } from '../src/application/files/seed.js';
import { CustomerService } from '../src/domains/customers/customer.service.js';
import type { Store } from '../src/platform/db/connect.js';
import { statementsOf } from './helpers/store-probes.js';
import { createTestDatabase, openTestStore, seed, storeKinds, TEST_PG_URL, type TestDatabase } from './helpers/stores.js';

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** Rows read from `relation` by every node of the plan. */
function rowsRead(node: PlanNode, relation: string): number {
  const own = node['Relation Name'] === relation ? (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1) : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child, relation), 0);
}

if (storeKinds().includes('postgres')) {
  describe('generic plans of the book searches on PostgreSQL', () => {
    const BOOK = 6000;
    const heavy = workerIdentity(0);
    let db: TestDatabase;
    let store: Store;
    let digits: string;

    before(async () => {
      db = await createTestDatabase('postgres');
      store = await openTestStore(db);
      // Many small books and one large: the planner's estimate of a book is the average one.
      const records = [...generateCustomers({ customers: 20_000, workers: 1000, seed: 11, heavyWorkers: 1, heavySize: BOOK })];
      await seed(store, records);
      const mine = records.find((r) => r.workers.includes(heavy) && r.channels?.some((c) => c.type === 'sms'));
      const sms = mine?.channels?.find((c) => c.type === 'sms')?.value as string;
      digits = sms.replace(/\D/g, '').slice(-7);
      const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${db.env.DATABASE_SCHEMA}` });
      await client.connect();
      await client.query('analyze');
      await client.end();
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    test("a number's digits in a large book: the generic plan probes the book for each holder, never reads the book", async () => {
      const service = new CustomerService(store, { pageTokenSecret: 's'.repeat(32), visibility: 'owner', defaultCountry: 'US' });
      let found = 0;
      const sent = await statementsOf(store, async () => {
        found = (await service.listCustomers({ worker: heavy, pageSize: 30, query: digits })).customers.length;
      });
      assert.ok(found >= 1, 'the customer whose number it is was found');
      const asked = sent.map((s) => JSON.parse(s) as { name?: string; text: string; values: unknown[] }).find((s) => s.name === 'fis:phone-windows-book');
      assert.ok(asked, `the book's number statement was sent: ${sent.join('\n')}`);

      const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${db.env.DATABASE_SCHEMA}` });
      await client.connect();
      try {
        await client.query('set plan_cache_mode = force_generic_plan');
        await client.query(`prepare generic as ${asked.text}`);
        // EXPLAIN EXECUTE takes no bound values: the same values as literals (each cast to its parameter's type).
        const literals = asked.values.map((value) => client.escapeLiteral(String(value))).join(', ');
        const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (analyze, format json) execute generic(${literals})`);
        const plan = (explained.rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan;
        const owners = rowsRead(plan, 'customer_owners');
        assert.ok(owners <= 50, `the generic plan read ${owners} of the owners' rows (the book holds ${BOOK}): ${JSON.stringify(plan)}`);
      } finally {
        await client.end();
      }
    });
  });
}
