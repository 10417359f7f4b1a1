/** Contracts that live in two places (code and docs) must agree. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFIG_VARIABLES, SQLITE_DEFAULTS } from '../src/platform/config.js';
import { ERROR_CODES } from '../src/kernel/errors.js';

test('docs/errors.md documents exactly the error catalogue', () => {
  const documented = [...readFileSync('docs/errors.md', 'utf8').matchAll(/^### ([A-Z_]+)$/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    const section = readFileSync('docs/errors.md', 'utf8').split(`### ${code}\n`)[1] ?? '';
    assert.ok(section.trimStart().startsWith(`${status}.`), `${code} is documented with status ${status}`);
  }
});

test('.env.example documents exactly the configuration variables', () => {
  const documented = [...readFileSync('.env.example', 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...CONFIG_VARIABLES].sort());
});

test('.env.example gives the SQLite settings their defaults (a copied .env must not pin old ones)', () => {
  const example = Object.fromEntries([...readFileSync('.env.example', 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  assert.deepEqual(
    { cacheMb: Number(example.SQLITE_CACHE_MB), mmapMb: Number(example.SQLITE_MMAP_MB), readThreads: Number(example.SQLITE_READ_THREADS) },
    SQLITE_DEFAULTS,
  );
});
