/**
 * What is fetched for a configured repository (from a config file, `--index`/`--alias`/`--key` options, or the
 * service's flags and environment), and with which request headers: src/load fetches it, for `query`, the
 * generators (`pin`, `check`, `init`) and the service alike.
 *
 * One rule for credentials (`credentialHeaders`): a repository's `auth` goes only to its own origin (scheme, host
 * and port): its indexes, and its keys and security database when they are there. Never to another host, and never
 * into a log (everything shown is `redactUrl`ed). A redirect to another origin drops the header (source/redirects.ts
 * strips Authorization, Cookie and Proxy-Authorization at the first hop to another origin).
 */
import { ConfigError } from '../errors.js';
import { repositoryUrl } from '../apko/repository.js';
import { APK_ARCHES, indexLocations, redactUrl, sameOrigin, toUrl, type IndexLocation } from '../source/locations.js';
import { authorizationHeader } from './auth.js';
import { readConfigFile } from './file.js';
import { repositoryFor } from './layer.js';
import { location as locationKind, keyLocations as keyLocationsKind } from './kinds.js';
import type { RepositorySettings } from './settings.js';

/** One repository as it is fetched. */
export interface RepositorySource {
  readonly settings: RepositorySettings;
  readonly name: string;
  /** Its indexes: `<base>/<arch>/APKINDEX.tar.gz` per arch, or the bare index its URL names. */
  readonly locations: readonly IndexLocation[];
  /** Its base URL, then its aliases, as comparable URLs (`repositoryUrl`): what apko files name it by. */
  readonly urls: readonly string[];
  /** The request headers for a location this repository fetches (an index, key or security database). */
  headersFor(location: string): Record<string, string> | undefined;
}

/**
 * The one credential rule: the repository's Authorization header goes to `location` only when it is on the
 * repository's own http(s) origin. Keys and security databases elsewhere (a CDN, another port) are fetched without it.
 */
export function credentialHeaders(
  repositoryUrl: string,
  authorization: string | undefined,
  location: string,
): Record<string, string> | undefined {
  if (authorization === undefined || !/^https?:\/\//i.test(toUrl(location))) return undefined;
  return sameOrigin(location, repositoryUrl) ? { authorization } : undefined;
}

/**
 * A repository setting as it is fetched. `where` names it in a ConfigError (`repositories[0]`,
 * `config file a.yaml: repositories[0]`) when an environment variable its `auth` names is not set.
 */
export function repositorySource(
  settings: RepositorySettings,
  env: NodeJS.ProcessEnv,
  where: string,
  cwd = process.cwd(),
): RepositorySource {
  const authorization = settings.auth ? authorizationHeader(settings.auth, env, `${where}.auth`) : undefined;
  return {
    settings,
    name: settings.name,
    locations: indexLocations({ url: settings.url, arches: settings.arches, name: settings.name }),
    urls: repositoryUrls(settings, cwd),
    headersFor: (location) => credentialHeaders(settings.url, authorization, location),
  };
}

/** A repository's base URL, then its aliases, as comparable URLs (`repositoryUrl`): what apko files name it by. */
export function repositoryUrls(settings: Pick<RepositorySettings, 'url' | 'aliases'>, cwd = process.cwd()): string[] {
  return [baseUrlOf(settings.url, cwd), ...(settings.aliases ?? []).map((a) => repositoryUrl(a, cwd))];
}

/** The repository URL an index location stands for: a base URL as given, a bare `<base>/<arch>/APKINDEX.tar.gz` its base. */
export function baseUrlOf(location: string, cwd = process.cwd()): string {
  const url = toUrl(location);
  const bare = /^(.*)\/([^/]+)\/APKINDEX\.tar\.gz$/.exec(url);
  if (bare && (APK_ARCHES as readonly string[]).includes(bare[2]!)) return repositoryUrl(bare[1]!, cwd);
  return repositoryUrl(url.replace(/\/APKINDEX\.tar\.gz$/, ''), cwd);
}

/** One `--index` and the `--alias URL`s given after it: the repository URLs it stands for (a mirror, a copy). */
export interface IndexOption {
  url: string;
  aliases: readonly string[];
}

/** What the one-shot commands (`query`, `pin`, `check`, `init`) are told to read. */
export interface RepositoryOptions {
  indexes: readonly IndexOption[];
  /** `--key`: the keys of every `--index`, and more keys for each configured repository. */
  keys: readonly string[];
  config: string | undefined;
  /**
   * The arches to read under an `--index` base URL, from the URLs it stands for (base URL, aliases); none: the
   * repository's own default (x86_64; Wolfi: x86_64 and aarch64).
   */
  arches: (urls: readonly string[]) => readonly string[];
}

/**
 * The repositories of a one-shot command: each `--index` (named by its URL, with `--key`), then those of the
 * `--config` file, read as the service reads it (`readConfigFile`): each with its own arches, keys (plus `--key`),
 * aliases and `auth`. Mistakes are ConfigErrors naming the option or the file's key.
 */
export function repositoriesFromOptions(
  options: RepositoryOptions,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): RepositorySource[] {
  const keys = keyLocationsKind.parse([...options.keys], '--key');
  const sources = options.indexes.map((index) => {
    const url = locationKind.parse(index.url, '--index');
    const urls = [baseUrlOf(url, cwd), ...index.aliases.map((a) => repositoryUrl(a, cwd))];
    const arches = options.arches(urls);
    // The service's rule for a URL given without the rest (repositoryFor): Wolfi's URL is Wolfi, named `wolfi`,
    // read for its arches and verified with its key unless --arch or --key say otherwise.
    const settings = repositoryFor(url, {
      ...(index.aliases.length > 0 && { aliases: { value: [...index.aliases], where: '--alias' } }),
      ...(arches.length > 0 && { arches: { value: [...arches], where: '--arch' } }),
      ...(keys.length > 0 && { keys: { value: keys, where: '--key' } }),
    });
    return repositorySource(settings, env, `--index ${redactUrl(url)}`, cwd);
  });
  if (options.config !== undefined) {
    const repositories = readConfigFile(options.config).repositories;
    if (!repositories)
      throw new ConfigError(`config file ${options.config}: no repositories: list to read versions from`);
    for (const { settings, where } of repositories)
      sources.push(repositorySource({ ...settings, keys: [...settings.keys, ...keys] }, env, where, cwd));
  }
  return sources;
}
