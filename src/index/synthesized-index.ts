import { oneLine } from '../core/text.js';
import type { IndexedRelease, IndexSnapshot } from './snapshot.js';
import { byApkOrder } from './snapshot.js';

/**
 * The records of an APKINDEX made from the loaded indexes of one repository, for Renovate's own `apk` datasource
 * (which reads `P`, `V`, `U` and `t` from a plain APKINDEX.tar.gz): every name, each provided name too (`argo-cd`
 * from `argo-cd-2.12`'s `p:argo-cd=2.12.3-r0`), versions in apk order. For one arch, what that arch's index holds;
 * for `all`, only versions present on every arch given (each record with the newest build time among them).
 * Names are sorted, so the same indexes give the same bytes. Not for apk itself: no checksums, no signature, and
 * no description (`T:`) or licence (`L:`), which the loaded indexes do not keep and neither reader needs.
 */
export interface SynthesizedIndex {
  /** Record text per name, in name order; a generator, so a caller can yield between names. */
  records: Iterable<string>;
  /** Names that will be written; records yields one text per name that keeps a version. */
  names: number;
  /** The newest build time of the indexes read (seconds), for the archive's entry times; 0 when undated. */
  newest: number;
}

/**
 * `byArch`: the repository's snapshots for each arch the answer covers (one arch, or every configured arch for
 * `all`); `arch` is written as `A:` when the answer is for one arch.
 */
export function synthesizedIndex(
  byArch: ReadonlyMap<string, readonly IndexSnapshot[]>,
  arch: string | undefined,
): SynthesizedIndex {
  const lists = [...byArch.values()];
  const names = new Set<string>();
  // On every arch: a name must be held by each arch's indexes; the first arch's names are the candidates.
  for (const s of lists[0] ?? []) for (const name of s.packages.keys()) names.add(name);
  const sorted = [...names]
    .filter((name) => lists.every((snapshots) => snapshots.some((s) => s.packages.has(name))))
    .sort();
  const newest = Math.max(0, ...lists.flat().map((s) => s.newestBuildTime ?? 0));
  return { records: recordTexts(sorted, lists, arch), names: sorted.length, newest };
}

function* recordTexts(
  names: readonly string[],
  lists: readonly (readonly IndexSnapshot[])[],
  arch: string | undefined,
): Generator<string> {
  for (const name of names) {
    const perArch = lists.map((snapshots) => versionsOf(name, snapshots));
    const [first, ...others] = perArch;
    let text = '';
    for (const release of first!.values()) {
      const same = others.map((m) => m.get(release.version));
      if (same.some((r) => r === undefined)) continue;
      const buildTime = Math.max(release.buildTime ?? 0, ...same.map((r) => r!.buildTime ?? 0));
      text += record(name, release, arch, buildTime);
    }
    if (text !== '') yield text;
  }
}

/** A name's releases in the indexes of one arch, each version once, in apk order. */
function versionsOf(name: string, snapshots: readonly IndexSnapshot[]): Map<string, IndexedRelease> {
  const all = snapshots.flatMap((s) => s.packages.get(name) ?? []);
  if (snapshots.length > 1) all.sort(byApkOrder);
  const out = new Map<string, IndexedRelease>();
  for (const r of all) if (!out.has(r.version)) out.set(r.version, r);
  return out;
}

/** One record; a value read from one index line cannot hold a newline, oneLine keeps the format whatever comes in. */
function record(name: string, r: IndexedRelease, arch: string | undefined, buildTime: number): string {
  let text = `P:${name}\nV:${r.version}\n`;
  if (arch !== undefined) text += `A:${arch}\n`;
  if (r.url !== undefined) text += `U:${oneLine(r.url)}\n`;
  if (r.origin !== undefined) text += `o:${r.origin}\n`;
  if (r.commit !== undefined) text += `c:${r.commit}\n`;
  if (buildTime > 0) text += `t:${buildTime}\n`;
  return `${text}\n`;
}
