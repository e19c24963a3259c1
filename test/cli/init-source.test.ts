import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureBuilt } from '../helpers/cli-process.js';
import { checkout, git } from '../helpers/git-checkout.js';

/**
 * `init` finds where melange/apk-indexer.yaml checks apk-indexer out from in the install it runs from: a copy of this
 * package (its built files, as npm would unpack them) run as a new user runs it, first as a plain folder, then as
 * a git clone at a tag.
 */

const ROOT = resolve(import.meta.dirname, '../..');

describe('init: the source of the apk-indexer package, from the install that runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apk-init-source-'));
  const tool = join(dir, 'apk-indexer');
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [join(tool, 'bin', 'apk-indexer.js'), ...args], {
      encoding: 'utf8',
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(() => {
    ensureBuilt();
    for (const path of ['package.json', 'bin', 'dist', 'config'])
      cpSync(join(ROOT, path), join(tool, path), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(tool, 'node_modules'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an install that is no git checkout and names no repository: exit 2, one line naming the flags, nothing written', () => {
    const r = cli(['init', join(dir, 'plain')]);
    expect(r.code).toBe(2);
    // One line: it names the flags to pass, so no usage lines bury it.
    expect(r.err).toBe(
      `apk-indexer init: no source for melange/apk-indexer.yaml: this apk-indexer (${tool}) is no git checkout and its package.json names no repository; pass --apk-indexer-source GIT_URL --apk-indexer-ref TAG\n`,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'plain'))).toBe(false);
  });

  it('a git clone at a tag: its origin without the credentials, the tag and its commit', () => {
    const { commit } = checkout(tool, {
      files: 'as they are',
      origin: 'https://ci-bot:glpat-SECRET@git.example.org/me/apk-indexer.git',
      tag: 'v0.1.0',
    });
    const out = join(dir, 'cloned');
    const r = cli(['init', out]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      `warning: the origin remote of ${tool}: credentials dropped from the URL (they would be committed in melange/apk-indexer.yaml)\n`,
    );
    expect(r.out).toContain(
      `melange/apk-indexer.yaml: apk-indexer 0.1.0 from https://git.example.org/me/apk-indexer.git at v0.1.0, commit ${commit}`,
    );
    const text = readFileSync(join(out, 'melange/apk-indexer.yaml'), 'utf8');
    expect(text).not.toContain('SECRET');
    expect((parse(text) as { pipeline: unknown[] }).pipeline[0]).toEqual({
      uses: 'git-checkout',
      with: {
        repository: 'https://git.example.org/me/apk-indexer.git',
        tag: 'v${{package.version}}',
        'expected-commit': commit,
      },
    });
  });

  it('a clone whose origin is a local path: its one-line reason, alone, exit 2', () => {
    git(tool, 'remote', 'set-url', 'origin', '/srv/git/apk-indexer.git');
    const r = cli(['init', join(dir, 'local-origin')]);
    expect(r.err).toBe(
      `apk-indexer init: no source for melange/apk-indexer.yaml: the origin remote of the git checkout this apk-indexer runs from (${tool}) is a local path (/srv/git/apk-indexer.git), which melange's build cannot clone; pass --apk-indexer-source GIT_URL --apk-indexer-ref TAG\n`,
    );
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'local-origin'))).toBe(false);
  });
});
