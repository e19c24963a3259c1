import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run as pin } from '../../src/cli/commands/pin.js';
import { toRenovateBody } from '../../src/datasource/renovate-body.js';
import type { FixturePackage } from '../../src/fixtures/apk-repo.js';
import { loadIndex } from '../../src/index/load.js';
import { VersionMap } from '../../src/index/version-map.js';
import { indexLocations } from '../../src/source/locations.js';
import { fixtureRepo, runCommand, writeTree } from './helpers.js';

const versions = (name: string, list: string[]): FixturePackage[] => list.map((version) => ({ name, version }));

/** Histories that sort differently as strings and in apk order, on two arches that do not hold the same versions. */
const COMMON: FixturePackage[] = [
  ...versions('busybox', ['1.36.1-r9', '1.36.1-r10', '1.36.1-r2']),
  ...versions('openssl', ['3.3.2-r0', '3.4.0_rc9-r0', '3.4.0_rc10-r0']),
  ...versions('openssh', ['9.9-r0', '9.9_p1-r0', '9.9_p2-r0']),
  ...versions('tzdata', ['2024a-r0', '2024b-r0']),
  ...versions('ca-certificates-bundle', ['20240705-r0', '20241121-r0']),
  ...versions('mytool', ['0.9-r0', '0.9_git20240315-r0']),
  ...versions('curl', ['8.10.0-r0', '8.11.0-r0']),
  ...versions('bootc', ['1.16.6-r0']),
];

const BASE = `# The base, written by hand.
contents:
  repositories:
    - https://packages.example.org/os
  packages:
    - busybox=1.36.1-r9   # string order would call r9 the newest
    - "tzdata=2024a-r0"
    - openssl=3.3.2-r0
archs: [amd64, arm64]
`;

const APP = `include: apko/base.yaml   # resolved from the working directory

contents:
  packages:
    # release candidates, followed because the pin is one
    - openssl=3.4.0_rc9-r0
    - openssh=9.9_p1-r0
    - ca-certificates-bundle=20240705-r0
    - mytool=0.9-r0
    - bootc=1.16.7-r0
    - curl
    - default-user@local
    - go>=1.22
`;

