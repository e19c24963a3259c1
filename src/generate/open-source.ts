import { authorizationHeader } from '../config/auth.js';
import { readConfigFile } from '../config/file.js';
import { loadIndex } from '../index/load.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import { VersionMap } from '../index/version-map.js';
import { loadTrustedKeys } from '../source/keys.js';
import { indexLocations, redactUrl, toUrl, type IndexLocation } from '../source/locations.js';
import { loadSecdb } from '../secdb/load.js';
import type { SecurityDatabase } from '../secdb/parse.js';
import { GenerateInputError } from './errors.js';
import { HttpFixSource, MapFixSource } from './security.js';
import { HttpVersionSource, MapVersionSource, type VersionSource } from './version-source.js';

/** The `--index`, `--key`, `--config` and `--server` options every pinning command takes. */
export interface SourceOptions {
  indexes: readonly string[];
  keys: readonly string[];
  config: string | undefined;
  server: string | undefined;
  /** Security databases for the fixes a bump brings (besides the configured repositories' own). */
  secdb?: readonly string[];
}

export function hasSource(options: SourceOptions): boolean {
  return options.indexes.length > 0 || options.config !== undefined || options.server !== undefined;
}

/** Indexes read with one set of keys and request headers: the `--index` ones, or one configured repository. */
interface IndexGroup {
  locations: IndexLocation[];
  keys: readonly string[];
  /** An Authorization header, sent to the repository's own host (its indexes, and keys on that host). */
  headers?: Record<string, string>;
  origin?: string;
}

/**
 * Opens the versions to pin from. `arches` (APK names) are the arches the files build for: a repository base URL
 * given with `--index` is read for exactly those. `--config` is read as the service reads it (`readConfigFile`):
 * each repository with its own arches (the service's default when it lists none), keys and `auth`.
 * Configuration mistakes are ConfigErrors, unreadable indexes IndexErrors.
 */
export async function openVersionSource(
  options: SourceOptions,
  arches: readonly string[],
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<VersionSource> {
  if (options.server !== undefined) {
    if (options.indexes.length > 0 || options.config !== undefined) {
      throw new GenerateInputError('--server answers for its own indexes; do not combine it with --index or --config');
    }
    if (!/^https?:\/\/[^/\s]+/.test(options.server)) throw new GenerateInputError(`--server takes an http(s) URL, not ${options.server}`);
    if (options.secdb?.length) throw new GenerateInputError('--server answers with its own security databases; do not combine it with --secdb');
    return Object.assign(new HttpVersionSource(options.server), { fixSource: new HttpFixSource(options.server) });
  }
  const databases: Array<{ location: string; headers?: Record<string, string> }> = (options.secdb ?? []).map((location) => ({ location }));
  const groups: IndexGroup[] = [];
  if (options.indexes.length > 0) {
    groups.push({ locations: options.indexes.flatMap((url) => indexLocations({ url, arches })), keys: options.keys });
  }
  if (options.config !== undefined) {
    const repositories = readConfigFile(options.config).repositories;
    if (!repositories) throw new GenerateInputError(`config file ${options.config}: no repositories: list to read versions from`);
    repositories.forEach(({ settings: repo, where }) => {
      const headers = repo.auth ? { authorization: authorizationHeader(repo.auth, env, `${where}.auth`) } : undefined;
      groups.push({
        locations: indexLocations({ url: repo.url, arches: repo.arches, name: repo.name }),
        keys: [...repo.keys, ...options.keys],
        headers,
        origin: headers ? originOf(repo.url) : undefined,
      });
      if (repo.secdb) databases.push({ location: repo.secdb, ...(headers && originOf(repo.secdb) === originOf(repo.url) && { headers }) });
    });
  }
  if (groups.length === 0) throw new GenerateInputError('pass --index SRC, --config FILE or --server URL');
  const snapshots = (await Promise.all(groups.map((group) => loadGroup(group, warn)))).flat();
  const map = new VersionMap(snapshots);
  return Object.assign(new MapVersionSource(map), { fixSource: new MapFixSource(map, await loadDatabases(databases, warn)) });
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
async function loadGroup(group: IndexGroup, warn: (message: string) => void): Promise<IndexSnapshot[]> {
  // A private repository's credentials go along to keys on its own host, never to another host (as the service does).
  const keyLists = await Promise.all(
    [...new Set(group.keys)].map((k) => loadTrustedKeys([k], group.headers && originOf(k) === group.origin ? { headers: group.headers } : {})),
  );
  const keys = keyLists.flat();
  return Promise.all(
    group.locations.map(async (location) => {
      const result = await loadIndex(location, { keys, ...(group.headers && { headers: group.headers }) });
      if (result.notModified) throw new Error(`${redactUrl(location.url)}: unexpected 304 without a conditional request`);
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
