/** The Frontline Data Transfer Objects (https://www.twilio.com/docs/frontline/data-transfer-objects), as we send them. */

export const CHANNEL_TYPES = ['sms', 'whatsapp', 'chat', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export interface Channel {
  type: ChannelType;
  /** E.164 for sms, `whatsapp:`+E.164 for whatsapp, an address for email, an identity for chat. */
  value: string;
}

export interface Link {
  type: string;
  value: string;
  display_name?: string;
}

export interface Detail {
  title: string;
  content: string;
}

/** What GetCustomerDetailsByCustomerId returns. Absent fields are left out, never null. */
export interface Customer {
  customer_id: string;
  display_name: string;
  channels?: Channel[];
  links?: Link[];
  details?: Detail;
  avatar?: string;
}

/** One row of the My Customers list. */
export interface CustomerListItem {
  customer_id: string;
  display_name: string;
  avatar?: string;
}

/** The import/export record: a Customer plus the identities of the reps who own it. */
export interface CustomerRecord extends Customer {
  workers: string[];
}
