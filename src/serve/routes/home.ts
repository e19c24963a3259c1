import type { FastifyInstance } from 'fastify';
import { buildsByArch } from '../../changes/changes.js';
import type { RepositorySettings } from '../../config/settings.js';
import { renderHomePage, type SearchResult } from '../html/home-page.js';
import { HTML_HEADERS } from '../html/page.js';
import type { SecdbStore } from '../secdb-store.js';
import type { IndexStore } from '../store.js';

const MAX_SIMILAR = 50;

/** `GET /`: what is loaded, and a package search that works as a plain form, without scripts. */
export async function homeRoutes(
  app: FastifyInstance,
  opts: { store: IndexStore; secdb: SecdbStore; repositories: readonly RepositorySettings[] },
): Promise<void> {
  const { store, secdb, repositories } = opts;
  const templates = new Map(repositories.map((r) => [r.name, r.sourceUrl]));
  app.get<{ Querystring: { q?: string } }>(
    '/',
    { schema: { querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 200 } } } } },
    function home(request, reply) {
      const query = request.query.q?.trim();
      let search: SearchResult | undefined;
      if (query) {
        const map = store.map;
        const builds = buildsByArch(map, query, undefined, undefined, templates);
        if (builds.size) search = { query, builds };
        else {
          const needle = query.toLowerCase();
          const similar: string[] = [];
          let more = false;
          for (const n of map.names()) {
            if (!n.toLowerCase().includes(needle)) continue;
            if (similar.length === MAX_SIMILAR) {
              more = true;
              break;
            }
            similar.push(n);
          }
          search = { query, similar, more };
        }
      }
      void reply.headers(HTML_HEADERS).send(renderHomePage(store.status(), secdb.status(), search));
    },
  );
}
