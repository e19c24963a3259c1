import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenovateBodySchema } from '../../src/datasource/renovate-body.js';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService, type FixtureServiceOptions } from '../helpers/fixture-service.js';

const pkg = (name: string, version: string): FixturePackage => ({ name, version, buildTime: 1_700_000_000 });

/** The shapes a homelab meets: a newest build on x86_64 only, one-arch packages, two repositories. */
const repositories: FixtureServiceOptions['repositories'] = {
  wolfi: {
    x86_64: [
      pkg('bootc', '1.16.7-r0'),
      pkg('bootc', '1.17.0-r0'),
      pkg('intel-ucode', '20241112-r0'),
      pkg('curl', '8.11.0-r0'),
    ],
    aarch64: [
      pkg('bootc', '1.16.7-r0'),
      pkg('rpi-firmware', '1.20240529-r0'),
      pkg('rpi-firmware', '1.20241008-r0'),
      pkg('curl', '8.11.0-r0'),
    ],
  },
  alpine: {
    x86_64: [pkg('curl', '8.12.0-r0')],
    aarch64: [pkg('curl', '8.11.1-r0')],
  },
};

const versionsOf = async (f: FixtureService, url: string) => {
  const res = await f.service.app.inject({ method: 'GET', url });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return RenovateBodySchema.parse(res.json()).releases.map((r) => r.version);
};

describe('a query without ?arch= (safe by default)', () => {
  let f: FixtureService;
  beforeAll(async () => {
    f = await startFixtureService({ repositories });
  });
  afterAll(async () => f.close());
  const get = (url: string) => f.service.app.inject({ method: 'GET', url });

  it('holds a version back until it is on every arch its repository holds the package on', async () => {
    expect(await versionsOf(f, '/bootc')).toEqual(['1.16.7-r0']);
    expect((await get('/bootc/latest')).body).toBe('1.16.7-r0\n');
    expect(await versionsOf(f, '/wildcardVersion/bootc')).toEqual(['1.16.7-r0']);
  });

  it('answers a one-arch package its versions on that arch', async () => {
    expect(await versionsOf(f, '/rpi-firmware')).toEqual(['1.20240529-r0', '1.20241008-r0']);
    expect(await versionsOf(f, '/intel-ucode')).toEqual(['20241112-r0']);
  });

  it('judges each repository by its own arches', async () => {
    // alpine holds curl on both arches but no version on both; wolfi's 8.11.0-r0 is on both.
    expect(await versionsOf(f, '/curl')).toEqual(['8.11.0-r0']);
    expect(await versionsOf(f, '/curl?repository=wolfi')).toEqual(['8.11.0-r0']);
    const alpine = await get('/curl?repository=alpine');
    expect(alpine.statusCode).toBe(404);
    expect(alpine.body).toBe('package "curl" has no version present on every arch that holds it\n');
  });

  it('keeps the meaning of an explicit ?arch=', async () => {
    expect(await versionsOf(f, '/bootc?arch=x86_64')).toEqual(['1.16.7-r0', '1.17.0-r0']);
    expect(await versionsOf(f, '/bootc?arch=aarch64,x86_64')).toEqual(['1.16.7-r0']);
    expect(await versionsOf(f, '/curl?arch=x86_64')).toEqual(['8.11.0-r0', '8.12.0-r0']);
    expect((await get('/rpi-firmware?arch=x86_64,aarch64')).statusCode).toBe(404);
  });

  it('answers a bad ?arch= or ?repository= 400 with a hint, never 404, on both package routes', async () => {
    const cases: Array<[string, string]> = [
      ['/bootc?arch=amd64', "?arch=amd64: amd64 is apko's name; use x86_64"],
      ['/bootc?arch=x86_64,arm64', "?arch=arm64: arm64 is apko's name; use aarch64"],
      ['/no-such-package?arch=x86-64', '?arch=x86-64: not a configured arch; use one of aarch64, x86_64'],
      ['/bootc?arch=riscv64', '?arch=riscv64: not a configured arch; use one of aarch64, x86_64'],
      [
        '/bootc?arch=386',
        "?arch=386: 386 is apko's name; use x86 (not configured here either; configured: aarch64, x86_64)",
      ],
      ['/bootc?repository=wolf', '?repository=wolf: not a configured repository; use one of wolfi, alpine'],
      ['/wildcardVersion/bootc*?arch=amd64', "?arch=amd64: amd64 is apko's name; use x86_64"],
      [
        '/bootc/latest?repository=wolfi,nope',
        '?repository=nope: not a configured repository; use one of wolfi, alpine',
      ],
    ];
    for (const [url, line] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type'], url).toBe('text/plain; charset=utf-8');
      expect(res.body, url).toBe(`${line}\n`);
    }
  });
});

describe('the anyArch setting', () => {
  let f: FixtureService;
  beforeAll(async () => {
    f = await startFixtureService({ repositories, settings: { anyArch: true } });
  });
  afterAll(async () => f.close());

  it('restores versions from any arch for a query without ?arch=', async () => {
    expect(await versionsOf(f, '/bootc')).toEqual(['1.16.7-r0', '1.17.0-r0']);
    expect(await versionsOf(f, '/curl')).toEqual(['8.11.0-r0', '8.11.1-r0', '8.12.0-r0']);
    expect(await versionsOf(f, '/bootc?arch=aarch64')).toEqual(['1.16.7-r0']);
  });
});

describe('anyArch in the configuration', () => {
  it('is read from the file and the environment, true or false', async () => {
    const { loadSettings } = await import('../../src/config/load.js');
    expect(loadSettings([], {}).anyArch).toBe(false);
    expect(loadSettings([], { APK_INDEXER_ANY_ARCH: 'true' }).anyArch).toBe(true);
    expect(() => loadSettings([], { APK_INDEXER_ANY_ARCH: 'sometimes' })).toThrow(
      'APK_INDEXER_ANY_ARCH: expected true or false, got "sometimes"',
    );
  });
});

describe('pin, check and init through --server (HttpVersionSource) against the safe default', () => {
  let f: FixtureService;
  beforeAll(async () => {
    f = await startFixtureService({ repositories, listen: true });
  });
  afterAll(async () => f.close());

  it('tells a known name without a version on every arch from an unknown one, and asks with filters as Renovate does', async () => {
    const { HttpVersionSource } = await import('../../src/generate/version-source.js');
    const source = await HttpVersionSource.open(f.baseUrl);
    // alpine's curl is on both arches, no version on both: known, no versions.
    expect(await source.answer('curl', { repositories: ['alpine'] })).toBeUndefined();
    expect(await source.versions('rpi-firmware', ['x86_64', 'aarch64'])).toEqual([]);
    expect(await source.versions('no-such-package', ['x86_64'])).toBeUndefined();
    expect(await source.answer('bootc', {})).toEqual(['1.16.7-r0']);
    expect(await source.answer('bootc', { arches: ['x86_64'], repositories: ['wolfi'] })).toEqual([
      '1.16.7-r0',
      '1.17.0-r0',
    ]);
    await expect(source.answer('bootc', { arches: ['amd64'] })).rejects.toThrow(
      "HTTP 400: ?arch=amd64: amd64 is apko's name; use x86_64",
    );
  });
});
