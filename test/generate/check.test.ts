import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRenovateJson, renovateConfig } from '../../src/generate/renovate.js';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { checkRows, fixtureRepo, runCommand, writeTree } from './helpers.js';
import { command } from '../helpers/command.js';

const check = command('check');

const COMMON: FixturePackage[] = [
  { name: 'busybox', version: '1.36.1-r9' },
  { name: 'busybox', version: '1.36.1-r10' },
  { name: 'jq', version: '1.7-r0' },
  { name: 'jq', version: '1.7.1-r0' },
  { name: 'bootc', version: '1.16.6-r0' },
  ...['ostree', 'composefs', 'systemd', 'systemd-init', 'linux-lts', 'linux-lts-initramfs', 'tzdata'].map((name) => ({
    name,
    version: '1.0-r0',
  })),
];

const BOTH = { arches: ['x86_64', 'aarch64'], repositories: [] };
const RENOVATE = renderRenovateJson(
  renovateConfig({
    server: 'http://apk-indexer:3000',
    files: new Map(
      ['apko/base.yaml', 'apko/problems.yaml', 'apko/flow.yaml', 'apko/bootc-wrong.yaml', 'apko/bootc-right.yaml'].map(
        (f) => [f, BOTH],
      ),
    ),
  }),
);
const asks = (name: string) => `Renovate asks http://apk-indexer:3000/${name}?arch=x86_64,aarch64`;

/** A tree with one problem of each kind the issue lists, and files that are fine. */
const TREE: Record<string, string> = {
  'renovate.json': RENOVATE,
  'melange/default-user.yaml': 'package:\n  name: default-user\n  version: 1.0.0\n',
  'apko/base.yaml':
    'contents:\n  packages:\n    - busybox=1.36.1-r10\n    - tzdata\n    - default-user\narchs: [amd64, arm64]\n',
  'apko/problems.yaml': [
    'include: apko/base.yaml',
    'contents:',
    '  packages:',
    '    - jq=1.7-r0',
    '    - tzdata=0.1-r0',
    '    - bootc=1.16.7-r0',
    '    - htop',
    '    - onlyx86',
    '    - local@mine',
    '',
  ].join('\n'),
  // Flow style: valid for apko, but the regex manager only finds `- name=version` items.
  'apko/flow.yaml': 'include: apko/base.yaml\ncontents:\n  packages: [tzdata=1.0-r0]\n',
  // Resolvable from this file's folder, but apko resolves include: from the working directory.
  'apko/relative.yaml': 'include: base.yaml\n',
  'apko/bootc-wrong.yaml': [
    'include: apko/base.yaml',
    'contents:',
    '  packages:',
    '    - bootc=1.16.6-r0',
    '    - systemd',
    '    - linux-lts',
    'annotations:',
    '  containers.bootable: "1"',
    'stop-signal: SIGTERM',
    '',
  ].join('\n'),
  'apko/bootc-right.yaml': [
    'include: apko/base.yaml',
    'contents:',
    '  packages:',
    '    - bootc=1.16.6-r0',
    '    - ostree',
    '    - composefs',
    '    - systemd',
    '    - systemd-init',
    '    - linux-lts',
    '    - linux-lts-initramfs',
    'accounts:',
    '  run-as: root',
    'cmd: init',
    'stop-signal: SIGRTMIN+3',
    'annotations:',
    '  containers.bootc: "1"',
    '',
  ].join('\n'),
};

