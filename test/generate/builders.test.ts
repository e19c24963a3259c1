import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseImage, image, WOLFI_KEY, WOLFI_REPOSITORY } from '../../src/generate/apko-image.js';
import { sortApkArches, toApkArch, toApkoArch } from '../../src/apko/arch.js';
import {
  bootcBase,
  bootcFlavour,
  bootcProblems,
  BOOTC_FLAVOURS,
  isBootcImage,
  type BootcFacts,
} from '../../src/generate/bootc.js';
import { configPackage } from '../../src/generate/melange-config.js';
import { fileStep } from '../../src/generate/melange.js';
import { userPackage, type UserPackageOptions } from '../../src/generate/melange-user.js';
import { isPin, parsePackageSpec } from '../../src/apko/package-spec.js';
import { renderRenovateJson, renovateConfig } from '../../src/generate/renovate.js';
import { renderYaml, type CommentedValue } from '../../src/generate/yaml-doc.js';
import type { ApkoImage } from '../../src/apko/config-model.js';
import { runCommand, schemaErrors, yamlValue } from './helpers.js';
import { command } from '../helpers/command.js';

const gen = command('gen');

const env = { repositories: [WOLFI_REPOSITORY], keyring: [WOLFI_KEY] };
const flavourOptions = {
  include: 'apko/bootc.yaml',
  userPackage: 'default-user',
  configPackage: 'router-config',
  extraPackages: ['htop'],
};
const userOptions: UserPackageOptions = {
  ...env,
  packageName: 'default-user',
  version: '1.0.0',
  license: 'Apache-2.0',
  user: 'admin',
  uid: 1000,
  gecos: 'Administrator',
  shell: '/bin/sh',
  passwordHash: undefined,
};

describe('the apko builders', () => {
  const images: Record<string, CommentedValue<ApkoImage>> = {
    base: baseImage({
      name: 'wolfi-base',
      ...env,
      archs: ['amd64', 'arm64'],
      packages: [{ entry: 'wolfi-baselayout', why: 'layout' }],
      user: { name: 'nonroot', id: 65532 },
    }),
    app: image({
      name: 'app',
      purpose: 'an app.',
      include: 'apko/wolfi-base.yaml',
      packages: [{ entry: 'app=1.0-r0' }],
      entrypoint: '/usr/bin/app',
      cmd: 'serve',
      environment: { A: '1' },
      workDir: '/srv',
      runAs: 'nobody',
    }),
    bootc: bootcBase({ include: 'apko/wolfi-base.yaml', kernel: 'linux-lts', dracut: true }),
    ...Object.fromEntries(BOOTC_FLAVOURS.map((f) => [f, bootcFlavour(f, flavourOptions)])),
  };

  it.each(Object.entries(images))(
    '%s validates against the apko schema, as value and as written YAML',
    (_name, content) => {
      expect(schemaErrors('apko-image', content.value)).toBe('');
      expect(schemaErrors('apko-image', yamlValue(renderYaml(content)))).toBe('');
      expect(yamlValue(renderYaml(content))).toEqual(content.value);
    },
  );

  it('writes the same bytes every time, comments first, blank lines between sections', () => {
    const text = renderYaml(images.bootc!);
    expect(renderYaml(bootcBase({ include: 'apko/wolfi-base.yaml', kernel: 'linux-lts', dracut: true }))).toBe(text);
    expect(text.startsWith('# bootc: the bootable base')).toBe(true);
    expect(text).toContain(
      '\n\n# systemd shuts down cleanly on SIGRTMIN+3; on SIGTERM it would re-execute itself.\nstop-signal: SIGRTMIN+3\n',
    );
    expect(text).toContain(
      '    # For a derived image that regenerates the initramfs (`RUN dracut ...`).\n    - dracut\n',
    );
  });

  it('makes a bootc base and flavours that meet every bootc requirement together', () => {
    const base = images.bootc!.value;
    for (const flavour of BOOTC_FLAVOURS) {
      const merged: BootcFacts = {
        packages: [...base.contents!.packages!, ...images[flavour]!.value.contents!.packages!],
        annotations: base.annotations!,
        cmd: base.cmd,
        entrypoint: undefined,
        stopSignal: base['stop-signal'],
        runAs: base.accounts!['run-as'],
      };
      expect(isBootcImage(merged)).toBe(true);
      expect(bootcProblems(merged), flavour).toEqual([]);
    }
    expect(images.router!.value.contents!.packages).toContain('router-config');
    expect(images.host!.value.contents!.packages).toEqual(
      expect.arrayContaining([
        'containerd',
        'nerdctl',
        'cni-plugins',
        'openssh-server',
        'systemd-default-network',
        'default-user',
        'htop',
      ]),
    );
  });

  it('names what a bootc image lacks', () => {
    const facts: BootcFacts = {
      packages: ['bootc', 'systemd', 'linux-lts', 'linux-firmware'],
      annotations: { 'containers.bootable': '1' },
      cmd: undefined,
      entrypoint: undefined,
      stopSignal: 'SIGTERM',
      runAs: '65532',
    };
    expect(bootcProblems(facts)).toEqual([
      'annotation containers.bootc: "1" is missing; bootc refuses the image without it',
      'annotation containers.bootable is not read by bootc; the label is containers.bootc: "1"',
      'package ostree is missing; a bootc image needs bootc, ostree, composefs, systemd, systemd-init',
      'package composefs is missing; a bootc image needs bootc, ostree, composefs, systemd, systemd-init',
      'package systemd-init is missing; a bootc image needs bootc, ostree, composefs, systemd, systemd-init',
      'kernel linux-lts has no initramfs: add linux-lts-initramfs (or dracut for a derived build)',
      'cmd is missing; a bootc image starts init (cmd: init)',
      'stop-signal is SIGTERM; systemd needs SIGRTMIN+3',
      'accounts.run-as is 65532; systemd must run as root',
    ]);
    expect(bootcProblems({ ...facts, packages: ['bootc'], annotations: { 'containers.bootc': 'true' } })).toContain(
      'annotation containers.bootc is "true", bootc needs "1"',
    );
    expect(bootcProblems({ ...facts, packages: ['bootc'] })).toContain('no kernel package (linux, linux-lts, ...)');
    expect(isBootcImage({ ...facts, packages: ['busybox'], annotations: {} })).toBe(false);
  });
});

