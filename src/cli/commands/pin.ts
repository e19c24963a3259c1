import { relative, resolve } from 'node:path';
import { resolveImage } from '../../apko/image.js';
import { lockPathOf, lockState } from '../../apko/lock.js';
import { fileConstraints, type ApkoTree } from '../../apko/tree.js';
import { writeFileAtomically } from '../../core/files.js';
import { flag } from '../../core/flags.js';
import { escapeControl } from '../../core/escape.js';
import { ApkoFileError, EXIT, UserError } from '../../errors.js';
import { GATE_FLAGS, SOURCE_FLAGS, TREE_FLAGS, type TreeValues } from '../../generate/command-options.js';
import { pinDockerfile } from '../../generate/dockerfile-pins.js';
import { updateLock, type LockContext, type LockMove } from '../../generate/lock-tree.js';
import { pinTree, type PinNote, type PinResult } from '../../generate/pin.js';
import { describeIds } from '../../generate/security.js';
import type { VersionSource } from '../../generate/version-source.js';
import { defaultHeadCache, HeadFetcher } from '../../lock/head-fetch.js';
import { newKeyringMemo } from '../../lock/keyring.js';
import { UniverseCache } from '../../resolve/arches.js';
import { defineCommand } from '../command.js';
import { uncheckedGate, uncheckedLine } from '../gate.js';
import { openImageTree } from '../image-tree.js';
import type { CliIO } from '../io.js';
import { forImage } from '../resolve-images.js';

