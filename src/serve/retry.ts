/**
 * The refresh schedule's arithmetic: Node's timer cap and the exponential backoff after failures, honouring
 * Retry-After.
 */

/**
 * The longest delay a Node timer takes (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms instead, and
 * `AbortSignal.timeout` throws on one over 2^32-1. Every delay the refresher sets is capped to it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** The first wait after a failure; it doubles with each failure in a row, up to the refresh interval. */
export const RETRY_BASE_MS = 5_000;

export function timerDelay(ms: number): number {
  return Number.isNaN(ms) ? MAX_TIMER_MS : Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/** The wait after the `failures`-th failure in a row: doubling from `baseMs`, at most the interval, at least Retry-After. */
export function retryDelay(
  failures: number,
  intervalMs: number,
  baseMs: number,
  retryAfterMs: number | undefined,
): number {
  const backoff = Math.min(intervalMs, baseMs * 2 ** Math.min(failures - 1, 20));
  return timerDelay(retryAfterMs === undefined ? backoff : Math.max(backoff, retryAfterMs));
}