describe('the melange builders', () => {
  it('makes a user package of static files only, valid for melange', () => {
    const recipe = userPackage({
      ...userOptions,
      passwordHash: '$6$salt$abcdefghijklmnopqrstuvwxyz0123456789./ABCDEFGH',
    });
    expect(schemaErrors('melange-recipe', recipe.value)).toBe('');
    expect(schemaErrors('melange-recipe', yamlValue(renderYaml(recipe)))).toBe('');
    expect(recipe.value.pipeline.map((s) => s.name)).toEqual([
      '/usr/lib/sysusers.d/admin.conf',
      '/usr/lib/tmpfiles.d/admin-home.conf',
      '/usr/lib/systemd/system/systemd-sysusers.service.d/50-admin-password.conf',
      '/etc/sudoers.d/admin',
      '/etc/ssh/sshd_config.d/50-admin.conf',
    ]);
    const all = recipe.value.pipeline.map((s) => s.runs).join('\n');
    expect(all).toContain('u admin 1000 "Administrator" /home/admin /bin/sh\n');
    expect(all).toContain('d /home/admin 0700 admin admin -\n');
    expect(all).toContain(
      'SetCredential=passwd.hashed-password.admin:$6$salt$abcdefghijklmnopqrstuvwxyz0123456789./ABCDEFGH\n',
    );
    expect(all).toContain('chmod 0440 "${{targets.destdir}}/etc/sudoers.d/admin"');
    expect(JSON.stringify(recipe.value)).not.toMatch(/scriptlets|post-install/);
    expect(recipe.value.update).toEqual({
      enabled: false,
      'exclude-reason': expect.stringContaining('bump package.version'),
    });
  });

  it('locks the password when no hash is given, and refuses unusable input', () => {
    expect(userPackage(userOptions).value.pipeline[2]!.runs).toContain(
      'SetCredential=passwd.hashed-password.admin:!\n',
    );
    expect(() => userPackage({ ...userOptions, user: 'Admin User' })).toThrow(/not a portable user name/);
    expect(() => userPackage({ ...userOptions, uid: 0 })).toThrow(/outside the regular user range/);
    expect(() => userPackage({ ...userOptions, passwordHash: 'hunter2' })).toThrow(/crypt\(3\) hash/);
    expect(() => userPackage({ ...userOptions, gecos: 'say "hi"' })).toThrow(/quotes/);
  });

  it('writes each file through a quoted heredoc, refusing paths and content it cannot write safely', () => {
    expect(fileStep('/etc/motd', '0644', 'hello $USER\n').runs).toBe(
      'mkdir -p "${{targets.destdir}}/etc"\ncat > "${{targets.destdir}}/etc/motd" <<\'EOF\'\nhello $USER\nEOF\nchmod 0644 "${{targets.destdir}}/etc/motd"\n',
    );
    expect(() => fileStep('etc/motd', '0644', 'x')).toThrow(/unsafe path/);
    expect(() => fileStep('/etc/$(id)', '0644', 'x')).toThrow(/unsafe path/);
    expect(() => fileStep('/etc/motd', '644', 'x')).toThrow(/octal/);
    expect(() => fileStep('/etc/motd', '0644', 'a\nEOF\nrm -rf /\n')).toThrow(/EOF line/);
    expect(() => fileStep('/etc/motd', '0644', '${{vars.x}}')).toThrow(/substitutions/);
  });

  it('makes a configuration package that copies vendor/ and claims files with replaces', () => {
    const recipe = configPackage({
      ...env,
      packageName: 'router-config',
      version: '2.0.0',
      license: 'MIT',
      description: 'the router',
      replaces: ['dnsmasq'],
    });
    expect(schemaErrors('melange-recipe', yamlValue(renderYaml(recipe)))).toBe('');
    expect(recipe.value.package.dependencies).toEqual({ replaces: ['dnsmasq'] });
    expect(recipe.value.pipeline[0]!.runs).toContain('cp -a vendor/. "${{targets.destdir}}/"');
    expect(renderYaml(recipe)).toContain('--source-dir melange/router-config');
    const none = configPackage({
      ...env,
      packageName: 'x-config',
      version: '1',
      license: 'MIT',
      description: 'x',
      replaces: [],
    });
    expect(none.value.package.dependencies).toBeUndefined();
  });
});

