/** `fis demo` (what `npm run demo` runs after building): the console's address and a working admin token. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CLI } from './helpers/cli.js';

test('fis demo prints the console URL and an admin token it created, which the admin API accepts', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fis-demo-'));
  const child = spawn(process.execPath, [...CLI, 'demo', '--customers', '50', '--workers', '3'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: `sqlite:${path.join(dir, 'demo.sqlite')}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (err += d));
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start:\n${err}`)), 60_000);
      child.stderr.on('data', () => {
        if (/Admin token for the console[^\n]*: fis_\S+\n/.test(err)) {
          clearTimeout(timer);
          resolve(err);
        }
      });
      child.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${err}`)));
    });
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] as string;
    const token = /Admin token for the console[^\n]*: (fis_\S+)/.exec(output)?.[1] as string;
    assert.match(output, /^Web console: http:\/\/localhost:\d+\/console/m);
    const res = await fetch(`${url}/api/v1/customers?page_size=5`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { customers: unknown[] }).customers.length, 5);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
