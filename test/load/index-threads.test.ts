import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli-process.js';
import {
  buildIndexArchive,
  generateFixtureKey,
  indexDataMember,
  renderApkIndex,
  signatureMember,
  type FixturePackage,
} from '../fixtures/apk-repo.js';
import { manyProvides } from '../fixtures/hostile-index.js';
import { Upstream } from '../helpers/upstream.js';

/**
 * Reads on worker threads (src/load/index-threads.ts) give what the same read gives on the main thread: the same
 * snapshot, the same verified file, the same refusals. The worker script exists only compiled, so this runs the
 * built modules (dist/, built by the global setup), both ways, on the same files.
 */
type LoadModule = typeof import('../../src/load/load-index.js');
type KeysModule = typeof import('../../src/load/load-keys.js');
type MapModule = typeof import('../../src/index/version-map.js');
type BudgetModule = typeof import('../../src/load/download-budget.js');

const built = (path: string) => import(pathToFileURL(join(import.meta.dirname, '../../dist/src', path)).href);

const key = generateFixtureKey('threads.rsa.pub');
const stranger = generateFixtureKey('threads.rsa.pub');
const elsewhere = generateFixtureKey('elsewhere.rsa.pub');

/** One arch of a repository shaped like Wolfi's: subpackages of one origin, provides, a version apk refuses. */
function packages(arch: string): FixturePackage[] {
  return [
    {
      name: 'bootc',
      version: '1.16.6-r0',
      origin: 'bootc',
      commit: 'a'.repeat(40),
      url: 'https://github.com/bootc-dev/bootc',
      buildTime: 1760000000,
    },
    {
      name: 'bootc',
      version: '1.16.7-r0',
      origin: 'bootc',
      commit: 'b'.repeat(40),
      url: 'https://github.com/bootc-dev/bootc',
      buildTime: 1761000000,
    },
    { name: 'bootc-doc', version: '1.16.7-r0', origin: 'bootc', buildTime: 1761000000 },
    {
      name: 'openssl',
      version: '3.6.0-r2',
      provides: ['libssl3=3.6.0-r2', 'so:libssl.so.3=3', 'cmd:openssl=3.6.0-r2'],
    },
    { name: 'libssl3', version: '3.5.4-r0' },
    { name: 'broken', version: '1.0-banana' },
    ...(arch === 'x86_64' ? [{ name: 'intel-ucode', version: '20251111-r0' }] : []),
  ];
}

