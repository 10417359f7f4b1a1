/** `GET /metrics`: the in-process counters in the Prometheus text format (no customer data, no numbers). */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics.js';

export function metricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render()),
  );
}
