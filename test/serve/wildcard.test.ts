import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { wildcardMatcher } from '../../src/serve/wildcard.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { RenovateBodySchema } from '../../src/datasource/renovate-body.js';

// The package names hown3d/renovate-apk-indexer's README lists, plus a few that must not match.
const NAMES = [
  'argo-cd',
  'argo-cd-compat',
  'argo-cd-repo-server',
  'argo-cd-2.9',
  'argo-cd-2.9-compat',
  'argo-cd-2.9-repo-server',
  'argo-cd-2.10',
  'argo-cd-2.10-compat',
  'argo-cd-2.10-repo-server',
  'argo-cd-foo',
  'argo-cdx-2.9',
  'nodejs',
  'nodejs-18',
  'nodejs-20',
  'nodejs-22',
  'nodejs-22-doc',
  'ruby3.2',
  'ruby-3.3',
  'ruby3.2-bundler',
];

const matched = (pattern: string) => {
  const matches = wildcardMatcher(pattern);
  if (!matches) throw new Error(`no matcher for ${pattern}`);
  return NAMES.filter(matches);
};

describe('wildcard patterns (hown3d/renovate-apk-indexer semantics)', () => {
  it('argo-cd* and argo-cd-* match argo-cd-<version> only', () => {
    expect(matched('argo-cd*')).toEqual(['argo-cd-2.9', 'argo-cd-2.10']);
    expect(matched('argo-cd-*')).toEqual(['argo-cd-2.9', 'argo-cd-2.10']);
    expect(matched('nodejs*')).toEqual(['nodejs-18', 'nodejs-20', 'nodejs-22']);
  });

  it('argo-cd-*-compat and argo-cd*compat match argo-cd-<version>-compat and argo-cd-compat', () => {
    expect(matched('argo-cd-*-compat')).toEqual(['argo-cd-compat', 'argo-cd-2.9-compat', 'argo-cd-2.10-compat']);
    expect(matched('argo-cd*compat')).toEqual(['argo-cd-compat', 'argo-cd-2.9-compat', 'argo-cd-2.10-compat']);
    expect(matched('argo-cd-*-repo-server')).toEqual([
      'argo-cd-repo-server',
      'argo-cd-2.9-repo-server',
      'argo-cd-2.10-repo-server',
    ]);
  });

  it('without a dash before the star the version may follow the name directly', () => {
    expect(matched('ruby*')).toEqual(['ruby3.2', 'ruby-3.3']);
    expect(matched('ruby-*')).toEqual(['ruby-3.3']);
    expect(matched('ruby*-bundler')).toEqual(['ruby3.2-bundler']);
  });

  it('refuses patterns that are not one star after a name', () => {
    for (const pattern of ['*', '*-compat', 'a**', 'a*b*c', 'argo-cd'])
      expect(wildcardMatcher(pattern), pattern).toBeUndefined();
  });

  it('treats regular expression characters literally', () => {
    const matches = wildcardMatcher('libstdc++*')!;
    expect(matches('libstdc++-14')).toBe(true);
    expect(matches('libstdcc-14')).toBe(false);
  });
});