describe('reading indexes on worker threads', () => {
  let dir: string;
  let load: LoadModule;
  let keys: Awaited<ReturnType<KeysModule['loadTrustedKeys']>>;
  let VersionMap: MapModule['VersionMap'];
  let DownloadBudget: BudgetModule['DownloadBudget'];
  const path = (name: string) => join(dir, name);

  beforeAll(async () => {
    ensureBuilt();
    load = (await built('load/load-index.js')) as LoadModule;
    VersionMap = ((await built('index/version-map.js')) as MapModule).VersionMap;
    DownloadBudget = ((await built('load/download-budget.js')) as BudgetModule).DownloadBudget;
    dir = await mkdtemp(join(tmpdir(), 'apk-threads-'));
    await writeFile(path('threads.rsa.pub'), key.publicPem);
    keys = await ((await built('load/load-keys.js')) as KeysModule).loadTrustedKeys([path('threads.rsa.pub')]);
    for (const arch of ['x86_64', 'aarch64']) {
      const sign = [{ key }];
      const archive = buildIndexArchive({ packages: packages(arch).map((p) => ({ ...p, arch })), sign });
      await writeFile(path(`${arch}.tar.gz`), archive);
    }
    await writeFile(
      path('stranger.tar.gz'),
      buildIndexArchive({ packages: packages('x86_64'), sign: [{ key: stranger }] }),
    );
    await writeFile(
      path('foreign.tar.gz'),
      buildIndexArchive({ packages: packages('aarch64').map((p) => ({ ...p, arch: 'aarch64' })), sign: [{ key }] }),
    );
    await writeFile(path('provides.tar.gz'), buildIndexArchive({ packages: manyProvides(2, 1_001), sign: [{ key }] }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const locate = (file: string, arch = 'x86_64') => ({ url: path(file), arch, repository: 'wolfi' });

  async function both(file: string, arch = 'x86_64') {
    const read = (offThread: boolean) =>
      load.loadIndex(locate(file, arch), { keys, offThread }).then(
        (r) => (r.notModified ? 'not modified' : r),
        (e: unknown) => e as Error,
      );
    return { here: await read(false), there: await read(true) };
  }

  it('gives the same snapshot and the same verified file as a read on the main thread', async () => {
    for (const arch of ['x86_64', 'aarch64']) {
      const { here, there } = await both(`${arch}.tar.gz`, arch);
      if (typeof here === 'string' || here instanceof Error) throw new Error(`main thread: ${String(here)}`);
      if (typeof there === 'string' || there instanceof Error) throw new Error(`worker: ${String(there)}`);
      const { packages: ours, ...fields } = there.snapshot;
      const { packages: theirs, ...expected } = here.snapshot;
      expect(fields).toEqual(expected);
      expect(fields).toMatchObject({
        records: arch === 'x86_64' ? 6 : 5,
        skippedVersions: 1,
        verifiedBy: 'threads.rsa.pub',
      });
      expect(fields.firstSkipped).toEqual({ name: 'broken', version: '1.0-banana' });
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const name of theirs.keys()) expect(ours.get(name)).toEqual(theirs.get(name));
      expect(Buffer.concat(there.archive!)).toEqual(Buffer.concat(here.archive!));
    }
    const { there } = await both('x86_64.tar.gz');
    const map = new VersionMap([(there as Exclude<typeof there, string | Error>).snapshot]);
    // Written out: the provider's version under the provided name, beside the package's own.
    expect(map.releases('libssl3')!.map((r) => [r.version, r.origin])).toEqual([
      ['3.5.4-r0', 'libssl3'],
      ['3.6.0-r2', 'openssl'],
    ]);
    expect(map.releases('bootc')!.map((r) => [r.version, r.commit, r.buildTime, r.url])).toEqual([
      ['1.16.6-r0', 'a'.repeat(40), 1760000000, 'https://github.com/bootc-dev/bootc'],
      ['1.16.7-r0', 'b'.repeat(40), 1761000000, 'https://github.com/bootc-dev/bootc'],
    ]);
  });

  it('refuses what the main thread refuses, with the same reason and line', async () => {
    for (const [file, arch, reason] of [
      ['stranger.tar.gz', 'x86_64', 'signature'],
      ['foreign.tar.gz', 'x86_64', 'format'],
      ['provides.tar.gz', 'x86_64', 'limit'],
    ] as const) {
      const { here, there } = await both(file, arch);
      expect(here).toBeInstanceOf(Error);
      expect(there).toBeInstanceOf(Error);
      const shape = (e: unknown) => ({
        name: (e as Error).name,
        reason: (e as { reason?: string }).reason,
        message: (e as Error).message,
      });
      expect(shape(there)).toEqual(shape(here));
      expect(shape(there).reason).toBe(reason);
    }
  });

  it('holds the verified bytes against the download budget until the worker is done, and gives them back', async () => {
    const budget = new DownloadBudget(1 << 20);
    const results = await Promise.all(
      ['x86_64', 'aarch64'].map((arch) =>
        load.loadIndex(locate(`${arch}.tar.gz`, arch), { keys, budget, offThread: true }),
      ),
    );
    expect(results.map((r) => (r.notModified ? 0 : r.snapshot.records))).toEqual([6, 5]);
    expect(budget.held).toBe(0);
    const small = new DownloadBudget(100);
    const err = (await load
      .loadIndex(locate('x86_64.tar.gz'), { keys, budget: small, offThread: true })
      .catch((e: unknown) => e)) as Error;
    expect([err.name, (err as { reason?: string }).reason]).toEqual(['IndexError', 'limit']);
    expect(small.held).toBe(0);
  });
  it('answers a refusal at once while the download behind it has stalled (and cancels that download)', async () => {
    const upstream = await new Upstream().start();
    try {
      // Signed only by a key of another name: refused after the signature member, before the upstream stalls.
      const data = indexDataMember(renderApkIndex(manyProvides(20_000, 1)));
      const signature = signatureMember(data, { key: elsewhere });
      upstream.files.set('/x86_64/APKINDEX.tar.gz', Buffer.concat([signature, data]));
      // 32 KiB of the signed member inflate past the 64 KiB that tell it from a signature member (signature-members.ts).
      upstream.fail({ stallAfter: signature.length + 32 * 1024 });
      const location = { url: `${upstream.url}/x86_64/APKINDEX.tar.gz`, arch: 'x86_64', repository: 'r' };
      // A stalled body would fail only after this timeout, which the test's own outlasts by far.
      const err = (await load
        .loadIndex(location, { keys, offThread: true, timeoutMs: 600_000 })
        .catch((e: unknown) => e)) as Error & { reason?: string };
      expect([err.name, err.reason]).toEqual(['IndexError', 'signature']);
      expect(err.message).toBe(
        `${location.url}: signed by elsewhere.rsa.pub, none of which is a trusted key (trusted: threads.rsa.pub)`,
      );
    } finally {
      await upstream.stop();
    }
  });

  it('fails a read whose connection resets mid-body with reason network, and the next read works', async () => {
    const upstream = await new Upstream().start();
    try {
      const archive = buildIndexArchive({ packages: manyProvides(20_000, 1), sign: [{ key }] });
      upstream.files.set('/x86_64/APKINDEX.tar.gz', archive);
      upstream.fail({ resetAfter: Math.floor(archive.length / 2) });
      const location = { url: `${upstream.url}/x86_64/APKINDEX.tar.gz`, arch: 'x86_64', repository: 'r' };
      const budget = new DownloadBudget(1 << 24);
      const err = (await load
        .loadIndex(location, { keys, budget, offThread: true })
        .catch((e: unknown) => e)) as Error & { reason?: string };
      expect([err.name, err.reason]).toEqual(['IndexError', 'network']);
      expect(budget.held).toBe(0);
      const again = await load.loadIndex(location, { keys, budget, offThread: true });
      expect(again.notModified ? 0 : again.snapshot.records).toBe(20_000);
      expect(budget.held).toBe(0);
    } finally {
      await upstream.stop();
    }
  });
});
