/** Validation of a workers file (`fis workers import`), with the kernel's rules. Pure. */
import { checkKeys, isObject, type Problem, topLevelList } from '../../kernel/problems.js';
import { identity, singleLine, url } from '../../kernel/rules.js';

export const WORKER_STATES = ['active', 'deactivated'] as const;
/** `active` reps are routed to; a `deactivated` rep keeps their customers but is never chosen (docs/workers.md). */
export type WorkerState = (typeof WORKER_STATES)[number];

/**
 * A rep as a workers file writes them. An absent `state` means `active` and an
 * absent `available` means `true`: a file row says everything about its rep,
 * so a line without them makes the rep active and available again.
 */
export interface WorkerRecord {
  identity: string;
  display_name?: string;
  avatar?: string;
  state?: WorkerState;
  available?: boolean;
}

export const WORKER_FIELDS = ['identity', 'display_name', 'avatar', 'state', 'available'] as const;
export const MAX_WORKERS = 100_000;

export type WorkersResult = { ok: true; workers: WorkerRecord[] } | { ok: false; problems: Problem[] };

export function validateWorkers(doc: unknown): WorkersResult {
  const problems: Problem[] = [];
  const list = topLevelList(doc, 'workers', problems);
  const workers: WorkerRecord[] = [];
  const seen = new Map<string, number>();
  if (list && list.length > MAX_WORKERS) problems.push({ path: ['workers'], message: `at most ${MAX_WORKERS} workers` });
  else
    list?.forEach((item, i) => {
      const path = ['workers', i];
      if (!isObject(item)) {
        problems.push({ path, message: `must be an object {${WORKER_FIELDS.join(', ')}}` });
        return;
      }
      checkKeys(item, WORKER_FIELDS, path, problems);
      const id = identity(item.identity, [...path, 'identity'], problems);
      const record: WorkerRecord | undefined = id === undefined ? undefined : { identity: id };
      if (id !== undefined) {
        const first = seen.get(id);
        if (first !== undefined) problems.push({ path: [...path, 'identity'], message: `"${id}" is also at workers[${first}]` });
        else seen.set(id, i);
      }
      if (item.display_name !== undefined && item.display_name !== null) {
        const name = singleLine(item.display_name, [...path, 'display_name'], problems, 200);
        if (record && name !== undefined) record.display_name = name;
      }
      if (item.avatar !== undefined && item.avatar !== null) {
        const avatar = url(item.avatar, [...path, 'avatar'], problems, ['https', 'http']);
        if (record && avatar !== undefined) record.avatar = avatar;
      }
      if (item.state !== undefined && item.state !== null) {
        if (typeof item.state !== 'string' || !(WORKER_STATES as readonly string[]).includes(item.state)) {
          problems.push({ path: [...path, 'state'], message: `must be one of ${WORKER_STATES.join(', ')}` });
        } else if (record) record.state = item.state as WorkerState;
      }
      if (item.available !== undefined && item.available !== null) {
        if (typeof item.available !== 'boolean') problems.push({ path: [...path, 'available'], message: 'must be true or false' });
        else if (record) record.available = item.available;
      }
      if (record) workers.push(record);
    });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, workers };
}
