import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REASON_HEADER, REASONS, type Reason } from '../../src/datasource/reasons.js';
import { RenovateBodySchema } from '../../src/datasource/renovate-body.js';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { parseResponses, rawExchange } from '../reliability/raw-http-helper.js';

const bootcUrl = 'https://github.com/containers/bootc';
const x86: FixturePackage[] = [
  { name: 'bootc', version: '1.16.7-r0', buildTime: 1_731_000_000, url: bootcUrl },
  { name: 'bootc', version: '1.17.0_rc1-r0', buildTime: 1_732_000_000, url: bootcUrl },
  { name: 'bootc', version: '1.16.6-r0', buildTime: 1_730_000_000, url: bootcUrl },
  // Written out of order on purpose: the answer must follow apk's order, not the index's or a string sort.
  ...['1.10.0-r1', '1.9.0-r0', '1.10.0_p1-r0', '1.10.0-r0', '1.2.10-r0', '1.10.0_rc1-r0'].map((version) => ({
    name: 'order',
    version,
  })),
  { name: 'libstdc++', version: '14.2.0-r3', buildTime: 1_729_000_000 },
  { name: 'lib@sym+x_y.z', version: '1.0-r0' },
  { name: 'argo-cd-2.11', version: '2.11.7-r0', provides: ['argo-cd=2.11.7-r0', 'cmd:argocd=2.11.7-r0'] },
  { name: 'argo-cd-2.12', version: '2.12.4-r0', provides: ['argo-cd=2.12.4-r0'] },
  { name: 'melange-built', version: '1.0.0-r0', buildTime: 0 },
  { name: 'nightly', version: '2.0.0_beta1-r0' },
  // A value past ASCII reaches the answer (the homepage): its bytes, not its characters, are the Content-Length.
  { name: 'cafe', version: '1.0.0-r0', buildTime: 1_700_000_000, url: 'https://example.org/caf\u00e9' },
];
const arm: FixturePackage[] = [
  { name: 'bootc', version: '1.16.6-r0', buildTime: 1_730_000_500, url: bootcUrl },
  ...['1.9.0-r0', '1.10.0-r0'].map((version) => ({ name: 'order', version })),
];
const extra: FixturePackage[] = [
  { name: 'bootc', version: '1.18.0-r0', buildTime: 1_733_000_000, url: bootcUrl },
  { name: 'libstdc++', version: '14.2.0-r3', buildTime: 1_729_000_100 },
];

let f: FixtureService;
beforeAll(async () => {
  f = await startFixtureService({
    repositories: { os: { x86_64: x86, aarch64: arm }, extra: { x86_64: extra } },
    listen: true,
  });
});
afterAll(async () => f.close());

const get = (url: string, headers: Record<string, string> = {}) =>
  f.service.app.inject({ method: 'GET', url, headers });
