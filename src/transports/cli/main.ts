#!/usr/bin/env node
/**
 * `fis`: the one command-line program. `fis <command> --help` documents each command.
 * Every command exits non-zero when it fails.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatProblem } from '../../kernel/problems.js';
import { type Config, ConfigError, loadConfig } from '../../platform/config.js';
import { openStore, type Store } from '../../platform/db/connect.js';
import { forBulkImport, IMPORT_SORT_THREADS } from '../../platform/db/store-options.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import { countCustomers } from '../../domains/customers/customer-import.repository.js';
import { exportCustomers, writeNdjson } from '../../application/files/export.service.js';
import { ImportRejected, importCustomerFile, importCustomers } from '../../application/files/import.service.js';
import { FILE_FORMATS, type FileFormat, formatOf } from '../../application/files/readers.js';
import { asSourceRecords, generateCustomers, workerIdentity } from '../../application/files/seed.js';
import { DOCUMENT_FORMATS, type DocumentFormat, documentFormatOf, renderSettings } from '../../application/files/documents.js';
import { TokenService } from '../../domains/access/token.service.js';
import { countLines, Progress } from './progress.js';
import { CHECK_DEFAULTS, exitCodeOf } from '../../application/check/check.types.js';
import {
  exportSettings,
  importSenders,
  importTemplates,
  importWorkers,
  type SettingsKind,
} from '../../application/files/settings.service.js';
import { createWorkerSync, describeReport, describeResult, type SyncReport } from '../../application/workers-sync.js';

const positiveInt = (name: string) => (raw: string) => {
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(raw);
};

/** Reads ./.env into the environment (variables already set win). */
function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}

function config(options: { requireAuthToken?: boolean; env?: Record<string, string | undefined> } = {}): Config {
  loadDotEnv();
  return loadConfig({ ...process.env, ...options.env }, { requireAuthToken: options.requireAuthToken ?? false });
}

