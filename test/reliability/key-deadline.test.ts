import { afterEach, describe, expect, it } from 'vitest';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { eventually } from '../helpers/wait.js';

/** A key URL that sends a few bytes and then nothing is bounded by refreshTimeout and by shutdown, as an index is. */

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const KEY = 'fixture-service.rsa.pub';

describe('key downloads', () => {
  it('a stalled key fails the first load and POST /-/refresh within refreshTimeout, not the per-read timeout (60 s)', async () => {
    f = await startFixtureService({
      repositories: { os: { x86_64: [{ name: 'bootc', version: '1.16.6-r0' }] } },
      settings: { refreshTimeoutMs: 400, requestTimeoutMs: 60_000, firstLoadTimeoutMs: 0 },
      service: { retryBaseMs: 60_000 },
      start: false,
    });
    f.upstream.fail({ stallAfter: 20, path: KEY }, { stallAfter: 20, path: KEY });
    f.service.store.start();
    const failed = async () =>
      ((await f!.service.app.inject({ method: 'GET', url: '/-/status' })).json().indexes[0].lastError ?? undefined) as
        { message: string } | undefined;
    await eventually(async () =>
      expect((await failed())?.message, 'the first load gave up on the key').toContain(
        'did not finish within refreshTimeout (400ms)',
      ),
    );
    // The next forced refresh meets the same stalled key and answers, with the failure, within the deadline.
    const refreshed = await f.service.app.inject({ method: 'POST', url: '/-/refresh' });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().indexes[0]).toMatchObject({
      consecutiveFailures: 2,
      lastError: { message: expect.stringContaining('refreshTimeout') },
    });
  }, 15_000);

  it('a stalled key does not hold a shutdown', async () => {
    f = await startFixtureService({
      repositories: { os: { x86_64: [{ name: 'bootc', version: '1.16.6-r0' }] } },
      settings: { refreshTimeoutMs: 600_000, requestTimeoutMs: 60_000, firstLoadTimeoutMs: 0 },
      start: false,
    });
    f.upstream.fail({ stallAfter: 20, path: KEY });
    f.service.store.start();
    await eventually(() => expect(f!.upstream.requestsFor(KEY)).not.toHaveLength(0));
    await f.service.app.close();
    // Every upstream connection is closed once the service has stopped: the key download was aborted with it.
    await eventually(() => expect(f!.upstream.openConnections, 'the key download outlived the shutdown').toBe(0));
  }, 15_000);
});
