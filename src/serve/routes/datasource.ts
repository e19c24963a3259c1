import type { FastifyInstance } from 'fastify';
import { releaseFilter } from '../../datasource/filter.js';
import { changelogTemplate } from '../../datasource/renovate-body.js';
import type { AnswerCache } from '../answer-cache.js';
import {
  answerPackage,
  cachedAnswers,
  packageRouteSchema,
  rejected,
  sendAnswer,
  targetOf,
  withLoadedMap,
  type DatasourceQuery,
} from '../answers.js';
import { isRejection, outOfScope, readFilters, type QueryScope } from '../query-filter.js';
import type { IndexStore } from '../store.js';

export interface DatasourceOptions {
  store: IndexStore;
  cache: AnswerCache;
  firstLoadTimeoutMs: number;
  scope: QueryScope;
  /** Set: each JSON answer links to the changes page (see changelogTemplate). */
  publicUrl?: string | undefined;
}

/**
 * Renovate's custom datasource: `GET /<name>` (JSON, or `?format=plain`) and `GET /<name>/latest` (newest stable
 * version as text). Names arrive unencoded (`/libstdc++`) or percent-encoded; both decode to the same name.
 * A URL answered once in this generation is answered again from the cache before anything else (cachedAnswers).
 */
export async function datasourceRoutes(app: FastifyInstance, opts: DatasourceOptions): Promise<void> {
  const { store, cache, firstLoadTimeoutMs, scope, publicUrl } = opts;
  app.get<{ Params: { '*': string }; Querystring: DatasourceQuery }>(
    '/*',
    { schema: packageRouteSchema, onRequest: cachedAnswers(store, cache) },
    function packageReleases(request, reply) {
      const { target: name, mode } = targetOf(request.params['*'], request.query.format);
      const filters = readFilters(request.query);
      if (isRejection(filters)) return sendAnswer(request, reply, rejected(filters));
      withLoadedMap(
        store,
        firstLoadTimeoutMs,
        reply,
        (map) => {
          const bad = outOfScope(filters, scope.configured(map));
          if (bad) return sendAnswer(request, reply, rejected(bad));
          // The cachedAnswers hook found nothing under this URL: compute, and keep it for the next ask.
          const filter = releaseFilter(filters, scope);
          const a = answerPackage(map, name, filter, mode, changelogTemplate(publicUrl, filter));
          cache.put(map.generation, request.raw.url ?? '', a);
          sendAnswer(request, reply, a);
        },
        filters,
      );
    },
  );
}
