import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ApkoArch } from '../../schemas/apko-image.js';
import { ApkoFileError, resolveImage, type ResolvedImage } from './apko-file.js';
import { sortApkArches, toApkArch, toApkoArch } from './arch.js';
import { GenerateInputError } from './errors.js';
import type { SourceOptions } from './open-source.js';

/** The parseArgs options `pin`, `check` and `init` share for choosing where versions come from. */
export const SOURCE_ARGS = {
  index: { type: 'string', multiple: true },
  key: { type: 'string', multiple: true },
  config: { type: 'string' },
  server: { type: 'string' },
  secdb: { type: 'string', multiple: true },
} as const;

export const SOURCE_HELP = `  --index SRC      a repository base URL (read for the arches the files build for) or an
                   APKINDEX.tar.gz URL, file:// URL or path. Repeat for several.
  --key KEY        trusted public key (path or URL) for --index; without keys, indexes are
                   read unverified and a warning is printed.
  --config FILE    the service's YAML configuration: its repositories (with their arches and keys).
  --server URL     a running apk-indexer, asked GET URL/<name>?arch=... instead of reading indexes
                   (and URL/-/changes/<name> for the security fixes a bump brings).
  --secdb SRC      security database (Alpine secdb JSON, URL or path) for --index; --config
                   uses its repositories' secdb. Repeat for several.`;

/** The parseArgs options of the commands that read apko files the way apko does. */
export const TREE_ARGS = {
  directory: { type: 'string', short: 'C' },
  'include-path': { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
} as const;

export const TREE_HELP = `  -C, --directory DIR   run as apko would from DIR: FILE arguments and include: are resolved
                        against it (default: the working directory).
  --include-path DIR    also resolve include: against DIR, as apko's --include-paths.
  --arch a,b            arches for files that name none (apko or APK names).`;

export function sourceOptions(values: { index?: string[]; key?: string[]; config?: string; server?: string; secdb?: string[] }): SourceOptions {
  return { indexes: values.index ?? [], keys: values.key ?? [], config: values.config, server: values.server, secdb: values.secdb ?? [] };
}

/** `--arch` values (apko or APK spellings) as APK names, each once, in apko's order. */
export function apkArchesOf(values: readonly string[]): string[] {
  // One order whatever the order given: `--arch arm64,amd64` and `amd64,arm64` write the same files.
  return sortApkArches(
    values.map((arch) => {
      const apk = toApkArch(arch);
      if (!apk) throw new GenerateInputError(`unknown arch ${arch}`);
      return apk;
    }),
  );
}

/** `--arch` values as apko names, for files this tool writes. */
export function apkoArchesOf(values: readonly string[]): ApkoArch[] {
  return apkArchesOf(values).map((apk) => toApkoArch(apk)!);
}

/** `--renovate-version N`: the Renovate major renovate.json is written for. */
export function renovateMajorOf(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const major = Number(value);
  if (!Number.isInteger(major) || major < 1) throw new GenerateInputError('--renovate-version takes a major version number, e.g. 39');
  return major;
}

/** `--renovate-server URL`: where Renovate reaches apk-indexer. */
export function serverUrlOf(value: string | undefined, fallback: string): string {
  const url = value ?? fallback;
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw new GenerateInputError('--renovate-server takes an http(s) URL');
  return url;
}

/** The files to work on: those named, or every YAML file in DIR/apko. */
export async function apkoFiles(root: string, named: readonly string[]): Promise<string[]> {
  if (named.length > 0) return [...named];
  let entries: string[];
  try {
    entries = await readdir(resolve(root, 'apko'));
  } catch {
    throw new GenerateInputError(`no FILE given and no apko/ folder in ${root}`);
  }
  const files = entries.filter((e) => /\.ya?ml$/.test(e)).sort().map((e) => `apko/${e}`);
  if (files.length === 0) throw new GenerateInputError(`no FILE given and no YAML files in ${resolve(root, 'apko')}`);
  return files;
}

/** Resolves each file with its includes; files that cannot be read or resolved are reported, not fatal. */
export async function resolveImages(
  files: readonly string[],
  options: { root: string; includePaths: readonly string[] },
): Promise<{ images: ResolvedImage[]; failures: ApkoFileError[] }> {
  const images: ResolvedImage[] = [];
  const failures: ApkoFileError[] = [];
  for (const file of files) {
    try {
      images.push(await resolveImage(file, options));
    } catch (err) {
      if (!(err instanceof ApkoFileError)) throw err;
      failures.push(err);
    }
  }
  return { images, failures };
}

/** The APK arches to read indexes for: every arch the images build for, and the fallback for those naming none. */
export function archesToLoad(images: readonly ResolvedImage[], fallback: readonly string[]): string[] {
  const arches = new Set<string>(fallback);
  for (const image of images) for (const arch of image.apkArches) arches.add(arch);
  return [...arches];
}
