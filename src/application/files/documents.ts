/**
 * Reads a settings file (senders, templates, workers) written in JSON or YAML,
 * keeping where each value is so that every problem is reported with its line.
 * JSON files are parsed as strict JSON first (YAML would accept more), then
 * through the YAML parser, of which JSON is a subset, for positions.
 */
import { readFile } from 'node:fs/promises';
import { type Document, isNode, LineCounter, parseDocument, stringify } from 'yaml';
import { formatPath, type DocPath, type DocProblem } from '../../kernel/problems.js';

export type DocumentFormat = 'json' | 'yaml';
export const DOCUMENT_FORMATS: readonly DocumentFormat[] = ['json', 'yaml'];

export function documentFormatOf(file: string, explicit?: DocumentFormat): DocumentFormat {
  if (explicit) return explicit;
  return /\.ya?ml$/i.test(file) ? 'yaml' : 'json';
}

/** A problem as reported to a person: where (line and path) and what. */
export interface LocatedProblem {
  position: string;
  field?: string;
  message: string;
}

export type ReadResult =
  | { ok: true; value: unknown; locate: (problems: DocProblem[]) => LocatedProblem[] }
  | { ok: false; problems: LocatedProblem[] };

/** Parses `text`; syntax errors are returned as problems, never thrown. */
export function parseSettings(text: string, format: DocumentFormat): ReadResult {
  if (text.includes('\uFFFD')) return { ok: false, problems: [{ position: 'file', message: 'is not valid UTF-8' }] };
  if (format === 'json') {
    try {
      JSON.parse(text);
    } catch (err) {
      return { ok: false, problems: [{ position: 'file', message: `is not valid JSON (${(err as Error).message})` }] };
    }
  }
  const lineCounter = new LineCounter();
  // uniqueKeys: a repeated key is an error (JSON.parse would silently keep the last one).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        position: e.linePos ? `line ${e.linePos[0].line}` : 'file',
        message: `is not valid ${format === 'json' ? 'JSON' : 'YAML'} (${e.message.split('\n')[0]})`,
      })),
    };
  }
  return {
    ok: true,
    value: doc.toJS({ maxAliasCount: 100 }),
    locate: (problems) => problems.map((p) => locate(doc, lineCounter, p)),
  };
}

export async function readSettings(file: string, format: DocumentFormat): Promise<ReadResult> {
  return parseSettings(await readFile(file, 'utf8'), format);
}

/** The line of the deepest node that exists on the problem's path. */
function locate(doc: Document, lineCounter: LineCounter, problem: DocProblem): LocatedProblem {
  const field = problem.path.length > 0 ? formatPath(problem.path) : undefined;
  let path: DocPath = problem.path;
  for (;;) {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    if (isNode(node) && node.range) {
      const position = `line ${lineCounter.linePos(node.range[0]).line}`;
      return field === undefined ? { position, message: problem.message } : { position, field, message: problem.message };
    }
    if (path.length === 0) break;
    path = path.slice(0, -1);
  }
  return field === undefined ? { position: 'file', message: problem.message } : { position: 'file', field, message: problem.message };
}

/** Renders a settings document in the given format (what `export` writes, and `import` reads back). */
export function renderSettings(value: unknown, format: DocumentFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
}
