import { compareVersions } from '../index/version.js';
import type { Scalar } from 'yaml';
import type { ResolvedImage } from './apko-file.js';
import { archesByFile, type FileArches } from './file-arches.js';
import { formatPin, isPin } from './package-spec.js';
import { securityNote } from './security.js';
import { choosePin, type VersionSource } from './version-source.js';
import { applyScalarEdits, type ScalarEdit } from './yaml-doc.js';

export interface PinChange {
  line: number;
  name: string;
  from: string | undefined;
  to: string;
  /** Security IDs the move fixes (known from a security database), in apk order of the fixing version. */
  fixes?: string[];
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
  /** APK arches (`--arch`) for images whose chain names none. */
  fallbackArches: readonly string[];
}

/**
 * Moves the pins written in one file to the newest version present on every arch the file is built for: the
 * union of the arches of every image whose `include:` chain holds it (`archesByFile`), so a pin shared by several
 * images never moves to a version one of them cannot install. With `all`, bare names are pinned too.
 */
export async function pinFile(target: FileArches, source: VersionSource, options: Pick<PinOptions, 'all'>): Promise<PinResult> {
  const file = target.file;
  const result: PinResult = { file: file.path, text: file.text, changes: [], notes: [] };
  const arches = target.arches;
  const known = source.arches;
  const unloaded = known ? arches.filter((a) => !known.includes(a)) : [];
  const edits: ScalarEdit[] = [];
  for (const entry of file.packages) {
    const spec = entry.spec;
    if (!spec || spec.tag !== undefined) continue;
    const pinned = isPin(spec);
    if (!pinned && !(options.all && spec.operator === undefined)) continue;
    const note = (message: string, error: boolean) => result.notes.push({ line: entry.line, name: spec.name, message, error });
    if (!isEditable(entry.node)) {
      note('not pinned: a block scalar (| or >) cannot be edited in place; write the item plain or quoted', true);
      continue;
    }
    if (target.unknownArchs.length > 0) {
      note(`not pinned: apko does not know arch ${target.unknownArchs.join(', ')}`, true);
      continue;
    }
    if (target.archless.length > 0 || arches.length === 0) {
      const others = target.archless.filter((p) => p !== file.path);
      note(
        others.length > 0
          ? `not pinned: ${others.join(', ')}, which include${others.length === 1 ? 's' : ''} this file, name${others.length === 1 ? 's' : ''} no archs (pass --arch)`
          : 'not pinned: the file and its includes name no archs (pass --arch)',
        true,
      );
      continue;
    }
    if (unloaded.length > 0) {
      note(`not pinned: no index for ${unloaded.join(', ')} was loaded; pass one or drop the arch`, true);
      continue;
    }
    const versions = await source.versions(spec.name, arches);
    if (versions === undefined) {
      note(pinned ? 'not in the indexes' : 'not in the indexes (a package built here?); left unpinned', pinned);
      continue;
    }
    const chosen = choosePin(versions, spec.version);
    if (chosen === undefined) {
      note(`no version present on all of ${arches.join(', ')}`, true);
      continue;
    }
    if (chosen === spec.version) continue;
    edits.push({ node: entry.node, value: formatPin(spec.name, chosen) });
    const security = await securityNote(source.fixSource, spec.name, spec.version, chosen, arches);
    result.changes.push({ line: entry.line, name: spec.name, from: spec.version, to: chosen, ...(security && { fixes: security.ids }) });
    if (spec.version !== undefined && compareVersions(chosen, spec.version) < 0) {
      note(`moved down from ${spec.version}: that version is not on every one of ${arches.join(', ')}`, false);
    }
  }
  if (edits.length > 0) {
    try {
      result.text = applyScalarEdits(file.text, edits);
    } catch (err) {
      // Nothing of this file is written; the other files are still pinned.
      result.notes.push({ line: 0, name: '-', message: `not written: ${(err as Error).message}`, error: true });
      result.changes = [];
    }
  }
  return result;
}

/**
 * Pins every file named (each image's own file), each once for the union of the arches of the images that
 * hold it. Included files that were not named stay as they are.
 */
export async function pinImages(
  images: readonly ResolvedImage[],
  source: VersionSource,
  options: PinOptions,
): Promise<PinResult[]> {
  const byFile = archesByFile(images, options.fallbackArches);
  const named = [...new Set(images.map((image) => image.file.path))];
  const results: PinResult[] = [];
  for (const path of named) results.push(await pinFile(byFile.get(path)!, source, options));
  return results;
}

/** Only plain and quoted scalars are rewritten in place; block scalars (`|`, `>`) are left alone. */
function isEditable(node: Scalar): boolean {
  return node.type === undefined || node.type === 'PLAIN' || node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE';
}
