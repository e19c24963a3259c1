import { escapeRegex } from '../core/escape.js';

/**
 * hown3d/renovate-apk-indexer's `/wildcardVersion/<pattern>`: Wolfi puts versions into package names
 * (`argo-cd-2.12`, `nodejs-22`), and one `*` stands where that version is.
 * - `argo-cd*` or `argo-cd-*` matches `argo-cd-<version>` only: not `argo-cd`, not `argo-cd-2.12-compat`
 *   (hown3d: with nothing after the star, only names ending in the number). Without a dash before the star,
 *   `ruby*` also matches `ruby3.2`.
 * - `argo-cd*compat` and `argo-cd-*-compat` match `argo-cd-<version>-compat` and also `argo-cd-compat`.
 * `<version>` is digits and dots. Returns `undefined` for a pattern that is not one star after a name.
 */
export function wildcardMatcher(pattern: string): ((name: string) => boolean) | undefined {
  if (!isWildcardPattern(pattern)) return undefined;
  const star = pattern.indexOf('*');
  const before = pattern.slice(0, star);
  const prefix = before.replace(/-$/, '');
  const suffix = pattern.slice(star + 1).replace(/^-/, '');
  const separator = before.endsWith('-') ? '-' : '-?';
  const version = `${separator}\\d+(?:\\.\\d+)*`;
  const re = suffix
    ? new RegExp(`^${escapeRegex(prefix)}(?:${version})?-${escapeRegex(suffix)}$`)
    : new RegExp(`^${escapeRegex(prefix)}${version}$`);
  return (name) => name.startsWith(prefix) && re.test(name);
}

/** One star after a name (`argo-cd-*`, `ruby*-bundler`): a pattern `wildcardMatcher` accepts. */
export function isWildcardPattern(pattern: string): boolean {
  const star = pattern.indexOf('*');
  return star > 0 && pattern.indexOf('*', star + 1) === -1 && !(star === 1 && pattern[0] === '-');
}
