import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type onRequestHookHandler,
  type onResponseHookHandler,
} from 'fastify';
import type { Server } from 'node:http';
import type { ServiceSettings } from '../config/settings.js';
import { escapeControl } from '../core/escape.js';
import { oneLine } from '../core/text.js';
import { REASON_HEADER } from '../datasource/reasons.js';
import { AnswerCache } from './answer-cache.js';
import { answerClientError } from './client-errors.js';
import { TEXT } from './answers.js';
import { guardConnections } from './connections.js';
import { managementServer } from './management.js';
import { stdoutLogStream } from './log-stream.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { adminRoutes } from './routes/admin.js';
import { apkIndexRoutes } from './routes/apk-index.js';
import { datasourceRoutes } from './routes/datasource.js';
import { metricsRoutes } from './routes/metrics.js';
import { probeRoutes } from './routes/probes.js';
import { changesRoutes } from './routes/changes.js';
import { homeRoutes } from './routes/home.js';
import { wildcardRoutes } from './routes/wildcard.js';
import { QueryScope } from './query-filter.js';
import { SecdbStore } from './secdb-store.js';
import { NameSearches } from './name-search.js';
import { registerStateMetrics } from './state-metrics.js';
import { IndexStore } from './store.js';

export interface Service {
  app: FastifyInstance;
  /** The management listener (`managementPort`), not listening yet; closed with the app. */
  management: Server | undefined;
  store: IndexStore;
  metrics: ServiceMetrics;
  /** Serialized answers of the current generation (tests read its size). */
  cache: AnswerCache;
  /** Security databases; loading starts when the app is ready (listen or first inject). */
  secdb: SecdbStore;
  /** The home page's name search, built per version map as the store makes it. */
  searches: NameSearches;
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
    // While draining, a request that still arrives on an open connection is answered (from memory, at no cost)
    // with `Connection: close`, rather than refused with a 503 that Renovate would report as a failed lookup.
    return503OnClosing: false,
    // A client must send its whole request (headers and body) within clientTimeout: a POST announcing a body it
    // never sends is answered 408 and closed. Node checks these deadlines every connectionsCheckingInterval.
    requestTimeout: settings.clientTimeoutMs,
    http: {
      headersTimeout: settings.clientTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(settings.clientTimeoutMs / 2))),
    },
    // A request Node cannot read, or that does not arrive in time: one line with its reason code, as below.
    clientErrorHandler: answerClientError,
    // Malformed URLs (bad percent-encoding) are the client's mistake: one line, 400.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply)
        .code(400)
        .headers({ 'content-type': TEXT, [REASON_HEADER]: 'bad-request' })
        .send(`bad request: ${shown(error.message, 200)}\n`);
    },
  });
  const metrics = createMetrics();
  // What answers need per version map is built when the map is made, not on the first request that needs it.
  const searches = new NameSearches();
  const store = new IndexStore(settings, {
    log: app.log,
    metrics,
    env: options.env,
    retryBaseMs: options.retryBaseMs,
    onMap: (map) => void searches.of(map),
  });
  const cache = new AnswerCache({ maxBytes: settings.answerCacheBytes });
  const secdb = new SecdbStore(settings, { log: app.log, metrics, env: options.env, retryBaseMs: options.retryBaseMs });
  const management = settings.managementPort === undefined ? undefined : managementServer(app, settings, metrics);
  const service = { app, management, store, metrics, cache, secdb, searches };
  addRoutes(service, settings);
  return service;
}

