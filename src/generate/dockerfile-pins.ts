import type { ImageConstraint } from '../apko/tree.js';
import { APK_EQUAL, operatorFlags, type ApkAddWord } from '../dockerfile/apk-add.js';
import { parseDockerfile, type DockerfilePackage } from '../dockerfile/dockerfile.js';
import { compareVersions, isValidVersion } from '../index/version.js';
import { packageScope, type ScopedDockerfile } from './dockerfile-tree.js';
import { entryScope, notJudged, scopeVersions, versionAbsence, withoutData } from './image-scope.js';
import type { PinNoteKind, PinOptions, PinResult } from './pin.js';
import { securityNote } from './security.js';
import { choosePin, type VersionSource } from './version-source.js';

/**
 * What one `apk add` word asks for: a pin (`name=version`: only `=` in the operator), a constraint (`>=`, `<`, `~`
 * ...), a bare name (apk takes the newest), a version held in a build argument (`name=${V}`), or something apk
 * would refuse (an operator apk does not know, such as `><`, or a version apk cannot read).
 */
export type DockerPackageKind = 'pin' | 'constraint' | 'unpinned' | 'variable' | 'invalid';

export function packageKind(p: ApkAddWord): DockerPackageKind {
  if (p.operator === undefined || p.version === undefined) return 'unpinned';
  if (p.version.includes('$')) return 'variable';
  const flags = operatorFlags(p.operator);
  if (flags === undefined || !isValidVersion(p.version)) return 'invalid';
  return flags === APK_EQUAL ? 'pin' : 'constraint';
}

/** The word as apk reads it, for messages: `name@tag=version`. */
export function describeWord(p: ApkAddWord): string {
  return `${p.name}${p.tag ? `@${p.tag}` : ''}${p.operator ?? ''}${p.version ?? ''}`;
}

/** An edit of the file text: replace [start, end) with `text`. */
interface TextEdit {
  start: number;
  end: number;
  text: string;
  /** The package (index in `file.packages`) and the version it must read afterwards. */
  index: number;
  version: string;
}

/**
 * Moves the `RUN apk add name=version` pins of one Dockerfile to the newest version the image each stage builds on
 * can install: present on each of its arches in its repositories (see stageScopes). With `all`, bare names are
 * pinned too. Constraints are left to `check`; a version in a build argument (`${V}`) and bare names (without
 * `all`) are left alone and counted as not pinned. Only the version's characters change; the file is read again
 * to prove every moved word reads its new version.
 */
export async function pinDockerfile(
  d: ScopedDockerfile,
  source: VersionSource,
  options: PinOptions,
): Promise<PinResult> {
  const { file } = d;
  const result: PinResult = { file: file.path, text: file.text, changes: [], notes: [] };
  const edits: TextEdit[] = [];
  for (const [index, p] of file.packages.entries()) {
    const note = (message: string, kind: PinNoteKind, repositories?: string[]) =>
      result.notes.push({ line: p.line, name: p.name, message, kind, ...(repositories && { repositories }) });
    const kind = packageKind(p);
    if (kind === 'variable' || (kind === 'unpinned' && !options.all)) {
      note(
        kind === 'variable' ? `not pinned: the version is ${p.version}, a build argument` : 'not pinned',
        'not-pinned',
      );
      continue;
    }
    if (kind === 'invalid') {
      note(`not pinned: ${describeWord(p)} is no version apk reads`, 'problem');
      continue;
    }
    if (kind === 'constraint') continue;
    const scope = packageScope(d, p.stage);
    if ('notChecked' in scope) {
      note(`not checked: ${scope.notChecked}`, 'not-checked', scope.lacking);
      continue;
    }
    if (p.tag !== undefined && scope.from !== 'image') {
      note(
        `not checked: @${p.tag} names a tagged repository of the image's /etc/apk/repositories, known only for images of the tree`,
        'not-checked',
      );
      continue;
    }
    const chosen = await chooseVersion(p, scope.constraint, source, note);
    if (chosen === undefined || chosen === p.version) continue;
    const at = editOf(p, chosen, index);
    if (!at) {
      note('not pinned: the word is written with escapes; write it plainly', 'problem');
      continue;
    }
    edits.push(at);
    const security = await securityNote(source.fixSource, p.name, p.version, chosen, scope.constraint.arches);
    result.changes.push({
      line: p.line,
      name: p.name,
      from: p.version,
      to: chosen,
      images: [scope.constraint.image],
      ...(security && { fixes: security.ids }),
    });
  }
  if (edits.length > 0) {
    try {
      result.text = applyEdits(file.text, file.path, edits);
    } catch (err) {
      // Nothing of this file is written; the other files are still pinned.
      result.notes.push({ line: 0, name: '-', message: `not written: ${(err as Error).message}`, kind: 'problem' });
      result.changes = [];
    }
  }
  return result;
}

/** The version a pin (or, with --all, a bare name) moves to in its stage's scope; undefined when none (noted). */
async function chooseVersion(
  p: DockerfilePackage,
  image: ImageConstraint,
  source: VersionSource,
  note: (message: string, kind: PinNoteKind, repositories?: string[]) => void,
): Promise<string | undefined> {
  const scope = entryScope(source, image, p.tag);
  const why = notJudged(scope);
  if (why) {
    // As an apko pin: a repository without data (none given, or none for an arch) is "not checked", for the gate.
    const lacking = withoutData(scope).map((r) => r.url);
    if (lacking.length > 0) note(why.replace(/^not checked/, 'not pinned'), 'not-checked', lacking);
    else note(why.replace(/^not checked/, 'not pinned'), 'problem');
    return undefined;
  }
  const versions = await scopeVersions(source, scope, p.name);
  if (versions === undefined) {
    note(
      p.version !== undefined
        ? `not in the repositories of ${image.image}`
        : `not in the repositories of ${image.image}; left unpinned`,
      p.version !== undefined ? 'problem' : 'info',
    );
    return undefined;
  }
  const absence = p.version === undefined ? undefined : versionAbsence(versions, p.version);
  const chosen = choosePin(versions.common, p.version);
  if (chosen === undefined) {
    note(`no version is on every arch of ${image.image}${absence ? ` (${absence})` : ''}`, 'problem');
    return undefined;
  }
  // A pin never moves back, as an apko pin: the version it names is gone from these repositories, for a person to judge.
  if (p.version !== undefined && compareVersions(chosen, p.version) < 0) {
    const why = absence ?? `${p.version} is not on every arch of ${image.image}`;
    note(`not moved back: ${why}; the newest available is ${chosen}`, 'problem');
    return undefined;
  }
  return chosen;
}

/** Where the new version goes: over the old one, or after a bare name (`name` -> `name=version`). */
function editOf(p: DockerfilePackage, version: string, index: number): TextEdit | undefined {
  if (p.version !== undefined)
    return p.versionSpan
      ? { start: p.versionSpan[0], end: p.versionSpan[1], text: version, index, version }
      : undefined;
  const last = p.word.offsets.at(-1);
  const first = p.word.offsets[0];
  if (last === undefined || first === undefined || last < 0 || last - first + 1 !== p.word.text.length)
    return undefined;
  return { start: last + 1, end: last + 1, text: `=${version}`, index, version };
}

function applyEdits(text: string, path: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  const again = parseDockerfile(out, path).packages;
  for (const e of edits) {
    const read = again[e.index];
    if (read?.version !== e.version)
      throw new Error(
        `${path}: the edited file reads ${read ? describeWord(read) : 'no package'} where ${e.version} was written`,
      );
  }
  return out;
}
