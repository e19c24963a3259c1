/**
 * The tags an image is published under, from the version its first package is pinned to.
 *
 * An APK version is `N(.N)*[letter](_suffix[N])*[~hash][-rN]` (apk-tools' version.c, go-apk's version.go). The tags
 * leave out the package's build number (`-rN`): an image is rebuilt whenever any file it is built from changes, so
 * the build number of one of its packages says nothing about the image.
 *
 * The ladder of a release version (`-rN` stripped) is the version itself, then each shorter prefix of its dotted
 * numbers, down to the major: `1.16.7` gives `1.16.7`, `1.16`, `1`; `2.0_p1` (a patch after 2.0) gives `2.0_p1`,
 * `2.0`, `2`, since it belongs to the 2.0 line and is newer than 2.0 itself; `2024a` gives `2024a`, `2024`.
 * - A major of 0 is no line (semver: anything may change before 1.0), so `0.9.7` stops at `0.9`.
 * - A date version is one number (`20240705`): its ladder is itself; dotted calendar versions (`26.04`, `2024.9`)
 *   climb to the year (`26`, `2024`), the line of that year's releases.
 * - A prerelease (`_alpha`, `_beta`, `_pre`, `_rc`) is tagged as itself only: it moves no line, and not `latest`.
 * - `~hash` cannot be in an OCI tag: it is left out of the first tag.
 */

const APK_RELEASE =
  /^(?<numbers>\d+(?:\.\d+)*)(?<letter>[a-z]?)(?<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:~[0-9a-f]+)?$/;
const PRERELEASE = /_(?:alpha|beta|pre|rc)\d*/;
/** The OCI distribution spec's tag grammar. */
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function isOciTag(tag: string): boolean {
  return OCI_TAG.test(tag);
}

/** The version without its build number: `1.16.7-r0` -> `1.16.7`. */
export function releaseOf(version: string): string {
  return version.replace(/-r\d+$/, '');
}

/** The parts of a pinned version that tag templates name. */
export interface VersionParts {
  /** As pinned: `1.16.7-r0`. */
  pin: string;
  /** Without `-rN`: `1.16.7`. */
  version: string;
  major: string | undefined;
  minor: string | undefined;
  patch: string | undefined;
  prerelease: boolean;
  ladder: string[];
}

export function versionParts(pin: string): VersionParts {
  const version = releaseOf(pin);
  const m = APK_RELEASE.exec(version)?.groups;
  if (!m) return { pin, version, major: undefined, minor: undefined, patch: undefined, prerelease: false, ladder: [] };
  const numbers = m.numbers!.split('.');
  const prerelease = PRERELEASE.test(m.suffixes!);
  const exact = version.replace(/~[0-9a-f]+$/, '');
  const ladder = [exact];
  if (!prerelease) {
    const lines = Number(numbers[0]) === 0 ? numbers.length - 1 : numbers.length;
    for (let n = numbers.length; n > numbers.length - lines; n--) ladder.push(numbers.slice(0, n).join('.'));
  }
  return {
    pin,
    version,
    major: numbers[0],
    minor: numbers[1],
    patch: numbers[2],
    prerelease,
    ladder: [...new Set(ladder)].filter(isOciTag),
  };
}

/** What templates may name, each `{{name}}`. */
export const TAG_PLACEHOLDERS = ['ladder', 'version', 'pin', 'major', 'minor', 'patch', 'name', 'package'] as const;
type Placeholder = (typeof TAG_PLACEHOLDERS)[number];

/** The placeholders a template names that do not exist; [] when it is good. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)]
    .map((m) => m[1]!)
    .filter((name) => !(TAG_PLACEHOLDERS as readonly string[]).includes(name));
}

export interface TagInput {
  /** The image's name (its repository in the registry). */
  name: string;
  /** The first package's name, when there is one. */
  package: string | undefined;
  /** Its pinned version; undefined when it is not pinned. */
  pin: string | undefined;
}

/**
 * The tags of one image. Without templates: the ladder of the pinned version plus `latest` (not for a prerelease);
 * `latest` alone when the first package is not pinned. With templates: each rendered, `{{ladder}}` once per rung; a
 * template naming a part the version lacks (`{{minor}}` of `20240705`, anything of an unpinned image) gives no tag.
 */
export function imageTags(input: TagInput, templates: readonly string[] = []): string[] {
  const parts = input.pin === undefined ? undefined : versionParts(input.pin);
  if (templates.length === 0) {
    if (!parts) return ['latest'];
    return [...parts.ladder, ...(parts.prerelease ? [] : ['latest'])];
  }
  const values = (name: Placeholder): string[] => {
    switch (name) {
      case 'name':
        return [input.name];
      case 'package':
        return input.package === undefined ? [] : [input.package];
      case 'ladder':
        return parts?.ladder ?? [];
      default: {
        const value = parts?.[name];
        return value === undefined ? [] : [value];
      }
    }
  };
  const tags: string[] = [];
  for (const template of templates) {
    let rendered = [''];
    for (const piece of template.split(/(\{\{\s*[^}]*?\s*\}\})/)) {
      const placeholder = /^\{\{\s*([^}]*?)\s*\}\}$/.exec(piece)?.[1] as Placeholder | undefined;
      const options = placeholder === undefined ? [piece] : values(placeholder);
      rendered = rendered.flatMap((head) => options.map((option) => head + option));
    }
    tags.push(...rendered);
  }
  return [...new Set(tags)];
}
