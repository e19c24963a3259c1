import type { FastifyInstance } from 'fastify';
import { changelogTemplate } from '../../datasource/renovate-body.js';
import { compareVersions } from '../../index/version.js';
import type { Release, ReleaseFilter, VersionMap } from '../../index/version-map.js';
import type { Answer, AnswerCache } from '../answer-cache.js';
import {
  badQuery,
  badRequest,
  filterOf,
  listed,
  notFound,
  packageRouteSchema,
  queryKey,
  quoted,
  renderReleases,
  sendAnswer,
  targetOf,
  withLoadedMap,
  type AnswerMode,
  type DatasourceQuery,
  type QueryScope,
} from '../answers.js';
import type { IndexStore } from '../store.js';
import { isWildcardPattern, wildcardMatcher } from '../wildcard.js';

const MAX_PATTERN = 1024;

/**
 * hown3d/renovate-apk-indexer's `GET /wildcardVersion/<pattern>`: the releases of every name the pattern matches,
 * merged, each version once, in apk order. A pattern without `*` is the plain name (as in hown3d), so a
 * `defaultRegistryUrlTemplate` pointing here serves every package. Same filters and formats as `/<name>`.
 */
export async function wildcardRoutes(app: FastifyInstance, opts: { store: IndexStore; cache: AnswerCache; firstLoadTimeoutMs: number; scope: QueryScope; publicUrl?: string }): Promise<void> {
  const { store, cache, firstLoadTimeoutMs, scope, publicUrl } = opts;
  app.get<{ Params: { '*': string }; Querystring: DatasourceQuery }>(
    '/wildcardVersion/*',
    { schema: packageRouteSchema },
    function wildcardReleases(request, reply) {
      const { target: pattern, mode } = targetOf(request.params['*'], request.query.format);
      withLoadedMap(store, firstLoadTimeoutMs, reply, (map) => {
        const key = `wildcard\u0000${mode}\u0000${pattern}\u0000${queryKey(request.query)}`;
        // A pattern scans every name, so its misses are kept too; a plain name or a refused pattern is as cheap
        // to answer again as a `/<name>` miss, and a flood of those must not push the real answers out.
        const bad = badQuery(request.query, scope);
        if (bad) return sendAnswer(request, reply, badRequest(bad));
        const a = cache.get(map.generation, key, () => answerPattern(map, pattern, filterOf(request.query, scope), mode, publicUrl), isScan(pattern));
        sendAnswer(request, reply, a);
      });
    },
  );
}

function plausible(pattern: string): boolean {
  return pattern.length > 0 && pattern.length <= MAX_PATTERN && !pattern.includes('/');
}

/** Whether answering `pattern` scans every name: a well-formed pattern, not a plain name or a refused one. */
function isScan(pattern: string): boolean {
  return plausible(pattern) && isWildcardPattern(pattern);
}

function answerPattern(map: VersionMap, pattern: string, filter: ReleaseFilter, mode: AnswerMode, publicUrl: string | undefined): Answer {
  if (!plausible(pattern)) return notFound(`pattern ${quoted(pattern)} is not a package name`);
  // A plain name links to its changes; a pattern's merged versions belong to several names, so no link.
  if (!pattern.includes('*')) return renderReleases(`package ${quoted(pattern)}`, map.releases(pattern, filter), filter, mode, changelogTemplate(publicUrl, filter));
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
