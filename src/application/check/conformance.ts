/**
 * `fis check`: plays the Frontline app against a running integration service
 * (ours or anyone's) and reports, one check at a time, what breaks the
 * protocol (fail), what is close to a limit or lenient (warn) and what
 * conforms (pass). docs/check.md describes every check.
 *
 * Requests go one at a time, as the app sends them. A service that stops
 * answering mid-way fails the check that saw it, and the checks after it are
 * skipped rather than reported as failures of their own.
 */
import { randomBytes } from 'node:crypto';
import { CallbackClient, describe, type Exchange, excerpt, type Fields, formatBytes } from './callback-client.js';
import {
  type CheckOptions,
  type CheckReport,
  type CheckResult,
  type CheckStatus,
  LIMITS,
} from './check.types.js';
import { customerFindings, FindingTally, isObject, proxyFindings, templatesFindings } from './dto.js';
import { compareWalks, isComplete, type Walk, walkList } from './list-walk.js';

/** The order of the report; docs/check.md lists the same ids. */
export const CHECK_IDS = [
  'list-walk',
  'list-page-size-1',
  'list-anchor',
  'list-gaps',
  'list-shape',
  'list-unknown-worker',
  'isolation-lists',
  'isolation-details',
  'search-flag',
  'search-matches',
  'search-case',
  'details-dto',
  'details-unknown',
  'templates',
  'proxy-address',
  'signature-unsigned',
  'signature-wrong',
  'signature-tampered',
  'bad-input-worker',
  'bad-input-page-size',
  'bad-input-location',
  'still-answers',
  'reply-size',
  'reply-time',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

const TITLES: Record<CheckId, string> = {
  'list-walk': 'My Customers walked as the app pages it',
  'list-page-size-1': 'My Customers walked with PageSize 1',
  'list-anchor': 'My Customers walked by Anchor alone',
  'list-gaps': 'the walks list the same customers',
  'list-shape': 'list replies are well-formed',
  'list-unknown-worker': 'an unknown worker sees no customers',
  'isolation-lists': "neither worker's list shows the other's customers",
  'isolation-details': "neither worker opens the other's customers",
  'search-flag': 'searchable is a boolean, set',
  'search-matches': 'search results match the Query',
  'search-case': 'search ignores letter case',
  'details-dto': 'customer details are valid Customer DTOs',
  'details-unknown': 'an unknown customer id gets a 4xx',
  templates: 'templates are well-formed',
  'proxy-address': 'proxy addresses fit their channel',
  'signature-unsigned': 'an unsigned request is refused',
  'signature-wrong': 'a wrong signature is refused',
  'signature-tampered': 'a tampered parameter is refused',
  'bad-input-worker': 'a request without Worker gets a 4xx',
  'bad-input-page-size': 'a PageSize out of range gets a 4xx',
  'bad-input-location': 'an unknown Location gets a 4xx',
  'still-answers': 'the service still answers afterwards',
  'reply-size': `every reply within ${LIMITS.replyBytes / 1024} KB (48003)`,
  'reply-time': 'every reply in time (48005)',
};

/** Thrown when the check cannot run at all (exit code 2). */
class CannotRun extends Error {}

const MAX_EXAMPLES = 3;
const examples = (ids: readonly string[]) =>
  ids.slice(0, MAX_EXAMPLES).join(', ') + (ids.length > MAX_EXAMPLES ? ` and ${ids.length - MAX_EXAMPLES} more` : '');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const is2xx = (ex: Exchange) => ex.status !== undefined && ex.status >= 200 && ex.status < 300;
const is4xx = (ex: Exchange) => ex.status !== undefined && ex.status >= 400 && ex.status < 500;
const worst = (statuses: CheckStatus[]): CheckStatus =>
  statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : statuses.includes('pass') ? 'pass' : 'skip';

/** Case- and accent-insensitive text, to judge whether a result matches a query. */
const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();

export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const started = Date.now();
  const client = new CallbackClient(options.baseUrl, options.authToken, options.timeLimitMs);
  const results = new Map<CheckId, CheckResult>();
  const checker = new Checker(options, client, results);
  let error: string | undefined;
  try {
    await checker.run();
  } catch (err) {
    if (!(err instanceof CannotRun)) throw err;
    error = err.message;
    results.clear();
  }
  const checks = CHECK_IDS.flatMap((id) => results.get(id) ?? []);
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return {
    tool: 'fis check',
    target: options.baseUrl,
    worker: options.worker,
    otherWorker: options.otherWorker,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    requests: client.exchanges.length,
    ...(error === undefined ? {} : { error }),
    checks,
    counts,
  };
}

class Checker {
  private readonly crm: string;
  private readonly walks: Walk[] = [];
  private appWalk!: Walk;
  private firstPage: string[] = [];
  /** Customer DTOs fetched by details-dto, by id. */
  private readonly details = new Map<string, Record<string, unknown>>();
  private readonly conversationSid = `CH${randomBytes(16).toString('hex')}`;
  private readonly nobody = `fis-check-nobody-${randomBytes(4).toString('hex')}@example.invalid`;

