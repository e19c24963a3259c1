import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatDuration } from '../../config/duration.js';
import type { RepositorySettings } from '../../config/settings.js';
import { STATUS_JSON_SCHEMA } from '../../datasource/status.js';
import { sendText } from '../answers.js';
import { serviceStatus } from '../status.js';
import type { IndexStore } from '../store.js';

const textSchema = { type: 'string' } as const;

/** A refresh request carries nothing; whatever body a client sends (`curl -d ''`, `wget --post-data`) is ignored. */
const MAX_REFRESH_BODY = 1024;

/**
 * Operator routes under `/-/` (no APK name starts with `-`): `GET /-/status` shows every index; `POST /-/refresh`
 * refreshes them all now and answers the status once done. With a refresh token set, the refresh needs it;
 * without one, forced refreshes are at least `minIntervalMs` apart (sooner ones get 429 with Retry-After), so
 * whoever reaches the service cannot make it download every index over and over.
 */
export async function adminRoutes(
  app: FastifyInstance,
  opts: {
    store: IndexStore;
    repositories: readonly RepositorySettings[];
    refreshToken: string | undefined;
    minIntervalMs: number;
  },
): Promise<void> {
  const { store, minIntervalMs } = opts;
  // Any content type, empty or not: the body is never read, so no client gets 415 before its token is checked.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REFRESH_BODY }, (_request, _body, done) =>
    done(null, undefined),
  );
  let lastForced = -Infinity;
  const status = () => serviceStatus(store, opts.repositories);
  // Tokens are compared as digests: equal length for timingSafeEqual, and no early exit on the first wrong byte.
  const wanted = opts.refreshToken === undefined ? undefined : digest(opts.refreshToken);
  const authorized = (request: FastifyRequest) => {
    if (!wanted) return true;
    const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    return given !== undefined && timingSafeEqual(digest(given), wanted);
  };

  app.get('/-/status', { schema: { response: { 200: STATUS_JSON_SCHEMA } } }, async () => status());

  app.post(
    '/-/refresh',
    { schema: { response: { 200: STATUS_JSON_SCHEMA, 401: textSchema, 429: textSchema } } },
    async (request, reply) => {
      if (!authorized(request))
        return sendText(reply, 401, 'unauthorized', 'POST /-/refresh needs "Authorization: Bearer <refreshToken>"', {
          'www-authenticate': 'Bearer',
        });
      if (!wanted && minIntervalMs > 0) {
        const waitMs = lastForced + minIntervalMs - performance.now();
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          return sendText(
            reply,
            429,
            'too-soon',
            `POST /-/refresh: at most one forced refresh per refreshMinInterval (${formatDuration(minIntervalMs)}) without a refreshToken; retry in ${seconds}s`,
            { 'retry-after': String(seconds) },
          );
        }
        lastForced = performance.now();
      }
      await store.refreshAll();
      return status();
    },
  );

  // Any other method: 405 naming the one that works, not a package lookup of "-/refresh".
  app.route({
    method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/-/refresh',
    handler: (_request, reply) =>
      sendText(reply, 405, 'method-not-allowed', '/-/refresh takes POST', { allow: 'POST' }),
  });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
