import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where a repository of an image comes from. */
export type RepositoryOrigin =
  | 'repositories'
  | 'build_repositories'
  | '--repository-append'
  | '--build-repository-append'
  /** A Dockerfile's base image that is not an apko image of the tree: the repositories its apk reads. */
  | 'base image';

/** One APK repository an image builds from, as apko reads the line (`URL` or `@tag URL`). */
export interface ImageRepository {
  /** The line as written. */
  written: string;
  /** `@tag URL`: only `name@tag` entries may install from it (apko's pinned repositories). */
  tag: string | undefined;
  /**
   * The repository as a URL, for matching it to indexes: trailing slashes trimmed (apko trims them), a local path
   * made absolute against apko's working directory and written as a file:// URL.
   */
  url: string;
  origin: RepositoryOrigin;
  /** `file:line` where it is written; the flag for appended ones. */
  where: string;
}

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** A repository location as a comparable URL: http(s) as written without trailing slashes, paths as file:// URLs. */
export function repositoryUrl(location: string, root: string): string {
  const trimmed = location.replace(/\/+$/, '');
  if (isUrl(trimmed)) return trimmed.replace(/^file:\/\/localhost\//i, 'file:///');
  return pathToFileURL(isAbsolute(trimmed) ? trimmed : resolve(root, trimmed)).href.replace(/\/+$/, '');
}

/** Reads one repository line; undefined when apko would refuse it (`@tag` without a URL). */
export function parseRepository(
  written: string,
  root: string,
  origin: RepositoryOrigin,
  where: string,
): ImageRepository | undefined {
  const line = written.trim();
  let tag: string | undefined;
  let location = line;
  if (line.startsWith('@')) {
    const parts = line.split(/\s+/);
    if (parts.length < 2 || parts[0]!.length < 2) return undefined;
    tag = parts[0]!.slice(1);
    location = parts[1]!;
  }
  if (location === '') return undefined;
  return { written, tag, url: repositoryUrl(location, root), origin, where };
}

/** The repositories of `list` each once (apko builds with a set of them), in order of first appearance. */
export function uniqueRepositories(list: readonly ImageRepository[]): ImageRepository[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const key = `${r.tag ?? ''} ${r.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
