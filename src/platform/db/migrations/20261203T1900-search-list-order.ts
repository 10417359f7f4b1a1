import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * SQLite: the text index in list order.
 *
 * The trigram index named the customers containing a fragment, but in pk
 * order (import order), so the first page of a fragment many customers hold
 * (`ohns`, a last name inside every first name's block) cost either every
 * candidate, ranked, or a read of the book in list order up to the first
 * match. Now each customer has a label, `customers.list_pos`: integers that
 * order like (sort_key, customer_id), with gaps between them. The text index's
 * rowid is that label, so FTS5, which answers a query in rowid order, names
 * the customers containing a fragment in list order: a page is the first rows
 * of that answer that the scope sees and that have the rank asked for, read
 * from a cursor's label on, and reading stops when the page is full.
 *
 * Labels are kept by the triggers here, in the writer's transaction, for every
 * writer (import, the admin API, routing's auto-create, prune):
 * - a new or renamed customer gets the midpoint of its neighbours' labels (or
 *   the last label plus LABEL_GAP at the end of the list);
 * - when its neighbours have no integer between them, the 32 customers on each
 *   side of it (or 256, 2,048, 16,384, or every customer: the first window
 *   whose outer labels leave 64 apart per customer) are given evenly spaced
 *   labels between the labels just outside them, and their index entries
 *   moved; this costs about the window (1–2 ms for 32 a side at 1,000,000).
 * A bulk import defers both (search_index_deferred) and labels what it wrote
 * at its end (search-index.ts, catchUpSearchIndex). The digits index keeps the
 * pk as its rowid (a digits fragment is rare: its few customers are ranked), until
 * migration 20261206T1900 keys it by label too (createTriggers('label')).
 *
 * The upgrade labels every customer and rebuilds the text index: 8.9 s at
 * 1,000,000 customers here. PostgreSQL: nothing (GIN answers are not ordered).
 */
/** What the text index holds for a row (`new`, `old`, or a table alias): its text and two newlines (migration 20261203T0100). */
const indexed = (row: string) => `${row}.search_text || char(10, 10)`;

export const searchListOrder = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db, [...OLD_TRIGGERS, ...TRIGGERS]);
    await sql`drop table customer_search_text_terms`.execute(db);
    await sql`drop table customer_search_text`.execute(db);
    await sql`drop view customer_search_text_content`.execute(db);
    await sql`alter table customers add column list_pos integer`.execute(db);
    for (const statement of LABEL_ALL) await sql.raw(statement).execute(db);
    await sql`create index customers_list_pos on customers (list_pos)`.execute(db);
    // Scratch tables of the triggers' relabelling (a trigger cannot make temporary ones); always empty between statements.
    await sql`create table search_list_window (lo integer not null, hi integer not null)`.execute(db);
    await sql`create table search_relabel (pk integer primary key, label integer not null)`.execute(db);
    await sql
      .raw(
        `create view customer_search_text_content as select list_pos, ${indexed('customers')} as search_text from customers where search_text <> '' and list_pos is not null`,
      )
      .execute(db);
    await sql
      .raw(
        "create virtual table customer_search_text using fts5(search_text, content='customer_search_text_content', content_rowid='list_pos', " +
          "tokenize='trigram', detail='none', columnsize=0)",
      )
      .execute(db);
    for (const statement of INDEX_ALL) await sql.raw(statement).execute(db);
    await sql.raw("create virtual table customer_search_text_terms using fts5vocab(customer_search_text, 'row')").execute(db);
    for (const statement of createTriggers()) await sql.raw(statement).execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db, TRIGGERS);
    await sql`drop table customer_search_text_terms`.execute(db);
    await sql`drop table customer_search_text`.execute(db);
    await sql`drop view customer_search_text_content`.execute(db);
    await sql`drop table search_list_window`.execute(db);
    await sql`drop table search_relabel`.execute(db);
    await sql`drop index customers_list_pos`.execute(db);
    await sql`alter table customers drop column list_pos`.execute(db);
    // As migration 20261203T0100 left them.
    await sql
      .raw(
        `create view customer_search_text_content as select pk, ${indexed('customers')} as search_text from customers where search_text <> ''`,
      )
      .execute(db);
    await sql
      .raw(
        "create virtual table customer_search_text using fts5(search_text, content='customer_search_text_content', content_rowid='pk', " +
          "tokenize='trigram', detail='none', columnsize=0)",
      )
      .execute(db);
    await sql`insert into customer_search_text(customer_search_text) values ('rebuild')`.execute(db);
    await sql.raw("create virtual table customer_search_text_terms using fts5vocab(customer_search_text, 'row')").execute(db);
    const text = (row: string) => `insert into customer_search_text(rowid, search_text) select ${row}.pk, ${indexed(row)} where ${row}.search_text <> '';`;
    const untext = (row: string) =>
      `insert into customer_search_text(customer_search_text, rowid, search_text) select 'delete', ${row}.pk, ${indexed(row)} where ${row}.search_text <> '';`;
    await sql
      .raw(`create trigger customers_search_insert after insert on customers when ${NOT_DEFERRED} begin ${text('new')} ${addDigits} end`)
      .execute(db);
    await sql.raw(`create trigger customers_search_delete after delete on customers begin ${untext('old')} ${removeDigits} end`).execute(db);
    await sql
      .raw(
        `create trigger customers_search_update after update of search_text, phone_digits on customers begin ${untext('old')} ${removeDigits} ${text('new')} ${addDigits} end`,
      )
      .execute(db);
  },
});

