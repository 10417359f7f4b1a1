/**
 * Instructions per request of two builds of the service, counted by valgrind (callgrind), for a
 * before/after question finer than a shared machine's timings can settle: an instruction count does
 * not move when the machine's other tenants do (the same build and requests give the same count
 * within about 1%, and the spread is printed). Slow (valgrind runs Node 20–50× slower), so a run
 * is a few thousand requests, not a load test: it measures cost, not throughput or latency.
 *
 *   node bench/instructions.mjs scenario=list|anchor|search|phone|details|hsearch \
 *     amain=<old tree>/dist/src/cli/main.js adb=<old store> [bmain=dist/src/transports/cli/main.js] bdb=<new store> \
 *     [warmup=3000] [n=2000] [repeat=2] [aname=before bname=after] [keep=DIR] [port=7201]
 *
 * Each build is started under `valgrind --tool=callgrind --instr-atstart=no`, warmed up with `warmup`
 * requests (uninstrumented, so the JIT settles), then instrumented for `n` requests (8 connections)
 * and stopped. Instructions counted = every thread of the process (the JIT's and the GC's helpers
 * too), from the first to the last of the `n` requests. Both builds get the same requests, drawn as
 * bench/ab.mjs draws them (store B). Store paths must be absolute. Only 127.0.0.1 is contacted.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const twilio = require('twilio');
const Database = require('better-sqlite3');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const scenario = args.scenario ?? 'list';
const warmup = +(args.warmup ?? 3000), n = +(args.n ?? 2000), repeat = +(args.repeat ?? 2), port = +(args.port ?? 7201);
const trees = [
  { name: args.aname ?? 'before', main: args.amain, db: args.adb },
  { name: args.bname ?? 'after', main: args.bmain ?? new URL('../dist/src/transports/cli/main.js', import.meta.url).pathname, db: args.bdb },
];
if (!trees[0].main || !trees[0].db || !trees[1].db) throw new Error('amain=, adb= and bdb= are required (see the top of this file)');
for (const t of trees) if (!path.isAbsolute(t.db)) throw new Error(`store paths must be absolute: ${t.db}`);

const token = 'abcdefabcdefabcdefabcdefabcdef12';
const db = new Database(trees[1].db, { readonly: true });
const workers = db.prepare('select distinct worker from customer_owners order by worker limit 1000').all().map((r) => r.worker);
const heavy = db.prepare('select worker from customer_owners group by worker order by count(*) desc limit 3').all().map((r) => r.worker);
const names = db.prepare('select display_name, customer_id, phone_digits from customers order by pk limit 2000').all();
const owned = db.prepare('select worker, customer_id from customer_owners where customer_pk % 50 = 0 limit 2000').all();
const anchors = scenario === 'anchor'
  ? heavy.flatMap((worker) => db.prepare(
    'select o.worker, c.customer_id from customer_owners o join customers c on c.pk = o.customer_pk where o.worker = ? order by c.sort_key, c.customer_id limit 334 offset 40000').all(worker))
  : [];
db.close();

function params(i) {
  const word = () => { const w = names[i % names.length].display_name.split(' '); return w[i % 2 ? w.length - 1 : 0].slice(0, 3 + (i % 3)); };
  switch (scenario) {
    case 'list': return { Location: 'GetCustomersList', Worker: workers[i % workers.length], PageSize: '30' };
    case 'anchor': { const a = anchors[i % anchors.length]; return { Location: 'GetCustomersList', Worker: a.worker, PageSize: '30', Anchor: a.customer_id }; }
    case 'details': { const o = owned[i % owned.length]; return { Location: 'GetCustomerDetailsByCustomerId', Worker: o.worker, CustomerId: o.customer_id }; }
    case 'search': return { Location: 'GetCustomersList', Worker: workers[i % workers.length], PageSize: '30', Query: word() };
    case 'phone': { const d = names[i % names.length].phone_digits; return { Location: 'GetCustomersList', Worker: workers[i % workers.length], PageSize: '30', Query: `${d.slice(-7, -4)} ${d.slice(-4)}` }; }
    case 'hsearch': return { Location: 'GetCustomersList', Worker: heavy[i % 3], PageSize: '30', Query: word() };
    default: throw new Error(`unknown scenario ${scenario}`);
  }
}
function requestsFor(port) {
  const url = `http://127.0.0.1:${port}/callbacks/crm`;
  return Array.from({ length: 1000 }, (_, i) => {
    const p = params(i);
    return { method: 'POST', path: '/callbacks/crm', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, p) }, body: new URLSearchParams(p).toString() };
  });
}
const load = (port, amount) => new Promise((res, rej) =>
  autocannon({ url: `http://127.0.0.1:${port}`, connections: 8, amount, timeout: 120, requests: requestsFor(port) }, (e, r) => (e ? rej(e) : res(r))));

async function measure(tree, port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fis-ir-'));
  const out = path.join(dir, 'callgrind.out');
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${out}`, '-q',
    process.execPath, tree.main, 'serve'], {
    cwd: os.tmpdir(),
    env: { ...process.env, DATABASE_URL: `sqlite:${tree.db}`, TWILIO_AUTH_TOKEN: token, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn', SERVE_PROCESSES: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (;;) { try { await fetch(`http://127.0.0.1:${port}/healthz`); break; } catch { await new Promise((r) => setTimeout(r, 500)); } }
  const w = await load(port, warmup);
  if (w.non2xx) throw new Error(`${tree.name}: ${w.non2xx} non-2xx answers during the warm-up`);
  // valgrind names its command pipes after $HOST, which the service's environment sets: the control must see the same.
  const control = (on) => execFileSync('callgrind_control', ['-i', on ? 'on' : 'off', String(child.pid)], { env: { ...process.env, HOST: '127.0.0.1' }, stdio: 'ignore' });
  control(true);
  const r = await load(port, n);
  control(false);
  if (r.non2xx) throw new Error(`${tree.name}: ${r.non2xx} non-2xx answers`);
  const exited = new Promise((res) => child.once('exit', res));
  child.kill('SIGTERM');
  await exited;
  // One file per thread (callgrind.out-01 is the main thread, where JavaScript runs).
  let total = 0, main = 0;
  for (const file of fs.readdirSync(dir)) {
    const m = /^totals: (\d+)/m.exec(fs.readFileSync(path.join(dir, file), 'utf8'));
    if (!m) continue;
    total += Number(m[1]);
    if (file.endsWith('-01')) main = Number(m[1]);
  }
  if (total === 0) throw new Error(`no callgrind totals in ${dir}: ${fs.readdirSync(dir).join(', ')}`);
  if (args.keep) {
    // For callgrind_annotate: which native functions (SQLite's, V8's) the difference is in.
    const keep = path.join(args.keep, `${tree.name}-${Date.now()}`);
    fs.mkdirSync(args.keep, { recursive: true });
    fs.renameSync(dir, keep);
    console.log(`kept ${keep}`);
  } else fs.rmSync(dir, { recursive: true, force: true });
  return { total: total / r.requests.total, main: main / r.requests.total };
}

const per = trees.map(() => []);
for (let k = 0; k < repeat; k++) {
  for (const i of k % 2 === 0 ? [0, 1] : [1, 0]) per[i].push(await measure(trees[i], port + i));
}
// The median of an even count is the mean of the middle two.
const med = (a) => { const s = [...a].sort((x, y) => x - y), h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
for (const what of ['total', 'main']) {
  const runs = per.map((p) => p.map((x) => x[what]));
  const fmt = (a) => a.map((x) => `${(x / 1000).toFixed(0)}k`).join(',');
  console.log(`${scenario} (${what === 'total' ? 'all threads' : 'main thread'}): instructions/request ${trees[0].name} ${fmt(runs[0])} | ${trees[1].name} ${fmt(runs[1])} | median ratio ${(med(runs[1]) / med(runs[0])).toFixed(3)}`);
}