const versions = async (url: string) => {
  const res = await get(url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return RenovateBodySchema.parse(res.json()).releases.map((r) => r.version);
};

/** A raw request, so that no client normalizes the path (`/..`) first. */
function raw(path: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${f.baseUrl}/`, { path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Renovate custom datasource answers', () => {
  it("match Renovate's schema exactly: apk order, isStable, releaseTimestamp, homepage, tags.latest, no nulls", async () => {
    const res = await get('/bootc?repository=os&arch=x86_64');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({
      releases: [
        // The same version on two arches: the later build time of the two.
        { version: '1.16.6-r0', releaseTimestamp: new Date(1_730_000_500 * 1000).toISOString() },
        { version: '1.16.7-r0', releaseTimestamp: '2024-11-07T17:20:00.000Z' },
        { version: '1.17.0_rc1-r0', releaseTimestamp: '2024-11-19T07:06:40.000Z', isStable: false },
      ],
      homepage: bootcUrl,
      tags: { latest: '1.16.7-r0' },
    });
    expect(res.body).not.toContain('null');
  });

  it('validates against the schema for every kind of package', async () => {
    for (const name of ['bootc', 'order', 'libstdc++', 'argo-cd', 'melange-built', 'nightly', 'lib@sym+x_y.z']) {
      const res = await get(`/${encodeURIComponent(name)}`);
      expect(res.statusCode, name).toBe(200);
      expect(RenovateBodySchema.safeParse(res.json()).error, name).toBeUndefined();
    }
  });

  it('orders releases as apk does, each version once across arches and repositories', async () => {
    expect(await versions('/order?arch=x86_64')).toEqual([
      '1.2.10-r0',
      '1.9.0-r0',
      '1.10.0_rc1-r0',
      '1.10.0-r0',
      '1.10.0-r1',
      '1.10.0_p1-r0',
    ]);
    expect(await versions('/libstdc++')).toEqual(['14.2.0-r3']);
    expect(await versions('/bootc?arch=x86_64')).toEqual(['1.16.6-r0', '1.16.7-r0', '1.17.0_rc1-r0', '1.18.0-r0']);
  });

  it('keeps only versions present on every arch in ?arch=, given as a list or repeated', async () => {
    expect(await versions('/bootc?arch=x86_64,aarch64')).toEqual(['1.16.6-r0']);
    expect(await versions('/bootc?arch=x86_64&arch=aarch64')).toEqual(['1.16.6-r0']);
    expect(await versions('/order?arch=aarch64,x86_64')).toEqual(['1.9.0-r0', '1.10.0-r0']);
    expect(await versions('/bootc?arch=aarch64')).toEqual(['1.16.6-r0']);
    const none = await get('/libstdc++?arch=x86_64,aarch64');
    expect(none.statusCode).toBe(404);
    expect(none.body).toBe('package "libstdc++" has no version present on every requested arch (aarch64,x86_64)\n');
  });

  it('filters by repository name, one or a comma list', async () => {
    expect(await versions('/bootc?repository=extra')).toEqual(['1.18.0-r0']);
    expect(await versions('/bootc?repository=os,extra&arch=x86_64')).toEqual([
      '1.16.6-r0',
      '1.16.7-r0',
      '1.17.0_rc1-r0',
      '1.18.0-r0',
    ]);
    const other = await get('/bootc?repository=elsewhere');
    expect(other.statusCode).toBe(400);
    expect(other.body).toBe('?repository=elsewhere: not a configured repository; use one of os, extra\n');
  });

  it('answers a provided name (p:name=version), not a prefixed one (cmd:)', async () => {
    expect(await versions('/argo-cd')).toEqual(['2.11.7-r0', '2.12.4-r0']);
    expect((await get('/argocd')).statusCode).toBe(404);
    expect((await get('/cmd:argocd')).statusCode).toBe(404);
  });

  it('leaves releaseTimestamp out for t:0 and tags out when nothing is stable', async () => {
    expect((await get('/melange-built')).json()).toEqual({
      releases: [{ version: '1.0.0-r0' }],
      tags: { latest: '1.0.0-r0' },
    });
    expect((await get('/nightly')).json()).toEqual({
      releases: [{ version: '2.0.0_beta1-r0', releaseTimestamp: '2023-11-14T22:13:20.000Z', isStable: false }],
    });
  });

  it('answers an unknown package 404 with one line of text', async () => {
    const res = await get('/no-such-package');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe('package "no-such-package" is not in any configured index\n');
  });

  it('carries a stable reason code on every answer but a 200, the same for every spelling of one mistake', async () => {
    const tooMany = Array.from({ length: 40 }, (_, i) => `a${i}`).join(',');
    const cases: Array<[string, number, string]> = [
      ['/no-such-package', 404, 'unknown-package'],
      ['/bootc?repository=extra&arch=aarch64', 404, 'no-common-version'],
      ['/libstdc++?arch=x86_64,aarch64', 404, 'no-common-version'],
      ['/nightly/latest', 404, 'only-prereleases'],
      ['/a/b/c', 404, 'not-a-name'],
      ['/bootc/', 404, 'not-a-name'],
      ['/bootc?arch=amd64', 400, 'unknown-arch'],
      ['/bootc?arch=riscv64', 400, 'unknown-arch'],
      ['/bootc?repository=elsewhere', 400, 'unknown-repository'],
      [`/bootc?arch=${tooMany}`, 400, 'too-many-values'],
      ['/bootc?format=yaml', 400, 'bad-request'],
      ['/%E0%A4%A', 400, 'bad-request'],
      ['/wildcardVersion/argo-cd-*-*', 404, 'bad-pattern'],
      ['/wildcardVersion/zzz-*', 404, 'no-match'],
      ['/wildcardVersion/zzz-*?arch=amd64', 400, 'unknown-arch'],
      ['/-/no-such-route', 404, 'not-a-name'],
      ['/-/changes/bootc?from=1.16.6-r0', 400, 'missing-version'],
      ['/-/changes/bootc?from=1.16.6-r0&to=banana!', 400, 'bad-version'],
      ['/-/changes/bootc?from=1.16.7-r0&to=1.16.6-r0', 400, 'versions-reversed'],
      ['/-/changes/bootc?from=1.16.6-r0&to=9.9-r0', 404, 'unknown-version'],
      ['/-/changes/nosuch?from=1-r0&to=2-r0', 404, 'unknown-package'],
      ['/-/refresh', 405, 'method-not-allowed'],
    ];
    for (const [url, status, reason] of cases) {
      const res = await get(url);
      expect([res.statusCode, res.headers[REASON_HEADER]], url).toEqual([status, reason]);
      expect(REASONS[reason as Reason].status, url).toBe(status);
    }
    const post = await f.service.app.inject({ method: 'POST', url: '/bootc' });
    expect([post.statusCode, post.headers[REASON_HEADER]]).toEqual([404, 'no-route']);
    const json = await get('/-/changes/bootc?from=1.16.6-r0&format=json');
    expect(json.json()).toMatchObject({ reason: 'missing-version' });
    const ok = await get('/bootc');
    expect(ok.headers[REASON_HEADER]).toBeUndefined();
    const again = await get('/bootc', { 'if-none-match': ok.headers.etag as string });
    expect([again.statusCode, again.headers[REASON_HEADER]]).toEqual([304, 'not-modified']);
  });

  it('takes names unencoded or percent-encoded: + . _ @ are name characters', async () => {
    for (const path of ['/libstdc++', '/libstdc%2B%2B', '/libstdc%2b+'])
      expect(await versions(path), path).toEqual(['14.2.0-r3']);
    for (const path of ['/lib@sym+x_y.z', '/lib%40sym%2Bx_y.z']) expect(await versions(path), path).toEqual(['1.0-r0']);
    const overHttp = await raw('/libstdc++');
    expect(overHttp.status).toBe(200);
    expect(JSON.parse(overHttp.body).releases[0].version).toBe('14.2.0-r3');
  });

  it('never answers a 5xx for a bad name, and every 404 is one short line', async () => {
    const paths = [
      '/..',
      '/%2e%2e',
      '/../../etc/passwd',
      '/..%2F..%2Fetc%2Fpasswd',
      `/${'a'.repeat(5000)}`,
      `/${'%41'.repeat(3000)}`,
      '/%00',
      '/%E0%A4%A',
      '/a/b/c',
      '/bootc%20',
      '//bootc',
      '/bootc/',
      '/%0Aevil',
      '/bootc?arch=%00',
      '/*',
      '/wildcardVersion/**',
    ];
    for (const path of paths) {
      const res = await raw(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.type, path).toBe('text/plain; charset=utf-8');
      expect(
        res.body.endsWith('\n') && res.body.indexOf('\n') === res.body.length - 1,
        `${path}: ${JSON.stringify(res.body)}`,
      ).toBe(true);
      expect(res.body.length, path).toBeLessThan(300);
    }
  });

  it('answers /<name>/latest with the newest stable version as text, and ?format=plain one version a line', async () => {
    const latest = await get('/bootc/latest');
    expect(latest.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(latest.body).toBe('1.18.0-r0\n');
    expect((await get('/bootc/latest?repository=os&arch=x86_64')).body).toBe('1.16.7-r0\n');
    expect((await get('/bootc/latest?arch=x86_64,aarch64')).body).toBe('1.16.6-r0\n');
    const prerelease = await get('/nightly/latest');
    expect(prerelease.statusCode).toBe(404);
    expect(prerelease.body).toBe('package "nightly" has only pre-release versions; see ?format=plain\n');
    const plain = await get('/order?format=plain&arch=aarch64');
    expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(plain.body).toBe('1.9.0-r0\n1.10.0-r0\n');
    const bad = await get('/bootc?format=yaml');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/^bad request: querystring\/format must be equal to one of the allowed values\n$/);
  });

  it('sends an ETag on every answer and honours If-None-Match on 200s', async () => {
    const first = await get('/bootc');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers['cache-control']).toBe('no-cache');
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await get('/bootc', { 'if-none-match': inm });
      expect(again.statusCode, inm).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(etag);
    }
    expect((await get('/bootc', { 'if-none-match': '"other"' })).statusCode).toBe(200);
    expect((await get('/bootc?arch=aarch64', { 'if-none-match': etag })).statusCode).toBe(200);
    const missing = await get('/nope');
    expect(missing.headers.etag).toMatch(/^".+"$/);
    expect((await get('/nope', { 'if-none-match': missing.headers.etag as string })).statusCode).toBe(404);
    expect((await get('/bootc/latest')).headers.etag).toMatch(/^".+"$/);
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await f.service.app.inject({ method: 'HEAD', url: '/bootc' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers.etag).toBe((await get('/bootc')).headers.etag);
  });

  it('does no work for a repeated query: the serialized answer is cached per generation', async () => {
    const map = f.service.store.map;
    const releases = vi.spyOn(map, 'releases');
    // URLs no other test asks (an extra parameter is ignored), so that the first ask computes whatever ran before.
    const url = '/order?arch=x86_64&format=plain&repository=os&test=repeated';
    try {
      const a = await get(url);
      expect(releases).toHaveBeenCalledTimes(1);
      const b = await get(url);
      expect(b.body).toBe(a.body);
      expect(b.headers.etag).toBe(a.headers.etag);
      expect(releases).toHaveBeenCalledTimes(1);
      await get('/order?arch=x86_64,aarch64&format=plain&repository=os&test=repeated');
      expect(releases).toHaveBeenCalledTimes(2);
    } finally {
      releases.mockRestore();
    }
  });
});

describe('answers written straight to the connection', () => {
  const port = () => Number(new URL(f.baseUrl).port);

  it('send exact bytes on one keep-alive connection: computed, cached, past ASCII, HEAD without a body', async () => {
    const ask = (method: string, path: string, last = false) =>
      `${method} ${path} HTTP/1.1\r\nHost: x\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    // Pipelined: a wrong Content-Length, or a body after HEAD, would put the next response out of step.
    const { raw, responses } = await rawExchange(
      port(),
      [
        ask('GET', '/cafe?test=direct'),
        ask('GET', '/cafe?test=direct'),
        ask('GET', '/caf%C3%A9'),
        ask('GET', '/order?arch=x86_64&format=plain&test=direct'),
        ask('HEAD', '/cafe?test=direct', true),
      ].join(''),
    );
    const body = JSON.stringify({
      releases: [{ version: '1.0.0-r0', releaseTimestamp: '2023-11-14T22:13:20.000Z' }],
      homepage: 'https://example.org/caf\u00e9',
      tags: { latest: '1.0.0-r0' },
    });
    expect(responses.map((r) => [r.status, r.headers['content-type'], r.body])).toEqual([
      [200, 'application/json; charset=utf-8', body],
      [200, 'application/json; charset=utf-8', body],
      [404, 'text/plain; charset=utf-8', 'package "caf\u00e9" is not in any configured index\n'],
      [200, 'text/plain; charset=utf-8', '1.2.10-r0\n1.9.0-r0\n1.10.0_rc1-r0\n1.10.0-r0\n1.10.0-r1\n1.10.0_p1-r0\n'],
      [200, 'application/json; charset=utf-8', ''],
    ]);
    const [first, cached, unknown, , head] = responses;
    expect(first!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(unknown!.headers['content-length']).toBe(String(Buffer.byteLength(unknown!.body)));
    expect([unknown!.headers[REASON_HEADER], first!.headers[REASON_HEADER]]).toEqual(['unknown-package', undefined]);
    for (const r of [cached!, head!]) {
      expect([r.headers.etag, r.headers['content-length'], r.headers['cache-control']]).toEqual([
        first!.headers.etag,
        first!.headers['content-length'],
        'no-cache',
      ]);
    }
    expect([head!.headers.connection, head!.headers['x-content-type-options']]).toEqual(['close', 'nosniff']);
    expect(raw.endsWith('\r\n\r\n')).toBe(true); // HEAD's headers are the last bytes sent
    expect(parseResponses(raw)).toHaveLength(5);
  });
});