  constructor(
    private readonly options: CheckOptions,
    private readonly client: CallbackClient,
    private readonly results: Map<CheckId, CheckResult>,
  ) {
    this.crm = options.paths.crm;
  }

  private record(id: CheckId, status: CheckStatus, summary: string, notes: string[] = []): void {
    this.results.set(id, { id, title: TITLES[id], status, summary, notes });
  }

  /** Runs `fn` unless the service has stopped answering; then the checks are skipped. */
  private async step(ids: CheckId[], fn: () => Promise<void>): Promise<void> {
    if (this.client.downSince !== undefined) {
      for (const id of ids) this.record(id, 'skip', `not checked: the service stopped answering (at ${this.client.downSince})`);
      return;
    }
    await fn();
  }

  private walk(request: Parameters<typeof walkList>[2]): Promise<Walk> {
    return walkList(this.client, this.crm, request).then((w) => {
      this.walks.push(w);
      return w;
    });
  }

  async run(): Promise<void> {
    await this.preflight();
    await this.step(['list-walk', 'list-page-size-1', 'list-anchor', 'list-gaps'], () => this.listWalks());
    await this.step(['list-unknown-worker'], () => this.unknownWorker());
    await this.step(['isolation-lists', 'isolation-details'], () => this.isolation());
    await this.step(['search-flag', 'search-matches', 'search-case'], () => this.search());
    await this.step(['details-dto'], () => this.customerDetails());
    await this.step(['templates'], () => this.templates());
    await this.step(['proxy-address'], () => this.proxyAddress());
    await this.step(['signature-unsigned', 'signature-wrong', 'signature-tampered'], () => this.signatures());
    await this.step(['details-unknown'], () => this.unknownCustomer());
    await this.step(['bad-input-worker', 'bad-input-page-size', 'bad-input-location'], () => this.badInput());
    await this.stillAnswers();
    this.listShape();
    this.replySizes();
    this.replyTimes();
  }

  /** One signed first page: tells an unreachable service or a wrong token (exit 2) from everything else. */
  private async preflight(): Promise<void> {
    const ex = await this.client.post(
      this.crm,
      { Location: 'GetCustomersList', Worker: this.options.worker, PageSize: String(LIMITS.appPageSize) },
      { label: 'first page (preflight)', counted: false },
    );
    if (ex.failure === 'network') {
      throw new CannotRun(`cannot reach ${this.client.url(this.crm)}: ${ex.failureMessage}`);
    }
    if (ex.status === 401 || ex.status === 403) {
      throw new CannotRun(
        `${this.client.url(this.crm)} refused a correctly signed request (${ex.status} ${excerpt(ex.text, 80)}): ` +
          'check --auth-token (the auth token of the Twilio account that owns Frontline) and that BASE_URL is the ' +
          'public URL the service checks signatures against (and that it serves --worker at all)',
      );
    }
    if (ex.status === 404 || ex.status === 405) {
      throw new CannotRun(`no CRM callback at ${this.client.url(this.crm)} (${ex.status}): check BASE_URL and --crm-path`);
    }
    this.client.downSince = undefined;
  }

  private async listWalks(): Promise<void> {
    const { worker, listLimit, walkLimit } = this.options;
    const app = await this.walk({ worker, pageSize: LIMITS.appPageSize, by: 'app', limit: listLimit, label: 'list' });
    this.appWalk = app;
    this.firstPage = app.ids.slice(0, LIMITS.appPageSize);
    const how = app.tokens ? 'by next_page_token' : 'by Anchor';
    this.recordWalk('list-walk', app, `PageSize ${LIMITS.appPageSize}, ${how}`);

    const one = await this.walk({ worker, pageSize: 1, by: 'app', limit: walkLimit, label: 'list with PageSize 1' });
    this.recordWalk('list-page-size-1', one, `PageSize 1, ${one.tokens ? 'by next_page_token' : 'by Anchor'}`);

    let anchor: Walk | undefined;
    if (app.tokens) {
      anchor = await this.walk({ worker, pageSize: LIMITS.appPageSize, by: 'anchor', limit: listLimit, label: 'list by Anchor' });
      this.recordWalk('list-anchor', anchor, `PageSize ${LIMITS.appPageSize}, Anchor only (tokens ignored)`);
    } else {
      this.record('list-anchor', 'pass', 'the service gives no next_page_token, so both walks above already page by Anchor');
    }

    const notes: string[] = [];
    const compare = (a: Walk, b: Walk, aName: string, bName: string) => {
      const diff = compareWalks(a, b);
      if (diff.missingFromB.length > 0) {
        notes.push(`${plural(diff.missingFromB.length, 'customer')} of the ${aName} walk missing from the ${bName} walk: ${examples(diff.missingFromB)}`);
      }
      if (diff.missingFromA.length > 0) {
        notes.push(`${plural(diff.missingFromA.length, 'customer')} of the ${bName} walk missing from the ${aName} walk: ${examples(diff.missingFromA)}`);
      }
      return diff.compared;
    };
    const compared = [compare(app, one, 'PageSize 30', 'PageSize 1')];
    if (anchor) compared.push(compare(app, anchor, 'PageSize 30', 'Anchor-only'));
    const partial = [app, one, anchor].some((w) => w && !isComplete(w));
    this.record(
      'list-gaps',
      notes.length > 0 ? 'fail' : 'pass',
      notes.length > 0
        ? 'the walks disagree: paging skips customers'
        : `the ${anchor ? 'three' : 'two'} walks agree (${plural(Math.max(...compared), 'customer')} compared${partial ? ', as far as every walk went' : ''})`,
      notes,
    );
  }

