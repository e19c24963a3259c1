import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { latestStable, toRenovateBody } from '../../datasource/renovate-body.js';
import { compareVersions } from '../../index/version.js';
import type { Release, ReleaseFilter, VersionMap } from '../../index/version-map.js';
import { answer, type Answer, type AnswerCache } from '../answer-cache.js';
import type { IndexStore } from '../index-store.js';
import { wildcardMatcher } from '../wildcard.js';

interface Query {
  arch?: string;
  repository?: string;
  format?: 'json' | 'plain';
}

const querySchema = {
  type: 'object',
  properties: {
    arch: { type: 'string', maxLength: 512 },
    repository: { type: 'string', maxLength: 2048 },
    format: { type: 'string', enum: ['json', 'plain'] },
  },
} as const;

const MAX_NAME = 512;

/** Renovate's custom datasource: `GET /<name>`, `GET /<name>/latest`, `GET /wildcardVersion/<pattern>`. */
export async function packageRoutes(app: FastifyInstance, opts: { store: IndexStore; cache: AnswerCache; firstLoadTimeoutMs: number }) {
  const { store, cache } = opts;

  /** Never a false 404: before every index has loaded once, wait (bounded), then say 503. */
  async function currentMap(reply: FastifyReply): Promise<VersionMap | undefined> {
    if (store.ready || (await store.whenReady(opts.firstLoadTimeoutMs))) return store.map;
    void reply.code(503).header('retry-after', '10').type('text/plain; charset=utf-8').send('indexes are still loading; retry shortly\n');
    return undefined;
  }

  function send(request: FastifyRequest, reply: FastifyReply, a: Answer) {
    if (a.etag) {
      void reply.header('etag', a.etag).header('cache-control', 'no-cache');
      const inm = request.headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim() === a.etag || t.trim() === '*')) return reply.code(304).send();
    }
    return reply.code(a.status).type(a.type).send(a.body);
  }

  function filterOf(q: Query): ReleaseFilter {
    const split = (v?: string) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
    const f: ReleaseFilter = {};
    const arches = split(q.arch);
    const repositories = split(q.repository);
    if (arches?.length) f.arches = arches;
    if (repositories?.length) f.repositories = repositories;
    return f;
  }

  function render(name: string, releases: Release[] | undefined, q: Query, latestOnly: boolean): Answer {
    if (!releases || releases.length === 0) {
      const why = releases ? ` has no version present on every requested arch (${q.arch})` : ' is not in any configured index';
      return answer(404, 'text/plain; charset=utf-8', `package ${JSON.stringify(name)}${why}\n`);
    }
    if (latestOnly) return answer(200, 'text/plain; charset=utf-8', `${(latestStable(releases) ?? releases[releases.length - 1]!).version}\n`);
    if (q.format === 'plain') return answer(200, 'text/plain; charset=utf-8', releases.map((r) => r.version).join('\n') + '\n');
    return answer(200, 'application/json; charset=utf-8', JSON.stringify(toRenovateBody(releases)));
  }

  const cacheKey = (kind: string, name: string, q: Query) => `${kind}\u0000${name}\u0000${q.arch ?? ''}\u0000${q.repository ?? ''}\u0000${q.format ?? ''}`;

  app.get<{ Params: { '*': string }; Querystring: Query }>('/wildcardVersion/*', { schema: { querystring: querySchema } }, async (request, reply) => {
    const pattern = request.params['*'];
    const map = await currentMap(reply);
    if (!map) return reply;
    const a = cache.get(map.generation, cacheKey('wildcard', pattern, request.query), () => {
      const matches = pattern.length <= MAX_NAME ? wildcardMatcher(pattern) : undefined;
      if (!matches) return answer(404, 'text/plain; charset=utf-8', `pattern ${JSON.stringify(pattern.slice(0, 80))} needs exactly one * after a name\n`);
      const merged = new Map<string, Release>();
      for (const name of map.names()) {
        if (!matches(name)) continue;
        for (const r of map.releases(name, filterOf(request.query)) ?? []) if (!merged.has(r.version)) merged.set(r.version, r);
      }
      const releases = [...merged.values()].sort((x, y) => compareVersions(x.version, y.version));
      return render(pattern, merged.size ? releases : undefined, request.query, false);
    });
    return send(request, reply, a);
  });

  app.get<{ Params: { '*': string }; Querystring: Query }>('/*', { schema: { querystring: querySchema } }, async (request, reply) => {
    let name = request.params['*'];
    const latestOnly = name.endsWith('/latest');
    if (latestOnly) name = name.slice(0, -'/latest'.length);
    const map = await currentMap(reply);
    if (!map) return reply;
    const a = cache.get(map.generation, cacheKey(latestOnly ? 'latest' : 'package', name, request.query), () => {
      // Names are short words; anything else cannot be in an index and is answered without a lookup.
      const plausible = name.length > 0 && name.length <= MAX_NAME && !name.includes('/');
      return render(name, plausible ? map.releases(name, filterOf(request.query)) : undefined, request.query, latestOnly);
    });
    return send(request, reply, a);
  });
}
