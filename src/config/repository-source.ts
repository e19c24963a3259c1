/**
 * The one index loader: a configured repository (from a config file, `--index`/`--alias`/`--key` options, or the
 * service's flags and environment) becomes what is fetched for it, with which request headers, and is loaded
 * through here by `query`, the generators (`pin`, `check`, `init`) and the service alike.
 *
 * One rule for credentials (`credentialHeaders`): a repository's `auth` goes only to its own origin (scheme, host
 * and port): its indexes, and its keys and security database when they are there. Never to another host, and never
 * into a log (everything shown is `redactUrl`ed). A redirect to another origin drops the header (source/redirects.ts
 * strips Authorization, Cookie and Proxy-Authorization at the first hop to another origin).
 */
import { ConfigError, IndexError } from '../errors.js';
import { repositoryUrl } from '../apko/repository.js';
import type { ApkIndexSink } from '../decode/index-archive.js';
import type { TrustedKey } from '../decode/signature.js';
import { loadIndex, type LoadOptions, type LoadResult } from '../index/load.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import { loadSecdb, type SecdbLoadOptions, type SecdbLoadResult } from '../secdb/load.js';
import { loadTrustedKey } from '../source/keys.js';
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

export interface FetchOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A repository's trusted keys, each fetched with the headers the credential rule allows. `shared` lets the
 * repositories of one run share downloads (the same `--key` for several `--index`).
 */
export async function loadRepositoryKeys(
  source: RepositorySource,
  options: FetchOptions = {},
  shared?: Map<string, Promise<TrustedKey>>,
): Promise<TrustedKey[]> {
  return Promise.all(
    source.settings.keys.map((key) => {
      const headers = source.headersFor(key);
      const load = () => loadTrustedKey(key, { ...options, ...(headers && { headers }) });
      if (!shared) return load();
      const id = `${headers?.authorization ?? ''}\u0000${key}`;
      let loading = shared.get(id);
      if (!loading) shared.set(id, (loading = load()));
      return loading;
    }),
  );
}

/** One index of a repository, with its headers and its `allowForeignArch`; `previous` makes the request conditional. */
export function loadRepositoryIndex(
  source: RepositorySource,
  location: IndexLocation,
  options: Omit<LoadOptions, 'headers' | 'allowForeignArch' | 'dispatcher'>,
): Promise<LoadResult> {
  const headers = source.headersFor(location.url);
  return loadIndex(location, {
    ...options,
    ...(headers && { headers }),
    allowForeignArch: source.settings.allowForeignArch,
  });
}

/** A repository's security database (it must have one), with the headers the credential rule allows. */
export function loadRepositorySecdb(
  source: RepositorySource,
  options: Omit<SecdbLoadOptions, 'headers' | 'dispatcher'> = {},
): Promise<SecdbLoadResult> {
  const location = toUrl(source.settings.secdb!);
  const headers = source.headersFor(location);
  return loadSecdb(location, { ...options, ...(headers && { headers }) });
}

export interface LoadedIndex<S extends ApkIndexSink = ApkIndexSink> {
  source: RepositorySource;
  snapshot: IndexSnapshot;
  /** What `sink` made for this index, having read its APKINDEX text. */
  sink: S | undefined;
}

/**
 * Loads every repository's keys and indexes once, without conditional requests: what the one-shot commands read.
 * An index read without keys is read unverified and `warn`ed about (its URL redacted). Failures are IndexErrors.
 */
export async function loadRepositoriesOnce<S extends ApkIndexSink = ApkIndexSink>(
  sources: readonly RepositorySource[],
  options: {
    warn: (message: string) => void;
    /** A reader that also gets each index's APKINDEX text. */ sink?: () => S;
  },
): Promise<Array<LoadedIndex<S>>> {
  const keyDownloads = new Map<string, Promise<TrustedKey>>();
  const perRepository = await Promise.all(
    sources.map(async (source) => {
      const keys = await loadRepositoryKeys(source, {}, keyDownloads);
      return Promise.all(
        source.locations.map(async (location) => {
          const sink = options.sink?.();
          const result = await loadRepositoryIndex(source, location, { keys, ...(sink && { also: sink }) });
          if (result.notModified)
            throw new IndexError(
              redactUrl(location.url),
              'http-status',
              'answered 304 Not Modified to a request that was not conditional',
            );
          if (keys.length === 0) options.warn(`${result.snapshot.url}: signature not verified (no key given)`);
          return { source, snapshot: result.snapshot, sink };
        }),
      );
    }),
  );
  return perRepository.flat();
}
