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
