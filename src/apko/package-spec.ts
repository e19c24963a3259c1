/**
 * An entry of apko's `contents.packages`, parsed as apko's resolver parses it
 * (`ResolvePackageNameVersionPin`: `^([^@=><~]+)(([=><~]+)([^@]+))?(@([a-zA-Z0-9]+))?$`):
 * `name`, `name=version` (a pin), `name>=version`, `name<version`, `name~version` (constraints),
 * any of them followed by `@tag` (only from the repository written `@tag URL`), and `!name` (a conflict).
 */
export interface PackageSpec {
  name: string;
  /** The repository tag after `@`, when the entry names one. */
  tag: string | undefined;
  /** `=` for a pin; `>`, `<`, `>=`, `<=`, `~`, `=~` for constraints; undefined for a bare name. */
  operator: Operator | undefined;
  version: string | undefined;
  /** `!name`: nothing providing `name` may be installed. */
  conflict: boolean;
}

export type Operator = '=' | '>' | '<' | '>=' | '<=' | '~' | '=~';
const OPERATORS: readonly string[] = ['=', '>', '<', '>=', '<=', '~', '=~'];

const SPEC = /^(?<name>[^@=><~]+)(?:(?<operator>[=><~]+)(?<version>[^@]+))?(?:@(?<tag>[a-zA-Z0-9]+))?$/;

/**
 * undefined for what apko would not read as a package: an empty entry, whitespace inside, an operator apko does
 * not know (`==`, `><`) or a tag with other characters than letters and digits (apko then looks for a package
 * named by the whole entry, which never exists).
 */
export function parsePackageSpec(entry: string): PackageSpec | undefined {
  const conflict = entry.startsWith('!');
  const text = conflict ? entry.slice(1) : entry;
  if (/\s/.test(text)) return undefined;
  const groups = SPEC.exec(text)?.groups;
  if (!groups) return undefined;
  const operator = groups.operator;
  if (operator !== undefined && !OPERATORS.includes(operator)) return undefined;
  return {
    name: groups.name!,
    tag: groups.tag,
    operator: operator as Operator | undefined,
    version: groups.version,
    conflict,
  };
}

/** Exactly one version: what `pin` rewrites and Renovate tracks. */
export function isPin(spec: PackageSpec): spec is PackageSpec & { operator: '='; version: string } {
  return spec.operator === '=' && spec.version !== undefined && !spec.conflict;
}

/** The entry with another version, keeping its tag: `name=version[@tag]`. */
export function formatPin(name: string, version: string, tag?: string): string {
  return `${name}=${version}${tag ? `@${tag}` : ''}`;
}