/**
 * Labels are in (0, LABEL_TOP), LABEL_TOP = 2^53: JavaScript reads them as numbers, exactly up to there.
 * A bulk labelling leaves LABEL_GAP = 2^10 between neighbours: ten inserts into one gap before a window
 * around it is relabelled, and small steps between the rowids of a trigram's row list, which FTS5 stores
 * as varints (at 1,000,000 customers the text index is 74 MB with 2^10, 145 MB with 2^24, 37 MB by pk).
 */
export const LABEL_GAP = 1024;
export const LABEL_TOP = 9007199254740992;

/**
 * Every customer labelled afresh, LABEL_GAP apart in list order (the text index must be rebuilt after):
 * the labels are worked out into a temporary table in pk order first, so that the update writes the
 * table's pages in order (3.2 s at 1,000,000 customers, against 6.5 s updating in list order).
 */
export const LABEL_ALL: readonly string[] = [
  'create temp table search_labels (pk integer primary key, label integer not null)',
  `insert into search_labels select pk, row_number() over (order by sort_key, customer_id) * ${LABEL_GAP} from customers order by pk`,
  'update customers set list_pos = search_labels.label from search_labels where search_labels.pk = customers.pk',
  'drop table search_labels',
];

/**
 * Every customer into the (empty) text index, labelled as LABEL_ALL labels them, in label order: FTS5
 * flushes its buffer whenever a rowid is not above the one before, and reading the text in list order
 * comes from an index (customers_search_scan) without a fetch of each row. An empty text adds no term.
 */
export const INDEX_ALL: readonly string[] = [
  // No merging of segments while they are written, since 'optimize' merges them all once at the end
  // (3.3 → 2.6 s at 1,000,000 customers); then FTS5's default (4) again for the writes that follow.
  "insert into customer_search_text(customer_search_text, rank) values ('automerge', 0)",
  // A buffer of 8 MB instead of 1 before FTS5 writes out a segment: the insert 3.2 → 2.5 s at 1,000,000
  // customers (4 MB gained nothing; the digits index gains nothing either). Back to the default after.
  `insert into customer_search_text(customer_search_text, rank) values ('hashsize', ${8 * 1024 * 1024})`,
  `insert into customer_search_text(rowid, search_text) select row_number() over (order by sort_key, customer_id) * ${LABEL_GAP}, ` +
    `${indexed('customers')} from customers order by sort_key, customer_id`,
  // One segment instead of the several a large insert leaves: each query looks a term up once per
  // segment (searches 10–20% faster at 1,000,000 customers, for 1.9 s here).
  "insert into customer_search_text(customer_search_text) values ('optimize')",
  "insert into customer_search_text(customer_search_text, rank) values ('automerge', 4)",
  `insert into customer_search_text(customer_search_text, rank) values ('hashsize', ${1024 * 1024})`,
];

const NOT_DEFERRED = 'not exists (select 1 from search_index_deferred)';
const OLD_TRIGGERS = ['customers_search_insert', 'customers_search_delete', 'customers_search_update'];
export const TRIGGERS = ['customers_search_insert', 'customers_search_delete', 'customers_search_update', 'customers_search_digits_update'];

export async function dropTriggers(db: Kysely<any>, names: readonly string[]): Promise<void> {
  for (const name of new Set(names)) await sql.raw(`drop trigger if exists ${name}`).execute(db);
}

const addDigits =
  "insert into customer_search_digits(rowid, phone_digits) select new.pk, new.phone_digits where new.phone_digits <> '';";
const removeDigits =
  "insert into customer_search_digits(customer_search_digits, rowid, phone_digits) select 'delete', old.pk, old.phone_digits where old.phone_digits <> '';";

