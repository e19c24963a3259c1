import { relative, resolve } from 'node:path';
import { resolveImage } from '../../apko/image.js';
import { lockPathOf, lockState } from '../../apko/lock.js';
import { fileConstraints, type ApkoTree } from '../../apko/tree.js';
import { UserError } from '../../errors.js';
import { updateLock, type LockContext, type LockMove } from '../../generate/lock-tree.js';
import type { VersionSource } from '../../generate/version-source.js';
import { defaultHeadCache, HeadFetcher } from '../../lock/head-fetch.js';
import { newKeyringMemo } from '../../lock/keyring.js';
import { UniverseCache } from '../../resolve/arches.js';
import { asUserError } from '../resolve-images.js';
import { writeFileAtomically } from '../../core/files.js';
import { SOURCE_HELP, TREE_HELP } from '../../generate/command-options.js';
import { pinTree } from '../../generate/pin.js';
import { describeIds } from '../../generate/security.js';
import { runOnImageTree } from '../image-tree.js';
import type { CliIO } from '../io.js';

export const HELP = `usage: apk-indexer pin [FILE...] (--index SRC... | --config FILE | --server URL) [--all] [--check] [--lock]

Moves the name=version pins of apko files to the newest version every image building with the file
can install: present on each of the image's arches, in the image's own repositories (its include
chain's repositories and build_repositories, plus --repository-append). In apk order: the newest
stable version, or the newest of all when the pin is itself a prerelease. Only those scalars change:
comments, order and formatting stay. Constraints (>=, <, ~) are left to \`check\`.
Without FILE, every apko file under the directory (any folder, recognised by content). A named file
is still judged for every image of the tree that includes it.

  --all            also pin bare package names.
  --check          change nothing; exit 1 when a pin would move (a CI gate).
  --lock           (kept for old CI lines: a lock beside an image always moves with its pins, without apko:
                   FILE without extension + .lock.json, re-resolved for the arches it holds).
  --json           print the moves (with the security IDs each fixes) and notes as JSON.
${SOURCE_HELP}
${TREE_HELP}

Exit status: 0 done (or, with --check, nothing stale), 1 a pin is stale (--check) or could not be
resolved, 2 a usage error, an index that could not be read, a server that is not an apk-indexer or a
file that cannot be written. 70 is a bug in apk-indexer; all statuses and error codes: docs/errors.md.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const options = {
    all: { type: 'boolean' },
    check: { type: 'boolean' },
    lock: { type: 'boolean' },
    json: { type: 'boolean' },
  } as const;
  return runOnImageTree(
    HELP,
    options,
    args,
    io,
    async ({ values, root, fallbackArches, tree, source }) => {
      const failures = tree.failures;
      for (const failure of failures) io.stderr.write(`${failure.message}\n`);
      let stale = 0;
      let unresolved = failures.length;
      let unchecked = 0;
      const results = await pinTree(tree, fileConstraints(tree, fallbackArches), source, { all: values.all ?? false });
      const changed = new Set<string>();
      for (const result of results) {
        // Written before its moves are printed: a file that cannot be written stops pin with no move claimed for it.
        const original = tree.images.flatMap((image) => image.chain).find((f) => f.path === result.file)!.text;
        if (!values.check && result.text !== original)
          await writeFileAtomically(resolve(root, result.file), result.text, result.file);
        for (const c of result.changes) {
          if (values.json) continue;
          const fixes = c.fixes ? `  fixes ${describeIds(c.fixes)}` : '';
          io.stdout.write(
            `${result.file}:${c.line}  ${c.name}  ${c.from ?? '(unpinned)'} -> ${c.to}${values.check ? '  (stale)' : ''}${fixes}\n`,
          );
        }
        if (!values.json)
          for (const n of result.notes)
            io.stderr.write(`${result.file}${n.line ? `:${n.line}` : ''}: ${n.name}: ${n.message}\n`);
        unresolved += result.notes.filter((n) => n.kind === 'problem').length;
        unchecked += result.notes.filter((n) => n.kind === 'not-checked').length;
        stale += result.changes.length;
        if (result.changes.length > 0) changed.add(result.file);
      }
      if (values.json) {
        const locks = await moveLocks(tree, changed, root, values, source, io);
        unresolved += locks.problems;
        const moves = results.flatMap((r) =>
          r.changes.map((c) => ({
            file: r.file,
            line: c.line,
            name: c.name,
            from: c.from ?? null,
            to: c.to,
            fixes: c.fixes ?? [],
          })),
        );
        const notes = results.flatMap((r) =>
          r.notes.map((n) => ({
            file: r.file,
            line: n.line,
            name: n.name,
            message: n.message,
            error: n.kind === 'problem',
          })),
        );
        io.stdout.write(
          `${JSON.stringify({ changed: !values.check, moves, notes, locks: locks.updates, unreadable: failures.map((f) => f.message) }, null, 2)}\n`,
        );
        return (values.check && stale > 0) || unresolved > 0 ? 1 : 0;
      }
      // A lock records the files' checksum and what the image installs: it moves with any pin of the image's chain.
      const locks = await moveLocks(tree, changed, root, values, source, io);
      unresolved += locks.problems;
      const verb = values.check ? 'stale' : 'moved';
      const files = `${results.length + failures.length} file(s)${failures.length ? ` (${failures.length} refused)` : ''}`;
      const extra = [unresolved ? `${unresolved} problem(s)` : '', unchecked ? `${unchecked} not checked` : ''].filter(
        Boolean,
      );
      io.stdout.write(`${files}, ${stale} pin(s) ${verb}${extra.length ? `, ${extra.join(', ')}` : ''}\n`);
      return (values.check && stale > 0) || unresolved > 0 ? 1 : 0;
    },
    // Dependency data is read only when a lock may have to move with the pins.
    { dependencies: (tree) => tree.images.some((i) => lockState(i).kind !== 'none') },
  );
}

/**
 * The locks of the images whose chain a pin moved: re-resolved and rewritten with the pins (no apko needed), each
 * image's lock for the arches it was written for. With --check, or without dependency data (--server), they are
 * named as stale instead.
 */
async function moveLocks(
  tree: ApkoTree,
  changed: ReadonlySet<string>,
  root: string,
  values: {
    check?: boolean;
    'include-path'?: string[];
    'repository-append'?: string[];
    'build-repository-append'?: string[];
  },
  source: VersionSource,
  io: CliIO,
): Promise<{ problems: number; updates: { image: string; lockFile: string; moves: LockMove[] }[] }> {
  let problems = 0;
  const updates: { image: string; lockFile: string; moves: LockMove[] }[] = [];
  const stale = tree.images.filter((i) => i.chain.some((f) => changed.has(f.path)) && lockState(i).kind !== 'none');
  if (stale.length === 0) return { problems, updates };
  const ctx: LockContext = {
    root,
    source,
    universes: new UniverseCache(),
    arches: [],
    fetcher: new HeadFetcher({ cacheDir: defaultHeadCache() }),
    keyring: { memo: newKeyringMemo() },
  };
  for (const old of stale) {
    const lockFile = relative(root, lockPathOf(old));
    if (values.check) {
      io.stderr.write(`${lockFile}: stale with these pins: pin moves it with them (or apk-indexer lock --update)\n`);
      continue;
    }
    if (source.dependencies([], 'x86_64') === undefined) {
      io.stderr.write(
        `${lockFile}: not moved: --server holds no dependency data; pass --index or --config, or run apk-indexer lock --update\n`,
      );
      problems++;
      continue;
    }
    // The files were just rewritten: the image is read again, for its new checksum and packages.
    const image = resolveImage(old.file.path, {
      root,
      includePaths: values['include-path'] ?? [],
      repositoryAppend: values['repository-append'] ?? [],
      buildRepositoryAppend: values['build-repository-append'] ?? [],
    });
    try {
      const update = await updateLock(image, ctx);
      if (!update) continue;
      if (update.changed) await writeFileAtomically(resolve(root, update.lockFile), update.text, update.lockFile);
      updates.push({ image: update.image, lockFile: update.lockFile, moves: update.moves });
      io.stdout.write(
        `${update.lockFile}: moved with the pins (${update.moves.length} package move(s) on ${[...new Set(update.moves.map((m) => m.arch))].join(', ') || 'no arch'})\n`,
      );
    } catch (err) {
      const e = asUserError(err, image.file.path);
      if (!(e instanceof UserError) || e.code !== 'resolve') throw e;
      io.stderr.write(`${lockFile}: not moved: ${e.message}\n`);
      problems++;
    }
  }
  return { problems, updates };
}
