import { APK_ARCHES, locationProblem } from '../source/locations.js';
import { toApkArch as apkArch } from '../apko/arch.js';
import { parseDuration } from './duration.js';
import { ConfigError } from '../errors.js';

/**
 * The type of a setting: how its raw value (a YAML value, or the text of an environment variable or flag) becomes
 * the checked value. `parse` throws a one-line ConfigError naming `where` and the bad value.
 */
export interface Kind<T> {
  /** The value's placeholder in `serve --help` and the docs: `D`, `N`, `a,b`. */
  placeholder: string;
  /** A list: comma-separated in the environment and flags, repeated flags add up, a YAML list in the file. */
  list?: true;
  /** A secret: never taken from a flag (argv is visible to every user of the machine). */
  secret?: true;
  parse(raw: unknown, where: string): T;
}

const got = (raw: unknown) => JSON.stringify(raw);
const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const expected = (where: string, what: string, raw: unknown) =>
  new ConfigError(`${where}: expected ${what}, got ${got(raw)}`);

function single(raw: unknown, where: string): string | number {
  if (typeof raw !== 'string' && typeof raw !== 'number') throw expected(where, 'a single value', raw);
  return raw;
}

/** A word without spaces: a host name, an address. */
export const word = (what: string): Kind<string> => ({
  placeholder: 'H',
  parse(raw, where) {
    const text = String(single(raw, where)).trim();
    if (!text || /\s/.test(text)) throw expected(where, what, raw);
    return text;
  },
});

export const port: Kind<number> = {
  placeholder: 'P',
  parse(raw, where) {
    const text = String(single(raw, where)).trim();
    if (!/^\d+$/.test(text) || Number(text) > 65535) throw expected(where, 'a port number 0-65535', raw);
    return Number(text);
  },
};

/** `4h`, `15m`, `30s`; a bare number means `bareUnit` (hours for hown3d's `-update-interval 4`). */
export const duration = (bareUnit: 'h' | 's', min: number, minText: string): Kind<number> => ({
  placeholder: 'D',
  parse(raw, where) {
    let ms;
    try {
      ms = parseDuration(single(raw, where), bareUnit);
    } catch (err) {
      throw new ConfigError(`${where}: ${(err as Error).message}`);
    }
    if (ms < min) throw expected(where, `at least ${minText}`, raw);
    return ms;
  },
});

