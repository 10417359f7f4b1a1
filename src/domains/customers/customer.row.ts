import type { Customer } from './customer.types.js';

/** The stored columns a Customer DTO is made of (JSON documents are stored as text). */
export interface StoredCustomer {
  customer_id: string;
  display_name: string;
  avatar: string | null;
  channels: string;
  links: string;
  details: string | null;
}

/** The Customer DTO of a stored row; absent and empty fields are left out, never null. */
export function customerFromRow(row: StoredCustomer): Customer {
  const customer: Customer = { customer_id: row.customer_id, display_name: row.display_name };
  const channels = JSON.parse(row.channels) as Customer['channels'];
  const links = JSON.parse(row.links) as Customer['links'];
  if (channels && channels.length > 0) customer.channels = channels;
  if (links && links.length > 0) customer.links = links;
  if (row.details !== null) customer.details = JSON.parse(row.details) as Customer['details'];
  if (row.avatar !== null) customer.avatar = row.avatar;
  return customer;
}