describe('renovate.json', () => {
  const files = new Map([
    ['apko/host.yaml', { arches: ['aarch64', 'x86_64'], repositories: ['wolfi'] }],
    ['apko/pi.yaml', { arches: ['aarch64'], repositories: ['wolfi'] }],
    ['apko/base.yaml', { arches: ['x86_64', 'aarch64'], repositories: ['wolfi'] }],
    ['images/[odd] name.apko.yaml', { arches: ['x86_64'], repositories: ['alpine', 'wolfi'] }],
  ]);

  it("reads exactly the tree's apko files and points each at the URL of its constraint, one rule per constraint", () => {
    const config = renovateConfig({ server: 'http://apk-indexer:3000/', files });
    expect(schemaErrors('renovate-config', config)).toBe('');
    expect(config.customDatasources).toEqual({
      'apk-indexer': { defaultRegistryUrlTemplate: 'http://apk-indexer:3000/{{packageName}}', format: 'json' },
    });
    expect(config.customManagers[0]).toMatchObject({
      datasourceTemplate: 'custom.apk-indexer',
      versioningTemplate: 'loose',
    });
    expect(config.customManagers[0]!.managerFilePatterns).toEqual([
      '/^apko\\/base\\.yaml$/',
      '/^apko\\/host\\.yaml$/',
      '/^apko\\/pi\\.yaml$/',
      '/^images\\/\\[odd\\] name\\.apko\\.yaml$/',
    ]);
    expect(config.packageRules).toEqual([
      expect.objectContaining({ matchDatasources: ['custom.apk-indexer'], maxMajorIncrement: 0 }),
      expect.objectContaining({
        matchFileNames: ['apko/pi.yaml'],
        registryUrls: ['http://apk-indexer:3000/{{packageName}}?arch=aarch64&repository=wolfi'],
      }),
      expect.objectContaining({
        matchFileNames: ['images/\\[odd\\] name.apko.yaml'],
        registryUrls: ['http://apk-indexer:3000/{{packageName}}?arch=x86_64&repository=alpine,wolfi'],
      }),
      expect.objectContaining({
        matchFileNames: ['apko/base.yaml', 'apko/host.yaml'],
        registryUrls: ['http://apk-indexer:3000/{{packageName}}?arch=x86_64,aarch64&repository=wolfi'],
      }),
    ]);
    // Each manager pattern matches its own path only.
    const patterns = config.customManagers[0]!.managerFilePatterns!.map((p) => new RegExp(p.slice(1, -1)));
    for (const path of files.keys())
      expect(
        patterns.filter((r) => r.test(path)),
        path,
      ).toHaveLength(1);
    expect(patterns.some((r) => r.test('apko/base.yamlx') || r.test('x/apko/base.yaml'))).toBe(false);
  });

  it('is deterministic: the same tree in any order writes the same bytes', () => {
    const reversed = new Map(
      [...files]
        .reverse()
        .map(([k, v]) => [k, { arches: [...v.arches].reverse(), repositories: [...v.repositories].reverse() }]),
    );
    expect(renderRenovateJson(renovateConfig({ server: 'http://a:3000', files: reversed }))).toBe(
      renderRenovateJson(renovateConfig({ server: 'http://a:3000', files })),
    );
  });

  it('has an older form for Renovate 39, which knows neither managerFilePatterns nor maxMajorIncrement', () => {
    const config = renovateConfig({ server: 'http://apk-indexer:3000', files, renovateMajor: 39 });
    expect(schemaErrors('renovate-config', config)).toBe('');
    expect(config.customManagers[0]!.fileMatch![0]).toBe('^apko\\/base\\.yaml$');
    expect(config.customManagers[0]!.managerFilePatterns).toBeUndefined();
    expect(config.packageRules.some((r) => 'maxMajorIncrement' in r)).toBe(false);
    // The schema holds each form to itself.
    expect(
      schemaErrors('renovate-config', {
        ...config,
        packageRules: [
          ...config.packageRules,
          { description: 'x', matchDatasources: ['custom.x'], maxMajorIncrement: 0 },
        ],
      }),
    ).not.toBe('');
    expect(() => renovateConfig({ server: 'http://x', files: new Map() })).toThrow(/at least one apko file/);
  });
});

