/**
 * Issue 14 item 6: no phone number, token or signature in the logs.
 *
 * A real service with its configured logger at trace level (every line the code
 * can write), real signed traffic full of phone numbers (routing with
 * auto-created `inbound:+E164` customers, lookups that miss, errors, forged
 * requests with numbers in the URL, a failing Twilio API), then a scan of every
 * captured JSON line for each number (E.164 and national digits), the auth
 * token, the page-token secret, the API's Basic credentials and every
 * signature sent. On both stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FAKE_ACCOUNT_SID, FakeTwilio } from './helpers/fake-twilio.js';
import { type Params, sign, startService, type TestService } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const PAGE_TOKEN_SECRET = 'page-token-secret-for-the-log-scan';
/** Every number the traffic carries; none may appear in full. */
const NUMBERS = [
  '+15551230001', // a known customer
  '+15559990001', // unknown sender, auto-created as inbound:+15559990001
  '+15559990002', // unknown sender on the instance without a team: unrouted
  '+15559990003', // unknown sender while the API fails
  '+447700900123', // a WhatsApp sender
  '+15559990004', // in a query string of a forged request
  '+15559990005', // a customer id that is a phone number
  '+15559990006', // search queries
];

for (const kind of storeKinds()) {
  describe(`logs carry no phone number, token or signature, on ${kind}`, () => {
    let db: TestDatabase;
    let fake: FakeTwilio;
    let service: TestService;
    let plain: TestService;
    const lines: string[] = [];
    const signatures: string[] = [];
    const stream = { write: (line: string) => void lines.push(line) };

    before(async () => {
      db = await createTestDatabase(kind);
      fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
      const env = {
        LOG_LEVEL: 'trace',
        PAGE_TOKEN_SECRET,
        TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
        TWILIO_API_BASE_URL: fake.url,
        TWILIO_API_BUDGET_MS: '600',
        TWILIO_API_ATTEMPT_TIMEOUT_MS: '300',
        ROUTING_RETRY_AFTER_REPLY_MS: '0',
      };
      service = await startService(db, { ...env, ROUTING_DEFAULT_WORKERS: ALICE, ROUTING_AUTO_CREATE_CUSTOMERS: 'true' }, { logStream: stream });
      plain = await startService(db, env, { logStream: stream });
      await seed(service.store, [
        { customer_id: 'known-1', display_name: 'Ann Known', workers: [ALICE], channels: [{ type: 'sms', value: '+15551230001' }] },
        { customer_id: '+15559990005', display_name: 'Id Is A Number', workers: [ALICE], channels: [{ type: 'sms', value: '+15559990005' }] },
      ]);
    });
    after(async () => {
      await service?.close();
      await plain?.close();
      await fake?.close();
      await db?.drop();
    });

    /** Signs as Twilio does and remembers the signature, to look for it in the logs. */
    const post = (target: TestService, path: string, params: Params, options: { query?: string; signature?: string } = {}) => {
      const full = `${path}${options.query ?? ''}`;
      const signature = options.signature ?? sign(`${target.config.publicUrl ?? target.url}${full}`, params);
      signatures.push(signature);
      return target.post(full, params, { signature });
    };
    const routing = (address: string) => {
      const ch = fake.createConversation();
      fake.addCustomerParticipant(ch, address);
      return { ch, params: { AccountSid: FAKE_ACCOUNT_SID, ConversationSid: ch, 'MessagingBinding.Address': address, 'MessagingBinding.ProxyAddress': '+15550000000' } };
    };

    test('real traffic, then every captured line is scanned', async () => {
      const statuses: number[] = [];
      const record = async (res: Promise<{ status: number }>) => statuses.push((await res).status);

      // CRM: searches by number (international and national), a miss on an inbound: id, details of a number-id.
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Query: '+15559990006' }));
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Query: '5559990006' }));
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: 'inbound:+15559990006' }));
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: '+15559990005' }));
      // Routing: a known customer, an unknown sender (auto-created), WhatsApp, an unrouted one, one while the API fails.
      await record(post(service, '/callbacks/routing', routing('+15551230001').params));
      await record(post(service, '/callbacks/routing', routing('+15559990001').params));
      await record(post(service, '/callbacks/routing', routing('whatsapp:+447700900123').params));
      await record(post(plain, '/callbacks/routing', routing('+15559990002').params));
      fake.always({ status: 500 });
      await record(post(service, '/callbacks/routing', routing('+15559990003').params));
      fake.always(undefined);
      // The customer created for the unknown sender, looked up by its id.
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: 'inbound:+15559990001' }));
      // Conversations webhooks.
      const { ch } = routing('+15559990003');
      const participant = fake.participants(ch)[0];
      await record(post(service, '/callbacks/conversations', { EventType: 'onConversationAdd', 'MessagingBinding.Address': '+15559990003' }));
      await record(
        post(service, '/callbacks/conversations', {
          EventType: 'onParticipantAdded',
          ConversationSid: ch,
          ParticipantSid: participant?.sid ?? 'MB0',
          'MessagingBinding.Address': '+15559990003',
          'MessagingBinding.Type': 'sms',
        }),
      );
      // Outgoing conversations and templates.
      await record(
        post(service, '/callbacks/outgoing-conversation', { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: 'known-1', ChannelType: 'sms', ChannelValue: '+15551230001' }),
      );
      await record(post(service, '/callbacks/templates', { Location: 'GetTemplates', Worker: ALICE, CustomerId: '+15559990005' }));
      // Refused requests: forged, with a number in the query string; a NUL next to a number.
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE }, { query: '?from=%2B15559990004', signature: 'Zm9yZ2VkLXNpZ25hdHVyZQ==' }));
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE }, { query: '?from=+15559990004', signature: sign('https://elsewhere.example.com/x', {}) }));
      await record(post(service, '/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: '+15559990004\u0000' }));

      assert.ok(statuses.every((s) => s >= 200 && s < 500), `statuses ${statuses.join(',')}`);
      await new Promise((r) => setTimeout(r, 100));

      // The scan means something only if the lines that used to leak were written.
      const text = lines.join('');
      assert.ok(lines.length >= 30, `only ${lines.length} log lines`);
      for (const line of lines) JSON.parse(line);
      assert.match(text, /customer record for unknown sender/);
      assert.match(text, /No customer with id/);
      assert.match(text, /rejected callback with a wrong X-Twilio-Signature/);
      assert.match(text, /could not add the worker/);

      const secrets = [
        ...NUMBERS,
        ...NUMBERS.map((n) => n.slice(1)), // the digits without +
        ...NUMBERS.filter((n) => n.startsWith('+1')).map((n) => n.slice(2)), // national digits
        ...NUMBERS.map((n) => `%2B${n.slice(1)}`),
        AUTH_TOKEN,
        PAGE_TOKEN_SECRET,
        Buffer.from(`${FAKE_ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'),
        ...signatures,
      ];
      const leaks = secrets.filter((secret) => text.includes(secret));
      const leakingLines = lines.filter((line) => leaks.some((secret) => line.includes(secret))).slice(0, 3);
      assert.deepEqual(leaks, [], `leaked into the logs: ${leaks.join(', ')}\n${leakingLines.join('')}`);
      assert.match(text, /inbound:\+1555999XXXX/, 'the auto-created id is logged, masked');
    });
  });
}
