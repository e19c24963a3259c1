import type { FastifyInstance } from 'fastify';
import type { ServiceMetrics } from '../metrics.js';

/** Prometheus exposition of this server's own registry. */
export async function metricsRoutes(app: FastifyInstance, opts: { metrics: ServiceMetrics }): Promise<void> {
  const { registry } = opts.metrics;
  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
