import { isAbsolute, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** APK architecture names, as they appear in repository paths. */
export const APK_ARCHES = [
  'x86_64',
  'aarch64',
  'armv7',
  'armhf',
  'x86',
  'ppc64le',
  's390x',
  'riscv64',
  'loongarch64',
] as const;

const INDEX_FILE = 'APKINDEX.tar.gz';

/** One APKINDEX.tar.gz to read: where it is, which arch it describes and which repository it belongs to. */
export interface IndexLocation {
  url: string;
  /** The arch of the index; undefined for a bare URL whose path does not say (the records' `A:` decides). */
  arch: string | undefined;
  repository: string;
}

/** Turns a path or URL into a URL string; plain paths become file:// URLs. */
export function toUrl(location: string): string {
  if (/^(https?|file):\/\//i.test(location)) return location;
  return pathToFileURL(isAbsolute(location) ? location : resolve(location)).href;
}

/**
 * Whether a location names one index file rather than a repository base: a URL or path whose last segment is
 * a `.tar.gz` or `.tgz` file (`APKINDEX.tar.gz`, `alpine-3.16.tar.gz`, `APKINDEX-x86_64.tar.gz`), or a local path
 * that is an existing file, whatever its name. Anything else is a base (`<base>/<arch>/APKINDEX.tar.gz`).
 */
export function isBareIndex(location: string): boolean {
  let url: URL;
  try {
    url = new URL(toUrl(location));
  } catch {
    return false; // not a URL: refused by the configuration's check, with the reason
  }
  if (/\.(tar\.gz|tgz)$/i.test(url.pathname)) return true;
  if (url.protocol !== 'file:' || url.pathname.endsWith('/')) return false;
  try {
    return statSync(fileURLToPath(url)).isFile();
  } catch {
    return false;
  }
}

/** Arches read under a base URL when none are given. */
export const DEFAULT_ARCHES: readonly string[] = ['x86_64'];

/**
 * The name of a repository configured without one: its URL as given without trailing slashes, credentials
 * redacted (the name shows in metrics labels, `/-/status` and logs).
 */
export function defaultRepositoryName(url: string): string {
  return redactUrl(url).replace(/\/+$/, '');
}

/**
 * Expands a repository (base URL plus arches) into its index locations; a bare index URL stands for itself.
 * The repository name defaults to the base URL (redacted: see defaultRepositoryName).
 */
export function indexLocations(repository: {
  url: string;
  arches?: readonly string[];
  name?: string;
}): IndexLocation[] {
  const url = toUrl(repository.url);
  const name = repository.name ?? defaultRepositoryName(repository.url);
  if (isBareIndex(url)) {
    return [{ url, arch: archFromIndexUrl(url), repository: name }];
  }
  const base = url.replace(/\/+$/, '');
  const arches = repository.arches && repository.arches.length > 0 ? repository.arches : DEFAULT_ARCHES;
  return arches.map((arch) => ({ url: `${base}/${arch}/${INDEX_FILE}`, arch, repository: name }));
}

/** `<base>/<arch>/APKINDEX.tar.gz` names its arch in the parent folder. */
export function archFromIndexUrl(url: string): string | undefined {
  const parts = new URL(url).pathname.split('/');
  const parent = parts[parts.length - 2];
  return parent && (APK_ARCHES as readonly string[]).includes(parent) ? parent : undefined;
}

/**
 * Credentials never appear in logs, status pages or metrics labels. A URL that does not parse (an unencoded `#`
 * or `@` in a password) is redacted by its text: everything between `://` and the last `@`, and any fragment.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    if (u.hash.includes('@')) return redactText(url);
    return u.href;
  } catch {
    return redactText(url);
  }
}

function redactText(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (!scheme) return url.replace(/#.*$/s, '#***');
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  return `${scheme}${at === -1 ? rest.replace(/#.*$/s, '#***') : `***@${rest.slice(at + 1).replace(/#.*$/s, '#***')}`}`;
}

/**
 * Why an index or key location cannot be read, or undefined when it can: a scheme other than http(s) and
 * file, text that is not a URL, or a fragment (an index has none; it is what an unencoded `#` in a password
 * turns into, taking the rest of the credentials with it). Messages show the location redacted.
 */
export function locationProblem(location: string): string | undefined {
  const shown = JSON.stringify(redactUrl(location));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();
  if (scheme !== undefined && !['http', 'https', 'file'].includes(scheme))
    return `expected an http(s) URL, file:// URL or path, got ${shown}`;
  let parsed: URL;
  try {
    parsed = new URL(toUrl(location));
  } catch {
    return `not a URL or path: ${shown} (a #, @, / or ? in a user name or password must be percent-encoded: %23, %40, %2F, %3F)`;
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol))
    return `expected an http(s) URL, file:// URL or path, got ${shown}`;
  if (scheme !== undefined && location.includes('#'))
    return `${shown} has a #fragment; a # in a user name or password must be written %23`;
  return undefined;
}

/** Whether two locations (URLs or paths) share an origin: credentials for one may be sent to the other. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(toUrl(a)).origin === new URL(toUrl(b)).origin;
  } catch {
    return false;
  }
}

/**
 * The URL without its userinfo, and the Basic authorization header the userinfo stands for (percent-decoded, as
 * curl and apk do). A URL without credentials is returned unchanged.
 */
export function splitCredentials(location: string): { url: string; authorization: string | undefined } {
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    return { url: location, authorization: undefined };
  }
  if (!u.username && !u.password) return { url: location, authorization: undefined };
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const credentials = `${decode(u.username)}:${decode(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}
