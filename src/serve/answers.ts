import type { FastifyReply, FastifyRequest } from 'fastify';
import { latestStable, RENOVATE_BODY_SCHEMA, toRenovateBody } from '../datasource/renovate-body.js';
import type { Release, ReleaseFilter, VersionMap } from '../index/version-map.js';
import { answer, type Answer } from './answer-cache.js';
import { normalizeFilter } from './query-filter.js';
import type { IndexNeeds, IndexStore } from './store.js';

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';

/** What Renovate (or a person) asks for: filters in the URL so a `defaultRegistryUrlTemplate` can carry them. */
export interface DatasourceQuery {
  /** Keep versions present on every one of these arches (`?arch=x86_64,aarch64` or repeated). */
  arch?: string[];
  /** Keep these repositories, by configured name. */
  repository?: string[];
  format?: 'json' | 'plain';
}

const list = { type: 'array', items: { type: 'string', maxLength: 1024 }, maxItems: 32 } as const;

/** Single values become one-element arrays (Fastify's Ajv coerces to arrays); commas are split later. */
export const datasourceQuerySchema = {
  type: 'object',
  properties: { arch: list, repository: list, format: { type: 'string', enum: ['json', 'plain'] } },
} as const;

const textSchema = { type: 'string' } as const;

/** What both package routes (`/<name>` and `/wildcardVersion/<pattern>`) take and answer. */
export const packageRouteSchema = {
  params: { type: 'object', properties: { '*': textSchema } },
  querystring: datasourceQuerySchema,
  response: { 200: { oneOf: [RENOVATE_BODY_SCHEMA, textSchema] }, 400: textSchema, 404: textSchema, 503: textSchema },
} as const;

export type AnswerMode = 'json' | 'plain' | 'latest';

/** The name or pattern a package route asks about and how to answer: `<target>/latest` is the newest stable version. */
export function targetOf(param: string, format: DatasourceQuery['format']): { target: string; mode: AnswerMode } {
  if (param.endsWith('/latest')) return { target: param.slice(0, -'/latest'.length), mode: 'latest' };
  return { target: param, mode: format ?? 'json' };
}

/** The part of the cache key the query decides. */
export function queryKey(q: DatasourceQuery): string {
  return `${q.format ?? ''}\u0000${normalizeFilter(q).key}`;
}

/** What the service is configured with: a query naming anything else is a mistake, answered 400. */
export interface QueryScope {
  /** APK arches of every configured repository (and of loaded bare indexes). */
  readonly arches: () => readonly string[];
  readonly repositories: readonly string[];
  /** `anyArch` setting: a query without `?arch=` answers versions from any arch, as before 0.2. */
  readonly anyArch: boolean;
}

