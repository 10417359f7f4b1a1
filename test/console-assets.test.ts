/**
 * The web console's files as the service serves them: one page for every console path, hashed
 * assets cached for good, and on every reply a Content-Security-Policy that allows no inline
 * script or style. The page itself has neither, and the console's sources never write markup.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { CONSOLE_CSP } from '../src/transports/http/console/console-assets.js';
import { ensureConsoleBuilt } from './helpers/browser.js';
import { useService } from './helpers/service.js';

describe('console assets', () => {
  before(ensureConsoleBuilt);
  // Serving files touches no store: SQLite is enough.
  const fixture = useService('sqlite');

  test('every console path is the same page, with a strict CSP and nothing inline', async () => {
    const home = await fixture.service.get('/console');
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-type') ?? '', /^text\/html/);
    const csp = home.headers.get('content-security-policy') ?? '';
    assert.equal(csp, CONSOLE_CSP);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(home.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(home.headers.get('cache-control'), 'no-cache');
    // Scripts only by src, styles only by link: nothing inline for a policy to allow.
    for (const tag of home.text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
      assert.match(tag[0], /\ssrc="\/console\/assets\/[^"]+\.js"/);
      assert.equal(tag[1]?.trim(), '');
    }
    assert.doesNotMatch(home.text, /<style\b|\sstyle=|\son[a-z]+=/i);

    for (const sub of ['/console/', '/console/simulator', '/console/customers/abc%20def', '/console/templates']) {
      const page = await fixture.service.get(sub);
      assert.equal(page.status, 200, sub);
      assert.equal(page.text, home.text, sub);
      assert.equal(page.headers.get('content-security-policy'), CONSOLE_CSP, sub);
    }
  });

  test('hashed assets are served with their type and cached for good; a missing one is a 404', async () => {
    const home = await fixture.service.get('/console');
    const assets = [...home.text.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), assets.join(' '));
    for (const asset of assets) {
      const res = await fixture.service.get(asset);
      assert.equal(res.status, 200, asset);
      assert.match(res.headers.get('cache-control') ?? '', /immutable/, asset);
      assert.equal(res.headers.get('content-security-policy'), CONSOLE_CSP, asset);
      const type = res.headers.get('content-type') ?? '';
      if (asset.endsWith('.js')) assert.match(type, /javascript/);
      if (asset.endsWith('.css')) assert.match(type, /text\/css/);
    }
    const missing = await fixture.service.get('/console/assets/nothing-here.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'NOT_FOUND');
    const escape = await fixture.service.get('/console/assets/..%2f..%2fpackage.json');
    assert.notEqual(escape.status, 200);
  });
});

test('the console never writes markup: no innerHTML, no dangerouslySetInnerHTML, no eval', () => {
  const root = path.resolve(import.meta.dirname, '../console/src');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(tsx?|css)$/.test(e.name)) files.push(p);
    }
  };
  walk(root);
  assert.ok(files.length > 10);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /innerHTML|outerHTML|dangerouslySetInnerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, file);
    // A style attribute would need 'unsafe-inline'.
    assert.doesNotMatch(text, /\sstyle=\{/, file);
  }
});
