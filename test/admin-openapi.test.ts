/**
 * The OpenAPI document is generated from the route schemas and lists exactly
 * the admin routes that exist; the docs page is served, offline, under a strict
 * Content-Security-Policy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startService, type TestService } from './helpers/service.js';
import { createTestDatabase, storeKinds, type TestDatabase } from './helpers/stores.js';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
/** Fastify's `:param` as OpenAPI's `{param}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

for (const kind of storeKinds().slice(0, 1)) {
  describe(`OpenAPI document (${kind})`, () => {
    let db: TestDatabase;
    let service: TestService;
    before(async () => {
      db = await createTestDatabase(kind);
      // Every route is asked once without a token: the failure throttle would slow those down for minutes.
      service = await startService(db, {}, { adminThrottle: { freeFailures: Number.MAX_SAFE_INTEGER, windowMs: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    test('lists exactly the admin routes that exist, each with its schemas and error replies', async () => {
      const res = await service.get('/api/v1/openapi.json');
      assert.equal(res.status, 200);
      const doc = res.json;
      assert.equal(doc.openapi, '3.1.0');
      const documented: string[] = [];
      for (const [path, item] of Object.entries<Record<string, { responses: Record<string, unknown>; security?: unknown }>>(doc.paths)) {
        for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
          documented.push(`${method.toUpperCase()} ${path}`);
          assert.ok(item[method]?.responses['401'], `${method} ${path} documents its 401`);
        }
      }
      const registered = service.app.adminRoutes.map((r) => `${r.method} ${openApiPath(r.url)}`);
      assert.ok(registered.length >= 30, `${registered.length} routes`);
      assert.deepEqual([...documented].sort(), [...registered].sort());
      // Every one of them answers (401 without a token: they exist and are protected).
      for (const route of service.app.adminRoutes) {
        const url = route.url.replace(/:([A-Za-z_]+)/g, 'x');
        const answer = await fetch(`${service.url}${url}`, { method: route.method });
        assert.equal(answer.status, 401, `${route.method} ${url}`);
      }
      // Generated from the schemas that validate the requests.
      const create = doc.paths['/api/v1/customers'].post;
      const body = create.requestBody.content['application/json'].schema;
      assert.deepEqual(body.required, ['customer_id', 'display_name']);
      assert.equal(body.additionalProperties, false);
      assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
    });

    test('the docs page and its assets are served from the service under a strict CSP', async () => {
      const page = await fetch(`${service.url}/api/v1/docs/`);
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      const html = await page.text();
      assert.ok(!/<script>[^<]/.test(html), 'no inline script');
      for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string)) {
        const asset = await fetch(new URL(src, `${service.url}/api/v1/docs/`));
        assert.equal(asset.status, 200, src);
        assert.ok(!/https?:\/\//.test(src), `local asset: ${src}`);
      }
      const initializer = await fetch(`${service.url}/api/v1/docs/static/swagger-initializer.js`);
      assert.equal(initializer.status, 200);
    });
  });
}
