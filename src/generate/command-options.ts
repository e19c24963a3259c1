import type { ApkoArch } from '../apko/arch.js';
import { parseDuration } from '../config/duration.js';
import { sortApkArches, toApkArch, toApkoArch } from '../apko/arch.js';
import { flag, type FlagValues, type GivenFlag } from '../core/flags.js';
import { UsageError } from '../errors.js';
import type { IndexOption } from '../config/repository-source.js';
import type { SourceOptions } from './open-source.js';

/**
 * The flags `pin`, `check` and `init` share for choosing where versions come from: one declaration each, read by
 * the one flag parser (src/core/flags.ts), shown in each command's --help and docs/commands.md.
 */
export const SOURCE_FLAGS = {
  index: flag.each({
    names: ['--index'],
    value: 'SRC',
    doc: 'a repository base URL (read for the arches the files build for) or an APKINDEX.tar.gz URL, `file://` URL or path. Repeat for several. Each image is judged only by the indexes of the repositories it builds from, matched by URL.',
  }),
  alias: flag.each({
    names: ['--alias'],
    value: 'URL',
    doc: 'the repository URL the preceding --index stands for (a mirror or a local copy of it). Repeat for several.',
  }),
  key: flag.each({
    names: ['--key'],
    value: 'KEY',
    doc: 'trusted public key (path or URL) for --index; without keys, indexes are read unverified and a warning is printed.',
  }),
  config: flag.one({
    names: ['--config'],
    value: 'FILE',
    doc: "the service's YAML configuration: its repositories (with their arches and keys).",
  }),
  server: flag.one({
    names: ['--server'],
    value: 'URL',
    doc: "a running apk-indexer, asked `GET URL/<name>?arch=...&repository=...` for each image's own repositories (read from its `/-/status`) instead of reading indexes, and `URL/-/changes/<name>` for the security fixes a bump brings.",
  }),
  wait: flag.parsed(
    {
      names: ['--wait'],
      value: 'DURATION',
      doc: 'how long to wait for a --server still loading its indexes',
      defaultText: '2m',
    },
    (text, where) => {
      try {
        return parseDuration(text, 's');
      } catch {
        throw new UsageError(`${where} takes a duration like 90s or 5m, not ${text}`);
      }
    },
  ),
  secdb: flag.each({
    names: ['--secdb'],
    value: 'SRC',
    doc: "security database (Alpine secdb JSON, URL or path) for --index; --config uses its repositories' secdb. Repeat for several.",
  }),
};

export type SourceValues = FlagValues<typeof SOURCE_FLAGS>;

/** The opt-out of the gates' "not checked" status (exit 3), repository by repository. */
export const GATE_FLAGS = {
  allowUnchecked: flag.each({
    names: ['--allow-unchecked'],
    value: 'REPO',
    doc: 'a repository the images build from that may have no data here (no index given for it, or none for one of its arches): its entries are still reported "not checked", but no longer fail the gate with exit 3. As the apko files write it, or its URL. Repeat for several.',
  }),
};

/** The flags of the commands that read apko files the way apko does (apko's own names and spellings). */
export const APKO_TREE_FLAGS = {
  directory: flag.one({
    names: ['--directory', '-C'],
    value: 'DIR',
    doc: 'run as apko would from DIR: FILE arguments and `include:` are resolved against it',
    defaultText: 'the working directory',
  }),
  includePath: flag.each({
    names: ['--include-paths', '--include-path'],
    value: 'DIR',
    doc: "also resolve `include:` against DIR, as apko's flag. Repeat for several.",
  }),
  arch: flag.list({ names: ['--arch'], value: 'a,b', doc: 'arches for files that name none (apko or APK names).' }),
  repositoryAppend: flag.each({
    names: ['--repository-append', '-r'],
    value: 'REPO',
    doc: "a repository every image also builds from, as apko's flag (pass what CI passes to apko build). Repeat for several.",
  }),
  buildRepositoryAppend: flag.each({
    names: ['--build-repository-append', '-b'],
    value: 'REPO',
    doc: "a build repository every image also builds from, as apko's flag. Repeat for several.",
  }),
};

