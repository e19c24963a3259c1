import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_HEADER, REASONS, type Reason } from '../../src/datasource/reasons.js';
import { readTarFiles } from '../../src/decode/tar-reader.js';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService, type RepoContent } from '../helpers/fixture-service.js';

const pkg = (name: string, version: string, extra: Partial<FixturePackage> = {}): FixturePackage => ({
  name,
  version,
  buildTime: 1_700_000_000,
  ...extra,
});

/** Wolfi's shapes: a version on one arch only, a package providing another's name, a description and URL. */
const OS: RepoContent = {
  x86_64: [
    pkg('bootc', '1.16.7-r0', { description: 'bootable containers', url: 'https://github.com/bootc-dev/bootc' }),
    pkg('bootc', '1.17.0-r0', { buildTime: 1_700_000_500 }),
    pkg('argo-cd-2.12', '2.12.3-r0', {
      provides: ['argo-cd=2.12.3-r0', 'cmd:argocd=2.12.3-r0'],
      origin: 'argo-cd-2.12',
    }),
    pkg('intel-ucode', '20241112-r0'),
  ],
  aarch64: [
    pkg('bootc', '1.16.7-r0', { buildTime: 1_700_000_100, description: 'bootable containers' }),
    pkg('argo-cd-2.12', '2.12.3-r0', { provides: ['argo-cd=2.12.3-r0'], origin: 'argo-cd-2.12' }),
  ],
};

/** The APKINDEX member of a synthesized answer, as text. */
function apkindex(body: Buffer): string {
  const entries = readTarFiles(gunzipSync(body));
  expect(entries.map((e) => e.name)).toEqual(['DESCRIPTION', 'APKINDEX']);
  return entries[1]!.data.toString('utf8');
}

