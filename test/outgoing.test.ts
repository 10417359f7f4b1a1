/**
 * GetProxyAddress over the wire, signed as Twilio signs, on both stores: every
 * step of the documented resolution order, the environment fallback, refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/platform/config.js';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { loadSenders } from './helpers/settings.js';
import { type TestService, startService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com'; // has her own numbers
const CAROL = 'carol@example.com'; // has none: shared numbers only
const DAVE = 'dave@example.com'; // owns a number that serves France only
const BOB = 'bob@example.com'; // owns a customer nobody else sees

const US = '+14155550123';
const GB = '+447700900123';
const FR = '+33612345678';

const shared = [ALICE, CAROL, DAVE];
const CUSTOMERS: CustomerRecord[] = [
  { customer_id: 'us-1', display_name: 'Uma States', workers: shared, channels: [{ type: 'sms', value: US }, { type: 'whatsapp', value: `whatsapp:${US}` }] },
  { customer_id: 'gb-1', display_name: 'Grace Britain', workers: shared, channels: [{ type: 'sms', value: GB }] },
  { customer_id: 'fr-1', display_name: 'François France', workers: shared, channels: [{ type: 'whatsapp', value: `whatsapp:${FR}` }] },
  { customer_id: 'mail-1', display_name: 'Mia Mail', workers: shared, channels: [{ type: 'email', value: 'mia@example.org' }] },
  { customer_id: 'bob-1', display_name: 'Bob Own', workers: [BOB], channels: [{ type: 'sms', value: US }] },
];

/** The sender numbers of the full configuration, by role. */
const N = {
  aliceOwn: '+14155550101',
  aliceOwnGb: '+447700900101',
  daveOwnFr: '+33612340101',
  sharedGb: '+447700900200',
  sharedFr: '+33612340200',
  smsDefault: '+14155550200',
  smsSecondDefault: '+14155550201',
  waDefault: '+14155550300',
  env: '+14155550999',
};

const FULL = [
  { channel_type: 'sms', address: N.aliceOwn, worker: ALICE },
  { channel_type: 'sms', address: N.aliceOwnGb, worker: ALICE, countries: ['GB'] },
  { channel_type: 'sms', address: N.daveOwnFr, worker: DAVE, countries: ['FR'] },
  { channel_type: 'sms', address: N.sharedGb, countries: ['GB', 'IE'] },
  { channel_type: 'whatsapp', address: `whatsapp:${N.sharedFr}`, countries: ['FR'] },
  { channel_type: 'sms', address: N.smsDefault },
  { channel_type: 'sms', address: N.smsSecondDefault },
  { channel_type: 'whatsapp', address: N.waDefault },
];

const ask = (service: TestService, params: Record<string, string>) =>
  service.post('/callbacks/outgoing-conversation', { Location: 'GetProxyAddress', ...params });

async function proxyFor(service: TestService, params: Record<string, string>): Promise<string> {
  const res = await ask(service, params);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.json), ['proxy_address']);
  return res.json.proxy_address;
}

