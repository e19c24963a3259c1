import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { changesBetween } from '../../changes/changes.js';
import type { RepositorySettings } from '../../config/settings.js';
import { REASON_HEADER, type Reason } from '../../datasource/reasons.js';
import { isPackageName, JSON_TYPE, withLoadedMap } from '../answers.js';
import { renderChangesError, renderChangesPage } from '../html/changes-page.js';
import { HTML_HEADERS } from '../html/page.js';
import { isRejection, outOfScope, readFilters, type QueryScope } from '../query-filter.js';
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

/** JSON when asked for by `?format=json` or an Accept header that prefers it over HTML. */
function wantsJson(request: FastifyRequest, format: string | undefined): boolean {
  if (format) return format === 'json';
  const accept = request.headers.accept ?? '';
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

/** A page or its JSON; anything but a 200 carries its reason code (in the header, and in the JSON). */
function send(
  reply: FastifyReply,
  json: boolean,
  status: number,
  reason: Reason | undefined,
  data: unknown,
  html: () => string,
): void {
  if (reason) void reply.header(REASON_HEADER, reason);
  if (json)
    void reply
      .code(status)
      .headers({ 'content-type': JSON_TYPE, 'cache-control': 'no-cache' })
      .send(JSON.stringify(data));
  else void reply.code(status).headers(HTML_HEADERS).send(html());
}

/**
 * `GET /-/changes/<name>?from=A&to=B`: what an update brings (the builds between the versions per arch, their
 * recipe commits, the security fixes), linked from every datasource answer's changelogUrl.
 */
export async function changesRoutes(app: FastifyInstance, opts: ChangesRouteOptions): Promise<void> {
  const { store, secdb, repositories, firstLoadTimeoutMs, scope } = opts;

  app.get<{ Params: { '*': string }; Querystring: ChangesQuerystring }>(
    '/-/changes/*',
    { schema: changesSchema },
    function changes(request, reply) {
      const name = request.params['*'];
      const q = request.query;
      const json = wantsJson(request, q.format);
      const filters = readFilters(q);
      const extra = isRejection(filters) ? {} : { arch: filters.arches, repository: filters.repositories };
      const fail = (status: 400 | 404, reason: Reason, message: string, shown = name) =>
        send(reply, json, status, reason, { error: message, reason }, () =>
          renderChangesError(shown, { status, message }, extra),
        );
      if (isRejection(filters)) return fail(400, filters.reason, filters.message);
      withLoadedMap(
        store,
        firstLoadTimeoutMs,
        reply,
        (map) => {
          if (!isPackageName(name))
            return fail(
              404,
              'not-a-name',
              `${JSON.stringify(name.slice(0, 120))} is not a package name`,
              name.slice(0, 120),
            );
          const bad = outOfScope(filters, scope.configured(map));
          if (bad) return fail(400, bad.reason, bad.message);
          const result = changesBetween(
            { map, repositories, databases: (r) => secdb.databases(r), secdbConfigured: (r) => secdb.configured(r) },
            {
              name,
              from: q.from ?? '',
              to: q.to ?? '',
              ...(filters.arches && { arches: filters.arches }),
              ...(filters.repositories && { repositories: filters.repositories }),
            },
          );
          if (!result.ok)
            return send(
              reply,
              json,
              result.status,
              result.reason,
              { error: result.message, reason: result.reason, ...(result.versions && { versions: result.versions }) },
              () => renderChangesError(name, result, extra),
            );
          send(reply, json, 200, undefined, result.changes, () => renderChangesPage(result.changes));
        },
        filters,
      );
    },
  );
}