describe('apk-indexer check', () => {
  let dir: string;
  let root: string;
  let repo: { url: string; key: string };
  const index = () => [
    '--index',
    repo.url,
    '--alias',
    'https://packages.example.org/os',
    '--key',
    repo.key,
    '-r',
    repo.url,
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-check-'));
    repo = await fixtureRepo(join(dir, 'repo'), {
      x86_64: [...COMMON, { name: 'bootc', version: '1.16.7-r0' }, { name: 'onlyx86', version: '1-r0' }],
      aarch64: COMMON,
    });
    root = join(dir, 'tree');
    await writeTree(root, TREE);
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports each problem where it is written and exits 1', async () => {
    const r = await runCommand(check, ['-C', root, ...index()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    const errors = (await checkRows(['-C', root, ...index()])).filter((row) => row[0] === 'error');
    const detail = (where: string, what = '-') =>
      errors.filter((e) => e[1] === where && e[2] === what).map((e) => e[3]);
    expect(detail('apko/problems.yaml:5', 'tzdata=0.1-r0')).toEqual([
      '0.1-r0 exists on none of x86_64, aarch64 (newest: x86_64 1.0-r0, aarch64 1.0-r0)',
    ]);
    expect(detail('apko/problems.yaml:6', 'bootc=1.16.7-r0')).toEqual([
      '1.16.7-r0 is not on aarch64 (newest: x86_64 1.16.7-r0, aarch64 1.16.6-r0)',
    ]);
    expect(detail('apko/problems.yaml:7', 'htop')).toEqual([`not in apko/problems.yaml's repositories (${repo.url})`]);
    expect(detail('apko/problems.yaml:8', 'onlyx86')).toEqual(['onlyx86 is not on aarch64']);
    expect(detail('apko/problems.yaml:9', 'local@mine')).toEqual([
      'no repository is tagged @mine in the images building with this file (write it "@mine URL" in contents.repositories)',
    ]);
    expect(detail('apko/flow.yaml:3', 'tzdata=1.0-r0')).toEqual([
      'Renovate will not keep this pin fresh: the matchStrings of customManagers[0] (which read apko/flow.yaml) do not match this item',
    ]);
    expect(detail('apko/relative.yaml:1')[0]).toMatch(
      /^include: base\.yaml not found \(apko resolves it against its working directory .*, not against apko\/relative\.yaml\)$/,
    );
    expect(detail('apko/bootc-wrong.yaml', 'bootc')).toEqual([
      'annotation containers.bootc: "1" is missing; bootc refuses the image without it',
      'annotation containers.bootable is not read by bootc; the label is containers.bootc: "1"',
      'package ostree is missing; a bootc image needs bootc, ostree, composefs, systemd, systemd-init',
      'package composefs is missing; a bootc image needs bootc, ostree, composefs, systemd, systemd-init',
      'package systemd-init is missing; a bootc image needs bootc, ostree, composefs, systemd, systemd-init',
      'kernel linux-lts has no initramfs: add linux-lts-initramfs (or dracut for a derived build)',
      'cmd is missing; a bootc image starts init (cmd: init)',
      'stop-signal is SIGTERM; systemd needs SIGRTMIN+3',
      'accounts.run-as is missing; systemd must run as root',
    ]);
    expect(
      errors.filter((e) => e[1]?.startsWith('apko/bootc-right.yaml') || e[1]?.startsWith('apko/base.yaml')),
    ).toEqual([]);
    expect(r.out).toMatch(/\n\d+ error\(s\), 1 warning\(s\), \d+ ok\n$/);
  });

  it('marks stale pins as warnings, packages built here and tagged ones as ok, each line once', async () => {
    const all = await checkRows(['-C', root, ...index()]);
    expect(all).toContainEqual([
      'warning',
      'apko/problems.yaml:4',
      'jq=1.7-r0',
      `stale: 1.7.1-r0 is present on all of x86_64, aarch64; ${asks('jq')}: proposes 1.7.1-r0, as pin --check`,
    ]);
    expect(all).toContainEqual([
      'ok',
      'apko/base.yaml:5',
      'default-user',
      'built here by melange; not in the indexes until published',
    ]);
    expect(all).toContainEqual([
      'ok',
      'apko/base.yaml:3',
      'busybox=1.36.1-r10',
      `newest on all of x86_64, aarch64; ${asks('busybox')}: nothing to propose, as pin --check`,
    ]);
    // base.yaml is included by five files and checked itself: its rows appear once.
    expect(all.filter((row) => row[1] === 'apko/base.yaml:3')).toHaveLength(1);
  });

  it('exits 0 on files without errors, and warns when there is no renovate.json', async () => {
    const clean = await runCommand(check, ['-C', root, 'apko/bootc-right.yaml', 'apko/base.yaml', ...index()]);
    expect(clean.code).toBe(0);
    expect(clean.out).toMatch(/\n0 error\(s\), 0 warning\(s\), \d+ ok\n$/);
    const bare = join(dir, 'bare');
    await writeTree(bare, { 'apko/one.yaml': 'archs: [amd64]\ncontents:\n  packages:\n    - busybox=1.36.1-r10\n' });
    const noRenovate = await runCommand(check, ['-C', bare, ...index()]);
    expect(noRenovate.code).toBe(0);
    expect(await checkRows(['-C', bare, ...index()])).toContainEqual([
      'warning',
      'renovate.json',
      '-',
      expect.stringMatching(
        /^no Renovate config \(renovate\.json, renovate\.jsonc, renovate\.json5, .*package\.json\): no pin is kept fresh by Renovate$/,
      ),
    ]);
  });

  it('checks files that name no archs for --arch, and flags archs apko does not know', async () => {
    const tree = join(dir, 'archs');
    await writeTree(tree, {
      'renovate.json': RENOVATE,
      'apko/none.yaml': 'contents:\n  packages:\n    - onlyx86\n',
      'apko/vax.yaml': 'archs: [vax]\ncontents:\n  packages:\n    - busybox\n',
    });
    const r = await runCommand(check, ['-C', tree, '--arch', 'aarch64', ...index()]);
    expect(r.code).toBe(1);
    const all = await checkRows(['-C', tree, '--arch', 'aarch64', ...index()]);
    expect(all).toContainEqual([
      'warning',
      'apko/none.yaml',
      '-',
      'names no archs; apko then builds for every arch it knows. Checked for aarch64 (--arch)',
    ]);
    // Only the aarch64 index was read: for it, the package does not exist.
    expect(all).toContainEqual([
      'error',
      'apko/none.yaml:3',
      'onlyx86',
      `not in apko/none.yaml's repositories (${repo.url})`,
    ]);
    expect(all).toContainEqual(['error', 'apko/vax.yaml:1', '-', 'archs: apko does not know vax']);
    expect(all).toContainEqual([
      'warning',
      'apko/vax.yaml:4',
      'busybox',
      'not checked: apko/vax.yaml names no archs (pass --arch)',
    ]);
  });

  it('resolves include: through --include-path as apko does, after the working directory', async () => {
    const r = await runCommand(check, ['-C', root, '--include-path', 'apko', 'apko/relative.yaml', ...index()]);
    expect(r.code).toBe(0);
    expect(
      (await checkRows(['-C', root, '--include-path', 'apko', 'apko/relative.yaml', ...index()])).filter(
        (row) => row[0] === 'error',
      ),
    ).toEqual([]);
    // Without it, the include does not resolve.
    expect((await checkRows(['-C', root, 'apko/relative.yaml', ...index()]))[0]?.[3]).toMatch(
      /^include: base\.yaml not found/,
    );
  });

  it('reports an index that has no such arch, and a broken renovate.json, as errors', async () => {
    const tree = join(dir, 'config');
    await writeTree(tree, {
      'renovate.json': '{ not json',
      'apko/riscv.yaml': 'archs: [riscv64]\ncontents:\n  packages:\n    - busybox\n',
      'service.yaml': `repositories:\n  - url: ${repo.url}\n    arches: [x86_64]\n    keys: [${repo.key}]\n`,
    });
    const r = await runCommand(check, ['-C', tree, '--config', join(tree, 'service.yaml'), '-r', repo.url]);
    expect(r.code).toBe(1);
    const all = await checkRows(['-C', tree, '--config', join(tree, 'service.yaml'), '-r', repo.url]);
    expect(all).toContainEqual([
      'warning',
      'apko/riscv.yaml:4',
      'busybox',
      'not checked: no index for riscv64 in the repositories of apko/riscv.yaml',
    ]);
    expect(all.find((row) => row[1] === 'renovate.json')?.[3]).toMatch(/^renovate\.json: .*JSON/);
  });

  it('exits 2 without a source or with an unknown option', async () => {
    expect((await runCommand(check, ['-C', root])).code).toBe(2);
    expect((await runCommand(check, ['--frobnicate'])).code).toBe(2);
    expect((await runCommand(check, ['-C', join(dir, 'empty'), ...index()])).err).toMatch(
      /no FILE given and no apko file or Dockerfile under /,
    );
  });

  it('reads file patterns with braces as Renovate (minimatch) does, and warns on patterns it cannot read', async () => {
    const tree = join(dir, 'globs');
    const renovate = (patterns: string[]) =>
      JSON.stringify({
        customManagers: [
          {
            customType: 'regex',
            managerFilePatterns: patterns,
            matchStrings: ['\\n[ \\t]*-[ \\t]+(?<depName>[a-z-]+)=(?<currentValue>\\S+)'],
            datasourceTemplate: 'custom.apk-indexer',
          },
        ],
        customDatasources: { 'apk-indexer': { defaultRegistryUrlTemplate: 'http://apk-indexer:3000/{{packageName}}' } },
      });
    await writeTree(tree, {
      'apko/one.yml': 'archs: [amd64]\ncontents:\n  packages:\n    - busybox=1.36.1-r10\n',
      'renovate.json': renovate(['apko/*.{yaml,yml}']),
    });
    const braces = await runCommand(check, ['-C', tree, ...index()]);
    expect(braces.out).toMatch(/\n0 error\(s\), 0 warning\(s\), 1 ok\n$/);
    expect(braces.code).toBe(0);
    await writeTree(tree, { 'renovate.json': renovate(['apko/+(one|two).yml']) });
    const extglob = await runCommand(check, ['-C', tree, ...index()]);
    expect(extglob.out).toMatch(/\n0 error\(s\), 0 warning\(s\), 1 ok\n$/);
    await writeTree(tree, { 'renovate.json': renovate(['/(?i)apko/']) });
    const re2 = await runCommand(check, ['-C', tree, ...index()]);
    expect(re2.code).toBe(0);
    const all = await checkRows(['-C', tree, ...index()]);
    expect(all).toContainEqual([
      'warning',
      'renovate.json',
      '-',
      expect.stringMatching(
        /^renovate\.json: customManagers\[0\]: file pattern \/\(\?i\)apko\/: .*; Renovate may read it with RE2$/,
      ),
    ]);
    expect(all.find((row) => row[1] === 'apko/one.yml:4')?.[0]).toBe('warning');
  });

  it('accepts any scalar where apko reads a string, as yaml.v3 does, and names the line of a wrong type', async () => {
    const tree = join(dir, 'scalars');
    await writeTree(tree, {
      'renovate.json': RENOVATE,
      'apko/numbers.yaml': [
        'archs: [amd64]',
        'contents:',
        '  packages:',
        '    - 1.5',
        'accounts:',
        '  run-as: 0',
        'annotations:',
        '  containers.bootc: 1',
        '  version: 1.0',
        '',
      ].join('\n'),
    });
    const ok = await runCommand(check, ['-C', tree, ...index()]);
    expect(ok.code).toBe(1);
    const all = await checkRows(['-C', tree, ...index()]);
    expect(all).toContainEqual([
      'error',
      'apko/numbers.yaml:4',
      '1.5',
      `not in apko/numbers.yaml's repositories (${repo.url})`,
    ]);
    // Read as apko reads them: no type error, run-as "0" is root, and containers.bootc: 1 is the label bootc wants.
    expect(all.filter((row) => row[1] === 'apko/numbers.yaml' && row[2] === '-')).toEqual([]);
    expect(all.filter((row) => /containers\.bootc|run-as/.test(row[3] ?? ''))).toEqual([]);
    await writeTree(tree, {
      'apko/numbers.yaml': 'archs: [amd64]\ncmd:\n  - a\n',
      'apko/item.yaml': 'archs: [amd64]\ncontents:\n  packages:\n    - busybox\n    - curl: 8\n',
      'apko/list.yaml': 'contents:\n  packages: busybox\n',
      'apko/broken.yaml': 'archs: [amd64]\ncontents:\n  packages:\nfoo\n',
    });
    const bad = await checkRows(['-C', tree, ...index()]);
    expect(bad).toContainEqual(['error', 'apko/numbers.yaml:3', '-', 'cmd: expected a string, got a list ("- a")']);
    expect(bad).toContainEqual([
      'error',
      'apko/item.yaml:5',
      '-',
      'contents.packages[1]: expected a string item, got a mapping (is a space missing after a colon, or a quote?) ("curl: 8")',
    ]);
    expect(bad).toContainEqual([
      'error',
      'apko/list.yaml:2',
      '-',
      'contents.packages: expected a list of package names, got a single value ("busybox")',
    ]);
    const broken = bad.find((row) => row[1]?.startsWith('apko/broken.yaml'));
    expect(broken?.[3]).toMatch(/^not valid YAML at line 4, column \d+: .*[^:] \([A-Z_]+\)$/);
  });
});
