/**
 * The admin API's resources, as the console uses them. Every path and shape the console depends
 * on is here, so the screens stay about screens.
 */
import { get, qs, request } from './api';

export interface Channel {
  type: string;
  value: string;
}
export interface Link {
  type: string;
  value: string;
  display_name?: string;
}
export interface CustomerRecord {
  customer_id: string;
  display_name: string;
  workers: string[];
  channels?: Channel[];
  links?: Link[];
  details?: { title: string; content: string };
  avatar?: string;
}

export interface Page<T> {
  items: T[];
  next: string | undefined;
}

export interface Me {
  name: string;
  readOnly: boolean;
}

export async function whoAmI(token: string): Promise<Me> {
  const { data } = await get<{ name: string; read_only: boolean }>('/me', { token });
  return { name: data.name, readOnly: data.read_only === true };
}

// Customers

export async function listCustomers(options: { query?: string; owner?: string; pageSize: number; pageToken?: string }): Promise<Page<CustomerRecord>> {
  const { data } = await get<{ customers: CustomerRecord[]; next_page_token?: string }>(
    `/customers${qs({ q: options.query, owner: options.owner, page_size: options.pageSize, page_token: options.pageToken })}`,
  );
  return { items: data.customers, next: data.next_page_token };
}

export const getCustomer = (id: string) => get<CustomerRecord>(`/customers/${encodeURIComponent(id)}`);

export const createCustomer = (record: CustomerRecord) => request<CustomerRecord>('POST', '/customers', { body: record });

export const replaceCustomer = (id: string, record: CustomerRecord, etag: string | undefined) =>
  request<CustomerRecord>('PUT', `/customers/${encodeURIComponent(id)}`, { body: record, ifMatch: etag });

export const deleteCustomer = (id: string, etag: string | undefined) =>
  request<void>('DELETE', `/customers/${encodeURIComponent(id)}`, { ifMatch: etag });

// Workers

export interface Worker {
  identity: string;
  display_name?: string;
  avatar?: string;
  /** A deactivated rep is never routed to (docs/workers.md). */
  state?: 'active' | 'deactivated';
  /** Passed over by routing when false and ROUTING_SKIP_UNAVAILABLE=true. */
  available?: boolean;
}

export async function listWorkers(): Promise<Worker[]> {
  const workers: Worker[] = [];
  let token: string | undefined;
  do {
    const { data } = await get<{ workers: Worker[]; next_after?: string }>(`/workers${qs({ limit: 1000, after: token })}`);
    workers.push(...data.workers);
    token = data.next_after;
  } while (token);
  return workers;
}

export async function listWorkerIdentities(): Promise<string[]> {
  return (await listWorkers()).map((w) => w.identity);
}

export const getWorker = (identity: string) => get<Worker>(`/workers/${encodeURIComponent(identity)}`);
export const createWorker = (worker: Worker) => request<Worker>('POST', '/workers', { body: worker });
export const replaceWorker = (identity: string, worker: Omit<Worker, 'identity'>, etag: string | undefined) =>
  request<Worker>('PUT', `/workers/${encodeURIComponent(identity)}`, { body: worker, ifMatch: etag });
export const deleteWorker = (identity: string, etag: string | undefined) =>
  request<void>('DELETE', `/workers/${encodeURIComponent(identity)}`, { ifMatch: etag });
export const assignCustomer = (identity: string, customerId: string) =>
  request<unknown>('PUT', `/workers/${encodeURIComponent(identity)}/customers/${encodeURIComponent(customerId)}`);
export const unassignCustomer = (identity: string, customerId: string) =>
  request<unknown>('DELETE', `/workers/${encodeURIComponent(identity)}/customers/${encodeURIComponent(customerId)}`);

// Templates

export interface Template {
  id: string;
  content: string;
  whatsAppApproved: boolean;
}
export interface Category {
  id: string;
  display_name: string;
  templates: Template[];
}
export interface PreviewCategory {
  display_name: string;
  templates: Array<{ content: string; whatsAppApproved: boolean }>;
}

