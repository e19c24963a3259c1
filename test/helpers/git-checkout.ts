import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** git with no user or system configuration, so the machine's settings (signing, hooks) cannot change a test. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    [
      '-c',
      'user.name=Test',
      '-c',
      'user.email=test@example.org',
      '-c',
      'commit.gpgsign=false',
      '-c',
      'tag.gpgsign=false',
      '-c',
      'init.defaultBranch=main',
      ...args,
    ],
    {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: cwd },
    },
  ).trim();
}

/**
 * A checkout of "apk-indexer" at `dir` (a stand-in package.json, unless its files are there already): one commit,
 * an annotated tag on it when `tag` is given, `commitsAfterTag` more, and an origin when given.
 */
export function checkout(
  dir: string,
  o: { origin?: string; tag?: string; commitsAfterTag?: number; files?: 'as they are' } = {},
): { commit: string } {
  mkdirSync(dir, { recursive: true });
  if (o.files === undefined) writeFileSync(join(dir, 'package.json'), '{"name":"apk-indexer","version":"0.1.0"}\n');
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'release');
  if (o.tag) git(dir, 'tag', '-a', o.tag, '-m', o.tag);
  const commit = git(dir, 'rev-parse', 'HEAD');
  for (let i = 0; i < (o.commitsAfterTag ?? 0); i++) git(dir, 'commit', '-q', '--allow-empty', '-m', `after ${i}`);
  if (o.origin) git(dir, 'remote', 'add', 'origin', o.origin);
  return { commit };
}
