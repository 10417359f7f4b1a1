import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * PostgreSQL: an index of each number's six-digit windows at even offsets, for phone searches of seven
 * digits or more (search-index.ts, `pgFindNumber`).
 *
 * pg_trgm's trigrams of digits come from an alphabet of 1,000, so each is in about one number in a
 * hundred: a seven-digit query (`555 0134`) read four posting lists of about 10,000 entries each
 * (0.7 ms of the server's time at 1,000,000 customers) to find a few rows. A window of six digits is
 * in about three customers: `fis_phone_windows('15550134')` is {155501, 550134}, and a query holds one
 * of them wherever in a number it sits (its first six digits when it starts at an even offset of the
 * number, its digits two to seven otherwise), so asking for either reads two posting lists of a few
 * entries (0.03 ms). Windows never cross the space between two numbers of `phone_digits`.
 *
 * An expression index: every writer keeps it, in its own transaction, as it keeps the trigram indexes.
 * The upgrade builds it: about 10 s at 1,000,000 customers here, 41 MB (73 MB at every offset, 14–16 s; the
 * even offsets halve both, and leave six-digit queries to the trigrams). SQLite keeps the same windows
 * in a table (migration 20261206T0900).
 */
export const phoneWindows = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`
      create function fis_phone_windows(digits text) returns integer[]
      language plpgsql immutable strict parallel safe as $$
      declare
        windows integer[] := '{}';
        number_start integer := 1;
      begin
        for i in 1 .. length(digits) - 5 loop
          if substr(digits, i, 1) = ' ' then
            number_start := i + 1;
          elsif (i - number_start) % 2 = 0 and strpos(substr(digits, i, 6), ' ') = 0 then
            windows := windows || substr(digits, i, 6)::integer;
          end if;
        end loop;
        return windows;
      end
      $$`.execute(db);
    await sql`create index customers_phone_windows on customers using gin (fis_phone_windows(phone_digits))`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`drop index if exists customers_phone_windows`.execute(db);
    await sql`drop function if exists fis_phone_windows(text)`.execute(db);
  },
});