  private recordWalk(id: CheckId, walk: Walk, how: string): void {
    const notes = [...walk.failures, ...walk.warnings];
    const ending =
      walk.ended === 'end'
        ? 'to the end'
        : walk.ended === 'limit'
          ? `stopped at the limit of ${walk.request.limit} customers`
          : 'broken off';
    const summary = `${plural(walk.ids.length, 'customer')} in ${plural(walk.pages, 'page')}, ${how}, ${ending}`;
    this.record(id, walk.failures.length > 0 ? 'fail' : walk.warnings.length > 0 ? 'warn' : 'pass', summary, notes);
  }

  private async unknownWorker(): Promise<void> {
    const ex = await this.client.post(
      this.crm,
      { Location: 'GetCustomersList', Worker: this.nobody, PageSize: String(LIMITS.appPageSize) },
      { label: 'list of an unknown worker' },
    );
    const body = ex.json;
    const customers = Array.isArray(body) ? body : isObject(body) && isObject(body.objects) ? body.objects.customers : undefined;
    if (is2xx(ex) && Array.isArray(customers)) {
      if (customers.length === 0) this.record('list-unknown-worker', 'pass', `empty list for ${this.nobody}`);
      else
        this.record('list-unknown-worker', 'fail', `${plural(customers.length, 'customer')} listed for ${this.nobody}, an identity nobody has`, [
          'the list is not scoped to the worker: every rep may see customers that are not theirs',
        ]);
    } else if (is4xx(ex)) {
      this.record('list-unknown-worker', 'warn', `${describe(ex)}: no customers, but the app shows an error instead of an empty list`, [
        excerpt(ex.text),
      ]);
    } else {
      this.record('list-unknown-worker', 'fail', `${describe(ex)} for an unknown worker`, ex.text ? [excerpt(ex.text)] : []);
    }
  }

  private async isolation(): Promise<void> {
    const other = this.options.otherWorker;
    if (other === undefined) {
      this.record('isolation-lists', 'skip', 'not checked: needs --other-worker');
      this.record('isolation-details', 'skip', 'not checked: needs --other-worker');
      return;
    }
    const { worker, listLimit } = this.options;
    const theirs = await this.walk({ worker: other, pageSize: LIMITS.appPageSize, by: 'app', limit: listLimit, label: `list of ${other}` });
    const mine = new Set(this.appWalk.ids);
    const theirSet = new Set(theirs.ids);
    const both = theirs.ids.filter((id) => mine.has(id));
    const onlyTheirs = theirs.ids.filter((id) => !mine.has(id));
    const onlyMine = this.appWalk.ids.filter((id) => !theirSet.has(id));
    const listNotes = [...theirs.failures.map((f) => `${other}'s list: ${f}`)];
    let listStatus: CheckStatus = theirs.failures.length > 0 ? 'fail' : 'pass';
    let listSummary = `${plural(this.appWalk.ids.length, 'customer')} for ${worker}, ${theirs.ids.length} for ${other}, none in both`;
    if (both.length > 0 && onlyTheirs.length === 0 && onlyMine.length === 0) {
      listStatus = 'fail';
      listSummary = `both workers see the same ${plural(both.length, 'customer')}: the lists are not scoped to the worker`;
    } else if (both.length > 0) {
      listStatus = worst([listStatus, 'warn']);
      listSummary = `${plural(both.length, 'customer')} listed for both workers (shared on purpose, or a leak): ${examples(both)}`;
    }
    this.record('isolation-lists', listStatus, listSummary, listNotes);

    // Customers listed for only one worker must stay closed to the other.
    const probes = [
      ...spread(onlyTheirs, 5).map((id) => ({ id, as: worker, owner: other })),
      ...spread(onlyMine, 5).map((id) => ({ id, as: other, owner: worker })),
    ];
    if (probes.length === 0) {
      this.record('isolation-details', 'skip', 'not checked: no customer is listed for only one of the two workers');
      return;
    }
    const notes: string[] = [];
    const statuses: CheckStatus[] = [];
    const seen = new Set<string>();
    for (const p of probes) {
      if (this.client.downSince !== undefined) break;
      const ex = await this.detailsRequest(p.as, p.id, `details of ${p.id} as ${p.as}`);
      seen.add(ex.status === undefined ? describe(ex) : String(ex.status));
      if (is4xx(ex)) {
        statuses.push('pass');
      } else if (is2xx(ex) && isObject(ex.json) && isObject(ex.json.objects) && isObject(ex.json.objects.customer)) {
        statuses.push('fail');
        notes.push(`${p.as} opened ${p.owner}'s customer ${p.id}: ${excerpt(ex.text, 80)}`);
      } else if (is2xx(ex)) {
        statuses.push('warn');
        notes.push(`${p.as} asking for ${p.owner}'s ${p.id} got ${describe(ex)} without a customer, not a 4xx: ${excerpt(ex.text, 60)}`);
      } else {
        statuses.push('fail');
        notes.push(`${p.as} asking for ${p.owner}'s ${p.id} got ${describe(ex)}`);
      }
    }
    const status = worst(statuses);
    this.record(
      'isolation-details',
      status,
      status === 'pass'
        ? `${plural(probes.length, 'customer')} of one worker asked for as the other: all refused (${[...seen].join(', ')})`
        : `${statuses.filter((s) => s !== 'pass').length} of ${plural(statuses.length, 'request')} for the other worker's customers not refused`,
      notes,
    );
  }

