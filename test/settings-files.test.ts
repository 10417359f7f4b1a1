/**
 * Settings files (senders, templates, workers): JSON and YAML parsing with
 * positions, validation, all-or-nothing loads, export/import round trips, and
 * the `fis` commands as a user runs them (exit codes, messages), on both stores.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Store } from '../src/platform/db/connect.js';
import { parseSettings, renderSettings } from '../src/application/files/documents.js';
import { ImportRejected } from '../src/application/files/import.service.js';
import { formatPath, positionText, type Problem } from '../src/kernel/problems.js';
import { exportSettings, importSenders, importTemplates, importWorkers } from '../src/application/files/settings.service.js';
import { validateSenders } from '../src/domains/senders/sender.validate.js';
import { findWorkers } from '../src/domains/workers/worker.repository.js';
import { createTestDatabase, openTestStore, storeKinds, type TestDatabase } from './helpers/stores.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/transports/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const SENDERS_YAML = `# Sender addresses
senders:
  - channel_type: sms
    address: "+14155550100"
  - channel_type: whatsapp
    address: "+14155550100"          # the prefix is added
  - channel_type: sms
    address: "+447700900200"
    countries: [gb, IE]
  - channel_type: sms
    address: "(415) 555-0111"        # national, read in DEFAULT_COUNTRY
    worker: alice@example.com
`;

const BAD_SENDERS_YAML = `senders:
  - channel_type: fax
    address: "+14155550100"
  - channel_type: sms
    address: nope
    countries: [UK, ZZ]
  - channel_type: sms
    addres: "+14155550100"
  - channel_type: sms
    address: "whatsapp:+14155550100"
  - channel_type: sms
    address: "+14155550100"
  - channel_type: sms
    address: "+1 415 555 0100"
`;

const TEMPLATES_YAML = `categories:
  - display_name: Openers
    templates:
      - content: "Hi {{customer.first_name}}, this is {{worker.display_name}}."
        whatsAppApproved: true
      - content: |
          Hello {{Name}},
          two lines from {{Author}}.
  - display_name: Follow-ups
    templates:
      - content: "Anything else, {{customer.first_name}}?"
`;

const WORKERS_JSON = JSON.stringify({
  workers: [
    { identity: 'alice@example.com', display_name: 'Alice Johnson', avatar: 'https://avatars.example.com/a.png' },
    { identity: 'bob@example.com' },
    { identity: 'carl@example.com', display_name: 'Carl Jones', state: 'deactivated', available: false },
  ],
});

/** Problems as the CLI shows them: where, which field, what. */
const located = (problems: Problem[]) =>
  problems.map((p) => ({ position: positionText(p) ?? 'file', field: formatPath(p.path), message: p.message }));

describe('parsing settings files', () => {
  test('JSON syntax errors are reported, not thrown', () => {
    const r = parseSettings('{"senders": [', 'json');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? (r.problems[0]?.message ?? '') : '', /is not valid JSON/);
  });
  test('a repeated key is an error in JSON and YAML (JSON.parse would keep the last silently)', () => {
    for (const [text, format] of [
      ['{"senders": [], "senders": []}', 'json'],
      ['senders: []\nsenders: []\n', 'yaml'],
    ] as const) {
      const r = parseSettings(text, format);
      assert.equal(r.ok, false, format);
      assert.match(!r.ok ? (r.problems[0]?.message ?? '') : '', /unique/i);
    }
  });
  test('YAML syntax errors carry their line', () => {
    const r = parseSettings('senders:\n  - channel_type: sms\n   address: [\n', 'yaml');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? (positionText(r.problems[0] ?? {}) ?? '') : '', /^line \d+$/);
  });
  test('every problem is reported with its line and path, in file order', () => {
    const r = parseSettings(BAD_SENDERS_YAML, 'yaml');
    assert.ok(r.ok);
    const v = validateSenders(r.value, { defaultCountry: 'US' });
    assert.ok(!v.ok);
    assert.deepEqual(located(r.locate(v.problems)), [
      { position: 'line 2', field: 'senders[0].channel_type', message: 'must be one of sms, whatsapp' },
      { position: 'line 5', field: 'senders[1].address', message: '"nope" is not a phone number (E.164 such as +14155550100, or national in US)' },
      { position: 'line 6', field: 'senders[1].countries[0]', message: '"UK" is not an ISO 3166 code; the United Kingdom is GB' },
      { position: 'line 6', field: 'senders[1].countries[1]', message: '"ZZ" is not an ISO 3166 two-letter country code such as US or GB' },
      { position: 'line 8', field: 'senders[2].addres', message: 'unknown field; expected channel_type, address, worker, countries' },
      { position: 'line 7', field: 'senders[2].address', message: 'is required' },
      {
        position: 'line 10',
        field: 'senders[3].address',
        message: '"whatsapp:+14155550100" is a WhatsApp address; an sms address is a plain number such as +14155550100',
      },
      { position: 'line 14', field: 'senders[5].address', message: 'sms address +14155550100 is also at senders[4]' },
    ]);
  });
  test('YAML pitfalls: an unquoted +number is reported as such; NO (Norway) stays a country code', () => {
    const r = parseSettings('senders:\n  - channel_type: sms\n    address: +14155550100\n  - channel_type: sms\n    address: "+4722334455"\n    countries: [NO]\n', 'yaml');
    assert.ok(r.ok);
    const v = validateSenders(r.value, { defaultCountry: 'US' });
    assert.ok(!v.ok);
    assert.deepEqual(located(r.locate(v.problems)), [
      {
        position: 'line 3',
        field: 'senders[0].address',
        message: 'is a number (14155550100); write the phone number as a quoted string such as "+14155550100"',
      },
    ]);
  });
  test('a file without its top-level list says what it expects', () => {
    const r = parseSettings('- channel_type: sms\n', 'yaml');
    assert.ok(r.ok);
    const v = validateSenders(r.value, { defaultCountry: 'US' });
    assert.ok(!v.ok);
    assert.match(v.problems[0]?.message ?? '', /must be an object with a "senders" list/);
  });
});

