import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureKey, type FixturePackage } from '../fixtures/apk-repo.js';
import { writeApkRepository } from '../fixtures/apk-package.js';
import { capture, command } from '../helpers/command.js';

const pin = command('pin');
const lock = command('lock');
const check = command('check');
const key = generateFixtureKey('base-lock-test.rsa.pub');

/**
 * The tree `init` writes, in small: a base (apko/wolfi-base.yaml) that every image includes, locked on its own as
 * README.md shows (`apk-indexer lock apko/wolfi-base.yaml`), and an image including it. `images` lists the base
 * with its lock; `lock --check`, `lock --update`, `pin` and `check` must keep that lock too, not only the images'.
 */
const FILES: Record<string, string> = {
  'apko/wolfi-base.yaml': `contents:
  keyring:
    - ./keys/base-lock-test.rsa.pub
  repositories:
    - ./repo
  packages:
    - wolfi-baselayout=20230201-r15
archs:
  - amd64
  - arm64
`,
  'apko/host.yaml': `include: apko/wolfi-base.yaml
contents:
  packages:
    - bootc
`,
};

let dir: string;
let root: string;

async function publish(baselayout: string[]): Promise<void> {
  const packages: FixturePackage[] = [
    ...baselayout.map((version) => ({ name: 'wolfi-baselayout', version })),
    { name: 'bootc', version: '1.16.7-r0', depends: ['wolfi-baselayout'] },
  ];
  await writeApkRepository(join(root, 'repo'), {
    arches: { x86_64: packages, aarch64: packages },
    sign: { key },
  });
}

const cache = () => ['--cache-dir', join(dir, 'cache')];
const index = () => ['-C', root, '--index', join(root, 'repo'), '--key', join(root, 'keys/base-lock-test.rsa.pub')];
const lockedVersions = async () =>
  (
    JSON.parse(await readFile(join(root, 'apko/wolfi-base.lock.json'), 'utf8')) as {
      contents: { packages: { name: string; version: string; architecture: string }[] };
    }
  ).contents.packages.map((p) => `${p.architecture} ${p.name}-${p.version}`);

const savedCache = process.env.XDG_CACHE_HOME;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-base-lock-'));
  process.env.XDG_CACHE_HOME = join(dir, 'xdg-cache');
  root = join(dir, 'site');
  await mkdir(join(root, 'keys'), { recursive: true });
  await writeFile(join(root, 'keys/base-lock-test.rsa.pub'), key.publicPem);
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  await publish(['20230201-r15']);
  const run = await capture(lock, ['apko/wolfi-base.yaml', '-C', root, ...cache()]);
  expect(run).toEqual({ code: 0, out: 'apko/wolfi-base.yaml: wrote apko/wolfi-base.lock.json\n', err: '' });
});

afterAll(async () => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  await rm(dir, { recursive: true, force: true });
});

describe('the lock of a base others include', () => {
  it('lock --check finds it without naming it', async () => {
    expect(await capture(lock, ['--check', '-C', root, ...cache()])).toEqual({
      code: 0,
      out: 'apko/wolfi-base.lock.json: current\n1 lock(s), 0 stale\n',
      err: '',
    });
  });

  it('check verifies it', async () => {
    const run = await capture(check, [...index(), '--json']);
    const findings = JSON.parse(run.out) as { severity: string; location: string; subject: string; message: string }[];
    expect(findings.filter((f) => f.subject === 'lock').map((f) => [f.severity, f.location, f.message])).toEqual([
      ['ok', 'apko/wolfi-base.lock.json', 'config checksum matches apko/wolfi-base.yaml and its includes'],
    ]);
  });

  it('pin moves it with the base pin, and lock --check then finds it current', async () => {
    await publish(['20230201-r15', '20241121-r0']);
    const run = await capture(pin, index());
    expect(run.err).toBe('');
    expect(run.out).toBe(
      [
        'apko/wolfi-base.yaml:7  wolfi-baselayout  20230201-r15 -> 20241121-r0',
        'apko/wolfi-base.lock.json: moved with the pins (2 package move(s) on x86_64, aarch64)',
        '2 file(s), 1 pin(s) moved',
        '',
      ].join('\n'),
    );
    expect(run.code).toBe(0);
    expect(await lockedVersions()).toEqual([
      'x86_64 wolfi-baselayout-20241121-r0',
      'aarch64 wolfi-baselayout-20241121-r0',
    ]);
    expect((await capture(lock, ['--check', '-C', root, ...cache()])).code).toBe(0);
  });

  it('lock --update rewrites it when the base changes by hand', async () => {
    const base = join(root, 'apko/wolfi-base.yaml');
    await writeFile(base, (await readFile(base, 'utf8')).replace('20241121-r0', '20230201-r15'));
    const stale = await capture(lock, ['--check', '-C', root, ...cache()]);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain('apko/wolfi-base.lock.json: stale (rebuild apko/wolfi-base.yaml)');
    const update = await capture(lock, ['--update', '-C', root, ...cache()]);
    expect(update.code).toBe(0);
    expect(await lockedVersions()).toEqual([
      'x86_64 wolfi-baselayout-20230201-r15',
      'aarch64 wolfi-baselayout-20230201-r15',
    ]);
  });
});
