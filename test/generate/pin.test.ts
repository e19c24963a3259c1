import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/settings.js';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { checkRows, fixtureRepo, fixtureKey, runCommand, writeTree } from './helpers.js';
import { writeFixtureRepo } from '../fixtures/apk-repo.js';
import { readFile as readBytes } from 'node:fs/promises';
import { command } from '../helpers/command.js';

const check = command('check');
const pin = command('pin');

const versions = (name: string, list: string[]): FixturePackage[] => list.map((version) => ({ name, version }));
/** The repository the fixture images name; the fixture indexes stand for it (--alias, or the service's aliases). */
const EXAMPLE = 'https://packages.example.org/os';

/** A running apk-indexer over a fixture repository, both arches, verified: what `--server` talks to. */
async function realService(repo: { url: string; key: string }): Promise<Service> {
  const service = buildService(
    {
      ...DEFAULTS,
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      repositories: [
        { name: 'os', url: repo.url, aliases: [EXAMPLE], arches: ['x86_64', 'aarch64'], keys: [repo.key] },
      ],
    },
    { logger: false },
  );
  service.store.start();
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  if (!(await service.store.whenReady(10_000))) throw new Error('the fixture service did not load');
  return service;
}
const urlOf = (service: Service) => `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;

/** Histories that sort differently as strings and in apk order, on two arches that do not hold the same versions. */
const COMMON: FixturePackage[] = [
  ...versions('busybox', ['1.36.1-r9', '1.36.1-r10', '1.36.1-r2']),
  ...versions('openssl', ['3.3.2-r0', '3.4.0_rc9-r0', '3.4.0_rc10-r0']),
  ...versions('libcrypto3', ['3.3.2-r0', '3.4.0_rc9-r0', '3.4.0_rc10-r0']),
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
    - libcrypto3=3.4.0_rc9-r0
    - openssh=9.9_p1-r0
    - ca-certificates-bundle=20240705-r0
    - mytool=0.9-r0
    - bootc=1.16.6-r0     # 1.16.7-r0 is on x86_64 only: held back for arm64
    - curl
    - default-user@local
    - go>=1.22
`;

