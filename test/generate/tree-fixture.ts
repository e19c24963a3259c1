import { join } from 'node:path';
import { generateFixtureKey, writeFixtureRepo, type FixturePackage } from '../fixtures/apk-repo.js';
import { writeTree } from './helpers.js';

/**
 * A homelab-shaped repository of apko files, and the three repositories its images build from, built at test
 * time (real gzip, tar and RSA signatures): Wolfi (two arches), Alpine (its own key; x86_64 only) and the
 * owner's melange repository (tagged `@own`). Every pin and constraint below is there for one reason, said
 * beside it; the tests write out what `check` and `pin` must say about each.
 */
export const WOLFI = 'https://packages.wolfi.dev/os';
export const ALPINE_MAIN = 'https://dl-cdn.alpinelinux.org/alpine/v3.21/main';
export const ALPINE_COMMUNITY = 'https://dl-cdn.alpinelinux.org/alpine/v3.21/community';
export const OWN = 'https://apk.example.org/own';

const v = (name: string, versions: string[], extra: Partial<FixturePackage> = {}): FixturePackage[] =>
  versions.map((version) => ({ name, version, ...extra }));

const WOLFI_BOTH: FixturePackage[] = [
  ...v('wolfi-baselayout', ['20230201-r15']),
  ...v('ca-certificates-bundle', ['20240705-r0', '20241121-r0']),
  ...v('tzdata', ['2024a-r0', '2024b-r0']),
  ...v('jq', ['1.7-r0', '1.7.1-r0']),
  ...v('htop', ['3.3.0-r0']),
  ...v('go-1.22', ['1.22.9-r0'], { provides: ['go=1.22.9-r0'] }),
  ...v('busybox', ['1.37.0-r5'], { provides: ['cmd:sh=1.37.0-r5'] }),
  ...v('curl', ['8.11.0-r0'], { depends: ['so:libcurl.so.4'] }),
  ...v('libcurl-openssl4', ['8.11.0-r0'], { provides: ['so:libcurl.so.4=4'] }),
  // Wolfi has a jellyfin too: an Alpine image must never be judged or pinned from it.
  ...v('jellyfin', ['10.11.11-r0']),
  // bootc pulls ostree and composefs in; systemd-init pulls systemd.
  ...v('bootc', ['1.1.0-r0', '1.1.2-r0'], { depends: ['ostree', 'composefs>=1.0', 'so:libc.so.6'] }),
  ...v('ostree', ['2024.9-r0'], { depends: ['so:libc.so.6'] }),
  ...v('composefs', ['1.0.8-r0']),
  ...v('systemd', ['256.7-r0'], { provides: ['so:libsystemd.so.0=0'] }),
  ...v('systemd-init', ['256.7-r0'], { depends: ['systemd'] }),
  ...v('glibc', ['2.40-r3'], { provides: ['so:libc.so.6=6'] }),
  ...v('linux-lts', ['6.6.60-r0']),
  ...v('linux-lts-initramfs', ['6.6.60-r0']),
  // A tool whose library exists only on x86_64: apko fails on aarch64.
  ...v('foo-tool', ['1.0-r0'], { depends: ['so:libfoo.so.1'] }),
];

export async function writeFixtureIndexes(dir: string) {
  const wolfiKey = generateFixtureKey('wolfi-signing.rsa.pub');
  const alpineKey = generateFixtureKey('alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub');
  const ownKey = generateFixtureKey('own.rsa.pub');
  const wolfi = await writeFixtureRepo(join(dir, 'wolfi'), {
    arches: {
      x86_64: [
        ...WOLFI_BOTH,
        // The newest ca-certificates-bundle and nginx are built for x86_64 only so far.
        ...v('ca-certificates-bundle', ['20250101-r0']),
        ...v('nginx', ['1.26.0-r0', '1.27.0-r0']),
        ...v('libfoo', ['1.0-r0'], { provides: ['so:libfoo.so.1=1'] }),
      ],
      aarch64: [...WOLFI_BOTH, ...v('nginx', ['1.26.0-r0'])],
    },
    sign: [{ key: wolfiKey }],
  });
  const alpineMain = await writeFixtureRepo(join(dir, 'alpine-main'), {
    arches: {
      x86_64: [
        ...v('busybox', ['1.37.0-r0', '1.37.0-r1']),
        ...v('musl', ['1.2.5-r8'], { provides: ['so:libc.musl-x86_64.so.1=1'] }),
      ],
    },
    sign: [{ key: alpineKey }],
  });
  const alpineCommunity = await writeFixtureRepo(join(dir, 'alpine-community'), {
    arches: { x86_64: v('jellyfin', ['10.11.11-r3', '10.11.11-r4'], { depends: ['so:libc.musl-x86_64.so.1'] }) },
    sign: [{ key: alpineKey }],
  });
  const own = await writeFixtureRepo(join(dir, 'own'), {
    arches: { x86_64: v('mytool', ['1.0-r0', '1.1-r0']), aarch64: v('mytool', ['1.0-r0', '1.1-r0']) },
    sign: [{ key: ownKey }],
  });
  return {
    wolfi: { url: wolfi.url, key: wolfi.keyPaths[0]! },
    alpineMain: { url: alpineMain.url, key: alpineMain.keyPaths[0]! },
    alpineCommunity: { url: alpineCommunity.url, key: alpineCommunity.keyPaths[0]! },
    own: { url: own.url, key: own.keyPaths[0]! },
  };
}

