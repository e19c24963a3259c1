import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RepositorySettings } from '../../src/config/settings.js';
import { buildIndexArchive, generateFixtureKey } from '../fixtures/apk-repo.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { startFixtureService, testSettings, type FixtureService } from '../helpers/fixture-service.js';
import { eventually } from '../helpers/wait.js';

const content = {
  x86_64: [
    { name: 'curl', version: '8.11.0-r0' },
    { name: 'curl', version: '8.12.0-r0' },
  ],
};
let f: FixtureService | undefined;
let restarted: Service | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await restarted?.app.close();
  await f?.close();
  restarted = f = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const lines: string[] = [];
async function first(): Promise<{ stateDir: string; repositories: RepositorySettings[] }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'apk-state-'));
  dirs.push(stateDir);
  f = await startFixtureService({ repositories: { os: content }, settings: { stateDir } });
  const repositories = [
    { name: 'os', url: `${f.upstream.url}/os`, arches: ['x86_64'], keys: [`${f.upstream.url}/os/${f.key.name}`] },
  ];
  return { stateDir, repositories };
}
/** A second service with the same settings, as after a restart; it has not started refreshing yet. */
async function restart(stateDir: string, repositories: RepositorySettings[]): Promise<Service> {
  lines.length = 0;
  restarted = buildService(testSettings(repositories, { stateDir, logLevel: 'info' }), {
    logStream: { write: (l: string) => void lines.push(l) },
    retryBaseMs: 60_000,
  });
  await restarted.app.ready();
  return restarted;
}
const versions = async (s: Service) => {
  const res = await s.app.inject({ method: 'GET', url: '/curl?arch=x86_64' });
  return res.statusCode === 200
    ? (res.json() as { releases: Array<{ version: string }> }).releases.map((r) => r.version)
    : res.statusCode;
};
const warnings = () =>
  lines
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level === 40)
    .map((l) => l.msg);
const savedFile = async (stateDir: string) =>
  join(
    stateDir,
    (await readdir(stateDir)).find((n) => n.endsWith('.apkindex'))!,
  );
const OUTAGE = Array.from({ length: 50 }, () => ({ status: 503 }));

