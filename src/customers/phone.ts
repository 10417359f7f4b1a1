import { type CountryCode, type MetadataJson, parsePhoneNumberFromString } from 'libphonenumber-js/min';
import metadataJson from 'libphonenumber-js/min/metadata';

const metadata = metadataJson as MetadataJson;

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Normalises a phone number to E.164, reading national numbers in `defaultCountry`.
 * Accepts any number of a possible length for its country (fictional 555 numbers
 * included); returns undefined for anything that cannot be a phone number.
 */
export function toE164(value: string, defaultCountry: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '' || /[a-z]/i.test(trimmed.replace(/^tel:/i, '').replace(/\s*(ext|x)\.?\s*\d+$/i, ''))) {
    return undefined;
  }
  const parsed = parsePhoneNumberFromString(trimmed.replace(/^tel:/i, ''), defaultCountry as CountryCode);
  if (!parsed || !parsed.isPossible()) return undefined;
  const e164 = parsed.number;
  return E164.test(e164) ? e164 : undefined;
}

/** The national significant number of an E.164 number: `+442071838750` → `2071838750`. */
export function nationalNumberOf(e164: string): string {
  return parsePhoneNumberFromString(e164)?.nationalNumber ?? e164.slice(1);
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
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return undefined;
  return parsed.country ?? metadata.country_calling_codes[parsed.countryCallingCode]?.[0];
}
