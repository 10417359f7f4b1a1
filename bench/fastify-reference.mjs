// A reference between the ceiling and the service: Fastify (the service's
// framework) with a form-body parser, answering the ceiling's small fixed
// JSON to the same POSTs. What it loses against the bare node:http server is
// the framework's own share; what the service loses against it is ours
// (signature, validation, the store, the real answer).
// Plain JavaScript on purpose: no loader.
import Fastify from 'fastify';

const body = '{"objects":{"customers":[],"searchable":true}}';
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
  done(null, Object.fromEntries(new URLSearchParams(text)));
});
app.all('/*', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
const address = await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${address}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