  private async search(): Promise<void> {
    const flag = this.appWalk.searchable;
    const searchable = flag === true;
    if (flag === true) this.record('search-flag', 'pass', 'searchable: true; the app sends what users type as Query');
    else if (flag === undefined || flag === false)
      this.record('search-flag', 'warn', `searchable ${flag === undefined ? 'not set' : 'false'}: the app can only search the customers it has loaded`);
    else this.record('search-flag', 'fail', `searchable is ${JSON.stringify(flag)} (${typeof flag}), not a boolean`);

    const target = chooseSearchWord(this.appWalk);
    if (!target) {
      this.record('search-matches', 'skip', 'not checked: no customer name to search for');
      this.record('search-case', 'skip', 'not checked: no customer name to search for');
      return;
    }
    const { worker, listLimit } = this.options;
    const query = target.word;
    const found = await this.walk({ worker, pageSize: LIMITS.appPageSize, by: 'app', limit: listLimit, query, label: `search "${query}"` });
    const results = found.ids;
    const inList = new Set(this.appWalk.ids);
    const expected = this.appWalk.ids.filter((id) => fold(this.appWalk.names.get(id) ?? '').includes(fold(query)));
    const failNotes: string[] = [...found.failures];
    const warnNotes: string[] = [];

    const firstOfList = this.firstPage;
    const ignoresQuery =
      results.length > 0 &&
      expected.length < Math.min(LIMITS.appPageSize, this.appWalk.ids.length) &&
      results.slice(0, firstOfList.length).join('\n') === firstOfList.join('\n');
    if (ignoresQuery) failNotes.push(`Query "${query}" is ignored: the results are the unfiltered list`);
    if (!results.includes(target.id)) {
      failNotes.push(`"${query}" did not find ${target.id} (${this.appWalk.names.get(target.id)})`);
    }
    const missed = expected.filter((id) => !results.includes(id) && id !== target.id);
    if (missed.length > 0) warnNotes.push(`${plural(missed.length, 'customer')} whose name contains "${query}" not found: ${examples(missed)}`);
    const outside = isComplete(this.appWalk) ? results.filter((id) => !inList.has(id)) : [];
    // Results whose name does not contain the query may match elsewhere (e-mail, notes): look in their details.
    const byNameOnly = results.filter((id) => !fold(found.names.get(id) ?? '').includes(fold(query)) && inList.has(id));
    const unexplained: string[] = [];
    if (!ignoresQuery) {
      for (const id of byNameOnly.slice(0, 10)) {
        if (this.client.downSince !== undefined) break;
        const ex = await this.detailsRequest(worker, id, `details of search result ${id}`);
        // Re-serialised, so that \u-escaped letters compare as letters.
        const text = ex.json === undefined ? ex.text : JSON.stringify(ex.json);
        if (!fold(text).includes(fold(query))) unexplained.push(id);
      }
      if (unexplained.length > 0) warnNotes.push(`results that do not contain "${query}" anywhere in their details: ${examples(unexplained)}`);
    }
    const leakNote = outside.length > 0 ? [`${plural(outside.length, 'result')} not in ${worker}'s own list: ${examples(outside)}`] : [];
    let status: CheckStatus;
    let notes: string[];
    if (searchable) {
      status = leakNote.length + failNotes.length > 0 ? 'fail' : warnNotes.length > 0 ? 'warn' : 'pass';
      notes = [...leakNote, ...failNotes, ...warnNotes];
    } else {
      // Without searchable the app does not send Query: wrong results are not seen by users, a leak still is a leak.
      status = leakNote.length > 0 ? 'fail' : failNotes.length + warnNotes.length > 0 ? 'warn' : 'pass';
      notes = [...leakNote, ...failNotes, ...warnNotes];
    }
    this.record(
      'search-matches',
      status,
      `Query "${query}": ${plural(results.length, 'result')}; ${plural(expected.length, 'customer')} of the list ${expected.length === 1 ? 'has' : 'have'} it in the name${ignoresQuery ? '; Query ignored' : ''}`,
      notes,
    );

    if (!searchable) {
      this.record('search-case', 'skip', 'not checked: the service does not set searchable: true');
      return;
    }
    const other = query === query.toLowerCase() ? query.toUpperCase() : query.toLowerCase();
    const again = await this.walk({ worker, pageSize: LIMITS.appPageSize, by: 'app', limit: listLimit, query: other, label: `search "${other}"` });
    const a = new Set(results);
    const b = new Set(again.ids);
    const onlyFirst = results.filter((id) => !b.has(id));
    const onlySecond = again.ids.filter((id) => !a.has(id));
    if (onlyFirst.length === 0 && onlySecond.length === 0 && again.failures.length === 0) {
      this.record('search-case', 'pass', `"${other}" finds the same ${plural(results.length, 'customer')} as "${query}"`);
    } else {
      this.record('search-case', 'warn', `"${other}" and "${query}" find different customers (${again.ids.length} and ${results.length})`, [
        ...again.failures,
        ...(onlyFirst.length > 0 ? [`only "${query}" finds ${examples(onlyFirst)}`] : []),
        ...(onlySecond.length > 0 ? [`only "${other}" finds ${examples(onlySecond)}`] : []),
      ]);
    }
  }

