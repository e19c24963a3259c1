import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { escapeControl } from '../core/escape.js';
import { latestStable, RENOVATE_BODY_JSON_SCHEMA, toRenovateBody } from '../datasource/renovate-body.js';
import { REASON_HEADER, type Reason } from '../datasource/reasons.js';
import type { Release, ReleaseFilter, VersionMap } from '../index/version-map.js';
import { answer, type Answer, type AnswerCache } from './answer-cache.js';
import { listed, type FilterQuery, type Rejection } from './query-filter.js';
import type { IndexNeeds, IndexStore } from './store.js';

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';

/** What Renovate (or a person) asks for: filters in the URL so a `defaultRegistryUrlTemplate` can carry them. */
export interface DatasourceQuery extends FilterQuery {
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
  response: {
    200: { oneOf: [RENOVATE_BODY_JSON_SCHEMA, textSchema] },
    400: textSchema,
    404: textSchema,
    503: textSchema,
  },
};

export type AnswerMode = 'json' | 'plain' | 'latest';

/** The name or pattern a package route asks about and how to answer: `<target>/latest` is the newest stable version. */
export function targetOf(param: string, format: DatasourceQuery['format']): { target: string; mode: AnswerMode } {
  if (param.endsWith('/latest')) return { target: param.slice(0, -'/latest'.length), mode: 'latest' };
  return { target: param, mode: format ?? 'json' };
}

/** A one-line text answer that is not a 200: its reason code goes in the header. */
export function textAnswer(status: number, reason: Reason, text: string): Answer {
  return answer(status, TEXT, `${text}\n`, reason);
}

/** A query the service cannot answer as asked (query-filter.ts): 400 with its reason. */
export function rejected(r: Rejection): Answer {
  return textAnswer(400, r.reason, r.message);
}

/** Longer names are not looked up (APK names are short). */
const MAX_NAME = 1024;

/** What can be a package name (or a pattern of names): not empty, no `/` (a path), not kilobytes long. */
export function isPackageName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME && !name.includes('/');
}

/**
 * Names are echoed in one-line answers; a hostile one is cut short and quoted (JSON escapes, no newlines), and the
 * control characters JSON leaves as they are (DEL, C1) escaped too.
 */
export function quoted(name: string): string {
  return escapeControl(JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}...` : name));
}

/**
 * The answer for releases of one name (or merged names): Renovate JSON, plain versions, or the newest stable
 * version (`latest`). Unknown and filtered-out names are 404 with one line saying which, and a reason code.
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
    return textAnswer(404, 'unknown-package', `${what} is not in ${where}`);
  }
  if (releases.length === 0) {
    return textAnswer(
      404,
      'no-common-version',
      filter.arches
        ? `${what} has no version present on every requested arch (${listed(filter.arches)})`
        : `${what} has no version present on every arch that holds it`,
    );
  }
  if (mode === 'latest') {
    const latest = latestStable(releases);
    return latest
      ? answer(200, TEXT, `${escapeControl(latest.version)}\n`)
      : textAnswer(404, 'only-prereleases', `${what} has only pre-release versions; see ?format=plain`);
  }
  // Text for terminals (`curl`, scripts): upstream bytes never reach one raw.
  if (mode === 'plain') return answer(200, TEXT, `${releases.map((r) => escapeControl(r.version)).join('\n')}\n`);
  return answer(200, JSON_TYPE, JSON.stringify(toRenovateBody(releases, changelogUrl)));
}

/** What `GET /<name>` answers (in `mode`, under `filter`): the name's releases, or a 404 saying why there are none. */
export function answerPackage(
  map: VersionMap,
  name: string,
  filter: ReleaseFilter,
  mode: AnswerMode,
  changelogUrl?: string,
): Answer {
  if (!isPackageName(name)) return textAnswer(404, 'not-a-name', `${quoted(name)} is not a package name`);
  return renderReleases(`package ${quoted(name)}`, map.releases(name, filter), filter, mode, changelogUrl);
}

const NOT_MODIFIED_HEADERS = { 'cache-control': 'no-cache', [REASON_HEADER]: 'not-modified' } as const;

/**
 * Sends an answer with its ETag; a 200 whose ETag the client holds becomes a 304 (weak comparison, `*`).
 *
 * The answer is written to Node's response directly (`hijack`): its headers and body are made once, and Fastify's
 * send path (header object, payload checks, onSend hooks, which no package route has) cost more per request than
 * the whole write. The onResponse hooks still run when the response finishes, so it is counted and logged as any
 * other; headers Fastify set on the raw response before (`connection: close` while draining) are kept.
 */
export function sendAnswer(request: FastifyRequest, reply: FastifyReply, a: Answer): void {
  const inm = request.headers['if-none-match'];
  if (a.status === 200 && inm !== undefined && matchesEtag(inm, a.etag)) {
    void reply.code(304).headers(NOT_MODIFIED_HEADERS).header('etag', a.etag).send();
    return;
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(a.status, a.head as string[]);
  // A HEAD request gets the headers alone: Node writes no body for it.
  if (typeof a.body === 'string') res.end(a.body, a.encoding);
  else res.end(a.body);
}

/**
 * Answers a request the cache holds for this generation under its raw URL, before its query is parsed into a
 * filter, validated or normalised: after the first ask, a package route costs a lookup and a send. On a miss the
 * route's handler runs and caches what it computes under the same URL.
 */
export function cachedAnswers(store: IndexStore, cache: AnswerCache): onRequestHookHandler {
  return function cachedAnswer(request, reply, done) {
    const hit = cache.peek(store.map.generation, request.raw.url ?? '');
    if (hit === undefined) return done();
    sendAnswer(request, reply, hit);
  };
}

function matchesEtag(header: string, etag: string): boolean {
  if (header === etag) return true;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/** A one-line text answer sent once, not cached (503s, 401s): its reason code in the header. */
export function sendText(
  reply: FastifyReply,
  status: number,
  reason: Reason,
  text: string,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(status)
    .headers({ 'content-type': TEXT, ...headers, [REASON_HEADER]: reason })
    .send(`${text}\n`);
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
      sendText(reply, 503, 'loading', `indexes are still loading (${loaded} of ${total} loaded); retry shortly`, {
        'retry-after': '5',
        'cache-control': 'no-store',
      });
    })
    .catch((err: unknown) => void reply.send(err));
}