/** apko's `-k`: a key every image also trusts (`gen ci` passes it to apko; `resolve` and `lock` verify indexes with it). */
export const KEYRING_APPEND_FLAG = flag.each({
  names: ['--keyring-append', '-k'],
  value: 'KEY',
  doc: "a key every image also trusts, as apko's flag. Repeat for several.",
});

/** The first password of a generated account (`init`'s hosts, `gen user`): a crypt(3) hash, or locked. */
export const PASSWORD_HASH_FLAG = flag.one({
  names: ['--password-hash'],
  value: 'HASH',
  doc: 'its first password, a crypt(3) hash (`openssl passwd -6`).',
  defaultText: 'locked',
});

/**
 * The flags of `resolve` and `lock`: `apko lock`'s own, with its meanings, so a CI line can swap `apko lock` for
 * `apk-indexer lock`. The indexes are the images' own repositories by default; SOURCE_FLAGS read them from elsewhere
 * (a mirror, a local copy, the service's configuration). `--server` is refused: it holds no dependency data.
 */
export const APKO_LOCK_FLAGS = {
  directory: APKO_TREE_FLAGS.directory,
  includePath: APKO_TREE_FLAGS.includePath,
  arch: flag.list({
    names: ['--arch'],
    value: 'a,b',
    doc: "the arches to resolve for (apko or APK names), as apko's flag.",
    defaultText: "the file's `archs:`, else every arch apko knows",
  }),
  repositoryAppend: APKO_TREE_FLAGS.repositoryAppend,
  buildRepositoryAppend: APKO_TREE_FLAGS.buildRepositoryAppend,
  keyringAppend: KEYRING_APPEND_FLAG,
  ignoreSignatures: flag.switch({
    names: ['--ignore-signatures'],
    doc: "read the indexes without verifying their signatures, as apko's flag.",
  }),
  index: SOURCE_FLAGS.index,
  alias: SOURCE_FLAGS.alias,
  key: SOURCE_FLAGS.key,
  config: SOURCE_FLAGS.config,
  secdb: SOURCE_FLAGS.secdb,
  // Taken only to say why it cannot serve here.
  server: { ...SOURCE_FLAGS.server, hidden: true },
};

export type ApkoLockValues = FlagValues<typeof APKO_LOCK_FLAGS>;

/** The flags of `pin` and `check`: the apko tree's, and where a Dockerfile's `RUN apk add` installs from. */
export const TREE_FLAGS = {
  ...APKO_TREE_FLAGS,
  repository: flag.list({
    names: ['--repository'],
    value: 'NAME',
    doc: 'the repository (a name of --config, or a URL) `RUN apk add` reads in a Dockerfile built on no image of the tree. Repeat for several.',
  }),
};

export type TreeValues = FlagValues<typeof TREE_FLAGS>;

/** The source options from the flags as given: each `--alias` belongs to the `--index` before it. */
export function sourceOptions(values: SourceValues, given: ReadonlyArray<GivenFlag<string>>): SourceOptions {
  const indexes: IndexOption[] = [];
  for (const g of given) {
    if (g.key === 'index') indexes.push({ url: g.text, aliases: [] });
    else if (g.key === 'alias') {
      const last = indexes.at(-1);
      if (!last) throw new UsageError(`--alias ${g.text} must follow the --index it stands for`);
      indexes[indexes.length - 1] = { ...last, aliases: [...last.aliases, g.text] };
    }
  }
  return {
    indexes,
    keys: values.key,
    config: values.config,
    server: values.server,
    waitMs: values.wait,
    secdb: values.secdb,
  };
}

/** `--arch` values (apko or APK spellings) as APK names, each once, in apko's order. */
export function apkArchesOf(values: readonly string[]): string[] {
  // One order whatever the order given: `--arch arm64,amd64` and `amd64,arm64` write the same files.
  return sortApkArches(
    values.map((arch) => {
      const apk = toApkArch(arch);
      if (!apk) throw new UsageError(`unknown arch ${arch}`);
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
    throw new UsageError('--renovate-version takes a major version number, e.g. 39');
  return major;
}

/** `--renovate-server URL`: where Renovate reaches apk-indexer. */
export function serverUrlOf(value: string | undefined, fallback: string): string {
  const url = value ?? fallback;
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw new UsageError('--renovate-server takes an http(s) URL');
  return url;
}
