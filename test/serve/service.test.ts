import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceSettings } from '../../src/config/settings.js';
import { DEFAULTS } from '../../src/config/settings.js';
import { buildIndexArchive, generateFixtureKey, type FixturePackage } from '../../src/fixtures/apk-repo.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { Upstream } from '../helpers/upstream.js';

const key = generateFixtureKey('service.rsa.pub');

const x86: FixturePackage[] = [
  { name: 'bootc', version: '1.16.6-r0', buildTime: 1_730_000_000, url: 'https://github.com/containers/bootc' },
  { name: 'bootc', version: '1.16.7-r0', buildTime: 1_731_000_000, url: 'https://github.com/containers/bootc' },
  { name: 'bootc', version: '1.17.0_rc1-r0', buildTime: 1_732_000_000, url: 'https://github.com/containers/bootc' },
  { name: 'libstdc++', version: '14.2.0-r3', buildTime: 1_729_000_000 },
  { name: 'argo-cd-2.11', version: '2.11.7-r0', provides: ['argo-cd=2.11.7-r0', 'cmd:argocd=2.11.7-r0'] },
  { name: 'argo-cd-2.12', version: '2.12.4-r0', provides: ['argo-cd=2.12.4-r0'] },
  { name: 'argo-cd-2.12-compat', version: '2.12.4-r0' },
  { name: 'argo-cd-compat', version: '2.8.0-r1' },
  { name: 'melange-built', version: '1.0.0-r0', buildTime: 0 },
];
const arm: FixturePackage[] = [{ name: 'bootc', version: '1.16.6-r0', buildTime: 1_730_000_500 }];

function publish(upstream: Upstream, arch: string, packages: FixturePackage[], description = 'v1') {
  upstream.files.set(`/os/${arch}/APKINDEX.tar.gz`, buildIndexArchive({ packages: packages.map((p) => ({ ...p, arch })), description, sign: [{ key }] }));
}

function settingsFor(upstream: Upstream, overrides: Partial<ServiceSettings> = {}): ServiceSettings {
  return {
    ...DEFAULTS,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    firstLoadTimeoutMs: 2_000,
    requestTimeoutMs: 2_000,
    repositories: [{ name: 'os', url: `${upstream.url}/os`, arches: ['x86_64', 'aarch64'], keys: [`${upstream.url}/keys/${key.name}`] }],
    ...overrides,
  };
}

