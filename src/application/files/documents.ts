/**
 * Reads a settings file (senders, templates, workers) written in JSON or YAML,
 * keeping where each value is so that every problem is reported with its line.
 * JSON files are parsed as strict JSON first (YAML would accept more), then
 * through the YAML parser, of which JSON is a subset, for positions.
 */
import { readFile } from 'node:fs/promises';
import { type Document, isNode, LineCounter, parseDocument, stringify } from 'yaml';
import type { FieldPath, Problem } from '../../kernel/problems.js';

export type DocumentFormat = 'json' | 'yaml';
export const DOCUMENT_FORMATS: readonly DocumentFormat[] = ['json', 'yaml'];

export function documentFormatOf(file: string, explicit?: DocumentFormat): DocumentFormat {
  if (explicit) return explicit;
  return /\.ya?ml$/i.test(file) ? 'yaml' : 'json';
}

export type ReadResult =
  /** `locate` adds to each problem the line and column of its field in the file. */
  | { ok: true; value: unknown; locate: (problems: Problem[]) => Problem[] }
  | { ok: false; problems: Problem[] };

/** Parses `text`; syntax errors are returned as problems, never thrown. */
export function parseSettings(text: string, format: DocumentFormat): ReadResult {
  if (text.includes('\uFFFD')) return { ok: false, problems: [{ path: [], message: 'is not valid UTF-8' }] };
  if (format === 'json') {
    try {
      JSON.parse(text);
    } catch (err) {
      return { ok: false, problems: [{ path: [], message: `is not valid JSON (${(err as Error).message})` }] };
    }
  }
  const lineCounter = new LineCounter();
  // uniqueKeys: a repeated key is an error (JSON.parse would silently keep the last one).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: [],
        ...(e.linePos ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}),
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

/** The problem at the line and column of the deepest node that exists on its path. */
function locate(doc: Document, lineCounter: LineCounter, problem: Problem): Problem {
  let path: FieldPath = problem.path;
  for (;;) {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { ...problem, line, column: col };
    }
    if (path.length === 0) return problem;
    path = path.slice(0, -1);
  }
}

/** Renders a settings document in the given format (what `export` writes, and `import` reads back). */
export function renderSettings(value: unknown, format: DocumentFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
}
