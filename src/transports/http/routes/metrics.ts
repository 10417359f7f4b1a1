/**
 * `GET /metrics`: prom-client's Prometheus text format (no customer data, no
 * numbers), summed over the instance's processes when it runs several.
 */
import type { FastifyInstance } from 'fastify';
import { renderMetrics } from '../cluster.js';
import type { Metrics } from '../../../platform/metrics.js';

export function metricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.contentType).send(await renderMetrics(metrics)),
  );
}
