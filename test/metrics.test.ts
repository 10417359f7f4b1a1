/**
 * `GET /metrics` (prom-client) after real signed traffic, on both stores:
 * request counts and latency histograms per callback and Location, reply
 * sizes, Conversations API attempts by outcome, unrouted conversations; and no
 * customer data in any label. (Store unavailability: test/store-outage.test.ts;
 * the sum over SERVE_PROCESSES workers: test/cluster.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FAKE_ACCOUNT_SID, FakeTwilio } from './helpers/fake-twilio.js';
import { startService, type TestService } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';

const value = (text: string, series: string) => {
  const escaped = series.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

for (const kind of storeKinds()) {
  describe(`Prometheus metrics on ${kind}`, () => {
    let db: TestDatabase;
    let fake: FakeTwilio;
    let service: TestService;

    before(async () => {
      db = await createTestDatabase(kind);
      fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
      service = await startService(db, { TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID, TWILIO_API_BASE_URL: fake.url, ROUTING_RETRY_AFTER_REPLY_MS: '0' });
      await seed(service.store, [{ customer_id: 'c1', display_name: 'Ann', workers: [ALICE], channels: [{ type: 'sms', value: '+15551230001' }] }]);
    });
    after(async () => {
      await service?.close();
      await fake?.close();
      await db?.drop();
    });

    test('counts, latencies and reply sizes per callback and Location; API attempts; unrouted', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE })).status, 200);
      assert.equal((await service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: 'c1' })).status, 200);
      assert.equal((await service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: 'nobody' })).status, 404);
      // A made-up Location must not become a label value.
      assert.equal((await service.post('/callbacks/crm', { Location: 'Drop+15551230001', Worker: ALICE })).status, 422);
      const ch = fake.createConversation();
      const routed = await service.post('/callbacks/routing', { ConversationSid: ch, 'MessagingBinding.Address': '+15551230001' });
      assert.equal(routed.json.outcome, 'routed');
      const unrouted = await service.post('/callbacks/routing', { ConversationSid: fake.createConversation(), 'MessagingBinding.Address': '+15559990001' });
      assert.equal(unrouted.json.outcome, 'unrouted');

      // No route: counted once, under "unmatched", whatever the path was.
      assert.equal((await service.get('/no/such/route/+15551230001')).status, 404);

      const res = await service.get('/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(value(res.text, 'fis_http_requests_total{route="unmatched",location="",status="404"}'), 1);
      const text = res.text;
      const crm = 'route="/callbacks/crm",location="GetCustomersList"';
      assert.equal(value(text, `fis_http_requests_total{${crm},status="200"}`), 3);
      assert.equal(value(text, 'fis_http_requests_total{route="/callbacks/crm",location="GetCustomerDetailsByCustomerId",status="404"}'), 1);
      assert.equal(value(text, 'fis_http_requests_total{route="/callbacks/crm",location="other",status="422"}'), 1);
      assert.equal(value(text, `fis_http_request_duration_seconds_count{${crm}}`), 3);
      assert.ok((value(text, `fis_http_request_duration_seconds_sum{${crm}}`) ?? 0) > 0);
      assert.equal(value(text, `fis_http_request_duration_seconds_bucket{le="+Inf",${crm}}`), 3);
      assert.equal(value(text, `fis_http_reply_bytes_count{${crm}}`), 3);
      assert.ok((value(text, `fis_http_reply_bytes_sum{${crm}}`) ?? 0) > 3 * 50, 'reply sizes are recorded');
      assert.equal(value(text, 'fis_http_requests_total{route="/callbacks/routing",location="",status="200"}'), 2);
      assert.equal(value(text, 'fis_twilio_api_attempts_total{outcome="ok"}'), 1);
      assert.equal(value(text, 'fis_routing_total{outcome="unrouted",via="none"}'), 1);
      assert.equal(value(text, 'fis_routing_total{outcome="routed",via="owner"}'), 1);
      assert.equal(value(text, 'fis_store_errors_total{kind="unavailable"}'), 0);
      // SQLite searches run on a reader thread; none is out once the answers are in.
      assert.equal(value(text, 'fis_search_thread_tasks'), kind === 'sqlite' ? 0 : undefined);
      assert.ok(value(text, 'process_resident_memory_bytes') !== undefined, 'process metrics are exported');
      assert.doesNotMatch(text, /555123|555999|alice|Ann|c1"/, 'no customer data in the metrics');
    });
  });
}