export const command = defineCommand({
  name: 'pin',
  summary: 'move name=version pins in apko files and Dockerfiles to the newest version on all their archs',
  usage: ['[FILE...] (--index SRC... | --config FILE | --server URL) [--all] [--check] [--lock]'],
  about: `Moves the name=version pins of apko files to the newest version every image building with the file
can install: present on each of the image's arches, in the image's own repositories (its include
chain's repositories and build_repositories, plus --repository-append). In apk order: the newest
stable version, or the newest of all when the pin is itself a prerelease. Only those scalars change:
comments, order and formatting stay. Constraints (>=, <, ~) are left to \`check\`.

The RUN apk add name=version pins of Dockerfiles and Containerfiles move the same way, for the image
each stage builds on (an image of the tree by its name, a known base such as alpine:3.21, or
--repository); bare names and \${VAR} versions are counted as not pinned.

An image's apko lock file (FILE without its extension, plus .lock.json) moves with the pins of its include
chain: the image is resolved again with apko's solver for the arches the lock holds and the lock rewritten as
\`apk-indexer lock\` writes it, without apko (dependency data is read from the indexes when the tree has a lock).

Without FILE, every apko file and Dockerfile under the directory (any folder). A named file is still
judged for every image of the tree that includes it.`,
  flags: {
    all: flag.switch({ names: ['--all'], doc: 'also pin bare package names.' }),
    check: flag.switch({ names: ['--check'], doc: 'change nothing; exit 1 when a pin would move (a CI gate).' }),
    lock: flag.switch({
      names: ['--lock'],
      doc: 'kept for old CI lines: a lock beside an image always moves with its pins, without apko.',
    }),
    json: flag.switch({
      names: ['--json'],
      doc: 'print the moves (with the security IDs each fixes) and notes as JSON.',
    }),
    verbose: flag.switch({
      names: ['--verbose', '-v'],
      doc: 'say every pin that was not checked on its own line, instead of once per repository without data.',
    }),
    ...GATE_FLAGS,
    ...SOURCE_FLAGS,
    ...TREE_FLAGS,
  },
  exits: `0 done (or, with --check, nothing stale), 1 a pin is stale (--check) or could not be
resolved, or a lock could not move with its pins, 2 a usage error, an index that could not be read, a server that
is not an apk-indexer or a file that cannot be written, 3 nothing of that but pins not checked: an image's
repository had no data (no index given for it, or none for one of its arches) and was not named with
--allow-unchecked.`,
  run: async (args, io) => {
    const { values } = args;
    const { root, fallbackArches, tree, dockerfiles, source } = await openImageTree(args, io, {
      // Dependency data is read only when a lock may have to move with the pins.
      dependencies: (t) => t.configurations.some((i) => lockState(i).kind !== 'none'),
    });
    const failures = [...tree.failures.map((f) => f.message), ...dockerfiles.failures];
    for (const failure of failures) io.stderr.write(`${escapeControl(failure)}\n`);
    let stale = 0;
    let unresolved = failures.length;
    let unpinned = 0;
    const pinOptions = { all: values.all };
    const results = await pinTree(tree, fileConstraints(tree, fallbackArches), source, pinOptions);
    for (const d of dockerfiles.files) results.push(await pinDockerfile(d, source, pinOptions));
    const originals = new Map([
      ...tree.images.flatMap((image) => image.chain.map((f) => [f.path, f.text] as const)),
      ...dockerfiles.files.map((d) => [d.file.path, d.file.text] as const),
    ]);
    const changed = new Set<string>();
    const unchecked = uncheckedGroups(results);
    for (const result of results) {
      // Written before its moves are printed: a file that cannot be written stops pin with no move claimed for it.
      const original = originals.get(result.file)!;
      if (!values.check && result.text !== original)
        await writeFileAtomically(resolve(root, result.file), result.text, result.file);
      for (const c of result.changes) {
        if (values.json) continue;
        const fixes = c.fixes ? `  fixes ${describeIds(c.fixes)}` : '';
        io.stdout.write(
          `${escapeControl(`${result.file}:${c.line}  ${c.name}  ${c.from ?? '(unpinned)'} -> ${c.to}${values.check ? '  (stale)' : ''}${fixes}`)}\n`,
        );
      }
      if (!values.json)
        for (const n of result.notes) {
          if (n.kind === 'not-pinned') continue;
          // Pins not checked for a repository without data are said once per repository (below), unless --verbose.
          if (lacksData(n) && !values.verbose && unchecked.get(groupOf(n))!.length > 1) continue;
          io.stderr.write(`${escapeControl(`${result.file}${n.line ? `:${n.line}` : ''}: ${n.name}: ${n.message}`)}\n`);
        }
      unresolved += result.notes.filter((n) => n.kind === 'problem').length;
      unpinned += result.notes.filter((n) => n.kind === 'not-pinned').length;
      stale += result.changes.length;
      if (result.changes.length > 0) changed.add(result.file);
    }
    // A lock records the files' checksum and what the image installs: it moves with any pin of the image's chain.
    const locks = await moveLocks(tree, changed, root, values, source, io);
    unresolved += locks.problems;
    // The gate counts the pins not checked because a repository had no data; a Dockerfile stage whose image is not
    // known (no repository to name) is said and counted as not checked, as before, but is not the gate's to pass.
    const notChecked = results.flatMap((r) => r.notes.filter((n) => n.kind === 'not-checked'));
    const gate = uncheckedGate(
      notChecked.flatMap((n) => (lacksData(n) ? [n.repositories!] : [])),
      values.allowUnchecked,
      root,
    );
    const status = () =>
      (values.check && stale > 0) || unresolved > 0 ? EXIT.found : gate.failing > 0 ? EXIT.unchecked : EXIT.ok;
    if (values.json) {
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
          ...(n.kind === 'not-checked' && { notChecked: n.repositories ?? [] }),
        })),
      );
      io.stdout.write(
        `${JSON.stringify({ changed: !values.check, moves, notes, locks: locks.updates, unreadable: failures }, null, 2)}\n`,
      );
      return status();
    }
    if (!values.verbose)
      for (const [repositories, files] of unchecked) {
        if (files.length < 2) continue;
        const list = [...new Set(files)];
        const shown = list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
        io.stderr.write(
          `${escapeControl(`not pinned: no data for ${repositories}: ${files.length} pins in ${shown} (--verbose lists them)`)}\n`,
        );
      }
    const verb = values.check ? 'stale' : 'moved';
    const files = `${results.length + failures.length} file(s)${failures.length ? ` (${failures.length} refused)` : ''}`;
    const extra = [
      unresolved ? `${unresolved} problem(s)` : '',
      notChecked.length
        ? `${notChecked.length} not checked${gate.allowed ? ` (${gate.allowed} allowed by --allow-unchecked)` : ''}`
        : '',
      unpinned ? `${unpinned} not pinned` : '',
    ].filter(Boolean);
    io.stdout.write(`${files}, ${stale} pin(s) ${verb}${extra.length ? `, ${extra.join(', ')}` : ''}\n`);
    if (gate.failing > 0) io.stderr.write(`${escapeControl(uncheckedLine(gate))}\n`);
    return status();
  },
});

