/**
 * Text folding shared by ordering and search, computed in the application so
 * that SQLite and PostgreSQL order and match identically (both then compare
 * the folded strings byte-wise).
 */

const COMBINING_MARKS = /\p{M}+/gu;
const WHITESPACE = /\s+/gu;

/** Case- and accent-insensitive form: `José  Ñúñez` → `jose nunez`. */
export function fold(value: string): string {
  return value.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase().replace(WHITESPACE, ' ').trim();
}

/** The digits of a string: `+1 (555) 0134` → `15550134`. */
export function digitsOf(value: string): string {
  return value.replace(/\D+/g, '');
}

/** A query that is made only of what people type in phone numbers. */
export function looksLikePhoneNumber(query: string): boolean {
  return /^[\d\s()+.\-/]+$/.test(query);
}

/** Escapes LIKE wildcards; use with `escape '\'`. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The smallest string greater than every string starting with `prefix`
 * (byte-wise, which for UTF-8 is code point order): the prefix with its last
 * character replaced by the next one. Undefined when there is none.
 */
export function successor(prefix: string): string | undefined {
  const chars = [...prefix];
  while (chars.length > 0) {
    const last = (chars.pop() as string).codePointAt(0) as number;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return chars.join('') + String.fromCodePoint(next);
  }
  return undefined;
}
