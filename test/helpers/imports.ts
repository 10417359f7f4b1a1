/**
 * The import graph of the source tree, and the rules it must keep: the layer
 * order, no circle between files, no circle between folders. Read with the
 * TypeScript parser, so that what counts is what the compiler sees: static
 * imports and re-exports (types included), dynamic `import('…')`, and worker
 * entries written `new URL('./x.js', import.meta.url)`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Lowest first: a file may import its own layer and those below it, never one above. */
export const LAYERS = ['kernel', 'platform', 'domains', 'application', 'transports'] as const;

/** Packages a layer must not import, and why. */
export const FORBIDDEN_PACKAGES: Partial<Record<(typeof LAYERS)[number], readonly string[]>> = {
  // Domains are reached from HTTP and the CLI alike; only transports know Fastify.
  domains: ['fastify'],
  // The kernel is pure: no I/O, no framework.
  kernel: ['fastify', 'node:fs', 'node:fs/promises', 'node:net', 'node:http', 'node:child_process', 'node:worker_threads', 'kysely', 'pg', 'better-sqlite3'],
};

export interface Import {
  /** The importing file, relative to the project root: `src/domains/customers/customer.service.ts`. */
  readonly from: string;
  /** A file of the tree (relative like `from`), or a package name for anything else. */
  readonly to: string;
  readonly line: number;
  /** As written: `../../kernel/text.js`. */
  readonly specifier: string;
}

/** Every import of every `.ts` file under `dir` (relative to `root`). */
export function readImports(root: string, dir = 'src'): Import[] {
  const imports: Import[] = [];
  for (const file of sourceFiles(path.join(root, dir))) {
    const from = path.relative(root, file).split(path.sep).join('/');
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const add = (specifier: string, node: ts.Node) => {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      imports.push({ from, to: resolve(root, file, specifier), line, specifier });
    };
    const visit = (node: ts.Node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [arg] = node.arguments;
        if (arg && ts.isStringLiteralLike(arg)) add(arg.text, node);
      } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
        const [arg, base] = node.arguments ?? [];
        if (arg && ts.isStringLiteralLike(arg) && arg.text.startsWith('.') && base?.getText(source) === 'import.meta.url') add(arg.text, node);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal.text, node);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return imports;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** A relative specifier as the file it loads (`./x.js` is `./x.ts` in the sources); a package as its name. */
function resolve(root: string, from: string, specifier: string): string {
  if (!specifier.startsWith('.')) {
    if (specifier.startsWith('node:')) return specifier;
    const parts = specifier.split('/');
    return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
  }
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return path.relative(root, candidate).split(path.sep).join('/');
  }
  return `${path.relative(root, base).split(path.sep).join('/')} (missing)`;
}

const isFile = (to: string) => to.startsWith('src/');

/** The layer of `src/<layer>/…`, or undefined for a file outside every layer. */
export function layerOf(file: string): (typeof LAYERS)[number] | undefined {
  const top = file.split('/')[1];
  return (LAYERS as readonly string[]).includes(top ?? '') ? (top as (typeof LAYERS)[number]) : undefined;
}

/**
 * The folder a file belongs to for the circle check: a component of its layer
 * (`src/domains/customers`, `src/platform/db`, `src/transports/http`), whose
 * subfolders are part of it (`src/platform/db/migrations` is `src/platform/db`);
 * files directly in a layer's folder form one more (`src/platform`).
 */
export function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.slice(0, Math.min(3, parts.length - 1)).join('/');
}
const at = (i: Import) => `${i.from}:${i.line} imports '${i.specifier}'`;

/** Every breach of the rules, each naming the import(s) at fault; empty when the tree keeps its shape. */
export function layerViolations(imports: readonly Import[]): string[] {
  const violations: string[] = [];
  const files = new Set(imports.map((i) => i.from));
  for (const file of files) {
    if (layerOf(file) === undefined) violations.push(`${file} is in no layer (expected src/${LAYERS.join('|')}/…)`);
  }
  for (const i of imports) {
    const from = layerOf(i.from);
    if (from === undefined) continue;
    if (i.to.endsWith('(missing)')) {
      violations.push(`${at(i)}, which does not exist`);
      continue;
    }
    if (isFile(i.to)) {
      const to = layerOf(i.to);
      if (to !== undefined && LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
        violations.push(`${at(i)}: ${from} must not import ${to} (order ${LAYERS.join(' < ')})`);
      }
      continue;
    }
    if (FORBIDDEN_PACKAGES[from]?.includes(i.to)) violations.push(`${at(i)}: ${from} must not import ${i.to}`);
  }
  violations.push(...circles(imports.filter((i) => isFile(i.to)), (f) => f, 'file'));
  violations.push(...circles(imports.filter((i) => isFile(i.to) && folderOf(i.from) !== folderOf(i.to)), folderOf, 'folder'));
  return violations;
}

/**
 * The circles of the graph whose nodes are `node(file)`: for each strongly
 * connected component, one circle through it, named by the imports that make it.
 */
function circles(imports: readonly Import[], node: (file: string) => string, kind: string): string[] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const [a, b] = [node(i.from), node(i.to)];
    if (!edges.has(a)) edges.set(a, new Map());
    if (!edges.has(b)) edges.set(b, new Map());
    if (!edges.get(a)?.has(b)) edges.get(a)?.set(b, i);
  }
  const out: string[] = [];
  for (const component of stronglyConnected(edges)) {
    const inside = new Set(component);
    if (component.length === 1 && !edges.get(component[0] as string)?.has(component[0] as string)) continue;
    // A shortest way back to the start, through the component: the circle to show.
    const start = [...inside].sort()[0] as string;
    const previous = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length > 0 && end === undefined) {
      const current = queue.shift() as string;
      for (const next of edges.get(current)?.keys() ?? []) {
        if (!inside.has(next)) continue;
        if (next === start) {
          end = current;
          break;
        }
        if (!previous.has(next)) {
          previous.set(next, current);
          queue.push(next);
        }
      }
    }
    const route = [start];
    for (let n = end as string; n !== start; n = previous.get(n) as string) route.splice(1, 0, n);
    const links = route.map((n, k) => edges.get(n)?.get(route[(k + 1) % route.length] as string) as Import);
    out.push(`${kind} circle ${[...route, start].join(' -> ')}:\n  ${links.map(at).join('\n  ')}`);
  }
  return out;
}

/** Tarjan's algorithm: the strongly connected components of a directed graph. */
function stronglyConnected(edges: ReadonlyMap<string, ReadonlyMap<string, unknown>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components;
}
