/**
 * Two builds of the service, side by side, in alternating rounds (A B, then B A, …) of the same signed CRM
 * load: the ratio of two adjacent runs holds on a shared, noisy machine where two separate
 * `npm run bench` runs minutes apart do not. Each service runs on its own SQLite store (made by a
 * bench run, e.g. bench/.work/bench-1000000.sqlite), or both on one PostgreSQL schema
 * (`adb=postgres://postgres@127.0.0.1:5432/test#bench_1000000`, the same for bdb: they only read); the
 * requests are drawn from store B.
 * Also reports the service's CPU time per request (from /proc), which is steadier than req/s, and on
 * PostgreSQL the server's (every `postgres` process's).
 *
 *   node bench/ab.mjs scenario=list|anchor|search|phone|details|hsearch|inside|two|one|erare|eown|erare6|common|id|miss|hphone|four|start|prefix rounds=5 dur=5 \
 *     amain=<old tree>/dist/src/cli/main.js adb=<old store> \
 *     bmain=dist/src/transports/cli/main.js bdb=<new store>   (store paths absolute: the services run in the temporary directory) [aname=before bname=after] [prof=DIR] [headers=1]
 *     [aflags=--flag,--other bflags=…]   (Node flags for either service: the same build with and without a flag)
 *
 * Only 127.0.0.1 is contacted. Linux only (CPU time from /proc/<pid>/stat).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
// The seed's rule for a name's letters in an address (the compiled tree, as bmain's default: `npm run build`).
import { addressPart } from '../dist/src/application/files/seed.js';
const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const twilio = require('twilio');
const Database = require('better-sqlite3');
// name=value, split at the first `=` (a value may hold more: bflags=--max-semi-space-size=4).
const args = Object.fromEntries(process.argv.slice(2).map(a => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
const scenario = args.scenario ?? 'list';
const rounds = +(args.rounds ?? 4), dur = +(args.dur ?? 5);
const trees = {
  A: { name: args.aname ?? 'before', main: args.amain, db: args.adb, port: 7101, flags: args.aflags ? args.aflags.split(',') : [] },
  B: { name: args.bname ?? 'after', main: args.bmain ?? new URL('../dist/src/transports/cli/main.js', import.meta.url).pathname, db: args.bdb, port: 7102, flags: args.bflags ? args.bflags.split(',') : [] },
};
if (!trees.A.main || !trees.A.db || !trees.B.db) throw new Error('amain=, adb= and bdb= are required (see the top of this file)');
const token = 'abcdefabcdefabcdefabcdefabcdef12';
// A store: a SQLite file, or `postgres://…#schema`.
const storeEnv = (db) => {
  if (!db.startsWith('postgres://')) return { DATABASE_URL: `sqlite:${db}` };
  const [url, schema] = db.split('#');
  return { DATABASE_URL: url, ...(schema ? { DATABASE_SCHEMA: schema } : {}) };
};
async function reader(db) {
  if (!db.startsWith('postgres://')) {
    const sqlite = new Database(db, { readonly: true });
    return { all: async (text, ...values) => sqlite.prepare(text).all(...values), close: async () => sqlite.close() };
  }
  const pg = require('pg');
  const [url, schema] = db.split('#');
  const client = new pg.Client({ connectionString: url, options: schema ? `-c search_path=${schema},public` : undefined });
  await client.connect();
  const numbered = (text) => { let n = 0; return text.replace(/\?/g, () => `$${++n}`); };
  return { all: async (text, ...values) => (await client.query(numbered(text), values)).rows, close: () => client.end() };
}
const db = await reader(trees.B.db);
const workers = (await db.all('select distinct worker from customer_owners order by worker limit 1000')).map(r => r.worker);
const heavy = (await db.all('select worker from customer_owners group by worker order by count(*) desc limit 3')).map(r => r.worker);
const names = await db.all('select display_name, customer_id, phone_digits from customers order by pk limit 2000');
// Customers from the whole store (the first 2,000 have the smallest ids: `1234@example` has at most four digits).
const spreadNames = await db.all('select display_name, customer_id, phone_digits from customers where pk % 499 = 7 order by pk limit 2000');
const owned = await db.all('select worker, customer_id from customer_owners where customer_pk % 50 = 0 limit 2000');
// Anchors 40,000 deep into the heavy workers' books, as the bench's deep-page scenario (list order: sort_key, customer_id).
const anchors = [];
if (scenario === 'anchor') for (const worker of heavy) anchors.push(...await db.all(
  'select o.worker, c.customer_id from customer_owners o join customers c on c.pk = o.customer_pk where o.worker = ? order by c.sort_key, c.customer_id limit 334 offset 40000', worker));
await db.close();
// The forms of the bench's search mix (bench/scenarios.ts), asked by the heavy workers.
const lastName = (name) => name.split(' ').at(-1);
const MIX = {
  inside: (n) => lastName(n.display_name).slice(1, 5).toLowerCase(),
  two: (n, i) => n.display_name.slice(i % 4, (i % 4) + 2).trim() || 'jo',
  one: (n, i) => (n.display_name[i % n.display_name.length] ?? 'a').toLowerCase(),
  erare: (n) => `${Number(n.customer_id.slice(1))}@example`,
  // A customer's own address, as erare but held by that customer alone at any size: the letter before the number
  // too (`n17@example`; `17@example` is in every address numbered …17, 100 of 10,000 and 10,000 of 1,000,000).
  eown: (n) => `${(addressPart(lastName(n.display_name)) || '.').slice(-1)}${Number(n.customer_id.slice(1))}@example`,
  common: () => 'mple.or',
  id: (n) => n.customer_id,
  miss: (_n, i) => `zqx${i % 97}`,
  hphone: (n) => `${n.phone_digits.slice(-7, -4)} ${n.phone_digits.slice(-4)}`,
  four: (n) => n.phone_digits.slice(-4),
  // The address typed from its start (`noah.mu`), as bench/scenarios.ts's addressStart.
  start: (n) => { const w = n.display_name.split(' '); return `${addressPart(w[0] ?? '')}.${addressPart(w.at(-1) ?? '').slice(0, 2)}`; },
  prefix: (n, i) => { const w = n.display_name.split(' '); return (i % 2 === 0 ? w[0] : w.at(-1)).slice(0, 3 + (i % 3)); },
};
function params(i) {
  if (scenario === 'list') return { Location: 'GetCustomersList', Worker: workers[i % workers.length], PageSize: '30' };
  if (scenario === 'anchor') { const a = anchors[i % anchors.length]; return { Location: 'GetCustomersList', Worker: a.worker, PageSize: '30', Anchor: a.customer_id }; }
  if (scenario === 'details') { const o = owned[i % owned.length]; return { Location: 'GetCustomerDetailsByCustomerId', Worker: o.worker, CustomerId: o.customer_id }; }
  if (scenario === 'search') { const w = names[i % names.length].display_name.split(' '); return { Location: 'GetCustomersList', Worker: workers[i % workers.length], PageSize: '30', Query: w[i%2? w.length-1:0].slice(0, 3 + i % 3) }; }
  if (scenario === 'phone') { const d = names[i % names.length].phone_digits; return { Location: 'GetCustomersList', Worker: workers[i % workers.length], PageSize: '30', Query: `${d.slice(-7, -4)} ${d.slice(-4)}` }; }
  if (MIX[scenario]) return { Location: 'GetCustomersList', Worker: heavy[i % 3], PageSize: '30', Query: MIX[scenario](names[i % names.length], i) };
  if (scenario === 'erare6') { const n = spreadNames[i % spreadNames.length]; return { Location: 'GetCustomersList', Worker: heavy[i % 3], PageSize: '30', Query: MIX.erare(n, i) }; }
  if (scenario === 'hsearch') { const w = names[i % names.length].display_name.split(' '); return { Location: 'GetCustomersList', Worker: heavy[i % 3], PageSize: '30', Query: w[i%2? w.length-1:0].slice(0, 3 + i % 3) }; }
}
function requestsFor(port) {
  const url = `http://127.0.0.1:${port}/callbacks/crm`;
  return Array.from({ length: 1000 }, (_, i) => { const p = params(i); return { method: 'POST', path: '/callbacks/crm', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, p) }, body: new URLSearchParams(p).toString() }; });
}
const procs = [];
for (const t of Object.values(trees)) {
  const extra = args.prof ? ['--cpu-prof', `--cpu-prof-dir=${args.prof}/${t.name}`] : [];
  const p = spawn(process.execPath, [...extra, ...t.flags, t.main, 'serve'], { cwd: os.tmpdir(), env: { ...process.env, ...storeEnv(t.db), TWILIO_AUTH_TOKEN: token, PORT: String(t.port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${t.port}`, LOG_LEVEL: 'warn', SERVE_PROCESSES: '1' }, stdio: ['ignore', 'inherit', 'inherit'] });
  procs.push(p);
}
async function up(port) { for (;;) { try { await fetch(`http://127.0.0.1:${port}/healthz`); return; } catch { await new Promise(r => setTimeout(r, 200)); } } }
await up(7101); await up(7102);
const run = (port, duration) => new Promise((res, rej) => autocannon({ url: `http://127.0.0.1:${port}`, connections: 50, duration, requests: requestsFor(port) }, (e, r) => e ? rej(e) : res(r)));
// check a request works
for (const t of Object.values(trees)) { const r = await run(t.port, 1); if (r.non2xx) console.log(t.name, 'non2xx', r.non2xx); }
if (args.headers) { for (const t of Object.values(trees)) { const r = requestsFor(t.port)[0]; const x = await fetch(`http://127.0.0.1:${t.port}${r.path}`, { method: 'POST', headers: r.headers, body: r.body }); const body = await x.text(); console.log(t.name, x.status, [...x.headers].map(h => h.join(': ')).join(' | '), body.length); } }
const res = { A: [], B: [] };
const cpu = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (+f[11] + +f[12]) * 10; }; // ms
const cpuPer = { A: [], B: [] };
// On PostgreSQL, the server's share too: every process named postgres (the backends serving the load, and
// the server's own), summed over the run by process (one that started during it counts from zero; one
// that ended during it, such as an idle pool's connection, is left out); other databases' work counts too.
const onPostgres = trees.B.db.startsWith('postgres://');
const serverCpu = () => {
  const byPid = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try { if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') byPid.set(d, cpu(d)); } catch { /* ended */ }
  }
  return byPid;
};
const serverSpent = (before, after) => [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);
const serverPer = { A: [], B: [] };
const pids = { A: procs[0].pid, B: procs[1].pid };
for (let i = 0; i < rounds; i++) for (const k of i % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
  const c0 = cpu(pids[k]); const s0 = onPostgres ? serverCpu() : new Map();
  const r = await run(trees[k].port, dur);
  const c1 = cpu(pids[k]); const s1 = onPostgres ? serverCpu() : new Map();
  res[k].push(r.requests.average); cpuPer[k].push((c1 - c0) * 1000 / r.requests.total); serverPer[k].push(serverSpent(s0, s1) * 1000 / r.requests.total);
}
const med = a => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const out = `${scenario}: ${trees.A.name} ${res.A.map(Math.round).join(',')} | ${trees.B.name} ${res.B.map(Math.round).join(',')} | ratio B/A median ${(med(res.B) / med(res.A)).toFixed(3)} pairwise ${res.A.map((a, i) => (res.B[i] / a).toFixed(2)).join(',')}`;
console.log(out);
if (rounds) console.log(`  cpu µs/req: ${trees.A.name} ${cpuPer.A.map(x=>x.toFixed(0)).join(',')} | ${trees.B.name} ${cpuPer.B.map(x=>x.toFixed(0)).join(',')} | ratio B/A median ${(med(cpuPer.B)/med(cpuPer.A)).toFixed(3)}`);
if (rounds && onPostgres) console.log(`  postgres cpu µs/req: ${trees.A.name} ${serverPer.A.map(x=>x.toFixed(0)).join(',')} | ${trees.B.name} ${serverPer.B.map(x=>x.toFixed(0)).join(',')} | ratio B/A median ${(med(serverPer.B)/med(serverPer.A)).toFixed(3)}`);
for (const p of procs) p.kill('SIGTERM');
await new Promise(r => setTimeout(r, 1500));
