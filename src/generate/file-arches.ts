import type { ApkoFile, ResolvedImage } from './apko-file.js';
import { sortApkArches } from './arch.js';

/** One apko file and every arch it is built for, through each image that holds it in its `include:` chain. */
export interface FileArches {
  file: ApkoFile;
  /** The union of the APK arches of every image whose chain holds the file, in a stable order. */
  arches: string[];
  /** Arch names apko does not know, in any of those images. */
  unknownArchs: string[];
  /** The images among them that name no archs (here or in their includes) and got no `--arch`. */
  archless: string[];
}

/** The APK arches an image builds for: its own (or inherited) `archs:`, else the fallback (`--arch`). */
export function imageArches(image: ResolvedImage, fallback: readonly string[]): string[] {
  return image.archs.length > 0 ? image.apkArches : [...fallback];
}

/**
 * Each file of the images' chains with the arches it must hold its pins on. A file included by several images
 * is built for all of their arches, so a pin in it must exist on every one: `pin` and `check` judge it once,
 * against that union, whichever image reaches it first.
 */
export function archesByFile(images: readonly ResolvedImage[], fallback: readonly string[]): Map<string, FileArches> {
  const byFile = new Map<string, { file: ApkoFile; arches: Set<string>; unknown: Set<string>; archless: Set<string> }>();
  for (const image of images) {
    const arches = imageArches(image, fallback);
    for (const file of image.chain) {
      let entry = byFile.get(file.path);
      if (!entry) {
        entry = { file, arches: new Set(), unknown: new Set(), archless: new Set() };
        byFile.set(file.path, entry);
      }
      for (const arch of arches) entry.arches.add(arch);
      for (const arch of image.unknownArchs) entry.unknown.add(arch);
      if (arches.length === 0 && image.unknownArchs.length === 0) entry.archless.add(image.file.path);
    }
  }
  return new Map(
    [...byFile].map(([path, e]) => [
      path,
      { file: e.file, arches: sortApkArches(e.arches), unknownArchs: [...e.unknown].sort(), archless: [...e.archless].sort() },
    ]),
  );
}
