import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildsByArch, changesBetween } from '../../changes/changes.js';
import type { RepositorySettings } from '../../config/settings.js';
import { splitList } from '../../config/layer.js';
import { badQuery, JSON_TYPE, withLoadedMap, type QueryScope } from '../answers.js';
import { renderChangesError, renderChangesPage } from '../html/changes-page.js';
import { renderHomePage, type SearchResult } from '../html/home-page.js';
import { HTML_HEADERS } from '../html/page.js';
import type { SecdbStore } from '../secdb-store.js';
import type { IndexStore } from '../store.js';

export interface ChangesRouteOptions {
  store: IndexStore;
  secdb: SecdbStore;
  repositories: readonly RepositorySettings[];
  firstLoadTimeoutMs: number;
  /** The datasource's scope: an arch or repository not configured is the asker's mistake (400), as there. */
  scope: QueryScope;
}

const list = { type: 'array', items: { type: 'string', maxLength: 1024 }, maxItems: 32 } as const;
const version = { type: 'string', maxLength: 256 } as const;

interface ChangesQuerystring {
  from?: string;
  to?: string;
  arch?: string[];
  repository?: string[];
  format?: 'json' | 'html';
}

const changesSchema = {
  params: { type: 'object', properties: { '*': { type: 'string' } } },
  querystring: {
    type: 'object',
    properties: {
      from: version,
      to: version,
      arch: list,
      repository: list,
      format: { type: 'string', enum: ['json', 'html'] },
    },
  },
} as const;

const MAX_NAME = 1024;
const MAX_SIMILAR = 50;

/** JSON when asked for by `?format=json` or an Accept header that prefers it over HTML. */
function wantsJson(request: FastifyRequest, format: string | undefined): boolean {
  if (format) return format === 'json';
  const accept = request.headers.accept ?? '';
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

function send(reply: FastifyReply, json: boolean, status: number, data: unknown, html: () => string): void {
  if (json)
    void reply
      .code(status)
      .headers({ 'content-type': JSON_TYPE, 'cache-control': 'no-cache' })
      .send(JSON.stringify(data));
  else void reply.code(status).headers(HTML_HEADERS).send(html());
}

/**
 * The human pages: `GET /-/changes/<name>?from=A&to=B` (what an update brings: the builds between the versions
 * per arch, their recipe commits, the security fixes; linked from every datasource answer's changelogUrl), and
 * `GET /` (what is loaded, and a package search that works as a plain form, without scripts).
 */
export async function changesRoutes(app: FastifyInstance, opts: ChangesRouteOptions): Promise<void> {
  const { store, secdb, repositories, firstLoadTimeoutMs, scope } = opts;
  const templates = new Map(repositories.map((r) => [r.name, r.sourceUrl]));

  app.get<{ Params: { '*': string }; Querystring: ChangesQuerystring }>(
    '/-/changes/*',
    { schema: changesSchema },
    function changes(request, reply) {
      const name = request.params['*'];
      const q = request.query;
      const json = wantsJson(request, q.format);
      const extra = { arch: splitList(q.arch), repository: splitList(q.repository) };
      withLoadedMap(store, firstLoadTimeoutMs, reply, (map) => {
        if (!name || name.length > MAX_NAME || name.includes('/')) {
          const message = `${JSON.stringify(name.slice(0, 120))} is not a package name`;
          return send(reply, json, 404, { error: message }, () =>
            renderChangesError(name.slice(0, 120), { ok: false, status: 404, message }, extra),
          );
        }
        const bad = badQuery({ arch: q.arch, repository: q.repository }, scope);
        if (bad)
          return send(reply, json, 400, { error: bad }, () =>
            renderChangesError(name, { ok: false, status: 400, message: bad }, extra),
          );
        const result = changesBetween(
          { map, repositories, databases: (r) => secdb.databases(r), secdbConfigured: (r) => secdb.configured(r) },
          {
            name,
            from: q.from ?? '',
            to: q.to ?? '',
            ...(extra.arch.length && { arches: extra.arch }),
            ...(extra.repository.length && { repositories: extra.repository }),
          },
        );
        if (!result.ok)
          return send(
            reply,
            json,
            result.status,
            { error: result.message, ...(result.versions && { versions: result.versions }) },
            () => renderChangesError(name, result, extra),
          );
        send(reply, json, 200, result.changes, () => renderChangesPage(result.changes));
      });
    },
  );

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