  private detailsRequest(worker: string, customerId: string, label: string): Promise<Exchange> {
    return this.client.post(this.crm, { Location: 'GetCustomerDetailsByCustomerId', Worker: worker, CustomerId: customerId }, { label });
  }

  private async customerDetails(): Promise<void> {
    const ids = spread(this.appWalk.ids, this.options.detailsSample);
    if (ids.length === 0) {
      this.record('details-dto', 'skip', `not checked: ${this.options.worker} has no customers`);
      return;
    }
    const tally = new FindingTally();
    const channels = new Map<string, number>();
    let valid = 0;
    for (const id of ids) {
      if (this.client.downSince !== undefined) break;
      const ex = await this.detailsRequest(this.options.worker, id, `details of ${id}`);
      if (!is2xx(ex)) {
        tally.add([{ level: 'fail', message: `${describe(ex)} for a customer in the list ${excerpt(ex.text, 60)}` }], id);
        continue;
      }
      if (ex.jsonError !== undefined) {
        tally.add([{ level: 'fail', message: `the reply is not JSON (48003): ${excerpt(ex.text, 60)}` }], id);
        continue;
      }
      const customer = isObject(ex.json) && isObject(ex.json.objects) ? ex.json.objects.customer : undefined;
      if (!isObject(customer)) {
        tally.add([{ level: 'fail', message: `no objects.customer object: ${excerpt(ex.text, 60)}` }], id);
        continue;
      }
      const findings = customerFindings(customer, 'customer');
      if (customer.customer_id !== undefined && String(customer.customer_id) !== id) {
        findings.push({ level: 'fail', message: `customer.customer_id "${String(customer.customer_id)}" is not the id asked for` });
      }
      tally.add(findings, id);
      if (!findings.some((f) => f.level === 'fail')) valid++;
      this.details.set(id, customer);
      if (Array.isArray(customer.channels)) {
        for (const c of customer.channels) {
          const type = isObject(c) && typeof c.type === 'string' ? c.type : '?';
          channels.set(type, (channels.get(type) ?? 0) + 1);
        }
      }
    }
    const channelText = [...channels].map(([t, n]) => `${n} ${t}`).join(', ') || 'none';
    this.record(
      'details-dto',
      tally.failures > 0 ? 'fail' : tally.warnings > 0 ? 'warn' : 'pass',
      `${valid} of ${plural(ids.length, 'customer')} valid (channels: ${channelText})`,
      tally.notes(),
    );
  }

  private async unknownCustomer(): Promise<void> {
    const id = `fis-check-unknown-${randomBytes(4).toString('hex')}`;
    const ex = await this.detailsRequest(this.options.worker, id, `details of unknown ${id}`);
    if (is4xx(ex)) this.record('details-unknown', 'pass', `${describe(ex)} for ${id}`);
    else if (is2xx(ex))
      this.record('details-unknown', 'warn', `${describe(ex)} for an unknown id, not a 4xx: the app gets no customer to show`, [
        excerpt(ex.text),
      ]);
    else this.record('details-unknown', 'fail', `${describe(ex)} for an unknown id: a crash, not a 4xx`, ex.text ? [excerpt(ex.text)] : []);
  }

  private async templates(): Promise<void> {
    const id = this.appWalk.ids[0];
    if (id === undefined) {
      this.record('templates', 'skip', `not checked: ${this.options.worker} has no customers`);
      return;
    }
    const ex = await this.client.post(
      this.options.paths.templates,
      { Location: 'GetTemplatesByCustomerId', Worker: this.options.worker, CustomerId: id, ConversationSid: this.conversationSid },
      { label: `templates for ${id}` },
    );
    if (!is2xx(ex) || ex.jsonError !== undefined) {
      const why = is2xx(ex) ? `the reply is not JSON (48003): ${excerpt(ex.text, 60)}` : `${describe(ex)} ${excerpt(ex.text, 80)}`;
      this.record('templates', 'fail', `templates for ${id}: ${why}`);
      return;
    }
    const t = templatesFindings(ex.json);
    const tally = new FindingTally();
    tally.add(t.findings);
    this.record(
      'templates',
      tally.failures > 0 ? 'fail' : tally.warnings > 0 ? 'warn' : 'pass',
      `${plural(t.categories, 'category', 'categories')}, ${plural(t.templates, 'template')}, ${t.approved} WhatsApp-approved, for ${id}`,
      tally.notes(),
    );
  }

