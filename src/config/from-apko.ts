import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { APKO_ARCH_NAMES, toApkArch } from '../apko/arch.js';
import { ConfigError } from './errors.js';

/**
 * The APK name of an `archs:` entry, as `apk-indexer check` and `pin` read it (`toApkArch`: apko's names and the
 * APK ones; own keys only, so `constructor` is no arch). undefined for a name apko does not know.
 */
export function apkArch(apkoArch: string): string | undefined {
  return toApkArch(apkoArch);
}

export interface ApkoSources {
  repositories: string[];
  keyring: string[];
  arches: string[];
}

const MAX_INCLUDE_DEPTH = 16;
const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/**
 * Repositories (`contents.repositories` and `contents.build_repositories`), keyring and archs of apko image
 * files, following `include:` as apko does: relative to the working directory. An `@tag ` prefix on a repository
 * (`@local https://...`) is dropped; local paths become absolute so they do not depend on where the service runs.
 */
export function readApkoSources(files: readonly string[], cwd = process.cwd()): ApkoSources {
  const out: ApkoSources = { repositories: [], keyring: [], arches: [] };
  const add = (list: string[], value: string) => {
    if (!list.includes(value)) list.push(value);
  };
  const local = (value: string) => (isUrl(value) || isAbsolute(value) ? value : resolve(cwd, value));
  const visit = (file: string, chain: string[]) => {
    const path = resolve(cwd, file);
    const where = `--from-apko ${[...chain, file].join(' -> include ')}`;
    if (chain.length > MAX_INCLUDE_DEPTH) throw new ConfigError(`${where}: include chain deeper than ${MAX_INCLUDE_DEPTH} files`);
    if (chain.some((c) => resolve(cwd, c) === path)) throw new ConfigError(`${where}: include cycle`);
    let doc: unknown;
    try {
      doc = parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${where}: ${(err as Error).message}`);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${where}: expected an apko image mapping`);
    const image = doc as { include?: unknown; contents?: Record<string, unknown>; archs?: unknown };
    // An included file comes first: apko merges the including file on top of it.
    if (image.include !== undefined) {
      if (typeof image.include !== 'string' || !image.include) throw new ConfigError(`${where}: include: expected a file name`);
      visit(image.include, [...chain, file]);
    }
    const contents = image.contents ?? {};
    for (const field of ['repositories', 'build_repositories'] as const) {
      for (const repo of strings(contents[field], `${where}: contents.${field}`)) add(out.repositories, local(repo.replace(/^@\S+\s+/, '').trim()));
    }
    for (const key of strings(contents.keyring, `${where}: contents.keyring`)) add(out.keyring, local(key));
    for (const arch of strings(image.archs, `${where}: archs`)) {
      const apk = apkArch(arch);
      if (!apk) throw new ConfigError(`${where}: archs: unknown arch ${JSON.stringify(arch)} (apko names: ${APKO_ARCH_NAMES.join(', ')}, or the APK names)`);
      add(out.arches, apk);
    }
  };
  for (const file of files) visit(file, []);
  if (out.repositories.length === 0) throw new ConfigError(`--from-apko ${files.join(' ')}: no contents.repositories in these files or their includes`);
  return out;
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !v.trim())) throw new ConfigError(`${where}: expected a list of strings, got ${JSON.stringify(value)}`);
  return value as string[];
}
