/**
 * What the Frontline app refuses is refused on import, through the real CLI:
 * a customer whose Customer Details reply would pass 65,536 bytes (Twilio error
 * 48003), and chat identities Conversations refuses (48033). What is accepted at
 * the limit is served at the wire within it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { runCli } from './helpers/cli.js';
import { startService } from './helpers/service.js';
import { createTestDatabase, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** The details reply for `record`, measured here independently of the service: JSON, UTF-8. */
const replyBytes = ({ workers: _, ...dto }: CustomerRecord) => Buffer.byteLength(JSON.stringify({ objects: { customer: dto } }));

/** A record made large by its links, e-mail addresses and avatar (each within its own limit), with `content` as its details. */
function large(id: string, content: string, linkCount = 20): CustomerRecord {
  const links = Array.from({ length: linkCount }, (_, i) => {
    const prefix = `https://crm.example.com/${id}/${i}/`;
    return { type: 'T'.repeat(64), value: prefix + 'p'.repeat(2048 - prefix.length), display_name: 'D'.repeat(200) };
  });
  const channels = Array.from({ length: 20 }, (_, i) => ({ type: 'email' as const, value: `${i}.${'e'.repeat(300)}@example.com` }));
  const avatar = `https://avatars.example.com/${'a'.repeat(2000)}.png`;
  return { customer_id: id, display_name: `Large ${id}`, workers: [ALICE], channels, links, details: { title: 'Notes', content }, avatar };
}

/** A record whose details reply is exactly `bytes` bytes. */
function ofReplySize(id: string, bytes: number): CustomerRecord {
  const base = replyBytes(large(id, 'x'));
  const record = large(id, 'x'.repeat(bytes - base + 1));
  assert.equal(replyBytes(record), bytes);
  return record;
}

for (const kind of storeKinds()) {
  describe(`import refuses what Frontline refuses, on ${kind}`, () => {
    let db: TestDatabase;
    let dir: string;
    const file = (name: string, records: unknown[]) => {
      const p = path.join(dir, name);
      writeFileSync(p, ndjson(records));
      return p;
    };
    const exported = async () => {
      const res = await runCli(['export'], db.env);
      assert.equal(res.code, 0, res.stderr);
      return res.stdout;
    };

    before(async () => {
      db = await createTestDatabase(kind);
      dir = mkdtempSync(path.join(tmpdir(), 'fis-limits-'));
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });

    test('a customer whose details reply would pass 65,536 bytes is rejected, named with its size', async () => {
      const ascii = ofReplySize('ascii-1', 65_537);
      // 10,000 characters of three bytes each: under the limit in characters, over it in UTF-8 bytes.
      const multiByte = large('kanji-1', '漢'.repeat(10_000), 14);
      assert.ok(JSON.stringify(multiByte).length < 65_536 && replyBytes(multiByte) > 65_536);
      const good = { customer_id: 'ok-1', display_name: 'Fits', workers: [ALICE] };

      const res = await runCli(['import', file('large.ndjson', [good, ascii, multiByte])], db.env);
      assert.notEqual(res.code, 0);
      const size = (n: number) => n.toLocaleString('en-US');
      assert.ok(
        res.stderr.includes(
          `line 2: customer "ascii-1": its Customer Details reply would be 65,537 bytes, more than the 65,536 the Frontline app accepts (Twilio error 48003)`,
        ),
        res.stderr,
      );
      assert.ok(res.stderr.includes(`line 3: customer "kanji-1": its Customer Details reply would be ${size(replyBytes(multiByte))} bytes`), res.stderr);
      assert.match(res.stderr, /nothing was changed/);
      assert.equal(await exported(), '');
    });

    test('a customer exactly at the limit is imported and its details reply is 65,536 bytes on the wire', async () => {
      const record = ofReplySize('edge-1', 65_536);
      const res = await runCli(['import', file('edge.ndjson', [record])], db.env);
      assert.equal(res.code, 0, res.stderr);
      const service = await startService(db);
      try {
        const reply = await service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: 'edge-1' });
        assert.equal(reply.status, 200);
        assert.equal(Buffer.byteLength(reply.text), 65_536);
        assert.equal(reply.headers.get('content-length'), '65536');
      } finally {
        await service.close();
      }
    });

    test('chat identities Frontline refuses (48033) are rejected, each with its reason', async () => {
      const chat = (id: string, value: string) => ({ customer_id: id, display_name: id, workers: [ALICE], channels: [{ type: 'chat', value }] });
      const before = await exported();
      const res = await runCli(
        [
          'import',
          file('chat.ndjson', [
            chat('sid', `US${'0123456789abcdef'.repeat(2)}`),
            chat('system', 'system'),
            chat('private', 'Private'),
            chat('unique', 'unique'),
            chat('long', 'c'.repeat(257)),
            { customer_id: 'w', display_name: 'W', workers: ['system'] },
          ]),
        ],
        db.env,
      );
      assert.notEqual(res.code, 0);
      const lines = res.stderr.split('\n').map((l) => l.trim());
      const expected = [
        'line 1: channels[0].value: has the form of a Twilio user SID (US and 32 hex digits), refused as an identity (Twilio error 48033)',
        'line 2: channels[0].value: "system" is reserved by Twilio Conversations and refused as an identity (Twilio error 48033)',
        'line 3: channels[0].value: "Private" is reserved by Twilio Conversations and refused as an identity (Twilio error 48033)',
        'line 4: channels[0].value: "unique" is reserved by Twilio Conversations and refused as an identity (Twilio error 48033)',
        'line 5: channels[0].value: must be at most 256 characters',
        'line 6: workers[0]: "system" is reserved by Twilio Conversations and refused as an identity (Twilio error 48033)',
      ];
      for (const line of expected) assert.ok(lines.includes(line), `${line}\n${res.stderr}`);
      assert.equal(await exported(), before);
    });

    test('a chat identity of 256 characters, and one that only resembles the reserved forms, are served as they are', async () => {
      const longest = 'c'.repeat(256);
      const near = `US${'0123456789abcdef'.repeat(2)}0`;
      const records = [
        { customer_id: 'chat-1', display_name: 'Chat One', workers: [ALICE], channels: [{ type: 'chat', value: longest }] },
        { customer_id: 'chat-2', display_name: 'Chat Two', workers: [ALICE], channels: [{ type: 'chat', value: near }, { type: 'chat', value: 'systems' }] },
      ];
      const res = await runCli(['import', file('chat-ok.ndjson', records)], db.env);
      assert.equal(res.code, 0, res.stderr);
      const service = await startService(db);
      try {
        for (const record of records) {
          const reply = await service.post('/callbacks/crm', {
            Location: 'GetCustomerDetailsByCustomerId',
            Worker: ALICE,
            CustomerId: record.customer_id,
          });
          assert.equal(reply.status, 200);
          assert.deepEqual(reply.json.objects.customer.channels, record.channels);
        }
      } finally {
        await service.close();
      }
    });
  });
}
