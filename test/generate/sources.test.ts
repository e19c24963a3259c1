import { describe, expect, it } from 'vitest';
import { expandBraces, filePattern, RenovateManagers, UnsupportedPatternError } from '../../src/generate/renovate-match.js';
import { VersionSourceError } from '../../src/generate/errors.js';
import { APKO_FILE_PATTERNS, renovateConfig } from '../../src/generate/renovate.js';
import { choosePin, HttpVersionSource } from '../../src/generate/version-source.js';

describe('choosing the version to pin', () => {
  const history = ['1.0-r0', '1.1_rc1-r0', '1.1-r0', '1.2_rc1-r0', '1.2_rc2-r0'];

  it('takes the newest stable version, unless the current pin is a prerelease', () => {
    expect(choosePin(history)).toBe('1.1-r0');
    expect(choosePin(history, '1.0-r0')).toBe('1.1-r0');
    expect(choosePin(history, '1.2_rc1-r0')).toBe('1.2_rc2-r0');
    expect(choosePin([...history, '1.2-r0'], '1.2_rc1-r0')).toBe('1.2-r0');
  });

  it('takes the newest prerelease when nothing stable exists, and nothing from nothing', () => {
    expect(choosePin(['2.0_alpha1-r0', '2.0_beta1-r0'], '1.0-r0')).toBe('2.0_beta1-r0');
    expect(choosePin([])).toBeUndefined();
  });
});

describe('asking a running apk-indexer', () => {
  function fakeFetch(answers: Record<string, { status: number; body?: unknown }>) {
    const calls: string[] = [];
    const impl = (async (url: string | URL | Request) => {
      calls.push(String(url));
      const path = new URL(String(url)).pathname;
      const a = path === '/readyz' ? { status: 200, body: 'ready' } : path === '/-/status' ? { status: 200, body: { ready: true, indexes: [] } } : (answers[String(url)] ?? { status: 404 });
      return new Response(a.body === undefined ? 'not found' : JSON.stringify(a.body), { status: a.status });
    }) as typeof fetch;
    return { impl, calls };
  }

  it('reads the datasource body, restores apk order, asks once per name and arch set', async () => {
    const { impl, calls } = fakeFetch({
      'http://svc:3000/libstdc++?arch=x86_64,aarch64': { status: 200, body: { releases: [{ version: '1.10-r0' }, { version: '1.9-r0' }], tags: { latest: '1.10-r0' } } },
    });
    const source = await HttpVersionSource.open('http://svc:3000', { fetch: impl });
    expect(await source.versions('libstdc++', ['x86_64', 'aarch64'], [])).toEqual(['1.9-r0', '1.10-r0']);
    expect(await source.versions('libstdc++', ['x86_64', 'aarch64'], [])).toEqual(['1.9-r0', '1.10-r0']);
    // /readyz and /-/status once when opened, then one question per name and arch set.
    expect(calls.filter((c) => c.includes('libstdc++'))).toHaveLength(1);
  });

  it('answers undefined for a 404, and throws on a server error or a body that is not the datasource schema', async () => {
    const { impl } = fakeFetch({
      'http://svc/broken?arch=x86_64': { status: 503, body: {} },
      'http://svc/odd?arch=x86_64': { status: 200, body: { versions: ['1'] } },
      'http://svc/blank?arch=x86_64': { status: 200, body: { releases: [{ version: '' }] } },
    });
    const source = await HttpVersionSource.open('http://svc/', { fetch: impl });
    expect(await source.versions('nosuch', ['x86_64'], [])).toBeUndefined();
    await expect(source.versions('broken', ['x86_64'], [])).rejects.toThrow(VersionSourceError);
    await expect(source.versions('broken', ['x86_64'], [])).rejects.toThrow(/^http:\/\/svc\/broken\?arch=x86_64: HTTP 503/);
    await expect(source.versions('odd', ['x86_64'], [])).rejects.toThrow(/no releases array/);
    await expect(source.versions('blank', ['x86_64'], [])).rejects.toThrow(/without a version string/);
  });
});

describe('a 404 from a running apk-indexer', () => {
  it('is an unknown name only when the name is unknown without ?arch= too; otherwise no version on all arches', async () => {
    const calls: string[] = [];
    const impl = (async (url: string | URL | Request) => {
      calls.push(String(url));
      if (String(url) === 'http://svc/readyz') return new Response('ready', { status: 200 });
      if (String(url) === 'http://svc/-/status') return new Response(JSON.stringify({ indexes: [] }), { status: 200 });
      if (String(url) === 'http://svc/curl') return new Response(JSON.stringify({ releases: [{ version: '1-r0' }] }), { status: 200 });
      return new Response('has no version present on every requested arch', { status: 404 });
    }) as typeof fetch;
    const source = await HttpVersionSource.open('http://svc', { fetch: impl });
    expect(await source.versions('curl', ['x86_64', 'riscv64'], [])).toEqual([]);
    expect(await source.versions('nosuch', ['x86_64'], [])).toBeUndefined();
    expect(await source.versions('curl', ['aarch64', 'riscv64'], [])).toEqual([]);
    // The existence check is asked once per name.
    expect(calls.filter((c) => c === 'http://svc/curl')).toHaveLength(1);
  });

  it('a server that cannot be reached is a VersionSourceError naming the URL', async () => {
    const impl = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    }) as typeof fetch;
    await expect(HttpVersionSource.open('http://svc', { fetch: impl })).rejects.toThrow('http://svc/readyz: no answer from the server (ECONNREFUSED)');
  });
});

