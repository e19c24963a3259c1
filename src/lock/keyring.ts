import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { describeFileProblem, KeyringError } from '../errors.js';
import { splitCredentials } from '../source/locations.js';
import { byteOrder } from '../resolve/arches.js';
import { stripScheme, type LockKeyring } from './lock-file.js';

/** Where apko reads Alpine's signing keys per release and arch. */
export const ALPINE_RELEASES_URL = 'https://alpinelinux.org/releases.json';

export interface KeyringOptions {
  /** apko's working directory: key paths are read against it. */
  root: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Alpine's releases.json (a test serves its own). */
  alpineReleasesUrl?: string;
  now?: Date;
  /** What one run has discovered, so a tree of images asks each repository once (newKeyringMemo()). */
  memo?: KeyringMemo;
}

export interface KeyringMemo {
  keys: Map<string, Promise<LockKeyring[]>>;
  releases?: { url: string; releases: Promise<AlpineReleases | undefined> };
}

export function newKeyringMemo(): KeyringMemo {
  return { keys: new Map() };
}

/**
 * The lock's keyring as `apko lock` writes it: each `contents.keyring` entry as written (includes first, repeats
 * kept) with its PEM embedded, plus the keys apko discovers for the repositories (Alpine's from releases.json for
 * an `…/alpine/<release>/<repo>` URL, Chainguard-style ones from `<repo>/apk-configuration`), sorted by name.
 */
export async function lockKeyring(
  keys: readonly string[],
  repositoryLines: readonly string[],
  arches: readonly string[],
  o: KeyringOptions,
): Promise<LockKeyring[]> {
  const out: LockKeyring[] = [];
  for (const key of keys) out.push({ name: stripScheme(key), url: key, content: await readKey(key, o) });
  const discovered = new Map<string, LockKeyring>();
  let releases: AlpineReleases | undefined;
  for (const repo of new Set(repositoryLines)) {
    const version = /^https?:\/\/.+\/alpine\/([^/]+)\/[^/]+$/.exec(repo)?.[1];
    if (version !== undefined) {
      releases ??= await alpineReleases(o);
      const branch = releases?.release_branches?.find((b) => b.rel_branch === version);
      for (const arch of branch ? arches : []) {
        for (const url of alpineKeysFor(branch!, arch, o.now ?? new Date())) {
          if (discovered.has(url)) continue;
          discovered.set(url, { name: stripScheme(url), url, content: await fetchText(url, o, true) });
        }
      }
    }
    for (const key of await chainguardKeys(repo, o)) discovered.set(key.url, key);
  }
  out.push(...discovered.values());
  return out.sort((a, b) => byteOrder(a.name, b.name));
}

/** releases.json, fetched once per run. */
function alpineReleases(o: KeyringOptions): Promise<AlpineReleases | undefined> {
  const url = o.alpineReleasesUrl ?? ALPINE_RELEASES_URL;
  const memo = o.memo ?? newKeyringMemo();
  if (memo.releases?.url !== url) memo.releases = { url, releases: fetchJson<AlpineReleases>(url, o, true) };
  return memo.releases.releases;
}

async function readKey(key: string, o: KeyringOptions): Promise<string> {
  if (/^https?:\/\//.test(key)) return fetchText(key, o, true);
  const path = isAbsolute(key) ? key : resolve(o.root, key);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new KeyringError(`keyring ${key}: cannot read: ${describeFileProblem(err)}`, { cause: err });
  }
}

export interface AlpineReleases {
  release_branches?: { rel_branch?: string; keys?: Record<string, { url?: string; deprecated_since?: string }[]> }[];
}

/** apko's `KeysFor`: the arch's keys not deprecated by `now`, with releases.json's `%20` read as `@`. */
function alpineKeysFor(
  branch: NonNullable<AlpineReleases['release_branches']>[number],
  arch: string,
  now: Date,
): string[] {
  return (branch.keys?.[arch] ?? []).flatMap((k) => {
    if (typeof k.url !== 'string') return [];
    const since = k.deprecated_since ? Date.parse(`${k.deprecated_since}T00:00:00Z`) : NaN;
    if (!Number.isNaN(since) && since <= now.getTime()) return [];
    return [k.url.replaceAll('%20', '@')];
  });
}

/** Chainguard-style discovery: `<repo>/apk-configuration` names a JWKS; each key becomes `<repo>/<kid>.rsa.pub`. */
function chainguardKeys(repo: string, o: KeyringOptions): Promise<LockKeyring[]> {
  if (!/^https?:\/\//.test(repo)) return Promise.resolve([]);
  const memo = o.memo ?? newKeyringMemo();
  let found = memo.keys.get(repo);
  if (!found) {
    found = discover(repo, o);
    memo.keys.set(repo, found);
  }
  return found;
}

async function discover(repo: string, o: KeyringOptions): Promise<LockKeyring[]> {
  const base = repo.replace(/\/+$/, '');
  try {
    const config = await fetchJson<{ jwks_uri?: string }>(`${base}/apk-configuration`, o, false);
    if (!config?.jwks_uri) return [];
    const jwks = await fetchJson<{ keys?: (JsonWebKey & { kid?: string })[] }>(config.jwks_uri, o, false);
    return (jwks?.keys ?? []).flatMap((jwk) => {
      if (!jwk.kid || jwk.kty !== 'RSA') return [];
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      const url = `${base}/${jwk.kid}.rsa.pub`;
      return [{ name: stripScheme(url), url, content: pem }];
    });
  } catch {
    // apko logs a failed discovery and goes on without it.
    return [];
  }
}

async function get(location: string, o: KeyringOptions): Promise<Response> {
  const { url, authorization } = splitCredentials(location);
  try {
    return await (o.fetch ?? fetch)(url, {
      headers: authorization ? { authorization } : {},
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new KeyringError(`${url}: cannot fetch (${(err as Error).message})`, { cause: err });
  }
}

async function fetchText(location: string, o: KeyringOptions, required: boolean): Promise<string> {
  const response = await get(location, o);
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    if (required) throw new KeyringError(`${splitCredentials(location).url}: HTTP ${response.status}`);
    return '';
  }
  return response.text();
}

/** JSON from a URL; a 404 is undefined (nothing to discover there). */
async function fetchJson<T>(location: string, o: KeyringOptions, required: boolean): Promise<T | undefined> {
  const response = await get(location, o);
  if (response.status === 404 && !required) return undefined;
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new KeyringError(`${splitCredentials(location).url}: HTTP ${response.status}`);
  }
  try {
    return (await response.json()) as T;
  } catch (err) {
    throw new KeyringError(`${splitCredentials(location).url}: not JSON`, { cause: err });
  }
}
