import { APK_EQUAL, APK_FUZZY, APK_GREATER, APK_LESS } from '../dockerfile/apk-add.js';
import { compareVersions } from '../index/version.js';

/**
 * Does `version` satisfy `operator required`, as apko's resolver decides (`versionDependency.satisfies`)?
 * `~` (and `=~`) matches every version that starts with the required one at a component boundary: `~1.2` takes
 * 1.2, 1.2.9 and 1.2-r3, not 1.20.
 */
export function satisfies(version: string, constraint: { operator: string; version: string }): boolean {
  const required = constraint.version;
  if (constraint.operator === '~' || constraint.operator === '=~') return tildeMatches(version, required);
  const c = compareVersions(version, required);
  switch (constraint.operator) {
    case '=':
      return c === 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    default:
      return false;
  }
}

/** apko's `includesVersion`: the required numbers are a prefix of the actual ones; anything written after them must match. */
function tildeMatches(actual: string, required: string): boolean {
  const numbers = (v: string) => /^\d+(?:\.\d+)*/.exec(v)?.[0].split('.').map(Number) ?? [];
  const a = numbers(actual);
  const r = numbers(required);
  if (a.length < r.length || r.some((n, i) => a[i] !== n)) return false;
  if (a.length > r.length) return true;
  const rest = (v: string) => v.replace(/^\d+(?:\.\d+)*/, '');
  // Same numbers: the letter, suffixes and revision written in the requirement must be the actual version's.
  return rest(actual).startsWith(rest(required));
}

/**
 * Does `version` satisfy an `apk add` constraint, as apk-tools' apk_version_match decides: a fuzzy operator (`~`,
 * `>~`, `<~`) first asks whether `required` is a prefix of the version at a component boundary (equal then),
 * otherwise the comparison's result must be one of the operator's flags (see operatorFlags).
 */
export function satisfiesFlags(version: string, flags: number, required: string): boolean {
  if ((flags & APK_FUZZY) !== 0 && tildeMatches(version, required)) return (flags & APK_EQUAL) !== 0;
  const c = compareVersions(version, required);
  return (flags & (c < 0 ? APK_LESS : c > 0 ? APK_GREATER : APK_EQUAL)) !== 0;
}

/** A dependency, world entry or provide as the solver reads it (go-apk's `ResolvePackageNameVersionPin`). */
export interface Constraint {
  name: string;
  /** '' when no version is named. */
  version: string;
  /** undefined: any version. */
  operator: string | undefined;
  /** The `@tag` it asks for; '' for none. */
  tag: string;
}

const CONSTRAINT = /^([^@=><~]+)(([=><~]+)([^@]+))?(@([a-zA-Z0-9]+))?$/;
const KNOWN_OPERATORS = new Set(['=', '>', '<', '>=', '<=', '~', '=~']);
const parsed = new Map<string, Constraint>();

/**
 * `name`, `name=1.2-r0`, `name>=1.2`, `name~1.2`, `name@tag`, `so:libz.so.1=1.3`. An operator apko does not know
 * (`==`) means any version, as in go-apk. A shared library's version without `-rN` (melange writes
 * `so:libfoo.so.1=1`) is read as `0.<version>`, so it sorts below the package versions melange now writes there.
 */
export function parseConstraint(token: string): Constraint {
  let found = parsed.get(token);
  if (found === undefined) {
    found = parseUncached(token);
    parsed.set(token, found);
  }
  return found;
}

/** The same, without keeping it: for provides, of which an index has hundreds of thousands, each seen once or twice. */
export function parseUncached(token: string): Constraint {
  {
    let text = token;
    if (text.startsWith('so:')) {
      const eq = text.indexOf('=');
      if (eq >= 0 && !/-r\d+$/.test(text.slice(eq + 1))) text = `${text.slice(0, eq)}=0.${text.slice(eq + 1)}`;
    }
    const m = CONSTRAINT.exec(text);
    return m
      ? {
          name: m[1]!,
          version: m[4] ?? '',
          operator: m[3] !== undefined && KNOWN_OPERATORS.has(m[3]) ? m[3] : undefined,
          tag: m[6] ?? '',
        }
      : { name: text, version: '', operator: undefined, tag: '' };
  }
}

/** The name of a provide or dependency (`so:libz.so.1=1.3` -> `so:libz.so.1`), as parseConstraint reads it. */
export function constraintName(token: string): string {
  const m = /^[^@=><~]+/.exec(token);
  return m ? m[0] : token;
}
