import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ToolPackage } from '../../src/core/version.js';
import { checkout, git } from '../helpers/git-checkout.js';
import {
  packageRepositoryUrl,
  parseGitUrl,
  resolveApkIndexerSource,
  type ApkIndexerSourceFlags,
} from '../../src/generate/apk-indexer-source.js';

const base = mkdtempSync(join(tmpdir(), 'apk-indexer-source-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(base, `tool-${n++}`);

function resolve(flags: ApkIndexerSourceFlags, tool: Partial<ToolPackage> & { root: string | undefined }) {
  const warnings: string[] = [];
  const source = resolveApkIndexerSource(flags, { version: '0.1.0', repository: undefined, ...tool }, (m) =>
    warnings.push(m),
  );
  return { source, warnings };
}

describe('where melange/apk-indexer.yaml checks apk-indexer out from', () => {
  it('a tool run from a git clone at a tag: its origin (credentials dropped), the tag, the commit the tag names', () => {
    const root = fresh();
    const { commit } = checkout(root, {
      origin: 'https://deploy:glpat-secret@git.example.org/me/apk-indexer.git',
      tag: 'v0.2.0',
    });
    const { source, warnings } = resolve({}, { root });
    expect(source).toEqual({
      repository: 'https://git.example.org/me/apk-indexer.git',
      tag: 'v0.2.0',
      // The commit, not the annotated tag's own object: git-checkout compares it with what it checked out.
      expectedCommit: commit,
      version: '0.2.0',
      from: `the origin remote of ${root}, the tag at HEAD of ${root}, tag v0.2.0 in ${root}`,
    });
    expect(git(root, 'rev-parse', 'v0.2.0')).not.toBe(commit);
    expect(JSON.stringify(source)).not.toContain('secret');
    expect(warnings).toEqual([
      `the origin remote of ${root}: credentials dropped from the URL (they would be committed in melange/apk-indexer.yaml)`,
    ]);
  });

  it('an SSH origin is cloned over https, which needs no key in the build sandbox', () => {
    const root = fresh();
    checkout(root, { origin: 'git@github.com:me/apk-indexer.git', tag: '1.4.0' });
    const { source, warnings } = resolve({}, { root });
    expect([source.repository, source.tag, source.version]).toEqual([
      'https://github.com/me/apk-indexer.git',
      '1.4.0',
      '1.4.0',
    ]);
    expect(warnings.join('\n')).toMatch(
      /is an SSH URL; melange\/apk-indexer\.yaml clones https:\/\/github\.com\/me\/apk-indexer\.git instead/,
    );
  });

  it('a checkout past its last tag: an error naming --apk-indexer-ref and that tag; with the flag, the tag it names', () => {
    const root = fresh();
    const { commit } = checkout(root, {
      origin: 'https://git.example.org/me/apk-indexer.git',
      tag: 'v0.1.0',
      commitsAfterTag: 2,
    });
    expect(() => resolve({}, { root })).toThrow(
      `no tag for melange/apk-indexer.yaml: HEAD of ${root} is at no tag (the newest tag before it is v0.1.0); pass --apk-indexer-ref TAG`,
    );
    const { source } = resolve({ ref: 'v0.1.0' }, { root });
    expect([source.tag, source.expectedCommit]).toEqual(['v0.1.0', commit]);
    // A tag the checkout does not have: no expected-commit rather than a guess.
    expect(resolve({ ref: 'v9.0.0' }, { root }).source).toMatchObject({
      tag: 'v9.0.0',
      expectedCommit: undefined,
      version: '9.0.0',
    });
  });

  it('nothing known: one error naming the flags to pass', () => {
    const plain = fresh();
    mkdirSync(plain);
    expect(() => resolve({}, { root: plain })).toThrow(
      `no source for melange/apk-indexer.yaml: this apk-indexer (${plain}) is no git checkout and its package.json names no repository; pass --apk-indexer-source GIT_URL --apk-indexer-ref TAG`,
    );
    const noRemote = fresh();
    checkout(noRemote, { tag: 'v0.1.0' });
    expect(() => resolve({}, { root: noRemote })).toThrow(
      /has no origin remote and its package.json names no repository; pass --apk-indexer-source GIT_URL --apk-indexer-ref TAG$/,
    );
    expect(() => resolve({ ref: 'v0.1.0' }, { root: noRemote })).toThrow(/; pass --apk-indexer-source GIT_URL$/);
    // A clone of a clone on this disk: melange's sandbox cannot reach the path.
    const localOrigin = fresh();
    checkout(localOrigin, { origin: noRemote, tag: 'v0.1.0' });
    expect(() => resolve({}, { root: localOrigin })).toThrow(
      `is a local path (${noRemote}), which melange's build cannot clone; pass --apk-indexer-source GIT_URL --apk-indexer-ref TAG`,
    );
  });

  it("an install inside another project's git repository is not taken for a checkout of apk-indexer", () => {
    const project = fresh();
    checkout(project, { origin: 'https://git.example.org/someone/else.git', tag: 'v7.0.0' });
    const installed = join(project, 'node_modules', 'apk-indexer');
    mkdirSync(installed, { recursive: true });
    expect(() => resolve({}, { root: installed })).toThrow(/is no git checkout/);
  });

  it("an installed package with package.json's repository: that URL at v<version>", () => {
    const installed = fresh();
    mkdirSync(installed);
    const { source } = resolve({}, { root: installed, version: '0.3.1', repository: 'github:me/apk-indexer' });
    expect(source).toEqual({
      repository: 'https://github.com/me/apk-indexer.git',
      tag: 'v0.3.1',
      expectedCommit: undefined,
      version: '0.3.1',
      from: 'package.json repository, package.json version 0.3.1',
    });
    const object = resolve(
      {},
      { root: installed, repository: { type: 'git', url: 'git+https://token@gitlab.example.org/me/apk-indexer.git' } },
    );
    expect(object.source.repository).toBe('https://gitlab.example.org/me/apk-indexer.git');
    expect(object.warnings).toHaveLength(1);
  });

  it('flags win, and are checked', () => {
    const root = fresh();
    checkout(root, { origin: 'https://git.example.org/me/apk-indexer.git', tag: 'v0.1.0' });
    const sha = 'a'.repeat(40);
    const { source, warnings } = resolve(
      { source: 'https://mirror.example.org/apk-indexer.git', ref: 'release-2026', commit: sha },
      { root },
    );
    // A tag that is no version: package.version stays this tool's.
    expect(source).toMatchObject({
      repository: 'https://mirror.example.org/apk-indexer.git',
      tag: 'release-2026',
      expectedCommit: sha,
      version: '0.1.0',
    });
    expect(warnings).toEqual([]);
    expect(
      resolve({ source: 'https://u:p@mirror.example.org/a.git', ref: 'v1' }, { root: undefined }).warnings,
    ).toEqual([
      '--apk-indexer-source: credentials dropped from the URL (they would be committed in melange/apk-indexer.yaml)',
    ]);
    expect(() => resolve({ source: 'git@github.com:me/a.git', ref: 'v1' }, { root: undefined })).toThrow(
      /without SSH keys; give the https:\/\/ URL \(https:\/\/github\.com\/me\/a\.git\)/,
    );
    expect(() => resolve({ source: '/srv/git/apk-indexer', ref: 'v1' }, { root: undefined })).toThrow(
      /--apk-indexer-source \/srv\/git\/apk-indexer: a local path/,
    );
    expect(() =>
      resolve({ source: 'https://x.example.org/a.git', ref: '--upload-pack=evil' }, { root: undefined }),
    ).toThrow(/--apk-indexer-ref --upload-pack=evil: not a tag name/);
    expect(() =>
      resolve({ source: 'https://x.example.org/a.git', ref: 'v1', commit: 'abc123' }, { root: undefined }),
    ).toThrow(/--apk-indexer-commit abc123: not a full commit hash/);
    expect(() => resolve({ source: 'https://x.example.org/a.git' }, { root: undefined })).toThrow(
      /pass --apk-indexer-ref TAG$/,
    );
  });

  it('reads git URL forms as git does', () => {
    expect(parseGitUrl('https://user:pw@host.example/a/b.git?x=1#y')).toEqual({
      kind: 'remote',
      url: 'https://host.example/a/b.git',
      credentials: true,
    });
    expect(parseGitUrl('git+https://host.example/a.git')).toEqual({
      kind: 'remote',
      url: 'https://host.example/a.git',
      credentials: false,
    });
    expect(parseGitUrl('ssh://git@host.example:2222/a/b.git')).toEqual({
      kind: 'ssh',
      https: 'https://host.example/a/b.git',
    });
    expect(parseGitUrl('host.example:a/b.git')).toEqual({ kind: 'ssh', https: 'https://host.example/a/b.git' });
    expect(parseGitUrl('file:///srv/a.git')).toEqual({ kind: 'local' });
    expect(parseGitUrl('../a.git')).toEqual({ kind: 'local' });
    expect(parseGitUrl('ftp://host.example/a.git')).toBeUndefined();
    expect(packageRepositoryUrl('gitlab:me/a')).toBe('https://gitlab.com/me/a.git');
    expect(packageRepositoryUrl('me/a')).toBe('https://github.com/me/a.git');
    expect(packageRepositoryUrl({ type: 'git' })).toBeUndefined();
  });
});
