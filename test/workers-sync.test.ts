/**
 * `fis workers sync [--dry-run]` and the automatic sync after `fis workers
 * import` (FRONTLINE_USER_SYNC=true), at the wire, on both stores: the real
 * CLI in a child process, the real store, and a local stand-in of the
 * Frontline API that checks Basic auth and the form fields.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Store } from '../src/platform/db/connect.js';
import { findWorkers } from '../src/domains/workers/worker.repository.js';
import { adminClient, makeToken } from './helpers/admin.js';
import { runCli } from './helpers/cli.js';
import { startService } from './helpers/service.js';
import { FAKE_ACCOUNT_SID } from './helpers/fake-twilio.js';
import { FakeFrontline } from './helpers/fake-frontline.js';
import { loadWorkers } from './helpers/settings.js';
import { AUTH_TOKEN, createTestDatabase, openTestStore, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';
const ERIN = 'erin@example.com';
const AVATAR = 'https://avatars.example.com/alice.png';
/** Per rep: read, write and retries. Short, so that a rep that keeps failing gives up quickly. */
const BUDGET_MS = 2000;

const REPS = [
  { identity: ALICE, display_name: 'Alice Johnson', avatar: AVATAR },
  { identity: BOB, display_name: 'Bob Smith', state: 'deactivated', available: false },
  { identity: CAROL, display_name: 'Carol Never' },
  { identity: DAVE, display_name: 'Dave In Step' },
  // No display name in the store: Frontline keeps what the identity provider sent.
  { identity: ERIN },
];

