/** docs/errors.md documents exactly the codes of src/errors.ts, each with its status. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../src/errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const sections = [...doc.matchAll(/^### (\S+)\n(\d{3})\./gm)].map((m) => [m[1], Number(m[2])] as const);

test('every error code is documented once, with its status, and nothing else is', () => {
  assert.deepEqual(
    [...sections].sort(([a], [b]) => a.localeCompare(b)),
    Object.entries(ERROR_CODES).sort(([a], [b]) => a.localeCompare(b)),
  );
});
