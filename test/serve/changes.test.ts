import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { changelogTemplate } from '../../src/datasource/renovate-body.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { COMMITS, SOURCE_URL, wolfiSecdb, wolfiShaped } from '../helpers/wolfi-shaped.js';

let fixture: FixtureService | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function start(options: { publicUrl?: string; secdb?: string | null; maxSecdbBytes?: number } = {}) {
  fixture = await startFixtureService({
    repositories: { os: wolfiShaped() },
    repositorySettings: (url) => ({
      os: {
        sourceUrl: SOURCE_URL,
        ...(options.secdb !== null && { secdb: `${url}/os/${options.secdb ?? 'security.json'}` }),
      },
    }),
    settings: options.publicUrl ? { publicUrl: options.publicUrl } : {},
  });
  return fixture;
}

describe('changelogUrl in datasource answers', () => {
  it('links each answer to the changes page, with the query’s arch and repository, when publicUrl is set', async () => {
    const f = await start({ publicUrl: 'https://apk.example.com' });
    const res = await f.service.app.inject({ url: '/openssl?arch=x86_64,aarch64&repository=os' });
    expect(res.json().changelogUrl).toBe(
      'https://apk.example.com/-/changes/{{packageName}}?from={{currentVersion}}&to={{newVersion}}&arch=aarch64%2Cx86_64&repository=os',
    );
    const wildcard = await f.service.app.inject({ url: '/wildcardVersion/openssl' });
    expect(wildcard.json().changelogUrl).toBe(
      'https://apk.example.com/-/changes/{{packageName}}?from={{currentVersion}}&to={{newVersion}}',
    );
    // Template syntax in a query never reaches the template: an unknown arch is refused, and values are encoded.
    const hostile = await f.service.app.inject({ url: `/openssl?arch=${encodeURIComponent('x86_64,{{env.SECRET}}')}` });
    expect(hostile.statusCode).toBe(400);
    expect(changelogTemplate('https://a.example', { repositories: ['os', '{{env.SECRET}}'] })).toBe(
      'https://a.example/-/changes/{{packageName}}?from={{currentVersion}}&to={{newVersion}}&repository=os%2C%7B%7Benv.SECRET%7D%7D',
    );
  });

  it('adds no link without publicUrl', async () => {
    const f = await start();
    const res = await f.service.app.inject({ url: '/openssl' });
    expect(res.json()).not.toHaveProperty('changelogUrl');
  });
});