/** Hooks, handlers and routes on the service's Fastify instance, around its stores. */
function addRoutes({ app, store, metrics, cache, secdb, searches }: Service, settings: ServiceSettings): void {
  const held = guardConnections(app.server, {
    maxConnections: settings.maxConnections,
    stallTimeoutMs: settings.clientTimeoutMs,
    onDrop: (why) => metrics.droppedConnections.inc({ listener: 'client', why }),
  });
  metrics.connectionStates.set('client', held);
  // Requests are counted by a callback hook (no promise per request) that each route gets with its own URL closed
  // over: `request.routeOptions` builds a new object on every read. Routes without a hook of their own (the
  // not-found handler) count as 'unmatched'.
  app.addHook('onRoute', (route) => {
    const hooks = asArray(route.onResponse);
    if (hooks.some((h) => COUNTS_REQUESTS in h)) return; // an implicit HEAD route copies its GET route's options
    route.onResponse = [...hooks, countRequests(metrics, route.url ?? 'unmatched')];
    if (isOperatorRoute(route.url)) route.onRequest = [...asArray(route.onRequest), literalPathOnly(route.url)];
  });
  // Before draining: release queries waiting for a first load (they answer 503) and stop refresh timers.
  app.addHook('preClose', (done) => {
    store.stop();
    secdb.stop();
    done();
  });
  // Security databases are extras: they load beside the indexes and never hold up readiness.
  app.addHook('onReady', (done) => {
    secdb.start();
    done();
  });

  // In a scope of its own, so that its hook counts the not-found answers only.
  void app.register(async function notFound(scope) {
    scope.addHook('onResponse', countRequests(metrics, 'unmatched'));
    scope.setNotFoundHandler((request, reply) => {
      void reply
        .code(404)
        .headers({ 'content-type': TEXT, [REASON_HEADER]: 'no-route' })
        .send(`no route for ${request.method} ${shown(request.url).slice(0, 120)}\n`);
    });
  });
  // Every error is one line of text; only a 5xx (a bug, never a bad name) is logged.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    void reply
      .code(status)
      .headers({ 'content-type': TEXT, [REASON_HEADER]: status >= 500 ? 'internal' : 'bad-request' })
      .send(status >= 500 ? 'internal error\n' : `bad request: ${shown(error.message, 200)}\n`);
  });

  registerStateMetrics(metrics.registry, { cache, store });
  const scope = new QueryScope(
    settings.repositories.flatMap((r) => r.arches),
    settings.repositories.map((r) => r.name),
    settings.anyArch,
  );
  const answering = {
    store,
    cache,
    firstLoadTimeoutMs: settings.firstLoadTimeoutMs,
    scope,
    publicUrl: settings.publicUrl,
  };
  void app.register(probeRoutes, { store });
  void app.register(metricsRoutes, { metrics });
  void app.register(adminRoutes, {
    store,
    repositories: settings.repositories,
    refreshToken: settings.refreshToken,
    minIntervalMs: settings.refreshMinIntervalMs,
  });
  void app.register(changesRoutes, {
    store,
    secdb,
    repositories: settings.repositories,
    firstLoadTimeoutMs: settings.firstLoadTimeoutMs,
    scope,
  });
  void app.register(homeRoutes, { store, secdb, repositories: settings.repositories, scope, searches });
  void app.register(apkIndexRoutes, {
    store,
    repositories: settings.repositories,
    firstLoadTimeoutMs: settings.firstLoadTimeoutMs,
  });
  void app.register(wildcardRoutes, answering);
  void app.register(datasourceRoutes, answering);
}

/** One debug line per answered request instead of two info lines: Renovate asks for hundreds of names per run. */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ err: error, url: request.url, status: reply.statusCode }, 'request failed');
    else if (debugEnabled(reply.log))
      reply.log.debug(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      );
  }
}

/** Without a logger (`logger: false`) Fastify's stand-in has no `isLevelEnabled`: nothing is logged then. */
function debugEnabled(log: FastifyBaseLogger): boolean {
  return (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') ?? false;
}

const COUNTS_REQUESTS = Symbol('counts requests');

function asArray<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/** Routes for operators and orchestrators, which a proxy in front may keep internal by path (docs/deploy.md). */
function isOperatorRoute(url: string | undefined): boolean {
  return url !== undefined && (url.startsWith('/-/') || url === '/metrics' || url === '/livez' || url === '/readyz');
}

/**
 * Operator routes answer only at their literal path. The router decodes percent-escapes, so `/%2D/status` or
 * `/%6detrics` would reach them past a proxy rule written for `/-/` or `/metrics`; such spellings are a 404. The
 * fixed part of a route with parameters (`/-/changes/` of `/-/changes/*`) must be literal; its parameters may be
 * percent-encoded as package names are.
 */
function literalPathOnly(url: string): onRequestHookHandler {
  const param = url.search(/[:*]/);
  const fixed = param === -1 ? url : url.slice(0, param);
  return (request, reply, done) => {
    const raw = request.raw.url ?? '';
    const end = raw.indexOf('?');
    const path = end === -1 ? raw : raw.slice(0, end);
    if (param === -1 ? path !== fixed : !path.startsWith(fixed)) return void reply.callNotFound();
    done();
  };
}

function countRequests(metrics: ServiceMetrics, route: string): onResponseHookHandler {
  const hook: onResponseHookHandler = (request, reply, done) => {
    metrics.requests.record(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  };
  return Object.assign(hook, { [COUNTS_REQUESTS]: true });
}

function loggerOptions(settings: ServiceSettings, options: ServiceOptions): FastifyServerOptions['logger'] {
  if (options.logger === false) return false;
  if (options.logStream) return { level: settings.logLevel, stream: options.logStream };
  return { level: settings.logLevel, stream: stdoutLogStream(settings.logFormat) };
}

/** Text that may quote the request, as one line of text/plain: line breaks folded, control characters escaped. */
function shown(text: string, max?: number): string {
  return escapeControl(oneLine(text, max));
}
