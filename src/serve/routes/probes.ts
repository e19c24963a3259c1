import type { FastifyInstance } from 'fastify';
import { TEXT } from '../answers.js';
import type { IndexStore } from '../store.js';

const textSchema = { type: 'string' } as const;

/** Kubernetes-style probes, as hown3d/renovate-apk-indexer has them. */
export async function probeRoutes(app: FastifyInstance, opts: { store: IndexStore }): Promise<void> {
  const { store } = opts;

  // Live while the process serves: a failing index is not a reason to restart.
  app.get('/livez', { schema: { response: { 200: textSchema } } }, (_request, reply) => {
    void reply.type(TEXT).send('ok\n');
  });

  // Ready once every configured index has loaded once; until then a query would have to wait or get a 503.
  app.get('/readyz', { schema: { response: { 200: textSchema, 503: textSchema } } }, (_request, reply) => {
    if (store.ready) return void reply.type(TEXT).send('ready\n');
    const { loaded, total } = store.progress;
    void reply.code(503).type(TEXT).send(`not ready: ${loaded} of ${total} indexes loaded\n`);
  });
}
