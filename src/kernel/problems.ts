/** A problem found in a loaded document, located by its path inside the document. */
export type DocPath = ReadonlyArray<string | number>;

export interface DocProblem {
  readonly path: DocPath;
  readonly message: string;
}

/** `categories[0].templates[2].content` */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reports keys of `value` that are not in `allowed`. */
export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: DocPath, problems: DocProblem[]) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      problems.push({ path: [...path, key], message: `unknown field; expected ${allowed.join(', ')}` });
    }
  }
}

// C0/C1 controls other than tab and newline have no place in any field.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const LINE_BREAK = /[\r\n\u2028\u2029]/;

/** A required single-line string, trimmed. */
export function singleLine(
  value: unknown,
  path: DocPath,
  max: number,
  problems: DocProblem[],
): string | undefined {
  if (typeof value !== 'string') {
    problems.push({ path, message: value === undefined ? 'is required' : 'must be a string' });
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed === '') problems.push({ path, message: 'must not be empty' });
  else if (trimmed.length > max) problems.push({ path, message: `must be at most ${max} characters` });
  else if (CONTROL.test(trimmed) || LINE_BREAK.test(trimmed)) problems.push({ path, message: 'must be a single line of text' });
  else return trimmed;
  return undefined;
}

/** A required text that may span lines (a message). */
export function multiLine(value: unknown, path: DocPath, max: number, problems: DocProblem[]): string | undefined {
  if (typeof value !== 'string') {
    problems.push({ path, message: value === undefined ? 'is required' : 'must be a string' });
    return undefined;
  }
  if (value.trim() === '') problems.push({ path, message: 'must not be empty' });
  else if (value.length > max) problems.push({ path, message: `must be at most ${max} characters` });
  else if (CONTROL.test(value)) problems.push({ path, message: 'must not contain control characters' });
  else return value;
  return undefined;
}

/** A worker identity, exactly as the Frontline app sends it (no trimming: identities are compared byte-wise). */
export function identity(value: unknown, path: DocPath, problems: DocProblem[]): string | undefined {
  if (typeof value !== 'string') {
    problems.push({ path, message: value === undefined ? 'is required' : 'must be a string' });
    return undefined;
  }
  if (value.trim() === '') problems.push({ path, message: 'must not be empty' });
  else if (value !== value.trim()) problems.push({ path, message: 'must not start or end with white space' });
  else if (value.length > 255) problems.push({ path, message: 'must be at most 255 characters' });
  else if (CONTROL.test(value) || LINE_BREAK.test(value)) problems.push({ path, message: 'must not contain control characters' });
  else return value;
  return undefined;
}

/** The top-level list `key` of a document: `{ key: [...] }`. */
export function topLevelList(doc: unknown, key: string, problems: DocProblem[]): unknown[] | undefined {
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
