import { authorizationHeader } from '../config/auth.js';
import { readConfigFile } from '../config/file.js';
import { loadIndex } from '../index/load.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import { DependencyIndex, DependencyIndexReader } from '../index/dependency-index.js';
import { VersionMap } from '../index/version-map.js';
import { loadTrustedKeys } from '../source/keys.js';
import { repositoryUrl } from '../apko/repository.js';
import { APK_ARCHES, defaultRepositoryName, indexLocations, redactUrl, toUrl, type IndexLocation } from '../source/locations.js';
import { loadSecdb } from '../secdb/load.js';
import type { SecurityDatabase } from '../secdb/parse.js';
import { GenerateInputError } from './errors.js';
import { HttpFixSource, MapFixSource } from './security.js';
import { dependencyKey, HttpVersionSource, MapVersionSource, type HeldRepository, type VersionSource } from './version-source.js';

/** One `--index` and the `--alias URL`s given after it: the repository URLs it stands for (a mirror, a copy). */
export interface IndexOption {
  url: string;
  aliases: readonly string[];
}

/** The `--index`, `--alias`, `--key`, `--config`, `--server` and `--wait` options every pinning command takes. */
export interface SourceOptions {
  indexes: readonly IndexOption[];
  keys: readonly string[];
  config: string | undefined;
  server: string | undefined;
  /** How long to wait for a --server still loading. */
  waitMs?: number;
  /** Security databases for the fixes a bump brings (besides the configured repositories' own). */
  secdb?: readonly string[];
}

export function hasSource(options: SourceOptions): boolean {
  return options.indexes.length > 0 || options.config !== undefined || options.server !== undefined;
}

/** Indexes read with one set of keys and request headers: one `--index`, or one configured repository. */
interface IndexGroup {
  held: HeldRepository;
  locations: IndexLocation[];
  keys: readonly string[];
  /** An Authorization header, sent to the repository's own host (its indexes, and keys on that host). */
  headers?: Record<string, string>;
  origin?: string;
}

/**
 * Opens the versions to pin from. `arches` says, for a repository URL, which APK arches the images built from it
 * need (`undefined`: the repository is none of theirs, read for `fallbackArches`): a base URL given with `--index`
 * is read for exactly those. `--config` is read as the service reads it (`readConfigFile`): each repository with
 * its own arches (the service's default when it lists none), keys and `auth`. Configuration mistakes are
 * ConfigErrors, unreadable indexes IndexErrors.
 */
export async function openVersionSource(
  options: SourceOptions,
  arches: (urls: readonly string[]) => readonly string[],
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  withDependencies = false,
): Promise<VersionSource> {
  if (options.server !== undefined) {
    if (options.indexes.length > 0 || options.config !== undefined) {
      throw new GenerateInputError('--server answers for its own indexes; do not combine it with --index or --config');
    }
    if (!/^https?:\/\/[^/\s]+/.test(options.server)) throw new GenerateInputError(`--server takes an http(s) URL, not ${options.server}`);
    if (options.secdb?.length) throw new GenerateInputError('--server answers with its own security databases; do not combine it with --secdb');
    return Object.assign(await HttpVersionSource.open(options.server, { waitMs: options.waitMs }), { fixSource: new HttpFixSource(options.server) });
  }
  const databases: Array<{ location: string; headers?: Record<string, string> }> = (options.secdb ?? []).map((location) => ({ location }));
  const groups: IndexGroup[] = [];
  for (const index of options.indexes) {
    const urls = [baseUrlOf(index.url), ...index.aliases.map((a) => repositoryUrl(a, process.cwd()))];
    const name = defaultRepositoryName(index.url);
    const locations = indexLocations({ url: index.url, arches: arches(urls), name });
    groups.push({ held: { name, urls, arches: locationArches(locations) }, locations, keys: options.keys });
  }
  if (options.config !== undefined) {
    const repositories = readConfigFile(options.config).repositories;
    if (!repositories) throw new GenerateInputError(`config file ${options.config}: no repositories: list to read versions from`);
    repositories.forEach(({ settings: repo, where }) => {
      const headers = repo.auth ? { authorization: authorizationHeader(repo.auth, env, `${where}.auth`) } : undefined;
      const aliases = repo.aliases ?? [];
      const locations = indexLocations({ url: repo.url, arches: repo.arches, name: repo.name });
      groups.push({
        held: { name: repo.name, urls: [baseUrlOf(repo.url), ...aliases.map((a) => repositoryUrl(a, process.cwd()))], arches: locationArches(locations) },
        locations,
        keys: [...repo.keys, ...options.keys],
        headers,
        origin: headers ? originOf(repo.url) : undefined,
      });
      if (repo.secdb) databases.push({ location: repo.secdb, ...(headers && originOf(repo.secdb) === originOf(repo.url) && { headers }) });
    });
  }
  if (groups.length === 0) throw new GenerateInputError('pass --index SRC, --config FILE or --server URL');
  const dependencies = withDependencies ? new Map<string, DependencyIndex>() : undefined;
  const snapshots = (await Promise.all(groups.map((group) => loadGroup(group, warn, dependencies)))).flat();
  for (const group of groups) {
    for (const s of snapshots) if (s.repository === group.held.name && !group.held.arches.includes(s.arch)) group.held.arches.push(s.arch);
  }
  const map = new VersionMap(snapshots);
  return Object.assign(new MapVersionSource(map, groups.map((g) => g.held), dependencies), { fixSource: new MapFixSource(map, await loadDatabases(databases, warn)) });
}

