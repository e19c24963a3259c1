import { spawnSync } from 'node:child_process';
import { relative, resolve } from 'node:path';
import { lockPathOf, lockState } from '../../apko/lock.js';
import { fileConstraints } from '../../apko/tree.js';
import { writeFileAtomically } from '../../core/files.js';
import { flag } from '../../core/flags.js';
import { GATE_FLAGS, SOURCE_FLAGS, TREE_FLAGS } from '../../generate/command-options.js';
import { EXIT } from '../../errors.js';
import { pinTree } from '../../generate/pin.js';
import { describeIds } from '../../generate/security.js';
import type { PinNote, PinResult } from '../../generate/pin.js';
import { terminalSafe } from '../../core/text.js';
import { defineCommand } from '../command.js';
import { uncheckedGate, uncheckedLine } from '../gate.js';
import { openImageTree } from '../image-tree.js';
import type { CliIO } from '../io.js';

export const command = defineCommand({
  name: 'pin',
  summary: 'move name=version pins in apko files to the newest version on all their archs',
  usage: ['[FILE...] (--index SRC... | --config FILE | --server URL) [--all] [--check] [--lock]'],
  about: `Moves the name=version pins of apko files to the newest version every image building with the file
can install: present on each of the image's arches, in the image's own repositories (its include
chain's repositories and build_repositories, plus --repository-append). In apk order: the newest
stable version, or the newest of all when the pin is itself a prerelease. Only those scalars change:
comments, order and formatting stay. Constraints (>=, <, ~) are left to \`check\`.

Without FILE, every apko file under the directory (any folder, recognised by content). A named file
is still judged for every image of the tree that includes it.`,
  flags: {
    all: flag.switch({ names: ['--all'], doc: 'also pin bare package names.' }),
    check: flag.switch({ names: ['--check'], doc: 'change nothing; exit 1 when a pin would move (a CI gate).' }),
    lock: flag.switch({
      names: ['--lock'],
      doc: 'run `apko lock` for each image whose lock file the change made stale (apko on PATH).',
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
resolved, 2 a usage error, an index that could not be read, a server that is not an apk-indexer or a
file that cannot be written, 3 nothing of that but pins not checked: an image's repository had no data
(no index given for it, or none for one of its arches) and was not named with --allow-unchecked.`,
  run: async (args, io) => {
    const { values } = args;
    const { root, fallbackArches, tree, source } = await openImageTree(args, io);
    const failures = tree.failures;
    for (const failure of failures) io.stderr.write(`${terminalSafe(failure.message)}\n`);
    let stale = 0;
    let unresolved = failures.length;
    const results = await pinTree(tree, fileConstraints(tree, fallbackArches), source, { all: values.all });
    const changed = new Set<string>();
    const unchecked = uncheckedGroups(results);
    for (const result of results) {
      // Written before its moves are printed: a file that cannot be written stops pin with no move claimed for it.
      const original = tree.images.flatMap((image) => image.chain).find((f) => f.path === result.file)!.text;
      if (!values.check && result.text !== original)
        await writeFileAtomically(resolve(root, result.file), result.text, result.file);
      for (const c of result.changes) {
        if (values.json) continue;
        const fixes = c.fixes ? `  fixes ${describeIds(c.fixes)}` : '';
        io.stdout.write(
          `${terminalSafe(`${result.file}:${c.line}  ${c.name}  ${c.from ?? '(unpinned)'} -> ${c.to}${values.check ? '  (stale)' : ''}${fixes}`)}\n`,
        );
      }
      if (!values.json)
        for (const n of result.notes) {
          // Pins not checked for a repository without data are said once per repository (below), unless --verbose.
          if (n.kind === 'not-checked' && !values.verbose && unchecked.get(groupOf(n))!.length > 1) continue;
          io.stderr.write(`${terminalSafe(`${result.file}${n.line ? `:${n.line}` : ''}: ${n.name}: ${n.message}`)}\n`);
        }
      unresolved += result.notes.filter((n) => n.kind === 'problem').length;
      stale += result.changes.length;
      if (result.changes.length > 0) changed.add(result.file);
    }
    const gate = uncheckedGate(
      results.flatMap((r) => r.notes.flatMap((n) => (n.kind === 'not-checked' ? [n.repositories ?? []] : []))),
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
      const unreadable = failures.map((f) => f.message);
      io.stdout.write(`${JSON.stringify({ changed: !values.check, moves, notes, unreadable }, null, 2)}\n`);
      return status();
    }
    // A lock records the files' checksum: a moved pin in any file of an image's chain makes its lock stale.
    for (const image of tree.images) {
      if (!image.chain.some((f) => changed.has(f.path)) || lockState(image).kind === 'none') continue;
      const lock = relative(root, lockPathOf(image));
      if (values.check || !values.lock) {
        io.stderr.write(
          `${lock}: must be regenerated after these pins: apko lock ${image.file.path}${values.check ? '' : ' (or pin --lock)'}\n`,
        );
      } else {
        unresolved += runApkoLock(image.file.path, lock, root, values, io);
      }
    }
    if (!values.verbose)
      for (const [repositories, files] of unchecked) {
        if (files.length < 2) continue;
        const list = [...new Set(files)];
        const shown = list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
        io.stderr.write(
          `${terminalSafe(`not pinned: no data for ${repositories}: ${files.length} pins in ${shown} (--verbose lists them)`)}\n`,
        );
      }
    const verb = values.check ? 'stale' : 'moved';
    const files = `${results.length + failures.length} file(s)${failures.length ? ` (${failures.length} refused)` : ''}`;
    const notChecked = gate.failing + gate.allowed;
    const extra = [
      unresolved ? `${unresolved} problem(s)` : '',
      notChecked
        ? `${notChecked} not checked${gate.allowed ? ` (${gate.allowed} allowed by --allow-unchecked)` : ''}`
        : '',
    ].filter(Boolean);
    io.stdout.write(`${files}, ${stale} pin(s) ${verb}${extra.length ? `, ${extra.join(', ')}` : ''}\n`);
    if (gate.failing > 0) io.stderr.write(`${uncheckedLine(gate)}\n`);
    return status();
  },
});

/** `apko lock FILE` from the root, with the same appended repositories; 1 when it cannot run or fails. */
function runApkoLock(
  file: string,
  lock: string,
  root: string,
  values: { repositoryAppend: readonly string[]; buildRepositoryAppend: readonly string[] },
  io: CliIO,
): number {
  const args = [
    'lock',
    file,
    ...values.repositoryAppend.flatMap((r) => ['--repository-append', r]),
    ...values.buildRepositoryAppend.flatMap((r) => ['--build-repository-append', r]),
  ];
  const run = spawnSync('apko', args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (run.error) {
    io.stderr.write(
      `${lock}: must be regenerated, and apko could not be run (${(run.error as NodeJS.ErrnoException).code ?? run.error.message}): apko ${args.join(' ')}\n`,
    );
    return 1;
  }
  if (run.status !== 0) {
    io.stderr.write(
      `${lock}: apko ${args.join(' ')} failed (exit ${run.status}): ${run.stderr.trim().split('\n').at(-1) ?? ''}\n`,
    );
    return 1;
  }
  io.stdout.write(`${lock}: regenerated (apko ${args.join(' ')})\n`);
  return 0;
}

/** The pins not checked, by the repositories that had no data: each group's files, a file once per pin. */
function uncheckedGroups(results: readonly PinResult[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of results)
    for (const n of r.notes)
      if (n.kind === 'not-checked') groups.set(groupOf(n), [...(groups.get(groupOf(n)) ?? []), r.file]);
  return groups;
}

const groupOf = (n: PinNote) => (n.repositories ?? []).join(', ');
