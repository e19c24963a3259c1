import { afterEach, describe, expect, it } from 'vitest';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

/**
 * Issue 26 §4: a repository that redirects in a loop, or to a scheme we refuse, is a permanent failure like a 404.
 * It is reported in /-/status and /metrics, and it does not hold /readyz at 503 while the other repositories serve.
 */

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const packages = { x86_64: [{ name: 'curl', version: '8.11.0-r0' }] };

interface Status {
  ready: boolean;
  waitingFor: string[];
  indexes: Array<{ repository: string; holdsReadiness: boolean; lastError?: { reason: string; message: string } }>;
}

describe('a repository that redirects', () => {
  it('in a loop, or to file://, is a redirect failure: reported, not holding readiness', async () => {
    f = await startFixtureService({
      repositories: { wolfi: packages, loop: packages, local: packages },
      start: false,
    });
    const { upstream } = f;
    // Each refresh of `loop` goes /loop/x86_64/APKINDEX.tar.gz -> /moved -> back; `local` points at a file.
    const refreshes = 3;
    for (let i = 0; i < refreshes; i++) {
      upstream.fail(
        { path: '/loop/x86_64/APKINDEX.tar.gz', status: 302, headers: { location: '/loop/moved' } },
        { path: '/loop/moved', status: 301, headers: { location: `${upstream.url}/loop/x86_64/APKINDEX.tar.gz` } },
        { path: '/local/x86_64/APKINDEX.tar.gz', status: 302, headers: { location: 'file:///etc/passwd' } },
      );
    }
    const { app, store } = f.service;
    store.start();
    expect(await store.whenReady(10_000)).toBe(true);
    const get = (url: string) => app.inject({ method: 'GET', url });
    expect((await get('/readyz')).statusCode).toBe(200);
    expect((await get('/curl/latest?repository=wolfi')).body).toBe('8.11.0-r0\n');

    const status = (await get('/-/status')).json() as Status;
    expect([status.ready, status.waitingFor]).toEqual([true, []]);
    const of = (repository: string) => status.indexes.find((i) => i.repository === repository)!;
    expect(of('loop')).toMatchObject({
      holdsReadiness: false,
      lastError: {
        reason: 'redirect',
        message: `${upstream.url}/loop/x86_64/APKINDEX.tar.gz: redirect loop: HTTP 301 back to ${upstream.url}/loop/x86_64/APKINDEX.tar.gz`,
      },
    });
    expect(of('local')).toMatchObject({
      holdsReadiness: false,
      lastError: {
        reason: 'redirect',
        message: `${upstream.url}/local/x86_64/APKINDEX.tar.gz: HTTP 302 to file:///etc/passwd refused: only http and https redirects are followed`,
      },
    });
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*repository="loop"[^}]*reason="redirect"\} 1/);
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*repository="local"[^}]*reason="redirect"\} 1/);
    expect(metrics).toMatch(/apk_indexer_index_holds_readiness\{[^}]*repository="loop"[^}]*\} 0/);

    // A forced refresh fails the same way, and the pod stays ready.
    await f.refresh();
    expect((await get('/readyz')).statusCode).toBe(200);
    expect(((await get('/-/status')).json() as Status).indexes.map((i) => i.lastError?.reason ?? 'ok')).toEqual([
      'ok',
      'redirect',
      'redirect',
    ]);
  });
});