describe('a state directory', () => {
  it('keeps the verified index, and a restart during an upstream outage serves it at once', async () => {
    const { stateDir, repositories } = await first();
    expect(await readdir(stateDir)).toHaveLength(1); // no temporary file left behind
    f!.upstream.fail(...OUTAGE); // the index and its key URL both answer 503 from now on
    const s = await restart(stateDir, repositories);
    s.store.start();
    expect(await s.store.whenReady(5_000)).toBe(true);
    expect(await versions(s)).toEqual(['8.11.0-r0', '8.12.0-r0']);
    expect(s.store.status()[0]!.verifiedBy).toBe(f!.key.name);
    expect(lines.some((l) => l.includes('index restored from the state directory'))).toBe(true);
  });

  it('makes the first refresh after a restart conditional on the saved ETag', async () => {
    const { stateDir, repositories } = await first();
    const etag = f!.service.store.status()[0]!.etag;
    expect(etag).toBeDefined();
    const s = await restart(stateDir, repositories);
    const before = f!.upstream.requestsFor('x86_64/APKINDEX.tar.gz').length;
    s.store.start();
    expect(await s.store.whenReady(5_000)).toBe(true);
    await s.store.refreshAll();
    const after = f!.upstream.requestsFor('x86_64/APKINDEX.tar.gz').slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.ifNoneMatch === etag && r.status === 304)).toBe(true);
  });

  it('ignores a corrupt file with a warning and never serves it', async () => {
    const { stateDir, repositories } = await first();
    const path = await savedFile(stateDir);
    const bytes = await readFile(path);
    bytes[bytes.length - 40]! ^= 0x55; // inside the signed member
    await writeFile(path, bytes);
    f!.upstream.fail(...OUTAGE);
    const s = await restart(stateDir, repositories);
    s.store.start();
    expect(await s.store.whenReady(300)).toBe(false);
    expect(await versions(s)).toBe(503);
    await eventually(() => expect(warnings().some((m) => m.startsWith('saved index ignored, not served'))).toBe(true));
  });

  it('ignores an index signed by another key, or saved for another repository', async () => {
    const { stateDir, repositories } = await first();
    const path = await savedFile(stateDir);
    const bytes = await readFile(path);
    const nl = bytes.indexOf(0x0a);
    // The same header over an archive signed by a stranger whose key has the trusted key's name.
    const stranger = { ...generateFixtureKey(), name: f!.key.name };
    const foreign = buildIndexArchive({ packages: [{ name: 'curl', version: '99.0-r0' }], sign: [{ key: stranger }] });
    const head = JSON.parse(bytes.toString('utf8', 0, nl)) as Record<string, unknown>;
    await writeFile(
      path,
      Buffer.concat([Buffer.from(JSON.stringify({ ...head, bytes: foreign.length }) + '\n'), foreign]),
    );
    f!.upstream.fail(...OUTAGE);
    let s = await restart(stateDir, repositories);
    s.store.start();
    expect(await s.store.whenReady(300)).toBe(false);
    await eventually(() => expect(warnings().some((m) => m.includes('does not match the index'))).toBe(true));
    await s.app.close();
    // Another repository's file under this one's name.
    await writeFile(
      path,
      Buffer.concat([Buffer.from(JSON.stringify({ ...head, repository: 'other' }) + '\n'), bytes.subarray(nl + 1)]),
    );
    s = await restart(stateDir, repositories);
    s.store.start();
    expect(await s.store.whenReady(300)).toBe(false);
    await eventually(() => expect(warnings().some((m) => m.includes('saved for another index'))).toBe(true));
  });

  it('removes at start the temporary files a crash left (ours, written before the start), and no others', async () => {
    const { stateDir, repositories } = await first();
    const saved = await savedFile(stateDir);
    const digest = saved.slice(stateDir.length + 1, -'.apkindex'.length);
    // What `kill -9` between writing and renaming leaves: `<digest>.apkindex.<12 hex>.tmp`, of any size.
    const orphans = [`${digest}.apkindex.0123456789ab.tmp`, `${'f'.repeat(32)}.apkindex.a1b2c3d4e5f6.tmp`];
    const others = [
      'notes.tmp', // not our naming
      `${digest}.apkindex.tmp`, // no random part
      `${digest}.apkindex.0123456789ab.tmp.bak`,
      `${digest}.apkindex.0123456789AB.tmp`, // upper case: never ours
    ];
    const anHourAgo = new Date(Date.now() - 3_600_000);
    for (const name of [...orphans, ...others]) {
      await writeFile(join(stateDir, name), Buffer.alloc(4096, 1));
      await utimes(join(stateDir, name), anHourAgo, anHourAgo);
    }
    // A directory of our naming is not a file we wrote; a temporary file written after the start (by another
    // process sharing the directory) is a write in progress.
    await mkdir(join(stateDir, `${'e'.repeat(32)}.apkindex.00000000000a.tmp`));
    const inProgress = `${'d'.repeat(32)}.apkindex.00000000000b.tmp`;
    await writeFile(join(stateDir, inProgress), 'x');
    const later = new Date(Date.now() + 3_600_000);
    await utimes(join(stateDir, inProgress), later, later);

    f!.upstream.fail(...OUTAGE);
    const s = await restart(stateDir, repositories);
    s.store.start();
    await eventually(() =>
      expect(lines.some((l) => l.includes('temporary file(s) left by an earlier run'))).toBe(true),
    );
    expect((await readdir(stateDir)).sort()).toEqual(
      [saved.slice(stateDir.length + 1), ...others, `${'e'.repeat(32)}.apkindex.00000000000a.tmp`, inProgress].sort(),
    );
    const removal = lines.map((l) => JSON.parse(l) as { msg: string; removed?: string[] }).find((l) => l.removed);
    expect(removal?.removed?.sort()).toEqual([...orphans].sort());
    // The saved index itself is still served.
    expect(await s.store.whenReady(5_000)).toBe(true);
    expect(await versions(s)).toEqual(['8.11.0-r0', '8.12.0-r0']);
  });
});
