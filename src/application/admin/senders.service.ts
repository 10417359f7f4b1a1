/**
 * Sender addresses through the admin API. An address names itself
 * (`+14155550100` for SMS, `whatsapp:+14155550100` for WhatsApp), and the list's
 * order matters (among equal candidates the first wins), so, like templates,
 * every change is made to the whole list under its lock and validated by the
 * senders file's own validator before it is written.
 */
import type { Store } from '../../platform/db/connect.js';
import { AppError, type ReportedProblem as Problem } from '../../kernel/errors.js';
import { formatPath } from '../../kernel/problems.js';
import { recordAudit } from '../../domains/audit/audit.repository.js';
import { listSenders, replaceSenders, SENDERS_WRITE_LOCK } from '../../domains/senders/sender.repository.js';
import type { SenderRecord } from '../../domains/senders/sender.types.js';
import { validateSenders } from '../../domains/senders/sender.validate.js';
import {
  applyMergePatch,
  bodyProblems,
  changedFields,
  checkIfMatch,
  etagOf,
  invalidFields,
  notFound,
  reorder,
  type Tagged,
  tagged,
  type WriteContext,
} from './common.js';

const what = (address: string) => `sender address "${address}"`;

export class AdminSenders {
  constructor(
    private readonly store: Store,
    private readonly options: { readonly defaultCountry: string },
  ) {}

  /** A body's problems, validated as the only entry of a senders file. */
  problemsOf = (body: unknown): Problem[] => {
    const { position: _p, ...sender } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const result = validateSenders({ senders: [typeof body === 'object' && body !== null && !Array.isArray(body) ? sender : body] }, this.options);
    return result.ok ? [] : bodyProblems(result.problems, 2);
  };

  async list(): Promise<Tagged<{ senders: SenderRecord[] }>> {
    return tagged({ senders: await listSenders(this.store.db) });
  }

  async get(address: string): Promise<Tagged<SenderRecord>> {
    const sender = (await listSenders(this.store.db)).find((s) => s.address === address);
    if (!sender) throw notFound(what(address));
    return tagged(sender);
  }

  create(body: Record<string, unknown>, ctx: WriteContext): Promise<Tagged<SenderRecord>> {
    const record = this.validate(body);
    return this.change(ctx, 'sender.create', (senders) => {
      if (senders.some((s) => s.address === record.address)) {
        throw new AppError('CONFLICT', `${what(record.address)} already exists; PUT it to change it`);
      }
      const position = typeof body.position === 'number' ? Math.max(0, Math.min(body.position, senders.length)) : senders.length;
      senders.splice(position, 0, record);
      return { id: record.address, before: undefined, after: record, result: record };
    });
  }

  /** PUT (replace) or PATCH (merge patch) of the sender at `address`; the address itself cannot change. */
  update(address: string, body: Record<string, unknown>, merge: boolean, ctx: WriteContext): Promise<Tagged<SenderRecord>> {
    return this.change(ctx, merge ? 'sender.update' : 'sender.replace', (senders) => {
      const index = senders.findIndex((s) => s.address === address);
      const current = senders[index];
      if (!current) throw notFound(what(address));
      checkIfMatch(ctx.ifMatch, current, what(address));
      const merged = (merge ? applyMergePatch(current, body) : { channel_type: current.channel_type, address, ...body }) as Record<string, unknown>;
      const record = this.validate(merged);
      if (record.address !== address) {
        throw invalidFields([{ position: 'body', field: 'address', message: `must be ${address}, the address in the path (create a new sender for another address)` }], 'The sender');
      }
      senders[index] = record;
      return { id: address, before: current, after: record, result: record };
    });
  }

  async delete(address: string, ctx: WriteContext): Promise<void> {
    await this.change(ctx, 'sender.delete', (senders) => {
      const index = senders.findIndex((s) => s.address === address);
      const current = senders[index];
      if (!current) throw notFound(what(address));
      checkIfMatch(ctx.ifMatch, current, what(address));
      senders.splice(index, 1);
      return { id: address, before: undefined, after: undefined, result: undefined };
    });
  }

  /** Sets the order: `addresses` must list every sender address once. If-Match: the list's ETag. */
  order(addresses: string[], ctx: WriteContext): Promise<Tagged<{ senders: SenderRecord[] }>> {
    return this.change(ctx, 'senders.order', (senders) => {
      checkIfMatch(ctx.ifMatch, { senders: [...senders] }, 'the sender addresses');
      const ordered = reorder(senders, addresses, (s) => s.address, { one: 'sender address', many: 'sender addresses', field: 'addresses' });
      senders.splice(0, senders.length, ...ordered);
      return { id: null, before: undefined, after: undefined, fields: ['order'], result: { senders } };
    });
  }

  private validate(body: unknown): SenderRecord {
    const problems = this.problemsOf(body);
    if (problems.length > 0) throw invalidFields(problems, 'The sender');
    const { position: _p, ...sender } = body as Record<string, unknown>;
    const result = validateSenders({ senders: [sender] }, this.options);
    if (!result.ok) throw invalidFields(bodyProblems(result.problems, 2), 'The sender');
    return (result.senders[0] as { record: SenderRecord }).record;
  }

  private async change<R>(
    ctx: WriteContext,
    action: string,
    edit: (senders: SenderRecord[]) => { id: string | null; before: object | undefined; after: object | undefined; fields?: string[]; result: R },
  ): Promise<Tagged<R>> {
    return this.store.write(async (trx) => {
      const senders = await listSenders(trx);
      const change = edit(senders);
      const validated = validateSenders({ senders }, this.options);
      if (!validated.ok) {
        throw new AppError(
          'CONFLICT',
          `The sender addresses would not be valid after this change: ${validated.problems.map((p) => `${formatPath(p.path)} ${p.message}`).join('; ')}`,
        );
      }
      await replaceSenders(trx, validated.senders);
      await recordAudit(trx, {
        token: ctx.token,
        action,
        resourceId: change.id,
        fields: change.fields ?? changedFields(change.before, change.after),
        requestId: ctx.requestId,
      });
      return { value: change.result, etag: etagOf(change.result) };
    }, { lock: SENDERS_WRITE_LOCK });
  }
}
