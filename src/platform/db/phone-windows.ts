/**
 * Phone numbers found by their six-digit windows (migrations 20261206T0700 on PostgreSQL, 20261206T0900
 * on SQLite).
 *
 * Digits come from an alphabet of ten, so each trigram of digits is in about one number in a hundred,
 * and a trigram index (FTS5's, pg_trgm's) reads long row lists for a query of seven digits: about
 * 45,000 entries for `555 0134` at 1,000,000 customers (1 ms on SQLite, 0.7 ms of PostgreSQL's time).
 * A window of six digits is in about three customers. Every number's windows at even offsets are kept
 * (`15550134`: 155501 and 550134), and digits of seven or more hold one of their first two windows
 * wherever they sit in a number: the one at their first digit when that is at an even offset of the
 * number, the one at their second otherwise. So asking for those two names every holder, plus a few
 * that hold only a window, and each is checked for the whole digits. Windows never cross the space
 * between two numbers of `phone_digits`; shorter queries keep the trigram index.
 */

/** Digits the windows find: seven or more (shorter ones are found through the trigram index). */
export const WINDOWED = /^[0-9]{7,}$/;

/** The two windows digits of seven or more hold one of (see the top of this file). */
export function windowsAsked(digits: string): [number, number] {
  return [Number(digits.slice(0, 6)), Number(digits.slice(1, 7))];
}

/**
 * Offsets (0-based, even) of the windows kept in each number. Stored numbers are E.164 (at most 15
 * digits, so windows at 0–8); SQLite's triggers list the offsets (SQLITE_OFFSETS), and a number of more
 * than 69 digits would not be found by digits past the 64th: the writers make none.
 */
const MAX_OFFSET = 62;

/** The windows of `phoneDigits` (numbers separated by spaces), as SQLite's triggers compute them. */
export function windowsOf(phoneDigits: string): number[] {
  const windows: number[] = [];
  for (const number of phoneDigits.split(' ')) {
    for (let i = 0; i + 6 <= number.length && i <= MAX_OFFSET; i += 2) windows.push(Number(number.slice(i, i + 6)));
  }
  return windows;
}

/** SQLite: 1-based offsets of the windows, as a JSON array for `json_each`. */
const SQLITE_OFFSETS = JSON.stringify(Array.from({ length: MAX_OFFSET / 2 + 1 }, (_, i) => 2 * i + 1));

/**
 * SQLite: a select of the distinct windows of the row `row` (`new` or `old` in a trigger), column `win`.
 * `phone_digits` holds digits and spaces only, so splitting it into a JSON array of numbers is safe.
 */
export function sqliteWindowsOf(row: 'new' | 'old'): string {
  return (
    `select distinct cast(substr(n.value, o.value, 6) as integer) as win ` +
    `from json_each('["' || replace(${row}.phone_digits, ' ', '","') || '"]') n, json_each('${SQLITE_OFFSETS}') o ` +
    'where o.value + 5 <= length(n.value)'
  );
}

/** SQLite: the customers (pks) holding either of two windows (the first two values) and the whole digits (the third), at most the fourth value of them (`+ 0`: see StatementKit.rows). */
export const SQLITE_FIND =
  'select c.pk from customers c where c.pk in (select customer_pk from customer_phone_windows where win in (?, ?)) ' +
  'and instr(c.phone_digits, ?) > 0 limit (? + 0)';

/** Customers read at a time by `fillWindows`; their windows are sorted and written before the next. */
const FILL_CHUNK = 250_000;
/** Windows written per statement by `fillWindows` (two values each). */
const FILL_ROWS = 500;

/** What `fillWindows` needs of a connection: a query returning rows, and one that writes. */
export interface WindowsConnection {
  rows(sqlText: string, parameters: readonly unknown[]): Promise<ReadonlyArray<readonly unknown[]>>;
  run(sqlText: string, parameters: readonly unknown[]): Promise<void>;
}

const INSERT_ONE = 'insert or ignore into customer_phone_windows (win, customer_pk) values (?, ?)';
const INSERT_MANY = `insert or ignore into customer_phone_windows (win, customer_pk) values ${Array.from({ length: FILL_ROWS }, () => '(?, ?)').join(', ')}`;

/**
 * SQLite: writes the windows of every customer with a pk above `sincePk` (the upgrade: all; an import:
 * those it inserted, whose insert trigger it deferred), FILL_CHUNK customers at a time: read in pk order
 * as one row (`pk digits…` joined by commas: a row object per customer cost as much again in allocating
 * them), their windows computed here (in SQL, with `json_each`, 8.3 s for 1,000,000 customers), sorted,
 * and written in window order by statements of FILL_ROWS rows of fixed text (prepared once: the store's
 * statement cache).
 */
export async function fillWindows(connection: WindowsConnection, sincePk: number): Promise<number> {
  let after = sincePk;
  let written = 0;
  for (;;) {
    const [chunk] = await connection.rows(
      "select max(pk), group_concat(pk || ' ' || phone_digits, ',') from " +
        "(select pk, phone_digits from customers where pk > ? and phone_digits <> '' order by pk limit ?)",
      [after, FILL_CHUNK],
    );
    const [last, text] = (chunk ?? [null, null]) as readonly [number | null, string | null];
    if (last === null || text === null) return written;
    // A window and a pk in one number, the window above 2^32 (below 2^20; the pk below 2^32: exact in a double).
    const customers = text.split(',');
    // Sized for five windows a customer (an E.164 number has at most five), grown past that.
    let keys = new Float64Array(customers.length * 5);
    let count = 0;
    for (const customer of customers) {
      const space = customer.indexOf(' ');
      const pk = Number(customer.slice(0, space));
      for (const win of windowsOf(customer.slice(space + 1))) {
        if (count === keys.length) {
          const larger = new Float64Array(keys.length * 2);
          larger.set(keys);
          keys = larger;
        }
        keys[count++] = win * 2 ** 32 + pk;
      }
    }
    const sorted = keys.subarray(0, count).sort();
    const values = new Array<number>(2 * FILL_ROWS);
    let i = 0;
    for (; i + FILL_ROWS <= count; i += FILL_ROWS) {
      for (let j = 0; j < FILL_ROWS; j++) {
        const key = sorted[i + j] as number;
        values[2 * j] = Math.floor(key / 2 ** 32);
        values[2 * j + 1] = key % 2 ** 32;
      }
      await connection.run(INSERT_MANY, values);
    }
    for (; i < count; i++) {
      const key = sorted[i] as number;
      await connection.run(INSERT_ONE, [Math.floor(key / 2 ** 32), key % 2 ** 32]);
    }
    written += count;
    after = Number(last);
  }
}
