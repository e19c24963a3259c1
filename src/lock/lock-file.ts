import { LockFileError } from '../errors.js';

/**
 * apko's lock file (`pkg/lock/lock.go`), field for field in its order. `apko build --lockfile` installs exactly
 * the packages it lists and refuses it when `config.checksum` no longer matches the configuration.
 */
export interface Lock {
  version: 'v1';
  config: { name: string; checksum: string };
  contents: {
    keyring: LockKeyring[];
    build_repositories: LockRepository[];
    runtime_repositories: LockRepository[];
    repositories: LockRepository[];
    /** Per arch, in install order; the arches one after another. */
    packages: LockPackage[];
  };
}

export interface LockKeyring {
  name: string;
  url: string;
  /** The key's PEM, so a build needs no fetch (apko omits it when empty). */
  content?: string;
}

export interface LockRepository {
  name: string;
  url: string;
  architecture: string;
}

export interface LockRange {
  range: string;
  checksum: string;
}

export interface LockPackage {
  name: string;
  url: string;
  version: string;
  architecture: string;
  /** Empty range and checksum for an unsigned package, as apko writes it. */
  signature: LockRange;
  control: LockRange;
  data: LockRange;
  /** `Q1…`, the index's `C:`. */
  checksum: string;
}

/**
 * The bytes `apko lock` writes: Go's `json.MarshalIndent(lock, "", "  ")` and a newline. Go escapes `<`, `>`, `&`,
 * U+2028 and U+2029 in strings where JavaScript does not; empty `config` fields and key `content` are left out.
 */
export function renderLock(lock: Lock): string {
  const config: Record<string, string> = {};
  if (lock.config.name !== '') config.name = lock.config.name;
  if (lock.config.checksum !== '') config.checksum = lock.config.checksum;
  const ordered = {
    version: lock.version,
    config,
    contents: {
      keyring: lock.contents.keyring.map((k) => ({
        name: k.name,
        url: k.url,
        ...(k.content ? { content: k.content } : {}),
      })),
      build_repositories: lock.contents.build_repositories.map(repository),
      runtime_repositories: lock.contents.runtime_repositories.map(repository),
      repositories: lock.contents.repositories.map(repository),
      packages: lock.contents.packages.map((p) => ({
        name: p.name,
        url: p.url,
        version: p.version,
        architecture: p.architecture,
        signature: range(p.signature),
        control: range(p.control),
        data: range(p.data),
        checksum: p.checksum,
      })),
    },
  };
  return `${goEscape(JSON.stringify(ordered, null, 2))}\n`;
}

const repository = (r: LockRepository) => ({ name: r.name, url: r.url, architecture: r.architecture });
const range = (r: LockRange) => ({ range: r.range, checksum: r.checksum });

function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Reads a lock as apko would use it; what a build needs (packages with name, version, arch, URL, checksum) is checked. */
export function parseLock(text: string, path: string): Lock {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LockFileError(path, `not JSON (${(err as Error).message})`);
  }
  const v = value as Partial<Lock> | null;
  if (!v || typeof v !== 'object' || typeof v.contents !== 'object' || v.contents === null)
    throw new LockFileError(path, 'not an apko lock file (no contents)');
  const c = v.contents as Partial<Lock['contents']>;
  const packages = Array.isArray(c.packages) ? c.packages : [];
  packages.forEach((p, i) => {
    for (const field of ['name', 'version', 'architecture', 'url'] as const)
      if (typeof p?.[field] !== 'string')
        throw new LockFileError(path, `contents.packages[${i}] has no ${field} (apko cannot build from it)`);
  });
  return {
    version: 'v1',
    config: {
      name: typeof v.config?.name === 'string' ? v.config.name : '',
      checksum: typeof v.config?.checksum === 'string' ? v.config.checksum : '',
    },
    contents: {
      keyring: Array.isArray(c.keyring) ? c.keyring : [],
      build_repositories: Array.isArray(c.build_repositories) ? c.build_repositories : [],
      runtime_repositories: Array.isArray(c.runtime_repositories) ? c.runtime_repositories : [],
      repositories: Array.isArray(c.repositories) ? c.repositories : [],
      packages: packages.map((p) => ({
        ...p,
        checksum: typeof p.checksum === 'string' ? p.checksum : '',
        signature: p.signature ?? { range: '', checksum: '' },
        control: p.control ?? { range: '', checksum: '' },
        data: p.data ?? { range: '', checksum: '' },
      })),
    },
  };
}

/** `https://x/y` -> `x/y`, as apko names keys and repositories. */
export function stripScheme(url: string): string {
  return url.replace(/^https:\/\//, '').replace(/^http:\/\//, '');
}

/** apko's `RemoveLabel`: `@tag URL` -> `URL`. */
export function removeLabel(line: string): string {
  let s = line;
  while (s.startsWith('@')) {
    const space = s.indexOf(' ');
    if (space < 0) return s;
    s = s.slice(space + 1);
  }
  return s;
}

/** The lock's repository entries for one arch, as apko writes them for each repository line. */
export function lockRepository(line: string, arch: string): LockRepository {
  const uri = `${line}/${arch}`;
  return { name: removeLabel(stripScheme(uri)), url: removeLabel(`${uri}/APKINDEX.tar.gz`), architecture: arch };
}

/** The byte ranges apko writes, from the sizes of the three members. */
export function lockRanges(streams: {
  signature: { size: number; sha1: string } | undefined;
  control: { size: number; sha1: string };
  data: { size: number; sha256: string };
}): Pick<LockPackage, 'signature' | 'control' | 'data'> {
  const sig = streams.signature?.size ?? 0;
  const ctl = streams.control.size;
  return {
    signature: streams.signature
      ? { range: `bytes=0-${sig - 1}`, checksum: `sha1-${streams.signature.sha1}` }
      : { range: '', checksum: '' },
    control: { range: `bytes=${sig}-${sig + ctl - 1}`, checksum: `sha1-${streams.control.sha1}` },
    data: {
      range: `bytes=${sig + ctl}-${sig + ctl + streams.data.size - 1}`,
      checksum: `sha256-${streams.data.sha256}`,
    },
  };
}
