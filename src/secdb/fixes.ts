import { compareVersions } from '../index/version.js';
import type { SecurityDatabase, SecurityFix } from './parse.js';

/**
 * The fixes a move from `from` to `to` brings to a package of origin `origin`: every secfixes entry greater than
 * `from` and at most `to`, in apk order. Subpackages share their origin's entries, so callers pass the record's
 * origin (`o:`), or its own name when it has none. Entries from several databases (one per repository) are merged.
 */
export function fixesBetween(
  databases: readonly SecurityDatabase[],
  origin: string,
  from: string,
  to: string,
): SecurityFix[] {
  const byVersion = new Map<string, Set<string>>();
  for (const db of databases) {
    for (const fix of db.fixes.get(origin) ?? []) {
      if (compareVersions(fix.version, from) <= 0 || compareVersions(fix.version, to) > 0) continue;
      let ids = byVersion.get(fix.version);
      if (!ids) byVersion.set(fix.version, (ids = new Set()));
      for (const id of fix.ids) ids.add(id);
    }
  }
  return [...byVersion]
    .map(([version, ids]) => ({ version, ids: [...ids] }))
    .sort((a, b) => compareVersions(a.version, b.version));
}

/** Every ID of a list of fixes, once, in the order given. */
export function fixedIds(fixes: readonly SecurityFix[]): string[] {
  return [...new Set(fixes.flatMap((f) => f.ids))];
}
