import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/platform/config.js';
import { openStore } from '../src/platform/db/connect.js';
import { forBulkImport, IMPORT_CACHE_MB, IMPORT_SORT_THREADS } from '../src/platform/db/store-options.js';

const base = { TWILIO_AUTH_TOKEN: 'token', PUBLIC_URL: 'https://fis.example.com' };

describe('configuration', () => {
  test('defaults: SQLite under ./data, port 5001, owner visibility, US', () => {
    const config = loadConfig(base, { cwd: '/srv/app' });
    assert.deepEqual(config.store, { kind: 'sqlite', file: path.resolve('/srv/app', 'data/fis.sqlite') });
    assert.equal(config.port, 5001);
    assert.equal(config.customerVisibility, 'owner');
    assert.equal(config.defaultCountry, 'US');
    assert.ok(Object.isFrozen(config));
  });

  test('refuses to start without TWILIO_AUTH_TOKEN unless in insecure development mode', () => {
    assert.throws(() => loadConfig({}), (err: unknown) => err instanceof ConfigError && /TWILIO_AUTH_TOKEN/.test(err.message));
    assert.equal(loadConfig({ INSECURE_DEV_MODE: 'true' }).insecureDevMode, true);
    // Data commands need no token.
    assert.equal(loadConfig({}, { requireAuthToken: false }).twilioAuthToken, undefined);
  });

  test('names every bad variable at once', () => {
    try {
      loadConfig({ ...base, PORT: 'eighty', CUSTOMER_VISIBILITY: 'some', DEFAULT_COUNTRY: 'usa', DATABASE_URL: 'mysql://x', PUBLIC_URL: 'fis.example.com' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      for (const name of ['PORT', 'CUSTOMER_VISIBILITY', 'DEFAULT_COUNTRY', 'DATABASE_URL', 'PUBLIC_URL']) {
        assert.ok(err.problems.some((p) => p.startsWith(name)), `${name} is named`);
      }
    }
  });

  test('postgres URLs and schemas', () => {
    const config = loadConfig({ ...base, DATABASE_URL: 'postgres://u@db:5432/fis', DATABASE_SCHEMA: 'tenant_a' });
    assert.deepEqual(config.store, { kind: 'postgres', url: 'postgres://u@db:5432/fis', schema: 'tenant_a' });
    assert.throws(() => loadConfig({ ...base, DATABASE_URL: 'postgres://u@db/fis', DATABASE_SCHEMA: 'Robert"; drop' }), ConfigError);
  });

  test('the page token key is shared configuration: the same on every instance', () => {
    assert.equal(loadConfig(base).pageTokenSecret, loadConfig(base).pageTokenSecret);
    assert.notEqual(loadConfig(base).pageTokenSecret, loadConfig({ ...base, TWILIO_AUTH_TOKEN: 'other' }).pageTokenSecret);
    assert.equal(loadConfig({ ...base, PAGE_TOKEN_SECRET: 'explicit-secret-123' }).pageTokenSecret, 'explicit-secret-123');
    assert.throws(() => loadConfig({ ...base, PAGE_TOKEN_SECRET: 'short' }), ConfigError);
  });

  test('SERVE_PROCESSES: 1 by default, a number from 1 to 64, or auto for one per core', () => {
    assert.equal(loadConfig(base).serveProcesses, 1);
    assert.equal(loadConfig({ ...base, SERVE_PROCESSES: '4' }).serveProcesses, 4);
    assert.equal(loadConfig({ ...base, SERVE_PROCESSES: 'auto' }).serveProcesses, availableParallelism());
    for (const bad of ['0', '65', 'two', '-1']) {
      assert.throws(() => loadConfig({ ...base, SERVE_PROCESSES: bad }), /SERVE_PROCESSES/, bad);
    }
  });

  test("SQLITE_CACHE_MB, SQLITE_MMAP_MB, SQLITE_READ_THREADS: 8, 0 and 1 by default; reach the store; an import's store takes 64 MB at least", async () => {
    assert.deepEqual(loadConfig(base).sqlite, { cacheMb: 8, mmapMb: 0, readThreads: 1 });
    const dir = mkdtempSync(path.join(tmpdir(), 'fis-config-'));
    try {
      const config = loadConfig({ ...base, DATABASE_URL: `sqlite:${dir}/s.sqlite`, SQLITE_CACHE_MB: '8', SQLITE_MMAP_MB: '64', SQLITE_READ_THREADS: '0' });
      assert.deepEqual(config.sqlite, { cacheMb: 8, mmapMb: 64, readThreads: 0 });
      const store = openStore(config);
      try {
        if (store.driver.kind !== 'sqlite') assert.fail('a SQLite store');
        const { database, reader } = store.driver;
        assert.equal(database.pragma('cache_size', { simple: true }), -8192);
        assert.equal(reader.pragma('cache_size', { simple: true }), -8192);
        assert.equal(reader.pragma('mmap_size', { simple: true }), 64 * 1024 * 1024);
        assert.equal(store.readerThreads, undefined);
      } finally {
        await store.close();
      }
      // A bulk import's own connection: a page cache of at least IMPORT_CACHE_MB, a larger one kept.
      for (const [configured, expected] of [['8', IMPORT_CACHE_MB], ['128', 128]] as const) {
        const importing = openStore(forBulkImport(loadConfig({ ...base, DATABASE_URL: `sqlite:${dir}/s.sqlite`, SQLITE_CACHE_MB: configured, SQLITE_READ_THREADS: '0' })));
        try {
          if (importing.driver.kind !== 'sqlite') assert.fail('a SQLite store');
          assert.equal(importing.driver.database.pragma('cache_size', { simple: true }), -expected * 1024, configured);
          assert.equal(importing.driver.database.pragma('threads', { simple: true }), 0, 'no sort threads unless asked');
        } finally {
          await importing.close();
        }
      }
      // `fis import`'s connection: its sorts may take IMPORT_SORT_THREADS threads.
      const cli = openStore(forBulkImport(loadConfig({ ...base, DATABASE_URL: `sqlite:${dir}/s.sqlite`, SQLITE_READ_THREADS: '0' }), { sortThreads: IMPORT_SORT_THREADS }));
      try {
        if (cli.driver.kind !== 'sqlite') assert.fail('a SQLite store');
        assert.equal(cli.driver.database.pragma('threads', { simple: true }), IMPORT_SORT_THREADS);
      } finally {
        await cli.close();
      }
      const threaded = openStore(loadConfig({ ...base, DATABASE_URL: `sqlite:${dir}/s.sqlite`, SQLITE_READ_THREADS: '2' }));
      assert.ok(threaded.readerThreads);
      await threaded.close();
      // An in-memory store has no file for a thread to open: its reads stay here.
      const memory = openStore(loadConfig({ ...base, DATABASE_URL: 'sqlite::memory:' }));
      assert.equal(memory.readerThreads, undefined);
      await memory.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const [name, bad] of [['SQLITE_CACHE_MB', '0'], ['SQLITE_MMAP_MB', '-1'], ['SQLITE_MMAP_MB', 'lots'], ['SQLITE_READ_THREADS', '17'], ['SQLITE_READ_THREADS', '-1']]) {
      assert.throws(() => loadConfig({ ...base, [name as string]: bad }), new RegExp(name as string), `${name}=${bad}`);
    }
  });

  test('PUBLIC_URL is required to serve, unless TRUSTED_PROXIES names the proxies or in insecure development mode', () => {
    const noUrl = { TWILIO_AUTH_TOKEN: 'token' };
    assert.throws(
      () => loadConfig(noUrl),
      (err: unknown) => err instanceof ConfigError && /PUBLIC_URL is required/.test(err.message) && /TRUSTED_PROXIES/.test(err.message),
    );
    assert.deepEqual(loadConfig({ ...noUrl, TRUSTED_PROXIES: '10.0.0.7, 192.168.0.0/16,::1' }).trustedProxies, [
      '10.0.0.7/32',
      '192.168.0.0/16',
      '::1/128',
    ]);
    assert.deepEqual(loadConfig({ ...noUrl, TRUSTED_PROXIES: 'loopback' }).trustedProxies, ['127.0.0.0/8', '::1/128']);
    assert.equal(loadConfig({ INSECURE_DEV_MODE: 'true' }).publicUrl, undefined);
    // Data commands never check a signature.
    assert.equal(loadConfig({}, { requireAuthToken: false }).publicUrl, undefined);
    assert.deepEqual(loadConfig(base).trustedProxies, []);
    for (const bad of ['everyone', '10.0.0.0/33', '1.2.3', '10.0.0.1/8/2', '*']) {
      assert.throws(() => loadConfig({ ...noUrl, TRUSTED_PROXIES: bad }), /TRUSTED_PROXIES must list/, bad);
    }
  });

  test('PUBLIC_URL loses its trailing slash', () => {
    assert.equal(loadConfig({ ...base, PUBLIC_URL: 'https://fis.example.com/' }).publicUrl, 'https://fis.example.com');
  });
});