/** `?arch=x86_64,aarch64` (or repeated) as a list: commas split, blanks dropped. */
function split(v: string[] | undefined): string[] {
  return (v ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The filter a query asks for. Without `?arch=`, only versions present on every arch where their repository
 * holds the package (so an unchanged `/{{packageName}}` URL is safe for a multi-arch image), unless `anyArch`.
 */
export function filterOf(q: DatasourceQuery, scope: Pick<QueryScope, 'anyArch'>): ReleaseFilter {
  // Normalised (sorted, each value once): see normalizeFilter.
  const { arches, repositories } = normalizeFilter(q).filter;
  const filter: ReleaseFilter = {};
  if (arches) filter.arches = arches;
  else if (!scope.anyArch) filter.everyArchHolding = true;
  if (repositories) filter.repositories = repositories;
  return filter;
}

/** Names other tools use for APK arches (apko, Docker, Go); `?arch=` takes APK's. */
const OTHER_ARCH_NAMES: Readonly<Record<string, string>> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  '386': 'x86',
  i386: 'x86',
  i686: 'x86',
  'arm/v7': 'armv7',
  'arm/v6': 'armhf',
  arm: 'armv7',
  loong64: 'loongarch64',
  x64: 'x86_64',
};

/**
 * Why a query's filters cannot be answered, or undefined when they can: an arch or repository the service is not
 * configured with. That is the asker's mistake (400), not a missing package (404), so Renovate reports it.
 */
export function badQuery(q: DatasourceQuery, scope: QueryScope): string | undefined {
  const arches = scope.arches();
  for (const arch of split(q.arch)) {
    if (arches.includes(arch)) continue;
    const apk = OTHER_ARCH_NAMES[arch.toLowerCase()];
    const shown = listed([arch]);
    if (apk)
      return `?arch=${shown}: ${shown} is apko's name; use ${apk}${arches.includes(apk) ? '' : ` (not configured here either; configured: ${arches.join(', ')})`}`;
    return `?arch=${shown}: not a configured arch; use one of ${arches.join(', ')}`;
  }
  for (const repository of split(q.repository)) {
    if (scope.repositories.includes(repository)) continue;
    return `?repository=${listed([repository])}: not a configured repository; use one of ${scope.repositories.join(', ')}`;
  }
  return undefined;
}

export function badRequest(text: string): Answer {
  return answer(400, TEXT, `${text}\n`);
}

/** Names are echoed in one-line answers; a hostile one is cut short and quoted (no newlines). */
export function quoted(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}...` : name);
}

/** Filter values echoed in one-line answers: a query can carry kilobytes of them, so the list is cut short too. */
export function listed(values: readonly string[]): string {
  const text = values.join(',');
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text).slice(1, -1);
}

export function notFound(text: string): Answer {
  return answer(404, TEXT, `${text}\n`);
}

/**
 * The answer for releases of one name (or merged names): Renovate JSON, plain versions, or the newest stable
 * version (`latest`). Unknown and filtered-out names are 404 with one line saying which.
 */
export function renderReleases(
  what: string,
  releases: Release[] | undefined,
  filter: ReleaseFilter,
  mode: AnswerMode,
  changelogUrl?: string,
): Answer {
  if (!releases) {
    const where = filter.repositories ? `repositories ${listed(filter.repositories)}` : 'any configured index';
    return notFound(`${what} is not in ${where}`);
  }
  if (releases.length === 0) {
    return notFound(
      filter.arches
        ? `${what} has no version present on every requested arch (${listed(filter.arches)})`
        : `${what} has no version present on every arch that holds it`,
    );
  }
  if (mode === 'latest') {
    const latest = latestStable(releases);
    return latest
      ? answer(200, TEXT, `${latest.version}\n`)
      : notFound(`${what} has only pre-release versions; see ?format=plain`);
  }
  if (mode === 'plain') return answer(200, TEXT, `${releases.map((r) => r.version).join('\n')}\n`);
  return answer(200, JSON_TYPE, JSON.stringify(toRenovateBody(releases, changelogUrl)));
}

/** Sends an answer with its ETag; a 200 whose ETag the client holds becomes a 304 (weak comparison, `*`). */
export function sendAnswer(request: FastifyRequest, reply: FastifyReply, a: Answer): void {
  const inm = request.headers['if-none-match'];
  if (a.status === 200 && inm !== undefined && matchesEtag(inm, a.etag)) {
    void reply.code(304).headers({ etag: a.etag, 'cache-control': 'no-cache' }).send();
    return;
  }
  void reply
    .code(a.status)
    .headers({ 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
    .send(a.body);
}

function matchesEtag(header: string, etag: string): boolean {
  if (header === etag) return true;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * Runs `then` with the current map once every index that could change the answer has loaded (see
 * `IndexStore.missingFor`: an index of another repository than the one asked for, or of an arch the query
 * excludes, cannot). Never a false 404: before that, a query waits up to `timeoutMs` for those first loads and
 * then answers 503 with Retry-After (at once when each one missing has failed for a reason a retry will not soon
 * fix). Synchronous when loaded, which is every query after the first seconds.
 */
export function withLoadedMap(
  store: IndexStore,
  timeoutMs: number,
  reply: FastifyReply,
  then: (map: VersionMap) => void,
  needs?: IndexNeeds,
): void {
  if (store.loaded || store.missingFor(needs) === 0) return then(store.map);
  store
    .whenLoadedFor(needs ?? {}, timeoutMs)
    .then((ready) => {
      if (ready) return then(store.map);
      const { loaded, total } = store.progress;
      // Released by a shutdown: this connection is about to close, so say so rather than offer keep-alive.
      if (store.stopping) void reply.header('connection', 'close');
      void reply
        .code(503)
        .headers({ 'content-type': TEXT, 'retry-after': '5', 'cache-control': 'no-store' })
        .send(`indexes are still loading (${loaded} of ${total} loaded); retry shortly\n`);
    })
    .catch((err: unknown) => void reply.send(err));
}
