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

/** Two windows tables, each (win, customer_pk) clustered by window: the numbers' and the texts'. */
type WindowsTable = 'customer_phone_windows' | 'customer_text_windows';

const insertOne = (table: WindowsTable) => `insert or ignore into ${table} (win, customer_pk) values (?, ?)`;
const insertMany = (table: WindowsTable) =>
  `insert or ignore into ${table} (win, customer_pk) values ${Array.from({ length: FILL_ROWS }, () => '(?, ?)').join(', ')}`;

/** A window and a pk in one number, the window above 2^32 (windows below 2^20; the pk below 2^32: exact in a double). */
const keyOf = (win: number, pk: number) => win * 2 ** 32 + pk;

/** Collects keys (keyOf) in a growing Float64Array, sorted and written in window order by `write`. */
class WindowKeys {
  private keys: Float64Array;
  private count = 0;

  constructor(expected: number) {
    this.keys = new Float64Array(Math.max(expected, 16));
  }

  add(win: number, pk: number): void {
    if (this.count === this.keys.length) {
      const larger = new Float64Array(this.keys.length * 2);
      larger.set(this.keys);
      this.keys = larger;
    }
    this.keys[this.count++] = keyOf(win, pk);
  }

  /**
   * Writes the keys in window order, FILL_ROWS a statement (fixed text: prepared once, the store's
   * statement cache), and forgets them.
   */
  async write(connection: WindowsConnection, table: WindowsTable): Promise<number> {
    const count = this.count;
    this.count = 0;
    const sorted = this.keys.subarray(0, count).sort();
    const many = insertMany(table);
    const values = new Array<number>(2 * FILL_ROWS);
    let i = 0;
    for (; i + FILL_ROWS <= count; i += FILL_ROWS) {
      for (let j = 0; j < FILL_ROWS; j++) {
        const key = sorted[i + j] as number;
        values[2 * j] = Math.floor(key / 2 ** 32);
        values[2 * j + 1] = key % 2 ** 32;
      }
      await connection.run(many, values);
    }
    for (; i < count; i++) {
      const key = sorted[i] as number;
      await connection.run(insertOne(table), [Math.floor(key / 2 ** 32), key % 2 ** 32]);
    }
    return count;
  }
}

/** Customers whose windows InsertedWindows holds before writing them (about 30 MB of keys). */
const HELD_CUSTOMERS = 500_000;

/**
 * SQLite: the windows, numbers' and texts', of the customers an import inserts while their triggers are
 * deferred (search-index.ts, deferSearchIndex), computed from the rows as they are written rather than
 * read back at the end (fillWindows, fillTextWindows: the read of every row and its parse were 1.2 s of
 * SQLite and about as much JavaScript at 1,000,000 customers), and written HELD_CUSTOMERS customers at a
 * time in window order.
 */
export class InsertedWindows {
  private readonly numbers = new WindowKeys(1 << 16);
  private readonly texts = new WindowKeys(1 << 16);
  private held = 0;
  private inserted = 0;
  private lastPk: number;

  /** `sincePk`: the largest pk before the import (`search_index_deferred.since_pk`). */
  constructor(
    private readonly connection: WindowsConnection,
    private readonly sincePk: number,
    private readonly heldCustomers = HELD_CUSTOMERS,
  ) {
    this.lastPk = sincePk;
  }

  /** A customer the import inserted (pk, and its search_text and phone_digits as stored). */
  add(pk: number, searchText: string, phoneDigits: string): void {
    if (phoneDigits !== '') for (const win of windowsOf(phoneDigits)) this.numbers.add(win, pk);
    if (TEXT_WINDOWED.test(searchText)) for (const win of textWindowsOf(searchText)) this.texts.add(win, pk);
    this.held++;
    this.inserted++;
    if (pk > this.lastPk) this.lastPk = pk;
  }

  /** Writes the windows held once they are `heldCustomers` customers'. */
  async writeIfFull(): Promise<void> {
    if (this.held >= this.heldCustomers) await this.write();
  }

  /**
   * Writes the rest, and moves `since_pk` past the customers written here, so that the catch-up's fill
   * reads none of them again: only when they are every pk after `sincePk` (the import's inserts are the
   * transaction's only ones; should they not be, the fill writes them all, its inserts ignoring these).
   */
  async finish(): Promise<void> {
    await this.write();
    if (this.inserted > 0 && this.lastPk - this.sincePk === this.inserted) {
      await this.connection.run('update search_index_deferred set since_pk = ? where since_pk = ?', [this.lastPk, this.sincePk]);
    }
  }

  private async write(): Promise<void> {
    await this.numbers.write(this.connection, 'customer_phone_windows');
    await this.texts.write(this.connection, 'customer_text_windows');
    this.held = 0;
  }
}

/**
 * SQLite: writes the windows of every customer with a pk above `sincePk` (the upgrade: all; an import:
 * those it inserted, whose insert trigger it deferred, unless InsertedWindows wrote them as the import
 * went), FILL_CHUNK customers at a time: read in pk order
 * as one row (`pk digits…` joined by commas: a row object per customer cost as much again in allocating
 * them), their windows computed here (in SQL, with `json_each`, 8.3 s for 1,000,000 customers), sorted,
 * and written in window order (WindowKeys).
 */
