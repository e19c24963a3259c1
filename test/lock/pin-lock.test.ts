import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureKey, type FixturePackage } from '../fixtures/apk-repo.js';
import { writeApkRepository } from '../fixtures/apk-package.js';
import { capture, command } from '../helpers/command.js';
import { Upstream } from '../helpers/upstream.js';

const pin = command('pin');
const lock = command('lock');
const check = command('check');
const wolfiKey = generateFixtureKey('wolfi-test.rsa.pub');
const alpineKey = generateFixtureKey('alpine-test.rsa.pub');
const melangeKey = generateFixtureKey('melange.rsa.pub');

/**
 * A homelab-shaped tree: a Wolfi-like repository over HTTP (two arches), Alpine beside it (a local mirror, one
 * arch), the site's own melange repository passed by `-b`; a base included by a two-arch host and an arm64-only
 * image in other folders; every image locked. Upstream then publishes: a pin moves, and an unpinned library under
 * it; the locks must move with the pins, and the maintenance run must report what moved and what it fixes.
 */
const wolfi = (curl: string, libcurl: string, certs: string[]): FixturePackage[] => [
  { name: 'wolfi-baselayout', version: '20230201-r7' },
  ...certs.map((v) => ({ name: 'ca-certificates-bundle', version: v })),
  { name: 'libcurl-openssl4', version: libcurl, provides: [`so:libcurl.so.4=4.8.0`], origin: 'curl' },
  { name: 'curl', version: curl, depends: ['so:libcurl.so.4', 'ca-certificates-bundle'] },
  { name: 'htop', version: '3.3.0-r0', depends: ['wolfi-baselayout'] },
];

const FILES: Record<string, string> = {
  'apko/base.yaml': `# The base every image includes.
contents:
  keyring:
    - WOLFI/wolfi-test.rsa.pub
  repositories:
    - WOLFI
  packages:
    - wolfi-baselayout
    - ca-certificates-bundle=1-r0
archs:
  - amd64
  - arm64
`,
  'hosts/host.yaml': `include: apko/base.yaml
contents:
  packages:
    - curl=8.1.0-r0
    - mytool
`,
  // A thin image on the host, with its own RUN apk add pins: they move with the tree's, beside the locks.
  'hosts/Containerfile': `FROM registry.example.org/site/host:latest
RUN apk add --no-cache curl=8.1.0-r0 htop=3.3.0-r0
`,
  'images/arm/pi.yaml': `include: apko/base.yaml
contents:
  packages:
    - htop
archs:
  - arm64
`,
  'alpine/edge.yaml': `contents:
  keyring:
    - ./keys/alpine-test.rsa.pub
  repositories:
    - ./mirror/alpine
  packages:
    - busybox=1.36.1-r0
archs:
  - x86_64
`,
};

let dir: string;
let root: string;
const upstream = new Upstream();

async function publish(curl: string, libcurl: string, certs: string[], busybox: string[]) {
  const packages = wolfi(curl, libcurl, certs);
  await writeApkRepository(join(dir, 'wolfi'), {
    arches: { x86_64: packages, aarch64: packages },
    sign: { key: wolfiKey },
  });
  await writeApkRepository(join(root, 'mirror/alpine'), {
    arches: { x86_64: busybox.map((v) => ({ name: 'busybox', version: v })) },
    sign: { key: alpineKey },
  });
}

const args = () => [
  '-C',
  root,
  '--index',
  upstream.url,
  '--key',
  `${upstream.url}/wolfi-test.rsa.pub`,
  '--index',
  join(root, 'mirror/alpine'),
  '--key',
  join(root, 'keys/alpine-test.rsa.pub'),
  '--index',
  join(root, 'packages'),
  '--key',
  join(root, 'melange.rsa.pub'),
  '-b',
  './packages',
  '--secdb',
  join(dir, 'security.json'),
];

/** `check --json`'s findings as [severity, location, subject, message] rows. */
const rows = (out: string) =>
  (JSON.parse(out) as { severity: string; location: string; subject: string; message: string }[]).map((f) => [
    f.severity,
    f.location,
    f.subject,
    f.message,
  ]);

