import { resolve } from 'node:path';
import { flag } from '../../core/flags.js';
import { EXIT, UsageError } from '../../errors.js';
import { apkArchesOf, APKO_TREE_FLAGS } from '../../generate/command-options.js';
import { readChanges } from '../../release/changes.js';
import { selectImages, type Selection } from '../../release/select.js';
import { defineCommand } from '../command.js';

export const command = defineCommand({
  name: 'images',
  summary: 'list the images of the apko tree, their chains, arches, locks and tags; --changed-since REV',
  usage: ['[FILE...] [--changed-since REV | --changed-files FILE] [--tag TEMPLATE...] [--json]'],
  about: `Lists the images of the apko tree as CI publishes them: each image's file, include chain, arches, build
repositories and keyring, lock file, and the tags it publishes under. With FILE, only the images built with it (the
file itself, every image that includes it, every image installing what a melange recipe FILE builds).`,
  flags: {
    changedSince: flag.one({
      names: ['--changed-since'],
      value: 'REV',
      doc: `only the images a change since REV rebuilds (git diff from where REV and HEAD meet, plus uncommitted and
untracked files): a change to any file of the image's chain, to its lock (FILE.lock.json), or to a melange recipe of
the tree building a package it installs (or one those depend on). The null revision (0000...0, a first push)
rebuilds every image.`,
    }),
    changedFiles: flag.one({
      names: ['--changed-files'],
      value: 'FILE',
      doc: 'the same from a list of changed paths, one per line, relative to the directory (- reads stdin): for CI without git beside apk-indexer.',
    }),
    tag: flag.each({
      names: ['--tag'],
      value: 'TEMPLATE',
      doc: `a tag to publish under, instead of the ladder (repeat): {{ladder}}, {{version}} (the pin without -rN),
{{pin}}, {{major}}, {{minor}}, {{patch}}, {{name}}, {{package}}.`,
      defaultText: "the ladder of the first package's pinned version (1.16.7-r0: 1.16.7, 1.16, 1) and latest",
    }),
    json: flag.switch({ names: ['--json'], doc: 'print {"images": [...]} instead of text.' }),
    ...APKO_TREE_FLAGS,
  },
  exits: `0 listed (also when no image is affected), 2 a usage error, a revision git cannot read, or a file apko
refuses.`,
  run: async ({ values, positionals }, io) => {
    if (values.changedSince !== undefined && values.changedFiles !== undefined)
      throw new UsageError('--changed-since and --changed-files both give the changes: pass one');
    const root = resolve(values.directory ?? '.');
    const selection = selectImages({
      root,
      files: positionals,
      includePaths: values.includePath,
      repositoryAppend: values.repositoryAppend,
      buildRepositoryAppend: values.buildRepositoryAppend,
      fallbackArches: apkArchesOf(values.arch),
      tagTemplates: values.tag,
      changed: await readChanges(values.changedSince, values.changedFiles, root, io.stdin),
    });
    if (selection.failures.length > 0) {
      for (const f of selection.failures) io.stderr.write(`apk-indexer images: ${f.message}\n`);
      return EXIT.user;
    }
    io.stdout.write(values.json ? `${JSON.stringify(asJson(selection), null, 2)}\n` : asText(selection));
    return EXIT.ok;
  },
});

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
