import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureKey, writeFixtureRepo } from '../fixtures/apk-repo.js';
import { compareVersions } from '../../src/index/version.js';
import { reference } from '../reference.js';
import { capture, command } from '../helpers/command.js';

const run = command('query');

async function query(args: string[]) {
  const r = await capture(run, args);
  return { ...r, json: r.code < 2 ? (JSON.parse(r.out) as Record<string, any>) : undefined };
}

describe('apk-indexer query', () => {
  let dir: string;
  let repo: { url: string; keyPaths: string[] };
  let server: Server;
  let baseUrl: string;
  const key = generateFixtureKey('query-test.rsa.pub');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-query-'));
    repo = await writeFixtureRepo(dir, {
      sign: [{ key }],
      arches: {
        x86_64: [
          { name: 'bootc', version: '1.16.6-r0', buildTime: 1_730_000_000, url: 'https://github.com/containers/bootc' },
          { name: 'bootc', version: '1.16.7-r0', buildTime: 1_731_000_000, url: 'https://github.com/containers/bootc' },
          { name: 'libstdc++', version: '14.2.0-r3' },
        ],
        aarch64: [{ name: 'bootc', version: '1.16.6-r0', buildTime: 1_730_000_500 }],
      },
    });
    // The same repository over HTTP, as the service and Renovate meet it.
    server = createServer(async (req, res) => {
      try {
        const body = await readFile(join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
      } catch {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the datasource body for each name, from a base URL over HTTP, verified', async () => {
    const r = await query(['bootc', 'libstdc++', '--index', baseUrl, '--arch', 'x86_64', '--key', repo.keyPaths[0]!]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.json!.bootc.releases.map((x: { version: string }) => x.version)).toEqual(['1.16.6-r0', '1.16.7-r0']);
    expect(r.json!.bootc.homepage).toBe('https://github.com/containers/bootc');
    expect(r.json!['libstdc++'].tags).toEqual({ latest: '14.2.0-r3' });
  });

  it('keeps only versions on every listed arch', async () => {
    const r = await query(['bootc', '--index', repo.url, '--arch', 'x86_64,aarch64', '--key', repo.keyPaths[0]!]);
    expect(r.json!.bootc.releases).toEqual([{ version: '1.16.6-r0', releaseTimestamp: '2024-10-27T03:41:40.000Z' }]);
  });

  it('maps unknown names to null and exits 1', async () => {
    const r = await query(['bootc', 'nope', '--index', `${repo.url}/x86_64/APKINDEX.tar.gz`]);
    expect(r.code).toBe(1);
    expect(r.json!.nope).toBeNull();
    expect(r.err).toMatch(/signature not verified/);
  });

  it('exits 2 with the reason when an index is refused or missing', async () => {
    const wrong = generateFixtureKey('query-test.rsa.pub');
    const keyPath = join(dir, 'impostor', 'query-test.rsa.pub');
    await (await import('node:fs/promises')).mkdir(join(dir, 'impostor'), { recursive: true });
    await (await import('node:fs/promises')).writeFile(keyPath, wrong.publicPem);
    const bad = await query(['bootc', '--index', repo.url, '--key', keyPath]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/x86_64\/APKINDEX\.tar\.gz: signature by query-test\.rsa\.pub does not match/);
    const missing = await query(['bootc', '--index', `${baseUrl}/nowhere`]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nowhere\/x86_64\/APKINDEX\.tar\.gz: HTTP 404/);
  });

  it('says why a name has no answer, as the service does, with the nearest name there is', async () => {
    const r = await query(['bootcc', 'libstdc++', 'bootc', '--index', repo.url, '--arch', 'x86_64,aarch64']);
    expect(r.json).toEqual({ bootcc: null, 'libstdc++': null, bootc: expect.objectContaining({}) });
    expect(r.err).toContain('apk-indexer query: bootcc is not in any index read (did you mean bootc?)\n');
    expect(r.err).toContain(
      'apk-indexer query: libstdc++ has no version present on every requested arch (x86_64,aarch64)\n',
    );
    expect(r.code).toBe(1);
  });

  it("refuses apko's arch names with the APK name to use, as serve and ?arch= do, before reading anything", async () => {
    let requests = 0;
    const counting = createServer((_req, res) => {
      requests++;
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(counting.address() as { port: number }).port}`;
      const r = await query(['bootc', '--index', url, '--arch', 'amd64']);
      expect(r.err).toBe(
        'apk-indexer query: --arch: "amd64" is apko\'s name; repositories use the APK name "x86_64"\n',
      );
      expect(r.code).toBe(2);
      expect(requests).toBe(0);
    } finally {
      await new Promise((r) => counting.close(r));
    }
  });

  it('reads only the repositories --repository names: an unreachable other one does not stop it', async () => {
    const r = await query(['bootc', '--index', repo.url, '--index', `${baseUrl}/nowhere`, '--repository', repo.url]);
    expect(r.code).toBe(0);
    expect(r.json!.bootc.releases.length).toBeGreaterThan(0);
  });

  it('answers a package called __proto__ (or constructor) like any other name', async () => {
    const odd = await mkdtemp(join(dir, 'odd-'));
    const oddRepo = await writeFixtureRepo(odd, {
      arches: {
        x86_64: [
          { name: '__proto__', version: '1.0-r0' },
          { name: 'constructor', version: '2.0-r0' },
        ],
      },
    });
    const r = await query(['__proto__', 'constructor', 'toString', '--index', oddRepo.url]);
    expect(r.out).toMatch(/^\{\n {2}"__proto__": \{/);
    const json = JSON.parse(r.out) as Record<string, { releases: { version: string }[] } | null>;
    expect(Object.getOwnPropertyNames(json)).toEqual(['__proto__', 'constructor', 'toString']);
    const versions = (body: { releases: { version: string }[] } | null | undefined) =>
      body?.releases.map((x) => x.version);
    expect(versions(Object.getOwnPropertyDescriptor(json, '__proto__')?.value)).toEqual(['1.0-r0']);
    expect(versions(Object.getOwnPropertyDescriptor(json, 'constructor')?.value)).toEqual(['2.0-r0']);
    expect(Object.getOwnPropertyDescriptor(json, 'toString')?.value).toBeNull();
    expect(r.code).toBe(1);
  });

  it('exits 2 with usage on a bad command line', async () => {
    expect((await query(['bootc'])).code).toBe(2);
    expect((await query(['--index', repo.url])).err).toMatch(/name at least one package/);
  });

  it('answers what the real Wolfi records hold, provides included', async () => {
    const { buildIndexArchive } = await import('../fixtures/apk-repo.js');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(dir, 'wolfi', 'x86_64'), { recursive: true });
    await writeFile(
      join(dir, 'wolfi', 'x86_64', 'APKINDEX.tar.gz'),
      buildIndexArchive({ apkindex: await readFile(reference.wolfiRecords), sign: [{ key }] }),
    );
    const r = await query([
      'argo-cd',
      'argo-cd-repo-server',
      'argocd',
      '--index',
      join(dir, 'wolfi'),
      '--key',
      repo.keyPaths[0]!,
    ]);
    expect(r.code).toBe(1); // argocd is only a cmd: provide
    expect(r.json!.argocd).toBeNull();
    const versions = (name: string) => r.json![name].releases.map((x: { version: string }) => x.version);
    // argo-cd itself plus the versioned streams that provide argo-cd=<version>, in apk order.
    expect(versions('argo-cd')).toContain('2.7.9-r2');
    expect(versions('argo-cd')).toContain('2.11.7-r0');
    expect(versions('argo-cd')).toEqual([...versions('argo-cd')].sort((a: string, b: string) => compareVersions(a, b)));
    expect(versions('argo-cd-repo-server')).toEqual(
      expect.arrayContaining(['2.8.0-r1', '2.11.7-r0', '2.12.3-r1', '2.12.4-r0']),
    );
    expect(r.json!['argo-cd'].releases[0].releaseTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('reads the real melange repository for both arches', async () => {
    const r = await query([
      'pretend-baselayout',
      '--index',
      reference.melangeRepo,
      '--arch',
      'x86_64,aarch64',
      '--key',
      reference.melangeKey,
    ]);
    expect(r.code).toBe(0);
    expect(r.json!['pretend-baselayout']).toEqual({
      releases: [{ version: '1.0.0-r0' }],
      tags: { latest: '1.0.0-r0' },
    });
  });
});
