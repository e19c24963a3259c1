import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadSettings } from '../../src/config/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-config-'));
});

const file = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

describe('service configuration', () => {
  it('defaults to Wolfi on 0.0.0.0:3000, verified with its key, refreshed every 4h', () => {
    const s = loadSettings([], {});
    expect(s).toMatchObject({ host: '0.0.0.0', port: 3000, updateIntervalMs: 4 * 3_600_000, logFormat: 'text' });
    expect(s.repositories).toEqual([
      { name: 'wolfi', url: 'https://packages.wolfi.dev/os', arches: ['x86_64', 'aarch64'], keys: ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub'] },
    ]);
  });

  it("accepts hown3d/renovate-apk-indexer's flags unchanged", () => {
    const s = loadSettings(['-apk-index-url', 'https://a.test/os/x86_64/APKINDEX.tar.gz,https://b.test/x86_64/APKINDEX.tar.gz', '-update-interval=2', '-log-level', 'debug', '-log-output', 'json'], {});
    expect(s.repositories.map((r) => r.url)).toEqual(['https://a.test/os/x86_64/APKINDEX.tar.gz', 'https://b.test/x86_64/APKINDEX.tar.gz']);
    expect(s.updateIntervalMs).toBe(2 * 3_600_000);
    expect(s.logLevel).toBe('debug');
    expect(s.logFormat).toBe('json');
  });

  it('reads a YAML file, then environment, then flags, later winning', async () => {
    const path = await file(
      'a.yaml',
      `listen: {host: 127.0.0.1, port: 8080}\nupdateInterval: 30m\nlogLevel: warn\nrepositories:\n  - name: private\n    url: https://apk.example.test/os\n    arches: [x86_64]\n    keys: [/etc/apk/keys/private.rsa.pub]\n    auth: {bearerTokenEnv: TOKEN}\n`,
    );
    const fromFile = loadSettings(['--config', path], {});
    expect(fromFile).toMatchObject({ host: '127.0.0.1', port: 8080, updateIntervalMs: 30 * 60_000, logLevel: 'warn' });
    expect(fromFile.repositories[0]).toEqual({ name: 'private', url: 'https://apk.example.test/os', arches: ['x86_64'], keys: ['/etc/apk/keys/private.rsa.pub'], auth: { bearerTokenEnv: 'TOKEN' } });
    const env = { APK_INDEXER_CONFIG: path, APK_INDEXER_PORT: '9000', APK_INDEXER_UPDATE_INTERVAL: '15m' };
    expect(loadSettings([], env)).toMatchObject({ port: 9000, updateIntervalMs: 15 * 60_000, host: '127.0.0.1' });
    expect(loadSettings(['--port', '9100'], env).port).toBe(9100);
  });

  it('builds repositories from index URLs with arches and keys from the environment', () => {
    const s = loadSettings([], { APK_INDEXER_INDEX_URL: 'https://r.test/os', APK_INDEXER_ARCHES: 'x86_64,aarch64', APK_INDEXER_KEYS: 'https://r.test/k.rsa.pub' });
    expect(s.repositories).toEqual([{ name: 'https://r.test/os', url: 'https://r.test/os', arches: ['x86_64', 'aarch64'], keys: ['https://r.test/k.rsa.pub'] }]);
  });

  it('takes repositories, keyring and archs from apko files, following include:', async () => {
    await file('base.yaml', 'contents:\n  repositories: ["@local https://base.test/os"]\n  keyring: [https://base.test/k.rsa.pub]\narchs: [amd64, arm64]\n');
    const image = await file('image.yaml', 'include: base.yaml\ncontents:\n  repositories: [https://extra.test/repo]\n  packages: [bash]\n');
    const s = loadSettings(['--from-apko', image], {}, dir);
    expect(s.repositories.map((r) => [r.url, r.arches, r.keys])).toEqual([
      ['https://base.test/os', ['x86_64', 'aarch64'], ['https://base.test/k.rsa.pub']],
      ['https://extra.test/repo', ['x86_64', 'aarch64'], ['https://base.test/k.rsa.pub']],
    ]);
  });

  it.each([
    [['--port', 'http'], {}, /--port: expected a port number/],
    [['--log-level', 'loud'], {}, /--log-level: expected one of/],
    [[], { APK_INDEXER_LOG_OUTPUT: 'xml' }, /APK_INDEXER_LOG_OUTPUT: expected text or json/],
    [[], { APK_INDEXER_UPDATE_INTERVAL: 'soon' }, /APK_INDEXER_UPDATE_INTERVAL: not a duration/],
    [['--bogus'], {}, /Unknown option '--bogus'/],
  ] as const)('names the culprit: %j %j', (argv, env, message) => {
    expect(() => loadSettings([...argv], env)).toThrow(ConfigError);
    expect(() => loadSettings([...argv], env)).toThrow(message);
  });

  it('names the file and key of a bad configuration file', async () => {
    const bad = await file('bad.yaml', 'repositories:\n  - name: x\n    arches: [x86_64]\n');
    expect(() => loadSettings(['--config', bad], {})).toThrow(/bad\.yaml: repositories\[0\]\.url: required/);
    const unknown = await file('unknown.yaml', 'listen: {port: 1}\nrepos: []\n');
    expect(() => loadSettings(['--config', unknown], {})).toThrow(/unknown key "repos"/);
    const limits = await file('limits.yaml', 'limits: {maxEntries: -1}\n');
    expect(() => loadSettings(['--config', limits], {})).toThrow(/limits\.maxEntries: expected a positive whole number/);
  });

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('4h')).toBe(14_400_000);
    expect(parseDuration('4', 'h')).toBe(14_400_000);
    expect(() => parseDuration('4 hours')).toThrow(/not a duration/);
  });
});
