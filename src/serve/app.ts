import Fastify, { type FastifyInstance } from 'fastify';
import type { ServiceSettings } from '../config/settings.js';
import { AnswerCache } from './answer-cache.js';
import { IndexStore } from './index-store.js';
import { createMetrics } from './metrics.js';
import { operationsRoutes } from './routes/operations.js';
import { packageRoutes } from './routes/packages.js';

export interface Service {
  app: FastifyInstance;
  store: IndexStore;
}

/** Builds the server from validated settings; `start()` on the store begins loading. */
export function buildService(settings: ServiceSettings, options: { env?: NodeJS.ProcessEnv; logger?: boolean } = {}): Service {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: settings.logLevel,
            ...(settings.logFormat === 'text' ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } } : {}),
          },
    // Package names are short; a long path is answered 404 by the router instead of being parsed.
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
  });
  const metrics = createMetrics();
  const store = new IndexStore(settings, app.log, metrics, options.env);
  // Label children are looked up once per (route, method, status), not hashed on every request.
  const requestCounters = new Map<string, { inc(): void }>();
  const latencies = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${route} ${request.method}`;
    const counterKey = `${key} ${reply.statusCode}`;
    let counter = requestCounters.get(counterKey);
    if (!counter) requestCounters.set(counterKey, (counter = metrics.requests.labels(route, request.method, String(reply.statusCode))));
    counter.inc();
    let latency = latencies.get(key);
    if (!latency) latencies.set(key, (latency = metrics.latency.labels(route, request.method)));
    latency.observe(reply.elapsedTime / 1000);
  });
  app.addHook('onClose', async () => store.stop());
  void app.register(operationsRoutes, { store, metrics, refreshToken: settings.refreshToken });
  void app.register(packageRoutes, { store, cache: new AnswerCache(), firstLoadTimeoutMs: settings.firstLoadTimeoutMs });
  return { app, store };
}
