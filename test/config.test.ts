/** .env.example documents exactly the variables the configuration reads. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFIG_VARIABLES } from '../src/config.js';

test('every configuration variable is in .env.example, and nothing else is', () => {
  const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const listed = [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
  assert.deepEqual([...listed].sort(), [...CONFIG_VARIABLES].sort());
});
