import { findTreeFiles } from '../core/files.js';
import { ApkoFileError, describeFileProblem } from '../errors.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { sortApkArches } from './arch.js';
import { decodeApkoFile, displayPath, parseYaml, type ApkoFile } from './file.js';
import { resolveImage, type ResolvedImage, type ResolveOptions } from './image.js';
import { TOP_LEVEL_KEYS } from './keys.js';
import type { ImageRepository } from './repository.js';

/** Top-level keys that say a YAML file is something else: a melange recipe, CI, Kubernetes or Helm, compose. */
const OTHER_FORMATS = [
  'package',
  'pipeline',
  'subpackages',
  'jobs',
  'on',
  'stages',
  'steps',
  'apiVersion',
  'kind',
  'services',
  'workflow',
  'image',
  'variables',
  'version',
];

/**
 * Is this YAML an apko image configuration? Recognised by content, wherever it lives: a mapping of apko's keys
 * only, or one with `contents` (a mapping) or `include` (a string), no key of another format (melange's `package`/`pipeline`, CI's `jobs`/`on`/
 * `stages`, Kubernetes' `apiVersion`/`kind`), and most of its keys apko's. A misspelt key or two still counts, so
 * `apko build` refusing it is reported rather than the file being skipped; so does invalid YAML that starts a
 * `contents:`, `include:` or `archs:` section.
 */
export function looksLikeApko(text: string): boolean {
  const { doc } = parseYaml(text);
  // A file that is not valid YAML but starts an apko section is reported (apko refuses it), not skipped.
  if (doc.errors.length > 0)
    return (
      /^(contents|include|archs):/m.test(text) && !/^(package|pipeline|jobs|on|stages|apiVersion|kind):/m.test(text)
    );
  if (!isMap(doc.contents)) return false;
  const keys = doc.contents.items.flatMap((p) => (isScalar(p.key) ? [String(p.key.value)] : []));
  if (keys.some((k) => OTHER_FORMATS.includes(k))) return false;
  const contents = doc.get('contents', true);
  const include = doc.get('include', true);
  const known = keys.filter((k) => TOP_LEVEL_KEYS.includes(k)).length;
  if (keys.length > 0 && known === keys.length) return true;
  if (!isMap(contents) && !(isScalar(include) && typeof include.value === 'string')) return false;
  return known * 2 >= keys.length;
}

/** Every apko file under `root` (any folder; hidden and dependency folders skipped), as absolute paths, sorted. */
export function findApkoFiles(root: string): string[] {
  return findYamlFiles(root, looksLikeApko).map((f) => f.path);
}

/**
 * Every YAML file under `root` whose text `accept` takes, with its text, sorted by path: hidden folders and those
 * that hold dependencies, VCS data or build output are skipped (the one tree walk, src/core/files.ts); an unreadable
 * file or folder is passed over.
 */
export function findYamlFiles(root: string, accept: (text: string) => boolean): { path: string; text: string }[] {
  const found: { path: string; text: string }[] = [];
  findTreeFiles(root, (path, absolute) => {
    if (!/\.ya?ml$/.test(path)) return false;
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch {
      return false;
    }
    const taken = accept(text);
    if (taken) found.push({ path: absolute, text });
    return taken;
  });
  return found;
}

/** What the tree holds: every image apko would build, and the files commands work on. */
export interface ApkoTree {
  root: string;
  /**
   * The images: every apko file of the tree that no other one includes, and every named file that none includes.
   * A file included by others is built only through them, for their arches and from their repositories.
   */
  images: ResolvedImage[];
  /**
   * Every apko file of the tree resolved as `apko build FILE` builds it, bases others include too (each is an image
   * of its own when built alone), sorted by path; files apko refuses are left out (see failures).
   */
  configurations: ResolvedImage[];
  /** The files the command works on (shown paths): those named, else every apko file of the tree. */
  targets: string[];
  /** Files apko would refuse (bad YAML, unknown keys, a missing include), which stop the images holding them. */
  failures: ApkoFileError[];
}

export interface TreeOptions extends ResolveOptions {
  /** Files named on the command line (relative to the root); none: every apko file under the root. */
  named?: readonly string[];
}

/**
 * Reads the tree as apko would build it. Naming a file narrows what is reported or rewritten, not how it is
 * judged: a named base is still judged for every image of the tree that includes it.
 */
