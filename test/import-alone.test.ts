/**
 * SQLite: a first import into a store no other connection has open writes without the write-ahead
 * log, holding the file alone until it commits (first-import-alone.ts). Watched from outside, through
 * the files SQLite keeps beside the store: `-journal` exists while a rollback-journal transaction
 * writes; the header's bytes 18–19 are 2 in WAL mode.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { generateCustomers } from '../src/application/files/seed.js';
import { type CliProcess, runCli, startCli } from './helpers/cli.js';
import { sqliteFile, untilWriteLockTaken } from './helpers/store-probes.js';
import { createTestDatabase, type TestDatabase } from './helpers/stores.js';

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
/** Large enough that the import is still writing well after it took the file (about 3 s here). */
const LARGE = 60_000;
const SMALL = 2000;

let dir: string;
let largeFile: string;
let smallFile: string;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fis-import-alone-'));
  largeFile = path.join(dir, 'large.ndjson');
  smallFile = path.join(dir, 'small.ndjson');
  writeFileSync(largeFile, ndjson([...generateCustomers({ customers: LARGE, workers: 9, seed: 41 })]));
  // Ids of their own: imported after the large file, every one is created.
  const small = [...generateCustomers({ customers: SMALL, workers: 3, seed: 42 })].map((r, i) => ({ ...r, customer_id: `small-${i}` }));
  writeFileSync(smallFile, ndjson(small));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a first import on SQLite, alone or not', () => {
  let db: TestDatabase;
  let file: string;
  let migrated: string[];

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    file = sqliteFile(db);
    const res = await runCli(['migrate'], db.env);
    assert.equal(res.code, 0, res.stderr);
    migrated = schemaOf(file);
  });
  afterEach(async () => db.drop());

  test('into a store no one else has open: written without the log, then the file is in WAL mode again, whole', async () => {
    const child = startCli(['import', largeFile], db.env, dir);
    await untilJournal(file, child);
    const res = await child.exited;
    assert.equal(res.code, 0, child.stderr());
    assert.match(child.stderr(), new RegExp(`imported ${LARGE} customer\\(s\\).*${LARGE} created`));
    assert.equal(existsSync(`${file}-journal`), false);
    assert.equal(headerJournalMode(file), 'wal');
    assert.equal(customerCount(file), LARGE);
    assert.deepEqual(schemaOf(file), migrated);
  });

  test('with another connection open: written through the log, and that connection reads the empty store meanwhile', async () => {
    const reader = new SqliteDatabase(file, { readonly: true });
    try {
      const count = () => (reader.prepare('select count(*) as n from customers').get() as { n: number }).n;
      assert.equal(count(), 0);
      const child = startCli(['import', largeFile], db.env, dir);
      await untilWriteLockTaken(db, child);
      // Until the import commits, the store as last committed: empty; then all of it (the process exits after).
      let emptyReads = 0;
      while (!child.done()) {
        assert.equal(existsSync(`${file}-journal`), false, 'no rollback journal while another connection is open');
        const n = count();
        if (n === 0) emptyReads++;
        else assert.equal(n, LARGE, 'never a part of the import');
        await sleep(20);
      }
      assert.equal((await child.exited).code, 0, child.stderr());
      assert.ok(emptyReads > 5, `read the empty store ${emptyReads} times while the import ran`);
      assert.equal(count(), LARGE);
    } finally {
      reader.close();
    }
    assert.equal(headerJournalMode(file), 'wal');
  });

  test('killed mid-way: the next command to open the store rolls it back; the store is empty, with every index', async () => {
    const child = startCli(['import', largeFile], db.env, dir);
    await untilJournal(file, child);
    // Past the schema's pages: the import has written rows into the file itself.
    await sleep(500);
    assert.ok(!child.done(), `the import finished before it was killed; make the file larger: ${child.stderr()}`);
    child.kill('SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL');
    assert.equal(existsSync(`${file}-journal`), true, 'a hot journal is left');

    const migrate = await runCli(['migrate'], db.env);
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.equal(existsSync(`${file}-journal`), false);
    assert.equal(headerJournalMode(file), 'wal');
    assert.equal(customerCount(file), 0);
    assert.deepEqual(schemaOf(file), migrated);
    const again = await runCli(['import', smallFile], db.env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(customerCount(file), SMALL);
  });

  test('a command opening the store meanwhile waits for the commit; past its wait it fails saying why', async () => {
    const first = startCli(['import', largeFile], db.env, dir);
    await untilJournal(file, first);
    const impatient = await runCli(['export', path.join(dir, 'out.ndjson')], { ...db.env, DATABASE_TIMEOUT_MS: '200' });
    assert.ok(!first.done(), `the import finished while the export waited; make the file larger: ${first.stderr()}`);
    assert.notEqual(impatient.code, 0);
    assert.match(impatient.stderr, /held by another process alone \(a first import into an empty store holds it until it commits\) past the 200 ms/);
    assert.doesNotMatch(impatient.stderr, /\n\s+at /, 'a message, not a stack trace');

    // A second import waits (its --wait, 60 s) for the file, then imports into the store the first one filled.
    const second = await runCli(['import', smallFile], db.env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`imported ${SMALL} customer\\(s\\).*${SMALL} created`));
    assert.equal((await first.exited).code, 0, first.stderr());
    assert.equal(customerCount(file), LARGE + SMALL);
    assert.equal(headerJournalMode(file), 'wal');
  });
});

/** Waits until the import writes with a rollback journal (its `-journal` file exists). */
async function untilJournal(file: string, child: CliProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!existsSync(`${file}-journal`)) {
    assert.ok(!child.done(), `the import ended without writing a rollback journal: ${child.stderr()}`);
    assert.ok(Date.now() < deadline, 'the import never wrote a rollback journal');
    await sleep(5);
  }
}

/** The journal mode the file's header records: WAL (bytes 18 and 19 are 2) or a rollback journal (1). */
function headerJournalMode(file: string): 'wal' | 'rollback' {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  return header[18] === 2 && header[19] === 2 ? 'wal' : 'rollback';
}

function customerCount(file: string): number {
  const conn = new SqliteDatabase(file, { readonly: true });
  try {
    return (conn.prepare('select count(*) as n from customers').get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

/** The store's indexes and triggers, each as the statement that makes it. */
function schemaOf(file: string): string[] {
  const conn = new SqliteDatabase(file, { readonly: true });
  try {
    const rows = conn.prepare("select name, sql from sqlite_master where type in ('index', 'trigger') order by name").all() as Array<{ name: string; sql: string | null }>;
    return rows.map((r) => `${r.name}: ${r.sql ?? '(automatic)'}`);
  } finally {
    conn.close();
  }
}
