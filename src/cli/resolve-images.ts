import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveImage as loadImage, type ResolvedImage } from '../apko/image.js';
import { readApkoTree, type ApkoTree } from '../apko/tree.js';
import type { GivenFlag } from '../core/flags.js';
import { UsageError, UserError } from '../errors.js';
import { apkArchesOf, sourceOptions, type ApkoLockValues } from '../generate/command-options.js';
import { isAbsentLocal } from '../generate/lock-tree.js';
import { hasSource, openVersionSource, type SourceOptions } from '../generate/open-source.js';
import type { VersionSource } from '../generate/version-source.js';
import { UniverseCache } from '../resolve/arches.js';
import type { CliIO } from './io.js';

/** The parsed command line of `resolve` and `lock` (APKO_LOCK_FLAGS and flags of their own). */
export interface LockArgs {
  values: ApkoLockValues;
  positionals: readonly string[];
  given: ReadonlyArray<GivenFlag<string>>;
}

export interface OpenedImages {
  root: string;
  tree: ApkoTree | undefined;
  images: ResolvedImage[];
  source: VersionSource;
  universes: UniverseCache;
  /** `--arch`, as APK names. */
  arches: string[];
}

/**
 * Reads the images a command works on: the FILEs named (each an image of its own, as apko takes it, even when
 * others include it), or with none every image of the tree (`all`). Then opens their repositories' indexes with
 * dependency data: by default the repositories the images name, verified with their keyring and `-k` keys.
 * No FILE named and no image of the tree picked: `{ root, images: [] }`, nothing opened, for the command to say so.
 */
export async function openImages(
  args: LockArgs,
  io: CliIO,
  all: (tree: ApkoTree) => ResolvedImage[],
): Promise<OpenedImages | { root: string; images: [] }> {
  const { values } = args;
  const files = args.positionals;
  const root = resolve(values.directory ?? '.');
  const resolveOptions = {
    root,
    includePaths: values.includePath,
    repositoryAppend: values.repositoryAppend,
    buildRepositoryAppend: values.buildRepositoryAppend,
  };
  const arches = apkArchesOf(values.arch);
  const given = sourceOptions({ ...values, wait: undefined }, args.given);
  if (given.server !== undefined)
    throw new UsageError('--server holds no dependency data; read the indexes (the default, or --index/--config)');
  let tree: ApkoTree | undefined;
  let images: ResolvedImage[];
  if (files.length > 0) {
    // apko looks the configuration up as it looks up includes: as given, then under each include path.
    images = files.map((f) => {
      const found = [f, ...resolveOptions.includePaths.map((p) => join(p, f))].find((c) =>
        existsSync(resolve(root, c)),
      );
      return loadImage(found ?? f, resolveOptions);
    });
  } else {
    tree = readApkoTree(resolveOptions);
    for (const failure of tree.failures) io.stderr.write(`${failure.message}\n`);
    images = all(tree);
    if (images.length === 0) return { root, images: [] };
  }
  const options: SourceOptions = hasSource(given) ? given : { ...fromImages(images, values, root), secdb: given.secdb };
  const source = await openVersionSource(
    options,
    (urls) => {
      const wanted = images
        .filter((i) => i.repositories.some((r) => urls.includes(r.url)))
        .flatMap((i) => (arches.length > 0 ? arches : i.apkArches.length > 0 ? i.apkArches : ['x86_64']));
      return wanted.length > 0 ? [...new Set(wanted)] : ['x86_64'];
    },
    // --ignore-signatures asked for unverified indexes: no warning for each.
    (m) =>
      values.ignoreSignatures && /signature not verified/.test(m) ? undefined : io.stderr.write(`warning: ${m}\n`),
    process.env,
    true,
  );
  return { root, tree, images, source, universes: new UniverseCache(), arches };
}

/** The images' own repositories (those that exist) and keys, as apko reads them. */
function fromImages(images: readonly ResolvedImage[], values: ApkoLockValues, root: string): SourceOptions {
  const urls = new Set<string>();
  for (const image of images) for (const repo of image.repositories) if (!isAbsentLocal(repo.url)) urls.add(repo.url);
  const keys = values.ignoreSignatures
    ? []
    : [
        ...new Set([
          ...images.flatMap((i) => i.keyring),
          // apko reads -k against its working directory.
          ...values.keyringAppend.map((k) => (/^[a-z]+:\/\//i.test(k) ? k : resolve(root, k))),
        ]),
      ];
  if (urls.size === 0) throw new UsageError('the images build from no repository that exists here');
  return { indexes: [...urls].map((url) => ({ url, aliases: [] })), keys, config: undefined, server: undefined };
}

/**
 * A resolution or package failure (codes `resolve`, `package`) as main prints it for one image: the image's file
 * first, the code and exit status kept. Other errors name their file already.
 */
export function forImage(err: unknown, image: string): unknown {
  if (err instanceof UserError && (err.code === 'resolve' || err.code === 'package'))
    return new UserError(err.code, `${image}: ${err.message}`, { exit: err.exit, cause: err });
  return err;
}
