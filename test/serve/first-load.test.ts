import { afterEach, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { eventually } from '../helpers/wait.js';

const repositories = {
  os: {
    x86_64: [{ name: 'bootc', version: '1.16.6-r0' }] as FixturePackage[],
    aarch64: [
      { name: 'bootc', version: '1.16.6-r0' },
      { name: 'arm-only', version: '1.0-r0' },
    ] as FixturePackage[],
  },
};
const ARM_INDEX = 'aarch64/APKINDEX.tar.gz';

describe('before the first load: never a false 404', () => {
  let f: FixtureService | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  /** A service whose aarch64 index is held up by `fault`; nothing is loaded when it returns. */
  async function held(
    fault: Parameters<FixtureService['upstream']['fail']>[0],
    settings: { firstLoadTimeoutMs: number; requestTimeoutMs?: number },
  ) {
    f = await startFixtureService({ repositories, settings, service: { retryBaseMs: 50 }, start: false });
    f.upstream.fail({ ...fault, path: ARM_INDEX });
    f.service.store.start();
    return f;
  }
  const get = (url: string) => f!.service.app.inject({ method: 'GET', url });

  it('waits up to firstLoadTimeout, then answers 503 with Retry-After, even for a name only the missing index has', async () => {
    await held({ hang: true }, { firstLoadTimeoutMs: 300 });
    await eventually(() => expect(f!.service.store.progress.loaded).toBe(1));
    for (const url of ['/arm-only', '/bootc', '/no-such-package', '/wildcardVersion/arm-*']) {
      const started = Date.now();
      const res = await get(url);
      expect(res.statusCode, url).toBe(503);
      expect(Date.now() - started, url).toBeGreaterThanOrEqual(280);
      expect(res.headers['retry-after'], url).toBe('5');
      expect(res.body, url).toBe('indexes are still loading (1 of 2 loaded); retry shortly\n');
    }
  });

  it('answers a waiting query as soon as the first load completes', async () => {
    await held({ delayMs: 400 }, { firstLoadTimeoutMs: 5_000 });
    const started = Date.now();
    const res = await get('/arm-only');
    expect(res.statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(res.json().releases).toEqual([{ version: '1.0-r0', releaseTimestamp: '2023-11-14T22:13:20.000Z' }]);
  });

  it('answers 503 at once with firstLoadTimeout 0', async () => {
    // Waiting for the hung load would take at least the request timeout (10s); at once is well under 2s.
    await held({ hang: true }, { firstLoadTimeoutMs: 0, requestTimeoutMs: 10_000 });
    const started = Date.now();
    expect((await get('/bootc')).statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('is live but not ready until every index has loaded once, then ready after the retry succeeds', async () => {
    await held({ hang: true }, { firstLoadTimeoutMs: 100, requestTimeoutMs: 300 });
    const livez = await get('/livez');
    expect([livez.statusCode, livez.body]).toEqual([200, 'ok\n']);
    const readyz = await get('/readyz');
    expect(readyz.statusCode).toBe(503);
    expect(readyz.body).toMatch(
      /^not ready: [01] of 2 indexes loaded; waiting for .*\/os\/aarch64\/APKINDEX.tar.gz(, .*)?\n$/,
    );
    // The hung request times out (network), is retried after the backoff and then succeeds.
    expect(await f!.service.store.whenReady(10_000)).toBe(true);
    expect((await get('/readyz')).statusCode).toBe(200);
    expect((await get('/readyz')).body).toBe('ready\n');
    expect((await get('/arm-only')).statusCode).toBe(200);
    expect(f!.upstream.requestsFor(ARM_INDEX).length).toBeGreaterThanOrEqual(2);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*arch="aarch64"[^}]*reason="network"\} 1/);
  });

  it('releases waiting queries with 503 when the server closes, without waiting for the upstream', async () => {
    await held({ hang: true }, { firstLoadTimeoutMs: 20_000, requestTimeoutMs: 20_000 });
    const waiting = get('/bootc');
    await eventually(() => expect(f!.service.store.waiting).toBe(1)); // the query waits for the first load
    const started = Date.now();
    await f!.service.app.close();
    expect((await waiting).statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
