import { resolve } from 'node:path';
import { apkArchesOf, TREE_ARGS, TREE_HELP } from '../../generate/command-options.js';
import { splitList } from '../../config/layer.js';
import { EXIT } from '../../errors.js';
import { readChanges } from '../../release/changes.js';
import { selectImages, type Selection } from '../../release/select.js';
import { parseCommandArgs, UsageError } from '../args.js';
import type { CliIO } from '../io.js';

export const HELP = `usage: apk-indexer images [FILE...] [--changed-since REV | --changed-files FILE] [--json]

Lists the images of the apko tree as CI publishes them: each image's file, include chain, arches,
build repositories and keyring, lock file, and the tags it publishes under. An image is a file no
other one includes. With FILE, only the images built with it (the file itself, every image that
includes it, every image installing what a melange recipe FILE builds).

  --changed-since REV   only the images a change since REV rebuilds (git diff from where REV and
                        HEAD meet, plus uncommitted and untracked files): a change to any file of
                        the image's chain, to its lock (FILE.lock.json), or to a melange recipe of
                        the tree building a package it installs (or one those depend on). The
                        null revision (0000...0, a first push) rebuilds every image.
  --changed-files FILE  the same from a list of changed paths, one per line, relative to the
                        directory (- reads stdin): for CI without git beside apk-indexer.
  --tag TEMPLATE        a tag to publish under, instead of the ladder (repeat): {{ladder}},
                        {{version}} (the pin without -rN), {{pin}}, {{major}}, {{minor}},
                        {{patch}}, {{name}}, {{package}}. Default: the ladder of the first
                        package's pinned version (1.16.7-r0: 1.16.7, 1.16, 1) and latest.
  --json                print {"images": [...]} instead of text.
${TREE_HELP}

Exit status: 0 listed (also when no image is affected), 2 a usage error, a revision git cannot
read, or a file apko refuses. 70 is a bug in apk-indexer; all statuses and error codes:
docs/errors.md.
`;

const OPTIONS = {
  ...TREE_ARGS,
  'changed-since': { type: 'string' },
  'changed-files': { type: 'string' },
  tag: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values['changed-since'] !== undefined && values['changed-files'] !== undefined)
    throw new UsageError('--changed-since and --changed-files both give the changes: pass one');
  const root = resolve(values.directory ?? '.');
  const selection = selectImages({
    root,
    files: positionals,
    includePaths: values['include-path'] ?? [],
    repositoryAppend: values['repository-append'] ?? [],
    buildRepositoryAppend: values['build-repository-append'] ?? [],
    fallbackArches: apkArchesOf(splitList(values.arch)),
    tagTemplates: values.tag ?? [],
    changed: await readChanges(values['changed-since'], values['changed-files'], root, io.stdin),
  });
  if (selection.failures.length > 0) {
    for (const f of selection.failures) io.stderr.write(`apk-indexer images: ${f.message}\n`);
    return EXIT.user;
  }
  io.stdout.write(values.json ? `${JSON.stringify(asJson(selection), null, 2)}\n` : asText(selection));
  return EXIT.ok;
}

function asJson(s: Selection) {
  return { images: s.selected.map(({ image, because }) => ({ ...image, changed: because })) };
}

function asText(s: Selection): string {
  if (s.selected.length === 0) return '';
  return s.selected
    .map(({ image: i, because }) => {
      const rows: [string, string][] = [
        ['pinned', i.version ? `${i.package}=${i.version}` : i.package ? `${i.package} (not pinned)` : 'nothing'],
        ['chain', i.chain.join(' < ')],
        ['arches', i.arches.join(', ') || '(every arch apko knows: no archs set)'],
        ['repositories', i.repositories.join(', ') || '(none)'],
        ['keyring', i.keyring.join(', ') || '(none)'],
        ['lock', i.lock ?? 'none'],
        ['recipes', i.recipes.join(', ') || 'none'],
      ];
      if (because.length > 0) rows.push(['changed', because.join(', ')]);
      return [`${i.file} -> ${i.name}: ${i.tags.join(' ')}`, ...rows.map(([k, v]) => `  ${k.padEnd(12)}  ${v}`)].join(
        '\n',
      );
    })
    .join('\n\n')
    .concat('\n');
}
