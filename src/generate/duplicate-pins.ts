import type { PackageEntry, ResolvedImage } from '../apko/image.js';
import { isPin } from '../apko/package-spec.js';

/** Two or more pins of one package in one image (with its includes): the same version twice, or different ones. */
export interface DuplicatePin {
  image: string;
  name: string;
  entries: PackageEntry[];
  /** Different versions: apko cannot satisfy both, and the build fails. */
  conflicting: boolean;
}

export function duplicatePins(image: ResolvedImage): DuplicatePin[] {
  const byName = new Map<string, PackageEntry[]>();
  for (const entry of image.packages) {
    if (!entry.spec || !isPin(entry.spec)) continue;
    const key = `${entry.spec.name}@${entry.spec.tag ?? ''}`;
    byName.set(key, [...(byName.get(key) ?? []), entry]);
  }
  return [...byName.values()]
    .filter((entries) => entries.length > 1)
    .map((entries) => ({
      image: image.file.path,
      name: entries[0]!.spec!.name,
      entries,
      conflicting: new Set(entries.map((e) => e.spec!.version)).size > 1,
    }));
}

/** "tzdata=2024a-r0 (apko/base.yaml:12) and tzdata=2024b-r0 (apko/app.yaml:8)". */
export function describeDuplicate(d: DuplicatePin): string {
  const list = d.entries.map((e) => `${e.entry} (${e.file}:${e.line})`).join(' and ');
  return d.conflicting
    ? `conflicting pins in ${d.image}: ${list}; apko cannot install both`
    : `duplicate pin in ${d.image}: ${list}`;
}
