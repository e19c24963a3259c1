import { resolveImage } from '../../generate/lock-tree.js';
import { APKO_LOCK_FLAGS } from '../../generate/command-options.js';
import { flag } from '../../core/flags.js';
import { UsageError } from '../../errors.js';
import { whyInstalled, worldOf, type Resolved } from '../../resolve/arches.js';
import { defineCommand } from '../command.js';
import { forImage, openImages } from '../resolve-images.js';

export const command = defineCommand({
  name: 'resolve',
  summary: 'print what each image installs per arch, in install order, as apko resolves it',
  usage: ['[FILE...] [--arch a,b] [--json] [--why NAME]'],
  about: `Prints what each image installs, per arch, in install order (dependencies before what needs them):
name, version and the repository it comes from, as apko resolves it for \`apko build\` and \`apko lock\`
(its solver: the newest satisfying version, provides with so:/cmd:/pc: and virtuals, provider
priority, !conflicts, @tag repositories). The arches are resolved each alone, as apko lock does; when
they disagree (an arch is ahead), again with only versions present on every arch, as apko build does;
when even that fails the image is refused.

Without FILE, every image of the tree (the apko files no other one includes). The indexes are read from
the images' own repositories, as apko reads them (keys: their keyring and -k); --index, --alias, --key
and --config read them from elsewhere instead (a mirror, a local copy, the service's configuration).`,
  flags: {
    why: flag.one({
      names: ['--why'],
      value: 'NAME',
      doc: 'print the chain of packages that pulled NAME in, from the package list (exit 1 when no image installs it).',
    }),
    json: flag.switch({ names: ['--json'], doc: 'print `[{image, arch, packages: [{name, version, repository}]}]`.' }),
    ...APKO_LOCK_FLAGS,
  },
  exits: `0 done, 1 an image cannot be installed (the line names the package, the arch and what required
it) or, with --why, no image installs NAME, 2 a usage error or an index that could not be read.`,
  run: async (args, io) => {
    const { values } = args;
    const opened = await openImages(args, io, (tree) => tree.images);
    if (!('source' in opened)) throw new UsageError(`no FILE given and no apko image under ${opened.root}`);
    const results: { image: string; world: string[]; resolved: Resolved }[] = [];
    for (const image of opened.images) {
      try {
        results.push({
          image: image.file.path,
          world: worldOf(image.packages.map((p) => p.entry)),
          resolved: resolveImage(image, opened),
        });
      } catch (err) {
        throw forImage(err, image.file.path);
      }
    }
    for (const r of results)
      if (r.resolved.how === 'common')
        io.stderr.write(
          `${r.image}: the arches disagree when each is resolved alone (an arch is ahead); resolved with only versions present on every arch, as apko build does\n`,
        );
    if (values.why !== undefined) {
      let found = false;
      for (const r of results)
        for (const a of r.resolved.arches)
          for (const chain of whyInstalled(a.packages, r.world, values.why)) {
            found = true;
            io.stdout.write(`${r.image} ${a.arch}: ${chain.join(' <- ')}\n`);
          }
      if (!found) io.stderr.write(`${values.why} is installed by none of the images\n`);
      return found ? 0 : 1;
    }
    if (values.json) {
      const out = results.flatMap((r) =>
        r.resolved.arches.map((a) => ({
          image: r.image,
          arch: a.arch,
          packages: a.packages.map((p) => ({
            name: p.record.name,
            version: p.record.version,
            repository: repositoryOf(p.repository.uri),
          })),
        })),
      );
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    for (const r of results) {
      for (const a of r.resolved.arches) {
        io.stdout.write(`${r.image} ${a.arch}: ${a.packages.length} package(s)\n`);
        const width = Math.max(0, ...a.packages.map((p) => p.record.name.length));
        const vwidth = Math.max(0, ...a.packages.map((p) => p.record.version.length));
        for (const p of a.packages)
          io.stdout.write(
            `  ${p.record.name.padEnd(width)}  ${p.record.version.padEnd(vwidth)}  ${repositoryOf(p.repository.uri)}${p.repository.tag ? ` (@${p.repository.tag})` : ''}\n`,
          );
      }
    }
    return 0;
  },
});

/** The repository line a package comes from: its URI without the arch. */
function repositoryOf(uri: string): string {
  return uri.slice(0, uri.lastIndexOf('/'));
}