  /** A customer with a channel of this type, among those whose details were fetched. */
  private customerWith(type: string): { id: string; value: string } | undefined {
    for (const [id, customer] of this.details) {
      if (!Array.isArray(customer.channels)) continue;
      for (const c of customer.channels) {
        if (isObject(c) && c.type === type && typeof c.value === 'string') return { id, value: c.value };
      }
    }
    return undefined;
  }

  private async proxyAddress(): Promise<void> {
    const statuses: CheckStatus[] = [];
    const seen: string[] = [];
    const notes: string[] = [];
    for (const type of ['sms', 'whatsapp']) {
      const customer = this.customerWith(type);
      if (!customer || this.client.downSince !== undefined) continue;
      const ex = await this.client.post(
        this.options.paths.outgoing,
        { Location: 'GetProxyAddress', Worker: this.options.worker, CustomerId: customer.id, ChannelType: type, ChannelValue: customer.value },
        { label: `proxy address for ${customer.id} on ${type}` },
      );
      if (is2xx(ex) && ex.jsonError === undefined) {
        const findings = proxyFindings(ex.json, type, customer.value);
        const proxy = isObject(ex.json) ? ex.json.proxy_address : undefined;
        seen.push(`${type} → ${typeof proxy === 'string' ? proxy : JSON.stringify(proxy)}`);
        statuses.push(findings.some((f) => f.level === 'fail') ? 'fail' : findings.length > 0 ? 'warn' : 'pass');
        notes.push(...findings.map((f) => `${type}: ${f.message}`));
      } else if (is2xx(ex)) {
        statuses.push('fail');
        seen.push(`${type} → not JSON`);
        notes.push(`${type}: the reply is not JSON (48003): ${excerpt(ex.text, 60)}`);
      } else if (is4xx(ex)) {
        statuses.push('warn');
        seen.push(`${type} → ${ex.status}`);
        notes.push(`${type}: refused (${describe(ex)}): the app cannot start a ${type} conversation with ${customer.id}: ${excerpt(ex.text, 80)}`);
      } else {
        statuses.push('fail');
        seen.push(`${type} → ${describe(ex)}`);
        notes.push(`${type}: ${describe(ex)} ${excerpt(ex.text, 80)}`);
      }
    }
    if (statuses.length === 0) {
      this.record('proxy-address', 'skip', 'not checked: no customer with an sms or whatsapp channel among the details fetched');
      return;
    }
    this.record('proxy-address', worst(statuses), seen.join('; '), notes);
  }

  private async signatures(): Promise<void> {
    const { worker, otherWorker, paths } = this.options;
    const id = this.appWalk.ids[0] ?? 'fis-check-customer';
    const sms = this.customerWith('sms');
    const requests: Array<{ path: string; fields: Fields }> = [
      { path: paths.crm, fields: { Location: 'GetCustomersList', Worker: worker, PageSize: '1' } },
      {
        path: paths.templates,
        fields: { Location: 'GetTemplatesByCustomerId', Worker: worker, CustomerId: id, ConversationSid: this.conversationSid },
      },
      {
        path: paths.outgoing,
        fields: {
          Location: 'GetProxyAddress',
          Worker: worker,
          CustomerId: sms?.id ?? id,
          ChannelType: 'sms',
          ChannelValue: sms?.value ?? '+15005550006',
        },
      },
    ];
    const intruder = otherWorker ?? `fis-check-intruder-${randomBytes(4).toString('hex')}@example.invalid`;
    const kinds = [
      { id: 'signature-unsigned', signing: 'unsigned', what: 'without X-Twilio-Signature' },
      { id: 'signature-wrong', signing: 'wrong', what: 'signed with another auth token' },
      { id: 'signature-tampered', signing: 'tampered', what: `signed, then Worker changed to ${intruder}` },
    ] as const;
    for (const kind of kinds) {
      const statuses: CheckStatus[] = [];
      const seen: string[] = [];
      const notes: string[] = [];
      for (const r of requests) {
        if (this.client.downSince !== undefined) break;
        const fields = kind.signing === 'tampered' ? { ...r.fields, Worker: intruder } : r.fields;
        const ex = await this.client.post(r.path, fields, {
          label: `${r.fields.Location} ${kind.what}`,
          signing: kind.signing,
          signedFields: r.fields,
        });
        seen.push(ex.status === undefined ? describe(ex) : String(ex.status));
        if (ex.status === 401 || ex.status === 403) statuses.push('pass');
        else if (is2xx(ex)) {
          statuses.push('fail');
          notes.push(`${r.path} accepted it: ${describe(ex)} ${excerpt(ex.text, 60)}`);
        } else if (ex.status !== undefined && ex.status < 500) {
          statuses.push('warn');
          notes.push(`${r.path} refused it with ${ex.status}, not 401 or 403: ${excerpt(ex.text, 60)}`);
        } else {
          statuses.push('fail');
          notes.push(`${r.path}: ${describe(ex)} ${excerpt(ex.text, 60)}`);
        }
      }
      const status = worst(statuses);
      const summary =
        status === 'pass'
          ? `refused on all ${requests.length} callbacks (${seen.join(', ')})`
          : `${statuses.filter((s) => s !== 'pass').length} of ${requests.length} callbacks did not refuse it with 401/403 (${seen.join(', ')})`;
      this.record(kind.id, status, summary, notes);
    }
  }

