/**
 * `fis demo` signs with the TWILIO_AUTH_TOKEN of ./.env when there is one, and
 * generates (and prints) a token only when there is none. Through the real CLI
 * and the real HTTP stack, on each store.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI } from './helpers/cli.js';
import { postForm, sign } from './helpers/service.js';
import { createTestDatabase, storeKinds, type TestDatabase } from './helpers/stores.js';

interface Demo {
  child: ChildProcess;
  /** What it printed on standard error once it listened. */
  banner: string;
  url: string;
}

/** Starts `fis demo` in `cwd` and resolves once it has printed how to call it. */
function startDemo(cwd: string, env: Record<string, string>): Promise<Demo> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'demo', '--customers', '20', '--workers', '3'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fis demo did not start:\n${stderr}\n${stdout}`));
    }, 60_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      const listening = /listening on (http:\/\/[^\s,]+)/.exec(stderr);
      if (listening && /curl .*\n/.test(stderr)) {
        clearTimeout(timer);
        resolve({ child, banner: stderr, url: listening[1] as string });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fis demo exited with ${code}:\n${stderr}\n${stdout}`));
    });
  });
}

async function stopDemo(demo: Demo): Promise<void> {
  if (demo.child.exitCode !== null) return;
  const exited = new Promise((done) => demo.child.once('exit', done));
  demo.child.kill('SIGTERM');
  await exited;
}

const LIST = { Location: 'GetCustomersList', Worker: 'alice.johnson@example.com', PageSize: '5' };

for (const kind of storeKinds()) {
  describe(`fis demo on ${kind}`, () => {
    let db: TestDatabase;
    let cwd: string;
    before(async () => {
      db = await createTestDatabase(kind);
      cwd = mkdtempSync(path.join(tmpdir(), 'fis-demo-'));
    });
    after(async () => {
      rmSync(cwd, { recursive: true, force: true });
      await db.drop();
    });

    test('uses the TWILIO_AUTH_TOKEN set in .env instead of generating one', async () => {
      const token = 'token-from-the-dot-env-file-0123';
      const dotEnv = { ...db.env, TWILIO_AUTH_TOKEN: token, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
      writeFileSync(path.join(cwd, '.env'), Object.entries(dotEnv).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
      const demo = await startDemo(cwd, {});
      try {
        assert.doesNotMatch(demo.banner, /Generated TWILIO_AUTH_TOKEN/);
        // The curl it prints is signed with the .env token for the URL it prints.
        const curl = /curl -s (\S+) -H 'X-Twilio-Signature: ([^']+)'/.exec(demo.banner);
        assert.ok(curl, demo.banner);
        assert.equal(curl[2], sign(curl[1] as string, LIST, token));
        // And the service checks signatures against that token.
        const ok = await postForm(demo.url, '/callbacks/crm', LIST, { authToken: token });
        assert.equal(ok.status, 200, ok.text);
        assert.ok(ok.json.objects.customers.length > 0);
        const forged = await postForm(demo.url, '/callbacks/crm', LIST, { authToken: 'some-other-token' });
        assert.equal(forged.status, 403);
      } finally {
        await stopDemo(demo);
        rmSync(path.join(cwd, '.env'));
      }
    });

    test('without a token anywhere, generates one, prints it, and checks signatures against it', async () => {
      const demo = await startDemo(cwd, { ...db.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
      try {
        const generated = /Generated TWILIO_AUTH_TOKEN for this run: ([0-9a-f]{32})/.exec(demo.banner);
        assert.ok(generated, demo.banner);
        const ok = await postForm(demo.url, '/callbacks/crm', LIST, { authToken: generated[1] });
        assert.equal(ok.status, 200, ok.text);
      } finally {
        await stopDemo(demo);
      }
    });
  });
}
