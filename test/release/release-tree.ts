import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeTree } from '../generate/helpers.js';

/**
 * A homelab-shaped tree of apko files, as the release loop sees it: a Wolfi base included by every host image, the
 * bootc base included by the flavours, a three-level chain (kubelet < containerd < bootc < wolfi-base, and the
 * desktops < mesa < bootc < wolfi-base), an Alpine image beside the Wolfi ones, an image from the owner's tagged
 * repository, pinned and unpinned first packages, a lock beside one image, and melange recipes of packages the
 * images install (one only through another recipe's runtime dependency). Every version below is chosen for its tags.
 */
export const WOLFI = 'https://packages.wolfi.dev/os';
export const ALPINE = 'https://dl-cdn.alpinelinux.org/alpine/v3.21';
export const OWN = 'https://apk.example.org/own';
/** A private repository no file names: CI passes it with -b from a variable. */
export const PRIVATE = 'https://apk.example.org/private';

export const RELEASE_TREE: Record<string, string> = {
  'apko/wolfi-base.yaml': `contents:
  repositories:
    - ${WOLFI}
  keyring:
    - ${WOLFI}/wolfi-signing.rsa.pub
  packages:
    - wolfi-baselayout=20230201-r15   # a date version: tagged as itself
    - ca-certificates-bundle
archs: [amd64, arm64]
`,
  'apko/bootc.yaml': `include: apko/wolfi-base.yaml
contents:
  packages:
    - bootc=1.16.7-r0
    - systemd
    - default-user                    # built by melange/default-user.yaml
cmd: /sbin/init
`,
  'apko/containerd.yaml': `include: apko/bootc.yaml
contents:
  packages:
    - containerd=2.0_p1-r0            # a patch release after 2.0
    - nerdctl
`,
  'apko/kubelet.yaml': `include: apko/containerd.yaml
contents:
  packages:
    - kubelet=1.35-r0
`,
  'apko/kubelet.lock.json':
    '{"version":"v1","config":{"name":"apko/kubelet.yaml","checksum":"sha256-x"},"contents":{}}\n',
  'apko/mesa.yaml': `include: apko/bootc.yaml
contents:
  packages:
    - mesa=26.04-r1                   # a calendar version
`,
  'apko/desktop/sway.yaml': `include: apko/mesa.yaml
contents:
  packages:
    - sway=0.9.7-r0                   # major 0: no "0" tag
    - foot
`,
  'apko/desktop/kodi.yaml': `include: apko/mesa.yaml
contents:
  packages:
    - kodi                            # not pinned: latest only
`,
  'apko/router.yaml': `include: apko/bootc.yaml
contents:
  packages:
    - router-config                   # built by melange/router-config.yaml, which needs dnsmasq-config
    - nftables=1.1.1-r0
`,
  'alpine/jellyfin.yaml': `contents:
  repositories:
    - ${ALPINE}/main
    - ${ALPINE}/community
  keyring:
    - https://alpinelinux.org/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub
  packages:
    - jellyfin=10.11.11-r4
archs: [x86_64]
`,
  'apps/tool.yaml': `contents:
  repositories:
    - ${WOLFI}
    - "@own ${OWN}"
  keyring:
    - ${WOLFI}/wolfi-signing.rsa.pub
    - keys/own.rsa.pub
  packages:
    - mytool=2024.9-r0@own
archs: [arm64]
`,
  'apps/node-rc.yaml': `contents:
  repositories: [${WOLFI}]
  packages:
    - nodejs-26=26.0.0_rc1-r0         # a prerelease: its own tag only, not latest
archs: [amd64]
`,
  'melange/default-user.yaml': `package:
  name: default-user
  version: 1.0.0
  epoch: 0
pipeline:
  - runs: install -d "\${{targets.destdir}}/etc"
`,
  'melange/router-config.yaml': `package:
  name: router-config
  version: 1.0.0
  epoch: 0
  dependencies:
    runtime:
      - dnsmasq-config
      - nftables>=1.0
pipeline:
  - runs: install -d "\${{targets.destdir}}/etc"
`,
  'melange/dnsmasq-config.yaml': `package:
  name: dnsmasq-config
  version: 1.0.0
  epoch: 0
pipeline:
  - runs: install -d "\${{targets.destdir}}/etc"
subpackages:
  - name: \${{package.name}}-doc
    pipeline:
      - runs: "true"
`,
  'keys/own.rsa.pub': '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
  'README.md': '# homelab\n',
};

/** Every image of the tree, by name. */
export const ALL_IMAGES = [
  'bootc',
  'containerd',
  'jellyfin',
  'kodi',
  'kubelet',
  'mesa',
  'node-rc',
  'router',
  'sway',
  'tool',
  'wolfi-base',
];

/** Each changed file, and exactly the images a commit changing it rebuilds. */
export const REBUILDS: [string, string[]][] = [
  ['apko/wolfi-base.yaml', ['bootc', 'containerd', 'kodi', 'kubelet', 'mesa', 'router', 'sway', 'wolfi-base']],
  ['apko/bootc.yaml', ['bootc', 'containerd', 'kodi', 'kubelet', 'mesa', 'router', 'sway']],
  ['apko/containerd.yaml', ['containerd', 'kubelet']],
  ['apko/kubelet.yaml', ['kubelet']],
  ['apko/kubelet.lock.json', ['kubelet']],
  ['apko/containerd.lock.json', ['containerd']], // a lock added where there was none
  ['apko/mesa.yaml', ['kodi', 'mesa', 'sway']],
  ['apko/desktop/sway.yaml', ['sway']],
  ['apko/router.yaml', ['router']],
  ['alpine/jellyfin.yaml', ['jellyfin']],
  ['apps/tool.yaml', ['tool']],
  ['melange/default-user.yaml', ['bootc', 'containerd', 'kodi', 'kubelet', 'mesa', 'router', 'sway']],
  ['melange/router-config.yaml', ['router']],
  ['melange/dnsmasq-config.yaml', ['router']], // through router-config's runtime dependency
  ['keys/own.rsa.pub', []], // a key is not an apko file: apko reads it, but it is no input of the chain
  ['README.md', []],
];

const git = promisify(execFile);

/** The tree, committed to a new git repository in a temp folder (one commit, on branch main). */
export async function releaseRepo(files: Record<string, string> = RELEASE_TREE): Promise<{
  dir: string;
  git: (...args: string[]) => Promise<string>;
  commit: (changes: Record<string, string>, message: string) => Promise<string>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'release-tree-'));
  const run = async (...args: string[]) =>
    (
      await git('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], {
        env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
      })
    ).stdout.trim();
  await run('init', '-q', '-b', 'main');
  await writeTree(dir, files);
  await run('add', '-A');
  await run('commit', '-q', '-m', 'tree');
  const commit = async (changes: Record<string, string>, message: string) => {
    await writeTree(dir, changes);
    await run('add', '-A');
    await run('commit', '-q', '-m', message);
    return run('rev-parse', 'HEAD');
  };
  return { dir, git: run, commit };
}