  /** The outcome of a deliberately bad request: a 4xx is right, a 2xx lenient, anything else breaks. */
  private badOutcome(ex: Exchange, what: string, statuses: CheckStatus[], notes: string[], leniency?: string): void {
    if (is4xx(ex)) statuses.push('pass');
    else if (is2xx(ex)) {
      statuses.push('warn');
      notes.push(`${what}: accepted (${describe(ex)})${leniency ? `, ${leniency}` : ''}`);
    } else {
      statuses.push('fail');
      notes.push(`${what}: ${describe(ex)} ${excerpt(ex.text, 80)}`);
    }
  }

  private async badInput(): Promise<void> {
    const { worker, paths } = this.options;
    {
      const ex = await this.client.post(this.crm, { Location: 'GetCustomersList', PageSize: '30' }, { label: 'list without Worker', counted: false });
      const customers = isObject(ex.json) && isObject(ex.json.objects) ? ex.json.objects.customers : undefined;
      if (is2xx(ex) && Array.isArray(customers) && customers.length > 0) {
        this.record('bad-input-worker', 'fail', `${describe(ex)}: ${plural(customers.length, 'customer')} listed for nobody`, [
          'a request without Worker lists customers: the list is not scoped to the worker',
        ]);
      } else {
        const statuses: CheckStatus[] = [];
        const notes: string[] = [];
        this.badOutcome(ex, 'no Worker', statuses, notes, 'with an empty list');
        this.record('bad-input-worker', worst(statuses), `GetCustomersList without Worker: ${describe(ex)}`, notes);
      }
    }
    {
      const statuses: CheckStatus[] = [];
      const notes: string[] = [];
      const seen: string[] = [];
      for (const size of ['0', '-1', 'abc', '100000']) {
        if (this.client.downSince !== undefined) break;
        const ex = await this.client.post(
          this.crm,
          { Location: 'GetCustomersList', Worker: worker, PageSize: size },
          { label: `list with PageSize ${size}`, counted: false },
        );
        seen.push(`${size} → ${ex.status ?? describe(ex)}`);
        const customers = isObject(ex.json) && isObject(ex.json.objects) ? ex.json.objects.customers : undefined;
        this.badOutcome(
          ex,
          `PageSize=${size}`,
          statuses,
          notes,
          Array.isArray(customers) ? `${plural(customers.length, 'customer')}, ${formatBytes(ex.bytes)}` : undefined,
        );
      }
      this.record('bad-input-page-size', worst(statuses), seen.join(', '), notes);
    }
    {
      const statuses: CheckStatus[] = [];
      const notes: string[] = [];
      const seen: string[] = [];
      for (const path of [paths.crm, paths.outgoing, paths.templates]) {
        if (this.client.downSince !== undefined) break;
        const ex = await this.client.post(
          path,
          { Location: 'GetSomethingElse', Worker: worker, CustomerId: this.appWalk.ids[0] ?? 'x' },
          { label: `unknown Location on ${path}`, counted: false },
        );
        seen.push(`${path} → ${ex.status ?? describe(ex)}`);
        this.badOutcome(ex, path, statuses, notes);
      }
      this.record('bad-input-location', worst(statuses), seen.join(', '), notes);
    }
  }

  private async stillAnswers(): Promise<void> {
    if (this.client.downSince !== undefined) {
      this.record('still-answers', 'fail', `the service stopped answering at: ${this.client.downSince}`);
      return;
    }
    const ex = await this.client.post(
      this.crm,
      { Location: 'GetCustomersList', Worker: this.options.worker, PageSize: String(LIMITS.appPageSize) },
      { label: 'first page again, at the end' },
    );
    const customers = isObject(ex.json) && isObject(ex.json.objects) ? ex.json.objects.customers : undefined;
    if (!is2xx(ex) || !Array.isArray(customers)) {
      this.record('still-answers', 'fail', `the first page again, at the end: ${describe(ex)} ${excerpt(ex.text, 60)}`);
      return;
    }
    const ids = customers.map((c) => (isObject(c) ? String(c.customer_id) : '?'));
    const same = ids.join('\n') === this.firstPage.join('\n');
    this.record(
      'still-answers',
      same ? 'pass' : 'warn',
      same ? `the first page again: ${describe(ex)}, the same ${plural(ids.length, 'customer')}` : `the first page again: ${describe(ex)}, but other customers than at the start`,
    );
  }