/** The repository URL an index location stands for: a base URL as given, a bare `<base>/<arch>/APKINDEX.tar.gz` its base. */
export function baseUrlOf(location: string): string {
  const url = toUrl(location);
  const bare = /^(.*)\/([^/]+)\/APKINDEX\.tar\.gz$/.exec(url);
  if (bare && (APK_ARCHES as readonly string[]).includes(bare[2]!)) return repositoryUrl(bare[1]!, process.cwd());
  return repositoryUrl(url.replace(/\/APKINDEX\.tar\.gz$/, ''), process.cwd());
}

function locationArches(locations: readonly IndexLocation[]): string[] {
  return [...new Set(locations.flatMap((l) => (l.arch ? [l.arch] : [])))];
}

/** Security databases are extras: one that cannot be read is a warning, and its fixes are not reported. */
async function loadDatabases(list: ReadonlyArray<{ location: string; headers?: Record<string, string> }>, warn: (message: string) => void): Promise<SecurityDatabase[]> {
  const loaded = await Promise.all(
    list.map(async ({ location, headers }) => {
      try {
        const result = await loadSecdb(location, { ...(headers && { headers }) });
        return result.notModified ? [] : [result.database];
      } catch (err) {
        warn(`${(err as Error).message}; security fixes from it are not reported`);
        return [];
      }
    }),
  );
  return loaded.flat();
}

/** Loads one group's keys and indexes, once, without conditional requests; unverified indexes are warned about. */
async function loadGroup(group: IndexGroup, warn: (message: string) => void, dependencies: Map<string, DependencyIndex> | undefined): Promise<IndexSnapshot[]> {
  // A private repository's credentials go along to keys on its own host, never to another host (as the service does).
  const keyLists = await Promise.all(
    [...new Set(group.keys)].map((k) => loadTrustedKeys([k], group.headers && originOf(k) === group.origin ? { headers: group.headers } : {})),
  );
  const keys = keyLists.flat();
  return Promise.all(
    group.locations.map(async (location) => {
      const reader = dependencies ? new DependencyIndexReader() : undefined;
      const result = await loadIndex(location, { keys, ...(group.headers && { headers: group.headers }), ...(reader && { also: reader }) });
      if (result.notModified) throw new Error(`${redactUrl(location.url)}: unexpected 304 without a conditional request`);
      if (reader?.index) dependencies!.set(dependencyKey(result.snapshot.repository, result.snapshot.arch), reader.index);
      if (keys.length === 0) warn(`${result.snapshot.url}: signature not verified (no key given)`);
      return result.snapshot;
    }),
  );
}

function originOf(location: string): string | undefined {
  try {
    return new URL(toUrl(location)).origin;
  } catch {
    return undefined;
  }
}
