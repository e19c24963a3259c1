import type { FastifyInstance } from 'fastify';
import { changelogTemplate } from '../../datasource/renovate-body.js';
import type { AnswerCache } from '../answer-cache.js';
import {
  badQuery,
  badRequest,
  filterOf,
  packageRouteSchema,
  queryKey,
  quoted,
  renderReleases,
  sendAnswer,
  targetOf,
  withLoadedMap,
  type DatasourceQuery,
  type QueryScope,
} from '../answers.js';
import { normalizeFilter } from '../query-filter.js';
import type { IndexStore } from '../store.js';

export interface DatasourceOptions {
  store: IndexStore;
  cache: AnswerCache;
  firstLoadTimeoutMs: number;
  scope: QueryScope;
  /** Set: each JSON answer links to the changes page (see changelogTemplate). */
  publicUrl?: string;
}

/** Longer names are not looked up (APK names are short); they are simply unknown. */
const MAX_NAME = 1024;

/**
 * Renovate's custom datasource: `GET /<name>` (JSON, or `?format=plain`) and `GET /<name>/latest` (newest stable
 * version as text). Names arrive unencoded (`/libstdc++`) or percent-encoded; both decode to the same name.
 */
export async function datasourceRoutes(app: FastifyInstance, opts: DatasourceOptions): Promise<void> {
  const { store, cache, firstLoadTimeoutMs, scope, publicUrl } = opts;
  app.get<{ Params: { '*': string }; Querystring: DatasourceQuery }>(
    '/*',
    { schema: packageRouteSchema },
    function packageReleases(request, reply) {
      const { target: name, mode } = targetOf(request.params['*'], request.query.format);
      withLoadedMap(
        store,
        firstLoadTimeoutMs,
        reply,
        (map) => {
          const key = `${mode}\u0000${name}\u0000${queryKey(request.query)}`;
          const bad = badQuery(request.query, scope);
          if (bad) return sendAnswer(request, reply, badRequest(bad));
          const a = cache.get(map.generation, key, () => {
            const filter = filterOf(request.query, scope);
            const plausible = name.length > 0 && name.length <= MAX_NAME && !name.includes('/');
            return renderReleases(
              `package ${quoted(name)}`,
              plausible ? map.releases(name, filter) : undefined,
              filter,
              mode,
              changelogTemplate(publicUrl, filter),
            );
          });
          sendAnswer(request, reply, a);
        },
        normalizeFilter(request.query).filter,
      );
    },
  );
}
