import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusSchema } from '../../src/datasource/status.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

/**
 * Issue 20 §5: an index read without a key is served, and said to be unverified wherever the service shows its
 * state: /-/status, /metrics and the home page. Two repositories: one verified by its key, one without keys.
 */
let f: FixtureService;
beforeAll(async () => {
  f = await startFixtureService({
    repositories: {
      os: { x86_64: [{ name: 'bash', version: '5.2.37-r0' }], aarch64: [{ name: 'bash', version: '5.2.37-r0' }] },
      local: { x86_64: [{ name: 'tool', version: '1.0-r0' }] },
    },
    repositorySettings: (url) => ({
      local: { keys: [], aliases: ['https://mirror.example/local/'] },
      os: { aliases: [url] },
    }),
  });
});
afterAll(async () => f?.close());

const get = (url: string) => f.service.app.inject({ method: 'GET', url });

describe('how each index was verified', () => {
  it('/-/status says verified (by which key) or unverified, and lists each repository with its URLs and arches', async () => {
    const status = StatusSchema.parse((await get('/-/status')).json());
    expect(
      status.indexes
        .map((i) => [i.repository, i.arch, i.verification, i.verifiedBy])
        .sort((a, b) => String(a).localeCompare(String(b))),
    ).toEqual([
      ['local', 'x86_64', 'unverified', undefined],
      ['os', 'aarch64', 'verified', 'fixture-service.rsa.pub'],
      ['os', 'x86_64', 'verified', 'fixture-service.rsa.pub'],
    ]);
    expect(status.repositories).toEqual([
      { name: 'os', urls: [`${f.upstream.url}/os`, f.upstream.url], arches: ['x86_64', 'aarch64'] },
      { name: 'local', urls: [`${f.upstream.url}/local`, 'https://mirror.example/local'], arches: ['x86_64'] },
    ]);
  });

  it('/metrics has a verification label per index', async () => {
    const lines = (await get('/metrics')).body
      .split('\n')
      .filter((l) => l.startsWith('apk_indexer_index_verification{'));
    const base = f.upstream.url;
    expect(lines.sort()).toEqual(
      [
        `apk_indexer_index_verification{index="${base}/local/x86_64/APKINDEX.tar.gz",arch="x86_64",repository="local",verification="unverified",key=""} 1`,
        `apk_indexer_index_verification{index="${base}/os/aarch64/APKINDEX.tar.gz",arch="aarch64",repository="os",verification="verified",key="fixture-service.rsa.pub"} 1`,
        `apk_indexer_index_verification{index="${base}/os/x86_64/APKINDEX.tar.gz",arch="x86_64",repository="os",verification="verified",key="fixture-service.rsa.pub"} 1`,
      ].sort(),
    );
  });

  it('the home page shows "unverified", not a green ok, for the index read without a key', async () => {
    const page = (await get('/')).body;
    const local = page.slice(page.indexOf('<h3>local</h3>'));
    expect(local).toMatch(/<td class="state"><span class="warn"[^>]*>unverified<\/span><\/td>/);
    const os = page.slice(page.indexOf('<h3>os</h3>'), page.indexOf('<h3>local</h3>'));
    expect(os.match(/>ok<\/span>/g)).toHaveLength(2);
    expect(os).not.toContain('unverified');
  });

  it('redacts credentials in the repository URLs it lists', async () => {
    const withSecret = await startFixtureService({
      repositories: { os: { x86_64: [{ name: 'bash', version: '5.2.37-r0' }] } },
      repositorySettings: (url) => ({ os: { url: `${url.replace('http://', 'http://user:secret@')}/os` } }),
      start: false,
    });
    try {
      const status = StatusSchema.parse((await withSecret.service.app.inject({ url: '/-/status' })).json());
      expect(status.repositories[0]!.urls).toEqual([
        expect.stringMatching(/^http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/os$/),
      ]);
      expect(JSON.stringify(status)).not.toContain('secret');
    } finally {
      await withSecret.close();
    }
  });
});
