import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { sqliteHasTextWindow, fillTextWindows, sqliteTextWindowsOf } from '../phone-windows.js';
import { windowsConnection } from './20261206T0900-sqlite-phone-windows.js';

/**
 * SQLite: every five consecutive digits of each customer's search_text (phone-windows.ts, the texts'
 * windows), for fragments holding five digits (`123456@example`), which read three trigram row lists of
 * about 4,000 customers each from the text index at 1,000,000 customers, where a window names about 20.
 *
 * Kept as the phone windows are: by triggers, an insert's unless a bulk import deferred it
 * (search_index_deferred), whose end writes them all at once (search-index.ts, catchUpSearchIndex); a
 * delete's and a changed text's always. The upgrade fills it. PostgreSQL: nothing (its trigram index
 * answers these fragments within its targets: BENCHMARKS.md, issue 11, seventeenth round).
 */
export const sqliteTextWindows = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await sql`create table customer_text_windows (win integer not null, customer_pk integer not null, primary key (win, customer_pk)) without rowid`.execute(db);
    await fillTextWindows(windowsConnection(db), 0);
    for (const trigger of TRIGGERS) await sql.raw(trigger).execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    for (const name of TRIGGER_NAMES) await sql.raw(`drop trigger if exists ${name}`).execute(db);
    await sql`drop table if exists customer_text_windows`.execute(db);
  },
});

const NOT_DEFERRED = 'not exists (select 1 from search_index_deferred)';
const addNew = `insert into customer_text_windows (win, customer_pk) select w.win, new.pk from (${sqliteTextWindowsOf('new')}) w;`;
const removeOld = `delete from customer_text_windows where customer_pk = old.pk and win in (select w.win from (${sqliteTextWindowsOf('old')}) w);`;

const TRIGGER_NAMES = ['customers_text_windows_insert', 'customers_text_windows_delete', 'customers_text_windows_update'];
// As the phone windows' triggers: distinct windows, the old ones deleted first, so nothing conflicts.
const TRIGGERS = [
  `create trigger customers_text_windows_insert after insert on customers when ${sqliteHasTextWindow('new.search_text')} and ${NOT_DEFERRED} begin ${addNew} end`,
  `create trigger customers_text_windows_delete after delete on customers when ${sqliteHasTextWindow('old.search_text')} begin ${removeOld} end`,
  'create trigger customers_text_windows_update after update of search_text on customers when new.search_text <> old.search_text ' +
    `begin ${removeOld} ${addNew} end`,
];
