import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-config-changes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('publicUrl, secdb and sourceUrl settings', () => {
  it("Wolfi's default includes its security database and recipe links; no publicUrl unless set", () => {
    const settings = loadSettings([], {});
    expect(settings.publicUrl).toBeUndefined();
    expect(settings.repositories[0]).toMatchObject({
      secdb: 'https://packages.wolfi.dev/os/security.json',
      sourceUrl: 'https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml',
    });
  });

  it('publicUrl from the file, APK_INDEXER_PUBLIC_URL and --public-url, later winning, trailing slash dropped', async () => {
    const path = join(dir, 'a.yaml');
    await writeFile(
      path,
      'publicUrl: https://file.example/\nrepositories:\n  - url: https://r.example/os\n    secdb: https://r.example/os/security.json\n    sourceUrl: https://git.example/os/-/blob/{{commit}}/{{origin}}.yaml\n',
    );
    expect(loadSettings(['--config', path], {}).publicUrl).toBe('https://file.example');
    expect(loadSettings(['--config', path], { APK_INDEXER_PUBLIC_URL: 'http://env.example:3000/' }).publicUrl).toBe(
      'http://env.example:3000',
    );
    expect(
      loadSettings(['--config', path, '--public-url', 'https://flag.example/apk'], {
        APK_INDEXER_PUBLIC_URL: 'http://env.example',
      }).publicUrl,
    ).toBe('https://flag.example/apk');
    expect(loadSettings(['--config', path], {}).repositories[0]).toMatchObject({
      secdb: 'https://r.example/os/security.json',
      sourceUrl: 'https://git.example/os/-/blob/{{commit}}/{{origin}}.yaml',
    });
  });

  it('--secdb goes beside --index; a URL given alone has none, unless it is Wolfi', () => {
    const settings = loadSettings(
      ['--index', 'https://a.example/os', '--secdb', 'https://a.example/os/security.json'],
      {},
    );
    expect(settings.repositories.map((r) => r.secdb)).toEqual(['https://a.example/os/security.json']);
    expect(loadSettings(['--index', 'https://a.example/os'], {}).repositories[0]!.secdb).toBeUndefined();
    expect(loadSettings(['--index', 'https://packages.wolfi.dev/os'], {}).repositories[0]!.secdb).toBe(
      'https://packages.wolfi.dev/os/security.json',
    );
  });

  it.each([
    [['--public-url', 'apk-indexer:3000'], '--public-url: expected an http(s) URL without query'],
    [['--public-url', 'https://x.example/?a=1'], '--public-url: expected an http(s) URL without query'],
    [
      ['--index', 'https://a.example/os', '--secdb', 'https://a.example/1.json', '--secdb', 'https://a.example/2.json'],
      '--secdb: takes one value, got 2',
    ],
    [
      ['--index', 'https://a.example/os', '--secdb', 'ftp://a.example/s.json'],
      'expected an http(s) URL, file:// URL or path',
    ],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => loadSettings(argv, {})).toThrow(message);
  });

  it.each([
    ['https://github.com/o/r/blob/{{sha}}/{{origin}}.yaml', 'unknown placeholder {{sha}}'],
    ['https://github.com/o/r/blob/main/{{origin}}.yaml', 'expected a template with {{commit}}'],
    ['javascript:alert({{commit}})', 'expected an http(s) URL template'],
  ])('sourceUrl %s is refused: %s', async (template, message) => {
    const path = join(dir, `s-${message.length}.yaml`);
    await writeFile(path, `repositories:\n  - url: https://r.example/os\n    sourceUrl: "${template}"\n`);
    expect(() => loadSettings(['--config', path], {})).toThrow(message);
  });
});
