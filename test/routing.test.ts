/**
 * `POST /callbacks/routing` at the wire level, on both stores: signed form
 * requests in, the real Conversations client out to a local fake of Twilio's API.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { pickOwner } from '../src/domains/routing/worker-choice.js';
import { FAKE_ACCOUNT_SID, FakeTwilio, sid } from './helpers/fake-twilio.js';
import { type Params, type TestService, startService } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const REP = 'rep.dana@example.com';
const TEAM = ['team.one@example.com', 'team.two@example.com', 'team.three@example.com'];
const TWILIO_NUMBER = '+15550000000';
const REP_NUMBER = '+15557770001';

const customers: CustomerRecord[] = [
  {
    customer_id: 'cust-ann',
    display_name: 'Ann Example',
    workers: [ALICE],
    channels: [{ type: 'sms', value: '+15551230001' }],
    avatar: 'https://example.com/ann.png',
  },
  {
    customer_id: 'cust-ben',
    display_name: 'Ben Example',
    workers: [BOB],
    channels: [{ type: 'whatsapp', value: 'whatsapp:+15551230002' }],
  },
  { customer_id: 'cust-shared', display_name: 'Shared Example', workers: [ALICE, BOB, CAROL], channels: [{ type: 'sms', value: '+15551230003' }] },
  // Many customers with the same three owners: the owner choice must spread them.
  ...Array.from({ length: 90 }, (_, i) => ({
    customer_id: `cust-many-${i}`,
    display_name: `Many ${i}`,
    workers: [ALICE, BOB, CAROL],
    channels: [{ type: 'sms' as const, value: `+1555124${String(i).padStart(4, '0')}` }],
  })),
];

const routingParams = (conversationSid: string, address: string, proxy = TWILIO_NUMBER): Params => ({
  AccountSid: FAKE_ACCOUNT_SID,
  ConversationSid: conversationSid,
  ConversationServiceSid: sid('IS'),
  FriendlyName: '',
  Attributes: '{}',
  State: 'active',
  DateCreated: new Date().toISOString(),
  'MessagingBinding.Address': address,
  'MessagingBinding.ProxyAddress': proxy,
});

for (const kind of storeKinds()) {
  describe(`routing callback on ${kind}`, () => {
    let db: TestDatabase;
    let fake: FakeTwilio;
    /** No default team, no auto-create. */
    let plain: TestService;
    /** Two instances with a default team of three; auto-create on. */
    let teamA: TestService;
    let teamB: TestService;

    const twilioEnv = () => ({
      TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
      TWILIO_API_BASE_URL: fake.url,
      TWILIO_API_BUDGET_MS: '4000',
      TWILIO_API_ATTEMPT_TIMEOUT_MS: '1500',
      // Retries after the reply have their own tests below, with their own service.
      ROUTING_RETRY_AFTER_REPLY_MS: '0',
    });

    /** A conversation Twilio has just created for an inbound message from `address`. */
    const inbound = (address: string) => {
      const ch = fake.createConversation();
      fake.addCustomerParticipant(ch, address);
      return ch;
    };
    const added = (ch: string) => fake.participants(ch).filter((p) => p.identity !== null).map((p) => p.identity);

    before(async () => {
      db = await createTestDatabase(kind);
      fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
      plain = await startService(db, twilioEnv());
      const teamEnv = { ...twilioEnv(), ROUTING_DEFAULT_WORKERS: TEAM.join(', '), ROUTING_AUTO_CREATE_CUSTOMERS: 'true' };
      teamA = await startService(db, teamEnv);
      teamB = await startService(db, teamEnv);
      await seed(plain.store, customers);
      await plain.store.db
        .insertInto('sender_addresses')
        .values([
          { channel_type: 'sms', address: TWILIO_NUMBER, e164: TWILIO_NUMBER, worker: null, countries: '[]', position: 1 },
          { channel_type: 'sms', address: REP_NUMBER, e164: REP_NUMBER, worker: REP, countries: '[]', position: 2 },
          { channel_type: 'whatsapp', address: `whatsapp:${REP_NUMBER}`, e164: REP_NUMBER, worker: REP, countries: '[]', position: 3 },
        ])
        .execute();
    });
    after(async () => {
      await Promise.all([plain?.close(), teamA?.close(), teamB?.close()]);
      await fake?.close();
      await db?.drop();
    });
    beforeEach(() => fake.reset());

    test('a known customer goes to their owner, added as a chat participant with the account credentials', async () => {
      const ch = inbound('+15551230001');
      const res = await plain.post('/callbacks/routing', routingParams(ch, '+15551230001'));
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { outcome: 'routed', worker: ALICE, via: 'owner', customer_id: 'cust-ann' });
      assert.deepEqual(added(ch), [ALICE]);
      const [call] = fake.callsTo(/\/Participants$/, 'POST');
      assert.equal(call?.path, `/v1/Conversations/${ch}/Participants`);
      assert.deepEqual(call?.form, { Identity: ALICE });
      assert.equal(call?.username, FAKE_ACCOUNT_SID);
    });

    for (const [label, address, expected] of [
      ['national format', '(555) 123-0001', ALICE],
      ['E.164 with spaces', '+1 555 123 0001', ALICE],
      ['whatsapp: prefix', 'whatsapp:+15551230002', BOB],
      ['whatsapp: prefix on a customer stored as sms', 'whatsapp:+15551230001', ALICE],
      ['national number of a whatsapp customer', '555-123-0002', BOB],
    ] as const) {
      test(`the sender's address is normalised, never compared as a string: ${label}`, async () => {
        const ch = inbound(address);
        const res = await plain.post('/callbacks/routing', routingParams(ch, address));
        assert.equal(res.status, 200);
        assert.equal(res.json.outcome, 'routed');
        assert.equal(res.json.via, 'owner');
        assert.deepEqual(added(ch), [expected]);
      });
    }

    test('several owners: the same customer always lands with the same owner, on any instance', async () => {
      const winners = new Set<string>();
      for (const service of [plain, teamA, teamB, plain]) {
        const ch = inbound('+15551230003');
        const res = await service.post('/callbacks/routing', routingParams(ch, '+15551230003'));
        assert.equal(res.json.via, 'owner');
        winners.add(res.json.worker);
      }
      assert.equal(winners.size, 1);
      assert.deepEqual([...winners], [pickOwner('cust-shared', [ALICE, BOB, CAROL])]);
    });

    test('several owners: over many customers each owner gets a fair share', async () => {
      const counts = new Map<string, number>();
      for (let i = 0; i < 90; i++) {
        const address = `+1555124${String(i).padStart(4, '0')}`;
        const res = await plain.post('/callbacks/routing', routingParams(inbound(address), address));
        assert.equal(res.json.via, 'owner');
        counts.set(res.json.worker, (counts.get(res.json.worker) ?? 0) + 1);
      }
      assert.deepEqual([...counts.keys()].sort(), [ALICE, BOB, CAROL]);
      for (const [worker, n] of counts) assert.ok(n >= 15 && n <= 45, `${worker} got ${n} of 90`);
    });

    test('an unknown sender who texted a per-rep number goes to that rep (sms and whatsapp forms)', async () => {
      for (const proxy of [REP_NUMBER, `whatsapp:${REP_NUMBER}`, '(555) 777-0001']) {
        const ch = inbound('+15559990001');
        const res = await plain.post('/callbacks/routing', routingParams(ch, '+15559990001', proxy));
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { outcome: 'routed', worker: REP, via: 'sender_address' });
        assert.deepEqual(added(ch), [REP]);
      }
    });

    test("the customer's owner wins over the owner of the number texted", async () => {
      const ch = inbound('+15551230001');
      const res = await plain.post('/callbacks/routing', routingParams(ch, '+15551230001', REP_NUMBER));
      assert.equal(res.json.worker, ALICE);
      assert.equal(res.json.via, 'owner');
    });

    test('otherwise the default team, round-robin, exact across two instances under concurrency', async () => {
      const conversations = Array.from({ length: 30 }, (_, i) => inbound(`+1555888${String(i).padStart(4, '0')}`));
      // Auto-create is on for the team services; use a shared number so every sender is unknown and unowned.
      const replies = await Promise.all(
        conversations.map((ch, i) =>
          (i % 2 === 0 ? teamA : teamB).post('/callbacks/routing', routingParams(ch, `+1555888${String(i).padStart(4, '0')}`)),
        ),
      );
      const counts = new Map<string, number>();
      for (const res of replies) {
        assert.equal(res.status, 200);
        assert.equal(res.json.via, 'default_team');
        counts.set(res.json.worker, (counts.get(res.json.worker) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries(counts), Object.fromEntries(TEAM.map((w) => [w, 10])));
      for (const ch of conversations) assert.equal(added(ch).length, 1);
    });

    test('no owner, no per-rep number, no default team: left unrouted, logged and counted in /metrics', async () => {
      const metricLine = /^fis_routing_total\{outcome="unrouted",via="none"\} (\d+)$/m;
      const before = Number(metricLine.exec((await plain.get('/metrics')).text)?.[1]);
      const ch = inbound('+15559990002');
      const res = await plain.post('/callbacks/routing', routingParams(ch, '+15559990002'));
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { outcome: 'unrouted' });
      assert.equal(fake.calls.length, 0);
      const metrics = await plain.get('/metrics');
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(Number(metricLine.exec(metrics.text)?.[1]), before + 1);
    });

    test('unknown sender without auto-create: routed, no customer record written', async () => {
      const ch = inbound('+15559990003');
      const res = await plain.post('/callbacks/routing', routingParams(ch, '+15559990003', REP_NUMBER));
      assert.equal(res.json.outcome, 'routed');
      assert.equal(res.json.customer_created, undefined);
      const rows = await plain.store.db.selectFrom('customers').select('pk').where('customer_id', '=', 'inbound:+15559990003').execute();
      assert.equal(rows.length, 0);
    });

    test('unknown sender with auto-create: a customer owned by the chosen worker, in their My Customers, routed to them next time', async () => {
      const ch = inbound('whatsapp:+15559990004');
      const res = await teamA.post('/callbacks/routing', routingParams(ch, 'whatsapp:+15559990004', REP_NUMBER));
      assert.deepEqual(res.json, {
        outcome: 'routed',
        worker: REP,
        via: 'sender_address',
        customer_id: 'inbound:+15559990004',
        customer_created: true,
      });
      const list = await teamA.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: REP, PageSize: '50' });
      assert.deepEqual(list.json.objects.customers, [{ customer_id: 'inbound:+15559990004', display_name: '+15559990004' }]);
      const details = await teamA.post('/callbacks/crm', {
        Location: 'GetCustomerDetailsByCustomerId',
        Worker: REP,
        CustomerId: 'inbound:+15559990004',
      });
      assert.deepEqual(details.json.objects.customer.channels, [{ type: 'whatsapp', value: 'whatsapp:+15559990004' }]);

      // The next conversation from that sender (national format, via the shared number) finds its owner.
      const next = inbound('555 999 0004');
      const again = await teamB.post('/callbacks/routing', routingParams(next, '555 999 0004'));
      assert.deepEqual(again.json, { outcome: 'routed', worker: REP, via: 'owner', customer_id: 'inbound:+15559990004' });
    });

    test('a repeated delivery (same idempotency token) does not add a worker twice or advance the round-robin', async () => {
      const ch = inbound('+15559990005');
      const headers = { 'i-twilio-idempotency-token': 'token-5' };
      const first = await teamA.post('/callbacks/routing', routingParams(ch, '+15559990005'), { headers });
      const second = await teamB.post('/callbacks/routing', routingParams(ch, '+15559990005'), { headers });
      assert.equal(first.json.outcome, 'routed');
      assert.deepEqual(second.json, { outcome: 'duplicate', worker: first.json.worker });
      assert.equal(fake.callsTo(/\/Participants$/, 'POST').length, 1);
      assert.deepEqual(added(ch), [first.json.worker]);
      const cursor = await teamA.store.db.selectFrom('routing_cursors').select('next').executeTakeFirstOrThrow();
      const after = await teamA.post('/callbacks/routing', routingParams(ch, '+15559990005'));
      assert.equal(after.json.outcome, 'duplicate');
      const cursorAfter = await teamA.store.db.selectFrom('routing_cursors').select('next').executeTakeFirstOrThrow();
      assert.equal(Number(cursorAfter.next), Number(cursor.next));
    });

    test('concurrent duplicate deliveries on two instances: exactly one participant call', async () => {
      const ch = inbound('+15551230001');
      fake.inject({ delayMs: 300 });
      const replies = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? teamA : teamB).post('/callbacks/routing', routingParams(ch, '+15551230001'))),
      );
      const outcomes = replies.map((r) => r.json.outcome).sort();
      assert.equal(outcomes.filter((o) => o === 'routed').length, 1);
      assert.ok(outcomes.every((o) => ['routed', 'in_progress', 'duplicate'].includes(o)), outcomes.join());
      assert.equal(fake.callsTo(/\/Participants$/, 'POST').length, 1);
      assert.deepEqual(added(ch), [ALICE]);
    });

    test("Twilio's 'participant already exists' (409, 50433) counts as routed", async () => {
      const ch = inbound('+15551230001');
      // Someone (another instance whose reply was lost, or Twilio itself) already added the worker.
      await fetch(`${fake.url}/v1/Conversations/${ch}/Participants`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${FAKE_ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ Identity: ALICE }).toString(),
      });
      const res = await plain.post('/callbacks/routing', routingParams(ch, '+15551230001'));
      assert.equal(res.json.outcome, 'routed');
      assert.equal(fake.calls.at(-1)?.status, 409);
      assert.deepEqual(added(ch), [ALICE]);
    });

    test('429, 500 and the not-ready-yet 404 are retried with backoff within the budget', async () => {
      const ch = inbound('+15551230001');
      fake.inject({ status: 404 }, { status: 429 }, { status: 500 }, { status: 503 });
      const started = Date.now();
      const res = await plain.post('/callbacks/routing', routingParams(ch, '+15551230001'));
      const elapsed = Date.now() - started;
      assert.equal(res.json.outcome, 'routed');
      assert.deepEqual(
        fake.callsTo(/\/Participants$/, 'POST').map((c) => c.status),
        [404, 429, 500, 503, 201],
      );
      assert.ok(elapsed < 4000, `took ${elapsed} ms`);
      const gaps = fake.calls.slice(1).map((c, i) => c.at - (fake.calls[i]?.at ?? 0));
      assert.ok(gaps.every((g) => g >= 0 && g < 1500), `gaps ${gaps.join(',')}`);
    });

    test('a 4xx that is no race (400) is not retried', async () => {
      const ch = inbound('+15551230001');
      fake.inject({ status: 400, code: 50400 });
      const res = await plain.post('/callbacks/routing', routingParams(ch, '+15551230001'));
      assert.equal(res.status, 200);
      assert.equal(res.json.outcome, 'failed');
      assert.equal(fake.calls.length, 1);
    });

    for (const [label, fault, sender] of [
      ['answers 500 forever', { status: 500 }, '+15559990006'],
      ['answers 429 with a long Retry-After', { status: 429, retryAfterSeconds: 30 }, '+15559990007'],
      ['is too slow to answer', { delayMs: 6000 }, '+15559990008'],
    ] as const) {
      test(`an API that ${label}: reply 200 "failed" well inside 5 s; a redelivery later routes to the same worker`, async () => {
        const ch = inbound(sender);
        fake.always(fault);
        const started = Date.now();
        const res = await teamA.post('/callbacks/routing', routingParams(ch, sender));
        const elapsed = Date.now() - started;
        fake.always(undefined);
        assert.equal(res.status, 200);
        assert.equal(res.json.outcome, 'failed');
        assert.equal(res.json.via, 'default_team');
        assert.ok(elapsed < 4600, `took ${elapsed} ms`);
        assert.ok(fake.calls.length >= 1);
        assert.deepEqual(added(ch), []);

        const retry = await teamB.post('/callbacks/routing', routingParams(ch, sender));
        // The first attempt already wrote the customer record (auto-create is on for this instance).
        assert.deepEqual(retry.json, { outcome: 'routed', worker: res.json.worker, via: 'earlier_choice', customer_id: `inbound:${sender}` });
        assert.deepEqual(added(ch), [res.json.worker]);
      });
    }

    describe('retries after the reply', () => {
      let retrying: TestService;
      before(async () => {
        retrying = await startService(db, {
          ...twilioEnv(),
          TWILIO_API_BUDGET_MS: '400',
          TWILIO_API_ATTEMPT_TIMEOUT_MS: '200',
          ROUTING_DEFAULT_WORKERS: TEAM.join(','),
          ROUTING_RETRY_AFTER_REPLY_MS: '250',
        });
      });
      after(async () => retrying?.close());

      const claimOf = (ch: string) =>
        retrying.store.db.selectFrom('routing_claims').selectAll().where('conversation_sid', '=', ch).executeTakeFirstOrThrow();
      const waitFor = async (what: () => Promise<boolean>, ms: number) => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          if (await what()) return true;
          await new Promise((r) => setTimeout(r, 50));
        }
        return false;
      };

      test('a routing that failed within the budget is completed after the reply, without a redelivery', async () => {
        const ch = inbound('+15559990010');
        fake.always({ status: 503 });
        const res = await retrying.post('/callbacks/routing', routingParams(ch, '+15559990010'));
        fake.always(undefined);
        assert.equal(res.json.outcome, 'failed');
        // The claim is marked routed just after Twilio answers: wait for both.
        assert.ok(
          await waitFor(async () => added(ch).length > 0 && (await claimOf(ch)).state === 'routed', 3000),
          'the worker was added after the reply',
        );
        assert.deepEqual(added(ch), [res.json.worker]);
        const metrics = await retrying.get('/metrics');
        assert.match(metrics.text, /^fis_routing_total\{outcome="routed",via="retry_after_reply"\} [1-9]/m);
      });

      test('an API that stays down: three retries after the reply, then it stops (failed, logged, counted)', async () => {
        const ch = inbound('+15559990011');
        fake.always({ status: 500 });
        const res = await retrying.post('/callbacks/routing', routingParams(ch, '+15559990011'));
        assert.equal(res.json.outcome, 'failed');
        // 1 delivery + 3 retries (250, 500, 1000 ms after each failure), each within its own 400 ms budget.
        assert.ok(await waitFor(async () => (await claimOf(ch)).attempts === 4 && (await claimOf(ch)).state === 'failed', 6000));
        const calls = fake.callsTo(new RegExp(`${ch}/Participants$`)).length;
        await new Promise((r) => setTimeout(r, 2500));
        assert.equal(fake.callsTo(new RegExp(`${ch}/Participants$`)).length, calls, 'no further attempts');
        fake.always(undefined);
        assert.deepEqual(added(ch), []);
      });
    });

    test('unsigned or wrongly signed requests are refused before anything happens', async () => {
      const ch = inbound('+15551230001');
      const unsigned = await plain.post('/callbacks/routing', routingParams(ch, '+15551230001'), { signature: false });
      const forged = await plain.post('/callbacks/routing', routingParams(ch, '+15551230001'), { signature: 'bm9wZQ==' });
      assert.equal(unsigned.status, 403);
      assert.equal(forged.status, 403);
      assert.equal(fake.calls.length, 0);
      const claims = await plain.store.db.selectFrom('routing_claims').select('state').where('conversation_sid', '=', ch).execute();
      assert.equal(claims.length, 0);
    });

    test('a request without a valid ConversationSid is a 400', async () => {
      const res = await plain.post('/callbacks/routing', { 'MessagingBinding.Address': '+15551230001' });
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 'BAD_REQUEST');
    });
  });
}
