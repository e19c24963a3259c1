import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { displayPath } from '../apko/file.js';
import { imageArches, type ApkoTree } from '../apko/tree.js';
import type { ResolvedImage } from '../apko/image.js';
import { lockPathOf } from '../apko/lock.js';
import { isPin } from '../apko/package-spec.js';
import { ApkoFileError } from '../errors.js';
import { recipesFor, type MelangeRecipe } from './recipes.js';
import { imageTags, isOciTag } from './tags.js';

/** One image of the tree as CI publishes it: where it comes from, what it is built for, and its tags. */
export interface ReleaseImage {
  /** The image's file (shown path, relative to the root). */
  file: string;
  /** The repository name it is published under: the file's name without `.yaml`/`.yml` (and `.apko`). */
  name: string;
  /** The file, then what it includes, and so on. */
  chain: string[];
  /** APK arch names; empty when neither the files nor `--arch` name any (apko then builds every arch it knows). */
  arches: string[];
  /** What apko resolves packages from (the chain's `build_repositories` and `repositories`, then `-b`, `-r`). */
  repositories: string[];
  keyring: string[];
  /** `FILE.lock.json` when it exists (CI passes it as `--lockfile`); null otherwise. */
  lock: string | null;
  /** The first package written in the image's file (else in the nearest file of its chain) and its pin. */
  package: string | null;
  version: string | null;
  tags: string[];
  /** The melange recipes of the tree building what it installs (shown paths). */
  recipes: string[];
  /** Every file a change to which rebuilds the image: the chain, the lock (present or not), the recipes. */
  inputs: string[];
}

export interface ReleaseOptions {
  /** `--arch`: arches for images whose files name none. */
  fallbackArches: readonly string[];
  /** `--tag` templates; none: the ladder and `latest`. */
  tagTemplates: readonly string[];
  recipes: readonly MelangeRecipe[];
}

/**
 * Every image of the tree, as CI publishes it, sorted by file: every apko file that installs a package, bases others
 * include too (as the Justfile's `images` builds every file: `bootc.yaml` is the bootable base image and the base of
 * its flavours). A file that installs nothing (repositories and keys only) is no image.
 */
export function releaseImages(tree: ApkoTree, options: ReleaseOptions): ReleaseImage[] {
  const images = tree.configurations
    .filter((image) => image.packages.some((p) => p.spec && !p.spec.conflict))
    .map((image) => releaseImage(image, tree.root, options))
    .sort((a, b) => (a.file < b.file ? -1 : 1));
  const byName = new Map<string, string>();
  for (const image of images) {
    const other = byName.get(image.name);
    if (other !== undefined)
      throw new ApkoFileError(image.file, `publishes to the same name ${image.name} as ${other}; rename one of them`);
    byName.set(image.name, image.file);
  }
  return images;
}

function releaseImage(image: ResolvedImage, root: string, options: ReleaseOptions): ReleaseImage {
  const file = image.file.path;
  const name = imageName(image.file.absolutePath);
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(name))
    throw new ApkoFileError(file, `${name} is not a valid image name (lower-case letters, digits, ".", "_", "-")`);
  const first = firstPackage(image);
  const pin = first && isPin(first) ? first.version : undefined;
  const tags = imageTags({ name, package: first?.name, pin }, options.tagTemplates);
  if (tags.length === 0)
    throw new ApkoFileError(
      file,
      `no tag: ${first ? `${first.name} is not pinned` : 'it installs no package'}, and every --tag needs its version`,
    );
  const invalid = tags.find((t) => !isOciTag(t));
  if (invalid !== undefined) throw new ApkoFileError(file, `tag ${JSON.stringify(invalid)} is not a valid OCI tag`);
  const lockPath = lockPathOf(image);
  const installs = image.packages.flatMap((p) => (p.spec && !p.spec.conflict ? [p.spec.name] : []));
  const recipes = recipesFor(installs, options.recipes).map((r) => displayPath(r.path, root));
  const chain = image.chain.map((f) => f.path);
  const lock = displayPath(lockPath, root);
  return {
    file,
    name,
    chain,
    arches: imageArches(image, options.fallbackArches),
    repositories: image.repositories.map((r) => r.written),
    keyring: image.keyring.map((k) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(k) ? k : displayPath(k, root))),
    lock: existsSync(lockPath) ? lock : null,
    package: first?.name ?? null,
    version: pin ?? null,
    tags,
    recipes,
    inputs: [...new Set([...chain, lock, ...recipes])],
  };
}

/** `apko/bootc-host.yaml` -> `bootc-host`; `images/pi.apko.yaml` -> `pi`. */
export function imageName(path: string): string {
  const file = basename(path, extname(path));
  return file.replace(/\.apko$/, '').toLowerCase();
}

/** The first package entry written in the image's own file, else in the nearest file of its chain that lists any. */
function firstPackage(image: ResolvedImage) {
  for (const file of image.chain) {
    const spec = file.packages.find((p) => p.spec && !p.spec.conflict)?.spec;
    if (spec) return spec;
  }
  return undefined;
}

/**
 * The images a set of changed files rebuilds, each with the changed files that reach it (shown paths). A change to
 * any file of an image's chain, to its lock, or to a recipe building what it installs rebuilds it.
 */
export function affectedImages(
  images: readonly ReleaseImage[],
  changed: readonly string[],
  root: string,
): { image: ReleaseImage; because: string[] }[] {
  const shown = new Set(changed.map((p) => displayPath(p, root)));
  return images.flatMap((image) => {
    const because = image.inputs.filter((input) => shown.has(input));
    return because.length > 0 ? [{ image, because }] : [];
  });
}
