/**
 * No list or search reply passes Frontline's 64 KB limit (Twilio error 48003),
 * whatever PageSize the app asks for: a page that would pass it ends early and
 * continues by next_page_token (issue 14, item 7, list side).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { MAX_REPLY_BYTES } from '../src/domains/customers/customer.service.js';
import { walk } from './helpers/crm.js';
import { useService } from './helpers/service.js';
import { seed, storeKinds } from './helpers/stores.js';

const WORKER = 'rep@example.com';
const COUNT = 450;

/** List items as large as validation allows: a 2,048-character avatar URL, 200 three-byte characters, a 255-character id. */
function large(i: number): CustomerRecord {
  const id = `${String(i).padStart(5, '0')}-${'Ü'.repeat(249)}`;
  const display_name = `山田 ${'漢'.repeat(190)} ${String(i).padStart(5, '0')}`;
  const base = `https://cdn.example.com/avatars/${i}/`;
  const avatar = base + 'a'.repeat(2048 - base.length);
  return { customer_id: id, display_name, avatar, workers: [WORKER] };
}

const RECORDS = Array.from({ length: COUNT }, (_, i) => large(i));

for (const kind of storeKinds()) {
  describe(`replies under 64 KB, on ${kind}`, () => {
    const fx = useService(kind, { setup: (s) => seed(s.store, RECORDS) });

    for (const by of ['token', 'anchor'] as const) {
      for (const query of [undefined, '山田', 'ü']) {
        test(`PageSize 200 of large customers, by ${by}${query ? `, Query ${query}` : ''}: every reply fits, every customer once`, async () => {
          const sizes: number[] = [];
          const ids = await walk(fx.service, {
            worker: WORKER,
            pageSize: 200,
            by,
            ...(query === undefined ? {} : { query }),
            shortPages: true,
            onReply: (text) => sizes.push(Buffer.byteLength(text)),
          });
          const expected = query === 'ü' ? [] : RECORDS.map((r) => r.customer_id);
          assert.deepEqual([...ids].sort(), [...expected].sort());
          assert.equal(new Set(ids).size, ids.length);
          assert.ok(Math.max(...sizes) <= MAX_REPLY_BYTES, `largest reply ${Math.max(...sizes)} bytes`);
          if (expected.length > 0) {
            // The limit, not the page size, ended the pages: more than one page, each well filled.
            assert.ok(sizes.length > 3, `${sizes.length} pages`);
            assert.ok(Math.max(...sizes) > MAX_REPLY_BYTES * 0.8, `largest reply ${Math.max(...sizes)} bytes`);
          }
        });
      }
    }
  });
}
