import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TREE_FILES, writeRenovateTree } from '../helpers/renovate-tree.js';
import { runCommand, schemaErrors } from './helpers.js';
import { command } from '../helpers/command.js';

const gen = command('gen');

const WOLFI = 'https://packages.wolfi.dev/os';
const ALPINE = 'https://dl-cdn.alpinelinux.org/alpine/edge/main';
const ALPINE_COMMUNITY = 'https://dl-cdn.alpinelinux.org/alpine/edge/community';

describe('gen renovate on a tree', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-gen-renovate-'));
    await writeRenovateTree(dir, { wolfi: WOLFI, alpine: ALPINE, alpineCommunity: ALPINE_COMMUNITY });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const generate = (...args: string[]) =>
    runCommand(gen, ['renovate', '--root', dir, '--renovate-server', 'http://apk-indexer:3000', ...args]);

  it("reads every apko file and gives each its images' arches and, with --config, its repositories", async () => {
    const { code, out, err } = await generate('--config', join(dir, 'apk-indexer.yaml'));
    expect(err).toBe('');
    expect(code).toBe(0);
    const config = JSON.parse(out);
    expect(schemaErrors('renovate-config', config)).toBe('');
    const patterns = (config.customManagers[0].managerFilePatterns as string[]).map((p) => new RegExp(p.slice(1, -1)));
    expect(TREE_FILES.filter((f) => patterns.some((r) => r.test(f)))).toEqual(TREE_FILES);
    expect(patterns.some((r) => r.test('apk-indexer.yaml'))).toBe(false);
    const rules = (config.packageRules as Array<{ matchFileNames?: string[]; registryUrls?: string[] }>).filter(
      (r) => r.matchFileNames,
    );
    expect(rules.map((r) => [r.matchFileNames, r.registryUrls])).toEqual([
      [['images/pi.apko.yaml'], ['http://apk-indexer:3000/{{packageName}}?arch=aarch64&repository=wolfi']],
      [['images/nuc.yaml'], ['http://apk-indexer:3000/{{packageName}}?arch=x86_64&repository=wolfi']],
      [['alpine/edge.yaml'], ['http://apk-indexer:3000/{{packageName}}?arch=x86_64,aarch64&repository=alpine']],
      // FROM alpine:edge: its main and community, which the configuration holds as aliases.
      [
        ['tools/Containerfile'],
        ['http://apk-indexer:3000/{{packageName}}?arch=x86_64,aarch64&repository=alpine,alpine-community'],
      ],
      // The base is built by the amd64-only, the arm64-only and the two-arch image: it must hold on both. The
      // Dockerfile builds on the two-arch host image.
      [
        ['apko/base.yaml', 'apko/host.yaml', 'hosts/nuc/Dockerfile'],
        ['http://apk-indexer:3000/{{packageName}}?arch=x86_64,aarch64&repository=wolfi'],
      ],
    ]);
    // The Dockerfiles, by their exact paths, with Renovate's recursive strategy.
    expect(config.customManagers[1]).toMatchObject({
      description: 'RUN apk add name=version pins in Dockerfiles and Containerfiles',
      managerFilePatterns: ['/^hosts\\/nuc\\/Dockerfile$/', '/^tools\\/Containerfile$/'],
      matchStringsStrategy: 'recursive',
      datasourceTemplate: 'custom.apk-indexer',
      versioningTemplate: 'loose',
    });
    // Deterministic: the same tree writes the same bytes.
    expect((await generate('--config', join(dir, 'apk-indexer.yaml'))).out).toBe(out);
  });

  it('without --config, filters by arch only (the service names its repositories)', async () => {
    const { out, err } = await generate();
    const config = JSON.parse(out);
    // Without the repositories, FROM alpine:edge cannot be placed: that file gets no rule, and says why.
    expect(err).toBe(
      'note: tools/Containerfile: no rule, Renovate asks the default URL (versions on every arch holding a package): FROM docker.io/library/alpine:edge: its repositories https://dl-cdn.alpinelinux.org/alpine/edge/main, https://dl-cdn.alpinelinux.org/alpine/edge/community are not all among the repositories given (by URL or alias); or pass --repository NAME\n',
    );
    const urls = (config.packageRules as Array<{ registryUrls?: string[] }>).flatMap((r) => r.registryUrls ?? []);
    expect(urls.every((u) => !u.includes('repository='))).toBe(true);
    expect(urls).toContain('http://apk-indexer:3000/{{packageName}}?arch=aarch64');
  });

  it('names a broken include, exit 2 with one line', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'apk-gen-renovate-'));
    try {
      await writeFile(join(broken, 'x.yaml'), 'include: nowhere.yaml\ncontents:\n  packages: [a=1-r0]\n');
      const { code, err } = await runCommand(gen, ['renovate', '--root', broken]);
      expect(code).toBe(2);
      expect(err).toMatch(/^apk-indexer gen: x\.yaml:1: include: nowhere\.yaml not found/);
      expect(err.trim().split('\n')).toHaveLength(1);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('writes -o FILE', async () => {
    const out = join(dir, 'renovate.json');
    expect((await generate('-o', out)).code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8')).customDatasources['apk-indexer'].defaultRegistryUrlTemplate).toBe(
      'http://apk-indexer:3000/{{packageName}}',
    );
    await rm(out);
  });
});
