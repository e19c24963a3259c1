import { repositoryUrls } from '../config/repository-source.js';
import type { RepositorySettings } from '../config/settings.js';
import type { Status } from '../datasource/status.js';
import { redactUrl } from '../source/locations.js';
import type { IndexStore } from './store.js';

/**
 * `/-/status` (datasource/status.ts): readiness, each index, and each repository with the URLs apko files name it
 * by and the arches it has indexes for, so that `pin`/`check --server` match images to repositories without
 * working URLs out of index URLs.
 */
export function serviceStatus(store: IndexStore, repositories: readonly RepositorySettings[]): Status {
  const indexes = store.status();
  return {
    ready: store.ready,
    generation: store.map.generation,
    waitingFor: store.waitingFor,
    repositories: repositories.map((r) => ({
      name: r.name,
      urls: [...new Set(repositoryUrls(r).map(shown))],
      // In the order its indexes are configured, as `pin`/`check` read them in-process (open-source.ts).
      arches: [...new Set(indexes.flatMap((i) => (i.repository === r.name && i.arch !== undefined ? [i.arch] : [])))],
    })),
    indexes,
  };
}

/** A repository URL as apko files write it (comparable), with any credentials in it redacted. */
function shown(url: string): string {
  return URL.canParse(url) && /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(url) ? redactUrl(url).replace(/\/+$/, '') : url;
}
