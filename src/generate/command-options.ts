import type { ApkoArch } from '../../schemas/apko-image.js';
import { parseDuration } from '../config/duration.js';
import { sortApkArches, toApkArch, toApkoArch } from '../apko/arch.js';
import { GenerateInputError } from './errors.js';
import type { IndexOption } from '../config/repository-source.js';
import type { SourceOptions } from './open-source.js';

/** The parseArgs options `pin`, `check` and `init` share for choosing where versions come from. */
export const SOURCE_ARGS = {
  index: { type: 'string', multiple: true },
  alias: { type: 'string', multiple: true },
  key: { type: 'string', multiple: true },
  config: { type: 'string' },
  server: { type: 'string' },
  wait: { type: 'string' },
  secdb: { type: 'string', multiple: true },
} as const;

export const SOURCE_HELP = `  --index SRC      a repository base URL (read for the arches the files build for) or an
                   APKINDEX.tar.gz URL, file:// URL or path. Repeat for several. Each image
                   is judged only by the indexes of the repositories it builds from, matched
                   by URL.
  --alias URL      the repository URL the preceding --index stands for (a mirror or a local
                   copy of it). Repeat for several.
  --key KEY        trusted public key (path or URL) for --index; without keys, indexes are
                   read unverified and a warning is printed.
  --config FILE    the service's YAML configuration: its repositories (with their arches and keys).
  --server URL     a running apk-indexer, asked GET URL/<name>?arch=...&repository=... for each
                   image's own repositories (read from its /-/status) instead of reading indexes.
  --wait DURATION  how long to wait for a --server still loading its indexes (default 2m).
                   --server also answers URL/-/changes/<name> for the security fixes a bump brings.
  --secdb SRC      security database (Alpine secdb JSON, URL or path) for --index; --config
                   uses its repositories' secdb. Repeat for several.`;

/** The parseArgs options of the commands that read apko files the way apko does. */
export const TREE_ARGS = {
  directory: { type: 'string', short: 'C' },
  'include-path': { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
  'repository-append': { type: 'string', multiple: true, short: 'r' },
  'build-repository-append': { type: 'string', multiple: true, short: 'b' },
  repository: { type: 'string', multiple: true },
} as const;

export const TREE_HELP = `  -C, --directory DIR   run as apko would from DIR: FILE arguments and include: are resolved
                        against it (default: the working directory).
  --include-path DIR    also resolve include: against DIR, as apko's --include-paths.
  --arch a,b            arches for files that name none (apko or APK names).
  -r, --repository-append REPO        a repository every image also builds from, as apko's flag
  -b, --build-repository-append REPO  (pass what CI passes to apko build). Repeat for several.
  --repository NAME     the repository (a name of --config, or a URL) \`RUN apk add\` reads in a
                        Dockerfile built on no image of the tree. Repeat for several.`;

/**
 * The source options from parsed values and tokens: each `--alias` belongs to the `--index` before it.
 * `--wait` is a duration (`90s`, `5m`).
 */
export function sourceOptions(
  values: {
    index?: string[];
    alias?: string[];
    key?: string[];
    config?: string;
    server?: string;
    wait?: string;
    secdb?: string[];
  },
  tokens: readonly { kind: string; name?: string; value?: string | undefined }[] = [],
): SourceOptions {
  const indexes: IndexOption[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name === 'index' && token.value !== undefined) indexes.push({ url: token.value, aliases: [] });
    else if (token.name === 'alias' && token.value !== undefined) {
      const last = indexes.at(-1);
      if (!last) throw new GenerateInputError(`--alias ${token.value} must follow the --index it stands for`);
      (last.aliases as string[]).push(token.value);
    }
  }
  if (tokens.length === 0) for (const url of values.index ?? []) indexes.push({ url, aliases: [] });
  let waitMs: number | undefined;
  if (values.wait !== undefined) {
    try {
      waitMs = parseDuration(values.wait, 's');
    } catch {
      throw new GenerateInputError(`--wait takes a duration like 90s or 5m, not ${values.wait}`);
    }
  }
  return {
    indexes,
    keys: values.key ?? [],
    config: values.config,
    server: values.server,
    waitMs,
    secdb: values.secdb ?? [],
  };
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
  if (!Number.isInteger(major) || major < 1)
    throw new GenerateInputError('--renovate-version takes a major version number, e.g. 39');
  return major;
}

/** `--renovate-server URL`: where Renovate reaches apk-indexer. */
export function serverUrlOf(value: string | undefined, fallback: string): string {
  const url = value ?? fallback;
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw new GenerateInputError('--renovate-server takes an http(s) URL');
  return url;
}
