/**
 * An import killed (SIGKILL: no cleanup, no rollback by the process) in the
 * middle of a large file: the store holds the old data, whole, never a mix of
 * old and new; the next import runs normally and writes the new data.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { generateCustomers } from '../src/application/files/seed.js';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { runCli, startCli } from './helpers/cli.js';
import { pgClient, sqliteFile, untilWriteLockTaken } from './helpers/store-probes.js';
import { createTestDatabase, storeKinds, type TestDatabase } from './helpers/stores.js';

const OLD = 2000;
/** Large enough that the import is still writing a second after it took the lock, on any machine. */
const NEW = 60_000;

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

for (const kind of storeKinds()) {
  describe(`fis import killed mid-way on ${kind}`, () => {
    let db: TestDatabase;
    let dir: string;
    let oldFile: string;
    let newFile: string;

    before(async () => {
      db = await createTestDatabase(kind);
      dir = mkdtempSync(path.join(tmpdir(), 'fis-import-crash-'));
      const old = [...generateCustomers({ customers: OLD, workers: 5, seed: 21 })].map((r, i) => ({ ...r, customer_id: `c-${i}` }));
      // The new file changes every old customer (name, owner, address) and adds many more.
      const changed: CustomerRecord[] = old.map((r, i) => ({
        ...r,
        display_name: `${r.display_name} v2`,
        workers: ['new.owner@example.com'],
        channels: [{ type: 'email', value: `v2.${i}@example.com` }],
      }));
      const added = [...generateCustomers({ customers: NEW - OLD, workers: 5, seed: 22 })].map((r, i) => ({ ...r, customer_id: `n-${i}` }));
      oldFile = path.join(dir, 'old.ndjson');
      newFile = path.join(dir, 'new.ndjson');
      writeFileSync(oldFile, ndjson(old));
      writeFileSync(newFile, ndjson([...changed, ...added]));
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });

    const exportAll = async () => {
      const res = await runCli(['export'], db.env);
      assert.equal(res.code, 0, res.stderr);
      return res.stdout;
    };

    test('SIGKILL while writing: the store holds the old data, whole; a new run imports the new', async () => {
      const first = await runCli(['import', oldFile], db.env);
      assert.equal(first.code, 0, first.stderr);
      const before = await exportAll();
      const countsBefore = await tableCounts(db);
      assert.deepEqual(countsBefore, { customers: OLD, owners: countsBefore.owners, addresses: countsBefore.addresses });

      const child = startCli(['import', newFile], db.env, dir);
      // Wait until the import holds the write lock (its transaction is open), then let it write for a while.
      await untilWriteLockTaken(db, child);
      await sleep(1000);
      assert.ok(!child.done(), `the import finished within a second of taking the lock; make the file larger: ${child.stderr()}`);
      child.kill('SIGKILL');
      const { signal } = await child.exited;
      assert.equal(signal, 'SIGKILL');
      assert.doesNotMatch(child.stderr(), /imported/);

      assert.equal(await exportAll(), before, 'the store holds exactly the old data');
      assert.deepEqual(await tableCounts(db), countsBefore, 'no owner or address rows of the killed run are left');

      const again = await runCli(['import', newFile], db.env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, new RegExp(`imported ${NEW} customer\\(s\\).*${NEW - OLD} created, ${OLD} updated`));
      const after = await exportAll();
      const lines = after.trim().split('\n');
      assert.equal(lines.length, NEW);
      const c0 = JSON.parse(lines.find((l) => l.startsWith('{"customer_id":"c-0"')) as string) as CustomerRecord;
      assert.match(c0.display_name, / v2$/);
      assert.deepEqual(c0.workers, ['new.owner@example.com']);
    });
  });
}

async function tableCounts(db: TestDatabase): Promise<{ customers: number; owners: number; addresses: number }> {
  const query =
    'select (select count(*) from customers) as customers, (select count(*) from customer_owners) as owners, ' +
    '(select count(*) from customer_addresses) as addresses';
  if (db.kind === 'sqlite') {
    const conn = new SqliteDatabase(sqliteFile(db), { readonly: true });
    try {
      return conn.prepare(query).get() as { customers: number; owners: number; addresses: number };
    } finally {
      conn.close();
    }
  }
  const client = await pgClient(db);
  try {
    const row = (await client.query(query)).rows[0];
    return { customers: Number(row.customers), owners: Number(row.owners), addresses: Number(row.addresses) };
  } finally {
    await client.end();
  }
}