export type FixtureIndexes = Awaited<ReturnType<typeof writeFixtureIndexes>>;

/** `--index FILE-URL --alias REAL-URL --key KEY` for each repository, as a user with local copies passes them. */
export function indexArgs(ix: FixtureIndexes): string[] {
  return [
    ...['--index', ix.wolfi.url, '--alias', WOLFI, '--key', ix.wolfi.key],
    ...['--index', ix.alpineMain.url, '--alias', ALPINE_MAIN, '--key', ix.alpineMain.key],
    ...['--index', ix.alpineCommunity.url, '--alias', ALPINE_COMMUNITY, '--key', ix.alpineCommunity.key],
    ...['--index', ix.own.url, '--alias', OWN, '--key', ix.own.key],
  ];
}

export const FILES: Record<string, string> = {
  // The Wolfi base every Wolfi image includes; it names no archs, so each includer's archs apply.
  'images/wolfi/base.yaml': `contents:
  repositories:
    - ${WOLFI}
  keyring:
    - ${WOLFI}/wolfi-signing.rsa.pub
  packages:
    - wolfi-baselayout
    - ca-certificates-bundle=20240705-r0   # stale; 20250101-r0 is x86_64-only, arm64 includers need 20241121-r0
    - tzdata=2024a-r0                      # stale: 2024b-r0
`,
  // amd64 only: nginx may move to the x86_64-only 1.27.0-r0.
  'images/apps/web.yaml': `include: images/wolfi/base.yaml
archs: [amd64]
contents:
  packages:
    - nginx=1.26.0-r0
    - curl>=8.0
`,
  // arm64 only.
  'services/arm/monitor.yaml': `include: images/wolfi/base.yaml
archs:
  - arm64
contents:
  packages:
    - htop=3.3.0-r0     # current
    - go~1.22           # satisfied through go-1.22's provides
`,
  // Both arches.
  'services/both/tools.yaml': `include: images/wolfi/base.yaml
archs: [x86_64, aarch64]
contents:
  packages:
    - jq=1.7-r0          # stale: 1.7.1-r0
    - busybox<1.0        # no version satisfies it
    - foo-tool           # its library exists on x86_64 only
`,
  // Duplicate and conflicting pins in one image.
  'services/both/pins.yaml': `contents:
  repositories: [${WOLFI}]
  packages:
    - tzdata=2024a-r0
    - tzdata=2024b-r0
    - htop=3.3.0-r0
    - htop=3.3.0-r0
archs: [amd64]
`,
  // A bootc host: ostree and composefs arrive through bootc's dependencies, systemd through systemd-init's.
  'hosts/bootc.yaml': `include: images/wolfi/base.yaml
archs: [amd64, arm64]
contents:
  packages:
    - bootc=1.1.0-r0     # stale: 1.1.2-r0
    - systemd-init
    - linux-lts
    - linux-lts-initramfs
    - "!busybox"
accounts:
  run-as: root
cmd: init
stop-signal: SIGRTMIN+3
annotations:
  containers.bootc: "1"
`,
  // Alpine: its own repositories and key. Wolfi's jellyfin and busybox must never be used for it.
  'alpine/jellyfin.yaml': `contents:
  repositories:
    - ${ALPINE_MAIN}
    - ${ALPINE_COMMUNITY}
  keyring:
    - /etc/apk/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub
  packages:
    - jellyfin=10.11.11-r3   # stale: 10.11.11-r4 (Wolfi's 10.11.11-r0 is not this image's)
    - busybox=1.37.0-r1      # current in Alpine (Wolfi's 1.37.0-r5 is not this image's)
archs: [amd64]
`,
  // The owner's repository, tagged: only mytool@own comes from it.
  'images/own/tool.yaml': `include: images/wolfi/base.yaml
archs: [amd64, arm64]
contents:
  repositories:
    - "@own ${OWN}"
  packages:
    - mytool=1.0-r0@own   # stale: 1.1-r0
`,
  // An image built from a repository no index is given for: its entries are not checked.
  'images/private/secret.yaml': `contents:
  repositories: [https://apk.private.example/os]
  packages:
    - secret-tool=1.0-r0
archs: [amd64]
`,
  // Misspelt keys apko refuses.
  'broken/arch.yaml': `include: images/wolfi/base.yaml
arch: [amd64]
`,
  'broken/package.yaml': `contents:
  repositories: [${WOLFI}]
  package:
    - jq
archs: [amd64]
`,
  // Other YAML: not apko files, never judged.
  'ci/pipeline.yml': 'stages: [build]\nbuild:\n  script: [apko build images/apps/web.yaml web:latest web.tar]\n',
  'charts/web/values.yaml': 'image:\n  repository: registry.example/web\n  tag: latest\nreplicaCount: 1\n',
  'charts/web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
  'melange/mytool.yaml': 'package:\n  name: mytool\n  version: 1.1\n  epoch: 0\npipeline:\n  - runs: make\n',
  '.github/workflows/ci.yaml': 'on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n',
};

export async function writeFixtureTree(root: string): Promise<void> {
  await writeTree(root, FILES);
}
