// The ceiling: a bare node:http server that reads each form POST whole and
// answers a small fixed JSON. Nothing the service does can be faster than
// this on the same machine, so the benchmark reports ratios to it.
// Plain JavaScript on purpose: no loader, no framework.
import http from 'node:http';

const body = Buffer.from('{"objects":{"customers":[],"searchable":true}}');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
