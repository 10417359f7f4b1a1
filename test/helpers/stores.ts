/**
 * The stores a test run covers. `TEST_STORES=sqlite` or `TEST_STORES=postgres`
 * narrows it; by default every test runs on both. Each test store is private:
 * a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/platform/config.js';
import { openStore, type Store } from '../../src/platform/db/connect.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import type { CustomerRecord } from '../../src/domains/customers/customer.types.js';
import { importCustomers } from '../../src/application/files/import.service.js';
import { asSourceRecords } from '../../src/application/files/seed.js';

export type StoreKind = 'sqlite' | 'postgres';

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';

export function storeKinds(): StoreKind[] {
  const raw = process.env.TEST_STORES ?? 'sqlite,postgres';
  const kinds = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kinds) if (k !== 'sqlite' && k !== 'postgres') throw new Error(`TEST_STORES: unknown store ${k}`);
  // An empty list would run no store suite at all and pass: refuse it loudly.
  if (kinds.length === 0) throw new Error(`TEST_STORES="${raw}" names no store: use sqlite, postgres or both (unset means both)`);
  return kinds as StoreKind[];
}

export interface TestDatabase {
  readonly kind: StoreKind;
  /** Environment that points a service or CLI process at this database. */
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: StoreKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'fis-test-'));
    return {
      kind,
      env: { DATABASE_URL: `sqlite:${path.join(dir, 'fis.sqlite')}` },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    kind,
    env: { DATABASE_URL: TEST_PG_URL, DATABASE_SCHEMA: schema },
    async drop() {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The PUBLIC_URL test services run with (it is required outside insecure
 * development mode unless TRUSTED_PROXIES is set): requests go to 127.0.0.1 and
 * are signed for this URL, as Twilio signs for the public URL in front of a proxy.
 */
export const TEST_PUBLIC_URL = 'https://fis.test.example';

export function testConfig(db: TestDatabase, env: Record<string, string> = {}): Config {
  const names = 'PUBLIC_URL' in env || 'TRUSTED_PROXIES' in env || env.INSECURE_DEV_MODE === 'true';
  return loadConfig(
    {
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      ...(names ? {} : { PUBLIC_URL: TEST_PUBLIC_URL }),
      ...db.env,
      ...env,
    },
    { requireAuthToken: true },
  );
}

/** A migrated store on a fresh test database. */
export async function openTestStore(db: TestDatabase, env: Record<string, string> = {}): Promise<Store> {
  const store = openStore(testConfig(db, env));
  await migrateToLatest(store);
  return store;
}

export async function seed(store: Store, records: CustomerRecord[], options: { prune?: boolean } = {}) {
  return importCustomers(store, asSourceRecords(records), { prune: options.prune ?? false, defaultCountry: 'US' });
}
