import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { DownloadBudget } from '../../src/load/download-budget.js';
import { loadIndex } from '../../src/load/load-index.js';
import { parseTrustedKey } from '../../src/load/load-keys.js';
import { buildIndexArchive, generateFixtureKey } from '../fixtures/apk-repo.js';
import { manyProvides } from '../fixtures/hostile-index.js';

/** What a promise has come to once the microtasks and pending I/O callbacks of this turn have run. */
const settled = async (p: Promise<unknown>) =>
  Promise.race([
    p.then(
      () => 'resolved',
      (e: unknown) => e,
    ),
    new Promise((r) => setImmediate(() => r('pending'))),
  ]);

describe('the total download budget', () => {
  it('lets a download hold bytes at once while the total has room, and tracks what is held', () => {
    const seen: number[] = [];
    const budget = new DownloadBudget(100, (held) => seen.push(held));
    const a = budget.lease('a');
    expect(a.hold(60)).toBeUndefined();
    expect(a.hold(40)).toBeUndefined();
    expect(budget.held).toBe(100);
    a.release();
    expect([budget.held, seen]).toEqual([0, [60, 100, 0]]);
  });

  it('makes a download past the total wait, in arrival order, until others give bytes back', async () => {
    const budget = new DownloadBudget(100);
    const a = budget.lease('a');
    const b = budget.lease('b');
    const c = budget.lease('c');
    void a.hold(70);
    const bWaits = Promise.resolve(b.hold(50));
    const cWaits = Promise.resolve(c.hold(10)); // it would fit, but b came first
    expect([await settled(bWaits), await settled(cWaits)]).toEqual(['pending', 'pending']);
    a.release();
    expect([await settled(bWaits), await settled(cWaits)]).toEqual(['resolved', 'resolved']);
    expect(budget.held).toBe(60);
  });

  it('fails a download at once when it alone would pass the total', () => {
    const budget = new DownloadBudget(100);
    const a = budget.lease('https://repo.test/x86_64/APKINDEX.tar.gz');
    void a.hold(90);
    let err: unknown;
    try {
      void a.hold(20);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IndexError);
    expect((err as IndexError).reason).toBe('limit');
    expect((err as IndexError).message).toBe(
      'https://repo.test/x86_64/APKINDEX.tar.gz: would hold more than the total download budget of 100 bytes (limits.downloadBudget) before its signature is checked',
    );
  });

  it('fails the newest waiter when every download holding bytes is waiting: nothing would ever give them back', async () => {
    const budget = new DownloadBudget(100);
    const a = budget.lease('a');
    const b = budget.lease('b');
    void a.hold(50);
    void b.hold(50);
    const aWaits = Promise.resolve(a.hold(10));
    expect(await settled(aWaits)).toBe('pending'); // b still downloads: it may finish and give its bytes back
    const bFails = await settled(Promise.resolve(b.hold(10)));
    expect(bFails).toBeInstanceOf(IndexError);
    expect((bFails as IndexError).reason).toBe('limit');
    expect((bFails as IndexError).message).toMatch(
      /^b: the total download budget of 100 bytes .* is held by downloads/,
    );
    b.release(); // what the loader does with a failed download
    expect(await settled(aWaits)).toBe('resolved');
    expect(budget.held).toBe(60);
  });

  it('stops waiting when the download is aborted (a refresh deadline, shutdown)', async () => {
    const budget = new DownloadBudget(100);
    void budget.lease('a').hold(100);
    const abort = new AbortController();
    const waiting = Promise.resolve(budget.lease('b', abort.signal).hold(1));
    abort.abort(new Error('refresh deadline'));
    expect(((await settled(waiting)) as Error).message).toBe('refresh deadline');
  });
});

describe('loading indexes within a budget', () => {
  let dir: string;
  const key = generateFixtureKey('budget.rsa.pub');
  const trusted = [parseTrustedKey(key.name, key.publicPem, key.name)];
  const paths: string[] = [];
  let size = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-budget-'));
    for (const arch of ['x86_64', 'aarch64']) {
      const archive = buildIndexArchive({ packages: manyProvides(3_000, 1), sign: [{ key }] });
      size = Math.max(size, archive.length);
      const path = join(dir, `${arch}.APKINDEX.tar.gz`);
      await writeFile(path, archive);
      paths.push(path);
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads two signed indexes one after the other when the budget holds only one, and gives every byte back', async () => {
    const budget = new DownloadBudget(Math.ceil(size * 1.5));
    const results = await Promise.all(
      paths.map((url) => loadIndex({ url, arch: undefined, repository: 'r' }, { keys: trusted, budget })),
    );
    expect(results.map((r) => (r.notModified ? 0 : r.snapshot.records))).toEqual([3_000, 3_000]);
    expect(budget.held).toBe(0);
  });

  it('refuses an index larger than the whole budget (limit), and gives its bytes back', async () => {
    const budget = new DownloadBudget(Math.floor(size / 2));
    const err = await loadIndex({ url: paths[0]!, arch: undefined, repository: 'r' }, { keys: trusted, budget }).catch(
      (e: unknown) => e,
    );
    expect((err as IndexError).reason).toBe('limit');
    expect(budget.held).toBe(0);
  });
});
