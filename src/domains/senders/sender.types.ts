/** Twilio addresses the service hands out as `proxy_address` (GetProxyAddress). */

export const SENDER_CHANNELS = ['sms', 'whatsapp'] as const;
export type SenderChannel = (typeof SENDER_CHANNELS)[number];

/** One sender address, as loaded from a senders file and exported back. */
export interface SenderRecord {
  channel_type: SenderChannel;
  /** As sent in `proxy_address`: `+E164` for sms, `whatsapp:+E164` for whatsapp. */
  address: string;
  /** The rep this address belongs to; absent for a shared address. */
  worker?: string;
  /** ISO 3166 codes of the countries it serves; absent or empty for none in particular. */
  countries?: string[];
}

/** Which rule of the documented resolution order chose an address. */
export type SenderRule = 'worker' | 'country' | 'default' | 'environment';

export interface ProxyAddress {
  address: string;
  rule: SenderRule;
}
