import type { ReleaseFilter } from '../index/version-map.js';

/** Most distinct values one filter list may name: more arches or repositories than any deployment has. */
export const MAX_FILTER_VALUES = 32;

interface Normalized {
  filter: ReleaseFilter;
  /** The filters as part of a cache key: sorted, each value once, so spellings of one query share one answer. */
  key: string;
}

const seen = new WeakMap<object, Normalized>();

/**
 * `?arch=` and `?repository=` as a filter and a cache key. `x86_64,,x86_64`, `aarch64,x86_64` and a 16 KB
 * list repeating one name all ask the same, so they are one key: the cache then answers every such spelling
 * from one entry instead of computing each anew. More than MAX_FILTER_VALUES distinct values is a 400.
 */
export function normalizeFilter(query: { arch?: string[] | undefined; repository?: string[] | undefined }): Normalized {
  let n = seen.get(query);
  if (!n) {
    const arches = values(query.arch, 'arch');
    const repositories = values(query.repository, 'repository');
    const filter: ReleaseFilter = {};
    if (arches.length) filter.arches = arches;
    if (repositories.length) filter.repositories = repositories;
    n = { filter, key: `${arches.join(',')}\u0000${repositories.join(',')}` };
    seen.set(query, n);
  }
  return n;
}

function values(raw: string[] | undefined, name: string): string[] {
  if (!raw) return [];
  const set = new Set<string>();
  for (const item of raw) {
    for (const part of item.split(',')) {
      const value = part.trim();
      if (!value) continue;
      set.add(value);
      if (set.size > MAX_FILTER_VALUES)
        throw Object.assign(new Error(`?${name}= names more than ${MAX_FILTER_VALUES} distinct values`), {
          statusCode: 400,
        });
    }
  }
  return [...set].sort();
}
