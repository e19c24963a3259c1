import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { apkArch, readApkoSources } from '../../src/config/from-apko.js';
import { loadSettings } from '../../src/config/load.js';

let dir: string;
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-apko-'));
  await mkdir(join(dir, 'apko', 'base'), { recursive: true });
  await writeFile(
    join(dir, 'apko', 'base', 'wolfi.yaml'),
    ['contents:', '  repositories:', '    - https://packages.wolfi.dev/os', '  keyring:', '    - https://packages.wolfi.dev/os/wolfi-signing.rsa.pub', 'archs: [amd64, arm64]', ''].join('\n'),
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
      ''
    ].join('\n'),
  );
  await writeFile(join(dir, 'loop-a.yaml'), 'include: loop-b.yaml\ncontents: {repositories: [https://a.test/os]}\n');
  await writeFile(join(dir, 'loop-b.yaml'), 'include: loop-a.yaml\n');
  await writeFile(join(dir, 'odd-arch.yaml'), 'contents: {repositories: [https://a.test/os]}\narchs: [sparc]\n');
  await writeFile(join(dir, 'no-repos.yaml'), 'contents: {packages: [bash]}\n');
});

describe('--from-apko', () => {
  it('maps apko arch names to APK names', () => {
    expect(['amd64', 'arm64', 'arm/v7', 'arm/v6', '386', 'ppc64le', 's390x', 'riscv64', 'loong64'].map(apkArch)).toEqual([
      'x86_64', 'aarch64', 'armv7', 'armhf', 'x86', 'ppc64le', 's390x', 'riscv64', 'loongarch64',
    ]);
    expect(apkArch('x86_64')).toBe('x86_64');
    expect(apkArch('sparc')).toBeUndefined();
  });

  it('reads archs as apk-indexer check does: no bare arm, no inherited object keys', () => {
    // apko's Architecture.ToAPK has no case for a bare "arm"; check rejects it, and so does --from-apko now.
    expect(apkArch('arm')).toBeUndefined();
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(apkArch(key), key).toBeUndefined();
  });

  it('reads repositories, keyring and archs, following include: from the working directory', () => {
    expect(readApkoSources(['apko/image.yaml'], dir)).toEqual({
      repositories: ['https://packages.wolfi.dev/os', join(dir, 'packages'), 'https://build.example.test/os'],
      keyring: ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub', join(dir, 'melange.rsa.pub')],
      arches: ['x86_64', 'aarch64'],
    });
  });

  it('becomes the repositories of the service, with the keyring as keys and the archs as arches', () => {
    const s = loadSettings(['--from-apko', 'apko/image.yaml', 'apko/base/wolfi.yaml', '--port', '8080'], {}, dir);
    expect(s.port).toBe(8080);
    const keys = ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub', join(dir, 'melange.rsa.pub')];
    expect(s.repositories).toEqual([
      // Wolfi's URL spelled out brings its security database and recipe links, as the default does.
      { name: 'wolfi', url: 'https://packages.wolfi.dev/os', arches: ['x86_64', 'aarch64'], keys, secdb: 'https://packages.wolfi.dev/os/security.json', sourceUrl: 'https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml' },
      { name: join(dir, 'packages'), url: join(dir, 'packages'), arches: ['x86_64', 'aarch64'], keys },
      { name: 'https://build.example.test/os', url: 'https://build.example.test/os', arches: ['x86_64', 'aarch64'], keys },
    ]);
    // --arch wins over the files' archs.
    expect(loadSettings(['--from-apko', 'apko/image.yaml', '--arch', 'x86_64'], {}, dir).repositories[0]!.arches).toEqual(['x86_64']);
  });

  it.each([
    ['loop-a.yaml', '--from-apko loop-a.yaml -> include loop-b.yaml -> include loop-a.yaml: include cycle'],
    ['odd-arch.yaml', '--from-apko odd-arch.yaml: archs: unknown arch "sparc"'],
    ['no-repos.yaml', '--from-apko no-repos.yaml: no contents.repositories in these files or their includes'],
    ['missing.yaml', '--from-apko missing.yaml: ENOENT'],
  ])('names the file and the problem: %s', (name, message) => {
    let error: unknown;
    try {
      readApkoSources([name], dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
  });
});
