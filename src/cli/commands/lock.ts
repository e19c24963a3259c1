import { extname, resolve } from 'node:path';
import { writeFileAtomically } from '../../core/files.js';
import { flag } from '../../core/flags.js';
import { UsageError } from '../../errors.js';
import { APKO_LOCK_FLAGS } from '../../generate/command-options.js';
import { lockImage, readImageLock, updateLock, type LockContext, type LockUpdate } from '../../generate/lock-tree.js';
import { formatLockReport } from '../../generate/lock-report.js';
import { defaultHeadCache, HeadFetcher } from '../../lock/head-fetch.js';
import { newKeyringMemo } from '../../lock/keyring.js';
import { renderLock } from '../../lock/lock-file.js';
import { defineCommand } from '../command.js';
import { forImage, openImages } from '../resolve-images.js';

export const command = defineCommand({
  name: 'lock',
  summary: 'write the lock file apko lock writes, or keep every lock of the tree in step (--update, --check)',
  usage: [
    "FILE [--output FILE] [--arch a,b] [apko's -r -b -k --include-paths]",
    '--update [FILE...] [--json | --markdown]',
    '--check [FILE...]',
  ],
  about: `Writes the lock file \`apko lock FILE\` writes, byte for byte, without apko: FILE without its extension
plus .lock.json (or --output), holding the config's checksum (the file and its includes), the keyring
with each key's PEM, the repositories per arch and every package per arch in install order with the
byte ranges and checksums of its signature, control and data sections, read from the head of each
.apk (HTTP Range requests, or the local file), checked against the index's C: and kept in a cache by
checksum, so a package is fetched once. The arches must agree (see \`apk-indexer resolve --help\`).

It takes apko lock's flags with their meanings (-k keys verify the indexes and are not written into the
lock, as in apko). The indexes are read from the images' own repositories, as apko reads them (keys:
their keyring and -k); --index, --alias, --key and --config read them from elsewhere instead (a mirror,
a local copy, the service's configuration); --secdb adds a security database for --update's report.`,
  flags: {
    output: flag.one({
      names: ['--output'],
      value: 'FILE',
      doc: "where to write the lock of the one FILE, as apko's flag.",
      defaultText: 'FILE without its extension, plus .lock.json',
    }),
    update: flag.switch({
      names: ['--update'],
      doc: "re-resolve every image that has a lock (or the FILEs named) and rewrite its lock; prints per image and arch the packages that moved, the security IDs each move fixes (from the repositories' security databases, --secdb or --config) and the images to rebuild.",
    }),
    check: flag.switch({ names: ['--check'], doc: 'change nothing; exit 1 when a lock is stale (a CI gate).' }),
    json: flag.switch({ names: ['--json'], doc: "print --update's or --check's report as JSON." }),
    markdown: flag.switch({
      names: ['--markdown'],
      doc: "print --update's or --check's report as a merge request description.",
    }),
    cacheDir: flag.one({
      names: ['--cache-dir'],
      value: 'DIR',
      doc: 'where package heads are kept.',
      defaultText: '~/.cache/apk-indexer/apk-heads',
    }),
    ...APKO_LOCK_FLAGS,
  },
  exits: `0 done (or, with --check, every lock current), 1 a lock is stale (--check) or an image
cannot be installed, 2 a usage error, an index, package or key that could not be read, or a file that
cannot be written, 3 --check found no lock to check.`,
  run: async (args, io) => {
    const { values, positionals } = args;
    const maintain = values.update || values.check;
    if (values.update && values.check) throw new UsageError('--update and --check do not go together');
    if (!maintain && positionals.length === 0)
      throw new UsageError('name the apko FILE to lock (or --update, --check)');
    if (values.output !== undefined && (maintain || positionals.length !== 1))
      throw new UsageError('--output names the lock of one FILE');
    if ((values.json || values.markdown) && !maintain)
      throw new UsageError('--json and --markdown report --update and --check');
    if (values.json && values.markdown) throw new UsageError('--json or --markdown, not both');
    // Every file with a lock beside it, bases others include too: `apko lock FILE` was run on it, so it is built alone.
    const opened = await openImages(args, io, (tree) =>
      tree.configurations.filter((i) => readImageLock(i) !== undefined),
    );
    if (!('source' in opened)) {
      // A gate never passes on nothing checked: --check with no lock is exit 3, as check's and pin's gates are.
      io.stderr.write(
        `${values.check ? 'nothing checked: ' : ''}no image under ${opened.root} has a lock file (apk-indexer lock FILE writes one)\n`,
      );
      return values.check ? 3 : 0;
    }
    const ctx: LockContext = {
      ...opened,
      fetcher: new HeadFetcher({ cacheDir: resolve(opened.root, values.cacheDir ?? defaultHeadCache()) }),
      keyring: { memo: newKeyringMemo() },
    };
    if (!maintain) {
      for (const [i, image] of opened.images.entries()) {
        // config.name and the default output follow FILE as given, as apko's do.
        const file = positionals[i]!;
        let text: string;
        try {
          text = renderLock((await lockImage(image, ctx, undefined, file)).lock);
        } catch (err) {
          throw forImage(err, image.file.path);
        }
        const path = resolve(
          opened.root,
          values.output ?? `${file.slice(0, file.length - extname(file).length)}.lock.json`,
        );
        await writeFileAtomically(path, text, values.output ?? path);
        io.stdout.write(`${image.file.path}: wrote ${values.output ?? relativeTo(opened.root, path)}\n`);
      }
      return 0;
    }
    const updates: LockUpdate[] = [];
    for (const image of opened.images) {
      try {
        const update = await updateLock(image, ctx);
        if (update) updates.push(update);
      } catch (err) {
        throw forImage(err, image.file.path);
      }
    }
    if (values.update)
      for (const u of updates)
        if (u.changed) await writeFileAtomically(resolve(opened.root, u.lockFile), u.text, u.lockFile);
    const format = values.json ? 'json' : values.markdown ? 'markdown' : 'text';
    io.stdout.write(formatLockReport(updates, format, { check: values.check }));
    return values.check && updates.some((u) => u.changed) ? 1 : 0;
  },
});

function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
