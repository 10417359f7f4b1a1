#!/usr/bin/env node
/**
 * `fis`: the one command-line program. `fis <command> --help` documents each command.
 * Every command exits non-zero when it fails.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Config, ConfigError, loadConfig } from '../../platform/config.js';
import { openStore, type Store } from '../../platform/db/connect.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import { countCustomers } from '../../domains/customers/customer-write.repository.js';
import { exportCustomers, writeNdjson } from '../../application/files/export.service.js';
import { ImportRejected, importCustomerFile, importCustomers } from '../../application/files/import.service.js';
import { FILE_FORMATS, type FileFormat, formatOf } from '../../application/files/readers.js';
import { asSourceRecords, generateCustomers, workerIdentity } from '../../application/files/seed.js';
import { DOCUMENT_FORMATS, type DocumentFormat, documentFormatOf, renderSettings } from '../../application/files/documents.js';
import { TokenService } from '../../domains/access/token.service.js';
import { countLines, Progress } from './progress.js';
import {
  exportSettings,
  importSenders,
  importTemplates,
  importWorkers,
  type SettingsKind,
} from '../../application/files/settings.service.js';

const positiveInt = (name: string) => (raw: string) => {
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(raw);
};

function config(options: { requireAuthToken?: boolean; env?: Record<string, string | undefined> } = {}): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
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
  .action(async (file: string, opts: { format?: FileFormat; prune?: boolean }) => {
    if (!existsSync(file)) throw new InvalidArgumentError(`no such file: ${file}`);
    const cfg = config();
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
    const out = file ? createWriteStream(file) : process.stdout;
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
      const out = createWriteStream(opts.out);
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
      'Without TWILIO_AUTH_TOKEN, a token is generated and printed so that you can sign requests.',
  )
  .action(async (opts: SeedCliOptions) => {
    const generated = process.env.TWILIO_AUTH_TOKEN ? undefined : randomBytes(16).toString('hex');
    const cfg = config({
      requireAuthToken: true,
      env: { MIGRATE_ON_START: 'true', ...(generated ? { TWILIO_AUTH_TOKEN: generated } : {}) },
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
    const base = cfg.publicUrl ?? `http://localhost:${cfg.port}`;
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
    what: 'workers (reps): display name and avatar',
    load: 'Insert or update the workers in FILE by identity ({"workers": [{identity, display_name?, avatar?}]}).',
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
          const r = await importWorkers(store, source, { prune: opts.prune ?? false });
          return `loaded ${r.workers} worker(s): ${r.created} created, ${r.updated} updated, ${r.pruned} pruned`;
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
    for (const p of err.problems) say(`  ${p.position}${p.field ? `: ${p.field}` : ''}: ${p.message}`);
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
