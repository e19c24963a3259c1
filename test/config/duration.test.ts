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

  it('formats the shortest exact spelling', () => {
    expect([14_400_000, 90_000, 60_000, 1_500, 86_400_000].map(formatDuration)).toEqual(['4h', '90s', '1m', '1500ms', '1d']);
  });
});
