/**
 * Indexed search answers exactly what the plain scan answers (issue 11).
 *
 * A few thousand generated customers with awkward names (accents, apostrophes,
 * `%`, `_`, `\`, emoji, one-letter and 200-character names, e-mail addresses,
 * phone numbers) and a few thousand random queries drawn from them: for each
 * query, in a worker's book and with every customer visible, every page of
 * the indexed search (walked by cursor, as `next_page_token` does, and from
 * anchors, as `Anchor` does) equals the page the scan gives from the same
 * place. The scan (`scanSearchPage`) is the oracle: one query ranking and
 * sorting every visible match. A sample also walks through the HTTP callback.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../src/application/files/seed.js';
import {
  type ListRow,
  type Scope,
  CANDIDATE_CAP,
  findPosition,
  scanSearchPage,
  indexedSearchPage,
} from '../src/domains/customers/customer.repository.js';
import { successor } from '../src/kernel/text.js';
import { searchTerms } from '../src/domains/customers/customer.service.js';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { walk } from './helpers/crm.js';
import { useService } from './helpers/service.js';
import { seed, storeKinds } from './helpers/stores.js';

const random = seededRandom(20261202);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));

const FIRST = [
  'José', 'Zoë', 'Ñúñez', 'Ångström', "O'Brien", "D'Arcy", 'Mary', 'John', 'Johnson', 'Ann', 'Åsa', 'Øyvind', 'Çelik',
  'Łukasz', 'Straße', 'ﬁona', 'Ⅻ Club', '100%', 'Juice_Bar', 'back\\slash', 'Smith', 'Jo', 'Li', 'Al', 'Bo', 'Ed',
  '😀 Happy', '👩‍💻 Dev', '山田', 'İlkay', 'Σίσυφος', 'Ольга', 'renée', 'RENÉE', 'Mc Donald', 'von Trapp', 'x',
  'Q', 'A', 'Ø', 'Ab%_c', "Zed's", 'Ohnsorg', 'Peter', 'Joseph', 'Martin', 'Kim', 'Lee', '%', '_', '\\',
];
const LAST = ['Smith', 'Johnson', 'Johnsen', 'Álvarez', 'Martin', 'Lee', 'Nguyen', 'Müller', "O'Neil", 'García', 'Ng', 'Wu', ''];
const DOMAINS = ['example.com', 'mail.example.org', 'jnj.example.com', 'exämple.net', 'x.io'];
const WORKERS = ['w1', 'w2', 'w3'];
const COUNT = 2500;

function name(): string {
  const roll = random();
  if (roll < 0.03) return pick(['A', 'Q', 'x', 'Ø', '%', '_', '\\', '😀', "'"]);
  if (roll < 0.05) {
    // Very long names, up to the 200-character limit.
    let long = '';
    while (long.length < 180) long += `${pick(FIRST)} `;
    // Cut between characters, never inside an emoji's surrogate pair (a lone surrogate is refused on import).
    const limit = int(150, 200);
    let cut = '';
    for (const char of long) {
      if (cut.length + char.length > limit) break;
      cut += char;
    }
    return cut.trim() || 'Long';
  }
  const parts = [pick(FIRST)];
  if (random() < 0.8) parts.push(pick(LAST));
  if (random() < 0.2) parts.push(pick(FIRST));
  return parts.join(random() < 0.1 ? '  ' : ' ').trim() || 'Blank';
}

function phone(): string {
  return pick([`+1555${String(int(0, 9_999_999)).padStart(7, '0')}`, `+4420${String(int(0, 99_999_999)).padStart(8, '0')}`, `+3460${String(int(0, 9_999_999)).padStart(7, '0')}`]);
}

function records(): CustomerRecord[] {
  const out: CustomerRecord[] = [];
  for (let i = 0; i < COUNT; i++) {
    const display_name = name();
    const channels: NonNullable<CustomerRecord['channels']> = [];
    const local = display_name.normalize('NFKD').replace(/[^A-Za-z0-9.]/g, '').slice(0, 20) || `user${i}`;
    // Digits in some addresses: the customer's number, or five to eight shared by a few (SQLite's text windows).
    const digits = i % 7 === 0 ? `.${i}` : i % 5 === 0 ? String(10_000 + ((i * 7919) % 90) * 1111).repeat(1 + (i % 2)) : '';
    if (random() < 0.6) channels.push({ type: 'email', value: `${local}${digits}@${pick(DOMAINS)}` });
    if (random() < 0.6) channels.push({ type: 'sms', value: phone() });
    if (random() < 0.15) channels.push({ type: 'whatsapp', value: `whatsapp:${phone()}` });
    const workers = WORKERS.filter(() => random() < 0.45);
    if (workers.length === 0) workers.push(pick(WORKERS));
    const customer_id = random() < 0.05 ? pick(['jo', 'smith', '555', 'a', `id%_${i}`, `Ü${i}`]) + (i % 3 === 0 ? '' : `-${i}`) : `C-${i}`;
    out.push({ customer_id, display_name, workers, ...(channels.length ? { channels } : {}) });
  }
  // Ids repeat among the generated ones; keep the first of each.
  const seen = new Set<string>();
  return out.filter((r) => !seen.has(r.customer_id) && seen.add(r.customer_id));
}

const fragment = (text: string, min: number, max: number) => {
  const chars = [...text];
  const length = Math.min(chars.length, int(min, max));
  const start = int(0, Math.max(0, chars.length - length));
  return chars.slice(start, start + length).join('');
};

function queries(customers: CustomerRecord[], n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const c = pick(customers);
    const emails = (c.channels ?? []).filter((ch) => ch.type === 'email').map((ch) => ch.value);
    const phones = (c.channels ?? []).filter((ch) => ch.type !== 'email').map((ch) => ch.value.replace(/^whatsapp:/, ''));
    const roll = random();
    let q: string;
    if (roll < 0.25) q = fragment(c.display_name, 3, 8);
    else if (roll < 0.35) q = fragment(c.display_name, 1, 2);
    else if (roll < 0.42) q = pick(c.display_name.split(' ').filter(Boolean)) ?? c.display_name;
    else if (roll < 0.47) q = fragment(c.display_name, 2, 6).toUpperCase();
    else if (roll < 0.57 && emails.length) {
      const email = pick(emails);
      // Half the time from a run of five digits or more on (`123456@ex`), where the address has one.
      const run = /[0-9]{5,}@?[a-z]*/.exec(email)?.[0];
      const start = run ? int(0, run.length - 5) : 0;
      q = run && random() < 0.5 ? run.slice(start, int(start + 5, run.length)) : fragment(email, 2, 12);
    }
    else if (roll < 0.7 && phones.length) {
      const digits = pick(phones).replace(/^\+/, '');
      const part = fragment(digits, 3, 11);
      q = pick([part, part.replace(/(\d{3})(?=\d)/g, '$1 '), `(${part.slice(0, 3)}) ${part.slice(3)}`, `+${digits}`, part.split('').join('-'), `+1 (${digits.slice(1, 4)}) ${digits.slice(4)}`]);
    } else if (roll < 0.77) q = c.customer_id;
    else if (roll < 0.85) q = pick(['zzqx', 'johnsonx', '555 0135 99', 'nobody@nowhere', '9999999', '%%', '__', '\\\\', "''", '😀😀', 'ÿ']);
    else if (roll < 0.95) q = pick(['a', 'j', 'o', 's', '%', '_', '\\', "'", 'é', 'ø', '😀', '5', '55', 'jo', 'ed', ' ', 'x', 'q', 'zz', "o'", '1']);
    else q = fragment(c.display_name, 9, 40);
    q = q.trim();
    if (q !== '' && q.length <= 200) out.push(q);
  }
  return out;
}

