import { afterEach, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import {
  startFixtureService,
  type FixtureService,
  type FixtureServiceOptions,
  type RepoContent,
} from '../helpers/fixture-service.js';

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const lines: string[] = [];
const start = async (repositories: Record<string, RepoContent>, options: Partial<FixtureServiceOptions> = {}) => {
  lines.length = 0;
  f = await startFixtureService({
    repositories,
    service: { logStream: { write: (l: string) => void lines.push(l) } },
    settings: { logLevel: 'info' },
    ...options,
  });
  return f;
};
const get = (url: string) => f!.service.app.inject({ method: 'GET', url });
const versions = async (name: string) =>
  ((await get(`/${name}?arch=x86_64`)).json() as { releases: Array<{ version: string }> }).releases.map(
    (r) => r.version,
  );
const metric = async (kind: string) => {
  const text = (await get('/metrics')).body;
  const line = text
    .split('\n')
    .find((l) => l.startsWith('apk_indexer_index_regressions_total{') && l.includes(`kind="${kind}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};
const warnings = () =>
  lines
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level === 40)
    .map((l) => l.msg);
const pkgs = (count: number, version: string, buildTime: number): FixturePackage[] =>
  Array.from({ length: count }, (_, i) => ({ name: `p${i}`, version, buildTime }));

describe('an older but validly signed index (rollback, freeze)', () => {
  it('is served, warned about and counted when its newest build time goes back', async () => {
    await start({ os: { x86_64: pkgs(10, '2.0-r0', 1_800_000_000) } });
    expect(await metric('build-time')).toBe(0);
    await f!.publish('os', { x86_64: pkgs(10, '1.0-r0', 1_700_000_000) });
    await f!.refresh();
    expect(await versions('p3')).toEqual(['1.0-r0']);
    expect(await metric('build-time')).toBe(1);
    expect(await metric('records')).toBe(0);
    expect(warnings().some((m) => m.startsWith('index went back in time'))).toBe(true);
    // A newer index again is no regression.
    await f!.publish('os', { x86_64: pkgs(10, '3.0-r0', 1_900_000_000) });
    await f!.refresh();
    expect(await metric('build-time')).toBe(1);
  });

  it('is counted when it loses more than a quarter of its records, and not for a small drop', async () => {
    await start({ os: { x86_64: pkgs(100, '1.0-r0', 1_700_000_000) } });
    await f!.publish('os', { x86_64: pkgs(80, '1.0-r0', 1_700_000_000) });
    await f!.refresh();
    expect(await metric('records')).toBe(0);
    await f!.publish('os', { x86_64: pkgs(40, '1.0-r0', 1_700_000_000) });
    await f!.refresh();
    expect(await metric('records')).toBe(1);
    expect(f!.service.store.status()[0]!.records).toBe(40);
  });
});

describe('records of another arch than the URL names', () => {
  const status = () => f!.service.store.status()[0]!;

  it('fail the refresh (reason format) and the last good data is kept; noarch records are fine', async () => {
    await start({
      os: {
        x86_64: [
          { name: 'curl', version: '8.11.0-r0' },
          { name: 'ca-certificates-bundle', version: '1-r0', arch: 'noarch' },
        ],
      },
    });
    expect(await versions('ca-certificates-bundle')).toEqual(['1-r0']);
    // An aarch64 index published at the x86_64 URL.
    await f!.publish('os', { x86_64: [{ name: 'curl', version: '8.12.0-r0', arch: 'aarch64' }] });
    await f!.refresh();
    expect(status().lastError?.reason).toBe('format');
    expect(status().lastError?.message).toContain('record for arch "aarch64" in the index of x86_64');
    expect(await versions('curl')).toEqual(['8.11.0-r0']);
  });

  it('are read when the repository sets allowForeignArch', async () => {
    await start(
      { os: { x86_64: [{ name: 'curl', version: '8.12.0-r0', arch: 'aarch64' }] } },
      { repositorySettings: { os: { allowForeignArch: true } } },
    );
    expect(status().lastError).toBeUndefined();
    expect(await versions('curl')).toEqual(['8.12.0-r0']);
  });
});
