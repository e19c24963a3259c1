/** Why reading an index failed; used as a metrics label and in logs. */
export type IndexErrorReason =
  | 'network'
  | 'http-status'
  | 'gzip'
  | 'tar'
  | 'format'
  | 'signature'
  | 'limit'
  | 'key'
  /** A bug in this tool (a TypeError and the like), not the upstream's fault: its stack is logged at error level. */
  | 'internal';

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

/**
 * A programming error rather than bad input or a failing upstream: JavaScript's own error types (TypeError,
 * RangeError, ReferenceError, SyntaxError, EvalError, URIError). Readers pass these on as they are, so a bug is
 * reported as `internal` instead of being disguised as a network failure.
 */
export function isBug(err: unknown): err is Error {
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError ||
    err instanceof EvalError ||
    err instanceof URIError
  );
}
