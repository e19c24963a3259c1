import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1.5h', 5_400_000],
    [' 2h ', 7_200_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('reads a bare number in the unit the setting names (hours for hown3d -update-interval)', () => {
    expect(parseDuration('4', 'h')).toBe(14_400_000);
    expect(parseDuration(4, 'h')).toBe(14_400_000);
    expect(parseDuration('30', 's')).toBe(30_000);
    expect(parseDuration(30)).toBe(30);
  });

  it.each(['4 hours', 'h', '', '-1s', '1w', '1h30m', 'NaN'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });

  it('refuses negative and infinite numbers', () => {
    expect(() => parseDuration(-1)).toThrow(/not a duration/);
    expect(() => parseDuration(Infinity)).toThrow(/not a duration/);
  });

  it('refuses durations over 24d, which overflow Node timers (2^31-1 ms)', () => {
    expect(parseDuration('24d')).toBe(2_073_600_000);
    for (const value of ['25d', '2147483647ms', '577h'])
      expect(() => parseDuration(value)).toThrow(`expected at most 24d, got "${value}"`);
    expect(() => parseDuration(600, 'h')).toThrow('expected at most 24d, got 600');
    expect(() => parseDuration(Number.MAX_SAFE_INTEGER)).toThrow(/at most 24d/);
  });

  it('formats the shortest exact spelling', () => {
    expect([14_400_000, 90_000, 60_000, 1_500, 86_400_000].map(formatDuration)).toEqual([
      '4h',
      '90s',
      '1m',
      '1500ms',
      '1d',
    ]);
  });
});
