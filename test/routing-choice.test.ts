/**
 * Pure parts of routing (no store): owner choice, round-robin slots, address
 * normalisation, attribute merging; and the API client's deadline against the
 * local fake of Twilio.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/platform/config.js';
import { ConversationsClient, TwilioApiError } from '../src/platform/twilio/conversations-client.js';
import { lookupAddresses, mergeCustomerAttributes, pickOwner, roundRobin } from '../src/domains/routing/worker-choice.js';
import { FakeTwilio } from './helpers/fake-twilio.js';

describe('pickOwner (rendezvous hashing)', () => {
  const owners = ['a@x', 'b@x', 'c@x', 'd@x'];

  test('does not depend on the order owners are listed in', () => {
    for (let i = 0; i < 50; i++) {
      const id = `customer-${i}`;
      assert.equal(pickOwner(id, owners), pickOwner(id, [...owners].reverse()));
    }
  });

  test('removing an owner moves only the customers that owner had', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `c${i}`);
    const before = new Map(ids.map((id) => [id, pickOwner(id, owners)]));
    const fewer = owners.filter((o) => o !== 'b@x');
    for (const id of ids) {
      if (before.get(id) !== 'b@x') assert.equal(pickOwner(id, fewer), before.get(id));
    }
    const share = [...before.values()].filter((o) => o === 'b@x').length;
    assert.ok(share > 60 && share < 140, `b@x had ${share} of 400`);
  });

  test('no owners: none', () => {
    assert.equal(pickOwner('c1', []), undefined);
  });
});

test('roundRobin walks the team in order from cursor value 1', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => roundRobin(['x', 'y', 'z'], n)), ['x', 'y', 'z', 'x', 'y']);
  assert.equal(roundRobin([], 1), undefined);
});

test('lookupAddresses normalises phone numbers and e-mails, and refuses junk', () => {
  assert.deepEqual(lookupAddresses('whatsapp:+15551230001', 'US'), ['+15551230001']);
  assert.deepEqual(lookupAddresses('(555) 123-0001', 'US'), ['+15551230001']);
  assert.deepEqual(lookupAddresses('020 7946 0018', 'GB'), ['+442079460018']);
  assert.deepEqual(lookupAddresses('Ann@Example.COM', 'US'), ['ann@example.com']);
  assert.deepEqual(lookupAddresses('not a number', 'US'), []);
  assert.deepEqual(lookupAddresses(undefined, 'US'), []);
});

describe('mergeCustomerAttributes', () => {
  const ann = { customer_id: 'cust-ann', display_name: 'Ann', avatar: 'https://example.com/a.png' };

  test('adds the three keys and keeps the others in place', () => {
    assert.deepEqual(mergeCustomerAttributes('{"z":1,"nested":{"k":[1,2]}}', ann), {
      kind: 'changed',
      attributes: '{"z":1,"nested":{"k":[1,2]},"customer_id":"cust-ann","display_name":"Ann","avatar":"https://example.com/a.png"}',
    });
  });

  test('empty or missing attributes count as {}', () => {
    for (const empty of ['', undefined, null, '{}']) assert.equal(mergeCustomerAttributes(empty, ann).kind, 'changed');
  });

  test('unchanged when everything is already there (a numeric id equal to ours included)', () => {
    assert.deepEqual(mergeCustomerAttributes(JSON.stringify({ ...ann, x: 1 }), ann), { kind: 'unchanged' });
    assert.deepEqual(mergeCustomerAttributes('{"customer_id":42,"display_name":"N"}', { customer_id: '42', display_name: 'N' }), {
      kind: 'unchanged',
    });
  });

  test('another customer_id: left alone', () => {
    assert.deepEqual(mergeCustomerAttributes('{"customer_id":"other"}', ann), { kind: 'other_customer', customerId: 'other' });
  });

  test('an avatar the CRM lacks is not removed; a refreshed name is written', () => {
    const merged = mergeCustomerAttributes('{"customer_id":"c","display_name":"Old","avatar":"https://x/y.png"}', {
      customer_id: 'c',
      display_name: 'New',
      avatar: null,
    });
    assert.deepEqual(merged, { kind: 'changed', attributes: '{"customer_id":"c","display_name":"New","avatar":"https://x/y.png"}' });
  });

  test('attributes that are not a JSON object are never rewritten', () => {
    for (const bad of ['not json', '[1,2]', '"text"', 'null']) assert.deepEqual(mergeCustomerAttributes(bad, ann), { kind: 'unreadable' });
  });
});

describe('ConversationsClient deadline', () => {
  let fake: FakeTwilio;
  const credentials = { username: 'ACtest', password: 'secret' };
  before(async () => {
    fake = await new FakeTwilio(credentials).start();
  });
  after(async () => fake.close());

  const client = (budgetMs: number, attemptTimeoutMs: number) =>
    new ConversationsClient({ baseUrl: fake.url, credentials, budgetMs, attemptTimeoutMs });

  test('slow answers: each attempt is cut at its timeout and the whole call ends by the deadline', async () => {
    fake.reset();
    fake.always({ delayMs: 5000 });
    const outcomes: string[] = [];
    const observed = new ConversationsClient(
      { baseUrl: fake.url, credentials, budgetMs: 1200, attemptTimeoutMs: 400 },
      { attempt: (outcome) => outcomes.push(outcome) },
    );
    const started = Date.now();
    await assert.rejects(
      observed.fetchParticipant('CHx', 'MBx', { deadline: started + 1200, retryNotFound: true }),
      (err: unknown) => err instanceof TwilioApiError && err.status === 0,
    );
    const elapsed = Date.now() - started;
    fake.always(undefined);
    // Ends at the deadline (1200 ms), with room for a loaded 2-core machine's event-loop lag; far from the 5 s
    // each slow answer would take if the attempts were not cut.
    assert.ok(elapsed >= 1000 && elapsed < 1200 + 1300, `took ${elapsed} ms`);
    // Counted on the client's side: how many requests the busy fake got to record varies with load.
    assert.ok(outcomes.filter((o) => o === 'retry_timeout').length >= 2, outcomes.join());
    assert.equal(outcomes.at(-1), 'budget_exhausted');
  });

  test('a 404 is final unless the caller expects the not-ready race', async () => {
    fake.reset();
    await assert.rejects(
      client(1000, 500).fetchParticipant('CHmissing', 'MBx', { deadline: Date.now() + 1000 }),
      (err: unknown) => err instanceof TwilioApiError && err.status === 404 && err.twilioCode === 20404,
    );
    assert.equal(fake.calls.length, 1);
  });

  test('wrong credentials (401) are final, not retried', async () => {
    fake.reset();
    const wrong = new ConversationsClient({
      baseUrl: fake.url,
      credentials: { username: 'ACtest', password: 'nope' },
      budgetMs: 1000,
      attemptTimeoutMs: 500,
    });
    await assert.rejects(wrong.addChatParticipant('CHx', 'w', { deadline: Date.now() + 1000, retryNotFound: true }), /HTTP 401/);
    assert.equal(fake.calls.length, 1);
  });

  test('no credentials configured: a clear error, no request', async () => {
    fake.reset();
    const none = new ConversationsClient({ baseUrl: fake.url, credentials: undefined, budgetMs: 1000, attemptTimeoutMs: 500 });
    await assert.rejects(none.addChatParticipant('CHx', 'w', { deadline: Date.now() + 1000 }), /not configured/);
    assert.equal(fake.calls.length, 0);
  });
});

describe('configuration', () => {
  const base = { TWILIO_AUTH_TOKEN: 'token-0123456789abcdef', PUBLIC_URL: 'https://fis.example.com', DATABASE_URL: 'sqlite::memory:' };

  test('defaults: Twilio cloud, 4 s budget, no team, no auto-create, retry 10 s after a failed reply; credentials from the account', () => {
    const config = loadConfig({ ...base, TWILIO_ACCOUNT_SID: 'ACabc' });
    assert.equal(config.twilioApi.baseUrl, 'https://conversations.twilio.com');
    assert.equal(config.twilioApi.budgetMs, 4000);
    assert.deepEqual(config.twilioApi.credentials, { username: 'ACabc', password: base.TWILIO_AUTH_TOKEN });
    assert.deepEqual(config.routing, { defaultWorkers: [], autoCreateCustomers: false, retryAfterReplyMs: 10000, skipUnavailable: false });
  });

  test('an API key wins over the auth token; the team list is trimmed and de-duplicated', () => {
    const config = loadConfig({
      ...base,
      TWILIO_ACCOUNT_SID: 'ACabc',
      TWILIO_API_KEY_SID: 'SKkey',
      TWILIO_API_KEY_SECRET: 'shh',
      TWILIO_API_BASE_URL: 'https://conversations.dublin.ie1.twilio.com/',
      ROUTING_DEFAULT_WORKERS: ' a@x, b@x,,a@x ',
      ROUTING_AUTO_CREATE_CUSTOMERS: 'yes',
    });
    assert.deepEqual(config.twilioApi.credentials, { username: 'SKkey', password: 'shh' });
    assert.equal(config.twilioApi.baseUrl, 'https://conversations.dublin.ie1.twilio.com');
    assert.deepEqual(config.routing, { defaultWorkers: ['a@x', 'b@x'], autoCreateCustomers: true, retryAfterReplyMs: 10000, skipUnavailable: false });
  });

  test('half an API key, a budget past Twilio\'s limit, or an attempt longer than the budget are refused at boot', () => {
    assert.throws(() => loadConfig({ ...base, TWILIO_API_KEY_SID: 'SKkey' }), /go together/);
    assert.throws(() => loadConfig({ ...base, TWILIO_API_BUDGET_MS: '6000' }), /TWILIO_API_BUDGET_MS must be from/);
    assert.throws(
      () => loadConfig({ ...base, TWILIO_API_BUDGET_MS: '1000', TWILIO_API_ATTEMPT_TIMEOUT_MS: '2000' }),
      /must not exceed/,
    );
  });

  test('Frontline users: the cloud API with the Twilio credentials, no sync on change, 10 s per rep; sync on change needs credentials', () => {
    const config = loadConfig({ ...base, TWILIO_ACCOUNT_SID: 'ACabc', ROUTING_SKIP_UNAVAILABLE: 'true' });
    assert.equal(config.routing.skipUnavailable, true);
    assert.deepEqual(config.frontlineUsers, {
      api: {
        baseUrl: 'https://frontline-api.twilio.com',
        credentials: { username: 'ACabc', password: base.TWILIO_AUTH_TOKEN },
        budgetMs: 10000,
        attemptTimeoutMs: 1500,
      },
      syncOnChange: false,
    });
    const local = loadConfig({ ...base, TWILIO_ACCOUNT_SID: 'ACabc', TWILIO_FRONTLINE_API_BASE_URL: 'http://127.0.0.1:9/', FRONTLINE_USER_SYNC: 'true' });
    assert.equal(local.frontlineUsers.api.baseUrl, 'http://127.0.0.1:9');
    assert.equal(local.frontlineUsers.syncOnChange, true);
    assert.throws(() => loadConfig({ ...base, FRONTLINE_USER_SYNC: 'true' }), /FRONTLINE_USER_SYNC=true needs TWILIO_ACCOUNT_SID/);
    assert.throws(() => loadConfig({ ...base, FRONTLINE_USER_SYNC_BUDGET_MS: '100' }), /FRONTLINE_USER_SYNC_BUDGET_MS must be from 500/);
  });
});
