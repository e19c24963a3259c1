import type { FastifyInstance } from 'fastify';
import { RENOVATE_BODY_SCHEMA } from '../../datasource/renovate-body.js';
import { compareVersions } from '../../index/version.js';
import type { Release, ReleaseFilter, VersionMap } from '../../index/version-map.js';
import type { Answer, AnswerCache } from '../answer-cache.js';
import { datasourceQuerySchema, filterOf, listed, notFound, queryKey, quoted, renderReleases, sendAnswer, withLoadedMap, type DatasourceQuery } from '../answers.js';
import type { IndexStore } from '../store.js';
import { wildcardMatcher } from '../wildcard.js';

const MAX_PATTERN = 1024;
const textSchema = { type: 'string' } as const;

/**
 * hown3d/renovate-apk-indexer's `GET /wildcardVersion/<pattern>`: the releases of every name the pattern matches,
 * merged, each version once, in apk order. A pattern without `*` is the plain name (as in hown3d), so a
 * `defaultRegistryUrlTemplate` pointing here serves every package. Same filters and formats as `/<name>`.
 */
export async function wildcardRoutes(app: FastifyInstance, opts: { store: IndexStore; cache: AnswerCache; firstLoadTimeoutMs: number }): Promise<void> {
  const { store, cache, firstLoadTimeoutMs } = opts;
  app.get<{ Params: { '*': string }; Querystring: DatasourceQuery }>(
    '/wildcardVersion/*',
    {
      schema: {
        params: { type: 'object', properties: { '*': { type: 'string' } } },
        querystring: datasourceQuerySchema,
        response: { 200: { oneOf: [RENOVATE_BODY_SCHEMA, textSchema] }, 404: textSchema, 503: textSchema },
      },
    },
    function wildcardReleases(request, reply) {
      let pattern = request.params['*'];
      let mode: 'json' | 'plain' | 'latest' = request.query.format ?? 'json';
      if (pattern.endsWith('/latest')) {
        pattern = pattern.slice(0, -'/latest'.length);
        mode = 'latest';
      }
      withLoadedMap(store, firstLoadTimeoutMs, reply, (map) => {
        const key = `wildcard\u0000${mode}\u0000${pattern}\u0000${queryKey(request.query)}`;
        // Scans every name, so misses are kept too.
        const a = cache.get(map.generation, key, () => answerPattern(map, pattern, filterOf(request.query), mode), true);
        sendAnswer(request, reply, a);
      });
    },
  );
}

function answerPattern(map: VersionMap, pattern: string, filter: ReleaseFilter, mode: 'json' | 'plain' | 'latest'): Answer {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN || pattern.includes('/')) return notFound(`pattern ${quoted(pattern)} is not a package name`);
  if (!pattern.includes('*')) return renderReleases(`package ${quoted(pattern)}`, map.releases(pattern, filter), filter, mode);
  const matches = wildcardMatcher(pattern);
  if (!matches) return notFound(`pattern ${quoted(pattern)} needs exactly one * after a name, e.g. argo-cd-* or argo-cd-*-compat`);
  const merged = new Map<string, Release>();
  let known = false;
  for (const name of map.names()) {
    if (!matches(name)) continue;
    const releases = map.releases(name, filter);
    if (!releases) continue;
    known = true;
    for (const r of releases) if (!merged.has(r.version)) merged.set(r.version, r);
  }
  if (!known) return notFound(`pattern ${quoted(pattern)} matches no package in ${filter.repositories ? `repositories ${listed(filter.repositories)}` : 'any configured index'}`);
  const releases = [...merged.values()].sort((x, y) => compareVersions(x.version, y.version));
  return renderReleases(`pattern ${quoted(pattern)}`, releases, filter, mode);
}
