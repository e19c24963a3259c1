import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SOURCE_HELP, TREE_HELP } from '../../generate/command-options.js';
import { pinImages } from '../../generate/pin.js';
import { describeIds } from '../../generate/security.js';
import { runOnImageTree } from '../image-tree.js';
import type { CliIO } from '../io.js';

const HELP = `usage: apk-indexer pin [FILE...] (--index SRC... | --config FILE | --server URL) [--all] [--check]

Moves the name=version pins of apko files to the newest version present on every arch the file
(with its includes) builds for, in apk order: the newest stable version, or the newest of all when
the pin is itself a prerelease. Only those scalars change: comments, order and formatting stay.
Without FILE, every apko file of the tree (YAML with contents: or include:; files only
included by others are judged through their includers).

  --all            also pin bare package names.
  --check          change nothing; exit 1 when a pin would move (a CI gate).
  --json           print the moves (with the security IDs each fixes) and notes as JSON.
${SOURCE_HELP}
${TREE_HELP}

Exit status: 0 done (or, with --check, nothing stale), 1 a pin is stale (--check) or could not be
resolved, 2 a usage error or an index that could not be read.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const options = { all: { type: 'boolean' }, check: { type: 'boolean' }, json: { type: 'boolean' } } as const;
  return runOnImageTree('pin', HELP, options, args, io, async ({ values, root, fallbackArches, images, failures, source }) => {
    for (const failure of failures) io.stderr.write(`${failure.message}\n`);
    let stale = 0;
    let unresolved = failures.length;
    const results = await pinImages(images, source, { all: values.all ?? false, fallbackArches });
    for (const result of results) {
      for (const c of result.changes) {
        if (values.json) continue;
        const fixes = c.fixes ? `  fixes ${describeIds(c.fixes)}` : '';
        io.stdout.write(`${result.file}:${c.line}  ${c.name}  ${c.from ?? '(unpinned)'} -> ${c.to}${values.check ? '  (stale)' : ''}${fixes}\n`);
      }
      if (!values.json) for (const n of result.notes) io.stderr.write(`${result.file}${n.line ? `:${n.line}` : ''}: ${n.name}: ${n.message}\n`);
      unresolved += result.notes.filter((n) => n.error).length;
      stale += result.changes.length;
      const original = images.find((image) => image.file.path === result.file)!.file.text;
      if (!values.check && result.text !== original) await writeAtomically(resolve(root, result.file), result.text);
    }
    if (values.json) {
      const moves = results.flatMap((r) => r.changes.map((c) => ({ file: r.file, line: c.line, name: c.name, from: c.from ?? null, to: c.to, fixes: c.fixes ?? [] })));
      const notes = results.flatMap((r) => r.notes.map((n) => ({ file: r.file, line: n.line, name: n.name, message: n.message, error: n.error })));
      io.stdout.write(`${JSON.stringify({ changed: !values.check, moves, notes, unreadable: failures.map((f) => f.message) }, null, 2)}\n`);
      return (values.check && stale > 0) || unresolved > 0 ? 1 : 0;
    }
    const verb = values.check ? 'stale' : 'moved';
    const files = `${results.length + failures.length} file(s)${failures.length ? ` (${failures.length} unreadable)` : ''}`;
    io.stdout.write(`${files}, ${stale} pin(s) ${verb}${unresolved ? `, ${unresolved} problem(s)` : ''}\n`);
    return (values.check && stale > 0) || unresolved > 0 ? 1 : 0;
  });
}

/** A crash mid-write must not leave a half-written image file behind. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.apk-indexer-${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
