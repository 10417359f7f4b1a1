/** Validation of a senders file (`fis senders import`). Pure. */
import { isSupportedCountry } from 'libphonenumber-js/min';
import { toE164 } from '../../kernel/phone.js';
import { checkKeys, type DocProblem, identity, isObject, topLevelList } from '../../kernel/problems.js';
import { SENDER_CHANNELS, type SenderChannel, type SenderRecord } from './sender.types.js';

export const SENDER_FIELDS = ['channel_type', 'address', 'worker', 'countries'] as const;
export const MAX_SENDERS = 10_000;

/** A valid sender plus what the store keeps beside it. */
export interface NormalizedSender {
  record: SenderRecord;
  e164: string;
}

export type SendersResult = { ok: true; senders: NormalizedSender[] } | { ok: false; problems: DocProblem[] };

export function validateSenders(doc: unknown, options: { defaultCountry: string }): SendersResult {
  const problems: DocProblem[] = [];
  const list = topLevelList(doc, 'senders', problems);
  const senders: NormalizedSender[] = [];
  const seen = new Map<string, number>();
  if (list && list.length > MAX_SENDERS) problems.push({ path: ['senders'], message: `at most ${MAX_SENDERS} senders` });
  else
    list?.forEach((item, i) => {
      const path = ['senders', i];
      if (!isObject(item)) {
        problems.push({ path, message: `must be an object {${SENDER_FIELDS.join(', ')}}` });
        return;
      }
      const before = problems.length;
      checkKeys(item, SENDER_FIELDS, path, problems);

      const channel = item.channel_type;
      const channelOk = typeof channel === 'string' && (SENDER_CHANNELS as readonly string[]).includes(channel);
      if (!channelOk) problems.push({ path: [...path, 'channel_type'], message: `must be one of ${SENDER_CHANNELS.join(', ')}` });

      const e164 = number(item.address, channelOk ? (channel as SenderChannel) : undefined, [...path, 'address'], options, problems);

      let worker: string | undefined;
      if (item.worker !== undefined && item.worker !== null) worker = identity(item.worker, [...path, 'worker'], problems);

      const countries: string[] = [];
      if (item.countries !== undefined && item.countries !== null) {
        if (!Array.isArray(item.countries)) {
          problems.push({ path: [...path, 'countries'], message: 'must be a list of ISO 3166 country codes such as [US, CA]' });
        } else {
          item.countries.forEach((c, j) => {
            const code = country(c, [...path, 'countries', j], problems);
            if (code !== undefined && !countries.includes(code)) countries.push(code);
          });
        }
      }

      if (problems.length > before || !channelOk || e164 === undefined) return;
      const channelType = channel as SenderChannel;
      const address = channelType === 'whatsapp' ? `whatsapp:${e164}` : e164;
      const key = `${channelType} ${address}`;
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push({ path: [...path, 'address'], message: `${channelType} address ${address} is also at senders[${first}]` });
        return;
      }
      seen.set(key, i);
      const record: SenderRecord = { channel_type: channelType, address };
      if (worker !== undefined) record.worker = worker;
      if (countries.length > 0) record.countries = countries;
      senders.push({ record, e164 });
    });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, senders };
}

function number(
  value: unknown,
  channel: SenderChannel | undefined,
  path: Array<string | number>,
  options: { defaultCountry: string },
  problems: DocProblem[],
): string | undefined {
  if (typeof value === 'number') {
    // YAML reads an unquoted +14155550100 as the integer 14155550100, dropping the "+".
    problems.push({ path, message: `is a number (${value}); write the phone number as a quoted string such as "+14155550100"` });
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push({ path, message: value === undefined ? 'is required' : 'must be a phone number as a string' });
    return undefined;
  }
  const raw = value.trim();
  const prefixed = /^whatsapp:/i.test(raw);
  if (prefixed && channel === 'sms') {
    problems.push({ path, message: `"${raw}" is a WhatsApp address; an sms sender is a plain number such as +14155550100` });
    return undefined;
  }
  const e164 = toE164(raw.replace(/^whatsapp:/i, ''), options.defaultCountry);
  if (e164 === undefined) {
    problems.push({ path, message: `"${raw}" is not a phone number (E.164 such as +14155550100, or national in ${options.defaultCountry})` });
  }
  return e164;
}

function country(value: unknown, path: Array<string | number>, problems: DocProblem[]): string | undefined {
  if (typeof value === 'string' && /^[A-Za-z]{2}$/.test(value)) {
    const code = value.toUpperCase();
    if (isSupportedCountry(code)) return code;
    if (code === 'UK') {
      problems.push({ path, message: '"UK" is not an ISO 3166 code; the United Kingdom is GB' });
      return undefined;
    }
  }
  problems.push({ path, message: `${JSON.stringify(value)} is not an ISO 3166 two-letter country code such as US or GB` });
  return undefined;
}
