import { z } from 'zod';

/**
 * The header on every answer of the service other than a 200: a stable code that machines read, where the body is
 * one line for people (and may be reworded). `pin`/`check --server` and scripts match on the code, never the text.
 */
export const REASON_HEADER = 'apk-indexer-reason';

/**
 * Every reason code, with the status it comes with; docs/configuration.md lists them. Codes are added, never
 * renamed.
 */
export const REASONS = {
  'not-modified': { status: 304, what: 'the answer has not changed: the ETag in `If-None-Match` is its own' },
  'bad-request': {
    status: 400,
    what: 'the request cannot be read: bad percent-encoding, a query parameter with a value it cannot take, a body too large',
  },
  'unknown-arch': {
    status: 400,
    what: '`?arch=` names an arch the service has no index for (or names it as apko and Docker do, amd64 for x86_64)',
  },
  'unknown-repository': { status: 400, what: '`?repository=` names a repository the service is not configured with' },
  'too-many-values': { status: 400, what: '`?arch=` or `?repository=` names more than 32 distinct values' },
  'missing-version': { status: 400, what: 'a changes page without `?from=` or `?to=`' },
  'bad-version': { status: 400, what: 'a changes page whose `?from=` or `?to=` is not an apk version' },
  'versions-reversed': { status: 400, what: 'a changes page whose `?from=` is newer than its `?to=`' },
  unauthorized: { status: 401, what: '`POST /-/refresh` without the refresh token' },
  'no-route': { status: 404, what: 'no route answers this method and path' },
  'not-a-name': { status: 404, what: 'the path cannot be a package name (empty, a `/` in it, longer than 1,024)' },
  'unknown-package': { status: 404, what: 'no index (of the repositories asked for) holds the package' },
  'no-common-version': {
    status: 404,
    what: 'the package is known, but no version of it is on every arch asked for (without `?arch=`: on every arch that holds it)',
  },
  'only-prereleases': { status: 404, what: '`/<name>/latest` of a package with only pre-release versions' },
  'bad-pattern': { status: 404, what: 'a wildcard pattern that is not one `*` after a name' },
  'no-match': { status: 404, what: 'a wildcard pattern that matches no package' },
  'unknown-version': { status: 404, what: 'a changes page for a version no index holds' },
  'not-an-index': {
    status: 404,
    what: 'a `/-/apk/` path that is not `/-/apk/<repository>/<arch>/APKINDEX.tar.gz`',
  },
  'no-index-repository': {
    status: 404,
    what: '`/-/apk/<repository>/...` names a repository the service is not configured with',
  },
  'no-index-arch': {
    status: 404,
    what: '`/-/apk/<repository>/<arch>/...` names an arch the repository has no index for (nor `all`)',
  },
  'method-not-allowed': { status: 405, what: 'a method the route does not take (`/-/refresh` takes POST)' },
  'request-timeout': {
    status: 408,
    what: 'the request did not arrive whole within `clientTimeout`; the connection is closed',
  },
  'too-soon': {
    status: 429,
    what: 'a forced refresh sooner than `refreshMinInterval` after the last (no refresh token)',
  },
  'headers-too-large': { status: 431, what: 'the request headers are larger than Node takes (16 KiB)' },
  internal: { status: 500, what: 'a bug in apk-indexer (logged with its stack)' },
  loading: {
    status: 503,
    what: 'an index that could change the answer has not loaded yet (after `firstLoadTimeout`); retry after `Retry-After`',
  },
  busy: { status: 503, what: 'too many wildcard scans are running; retry after `Retry-After`' },
  'not-ready': { status: 503, what: '`/readyz` while an index worth waiting for has not loaded' },
} as const satisfies Record<string, { status: number; what: string }>;

export type Reason = keyof typeof REASONS;

/** A reason header as the service's clients read it: a known code, or undefined (absent, or from a newer service). */
export const ReasonSchema = z.enum(Object.keys(REASONS) as [Reason, ...Reason[]]);

export function reasonOf(header: string | null | undefined): Reason | undefined {
  const parsed = ReasonSchema.safeParse(header);
  return parsed.success ? parsed.data : undefined;
}