  private listShape(): void {
    const tally = new FindingTally();
    let pages = 0;
    for (const w of this.walks) {
      pages += w.pages;
      for (const s of w.shape) tally.add(s.findings, s.where);
    }
    if (pages === 0) {
      this.record('list-shape', 'skip', 'not checked: no list reply');
      return;
    }
    this.record(
      'list-shape',
      tally.failures > 0 ? 'fail' : tally.warnings > 0 ? 'warn' : 'pass',
      tally.failures + tally.warnings === 0
        ? `${plural(pages, 'list reply', 'list replies')}: {"objects": {"customers"}} with string ids and names`
        : `${plural(pages, 'list reply', 'list replies')}: ${tally.failures} problem(s) that break the app, ${tally.warnings} warning(s)`,
      tally.notes(),
    );
  }

  private counted(): Exchange[] {
    return this.client.exchanges.filter((ex) => ex.counted && ex.failure === undefined);
  }

  private replySizes(): void {
    const replies = this.counted();
    if (replies.length === 0) {
      this.record('reply-size', 'skip', 'not checked: no reply');
      return;
    }
    const largest = replies.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const over = replies.filter((ex) => ex.bytes > LIMITS.replyBytes);
    const near = replies.filter((ex) => ex.bytes > LIMITS.replyBytesWarning && ex.bytes <= LIMITS.replyBytes);
    const list = (xs: Exchange[]) => examples(xs.map((ex) => `${ex.label} (${formatBytes(ex.bytes)})`));
    const notes = [
      ...(over.length > 0 ? [`over ${LIMITS.replyBytes / 1024} KB, which the app rejects: ${list(over)}`] : []),
      ...(near.length > 0 ? [`over ${LIMITS.replyBytesWarning / 1024} KB: ${list(near)}`] : []),
    ];
    this.record(
      'reply-size',
      over.length > 0 ? 'fail' : near.length > 0 ? 'warn' : 'pass',
      `${plural(replies.length, 'reply', 'replies')}, the largest ${formatBytes(largest.bytes)} (${largest.label})`,
      notes,
    );
  }

  private replyTimes(): void {
    const all = this.client.exchanges.filter((ex) => ex.counted && ex.failure !== 'network');
    if (all.length === 0) {
      this.record('reply-time', 'skip', 'not checked: no reply');
      return;
    }
    const limit = this.options.timeLimitMs;
    const slowest = all.reduce((a, b) => (b.ms > a.ms ? b : a));
    const late = all.filter((ex) => ex.failure === 'timeout' || ex.ms > limit);
    const near = all.filter((ex) => ex.failure === undefined && ex.ms > limit / 2 && ex.ms <= limit);
    const list = (xs: Exchange[]) => examples(xs.map((ex) => `${ex.label} (${ex.failure === 'timeout' ? 'no reply' : `${Math.round(ex.ms)} ms`})`));
    const sorted = all.map((ex) => ex.ms).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const notes = [
      ...(late.length > 0 ? [`not answered within ${limit} ms, which the app gives up at: ${list(late)}`] : []),
      ...(near.length > 0 ? [`over ${limit / 2} ms: ${list(near)}`] : []),
    ];
    this.record(
      'reply-time',
      late.length > 0 ? 'fail' : near.length > 0 ? 'warn' : 'pass',
      `${plural(all.length, 'reply', 'replies')}, median ${Math.round(median)} ms, slowest ${slowest.failure === 'timeout' ? `over ${limit}` : Math.round(slowest.ms)} ms (${slowest.label}), limit ${limit} ms`,
      notes,
    );
  }
}

/** Up to `n` items spread evenly over the list, first and last included. */
export function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  if (n <= 0) return [];
  if (n === 1) return [items[0] as T];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round((i * (items.length - 1)) / (n - 1))] as T);
  return out;
}

/**
 * A word to search for: a word of some customer's name that few names share,
 * taken from a customer past the first page when there is one (so a service
 * that answers every query with its first page is caught).
 */
export function chooseSearchWord(walk: Walk): { word: string; id: string } | undefined {
  const counts = new Map<string, number>();
  const wordsOf = (name: string) => [...new Set(name.match(/\p{L}{3,}/gu) ?? [])];
  for (const id of walk.ids) for (const w of wordsOf(walk.names.get(id) ?? '')) counts.set(fold(w), (counts.get(fold(w)) ?? 0) + 1);
  let best: { word: string; id: string; score: number } | undefined;
  walk.ids.forEach((id, i) => {
    for (const word of wordsOf(walk.names.get(id) ?? '')) {
      const holders = counts.get(fold(word)) ?? 0;
      // Fewer holders first; a customer past the first page breaks ties.
      const score = holders * 2 + (i >= LIMITS.appPageSize || walk.ids.length <= LIMITS.appPageSize ? 0 : 1);
      if (!best || score < best.score) best = { word, id, score };
    }
  });
  return best && { word: best.word, id: best.id };
}
