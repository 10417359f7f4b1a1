/**
 * `fis import` and `fis export` show progress on a terminal (records, rate,
 * time left) and stay quiet otherwise. The terminal is a real pseudo-terminal
 * (util-linux `script`), the commands the real CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { countLines, formatDuration, Progress } from '../src/transports/cli/progress.js';
import { generateCustomers } from '../src/application/files/seed.js';
import { CLI, runCli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/stores.js';

test('Progress draws records, rate and time left on a terminal, at most five times a second', async () => {
  const written: string[] = [];
  const progress = new Progress('imported', { isTTY: true, write: (t: string) => written.push(t) });
  progress.setTotal(1000);
  progress.update(10);
  progress.update(20); // too soon: not drawn
  assert.equal(written.length, 1);
  await new Promise((r) => setTimeout(r, 600));
  progress.update(500);
  assert.equal(written.length, 2);
  assert.match(written[1] as string, /^\r\x1b\[2Kimported 500 of ~1,000 records, [\d,]+\/s, \d+ s left$/);
  progress.finish();
  assert.equal(written.at(-1), '\r\x1b[2K');
});

test('Progress writes nothing when standard error is not a terminal', () => {
  const written: string[] = [];
  const progress = new Progress('imported', { isTTY: false, write: (t: string) => written.push(t) });
  progress.update(1);
  progress.finish();
  assert.deepEqual(written, []);
});

test('formatDuration and countLines', async () => {
  assert.equal(formatDuration(4.2), '5 s');
  assert.equal(formatDuration(125), '2 min 5 s');
  assert.equal(formatDuration(Number.NaN), '?');
  const dir = mkdtempSync(path.join(tmpdir(), 'fis-lines-'));
  try {
    writeFileSync(path.join(dir, 'a'), 'a\nb\nc\n');
    writeFileSync(path.join(dir, 'b'), 'a\nb\nc');
    assert.equal(await countLines(path.join(dir, 'a')), 3);
    assert.equal(await countLines(path.join(dir, 'b')), 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('fis import / export progress', () => {
  let db: TestDatabase;
  let dir: string;
  let file: string;
  before(async () => {
    db = await createTestDatabase('sqlite');
    dir = mkdtempSync(path.join(tmpdir(), 'fis-progress-'));
    file = path.join(dir, 'customers.ndjson');
    writeFileSync(file, [...generateCustomers({ customers: 3000, workers: 3, seed: 5 })].map((c) => JSON.stringify(c)).join('\n') + '\n');
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  test('quiet when standard error is not a terminal', async () => {
    const res = await runCli(['import', file], db.env);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(!res.stderr.includes('\r'), 'no progress line');
    assert.match(res.stderr, /^imported 3000 customer\(s\)/m);
    const out = await runCli(['export', path.join(dir, 'out.ndjson')], db.env);
    assert.ok(!out.stderr.includes('\r'));
  });

  test('on a terminal, a progress line, cleared before the summary', () => {
    const command = [process.execPath, ...CLI, 'export', path.join(dir, 'out2.ndjson')].map((a) => `'${a}'`).join(' ');
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...db.env };
    // `script` gives the command a pseudo-terminal; its output is the terminal's.
    const exported = spawnSync('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8', cwd: dir, timeout: 60_000 });
    assert.equal(exported.status, 0, exported.stdout + exported.stderr);
    assert.match(exported.stdout, /exported [\d,]+ of ~3,000 records/);
    assert.match(exported.stdout, /\r\x1b\[2Kexported 3000 customer\(s\)/);
  });
});
