import { describe, expect, it } from 'vitest';
import { formatLoadRefresh, measureLoadRefresh } from '../../bench/load-refresh.js';

/**
 * A short run of the load-while-refreshing benchmark (bench/load-refresh.ts): autocannon against 127.0.0.1 while
 * the upstream index changes and the service refreshes every 400 ms. Every answer is inspected: at generation g
 * each package's only version is `<g>.<i>-r0`, so an answer naming two generations, an ETag that is not the digest
 * of its body, or a generation older than one already seen on the same connection is a torn read.
 * Nothing here asserts on time; the figures are printed (`npm run bench` runs the long version).
 */
describe('load while the index changes and the service refreshes', () => {
  it('fails no request and never answers from two generations at once', async () => {
    const f = await measureLoadRefresh({
      seconds: 3,
      connections: 8,
      packages: 300,
      publishEveryMs: 400,
      refreshEveryMs: 400,
    });
    console.log(formatLoadRefresh(f));
    expect(f.requests).toBeGreaterThan(100);
    expect(f.checked).toBe(f.requests);
    expect({ errors: f.errors, timeouts: f.timeouts, non2xx: f.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
    expect(f.samples).toEqual([]);
    expect(f.mixed).toBe(0);
    expect(f.wentBack).toBe(0);
    // The refreshes really happened during the load, and answers came from several generations.
    expect(f.generations.last - f.generations.first).toBeGreaterThanOrEqual(3);
    expect(f.seenGenerations).toBeGreaterThanOrEqual(3);
  }, 20_000);
});
