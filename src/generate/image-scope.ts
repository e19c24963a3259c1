import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImageRepository } from '../apko/repository.js';
import type { ImageConstraint } from '../apko/tree.js';
import { isValidVersion } from '../index/version.js';
import { heldRepositories, type VersionSource } from './version-source.js';

/** What one package entry of one image may be judged from: the image's own repositories, on its own arches. */
export interface EntryScope {
  image: string;
  arches: string[];
  /** Held repository names to ask. */
  held: string[];
  /** The image's repositories no index was given for: nothing is judged while one is missing. */
  missing: ImageRepository[];
  /** Arches of the image some of its repositories has no index for. */
  unloaded: string[];
  /** The image's repositories that lack an index for one of those arches. */
  incomplete: ImageRepository[];
}

/**
 * The repositories an entry installs from, as apko filters them: untagged repositories for every entry, and a
 * `@tag URL` repository only for entries written `name@tag`. A local repository that does not exist on disk is
 * skipped, as apko skips it (a `./packages` folder melange has not built yet); any other repository without
 * data makes the entry "not checked", never judged from another repository.
 */
export function entryScope(source: VersionSource, image: ImageConstraint, tag: string | undefined): EntryScope {
  const repositories = image.repositories.filter((r) => r.tag === undefined || r.tag === tag);
  const held: string[] = [];
  const missing: ImageRepository[] = [];
  const incomplete: ImageRepository[] = [];
  const unloaded = new Set<string>();
  for (const repo of repositories) {
    // Every held repository standing for this URL: two bare indexes given with one --alias are its two arches.
    const matches = heldRepositories(source, repo.url);
    if (matches.length > 0) {
      for (const h of matches) if (!held.includes(h.name)) held.push(h.name);
      const lacking = image.arches.filter((arch) => !matches.some((h) => h.arches.includes(arch)));
      for (const arch of lacking) unloaded.add(arch);
      if (lacking.length > 0) incomplete.push(repo);
    } else if (!isAbsentLocal(repo)) missing.push(repo);
  }
  return { image: image.image, arches: image.arches, held, missing, unloaded: [...unloaded], incomplete };
}

/**
 * The image's repositories with no data for it (no index at all, or none for one of its arches): its entries are
 * "not checked", which fails a gate unless the user names the repository with --allow-unchecked.
 */
export function withoutData(scope: EntryScope): ImageRepository[] {
  return [...scope.missing, ...scope.incomplete];
}

function isAbsentLocal(repo: ImageRepository): boolean {
  if (!repo.url.startsWith('file:')) return false;
  try {
    return !existsSync(fileURLToPath(repo.url));
  } catch {
    return false;
  }
}

/**
 * Why an entry of this scope is not judged, or undefined when it can be. `image` names the image (or images: one
 * entry of a base file may be unjudged for many that include it, said once).
 */
export function notJudged(scope: EntryScope, image = scope.image): string | undefined {
  if (scope.missing.length > 0)
    return `not checked: repository ${scope.missing.map((r) => r.written).join(', ')} not available (for ${image}; pass its index, or --alias)`;
  if (scope.held.length === 0) return `not checked: ${image} builds from no repository`;
  if (scope.arches.length === 0) return `not checked: ${image} names no archs (pass --arch)`;
  if (scope.unloaded.length > 0)
    return `not checked: no index for ${scope.unloaded.join(', ')} in the repositories of ${image}`;
  return undefined;
}

/** The versions of a name in a scope: per arch, and on every arch at once; undefined when none of its repositories knows it. */
export interface ScopeVersions {
  perArch: { arch: string; versions: string[] }[];
  common: string[];
}

export async function scopeVersions(
  source: VersionSource,
  scope: EntryScope,
  name: string,
): Promise<ScopeVersions | undefined> {
  const perArch = await Promise.all(
    scope.arches.map(async (arch) => ({ arch, versions: await source.versions(name, [arch], scope.held) })),
  );
  if (perArch.every((a) => a.versions === undefined)) return undefined;
  const common = (await source.versions(name, scope.arches, scope.held)) ?? [];
  // Whatever an index or a server holds, only an APK version is ever compared, proposed or written into a file:
  // `1.0\x1b[2J-r0` is no version (apk refuses it), and a YAML file is no place for a terminal's commands.
  return {
    perArch: perArch.map((a) => ({ arch: a.arch, versions: (a.versions ?? []).filter(isValidVersion) })),
    common: common.filter(isValidVersion),
  };
}

/**
 * Where a version is missing, in one wording for `pin` and `check`: "not on aarch64" when some arches have it,
 * "exists on none of x86_64, aarch64" when none does; undefined when every arch has it.
 */
export function versionAbsence(versions: ScopeVersions, version: string): string | undefined {
  const absent = versions.perArch.filter((a) => !a.versions.includes(version)).map((a) => a.arch);
  if (absent.length === 0) return undefined;
  if (absent.length === versions.perArch.length) return `${version} exists on none of ${absent.join(', ')}`;
  return `${version} is not on ${absent.join(', ')}`;
}
