import type { Scalar } from 'yaml';
import type { ApkoFile, ResolvedImage } from '../apko/image.js';
import { formatPin, isPin } from '../apko/package-spec.js';
import type { ApkoTree, FileConstraint } from '../apko/tree.js';
import { compareVersions } from '../index/version.js';
import { describeDuplicate, duplicatePins } from './duplicate-pins.js';
import { entryScope, notJudged, scopeVersions, versionAbsence, withoutData } from './image-scope.js';
import { securityNote } from './security.js';
import { choosePin, type VersionSource } from './version-source.js';
import { applyScalarEdits, type ScalarEdit } from './yaml-doc.js';

export interface PinChange {
  line: number;
  name: string;
  from: string | undefined;
  to: string;
  /** The images the new version was chosen for (each on all of its arches, from its own repositories). */
  images: string[];
  /** Security IDs the move fixes (known from a security database), in apk order of the fixing version. */
  fixes?: string[];
}

/**
 * `problem`: a pin that could not be checked or moved; `not-checked`: no data for an image's repository;
 * `not-pinned`: a Dockerfile's bare name or `${VAR}` version, left alone and counted; `info`: said only.
 */
export type PinNoteKind = 'problem' | 'not-checked' | 'not-pinned' | 'info';

export interface PinNote {
  line: number;
  name: string;
  message: string;
  kind: PinNoteKind;
  /** `not-checked`: the image's repositories (comparable URLs) that had no data. */
  repositories?: string[];
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
}

/**
 * Moves the pins written in one file to the newest version every image building with it can install: for each
 * image holding the file (`FileConstraint`), a version present on each of its arches in its own repositories.
 * A pin shared by an amd64-only and an arm64-only image moves only to a version both have. Entries an image
 * cannot be judged for (a repository without data) are left as they are and said so. With `all`, bare names are
 * pinned too. Only `=` pins are rewritten: `>=`, `~` and the like are constraints, checked by `check`.
 */
export async function pinFile(
  file: ApkoFile,
  constraint: FileConstraint,
  images: readonly ResolvedImage[],
  source: VersionSource,
  options: PinOptions,
): Promise<PinResult> {
  const result: PinResult = { file: file.path, text: file.text, changes: [], notes: [] };
  const edits: ScalarEdit[] = [];
  const conflicting = new Set<Scalar>();
  for (const image of images) {
    for (const d of duplicatePins(image)) {
      const here = d.entries.filter((e) => e.file === file.path);
      if (here.length === 0) continue;
      if (d.conflicting) for (const e of d.entries) conflicting.add(e.node);
      const note = {
        line: here[0]!.line,
        name: d.name,
        message: describeDuplicate(d),
        kind: d.conflicting ? ('problem' as const) : ('info' as const),
      };
      if (!result.notes.some((n) => n.message === note.message)) result.notes.push(note);
    }
  }
  for (const entry of file.packages) {
    const spec = entry.spec;
    if (!spec || spec.conflict) continue;
    const pinned = isPin(spec);
    if (!pinned && !(options.all && spec.operator === undefined)) continue;
    const note = (message: string, kind: PinNoteKind, repositories?: string[]) =>
      result.notes.push({ line: entry.line, name: spec.name, message, kind, ...(repositories && { repositories }) });
    if (conflicting.has(entry.node)) continue;
    if (!isEditable(entry.node)) {
      note('not pinned: a block scalar (| or >) cannot be edited in place; write the item plain or quoted', 'problem');
      continue;
    }
    if (constraint.images.length === 0) {
      note('not pinned: no image of the tree builds with this file', 'problem');
      continue;
    }
    let candidates: string[] | undefined;
    let unknownIn: string[] = [];
    let skipped = false;
    const absences: string[] = [];
    for (const image of constraint.images) {
      const scope = entryScope(source, image, spec.tag);
      const why = notJudged(scope);
      if (why) {
        const lacking = withoutData(scope).map((r) => r.url);
        if (lacking.length > 0) note(why.replace(/^not checked/, 'not pinned'), 'not-checked', lacking);
        else note(why.replace(/^not checked/, 'not pinned'), 'problem');
        skipped = true;
        break;
      }
      const versions = await scopeVersions(source, scope, spec.name);
      if (versions === undefined) {
        unknownIn.push(image.image);
        continue;
      }
      if (pinned) {
        const absence = versionAbsence(versions, spec.version);
        if (absence) absences.push(`${absence}${constraint.images.length > 1 ? ` for ${image.image}` : ''}`);
      }
      candidates = candidates === undefined ? versions.common : candidates.filter((v) => versions.common.includes(v));
    }
    if (skipped) continue;
    unknownIn = [...new Set(unknownIn)];
    if (unknownIn.length > 0) {
      note(
        pinned
          ? `not in the repositories of ${unknownIn.join(', ')}`
          : `not in the repositories of ${unknownIn.join(', ')} (a package built here?); left unpinned`,
        pinned ? 'problem' : 'info',
      );
      continue;
    }
    const chosen = choosePin(candidates ?? [], spec.version);
    if (chosen === undefined) {
      note(
        `no version is on every arch of every image building with this file${absences.length ? ` (${absences.join('; ')})` : ''}`,
        'problem',
      );
      continue;
    }
    if (chosen === spec.version) continue;
    // A pin never moves back: the version it names is gone from these repositories, which is for a person to judge.
    if (spec.version !== undefined && compareVersions(chosen, spec.version) < 0) {
      const why = absences.length
        ? absences.join('; ')
        : `${spec.version} is not on every arch of every image building with this file`;
      note(`not moved back: ${why}; the newest available is ${chosen}`, 'problem');
      continue;
    }
    edits.push({ node: entry.node, value: formatPin(spec.name, chosen, spec.tag) });
    const arches = constraint.arches;
    const security = await securityNote(source.fixSource, spec.name, spec.version, chosen, arches);
    result.changes.push({
      line: entry.line,
      name: spec.name,
      from: spec.version,
      to: chosen,
      images: constraint.images.map((i) => i.image),
      ...(security && { fixes: security.ids }),
    });
  }
  if (edits.length > 0) {
    try {
      result.text = applyScalarEdits(file.text, edits);
    } catch (err) {
      // Nothing of this file is written; the other files are still pinned.
      result.notes.push({ line: 0, name: '-', message: `not written: ${(err as Error).message}`, kind: 'problem' });
      result.changes = [];
    }
  }
  return result;
}

/** Pins every target file of the tree, each once, for every image that builds with it. */
export async function pinTree(
  tree: ApkoTree,
  constraints: ReadonlyMap<string, FileConstraint>,
  source: VersionSource,
  options: PinOptions,
): Promise<PinResult[]> {
  const results: PinResult[] = [];
  for (const target of tree.targets) {
    const constraint = constraints.get(target);
    const images = tree.images.filter((image) => image.chain.some((f) => f.path === target));
    const file = images.flatMap((image) => image.chain).find((f) => f.path === target);
    if (!constraint || !file) continue;
    results.push(await pinFile(file, constraint, images, source, options));
  }
  return results;
}

/** Only plain and quoted scalars are rewritten in place; block scalars (`|`, `>`) are left alone. */
function isEditable(node: Scalar): boolean {
  return (
    node.type === undefined || node.type === 'PLAIN' || node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE'
  );
}
