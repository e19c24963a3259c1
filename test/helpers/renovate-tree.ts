import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FixturePackage } from '../fixtures/apk-repo.js';

/**
 * A homelab tree with the shapes Renovate meets: a newest build on x86_64 only under a two-arch image, an
 * arm64-only and an amd64-only image, an Alpine image beside the Wolfi ones, a base included by all three Wolfi
 * images (so built for both arches), a date version and a release candidate; and two Dockerfiles pinning with
 * `RUN apk add`, one on the tree's host image, one on Alpine.
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

/** Alpine's community repository, beside main: what `FROM alpine:edge` also installs from. */
export const ALPINE_COMMUNITY_PACKAGES: Record<string, FixturePackage[]> = {
  x86_64: [pkg('jq', '1.7.1-r0'), pkg('jq', '1.8.0-r0'), pkg('git', '2.47.0-r0'), pkg('git', '2.47.1-r0')],
  aarch64: [pkg('jq', '1.7.1-r0'), pkg('jq', '1.8.0-r0'), pkg('git', '2.47.0-r0')],
};

/**
 * Version histories where orderings part (apk's own, Renovate's `apk` and `loose` versionings), on both arches, and
 * a package providing another name (`argo-cd-2.12` provides `argo-cd`): what docs/generators.md measures.
 */
export const VERSION_CASES: FixturePackage[] = [
  pkg('p-fix', '1.0-r0'),
  pkg('p-fix', '1.0_p1-r0'),
  pkg('letter', '1.0-r0'),
  pkg('letter', '1.0a-r0'),
  pkg('rc-release', '1.0_rc1-r0'),
  pkg('rc-release', '1.0-r0'),
  pkg('git-snapshot', '1.2.3-r0'),
  pkg('git-snapshot', '1.2.3_git20240101-r0'),
  pkg('rc-ten', '1.0_rc9-r0'),
  pkg('rc-ten', '1.0_rc10-r0'),
  pkg('revision', '1.0-r9'),
  pkg('revision', '1.0-r10'),
  { ...pkg('argo-cd-2.12', '2.12.1-r0'), provides: ['argo-cd=2.12.1-r0'] },
  { ...pkg('argo-cd-2.12', '2.12.3-r0'), provides: ['argo-cd=2.12.3-r0'] },
];

/** A Dockerfile on the tree's host image pinning the first version of each case. */
export const VERSION_CASES_DOCKERFILE = [
  'FROM registry.example.org/homelab/host:latest',
  'RUN apk add --no-cache p-fix=1.0-r0 letter=1.0-r0 rc-release=1.0_rc1-r0 git-snapshot=1.2.3-r0 \\',
  '      rc-ten=1.0_rc9-r0 revision=1.0-r9 argo-cd=2.12.1-r0',
  '',
].join('\n');

/** Where `FROM alpine:edge` reads packages from (its /etc/apk/repositories): the configuration's aliases. */
export const ALPINE_EDGE = {
  main: 'https://dl-cdn.alpinelinux.org/alpine/edge/main',
  community: 'https://dl-cdn.alpinelinux.org/alpine/edge/community',
};

/**
 * The tree's Dockerfiles: one built on the tree's own two-arch host image (apko/host.yaml, published as
 * `.../host`), one on Docker's official Alpine image, in two stages.
 */
export const DOCKERFILES = ['hosts/nuc/Dockerfile', 'tools/Containerfile'];

export const TREE_FILES = [
  'alpine/edge.yaml',
  'apko/base.yaml',
  'apko/host.yaml',
  'images/nuc.yaml',
  'images/pi.apko.yaml',
];

/**
 * Writes the tree under `dir`, and `apk-indexer.yaml`, the service configuration naming its repositories: Wolfi,
 * Alpine main and Alpine community (standing for edge's URLs too, which `FROM alpine:edge` reads).
 */
export async function writeRenovateTree(
  dir: string,
  urls: { wolfi: string; alpine: string; alpineCommunity: string },
): Promise<void> {
  const alias = (url: string, official: string) => (url === official ? [] : [`    aliases: [${official}]`]);
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
    'hosts/nuc/Dockerfile': [
      '# The host image with what the NUC adds on top.',
      'FROM registry.example.org/homelab/host:latest',
      'RUN apk add --no-cache \\',
      '      bootc=1.16.6-r0 \\',
      '      "openssl=3.4.0_rc9-r0" \\',
      '    && apk add --virtual .tools wolfi-baselayout=20230201-r15 ca-certificates-bundle \\',
      '    && rm -rf /var/cache/apk/*',
      'ARG UCODE=20240312-r0',
      'RUN apk add intel-ucode=${UCODE}',
    ],
    'tools/Containerfile': [
      'FROM docker.io/library/alpine:edge AS tools',
      'RUN apk add --no-cache curl=8.11.0-r0 jq=1.7.1-r0',
      'FROM tools',
      'RUN apk update; apk add git=2.47.0-r0|| true',
    ],
    'apk-indexer.yaml': [
      'repositories:',
      `  - name: wolfi`,
      `    url: ${urls.wolfi}`,
      '    arches: [x86_64, aarch64]',
      `  - name: alpine`,
      `    url: ${urls.alpine}`,
      ...alias(urls.alpine, ALPINE_EDGE.main),
      '    arches: [x86_64, aarch64]',
      `  - name: alpine-community`,
      `    url: ${urls.alpineCommunity}`,
      ...alias(urls.alpineCommunity, ALPINE_EDGE.community),
      '    arches: [x86_64, aarch64]',
    ],
  };
  for (const [path, lines] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), `${lines.join('\n')}\n`);
  }
}