describe('GET /wildcardVersion/<pattern>', () => {
  const pkg = (name: string, version: string, extra: Partial<FixturePackage> = {}): FixturePackage => ({
    name,
    version,
    ...extra,
  });
  let f: FixtureService;
  beforeAll(async () => {
    f = await startFixtureService({
      repositories: {
        os: {
          x86_64: [
            pkg('argo-cd', '2.8.4-r0'),
            pkg('argo-cd-2.9', '2.9.3-r0'),
            pkg('argo-cd-2.9', '2.9.10-r0'),
            pkg('argo-cd-2.10', '2.10.1-r0'),
            pkg('argo-cd-2.10', '2.10.2_rc1-r0'),
            pkg('argo-cd-2.10-compat', '2.10.1-r0'),
            pkg('argo-cd-compat', '2.8.4-r0'),
            pkg('argo-cd-2.10-repo-server', '2.10.1-r0'),
            // Names the operator routes take at the top level.
            pkg('metrics', '0.3.1-r0'),
            pkg('livez', '1.0-r0'),
            pkg('readyz', '2.0-r1'),
          ],
          aarch64: [pkg('argo-cd-2.9', '2.9.3-r0'), pkg('argo-cd-2.10', '2.10.1-r0')],
        },
      },
    });
  });
  afterAll(async () => f.close());

  const get = (url: string) => f.service.app.inject({ method: 'GET', url });
  const versions = async (url: string) => {
    const res = await get(url);
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    return RenovateBodySchema.parse(res.json()).releases.map((r) => r.version);
  };

  it('merges the releases of every matched name in apk order, each once', async () => {
    expect(await versions('/wildcardVersion/argo-cd-*?arch=x86_64')).toEqual([
      '2.9.3-r0',
      '2.9.10-r0',
      '2.10.1-r0',
      '2.10.2_rc1-r0',
    ]);
    expect(await versions('/wildcardVersion/argo-cd*compat')).toEqual(['2.8.4-r0', '2.10.1-r0']);
    expect((await get('/wildcardVersion/argo-cd-*')).json().tags).toEqual({ latest: '2.10.1-r0' });
  });

  it('applies the arch filter per name and the formats of /<name>', async () => {
    expect(await versions('/wildcardVersion/argo-cd-*?arch=x86_64,aarch64')).toEqual(['2.9.3-r0', '2.10.1-r0']);
    // Without ?arch=, per name: each argo-cd-X is on both arches, so only versions on both are answered.
    expect(await versions('/wildcardVersion/argo-cd-*')).toEqual(['2.9.3-r0', '2.10.1-r0']);
    expect((await get('/wildcardVersion/argo-cd-*?format=plain&arch=x86_64')).body).toBe(
      '2.9.3-r0\n2.9.10-r0\n2.10.1-r0\n2.10.2_rc1-r0\n',
    );
    expect((await get('/wildcardVersion/argo-cd-*/latest')).body).toBe('2.10.1-r0\n');
  });

  it('answers a name without * like /<name>, as hown3d does', async () => {
    expect(await versions('/wildcardVersion/argo-cd')).toEqual(['2.8.4-r0']);
    expect((await get('/wildcardVersion/argo-cd')).body).toBe((await get('/argo-cd')).body);
  });

  it('reaches packages called metrics, livez and readyz, whose /<name> routes are the operator routes', async () => {
    for (const [name, version] of [
      ['metrics', '0.3.1-r0'],
      ['livez', '1.0-r0'],
      ['readyz', '2.0-r1'],
    ] as const) {
      expect(await versions(`/wildcardVersion/${name}`), name).toEqual([version]);
      expect((await get(`/wildcardVersion/${name}/latest`)).body, name).toBe(`${version}\n`);
      expect((await get(`/wildcardVersion/${name}?format=plain`)).body, name).toBe(`${version}\n`);
    }
    // The top-level routes stay what they are.
    expect((await get('/metrics')).body).toMatch(/^# HELP /);
    expect((await get('/livez')).body).toBe('ok\n');
    expect((await get('/readyz')).body).toBe('ready\n');
  });

  it('answers 404 with one line when nothing matches or the pattern is unusable', async () => {
    const none = await get('/wildcardVersion/nodejs-*');
    expect(none.statusCode).toBe(404);
    expect(none.body).toBe('pattern "nodejs-*" matches no package in any configured index\n');
    const bad = await get('/wildcardVersion/a*b*');
    expect(bad.statusCode).toBe(404);
    expect(bad.body).toMatch(/^pattern "a\*b\*" needs exactly one \* after a name/);
  });

  it('keeps misses in the answer cache only for real scans, not for plain names or refused patterns', async () => {
    await get('/wildcardVersion/argo-cd-*'); // the cache belongs to the current generation from here on
    const cache = f.service.cache;
    const before = cache.size;
    for (let i = 0; i < 200; i++) {
      expect((await get(`/wildcardVersion/no-such-package-${i}`)).statusCode).toBe(404);
      expect((await get(`/wildcardVersion/a*b*${i}`)).statusCode).toBe(404);
      expect((await get(`/wildcardVersion/*-${i}`)).statusCode).toBe(404);
      expect((await get(`/wildcardVersion/no-such-package-${i}/latest`)).statusCode).toBe(404);
    }
    expect(cache.size).toBe(before);
    // A pattern that scans every name is still kept, found or not.
    expect((await get('/wildcardVersion/no-such-package-*')).statusCode).toBe(404);
    expect(cache.size).toBe(before + 1);
  });
});
