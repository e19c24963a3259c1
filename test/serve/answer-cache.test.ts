import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

/** 60 names of 30 versions each: answers of about 1.5 KB, 90 KB for every name. */
const PACKAGES: FixturePackage[] = Array.from({ length: 60 }, (_, n) =>
  Array.from({ length: 30 }, (_, v) => ({
    name: `pkg-${n}`,
    version: `1.${v}.0-r0`,
    buildTime: 1_700_000_000 + v,
    url: `https://example.org/pkg-${n}`,
  })),
).flat();
const BOUND = 24 * 1024;

let f: FixtureService;
beforeAll(async () => {
  f = await startFixtureService({
    repositories: { os: { x86_64: PACKAGES } },
    settings: { answerCacheBytes: BOUND },
  });
});
afterAll(async () => f?.close());

const get = (url: string) => f.service.app.inject({ method: 'GET', url });

function metric(text: string, name: string, labels = ''): number {
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name}${labels} not in /metrics`);
  return Number(m[1]);
}

describe('the answer cache', () => {
  it('holds at most answerCacheBytes, least recently used out first, and says so in /metrics', async () => {
    const first = await get('/pkg-0');
    expect(first.statusCode).toBe(200);
    for (let n = 0; n < 60; n++) expect((await get(`/pkg-${n}`)).statusCode).toBe(200);
    // Distinct query strings for one name: each a new key, none past the bound.
    for (let i = 0; i < 200; i++) expect((await get(`/pkg-1?test=${i}`)).statusCode).toBe(200);
    const { cache } = f.service;
    expect(cache.bytes).toBeLessThanOrEqual(BOUND);
    expect(cache.size).toBeGreaterThan(0);
    const metrics = (await get('/metrics')).body;
    expect(metric(metrics, 'apk_indexer_answer_cache_max_bytes')).toBe(BOUND);
    expect(metric(metrics, 'apk_indexer_answer_cache_bytes')).toBe(cache.bytes);
    expect(metric(metrics, 'apk_indexer_answer_cache_entries')).toBe(cache.size);
    // 260 distinct URLs (the second /pkg-0 is a hit): each a miss and an entry; what is not held was evicted.
    expect(metric(metrics, 'apk_indexer_answer_cache_lookups_total', '{result="miss"}')).toBe(260);
    expect(metric(metrics, 'apk_indexer_answer_cache_evictions_total')).toBe(260 - cache.size);
    // What was pushed out is computed again, the same.
    const again = await get('/pkg-0');
    expect([again.body, again.headers.etag]).toEqual([first.body, first.headers.etag]);
  });

  it('answers a repeated URL from the cache: a hit in /metrics', async () => {
    const before = metric((await get('/metrics')).body, 'apk_indexer_answer_cache_lookups_total', '{result="hit"}');
    await get('/pkg-59?arch=x86_64');
    await get('/pkg-59?arch=x86_64');
    const after = metric((await get('/metrics')).body, 'apk_indexer_answer_cache_lookups_total', '{result="hit"}');
    expect(after - before).toBe(1);
  });
});