const ids = (rows: ListRow[]) => rows.map((r) => `${r.rank}:${r.customer_id}`);

for (const kind of storeKinds()) {
  describe(`indexed search equals the scan, on ${kind}`, () => {
    const data = records();
    const fx = useService(kind, { setup: (s) => seed(s.store, data) });

    test('successor is the least string above every string with the prefix', () => {
      assert.equal(successor('ab'), 'ac');
      assert.equal(successor('a\u{10FFFF}'), 'b');
      assert.equal(successor('\u{D7FF}'), '\u{E000}');
      assert.equal(successor(''), undefined);
    });

    test(`${COUNT} customers, 2,000 random queries, every page by cursor and from anchors, in a book and with all visible`, async () => {
      const store = fx.service.store;
      const scopes: Scope[] = [{ kind: 'worker', worker: 'w1' }, { kind: 'worker', worker: 'w3' }, { kind: 'all' }];
      const counted = { queries: 0, pages: 0, anchors: 0, rows: 0, large: 0 };
      for (const query of queries(data, 2000)) {
        const search = searchTerms(query, 'US');
        const scope = pick(scopes);
        const all = await scanSearchPage(store, scope, search, undefined, 100_000);
        if (all.length > CANDIDATE_CAP / 3) counted.large++;
        counted.queries++;
        counted.rows += all.length;
        // By cursor (next_page_token): every page equals the scan's page from the same place.
        const pageSize = pick([1, 2, 5, 30, 31, 200]);
        let after: { rank: number; sortKey: string; customerId: string } | undefined;
        const walked: ListRow[] = [];
        for (let page = 0; page < 6; page++) {
          const expected = await scanSearchPage(store, scope, search, after, pageSize);
          const got = await indexedSearchPage(store, scope, search, after, pageSize);
          assert.deepEqual(ids(got), ids(expected), `${JSON.stringify(query)} ${scope.kind} page ${page} size ${pageSize}`);
          assert.deepEqual(got, expected);
          counted.pages++;
          walked.push(...got);
          const last = got.at(-1);
          if (got.length < pageSize || !last) break;
          after = { rank: last.rank, sortKey: last.sort_key, customerId: last.customer_id };
        }
        assert.deepEqual(ids(walked), ids(all.slice(0, walked.length)));
        // From an anchor (Anchor): a random matching customer, and one that does not match.
        if (all.length > 0) {
          const anchor = pick(all);
          const position = await findPosition(store, scope, anchor.customer_id, search);
          assert.deepEqual(position, { rank: anchor.rank, sortKey: anchor.sort_key, customerId: anchor.customer_id });
          const expected = await scanSearchPage(store, scope, search, position, pageSize);
          assert.deepEqual(ids(await indexedSearchPage(store, scope, search, position, pageSize)), ids(expected), `${query} anchor`);
          counted.anchors++;
        }
      }
      // The mix reached both ways of finding a rank: the index and the read in list order.
      assert.ok(counted.large > 20, JSON.stringify(counted));
      assert.ok(counted.rows > 10_000, JSON.stringify(counted));
    });

    test('after a re-import (renames, new customers), a prune and routing-style upserts, the index still equals the scan', async () => {
      const store = fx.service.store;
      const changed = data.map((r, i) =>
        i % 5 === 0 ? { ...r, display_name: name(), channels: [{ type: 'email' as const, value: `renamed${i}@example.com` }] } : r,
      );
      const fresh = records().map((r) => ({ ...r, customer_id: `new-${r.customer_id}` })).slice(0, 300);
      // Keep three customers in four, renaming one in five, adding 300: updates, inserts and deletes.
      await seed(store, [...changed.filter((_, i) => i % 4 !== 1), ...fresh], { prune: true });
      if (kind === 'sqlite') {
        // FTS5 checks its external-content index against the table itself.
        const driver = store.driver;
        assert.equal(driver.kind, 'sqlite');
        if (driver.kind === 'sqlite') {
          for (const table of ['customer_search_text', 'customer_search_digits']) {
            driver.database.prepare(`insert into ${table}(${table}, rank) values ('integrity-check', 1)`).run();
          }
        }
      }
      const now = [...changed.filter((_, i) => i % 4 !== 1), ...fresh];
      for (const query of queries(now, 300)) {
        const search = searchTerms(query, 'US');
        for (const scope of [{ kind: 'worker', worker: 'w2' }, { kind: 'all' }] as Scope[]) {
          const expected = await scanSearchPage(store, scope, search, undefined, 40);
          assert.deepEqual(ids(await indexedSearchPage(store, scope, search, undefined, 40)), ids(expected), `${query} ${scope.kind}`);
        }
      }
    });

    test('through the callback: walks by token and by anchor list what the scan lists', async () => {
      const store = fx.service.store;
      for (const query of queries(data, 40)) {
        const all = await scanSearchPage(store, { kind: 'worker', worker: 'w2' }, searchTerms(query, 'US'), undefined, 100_000);
        const expected = all.map((r) => r.customer_id);
        for (const by of ['token', 'anchor'] as const) {
          const pageSize = pick([3, 30]);
          if (by === 'anchor' && new Set(expected).size !== expected.length) continue;
          const got = await walk(fx.service, { worker: 'w2', pageSize, by, query, maxPages: 2000 });
          assert.deepEqual(got, expected, `${JSON.stringify(query)} by ${by}`);
        }
      }
    });
  });
}
