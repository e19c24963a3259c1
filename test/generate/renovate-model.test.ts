import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyExtractVersion,
  findRenovateConfig,
  regexOrGlob,
  RenovateManagers,
} from '../../src/generate/renovate-match.js';
import { renovateConfig } from '../../src/generate/renovate.js';

const files = new Map([
  ['apko/base.yaml', { arches: ['x86_64'], repositories: [] }],
  ['images/web.apko.yaml', { arches: ['aarch64'], repositories: ['wolfi'] }],
]);
const text =
  'contents:\n  packages:\n    - busybox=1.36.1-r10   # comment\n    - "curl=8.11.0-r0"\n    - tzdata\n    # - old=1.0-r0\n  other: [jq=1.7-r0]\n';
const PIN = '- "?(?<depName>[a-z-]+)=(?<currentValue>[^\\s"]+)';

describe("a model of Renovate's regex managers", () => {
  it('extracts each - name=version item with its offsets from the files the generated config names, in both forms', () => {
    for (const renovateMajor of [44, 39]) {
      const managers = RenovateManagers.from(
        renovateConfig({ server: 'http://a:3000', files, renovateMajor }),
        'renovate.json',
      );
      const pins = managers.extract('apko/base.yaml', text);
      expect(pins.map((p) => [p.depName, p.currentValue])).toEqual([
        ['busybox', '1.36.1-r10'],
        ['curl', '8.11.0-r0'],
      ]);
      expect(text.slice(pins[0]!.start, pins[0]!.end)).toBe('1.36.1-r10');
      expect(managers.extract('apko/other.yaml', text)).toEqual([]);
      expect(managers.lookup(pins[1]!, 'images/web.apko.yaml')).toMatchObject({
        asked: true,
        url: 'http://a:3000/curl?arch=aarch64&repository=wolfi',
        maxMajorIncrement: renovateMajor === 44 ? 0 : 500,
      });
      expect(managers.lookup(pins[1]!, 'apko/base.yaml')).toMatchObject({ url: 'http://a:3000/curl?arch=x86_64' });
    }
  });

  it('matches file patterns as Renovate: /regex/ (i, !), else minimatch with dot and nocase', () => {
    expect(regexOrGlob('/(^|/)apko/[^/]+\\.ya?ml$/')('x/apko/a.yml')).toBe(true);
    expect(regexOrGlob('/APKO/i')('apko/a.yml')).toBe(true);
    expect(regexOrGlob('!/\\.json$/')('a.yaml')).toBe(true);
    expect(regexOrGlob('**/*.apko.yaml')('c.apko.yaml')).toBe(true);
    expect(regexOrGlob('**/*.yaml')('.github/x.yaml')).toBe(true);
    expect(regexOrGlob('apko/*.yaml')('apko/sub/c.yaml')).toBe(false);
    expect(regexOrGlob('apko/*.{yaml,yml}')('APKO/A.YML')).toBe(true);
    expect(regexOrGlob('apko/+(a|b).yaml')('apko/ab.yaml')).toBe(true);
    expect(regexOrGlob('*')('anything/at/all')).toBe(true);
  });

  it('keeps one dependency per file with combination, and nests matches with recursive', () => {
    const base = { customType: 'regex', managerFilePatterns: ['**/*.yaml'], datasourceTemplate: 'custom.x' };
    const combination = RenovateManagers.from(
      { customManagers: [{ ...base, matchStrings: [PIN], matchStringsStrategy: 'combination' }] },
      'r.json',
    );
    expect(combination.extract('a.yaml', text).map((p) => [p.depName, p.currentValue])).toEqual([['old', '1.0-r0']]);
    const recursive = RenovateManagers.from(
      {
        customManagers: [
          { ...base, matchStrings: ['packages:\\n(?:\\s+-.*\\n)+', PIN], matchStringsStrategy: 'recursive' },
        ],
      },
      'r.json',
    );
    const pins = recursive.extract('a.yaml', text);
    expect(pins.map((p) => p.depName)).toEqual(['busybox', 'curl']);
    expect(text.slice(pins[1]!.start, pins[1]!.end)).toBe('8.11.0-r0');
  });

  it('fills fields from Handlebars templates with the groups, and discards a dependency without a datasource', () => {
    const managers = RenovateManagers.from(
      {
        customManagers: [
          { customType: 'jsonata', managerFilePatterns: ['**/*.yaml'], matchStrings: ['x'] },
          { customType: 'regex', managerFilePatterns: ['**/*.yaml'], matchStrings: [PIN] },
          {
            customType: 'regex',
            fileMatch: ['\\.yaml$'],
            matchStrings: [PIN],
            depNameTemplate: 'wolfi/{{{uppercase depName}}}',
            packageNameTemplate: '{{depName}}',
            datasourceTemplate: 'custom.{{packageFile}}',
          },
        ],
        customDatasources: { 'b.yaml': { defaultRegistryUrlTemplate: 'http://s/{{packageName}}?v={{currentValue}}' } },
      },
      'renovate.json',
    );
    const [busybox] = managers.extract('a/b.yaml', text);
    expect(busybox).toMatchObject({
      manager: 2,
      depName: 'wolfi/BUSYBOX',
      packageName: 'busybox',
      datasource: 'custom.b.yaml',
    });
    expect(managers.lookup(busybox!, 'a/b.yaml')).toMatchObject({ asked: true, url: 'http://s/busybox?v=1.36.1-r10' });
    expect(managers.explainMiss('a/b.yaml', 'x: [1]\n', [0, 6])).toMatch(/do not match this item/);
  });

  it('names what Renovate misses: an undefined custom datasource, an unread file, a rule that disables', () => {
    const managers = RenovateManagers.from(
      {
        customManagers: [
          {
            customType: 'regex',
            managerFilePatterns: ['apko/**'],
            matchStrings: [PIN],
            datasourceTemplate: 'custom.nowhere',
          },
        ],
        packageRules: [
          { matchPackageNames: ['curl'], enabled: false },
          { matchUpdateTypes: ['major'], enabled: false },
        ],
      },
      'renovate.json',
    );
    const [busybox, curl] = managers.extract('apko/a.yaml', text);
    expect(curl?.depName).toBe('curl');
    expect(managers.lookup(busybox!, 'apko/a.yaml')).toEqual({
      asked: false,
      reason: 'datasource custom.nowhere: renovate.json defines no customDatasources.nowhere, so the lookup fails',
    });
    expect(managers.lookup(curl!, 'apko/a.yaml')).toEqual({ asked: false, reason: 'packageRules[0] disables it' });
    expect(managers.warnings).toEqual(['packageRules[1]: matchUpdateTypes not modelled; taken not to apply']);
    expect(managers.explainMiss('images/a.yaml', text, [0, 10])).toMatch(
      /^no regex manager in renovate.json reads images\/a.yaml/,
    );
  });

  it('drops versions an extractVersion without a version group cannot read', () => {
    expect(applyExtractVersion(['1.0-r0', '1.1-r0'], '^(?<version>.+)-r\\d+$')).toEqual(['1.0', '1.1']);
    expect(applyExtractVersion(['1.0-r0', '1.1-r0'], '^(?<v>.+)$')).toEqual([]);
  });

  it('leaves out what config:recommended ignores (test folders, examples)', () => {
    const config = {
      extends: ['config:recommended'],
      customManagers: [
        {
          customType: 'regex',
          managerFilePatterns: ['**/*.yaml'],
          matchStrings: [PIN],
          datasourceTemplate: 'custom.x',
        },
      ],
    };
    const managers = RenovateManagers.from(config, 'renovate.json');
    expect(managers.extract('examples/a.yaml', text)).toEqual([]);
    expect(managers.extract('apko/a.yaml', text)).toHaveLength(3);
    expect(managers.explainMiss('test/a.yaml', text, [0, 10])).toMatch(/ignorePaths/);
  });
});