describe('the service', () => {
  let upstream: Upstream;
  let service: Service;

  beforeAll(async () => {
    upstream = await new Upstream().start();
    upstream.files.set(`/keys/${key.name}`, Buffer.from(key.publicPem));
    publish(upstream, 'x86_64', x86);
    publish(upstream, 'aarch64', arm);
    service = buildService(settingsFor(upstream), { logger: false });
    service.store.start();
    await service.app.ready();
  });

  afterAll(async () => {
    await service.app.close();
    await upstream.stop();
  });

  const get = (url: string, headers: Record<string, string> = {}) => service.app.inject({ method: 'GET', url, headers });

  it('answers the Renovate custom datasource schema, in apk order, without nulls', async () => {
    const res = await get('/bootc');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json()).toEqual({
      releases: [
        { version: '1.16.6-r0', releaseTimestamp: '2024-10-27T03:41:40.000Z' },
        { version: '1.16.7-r0', releaseTimestamp: '2024-11-07T17:20:00.000Z' },
        { version: '1.17.0_rc1-r0', releaseTimestamp: '2024-11-19T07:06:40.000Z', isStable: false },
      ],
      homepage: 'https://github.com/containers/bootc',
      tags: { latest: '1.16.7-r0' },
    });
    expect(res.body).not.toContain('null');
  });

  it('keeps only versions present on every arch in ?arch=', async () => {
    expect((await get('/bootc?arch=x86_64,aarch64')).json().releases.map((r: { version: string }) => r.version)).toEqual(['1.16.6-r0']);
    const none = await get('/libstdc++?arch=x86_64,aarch64');
    expect(none.statusCode).toBe(404);
    expect(none.body).toMatch(/no version present on every requested arch/);
  });

  it('filters by repository name', async () => {
    expect((await get('/bootc?repository=os')).statusCode).toBe(200);
    expect((await get('/bootc?repository=elsewhere')).statusCode).toBe(404);
  });

  it('takes names unencoded or percent-encoded, + included', async () => {
    expect((await get('/libstdc++')).json().releases[0].version).toBe('14.2.0-r3');
    expect((await get('/libstdc%2B%2B')).json().releases[0].version).toBe('14.2.0-r3');
  });

  it('answers versioned streams under the name they provide', async () => {
    expect((await get('/argo-cd')).json().releases.map((r: { version: string }) => r.version)).toEqual(['2.11.7-r0', '2.12.4-r0']);
    expect((await get('/argocd')).statusCode).toBe(404);
  });

  it('leaves out releaseTimestamp for t:0', async () => {
    expect((await get('/melange-built')).json().releases).toEqual([{ version: '1.0.0-r0' }]);
  });

  it('answers 404 with one line for unknown and absurd names, never a 5xx', async () => {
    for (const url of ['/nope', '/..%2F..%2Fetc%2Fpasswd', `/${'a'.repeat(5000)}`, '/%00', '/a/b/c', '/%E0%A4%A', '/..', '/bootc%20']) {
      const res = await get(url);
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, url).toBeLessThan(500);
    }
    const res = await get('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('package "nope" is not in any configured index\n');
  });

  it('answers /<name>/latest and ?format=plain for people and scripts', async () => {
    const latest = await get('/bootc/latest');
    expect(latest.headers['content-type']).toMatch(/text\/plain/);
    expect(latest.body).toBe('1.16.7-r0\n');
    expect((await get('/bootc?format=plain')).body).toBe('1.16.6-r0\n1.16.7-r0\n1.17.0_rc1-r0\n');
    expect((await get('/bootc?format=yaml')).statusCode).toBe(400);
  });

  it('serves hown3d-compatible wildcard queries', async () => {
    expect((await get('/wildcardVersion/argo-cd*')).json().releases.map((r: { version: string }) => r.version)).toEqual(['2.11.7-r0', '2.12.4-r0']);
    expect((await get('/wildcardVersion/argo-cd-*-compat')).json().releases.map((r: { version: string }) => r.version)).toEqual(['2.8.0-r1', '2.12.4-r0']);
    expect((await get('/wildcardVersion/argo-cd')).statusCode).toBe(404);
  });

  it('sends an ETag and honours If-None-Match', async () => {
    const first = await get('/bootc');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const again = await get('/bootc', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('reports readiness, liveness, status and metrics', async () => {
    expect((await get('/livez')).statusCode).toBe(200);
    expect((await get('/readyz')).statusCode).toBe(200);
    const status = (await get('/-/status')).json();
    expect(status.ready).toBe(true);
    expect(status.indexes).toHaveLength(2);
    expect(status.indexes[0]).toMatchObject({ arch: 'x86_64', repository: 'os', records: 9, verifiedBy: 'service.rsa.pub', description: 'v1' });
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/apk_indexer_index_records\{index="[^"]+x86_64\/APKINDEX.tar.gz",arch="x86_64",repository="os"\} 9/);
    expect(metrics).toMatch(/apk_indexer_http_requests_total\{route="\/\*",method="GET",status="200"\}/);
  });

  it('refreshes with a conditional request: an unchanged index is not parsed again', async () => {
    const generation = service.store.map.generation;
    const before = upstream.requests.length;
    const res = await service.app.inject({ method: 'POST', url: '/-/refresh' });
    expect(res.statusCode).toBe(200);
    const sent = upstream.requests.slice(before).filter((r) => r.path.endsWith('APKINDEX.tar.gz'));
    expect(sent).toHaveLength(2);
    expect(sent.every((r) => r.ifNoneMatch)).toBe(true);
    expect(service.store.map.generation).toBe(generation);
  });

  it('keeps the last good data when a refresh fails, counts the reason, then serves the new index', async () => {
    upstream.fail({ status: 500 }, { body: Buffer.from('<html>oops</html>') });
    await service.app.inject({ method: 'POST', url: '/-/refresh' });
    expect((await get('/bootc')).json().tags.latest).toBe('1.16.7-r0');
    const status = (await get('/-/status')).json();
    const reasons = status.indexes.map((i: { lastError?: { reason: string } }) => i.lastError?.reason).sort();
    expect(reasons).toEqual(['gzip', 'http-status']);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*reason="http-status"\} 1/);
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*reason="gzip"\} 1/);
    expect((await get('/readyz')).statusCode).toBe(200);

    publish(upstream, 'x86_64', [...x86, { name: 'bootc', version: '1.17.0-r0', buildTime: 1_733_000_000 }], 'v2');
    const generation = service.store.map.generation;
    await service.app.inject({ method: 'POST', url: '/-/refresh' });
    expect(service.store.map.generation).toBeGreaterThan(generation);
    expect((await get('/bootc/latest')).body).toBe('1.17.0-r0\n');
  });

  it('refuses an index signed by another key and keeps serving the good one', async () => {
    const impostor = generateFixtureKey('service.rsa.pub');
    upstream.fail({ body: buildIndexArchive({ packages: [{ name: 'bootc', version: '9.9.9-r0' }], sign: [{ key: impostor }] }) });
    await service.app.inject({ method: 'POST', url: '/-/refresh' });
    expect((await get('/bootc')).json().releases.map((r: { version: string }) => r.version)).not.toContain('9.9.9-r0');
    expect((await get('/-/status')).json().indexes.some((i: { lastError?: { reason: string } }) => i.lastError?.reason === 'signature')).toBe(true);
  });
});