export function fillWindows(connection: WindowsConnection, sincePk: number): Promise<number> {
  const chunk =
    "select max(pk), group_concat(pk || ' ' || phone_digits, ',') from " +
    "(select pk, phone_digits from customers where pk > ? and phone_digits <> '' order by pk limit ?)";
  return fillByChunks(connection, 'customer_phone_windows', sincePk, chunk, (text) => {
    const customers = text.split(',');
    // Sized for five windows a customer (an E.164 number has at most five), grown past that.
    const keys = new WindowKeys(customers.length * 5);
    for (const customer of customers) {
      const space = customer.indexOf(' ');
      const pk = Number(customer.slice(0, space));
      for (const win of windowsOf(customer.slice(space + 1))) keys.add(win, pk);
    }
    return keys;
  });
}

/**
 * Reads the customers with a pk above `sincePk` FILL_CHUNK at a time, each chunk as one row (`chunk`: its
 * largest pk, then one text `windowsOf` turns into their windows), and writes each chunk's windows to `table`.
 */
async function fillByChunks(
  connection: WindowsConnection,
  table: WindowsTable,
  sincePk: number,
  chunk: string,
  windowsOf: (text: string) => WindowKeys,
): Promise<number> {
  let after = sincePk;
  let written = 0;
  for (;;) {
    const [row] = await connection.rows(chunk, [after, FILL_CHUNK]);
    const [last, text] = (row ?? [null, null]) as readonly [number | null, string | null];
    if (last === null || text === null) return written;
    written += await windowsOf(text).write(connection, table);
    after = Number(last);
  }
}

// ---- the texts' windows --------------------------------------------------------------------------

/**
 * SQLite: names and e-mail addresses found by five consecutive digits (migration 20261206T1500).
 *
 * The text index's trigrams of digits each name about 4,000 customers at 1,000,000 (the digits of
 * `sofia.johnson123456@example.org`), and FTS5 merges the whole row lists of the three it asks for
 * (about 1 ms for `123456@example`), where at 10,000 customers they hold about 40 each. Five digits
 * take 100,000 values: a window names about as many customers as hold those digits (about 20 for
 * `12345` at 1,000,000). Every run of five digits of a customer's search_text is kept, at every offset;
 * a fragment holding five digits anywhere holds its first five, so asking for that window names every
 * holder, each then checked for the whole fragment. Fragments with fewer digits keep the text index.
 */
export const TEXT_WINDOW = 5;

/** A text fragment found through its window: five consecutive digits somewhere in it. */
export const TEXT_WINDOWED = /[0-9]{5}/;

/** The window asked for a fragment (TEXT_WINDOWED): its first five consecutive digits. */
export function textWindowAsked(fragment: string): number | undefined {
  const digits = TEXT_WINDOWED.exec(fragment);
  return digits ? Number(digits[0]) : undefined;
}

/** The distinct windows of a search_text: every five consecutive digits, at every offset. */
export function textWindowsOf(text: string): number[] {
  const windows = new Set<number>();
  for (const run of text.match(/[0-9]{5,}/g) ?? []) {
    for (let i = 0; i + TEXT_WINDOW <= run.length; i++) windows.add(Number(run.slice(i, i + TEXT_WINDOW)));
  }
  return [...windows];
}

/** SQLite: a text holding five consecutive digits somewhere (the triggers' and the fill's filter). */
export const sqliteHasTextWindow = (column: string) => `${column} glob '*[0-9][0-9][0-9][0-9][0-9]*'`;

/**
 * SQLite: a select of the distinct windows of the row `row` (`new` or `old` in a trigger), column `win`.
 * Triggers take no common table expression: the offsets are the keys of a JSON array as long as the
 * text (`hex(zeroblob(n))` is n times `00`).
 */
export function sqliteTextWindowsOf(row: 'new' | 'old'): string {
  const text = `${row}.search_text`;
  const at = `substr(${text}, o.key + 1, ${TEXT_WINDOW})`;
  return (
    `select distinct cast(${at} as integer) as win ` +
    `from json_each('[' || substr(replace(hex(zeroblob(max(length(${text}) - ${TEXT_WINDOW - 1}, 0))), '00', ',0'), 2) || ']') o ` +
    `where ${at} glob '[0-9][0-9][0-9][0-9][0-9]'`
  );
}

/**
 * SQLite: at most the third value of the customers holding a window (the second value), each with whether
 * its text holds the whole fragment (the first): `[pk, 0 | 1]`. Bounded by the window's holders rather
 * than the fragment's, so that a window most texts share (`support12345@`) costs at most that many.
 */
export const SQLITE_TEXT_FIND =
  'select c.pk, instr(c.search_text, ?) > 0 from (select customer_pk from customer_text_windows where win = ? limit (? + 0)) w ' +
  'join customers c on c.pk = w.customer_pk';

/**
 * SQLite: writes the text windows of every customer with a pk above `sincePk` whose text holds one, as
 * fillWindows does the numbers' (read as one JSON array a chunk: a text may hold any character).
 */
export function fillTextWindows(connection: WindowsConnection, sincePk: number): Promise<number> {
  const chunk =
    'select max(pk), json_group_array(json_array(pk, search_text)) from ' +
    `(select pk, search_text from customers where pk > ? and ${sqliteHasTextWindow('search_text')} order by pk limit ?)`;
  return fillByChunks(connection, 'customer_text_windows', sincePk, chunk, (json) => {
    const customers = JSON.parse(json) as Array<[number, string]>;
    const keys = new WindowKeys(customers.length * 2);
    for (const [pk, text] of customers) for (const win of textWindowsOf(text)) keys.add(win, pk);
    return keys;
  });
}
