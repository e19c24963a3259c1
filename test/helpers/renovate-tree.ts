import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FixturePackage } from '../fixtures/apk-repo.js';

/**
 * A homelab tree with the shapes Renovate meets: a newest build on x86_64 only under a two-arch image, an
 * arm64-only and an amd64-only image, an Alpine image beside the Wolfi ones, a base included by all three Wolfi
 * images (so built for both arches), a date version and a release candidate.
 */
const pkg = (name: string, version: string): FixturePackage => ({ name, version, buildTime: 1_700_000_000 });

export const WOLFI_PACKAGES: Record<string, FixturePackage[]> = {
  x86_64: [
    pkg('bootc', '1.16.6-r0'),
    pkg('bootc', '1.16.7-r0'),
    pkg('bootc', '1.17.0-r0'),
    pkg('openssl', '3.4.0_rc9-r0'),
    pkg('openssl', '3.4.0_rc10-r0'),
    pkg('openssl', '3.4.0-r1'),
    pkg('wolfi-baselayout', '20230201-r15'),
    pkg('wolfi-baselayout', '20241121-r0'),
    pkg('intel-ucode', '20240312-r0'),
    pkg('intel-ucode', '20241112-r0'),
  ],
  aarch64: [
    pkg('bootc', '1.16.6-r0'),
    pkg('bootc', '1.16.7-r0'),
    pkg('openssl', '3.4.0_rc9-r0'),
    pkg('openssl', '3.4.0_rc10-r0'),
    pkg('openssl', '3.4.0-r1'),
    pkg('wolfi-baselayout', '20230201-r15'),
    pkg('wolfi-baselayout', '20241121-r0'),
    pkg('rpi-firmware', '1.20240529-r0'),
    pkg('rpi-firmware', '1.20241008-r0'),
  ],
};

export const ALPINE_PACKAGES: Record<string, FixturePackage[]> = {
  x86_64: [pkg('curl', '8.11.0-r0'), pkg('curl', '8.11.1-r0'), pkg('curl', '8.12.0-r0')],
  aarch64: [pkg('curl', '8.11.0-r0'), pkg('curl', '8.11.1-r0')],
};

export const TREE_FILES = [
  'alpine/edge.yaml',
  'apko/base.yaml',
  'apko/host.yaml',
  'images/nuc.yaml',
  'images/pi.apko.yaml',
];

/** Writes the tree under `dir`, and `apk-indexer.yaml`, the service configuration naming both repositories. */
export async function writeRenovateTree(dir: string, urls: { wolfi: string; alpine: string }): Promise<void> {
  const files: Record<string, string[]> = {
    'apko/base.yaml': [
      'contents:',
      '  repositories:',
      `    - ${urls.wolfi}`,
      '  packages:',
      '    - wolfi-baselayout=20230201-r15',
      '    - ca-certificates-bundle',
    ],
    'apko/host.yaml': [
      'include: apko/base.yaml',
      'contents:',
      '  packages:',
      '    - bootc=1.16.6-r0',
      '    - openssl=3.4.0_rc9-r0',
      'archs: [amd64, arm64]',
    ],
    'images/pi.apko.yaml': [
      'include: apko/base.yaml',
      'contents:',
      '  packages:',
      '    - rpi-firmware=1.20240529-r0',
      '    - bootc=1.16.6-r0',
      'archs: [arm64]',
    ],
    'images/nuc.yaml': [
      'include: apko/base.yaml',
      'contents:',
      '  packages:',
      '    - "intel-ucode=20240312-r0"',
      '    - bootc=1.16.6-r0',
      'archs:',
      '  - amd64',
    ],
    'alpine/edge.yaml': [
      'contents:',
      '  repositories:',
      `    - ${urls.alpine}`,
      '  packages:',
      '    - curl=8.11.0-r0',
      'archs: [x86_64, aarch64]',
    ],
    'apk-indexer.yaml': [
      'repositories:',
      `  - name: wolfi`,
      `    url: ${urls.wolfi}`,
      '    arches: [x86_64, aarch64]',
      `  - name: alpine`,
      `    url: ${urls.alpine}`,
      '    arches: [x86_64, aarch64]',
    ],
  };
  for (const [path, lines] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), `${lines.join('\n')}\n`);
  }
}