describe('GET /-/apk/<repository>/<arch>/APKINDEX.tar.gz', () => {
  let fixture: FixtureService;
  const get = (url: string, headers: Record<string, string> = {}) =>
    fixture.service.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    fixture = await startFixtureService({ repositories: { os: OS, other: { x86_64: [pkg('curl', '8.11.1-r0')] } } });
  });
  afterAll(async () => fixture?.close());

  it('one arch: every name of its index, provided names as records of their own, t: kept', async () => {
    const res = await get('/-/apk/os/x86_64/APKINDEX.tar.gz');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(apkindex(res.rawPayload)).toBe(
      [
        // From argo-cd-2.12's p:argo-cd=2.12.3-r0 (its cmd:argocd is no package name Renovate asks for).
        'P:argo-cd\nV:2.12.3-r0\nA:x86_64\no:argo-cd-2.12\nt:1700000000\n',
        'P:argo-cd-2.12\nV:2.12.3-r0\nA:x86_64\no:argo-cd-2.12\nt:1700000000\n',
        'P:bootc\nV:1.16.7-r0\nA:x86_64\nU:https://github.com/bootc-dev/bootc\no:bootc\nt:1700000000\n',
        'P:bootc\nV:1.17.0-r0\nA:x86_64\no:bootc\nt:1700000500\n',
        'P:intel-ucode\nV:20241112-r0\nA:x86_64\no:intel-ucode\nt:1700000000\n',
        '',
      ].join('\n'),
    );
  });

  it('all: only versions on every arch of the repository, with the newest build time', async () => {
    const res = await get('/-/apk/os/all/APKINDEX.tar.gz');
    expect(res.statusCode).toBe(200);
    expect(apkindex(res.rawPayload)).toBe(
      [
        'P:argo-cd\nV:2.12.3-r0\no:argo-cd-2.12\nt:1700000000\n',
        'P:argo-cd-2.12\nV:2.12.3-r0\no:argo-cd-2.12\nt:1700000000\n',
        // 1.17.0-r0 and intel-ucode are on x86_64 only. The record's fields are the first arch's, its t: the newest.
        'P:bootc\nV:1.16.7-r0\nU:https://github.com/bootc-dev/bootc\no:bootc\nt:1700000100\n',
        '',
      ].join('\n'),
    );
  });

  it('answers a conditional request with 304, HEAD without a body, and the same bytes until an index changes', async () => {
    const first = await get('/-/apk/os/all/APKINDEX.tar.gz');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get('/-/apk/os/all/APKINDEX.tar.gz', { 'if-none-match': etag });
    expect([again.statusCode, again.headers[REASON_HEADER]]).toEqual([304, 'not-modified']);
    expect(again.rawPayload.length).toBe(0);
    const head = await fixture.service.app.inject({ method: 'HEAD', url: '/-/apk/os/all/APKINDEX.tar.gz' });
    expect(head.statusCode).toBe(200);
    expect(head.headers.etag).toBe(etag);

    // A refresh that changes nothing keeps the bytes (and the 304); a new version on aarch64 changes `all`.
    await fixture.refresh();
    expect((await get('/-/apk/os/all/APKINDEX.tar.gz', { 'if-none-match': etag })).statusCode).toBe(304);
    await fixture.publish('os', { ...OS, aarch64: [...OS.aarch64!, pkg('bootc', '1.17.0-r0')] });
    await fixture.refresh();
    const changed = await get('/-/apk/os/all/APKINDEX.tar.gz', { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(apkindex(changed.rawPayload)).toContain('P:bootc\nV:1.17.0-r0\no:bootc\nt:1700000500\n');
    await fixture.publish('os', OS);
    await fixture.refresh();
  });

  it('404 in one line for an unknown repository, arch or path; never a 5xx', async () => {
    const cases: [string, string, string][] = [
      [
        '/-/apk/nope/x86_64/APKINDEX.tar.gz',
        'no-index-repository',
        'no repository "nope" here; use one of os, other\n',
      ],
      [
        '/-/apk/os/s390x/APKINDEX.tar.gz',
        'no-index-arch',
        'repository os has no arch "s390x"; use one of x86_64, aarch64, all\n',
      ],
      [
        '/-/apk/other/aarch64/APKINDEX.tar.gz',
        'no-index-arch',
        'repository other has no arch "aarch64"; use one of x86_64, all\n',
      ],
      ['/-/apk/os/x86_64/APKINDEX', 'not-an-index', 'not an index: ask /-/apk/<repository>/<arch>/APKINDEX.tar.gz\n'],
      ['/-/apk/os', 'not-an-index', 'not an index: ask /-/apk/<repository>/<arch>/APKINDEX.tar.gz\n'],
    ];
    for (const [url, reason, body] of cases) {
      const res = await get(url);
      expect([url, res.statusCode, res.headers[REASON_HEADER], res.body]).toEqual([url, 404, reason, body]);
      expect(REASONS[reason as Reason].status, url).toBe(404);
    }
  });

  it('an index that failed its first load is a 503 at once, never an index without its versions', async () => {
    // aarch64 is configured but its upstream answers 404: the repository is ready, that index never loads.
    const partial = await startFixtureService({
      repositories: { os: { x86_64: OS.x86_64! } },
      repositorySettings: { os: { arches: ['x86_64', 'aarch64'] } },
    });
    try {
      const get = (url: string) => partial.service.app.inject({ method: 'GET', url });
      expect((await get('/-/apk/os/x86_64/APKINDEX.tar.gz')).statusCode).toBe(200);
      for (const arch of ['aarch64', 'all']) {
        const res = await get(`/-/apk/os/${arch}/APKINDEX.tar.gz`);
        expect([res.statusCode, res.headers['retry-after'], res.headers[REASON_HEADER], res.body]).toEqual([
          503,
          '5',
          'loading',
          'indexes are still loading (1 of 2 loaded); retry shortly\n',
        ]);
      }
    } finally {
      await partial.close();
    }
  });
});
