import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  baseUrlOf,
  credentialHeaders,
  repositoriesFromOptions,
  repositorySource,
} from '../../src/config/repository-source.js';
import type { RepositorySettings } from '../../src/config/settings.js';

const REPO = 'https://apk.example.com/os';
const TOKEN = 'Bearer t0ken';

/**
 * The one credential rule, as the service's index and secdb stores, `query` and the generators all apply it (they
 * fetch through repositorySource's headersFor): the repository's Authorization only on its own http(s) origin.
 */
const CASES: Array<[what: string, repository: string, location: string, sent: boolean]> = [
  ['an index of the repository', REPO, `${REPO}/x86_64/APKINDEX.tar.gz`, true],
  ['a key elsewhere on the same origin', REPO, 'https://apk.example.com/keys/os.rsa.pub', true],
  ['a secdb on the same origin', REPO, 'https://apk.example.com/security.json', true],
  ['the same origin with its default port spelled out', REPO, 'https://apk.example.com:443/keys/os.rsa.pub', true],
  ['the host in capitals', REPO, 'https://APK.EXAMPLE.COM/keys/os.rsa.pub', true],
  [
    'a bare index repository and a key beside it',
    'https://apk.example.com/os/x86_64/APKINDEX.tar.gz',
    'https://apk.example.com/os/os.rsa.pub',
    true,
  ],
  ['another port', REPO, 'https://apk.example.com:8443/keys/os.rsa.pub', false],
  ['plain http on the same host', REPO, 'http://apk.example.com/keys/os.rsa.pub', false],
  ['a subdomain', REPO, 'https://cdn.apk.example.com/keys/os.rsa.pub', false],
  ['another host', REPO, 'https://packages.wolfi.dev/os/wolfi-signing.rsa.pub', false],
  ['a host that only starts the same', REPO, 'https://apk.example.com.evil.test/keys/os.rsa.pub', false],
  ['a local key path', REPO, '/etc/apk/keys/os.rsa.pub', false],
  ['a file:// repository and a file:// key', 'file:///srv/repo', 'file:///srv/repo/os.rsa.pub', false],
  ['a location that does not parse', REPO, 'https://exa mple.com/k', false],
];

describe('where credentials go', () => {
  it.each(CASES)('%s: sent=%s', (_what, repository, location, sent) => {
    expect(credentialHeaders(repository, TOKEN, location)).toEqual(sent ? { authorization: TOKEN } : undefined);
    // The same through a configured repository, as the stores, query and the generators ask it.
    const settings: RepositorySettings = {
      name: 'os',
      url: repository,
      arches: ['x86_64'],
      keys: [],
      auth: { bearerTokenEnv: 'T' },
    };
    expect(repositorySource(settings, { T: 't0ken' }, 'repositories[0]').headersFor(location)).toEqual(
      sent ? { authorization: TOKEN } : undefined,
    );
    // Without auth, nothing is ever added.
    expect(credentialHeaders(repository, undefined, location)).toBeUndefined();
  });

  it('a repository names its indexes, its comparable URLs and its Basic credentials', () => {
    const source = repositorySource(
      {
        name: 'os',
        url: `${REPO}/`,
        arches: ['x86_64', 'aarch64'],
        keys: [],
        aliases: ['https://upstream.example.org/os/'],
        auth: { usernameEnv: 'U', passwordEnv: 'P' },
      },
      { U: 'me', P: 'pw' },
      'repositories[0]',
    );
    expect(source.locations.map((l) => l.url)).toEqual([
      `${REPO}/x86_64/APKINDEX.tar.gz`,
      `${REPO}/aarch64/APKINDEX.tar.gz`,
    ]);
    expect(source.urls).toEqual([REPO, 'https://upstream.example.org/os']);
    expect(source.headersFor(source.locations[0]!.url)).toEqual({
      authorization: `Basic ${Buffer.from('me:pw').toString('base64')}`,
    });
    expect(() =>
      repositorySource(
        { name: 'os', url: REPO, arches: [], keys: [], auth: { bearerTokenEnv: 'NOPE' } },
        {},
        'repositories[2]',
      ),
    ).toThrow(new ConfigError('repositories[2].auth.bearerTokenEnv: environment variable NOPE is not set'));
  });

  it('options become repositories: each --index with --key and its aliases, with its arches', () => {
    const [source] = repositoriesFromOptions({
      indexes: [{ url: `${REPO}/x86_64/APKINDEX.tar.gz`, aliases: ['https://mirror.example.org/os'] }],
      keys: ['https://apk.example.com/k.rsa.pub'],
      config: undefined,
      arches: (urls) => (urls.includes('https://mirror.example.org/os') ? ['aarch64'] : []),
    });
    expect(source!.urls).toEqual([REPO, 'https://mirror.example.org/os']);
    expect(source!.settings.keys).toEqual(['https://apk.example.com/k.rsa.pub']);
    expect(source!.locations).toEqual([
      { url: `${REPO}/x86_64/APKINDEX.tar.gz`, arch: 'x86_64', repository: `${REPO}/x86_64/APKINDEX.tar.gz` },
    ]);
    expect(baseUrlOf(`${REPO}/x86_64/APKINDEX.tar.gz`)).toBe(REPO);
    expect(() =>
      repositoriesFromOptions({
        indexes: [{ url: 'ftp://x/os', aliases: [] }],
        keys: [],
        config: undefined,
        arches: () => [],
      }),
    ).toThrow(/^--index: expected an http\(s\) URL/);
  });

  it("spells the default out as serve does: Wolfi's URL is Wolfi, with its name, arches, key and secdb", () => {
    const wolfi = 'https://packages.wolfi.dev/os';
    const [source] = repositoriesFromOptions({
      indexes: [{ url: wolfi, aliases: [] }],
      keys: [],
      config: undefined,
      arches: () => [],
    });
    expect(source!.name).toBe('wolfi');
    expect(source!.settings).toMatchObject({
      arches: ['x86_64', 'aarch64'],
      keys: ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub'],
      secdb: 'https://packages.wolfi.dev/os/security.json',
    });
    // What the command line says wins, as in serve: --arch and --key replace the defaults.
    const [given] = repositoriesFromOptions({
      indexes: [{ url: `${wolfi}/`, aliases: [] }],
      keys: ['/keys/mirror.rsa.pub'],
      config: undefined,
      arches: () => ['aarch64'],
    });
    expect(given!.settings).toMatchObject({ name: 'wolfi', arches: ['aarch64'], keys: ['/keys/mirror.rsa.pub'] });
    // Any other URL: named by its URL, x86_64, unverified.
    const [other] = repositoriesFromOptions({
      indexes: [{ url: REPO, aliases: [] }],
      keys: [],
      config: undefined,
      arches: () => [],
    });
    expect(other!.settings).toMatchObject({ name: REPO, arches: ['x86_64'], keys: [] });
  });
});
