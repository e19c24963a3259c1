import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.js';
import { buildService } from '../../src/serve/app.js';
import { buildIndexArchive, generateFixtureKey, writeFixtureRepo, type FixturePackage } from '../fixtures/apk-repo.js';
import { capture, command } from '../helpers/command.js';
import { Upstream } from '../helpers/upstream.js';

const run = command('query');

async function query(args: string[]) {
  const r = await capture(run, args);
  return {
    ...r,
    json:
      r.code < 2 ? (JSON.parse(r.out) as Record<string, { releases: Array<{ version: string }> } | null>) : undefined,
  };
}

const TOKEN_ENV = 'APK_QUERY_CONFIG_TEST_TOKEN';
const versionsOf = (r: Awaited<ReturnType<typeof query>>, name: string) =>
  r.json![name]?.releases.map((x) => x.version);

/**
 * A private repository on 127.0.0.1 that answers 401 without its bearer token, signed by a key it serves itself;
 * a second origin (a CDN, say) serves another trusted key, and one more reached through a redirect from the private
 * origin. The CDN must never see the token.
 */
describe('apk-indexer query --config', () => {
  const ownKey = generateFixtureKey('private.rsa.pub');
  const cdnKey = generateFixtureKey('cdn.rsa.pub');
  const movedKey = generateFixtureKey('moved.rsa.pub');
  let dir: string;
  let config: string;
  let privateRepo: Upstream;
  let cdn: Upstream;
  let publicRepo: { url: string; keyPaths: string[] };

  const index = (arch: string, packages: FixturePackage[]) =>
    buildIndexArchive({ packages: packages.map((p) => ({ ...p, arch })), sign: [{ key: ownKey }] });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-query-config-'));
    privateRepo = await new Upstream({ requireAuthorization: 'Bearer s3cret' }).start();
    cdn = await new Upstream().start();
    privateRepo.files.set(
      '/os/x86_64/APKINDEX.tar.gz',
      index('x86_64', [
        { name: 'bootc', version: '1.16.6-r0' },
        { name: 'bootc', version: '1.16.7-r0' },
      ]),
    );
    privateRepo.files.set('/os/aarch64/APKINDEX.tar.gz', index('aarch64', [{ name: 'bootc', version: '1.16.6-r0' }]));
    privateRepo.files.set('/os/private.rsa.pub', Buffer.from(ownKey.publicPem));
    cdn.files.set('/keys/cdn.rsa.pub', Buffer.from(cdnKey.publicPem));
    cdn.files.set('/keys/moved.rsa.pub', Buffer.from(movedKey.publicPem));
    // A public repository beside it, given with --index.
    publicRepo = await writeFixtureRepo(join(dir, 'public'), {
      arches: { x86_64: [{ name: 'bootc', version: '1.15.0-r0' }] },
      sign: [{ key: ownKey }],
    });
    config = join(dir, 'service.yaml');
    await writeFile(
      config,
      [
        'repositories:',
        '  - name: private',
        `    url: ${privateRepo.url}/os`,
        '    arches: [x86_64, aarch64]',
        `    keys: [${privateRepo.url}/os/private.rsa.pub, ${cdn.url}/keys/cdn.rsa.pub, ${privateRepo.url}/os/moved.rsa.pub]`,
        `    auth: {bearerTokenEnv: ${TOKEN_ENV}}`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await privateRepo.stop();
    await cdn.stop();
    await rm(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    delete process.env[TOKEN_ENV];
    privateRepo.requests.length = 0;
    cdn.requests.length = 0;
    privateRepo.clearFaults();
  });

  /** The private origin moves one key to the CDN: the redirect must not carry the token there either. */
  const moveKey = () =>
    privateRepo.fail({
      path: '/os/moved.rsa.pub',
      status: 302,
      headers: { location: `${cdn.url}/keys/moved.rsa.pub` },
    });

  it('reads a private repository with its token, sent only to its own origin', async () => {
    process.env[TOKEN_ENV] = 's3cret';
    moveKey();
    const r = await query(['bootc', '--config', config]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // Without --arch, as the service answers: versions on every arch of the repository.
    expect(versionsOf(r, 'bootc')).toEqual(['1.16.6-r0']);

    const own = privateRepo.requests.map((q) => [q.path, q.authorization, q.status]);
    expect(own).toEqual(
      expect.arrayContaining([
        ['/os/private.rsa.pub', 'Bearer s3cret', 200],
        ['/os/moved.rsa.pub', 'Bearer s3cret', 302],
        ['/os/x86_64/APKINDEX.tar.gz', 'Bearer s3cret', 200],
        ['/os/aarch64/APKINDEX.tar.gz', 'Bearer s3cret', 200],
      ]),
    );
    expect(privateRepo.requests.every((q) => q.authorization === 'Bearer s3cret')).toBe(true);
    // The other origin got both its keys (one through the redirect), never the token.
    expect(cdn.requests.map((q) => q.path).sort()).toEqual(['/keys/cdn.rsa.pub', '/keys/moved.rsa.pub']);
    expect(cdn.requests.map((q) => q.authorization)).toEqual([undefined, undefined]);
    expect(r.out + r.err).not.toContain('s3cret');

    moveKey();
    const oneArch = await query(['bootc', '--config', config, '--arch', 'x86_64']);
    expect(versionsOf(oneArch, 'bootc')).toEqual(['1.16.6-r0', '1.16.7-r0']);
  });

  it('combines --index and --config, and --repository narrows the answer', async () => {
    process.env[TOKEN_ENV] = 's3cret';
    moveKey();
    const args = [
      'bootc',
      '--config',
      config,
      '--index',
      publicRepo.url,
      '--key',
      publicRepo.keyPaths[0]!,
      '--arch',
      'x86_64',
    ];
    const both = await query(args);
    expect(both.err).toBe('');
    expect(versionsOf(both, 'bootc')).toEqual(['1.15.0-r0', '1.16.6-r0', '1.16.7-r0']);
    moveKey();
    const narrowed = await query([...args, '--repository', 'private']);
    expect(versionsOf(narrowed, 'bootc')).toEqual(['1.16.6-r0', '1.16.7-r0']);
    const unknown = await query([...args, '--repository', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(
      /^apk-indexer query: --repository nope: no such repository \(there are: .*private\)\n$/,
    );
  });

  it('refuses, one line and exit 2, an unset token variable and a token the repository does not accept', async () => {
    const unset = await query(['bootc', '--config', config]);
    expect(unset.code).toBe(2);
    expect(unset.err).toBe(
      `apk-indexer query: config file ${config}: repositories[0].auth.bearerTokenEnv: environment variable ${TOKEN_ENV} is not set\n`,
    );
    expect(privateRepo.requests).toEqual([]);

    process.env[TOKEN_ENV] = 'wrong';
    const refused = await query(['bootc', '--config', config]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^apk-indexer query: http:\/\/127\.0\.0\.1:\d+\/os\/[^ ]+: HTTP 401[^\n]*\n$/);
    expect(refused.err).not.toContain('wrong');
    expect(cdn.requests.every((q) => q.authorization === undefined)).toBe(true);
  });

  it('sends credentials exactly where the service does, from the same file', async () => {
    const seen = () =>
      [
        ...privateRepo.requests.map((q) => `private ${q.path} ${q.authorization ?? '-'} ${q.status}`),
        ...cdn.requests.map((q) => `cdn ${q.path} ${q.authorization ?? '-'} ${q.status}`),
      ].sort();
    process.env[TOKEN_ENV] = 's3cret';
    moveKey();
    expect((await query(['bootc', '--config', config])).code).toBe(0);
    const byQuery = seen();
    privateRepo.requests.length = 0;
    cdn.requests.length = 0;

    moveKey();
    const env = { [TOKEN_ENV]: 's3cret' };
    const service = buildService(
      { ...loadSettings(['--config', config], env), logLevel: 'silent' },
      { logger: false, env },
    );
    try {
      service.store.start();
      expect(await service.store.whenReady(10_000)).toBe(true);
      expect(service.store.status().map((s) => s.verifiedBy)).toEqual(['private.rsa.pub', 'private.rsa.pub']);
    } finally {
      await service.app.close();
    }
    expect(seen()).toEqual(byQuery);
    expect(byQuery).toContain('cdn /keys/cdn.rsa.pub - 200');
    expect(byQuery).toContain('private /os/x86_64/APKINDEX.tar.gz Bearer s3cret 200');
  });

  it('needs --index or --config', async () => {
    const r = await query(['bootc']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/pass --index SRC or --config FILE/);
  });
});