describe('arch names and package entries', () => {
  it('maps apko arch names to APK ones and back, accepting both spellings', () => {
    expect(
      ['amd64', 'arm64', 'arm/v7', 'arm/v6', '386', 'ppc64le', 's390x', 'riscv64', 'loong64'].map(toApkArch),
    ).toEqual(['x86_64', 'aarch64', 'armv7', 'armhf', 'x86', 'ppc64le', 's390x', 'riscv64', 'loongarch64']);
    expect(toApkArch('x86_64')).toBe('x86_64');
    expect(toApkArch('vax')).toBeUndefined();
    expect(toApkoArch('aarch64')).toBe('arm64');
    expect(toApkoArch('arm64')).toBe('arm64');
    expect(sortApkArches(['riscv64', 'aarch64', 'x86_64', 'aarch64'])).toEqual(['x86_64', 'aarch64', 'riscv64']);
  });

  it('reads pins, bare names, constraints and tagged packages', () => {
    expect(parsePackageSpec('libstdc++=14.2.0-r3')).toEqual({
      name: 'libstdc++',
      tag: undefined,
      operator: '=',
      version: '14.2.0-r3',
      conflict: false,
    });
    expect(parsePackageSpec('busybox')).toEqual({
      name: 'busybox',
      tag: undefined,
      operator: undefined,
      version: undefined,
      conflict: false,
    });
    expect(parsePackageSpec('go>=1.22')).toMatchObject({ name: 'go', operator: '>=', version: '1.22' });
    expect(parsePackageSpec('go<1.23')).toMatchObject({ name: 'go', operator: '<', version: '1.23' });
    expect(parsePackageSpec('go~1.22')).toMatchObject({ name: 'go', operator: '~', version: '1.22' });
    // apko's order: the version, then the tag (`name=version@tag`).
    expect(parsePackageSpec('default-user=1.0.0-r0@local')).toMatchObject({
      name: 'default-user',
      tag: 'local',
      operator: '=',
      version: '1.0.0-r0',
    });
    expect(parsePackageSpec('default-user@local')).toMatchObject({
      name: 'default-user',
      tag: 'local',
      operator: undefined,
    });
    expect(parsePackageSpec('!busybox')).toMatchObject({ name: 'busybox', conflict: true });
    expect(isPin(parsePackageSpec('!a=1')!)).toBe(false);
    expect(parsePackageSpec('a==1')).toBeUndefined();
    expect(isPin(parsePackageSpec('a=1')!)).toBe(true);
    expect(isPin(parsePackageSpec('a~1')!)).toBe(false);
    expect(parsePackageSpec('two words')).toBeUndefined();
  });
});

