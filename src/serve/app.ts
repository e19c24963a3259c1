import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { ServiceSettings } from '../config/settings.js';
import { AnswerCache } from './answer-cache.js';
import { TEXT } from './answers.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { adminRoutes } from './routes/admin.js';
import { datasourceRoutes } from './routes/datasource.js';
import { metricsRoutes } from './routes/metrics.js';
import { probeRoutes } from './routes/probes.js';
import { wildcardRoutes } from './routes/wildcard.js';
import { IndexStore } from './store.js';

export interface Service {
  app: FastifyInstance;
  store: IndexStore;
  metrics: ServiceMetrics;
}

export interface ServiceOptions {
  /** Environment for repositories' `auth` variables; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** `false`: no logging at all (tests, benchmarks). */
  logger?: boolean;
  /** Write JSON log lines here instead of stdout (tests read them). */
  logStream?: { write(line: string): void };
  /** First retry delay after a failed refresh (default 5s); tests shorten it. */
  retryBaseMs?: number;
}

/**
 * The server and its index store from validated settings. Nothing is fetched until `store.start()`; the caller
 * then listens (or injects). Closing the app stops the store: timers end, downloads abort, waiting queries get 503.
 */
export function buildService(settings: ServiceSettings, options: ServiceOptions = {}): Service {
  const app = Fastify({
    logger: loggerOptions(settings, options),
    logController: new RequestLog(),
    return503OnClosing: true,
    // Malformed URLs (bad percent-encoding) are the client's mistake: one line, 400.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).type(TEXT).send(`bad request: ${oneLine(error.message)}\n`);
    },
  });
  const metrics = createMetrics();
  const store = new IndexStore(settings, { log: app.log, metrics, env: options.env, retryBaseMs: options.retryBaseMs });
  buildApp(app, settings, store, metrics);
  return { app, store, metrics };
}

/** Hooks, handlers and routes on a Fastify instance, around a store. */
export function buildApp(app: FastifyInstance, settings: ServiceSettings, store: IndexStore, metrics: ServiceMetrics): FastifyInstance {
  let closing = false;
  // A callback hook: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.record(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    // While draining, a keep-alive connection whose last request just finished would hold close() open until
    // its idle timeout; close it once it is idle.
    if (closing) setImmediate(() => app.server.closeIdleConnections());
    done();
  });
  // Before draining: release queries waiting for a first load (they answer 503) and stop refresh timers.
  app.addHook('preClose', (done) => {
    closing = true;
    store.stop();
    done();
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).type(TEXT).send(`no route for ${request.method} ${oneLine(request.url).slice(0, 120)}\n`);
  });
  // Every error is one line of text; only a 5xx (a bug, never a bad name) is logged.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.code(status).type(TEXT).send(status >= 500 ? 'internal error\n' : `bad request: ${oneLine(error.message)}\n`);
  });

  const cache = new AnswerCache();
  const answering = { store, cache, firstLoadTimeoutMs: settings.firstLoadTimeoutMs };
  void app.register(probeRoutes, { store });
  void app.register(metricsRoutes, { metrics });
  void app.register(adminRoutes, { store, refreshToken: settings.refreshToken });
  void app.register(wildcardRoutes, answering);
  void app.register(datasourceRoutes, answering);
  return app;
}

/** One debug line per answered request instead of two info lines: Renovate asks for hundreds of names per run. */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ err: error, url: request.url, status: reply.statusCode }, 'request failed');
    else reply.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  }
}

function loggerOptions(settings: ServiceSettings, options: ServiceOptions): FastifyServerOptions['logger'] {
  if (options.logger === false) return false;
  if (options.logStream) return { level: settings.logLevel, stream: options.logStream };
  if (settings.logFormat === 'json') return { level: settings.logLevel };
  return { level: settings.logLevel, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
