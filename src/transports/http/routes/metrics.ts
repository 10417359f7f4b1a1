/**
 * `GET /metrics`: the counters in the Prometheus text format (no customer data,
 * no numbers), summed over the instance's processes when it runs several.
 */
import type { FastifyInstance } from 'fastify';
import { renderMetrics } from '../cluster.js';
import type { Metrics } from '../../../platform/metrics.js';

export function metricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(await renderMetrics(metrics)),
  );
}
