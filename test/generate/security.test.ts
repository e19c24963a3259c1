import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { SOURCE_URL, wolfiSecdb, wolfiShaped } from '../helpers/wolfi-shaped.js';
import { checkRows, runCommand, writeTree } from './helpers.js';
import { command } from '../helpers/command.js';

const check = command('check');
const pin = command('pin');

/** openssl 3.3.2-r0 and its subpackage libcrypto3 3.4.0-r1 under a two-arch image; 3.4.0-r1 is the newest on both. */
const IMAGE = [
  'contents:',
  '  packages:',
  '    - openssl=3.3.2-r0',
  '    - libcrypto3=3.4.0-r1',
  'archs: [amd64, arm64]',
  '',
].join('\n');

describe('pin and check report the security fixes a bump brings', () => {
  let fixture: FixtureService;
  let dir: string;
  let secdb: string;

  beforeAll(async () => {
    fixture = await startFixtureService({
      repositories: { os: wolfiShaped() },
      repositorySettings: (url) => ({ os: { secdb: `${url}/os/security.json`, sourceUrl: SOURCE_URL } }),
      listen: true,
    });
    await writeFile(join(fixture.dir, 'os', 'security.json'), wolfiSecdb());
    await fixture.service.secdb.refreshAll();
    secdb = `${fixture.upstream.url}/os/security.json`;
    dir = await mkdtemp(join(tmpdir(), 'apk-security-'));
    await writeTree(dir, { 'apko/image.yaml': IMAGE });
  }, 60_000);

  afterAll(async () => {
    await fixture?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sources = () => ({
    // The image names no repository: it builds from the one CI appends, as apko's --repository-append.
    server: ['--server', fixture.baseUrl, '-r', `${fixture.upstream.url}/os`],
    index: [
      '--index',
      `${fixture.upstream.url}/os`,
      '--key',
      `${fixture.upstream.url}/os/${fixture.key.name}`,
      '--secdb',
      secdb,
      '-r',
      `${fixture.upstream.url}/os`,
    ],
  });

  it.each(['server', 'index'] as const)(
    'check lists a pin with known vulnerabilities fixed in a newer available version (--%s)',
    async (via) => {
      const r = await runCommand(check, ['-C', dir, '--renovate', 'none.json', ...sources()[via]]);
      // The report for people says it on one line of its own.
      expect(r.out).toContain(
        'warning  apko/image.yaml:3: openssl=3.3.2-r0: known vulnerabilities: 3.4.0-r1 fixes CVE-2024-5535,',
      );
      const rows = await checkRows(['-C', dir, '--renovate', 'none.json', ...sources()[via]]);
      const vulnerable = rows.filter((row) => row[3]?.startsWith('known vulnerabilities'));
      // 3.4.0-r1 is the newest on both arches (3.4.0-r2 is x86_64 only), so 3.4.0-r2's fix is not promised.
      expect(vulnerable).toEqual([
        [
          'warning',
          'apko/image.yaml:3',
          'openssl=3.3.2-r0',
          'known vulnerabilities: 3.4.0-r1 fixes CVE-2024-5535, GHSA-aaaa-bbbb-cccc, CVE-2024-9143, GHSA-xxxx-yyyy-zzzz',
        ],
      ]);

      const json = await runCommand(check, ['-C', dir, '--renovate', 'none.json', '--json', ...sources()[via]]);
      const findings = JSON.parse(json.out) as Array<{ subject: string; ids: string[] }>;
      expect(findings.filter((f) => f.ids.length).map((f) => [f.subject, f.ids])).toEqual([
        ['openssl=3.3.2-r0', ['CVE-2024-5535', 'GHSA-aaaa-bbbb-cccc', 'CVE-2024-9143', 'GHSA-xxxx-yyyy-zzzz']],
      ]);
    },
  );

  it.each(['server', 'index'] as const)(
    'pin prints the IDs each bump fixes, and --json carries them (--%s)',
    async (via) => {
      const r = await runCommand(pin, ['-C', dir, '--check', ...sources()[via]]);
      expect(r.out.split('\n')[0]).toBe(
        'apko/image.yaml:3  openssl  3.3.2-r0 -> 3.4.0-r1  (stale)  fixes CVE-2024-5535, GHSA-aaaa-bbbb-cccc, CVE-2024-9143, GHSA-xxxx-yyyy-zzzz',
      );
      const json = await runCommand(pin, ['-C', dir, '--check', '--json', ...sources()[via]]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.out).moves).toEqual([
        {
          file: 'apko/image.yaml',
          line: 3,
          name: 'openssl',
          from: '3.3.2-r0',
          to: '3.4.0-r1',
          fixes: ['CVE-2024-5535', 'GHSA-aaaa-bbbb-cccc', 'CVE-2024-9143', 'GHSA-xxxx-yyyy-zzzz'],
        },
      ]);
    },
  );

  it('a security database that cannot be read is a warning; pins are still judged', async () => {
    const r = await runCommand(pin, [
      '-C',
      dir,
      '--check',
      '--index',
      `${fixture.upstream.url}/os`,
      '--key',
      `${fixture.upstream.url}/os/${fixture.key.name}`,
      '--secdb',
      `${fixture.upstream.url}/os/absent.json`,
      '-r',
      `${fixture.upstream.url}/os`,
    ]);
    expect(r.err).toMatch(/^warning: .*absent\.json: HTTP 404; security fixes from it are not reported$/m);
    expect(r.out.split('\n')[0]).toBe('apko/image.yaml:3  openssl  3.3.2-r0 -> 3.4.0-r1  (stale)');
  });
});
