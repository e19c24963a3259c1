import { createHash, createPublicKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureKey } from '../fixtures/apk-repo.js';
import { writeApkRepository, type ApkFile } from '../fixtures/apk-package.js';
import { capture, command } from '../helpers/command.js';
import { Upstream } from '../helpers/upstream.js';

const lock = command('lock');
const pin = command('pin');
const check = command('check');
const key = generateFixtureKey('lock-test.rsa.pub');
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('base64');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('base64');

/** One package entry as apko writes it, its ranges and checksums taken from the fixture's own members. */
function lockedPackage(url: string, name: string, version: string, arch: string, apk: ApkFile): string {
  const sig = apk.signature?.length ?? 0;
  const ctl = apk.control.length;
  const signature = apk.signature
    ? `{\n          "range": "bytes=0-${sig - 1}",\n          "checksum": "sha1-${sha1(apk.signature)}"\n        }`
    : `{\n          "range": "",\n          "checksum": ""\n        }`;
  return `      {
        "name": "${name}",
        "url": "${url}",
        "version": "${version}",
        "architecture": "${arch}",
        "signature": ${signature},
        "control": {
          "range": "bytes=${sig}-${sig + ctl - 1}",
          "checksum": "sha1-${sha1(apk.control)}"
        },
        "data": {
          "range": "bytes=${sig + ctl}-${apk.bytes.length - 1}",
          "checksum": "sha256-${createHash('sha256').update(apk.data).digest('base64')}"
        },
        "checksum": "${apk.checksum}"
      }`;
}