async function withStore<T>(cfg: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(cfg);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A file of the package's examples/ folder, from src/transports/cli (tsx) or dist/src/transports/cli (built). */
function exampleFile(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return path.join(dir, 'examples', name);
}

const say = (message: string) => process.stderr.write(`${message}\n`);

/**
 * FILE opened for writing before anything is read or generated for it: a path that cannot be written (no
 * such directory, no permission) is a clear error, not a write stream's unhandled 'error' event.
 */
async function outputFile(file: string): Promise<WriteStream> {
  const out = createWriteStream(file);
  try {
    await once(out, 'ready');
  } catch (err) {
    throw new InvalidArgumentError(`cannot write ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return out;
}

function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidArgumentError(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`not an http(s) URL: ${raw}`);
  return raw.replace(/\/+$/, '');
}

interface CheckCliOptions {
  authToken: string;
  worker: string;
  otherWorker?: string;
  json?: boolean;
  strict?: boolean;
  crmPath: string;
  outgoingPath: string;
  templatesPath: string;
  timeLimit: number;
  listLimit: number;
  walkLimit: number;
  details: number;
}

const program = new Command()
  .name('fis')
  .description('Frontline Integration Service: serve the Twilio Frontline callbacks, and manage the customer store.')
  .showHelpAfterError();

program
  .command('serve')
  .description('Start the HTTP service (configuration from the environment and ./.env; see .env.example).')
  .option('--migrate', 'apply pending database migrations before listening (same as MIGRATE_ON_START=true)')
  .option('--processes <n>', 'processes serving the port: a number or auto (same as SERVE_PROCESSES)')
  .action(async (opts: { migrate?: boolean; processes?: string }) => {
    const cfg = config({
      requireAuthToken: true,
      env: { ...(opts.migrate ? { MIGRATE_ON_START: 'true' } : {}), ...(opts.processes ? { SERVE_PROCESSES: opts.processes } : {}) },
    });
    const { joinPrimary, runPrimary, servesAsPrimary } = await import('../http/cluster.js');
    // Loaded on demand: the HTTP stack is not needed by the data commands, which then start faster.
    const { closeOnSignals, prepareSchema, startServer } = await import('../http/server.js');
    if (servesAsPrimary(cfg)) {
      // Once, before any worker starts: the workers then find nothing pending.
      await withStore(cfg, (store) => prepareSchema(store, cfg));
      process.exitCode = await runPrimary({ processes: cfg.serveProcesses, log: say });
      return;
    }
    const server = await startServer(cfg);
    joinPrimary(server.metrics, closeOnSignals(server, say));
  });

program
  .command('migrate')
  .description('Apply every pending database migration (safe to run from several instances at once).')
  .action(async () => {
    const cfg = config();
    const applied = await withStore(cfg, migrateToLatest);
    say(applied.length === 0 ? 'database is up to date' : `applied ${applied.length} migration(s): ${applied.join(', ')}`);
  });

program
  .command('import')
  .description(
    'Import customers from FILE: NDJSON (one customer per line), a JSON array, or CSV (see docs/import-format.md). ' +
      'Upserts by customer_id; the whole file is rejected, and nothing changed, if any record is invalid.',
  )
  .argument('<file>', 'the file to import')
  .addOption(new Option('--format <format>', 'file format (default: from the file extension)').choices(FILE_FORMATS))
  .option('--prune', 'also delete customers that are not in the file')
  .option(
    '--wait <seconds>',
    "how long to wait for the store's write lock while another writer holds it (the service, another import)",
    positiveInt('--wait'),
    60,
  )
  .action(async (file: string, opts: { format?: FileFormat; prune?: boolean; wait: number }) => {
    if (!existsSync(file)) throw new InvalidArgumentError(`no such file: ${file}`);
    // Opening the file waits as long as the write lock may (a first import may hold the file alone).
    const cfg = { ...forBulkImport(config(), { sortThreads: IMPORT_SORT_THREADS }), openWaitMs: opts.wait * 1000 };
    const started = performance.now();
    const format = formatOf(file, opts.format);
    const progress = new Progress('imported');
    // The total for "time left": lines of an NDJSON or CSV file, counted alongside (only when the progress shows).
    if (progress.enabled && format !== 'json') void countLines(file).then((n) => progress.setTotal(format === 'csv' ? Math.max(0, n - 1) : n), () => undefined);
    const report = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      return importCustomerFile(store, file, format, {
        prune: opts.prune ?? false,
        defaultCountry: cfg.defaultCountry,
        lockWaitMs: opts.wait * 1000,
        onProgress: (records) => progress.update(records),
      });
    }).finally(() => progress.finish());
    const seconds = (performance.now() - started) / 1000;
    say(
      `imported ${report.records} customer(s) in ${seconds.toFixed(1)} s: ${report.created} created, ${report.updated} updated, ${report.pruned} pruned`,
    );
  });

program
  .command('export')
  .description('Write every customer as NDJSON (the import format) to FILE, or to standard output.')
  .argument('[file]', 'output file (default: standard output)')
  .action(async (file: string | undefined) => {
    const cfg = config();
    const out = file ? await outputFile(file) : process.stdout;
    // Progress on the terminal only, and never on the terminal the records themselves are written to.
    const progress = new Progress('exported', process.stderr, { enabled: process.stderr.isTTY === true && (file !== undefined || !process.stdout.isTTY) });
    const n = await withStore(cfg, async (store) => {
      if (progress.enabled) progress.setTotal(await countCustomers(store.db));
      return writeNdjson(exportCustomers(store), out, (written) => progress.update(written));
    }).finally(() => progress.finish());
    if (file) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    say(`exported ${n} customer(s)`);
  });

function seedOptions(cmd: Command): Command {
  return cmd
    .option('--customers <n>', 'number of customers', positiveInt('--customers'), 1000)
    .option('--workers <n>', 'number of workers (reps)', positiveInt('--workers'), 5)
    .option('--seed <n>', 'random seed: the same seed gives the same data', positiveInt('--seed'), 1)
    .option('--heavy-workers <n>', 'workers who own --heavy-size customers each', positiveInt('--heavy-workers'), 0)
    .option('--heavy-size <n>', 'customers owned by each heavy worker', positiveInt('--heavy-size'), 0);
}

interface SeedCliOptions {
  customers: number;
  workers: number;
  seed: number;
  heavyWorkers: number;
  heavySize: number;
  out?: string;
}

seedOptions(program.command('seed'))
  .description('Generate realistic sample customers, deterministic for a given --seed; import them, or write NDJSON with --out.')
  .option('--out <file>', 'write the customers to this NDJSON file instead of importing them')
  .action(async (opts: SeedCliOptions) => {
    if (opts.workers < 1) throw new InvalidArgumentError('--workers must be at least 1');
    const records = generateCustomers(opts);
    if (opts.out) {
      const out = await outputFile(opts.out);
      const n = await writeNdjson(records, out);
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      say(`wrote ${n} customer(s) to ${opts.out}`);
      return;
    }
    const cfg = config();
    const report = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      return importCustomers(store, asSourceRecords(records), { prune: false, defaultCountry: cfg.defaultCountry });
    });
    say(`seeded ${report.records} customer(s) for ${opts.workers} worker(s), e.g. ${workerIdentity(0)}`);
  });

seedOptions(program.command('demo'))
  .description(
    'Start the service on the embedded SQLite store with sample customers, reps, sender numbers and templates ' +
      '(loaded from examples/ when the store is empty). ' +
      'Without TWILIO_AUTH_TOKEN (in the environment or ./.env), a token is generated and printed so that you can sign requests.',
  )
  .action(async (opts: SeedCliOptions) => {
    // The token may come from ./.env: read it before deciding to generate one.
    loadDotEnv();
    const generated = process.env.TWILIO_AUTH_TOKEN ? undefined : randomBytes(16).toString('hex');
    const cfg = config({
      requireAuthToken: true,
      env: {
        MIGRATE_ON_START: 'true',
        ...(generated ? { TWILIO_AUTH_TOKEN: generated } : {}),
        // A local demo: without PUBLIC_URL, sign for the URL as sent from this machine.
        ...(process.env.PUBLIC_URL || process.env.TRUSTED_PROXIES ? {} : { TRUSTED_PROXIES: 'loopback' }),
      },
    });
    const consoleToken = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      if ((await countCustomers(store.db)) === 0) {
        await importCustomers(store, asSourceRecords(generateCustomers(opts)), {
          prune: false,
          defaultCountry: cfg.defaultCountry,
        });
        await importWorkers(store, { file: exampleFile('workers.yaml'), format: 'yaml' }, { prune: false });
        await importSenders(store, { file: exampleFile('senders.yaml'), format: 'yaml' }, { defaultCountry: cfg.defaultCountry });
        await importTemplates(store, { file: exampleFile('templates.yaml'), format: 'yaml' });
        say(`seeded ${opts.customers} sample customers for ${opts.workers} workers, with the reps, numbers and templates in examples/`);
      }
      // A fresh admin token for the web console on every run: the last run's "demo" token is revoked.
      const tokens = new TokenService(store.db);
      await tokens.revoke('demo');
      const created = await tokens.create('demo', { readOnly: false });
      return created.ok ? created.token : undefined;
    });
    const { closeOnSignals, startServer } = await import('../http/server.js');
    const { default: twilio } = await import('twilio');
    const server = await startServer(cfg);
    const token = cfg.twilioAuthToken as string;
    // The port it listens on (PORT=0 picks a free one), as curl on this machine reaches it.
    const base = cfg.publicUrl ?? `http://localhost:${new URL(server.url).port || cfg.port}`;
    const params = { Location: 'GetCustomersList', Worker: workerIdentity(0), PageSize: '5' };
    const signature = twilio.getExpectedTwilioSignature(token, `${base}/callbacks/crm`, params);
    say('');
    say(`Frontline Integration Service (demo) listening on ${server.url}, store ${cfg.store.kind}`);
    if (generated) say(`Generated TWILIO_AUTH_TOKEN for this run: ${generated}`);
    say(`Sample workers: ${[0, 1, 2].map(workerIdentity).join(', ')}`);
    say('Try a signed CRM callback:');
    say(
      `  curl -s ${base}/callbacks/crm -H 'X-Twilio-Signature: ${signature}' ` +
        Object.entries(params)
          .map(([k, v]) => `--data-urlencode '${k}=${v}'`)
          .join(' '),
    );
    if (consoleToken) {
      say(`Web console: ${base}/console (and the simulator: ${base}/console/simulator)`);
      say(`Admin token for the console (shown once; a new one each run): ${consoleToken}`);
    }
    closeOnSignals(server, say);
  });

program
  .command('check')
  .description(
    'Play the Frontline app against a running integration service (ours or any other) and report, one line per check, ' +
      'what breaks the protocol (docs/check.md). Exit 0: nothing breaks it; 1: something does (or warns, with --strict); ' +
      '2: the check could not run (unreachable, wrong token, bad arguments).',
  )
  .argument('<base-url>', 'the public base URL of the service, as configured in Twilio (requests are signed for it)', httpUrl)
  .addOption(
    new Option('--auth-token <token>', 'auth token of the Twilio account that owns Frontline, to sign requests')
      .env('TWILIO_AUTH_TOKEN')
      .makeOptionMandatory(),
  )
  .requiredOption('--worker <identity>', "the worker (rep) whose customers to check, as the app's Worker field")
  .option('--other-worker <identity>', "a second worker: neither may see the other's customers")
  .option('--json', 'write the report as JSON, for machines')
  .option('--strict', 'warnings fail too (exit 1)')
  .option('--crm-path <path>', 'path of the CRM callback', CHECK_DEFAULTS.paths.crm)
  .option('--outgoing-path <path>', 'path of the outgoing conversation callback', CHECK_DEFAULTS.paths.outgoing)
  .option('--templates-path <path>', 'path of the templates callback', CHECK_DEFAULTS.paths.templates)
  .option('--time-limit <ms>', "a slower reply breaks the protocol (Frontline's limit, 48005); over half of it warns", positiveInt('--time-limit'), CHECK_DEFAULTS.timeLimitMs)
  .option('--list-limit <n>', 'stop walking a list after this many customers', positiveInt('--list-limit'), CHECK_DEFAULTS.listLimit)
  .option('--walk-limit <n>', 'stop the PageSize 1 walk after this many customers (one request each)', positiveInt('--walk-limit'), CHECK_DEFAULTS.walkLimit)
  .option('--details <n>', "how many customers' details to fetch and validate, spread over the list", positiveInt('--details'), CHECK_DEFAULTS.detailsSample)
  .exitOverride((err) => {
    // Usage errors mean the check could not run: exit 2, as for an unreachable service; help stays 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  })
  .action(async (baseUrl: string, opts: CheckCliOptions) => {
    const { runCheck } = await import('../../application/check/conformance.js');
    const { renderReport } = await import('../../application/check/report.js');
    const report = await runCheck({
      baseUrl,
      authToken: opts.authToken,
      worker: opts.worker,
      otherWorker: opts.otherWorker,
      paths: { crm: opts.crmPath, outgoing: opts.outgoingPath, templates: opts.templatesPath },
      timeLimitMs: opts.timeLimit,
      listLimit: opts.listLimit,
      walkLimit: opts.walkLimit,
      detailsSample: opts.details,
    });
    process.stdout.write(opts.json ? `${JSON.stringify({ ...report, exitCode: exitCodeOf(report, opts.strict ?? false) }, null, 2)}\n` : renderReport(report, opts.strict ?? false));
    process.exitCode = exitCodeOf(report, opts.strict ?? false);
  });

/**
 * `fis senders|templates|workers import|export`: the company's settings files, JSON or YAML
 * (docs/outgoing-and-templates.md). A load validates the whole file first: any problem and nothing changes.
 */
const SETTINGS: Record<SettingsKind, { what: string; load: string }> = {
  senders: {
    what: 'Twilio sender addresses handed out by GetProxyAddress',
    load: 'Replace every sender address with those in FILE ({"senders": [{channel_type, address, worker?, countries?}]}).',
  },
  templates: {
    what: 'message templates offered by GetTemplatesByCustomerId',
    load: 'Replace every template category with those in FILE ({"categories": [{display_name, templates: [{content, whatsAppApproved}]}]}).',
  },
  workers: {
    what: 'workers (reps): display name, avatar, state and availability',
    load: 'Insert or update the workers in FILE by identity ({"workers": [{identity, display_name?, avatar?, state?, available?}]}).',
  },
};

for (const kind of Object.keys(SETTINGS) as SettingsKind[]) {
  const group = program
    .command(kind)
    .description(`Load or export the ${SETTINGS[kind].what} (JSON or YAML; see docs/outgoing-and-templates.md).`);
  const load = group
    .command('import')
    .description(`${SETTINGS[kind].load} JSON or YAML; the whole file is rejected, and nothing changed, if anything in it is invalid.`)
    .argument('<file>', 'the file to load (.json, .yaml or .yml)')
    .addOption(new Option('--format <format>', 'file format (default: from the file extension; JSON otherwise)').choices(DOCUMENT_FORMATS));
  if (kind === 'workers') load.option('--prune', 'also delete workers that are not in the file');
  load.action(async (file: string, opts: { format?: DocumentFormat; prune?: boolean }) => {
    if (!existsSync(file)) throw new InvalidArgumentError(`no such file: ${file}`);
    const cfg = config();
    const source = { file, format: documentFormatOf(file, opts.format) };
    const summary = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      switch (kind) {
        case 'senders': {
          const r = await importSenders(store, source, { defaultCountry: cfg.defaultCountry });
          return `loaded ${r.senders} sender address(es): ${r.own} of a worker's own, ${r.byCountry} by country, ${r.defaults} default`;
        }
        case 'templates': {
          const r = await importTemplates(store, source);
          return `loaded ${r.templates} template(s) in ${r.categories} categor${r.categories === 1 ? 'y' : 'ies'}`;
        }
        case 'workers': {
          // FRONTLINE_USER_SYNC=true: the reps whose fields changed are written to Frontline once committed.
          const workerSync = createWorkerSync(cfg, store);
          const r = await importWorkers(store, source, {
            prune: opts.prune ?? false,
            sync: (changed) => workerSync.syncWorkers(changed),
          });
          const loaded = `loaded ${r.workers} worker(s): ${r.created} created, ${r.updated} updated, ${r.pruned} pruned`;
          return 'sync' in r && r.sync ? `${loaded}\n${syncLines(r.sync, 'frontline user sync')}` : loaded;
        }
      }
    });
    say(summary);
  });
  group
    .command('export')
    .description(`Write the ${SETTINGS[kind].what} to FILE (or standard output) in the format \`${kind} import\` reads.`)
    .argument('[file]', 'output file (default: standard output); .yaml/.yml writes YAML, anything else JSON')
    .addOption(new Option('--format <format>', 'output format (default: from the file extension; JSON otherwise)').choices(DOCUMENT_FORMATS))
    .action(async (file: string | undefined, opts: { format?: DocumentFormat }) => {
      const cfg = config();
      const document = await withStore(cfg, (store) => exportSettings(store, kind));
      const text = renderSettings(document, documentFormatOf(file ?? '', opts.format));
      if (file) await writeFile(file, text);
      else process.stdout.write(text);
      say(`exported ${Object.values(document)[0]?.length ?? 0} ${kind === 'templates' ? 'categories' : kind}`);
    });
}

/** A sync report as printed: one line per rep, then the counts. */
function syncLines(report: SyncReport, title: string): string {
  return [...report.results.map((r) => `  ${describeResult(r)}`), `${title}: ${describeReport(report)}`].join('\n');
}

program.commands
  .find((c) => c.name() === 'workers')
  ?.command('sync')
  .description(
    "Write each rep's display name, avatar, state and availability to Frontline's User resource, only where it differs " +
      '(docs/workers.md). One line per rep; exit 0 when every rep that exists in Frontline is in step, 1 when an API error remains.',
  )
  .option('--dry-run', 'read Frontline and report what would change; write nothing')
  .action(async (opts: { dryRun?: boolean }) => {
    const cfg = config();
    if (!cfg.frontlineUsers.api.credentials) {
      throw new InvalidArgumentError('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or an API key) are needed to reach the Frontline API');
    }
    const report = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      return createWorkerSync(cfg, store).sync(undefined, { dryRun: opts.dryRun ?? false });
    });
    for (const r of report.results) process.stdout.write(`${describeResult(r)}\n`);
    say(`frontline user sync: ${describeReport(report)}`);
    if (!report.ok) process.exitCode = 1;
  });