for (const kind of storeKinds()) {
  describe(`GetProxyAddress on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;
    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
      await seed(service.store, CUSTOMERS);
    });
    after(async () => {
      await service.close();
      await db.drop();
    });

    describe('resolution order', () => {
      before(() => loadSenders(service.store, FULL));

      test('1. the rep own address wins over the country address and the default', async () => {
        assert.equal(await proxyFor(service, { Worker: ALICE, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US }), N.aliceOwn);
      });
      test('1. among the rep own addresses, the one for the customer country comes first', async () => {
        assert.equal(await proxyFor(service, { Worker: ALICE, CustomerId: 'gb-1', ChannelType: 'sms', ChannelValue: GB }), N.aliceOwnGb);
      });
      test('1. a rep own address that lists countries serves only those countries', async () => {
        assert.equal(await proxyFor(service, { Worker: DAVE, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US }), N.smsDefault);
        assert.equal(
          await proxyFor(service, { Worker: DAVE, CustomerId: 'fr-1', ChannelType: 'sms', ChannelValue: FR }),
          N.daveOwnFr,
        );
      });
      test('2. without an own address: a shared address serving the customer country', async () => {
        assert.equal(await proxyFor(service, { Worker: CAROL, CustomerId: 'gb-1', ChannelType: 'sms', ChannelValue: GB }), N.sharedGb);
      });
      test('2. the country comes from ChannelValue, the number being messaged', async () => {
        // us-1 is stored with a US number, but the rep messages a UK number.
        assert.equal(await proxyFor(service, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: GB }), N.sharedGb);
      });
      test('2. without ChannelValue, from the customer stored number (of that channel, else any phone channel)', async () => {
        assert.equal(await proxyFor(service, { Worker: CAROL, CustomerId: 'gb-1', ChannelType: 'sms' }), N.sharedGb);
        // fr-1 has only a WhatsApp number; it still says France for an SMS.
        assert.equal(await proxyFor(service, { Worker: DAVE, CustomerId: 'fr-1', ChannelType: 'sms' }), N.daveOwnFr);
      });
      test('3. no own address, no country address: the channel default, the first in file order', async () => {
        assert.equal(await proxyFor(service, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US }), N.smsDefault);
      });
      test('3. a customer with no phone number at all gets the default', async () => {
        assert.equal(await proxyFor(service, { Worker: CAROL, CustomerId: 'mail-1', ChannelType: 'sms' }), N.smsDefault);
      });
      test('whatsapp: addresses are answered with the whatsapp: prefix, per channel', async () => {
        assert.equal(
          await proxyFor(service, { Worker: CAROL, CustomerId: 'fr-1', ChannelType: 'whatsapp', ChannelValue: `whatsapp:${FR}` }),
          `whatsapp:${N.sharedFr}`,
        );
        // Alice's own numbers are SMS numbers: for WhatsApp she gets the WhatsApp default.
        assert.equal(
          await proxyFor(service, { Worker: ALICE, CustomerId: 'us-1', ChannelType: 'whatsapp', ChannelValue: `whatsapp:${US}` }),
          `whatsapp:${N.waDefault}`,
        );
      });
      test('ChannelType is read case-insensitively', async () => {
        assert.equal(await proxyFor(service, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'SMS', ChannelValue: US }), N.smsDefault);
      });
    });

    describe('environment defaults (TWILIO_SMS_NUMBER, TWILIO_WHATSAPP_NUMBER)', () => {
      let withEnv: TestService;
      before(async () => {
        withEnv = await startService(db, { TWILIO_SMS_NUMBER: N.env, TWILIO_WHATSAPP_NUMBER: `whatsapp:${N.env}` });
      });
      after(() => withEnv.close());

      test('with no stored address at all, the environment numbers answer (the reference setup)', async () => {
        await loadSenders(service.store, []);
        assert.equal(await proxyFor(withEnv, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US }), N.env);
        assert.equal(
          await proxyFor(withEnv, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'whatsapp', ChannelValue: `whatsapp:${US}` }),
          `whatsapp:${N.env}`,
        );
      });
      test('a stored default wins over the environment', async () => {
        await loadSenders(service.store, [{ channel_type: 'sms', address: N.smsDefault }]);
        assert.equal(await proxyFor(withEnv, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US }), N.smsDefault);
      });
      test('own and country addresses win over the environment; it stands in for the default only', async () => {
        await loadSenders(service.store, [
          { channel_type: 'sms', address: N.aliceOwn, worker: ALICE },
          { channel_type: 'sms', address: N.sharedGb, countries: ['GB'] },
        ]);
        assert.equal(await proxyFor(withEnv, { Worker: ALICE, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US }), N.aliceOwn);
        assert.equal(await proxyFor(withEnv, { Worker: CAROL, CustomerId: 'gb-1', ChannelType: 'sms', ChannelValue: GB }), N.sharedGb);
        assert.equal(await proxyFor(withEnv, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US }), N.env);
      });
    });

    describe('refusals', () => {
      test('403 when the channel has no address: none own, none for the country, no default, no environment', async () => {
        await loadSenders(service.store, [
          { channel_type: 'sms', address: N.sharedGb, countries: ['GB'] },
          { channel_type: 'sms', address: N.aliceOwn, worker: ALICE },
        ]);
        const res = await ask(service, { Worker: CAROL, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US });
        assert.equal(res.status, 403, res.text);
        assert.equal(res.json.error.code, 'NO_SENDER_ADDRESS');
        assert.match(res.json.error.message, /No sms sender address/);
        assert.match(res.json.error.message, /serves US/);
        assert.match(res.json.error.message, /TWILIO_SMS_NUMBER/);
        const wa = await ask(service, { Worker: ALICE, CustomerId: 'us-1', ChannelType: 'whatsapp', ChannelValue: `whatsapp:${US}` });
        assert.equal(wa.status, 403);
        assert.match(wa.json.error.message, /No whatsapp sender address.*TWILIO_WHATSAPP_NUMBER/);
      });
      test('403 for a channel that has no sender addresses (chat, email)', async () => {
        await loadSenders(service.store, FULL);
        for (const channel of ['chat', 'email']) {
          const res = await ask(service, { Worker: ALICE, CustomerId: 'us-1', ChannelType: channel, ChannelValue: 'x' });
          assert.equal(res.status, 403);
          assert.equal(res.json.error.code, 'NO_SENDER_ADDRESS');
          assert.match(res.json.error.message, /sms and whatsapp addresses only/);
        }
      });
      test('404 for a customer of another worker, and for an unknown customer, as in the CRM callback', async () => {
        await loadSenders(service.store, FULL);
        for (const customerId of ['bob-1', 'no-such-customer']) {
          const res = await ask(service, { Worker: ALICE, CustomerId: customerId, ChannelType: 'sms', ChannelValue: US });
          assert.equal(res.status, 404, res.text);
          assert.equal(res.json.error.code, 'CUSTOMER_NOT_FOUND');
        }
        // The owner does get an address for the same customer.
        assert.equal(await proxyFor(service, { Worker: BOB, CustomerId: 'bob-1', ChannelType: 'sms', ChannelValue: US }), N.smsDefault);
      });
      test('with CUSTOMER_VISIBILITY=all every worker may start a conversation with any customer', async () => {
        const all = await startService(db, { CUSTOMER_VISIBILITY: 'all' });
        try {
          assert.equal(await proxyFor(all, { Worker: ALICE, CustomerId: 'bob-1', ChannelType: 'sms', ChannelValue: US }), N.aliceOwn);
        } finally {
          await all.close();
        }
      });
      test('422 for an unknown Location', async () => {
        const res = await service.post('/callbacks/outgoing-conversation', { Location: 'GetSomethingElse', Worker: ALICE });
        assert.equal(res.status, 422);
        assert.equal(res.json.error.code, 'UNKNOWN_LOCATION');
        assert.match(res.json.error.message, /GetProxyAddress/);
      });
      for (const missing of ['Worker', 'CustomerId', 'ChannelType']) {
        test(`400 without ${missing}`, async () => {
          const params: Record<string, string> = { Worker: ALICE, CustomerId: 'us-1', ChannelType: 'sms', ChannelValue: US };
          delete params[missing];
          const res = await ask(service, params);
          assert.equal(res.status, 400);
          assert.equal(res.json.error.code, 'BAD_REQUEST');
          assert.match(res.json.error.message, new RegExp(missing));
        });
      }
      test('400 without Location', async () => {
        const res = await service.post('/callbacks/outgoing-conversation', { Worker: ALICE, CustomerId: 'us-1', ChannelType: 'sms' });
        assert.equal(res.status, 400);
      });
      test('403 INVALID_SIGNATURE when the request is not signed by Twilio', async () => {
        const params = { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: 'us-1', ChannelType: 'sms' };
        const unsigned = await service.post('/callbacks/outgoing-conversation', params, { signature: false });
        assert.equal(unsigned.status, 403);
        assert.equal(unsigned.json.error.code, 'INVALID_SIGNATURE');
        const wrongToken = await service.post('/callbacks/outgoing-conversation', params, { authToken: 'another-token' });
        assert.equal(wrongToken.status, 403);
      });
    });
  });
}

describe('TWILIO_SMS_NUMBER and TWILIO_WHATSAPP_NUMBER are checked at start', () => {
  const load = (env: Record<string, string>) => loadConfig({ TWILIO_AUTH_TOKEN: 't', PUBLIC_URL: 'https://fis.example.com', ...env }, { cwd: '/tmp' });

  test('international numbers are accepted; WhatsApp with or without its prefix', () => {
    const config = load({ TWILIO_SMS_NUMBER: '+14155550100', TWILIO_WHATSAPP_NUMBER: '+14155550101' });
    assert.deepEqual(config.defaultSenders, { sms: '+14155550100', whatsapp: 'whatsapp:+14155550101' });
    assert.equal(load({ TWILIO_WHATSAPP_NUMBER: 'whatsapp:+447700900123' }).defaultSenders.whatsapp, 'whatsapp:+447700900123');
  });
  test('unset means no environment default', () => {
    assert.deepEqual(load({}).defaultSenders, { sms: undefined, whatsapp: undefined });
  });
  for (const [name, value] of [
    ['TWILIO_SMS_NUMBER', '4155550100'],
    ['TWILIO_SMS_NUMBER', 'whatsapp:+14155550100'],
    ['TWILIO_SMS_NUMBER', '+1 call me'],
    ['TWILIO_WHATSAPP_NUMBER', 'whatsapp:4155550100'],
    ['TWILIO_WHATSAPP_NUMBER', '+12'],
  ] as const) {
    test(`${name}="${value}" stops the start with a message naming the variable`, () => {
      assert.throws(
        () => load({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith(`${name} must be a phone number in international (E.164) form`)),
      );
    });
  }
});
