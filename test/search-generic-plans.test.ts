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

/** `statement` prepared as `name` on `client`, run once under EXPLAIN ANALYZE with its values: the plan it ran. */
async function executedPlan(client: pg.Client, name: string, statement: { text: string; values: unknown[] }): Promise<PlanNode> {
  await client.query(`prepare ${name} as ${statement.text}`);
  // EXPLAIN EXECUTE takes no bound values: the same values as literals (each cast to its parameter's type).
  const literals = statement.values.map((value) => client.escapeLiteral(String(value))).join(', ');
  const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (analyze, format json) execute ${name}(${literals})`);
  return (explained.rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan;
}

/** Rows read by every scan of the plan (nodes that name a relation). */
function rowsReadAll(node: PlanNode): number {
  const own = node['Relation Name'] !== undefined ? (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1) : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsReadAll(child), 0);
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
      // The last seven digits (no zero) of a number in the book that no other number ends with.
      const lastSeven = (r: (typeof records)[number]) => (r.channels?.find((c) => c.type === 'sms')?.value ?? '').replace(/\D/g, '').slice(-7);
      const ends = new Map<string, number>();
      for (const r of records) ends.set(lastSeven(r), (ends.get(lastSeven(r)) ?? 0) + 1);
      const mine = records.find((r) => r.workers.includes(heavy) && /^[1-9]{7}$/.test(lastSeven(r)) && ends.get(lastSeven(r)) === 1);
      assert.ok(mine, 'a customer of the book with a number of its own');
      digits = lastSeven(mine);
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
        const plan = await executedPlan(client, 'generic', asked);
        const owners = rowsRead(plan, 'customer_owners');
        assert.ok(owners <= 50, `the generic plan read ${owners} of the owners' rows (the book holds ${BOOK}): ${JSON.stringify(plan)}`);
      } finally {
        await client.end();
      }
    });

    test('every named statement of a search in the large book: its generic plan reads at most a few times what its custom plan reads', async () => {
      const service = new CustomerService(store, { pageTokenSecret: 's'.repeat(32), visibility: 'owner', defaultCountry: 'US' });
      const queries = ['joh', 'ohns', 'a', 'mi', digits, digits.slice(-4), '@example', 'C00001', 'zqx'];
      const sent: string[] = [];
      for (const query of queries) {
        // Several asks: the service's own connections may have turned to generic plans by then.
        for (let i = 0; i < 7; i++) sent.push(...(await statementsOf(store, () => service.listCustomers({ worker: heavy, pageSize: 30, query }))));
      }
      await assertGenericPlansRead(db.env.DATABASE_SCHEMA as string, sent);
    });

    test("a name prefix's first page reads its range's first rows in list order, as a custom and as a generic plan", async () => {
      // At 20,000 customers a letter's names are about a thousand: the LIKE the range needs no check by made
      // PostgreSQL guess a handful and read them all through a bitmap, then sort them.
      const service = new CustomerService(store, { pageTokenSecret: 's'.repeat(32), visibility: 'all', defaultCountry: 'US' });
      for (const query of ['a', 'jo', 'car']) {
        const sent = await statementsOf(store, () => service.listCustomers({ worker: heavy, pageSize: 30, query }));
        const asked = sent.map((s) => JSON.parse(s) as { text: string; values: unknown[] }).find((s) => s.text.includes('"by_id"'));
        assert.ok(asked, `rank 0's statement was sent: ${sent.join('\n')}`);
        const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${db.env.DATABASE_SCHEMA}` });
        await client.connect();
        try {
          for (const mode of ['force_custom_plan', 'force_generic_plan']) {
            await client.query(`set plan_cache_mode = ${mode}`);
            await client.query('deallocate all');
            const plan = await executedPlan(client, 'rank_zero', asked);
            const read = rowsRead(plan, 'customers');
            assert.ok(read <= 40, `${mode}, ${query}: read ${read} rows of customers for a page of 30: ${JSON.stringify(plan)}`);
          }
        } finally {
          await client.end();
        }
      }
    });

    test('every named statement with every customer visible (list and next pages, an anchor, details, searches): its generic plan reads at most a few times what its custom plan reads', async () => {
      const service = new CustomerService(store, { pageTokenSecret: 's'.repeat(32), visibility: 'all', defaultCountry: 'US' });
      const queries = [undefined, 'joh', 'ohns', 'a', 'mi', digits, digits.slice(-4), '@example', 'mple.or', 'C00001', 'zqx'];
      const sent: string[] = [];
      const first = await service.listCustomers({ worker: heavy, pageSize: 30 });
      const anchor = first.customers[10]?.customer_id as string;
      for (let i = 0; i < 7; i++) {
        for (const query of queries) {
          sent.push(
            ...(await statementsOf(store, async () => {
              const page = await service.listCustomers({ worker: heavy, pageSize: 30, query });
              if (page.nextPageToken) await service.listCustomers({ worker: heavy, pageSize: 30, query, nextPageToken: page.nextPageToken });
            })),
          );
        }
        sent.push(...(await statementsOf(store, () => service.listCustomers({ worker: heavy, pageSize: 30, anchor }))));
        sent.push(...(await statementsOf(store, () => service.getCustomer(heavy, anchor))));
      }
      await assertGenericPlansRead(db.env.DATABASE_SCHEMA as string, sent);
    });
  });
}

/**
 * For every named statement in `sent` (statementsOf's JSON) with values: its plans as a generic and as a
 * custom plan, each run with those values; the generic one reads at most four times the custom one's rows
 * (plus 200: a small read may take another index).
 */
async function assertGenericPlansRead(schema: string, sent: readonly string[]): Promise<void> {
  const named = new Map<string, { text: string; values: unknown[] }>();
  for (const s of sent.map((j) => JSON.parse(j) as { name?: string; text: string; values?: unknown[] })) {
    if (s.name !== undefined && s.values !== undefined && s.values.length > 0) named.set(`${s.name} ${JSON.stringify(s.values)}`, { text: s.text, values: s.values });
  }
  assert.ok(named.size >= 5, `named statements sent: ${named.size}`);
  const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    let n = 0;
    for (const { text, values } of named.values()) {
      const read: Record<string, number> = {};
      for (const mode of ['force_custom_plan', 'force_generic_plan']) {
        await client.query(`set plan_cache_mode = ${mode}`);
        await client.query(`prepare q${++n} as ${text}`);
        const literals = values.map((value) =>
          value === null ? 'null' : Array.isArray(value) ? client.escapeLiteral(`{${value.join(',')}}`) : client.escapeLiteral(String(value)),
        );
        const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (analyze, format json) execute q${n}(${literals.join(', ')})`);
        read[mode] = rowsReadAll((explained.rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan);
      }
      const custom = read.force_custom_plan as number;
      const generic = read.force_generic_plan as number;
      assert.ok(generic <= 4 * custom + 200, `generic plan read ${generic} rows, custom ${custom}: ${text}`);
    }
  } finally {
    await client.end();
  }
}
