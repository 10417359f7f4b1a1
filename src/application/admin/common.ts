/**
 * What every admin use case shares: entity tags and preconditions, the change
 * context (which token, which request), field-level problems, and JSON Merge Patch.
 */
import { createHash } from 'node:crypto';
import { AppError, type ReportedProblem as Problem } from '../../kernel/errors.js';
import type { Problem as DocProblem } from '../../kernel/problems.js';
import { formatPath, positionText } from '../../kernel/problems.js';

/** Who is writing, and under which precondition. */
export interface WriteContext {
  /** The token's name (recorded in the audit trail). */
  readonly token: string;
  readonly requestId?: string | undefined;
  /** The request's `If-Match`, when it sent one. */
  readonly ifMatch?: string | undefined;
}

/** A resource and its entity tag. */
export interface Tagged<T> {
  value: T;
  etag: string;
}

/**
 * A strong entity tag: a digest of the representation the API serves. Any
 * change that shows in the representation changes the tag, on any instance,
 * without a version column to keep in step (imports and the CLI write too).
 */
export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value) ?? '').digest('base64url').slice(0, 27)}"`;
}

export const tagged = <T>(value: T): Tagged<T> => ({ value, etag: etagOf(value) });

/**
 * RFC 9110 If-Match: `*` matches any current representation; otherwise one of
 * the listed strong tags must equal the current one (weak tags never match).
 * Called inside the write's transaction, after its lock: a writer that lost a
 * race sees the winner's tag here and gets a 412.
 */
export function checkIfMatch(ifMatch: string | undefined, current: unknown | undefined, what: string): void {
  if (ifMatch === undefined) return;
  const header = ifMatch.trim();
  if (current === undefined) throw new AppError('PRECONDITION_FAILED', `If-Match: ${what} does not exist`);
  if (header === '*') return;
  const tag = etagOf(current);
  const listed = header.split(',').map((t) => t.trim());
  if (!listed.includes(tag)) {
    throw new AppError('PRECONDITION_FAILED', `If-Match: ${what} has changed since you read it (its ETag is now ${tag}); read it again`);
  }
}

export function invalidFields(problems: Problem[], what: string): AppError {
  return new AppError('INVALID_FIELDS', `${what} has ${problems.length} problem(s); nothing was changed`, { problems });
}

/** A settings validator's problems (paths inside a document) as request-body problems. */
export function bodyProblems(problems: DocProblem[], strip: number): Problem[] {
  return problems.map((p) => {
    const path = p.path.slice(strip);
    return path.length === 0 ? { position: 'body', message: p.message } : { position: 'body', field: formatPath(path), message: p.message };
  });
}

/** A file's problems (the import's, by line) as the API reports them. */
export function fileProblems(problems: readonly DocProblem[]): Problem[] {
  return problems.map((p) => {
    const reported: Problem = { message: p.message };
    const position = positionText(p);
    if (position !== undefined) reported.position = position;
    if (p.path.length > 0) reported.field = formatPath(p.path);
    return reported;
  });
}

/** The top-level fields whose values differ between two representations (their names only). */
export function changedFields(before: object | undefined, after: object | undefined): string[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7396 JSON Merge Patch: objects merge key by key, `null` removes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

export function notFound(what: string): AppError {
  return new AppError('NOT_FOUND', `${what} does not exist`);
}

/**
 * `items` in the order `keys` gives (a PUT of an order), which must name every item exactly once by
 * `keyOf`; otherwise CONFLICT, with a problem for what is repeated, unknown and missing.
 */
export function reorder<T>(
  items: readonly T[],
  keys: readonly string[],
  keyOf: (item: T) => string,
  what: { readonly one: string; readonly many: string; readonly field: string },
): T[] {
  const byKey = new Map(items.map((item) => [keyOf(item), item]));
  const problems: Problem[] = [];
  const at = { position: 'body', field: what.field };
  if (new Set(keys).size !== keys.length) problems.push({ ...at, message: `lists a ${what.one} more than once` });
  const unknown = keys.filter((key) => !byKey.has(key));
  if (unknown.length > 0) problems.push({ ...at, message: `names no ${what.one}: ${unknown.join(', ')}` });
  const listed = new Set(keys);
  const missing = [...byKey.keys()].filter((key) => !listed.has(key));
  if (missing.length > 0) problems.push({ ...at, message: `must list every ${what.one}; missing ${missing.join(', ')}` });
  if (problems.length > 0) {
    throw new AppError('CONFLICT', `The order does not match the current ${what.many}: ${problems.map((p) => p.message).join('; ')}`, { problems });
  }
  return keys.map((key) => byKey.get(key) as T);
}
