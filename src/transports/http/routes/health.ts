/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers too). */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../platform/db/connect.js';

export function healthRoutes(app: FastifyInstance, store: Store, timeoutMs: number): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    try {
      await withTimeout(store.ping(), timeoutMs);
      return { status: 'ready', store: store.dialect };
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed: store unreachable');
      return reply.status(503).send({ status: 'unavailable', store: store.dialect });
    }
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
