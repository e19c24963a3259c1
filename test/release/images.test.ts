import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture, command } from '../helpers/command.js';
import { ALL_IMAGES, ALPINE, OWN, PRIVATE, REBUILDS, releaseRepo, RELEASE_TREE, WOLFI } from './release-tree.js';

const images = command('images');

type Listed = { name: string; tags: string[]; changed: string[] } & Record<string, unknown>;

describe('apk-indexer images', () => {
  let repo: Awaited<ReturnType<typeof releaseRepo>>;
  beforeAll(async () => {
    repo = await releaseRepo();
  });
  afterAll(() => rm(repo.dir, { recursive: true, force: true }));

  const list = async (...args: string[]) => {
    const r = await capture(images, ['-C', repo.dir, '--json', ...args]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return (JSON.parse(r.out) as { images: Listed[] }).images;
  };
  const names = async (...args: string[]) => (await list(...args)).map((i) => i.name).sort();

  it('lists every image of the tree: every apko file that installs a package, bases included', async () => {
    expect(await names()).toEqual(ALL_IMAGES);
  });

  it('gives each image its file, chain, arches, repositories, keyring, lock, recipes and tags', async () => {
    const all = await list('-b', PRIVATE);
    expect(all.find((i) => i.name === 'kubelet')).toEqual({
      file: 'apko/kubelet.yaml',
      name: 'kubelet',
      chain: ['apko/kubelet.yaml', 'apko/containerd.yaml', 'apko/bootc.yaml', 'apko/wolfi-base.yaml'],
      arches: ['x86_64', 'aarch64'],
      repositories: [WOLFI, PRIVATE],
      keyring: [`${WOLFI}/wolfi-signing.rsa.pub`],
      lock: 'apko/kubelet.lock.json',
      package: 'kubelet',
      version: '1.35-r0',
      tags: ['1.35', '1', 'latest'],
      recipes: ['melange/default-user.yaml'],
      inputs: [
        'apko/kubelet.yaml',
        'apko/containerd.yaml',
        'apko/bootc.yaml',
        'apko/wolfi-base.yaml',
        'apko/kubelet.lock.json',
        'melange/default-user.yaml',
      ],
      changed: [],
    });
    expect(all.find((i) => i.name === 'tool')).toMatchObject({
      file: 'apps/tool.yaml',
      arches: ['aarch64'],
      repositories: [WOLFI, `@own ${OWN}`, PRIVATE],
      keyring: [`${WOLFI}/wolfi-signing.rsa.pub`, 'keys/own.rsa.pub'],
      lock: null,
      recipes: [],
    });
    expect(all.find((i) => i.name === 'jellyfin')).toMatchObject({
      arches: ['x86_64'],
      repositories: [`${ALPINE}/main`, `${ALPINE}/community`, PRIVATE],
    });
    expect(all.find((i) => i.name === 'router')).toMatchObject({
      recipes: ['melange/default-user.yaml', 'melange/dnsmasq-config.yaml', 'melange/router-config.yaml'],
    });
  });

  it("tags each image with the ladder of its first package's pin, -rN stripped, and latest", async () => {
    const tags = Object.fromEntries((await list()).map((i) => [i.name, i.tags]));
    expect(tags).toEqual({
      'wolfi-base': ['20230201', 'latest'], // wolfi-baselayout=20230201-r15: a date is its own line
      bootc: ['1.16.7', '1.16', '1', 'latest'], // bootc=1.16.7-r0
      containerd: ['2.0_p1', '2.0', '2', 'latest'], // containerd=2.0_p1-r0: a patch of 2.0 moves 2.0 and 2
      kubelet: ['1.35', '1', 'latest'], // kubelet=1.35-r0
      mesa: ['26.04', '26', 'latest'], // mesa=26.04-r1
      sway: ['0.9.7', '0.9', 'latest'], // sway=0.9.7-r0: no "0"
      kodi: ['latest'], // kodi, not pinned
      router: ['latest'], // router-config, not pinned
      jellyfin: ['10.11.11', '10.11', '10', 'latest'], // jellyfin=10.11.11-r4 (Alpine)
      tool: ['2024.9', '2024', 'latest'], // mytool=2024.9-r0@own
      'node-rc': ['26.0.0_rc1'], // nodejs-26=26.0.0_rc1-r0: a prerelease moves nothing
    });
  });

  it('--tag templates replace the ladder; a template naming what the version lacks gives no tag', async () => {
    const tags = Object.fromEntries(
      (
        await list(
          '--tag',
          'v{{ladder}}',
          '--tag',
          '{{pin}}',
          '--tag',
          '{{major}}.{{minor}}.{{patch}}',
          '--tag',
          'stable',
        )
      ).map((i) => [i.name, i.tags]),
    );
    expect(tags.bootc).toEqual(['v1.16.7', 'v1.16', 'v1', '1.16.7-r0', '1.16.7', 'stable']);
    expect(tags.kubelet).toEqual(['v1.35', 'v1', '1.35-r0', 'stable']);
    expect(tags.kodi).toEqual(['stable']);
    const r = await capture(images, ['-C', repo.dir, '--tag', '{{pin}}']);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err.split('\n')[0]).toBe(
      'apk-indexer images: apko/desktop/kodi.yaml: no tag: kodi is not pinned, and every --tag needs its version',
    );
    const unknown = await capture(images, ['-C', repo.dir, '--tag', '{{sha}}']);
    expect(unknown.code).toBe(2);
    expect(unknown.err.split('\n')[0]).toBe(
      'apk-indexer images: --tag {{sha}}: no placeholder {{sha}} (known: {{ladder}}, {{version}}, {{pin}}, {{major}}, {{minor}}, {{patch}}, {{name}}, {{package}})',
    );
  });

  it('FILE: only the images built with it', async () => {
    expect(await names('apko/mesa.yaml')).toEqual(['kodi', 'mesa', 'sway']);
    expect(await names('melange/dnsmasq-config.yaml')).toEqual(['router']);
    const r = await capture(images, ['-C', repo.dir, 'README.md']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`apk-indexer images: README.md: no image of the tree under ${repo.dir} is built with it\n`);
  });

  it.each(REBUILDS)('a commit changing %s rebuilds exactly %j', async (file, expected) => {
    const before = await repo.git('rev-parse', 'HEAD');
    const text = RELEASE_TREE[file] ?? '{}\n';
    await repo.commit({ [file]: `${text}# changed\n` }, `change ${file}`);
    expect(await names('--changed-since', before)).toEqual(expected);
    const listed = await list('--changed-since', before);
    for (const image of listed) expect(image.changed, image.name).toEqual([file]);
    // The same list of paths, given as a file, selects the same images.
    const changedList = join(repo.dir, '..', `${repo.dir.split('/').pop()}-changed.txt`);
    await writeFile(changedList, `${await repo.git('diff', '--name-only', before, 'HEAD')}\n`);
    expect(await names('--changed-files', changedList)).toEqual(expected);
    await rm(changedList);
  });

  it('a change to several files rebuilds the union; a rename counts both paths', async () => {
    const before = await repo.git('rev-parse', 'HEAD');
    await repo.commit(
      {
        'apko/kubelet.yaml': RELEASE_TREE['apko/kubelet.yaml']!,
        'alpine/jellyfin.yaml': RELEASE_TREE['alpine/jellyfin.yaml']!,
      },
      'two',
    );
    expect(await names('--changed-since', before)).toEqual(['jellyfin', 'kubelet']);
    const beforeMove = await repo.git('rev-parse', 'HEAD');
    await repo.git('mv', 'apko/desktop/kodi.yaml', 'apko/desktop/media.yaml');
    await repo.git('-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-q', '-m', 'rename');
    expect(await names('--changed-since', beforeMove)).toEqual(['media']);
    await repo.git('mv', 'apko/desktop/media.yaml', 'apko/desktop/kodi.yaml');
    await repo.git('-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-q', '-m', 'back');
  });

  it('counts uncommitted and untracked files on a laptop; the null revision rebuilds everything', async () => {
    await writeFile(
      join(repo.dir, 'apko/desktop/new.yaml'),
      'include: apko/mesa.yaml\ncontents:\n  packages: [gimp]\n',
    );
    await writeFile(join(repo.dir, 'apko/mesa.lock.json'), '{}\n');
    expect(await names('--changed-since', 'HEAD')).toEqual(['mesa', 'new']);
    await rm(join(repo.dir, 'apko/desktop/new.yaml'));
    await rm(join(repo.dir, 'apko/mesa.lock.json'));
    expect(await names('--changed-since', 'HEAD')).toEqual([]);
    expect(await names('--changed-since', '0000000000000000000000000000000000000000')).toEqual(ALL_IMAGES);
  });

  it('a revision git cannot read is one line, exit 2', async () => {
    const r = await capture(images, ['-C', repo.dir, '--changed-since', 'no-such-branch']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^apk-indexer images: --changed-since no-such-branch: fatal: Not a valid object name no-such-branch\^\{commit\}\n$/,
    );
  });

  it('prints a block per image as text', async () => {
    const r = await capture(images, ['-C', repo.dir, 'apko/kubelet.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'apko/kubelet.yaml -> kubelet: 1.35 1 latest',
        '  pinned        kubelet=1.35-r0',
        '  chain         apko/kubelet.yaml < apko/containerd.yaml < apko/bootc.yaml < apko/wolfi-base.yaml',
        '  arches        x86_64, aarch64',
        `  repositories  ${WOLFI}`,
        `  keyring       ${WOLFI}/wolfi-signing.rsa.pub`,
        '  lock          apko/kubelet.lock.json',
        '  recipes       melange/default-user.yaml',
        '',
      ].join('\n'),
    );
  });
});

