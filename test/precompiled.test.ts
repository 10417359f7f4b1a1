/**
 * The typed statements of platform/db/precompiled.ts, as each store runs them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declaredStatements } from '../src/platform/db/precompiled.js';
import { SQLITE_FIND, SQLITE_TEXT_FIND } from '../src/platform/db/phone-windows.js';
import '../src/domains/customers/customer.repository.js';
import { createTestDatabase, openTestStore } from './helpers/stores.js';

test('no SQLite statement binds a LIKE pattern, a LIMIT or an OFFSET as a bare parameter (SQLite would prepare it again on every run)', async () => {
  const db = await createTestDatabase('sqlite');
  const store = await openTestStore(db);
  try {
    const statements = declaredStatements();
    assert.ok(statements.length > 20, `${statements.length} statements declared`);
    const withLike = statements.map((statement) => statement.sqlFor(store)).filter((text) => /\blike\b/i.test(text));
    assert.ok(withLike.length > 10, `${withLike.length} statements with a LIKE`);
    assert.deepEqual(withLike.filter((text) => /\blike\s+\?/i.test(text)), []);
    const texts = [...statements.map((statement) => statement.sqlFor(store)), SQLITE_FIND, SQLITE_TEXT_FIND];
    assert.ok(texts.filter((text) => /\blimit\b/i.test(text)).length > 10);
    // A bare parameter, not one in an expression (`offset ? - 1` is an expression).
    assert.deepEqual(texts.filter((text) => /\b(limit|offset)\s+\?(?!\s*[-+])/i.test(text)), []);
  } finally {
    await store.close();
    await db.drop();
  }
});
