import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { generateCustomers } from '../src/application/files/seed.js';
import { runCli } from './helpers/cli.js';
import { walk } from './helpers/crm.js';
import { startService } from './helpers/service.js';
import { createTestDatabase, storeKinds, type TestDatabase } from './helpers/stores.js';

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

for (const kind of storeKinds()) {
  describe(`fis import / export on ${kind}`, () => {
    let db: TestDatabase;
    let dir: string;
    const file = (name: string, content: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const exportAll = async () => {
      const res = await runCli(['export'], db.env);
      assert.equal(res.code, 0, res.stderr);
      return res.stdout;
    };
    const records = [...generateCustomers({ customers: 300, workers: 4, seed: 3 })];

    before(async () => {
      db = await createTestDatabase(kind);
      dir = mkdtempSync(path.join(tmpdir(), 'fis-import-'));
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });

    test('imports NDJSON; export writes the same records back', async () => {
      const res = await runCli(['import', file('a.ndjson', ndjson(records))], db.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /imported 300 customer\(s\).*300 created, 0 updated, 0 pruned/);
      const exported = (await exportAll()).trim().split('\n').map((l) => JSON.parse(l) as CustomerRecord);
      const sorted = [...records].sort((a, b) => (a.customer_id < b.customer_id ? -1 : 1));
      assert.deepEqual(exported, sorted.map((r) => ({ ...r, workers: [...r.workers].sort() })));
    });

    test('export and seed --out to a path that cannot be written: a clear error and exit 1, no crash', async () => {
      const missing = path.join(dir, 'no-such-dir', 'out.ndjson');
      for (const args of [['export', missing], ['seed', '--customers', '5', '--out', missing]]) {
        const res = await runCli(args, db.env);
        assert.equal(res.code, 1, res.stderr);
        assert.match(res.stderr, /^error: cannot write .*no-such-dir.*ENOENT/m);
        assert.doesNotMatch(res.stderr, /Unhandled|at emitErrorNT/);
      }
    });

    test('re-importing the same file changes nothing', async () => {
      const before = await exportAll();
      const res = await runCli(['import', path.join(dir, 'a.ndjson')], db.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /0 created, 300 updated/);
      assert.equal(await exportAll(), before);
    });

    test('export then import is the identity (into an empty store)', async () => {
      const exported = await exportAll();
      const other = await createTestDatabase(kind);
      try {
        const res = await runCli(['import', file('exported.ndjson', exported)], other.env);
        assert.equal(res.code, 0, res.stderr);
        const again = await runCli(['export'], other.env);
        assert.equal(again.stdout, exported);
      } finally {
        await other.drop();
      }
    });

    test('a bad file is rejected whole, every problem reported by line and field, the store untouched', async () => {
      const before = await exportAll();
      const good = records.slice(0, 5).map((r) => ({ ...r, display_name: `${r.display_name} Changed` }));
      const lines = [
        JSON.stringify(good[0]),
        '{"customer_id": "x1", "display_name": ',
        JSON.stringify({ customer_id: 'x2', display_name: 'Bad Phone', channels: [{ type: 'sms', value: 'not a number' }] }),
        JSON.stringify(good[1]),
        JSON.stringify({ customer_id: 'x3', display_name: 'Bad Link', links: [{ type: 'Site', value: 'javascript:alert(1)' }] }),
        JSON.stringify({ ...good[2], customer_id: good[0]?.customer_id }),
        '',
        JSON.stringify({ customer_id: '', display_name: 'No Id', colour: 'red' }),
      ];
      const res = await runCli(['import', file('bad.ndjson', lines.join('\n'))], db.env);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /nothing was changed/);
      assert.match(res.stderr, /line 2: is not valid JSON/);
      assert.match(res.stderr, /line 3: channels\[0\]\.value: "not a number" is not a phone number/);
      assert.match(res.stderr, /line 5: links\[0\]\.value: must use/);
      assert.match(res.stderr, /line 6: customer_id: .* appears more than once in the file \(also at line 1\)/);
      assert.match(res.stderr, /line 8: customer_id: must not be empty/);
      assert.match(res.stderr, /line 8: colour: unknown field/);
      assert.deepEqual((await exportAll()).split('\n'), before.split('\n'), 'the store is exactly as it was');
    });

    test('upsert replaces channels, links, details and owners', async () => {
      const changed = { ...(records[0] as CustomerRecord), workers: ['new-owner@example.com'], channels: [{ type: 'sms', value: '+15550000001' }] };
      delete (changed as Partial<CustomerRecord>).links;
      const res = await runCli(['import', file('one.ndjson', ndjson([changed]))], db.env);
      assert.equal(res.code, 0, res.stderr);
      const line = (await exportAll()).split('\n').find((l) => l.includes(`"${changed.customer_id}"`)) as string;
      assert.deepEqual(JSON.parse(line), changed);
    });

    test('--prune removes customers absent from the file', async () => {
      const keep = records.slice(0, 10);
      const res = await runCli(['import', '--prune', file('keep.ndjson', ndjson(keep))], db.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /290 pruned/);
      assert.equal((await exportAll()).trim().split('\n').length, 10);
    });

    test('CSV with the documented columns', async () => {
      const csv = [
        'customer_id,display_name,workers,sms,whatsapp,email,chat,avatar,details_title,details_content,links',
        'csv-1,"Martin, Joseph",alice@example.com;bob@example.com,(555) 867-5310,+15558675310,joseph@example.com,,https://example.com/j.png,Purchase History,"Line one\nLine two","[{""type"":""CRM"",""value"":""https://crm.example.com/1""}]"',
        'csv-2,Ann Lee,alice@example.com,,,,,,,,',
      ].join('\n');
      const res = await runCli(['import', file('c.csv', csv)], db.env);
      assert.equal(res.code, 0, res.stderr);
      const exported = (await exportAll()).trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(exported.find((r) => r.customer_id === 'csv-1'), {
        customer_id: 'csv-1',
        display_name: 'Martin, Joseph',
        workers: ['alice@example.com', 'bob@example.com'],
        channels: [
          { type: 'sms', value: '+15558675310' },
          { type: 'whatsapp', value: 'whatsapp:+15558675310' },
          { type: 'email', value: 'joseph@example.com' },
        ],
        links: [{ type: 'CRM', value: 'https://crm.example.com/1' }],
        details: { title: 'Purchase History', content: 'Line one\nLine two' },
        avatar: 'https://example.com/j.png',
      });
      assert.deepEqual(exported.find((r) => r.customer_id === 'csv-2'), { customer_id: 'csv-2', display_name: 'Ann Lee', workers: ['alice@example.com'] });
    });

    test('CSV with an unknown column is rejected', async () => {
      const res = await runCli(['import', file('bad.csv', 'customer_id,display_name,phone\n1,A,555\n')], db.env);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /line 1: unknown column\(s\) phone/);
    });

    test('a JSON array', async () => {
      const res = await runCli(['import', file('arr.json', JSON.stringify([{ customer_id: 7, display_name: 'Numeric Id' }]))], db.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(await exportAll(), /\{"customer_id":"7","display_name":"Numeric Id","workers":\[\]\}/);
    });

    test('seed is deterministic for a given seed', async () => {
      const a = await runCli(['seed', '--customers', '50', '--workers', '3', '--seed', '9', '--out', path.join(dir, 's1.ndjson')]);
      const b = await runCli(['seed', '--customers', '50', '--workers', '3', '--seed', '9', '--out', path.join(dir, 's2.ndjson')]);
      const c = await runCli(['seed', '--customers', '50', '--workers', '3', '--seed', '10', '--out', path.join(dir, 's3.ndjson')]);
      assert.deepEqual([a.code, b.code, c.code], [0, 0, 0]);
      assert.equal(readFileSync(path.join(dir, 's1.ndjson'), 'utf8'), readFileSync(path.join(dir, 's2.ndjson'), 'utf8'));
      assert.notEqual(readFileSync(path.join(dir, 's1.ndjson'), 'utf8'), readFileSync(path.join(dir, 's3.ndjson'), 'utf8'));
      // Generated data passes the importer's validation.
      const imported = await runCli(['import', path.join(dir, 's1.ndjson')], db.env);
      assert.equal(imported.code, 0, imported.stderr);
    });

    test('repeats across batches are found and reported by line, and the store is untouched', async () => {
      const before = await exportAll();
      // 1,300 records: more than two batches of 500, so repeats fall in earlier and later batches.
      const many = [...generateCustomers({ customers: 1300, workers: 5, seed: 11 })].map((r, i) => ({
        ...r,
        customer_id: `batch-${i + 1}`,
      }));
      const lines = many.map((r) => JSON.stringify(r));
      const at = (line: number, id: string) => (lines[line - 1] = JSON.stringify({ ...many[line - 1], customer_id: id }));
      at(700, 'batch-10'); // an earlier batch
      at(1200, 'batch-10'); // an earlier batch, and again
      at(1250, 'batch-1240'); // earlier in the same batch
      at(1260, 'batch-1240'); // and again
      at(1290, 'batch-1295'); // later in the same batch: the later line is the repeat
      lines[999] = '{"customer_id": "broken"';
      const res = await runCli(['import', file('repeats.ndjson', lines.join('\n') + '\n')], db.env);
      assert.notEqual(res.code, 0);
      const reported = res.stderr.split('\n').filter((l) => /^\s+line \d+/.test(l)).map((l) => l.trim());
      // A batch's reading problems come before its repeats, found when it is written (lines 501-1001).
      assert.match(reported[0] as string, /^line 1000: is not valid JSON/);
      assert.deepEqual(reported.slice(1), [
        'line 700: customer_id: "batch-10" appears more than once in the file (also at an earlier line)',
        'line 1200: customer_id: "batch-10" appears more than once in the file (also at an earlier line)',
        'line 1250: customer_id: "batch-1240" appears more than once in the file (also at line 1240)',
        'line 1260: customer_id: "batch-1240" appears more than once in the file (also at line 1240)',
        'line 1295: customer_id: "batch-1295" appears more than once in the file (also at line 1290)',
      ]);
      assert.match(res.stderr, /6 problem\(s\) in 1300 record\(s\)/);
      assert.equal(await exportAll(), before, 'the store is exactly as it was');
    });

    test('every problem is counted; the report keeps the first thousand', async () => {
      const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ customer_id: `bad-${i}`, display_name: '' }));
      const res = await runCli(['import', file('all-bad.ndjson', lines.join('\n'))], db.env);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /1500 problem\(s\) in 1500 record\(s\)/);
      assert.match(res.stderr, /line 1000: display_name: must not be empty\n\s+… and 500 more/);
    });

    test('a large file replaces stored customers, their owners and addresses', async () => {
      const base = [...generateCustomers({ customers: 1200, workers: 6, seed: 5 })].map((r) => ({ ...r, customer_id: `big-${r.customer_id}` }));
      let res = await runCli(['import', file('big.ndjson', ndjson(base))], db.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /1200 created, 0 updated/);
      const changed = base.map((r, i) =>
        i % 3 === 0 ? { ...r, display_name: `${r.display_name} II`, workers: ['someone.else@example.com'], channels: [{ type: 'email' as const, value: `new${i}@example.com` }] } : r,
      );
      const extra = [...generateCustomers({ customers: 30, workers: 2, seed: 6 })].map((r) => ({ ...r, customer_id: `new-${r.customer_id}` }));
      res = await runCli(['import', file('big2.ndjson', ndjson([...changed, ...extra]))], db.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /30 created, 1200 updated/);
      const exported = new Map(
        (await exportAll())
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as CustomerRecord)
          .map((r) => [r.customer_id, r]),
      );
      for (const r of [...changed, ...extra]) assert.deepEqual(exported.get(r.customer_id), { ...r, workers: [...r.workers].sort() });
      // Owners and addresses follow: the CRM sees the new owner's book and finds customers by their new address.
      const service = await startService(db);
      try {
        const moved = changed.filter((_, i) => i % 3 === 0);
        const book = await walk(service, { worker: 'someone.else@example.com', pageSize: 200, by: 'token' });
        assert.deepEqual(book.sort(), moved.map((r) => r.customer_id).sort(), "the new owner's book is exactly the moved customers");
        const sample = moved[7] as CustomerRecord;
        const before = base.find((r) => r.customer_id === sample.customer_id) as CustomerRecord;
        const oldOwner = before.workers[0] as string;
        const oldBook = new Set(await walk(service, { worker: oldOwner, pageSize: 200, by: 'token' }));
        assert.ok(!oldBook.has(sample.customer_id), 'the old owner no longer sees a moved customer');
        const byNewAddress = await service.post('/callbacks/crm', {
          Location: 'GetCustomersList',
          Worker: 'someone.else@example.com',
          Query: (sample.channels?.[0] as { value: string }).value,
        });
        assert.deepEqual(byNewAddress.json.objects.customers.map((c: { customer_id: string }) => c.customer_id), [sample.customer_id]);
        const oldPhone = before.channels?.find((c) => c.type === 'sms' || c.type === 'whatsapp')?.value;
        if (oldPhone) {
          const byOldAddress = await service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: 'someone.else@example.com', Query: oldPhone });
          assert.ok(!byOldAddress.json.objects.customers.some((c: { customer_id: string }) => c.customer_id === sample.customer_id), 'the old address finds it no more');
        }
      } finally {
        await service.close();
      }
    });
  });
}

describe('fis command line', () => {
  for (const command of ['serve', 'migrate', 'import', 'export', 'seed', 'demo']) {
    test(`fis ${command} --help`, async () => {
      const res = await runCli([command, '--help']);
      assert.equal(res.code, 0);
      assert.match(res.stdout, new RegExp(`Usage: fis ${command}`));
    });
  }
  test('a missing file is a non-zero exit with a message', async () => {
    const res = await runCli(['import', '/no/such/file.ndjson']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no such file/);
  });
  test('serve refuses to start without TWILIO_AUTH_TOKEN, naming it', async () => {
    const res = await runCli(['serve'], { DATABASE_URL: 'sqlite::memory:' });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /TWILIO_AUTH_TOKEN is required/);
  });
  test('a bad variable is named at start', async () => {
    const res = await runCli(['serve'], { TWILIO_AUTH_TOKEN: 't', PORT: 'eighty' });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /PORT must be a whole number/);
  });
});
