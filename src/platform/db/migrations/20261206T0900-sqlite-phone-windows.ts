import { CompiledQuery, type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { type WindowsConnection, fillWindows, sqliteWindowsOf } from '../phone-windows.js';

/**
 * SQLite: the six-digit windows of every customer's numbers (phone-windows.ts), for phone searches of
 * seven digits or more, which read five trigram row lists of about 9,000 customers from the digits index
 * (1 ms at 1,000,000 customers) where two windows name about three customers.
 *
 * A table clustered by window, kept by triggers as the text and digits indexes are: an insert's windows
 * are written by the trigger unless a bulk import deferred it (search_index_deferred), whose end writes
 * them all at once (search-index.ts, catchUpSearchIndex); a delete's and a changed number's always. The
 * upgrade fills it: about 3.5–4 s at 1,000,000 customers here, 41 MB. PostgreSQL: nothing (migration
 * 20261206T0700 keeps an expression index there).
 */
export const sqlitePhoneWindows = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await sql`create table customer_phone_windows (win integer not null, customer_pk integer not null, primary key (win, customer_pk)) without rowid`.execute(db);
    await fillWindows(windowsConnection(db), 0);
    for (const trigger of TRIGGERS) await sql.raw(trigger).execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    for (const name of TRIGGER_NAMES) await sql.raw(`drop trigger if exists ${name}`).execute(db);
    await sql`drop table if exists customer_phone_windows`.execute(db);
  },
});

/** A Kysely connection (or transaction) as fillWindows uses it. */
export function windowsConnection(db: Kysely<any>): WindowsConnection {
  return {
    rows: async (text, parameters) => (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [...parameters]))).rows.map((row) => Object.values(row)),
    run: async (text, parameters) => {
      await db.executeQuery(CompiledQuery.raw(text, [...parameters]));
    },
  };
}

const NOT_DEFERRED = 'not exists (select 1 from search_index_deferred)';
const addNew = `insert into customer_phone_windows (win, customer_pk) select w.win, new.pk from (${sqliteWindowsOf('new')}) w;`;
const removeOld = `delete from customer_phone_windows where customer_pk = old.pk and win in (select w.win from (${sqliteWindowsOf('old')}) w);`;

const TRIGGER_NAMES = ['customers_phone_windows_insert', 'customers_phone_windows_delete', 'customers_phone_windows_update'];
// The windows are distinct, and a changed number's old ones are deleted first: no statement here can
// conflict (a conflict clause would not help: the statement that fires a trigger imposes its own).
const TRIGGERS = [
  `create trigger customers_phone_windows_insert after insert on customers when new.phone_digits <> '' and ${NOT_DEFERRED} begin ${addNew} end`,
  `create trigger customers_phone_windows_delete after delete on customers when old.phone_digits <> '' begin ${removeOld} end`,
  'create trigger customers_phone_windows_update after update of phone_digits on customers when new.phone_digits <> old.phone_digits ' +
    `begin ${removeOld} ${addNew} end`,
];
