import type { FixturePackage } from '../fixtures/apk-repo.js';
import type { RepoContent } from './fixture-service.js';

/** Commits of the recipe that built each openssl version (Wolfi records carry them as `c:`). */
export const COMMITS = {
  '3.3.2-r0': 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1',
  '3.3.2-r1': 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2',
  '3.4.0_rc1-r0': 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3',
  '3.4.0-r0': 'd4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4',
  '3.4.0-r1': 'e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5',
} as const;

export const SOURCE_URL = 'https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml';

/** A hostile name and version: upstream data that must never become markup. */
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
export const HOSTILE_VERSION = '1.0-r0';
export const HOSTILE_ORIGIN = '"><script>alert(2)</script>';

function openssl(arch: string): FixturePackage[] {
  return Object.entries(COMMITS).flatMap(([version, commit], i) => [
    { name: 'openssl', version, arch, buildTime: 1_730_000_000 + i * 86_400, origin: 'openssl', commit },
    // A subpackage: its fixes come through its origin.
    { name: 'libcrypto3', version, arch, buildTime: 1_730_000_000 + i * 86_400, origin: 'openssl', commit },
  ]);
}

/** A Wolfi-shaped repository: openssl and its subpackage on two arches, one build only on x86_64, a hostile name. */
export function wolfiShaped(): RepoContent {
  return {
    x86_64: [
      ...openssl('x86_64'),
      {
        name: 'openssl',
        version: '3.4.0-r2',
        arch: 'x86_64',
        buildTime: 1_730_600_000,
        origin: 'openssl',
        commit: 'f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6',
      },
      {
        name: HOSTILE_NAME,
        version: HOSTILE_VERSION,
        arch: 'x86_64',
        buildTime: 1_730_000_000,
        origin: HOSTILE_ORIGIN,
        commit: '0123456789abcdef0123456789abcdef01234567',
      },
      {
        name: HOSTILE_NAME,
        version: '1.0-r1',
        arch: 'x86_64',
        buildTime: 1_730_086_400,
        origin: HOSTILE_ORIGIN,
        commit: '1123456789abcdef0123456789abcdef01234567',
      },
    ],
    aarch64: openssl('aarch64'),
  };
}

/** Wolfi's security.json shape: fixes per origin, the "0" key for IDs that never applied. */
export function wolfiSecdb(): string {
  return JSON.stringify({
    apkurl: '{{urlprefix}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk',
    archs: ['x86_64', 'aarch64'],
    reponame: 'os',
    urlprefix: 'https://packages.wolfi.dev',
    packages: [
      {
        pkg: {
          name: 'openssl',
          secfixes: {
            '0': ['CVE-2020-0001'],
            '3.3.2-r0': ['CVE-2024-0000'],
            '3.3.2-r1': ['CVE-2024-5535'],
            '3.4.0_rc1-r0': ['GHSA-aaaa-bbbb-cccc'],
            '3.4.0-r1': ['CVE-2024-9143 GHSA-xxxx-yyyy-zzzz'],
            '3.4.0-r2': ['CVE-2025-0001'],
          },
        },
      },
      { pkg: { name: HOSTILE_ORIGIN, secfixes: { '1.0-r1': ['<b>CVE-2025-9999</b>'] } } },
    ],
  });
}
