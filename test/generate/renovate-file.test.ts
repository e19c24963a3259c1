import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSON5 from 'json5';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command } from '../helpers/command.js';
import { runRenovate, validatorBin } from '../helpers/renovate.js';
import { both, fixtureRepo, runCommand, writeTree } from './helpers.js';

const gen = command('gen');
const check = command('check');

/** A homelab's own Renovate config, kept in .gitlab/renovate.json5 as real ones are: comments, automerge, labels. */
const USER_JSON5 = `{
  "enabled": true,
  "dependencyDashboard": true,
  "commitMessageTopic": "{{depName}}",
  "packageRules": [
    // global docker datasource settings
    {
      "matchDatasources": ["docker"],
      "commitMessageTopic": "image {{depName}}"
    },
    // add labels according to package and update types
    {
      "matchUpdateTypes": ["major"],
      "labels": ["dep/major"]
    },
    // enable automerge on < minor
    {
      "matchUpdateTypes": ["minor", "patch", "digest"],
      "automerge": true
    },
  ],
}
`;

const TREE = {
  'apko/base.yaml':
    'contents:\n  repositories: [https://packages.wolfi.dev/os]\n  packages: [wolfi-baselayout=20230201-r15]\narchs: [amd64, arm64]\n',
  Dockerfile: 'FROM registry.example.org/me/base:1\nRUN apk add --no-cache bash=5.2.37-r0\n',
};

