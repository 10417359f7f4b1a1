/**
 * `POST /callbacks/conversations` (and its alias) at the wire level, on both
 * stores: onConversationAdd names the conversation, onParticipantAdded tags
 * the customer participant through the real client and a local fake of Twilio.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { FAKE_ACCOUNT_SID, FakeTwilio, sid } from './helpers/fake-twilio.js';
import { type Params, type TestService, startService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const customers: CustomerRecord[] = [
  {
    customer_id: 'cust-ann',
    display_name: 'Ann Example',
    workers: ['alice@example.com'],
    channels: [{ type: 'sms', value: '+15551230001' }],
    avatar: 'https://example.com/ann.png',
  },
  {
    customer_id: 'cust-ben',
    display_name: 'Ben Example',
    workers: ['bob@example.com'],
    channels: [{ type: 'whatsapp', value: 'whatsapp:+15551230002' }],
  },
];

const conversationAdd = (address?: string): Params => ({
  EventType: 'onConversationAdd',
  AccountSid: FAKE_ACCOUNT_SID,
  ChatServiceSid: sid('IS'),
  Source: 'SMS',
  RetryCount: '0',
  ...(address ? { 'MessagingBinding.Address': address, 'MessagingBinding.ProxyAddress': '+15550000000' } : {}),
});

const participantAdded = (ch: string, participantSid: string, address: string, extra: Params = {}): Params => ({
  EventType: 'onParticipantAdded',
  AccountSid: FAKE_ACCOUNT_SID,
  ChatServiceSid: sid('IS'),
  ConversationSid: ch,
  ParticipantSid: participantSid,
  Attributes: '{}',
  DateCreated: new Date().toISOString(),
  RetryCount: '0',
  RoleSid: sid('RL'),
  Source: 'API',
  'MessagingBinding.Address': address,
  'MessagingBinding.ProxyAddress': address.startsWith('whatsapp:') ? 'whatsapp:+15550000000' : '+15550000000',
  'MessagingBinding.Type': address.startsWith('whatsapp:') ? 'whatsapp' : 'sms',
  ...extra,
});

for (const kind of storeKinds()) {
  describe(`Conversations webhooks on ${kind}`, () => {
    let db: TestDatabase;
    let fake: FakeTwilio;
    let service: TestService;

    before(async () => {
      db = await createTestDatabase(kind);
      fake = await new FakeTwilio({ username: 'SK0123456789abcdef0123456789abcdef', password: 'api-key-secret' }).start();
      // An API key instead of the auth token: the key is what the fake accepts.
      service = await startService(db, {
        TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
        TWILIO_API_KEY_SID: 'SK0123456789abcdef0123456789abcdef',
        TWILIO_API_KEY_SECRET: 'api-key-secret',
        TWILIO_API_BASE_URL: fake.url,
      });
      await seed(service.store, customers);
    });
    after(async () => {
      await service?.close();
      await fake?.close();
      await db?.drop();
    });
    beforeEach(() => fake.reset());

    describe('onConversationAdd', () => {
      for (const path of ['/callbacks/conversations', '/callbacks/twilio-conversations']) {
        test(`a known customer names the conversation and sets the avatar (${path})`, async () => {
          const res = await service.post(path, conversationAdd('+15551230001'));
          assert.equal(res.status, 200);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          assert.deepEqual(res.json, { friendly_name: 'Ann Example', attributes: '{"avatar":"https://example.com/ann.png"}' });
          assert.equal(typeof res.json.attributes, 'string');
        });
      }

      test('the address is normalised: national and whatsapp: forms find the customer', async () => {
        const national = await service.post('/callbacks/conversations', conversationAdd('(555) 123-0001'));
        assert.equal(national.json.friendly_name, 'Ann Example');
        const whatsapp = await service.post('/callbacks/conversations', conversationAdd('whatsapp:+15551230002'));
        assert.deepEqual(whatsapp.json, { friendly_name: 'Ben Example', attributes: '{}' });
      });

      test("an unknown sender: the conversation is named after the sender's address", async () => {
        const res = await service.post('/callbacks/conversations', conversationAdd('whatsapp:+15559990001'));
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { friendly_name: 'whatsapp:+15559990001', attributes: '{}' });
      });

      test('no address (not an inbound message): a plain 200', async () => {
        const res = await service.post('/callbacks/conversations', conversationAdd());
        assert.equal(res.status, 200);
        assert.equal(res.text, '');
        assert.equal(fake.calls.length, 0);
      });
    });

    describe('onParticipantAdded', () => {
      const attributesOf = (ch: string, mb: string) =>
        JSON.parse(fake.participants(ch).find((p) => p.sid === mb)?.attributes ?? 'null');

      test('merges customer_id, display_name and avatar, keeping every existing key', async () => {
        const ch = fake.createConversation();
        const p = fake.addCustomerParticipant(ch, '+15551230001', '{"source":"sms","tags":["vip"],"display_name":"old name"}');
        const res = await service.post('/callbacks/conversations', participantAdded(ch, p.sid, '+15551230001'));
        assert.equal(res.status, 200);
        assert.deepEqual(attributesOf(ch, p.sid), {
          source: 'sms',
          tags: ['vip'],
          display_name: 'Ann Example',
          customer_id: 'cust-ann',
          avatar: 'https://example.com/ann.png',
        });
        assert.deepEqual(
          fake.calls.map((c) => `${c.method} ${c.path}`),
          [`GET /v1/Conversations/${ch}/Participants/${p.sid}`, `POST /v1/Conversations/${ch}/Participants/${p.sid}`],
        );
        assert.deepEqual(Object.keys(fake.calls[1]?.form ?? {}), ['Attributes']);
        assert.equal(fake.calls[0]?.username, 'SK0123456789abcdef0123456789abcdef');
      });

      test('a whatsapp participant of a customer stored with a whatsapp channel, no avatar: none invented', async () => {
        const ch = fake.createConversation();
        const p = fake.addCustomerParticipant(ch, 'whatsapp:+15551230002');
        await service.post('/callbacks/conversations', participantAdded(ch, p.sid, 'whatsapp:+15551230002'));
        assert.deepEqual(attributesOf(ch, p.sid), { customer_id: 'cust-ben', display_name: 'Ben Example' });
      });

      test('an existing customer_id is never overwritten, and then nothing is changed', async () => {
        const ch = fake.createConversation();
        const existing = '{"customer_id":"crm-42","note":"linked by hand"}';
        const p = fake.addCustomerParticipant(ch, '+15551230001', existing);
        const res = await service.post('/callbacks/conversations', participantAdded(ch, p.sid, '+15551230001'));
        assert.equal(res.status, 200);
        assert.equal(fake.participants(ch)[0]?.attributes, existing);
        assert.equal(fake.callsTo(/Participants\/MB/, 'POST').length, 0);
      });

      test('nothing changed: fetched, not updated; a repeated delivery is therefore harmless', async () => {
        const ch = fake.createConversation();
        const p = fake.addCustomerParticipant(ch, '+15551230001');
        await service.post('/callbacks/conversations', participantAdded(ch, p.sid, '+15551230001'));
        const tagged = fake.participants(ch)[0]?.attributes;
        fake.reset();
        const again = await service.post('/callbacks/conversations', participantAdded(ch, p.sid, '+15551230001', { RetryCount: '1' }));
        assert.equal(again.status, 200);
        assert.deepEqual(fake.calls.map((c) => c.method), ['GET']);
        assert.equal(fake.participants(ch)[0]?.attributes, tagged);
      });

      test('a chat participant (a worker, with Identity) or an unknown customer: no API call', async () => {
        const ch = fake.createConversation();
        const worker = await service.post('/callbacks/conversations', {
          EventType: 'onParticipantAdded',
          ConversationSid: ch,
          ParticipantSid: sid('MB'),
          Identity: 'alice@example.com',
          Attributes: '{}',
        });
        const p = fake.addCustomerParticipant(ch, '+15559990001');
        const unknown = await service.post('/callbacks/conversations', participantAdded(ch, p.sid, '+15559990001'));
        assert.equal(worker.status, 200);
        assert.equal(unknown.status, 200);
        assert.equal(fake.calls.length, 0);
      });

      test('the not-ready-yet 404, 429 and 500 are retried; the update then lands', async () => {
        const ch = fake.createConversation();
        const p = fake.addCustomerParticipant(ch, '+15551230001', '{"keep":true}');
        fake.inject({ status: 404 }, { status: 429 }, { status: 500 });
        const started = Date.now();
        const res = await service.post('/callbacks/conversations', participantAdded(ch, p.sid, '+15551230001'));
        assert.equal(res.status, 200);
        assert.ok(Date.now() - started < 4000);
        assert.deepEqual(fake.calls.map((c) => c.status), [404, 429, 500, 200, 200]);
        assert.equal(attributesOf(ch, p.sid).keep, true);
        assert.equal(attributesOf(ch, p.sid).customer_id, 'cust-ann');
      });

      for (const [label, fault] of [
        ['fails with 500 on every attempt', { status: 500 }],
        ['never answers in time', { delayMs: 6000 }],
      ] as const) {
        test(`an API that ${label}: still 200, inside 5 s`, async () => {
          const ch = fake.createConversation();
          const p = fake.addCustomerParticipant(ch, '+15551230001');
          fake.always(fault);
          const started = Date.now();
          const res = await service.post('/callbacks/conversations', participantAdded(ch, p.sid, '+15551230001'));
          const elapsed = Date.now() - started;
          fake.always(undefined);
          assert.equal(res.status, 200);
          assert.ok(elapsed < 4600, `took ${elapsed} ms`);
          assert.ok(fake.calls.length >= 2, `attempts: ${fake.calls.length}`);
          assert.equal(fake.participants(ch)[0]?.attributes, '{}');
          const metrics = await service.get('/metrics');
          assert.match(metrics.text, /^fis_participant_tagging_total\{outcome="failed"\} [1-9]/m);
        });
      }
    });

    test('other event types: 200 and nothing done', async () => {
      for (const EventType of ['onMessageAdded', 'onConversationUpdated', 'onConversationStateUpdated']) {
        const res = await service.post('/callbacks/conversations', {
          EventType,
          ConversationSid: fake.createConversation(),
          Body: 'hello',
        });
        assert.equal(res.status, 200);
        assert.equal(res.text, '');
      }
      assert.equal(fake.calls.length, 0);
    });

    test('the same signature check as every callback', async () => {
      const res = await service.post('/callbacks/conversations', conversationAdd('+15551230001'), { signature: false });
      assert.equal(res.status, 403);
      const alias = await service.post('/callbacks/twilio-conversations', conversationAdd('+15551230001'), {
        authToken: 'not-the-token',
      });
      assert.equal(alias.status, 403);
    });
  });
}
