import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signatureMember, writeFixtureRepo, type FixtureKey } from '../fixtures/apk-repo.js';
import { cutShortTar } from '../fixtures/hostile-index.js';
import { writeSavedIndex } from '../../src/index/saved-index.js';
import { buildService } from '../../src/serve/app.js';
import { ensureBuilt, serveProcess, type RunningService } from '../helpers/cli-process.js';
import { fixtureKey, startFixtureService, testSettings, type FixtureService } from '../helpers/fixture-service.js';
import { Upstream } from '../helpers/upstream.js';
import { eventually } from '../helpers/wait.js';

/**
 * Issue 26 §1 on the service: a whole, valid gzip member holding a tar whose APKINDEX header claims 4096 bytes when
 * 512 follow. Unsigned (about 200 bytes, what anyone in the path of an unsigned repository can send), or signed by
 * the repository's own key (a repository that publishes a broken file). On the first load, on a refresh and in the
 * state directory it is a refused index (reason `tar`): the old data is kept and the process lives.
 */

/** The cut-short data member (test/fixtures/hostile-index.ts), with a valid signature member before it. */
const signedCutShort = (key: FixtureKey): Buffer => {
  const data = cutShortTar();
  return Buffer.concat([signatureMember(data, { key }), data]);
};

/** Replaces the archive of the one index saved in `stateDir` with `archive`, keeping its header (as on disk). */
async function replaceSavedArchive(stateDir: string, archive: Buffer): Promise<void> {
  const [name] = (await readdir(stateDir)).filter((n) => n.endsWith('.apkindex'));
  const path = join(stateDir, name!);
  const saved = await readFile(path);
  const head = JSON.parse(saved.toString('utf8', 0, saved.indexOf(0x0a))) as Record<string, unknown>;
  await writeFile(
    path,
    Buffer.concat([Buffer.from(`${JSON.stringify({ ...head, bytes: archive.length })}\n`), archive]),
  );
}

const X86 = '/os/x86_64/APKINDEX.tar.gz';
const good = { x86_64: [{ name: 'curl', version: '8.11.0-r0' }] };

interface Status {
  ready: boolean;
  indexes: Array<{ records?: number; lastError?: { reason: string; message: string }; holdsReadiness: boolean }>;
}

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const get = (url: string) => f!.service.app.inject({ method: 'GET', url });
const status = async () => (await get('/-/status')).json() as Status;
const tarFailures = async () =>
  Number(/apk_indexer_refresh_failures_total\{[^}]*reason="tar"\} (\d+)/.exec((await get('/metrics')).body)?.[1] ?? 0);

