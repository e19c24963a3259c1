import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { eventually } from '../helpers/wait.js';

/** One broken or slow repository never blocks the answers the others can give alone. */

const pkg = (name: string, version: string): FixturePackage => ({ name, version });
const repositories = {
  os: { x86_64: [pkg('bootc', '1.16.6-r0')], aarch64: [pkg('bootc', '1.16.6-r0'), pkg('arm-only', '1.0-r0')] },
  extras: { x86_64: [pkg('tool', '2.0-r0')] },
};

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function held(path: string, fault: Parameters<FixtureService['upstream']['fail']>[0], firstLoadTimeoutMs = 300) {
  f = await startFixtureService({
    repositories,
    settings: { firstLoadTimeoutMs },
    service: { retryBaseMs: 60_000 },
    start: false,
  });
  f.upstream.fail({ ...fault, path });
  f.service.store.start();
  return f;
}
const get = (url: string) => f!.service.app.inject({ method: 'GET', url });

describe('while one index has not loaded', () => {
  it('answers queries it cannot change: another repository, or arches that exclude it; 503 for those it could', async () => {
    await held('os/aarch64/APKINDEX.tar.gz', { hang: true }, 20_000);
    await eventually(() => expect(f!.service.store.progress.loaded, 'os x86_64 and extras loaded').toBe(2));
    // Another repository than the one missing, and an arch the missing index is not.
    expect((await get('/tool?repository=extras')).json().releases.map((r: { version: string }) => r.version)).toEqual([
      '2.0-r0',
    ]);
    expect((await get('/bootc/latest?arch=x86_64')).body).toBe('1.16.6-r0\n');
    expect((await get('/bootc/latest?arch=x86_64&repository=os')).body).toBe('1.16.6-r0\n');
    expect((await get('/wildcardVersion/tool?repository=extras&format=plain')).body).toBe('2.0-r0\n');
  });

  it('answers 503 after firstLoadTimeout for a query the missing index could change', async () => {
    await held('os/aarch64/APKINDEX.tar.gz', { hang: true });
    await eventually(() => expect(f!.service.store.progress.loaded, 'os x86_64 and extras loaded').toBe(2));
    for (const url of ['/arm-only', '/bootc', '/bootc?arch=aarch64', '/tool', '/bootc?repository=os']) {
      const res = await get(url);
      expect([res.statusCode, res.headers['retry-after']], url).toEqual([503, '5']);
    }
  });

  it('is not ready while an index waits on the network, and says which; /-/status and the metrics name it', async () => {
    await held('os/aarch64/APKINDEX.tar.gz', { hang: true });
    await eventually(() => expect(f!.service.store.progress.loaded, 'os x86_64 and extras loaded').toBe(2));
    const readyz = await get('/readyz');
    expect(readyz.statusCode).toBe(503);
    expect(readyz.body).toMatch(
      /^not ready: 2 of 3 indexes loaded; waiting for http:\/\/127\.0\.0\.1:\d+\/os\/aarch64\/APKINDEX\.tar\.gz\n$/,
    );
    const status = (await get('/-/status')).json();
    expect(status.waitingFor).toEqual([expect.stringMatching(/\/os\/aarch64\/APKINDEX\.tar\.gz$/)]);
    expect(
      status.indexes.map((i: { arch: string; repository: string; holdsReadiness: boolean }) => [
        i.repository,
        i.arch,
        i.holdsReadiness,
      ]),
    ).toEqual([
      ['os', 'x86_64', false],
      ['os', 'aarch64', true],
      ['extras', 'x86_64', false],
    ]);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/apk_indexer_index_holds_readiness\{[^}]*arch="aarch64"[^}]*repository="os"\} 1/);
    expect(metrics).toMatch(/apk_indexer_index_holds_readiness\{[^}]*arch="x86_64"[^}]*repository="extras"\} 0/);
  });

  it('is ready when the missing index failed for a reason a retry will not soon fix (404), and answers 503 at once for what it could change', async () => {
    await held('extras/x86_64/APKINDEX.tar.gz', { status: 404 }, 20_000);
    await eventually(async () => expect((await get('/readyz')).statusCode, 'the first loads finished').toBe(200));
    const status = (await get('/-/status')).json();
    expect(status).toMatchObject({ ready: true, waitingFor: [] });
    expect(status.indexes[2]).toMatchObject({
      repository: 'extras',
      holdsReadiness: false,
      lastError: { reason: 'http-status' },
    });
    expect((await get('/bootc/latest?repository=os&arch=x86_64')).body).toBe('1.16.6-r0\n');
    // Not a false 404: the broken repository could hold /tool. Answered at once, not after 20 s.
    const res = await get('/tool');
    expect([res.statusCode, res.headers['retry-after']]).toEqual([503, '5']);
  });

  it('reads an index file of any name as one bare index, labelled by the arch its records carry in /metrics as in /-/status', async () => {
    f = await startFixtureService({
      repositories: { os: { aarch64: [pkg('bootc', '1.16.6-r0')] } },
      repositorySettings: (upstream) => ({ os: { url: `${upstream}/os/alpine-3.16.tar.gz`, arches: [] } }),
      start: false,
    });
    await copyFile(join(f.dir, 'os/aarch64/APKINDEX.tar.gz'), join(f.dir, 'os/alpine-3.16.tar.gz'));
    f.service.store.start();
    expect(await f.service.store.whenReady(10_000)).toBe(true);
    const status = (await get('/-/status')).json();
    expect(status.indexes.map((i: { url: string; arch: string }) => [i.url.replace(/^.*\//, ''), i.arch])).toEqual([
      ['alpine-3.16.tar.gz', 'aarch64'],
    ]);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/apk_indexer_index_records\{[^}]*arch="aarch64"[^}]*\} 1/);
    expect(metrics).not.toMatch(/arch="any"/);
    expect((await get('/bootc/latest')).body).toBe('1.16.6-r0\n');
  });
});