/** `fis tokens create|list|revoke`: the admin API's bearer tokens (docs/admin-api.md). */
const tokens = program.command('tokens').description('Create, list and revoke admin API tokens (the store keeps only a hash of each).');
tokens
  .command('create')
  .description('Create an admin API token named NAME; it is printed once, alone, on the last line of standard output.')
  .argument('<name>', 'a name for the token (letters, digits, . _ -); it is what the audit trail shows')
  .option('--read-only', 'the token may read but not change anything')
  .action(async (name: string, opts: { readOnly?: boolean }) => {
    const cfg = config();
    const result = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      return new TokenService(store.db).create(name, { readOnly: opts.readOnly ?? false });
    });
    if (!result.ok) throw new InvalidArgumentError(result.reason);
    say(`created ${opts.readOnly ? 'read-only' : 'read-write'} token "${name}"; it is shown only now, keep it safe:`);
    process.stdout.write(`${result.token}\n`);
  });
tokens
  .command('list')
  .description('List the tokens: name, kind, created, last used, revoked (never the tokens themselves).')
  .action(async () => {
    const cfg = config();
    const list = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      return new TokenService(store.db).list();
    });
    const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));
    process.stdout.write(`${['NAME', 'KIND', 'CREATED', 'LAST USED', 'REVOKED'].join('\t')}\n`);
    for (const t of list) {
      process.stdout.write(
        `${[t.name, t.readOnly ? 'read-only' : 'read-write', when(t.createdAt), when(t.lastUsedAt), when(t.revokedAt)].join('\t')}\n`,
      );
    }
    say(`${list.length} token(s)`);
  });
tokens
  .command('revoke')
  .description('Revoke the token named NAME: requests carrying it are refused (401) from now on, on every instance.')
  .argument('<name>', 'the token to revoke')
  .action(async (name: string) => {
    const cfg = config();
    const revoked = await withStore(cfg, async (store) => {
      await migrateToLatest(store);
      return new TokenService(store.db).revoke(name);
    });
    if (!revoked) throw new InvalidArgumentError(`no live token named "${name}"`);
    say(`revoked token "${name}"`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    say(err.message);
  } else if (err instanceof ImportRejected) {
    say(err.message);
    for (const p of err.problems) say(`  ${formatProblem(p, 'file')}`);
    if (err.totalProblems > err.problems.length) say(`  … and ${err.totalProblems - err.problems.length} more`);
  } else if (err instanceof InvalidArgumentError) {
    say(`error: ${err.message}`);
  } else {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exitCode = 1;
  // A cluster worker (fis serve --processes) stays alive while its IPC channel is open.
  if (process.connected) process.disconnect();
});
