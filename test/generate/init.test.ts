import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { checkRows, fixtureRepo, runCommand, schemaErrors, yamlValue } from './helpers.js';
import { command } from '../helpers/command.js';

const check = command('check');
const gen = command('gen');
const init = command('init');

/**
 * Every package the scaffolded images install, as a Wolfi-like repository holds them: without apk-indexer (no
 * distribution has it; melange/apk-indexer.yaml builds it) and with sudo (the default user's sudoers rule needs it)
 * and git (the publish pipeline runs `images --changed-since` in apk-indexer's image).
 */
const NAMES = [
  'wolfi-baselayout',
  'ca-certificates-bundle',
  'tzdata',
  'bootc',
  'bootc-baselayout',
  'ostree',
  'composefs',
  'systemd',
  'systemd-init',
  'systemd-boot',
  'linux-lts',
  'linux-lts-initramfs',
  'containerd',
  'nerdctl',
  'cni-plugins',
  'openssh-server',
  'systemd-default-network',
  'sway',
  'seatd',
  'foot',
  'mesa',
  'pipewire',
  'wireplumber',
  'nftables',
  'dnsmasq',
  'sudo',
  'git',
];

/** Where melange/apk-indexer.yaml checks apk-indexer out from; without it init cannot know (this test runs from no tag). */
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const SOURCE = [
  '--apk-indexer-source',
  'https://git.example.org/tools/apk-indexer.git',
  '--apk-indexer-ref',
  'v0.1.0',
  '--apk-indexer-commit',
  COMMIT,
];
const runInit = (args: string[]) => runCommand(init, [...args, ...SOURCE]);

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('apk-indexer init', () => {
  let dir: string;
  let repo: { url: string; key: string };
  const index = () => ['--index', repo.url, '--alias', 'https://packages.wolfi.dev/os', '--key', repo.key];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-init-'));
    const common: FixturePackage[] = NAMES.map((name) => ({ name, version: '1.0.0-r0' }));
    repo = await fixtureRepo(join(dir, 'repo'), {
      // bootc 1.2.0 exists only on x86_64, and a release candidate is newer still: the pin is the newest stable on both.
      x86_64: [
        ...common,
        { name: 'bootc', version: '1.1.0-r0' },
        { name: 'bootc', version: '1.2.0-r0' },
        { name: 'bootc', version: '1.3.0_rc1-r0' },
      ],
      aarch64: [...common, { name: 'bootc', version: '1.1.0-r0' }, { name: 'bootc', version: '1.3.0_rc1-r0' }],
    });
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the whole tree, pins the first package of each image, and check finds no errors', async () => {
    const out = join(dir, 'site');
    const r = await runInit([out, ...index()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(await listFiles(out)).toEqual([
      '.gitignore',
      '.gitlab-ci.yml',
      'Justfile',
      'apko/apk-indexer.yaml',
      'apko/bootc-desktop.yaml',
      'apko/bootc-host.yaml',
      'apko/bootc-router.yaml',
      'apko/bootc.yaml',
      'apko/wolfi-base.yaml',
      'melange/apk-indexer.yaml',
      'melange/default-user.yaml',
      'melange/router-config.yaml',
      'melange/router-config/vendor/etc/dnsmasq.conf',
      'melange/router-config/vendor/etc/systemd/network/20-wan.network',
      'melange/router-config/vendor/etc/systemd/network/30-lan.network',
      'melange/router-config/vendor/usr/lib/sysctl.d/50-router.conf',
      'renovate.json',
    ]);
    const bootc = await readFile(join(out, 'apko/bootc.yaml'), 'utf8');
    expect(bootc).toContain('    - bootc=1.1.0-r0\n');
    expect(await readFile(join(out, 'apko/wolfi-base.yaml'), 'utf8')).toContain('    - wolfi-baselayout=1.0.0-r0\n');
    expect(await readFile(join(out, 'apko/bootc-host.yaml'), 'utf8')).toContain('    - containerd=1.0.0-r0\n');
    expect(r.out).toContain('apko/bootc.yaml: bootc pinned to 1.1.0-r0');

    const c = await runCommand(check, ['-C', out, ...index()]);
    expect(c.err).toBe('');
    expect(c.out).toMatch(/\n0 error\(s\), 0 warning\(s\), \d+ ok\n$/);
    expect(c.code).toBe(0);
  });

  it("pins only from an index standing for the images' repositories, by the rule check judges them by", async () => {
    // The index given without --alias stands for its own URL, not for Wolfi's, which the images build from.
    const out = join(dir, 'foreign');
    const foreign = ['--index', repo.url, '--key', repo.key];
    const r = await runInit([out, ...foreign]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'apko/bootc.yaml: bootc left unpinned: repository https://packages.wolfi.dev/os not available (for apko/bootc.yaml; pass its index, or --alias)\n',
    );
    expect(r.out).not.toMatch(/pinned to/);
    expect(await readFile(join(out, 'apko/bootc.yaml'), 'utf8')).toContain('    - bootc\n');
    // check with the same flags agrees: nothing of those images can be checked from that index.
    const c = await runCommand(check, ['-C', out, ...foreign]);
    expect(c.out).toMatch(/^warning {2}not checked: no data for https:\/\/packages\.wolfi\.dev\/os: \d+ entries in\s/m);
    expect(c.code).toBe(3);
  });

  it('writes files that validate against the schemas of apko, melange and Renovate', async () => {
    const out = join(dir, 'schemas');
    expect((await runInit([out])).code).toBe(0);
    for (const file of await listFiles(out)) {
      const text = await readFile(join(out, file), 'utf8');
      if (file.startsWith('apko/')) expect(schemaErrors('apko-image', yamlValue(text)), file).toBe('');
      if (/^melange\/[^/]+\.yaml$/.test(file)) expect(schemaErrors('melange-recipe', yamlValue(text)), file).toBe('');
      if (file === 'renovate.json') expect(schemaErrors('renovate-config', JSON.parse(text)), file).toBe('');
    }
  });

  it('writes the same bytes for the same input, and comments what is not obvious', async () => {
    const a = join(dir, 'same-a');
    const b = join(dir, 'same-b');
    await runInit([a, ...index()]);
    await runInit([b, ...index()]);
    for (const file of await listFiles(a))
      expect(await readFile(join(b, file), 'utf8'), file).toBe(await readFile(join(a, file), 'utf8'));
    const bootc = await readFile(join(a, 'apko/bootc.yaml'), 'utf8');
    expect(bootc).toMatch(/# Resolved by apko against the directory it runs in/);
    expect(bootc).toMatch(/# systemd shuts down cleanly on SIGRTMIN\+3/);
    expect(bootc).toContain('containers.bootc: "1"');
    expect(bootc).toContain('stop-signal: SIGRTMIN+3');
    expect(bootc).toContain('  run-as: root');
    expect(bootc).toContain('cmd: init');
  });

  it('refuses to overwrite an existing tree unless forced', async () => {
    const out = join(dir, 'twice');
    expect((await runInit([out])).code).toBe(0);
    await writeFile(join(out, 'renovate.json'), '{}\n');
    const again = await runInit([out]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already has .*renovate\.json/);
    expect(await readFile(join(out, 'renovate.json'), 'utf8')).toBe('{}\n');
    expect((await runInit([out, '--force'])).code).toBe(0);
    expect(await readFile(join(out, 'renovate.json'), 'utf8')).toContain('customManagers');
  });

  it('takes archs, user, Renovate major and repositories from the command line', async () => {
    const out = join(dir, 'options');
    const r = await runInit([
      out,
      '--arch',
      'x86_64,riscv64',
      '--user',
      'ops',
      '--renovate-version',
      '39',
      '--repository',
      'https://apk.example.org/os',
      '--keyring',
      'https://apk.example.org/os/key.rsa.pub',
    ]);
    expect(r.code).toBe(0);
    const base = yamlValue(await readFile(join(out, 'apko/wolfi-base.yaml'), 'utf8')) as {
      archs: string[];
      contents: { repositories: string[] };
    };
    expect(base.archs).toEqual(['amd64', 'riscv64']);
    expect(base.contents.repositories).toEqual(['https://apk.example.org/os']);
    const renovate = JSON.parse(await readFile(join(out, 'renovate.json'), 'utf8'));
    expect(renovate.customDatasources['apk-indexer'].defaultRegistryUrlTemplate).toBe(
      'http://apk-indexer:3000/{{packageName}}',
    );
    expect(renovate.packageRules.map((r: { registryUrls?: string[] }) => r.registryUrls)).toEqual([
      ['http://apk-indexer:3000/{{packageName}}?arch=x86_64,riscv64'],
    ]);
    expect(renovate.customManagers[0].fileMatch).toContain('^apko\\/wolfi-base\\.yaml$');
    expect(renovate.packageRules.some((r: object) => 'maxMajorIncrement' in r)).toBe(false);
    expect(await readFile(join(out, 'melange/default-user.yaml'), 'utf8')).toContain(
      'u ops 1000 "Administrator" /home/ops /bin/sh',
    );
    expect(await readFile(join(out, '.gitlab-ci.yml'), 'utf8')).toContain('image: ghcr.io/renovatebot/renovate:39');
  });

  it('exits 2 on a bad option or an index it cannot read', async () => {
    expect((await runInit([])).code).toBe(2);
    expect((await runInit([join(dir, 'x'), '--arch', 'vax'])).err).toMatch(/unknown arch vax/);
    expect((await runInit([join(dir, 'x'), '--user', 'Bad User'])).err).toMatch(/not a portable user name/);
    const missing = await runInit([join(dir, 'x'), '--index', join(dir, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nowhere\/x86_64\/APKINDEX\.tar\.gz/);
  });

  it('builds apk-indexer here and installs sudo beside the default user, so check passes against Wolfi-like indexes', async () => {
    const out = join(dir, 'no-apk-indexer');
    const r = await runInit([out, ...index()]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('apko/apk-indexer.yaml: apk-indexer left unpinned: built here (melange/apk-indexer.yaml)');
    const recipe = yamlValue(await readFile(join(out, 'melange/apk-indexer.yaml'), 'utf8')) as {
      package: { name: string };
    };
    expect(recipe.package.name).toBe('apk-indexer');
    expect(schemaErrors('melange-recipe', recipe)).toBe('');
    expect(await readFile(join(out, 'Justfile'), 'utf8')).toContain(
      '    melange build melange/apk-indexer.yaml --arch {{arch}}',
    );
    for (const flavour of ['host', 'desktop', 'router']) {
      const packages = (
        yamlValue(await readFile(join(out, `apko/bootc-${flavour}.yaml`), 'utf8')) as {
          contents: { packages: string[] };
        }
      ).contents.packages;
      expect(packages, flavour).toContain('sudo');
      expect(packages, flavour).toContain('default-user');
    }
    const c = await runCommand(check, ['-C', out, ...index()]);
    expect(c.code).toBe(0);
    const rows = await checkRows(['-C', out, ...index()]);
    expect(rows).toContainEqual([
      'ok',
      expect.stringMatching(/^apko\/apk-indexer\.yaml:\d+$/),
      'apk-indexer',
      'built here by melange; not in the indexes until published',
    ]);
    expect(rows.some((r) => r[0] === 'ok' && /^apko\/bootc-host\.yaml:\d+$/.test(r[1]!) && r[2] === 'sudo')).toBe(true);
  });

  it("configures the CI service with the images' repositories, keys, arches and the Renovate server's port", async () => {
    const out = join(dir, 'ci');
    const r = await runInit([
      out,
      '--repository',
      'https://apk.example.org/os',
      '--keyring',
      'https://apk.example.org/os/key.rsa.pub',
      '--arch',
      'amd64,riscv64',
      '--renovate-server',
      'http://idx:8080',
    ]);
    expect(r.code).toBe(0);
    const ci = yamlValue(await readFile(join(out, '.gitlab-ci.yml'), 'utf8')) as Record<
      string,
      {
        services: { alias: string; variables: Record<string, string> }[];
        script: string[];
        variables: Record<string, string>;
      }
    >;
    for (const job of ['pins', 'renovate']) {
      expect(ci[job]!.services, job).toHaveLength(1);
      expect(ci[job]!.services[0]!.alias).toBe('idx');
      expect(ci[job]!.services[0]!.variables, job).toEqual({
        APK_INDEXER_INDEX_URL: 'https://apk.example.org/os',
        APK_INDEXER_KEYS: 'https://apk.example.org/os/key.rsa.pub',
        APK_INDEXER_ARCHES: 'x86_64,riscv64',
        APK_INDEXER_PORT: '8080',
      });
    }
    expect(ci.pins!.script).toEqual([
      'apk-indexer check --server http://idx:8080',
      'apk-indexer pin --check --server http://idx:8080',
    ]);
    expect(JSON.parse(ci.renovate!.variables.RENOVATE_HOST_RULES!)).toEqual([
      { matchHost: 'idx', allowInternal: true },
    ]);
    const renovate = JSON.parse(await readFile(join(out, 'renovate.json'), 'utf8'));
    expect(renovate.packageRules.flatMap((r: { registryUrls?: string[] }) => r.registryUrls ?? [])).toEqual([
      'http://idx:8080/{{packageName}}?arch=x86_64,riscv64',
    ]);
    for (const bad of ['https://idx:8443', 'http://idx:8080/apk']) {
      const refused = await runInit([join(dir, 'ci-bad'), '--renovate-server', bad]);
      expect(refused.code, bad).toBe(2);
      expect(refused.err, bad).toMatch(/--renovate-server .*service container/);
    }
  });

  it('writes the same files whatever the order of --arch', async () => {
    const a = join(dir, 'order-a');
    const b = join(dir, 'order-b');
    await runInit([a, '--arch', 'arm64,amd64']);
    await runInit([b, '--arch', 'amd64,arm64']);
    for (const file of await listFiles(a))
      expect(await readFile(join(b, file), 'utf8'), file).toBe(await readFile(join(a, file), 'utf8'));
  });

  it('names the -o file in the header of a generated image', async () => {
    const file = join(dir, 'gen-o', 'apko', 'bootc-edge.yaml');
    await runInit([join(dir, 'gen-o')]);
    const r = await runCommand(gen, ['bootc', 'router', '-o', file]);
    expect(r.code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^# bootc-edge: /);
    // Outside the working directory (the repository root apko runs from), the path is written in full.
    expect(text).toContain(`apko build ${file} bootc-edge:latest bootc-edge.tar`);
    expect(text).not.toContain('bootc-router');
  });

  it('reports a server it cannot reach in one line, exit 2', async () => {
    const r = await runInit([join(dir, 'unreachable'), '--server', 'http://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^apk-indexer init: http:\/\/127\.0\.0\.1:1\/\S+: no answer from the server \([^)]+\)\n$/);
  });
});
