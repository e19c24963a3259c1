import { IndexError } from '../errors.js';
import { compareVersions, isValidVersion } from '../index/version.js';

/** The IDs (CVE, GHSA, ...) one version of an origin fixed. */
export interface SecurityFix {
  version: string;
  ids: string[];
}

/**
 * One security database in the Alpine secdb format (what Wolfi and Alpine publish): per origin package, the fixes
 * in ascending apk order, and the IDs its maintainers marked as never applying (the `"0"` key).
 */
export interface SecurityDatabase {
  readonly source: string;
  /** Origin name -> fixes, ascending apk order. */
  readonly fixes: ReadonlyMap<string, readonly SecurityFix[]>;
  /** Origin name -> IDs that never applied to it. */
  readonly notAffected: ReadonlyMap<string, readonly string[]>;
  /** secfixes keys that are not apk versions (skipped). */
  readonly skipped: number;
  /** How many IDs all fixes name. */
  readonly ids: number;
}

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a secdb document. The document's shape (`{packages: [{pkg: {name, secfixes}}]}`) must hold or the whole
 * database is refused (a format error naming where); a secfixes key that is no apk version is skipped and counted.
 * An entry's value is a list of strings, each one ID or several aliases separated by spaces (Alpine writes
 * `"CVE-2018-7540 XSA-252"`): each becomes one ID.
 */
export function parseSecdb(text: string, source: string): SecurityDatabase {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IndexError(source, 'format', `not a security database: ${(err as Error).message}`);
  }
  if (!isMapping(doc) || !Array.isArray(doc.packages))
    throw new IndexError(source, 'format', 'not a security database: expected an object with a "packages" list');
  const fixes = new Map<string, Map<string, Set<string>>>();
  const notAffected = new Map<string, Set<string>>();
  let skipped = 0;
  doc.packages.forEach((entry: unknown, i: number) => {
    const where = `packages[${i}]`;
    const pkg = isMapping(entry) ? entry.pkg : undefined;
    if (!isMapping(pkg) || typeof pkg.name !== 'string' || pkg.name === '')
      throw new IndexError(source, 'format', `${where}: expected {pkg: {name, secfixes}}`);
    const secfixes = pkg.secfixes ?? {};
    if (!isMapping(secfixes))
      throw new IndexError(source, 'format', `${where}.pkg.secfixes: expected a mapping of version to IDs`);
    for (const [version, value] of Object.entries(secfixes)) {
      const ids = idsOf(value, source, `${where}.pkg.secfixes[${JSON.stringify(version)}]`);
      if (version === '0') {
        addAll(notAffected, pkg.name, ids);
        continue;
      }
      if (!isValidVersion(version)) {
        skipped++;
        continue;
      }
      let byVersion = fixes.get(pkg.name);
      if (!byVersion) fixes.set(pkg.name, (byVersion = new Map<string, Set<string>>()));
      addAll(byVersion, version, ids);
    }
  });
  let count = 0;
  const sorted = new Map<string, SecurityFix[]>();
  for (const [origin, byVersion] of fixes) {
    const list = [...byVersion].map(([version, ids]) => ({ version, ids: [...ids] }));
    list.sort((a, b) => compareVersions(a.version, b.version));
    for (const fix of list) count += fix.ids.length;
    sorted.set(origin, list);
  }
  return {
    source,
    fixes: sorted,
    notAffected: new Map([...notAffected].map(([origin, ids]) => [origin, [...ids]])),
    skipped,
    ids: count,
  };
}

function idsOf(value: unknown, source: string, where: string): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new IndexError(source, 'format', `${where}: expected a list of IDs`);
  return (value as string[]).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

function addAll(map: Map<string, Set<string>>, key: string, ids: readonly string[]): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  for (const id of ids) set.add(id);
}
