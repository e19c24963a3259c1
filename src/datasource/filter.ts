import type { ReleaseFilter } from '../index/version-map.js';

/** The filters of a datasource URL (`?arch=`, `?repository=`), each a list of names (empty: not given). */
export interface DatasourceFilters {
  arches?: readonly string[] | undefined;
  repositories?: readonly string[] | undefined;
}

/**
 * The one rule for what `GET /<name>` answers from, for the service, `query` and `pin`/`check`: with `?arch=`, the
 * versions present on every listed arch; without it, the versions present on every arch where their repository
 * holds the name (so an unchanged `/{{packageName}}` URL is safe for a multi-arch image), unless `anyArch` (the
 * setting that answers versions from any arch, as before 0.2).
 */
export function releaseFilter(filters: DatasourceFilters, options: { anyArch?: boolean } = {}): ReleaseFilter {
  const filter: ReleaseFilter = {};
  if (filters.arches?.length) filter.arches = filters.arches;
  else if (!options.anyArch) filter.everyArchHolding = true;
  if (filters.repositories?.length) filter.repositories = filters.repositories;
  return filter;
}