describe("finding Renovate's config where Renovate does", () => {
  let dir: string | undefined;
  afterEach(async () => dir && rm(dir, { recursive: true, force: true }));
  const tree = async (entries: Record<string, string>) => {
    dir = await mkdtemp(join(tmpdir(), 'apk-renovate-find-'));
    for (const [path, content] of Object.entries(entries)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    return dir;
  };

  it('takes the first of renovate.json(c/5), .github/, .gitlab/, .renovaterc(.json), package.json with a renovate key', async () => {
    expect(await findRenovateConfig(await tree({ 'package.json': '{"name":"x"}' }))).toBeUndefined();
    expect(await findRenovateConfig(await tree({ 'package.json': '{"renovate":{}}', '.renovaterc': '{}' }))).toBe(
      '.renovaterc',
    );
    expect(
      await findRenovateConfig(await tree({ '.gitlab/renovate.json5': '{}', '.github/renovate.json': '{}' })),
    ).toBe('.github/renovate.json');
    expect(await findRenovateConfig(await tree({ 'renovate.json5': '{}', '.github/renovate.json': '{}' }))).toBe(
      'renovate.json5',
    );
    expect(await findRenovateConfig(await tree({ 'package.json': '{"renovate":{"extends":[]}}' }))).toBe(
      'package.json',
    );
  });

  it("reads JSON5 (comments, unquoted keys, trailing commas) and package.json's renovate key", async () => {
    const root = await tree({
      'renovate.json5': `// apko pins\n{ customManagers: [{ customType: 'regex', managerFilePatterns: ['**/*.yaml'], matchStrings: ['${PIN.replaceAll('\\', '\\\\')}'], datasourceTemplate: 'custom.x', },], }\n`,
      'package.json': JSON.stringify({
        renovate: {
          customManagers: [
            { customType: 'regex', fileMatch: ['\\.yaml$'], matchStrings: [PIN], datasourceTemplate: 'custom.y' },
          ],
        },
      }),
      'broken.json5': '{ nope',
    });
    expect(
      (await RenovateManagers.load(join(root, 'renovate.json5'), 'renovate.json5')).extract('a.yaml', text),
    ).toHaveLength(3);
    expect(
      (await RenovateManagers.load(join(root, 'package.json'), 'package.json')).extract('a.yaml', text)[0],
    ).toMatchObject({ datasource: 'custom.y' });
    await expect(RenovateManagers.load(join(root, 'broken.json5'), 'broken.json5')).rejects.toThrow(
      /^broken.json5: invalid JSON5/,
    );
    // A user's mistake (code `config`, one line, exit 2 from the CLI; a finding in `check`), never reported as a bug.
    await expect(RenovateManagers.load(join(root, 'broken.json5'), 'broken.json5')).rejects.toMatchObject({
      code: 'config',
      exit: 2,
    });
    await expect(RenovateManagers.load(join(root, 'missing.json'), 'missing.json')).rejects.toMatchObject({
      code: 'config',
      message: expect.stringMatching(/^missing.json: cannot read: /),
    });
    expect(() => RenovateManagers.from({ customManagers: 5 }, 'renovate.json')).toThrow(
      expect.objectContaining({ code: 'config', message: 'renovate.json: customManagers is not a list' }),
    );
  });
});
