/**
 * A small Frontline integration service written for `fis check`'s tests, on
 * node:http: correct by default (signed requests only, lists by owner, paging
 * by token or Anchor, search, details, templates, proxy addresses), with one
 * deliberate flaw switched on per test. It is someone else's service, not
 * ours, so the check is tested against a second implementation too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export interface FakeCustomer {
  customer_id: string;
  display_name: string;
  worker: string;
  channels: Array<{ type: string; value: string }>;
  avatar?: string;
}

export type Flaw =
  | 'duplicates' // each page repeats the last customer of the page before
  | 'token-skips' // each next_page_token skips one customer
  | 'anchor-repeats' // a page after an Anchor starts with the anchor itself
  | 'unsigned-accepted' // no signature check
  | 'details-of-anyone' // details ignore Worker: another worker's customer is shown
  | 'unknown-500' // an unknown customer id crashes the handler
  | 'dies-on-unknown' // an unknown customer id kills the service (the reference implementation on Node 15+)
  | 'malformed-dto' // details with a numeric customer_id and a national phone number
  | 'huge-reply' // details over 64 KB
  | 'slow-reply'; // details of the first customer take `slowMs`

export interface FakeOptions {
  authToken: string;
  customers: FakeCustomer[];
  /** `token`: next_page_token (Anchor still honoured); `anchor`: no tokens, like the reference. */
  paging: 'token' | 'anchor';
  /** Reply searchable: true and filter by Query (default true); false ignores Query, like the reference. */
  search?: boolean;
  flaw?: Flaw;
  slowMs?: number;
}

export interface FakeIntegration {
  readonly url: string;
  /** Requests received, by Location. */
  readonly received: Map<string, number>;
  close(): Promise<void>;
}

const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

export async function startFakeIntegration(options: FakeOptions): Promise<FakeIntegration> {
  const { flaw } = options;
  const search = options.search ?? true;
  const received = new Map<string, number>();
  let port = 0;

  const ownList = (worker: string, query: string | undefined) =>
    options.customers
      .filter((c) => c.worker === worker)
      .filter((c) => !search || !query || fold(c.display_name).includes(fold(query)))
      .sort((a, b) => (a.customer_id < b.customer_id ? -1 : 1));

  function list(fields: Record<string, string>, res: ServerResponse): void {
    if (!fields.Worker) return send(res, 400, { error: 'Worker is required' });
    const size = /^\d{1,3}$/.test(fields.PageSize ?? '') ? Number(fields.PageSize) : Number.NaN;
    if (!(size >= 1 && size <= 100)) return send(res, 400, { error: 'PageSize must be 1 to 100' });
    const all = ownList(fields.Worker, fields.Query);
    let start = 0;
    if (options.paging === 'token' && fields.NextPageToken) {
      start = Number(Buffer.from(fields.NextPageToken, 'base64url').toString());
    } else if (fields.Anchor) {
      const at = all.findIndex((c) => c.customer_id === fields.Anchor);
      if (at < 0) return send(res, 200, { objects: { customers: [], ...(search ? { searchable: true } : {}) } });
      start = flaw === 'anchor-repeats' ? at : at + 1;
    }
    const page = all.slice(start, start + size).map(({ customer_id, display_name, avatar }) => ({
      customer_id,
      display_name,
      ...(avatar ? { avatar } : {}),
    }));
    const objects: Record<string, unknown> = { customers: page };
    if (search) objects.searchable = true;
    if (options.paging === 'token' && start + size < all.length) {
      const next = flaw === 'duplicates' ? start + size - 1 : flaw === 'token-skips' ? start + size + 1 : start + size;
      objects.next_page_token = Buffer.from(String(next)).toString('base64url');
    }
    send(res, 200, { objects });
  }

  async function details(fields: Record<string, string>, res: ServerResponse): Promise<void> {
    const customer = options.customers.find(
      (c) => c.customer_id === fields.CustomerId && (flaw === 'details-of-anyone' || c.worker === fields.Worker),
    );
    if (!customer) {
      if (flaw === 'unknown-500') return send(res, 500, 'TypeError: Cannot read properties of undefined');
      if (flaw === 'dies-on-unknown') {
        server.close();
        server.closeAllConnections();
        return undefined;
      }
      return send(res, 404, { error: 'no such customer' });
    }
    if (flaw === 'slow-reply' && customer === ownList(customer.worker, undefined)[0]) {
      await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 6500));
    }
    const dto: Record<string, unknown> = {
      customer_id: customer.customer_id,
      display_name: customer.display_name,
      channels: customer.channels,
      links: [{ type: 'CRM', value: `https://crm.example.com/${customer.customer_id}`, display_name: 'Open in CRM' }],
      details: { title: 'Notes', content: flaw === 'huge-reply' ? 'x'.repeat(70 * 1024) : 'Likes tea.\nCalls on Mondays.' },
      ...(customer.avatar ? { avatar: customer.avatar } : {}),
    };
    if (flaw === 'malformed-dto') {
      dto.customer_id = Number(customer.customer_id.replace(/\D/g, ''));
      dto.channels = [{ type: 'sms', value: '(201) 555-0123' }];
    }
    send(res, 200, { objects: { customer: dto } });
  }

  const server = createServer((req, res) => {
    readForm(req)
      .then(async (fields) => {
        received.set(fields.Location ?? '', (received.get(fields.Location ?? '') ?? 0) + 1);
        if (flaw !== 'unsigned-accepted') {
          const signature = req.headers['x-twilio-signature'];
          const url = `http://127.0.0.1:${port}${req.url}`;
          if (typeof signature !== 'string' || !twilio.validateRequest(options.authToken, signature, url, fields)) {
            return send(res, 403, { error: 'Twilio Request Validation Failed.' });
          }
        }
        const location = fields.Location;
        switch (req.url) {
          case '/callbacks/crm':
            if (location === 'GetCustomersList') return list(fields, res);
            if (location === 'GetCustomerDetailsByCustomerId') return details(fields, res);
            return send(res, 422, { error: 'unknown location' });
          case '/callbacks/templates':
            if (location !== 'GetTemplatesByCustomerId') return send(res, 422, { error: 'unknown location' });
            return send(res, 200, [
              { display_name: 'Openers', templates: [{ content: 'Hello, this is your rep.', whatsAppApproved: true }, { content: 'How are you?' }] },
            ]);
          case '/callbacks/outgoing-conversation':
            if (location !== 'GetProxyAddress') return send(res, 422, { error: 'unknown location' });
            return send(res, 200, { proxy_address: fields.ChannelType === 'whatsapp' ? 'whatsapp:+15005550006' : '+15005550006' });
          default:
            return send(res, 404, 'Not Found');
        }
      })
      .catch((err: unknown) => send(res, 500, String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
