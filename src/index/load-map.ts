import { loadTrustedKeys } from '../source/keys.js';
import { redactUrl, type IndexLocation } from '../source/locations.js';
import { loadIndex, type LoadOptions } from './load.js';
import { VersionMap } from './version-map.js';

/**
 * Loads the trusted keys and every index once (no conditional request) into one VersionMap: what the one-shot
 * commands (`query`, the generators' `--index`/`--config`) read from. Without keys each index is read unverified
 * and `warnUnverified` is called with its (redacted) URL. Failures are IndexErrors, as from loadIndex.
 */
export async function loadVersionMap(
  locations: readonly IndexLocation[],
  keyLocations: readonly string[],
  warnUnverified: (url: string) => void,
  options: Omit<LoadOptions, 'keys' | 'previous'> = {},
): Promise<VersionMap> {
  const keys = await loadTrustedKeys([...new Set(keyLocations)]);
  const snapshots = await Promise.all(
    locations.map(async (location) => {
      const result = await loadIndex(location, { ...options, keys });
      if (result.notModified) throw new Error(`${redactUrl(location.url)}: unexpected 304 without a conditional request`);
      return result.snapshot;
    }),
  );
  if (keys.length === 0) for (const s of snapshots) warnUnverified(s.url);
  return new VersionMap(snapshots);
}
