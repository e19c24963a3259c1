import type { FastifyInstance } from 'fastify';
import { count } from '../../core/plural.js';
import { sendText, TEXT } from '../answers.js';
import type { IndexStore } from '../store.js';

const textSchema = { type: 'string' } as const;

/** Kubernetes-style probes, as hown3d/renovate-apk-indexer has them. */
export async function probeRoutes(app: FastifyInstance, opts: { store: IndexStore }): Promise<void> {
  const { store } = opts;

  // Live while the process serves: a failing index is not a reason to restart.
  app.get('/livez', { schema: { response: { 200: textSchema } } }, (_request, reply) => {
    void reply.type(TEXT).send('ok\n');
  });

  // Ready once no index holds readiness back: each has loaded once, or failed its first load for a reason a
  // retry will not soon fix (then the other repositories answer; /-/status says which index is missing).
  app.get('/readyz', { schema: { response: { 200: textSchema, 503: textSchema } } }, (_request, reply) => {
    if (store.ready) return void reply.type(TEXT).send('ready\n');
    const { loaded, total } = store.progress;
    const waiting = store.waitingFor;
    sendText(
      reply,
      503,
      'not-ready',
      `not ready: ${loaded} of ${count(total, 'index', 'indexes')} loaded; waiting for ${waiting.slice(0, 3).join(', ')}${waiting.length > 3 ? ', ...' : ''}`,
    );
  });
}
