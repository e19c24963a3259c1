import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { ReadyzServer } from '../helpers/readyz.js';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCommand, schemaErrors, yamlValue } from './helpers.js';
import { command } from '../helpers/command.js';
import { gitlabCiErrors } from '../helpers/ci-schemas.js';

const init = command('init');

/**
 * Issue 12, "the scaffold builds as written": what `init` writes must build with what exists. No melange, apko,
 * just or GitLab runs here, so the tree is read as they read it: the recipe's git-checkout, every image a job runs
 * (public, or pushed by an earlier job of the same pipeline), the Justfile recipes CI calls, and the readiness wait,
 * run for real against a local server.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';
const SOURCE = [
  '--apk-indexer-source',
  'https://git.example.org/tools/apk-indexer.git',
  '--apk-indexer-ref',
  'v0.4.2',
  '--apk-indexer-commit',
  COMMIT,
];

/** Images that exist publicly, as the README's GitLab example and the melange and apko images' READMEs name them. */
const PUBLIC = new Set([
  'cgr.dev/chainguard/melange:latest-dev',
  'cgr.dev/chainguard/apko:latest-dev',
  'ghcr.io/renovatebot/renovate:44',
]);
/** Top-level keys of .gitlab-ci.yml that are not jobs. */
const NOT_JOBS = new Set(['workflow', 'stages', 'variables', 'default', 'include']);

type Job = {
  stage: string;
  image?: string | { name: string };
  trigger?: unknown;
  services?: ({ name: string; alias: string; variables: Record<string, string> } | string)[];
  needs?: string[];
  before_script?: string[];
  script: string[];
  artifacts?: { paths: string[] };
};

const imageName = (i: string | { name: string }) => (typeof i === 'string' ? i : i.name);

/**
 * A Justfile recipe call as `just` runs it, enough for these files: `just [var=value...] RECIPE [ARG...]` gives
 * the body lines of RECIPE with its parameters and the variables substituted, after those of its dependencies.
 */
