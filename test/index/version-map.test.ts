import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildIndexArchive, type FixturePackage } from '../fixtures/apk-repo.js';
import { readIndexBody } from '../../src/load/load-index.js';
import { VersionMap } from '../../src/index/version-map.js';
import { toRenovateBody } from '../../src/datasource/renovate-body.js';
import { resolveLimits } from '../../src/parse/limits.js';

async function snapshot(arch: string, repository: string, packages: FixturePackage[]) {
  const archive = buildIndexArchive({ packages: packages.map((p) => ({ ...p, arch })) });
  const url = `http://repo.test/${repository}/${arch}/APKINDEX.tar.gz`;
  return (
    await readIndexBody(Readable.from([archive]), { url, arch, repository }, { keys: [], limits: resolveLimits() })
  ).snapshot;
}

describe('the version map', () => {
  it('keeps each version once, in apk order, whatever the index order', async () => {
    const s = await snapshot('x86_64', 'os', [
      { name: 'openssl', version: '3.4.0-r10' },
      { name: 'openssl', version: '3.4.0_rc9-r0' },
      { name: 'openssl', version: '3.4.0-r9' },
      { name: 'openssl', version: '3.4.0_rc10-r0' },
      { name: 'openssl', version: '3.3.2-r0' },
      { name: 'openssl', version: '3.4.0-r9' },
    ]);
    const map = new VersionMap([s]);
    expect(map.releases('openssl')!.map((r) => r.version)).toEqual([
      '3.3.2-r0',
      '3.4.0_rc9-r0',
      '3.4.0_rc10-r0',
      '3.4.0-r9',
      '3.4.0-r10',
    ]);
  });

  it('merges arches and keeps only versions present on every requested arch', async () => {
    const x86 = await snapshot('x86_64', 'os', [
      { name: 'bootc', version: '1.16.6-r0', buildTime: 1_700_000_000 },
      { name: 'bootc', version: '1.16.7-r0', buildTime: 1_700_000_100 },
    ]);
    const arm = await snapshot('aarch64', 'os', [{ name: 'bootc', version: '1.16.6-r0', buildTime: 1_700_000_050 }]);
    const map = new VersionMap([x86, arm]);
    const all = map.releases('bootc')!;
    expect(all.map((r) => [r.version, r.arches])).toEqual([
      ['1.16.6-r0', ['aarch64', 'x86_64']],
      ['1.16.7-r0', ['x86_64']],
    ]);
    // The version is complete only once its last arch is built.
    expect(all[0]!.buildTime).toBe(1_700_000_050);
    expect(map.releases('bootc', { arches: ['x86_64', 'aarch64'] })!.map((r) => r.version)).toEqual(['1.16.6-r0']);
    expect(map.releases('bootc', { arches: ['riscv64'] })).toEqual([]);
    expect(map.releases('nope')).toBeUndefined();
  });

  it('filters by repository name', async () => {
    const os = await snapshot('x86_64', 'os', [{ name: 'tool', version: '1.0-r0' }]);
    const extras = await snapshot('x86_64', 'extras', [{ name: 'tool', version: '2.0-r0' }]);
    const map = new VersionMap([os, extras]);
    expect(map.releases('tool')!.map((r) => [r.version, r.repositories])).toEqual([
      ['1.0-r0', ['os']],
      ['2.0-r0', ['extras']],
    ]);
    expect(map.releases('tool', { repositories: ['extras'] })!.map((r) => r.version)).toEqual(['2.0-r0']);
    expect(map.releases('tool', { repositories: ['elsewhere'] })).toBeUndefined();
  });

  it('makes versioned streams findable under the name they provide', async () => {
    const s = await snapshot('x86_64', 'os', [
      { name: 'argo-cd', version: '2.7.9-r2', provides: ['cmd:argocd=2.7.9-r2'] },
      { name: 'argo-cd-2.11', version: '2.11.7-r0', provides: ['argo-cd=2.11.7-r0', 'cmd:argocd=2.11.7-r0'] },
      { name: 'argo-cd-2.12', version: '2.12.4-r0', provides: ['argo-cd=2.12.4-r0'] },
      { name: 'argo-cd-2.12', version: '2.12.3-r1', provides: ['argo-cd=2.12.3-r1'] },
    ]);
    const map = new VersionMap([s]);
    expect(map.releases('argo-cd')!.map((r) => r.version)).toEqual(['2.7.9-r2', '2.11.7-r0', '2.12.3-r1', '2.12.4-r0']);
    expect(map.releases('argo-cd-2.12')!.map((r) => r.version)).toEqual(['2.12.3-r1', '2.12.4-r0']);
    expect(map.has('argocd')).toBe(false);
    expect(map.has('cmd:argocd')).toBe(false);
  });

  it('answers in Renovate custom datasource form, with no null anywhere', async () => {
    const s = await snapshot('x86_64', 'os', [
      { name: 'nodejs', version: '22.0.0-r0', buildTime: 1_714_000_000, url: 'https://nodejs.org/' },
      { name: 'nodejs', version: '22.1.0_rc1-r0', buildTime: 1_715_000_000, url: 'https://nodejs.org/' },
      { name: 'nodejs', version: '21.9.0-r0', buildTime: 0, url: 'https://nodejs.org/' },
    ]);
    const body = toRenovateBody(new VersionMap([s]).releases('nodejs')!);
    expect(body).toEqual({
      releases: [
        { version: '21.9.0-r0' },
        { version: '22.0.0-r0', releaseTimestamp: '2024-04-24T23:06:40.000Z' },
        { version: '22.1.0_rc1-r0', releaseTimestamp: '2024-05-06T12:53:20.000Z', isStable: false },
      ],
      homepage: 'https://nodejs.org/',
      tags: { latest: '22.0.0-r0' },
    });
    expect(JSON.stringify(body)).not.toContain('null');
  });

  it('takes the homepage from the newest release that has one, when the newest has an empty U:', async () => {
    const apkindex =
      [
        'P:tool',
        'V:1.0-r0',
        'U:https://tool.example/',
        '',
        'P:tool',
        'V:1.1-r0',
        'U:https://tool.example/v1.1',
        '',
        'P:tool',
        'V:2.0-r0',
        'U:',
        '',
      ].join('\n') + '\n';
    const archive = buildIndexArchive({ apkindex });
    const url = 'http://repo.test/os/x86_64/APKINDEX.tar.gz';
    const s = (
      await readIndexBody(
        Readable.from([archive]),
        { url, arch: 'x86_64', repository: 'os' },
        { keys: [], limits: resolveLimits() },
      )
    ).snapshot;
    const releases = new VersionMap([s]).releases('tool')!;
    expect(releases.map((r) => [r.version, r.url])).toEqual([
      ['1.0-r0', 'https://tool.example/'],
      ['1.1-r0', 'https://tool.example/v1.1'],
      ['2.0-r0', ''],
    ]);
    expect(toRenovateBody(releases).homepage).toBe('https://tool.example/v1.1');
    expect(toRenovateBody(releases.slice(2))).not.toHaveProperty('homepage');
  });
});
