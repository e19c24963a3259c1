import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { FileError, UserError } from '../errors.js';

const run = promisify(execFile);

/** git's null object id: "no previous commit" (a new branch's push, GitLab's CI_COMMIT_BEFORE_SHA on schedules). */
export const NULL_REVISION = /^0{40}(?:0{24})?$/;

/**
 * The files changed since `revision`, as absolute paths: those that differ between the working tree and the point
 * where `revision` and HEAD meet (`git merge-base`), plus untracked ones, so on a laptop `--changed-since main`
 * counts uncommitted edits, and in CI (a clean checkout) it is the commits since `revision`. Renames count as the
 * old path and the new one. undefined for the null revision: everything is new.
 */
export async function changedSince(root: string, revision: string): Promise<string[] | undefined> {
  if (NULL_REVISION.test(revision)) return undefined;
  const git = async (...args: string[]) => {
    try {
      return (await run('git', ['-C', root, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw revisionError(revision, 'git is not installed (pass --changed-files FILE)');
      const said = (e.stderr ?? '').trim().split('\n')[0] ?? '';
      throw revisionError(revision, said || e.message);
    }
  };
  const top = (await git('rev-parse', '--show-toplevel')).trim();
  const base = (await git('merge-base', `${revision}^{commit}`, 'HEAD')).trim();
  const changed = await git('diff', '--name-only', '--no-renames', '-z', base, '--');
  const untracked = await git('ls-files', '-z', '--others', '--exclude-standard', '--full-name', ':/');
  return [...new Set([...changed.split('\0'), ...untracked.split('\0')].filter(Boolean))].map((p) => resolve(top, p));
}

/** A list of changed files, one per line (as `git diff --name-only` prints them), relative to `root`. */
export function changedFilesFrom(text: string, root: string): string[] {
  return [
    ...new Set(
      text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => resolve(root, line)),
    ),
  ];
}

/** The changed files `--changed-since` or `--changed-files` give; undefined when neither is given. */
export async function readChanges(
  since: string | undefined,
  listFile: string | undefined,
  root: string,
  stdin: NodeJS.ReadableStream,
): Promise<string[] | undefined> {
  if (since !== undefined) return changedSince(root, since);
  if (listFile === undefined) return undefined;
  if (listFile === '-') {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return changedFilesFrom(text, root);
  }
  try {
    return changedFilesFrom(await readFile(listFile, 'utf8'), root);
  } catch (err) {
    throw FileError.of(listFile, err);
  }
}

/** A git revision that could not be read, or git that could not run: exit 2, naming the revision. */
const revisionError = (revision: string, detail: string) =>
  new UserError('usage', `--changed-since ${revision}: ${detail}`);