describe('gen renovate and the repository’s own Renovate config', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-renovate-file-'));
    await writeTree(dir, TREE);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));
  const generate = (...args: string[]) => runCommand(gen, ['renovate', '--root', dir, ...args]);

  it('refuses a second config file, naming the one Renovate reads; --force writes it anyway', async () => {
    await writeTree(dir, { '.gitlab/renovate.json5': USER_JSON5 });
    const r = await generate('-o', join(dir, 'renovate.json'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `apk-indexer gen: ${join(dir, '.gitlab/renovate.json5')} holds this repository's Renovate config, and Renovate reads only one: ${join(dir, 'renovate.json')} would be read instead, dropping every setting of ${join(dir, '.gitlab/renovate.json5')}. Update ${join(dir, '.gitlab/renovate.json5')} in place with -o ${join(dir, '.gitlab/renovate.json5')}, or pass --force to write ${join(dir, 'renovate.json')} anyway\n`,
    );
    await expect(readFile(join(dir, 'renovate.json'))).rejects.toThrow(/ENOENT/);
    // A name Renovate reads after the existing one would be ignored.
    const later = await generate('-o', join(dir, '.renovaterc.json'));
    expect(later.code).toBe(1);
    expect(later.err).toContain(`${join(dir, '.renovaterc.json')} would be ignored (Renovate reads`);

    const forced = await generate('-o', join(dir, 'renovate.json'), '--force');
    expect(forced.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'renovate.json'), 'utf8')).customManagers).toHaveLength(2);
    // Printing names the user's file and how to update it.
    const printed = await generate();
    expect(printed.code).toBe(0);
    expect(printed.err).toContain(`note: ${join(dir, 'renovate.json')} holds this repository's Renovate config`);
  });

  it("updates the user's json5 file in place: its settings, comments and style kept, only this tool's parts replaced", async () => {
    await writeTree(dir, { '.gitlab/renovate.json5': USER_JSON5 });
    const file = join(dir, '.gitlab/renovate.json5');
    const r = await generate('-o', file, '--renovate-server', 'http://apk-indexer:3000');
    expect(r.code).toBe(0);
    expect(r.err).toContain('updated in place');
    const updated = await readFile(file, 'utf8');
    // Every line the user wrote is still there, in order; the new parts come after their rules.
    const userLines = USER_JSON5.trimEnd().split('\n').slice(0, -3);
    const lines = updated.split('\n');
    let at = 0;
    for (const line of userLines) {
      const found = lines.indexOf(line, at);
      expect(found, line).toBeGreaterThanOrEqual(at);
      at = found + 1;
    }
    const config = JSON5.parse(updated) as Record<string, unknown> & {
      packageRules: Record<string, unknown>[];
      customManagers: Record<string, unknown>[];
    };
    expect(config.enabled).toBe(true);
    expect(config.packageRules.slice(0, 3).map((r) => Object.keys(r))).toEqual([
      ['matchDatasources', 'commitMessageTopic'],
      ['matchUpdateTypes', 'labels'],
      ['matchUpdateTypes', 'automerge'],
    ]);
    expect(
      config.packageRules.slice(3).every((r) => (r.matchDatasources as string[])[0] === 'custom.apk-indexer'),
    ).toBe(true);
    expect(config.customManagers.map((m) => m.description)).toEqual([
      'name=version pins in the package lists of apko image files',
      'RUN apk add name=version pins in Dockerfiles and Containerfiles',
    ]);
    // Renovate's own validator takes it.
    const { stdout } = await runRenovate(validatorBin, ['--strict', file], { cwd: dir, timeout: 120_000 });
    expect(stdout).toMatch(/Config validated successfully/);

    // Again, after the user added a rule for this tool's datasource and the tree changed: their rule stays where
    // it is, ours are replaced where they were, nothing else moves.
    const withRule = updated.replace(
      '    // enable automerge on < minor',
      "    // apk pins merge themselves\n    { matchDatasources: ['custom.apk-indexer'], automerge: true },\n    // enable automerge on < minor",
    );
    await writeFile(file, withRule);
    await writeTree(dir, { 'images/pi.yaml': 'include: apko/base.yaml\narchs: [arm64]\n' });
    expect((await generate('-o', file, '--renovate-server', 'http://apk-indexer:3000')).code).toBe(0);
    const again = await readFile(file, 'utf8');
    expect(again).toContain(
      "    // apk pins merge themselves\n    { matchDatasources: ['custom.apk-indexer'], automerge: true },",
    );
    const reread = JSON5.parse(again) as {
      packageRules: Record<string, unknown>[];
      customManagers: { managerFilePatterns: string[] }[];
    };
    expect(
      reread.packageRules.filter(
        (r) => r.automerge === true && (r.matchDatasources as string[] | undefined)?.[0] === 'custom.apk-indexer',
      ),
    ).toHaveLength(1);
    expect(reread.customManagers[0]!.managerFilePatterns).toEqual(['/^apko\\/base\\.yaml$/', '/^images\\/pi\\.yaml$/']);
    // The same tree a third time: the same bytes.
    expect((await generate('-o', file, '--renovate-server', 'http://apk-indexer:3000')).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(again);
  }, 180_000);

  it('updates package.json under its renovate key, keeping the rest of the file', async () => {
    const pkg =
      '{\n  "name": "homelab",\n  "private": true,\n  "renovate": {\n    "extends": ["config:recommended"]\n  }\n}\n';
    await writeTree(dir, { 'package.json': pkg });
    const r = await generate('-o', join(dir, 'package.json'));
    expect(r.code).toBe(0);
    const read = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    expect(read.name).toBe('homelab');
    expect(read.renovate!.extends).toEqual(['config:recommended']);
    expect(Object.keys(read.renovate!)).toEqual(['extends', 'customDatasources', 'customManagers', 'packageRules']);
  });

  it('check names the config files Renovate ignores', async () => {
    await writeTree(dir, {
      'renovate.json': '{}\n',
      '.gitlab/renovate.json5': USER_JSON5,
      'renovate.yaml': 'extends: [config:recommended]\n',
    });
    const repo = await fixtureRepo(join(dir, 'repo'), both([{ name: 'wolfi-baselayout', version: '20230201-r15' }]));
    const r = await runCommand(check, [
      '-C',
      dir,
      '--index',
      repo.url,
      '--alias',
      'https://packages.wolfi.dev/os',
      '--key',
      repo.key,
      '--json',
    ]);
    const rows = (JSON.parse(r.out) as { severity: string; location: string; subject: string; message: string }[])
      .filter((f) => /^(\.gitlab|renovate\.yaml)/.test(f.location))
      .map((f) => [f.severity, f.location, f.subject, f.message]);
    expect(rows).toEqual([
      [
        'warning',
        '.gitlab/renovate.json5',
        '-',
        'Renovate ignores this file: it reads renovate.json (the first of its config file names it finds)',
      ],
      [
        'warning',
        'renovate.yaml',
        '-',
        'Renovate never reads a config by this name (it reads renovate.json, renovate.jsonc, renovate.json5, ...)',
      ],
    ]);
  });
});
