/**
 * Reads customer files record by record, streaming: NDJSON (one JSON object
 * per line), CSV (columns documented in docs/import-format.md), or a JSON
 * array (read whole; use NDJSON for large files).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { FilePosition } from '../../kernel/problems.js';

export type FileFormat = 'ndjson' | 'json' | 'csv';
export const FILE_FORMATS: readonly FileFormat[] = ['ndjson', 'json', 'csv'];

/** One record as read, before validation; `at` says where it is in the file (nowhere in particular: the whole file). */
export type SourceRecord =
  | { at: FilePosition; value: unknown; error?: undefined }
  | { at: FilePosition; value?: undefined; error: string };

export function formatOf(file: string, explicit: FileFormat | undefined): FileFormat {
  if (explicit) return explicit;
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.json$/i.test(file)) return 'json';
  return 'ndjson';
}

export function readRecords(file: string, format: FileFormat): AsyncIterable<SourceRecord> {
  switch (format) {
    case 'ndjson':
      return readNdjson(createReadStream(file, { highWaterMark: 1 << 20 }));
    case 'json':
      return readJsonArray(file);
    case 'csv':
      return readCsv(createReadStream(file));
  }
}

const LF = 0x0a;

/**
 * NDJSON, one record per line (line breaks as readline counts them: LF, CRLF or a
 * lone CR). Splits the raw bytes and decodes one line at a time: decoding whole
 * chunks into strings and splitting those cost more than parsing the JSON.
 */
export async function* readNdjson(input: Readable): AsyncGenerator<SourceRecord> {
  let n = 0;
  function* records(line: string): Generator<SourceRecord> {
    // A lone CR breaks lines too (rare: only files from very old Macs have them).
    for (const part of line.includes('\r') ? line.split('\r') : [line]) {
      n++;
      if (part.trim() === '') continue;
      const at = { line: n };
      if (part.includes('\uFFFD')) {
        yield { at, error: 'is not valid UTF-8' };
        continue;
      }
      try {
        yield { at, value: JSON.parse(part) };
      } catch (err) {
        yield { at, error: `is not valid JSON (${(err as Error).message})` };
      }
    }
  }
  // The start of a line that continues in the next chunk(s).
  let pending: Buffer[] = [];
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    let end = chunk.indexOf(LF);
    if (end !== -1 && pending.length > 0) {
      pending.push(chunk.subarray(0, end));
      yield* records(withoutCr(Buffer.concat(pending).toString('utf8')));
      pending = [];
      start = end + 1;
      end = chunk.indexOf(LF, start);
    }
    while (end !== -1) {
      yield* records(withoutCr(chunk.toString('utf8', start, end)));
      start = end + 1;
      end = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) {
    // The last line, without a line break after it; a CR that ends the file ends that line.
    const last = Buffer.concat(pending).toString('utf8');
    yield* records(last.endsWith('\r') ? last.slice(0, -1) : last);
  }
}

/** The line without the CR of its CRLF. */
const withoutCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

async function* readJsonArray(file: string): AsyncGenerator<SourceRecord> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    yield { at: {}, error: `is not valid JSON (${(err as Error).message})` };
    return;
  }
  if (!Array.isArray(parsed)) {
    yield { at: {}, error: 'must be a JSON array of customer records' };
    return;
  }
  for (let i = 0; i < parsed.length; i++) yield { at: { record: i + 1 }, value: parsed[i] };
}

/** CSV columns. Multi-valued columns separate values with `;`. */
export const CSV_COLUMNS = [
  'customer_id',
  'display_name',
  'workers',
  'sms',
  'whatsapp',
  'email',
  'chat',
  'avatar',
  'details_title',
  'details_content',
  'links',
] as const;

const list = (value: string | undefined) =>
  (value ?? '')
    .split(';')
    .map((v) => v.trim())
    .filter((v) => v !== '');

/** Turns one CSV row into a customer record (validated later like any other). */
export function csvRowToRecord(row: Record<string, string>): unknown {
  const record: Record<string, unknown> = {
    customer_id: row.customer_id,
    display_name: row.display_name,
    workers: list(row.workers),
  };
  const channels = (['sms', 'whatsapp', 'email', 'chat'] as const).flatMap((type) =>
    list(row[type]).map((value) => ({ type, value })),
  );
  if (channels.length > 0) record.channels = channels;
  if (row.avatar) record.avatar = row.avatar;
  if (row.details_title || row.details_content) {
    record.details = { title: row.details_title ?? '', content: row.details_content ?? '' };
  }
  if (row.links) {
    try {
      record.links = JSON.parse(row.links);
    } catch {
      record.links = row.links; // reported by validation as "must be an array"
    }
  }
  return record;
}

async function* readCsv(input: Readable): AsyncGenerator<SourceRecord> {
  const parser = input.pipe(
    parseCsv({ columns: true, bom: true, skip_empty_lines: true, trim: false, relax_column_count: false, info: true }),
  );
  let headerChecked = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      if (!headerChecked) {
        headerChecked = true;
        const unknown = Object.keys(record).filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
        const missing = ['customer_id', 'display_name'].filter((c) => !(c in record));
        if (unknown.length > 0 || missing.length > 0) {
          yield {
            at: { line: 1 },
            error: [
              unknown.length > 0 ? `unknown column(s) ${unknown.join(', ')}` : '',
              missing.length > 0 ? `missing column(s) ${missing.join(', ')}` : '',
            ]
              .filter(Boolean)
              .join('; ')
              .concat(`; expected ${CSV_COLUMNS.join(',')}`),
          };
          return;
        }
      }
      yield { at: { line: info.lines }, value: csvRowToRecord(record) };
    }
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    yield { at: line ? { line } : {}, error: `is not valid CSV (${(err as Error).message})` };
  }
}