describe('GET /-/changes/<name> as JSON', () => {
  it('answers JSON for ?format=json and for Accept: application/json, HTML otherwise', async () => {
    const f = await start();
    await writeFile(join(f.dir, 'os', 'security.json'), wolfiSecdb());
    await f.service.secdb.refreshAll();
    const url = '/-/changes/openssl?from=3.4.0-r0&to=3.4.0-r2&arch=x86_64';
    const viaAccept = await f.service.app.inject({ url, headers: { accept: 'application/json' } });
    const viaFormat = await f.service.app.inject({ url: `${url}&format=json` });
    expect(viaAccept.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(viaFormat.json()).toEqual(viaAccept.json());
    const body = viaAccept.json();
    expect(body.secdb).toBe('loaded');
    expect(body.fixes).toEqual([
      { version: '3.4.0-r1', ids: ['CVE-2024-9143', 'GHSA-xxxx-yyyy-zzzz'] },
      { version: '3.4.0-r2', ids: ['CVE-2025-0001'] },
    ]);
    expect(body.arches).toHaveLength(1);
    expect(body.arches[0].builds.map((b: { version: string }) => b.version)).toEqual(['3.4.0-r1', '3.4.0-r2']);
    expect(body.arches[0].builds[0]).toEqual({
      version: '3.4.0-r1',
      buildTime: new Date((1_730_000_000 + 4 * 86_400) * 1000).toISOString(),
      origin: 'openssl',
      commit: COMMITS['3.4.0-r1'],
      repository: 'os',
      sourceUrl: `https://github.com/wolfi-dev/os/blob/${COMMITS['3.4.0-r1']}/openssl.yaml`,
    });
    const html = await f.service.app.inject({ url, headers: { accept: 'text/html,application/json;q=0.9' } });
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it.each([
    ['/-/changes/openssl?to=3.4.0-r1', 400, '?from= is required'],
    ['/-/changes/openssl?from=3.4.0-r1&to=3.3.2-r0', 400, 'from 3.4.0-r1 is newer than to 3.3.2-r0'],
    [
      '/-/changes/openssl?from=3.4.0-r1&to=3.4.0-r2&arch=aarch64',
      404,
      'openssl 3.4.0-r2 is not in the index on aarch64',
    ],
    // A filter the service is not configured with is the asker's mistake, as on the datasource routes, not a missing package.
    [
      '/-/changes/openssl?from=1-r0&to=2-r0&repository=other',
      400,
      '?repository=other: not a configured repository; use one of os',
    ],
    ['/-/changes/openssl?from=3.4.0-r1&to=3.4.0-r2&arch=amd64', 400, "?arch=amd64: amd64 is apko's name; use x86_64"],
    [
      '/-/changes/openssl?from=3.4.0-r1&to=3.4.0-r2&arch=riscv64',
      400,
      '?arch=riscv64: not a configured arch; use one of aarch64, x86_64',
    ],
  ])('%s answers %i: %s', async (url, status, message) => {
    const f = await start();
    const res = await f.service.app.inject({ url: `${url}&format=json` });
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toContain(message);
    // The page says the same, under a title that names the kind of refusal: a 400 is not "not found".
    const page = await f.service.app.inject({ url });
    expect(page.statusCode).toBe(status);
    expect(page.body).toContain(`<title>openssl: ${status === 404 ? 'not found' : 'bad request'}</title>`);
  });
});

describe('a security database that is missing, broken or huge', () => {
  const fixesOf = async (f: FixtureService) =>
    (await f.service.app.inject({ url: '/-/changes/openssl?from=3.4.0-r0&to=3.4.0-r1&format=json' })).json() as {
      secdb: string;
      fixes: unknown[];
    };
  const failures = async (f: FixtureService) =>
    (await f.service.app.inject({ url: '/metrics' })).body
      .split('\n')
      .filter((l) => l.startsWith('apk_indexer_secdb_refresh_failures_total'));

  it('missing (404): the service serves, the page says fixes cannot be shown, the home page names the error', async () => {
    const f = await start({ secdb: 'absent.json' });
    await f.service.secdb.settled();
    expect((await f.service.app.inject({ url: '/openssl' })).statusCode).toBe(200);
    expect(await fixesOf(f)).toMatchObject({ secdb: 'not-loaded', fixes: [] });
    expect(await failures(f)).toEqual([
      'apk_indexer_secdb_refresh_failures_total{repository="os",reason="http-status"} 1',
    ]);
    expect((await f.service.app.inject({ url: '/' })).body).toMatch(/absent\.json: HTTP 404/);
  });

  it('broken after a good read: the last good data stays', async () => {
    const f = await start();
    await writeFile(join(f.dir, 'os', 'security.json'), wolfiSecdb());
    await f.service.secdb.refreshAll();
    expect((await fixesOf(f)).fixes).toHaveLength(1);
    await writeFile(join(f.dir, 'os', 'security.json'), '{"packages": [{"pkg": ');
    await f.service.secdb.refreshAll();
    expect(await fixesOf(f)).toMatchObject({ secdb: 'loaded', fixes: [{ version: '3.4.0-r1' }] });
    // At least once: the backoff's retry may have met the broken file again by now.
    expect((await failures(f)).join('\n')).toMatch(
      /^apk_indexer_secdb_refresh_failures_total\{repository="os",reason="format"\} [1-9]\d*$/m,
    );
    expect((await f.service.app.inject({ url: '/openssl' })).statusCode).toBe(200);
  });

  it('huge: refused at the size cap, nothing else affected', async () => {
    const f = await start();
    // 65 MiB of valid JSON: over the 64 MiB cap.
    await writeFile(join(f.dir, 'os', 'security.json'), `{"packages": [], "pad": "${'x'.repeat(65 * 1024 * 1024)}"}`);
    await f.service.secdb.refreshAll();
    // (The first read, at start, found no file.)
    expect(await failures(f)).toContain('apk_indexer_secdb_refresh_failures_total{repository="os",reason="limit"} 1');
    expect(
      (await f.service.app.inject({ url: '/-/changes/openssl?from=3.4.0-r0&to=3.4.0-r1&format=json' })).statusCode,
    ).toBe(200);
    expect((await f.service.app.inject({ url: '/openssl' })).statusCode).toBe(200);
  });
});
