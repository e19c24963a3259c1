/** Why reading an index failed; used as a metrics label and in logs. */
export type IndexErrorReason =
  | 'network'
  | 'http-status'
  | 'gzip'
  | 'tar'
  | 'format'
  | 'signature'
  | 'limit'
  | 'key';

/** An index could not be read or verified. The message names the source and what was wrong. */
export class IndexError extends Error {
  override readonly name = 'IndexError';
  /** Set when an error answer carried Retry-After (capped at 24h): the next attempt waits at least this long. */
  retryAfterMs?: number;
  /** The upstream's status, for `http-status`: a 5xx, 408 or 429 is worth waiting for, a 404 is not. */
  httpStatus?: number;
  constructor(
    readonly source: string,
    readonly reason: IndexErrorReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${detail}`, options);
  }
}
