import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
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
  },
} as const;

const statusSchema = {
  type: 'object',
  required: ['ready', 'generation', 'indexes'],
  properties: { ready: { type: 'boolean' }, generation: { type: 'integer' }, indexes: { type: 'array', items: indexStatusSchema } },
} as const;

/**
 * Operator routes under `/-/` (no APK name starts with `-`): `GET /-/status` shows every index; `POST /-/refresh`
 * refreshes them all now and answers the status once done. With a refresh token set, the refresh needs it.
 */
export async function adminRoutes(app: FastifyInstance, opts: { store: IndexStore; refreshToken: string | undefined }): Promise<void> {
  const { store } = opts;
  const status = () => ({ ready: store.ready, generation: store.map.generation, indexes: store.status() });
  // Tokens are compared as digests: equal length for timingSafeEqual, and no early exit on the first wrong byte.
  const wanted = opts.refreshToken === undefined ? undefined : digest(opts.refreshToken);
  const authorized = (request: FastifyRequest) => {
    if (!wanted) return true;
    const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    return given !== undefined && timingSafeEqual(digest(given), wanted);
  };

  app.get('/-/status', { schema: { response: { 200: statusSchema } } }, async () => status());

  app.post('/-/refresh', { schema: { response: { 200: statusSchema, 401: { type: 'string' } } } }, async (request, reply) => {
    if (!authorized(request)) {
      return reply.code(401).header('www-authenticate', 'Bearer').type(TEXT).send('POST /-/refresh needs "Authorization: Bearer <refreshToken>"\n');
    }
    await store.refreshAll();
    return status();
  });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