for (const kind of storeKinds()) {
  describe(`frontline user sync on ${kind}`, () => {
    let db: TestDatabase;
    let store: Store;
    let fake: FakeFrontline;
    let dir: string;
    const env = (extra: Record<string, string> = {}) => ({
      ...db.env,
      TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FRONTLINE_API_BASE_URL: fake.url,
      FRONTLINE_USER_SYNC_BUDGET_MS: String(BUDGET_MS),
      ...extra,
    });
    const fis = (args: string[], extra?: Record<string, string>) => runCli(args, env(extra), dir);
    const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean);

    /** Frontline as the reps left it at sign-in; Carol never signed in. */
    const signInAll = () => {
      fake.signIn(ALICE, { friendly_name: ALICE, is_available: false });
      fake.signIn(BOB, { friendly_name: 'Bob Smith', state: 'active', is_available: false });
      fake.signIn(DAVE, { friendly_name: 'Dave In Step', is_available: true });
      fake.signIn(ERIN, { friendly_name: 'Erin From The IdP', is_available: true });
    };

    before(async () => {
      db = await createTestDatabase(kind);
      store = await openTestStore(db);
      fake = await new FakeFrontline({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
      dir = mkdtempSync(path.join(tmpdir(), 'fis-sync-'));
    });
    after(async () => {
      await store?.close();
      await fake?.close();
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      fake.reset();
      await loadWorkers(store, REPS, true);
    });

    test('only the differing fields are written, unchanged reps are not, a rep never signed in is reported while the others sync', async () => {
      signInAll();
      const run = await fis(['workers', 'sync']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(lines(run.stdout), [
        `updated ${ALICE} (Alice Johnson): FriendlyName, Avatar, IsAvailable`,
        `updated ${BOB} (Bob Smith): State`,
        `not yet signed in ${CAROL} (Carol Never): no Frontline user until they sign in to the app; tried again at the next sync`,
        `unchanged ${DAVE} (Dave In Step)`,
        `unchanged ${ERIN}`,
      ]);
      assert.match(run.stderr, /frontline user sync: 5 rep\(s\): 2 updated, 2 unchanged, 1 not yet signed in/);

      // Read by identity (percent-encoded), written by the SID the read returned, with the account's Basic auth.
      const reads = fake.calls.filter((c) => c.method === 'GET');
      assert.deepEqual(reads.map((c) => c.path).sort(), [ALICE, BOB, CAROL, DAVE, ERIN].map((i) => `/v1/Users/${encodeURIComponent(i)}`).sort());
      assert.ok(reads.every((c) => c.path.includes('%40')));
      const writes = fake.writes();
      assert.deepEqual(
        writes.map((c) => [c.path, c.form, c.username]).sort(),
        [
          [`/v1/Users/${fake.user(ALICE)?.sid}`, { FriendlyName: 'Alice Johnson', Avatar: AVATAR, IsAvailable: 'true' }, FAKE_ACCOUNT_SID],
          [`/v1/Users/${fake.user(BOB)?.sid}`, { State: 'deactivated' }, FAKE_ACCOUNT_SID],
        ].sort(),
      );
      assert.ok(writes.every((c) => c.status === 200 && c.contentType?.startsWith('application/x-www-form-urlencoded')));
      assert.deepEqual(
        { ...fake.user(ALICE), sid: undefined, url: undefined },
        { sid: undefined, url: undefined, identity: ALICE, friendly_name: 'Alice Johnson', avatar: AVATAR, state: 'active', is_available: true },
      );
      assert.equal(fake.user(BOB)?.state, 'deactivated');
      assert.equal(fake.user(BOB)?.is_available, false);
      assert.equal(fake.user(ERIN)?.friendly_name, 'Erin From The IdP');

      // In step now: a second run writes nothing. Carol signs in: the next sync picks her up.
      fake.calls.length = 0;
      const again = await fis(['workers', 'sync']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(fake.writes().length, 0);
      assert.match(again.stderr, /4 unchanged, 1 not yet signed in/);
      fake.signIn(CAROL);
      const third = await fis(['workers', 'sync']);
      assert.equal(third.code, 0, third.stderr);
      assert.ok(lines(third.stdout).includes(`updated ${CAROL} (Carol Never): FriendlyName, IsAvailable`), third.stdout);
      assert.deepEqual(fake.writes().map((c) => c.form), [{ FriendlyName: 'Carol Never', IsAvailable: 'true' }]);
    });

    test('--dry-run reads and reports, and writes nothing', async () => {
      signInAll();
      const before = JSON.stringify([ALICE, BOB, DAVE, ERIN].map((i) => fake.user(i)));
      const run = await fis(['workers', 'sync', '--dry-run']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(lines(run.stdout).slice(0, 2), [
        `would update ${ALICE} (Alice Johnson): FriendlyName, Avatar, IsAvailable`,
        `would update ${BOB} (Bob Smith): State`,
      ]);
      assert.match(run.stderr, /dry run, nothing written: 5 rep\(s\): 2 would update, 2 unchanged, 1 not yet signed in/);
      assert.equal(fake.writes().length, 0);
      assert.equal(fake.calls.filter((c) => c.method === 'GET').length, 5);
      assert.equal(JSON.stringify([ALICE, BOB, DAVE, ERIN].map((i) => fake.user(i))), before);
    });

    test('API errors are retried within the deadline; an error that remains fails that rep only, exit 1', async () => {
      signInAll();
      // Alice: two 503s on the read, then a 429 on the write: all retried, all within her budget.
      fake.inject({ target: ALICE, status: 503 }, { target: ALICE, status: 503 });
      fake.inject({ target: fake.user(ALICE)?.sid as string, status: 429, retryAfterSeconds: 0 });
      // Bob: Frontline keeps failing for him.
      fake.always({ target: BOB, status: 500 });
      const started = Date.now();
      const run = await fis(['workers', 'sync']);
      assert.equal(run.code, 1, run.stderr);
      const out = lines(run.stdout);
      assert.equal(out[0], `updated ${ALICE} (Alice Johnson): FriendlyName, Avatar, IsAvailable`);
      assert.match(out[1] ?? '', new RegExp(`^failed ${BOB} \\(Bob Smith\\): GET /v1/Users/bob%40example\\.com: gave up after \\d+ attempt\\(s\\).*HTTP 500`));
      assert.match(out[2] ?? '', new RegExp(`^not yet signed in ${CAROL}`));
      assert.equal(out[3], `unchanged ${DAVE} (Dave In Step)`);
      assert.match(run.stderr, /5 rep\(s\): 1 updated, 2 unchanged, 1 not yet signed in, 1 failed/);

      const alice = fake.calls.filter((c) => c.target === ALICE || c.target === fake.user(ALICE)?.sid);
      assert.deepEqual(alice.map((c) => `${c.method} ${c.status}`), ['GET 503', 'GET 503', 'GET 200', 'POST 429', 'POST 200']);
      assert.equal(fake.user(ALICE)?.friendly_name, 'Alice Johnson');
      const bob = fake.calls.filter((c) => c.target === BOB);
      assert.ok(bob.length >= 2, `Bob's read was retried (${bob.length} attempts)`);
      const first = bob[0]?.at ?? 0;
      const last = bob[bob.length - 1]?.at ?? 0;
      assert.ok(last - first <= BUDGET_MS, `Bob's attempts stayed within his ${BUDGET_MS} ms budget (${last - first} ms)`);
      assert.ok(Date.now() - started < 30_000);
    });

    test('wrong credentials: every rep fails (Frontline answers 401), exit 1, nothing written', async () => {
      signInAll();
      const run = await fis(['workers', 'sync'], { TWILIO_AUTH_TOKEN: 'not-the-token-0123456789' });
      assert.equal(run.code, 1);
      assert.equal(lines(run.stdout).filter((l) => /^failed .*HTTP 401/.test(l)).length, 5, run.stdout);
      assert.equal(fake.writes().length, 0);
    });

    test('FRONTLINE_USER_SYNC=true: an import writes the changed reps to Frontline; a Frontline outage never fails the import', async () => {
      signInAll();
      await fis(['workers', 'sync']);
      fake.calls.length = 0;
      // Alice becomes unavailable, Dave is deactivated; Bob, Carol and Erin are unchanged in the file.
      const file = path.join(dir, 'workers.yaml');
      writeFileSync(
        file,
        `workers:
  - identity: ${ALICE}
    display_name: Alice Johnson
    avatar: ${AVATAR}
    available: false
  - identity: ${BOB}
    display_name: Bob Smith
    state: deactivated
    available: false
  - identity: ${CAROL}
    display_name: Carol Never
  - identity: ${DAVE}
    display_name: Dave In Step
    state: deactivated
  - identity: ${ERIN}
`,
      );
      const run = await fis(['workers', 'import', 'workers.yaml'], { FRONTLINE_USER_SYNC: 'true' });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /loaded 5 worker\(s\): 0 created, 5 updated, 0 pruned/);
      assert.match(run.stderr, new RegExp(`updated ${ALICE} \\(Alice Johnson\\): IsAvailable`));
      assert.match(run.stderr, new RegExp(`updated ${DAVE} \\(Dave In Step\\): State`));
      assert.match(run.stderr, /frontline user sync: 2 rep\(s\): 2 updated/);
      // Only the changed reps were read, and only what differs written.
      assert.deepEqual(fake.calls.filter((c) => c.method === 'GET').map((c) => c.target).sort(), [ALICE, DAVE]);
      assert.deepEqual(fake.writes().map((c) => c.form).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
        { IsAvailable: 'false' },
        { State: 'deactivated' },
      ]);

      // Frontline down: the import still succeeds (store changed, exit 0) and says what was not written.
      fake.calls.length = 0;
      fake.always({ status: 503 });
      writeFileSync(file, `workers:\n  - identity: ${ALICE}\n    display_name: Alice J.\n`);
      const down = await fis(['workers', 'import', 'workers.yaml'], { FRONTLINE_USER_SYNC: 'true', FRONTLINE_USER_SYNC_BUDGET_MS: '600' });
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stderr, /loaded 1 worker\(s\)/);
      assert.match(down.stderr, new RegExp(`failed ${ALICE} \\(Alice J\\.\\): .*HTTP 503`));
      assert.match(down.stderr, /1 failed/);
      assert.deepEqual((await findWorkers(store.db, [ALICE]))[0]?.display_name, 'Alice J.');

      // Off (the default): an import never calls Frontline.
      fake.reset();
      writeFileSync(file, `workers:\n  - identity: ${ALICE}\n    display_name: Alice Again\n`);
      const off = await fis(['workers', 'import', 'workers.yaml']);
      assert.equal(off.code, 0, off.stderr);
      assert.equal(fake.calls.length, 0);
      assert.doesNotMatch(off.stderr, /frontline user sync/);
    });

    test('the admin API reads and writes state and availability, and a change reaches Frontline after it commits', async () => {
      signInAll();
      const service = await startService(db, {
        TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
        TWILIO_FRONTLINE_API_BASE_URL: fake.url,
        FRONTLINE_USER_SYNC: 'true',
        FRONTLINE_USER_SYNC_BUDGET_MS: '2000',
      });
      try {
        const api = adminClient(service, await makeToken(service, 'ops'));
        await api.delete(`/workers/${encodeURIComponent(DAVE)}?unassign=true`);
        const created = await api.post('/workers', { identity: DAVE, display_name: 'Dave Admin' });
        assert.equal(created.status, 201, created.text);
        assert.equal(created.json.state, 'active');
        assert.equal(created.json.available, true);
        const bad = await api.patch(`/workers/${encodeURIComponent(DAVE)}`, { state: 'retired', available: 'no' });
        assert.equal(bad.status, 400, bad.text);
        const res = await api.patch(`/workers/${encodeURIComponent(DAVE)}`, { state: 'deactivated', available: false });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.state, 'deactivated');
        assert.equal(res.json.available, false);
        assert.deepEqual(
          (await findWorkers(service.store.db, [DAVE])).map((w) => [w.state, w.available]),
          [['deactivated', false]],
        );
        // The sync runs after the reply; wait for its write (bounded).
        const deadline = Date.now() + 10_000;
        const deactivation = () => fake.calls.find((c) => c.method === 'POST' && c.form.State === 'deactivated');
        let post = deactivation();
        while (!post && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          post = deactivation();
        }
        assert.ok(post, `no write reached Frontline: ${JSON.stringify(fake.calls)}`);
        assert.equal(post.form.State, 'deactivated');
        assert.equal(post.form.IsAvailable, 'false');
      } finally {
        await service.close();
      }
    });

    test('syncWorkers(identities), as the admin API calls it after a change: only those reps, never throws, counted in /metrics', async () => {
      signInAll();
      const service = await startService(db, {
        TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
        TWILIO_FRONTLINE_API_BASE_URL: fake.url,
        FRONTLINE_USER_SYNC: 'true',
        FRONTLINE_USER_SYNC_BUDGET_MS: '600',
      });
      try {
        const sync = service.app.services.workerSync;
        const report = await sync.syncWorkers([ALICE, CAROL, 'deleted@example.com']);
        assert.deepEqual(
          report?.results.map((r) => [r.identity, r.outcome]),
          [
            [ALICE, 'updated'],
            [CAROL, 'not_signed_in'],
            ['deleted@example.com', 'unknown'],
          ],
        );
        assert.deepEqual(fake.calls.filter((c) => c.method === 'GET').map((c) => c.target).sort(), [ALICE, CAROL]);
        fake.always({ status: 500 });
        const down = await sync.syncWorkers([BOB]);
        assert.equal(down?.ok, false);
        assert.deepEqual(down?.results.map((r) => r.outcome), ['failed']);
        const metrics = (await service.get('/metrics')).text;
        assert.match(metrics, /^fis_frontline_user_sync_total\{outcome="updated"\} 1$/m);
        assert.match(metrics, /^fis_frontline_user_sync_total\{outcome="not_signed_in"\} 1$/m);
        assert.match(metrics, /^fis_frontline_user_sync_total\{outcome="failed"\} 1$/m);
      } finally {
        await service.close();
      }
      // FRONTLINE_USER_SYNC off: syncWorkers does nothing.
      fake.reset();
      const off = await startService(db, { TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID, TWILIO_FRONTLINE_API_BASE_URL: fake.url });
      try {
        assert.equal(await off.app.services.workerSync.syncWorkers([ALICE]), undefined);
        assert.equal(fake.calls.length, 0);
      } finally {
        await off.close();
      }
    });
  });
}
