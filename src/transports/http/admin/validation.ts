/**
 * Request validation for the admin API: every bad field named, in the import's
 * problem shape. The route schemas are checked by Ajv with all errors
 * collected; a route may add its domain validator (`config.problemsOf`), whose
 * findings (a phone number that is not one, a placeholder that does not
 * exist) are merged in, so that one 400 names everything wrong with a body.
 */
import type { ErrorObject } from 'ajv';
import { Ajv } from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { AppError, type Problem } from '../../../kernel/errors.js';

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
