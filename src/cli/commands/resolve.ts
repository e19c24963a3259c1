import { resolveImage } from '../../generate/lock-tree.js';
import { whyInstalled, worldOf, type Resolved } from '../../resolve/arches.js';
import { parseCommandArgs, UsageError } from '../args.js';
import type { CliIO } from '../io.js';
import { APKO_ARGS, APKO_HELP, asUserError, openImages } from '../resolve-images.js';

export const HELP = `usage: apk-indexer resolve [FILE...] [--arch a,b] [--json] [--why NAME]

Prints what each image installs, per arch, in install order (dependencies before what needs them):
name, version and the repository it comes from, as apko resolves it for \`apko build\` and \`apko lock\`
(its solver: the newest satisfying version, provides with so:/cmd:/pc: and virtuals, provider
priority, !conflicts, @tag repositories). The arches are resolved each alone, as apko lock does; when
they disagree (an arch is ahead), again with only versions present on every arch, as apko build does;
when even that fails the image is refused.
Without FILE, every image of the tree (the apko files no other one includes).

  --why NAME   print the chain of packages that pulled NAME in, from the package list.
  --json       print [{image, arch, packages: [{name, version, repository}]}].
${APKO_HELP}

Exit status: 0 done, 1 an image cannot be installed (the line names the package, the arch and what
required it), 2 a usage error or an index that could not be read. 70 is a bug in apk-indexer.
`;

const OPTIONS = { ...APKO_ARGS, json: { type: 'boolean' }, why: { type: 'string' } } as const;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals, tokens } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const opened = await openImages(values, tokens, positionals, io, (tree) => tree.images);
  if (opened.images.length === 0) throw new UsageError(`no FILE given and no apko image under ${opened.root}`);
  const results: { image: string; world: string[]; resolved: Resolved }[] = [];
  for (const image of opened.images) {
    try {
      results.push({
        image: image.file.path,
        world: worldOf(image.packages.map((p) => p.entry)),
        resolved: resolveImage(image, { ...opened, root: opened.root }),
      });
    } catch (err) {
      throw asUserError(err, image.file.path);
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
}

/** The repository line a package comes from: its URI without the arch. */
function repositoryOf(uri: string): string {
  return uri.slice(0, uri.lastIndexOf('/'));
}