export function readApkoTree(options: TreeOptions): ApkoTree {
  const root = resolve(options.root);
  const named = (options.named ?? []).map((n) => resolve(root, n));
  const discovered = findApkoFiles(root);
  const all = [...new Set([...discovered, ...named])];
  const files = new Map<string, ApkoFile | ApkoFileError>();
  const read = (absolute: string): ApkoFile => {
    let file = files.get(absolute);
    if (file === undefined) {
      const shown = displayPath(absolute, root);
      try {
        file = decodeApkoFile(parseYaml(readFileSync(absolute, 'utf8')), shown, absolute);
      } catch (err) {
        file =
          err instanceof ApkoFileError ? err : new ApkoFileError(shown, `cannot read: ${describeFileProblem(err)}`);
      }
      files.set(absolute, file);
    }
    if (file instanceof ApkoFileError) throw file;
    return file;
  };
  const resolved = new Map<string, ResolvedImage | ApkoFileError>();
  for (const path of all) {
    try {
      resolved.set(path, resolveImage(path, { ...options, root }, read));
    } catch (err) {
      if (!(err instanceof ApkoFileError)) throw err;
      resolved.set(path, err);
    }
  }
  const included = new Set<string>();
  for (const r of resolved.values())
    if (!(r instanceof ApkoFileError)) for (const f of r.chain.slice(1)) included.add(f.absolutePath);
  const images = [...resolved.entries()]
    .filter(([path, r]) => !included.has(path) && !(r instanceof ApkoFileError))
    .map(([, r]) => r as ResolvedImage);
  const targetPaths = named.length > 0 ? named : all;
  const targets = targetPaths.map((p) => displayPath(p, root));
  // A file apko would refuse is reported when it is a target (named, or any file of the tree when none is).
  const failures = [
    ...new Map(
      targetPaths.flatMap((p) => {
        const r = resolved.get(p);
        return r instanceof ApkoFileError ? [[r.message, r] as const] : [];
      }),
    ).values(),
  ];
  const configurations = [...resolved.values()].filter((r): r is ResolvedImage => !(r instanceof ApkoFileError));
  return { root, images, configurations, targets, failures };
}

/** The APK arches an image builds for: its own (or inherited) `archs:`, else the fallback (`--arch`). */
export function imageArches(image: ResolvedImage, fallback: readonly string[] = []): string[] {
  return image.archs.length > 0 ? image.apkArches : [...fallback];
}

/**
 * What a pin written in one apko file must hold to: for every image that builds with the file (the file itself,
 * or each image including it), the arches it builds for and the repositories it resolves packages from
 * (its include chain's `build_repositories` and `repositories`, plus `--build-repository-append` and
 * `--repository-append`). A pin in the file is good only if its version is in each image's repositories on each
 * of that image's arches. Used by `pin`, `check` and `gen renovate`.
 */
export interface FileConstraint {
  /** The file, as shown (relative to the tree's root). */
  file: string;
  images: ImageConstraint[];
  /** The union of the images' arches (APK names), in apko's order. */
  arches: string[];
  /** The union of the images' repositories, each once. */
  repositories: ImageRepository[];
}

export interface ImageConstraint {
  /** The image's own file (shown path). */
  image: string;
  /** APK arch names; empty when the image names none and no `--arch` was given. */
  arches: string[];
  repositories: ImageRepository[];
}

/** Each apko file of the tree with what its pins must hold to (see FileConstraint); `fallbackArches` is `--arch`. */
export function fileConstraints(tree: ApkoTree, fallbackArches: readonly string[] = []): Map<string, FileConstraint> {
  const out = new Map<string, FileConstraint>();
  for (const image of tree.images) {
    const constraint: ImageConstraint = {
      image: image.file.path,
      arches: imageArches(image, fallbackArches),
      repositories: image.repositories,
    };
    for (const file of image.chain) {
      let entry = out.get(file.path);
      if (!entry) {
        entry = { file: file.path, images: [], arches: [], repositories: [] };
        out.set(file.path, entry);
      }
      entry.images.push(constraint);
      entry.arches = sortApkArches([...entry.arches, ...constraint.arches]);
      for (const repo of constraint.repositories) {
        if (!entry.repositories.some((r) => r.url === repo.url && r.tag === repo.tag)) entry.repositories.push(repo);
      }
    }
  }
  return out;
}
