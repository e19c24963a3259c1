import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeSavedIndex } from '../../src/index/saved-index.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { signatureMember } from '../fixtures/apk-repo.js';
import { cutShortTar } from '../fixtures/hostile-index.js';
import { startFixtureService, testSettings, type FixtureService } from '../helpers/fixture-service.js';

/**
 * Issue 26 §1: a tar cut short inside a whole gzip member, validly signed (so it reaches the tar reader), is a
 * refused index on a refresh and in a state directory: the old data is kept and the process lives.
 */
const content = { x86_64: [{ name: 'curl', version: '8.11.0-r0' }] };
const INDEX = '/os/x86_64/APKINDEX.tar.gz';

let f: FixtureService | undefined;
let restarted: Service | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await restarted?.app.close();
  await f?.close();
  restarted = f = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const signedCutShort = (fixture: FixtureService) =>
  Buffer.concat([signatureMember(cutShortTar(), { key: fixture.key }), cutShortTar()]);
const latest = async (s: Service) => (await s.app.inject({ method: 'GET', url: '/curl/latest' })).body;

describe('a signed index whose tar is cut short', () => {
  it('on a refresh: refused with reason tar, the last good data kept, the service up', async () => {
    f = await startFixtureService({ repositories: { os: content } });
    f.upstream.files.set(INDEX, signedCutShort(f));
    await f.refresh();
    const [index] = f.service.store.status();
    expect(index!.lastError?.reason).toBe('tar');
    expect(index!.lastError?.message).toMatch(/APKINDEX is cut short: 512 of 4096 bytes$/);
    expect(await latest(f.service)).toBe('8.11.0-r0\n');
    expect((await f.service.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    expect(f.service.store.ready).toBe(true);
  });

  it('in the state directory: ignored with one warning at start, the index then loaded from upstream', async () => {
    f = await startFixtureService({ repositories: { os: content }, start: false });
    const stateDir = await mkdtemp(join(tmpdir(), 'apk-cut-state-'));
    dirs.push(stateDir);
    const keyUrl = `${f.upstream.url}/os/${f.key.name}`;
    await writeSavedIndex(stateDir, {
      repository: 'os',
      url: `${f.upstream.url}${INDEX}`,
      etag: undefined,
      lastModified: undefined,
      keys: [{ origin: keyUrl, name: f.key.name, pem: f.key.publicPem }],
      archive: [signedCutShort(f)],
    });
    const lines: string[] = [];
    restarted = buildService(
      testSettings([{ name: 'os', url: `${f.upstream.url}/os`, arches: ['x86_64'], keys: [keyUrl] }], {
        stateDir,
        logLevel: 'warn',
      }),
      { logStream: { write: (l: string) => void lines.push(l) }, retryBaseMs: 60_000 },
    );
    await restarted.app.ready();
    restarted.store.start();
    expect(await restarted.store.whenReady(10_000)).toBe(true);
    expect(await latest(restarted)).toBe('8.11.0-r0\n');
    const ignored = lines.filter((l) => l.includes('saved index ignored'));
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatch(/APKINDEX is cut short/);
  });
});
