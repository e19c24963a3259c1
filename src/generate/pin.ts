import { compareVersions } from '../index/version.js';
import type { ResolvedImage } from './apko-file.js';
import { formatPin, isPin } from './package-spec.js';
import { choosePin, type VersionSource } from './version-source.js';
import { applyScalarEdits, type ScalarEdit } from './yaml-doc.js';

export interface PinChange {
  line: number;
  name: string;
  from: string | undefined;
  to: string;
}

export interface PinNote {
  line: number;
  name: string;
  message: string;
  /** A pin that could not be checked or moved; bare names the indexes do not know are only notes. */
  error: boolean;
}

export interface PinResult {
  file: string;
  /** The file's new text: the original bytes with only the pinned scalars changed. */
  text: string;
  changes: PinChange[];
  notes: PinNote[];
}

export interface PinOptions {
  /** Also pin bare `name` entries. */
  all: boolean;
  /** APK arches for files whose chain names none. */
  fallbackArches: readonly string[];
}

/**
 * Moves the pins written in the image's own file to the newest version present on every arch the image (with
 * its includes) builds for, and with `all` pins its bare names too. Included files are pinned when they are
 * passed themselves, for their own arches.
 */
export async function pinImage(image: ResolvedImage, source: VersionSource, options: PinOptions): Promise<PinResult> {
  const file = image.file;
  const result: PinResult = { file: file.path, text: file.text, changes: [], notes: [] };
  const arches = image.apkArches.length > 0 ? image.apkArches : options.fallbackArches;
  const edits: ScalarEdit[] = [];
  for (const entry of file.packages) {
    const spec = entry.spec;
    if (!spec || spec.tag !== undefined) continue;
    const pinned = isPin(spec);
    if (!pinned && !(options.all && spec.operator === undefined)) continue;
    const note = (message: string, error: boolean) => result.notes.push({ line: entry.line, name: spec.name, message, error });
    if (image.unknownArchs.length > 0) {
      note(`not pinned: apko does not know arch ${image.unknownArchs.join(', ')}`, true);
      continue;
    }
    if (arches.length === 0) {
      note('not pinned: the file and its includes name no archs (pass --arch)', true);
      continue;
    }
    const versions = await source.versions(spec.name, arches);
    if (versions === undefined) {
      note(pinned ? 'not in the indexes' : 'not in the indexes (a package built here?); left unpinned', pinned);
      continue;
    }
    const target = choosePin(versions, spec.version);
    if (target === undefined) {
      note(`no version present on all of ${arches.join(', ')}`, true);
      continue;
    }
    if (target === spec.version) continue;
    edits.push({ node: entry.node, value: formatPin(spec.name, target) });
    result.changes.push({ line: entry.line, name: spec.name, from: spec.version, to: target });
    if (spec.version !== undefined && compareVersions(target, spec.version) < 0) {
      note(`moved down from ${spec.version}: that version is not on every one of ${arches.join(', ')}`, false);
    }
  }
  if (edits.length > 0) result.text = applyScalarEdits(file.text, edits);
  return result;
}
