/**
 * Phone numbers, through libphonenumber (min metadata).
 *
 * Normalising a number to E.164 is on the import's hot path (one or two per
 * customer), and most of libphonenumber's time there goes into working out
 * which of the 25 countries sharing +1 a number belongs to, which toE164 does
 * not need. Numbers already written as +1 and ten digits take a shortcut whose
 * answer is provably libphonenumber's (see `isPlainNanpNumber`); all others go
 * through the full parse. test/phone.test.ts holds the two to the same answers.
 */
import { type CountryCode, Metadata, type MetadataJson, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadataJson from 'libphonenumber-js/min/metadata';

const metadata = metadataJson as MetadataJson;

const E164 = /^\+[1-9]\d{6,14}$/;

/** `+1` and a ten-digit national number that does not start with 0 or 1: `+12015550123`. */
const PLAIN_NANP = /^\+1[2-9]\d{9}$/;

/**
 * Whether the shortcut is sound for this metadata. For `+1` and ten digits
 * starting 2–9, libphonenumber's full parse:
 * - reads calling code 1 (calling codes are tried shortest first);
 * - strips no national prefix: +1's plan strips a leading "1" only, and the
 *   number does not start with 1, so the national number is the ten digits;
 * - finds it possible whatever the exact country, as every +1 country allows
 *   ten-digit national numbers;
 * so its E.164 form is the input itself. Checked here, not assumed, so that a
 * metadata update that breaks a premise turns the shortcut off.
 */
const plainNanpShortcut = (() => {
  const plans = new Metadata(metadata);
  const countries = metadata.country_calling_codes['1'] ?? [];
  const tenDigitsEverywhere =
    countries.length > 0 &&
    countries.every((country) => {
      plans.selectNumberingPlan(country);
      return plans.numberingPlan?.possibleLengths().includes(10) ?? false;
    });
  plans.selectNumberingPlan(countries[0] as CountryCode);
  // Not in the typings, but part of the plan object libphonenumber itself uses.
  const plan = plans.numberingPlan as { nationalPrefixForParsing?: () => string | undefined } | undefined;
  return tenDigitsEverywhere && plan?.nationalPrefixForParsing?.() === '1';
})();

/** Whether `text` (trimmed, no `tel:`) is a +1 number libphonenumber would return as is. */
export function isPlainNanpNumber(text: string): boolean {
  return plainNanpShortcut && PLAIN_NANP.test(text);
}

function parse(text: string, defaultCountry: string, shortcut: boolean): string | undefined {
  if (shortcut && isPlainNanpNumber(text)) return text;
  const parsed = parsePhoneNumberFromString(text, defaultCountry as CountryCode, metadata);
  if (!parsed || !parsed.isPossible()) return undefined;
  return parsed.number;
}

function normalise(value: string, defaultCountry: string, shortcut: boolean): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '' || /[a-z]/i.test(trimmed.replace(/^tel:/i, '').replace(/\s*(ext|x)\.?\s*\d+$/i, ''))) {
    return undefined;
  }
  const e164 = parse(trimmed.replace(/^tel:/i, ''), defaultCountry, shortcut);
  return e164 !== undefined && E164.test(e164) ? e164 : undefined;
}

/**
 * Normalises a phone number to E.164, reading national numbers in `defaultCountry`.
 * Accepts any number of a possible length for its country (fictional 555 numbers
 * included); returns undefined for anything that cannot be a phone number.
 */
export function toE164(value: string, defaultCountry: string): string | undefined {
  return normalise(value, defaultCountry, true);
}

/** `toE164` without the shortcut: libphonenumber's full parse, the reference the tests hold `toE164` to. */
export function toE164ByFullParse(value: string, defaultCountry: string): string | undefined {
  return normalise(value, defaultCountry, false);
}

/** The national significant number of an E.164 number: `+442071838750` → `2071838750`. */
export function nationalNumberOf(e164: string): string {
  return parsePhoneNumberFromString(e164, metadata)?.nationalNumber ?? e164.slice(1);
}

/** `whatsapp:+1555…` → `+1555…`; other addresses unchanged. */
export function stripChannelPrefix(address: string): string {
  return address.replace(/^whatsapp:/i, '');
}

/** Masks the last four digits, as the Frontline app's own number masking does: `+1555012XXXX`. */
export function maskAddress(value: string): string {
  if (value.length <= 4) return 'XXXX';
  return `${value.slice(0, -4)}XXXX`;
}

/**
 * The ISO country of an E.164 number. A number whose exact country the
 * metadata cannot tell (a fictional +1 555 number, a new range) is taken as
 * the main country of its calling code (US for +1, GB for +44, RU for +7).
 */
export function countryOf(e164: string): string | undefined {
  const parsed = parsePhoneNumberFromString(e164, metadata);
  if (!parsed) return undefined;
  return parsed.country ?? metadata.country_calling_codes[parsed.countryCallingCode]?.[0];
}

/**
 * A phone number in international form anywhere in a text: `+` (or its
 * percent-encoding `%2B`, as in a logged query string) then 7 to 15 digits.
 */
const INTERNATIONAL_NUMBER = /(\+|%2[Bb])(\d{3,11})\d{4}(?!\d)/g;
/**
 * A bare run of 10 to 15 digits standing alone in a text (a number in national
 * or international form without its `+`, e.g. a customer id or a search
 * query). Not when it is part of a longer word or token (SIDs, UUIDs), and not a
 * JSON number value (`"time":1796196979426`): only digits inside a string.
 */
const BARE_NUMBER = /(?<![\w-]|":|[[,])(\d{6,11})\d{4}(?![\w-])/g;

/**
 * Masks every phone number in a text the way `maskAddress` masks one (the last
 * four digits become XXXX): for log lines, whatever field a number hides in
 * (an id like `inbound:+14155550100`, a message, an error's text, a URL).
 */
export function maskPhoneNumbersIn(text: string): string {
  return text.replace(INTERNATIONAL_NUMBER, '$1$2XXXX').replace(BARE_NUMBER, '$1XXXX');
}
