/**
 * Request validation for the admin API: every bad field named, in the import's
 * problem shape. The route schemas are checked by Ajv with all errors
 * collected; a route may add its domain validator (`config.problemsOf`), whose
 * findings (a phone number that is not one, a placeholder that does not
 * exist) are merged in, so that one 400 names everything wrong with a body.
 */
import { Readable } from 'node:stream';
import type { ErrorObject } from 'ajv';
import { Ajv } from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import fastJson from 'fast-json-stringify';
import { AppError, type ReportedProblem as Problem } from '../../../kernel/errors.js';
import { formatPath } from '../../../kernel/problems.js';
import { unstorableText } from '../../../kernel/rules.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The domain's problems with a body that failed the schema (to name every bad field at once). */
    problemsOf?: (body: unknown) => Problem[];
  }
}

const POSITIONS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** `/channels/0/value` → `channels[0].value`. */
function fieldOf(instancePath: string, extra?: string): string | undefined {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? undefined : out;
}

export function ajvProblems(errors: readonly ErrorObject[], context: string): Problem[] {
  const position = POSITIONS[context] ?? context;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let field: string | undefined;
    let message: string;
    if (e.keyword === 'required') {
      field = fieldOf(e.instancePath, String(e.params.missingProperty));
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      field = fieldOf(e.instancePath, String(e.params.additionalProperty));
      message = 'unknown field';
    } else if (e.keyword === 'anyOf') {
      continue; // its branches' errors say what is wrong
    } else {
      field = fieldOf(e.instancePath);
      message = e.message ?? 'is not valid';
    }
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(field === undefined ? { position, message } : { position, field, message });
  }
  return problems;
}

/** A value met on the walk, and how it was reached (a path is built only for what is reported). */
interface Visit {
  readonly value: unknown;
  readonly parent: Visit | undefined;
  readonly key: string | number | undefined;
}

function pathOf(visit: Visit | undefined): Array<string | number> {
  const path: Array<string | number> = [];
  for (let v = visit; v?.key !== undefined; v = v.parent) path.push(v.key);
  return path.reverse();
}

/**
 * The first text in `value` (a path parameter, the query, a parsed JSON body) that
 * no store can hold, found in one linear walk without recursion (a 1 MB body may
 * nest half a million levels deep): where it is, and what is wrong with it.
 */
export function findUnstorable(value: unknown): { path: Array<string | number>; message: string } | undefined {
  const stack: Visit[] = [{ value, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    const v = visit.value;
    if (typeof v === 'string') {
      const message = unstorableText(v);
      if (message) return { path: pathOf(visit), message };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], parent: visit, key: i });
    } else if (v instanceof Readable) {
      continue; // a streamed body (the NDJSON import): its reader checks it line by line
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      for (const [key] of entries) {
        const message = unstorableText(key);
        if (message) return { path: [...pathOf(visit), key], message: `has a name that ${message}` };
      }
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i] as [string, unknown];
        stack.push({ value: item, parent: visit, key });
      }
    }
  }
  return undefined;
}

/**
 * NUL and lone surrogates are refused wherever they come in (path, query, JSON
 * body), before any schema, service or store sees them, as the callbacks' form
 * parser refuses them: PostgreSQL cannot hold a NUL in text, and a lone
 * surrogate is not Unicode (a store's driver would write U+FFFD in its place,
 * and the id or name written would not be the one asked for). Refused, never repaired.
 */
export function installEncodingCheck(app: FastifyInstance): void {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    for (const [position, value] of [['path', request.params], ['query', request.query], ['body', request.body]] as const) {
      const found = findUnstorable(value);
      if (!found) continue;
      // A field deep in a nested body is named by its first steps (a 1 MB body may nest half a million levels).
      const field = found.path.length === 0 ? undefined : found.path.length > 20 ? `${formatPath(found.path.slice(0, 20))}…` : formatPath(found.path);
      throw new AppError('INVALID_ENCODING', `The request's ${position}${field ? ` (${field})` : ''} ${found.message}; nothing was changed`, {
        problems: [{ position, ...(field === undefined ? {} : { field }), message: found.message }],
      });
    }
  });
}

/** Ajv for the admin API: all errors; query strings and path parameters coerced from text, bodies never. */
export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
  const coercing = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, removeAdditional: false, strict: false });
  const compiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
    // A streamed body (the NDJSON import) is checked line by line by its reader, not here.
    if ((schema as Record<string, unknown>)['x-stream'] === true) return () => true;
    const ajv = httpPart === 'body' ? strict : coercing;
    return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
  app.addHook('onRoute', (route) => {
    // Validation failures reach the preHandler below, which adds the domain's findings.
    route.attachValidation = true;
  });
  app.setValidatorCompiler(compiler);
  app.addHook('preHandler', async (request: FastifyRequest, _reply: FastifyReply) => {
    const failure = request.validationError as (Error & { validation?: ErrorObject[]; validationContext?: string }) | undefined;
    if (!failure) return;
    const context = failure.validationContext ?? 'body';
    const problems = ajvProblems(failure.validation ?? [], context);
    if (context === 'body') {
      const named = new Set(problems.map((p) => p.field));
      for (const p of request.routeOptions.config.problemsOf?.(request.body) ?? []) {
        if (!named.has(p.field)) problems.push(p);
      }
    }
    throw new AppError(
      'INVALID_FIELDS',
      `The request has ${problems.length} problem(s); nothing was changed`,
      { problems: problems.length > 0 ? problems : [{ position: POSITIONS[context] ?? context, message: failure.message }] },
    );
  });
}

/**
 * Reply serializers compiled once per schema object, not once per route and
 * status: every route answers its errors with the same AdminError schema (and
 * most resources with one shared schema), and compiling each of those again
 * for every route made up most of the admin API's share of start-up time.
 */
export function installSerialization(app: FastifyInstance, shared: readonly object[]): void {
  const external = Object.fromEntries(shared.map((s) => [(s as { $id: string }).$id, s]));
  const compiled = new WeakMap<object, (data: unknown) => string>();
  const compiler: FastifySerializerCompiler<unknown> = ({ schema }) => {
    const key = schema as object;
    let serialize = compiled.get(key);
    if (!serialize) {
      serialize = fastJson(schema as Parameters<typeof fastJson>[0], { schema: external as Record<string, Parameters<typeof fastJson>[0]> });
      compiled.set(key, serialize);
    }
    return serialize;
  };
  app.setSerializerCompiler(compiler);
}