/** The row's current label (a trigger's `new.list_pos` is stale once the trigger has changed it). */
const LABEL = '(select list_pos from customers where pk = new.pk)';

/** The label of the `offset`-th labelled customer before (`<`) or after (`>`) the new row in list order, or null. */
function neighbour(side: '<' | '>', offset: number): string {
  const order = side === '<' ? 'desc' : 'asc';
  return (
    `(select list_pos from customers where (sort_key, customer_id) ${side} (new.sort_key, new.customer_id) and list_pos is not null ` +
    `order by sort_key ${order}, customer_id ${order} limit 1 offset ${offset})`
  );
}
const below = (offset: number) => `coalesce(${neighbour('<', offset)}, 0)`;
const above = (offset: number) => `coalesce(${neighbour('>', offset)}, ${LABEL_TOP})`;

/** Customers on each side of a new row relabelled when its neighbours leave no room: the first level that leaves room wins. */
const RELABEL_LEVELS = [32, 256, 2048, 16384];

/**
 * The statements that label the row `new` when it has no label and `guard` holds, in a trigger: room is
 * made first when its neighbours have no integer between them (a window around it relabelled, index
 * entries moved), then it takes the midpoint, and its text is indexed under its label when `fresh` (the
 * row had no label when the trigger began; otherwise the trigger indexes it itself).
 */
function place(guard: string, fresh: string, digits: DigitsKey = 'pk'): string[] {
  // Whether room must be made, as nested CASEs, which SQLite evaluates lazily: as plain ANDed terms the
  // walk to a level's outer neighbours could run on every update of every row (a re-import of 1,000,000
  // customers did not finish in 10 minutes). Here a row that has its label costs one lookup.
  const needsRoom = (then: string) =>
    `case when ${guard} then case when ${LABEL} is null then case when ${above(0)} - ${below(0)} < 2 then ${then} else 0 end else 0 end else 0 end`;
  // One statement per level, each only when no level before it made the window: a level's walk to its
  // outer neighbours (up to 16,384 customers) runs only when the smaller ones left no room.
  const window = [
    ...RELABEL_LEVELS.map((j) => ({ lo: below(j), hi: above(j), fits: `${above(j)} - ${below(j)} >= ${64 * (2 * j + 2)}` })),
    { lo: '0', hi: String(LABEL_TOP), fits: '1' },
  ].map(
    ({ lo, hi, fits }) =>
      `insert into search_list_window (lo, hi) select ${lo}, ${hi} where ` +
      `case when exists (select 1 from search_list_window) then 0 else ${needsRoom(fits)} end;`,
  );
  const inWindow = (c: string) => `${c}.list_pos > w.lo and ${c}.list_pos < w.hi`;
  return [
    // Room: the window (lo, hi) (labels just outside it), relabelled evenly, the new row included.
    ...window,
    `insert into customer_search_text(customer_search_text, rowid, search_text) select 'delete', c.list_pos, ${indexed('c')} ` +
      `from customers c, search_list_window w where ${inWindow('c')} and c.search_text <> '';`,
    ...(digits === 'label'
      ? [
          "insert into customer_search_digits(customer_search_digits, rowid, phone_digits) select 'delete', c.list_pos, c.phone_digits " +
            `from customers c, search_list_window w where ${inWindow('c')} and c.phone_digits <> '';`,
        ]
      : []),
    // The new labels are worked out first, then written by pk (an UPDATE … FROM read every customer).
    'insert into search_relabel (pk, label) select r.pk, w.lo + r.n * ((w.hi - w.lo) / (r.total + 1)) from search_list_window w, ' +
      '(select pk, row_number() over (order by sort_key, customer_id) as n, count(*) over () as total from ' +
      `(select c.pk, c.sort_key, c.customer_id from customers c, search_list_window w where ${inWindow('c')} ` +
      'union all select new.pk, new.sort_key, new.customer_id from search_list_window)) as r;',
    'update customers set list_pos = (select r.label from search_relabel r where r.pk = customers.pk) where pk in (select pk from search_relabel);',
    'delete from search_relabel;',
    `insert into customer_search_text(rowid, search_text) select c.list_pos, ${indexed('c')} from customers c, search_list_window w ` +
      `where ${inWindow('c')} and c.pk <> new.pk and c.search_text <> '';`,
    ...(digits === 'label'
      ? [
          'insert into customer_search_digits(rowid, phone_digits) select c.list_pos, c.phone_digits from customers c, search_list_window w ' +
            `where ${inWindow('c')} and c.pk <> new.pk and c.phone_digits <> '';`,
        ]
      : []),
    'delete from search_list_window;',
    // The label: at the end of the list, the last plus LABEL_GAP while there is room; else the midpoint.
    'update customers set list_pos = case ' +
      `when ${neighbour('>', 0)} is null and ${below(0)} < ${LABEL_TOP - 2 * LABEL_GAP} then ${below(0)} + ${LABEL_GAP} ` +
      `else ${below(0)} + (${above(0)} - ${below(0)}) / 2 end where pk = new.pk and list_pos is null and ${guard};`,
    `insert into customer_search_text(rowid, search_text) select list_pos, ${indexed('customers')} from customers ` +
      `where pk = new.pk and list_pos is not null and search_text <> '' and (${fresh});`,
    ...(digits === 'label'
      ? [
          'insert into customer_search_digits(rowid, phone_digits) select list_pos, phone_digits from customers ' +
            `where pk = new.pk and list_pos is not null and phone_digits <> '' and (${fresh});`,
        ]
      : []),
  ];
}

