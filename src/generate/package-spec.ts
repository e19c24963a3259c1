/**
 * An entry of apko's `contents.packages`: `name`, `name=version` (a pin), `name@tag` (a package from a tagged
 * repository, e.g. a local melange build) or another apk constraint (`name>=1.2`, `name~1.2`).
 */
export interface PackageSpec {
  name: string;
  /** The repository tag after `@`, when the entry names one. */
  tag: string | undefined;
  /** `=` for a pin; `>=`, `<`, `~` ... for constraints; undefined for a bare name. */
  operator: string | undefined;
  version: string | undefined;
}

const SPEC = /^(?<name>[^\s@<>=~]+)(?:@(?<tag>[^\s<>=~]+))?(?:(?<operator>[<>=~]+)(?<version>[^\s@<>=~]+))?$/;

export function parsePackageSpec(entry: string): PackageSpec | undefined {
  const groups = SPEC.exec(entry)?.groups;
  if (!groups) return undefined;
  return { name: groups.name!, tag: groups.tag, operator: groups.operator, version: groups.version };
}

/** Exactly one version: what `pin` rewrites and Renovate tracks. */
export function isPin(spec: PackageSpec): spec is PackageSpec & { operator: '='; version: string } {
  return spec.operator === '=' && spec.version !== undefined;
}

export function formatPin(name: string, version: string): string {
  return `${name}=${version}`;
}
