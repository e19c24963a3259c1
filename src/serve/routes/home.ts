import type { FastifyInstance } from 'fastify';
import { buildsByArch } from '../../changes/changes.js';
import type { RepositorySettings } from '../../config/settings.js';
import { version } from '../../core/version.js';
import { releaseFilter } from '../../datasource/filter.js';
import { latestStable } from '../../datasource/renovate-body.js';
import type { VersionMap } from '../../index/version-map.js';
import { answerPackage } from '../answers.js';
import { renderHomePage, type RenovateView, type SearchResult } from '../html/home-page.js';
import { HTML_HEADERS } from '../html/page.js';
import type { NameSearches } from '../name-search.js';
import type { QueryScope } from '../query-filter.js';
import type { SecdbStore } from '../secdb-store.js';
import { serviceStatus } from '../status.js';
import type { IndexStore } from '../store.js';

/** Names listed for a search that is not a name: enough to choose from, few enough to answer at once. */
const MAX_SIMILAR = 50;

export interface HomeRouteOptions {
  store: IndexStore;
  secdb: SecdbStore;
  repositories: readonly RepositorySettings[];
  scope: QueryScope;
  /** The name search of each version map, built when the map is made. */
  searches: NameSearches;
}

/**
 * `GET /`: what is loaded from where and how fresh, and a package search that works as a plain form, without
 * scripts. A search shows the name's builds, or the names containing it (from the search built at refresh time,
 * bounded: MAX_SIMILAR names), and what `GET /<name>` answers Renovate.
 */
export async function homeRoutes(app: FastifyInstance, opts: HomeRouteOptions): Promise<void> {
  const { store, secdb, repositories, scope, searches } = opts;
  const templates = new Map(repositories.map((r) => [r.name, r.sourceUrl]));
  app.get<{ Querystring: { q?: string } }>(
    '/',
    { schema: { querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 200 } } } } },
    function home(request, reply) {
      const query = request.query.q?.trim();
      let search: SearchResult | undefined;
      if (query) {
        const map = store.map;
        const renovate = renovateView(map, query, scope);
        const builds = buildsByArch(map, query, undefined, undefined, templates);
        if (builds.size) search = { query, renovate, builds };
        else {
          const similar = searches.of(map).search(query, MAX_SIMILAR);
          search = { query, renovate, similar: similar.names, more: similar.more };
        }
      }
      void reply
        .headers(HTML_HEADERS)
        .send(renderHomePage(serviceStatus(store, repositories), secdb.status(), search, version));
    },
  );
}

/** What `GET /<name>` (no filters) answers, as the datasource route computes it. */
function renovateView(map: VersionMap, name: string, scope: QueryScope): RenovateView {
  const filter = releaseFilter({}, scope);
  const releases = map.releases(name, filter);
  if (releases?.length)
    return {
      ok: true,
      versions: releases.map((r) => r.version).reverse(),
      latest: latestStable(releases)?.version,
    };
  const a = answerPackage(map, name, filter, 'json');
  return { ok: false, status: a.status, reason: a.reason, message: String(a.body).trim() };
}