describe('apk-indexer pin', () => {
  let dir: string;
  let root: string;
  let repo: { url: string; key: string };
  let service: Service;
  const index = () => [
    '--index',
    repo.url,
    '--alias',
    'https://packages.example.org/os',
    '--key',
    repo.key,
    '-r',
    repo.url,
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-pin-'));
    repo = await fixtureRepo(join(dir, 'repo'), {
      x86_64: [...COMMON, { name: 'bootc', version: '1.16.7-r0' }],
      aarch64: COMMON,
    });
    service = await realService(repo);
  });

  afterAll(async () => {
    await service.app.close();
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
    expect(await read('apko/base.yaml')).toBe(
      BASE.replace('busybox=1.36.1-r9', 'busybox=1.36.1-r10').replace('"tzdata=2024a-r0"', '"tzdata=2024b-r0"'),
    );
    expect(await read('apko/app.yaml')).toBe(
      APP.replace('libcrypto3=3.4.0_rc9-r0', 'libcrypto3=3.4.0_rc10-r0')
        .replace('openssh=9.9_p1-r0', 'openssh=9.9_p2-r0')
        .replace('ca-certificates-bundle=20240705-r0', 'ca-certificates-bundle=20241121-r0')
        .replace('mytool=0.9-r0', 'mytool=0.9_git20240315-r0'),
    );
    expect(r.out).toContain('apko/base.yaml:6  busybox  1.36.1-r9 -> 1.36.1-r10\n');
    expect(r.out).toContain('apko/app.yaml:6  libcrypto3  3.4.0_rc9-r0 -> 3.4.0_rc10-r0\n');
    // 1.16.7-r0 is on x86_64 only: the image also builds for arm64, so the pin stays where both are.
    expect(r.out).not.toContain('bootc');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/2 file\(s\), 6 pin\(s\) moved\n$/);
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
    await writeTree(root, {
      'apko/x86.yaml': 'include: apko/base.yaml\narchs: [x86_64]\ncontents:\n  packages:\n    - bootc=1.16.6-r0\n',
    });
    const r = await runCommand(pin, ['-C', root, 'apko/x86.yaml', ...index()]);
    expect(r.code).toBe(0);
    expect(await read('apko/x86.yaml')).toContain('- bootc=1.16.7-r0');
    expect(await read('apko/base.yaml')).toBe(BASE);
  });

  it('exits 1 when a pinned package is in no index, still pinning the rest', async () => {
    await writeTree(root, {
      'apko/bad.yaml':
        'archs: [amd64]\ncontents:\n  packages:\n    - nosuch=1.0-r0\n    - curl=8.10.0-r0\n    - alsonot\n',
    });
    const r = await runCommand(pin, ['-C', root, '--all', 'apko/bad.yaml', ...index()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('apko/bad.yaml:4: nosuch: not in the repositories of apko/bad.yaml\n');
    expect(r.err).toContain(
      'apko/bad.yaml:6: alsonot: not in the repositories of apko/bad.yaml (a package built here?); left unpinned\n',
    );
    expect(await read('apko/bad.yaml')).toContain('- curl=8.11.0-r0');
  });

  it('asks a running apk-indexer with --server and gets the same pins', async () => {
    const r = await runCommand(pin, ['-C', root, '--server', urlOf(service)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(await read('apko/app.yaml')).toContain('- libcrypto3=3.4.0_rc10-r0');
    expect(await read('apko/app.yaml')).toContain('- bootc=1.16.6-r0');
  });

  it("reads the repositories of the service's configuration with --config", async () => {
    await writeTree(root, {
      'service.yaml': `listen: {host: 0.0.0.0, port: 3000}\nrepositories:\n  - name: os\n    url: ${repo.url}\n    aliases: [${EXAMPLE}]\n    arches: [x86_64, aarch64]\n    keys: [${repo.key}]\n`,
    });
    const r = await runCommand(pin, ['-C', root, '--config', join(root, 'service.yaml')]);
    expect(r.err).not.toContain('not verified');
    expect(r.code).toBe(0);
    expect(await read('apko/base.yaml')).toContain('- busybox=1.36.1-r10');
  });

  it('exits 2 without a source, with conflicting sources, or with an unreadable index', async () => {
    expect((await runCommand(pin, ['-C', root])).err).toMatch(/pass --index SRC, --config FILE or --server URL/);
    const both = await runCommand(pin, ['-C', root, '--server', urlOf(service), ...index()]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/do not combine it with --index/);
    const wrongKey = await runCommand(pin, ['-C', root, '--index', repo.url, '--key', join(dir, 'nope.rsa.pub')]);
    expect(wrongKey.code).toBe(2);
  });

  it('pins a file included by several images once, for the arches of all of them', async () => {
    // riscv64 holds only foo 1.0-r0: base.yaml names amd64 and arm64, but x.yaml builds it for riscv64 too.
    const shared = await fixtureRepo(join(dir, 'shared-repo'), {
      x86_64: versions('foo', ['1.0-r0', '1.1-r0']),
      aarch64: versions('foo', ['1.0-r0', '1.1-r0']),
      riscv64: versions('foo', ['1.0-r0']),
    });
    const tree = await mkdtemp(join(dir, 'shared-'));
    const base = 'archs: [amd64, arm64]\ncontents:\n  packages:\n    - foo=1.0-r0\n';
    await writeTree(tree, {
      'apko/base.yaml': base,
      'apko/x.yaml': 'include: apko/base.yaml\narchs: [amd64, arm64, riscv64]\n',
    });
    const args = ['-C', tree, '--index', shared.url, '--key', shared.key, '-r', shared.url];
    const r = await runCommand(pin, args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('2 file(s), 0 pin(s) moved\n');
    expect(await readFile(join(tree, 'apko/base.yaml'), 'utf8')).toBe(base);
    // check judges the entry once, for the same union: one row, no contradiction.
    const rows = (await checkRows(args)).filter((row) => row[1] === 'apko/base.yaml:4');
    expect(rows).toHaveLength(1);
    expect(rows[0]![0]).toBe('ok');
    expect(rows[0]![3]).toMatch(/newest on all of x86_64, aarch64, riscv64$/);
    // Once riscv64 has 1.1-r0, both move together.
    const newer = await fixtureRepo(join(dir, 'shared-repo-2'), {
      x86_64: versions('foo', ['1.0-r0', '1.1-r0']),
      aarch64: versions('foo', ['1.0-r0', '1.1-r0']),
      riscv64: versions('foo', ['1.0-r0', '1.1-r0']),
    });
    expect((await runCommand(pin, ['-C', tree, '--index', newer.url, '--key', newer.key, '-r', newer.url])).code).toBe(
      0,
    );
    expect(await readFile(join(tree, 'apko/base.yaml'), 'utf8')).toContain('- foo=1.1-r0');
  });

  it('skips a block scalar item with an error naming it, and still pins the other files', async () => {
    await writeTree(root, {
      'apko/block.yaml': 'archs: [amd64]\ncontents:\n  packages:\n    - >-\n      curl=8.10.0-r0\n',
    });
    const r = await runCommand(pin, ['-C', root, ...index()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('apko/block.yaml:4: curl: not pinned: a block scalar (| or >) cannot be edited in place');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(await read('apko/base.yaml')).toContain('- busybox=1.36.1-r10');
    expect(r.out).toMatch(/3 file\(s\), 6 pin\(s\) moved, 1 problem\(s\)\n$/);
  });

  it('counts files that could not be read, instead of saying 0 file(s)', async () => {
    const tree = await mkdtemp(join(dir, 'broken-'));
    await writeTree(tree, { 'apko/a.yaml': 'archs: [amd64\n', 'apko/b.yaml': 'contents: [\n' });
    const r = await runCommand(pin, ['-C', tree, ...index()]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('2 file(s) (2 refused), 0 pin(s) moved, 2 problem(s)\n');
  });

  it("says when an arch's index was not loaded, as check does", async () => {
    await writeTree(root, {
      'service.yaml': `repositories:\n  - url: ${repo.url}\n    aliases: [${EXAMPLE}]\n    arches: [x86_64]\n    keys: [${repo.key}]\n`,
    });
    const r = await runCommand(pin, ['-C', root, '--config', join(root, 'service.yaml'), 'apko/base.yaml']);
    // Nothing wrong was found, but not everything was checked: the gate's own status, 3.
    expect(r.code).toBe(3);
    // Said once for the repository; each pin with --verbose.
    expect(r.err).toContain(`not pinned: no data for ${EXAMPLE}: 3 pins in apko/base.yaml (--verbose lists them)\n`);
    const verbose = await runCommand(pin, ['-C', root, '--config', join(root, 'service.yaml'), '-v', 'apko/base.yaml']);
    expect(verbose.err).toContain(
      'apko/base.yaml:6: busybox: not pinned: no index for aarch64 in the repositories of apko/app.yaml\n',
    );
    expect(r.out).toBe('1 file(s), 0 pin(s) moved, 3 not checked\n');
    expect(r.err).toContain(
      `not checked: no data for ${EXAMPLE}; give its index (--index, with --alias for a mirror) or, to pass without it, --allow-unchecked ${EXAMPLE}\n`,
    );
    // Named by the user, the repository's gaps no longer fail the gate; they are still said.
    const allowed = await runCommand(pin, [
      '-C',
      root,
      '--config',
      join(root, 'service.yaml'),
      '--allow-unchecked',
      EXAMPLE,
      'apko/base.yaml',
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.out).toBe('1 file(s), 0 pin(s) moved, 3 not checked (3 allowed by --allow-unchecked)\n');
  });

  it("reads two bare index files given with one --alias as that repository's two arches", async () => {
    const bare = ['x86_64', 'aarch64'].flatMap((arch) => [
      '--index',
      `${repo.url}/${arch}/APKINDEX.tar.gz`,
      '--alias',
      EXAMPLE,
    ]);
    const base = await runCommand(pin, [
      '-C',
      root,
      '--check',
      '--index',
      repo.url,
      '--alias',
      EXAMPLE,
      '--key',
      repo.key,
    ]);
    const r = await runCommand(pin, ['-C', root, '--check', ...bare, '--key', repo.key]);
    expect(r.err).toBe('');
    expect(r.out).toBe(base.out);
    expect(r.out).toContain('apko/base.yaml:6  busybox  1.36.1-r9 -> 1.36.1-r10  (stale)\n');
    expect(r.code).toBe(1);
    const c = await runCommand(check, ['-C', root, ...bare, '--key', repo.key]);
    expect(c.out).not.toMatch(/not checked|no index for/);
  });

  it('never moves a pin back: a pinned version the repositories no longer hold is said, with the newest that is', async () => {
    // The jellyfin case: the image pins -r3, its repositories hold -r0 only (on one arch -r3 never arrived).
    await writeTree(root, {
      'apko/media.yaml':
        'include: apko/base.yaml\ncontents:\n  packages:\n    - bootc=1.16.7-r0\n    - curl=8.10.0-r0\n',
    });
    for (const mode of [['--check'], []]) {
      const r = await runCommand(pin, ['-C', root, ...mode, 'apko/media.yaml', ...index()]);
      expect(r.code, mode.join(' ')).toBe(1);
      expect(r.err).toContain(
        'apko/media.yaml:4: bootc: not moved back: 1.16.7-r0 is not on aarch64; the newest available is 1.16.6-r0\n',
      );
      expect(r.out).toContain(`apko/media.yaml:5  curl  8.10.0-r0 -> 8.11.0-r0${mode.length ? '  (stale)' : ''}\n`);
    }
    // The pin is left as it is; the other pin of the file moved.
    expect(await read('apko/media.yaml')).toContain('    - bootc=1.16.7-r0\n    - curl=8.11.0-r0\n');
  });

  it('reads a --config repository with its auth, as the service does', async () => {
    // The fixture repository behind a server that wants a bearer token from the environment variable `auth` names.
    const files = await mkdtemp(join(dir, 'private-'));
    await writeFixtureRepo(files, { arches: { x86_64: COMMON, aarch64: COMMON }, sign: [{ key: fixtureKey }] });
    const seen: (string | undefined)[] = [];
    const privateServer = createServer(async (req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== 'Bearer s3cret') return void res.writeHead(401).end();
      try {
        res
          .writeHead(200)
          .end(await readBytes(join(files, decodeURIComponent(new URL(req.url!, 'http://x').pathname))));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => privateServer.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(privateServer.address() as { port: number }).port}`;
    try {
      await writeTree(root, {
        'service.yaml': `repositories:\n  - url: ${url}\n    aliases: [${EXAMPLE}]\n    arches: [x86_64, aarch64]\n    keys: [${repo.key}]\n    auth: {bearerTokenEnv: APK_PIN_TEST_TOKEN}\n`,
      });
      const args = ['-C', root, '--config', join(root, 'service.yaml'), 'apko/base.yaml'];
      delete process.env.APK_PIN_TEST_TOKEN;
      const unset = await runCommand(pin, args);
      expect(unset.code).toBe(2);
      expect(unset.err).toContain('environment variable APK_PIN_TEST_TOKEN is not set');
      expect(unset.err).not.toMatch(/\n\s+at /);
      process.env.APK_PIN_TEST_TOKEN = 's3cret';
      const r = await runCommand(pin, args);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((h) => h === 'Bearer s3cret')).toBe(true);
      expect(await read('apko/base.yaml')).toContain('- busybox=1.36.1-r10');
    } finally {
      delete process.env.APK_PIN_TEST_TOKEN;
      privateServer.close();
    }
  });

  it('reports expected failures in one line, exit 2, without a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--server', 'http://127.0.0.1:1'],
        /^apk-indexer pin: http:\/\/127\.0\.0\.1:1\/readyz: no answer from the server \([^)]+\)\n$/,
      ],
      [
        ['--config', join(dir, 'nonexistent.yaml')],
        /config file .*nonexistent\.yaml: cannot read: no such file or directory/,
      ],
      [['--config', join(root, 'empty.yaml')], /repositories: expected a non-empty list/],
      [['--config', join(root, 'no-repos.yaml')], /no repositories: list/],
    ];
    await writeTree(root, { 'empty.yaml': 'repositories: []\n', 'no-repos.yaml': 'logLevel: info\n' });
    for (const [args, message] of cases) {
      const r = await runCommand(pin, ['-C', root, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.err, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });

  it('with --server, tells a name with no version on every arch from an unknown one', async () => {
    // apk-indexer answers 404 for both; the name is asked again without ?arch= to tell them apart.
    const oneArch = await fixtureRepo(join(dir, 'one-arch'), {
      x86_64: versions('curl', ['8.11.0-r0']),
      aarch64: versions('busybox', ['1.36.1-r9']),
    });
    const only = await realService(oneArch);
    try {
      await writeTree(root, {
        'apko/one.yaml': `archs: [amd64, arm64]\ncontents:\n  repositories: [${EXAMPLE}]\n  packages:\n    - curl=8.10.0-r0\n    - nosuch=1.0-r0\n`,
      });
      const r = await runCommand(pin, ['-C', root, 'apko/one.yaml', '--server', urlOf(only)]);
      expect(r.err).toContain(
        'apko/one.yaml:5: curl: no version is on every arch of every image building with this file (8.10.0-r0 exists on none of x86_64, aarch64)\n',
      );
      expect(r.err).toContain('apko/one.yaml:6: nosuch: not in the repositories of apko/one.yaml\n');
    } finally {
      await only.app.close();
    }
  });
});