/**
 * The locks of the images whose chain a pin moved: re-resolved and rewritten with the pins (no apko needed), each
 * image's lock for the arches it was written for. With --check, or without dependency data (--server), they are
 * named as stale instead. The line per moved lock is printed unless --json (where the moves are in `locks`).
 */
async function moveLocks(
  tree: ApkoTree,
  changed: ReadonlySet<string>,
  root: string,
  values: Pick<TreeValues, 'includePath' | 'repositoryAppend' | 'buildRepositoryAppend'> & {
    check: boolean;
    json: boolean;
  },
  source: VersionSource,
  io: CliIO,
): Promise<{ problems: number; updates: { image: string; lockFile: string; moves: LockMove[] }[] }> {
  let problems = 0;
  const updates: { image: string; lockFile: string; moves: LockMove[] }[] = [];
  const stale = tree.configurations.filter(
    (i) => i.chain.some((f) => changed.has(f.path)) && lockState(i).kind !== 'none',
  );
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
      io.stderr.write(
        `${escapeControl(lockFile)}: stale with these pins: pin moves it with them (or apk-indexer lock --update)\n`,
      );
      continue;
    }
    if (source.dependencies([], 'x86_64') === undefined) {
      io.stderr.write(
        `${escapeControl(lockFile)}: not moved: --server holds no dependency data; pass --index or --config, or run apk-indexer lock --update\n`,
      );
      problems++;
      continue;
    }
    // The files were just rewritten: the image is read again, for its new checksum and packages.
    const image = resolveImage(old.file.path, {
      root,
      includePaths: values.includePath,
      repositoryAppend: values.repositoryAppend,
      buildRepositoryAppend: values.buildRepositoryAppend,
    });
    try {
      const update = await updateLock(image, ctx);
      if (!update) continue;
      if (update.changed) await writeFileAtomically(resolve(root, update.lockFile), update.text, update.lockFile);
      updates.push({ image: update.image, lockFile: update.lockFile, moves: update.moves });
      if (!values.json)
        io.stdout.write(
          `${escapeControl(update.lockFile)}: moved with the pins (${update.moves.length} package move(s) on ${[...new Set(update.moves.map((m) => m.arch))].join(', ') || 'no arch'})\n`,
        );
    } catch (err) {
      // An image that cannot be installed, or a lock apko cannot build from: this lock stays, the others move.
      const e = forImage(err, image.file.path);
      if (!(e instanceof UserError) || (e.code !== 'resolve' && e.code !== 'apko-file')) throw e;
      io.stderr.write(
        `${escapeControl(`${lockFile}: not moved: ${e instanceof ApkoFileError ? e.detail : e.message}`)}\n`,
      );
      problems++;
    }
  }
  return { problems, updates };
}

/** The pins not checked, by the repositories that had no data: each group's files, a file once per pin. */
function uncheckedGroups(results: readonly PinResult[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of results)
    for (const n of r.notes) if (lacksData(n)) groups.set(groupOf(n), [...(groups.get(groupOf(n)) ?? []), r.file]);
  return groups;
}

const groupOf = (n: PinNote) => (n.repositories ?? []).join(', ');

/** A pin not checked because a repository of its image had no data (what --allow-unchecked names). */
const lacksData = (n: PinNote) => n.kind === 'not-checked' && (n.repositories?.length ?? 0) > 0;
