import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { IndexStore } from '../index-store.js';
import type { ServiceMetrics } from '../metrics.js';

/** Probes, metrics, status and refresh: the routes for operators rather than Renovate. */
export async function operationsRoutes(app: FastifyInstance, opts: { store: IndexStore; metrics: ServiceMetrics; refreshToken: string | undefined }) {
  const { store, metrics } = opts;

  app.get('/livez', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'));

  app.get('/readyz', async (_request, reply) => {
    if (store.ready) return reply.type('text/plain; charset=utf-8').send('ready\n');
    return reply.code(503).type('text/plain; charset=utf-8').send('not ready: some indexes have not loaded yet\n');
  });

  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.get('/-/status', async () => ({ ready: store.ready, generation: store.map.generation, indexes: store.status() }));

  app.post('/-/refresh', async (request, reply) => {
    if (opts.refreshToken !== undefined) {
      const given = Buffer.from(/^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '');
      const wanted = Buffer.from(opts.refreshToken);
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
        return reply.code(401).header('www-authenticate', 'Bearer').type('text/plain; charset=utf-8').send('a valid bearer token is required\n');
      }
    }
    await store.refreshAll();
    return { ready: store.ready, generation: store.map.generation, indexes: store.status() };
  });
}
