import { access, constants, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeFileProblem, IndexError } from '../errors.js';
import { loadTrustedKey } from './load-keys.js';
import { indexLocations, toUrl } from '../source/locations.js';

interface Repository {
  name: string;
  url: string;
  arches: readonly string[];
  keys: readonly string[];
}

/**
 * Local keys and local indexes are checked once at start: a missing or unreadable file there is a configuration
 * mistake, not a network failure worth retrying forever. Returns the first problem as one line naming the
 * repository and the file, or undefined. Remote keys and indexes are left to the refreshes, which retry.
 */
export async function localSourceProblem(repositories: readonly Repository[]): Promise<string | undefined> {
  for (const [i, repository] of repositories.entries()) {
    const where = `repositories[${i}] (${repository.name})`;
    for (const key of repository.keys) {
      if (!isLocal(key)) continue;
      try {
        await loadTrustedKey(key);
      } catch (err) {
        return `${where}: key ${err instanceof IndexError ? err.message : fileOf(key)}`;
      }
    }
    for (const location of indexLocations(repository)) {
      if (!isLocal(location.url)) continue;
      const path = fileOf(location.url);
      try {
        if (!(await stat(path)).isFile()) return `${where}: index ${path}: not a file`;
        await access(path, constants.R_OK);
      } catch (err) {
        return `${where}: index ${path}: cannot read: ${describeFileProblem(err)}`;
      }
    }
  }
  return undefined;
}

function isLocal(location: string): boolean {
  return toUrl(location).startsWith('file:');
}

function fileOf(location: string): string {
  return fileURLToPath(toUrl(location));
}