/** One of a few words, case-insensitive; `aliases` maps other spellings (`warning`) to them. */
export const oneOf = <const V extends string>(values: readonly V[], aliases: Record<string, V> = {}): Kind<V> => ({
  placeholder: values.join('|'),
  parse(raw, where) {
    const text = String(single(raw, where)).trim().toLowerCase();
    const value = values.find((v) => v === (Object.hasOwn(aliases, text) ? aliases[text] : text));
    if (value === undefined) {
      throw expected(where, values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`, raw);
    }
    return value;
  },
});

/** true or false (also yes/no, 1/0; a YAML boolean in the file). */
export const boolean: Kind<boolean> = {
  placeholder: 'true|false',
  parse(raw, where) {
    const text = typeof raw === 'boolean' ? String(raw) : String(single(raw, where)).trim().toLowerCase();
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    throw expected(where, 'true or false', raw);
  },
};

/** A directory path; unset is undefined. */
export const directory: Kind<string | undefined> = {
  placeholder: 'DIR',
  parse(raw, where) {
    const text = String(single(raw, where)).trim();
    if (!text) throw expected(where, 'a directory path', raw);
    return text;
  },
};

/** A secret token; unset is undefined. */
export const token: Kind<string | undefined> = {
  placeholder: 'T',
  secret: true,
  parse(raw, where) {
    const text = String(single(raw, where));
    if (!text.trim() || /\s/.test(text)) throw expected(where, 'a token without spaces', raw);
    return text;
  },
};

export const positiveInteger: Kind<number> = {
  placeholder: 'N',
  parse(raw, where) {
    const n = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
      throw expected(where, 'a positive whole number', raw);
    return n;
  },
};

function stringList(raw: unknown, where: string): string[] {
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string' || v.trim() === ''))
    throw expected(where, 'a list of non-empty strings', raw);
  return raw.map((v: string) => v.trim());
}

/** Paths or URLs, such as trusted keys. */
export const strings = (placeholder: string): Kind<string[]> => ({ placeholder, list: true, parse: stringList });

/** APK arch names; apko's spellings are refused with the APK name to use. */
export const apkArches: Kind<string[]> = {
  placeholder: 'a,b',
  list: true,
  parse(raw, where) {
    const arches = stringList(raw, where);
    for (const arch of arches) checkArch(arch, where);
    return arches;
  },
};

function checkArch(arch: string, where: string): void {
  if ((APK_ARCHES as readonly string[]).includes(arch)) return;
  const apk = apkArch(arch);
  if (apk && apk !== arch)
    throw new ConfigError(`${where}: ${got(arch)} is apko's name; repositories use the APK name ${got(apk)}`);
  if (!/^[a-z0-9_]+$/.test(arch))
    throw new ConfigError(`${where}: not an arch name: ${got(arch)} (APK arches: ${APK_ARCHES.join(', ')})`);
}

/** A repository name: shown in `?repository=a,b`, `/-/status` and metrics. */
export const repositoryName: Kind<string> = {
  placeholder: 'NAME',
  parse(raw, where) {
    if (typeof raw !== 'string' || raw.trim() === '') throw expected(where, 'a non-empty string', raw);
    const name = raw.trim();
    if (/[,\s]/.test(name))
      throw new ConfigError(`${where}: no commas or spaces (it is used in ?repository=a,b), got ${got(name)}`);
    return name;
  },
};

/**
 * A repository base URL, a bare index file's URL, a file:// URL or a path. Errors show it redacted: a password
 * with an unencoded `#` or `@` makes it unparsable, and must not be printed then either.
 */
export const location: Kind<string> = {
  placeholder: 'URL',
  parse(raw, where) {
    if (typeof raw !== 'string' || raw.trim() === '')
      throw new ConfigError(`${where}: required, a base URL or an APKINDEX.tar.gz URL`);
    const url = raw.trim();
    const problem = locationProblem(url);
    if (problem) throw new ConfigError(`${where}: ${problem}`);
    return url;
  },
};

/** Paths or URLs of trusted keys, each checked as a location is. */
export const keyLocations: Kind<string[]> = {
  placeholder: 'KEY',
  list: true,
  parse(raw, where) {
    const keys = stringList(raw, where);
    keys.forEach((key, i) => {
      const problem = locationProblem(key);
      if (problem) throw new ConfigError(`${where}[${i}]: ${problem}`);
    });
    return keys;
  },
};

/** Credentials for a private repository, read from environment variables named here (never stored in files). */
export type RepositoryAuth = { bearerTokenEnv: string } | { usernameEnv: string; passwordEnv: string };

export const auth: Kind<RepositoryAuth> = {
  placeholder: '{...}',
  parse(raw, where) {
    if (isMapping(raw)) {
      const map = raw;
      const keys = Object.keys(map).sort().join(',');
      const name = (v: unknown): v is string => typeof v === 'string' && v !== '';
      if (keys === 'bearerTokenEnv' && name(map.bearerTokenEnv)) return { bearerTokenEnv: map.bearerTokenEnv };
      if (keys === 'passwordEnv,usernameEnv' && name(map.usernameEnv) && name(map.passwordEnv))
        return { usernameEnv: map.usernameEnv, passwordEnv: map.passwordEnv };
    }
    throw expected(where, '{bearerTokenEnv: VAR} or {usernameEnv: VAR, passwordEnv: VAR}', raw);
  },
};

/** A location that may be absent: a repository's security database. */
export const optionalLocation: Kind<string | undefined> = {
  placeholder: 'URL',
  parse: (raw, where) => location.parse(raw, where),
};

/** An http(s) address without query or fragment, kept without trailing slashes: the service's public URL. */
export const publicUrl: Kind<string | undefined> = {
  placeholder: 'URL',
  parse(raw, where) {
    const url = String(single(raw, where)).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(url))
      throw expected(where, 'an http(s) URL without query, e.g. https://apk-indexer.example.com', raw);
    return url;
  },
};

/** Placeholders a repository's `sourceUrl` template may use. */
export const SOURCE_URL_FIELDS: readonly string[] = ['commit', 'origin', 'name', 'version'];

/** A link template into a recipe repository, such as `https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml`. */
export const sourceTemplate: Kind<string | undefined> = {
  placeholder: 'URL',
  parse(raw, where) {
    if (typeof raw !== 'string' || raw.trim() === '') throw expected(where, 'a URL template', raw);
    const template = raw.trim();
    const unknown = [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)]
      .map((m) => m[1]!)
      .filter((v) => !SOURCE_URL_FIELDS.includes(v));
    if (unknown.length)
      throw new ConfigError(
        `${where}: unknown placeholder {{${unknown[0]}}} (known: ${SOURCE_URL_FIELDS.map((f) => `{{${f}}}`).join(', ')})`,
      );
    if (!template.includes('{{commit}}'))
      throw new ConfigError(
        `${where}: expected a template with {{commit}}, e.g. https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml`,
      );
    if (!/^https?:\/\//i.test(template)) throw expected(where, 'an http(s) URL template', template);
    return template;
  },
};
