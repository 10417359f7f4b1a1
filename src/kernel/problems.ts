/**
 * The one problem type: "this field of this record is wrong, here is why", and,
 * when the record came from a file, where in the file. Every validator (customer
 * records, settings files, configuration, the file loaders) reports these; the
 * CLI prints them with `formatProblem`, an HTTP API can send them as they are.
 */

/** Where a field is inside a record or document: `['channels', 0, 'value']`; empty for the whole. */
export type FieldPath = ReadonlyArray<string | number>;

/** Where in a file: a line (and column, where the reader knows it), or the record's number in a JSON array. */
export interface FilePosition {
  readonly line?: number;
  readonly column?: number;
  readonly record?: number;
}

export interface Problem extends FilePosition {
  readonly path: FieldPath;
  readonly message: string;
}

/** `['categories', 0, 'templates', 2, 'content']` → `categories[0].templates[2].content` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** `line 3` or `record 2`; undefined when the problem is not tied to a place in a file. */
export function positionText(at: FilePosition): string | undefined {
  if (at.line !== undefined) return `line ${at.line}`;
  if (at.record !== undefined) return `record ${at.record}`;
  return undefined;
}

/**
 * `line 3: channels[0].value: "x" is not a phone number`. `where` names the place
 * when the problem has no position of its own (the CLI says `file`).
 */
export function formatProblem(problem: Problem, where?: string): string {
  const position = positionText(problem) ?? where;
  const field = formatPath(problem.path);
  return [position, field === '' ? undefined : field, problem.message].filter((s) => s !== undefined).join(': ');
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reports keys of `value` that are not in `allowed` (a typo never passes silently). */
export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: FieldPath, problems: Problem[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push({ path: [...path, key], message: `unknown field; expected ${allowed.join(', ')}` });
  }
}

/** The top-level list `key` of a settings document: `{ key: [...] }`. */
export function topLevelList(doc: unknown, key: string, problems: Problem[]): unknown[] | undefined {
  if (!isObject(doc)) {
    problems.push({ path: [], message: `must be an object with a "${key}" list` });
    return undefined;
  }
  checkKeys(doc, [key], [], problems);
  const list = doc[key];
  if (!Array.isArray(list)) {
    problems.push({ path: [key], message: list === undefined ? 'is required (a list)' : 'must be a list' });
    return undefined;
  }
  return list;
}