describe('a cut-short tar in the service', () => {
  it('on the first load: refused (tar), named in /-/status and /metrics, not holding /readyz', async () => {
    f = await startFixtureService({
      repositories: { os: good },
      repositorySettings: { os: { keys: [] } },
      start: false,
    });
    f.upstream.files.set(X86, cutShortTar());
    f.service.store.start();
    expect(await f.service.store.whenReady(10_000)).toBe(true);
    const index = (await status()).indexes[0]!;
    expect(index.records).toBeUndefined();
    expect(index.holdsReadiness).toBe(false);
    expect(index.lastError?.reason).toBe('tar');
    expect(index.lastError?.message).toContain(`${f.upstream.url}${X86}: `);
    expect(await tarFailures()).toBe(1);
    expect((await get('/readyz')).statusCode).toBe(200);
    expect((await get('/livez')).statusCode).toBe(200);
  });

  it.each([
    ['an unsigned repository', false],
    ['a signed repository (signed by its own key)', true],
  ])('on a refresh of %s: the old data is kept and served, the reason reported', async (_, signed) => {
    f = await startFixtureService({
      repositories: { os: good },
      ...(!signed && { repositorySettings: { os: { keys: [] } } }),
    });
    f.upstream.files.set(X86, signed ? signedCutShort(f.key) : cutShortTar());
    await f.refresh();
    expect((await get('/curl/latest')).body).toBe('8.11.0-r0\n');
    const index = (await status()).indexes[0]!;
    expect(index.records).toBe(1);
    expect(index.lastError?.reason).toBe('tar');
    // The tar reader's own words: which member, how much of it came.
    expect(index.lastError?.message).toMatch(/APKINDEX is cut short: 512 of 4096 bytes$/);
    expect(await tarFailures()).toBe(1);
    expect((await get('/readyz')).statusCode).toBe(200);
    // The upstream mends its file: the next refresh recovers.
    f.upstream.files.delete(X86);
    await f.publish('os', { x86_64: [...good.x86_64, { name: 'curl', version: '8.12.0-r0' }] });
    await f.refresh();
    expect((await get('/curl/latest')).body).toBe('8.12.0-r0\n');
    expect((await status()).indexes[0]!.lastError).toBeUndefined();
  });

  it('in the state directory: the saved copy is ignored with a warning, never served', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'apk-cut-short-state-'));
    try {
      f = await startFixtureService({ repositories: { os: good }, settings: { stateDir } });
      await f.service.app.close();
      await replaceSavedArchive(stateDir, signedCutShort(f.key));

      // Restarted during an outage: nothing to serve, and still alive.
      const lines: string[] = [];
      const upstream = f.upstream;
      upstream.fail(...Array.from({ length: 20 }, () => ({ status: 503 })));
      const restarted = buildService(
        testSettings(
          [{ name: 'os', url: `${upstream.url}/os`, arches: ['x86_64'], keys: [`${upstream.url}/os/${f.key.name}`] }],
          { stateDir, logLevel: 'info', firstLoadTimeoutMs: 0 },
        ),
        { logStream: { write: (l: string) => void lines.push(l) }, retryBaseMs: 60_000 },
      );
      try {
        await restarted.app.ready();
        restarted.store.start();
        await eventually(() => expect(lines.join('')).toContain('saved index ignored, not served'));
        const warning = lines.map((l) => JSON.parse(l) as { msg: string }).find((l) => l.msg.includes('ignored'))!;
        expect(warning.msg).toMatch(/APKINDEX is cut short: 512 of 4096 bytes/);
        expect(restarted.store.status()[0]!.records).toBeUndefined();
        expect((await restarted.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
        // Not served: a query waits for the first load (here not at all) and answers 503, never the saved copy.
        expect((await restarted.app.inject({ method: 'GET', url: '/curl' })).statusCode).toBe(503);
      } finally {
        await restarted.app.close();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe('a cut-short tar saved in the state directory, the upstream up', () => {
  it('is ignored with one warning at start, and the index is loaded from upstream', async () => {
    f = await startFixtureService({ repositories: { os: good }, start: false });
    const stateDir = await mkdtemp(join(tmpdir(), 'apk-cut-state-'));
    const keyUrl = `${f.upstream.url}/os/${f.key.name}`;
    await writeSavedIndex(stateDir, {
      repository: 'os',
      url: `${f.upstream.url}${X86}`,
      etag: undefined,
      lastModified: undefined,
      keys: [{ origin: keyUrl, name: f.key.name, pem: f.key.publicPem }],
      archive: [signedCutShort(f.key)],
    });
    const lines: string[] = [];
    const restarted = buildService(
      testSettings([{ name: 'os', url: `${f.upstream.url}/os`, arches: ['x86_64'], keys: [keyUrl] }], {
        stateDir,
        logLevel: 'warn',
      }),
      { logStream: { write: (l: string) => void lines.push(l) }, retryBaseMs: 60_000 },
    );
    try {
      await restarted.app.ready();
      restarted.store.start();
      expect(await restarted.store.whenReady(10_000)).toBe(true);
      expect((await restarted.app.inject({ method: 'GET', url: '/curl/latest' })).body).toBe('8.11.0-r0\n');
      const ignored = lines.filter((l) => l.includes('saved index ignored'));
      expect(ignored).toHaveLength(1);
      expect(ignored[0]).toMatch(/APKINDEX is cut short/);
    } finally {
      await restarted.app.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe('a cut-short tar against the serve process', () => {
  let dir: string;
  let upstream: Upstream;
  let keyPath: string;
  let running: RunningService | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'apk-cut-short-process-'));
    const repo = await writeFixtureRepo(join(dir, 'os'), { arches: good, sign: [{ key: fixtureKey() }] });
    keyPath = repo.keyPaths[0]!;
    upstream = await new Upstream({ root: dir }).start();
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    running = undefined;
    upstream.files.clear();
    upstream.clearFaults();
  });
  afterAll(async () => {
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const statusOf = async (s: RunningService) =>
    (await (await fetch(`http://127.0.0.1:${s.port}/-/status`)).json()) as Status;

  it('lives through it on the first load and on a refresh, then drains and exits 0 on SIGTERM', async () => {
    upstream.files.set(X86, cutShortTar());
    const s = (running = await serveProcess(['--index', `${upstream.url}/os`, '--arch', 'x86_64'], {}));
    await eventually(async () => expect((await statusOf(s)).indexes[0]!.lastError?.reason).toBe('tar'));
    const refreshed = await fetch(`http://127.0.0.1:${s.port}/-/refresh`, { method: 'POST' });
    expect(refreshed.status).toBe(200);
    expect(((await refreshed.json()) as Status).indexes[0]!.lastError?.reason).toBe('tar');
    expect((await fetch(`http://127.0.0.1:${s.port}/livez`)).status).toBe(200);
    expect(s.child.exitCode).toBeNull();
    expect(s.output()).not.toMatch(/a bug in apk-indexer|Unexpected end of data\n\s+at /);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('restarts over a cut-short saved copy in its state directory without dying, and serves once the upstream is back', async () => {
    const stateDir = join(dir, 'state');
    // A first run keeps the verified index; then the saved copy's archive is swapped for a signed cut-short one.
    let s = (running = await serveProcess(
      ['--index', `${upstream.url}/os`, '--arch', 'x86_64', '--key', keyPath, '--state-dir', stateDir],
      {},
    ));
    await eventually(async () => expect((await statusOf(s)).indexes[0]!.records).toBe(1));
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    await replaceSavedArchive(stateDir, signedCutShort(fixtureKey()));

    upstream.fail(...Array.from({ length: 3 }, () => ({ status: 503, path: 'x86_64/APKINDEX.tar.gz' })));
    s = running = await serveProcess(
      ['--index', `${upstream.url}/os`, '--arch', 'x86_64', '--key', keyPath, '--state-dir', stateDir],
      { APK_INDEXER_LOG_OUTPUT: 'json' },
    );
    await eventually(() => expect(s.output()).toContain('saved index ignored, not served'));
    expect((await fetch(`http://127.0.0.1:${s.port}/livez`)).status).toBe(200);
    expect(s.child.exitCode).toBeNull();
    // The outage ends; a refresh loads the index and keeps it again.
    upstream.clearFaults();
    await fetch(`http://127.0.0.1:${s.port}/-/refresh`, { method: 'POST' });
    expect(await (await fetch(`http://127.0.0.1:${s.port}/curl/latest`)).text()).toBe('8.11.0-r0\n');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });
});
