import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRepo } from '../fixtures/apk-repo.js';
import { command } from '../helpers/command.js';
import {
  ALPINE_COMMUNITY_PACKAGES,
  ALPINE_PACKAGES,
  WOLFI_PACKAGES,
  writeRenovateTree,
} from '../helpers/renovate-tree.js';
import { runCommand, writeTree } from './helpers.js';

const pin = command('pin');
const check = command('check');

/** check's table rows about Dockerfiles, as [status, where, what, detail]. */
/** `check --json`'s findings on Dockerfiles as [severity, location, subject, message] rows. */
const dockerRows = (out: string) =>
  (JSON.parse(out) as { severity: string; location: string; subject: string; message: string }[])
    .filter((f) => /(Dockerfile|Containerfile)/.test(f.location))
    .map((f) => [f.severity, f.location, f.subject, f.message]);

describe('RUN apk add pins in Dockerfiles: pin and check', () => {
  let dir: string;
  /** The Renovate fixture tree: apko files, a Dockerfile on the tree's host image, a Containerfile on Alpine. */
  let tree: string;
  /** The same tree with Dockerfiles of every other shape, named on the command line. */
  let shapes: string;
  let wolfiUrl: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-dockerfile-'));
    const wolfi = await writeFixtureRepo(join(dir, 'repos', 'wolfi'), { arches: WOLFI_PACKAGES });
    const alpine = await writeFixtureRepo(join(dir, 'repos', 'alpine'), { arches: ALPINE_PACKAGES });
    const community = await writeFixtureRepo(join(dir, 'repos', 'community'), { arches: ALPINE_COMMUNITY_PACKAGES });
    wolfiUrl = wolfi.url;
    const urls = { wolfi: wolfi.url, alpine: alpine.url, alpineCommunity: community.url };
    tree = join(dir, 'tree');
    shapes = join(dir, 'shapes');
    await writeRenovateTree(tree, urls);
    await writeRenovateTree(shapes, urls);
    await writeTree(shapes, SHAPES);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('check judges each package for the image its stage builds on, and says what it cannot check', async () => {
    const r = await runCommand(check, ['-C', tree, '--config', join(tree, 'apk-indexer.yaml'), '--json']);
    expect(r.code).toBe(1);
    expect(dockerRows(r.out)).toEqual([
      // FROM .../host: apko/host.yaml's image, both arches, Wolfi. 1.17.0-r0 is on x86_64 only.
      ['warning', 'hosts/nuc/Dockerfile:4', 'bootc=1.16.6-r0', 'stale: 1.16.7-r0 is present on all of x86_64, aarch64'],
      [
        'warning',
        'hosts/nuc/Dockerfile:5',
        'openssl=3.4.0_rc9-r0',
        'stale: 3.4.0-r1 is present on all of x86_64, aarch64',
      ],
      [
        'warning',
        'hosts/nuc/Dockerfile:6',
        'wolfi-baselayout=20230201-r15',
        'stale: 20241121-r0 is present on all of x86_64, aarch64',
      ],
      ['error', 'hosts/nuc/Dockerfile:6', 'ca-certificates-bundle', "not in apko/host.yaml's repositories (wolfi)"],
      [
        'warning',
        'hosts/nuc/Dockerfile:9',
        'intel-ucode=${UCODE}',
        'not pinned: the version is ${UCODE}, a build argument; not checked',
      ],
      // FROM alpine:edge: its main and community, held as the configuration's aliases; 8.12.0-r0 is on x86_64 only.
      ['warning', 'tools/Containerfile:2', 'curl=8.11.0-r0', 'stale: 8.11.1-r0 is present on all of x86_64, aarch64'],
      ['warning', 'tools/Containerfile:2', 'jq=1.7.1-r0', 'stale: 1.8.0-r0 is present on all of x86_64, aarch64'],
      // The second stage builds on the first; git 2.47.1-r0 is on x86_64 only.
      ['ok', 'tools/Containerfile:4', 'git=2.47.0-r0', 'newest on all of x86_64, aarch64'],
    ]);
  });

  it('pin --check names every stale pin; pin moves only the versions, --all pins bare names', async () => {
    const args = ['-C', tree, '--config', join(tree, 'apk-indexer.yaml')];
    const stale = await runCommand(pin, [...args, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.out.split('\n').filter((l) => /(Dockerfile|Containerfile):/.test(l))).toEqual([
      'hosts/nuc/Dockerfile:4  bootc  1.16.6-r0 -> 1.16.7-r0  (stale)',
      'hosts/nuc/Dockerfile:5  openssl  3.4.0_rc9-r0 -> 3.4.0-r1  (stale)',
      'hosts/nuc/Dockerfile:6  wolfi-baselayout  20230201-r15 -> 20241121-r0  (stale)',
      'tools/Containerfile:2  curl  8.11.0-r0 -> 8.11.1-r0  (stale)',
      'tools/Containerfile:2  jq  1.7.1-r0 -> 1.8.0-r0  (stale)',
    ]);
    // The bare ca-certificates-bundle and the ${UCODE} version are counted, not moved.
    expect(stale.out).toMatch(/\n7 file\(s\), 13 pin\(s\) stale, 2 not pinned\n$/);
    const dockerfile = await readFile(join(tree, 'hosts/nuc/Dockerfile'), 'utf8');
    const containerfile = await readFile(join(tree, 'tools/Containerfile'), 'utf8');

    const moved = await runCommand(pin, [...args, '--all']);
    expect(moved.code).toBe(0);
    expect(moved.out).toMatch(/\n7 file\(s\), 13 pin\(s\) moved, 1 not pinned\n$/);
    expect(moved.err).toContain(
      'hosts/nuc/Dockerfile:6: ca-certificates-bundle: not in the repositories of apko/host.yaml; left unpinned\n',
    );
    // Only the versions changed, quotes, continuations and the build argument kept.
    expect(await readFile(join(tree, 'hosts/nuc/Dockerfile'), 'utf8')).toBe(
      dockerfile
        .replace('bootc=1.16.6-r0', 'bootc=1.16.7-r0')
        .replace('"openssl=3.4.0_rc9-r0"', '"openssl=3.4.0-r1"')
        .replace('wolfi-baselayout=20230201-r15', 'wolfi-baselayout=20241121-r0'),
    );
    expect(await readFile(join(tree, 'tools/Containerfile'), 'utf8')).toBe(
      containerfile.replace('curl=8.11.0-r0 jq=1.7.1-r0', 'curl=8.11.1-r0 jq=1.8.0-r0'),
    );
    const again = await runCommand(pin, [...args, '--check']);
    expect(again.code).toBe(0);
    // ca-certificates-bundle is in no repository of the image: still bare.
    expect(again.out).toMatch(/^7 file\(s\), 0 pin\(s\) stale, 2 not pinned\n$/);
  });

  const NAMED = Object.keys(SHAPES_NAMED);

  it('scopes each stage: the tree image, --platform, scratch, a build argument, a known base, --repository', async () => {
    const config = join(shapes, 'apk-indexer.yaml');
    const rows = async (...extra: string[]) => {
      const r = await runCommand(check, ['-C', shapes, ...extra, ...NAMED, '--json']);
      expect(r.code).toBe(1);
      return dockerRows(r.out).map((row) => `${row[1]} ${row[2]}: ${row[0]} ${row[3]}`);
    };
    const unknown = (detail: string) => `extra/unknown/Dockerfile:2 bootc=1.16.6-r0: ${detail}`;
    const notGiven = (branch: string) =>
      `not checked: FROM alpine:${branch}: its repositories https://dl-cdn.alpinelinux.org/alpine/${branch === 'edge' ? 'edge' : `v${branch}`}/main, https://dl-cdn.alpinelinux.org/alpine/${branch === 'edge' ? 'edge' : `v${branch}`}/community are not all among the repositories given (by URL or alias); or pass --repository NAME`;
    const same = [
      'extra/platform/Dockerfile:2 bootc=1.16.6-r0: warning stale: 1.16.7-r0 is present on all of aarch64',
      'extra/platform/Dockerfile:4 bootc=1.16.6-r0: warning stale: 1.17.0-r0 is present on all of x86_64',
      'extra/platform/Dockerfile:6 bootc=1.16.6-r0: warning not checked: FROM --platform=linux/s390x: images/pi.apko.yaml is built for aarch64, not s390x',
      'extra/scratch/Dockerfile:2 bootc=1.16.6-r0: warning not checked: FROM scratch has no apk',
      'extra/arg/Dockerfile:3 bootc=1.16.6-r0: warning not checked: FROM $BASE names its image by a build argument without a default',
    ];
    const constraints = [
      'extra/constraints/Containerfile:2 curl>=8.12: error no version satisfying >=8.12 is on every one of x86_64, aarch64',
      'extra/constraints/Containerfile:2 jq~1.8: ok constraint ~1.8: satisfied on all of x86_64, aarch64',
      'extra/constraints/Containerfile:2 git<2.47: error no version satisfying <2.47 is on every one of x86_64, aarch64',
      'extra/constraints/Containerfile:2 curl=8.10.0-r0: error 8.10.0-r0 exists on none of x86_64, aarch64 (newest: x86_64 8.12.0-r0, aarch64 8.11.1-r0)',
      "extra/constraints/Containerfile:2 bootc=1.16.6-r0: error not in alpine:edge's repositories (alpine, alpine-community)",
      'extra/constraints/Containerfile:2 bad><1: error apk refuses it: ><1 is no operator and version apk reads',
      "extra/constraints/Containerfile:2 zsh: error not in alpine:edge's repositories (alpine, alpine-community)",
    ];

    // The configuration's three repositories: a base that is no image of the tree is not guessed.
    expect(await rows('--config', config)).toEqual([
      unknown(
        'warning not checked: FROM ghcr.io/someone/else:1 is no image of this tree (no apko file named else), and which repositories its apk reads is not known; pass --repository NAME (wolfi, alpine, alpine-community)',
      ),
      ...same,
      `extra/stable/Dockerfile:2 curl=8.11.0-r0: warning ${notGiven('3.21')}`,
      `extra/stable/Dockerfile:2 curl@edge=8.11.0-r0: warning ${notGiven('3.21')}`,
      ...constraints,
    ]);
    // --repository: for bases whose repositories are not known or not given; a tag stays unknown there.
    expect(await rows('--config', config, '--repository', 'alpine')).toEqual([
      unknown("error not in ghcr.io/someone/else:1's repositories (alpine)"),
      ...same,
      'extra/stable/Dockerfile:2 curl=8.11.0-r0: warning stale: 8.11.1-r0 is present on all of x86_64, aarch64',
      "extra/stable/Dockerfile:2 curl@edge=8.11.0-r0: warning not checked: @edge names a tagged repository of the image's /etc/apk/repositories, known only for images of the tree",
      ...constraints,
    ]);
    // One repository given: the unknown base reads it; Alpine's bases are still not judged from Wolfi.
    expect(await rows('--index', wolfiUrl)).toEqual([
      unknown('warning stale: 1.16.7-r0 is present on all of x86_64, aarch64'),
      ...same,
      `extra/stable/Dockerfile:2 curl=8.11.0-r0: warning ${notGiven('3.21')}`,
      `extra/stable/Dockerfile:2 curl@edge=8.11.0-r0: warning ${notGiven('3.21')}`,
      ...constraints
        .filter((row) => !row.includes('bad><1'))
        .map((row) => `${row.slice(0, row.indexOf(': ') + 2)}warning ${notGiven('edge')}`)
        .toSpliced(
          5,
          0,
          'extra/constraints/Containerfile:2 bad><1: error apk refuses it: ><1 is no operator and version apk reads',
        ),
    ]);
  });

  it('pin says why a pin is not checked or not moved, each in one line', async () => {
    const r = await runCommand(pin, ['-C', shapes, '--config', join(shapes, 'apk-indexer.yaml'), '--check', ...NAMED]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      [
        'extra/platform/Dockerfile:2  bootc  1.16.6-r0 -> 1.16.7-r0  (stale)',
        'extra/platform/Dockerfile:4  bootc  1.16.6-r0 -> 1.17.0-r0  (stale)',
        'extra/constraints/Containerfile:2  curl  8.10.0-r0 -> 8.11.1-r0  (stale)',
        '6 file(s), 3 pin(s) stale, 2 problem(s), 6 not checked, 1 not pinned',
        '',
      ].join('\n'),
    );
    expect(r.err.split('\n').filter((l) => l.startsWith('extra/'))).toEqual([
      'extra/unknown/Dockerfile:2: bootc: not checked: FROM ghcr.io/someone/else:1 is no image of this tree (no apko file named else), and which repositories its apk reads is not known; pass --repository NAME (wolfi, alpine, alpine-community)',
      'extra/platform/Dockerfile:6: bootc: not checked: FROM --platform=linux/s390x: images/pi.apko.yaml is built for aarch64, not s390x',
      'extra/scratch/Dockerfile:2: bootc: not checked: FROM scratch has no apk',
      'extra/arg/Dockerfile:3: bootc: not checked: FROM $BASE names its image by a build argument without a default',
      'extra/constraints/Containerfile:2: bootc: not in the repositories of alpine:edge',
      'extra/constraints/Containerfile:2: bad: not pinned: bad><1 is no version apk reads',
    ]);
    // A known base whose repositories were not given: its pins are not checked, as an apko image's, one line for
    // the file, and the gate's line names the repositories to give or allow.
    const alpine =
      'https://dl-cdn.alpinelinux.org/alpine/v3.21/main, https://dl-cdn.alpinelinux.org/alpine/v3.21/community';
    expect(r.err).toContain(
      `\nnot pinned: no data for ${alpine}: 2 pins in extra/stable/Dockerfile (--verbose lists them)\n`,
    );
    expect(r.err).toContain(
      `\nnot checked: no data for ${alpine}; give its index (--index, with --alias for a mirror)`,
    );
  });
});

/** Dockerfiles of every shape a stage's base takes, each named on the command line. */
const SHAPES_NAMED: Record<string, string> = {
  'extra/unknown/Dockerfile': 'FROM ghcr.io/someone/else:1\nRUN apk add bootc=1.16.6-r0\n',
  'extra/platform/Dockerfile': [
    'FROM --platform=linux/arm64 registry.example.org/homelab/host:latest AS arm',
    'RUN apk add bootc=1.16.6-r0',
    'FROM --platform=linux/amd64 registry.example.org/homelab/nuc:latest',
    'RUN apk add bootc=1.16.6-r0',
    'FROM --platform=linux/s390x registry.example.org/homelab/pi:latest',
    'RUN apk add bootc=1.16.6-r0',
    '',
  ].join('\n'),
  'extra/scratch/Dockerfile': 'FROM scratch\nRUN apk add bootc=1.16.6-r0\n',
  'extra/arg/Dockerfile': 'ARG BASE\nFROM $BASE\nRUN apk add bootc=1.16.6-r0\n',
  'extra/stable/Dockerfile': 'FROM alpine:3.21\nRUN apk add curl=8.11.0-r0 curl@edge=8.11.0-r0\n',
  'extra/constraints/Containerfile': [
    'FROM alpine:edge',
    'RUN apk add "curl>=8.12" jq~1.8 "git<2.47" curl=8.10.0-r0 bootc=1.16.6-r0 bad><1 zsh',
    '',
  ].join('\n'),
};
const SHAPES = SHAPES_NAMED;
