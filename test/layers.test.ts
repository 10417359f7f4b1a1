/**
 * The shape of src/: imports flow one way, kernel < platform < domains <
 * application < transports, with no circle between files or between folders.
 * A failure names each import at fault.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type Import, layerViolations, readImports } from './helpers/imports.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('layers', () => {
  test('src/ keeps the layer order and has no circle between files or folders', () => {
    const violations = layerViolations(readImports(ROOT));
    assert.deepEqual(violations, [], `\n${violations.join('\n')}`);
  });

  test('the reader sees static, type-only, dynamic and worker-entry imports', () => {
    const imports = readImports(ROOT);
    const has = (from: string, to: string) => imports.some((i) => i.from === from && i.to === to);
    assert.ok(has('src/application/files/prepare-in-worker.ts', 'src/application/files/prepare.worker.ts'), 'new URL(…, import.meta.url)');
    assert.ok(has('src/transports/cli/main.ts', 'src/transports/http/server.ts'), "import('…')");
    assert.ok(has('src/application/files/prepare.ts', 'src/kernel/problems.ts'), 'import type');
    assert.ok(has('src/kernel/rules.ts', 'libphonenumber-js'), 'a package by its name');
  });

  test('a planted violation of each kind is found and named', () => {
    const edge = (from: string, to: string, line = 1): Import => ({ from, to, line, specifier: `./${path.basename(to)}` });
    const graph: Import[] = [
      // Fine: down the layers, and domains importing each other without a circle.
      edge('src/transports/http/app.ts', 'src/application/services.ts'),
      edge('src/domains/templates/t.ts', 'src/domains/customers/c.ts'),
      // Against the order.
      edge('src/platform/config.ts', 'src/domains/customers/phone.ts', 12),
      // A file circle (within one folder).
      edge('src/application/files/prepare.ts', 'src/application/files/import.service.ts', 3),
      edge('src/application/files/import.service.ts', 'src/application/files/prepare.ts', 4),
      // A folder circle made of files that form no circle.
      edge('src/domains/senders/a.ts', 'src/domains/routing/b.ts', 5),
      edge('src/domains/routing/c.ts', 'src/domains/senders/d.ts', 6),
      // A package a layer must not use, and a file in no layer.
      { from: 'src/domains/customers/c.ts', to: 'fastify', line: 7, specifier: 'fastify' },
      edge('src/helpers.ts', 'src/kernel/text.ts'),
    ];
    const found = layerViolations(graph);
    const expect = (pattern: RegExp) => assert.ok(found.some((v) => pattern.test(v)), `${pattern} in:\n${found.join('\n')}`);
    expect(/^src\/platform\/config\.ts:12 imports '\.\/phone\.ts': platform must not import domains/);
    expect(/^file circle src\/application\/files\/import\.service\.ts -> src\/application\/files\/prepare\.ts -> src\/application\/files\/import\.service\.ts:\n {2}src\/application\/files\/import\.service\.ts:4 imports/);
    expect(/^folder circle src\/domains\/routing -> src\/domains\/senders -> src\/domains\/routing:\n {2}src\/domains\/routing\/c\.ts:6 imports '\.\/d\.ts'\n {2}src\/domains\/senders\/a\.ts:5 imports '\.\/b\.ts'$/);
    expect(/^src\/domains\/customers\/c\.ts:7 imports 'fastify': domains must not import fastify/);
    expect(/^src\/helpers\.ts is in no layer/);
    assert.equal(found.length, 5, found.join('\n'));
  });
});