/**
 * What the digits index's rowid is: the customer's pk (this migration), or its label like the text
 * index's (migration 20261206T1900, whose triggers are these with `label`).
 */
export type DigitsKey = 'pk' | 'label';

/** The triggers keeping labels and both indexes (the text index by label, the digits index by `digits`). */
export function createTriggers(digits: DigitsKey = 'pk'): string[] {
  const untext =
    `insert into customer_search_text(customer_search_text, rowid, search_text) select 'delete', old.list_pos, ${indexed('old')} ` +
    "where old.list_pos is not null and old.search_text <> '';";
  // A renamed customer moves in the list: it is labelled again (now, or at a deferred import's end).
  const renamed = 'new.sort_key <> old.sort_key or new.customer_id <> old.customer_id';
  if (digits === 'label') return labelledTriggers(untext, renamed);
  return [
    `create trigger customers_search_insert after insert on customers when ${NOT_DEFERRED} begin ${addDigits} ${place('1', '1').join(' ')} end`,
    `create trigger customers_search_delete after delete on customers begin ${untext} ${removeDigits} end`,
    // A re-import rewrites every row it names, most of them as they were: those are left alone.
    'create trigger customers_search_digits_update after update of phone_digits on customers when new.phone_digits <> old.phone_digits ' +
      `begin ${removeDigits} ${addDigits} end`,
    'create trigger customers_search_update after update of search_text, sort_key, customer_id on customers ' +
      `when new.search_text <> old.search_text or ${renamed} or new.list_pos is null begin ` +
      `${untext} ` +
      `update customers set list_pos = null where pk = new.pk and (${renamed}); ` +
      // Not moved: indexed again under its label. Moved, or never labelled: placed now, or at the import's end.
      `insert into customer_search_text(rowid, search_text) select new.list_pos, ${indexed('new')} ` +
      `where not (${renamed}) and new.list_pos is not null and new.search_text <> ''; ` +
      `${place(NOT_DEFERRED, `${renamed} or new.list_pos is null`).join(' ')} end`,
  ];
}

/**
 * The triggers with the digits index keyed by label: its entries follow the text index's wherever a
 * label is given, moved or taken away, and a changed number is indexed again under the row's label by
 * the one update trigger (a row renamed and renumbered in one statement is placed once).
 */
function labelledTriggers(untext: string, renamed: string): string[] {
  const undigits =
    "insert into customer_search_digits(customer_search_digits, rowid, phone_digits) select 'delete', old.list_pos, old.phone_digits " +
    "where old.list_pos is not null and old.phone_digits <> '';";
  return [
    `create trigger customers_search_insert after insert on customers when ${NOT_DEFERRED} begin ${place('1', '1', 'label').join(' ')} end`,
    `create trigger customers_search_delete after delete on customers begin ${untext} ${undigits} end`,
    'create trigger customers_search_update after update of search_text, sort_key, customer_id, phone_digits on customers ' +
      `when new.search_text <> old.search_text or new.phone_digits <> old.phone_digits or ${renamed} or new.list_pos is null begin ` +
      `${untext} ${undigits} ` +
      `update customers set list_pos = null where pk = new.pk and (${renamed}); ` +
      `insert into customer_search_text(rowid, search_text) select new.list_pos, ${indexed('new')} ` +
      `where not (${renamed}) and new.list_pos is not null and new.search_text <> ''; ` +
      'insert into customer_search_digits(rowid, phone_digits) select new.list_pos, new.phone_digits ' +
      `where not (${renamed}) and new.list_pos is not null and new.phone_digits <> ''; ` +
      `${place(NOT_DEFERRED, `${renamed} or new.list_pos is null`, 'label').join(' ')} end`,
  ];
}
