import { afterEach, describe, expect, it } from 'vitest';
import { buildIndexArchive } from '../fixtures/apk-repo.js';
import { manyProvides, middleDifferingNames, renderLarge } from '../fixtures/hostile-index.js';
import { DEFAULT_LIMITS } from '../../src/parse/limits.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/**
 * Sends `/livez` probes one after another while `load` runs; returns how many were answered (200) before it
 * finished. A parse that holds the event loop answers none of them until it ends.
 */
async function probesDuring(baseUrl: string, load: Promise<unknown>): Promise<{ answered: number; result: unknown }> {
  let done = false;
  const settled = load.finally(() => (done = true));
  let answered = 0;
  while (!done) {
    const res = await fetch(`${baseUrl}/livez`);
    await res.text();
    if (!done && res.status === 200) answered++;
  }
  return { answered, result: await settled };
}

describe('an index being loaded never starves the event loop', () => {
  it('answers /livez while an unsigned index of 40,000 middle-differing names and 40,000 other records loads', async () => {
    f = await startFixtureService({
      repositories: { os: { x86_64: [{ name: 'a', version: '1-r0' }] } },
      repositorySettings: { os: { keys: [] } },
      listen: true,
    });
    const hostile = [...middleDifferingNames(40_000), ...manyProvides(40_000, 1)];
    f.upstream.files.set('/os/x86_64/APKINDEX.tar.gz', buildIndexArchive({ apkindex: renderLarge(hostile) }));
    const refresh = fetch(`${f.baseUrl}/-/refresh`, { method: 'POST' }).then((r) => r.status);
    const { answered, result } = await probesDuring(f.baseUrl, refresh);
    expect(result).toBe(200);
    expect(f.service.store.map.has(hostile[39_999]!.name)).toBe(true);
    // Many are answered here; before whole names were hashed this load held the loop for minutes (the test timed out).
    expect(answered).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('answers /livez while an index of 30,000 records with 10 provides each is refused at the names limit (200,000 here)', async () => {
    const settings = { limits: { ...DEFAULT_LIMITS, maxNames: 200_000 } };
    f = await startFixtureService({
      repositories: { os: { x86_64: [{ name: 'a', version: '1-r0' }] } },
      repositorySettings: { os: { keys: [] } },
      listen: true,
      settings,
    });
    f.upstream.files.set(
      '/os/x86_64/APKINDEX.tar.gz',
      buildIndexArchive({ apkindex: renderLarge(manyProvides(30_000, 10)) }),
    );
    const refresh = fetch(`${f.baseUrl}/-/refresh`, { method: 'POST' }).then((r) => r.status);
    const { answered } = await probesDuring(f.baseUrl, refresh);
    const [status] = f.service.store.status();
    expect(status!.lastError?.reason).toBe('limit');
    expect(status!.lastError?.message).toContain('distinct package names');
    // The last good data is still served.
    expect(f.service.store.map.has('a')).toBe(true);
    expect(answered).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