describe('apk-indexer images: what it cannot publish', () => {
  it('a file apko refuses: one line each, exit 2, nothing listed', async () => {
    const repo = await releaseRepo({
      ...RELEASE_TREE,
      'apko/broken.yaml': 'include: apko/bootc.yaml\ncontents:\n  package: [x]\n',
    });
    try {
      const r = await capture(images, ['-C', repo.dir]);
      expect(r).toEqual({
        code: 2,
        out: '',
        err: 'apk-indexer images: apko/broken.yaml:3: unknown key contents.package (apko refuses the file; did you mean packages?)\n',
      });
    } finally {
      await rm(repo.dir, { recursive: true, force: true });
    }
  });

  it('two images that would publish to one name, or a name no registry takes', async () => {
    for (const [files, message] of [
      [
        { 'other/kubelet.yaml': RELEASE_TREE['apko/kubelet.yaml']! },
        'other/kubelet.yaml: publishes to the same name kubelet as apko/kubelet.yaml; rename one of them',
      ],
      [
        { 'apko/Bad Name.yaml': RELEASE_TREE['apko/kubelet.yaml']! },
        'apko/Bad Name.yaml: bad name is not a valid image name (lower-case letters, digits, ".", "_", "-")',
      ],
    ] as const) {
      const repo = await releaseRepo({ ...RELEASE_TREE, ...files });
      try {
        const r = await capture(images, ['-C', repo.dir]);
        expect(r).toEqual({ code: 2, out: '', err: `apk-indexer images: ${message}\n` });
      } finally {
        await rm(repo.dir, { recursive: true, force: true });
      }
    }
  });
});
