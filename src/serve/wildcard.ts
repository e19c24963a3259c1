/**
 * hown3d/renovate-apk-indexer's `/wildcardVersion/<pattern>`: one `*` stands for the version in Wolfi's versioned
 * package names. `argo-cd*` matches `argo-cd-<version>` only; `argo-cd*compat` and `argo-cd-*-compat` match
 * `argo-cd-<version>-compat` and also `argo-cd-compat`.
 */
export function wildcardMatcher(pattern: string): ((name: string) => boolean) | undefined {
  const star = pattern.indexOf('*');
  if (star === -1 || pattern.indexOf('*', star + 1) !== -1) return undefined;
  const prefix = pattern.slice(0, star).replace(/-$/, '');
  const suffix = pattern.slice(star + 1).replace(/^-/, '');
  if (prefix === '') return undefined;
  const version = '\\d+(?:\\.\\d+)*';
  const re = suffix
    ? new RegExp(`^${escape(prefix)}(?:-${version})?-${escape(suffix)}$`)
    : new RegExp(`^${escape(prefix)}-${version}$`);
  return (name) => re.test(name);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