describe("what Renovate's regex managers would find", () => {
  const current = RenovateManagers.from(renovateConfig({ server: 'http://a:3000', arches: ['x86_64'] }), 'renovate.json');
  const older = RenovateManagers.from(renovateConfig({ server: 'http://a:3000', arches: ['x86_64'], renovateMajor: 39 }), 'renovate.json');
  const text = 'contents:\n  packages:\n    - busybox=1.36.1-r10   # comment\n    - "curl=8.11.0-r0"\n    - tzdata\n    # - old=1.0-r0\n  other: [jq=1.7-r0]\n';

  it('extracts each - name=version item with its offsets, in both forms of the config', () => {
    for (const managers of [current, older]) {
      const pins = managers.extract('apko/base.yaml', text);
      expect(pins.map((p) => [p.depName, p.currentValue])).toEqual([['busybox', '1.36.1-r10'], ['curl', '8.11.0-r0']]);
      expect(text.slice(pins[0]!.start, pins[0]!.end)).toBe('1.36.1-r10');
    }
  });

  it('reads only the files its patterns match', () => {
    expect(current.extract('apko/sub/x.yaml', text)).toEqual([]);
    expect(current.extract('images/web.apko.yaml', text)).toHaveLength(2);
    expect(current.extract('melange/x.yaml', text)).toEqual([]);
  });

  it('ignores managers of other kinds and regex managers without a datasource', () => {
    const managers = RenovateManagers.from(
      {
        customManagers: [
          { customType: 'jsonata', managerFilePatterns: ['**/*.yaml'], matchStrings: ['x'] },
          { customType: 'regex', managerFilePatterns: ['**/*.yaml'], matchStrings: ['- (?<depName>\\w+)=(?<currentValue>\\S+)'] },
          { customType: 'regex', fileMatch: ['\\.yaml$'], matchStrings: ['- (?<currentValue>\\S+)'], depNameTemplate: 'fixed', datasourceTemplate: 'custom.x' },
        ],
      },
      'renovate.json',
    );
    expect(managers.extract('a/b.yaml', '- x=1\n').map((p) => [p.depName, p.currentValue])).toEqual([['fixed', 'x=1']]);
    expect(() => RenovateManagers.from({ customManagers: {} }, 'r.json')).toThrow(/not a list/);
    expect(() => RenovateManagers.from({ customManagers: [{ customType: 'regex', matchStrings: ['(('] }] }, 'r.json')).toThrow(/not a valid regular expression/);
  });

  it('reads managerFilePatterns as /regex/ or as globs', () => {
    expect(filePattern('/(^|/)apko/[^/]+\\.ya?ml$/').test('x/apko/a.yml')).toBe(true);
    expect(filePattern('**/*.apko.yaml').test('a/b/c.apko.yaml')).toBe(true);
    expect(filePattern('**/*.apko.yaml').test('c.apko.yaml')).toBe(true);
    expect(filePattern('apko/*.yaml').test('apko/sub/c.yaml')).toBe(false);
    expect(filePattern('apko/?.yaml').test('apko/a.yaml')).toBe(true);
  });

  it('expands braces as minimatch does, and refuses what it cannot read', () => {
    expect(expandBraces('apko/*.{yaml,yml}')).toEqual(['apko/*.yaml', 'apko/*.yml']);
    expect(expandBraces('{a,b{c,d}}/x')).toEqual(['a/x', 'bc/x', 'bd/x']);
    expect(expandBraces('v{1..3}')).toEqual(['v1', 'v2', 'v3']);
    expect(expandBraces('{x}.yaml')).toEqual(['{x}.yaml']);
    expect(filePattern('apko/*.{yaml,yml}').test('apko/a.yml')).toBe(true);
    expect(filePattern('apko/*.{yaml,yml}').test('apko/a.yaml')).toBe(true);
    expect(filePattern('apko/*.{yaml,yml}').test('apko/a.json')).toBe(false);
    expect(filePattern('{apko,images}/**/*.yaml').test('images/x/y.yaml')).toBe(true);
    expect(filePattern('apko/[ab].yaml').test('apko/b.yaml')).toBe(true);
    expect(filePattern('apko/[!ab].yaml').test('apko/b.yaml')).toBe(false);
    expect(filePattern('{x}.yaml').test('{x}.yaml')).toBe(true);
    for (const p of ['apko/+(a|b).yaml', '!apko/*.yaml', '/(?i)apko/']) expect(() => filePattern(p), p).toThrow(UnsupportedPatternError);
  });

  it("the generated patterns match apko's conventional file names, and nothing else", () => {
    const patterns = APKO_FILE_PATTERNS.map((p) => new RegExp(p));
    const matched = (path: string) => patterns.some((p) => p.test(path));
    for (const path of ['apko.yaml', 'images/apko.yml', 'apko/bootc.yaml', 'x/apko/a.yml', 'web.apko.yaml']) expect(matched(path), path).toBe(true);
    for (const path of ['melange.yaml', 'myapko.yaml', 'apko/sub/a.yaml', 'apko.yaml.bak', 'renovate.json']) expect(matched(path), path).toBe(false);
  });
});