const locked = async (file: string) =>
  (
    JSON.parse(await readFile(join(root, file), 'utf8')) as {
      contents: { packages: { name: string; version: string; architecture: string }[] };
    }
  ).contents.packages.map((p) => `${p.architecture} ${p.name}-${p.version}`);

const savedCache = process.env.XDG_CACHE_HOME;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-pin-lock-'));
  // pin keeps package heads in the user's cache; here, in the test's own folder.
  process.env.XDG_CACHE_HOME = join(dir, 'xdg-cache');
  root = join(dir, 'site');
  await mkdir(join(root, 'keys'), { recursive: true });
  await writeFile(join(root, 'keys/alpine-test.rsa.pub'), alpineKey.publicPem);
  await writeFile(join(root, 'melange.rsa.pub'), melangeKey.publicPem);
  await mkdir(join(dir, 'wolfi'), { recursive: true });
  await writeFile(join(dir, 'wolfi/wolfi-test.rsa.pub'), wolfiKey.publicPem);
  upstream.root = join(dir, 'wolfi');
  await upstream.start();
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text.replaceAll('WOLFI', upstream.url));
  }
  await writeApkRepository(join(root, 'packages'), {
    arches: {
      x86_64: [{ name: 'mytool', version: '0.3-r0', depends: ['curl'] }],
      aarch64: [{ name: 'mytool', version: '0.3-r0', depends: ['curl'] }],
    },
    sign: { key: melangeKey },
  });
  await writeFile(
    join(dir, 'security.json'),
    JSON.stringify({
      packages: [{ pkg: { name: 'curl', secfixes: { '8.2.0-r0': ['CVE-2026-0001'], '8.1.0-r1': ['CVE-2026-0002'] } } }],
    }),
  );
  await publish('8.1.0-r0', '8.1.0-r0', ['1-r0'], ['1.36.1-r0']);
  // Every image locked once, as apko lock would from the root (the own repository appended with -b).
  for (const file of ['hosts/host.yaml', 'images/arm/pi.yaml', 'alpine/edge.yaml']) {
    const run = await capture(lock, [
      file,
      '-C',
      root,
      '-b',
      './packages',
      '-k',
      './melange.rsa.pub',
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
  }
});

