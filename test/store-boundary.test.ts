/**
 * Only src/platform/db knows which dialect is in use: no module above it
 * imports a driver or the Dialect type, compares a dialect, reaches for the
 * raw driver, or writes raw SQL text (repositories use Kysely builders, and
 * `Store.bulk`/`Store.write` for what differs between the stores).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '../src');
const DB = path.join(SRC, 'platform', 'db');

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

const RULES: Array<[RegExp, string]> = [
  [/from\s+'(pg|better-sqlite3)'/, 'imports a database driver'],
  [/platform\/db\/dialect\.js'/, 'imports the Dialect type'],
  [/\bdialect\s*[!=]==|[!=]==\s*'(sqlite|postgres)'.*dialect|\.dialect\s*[!=]==/, 'branches on the dialect'],
  [/\.driver\b/, 'reaches for the raw driver'],
  [/\bCompiledQuery\b|\bsql\.raw\b/, 'writes raw SQL text'],
];

test('no module outside src/platform/db depends on the dialect', () => {
  const offences: string[] = [];
  for (const file of sources(SRC)) {
    if (file.startsWith(DB + path.sep)) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const [pattern, what] of RULES) {
        if (pattern.test(line)) offences.push(`${path.relative(SRC, file)}:${i + 1} ${what}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offences, []);
});