export async function listCategories(): Promise<{ categories: Category[]; etag: string | undefined }> {
  const res = await get<{ categories: Category[] }>('/template-categories');
  return { categories: res.data.categories, etag: res.etag };
}
export const createCategory = (displayName: string, first: { content: string; whatsAppApproved: boolean }) =>
  request<Category>('POST', '/template-categories', { body: { display_name: displayName, templates: [first] } });
export const renameCategory = (id: string, displayName: string) =>
  request<Category>('PATCH', `/template-categories/${encodeURIComponent(id)}`, { body: { display_name: displayName } });
export const deleteCategory = (id: string) => request<void>('DELETE', `/template-categories/${encodeURIComponent(id)}`);
/** With the list's ETag: a reorder made on a list someone changed meanwhile is a 412, not a surprise. */
export const reorderCategories = (ids: string[], etag: string | undefined) =>
  request<unknown>('PUT', '/template-categories/order', { body: { ids }, ifMatch: etag });
export const createTemplate = (categoryId: string, t: { content: string; whatsAppApproved: boolean }) =>
  request<Template>('POST', `/template-categories/${encodeURIComponent(categoryId)}/templates`, { body: t });
export const updateTemplate = (id: string, t: { content: string; whatsAppApproved: boolean }) =>
  request<Template>('PUT', `/templates/${encodeURIComponent(id)}`, { body: t });
export const deleteTemplate = (id: string) => request<void>('DELETE', `/templates/${encodeURIComponent(id)}`);
export const reorderTemplates = (categoryId: string, ids: string[]) =>
  request<unknown>('PUT', `/template-categories/${encodeURIComponent(categoryId)}/templates/order`, { body: { ids } });

/** Every template filled in for a customer and worker: exactly what the templates callback answers. */
export async function previewTemplates(customerId: string, worker: string): Promise<{ categories: PreviewCategory[]; omitted: number }> {
  return (await get<{ categories: PreviewCategory[]; omitted: number }>(`/templates/preview${qs({ customer_id: customerId, worker })}`)).data;
}

/** A draft's text filled in as the callback would fill it; null when the callback would leave it out. */
export async function previewDraft(content: string, customerId: string, worker: string): Promise<string | null> {
  return (await request<{ content: string | null }>('POST', '/templates/preview', { body: { content, customer_id: customerId, worker } })).data.content;
}

// Senders

export interface Sender {
  channel_type: 'sms' | 'whatsapp';
  address: string;
  worker?: string;
  countries?: string[];
}
export type SenderInput = Sender;

export async function listSenders(): Promise<Sender[]> {
  return (await get<{ senders: Sender[] }>('/senders')).data.senders;
}
export const createSender = (sender: SenderInput) => request<Sender>('POST', '/senders', { body: sender });
export const updateSender = (address: string, sender: SenderInput) =>
  request<Sender>('PUT', `/senders/${encodeURIComponent(address)}`, { body: sender });
/** The order GetProxyAddress prefers among equal candidates: every address, once. */
export const reorderSenders = (addresses: string[]) => request<unknown>('PUT', '/senders/order', { body: { addresses } });
export const deleteSender = (address: string) => request<void>('DELETE', `/senders/${encodeURIComponent(address)}`);

// Audit

export interface AuditEntry {
  id: number;
  at: string;
  token: string;
  action: string;
  resource_id: string | null;
  fields: string[];
  summary?: Record<string, number>;
  request_id?: string;
}

export async function listAudit(before?: string): Promise<Page<AuditEntry>> {
  const { data } = await get<{ entries: AuditEntry[]; next_before?: number }>(`/audit${qs({ limit: 50, before })}`);
  return { items: data.entries, next: data.next_before === undefined ? undefined : String(data.next_before) };
}
