import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatDuration } from '../../config/duration.js';
import { TEXT } from '../answers.js';
import type { IndexStore } from '../store.js';

const optionalString = { type: 'string' } as const;
const timestamp = { type: 'string', format: 'date-time' } as const;

const indexStatusSchema = {
  type: 'object',
  required: ['url', 'repository', 'consecutiveFailures'],
  properties: {
    url: { type: 'string' },
    arch: optionalString,
    repository: { type: 'string' },
    aliases: { type: 'array', items: { type: 'string' } },
    records: { type: 'integer' },
    skippedVersions: { type: 'integer' },
    description: optionalString,
    verifiedBy: optionalString,
    etag: optionalString,
    lastModified: optionalString,
    lastSuccess: timestamp,
    lastChange: timestamp,
    lastError: {
      type: 'object',
      required: ['message', 'reason', 'at'],
      properties: { message: { type: 'string' }, reason: { type: 'string' }, at: timestamp },
    },
    consecutiveFailures: { type: 'integer' },
    nextRefresh: timestamp,
    holdsReadiness: { type: 'boolean' },
  },
} as const;

const statusSchema = {
  type: 'object',
  required: ['ready', 'generation', 'indexes'],
  properties: {
    ready: { type: 'boolean' },
    generation: { type: 'integer' },
    waitingFor: { type: 'array', items: { type: 'string' } },
    indexes: { type: 'array', items: indexStatusSchema },
  },
} as const;

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
  opts: { store: IndexStore; refreshToken: string | undefined; minIntervalMs: number },
): Promise<void> {
  const { store, minIntervalMs } = opts;
  // Any content type, empty or not: the body is never read, so no client gets 415 before its token is checked.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REFRESH_BODY }, (_request, _body, done) =>
    done(null, undefined),
  );
  let lastForced = -Infinity;
  const status = () => ({
    ready: store.ready,
    generation: store.map.generation,
    waitingFor: store.waitingFor,
    indexes: store.status(),
  });
  // Tokens are compared as digests: equal length for timingSafeEqual, and no early exit on the first wrong byte.
  const wanted = opts.refreshToken === undefined ? undefined : digest(opts.refreshToken);
  const authorized = (request: FastifyRequest) => {
    if (!wanted) return true;
    const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    return given !== undefined && timingSafeEqual(digest(given), wanted);
  };

  app.get('/-/status', { schema: { response: { 200: statusSchema } } }, async () => status());

  app.post(
    '/-/refresh',
    { schema: { response: { 200: statusSchema, 401: { type: 'string' }, 429: { type: 'string' } } } },
    async (request, reply) => {
      if (!authorized(request)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .type(TEXT)
          .send('POST /-/refresh needs "Authorization: Bearer <refreshToken>"\n');
      }
      if (!wanted && minIntervalMs > 0) {
        const waitMs = lastForced + minIntervalMs - performance.now();
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          return reply
            .code(429)
            .headers({ 'retry-after': String(seconds), 'content-type': TEXT })
            .send(
              `POST /-/refresh: at most one forced refresh per refreshMinInterval (${formatDuration(minIntervalMs)}) without a refreshToken; retry in ${seconds}s\n`,
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
      void reply.code(405).headers({ allow: 'POST', 'content-type': TEXT }).send('/-/refresh takes POST\n'),
  });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
