import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { toApkArch as apkArch } from '../../src/apko/arch.js';
import { readApkoRepositories } from '../../src/config/from-apko.js';
import { loadSettings } from '../../src/config/load.js';

/** Wolfi's URL spelled out brings its security database and recipe links, as the default does. */
const WOLFI_LINKS = {
  secdb: 'https://packages.wolfi.dev/os/security.json',
  sourceUrl: 'https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml',
};

let dir: string;
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-apko-'));
  await mkdir(join(dir, 'apko', 'base'), { recursive: true });
  await writeFile(
    join(dir, 'apko', 'base', 'wolfi.yaml'),
    [
      'contents:',
      '  repositories:',
      '    - https://packages.wolfi.dev/os',
      '  keyring:',
      '    - https://packages.wolfi.dev/os/wolfi-signing.rsa.pub',
      'archs: [amd64, arm64]',
      '',
    ].join('\n'),
  );
  // apko resolves include: against the working directory, not the including file.
  await writeFile(
    join(dir, 'apko', 'image.yaml'),
    [
      'include: apko/base/wolfi.yaml',
      'contents:',
      '  repositories:',
      '    - "@local ./packages"',
      '    - https://packages.wolfi.dev/os',
      '  build_repositories:',
      '    - https://build.example.test/os',
      '  keyring:',
      '    - ./melange.rsa.pub',
      '  packages: [bash, local-thing@local]',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'loop-a.yaml'), 'include: loop-b.yaml\ncontents: {repositories: [https://a.test/os]}\n');
  await writeFile(join(dir, 'loop-b.yaml'), 'include: loop-a.yaml\n');
  await writeFile(join(dir, 'odd-arch.yaml'), 'contents: {repositories: [https://a.test/os]}\narchs: [sparc]\n');
  await writeFile(join(dir, 'no-repos.yaml'), 'contents: {packages: [bash]}\n');
  await writeFile(
    join(dir, 'alpine.yaml'),
    'contents:\n  repositories: [https://dl-cdn.alpinelinux.org/alpine/v3.21/main]\n  keyring: [/etc/apk/keys/alpine.rsa.pub]\narchs: [amd64]\n',
  );
  await writeFile(
    join(dir, 'runtime.yaml'),
    'contents:\n  runtime_repositories: [https://runtime.example.test/os]\narchs: [arm64]\n',
  );
  await writeFile(join(dir, 'misspelt.yaml'), 'contents:\n  repositories: [https://a.test/os]\narch: [amd64]\n');
});

describe('--from-apko', () => {
  it('maps apko arch names to APK names', () => {
    expect(
      ['amd64', 'arm64', 'arm/v7', 'arm/v6', '386', 'ppc64le', 's390x', 'riscv64', 'loong64'].map(apkArch),
    ).toEqual(['x86_64', 'aarch64', 'armv7', 'armhf', 'x86', 'ppc64le', 's390x', 'riscv64', 'loongarch64']);
    expect(apkArch('x86_64')).toBe('x86_64');
    expect(apkArch('sparc')).toBeUndefined();
  });

  it('reads archs as apk-indexer check does: no bare arm, no inherited object keys', () => {
    // apko's Architecture.ToAPK has no case for a bare "arm"; check rejects it, and so does --from-apko now.
    expect(apkArch('arm')).toBeUndefined();
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(apkArch(key), key).toBeUndefined();
  });

  it('reads repositories, keyring and archs, following include: from the working directory', () => {
    const keys = ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub', join(dir, 'melange.rsa.pub')];
    expect(readApkoRepositories(['apko/image.yaml'], dir)).toEqual([
      {
        name: 'https://build.example.test/os',
        url: 'https://build.example.test/os',
        arches: ['x86_64', 'aarch64'],
        keys,
      },
      { name: 'wolfi', url: 'https://packages.wolfi.dev/os', arches: ['x86_64', 'aarch64'], keys, ...WOLFI_LINKS },
      { name: join(dir, 'packages'), url: join(dir, 'packages'), arches: ['x86_64', 'aarch64'], keys },
    ]);
  });

  it("gives each repository the keys and arches of the images naming it, never another image's", () => {
    const s = loadSettings(['--from-apko', 'apko/base/wolfi.yaml', 'alpine.yaml'], {}, dir);
    expect(s.repositories).toEqual([
      {
        name: 'wolfi',
        url: 'https://packages.wolfi.dev/os',
        arches: ['x86_64', 'aarch64'],
        keys: ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub'],
        ...WOLFI_LINKS,
      },
      {
        name: 'https://dl-cdn.alpinelinux.org/alpine/v3.21/main',
        url: 'https://dl-cdn.alpinelinux.org/alpine/v3.21/main',
        arches: ['x86_64'],
        keys: ['/etc/apk/keys/alpine.rsa.pub'],
      },
    ]);
  });

  it('reads the repositories apko builds from, never runtime_repositories (as check reads them)', () => {
    // apko's pkg/build/apk.go (since 2025-07) builds from build_repositories and repositories; runtime-only ones are
    // written into the image's /etc/apk/repositories and never read while building.
    expect(() => loadSettings(['--from-apko', 'runtime.yaml'], {}, dir)).toThrow(
      '--from-apko runtime.yaml: no repositories apko builds from in these files or their includes (runtime_repositories only go into the image)',
    );
    const s = loadSettings(['--from-apko', 'alpine.yaml', 'runtime.yaml'], {}, dir);
    expect(s.repositories.map((r) => r.url)).toEqual(['https://dl-cdn.alpinelinux.org/alpine/v3.21/main']);
  });

  it('becomes the repositories of the service, with the keyring as keys and the archs as arches', () => {
    const s = loadSettings(['--from-apko', 'apko/image.yaml', 'apko/base/wolfi.yaml', '--port', '8080'], {}, dir);
    expect(s.port).toBe(8080);
    const keys = ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub', join(dir, 'melange.rsa.pub')];
    expect(s.repositories.map((r) => [r.url, r.arches, r.keys])).toEqual([
      ['https://build.example.test/os', ['x86_64', 'aarch64'], keys],
      ['https://packages.wolfi.dev/os', ['x86_64', 'aarch64'], keys],
      [join(dir, 'packages'), ['x86_64', 'aarch64'], keys],
    ]);
    // --arch wins over the files' archs.
    expect(
      loadSettings(['--from-apko', 'apko/image.yaml', '--arch', 'x86_64'], {}, dir).repositories[0]!.arches,
    ).toEqual(['x86_64']);
  });

  it.each([
    ['loop-a.yaml', '--from-apko loop-b.yaml:1: include: loop-a.yaml includes itself through its chain'],
    ['odd-arch.yaml', '--from-apko odd-arch.yaml:2: archs: unknown arch "sparc"'],
    [
      'no-repos.yaml',
      '--from-apko no-repos.yaml: no repositories apko builds from in these files or their includes (runtime_repositories only go into the image)',
    ],
    ['missing.yaml', '--from-apko missing.yaml: cannot read: no such file or directory'],
    ['misspelt.yaml', '--from-apko misspelt.yaml:3: unknown key arch (apko refuses the file; did you mean archs?)'],
  ])('names the file and the problem: %s', (name, message) => {
    let error: unknown;
    try {
      readApkoRepositories([name], dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
  });
});