for (const kind of storeKinds()) {
  describe(`loading and exporting settings on ${kind}`, () => {
    let db: TestDatabase;
    let store: Store;
    before(async () => {
      db = await createTestDatabase(kind);
      store = await openTestStore(db);
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    test('senders: normalised on load, exported as loaded, and a bad file changes nothing', async () => {
      const report = await importSenders(store, { text: SENDERS_YAML, format: 'yaml' }, { defaultCountry: 'US' });
      assert.deepEqual(report, { senders: 4, own: 1, byCountry: 1, defaults: 2 });
      const exported = await exportSettings(store, 'senders');
      assert.deepEqual(exported, {
        senders: [
          { channel_type: 'sms', address: '+14155550100' },
          { channel_type: 'whatsapp', address: 'whatsapp:+14155550100' },
          { channel_type: 'sms', address: '+447700900200', countries: ['GB', 'IE'] },
          { channel_type: 'sms', address: '+14155550111', worker: 'alice@example.com' },
        ],
      });
      const rows = await store.db.selectFrom('sender_addresses').select(['address', 'e164', 'worker', 'position']).orderBy('position').execute();
      assert.deepEqual(
        rows.map((r) => [r.address, r.e164, r.worker, r.position]),
        [
          ['+14155550100', '+14155550100', null, 0],
          ['whatsapp:+14155550100', '+14155550100', null, 1],
          ['+447700900200', '+447700900200', null, 2],
          ['+14155550111', '+14155550111', 'alice@example.com', 3],
        ],
        'e164 is the bare number: what the routing callback matches the texted number against',
      );
      await assert.rejects(
        importSenders(store, { text: BAD_SENDERS_YAML, format: 'yaml' }, { defaultCountry: 'US' }),
        (err: unknown) => err instanceof ImportRejected && err.totalProblems === 8 && err.records === 6,
      );
      assert.deepEqual(await exportSettings(store, 'senders'), exported);
    });

    for (const format of ['json', 'yaml'] as const) {
      test(`export then import is the identity (${format})`, async () => {
        await importSenders(store, { text: SENDERS_YAML, format: 'yaml' }, { defaultCountry: 'US' });
        await importTemplates(store, { text: TEMPLATES_YAML, format: 'yaml' });
        await importWorkers(store, { text: WORKERS_JSON, format: 'json' }, { prune: true });
        for (const kind of ['senders', 'templates', 'workers'] as const) {
          const before = await exportSettings(store, kind);
          const text = renderSettings(before, format);
          if (kind === 'senders') await importSenders(store, { text, format }, { defaultCountry: 'US' });
          if (kind === 'templates') await importTemplates(store, { text, format });
          if (kind === 'workers') await importWorkers(store, { text, format }, { prune: true });
          assert.deepEqual(await exportSettings(store, kind), before, kind);
        }
      });
    }

    test('templates: multi-line YAML content is kept byte for byte, whatsAppApproved as a boolean', async () => {
      await importTemplates(store, { text: TEMPLATES_YAML, format: 'yaml' });
      assert.deepEqual(await exportSettings(store, 'templates'), {
        categories: [
          {
            display_name: 'Openers',
            templates: [
              { content: 'Hi {{customer.first_name}}, this is {{worker.display_name}}.', whatsAppApproved: true },
              { content: 'Hello {{Name}},\ntwo lines from {{Author}}.\n', whatsAppApproved: false },
            ],
          },
          { display_name: 'Follow-ups', templates: [{ content: 'Anything else, {{customer.first_name}}?', whatsAppApproved: false }] },
        ],
      });
    });

    test('workers: upserted by identity; --prune deletes the others; bad files change nothing', async () => {
      await importWorkers(store, { text: JSON.stringify({ workers: [] }), format: 'json' }, { prune: true });
      assert.deepEqual(await importWorkers(store, { text: WORKERS_JSON, format: 'json' }, { prune: false }), {
        workers: 3,
        created: 3,
        updated: 0,
        pruned: 0,
        changed: ['alice@example.com', 'bob@example.com', 'carl@example.com'],
      });
      const update = { workers: [{ identity: 'alice@example.com', display_name: 'Alice Smith' }, { identity: 'carol@example.com' }] };
      assert.deepEqual(await importWorkers(store, { text: JSON.stringify(update), format: 'json' }, { prune: false }), {
        workers: 2,
        created: 1,
        updated: 1,
        pruned: 0,
        changed: ['alice@example.com', 'carol@example.com'],
      });
      assert.deepEqual(await importWorkers(store, { text: JSON.stringify(update), format: 'json' }, { prune: true }), {
        workers: 2,
        created: 0,
        updated: 2,
        pruned: 2,
        changed: [],
      });
      const before = await exportSettings(store, 'workers');
      assert.deepEqual(before, {
        workers: [{ identity: 'alice@example.com', display_name: 'Alice Smith' }, { identity: 'carol@example.com' }],
      });
      const bad = { workers: [{ identity: 'dave@example.com' }, { identity: ' spaced ' }, { identity: 'dave@example.com', avatar: 'ftp://x' }] };
      await assert.rejects(
        importWorkers(store, { text: JSON.stringify(bad), format: 'json' }, { prune: true }),
        (err: unknown) => {
          assert.ok(err instanceof ImportRejected);
          assert.deepEqual(
            err.problems.map((p) => formatPath(p.path)),
            ['workers[1].identity', 'workers[2].identity', 'workers[2].avatar'],
          );
          return true;
        },
      );
      assert.deepEqual(await exportSettings(store, 'workers'), before);
    });

    test('workers: state and available are stored, exported only when not the default, and validated', async () => {
      await importWorkers(store, { text: WORKERS_JSON, format: 'json' }, { prune: true });
      assert.deepEqual(await findWorkers(store.db, ['alice@example.com', 'carl@example.com', 'nobody@example.com']), [
        { identity: 'alice@example.com', display_name: 'Alice Johnson', avatar: 'https://avatars.example.com/a.png', state: 'active', available: true },
        { identity: 'carl@example.com', display_name: 'Carl Jones', avatar: null, state: 'deactivated', available: false },
      ]);
      assert.deepEqual((await exportSettings(store, 'workers')).workers?.[2], {
        identity: 'carl@example.com',
        display_name: 'Carl Jones',
        state: 'deactivated',
        available: false,
      });
      // Only the availability changes: that rep alone is reported as changed. A line without them means active and available.
      const yaml = 'workers:\n  - identity: alice@example.com\n    display_name: Alice Johnson\n    avatar: https://avatars.example.com/a.png\n    available: false\n  - identity: bob@example.com\n  - identity: carl@example.com\n    display_name: Carl Jones\n';
      const r = await importWorkers(store, { text: yaml, format: 'yaml' }, { prune: false });
      assert.deepEqual(r.changed, ['alice@example.com', 'carl@example.com']);
      assert.deepEqual(
        (await findWorkers(store.db, ['alice@example.com', 'carl@example.com'])).map((w) => [w.identity, w.state, w.available]),
        [
          ['alice@example.com', 'active', false],
          ['carl@example.com', 'active', true],
        ],
      );
      const before = await exportSettings(store, 'workers');
      const bad = 'workers:\n  - identity: dave@example.com\n    state: inactive\n    available: "no"\n  - identity: erin@example.com\n    available: yes\n';
      await assert.rejects(importWorkers(store, { text: bad, format: 'yaml' }, { prune: false }), (err: unknown) => {
        assert.ok(err instanceof ImportRejected);
        assert.deepEqual(
          located(err.problems).map((p) => [p.position, p.field, p.message]),
          [
            ['line 3', 'workers[0].state', 'must be one of active, deactivated'],
            ['line 4', 'workers[0].available', 'must be true or false'],
            ['line 6', 'workers[1].available', 'must be true or false'],
          ],
        );
        return true;
      });
      assert.deepEqual(await exportSettings(store, 'workers'), before);
    });
  });

  describe(`the fis commands on ${kind}`, () => {
    let db: TestDatabase;
    let dir: string;
    let env: Record<string, string | undefined>;
    const fis = (...args: string[]) =>
      run(process.execPath, ['--import', TSX, CLI, ...args], { cwd: dir, env }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
      );
    before(async () => {
      db = await createTestDatabase(kind);
      dir = mkdtempSync(path.join(tmpdir(), 'fis-cli-'));
      const { DATABASE_URL: _u, DATABASE_SCHEMA: _s, ...rest } = process.env;
      env = { ...rest, ...db.env, LOG_LEVEL: 'silent' };
      writeFileSync(path.join(dir, 'senders.yaml'), SENDERS_YAML);
      writeFileSync(path.join(dir, 'bad-senders.yml'), BAD_SENDERS_YAML);
      writeFileSync(path.join(dir, 'templates.yaml'), TEMPLATES_YAML);
      writeFileSync(path.join(dir, 'workers.json'), WORKERS_JSON);
      writeFileSync(path.join(dir, 'bad-templates.json'), JSON.stringify({ categories: [{ display_name: 'X', templates: [{ content: 'Hi {{Nmae}}' }] }] }));
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });

    test('a good file loads, exit 0, with a summary', async () => {
      const senders = await fis('senders', 'import', 'senders.yaml');
      assert.equal(senders.code, 0, senders.stderr);
      assert.match(senders.stderr, /loaded 4 sender address\(es\): 1 of a worker's own, 1 by country, 2 default/);
      const templates = await fis('templates', 'import', 'templates.yaml');
      assert.equal(templates.code, 0, templates.stderr);
      assert.match(templates.stderr, /loaded 3 template\(s\) in 2 categories/);
      const workers = await fis('workers', 'import', 'workers.json');
      assert.equal(workers.code, 0, workers.stderr);
      assert.match(workers.stderr, /loaded 3 worker\(s\): 3 created, 0 updated, 0 pruned/);
    });

    test('a bad file: non-zero exit, every problem with its line, nothing changed', async () => {
      const before = await fis('senders', 'export');
      const bad = await fis('senders', 'import', 'bad-senders.yml');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /import rejected: 8 problem\(s\) in 6 record\(s\); nothing was changed/);
      assert.match(bad.stderr, /line 2: senders\[0\]\.channel_type: must be one of sms, whatsapp/);
      assert.match(bad.stderr, /line 14: senders\[5\]\.address: sms address \+14155550100 is also at senders\[4\]/);
      assert.equal((await fis('senders', 'export')).stdout, before.stdout);

      const tpl = await fis('templates', 'import', 'bad-templates.json');
      assert.equal(tpl.code, 1);
      assert.match(tpl.stderr, /line 1: categories\[0\]\.templates\[0\]\.content: names an unknown placeholder \{\{Nmae\}\} \(did you mean \{\{Name\}\}\?\)/);
    });

    test('export writes what import reads, YAML by extension, JSON otherwise', async () => {
      const out = await fis('templates', 'export', 'out.yaml');
      assert.equal(out.code, 0, out.stderr);
      const yaml = readFileSync(path.join(dir, 'out.yaml'), 'utf8');
      assert.match(yaml, /^categories:\n {2}- display_name: Openers\n/);
      const again = await fis('templates', 'import', 'out.yaml');
      assert.equal(again.code, 0, again.stderr);
      const json = await fis('senders', 'export');
      assert.equal(json.code, 0);
      assert.equal(JSON.parse(json.stdout).senders.length, 4);
    });

    test('a missing file and an unknown format are errors', async () => {
      const missing = await fis('senders', 'import', 'nope.yaml');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no such file: nope\.yaml/);
      const format = await fis('senders', 'import', 'senders.yaml', '--format', 'xml');
      assert.notEqual(format.code, 0);
      assert.match(format.stderr, /Allowed choices are json, yaml/);
    });
  });
}
