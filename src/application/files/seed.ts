/**
 * Deterministic sample data: the same options and seed give the same
 * customers, byte for byte. Used by `fis seed`, the demo and the benchmark.
 */
import type { CustomerRecord } from '../../domains/customers/customer.types.js';
import type { SourceRecord } from './readers.js';

export interface SeedOptions {
  customers: number;
  workers: number;
  seed: number;
  /** The first `heavyWorkers` workers own `heavySize` customers each (large books for paging tests). */
  heavyWorkers?: number;
  heavySize?: number;
}

const FIRST = [
  'Alice', 'Bruno', 'Chloé', 'Daniel', 'Elena', 'François', 'Grace', 'Hiroshi', 'Inès', 'José',
  'Karin', 'Liam', 'María', 'Noah', 'Olivia', 'Pedro', 'Quinn', 'Renée', 'Sofia', 'Tomás',
  'Uma', 'Victor', 'Wen', 'Xavier', 'Yara', 'Zoë', 'Ahmed', 'Björn', 'Carmen', 'Dmitri',
];
const LAST = [
  'Johnson', 'Martin', 'García', 'Müller', 'Rossi', 'Nguyen', 'Smith', 'Dubois', 'Kowalski', 'Silva',
  'Tanaka', 'Öztürk', 'Brown', 'Novák', 'Ibáñez', "O'Brien", 'Jensen', 'Papadopoulos', 'Hernández', 'Wilson',
  'Larsen', 'Moreau', 'Fischer', 'Costa', 'Kim', 'Šimek', 'Andersson', 'Lefèvre', 'Schmidt', 'Ramírez',
];
const PRODUCTS = ['Unobtanium', 'Flux capacitor', 'Widget Pro', 'Sprocket', 'Gizmo XL', 'Thingamajig'];

/** mulberry32: small, fast, and deterministic for a given seed (numbers in [0, 1)). Tests reuse it. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A name as the seed writes it into an address: without its accents, letters only, lower case (`Núñez`: `nunez`). */
export const addressPart = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();

/** The identity of worker `i` (0-based): `alice.johnson@example.com`, … */
export function workerIdentity(i: number): string {
  const first = FIRST[i % FIRST.length] as string;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length] as string;
  const round = Math.floor(i / (FIRST.length * LAST.length));
  return `${addressPart(first)}.${addressPart(last)}${round > 0 ? round + 1 : ''}@example.com`;
}

/** Area codes (201–998) × exchanges (200–999) × lines (0000–9999): the numbers `phoneOf` draws from. */
const AREAS = 798n;
const EXCHANGES = 800n;
const NUMBERS = AREAS * EXCHANGES * 10_000n;
/** A prime that divides nothing in NUMBERS (2, 3, 5, 7, 19), so `i ↦ i × STRIDE mod NUMBERS` is one-to-one. */
const STRIDE = 2_654_435_761n;

/**
 * A unique, possible North American number for customer `i`, spread over the
 * whole number space as real customers' numbers are: consecutive customers
 * share neither area code nor exchange, and a seven-digit ending is held by
 * about one customer in a million-customer store. (Numbers counted up from
 * `+1 201 200 0000` made every number of a million share its exchange, and
 * each ending 798 customers, which no company's book looks like.)
 */
export function phoneOf(i: number): string {
  const n = (BigInt(i) * STRIDE) % NUMBERS;
  const area = 201n + (n % AREAS);
  const exchange = 200n + ((n / AREAS) % EXCHANGES);
  const line = n / (AREAS * EXCHANGES);
  return `+1${area}${exchange}${String(line).padStart(4, '0')}`;
}

/** The owner of customer `i`. Heavy workers take the first customers in blocks; the rest are spread out. */
function ownerOf(i: number, options: SeedOptions): number {
  const heavy = Math.min(options.heavyWorkers ?? 0, options.workers);
  const heavySize = options.heavySize ?? 0;
  if (i < heavy * heavySize) return Math.floor(i / heavySize);
  const rest = options.workers - heavy;
  return rest > 0 ? heavy + ((i - heavy * heavySize) % rest) : i % options.workers;
}

export function* generateCustomers(options: SeedOptions): Generator<CustomerRecord> {
  const rnd = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)] as T;
  for (let i = 0; i < options.customers; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const id = `C${String(i + 1).padStart(7, '0')}`;
    const phone = phoneOf(i);
    const owner = ownerOf(i, options);
    const workers = [workerIdentity(owner)];
    // One customer in twenty is shared with a second rep.
    if (options.workers > 1 && rnd() < 0.05) workers.push(workerIdentity((owner + 1) % options.workers));
    const record: CustomerRecord = {
      customer_id: id,
      display_name: `${first} ${last}`,
      workers,
      channels: [
        { type: 'sms', value: phone },
        ...(rnd() < 0.4 ? [{ type: 'whatsapp' as const, value: `whatsapp:${phone}` }] : []),
        { type: 'email', value: `${addressPart(first)}.${addressPart(last)}${i + 1}@example.org` },
      ],
      links: [{ type: 'CRM', value: `https://crm.example.com/customers/${id}`, display_name: 'Open in CRM' }],
      details: {
        title: 'Purchase History',
        content: `Product: ${pick(PRODUCTS)}\nQuantity: ${1 + Math.floor(rnd() * 1000)} units\nCustomer since: ${2015 + Math.floor(rnd() * 11)}`,
      },
    };
    if (rnd() < 0.3) record.avatar = `https://avatars.example.com/${id}.png`;
    yield record;
  }
}

/** Generated or in-memory records as the import reads them: record 1, 2, … */
export async function* asSourceRecords(records: Iterable<CustomerRecord>): AsyncGenerator<SourceRecord> {
  let n = 0;
  for (const value of records) yield { at: { record: ++n }, value };
}
