/**
 * Issue 14 item 2: the Conversations API budget is counted in whole
 * milliseconds. A deadline built from `reply.elapsedTime` (a fraction) made
 * `AbortSignal.timeout` throw once the budget was partly spent, and the throw
 * was counted as a network error: attempts that never left the process.
 *
 * At the wire, on both stores: a routing callback and an onParticipantAdded
 * webhook against a local stand-in that answers 503, or never answers. Every
 * attempt the service counts in /metrics (all outcomes but budget_exhausted)
 * must have reached the stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FAKE_ACCOUNT_SID, type Fault, FakeTwilio, sid } from './helpers/fake-twilio.js';
import { type TestService, startService } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ATTEMPT_LINE = /^fis_twilio_api_attempts_total\{outcome="([^"]+)"\} (\d+)$/gm;

/** Attempts counted by outcome, from the service's own /metrics. */
async function countedAttempts(service: TestService): Promise<Map<string, number>> {
  const text = (await service.get('/metrics')).text;
  const out = new Map<string, number>();
  for (const m of text.matchAll(ATTEMPT_LINE)) out.set(m[1] as string, Number(m[2]));
  return out;
}

const sentAttempts = (counts: Map<string, number>) =>
  [...counts].filter(([outcome]) => outcome !== 'budget_exhausted').reduce((sum, [, n]) => sum + n, 0);

for (const kind of storeKinds()) {
  describe(`Conversations API deadlines on ${kind}`, () => {
    let db: TestDatabase;
    let fake: FakeTwilio;

    before(async () => {
      db = await createTestDatabase(kind);
      fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
    });
    after(async () => {
      await fake?.close();
      await db?.drop();
    });

    const cases: [string, Fault][] = [
      ['answers 503', { status: 503 }],
      ['never answers', { delayMs: 5_000 }],
    ];
    for (const [label, fault] of cases) {
      test(`an API that ${label}: every counted attempt reaches it (routing and onParticipantAdded)`, async () => {
        // A fresh service per case, so /metrics counts only this case's attempts.
        const service = await startService(
          db,
          {
          TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
          TWILIO_API_BASE_URL: fake.url,
          // Short attempts inside a budget several times longer: the last attempts start with a partly spent budget.
          TWILIO_API_BUDGET_MS: '1200',
          TWILIO_API_ATTEMPT_TIMEOUT_MS: '600',
          ROUTING_DEFAULT_WORKERS: 'team.one@example.com',
          ROUTING_RETRY_AFTER_REPLY_MS: '0',
          },
          // With a logger, as in production: Fastify then times the request, and the arrival time had a fraction.
          { logger: { level: 'silent' } },
        );
        try {
          const address = `+1555321${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
          await seed(service.store, [
            { customer_id: `deadline-${sid('x')}`, display_name: 'Deadline', workers: ['team.one@example.com'], channels: [{ type: 'sms', value: address }] },
          ]);
          fake.reset();
          fake.always(fault);
          for (let i = 0; i < 3; i++) {
            const ch = fake.createConversation();
            const participant = fake.addCustomerParticipant(ch, address);
            const routed = await service.post('/callbacks/routing', {
              AccountSid: FAKE_ACCOUNT_SID,
              ConversationSid: ch,
              'MessagingBinding.Address': address,
              'MessagingBinding.ProxyAddress': '+15550000000',
            });
            assert.equal(routed.status, 200);
            assert.equal(routed.json.outcome, 'failed');
            const tagged = await service.post('/callbacks/conversations', {
              AccountSid: FAKE_ACCOUNT_SID,
              EventType: 'onParticipantAdded',
              ConversationSid: ch,
              ParticipantSid: participant.sid,
              'MessagingBinding.Address': address,
              'MessagingBinding.Type': 'sms',
            });
            assert.equal(tagged.status, 200);
          }
          fake.always(undefined);
          const counts = await countedAttempts(service);
          const sent = sentAttempts(counts);
          assert.ok(sent >= 6, `at least one attempt per call, got ${JSON.stringify([...counts])}`);
          assert.equal(
            fake.calls.length,
            sent,
            `attempts counted ${JSON.stringify([...counts])}, attempts that reached the API ${fake.calls.length}`,
          );
          assert.equal(counts.get('retry_network') ?? 0, 0, 'a local API that is up is never a network error');
        } finally {
          fake.always(undefined);
          await service.close();
        }
      });
    }
  });
}