describe('apk-indexer gen', () => {
  it('writes an image from a package list, valid for apko', async () => {
    const r = await runCommand(gen, [
      'image',
      'tools',
      '--package',
      'busybox,curl=8.11.0-r0',
      '--entrypoint',
      '/bin/sh',
      '--env',
      'LANG=C.UTF-8',
    ]);
    expect(r.code).toBe(0);
    const value = yamlValue(r.out) as {
      contents: { packages: string[]; repositories: string[] };
      archs: string[];
      environment: Record<string, string>;
    };
    expect(schemaErrors('apko-image', value)).toBe('');
    expect(value.contents).toMatchObject({ packages: ['busybox', 'curl=8.11.0-r0'], repositories: [WOLFI_REPOSITORY] });
    expect(value.archs).toEqual(['amd64', 'arm64']);
    expect(value.environment).toEqual({ LANG: 'C.UTF-8' });
  });

  it('writes bootc flavours, recipes and renovate.json, to a file with -o', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apk-gen-'));
    try {
      const out = join(dir, 'router.yaml');
      expect((await runCommand(gen, ['bootc', 'router', '--config-package', 'edge-config', '-o', out])).code).toBe(0);
      expect(yamlValue(await readFile(out, 'utf8'))).toMatchObject({
        include: 'apko/bootc.yaml',
        contents: { packages: expect.arrayContaining(['edge-config', 'default-user']) },
      });
      const base = await runCommand(gen, ['bootc', '--kernel', 'linux', '--dracut']);
      expect((yamlValue(base.out) as { contents: { packages: string[] } }).contents.packages).toEqual(
        expect.arrayContaining(['linux', 'linux-initramfs', 'dracut']),
      );
      const user = await runCommand(gen, ['user', '--user', 'ops', '--uid', '1500']);
      expect(schemaErrors('melange-recipe', yamlValue(user.out))).toBe('');
      expect(user.out).toContain('u ops 1500 "Administrator" /home/ops /bin/sh');
      const config = await runCommand(gen, ['config', 'nas-config', '--replaces', 'samba,nfs-utils']);
      expect((yamlValue(config.out) as { package: { dependencies: unknown } }).package.dependencies).toEqual({
        replaces: ['samba', 'nfs-utils'],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects options a kind does not take, and bad values, with exit 2', async () => {
    expect((await runCommand(gen, ['renovate', '--kernel', 'linux'])).err).toMatch(
      /gen renovate does not take --kernel/,
    );
    expect((await runCommand(gen, ['bootc', 'spaceship'])).err).toMatch(/no bootc flavour spaceship/);
    expect((await runCommand(gen, ['image', 'x'])).err).toMatch(/needs --package/);
    expect((await runCommand(gen, ['user', '--uid', '7'])).err).toMatch(/outside the regular user range/);
    expect((await runCommand(gen, ['image', 'x', '--package', 'a', '--arch', 'vax'])).err).toMatch(/unknown arch vax/);
    expect((await runCommand(gen, ['frobnicate'])).code).toBe(2);
    expect((await runCommand(gen, ['--help'])).code).toBe(0);
  });
});
