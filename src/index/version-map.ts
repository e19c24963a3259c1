import type { IndexSnapshot } from './snapshot.js';
import { byApkOrder, type IndexedRelease } from './snapshot.js';

/** One version of a package across every index that holds it. */
export interface Release {
  version: string;
  /** Seconds since the epoch: the latest build time among the indexes that hold this version. */
  buildTime: number | undefined;
  origin: string | undefined;
  commit: string | undefined;
  url: string | undefined;
  arches: string[];
  repositories: string[];
}

export interface ReleaseFilter {
  /** Keep only versions present on every one of these arches. */
  arches?: readonly string[];
  /** Keep only these repositories (by name). */
  repositories?: readonly string[];
  /**
   * Without `arches`: keep only versions present on every arch on which their repository holds the name at
   * all, so an image built for all of them can install the answer (a one-arch package keeps its versions).
   */
  everyArchHolding?: boolean;
}

/**
 * The package-name -> releases view over all loaded indexes. Immutable: a refresh builds a new one,
 * so a query never sees a half-built map. `generation` tells answers from different builds apart.
 */
export class VersionMap {
  private nameList: string[] | undefined;

  constructor(
    readonly snapshots: readonly IndexSnapshot[],
    readonly generation = 0,
  ) {}

  has(name: string): boolean {
    return this.snapshots.some((s) => s.packages.has(name));
  }

  /** Every package name, sorted; computed once per map. */
  names(): readonly string[] {
    if (!this.nameList) {
      const all = new Set<string>();
      for (const s of this.snapshots) for (const name of s.packages.keys()) all.add(name);
      this.nameList = [...all].sort();
    }
    return this.nameList;
  }

  get arches(): string[] {
    return [...new Set(this.snapshots.map((s) => s.arch))].sort();
  }

  /**
   * Releases of `name` in ascending apk order, each version once; undefined when no selected index knows the name.
   * An empty array means the name exists but the arch filter removed every version.
   */
  releases(name: string, filter: ReleaseFilter = {}): Release[] | undefined {
    const merged = new Map<string, { first: IndexedRelease; release: Release; where: Map<string, Set<string>> }>();
    /** Per repository, the arches whose index holds the name. */
    const holding = new Map<string, Set<string>>();
    let known = false;
    for (const snapshot of this.snapshots) {
      if (filter.repositories && !filter.repositories.includes(snapshot.repository)) continue;
      const list = snapshot.packages.get(name);
      if (!list) continue;
      known = true;
      addTo(holding, snapshot.repository, snapshot.arch);
      for (const r of list) {
        const seen = merged.get(r.version);
        if (!seen) {
          merged.set(r.version, {
            first: r,
            release: toRelease(r, snapshot),
            where: new Map([[snapshot.repository, new Set([snapshot.arch])]]),
          });
          continue;
        }
        addTo(seen.where, snapshot.repository, snapshot.arch);
        const release = seen.release;
        if (!release.arches.includes(snapshot.arch)) release.arches.push(snapshot.arch);
        if (!release.repositories.includes(snapshot.repository)) release.repositories.push(snapshot.repository);
        if (r.buildTime !== undefined && (release.buildTime === undefined || r.buildTime > release.buildTime))
          release.buildTime = r.buildTime;
      }
    }
    if (!known) return undefined;
    const wanted = filter.arches;
    const everywhere = !wanted && filter.everyArchHolding === true;
    const entries = [...merged.values()].filter((e) => {
      if (wanted) return wanted.every((a) => e.release.arches.includes(a));
      // Some repository holds this version on every arch where it holds the name.
      return !everywhere || [...e.where].some(([repo, arches]) => arches.size === holding.get(repo)!.size);
    });
    entries.sort((a, b) => byApkOrder(a.first, b.first));
    return entries.map((e) => {
      e.release.arches.sort();
      return e.release;
    });
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function toRelease(r: IndexedRelease, snapshot: IndexSnapshot): Release {
  return {
    version: r.version,
    buildTime: r.buildTime,
    origin: r.origin,
    commit: r.commit,
    url: r.url,
    arches: [snapshot.arch],
    repositories: [snapshot.repository],
  };
}
