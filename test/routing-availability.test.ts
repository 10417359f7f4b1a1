/**
 * Inbound routing respects who can take a conversation, at the wire, on both
 * stores: a deactivated rep is never chosen; with ROUTING_SKIP_UNAVAILABLE=true
 * an unavailable rep is passed over; the choice falls through to the next
 * rule, and the reply and /metrics say who was passed over and why.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { rankOwners } from '../src/domains/routing/worker-choice.js';
import { FAKE_ACCOUNT_SID, FakeTwilio, sid } from './helpers/fake-twilio.js';
import { type Params, type TestService, startService } from './helpers/service.js';
import { loadWorkers } from './helpers/settings.js';
import { AUTH_TOKEN, createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const GONE = 'gone@example.com'; // deactivated
const AWAY = 'away@example.com'; // active, not available
const HERE = 'here@example.com'; // active, available
const REP = 'rep@example.com'; // owns a per-rep number; deactivated in one test
const TEAM = ['team.one@example.com', 'team.two@example.com'];
const SHARED_NUMBER = '+15550000000';
const REP_NUMBER = '+15557770001';

const customers: CustomerRecord[] = [
  { customer_id: 'only-gone', display_name: 'Only Gone', workers: [GONE], channels: [{ type: 'sms', value: '+15551230001' }] },
  { customer_id: 'gone-and-here', display_name: 'Two Owners', workers: [GONE, HERE], channels: [{ type: 'sms', value: '+15551230002' }] },
  { customer_id: 'only-away', display_name: 'Only Away', workers: [AWAY], channels: [{ type: 'sms', value: '+15551230003' }] },
  { customer_id: 'away-and-here', display_name: 'Away Or Here', workers: [AWAY, HERE], channels: [{ type: 'sms', value: '+15551230004' }] },
];

const params = (conversationSid: string, address: string, proxy = SHARED_NUMBER): Params => ({
  AccountSid: FAKE_ACCOUNT_SID,
  ConversationSid: conversationSid,
  ConversationServiceSid: sid('IS'),
  'MessagingBinding.Address': address,
  'MessagingBinding.ProxyAddress': proxy,
});

for (const kind of storeKinds()) {
  describe(`routing and rep state on ${kind}`, () => {
    let db: TestDatabase;
    let fake: FakeTwilio;
    /** Default: unavailable reps are still chosen; a default team of two. */
    let lenient: TestService;
    /** ROUTING_SKIP_UNAVAILABLE=true, same team. */
    let strict: TestService;

    const inbound = (address: string) => {
      const ch = fake.createConversation();
      fake.addCustomerParticipant(ch, address);
      return ch;
    };
    const added = (ch: string) => fake.participants(ch).filter((p) => p.identity !== null).map((p) => p.identity);
    const counter = async (service: TestService, reason: string, rule: string) => {
      const text = (await service.get('/metrics')).text;
      const line = new RegExp(`^fis_routing_passed_over_total\\{reason="${reason}",rule="${rule}"\\} (\\d+)$`, 'm').exec(text);
      return Number(line?.[1] ?? 0);
    };

    before(async () => {
      db = await createTestDatabase(kind);
      fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
      const env = {
        TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
        TWILIO_API_BASE_URL: fake.url,
        ROUTING_RETRY_AFTER_REPLY_MS: '0',
        ROUTING_DEFAULT_WORKERS: TEAM.join(','),
      };
      lenient = await startService(db, env);
      strict = await startService(db, { ...env, ROUTING_SKIP_UNAVAILABLE: 'true' });
      await seed(lenient.store, customers);
      await lenient.store.db
        .insertInto('sender_addresses')
        .values([
          { channel_type: 'sms', address: SHARED_NUMBER, e164: SHARED_NUMBER, worker: null, countries: '[]', position: 1 },
          { channel_type: 'sms', address: REP_NUMBER, e164: REP_NUMBER, worker: REP, countries: '[]', position: 2 },
        ])
        .execute();
    });
    after(async () => {
      await Promise.all([lenient?.close(), strict?.close()]);
      await fake?.close();
      await db?.drop();
    });
    beforeEach(async () => {
      fake.reset();
      await loadWorkers(
        lenient.store,
        [
          { identity: GONE, display_name: 'Gone Rep', state: 'deactivated' },
          { identity: AWAY, available: false },
          { identity: HERE },
          { identity: REP },
        ],
        true,
      );
    });

    test("a customer whose only owner is deactivated goes to the owner of the number texted; the reply and /metrics say why", async () => {
      const before = await counter(lenient, 'deactivated', 'owner');
      const ch = inbound('+15551230001');
      const res = await lenient.post('/callbacks/routing', params(ch, '+15551230001', REP_NUMBER));
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, {
        outcome: 'routed',
        worker: REP,
        via: 'sender_address',
        customer_id: 'only-gone',
        passed_over: [{ worker: GONE, reason: 'deactivated', rule: 'owner' }],
      });
      assert.deepEqual(added(ch), [REP]);
      assert.equal(await counter(lenient, 'deactivated', 'owner'), before + 1);
    });

    test('… and to the default team when the number texted is shared; the customer stays theirs in the store', async () => {
      const ch = inbound('+15551230001');
      const res = await lenient.post('/callbacks/routing', params(ch, '+15551230001'));
      assert.equal(res.json.outcome, 'routed');
      assert.equal(res.json.via, 'default_team');
      assert.ok(TEAM.includes(res.json.worker), res.json.worker);
      assert.deepEqual(res.json.passed_over, [{ worker: GONE, reason: 'deactivated', rule: 'owner' }]);
      assert.deepEqual(added(ch), [res.json.worker]);
      const owners = await lenient.store.db.selectFrom('customer_owners').select('worker').where('customer_id', '=', 'only-gone').execute();
      assert.deepEqual(owners.map((o) => o.worker), [GONE]);
    });

    test('a deactivated owner of the number texted is passed over too, then the default team', async () => {
      await loadWorkers(lenient.store, [{ identity: REP, state: 'deactivated' }]);
      const ch = inbound('+15559990001');
      const res = await lenient.post('/callbacks/routing', params(ch, '+15559990001', REP_NUMBER));
      assert.equal(res.json.via, 'default_team');
      assert.deepEqual(res.json.passed_over, [{ worker: REP, reason: 'deactivated', rule: 'sender_address' }]);
    });

    test('with two owners, the active one gets it, whichever of the two the customer hashes to', async () => {
      const ch = inbound('+15551230002');
      const res = await lenient.post('/callbacks/routing', params(ch, '+15551230002'));
      assert.equal(res.json.worker, HERE);
      assert.equal(res.json.via, 'owner');
      assert.deepEqual(added(ch), [HERE]);
      // Passed over only when the deactivated rep ranked first for this customer.
      const expected = rankOwners('gone-and-here', [GONE, HERE])[0] === GONE ? [{ worker: GONE, reason: 'deactivated', rule: 'owner' }] : undefined;
      assert.deepEqual(res.json.passed_over, expected);
      // Reactivated: the rendezvous choice among both again.
      await loadWorkers(lenient.store, [{ identity: GONE }]);
      const again = await lenient.post('/callbacks/routing', params(inbound('+15551230002'), '+15551230002'));
      assert.equal(again.json.worker, rankOwners('gone-and-here', [GONE, HERE])[0]);
      assert.equal(again.json.passed_over, undefined);
    });

    test('an unavailable owner still gets the conversation by default (ROUTING_SKIP_UNAVAILABLE=false)', async () => {
      const ch = inbound('+15551230003');
      const res = await lenient.post('/callbacks/routing', params(ch, '+15551230003'));
      assert.deepEqual(res.json, { outcome: 'routed', worker: AWAY, via: 'owner', customer_id: 'only-away' });
    });

    test('with ROUTING_SKIP_UNAVAILABLE=true an unavailable owner is passed over: to the other owner, else the next rule', async () => {
      const before = await counter(strict, 'unavailable', 'owner');
      const two = await strict.post('/callbacks/routing', params(inbound('+15551230004'), '+15551230004'));
      assert.equal(two.json.worker, HERE);
      assert.equal(two.json.via, 'owner');
      const ch = inbound('+15551230003');
      const one = await strict.post('/callbacks/routing', params(ch, '+15551230003'));
      assert.equal(one.json.via, 'default_team');
      assert.deepEqual(one.json.passed_over, [{ worker: AWAY, reason: 'unavailable', rule: 'owner' }]);
      assert.deepEqual(added(ch), [one.json.worker]);
      const passedForTwo = rankOwners('away-and-here', [AWAY, HERE])[0] === AWAY ? 1 : 0;
      assert.equal(await counter(strict, 'unavailable', 'owner'), before + 1 + passedForTwo);
    });

    test('a default team of three with one deactivated: the other two share the conversations evenly', async () => {
      const trio = ['trio.a@example.com', 'trio.b@example.com', 'trio.c@example.com'];
      const service = await startService(db, {
        TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
        TWILIO_API_BASE_URL: fake.url,
        ROUTING_RETRY_AFTER_REPLY_MS: '0',
        ROUTING_DEFAULT_WORKERS: trio.join(','),
      });
      try {
        await loadWorkers(service.store, [{ identity: trio[1] as string, state: 'deactivated' }]);
        const counts = new Map<string, number>();
        for (let i = 0; i < 20; i++) {
          const address = `+155566600${String(i).padStart(2, '0')}`;
          const res = await service.post('/callbacks/routing', params(inbound(address), address));
          assert.equal(res.json.via, 'default_team');
          counts.set(res.json.worker, (counts.get(res.json.worker) ?? 0) + 1);
        }
        assert.deepEqual(Object.fromEntries(counts), { [trio[0] as string]: 10, [trio[2] as string]: 10 });
      } finally {
        await service.close();
      }
    });

    test('the default team turns round the reps who can take it; nobody able: unrouted, with the reasons', async () => {
      await loadWorkers(lenient.store, [{ identity: TEAM[0] as string, state: 'deactivated' }, { identity: TEAM[1] as string }]);
      let passed = 0;
      for (let i = 0; i < 4; i++) {
        const res = await lenient.post('/callbacks/routing', params(inbound(`+1555888000${i}`), `+1555888000${i}`));
        assert.equal(res.json.worker, TEAM[1]);
        if (res.json.passed_over) {
          assert.deepEqual(res.json.passed_over, [{ worker: TEAM[0], reason: 'deactivated', rule: 'default_team' }]);
          passed++;
        }
      }
      // Four turns in a row: two of them were the deactivated rep's.
      assert.equal(passed, 2);
      await loadWorkers(lenient.store, [{ identity: TEAM[1] as string, available: false }]);
      // Lenient: the unavailable one still takes it.
      assert.equal((await lenient.post('/callbacks/routing', params(inbound('+15558880010'), '+15558880010'))).json.worker, TEAM[1]);
      // Strict: nobody is left.
      const ch = inbound('+15551230001');
      const res = await strict.post('/callbacks/routing', params(ch, '+15551230001'));
      assert.equal(res.status, 200);
      assert.equal(res.json.outcome, 'unrouted');
      assert.deepEqual(
        [...res.json.passed_over].sort((a: { rule: string; worker: string }, b: { rule: string; worker: string }) =>
          `${a.rule}${a.worker}`.localeCompare(`${b.rule}${b.worker}`),
        ),
        [
          { worker: TEAM[0], reason: 'deactivated', rule: 'default_team' },
          { worker: TEAM[1], reason: 'unavailable', rule: 'default_team' },
          { worker: GONE, reason: 'deactivated', rule: 'owner' },
        ],
      );
      assert.deepEqual(added(ch), []);
    });
  });
}
