/**
 * `toE164` answers plain +1 numbers without libphonenumber's full parse (the
 * import's hot path); it must give exactly the answer of the full parse. This
 * compares the two over a large, varied, deterministic set of inputs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import metadataJson from 'libphonenumber-js/min/metadata';
import type { MetadataJson } from 'libphonenumber-js/core';
import { isPlainNanpNumber, toE164, toE164ByFullParse } from '../src/kernel/phone.js';
import { seededRandom } from '../src/application/files/seed.js';

const metadata = metadataJson as MetadataJson;
const CALLING_CODES = Object.keys(metadata.country_calling_codes);
const SHARED_CODES = CALLING_CODES.filter((c) => (metadata.country_calling_codes[c]?.length ?? 0) > 1);
const COUNTRIES = Object.keys(metadata.countries);
const DEFAULT_COUNTRIES = ['US', 'CA', 'GB', 'DE', 'FR', 'IN', 'AU', 'BR', 'JM', 'GG', 'KZ', 'VA', 'RU', 'CW', 'SH', 'JP'];

function* inputs(count: number, seed: number): Generator<[value: string, defaultCountry: string]> {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(list: readonly T[]) => list[int(list.length)] as T;
  const digits = (n: number) => Array.from({ length: n }, () => String(int(10))).join('');
  // Mostly +1 and the other shared calling codes, where the exact country is skipped.
  const code = () => (rnd() < 0.35 ? '1' : rnd() < 0.5 ? pick(SHARED_CODES) : pick(CALLING_CODES));
  const spaced = (s: string) => s.replace(/\d{2,4}/g, (m) => (rnd() < 0.5 ? `${m} ` : rnd() < 0.5 ? `${m}-` : m)).trim();
  const forms: Array<() => string> = [
    () => `+${code()}${digits(4 + int(12))}`,
    () => `+1${pick(['2', '3', '4', '5', '6', '7', '8', '9', '0', '1'])}${digits(rnd() < 0.6 ? 9 : int(12))}`,
    // Seven-digit +1 numbers: allowed in Canada only, so the exact country decides.
    () => `+1${pick(['310', '311', '204', '555', '212'])}${digits(4)}`,
    () => `+${code()} ${spaced(digits(6 + int(9)))}`,
    () => `+1 (${digits(3)}) ${digits(3)}-${digits(4)}`,
    () => `(${digits(3)}) ${digits(3)}-${digits(4)}`,
    () => digits(5 + int(10)),
    () => `0${digits(6 + int(8))}`,
    () => `00${code()}${digits(6 + int(8))}`,
    () => `011${code()}${digits(6 + int(8))}`,
    () => `1${digits(10)}`,
    () => `tel:+${code()}${digits(6 + int(9))}`,
    () => `TEL:${digits(10)}`,
    () => `whatsapp:+${code()}${digits(6 + int(9))}`,
    () => `+${code()}${digits(6 + int(9))} ext. ${digits(1 + int(5))}`,
    () => `${digits(10)} x${digits(3)}`,
    () => `+${code()}${digits(6 + int(9))};ext=${digits(3)}`,
    () => `  +${code()}${digits(6 + int(9))}  `,
    () => `+${digits(1 + int(17))}`,
    () => `++${code()}${digits(8)}`,
    () => `+${code()}.${digits(3)}.${digits(4)}`,
    () => `＋１ ${digits(10)}`,
    () => `+${code()}${digits(8)}#`,
    () => pick(['', ' ', '+', '++1', 'abc', '555-CALL-NOW', '+1 555 ABC 1234', 'not a number', '-', '()', '0', '00', '+0123456789', '+999999999999']),
    () => `${pick(['a', '#', '*', '/', '.'])}${digits(10)}`,
    () => `${digits(3)}/${digits(3)}/${digits(4)}`,
    () => digits(int(25)),
  ];
  for (let i = 0; i < count; i++) {
    const defaultCountry = rnd() < 0.8 ? pick(DEFAULT_COUNTRIES) : pick(COUNTRIES);
    yield [pick(forms)(), defaultCountry];
  }
}

describe('phone numbers', () => {
  test('toE164 gives exactly the full libphonenumber parse over 150,000 varied inputs', () => {
    let accepted = 0;
    let rejected = 0;
    let sharedCodeAccepted = 0;
    for (const [value, country] of inputs(150_000, 20261122)) {
      const expected = toE164ByFullParse(value, country);
      const actual = toE164(value, country);
      if (actual !== expected) assert.fail(`toE164(${JSON.stringify(value)}, ${country}): ${actual} but libphonenumber says ${expected}`);
      if (expected === undefined) rejected++;
      else {
        accepted++;
        const code = SHARED_CODES.find((c) => expected.startsWith(`+${c}`));
        if (code !== undefined) sharedCodeAccepted++;
      }
    }
    // The set covers both answers, and shared calling codes among the accepted numbers.
    assert.ok(accepted > 30_000, `accepted ${accepted}`);
    assert.ok(rejected > 30_000, `rejected ${rejected}`);
    assert.ok(sharedCodeAccepted > 10_000, `shared calling codes ${sharedCodeAccepted}`);
  });

  test('the shortcut is on, and takes +1 with ten digits starting 2-9 only', () => {
    // Off would not be wrong, only slow: it turns itself off if the metadata breaks a premise.
    for (const value of ['+12015550123', '+19999999999', '+15558675310']) assert.ok(isPlainNanpNumber(value), value);
    for (const value of ['+11015550123', '+10015550123', '+1201555012', '+120155501234', '+1 2015550123', '2015550123', '+442071838750']) {
      assert.ok(!isPlainNanpNumber(value), value);
      assert.equal(toE164(value, 'US'), toE164ByFullParse(value, 'US'), value);
    }
    // Numbers whose exact country matters elsewhere: Canada's seven-digit ones, Guernsey's and the Isle of Man's.
    for (const [value, country] of [['+13101234', 'US'], ['0866063392', 'IM'], ['+44148112345', 'GB'], ['01481 123456', 'GG']]) {
      assert.equal(toE164(value as string, country as string), toE164ByFullParse(value as string, country as string), value);
    }
  });
});
