import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, RETRY_BASE_MS, retryDelay, timerDelay } from '../../src/serve/retry.js';

const HOUR = 3_600_000;

describe('the retry backoff', () => {
  it('doubles from the base with each failure in a row: 5 s, 10 s, 20 s, 40 s ...', () => {
    expect(RETRY_BASE_MS).toBe(5_000);
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, 4 * HOUR, RETRY_BASE_MS, undefined))).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 160_000,
    ]);
  });

  it('never waits longer than the refresh interval', () => {
    expect(retryDelay(5, 60_000, 5_000, undefined)).toBe(60_000);
    expect(retryDelay(12, 4 * HOUR, 5_000, undefined)).toBe(5_000 * 2 ** 11);
    expect(retryDelay(13, 4 * HOUR, 5_000, undefined)).toBe(4 * HOUR);
    expect(retryDelay(1_000, 4 * HOUR, 5_000, undefined)).toBe(4 * HOUR);
    // The exponent stops at 2^20, so the doubling never overflows to Infinity.
    expect(retryDelay(5_000, Infinity, 1, undefined)).toBe(2 ** 20);
  });

  it('waits at least what Retry-After asked for, even past the interval', () => {
    expect(retryDelay(1, 4 * HOUR, 5_000, 120_000)).toBe(120_000);
    expect(retryDelay(3, 4 * HOUR, 5_000, 1_000)).toBe(20_000);
    expect(retryDelay(1, 60_000, 5_000, 2 * HOUR)).toBe(2 * HOUR);
  });

  it('stays within what a Node timer can wait (2^31-1 ms): a longer one would fire at once', () => {
    expect(retryDelay(1, 30 * 24 * HOUR, 5_000, 30 * 24 * HOUR)).toBe(MAX_TIMER_MS);
    expect(retryDelay(40, 30 * 24 * HOUR, 5_000, undefined)).toBe(MAX_TIMER_MS);
  });
});

describe('a timer delay', () => {
  it('is clamped to 0 .. 2^31-1 ms, and NaN waits the longest', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(1_500)).toBe(1_500);
    expect(timerDelay(2 ** 40)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Infinity)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Number.NaN)).toBe(MAX_TIMER_MS);
  });
});