describe('apk-indexer pin', () => {
  let dir: string;
  let root: string;
  let repo: { url: string; key: string };
  let server: Server;
  let serverUrl: string;
  const index = () => ['--index', repo.url, '--key', repo.key];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-pin-'));
    repo = await fixtureRepo(join(dir, 'repo'), {
      x86_64: [...COMMON, { name: 'bootc', version: '1.16.7-r0' }],
      aarch64: COMMON,
    });
    // A stand-in for a running apk-indexer: the datasource body over the same indexes, 404 for unknown names.
    const snapshots = await Promise.all(
      indexLocations({ url: repo.url, arches: ['x86_64', 'aarch64'] }).map(async (l) => {
        const r = await loadIndex(l, { keys: [] });
        if (r.notModified) throw new Error('304');
        return r.snapshot;
      }),
    );
    const map = new VersionMap(snapshots);
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const arches = url.searchParams.get('arch')?.split(',');
      const releases = map.releases(decodeURIComponent(url.pathname.slice(1)), arches ? { arches } : {});
      if (!releases) res.writeHead(404).end('unknown package\n');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(toRenovateBody(releases)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    serverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    root = await mkdtemp(join(dir, 'tree-'));
    await writeTree(root, { 'apko/base.yaml': BASE, 'apko/app.yaml': APP });
  });

  const read = (file: string) => readFile(join(root, file), 'utf8');

  it('moves pins to the newest version on every arch, in apk order, changing nothing else', async () => {
    const r = await runCommand(pin, ['-C', root, ...index()]);
    expect(r.code).toBe(0);
    expect(await read('apko/base.yaml')).toBe(BASE.replace('busybox=1.36.1-r9', 'busybox=1.36.1-r10').replace('"tzdata=2024a-r0"', '"tzdata=2024b-r0"'));
    expect(await read('apko/app.yaml')).toBe(
      APP.replace('openssl=3.4.0_rc9-r0', 'openssl=3.4.0_rc10-r0')
        .replace('openssh=9.9_p1-r0', 'openssh=9.9_p2-r0')
        .replace('ca-certificates-bundle=20240705-r0', 'ca-certificates-bundle=20241121-r0')
        .replace('mytool=0.9-r0', 'mytool=0.9_git20240315-r0')
        .replace('bootc=1.16.7-r0', 'bootc=1.16.6-r0'),
    );
    expect(r.out).toContain('apko/base.yaml:6  busybox  1.36.1-r9 -> 1.36.1-r10\n');
    expect(r.out).toContain('apko/app.yaml:6  openssl  3.4.0_rc9-r0 -> 3.4.0_rc10-r0\n');
    // Present on x86_64 only: the image also builds for arm64, so the pin moves down to what both hold.
    expect(r.err).toContain('apko/app.yaml:10: bootc: moved down from 1.16.7-r0: that version is not on every one of x86_64, aarch64');
    expect(r.out).toMatch(/2 file\(s\), 7 pin\(s\) moved\n$/);
  });

  it('keeps a stable pin on the newest stable version even when release candidates are newer', async () => {
    await runCommand(pin, ['-C', root, ...index()]);
    expect(await read('apko/base.yaml')).toContain('    - openssl=3.3.2-r0\n');
  });

  it('with --check, changes nothing and exits 1 while a pin is stale; 0 once pinned', async () => {
    const stale = await runCommand(pin, ['-C', root, '--check', ...index()]);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain('apko/base.yaml:7  tzdata  2024a-r0 -> 2024b-r0  (stale)');
    expect(await read('apko/base.yaml')).toBe(BASE);
    expect(await read('apko/app.yaml')).toBe(APP);
    expect((await runCommand(pin, ['-C', root, ...index()])).code).toBe(0);
    const fresh = await runCommand(pin, ['-C', root, '--check', ...index()]);
    expect(fresh.code).toBe(0);
    expect(fresh.out).toBe('2 file(s), 0 pin(s) stale\n');
  });

  it('with --all, pins bare names too, never tagged packages or constraints', async () => {
    await runCommand(pin, ['-C', root, ...index()]);
    expect(await read('apko/app.yaml')).toContain('    - curl\n');
    const r = await runCommand(pin, ['-C', root, '--all', 'apko/app.yaml', ...index()]);
    expect(r.code).toBe(0);
    const app = await read('apko/app.yaml');
    expect(app).toContain('    - curl=8.11.0-r0\n    - default-user@local\n    - go>=1.22\n');
  });

  it('pins an included file for its own archs when it is named, and an including one for the archs it inherits', async () => {
    await writeTree(root, { 'apko/x86.yaml': 'include: apko/app.yaml\narchs: [x86_64]\ncontents:\n  packages:\n    - bootc=1.16.6-r0\n' });
    const r = await runCommand(pin, ['-C', root, 'apko/x86.yaml', ...index()]);
    expect(r.code).toBe(0);
    expect(await read('apko/x86.yaml')).toContain('- bootc=1.16.7-r0');
    expect(await read('apko/app.yaml')).toBe(APP);
  });

  it('exits 1 when a pinned package is in no index, still pinning the rest', async () => {
    await writeTree(root, { 'apko/bad.yaml': 'archs: [amd64]\ncontents:\n  packages:\n    - nosuch=1.0-r0\n    - curl=8.10.0-r0\n    - alsonot\n' });
    const r = await runCommand(pin, ['-C', root, '--all', 'apko/bad.yaml', ...index()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('apko/bad.yaml:4: nosuch: not in the indexes\n');
    expect(r.err).toContain('apko/bad.yaml:6: alsonot: not in the indexes (a package built here?); left unpinned\n');
    expect(await read('apko/bad.yaml')).toContain('- curl=8.11.0-r0');
  });

  it('asks a running apk-indexer with --server and gets the same pins', async () => {
    const r = await runCommand(pin, ['-C', root, '--server', serverUrl]);
    expect(r.err).toContain('bootc: moved down from 1.16.7-r0');
    expect(r.code).toBe(0);
    expect(await read('apko/app.yaml')).toContain('- openssl=3.4.0_rc10-r0');
    expect(await read('apko/app.yaml')).toContain('- bootc=1.16.6-r0');
  });

  it("reads the repositories of the service's configuration with --config", async () => {
    await writeTree(root, {
      'service.yaml': `listen: 0.0.0.0:3000\nrepositories:\n  - name: os\n    url: ${repo.url}\n    arches: [x86_64, aarch64]\n    keys: [${repo.key}]\n`,
    });
    const r = await runCommand(pin, ['-C', root, '--config', join(root, 'service.yaml')]);
    expect(r.err).not.toContain('not verified');
    expect(r.code).toBe(0);
    expect(await read('apko/base.yaml')).toContain('- busybox=1.36.1-r10');
  });

  it('exits 2 without a source, with conflicting sources, or with an unreadable index', async () => {
    expect((await runCommand(pin, ['-C', root])).err).toMatch(/pass --index SRC, --config FILE or --server URL/);
    const both = await runCommand(pin, ['-C', root, '--server', serverUrl, ...index()]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/do not combine it with --index/);
    const wrongKey = await runCommand(pin, ['-C', root, '--index', repo.url, '--key', join(dir, 'nope.rsa.pub')]);
    expect(wrongKey.code).toBe(2);
  });
});
