import type { PackageRecord } from '../parse/package-record.js';
import { compareVersions } from './version.js';

/** One version of one package name in one index. A fixed shape keeps hundreds of thousands of them compact. */
export class IndexedRelease {
  constructor(
    readonly version: string,
    readonly buildTime: number | undefined,
    readonly origin: string | undefined,
    readonly commit: string | undefined,
    readonly url: string | undefined,
    readonly license: string | undefined,
    readonly description: string | undefined,
    /** The package whose `p:name=version` makes this version findable under another name. */
    readonly providedBy: string | undefined,
  ) {}

  providedAs(version: string, provider: string): IndexedRelease {
    return new IndexedRelease(version, this.buildTime, this.origin, this.commit, this.url, this.license, this.description, provider);
  }
}

/** Everything one APKINDEX.tar.gz says about versions, by package name, each list in apk order. */
export interface IndexSnapshot {
  readonly url: string;
  readonly arch: string;
  readonly repository: string;
  readonly description: string | undefined;
  /** Key that verified the signature; undefined when no keys were configured. */
  readonly verifiedBy: string | undefined;
  readonly records: number;
  readonly packages: ReadonlyMap<string, readonly IndexedRelease[]>;
}

/**
 * Per-name release lists that are put in apk order the first time they are read. Loading a Wolfi-scale index
 * touches 250k records but a query reads a handful of names, so ordering is paid where it is used, once.
 */
export class PackageLists implements ReadonlyMap<string, readonly IndexedRelease[]> {
  private readonly sorted = new Set<string>();

  constructor(private readonly lists: Map<string, IndexedRelease[]>) {}

  get size(): number {
    return this.lists.size;
  }

  has(name: string): boolean {
    return this.lists.has(name);
  }

  get(name: string): readonly IndexedRelease[] | undefined {
    const list = this.lists.get(name);
    if (list === undefined || this.sorted.has(name)) return list;
    const ordered = isOrdered(list) ? list : dedupeSorted(list.sort(byApkOrder));
    this.lists.set(name, ordered);
    this.sorted.add(name);
    return ordered;
  }

  keys(): MapIterator<string> {
    return this.lists.keys();
  }

  *entries(): MapIterator<[string, readonly IndexedRelease[]]> {
    for (const name of this.lists.keys()) yield [name, this.get(name)!];
  }

  *values(): MapIterator<readonly IndexedRelease[]> {
    for (const name of this.lists.keys()) yield this.get(name)!;
  }

  forEach(fn: (value: readonly IndexedRelease[], key: string, map: ReadonlyMap<string, readonly IndexedRelease[]>) => void): void {
    for (const [name, list] of this.entries()) fn(list, name, this);
  }

  [Symbol.iterator](): MapIterator<[string, readonly IndexedRelease[]]> {
    return this.entries();
  }
}

/** Collects records into per-name lists; ordering waits until a list is read (see PackageLists). */
export class SnapshotBuilder {
  private readonly packages = new Map<string, IndexedRelease[]>();
  private readonly strings = new Map<string, string>();
  private count = 0;
  firstArch: string | undefined;

  add(record: PackageRecord): void {
    this.count++;
    this.firstArch ??= record.arch;
    const release = new IndexedRelease(
      record.version,
      record.buildTime,
      this.intern(record.origin),
      record.commit,
      this.intern(record.url),
      this.intern(record.license),
      this.intern(record.description),
      undefined,
    );
    this.append(record.name, release);
    if (record.provides) {
      for (const [name, version] of record.provides) {
        if (name !== record.name) this.append(this.intern(name)!, release.providedAs(version, record.name));
      }
    }
  }

  finish(meta: Omit<IndexSnapshot, 'packages' | 'records'>): IndexSnapshot {
    return { ...meta, records: this.count, packages: new PackageLists(this.packages) };
  }

  private append(name: string, release: IndexedRelease): void {
    const list = this.packages.get(name);
    if (list === undefined) {
      this.packages.set(name, [release]);
      return;
    }
    const last = list[list.length - 1]!;
    if (last.version === release.version) {
      // The package itself wins over another package that provides its name.
      if (last.providedBy !== undefined && release.providedBy === undefined) list[list.length - 1] = release;
      return;
    }
    list.push(release);
  }

  private intern(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    this.strings.set(value, value);
    return value;
  }
}

function isOrdered(list: readonly IndexedRelease[]): boolean {
  for (let i = 1; i < list.length; i++) if (byApkOrder(list[i - 1]!, list[i]!) >= 0) return false;
  return true;
}

/** apk order; equal versions spelled differently fall back to the spelling, the real package before a provider. */
export function byApkOrder(a: IndexedRelease, b: IndexedRelease): number {
  return (
    compareVersions(a.version, b.version) ||
    (a.version < b.version ? -1 : a.version > b.version ? 1 : 0) ||
    (a.providedBy === undefined ? 0 : 1) - (b.providedBy === undefined ? 0 : 1)
  );
}

/** Drops repeats of a version string; after byApkOrder the package itself comes before its providers. */
function dedupeSorted(list: IndexedRelease[]): IndexedRelease[] {
  let out = 0;
  for (let i = 0; i < list.length; i++) {
    if (out > 0 && list[out - 1]!.version === list[i]!.version) continue;
    list[out++] = list[i]!;
  }
  list.length = out;
  return list;
}