describe('the service before its first load', () => {
  let upstream: Upstream;
  let service: Service | undefined;

  beforeAll(async () => {
    upstream = await new Upstream().start();
  });
  afterEach(async () => {
    await service?.app.close();
    upstream.clearFaults();
  });
  afterAll(async () => upstream.stop());

  it('waits for the first load, then answers 503 instead of a false 404, and is not ready', async () => {
    upstream.files.set(`/keys/${key.name}`, Buffer.from(key.publicPem));
    upstream.fail({ hang: true }); // the key request: both indexes wait for the key
    service = buildService(settingsFor(upstream, { firstLoadTimeoutMs: 300, requestTimeoutMs: 5_000 }), { logger: false });
    service.store.start();
    const started = Date.now();
    const res = await service.app.inject({ method: 'GET', url: '/bootc' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((await service.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await service.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
  });

  it('answers as soon as the first load completes', async () => {
    publish(upstream, 'x86_64', x86);
    publish(upstream, 'aarch64', arm);
    service = buildService(settingsFor(upstream), { logger: false });
    service.store.start();
    const res = await service.app.inject({ method: 'GET', url: '/bootc?arch=aarch64' });
    expect(res.statusCode).toBe(200);
    expect(res.json().releases).toHaveLength(1);
  });

  it('protects POST /-/refresh with a bearer token when one is set', async () => {
    service = buildService(settingsFor(upstream, { refreshToken: 's3cret' }), { logger: false });
    service.store.start();
    expect((await service.app.inject({ method: 'POST', url: '/-/refresh' })).statusCode).toBe(401);
    expect((await service.app.inject({ method: 'POST', url: '/-/refresh', headers: { authorization: 'Bearer wrong!' } })).statusCode).toBe(401);
    expect((await service.app.inject({ method: 'POST', url: '/-/refresh', headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(200);
  });
});
