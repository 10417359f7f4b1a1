/**
 * The NDJSON reader splits raw bytes itself (for speed); it must number lines
 * and report problems exactly as reading with node:readline does, whatever the
 * line breaks and wherever the chunks of the file end.
 */
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { readNdjson, type SourceRecord } from '../src/application/files/readers.js';

/** The reader as it was, over node:readline: the reference. */
async function* readlineNdjson(input: Readable): AsyncGenerator<SourceRecord> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    const at = { line: n };
    if (line.includes('\uFFFD')) {
      yield { at, error: 'is not valid UTF-8' };
      continue;
    }
    try {
      yield { at, value: JSON.parse(line) };
    } catch (err) {
      yield { at, error: `is not valid JSON (${(err as Error).message})` };
    }
  }
}

const collect = async (records: AsyncIterable<SourceRecord>) => {
  const out: SourceRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
};

/** `bytes` as a stream of chunks of `size` bytes. */
const chunked = (bytes: Buffer, size: number) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
  );

const record = (i: number) => JSON.stringify({ customer_id: `c${i}`, display_name: `Zoë Ñúñez ${i} 😀`, workers: ['a@example.com'] });

const FILES: Array<[string, Buffer]> = [
  ['LF', Buffer.from([record(1), record(2), record(3)].join('\n') + '\n')],
  ['CRLF', Buffer.from([record(1), record(2), record(3)].join('\r\n') + '\r\n')],
  ['lone CRs', Buffer.from([record(1), record(2), '', record(3)].join('\r'))],
  ['mixed breaks, blank lines, no final break', Buffer.from(`\n${record(1)}\r\n\r\n  \n${record(2)}\r${record(3)}\r\r\n\n${record(4)}`)],
  ['ends with CR', Buffer.from(`${record(1)}\n${record(2)}\r`)],
  ['ends with two CRs', Buffer.from(`${record(1)}\n${record(2)}\r\r`)],
  ['bad JSON and white space', Buffer.from(`${record(1)}\n{"customer_id": \n  ${record(2)}  \n[1,2]\n"text"\n`)],
  ['BOM', Buffer.from(`\uFEFF${record(1)}\n${record(2)}\n`)],
  ['invalid UTF-8', Buffer.concat([Buffer.from(`${record(1)}\n{"customer_id":"x`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`"}\n${record(2)}\n`)])],
  ['a long line', Buffer.from(`${record(1)}\n${JSON.stringify({ customer_id: 'long', details: { content: 'é'.repeat(300_000) } })}\n${record(2)}\n`)],
  ['empty', Buffer.alloc(0)],
  ['only breaks', Buffer.from('\n\r\n\r\n\n')],
];

describe('NDJSON reader', () => {
  for (const [name, bytes] of FILES) {
    test(`${name}: the same records and positions as readline, whatever the chunk size`, async () => {
      const expected = await collect(readlineNdjson(chunked(bytes, 64 * 1024)));
      for (const size of [1, 2, 3, 7, 64, 1000, 65_536, bytes.length + 1]) {
        assert.deepEqual(await collect(readNdjson(chunked(bytes, size))), expected, `chunks of ${size} bytes`);
      }
    });
  }

  test('a file cut inside a character: its last line is not valid UTF-8', async () => {
    // readline dropped the partial character (and then found the JSON invalid); both reject the line.
    const bytes = Buffer.concat([Buffer.from(`${record(1)}\n"é`), Buffer.from([0xe2, 0x82])]);
    for (const size of [1, 2, 1000]) {
      const records = await collect(readNdjson(chunked(bytes, size)));
      assert.deepEqual(records.slice(1), [{ at: { line: 2 }, error: 'is not valid UTF-8' }]);
    }
  });
});