afterAll(async () => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  await upstream.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('pins and locks move together', () => {
  it('the locks hold what each image installs, per arch, in install order', async () => {
    expect(await locked('hosts/host.lock.json')).toEqual([
      'x86_64 ca-certificates-bundle-1-r0',
      'x86_64 libcurl-openssl4-8.1.0-r0',
      'x86_64 curl-8.1.0-r0',
      'x86_64 mytool-0.3-r0',
      'x86_64 wolfi-baselayout-20230201-r7',
      'aarch64 ca-certificates-bundle-1-r0',
      'aarch64 libcurl-openssl4-8.1.0-r0',
      'aarch64 curl-8.1.0-r0',
      'aarch64 mytool-0.3-r0',
      'aarch64 wolfi-baselayout-20230201-r7',
    ]);
    expect(await locked('images/arm/pi.lock.json')).toEqual([
      'aarch64 ca-certificates-bundle-1-r0',
      'aarch64 wolfi-baselayout-20230201-r7',
      'aarch64 htop-3.3.0-r0',
    ]);
    expect(await locked('alpine/edge.lock.json')).toEqual(['x86_64 busybox-1.36.1-r0']);
    const run = await capture(lock, [
      '--check',
      '-C',
      root,
      '-b',
      './packages',
      '-k',
      './melange.rsa.pub',
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    expect(run.out).toBe(
      'alpine/edge.lock.json: current\nhosts/host.lock.json: current\nimages/arm/pi.lock.json: current\n3 lock(s), 0 stale\n',
    );
    expect(run.code).toBe(0);
  });

  it('pin moves the pins, and every lock whose image includes a moved file, without apko', async () => {
    await publish('8.2.0-r0', '8.2.0-r0', ['1-r0', '2-r0'], ['1.36.1-r0', '1.37.0-r0']);
    // The gate first: the stale pins, apko's and the Containerfile's, and the locks they make stale; nothing written.
    const gate = await capture(pin, [...args(), '--check']);
    expect(gate).toEqual({
      code: 1,
      out: [
        'alpine/edge.yaml:7  busybox  1.36.1-r0 -> 1.37.0-r0  (stale)',
        'apko/base.yaml:9  ca-certificates-bundle  1-r0 -> 2-r0  (stale)',
        'hosts/host.yaml:4  curl  8.1.0-r0 -> 8.2.0-r0  (stale)  fixes CVE-2026-0002, CVE-2026-0001',
        'hosts/Containerfile:2  curl  8.1.0-r0 -> 8.2.0-r0  (stale)  fixes CVE-2026-0002, CVE-2026-0001',
        '5 file(s), 4 pin(s) stale',
        '',
      ].join('\n'),
      err: [
        'alpine/edge.lock.json: stale with these pins: pin moves it with them (or apk-indexer lock --update)',
        'hosts/host.lock.json: stale with these pins: pin moves it with them (or apk-indexer lock --update)',
        'images/arm/pi.lock.json: stale with these pins: pin moves it with them (or apk-indexer lock --update)',
        '',
      ].join('\n'),
    });
    expect(await readFile(join(root, 'hosts/Containerfile'), 'utf8')).toBe(FILES['hosts/Containerfile']);
    const run = await capture(pin, args());
    expect(run.err).toBe('');
    expect(run.out).toBe(
      [
        'alpine/edge.yaml:7  busybox  1.36.1-r0 -> 1.37.0-r0',
        'apko/base.yaml:9  ca-certificates-bundle  1-r0 -> 2-r0',
        'hosts/host.yaml:4  curl  8.1.0-r0 -> 8.2.0-r0  fixes CVE-2026-0002, CVE-2026-0001',
        'hosts/Containerfile:2  curl  8.1.0-r0 -> 8.2.0-r0  fixes CVE-2026-0002, CVE-2026-0001',
        'alpine/edge.lock.json: moved with the pins (1 package move(s) on x86_64)',
        'hosts/host.lock.json: moved with the pins (6 package move(s) on x86_64, aarch64)',
        'images/arm/pi.lock.json: moved with the pins (1 package move(s) on aarch64)',
        '5 file(s), 4 pin(s) moved',
        '',
      ].join('\n'),
    );
    expect(run.code).toBe(0);
    expect(await readFile(join(root, 'hosts/Containerfile'), 'utf8')).toBe(
      FILES['hosts/Containerfile']!.replace('curl=8.1.0-r0', 'curl=8.2.0-r0'),
    );
    expect(await locked('hosts/host.lock.json')).toEqual([
      'x86_64 ca-certificates-bundle-2-r0',
      'x86_64 libcurl-openssl4-8.2.0-r0',
      'x86_64 curl-8.2.0-r0',
      'x86_64 mytool-0.3-r0',
      'x86_64 wolfi-baselayout-20230201-r7',
      'aarch64 ca-certificates-bundle-2-r0',
      'aarch64 libcurl-openssl4-8.2.0-r0',
      'aarch64 curl-8.2.0-r0',
      'aarch64 mytool-0.3-r0',
      'aarch64 wolfi-baselayout-20230201-r7',
    ]);
    expect(await locked('images/arm/pi.lock.json')).toContain('aarch64 ca-certificates-bundle-2-r0');
    expect(await locked('alpine/edge.lock.json')).toEqual(['x86_64 busybox-1.37.0-r0']);
    // Each moved lock is the one apk-indexer lock writes from scratch for the new files.
    const fresh = await capture(lock, [
      'hosts/host.yaml',
      '-C',
      root,
      '-b',
      './packages',
      '-k',
      './melange.rsa.pub',
      '--cache-dir',
      join(dir, 'cache'),
      '--output',
      'fresh.lock.json',
    ]);
    expect(fresh.code).toBe(0);
    expect(await readFile(join(root, 'hosts/host.lock.json'), 'utf8')).toBe(
      await readFile(join(root, 'fresh.lock.json'), 'utf8'),
    );
    await rm(join(root, 'fresh.lock.json'));
    const checked = await capture(check, [...args(), 'hosts/host.yaml', '--json']);
    expect(rows(checked.out).filter((r) => r[2] === 'lock')).toEqual([
      ['ok', 'hosts/host.lock.json', 'lock', 'config checksum matches hosts/host.yaml and its includes'],
    ]);
  });

  it('lock --update: an unpinned library moved upstream; the report names the move, its fixes and what to rebuild', async () => {
    await publish('8.2.0-r0', '8.2.0-r1', ['1-r0', '2-r0'], ['1.36.1-r0', '1.37.0-r0']);
    await writeFile(
      join(dir, 'security.json'),
      JSON.stringify({
        packages: [{ pkg: { name: 'curl', secfixes: { '8.2.0-r1': ['CVE-2026-0003'] } } }],
      }),
    );
    const stale = await capture(lock, [
      '--check',
      '-C',
      root,
      '-b',
      './packages',
      '-k',
      './melange.rsa.pub',
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    expect(stale.code).toBe(1);
    expect(stale.out).toBe(
      [
        'alpine/edge.lock.json: current',
        'hosts/host.lock.json: stale (rebuild hosts/host.yaml)',
        '  x86_64   libcurl-openssl4  8.2.0-r0 -> 8.2.0-r1',
        '  aarch64  libcurl-openssl4  8.2.0-r0 -> 8.2.0-r1',
        'images/arm/pi.lock.json: current',
        '3 lock(s), 1 stale: rebuild hosts/host.yaml',
        '',
      ].join('\n'),
    );
    const update = await capture(lock, [
      '--update',
      '--markdown',
      '-C',
      root,
      '-b',
      './packages',
      '-k',
      './melange.rsa.pub',
      '--cache-dir',
      join(dir, 'cache'),
      '--secdb',
      join(dir, 'security.json'),
    ]);
    expect(update.err).toBe('');
    expect(update.out).toBe(`## apko lock maintenance

Rebuild 1 image(s): \`hosts/host.yaml\`. The moves fix 1 known vulnerability.

### \`hosts/host.yaml\`

Lock: \`hosts/host.lock.json\`

| arch | package | from | to | fixes |
| --- | --- | --- | --- | --- |
| x86\\_64 | libcurl-openssl4 | 8.2.0-r0 | 8.2.0-r1 | CVE-2026-0003 |
| aarch64 | libcurl-openssl4 | 8.2.0-r0 | 8.2.0-r1 | CVE-2026-0003 |

Unchanged: \`alpine/edge.yaml\`, \`images/arm/pi.yaml\`.

Written by \`apk-indexer lock --update\`.
`);
    expect(update.code).toBe(0);
    const after = await capture(lock, [
      '--check',
      '-C',
      root,
      '-b',
      './packages',
      '-k',
      './melange.rsa.pub',
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    expect(after.code).toBe(0);
  });

  it('check: a locked version withdrawn upstream is an error before the build breaks', async () => {
    // Wolfi deletes old versions by policy: 8.2.0-r0 of libcurl is gone; the lock (now 8.2.0-r1) is fine, and a lock
    // still naming 8.2.0-r0 is not.
    const host = join(root, 'hosts/host.lock.json');
    const text = await readFile(host, 'utf8');
    await writeFile(
      host,
      text
        .replaceAll('libcurl-openssl4-8.2.0-r1', 'libcurl-openssl4-8.2.0-r0')
        .replaceAll('"version": "8.2.0-r1"', '"version": "8.2.0-r0"'),
    );
    await publish('8.2.0-r0', '8.2.0-r1', ['2-r0'], ['1.37.0-r0']);
    const run = await capture(check, [...args(), 'hosts/host.yaml', '--json']);
    const withdrawn = (arch: string) => [
      'error',
      'hosts/host.lock.json',
      'lock',
      `locked libcurl-openssl4-8.2.0-r0 (${arch}) is no longer in the image's repositories (withdrawn upstream?): apko build --lockfile cannot fetch it; run apk-indexer lock --update`,
    ];
    expect(rows(run.out).filter((r) => r[2] === 'lock')).toEqual([
      ['ok', 'hosts/host.lock.json', 'lock', 'config checksum matches hosts/host.yaml and its includes'],
      withdrawn('x86_64'),
      withdrawn('aarch64'),
    ]);
    expect(run.code).toBe(1);
    await writeFile(host, text);
  });
});
