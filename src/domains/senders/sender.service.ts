/**
 * GetProxyAddress: which Twilio address a rep sends from when starting a
 * conversation. The order, documented in docs/outgoing-and-templates.md:
 *
 *   1. the rep's own address for the channel (one for the customer's country first);
 *   2. a shared address that serves the customer's country;
 *   3. the channel's default: a shared address that lists no countries;
 *   4. the environment's TWILIO_SMS_NUMBER / TWILIO_WHATSAPP_NUMBER;
 *   otherwise a 403 that says what is missing.
 *
 * An address that lists countries serves only customers in those countries.
 */
import type { Kysely } from 'kysely';
import type { CustomerService } from '../customers/customer.service.js';
import type { Customer } from '../customers/customer.types.js';
import { countryOf, stripChannelPrefix, toE164 } from '../../kernel/phone.js';
import type { Database } from '../../platform/db/database.js';
import { AppError } from '../../kernel/errors.js';
import { findCandidates, type SenderCandidate } from './sender.repository.js';
import { SENDER_CHANNELS, type ProxyAddress, type SenderChannel, type SenderRule } from './sender.types.js';

export interface ProxyAddressRequest {
  worker: string;
  customerId: string;
  channelType: string;
  /** The customer's address on that channel, as the app sends it (`+1…` or `whatsapp:+1…`). */
  channelValue?: string | undefined;
}

export interface SenderServiceOptions {
  readonly defaultCountry: string;
  /** Channel defaults from the environment, used when the store has none. */
  readonly defaults: { readonly sms: string | undefined; readonly whatsapp: string | undefined };
}

export class SenderService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly customers: CustomerService,
    private readonly options: SenderServiceOptions,
  ) {}

  async proxyAddress(request: ProxyAddressRequest): Promise<ProxyAddress & { country: string | undefined }> {
    // Visibility first: a customer the worker may not see is a 404 whatever the channel.
    const customer = await this.customers.getCustomer(request.worker, request.customerId);
    const channel = request.channelType.toLowerCase();
    if (!(SENDER_CHANNELS as readonly string[]).includes(channel)) {
      throw new AppError(
        'NO_SENDER_ADDRESS',
        `There is no sender address for channel "${request.channelType.slice(0, 40)}": this service hands out ${SENDER_CHANNELS.join(' and ')} addresses only`,
      );
    }
    const type = channel as SenderChannel;
    const country = this.customerCountry(type, request.channelValue, customer);
    const candidates = await findCandidates(this.db, type, request.worker);
    const chosen = choose(candidates, request.worker, country) ?? this.fromEnvironment(type);
    if (!chosen) {
      throw new AppError(
        'NO_SENDER_ADDRESS',
        `No ${type} sender address for this conversation: the worker has no ${type} address of their own` +
          (country ? `, no shared ${type} address serves ${country}` : '') +
          `, and there is no default ${type} address (load one with "fis senders import" or set ${ENV_NAMES[type]})`,
      );
    }
    return { ...chosen, country };
  }

  /** The customer's country: from the number being messaged, else from the customer's stored numbers. */
  private customerCountry(type: SenderChannel, channelValue: string | undefined, customer: Customer): string | undefined {
    const stored = customer.channels ?? [];
    const numbers = [
      channelValue,
      ...stored.filter((c) => c.type === type).map((c) => c.value),
      ...stored.filter((c) => c.type === 'sms' || c.type === 'whatsapp').map((c) => c.value),
    ];
    for (const value of numbers) {
      if (!value) continue;
      const e164 = toE164(stripChannelPrefix(value), this.options.defaultCountry);
      const country = e164 && countryOf(e164);
      if (country) return country;
    }
    return undefined;
  }

  private fromEnvironment(type: SenderChannel): ProxyAddress | undefined {
    const address = this.options.defaults[type];
    return address === undefined ? undefined : { address, rule: 'environment' };
  }
}

const ENV_NAMES: Record<SenderChannel, string> = { sms: 'TWILIO_SMS_NUMBER', whatsapp: 'TWILIO_WHATSAPP_NUMBER' };

/** Steps 1–3 of the order above; `candidates` are in file order, so the first of equals wins. */
export function choose(candidates: SenderCandidate[], worker: string, country: string | undefined): ProxyAddress | undefined {
  const forCountry = (c: SenderCandidate) => country !== undefined && c.countries.includes(country);
  const anyCountry = (c: SenderCandidate) => c.countries.length === 0;
  const own = candidates.filter((c) => c.worker === worker);
  const shared = candidates.filter((c) => c.worker === null);
  const steps: Array<[SenderCandidate | undefined, SenderRule]> = [
    [own.find(forCountry) ?? own.find(anyCountry), 'worker'],
    [shared.find(forCountry), 'country'],
    [shared.find(anyCountry), 'default'],
  ];
  for (const [candidate, rule] of steps) if (candidate) return { address: candidate.address, rule };
  return undefined;
}
