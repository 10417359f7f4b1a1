/** Validation of a senders file (`fis senders import`), with the kernel's rules. Pure. */
import { checkKeys, isObject, type Problem, topLevelList } from '../../kernel/problems.js';
import { countryCode, identity, oneOf, phoneNumber } from '../../kernel/rules.js';
import { SENDER_CHANNELS, type SenderRecord } from './sender.types.js';

export const SENDER_FIELDS = ['channel_type', 'address', 'worker', 'countries'] as const;
export const MAX_SENDERS = 10_000;

/** A valid sender plus what the store keeps beside it. */
export interface NormalizedSender {
  record: SenderRecord;
  e164: string;
}

export type SendersResult = { ok: true; senders: NormalizedSender[] } | { ok: false; problems: Problem[] };

export function validateSenders(doc: unknown, options: { defaultCountry: string }): SendersResult {
  const problems: Problem[] = [];
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

      const channelType = oneOf(item.channel_type, [...path, 'channel_type'], problems, SENDER_CHANNELS);
      const e164 = phoneNumber(item.address, [...path, 'address'], problems, { ...options, channel: channelType });

      let worker: string | undefined;
      if (item.worker !== undefined && item.worker !== null) worker = identity(item.worker, [...path, 'worker'], problems);

      const countries: string[] = [];
      if (item.countries !== undefined && item.countries !== null) {
        if (!Array.isArray(item.countries)) {
          problems.push({ path: [...path, 'countries'], message: 'must be a list of ISO 3166 country codes such as [US, CA]' });
        } else {
          item.countries.forEach((c, j) => {
            const code = countryCode(c, [...path, 'countries', j], problems);
            if (code !== undefined && !countries.includes(code)) countries.push(code);
          });
        }
      }

      if (problems.length > before || channelType === undefined || e164 === undefined) return;
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