const repoEntry = (name: string, url: string, arch: string) => `      {
        "name": "${name}",
        "url": "${url}",
        "architecture": "${arch}"
      }`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('apk-indexer lock writes what apko lock writes', () => {
  it('a two-arch image from a local repository, with a keyring', async () => {
    // The shape of apko's own lock test: a local ./packages repository built for two arches, one key, one package
    // that pulls in another.
    const work = join(dir, 'two-arch');
    await mkdir(join(work, 'keys'), { recursive: true });
    await writeFile(join(work, 'keys', key.name), key.publicPem);
    const packages = [
      { name: 'pretend-baselayout', version: '1.0.0-r0' },
      { name: 'replayout', version: '1.0.0-r0', depends: ['pretend-baselayout'] },
    ];
    const apks = await writeApkRepository(join(work, 'packages'), {
      arches: { x86_64: packages, aarch64: packages },
      sign: { key },
    });
    const config = `contents:
  keyring:
    - ./keys/${key.name}
  repositories:
    - ./packages
  packages:
    - replayout

entrypoint:
  command: /bin/sh -l

archs:
- x86_64
- aarch64
`;
    await writeFile(join(work, 'apko.yaml'), config);
    const run = await capture(lock, ['apko.yaml', '-C', work, '--cache-dir', join(dir, 'cache-a')]);
    expect(run.err).toBe('');
    expect(run).toMatchObject({ code: 0, out: 'apko.yaml: wrote apko.lock.json\n' });
    const pkg = (arch: string, name: string) =>
      lockedPackage(
        `./packages/${arch}/${name}-1.0.0-r0.apk`,
        name,
        '1.0.0-r0',
        arch,
        apks.get(`${arch}/${name}-1.0.0-r0`)!,
      );
    expect(await readFile(join(work, 'apko.lock.json'), 'utf8')).toBe(`{
  "version": "v1",
  "config": {
    "name": "apko.yaml",
    "checksum": "sha256-${sha256(config)}"
  },
  "contents": {
    "keyring": [
      {
        "name": "./keys/${key.name}",
        "url": "./keys/${key.name}",
        "content": ${JSON.stringify(key.publicPem)}
      }
    ],
    "build_repositories": [],
    "runtime_repositories": [],
    "repositories": [
${repoEntry('./packages/x86_64', './packages/x86_64/APKINDEX.tar.gz', 'x86_64')},
${repoEntry('./packages/aarch64', './packages/aarch64/APKINDEX.tar.gz', 'aarch64')}
    ],
    "packages": [
${pkg('x86_64', 'pretend-baselayout')},
${pkg('x86_64', 'replayout')},
${pkg('aarch64', 'pretend-baselayout')},
${pkg('aarch64', 'replayout')}
    ]
  }
}
`);
  });

  describe('a single-arch image over HTTP, with an include', () => {
    const upstream = new Upstream();
    let work: string;
    let apks: Map<string, ApkFile>;
    const base = `contents:
  keyring:
    - KEYURL
  repositories:
    - REPO/
  packages:
    - base-files
`;
    const image = `include: base.yaml
contents:
  runtime_repositories:
    - https://runtime.example/os
  packages:
    - tool>=2
archs:
  - amd64
`;
    beforeAll(async () => {
      work = join(dir, 'http');
      await mkdir(work, { recursive: true });
      apks = await writeApkRepository(join(work, 'served'), {
        arches: {
          x86_64: [
            { name: 'base-files', version: '3-r0' },
            { name: 'libtool', version: '1.0-r0', provides: ['so:libtool.so.1=1'] },
            { name: 'tool', version: '1.9-r0', depends: ['so:libtool.so.1'] },
            { name: 'tool', version: '2.1-r0', depends: ['so:libtool.so.1', 'base-files'] },
          ],
        },
        sign: { key },
        unsigned: ['libtool'],
      });
      await writeFile(join(work, 'served', key.name), key.publicPem);
      upstream.root = join(work, 'served');
      await upstream.start();
      await writeFile(
        join(work, 'base.yaml'),
        base.replace('KEYURL', `${upstream.url}/${key.name}`).replace('REPO', upstream.url),
      );
      await writeFile(join(work, 'image.yaml'), image);
    });
    afterAll(() => upstream.stop());

    it('reads only the heads of the packages, by Range, and locks them in install order', async () => {
      const run = await capture(lock, ['image.yaml', '-C', work, '--cache-dir', join(dir, 'cache-b')]);
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      const heads = upstream.requests.filter((r) => r.path.endsWith('.apk'));
      expect(heads.map((r) => [r.path, r.range, r.status]).sort()).toEqual([
        ['/x86_64/base-files-3-r0.apk', 'bytes=0-65535', 206],
        ['/x86_64/libtool-1.0-r0.apk', 'bytes=0-65535', 206],
        ['/x86_64/tool-2.1-r0.apk', 'bytes=0-65535', 206],
      ]);
      const text = await readFile(join(work, 'image.lock.json'), 'utf8');
      const repo = upstream.url;
      const baseText = await readFile(join(work, 'base.yaml'), 'utf8');
      const pkg = (name: string, version: string) =>
        lockedPackage(
          `${repo}/x86_64/${name}-${version}.apk`,
          name,
          version,
          'x86_64',
          apks.get(`x86_64/${name}-${version}`)!,
        );
      const keyUrl = `${repo}/${key.name}`;
      expect(text).toBe(`{
  "version": "v1",
  "config": {
    "name": "image.yaml",
    "checksum": "sha256-${sha256(image + baseText)}"
  },
  "contents": {
    "keyring": [
      {
        "name": "${keyUrl.replace('http://', '')}",
        "url": "${keyUrl}",
        "content": ${JSON.stringify(key.publicPem)}
      }
    ],
    "build_repositories": [],
    "runtime_repositories": [
${repoEntry('runtime.example/os/x86_64', 'https://runtime.example/os/x86_64/APKINDEX.tar.gz', 'x86_64')}
    ],
    "repositories": [
${repoEntry(`${repo.replace('http://', '')}/x86_64`, `${repo}/x86_64/APKINDEX.tar.gz`, 'x86_64')}
    ],
    "packages": [
${pkg('base-files', '3-r0')},
${pkg('libtool', '1.0-r0')},
${pkg('tool', '2.1-r0')}
    ]
  }
}
`);
    });

    it('fetches nothing for a second lock of the same packages (the heads are cached by checksum)', async () => {
      const before = upstream.requests.filter((r) => r.path.endsWith('.apk')).length;
      const first = await readFile(join(work, 'image.lock.json'), 'utf8');
      const run = await capture(lock, ['image.yaml', '-C', work, '--cache-dir', join(dir, 'cache-b')]);
      expect(run.code).toBe(0);
      expect(upstream.requests.filter((r) => r.path.endsWith('.apk')).length).toBe(before);
      expect(await readFile(join(work, 'image.lock.json'), 'utf8')).toBe(first);
    });

    it('reads the same from a server that ignores Range, stopping once the head is in', async () => {
      upstream.ranges = false;
      try {
        const run = await capture(lock, [
          'image.yaml',
          '-C',
          work,
          '--cache-dir',
          join(dir, 'cache-c'),
          '--output',
          'again.lock.json',
        ]);
        expect(run.code).toBe(0);
        expect(await readFile(join(work, 'again.lock.json'), 'utf8')).toBe(
          await readFile(join(work, 'image.lock.json'), 'utf8'),
        );
      } finally {
        upstream.ranges = true;
      }
    });

    it('embeds the keys a repository publishes for discovery (apk-configuration, JWKS), as apko lock does', async () => {
      const jwk = createPublicKey(key.publicPem).export({ format: 'jwk' });
      upstream.files.set('/apk-configuration', Buffer.from(JSON.stringify({ jwks_uri: `${upstream.url}/jwks.json` })));
      upstream.files.set(
        '/jwks.json',
        Buffer.from(JSON.stringify({ keys: [{ ...jwk, kid: 'site-2026', use: 'sig' }] })),
      );
      try {
        const run = await capture(lock, [
          'image.yaml',
          '-C',
          work,
          '--cache-dir',
          join(dir, 'cache-b'),
          '--output',
          'discovered.lock.json',
        ]);
        expect(run.code).toBe(0);
        const written = JSON.parse(await readFile(join(work, 'discovered.lock.json'), 'utf8')) as {
          contents: { keyring: { name: string; url: string; content: string }[] };
        };
        const host = upstream.url.replace('http://', '');
        expect(written.contents.keyring).toEqual([
          { name: `${host}/lock-test.rsa.pub`, url: `${upstream.url}/lock-test.rsa.pub`, content: key.publicPem },
          { name: `${host}/site-2026.rsa.pub`, url: `${upstream.url}/site-2026.rsa.pub`, content: key.publicPem },
        ]);
      } finally {
        upstream.files.delete('/apk-configuration');
        upstream.files.delete('/jwks.json');
      }
    });

    it('refuses a package whose control section is not the index’s C:, naming it', async () => {
      const tool = apks.get('x86_64/tool-2.1-r0')!;
      const other = apks.get('x86_64/tool-1.9-r0')!;
      upstream.files.set('/x86_64/tool-2.1-r0.apk', other.bytes);
      try {
        const run = await capture(lock, ['image.yaml', '-C', work, '--cache-dir', join(dir, 'cache-d')]);
        expect(run.code).toBe(2);
        expect(run.err).toBe(
          `apk-indexer lock: image.yaml: ${upstream.url}/x86_64/tool-2.1-r0.apk: its control section hashes to ${other.checksum}, but the index says ${tool.checksum} (the index and the package disagree)\n`,
        );
      } finally {
        upstream.files.delete('/x86_64/tool-2.1-r0.apk');
      }
    });
  });
});

