import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureKey, writeFixtureRepo } from '../fixtures/apk-repo.js';
import { capture, command } from '../helpers/command.js';

const resolve = command('resolve');
const key = generateFixtureKey('resolve-test.rsa.pub');
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'apk-resolve-'));
  const packages = [
    { name: 'musl', version: '1.2.5-r0', provides: ['so:libc.musl-x86_64.so.1=1'] },
    {
      name: 'libcrypto3',
      version: '3.3.2-r0',
      depends: ['so:libc.musl-x86_64.so.1'],
      provides: ['so:libcrypto.so.3=3'],
    },
    { name: 'curl', version: '8.10.1-r0', depends: ['so:libcrypto.so.3', 'so:libc.musl-x86_64.so.1'] },
  ];
  await writeFixtureRepo(join(root, 'repo'), { arches: { x86_64: packages, aarch64: packages }, sign: [{ key }] });
  await mkdir(join(root, 'keys'));
  await writeFile(join(root, 'keys', key.name), key.publicPem);
  await writeFile(
    join(root, 'image.yaml'),
    `contents:\n  keyring: [./keys/${key.name}]\n  repositories: [./repo]\n  packages: [curl]\narchs: [x86_64, aarch64]\n`,
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('apk-indexer resolve', () => {
  it('prints each arch’s install set in install order, with the repository of each package', async () => {
    const run = await capture(resolve, ['-C', root]);
    expect(run.err).toBe('');
    expect(run).toMatchObject({
      code: 0,
      out: [
        'image.yaml x86_64: 3 package(s)',
        '  musl        1.2.5-r0   ./repo',
        '  libcrypto3  3.3.2-r0   ./repo',
        '  curl        8.10.1-r0  ./repo',
        'image.yaml aarch64: 3 package(s)',
        '  musl        1.2.5-r0   ./repo',
        '  libcrypto3  3.3.2-r0   ./repo',
        '  curl        8.10.1-r0  ./repo',
        '',
      ].join('\n'),
    });
  });

  it('--why names the chain of requirers, --json the sets for scripts', async () => {
    expect((await capture(resolve, ['image.yaml', '-C', root, '--arch', 'x86_64', '--why', 'musl'])).out).toBe(
      'image.yaml x86_64: musl-1.2.5-r0 <- curl-8.10.1-r0\n',
    );
    const json = JSON.parse((await capture(resolve, ['image.yaml', '-C', root, '--arch', 'arm64', '--json'])).out);
    expect(json).toEqual([
      {
        image: 'image.yaml',
        arch: 'aarch64',
        packages: [
          { name: 'musl', version: '1.2.5-r0', repository: './repo' },
          { name: 'libcrypto3', version: '3.3.2-r0', repository: './repo' },
          { name: 'curl', version: '8.10.1-r0', repository: './repo' },
        ],
      },
    ]);
  });

  it('a name nothing installs is said, exit 1; --server is refused (no dependency data)', async () => {
    expect(await capture(resolve, ['image.yaml', '-C', root, '--why', 'bash'])).toEqual({
      code: 1,
      out: '',
      err: 'bash is installed by none of the images\n',
    });
    const server = await capture(resolve, ['image.yaml', '-C', root, '--server', 'http://127.0.0.1:9']);
    expect(server.code).toBe(2);
    expect(server.err).toMatch(/^apk-indexer resolve: --server holds no dependency data; read the indexes/);
  });
});
