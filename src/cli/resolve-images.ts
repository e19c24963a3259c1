import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveImage as loadImage, ApkoFileError, type ResolvedImage } from '../apko/image.js';
import { readApkoTree, type ApkoTree } from '../apko/tree.js';
import { toApkArch } from '../apko/arch.js';
import { splitList } from '../config/layer.js';
import { EXIT, UserError } from '../errors.js';
import { SOURCE_ARGS, sourceOptions } from '../generate/command-options.js';
import { hasSource, openVersionSource, type SourceOptions } from '../generate/open-source.js';
import type { VersionSource } from '../generate/version-source.js';
import { KeyringError } from '../lock/keyring.js';
import { PackageHeadError } from '../lock/head-fetch.js';
import { ArchDisagreementError, ArchUnsatisfiableError, UniverseCache } from '../resolve/arches.js';
import { parseCommandArgs, UsageError } from './args.js';
import type { CliIO } from './io.js';

/** apko's own flags, with its meanings, so a CI line can swap `apko lock` for `apk-indexer lock`. */
export const APKO_ARGS = {
  directory: { type: 'string', short: 'C' },
  arch: { type: 'string', multiple: true },
  'include-paths': { type: 'string', multiple: true },
  'repository-append': { type: 'string', multiple: true, short: 'r' },
  'build-repository-append': { type: 'string', multiple: true, short: 'b' },
  'keyring-append': { type: 'string', multiple: true, short: 'k' },
  'ignore-signatures': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...SOURCE_ARGS,
} as const;

export const APKO_HELP = `  -C, --directory DIR   apko's working directory: FILE, include:, keys and local repositories are
                        read against it (default: the working directory).
  --arch a,b            the arches to resolve for (apko or APK names); default: the file's archs:.
  --include-paths DIR   also resolve include: against DIR (apko's --include-paths).
  -r, --repository-append REPO        repositories every image also resolves from, as apko's flags.
  -b, --build-repository-append REPO
  -k, --keyring-append KEY            more keys to verify indexes with (not written into a lock).
  --ignore-signatures   read the indexes without verifying their signatures.
  The indexes are read from the images' own repositories, as apko reads them (keys: their keyring).
  --index SRC / --alias URL / --key KEY / --config FILE read them from elsewhere instead (a mirror,
  a local copy, the service's configuration); --secdb SRC adds a security database.`;

type Values = ReturnType<typeof parseCommandArgs<typeof APKO_ARGS>>['values'];

export interface OpenedImages {
  root: string;
  tree: ApkoTree | undefined;
  images: ResolvedImage[];
  source: VersionSource;
  universes: UniverseCache;
  arches: string[];
}

/**
 * Reads the images a command works on: the FILEs named (each an image of its own, as apko takes it, even when
 * others include it), or with none every image of the tree (`all`). Then opens their repositories' indexes with
 * dependency data: by default the repositories the images name, verified with their keyring and `-k` keys.
 */
export async function openImages(
  values: Values,
  tokens: Parameters<typeof sourceOptions>[1],
  files: readonly string[],
  io: CliIO,
  all: (tree: ApkoTree) => ResolvedImage[],
): Promise<OpenedImages> {
  const root = resolve(values.directory ?? '.');
  const resolveOptions = {
    root,
    includePaths: values['include-paths'] ?? [],
    repositoryAppend: values['repository-append'] ?? [],
    buildRepositoryAppend: values['build-repository-append'] ?? [],
  };
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
  }
  const arches = splitList(values.arch);
  for (const a of arches) if (!toApkArch(a)) throw new UsageError(`--arch ${a}: apko does not know this arch`);
  const apkArches = arches.map((a) => toApkArch(a)!);
  const given = sourceOptions(values, tokens);
  if (given.server !== undefined)
    throw new UsageError('--server holds no dependency data; read the indexes (the default, or --index/--config)');
  const options: SourceOptions = hasSource(given) ? given : { ...fromImages(images, values, root), secdb: given.secdb };
  const source = await openVersionSource(
    options,
    (urls) => {
      const wanted = images
        .filter((i) => i.repositories.some((r) => urls.includes(r.url)))
        .flatMap((i) => (apkArches.length > 0 ? apkArches : i.apkArches.length > 0 ? i.apkArches : ['x86_64']));
      return wanted.length > 0 ? [...new Set(wanted)] : ['x86_64'];
    },
    // --ignore-signatures asked for unverified indexes: no warning for each.
    (m) =>
      values['ignore-signatures'] && /signature not verified/.test(m) ? undefined : io.stderr.write(`warning: ${m}\n`),
    process.env,
    true,
  );
  return { root, tree, images, source, universes: new UniverseCache(), arches };
}

/** The images' own repositories (those that exist) and keys, as apko reads them. */
function fromImages(images: readonly ResolvedImage[], values: Values, root: string): SourceOptions {
  const urls = new Set<string>();
  for (const image of images) for (const repo of image.repositories) if (!isAbsentLocal(repo.url)) urls.add(repo.url);
  const keys = values['ignore-signatures']
    ? []
    : [
        ...new Set([
          ...images.flatMap((i) => i.keyring),
          // apko reads -k against its working directory.
          ...(values['keyring-append'] ?? []).map((k) => (/^[a-z]+:\/\//i.test(k) ? k : resolve(root, k))),
        ]),
      ];
  if (urls.size === 0) throw new UsageError('the images build from no repository that exists here');
  return { indexes: [...urls].map((url) => ({ url, aliases: [] })), keys, config: undefined, server: undefined };
}

function isAbsentLocal(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  try {
    return !existsSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/** Resolution and package failures as the one-line errors main prints: unsatisfiable is a finding (1). */
export function asUserError(err: unknown, image: string): unknown {
  if (err instanceof ArchUnsatisfiableError || err instanceof ArchDisagreementError)
    return new UserError('resolve', `${image}: ${err.message}`, { exit: EXIT.found, cause: err });
  if (err instanceof PackageHeadError || err instanceof KeyringError)
    return new UserError('package', `${image}: ${err.message}`, { cause: err });
  if (err instanceof ApkoFileError) return err;
  return err;
}
