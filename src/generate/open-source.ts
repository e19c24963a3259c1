import { loadVersionMap } from '../index/load-map.js';
import { indexLocations, type IndexLocation } from '../source/locations.js';
import { GenerateInputError } from './errors.js';
import { readServiceRepositories } from './service-config.js';
import { HttpVersionSource, MapVersionSource, type VersionSource } from './version-source.js';

/** The `--index`, `--key`, `--config` and `--server` options every pinning command takes. */
export interface SourceOptions {
  indexes: readonly string[];
  keys: readonly string[];
  config: string | undefined;
  server: string | undefined;
}

export function hasSource(options: SourceOptions): boolean {
  return options.indexes.length > 0 || options.config !== undefined || options.server !== undefined;
}

/**
 * Opens the versions to pin from. `arches` (APK names) are the arches the files build for: a repository base URL
 * given with `--index` is read for exactly those; a `--config` repository reads the arches it lists.
 */
export async function openVersionSource(
  options: SourceOptions,
  arches: readonly string[],
  warn: (message: string) => void,
): Promise<VersionSource> {
  if (options.server !== undefined) {
    if (options.indexes.length > 0 || options.config !== undefined) {
      throw new GenerateInputError('--server answers for its own indexes; do not combine it with --index or --config');
    }
    return new HttpVersionSource(options.server);
  }
  const keyLocations = [...options.keys];
  const locations: IndexLocation[] = options.indexes.flatMap((url) => indexLocations({ url, arches }));
  if (options.config !== undefined) {
    for (const repo of await readServiceRepositories(options.config)) {
      locations.push(...indexLocations({ url: repo.url, arches: repo.arches ?? arches, name: repo.name }));
      keyLocations.push(...repo.keys);
    }
  }
  if (locations.length === 0) throw new GenerateInputError('pass --index SRC, --config FILE or --server URL');
  const map = await loadVersionMap(locations, keyLocations, (url) => warn(`${url}: signature not verified (no key given)`));
  return new MapVersionSource(map);
}