describe('what cannot be locked', () => {
  let work: string;
  beforeAll(async () => {
    work = join(dir, 'refused');
    await mkdir(work, { recursive: true });
    await writeApkRepository(join(work, 'packages'), {
      arches: {
        x86_64: [
          { name: 'app', version: '1.0-r0', depends: ['so:libgone.so.1'] },
          { name: 'curl', version: '8.1-r0' },
          { name: 'curl', version: '8.2-r0' },
        ],
        aarch64: [
          { name: 'app', version: '1.0-r0', depends: ['so:libgone.so.1'] },
          { name: 'curl', version: '8.1-r0' },
        ],
      },
    });
  });

  it('an unsatisfiable dependency: the package, the arch and who required it, exit 1', async () => {
    await writeFile(
      join(work, 'app.yaml'),
      'contents:\n  repositories: [./packages]\n  packages: [app]\narchs: [x86_64]\n',
    );
    const run = await capture(lock, ['app.yaml', '-C', work, '--ignore-signatures']);
    expect(run).toEqual({
      code: 1,
      out: '',
      err: 'apk-indexer lock: app.yaml: x86_64: so:libgone.so.1: nothing provides so:libgone.so.1; required by: app-1.0-r0 <- world[app]\n',
    });
  });

  it('arches that cannot agree on a pinned version: refused, naming the versions per arch', async () => {
    await writeFile(
      join(work, 'pinned.yaml'),
      'contents:\n  repositories: [./packages]\n  packages: [curl=8.2-r0]\narchs: [x86_64, aarch64]\n',
    );
    const run = await capture(lock, ['pinned.yaml', '-C', work, '--ignore-signatures']);
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      'apk-indexer lock: pinned.yaml: the arches cannot agree: aarch64: curl=8.2-r0: no version satisfies =8.2-r0 (there: curl-8.1-r0) (in the package list); x86_64 resolves it\n',
    );
  });

  it('an arch ahead: only versions on every arch are locked, as apko build resolves several arches', async () => {
    await writeFile(
      join(work, 'ahead.yaml'),
      'contents:\n  repositories: [./packages]\n  packages: [curl]\narchs: [x86_64, aarch64]\n',
    );
    const run = await capture(lock, [
      'ahead.yaml',
      '-C',
      work,
      '--ignore-signatures',
      '--cache-dir',
      join(dir, 'cache-e'),
    ]);
    expect(run.code).toBe(0);
    const written = JSON.parse(await readFile(join(work, 'ahead.lock.json'), 'utf8')) as {
      contents: { packages: { name: string; version: string; architecture: string }[] };
    };
    expect(written.contents.packages.map((p) => `${p.architecture} ${p.name}-${p.version}`)).toEqual([
      'x86_64 curl-8.1-r0',
      'aarch64 curl-8.1-r0',
    ]);
  });

  it('a lock apko cannot build from: lock --update stops on it in one line (exit 2), pin says it did not move (exit 1)', async () => {
    const broken = join(dir, 'broken');
    await writeApkRepository(join(broken, 'packages'), {
      arches: {
        x86_64: [
          { name: 'curl', version: '8.1-r0' },
          { name: 'curl', version: '8.2-r0' },
        ],
      },
    });
    await writeFile(
      join(broken, 'tool.yaml'),
      'contents:\n  repositories: [./packages]\n  packages: [curl=8.1-r0]\narchs: [x86_64]\n',
    );
    await writeFile(join(broken, 'tool.lock.json'), '{"version": "v1"}\n');
    const update = await capture(lock, ['--update', '-C', broken, '--ignore-signatures']);
    expect(update).toEqual({
      code: 2,
      out: '',
      err: 'apk-indexer lock: tool.lock.json: not an apko lock file (no contents)\n',
    });
    const moved = await capture(pin, ['-C', broken, '--index', join(broken, 'packages')]);
    // The pin moves (its file is written); the lock stays as it was, named in one line: a problem, exit 1.
    expect(moved).toEqual({
      code: 1,
      out: 'tool.yaml:3  curl  8.1-r0 -> 8.2-r0\n1 file(s), 1 pin(s) moved, 1 problem(s)\n',
      err: `warning: ${pathToFileURL(join(broken, 'packages/x86_64/APKINDEX.tar.gz')).href}: signature not verified (no key given)\ntool.lock.json: not moved: not an apko lock file (no contents)\n`,
    });
    expect(await readFile(join(broken, 'tool.yaml'), 'utf8')).toBe(
      'contents:\n  repositories: [./packages]\n  packages: [curl=8.2-r0]\narchs: [x86_64]\n',
    );
    expect(await readFile(join(broken, 'tool.lock.json'), 'utf8')).toBe('{"version": "v1"}\n');
    const checked = await capture(check, ['-C', broken, '--index', join(broken, 'packages'), '--json']);
    // check: the lock's findings, the checksum and what apko build cannot read in it.
    expect(checked.code).toBe(1);
    const findings = JSON.parse(checked.out) as { severity: string; location: string; message: string }[];
    expect(findings.filter((f) => f.location === 'tool.lock.json').map((f) => `${f.severity} ${f.message}`)).toEqual([
      'error config checksum no longer matches tool.yaml and its includes (apko build refuses it): run apk-indexer lock --update tool.yaml (or apko lock tool.yaml)',
      'error not a readable apko lock file: not an apko lock file (no contents)',
    ]);
  });

  it('pin --json: the lock moves with the pin and is reported in the JSON, which stays the whole of stdout', async () => {
    const work = join(dir, 'json');
    await writeApkRepository(join(work, 'packages'), {
      arches: {
        x86_64: [
          { name: 'curl', version: '8.1-r0' },
          { name: 'curl', version: '8.2-r0' },
        ],
      },
    });
    await writeFile(
      join(work, 'tool.yaml'),
      'contents:\n  repositories: [./packages]\n  packages: [curl=8.1-r0]\narchs: [x86_64]\n',
    );
    const cache = ['--cache-dir', join(dir, 'cache-json')];
    expect((await capture(lock, ['tool.yaml', '-C', work, '--ignore-signatures', ...cache])).code).toBe(0);
    // pin keeps package heads in the user's cache; here, in the test's own folder.
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(dir, 'xdg-cache');
    let run;
    try {
      run = await capture(pin, ['-C', work, '--index', join(work, 'packages'), '--json']);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      changed: true,
      moves: [{ file: 'tool.yaml', line: 3, name: 'curl', from: '8.1-r0', to: '8.2-r0', fixes: [] }],
      notes: [],
      locks: [
        {
          image: 'tool.yaml',
          lockFile: 'tool.lock.json',
          moves: [{ arch: 'x86_64', name: 'curl', from: '8.1-r0', to: '8.2-r0', fixes: [] }],
        },
      ],
      unreadable: [],
    });
    const locked = JSON.parse(await readFile(join(work, 'tool.lock.json'), 'utf8')) as {
      contents: { packages: { name: string; version: string }[] };
    };
    expect(locked.contents.packages.map((p) => `${p.name}-${p.version}`)).toEqual(['curl-8.2-r0']);
  });
});

describe('lock --check on a tree without a lock', () => {
  it('is not a pass: exit 3, naming what is missing; --update there has nothing to do (exit 0)', async () => {
    const tree = await mkdtemp(join(tmpdir(), 'apk-indexer-nolock-'));
    try {
      await writeFile(join(tree, 'image.yaml'), 'contents:\n  repositories: [./packages]\n  packages: [curl]\n');
      const message = `no image under ${tree} has a lock file (apk-indexer lock FILE writes one)\n`;
      expect(await capture(lock, ['--check', '-C', tree])).toEqual({
        code: 3,
        out: '',
        err: `nothing checked: ${message}`,
      });
      expect(await capture(lock, ['--update', '-C', tree])).toEqual({ code: 0, out: '', err: message });
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});
