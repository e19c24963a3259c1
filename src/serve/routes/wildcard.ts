import type { FastifyInstance } from 'fastify';
import { releaseFilter } from '../../datasource/filter.js';
import { changelogTemplate } from '../../datasource/renovate-body.js';
import { compareVersions } from '../../index/version.js';
import type { Release, ReleaseFilter, VersionMap } from '../../index/version-map.js';
import type { Answer, AnswerCache } from '../answer-cache.js';
import {
  answerPackage,
  cachedAnswers,
  isPackageName,
  packageRouteSchema,
  quoted,
  rejected,
  renderReleases,
  sendAnswer,
  sendText,
  targetOf,
  textAnswer,
  withLoadedMap,
  type AnswerMode,
  type DatasourceQuery,
} from '../answers.js';
import { isRejection, listed, outOfScope, readFilters, type QueryScope } from '../query-filter.js';
import type { IndexStore } from '../store.js';
import { ScanGate, slices } from '../scan-gate.js';
import { isWildcardPattern, wildcardMatcher } from '../wildcard.js';

/** Distinct pattern scans computed at once; more get 503 with Retry-After (identical ones share a scan). */
const MAX_CONCURRENT_SCANS = 2;

/**
 * hown3d/renovate-apk-indexer's `GET /wildcardVersion/<pattern>`: the releases of every name the pattern matches,
 * merged, each version once, in apk order. A pattern without `*` is the plain name (as in hown3d), so a
 * `defaultRegistryUrlTemplate` pointing here serves every package. Same filters and formats as `/<name>`.
 */
export async function wildcardRoutes(
  app: FastifyInstance,
  opts: {
    store: IndexStore;
    cache: AnswerCache;
    firstLoadTimeoutMs: number;
    scope: QueryScope;
    publicUrl?: string | undefined;
  },
): Promise<void> {
  const { store, cache, firstLoadTimeoutMs, scope, publicUrl } = opts;
  const scans = new ScanGate<Answer>(MAX_CONCURRENT_SCANS);
  app.get<{ Params: { '*': string }; Querystring: DatasourceQuery }>(
    '/wildcardVersion/*',
    { schema: packageRouteSchema, onRequest: cachedAnswers(store, cache) },
    function wildcardReleases(request, reply) {
      const { target: pattern, mode } = targetOf(request.params['*'], request.query.format);
      const filters = readFilters(request.query);
      if (isRejection(filters)) return sendAnswer(request, reply, rejected(filters));
      withLoadedMap(
        store,
        firstLoadTimeoutMs,
        reply,
        (map) => {
          const bad = outOfScope(filters, scope.configured(map));
          if (bad) return sendAnswer(request, reply, rejected(bad));
          const filter = releaseFilter(filters, scope);
          // A plain name or a refused pattern is as cheap to answer again as a `/<name>` miss, and a flood of
          // those must not push the real answers out: its misses are not kept.
          if (!isScan(pattern)) {
            const a = answerPattern(map, pattern, filter, mode, publicUrl);
            cache.put(map.generation, request.raw.url ?? '', a);
            return sendAnswer(request, reply, a);
          }
          // A scan's answers are kept under the normalised query, misses too, so that every spelling of one
          // query shares one entry and one scan. A new one runs beside at most MAX_CONCURRENT_SCANS others.
          const key = `\u0000wildcard\u0000${mode}\u0000${pattern}\u0000${filters.key}`;
          const hit = cache.peek(map.generation, key);
          if (hit) return sendAnswer(request, reply, hit);
          const scan = scans.run(`${map.generation}\u0000${key}`, () => scanPattern(map, pattern, filter, mode));
          if (!scan) {
            sendText(reply, 503, 'busy', `${scans.active} pattern scans are running; retry shortly`, {
              'retry-after': '1',
              'cache-control': 'no-store',
            });
            return;
          }
          scan.then(
            (a) => {
              cache.put(map.generation, key, a, true);
              sendAnswer(request, reply, a);
            },
            (err: unknown) => void reply.send(err),
          );
        },
        filters,
      );
    },
  );
}

/** Whether answering `pattern` scans every name: a well-formed pattern, not a plain name or a refused one. */
function isScan(pattern: string): boolean {
  return isPackageName(pattern) && isWildcardPattern(pattern);
}

/** A refused pattern or a plain name (no star): answered at once. */
function answerPattern(
  map: VersionMap,
  pattern: string,
  filter: ReleaseFilter,
  mode: AnswerMode,
  publicUrl: string | undefined,
): Answer {
  if (!isPackageName(pattern)) return textAnswer(404, 'not-a-name', `pattern ${quoted(pattern)} is not a package name`);
  // A plain name is `/<name>`, with its link to its changes; a pattern's merged versions belong to several names.
  if (!pattern.includes('*')) return answerPackage(map, pattern, filter, mode, changelogTemplate(publicUrl, filter));
  return textAnswer(
    404,
    'bad-pattern',
    `pattern ${quoted(pattern)} needs exactly one * after a name, e.g. argo-cd-* or argo-cd-*-compat`,
  );
}

/**
 * The merged releases of every name the pattern matches. Only names sharing the pattern's prefix are looked at
 * (the names are sorted, so they are one run found by binary search), and the scan yields to the event loop as
 * it goes.
 */
async function scanPattern(map: VersionMap, pattern: string, filter: ReleaseFilter, mode: AnswerMode): Promise<Answer> {
  const matches = wildcardMatcher(pattern)!;
  const merged = new Map<string, Release>();
  let known = false;
  await slices(withPrefix(map.names(), pattern.slice(0, pattern.indexOf('*')).replace(/-$/, '')), (name) => {
    if (!matches(name)) return;
    const releases = map.releases(name, filter);
    if (!releases) return;
    known = true;
    for (const r of releases) if (!merged.has(r.version)) merged.set(r.version, r);
  });
  if (!known)
    return textAnswer(
      404,
      'no-match',
      `pattern ${quoted(pattern)} matches no package in ${filter.repositories ? `repositories ${listed(filter.repositories)}` : 'any configured index'}`,
    );
  const releases = [...merged.values()].sort((x, y) => compareVersions(x.version, y.version));
  return renderReleases(`pattern ${quoted(pattern)}`, releases, filter, mode);
}

/** The names starting with `prefix`, from a sorted list. */
function* withPrefix(names: readonly string[], prefix: string): Generator<string> {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < names.length && names[i]!.startsWith(prefix); i++) yield names[i]!;
}