function justRun(justfile: string, args: string[]): string[] {
  const vars = new Map<string, string>();
  for (const m of justfile.matchAll(/^(\w+) := "([^"]*)"$/gm)) vars.set(m[1]!, m[2]!);
  while (args[0]?.includes('=')) {
    const [name, value] = args.shift()!.split(/=(.*)/s) as [string, string];
    expect(vars.has(name), `just ${name}=: no such variable`).toBe(true);
    vars.set(name, value);
  }
  const recipes = new Map<string, { params: string[]; deps: string[]; body: string[] }>();
  let current: { params: string[]; deps: string[]; body: string[] } | undefined;
  for (const line of justfile.split('\n')) {
    const header = /^([a-z_][\w-]*)((?: [A-Z]+(?:="[^"]*")?)*): ?(.*)$/.exec(line);
    if (header && !line.includes(':=')) {
      current = {
        params: header[2]!
          .trim()
          .split(' ')
          .filter(Boolean)
          .map((p) => p.split('=')[0]!),
        deps: header[3]!.split(' ').filter(Boolean),
        body: [],
      };
      recipes.set(header[1]!, current);
    } else if (current && line.startsWith('    ')) current.body.push(line.slice(4));
    else if (line === '' || line.startsWith('#')) current = undefined;
  }
  const expand = (name: string, values: string[]): string[] => {
    const recipe = recipes.get(name);
    expect(recipe, `just ${name}: no such recipe`).toBeDefined();
    const local = new Map(vars);
    recipe!.params.forEach((p, i) => local.set(p, values[i] ?? ''));
    const deps = recipe!.deps.flatMap((d) => (d.startsWith('(') ? [] : expand(d, [])));
    return [
      ...deps,
      ...recipe!.body.map((l) => l.replace(/\{\{(\w+)\}\}/g, (_, v: string) => local.get(v) ?? `{{${v}}}`)),
    ];
  };
  const [recipe, ...values] = args;
  return expand(recipe!, values);
}

/** A CI script line `just ...` as the job's shell would pass it: `$(uname -m)` on a x86_64 runner, quotes removed. */
function shellWords(line: string): string[] {
  return [...line.replaceAll('$(uname -m)', 'x86_64').matchAll(/"([^"]*)"|(\S+)/g)].map((m) =>
    (m[1] ?? m[2]!).replaceAll('"', ''),
  );
}

describe('apk-indexer init: the tree builds with what exists', () => {
  let dir: string;
  let tree: string;
  const read = (path: string) => readFile(join(tree, path), 'utf8');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-init-build-'));
    tree = join(dir, 'site');
    const r = await runCommand(init, [tree, ...SOURCE]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `melange/apk-indexer.yaml: apk-indexer 0.4.2 from https://git.example.org/tools/apk-indexer.git at v0.4.2, commit ${COMMIT}`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  describe('melange/apk-indexer.yaml', () => {
    it("checks out apk-indexer's source at the tag and commit given, and installs nothing from npm by name", async () => {
      const recipe = yamlValue(await read('melange/apk-indexer.yaml')) as any;
      expect(schemaErrors('melange-recipe', recipe)).toBe('');
      expect(recipe.pipeline[0]).toEqual({
        uses: 'git-checkout',
        with: {
          repository: 'https://git.example.org/tools/apk-indexer.git',
          tag: 'v${{package.version}}',
          'expected-commit': COMMIT,
        },
      });
      // melange substitutes the tag: the one given.
      expect(recipe.pipeline[0].with.tag.replace('${{package.version}}', recipe.package.version)).toBe('v0.4.2');
      for (const file of await readdir(tree, { recursive: true })) {
        if (!/\.(ya?ml)$|Justfile/.test(file)) continue;
        expect(await read(file), file).not.toMatch(/npm install[^\n]*apk-indexer@/);
      }
    });

    it("builds as this project's own melange.yaml does once the source is in the workspace", async () => {
      const recipe = yamlValue(await read('melange/apk-indexer.yaml')) as any;
      const own = parse(readFileSync(join(ROOT, 'melange.yaml'), 'utf8')) as any;
      expect(recipe.pipeline.slice(1)).toEqual(own.pipeline);
      expect(recipe.test).toEqual(own.test);
      expect(recipe.environment.environment).toEqual(own.environment.environment);
      expect(recipe.environment.contents.packages).toEqual(own.environment.contents.packages);
      expect(recipe.package.dependencies).toEqual(own.package.dependencies);
    });

    it('the schema takes only what git-checkout reads, and no credentials in its URL', async () => {
      const recipe = yamlValue(await read('melange/apk-indexer.yaml')) as any;
      const withCheckout = (w: object) => ({
        ...recipe,
        pipeline: [{ uses: 'git-checkout', with: w }, ...recipe.pipeline.slice(1)],
      });
      expect(
        schemaErrors('melange-recipe', withCheckout({ repository: 'https://u:p@git.example.org/a.git', tag: 'v1' })),
      ).not.toBe('');
      expect(schemaErrors('melange-recipe', withCheckout({ repository: 'https://git.example.org/a.git' }))).not.toBe(
        '',
      );
      expect(
        schemaErrors(
          'melange-recipe',
          withCheckout({ repository: 'https://git.example.org/a.git', tag: 'v1', 'expected-commit': 'abc' }),
        ),
      ).not.toBe('');
      expect(
        schemaErrors(
          'melange-recipe',
          withCheckout({ repository: 'https://git.example.org/a.git', tag: 'v1', branch: 'main' }),
        ),
      ).not.toBe('');
      expect(
        schemaErrors('melange-recipe', withCheckout({ repository: 'https://git.example.org/a.git', tag: 'v1' })),
      ).toBe('');
    });
  });

  describe('.gitlab-ci.yml', () => {
    let ci: Record<string, any>;
    let jobs: [string, Job][];
    let justfile: string;
    beforeAll(async () => {
      ci = parse(await read('.gitlab-ci.yml')) as Record<string, any>;
      jobs = Object.entries(ci).filter(([name]) => !NOT_JOBS.has(name)) as [string, Job][];
      justfile = await read('Justfile');
    });

    /** What each job pushes: the REF of `just ... publish NAME REF`, as the Justfile runs it (apko publish). */
    const pushes = (job: Job) =>
      (job.script ?? []).flatMap((line) => {
        if (!line.startsWith('just ')) return [];
        return justRun(justfile, shellWords(line).slice(1)).flatMap((cmd) => {
          const m = /^apko publish (\S+) "([^"]+)"/.exec(cmd);
          return m ? [{ config: m[1]!, ref: m[2]! }] : [];
        });
      });

    it('runs only public images, or images a job of an earlier stage pushes, and needs that job', () => {
      const stages = ci.stages as string[];
      const seen: string[] = [];
      for (const [name, job] of jobs) {
        expect(stages, `${name}: stage ${job.stage}`).toContain(job.stage);
        // A trigger job runs no image: it starts a child pipeline (checked below).
        if (job.trigger) continue;
        for (const image of [imageName(job.image!), ...(job.services ?? []).map((s) => imageName(s))]) {
          seen.push(image);
          if (PUBLIC.has(image)) continue;
          const pusher = jobs.find(([, other]) => pushes(other).some((p) => p.ref === image));
          expect(pusher, `${name} runs ${image}, which no job pushes`).toBeDefined();
          expect(stages.indexOf(pusher![1].stage), `${name}: ${pusher![0]} runs in an earlier stage`).toBeLessThan(
            stages.indexOf(job.stage),
          );
          expect(job.needs, `${name} needs ${pusher![0]}`).toContain(pusher![0]);
        }
      }
      // The service is the image built from this tree, one per commit.
      expect(seen).toContain('$CI_REGISTRY_IMAGE/apk-indexer:$CI_COMMIT_SHORT_SHA');
    });

    it("pushes apko/apk-indexer.yaml built from the pipeline's own packages, signed by a key it trusts, after logging in", async () => {
      const [name, job] = jobs.find(([, j]) => pushes(j).length > 0)!;
      const [{ config }] = pushes(job) as [{ config: string; ref: string }];
      expect(config).toBe('apko/apk-indexer.yaml');
      await expect(read(config)).resolves.toContain('- apk-indexer');
      const publish = job.script
        .flatMap((l) => justRun(justfile, shellWords(l).slice(1)))
        .find((c) => c.startsWith('apko publish'))!;
      expect(publish).toMatch(/ --arch x86_64 /);
      expect(publish).toMatch(/ --repository-append \.\/packages /);
      expect(publish).toMatch(/ --keyring-append melange\.rsa\.pub$/);
      // apko reads docker's config for credentials; `apko login` writes it, with the job's registry credentials.
      expect(job.before_script).toContain(
        'echo "$CI_JOB_TOKEN" | apko login "$CI_REGISTRY" --username "$CI_REGISTRY_USER" --password-stdin',
      );
      expect(imageName(job.image!)).toBe('cgr.dev/chainguard/apko:latest-dev');

      // The packages and the public key come from the job that builds them, which makes the key when there is none.
      const [builderName, builder] = jobs.find(([, j]) => (j.artifacts?.paths ?? []).includes('packages/'))!;
      expect(job.needs).toContain(builderName);
      expect(builder.artifacts!.paths).toContain('melange.rsa.pub');
      expect(builder.artifacts!.paths).not.toContain('melange.rsa');
      const built = builder.script.flatMap((l) => justRun(justfile, shellWords(l).slice(1)));
      expect(built[0]).toBe('test -f melange.rsa || melange keygen melange.rsa');
      const melangeFiles = (await readdir(join(tree, 'melange'))).filter((f) => f.endsWith('.yaml')).sort();
      const builds = built.filter((c) => c.startsWith('melange build'));
      expect(builds.map((c) => c.split(' ')[2]!.replace('melange/', '')).sort()).toEqual(melangeFiles);
      for (const c of builds) expect(c).toMatch(/ --arch x86_64 --signing-key melange\.rsa --out-dir packages$/);
      expect(imageName(builder.image!)).toBe('cgr.dev/chainguard/melange:latest-dev');
      expect(name).not.toBe(builderName);
    });

    it('waits for /readyz of its service before running Renovate or the check', () => {
      for (const name of ['renovate', 'pins']) {
        const job = ci[name] as Job;
        const service = job.services![0] as { alias: string; variables: Record<string, string> };
        const wait = job.before_script!.join('\n');
        expect(wait, name).toContain(`"http://${service.alias}:${service.variables.APK_INDEXER_PORT}/readyz"`);
        expect(job.script.join('\n'), name).not.toContain('/readyz');
      }
      expect((ci.renovate as Job).script).toEqual(['renovate']);
      expect((ci.pins as Job).script[0]).toBe('apk-indexer check --server http://apk-indexer:3000');
    });

    it('publishes every image in apko/ on the default branch: a job writes the child pipeline, which builds ./packages for every arch first', async () => {
      const images = ci.images as Job & { artifacts: { paths: string[] } };
      const publish = ci.publish as Job & { trigger: { include: { artifact: string; job: string }[] } };
      expect(publish.needs).toEqual(['images']);
      expect(publish.trigger.include).toEqual([{ artifact: 'images.gitlab-ci.yml', job: 'images' }]);
      expect(images.artifacts.paths).toEqual(['images.gitlab-ci.yml']);
      expect(gitlabCiErrors(ci)).toBe('');
      // The job's command, run here as GitLab runs it on a schedule (CI_COMMIT_BEFORE_SHA is the null revision).
      expect(images.script).toHaveLength(1);
      const line = images.script[0]!.replace('"$CI_COMMIT_BEFORE_SHA"', '0'.repeat(40));
      const words = [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
      expect(words.slice(0, 3)).toEqual(['apk-indexer', 'gen', 'ci']);
      const r = await runCommand(command('gen'), [...words.slice(2, -2), '--root', tree]);
      expect(r.err).toBe('');
      const child = parse(r.out) as Record<string, Job>;
      expect(gitlabCiErrors(child)).toBe('');
      const apko = (await readdir(join(tree, 'apko'))).map((f) => f.replace(/\.yaml$/, '')).sort();
      expect(
        Object.keys(child)
          .filter((k) => k.startsWith('publish:'))
          .map((k) => k.slice('publish:'.length))
          .sort(),
      ).toEqual(apko);
      // ./packages for every arch the images build for, by the Justfile's own recipe, before any image.
      expect(child.packages!.script).toEqual(['apk add --no-cache just', 'just packages']);
      const built = justRun(justfile, ['packages']).filter((c) => c.startsWith('melange build'));
      expect(built).toHaveLength(3);
      for (const c of built) expect(c).toMatch(/ --arch x86_64,aarch64 --signing-key melange\.rsa --out-dir packages$/);
      const host = child['publish:bootc-host']!;
      expect(host.needs).toEqual(['packages']);
      expect(host.script[0]).toBe(
        'apko publish apko/bootc-host.yaml "$IMAGE_PREFIX/bootc-host:latest" --arch x86_64,aarch64 --repository-append ./packages --keyring-append melange.rsa.pub ${APKO_BUILD_REPOSITORIES:+--build-repository-append "$APKO_BUILD_REPOSITORIES"} ${APKO_KEYRING_APPEND:+--keyring-append "$APKO_KEYRING_APPEND"}',
      );
      // The image the job runs has git, which --changed-since asks.
      expect(await read('apko/apk-indexer.yaml')).toMatch(/^ {4}- git\b/m);
    });

    describe('the wait, run against a local /readyz', () => {
      const readyz = new ReadyzServer();
      let url = '';
      beforeAll(async () => {
        url = `${(await readyz.start()).url}/readyz`;
      });
      afterAll(() => readyz.close());

      const sh = (script: string) =>
        promisify(execFile)('sh', ['-c', script], {
          timeout: 20_000,
          env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
        });
      const script = () =>
        (ci.renovate as Job).before_script!.join('\n').replace('http://apk-indexer:3000/readyz', url);

      it('returns once the service answers 200', async () => {
        readyz.notReadyFor = 1;
        await expect(sh(script())).resolves.toBeDefined();
        expect(readyz.notReadyFor).toBe(0);
      });

      it('fails the job with a message naming the URL when it never does', async () => {
        readyz.notReadyFor = Number.MAX_SAFE_INTEGER;
        const impatient = script().replace('300_000', '300');
        expect(impatient).not.toBe(script());
        await expect(sh(impatient)).rejects.toMatchObject({
          code: 1,
          stderr: expect.stringContaining(`apk-indexer is not ready at ${url} after 300 s`),
        });
        readyz.notReadyFor = 0;
      });
    });
  });

  it('the Justfile: `just` builds the packages, then every image in apko/', async () => {
    const justfile = await read('Justfile');
    const first = justfile.split('\n').find((l) => /^[a-z_][\w-]*[^:]*:(?!=)/.test(l));
    expect(first).toBe('build: packages images');
    const images = (await readdir(join(tree, 'apko'))).map((f) => f.replace(/\.yaml$/, '')).sort();
    const line = justfile.split('\n').find((l) => l.startsWith('images:'))!;
    expect([...line.matchAll(/\(image "([^"]+)"\)/g)].map((m) => m[1]).sort()).toEqual(images);
    expect(justRun(justfile, ['image', 'bootc-host'])).toEqual([
      '@test -d packages -a -f melange.rsa.pub || { echo "no ./packages or melange.rsa.pub here: run just packages first" >&2; exit 1; }',
      'apko build apko/bootc-host.yaml bootc-host:latest bootc-host.tar --arch x86_64,aarch64 --repository-append ./packages --keyring-append melange.rsa.pub',
    ]);
  });

  it('--service-image: the jobs run that image, and the pipeline builds none', async () => {
    const out = join(dir, 'given');
    expect(
      (await runCommand(init, [out, ...SOURCE, '--service-image', 'ghcr.io/apk-indexer/apk-indexer:0.1.0'])).code,
    ).toBe(0);
    const ci = parse(await read(join('..', 'given', '.gitlab-ci.yml'))) as Record<string, any>;
    expect(ci['apk-indexer-image']).toBeUndefined();
    expect(ci.stages).toEqual(['packages', 'pins', 'publish']);
    expect(ci.images.image.name).toBe('ghcr.io/apk-indexer/apk-indexer:0.1.0');
    expect(ci.images.needs).toEqual([]);
    for (const name of ['pins', 'renovate']) {
      expect(ci[name].services[0].name, name).toBe('ghcr.io/apk-indexer/apk-indexer:0.1.0');
      expect(ci[name].needs, name).toEqual([]);
    }
    expect(ci.pins.image.name).toBe('ghcr.io/apk-indexer/apk-indexer:0.1.0');
  });
});
